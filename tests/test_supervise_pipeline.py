"""督办 in the real pipeline: issuing a 纪要 (LibreOffice, seal, archive, index) puts its 议定事项 on the
督办台账; a failing hook never fails the 纪要 and is caught up; doctor names what is pending and an
edited item."""
from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from pipeline import supervise as sv
from pipeline.doctor import run_doctor
from pipeline.process import catch_up, open_services, process_draft
from pipeline.supervise import health as supervise_health
from tests.support.supervise import MINUTES

pytestmark = pytest.mark.libreoffice

D = dt.date


def _minutes(tmp_path, n: int = 3):
    p = tmp_path / f"区政府第{n}次常务会议纪要.yaml"
    p.write_text(MINUTES.replace("第3次", f"第{n}次").replace("期号: 3", f"期号: {n}"), encoding="utf-8")
    return p


def _finding(findings, item):
    return next(f for f in findings if f.item == item)


def test_issuing_a_纪要_puts_its_议定事项_on_the_台账(new_inst, tmp_path):
    with open_services(new_inst, "秘书") as svc:
        out = process_draft(_minutes(tmp_path), svc, route=new_inst.route_for_folder("纪要"))
        assert out.status == "issued", [str(p) for p in out.problems]
        items = sv.list_items(svc.ledger)
        assert {i.lead_unit: i.deadline for i in items} == {
            "区城管局": D(2015, 3, 4), "区财政局": D(2015, 2, 28), "区编办": D(2015, 3, 25)}
        assert all(i.source.startswith(out.number) for i in items)
        assert any("议定事项已列入督办台账" in p.message for p in out.problems)
        events = [e.event for e in svc.ledger.events(out.number)]
        assert events.count("supervision_minutes") == 1
        # the same 纪要 again: the same document, no new items
        again = process_draft(_minutes(tmp_path), svc, route=new_inst.route_for_folder("纪要"))
        assert again.number == out.number and len(sv.list_items(svc.ledger)) == 3
        assert svc.ledger.verify().ok


def test_a_failing_hook_never_fails_the_纪要_and_is_caught_up(new_inst, tmp_path, monkeypatch):
    def broken(*a, **k):
        raise RuntimeError("磁盘已满")

    with open_services(new_inst, "秘书") as svc:
        monkeypatch.setattr(sv, "minutes_hook", broken)
        out = process_draft(_minutes(tmp_path, 4), svc, route=new_inst.route_for_folder("纪要"))
        monkeypatch.undo()
        assert out.status == "issued" and out.number
        assert any(p.element == "督办" and "磁盘已满" in p.message for p in out.problems)
        assert sv.list_items(svc.ledger) == []
        assert sv.minutes_pending(svc.ledger, new_inst) == [out.number]
    pending = _finding(supervise_health.health(new_inst), "纪要议定事项已列入督办台账")
    assert pending.ok is False and out.number in pending.detail
    with open_services(new_inst, "gongwen") as svc:
        catch_up(svc)
        assert len(sv.list_items(svc.ledger)) == 3 and sv.minutes_pending(svc.ledger, new_inst) == []
        catch_up(svc)                                   # idempotent
        assert len(sv.list_items(svc.ledger)) == 3
    assert _finding(supervise_health.health(new_inst), "纪要议定事项已列入督办台账").ok is True


def test_doctor_detects_an_edited_item(new_inst, tmp_path):
    with open_services(new_inst, "秘书") as svc:
        process_draft(_minutes(tmp_path, 5), svc, route=new_inst.route_for_folder("纪要"))
        ref = sv.list_items(svc.ledger)[0].reference
    assert _finding(run_doctor(new_inst, "测试员"), "事件哈希链与登记簿一致").ok is True
    db = sqlite3.connect(new_inst.archive_dir / "ledger.sqlite3", isolation_level=None)
    db.execute("UPDATE supervision_items SET status = '已办结', close_note = '已完成' WHERE reference = ?", (ref,))
    db.close()
    chain = _finding(run_doctor(new_inst, "测试员"), "事件哈希链与登记簿一致")
    assert chain.ok is False and f"督办台账第 1 行（{ref}）的办结说明、状态与事件" in chain.detail


def test_doctor_names_provisional_时限(new_inst, tmp_path):
    from pipeline.ledger import Ledger
    from pipeline.workdays import package_years

    hi = package_years()[1]
    with Ledger.open(new_inst) as ledger:
        item = sv.add_item(ledger, new_inst, matter="跨年事项", source_type="领导批示", source="批示",
                           lead_unit="区城管局", assigned=D(hi, 12, 20), actor="x", rule="15个工作日")
    f = _finding(supervise_health.health(new_inst), "办结时限不依赖未知的节假日安排")
    assert f.ok is False and item.reference in f.detail and f"{hi + 1}" in f.detail


def test_year_end_files_the_台账_and_办结材料_and_check_counts_them(new_inst, tmp_path):
    import os

    from pipeline.ledger import Ledger
    from pipeline.supervise.yearend import folder
    from pipeline.yearend import archive_year, check_year

    with open_services(new_inst, "秘书") as svc:
        out = process_draft(_minutes(tmp_path, 6), svc, route=new_inst.route_for_folder("纪要"))
        assert out.status == "issued"
        items = sv.list_items(svc.ledger)
        proof = tmp_path / "验收报告.pdf"
        proof.write_bytes(b"%PDF-1.4 acceptance")
        sv.close_item(svc.ledger, new_inst, items[0].reference, note="方案已印发实施", actor="督查员",
                      closed_on=D(2015, 3, 3), evidence=[proof])
    with Ledger.open(new_inst) as ledger:
        first = archive_year(new_inst, 2015, ledger=ledger, actor="档案员", make_pdf=False)
        root = folder(new_inst, 2015)
        assert (root / "督查督办台账-2015年度.xlsx") in first.outputs
        filed = root / "办结材料" / items[0].reference
        assert (filed / "佐证材料" / "验收报告.pdf").read_bytes() == proof.read_bytes()
        assert "方案已印发实施" in (filed / "办结说明.txt").read_text(encoding="utf-8")
        again = archive_year(new_inst, 2015, ledger=ledger, actor="档案员", make_pdf=False)
        assert not [p for p in again.outputs if root in p.parents]          # unchanged: nothing rewritten
        rep = check_year(new_inst, 2015, ledger=ledger, actor="档案员", scan=False)
        assert rep.counts["督办事项"] == 3 and rep.counts["办结材料件数"] == 1 and rep.counts["督查督办台账"] == 1
        wz4 = next(i for i in rep.items if i.code == "GD-WZ-4")
        # (this test skips the PDF 目录 and 备考表, which the item reports too; none of its failures is
        # about the 督查督办台账)
        assert not [f for f in wz4.failures if "督" in f.ident or "办结" in f.file or "清单" in f.file]
        target = filed / "佐证材料" / "验收报告.pdf"
        os.chmod(target, 0o644)
        target.write_bytes(b"%PDF-1.4 forged")
        rep = check_year(new_inst, 2015, ledger=ledger, actor="档案员", scan=False)
        wz4 = next(i for i in rep.items if i.code == "GD-WZ-4")
        assert wz4.ok is False and any("SHA-256 不符" in f.message and f.ident == items[0].reference
                                       for f in wz4.failures)
