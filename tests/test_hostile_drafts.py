"""Drafts that carry what a 公文 and its archive must not: control and bidi characters, a title of
thousands of characters, a macro-enabled Word document renamed .docx, inline HTML in Markdown.

Each is decided as an archivist would (see the docs, "Hostile drafts"):
- C0/C1 control characters (BEL, BS, ESC …) and the invisible bidi marks (LRM, RLM, ALM): printed as
  nothing, meaningless in Chinese text → taken out, with a warning naming the element;
- bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): the text displays in
  another order than it is stored → sent back (no number taken);
- a title over 200 characters → sent back;
- a .docx with a VBA project (a .docm renamed) or ActiveX controls → sent back: the 原稿 is archived
  byte for byte, so the macro cannot be taken out of it;
- inline HTML tags → taken out, their text kept, with a warning naming the tags.
"""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from pipeline import rules
from pipeline.drafts import probe, read_draft
from pipeline.errors import DraftError
from tests.conftest import REPO

HEAD = """---
文种: 通知
机关代字: 珠政办发
标题: "{title}"
主送: 各镇人民政府、街道办事处，区直各单位
成文日期: 2015年5月8日
署名: 珠晖区人民政府办公室
---
{body}
"""
BODY = "各单位要高度重视防汛工作，明确责任，抓好落实。"


def md(tmp_path: Path, title: str = "珠晖区人民政府办公室关于做好防汛工作的通知", body: str = BODY,
       name: str = "草稿.md") -> Path:
    p = tmp_path / "珠政办发" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(HEAD.format(title=title, body=body), encoding="utf-8")
    return p


def reviewed(path: Path, cfg):
    return rules.review(read_draft(path, cfg), cfg)


def errors(problems):
    return [(p.element, p.message) for p in problems if p.severity == "error"]


def warnings(problems):
    return [(p.element, p.message) for p in problems if p.severity != "error"]


# --- control and bidi characters ---------------------------------------------------------------------

def test_control_characters_are_taken_out_with_a_warning_naming_the_element(tmp_path, cfg):
    # YAML's "\a" and "\b" escapes are BEL and BS; the body carries an ESC and a DEL as typed bytes.
    path = md(tmp_path, title=r"珠晖区人民政府办公室关于做好\a防汛\b工作的通知",
              body="各单位要高度重视\x1b防汛工作\x7f，明确责任，抓好落实。")
    draft, problems = reviewed(path, cfg)
    assert draft.title == "珠晖区人民政府办公室关于做好防汛工作的通知"
    assert draft.body[0].text == BODY
    assert errors(problems) == []
    assert ("标题", "含有不可见的控制字符（U+0007、U+0008），已删去") in warnings(problems)
    assert ("正文", "第1段含有不可见的控制字符（U+001B、U+007F），已删去") in warnings(problems)


def test_invisible_bidi_marks_are_taken_out_with_a_warning(tmp_path, cfg):
    path = md(tmp_path, title="珠晖区人民政府办公室关于做好\u200e防汛工作的通知")
    draft, problems = reviewed(path, cfg)
    assert draft.title == "珠晖区人民政府办公室关于做好防汛工作的通知" and errors(problems) == []
    assert ("标题", "含有不可见的文字方向标记（U+200E），已删去") in warnings(problems)


@pytest.mark.parametrize("char", ["\u202e", "\u202d", "\u202a", "\u2066", "\u2069"])
def test_bidi_overrides_and_isolates_send_the_draft_back(tmp_path, cfg, char):
    path = md(tmp_path, title=f"珠晖区人民政府办公室关于做好防汛{char}工作的通知",
              body=f"各单位要高度重视{char}防汛工作，明确责任，抓好落实。")
    _, problems = reviewed(path, cfg)
    code = f"U+{ord(char):04X}"
    assert ("标题", f"含有改变文字显示顺序的双向控制字符（{code}）：显示出来的文字与实际存储的不同，请删去后重新提交") \
        in errors(problems)
    assert ("正文", f"第1段含有改变文字显示顺序的双向控制字符（{code}）：显示出来的文字与实际存储的不同，请删去后重新提交") \
        in errors(problems)


# --- a title of thousands of characters ----------------------------------------------------------------

def test_a_title_over_200_characters_is_sent_back(tmp_path, cfg):
    long = "珠晖区人民政府办公室关于做好" + "防" * 4981 + "工作的通知"
    assert len(long) == 5000
    _, problems = reviewed(md(tmp_path, title=long), cfg)
    assert ("标题", f"标题过长（5000 字，上限 {rules.MAX_TITLE_CHARS} 字），请精简") in errors(problems)
    ok = "珠晖区人民政府办公室关于做好" + "防" * (rules.MAX_TITLE_CHARS - 19) + "工作的通知"
    assert len(ok) == rules.MAX_TITLE_CHARS
    _, problems = reviewed(md(tmp_path, title=ok, name="长.md"), cfg)
    assert not [m for e, m in errors(problems) if "过长" in m]


def test_the_year_check_uses_the_same_title_limit():
    from pipeline.yearend.checks import MAX_LEN

    assert MAX_LEN["题名"] == rules.MAX_TITLE_CHARS


# --- a macro-enabled document renamed .docx ----------------------------------------------------------------

DOCX = REPO / "tests" / "fixtures" / "robustness" / "r03-请示-两个签发人.docx"


