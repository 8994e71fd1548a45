"""Read a received document (收文): what it is, whether it may come in, its text, and the PDF/A the
archive keeps of it.

Supported, by content (the extension must agree with it):

| format | text from | archival copy |
|---|---|---|
| PDF with a text layer | the text layer | the original when it is a clean PDF/A, else a PDF/A copy (OCRmyPDF's internal backend; when even that fails, a rasterised copy with an OCR text layer) |
| scanned PDF, JPEG/PNG/TIFF | OCR (ocr.py) | the OCR'd PDF/A-2b |
| .docx | its paragraphs (the draft reader's) | PDF/A-2b by LibreOffice |
| .doc, Kingsoft .wps (Word-97 binary) | the PDF LibreOffice makes | PDF/A-2b by LibreOffice |
| OFD (GB/T 33190) | ofdkit | the original OFD (a 版式 archival format itself; nothing here renders OFD) |

Hostile input is refused before any work (too large, a type that lies about itself, an encrypted or
damaged PDF, more pages than allowed, an image that is not one or would decompress into gigapixels)
or flagged (JavaScript, launch actions or embedded files are taken out of the archival copy; the
original keeps them, as received). Nothing here writes outside ``workdir``.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Config
from ..drafts import patterns as P
from ..errors import ConversionError, DraftError, IncomingError
from ..hashing import digest_file

if TYPE_CHECKING:
    from ..convert import Converter

# Extension → format name (DA/T 46 格式信息 of the original).
SUFFIXES = {".pdf": "PDF", ".docx": "DOCX", ".doc": "DOC", ".wps": "WPS", ".ofd": "OFD",
            ".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF"}
IMAGES = {"JPEG", "PNG", "TIFF"}
# Formats an office meets that are not taken, and why (said in the refusal and in docs/incoming.md).
UNSUPPORTED = {
    ".ceb": "方正 CEB 版式文件没有公开规范和可用的开源读取程序，请来文单位改发 PDF 或 OFD",
    ".sep": "书生 SEP 版式文件没有公开规范和可用的开源读取程序，请来文单位改发 PDF 或 OFD",
    ".gd": "书生 GD 版式文件没有公开规范和可用的开源读取程序，请来文单位改发 PDF 或 OFD",
    ".gw": "GW 版式文件没有可用的开源读取程序，请来文单位改发 PDF 或 OFD",
    ".rtf": "RTF 不是公文交换格式，请另存为 .docx 或 PDF",
    ".odt": "ODT 不是公文交换格式，请另存为 .docx 或 PDF",
    ".txt": "纯文本没有版式，不能作为来文登记，请使用原件（PDF、OFD、Word 或扫描件）",
    ".zip": "压缩包须先解压，逐份收文",
    ".rar": "压缩包须先解压，逐份收文",
}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A page whose text layer has fewer characters than this is treated as having none (a scan with a
# stray page number); one where fewer than this share are readable characters is garbage (a font
# without a Unicode map) and is read by OCR instead.
MIN_PAGE_CHARS = 5
MIN_GOOD_SHARE = 0.7
_GOOD = re.compile(f"[{P.CJK}A-Za-z0-9{re.escape(P.CJK_PUNCT)}.,:;!?()\\[\\]%/\\-+*=<>\"' ]")


@dataclass(frozen=True)
class Reading:
    """What was read from one received file."""

    source: Path
    format: str                       # of the original: PDF / DOCX / DOC / WPS / OFD / JPEG / PNG / TIFF
    sha256: str                       # of the file as received
    size: int
    pages: int | None
    page_texts: tuple[str, ...]       # cleaned text per page (lines joined by "\n")
    method: str                       # 文本层 / OCR / 文本层+OCR / 正文段落 / OFD 文本
    archival: Path | None             # the PDF/A made for the archive; None: the original is kept as it is
    archival_format: str              # 格式信息 of the archival file (of the original when archival is None)
    items: tuple = ()                 # a .docx's paragraphs and tables (drafts._structure.Item)
    ocr_pages: int = 0
    ocr_seconds: float = 0.0
    notes: tuple[str, ...] = ()       # flags for the clerk (Chinese)
    creator: str = ""                 # 文档创建程序 of the original, where it says

    @property
    def lines(self) -> list[str]:
        return [line for t in self.page_texts for line in t.split("\n") if line]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class _Work:
    config: Config
    workdir: Path
    converter: Converter | None
    notes: list[str] = field(default_factory=list)


def refuse(why: str) -> IncomingError:
    return IncomingError(why)


# --- identification --------------------------------------------------------------------------------

def sniff(path: Path) -> str | None:
    """The format a file's first bytes say it is (None: none that is taken in)."""
    with open(path, "rb") as f:
        head = f.read(2048)
    if b"%PDF-" in head[:1024]:
        return "PDF"
    if head.startswith(OLE_MAGIC):
        return "OLE"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    if head.startswith(b"PK\x03\x04"):
        import zipfile

        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, OSError):
            return None
        if "word/document.xml" in names:
            return "DOCX"
        if "OFD.xml" in names or any(n.lower() == "ofd.xml" for n in names):
            return "OFD"
        return "ZIP"
    return None


