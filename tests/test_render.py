"""render.py on real templates and real .docx files: read back with python-docx, no LibreOffice."""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Emu
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import layout as L
from pipeline import render
from pipeline.config import load
from pipeline.errors import TemplateError
from pipeline.model import Block
from samples import render_drafts as D
from tests.conftest import REPO, shared_path, write_instance

MM = 36000  # EMU per mm


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    root = tmp_path_factory.mktemp("render")
    return load(write_instance(root / "instance", **D.unsealed_config_overrides(REPO / "config.yaml")))


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("render-out")


@pytest.fixture(scope="module")
def docs(cfg, out):
    """The four templates rendered once: {name: (path, Document)}."""
    made = {}
    for name, draft, num in (("下行文", D.notice(), D.number()),
                             ("上行文", D.request(), D.number(seq=4)),
                             ("信函", D.letter(), D.number("珠政函", 5)),
                             ("纪要", D.minutes(), D.minutes_number())):
        path = render.render_document(draft, num, cfg, out / f"{name}.docx")
        made[name] = (path, Document(str(path)))
    return made


def styles_by_id(doc):
    return {s.style_id: s for s in doc.styles}


def paragraphs(doc, style_id: str):
    return [p for p in doc.paragraphs if p.style.style_id == style_id]


def all_text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts.extend(c.text for c in row.cells)
    for s in doc.sections:
        for part in (s.first_page_header, s.footer, s.even_page_footer):
            parts.extend(p.text for p in part.paragraphs)
    return "\n".join(parts)


def east_asia(run_or_style_element) -> str | None:
    rpr = run_or_style_element.find(qn("w:rPr"))
    fonts = rpr.find(qn("w:rFonts")) if rpr is not None else None
    return fonts.get(qn("w:eastAsia")) if fonts is not None else None


# --- which template ------------------------------------------------------------------------------------

def test_template_for_each_format(cfg):
    assert render.template_for(D.notice(), cfg) == "下行文"
    assert render.template_for(D.request(), cfg) == "上行文"
    assert render.template_for(D.notice(kind="报告"), cfg) == "上行文"
    assert render.template_for(D.letter(), cfg) == "信函"
    assert render.template_for(D.minutes(), cfg) == "纪要"
    with pytest.raises(TemplateError, match="发文系列"):
        render.template_for(D.notice(series=None), cfg)
    with pytest.raises(TemplateError, match="不存在|没有发文系列"):
        render.template_for(D.notice(series="某某发"), cfg)


# --- page geometry and type, read back ----------------------------------------------------------------------

def test_page_size_margins_grid_and_footers(docs):
    for name, (_, doc) in docs.items():
        s = doc.sections[0]
        assert (round(s.page_width / MM), round(s.page_height / MM)) == (210, 297), name
        margins = [s.top_margin, s.bottom_margin, s.left_margin, s.right_margin]
        assert [round(m / MM) for m in margins] == [37, 35, 28, 26], name
        grid = s._sectPr.find(qn("w:docGrid"))
        assert grid.get(qn("w:type")) == "lines" and int(grid.get(qn("w:linePitch"))) == L.LINE_PITCH_TWIPS
        # 22 lines of that pitch fill the 225 mm 版心 and a 23rd would not.
        area = s.page_height - s.top_margin - s.bottom_margin
        assert 22 * L.LINE_PITCH_TWIPS * 635 <= area < 23 * L.LINE_PITCH_TWIPS * 635
        assert doc.settings.odd_and_even_pages_header_footer
        odd, even = s.footer.paragraphs[0], s.even_page_footer.paragraphs[0]
        assert odd.alignment == 2 and even.alignment == 0           # RIGHT, LEFT
        assert odd.paragraph_format.right_indent == even.paragraph_format.left_indent == L.SIZE_4_CHAR_TWIPS * 635
        assert "PAGE" in odd._p.xml and odd.text.startswith(L.PAGE_NUMBER_DASH + " ")
        assert all(east_asia(r._r) == L.FONT_SONGTI for r in odd.runs)
        assert s.footer_distance == Emu(L.FOOTER_DISTANCE_TWIPS * 635)
    letter = docs["信函"][1].sections[0]
    assert letter.different_first_page_header_footer
    assert letter.first_page_footer.paragraphs[0].text == ""        # 信函: no number on page 1


def test_body_type_line_spacing_and_indents(docs):
    doc = docs["下行文"][1]
    st_ = styles_by_id(doc)
    normal = st_["Normal"]
    assert normal.font.size.pt == 16
    assert east_asia(normal.element) == L.FONT_FANGSONG
    pf = normal.paragraph_format
    assert pf.line_spacing_rule == 4 and pf.line_spacing.pt == L.LINE_PITCH_PT      # EXACTLY
    assert pf.first_line_indent == L.chars(2) * 635 and pf.alignment == 3           # JUSTIFY
    assert normal.element.rPr.find(qn("w:spacing")).get(qn("w:val")) == str(L.CHAR_SPACING_TWIPS)
    # 28 characters of 3号 with the character spacing fit the 版心, 29 do not.
    assert 28 * L.CHAR_PITCH_TWIPS <= L.TYPE_AREA_WIDTH_TWIPS < 29 * L.CHAR_PITCH_TWIPS
    # Headings: 黑体 / 楷体 / 仿宋 / 仿宋, 3号, no bold, 2-character indent.
    for sid, font in (("GwH1", L.FONT_HEITI), ("GwH2", L.FONT_KAITI), ("GwH3", L.FONT_FANGSONG),
                      ("GwH4", L.FONT_FANGSONG)):
        h = st_[sid]
        assert east_asia(h.element) == font, sid
        assert h.font.bold is not True and (h.font.size is None or h.font.size.pt == 16)
        para = paragraphs(doc, sid)[0]
        assert all(east_asia(r._r) == font for r in para.runs if r.text)
    title = st_["GwTitle"]
    assert title.font.size.pt == 22 and east_asia(title.element) == L.FONT_XIAOBIAOSONG
    assert title.paragraph_format.alignment == 1                                     # CENTER
    # Every run with text names its East Asian face (python-docx's font.name does not set it).
    runs = [r for p in doc.paragraphs for r in p.runs if r.text.strip()]
    assert runs and all(east_asia(r._r) for r in runs)
    for t in doc.tables:
        for row in t.rows:
            for c in row.cells:
                assert all(east_asia(r._r) for p in c.paragraphs for r in p.runs if r.text.strip())


