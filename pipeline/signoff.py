"""发文办理 before the number: the 清样签发登记 — each draft's 清样, its 签发 or 退回, its release to
numbering and its 复核 (条例 art. 22 and 25), kept as a ledger Book so every step is in the chain.

One row per draft on its way (a *case*), keyed by its route folder and file name, from its first
清样 until it is numbered; a corrected draft dropped under the same name is the same case, and its
new 清样 replaces the old one. The row holds the latest 清样 (the draft's *substantive* hash,
``Draft.substantive_hash``, and the file it was made from) and the latest 签发 (who, opinion, date,
会签, 代签, and the substantive hash it approved). Each change is chained with its event:

    proof (清样) → signoff (签发) | returned (退回) → released (送编号) → numbered (编号, with the 文号)

Why a Book and not the 发文登记簿 row: a 清样 and its 签发 happen before there is a number, and a
draft sent back may never get one — the 发文登记簿 holds numbers only. At numbering the register row
takes what it prints from here (签发人 with 会签, 签发日期; ``Ledger.allocate``), so the printed
register needs no join and both are replayed by ``verify``.

复核 (``recheck``) compares the draft that arrives for numbering with the content the head approved,
and names what changed; the approved content itself is kept in ``proof_contents`` keyed by its
SHA-256, so a tampered copy is detected on reading (and the hash in the chain is the authority).

The functions here are what the CLI, the watcher and the web app call; none prints.
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable

from .config import Config
from .errors import GongwenError, LedgerError
from .ledger import Book, BookWriter, Ledger, Register, RegisterListing
from .model import Draft, Problem, Signoff, substantive_hash

__all__ = [
    "BOOK", "Case", "Recheck", "Step", "TimesRow", "TIMES_COLUMNS", "STATE_NAMES", "times_listing",
    "cases", "case", "case_history", "find_case", "record_proof", "sign", "send_back", "release", "recheck",
    "mark_numbered", "proof_is_current", "handling", "times", "describe_changes", "route_key_of",
]

BOOK = Book(table="proof_cases", label="清样签发登记", schema="""
CREATE TABLE IF NOT EXISTS proof_cases (
  id INTEGER PRIMARY KEY,
  route TEXT NOT NULL, name TEXT NOT NULL, series TEXT, title TEXT,
  state TEXT NOT NULL,
  content_hash TEXT, file_hash TEXT, pdf TEXT, proof_count INTEGER NOT NULL DEFAULT 0,
  proofed_at TEXT, proofed_by TEXT,
  signer TEXT, opinion TEXT, signed_on TEXT, cosigners TEXT, delegated INTEGER NOT NULL DEFAULT 0,
  signed_hash TEXT, signed_at TEXT, signed_by TEXT,
  returned_at TEXT, returned_by TEXT, return_opinion TEXT,
  released_at TEXT, released_by TEXT,
  reference TEXT, numbered_at TEXT,
  updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS proof_cases_name ON proof_cases(route, name);
CREATE INDEX IF NOT EXISTS proof_cases_signed ON proof_cases(signed_hash);
CREATE INDEX IF NOT EXISTS proof_cases_reference ON proof_cases(reference);
CREATE TABLE IF NOT EXISTS proof_contents (hash TEXT PRIMARY KEY, content TEXT NOT NULL) WITHOUT ROWID""",
            columns=(  # how Ledger.verify names an edited column
    ("id", "稿件号"), ("route", "收稿文件夹"), ("name", "草稿文件"), ("series", "机关代字"), ("title", "标题"),
    ("state", "状态"), ("content_hash", "内容摘要"), ("file_hash", "文件摘要"), ("pdf", "清样文件"),
    ("proof_count", "清样次数"), ("proofed_at", "出清样时间"), ("proofed_by", "出清样人"), ("signer", "签发人"),
    ("opinion", "签发意见"), ("signed_on", "签发日期"), ("cosigners", "会签人"), ("delegated", "代签"),
    ("signed_hash", "签发内容摘要"), ("signed_at", "签发登记时间"), ("signed_by", "签发登记人"),
    ("returned_at", "退回时间"), ("returned_by", "退回人"), ("return_opinion", "退回意见"),
    ("released_at", "送编号时间"), ("released_by", "送编号人"), ("reference", "发文字号"),
    ("numbered_at", "编号时间"), ("updated_at", "更新时间")))

PROOFED, RETURNED, SIGNED, RELEASED, NUMBERED = "proofed", "returned", "signed", "released", "numbered"
STATE_NAMES = {PROOFED: "待签发", RETURNED: "已退回", SIGNED: "已签发", RELEASED: "已送编号", NUMBERED: "已编号"}
# The events' Chinese names (proof 清样, signoff 签发, returned 退回, released 送编号, numbered) are in
# ledger.EVENT_NAMES with every other event's.


def _case_ref(case_id: int) -> str:
    """The events of a case before it has a number are filed under this reference."""
    return f"稿件#{case_id}"


# --- the case --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One draft on its way to a number, as the clerk's and the head's views show it."""

    id: int
    route: str                      # route folder ('' for the top folder)
    name: str                       # the draft's file name
    series: str | None
    title: str | None
    state: str                      # proofed | returned | signed | released | numbered
    content_hash: str | None        # substantive hash of the latest 清样 (None: no 清样 made)
    file_hash: str | None           # SHA-256 of the file that 清样 was made from
    pdf: Path | None                # the latest 清样 (absolute)
    proof_count: int                # how many 清样 were made (稿次)
    proofed_at: str | None
    proofed_by: str | None
    signoff: Signoff | None         # the latest 签发
    signed_hash: str | None         # what that 签发 approved
    signed_at: str | None           # when it was recorded
    signed_by: str | None           # who recorded it (the head, or a clerk on the head's paper)
    returned_at: str | None
    returned_by: str | None
    return_opinion: str | None
    released_at: str | None
    released_by: str | None
    reference: str | None           # the 文号, once numbered
    numbered_at: str | None
    updated_at: str

    @property
    def state_name(self) -> str:
        if self.state == PROOFED and self.signoff is not None:
            return "待签发（签发后有改动）"
        return STATE_NAMES.get(self.state, self.state)

    @property
    def signed_current(self) -> bool:
        """The latest 签发 covers the latest 清样 (nothing changed since)."""
        return self.signoff is not None and self.signed_hash is not None and self.signed_hash == self.content_hash

    def draft_path(self, config: Config) -> Path:
        """Where the draft lies while it waits: proofs/<route>/<name>."""
        return (config.proofs / self.route if self.route else config.proofs) / self.name

    def to_json(self) -> dict:
        return {
            "id": self.id, "route": self.route, "name": self.name, "series": self.series, "title": self.title,
            "state": self.state, "state_name": self.state_name, "pdf": str(self.pdf) if self.pdf else None,
            "pdf_exists": bool(self.pdf and self.pdf.is_file()), "proof_count": self.proof_count,
            "proofed_at": self.proofed_at, "proofed_by": self.proofed_by,
            "signoff": self.signoff.to_json() if self.signoff else None, "signed_current": self.signed_current,
            "signed_at": self.signed_at, "signed_by": self.signed_by,
            "returned": ({"opinion": self.return_opinion, "by": self.returned_by, "at": self.returned_at}
                         if self.returned_at else None),
            "released_at": self.released_at, "reference": self.reference, "numbered_at": self.numbered_at,
            "content_hash": self.content_hash,
        }


def _case(row, config: Config) -> Case:
    signoff = None
    if row["signer"] and row["signed_on"]:
        signoff = Signoff(signer=row["signer"], date=dt.date.fromisoformat(row["signed_on"]),
                          opinion=row["opinion"], cosigners=tuple(json.loads(row["cosigners"] or "[]")),
                          delegated=bool(row["delegated"]))
    return Case(
        id=row["id"], route=row["route"], name=row["name"], series=row["series"], title=row["title"],
        state=row["state"], content_hash=row["content_hash"], file_hash=row["file_hash"],
        pdf=config.path(row["pdf"]) if row["pdf"] else None, proof_count=row["proof_count"],
        proofed_at=row["proofed_at"], proofed_by=row["proofed_by"], signoff=signoff,
        signed_hash=row["signed_hash"], signed_at=row["signed_at"], signed_by=row["signed_by"],
        returned_at=row["returned_at"], returned_by=row["returned_by"], return_opinion=row["return_opinion"],
        released_at=row["released_at"], released_by=row["released_by"], reference=row["reference"],
        numbered_at=row["numbered_at"], updated_at=row["updated_at"])


def _book_listed(ledger: Register) -> bool:
    with ledger.book_read() as db:
        return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                          (BOOK.table,)).fetchone() is not None


