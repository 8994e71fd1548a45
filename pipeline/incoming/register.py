"""The 收文登记簿: one ``ledger.Book`` in the ledger's database — 收文号 from the shared counters
inside the same ``BEGIN IMMEDIATE`` transaction as the row, every change chained with who and when
(``BookWriter.record``), replayed by ``Ledger.verify`` like the 发文登记簿.

A row goes through two tracks:
- its filing (``stage``): registered (收文号 taken) → filed (record in the archive) → indexed; a
  crash in between resumes when the same file is received again;
- its handling (``state``, 条例 art. 24): 待办 → 办理中 (拟办 / 批办) → 已办结 (办理结果, 复文号).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from dataclasses import dataclass, fields
from typing import Iterable

from ..config import Config
from ..drafts import patterns as P
from ..errors import IncomingError
from ..ledger import Book, Ledger

STAGES = ("registered", "filed", "indexed")
STAGE_NAMES = {"registered": "已登记", "filed": "已归档", "indexed": "已编入检索"}
WAITING, HANDLING, DONE = "待办", "办理中", "已办结"
TABLE = "incoming"

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
  id INTEGER PRIMARY KEY,
  series TEXT NOT NULL, year INTEGER NOT NULL, seq INTEGER NOT NULL CHECK (seq >= 1),
  reference TEXT NOT NULL UNIQUE,
  received_at TEXT NOT NULL,
  stage TEXT NOT NULL, state TEXT NOT NULL,
  file_hash TEXT NOT NULL, text_hash TEXT, source_name TEXT, format TEXT, method TEXT, pages INTEGER,
  sender TEXT, sender_number TEXT, number_key TEXT, title TEXT, main_to TEXT, doc_date TEXT, kind TEXT,
  secrecy TEXT, urgency TEXT, attachments TEXT, copies INTEGER, deadline TEXT,
  lead_unit TEXT, opinion TEXT, opinion_by TEXT, opinion_at TEXT,
  instructions TEXT NOT NULL DEFAULT '[]',
  result TEXT, reply_ref TEXT, done_at TEXT, done_by TEXT,
  archive_code TEXT, registrar TEXT NOT NULL, duplicate_of TEXT, note TEXT,
  updated_at TEXT NOT NULL,
  UNIQUE (series, year, seq));
CREATE INDEX IF NOT EXISTS {TABLE}_file_hash ON {TABLE}(file_hash);
CREATE INDEX IF NOT EXISTS {TABLE}_text_hash ON {TABLE}(text_hash);
CREATE INDEX IF NOT EXISTS {TABLE}_number_key ON {TABLE}(number_key);
CREATE INDEX IF NOT EXISTS {TABLE}_reply ON {TABLE}(reply_ref)"""

# 收文登记簿 columns (standards.md §6.2, 条例 art. 24), field → heading; order = IncomingRow.
COLUMNS = (
    ("seq_no", "序号"), ("reference", "收文号"), ("received", "收文时间"), ("sender", "来文机关"),
    ("number", "来文字号"), ("title", "标题"), ("copies", "份数"), ("secrecy_urgency", "密级/紧急程度"),
    ("attachments", "附件"), ("deadline", "时限"), ("lead_unit", "承办单位"), ("opinion", "拟办意见"),
    ("instructions", "批办意见"), ("result", "办理结果"), ("reply", "复文号"), ("done", "办结日期"),
    ("status", "状态"), ("archive_code", "档号"), ("registrar", "登记人"), ("note", "备注"),
)


# The table's columns by their Chinese names (how Ledger.verify names an edited one).
COLUMN_NAMES = (
    ("id", "行号"), ("series", "收文代字"), ("year", "年份"), ("seq", "顺序号"), ("reference", "收文号"),
    ("received_at", "收文时间"), ("stage", "归档状态"), ("state", "办理状态"), ("file_hash", "文件摘要"),
    ("text_hash", "文字摘要"), ("source_name", "原文件名"), ("format", "文件格式"), ("method", "读取方式"),
    ("pages", "页数"), ("sender", "来文机关"), ("sender_number", "来文字号"), ("number_key", "来文字号比对键"),
    ("title", "标题"), ("main_to", "主送"), ("doc_date", "成文日期"), ("kind", "文种"), ("secrecy", "密级"),
    ("urgency", "紧急程度"), ("attachments", "附件"), ("copies", "份数"), ("deadline", "时限"),
    ("lead_unit", "承办单位"), ("opinion", "拟办意见"), ("opinion_by", "拟办人"), ("opinion_at", "拟办时间"),
    ("instructions", "批办意见"), ("result", "办理结果"), ("reply_ref", "复文号"), ("done_at", "办结日期"),
    ("done_by", "办结人"), ("archive_code", "档号"), ("registrar", "登记人"), ("duplicate_of", "重复于"),
    ("note", "备注"), ("updated_at", "更新时间"),
)


