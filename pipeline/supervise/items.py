"""The 督办台账: 督办件 (supervised items) as a ledger Book — numbered 督〔2015〕12号 from the shared
counters, every change (交办, 进展, 逾期, 暂缓, 销号, 答复 …) written together with a chained event that
carries the row's new content, so ``Ledger.verify`` and ``gongwen doctor`` name an edited item.

States (状态) and how an item moves between them; every move is an event with who, when and what:

    办理中 ──day turn past the 时限──► 逾期          (mark_overdue, with the date it was found)
    办理中/逾期 ──销号 (close: 办结说明 required, 佐证材料 optional)──► 已办结
    办理中/逾期 ──暂缓 (reason)──► 暂缓 ──恢复 (reason)──► 办理中
    办理中/逾期/暂缓 ──不能办理 (reason)──► 不能办理

An item is 挂牌 (on the board) while 办理中 or 逾期. Functions take the ledger and the config; the
dates that decide 逾期 are passed in (``today``), never read from the wall clock here.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from ..config import SOURCE_TYPES, Config
from ..errors import SupervisionError
from ..fsutil import atomic_copy, make_readonly
from ..ledger import EVENT_NAMES, Book, Register
from ..workdays import Calendar
from .deadlines import Rule, parse_rule

OPEN, OVERDUE, CLOSED, HELD, CANNOT = "办理中", "逾期", "已办结", "暂缓", "不能办理"
STATUSES = (OPEN, OVERDUE, CLOSED, HELD, CANNOT)
ON_BOARD = (OPEN, OVERDUE)                 # 挂牌: still to be done
ANSWER_TYPES = ("人大建议", "政协提案")      # items answered to a 代表/委员 (答复类别, 满意度)
ANSWER_CATEGORIES = ("A", "B", "C")
SATISFACTION = ("满意", "基本满意", "不满意")
EVIDENCE_DIR = "督办"                       # archive/督办/<year>/<督办编号>/

ITEMS_TABLE, PROGRESS_TABLE = "supervision_items", "supervision_progress"
_ITEMS_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {ITEMS_TABLE} (
  id INTEGER PRIMARY KEY,
  series TEXT NOT NULL, year INTEGER NOT NULL, seq INTEGER NOT NULL CHECK (seq >= 1),
  reference TEXT NOT NULL UNIQUE,
  matter TEXT NOT NULL, source_type TEXT NOT NULL, source TEXT NOT NULL, source_ref TEXT,
  lead_unit TEXT NOT NULL, co_units TEXT, leader TEXT,
  assigned TEXT NOT NULL, deadline TEXT NOT NULL, deadline_rule TEXT NOT NULL,
  deadline_provisional INTEGER NOT NULL DEFAULT 0, urgent INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL, status_reason TEXT, overdue_since TEXT,
  closed_on TEXT, close_note TEXT, evidence TEXT,
  answer_category TEXT, answer_date TEXT, satisfaction TEXT,
  archive_code TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  UNIQUE (series, year, seq));
CREATE UNIQUE INDEX IF NOT EXISTS {ITEMS_TABLE}_source ON {ITEMS_TABLE}(source_ref)
  WHERE source_ref IS NOT NULL;
CREATE INDEX IF NOT EXISTS {ITEMS_TABLE}_due ON {ITEMS_TABLE}(status, deadline);
CREATE TABLE IF NOT EXISTS supervision_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"""
_PROGRESS_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} (
  id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL, reference TEXT NOT NULL,
  day TEXT NOT NULL, text TEXT NOT NULL, files TEXT, actor TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS {PROGRESS_TABLE}_item ON {PROGRESS_TABLE}(item_id)"""

# The 督办 events in the chain and their labels (the labels live in ledger.EVENT_NAMES; detail["what"]
# says each change in Chinese).
EVENTS = {code: label for code, label in EVENT_NAMES.items() if code.startswith("supervision_")}


def report_series(config: Config) -> str:
    """The series of the 督查通报 (and the 发文机关 of the 催办单): ``supervision.report_series``, else
    the series in which the office itself (``organisation.name``) issues 通报 — the 督查室 is part of
    the 办公室 —, else the first series that issues 通报."""
    if config.supervision.report_series:
        return config.supervision.report_series
    notices = [k for k, s in config.series.items() if "通报" in s.kinds and s.format == "文件"]
    own = [k for k in notices if config.series[k].issuer == config.organisation.name]
    return (own or notices or list(config.series))[0]


def minutes_series(config: Config) -> dict[str, str]:
    """纪要 series whose 议定事项 become items, with their 来源类型: ``supervision.minutes``, else every
    series in 纪要 format — 区长办公会 when its name says so, 常务会议 when it says 常务, else 其他."""
    if config.supervision.minutes is not None:
        return dict(config.supervision.minutes)
    out = {}
    for key, s in config.series.items():
        if s.format == "纪要":
            name = key + s.header
            out[key] = "区长办公会" if "区长办公" in name else "常务会议" if "常务" in name else "其他"
    return out


# The tables' columns by their Chinese names (how Ledger.verify names an edited one).
ITEMS_COLUMNS = (
    ("id", "行号"), ("series", "督办代字"), ("year", "年份"), ("seq", "顺序号"), ("reference", "督办编号"),
    ("matter", "事项"), ("source_type", "来源类型"), ("source", "来源"), ("source_ref", "来源文号"),
    ("lead_unit", "责任单位"), ("co_units", "协办单位"), ("leader", "责任领导"), ("assigned", "交办日期"),
    ("deadline", "办结时限"), ("deadline_rule", "时限规则"), ("deadline_provisional", "时限待定"),
    ("urgent", "急件"), ("status", "状态"), ("status_reason", "状态说明"), ("overdue_since", "逾期起始日"),
    ("closed_on", "办结日期"), ("close_note", "办结说明"), ("evidence", "佐证材料"),
    ("answer_category", "答复类别"), ("answer_date", "答复日期"), ("satisfaction", "满意度"),
    ("archive_code", "档号"), ("created_at", "登记时间"), ("updated_at", "更新时间"),
)
PROGRESS_COLUMNS = (("id", "行号"), ("item_id", "督办件行号"), ("reference", "督办编号"), ("day", "进展日期"),
                    ("text", "进展情况"), ("files", "附件"), ("actor", "填报人"), ("created_at", "登记时间"))


def items_book(config: Config) -> Book:
    """The 督办台账 book (its counter key is ``supervision.code``)."""
    return Book(table=ITEMS_TABLE, label="督办台账", schema=_ITEMS_SCHEMA, series=config.supervision.code,
                columns=ITEMS_COLUMNS)


PROGRESS_BOOK = Book(table=PROGRESS_TABLE, label="督办进展记录", schema=_PROGRESS_SCHEMA, columns=PROGRESS_COLUMNS)


_OPENED: "weakref.WeakSet[Register]" = weakref.WeakSet()


def open_books(ledger: Register, config: Config) -> None:
    """Create and list the two books (idempotent, once per open ledger); remember when supervision
    started, so that the catch-up of 纪要 never turns documents issued before it into items."""
    if ledger in _OPENED:
        return
    ledger.open_book(items_book(config))
    ledger.open_book(PROGRESS_BOOK)
    with ledger.book_write() as w:
        w.execute("INSERT OR IGNORE INTO supervision_meta (key, value) VALUES ('since', ?)", (w.now,))
    _OPENED.add(ledger)


def started_at(ledger: Register) -> str | None:
    with ledger.book_read() as db:
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'supervision_meta'").fetchone() is None:
            return None
        row = db.execute("SELECT value FROM supervision_meta WHERE key = 'since'").fetchone()
    return row[0] if row else None


# --- data --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Evidence:
    """A file kept with an item (佐证材料, or a 进展's attachment): where it is stored, its hash."""

    name: str            # path under the item's folder, e.g. 佐证材料/验收报告.pdf
    sha256: str
    size: int
    original: str        # the file's name as given


@dataclass(frozen=True)
class Progress:
    """One dated 进展 entry."""

    id: int
    day: dt.date
    text: str
    actor: str
    created_at: str
    files: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Item:
    """One 督办件 as stored (a row of the 督办台账)."""

    id: int
    reference: str                    # 督办编号, 督〔2015〕12号
    year: int
    seq: int
    matter: str                       # 事项
    source_type: str                  # 来源类型
    source: str                       # 来源: 纪要文号和项次 / 批示领导和日期 / 建议提案号和代表委员
    source_ref: str | None            # identity of the source (纪要文号#项次, 建议号 …): no item twice
    lead_unit: str                    # 责任单位（主办）
    co_units: tuple[str, ...]         # 协办单位
    leader: str | None                # 责任领导
    assigned: dt.date                 # 交办日期
    deadline: dt.date                 # 办结时限
    deadline_rule: str                # how the 时限 was set: 「文中：15个工作日」「默认：常务会议 30个工作日」…
    deadline_provisional: bool        # counted over a year no calendar covers (Monday–Friday only)
    urgent: bool                      # 急件
    status: str                       # 办理中 / 逾期 / 已办结 / 暂缓 / 不能办理
    status_reason: str | None         # why 暂缓 / 不能办理 (or the 恢复办理)
    overdue_since: dt.date | None     # the day it was found 逾期
    closed_on: dt.date | None         # 办结日期
    close_note: str | None            # 办结说明
    evidence: tuple[Evidence, ...]    # 佐证材料
    answer_category: str | None       # 答复类别 A/B/C (建议/提案)
    answer_date: dt.date | None       # 答复日期
    satisfaction: str | None          # 代表/委员满意度
    archive_code: str | None          # 档号 once filed at year end
    created_at: str
    updated_at: str
    progress: tuple[Progress, ...] = field(default=(), compare=False)

    @property
    def on_board(self) -> bool:
        """挂牌: 办理中 or 逾期."""
        return self.status in ON_BOARD

    def is_overdue(self, today: dt.date) -> bool:
        """Still to be done and its 时限 has passed (whether or not the day turn marked it yet)."""
        return self.on_board and self.deadline < today

    def days_left(self, today: dt.date) -> int:
        """Calendar days until the 时限 (negative: days overdue)."""
        return (self.deadline - today).days

    @property
    def units(self) -> tuple[str, ...]:
        return (self.lead_unit, *self.co_units)


def _date(v: str | None) -> dt.date | None:
    return dt.date.fromisoformat(v) if v else None


def _day(v: str) -> dt.date:
    """A date column that is NOT NULL."""
    return dt.date.fromisoformat(v)


def _evidence(v: str | None) -> tuple[Evidence, ...]:
    return tuple(Evidence(**e) for e in json.loads(v)) if v else ()


def _item(r) -> Item:
    return Item(
        id=r["id"], reference=r["reference"], year=r["year"], seq=r["seq"], matter=r["matter"],
        source_type=r["source_type"], source=r["source"], source_ref=r["source_ref"],
        lead_unit=r["lead_unit"], co_units=tuple(u for u in (r["co_units"] or "").split("、") if u),
        leader=r["leader"], assigned=_day(r["assigned"]), deadline=_day(r["deadline"]),
        deadline_rule=r["deadline_rule"], deadline_provisional=bool(r["deadline_provisional"]),
        urgent=bool(r["urgent"]), status=r["status"], status_reason=r["status_reason"],
        overdue_since=_date(r["overdue_since"]), closed_on=_date(r["closed_on"]), close_note=r["close_note"],
        evidence=_evidence(r["evidence"]), answer_category=r["answer_category"],
        answer_date=_date(r["answer_date"]), satisfaction=r["satisfaction"], archive_code=r["archive_code"],
        created_at=r["created_at"], updated_at=r["updated_at"])


# --- reading -----------------------------------------------------------------------------------------

def _has_books(db) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                      (ITEMS_TABLE,)).fetchone() is not None


def get_item(ledger: Register, reference: str, *, with_progress: bool = True) -> Item:
    """An item by its 督办编号 (spaces ignored); SupervisionError naming it when there is none."""
    ref = re.sub(r"\s+", "", reference or "")
    with ledger.book_read() as db:
        row = db.execute(f"SELECT * FROM {ITEMS_TABLE} WHERE reference = ?", (ref,)).fetchone() \
            if _has_books(db) else None
        if row is None:
            raise SupervisionError(f"督办台账中没有 {ref or '（空编号）'}（可用 gongwen supervise list 查看）")
        item = _item(row)
        if with_progress:
            rows = db.execute(f"SELECT * FROM {PROGRESS_TABLE} WHERE item_id = ? ORDER BY id",
                              (item.id,)).fetchall()
            item = _replace(item, progress=tuple(
                Progress(id=p["id"], day=_day(p["day"]), text=p["text"], actor=p["actor"],
                         created_at=p["created_at"], files=_evidence(p["files"])) for p in rows))
    return item


def _replace(item: Item, **kw) -> Item:
    from dataclasses import replace

    return replace(item, **kw)


def _where(*, year: int | None = None, before_year: int | None = None, status: str | Iterable[str] | None = None,
           unit: str | None = None, source_type: str | None = None, overdue_on: dt.date | None = None,
           open_on: dt.date | None = None, due_by: dt.date | None = None, assigned_from: dt.date | None = None,
           assigned_to: dt.date | None = None) -> tuple[str, list]:
    """The WHERE clause of list_items and count_items."""
    where: list[str] = []
    args: list[object] = []

    def add(clause: str, *values) -> None:
        where.append(clause)
        args.extend(values)

    if year is not None:
        add("year = ?", year)
    if before_year is not None:
        add("year < ?", before_year)
    if status is not None:
        wanted = (status,) if isinstance(status, str) else tuple(status)
        add(f"status IN ({', '.join('?' * len(wanted))})", *wanted)
    if unit:
        u = re.sub(r"\s+", "", unit)
        add("(lead_unit = ? OR '、' || co_units || '、' LIKE ?)", u, f"%、{u}、%")
    if source_type:
        add("source_type = ?", source_type)
    if overdue_on is not None or due_by is not None or open_on is not None:
        add(f"status IN ('{OPEN}', '{OVERDUE}')")
        if overdue_on is not None:
            add("deadline < ?", overdue_on.isoformat())
        if open_on is not None:
            add("deadline >= ?", open_on.isoformat())
        if due_by is not None:
            add("deadline <= ?", due_by.isoformat())
    if assigned_from is not None:
        add("assigned >= ?", assigned_from.isoformat())
    if assigned_to is not None:
        add("assigned <= ?", assigned_to.isoformat())
    return (f" WHERE {' AND '.join(where)}" if where else ""), args


def list_items(ledger: Register, *, year: int | None = None, before_year: int | None = None,
               status: str | Iterable[str] | None = None, unit: str | None = None, source_type: str | None = None,
               overdue_on: dt.date | None = None, open_on: dt.date | None = None, due_by: dt.date | None = None,
               assigned_from: dt.date | None = None, assigned_to: dt.date | None = None,
               order: str = "reference", limit: int | None = None, offset: int = 0) -> list[Item]:
    """Items by 督办编号 order (``order="deadline"``: by 办结时限), filtered: ``year`` of the 督办编号
    (or the years ``before_year``), ``status`` (one or several), ``unit`` (主办 or 协办),
    ``source_type``, ``overdue_on`` (挂牌 and 时限 before that day), ``open_on`` (挂牌 and 时限 not
    yet passed that day), ``due_by`` (挂牌 and 时限 on or before that day — overdue ones included),
    交办日期 range; ``limit`` and ``offset`` for one page of them."""
    where, args = _where(year=year, before_year=before_year, status=status, unit=unit, source_type=source_type,
                         overdue_on=overdue_on, open_on=open_on, due_by=due_by, assigned_from=assigned_from,
                         assigned_to=assigned_to)
    by = {"reference": "year, seq", "deadline": "deadline, year, seq"}[order]
    page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
    with ledger.book_read() as db:
        if not _has_books(db):
            return []
        rows = db.execute(f"SELECT * FROM {ITEMS_TABLE}{where} ORDER BY {by}{page}", args).fetchall()
    return [_item(r) for r in rows]


def count_items(ledger: Register, *, today: dt.date, **filters) -> dict[str, int]:
    """How many items match ``filters`` (list_items'), by their state as shown on ``today``: 逾期 for
    挂牌 items whose 时限 has passed (Item.is_overdue), else the status — one query, no item read."""
    where, args = _where(**filters)
    sql = (f"SELECT CASE WHEN status IN ('{OPEN}', '{OVERDUE}') THEN CASE WHEN deadline < ? THEN '{OVERDUE}' "
           f"ELSE '{OPEN}' END ELSE status END AS shown, COUNT(*) FROM {ITEMS_TABLE}{where} GROUP BY shown")
    with ledger.book_read() as db:
        if not _has_books(db):
            return {}
        return {r[0]: r[1] for r in db.execute(sql, [today.isoformat(), *args])}


def item_years(ledger: Register) -> list[int]:
    """The years that have items (of their 督办编号), oldest first."""
    with ledger.book_read() as db:
        if not _has_books(db):
            return []
        return [r[0] for r in db.execute(f"SELECT DISTINCT year FROM {ITEMS_TABLE} ORDER BY year")]


def latest_progress(ledger: Register, ids: Iterable[int] | None = None) -> dict[int, Progress]:
    """Each item's latest 进展 entry, by item id (one query, for the 台账 and list views); only the
    items ``ids`` when given (a page of the list)."""
    only, args = "", ()  # type: str, tuple[int, ...]
    if ids is not None:
        args = tuple(ids)
        if not args:
            return {}
        only = f" WHERE item_id IN ({', '.join('?' * len(args))})"
    with ledger.book_read() as db:
        if not _has_books(db):
            return {}
        rows = db.execute(f"SELECT * FROM {PROGRESS_TABLE} WHERE id IN "
                          f"(SELECT MAX(id) FROM {PROGRESS_TABLE}{only} GROUP BY item_id)", args).fetchall()
    return {p["item_id"]: Progress(id=p["id"], day=_day(p["day"]), text=p["text"], actor=p["actor"],
                                   created_at=p["created_at"], files=_evidence(p["files"])) for p in rows}


def history(ledger: Register, reference: str) -> list[dict]:
    """An item's events, oldest first: {time, actor, event, what} (the item page's 办理过程)."""
    out = []
    for ev in ledger.events(reference):
        if not ev.event.startswith("supervision_"):
            continue
        out.append({"time": ev.time, "actor": ev.actor, "event": EVENTS.get(ev.event, ev.event),
                    "what": ev.detail.get("what", "")})
    return out


# --- writing -----------------------------------------------------------------------------------------

def _squeeze(s: str | None) -> str:
    return re.sub(r"[\s\u3000]+", "", s or "")


def check_item(config: Config, *, matter: str, source_type: str, source: str, lead_unit: str,
               co_units: Iterable[str] = (), assigned: dt.date | None, deadline: dt.date | None,
               check_units: bool = True) -> list[str]:
    """Every problem with an item's fields, in Chinese (empty: it may be added)."""
    problems = []
    if not _squeeze(matter):
        problems.append("缺少“事项”")
    if source_type not in SOURCE_TYPES:
        problems.append(f"来源类型“{source_type or '（空）'}”不认识，应为：{'、'.join(SOURCE_TYPES)}")
    if not _squeeze(source):
        problems.append("缺少“来源”（纪要文号和项次、批示领导和日期、建议提案编号和代表委员等）")
    if not _squeeze(lead_unit):
        problems.append("缺少“责任单位”")
    known = {_squeeze(u) for u in config.supervision.units}
    if check_units and known:
        for u in [lead_unit, *co_units]:
            if _squeeze(u) and _squeeze(u) not in known:
                problems.append(f"单位“{u}”不在配置的单位名单中（supervision.units）")
    if assigned is None:
        problems.append("缺少“交办日期”")
    elif deadline is not None and deadline < assigned:
        problems.append(f"办结时限 {deadline.isoformat()} 早于交办日期 {assigned.isoformat()}")
    return problems


def default_rule(config: Config, source_type: str, urgent: bool = False) -> tuple[Rule, str]:
    """The config's 时限 for a 来源类型 (the shorter answer period for an urgent 建议/提案)."""
    if urgent and source_type in ANSWER_TYPES:
        text = config.supervision.urgent_deadline
        label = f"默认：{source_type}急件 {text}"
    else:
        text = config.supervision.deadlines[source_type]
        label = f"默认：{source_type} {text}"
    rule = parse_rule(text)
    if rule is None:   # the config's validators parse every 时限 before it gets here
        raise SupervisionError(f"配置中的办结时限“{text}”无法识别")
    return rule, label


def add_item(ledger: Register, config: Config, *, matter: str, source_type: str, source: str, lead_unit: str,
             co_units: Iterable[str] = (), leader: str | None = None, assigned: dt.date,
             deadline: dt.date | None = None, actor: str, source_ref: str | None = None,
             rule: Rule | str | None = None, urgent: bool = False, check_units: bool = True) -> Item:
    """Register one 督办件 and take its 督办编号 (督〔交办年〕N号), atomically with its event.

    The 办结时限 is ``deadline``, else ``rule`` (a 时限 read from the item's text, or written as
    「15个工作日」), else the config's default for the 来源类型. The same ``source_ref`` again (a 纪要
    processed twice, a 交办清单 dropped twice) returns the item already registered, with no new number.
    Raises SupervisionError listing every problem; nothing is numbered then."""
    co = tuple(u for u in (_squeeze(c) for c in co_units) if u and u != _squeeze(lead_unit))
    problems = check_item(config, matter=matter, source_type=source_type, source=source, lead_unit=lead_unit,
                          co_units=co, assigned=assigned, deadline=deadline, check_units=check_units)
    if isinstance(rule, str):
        parsed = parse_rule(rule)
        if parsed is None:
            problems.append(f"办结时限“{rule}”无法识别（可写 2015年4月1日、15个工作日、3个月、月底前等）")
        rule_text = f"指定：{rule}"
        rule = parsed
    else:
        rule_text = f"文中：{rule.text}" if rule is not None else ""
    provisional: tuple[int, ...] = ()
    if not problems:
        if deadline is not None:
            rule_text = f"指定：{deadline.isoformat()}"
        else:
            if rule is None:   # no problems: check_item knows the 来源类型
                rule, rule_text = default_rule(config, source_type, urgent)
            try:
                deadline, provisional = rule.resolve(assigned, Calendar(config))
            except ValueError as e:
                problems.append(str(e))
        if deadline is not None and deadline < assigned:
            problems.append(f"办结时限 {deadline.isoformat()} 早于交办日期 {assigned.isoformat()}")
    if problems or deadline is None:
        raise SupervisionError("；".join(problems))
    book = items_book(config)
    open_books(ledger, config)
    ref_key = _squeeze(source_ref) or None
    with ledger.book_write() as w:
        if ref_key:
            same = w.execute(f"SELECT * FROM {ITEMS_TABLE} WHERE source_ref = ?", (ref_key,)).fetchone()
            if same is not None:
                return _item(same)
        seq = w.next_seq(book, assigned.year)
        reference = f"{book.series}〔{assigned.year}〕{seq}号"
        now = w.now
        cols = {"series": book.series, "year": assigned.year, "seq": seq, "reference": reference,
                "matter": matter.strip(), "source_type": source_type, "source": source.strip(),
                "source_ref": ref_key, "lead_unit": _squeeze(lead_unit), "co_units": "、".join(co) or None,
                "leader": _squeeze(leader) or None, "assigned": assigned.isoformat(),
                "deadline": deadline.isoformat(), "deadline_rule": rule_text,
                "deadline_provisional": int(bool(provisional)), "urgent": int(bool(urgent)),
                "status": OPEN, "created_at": now, "updated_at": now}
        row_id = w.execute(f"INSERT INTO {ITEMS_TABLE} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                           tuple(cols.values())).lastrowid
        assert row_id is not None  # an INSERT sets lastrowid
        what = (f"交办{cols['lead_unit']}：{_short(matter)}；办结时限 {deadline.isoformat()}（{rule_text}）"
                + (f"，暂按周一至周五推算（{'、'.join(map(str, provisional))}年节假日未知）" if provisional else ""))
        w.record("supervision_added", actor=actor, book=book, row_id=row_id, reference=reference,
                 detail={"what": what})
        row = w.execute(f"SELECT * FROM {ITEMS_TABLE} WHERE id = ?", (row_id,)).fetchone()
    return _item(row)


def _short(text: str, n: int = 40) -> str:
    t = " ".join(text.split())
    return t if len(t) <= n else t[: n - 1] + "…"


def _store_files(config: Config, item: Item, files: Iterable[Path], sub: str) -> list[dict]:
    """Copy files into the item's folder (read-only; an identical file already there is reused;
    another with the same name gets a (2) name). The user's files are left where they are."""
    from ..hashing import digest_file

    out = []
    folder = item_dir(config, item) / sub
    for f in files:
        f = Path(f)
        if not f.is_file():
            raise SupervisionError(f"找不到文件 {f}")
        digest = digest_file(f, ("sha256",))["sha256"]
        dest = folder / f.name
        n = 2
        while dest.exists() and digest_file(dest, ("sha256",))["sha256"] != digest:
            dest = folder / f"{f.stem} ({n}){f.suffix}"
            n += 1
        if not dest.exists():
            atomic_copy(f, dest)
            make_readonly(dest)
        out.append({"name": str(dest.relative_to(item_dir(config, item))), "sha256": digest,
                    "size": dest.stat().st_size, "original": f.name})
    return out


def item_dir(config: Config, item: Item) -> Path:
    """Where an item's files live: archive/督办/<year>/<督办编号>/."""
    return config.archive_dir / EVIDENCE_DIR / str(item.year) / item.reference


def _update(w, config: Config, item_id: int, event: str, actor: str, reference: str, what: str,
            **cols) -> None:
    cols["updated_at"] = w.now
    w.execute(f"UPDATE {ITEMS_TABLE} SET {', '.join(f'{k} = ?' for k in cols)} WHERE id = ?",
              (*cols.values(), item_id))
    w.record(event, actor=actor, book=items_book(config), row_id=item_id, reference=reference,
             detail={"what": what})


def _locked(w, reference: str) -> Item:
    row = w.execute(f"SELECT * FROM {ITEMS_TABLE} WHERE reference = ?", (_squeeze(reference),)).fetchone()
    if row is None:
        raise SupervisionError(f"督办台账中没有 {_squeeze(reference)}")
    return _item(row)


def add_progress(ledger: Register, config: Config, reference: str, text: str, *, actor: str,
                 day: dt.date, files: Iterable[Path] = ()) -> Progress:
    """A dated 进展 entry (with files, kept in the item's folder)."""
    if not _squeeze(text):
        raise SupervisionError("进展内容不能为空")
    item = get_item(ledger, reference, with_progress=False)
    if item.status in (CLOSED, CANNOT):
        raise SupervisionError(f"{item.reference} 已是“{item.status}”，不能再记进展")
    if day < item.assigned:
        raise SupervisionError(f"进展日期 {day.isoformat()} 早于交办日期 {item.assigned.isoformat()}")
    stored = _store_files(config, item, files, "进展材料")
    with ledger.book_write() as w:
        now = w.now
        pid = w.execute(f"INSERT INTO {PROGRESS_TABLE} (item_id, reference, day, text, files, actor, created_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (item.id, item.reference, day.isoformat(), text.strip(),
                         json.dumps(stored, ensure_ascii=False) if stored else None, actor, now)).lastrowid
        assert pid is not None  # an INSERT sets lastrowid
        w.record("supervision_progress", actor=actor, book=PROGRESS_BOOK, row_id=pid, reference=item.reference,
                 detail={"what": f"{day.isoformat()} 进展：{_short(text)}"
                                 + (f"（附 {len(stored)} 个文件）" if stored else "")})
    return Progress(id=pid, day=day, text=text.strip(), actor=actor, created_at=now,
                    files=tuple(Evidence(**e) for e in stored))


def close_item(ledger: Register, config: Config, reference: str, *, note: str, actor: str, closed_on: dt.date,
               evidence: Iterable[Path] = ()) -> Item:
    """销号: only with a 办结说明; 佐证材料 files are kept in the item's folder (read-only)."""
    if not _squeeze(note):
        raise SupervisionError("销号须写明办结说明", option="note")
    item = get_item(ledger, reference, with_progress=False)
    if item.status not in (OPEN, OVERDUE, HELD):
        raise SupervisionError(f"{item.reference} 已是“{item.status}”，不能销号")
    if closed_on < item.assigned:
        raise SupervisionError(f"办结日期 {closed_on.isoformat()} 早于交办日期 {item.assigned.isoformat()}")
    stored = _store_files(config, item, evidence, "佐证材料")
    with ledger.book_write() as w:
        cur = _locked(w, item.reference)
        if cur.status not in (OPEN, OVERDUE, HELD):
            raise SupervisionError(f"{cur.reference} 已是“{cur.status}”，不能销号")
        late = closed_on > cur.deadline
        _update(w, config, cur.id, "supervision_closed", actor, cur.reference,
                f"销号（{closed_on.isoformat()}{'，超时限 ' + str((closed_on - cur.deadline).days) + ' 天' if late else ''}）："
                f"{_short(note)}" + (f"；佐证材料 {len(stored)} 个" if stored else ""),
                status=CLOSED, closed_on=closed_on.isoformat(), close_note=note.strip(),
                evidence=_ev_json([*map(_ev_dict, cur.evidence), *stored]))
    return get_item(ledger, item.reference)


def _ev_json(files: list[dict]) -> str | None:
    return json.dumps(files, ensure_ascii=False) if files else None


def _ev_dict(e: Evidence) -> dict:
    return {"name": e.name, "sha256": e.sha256, "size": e.size, "original": e.original}


def set_status(ledger: Register, config: Config, reference: str, status: str, *, reason: str, actor: str,
               today: dt.date) -> Item:
    """暂缓 / 不能办理 (with the reason), or back to 办理中 (恢复, with the reason; 逾期 again at the
    next day turn if its 时限 has passed)."""
    if status not in (HELD, CANNOT, OPEN):
        raise SupervisionError(f"状态只能改为 暂缓、不能办理 或 办理中；“{status}”请用相应命令（销号用 close）")
    if not _squeeze(reason):
        raise SupervisionError(f"改为“{status}”须写明原因", option="reason")
    allowed = {HELD: (OPEN, OVERDUE), CANNOT: (OPEN, OVERDUE, HELD), OPEN: (HELD,)}[status]
    with ledger.book_write() as w:
        cur = _locked(w, reference)
        if cur.status not in allowed:
            raise SupervisionError(f"{cur.reference} 是“{cur.status}”，不能改为“{status}”")
        new = OVERDUE if status == OPEN and cur.deadline < today else status
        _update(w, config, cur.id, "supervision_status", actor, cur.reference,
                f"{cur.status} → {new}：{reason.strip()}", status=new, status_reason=reason.strip(),
                overdue_since=today.isoformat() if new == OVERDUE else cur.overdue_since
                and cur.overdue_since.isoformat())
    return get_item(ledger, cur.reference)


def extend(ledger: Register, config: Config, reference: str, *, deadline: dt.date | None = None,
           rule: str | None = None, reason: str, actor: str, today: dt.date) -> Item:
    """延期: a new 办结时限 (a date, or a rule counted from the 交办日期 such as 「6个月」), with the
    reason (e.g. the 交办机构 agreed to extend a 建议's answer period). A 逾期 item whose new 时限 is
    not yet past is 办理中 again."""
    if not _squeeze(reason):
        raise SupervisionError("延期须写明原因", option="reason")
    if (deadline is None) == (rule is None):
        raise SupervisionError("延期须给出新的办结时限（日期或如“6个月”的时限）", option="deadline")
    item = get_item(ledger, reference, with_progress=False)
    provisional: tuple[int, ...] = ()
    if deadline is None:
        parsed = parse_rule(rule)
        if parsed is None:
            raise SupervisionError(f"办结时限“{rule}”无法识别（可写 2015年4月1日、15个工作日、3个月、月底前等）",
                                   option="deadline")
        deadline, provisional = parsed.resolve(item.assigned, Calendar(config))
    if deadline < item.assigned:
        raise SupervisionError(f"办结时限 {deadline.isoformat()} 早于交办日期 {item.assigned.isoformat()}")
    with ledger.book_write() as w:
        cur = _locked(w, reference)
        if cur.status not in (OPEN, OVERDUE, HELD):
            raise SupervisionError(f"{cur.reference} 已是“{cur.status}”，不能延期")
        status = OPEN if cur.status == OVERDUE and deadline >= today else cur.status
        _update(w, config, cur.id, "supervision_deadline", actor, cur.reference,
                f"延期：办结时限 {cur.deadline.isoformat()} → {deadline.isoformat()}（{reason.strip()}）",
                deadline=deadline.isoformat(), deadline_rule=f"延期：{rule or deadline.isoformat()}",
                deadline_provisional=int(bool(provisional)), status=status,
                overdue_since=cur.overdue_since.isoformat() if status == OVERDUE and cur.overdue_since else None)
    return get_item(ledger, cur.reference)


def record_answer(ledger: Register, config: Config, reference: str, *, category: str, answered_on: dt.date,
                  satisfaction: str | None, actor: str) -> Item:
    """答复 of a 人大建议/政协提案: 答复类别 (A 已解决或基本解决, B 正在解决或列入计划, C 因条件限制
    留作参考), 答复日期 and the 代表/委员's 满意度 (may come later: call again)."""
    if category not in ANSWER_CATEGORIES:
        raise SupervisionError(f"答复类别应为 {'、'.join(ANSWER_CATEGORIES)}")
    if satisfaction is not None and satisfaction not in SATISFACTION:
        raise SupervisionError(f"满意度应为 {'、'.join(SATISFACTION)}")
    with ledger.book_write() as w:
        cur = _locked(w, reference)
        if cur.source_type not in ANSWER_TYPES:
            raise SupervisionError(f"{cur.reference} 来源为“{cur.source_type}”，只有人大建议、政协提案记答复")
        if answered_on < cur.assigned:
            raise SupervisionError(f"答复日期 {answered_on.isoformat()} 早于交办日期 {cur.assigned.isoformat()}")
        _update(w, config, cur.id, "supervision_answered", actor, cur.reference,
                f"答复（{answered_on.isoformat()}）类别 {category}" + (f"，{satisfaction}" if satisfaction else ""),
                answer_category=category, answer_date=answered_on.isoformat(), satisfaction=satisfaction)
    return get_item(ledger, cur.reference)


@dataclass(frozen=True)
class DayTurn:
    """What ``day_turn`` did: items newly marked 逾期, and provisional 时限 recomputed."""

    today: dt.date
    overdue: tuple[Item, ...] = ()
    recomputed: tuple[tuple[str, dt.date, dt.date], ...] = ()    # (督办编号, old, new)
    still_provisional: tuple[str, ...] = ()

    def summary(self) -> str:
        parts = []
        if self.overdue:
            parts.append(f"{len(self.overdue)} 件转为逾期：" + "、".join(
                f"{i.reference}（{i.lead_unit}，时限 {i.deadline.isoformat()}）" for i in self.overdue[:20]))
        if self.recomputed:
            parts.append(f"{len(self.recomputed)} 件时限按新日历重算")
        if self.still_provisional:
            parts.append(f"{len(self.still_provisional)} 件时限仍为暂定（节假日未知）")
        return "；".join(parts) or "无变化"

    def summary_if_changed(self) -> str | None:
        """The summary when something changed or waits for a calendar, else None (nothing to show)."""
        return self.summary() if (self.overdue or self.recomputed or self.still_provisional) else None


def day_turn(ledger: Register, config: Config, *, today: dt.date, actor: str) -> DayTurn:
    """Run at the day's turn (the watch service) and before ``supervise list``/``remind``/``report``:
    re-derive provisional 时限 the calendar now covers, then mark 逾期 every 办理中 item whose 时限 is
    before ``today``. One transaction; each change is one event; running it twice changes nothing."""
    if not started_at(ledger):
        return DayTurn(today)
    cal = Calendar(config)
    recomputed, still, marked = [], [], []
    with ledger.book_write() as w:
        rows = w.execute(f"SELECT * FROM {ITEMS_TABLE} WHERE deadline_provisional = 1 AND status IN (?, ?, ?)"
                         " ORDER BY id", (OPEN, OVERDUE, HELD)).fetchall()
        for item in map(_item, rows):
            rule = _rule_of(item)
            if rule is None:
                continue
            new, uncovered = rule.resolve(item.assigned, cal)
            if uncovered:
                still.append(item.reference)
                continue
            status = OPEN if item.status == OVERDUE and new >= today else item.status
            years = "、".join(str(y) for y in sorted({item.deadline.year, new.year}))
            _update(w, config, item.id, "supervision_deadline", actor, item.reference,
                    f"办结时限按{years}年节假日安排重算：{item.deadline.isoformat()} → {new.isoformat()}",
                    deadline=new.isoformat(), deadline_provisional=0, status=status,
                    overdue_since=item.overdue_since.isoformat() if status == OVERDUE and item.overdue_since
                    else None)
            recomputed.append((item.reference, item.deadline, new))
        rows = w.execute(f"SELECT * FROM {ITEMS_TABLE} WHERE status = ? AND deadline < ? ORDER BY id",
                         (OPEN, today.isoformat())).fetchall()
        for item in map(_item, rows):
            _update(w, config, item.id, "supervision_overdue", actor, item.reference,
                    f"逾期：办结时限 {item.deadline.isoformat()} 已过（{today.isoformat()} 查明）",
                    status=OVERDUE, overdue_since=today.isoformat())
            marked.append(_replace(item, status=OVERDUE, overdue_since=today))
    return DayTurn(today, tuple(marked), tuple(recomputed), tuple(still))


def _rule_of(item: Item) -> Rule | None:
    """The rule a provisional 时限 was counted by (kept in ``deadline_rule``)."""
    text = item.deadline_rule.split("：", 1)[-1]
    if item.deadline_rule.startswith("默认："):
        text = text.split(" ", 1)[-1]
    return parse_rule(text)


def evidence_files(config: Config, item: Item) -> list[tuple[Path, Evidence]]:
    """The item's stored files (佐证材料 and 进展材料) with their recorded hashes."""
    files = [*item.evidence, *(f for p in item.progress for f in p.files)]
    return [(item_dir(config, item) / e.name, e) for e in files]


def source_key(*parts: str) -> str:
    """A stable identity for an item without a number of its own (a spreadsheet row): the hash of
    its defining fields, so the same row dropped twice is one item."""
    canon = json.dumps([_squeeze(p) for p in parts], ensure_ascii=False)
    return "行:" + hashlib.sha256(canon.encode("utf-8")).hexdigest()[:24]
