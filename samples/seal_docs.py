"""Sealed-layout 公文 bodies in GB/T 9704 geometry built with python-docx, for the seal-placement tests
and the stamp benchmark (converted by real LibreOffice there)."""
from __future__ import annotations

from pathlib import Path

from pipeline import layout as L

DIAMETER = 42.0


def build_docx(path: Path, body: list[str], *, signature: str, date: str, attach_note=(), attachments=(),
               tighten: int = 0) -> Path:
    """A sealed-layout 公文 body in GB/T 9704 geometry: margins 37/35/28/26 mm, 3号, the line pitch of
    layout.py, ``seal_gap_lines`` blank lines, the 署名 centred over a date set 右空四字, 附件 on
    new pages. ``tighten`` stands in for render.Layout(tighten=n): each step takes 1.2 pt off the
    line pitch (GB/T 9704 7.3.5.5: adjust line spacing) — three steps still leave 2 blank lines
    tall enough for the seal (3 × 25.35 pt ≥ glyph + radius)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    s = doc.sections[0]
    s.page_width, s.page_height = Mm(L.PAGE_WIDTH_MM), Mm(L.PAGE_HEIGHT_MM)
    s.top_margin, s.bottom_margin = Mm(L.MARGIN_TOP_MM), Mm(L.MARGIN_BOTTOM_MM)
    s.left_margin, s.right_margin = Mm(L.MARGIN_LEFT_MM), Mm(L.MARGIN_RIGHT_MM)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(L.SIZE_3)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), L.FONT_FANGSONG)
    pf = normal.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(L.LINE_PITCH_PT - 1.2 * tighten)
    pf.space_before = pf.space_after = Pt(0)

    def para(text="", align=None, first=None, right=None, left=None, font=L.FONT_FANGSONG, new_page=False):
        p = doc.add_paragraph()
        if align is not None:
            p.alignment = align
        fmt = p.paragraph_format
        if first is not None:
            fmt.first_line_indent = Pt(first)
        if right is not None:
            fmt.right_indent = Pt(right)
        if left is not None:
            fmt.left_indent = Pt(left)
        fmt.page_break_before = new_page
        if text:
            run = p.add_run(text)
            run.font.name = font
            run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
        return p

    width = L.mm_to_pt(L.TYPE_AREA_WIDTH_MM)
    para("关于印章位置测试的通知", WD_ALIGN_PARAGRAPH.CENTER, font=L.FONT_XIAOBIAOSONG)
    para()
    para("各镇人民政府，区政府各部门：")
    for t in body:
        para(t, first=2 * L.SIZE_3)
    if attach_note:
        para()
        for t in attach_note:
            para(t, first=2 * L.SIZE_3)
    for _ in range(L.seal_gap_lines(DIAMETER)):
        para()
    # The 署名 centred over the date: a centred paragraph in a band symmetric about the date's
    # centre (the date's width estimated; LibreOffice adds a little space between CJK and digits).
    right = L.DATE_RIGHT_INDENT_CHARS * L.SIZE_3
    date_w = sum(11 if c.isdigit() else L.SIZE_3 for c in date)
    half = max(date_w, L.SIZE_3 * len(signature)) / 2 + L.SIZE_3
    axis = right + date_w / 2                  # the date's centre, from the right margin
    para(signature, WD_ALIGN_PARAGRAPH.CENTER, right=axis - half, left=width - axis - half)
    para(date, WD_ALIGN_PARAGRAPH.RIGHT, right=right)
    for head, title, lines in attachments:
        para(head, font=L.FONT_HEITI, new_page=True)
        para()
        para(title, WD_ALIGN_PARAGRAPH.CENTER, font=L.FONT_XIAOBIAOSONG)
        for t in lines:
            para(t, first=2 * L.SIZE_3)
    doc.save(path)
    return path


SHORT = dict(body=["为做好印章位置测试工作，现将有关事项通知如下。", "一、测试范围为区政府各部门。",
                   "二、请于本月底前完成。"], signature="珠晖区人民政府", date="2015年3月20日")
# Title, blank, 主送 and 17 one-line paragraphs fill lines 1–20; the two blank lines take 21–22,
# so at the standard pitch the 署名 and date land alone on page 2.
BOTTOM = dict(body=[f"第{i + 1}项工作按照区政府统一部署推进落实。" for i in range(17)],
              signature="珠晖区人民政府", date="2015年3月20日")
ATTACH = dict(body=["现将《珠晖区印章测试名单》和《珠晖区印章测试安排表》印发给你们，请认真贯彻执行。"],
              signature="珠晖区人民政府办公室", date="2015年12月3日",
              attach_note=["附件：1.珠晖区印章测试名单", "　　　2.珠晖区印章测试安排表"],
              attachments=[("附件1", "珠晖区印章测试名单", ["区政府办公室。"] * 3),
                           ("附件2", "珠晖区印章测试安排表", ["三月底前完成。"] * 3)])
