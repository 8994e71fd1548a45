"""The register (登记簿): 发文字号 allocation, voids and reservations, the 用印登记, each document's
progress, and an append-only hash-chained event log — one SQLite file in the archive folder.

Why it is built this way:
- Numbers come from a counter per (series, year) updated inside ``BEGIN IMMEDIATE`` transactions on a
  WAL database, so allocation is atomic across processes and a number is never reused — not after a
  void, not after a crash (an interrupted transaction leaves neither the number nor the counter step).
  Numbering by max+1 reuses numbers under races and deletions (peers.md pitfall 11).
- Every change of a register row is written together with an event whose detail carries the row's new
  content; the events are hash-chained (SM3 where OpenSSL has it, else SHA-256, the algorithm stored per
  row). ``verify`` re-walks the chain and replays the events against the tables, so an edited title, a
  deleted or reordered row, or a lowered counter is found and named (peers.md pitfall 16).
- ``synchronous=FULL``: a committed number survives a power cut (a number printed on a 公文 but lost
  from the register would be a 漏号 nobody can explain). The cost is one fsync per allocation
  (see bench/bench_ledger.py).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import threading
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable, ContextManager, Iterator, Protocol, runtime_checkable

from . import hashing
from .config import Config
from .errors import LedgerError, NumberRefused, RegisterUnavailable
from .model import Draft, Finding, Number
from .numbers import check_formats, format_number, parse_number

__all__ = [
    "Ledger", "Allocation", "DocumentRow", "RegisterRow", "SealRow", "Event", "ChainReport", "Break", "Anchor",
    "STAGES", "STAGE_NAMES", "REGISTER_COLUMNS", "SEAL_COLUMNS", "format_number", "parse_number",
    "health", "ledger_path", "register_listing", "RegisterListing",
    "Book", "BookWriter", "EVENT_NAMES", "YearFigures",
]

LEDGER_FILE = "ledger.sqlite3"
# 2: documents.signed_on (签发日期). A version-1 ledger is upgraded in place when opened (the
# column is added, empty: no 签发 was recorded then); older events' snapshots lack the column, which
# verify reads as empty, so the chain stays whole.
SCHEMA_VERSION = 2
# Processes wait for the write lock instead of failing with "database is locked": an allocation holds
# it for a few milliseconds, so even dozens of waiting workers clear well within this.
BUSY_TIMEOUT_S = 60.0
GENESIS = "0" * 64
# A document still in progress this long after its last step is reported by `health` as stuck.
STALE_AFTER = dt.timedelta(hours=1)

# Document progress, in order; `indexed` means done (已发).
STAGES = ("allocated", "rendered", "converted", "stamped", "filed", "indexed")
RESERVED, VOIDED = "reserved", "voided"
STAGE_NAMES = {
    "allocated": "已编号", "rendered": "已排版", "converted": "已转PDF", "stamped": "已盖章签名",
    "filed": "已存档", "indexed": "已发", RESERVED: "预留", VOIDED: "作废",
}
# Every event as a person reads it — the one table of event labels: the 业务行为 written into a
# record's metadata (DA/T 46), the history on `gongwen show` and the web pages, and what the 四性检测
# looks for. Code compares event codes; a label is only ever read from here. An event not listed is
# shown by its code.
EVENT_NAMES = {
    "allocated": "登记（编号）", "rendered": "排版", "converted": "转换为PDF/A", "stamped": "用印（电子签章）",
    "filed": "归档", "indexed": "编入检索", RESERVED: "预留文号", VOIDED: "作废", "reservation_used": "使用预留文号",
    "duplicate": "重复提交", "archived": "整理归档", "seal_used": "用印登记", "login": "登录", "login_failed": "登录失败", "login_locked": "账号锁定",
    "logout": "退出登录", "user_added": "新建用户", "user_roles": "更改角色", "user_disabled": "停用用户",
    "user_enabled": "启用用户", "user_password": "更改密码", "verified": "核验固定性与签名",
    "downloaded": "下载文件", "yearend_job": "年终作业",
    # the 收文登记簿 (pipeline/incoming)
    "incoming_registered": "收文登记", "incoming_filed": "归档", "incoming_indexed": "编入检索",
    "incoming_routed": "拟办", "incoming_instructed": "批办（领导批示）", "incoming_supervised": "交办督办",
    "incoming_done": "办结", "incoming_edited": "补登/更正", "incoming_archived": "整理归档",
    "incoming_duplicate": "重复收文", "incoming_refused": "拒收（涉密）",
    # the 清样签发登记 (pipeline/signoff.py)
    "proof": "清样", "signoff": "签发", "returned": "退回", "released": "送编号", "numbered": "编号（清样签发登记）",
    # the 督办台账 (pipeline/supervise)
    "supervision_added": "交办", "supervision_progress": "进展", "supervision_overdue": "逾期",
    "supervision_status": "状态变更", "supervision_closed": "销号", "supervision_answered": "答复",
    "supervision_deadline": "时限重算", "supervision_reminded": "催办", "supervision_archived": "归档",
    "supervision_minutes": "议定事项列入督办台账", "supervision_minutes_failed": "议定事项未能列入督办台账",
}
# Events that change a register row; `log()` may not forge them.
STATE_EVENTS = frozenset(STAGES) | {RESERVED, VOIDED, "archived", "seal_used", "reservation_used"}
# The anchor of a record's content (see ``anchor``): recorded with the filing event (a 发文's "filed"
# stage, a 收文's "incoming_filed") and by "anchored" events; only these carry one, so `log()` may not
# write "anchored".
ANCHORED = "anchored"
FILING_EVENTS = ("filed", "incoming_filed")
ANCHOR_EVENTS = (*FILING_EVENTS, ANCHORED)
_SNAPSHOT_KEYS = ("register", "seal_register", "rows")
# Register and seal columns by their Chinese names, for messages that name a changed column.
COLUMN_NAMES = {
    "id": "行号", "series": "机关代字", "year": "年份", "seq": "顺序号", "number_text": "印制文号",
    "reference": "发文字号", "stage": "状态", "content_hash": "内容摘要", "registered_at": "登记时间",
    "reserved_at": "预留时间", "title": "标题", "kind": "文种", "doc_date": "成文日期", "secrecy": "密级",
    "urgency": "紧急程度", "signers": "签发人", "drafter_unit": "拟稿部门", "drafter": "拟稿人",
    "main_to": "主送", "cc": "抄送", "copies": "份数", "attachments": "附件", "source": "草稿文件",
    "note": "备注", "archive_code": "档号", "void_reason": "作废原因", "voided_at": "作废时间",
    "voided_by": "作废人", "updated_at": "更新时间", "used_at": "用印时间", "seal_name": "印章名称",
    "document_id": "文件行号", "handler": "经办人", "approver": "审批人",
}

# 发文登记簿 columns (standards.md §6.1; issue 3 item 5), field → heading. 备注 carries the void reason
# or reservation note.
REGISTER_COLUMNS = (
    ("seq_no", "顺序号"), ("registered", "登记日期"), ("number", "发文字号"), ("issuers", "发文机关"), ("title", "标题"),
    ("kind", "文种"), ("secrecy_urgency", "密级/紧急程度"), ("signers", "签发人"), ("signed_on", "签发日期"),
    ("drafter", "拟稿部门/拟稿人"), ("main_to", "主送"), ("cc", "抄送"), ("copies", "份数"),
    ("attachments", "附件"), ("status", "状态"), ("archive_code", "档号"), ("note", "备注"),
)
# 用印登记 columns (standards.md §6.3).
SEAL_COLUMNS = (
    ("seq_no", "序号"), ("used_at", "用印时间"), ("seal_name", "印章名称"), ("number", "文号"),
    ("title", "文件标题"), ("copies", "份数"), ("handler", "经办人"), ("approver", "审批人（签发人）"),
    ("note", "备注"),
)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (
  series TEXT NOT NULL, year INTEGER NOT NULL, next_seq INTEGER NOT NULL CHECK (next_seq >= 1),
  PRIMARY KEY (series, year)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS documents (
  id INTEGER PRIMARY KEY,
  series TEXT NOT NULL, year INTEGER NOT NULL, seq INTEGER NOT NULL CHECK (seq >= 1),
  number_text TEXT NOT NULL, reference TEXT NOT NULL UNIQUE,
  stage TEXT NOT NULL,
  content_hash TEXT,
  registered_at TEXT NOT NULL, reserved_at TEXT,
  title TEXT, kind TEXT, doc_date TEXT, secrecy TEXT, urgency TEXT, signers TEXT, signed_on TEXT,
  drafter_unit TEXT, drafter TEXT, main_to TEXT, cc TEXT, copies INTEGER, attachments TEXT,
  source TEXT, note TEXT, archive_code TEXT, issuers TEXT,
  void_reason TEXT, voided_at TEXT, voided_by TEXT,
  updated_at TEXT NOT NULL,
  UNIQUE (series, year, seq));
-- One live document per content: the same draft again is the same document; after a void it may be
-- numbered anew.
CREATE UNIQUE INDEX IF NOT EXISTS documents_live_content ON documents(content_hash)
  WHERE content_hash IS NOT NULL AND stage <> '{VOIDED}';
CREATE INDEX IF NOT EXISTS documents_stage ON documents(stage);
CREATE TABLE IF NOT EXISTS seal_uses (
  id INTEGER PRIMARY KEY, used_at TEXT NOT NULL, seal_name TEXT NOT NULL,
  document_id INTEGER NOT NULL REFERENCES documents(id), reference TEXT NOT NULL, title TEXT,
  copies INTEGER, handler TEXT NOT NULL, approver TEXT, note TEXT);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, event TEXT NOT NULL,
  reference TEXT, detail TEXT NOT NULL, algorithm TEXT NOT NULL, prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_reference ON events(reference);
-- Other registers kept in this database (收文登记簿, 督办台账 …): see Book.
CREATE TABLE IF NOT EXISTS books (
  name TEXT PRIMARY KEY, label TEXT NOT NULL, series TEXT) WITHOUT ROWID;
-- Append-only by construction; the hash chain catches anyone who drops these first.
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, '事件记录只能追加，不能修改'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, '事件记录只能追加，不能删除'); END;
"""
_TRIGGERS = ("events_no_update", "events_no_delete")


