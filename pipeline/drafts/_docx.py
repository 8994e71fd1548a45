"""Turn a .docx (Word or WPS, no special markup) into Items and metadata: body paragraphs and tables
in order, custom document properties (keys = the elements' Chinese names) and core properties."""
from __future__ import annotations

from lxml import etree

from ..model import Problem
from ._safety import DocxParts
from ._numbering import Numbering
from ._structure import Item
from .patterns import clean_line, group_lines

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W,
      "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
      "dc": "http://purl.org/dc/elements/1.1/",
      "op": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
      "vt": "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"}
_W = "{%s}" % W
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_V = "{urn:schemas-microsoft-com:vml}"
# Text inside these is not the paragraph's own text: deleted revisions, moved-away text, text
# boxes (their paragraphs are separate) and the duplicate fallback copy of drawings.
_SKIP = {_W + "del", _W + "moveFrom", _W + "txbxContent", MC_FALLBACK, _W + "instrText",
         _W + "delText", _W + "footnoteReference", _W + "commentReference"}


def _para_text(p: etree._Element) -> str:
    parts: list[str] = []

    def walk(el: etree._Element) -> None:
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIP:
                continue
            if tag == _W + "t":
                parts.append(child.text or "")
            elif tag == _W + "tab":
                parts.append(" ")
            elif tag in (_W + "br", _W + "cr"):
                if child.get(_W + "type") in (None, "textWrapping"):
                    parts.append("\n")
            elif tag == _W + "noBreakHyphen":
                parts.append("-")
            elif tag == _W + "pPr" or tag == _W + "rPr":
                continue
            else:
                walk(child)

    walk(p)
    return "".join(parts)


def _outside_fallback(el: etree._Element, stop: etree._Element, also: tuple[str, ...] = ()) -> bool:
    """``el`` is not inside an mc:Fallback (the duplicate copy of a drawing for old readers) — nor
    inside any of ``also`` — up to ``stop``."""
    anc = el.getparent()
    while anc is not None and anc is not stop:
        if anc.tag == MC_FALLBACK or anc.tag in also:
            return False
        anc = anc.getparent()
    return True


def _text_boxes(p: etree._Element) -> list[etree._Element]:
    """The text boxes anchored in paragraph ``p`` (outermost ones, the DrawingML copy only)."""
    return [tb for tb in p.iter(_W + "txbxContent") if _outside_fallback(tb, p, (_W + "txbxContent",))]


def _image_count(p: etree._Element) -> int:
    blips = [b for b in p.iter(_A + "blip") if _outside_fallback(b, p)]
    vml = [v for v in p.iter(_V + "imagedata") if _outside_fallback(v, p)]
    return len(blips) + len(vml)


def _label_text(p: etree._Element, numbering: Numbering, numbered: list[str], bullets: list[str]) -> str:
    """The paragraph's text with its automatic number (if any) written in front."""
    text = _para_text(p)
    label = numbering.label(p)
    if label is not None and text.strip():
        if label:
            text = label + text.lstrip()
            numbered.append(clean_line(text)[:16])
        else:                           # a bullet: a 公文 has none, nothing to write
            bullets.append(clean_line(text)[:16])
    return text


def _table_rows(tbl: etree._Element, numbering: Numbering, numbered: list[str], bullets: list[str]
                ) -> tuple[tuple[str, ...], ...]:
    rows = []
    for tr in tbl.iterfind("w:tr", NS):
        cells = []
        for tc in tr.iterfind("w:tc", NS):
            # every paragraph of the cell, those of a text box in it too — but not the text box's
            # duplicate copy for old readers (mc:Fallback)
            cells.append("\n".join(clean_line(_label_text(p, numbering, numbered, bullets))
                                   for p in tc.iterfind(".//w:p", NS) if _outside_fallback(p, tc)).strip())
        rows.append(tuple(cells))
    return tuple(rows)


def items_from(parts: DocxParts) -> tuple[list[Item], list[Problem]]:
    problems: list[Problem] = []
    body = parts.document.find("w:body", NS)
    items: list[Item] = []
    numbered: list[str] = []
    bullets: list[str] = []
    boxed: list[str] = []
    images = 0
    numbering = Numbering(parts.numbering, parts.styles)
    if body is None:
        return items, problems

    def visit(container: etree._Element) -> None:
        nonlocal images
        for el in container:
            if el.tag == _W + "p":
                text = _label_text(el, numbering, numbered, bullets)
                # A paragraph with manual line breaks (Shift+Enter) is several lines of the draft,
                # unless a break only wraps a sentence.
                lines = group_lines([clean_line(x) for x in text.split("\n")], sentence_breaks=True)
                for line in lines or [""]:
                    items.append(Item("para", line))
                images += _image_count(el)
                # A text box's text is part of the draft: read it after the paragraph it is anchored in.
                for tb in _text_boxes(el):
                    before = len(items)
                    visit(tb)
                    boxed.extend(x.text for x in items[before:] if x.text)
            elif el.tag == _W + "tbl":
                items.append(Item("table", rows=_table_rows(el, numbering, numbered, bullets)))
            elif el.tag in (_W + "sdt", _W + "sdtContent", _W + "customXml", _W + "ins", _W + "moveTo"):
                inner = el.find("w:sdtContent", NS) if el.tag == _W + "sdt" else el
                if inner is not None:   # a damaged content control may have none
                    visit(inner)

    visit(body)
    if body.find(".//w:ins", NS) is not None or body.find(".//w:del", NS) is not None:
        problems.append(Problem("正文", "文档含有未接受的修订，已按“接受全部修订”读取；请在 Word/WPS 中接受或拒绝修订后核对", "warning"))
    if numbered:
        sample = "」「".join(numbered[:3])
        problems.append(Problem("正文", f"有 {len(numbered)} 段使用了 Word/WPS 自动编号，已按编号格式写成文字序号（如「{sample}」），请核对序号", "warning"))
    if bullets:
        sample = "」「".join(bullets[:3])
        problems.append(Problem("正文", f"有 {len(bullets)} 段使用了 Word/WPS 自动编号的项目符号（如「{sample}」），公文不用项目符号，已去掉；如需序号请手工输入“一、”“（一）”等", "warning"))
    if boxed:
        sample = "」「".join(x[:20] for x in boxed[:2])
        problems.append(Problem("正文", f"文本框中的文字（「{sample}」）已作为正文段落读入，放在其所在段落之后，请核对位置", "warning"))
    if images:
        problems.append(Problem("正文", f"草稿中的 {images} 张图片不会进入公文，请改为附件或另行处理", "warning"))
    return items, problems


def properties(parts: DocxParts) -> tuple[dict, dict]:
    """(custom properties by name, selected core properties)."""
    custom: dict[str, object] = {}
    if parts.custom is not None:
        for prop in parts.custom.iterfind("op:property", NS):
            name = prop.get("name")
            if not name:
                continue
            value = next(iter(prop), None)
            if value is None:
                continue
            text = (value.text or "").strip()
            if isinstance(value.tag, str) and value.tag.endswith("}bool"):
                custom[name] = text.lower() in ("1", "true")
            else:
                custom[name] = text
    core: dict[str, str] = {}
    if parts.core is not None:
        for key, path in (("title", "dc:title"), ("category", "cp:category")):
            el = parts.core.find(path, NS)
            text = (el.text or "").strip() if el is not None else ""
            if text:
                core[key] = text
    return custom, core
