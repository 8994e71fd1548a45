"""The register on a real SQLite file: allocation (also by 8 processes at once), idempotency, year
rollover, voids and reservations, progress, the 用印登记, the event chain and tamper detection, the
doctor's findings, and the register/void/reserve commands (table, JSON, a real .xlsx)."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import REPO, write_instance
from pipeline.config import Numbering, load
from pipeline.errors import LedgerError
from pipeline.ledger import REGISTER_COLUMNS, SEAL_COLUMNS, STAGES, Ledger, health, ledger_path
from pipeline.model import Attachment, Draft, Meeting
from tests.support.ledger import Clock, TZ, draft


@pytest.fixture
def clock():
    return Clock(dt.datetime(2015, 3, 20, 9, 0, tzinfo=TZ))


@pytest.fixture
def ledger(ledger_cfg, tmp_path, clock):
    with Ledger(tmp_path / "ledger.sqlite3", ledger_cfg, clock=clock) as led:
        yield led


# --- allocation ---------------------------------------------------------------------------------------

def test_allocation_is_sequential_per_series_and_year(ledger):
    refs = [ledger.allocate(draft(f"通知{i}"), actor="甲").number.reference for i in range(3)]
    assert refs == ["珠政发〔2015〕1号", "珠政发〔2015〕2号", "珠政发〔2015〕3号"]
    other = ledger.allocate(draft("函", series="珠政函", kind="函"), actor="甲")
    assert other.number.reference == "珠政函〔2015〕1号"
    minutes = ledger.allocate(draft("会议", series="常务会议纪要", kind="纪要"), actor="甲")
    assert (minutes.number.text, minutes.number.reference) == ("〔2015〕1号", "常务会议纪要〔2015〕1号")
    assert [e.event for e in ledger.events()] == ["allocated"] * 5
    assert ledger.verify().ok


def test_same_content_same_number_changed_content_new_number(ledger):
    d = draft("关于开展安全检查的通知")
    a = ledger.allocate(d, actor="甲")
    ledger.advance(a.doc_id, "rendered", actor="甲")
    # The same content from another file name is the same document, with its progress.
    again = ledger.allocate(Draft(**{**d.__dict__, "source": "/inbox/副本.docx", "source_format": "docx"}),
                            actor="乙")
    assert (again.number, again.doc_id, again.is_new, again.stage) == (a.number, a.doc_id, False, "rendered")
    changed = ledger.allocate(draft("关于开展安全检查的通知（修改）"), actor="甲")
    assert changed.is_new and changed.number.seq == 2
    assert [e.event for e in ledger.events(a.number.reference)] == ["allocated", "rendered", "duplicate"]


def test_voided_content_dropped_again_gets_a_new_number(ledger):
    d = draft("被作废的通知")
    a = ledger.allocate(d, actor="甲")
    ledger.void(a.number.reference, reason="版面放不下印章", actor="甲")
    b = ledger.allocate(d, actor="甲")
    assert b.is_new and b.number.seq == 2 and b.doc_id != a.doc_id
    assert ledger.document(a.number.reference).stage == "voided"


def test_year_rollover_follows_the_date_of_the_document(ledger):
    late_2015 = ledger.allocate(draft("年底通知", date=dt.date(2015, 12, 30)), actor="甲")
    assert late_2015.number.reference == "珠政发〔2015〕1号"
    first_2016 = ledger.allocate(draft("新年通知", date=dt.date(2016, 1, 4)), actor="甲")
    assert first_2016.number.reference == "珠政发〔2016〕1号"
    # Signed on 31 December, registered in January: still a 2015 number, continuing 2015's sequence.
    straggler = ledger.allocate(draft("迟到的年底通知", date=dt.date(2015, 12, 31)), actor="甲")
    assert straggler.number.reference == "珠政发〔2015〕2号"
    assert ledger.allocate(draft("又一个新年通知", date=dt.date(2016, 1, 5)), actor="甲").number.seq == 2
    assert [r.number for r in ledger.register(2016)] == ["珠政发〔2016〕1号", "珠政发〔2016〕2号"]
    assert ledger.check_numbers() == []


def test_year_from_registration_date(ledger_cfg, tmp_path, clock):
    by_registration = ledger_cfg.model_copy(update={"numbering": Numbering(year_from="登记日期")})
    with Ledger(tmp_path / "l.sqlite3", by_registration, clock=clock) as led:
        clock.set(2016, 1, 2, 8, 0)
        a = led.allocate(draft("去年签发今年登记", date=dt.date(2015, 12, 31)), actor="甲")
        assert a.number.reference == "珠政发〔2016〕1号"
        assert led.allocate(draft("没有日期", date=None), actor="甲").number.seq == 2


def test_allocation_refuses_what_it_cannot_number(ledger):
    with pytest.raises(LedgerError, match="成文日期"):
        ledger.allocate(draft("无日期", date=None), actor="甲")
    with pytest.raises(LedgerError, match="不在配置中"):
        ledger.allocate(draft("错系列", series="不存在发"), actor="甲")
    assert ledger.events() == []


# --- reservations and voids ---------------------------------------------------------------------------

def test_reserve_then_use_from_a_draft(ledger):
    ledger.allocate(draft("第一件"), actor="甲")
    reserved = ledger.reserve("珠政发", 2015, actor="秘书科", note="区长交办事项")
    assert reserved.reference == "珠政发〔2015〕2号"
    ledger.allocate(draft("第三件"), actor="甲")
    row = {r.number: r for r in ledger.register(2015)}[reserved.reference]
    assert (row.status, row.note, row.title) == ("预留", "区长交办事项", "")

    used = ledger.allocate(draft("用预留号的通知", number_text="珠政发〔2015〕2号"), actor="甲")
    assert used.number == reserved and used.is_new and used.stage == "allocated"
    row = {r.number: r for r in ledger.register(2015)}[reserved.reference]
    assert row.title == "用预留号的通知" and row.status == "办理中（已编号）"
    assert "预留于 2015-03-20" in row.note
    assert [e.event for e in ledger.events(reserved.reference)] == ["reserved", "reservation_used"]
    # The same draft again is the same document, not a second use of the reservation.
    assert not ledger.allocate(draft("用预留号的通知", number_text="珠政发〔2015〕2号"), actor="甲").is_new
    assert ledger.verify().ok


def test_reservation_errors(ledger):
    ledger.allocate(draft("已编号"), actor="甲")                              # 珠政发〔2015〕1号
    ledger.reserve("珠政发", 2015, actor="甲")                                # 珠政发〔2015〕2号
    ledger.reserve("珠政函", 2015, actor="甲")                                # 珠政函〔2015〕1号
    with pytest.raises(LedgerError, match="不是未用的预留号.*已是“已编号”"):
        ledger.allocate(draft("抢号", number_text="珠政发〔2015〕1号"), actor="甲")
    with pytest.raises(LedgerError, match="尚未预留"):
        ledger.allocate(draft("未来号", number_text="珠政发〔2015〕9号"), actor="甲")
    with pytest.raises(LedgerError, match="属于 珠政函"):
        ledger.allocate(draft("错系列", number_text="珠政函〔2015〕1号"), actor="甲")
    with pytest.raises(LedgerError, match="2016年"):
        ledger.allocate(draft("错年份", date=dt.date(2016, 1, 4), number_text="珠政发〔2015〕2号"), actor="甲")
    with pytest.raises(LedgerError, match="六角括号"):
        ledger.allocate(draft("写错", number_text="珠政发[2015]2号"), actor="甲")
    with pytest.raises(LedgerError, match="发文系列"):
        ledger.reserve("不存在发", 2015, actor="甲")
    ledger.allocate(draft("正式用", number_text="珠政发〔2015〕2号"), actor="甲")
    with pytest.raises(LedgerError, match="不是未用的预留号"):
        ledger.allocate(draft("再用一次", number_text="珠政发〔2015〕2号"), actor="甲")
    # None of the refusals took a number.
    assert ledger.allocate(draft("下一个"), actor="甲").number.seq == 3


def test_void_keeps_the_number_with_reason_time_and_actor(ledger):
    a = ledger.allocate(draft("要作废的"), actor="甲")
    ledger.advance(a.doc_id, "rendered", actor="甲")
    ledger.void("珠政发〔2015〕1号", reason="内容有误，重新起草", actor="办公室王五")
    doc = ledger.document("珠政发〔2015〕1号")
    assert (doc.stage, doc.status, doc.void_reason, doc.voided_by) == (
        "voided", "作废", "内容有误，重新起草", "办公室王五")
    assert doc.voided_at.startswith("2015-03-20T")
    row = ledger.register(2015)[0]
    assert row.status == "作废" and row.note.startswith("作废：内容有误，重新起草（办公室王五，2015-03-20 ")
    ev = ledger.events("珠政发〔2015〕1号")[-1]
    assert (ev.event, ev.actor, ev.detail["reason"], ev.detail["from"]) == (
        "voided", "办公室王五", "内容有误，重新起草", "rendered")
    with pytest.raises(LedgerError, match="已于 .* 由 办公室王五 作废"):
        ledger.void("珠政发〔2015〕1号", reason="再来", actor="甲")
    with pytest.raises(LedgerError, match="没有文号"):
        ledger.void("珠政发〔2015〕7号", reason="不存在", actor="甲")
    with pytest.raises(LedgerError, match="六角括号"):
        ledger.void("珠政发[2015]1号", reason="写错括号", actor="甲")
    assert ledger.document("珠政发〔2015〕7号") is None
    assert ledger.document("Z109-WS·2015-Y-BGS-0001") is None
    with pytest.raises(LedgerError, match="原因"):
        ledger.void("珠政发〔2015〕1号", reason="  ", actor="甲")
    with pytest.raises(LedgerError, match="作废"):
        ledger.advance(a.doc_id, "converted", actor="甲")
    # Never reused: the next number is 2.
    assert ledger.allocate(draft("新的"), actor="甲").number.seq == 2
    # An unused reservation can be voided too.
    r = ledger.reserve("珠政发", 2015, actor="甲")
    ledger.void(r.reference, reason="预留未用", actor="甲")
    assert ledger.document(r.reference).status == "作废"
    assert ledger.verify().ok


def test_void_refuses_an_archived_document_unless_forced(ledger):
    a = ledger.allocate(draft("已归档的"), actor="甲")
    for stage in STAGES[1:]:
        ledger.advance(a.doc_id, stage, actor="流水线")
    ref = a.number.reference
    ledger.set_archive_code(ref, "Z109-WS·2015-Y-BGS-0001", actor="档案员")
    with pytest.raises(LedgerError) as e:
        ledger.void(ref, reason="发错了", actor="甲")
    assert str(e.value) == (f"{ref} 已整理归档（档号 Z109-WS·2015-Y-BGS-0001），作废会使 2015 年度的四性检测不通过；"
                            "确需作废请加 --force，并在原因中写明为何作废已归档的文件")
    assert ledger.document(ref).stage == "indexed"
    ledger.void(ref, reason="发错了，经分管领导同意撤回", actor="甲", force=True)
    doc = ledger.document(ref)
    assert doc.stage == "voided"
    assert doc.void_reason == "发错了，经分管领导同意撤回（已编档号 Z109-WS·2015-Y-BGS-0001，强制作废）"
    ev = ledger.events(ref)[-1]
    assert ev.event == "voided" and ev.detail["forced"] is True and ev.detail["archive_code"] == "Z109-WS·2015-Y-BGS-0001"
    assert ledger.verify().ok


def test_anchors_are_recorded_in_the_chain_and_cannot_be_forged_through_log(ledger):
    a = ledger.allocate(draft("锚定"), actor="甲")
    ref = a.number.reference
    for stage in STAGES[1:]:
        detail = {"path": "/x", "anchor": {"algorithm": "sm3", "metadata": "a" * 64, "files": {}}} \
            if stage == "filed" else None
        ledger.advance(a.doc_id, stage, actor="流水线", detail=detail)
    ledger.anchor(ref, {"algorithm": "sm3", "metadata": "b" * 64, "files": {}}, actor="档案员", reason="整理归档")
    ledger.anchor(None, {"algorithm": "sm3", "files": {"整理方案.json": "c" * 64}}, actor="档案员",
                  reason="整理归档", subject="2015年度整理")
    got = ledger.anchors()
    assert [(x.event, x.reason, x.anchor["metadata"]) for x in got[ref]] == [
        ("filed", "归档", "a" * 64), ("anchored", "整理归档", "b" * 64)]
    assert [x.anchor["files"] for x in got["2015年度整理"]] == [{"整理方案.json": "c" * 64}]
    assert ledger.anchors(ref) == {ref: got[ref]}
    assert ledger.anchors("2015年度整理") == {"2015年度整理": got["2015年度整理"]}
    with pytest.raises(ValueError):
        ledger.log("anchored", actor="x", reference=ref, detail={"anchor": {}})
    # An anchor smuggled into another event's detail is not an anchor.
    ledger.log("resumed", actor="x", reference=ref, detail={"anchor": {"metadata": "d" * 64}})
    assert ledger.anchors(ref)[ref][-1].anchor["metadata"] == "b" * 64
    assert ledger.verify().ok


# --- progress, seals, archive codes -------------------------------------------------------------------

def test_progress_and_pending(ledger):
    a = ledger.allocate(draft("甲文"), actor="甲")
    b = ledger.allocate(draft("乙文"), actor="甲")
    c = ledger.allocate(draft("丙文"), actor="甲")
    for stage in STAGES[1:]:
        ledger.advance(a.doc_id, stage, actor="流水线", detail={"step": stage})
    ledger.advance(b.doc_id, "converted", actor="流水线")       # stages may be skipped forward
    ledger.advance(b.doc_id, "converted", actor="流水线")       # a resumed step: no-op
    ledger.void(c.number.reference, reason="测试", actor="甲")
    ledger.reserve("珠政发", 2015, actor="甲")
    assert [(d.reference, d.stage, d.pending) for d in ledger.pending()] == [
        ("珠政发〔2015〕2号", "converted", True)]
    assert ledger.pending()[0].doc_id == b.doc_id
    assert [e.event for e in ledger.events(b.number.reference)] == ["allocated", "converted"]
    assert ledger.events(a.number.reference)[-1].detail["step"] == "indexed"
    assert ledger.document(a.number.reference).status == "已发"
    assert ledger.document(b.number.reference).status == "办理中（已转PDF）"
    with pytest.raises(LedgerError, match="不能退回"):
        ledger.advance(b.doc_id, "rendered", actor="流水线")
    with pytest.raises(ValueError):
        ledger.advance(b.doc_id, "printed", actor="流水线")
    with pytest.raises(ValueError):
        ledger.advance(b.doc_id, "filed", actor="流水线", detail={"register": {}})
    with pytest.raises(LedgerError, match="没有编号为 99"):
        ledger.advance(99, "filed", actor="流水线")


def test_register_columns_from_the_draft(ledger):
    d = draft("关于印发工作方案的通知", secrecy="秘密★1年", urgency="特急", signers=("张三", "李四"),
              drafter_unit="办公室", drafter="王五", cc="区委办公室，区人大常委会办公室", copies=30,
              attachments=(Attachment("人员名单", 1), Attachment("日程安排", 2)))
    ledger.allocate(d, actor="甲")
    (row,) = ledger.register(2015, "珠政发")
    assert [h for _, h in REGISTER_COLUMNS] == [
        "顺序号", "登记日期", "发文字号", "发文机关", "标题", "文种", "密级/紧急程度", "签发人", "签发日期",
        "拟稿部门/拟稿人", "主送", "抄送", "份数", "附件", "状态", "档号", "备注"]
    assert row.issuers == "珠晖区人民政府"
    assert (row.seq_no, row.registered, row.number, row.title, row.kind, row.secrecy_urgency, row.signers,
            row.signed_on, row.drafter, row.main_to, row.cc, row.copies, row.attachments, row.status,
            row.archive_code) == (
        1, "2015-03-20", "珠政发〔2015〕1号", "关于印发工作方案的通知", "通知", "秘密★1年/特急", "张三、李四",
        "未记录", "办公室/王五", "各街道办事处", "区委办公室，区人大常委会办公室", 30, "1.人员名单；2.日程安排",
        "办理中（已编号）", "")
    doc = ledger.document("珠政发〔2015〕1号")
    assert doc.signers == ("张三", "李四") and doc.attachments == ("1.人员名单", "2.日程安排")
    assert doc.doc_date == dt.date(2015, 3, 20) and doc.source == "/inbox/关于印发工作方案的通知.md"


def test_seal_register(ledger):
    a = ledger.allocate(draft("盖章的通知", signers=("张三",)), actor="甲")
    ledger.record_seal_use(a.number.reference, seal_name="珠晖区人民政府", copies=30, handler="李四",
                           approver="张三", note="电子印章")
    m = ledger.allocate(draft("会议", series="常务会议纪要", kind="纪要"), actor="甲")
    ledger.record_seal_use("〔2015〕1号", seal_name="珠晖区人民政府办公室", copies=None, handler="李四",
                           approver=None)
    rows = ledger.seal_register(2015)
    assert [h for _, h in SEAL_COLUMNS] == ["序号", "用印时间", "印章名称", "文号", "文件标题", "份数", "经办人",
                                            "审批人（签发人）", "备注"]
    assert [(r.seq_no, r.seal_name, r.number, r.title, r.copies, r.handler, r.approver, r.note)
            for r in rows] == [
        (1, "珠晖区人民政府", "珠政发〔2015〕1号", "盖章的通知", 30, "李四", "张三", "电子印章"),
        (2, "珠晖区人民政府办公室", m.number.reference, "会议", None, "李四", "", "")]
    assert rows[0].used_at.startswith("2015-03-20 ")
    assert ledger.seal_register(2016) == []
    with pytest.raises(LedgerError, match="没有文号"):
        ledger.record_seal_use("珠政发〔2015〕9号", seal_name="印", copies=1, handler="李四", approver=None)
    ledger.void(a.number.reference, reason="测试", actor="甲")
    with pytest.raises(LedgerError, match="不能用印"):
        ledger.record_seal_use(a.number.reference, seal_name="印", copies=1, handler="李四", approver=None)
    assert ledger.verify().ok


def test_archive_code_only_for_finished_documents(ledger):
    a = ledger.allocate(draft("办结的"), actor="甲")
    with pytest.raises(LedgerError, match="只有办结"):
        ledger.set_archive_code(a.number.reference, "Z109-WS·2015-Y-BGS-0001", actor="档案员")
    for stage in STAGES[1:]:
        ledger.advance(a.doc_id, stage, actor="流水线")
    ledger.set_archive_code(a.number.reference, "Z109-WS·2015-Y-BGS-0001", actor="档案员")
    ledger.set_archive_code(a.number.reference, "Z109-WS·2015-Y-BGS-0001", actor="档案员")  # no-op
    assert ledger.register(2015)[0].archive_code == "Z109-WS·2015-Y-BGS-0001"
    assert [e.event for e in ledger.events(a.number.reference)][-1:] == ["archived"]
    assert sum(e.event == "archived" for e in ledger.events()) == 1


def test_log_cannot_forge_state_events(ledger):
    ledger.log("resumed", actor="流水线", reference="珠政发〔2015〕1号", detail={"after": "crash"})
    assert ledger.events()[-1].detail == {"after": "crash"}
    for name in ("allocated", "voided", "filed", "archived", "duplicate"):
        with pytest.raises(ValueError):
            ledger.log(name, actor="x")
    with pytest.raises(ValueError):
        ledger.log("note", actor="x", detail={"register": {"id": 1}})


# --- the chain and tampering --------------------------------------------------------------------------

@pytest.fixture
def filled(ledger_cfg, tmp_path, clock) -> Path:
    """A closed ledger file with documents in every state, seal uses and 14 events."""
    path = tmp_path / "filled.sqlite3"
    with Ledger(path, ledger_cfg, clock=clock) as led:
        docs = [led.allocate(draft(f"第{i}号文件"), actor="甲") for i in range(1, 5)]   # events 1-4
        for stage in STAGES[1:]:
            led.advance(docs[0].doc_id, stage, actor="流水线")                         # 5-9
        led.record_seal_use(docs[0].number.reference, seal_name="珠晖区人民政府", copies=10,
                            handler="李四", approver="张三")                            # 10
        led.void(docs[1].number.reference, reason="测试作废", actor="甲")               # 11
        led.reserve("珠政发", 2015, actor="甲")                                        # 12
        led.advance(docs[2].doc_id, "rendered", actor="流水线")                        # 13
        led.log("resumed", actor="流水线", reference=docs[2].number.reference)          # 14
        rep = led.verify()
    assert rep.ok and rep.events == 14 and rep.algorithms == ("sm3",) and rep.head
    return path


def tamper(path: Path, *sql: str) -> None:
    db = sqlite3.connect(path)
    db.executescript("DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;"
                     + ";".join(sql))
    db.commit()
    db.close()


def verify(path: Path, ledger_cfg):
    with Ledger(path, ledger_cfg) as led:
        return led.verify()


def test_event_rows_refuse_update_and_delete(filled):
    db = sqlite3.connect(filled)
    with pytest.raises(sqlite3.DatabaseError, match="只能追加"):
        db.execute("UPDATE events SET actor = '别人' WHERE id = 3")
    with pytest.raises(sqlite3.DatabaseError, match="只能追加"):
        db.execute("DELETE FROM events WHERE id = 3")
    db.close()


def test_tamper_title_in_register(filled, ledger_cfg):
    tamper(filled, "UPDATE documents SET title = '改过的标题' WHERE id = 3")
    rep = verify(filled, ledger_cfg)
    assert not rep.ok
    b = rep.first
    assert (b.table, b.row_id) == ("documents", 3)
    # Chinese column names, no stray space after the bracket (issue 10 item 15)
    assert b.message == "登记簿第 3 行（珠政发〔2015〕3号）的标题与事件 #13 记录的不符（被改动）"


def test_tamper_deleted_event(filled, ledger_cfg):
    tamper(filled, "DELETE FROM events WHERE id = 6")
    b = verify(filled, ledger_cfg).first
    assert (b.table, b.row_id, b.event) == ("events", 7, "stamped")
    assert "#7" in b.message and b.time in b.message and "缺少事件 #6" in b.message


def test_tamper_reordered_events(filled, ledger_cfg):
    tamper(filled, "UPDATE events SET id = -5 WHERE id = 5", "UPDATE events SET id = 5 WHERE id = 9",
           "UPDATE events SET id = 9 WHERE id = -5")
    b = verify(filled, ledger_cfg).first
    assert (b.table, b.row_id) == ("events", 5)
    assert b.event == "indexed" and "#5" in b.message


def test_tamper_edited_event_payload(filled, ledger_cfg):
    tamper(filled, "UPDATE events SET detail = replace(detail, '第2号文件', '别的文件') WHERE id = 2")
    rep = verify(filled, ledger_cfg)
    assert (rep.first.table, rep.first.row_id, rep.first.event) == ("events", 2, "allocated")
    assert "哈希不符" in rep.first.message


def test_tamper_event_with_recomputed_hash_breaks_the_next_link(filled, ledger_cfg):
    """Someone who edits an event and recomputes its own hash still breaks the next row's link."""
    from pipeline.ledger import _event_hash

    db = sqlite3.connect(filled)
    db.row_factory = sqlite3.Row
    r = db.execute("SELECT * FROM events WHERE id = 11").fetchone()
    detail = r["detail"].replace("测试作废", "正常办结")
    h = _event_hash(r["algorithm"], 11, r["time"], r["actor"], r["event"], r["reference"], detail,
                    r["prev_hash"])
    db.close()
    tamper(filled, f"UPDATE events SET detail = '{detail}', hash = '{h}' WHERE id = 11")
    rep = verify(filled, ledger_cfg)
    assert (rep.first.table, rep.first.row_id) == ("events", 12)
    assert "前序哈希" in rep.first.message