def _ensure_book(ledger: Register) -> None:
    if not _book_listed(ledger):
        ledger.open_book(BOOK)


def route_key_of(path: Path, config: Config, root: Path) -> str:
    """The route folder a draft lies in under ``root`` (proofs/ or inbox/), '' for the top folder
    or anywhere else a route folder of that name does not exist in the config."""
    parent = Path(path).absolute().parent
    if parent == root or parent.resolve() == root.resolve():
        return ""
    return parent.name if config.route_for_folder(parent.name) is not None else ""


# --- reading -----------------------------------------------------------------------------------------

def cases(ledger: Register, config: Config, *, states: Iterable[str] | None = None,
          open_only: bool = False) -> list[Case]:
    """The cases, newest first: the clerk's view (``open_only``: not yet numbered) and the head's
    (``states=("proofed",)``: 清样 waiting for a 签发). Never creates the book."""
    if not _book_listed(ledger):
        return []
    sql, args = f"SELECT * FROM {BOOK.table}", []
    where = []
    if states is not None:
        states = list(states)
        where.append(f"state IN ({', '.join('?' * len(states))})")
        args += states
    if open_only:
        where.append("state <> ?")
        args.append(NUMBERED)
    if where:
        sql += " WHERE " + " AND ".join(where)
    with ledger.book_read() as db:
        rows = db.execute(sql + " ORDER BY id DESC", args).fetchall()
    return [_case(r, config) for r in rows]


