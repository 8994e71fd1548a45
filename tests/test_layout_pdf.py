"""GB/T 9704 layout measured on real LibreOffice output: the rendered documents are converted once per
module (one soffice batch with the repository's fonts.conf) and measured with pdfplumber and pdffonts.

Positions are of the characters' em boxes (pdfplumber's char top/bottom) and of the drawn rules, in
mm from the paper's top-left corner; the 版心 runs from 37 mm to 262 mm down and 28 mm to 184 mm across.
"""
from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from dataclasses import dataclass

import pdfplumber
import pytest

from pipeline import layout as L
from pipeline.config import load
from pipeline.model import Block
from tests.support import pdf_lines as PL
from samples import render_drafts as D
from tests.conftest import REPO, write_instance

pytestmark = pytest.mark.libreoffice

MM = 25.4 / 72
TOP, BOTTOM = L.MARGIN_TOP_MM, L.MARGIN_TOP_MM + L.TYPE_AREA_HEIGHT_MM          # 37, 262
LEFT, RIGHT = L.MARGIN_LEFT_MM, L.MARGIN_LEFT_MM + L.TYPE_AREA_WIDTH_MM         # 28, 184
CENTRE = (LEFT + RIGHT) / 2
CHAR3 = L.CHAR_PITCH_TWIPS / 20 * MM           # one 字 of body text, mm
CHAR4 = L.SIZE_4 * MM                          # one 字 of 4号 (页码, 版记)
PITCH = L.LINE_PITCH_MM


@dataclass
class Line:
    top: float
    bottom: float
    x0: float
    x1: float
    text: str
    chars: list

    @property
    def centre(self) -> float:
        return (self.x0 + self.x1) / 2

    def fonts(self) -> set[str]:
        return {c["fontname"].split("+")[-1] for c in self.chars if c["text"].strip()}


def lines_of(page) -> list[Line]:
    rows = defaultdict(list)
    for c in page.chars:
        rows[round(c["top"] * MM, 1)].append(c)
    out = []
    for top in sorted(rows):
        cs = sorted(rows[top], key=lambda c: c["x0"])
        text = "".join(c["text"] for c in cs)
        if not text.strip():
            continue
        out.append(Line(min(c["top"] for c in cs) * MM, max(c["bottom"] for c in cs) * MM, cs[0]["x0"] * MM, cs[-1]["x1"] * MM,
                        re.sub(r"\s+", "", text), cs))
    return out


def rules_of(page, red: bool | None = None) -> list[dict]:
    """Horizontal rules (lines and thin filled rectangles) as {y, x0, x1, width, red} in mm."""
    out = []
    for o in list(page.lines) + list(page.rects):
        height = (o["bottom"] - o["top"]) * MM
        lw = o.get("linewidth", 0) * MM if o in page.lines else height
        if height > 1.2:
            continue
        colour = o.get("stroking_color") if o in page.lines else o.get("non_stroking_color")
        is_red = bool(colour) and len(colour) == 3 and colour[0] > 0.9 and colour[1] < 0.1
        if red is not None and is_red != red:
            continue
        out.append({"y": (o["top"] + o["bottom"]) / 2 * MM, "x0": o["x0"] * MM, "x1": o["x1"] * MM,
                    "width": lw, "red": is_red})
    uniq = {}
    for r in out:                       # LibreOffice draws some rules twice
        uniq[(round(r["y"], 2), round(r["x0"], 1), round(r["x1"], 1))] = r
    return sorted(uniq.values(), key=lambda r: r["y"])


def find(lines: list[Line], text: str) -> Line:
    hits = [ln for ln in lines if text in ln.text]
    assert hits, f"{text!r} not on the page: {[ln.text for ln in lines]}"
    return hits[0]


# Chinese quotation marks are set full-width (1 em) in Chinese text; counted as Latin (0.56 em) the
# second line measured 19.25 em and LibreOffice wrapped its last character onto a third line.
QUOTED_TITLE = "珠晖区人民政府关于深入开展“放管服”改革“十四五”规划编制工作的通知"


