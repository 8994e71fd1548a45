"""督查督办 library: items in the 督办台账 book, their states, the day turn, 纪要 and 交办清单 sources,
and that every change is in the chain (an edited item is named by verify and by doctor)."""
from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from pipeline import drafts, supervise as sv
from pipeline.config import load
from pipeline.errors import SupervisionError
from pipeline.ledger import Ledger
from tests.conftest import write_instance
from tests.support.supervise import MINUTES, add, xlsx

D = dt.date


# --- items ---------------------------------------------------------------------------------------------

def test_items_are_numbered_per_year_from_the_shared_counters(ledger, config):
    a = add(ledger, config)
    b = add(ledger, config, matter="第二件")
    c = add(ledger, config, matter="次年的", assigned=D(2016, 1, 5))
    assert [a.reference, b.reference, c.reference] == ["督〔2015〕1号", "督〔2015〕2号", "督〔2016〕1号"]
    assert a.status == sv.OPEN and a.on_board
    # the config default for 领导批示: 15 working days from 3/2 (no holiday in between)
    assert a.deadline == D(2015, 3, 23) and a.deadline_rule == "默认：领导批示 15个工作日"
    assert ledger.check_numbers() == [] and ledger.verify().ok


def test_the_批示_contract_for_the_incoming_engineer(ledger, config):
    item = sv.add_item(ledger, config, matter="请区住建局研究解决", source_type="领导批示",
                       source="陈礼洋 2015年3月2日批示（收〔2015〕57号）", lead_unit="区住建局",
                       co_units=["区财政局"], leader="陈礼洋", assigned=D(2015, 3, 2),
                       deadline=D(2015, 3, 31), actor="秘书", source_ref="收〔2015〕57号#批示1")
    assert (item.lead_unit, item.co_units, item.leader, item.deadline) == ("区住建局", ("区财政局",), "陈礼洋",
                                                                            D(2015, 3, 31))
    again = sv.add_item(ledger, config, matter="请区住建局研究解决", source_type="领导批示", source="x",
                        lead_unit="区住建局", assigned=D(2015, 3, 2), actor="秘书",
                        source_ref="收〔2015〕57号#批示1")
    assert again.reference == item.reference and len(sv.list_items(ledger)) == 1


def test_bad_fields_are_all_named_and_take_no_number(ledger, config):
    with pytest.raises(SupervisionError) as e:
        add(ledger, config, matter=" ", source_type="座谈会", lead_unit="区宇宙局",
            deadline=D(2015, 2, 1))
    msg = str(e.value)
    for part in ("缺少“事项”", "来源类型“座谈会”", "单位“区宇宙局”不在", "早于交办日期"):
        assert part in msg
    assert sv.list_items(ledger) == [] and ledger.check_numbers() == []


def test_建议_answer_period_and_urgent(ledger, config):
    a = add(ledger, config, source_type="人大建议", source="第12号建议（张三代表）", assigned=D(2015, 3, 18))
    b = add(ledger, config, source_type="政协提案", source="第7号提案（李四委员）", assigned=D(2015, 3, 18),
            urgent=True)
    assert a.deadline == D(2015, 6, 18) and b.deadline == D(2015, 4, 18)
    answered = sv.record_answer(ledger, config, a.reference, category="A", answered_on=D(2015, 5, 20),
                                satisfaction="满意", actor="督查员")
    assert (answered.answer_category, answered.satisfaction) == ("A", "满意")
    c = add(ledger, config)
    with pytest.raises(SupervisionError, match="只有人大建议、政协提案"):
        sv.record_answer(ledger, config, c.reference, category="A", answered_on=D(2015, 5, 1),
                         satisfaction=None, actor="x")


def test_close_needs_a_办结说明_and_keeps_the_evidence(ledger, config, tmp_path):
    item = add(ledger, config)
    with pytest.raises(SupervisionError, match="办结说明"):
        sv.close_item(ledger, config, item.reference, note="  ", actor="督查员", closed_on=D(2015, 3, 20))
    assert sv.get_item(ledger, item.reference).status == sv.OPEN
    proof = tmp_path / "验收报告.pdf"
    proof.write_bytes(b"%PDF-1.4 proof")
    done = sv.close_item(ledger, config, item.reference, note="已完成整治并通过验收", actor="督查员",
                         closed_on=D(2015, 3, 20), evidence=[proof])
    assert done.status == sv.CLOSED and not done.on_board and done.closed_on == D(2015, 3, 20)
    (path, ev), = sv.evidence_files(config, done)
    assert path.read_bytes() == proof.read_bytes() and ev.original == "验收报告.pdf"
    assert proof.exists()                                   # the user's file stays
    with pytest.raises(SupervisionError, match="已是“已办结”"):
        sv.close_item(ledger, config, item.reference, note="again", actor="x", closed_on=D(2015, 3, 21))


