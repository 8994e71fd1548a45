"""The stage order for one draft, on one screen, and its resumption after a crash.

    read → check ──problems──► rejected note (no number taken)
         → 复核: the 签发 that covers this content, or what changed since it (signoff.recheck)
         → trial render (a broken template or value fails here, still without a number)
         → number (ledger; idempotent per draft content) → render .docx → PDF/A
         → seal at the real position of 署名/成文日期 + signature (用印登记) → file → index → outbox

Each stage after numbering is recorded in the ledger, so a crash resumes where it stopped; a
failure that cannot be resumed voids the number with the reason. ``process_draft`` never moves or
deletes the draft it was given.
"""
from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from . import drafts, rules
from .archive import ArchiveStore, Record, Store, StoredFile, draft_text, record_anchor, record_metadata
from .config import Config, Route
from .errors import DraftError, GongwenError, NumberRefused, RegisterUnavailable, SearchError, TemplateError
from .fsutil import (atomic_copy, atomic_write_text, disk_full_message, full_disk, note_path, readable, readable_path,
                     unique_path)
from .ledger import STAGES, Register  # the ledger owns the stage order
from .model import Draft, Number, Outcome, Problem

if TYPE_CHECKING:
    from .search import SearchIndex

log = logging.getLogger("gongwen.process")


def stage_at_least(stage: str, target: str) -> bool:
    return stage in STAGES and STAGES.index(stage) >= STAGES.index(target)


@dataclass
class Services:
    """The owners of state and resources one run of the pipeline uses. The converter and the index
    are opened on first use (LibreOffice takes seconds to start)."""

    config: Config
    actor: str
    ledger: Register            # the seams: ledger.Register, archive.Store, search.SearchIndex
    store: Store
    _converter: object | None = field(default=None, repr=False)
    _index: SearchIndex | None = field(default=None, repr=False)
    _key: object | None = field(default=None, repr=False)

    @property
    def converter(self):
        if self._converter is None:
            from .convert import Converter

            # A fixed folder in the instance (not a temporary one): after a crash the next run
            # finds and ends the LibreOffice the dead process left behind.
            self._converter = Converter(self.config, workdir=self.config.work_dir / "converter")
        return self._converter

    @property
    def office_key(self):
        """The office certificate, opened once per run (opening a PKCS#12 costs ~90 ms). A missing
        key or wrong passphrase raises SigningError each time it is asked for, so fixing it works."""
        if self._key is None:
            from .sign import load_office_key

            self._key = load_office_key(self.config)
        return self._key

    @property
    def index(self):
        if self._index is None:
            from .search import open_index

            self._index = open_index(self.config)
        return self._index

    def close(self) -> None:
        for res in (self._converter, self._index, self.ledger):
            if res is None:
                continue
            for meth in ("stop", "close"):
                if hasattr(res, meth):
                    try:
                        getattr(res, meth)()
                    except Exception:  # closing must not mask the real error
                        log.exception("closing %r failed", res)
                    break
        self._converter = self._index = None


@contextmanager
def open_services(config: Config, actor: str) -> Iterator[Services]:
    from .ledger import Ledger

    from .supervise import open_books

    config.archive_dir.mkdir(parents=True, exist_ok=True)
    svc = Services(config=config, actor=actor, ledger=Ledger.open(config), store=ArchiveStore(config))
    # The 督办台账 exists from the first run on, so that a 纪要 whose hook fails is caught up later.
    open_books(svc.ledger, config)
    try:
        yield svc
    finally:
        svc.close()


# --- notes -----------------------------------------------------------------------------------------
NOTE_FOOTER = "修改后把文件重新放入原收件夹即可；退回的稿件不占用文号。"


def write_note(problems: list[Problem] | tuple[Problem, ...], draft_name: str, dest_dir: Path, *,
               header: str = "", footer: str = NOTE_FOOTER, exact: bool = False) -> Path:
    """Write ``<draft_name>.问题.txt`` in dest_dir (atomically). Never over an existing note unless
    ``exact`` (the note beside a draft in proofs/ is replaced by the next one)."""
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    now = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = [f"文件：{readable(draft_name)}", f"时间：{now}", ""]
    if header:
        lines += [header, ""]
    if errors:
        lines.append(f"此稿未能办理，共 {len(errors)} 个问题需要修改：")
        lines += [f"{i}. {p}" for i, p in enumerate(errors, 1)]
        lines.append("")
    if warnings:
        lines.append("另有以下提示（不影响办理，建议一并修改）：")
        lines += [f"- {p}" for p in warnings]
        lines.append("")
    lines.append(footer)
    dest = note_path(Path(dest_dir) / draft_name)
    dest = dest if exact else unique_path(dest)
    return atomic_write_text(dest, "\n".join(lines) + "\n")