def test_tamper_deleted_register_row(filled, ledger_cfg):
    tamper(filled, "DELETE FROM documents WHERE id = 4")
    rep = verify(filled, ledger_cfg)
    b = next(b for b in rep.breaks if b.table == "documents")
    assert rep.first is b and b.row_id == 4 and "被删除" in b.message and "珠政发〔2015〕4号" in b.message
    with Ledger(filled, ledger_cfg) as led:
        assert "缺少第 4 号" in led.check_numbers(2015)[0]


def test_tamper_swapped_register_rows(filled, ledger_cfg):
    tamper(filled, "UPDATE documents SET id = -1 WHERE id = 1", "UPDATE documents SET id = 1 WHERE id = 2",
           "UPDATE documents SET id = 2 WHERE id = -1")
    b = verify(filled, ledger_cfg).first
    assert (b.table, b.row_id) == ("documents", 1)


def test_tamper_forged_register_row_and_seal_row(filled, ledger_cfg):
    tamper(filled, "UPDATE seal_uses SET copies = 100 WHERE id = 1")
    b = verify(filled, ledger_cfg).first
    assert (b.table, b.row_id) == ("seal_uses", 1)
    assert b.message == "用印登记第 1 行（珠政发〔2015〕1号）的份数与事件 #10 记录的不符（被改动）"
    tamper(filled, "INSERT INTO documents (id, series, year, seq, number_text, reference, stage, registered_at,"
                   " updated_at) VALUES (99, '珠政发', 2015, 99, 'x', '珠政发〔2015〕99号', 'indexed', 'x', 'x')")
    rep = verify(filled, ledger_cfg)
    assert any(b.row_id == 99 and b.message == "登记簿第 99 行（珠政发〔2015〕99号）没有对应的事件记录（被插入或改了行号）"
               for b in rep.breaks)
    with Ledger(filled, ledger_cfg) as led:
        # The counter, not the highest row, says which numbers were issued: no 漏号 up to 99.
        assert led.counters(2015) == {"珠政发": 6}
        assert led.check_numbers(2015) == ["珠政发 2015年 计数器为 6，但已登记到 99 号"]