def book_for(config: Config) -> Book:
    return Book(table=TABLE, label="收文登记簿", schema=_SCHEMA, series=config.incoming.series,
                columns=COLUMN_NAMES)


def format_reference(config: Config, year: int, seq: int) -> str:
    return config.incoming.number.format(year=year, seq=seq)


def text_hash(text: str) -> str:
    """Identity of a document's words, whatever file carried them: NFKC, no whitespace."""
    import hashlib

    norm = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Instruction:
    """One 批办意见 (领导批示): who, what, when, who recorded it, and the 督办件 it created."""

    leader: str
    text: str
    date: str                 # ISO date of the 批示
    recorded_by: str
    recorded_at: str
    supervise: str | None = None      # 督办编号, when the 批示 assigned work
    lead_unit: str | None = None      # the unit it assigned the work to

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in ("leader", "text", "date", "recorded_by", "recorded_at",
                                              "supervise", "lead_unit")}


@dataclass(frozen=True)
class Incoming:
    """One row of the 收文登记簿 as stored (what the library, the CLI and the web page use)."""

    id: int
    reference: str            # 收文号
    year: int
    seq: int
    received_at: str          # 收文日期 and time, ISO
    stage: str
    state: str
    file_hash: str
    text_hash: str | None
    source_name: str | None
    format: str | None
    method: str | None
    pages: int | None
    sender: str | None        # 来文机关
    sender_number: str | None  # 来文字号
    title: str | None
    main_to: str | None
    doc_date: dt.date | None  # 成文日期
    kind: str | None          # 文种
    secrecy: str | None
    urgency: str | None
    attachments: tuple[str, ...]
    copies: int | None
    deadline: dt.date | None  # 时限
    lead_unit: str | None     # 承办单位
    opinion: str | None       # 拟办意见
    opinion_by: str | None
    opinion_at: str | None
    instructions: tuple[Instruction, ...]
    result: str | None        # 办理结果
    reply_ref: str | None     # 复文号
    done_at: str | None
    done_by: str | None
    archive_code: str | None
    registrar: str
    duplicate_of: str | None
    note: str | None
    updated_at: str

    def overdue(self, today: dt.date) -> bool:
        return self.state != DONE and self.deadline is not None and today > self.deadline

    @property
    def pending(self) -> bool:
        return self.state != DONE

    def status(self, today: dt.date | None = None) -> str:
        if today is not None and self.overdue(today):
            return f"{self.state}（逾期）"
        return self.state

    def missing(self) -> list[str]:
        need = (("sender", "来文机关"), ("sender_number", "来文字号"), ("title", "标题"), ("doc_date", "成文日期"))
        return [name for attr, name in need if not getattr(self, attr)]

    def to_json(self, today: dt.date | None = None) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        for k in ("doc_date", "deadline"):
            d[k] = d[k].isoformat() if d[k] else None
        d["attachments"] = list(self.attachments)
        d["instructions"] = [i.to_json() for i in self.instructions]
        d["status"] = self.status(today)
        d["overdue"] = self.overdue(today) if today else False
        d["missing"] = self.missing()
        return d


@dataclass(frozen=True)
class IncomingRow:
    """A printed row of the 收文登记簿; field order = COLUMNS."""

    seq_no: int
    reference: str
    received: str
    sender: str
    number: str
    title: str
    copies: int | None
    secrecy_urgency: str
    attachments: str
    deadline: str
    lead_unit: str
    opinion: str
    instructions: str
    result: str
    reply: str
    done: str
    status: str
    archive_code: str
    registrar: str
    note: str


assert tuple(f for f, _ in COLUMNS) == tuple(f.name for f in fields(IncomingRow))


def _date(v: str | None) -> dt.date | None:
    return dt.date.fromisoformat(v[:10]) if v else None