def test_header_zone_colours_and_positions(docs):
    doc = docs["下行文"][1]
    st_ = styles_by_id(doc)
    mark = st_["GwMark"]
    assert str(mark.font.color.rgb) == L.RED and east_asia(mark.element) == L.FONT_XIAOBIAOSONG
    assert mark.font.size.pt == L.MARK_SIZE
    assert paragraphs(doc, "GwMark")[0].text == "珠晖区人民政府文件"
    rule = st_["GwNumberRule"].element.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert rule.get(qn("w:color")) == L.RED and int(rule.get(qn("w:sz"))) == L.border_eighths(L.RED_RULE_MM)
    num = paragraphs(doc, "GwNumberRule")[0]
    assert num.text == "珠政发〔2015〕3号" and num.style.paragraph_format.alignment == 1
    # Three reserved lines above the 标志 (份号/密级/紧急程度); the 标志's space before completes 35 mm.
    before = mark.paragraph_format.space_before
    top = L.TOP_LINES * L.LINE_PITCH_MM + before / MM + L.GLYPH_TOP_MARK_MM
    assert abs(top - L.HEADER_MARK_OFFSET_MM) < 0.1
    assert [p.text for p in paragraphs(doc, "GwTopLine")] == ["", "", ""]
    # 上行文: 密级 and 紧急程度 in 黑体 at the top left; 签发人 names in 楷体.
    up = docs["上行文"][1]
    assert [p.text for p in paragraphs(up, "GwTopLine")] == ["秘密★1年", "特急", ""]
    lines = paragraphs(up, "GwSigner") + paragraphs(up, "GwSignerRule")
    assert [ln.text for ln in lines] == ["\t\t签发人：张三\u3000李四明", "\t珠政发〔2015〕4号\t\u3000\u3000\u3000\u3000王五\u3000\u3000\u3000\u3000"]
    kai = [r for ln in lines for r in ln.runs if "张三" in r.text or "王五" in r.text]
    assert kai and all(east_asia(r._r) == L.FONT_KAITI for r in kai)


def test_main_body_elements(docs):
    doc = docs["下行文"][1]
    text = all_text(doc)
    assert [p.text for p in paragraphs(doc, "GwTitle")] == ["珠晖区人民政府关于印发《珠晖区2015年",
                                                           "城乡环境综合整治工作实施方案》的通知"]
    assert paragraphs(doc, "GwMainTo")[0].text == "各镇人民政府，各街道办事处，区直各单位："
    notes = paragraphs(doc, "GwAttachNote") + paragraphs(doc, "GwAttachNoteMore")
    assert [p.text for p in notes] == ["附件：1.珠晖区2015年城乡环境综合整治工作实施方案",
                                       "2.珠晖区城乡环境综合整治工作任务分解表"]
    first, more = (p.paragraph_format for p in notes)
    assert first.left_indent == more.left_indent                      # names aligned
    assert first.left_indent + first.first_line_indent == L.chars(2) * 635        # 左空二字
    assert paragraphs(doc, "GwNote")[0].text == "（此件公开发布）"
    label = paragraphs(doc, "GwAttachLabel")
    assert [p.text for p in label] == ["附件1"] and label[0].style.paragraph_format.page_break_before
    assert "一、整治范围" in text and "附件2" not in text               # only attachments with content get a page
    table = doc.tables[0]
    assert [c.text for c in table.rows[1].cells] == ["1", "区城管局", "整治A&B路段<试点>"]
    colophon = doc.tables[-1]
    assert [c.text for r in colophon.rows for c in r.cells] == [
        "抄送：区委各部门，区人大办公室，区政协办公室。", "珠晖区人民政府办公室\t2015年3月22日印发"]
    tbl_pr = colophon._tbl.tblPr
    pos = tbl_pr.find(qn("w:tblpPr"))
    assert pos.get(qn("w:vertAnchor")) == "margin" and pos.get(qn("w:tblpYSpec")) == "bottom"
    borders = tbl_pr.find(qn("w:tblBorders"))
    sizes = {side: int(borders.find(qn(f"w:{side}")).get(qn("w:sz"))) for side in ("top", "bottom", "insideH")}
    assert sizes == {"top": 8, "bottom": 8, "insideH": 6}             # 0.35 / 0.35 / 0.25 mm