def test_tamper_lowered_counter_is_detected_and_never_reuses(filled, ledger_cfg):
    tamper(filled, "UPDATE counters SET next_seq = 3 WHERE series = '珠政发' AND year = 2015")
    rep = verify(filled, ledger_cfg)
    assert rep.first.table == "counters" and "计数器为 3" in rep.first.message
    with Ledger(filled, ledger_cfg) as led:
        with pytest.raises(LedgerError, match="已登记过"):
            led.allocate(draft("新来的"), actor="甲")
        assert led.document("珠政发〔2015〕3号").title == "第3号文件"


def test_dropped_trigger_is_reported(filled, ledger_cfg):
    tamper(filled)                       # drops the append-only triggers, changes nothing else
    rep = verify(filled, ledger_cfg)            # opening an existing ledger does not quietly re-create them
    assert not rep.ok and "触发器 events_no_update" in rep.first.message


# --- doctor ---------------------------------------------------------------------------------------------

def test_health(tmp_path):
    config = load(write_instance(tmp_path / "inst"))
    (f,) = health(config)
    assert f.ok is None and "尚未建立" in f.detail
    assert not ledger_path(config).exists()       # the doctor never creates a register
    clock = Clock(dt.datetime(2015, 3, 20, 9, 0, tzinfo=TZ))
    with Ledger.open(config, clock=clock) as led:
        a = led.allocate(draft("办结"), actor="甲")
        for stage in STAGES[1:]:
            led.advance(a.doc_id, stage, actor="甲")
        led.allocate(draft("中断"), actor="甲")
        led.reserve("珠政发", 2015, actor="甲")
    findings = health(config, now=dt.datetime(2015, 3, 20, 9, 30, tzinfo=TZ))
    assert [f.ok for f in findings] == [True] * 5, findings
    later = health(config, now=dt.datetime(2016, 1, 5, 9, 0, tzinfo=TZ))
    by_item = {f.item: f for f in later}
    assert not by_item["没有中断未办结的文件"].ok and "珠政发〔2015〕2号" in by_item["没有中断未办结的文件"].detail
    assert not by_item["往年没有未用的预留号"].ok and "珠政发〔2015〕3号" in by_item["往年没有未用的预留号"].detail
    assert by_item["事件哈希链与登记簿一致"].ok
    tamper(ledger_path(config), "UPDATE documents SET title = '改' WHERE id = 1")
    by_item = {f.item: f for f in health(config)}
    assert not by_item["事件哈希链与登记簿一致"].ok and "的标题与事件" in by_item["事件哈希链与登记簿一致"].detail