# A paragraph's second line holds 28 characters when the first holds 26 after the 2-character indent:
# each of these puts a mark right after (or at the end of) a full second line.
HANG_BODY = (
    Block("paragraph", D.text(26, 5) + D.text(28, 40) + "。"),                         # 。 would be the 29th
    Block("paragraph", D.text(26, 9) + D.text(28, 50) + "，" + D.text(20, 3) + "。"),  # ， would be the 29th
    Block("paragraph", D.text(26, 3) + D.text(27, 60) + "《" + D.text(6) + "》" + D.text(15, 8) + "。"),  # 《 the 28th
    Block("paragraph", D.text(26, 7) + D.text(27, 21) + "“" + D.text(4) + "”" + D.text(15, 9) + "。"),   # “ the 28th
    Block("paragraph", D.text(26, 2) + D.text(27, 30) + "）" + D.text(20, 1) + "。"),   # ） the 28th: fits
)
# A 报告 whose body, fitted into pages, ends on the last line of page 2, where the signature block
# no longer fits: the last paragraph (13 lines) must not take page 2's text with it.
REPORT_BODY = (Block("paragraph", D.text(28 * 16 - 2, 3)), Block("paragraph", D.text(28 * 13 - 6, 11)))
# A heading of two lines that reaches page 2's line 21: with the two lines widow/orphan control
# wants of the paragraph under it, it would leave three lines empty at the foot.
HEADING_BODY = (Block("paragraph", D.text(28 * 26 - 2, 5)), Block("heading2", "（一）" + D.text(33, 9)),
                Block("paragraph", D.text(28 * 10 - 2, 13)))


# --- one LibreOffice run for the module ----------------------------------------------------------------

@pytest.fixture(scope="module")
def config(tmp_path_factory):
    root = tmp_path_factory.mktemp("layout-instance")
    return load(write_instance(root / "instance", **D.unsealed_config_overrides(REPO / "config.yaml")))


@pytest.fixture(scope="module")
def docs():
    return {
        "notice": (D.notice(), D.number()),
        "request": (D.request(), D.number(seq=4)),
        "letter": (D.letter(), D.number("珠政函", 5)),
        "minutes": (D.minutes(), D.minutes_number()),
        "unsealed": (D.notice(series="珠政办发", signature="珠晖区人民政府办公室", attachments=(),
                              attachment_note=(), body=D.notice().body[:3]), D.number("珠政办发")),
        "quoted": (D.notice(title=QUOTED_TITLE, attachments=(), attachment_note=(), body=D.notice().body[:1]),
                   D.number(seq=6)),
        "hang": (D.notice(body=HANG_BODY, attachments=(), attachment_note=()), D.number(seq=7)),
        "report": (D.notice(kind="报告", title="珠晖区人民政府关于2015年城乡环境综合整治工作情况的报告",
                            main_to="衡阳市人民政府", body=REPORT_BODY, attachments=(), attachment_note=()),
                   D.number(seq=8)),
        "heading": (D.notice(body=HEADING_BODY, attachments=(), attachment_note=()), D.number(seq=9)),
        "copy": (D.notice(copies=30, urgency="特急", body=D.notice().body[:1], attachments=(), attachment_note=()),
                 D.number(seq=10), 7),
        "letter-copy": (D.letter(copies=5), D.number("珠政函", 11), 3),
        "joint2": (D.notice(co_issuers=("珠晖区财政局",), body=D.notice().body[:3], attachments=(),
                            attachment_note=()), D.number(seq=12)),
        "joint3": (D.notice(co_issuers=("珠晖区财政局", "珠晖区教育局"), body=D.notice().body[:3]),
                   D.number(seq=13)),
    }


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory, config, docs):
    return D.lay_out(docs, config, tmp_path_factory.mktemp("layout-pdf"))


@pytest.fixture(scope="module")
def pages(pdfs):
    """{name: [(lines, page), …]} with the pdfplumber documents kept open for the module."""
    opened, out = [], {}
    for name, path in pdfs.items():
        pdf = pdfplumber.open(path)
        opened.append(pdf)
        out[name] = [(lines_of(p), p) for p in pdf.pages]
    yield out
    for pdf in opened:
        pdf.close()


def body_lines(lines: list[Line]) -> list[Line]:
    """Text lines inside the 版心 (not the page number)."""
    return [ln for ln in lines if ln.top < BOTTOM]


# --- the grid: 22 lines × 28 characters -------------------------------------------------------------------