# --- the pipeline ----------------------------------------------------------------------------------
class _Reject(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems


def _trial_number(draft: Draft, config: Config) -> Number:
    from .ledger import format_number

    year = draft.year or dt.date.today().year
    return format_number(config, draft.series or "", year, 9999)


def read_and_check(path: Path, config: Config, route: Route | None = None) -> tuple[Draft | None, list[Problem]]:
    """Read and review a draft; (None, problems) when it cannot be read at all."""
    try:
        draft = drafts.read_draft(path, config, route)
    except DraftError as e:
        return None, [Problem("文件", str(e))]
    return rules.review(draft, config)  # the reader's problems come first in its list


def process_draft(path: Path, svc: Services, *, route: Route | None = None,
                  outbox: Path | None = None, copies: bool = False) -> Outcome:
    """The whole pipeline for one draft. Returns what happened; raises only on a programming error.
    A full disk or another failed file operation is a 'failed' answer (the draft is kept and tried
    again), never an exception; a full disk is named as such, whichever part met it. ``copies``:
    also write the numbered copies (份号 000001 … 份数) to the outbox, one PDF each (pipeline.copies)."""
    t0 = time.perf_counter()
    path = Path(path)
    seen: dict = {}   # title and number once known, for the answer when a file operation fails

    def done(**kw) -> Outcome:
        return Outcome(file=readable_path(path), seconds=round(time.perf_counter() - t0, 3), **kw)

    try:
        return _process(path, svc, route, Path(outbox) if outbox else svc.config.outbox, done, seen, copies)
    except OSError as e:
        log.warning("%s failed on a file operation: %s", seen.get("number") or readable_path(path), e)
        return done(status="failed", number=seen.get("number"), title=seen.get("title"),
                    problems=(Problem("办理", failure_text(svc.config, e, seen.get("number"))),))


def failure_text(config: Config, e: BaseException, reference: str | None = None) -> str:
    """Why a draft could not be finished this time, in one Chinese sentence. When a disk the pipeline
    writes to is (nearly) full, that is the reason given — not the part that met it (LibreOffice not
    writing its PDF, SQLite, the index)."""
    head = f"{reference} 暂未办结（可续办）" if reference else "暂未办理"
    full = full_disk((config.work_dir, config.archive_dir, config.outbox), e)
    if full is not None:
        return f"{head}：{disk_full_message(full)}；释放空间后自动继续"
    if isinstance(e, OSError):
        where = f"{readable_path(e.filename)}" if e.filename else ""
        return f"{head}：文件操作失败 {where}（{e.strerror or e}）"
    return f"{head}：{e}"


def _process(path: Path, svc: Services, route: Route | None, outbox: Path, done, seen: dict,
             copies: bool = False) -> Outcome:
    config = svc.config
    draft, problems = read_and_check(path, config, route)
    errors = [p for p in problems if p.severity == "error"]
    if draft is None:
        return done(status="rejected", problems=tuple(problems), title=None)
    # 复核 before the number (条例 art. 25(1)): every problem at once, so it runs on a draft with
    # errors too, but records a 签发 the draft carries only when the draft can go on.
    from . import signoff

    try:
        check = signoff.recheck(svc.ledger, config, draft, route=_route_key(path, route, config), name=path.name,
                                actor=svc.actor, record=not errors)
    except GongwenError as e:
        # the register busy or unwritable: nothing is wrong with the draft; it is tried again
        return done(status="failed", title=draft.title, problems=tuple(problems) + (
            Problem("复核", f"暂未复核（登记簿暂不可用，稍后自动重试）：{e}"),))
    if errors or not check.ok:
        return done(status="rejected", problems=tuple(problems) + check.problems, title=draft.title)
    draft = check.draft
    problems = [*problems, *check.warnings]
    seen["title"] = draft.title

    # A trial render catches a broken template or an unrenderable value before a number is taken.
    workroot = config.work_dir / "docs"
    workroot.mkdir(parents=True, exist_ok=True)
    from . import render

    try:
        trial_number = _trial_number(draft, config)
    except GongwenError as e:
        # a year the 文号 cannot carry (成文日期 1850年…): the draft, not the register, is at fault
        return done(status="rejected", title=draft.title, problems=tuple(problems) + (Problem("发文字号", str(e)),))
    trial = workroot / f".trial-{time.monotonic_ns()}.docx"
    try:
        render.render_document(draft, trial_number, config, trial)
    except TemplateError as e:
        return done(status="rejected", title=draft.title,
                    problems=tuple(problems) + (Problem("模板", f"无法套用模板：{e}"),))
    finally:
        trial.unlink(missing_ok=True)

    try:
        alloc = svc.ledger.allocate(draft, actor=svc.actor)
    except NumberRefused as e:
        # e.g. a typed 文号 that is not an open reservation of this series and year: no number taken.
        return done(status="rejected", title=draft.title,
                    problems=tuple(problems) + (Problem("发文字号", str(e)),))
    except GongwenError as e:
        # the register busy or unwritable: nothing is wrong with the draft; it is tried again
        why = failure_text(config, e) if full_disk((config.archive_dir,), e) else \
            f"暂未编号（登记簿暂不可用，稍后自动重试）：{e}"
        return done(status="failed", title=draft.title, problems=tuple(problems) + (Problem("登记", why),))
    number: Number = alloc.number
    seen["number"] = number.reference
    if alloc.is_new:
        log.info("%s allocated for %s", number.reference, path)
    if check.case_id is not None:
        try:
            signoff.mark_numbered(svc.ledger, config, check.case_id, number.reference, actor=svc.actor)
        except GongwenError as e:
            return done(status="failed", number=number.reference, title=draft.title,
                        problems=tuple(problems) + (Problem("办理", failure_text(config, e, number.reference)),))
    try:
        record, made = _produce_and_file(draft, path, number, alloc, svc)
        numbered: tuple[str, ...] = ()
        if copies:
            from .copies import write_copies

            numbered = tuple(str(p) for p in write_copies(
                draft, number, config, converter=svc.converter, key=svc.office_key,
                first=record.required_file("正本"), dest=outbox))
    except _Reject as r:
        return done(status="rejected", number=number.reference, title=draft.title,
                    problems=tuple(problems) + tuple(r.problems))
    except GongwenError as e:
        # LibreOffice down, a locked key, a broken template …: resumable, the ledger keeps the
        # document's progress and the next attempt continues with the same number.
        log.warning("%s failed at a resumable stage: %s", number.reference, e)
        return done(status="failed", number=number.reference, title=draft.title,
                    problems=tuple(problems) + (Problem("办理", failure_text(config, e, number.reference)),))

    indexed = _index_record(record, alloc.doc_id, svc)
    docx_out, pdf_out = _to_outbox(record, outbox)
    extra: tuple[Problem, ...] = () if indexed else (Problem("检索", "已归档，但尚未编入检索索引；下次启动或 gongwen doctor --repair 时补做", "warning"),)
    extra += _supervise_minutes(draft, number, svc)
    return done(status="issued", number=number.reference, title=draft.title, docx=str(docx_out),
                pdf=str(pdf_out), problems=tuple(problems) + extra, copies=numbered,
                duplicate=not made)


def _route_key(path: Path, route: Route | None, config: Config) -> str:
    """The route folder a draft came through ('' for none): the key its 清样 was recorded under."""
    return route.folder if route is not None else signoff_route_key(path, config)


def signoff_route_key(path: Path, config: Config) -> str:
    from .signoff import route_key_of

    return route_key_of(path, config, config.inbox)


def _supervise_minutes(draft: Draft, number: Number, svc: Services) -> tuple[Problem, ...]:
    """An issued 纪要's 议定事项 with a 责任单位 become 督办件. A failure never fails the issued
    document: it is recorded, and catch_up (doctor, the next start) makes the items later."""
    from . import supervise

    if draft.series not in supervise.items.minutes_series(svc.config):
        return ()

    try:
        result = supervise.minutes_hook(svc.ledger, svc.config, draft, number.reference, actor=svc.actor)
    except Exception as e:  # noqa: BLE001 — whatever went wrong, the 纪要 itself is issued
        log.warning("%s issued, but its 议定事项 were not put on the 督办台账: %s", number.reference, e)
        try:
            supervise.record_minutes_failure(svc.ledger, number.reference, e, actor=svc.actor)
        except Exception:  # noqa: BLE001 — the catch-up finds it without the record too
            log.exception("recording the failed 督办 hook of %s failed", number.reference)
        return (Problem("督办", f"议定事项未能列入督办台账（{e}）；gongwen doctor --repair 或下次启动时补做", "warning"),)
    index_supervision(svc)
    made = "、".join(i.reference for i in result.items)
    notes = tuple(Problem("督办", n, "warning") for n in result.notes)
    return ((Problem("督办", f"议定事项已列入督办台账：{made}", "warning"),) if made else ()) + notes


def _advance(svc: Services, doc_id: int, current: str, stage: str, detail: dict | None = None) -> str:
    if not stage_at_least(current, stage):
        svc.ledger.advance(doc_id, stage, actor=svc.actor, detail=detail)
        return stage
    return current


def _produce_and_file(draft: Draft, path: Path, number: Number, alloc, svc: Services) -> tuple[Record, bool]:
    """render → convert → seal/sign → file, skipping what the ledger says is done. Returns the record
    and whether this call filed it (False: it was filed already — the same content issued before).

    One process at a time per document: the same content dropped in the watcher and given to
    `gongwen process` at once is one document with one scratch folder (work/docs/<id>/). The second
    waits for the first, then reads the register again — usually to find the document filed, and
    answers with it (a duplicate)."""
    from filelock import FileLock, Timeout

    existing = svc.store.record_dir(number)
    if stage_at_least(alloc.stage, "filed") and existing.exists():
        return svc.store.load(existing), False
    scratch = svc.config.work_dir / "docs"
    scratch.mkdir(parents=True, exist_ok=True)
    lock_path = scratch / f"{alloc.doc_id}.lock"
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=_SAME_DOCUMENT_WAIT_S)
    except Timeout:
        raise GongwenError(f"{number.reference} 正由另一进程办理，{_SAME_DOCUMENT_WAIT_S / 60:.0f} 分钟内未完成") from None
    try:
        doc = svc.ledger.document(number.reference)
        stage = doc.stage if doc is not None else alloc.stage
        if stage_at_least(stage, "filed") and existing.exists():
            return svc.store.load(existing), False
        record = _make_and_file(draft, path, number, alloc.doc_id, stage, svc)
        # Filed: whoever takes this lock from now on finds the document filed and leaves the scratch
        # alone, so the lock file can go (before release: a waiter holds the old file, harmlessly).
        lock_path.unlink(missing_ok=True)
        return record, True
    finally:
        lock.release()


