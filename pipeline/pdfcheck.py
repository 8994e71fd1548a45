"""Facts about a PDF — PDF/A claim, fonts, text, active content, signatures — and its text by line.

Used by tests, by the pipeline (is the 正本 what it should be; where is the 成文日期 on the page) and
by the year-end 四性检测 (可用性: opens, fonts embedded, no active content). Reading only; a bad or
encrypted file gives facts with ``error`` set, never an exception.

No PDF/A validator (veraPDF) is reachable from the package registries here, so PDF/A is judged by
its parts: the XMP claim, an OutputIntent, every font embedded, no JavaScript/launch actions.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from .errors import GongwenError

# Walking every object of a hostile file must end: nesting deeper than this is not followed.
_MAX_DEPTH = 64


@dataclass(frozen=True)
class FontInfo:
    name: str          # BaseFont as in the file, e.g. "BAAAAA+NotoSerifCJKsc-Regular"
    type: str          # Subtype: TrueType, Type1, Type3, Type0/CIDFontType2 …
    embedded: bool


@dataclass(frozen=True)
class PdfFacts:
    path: str
    pages: int = 0
    pdfa: str | None = None            # the XMP claim, e.g. "2B", "1B"; None when none
    pdf_version: str = ""
    encrypted: bool = False
    fonts: tuple[FontInfo, ...] = ()
    all_fonts_embedded: bool = False   # True also when the file uses no font at all (image-only)
    text_chars: int = 0                # non-blank characters extracted from all pages
    pages_without_text: tuple[int, ...] = ()   # 1-based: scanned/image-only pages
    has_javascript: bool = False
    has_launch_action: bool = False
    has_embedded_files: bool = False
    has_output_intent: bool = False
    producer: str | None = None
    creator: str | None = None
    signatures: int = 0                # signed signature fields (/FT /Sig with a value)
    error: str | None = None           # why the file could not be read (Chinese), else None
    notes: tuple[str, ...] = ()        # non-fatal problems met while reading (Chinese)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class TextBox:
    """One line (or one separate run on a line) of text, in points from the page's top-left."""

    page: int          # 1-based
    text: str
    x0: float
    top: float
    x1: float
    bottom: float


def _s(obj) -> str | None:
    if obj is None:
        return None
    try:
        return str(obj)
    except Exception:
        return None


def _name(obj) -> str:
    s = _s(obj) or ""
    return s[1:] if s.startswith("/") else s