def test_full_page_has_22_lines_of_28_characters(pages):
    lines, _ = pages["notice"][1]                 # page 2 is all body text
    body = body_lines(lines)
    assert len(body) == L.LINES_PER_PAGE, [ln.text for ln in body]
    tops = [ln.top for ln in body]
    assert abs(tops[0] - (TOP + L.GLYPH_TOP_BODY_MM)) < 0.3
    steps = [b - a for a, b in zip(tops, tops[1:])]
    assert max(abs(s - PITCH) for s in steps) < 0.02, steps
    assert body[-1].bottom <= BOTTOM
    full = [ln for ln in body if ln.x0 < LEFT + 0.2 and ln.x1 > RIGHT - 1.0]
    assert len(full) >= 10
    assert {len(ln.text) for ln in full} == {L.CHARS_PER_LINE}, [ln.text for ln in full]
    for name in ("notice", "request", "letter", "minutes", "unsealed"):
        for lines, _ in pages[name]:
            for ln in body_lines(lines):      # no line of 3号 Chinese holds more than 28
                if all(abs(c["size"] - L.SIZE_3) < 0.1 for c in ln.chars) and re.fullmatch(r"[\u4e00-\u9fff]+", ln.text):
                    assert len(ln.text) <= L.CHARS_PER_LINE, (name, ln.text)
    # Paragraphs start two characters in (左空二字), continuation lines flush left.
    starts = sorted({round(ln.x0 - LEFT, 1) for ln in body})
    assert starts[0] < 0.2 and any(abs(s - 2 * CHAR3) < 0.2 for s in starts)


# --- every line of every page (GB/T 9704 5.2.2, 7.3.3; 避头尾) ----------------------------------------------

def test_every_line_inside_the_type_area_with_at_most_28_characters(pdfs):
    """No punctuation hangs past the 版心's right edge, no line holds a 29th character, no line starts
    with a closing mark or ends with an opening one — on every page of every document."""
    problems = {name: PL.line_problems(PL.read_lines(path)) for name, path in pdfs.items()}
    assert not any(problems.values()), {k: v for k, v in problems.items() if v}


def test_a_mark_that_does_not_fit_takes_the_character_before_it_along(pdfs):
    lines = [ln for page in PL.read_lines(pdfs["hang"]) for ln in PL.in_type_area(page)
             if abs(ln.size - L.SIZE_3) < 0.1]
    text = [ln.text for ln in lines]
    for block in HANG_BODY[:4]:
        start = next(i for i, t in enumerate(text) if block.text.startswith(t))
        first, second, third = text[start:start + 3]
        assert len(first) == 26 and first + second + third == block.text[:len(first + second + third)]
        # the 28 characters of the second line would be followed by a closing mark (。，): the last
        # character goes down with it; or would end on an opening mark (《“), which goes down
        # alone; either way the line is justified to the full width
        assert len(second) == 27, second
        assert third[1] in "。，" or third[0] in "《“", third
        ln = lines[start + 1]
        assert abs(ln.x0 - LEFT) < 0.2 and abs(ln.x1 - RIGHT) < 0.6, (ln.x0, ln.x1)   # as a full line
    # a closing mark as the 28th character fits as it is
    block = HANG_BODY[4].text
    start = next(i for i, t in enumerate(text) if block.startswith(t))
    assert text[start + 1] == block[26:54] and text[start + 1].endswith("）")


# The lines that end a document's main text: the 成文日期 under the 署名, a 纪要's attendance.
ENDS = ("2015年3月20日", "2015年4月2日", "2015年5月8日", "出席：")


def test_every_page_the_text_flows_on_from_is_full(pdfs):
    """Every page followed by more of the same text (not the last page of the body, not the page
    before an attachment) carries 22 lines, less at most two (widow/orphan control): the signature
    block takes at most the body's last two lines with it, never a whole paragraph (GB/T 9704 7.3.5.5)."""
    problems = {name: PL.fill_problems(PL.read_lines(path), ENDS) for name, path in pdfs.items()}
    assert not any(problems.values()), {k: v for k, v in problems.items() if v}
    pages = PL.read_lines(pdfs["report"])
    assert PL.flow_pages(pages, ENDS) == [1, 2]                   # the body runs over page 3