# How long a second process waits for the one making the same document: a conversion try is limited
# by converter.timeout_s (90 s) and a relayout converts up to render.LAYOUT_ATTEMPTS times.
_SAME_DOCUMENT_WAIT_S = 600.0


def _make_and_file(draft: Draft, path: Path, number: Number, doc_id: int, stage: str, svc: Services) -> Record:
    config = svc.config
    from . import render, stamp

    wd = config.work_dir / "docs" / str(doc_id)
    wd.mkdir(parents=True, exist_ok=True)
    docx, unsigned, pdf = wd / "定稿.docx", wd / "转换.pdf", wd / "正本.pdf"
    result = None
    if not (stage_at_least(stage, "stamped") and docx.exists() and pdf.exists()):
        copy_no = 1 if render.copy_numbered(draft, config) else None      # the 正本 is copy 000001

        def rendered(layout: render.Layout) -> None:
            nonlocal stage
            stage = _advance(svc, doc_id, stage, "rendered", layout.describe())

        def convert(docx: Path) -> None:
            nonlocal stage
            svc.converter.convert(docx, unsigned)
            stage = _advance(svc, doc_id, stage, "converted")

        try:
            _, result = render.lay_out(
                draft, number, config, docx, convert=convert, rendered=rendered, copy_no=copy_no,
                settle=lambda layout: stamp.seal_and_sign(unsigned, pdf, draft=draft, config=config,
                                                          last_attempt=layout.last, key=svc.office_key))
        except render.LayoutExhausted as e:
            what = "印章、署名和成文日期" if config.series[number.series].sealed else "署名和成文日期"
            svc.ledger.void(number.reference, reason=f"版面无法容纳{what}：{e}", actor=svc.actor)
            raise _Reject([Problem("版面", f"正文末页放不下{what}（已调整行距仍不行），文号 {number.reference} 已作废；"
                                          "请精简末段或调整附件说明后重新提交")]) from None
        if not stage_at_least(stage, "stamped"):
            # A crash between the seal row and the stage advance re-stamps on resume: the same
            # document sealed again is the same 用印 act, so it is registered once.
            # A joint document (联合行文) uses every organ's seal: one row each.
            sealed_before = {(e.detail.get("seal_register") or {}).get("seal_name")
                             for e in svc.ledger.events(number.reference) if e.event == "seal_used"}
            uses = zip(result.seal_names, result.placements) if result is not None and result.seal_names else ()
            for name, placement in uses:
                if name not in sealed_before:
                    svc.ledger.record_seal_use(number.reference, seal_name=name, copies=draft.copies,
                                               handler=svc.actor, approver="、".join(draft.signed_by) or None,
                                               note=f"第{placement.page + 1}页")
            stage = _advance(svc, doc_id, stage, "stamped",
                             {"seal": getattr(result, "seal_name", None), "signed": getattr(result, "signed", False)})

    from .pdfcheck import inspect_pdf

    facts = inspect_pdf(pdf)
    signature = _signature_meta(pdf, config)
    events = _events_meta(svc, number)
    meta = record_metadata(number=number, draft=draft, config=config, pages=facts.pages,
                           signature=signature, events=events, signoff=_signoff_meta(svc, number, draft))
    pdf_format = f"PDF/A-{facts.pdfa[0]}{facts.pdfa[1:].lower()}" if facts.pdfa else "PDF"
    files = [
        StoredFile(pdf, "正本", "正本.pdf", pdf_format, _creator(facts)),
        StoredFile(docx, "定稿", "定稿.docx", "DOCX (Office Open XML)", "gongwen (docxtpl/python-docx)"),
        StoredFile(path, "原稿", f"原稿{path.suffix.lower()}", creator=_draft_creator(path)),
    ]
    record = svc.store.file_record(number=number, content_hash=draft.content_hash(), files=files, metadata=meta,
                                   text=draft_text(draft))
    # The record's digests go into the chain with the stage (archive.py "Anchoring").
    _advance(svc, doc_id, stage, "filed", {"path": str(record.path), "anchor": record_anchor(record.path)})
    shutil.rmtree(wd, ignore_errors=True)
    return record