def test_signature_layouts(cfg, out, docs):
    doc = docs["下行文"][1]
    sig, date = paragraphs(doc, "GwSignature")[0], paragraphs(doc, "GwDate")[0]
    assert (sig.text, date.text) == ("珠晖区人民政府", "2015年3月20日")
    # Sealed: both centred on one axis where the date ends 右空四字.
    assert sig.paragraph_format.left_indent == date.paragraph_format.left_indent
    left = date.paragraph_format.left_indent / 635
    axis = (left + L.TYPE_AREA_WIDTH_TWIPS) / 2
    assert abs(axis + L.text_width_twips("2015年3月20日") / 2 - (L.TYPE_AREA_WIDTH_TWIPS - L.chars(4))) <= 1
    # Blank lines for the seal between the 附件说明 and the 署名.
    ps = doc.paragraphs
    i = ps.index(next(p for p in ps if p.style.style_id == "GwSignature"))
    gap = 0
    while ps[i - 1 - gap].style.style_id == "GwBlank":
        gap += 1
    assert gap == L.seal_gap_lines(cfg.seal.diameter_mm)
    # Keep-with-next from the blank line under the body through the 署名, and the date with the
    # 附注: the block moves as one; the body is not chained (a whole paragraph would go along).
    last_body = max(k for k, p in enumerate(ps[:i]) if p.style.style_id == "Normal")
    assert ps[last_body].text == "各单位要高度重视，认真组织实施。"
    assert all(p.paragraph_format.keep_with_next for p in ps[last_body + 1:i + 2])
    assert not ps[last_body].paragraph_format.keep_with_next
    assert not ps[i + 3].paragraph_format.keep_with_next                # the 附注 ends the chain
    # Unsealed (7.3.5.2): one blank line, 署名 右空二字, date two characters to its right.
    d = D.notice(series="珠政办发", signature="珠晖区人民政府办公室", attachments=(), cc=None)
    up = Document(str(render.render_document(d, D.number("珠政办发"), cfg, out / "unsealed.docx")))
    sig, date = paragraphs(up, "GwSignatureFree")[0], paragraphs(up, "GwDateFree")[0]
    sl, dl = sig.paragraph_format.left_indent / 635, date.paragraph_format.left_indent / 635
    assert sl + L.text_width_twips("珠晖区人民政府办公室") == L.TYPE_AREA_WIDTH_TWIPS - L.chars(2)
    assert dl - sl == L.chars(2)
    k = [p._p for p in up.paragraphs].index(sig._p)
    assert up.paragraphs[k - 1].style.style_id == "GwBlank" and up.paragraphs[k - 2].style.style_id == "Normal"
    assert not paragraphs(up, "GwSignature")
    assert len(up.tables) == 2 and "抄送" not in all_text(up)           # no 抄送 row without a 抄送


def test_letter_and_minutes(docs):
    letter = docs["信函"][1]
    head = letter.sections[0].first_page_header.paragraphs[0]
    assert head.text == "珠晖区人民政府" and str(head.style.font.color.rgb) == L.RED
    assert head._p.xml.count("<wp:anchor") == 4                        # two red double lines
    first = paragraphs(letter, "GwLetterNumber")[0]
    assert first.text == "加急\t珠政函〔2015〕5号"
    colophon = letter.tables[-1]
    assert colophon.rows[0].cells[0].text == "抄送：区城管局。" and len(colophon.rows) == 1
    assert "印发" not in all_text(letter)                              # no 印发 line in a 信函
    assert "w:val=\"single\"" not in colophon._tbl.tblPr.xml           # and no rules

    mins = docs["纪要"][1]
    assert paragraphs(mins, "GwMark")[0].text == "珠晖区人民政府常务会议纪要"
    assert paragraphs(mins, "GwNumber")[0].text == "〔2015〕7号"
    assert paragraphs(mins, "GwMinutesLineRule")[0].text == "\t珠晖区人民政府办公室\t2015年3月20日"
    body = [p.text for p in paragraphs(mins, "Normal")]
    assert body[1:] == ["一、会议原则同意《珠晖区2015年城乡环境综合整治工作实施方案》。（责任单位：区城管局）",
                        "二、会议要求各单位抓好落实。"]
    att = paragraphs(mins, "GwAttendance")
    assert [p.text for p in att] == ["出席：张三、李四、王五", "请假：赵六（出差）", "列席：区政府办公室主任钱七"]
    labels = [p.runs[0] for p in att]
    assert all(east_asia(r._r) == L.FONT_HEITI and r.text.endswith("：") for r in labels)
    assert not paragraphs(mins, "GwSignature") and not paragraphs(mins, "GwTitle")


def test_long_header_is_compressed_to_fit(cfg, out):
    d = D.notice(series="珠政办发", signature="珠晖区人民政府办公室")
    doc = Document(str(render.render_document(d, D.number("珠政办发"), cfg, out / "long-mark.docx")))
    mark = paragraphs(doc, "GwMark")[0]
    scale = int(mark.runs[0]._r.rPr.find(qn("w:w")).get(qn("w:val")))
    natural = L.text_width_twips("珠晖区人民政府办公室文件", L.MARK_SIZE, 0) / 20 * L.MM_PER_PT
    assert scale < 100 and natural * scale / 100 <= L.MARK_MAX_WIDTH_MM < natural * (scale + 1) / 100


# --- values, escaping, leftovers, broken templates --------------------------------------------------------

def test_ampersand_and_angle_brackets_survive(cfg, out):
    d = D.notice(title="关于A&B公司<试点>的通知", main_to="A&B公司", cc="C<D>办公室",
                 body=(Block("paragraph", "x < y && y > z，\"引号\"与'单引号'"),))
    doc = Document(str(render.render_document(d, D.number(), cfg, out / "amp.docx")))
    text = all_text(doc)
    for value in ("关于A&B公司<试点>的通知", "A&B公司：", "x < y && y > z，\"引号\"与'单引号'", "抄送：C<D>办公室。"):
        assert value in text