def test_the_block_takes_at_most_two_body_lines_along(pdfs):
    pages = PL.read_lines(pdfs["report"])
    block_page = next(i for i, lines in enumerate(pages) if any(ln.text == "2015年3月20日" for ln in lines))
    lines = PL.in_type_area(pages[block_page])
    above = lines[:[ln.text for ln in lines].index("珠晖区人民政府")]
    assert 1 <= len(above) <= 2, [ln.text for ln in above]        # body text above the block, ≤ 2 lines
    last = REPORT_BODY[-1].text
    assert last.endswith("".join(ln.text for ln in above))      # the paragraph's own last lines


# --- 版头 -----------------------------------------------------------------------------------------------------

def test_red_header_of_a_document(pages):
    for name in ("notice", "request", "minutes"):
        lines, page = pages[name][0]
        mark = next(ln for ln in lines if abs(ln.chars[0]["size"] - L.MARK_SIZE) < 0.1)
        assert abs(mark.top - (TOP + L.HEADER_MARK_OFFSET_MM)) < 0.3, (name, mark.top)   # 35 mm below
        assert abs(mark.centre - CENTRE) < 0.3 and mark.x1 - mark.x0 <= L.MARK_MAX_WIDTH_MM + 0.5
        assert all(c["non_stroking_color"] and c["non_stroking_color"][0] > 0.9 and c["non_stroking_color"][1] < 0.1
                   for c in mark.chars)
        red = rules_of(page, red=True)
        assert len(red) == 1, red
        rule = red[0]
        assert abs(rule["x0"] - LEFT) < 0.2 and abs(rule["x1"] - RIGHT) < 0.2                 # 版心 wide
        above = [ln for ln in lines if ln.bottom < rule["y"]]
        last = above[-1]                                   # the 发文字号 line (or 纪要's organ/date line)
        assert abs(rule["y"] - last.bottom - L.RED_RULE_GAP_MM) < 0.3, (name, rule["y"] - last.bottom)
        # 发文字号 (上行文: the first 签发人 line) two lines below the 标志: the gap of two blank
        # lines plus a line's own gap under its characters.
        number = lines[lines.index(mark) + 1]
        expected = 2 * PITCH + (PITCH - L.SIZE_3 * MM)
        assert abs(number.top - mark.bottom - expected) < 0.5, (name, number.top - mark.bottom)
        if name == "notice":
            assert number.text == "珠政发〔2015〕3号" and abs(number.centre - CENTRE) < 0.3
    # The title two blank lines under the rule, centred line by line.
    lines, page = pages["notice"][0]
    rule = rules_of(page, red=True)[0]
    titles = [ln for ln in lines if abs(ln.chars[0]["size"] - L.SIZE_2) < 0.1]
    assert [t.text for t in titles] == ["珠晖区人民政府关于印发《珠晖区2015年", "城乡环境综合整治工作实施方案》的通知"]
    # Two blank lines between the rule and the title line (whose glyph sits GLYPH_TOP_TITLE_MM down).
    assert abs(titles[0].top - rule["y"] - rule["width"] / 2 - 2 * PITCH - L.GLYPH_TOP_TITLE_MM) < 0.5
    for t in titles:
        assert abs(t.centre - CENTRE) < 0.3, t.text
    main_to = find(lines, "各镇人民政府")
    assert main_to.x0 < LEFT + 0.2 and main_to.text.endswith("：")
    shift = L.GLYPH_TOP_BODY_MM - L.GLYPH_TOP_TITLE_MM        # a 2号 glyph sits higher in its line
    assert abs(main_to.top - titles[-1].top - 2 * PITCH - shift) < 0.3                # one blank line


def test_title_with_quotation_marks_keeps_its_lines(pages):
    lines, _ = pages["quoted"][0]
    titles = [ln for ln in lines if abs(ln.chars[0]["size"] - L.SIZE_2) < 0.1]
    assert [t.text for t in titles] == L.title_lines(QUOTED_TITLE), [t.text for t in titles]
    assert len(titles) == 2 and all(abs(t.centre - CENTRE) < 0.3 and t.x1 - t.x0 <= RIGHT - LEFT for t in titles)