def _draft_creator(path: Path) -> str:
    """文档创建程序 of the original draft: what a .docx says of itself (docProps/app.xml, e.g.
    "Microsoft Office Word 16.0000" or "WPS Office"), else that it is plain text."""
    if path.suffix.lower() != ".docx":
        return "文本编辑器（UTF-8 纯文本）"
    import zipfile

    from defusedxml import ElementTree

    try:
        with zipfile.ZipFile(path) as z:
            info = z.getinfo("docProps/app.xml")
            if info.file_size > 1 << 20:
                return "未知"
            root = ElementTree.fromstring(z.read(info))
    except (KeyError, OSError, zipfile.BadZipFile, ElementTree.ParseError, ValueError):
        return "未知"
    ns = "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}"
    app = (root.findtext(f"{ns}Application") or "").strip()
    ver = (root.findtext(f"{ns}AppVersion") or "").strip()
    return " ".join(p for p in (app, ver) if p) or "未知"


def _creator(facts) -> str:
    parts = [p for p in (facts.creator, facts.producer) if p]
    return "; ".join(dict.fromkeys(parts)) or "LibreOffice"


def _signature_meta(pdf: Path, config: Config) -> dict | None:
    from .stamp import verify_pdf

    sigs = verify_pdf(pdf, config)
    if not sigs:
        return None
    v = sigs[-1]
    return {
        "签名规则": "PAdES（ETSI EN 319 142），CMS 分离式签名",
        "签名时间": v.signed_at.isoformat() if v.signed_at else None,
        "签名人": v.signer,
        "签名结果": "有效" if v.ok else f"无效：{v.detail}",
        "签名算法标识": "SHA-256",
    }