def test_progress_hold_resume_and_cannot(ledger, config, tmp_path):
    item = add(ledger, config)
    f = tmp_path / "进展.docx"
    f.write_bytes(b"x")
    sv.add_progress(ledger, config, item.reference, "已完成方案初稿", actor="区城管局", day=D(2015, 3, 10),
                    files=[f])
    held = sv.set_status(ledger, config, item.reference, sv.HELD, reason="等待市里政策", actor="督查员",
                         today=D(2015, 3, 11))
    assert held.status == sv.HELD and held.status_reason == "等待市里政策"
    with pytest.raises(SupervisionError, match="须写明原因"):
        sv.set_status(ledger, config, item.reference, sv.OPEN, reason="", actor="x", today=D(2015, 3, 12))
    back = sv.set_status(ledger, config, item.reference, sv.OPEN, reason="政策已出台", actor="督查员",
                         today=D(2015, 4, 1))
    assert back.status == sv.OVERDUE                     # its 时限 (3/23) has passed meanwhile
    gone = sv.set_status(ledger, config, item.reference, sv.CANNOT, reason="超出区级职权", actor="督查员",
                         today=D(2015, 4, 2))
    assert gone.status == sv.CANNOT and not gone.on_board
    assert [p.text for p in gone.progress] == ["已完成方案初稿"]
    assert [h["event"] for h in sv.history(ledger, item.reference)] == ["交办", "进展", "状态变更", "状态变更",
                                                                         "状态变更"]


def test_day_turn_marks_overdue_once(ledger, config):
    late = add(ledger, config, deadline=D(2015, 3, 10))
    add(ledger, config, matter="未到期", deadline=D(2015, 4, 30))
    done = add(ledger, config, matter="已办结", deadline=D(2015, 3, 5))
    sv.close_item(ledger, config, done.reference, note="完成", actor="x", closed_on=D(2015, 3, 4))
    turn = sv.day_turn(ledger, config, today=D(2015, 3, 11), actor="gongwen")
    assert [i.reference for i in turn.overdue] == [late.reference]
    assert sv.get_item(ledger, late.reference).status == sv.OVERDUE
    assert sv.day_turn(ledger, config, today=D(2015, 3, 12), actor="gongwen").overdue == ()
    assert [i.reference for i in sv.list_items(ledger, overdue_on=D(2015, 3, 11))] == [late.reference]
    # the day before its 时限 passes it is not overdue
    assert sv.list_items(ledger, overdue_on=D(2015, 3, 10)) == []


def test_a_provisional_时限_is_recomputed_when_the_year_becomes_known(tmp_path, clock):
    from pipeline.workdays import package_years

    hi = package_years()[1]
    y = hi + 1
    cfg = load(write_instance(tmp_path / "a"))
    cfg.archive_dir.mkdir(parents=True)
    with Ledger.open(cfg, clock=clock) as led:
        item = add(led, cfg, assigned=D(hi, 12, 28), rule="5个工作日")
        assert item.deadline_provisional and item.deadline == D(y, 1, 4)
        assert sv.day_turn(led, cfg, today=D(hi, 12, 29), actor="g").still_provisional == (item.reference,)
    # The office adds next year's schedule: 1/1–1/5 off.
    cfg2 = load(write_instance(tmp_path / "a", calendar={y: {"holidays": [f"{y}-01-0{d}" for d in range(1, 6)]}}))
    with Ledger.open(cfg2, clock=clock) as led:
        turn = sv.day_turn(led, cfg2, today=D(hi, 12, 30), actor="g")
        assert turn.recomputed and turn.recomputed[0][2] > D(y, 1, 5)
        again = sv.get_item(led, item.reference)
        assert not again.deadline_provisional and again.deadline == turn.recomputed[0][2]
        assert led.verify().ok


# --- the chain ------------------------------------------------------------------------------------------