# --- 8 processes at once --------------------------------------------------------------------------------

WORKER = textwrap.dedent("""
    import datetime as dt, json, os, sys, time
    from pathlib import Path
    from pipeline.config import load
    from pipeline.ledger import Ledger
    from pipeline.model import Draft
    config_path, tag, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    config = load(config_path)
    with Ledger.open(config) as ledger:
        (go.parent / f"ready-{tag}").touch()          # the register is open: ready to allocate
        deadline = time.monotonic() + 300
        while not go.exists():
            if time.monotonic() > deadline:
                sys.exit("never told to go")
            time.sleep(0.01)
        seqs = []
        for i in range(n):
            d = Draft(source=f"{tag}-{i}.md", source_format="markdown", series="珠政发", kind="通知",
                      title=f"进程{tag}的第{i}份通知", date=dt.date(2015, 5, 1))
            seqs.append(ledger.allocate(d, actor=tag).number.seq)
    print(json.dumps(seqs))
""")


@pytest.mark.slow
def test_eight_processes_allocate_1600_contiguous_numbers(tmp_path):
    config_path = write_instance(tmp_path / "inst")
    config = load(config_path)
    with Ledger.open(config):
        pass                                      # create the file once, as the service would
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(config_path), f"p{k}", "200", str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
             for k in range(8)]
    # All eight start allocating together, once each has its register open.
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"ready-p{k}").exists() for k in range(8)):
        assert all(p.poll() is None for p in procs), "a worker exited before it was ready"
        assert time.monotonic() < deadline, "the workers did not open the register within 120 s"
        time.sleep(0.01)
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    every = [s for r in results for s in r]
    assert len(every) == 1600 and sorted(every) == list(range(1, 1601))
    assert all(r == sorted(r) for r in results)                    # each process saw increasing numbers
    assert sum(1 for r in results if max(r) - min(r) > 200) >= 2  # they really interleaved
    with Ledger.open(config) as led:
        events = led.events()
        assert [e.event for e in events] == ["allocated"] * 1600
        assert sorted(e.detail["register"]["seq"] for e in events) == list(range(1, 1601))
        assert len({e.reference for e in events}) == 1600
        rep = led.verify()
        assert rep.ok and rep.events == 1600, rep.summary()
        assert led.check_numbers(2015) == []
        assert len(led.register(2015, "珠政发")) == 1600