def identify(path: Path, config: Config) -> str:
    """The document's format, or IncomingError naming why it is not taken in."""
    path = Path(path)
    if not path.is_file():
        raise refuse("文件不存在或不是普通文件")
    size = path.stat().st_size
    if size == 0:
        raise refuse("文件是空的（0 字节）")
    limit = config.incoming.max_mb * 1024 * 1024
    if size > limit:
        raise refuse(f"文件过大（{size / 1048576:.1f} MB，上限 {config.incoming.max_mb:g} MB）；"
                     "请来文单位压缩或分册后重发，或由管理员调整 incoming.max_mb")
    suffix = path.suffix.lower()
    if suffix in UNSUPPORTED:
        raise refuse(f"不支持的文件类型「{suffix}」：{UNSUPPORTED[suffix]}")
    if suffix not in SUFFIXES:
        names = "、".join(sorted(SUFFIXES))
        raise refuse(f"不支持的文件类型「{suffix or '（无扩展名）'}」；收文可为 {names}")
    want = SUFFIXES[suffix]
    got = sniff(path)
    expected = {"DOC": "OLE", "WPS": "OLE"}.get(want, want)
    if got != expected:
        what = {None: "无法识别的内容", "ZIP": "普通压缩包", "OLE": "旧版 Office 文档"}.get(got, got)
        raise refuse(f"文件扩展名为「{suffix}」，内容却是{what}，不是有效的 {want} 文件（文件损坏、未传完或被改名）")
    return want


# --- reading ---------------------------------------------------------------------------------------

def read_document(path: Path, config: Config, workdir: Path, *, converter=None) -> Reading:
    """Identify, check and read ``path``; the archival PDF/A (when one is made) is written in
    ``workdir``. Raises IncomingError with the reason when the file is not taken in."""
    path = Path(path)
    t0 = time.perf_counter()
    fmt = identify(path, config)
    workdir.mkdir(parents=True, exist_ok=True)
    w = _Work(config, workdir, converter)
    sha = digest_file(path, ("sha256",))["sha256"]
    if fmt == "PDF":
        res = _read_pdf(path, w)
    elif fmt in IMAGES:
        res = _read_image(path, fmt, w)
    elif fmt == "DOCX":
        res = _read_docx(path, w)
    elif fmt in ("DOC", "WPS"):
        res = _read_word97(path, fmt, w)
    else:
        res = _read_ofd(path, w)
    pages, texts, method, archival, arch_fmt, extra = res
    ocr_pages, ocr_s = extra.get("ocr_pages", 0), extra.get("ocr_seconds", 0.0)
    if not any(t.strip() for t in texts):
        raise refuse("未能识别出任何文字（空白页、照片或扫描质量太差）；请重新扫描（200 dpi，黑白或灰度）后再收文，"
                     "手写来文请按纸质件登记")
    del t0
    return Reading(source=path, format=fmt, sha256=sha, size=path.stat().st_size, pages=pages,
                   page_texts=tuple(texts), method=method, archival=archival, archival_format=arch_fmt,
                   items=tuple(extra.get("items", ())), ocr_pages=ocr_pages, ocr_seconds=ocr_s,
                   notes=tuple(dict.fromkeys(w.notes)), creator=extra.get("creator", ""))