def test_every_state_change_is_an_event_with_who_when_what(ledger, config, clock):
    item = add(ledger, config, deadline=D(2015, 3, 10))
    sv.add_progress(ledger, config, item.reference, "方案已报区政府", actor="区城管局", day=D(2015, 3, 5))
    sv.day_turn(ledger, config, today=D(2015, 3, 11), actor="gongwen")
    sv.close_item(ledger, config, item.reference, note="已完成", actor="督查员", closed_on=D(2015, 3, 12))
    events = ledger.events(item.reference)
    assert [e.event for e in events] == ["supervision_added", "supervision_progress", "supervision_overdue",
                                         "supervision_closed"]
    assert [e.actor for e in events] == ["督查员", "区城管局", "gongwen", "督查员"]
    assert all(e.time and e.detail.get("what") for e in events)
    assert "销号" in events[-1].detail["what"] and "超时限 2 天" in events[-1].detail["what"]
    assert ledger.verify().ok


@pytest.mark.parametrize("tamper, named", [
    ("UPDATE supervision_items SET status = '已办结' WHERE id = 1", "督办台账第 1 行（督〔2015〕1号）的状态与事件"),
    ("UPDATE supervision_items SET deadline = '2015-12-31' WHERE id = 1", "的办结时限与事件"),
    ("UPDATE supervision_progress SET text = '已全部完成' WHERE id = 1", "督办进展记录第 1 行（督〔2015〕1号）的进展情况与事件"),
    ("DELETE FROM supervision_items WHERE id = 2", "督办台账第 2 行（督〔2015〕2号）被删除"),
])
def test_an_edited_item_is_named_by_verify_and_doctor(ledger, config, tamper, named):
    item = add(ledger, config)
    add(ledger, config, matter="第二件")
    sv.add_progress(ledger, config, item.reference, "进行中", actor="x", day=D(2015, 3, 5))
    assert ledger.verify().ok
    db = sqlite3.connect(ledger.path, isolation_level=None)
    db.execute(tamper)
    db.close()
    rep = ledger.verify()
    assert not rep.ok and any(named in b.message for b in rep.breaks), [b.message for b in rep.breaks]
    from pipeline.ledger import health

    chain = next(f for f in health(config) if f.item == "事件哈希链与登记簿一致")
    assert chain.ok is False and named in chain.detail


# --- sources: 纪要 and 交办清单 ---------------------------------------------------------------------------

def test_a_纪要_with_four_议定事项_gives_three_items_with_the_right_时限(ledger, config, tmp_path):
    path = tmp_path / "区政府第3次常务会议纪要.yaml"
    path.write_text(MINUTES, encoding="utf-8")
    draft = drafts.read_draft(path, config, config.route_for_folder("纪要"))
    got = sv.items_from_minutes(ledger, config, draft, "常务会议纪要〔2015〕3号", actor="秘书")
    items = {i.lead_unit: i for i in got.items}
    assert sorted(items) == ["区城管局", "区编办", "区财政局"]
    assert got.notes == ("议定事项第 4 项未写责任单位，未列入督办",)
    # 15 working days from 2/6: over 春节 (2/18–24 off) and the 调休 Sunday 2/15 and Saturday 2/28
    assert items["区城管局"].deadline == D(2015, 3, 4)
    assert items["区城管局"].deadline_rule == "文中：15个工作日"
    assert items["区财政局"].deadline == D(2015, 2, 28)              # 月底前
    assert items["区编办"].deadline == D(2015, 3, 25)                # default 30个工作日 for 常务会议
    assert items["区编办"].co_units == ("区房征中心",)
    assert {i.source for i in got.items} >= {"常务会议纪要〔2015〕3号 议定事项第1项"}
    assert all(i.source_type == "常务会议" and i.assigned == D(2015, 2, 6) for i in got.items)
    again = sv.items_from_minutes(ledger, config, draft, "常务会议纪要〔2015〕3号", actor="秘书")
    assert [i.reference for i in again.items] == [i.reference for i in got.items]
    assert len(sv.list_items(ledger)) == 3


