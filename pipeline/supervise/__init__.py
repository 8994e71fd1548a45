"""督查督办: every 议定事项 and 批示 becomes a tracked 督办件 — the 督办台账 (a ledger Book), 时限 in
working days, 进展, 逾期 at the day's turn, 销号 with a 办结说明, the 催办单, the 台账 workbook and the
督查通报 draft. Library functions only; the CLI (pipeline/cli/supervise.py), the watcher and the web
app call them.

What callers use (see docs/supervision.md and docs/internals.md):
- ``add_item`` (the 收文 批示 path calls it), ``import_items`` (交办清单), ``items_from_minutes`` (an issued
  纪要), ``catch_up_minutes`` (redo what a failed 纪要 hook left);
- ``list_items``, ``get_item``, ``history``, ``evidence_files``;
- ``add_progress``, ``close_item``, ``set_status``, ``extend``, ``record_answer``, ``day_turn``;
- ``remind`` (催办单), ``statistics`` and ``report`` (台账 .xlsx, 督查通报 draft).
"""
from __future__ import annotations

from .deadlines import Rule, find_in_text, parse_rule
from .items import (
    ANSWER_CATEGORIES, ANSWER_TYPES, CANNOT, CLOSED, EVENTS, HELD, ON_BOARD, OPEN, OVERDUE, SATISFACTION,
    STATUSES, DayTurn, Evidence, Item, Progress, add_item, add_progress, close_item, day_turn,
    evidence_files, extend, get_item, history, item_dir, items_book, list_items, open_books, record_answer,
    set_status,
)
from .sources import (
    ImportResult, MinutesResult, RowProblem, catch_up_minutes, import_items, items_from_minutes, minutes_hook,
    minutes_pending, record_minutes_failure,
)

__all__ = [
    "ANSWER_CATEGORIES", "ANSWER_TYPES", "CANNOT", "CLOSED", "EVENTS", "HELD", "ON_BOARD", "OPEN", "OVERDUE",
    "SATISFACTION", "STATUSES", "DayTurn", "Evidence", "ImportResult", "Item", "MinutesResult", "Progress",
    "RowProblem", "Rule", "add_item", "catch_up_minutes", "minutes_hook", "minutes_pending",
    "record_minutes_failure", "add_progress", "close_item", "day_turn", "evidence_files",
    "extend", "find_in_text", "get_item", "history", "import_items", "item_dir", "items_book", "items_from_minutes",
    "list_items", "open_books", "parse_rule", "record_answer", "set_status",
]
