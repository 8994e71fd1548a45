"""Robustness against drafts written the way secretaries really write them.

The corpus in tests/fixtures/robustness/ (45 drafts: .docx made by scripts/make_robustness_fixtures.py,
Markdown, text and YAML) covers every 文种 and reader with the habits of Word/WPS users and of
people typing Markdown or text by hand. Three kinds of tests:

- focused tests, one per misreading found (each failed before its fix);
- the corpus read and reviewed: every draft issued or rejected as a careful clerk would expect,
  with its elements found where the author put them;
- the all-text-preserved property: every paragraph of the draft's text is in the rendered document,
  once, in order — for every draft through the reader and renderer (.docx text), and for a sample
  through the real pipeline (LibreOffice PDF, pdftotext).
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import pytest
import yaml
from lxml import etree

from tests.conftest import REPO, write_instance
from pipeline import render, rules
from pipeline.config import Config, load
from pipeline.drafts import read_draft
from pipeline.drafts import patterns as P
from pipeline.model import Number

CORPUS = REPO / "tests" / "fixtures" / "robustness"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def fixtures_script():
    spec = importlib.util.spec_from_file_location("make_robustness_fixtures", REPO / "scripts" / "make_robustness_fixtures.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def corpus(name_prefix: str) -> Path:
    hits = sorted(CORPUS.glob(name_prefix + "*"))
    assert len(hits) == 1, f"fixture {name_prefix}* not found (run scripts/make_robustness_fixtures.py)"
    return hits[0]


def route(cfg: Config, folder: str):
    return next(r for r in cfg.intake.routes if r.folder == folder)


def reviewed(path: Path, cfg: Config, route_=None):
    d = read_draft(path, cfg, route_)
    return rules.review(d, cfg)


def errors(problems) -> list[str]:
    return [f"{p.element}:{p.message}" for p in problems if p.severity == "error"]


def texts(blocks) -> list[str]:
    return [b.text for b in blocks if b.kind != "table"]


# --- soft line breaks --------------------------------------------------------------------------------
def test_markdown_lines_without_blank_line_keep_their_elements(cfg):
    """Markdown joins lines without a blank line between them into one paragraph; a clerk writing
    the 附件说明 entries, the 署名 and the 日期 on consecutive lines means separate lines."""
    d, problems = reviewed(corpus("m14"), cfg)
    assert d.title == "珠晖区人民政府关于做好2015年全国第三次农业普查准备工作的通知"
    assert d.main_to == "各镇人民政府、街道办事处，区政府有关部门"
    assert [a.name for a in d.attachments] == ["珠晖区第三次全国农业普查领导小组成员名单", "珠晖区第三次全国农业普查工作方案"]
    assert [a.number for a in d.attachments] == [1, 2]
    assert d.signature == "珠晖区人民政府" and d.date_text == "2015年11月5日" and d.note == "此件公开发布"
    d, _ = reviewed(corpus("m07"), cfg)
    assert [a.number for a in d.attachments] == list(range(1, 11))


def test_markdown_hard_wrapped_paragraph_stays_one_paragraph(cfg, tmp_path):
    p = tmp_path / "wrapped.md"
    p.write_text("---\n标题: 珠晖区人民政府关于做好防汛工作的通知\n主送: 各镇人民政府\n成文日期: 2015年5月6日\n"
                 "署名: 珠晖区人民政府\n---\n\n入汛以来，我区降雨偏多，部分山塘水库水位超过汛限，防汛形势十分严峻，各镇要\n"
                 "立即组织力量开展巡查，确保安全度汛。\n", encoding="utf-8")
    d = read_draft(p, cfg)
    assert texts(d.body) == ["入汛以来，我区降雨偏多，部分山塘水库水位超过汛限，防汛形势十分严峻，各镇要立即组织力量开展巡查，确保安全度汛。"]


def test_docx_soft_return_mid_sentence_is_not_a_new_paragraph(cfg):
    d, _ = reviewed(corpus("r02"), cfg)
    assert texts(d.body)[0] == ("根据《珠晖区政务服务工作考核办法》，区政府办公室组织对全区32个单位2014年度"
                                "政务服务工作进行了考核。现将考核情况通报如下。")
    # a soft return after a full stop is how Word users start a new paragraph
    assert "希望受到表彰的单位再接再厉。" in texts(d.body)
    assert "其他单位要对照先进找差距，切实提高政务服务水平。" in texts(d.body)


# --- title and 主送 over several lines ---------------------------------------------------------------
@pytest.mark.parametrize("prefix,title", [
    ("r19", "珠晖区人民政府办公室关于做好2015年国庆节期间有关工作的通知"),
    ("r20", "珠晖区人民政府关于2015年第三季度重点工作督查情况的通报"),
])
def test_multi_line_title_followed_by_two_line_main_to(cfg, prefix, title):
    d, problems = reviewed(corpus(prefix), cfg)
    assert d.title == title
    assert d.main_to == "各镇人民政府、街道办事处，区政府各部门、各直属机构"
    assert not any(P.squeeze(d.main_to) in P.squeeze(t) for t in texts(d.body))
    assert errors(problems) == []


def test_main_to_in_body_differing_from_metadata_is_not_left_in_the_body(cfg):
    d, problems = reviewed(corpus("m03"), cfg)
    assert d.main_to == "衡阳市交通运输局"
    assert texts(d.body)[0].startswith("为加快我区农村公路网络建设")
    assert any(p.element == "主送机关" and "市交通运输局" in p.message and p.severity == "warning" for p in problems)


# --- attachments --------------------------------------------------------------------------------------
def test_attachment_page_head_with_its_title_on_the_same_line(cfg):
    d, problems = reviewed(corpus("r17"), cfg)
    assert d.signature == "珠晖区人民政府" and d.date_text == "2015年6月12日"
    assert [(a.number, a.title) for a in d.attachments] == [
        (1, "2015年度区级非物质文化遗产代表性项目名录"), (2, "2015年度区级非物质文化遗产代表性项目保护单位名单")]
    assert d.attachments[0].blocks[0].kind == "table"
    assert errors(problems) == []


def test_attachment_note_written_as_attachment_labels(cfg, tmp_path):
    """附件说明 typed as "附件1：…" lines is read as the 附件说明 and set in the standard form."""
    p = tmp_path / "a.txt"
    p.write_text("珠晖区人民政府关于印发两个实施方案的通知\n各镇人民政府：\n现将两个方案印发给你们，请认真贯彻执行。\n"
                 "附件1：珠晖区植树造林实施方案\n附件2：珠晖区河道保洁实施方案\n珠晖区人民政府\n2015年3月2日\n", encoding="utf-8")
    d, problems = reviewed(p, cfg)
    assert [(a.number, a.name) for a in d.attachments] == [(1, "珠晖区植树造林实施方案"), (2, "珠晖区河道保洁实施方案")]
    assert d.attachment_note == ("附件：1.珠晖区植树造林实施方案", "2.珠晖区河道保洁实施方案")
    assert texts(d.body) == ["现将两个方案印发给你们，请认真贯彻执行。"]
    assert any(p.element == "附件说明" and p.severity == "warning" for p in problems)


# --- 纪要 typed in Word -----------------------------------------------------------------------------------
def test_minutes_docx_title_and_attendance_lines(cfg):
    d, problems = reviewed(corpus("r14"), cfg, route(cfg, "纪要"))
    assert d.kind == "纪要" and d.title == "区政府第10次常务会议纪要"
    assert d.meeting is not None and d.meeting.name == "区政府第10次常务会议"
    assert d.meeting.present == ("陈礼洋", "彭建元", "聂百洲", "陶朝晖", "史瑞光")
    assert d.meeting.absent == ("罗毅（出差）",)
    assert d.meeting.attending == ("区财政局", "区发改局", "区城管局负责人")
    assert not any(t.startswith(("出席", "请假", "列席")) for t in texts(d.body))
    assert texts(d.body)[1].startswith("一、会议原则同意")
    assert errors(problems) == []


# --- heading numbers --------------------------------------------------------------------------------------
def test_enclosed_heading_numbers_are_recognised_and_normalised(cfg):
    d, problems = reviewed(corpus("r02"), cfg)
    body = texts(d.body)
    assert "（一）窗口授权不到位。部分单位进驻窗口的审批权限未充分授权，群众办事仍需“两头跑”。" in body
    assert "（二）服务效率不够高。个别窗口办件超时，全年共有超时办件37件。" in body
    assert any("㈠" in p.message for p in problems if p.element == "正文")
    assert P.heading_prefix("⑶情况说明")[0] == "heading4"


def test_word_automatic_numbering_becomes_text(cfg):
    d, problems = reviewed(corpus("r04"), cfg)
    heads = [(b.kind, b.text) for b in d.body if b.kind.startswith("heading")]
    assert heads == [
        ("heading1", "一、明确管理职责"), ("heading2", "（一）属地管理责任"), ("heading2", "（二）部门监管责任"),
        ("heading1", "二、规范经营秩序"), ("heading3", "1.实行划行归市"), ("heading3", "2.严禁占道经营"),
        ("heading1", "三、加强组织保障")]
    assert any("自动编号" in p.message and "一、明确管理职责" in p.message for p in problems)
    assert errors(problems) == []


def test_numbered_sentences_are_alike_among_siblings(cfg):
    """「二、区财政配套资金1200万元，分两年安排。」 between two numbered sentences is a sentence too,
    not a 黑体 heading among 仿宋 paragraphs."""
    d, _ = reviewed(corpus("m03"), cfg)
    a2 = d.attachments[1]
    assert [b.kind for b in a2.blocks] == ["paragraph"] * 3
    # headings that end with 。 and have no sentence siblings stay headings
    d, _ = reviewed(corpus("r01"), cfg)
    assert [b.kind for b in d.body if b.text.startswith(("1.", "2."))] == ["heading3", "heading3"]


# --- what Word hides in other places ----------------------------------------------------------------------
def test_text_box_text_is_read_and_images_are_reported(cfg):
    d, problems = reviewed(corpus("r06"), cfg)
    body = texts(d.body)
    assert body.count("注：以上数据截至2015年6月30日。") == 1            # once: not the VML fallback copy too
    assert body.index("注：以上数据截至2015年6月30日。") == body.index(next(t for t in body if t.startswith("全区32个重点项目中"))) + 1
    assert any("文本框" in p.message for p in problems)
    assert any("图片" in p.message for p in problems)
    assert not any("珠晖区人民政府" == t for t in body)               # the page header is not body text


# --- text files and front matter ---------------------------------------------------------------------------
def test_front_matter_with_full_width_colons(cfg):
    d, problems = reviewed(corpus("m12"), cfg)
    assert d.title == "珠晖区人民政府办公室关于做好2015年度防暑降温工作的通知"
    assert d.main_to == "各镇人民政府、街道办事处，区政府各部门" and d.note == "此件公开发布"
    assert any("全角冒号" in p.message for p in problems)
    assert errors(problems) == []


def test_full_width_colon_inside_a_block_value_is_left_alone(cfg, tmp_path):
    p = tmp_path / "b.yaml"
    p.write_text("标题：珠晖区人民政府关于做好防汛工作的通知\n正文: |\n  一、时间：5月6日\n  二、地点：区政府\n", encoding="utf-8")
    d = read_draft(p, cfg)
    assert d.title == "珠晖区人民政府关于做好防汛工作的通知"
    assert texts(d.body) == ["一、时间：5月6日", "二、地点：区政府"]


def test_signers_separated_by_spaces(cfg):
    d, _ = reviewed(corpus("m13"), cfg)
    assert d.signers == ("陈礼洋", "彭建元")


def test_utf16_text_from_notepad_is_read(cfg):
    d, problems = reviewed(corpus("t06"), cfg)
    assert d.title == "珠晖区人民政府办公室关于做好2015年秋季开学安全工作的通知"
    assert d.date_text == "2015年8月25日" and errors(problems) == []


def test_zero_width_characters_are_removed_everywhere(cfg):
    d, _ = reviewed(corpus("m11"), cfg)
    assert d.main_to == "区政府各部门、各直属机构" and d.title == "珠晖区人民政府办公室关于进一步规范机关公文处理工作的通知"
    assert not any(re.search("[\u200b\u2060\ufeff]", t) for t in texts(d.body))


# --- punctuation -------------------------------------------------------------------------------------------
def test_straight_double_quotes_in_chinese_become_chinese_quotes(cfg):
    d, problems = reviewed(corpus("m06"), cfg)
    assert d.title == "珠晖区人民政府关于加快推进“互联网+政务服务”工作的意见"
    body = "".join(texts(d.body))
    assert '"' not in body and "实现全部事项“一网通办”。网上办件量" in body
    assert "统一数据接口（API）。" in body
    assert rules.fix_punctuation('系统提示"Error 404"。')[0] == "系统提示“Error 404”。"
    assert rules.fix_punctuation('He said "hello world".')[0] == 'He said "hello world".'   # English kept


def test_traditional_characters_are_named(cfg):
    _, problems = reviewed(corpus("m05"), cfg)
    title = [p.message for p in problems if p.element == "标题" and "繁体" in p.message]
    assert len(title) == 1 and "辦→办" in title[0] and "關→关" in title[0]
    # standard characters OpenCC maps one way are not traditional; a simplified draft has none
    assert rules._traditional("著") is None and rules._traditional("结") is None
    for key in ("m01", "r15", "y01"):
        assert not any("繁体" in p.message for p in reviewed(corpus(key), cfg)[1])


def test_markdown_link_address_is_reported(cfg):
    _, problems = reviewed(corpus("m01"), cfg)
    assert any("http://www.zhuhui.gov.cn" in p.message and p.severity == "warning" for p in problems)


# --- rendering -------------------------------------------------------------------------------------------
def _rendered(d, cfg_path: Path, out: Path) -> bytes:
    config = load(cfg_path)
    number = Number(d.series, 2015, 7, f"{d.series}〔2015〕7号", f"{d.series}〔2015〕7号")
    render.render_document(d, number, config, out)
    return out.read_bytes()


@pytest.fixture(scope="module")
def instance(tmp_path_factory) -> Path:
    return write_instance(tmp_path_factory.mktemp("robust-instance"))


def _body_paragraphs(data: bytes) -> list[etree._Element]:
    with zipfile.ZipFile(__import__("io").BytesIO(data)) as z:
        root = etree.fromstring(z.read("word/document.xml"))
    return list(root.iter(W + "p"))


def _runs(p: etree._Element) -> list[tuple[str, str | None]]:
    out = []
    for r in p.iter(W + "r"):
        t = "".join(x.text or "" for x in r.iter(W + "t"))
        if t:
            fonts = r.find(f"{W}rPr/{W}rFonts")
            out.append((t, fonts.get(W + "eastAsia") if fonts is not None else None))
    return out


def test_run_in_headings_are_set_in_the_heading_face(cfg, instance, tmp_path):
    """「一、总体情况。2014年……」: the run-in heading is 黑体 (（一） 楷体), the sentence after it 仿宋
    (GB/T 9704 7.3.3 gives the faces by level, whether the heading stands alone or runs in)."""
    d, _ = reviewed(corpus("r02"), cfg)
    paras = _body_paragraphs(_rendered(d, instance, tmp_path / "r02.docx"))
    by_text = {"".join(t for t, _ in _runs(p)): _runs(p) for p in paras}
    one = next(v for k, v in by_text.items() if k.startswith("一、总体情况。"))
    assert one[0] == ("一、总体情况。", "黑体") and all(f == "仿宋_GB2312" for _, f in one[1:])
    two = next(v for k, v in by_text.items() if k.startswith("（一）窗口授权不到位。"))
    assert two[0] == ("（一）窗口授权不到位。", "楷体_GB2312")
    # a long first sentence is not a heading: 纪要 decisions stay 仿宋 throughout
    d, _ = reviewed(corpus("r14"), cfg, route(cfg, "纪要"))
    paras = _body_paragraphs(_rendered(d, instance, tmp_path / "r14.docx"))
    dec = next(_runs(p) for p in paras if "".join(t for t, _ in _runs(p)).startswith("一、会议原则同意"))
    assert {f for _, f in dec} == {"仿宋_GB2312"}


def test_merged_table_title_row_spans_the_table(cfg, instance, tmp_path):
    d, _ = reviewed(corpus("r05"), cfg)
    data = _rendered(d, instance, tmp_path / "r05.docx")
    with zipfile.ZipFile(__import__("io").BytesIO(data)) as z:
        root = etree.fromstring(z.read("word/document.xml"))
    tbl = next(t for t in root.iter(W + "tbl") if "清查工作时间安排" in "".join(x.text or "" for x in t.iter(W + "t")))
    first = tbl.find(W + "tr")
    cells = first.findall(W + "tc")
    assert len(cells) == 1 and cells[0].find(f"{W}tcPr/{W}gridSpan").get(W + "val") == "3"
    # the title row and the column heads under it repeat on each page and keep with the first data row
    rows = tbl.findall(W + "tr")
    assert [r.find(f"{W}trPr/{W}tblHeader") is not None for r in rows] == [True, True, False, False, False]
    assert all(p.find(f"{W}pPr/{W}keepNext") is not None for r in rows[:2] for p in r.iter(W + "p"))


# --- the corpus: outcome per draft ----------------------------------------------------------------------
# file prefix → (expected error elements — empty means issued —, 文种, 机关代字)
EXPECT: dict[str, tuple[set[str], str | None, str | None]] = {
    "m01": (set(), "通知", "珠政办发"), "m02": (set(), "通报", "珠政办发"), "m03": (set(), "函", "珠政函"),
    "m04": (set(), "决定", "珠政发"),
    "m05": ({"正文"}, "通知", "珠政办发"),                      # emoji, each named
    "m06": (set(), "意见", "珠政发"), "m07": (set(), "通知", "珠政发"),
    "m08": ({"成文日期", "机关代字"}, "批复", None),            # 2015-3-20; 批复 issued by 珠政发 and 珠政函
    "m09": ({"密级"}, "通知", "珠政发"),                        # 秘密: refused
    "m10": (set(), "纪要", "常务会议纪要"), "m11": (set(), "通知", "珠政办发"), "m12": (set(), "通知", "珠政办发"),
    "m13": (set(), "报告", "珠政发"), "m14": (set(), "通知", "珠政发"), "m15": (set(), "通知", "珠政发"),
    "r01": (set(), "通知", "珠政发"), "r02": (set(), "通报", "珠政办发"), "r03": (set(), "请示", "珠政发"),
    "r04": (set(), "意见", "珠政发"), "r05": (set(), "通知", "珠政办发"), "r06": (set(), "报告", "珠政发"),
    "r07": (set(), "通知", "珠政发"), "r08": (set(), "通报", "珠政发"), "r09": (set(), "批复", "珠政发"),
    "r10": (set(), "通知", "珠政发"),
    "r11": ({"成文日期"}, "函", "珠政函"),                      # 二〇一五年三月二十日
    "r12": ({"发文字号"}, "通知", "珠政发"),                    # 珠政发（2015）12号
    "r13": (set(), "通知", "珠政办发"), "r14": (set(), "纪要", "常务会议纪要"), "r15": (set(), "报告", "珠政发"),
    "r16": (set(), "通知", "珠政办发"), "r17": (set(), "通知", "珠政发"), "r18": (set(), "决定", "珠政发"),
    "r19": (set(), "通知", "珠政办发"), "r20": (set(), "通报", "珠政发"),
    "t01": (set(), "请示", "珠政发"), "t02": (set(), "报告", "珠政发"), "t03": (set(), "通报", "珠政办发"),
    "t04": ({"成文日期"}, "函", "珠政函"),                      # 2015.3.20
    "t05": ({"成文日期", "发文字号"}, "通知", "珠政发"),
    "t06": (set(), "通知", "珠政办发"),
    "t07": ({"标题", "成文日期", "正文"}, "通知", "珠政发"),    # placeholders
    "y01": (set(), "报告", "珠政发"), "y02": (set(), "纪要", "常务会议纪要"), "y03": (set(), "通知", "珠政办发"),
}
ROUTED = {"r14": "纪要"}          # a Word 纪要 comes through inbox/纪要/


def _corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.name[:3] in EXPECT)


def test_corpus_is_complete():
    names = {p.name[:3] for p in CORPUS.iterdir()}
    assert names == set(EXPECT), "every fixture has an expectation and every expectation a fixture"
    assert len(EXPECT) >= 30
    kinds = {k for _, k, _ in EXPECT.values()}
    assert {"通知", "通报", "请示", "报告", "批复", "函", "意见", "决定", "纪要"} <= kinds


@pytest.fixture(scope="module")
def reviewed_corpus(cfg):
    out = {}
    for path in _corpus_files():
        key = path.name[:3]
        r = route(cfg, ROUTED[key]) if key in ROUTED else None
        out[key] = (path, *reviewed(path, cfg, r))
    return out


@pytest.mark.parametrize("key", sorted(EXPECT))
def test_corpus_outcome(reviewed_corpus, cfg, key):
    """Issued when a careful clerk would issue it; otherwise rejected for exactly the elements at
    fault, each problem a Chinese sentence naming the element."""
    path, d, problems = reviewed_corpus[key]
    want_errors, kind, series = EXPECT[key]
    assert {p.element for p in problems if p.severity == "error"} == want_errors, errors(problems)
    assert (d.kind, d.series) == (kind, series)
    for p in problems:
        assert p.element and re.search("[\u4e00-\u9fff]", p.message), p
    if not want_errors:
        assert d.title and d.date is not None
        if kind != "纪要":
            assert d.main_to and d.signature
        # no element was left behind in the body
        for t in texts(d.body):
            s = P.squeeze(t)
            assert not P.DATE_LOOSE_RE.match(s) and s != P.squeeze(d.signature or "-") and s != P.squeeze(d.title)
            assert not (d.main_to and s.rstrip("：:") == P.squeeze(d.main_to))
            assert not P.ATTACH_NOTE_RE.match(s) and not P.CC_RE.match(s)


# --- all text preserved ---------------------------------------------------------------------------------
_KEEP = re.compile(r"[^0-9A-Za-z\u3400-\u9fff]")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
PAGE_NUMBER = re.compile(r"^\s*[—–-]\s*\d+\s*[—–-]\s*$", re.M)


def norm(text: str) -> str:
    """Content characters only: punctuation, spaces and width differences are the renderer's business
    (half-width marks are normalised, heading numbers rewritten, lines rebroken)."""
    return _KEEP.sub("", unicodedata.normalize("NFKC", text))


def _docx_units(path: Path) -> list[str]:
    """The draft's text as Word shows it, line by line, read independently of the reader: every w:t
    in document order (text boxes once, deleted text and field codes not), split at line breaks."""
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read("word/document.xml"))
    fallback = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
    lines: dict[int, list[str]] = {}
    order: list[etree._Element] = []
    for el in root.iter(W + "t", W + "br"):
        anc, skip, para = el.getparent(), False, None
        while anc is not None:
            if anc.tag in (W + "del", fallback):
                skip = True
                break
            if para is None and anc.tag == W + "p":
                para = anc
            anc = anc.getparent()
        if skip or para is None:
            continue
        if id(para) not in lines:
            lines[id(para)] = [""]
            order.append(para)
        if el.tag == W + "br":
            lines[id(para)].append("")
        else:
            lines[id(para)][-1] += el.text or ""
    return [x for p in order for x in lines[id(p)] if x.strip()]


def _text_units(path: Path) -> list[str]:
    """A text draft's body (after the front matter; for YAML the 正文, 导语 and 议定事项), line by line,
    with Markdown markup taken off."""
    raw = path.read_bytes()
    text = raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("utf-8-sig")
    text = text.replace("\r\n", "\n")
    if path.suffix in (".yaml", ".yml"):
        data = yaml.safe_load(text)
        body = data.get("正文") or []
        lines = body.splitlines() if isinstance(body, str) else [str(x) for x in body]
        lines += [str(data.get("导语") or "")]
        for dec in data.get("议定事项") or []:
            lines.append(dec["事项"] if isinstance(dec, dict) else str(dec))
        return [x for x in lines if x.strip()]
    if text.startswith("---"):
        text = text.split("\n---", 1)[1].split("\n", 1)[1]
    out = []
    for line in text.split("\n"):
        line = re.sub(r"<!--.*?-->", "", _MD_LINK.sub(r"\1", line))
        if re.fullmatch(r"\s*\|?[\s:|-]*\|[\s:|-]*", line):
            continue                                        # a table's separator row
        out += [c for c in line.split("|")] if line.strip().startswith("|") else [line]
    return [x for x in out if norm(x)]


def source_units(path: Path) -> list[str]:
    return _docx_units(path) if path.suffix == ".docx" else _text_units(path)


def _whole_text(path: Path) -> str:
    """Everything the draft says, metadata included (a body paragraph may repeat the 主送 given in the
    front matter: both are printed)."""
    if path.suffix == ".docx":
        return "\n".join(_docx_units(path))
    raw = path.read_bytes()
    text = raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("utf-8-sig")
    return _MD_LINK.sub(r"\1", text)


def assert_text_preserved(units: list[str], output: str, where: str, whole: str | None = None) -> None:
    """Every unit of the draft is in the output, in the draft's order, and no paragraph of the draft
    is there more often than in the draft (nothing lost, nothing duplicated, order kept)."""
    out = norm(output)
    source_all = norm(whole) if whole is not None else "".join(norm(u) for u in units)
    pos = 0
    for u in units:
        n = norm(u)
        if not n:
            continue
        at = out.find(n, pos)
        if at < 0:
            assert n in out, f"{where}: lost 「{u[:40]}」"
            # found, but earlier: a 版头/版记 element the layout puts elsewhere may come before; the
            # body must not
            assert len(n) < 12 or P.CC_RE.match(P.squeeze(u)) or P.PRINT_RE.match(u.strip()), \
                f"{where}: order changed at 「{u[:40]}」"
            continue
        pos = at + len(n)
        if len(n) >= 12:
            assert out.count(n) <= source_all.count(n), f"{where}: duplicated 「{u[:40]}」"


def _number_for(d) -> Number:
    if d.number_text:
        m = P.NUMBER_EXACT_RE.match(P.squeeze(d.number_text))
        return Number(d.series, int(m["year"]), int(m["seq"]), d.number_text, d.number_text)
    fmt = "〔2015〕7号" if d.kind == "纪要" else f"{d.series}〔2015〕7号"
    return Number(d.series, 2015, 7, fmt, f"{d.series}〔2015〕7号")


@pytest.mark.parametrize("key", sorted(k for k, (e, _, _) in EXPECT.items() if not e))
def test_all_text_preserved_in_rendered_docx(reviewed_corpus, instance, tmp_path, key):
    path, d, _ = reviewed_corpus[key]
    out = tmp_path / f"{key}.docx"
    render.render_document(d, _number_for(d), load(instance), out)
    rendered = "\n".join(render.docx_paragraph_texts(out.read_bytes()))
    assert_text_preserved(source_units(path), rendered, path.name, _whole_text(path))


def test_text_preservation_check_catches_loss_and_duplication():
    units = ["一、总体要求", "各单位要高度重视，切实加强组织领导。", "珠晖区人民政府"]
    good = "一、总体要求\n各单位要高度重视,切实加强组织领导.\n珠晖区人民政府"
    assert_text_preserved(units, good, "ok")
    with pytest.raises(AssertionError, match="lost"):
        assert_text_preserved(units, "一、总体要求\n珠晖区人民政府", "lost")
    with pytest.raises(AssertionError, match="duplicated"):
        assert_text_preserved(units, good + "\n各单位要高度重视，切实加强组织领导。", "dup")
    with pytest.raises(AssertionError, match="order"):
        assert_text_preserved(units, "各单位要高度重视，切实加强组织领导。\n一、总体要求\n珠晖区人民政府", "order")


# --- the real pipeline on a sample: LibreOffice PDF, read back with pdftotext -------------------------------
PIPELINE_SAMPLE = ("r02", "r04", "r10", "r14", "m14", "t06")


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    """`gongwen process --json` on the sample in a fresh instance (one LibreOffice for all)."""
    from pipeline.instance import init_instance

    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is required: `make test` installs it")
    base = tmp_path_factory.mktemp("robust-pipeline")
    root = base / "instance"
    init_instance(root, None)
    files = []
    for key in PIPELINE_SAMPLE:
        src = corpus(key)
        folder = base / "drafts" / ROUTED.get(key, "")     # a 纪要 comes through the 纪要 folder
        folder.mkdir(parents=True, exist_ok=True)
        files.append(shutil.copy(src, folder / src.name))
    env = {k: v for k, v in os.environ.items() if k != "GONGWEN_CONFIG"}
    res = subprocess.run([sys.executable, "-m", "pipeline", "--config", str(root / "config.yaml"), "process", "--json",
                          *map(str, files)], capture_output=True, text=True, timeout=900, cwd=root, env=env)
    outcomes = {}
    for line in res.stdout.splitlines():
        if line.startswith("{"):
            o = json.loads(line)
            outcomes[Path(o["file"]).name[:3]] = o
    assert set(outcomes) == set(PIPELINE_SAMPLE), res.stdout[-2000:] + res.stderr[-2000:]
    return outcomes


@pytest.mark.parametrize("key", PIPELINE_SAMPLE)
def test_all_text_preserved_in_pipeline_pdf(pipeline_run, key):
    o = pipeline_run[key]
    assert o["status"] == "issued", o["problems"]
    assert not any(p["severity"] == "error" for p in o["problems"])
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", o["pdf"], "-"], capture_output=True, text=True,
                          check=True).stdout
    text = PAGE_NUMBER.sub("", text)
    path = corpus(key)
    assert_text_preserved(source_units(path), text, f"{path.name} → PDF", _whole_text(path))


# --- more habits ----------------------------------------------------------------------------------------------
def test_contact_note_without_brackets_after_the_date(cfg, tmp_path):
    """「联系人：罗毅，电话：……」 typed after the date without brackets is the 附注, not a reason to lose
    the date and the 署名."""
    p = tmp_path / "req.txt"
    p.write_text("珠晖区人民政府关于申请防汛物资补助的请示\n衡阳市人民政府：\n我区防汛物资储备不足，恳请市政府给予补助。\n"
                 "妥否，请批示。\n珠晖区人民政府\n2015年5月6日\n联系人：罗毅，联系电话：0734-8212355\n", encoding="utf-8")
    d, problems = reviewed(p, cfg)
    assert d.date_text == "2015年5月6日" and d.signature == "珠晖区人民政府"
    assert d.note == "联系人：罗毅，联系电话：0734-8212355"
    assert texts(d.body) == ["我区防汛物资储备不足，恳请市政府给予补助。", "妥否，请批示。"]
    assert any(p.element == "附注" and "括号" in p.message and p.severity == "warning" for p in problems)


def test_draft_marker_in_title_is_named(cfg, tmp_path):
    p = tmp_path / "a.md"
    p.write_text("---\n标题: 珠晖区人民政府关于加强河道管理的意见（征求意见稿）\n主送: 各镇人民政府\n成文日期: 2015年5月6日\n"
                 "署名: 珠晖区人民政府\n---\n\n为加强河道管理，提出如下意见。\n", encoding="utf-8")
    d, problems = reviewed(p, cfg)
    assert d.kind == "意见"
    title_errors = [p.message for p in problems if p.element == "标题" and p.severity == "error"]
    assert len(title_errors) == 1 and "（征求意见稿）" in title_errors[0] and "删去" in title_errors[0]


def test_main_to_typed_with_its_label_under_the_title(cfg, tmp_path):
    p = tmp_path / "a.txt"
    p.write_text("珠晖区人民政府办公室关于做好端午节期间安全工作的通知\n主送：各镇人民政府、街道办事处，区政府各部门\n"
                 "端午节将至，请各单位做好节日期间安全工作。\n珠晖区人民政府办公室\n2015年6月15日\n", encoding="utf-8")
    d, problems = reviewed(p, cfg)
    assert d.main_to == "各镇人民政府、街道办事处，区政府各部门"
    assert texts(d.body) == ["端午节将至，请各单位做好节日期间安全工作。"]
    assert errors(problems) == []


def test_docx_fixtures_match_their_script(fixtures_script, tmp_path):
    """The committed .docx drafts are what scripts/make_robustness_fixtures.py builds (rerun it after
    changing either)."""
    for fn in fixtures_script.DOCX:
        built = fixtures_script.build_one(fn, tmp_path)
        with zipfile.ZipFile(built) as a, zipfile.ZipFile(CORPUS / built.name) as b:
            assert a.read("word/document.xml") == b.read("word/document.xml"), f"{built.name} is stale"


def test_text_box_in_a_table_cell_is_read_once(fixtures_script):
    from pipeline.drafts import _docx
    from pipeline.drafts._numbering import Numbering

    box = etree.tostring(fixtures_script._textbox_run("注：单位为万元")).decode()
    xml = (f'<w:tbl xmlns:w="{W[1:-1]}"><w:tr><w:tc><w:p><w:r><w:t>合计</w:t></w:r>{box}</w:p></w:tc>'
           f'<w:tc><w:p><w:r><w:t>480</w:t></w:r></w:p></w:tc></w:tr></w:tbl>')
    rows = _docx._table_rows(etree.fromstring(xml), Numbering(None, None), [], [])
    assert rows == (("合计\n注：单位为万元", "480"),)