def _with_parts(src: Path, dest: Path, extra: dict[str, bytes], content_type_from: str | None = None,
                content_type_to: str | None = None) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "[Content_Types].xml" and content_type_from:
                data = data.replace(content_type_from.encode(), content_type_to.encode())
            zout.writestr(info, data)
        for name, data in extra.items():
            zout.writestr(name, data)
    return dest


def docm(tmp_path: Path) -> Path:
    dest = tmp_path / "珠政办发" / "宏.docx"
    dest.parent.mkdir(parents=True, exist_ok=True)
    return _with_parts(DOCX, dest, {"word/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504},
                       "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
                       "application/vnd.ms-word.document.macroEnabled.main+xml")


MACRO = ("这是启用宏的 Word 文档（含 VBA 宏 word/vbaProject.bin，可能是 .docm 改了扩展名）：宏可以执行代码，"
         "不能存入档案；请在 Word/WPS 中“另存为”普通的 .docx（不含宏）后再放入")


def test_a_macro_enabled_document_is_refused_by_the_gate_and_the_reader(tmp_path, cfg):
    path = docm(tmp_path)
    assert probe(path) == MACRO
    with pytest.raises(DraftError) as e:
        read_draft(path, cfg)
    assert str(e.value) == f"宏.docx：{MACRO}"


def test_activex_controls_are_refused(tmp_path, cfg):
    dest = tmp_path / "控件.docx"
    _with_parts(DOCX, dest, {"word/activeX/activeX1.xml": b'<?xml version="1.0"?><ax:ocx xmlns:ax="x"/>'})
    assert probe(dest) == ("文档含有 ActiveX 控件（word/activeX/activeX1.xml），控件可以执行代码，不能存入档案；"
                           "请在 Word/WPS 中删除控件后另存为 .docx 再放入")


def test_a_plain_docx_still_passes_the_gate():
    assert probe(DOCX) is None


# --- inline HTML in Markdown -----------------------------------------------------------------------------

def test_inline_html_tags_are_taken_out_with_a_warning_and_their_text_kept(tmp_path, cfg):
    body = '各单位要<span style="color:red">高度重视</span>防汛工作，<u>明确责任</u>，抓好落实。'
    draft, problems = reviewed(md(tmp_path, body=body), cfg)
    assert draft.body[0].text == BODY
    assert ("正文", "草稿中的 HTML 标签（<span>、<u>）已去掉，只保留其中的文字；公文的格式由模板决定") in warnings(problems)


def test_an_html_line_break_is_a_line_break(tmp_path, cfg):
    draft, problems = reviewed(md(tmp_path, body="第一行文字。<br>第二行文字。"), cfg)
    assert [b.text for b in draft.body] == ["第一行文字。", "第二行文字。"]
    assert not [m for _, m in warnings(problems) if "HTML" in m]


# --- through the pipeline: nothing numbered, nothing archived ----------------------------------------

def _counters(config):
    from pipeline.ledger import Ledger, ledger_path

    if not ledger_path(config).exists():
        return {}
    with Ledger.open(config) as ledger:
        return ledger.counters(2015)


@pytest.mark.parametrize("make", ["bidi", "long title", "macro"])
def test_a_refused_draft_takes_no_number_and_survives(inst, tmp_path, make):
    from pipeline.process import open_services, process_draft

    if make == "bidi":
        path = md(tmp_path, title="珠晖区人民政府办公室关于做好防汛\u202e工作的通知")
        why = "双向控制字符（U+202E）"
    elif make == "long title":
        path = md(tmp_path, title="珠晖区人民政府办公室关于做好" + "防汛" * 300 + "工作的通知")
        why = "标题过长（619 字"
    else:
        path = docm(tmp_path)
        why = MACRO
    before, data = _counters(inst), path.read_bytes()
    with open_services(inst, "测试员") as svc:
        o = process_draft(path, svc)
    assert o.status == "rejected" and o.number is None, o
    assert any(why in p.message and p.severity == "error" for p in o.problems), o.problems
    assert _counters(inst) == before
    assert path.read_bytes() == data
    assert not list(inst.archive_dir.glob("2015/*/*/原稿.docx"))


@pytest.mark.libreoffice    # issued through the real pipeline
def test_a_title_with_control_characters_is_issued_and_filed_without_them(inst, tmp_path):
    import json

    from pipeline.process import open_services, process_draft

    path = md(tmp_path, title=r"珠晖区人民政府办公室关于做好\a汛期\b值班工作的通知")
    with open_services(inst, "测试员") as svc:
        o = process_draft(path, svc)
        assert o.status == "issued", o.problems
        rec = svc.store.find(o.number)
    meta = json.loads((rec.path / "metadata.json").read_text(encoding="utf-8"))
    assert meta["题名"] == "珠晖区人民政府办公室关于做好汛期值班工作的通知"
    assert "\x07" not in (rec.path / "全文.txt").read_text(encoding="utf-8")
    assert any(p.element == "标题" and "控制字符" in p.message for p in o.problems)
    shutil.rmtree(tmp_path / "珠政办发")


def test_a_content_control_without_content_reads_as_nothing(tmp_path, cfg):
    """A <w:sdt> with no <w:sdtContent> (a damaged or hand-made document; the type check saw the
    reader visit the missing content) is read as nothing, not a TypeError."""
    dest = tmp_path / "珠政办发" / "空控件.docx"
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(DOCX) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "word/document.xml":
                assert data.count(b"<w:body>") == 1
                data = data.replace(b"<w:body>", b"<w:body><w:sdt><w:sdtPr/></w:sdt>")
            zout.writestr(info, data)
    assert read_draft(dest, cfg).body == read_draft(DOCX, cfg).body