def test_copy_number_top_left_six_digits(pages):
    """份号 (GB/T 9704 7.2.1): six Arabic digits, 3号, black, 顶格 on the 版心's first line, above the
    紧急程度; the 标志 stays where it is. In a 信函 it opens the line under the red double line."""
    lines, _ = pages["copy"][0]
    first, second = lines[0], lines[1]
    assert first.text == "000007" and second.text == "特急"
    assert abs(first.x0 - LEFT) < 0.2 and abs(first.top - (TOP + L.GLYPH_TOP_BODY_MM)) < 0.6
    assert all(abs(c["size"] - L.SIZE_3) < 0.1 and c["non_stroking_color"] in ((0,), (0, 0, 0), [0], [0, 0, 0])
               for c in first.chars)
    assert abs(second.top - first.top - PITCH) < 0.1
    mark = next(ln for ln in lines if abs(ln.chars[0]["size"] - L.MARK_SIZE) < 0.1)
    assert abs(mark.top - (TOP + L.HEADER_MARK_OFFSET_MM)) < 0.3
    letter, _ = pages["letter-copy"][0]
    number = find(letter, "珠政函〔2015〕11号")
    assert number.text.startswith("000003") and number.x0 < LEFT + 0.2
    assert find(letter, "加急").x0 < LEFT + 0.2


def test_joint_header_names_every_organ_with_wenjian_centred_beside_them(pages):
    """联合行文 (GB/T 9704 7.2.4): the 主办机关 first, the names one under another at one width, 文件 to
    their right, centred on them vertically; the 标志 35 mm below the 版心 top, within 150 mm."""
    for name, organs in (("joint2", ["珠晖区人民政府", "珠晖区财政局"]),
                         ("joint3", ["珠晖区人民政府", "珠晖区财政局", "珠晖区教育局"])):
        lines, _ = pages[name][0]
        chars = [c for ln in lines for c in ln.chars if abs(c["size"] - L.MARK_SIZE) < 0.1]
        assert all(c["non_stroking_color"][0] > 0.9 for c in chars)                # red
        right = max(c["x1"] for c in chars)
        wenjian = [c for c in chars if c["text"] in "文件" and right - c["x1"] < 60]
        rows = defaultdict(list)
        for c in chars:
            if c not in wenjian:
                rows[round(c["top"])].append(c)
        names = []
        for top in sorted(rows):
            got = sorted(rows[top], key=lambda c: c["x0"])
            names.append(Line(got[0]["top"] * MM, got[0]["bottom"] * MM, got[0]["x0"] * MM, got[-1]["x1"] * MM,
                              "".join(c["text"] for c in got), got))
        assert [ln.text for ln in names] == organs
        assert abs(names[0].top - (TOP + L.HEADER_MARK_OFFSET_MM)) < 0.3, names[0].top
        assert max(abs(ln.x0 - names[0].x0) for ln in names) < 0.5          # one width (分散对齐)
        assert max(abs(ln.x1 - names[0].x1) for ln in names) < 0.5
        middle = (names[0].top + names[-1].bottom) / 2
        w_top, w_bottom = min(c["top"] for c in wenjian) * MM, max(c["bottom"] for c in wenjian) * MM
        w_x0, w_x1 = min(c["x0"] for c in wenjian) * MM, max(c["x1"] for c in wenjian) * MM
        assert len(wenjian) == 2 and w_x0 > names[0].x1 and abs((w_top + w_bottom) / 2 - middle) < 1.0
        assert w_x1 - names[0].x0 <= L.MARK_MAX_WIDTH_MM + 0.5
        assert abs((names[0].x0 + w_x1) / 2 - CENTRE) < 0.5
        number = find(lines, f"珠政发〔2015〕{12 if name == 'joint2' else 13}号")   # the 主办机关's number
        assert abs(number.centre - CENTRE) < 0.3


