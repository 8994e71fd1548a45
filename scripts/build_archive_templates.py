"""Write the year-end .docx templates into templates/: 归档文件目录, 备考表, 检测报告, 移交登记表.

Run: .venv/bin/python scripts/build_archive_templates.py [--out DIR]

The templates are plain Word documents with docxtpl (Jinja) tags, editable in Word/WPS as long as the
tags are kept; gongwen fills them with ``render.render_template`` and converts them with LibreOffice.
Font names are the office's own (仿宋_GB2312, 黑体, 方正小标宋简体; fonts/fonts.conf maps them on Linux).
Building them from code keeps every tag in one run (Word splits typed tags across runs) and makes the
layout reviewable in a diff.

Context each template expects (pipeline/yearend/catalogue.py and report.py build it):
- 归档文件目录: cover {fonds, fonds_name, year, retention, unit}, title, rows [{seq, code, number,
  author, title, date, secrecy, pages, note}]
- 备考表: cover (as above), label, remarks, arranger, arranged_on, checker, checked_on
- 检测报告: head {…}, items [{no, code, prop, name, result, checked, detail}], failures [{no, item, ident,
  file, message}], verdict, notes
- 移交登记表: form {…} (see report.handover_form)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline import layout  # noqa: E402

TITLE_FONT = layout.FONT_XIAOBIAOSONG
BODY_FONT = layout.FONT_FANGSONG
HEAD_FONT = layout.FONT_HEITI


def _font(run, name: str, size: float, bold: bool = False) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    rfonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:eastAsia", "w:ascii", "w:hAnsi"):
        rfonts.set(qn(attr), name)


def _para(container, text: str = "", *, font: str = BODY_FONT, size: float = 12, bold: bool = False,
          align=None, space_after: float = 0):
    p = container.add_paragraph()
    if text:
        _font(p.add_run(text), font, size, bold)
    if align is not None:
        p.alignment = align
    p.paragraph_format.space_after = Pt(space_after)
    p.paragraph_format.space_before = Pt(0)
    return p


def _cell(cell, text: str, *, font: str = BODY_FONT, size: float = 10.5, bold: bool = False,
          align=WD_ALIGN_PARAGRAPH.CENTER) -> None:
    cell.text = ""
    p = cell.paragraphs[0]
    _font(p.add_run(text), font, size, bold)
    p.alignment = align
    p.paragraph_format.space_after = Pt(0)


def _borders(table, size_eighths: int = 4) -> None:
    """Single black borders on every cell edge (the 目录 is printed and bound)."""
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), str(size_eighths))
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")
        borders.append(el)
    tbl_pr.append(borders)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _widths(table, mm: list[float]) -> None:
    """Fixed column widths: the grid (what LibreOffice reads) and every cell (what Word reads)."""
    table.autofit = False
    layout_el = OxmlElement("w:tblLayout")
    layout_el.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout_el)
    for col, w in zip(table.columns, mm):
        col.width = Mm(w)
    for row in table.rows:
        for cell, w in zip(row.cells, mm):
            cell.width = Mm(w)


def _page_number_footer(section, size: float = 10.5) -> None:
    """第 N 页 in the footer, with a PAGE field LibreOffice fills in."""
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run("第 "), BODY_FONT, size)
    run = p.add_run()
    _font(run, BODY_FONT, size)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            fc = OxmlElement("w:fldChar")
            fc.set(qn("w:fldCharType"), kind)
            run._r.append(fc)
        else:
            t = OxmlElement("w:instrText" if text.strip() == "PAGE" else "w:t")
            t.set(qn("xml:space"), "preserve")
            t.text = text
            run._r.append(t)
    _font(p.add_run(" 页"), BODY_FONT, size)


def _a4(section, landscape: bool) -> None:
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin = Mm(25)
    section.right_margin = Mm(20)


def _new() -> Document:
    doc = Document()
    style = doc.styles["Normal"]
    _font_style = style.font
    _font_style.name = BODY_FONT
    _font_style.size = Pt(12)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    return doc


def _loop_rows(table, var: str, item: str, cells: list[str], *, size: float = 10.5,
               aligns: list | None = None) -> None:
    """Three rows: {%tr for %}, the data row, {%tr endfor %} (docxtpl removes the tag rows)."""
    n = len(cells)
    start = table.add_row()
    _cell(start.cells[0], f"{{%tr for {item} in {var} %}}", size=size)
    data = table.add_row()
    for i, text in enumerate(cells):
        _cell(data.cells[i], text, size=size, align=(aligns[i] if aligns else WD_ALIGN_PARAGRAPH.CENTER))
    end = table.add_row()
    _cell(end.cells[0], "{%tr endfor %}", size=size)
    assert len(data.cells) == n


# --- 归档文件目录 ---------------------------------------------------------------------------------

# Widths in mm add up to the 252 mm between the landscape margins (297 − 25 − 20).
CATALOGUE_COLS = [("序号", 10, "r.seq"), ("档号", 52, "r.code"), ("文号", 40, "r.number"),
                  ("责任者", 30, "r.author"), ("题名", 62, "r.title"), ("日期", 20, "r.date"),
                  ("密级", 10, "r.secrecy"), ("页数", 10, "r.pages"), ("备注", 18, "r.note")]


def catalogue(out: Path) -> Path:
    doc = _new()
    sec = doc.sections[0]
    _a4(sec, landscape=True)
    # Cover (standards.md §3.9): 全宗号, 全宗名称, 年度, 保管期限, 机构（问题）.
    for _ in range(3):
        _para(doc)
    _para(doc, "归档文件目录", font=TITLE_FONT, size=36, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=36)
    cover = doc.add_table(rows=5, cols=2)
    cover.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row, (label, tag) in zip(cover.rows, [("全 宗 号", "cover.fonds"), ("全宗名称", "cover.fonds_name"),
                                              ("年　　度", "cover.year"), ("保管期限", "cover.retention"),
                                              ("机构（问题）", "cover.unit")]):
        _cell(row.cells[0], label, font=HEAD_FONT, size=16)
        _cell(row.cells[1], f"{{{{ {tag} }}}}", size=16, align=WD_ALIGN_PARAGRAPH.LEFT)
        row.height = Mm(14)
    _widths(cover, [45, 120])
    _borders(cover, 6)
    p = _para(doc)
    p.add_run().add_break(WD_BREAK.PAGE)
    # The list: one row per 件 in 档号 order; the heading row repeats on every page.
    _para(doc, "归档文件目录", font=TITLE_FONT, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=4)
    _para(doc, "{{ title }}", size=12, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    t = doc.add_table(rows=1, cols=len(CATALOGUE_COLS))
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, (name, _, _) in zip(t.rows[0].cells, CATALOGUE_COLS):
        _cell(cell, name, font=HEAD_FONT, size=11)
    _repeat_header(t.rows[0])
    left = WD_ALIGN_PARAGRAPH.LEFT
    centre = WD_ALIGN_PARAGRAPH.CENTER
    _loop_rows(t, "rows", "r", [f"{{{{ {tag} }}}}" for _, _, tag in CATALOGUE_COLS], size=10,
               aligns=[centre, centre, centre, left, left, centre, centre, centre, left])
    _widths(t, [w for _, w, _ in CATALOGUE_COLS])
    _borders(t)
    _page_number_footer(sec)
    doc.save(out)
    return out


# --- 备考表 ----------------------------------------------------------------------------------------

def remarks(out: Path) -> Path:
    doc = _new()
    sec = doc.sections[0]
    _a4(sec, landscape=False)
    _para(doc, "备　考　表", font=TITLE_FONT, size=26, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=6)
    _para(doc, "{{ label }}", size=12, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=12)
    t = doc.add_table(rows=5, cols=2)
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    rows = [("盒内文件情况说明", "{{ remarks }}"), ("整 理 人", "{{ arranger }}"), ("整理日期", "{{ arranged_on }}"),
            ("检 查 人", "{{ checker }}"), ("检查日期", "{{ checked_on }}")]
    for row, (label, tag) in zip(t.rows, rows):
        _cell(row.cells[0], label, font=HEAD_FONT, size=14)
        _cell(row.cells[1], tag, size=14, align=WD_ALIGN_PARAGRAPH.LEFT)
        row.height = Mm(16)
    t.rows[0].height = Mm(150)
    _widths(t, [40, 125])
    _borders(t, 6)
    doc.save(out)
    return out


# --- 检测报告 --------------------------------------------------------------------------------------

def check_report(out: Path) -> Path:
    doc = _new()
    sec = doc.sections[0]
    _a4(sec, landscape=True)
    _para(doc, "电子档案四性检测报告", font=TITLE_FONT, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=4)
    _para(doc, "（依据 DA/T 70—2018《文书类电子档案检测一般要求》{{ head.stage }}）", size=12,
          align=WD_ALIGN_PARAGRAPH.CENTER, space_after=8)
    head = doc.add_table(rows=4, cols=4)
    cells = [("全宗号", "{{ head.fonds }}", "全宗名称", "{{ head.fonds_name }}"),
             ("检测对象", "{{ head.subject }}", "检测范围", "{{ head.scope }}"),
             ("检测时间", "{{ head.time }}", "检测人", "{{ head.actor }}"),
             ("检测软件", "{{ head.software }}", "结论", "{{ verdict }}")]
    for row, vals in zip(head.rows, cells):
        for i, v in enumerate(vals):
            _cell(row.cells[i], v, font=HEAD_FONT if i % 2 == 0 else BODY_FONT, size=11,
                  align=WD_ALIGN_PARAGRAPH.CENTER if i % 2 == 0 else WD_ALIGN_PARAGRAPH.LEFT)
    _widths(head, [28, 95, 28, 96])
    _borders(head)
    _para(doc, "一、检测项目与结果", font=HEAD_FONT, size=14, space_after=4).paragraph_format.space_before = Pt(10)
    cols = [("序号", 12, "i.no"), ("编号", 22, "i.code"), ("性质", 16, "i.prop"), ("检测项目", 62, "i.name"),
            ("结果", 18, "i.result"), ("检测数", 17, "i.checked"), ("说明", 100, "i.detail")]
    t = doc.add_table(rows=1, cols=len(cols))
    for cell, (name, _, _) in zip(t.rows[0].cells, cols):
        _cell(cell, name, font=HEAD_FONT, size=11)
    _repeat_header(t.rows[0])
    left, centre = WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.CENTER
    _loop_rows(t, "items", "i", [f"{{{{ {tag} }}}}" for _, _, tag in cols], size=10,
               aligns=[centre, centre, centre, left, centre, centre, left])
    _widths(t, [w for _, w, _ in cols])
    _borders(t)
    _para(doc, "二、未通过的文件", font=HEAD_FONT, size=14, space_after=4).paragraph_format.space_before = Pt(10)
    cols = [("序号", 12, "f.no"), ("检测项目", 55, "f.item"), ("档号或文号", 55, "f.ident"), ("文件", 30, "f.file"),
            ("问题", 95, "f.message")]
    t = doc.add_table(rows=1, cols=len(cols))
    for cell, (name, _, _) in zip(t.rows[0].cells, cols):
        _cell(cell, name, font=HEAD_FONT, size=11)
    _repeat_header(t.rows[0])
    _loop_rows(t, "failures", "f", [f"{{{{ {tag} }}}}" for _, _, tag in cols], size=10,
               aligns=[centre, left, left, left, left])
    _widths(t, [w for _, w, _ in cols])
    _borders(t)
    _para(doc, "三、说明", font=HEAD_FONT, size=14, space_after=4).paragraph_format.space_before = Pt(10)
    _para(doc, "{{ notes }}", size=11)
    _page_number_footer(sec)
    doc.save(out)
    return out


# --- 电子档案移交与接收登记表 ------------------------------------------------------------------------

def handover_form(out: Path) -> Path:
    doc = _new()
    sec = doc.sections[0]
    _a4(sec, landscape=False)
    _para(doc, "电子档案移交与接收登记表", font=TITLE_FONT, size=22, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=4)
    _para(doc, "{{ form.forced }}", font=HEAD_FONT, size=12, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=8)
    rows = [("交接工作名称", "{{ form.name }}"), ("内容描述", "{{ form.description }}"),
            ("移交电子档案数量", "{{ form.count }}"), ("移交数据量", "{{ form.volume }}"),
            ("载体起止顺序号", "{{ form.carrier_seq }}"), ("移交载体类型、规格", "{{ form.carrier }}"),
            ("准确性检验", "{{ form.accuracy }}"), ("完整性检验", "{{ form.integrity }}"),
            ("可用性检验", "{{ form.usability }}"), ("安全性检验", "{{ form.security }}"),
            ("载体外观检验", "{{ form.carrier_check }}"), ("数字摘要", "{{ form.digest }}")]
    t = doc.add_table(rows=len(rows), cols=2)
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row, (label, tag) in zip(t.rows, rows):
        _cell(row.cells[0], label, font=HEAD_FONT, size=12)
        _cell(row.cells[1], tag, size=11, align=WD_ALIGN_PARAGRAPH.LEFT)
        row.height = Mm(9)
    _widths(t, [45, 120])
    _borders(t, 6)
    _para(doc, space_after=6)
    sign = doc.add_table(rows=5, cols=4)
    sign.alignment = WD_TABLE_ALIGNMENT.CENTER
    heads = ("移交单位", "{{ form.from_unit }}", "接收单位", "{{ form.to_unit }}")
    for i, v in enumerate(heads):
        _cell(sign.rows[0].cells[i], v, font=HEAD_FONT if i % 2 == 0 else BODY_FONT, size=11)
    for row, label in zip(sign.rows[1:], ("填表人（签名）", "审核人（签名）", "日　　期", "单位（印章）")):
        _cell(row.cells[0], label, font=HEAD_FONT, size=11)
        _cell(row.cells[2], label, font=HEAD_FONT, size=11)
        row.height = Mm(11)
    _cell(sign.rows[3].cells[1], "{{ form.date }}", size=12)
    _widths(sign, [32, 50, 32, 51])
    _borders(sign, 6)
    doc.save(out)
    return out


BUILDERS = {"归档文件目录": catalogue, "备考表": remarks, "检测报告": check_report, "移交登记表": handover_form}


def build_with(builders: dict, out_dir: Path) -> list[Path]:
    """Write ``<name>.docx`` for each builder into ``out_dir`` (also used by the other template scripts)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [fn(out_dir / f"{name}.docx") for name, fn in builders.items()]


def main_with(builders: dict, doc: str, argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "templates", help="folder to write into (default: templates/)")
    args = ap.parse_args(argv)
    for p in build_with(builders, args.out):
        print(p)
    return 0


def build(out_dir: Path) -> list[Path]:
    return build_with(BUILDERS, out_dir)


def main(argv: list[str] | None = None) -> int:
    return main_with(BUILDERS, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