def pdf_format(facts) -> str:
    return f"PDF/A-{facts.pdfa[0]}{facts.pdfa[1:].lower()}" if facts.pdfa else "PDF"


def _read_pdf(path: Path, w: _Work, *, from_image: bool = False):
    from ..pdfcheck import inspect_pdf

    cfg = w.config.incoming
    facts = inspect_pdf(path)
    if facts.error:
        if facts.encrypted or "密码" in facts.error or "加密" in facts.error:
            raise refuse("PDF 已加密，需要密码才能打开；请向来文单位索取未加密的文件")
        raise refuse(f"PDF 文件已损坏，无法打开（{facts.error}）；请向来文单位索取完好的文件")
    if not facts.pages:
        raise refuse("PDF 没有页面")
    if facts.pages > cfg.max_pages:
        raise refuse(f"PDF 共 {facts.pages} 页，超过上限 {cfg.max_pages} 页；请分册收文，或由管理员调整 incoming.max_pages")
    work = w.workdir / "来文.pdf"
    shutil.copyfile(path, work)
    clean = facts.pdfa and facts.has_output_intent and facts.all_fonts_embedded and not facts.encrypted \
        and not (facts.has_javascript or facts.has_launch_action or facts.has_embedded_files)
    if facts.encrypted or facts.has_javascript or facts.has_launch_action or facts.has_embedded_files:
        _sanitise(work, facts, w)
    original = _pdftotext_pages(work, facts.pages)
    good = [usable(t) for t in original]
    junk = [bool(t.strip()) and not g and len(_visible(t)) >= MIN_PAGE_CHARS for t, g in zip(original, good)]
    texts = [clean_page(t) if g else "" for t, g in zip(original, good)]
    creator = "; ".join(dict.fromkeys(x for x in (facts.creator, facts.producer) if x))
    if all(good):
        if clean:
            return facts.pages, texts, "文本层", None, pdf_format(facts), {"creator": creator}
        return facts.pages, texts, "文本层", *_archival_copy(work, facts, w), {"creator": creator}
    from .ocr import ocr_pdf

    out = w.workdir / "收文.pdf"
    _rebuild(work)
    force = any(junk)
    n_ocr = sum(1 for g in good if not g) if not force else facts.pages
    try:
        res = ocr_pdf(work, out, w.config, pages=n_ocr, force=force, deskew=w.config.incoming.ocr_deskew)
    except IncomingError:
        if force:
            raise
        # Pages with text that cannot be kept in a PDF/A as they are: read every page as an image.
        force, n_ocr = True, facts.pages
        res = ocr_pdf(work, out, w.config, pages=n_ocr, force=True, deskew=w.config.incoming.ocr_deskew)
    read = _pdftotext_pages(out, facts.pages)
    merged = []
    for t, g, r in zip(texts, good, read):
        merged.append(t if g else clean_page(r, ocr=True))
    if force:
        w.notes.append("来文文字层无法识读（字体缺少编码），已按图像重新识别")
    if not from_image:
        w.notes.append(f"扫描件：{n_ocr} 页经文字识别（OCR），标题、文号等请核对"
                       if n_ocr < facts.pages or force else "扫描件经文字识别（OCR），标题、文号等请核对")
    method = "OCR" if n_ocr == facts.pages else "文本层+OCR"
    return facts.pages, merged, method, out, "PDF/A-2b", {"creator": creator, "ocr_pages": n_ocr,
                                                         "ocr_seconds": res.seconds}