def test_joint_seals_side_by_side_each_over_its_own_signature(pdfs, pages, docs, config):
    """GB/T 9704 7.3.5.1: the 署名 in the organs' order side by side; each seal centred over its own
    署名, the last over its 署名 and the 成文日期; seals in a row neither touch nor leave the 版心; the
    first row's top within one line of the text above."""
    from pipeline import stamp

    for name, n in (("joint2", 2), ("joint3", 3)):
        placements = stamp.check_layout(pdfs[name], draft=docs[name][0], config=config)
        assert len(placements) == n
        lines, page = _page_with(pages, name, "2015年3月20日")
        height = page.height
        date = next(ln for ln in lines if ln.text == "2015年3月20日")
        row = lines[lines.index(date) - 1]
        organs = ["珠晖区人民政府", "珠晖区财政局", "珠晖区教育局"][:n]
        assert row.text == "".join(organs)
        text = "".join(c["text"] for c in row.chars)
        r = placements[0].diameter_pt / 2 * MM
        for organ, pl in zip(organs, placements):
            k = text.index(organ)
            span = row.chars[k:k + len(organ)]
            centre = (span[0]["x0"] + span[-1]["x1"]) / 2 * MM
            assert abs(pl.cx_pt * MM - centre) < 0.3, organ                       # over its own 署名
            cy = (height - pl.cy_pt) * MM                                        # mm from the page top
            assert cy < row.top and row.bottom < cy + r                          # 居中下压
            assert LEFT - 0.2 <= pl.cx_pt * MM - r and pl.cx_pt * MM + r <= RIGHT + 0.2
        last = placements[-1]
        assert abs(last.cx_pt * MM - date.centre) < 0.3 and date.bottom < (height - last.cy_pt) * MM + r
        for a, b in zip(placements, placements[1:]):                             # never touching
            assert (b.cx_pt - a.cx_pt) * MM > 2 * r + 1.0
        above = lines[lines.index(row) - 1]
        top = (height - placements[0].cy_pt) * MM - r
        assert top > above.bottom - 0.1 and top - above.bottom < PITCH


def test_upward_header_signers(pages):
    lines, page = pages["request"][0]
    first = find(lines, "签发人")
    last = find(lines, "王五")
    number = find(lines, "珠政发〔2015〕4号")
    assert number is last                                   # the number shares the last name's line
    assert abs(number.x0 - (LEFT + CHAR3)) < 0.3            # 居左空一字
    assert abs(first.x1 - (RIGHT - CHAR3)) < 0.4            # 居右空一字
    zhang = next(c for c in first.chars if c["text"] == "张")
    wang = next(c for c in last.chars if c["text"] == "王")
    assert abs(zhang["x0"] - wang["x0"]) * MM < 0.3         # continuation aligned with the first name
    assert "GBZenKai" in next(c for c in first.chars if c["text"] == "张")["fontname"]   # names in 楷体
    assert "Sans" not in next(c for c in first.chars if c["text"] == "签")["fontname"]
    top = [ln for ln in lines if ln.top < 60]
    assert [ln.text for ln in top] == ["秘密★1年", "特急"] and all(ln.x0 < LEFT + 0.2 for ln in top)
    assert all("Sans" in c["fontname"] for ln in top for c in ln.chars)                  # 黑体
    assert abs(top[0].top - (TOP + L.GLYPH_TOP_BODY_MM)) < 0.3


def test_letter_format(pages):
    (lines, page), *rest = pages["letter"]
    mark = next(ln for ln in lines if abs(ln.chars[0]["size"] - L.MARK_SIZE) < 0.1)
    assert abs(mark.top - L.LETTER_MARK_TOP_MM) < 0.3 and abs(mark.centre - CENTRE) < 0.3
    red = rules_of(page, red=True)
    assert len(red) == 4
    for r in red:
        assert abs(r["x1"] - r["x0"] - L.LETTER_RULE_LENGTH_MM) < 0.3 and abs((r["x0"] + r["x1"]) / 2 - 105) < 0.3
    upper, lower = red[:2], red[2:]
    assert upper[0]["width"] > upper[1]["width"] and lower[0]["width"] < lower[1]["width"]   # thick/thin, thin/thick
    assert abs(upper[0]["y"] - upper[0]["width"] / 2 - mark.bottom - L.LETTER_RULE_GAP_MM) < 0.4
    assert abs(lower[1]["y"] + lower[1]["width"] / 2 - (L.PAGE_HEIGHT_MM - L.LETTER_BOTTOM_RULE_MM)) < 0.2
    number = find(lines, "珠政函〔2015〕5号")
    first_of_number = next(c for c in number.chars if c["text"] == "珠")
    assert abs(number.x1 - RIGHT) < 0.4 and first_of_number["x0"] * MM > CENTRE        # flush right
    assert abs(number.top - (upper[1]["y"] + upper[1]["width"] / 2) - L.LETTER_ELEMENT_GAP_MM) < 0.4
    assert number.text.startswith("加急") and number.x0 < LEFT + 0.2                  # 加急 flush left, same line
    assert not any(L.PAGE_NUMBER_DASH in ln.text for ln in lines)                    # no number on page 1
    assert any(ln.text == f"{L.PAGE_NUMBER_DASH}2{L.PAGE_NUMBER_DASH}" for ln, _ in [(x, 0) for x in rest[0][0]])
    last_lines, last_page = pages["letter"][-1]
    assert not rules_of(last_page)                                                     # 版记 without rules
    cc = find(last_lines, "抄送：区城管局。")
    assert BOTTOM - 2 * PITCH < cc.bottom <= BOTTOM and "印发" not in "".join(ln.text for ln in last_lines)