def _font_info(font) -> FontInfo:
    import pikepdf

    subtype = _name(font.get("/Subtype"))
    name = _name(font.get("/BaseFont")) or "(未命名)"
    if subtype == "Type3":
        return FontInfo(name, subtype, True)   # glyphs are drawn by content streams in the file
    desc, kind = font.get("/FontDescriptor"), subtype
    if subtype == "Type0":
        kids = font.get("/DescendantFonts")
        kid = kids[0] if isinstance(kids, pikepdf.Array) and len(kids) else None
        if isinstance(kid, pikepdf.Dictionary):
            desc = kid.get("/FontDescriptor")
            kind = f"Type0/{_name(kid.get('/Subtype'))}"
    embedded = isinstance(desc, pikepdf.Dictionary) and any(
        k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    return FontInfo(name, kind, embedded)


def _fonts(pdf) -> tuple[FontInfo, ...]:
    """Fonts used by pages, their form XObjects and annotation appearances (each once)."""
    import pikepdf

    seen: set = set()
    found: list[FontInfo] = []

    def resources(res, depth):
        if not isinstance(res, pikepdf.Dictionary) or depth > _MAX_DEPTH:
            return
        fonts = res.get("/Font")
        if isinstance(fonts, pikepdf.Dictionary):
            for _, f in fonts.items():
                if not isinstance(f, pikepdf.Dictionary):
                    continue
                key = f.objgen if f.is_indirect else ("direct", id(f), _s(f.get("/BaseFont")))
                if key in seen:
                    continue
                seen.add(key)
                found.append(_font_info(f))
        xobjs = res.get("/XObject")
        if isinstance(xobjs, pikepdf.Dictionary):
            for _, x in xobjs.items():
                form(x, depth + 1)

    def form(x, depth):
        if not isinstance(x, pikepdf.Stream) or x.get("/Subtype") != pikepdf.Name.Form:
            return
        key = ("xobj",) + x.objgen if x.is_indirect else None
        if key is not None:
            if key in seen:
                return
            seen.add(key)
        resources(x.get("/Resources"), depth)

    for page in pdf.pages:
        resources(page.obj.get("/Resources"), 0)
        annots = page.obj.get("/Annots")
        if isinstance(annots, pikepdf.Array):
            for a in annots:
                ap = a.get("/AP") if isinstance(a, pikepdf.Dictionary) else None
                if isinstance(ap, pikepdf.Dictionary):
                    for _, appearance in ap.items():
                        if isinstance(appearance, pikepdf.Stream):
                            form(appearance, 1)
                        elif isinstance(appearance, pikepdf.Dictionary):
                            for _, state in appearance.items():
                                form(state, 1)
    return tuple(found)


def _active_content(pdf) -> tuple[bool, bool, bool]:
    """(JavaScript, launch action, embedded file) anywhere in the file: every object is looked at,
    including ones no page refers to — a 检测 should rather warn than miss."""
    import pikepdf

    js = launch = embedded = False
    S, JS_, LAUNCH = pikepdf.Name("/S"), pikepdf.Name.JavaScript, pikepdf.Name.Launch
    containers = (pikepdf.Dictionary, pikepdf.Array)

    def visit(obj, depth):
        nonlocal js, launch, embedded
        if depth > _MAX_DEPTH:
            return
        if isinstance(obj, pikepdf.Stream):
            if obj.get("/Type") == pikepdf.Name.EmbeddedFile:
                embedded = True
            return  # a stream's dictionary entries are visited as objects of their own below
        if isinstance(obj, pikepdf.Dictionary):
            s = obj.get(S)
            if s == JS_ or "/JS" in obj:
                js = True
            if s == LAUNCH:
                launch = True
            if "/EF" in obj or obj.get("/Type") == pikepdf.Name.EmbeddedFile \
                    or obj.get("/Subtype") == pikepdf.Name.FileAttachment:
                embedded = True
            for _, v in obj.items():
                if isinstance(v, containers) and not v.is_indirect:
                    visit(v, depth + 1)
        elif isinstance(obj, pikepdf.Array):
            for v in obj:
                if isinstance(v, containers) and not v.is_indirect:
                    visit(v, depth + 1)

    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            visit(obj, 0)
            visit(obj.stream_dict, 0)
        elif isinstance(obj, (pikepdf.Dictionary, pikepdf.Array)):
            visit(obj, 0)
    names = pdf.Root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        js = js or "/JavaScript" in names
        embedded = embedded or "/EmbeddedFiles" in names
    return js, launch, embedded


def _signatures(pdf) -> int:
    import pikepdf

    form = pdf.Root.get("/AcroForm")
    fields = form.get("/Fields") if isinstance(form, pikepdf.Dictionary) else None
    if not isinstance(fields, pikepdf.Array):
        return 0
    count, seen = 0, set()
    stack = [(f, 0) for f in fields]
    while stack:
        f, depth = stack.pop()
        if not isinstance(f, pikepdf.Dictionary) or depth > _MAX_DEPTH:
            continue
        if f.is_indirect:
            if f.objgen in seen:
                continue
            seen.add(f.objgen)
        if f.get("/FT") == pikepdf.Name.Sig and isinstance(f.get("/V"), pikepdf.Dictionary):
            count += 1
        kids = f.get("/Kids")
        if isinstance(kids, pikepdf.Array):
            stack.extend((k, depth + 1) for k in kids)
    return count


class PdfTextError(GongwenError):
    """The text of a PDF cannot be read at all (encrypted, damaged); the message is Chinese."""


def pages_text(path: Path, *, password: str | None = None, notes: list[str] | None = None) -> list[str]:
    """The text of every page, as pypdf extracts it (fast, and it gets LibreOffice's Chinese right):
    the one place gongwen reads a PDF's text. A page whose text cannot be extracted gives "" (and a
    line in ``notes``); a file that cannot be read at all raises PdfTextError."""
    import pypdf

    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(password or ""):
            raise PdfTextError("PDF 已加密，无法提取文字")
        pages = list(reader.pages)
    except PdfTextError:
        raise
    except Exception as e:
        raise PdfTextError(f"无法读取 PDF 文字：{type(e).__name__}") from e
    out = []
    for i, page in enumerate(pages, 1):
        try:
            out.append(page.extract_text() or "")
        except Exception as e:
            if notes is not None:
                notes.append(f"第{i}页文字无法提取：{type(e).__name__}")
            out.append("")
    return out


def _text_per_page(path: Path, password: str | None, notes: list[str]) -> list[int]:
    """Non-blank characters per page."""
    return [sum(1 for c in text if not c.isspace()) for text in pages_text(path, password=password, notes=notes)]


def inspect_pdf(path: Path, *, password: str | None = None) -> PdfFacts:
    """Facts about the PDF at ``path``. Never raises for a bad PDF: ``error`` says what is wrong
    (missing, not a PDF, damaged, encrypted without the password)."""
    import pikepdf

    path = Path(path)
    if not path.is_file():
        return PdfFacts(str(path), error=f"文件不存在：{path}")
    try:
        pdf = pikepdf.open(path, password=password or "")
    except pikepdf.PasswordError:
        msg = "PDF 已加密，需要打开密码" if not password else "PDF 已加密，所给密码不正确"
        return PdfFacts(str(path), encrypted=True, error=msg)
    except Exception as e:
        return PdfFacts(str(path), error=f"无法作为 PDF 打开：{type(e).__name__}: {e}")
    notes: list[str] = []
    with pdf:
        try:
            pages = len(pdf.pages)
            fonts = _fonts(pdf)
            js, launch, embedded = _active_content(pdf)
            signatures = _signatures(pdf)
            intents = pdf.Root.get("/OutputIntents")
            has_intent = isinstance(intents, pikepdf.Array) and len(intents) > 0
        except Exception as e:
            return PdfFacts(str(path), pdf_version=str(pdf.pdf_version), encrypted=pdf.is_encrypted,
                            error=f"PDF 已损坏，无法读取页面或对象：{type(e).__name__}: {e}")
        pdfa = producer = creator = None
        try:
            meta = pdf.open_metadata()
            pdfa = meta.pdfa_status or None
            producer = meta.get("pdf:Producer")
            creator = meta.get("xmp:CreatorTool")
        except Exception as e:
            notes.append(f"XMP 元数据无法读取：{type(e).__name__}")
        try:
            info = pdf.docinfo
            producer = _s(info.get("/Producer")) or producer
            creator = _s(info.get("/Creator")) or creator
        except Exception:
            notes.append("文档信息字典无法读取")
        version, encrypted = str(pdf.pdf_version), pdf.is_encrypted
    try:
        per_page = _text_per_page(path, password, notes)
    except Exception as e:
        notes.append(f"文字无法提取：{type(e).__name__}: {e}")
        per_page = []
    return PdfFacts(
        str(path), pages=pages, pdfa=pdfa, pdf_version=version, encrypted=encrypted, fonts=fonts,
        all_fonts_embedded=all(f.embedded for f in fonts), text_chars=sum(per_page),
        pages_without_text=tuple(i for i, n in enumerate(per_page, 1) if n == 0),
        has_javascript=js, has_launch_action=launch, has_embedded_files=embedded,
        has_output_intent=has_intent, producer=producer or None, creator=creator or None,
        signatures=signatures, notes=tuple(notes))


def page_text(path: Path, page: int, *, password: str | None = None) -> str:
    """The text of one page (1-based), as pypdf extracts it."""
    pages = pages_text(path, password=password)
    if not 1 <= page <= len(pages):
        raise ValueError(f"page {page} out of range 1..{len(pages)}")
    return pages[page - 1]


# --- text by line ----------------------------------------------------------------------------------

# Two characters on one line further apart than this many font sizes are separate runs (the
# 发文字号 on the left and 签发人 on the right of one line; 印发机关 and 印发日期 in the 版记).
# Justified Latin text stays below it; a tab or a centred block is far above it.
SPLIT_GAP = 1.5
# Between two non-CJK characters a gap above this many font sizes is a word space the PDF does
# not spell out (TeX output). Chinese takes no spaces: none is ever put next to a CJK character,
# so "2024年1月5日" stays searchable as written although digits and 汉字 come from two fonts.
SPACE_GAP = 0.15


def _cjk(ch: str) -> bool:
    o = ord(ch[0]) if ch else 0
    return (0x2E80 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFE30 <= o <= 0xFE4F
            or 0xFF00 <= o <= 0xFFEF or 0x20000 <= o <= 0x3FFFF)


def _lines(chars: list[dict]) -> list[list[dict]]:
    """Group characters into lines by vertical overlap. Characters of different fonts on one line
    (Noto CJK and Times digits) have different tops and heights but overlap heavily, so grouping on
    the vertical centre against the line's running extent is steadier than on `top` alone."""
    chars = sorted(chars, key=lambda c: ((c["top"] + c["bottom"]) / 2, c["x0"]))
    lines: list[list[dict]] = []
    top = bottom = 0.0
    for c in chars:
        centre = (c["top"] + c["bottom"]) / 2
        if lines and top <= centre <= bottom:
            lines[-1].append(c)
            # The band is the median extent of the line's characters, so that one tall outlier
            # (a big bracket, an inline image's alt text) cannot swallow the next line.
            top = statistics.median(x["top"] for x in lines[-1])
            bottom = statistics.median(x["bottom"] for x in lines[-1])
            continue
        lines.append([c])
        top, bottom = c["top"], c["bottom"]
    return lines


def _runs(line: list[dict]) -> list[list[dict]]:
    line = sorted(line, key=lambda c: c["x0"])
    sizes = [c.get("size") or (c["bottom"] - c["top"]) for c in line if c["text"].strip()]
    size = statistics.median(sizes) if sizes else 10.0
    runs: list[list[dict]] = [[]]
    last_x1 = None
    for c in line:
        if not c["text"].strip():          # explicit spaces: part of the text, not of geometry
            if runs[-1]:
                runs[-1].append(c)
            continue
        if last_x1 is not None and c["x0"] - last_x1 > SPLIT_GAP * size:
            runs.append([])
        runs[-1].append(c)
        last_x1 = c["x1"]
    return [r for r in runs if any(c["text"].strip() for c in r)]


def _box(page_no: int, run: list[dict]) -> TextBox:
    ink = [c for c in run if c["text"].strip()]
    sizes = [c.get("size") or (c["bottom"] - c["top"]) for c in ink]
    size = statistics.median(sizes)
    parts: list[str] = []
    last = None
    for c in run:
        t = c["text"]
        if t.strip() and last is not None and c["x0"] - last["x1"] > SPACE_GAP * size \
                and not _cjk(t) and not _cjk(last["text"]) and parts and not parts[-1].endswith(" "):
            parts.append(" ")
        parts.append(t)
        if t.strip():
            last = c
    text = " ".join("".join(parts).split())
    return TextBox(page_no, text, round(min(c["x0"] for c in ink), 2), round(min(c["top"] for c in ink), 2),
                   round(max(c["x1"] for c in ink), 2), round(max(c["bottom"] for c in ink), 2))


def text_boxes(path: Path, page: int | None = None, *, password: str | None = None) -> list[TextBox]:
    """Line-level text boxes (page, text, x0, top, x1, bottom) in pt from the page's top-left, in
    reading order (top to bottom, then left to right), via pdfplumber. ``page`` is 1-based; None
    gives every page."""
    import pdfplumber

    out: list[TextBox] = []
    with pdfplumber.open(str(path), password=password or None) as pdf:
        if page is not None and not 1 <= page <= len(pdf.pages):
            raise ValueError(f"page {page} out of range 1..{len(pdf.pages)}")
        numbers = [page] if page is not None else range(1, len(pdf.pages) + 1)
        for n in numbers:
            p = pdf.pages[n - 1]
            upright = [c for c in p.chars if c.get("upright", True)]
            for line in _lines(upright):
                out.extend(_box(n, run) for run in _runs(line))
            # Rotated characters (stamps, side notes) as one box per rotated run, after the rest.
            rotated = [c for c in p.chars if not c.get("upright", True) and c["text"].strip()]
            if rotated:
                rotated.sort(key=lambda c: (round(c["x0"]), c["top"]))
                out.append(_box(n, rotated))
    return out
