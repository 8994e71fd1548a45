"""Fill the .docx templates with a draft (docxtpl, autoescape on) and prove the result is complete.

A document is rendered in three steps: the context is built from the draft, the series and the
number; docxtpl fills the template; then what depends on the actual text is fitted (the 发文机关标志
compressed to the 版心 width, the 署名 centred on the 成文日期, 附件说明 hanging indents, the
keep-together chain that stops a signature block from standing alone on a page, and the optional
tightening of Layout). The output is checked before it is written: no `{{`/`{%` may be left over and
every value given must be present in the text. Any failure is a TemplateError naming the template.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import io
import logging
import math
import re
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar
from xml.sax.saxutils import escape as xml_escape

import jinja2
from markupsafe import Markup
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docxtpl import DocxTemplate

from . import layout as L
from .config import Config, Series
from .drafts import patterns as P
from .errors import TemplateError
from .fsutil import atomic_write_bytes
from .model import Block, Draft, Number, cn_date

log = logging.getLogger("gongwen.render")
T = TypeVar("T")

# Attempts at laying out a document before the pipeline gives up (and voids its number).
LAYOUT_ATTEMPTS = 4
FIT_SPARE_TWIPS = L.LINE_PITCH_TWIPS // 4


@dataclass(frozen=True)
class Layout:
    """How the end of the body and the signature block are set. The pipeline renders with
    Layout(), and while the converted PDF shows the block not sitting well (stamp.NeedsRelayout,
    GB/T 9704 7.3.5.5) with next_layout(layout, shortfall, docx)."""

    # A tighter line pitch (twips; 0 = the standard one) for the 主体 from the page whose printed
    # lines are ``tighten_from`` (whitespace removed) to the end of the block; characters keep
    # their pitch, 28 a line. The blank lines under the seal keep the standard pitch.
    pitch: int = 0
    tighten_from: tuple[str, ...] = ()
    # The printed text (whitespace removed) of the body's last lines that go onto the block's page
    # with it: the paragraph holding their start is cut exactly there, the rest chained to the block.
    carry: str = ""
    attempt: int = 0
    tightened: int = 0        # how many attempts have set a tighter pitch so far
    # config.layout.imprint_on_even_page: 1 = the 版记 on a page of its own (the next, even one);
    # 2 = in a section of its own that starts on an even page (a blank page before it, neither
    # numbered: GB/T 9704 7.5).
    imprint_breaks: int = 0

    def __post_init__(self) -> None:
        if self.pitch and not L.MIN_PITCH_TWIPS <= self.pitch <= L.LINE_PITCH_TWIPS:
            raise ValueError(f"pitch must be {L.MIN_PITCH_TWIPS}..{L.LINE_PITCH_TWIPS} twips, not {self.pitch}")

    @property
    def last(self) -> bool:
        """The last attempt: the stamp step accepts what is legal, if not ideal."""
        return self.attempt >= LAYOUT_ATTEMPTS - 1

    def describe(self) -> dict:
        return {"attempt": self.attempt, "pitch_twips": self.pitch or L.LINE_PITCH_TWIPS,
                "carried_chars": len(self.carry), "imprint_breaks": self.imprint_breaks}


def next_layout(layout: Layout, shortfall: L.Shortfall, docx: Path) -> Layout | None:
    """The layout to try after ``layout`` (rendered as ``docx``) left the signature block badly
    placed, as the converted PDF shows it (``shortfall``); None when the attempts are used up.

    GB/T 9704 7.3.5.5: adjust the line spacing; the block never without body text above it, and
    at most the body's last two lines go with it; every page before stays full (22 lines, less at
    most FILL_SLACK_LINES). In order of preference: everything onto the page before the block at a
    pitch of at least PREFERRED_PITCH_TWIPS; the body's last one or two lines carried along when
    that page stays full without them; the page set tighter, down to MIN_PITCH_TWIPS; then, when
    only the 附件说明 stood above the block, that (legal) layout on the last attempt; when nothing
    did, the body's last line carried (the page before runs short: nothing satisfies everything)."""
    from docx import Document

    s = shortfall
    if s.kind == "imprint":
        # Not counted as an attempt: bounded by itself, and the block is settled by now.
        return replace(layout, imprint_breaks=layout.imprint_breaks + 1) if layout.imprint_breaks < 2 else None
    attempt = layout.attempt + 1
    if attempt >= LAYOUT_ATTEMPTS:
        return None
    doc = Document(str(docx))
    top = [p for p in doc.element.body if p.tag == qn("w:p")]
    pitch = _fitting_pitch(top, layout, s)

    def tighter(at: int, carry: str = "") -> Layout:
        return Layout(pitch=max(L.MIN_PITCH_TWIPS, at), tighten_from=s.lines, carry=carry, attempt=attempt,
                      tightened=layout.tightened + 1)

    if s.kind == "seal":                         # room under the block on its own page
        return tighter(pitch, layout.carry) if pitch else replace(layout, attempt=attempt)
    if pitch and pitch >= L.PREFERRED_PITCH_TWIPS:
        return tighter(pitch)
    # Lines that may go with the block while the page before keeps at most FILL_SLACK_LINES empty.
    empty = L.LINES_PER_PAGE - s.fill
    carry_lines = max((k for k in range(L.CARRY_MAX_LINES + 1) if math.floor(empty + k + 0.05) <= L.FILL_SLACK_LINES),
                      default=0)
    if carry_lines and not layout.carry:
        return Layout(carry="".join(s.lines[-carry_lines:]), attempt=attempt)
    if pitch and pitch >= L.MIN_PITCH_TWIPS:
        return tighter(pitch)
    if s.kind in ("short", "annex") or layout.carry:
        # Nothing fits better (the 附件说明 above the block is legal): the last attempt takes this
        # layout as it is.
        return replace(layout, attempt=LAYOUT_ATTEMPTS - 1)
    # The block must not stand alone: its body line goes along although the page before runs short.
    return Layout(carry=s.lines[-1], attempt=attempt)


