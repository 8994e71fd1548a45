"""Turn a .docx (Word or WPS, no special markup) into Items and metadata: body paragraphs and tables
in order, custom document properties (keys = the elements' Chinese names) and core properties."""
from __future__ import annotations

from lxml import etree

from ..model import Problem
from ._safety import DocxParts
from ._structure import Item
from .patterns import clean_line

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W,
      "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
      "dc": "http://purl.org/dc/elements/1.1/",
      "op": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
      "vt": "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"}
_W = "{%s}" % W
MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
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


def _table_rows(tbl: etree._Element) -> tuple[tuple[str, ...], ...]:
    rows = []
    for tr in tbl.iterfind("w:tr", NS):
        cells = []
        for tc in tr.iterfind("w:tc", NS):
            cells.append("\n".join(clean_line(_para_text(p)) for p in tc.iterfind(".//w:p", NS)).strip())
        rows.append(tuple(cells))
    return tuple(rows)


def items_from(parts: DocxParts) -> tuple[list[Item], list[Problem]]:
    problems: list[Problem] = []
    body = parts.document.find("w:body", NS)
    items: list[Item] = []
    numbered: list[str] = []
    if body is None:
        return items, problems

    def visit(container: etree._Element) -> None:
        for el in container:
            if el.tag == _W + "p":
                text = _para_text(el)
                # A paragraph with manual line breaks is several lines of the draft.
                for line in text.split("\n"):
                    items.append(Item("para", clean_line(line)))
                if el.find("w:pPr/w:numPr", NS) is not None and text.strip():
                    numbered.append(clean_line(text)[:16])
            elif el.tag == _W + "tbl":
                items.append(Item("table", rows=_table_rows(el)))
            elif el.tag in (_W + "sdt", _W + "sdtContent", _W + "customXml", _W + "ins", _W + "moveTo"):
                visit(el.find("w:sdtContent", NS) if el.tag == _W + "sdt" else el)

    visit(body)
    if body.find(".//w:ins", NS) is not None or body.find(".//w:del", NS) is not None:
        problems.append(Problem("正文", "文档含有未接受的修订，已按“接受全部修订”读取；请在 Word/WPS 中接受或拒绝修订后核对", "warning"))
    if numbered:
        sample = "」「".join(numbered[:3])
        problems.append(Problem("正文", f"有 {len(numbered)} 段使用了 Word/WPS 自动编号（如「{sample}」），自动生成的编号不会出现在公文中，请改为手工输入“一、”“（一）”等序号", "warning"))
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
            if value.tag.endswith("}bool"):
                custom[name] = text.lower() in ("1", "true")
            else:
                custom[name] = text
    core: dict[str, str] = {}
    if parts.core is not None:
        for key, path in (("title", "dc:title"), ("category", "cp:category")):
            el = parts.core.find(path, NS)
            if el is not None and (el.text or "").strip():
                core[key] = el.text.strip()
    return custom, core