def _archival_copy(work: Path, facts, w: _Work) -> tuple[Path | None, str]:
    """A PDF/A-2b copy of a text PDF that is not one: as it is (OCRmyPDF's internal backend, which
    validates what it writes); else rasterised with an OCR text layer; else none — the original is
    then the archival file, and the clerk is told."""
    from .ocr import ocr_pdf

    _rebuild(work)
    out = w.workdir / "收文.pdf"
    try:
        ocr_pdf(work, out, w.config, pages=facts.pages, deskew=False)
        return out, "PDF/A-2b"
    except IncomingError:
        pass
    try:
        # A Type 3 font, a form, a structure pikepdf cannot vouch for: an image copy with an OCR text
        # layer is archival and looks the same; the text still comes from the original's text layer.
        ocr_pdf(work, out, w.config, pages=facts.pages, force=True, deskew=False)
        w.notes.append("来文无法直接转为 PDF/A，归档副本为逐页图像加识别文字层；原件原样保存")
        return out, "PDF/A-2b"
    except IncomingError as e:
        w.notes.append(f"来文不是 PDF/A，也未能转换（{e}）；原件作为归档文件保存，年终检测时请处理")
        return None, pdf_format(facts)


# Page keys PDF/A has a use for; the rest (a writer's private keys, tab order, structure links to a
# tree the copy does not keep) is left out of the archival copy.
_PAGE_KEYS = ("/Type", "/Parent", "/Resources", "/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox",
              "/Contents", "/Rotate", "/Group", "/UserUnit", "/Annots")


def _rebuild(pdf: Path) -> None:
    """The working copy reduced to its pages: a new document holding only what is printed. The
    catalogue's outlines, forms, opening actions, structure tree and a writer's odd trailer keys —
    which PDF/A does not need and pikepdf's PDF/A check cannot vouch for — stay in the original only;
    of the annotations only plain web links are kept."""
    import pikepdf

    try:
        with pikepdf.open(pdf, allow_overwriting_input=True) as old:
            new = pikepdf.Pdf.new()
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")   # named destinations and form fields are dropped on purpose
                new.pages.extend(old.pages)
            for page in new.pages:
                obj = page.obj
                for key in list(obj.keys()):
                    if key not in _PAGE_KEYS:
                        del obj[key]
                if "/Annots" in obj:
                    links = [a for a in obj.Annots if a.get("/Subtype") == "/Link"
                             and (a.get("/A") is None or a.A.get("/S") == "/URI")]
                    for a in links:
                        for key in ("/AA", "/StructParent", "/P"):
                            if key in a:
                                del a[key]
                    if links:
                        obj.Annots = pikepdf.Array(links)
                    else:
                        del obj["/Annots"]
            new.save(pdf)
    except Exception:  # the conversion that follows says what is wrong with the file
        pass


def _sanitise(pdf: Path, facts, w: _Work) -> None:
    """Take encryption, JavaScript, launch actions and embedded files out of the working copy (the
    archival copy is made from it); refuse when any is still there afterwards."""
    import pikepdf

    from ..pdfcheck import inspect_pdf

    what = [x for flag, x in ((facts.encrypted, "加密（权限限制）"), (facts.has_javascript, "JavaScript 脚本"),
                              (facts.has_launch_action, "启动外部程序的动作"), (facts.has_embedded_files, "嵌入文件"))
            if flag]
    try:
        with pikepdf.open(pdf, allow_overwriting_input=True) as doc:
            root = doc.Root
            for key in ("/OpenAction", "/AA"):
                if key in root:
                    del root[key]
            if "/Names" in root:
                for key in ("/JavaScript", "/EmbeddedFiles"):
                    if key in root.Names:
                        del root.Names[key]
            if "/AF" in root:
                del root["/AF"]
            for page in doc.pages:
                if "/AA" in page.obj:
                    del page.obj["/AA"]
                for annot in list(page.obj.get("/Annots") or []):
                    for key in ("/A", "/AA"):
                        if key in annot:
                            del annot[key]
                annots = page.obj.get("/Annots")
                if annots is not None:
                    kept = [a for a in annots if a.get("/Subtype") != "/FileAttachment"]
                    if len(kept) != len(annots):
                        page.obj["/Annots"] = pikepdf.Array(kept)
            # Form fields may carry calculation or keystroke scripts.
            if "/AcroForm" in root:
                for f in list(root.AcroForm.get("/Fields") or []):
                    if "/AA" in f:
                        del f["/AA"]
            doc.save(pdf, encryption=False)
    except Exception as e:  # pikepdf raises many types for odd files
        raise refuse(f"来文含{'、'.join(what)}，无法安全去除（{type(e).__name__}）；请向来文单位索取普通 PDF") from e
    after = inspect_pdf(pdf)
    left = [x for flag, x in ((after.has_javascript, "JavaScript 脚本"), (after.has_launch_action, "启动动作"),
                              (after.has_embedded_files, "嵌入文件"), (after.encrypted, "加密")) if flag]
    if after.error or left:
        raise refuse(f"来文含{'、'.join(left) or '无法去除的内容'}，无法安全去除；请向来文单位索取普通 PDF")
    w.notes.append(f"来文含{'、'.join(what)}，归档副本已去除；原件原样保存，请勿直接打开原件"
                   if (facts.has_javascript or facts.has_launch_action) else
                   f"来文含{'、'.join(what)}，归档副本已去除；原件原样保存")
    if facts.has_embedded_files:
        w.notes.append("来文的嵌入文件（可能是附件）只在原件中，请核对附件是否齐全")