# A 纪要's 期号 may run at most this far ahead of the register (the numbers between are reserved):
# meetings are numbered in order, so a larger gap is more likely a typing error (70 for 7).
MAX_ISSUE_GAP = 30


def meeting_issue(draft: Draft) -> int | None:
    """A 纪要's 期号 (7, 第7期) as a number, or None."""
    issue = draft.meeting.issue if draft.meeting is not None and draft.kind == "纪要" else None
    m = re.fullmatch(r"第?\s*([0-9]+)\s*期?", (issue or "").strip())
    return int(m[1]) if m and int(m[1]) > 0 else None


# --- data ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Allocation:
    """The result of ``allocate``: the number, the document's id and where it stands."""

    number: Number
    doc_id: int
    is_new: bool        # False: the same content was registered before (same document, same number)
    stage: str          # the document's progress; resume after it


@dataclass(frozen=True)
class DocumentRow:
    """One row of the 发文登记簿 as stored."""

    id: int
    number: Number
    stage: str                       # reserved, allocated … indexed, voided
    content_hash: str | None
    registered_at: str               # ISO time the number was taken (or the reservation used)
    reserved_at: str | None
    title: str | None
    kind: str | None
    doc_date: dt.date | None         # 成文日期
    secrecy: str | None
    urgency: str | None
    signers: tuple[str, ...]         # 签发人 (who signed it off, with 会签; else as printed)
    signed_on: dt.date | None        # 签发日期; None: no 签发 recorded
    drafter_unit: str | None
    drafter: str | None
    main_to: str | None
    cc: str | None
    copies: int | None
    attachments: tuple[str, ...]
    issuers: tuple[str, ...]         # 发文机关: the series' issuer, then a joint document's co-issuers
    source: str | None               # the draft's file, for resuming
    note: str | None
    archive_code: str | None         # 档号, set at year end
    void_reason: str | None
    voided_at: str | None
    voided_by: str | None
    updated_at: str

    @property
    def reference(self) -> str:
        return self.number.reference

    @property
    def doc_id(self) -> int:
        """Same as ``id``; the name ``Allocation`` uses, for ``advance``."""
        return self.id

    @property
    def pending(self) -> bool:
        """Numbered but not finished: the pipeline resumes it (or voids it with a reason)."""
        return self.stage in STAGES and self.stage != "indexed"

    @property
    def status(self) -> str:
        """状态 as the register shows it: 已发 / 作废 / 预留, or 办理中（…） honestly."""
        if self.stage in ("indexed", VOIDED, RESERVED):
            return STAGE_NAMES[self.stage]
        return f"办理中（{STAGE_NAMES[self.stage]}）"


@dataclass(frozen=True)
class RegisterRow:
    """A printed row of the 发文登记簿; field order = REGISTER_COLUMNS."""

    seq_no: int
    registered: str
    number: str
    issuers: str
    title: str
    kind: str
    secrecy_urgency: str
    signers: str
    signed_on: str
    drafter: str
    main_to: str
    cc: str
    copies: int | None
    attachments: str
    status: str
    archive_code: str
    note: str


@dataclass(frozen=True)
class SealRow:
    """A printed row of the 用印登记; field order = SEAL_COLUMNS."""

    seq_no: int
    used_at: str
    seal_name: str
    number: str
    title: str
    copies: int | None
    handler: str
    approver: str
    note: str


@dataclass(frozen=True)
class Event:
    id: int
    time: str
    actor: str
    event: str
    reference: str | None
    detail: dict
    algorithm: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Anchor:
    """One anchor of a record (or of a year's arrangement) in the event chain: which event, why, and
    the digests it fixed (``anchor``: algorithm, the metadata file's digest, each file's digest)."""

    event_id: int
    time: str
    actor: str
    event: str               # filed / anchored
    reason: str              # 归档, 整理归档, 补锚定 …
    anchor: dict


@dataclass(frozen=True)
class Break:
    """The first thing wrong with one row: which table, which row, and what."""

    table: str               # events / documents / seal_uses / counters
    row_id: int | None
    time: str | None
    event: str | None
    message: str             # Chinese, names the row

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int                      # rows checked
    algorithms: tuple[str, ...]
    head: str | None                 # hash of the last event: anchor it elsewhere to detect truncation
    breaks: tuple[Break, ...] = ()

    @property
    def first(self) -> Break | None:
        return self.breaks[0] if self.breaks else None

    def summary(self) -> str:
        if self.ok:
            # The head hash is part of the summary so that reports quoting it anchor the chain.
            return (f"事件链完整：{self.events} 条记录（{'、'.join(self.algorithms) or '无'}），登记簿与事件一致；"
                    f"末条哈希 {self.head or '（无）'}")
        more = f"（另有 {len(self.breaks) - 1} 处）" if len(self.breaks) > 1 else ""
        return f"登记簿被改动：{self.breaks[0].message}{more}"


@dataclass(frozen=True)
class Book:
    """Another register kept beside the 发文登记簿 in the ledger's database — the 收文登记簿, the
    督办台账 — with the same guarantees: its numbers come from the shared counters inside a
    ``BEGIN IMMEDIATE`` transaction, and every change of one of its rows is written together with an
    event carrying the row's new content, so ``verify`` replays it and names an edited, inserted or
    deleted row. The owning module declares its book and opens it with ``Ledger.open_book``.

    ``table`` is the book's register table: an ``id INTEGER PRIMARY KEY`` and, when the book numbers
    its rows, ``series``/``year``/``seq`` columns (``series`` = the counter's key, ``Book.series``).
    ``schema`` is its DDL (``CREATE … IF NOT EXISTS``, statements separated by ``;\n``); further
    tables in it are the module's own and are not replayed."""

    table: str
    label: str                   # Chinese name used in messages: 收文登记簿
    schema: str
    series: str | None = None    # counter key when the book numbers its rows (e.g. 收文)
    # (column, Chinese name) pairs: how ``verify`` names an edited column. Kept with the book in the
    # database by ``open_book``, so a verify that never loaded the owner names them too; a column
    # without a name here takes COLUMN_NAMES', else it is quoted (“state”列).
    columns: tuple[tuple[str, str], ...] = ()