def _row(r) -> Incoming:
    instr = tuple(Instruction(**{k: i.get(k) for k in ("leader", "text", "date", "recorded_by", "recorded_at",
                                                         "supervise", "lead_unit")})
                  for i in json.loads(r["instructions"] or "[]"))
    return Incoming(
        id=r["id"], reference=r["reference"], year=r["year"], seq=r["seq"], received_at=r["received_at"],
        stage=r["stage"], state=r["state"], file_hash=r["file_hash"], text_hash=r["text_hash"],
        source_name=r["source_name"], format=r["format"], method=r["method"], pages=r["pages"],
        sender=r["sender"], sender_number=r["sender_number"], title=r["title"], main_to=r["main_to"],
        doc_date=_date(r["doc_date"]), kind=r["kind"], secrecy=r["secrecy"], urgency=r["urgency"],
        attachments=tuple(a for a in (r["attachments"] or "").split("；") if a), copies=r["copies"],
        deadline=_date(r["deadline"]), lead_unit=r["lead_unit"], opinion=r["opinion"],
        opinion_by=r["opinion_by"], opinion_at=r["opinion_at"], instructions=instr, result=r["result"],
        reply_ref=r["reply_ref"], done_at=r["done_at"], done_by=r["done_by"], archive_code=r["archive_code"],
        registrar=r["registrar"], duplicate_of=r["duplicate_of"], note=r["note"], updated_at=r["updated_at"])


def deadline_for(config: Config, urgency: str | None, received: dt.date) -> dt.date | None:
    """时限 of an urgent document: the configured days after the 收文日期 (None when not urgent)."""
    days = config.incoming.time_limits.get(urgency or "")
    return received + dt.timedelta(days=days) if days is not None else None


@dataclass(frozen=True)
class Duplicate:
    """An earlier 收文 that is the same document: how it was recognised (Chinese)."""

    row: Incoming
    how: str          # 文件内容完全相同 / 正文相同 / 来文字号相同
    same_file: bool


