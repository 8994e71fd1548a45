"""督办 reports: 办结率 and the reconciliation, the 台账 workbook with status colours, the 督查通报 draft
that passes the pipeline's own rules, and the 催办单 (.docx + PDF through LibreOffice)."""
from __future__ import annotations

import datetime as dt
import subprocess

import pytest

from pipeline import drafts, rules, supervise as sv
from pipeline.render import docx_paragraph_texts
from pipeline.supervise.remind import remind
from pipeline.supervise.report import Period, report, statistics
from tests.support.supervise import add

pytestmark = pytest.mark.libreoffice

D = dt.date
TODAY = D(2015, 4, 8)


@pytest.fixture
def board(ledger, config):
    """Q1 2015: 7 items in every state, and one in Q2 that the Q1 report leaves out."""
    closed = [add(ledger, config, matter=f"已办结{k}", source_type=t, lead_unit=u, deadline=D(2015, 3, 31))
              for k, (t, u) in enumerate([("常务会议", "区城管局"), ("常务会议", "区财政局"),
                                          ("领导批示", "区城管局")])]
    for i in closed:
        sv.close_item(ledger, config, i.reference, note="已完成", actor="督查员", closed_on=D(2015, 3, 20))
    late = add(ledger, config, matter="逾期未办", source_type="常务会议", lead_unit="区住建局", deadline=D(2015, 3, 31))
    add(ledger, config, matter="正在办理", source_type="领导批示", lead_unit="区城管局", deadline=D(2015, 4, 30))
    held = add(ledger, config, matter="暂缓的", source_type="人大建议", source="第3号建议（王五代表）",
               lead_unit="区教育局")
    sv.set_status(ledger, config, held.reference, sv.HELD, reason="等待上级政策", actor="督查员", today=D(2015, 3, 20))
    cannot = add(ledger, config, matter="不能办理的", source_type="政协提案", source="第9号提案（赵六委员）",
                 lead_unit="区教育局")
    sv.set_status(ledger, config, cannot.reference, sv.CANNOT, reason="超出区级职权", actor="督查员",
                  today=D(2015, 3, 25))
    add(ledger, config, matter="二季度的", assigned=D(2015, 4, 2))
    return late


def test_办结率_and_the_reconciliation(ledger, config, board):
    st = statistics(ledger, period=Period(2015, 1), today=TODAY)
    t = st.total
    assert (t.total, t.closed, t.open, t.overdue, t.held, t.cannot) == (7, 3, 2, 1, 1, 1)
    assert t.total == t.closed + t.open + t.held + t.cannot and st.reconciles
    assert t.rate == "42.9%"
    by = {r.name: r for r in st.by_source}
    assert (by["常务会议"].total, by["常务会议"].closed, by["常务会议"].rate) == (3, 2, "66.7%")
    assert by["领导批示"].rate == "50.0%" and by["人大建议"].rate == "0.0%"
    units = {r.name: r for r in st.by_unit}
    assert units["区城管局"].rate == "66.7%" and units["区住建局"].overdue == 1
    assert [(u, [i.reference for i in v]) for u, v in st.overdue] == [("区住建局", [board.reference])]
    # the whole year includes April's item
    assert statistics(ledger, period=Period(2015), today=TODAY).total.total == 8


@pytest.mark.parametrize("today", [D(2015, 3, 1), TODAY, D(2015, 5, 1)])
@pytest.mark.parametrize("filters", [{}, {"year": 2015}, {"unit": "区城管局"}, {"source_type": "常务会议"},
                                     {"before_year": 2015}, {"assigned_to": D(2015, 3, 31)}])
def test_counting_in_the_database_gives_the_figures_of_the_items(ledger, config, board, today, filters):
    # The 督办 page counts with count_items (one query) what rate() counts over the items themselves.
    from pipeline.supervise.items import count_items
    from pipeline.supervise.report import rate, rate_of_counts

    items = sv.list_items(ledger, **filters)
    assert rate_of_counts("x", count_items(ledger, today=today, **filters)) == rate("x", items, today)
    shown = {s: [i.reference for i in items if (sv.OVERDUE if i.is_overdue(today) else i.status) == s]
             for s in sv.STATUSES}
    assert [i.reference for i in sv.list_items(ledger, overdue_on=today, **filters)] == shown[sv.OVERDUE]
    assert [i.reference for i in sv.list_items(ledger, open_on=today, **filters)] == shown[sv.OPEN]