# --- 主体: signature blocks, attachments -----------------------------------------------------------------------

def _page_with(pages, name, text):
    for lines, page in pages[name]:
        if any(text in ln.text for ln in lines):
            return lines, page
    raise AssertionError(f"{text} not in {name}")


def test_sealed_signature_block(pages):
    lines, _ = _page_with(pages, "notice", "2015年3月20日")
    date = next(ln for ln in lines if ln.text == "2015年3月20日")
    sig = lines[lines.index(date) - 1]
    assert sig.text == "珠晖区人民政府"
    assert abs(date.x1 - (RIGHT - 4 * CHAR3)) < 0.5                  # 右空四字
    assert abs(sig.centre - date.centre) < 0.5                      # 署名 centred on the date
    above = lines[lines.index(sig) - 1]                             # the 附件说明's last line
    gap = L.seal_gap_lines(42)
    assert abs(sig.top - above.top - (gap + 1) * PITCH) < 0.1
    note = lines[lines.index(date) + 1]
    assert note.text == "（此件公开发布）" and abs(note.x0 - LEFT - 2 * CHAR3) < 0.3 and abs(note.top - date.top - PITCH) < 0.1
    first = find(lines, "附件：1.")
    second = find(lines, "2.珠晖区城乡环境综合整治工作任务分解表")
    assert abs(first.x0 - LEFT - 2 * CHAR3) < 0.3
    one = next(c for c in first.chars if c["text"] == "1")
    two = next(c for c in second.chars if c["text"] == "2")
    assert abs(one["x0"] - two["x0"]) * MM < 0.3                    # numbered entries aligned


def test_unsealed_signature_block(pages):
    lines, _ = _page_with(pages, "unsealed", "2015年3月20日")
    sig = [ln for ln in lines if ln.text == "珠晖区人民政府办公室"][-1]
    date = lines[lines.index(sig) + 1]
    assert date.text == "2015年3月20日"
    assert abs(sig.x1 - (RIGHT - 2 * CHAR3)) < 0.4                  # 右空二字
    assert abs(date.x0 - sig.x0 - 2 * CHAR3) < 0.3                  # date two characters to the right
    above = lines[lines.index(sig) - 1]
    assert abs(sig.top - above.top - 2 * PITCH) < 0.1               # one blank line


def test_attachment_page(pages):
    lines, _ = _page_with(pages, "notice", "附件1")
    label = lines[0]
    assert label.text == "附件1" and label.x0 < LEFT + 0.2 and abs(label.top - TOP - L.GLYPH_TOP_BODY_MM) < 0.3
    assert all("Sans" in c["fontname"] for c in label.chars)          # 3号黑体
    title = lines[1]
    assert "珠晖区2015年" in title.text and abs(title.centre - CENTRE) < 0.3
    shift = L.GLYPH_TOP_BODY_MM - L.GLYPH_TOP_TITLE_MM        # a 2号 glyph sits higher in its line
    assert abs(title.top - label.top - (2 * PITCH - shift)) < 0.3                      # on line 3


def test_minutes_attendance(pages):
    lines, page = pages["minutes"][0]
    present = find(lines, "出席：张三、李四、王五")
    assert abs(present.x0 - LEFT - 2 * CHAR3) < 0.3
    label = [c for c in present.chars if c["text"] in "出席"]
    assert all("Sans" in c["fontname"] for c in label)              # 黑体 label
    assert all("Serif" in c["fontname"] for c in present.chars if c["text"] in "张三")
    for text in ("请假：赵六（出差）", "列席：区政府办公室主任钱七"):
        ln = find(lines, text)
        assert abs(ln.x0 - present.x0) < 0.2