def _fitting_pitch(paragraphs: list, layout: Layout, s: L.Shortfall) -> int | None:
    """The line pitch at which the 主体 from the first body line among ``s.lines`` down to the end
    of the block fits the page those lines are on (at least one more slot than measured once a
    tighter pitch has been tried and failed); None when those lines are not found in the body."""
    styles = [_style_of(p) for p in paragraphs]
    end = _block_end(styles)
    if end is None:
        return None
    found = _region_start(paragraphs, styles, end, s.lines)
    if found is None:
        return None
    _, k = found
    fixed = len(_seal_gap(styles))
    now = layout.pitch or L.LINE_PITCH_TWIPS
    # The region's height now: on this page from its first line down, plus what the block's page
    # holds down to the date (or, for "seal", this page down to the date plus the room lacking).
    if s.kind == "seal":
        height = s.end - s.tops[k] + s.deficit
    else:
        # … and the 附注 the date is kept with (the measure ends at the date)
        notes = [p for p, st in zip(paragraphs[end:end + 1], styles[end:end + 1]) if st == "GwNote"]
        height = (round(s.fill * L.LINE_PITCH_TWIPS) - s.tops[k] + s.end
                  + sum(_estimated_lines(p) for p in notes) * now)
    slots = fixed + max(1, round((height - fixed * L.LINE_PITCH_TWIPS) / now)) + layout.tightened
    # A quarter line to spare: the measured positions and LibreOffice's rounding are not exact.
    room = L.TYPE_AREA_HEIGHT_TWIPS - s.tops[k] - fixed * L.LINE_PITCH_TWIPS - FIT_SPARE_TWIPS
    # LibreOffice did not fit it at the pitch it had: never propose that pitch again.
    return min(now - 5, room // max(1, slots - fixed))


# --- which template# --- which template# --- which template --------------------------------------------------------------------------------

def _series(draft: Draft, config: Config) -> Series:
    if not draft.series:
        raise TemplateError("无法确定模板：草稿没有指定发文系列（机关代字）")
    try:
        return config.series[draft.series]
    except KeyError:
        raise TemplateError(f"无法确定模板：配置中没有发文系列「{draft.series}」") from None


def template_for(draft: Draft, config: Config) -> str:
    """"下行文" | "上行文" | "信函" | "纪要": by the series' format (config.series[..].format),
    and 上行文 for config.is_upward(draft.kind) in a 文件-format series."""
    fmt = _series(draft, config).format
    if fmt in ("信函", "纪要"):
        return fmt
    return "上行文" if config.is_upward(draft.kind) else "下行文"


# --- context -------------------------------------------------------------------------------------------

_CN_DIGITS = "零一二三四五六七八九"


def cn_ordinal(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十 (for 一、 numbering of 纪要 decisions)."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def _meeting_blocks(draft: Draft) -> tuple[Block, ...]:
    """A 纪要 body from its Meeting when the draft has no body of its own: the 导语, then each
    议定事项 as "一、…" with its 责任单位."""
    m = draft.meeting
    if m is None:
        return ()
    out: list[Block] = []
    if m.lead:
        out.append(Block("paragraph", m.lead))
    for i, d in enumerate(m.decisions, 1):
        text = d.text if re.match(r"^[一二三四五六七八九十]+、", d.text) else f"{cn_ordinal(i)}、{d.text}"
        if d.owner:
            text += f"（责任单位：{d.owner}）"
        out.append(Block("paragraph", text))
    return tuple(out)


def _date_text(d, text: str | None) -> str:
    return cn_date(d) if d else (text or "")


def _signer_lines(signers: tuple[str, ...], number: str) -> list[dict]:
    """签发人 lines of an 上行文 (7.2.6): "签发人：" then the names, two a line; continuation lines
    indented by the label's width; every line padded to the same width so that, set flush right,
    they all start at the same place; the 发文字号 on the last line."""
    label, pad = "签发人：", "\u3000" * 4
    names = list(signers) or [""]
    rows = ["\u3000".join(names[i:i + 2]) for i in range(0, len(names), 2)]
    width = max(L.text_width_twips(x, spacing_twips=0) for x in rows)
    out = []
    for i, row in enumerate(rows):
        fill = max(0, round((width - L.text_width_twips(row, spacing_twips=0)) / (L.SIZE_3 * 20)))
        out.append({"number": number if i == len(rows) - 1 else "", "label": label if i == 0 else pad,
                    "names": row + "\u3000" * fill})
    return out


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\u200b-\u200d\u2060\ufeff]")
# Full-width marks beside which Chinese text sets no space: a space (or a zero-width one) there is
# a place LibreOffice may break a line, after “ or before ”, against 避头尾.
_WIDE_MARKS = "（《「『“‘〔【）》」』”’〕】，。、；：？！"
_SPACE_BY_MARK = re.compile(rf"[ \t\u00a0\u3000]+(?=[{_WIDE_MARKS}])|(?<=[{_WIDE_MARKS}])[ \t\u00a0\u3000]+")


def _clean(value):
    """Dropped from every string of a draft before it goes into the document: characters XML
    cannot hold (Word's vertical tab for a line break, stray control codes), zero-width spaces, and
    spaces beside a full-width mark."""
    if isinstance(value, str):
        return _SPACE_BY_MARK.sub("", _CONTROL.sub("", value))
    if isinstance(value, tuple):
        return tuple(_clean(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _clean(getattr(value, f.name)) for f in dataclasses.fields(value)
                   if f.name not in ("origins", "read_problems")}
        return dataclasses.replace(value, **changes)
    return value


def copy_numbered(draft: Draft, config: Config) -> bool:
    """Whether the document carries a 份号 (GB/T 9704 7.2.1): when its draft gives 份数 (each copy
    numbered), when it is classified (涉密公文 must be numbered), or when config.layout.copy_numbers
    asks for it on every document."""
    return bool(draft.copies or draft.secrecy or config.layout.copy_numbers)


def build_context(draft: Draft, number: Number, config: Config, make_table: Callable | None = None,
                  copy_no: int | None = None) -> tuple[dict, list[str]]:
    """The template context for a document and the values that must appear in the output;
    ``copy_no``: the 份号 to print (None: none)."""
    draft = _clean(draft)
    series = _series(draft, config)
    name = template_for(draft, config)
    expect: list[str] = []

    def want(*values: str | None) -> None:
        expect.extend(v for v in values if v and v.strip())

    def blocks(items: Iterable[Block]) -> list[dict]:
        out = []
        for b in items:
            if b.kind == "table":
                rows = [tuple(str(c) for c in row) for row in b.rows]
                for row in rows:
                    want(*row)
                out.append({"kind": "table", "text": "", "table": make_table(rows) if make_table else ""})
            else:
                want(b.text)
                out.append({"kind": b.kind, "text": b.text, "table": ""})
        return out

    top = [{"copy_no": "", "text": x} for x in (draft.secrecy, draft.urgency) if x]
    if copy_no is not None:
        top.insert(0, {"copy_no": L.copy_number(copy_no), "text": ""})
    want(*(x["copy_no"] or x["text"] for x in top))
    date = _date_text(draft.date, draft.date_text)
    signature = draft.signature or series.issuer
    title = [] if not draft.title else L.title_lines(draft.title)
    body = draft.body or (_meeting_blocks(draft) if name == "纪要" else ())

    note_entries = []
    if draft.attachments:
        for a in draft.attachments:
            note_entries.append({"num": f"{a.number}." if a.number is not None else "", "name": a.name})
            want(a.name)
    elif draft.attachment_note:
        for i, line in enumerate(draft.attachment_note):
            text = re.sub(r"^附件[：:]\s*", "", line.strip()) if i == 0 else line.strip()
            note_entries.append({"num": "", "name": text})
            want(text)

    pages = []
    for a in draft.attachments:
        if not a.blocks:
            continue
        label = f"附件{a.number}" if a.number is not None else "附件"
        heading = a.title or a.name
        want(label, heading)
        pages.append({"label": label, "title_lines": L.title_lines(heading), "body": blocks(a.blocks)})

    cc = (draft.cc or "").strip().rstrip("。")
    printer = draft.printer or series.printer or config.organisation.name
    print_date = _date_text(draft.print_date, draft.print_date_text) or date
    meeting = draft.meeting
    attendance = []
    if name == "纪要" and meeting:
        for label, names in (("出席", meeting.present), ("请假", meeting.absent), ("列席", meeting.attending)):
            if names:
                attendance.append({"label": label, "names": "、".join(names)})
                want(*names)

    joint: dict[str, Any] | None = None
    if draft.co_issuers and name in ("下行文", "上行文"):
        # 联合行文 (7.2.4): every organ's name in the 标志, the 主办机关 first, 文件 right of them;
        # every organ's 署名 (7.3.5.1–2). fit_joint sets them out after docxtpl.
        suffix = "文件" if series.header.endswith("文件") else ""
        joint = {"marks": [series.header.removesuffix(suffix) if suffix else series.header,
                           *(config.header_name(o) for o in draft.co_issuers)],
                 "suffix": suffix, "organs": [signature, *draft.co_issuers], "sealed": series.sealed,
                 "diameter_mm": config.seal.diameter_mm}

    note = (draft.note or "").strip().removeprefix("（").removesuffix("）")
    ctx = {
        "header": series.header,
        "top_lines": top + [{"copy_no": "", "text": ""}] * (L.TOP_LINES - len(top)),
        "letter_left": top or [{"copy_no": "", "text": ""}],
        "number": number.text,
        "signer_lines": _signer_lines(draft.signers, number.text),
        "title_lines": title,
        "main_to": draft.main_to or "",
        "body": blocks(body),
        "attachment_note": note_entries,
        "sealed": series.sealed,
        "seal_gap": list(range(L.seal_gap_lines(config.seal.diameter_mm))),
        "signature": signature,
        "date": date,
        "note": note,
        "attachments": pages,
        "cc": cc,
        "printer": printer,
        "print_date": print_date,
        "attendance": attendance,
        "joint": joint,
    }
    if joint:
        want(*joint["marks"], joint["suffix"], *draft.co_issuers)
    else:
        want(series.header)
    want(number.text, *title, draft.main_to, note, cc)
    if name == "上行文":
        want(*draft.signers)
    if name == "纪要":
        want(printer, date)           # the 版头 line under the number
    else:
        want(signature, date)
    if name != "信函":
        want(printer, print_date)     # 版记 印发 line
    return ctx, expect


# --- reading a .docx back -----------------------------------------------------------------------------

_XML_PARTS = re.compile(r"^word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml$")


def docx_paragraph_texts(data: bytes) -> list[str]:
    """Every paragraph's text in the body, tables, headers and footers (tabs as \\t)."""
    from lxml import etree

    texts: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if not _XML_PARTS.match(name):
                continue
            root = etree.fromstring(z.read(name))
            for p in root.iter(qn("w:p")):
                parts = []
                for el in p.iter(qn("w:t"), qn("w:tab"), qn("w:instrText")):
                    if el.tag == qn("w:tab"):
                        parts.append("\t")
                    elif el.tag == qn("w:t"):
                        parts.append(el.text or "")
                texts.append("".join(parts))
    return texts


_SPACE = re.compile(r"[\s\u3000]+")


def _squash(text: str) -> str:
    return _SPACE.sub("", text)


def _missing(text: str, values: list[str]) -> list[str]:
    """The values that ``text`` does not hold as often as they were given. A value counts once for
    every time it occurs inside any given value (the 署名 「珠晖区人民政府」 is also in the 标志 and the
    title), so a value lost from the template is caught even when its words appear elsewhere. Never
    a false alarm: the given values occupy separate places in the text, and str.count (leftmost,
    non-overlapping) finds the most separate occurrences there are."""
    by_length = sorted(values, key=len, reverse=True)
    out: list[str] = []
    for v in dict.fromkeys(values):
        found = text.count(v)
        needed = 0
        for w in by_length:
            if len(w) < len(v) or needed > found:
                break
            needed += w.count(v)
        if needed > found:
            out.append(v)
    # A short value found short only because a longer missing one holds it (a table cell 「单位」
    # inside a lost 主送 「…区直各单位」) is not named again.
    return [v for v in out if not any(v != w and v in w for w in out)]


def check_output(data: bytes, template: Path, *, expect: Iterable[str] = (),
                 context_values: Iterable[str] = ()) -> None:
    """Raise TemplateError when the rendered document still holds template tags (beyond those the
    values themselves contain) or lacks a value that was given."""
    texts = docx_paragraph_texts(data)
    full = "\n".join(texts)
    allowed = sum(v.count("{{") + v.count("{%") for v in context_values)
    leftovers = [t for t in texts if "{{" in t or "{%" in t]
    found = sum(t.count("{{") + t.count("{%") for t in leftovers)
    if found > allowed:
        sample = next(t for t in leftovers)
        tag = re.search(r"\{[{%].{0,40}", sample)
        raise TemplateError(f"模板 {template.name} 套用后仍残留标签：{tag.group(0) if tag else sample[:40]!r}"
                            "（标签可能被 Word 拆分或拼写有误）")
    missing = _missing(_squash(full), [_squash(v) for v in expect])
    if missing:
        shown = "、".join(f"「{m[:30]}」" for m in missing[:5])
        raise TemplateError(f"模板 {template.name} 套用后缺少内容：{shown}"
                            + (f" 等 {len(missing)} 项" if len(missing) > 5 else "")
                            + "（模板中缺少对应标签，或内容中含有无法写入的字符）")


def _strings(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


# --- lint ----------------------------------------------------------------------------------------------

_IME = re.compile(r"｛｛|｛\{|\{｛|｛％|｛%|\{％|％｝|%｝|％\}|｝｝|\}｝|｝\}")
_SPACED = re.compile(r"\{\s+[{%]|[%}]\s+\}")


def _template_parts(template: Path) -> list[tuple[str, str]]:
    """(part name, xml) for the document body, headers and footers."""
    with zipfile.ZipFile(template) as z:
        return [(n, z.read(n).decode("utf-8")) for n in sorted(z.namelist()) if _XML_PARTS.match(n)]


def _para_texts_of(xml: str) -> list[str]:
    from lxml import etree

    root = etree.fromstring(xml.encode("utf-8"))
    return ["".join(t.text or "" for t in p.iter(qn("w:t"))) for p in root.iter(qn("w:p"))]


def _explain_jinja(e: jinja2.TemplateSyntaxError) -> str:
    """Jinja's message with a Chinese reading of the common cases in front."""
    msg = e.message or str(e)
    m = re.search(r"Encountered unknown tag '(\w+)'", msg)
    if m:
        return f"多余或未知的标签 {m.group(1)}（缺少与之配对的开始标签？）[{msg}]"
    if "Unexpected end of template" in msg:
        return f"有未闭合的标签（缺少 endif / endfor？）[{msg}]"
    return msg


def lint_template(template: Path, context_keys: Iterable[str] | None = None) -> list[str]:
    """Problems in a template: unparseable Jinja (naming the tag), full-width ｛｝％ typed by an IME,
    tags broken by spaces, and — when ``context_keys`` is given — variables the template uses that
    the context does not provide (empty list = fine)."""
    template = Path(template)
    try:
        st = template.stat()
    except OSError as e:
        return [f"找不到模板文件 {template}（{e.strerror}）"]
    found, used = _lint(str(template.resolve()), st.st_mtime_ns, st.st_size)
    problems = list(found)
    if used is not None and context_keys is not None:
        missing = sorted(set(used) - set(context_keys))
        if missing:
            problems.append(f"{template.name}：模板用到了未提供的变量：{'、'.join(missing)}")
    return problems


@functools.lru_cache(maxsize=64)
def _lint(path: str, mtime_ns: int, size: int) -> tuple[tuple[str, ...], frozenset[str] | None]:
    """The context-free part of lint_template, memoised per file version (path, mtime, size): a
    template is parsed once, not once per document. Returns (problems, variables used or None)."""
    template = Path(path)
    problems: list[str] = []
    try:
        parts = _template_parts(template)
    except (zipfile.BadZipFile, OSError, KeyError) as e:
        return (f"{template.name} 不是有效的 Word 模板（{e}）",), None
    if not any(n == "word/document.xml" for n, _ in parts):
        return (f"{template.name} 不是有效的 Word 模板（缺少 word/document.xml）",), None
    tpl = DocxTemplate(str(template))
    env = jinja2.Environment(autoescape=True)
    syntax_ok = True
    for name, xml in parts:
        for text in _para_texts_of(xml):
            if _IME.search(text):
                problems.append(f"{template.name}：标签用了全角符号（中文输入法）：「{text.strip()[:60]}」，"
                                "请改为半角 {{ }} 或 {% %}")
            if _SPACED.search(text):
                problems.append(f"{template.name}：标签的括号之间有空格：「{text.strip()[:60]}」")
        patched = tpl.patch_xml(xml)
        patched = re.sub(r"<w:p([ >])", r"\n<w:p\1", patched)
        try:
            env.parse(patched)
        except jinja2.TemplateSyntaxError as e:
            syntax_ok = False
            lines = patched.splitlines()
            where = ""
            if e.lineno and 0 < e.lineno <= len(lines):
                where = re.sub(r"<[^>]+>", "", lines[e.lineno - 1]).strip()
            problems.append(f"{template.name}（{name.removeprefix('word/')}）：标签有误：{_explain_jinja(e)}；"
                            f"所在段落：「{where[:160]}」")
    used = frozenset(tpl.get_undeclared_template_variables(env)) if syntax_ok else None
    return tuple(problems), used


# --- rendering -----------------------------------------------------------------------------------------

def _render(template: Path, ctx: dict, out: Path, *,
            expect: Iterable[str] = (), post: Callable | None = None) -> Path:
    template, out = Path(template), Path(out)
    if not template.is_file():
        raise TemplateError(f"找不到模板文件 {template}")
    tpl = DocxTemplate(str(template))
    try:
        tpl.init_docx()
    except Exception as e:
        raise TemplateError(f"{template.name} 不是有效的 Word 模板（{e}）") from e
    problems = lint_template(template, ctx.keys())
    if problems:
        raise TemplateError("；".join(problems))
    env = jinja2.Environment(autoescape=True)
    try:
        tpl.render(ctx, jinja_env=env, autoescape=True)
    except jinja2.TemplateError as e:
        near = " / ".join(x.strip() for x in getattr(e, "docx_context", []) if x.strip())
        raise TemplateError(f"模板 {template.name} 无法套用：{e}" + (f"（附近：{near[:120]}）" if near else "")) from e
    if post is not None:
        post(tpl.docx)
    buf = io.BytesIO()
    tpl.save(buf)
    data = buf.getvalue()
    check_output(data, template, expect=expect, context_values=list(_strings(ctx)))
    return atomic_write_bytes(out, data)


def render_template(template: Path, context: dict, out: Path) -> Path:
    """Generic docxtpl render with the same safety (autoescape, leftover-tag and lint checks);
    later used for the 归档文件目录 / 检测报告 / 登记表 templates."""
    return _render(template, context, out)


def render_document(draft: Draft, number: Number, config: Config, out: Path, *,
                    layout: Layout = Layout(), copy_no: int | None = None) -> Path:
    """Fill the draft's template, write ``out`` atomically, and check that no tag is left and that
    every value given (title, number, 主送, each body paragraph …) is in the output. Raises
    TemplateError naming the template and the tag on a broken template or a missing value.
    ``copy_no``: the 份号 of this copy (see copy_numbered); None prints none."""
    template = config.template_path(template_for(draft, config))
    context, expect = build_context(draft, number, config, table_xml, copy_no=copy_no)
    return _render(template, context, out, expect=expect,
                   post=lambda doc: fit_document(doc, layout, config, joint=context["joint"]))



class LayoutExhausted(Exception):
    """Every layout render.LAYOUT_ATTEMPTS allows left the signature block badly placed; the
    message is the stamp step's last reason (Chinese)."""


def lay_out(draft: Draft, number: Number, config: Config, docx: Path, *, convert: Callable[[Path], None],
            settle: Callable[[Layout], T], layout: Layout | None = None, copy_no: int | None = None,
            rendered: Callable[[Layout], None] | None = None) -> tuple[Layout, T]:
    """Render ``docx`` with ``layout`` (Layout() when None), ``convert`` it and ``settle`` the result
    (the stamp step: check_layout or seal_and_sign, given the layout for its ``last`` attempt) until
    the stamp step stops asking for another layout (stamp.NeedsRelayout → next_layout, GB/T 9704
    7.3.5.5). Returns the layout that worked and what ``settle`` returned; raises LayoutExhausted
    when the attempts are used up. ``rendered``: called after each render (the pipeline records
    its stage)."""
    from .seal import NeedsRelayout

    current: Layout | None = layout or Layout()
    reason = ""
    while current is not None:
        render_document(draft, number, config, docx, layout=current, copy_no=copy_no)
        if rendered is not None:
            rendered(current)
        convert(docx)
        try:
            return current, settle(current)
        except NeedsRelayout as e:
            reason = str(e)
            current = next_layout(current, e.shortfall, docx) if e.shortfall else None
            log.info("%s: relayout (%s): %s", number.reference, current and current.describe(), e)
    raise LayoutExhausted(reason)


# --- tables in the body ----------------------------------------------------------------------------------

def table_xml(rows: list[tuple[str, ...]]) -> Markup:
    """A body table as WordprocessingML for a ``{{p b.table }}`` tag: full 版心 width, thin rules,
    4号仿宋 (header row 黑体), every run with its East Asian font; text escaped here, so the value
    is marked safe for autoescape."""
    ncols = max((len(r) for r in rows), default=1)
    width = L.TYPE_AREA_WIDTH_TWIPS
    col = width // ncols
    sides = "".join(f'<w:{s} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
                    for s in ("top", "left", "bottom", "right", "insideH", "insideV"))
    out = [f'<w:tbl><w:tblPr><w:tblW w:w="{col * ncols}" w:type="dxa"/><w:jc w:val="center"/>'
           f'<w:tblBorders>{sides}</w:tblBorders><w:tblLayout w:type="fixed"/>'
           '<w:tblCellMar><w:left w:w="57" w:type="dxa"/><w:right w:w="57" w:type="dxa"/></w:tblCellMar>'
           '</w:tblPr><w:tblGrid>' + f'<w:gridCol w:w="{col}"/>' * ncols + "</w:tblGrid>"]
    # The header rows repeat on every page the table runs onto: the first row, and the one under it
    # when the first is a title row merged across the table (「清查工作时间安排」 over 阶段/时间/任务).
    heads = 2 if len(rows) > 2 and ncols > 1 and len(rows[0]) == 1 else 1
    for i, row in enumerate(rows):
        font = L.FONT_HEITI if i < heads else L.FONT_FANGSONG
        latin = font if i < heads else L.FONT_LATIN
        cells = []
        for j in range(max(1, len(row))):
            text = row[j] if j < len(row) else ""
            # A row with fewer cells than the table had cells merged in the draft (a title row,
            # a 合计 row): its last cell spans the rest, as the author laid it out.
            span = ncols - j if j == max(1, len(row)) - 1 else 1
            grid = f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
            run = (f'<w:r><w:rPr><w:rFonts w:ascii="{latin}" w:eastAsia="{font}" w:hAnsi="{latin}" '
                   f'w:cs="{latin}" w:hint="eastAsia"/></w:rPr><w:t xml:space="preserve">{xml_escape(text)}</w:t></w:r>'
                   if text else "")
            # header rows keep with the first data row (no header alone at the foot of a page)
            keep = "<w:keepNext/>" if i < heads and len(rows) > heads else ""
            cells.append(f'<w:tc><w:tcPr><w:tcW w:w="{col * span}" w:type="dxa"/>{grid}<w:vAlign w:val="center"/></w:tcPr>'
                         f'<w:p><w:pPr><w:pStyle w:val="GwTable"/>{keep}</w:pPr>{run}</w:p></w:tc>')
        header = ("<w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>" if i < heads and len(rows) > heads
                  else "<w:trPr><w:cantSplit/></w:trPr>")
        out.append(f"<w:tr>{header}{''.join(cells)}</w:tr>")
    out.append("</w:tbl>")
    return Markup("".join(out))


# --- fitting what depends on the text --------------------------------------------------------------------

_RPR_SUCCESSORS = ("w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr",
                   "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang",
                   "w:eastAsianLayout", "w:specVanish", "w:oMath")
_PPR_AFTER_KEEPNEXT = ("w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl", "w:numPr",
                       "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens",
                       "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE",
                       "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
                       "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                       "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl",
                       "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")
_PPR_AFTER_SPACING = _PPR_AFTER_KEEPNEXT[_PPR_AFTER_KEEPNEXT.index("w:ind"):]
_PPR_AFTER_IND = _PPR_AFTER_KEEPNEXT[_PPR_AFTER_KEEPNEXT.index("w:contextualSpacing"):]


def _style_of(p) -> str:
    p_pr = p.pPr
    if p_pr is None or p_pr.pStyle is None:
        return "Normal"
    return p_pr.pStyle.val


def _text_of(p) -> str:
    return "".join(t.text or "" for t in p.iter(qn("w:t")))


def _set_child(parent, tag: str, successors: tuple[str, ...], **attrs) -> None:
    el = parent.find(qn(tag))
    if el is None:
        el = OxmlElement(tag)
        parent.insert_element_before(el, *successors)
    for k, v in attrs.items():
        el.set(qn(f"w:{k}"), str(v))


def _set_ind(p, **attrs) -> None:
    p_pr = p.get_or_add_pPr()
    old = p_pr.find(qn("w:ind"))
    if old is not None:
        p_pr.remove(old)
    _set_child(p_pr, "w:ind", _PPR_AFTER_IND, **attrs)


def _set_jc(p, value: str) -> None:
    p_pr = p.get_or_add_pPr()
    _set_child(p_pr, "w:jc", ("w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl",
                              "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange"), val=value)


def _keep_next(p) -> None:
    p_pr = p.get_or_add_pPr()
    if p_pr.find(qn("w:keepNext")) is None:
        p_pr.insert_element_before(OxmlElement("w:keepNext"), *_PPR_AFTER_KEEPNEXT)


def fit_mark(paragraphs: list) -> None:
    """Compress the 发文机关标志 horizontally (character scale) so that it fits MARK_MAX_WIDTH_MM."""
    for p in paragraphs:
        if _style_of(p) not in ("GwMark", "GwLetterHead") or p.getparent().tag == qn("w:tc"):
            continue                  # a joint 标志's names are fitted together (fit_joint_mark)
        text = _text_of(p)
        if not text:
            continue
        natural_mm = L.text_width_twips(text, L.MARK_SIZE, 0) / 20 * L.MM_PER_PT
        scale = min(100, math.floor(L.MARK_MAX_WIDTH_MM / natural_mm * 100))
        if scale < L.MARK_MIN_SCALE:
            raise TemplateError(f"发文机关标志「{text}」过长，压缩到 {L.MARK_MIN_SCALE}% 仍超出版心，请在配置中使用规范简称")
        if scale == 100:
            continue
        for run in p.iter(qn("w:r")):
            if run.find(qn("w:t")) is None:
                continue
            r_pr = run.get_or_add_rPr()
            _set_child(r_pr, "w:w", _RPR_SUCCESSORS, val=scale)


def fit_signature(paragraphs: list) -> None:
    """署名 over 成文日期. Sealed (7.3.5.1): both centred on the axis where the date ends 右空四字.
    Unsealed (7.3.5.2): 署名 右空二字, the date's first character two characters right of the
    署名's; a date longer than that goes 右空二字 and the 署名 moves left to keep the offset."""
    styles = [_style_of(p) for p in paragraphs]
    for sig_style, date_style in (("GwSignature", "GwDate"), ("GwSignatureFree", "GwDateFree")):
        if sig_style not in styles or date_style not in styles:
            continue
        sigs = [p for p, st in zip(paragraphs, styles) if st == sig_style]
        sig = sigs[0]
        date = paragraphs[styles.index(date_style)]
        w_sig, w_date = max(L.text_width_twips(_text_of(q)) for q in sigs), L.text_width_twips(_text_of(date))
        area = L.TYPE_AREA_WIDTH_TWIPS
        if sig_style == "GwSignature":
            left = L.sealed_block_left(w_date)
            for q in (sig, date):
                _set_ind(q, left=left, right=0, firstLine=0)
                _set_jc(q, "center")
        else:
            # 联合行文 without seals (7.3.5.2): the 主办机关's 署名 first, the others below it,
            # aligned; the longest ends 右空二字.
            sig_left = area - L.chars(L.UNSEALED_RIGHT_INDENT_CHARS) - w_sig
            date_left = sig_left + L.chars(2)
            if date_left + w_date > area - L.chars(L.UNSEALED_RIGHT_INDENT_CHARS):
                date_left = area - L.chars(L.UNSEALED_RIGHT_INDENT_CHARS) - w_date
                sig_left = date_left - L.chars(2)
            for q in sigs:
                _set_ind(q, left=max(0, sig_left), right=0, firstLine=0)
            _set_ind(date, left=max(0, date_left), right=0, firstLine=0)


def fit_attachment_note(paragraphs: list) -> None:
    """附件说明 entries: the names' first characters aligned, whatever the width of "1." … "12."."""
    notes = [p for p in paragraphs if _style_of(p) in ("GwAttachNote", "GwAttachNoteMore")]
    if not notes:
        return
    nums = []
    for p in notes:
        text = _text_of(p).removeprefix("附件：")
        m = re.match(r"^\d+\.", text)
        nums.append(m.group(0) if m else "")
    slot = max(L.text_width_twips(n) for n in nums)
    left = L.chars(5) + slot
    for p, num in zip(notes, nums):
        first = _style_of(p) == "GwAttachNote"
        hanging = (L.chars(3) if first else 0) + L.text_width_twips(num) + (slot - L.text_width_twips(num))
        _set_ind(p, left=left, right=0, hanging=hanging)


def _cut_runs(p, lo: int, hi: int) -> None:
    """Keep only the characters lo..hi of the paragraph's text (runs outside are removed)."""
    pos = 0
    for run in [r for r in p.iter(qn("w:r")) if r.find(qn("w:t")) is not None]:
        t = run.find(qn("w:t"))
        text = t.text or ""
        a, b = max(lo, pos), min(hi, pos + len(text))
        if a >= b:
            run.getparent().remove(run)
        else:
            t.text = text[a - pos:b - pos]
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        pos += len(text)


def _unsquashed(text: str, k: int) -> int:
    """The index in ``text`` of its k-th character not counting white space."""
    seen = 0
    for i, ch in enumerate(text):
        if seen == k:
            return i
        if not _SPACE.match(ch):
            seen += 1
    return len(text)


def _cut(p, k: int):
    """Cut paragraph ``p`` before its k-th non-blank character: the rest becomes a continuation
    paragraph (same style, no first-line indent), inserted after ``p`` and returned; None when the
    paragraph's runs cannot be cut cleanly (a line break or several texts in one run)."""
    runs = [r for r in p.iter(qn("w:r")) if r.find(qn("w:t")) is not None]
    if not runs or any(len(r.findall(qn("w:t"))) != 1 or r.find(qn("w:br")) is not None for r in runs):
        return None
    text = _text_of(p)
    cut = _unsquashed(text, k)
    if not 0 < cut < len(text):
        return None
    tail = copy.deepcopy(p)
    _cut_runs(p, 0, cut)
    _cut_runs(tail, cut, len(text))
    _set_ind(tail, left=0, right=0, firstLine=0)
    # The cut is where LibreOffice broke the line: the lines above it stay as they were, even a
    # single one (widow/orphan control would otherwise send it along and empty the page's foot).
    _no_widow_control(p)
    p.addnext(tail)
    return tail


def _no_widow_control(p) -> None:
    p_pr = p.get_or_add_pPr()
    if p_pr.find(qn("w:widowControl")) is None:
        p_pr.insert_element_before(OxmlElement("w:widowControl"), *_PPR_AFTER_KEEPNEXT[3:])
    p_pr.find(qn("w:widowControl")).set(qn("w:val"), "0")


def fit_heading_keeps(paragraphs: list) -> None:
    """A heading (kept with what follows) needs one line of the paragraph under it on its page
    (标题不背题), not the two that widow/orphan control asks of a paragraph: with two, a heading of
    two lines left three lines empty at the foot of a page (GB/T 9704 fills its 22 lines)."""
    styles = [_style_of(p) for p in paragraphs]
    for i in range(1, len(paragraphs)):
        if styles[i - 1] in _KEPT_HEADINGS and styles[i] == "Normal":
            _no_widow_control(paragraphs[i])


def _block_span(styles: list[str]) -> tuple[int, int, int] | None:
    """(first paragraph after the body, 署名, last paragraph kept with the 署名) of the signature
    block, or None when the document has none."""
    sigs = [i for i, s in enumerate(styles) if s in ("GwSignature", "GwSignatureFree")]
    if not sigs:
        return None
    start, sig_at = sigs[0], sigs[-1]          # 联合行文: rows of 署名, the last over the date
    while start > 0 and styles[start - 1] in ("GwBlank", "GwAttachNote", "GwAttachNoteMore"):
        start -= 1
    end = sig_at
    if sig_at + 2 < len(styles) and styles[sig_at + 2] == "GwNote":
        end = sig_at + 1          # the date stays with the 附注 under it
    return start, sig_at, end


def keep_signature_with_body(paragraphs: list, carry: str = "") -> None:
    """Chain keep-with-next from the blank line under the body through the 附件说明 and the blank
    lines to the 署名 (and the date when a 附注 follows): the block moves as one when it does not
    fit, and never starts a page halfway. The body itself is not chained — LibreOffice would move a
    whole paragraph, leaving the page before half empty — except ``carry``, the printed text of its
    last lines (Layout.carry): the paragraph holding their start is cut exactly there and the rest
    goes with the block. ``paragraphs`` (the document's top-level paragraphs) gets the new
    paragraph too."""
    styles = [_style_of(p) for p in paragraphs]
    span = _block_span(styles)
    if span is None:
        return
    start, sig_at, end = span
    if carry:
        want = _squash(carry)
        i = start
        while want and i > 0 and styles[i - 1] in _BODY_STYLES:
            i -= 1
            text = _squash(_text_of(paragraphs[i]))
            if len(want) >= len(text) and want.endswith(text):
                want = want[:len(want) - len(text)]
                continue
            if text.endswith(want):
                tail = _cut(paragraphs[i], len(text) - len(want))
                if tail is not None:
                    paragraphs.insert(i + 1, tail)
                    styles.insert(i + 1, styles[i])
                    sig_at, end = sig_at + 1, end + 1
                    i, want = i + 1, ""
            break
        if not want:
            start = i
    for p in paragraphs[start:end + 1]:
        _keep_next(p)


_BODY_STYLES = {"Normal", "GwH1", "GwH2", "GwH3", "GwH4"}
_KEPT_HEADINGS = {"GwH1", "GwH2", "GwH3"}         # keep-with-next in the templates' styles
_MAIN_STYLES = {"Normal", "GwH1", "GwH2", "GwH3", "GwH4", "GwBlank", "GwAttachNote", "GwAttachNoteMore",
                "GwSignature", "GwDate", "GwSignatureFree", "GwDateFree", "GwNote", "GwAttendance"}


def _region_start(paragraphs: list, styles: list[str], end: int, lines: tuple[str, ...]
                  ) -> tuple[int, int] | None:
    """(paragraph index, line index): where the printed ``lines`` of a page begin in the 主体 up to
    ``end`` — at the first of them that is body text (a first page starts with the 版头)."""
    main = [i for i in range(end + 1) if styles[i] in _MAIN_STYLES]
    texts = [_squash(_text_of(paragraphs[i])) for i in main]
    joined = "".join(texts)
    offsets = [0]
    for t in texts:
        offsets.append(offsets[-1] + len(t))
    for k in range(len(lines)):
        rest = "".join(lines[k:])
        found = joined.rfind(rest) if rest else -1
        if found >= 0:
            return main[next(j for j in range(len(texts)) if offsets[j + 1] > found)], k
    return None


def _estimated_lines(p) -> int:
    """How many lines a paragraph of the signature block takes (its text's width over the line)."""
    text = _text_of(p)
    return max(1, math.ceil((L.text_width_twips(text) + L.chars(2)) / L.TYPE_AREA_WIDTH_TWIPS))


def _block_end(styles: list[str]) -> int | None:
    """The last paragraph of the signature block: the 成文日期, or the 附注 under it."""
    ends = [i for i, s in enumerate(styles) if s in ("GwDate", "GwDateFree", "GwNote")]
    return ends[-1] if ends else None


def _seal_gap(styles: list[str]) -> list[int]:
    """The blank lines above each sealed 署名 (row): the seals need their height."""
    gap = []
    for at in (i for i, s in enumerate(styles) if s == "GwSignature"):
        i = at
        while i > 0 and styles[i - 1] == "GwBlank":
            i -= 1
            gap.append(i)
    return sorted(gap)


def tighten(paragraphs: list, layout: Layout) -> None:
    """Layout.pitch: set the 主体 paragraphs from the one where the page in ``tighten_from``
    begins to the end of the block at that pitch (7.3.5.5 adjusts the line spacing; characters
    keep their pitch, 28 a line). The blank lines under the seal keep the standard pitch."""
    if not layout.pitch or not layout.tighten_from:
        return
    styles = [_style_of(p) for p in paragraphs]
    end = _block_end(styles)
    if end is None:
        return
    found = _region_start(paragraphs, styles, end, layout.tighten_from)
    if found is None:
        return
    fixed = set(_seal_gap(styles))
    for i in range(found[0], end + 1):
        if styles[i] not in _MAIN_STYLES or i in fixed:
            continue
        p_pr = paragraphs[i].get_or_add_pPr()
        old = p_pr.find(qn("w:spacing"))
        if old is not None:
            p_pr.remove(old)
        _set_child(p_pr, "w:spacing", _PPR_AFTER_SPACING, before=0, after=0, line=layout.pitch, lineRule="exact")


# A body paragraph that starts with a numbered heading sentence of at most this many characters
# has a run-in heading (「一、总体情况。2014年，……」); a longer first sentence is an ordinary
# numbered sentence (a 纪要's 「一、会议原则同意……。」).
RUN_IN_MAX_CHARS = 25


def run_in_lead(text: str) -> tuple[int, int] | None:
    """(heading level, length) of the run-in heading a body paragraph starts with, for the levels
    whose face differs from the body's (一、 黑体, （一） 楷体); None otherwise."""
    hit = P.heading_prefix(text)
    if not hit:
        return None
    level = int(hit[0][-1])
    end = re.search("[。！？]", text)
    if L.HEADING_FONTS[level] == L.FONT_FANGSONG or not end or end.end() > RUN_IN_MAX_CHARS or end.end() >= len(text):
        return None
    return level, end.end()


def _numbered_siblings(paragraphs: list) -> list[list]:
    """Body paragraphs that start with a 一、 or （一） number, grouped as siblings: the 一、 ones of
    the body (or of one attachment), the （一） ones under the same 一、."""
    groups: dict[tuple, list] = {}
    section = parent = 0
    for p in paragraphs:
        style = _style_of(p)
        if style == "GwAttachLabel":
            section += 1
            parent += 1
        elif style == "GwH1":
            parent += 1
        if style != "Normal":
            continue
        hit = P.heading_prefix(_text_of(p))
        level = int(hit[0][-1]) if hit else 0
        if level == 1:
            groups.setdefault((1, section), []).append(p)
            parent += 1
        elif level == 2:
            groups.setdefault((2, parent), []).append(p)
    return list(groups.values())


def fit_run_in_headings(paragraphs: list) -> None:
    """Set a run-in heading in its level's face (GB/T 9704 7.3.3 gives the face by level, whether
    the heading stands on its own line or runs into the paragraph); the rest stays 仿宋. Numbered
    siblings are set alike: when one of them does not start with a short heading sentence, they are
    numbered sentences (a 纪要's 议定事项), and none is set as a heading."""
    for siblings in _numbered_siblings(paragraphs):
        leads = [run_in_lead(_text_of(p)) for p in siblings]
        if all(leads):
            for p, lead in zip(siblings, leads):
                if lead is not None:   # none is (all above)
                    _set_run_in(p, *lead)


def _set_run_in(p, level: int, k: int) -> None:
    """Split the paragraph's first run after ``k`` characters and set that part in the level's face."""
    runs = [r for r in p.iter(qn("w:r")) if r.find(qn("w:t")) is not None]
    if not runs or len(runs[0].findall(qn("w:t"))) != 1:
        return
    first, t = runs[0], runs[0].find(qn("w:t"))
    if len(t.text or "") < k:
        return                       # the heading spans runs: leave the paragraph as it is
    rest = copy.deepcopy(first)
    rest.find(qn("w:t")).text = t.text[k:]
    t.text = t.text[:k]
    for el in (t, rest.find(qn("w:t"))):
        el.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    first.addnext(rest)
    fonts = first.get_or_add_rPr().find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        first.get_or_add_rPr().insert(0, fonts)
    face = L.HEADING_FONTS[level]
    for slot in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{slot}"), face)


def fit_imprint(doc, breaks: int) -> None:
    """Layout.imprint_breaks: the 版记 (its floating table hangs on the last GwAnchor paragraph)
    onto the next page (1), or two pages on, after a blank page, in a section of its own whose two
    pages carry no page number (2; GB/T 9704 7.5)."""
    from docx.enum.section import WD_SECTION

    if breaks <= 0:
        return
    body = doc.element.body
    anchors = [p for p in body if p.tag == qn("w:p") and _style_of(p) == "GwAnchor"]
    if not anchors:
        return
    anchor = anchors[-1]
    table = anchor.getprevious()
    p_pr = anchor.get_or_add_pPr()
    if p_pr.find(qn("w:pageBreakBefore")) is None:
        p_pr.insert_element_before(OxmlElement("w:pageBreakBefore"), *_PPR_AFTER_KEEPNEXT[2:])
    if breaks == 1:
        return
    # The section so far ends in an empty paragraph, keeping its footers; the next one holds an
    # empty page and the 版记's page, with empty footers.
    first = table if table is not None and table.tag == qn("w:tbl") else anchor
    end = copy.deepcopy(anchor)
    for child in list(end):
        if child.tag != qn("w:pPr"):
            end.remove(child)
    for child in list(end.pPr):
        end.pPr.remove(child)
    end.pPr.append(copy.deepcopy(body.sectPr))
    blank = copy.deepcopy(end)
    blank.pPr.remove(blank.pPr[0])
    first.addprevious(end)
    first.addprevious(blank)
    last = doc.sections[-1]
    last.start_type = WD_SECTION.NEW_PAGE
    for ref in last._sectPr.findall(qn("w:footerReference")):
        last._sectPr.remove(ref)
    last.footer.is_linked_to_previous = False          # a new, empty footer: no page number
    last.even_page_footer.is_linked_to_previous = False


def _with_text(p, text: str):
    """A copy of paragraph ``p`` whose first text run holds ``text`` (the other runs removed)."""
    q = copy.deepcopy(p)
    runs = [r for r in q.iter(qn("w:r")) if r.find(qn("w:t")) is not None]
    for r in runs[1:]:
        r.getparent().remove(r)
    if runs:
        t = runs[0].find(qn("w:t"))
        t.text = text
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return q


def _tab_run(p):
    """A run holding a tab, with the paragraph's first run's properties."""
    run = copy.deepcopy(next(r for r in p.iter(qn("w:r")) if r.find(qn("w:t")) is not None))
    for child in list(run):
        if child.tag != qn("w:rPr"):
            run.remove(child)
    run.append(OxmlElement("w:tab"))
    return run


def _set_center_tabs(p, positions: list[int]) -> None:
    p_pr = p.get_or_add_pPr()
    old = p_pr.find(qn("w:tabs"))
    if old is not None:
        p_pr.remove(old)
    tabs = OxmlElement("w:tabs")
    for pos in positions:
        tab = OxmlElement("w:tab")
        tab.set(qn("w:val"), "center")
        tab.set(qn("w:pos"), str(pos))
        tabs.append(tab)
    p_pr.insert_element_before(tabs, *_PPR_AFTER_KEEPNEXT[_PPR_AFTER_KEEPNEXT.index("w:suppressAutoHyphens"):])


def fit_joint_mark(body, marks: list[str], suffix: str) -> None:
    """联合行文's 发文机关标志 (GB/T 9704 7.2.4): the organs' names one under another, the 主办机关
    first, set to one width (分散对齐), and 文件 to their right, centred on them vertically — a
    borderless table of one row, compressed like a single 标志 to MARK_MAX_WIDTH_MM."""
    mark = next((p for p in body if p.tag == qn("w:p") and _style_of(p) == "GwMark"), None)
    if mark is None:
        return
    factor = min(1.0, L.JOINT_MARK_MAX_LINES / len(marks))
    size = round(L.MARK_SIZE * factor * 2) / 2
    names_w = max(L.text_width_twips(m, size, 0) for m in marks)
    gap = round(size * L.TWIPS_PER_PT * L.MARK_SUFFIX_GAP_EM) if suffix else 0
    suffix_w = L.text_width_twips(suffix, size, 0) if suffix else 0
    total = names_w + gap + suffix_w
    limit = L.mm_to_twips(L.MARK_MAX_WIDTH_MM)
    scale = min(100, math.floor(limit / total * 100))
    if scale < L.MARK_MIN_SCALE:
        raise TemplateError(f"联合发文机关标志「{'、'.join(marks)}{suffix}」过长，压缩到 {L.MARK_MIN_SCALE}% "
                            "仍超出版心，请在配置中使用规范简称（co_issuers › header）")
    names_w, gap, suffix_w = (round(x * scale / 100) for x in (names_w, gap, suffix_w))
    cells = []
    paras = []
    line = round(L.MARK_LINE_TWIPS * factor)
    for i, m in enumerate(marks):
        q = _with_text(mark, m)
        if i or factor < 1:                      # the space above the 标志 only once
            _set_child(q.get_or_add_pPr(), "w:spacing", _PPR_AFTER_SPACING, before=0 if i else L.MARK_BEFORE_TWIPS,
                       after=0, line=line, lineRule="exact")
        if len(m) > 1:
            _set_jc(q, "distribute")
        paras.append(q)
    cells.append((names_w, 0, paras))
    if suffix:
        q = _with_text(mark, suffix)             # keeps the space above: centred on the names
        if factor < 1:
            _set_child(q.get_or_add_pPr(), "w:spacing", _PPR_AFTER_SPACING, before=L.MARK_BEFORE_TWIPS, after=0,
                       line=line, lineRule="exact")
        _set_jc(q, "left")
        cells.append((suffix_w + gap, gap, [q]))
    nil = "".join(f'<w:{side} w:val="nil"/>' for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    zero = "".join(f'<w:{side} w:w="0" w:type="dxa"/>' for side in ("top", "left", "bottom", "right"))
    tcs = "".join(f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>'
                  + (f'<w:tcMar><w:left w:w="{left}" w:type="dxa"/></w:tcMar>' if left else "")
                  + '<w:vAlign w:val="center"/></w:tcPr></w:tc>' for width, left, _ in cells)
    grid = "".join(f'<w:gridCol w:w="{width}"/>' for width, _, _ in cells)
    tbl = parse_xml(
        f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblW w:w="{sum(c[0] for c in cells)}" w:type="dxa"/>'
        f'<w:jc w:val="center"/><w:tblBorders>{nil}</w:tblBorders><w:tblLayout w:type="fixed"/>'
        f'<w:tblCellMar>{zero}</w:tblCellMar></w:tblPr>'
        f'<w:tblGrid>{grid}</w:tblGrid><w:tr>{tcs}</w:tr></w:tbl>')
    for tc, (_, _, ps) in zip(tbl.iter(qn("w:tc")), cells):
        for q in ps:
            for run in q.iter(qn("w:r")):
                r_pr = run.get_or_add_rPr()
                if scale < 100:
                    _set_child(r_pr, "w:w", _RPR_SUCCESSORS, val=scale)
                if factor < 1:
                    for tag in ("w:sz", "w:szCs"):
                        _set_child(r_pr, tag, _RPR_SUCCESSORS[_RPR_SUCCESSORS.index(tag) + 1:],
                                   val=round(size * 2))
            tc.append(q)
    mark.addprevious(tbl)
    mark.getparent().remove(mark)


def fit_joint_signature(paragraphs: list, organs: list[str], diameter_mm: float) -> None:
    """联合行文 with seals (GB/T 9704 7.3.5.1): the organs' 署名 in order, side by side, at most
    JOINT_PER_ROW a row, in columns a seal apart (layout.joint_columns); a later row stands under
    the last columns and is far enough below that the seals do not touch; the 成文日期 under the
    last 署名, centred on it (the last seal covers both). Each row and the date are one paragraph
    with centre tab stops. ``paragraphs`` (the document's top-level paragraphs) is updated."""
    styles = [_style_of(p) for p in paragraphs]
    if "GwSignature" not in styles or "GwDate" not in styles:
        return
    at = styles.index("GwSignature")
    sig, date = paragraphs[at], paragraphs[styles.index("GwDate")]
    blank = paragraphs[at - 1] if at and styles[at - 1] == "GwBlank" else None
    widths = [L.text_width_twips(o) for o in organs]
    columns = L.joint_columns(widths, L.text_width_twips(_text_of(date)), diameter_mm)
    per_row = len(columns)
    rows = [organs[i:i + per_row] for i in range(0, len(organs), per_row)]
    made = []
    for r, names in enumerate(rows):
        if r and blank is not None:
            made += [copy.deepcopy(blank) for _ in range(L.joint_row_gap_lines(diameter_mm))]
        row = _with_text(sig, "")
        for run in [x for x in row.iter(qn("w:r"))]:
            run.getparent().remove(run)
        for name in names:
            row.append(_tab_run(sig))
            row.append(next(x for x in _with_text(sig, name).iter(qn("w:r")) if x.find(qn("w:t")) is not None))
        _set_ind(row, left=0, right=0, firstLine=0)
        _set_jc(row, "left")
        _set_center_tabs(row, columns[per_row - len(names):])
        made.append(row)
    for q in made:
        sig.addprevious(q)
    sig.getparent().remove(sig)
    i = paragraphs.index(sig)
    paragraphs[i:i + 1] = made
    date_text = _text_of(date)
    for run in [x for x in date.iter(qn("w:r"))][1:]:
        run.getparent().remove(run)
    first = next(x for x in date.iter(qn("w:r")))
    first.addprevious(_tab_run(date))
    first.find(qn("w:t")).text = date_text
    _set_ind(date, left=0, right=0, firstLine=0)
    _set_jc(date, "left")
    _set_center_tabs(date, columns[-1:])


def fit_joint_unsealed(paragraphs: list, organs: list[str]) -> None:
    """联合行文 without seals (7.3.5.2): the 主办机关's 署名 first, the other organs' below it
    (fit_signature aligns them)."""
    styles = [_style_of(p) for p in paragraphs]
    if "GwSignatureFree" not in styles:
        return
    at = styles.index("GwSignatureFree")
    sig = paragraphs[at]
    for k, name in enumerate(organs[1:], 1):
        q = _with_text(sig, name)
        paragraphs[at + k - 1].addnext(q)
        paragraphs.insert(at + k, q)


def fit_document(doc, layout: Layout, config: Config, joint: dict | None = None) -> None:
    """Everything render_document adjusts after docxtpl has filled the template; ``joint``: the
    organs of a joint document (build_context)."""
    if joint:
        fit_joint_mark(doc.element.body, joint["marks"], joint["suffix"])
    paragraphs = list(doc.element.body.iter(qn("w:p")))
    fit_mark(paragraphs)
    fit_run_in_headings(paragraphs)
    top = [p for p in doc.element.body if p.tag == qn("w:p")]
    if joint and joint["sealed"]:
        fit_joint_signature(top, joint["organs"], joint["diameter_mm"])
    else:
        if joint:
            fit_joint_unsealed(top, joint["organs"])
        fit_signature(top)
    fit_attachment_note(top)
    fit_heading_keeps(top)
    keep_signature_with_body(top, layout.carry)
    tighten(top, layout)
    fit_imprint(doc, layout.imprint_breaks)