class IncomingRegister:
    """The 收文登记簿 of one instance: every read and change goes through the ledger's book API."""

    def __init__(self, ledger: Ledger, config: Config):
        self.ledger, self.config = ledger, config
        self.book = book_for(config)
        self._opened = False

    def _open(self) -> None:
        """Create the book's tables on the first write (a listing never creates them)."""
        if not self._opened:
            self.ledger.open_book(self.book)
            self._opened = True

    # --- reading -------------------------------------------------------------------------------
    def _one(self, db, ident: str):
        ident = ident.strip()
        r = db.execute(f"SELECT * FROM {TABLE} WHERE reference = ?", (ident,)).fetchone()
        if r is not None:
            return r
        m = re.fullmatch(r"(?:(\d{4})\s*[-/年]\s*)?(\d{1,6})(?:号)?", ident)
        if m:
            year = int(m[1]) if m[1] else self.ledger.now().year
            return db.execute(f"SELECT * FROM {TABLE} WHERE year = ? AND seq = ?", (year, int(m[2]))).fetchone()
        m = re.search(r"[〔\[【(（［]\s*(\d{4})\s*[〕\]】)）］]\s*(\d+)\s*号?$", P.squeeze(ident))
        if m:
            return db.execute(f"SELECT * FROM {TABLE} WHERE year = ? AND seq = ?", (int(m[1]), int(m[2]))).fetchone()
        return None

    def get(self, ident: str) -> Incoming | None:
        """A 收文 by its 收文号 (收〔2015〕3号), or "2015-3", or "3" (this year)."""
        with self.ledger.book_read() as db:
            if not _exists(db):
                return None
            r = self._one(db, ident)
        return _row(r) if r is not None else None

    def require(self, ident: str) -> Incoming:
        row = self.get(ident)
        if row is None:
            raise IncomingError(f"收文登记簿中没有 {ident}")
        return row

    def all(self, year: int | None = None) -> list[Incoming]:
        return read_rows(self.ledger, year)

    def listing(self, year: int | None = None, *, pending: bool = False, overdue: bool = False,
                today: dt.date | None = None) -> list[Incoming]:
        """收文 of a year (or all), optionally only those not 办结 or past their 时限."""
        today = today or self.ledger.now().date()
        rows = self.all(year)
        if pending:
            rows = [r for r in rows if r.pending]
        if overdue:
            rows = [r for r in rows if r.overdue(today)]
        return rows

    def unfinished_filing(self) -> list[Incoming]:
        return [r for r in self.all() if r.stage != "indexed"]

    def answered_by(self, reply_ref: str) -> list[Incoming]:
        """The 收文 a 发文 answers (its 复文号 recorded at 办结): the other way of the link."""
        return answered_by(self.ledger, reply_ref)

    def find_duplicate(self, *, file_hash: str, text_hash_: str | None, number_key: str | None,
                       sender: str | None) -> Duplicate | None:
        with self.ledger.book_read() as db:
            if not _exists(db):
                return None
            r = db.execute(f"SELECT * FROM {TABLE} WHERE file_hash = ? ORDER BY id LIMIT 1", (file_hash,)).fetchone()
            if r is not None:
                return Duplicate(_row(r), "文件内容完全相同", True)
            if text_hash_:
                r = db.execute(f"SELECT * FROM {TABLE} WHERE text_hash = ? ORDER BY id LIMIT 1",
                               (text_hash_,)).fetchone()
                if r is not None:
                    return Duplicate(_row(r), "正文相同", False)
            if number_key:
                for r in db.execute(f"SELECT * FROM {TABLE} WHERE number_key = ? ORDER BY id", (number_key,)):
                    # the same 文号 from another organ is another document (代字 can repeat across regions)
                    if not sender or not r["sender"] or P.squeeze(sender) == P.squeeze(r["sender"]):
                        return Duplicate(_row(r), f"来文字号相同（{r['sender_number']}）", False)
        return None

    def register_rows(self, year: int | None = None, today: dt.date | None = None) -> list[IncomingRow]:
        today = today or self.ledger.now().date()
        out = []
        for i, r in enumerate(self.all(year), 1):
            instr = "；".join(f"{x.text}（{x.leader}，{x.date}）" + (f"→督办 {x.supervise}" if x.supervise else "")
                             for x in r.instructions)
            note = "；".join(x for x in (
                r.note or "", f"与 {r.duplicate_of} 重复，经确认另行登记" if r.duplicate_of else "",
                f"待补：{'、'.join(r.missing())}" if r.missing() else "") if x)
            opinion = f"{r.opinion}（{r.opinion_by}，{(r.opinion_at or '')[:10]}）" if r.opinion else ""
            out.append(IncomingRow(
                seq_no=i, reference=r.reference, received=r.received_at[:16].replace("T", " "),
                sender=r.sender or "", number=r.sender_number or "", title=r.title or "", copies=r.copies,
                secrecy_urgency="/".join(x for x in (r.secrecy, r.urgency) if x),
                attachments="；".join(r.attachments), deadline=r.deadline.isoformat() if r.deadline else "",
                lead_unit=r.lead_unit or "", opinion=opinion, instructions=instr, result=r.result or "",
                reply=r.reply_ref or "", done=(r.done_at or "")[:10], status=r.status(today),
                archive_code=r.archive_code or "", registrar=r.registrar, note=note))
        return out

    # --- writing -------------------------------------------------------------------------------
    def _update(self, ident: str, event: str, actor: str, sets: dict, detail: dict | None = None,
                check=None) -> Incoming:
        self._open()
        with self.ledger.book_write() as w:
            r = self._one(w, ident)
            if r is None:
                raise IncomingError(f"收文登记簿中没有 {ident}")
            if check is not None:
                check(_row(r))
            sets = {**sets, "updated_at": w.now}
            w.execute(f"UPDATE {TABLE} SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                      (*sets.values(), r["id"]))
            w.record(event, actor=actor, book=self.book, row_id=r["id"], reference=r["reference"],
                     detail=detail or {})
            return _row(w.execute(f"SELECT * FROM {TABLE} WHERE id = ?", (r["id"],)).fetchone())

    def register(self, *, year: int, received_at: str, file_hash: str, text_hash_: str | None,
                 source_name: str, format_: str, method: str, pages: int | None, elements, copies: int | None,
                 actor: str, duplicate_of: str | None = None, note: str | None = None) -> Incoming:
        """登记: take the next 收文号 and write the row, in one transaction."""
        received = dt.date.fromisoformat(received_at[:10])
        urgency = elements.urgency
        deadline = deadline_for(self.config, urgency, received)
        self._open()
        with self.ledger.book_write() as w:
            seq = w.next_seq(self.book, year)
            ref = format_reference(self.config, year, seq)
            cols = {
                "series": self.book.series, "year": year, "seq": seq, "reference": ref, "received_at": received_at,
                "stage": "registered", "state": WAITING, "file_hash": file_hash, "text_hash": text_hash_,
                "source_name": source_name, "format": format_, "method": method, "pages": pages,
                "sender": elements.sender, "sender_number": elements.number,
                "number_key": P.number_key(elements.number), "title": elements.title,
                "main_to": elements.main_to, "doc_date": elements.date.isoformat() if elements.date else None,
                "kind": elements.kind, "secrecy": elements.secrecy, "urgency": urgency,
                "attachments": "；".join(elements.attachments) or None, "copies": copies,
                "deadline": deadline.isoformat() if deadline else None, "registrar": actor,
                "duplicate_of": duplicate_of, "note": note, "updated_at": w.now,
            }
            row_id = w.execute(f"INSERT INTO {TABLE} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                               tuple(cols.values())).lastrowid
            assert row_id is not None  # an INSERT sets lastrowid
            w.record("incoming_registered", actor=actor, book=self.book, row_id=row_id, reference=ref,
                     detail={"source": source_name})
            return _row(w.execute(f"SELECT * FROM {TABLE} WHERE id = ?", (row_id,)).fetchone())

    def advance(self, ident: str, stage: str, *, actor: str, detail: dict | None = None) -> Incoming:
        """Filing progress (registered → filed → indexed); the current stage again is a no-op."""
        if stage not in STAGES[1:]:
            raise ValueError(f"unknown stage {stage!r}")
        row = self.require(ident)
        if STAGES.index(row.stage) >= STAGES.index(stage):
            return row
        return self._update(ident, f"incoming_{stage}", actor, {"stage": stage}, detail)

    def route(self, ident: str, *, lead_unit: str, opinion: str, actor: str) -> Incoming:
        """拟办: the 承办单位 and the 拟办意见 (may be given again; each change is chained)."""
        lead_unit, opinion = (lead_unit or "").strip(), (opinion or "").strip()
        if not lead_unit:
            raise IncomingError("拟办须写明承办单位（--to）")
        if not opinion:
            raise IncomingError("拟办须写明拟办意见（--opinion）")

        def check(r: Incoming) -> None:
            if r.state == DONE:
                raise IncomingError(f"{r.reference} 已于 {(r.done_at or '')[:10]} 办结，不能再拟办")
        now = self.ledger.now().isoformat(timespec="seconds")
        return self._update(ident, "incoming_routed", actor, {
            "lead_unit": lead_unit, "opinion": opinion, "opinion_by": actor, "opinion_at": now, "state": HANDLING},
            check=check)

    def instruct(self, ident: str, instruction: Instruction, *, actor: str) -> Incoming:
        """批办: one more 领导批示 (a 收文 may carry several)."""
        def check(r: Incoming) -> None:
            if r.state == DONE:
                raise IncomingError(f"{r.reference} 已于 {(r.done_at or '')[:10]} 办结，不能再批办")
        row = self.require(ident)
        items = [i.to_json() for i in row.instructions] + [instruction.to_json()]
        sets = {"instructions": json.dumps(items, ensure_ascii=False), "state": HANDLING}
        if instruction.lead_unit and not row.lead_unit:
            sets["lead_unit"] = instruction.lead_unit
        return self._update(ident, "incoming_instructed", actor, sets, check=check)

    def set_supervision(self, ident: str, index: int, supervise_ref: str, *, actor: str) -> Incoming:
        """Record the 督办编号 the ``index``-th 批示 created."""
        row = self.require(ident)
        items = [i.to_json() for i in row.instructions]
        items[index]["supervise"] = supervise_ref
        return self._update(ident, "incoming_supervised", actor,
                            {"instructions": json.dumps(items, ensure_ascii=False)}, {"督办编号": supervise_ref})

    def done(self, ident: str, *, result: str, reply_ref: str | None, actor: str) -> Incoming:
        """办结. A 请示 is 办结 only with a 复文号 (the 批复 answers it); a 复文号 must be a 发文 of this
        office's 发文登记簿 (so the link holds both ways)."""
        reply_ref = (reply_ref or "").strip() or None
        result = (result or "").strip()

        def check(r: Incoming) -> None:
            if r.state == DONE:
                raise IncomingError(f"{r.reference} 已于 {(r.done_at or '')[:10]} 由 {r.done_by} 办结")
            if r.kind == "请示" and not reply_ref:
                raise IncomingError(f"{r.reference} 是请示，须有复文号方可办结（用 --reply 写明答复它的批复的发文字号）")
        resolved = None
        if reply_ref:
            doc = self.ledger.document(reply_ref)
            if doc is None:
                raise IncomingError(f"复文号 {reply_ref} 不在发文登记簿中；复文须是本机关已编号的发文")
            if doc.stage in ("voided", "reserved"):
                raise IncomingError(f"复文号 {reply_ref} 是“{doc.status}”的文号，不能作为复文")
            resolved = doc.reference
        now = self.ledger.now().isoformat(timespec="seconds")
        return self._update(ident, "incoming_done", actor, {
            "state": DONE, "result": result or ("已复文" if resolved else "已办理"), "reply_ref": resolved,
            "done_at": now, "done_by": actor}, check=check)

    def edit(self, ident: str, changes: dict, *, actor: str) -> Incoming:
        """The clerk fills in or corrects what the reader could not read (来文机关, 来文字号, 标题,
        成文日期, 主送, 文种, 紧急程度, 份数)."""
        allowed = {"sender", "sender_number", "title", "main_to", "doc_date", "kind", "urgency", "copies"}
        bad = set(changes) - allowed
        if bad:
            raise ValueError(f"cannot edit {bad}")
        if not changes:
            raise IncomingError("没有要修改的项目")
        row = self.require(ident)
        if row.archive_code:
            raise IncomingError(f"{row.reference} 已整理归档（档号 {row.archive_code}），不能再更正登记项")
        sets = dict(changes)
        if "sender_number" in sets:
            sets["number_key"] = P.number_key(sets["sender_number"])
        if "doc_date" in sets and isinstance(sets["doc_date"], dt.date):
            sets["doc_date"] = sets["doc_date"].isoformat()
        if "urgency" in sets:
            row = self.require(ident)
            d = deadline_for(self.config, sets["urgency"], dt.date.fromisoformat(row.received_at[:10]))
            sets["deadline"] = d.isoformat() if d else None
        return self._update(ident, "incoming_edited", actor, sets, {"fields": sorted(changes)})

    def set_archive_code(self, ident: str, code: str, *, actor: str) -> Incoming:
        row = self.require(ident)
        if row.archive_code == code:
            return row
        return self._update(ident, "incoming_archived", actor, {"archive_code": code},
                            {"previous": row.archive_code})


def _exists(db) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)).fetchone() is not None