def _read_image(path: Path, fmt: str, w: _Work):
    """A photographed or scanned page (or a multi-page TIFF) → an image PDF → OCR."""
    import img2pdf
    from PIL import Image, UnidentifiedImageError

    cfg = w.config.incoming
    limit = int(cfg.max_image_megapixels * 1_000_000)
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = limit
    try:
        with Image.open(path) as im:
            im.verify()
        with Image.open(path) as im:
            frames = getattr(im, "n_frames", 1)
            if frames > cfg.max_pages:
                raise refuse(f"图片共 {frames} 页，超过上限 {cfg.max_pages} 页")
            dpi = im.info.get("dpi")
            size = im.size
            mode = im.mode
            im.load()
    except Image.DecompressionBombError:
        raise refuse(f"图片像素过多（超过 {cfg.max_image_megapixels:g} 百万像素），疑为恶意文件或扫描分辨率过高；"
                     "请以 200 dpi 重新扫描") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise refuse(f"不是有效的 {fmt} 图片（文件损坏或未传完：{type(e).__name__}）") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old
    if size[0] * size[1] > limit:
        raise refuse(f"图片像素过多（{size[0]}×{size[1]}），请以 200 dpi 重新扫描")
    resolution = None
    if dpi and all(isinstance(v, (int, float)) and 72 <= v <= 1200 for v in dpi[:2]):
        resolution = (float(dpi[0]), float(dpi[1]))
    else:
        resolution = (float(cfg.ocr_default_dpi),) * 2
        w.notes.append(f"图片未记录分辨率，按 {cfg.ocr_default_dpi} dpi 计算页面尺寸")
    pdf = w.workdir / "图像.pdf"
    layout = img2pdf.get_fixed_dpi_layout_fun(resolution)
    try:
        pdf.write_bytes(img2pdf.convert(str(path), layout_fun=layout, rotation=img2pdf.Rotation.ifvalid))
    except Exception:
        # img2pdf refuses some images it cannot embed losslessly (an alpha channel, 16-bit, palette
        # with transparency): re-encode every frame as an RGB PNG.
        from PIL import ImageSequence

        pngs = []
        with Image.open(path) as im:
            for i, frame in enumerate(ImageSequence.Iterator(im)):
                p = w.workdir / f"页{i + 1}.png"
                frame.convert("L" if mode in ("1", "L", "LA", "I;16") else "RGB").save(p, dpi=resolution)
                pngs.append(str(p))
        pdf.write_bytes(img2pdf.convert(pngs, layout_fun=layout))
    pages, texts, _, out, arch_fmt, extra = _read_pdf(pdf, w, from_image=True)
    w.notes.append("图片来文经文字识别（OCR），标题、文号等请核对")
    return pages, texts, "OCR", out, arch_fmt, {**extra, "creator": ""}


def _convert(src: Path, out: Path, w: _Work) -> Path:
    from ..convert import convert_once

    try:
        if w.converter is not None:
            return w.converter.convert(src, out)
        return convert_once(src, out, w.config)
    except ConversionError as e:
        raise refuse(f"LibreOffice 无法转换此文件：{e}") from e


