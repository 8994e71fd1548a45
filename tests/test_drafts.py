"""Draft readers: every reader on the example drafts (fields come out right), metadata precedence,
the shared real-world drafts, and garbage that must give a DraftError with a Chinese reason."""
from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, shared_path
from pipeline.drafts import SUPPORTED_SUFFIXES, probe, read_draft
from pipeline.errors import DraftError

EXAMPLES = REPO / "examples"
FIXTURES = REPO / "tests" / "fixtures" / "drafts"
CJK = re.compile("[\u4e00-\u9fff]")



def ex(rel: str) -> Path:
    return EXAMPLES / rel


def kinds_of(blocks):
    return [b.kind for b in blocks]


# --- .docx --------------------------------------------------------------------------------------------
def test_docx_notice_with_attachments(cfg):
    d = read_draft(ex("珠政发/关于做好2015年春节期间安全生产工作的通知.docx"), cfg)
    assert d.source_format == "docx"
    # a title typed over two lines is one title
    assert d.title == "珠晖区人民政府关于做好2015年春节期间安全生产工作的通知"
    assert d.main_to == "各镇人民政府、街道办事处，区政府各部门、各直属机构"
    assert d.kind == "通知" and d.origins["kind"] == "推断"
    assert d.series == "珠政发" and d.origins["series"] == "收件夹"
    heads = [(b.kind, b.text) for b in d.body if b.kind.startswith("heading")]
    assert heads[:3] == [("heading1", "一、提高认识，落实安全生产责任"),
                         ("heading1", "二、突出重点，开展隐患排查整治"), ("heading2", "（一）烟花爆竹")]
    assert d.body[0].kind == "paragraph" and d.body[0].text.startswith("春节将至")
    assert d.attachment_note == ("附件：1.2015年春节期间安全生产检查重点", "2.春节期间区直部门值班安排表")
    a1, a2 = d.attachments
    assert (a1.number, a1.name, a1.title) == (1, "2015年春节期间安全生产检查重点", "2015年春节期间安全生产检查重点")
    assert len(a1.blocks) == 4 and a1.blocks[0].text.startswith("一、烟花爆竹")
    assert (a2.number, a2.title) == (2, "春节期间区直部门值班安排表")
    assert a2.blocks[0].kind == "table" and a2.blocks[0].rows[1] == ("2月18日", "陈礼洋", "区政府办公室", "0734-8212345")
    assert d.signature == "珠晖区人民政府" and d.date_text == "2015年2月6日" and d.date.isoformat() == "2015-02-06"
    assert d.note == "此件公开发布"
    assert d.cc == "区委办，区人大办，区政协办"
    assert d.printer == "珠晖区人民政府办公室" and d.origins["printer"] == "正文"
    assert d.print_date_text == "2015年2月6日"
    # metadata the text doesn't carry: custom document properties with Chinese names
    assert d.publicity == "主动公开" and d.origins["publicity"] == "文档属性"
    assert d.drafter_unit == "区安监局" and d.drafter == "汤水华"
    assert d.retention == "Y" and d.origins["retention"] == "配置"


def test_docx_request_signer_line_and_split_title(cfg):
    d = read_draft(ex("珠政发/关于申请火车站广场综合管理专项经费的请示.docx"), cfg)
    assert d.signers == ("陈礼洋",) and d.origins["signers"] == "正文"
    assert d.title == "珠晖区人民政府关于申请火车站广场综合管理专项经费的请示"
    assert d.kind == "请示" and d.main_to == "衡阳市人民政府"
    assert d.note == "联系人：文雅，电话：0734-8212301"
    assert d.body[-1].text == "妥否，请批示。"