def test_a_page_of_items_in_either_order(ledger, config, board):
    every = sv.list_items(ledger)
    assert [i.reference for i in sv.list_items(ledger, limit=3, offset=2)] == [i.reference for i in every[2:5]]
    by_deadline = sorted(every, key=lambda i: (i.deadline, i.year, i.seq))
    assert [i.reference for i in sv.list_items(ledger, order="deadline")] == [i.reference for i in by_deadline]
    assert sv.list_items(ledger, limit=10, offset=100) == []


def test_the_report_writes_the_台账_and_a_通报_that_passes_the_rules(ledger, config, board):
    from openpyxl import load_workbook

    rep = report(ledger, config, year=2015, quarter=1, today=TODAY, actor="督查员")
    wb = load_workbook(rep.workbook)
    assert wb.sheetnames == ["珠晖区人民政府办公室2015年第一季度督查督办台账", "办结率（按来源类型）", "办结率（按责任单位）"]
    ws = wb.worksheets[0]
    rows = {ws.cell(r, 2).value: r for r in range(4, ws.max_row + 1)}
    assert len(rows) == 7
    late_row = rows[board.reference]
    assert ws.cell(late_row, 11).value == "逾期" and ws.cell(late_row, 11).fill.start_color.rgb.endswith("FFC7CE")
    rates = wb.worksheets[1]
    last = [rates.cell(rates.max_row, c).value for c in range(1, 9)]
    assert last == ["合计", 7, 3, 2, 1, 1, 1, "42.9%"]

    assert rep.notice.parent == config.proofs / "珠政办发"
    text = rep.notice.read_text(encoding="utf-8")
    assert "第一季度共督办事项7件，已办结3件，办结率42.9%" in text
    assert f"区住建局1件（{board.reference}）" in text
    draft = drafts.read_draft(rep.notice, config, config.route_for_folder("珠政办发"))
    draft, problems = rules.review(draft, config)
    assert [p for p in problems if p.severity == "error"] == [], [str(p) for p in problems]
    assert (draft.kind, draft.series, draft.title) == ("通报", "珠政办发",
                                                       "珠晖区人民政府办公室关于2015年第一季度督查督办工作情况的通报")
    # a second report never overwrites the first draft (it may have been edited for review)
    again = report(ledger, config, year=2015, quarter=1, today=TODAY, actor="督查员")
    assert again.notice != rep.notice and rep.notice.read_text(encoding="utf-8") == text


def test_an_empty_period_still_gives_a_valid_通报(ledger, config):
    rep = report(ledger, config, year=2016, today=D(2016, 12, 31), actor="督查员")
    draft = drafts.read_draft(rep.notice, config, config.route_for_folder("珠政办发"))
    _, problems = rules.review(draft, config)
    assert [p for p in problems if p.severity == "error"] == []
    assert "全年没有新交办的督办事项" in rep.notice.read_text(encoding="utf-8")


def test_an_overdue_item_shows_in_the_催办单(ledger, config, board, tmp_path):
    sv.day_turn(ledger, config, today=TODAY, actor="gongwen")
    res = remind(ledger, config, today=TODAY, actor="督查员", within_days=30, out_dir=tmp_path / "催办")
    by_unit = {r.unit: r for r in res.reminders}
    assert set(by_unit) == {"区城管局", "区住建局"}
    late = by_unit["区住建局"]
    assert late.overdue == 1 and [i.reference for i in late.items] == [board.reference]
    texts = "\n".join(docx_paragraph_texts(late.docx.read_bytes()))
    assert board.reference in texts and "逾期8天" in texts and "区住建局：" in texts
    pdf_text = subprocess.run(["pdftotext", str(late.pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "督办事项催办单" in pdf_text and "逾期8天" in pdf_text.replace(" ", "")
    last = ledger.events(board.reference)[-1]
    assert (last.event, last.actor) == ("supervision_reminded", "督查员") and late.docx.name in last.detail["what"]
    assert "区住建局：1 件（逾期 1 件）" in res.summary()


def test_the_committed_催办单_is_what_the_script_makes_and_lints_clean(tmp_path, config):
    from pipeline import render
    from pipeline.supervise.remind import context
    from scripts import build_supervise_templates
    from tests.conftest import REPO
    from tests.support.docx import parts

    assert build_supervise_templates.main(["--out", str(tmp_path)]) == 0
    committed, fresh = parts(REPO / "templates" / "催办单.docx"), parts(tmp_path / "催办单.docx")
    assert committed == fresh, "templates/催办单.docx is stale; run `make templates`"
    ctx = context(config, "区城管局", [], today=TODAY, within_days=5)
    assert render.lint_template(REPO / "templates" / "催办单.docx", ctx.keys()) == []