def document_events(ledger, config: Config, reference: str) -> list:
    """The document's events with those of its 清样 and 签发 before the number, in chain order."""
    from .signoff import case_events

    events = {e.id: e for e in ledger.events(reference)}
    events.update({e.id: e for e in case_events(ledger, config, reference)})
    return [events[k] for k in sorted(events)]


def _events_meta(svc: Services, number: Number) -> list[dict]:
    from .ledger import EVENT_NAMES

    out = []
    for ev in document_events(svc.ledger, svc.config, number.reference):
        detail = {k: v for k, v in (ev.detail or {}).items() if k != "rows"}   # a book row's snapshot
        who = ev.actor
        if ev.event == "signoff" and detail.get("签发人"):
            # the 签发 is the head's act (DA/T 46 业务实体: 机构人员 = who acted); who entered it is kept
            who, detail = detail["签发人"], {**detail, "登记人": ev.actor}
        out.append({"业务行为": EVENT_NAMES.get(ev.event, ev.event), "行为时间": ev.time,
                    "机构人员名称": who, "行为描述": detail})
    return out


def _signoff_meta(svc: Services, number: Number, draft: Draft) -> dict | None:
    """DA/T 46 业务实体 签发 of the record: who signed off, opinion, date, 会签, and the 清样 it covered."""
    from .signoff import case_for_reference

    so = draft.signoff
    if so is None:
        return None
    c = case_for_reference(svc.ledger, svc.config, number.reference)
    return {**so.to_json(), "签发意见": so.opinion_text if so.opinion is None else so.opinion,
            "清样稿次": c.proof_count if c else 0, "清样时间": c.proofed_at if c else None,
            "登记人": c.signed_by if c else None, "登记时间": c.signed_at if c else None,
            "内容摘要值": {"算法": "SHA-256", "值": draft.substantive_hash()}}