def test_control_characters_are_dropped(cfg, out):
    d = D.notice(title="关于做好\x0b春节期间工作的通知", body=(Block("paragraph", "第一段\x07内容"),))
    doc = Document(str(render.render_document(d, D.number(), cfg, out / "ctrl.docx")))
    text = all_text(doc)
    assert "关于做好春节期间工作的通知" in text and "第一段内容" in text


def test_no_break_opportunity_next_to_a_full_width_mark(cfg, out):
    """A space beside a full-width mark (「严防“ 钓鱼”项目」, typed or pasted) or a zero-width space
    lets LibreOffice break the line after “ or before ” (避头尾 broken, seen in the corpus test);
    Chinese text sets no space there, so it is taken out. Spaces between Latin words stay."""
    d = D.notice(body=(Block("paragraph", "严防“ 钓鱼”项目和“胡子 ”工程， 解决“三角债\u200b”。Smart City 试点"),
                       Block("heading1", "一、 总体要求")))
    doc = Document(str(render.render_document(d, D.number(), cfg, out / "spaces.docx")))
    text = all_text(doc)
    assert "严防“钓鱼”项目和“胡子”工程，解决“三角债”。Smart City 试点" in text
    assert "一、总体要求" in text


def test_a_heading_needs_one_line_of_its_paragraph_on_its_page(docs):
    doc = docs["下行文"][1]
    ps = doc.paragraphs
    after = [ps[i + 1] for i in range(len(ps) - 1) if ps[i].style.style_id in ("GwH1", "GwH2", "GwH3")
             and ps[i + 1].style.style_id == "Normal"]
    assert after and all(p._p.pPr.find(qn("w:widowControl")).get(qn("w:val")) == "0" for p in after)
    others = [p for p in ps if p.style.style_id == "Normal" and p not in after and p.text]
    assert others and all(p._p.pPr is None or p._p.pPr.find(qn("w:widowControl")) is None for p in others)