def answered_by(ledger: Ledger, reply_ref: str) -> list[Incoming]:
    """The 收文 that the 发文 ``reply_ref`` answers, read without opening (creating) the book: what
    `gongwen show` and the web app's document page ask of any 发文."""
    with ledger.book_read() as db:
        if not _exists(db):
            return []
        return [_row(r) for r in db.execute(f"SELECT * FROM {TABLE} WHERE reply_ref = ? ORDER BY id", (reply_ref,))]


def read_rows(ledger: Ledger, year: int | None = None) -> list[Incoming]:
    """The 收文登记簿 (of one year), read without opening (creating) the book: for checks and pages."""
    with ledger.book_read() as db:
        if not _exists(db):
            return []
        sql, args = f"SELECT * FROM {TABLE}", ()  # type: str, tuple[int, ...]
        if year is not None:
            sql, args = sql + " WHERE year = ?", (year,)
        return [_row(r) for r in db.execute(sql + " ORDER BY year, seq", args)]


def register_listing(config: Config, year: int, *, ledger: Ledger | None = None, today: dt.date | None = None):
    """The 收文登记簿 of ``year`` as a ledger.RegisterListing (what `gongwen incoming register` prints and
    writes as .xlsx, and what a register page shows); never creates the register."""
    from ..ledger import RegisterListing, ledger_path

    rows: list = []
    if ledger is not None:
        rows = IncomingRegister(ledger, config).register_rows(year, today)
    elif ledger_path(config).is_file():
        with Ledger.open(config) as led:
            rows = IncomingRegister(led, config).register_rows(year, today)
    return RegisterListing("收文登记簿", f"{config.organisation.name}{year}年收文登记簿", COLUMNS, rows)


def rows_json(rows: Iterable[Incoming], today: dt.date) -> list[dict]:
    return [r.to_json(today) for r in rows]