def test_docx_properties_give_kind_and_single_attachment(cfg):
    d = read_draft(ex("珠政办发/关于印发《珠晖区人民政府办公室印章使用管理办法》的通知.docx"), cfg)
    assert d.kind == "通知" and d.origins["kind"] == "文档属性"
    assert d.series == "珠政办发"
    (a,) = d.attachments
    assert a.number is None and a.name == a.title == "珠晖区人民政府办公室印章使用管理办法"
    assert len(a.blocks) == 6 and a.blocks[0].text.startswith("第一条")


def test_docx_typed_number_unknown_property_and_vendor_properties(cfg, tmp_path):
    d = read_draft(FIXTURES / "bad-props-number-date.docx", cfg)
    assert d.number_text == "珠政发[2015]第03号"
    assert d.series == "珠政发" and d.origins["series"] == "正文"   # from the typed 文号's 机关代字
    assert d.urgency == "急件"
    assert any(p.severity == "warning" and "文众" in p.message for p in d.read_problems)
    assert d.date_text == "2015年04月01日" and d.date is None       # kept as written, judged by rules


def test_docx_tracked_changes_and_vendor_props(cfg, tmp_path):
    """Text inserted with track changes is read, deleted text is not; WPS's own ASCII-named
    properties are ignored silently."""
    src = ex("珠政函/关于商请提供2014年度年鉴资料的函.docx")
    dst = tmp_path / "珠政函" / "修订.docx"
    dst.parent.mkdir()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                xml = data.decode("utf-8")
                xml = xml.replace("<w:t>特此函商，请予支持。</w:t>",
                                  "<w:t>特此函商，</w:t></w:r><w:del w:id=\"1\" w:author=\"a\"><w:r><w:delText>望</w:delText></w:r></w:del>"
                                  "<w:ins w:id=\"2\" w:author=\"a\"><w:r><w:t>请予支持。</w:t></w:r></w:ins><w:r><w:t></w:t>", 1)
                data = xml.encode("utf-8")
            if item.filename == "docProps/custom.xml":
                data = data.replace(b"</Properties>", b'<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="9" name="KSOProductBuildVer"><vt:lpwstr>2052-11.1</vt:lpwstr></property></Properties>')
            zout.writestr(item, data)
    d = read_draft(dst, cfg)
    assert d.body[-1].text == "特此函商，请予支持。"
    assert d.kind == "函" and d.origins["kind"] == "收件夹"
    msgs = [p.message for p in d.read_problems]
    assert any("修订" in m for m in msgs)
    assert not any("KSOProductBuildVer" in m for m in msgs)


# --- Markdown / text with front matter --------------------------------------------------------------
def test_markdown_front_matter_and_table(cfg):
    d = read_draft(ex("珠政发/关于2014年度目标绩效考核结果的通报.md"), cfg)
    assert d.source_format == "markdown"
    assert d.title == "珠晖区人民政府关于2014年度目标绩效考核结果的通报"
    assert d.origins["title"] == "前置元数据"
    assert d.kind == "通报" and d.cc == "区委办、区人大办、区政协办"
    table = next(b for b in d.body if b.kind == "table")
    assert table.rows[0] == ("等次", "单位") and table.rows[1][0] == "优秀"
    assert kinds_of(d.body).count("heading1") == 2 and kinds_of(d.body).count("heading2") == 0
    assert d.body[-1].text.startswith("（三）抓好落实。")   # a run-in heading stays a paragraph
    assert d.drafter == "王宏伟" and d.drafter_unit == "区绩效办"


def test_markdown_hash_headings_get_numbers(cfg):
    d = read_draft(ex("珠政发/关于进一步加强政务值班和应急信息报送工作的意见.md"), cfg)
    heads = [(b.kind, b.text) for b in d.body if b.kind.startswith("heading")]
    assert heads == [("heading1", "一、总体要求"), ("heading1", "二、主要任务"), ("heading2", "（一）健全值班制度"),
                     ("heading2", "（二）规范信息报送"), ("heading3", "1.报送时限"), ("heading3", "2.报送内容"),
                     ("heading1", "三、保障措施")]
    assert d.kind == "意见" and d.origins["kind"] == "前置元数据"