class BookWriter:
    """What a book's owner may do inside one write transaction (``Ledger.book_write``)."""

    def __init__(self, ledger: "Ledger", db: sqlite3.Connection):
        self._ledger, self._db = ledger, db

    @property
    def now(self) -> str:
        """The ledger clock's time, ISO (the same clock stamps the events)."""
        return _iso(self._ledger._clock())

    def next_seq(self, book: Book, year: int) -> int:
        """The book's next number for ``year``: atomic with the rest of the transaction, never reused."""
        if not book.series:
            raise ValueError(f"book {book.table} does not number its rows")
        return self._ledger._take_seq(self._db, book.series, year)

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, params)

    def record(self, event: str, *, actor: str, book: Book, row_id: int, reference: str | None = None,
               detail: dict | None = None) -> int:
        """Chain ``event`` with the row's new content (call after every change of a register row)."""
        detail = dict(detail or {})
        if any(k in detail for k in _SNAPSHOT_KEYS):
            raise ValueError(f"detail keys {_SNAPSHOT_KEYS} are reserved for register snapshots")
        row = _row_dict(self._db.execute(f"SELECT * FROM {book.table} WHERE id = ?", (row_id,)).fetchone())
        if row is None:
            raise LedgerError(f"{book.label}中没有第 {row_id} 行")
        return self._ledger._append(self._db, event, actor, reference, {**detail, "rows": {book.table: row}})


# --- helpers ---------------------------------------------------------------------------------------

def ledger_path(config: Config) -> Path:
    return config.archive_dir / LEDGER_FILE


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