def test_every_value_is_checked(cfg, out, tmp_path):
    """A template that lost its 主送 tag renders, but the missing value is caught."""
    broken = tmp_path / "下行文.docx"
    src = cfg.template_path("下行文")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(broken, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace("{{ main_to }}：".encode(), "：".encode())
            zout.writestr(item, data)
    c2 = cfg.model_copy(update={"paths": cfg.paths.model_copy(update={"templates": tmp_path})})
    target = out / "missing.docx"
    with pytest.raises(TemplateError, match="缺少内容：「各镇人民政府，各街道办事处，区直各单位」"):
        render.render_document(D.notice(), D.number(), c2, target)
    assert not target.exists()                                          # nothing half-written


def test_a_lost_value_is_caught_even_when_its_text_appears_elsewhere(cfg, out, tmp_path):
    """The 署名 「珠晖区人民政府」 is also part of the 标志 「珠晖区人民政府文件」 and the title: a template
    that lost the 署名 tag must still be caught (each value as often as it was given)."""
    broken = tmp_path / "下行文.docx"
    with zipfile.ZipFile(cfg.template_path("下行文")) as zin, zipfile.ZipFile(broken, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                assert b"{{ signature }}" in data
                data = data.replace(b"{{ signature }}", b"")
            zout.writestr(item, data)
    c2 = cfg.model_copy(update={"paths": cfg.paths.model_copy(update={"templates": tmp_path})})
    with pytest.raises(TemplateError, match="缺少内容：「珠晖区人民政府」"):
        render.render_document(D.notice(), D.number(), c2, out / "lost-signature.docx")
    # A value written twice where the template shows it twice is fine, and repeated text in the
    # body does not confuse the count.
    d = D.notice(body=(Block("paragraph", "珠晖区人民政府珠晖区人民政府"), Block("paragraph", "哈哈哈")),
                 cc="哈哈")
    render.render_document(d, D.number(), cfg, out / "repeats.docx")


def test_leftover_tags_are_detected(tmp_path):
    tpl = tmp_path / "raw.docx"
    doc = Document()
    doc.add_paragraph("{% raw %}{{ 残留 }}{% endraw %}")
    doc.add_paragraph("{{ name }}")
    doc.save(str(tpl))
    with pytest.raises(TemplateError, match="残留标签"):
        render.render_template(tpl, {"name": "张三"}, tmp_path / "o.docx")
    # A value that itself contains braces is not a leftover.
    ok = tmp_path / "ok.docx"
    doc = Document()
    doc.add_paragraph("{{ name }}")
    doc.save(str(ok))
    render.render_template(ok, {"name": "{{张三}}"}, tmp_path / "o2.docx")
    assert "{{张三}}" in all_text(Document(str(tmp_path / "o2.docx")))


def test_check_output_on_bytes():
    doc = Document()
    doc.add_paragraph("正文 {{ x }}")
    buf = io.BytesIO()
    doc.save(buf)
    with pytest.raises(TemplateError, match=r"\{\{ x \}\}"):
        render.check_output(buf.getvalue(), Path("t.docx"))
    render.check_output(buf.getvalue(), Path("t.docx"), context_values=["正文 {{ x }}"])
    with pytest.raises(TemplateError, match="缺少内容"):
        render.check_output(buf.getvalue(), Path("t.docx"), expect=["标题"],
                            context_values=["{{ x }}"])


def test_broken_template_names_the_template_and_tag(tmp_path):
    src = shared_path("docx-templates", "template_error_tpl.docx")
    problems = render.lint_template(src)
    assert len(problems) == 1 and "template_error_tpl.docx" in problems[0] and "endif" in problems[0]
    with pytest.raises(TemplateError) as e:
        render.render_template(src, {"test_variable": True}, tmp_path / "o.docx")
    assert "template_error_tpl.docx" in str(e.value) and "endif" in str(e.value)
    assert "I am the fifth paragraph." in str(e.value)
    assert not (tmp_path / "o.docx").exists()


def test_split_tag_template_renders(tmp_path):
    src = shared_path("docx-templates", "order_tpl.docx")
    xml = zipfile.ZipFile(src).read("word/document.xml").decode()
    split = re.findall(r"\{\{[^}]*<w:[^}]*\}\}|\{%[^%]*<w:[^%]*%\}", xml)
    assert len(split) >= 10                              # Word split most tags across runs
    ctx = {"customer_name": "张三&李四", "items": [{"desc": "A<B>", "qty": 2, "price": 3}],
           "total_price": 6, "is_paid": False, "in_europe": True, "company_name": "珠晖区<公司>"}
    out = render.render_template(src, ctx, tmp_path / "order.docx")
    text = all_text(Document(str(out)))
    for value in ("Dear 张三&李四,", "A<B>", "珠晖区<公司>", "Please, pay your order : 6 Euros."):
        assert value in text
    assert "{{" not in text and "{%" not in text
    with pytest.raises(TemplateError, match="未提供的变量：company_name"):
        render.render_template(src, {k: v for k, v in ctx.items() if k != "company_name"}, tmp_path / "x.docx")


def test_ime_full_width_braces_are_reported(tmp_path):
    tpl = tmp_path / "ime.docx"
    doc = Document()
    doc.add_paragraph("标题：｛｛ title ｝｝")
    doc.add_paragraph("{ { spaced }}")
    doc.save(str(tpl))
    problems = render.lint_template(tpl)
    assert any("全角" in p for p in problems) and any("空格" in p for p in problems)
    with pytest.raises(TemplateError, match="全角"):
        render.render_template(tpl, {}, tmp_path / "o.docx")


def test_not_a_template(tmp_path):
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"not a zip")
    assert "不是有效的 Word 模板" in render.lint_template(bad)[0]
    with pytest.raises(TemplateError, match="不是有效的 Word 模板|找不到模板"):
        render.render_template(bad, {}, tmp_path / "o.docx")
    with pytest.raises(TemplateError, match="找不到模板文件"):
        render.render_template(tmp_path / "none.docx", {}, tmp_path / "o.docx")


def test_optional_elements_absent(cfg, out):
    d = D.notice(main_to=None, note=None, cc=None, attachments=(), attachment_note=())
    doc = Document(str(render.render_document(d, D.number(), cfg, out / "bare.docx")))
    assert not paragraphs(doc, "GwMainTo") and not paragraphs(doc, "GwNote")
    assert not paragraphs(doc, "GwAttachNote") and not paragraphs(doc, "GwAttachLabel")
    assert len(doc.tables[-1].rows) == 1 and "印发" in doc.tables[-1].rows[0].cells[0].text
    # An attachment note written as text, without attachment objects.
    d = D.notice(attachments=(), attachment_note=("附件：珠晖区整治方案",))
    doc = Document(str(render.render_document(d, D.number(), cfg, out / "note.docx")))
    assert paragraphs(doc, "GwAttachNote")[0].text == "附件：珠晖区整治方案"


def _pitch(p):
    sp = p._p.pPr.find(qn("w:spacing")) if p._p.pPr is not None else None
    return int(sp.get(qn("w:line"))) if sp is not None else None


def test_a_tighter_pitch_from_the_page_given_to_the_end_of_the_block(cfg, out):
    """Layout.pitch: the 主体 from the paragraph where the given page's printed lines begin down to
    the 附注 takes the tighter pitch; the blank lines under the seal, the title, the body before that
    page and every run's character spacing stay as they are (28 characters a line)."""
    d = D.notice(attachments=(), attachment_note=())
    body = [b.text for b in d.body if b.kind == "paragraph"]
    page = (body[2][-40:-12], body[2][-12:], "1.明确责任", body[3][:28])    # a page starting inside a paragraph
    layout = render.Layout(pitch=500, tighten_from=page, attempt=1)
    tight = Document(str(render.render_document(d, D.number(), cfg, out / "tight.docx", layout=layout)))
    ps = tight.paragraphs
    changed = [p for p in ps if _pitch(p) is not None and _pitch(p) < L.LINE_PITCH_TWIPS]
    assert changed[0].text == body[2] and changed[-1].style.style_id == "GwNote"
    assert {_pitch(p) for p in changed} == {500}
    sig = [p.style.style_id for p in ps].index("GwSignature")
    gap = L.seal_gap_lines(cfg.seal.diameter_mm)
    assert all(_pitch(p) is None for p in ps[sig - gap:sig])              # the seal's blank lines
    assert all(_pitch(p) is None for p in ps[:ps.index(changed[0])])
    assert all(r._r.rPr is None or r._r.rPr.find(qn("w:spacing")) is None for p in changed for r in p.runs)
    # A page whose lines are not in the body (another document's) changes nothing.
    other = render.Layout(pitch=500, tighten_from=("这一行不在正文中",), attempt=1)
    plain = Document(str(render.render_document(d, D.number(), cfg, out / "other.docx", layout=other)))
    assert all(_pitch(p) is None for p in plain.paragraphs if p.style.style_id == "Normal")
    with pytest.raises(ValueError):
        render.Layout(pitch=L.MIN_PITCH_TWIPS - 1)


def test_render_is_atomic_and_overwrites_only_the_target(cfg, tmp_path):
    target = tmp_path / "a" / "定稿.docx"
    render.render_document(D.notice(), D.number(), cfg, target)
    assert target.is_file() and [p.name for p in target.parent.iterdir()] == ["定稿.docx"]
    with zipfile.ZipFile(target) as z:
        assert z.testzip() is None


# --- title lines ----------------------------------------------------------------------------------------

def test_chinese_quotation_marks_and_ellipsis_are_full_width():
    em = L.SIZE_3 * 20 + L.CHAR_SPACING_TWIPS
    for ch in "“”‘’—…":
        assert L.text_width_twips(ch) == em, ch
    assert L.text_width_twips("·") < em                   # the middle dot of a name stays narrow


def test_title_lines_known_cases():
    assert L.title_lines("关于A&B公司<试点>的通知") == ["关于A&B公司<试点>的通知"]
    assert L.title_lines("珠晖区人民政府办公室关于做好2015年春节期间安全生产工作的通知") == [
        "珠晖区人民政府办公室关于做好", "2015年春节期间安全生产工作的通知"]
    three = L.title_lines("珠晖区人民政府关于进一步加强和改进全区城市管理工作推动经济社会持续健康发展的若干意见和具体措施的实施办法的通知")
    assert len(three) == 3 and max(map(len, three)) == len(three[1])   # 菱形


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="关于做好珠晖区人民政府办公室年度工作的通知《》（）、和及2015ABC", min_size=2, max_size=70))
def test_title_lines_properties(title):
    title = title.strip()
    if not title:
        return
    lines = L.title_lines(title)
    assert "".join(lines) == title
    if len(lines) > 1:
        assert all(len(x) >= 2 for x in lines)                         # no orphan character
        assert all(L._em(x) <= L.TITLE_MAX_CHARS for x in lines)