def test_markdown_title_from_first_heading(cfg):
    d = read_draft(ex("珠政发/关于同意区房征中心调整内设机构的批复.md"), cfg)
    assert d.title == "珠晖区人民政府关于同意区房征中心调整内设机构的批复" and d.origins["title"] == "正文"
    assert d.kind == "批复" and d.origins["kind"] == "推断"
    assert d.body[0].text.startswith("你中心《关于调整内设机构的请示》")
    # 一、同意… is a long sentence: a numbered paragraph, not a heading
    assert [b.kind for b in d.body[1:]] == ["paragraph"] * 3


def test_markdown_attachment_split_by_marker(cfg):
    d = read_draft(ex("珠政函/关于商请协助开展少数民族流动人口情况调研的函.md"), cfg)
    assert d.kind == "函" and d.series == "珠政函" and d.origins["kind"] == "收件夹"
    (a,) = d.attachments
    assert a.name == a.title == "少数民族流动人口情况调研提纲" and a.number is None
    assert len(a.blocks) == 3
    assert all("调研提纲" not in b.text for b in d.body)


def test_text_plain_and_text_with_front_matter(cfg):
    d = read_draft(ex("珠政发/关于表彰2014年度为民办实事工作先进单位的决定.txt"), cfg)
    assert d.title == "珠晖区人民政府关于表彰2014年度为民办实事工作先进单位的决定"
    assert d.kind == "决定" and d.main_to.startswith("各镇人民政府")
    assert len(d.body) == 2 and d.note == "此件公开发布"
    (a,) = d.attachments
    assert a.title == a.name == "2014年度为民办实事工作先进单位名单" and a.blocks[0].text.startswith("区政府办公室、")
    t = read_draft(ex("珠政办发/关于2015年第一季度督查督办工作情况的通报.txt"), cfg)
    assert t.main_to == "各镇人民政府、街道办事处，区政府各部门、各直属机构" and t.origins["main_to"] == "正文"
    assert [b.kind for b in t.body] == ["paragraph", "heading1", "paragraph", "heading1", "paragraph", "heading1", "paragraph"]
    assert t.signature == "珠晖区人民政府办公室" and t.date_text == "2015年4月8日"
    assert not [p for p in t.read_problems]      # front matter and text agree


# --- YAML ----------------------------------------------------------------------------------------------
def test_yaml_report(cfg):
    d = read_draft(ex("珠政发/关于2014年度依法行政工作情况的报告.yaml"), cfg)
    assert d.source_format == "yaml"
    assert d.kind == "报告" and d.signers == ("陈礼洋",) and d.main_to == "衡阳市人民政府"
    assert d.note == "联系人：文雅，电话：0734-8212301"      # brackets are layout, not content
    assert [b.text for b in d.body if b.kind == "heading1"] == ["一、主要工作", "二、存在的问题", "三、下一步工作打算"]
    assert d.body[-1].text == "特此报告。"


def test_yaml_minutes(cfg):
    d = read_draft(ex("纪要/区政府第5次常务会议纪要.yaml"), cfg)
    m = d.meeting
    assert d.kind == "纪要" and d.series == "常务会议纪要"
    assert (m.name, m.issue, m.chair, m.recorder) == ("区政府第5次常务会议", "5", "陈礼洋", "文雅")
    assert m.present[0] == "陈礼洋" and len(m.present) == 9 and m.absent == ("李继军",)
    assert m.attending == ("谢培", "区法制办", "区财政局", "区房征中心")
    assert m.decisions[0].owner == "区城管局" and m.decisions[1].owner == "区编办、区房征中心"
    assert m.decisions[2].owner is None and m.decisions[2].text.startswith("会议要求")
    assert m.lead.startswith("2015年3月4日上午")
    assert d.date_text == "2015年3月5日"