def test_a_纪要_in_paragraphs_with_marked_units(ledger, config, tmp_path):
    path = tmp_path / "区政府第9次常务会议纪要.md"
    path.write_text("---\n会议名称: 区政府第9次常务会议\n成文日期: 2015年5月6日\n---\n\n"
                    "一、会议同意城区防汛预案，5月20日前完成隐患排查。（责任单位：区城管局、区住建局）\n\n"
                    "二、会议听取了一季度经济运行情况汇报。\n", encoding="utf-8")
    draft = drafts.read_draft(path, config, config.route_for_folder("纪要"))
    got = sv.items_from_minutes(ledger, config, draft, "常务会议纪要〔2015〕9号", actor="秘书")
    (item,) = got.items
    assert (item.lead_unit, item.co_units, item.deadline) == ("区城管局", ("区住建局",), D(2015, 5, 20))
    assert "责任单位" not in item.matter


def test_a_spreadsheet_with_bad_rows_takes_the_others(ledger, config, tmp_path):
    path = xlsx(tmp_path / "人大建议交办清单.xlsx", [
        ["第1号", "关于改善东风路交通秩序的建议", "张三", "人大建议", "区交警大队", "区城管局",
         dt.datetime(2015, 3, 18), None],
        ["第2号", "关于增设社区卫生服务站的建议", "李四", "人大建议", "区宇宙局", None, "2015-03-18", None],
        ["第3号", None, "王五", "人大建议", "区教育局", None, "2015年3月18日", None],
        ["第4号", "关于加快老旧小区改造的建议", "赵六", "代表建议", "区住建局", None, "2015-03-18", "2015-05-31"],
        [None, None, None, None, None, None, None, None],
    ])
    res = sv.import_items(ledger, config, path, actor="督查员")
    assert [i.source for i in res.added] == ["第1号（张三）", "第4号（赵六）"]
    assert [str(r) for r in res.rejected] == [
        "第 4 行：单位“区宇宙局”不在配置的单位名单中（supervision.units）",
        "第 5 行：缺少“事项”"]
    first, fourth = res.added
    assert first.deadline == D(2015, 6, 18) and first.co_units == ("区城管局",)   # 3 months from 交办
    assert fourth.source_type == "人大建议" and fourth.deadline == D(2015, 5, 31)
    notes = [str(p) for p in res.problems()]
    assert notes[0].startswith("【第 4 行】") and "其余各行已录入" in notes[0]
    again = sv.import_items(ledger, config, path, actor="督查员")
    assert again.added == [] and len(again.existing) == 2 and len(sv.list_items(ledger)) == 2


def test_a_yaml_交办清单_with_defaults(ledger, config, tmp_path):
    path = tmp_path / "区长批示件.yaml"
    path.write_text("来源类型: 领导批示\n交办日期: 2015-03-02\n督办事项:\n"
                    "  - {事项: 研究解决幸福园项目拆迁遗留问题, 来源: 陈礼洋区长批示, 责任单位: 区房征中心, 时限: 月底前}\n"
                    "  - {事项: 核查网民反映的噪声扰民问题, 来源: 网络诉求, 责任单位: 区环保局, 颜色: 红}\n",
                    encoding="utf-8")
    res = sv.import_items(ledger, config, path, actor="督查员")
    assert [i.deadline for i in res.added] == [D(2015, 3, 31)]
    assert [str(r) for r in res.rejected] == ["第 2 项：不认识的字段：颜色"]


def test_an_unreadable_file_takes_nothing(ledger, config, tmp_path):
    bad = tmp_path / "清单.xlsx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(SupervisionError, match="无法作为 Excel 文件打开"):
        sv.import_items(ledger, config, bad, actor="x")
    assert sv.list_items(ledger) == []


def test_extend_gives_a_new_时限_with_the_reason(ledger, config):
    item = add(ledger, config, source_type="人大建议", source="第5号建议", assigned=D(2015, 3, 18))
    sv.day_turn(ledger, config, today=D(2015, 6, 20), actor="gongwen")
    assert sv.get_item(ledger, item.reference).status == sv.OVERDUE
    with pytest.raises(SupervisionError, match="须写明原因"):
        sv.extend(ledger, config, item.reference, rule="6个月", reason=" ", actor="x", today=D(2015, 6, 20))
    longer = sv.extend(ledger, config, item.reference, rule="6个月", reason="经人大选工委同意延长",
                       actor="督查员", today=D(2015, 6, 20))
    assert longer.deadline == D(2015, 9, 18) and longer.status == sv.OPEN
    assert longer.deadline_rule == "延期：6个月"
    assert "延期" in ledger.events(item.reference)[-1].detail["what"] and ledger.verify().ok