def test_cn_ordinal():
    assert [render.cn_ordinal(n) for n in (1, 9, 10, 11, 20, 23)] == ["一", "九", "十", "十一", "二十", "二十三"]


def _lead_faces(doc, prefixes: tuple[str, ...]) -> dict[str, str | None]:
    """The East Asian face of the first run of each body paragraph starting with one of ``prefixes``."""
    return {p.text[:2]: east_asia(p.runs[0]._r) for p in doc.paragraphs
            if p.style.style_id == "Normal" and p.text.startswith(prefixes)}


def test_run_in_headings_only_when_every_numbered_sibling_is_one(cfg, out):
    """A short numbered first sentence among long ones is a numbered sentence, not a heading: the
    siblings are set alike (the example 纪要's 议定事项 were 黑体, 仿宋, 仿宋)."""
    from pipeline.drafts import read_draft
    from pipeline.rules import review

    d, _ = review(read_draft(REPO / "examples" / "纪要" / "区政府第5次常务会议纪要.yaml", cfg), cfg)
    doc = Document(str(render.render_document(d, D.minutes_number(), cfg, out / "decisions.docx")))
    faces = _lead_faces(doc, ("一、", "二、", "三、"))
    assert len(faces) == 3 and set(faces.values()) == {L.FONT_FANGSONG}, faces
    # Run-in headings all of one kind keep their level's face.
    body = (Block("paragraph", "一、总体情况。全区共有窗口单位三十个。"), Block("paragraph", "二、存在问题。授权不到位。"),
            Block("paragraph", "（一）窗口授权不到位。部分单位授权不足。"), Block("paragraph", "（二）人员不稳定。流动较大。"))
    doc = Document(str(render.render_document(D.notice(body=body), D.number(), cfg, out / "runin.docx")))
    assert _lead_faces(doc, ("一、", "二、", "（一", "（二")) == {
        "一、": L.FONT_HEITI, "二、": L.FONT_HEITI, "（一": L.FONT_KAITI, "（二": L.FONT_KAITI}
    # One long first sentence among them: that level is set as plain numbered sentences.
    mixed = body[:1] + (Block("paragraph", "二、存在的问题主要集中在窗口授权和人员稳定两个方面。授权不到位。"),) + body[2:]
    doc = Document(str(render.render_document(D.notice(body=mixed), D.number(), cfg, out / "mixed.docx")))
    assert _lead_faces(doc, ("一、", "二、", "（一", "（二")) == {
        "一、": L.FONT_FANGSONG, "二、": L.FONT_FANGSONG, "（一": L.FONT_KAITI, "（二": L.FONT_KAITI}


def test_carried_lines_go_with_the_block_cut_exactly_where_they_start(cfg, out):
    """Layout.carry: the paragraph holding the start of the carried text is cut exactly there; the
    rest (no first-line indent) is chained to the block; the part that stays keeps its lines
    (no widow/orphan control moving them) and is not chained."""
    text = "各单位要按照区政府统一部署，认真做好防汛抗旱各项工作，确保人民群众生命财产安全。" * 4 + "请认真贯彻执行。"
    d = D.notice(body=(Block("paragraph", "第一段。"), Block("paragraph", text)), attachments=(), attachment_note=())

    def body(doc):
        return [p for p in doc.paragraphs if p.style.style_id == "Normal" and p.text]

    carried = text[-30:]
    doc = Document(str(render.render_document(d, D.number(), cfg, out / "carry.docx",
                                              layout=render.Layout(carry=carried, attempt=1))))
    first, head, tail = body(doc)
    assert (first.text, head.text + tail.text, tail.text) == ("第一段。", text, carried)
    assert tail.paragraph_format.first_line_indent == 0                        # a continuation line
    assert tail.paragraph_format.keep_with_next and not head.paragraph_format.keep_with_next
    assert head._p.pPr.find(qn("w:widowControl")).get(qn("w:val")) == "0"
    # Carried text spanning a whole paragraph and the end of the one before.
    both = "认真组织实施。" + "第二段全文。"
    d2 = replace(d, body=(Block("paragraph", "第一段，各单位要认真组织实施。"), Block("paragraph", "第二段全文。")))
    doc = Document(str(render.render_document(d2, D.number(), cfg, out / "carry2.docx",
                                              layout=render.Layout(carry=both, attempt=1))))
    assert [(p.text, bool(p.paragraph_format.keep_with_next)) for p in body(doc)] == [
        ("第一段，各单位要", False), ("认真组织实施。", True), ("第二段全文。", True)]
    # Text that is not the body's end changes nothing.
    doc = Document(str(render.render_document(d, D.number(), cfg, out / "carry3.docx",
                                              layout=render.Layout(carry="不是正文的结尾", attempt=1))))
    assert [p.text for p in body(doc)] == ["第一段。", text]
    assert not any(p.paragraph_format.keep_with_next for p in body(doc))