def test_markdown_minutes(cfg):
    d = read_draft(ex("纪要/区政府第6次常务会议纪要.md"), cfg)
    assert d.kind == "纪要" and d.origins["kind"] == "收件夹"
    assert d.meeting.present[-1] == "李继军" and len(d.meeting.present) == 10
    assert d.meeting.issue == "6" and len(d.body) == 4
    assert d.title == "区政府第6次常务会议纪要" and d.origins["title"] == "推断"


def test_every_example_opens(cfg):
    files = sorted(p for p in EXAMPLES.rglob("*") if p.is_file())
    assert len(files) >= 12
    assert {p.suffix for p in files} >= {".docx", ".md", ".yaml", ".txt"}
    for f in files:
        assert probe(f) is None, f


# --- metadata precedence -------------------------------------------------------------------------------
def _md(tmp_path: Path, folder: str | None, front: str, body: str = "正文内容。", name: str = "d.md") -> Path:
    d = tmp_path / folder if folder else tmp_path / "elsewhere"
    d.mkdir(parents=True, exist_ok=True)
    p = d / name
    p.write_text(f"---\n{front}\n---\n\n{body}\n", encoding="utf-8")
    return p


def test_front_matter_beats_route_with_a_warning(cfg, tmp_path):
    p = _md(tmp_path, "珠政发", "机关代字: 珠政办发\n标题: 关于开展消防检查的通知")
    d = read_draft(p, cfg)
    assert d.series == "珠政办发" and d.origins["series"] == "前置元数据"
    assert any(p.element == "机关代字" and "收件夹" in p.message for p in d.read_problems)


def test_route_kind_then_config_default_then_inference(cfg, tmp_path):
    d = read_draft(_md(tmp_path, "珠政函", "标题: 关于商请支持的函"), cfg)
    assert (d.kind, d.origins["kind"]) == ("函", "收件夹")
    d = read_draft(_md(tmp_path, None, "机关代字: 常务会议纪要\n会议名称: 区政府常务会议"), cfg)
    assert (d.kind, d.origins["kind"]) == ("纪要", "配置")
    assert (d.printer, d.origins["printer"]) == ("珠晖区人民政府办公室", "配置")
    d = read_draft(_md(tmp_path, None, "标题: 珠晖区人民政府办公室关于做好节能工作的通知\n署名: 珠晖区人民政府办公室"), cfg)
    assert (d.kind, d.origins["kind"]) == ("通知", "推断")
    assert (d.series, d.origins["series"]) == ("珠政办发", "推断")


@pytest.mark.parametrize("signature,title,series", [
    ("珠晖区人民政府", "关于商请协助的函", "珠政函"),          # two series share the issuer: 函 decides
    ("珠晖区人民政府", "关于做好防汛工作的通知", "珠政发"),    # 珠政函 does not issue 通知
    ("珠晖区人民政府", "关于同意设立便民服务点的批复", None),  # both issue 批复: left for rules.py
    ("珠晖区人民政府办公室", "关于同意设立便民服务点的批复", "珠政办发"),
])
def test_series_inferred_from_signature_and_kind(cfg, tmp_path, signature, title, series):
    d = read_draft(_md(tmp_path, None, f"标题: {title}\n署名: {signature}", name=f"{title}.md"), cfg)
    assert d.series == series


def test_english_aliases_and_unknown_keys(cfg, tmp_path):
    p = _md(tmp_path, None, "title: 珠晖区人民政府关于做好防汛工作的通知\nmainreceiver: 各有关单位：\n"
                            "signdate: 2015年5月6日\nsignature: 珠晖区人民政府\ncopyto: [区委办, 区人大办]\n"
                            "header-signatory: 陈礼洋\nissue-date: 2015年5月7日\n标提: 错字")
    d = read_draft(p, cfg)
    assert d.title.endswith("通知") and d.main_to == "各有关单位"      # colon dropped
    assert d.date_text == "2015年5月6日" and d.cc == "区委办、区人大办" and d.signers == ("陈礼洋",)
    assert d.print_date_text == "2015年5月7日"
    (w,) = [p for p in d.read_problems if "标提" in p.message]
    assert w.severity == "warning" and w.element == "前置元数据"


