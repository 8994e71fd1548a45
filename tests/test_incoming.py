"""收文 without LibreOffice or OCR: the patterns for extracted text, the elements from OCR-like
lines, the 收文登记簿 (a ledger Book: numbers, chain, tampering named, duplicates, handling rules,
时限 and 逾期), the 督办 seam with a fake, what is refused before any work, and the config."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from pipeline.drafts import patterns as P
from pipeline.errors import IncomingError
from pipeline.incoming import elements as E
from pipeline.incoming.reading import clean_page, identify, read_document, usable
from pipeline.incoming.register import DONE, HANDLING, WAITING, IncomingRegister, Instruction, text_hash
from pipeline.ledger import Ledger
from tests.conftest import shared_path
from tests.support.ledger import TZ, Clock, draft
from tests.support.incoming import FakeSupervise

# What OCR of the 上级 通知 at 200 dpi actually gave (red channel: no 标志, the 署名 back).
OCR_LINES = """衡政发 【2015】 12 号
衡阳市人民政府关于开展
2015 年安全生产大检查的通知
各县市区人民政府，市直各有关单位:
为切实做好 2015 年全市安全生产工作，有效防范和坚决歇
制重特大事故发生，经市人民政府同意，决定在全市范围内开展
安全生产大检查。现将有关事项通知如下。
一、检查时间
自2015年3月1日起至2015年5月31日上 ，分自查自纠、
重点检查、总结提高三个阶段进行。
一2
衡阳市人民政府
2015年2月16日
抄送: 市委各部门，市人大常委会办公室。
衡阳市人民政府办公室                               2015年2月17 日印发"""


# --- patterns for extracted text ---------------------------------------------------------------------

@pytest.mark.parametrize("raw, repaired", [
    ("衡政发 【2015】 12 号", "衡政发〔2015〕12号"),
    ("衡政发[2015]012号", "衡政发〔2015〕12号"),
    ("珠政发（2015）3号", "珠政发〔2015〕3号"),
    ("依据湘政办发〔2014〕33号文件", "依据湘政办发〔2014〕33号文件"),
])
def test_ocr_brackets_of_a_文号_are_repaired(raw, repaired):
    assert P.repair_numbers(P.clean_extracted_line(raw)) == repaired


def test_number_key_ignores_brackets_spaces_and_leading_zeros():
    assert P.number_key("衡政发〔2015〕12号") == P.number_key("衡政发 [2015] 012 号") == "衡政发〔2015〕12号"
    assert P.number_key("关于开展安全生产大检查的通知") is None


def test_extracted_lines_lose_the_extractor_spacing_but_keep_latin_words():
    assert P.clean_extracted_line("自 2015 年 3 月 1 日起") == "自2015年3月1日起"
    assert P.clean_extracted_line("各县市区人民政府 ,市直各有关单位 :") == "各县市区人民政府，市直各有关单位："
    assert P.clean_extracted_line("PDF A version 2") == "PDF A version 2"
    assert clean_page("一、总体要求\n— 3 —\n一2\n正文") == "一、总体要求\n正文"


@pytest.mark.parametrize("lines, level", [
    (["秘密★1年", "衡阳市人民政府文件"], "秘密★1年"),
    (["000012 机密★6个月", "特急"], "机密★6个月"),
    (["特急", "噪点", "绝密"], "绝密"),
    (["衡阳市人民政府文件", "衡政发〔2015〕12号", "关于保守国家秘密的通知"], None),
])
def test_a_密级_mark_is_found_at_the_top_whatever_stands_before_it(lines, level):
    assert E.secrecy_mark(lines) == level


def test_a_page_of_private_codes_is_not_usable_text():
    assert usable("衡阳市人民政府关于开展安全生产大检查的通知")
    assert not usable("\ue001\ue002\ue003\ue004\ue005\ue006")
    assert not usable("— 3 —")


# --- elements ----------------------------------------------------------------------------------------

def test_elements_of_an_ocr_read_notice():
    lines = [line for line in clean_page(OCR_LINES, ocr=True).split("\n")]
    el = E.read_elements(lines)
    assert el.number == "衡政发〔2015〕12号"
    assert el.title == "衡阳市人民政府关于开展2015年安全生产大检查的通知"
    assert el.main_to == "各县市区人民政府，市直各有关单位"
    assert el.sender == "衡阳市人民政府"            # from the 署名: the red 标志 is not in the red channel
    assert el.date == dt.date(2015, 2, 16) and el.kind == "通知" and not el.classified and not el.missing()


def test_the_header_gives_the_sender_and_a_letter_header_is_no_title():
    el = E.read_elements(["珠晖区人民政府文件", "珠政发〔2015〕3号", "珠晖区人民政府关于做好防汛工作的通知",
                          "各镇人民政府：", "请做好防汛工作。", "2015年5月8日"])
    assert el.sender == "珠晖区人民政府" and el.number == "珠政发〔2015〕3号"
    letter = E.read_elements(["衡阳市人民政府办公室", "衡政办函〔2015〕5号", "衡阳市人民政府办公室关于商请支持的函",
                              "珠晖区人民政府：", "请予支持。", "衡阳市人民政府办公室", "2015年4月2日"])
    assert letter.title == "衡阳市人民政府办公室关于商请支持的函" and letter.sender == "衡阳市人民政府办公室"
    assert letter.number == "衡政办函〔2015〕5号" and letter.kind == "函"


def test_what_is_not_there_is_left_blank_never_guessed():
    el = E.read_elements(["各位同事：", "下周一上午九时在三楼会议室开会，请准时参加。"])
    assert el.number is None and el.sender is None and el.date is None
    assert set(el.missing()) == {"来文机关", "来文字号", "标题", "成文日期"}


def test_upward_documents_give_their_签发人_and_a_请示_is_known_by_its_title():
    el = E.read_elements(["珠晖区安全生产监督管理局文件", "珠安监〔2015〕8号　　签发人：王建国",
                          "珠晖区安全生产监督管理局关于请求拨付安全生产专项检查经费的请示", "珠晖区人民政府：",
                          "妥否，请批示。", "珠晖区安全生产监督管理局", "2015年2月25日"])
    assert el.kind == "请示" and el.signers == ("王建国",) and el.number == "珠安监〔2015〕8号"


# --- what is refused before any work -------------------------------------------------------------------

@pytest.fixture
def small_limits(ledger_cfg):
    return ledger_cfg.model_copy(update={"incoming": ledger_cfg.incoming.model_copy(update={"max_mb": 0.01, "max_pages": 2,
                                                                            "max_image_megapixels": 1.0})})


def test_refused_before_reading(tmp_path, small_limits):
    cases = {
        "空.pdf": (b"", "空的"),
        "大.pdf": (b"%PDF-1.4\n" + b"0" * 20000, "文件过大"),
        "假图片.jpg": ("这是一段文字，不是图片".encode(), "不是有效的 JPEG"),
        "改名.docx": (b"%PDF-1.4\n%%EOF\n", "内容却是PDF"),
        "无扩展名": (b"%PDF-1.4\n", "不支持的文件类型"),
        "来文.ceb": (b"CEB", "方正 CEB"),
        "说明.txt": ("文字".encode(), "纯文本没有版式"),
    }
    for name, (data, why) in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(IncomingError, match=why):
            identify(p, small_limits)
        assert p.read_bytes() == data        # the original survives


def test_an_image_that_decompresses_into_gigapixels_is_refused(tmp_path, small_limits):
    from PIL import Image

    p = tmp_path / "炸弹.png"
    Image.new("1", (4000, 4000)).save(p)       # 16 megapixels, a few KB
    with pytest.raises(IncomingError, match="像素过多"):
        read_document(p, small_limits, tmp_path / "work")


def test_a_truncated_image_is_refused(tmp_path, ledger_cfg):
    from PIL import Image

    p = tmp_path / "半张.png"
    Image.new("RGB", (800, 600), "white").save(p)
    p.write_bytes(p.read_bytes()[:200])
    with pytest.raises(IncomingError, match="不是有效的 PNG"):
        read_document(p, ledger_cfg, tmp_path / "work")


@pytest.mark.parametrize("name, why", [
    ("005-libreoffice-writer-password/libreoffice-writer-password.pdf", "已加密"),
    ("017-unreadable-meta-data/unreadablemetadata.pdf", "已损坏"),
])
def test_real_encrypted_and_corrupt_pdfs_are_refused(tmp_path, ledger_cfg, name, why):
    with pytest.raises(IncomingError, match=why):
        read_document(shared_path("pdf", *name.split("/")), ledger_cfg, tmp_path / "work")


def test_a_pdf_with_more_pages_than_allowed_is_refused(tmp_path, small_limits):
    big = small_limits.model_copy(update={"incoming": small_limits.incoming.model_copy(update={"max_mb": 100})})
    with pytest.raises(IncomingError, match="超过上限 2 页"):
        read_document(shared_path("pdf", "004-pdflatex-4-pages", "pdflatex-4-pages.pdf"), big, tmp_path / "w")


# --- the 收文登记簿 -------------------------------------------------------------------------------------

@pytest.fixture
def clock():
    return Clock(dt.datetime(2015, 3, 2, 9, 0, tzinfo=TZ))


@pytest.fixture
def ledger(ledger_cfg, tmp_path, clock):
    with Ledger(tmp_path / "ledger.sqlite3", ledger_cfg, clock=clock) as led:
        yield led


def _register(reg: IncomingRegister, n: int = 1, *, urgency=None, kind="通知", number=None, sender="衡阳市人民政府",
              title=None, file_hash=None, text=None) -> object:
    el = E.Elements(sender=sender, number=number or f"衡政发〔2015〕{n}号", title=title or f"关于第{n}件事的{kind}",
                    date=dt.date(2015, 2, 16), kind=kind, urgency=urgency)
    now = reg.ledger.now()
    return reg.register(year=now.year, received_at=now.isoformat(timespec="seconds"),
                        file_hash=file_hash or f"{n:064x}", text_hash_=text_hash(text or f"正文{n}"),
                        source_name=f"{n}.pdf", format_="PDF", method="文本层", pages=2, elements=el, copies=2,
                        actor="收文员")


def test_收文号_are_consecutive_from_the_shared_counters_and_every_change_is_chained(ledger, ledger_cfg):
    reg = IncomingRegister(ledger, ledger_cfg)
    refs = [_register(reg, n).reference for n in (1, 2, 3)]
    assert refs == ["收〔2015〕1号", "收〔2015〕2号", "收〔2015〕3号"]
    ledger.allocate(draft("关于甲的通知"), actor="秘书")   # the 发文登记簿 numbers on its own
    reg.route("2", lead_unit="区安监局", opinion="拟请区安监局办理", actor="秘书")
    assert ledger.verify().ok and ledger.check_numbers() == []
    assert [e.event for e in ledger.events("收〔2015〕2号")] == ["incoming_registered", "incoming_routed"]
    assert reg.get("收〔2015〕2号").lead_unit == "区安监局" == reg.get("2015-2").lead_unit == reg.get("2").lead_unit


@pytest.mark.parametrize("tamper, named", [
    ("UPDATE incoming SET title = '改过的标题' WHERE id = 2", "收文登记簿第 2 行（收〔2015〕2号）的标题与事件"),
    ("UPDATE incoming SET reply_ref = '珠政函〔2015〕9号', state = '已办结' WHERE id = 1", "收文登记簿第 1 行（收〔2015〕1号）的复文号、办理状态与事件"),
    ("DELETE FROM incoming WHERE id = 3", "收文登记簿第 3 行（收〔2015〕3号）被删除"),
    ("UPDATE counters SET next_seq = 2 WHERE series = '收文'", "收文 2015年 的计数器为 2"),
])
def test_an_edited_收文登记簿_is_named_by_verify(ledger, ledger_cfg, tamper, named):
    reg = IncomingRegister(ledger, ledger_cfg)
    for n in (1, 2, 3):
        _register(reg, n)
    db = sqlite3.connect(ledger.path, isolation_level=None)
    db.execute(tamper)
    db.close()
    rep = ledger.verify()
    assert not rep.ok and any(named in b.message for b in rep.breaks), [b.message for b in rep.breaks]


def test_duplicates_are_recognised_by_file_by_text_and_by_来文字号(ledger, ledger_cfg):
    reg = IncomingRegister(ledger, ledger_cfg)
    first = _register(reg, 1, file_hash="a" * 64, text="衡阳市人民政府关于开展安全生产大检查的通知")
    find = reg.find_duplicate
    assert find(file_hash="a" * 64, text_hash_=None, number_key=None, sender=None).same_file
    same_text = find(file_hash="b" * 64, text_hash_=text_hash("衡阳市人民政府关于开展 安全生产大检查的通知"),
                     number_key=None, sender=None)
    assert same_text.row.reference == first.reference and same_text.how == "正文相同"
    by_number = find(file_hash="c" * 64, text_hash_="x", number_key=P.number_key("衡政发[2015]01号"),
                     sender="衡阳市人民政府")
    assert by_number.row.reference == first.reference and "来文字号相同" in by_number.how
    # the same 文号 from another organ is another document
    assert find(file_hash="d" * 64, text_hash_="y", number_key="衡政发〔2015〕1号", sender="长沙市人民政府") is None


def test_urgent_documents_get_a_时限_and_show_as_overdue(ledger, ledger_cfg, clock):
    reg = IncomingRegister(ledger, ledger_cfg)
    urgent = _register(reg, 1, urgency="特急")
    quick = _register(reg, 2, urgency="加急")
    plain = _register(reg, 3)
    assert urgent.deadline == dt.date(2015, 3, 3) and quick.deadline == dt.date(2015, 3, 5) and plain.deadline is None
    on = dt.date(2015, 3, 4)
    assert [r.reference for r in reg.listing(overdue=True, today=on)] == [urgent.reference]
    assert reg.get(urgent.reference).status(on) == "待办（逾期）"
    reg.done(urgent.reference, result="已传达", reply_ref=None, actor="秘书")
    assert reg.listing(overdue=True, today=on) == []
    assert [r.reference for r in reg.listing(pending=True, today=on)] == [quick.reference, plain.reference]


def test_a_请示_is_done_only_with_a_复文号_of_an_issued_发文(ledger, ledger_cfg):
    reg = IncomingRegister(ledger, ledger_cfg)
    req = _register(reg, 1, kind="请示", number="珠安监〔2015〕8号", sender="珠晖区安全生产监督管理局")
    with pytest.raises(IncomingError, match="请示，须有复文号"):
        reg.done(req.reference, result="同意", reply_ref=None, actor="秘书")
    with pytest.raises(IncomingError, match="不在发文登记簿中"):
        reg.done(req.reference, result="同意", reply_ref="珠政函〔2015〕99号", actor="秘书")
    reserved = ledger.reserve("珠政函", 2015, actor="秘书")
    with pytest.raises(IncomingError, match="预留"):
        reg.done(req.reference, result="同意", reply_ref=reserved.reference, actor="秘书")
    reply = ledger.allocate(draft("珠晖区人民政府关于同意拨付专项检查经费的批复", series="珠政函", kind="批复"), actor="秘书")
    row = reg.done(req.reference, result="同意拨付", reply_ref=reply.number.reference, actor="秘书")
    assert row.state == DONE and row.reply_ref == "珠政函〔2015〕2号"
    assert [r.reference for r in reg.answered_by("珠政函〔2015〕2号")] == [req.reference]   # the other way
    with pytest.raises(IncomingError, match="已于"):
        reg.route(req.reference, lead_unit="区财政局", opinion="再办", actor="秘书")


def test_handling_states_and_several_批示(ledger, ledger_cfg):
    reg = IncomingRegister(ledger, ledger_cfg)
    row = _register(reg, 1)
    assert row.state == WAITING
    with pytest.raises(IncomingError, match="承办单位"):
        reg.route(row.reference, lead_unit=" ", opinion="x", actor="秘书")
    for leader in ("李明", "张华"):
        row = reg.instruct(row.reference, Instruction(leader=leader, text="请抓好落实", date="2015-03-03",
                                                      recorded_by="秘书", recorded_at="2015-03-03T10:00:00+08:00"),
                           actor="秘书")
    assert row.state == HANDLING and [i.leader for i in row.instructions] == ["李明", "张华"]
    rows = reg.register_rows(2015)
    assert "请抓好落实（李明，2015-03-03）" in rows[0].instructions and rows[0].status == HANDLING


def test_the_clerk_fills_in_what_could_not_be_read(ledger, ledger_cfg):
    reg = IncomingRegister(ledger, ledger_cfg)
    el = E.Elements()
    now = ledger.now()
    row = reg.register(year=2015, received_at=now.isoformat(), file_hash="f" * 64, text_hash_=None,
                       source_name="扫描.pdf", format_="PDF", method="OCR", pages=1, elements=el, copies=None,
                       actor="收文员")
    assert set(row.missing()) == {"来文机关", "来文字号", "标题", "成文日期"}
    assert "待补：来文机关、来文字号、标题、成文日期" in reg.register_rows(2015)[0].note
    row = reg.edit(row.reference, {"sender": "衡阳市人民政府", "sender_number": "衡政发〔2015〕12号",
                                   "doc_date": dt.date(2015, 2, 16), "urgency": "特急"}, actor="收文员")
    assert row.missing() == ["标题"] and row.deadline == dt.date(2015, 3, 3)
    assert ledger.verify().ok


# --- the 督办 seam (a fake with supervise.add_item's signature) ---------------------------------------------


def test_a_批示_that_assigns_work_creates_one_督办件_with_this_收文_as_its_source(ledger, ledger_cfg, tmp_path):
    from pipeline.incoming import instruct

    reg = IncomingRegister(ledger, ledger_cfg)
    row = _register(reg, 1, title="衡阳市人民政府关于开展2015年安全生产大检查的通知")
    svc = type("Svc", (), {"ledger": ledger, "config": ledger_cfg, "actor": "秘书",
                           "store": type("S", (), {"record_dir": lambda self, n: tmp_path / "none"})()})()
    fake = FakeSupervise()
    row, item = instruct(svc, row.reference, leader="李明", text="请区安监局牵头抓好落实", date=dt.date(2015, 3, 3),
                         assign_to="区安监局", co_units=("区住建局",), deadline=dt.date(2015, 4, 30), add_item=fake)
    assert item == "督〔2015〕1号" and row.instructions[0].supervise == item
    call = fake.calls[0]
    assert call["source_type"] == "领导批示" and call["lead_unit"] == "区安监局" and call["leader"] == "李明"
    assert call["source_ref"] == "收〔2015〕1号#批示1" and "收〔2015〕1号" in call["source"]
    assert call["assigned"] == dt.date(2015, 3, 3) and call["deadline"] == dt.date(2015, 4, 30)
    # the same 批示 again (a retry) creates nothing new; a 批示 without --to creates no 督办件
    again, item2 = instruct(svc, row.reference, leader="李明", text="请区安监局牵头抓好落实", date=dt.date(2015, 3, 3),
                            assign_to="区安监局", add_item=fake)
    assert item2 == item and len(fake.calls) == 1 and len(again.instructions) == 1
    _, none = instruct(svc, row.reference, leader="张华", text="已阅", add_item=fake)
    assert none is None and len(fake.calls) == 1 and ledger.verify().ok


# --- config ------------------------------------------------------------------------------------------------

def test_the_收文_series_must_be_its_own(ledger_cfg):
    from pydantic import ValidationError

    from pipeline.config import Config

    raw = json.loads(ledger_cfg.model_dump_json())
    raw["incoming"]["series"] = "珠政发"
    with pytest.raises(ValidationError, match="also a 发文 series"):
        Config.model_validate(raw)
    raw["incoming"]["series"] = "收文"
    raw["incoming"]["number"] = "收第{seq}号"
    with pytest.raises(ValidationError, match=r"\{year\} and \{seq\}"):
        Config.model_validate(raw)


def test_listing_an_empty_register_never_creates_the_database(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli
    from tests.conftest import write_instance

    cfg_path = write_instance(tmp_path / "inst")
    for args in (["incoming", "list", "--json"], ["incoming", "register", "2015", "--json"]):
        res = CliRunner().invoke(cli, ["--config", str(cfg_path), *args])
        assert res.exit_code == 0, res.output
    assert not (tmp_path / "inst" / "archive" / "ledger.sqlite3").exists()
    assert json.loads(res.output)["rows"] == []


def test_a_印发_line_split_by_the_extractor_is_no_署名():
    """pdftotext gave 「珠晖区安全生产监督管理局办公室」 / 「— 2 —」 / 「2015 年 2 月 25 日印发」: the 印发机关
    was taken for the 署名 and the 成文日期 was lost (found on a real 请示)."""
    lines = ["珠安监〔2015〕8号", "珠晖区安全生产监督管理局关于请求拨付经费的请示", "珠晖区人民政府：", "妥否，请批示。",
             "珠晖区安全生产监督管理局", "2015年2月25日", "珠晖区安全生产监督管理局办公室", "2015年2月25日印发"]
    el = E.read_elements(lines)
    assert el.sender == "珠晖区安全生产监督管理局" and el.date == dt.date(2015, 2, 25)


def test_doctor_names_a_收文_registered_but_not_filed(tmp_path):
    from pipeline.config import load
    from pipeline.incoming import health
    from tests.conftest import write_instance

    config = load(write_instance(tmp_path / "inst"))
    assert [f.ok for f in health(config)] == [True]          # no register yet: not created by looking
    with Ledger.open(config) as led:
        _register(IncomingRegister(led, config), 1)
    stuck = [f for f in health(config) if "未归档" in f.item]
    assert stuck and stuck[0].ok is False and "收〔" in stuck[0].detail and "再收一次" in stuck[0].detail


def test_the_committed_处理笺_template_is_what_the_script_builds(tmp_path):
    """templates/收文处理笺.docx is what scripts/build_incoming_templates.py makes (`make templates`)."""
    import re
    import zipfile

    from scripts import build_incoming_templates
    from tests.conftest import REPO

    parts = re.compile(r"^word/(document|styles|settings|header\d*|footer\d*)\.xml$")

    def xml(path: Path) -> dict[str, bytes]:
        with zipfile.ZipFile(path) as z:
            return {n: z.read(n) for n in z.namelist() if parts.match(n)}

    for fresh in build_incoming_templates.build(tmp_path):
        committed = xml(REPO / "templates" / fresh.name)
        assert committed and committed == xml(fresh), f"{fresh.name} is stale; run `make templates`"


def test_a_督办件_refused_by_supervision_leaves_the_批示_recorded_and_can_be_made_later(ledger, ledger_cfg, tmp_path):
    from pipeline.errors import GongwenError
    from pipeline.incoming import instruct

    reg = IncomingRegister(ledger, ledger_cfg)
    row = _register(reg, 1)
    svc = type("Svc", (), {"ledger": ledger, "config": ledger_cfg, "actor": "秘书",
                           "store": type("S", (), {"record_dir": lambda self, n: tmp_path / "none"})()})()

    def refuses(*a, **kw):
        raise GongwenError("责任单位“区安监局”不在配置的单位名单中")

    with pytest.raises(IncomingError, match="批示已记录，但督办件未能建立"):
        instruct(svc, row.reference, leader="李明", text="请抓好落实", date=dt.date(2015, 3, 3), assign_to="区安监局",
                 add_item=refuses)
    fake = FakeSupervise()
    again, item = instruct(svc, row.reference, leader="李明", text="请抓好落实", date=dt.date(2015, 3, 3),
                           assign_to="区安监局", add_item=fake)
    assert item == "督〔2015〕1号" and len(again.instructions) == 1 and again.instructions[0].supervise == item


@pytest.mark.parametrize("engine", ["whoosh", "tantivy"])
def test_search_filters_收文_from_发文_on_both_engines(tmp_path, engine):
    from pipeline.search import FolderIndex, IndexDoc

    def doc(ref, kind, record_kind, number):
        return IndexDoc(id=ref, number=number, archive_code=None, title=f"关于安全生产大检查的{kind}",
                        body="开展安全生产大检查", year=2015, series="收文" if record_kind == "收文" else "珠政发",
                        kind=kind, date=dt.date(2015, 3, 2), record_kind=record_kind)

    with FolderIndex(tmp_path / engine, engine) as index:
        index.rebuild([doc("收〔2015〕1号", "通知", "收文", "衡政发〔2015〕12号"),
                       doc("珠政发〔2015〕1号", "通知", "公文", "珠政发〔2015〕1号"),
                       doc("常务会议纪要〔2015〕1号", "纪要", "纪要", "〔2015〕1号")])
        ids = lambda **kw: sorted(h.id for h in index.search("安全生产", **kw).hits)  # noqa: E731
        assert ids(direction="收文") == ["收〔2015〕1号"]
        assert ids(direction="发文") == ["常务会议纪要〔2015〕1号", "珠政发〔2015〕1号"]
        assert len(ids()) == 3
        assert [h.id for h in index.search("衡政发〔2015〕12号").hits][:1] == ["收〔2015〕1号"]   # by 来文字号


@pytest.mark.ocr
def test_an_ocr_that_hangs_is_stopped_and_said_so(tmp_path, ledger_cfg, monkeypatch):
    """Nothing stalls the queue: OCR runs in its own process group under a time limit."""
    import img2pdf
    from PIL import Image, ImageDraw

    from pipeline.incoming import ocr

    img = Image.new("L", (1654, 2339), 255)
    ImageDraw.Draw(img).text((200, 200), "scan", fill=0)
    png = tmp_path / "page.png"
    img.save(png, dpi=(200, 200))
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(img2pdf.convert(str(png)))
    monkeypatch.setattr(ocr, "TIMEOUT_BASE_S", 0.5)
    monkeypatch.setattr(ocr, "TIMEOUT_PER_PAGE_S", 0.0)
    with pytest.raises(IncomingError, match="文字识别超时"):
        ocr.ocr_pdf(pdf, tmp_path / "out.pdf", ledger_cfg, pages=1)
    assert not (tmp_path / "out.pdf").exists()