# --- the next layout, from what the converted PDF showed ---------------------------------------------------

@pytest.fixture(scope="module")
def twenty_lines(cfg, out):
    """A sealed 通知 whose body is one paragraph of 40 full lines, and the printed lines of a page
    holding its lines 21 to 40 (a page after the first, so its lines start at the 版心 top)."""
    text = D.text(28 * 40 - 2, 3)
    d = D.notice(body=(Block("paragraph", text),), attachments=(), attachment_note=())
    docx = render.render_document(d, D.number(), cfg, out / "forty.docx")
    lines = [text[:26]] + [text[26 + 28 * i:26 + 28 * (i + 1)] for i in range(39)]
    return docx, tuple(lines[20:])


def shortfall(lines, fill: int, kind: str = "alone", end_lines: int = 4, deficit: int = 0) -> L.Shortfall:
    """The page holds ``fill`` of ``lines`` from the 版心 top; the block's page holds ``end_lines``
    slots down to the date (2 blank lines for the seal, 署名, date)."""
    shown = lines[-fill:]
    return L.Shortfall(kind, shown, tuple(i * L.LINE_PITCH_TWIPS for i in range(fill)), float(fill),
                       end_lines * L.LINE_PITCH_TWIPS, deficit)


def test_next_layout_prefers_a_little_tighter_then_carrying_then_tighter(twenty_lines):
    docx, lines = twenty_lines
    first = render.Layout()
    # 18 lines + the block (4) + the 附注 (1) = 23 slots: a little tighter (the seal's two blank
    # lines keep their height): the 21 others share 225 mm less those two.
    nxt = render.next_layout(first, shortfall(lines, 18), docx)
    room = L.TYPE_AREA_HEIGHT_TWIPS - 2 * L.LINE_PITCH_TWIPS - render.FIT_SPARE_TWIPS
    assert nxt.pitch == room // 21 >= L.PREFERRED_PITCH_TWIPS and nxt.tighten_from == lines[-18:] and not nxt.carry
    # 20 lines: 25 slots would need 88 % of the pitch or less; the page before cannot give a line
    # (it would keep 19): tighter still.
    nxt = render.next_layout(first, shortfall(lines, 20), docx)
    assert L.MIN_PITCH_TWIPS <= nxt.pitch == room // 23 < L.PREFERRED_PITCH_TWIPS and not nxt.carry
    # 21 and 22 lines: the page keeps 20 with one or two lines carried along.
    assert render.next_layout(first, shortfall(lines, 21), docx) == render.Layout(carry=lines[-1], attempt=1)
    assert render.next_layout(first, shortfall(lines, 22), docx) == render.Layout(carry="".join(lines[-2:]),
                                                                                   attempt=1)
    # A block that needs more than the tightest pitch gives: alone, it takes the body's last line
    # along anyway; with the 附件说明 above it (legal), it stays as it is, on the last attempt.
    nxt = render.next_layout(first, shortfall(lines, 20, end_lines=9), docx)
    assert nxt == render.Layout(carry=lines[-1], attempt=1)
    nxt = render.next_layout(first, shortfall(lines, 20, "annex", end_lines=9), docx)
    assert nxt == render.Layout(attempt=render.LAYOUT_ATTEMPTS - 1) and nxt.last
    # Once tightened and still not fitting, one more slot is asked for.
    again = render.next_layout(render.next_layout(first, shortfall(lines, 18), docx), shortfall(lines, 18), docx)
    assert again.pitch < room // 21 and again.tightened == 2
    # The attempts are counted; after the last there is none.
    assert render.next_layout(render.Layout(attempt=render.LAYOUT_ATTEMPTS - 1), shortfall(lines, 18), docx) is None


def test_next_layout_for_the_seal_and_for_a_page_that_is_not_in_the_body(twenty_lines):
    docx, lines = twenty_lines
    # No room for the seal under the block: its own page set tighter by the room lacking.
    seal = render.next_layout(render.Layout(), shortfall(lines, 12, "seal", end_lines=18, deficit=300), docx)
    assert seal.pitch and seal.tighten_from == lines[-12:] and not seal.carry
    # A page whose lines are not the body's cannot be tightened: its last line is carried.
    stray = L.Shortfall("alone", ("别的文件第一行", "别的文件第二行"), (0, 579), 20.0, 2316)
    assert render.next_layout(render.Layout(), stray, docx) == render.Layout(carry="别的文件第二行", attempt=1)
    # The page before already short although lines were carried: the last attempt takes it as it is.
    carried = render.Layout(carry=lines[-1], attempt=1)
    short = render.next_layout(carried, shortfall(lines, 19, "short", end_lines=12), docx)
    assert short == replace(carried, attempt=render.LAYOUT_ATTEMPTS - 1) and short.last