def case(ledger: Register, config: Config, case_id: int) -> Case | None:
    if not _book_listed(ledger):
        return None
    with ledger.book_read() as db:
        row = db.execute(f"SELECT * FROM {BOOK.table} WHERE id = ?", (case_id,)).fetchone()
    return _case(row, config) if row else None


def _open_row(db, route: str, name: str):
    return db.execute(f"SELECT * FROM {BOOK.table} WHERE route = ? AND name = ? AND state <> ? "
                      "ORDER BY id DESC LIMIT 1", (route, name, NUMBERED)).fetchone()


def find_case(ledger: Register, config: Config, route: str, name: str) -> Case | None:
    """The open case of the draft ``name`` in route folder ``route`` (not yet numbered)."""
    if not _book_listed(ledger):
        return None
    with ledger.book_read() as db:
        row = _open_row(db, route, name)
    return _case(row, config) if row else None


def case_for_reference(ledger: Register, config: Config, reference: str) -> Case | None:
    if not _book_listed(ledger):
        return None
    with ledger.book_read() as db:
        row = db.execute(f"SELECT * FROM {BOOK.table} WHERE reference = ? ORDER BY id DESC LIMIT 1",
                         (reference,)).fetchone()
    return _case(row, config) if row else None


def case_history(ledger: Register, config: Config, case_id: int) -> list:
    """The events of case ``case_id`` in order: its 清样, 签发, 退回, 送编号, and its 编号 (filed under
    the 文号 it got)."""
    c = case(ledger, config, case_id)
    if c is None:
        return []
    events = ledger.events(_case_ref(c.id))
    if c.reference:
        events += [e for e in ledger.events(c.reference)
                   if e.event == "numbered" and e.detail.get("稿件") == _case_ref(c.id)]
    return events


def case_events(ledger: Register, config: Config, reference: str) -> list:
    """The events of the case that became document ``reference`` (its 清样, 签发, 退回, 送编号)."""
    c = case_for_reference(ledger, config, reference)
    return ledger.events(_case_ref(c.id)) if c is not None else []


def proof_is_current(ledger: Register, config: Config, route: str, name: str, file_hash: str) -> bool:
    """True when the draft's latest 清样 was made from exactly these bytes and is still beside it."""
    c = find_case(ledger, config, route, name)
    return bool(c and c.file_hash == file_hash and c.pdf is not None and c.pdf.is_file())


def _content(db, h: str) -> dict | None:
    """The approved content stored under its hash; None when missing or not what the hash says."""
    row = db.execute("SELECT content FROM proof_contents WHERE hash = ?", (h,)).fetchone()
    if row is None:
        return None
    content = json.loads(row["content"])
    return content if substantive_hash(content) == h else None


# --- writing -----------------------------------------------------------------------------------------

def _store_content(w: BookWriter, draft: Draft) -> str:
    content = draft.substantive_content()
    h = substantive_hash(content)
    w.execute("INSERT INTO proof_contents (hash, content) VALUES (?, ?) ON CONFLICT (hash) DO NOTHING",
              (h, json.dumps(content, ensure_ascii=False, sort_keys=True)))
    return h


def _update(w: BookWriter, case_id: int, event: str, actor: str, sets: dict, *,
            reference: str | None = None, detail: dict | None = None) -> None:
    sets = {**sets, "updated_at": w.now}
    w.execute(f"UPDATE {BOOK.table} SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
              (*sets.values(), case_id))
    w.record(event, actor=actor, book=BOOK, row_id=case_id, reference=reference or _case_ref(case_id),
             detail=detail)


def _signoff_sets(signoff: Signoff, h: str, actor: str, now: str) -> dict:
    return {"signer": signoff.signer, "opinion": signoff.opinion, "signed_on": signoff.date.isoformat(),
            "cosigners": json.dumps(list(signoff.cosigners), ensure_ascii=False),
            "delegated": int(signoff.delegated), "signed_hash": h, "signed_at": now, "signed_by": actor}