# --- CLI ------------------------------------------------------------------------------------------------

@pytest.fixture
def instance(tmp_path):
    path = write_instance(tmp_path / "inst")
    config = load(path)
    clock = Clock(dt.datetime(2015, 3, 20, 9, 0, tzinfo=TZ))
    with Ledger.open(config, clock=clock) as led:
        a = led.allocate(draft("关于做好防汛工作的通知", signers=("张三",), copies=20), actor="甲")
        for stage in STAGES[1:]:
            led.advance(a.doc_id, stage, actor="甲")
        led.record_seal_use(a.number.reference, seal_name="珠晖区人民政府", copies=20, handler="李四",
                            approver="张三")
        led.allocate(draft("关于召开会议的通知"), actor="甲")
    return path


def run(path: Path, *args: str):
    from pipeline.cli import cli

    return CliRunner().invoke(cli, ["--config", str(path), "--actor", "王五", *args])


def test_cli_register_table_and_json(instance):
    r = run(instance, "register", "2015")
    assert r.exit_code == 0, r.output
    for text in ("珠晖区人民政府办公室2015年发文登记簿", "顺序号", "发文字号", "珠政发〔2015〕1号",
                 "关于做好防汛工作的通知", "已发", "珠政发〔2015〕2号", "办理中（已编号）"):
        assert text in r.stdout
    r = run(instance, "register", "2015", "--json")
    data = json.loads(r.stdout)
    assert data["register"] == "发文登记簿" and data["columns"]["number"] == "发文字号"
    assert [(x["number"], x["status"], x["copies"]) for x in data["rows"]] == [
        ("珠政发〔2015〕1号", "已发", 20), ("珠政发〔2015〕2号", "办理中（已编号）", None)]
    r = run(instance, "register", "2015", "--seals", "--json")
    assert [(x["number"], x["seal_name"], x["handler"]) for x in json.loads(r.stdout)["rows"]] == [
        ("珠政发〔2015〕1号", "珠晖区人民政府", "李四")]
    r = run(instance, "register", "2014")
    assert r.exit_code == 0 and "没有登记" in r.stdout
    r = run(instance, "register", "2015", "--series", "乱写")
    assert r.exit_code != 0 and "没有名为“乱写”的发文系列" in r.output