def test_yaml_dates_stay_as_written(cfg, tmp_path):
    p = tmp_path / "d.yaml"
    p.write_text("标题: 关于某项工作的通知\n成文日期: 2015-03-20\n份数: 20\n", encoding="utf-8")
    d = read_draft(p, cfg)
    assert d.date_text == "2015-03-20" and d.date is None and d.copies == 20


def test_content_hash_is_stable_and_content_only(cfg, tmp_path):
    src = ex("珠政发/关于做好2015年春节期间安全生产工作的通知.docx")
    a = read_draft(src, cfg)
    b = read_draft(src, cfg)
    assert a.content_hash() == b.content_hash()
    moved = tmp_path / "珠政发" / "改了文件名.docx"
    moved.parent.mkdir()
    shutil.copy(src, moved)
    assert read_draft(moved, cfg).content_hash() == a.content_hash()
    md = ex("珠政发/关于2014年度目标绩效考核结果的通报.md")
    changed = tmp_path / "珠政发" / "x.md"
    changed.write_text(md.read_text(encoding="utf-8").replace("4月15日", "4月16日"), encoding="utf-8")
    assert read_draft(changed, cfg).content_hash() != read_draft(md, cfg).content_hash()


# --- the shared real-world drafts ----------------------------------------------------------------------
def test_billowsand_letter_attachments_split(cfg):
    d = read_draft(shared_path("drafts", "billowsand-letter-with-attachment.md"), cfg)
    assert d.title == "关于报送2026年度服务事项标准化建设情况的函"
    assert d.kind == "函" and d.series == "珠政函"      # 函 is issued by one series only
    levels = [b.kind for b in d.body if b.kind.startswith("heading")]
    assert set(levels) == {"heading1", "heading2", "heading3", "heading4"}   # ## … ##### → 一、…（1）
    assert [b.text for b in d.body if b.kind == "heading1"] == ["一、报送内容", "二、报送要求"]
    assert d.body[-1].text == "特此函告。"
    a1, a2 = d.attachments
    assert a1.title == "2026年度服务事项标准化建设情况统计表" and a2.title == "服务事项整改任务清单"
    t1 = next(b for b in a1.blocks if b.kind == "table")
    assert t1.rows[0][:3] == ("序号", "单位名称", "联系人姓名") and len(t1.rows) == 8
    assert any(b.kind == "table" and len(b.rows) == 13 for b in a2.blocks)


def test_lite_report_reads_what_it_can(cfg):
    d = read_draft(shared_path("drafts", "gongwen-template-lite-report.md"), cfg)
    assert d.title == "类公文模板|简介" and d.main_to == "各位领导"
    assert d.drafter == "Mrered Cio、Gemini、ChatGPT"          # pandoc `author` is the drafter
    assert d.date_text == "2026-01-23" and d.signature is None   # `signature: true` is no 署名
    msgs = " ".join(p.message for p in d.read_problems)
    assert "signature" in msgs and "图片" in msgs
    # pandoc layout markup is not content: ::: fences, lone {v}/{pagebreak}, trailing {.noindent}
    assert not any(b.text.endswith("{.noindent}") or b.text.startswith(":::") or b.text in ("{v}", "{pagebreak}")
                   for b in d.body)
    assert any(b.kind == "heading4" and b.text == "（3）这是一个无缩进的标题" for b in d.body)