def record_proof(ledger: Register, config: Config, *, route: str, name: str, draft: Draft, file_hash: str,
                 pdf: Path, actor: str) -> Case:
    """Record the 清样 made of ``draft`` (the file ``name`` with SHA-256 ``file_hash``) as ``pdf``.
    The same file recorded again (a rerun after a crash) adds nothing. A 签发 already given for the
    same substantive content still covers the new 清样; otherwise the case waits for one."""
    _ensure_book(ledger)
    rel = str(Path(pdf).relative_to(config.base)) if Path(pdf).is_relative_to(config.base) else str(pdf)
    with ledger.book_write() as w:
        h = _store_content(w, draft)
        row = _open_row(w, route, name)
        detail = {"content_hash": h, "file_hash": file_hash, "pdf": rel, "title": draft.title}
        if row is not None and row["file_hash"] == file_hash and row["content_hash"] == h and row["pdf"] == rel:
            case_id = row["id"]
        elif row is None:
            now = w.now
            case_id = w.execute(
                f"INSERT INTO {BOOK.table} (route, name, series, title, state, content_hash, file_hash, pdf,"
                " proof_count, proofed_at, proofed_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)",
                (route, name, draft.series, draft.title, PROOFED, h, file_hash, rel, now, actor, now)).lastrowid
            assert case_id is not None  # an INSERT sets lastrowid
            w.record("proof", actor=actor, book=BOOK, row_id=case_id, reference=_case_ref(case_id),
                     detail={**detail, "稿次": 1})
        else:
            case_id = row["id"]
            state = SIGNED if row["signed_hash"] == h else PROOFED
            n = row["proof_count"] + 1
            _update(w, case_id, "proof", actor,
                    {"series": draft.series, "title": draft.title, "state": state, "content_hash": h,
                     "file_hash": file_hash, "pdf": rel, "proof_count": n, "proofed_at": w.now,
                     "proofed_by": actor}, detail={**detail, "稿次": n})
        return _case(w.execute(f"SELECT * FROM {BOOK.table} WHERE id = ?", (case_id,)).fetchone(), config)


def _require_open(w: BookWriter, case_id: int):
    row = w.execute(f"SELECT * FROM {BOOK.table} WHERE id = ?", (case_id,)).fetchone()
    if row is None:
        raise LedgerError(f"清样签发登记中没有第 {case_id} 号稿件")
    if row["state"] == NUMBERED:
        raise LedgerError(f"{row['name']} 已编号为 {row['reference']}，不能再签发或退回")
    return row


def _check_seen(name: str, content_hash: str | None, proof_count: int, seen_hash: str | None) -> None:
    """The case has a 清样, and it is the one the head was shown (``seen_hash``, when given)."""
    if content_hash is None:
        raise LedgerError(f"{name} 还没有清样，请先出清样再送签发")
    if seen_hash is not None and seen_hash != content_hash:
        raise LedgerError(f"{name} 的清样已更新（第 {proof_count} 稿），请看过新清样后再签发或退回")


def sign(ledger: Register, config: Config, case_id: int, signoff: Signoff, *, actor: str,
         seen_hash: str | None = None) -> Case:
    """Record the head's 签发 of the case's latest 清样. ``seen_hash``: the content hash of the 清样
    the head was shown (the web page passes it), so a 清样 replaced meanwhile is not signed unseen."""
    if not signoff.signer.strip():
        raise LedgerError("签发须写明签发人")
    _ensure_book(ledger)
    with ledger.book_write() as w:
        row = _require_open(w, case_id)
        _check_seen(row["name"], row["content_hash"], row["proof_count"], seen_hash)
        h = row["content_hash"]
        state = row["state"] if row["state"] == RELEASED else SIGNED
        _update(w, case_id, "signoff", actor, {**_signoff_sets(signoff, h, actor, w.now), "state": state},
                detail={**signoff.to_json(), "content_hash": h, "稿次": row["proof_count"]})
        return _case(w.execute(f"SELECT * FROM {BOOK.table} WHERE id = ?", (case_id,)).fetchone(), config)


def send_back(ledger: Register, config: Config, case_id: int, *, by: str, opinion: str, actor: str,
              seen_hash: str | None = None) -> Case:
    """退回: the head sends the 清样 back with an opinion; the draft stays in proofs/ for correction
    (a corrected draft makes a new 清样 on the same case)."""
    opinion = (opinion or "").strip()
    if not opinion:
        raise LedgerError("退回须写明意见（要修改什么）")
    if not (by or "").strip():
        raise LedgerError("退回须写明退回人")
    _ensure_book(ledger)
    with ledger.book_write() as w:
        row = _require_open(w, case_id)
        _check_seen(row["name"], row["content_hash"], row["proof_count"], seen_hash)
        _update(w, case_id, "returned", actor,
                {"state": RETURNED, "returned_at": w.now, "returned_by": by.strip(), "return_opinion": opinion},
                detail={"退回人": by.strip(), "意见": opinion, "content_hash": row["content_hash"],
                        "稿次": row["proof_count"]})
        return _case(w.execute(f"SELECT * FROM {BOOK.table} WHERE id = ?", (case_id,)).fetchone(), config)


