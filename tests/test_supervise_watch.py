"""督办 in the watched-folder service: 交办清单 files dropped into inbox/督办/ go onto the 台账 (bad rows to
rejected/ with a note, the file kept either way), and the day turn marks 逾期 and says so."""
from __future__ import annotations

import datetime as dt

import pytest

from pipeline import intake, supervise as sv
from pipeline.ledger import Ledger
from pipeline.process import open_services
from tests.support.supervise import xlsx

pytestmark = pytest.mark.libreoffice

D = dt.date


def _watch_once(cfg, today=D(2015, 3, 20)):
    events = []
    counts = intake.watch(cfg, lambda: open_services(cfg, "督查员"), on_event=events.append, once=True,
                          today=lambda: today)
    return counts, events


def test_a_交办清单_dropped_in_the_督办_folder(new_inst):
    folder = new_inst.inbox / "督办"
    assert folder.is_dir()                                       # made by init
    xlsx(folder / "人大建议交办清单.xlsx", [
        ["第1号", "关于改善东风路交通秩序的建议", "张三", "人大建议", "区交警大队", None, "2015-03-18", None],
        ["第2号", "关于增设社区卫生服务站的建议", "李四", "人大建议", "区卫计局", None, "2015-03-18", None]])
    counts, events = _watch_once(new_inst)
    assert counts == {"supervised": 1}
    (ev,) = [e for e in events if e.kind == "supervised"]
    assert "录入 2 件" in ev.message and ev.path.is_file() and ev.path.parent == new_inst.archive_dir / "督办" / "交办清单"
    assert list(folder.iterdir()) == []
    with Ledger.open(new_inst) as ledger:
        assert [i.source for i in sv.list_items(ledger)] == ["第1号（张三）", "第2号（李四）"]


def test_bad_rows_send_the_file_to_rejected_with_a_note(new_inst):
    xlsx(new_inst.inbox / "督办" / "政协提案交办清单.xlsx", [
        ["第7号", "关于加强校园周边治理的提案", "王五", "政协提案", "区教育局", None, "2015-03-18", None],
        ["第8号", "关于建设智慧停车的提案", "赵六", "政协提案", "区停车局", None, "2015-03-18", None]])
    (new_inst.inbox / "督办" / "说明.docx").write_bytes(b"not a list")
    counts, events = _watch_once(new_inst)
    assert counts == {"rejected": 1, "unsupported": 1}
    kept = new_inst.rejected / "政协提案交办清单.xlsx"
    note = new_inst.rejected / "政协提案交办清单.xlsx.问题.txt"
    assert kept.is_file() and note.is_file()
    text = note.read_text(encoding="utf-8")
    assert "【第 4 行】单位“区停车局”不在配置的单位名单中" in text and "其余 1 件已录入督办台账（督〔2015〕1号）" in text
    assert "督办文件夹只收交办清单" in (new_inst.rejected / "说明.docx.问题.txt").read_text(encoding="utf-8")
    with Ledger.open(new_inst) as ledger:
        assert len(sv.list_items(ledger)) == 1


def test_the_day_turn_marks_overdue_and_is_shown(new_inst):
    with Ledger.open(new_inst) as ledger:
        late = sv.add_item(ledger, new_inst, matter="完成整治", source_type="领导批示", source="批示",
                           lead_unit="区城管局", assigned=D(2015, 3, 2), deadline=D(2015, 3, 10), actor="x")
    counts, events = _watch_once(new_inst, today=D(2015, 3, 11))
    (turn,) = [e for e in events if e.kind == "day_turn"]
    assert late.reference in turn.message and "转为逾期" in turn.message
    from pipeline.cli.watch import console_line

    assert console_line(new_inst, turn).startswith("日切：1 件转为逾期")
    with Ledger.open(new_inst) as ledger:
        assert sv.get_item(ledger, late.reference).status == sv.OVERDUE
        assert ledger.events(late.reference)[-1].actor == "督查员"
    _, events = _watch_once(new_inst, today=D(2015, 3, 11))
    assert [e for e in events if e.kind == "day_turn"] == []           # nothing new: nothing shown