def test_cli_register_reads_without_creating_a_register(tmp_path):
    path = write_instance(tmp_path / "fresh")
    r = run(path, "register", "2015")
    assert r.exit_code == 0 and "没有登记" in r.stdout
    assert not ledger_path(load(path)).exists()              # a read never creates the database
    r = run(path, "register", "2015", "--json")
    assert json.loads(r.stdout)["rows"] == []


def test_cli_reserve_and_void(instance, capsys):
    r = run(instance, "reserve", "珠政发", "--year", "2015", "--note", "留给区长讲话")
    assert r.exit_code == 0 and "已预留 珠政发〔2015〕3号" in r.stdout
    r = run(instance, "void", "珠政发〔2015〕2号", "--reason", "会议取消")
    assert r.exit_code == 0 and "已作废 珠政发〔2015〕2号" in r.stdout and "会议取消" in r.stdout
    rows = json.loads(run(instance, "register", "2015", "--json").stdout)["rows"]
    assert [(x["number"], x["status"]) for x in rows] == [
        ("珠政发〔2015〕1号", "已发"), ("珠政发〔2015〕2号", "作废"), ("珠政发〔2015〕3号", "预留")]
    assert "王五" in rows[1]["note"] and rows[2]["note"] == "留给区长讲话"
    r = run(instance, "void", "珠政发〔2015〕2号")
    assert r.exit_code != 0 and "必须用 --reason 写明原因" in r.output
    # Domain errors through the real entry point: one Chinese line, exit code 1.
    from pipeline.cli import main

    for args in (["void", "珠政发〔2015〕2号", "--reason", "再次"], ["void", "珠政发[2015]9号", "--reason", "x"],
                 ["reserve", "不存在发"]):
        with pytest.raises(SystemExit) as e:
            main(["--config", str(instance), *args])
        assert e.value.code == 1
        err = capsys.readouterr().err
        assert err.startswith("错误：") and "Traceback" not in err
    assert "已于" in err or "发文系列" in err