def _read_docx(path: Path, w: _Work):
    from ..drafts import docx_items
    from ..pdfcheck import inspect_pdf

    try:
        items = docx_items(path)
    except DraftError as e:
        raise refuse(f"不是有效的 Word 文档：{e}") from e
    pdf = _convert(path, w.workdir / "收文.pdf", w)
    facts = inspect_pdf(pdf)
    texts = _pdftotext_pages(pdf, facts.pages)
    from ..process import _draft_creator

    return facts.pages, [clean_page(t) for t in texts], "正文段落", pdf, pdf_format(facts), {
        "items": items, "creator": _draft_creator(path)}


def _read_word97(path: Path, fmt: str, w: _Work):
    """.doc and Kingsoft .wps (the same Word-97 binary format): LibreOffice reads them as .doc."""
    from ..pdfcheck import inspect_pdf

    src = w.workdir / "来文.doc"
    shutil.copyfile(path, src)
    pdf = _convert(src, w.workdir / "收文.pdf", w)
    facts = inspect_pdf(pdf)
    if facts.error or not facts.pages:
        raise refuse(f"{fmt} 文件转换后无法读取：{facts.error or '没有页面'}")
    if facts.pages > w.config.incoming.max_pages:
        raise refuse(f"文件共 {facts.pages} 页，超过上限 {w.config.incoming.max_pages} 页")
    texts = _pdftotext_pages(pdf, facts.pages)
    return facts.pages, [clean_page(t) for t in texts], "正文段落", pdf, pdf_format(facts), {
        "creator": "WPS Office" if fmt == "WPS" else "Microsoft Word 97-2003 兼容"}


def _read_ofd(path: Path, w: _Work):
    """OFD through ofdkit (read-only, no dependencies; pinned). Its text is taken page by page; the
    original OFD is the archival file."""
    try:
        import ofdkit
    except ImportError:
        raise refuse("本机未安装 OFD 读取组件（ofdkit），无法读取 OFD 来文") from None
    try:
        with ofdkit.open(path) as doc:
            pages = len(doc.pages)
            if pages > w.config.incoming.max_pages:
                raise refuse(f"OFD 共 {pages} 页，超过上限 {w.config.incoming.max_pages} 页")
            texts = doc.text("\f").split("\f")
            creator = (doc.info.creator or "") if doc.info else ""
    except IncomingError:
        raise
    except Exception as e:  # ofdkit is young: any failure of it is this file's refusal, never a crash
        raise refuse(f"OFD 文件无法读取（{type(e).__name__}: {str(e)[:120]}）；请向来文单位索取 PDF") from None
    texts = (texts + [""] * pages)[:max(pages, 1)]
    return pages, [clean_page(t) for t in texts], "OFD 文本", None, "OFD", {"creator": creator}


# --- text --------------------------------------------------------------------------------------------

def _pdftotext_pages(pdf: Path, pages: int) -> list[str]:
    """Text per page by poppler's pdftotext (it decodes the CID fonts of OCR text layers that
    pdfminer cannot); pages are separated by form feeds."""
    try:
        res = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, timeout=300)
    except FileNotFoundError:
        raise refuse("找不到 pdftotext（请安装 poppler-utils）") from None
    except subprocess.TimeoutExpired:
        raise refuse("提取 PDF 文字超时") from None
    out = res.stdout.decode("utf-8", "replace").split("\f")
    return (out + [""] * pages)[:pages]


def _visible(text: str) -> str:
    return re.sub(r"\s+", "", text)


def usable(text: str) -> bool:
    """A page's extracted text is real text (not empty, not a font's private codes)."""
    vis = _visible(text)
    if len(vis) < MIN_PAGE_CHARS:
        return False
    good = sum(1 for ch in vis if _GOOD.match(ch))
    return good / len(vis) >= MIN_GOOD_SHARE


def clean_page(text: str, *, ocr: bool = False) -> str:
    """One page's text as lines: extractor spacing removed, page numbers dropped; after OCR the
    brackets of 发文字号 repaired."""
    lines = []
    for raw in text.split("\n"):
        line = P.clean_extracted_line(raw)
        if not line or P.PAGE_NUMBER_LINE_RE.match(line):
            continue
        if ocr:
            line = P.repair_numbers(line)
        lines.append(line)
    return "\n".join(lines)