# --- 联合行文 ----------------------------------------------------------------------------------------------

def test_joint_document_header_and_signature_rows(cfg, out):
    """联合行文: the 标志 as a one-row table (names one under another, 文件 beside them), the 署名
    in rows of centre tabs a seal apart (at most three, fewer when the names are long), the date
    under the last; without seals, one 署名 under another; 4 organs' 标志 set smaller."""
    def sig_rows(doc):
        return [p for p in doc.paragraphs if p.style.style_id == "GwSignature"]

    def tabs(p):
        return [int(t.get(qn("w:pos"))) for t in p._p.pPr.find(qn("w:tabs"))]

    two = Document(str(render.render_document(D.notice(co_issuers=("珠晖区财政局",)), D.number(), cfg, out / "j2.docx")))
    mark = two.tables[0]
    names, wenjian = mark.rows[0].cells
    assert [p.text for p in names.paragraphs] == ["珠晖区人民政府", "珠晖区财政局"] and wenjian.text == "文件"
    assert {p.paragraph_format.alignment for p in names.paragraphs} == {WD_ALIGN_PARAGRAPH.DISTRIBUTE}
    assert not [p for p in two.paragraphs if p.style.style_id == "GwMark"]
    (row,) = sig_rows(two)
    assert row.text == "\t珠晖区人民政府\t珠晖区财政局"
    date = next(p for p in two.paragraphs if p.style.style_id == "GwDate")
    assert date.text == "\t2015年3月20日" and tabs(date) == tabs(row)[-1:]
    columns = tabs(row)
    assert columns[1] - columns[0] >= L.mm_to_twips(42 + L.SEAL_CLEARANCE_MM)
    # the seal's blank lines above the row, and the block chained to the body's blank line
    ps = two.paragraphs
    i = ps.index(next(p for p in ps if p.style.style_id == "GwSignature"))
    assert [p.style.style_id for p in ps[i - 2:i]] == ["GwBlank", "GwBlank"] and row.paragraph_format.keep_with_next

    long = ("珠晖区财政局", "珠晖区教育局", "珠晖区人力资源和社会保障局")
    cfg4 = cfg.model_copy(update={"co_issuers": {**cfg.co_issuers, "珠晖区人力资源和社会保障局": cfg.co_issuers["珠晖区财政局"]}})
    four = Document(str(render.render_document(D.notice(co_issuers=long), D.number(), cfg4, out / "j4.docx")))
    rows = sig_rows(four)
    assert [r.text.split("\t")[1:] for r in rows] == [["珠晖区人民政府", "珠晖区财政局"], ["珠晖区教育局", "珠晖区人力资源和社会保障局"]]
    ps4 = [p._p for p in four.paragraphs]
    gap = ps4.index(rows[1]._p) - ps4.index(rows[0]._p) - 1
    assert gap == L.joint_row_gap_lines(42)                                 # seals of two rows apart
    sizes = {r.font.size.pt for p in four.tables[0].rows[0].cells[0].paragraphs for r in p.runs}
    assert sizes == {L.MARK_SIZE * 3 / 4}                                   # four names: set smaller

    free = Document(str(render.render_document(
        D.notice(series="珠政办发", signature="珠晖区人民政府办公室", co_issuers=("珠晖区财政局",)),
        D.number("珠政办发"), cfg, out / "jfree.docx")))
    sigs = [p for p in free.paragraphs if p.style.style_id == "GwSignatureFree"]
    assert [p.text for p in sigs] == ["珠晖区人民政府办公室", "珠晖区财政局"]
    assert sigs[0].paragraph_format.left_indent == sigs[1].paragraph_format.left_indent   # aligned

    from pipeline.errors import TemplateError
    huge = cfg.model_copy(update={"co_issuers": {"珠晖区财政局": cfg.co_issuers["珠晖区财政局"].model_copy(
        update={"header": "珠晖区财政局珠晖区财政局珠晖区财政局珠晖区财政局"})}})
    with pytest.raises(TemplateError, match="联合发文机关标志"):
        render.render_document(D.notice(co_issuers=("珠晖区财政局",)), D.number(), huge, out / "huge.docx")


def test_lay_out_renders_again_while_the_stamp_step_asks_then_gives_up(cfg, out):
    """render.lay_out, the loop process and copies share: render → convert → settle; a NeedsRelayout
    with a shortfall renders the next layout, one without (or attempts used up) is LayoutExhausted
    carrying the stamp step's reason. Fakes for the converter and the stamp step (unit test)."""
    from pipeline.seal import NeedsRelayout

    imprint = L.Shortfall(kind="imprint", lines=(), tops=(), fill=22, end=0)
    seen, converted = [], []

    def settle(layout):
        seen.append(layout)
        if len(seen) == 1:
            raise NeedsRelayout("版记在奇数页", imprint)
        return "盖章完成"

    docx = out / "lay-out.docx"
    layout, result = render.lay_out(D.notice(), D.number(), cfg, docx, convert=converted.append, settle=settle)
    assert result == "盖章完成" and layout.imprint_breaks == 1 and seen == [render.Layout(), layout]
    assert converted == [docx, docx] and docx.is_file()

    def refuse(layout):
        raise NeedsRelayout("第2页只有发文机关署名和成文日期")

    with pytest.raises(render.LayoutExhausted, match="第2页只有发文机关署名"):
        render.lay_out(D.notice(), D.number(), cfg, docx, convert=converted.append, settle=refuse)