# --- 版记 and 页码 -------------------------------------------------------------------------------------------

def test_colophon_last_rule_on_the_type_area_bottom(pages):
    for name, n_rules in (("notice", 3), ("request", 2), ("minutes", 3), ("unsealed", 3)):
        lines, page = pages[name][-1]
        rules = [r for r in rules_of(page, red=False) if r["x1"] - r["x0"] > 150]
        assert len(rules) == n_rules, (name, rules)
        for r in rules:
            assert abs(r["x0"] - LEFT) < 0.2 and abs(r["x1"] - RIGHT) < 0.2
        assert abs(rules[0]["width"] - L.COLOPHON_THICK_MM) < 0.03
        assert abs(rules[-1]["width"] - L.COLOPHON_THICK_MM) < 0.03
        for r in rules[1:-1]:
            assert abs(r["width"] - L.COLOPHON_THIN_MM) < 0.03
        assert abs(rules[-1]["y"] + rules[-1]["width"] / 2 - BOTTOM) < 0.2, (name, rules[-1])
        printer = next(ln for ln in lines if ln.text.endswith("印发"))
        assert rules[-2]["y"] < printer.top and printer.bottom < rules[-1]["y"]
        assert abs(printer.x0 - LEFT - CHAR4) < 0.3 and abs(printer.x1 - (RIGHT - CHAR4)) < 0.4
        if n_rules == 3:
            cc = find(lines, "抄送：")
            assert rules[0]["y"] < cc.top and cc.bottom < rules[1]["y"] and abs(cc.x0 - LEFT - CHAR4) < 0.3
            assert cc.text.endswith("。") and abs(cc.chars[0]["size"] - L.SIZE_4) < 0.1


def test_page_numbers(pages):
    for name in ("notice", "request"):
        for i, (lines, _) in enumerate(pages[name], start=1):
            num = [ln for ln in lines if ln.top > BOTTOM]
            assert len(num) == 1 and num[0].text == f"{L.PAGE_NUMBER_DASH}{i}{L.PAGE_NUMBER_DASH}", (name, i)
            ln = num[0]
            assert abs(ln.top - BOTTOM - L.PAGE_NUMBER_GAP_MM) < 0.3, ln.top                 # 7 mm below
            assert abs(ln.chars[0]["size"] - L.SIZE_4) < 0.1
            if i % 2:
                assert abs(ln.x1 - (RIGHT - CHAR4)) < 0.3                                   # odd: 右空一字
            else:
                assert abs(ln.x0 - (LEFT + CHAR4)) < 0.3                                    # even: 左空一字
    assert len(pages["notice"]) >= 4


def test_fonts_are_the_mapped_faces(pdfs, pages):
    out = subprocess.run(["pdffonts", str(pdfs["notice"])], capture_output=True, text=True, check=True).stdout
    rows = [ln.split() for ln in out.splitlines()[2:] if ln.strip()]
    names = {r[0].split("+")[-1] for r in rows}
    assert all("yes" in r[-5:-2] for r in rows), out                 # every font embedded
    assert any(n.startswith("NotoSerifCJK") and "Bold" in n for n in names), names      # 方正小标宋简体
    assert any(n.startswith("NotoSerifCJK") and "Regular" in n for n in names), names   # 仿宋_GB2312, 宋体
    assert any(n.startswith("NotoSansCJK") for n in names), names                        # 黑体
    assert any("GBZenKai" in n or "UKai" in n for n in names), names                     # 楷体_GB2312
    lines, _ = pages["notice"][0]
    by_text = {ln.text: ln for ln in lines}
    title = next(ln for ln in lines if ln.text.startswith("珠晖区人民政府关于印发"))
    assert all("Bold" in f for f in title.fonts())
    assert all("Sans" in f for f in by_text["一、总体要求"].fonts())
    body = find(lines, "为进一步做好")
    assert all("Serif" in f and "Regular" in f for f in body.fonts())
    kai = [ln for lns, _ in pages["notice"] for ln in lns if ln.text == "（一）工作目标"]
    assert kai and all("GBZenKai" in f or "UKai" in f for f in kai[0].fonts())