@dataclass(frozen=True)
class Released:
    case: Case
    draft: Path          # where the draft is now: inbox/<route>/…


def release(ledger: Register, config: Config, target: Path | int, *, actor: str,
            signoff: Signoff | None = None, seen_hash: str | None = None) -> Released:
    """送编号: move a signed-off draft (its path, or its case id as the web page has it) from
    proofs/<route>/ to inbox/<route>/, where it is numbered. ``signoff`` records the head's 签发 first
    (`gongwen release --signer …`, or the head on the web page); without it the draft must carry one
    or its 清样 must have been signed off. ``seen_hash``: the content hash of the 清样 the head was
    shown (the web page passes it): a 清样 replaced meanwhile is neither signed nor released. The draft
    must be the one its latest 清样 was made of; its 清样 and note, our own outputs, are removed from
    proofs/."""
    from . import drafts, rules
    from .fsutil import note_path, readable
    from .intake.claims import move_to_free
    from .proofs import proof_path

    if isinstance(target, int):
        found = case(ledger, config, target)
        if found is None:
            raise LedgerError(f"清样签发登记中没有第 {target} 号稿件")
        target = found.draft_path(config)
    # a path as typed (relative to the current folder, or through a link to the share) names the draft
    # in proofs/ when its folder is proofs/ or a route folder of it
    path = Path(target).absolute().parent.resolve() / Path(target).name
    root = config.proofs.resolve()
    if not path.is_file():
        raise GongwenError(f"找不到草稿 {path}")
    if path.parent != root and path.parent.parent != root:
        raise GongwenError(f"{path} 不在清样文件夹 {root} 中；只有出过清样的草稿才能送编号")
    route = route_key_of(path, config, root)
    draft = drafts.read_draft(path, config, config.route_for_folder(route) if route else None)
    draft, problems = rules.review(draft, config)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise GongwenError(f"{path.name} 有 {len(errors)} 个问题，不能送编号：" + "；".join(str(p) for p in errors))
    h = draft.substantive_hash()
    c = find_case(ledger, config, route, readable(path.name))
    if c is None or c.content_hash != h:
        raise GongwenError(f"{path.name} 还没有与其内容一致的清样（草稿在出清样后又改过？）："
                           "请等新清样生成（或用 gongwen proof）并送签发后再送编号")
    _check_seen(c.name, c.content_hash, c.proof_count, seen_hash)
    given = signoff or draft.signoff
    if given is not None and not (c.signed_current and c.signoff == given):
        c = sign(ledger, config, c.id, given, actor=actor, seen_hash=h)
    elif given is None and not c.signed_current:
        raise GongwenError(f"{path.name} 未经签发，不能送编号：请用 --signer 和 --opinion 写明签发人和签发意见，"
                           "或由领导在清样上签发")
    inbox = config.inbox / route if route else config.inbox
    moved = move_to_free(path, inbox, path.name)
    for ours in (proof_path(path), note_path(path)):
        ours.unlink(missing_ok=True)
    with ledger.book_write() as w:
        row = w.execute(f"SELECT * FROM {BOOK.table} WHERE id = ?", (c.id,)).fetchone()
        if row["state"] != NUMBERED:     # the watcher may have numbered it already
            _update(w, c.id, "released", actor, {"state": RELEASED, "released_at": w.now, "released_by": actor},
                    detail={"from": str(path), "to": str(moved)})
        row = w.execute(f"SELECT * FROM {BOOK.table} WHERE id = ?", (c.id,)).fetchone()
    return Released(case=_case(row, config), draft=moved)


# --- 复核 before the number --------------------------------------------------------------------------