def _canon(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _event_hash(algorithm: str, id_: int, time_: str, actor: str, event: str, reference: str | None,
                detail: str, prev_hash: str) -> str:
    payload = _canon([id_, time_, actor, event, reference, detail, algorithm, prev_hash])
    return hashing.digest_bytes(payload.encode("utf-8"), algorithm)


def _split(text: str | None, sep: str) -> tuple[str, ...]:
    return tuple(t for t in (text or "").split(sep) if t)


def _attachment_names(draft: Draft) -> str | None:
    if draft.attachments:
        return "；".join(f"{a.number}.{a.name}" if a.number else a.name for a in draft.attachments)
    return "；".join(draft.attachment_note) or None


def _signed_on(d: "DocumentRow") -> str:
    """签发日期 as the register prints it; a numbered document without a recorded 签发 says so."""
    if d.signed_on is not None:
        return d.signed_on.isoformat()
    return "" if d.stage in (RESERVED, VOIDED) else "未记录"


def _row_dict(row: sqlite3.Row | None) -> dict | None:
    return None if row is None else {k: row[k] for k in row.keys()}


# --- the seam --------------------------------------------------------------------------------------

@runtime_checkable
class Register(Protocol):
    """What the pipeline, the watcher and the registers built on it (Books) ask of the register: the
    seam where another store (PostgreSQL) would plug in. `Ledger` (SQLite) is the implementation;
    tests/test_seams.py holds it to this surface."""

    def now(self) -> dt.datetime: ...
    def year_for(self, draft: Draft) -> int: ...
    def allocate(self, draft: Draft, *, actor: str, year: int | None = None) -> Allocation: ...
    def advance(self, doc_id: int, stage: str, *, actor: str, detail: dict | None = None) -> None: ...
    def void(self, reference: str, *, reason: str, actor: str, force: bool = False) -> Number: ...
    def record_seal_use(self, reference: str, *, seal_name: str, copies: int | None, handler: str,
                        approver: str | None, note: str = "") -> int: ...
    def document(self, reference: str) -> DocumentRow | None: ...
    def pending(self) -> list[DocumentRow]: ...
    def documents(self, year: int | None = None, series: str | None = None) -> list[DocumentRow]: ...
    def register(self, year: int | None = None, series: str | None = None) -> list[RegisterRow]: ...
    def events(self, reference: str | None = None) -> list[Event]: ...
    def log(self, event: str, *, actor: str, reference: str | None = None, detail: dict | None = None) -> None: ...
    def anchor(self, reference: str | None, anchor: dict, *, actor: str, reason: str,
               subject: str | None = None) -> int: ...
    def open_book(self, book: Book) -> None: ...
    def book_write(self) -> ContextManager[BookWriter]: ...
    def book_read(self) -> ContextManager[sqlite3.Connection]: ...
    def verify(self) -> ChainReport: ...
    def close(self) -> None: ...


# --- the ledger ------------------------------------------------------------------------------------

class Ledger:
    """The register of one instance. Owns one SQLite connection; use as a context manager.

    ``clock`` returns the current aware datetime (tests pass a fixed one; no sleeping)."""

    def __init__(self, path: Path, config: Config, *, clock: Callable[[], dt.datetime] | None = None):
        check_formats(config)
        self.path = Path(path)
        self.config = config
        self._clock = clock or _now
        self._lock = threading.RLock()  # one connection, possibly shared by a watcher's threads
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                   check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        try:
            self._setup()
        except BaseException:
            self._db.close()
            raise

    @classmethod
    def open(cls, config: Config, **kw) -> "Ledger":
        return cls(ledger_path(config), config, **kw)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "Ledger":
        return self

    def now(self) -> dt.datetime:
        """The ledger's clock (injected in tests): the time its events are stamped with."""
        return self._clock()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- connection ----------------------------------------------------------------------------------

    def _setup(self) -> None:
        db = self._db
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        # Switching to WAL needs a moment alone with the file; the first opens of a new ledger by
        # several processes at once can meet "locked" here, outside the busy handler's reach.
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower()
                    if mode != "wal":
                        raise LedgerError(f"登记簿 {self.path} 无法使用 WAL 模式（{mode}）；"
                                          "档案目录须在本机磁盘上，不能放在网络共享上")
                break
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise RegisterUnavailable(f"无法打开登记簿 {self.path}：{e}") from e
                time.sleep(0.05)
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        with self._write():
            fresh = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
                               ).fetchone() is None
            if fresh:
                # Statement by statement: executescript() would COMMIT first and end this transaction.
                for stmt in _SCHEMA.split(";\n"):
                    if stmt.strip():
                        db.execute(stmt)
                db.execute("INSERT INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            else:
                # An existing ledger is opened as it is: never silently re-create what someone removed
                # (verify() reports a dropped append-only trigger).
                row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
                if row is None or int(row[0]) > SCHEMA_VERSION:
                    raise LedgerError(f"登记簿 {self.path} 的结构版本"
                                      f"{'缺失' if row is None else row[0]}，本版本 gongwen 无法使用；请升级 gongwen"
                                      "或运行 gongwen doctor 检查")
                if int(row[0]) < 2:
                    db.execute("ALTER TABLE documents ADD COLUMN signed_on TEXT")
                    db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
                # Columns added since (empty for the rows before; their event snapshots lack them
                # alike, so verify() still agrees): the 发文机关 of 联合行文.
                have = {r[1] for r in db.execute("PRAGMA table_info(documents)")}
                if "issuers" not in have:
                    db.execute("ALTER TABLE documents ADD COLUMN issuers TEXT")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: BEGIN IMMEDIATE takes the write lock up front (waiting for it via
        the busy timeout), so a read-then-write can never fail half-way on a lock upgrade."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as e:
                raise RegisterUnavailable(f"登记簿忙，{BUSY_TIMEOUT_S:.0f} 秒内未能取得写锁：{e}") from e
            try:
                yield self._db
            except sqlite3.OperationalError as e:
                # the disk full, an I/O error: nothing was written, and nothing is wrong with the input
                with suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise RegisterUnavailable(f"登记簿暂时无法写入：{e}") from e
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same snapshot."""
        with self._lock:
            self._db.execute("BEGIN DEFERRED")
            try:
                yield self._db
            finally:
                self._db.execute("COMMIT")

    # -- internal writes (caller holds the write transaction) ------------------------------------------

    def _append(self, db, event: str, actor: str, reference: str | None, detail: dict) -> int:
        last = db.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
        id_, prev = (last["id"] + 1, last["hash"]) if last else (1, GENESIS)
        algorithm = hashing.chain_algorithm()
        when = _iso(self._clock())
        text = _canon(detail)
        h = _event_hash(algorithm, id_, when, actor, event, reference, text, prev)
        db.execute("INSERT INTO events (id, time, actor, event, reference, detail, algorithm, prev_hash,"
                   " hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (id_, when, actor, event, reference, text, algorithm, prev, h))
        return id_

    def _snapshot(self, db, doc_id: int) -> dict:
        row = db.execute("SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return {k: row[k] for k in row.keys()}

    def _take_seq(self, db, series: str, year: int) -> int:
        row = db.execute("SELECT next_seq FROM counters WHERE series = ? AND year = ?",
                         (series, year)).fetchone()
        seq = row[0] if row else 1
        db.execute("INSERT INTO counters (series, year, next_seq) VALUES (?, ?, ?) "
                   "ON CONFLICT (series, year) DO UPDATE SET next_seq = excluded.next_seq",
                   (series, year, seq + 1))
        return seq

    def _insert_document(self, db, number: Number, stage: str, when: str, fields_: dict) -> int:
        cols = {"series": number.series, "year": number.year, "seq": number.seq,
                "number_text": number.text, "reference": number.reference, "stage": stage,
                "registered_at": when, "updated_at": when, **fields_}
        try:
            cur = db.execute(f"INSERT INTO documents ({', '.join(cols)}) VALUES "
                             f"({', '.join('?' * len(cols))})", tuple(cols.values()))
        except sqlite3.IntegrityError as e:
            # Only possible if someone lowered a counter by hand: refuse rather than reuse a number.
            raise LedgerError(f"文号 {number.reference} 已登记过，计数器与登记簿不一致"
                              f"（登记簿可能被改动，请运行 gongwen doctor）：{e}") from e
        return cur.lastrowid

    def _resolve(self, db, text: str) -> sqlite3.Row | None:
        row = db.execute("SELECT * FROM documents WHERE reference = ?", (text,)).fetchone()
        if row is None:
            try:
                series, year, seq = parse_number(text, self.config)
            except ValueError as e:
                raise LedgerError(str(e)) from None
            row = db.execute("SELECT * FROM documents WHERE series = ? AND year = ? AND seq = ?",
                             (series, year, seq)).fetchone()
        return row

    def _require(self, db, text: str) -> sqlite3.Row:
        row = self._resolve(db, text)
        if row is None:
            raise LedgerError(f"登记簿中没有文号 {text}")
        return row

    # -- allocation --------------------------------------------------------------------------------------

    def year_for(self, draft: Draft) -> int:
        """The year in the number: the 成文日期's year, or the registration year (config)."""
        if self.config.numbering.year_from == "登记日期":
            return self._clock().year
        if draft.date is None:
            raise NumberRefused("草稿没有可识别的成文日期（如 2015年3月20日），无法确定发文字号的年份")
        return draft.date.year

    def allocate(self, draft: Draft, *, actor: str, year: int | None = None) -> Allocation:
        """The draft's number: the same content again returns the same document; a draft naming a
        reserved number (``number_text``) takes that reservation; a 纪要 with a 期号 takes that number
        (_take_issue); otherwise the series' next number."""
        series = draft.series
        if not series or series not in self.config.series:
            raise NumberRefused(f"草稿的发文系列“{series or '（未指定）'}”不在配置中；"
                              f"可用的有：{'、'.join(self.config.series)}")
        content = draft.content_hash()
        year = year if year is not None else self.year_for(draft)
        fields_ = {
            "content_hash": content, "title": draft.title, "kind": draft.kind,
            "doc_date": draft.date.isoformat() if draft.date else None,
            "secrecy": draft.secrecy, "urgency": draft.urgency,
            "signers": "、".join(draft.signed_by) or None,
            "signed_on": draft.signoff.date.isoformat() if draft.signoff else None,
            "drafter_unit": draft.drafter_unit,
            "drafter": draft.drafter, "main_to": draft.main_to, "cc": draft.cc,
            "copies": draft.copies, "attachments": _attachment_names(draft), "source": draft.source,
            "issuers": "、".join(draft.issuers(self.config.series[series].issuer)),
        }
        with self._write() as db:
            same = db.execute(f"SELECT * FROM documents WHERE content_hash = ? AND stage <> '{VOIDED}'",
                              (content,)).fetchone()
            if same is not None:
                self._append(db, "duplicate", actor, same["reference"],
                             {"source": draft.source, "stage": same["stage"]})
                return Allocation(self._number(same), same["id"], False, same["stage"])
            when = _iso(self._clock())
            issue = meeting_issue(draft)
            extra: dict[str, object]
            if draft.number_text:
                doc_id, number = self._use_reservation(db, draft.number_text, series, year, when,
                                                       fields_)
                event, extra = "reservation_used", {"reservation": True}
            elif issue is not None:
                doc_id, number, reserved = self._take_issue(db, series, year, issue, when, fields_, actor)
                event, extra = ("reservation_used" if reserved else "allocated"), {"issue": issue}
            else:
                seq = self._take_seq(db, series, year)
                number = format_number(self.config, series, year, seq)
                doc_id = self._insert_document(db, number, "allocated", when, fields_)
                event, extra = "allocated", {}
            self._append(db, event, actor, number.reference,
                         {**extra, "register": self._snapshot(db, doc_id)})
        return Allocation(number, doc_id, True, "allocated")

    def _take_issue(self, db, series: str, year: int, issue: int, when: str, fields_: dict,
                    actor: str) -> tuple[int, Number, bool]:
        """A 纪要's 期号 is the number the office means (第7次常务会议 → 〔2015〕7号). Decision: take it.
        An unused reservation of that number is used; a number already used is refused (nothing is
        taken); a 期号 ahead of the counter is taken and the numbers skipped stay in the register as
        unused reservations (预留, noting the 期号 that skipped them), which the year-end check
        accepts and a later 纪要 with its own 期号 takes. More than MAX_ISSUE_GAP ahead is refused
        as a likely typing error. Returns (id, number, whether a reservation was used)."""
        row = db.execute("SELECT * FROM documents WHERE series = ? AND year = ? AND seq = ?",
                         (series, year, issue)).fetchone()
        if row is not None:
            if row["stage"] == RESERVED:
                sets = {**fields_, "stage": "allocated", "registered_at": when, "updated_at": when}
                db.execute(f"UPDATE documents SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                           (*sets.values(), row["id"]))
                return row["id"], self._number(row), True
            raise NumberRefused(f"期号 {issue} 已使用：{row['reference']}（{STAGE_NAMES.get(row['stage'], row['stage'])}"
                              f"{'，' + row['title'] if row['title'] else ''}）；请核对期号，或删去期号由系统按顺序编号")
        nxt = db.execute("SELECT next_seq FROM counters WHERE series = ? AND year = ?", (series, year)).fetchone()
        nxt = nxt[0] if nxt else 1
        if issue < nxt:
            raise LedgerError(f"期号 {issue} 在登记簿中没有记录，却小于下一个号 {nxt}（登记簿可能被改动，请运行 gongwen doctor）")
        if issue - nxt > MAX_ISSUE_GAP:
            raise NumberRefused(f"期号 {issue} 比登记簿的下一个号 {nxt} 超前 {issue - nxt} 号（超过 {MAX_ISSUE_GAP} 号），"
                              "请核对期号是否写错")
        for seq in range(nxt, issue):
            gap = format_number(self.config, series, year, seq)
            gap_id = self._insert_document(db, gap, RESERVED, when,
                                           {"reserved_at": when, "note": f"跳号预留：第{issue}期纪要按期号编号时空出"})
            self._append(db, RESERVED, actor, gap.reference, {"register": self._snapshot(db, gap_id)})
        db.execute("INSERT INTO counters (series, year, next_seq) VALUES (?, ?, ?) "
                   "ON CONFLICT (series, year) DO UPDATE SET next_seq = excluded.next_seq", (series, year, issue + 1))
        number = format_number(self.config, series, year, issue)
        return self._insert_document(db, number, "allocated", when, fields_), number, False

    def _use_reservation(self, db, text: str, series: str, year: int, when: str,
                         fields_: dict) -> tuple[int, Number]:
        try:
            r_series, r_year, r_seq = parse_number(text, self.config)
        except ValueError as e:
            raise NumberRefused(f"草稿中写的发文字号无效：{e}") from None
        if (r_series, r_year) != (series, year):
            raise NumberRefused(f"草稿中写的发文字号 {text} 属于 {r_series} {r_year}年，"
                              f"而本文属于 {series} {year}年；请核对文号或成文日期")
        row = db.execute("SELECT * FROM documents WHERE series = ? AND year = ? AND seq = ?",
                         (r_series, r_year, r_seq)).fetchone()
        if row is None or row["stage"] != RESERVED:
            state = "尚未预留" if row is None else f"已是“{STAGE_NAMES.get(row['stage'], row['stage'])}”"
            raise NumberRefused(f"草稿中写的发文字号 {text} 不是未用的预留号（{state}）；"
                              "请删去文号由系统编号，或先用 gongwen reserve 预留")
        sets = {**fields_, "stage": "allocated", "registered_at": when, "updated_at": when}
        db.execute(f"UPDATE documents SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                   (*sets.values(), row["id"]))
        return row["id"], self._number(row)

    def reserve(self, series: str, year: int, *, actor: str, note: str = "") -> Number:
        """Take the series' next number now for a document that comes later (status 预留)."""
        if series not in self.config.series:
            raise LedgerError(f"没有名为“{series}”的发文系列；可用的有：{'、'.join(self.config.series)}")
        with self._write() as db:
            seq = self._take_seq(db, series, year)
            number = format_number(self.config, series, year, seq)
            when = _iso(self._clock())
            doc_id = self._insert_document(db, number, RESERVED, when,
                                           {"reserved_at": when, "note": note or None})
            self._append(db, RESERVED, actor, number.reference, {"register": self._snapshot(db, doc_id)})
        return number

    # -- progress -----------------------------------------------------------------------------------------

    def advance(self, doc_id: int, stage: str, *, actor: str, detail: dict | None = None) -> None:
        """Record that a document reached ``stage``. Repeating the current stage (a resumed step) is a
        no-op; going backwards or moving a voided or reserved number is refused."""
        if stage not in STAGES or stage == "allocated":
            raise ValueError(f"unknown stage {stage!r}; one of {STAGES[1:]}")
        detail = dict(detail or {})
        if any(k in detail for k in _SNAPSHOT_KEYS):
            raise ValueError(f"detail keys {_SNAPSHOT_KEYS} are reserved for register snapshots")
        with self._write() as db:
            row = db.execute("SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
            if row is None:
                raise LedgerError(f"登记簿中没有编号为 {doc_id} 的文件")
            cur = row["stage"]
            if cur in (VOIDED, RESERVED):
                raise LedgerError(f"{row['reference']} 是“{STAGE_NAMES[cur]}”状态，不能继续办理")
            if cur == stage:
                return
            if STAGES.index(stage) < STAGES.index(cur):
                raise LedgerError(f"{row['reference']} 已到“{STAGE_NAMES[cur]}”，不能退回“{STAGE_NAMES[stage]}”")
            db.execute("UPDATE documents SET stage = ?, updated_at = ? WHERE id = ?",
                       (stage, _iso(self._clock()), doc_id))
            self._append(db, stage, actor, row["reference"],
                         {**detail, "from": cur, "register": self._snapshot(db, doc_id)})

    def void(self, reference: str, *, reason: str, actor: str, force: bool = False) -> Number:
        """Mark a number 作废: it stays in the register with the reason, time and who. A document
        that already has its 档号 is refused unless ``force`` (the year's check then names it); a
        forced void says so in the reason and in its event."""
        reason = (reason or "").strip()
        if not reason:
            raise LedgerError("作废文号必须写明原因")
        with self._write() as db:
            row = self._require(db, reference)
            if row["stage"] == VOIDED:
                raise LedgerError(f"{row['reference']} 已于 {row['voided_at']} 由 {row['voided_by']} 作废"
                                  f"（原因：{row['void_reason']}）")
            code = row["archive_code"]
            extra = {}
            if code:
                if not force:
                    raise LedgerError(f"{row['reference']} 已整理归档（档号 {code}），作废会使 {row['year']} 年度的"
                                      "四性检测不通过；确需作废请加 --force，并在原因中写明为何作废已归档的文件")
                reason = f"{reason}（已编档号 {code}，强制作废）"
                extra = {"forced": True, "archive_code": code}
            when = _iso(self._clock())
            db.execute("UPDATE documents SET stage = ?, void_reason = ?, voided_at = ?, voided_by = ?,"
                       " updated_at = ? WHERE id = ?", (VOIDED, reason, when, actor, when, row["id"]))
            self._append(db, VOIDED, actor, row["reference"],
                         {"from": row["stage"], "reason": reason, **extra,
                          "register": self._snapshot(db, row["id"])})
            return self._number(row)

    def record_seal_use(self, reference: str, *, seal_name: str, copies: int | None, handler: str,
                        approver: str | None, note: str = "") -> int:
        """One line of the 用印登记 for a numbered document; returns its 序号 (row id)."""
        if not seal_name:
            raise LedgerError("用印登记须写明印章名称")
        if not handler:
            raise LedgerError("用印登记须写明经办人")
        with self._write() as db:
            row = self._require(db, reference)
            if row["stage"] in (VOIDED, RESERVED):
                raise LedgerError(f"{row['reference']} 是“{STAGE_NAMES[row['stage']]}”状态，不能用印")
            cur = db.execute("INSERT INTO seal_uses (used_at, seal_name, document_id, reference, title,"
                             " copies, handler, approver, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (_iso(self._clock()), seal_name, row["id"], row["reference"], row["title"],
                              copies, handler, approver, note or None))
            seal = _row_dict(db.execute("SELECT * FROM seal_uses WHERE id = ?",
                                        (cur.lastrowid,)).fetchone())
            self._append(db, "seal_used", handler, row["reference"], {"seal_register": seal})
            assert cur.lastrowid is not None  # an INSERT sets lastrowid
            return cur.lastrowid

    def set_archive_code(self, reference: str, archive_code: str, *, actor: str) -> None:
        """Record the 档号 given at year end (DA/T 22 5.4) for a finished document."""
        if not archive_code:
            raise LedgerError("档号不能为空")
        with self._write() as db:
            row = self._require(db, reference)
            if row["stage"] != "indexed":
                raise LedgerError(f"{row['reference']} 是“{STAGE_NAMES[row['stage']]}”状态，"
                                  "只有办结（已发）的文件才编档号")
            if row["archive_code"] == archive_code:
                return
            db.execute("UPDATE documents SET archive_code = ?, updated_at = ? WHERE id = ?",
                       (archive_code, _iso(self._clock()), row["id"]))
            self._append(db, "archived", actor, row["reference"],
                         {"previous": row["archive_code"], "register": self._snapshot(db, row["id"])})

    def log(self, event: str, *, actor: str, reference: str | None = None,
            detail: dict | None = None) -> None:
        """Append any other event (a retry, a resume, a rejected draft …) to the chain."""
        if not event or event in STATE_EVENTS or event in ("duplicate", ANCHORED):
            raise ValueError(f"event {event!r} is recorded by its own Ledger method")
        detail = dict(detail or {})
        if any(k in detail for k in _SNAPSHOT_KEYS):
            raise ValueError(f"detail keys {_SNAPSHOT_KEYS} are reserved for register snapshots")
        with self._write() as db:
            self._append(db, event, actor, reference, detail)

    def anchor(self, reference: str | None, anchor: dict, *, actor: str, reason: str,
               subject: str | None = None) -> int:
        """Fix a record's content in the chain: ``anchor`` holds the digests of its metadata file and
        its files (archive.record_anchor). Also for what belongs to no single 文号 (a year's 整理方案
        and 目录): then ``reference`` is None and ``subject`` names it. Returns the event id."""
        if not reason:
            raise ValueError("an anchor needs its reason")
        if (reference is None) == (subject is None):
            raise ValueError("give either a reference or a subject")
        detail = {"anchor": anchor, "reason": reason, **({"subject": subject} if subject else {})}
        with self._write() as db:
            return self._append(db, ANCHORED, actor, reference, detail)

    def anchors(self, reference: str | None = None) -> dict[str, list[Anchor]]:
        """Every anchor by reference (or subject), oldest first: the "filed" stage's and those of
        ``anchor``. Anchors in any other event's detail are not anchors."""
        marks = ", ".join("?" * len(ANCHOR_EVENTS))
        sql, args = f"SELECT * FROM events WHERE event IN ({marks})", list(ANCHOR_EVENTS)
        if reference is not None:
            sql += " AND (reference = ? OR (reference IS NULL AND json_extract(detail, '$.subject') = ?))"
            args += [reference, reference]
        out: dict[str, list[Anchor]] = {}
        with self._read() as db:
            for r in db.execute(sql + " ORDER BY id", args):
                try:
                    detail = json.loads(r["detail"])
                except ValueError:
                    continue
                if not isinstance(detail, dict) or not isinstance(detail.get("anchor"), dict):
                    continue
                key = r["reference"] or detail.get("subject")
                if key:
                    reason = detail.get("reason") or ("归档" if r["event"] in FILING_EVENTS else r["event"])
                    out.setdefault(key, []).append(Anchor(r["id"], r["time"], r["actor"], r["event"], reason,
                                                          detail["anchor"]))
        return out

    # -- other registers (books) ---------------------------------------------------------------------------

    def open_book(self, book: Book) -> None:
        """Create the book's tables if this ledger has none yet and list it, so that ``verify`` replays
        its rows even when the module that owns it is not loaded."""
        with self._write() as db:
            db.execute("CREATE TABLE IF NOT EXISTS books (name TEXT PRIMARY KEY, label TEXT NOT NULL,"
                       " series TEXT) WITHOUT ROWID")
            if "columns" not in {r["name"] for r in db.execute("PRAGMA table_info(books)")}:
                db.execute("ALTER TABLE books ADD COLUMN columns TEXT")     # ledgers from before Book.columns
            for stmt in book.schema.split(";\n"):
                if stmt.strip():
                    db.execute(stmt)
            db.execute("INSERT INTO books (name, label, series, columns) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO "
                       "UPDATE SET label = excluded.label, series = excluded.series, columns = excluded.columns",
                       (book.table, book.label, book.series,
                        json.dumps(dict(book.columns), ensure_ascii=False) if book.columns else None))

    @contextmanager
    def book_write(self) -> Iterator[BookWriter]:
        """One write transaction for a book's owner: numbers, rows and their events commit together."""
        with self._write() as db:
            yield BookWriter(self, db)

    @contextmanager
    def book_read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read of the book tables (rows are ``sqlite3.Row``)."""
        with self._read() as db:
            yield db

    def _books(self, db) -> dict[str, tuple[str, str | None]]:
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'books'").fetchone() is None:
            return {}
        return {r["name"]: (r["label"], r["series"]) for r in db.execute("SELECT * FROM books")}

    @staticmethod
    def _book_columns(db) -> dict[str, dict[str, str]]:
        """Each book's Chinese column names as its owner declared them (Book.columns)."""
        out = {}
        try:
            rows = db.execute("SELECT name, columns FROM books").fetchall()
        except sqlite3.OperationalError:       # no books table, or one from before Book.columns
            return {}
        for r in rows:
            try:
                names = json.loads(r["columns"]) if r["columns"] else {}
            except ValueError:
                names = {}
            out[r["name"]] = {str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else {}
        return out

    # -- reading ------------------------------------------------------------------------------------------

    def _number(self, row: sqlite3.Row) -> Number:
        return Number(series=row["series"], year=row["year"], seq=row["seq"],
                      text=row["number_text"], reference=row["reference"])

    def _doc(self, row: sqlite3.Row) -> DocumentRow:
        return DocumentRow(
            id=row["id"], number=self._number(row), stage=row["stage"], content_hash=row["content_hash"],
            registered_at=row["registered_at"], reserved_at=row["reserved_at"], title=row["title"],
            kind=row["kind"],
            doc_date=dt.date.fromisoformat(row["doc_date"]) if row["doc_date"] else None,
            secrecy=row["secrecy"], urgency=row["urgency"], signers=_split(row["signers"], "、"),
            signed_on=dt.date.fromisoformat(row["signed_on"]) if row["signed_on"] else None,
            drafter_unit=row["drafter_unit"], drafter=row["drafter"], main_to=row["main_to"],
            cc=row["cc"], copies=row["copies"], attachments=_split(row["attachments"], "；"),
            issuers=_split(row["issuers"], "、"), source=row["source"], note=row["note"], archive_code=row["archive_code"],
            void_reason=row["void_reason"], voided_at=row["voided_at"], voided_by=row["voided_by"],
            updated_at=row["updated_at"])

    def document(self, reference: str) -> DocumentRow | None:
        """A document by its reference (or printed number when unambiguous); None for anything else,
        including text that is no 发文字号 at all (a caller may be trying a 档号)."""
        try:
            with self._read() as db:
                row = self._resolve(db, reference)
        except LedgerError:
            return None
        return self._doc(row) if row is not None else None

    def years(self) -> list[int]:
        """The years that have 发文登记簿 rows, ascending."""
        with self._read() as db:
            return [r[0] for r in db.execute("SELECT DISTINCT year FROM documents ORDER BY year")]

    def pending(self) -> list[DocumentRow]:
        """Documents numbered but not finished (to resume after a crash), oldest first."""
        marks = ", ".join("?" * (len(STAGES) - 1))
        with self._read() as db:
            rows = db.execute(f"SELECT * FROM documents WHERE stage IN ({marks}) ORDER BY id",
                              STAGES[:-1]).fetchall()
        return [self._doc(r) for r in rows]

    def documents(self, year: int | None = None, series: str | None = None) -> list[DocumentRow]:
        """All register rows, ordered by series (config order), year and sequence number."""
        where: list[str] = []
        args: list[object] = []
        if year is not None:
            where.append("year = ?")
            args.append(year)
        if series is not None:
            where.append("series = ?")
            args.append(series)
        sql = "SELECT * FROM documents" + (f" WHERE {' AND '.join(where)}" if where else "")
        with self._read() as db:
            rows = [self._doc(r) for r in db.execute(sql, args).fetchall()]
        order = {s: i for i, s in enumerate(self.config.series)}
        rows.sort(key=lambda d: (order.get(d.number.series, len(order)), d.number.series,
                                 d.number.year, d.number.seq))
        return rows

    def register(self, year: int | None = None, series: str | None = None) -> list[RegisterRow]:
        """The 发文登记簿 rows; 顺序号 runs 1… over the listing."""
        out = []
        for i, d in enumerate(self.documents(year, series), 1):
            note = d.note or ""
            if d.stage == VOIDED:
                note = (f"作废：{d.void_reason}（{d.voided_by}，{(d.voided_at or '')[:16].replace('T', ' ')}）"
                        + (f"；{d.note}" if d.note else ""))
            elif d.reserved_at and d.stage != RESERVED:
                note = (note + "；" if note else "") + f"预留于 {d.reserved_at[:10]}"
            out.append(RegisterRow(
                seq_no=i, registered=d.registered_at[:10], number=d.reference, issuers="、".join(d.issuers),
                title=d.title or "",
                kind=d.kind or "",
                secrecy_urgency="/".join(x for x in (d.secrecy, d.urgency) if x),
                signers="、".join(d.signers), signed_on=_signed_on(d), drafter="/".join(x for x in (d.drafter_unit, d.drafter) if x),
                main_to=d.main_to or "", cc=d.cc or "", copies=d.copies,
                attachments="；".join(d.attachments), status=d.status, archive_code=d.archive_code or "",
                note=note))
        return out

    def seal_register(self, year: int | None = None) -> list[SealRow]:
        """The 用印登记 rows (by time of use), optionally for one calendar year of use."""
        sql, args = "SELECT * FROM seal_uses", ()  # type: str, tuple[str, ...]
        if year is not None:
            sql, args = sql + " WHERE substr(used_at, 1, 4) = ?", (f"{year:04d}",)
        with self._read() as db:
            rows = db.execute(sql + " ORDER BY id", args).fetchall()
        return [SealRow(seq_no=i, used_at=r["used_at"][:16].replace("T", " "), seal_name=r["seal_name"],
                        number=r["reference"], title=r["title"] or "", copies=r["copies"],
                        handler=r["handler"], approver=r["approver"] or "", note=r["note"] or "")
                for i, r in enumerate(rows, 1)]

    def events(self, reference: str | None = None) -> list[Event]:
        sql, args = "SELECT * FROM events", ()  # type: str, tuple[str, ...]
        if reference is not None:
            sql, args = sql + " WHERE reference = ?", (reference,)
        with self._read() as db:
            rows = db.execute(sql + " ORDER BY id", args).fetchall()
        return [Event(id=r["id"], time=r["time"], actor=r["actor"], event=r["event"],
                      reference=r["reference"], detail=json.loads(r["detail"]),
                      algorithm=r["algorithm"], prev_hash=r["prev_hash"], hash=r["hash"]) for r in rows]

    def counters(self, year: int) -> dict[str, int]:
        """The next sequence number of each series in ``year``: numbers 1…n-1 were issued."""
        with self._read() as db:
            return {r["series"]: r["next_seq"] for r in db.execute(
                "SELECT series, next_seq FROM counters WHERE year = ? ORDER BY series", (year,))}

    def check_numbers(self, year: int | None = None) -> list[str]:
        """漏号 and counter problems: every number 1..counter-1 of each (series, year) must be a row."""
        problems = []
        with self._read() as db:
            book_series = {s: name for name, (_, s) in self._books(db).items() if s}
            counters = [tuple(r) for r in db.execute("SELECT series, year, next_seq FROM counters ORDER BY series, year")
                        if year is None or r["year"] == year]
            for series, y, next_seq in counters:
                table = book_series.get(series, "documents")
                seqs = sorted(r[0] for r in db.execute(
                    f"SELECT seq FROM {table} WHERE series = ? AND year = ?", (series, y)))
                missing = sorted(set(range(1, next_seq)) - set(seqs))
                if missing:
                    shown = "、".join(str(s) for s in missing[:20]) + ("…" if len(missing) > 20 else "")
                    problems.append(f"{series} {y}年 缺少第 {shown} 号的登记（漏号）")
                if seqs and seqs[-1] >= next_seq:
                    problems.append(f"{series} {y}年 计数器为 {next_seq}，但已登记到 {seqs[-1]} 号")
            orphans = db.execute("SELECT DISTINCT d.series, d.year FROM documents d LEFT JOIN counters c"
                                 " ON c.series = d.series AND c.year = d.year WHERE c.series IS NULL")
            for r in orphans:
                if year is None or r["year"] == year:
                    problems.append(f"{r['series']} {r['year']}年 有登记但没有计数器")
        return problems

    # -- verification -------------------------------------------------------------------------------------

    def verify(self) -> ChainReport:
        """Re-walk the event chain and replay it against the register tables. Names the first broken
        row: an edited, deleted or reordered event; a register or seal row that differs from what its
        events recorded (an edited title), is missing, or has no event; a counter that was changed."""
        breaks: list[Break] = []
        algorithms: set[str] = set()
        docs: dict[int, tuple[dict, int]] = {}      # id → (last snapshot, event id)
        seals: dict[int, tuple[dict, int]] = {}
        books: dict[str, dict[int, tuple[dict, int]]] = {}     # book table → id → (snapshot, event id)
        prev_hash, prev_id, count, head = GENESIS, 0, 0, None
        with self._read() as db:
            for r in db.execute("SELECT * FROM events ORDER BY id"):
                count += 1
                where = f"事件 #{r['id']}（{r['time']}，{r['event']}）"
                msg = None
                algo = r["algorithm"]
                if r["id"] != prev_id + 1:
                    msg = (f"{where} 之前缺少事件 #{prev_id + 1}"
                           + (f"–#{r['id'] - 1}" if r["id"] - 1 > prev_id + 1 else "") + "（被删除）")
                elif r["prev_hash"] != prev_hash:
                    msg = f"{where} 的前序哈希与上一行不符（上一行被改动、删除或调换了顺序）"
                elif algo not in ("sm3", "sha256"):
                    msg = f"{where} 的哈希算法“{algo}”无法识别"
                elif algo == "sm3" and not hashing.sm3_available():
                    msg = f"{where} 使用 SM3，本机 OpenSSL 不支持 SM3，无法核验"
                elif _event_hash(algo, r["id"], r["time"], r["actor"], r["event"], r["reference"],
                                 r["detail"], r["prev_hash"]) != r["hash"]:
                    msg = f"{where} 的内容与其哈希不符（该行被改动或调换了顺序）"
                if msg:
                    breaks.append(Break("events", r["id"], r["time"], r["event"], msg))
                algorithms.add(algo)
                prev_hash, prev_id, head = r["hash"], r["id"], r["hash"]
                try:
                    detail = json.loads(r["detail"])
                except ValueError:
                    continue
                if isinstance(detail, dict):
                    if isinstance(detail.get("register"), dict) and "id" in detail["register"]:
                        docs[detail["register"]["id"]] = (detail["register"], r["id"])
                    if isinstance(detail.get("seal_register"), dict) and "id" in detail["seal_register"]:
                        seals[detail["seal_register"]["id"]] = (detail["seal_register"], r["id"])
                    for table, snap in (detail.get("rows") or {}).items():
                        if isinstance(snap, dict) and "id" in snap:
                            books.setdefault(table, {})[snap["id"]] = (snap, r["id"])
            breaks += self._compare(db, "documents", docs, "登记簿")
            breaks += self._compare(db, "seal_uses", seals, "用印登记")
            listed = self._books(db)
            names = self._book_columns(db)
            for table in sorted(set(listed) | set(books)):
                label = listed.get(table, (table, None))[0]
                if table not in listed or db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'"
                                                     " AND name = ?", (table,)).fetchone() is None:
                    breaks.append(Break(table, None, None, None,
                                        f"{label}（表 {table}）被删除或除名，事件记录过它的 {len(books.get(table, {}))} 行"))
                    continue
                breaks += self._compare(db, table, books.get(table, {}), label, names.get(table))
            breaks += self._compare_counters(db, [*docs.values(), *(v for b in books.values() for v in b.values())])
            for name in _TRIGGERS:
                if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                              (name,)).fetchone() is None:
                    breaks.append(Break("events", None, None, None,
                                        f"事件表的只追加保护（触发器 {name}）被删除"))
        return ChainReport(ok=not breaks, events=count, algorithms=tuple(sorted(algorithms)), head=head,
                           breaks=tuple(breaks))

    @staticmethod
    def _compare(db, table: str, expected: dict[int, tuple[dict, int]], label: str,
                 columns: dict[str, str] | None = None) -> list[Break]:
        columns = {**COLUMN_NAMES, **(columns or {})}
        out = []
        seen = set()
        for r in db.execute(f"SELECT * FROM {table} ORDER BY id"):
            row = {k: r[k] for k in r.keys()}
            name = f"{label}第 {row['id']} 行（{row.get('reference')}）"
            seen.add(row["id"])
            if row["id"] not in expected:
                out.append(Break(table, row["id"], None, None, f"{name}没有对应的事件记录（被插入或改了行号）"))
                continue
            snap, ev = expected[row["id"]]
            diff = [k for k in sorted(set(row) | set(snap)) if row.get(k) != snap.get(k)]
            if diff:
                cols = "、".join(columns.get(k, f"“{k}”列") for k in diff)
                out.append(Break(table, row["id"], None, None, f"{name}的{cols}与事件 #{ev} 记录的不符（被改动）"))
        for id_ in sorted(set(expected) - seen):
            snap, ev = expected[id_]
            out.append(Break(table, id_, None, None,
                             f"{label}第 {id_} 行（{snap.get('reference')}）被删除（事件 #{ev} 记录过它）"))
        return out

    @staticmethod
    def _compare_counters(db, snapshots: list[tuple[dict, int]]) -> list[Break]:
        want: dict[tuple[str | None, int | None], int] = {}
        for snap, _ in snapshots:
            if snap.get("seq") is None:
                continue
            key = (snap.get("series"), snap.get("year"))
            want[key] = max(want.get(key, 1), int(snap.get("seq") or 0) + 1)
        have = {(r["series"], r["year"]): r["next_seq"]
                for r in db.execute("SELECT series, year, next_seq FROM counters")}
        out = []
        for key in sorted(set(want) | set(have), key=str):
            if want.get(key) != have.get(key):
                out.append(Break("counters", None, None, None,
                                 f"{key[0]} {key[1]}年 的计数器为 {have.get(key)}，按事件记录应为 "
                                 f"{want.get(key)}（被改动，可能导致文号重复）"))
        return out


# --- doctor ------------------------------------------------------------------------------------------

def health(config: Config, *, now: dt.datetime | None = None) -> list[Finding]:
    """Findings about the register for `gongwen doctor`; never creates a ledger that is not there."""
    area = "登记簿"
    path = ledger_path(config)
    if not path.is_file():
        return [Finding(area, "登记簿数据库", None, f"尚未建立（{path}；还没有取过文号）")]
    now = now or _now()
    try:
        ledger = Ledger(path, config)
    except Exception as e:  # noqa: BLE001 — the doctor reports every failure, whatever its kind
        return [Finding(area, "登记簿数据库", False, f"无法打开 {path}：{e}")]
    out = []
    with ledger:
        with ledger._read() as db:
            quick = [r[0] for r in db.execute("PRAGMA quick_check")]
        out.append(Finding(area, "登记簿数据库完好", quick == ["ok"], "；".join(quick)[:300]))
        rep = ledger.verify()
        out.append(Finding(area, "事件哈希链与登记簿一致", rep.ok, rep.summary()))
        gaps = ledger.check_numbers()
        out.append(Finding(area, "发文字号连续（无漏号）", not gaps, "；".join(gaps) or "各系列各年度连续"))
        stale = [d for d in ledger.pending()
                 if now - dt.datetime.fromisoformat(d.updated_at) > STALE_AFTER]
        out.append(Finding(area, "没有中断未办结的文件", not stale,
                           "；".join(f"{d.reference}停在“{STAGE_NAMES[d.stage]}”（{d.updated_at}）"
                                    for d in stale[:20])
                           + ("；重启服务即可续办，或 gongwen void 文号 --reason 作废" if stale else "")))
        old = [d for d in ledger.documents() if d.stage == RESERVED and d.number.year < now.year]
        out.append(Finding(area, "往年没有未用的预留号", not old,
                           "；".join(f"{d.reference}（预留于 {(d.reserved_at or '')[:10]}）" for d in old[:20])
                           + ("；请作废并写明原因" if old else "")))
    return out


# --- printable register ------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegisterListing:
    """One register as `gongwen register` and the 登记簿 page show it."""

    name: str                                  # 发文登记簿 / 用印登记簿
    title: str                                 # 珠晖区人民政府办公室2015年珠政发发文登记簿
    columns: tuple[tuple[str, str], ...]
    rows: list

    def xlsx_bytes(self, *, actor: str, when: dt.datetime) -> bytes:
        """The printable .xlsx, its subtitle naming the count, the time and who exported it."""
        from .sheets import register_xlsx_bytes

        return register_xlsx_bytes(title=self.title, columns=self.columns, rows=self.rows,
                                   subtitle=f"共 {len(self.rows)} 条　导出时间：{when:%Y-%m-%d %H:%M}　导出人：{actor}")


def register_listing(config: Config, year: int, series: str | None = None, *, seals: bool = False,
                     ledger: "Ledger | None" = None) -> RegisterListing:
    """The 发文登记簿 (or with ``seals`` the 用印登记) of ``year``, optionally of one series. Uses the
    open ``ledger`` when given; otherwise opens the instance's — and never creates a missing one."""
    if series and series not in config.series:
        raise LedgerError(f"没有名为“{series}”的发文系列；可用的有：{'、'.join(config.series)}")
    columns, name = (SEAL_COLUMNS, "用印登记簿") if seals else (REGISTER_COLUMNS, "发文登记簿")

    def rows_of(led: "Ledger") -> list:
        if not seals:
            return led.register(year, series)
        rows = led.seal_register(year)
        if series:
            refs = {d.reference for d in led.documents(year=None, series=series)}
            rows = [r for r in rows if r.number in refs]
        return rows

    rows: list = []
    if ledger is not None:
        rows = rows_of(ledger)
    elif ledger_path(config).is_file():
        with Ledger.open(config) as led:
            rows = rows_of(led)
    return RegisterListing(name, f"{config.organisation.name}{year}年{series or ''}{name}", columns, rows)


@dataclass(frozen=True)
class YearFigures:
    """This year's numbers for an office's 工作总结: what was issued (已发, not voided) per series and
    per 文种, the 纪要 among them, 用印 uses, and documents given a 档号."""

    year: int
    issued: int
    by_series: dict[str, int]
    by_kind: dict[str, int]
    minutes: int                    # 纪要 issued (series whose format is 纪要)
    seal_uses: int
    archived: int                   # documents with a 档号
    voided: int
    in_progress: int


def year_figures(ledger: "Ledger", year: int) -> YearFigures:
    docs = ledger.documents(year)
    done = [d for d in docs if d.stage == "indexed"]
    by_series: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    for d in done:
        by_series[d.number.series] = by_series.get(d.number.series, 0) + 1
        by_kind[d.kind or "（未注明）"] = by_kind.get(d.kind or "（未注明）", 0) + 1
    minutes_series = {k for k, s in ledger.config.series.items() if s.format == "纪要"}
    return YearFigures(
        year=year, issued=len(done), by_series=by_series,
        by_kind=dict(sorted(by_kind.items(), key=lambda kv: -kv[1])),
        minutes=sum(1 for d in done if d.number.series in minutes_series),
        seal_uses=len(ledger.seal_register(year)),
        archived=sum(1 for d in done if d.archive_code),
        voided=sum(1 for d in docs if d.stage == VOIDED),
        in_progress=sum(1 for d in docs if d.pending))


def _columns_fields_match() -> None:
    """Guard against the column tables and the row dataclasses drifting apart (import-time check)."""
    assert tuple(f for f, _ in REGISTER_COLUMNS) == tuple(f.name for f in fields(RegisterRow))
    assert tuple(f for f, _ in SEAL_COLUMNS) == tuple(f.name for f in fields(SealRow))


_columns_fields_match()