def test_quarto_fields_map(cfg):
    d = read_draft(shared_path("drafts", "quarto-gbt9704-example.qmd"), cfg)
    assert d.issuer == "XX单位办公室" and d.number_text == "XX发〔202X〕X号" and d.signers == ("张三",)
    assert d.main_to == "各有关单位" and d.signature == "XX单位办公室" and d.date_text == "202X年X月X日"
    assert d.note == "此件公开发布" and d.cc == "XX部门、XX委员会"
    assert d.printer == "XX单位办公室" and d.print_date_text == "202X年X月X日"
    assert [(a.number, a.name) for a in d.attachments] == [(1, "关于印发《公文处理办法》的通知"), (2, "公文格式标准对照表")]
    warned = {m for p in d.read_problems for m in re.findall("「([^」]+)」", p.message)}
    assert {"format", "emoji"} <= warned


# --- files that cannot be read at all ------------------------------------------------------------------
def _docx_with(tmp_path: Path, name: str, document_xml: bytes, extra: dict | None = None) -> Path:
    p = tmp_path / name
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
        z.writestr("word/document.xml", document_xml)
        for k, v in (extra or {}).items():
            z.writestr(k, v)
    return p


W_DOC = (b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
         b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>BODY</w:t></w:r></w:p></w:body></w:document>')


def _garbage(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name → (file, a phrase the Chinese reason must contain)."""
    out = {}
    p = tmp_path / "random.docx"
    p.write_bytes(bytes(range(256)) * 40)
    out["random bytes"] = (p, "zip")
    p = tmp_path / "empty.docx"
    p.write_bytes(b"")
    out["empty docx"] = (p, "空")
    p = tmp_path / "empty.md"
    p.write_bytes(b"")
    out["empty md"] = (p, "空")
    p = tmp_path / "blank.yaml"
    p.write_text("\n  \n", encoding="utf-8")
    out["blank yaml"] = (p, "空白")
    p = tmp_path / "bomb.docx"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", W_DOC)
        z.writestr("word/media/pad.bin", b"\0" * (6 * 1024 * 1024))    # 6 MB → ~6 KB
    out["zip bomb"] = (p, "压缩炸弹")
    xxe = (b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           + W_DOC.split(b"?>", 1)[1].replace(b"BODY", b"&xxe;"))
    out["external entity"] = (_docx_with(tmp_path, "xxe.docx", xxe), "DTD")
    out["DTD in another part"] = (_docx_with(tmp_path, "dtd2.docx", W_DOC, {"docProps/custom.xml": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'}), "DTD")
    p = tmp_path / "nodoc.docx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("hello.txt", "hi")
    out["zip without document.xml"] = (p, "word/document.xml")
    good = ex("珠政函/关于商请提供2014年度年鉴资料的函.docx").read_bytes()
    p = tmp_path / "half.docx"
    p.write_bytes(good[: len(good) // 2])
    out["half-written docx"] = (p, "无法打开")
    p = tmp_path / "old.docx"
    p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1000)
    out["old .doc renamed"] = (p, "另存为")
    out["broken xml"] = (_docx_with(tmp_path, "badxml.docx", W_DOC[:-20]), "XML")
    p = tmp_path / "gbk.txt"
    p.write_bytes("关于做好防汛工作的通知\n各有关单位：".encode("gbk"))
    out["invalid utf-8 (GBK)"] = (p, "UTF-8")
    p = tmp_path / "utf16.md"
    p.write_bytes("标题: draft".encode("utf-16-le"))       # without the byte-order mark Notepad writes
    out["utf-16 without BOM"] = (p, "UTF-16")
    p = tmp_path / "bad.yaml"
    p.write_text("标题: 关于防汛的通知\n主送: [各镇\n成文日期: 2015年3月20日\n", encoding="utf-8")
    out["yaml syntax error"] = (p, "第 ")
    p = tmp_path / "badfm.md"
    p.write_text("---\n标题: 关于防汛的通知\n  主送: 各镇: 街道\n---\n正文\n", encoding="utf-8")
    out["front matter syntax error"] = (p, "第 3 行")
    p = tmp_path / "unclosed.md"
    p.write_text("---\n标题: 关于防汛的通知\n\n正文\n", encoding="utf-8")
    out["front matter not closed"] = (p, "---")
    p = tmp_path / "list.yaml"
    p.write_text("- 标题\n- 主送\n", encoding="utf-8")
    out["yaml not a mapping"] = (p, "映射")
    p = tmp_path / "dup.yaml"
    p.write_text("标题: 一\n标题: 二\n", encoding="utf-8")
    out["duplicate yaml key"] = (p, "重复")
    p = tmp_path / "draft.pdf"
    p.write_bytes(b"%PDF-1.4")
    out["unsupported suffix"] = (p, "不支持")
    return out


def test_garbage_gives_draft_error_and_probe_reason(cfg, tmp_path):
    for name, (path, phrase) in _garbage(tmp_path).items():
        reason = probe(path)
        assert reason and CJK.search(reason) and phrase in reason, (name, reason)
        with pytest.raises(DraftError) as e:
            read_draft(path, cfg)
        assert phrase in str(e.value) and path.name in str(e.value), (name, str(e.value))


def test_entity_is_never_resolved(cfg, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET", encoding="utf-8")
    xxe = (b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY x SYSTEM "' + secret.as_uri().encode() + b'">]>'
           + W_DOC.split(b"?>", 1)[1].replace(b"BODY", b"&x;"))
    p = _docx_with(tmp_path, "x.docx", xxe)
    with pytest.raises(DraftError) as e:
        read_draft(p, cfg)
    assert "TOPSECRET" not in str(e.value)


def test_probe_accepts_a_small_valid_docx(tmp_path):
    p = _docx_with(tmp_path, "ok.docx", W_DOC)
    assert probe(p) is None
    assert ".docx" in SUPPORTED_SUFFIXES and ".qmd" in SUPPORTED_SUFFIXES


# --- .docx structure edge cases (built with the same script as the examples) ---------------------------
def _builder():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_example_docx", REPO / "scripts" / "make_example_docx.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.build_docx


def test_docx_layout_table_header_lines_and_wrapped_cc(cfg, tmp_path):
    build = _builder()
    p = build(tmp_path / "x.docx", [
        ("title", "珠晖区人民政府文件"),
        ("top", "珠政发〔2015〕7号            签发人：陈礼洋  彭建元"),
        ("title", "机密文件管理工作的通知"),
        ("main_to", "各镇人民政府、街道办事处，"),
        ("main_to", "区政府各部门："),
        ("body", "为规范机密文件管理，现将有关事项通知如下："),
        ("body", "一是严格登记；二是专人保管。"),
        ("table", [("", "珠晖区人民政府"), ("", "2015年4月1日")]),
        ("banji", "抄送：区委办，区人大办，"),
        ("banji", "区政协办。"),
        ("banji", "珠晖区人民政府办公室    2015年4月2日印发"),
    ])
    d = read_draft(p, cfg)
    assert d.issuer == "珠晖区人民政府" and d.number_text == "珠政发〔2015〕7号"
    assert d.signers == ("陈礼洋", "彭建元")
    assert d.title == "机密文件管理工作的通知" and d.secrecy is None       # a title is not a 密级
    assert d.main_to == "各镇人民政府、街道办事处，区政府各部门"           # 主送 over two lines
    assert d.body[0].text.endswith("通知如下：")                            # "…如下：" is body, not 主送
    assert d.signature == "珠晖区人民政府" and d.date_text == "2015年4月1日"  # from the layout table
    assert d.cc == "区委办，区人大办，区政协办"
    assert d.printer == "珠晖区人民政府办公室" and d.print_date_text == "2015年4月2日"


def test_short_docx_body_not_taken_for_banji(cfg, tmp_path):
    build = _builder()
    p = build(tmp_path / "y.docx", [
        ("title", "关于开会的通知"),
        ("body", "主送：请各单位派员参加。"),
        ("body", "会议定于4月8日召开。"),
        ("sign", "珠晖区人民政府办公室"),
        ("sign", "2015年4月3日"),
    ])
    d = read_draft(p, cfg)
    assert len(d.body) == 2 and d.cc is None and d.date_text == "2015年4月3日"
    assert d.signature == "珠晖区人民政府办公室" and d.series == "珠政办发"


def test_word_auto_numbering_warned_and_main_to_in_banji(cfg, tmp_path):
    build = _builder()
    p = build(tmp_path / "z.docx", [
        ("title", "珠晖区人民政府办公室关于做好节能工作的通知"),
        ("body", "为做好节能工作，现将有关事项通知如下。"),
        ("h1", "加强领导"),
        ("sign", "珠晖区人民政府办公室"),
        ("sign", "2015年4月3日"),
        ("banji", "主送：各镇人民政府，区政府各部门。"),
        ("banji", "珠晖区人民政府办公室    2015年4月3日印发"),
    ])
    # Word's automatic numbering: the "一、" the author sees is not in the text
    with zipfile.ZipFile(p) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    xml = parts["word/document.xml"].decode("utf-8")
    head, sep, tail = xml.partition("加强领导")
    i = head.rfind("<w:pPr>")
    head = head[:i] + '<w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>' + head[i + len("<w:pPr>"):]
    parts["word/document.xml"] = (head + sep + tail).encode("utf-8")
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    d = read_draft(p, cfg)
    assert any("自动编号" in w.message and "加强领导" in w.message for w in d.read_problems)
    assert d.main_to == "各镇人民政府，区政府各部门" and d.origins["main_to"] == "正文"   # moved to the 版记


def test_text_without_signature_keeps_closing_phrase_in_body(cfg, tmp_path):
    p = tmp_path / "珠政发" / "a.txt"
    p.parent.mkdir()
    p.write_text("珠晖区人民政府关于做好防汛工作的通知\n各镇人民政府：\n请做好防汛工作。\n特此通知\n2015年5月6日\n", encoding="utf-8")
    d = read_draft(p, cfg)
    assert d.signature is None and d.body[-1].text == "特此通知" and d.date_text == "2015年5月6日"


# --- 联合行文: the co-issuing organs ---------------------------------------------------------------------

def test_co_issuers_from_front_matter_list_or_text(cfg, tmp_path):
    d = read_draft(_md(tmp_path, "珠政发", "标题: 关于做好防汛工作的通知\n联合发文机关: [珠晖区财政局, 珠晖区教育局]"), cfg)
    assert d.co_issuers == ("珠晖区财政局", "珠晖区教育局") and d.origins["co_issuers"] == "前置元数据"
    d = read_draft(_md(tmp_path, "珠政发", "标题: 关于做好防汛工作的通知\n联合发文机关: 珠晖区财政局、珠晖区教育局"), cfg)
    assert d.co_issuers == ("珠晖区财政局", "珠晖区教育局")
    alone = read_draft(_md(tmp_path, "珠政发", "标题: 关于做好防汛工作的通知"), cfg)
    assert alone.co_issuers == () and alone.content_hash() == read_draft(
        _md(tmp_path, "珠政发", "标题: 关于做好防汛工作的通知", name="again.md"), cfg).content_hash()


def test_co_issuers_from_the_signature_line_of_a_typed_draft(cfg, tmp_path):
    """A Word draft names the organs where the office types them: side by side on the 署名 line."""
    p = tmp_path / "珠政发" / "联合.md"
    p.parent.mkdir()
    p.write_text("珠晖区人民政府　珠晖区财政局关于做好防汛工作的通知\n\n各镇人民政府：\n\n为做好防汛工作，现通知如下。\n\n"
                 "珠晖区人民政府　　　　珠晖区财政局\n\n2015年5月6日\n", encoding="utf-8")
    d = read_draft(p, cfg)
    assert (d.signature, d.co_issuers) == ("珠晖区人民政府", ("珠晖区财政局",))
    assert d.origins["co_issuers"] == "正文"