@dataclass(frozen=True)
class Recheck:
    """What 复核 found: the draft with the 签发 that covers it attached (or None), the case, and the
    problems that send it back (empty: it may be numbered)."""

    draft: Draft
    case_id: int | None
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def recheck(ledger: Register, config: Config, draft: Draft, *, route: str, name: str, actor: str,
            record: bool = True) -> Recheck:
    """复核 (条例 art. 25(1)) of a reviewed draft arriving for numbering.

    - The draft carries its own 签发 (front matter, .docx properties): it covers the draft's latest
      清样, so the draft must not differ from that 清样; it is recorded (``record``).
    - Else a 签发 recorded for exactly this content (on its 清样, by `release`, in the web app).
    - Else a 签发 recorded for an earlier version of this draft: refused with what changed.
    - Else none: refused when the series has ``require_signoff`` ("未经签发，不能编号"), passed otherwise.
    Only 印发日期 and 份数 may change after 签发 (``model.AFTER_SIGNOFF_FIELDS``)."""
    h = draft.substantive_hash()
    required = bool(draft.series in config.series and config.series[draft.series].require_signoff)
    listed = _book_listed(ledger)
    open_row = signed_row = None
    before = None
    if listed:
        with ledger.book_read() as db:
            open_row = _open_row(db, route, name)
            signed_row = db.execute(f"SELECT * FROM {BOOK.table} WHERE signed_hash = ? ORDER BY "
                                    f"(state = '{NUMBERED}'), id DESC LIMIT 1", (h,)).fetchone()
            if draft.signoff is not None and open_row is not None and open_row["content_hash"] not in (None, h):
                before = ("清样", open_row, _content(db, open_row["content_hash"]))
            elif draft.signoff is None and signed_row is None and open_row is not None and open_row["signed_hash"]:
                before = ("签发", open_row, _content(db, open_row["signed_hash"]))
    if before is not None:
        what, row, content = before
        if what == "清样":
            so = draft.signoff
            assert so is not None   # a 清样 mismatch is looked for only then (above)
            lead = (f"此稿写明已于 {so.date.isoformat()} 由{so.signer}签发，但与送签的清样"
                    f"（第 {row['proof_count']} 稿，{(row['proofed_at'] or '')[:16].replace('T', ' ')}）不一致")
        else:
            lead = (f"此稿与 {row['signed_on']} {row['signer']}签发的清样不一致，签发后有实质性改动")
        lead += "，须重新出清样送原签发人审核（条例第二十五条）；只改印发日期、份数的不在此列"
        changes = (describe_changes(content, draft.substantive_content()) if content is not None
                   else [("复核", "签发时的内容记录缺失或与其摘要不符，无法列出改动（请运行 gongwen doctor）")])
        problems = (Problem("复核", lead),) + tuple(Problem(el, msg) for el, msg in changes)
        return Recheck(draft, row["id"], problems)
    if draft.signoff is not None:
        case_id = open_row["id"] if open_row is not None else None
        if record:
            case_id = _record_draft_signoff(ledger, config, draft, h, route=route, name=name, actor=actor)
        return Recheck(draft, case_id, warnings=_printed_signer(draft, config))
    if signed_row is not None:
        found = _case(signed_row, config)
        draft = replace(draft, signoff=found.signoff)
        return Recheck(draft, found.id, warnings=_printed_signer(draft, config))
    if required:
        return Recheck(draft, open_row["id"] if open_row is not None else None, (Problem(
            "签发", "未经签发，不能编号（本系列须先签发）：请把草稿放入清样文件夹出清样，送领导签发后用 gongwen release "
                    "送编号；或已在纸质发文稿纸上签发的，在草稿中写明“签发: {签发人: …, 意见: …, 日期: …}”"),))
    if open_row is not None and open_row["content_hash"] == h:
        return Recheck(draft, open_row["id"])       # its 清样, never signed off: numbered as it is
    return Recheck(draft, None)


def _printed_signer(draft: Draft, config: Config) -> tuple[Problem, ...]:
    """An 上行文 prints its 签发人 in the 版头 (GB/T 9704 7.2.6): it should name who signed it off."""
    so = draft.signoff
    if so is None or not config.is_upward(draft.kind) or not draft.signers or so.signer in draft.signers:
        return ()
    return (Problem("签发人", f"版头所列签发人「{'、'.join(draft.signers)}」与签发记录的签发人「{so.signer}」不一致，"
                              "请核对（上行文应标注实际签发的负责人）", "warning"),)