def _index_record(record: Record, doc_id: int, svc: Services) -> bool:
    from .search import IndexDoc

    try:
        svc.index.add([IndexDoc.from_record(record.meta, record.text())])
    except (SearchError, OSError) as e:
        log.warning("%s filed but not indexed: %s", record.reference, e)
        return False
    doc = svc.ledger.document(record.reference)
    if doc is not None and not stage_at_least(doc.stage, "indexed"):
        svc.ledger.advance(doc_id, "indexed", actor=svc.actor)
    return True


def _to_outbox(record: Record, outbox: Path) -> tuple[Path, Path]:
    """Copy the 定稿 and the 正本 to the outbox. A copy already there is kept if identical; one a
    clerk has changed is never overwritten — the fresh copy gets a "(2)" name beside it."""
    outbox.mkdir(parents=True, exist_ok=True)
    out = []
    for role, suffix in (("定稿", ".docx"), ("正本", ".pdf")):
        src = record.required_file(role)
        dest = outbox / f"{record.reference}{suffix}"
        if dest.exists() and not _same_file(src, dest):
            dest = unique_path(dest)
        if not dest.exists():
            atomic_copy(src, dest)
        out.append(dest)
    return out[0], out[1]


def _same_file(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    from .hashing import digest_file

    return digest_file(a, ("sha256",)) == digest_file(b, ("sha256",))


def catch_up(svc: Services) -> list[str]:
    """Index documents that were filed but not indexed (a crash or an index outage); returns their
    refs. Also puts the 议定事项 of 纪要 whose 督办 hook failed on the 督办台账 (logged; doctor reports
    what is still pending)."""
    from .supervise import catch_up_minutes

    done: list[str] = []
    for doc in svc.ledger.pending():
        if doc.stage == "filed":
            rec = svc.store.find(doc.reference)
            if rec is not None and _index_record(rec, doc.doc_id, svc):
                done.append(doc.reference)
    made, failed = catch_up_minutes(svc.ledger, svc.config, svc.store, actor=svc.actor)
    for ref in made:
        log.info("%s: 议定事项已补列入督办台账", ref)
    for line in failed:
        log.warning("督办补做未成功：%s", line)
    index_supervision(svc)
    return done


def index_supervision(svc: Services) -> None:
    """Put the 督办件 changed since the last time into the search index (derived data: a failure is
    logged and the next catch-up tries again)."""
    from .supervise.index import sync_index

    try:
        sync_index(svc.ledger, svc.config, svc.index)
    except (SearchError, OSError, RegisterUnavailable) as e:
        log.warning("督办件未编入检索索引（下次启动或 gongwen doctor --repair 时补做）：%s", e)
