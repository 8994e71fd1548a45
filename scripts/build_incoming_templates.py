"""Write the 收文处理笺 template (文件处理单 for a received document) into templates/.

Run: .venv/bin/python scripts/build_incoming_templates.py [--out DIR]

A GB/T 9704-like form: A4, the 版心 of layout.py (37/28 mm margins, 156 × 225 mm), the title in
方正小标宋 2号 red as a 版头, a red rule, then one table with the 收文 data and the handling fields in
仿宋 and 黑体 labels; the 批示 row is tall enough to write on by hand when the paper copy goes to a
leader. Built from code like scripts/build_archive_templates.py (whose helpers it uses), so the tags
stay in one run and the layout is reviewable in a diff.

Context (pipeline/incoming/slip.py builds it): org, ref, received, sender, number, secrecy, urgency,
copies, deadline, title, attachments, opinion, opinion_by, instructions [{text, leader, date,
supervise}], lead_unit, circulation, result, reply, done, note.
"""
from __future__ import annotations

import sys
from pathlib import Path

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline import layout  # noqa: E402
from scripts.build_archive_templates import (BODY_FONT, HEAD_FONT, TITLE_FONT, _borders, _cell, _font,  # noqa: E402
                                             _new, _para, _widths, build_with, main_with)

NAME = "收文处理笺"


def _red_rule(paragraph) -> None:
    """A red line under the title, drawn as the paragraph's bottom border (LibreOffice and Word)."""
    p_pr = paragraph._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    bottom.set(qn("w:val"), "single")
    bottom.set(qn("w:sz"), str(int(layout.RED_RULE_MM / 25.4 * 72 * 8)))   # eighths of a point
    bottom.set(qn("w:space"), "6")
    bottom.set(qn("w:color"), layout.RED)
    bdr.append(bottom)
    p_pr.append(bdr)


def slip(out: Path) -> Path:
    doc = _new()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(layout.PAGE_WIDTH_MM), Mm(layout.PAGE_HEIGHT_MM)
    sec.top_margin, sec.bottom_margin = Mm(layout.MARGIN_TOP_MM - 12), Mm(layout.MARGIN_BOTTOM_MM - 12)
    sec.left_margin, sec.right_margin = Mm(layout.MARGIN_LEFT_MM), Mm(layout.MARGIN_RIGHT_MM)
    title = _para(doc, "", align=WD_ALIGN_PARAGRAPH.CENTER, space_after=10)
    run = title.add_run("{{ org }}收文处理笺")
    _font(run, TITLE_FONT, 22)
    run.font.color.rgb = RGBColor.from_string(layout.RED)
    _red_rule(title)
    line = _para(doc, "", align=WD_ALIGN_PARAGRAPH.LEFT, space_after=6)
    for text, font in (("收文号：", HEAD_FONT), ("{{ ref }}", BODY_FONT), ("　　收文时间：", HEAD_FONT),
                       ("{{ received }}", BODY_FONT)):
        _font(line.add_run(text), font, 14)
    # (label, value, label, value) rows; a row with one pair spans the table.
    rows = [
        ("来文机关", "{{ sender }}", "来文字号", "{{ number }}"),
        ("密　　级", "{{ secrecy }}", "紧急程度", "{{ urgency }}"),
        ("份　　数", "{{ copies }}", "办理时限", "{{ deadline }}"),
        ("标　　题", "{{ title }}"),
        ("附　　件", "{{ attachments }}"),
        ("拟办意见", "{{ opinion }}\n{{ opinion_by }}"),
        # The first (empty) paragraph keeps the cell valid when there is no 批示 yet.
        ("领导批示", "\n{%p for i in instructions %}\n{{ i.text }}\n{{ i.leader }}　{{ i.date }}{{ i.supervise }}\n{%p endfor %}"),
        ("承办单位", "{{ lead_unit }}"),
        ("传阅情况", "{{ circulation }}"),
        ("办理结果", "{{ result }}"),
        ("复 文 号", "{{ reply }}", "办结日期", "{{ done }}"),
        ("备　　注", "{{ note }}"),
    ]
    widths = [26, 52, 26, 52]
    t = doc.add_table(rows=len(rows), cols=4)
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    # Heights in mm: the whole form stays on one page (the 版心 is 225 mm high).
    heights = {"标　　题": 14, "拟办意见": 26, "领导批示": 50, "传阅情况": 14, "办理结果": 20}
    for row, spec in zip(t.rows, rows):
        _cell(row.cells[0], spec[0], font=HEAD_FONT, size=14)
        if len(spec) == 4:
            _value(row.cells[1], spec[1])
            _cell(row.cells[2], spec[2], font=HEAD_FONT, size=14)
            _value(row.cells[3], spec[3])
            row.height = Mm(10)
        else:
            merged = row.cells[1].merge(row.cells[3])
            _value(merged, spec[1])
            row.height = Mm(heights.get(spec[0], 10))
    _widths(t, widths)
    _borders(t, 6)
    doc.save(out)
    return out


def _value(cell, text: str) -> None:
    """A value cell: 仿宋 3号-like 14 pt, left aligned; lines of the tag text become paragraphs."""
    cell.text = ""
    first = True
    for line in text.split("\n"):
        p = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        if line:
            _font(p.add_run(line), BODY_FONT, 14)
        p.alignment = WD_ALIGN_PARAGRAPH.LEFT
        p.paragraph_format.space_after = Pt(0)


BUILDERS = {NAME: slip}


def build(out_dir: Path) -> list[Path]:
    return build_with(BUILDERS, out_dir)


if __name__ == "__main__":
    sys.exit(main_with(BUILDERS, __doc__))