def _record_draft_signoff(ledger: Register, config: Config, draft: Draft, h: str, *, route: str, name: str,
                          actor: str) -> int:
    """The 签发 a draft carries, into the book (once: the same 签发 of the same content is not
    recorded again when a numbering is resumed)."""
    _ensure_book(ledger)
    so = draft.signoff
    assert so is not None   # called for a draft that carries its 签发
    with ledger.book_write() as w:
        _store_content(w, draft)
        row = w.execute(f"SELECT * FROM {BOOK.table} WHERE signed_hash = ? AND signer = ? AND signed_on = ? "
                        "ORDER BY id DESC LIMIT 1", (h, so.signer, so.date.isoformat())).fetchone()
        if row is not None and (row["opinion"] or None) == so.opinion:
            return row["id"]
        row = _open_row(w, route, name)
        detail = {**so.to_json(), "content_hash": h, "来源": "草稿所载"}
        if row is None:
            now = w.now
            case_id = w.execute(
                f"INSERT INTO {BOOK.table} (route, name, series, title, state, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (route, name, draft.series, draft.title, SIGNED, now)).lastrowid
            assert case_id is not None  # an INSERT sets lastrowid
            _update(w, case_id, "signoff", actor, _signoff_sets(so, h, actor, now), detail=detail)
        else:
            case_id = row["id"]
            _update(w, case_id, "signoff", actor, {**_signoff_sets(so, h, actor, w.now), "state": SIGNED},
                    detail={**detail, "稿次": row["proof_count"]})
        return case_id


def mark_numbered(ledger: Register, config: Config, case_id: int, reference: str, *, actor: str) -> None:
    """The case got its number: the 文号 goes on its row, and its 编号 event is filed under the 文号
    so the document's history carries it. Repeating it (a resumed numbering) adds nothing."""
    _ensure_book(ledger)
    with ledger.book_write() as w:
        row = w.execute(f"SELECT * FROM {BOOK.table} WHERE id = ?", (case_id,)).fetchone()
        if row is None or (row["state"] == NUMBERED and row["reference"] == reference):
            return
        _update(w, case_id, "numbered", actor, {"state": NUMBERED, "reference": reference, "numbered_at": w.now},
                reference=reference, detail={"稿件": _case_ref(case_id)})


# --- what changed -----------------------------------------------------------------------------------

# Element names of a Draft's content fields, in the order a 公文 reads (the diff names them so).
FIELD_LABELS = (
    ("kind", "文种"), ("series", "机关代字"), ("issuer", "发文机关"), ("secrecy", "密级"), ("urgency", "紧急程度"),
    ("number_text", "发文字号"), ("signers", "签发人"), ("title", "标题"), ("main_to", "主送机关"),
    ("body", "正文"), ("attachment_note", "附件说明"), ("attachments", "附件"), ("signature", "发文机关署名"),
    ("date_text", "成文日期"), ("note", "附注"), ("meeting", "会议"), ("cc", "抄送机关"), ("printer", "印发机关"),
    ("publicity", "公开属性"), ("retention", "保管期限"), ("drafter_unit", "拟稿部门"), ("drafter", "拟稿人"),
)
_SHOWN = 24     # characters of a changed passage shown on each side


def _short(text: str, n: int = _SHOWN) -> str:
    text = text or ""
    return text if len(text) <= n else text[:n] + "…"


def _value(v) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return "、".join(_value(x) for x in v)
    if isinstance(v, dict):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    return str(v)


def _block_text(b: dict) -> str:
    if b.get("kind") == "table":
        return "表格：" + "；".join("，".join(str(c) for c in row) for row in b.get("rows") or [])
    return b.get("text") or ""


def _changed_passage(a: str, b: str, context: int = 6) -> tuple[str, str]:
    """The differing middle of two texts, with a few characters of context on each side."""
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    j = 0
    while j < min(len(a), len(b)) - i and a[len(a) - 1 - j] == b[len(b) - 1 - j]:
        j += 1
    start = i - context if i - context > 2 else 0       # no "…" standing for a character or two

    def cut(t: str) -> str:
        end = len(t) - j
        stop = end + context if len(t) - (end + context) > 2 else len(t)
        return (("…" if start > 0 else "") + t[start:i] + _short(t[i:end]) + t[end:stop]
                + ("…" if stop < len(t) else ""))

    return cut(a), cut(b)


def _paragraphs(label: str, old: list[dict], new: list[dict]) -> list[tuple[str, str]]:
    a, b = [_block_text(x) for x in old], [_block_text(x) for x in new]
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                was, now = _changed_passage(a[i1 + k], b[j1 + k])
                out.append((label, f"第 {j1 + k + 1} 段改动：「{was}」改为「{now}」"))
            continue
        for k in range(i1, i2):
            out.append((label, f"删去了原第 {k + 1} 段「{_short(a[k])}」"))
        for k in range(j1, j2):
            out.append((label, f"新增第 {k + 1} 段「{_short(b[k])}」"))
    return out


def describe_changes(before: dict, after: dict, *, limit: int = 8) -> list[tuple[str, str]]:
    """What changed between two ``Draft.substantive_content()``s, as (element, Chinese sentence),
    in reading order; at most ``limit`` lines, the last saying how many more there are."""
    out: list[tuple[str, str]] = []
    for key, label in FIELD_LABELS:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key == "body":
            out += _paragraphs(label, old or [], new or [])
        elif key == "attachments":
            names = [a.get("name") for a in (new or [])]
            if [a.get("name") for a in (old or [])] != names:
                out.append((label, f"附件由「{_short(_value([a.get('name') for a in old or []]))}」改为"
                                   f"「{_short(_value(names))}」"))
            else:
                for o, n in zip(old or [], new or []):
                    if o != n:
                        out += _paragraphs(f"附件「{_short(n.get('name') or '', 12)}」", o.get("blocks") or [],
                                           n.get("blocks") or [])
        elif key == "meeting":
            out.append((label, "会议信息（出席、议定事项等）有改动"))
        elif not _value(old):
            out.append((label, f"新增「{_short(_value(new))}」"))
        elif not _value(new):
            out.append((label, f"删去了「{_short(_value(old))}」"))
        else:
            was, now = _changed_passage(_value(old), _value(new))
            out.append((label, f"「{was}」改为「{now}」"))
    known = {k for k, _ in FIELD_LABELS} | {"date", "print_date", "print_date_text", "copies"}
    other = sorted(k for k in set(before) | set(after) if k not in known and before.get(k) != after.get(k))
    if other:
        out.append(("内容", f"其他要素有改动（{'、'.join(other)}）"))
    if len(out) > limit:
        out = out[:limit - 1] + [("内容", f"另有 {len(out) - limit + 1} 处改动")]
    return out


# --- the history of a document: 清样 → 签发 → 编号 → 用印 → 核发 -------------------------------------

@dataclass(frozen=True)
class Step:
    """One step of 发文办理 as `gongwen show` and the register print it."""

    name: str              # 清样 / 签发 / 编号 / 用印 / 核发
    time: str | None       # ISO time (签发: the date the head wrote, then when it was recorded)
    actor: str | None
    detail: str = ""


def handling(ledger: Register, config: Config, reference: str) -> list[Step]:
    """The five steps of a numbered document, in order; a step not (yet) taken has no time."""
    doc = ledger.document(reference)
    if doc is None:
        return []
    c = case_for_reference(ledger, config, doc.reference)
    events = ledger.events(doc.reference)

    def first(name: str):
        return next((e for e in events if e.event == name), None)

    steps = []
    if c is not None and c.proofed_at:
        steps.append(Step("清样", c.proofed_at, c.proofed_by, f"共 {c.proof_count} 稿"))
    else:
        steps.append(Step("清样", None, None, "未出清样"))
    if c is not None and c.signoff is not None:
        so = c.signoff
        who = "、".join(so.names) + ("（代）" if so.delegated else "")
        steps.append(Step("签发", so.date.isoformat(), who,
                          f"意见：{so.opinion_text}；{c.signed_by} 于 {(c.signed_at or '')[:16].replace('T', ' ')} 登记"))
    elif doc.signed_on is not None:
        steps.append(Step("签发", doc.signed_on.isoformat(), "、".join(doc.signers)))
    else:
        steps.append(Step("签发", None, None, "未记录签发"))
    allocated = first("allocated") or first("reservation_used")
    steps.append(Step("编号", doc.registered_at, allocated.actor if allocated else None, doc.reference))
    seal = first("seal_used")
    stamped = first("stamped")
    if seal is not None:
        steps.append(Step("用印", seal.time, seal.actor, (seal.detail.get("seal_register") or {}).get("seal_name") or ""))
    elif stamped is not None:
        steps.append(Step("用印", stamped.time, stamped.actor, "电子签名（不加盖印章）"))
    else:
        steps.append(Step("用印", None, None, ""))
    issued = first("indexed")
    steps.append(Step("核发", issued.time if issued else None, issued.actor if issued else None,
                      "已发" if issued else doc.status))
    return steps


TIMES_COLUMNS = (("number", "发文字号"), ("title", "标题"), ("proofed", "清样"), ("signed", "签发"),
                 ("numbered", "编号"), ("sealed", "用印"), ("issued", "核发"))


@dataclass(frozen=True)
class TimesRow:
    """The 清样 → 签发 → 编号 → 用印 → 核发 times of one document (minutes; 签发: the date)."""

    number: str
    title: str
    proofed: str
    signed: str
    numbered: str
    sealed: str
    issued: str


def times(ledger: Register, config: Config, year: int | None = None, series: str | None = None) -> list[TimesRow]:
    """The handling times of the register's documents (reserved numbers have none)."""
    out = []
    for d in ledger.documents(year, series):
        if d.stage == "reserved":
            continue
        steps = {s.name: s for s in handling(ledger, config, d.reference)}

        def t(name: str, steps=steps) -> str:
            s = steps.get(name)
            return (s.time or "")[:16].replace("T", " ") if s else ""

        out.append(TimesRow(number=d.reference, title=d.title or "", proofed=t("清样"), signed=t("签发"),
                            numbered=t("编号"), sealed=t("用印"), issued=t("核发")))
    return out


def times_listing(config: Config, year: int, series: str | None = None, *,
                  ledger: Register | None = None) -> RegisterListing:
    """The 发文办理时间 of ``year`` as a register listing (table, JSON, .xlsx alike); like
    ledger.register_listing it never creates a missing register."""
    from .ledger import ledger_path

    if series and series not in config.series:
        raise LedgerError(f"没有名为“{series}”的发文系列；可用的有：{'、'.join(config.series)}")
    name = "发文办理时间"
    rows: list = []
    if ledger is not None:
        rows = times(ledger, config, year, series)
    elif ledger_path(config).is_file():
        with Ledger.open(config) as led:
            rows = times(led, config, year, series)
    return RegisterListing(name, f"{config.organisation.name}{year}年{series or ''}{name}", TIMES_COLUMNS, rows)