def test_cli_register_xlsx(instance, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "登记簿.xlsx"
    r = run(instance, "register", "2015", "--xlsx", str(out))
    assert r.exit_code == 0 and out.is_file()
    wb = load_workbook(out)
    ws = wb.active
    assert ws["A1"].value == "珠晖区人民政府办公室2015年发文登记簿"
    assert [c.value for c in ws[3]] == [h for _, h in REGISTER_COLUMNS]
    assert [c.value for c in ws[4]][:6] == [1, "2015-03-20", "珠政发〔2015〕1号", "珠晖区人民政府", "关于做好防汛工作的通知", "通知"]
    assert ws["O4"].value == "已发" and ws["O5"].value == "办理中（已编号）" and ws.max_row == 5
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9    # A4
    assert ws.print_title_rows == "$3:$3" and ws["C3"].font.b
    assert ws.column_dimensions["D"].width > ws.column_dimensions["A"].width
    r = run(instance, "register", "2015", "--xlsx", str(out))
    assert r.exit_code != 0 and "已存在" in r.output
    seals = tmp_path / "用印.xlsx"
    assert run(instance, "register", "2015", "--seals", "--xlsx", str(seals)).exit_code == 0
    ws = load_workbook(seals).active
    assert ws["A1"].value == "珠晖区人民政府办公室2015年用印登记簿"
    assert [c.value for c in ws[4]][2:7] == ["珠晖区人民政府", "珠政发〔2015〕1号", "关于做好防汛工作的通知", 20, "李四"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_void_of_an_archived_document_needs_force(instance, capsys):
    from pipeline.cli import main

    with Ledger.open(load(instance)) as led:
        led.set_archive_code("珠政发〔2015〕1号", "Z109-WS·2015-Y-BGS-0001", actor="档案员")
    with pytest.raises(SystemExit) as e:
        main(["--config", str(instance), "void", "珠政发〔2015〕1号", "--reason", "发错了"])
    err = capsys.readouterr().err
    assert e.value.code == 1 and err.startswith("错误：珠政发〔2015〕1号 已整理归档（档号 Z109-WS·2015-Y-BGS-0001）")
    assert "--force" in err
    r = run(instance, "void", "珠政发〔2015〕1号", "--reason", "发错了，经领导同意撤回", "--force")
    assert r.exit_code == 0, r.output
    assert ("已作废 珠政发〔2015〕1号（原因：发错了，经领导同意撤回（已编档号 Z109-WS·2015-Y-BGS-0001，强制作废）；经办：王五）"
            in r.stdout)
    assert "2015 年度的四性检测将指出此件" in r.stdout


def test_a_joint_document_lists_every_organ_in_the_register(ledger):
    """联合行文: the 发文登记簿 names every 发文机关, the 主办机关 (the series' issuer) first."""
    ledger.allocate(draft("关于联合开展检查的通知", co_issuers=("珠晖区财政局", "珠晖区教育局")), actor="甲")
    row = next(r for r in ledger.register(2015) if r.title == "关于联合开展检查的通知")
    assert row.issuers == "珠晖区人民政府、珠晖区财政局、珠晖区教育局"
    assert ledger.document(row.number).issuers == ("珠晖区人民政府", "珠晖区财政局", "珠晖区教育局")
    assert ledger.verify().ok


def test_a_register_from_before_the_organs_column_gets_it_when_opened(ledger_cfg, tmp_path):
    """A ledger created before the 发文机关 column existed gets it on opening; the chain verifies."""
    import sqlite3

    path = tmp_path / "ledger.sqlite3"
    with Ledger(path, ledger_cfg):
        pass
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE documents DROP COLUMN issuers")
    with Ledger(path, ledger_cfg) as again:
        again.allocate(draft("新的通知"), actor="甲")
        assert again.register(2015)[0].issuers == "珠晖区人民政府" and again.verify().ok


# --- a 纪要's 期号 is its number --------------------------------------------------------------------------

def minutes_draft(issue: str | None, name: str) -> Draft:
    return draft(f"区政府{name}常务会议纪要", series="常务会议纪要", kind="纪要",
                 meeting=Meeting(name=f"区政府{name}常务会议", issue=issue))


def test_an_issue_number_ahead_of_the_counter_is_taken_and_the_gap_reserved(ledger):
    """期号 7 with the counter at 1: the 纪要 is 〔2015〕7号, as the office means it; 1–6 stay in the
    register as unused reservations (a later 纪要 with 期号 3 takes its own), the counter goes on at 8."""
    a = ledger.allocate(minutes_draft("7", "第7次"), actor="甲")
    assert (a.number.seq, a.number.text) == (7, "〔2015〕7号")
    rows = ledger.register(2015, "常务会议纪要")
    assert [(r.number, r.status) for r in rows[:6]] == [(f"常务会议纪要〔2015〕{i}号", "预留") for i in range(1, 7)]
    assert all("第7期" in r.note for r in rows[:6])
    assert ledger.allocate(minutes_draft("第3期", "第3次"), actor="甲").number.seq == 3
    assert ledger.allocate(minutes_draft(None, "第8次"), actor="甲").number.seq == 8
    assert ledger.allocate(minutes_draft("7", "第7次"), actor="甲").is_new is False     # the same draft again
    assert ledger.verify().ok


def test_an_issue_number_already_used_is_refused_and_takes_nothing(ledger):
    ledger.allocate(minutes_draft("2", "第2次"), actor="甲")
    before = (ledger.register(2015, "常务会议纪要"), len(ledger.events()))
    with pytest.raises(LedgerError, match="期号 2 已使用：常务会议纪要〔2015〕2号"):
        ledger.allocate(minutes_draft("2", "另一次"), actor="甲")
    assert (ledger.register(2015, "常务会议纪要"), len(ledger.events())) == before
    with pytest.raises(LedgerError, match="超前"):
        ledger.allocate(minutes_draft("900", "第900次"), actor="甲")
    assert ledger.register(2015, "常务会议纪要") == before[0] and ledger.verify().ok
