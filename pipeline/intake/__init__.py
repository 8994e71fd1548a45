"""The watched drop folders: wait until a dropped draft is finished and valid, claim it into the work
area, run the pipeline on it, and put the draft where its result says (archive, rejected/, or kept for
a retry) — exactly once, and safe against a crash at any moment.

The parts, each with its own job:

- ``readiness``: is a file finished and worth claiming? (pure; notices in, verdicts out; injected clock)
- ``claims``: take a file into the work area, move it on without overwriting, find leftovers
- ``observers``: filesystem events (inotify, or polling for shares) turned into notices
- this module: the loop (``Intake.run()`` / ``run_once()``), where each result goes, and the retry
  of failures.

How a file travels (peers.md pitfalls 1–4):

    inbox/<route>/草稿.docx
      │  readiness gate: the writer has finished (inotify `closed`/moved-in, or `stable_seconds` of
      │  unchanged size+mtime under polling and rescans) AND drafts.probe() says it opens
      ▼  claim: atomic rename (EXDEV: copy + fsync + rename, then unlink the source)
    work/claims/<route>/<token>/草稿.docx  +  .claim.json (route, source, state)
      │  process_draft(path, svc, route=route)  — resumable, idempotent
      ├─ issued    → the archive holds an identical copy → claimed copy removed
      ├─ rejected  → rejected/草稿.docx + 草稿.docx.问题.txt (every problem)
      ├─ duplicate → rejected/ with a note naming the existing 文号
      └─ failed    → stays claimed, retried with backoff (and again on every start)

Nothing here prints: everything a person should see goes through the ``on_event`` callback (the CLI
turns it into console lines) and the ``gongwen.intake`` logger (the CLI sends it to the log file).
"""
from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ContextManager, Iterator, Literal

from filelock import FileLock, Timeout

from ..config import Config, Route
from ..errors import GongwenError, RegisterUnavailable
from ..fsutil import (LOW_SPACE_BYTES, disk_full_message, free_bytes, full_disk, human_bytes, low_disk, mount_point,
                      readable, readable_path)
from ..model import Outcome, Problem, ProofOutcome
from .claims import (CLAIM_RECORD, CLAIMS_DIR, ROOT_KEY, SNAPSHOT, Claim, Claims, claim_file, drop_claim_dir,
                     move_noclobber, move_to_free, note_path, same_content)
from .observers import Folder, Observers
from .proofdesk import ProofDesk
from .readiness import IGNORED_PATTERNS, Candidate, Readiness, entry_kind, is_ignored

if TYPE_CHECKING:
    from ..process import Services  # the pipeline's services (tests pass fakes of the same shape)

__all__ = [
    "Intake", "IntakeEvent", "EventKind", "OnEvent", "Hooks", "Folder", "default_hooks", "watch",
    "single_watcher", "archive_holds_copy", "is_ignored", "IGNORED_PATTERNS", "Claim", "Claims",
    "claim_file", "move_noclobber", "note_path", "CLAIM_RECORD", "CLAIMS_DIR", "ROOT_KEY",
    "RETRY_DELAYS_S", "TICK_S",
]

log = logging.getLogger("gongwen.intake")

# Retry delays for a draft whose processing failed (LibreOffice down, disk full …). Capped at 10 min:
# a fixed cause (LibreOffice restarted) is picked up within minutes, and a draft that keeps failing
# costs one attempt per 10 min, each logged, instead of a busy loop. Every start retries at once.
RETRY_DELAYS_S: tuple[float, ...] = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

# How often the main loop looks at the stop flag and at pending files' stability.
TICK_S = 0.2


# --- what the watcher reports ---------------------------------------------------------------------
EventKind = Literal[
    "started",      # watching; message names the folders and modes
    "recovered",    # a claim left by an earlier run is being finished
    "issued",       # a document was issued (outcome has the 文号)
    "rejected",     # the draft went to rejected/ with a note listing its problems
    "duplicate",    # same content as an issued document: rejected/ with a note naming the 文号
    "unsupported",  # not a draft type: rejected/ with a note naming the accepted types
    "invalid",      # never became a valid file within invalid_timeout_s: rejected/ with a note
    "waiting",      # finished writing but not (yet) valid; left in place for now
    "failed",       # the pipeline failed; the draft stays claimed and is retried
    "kept",         # issued, but the archive's copy could not be confirmed: the draft is kept
    "proofed",      # a 清样 was made beside a draft in proofs/ (proof has the outcome)
    "proof_rejected",  # no 清样: the note beside the draft in proofs/ says why; the draft stays
    "supervised",   # a 交办清单 from inbox/督办/ went onto the 督办台账 (message: what was taken)
    "received",     # a document from inbox/收文/ was registered (message: 收文号 and what it is)
    "day_turn",     # the day turned: 督办件 marked 逾期 (message says which)
    "notice",       # something a person should know that is no draft's result (a subfolder in an
                    # inbox, a watched folder deleted or made again, a full disk)
    "stopped",      # the service stopped cleanly
]


@dataclass(frozen=True)
class IntakeEvent:
    """One thing that happened to one dropped file, for the console and tests."""

    kind: EventKind
    name: str = ""                   # the file name as dropped
    route: str | None = None         # the route folder it came through (None: inbox/ itself)
    outcome: Outcome | None = None   # the pipeline's answer, when it ran
    path: Path | None = None         # where the draft is now (rejected/…, work/…)
    note: Path | None = None         # the 问题 note written beside it
    message: str = ""                # Chinese detail
    seconds: float | None = None     # pipeline time for this draft
    retry_in: float | None = None    # for "failed": seconds until the next attempt
    proof: ProofOutcome | None = None  # for "proofed" / "proof_rejected": make_proof's answer


OnEvent = Callable[[IntakeEvent], None]


@dataclass(frozen=True)
class Hooks:
    """The pipeline as the watcher sees it. ``default_hooks()`` wires the real modules; unit tests
    pass fakes."""

    process: Callable[..., Outcome]            # process_draft(path, svc, *, route=None)
    write_note: Callable[..., Path]            # write_note(problems, draft_name, dest_dir, *, header="")
    probe: Callable[[Path], str | None]        # None when the file opens, else a Chinese reason
    suffixes: frozenset[str]                   # accepted draft suffixes, lower case with the dot
    archived: Callable[[Services, Outcome, Path], bool]  # does the archive hold an identical copy?
    catch_up: Callable[[Services], list[str]] = lambda svc: []  # index what was filed but not indexed
    # The 清样 folders (proofs/<route>/): make_proof(path, svc, *, route=None, beside=None), and
    # whether a draft there already has its current 清样. Without ``proof`` they are not watched.
    proof: Callable[..., ProofOutcome] | None = None
    proof_current: Callable[[Services, Path], bool] = lambda svc, path: False
    # 督办: 交办清单 files dropped into inbox/<supervision.folder>/ (None: that folder is not watched),
    # and what runs when the day turns (marks 督办件 逾期; returns a line to show, or None).
    import_items: Callable[[Services, Path], Any] | None = None    # (svc, path) → supervise.ImportResult
    import_suffixes: frozenset[str] = frozenset()
    import_probe: Callable[[Path], str | None] = lambda path: None
    day_turn: Callable[[Services, date], str | None] = lambda svc, today: None
    # 收文: documents dropped into inbox/<incoming.folder>/ (None: that folder is not watched).
    receive: Callable[[Services, Path], Any] | None = None         # (svc, path) → incoming.Receipt
    receive_suffixes: frozenset[str] = frozenset()
    receive_probe: Callable[[Path], str | None] = lambda path: None


def default_hooks(config: Config) -> Hooks:
    from .. import drafts, incoming, process, proofs
    from ..incoming import reading
    from ..supervise import sources as supervise_sources

    def probe_received(path: Path) -> str | None:
        try:
            reading.identify(path, config)
        except GongwenError as e:
            return str(e)
        return None

    return Hooks(
        process=process.process_draft,
        write_note=process.write_note,
        probe=drafts.probe,
        suffixes=frozenset(s.lower() for s in drafts.SUPPORTED_SUFFIXES),
        archived=archive_holds_copy,
        catch_up=lambda svc: process.catch_up(svc) + incoming.catch_up(svc),
        proof=proofs.make_proof,
        proof_current=proofs.has_current_proof,
        import_items=_import_and_index,
        import_suffixes=frozenset(supervise_sources.SUFFIXES),
        import_probe=supervise_sources.probe,
        day_turn=_day_turn,
        receive=lambda svc, path: incoming.receive(path, svc),
        receive_suffixes=frozenset(reading.SUFFIXES),
        receive_probe=probe_received,
    )


def _import_and_index(svc: Services, path: Path):
    from .. import supervise
    from ..process import index_supervision

    result = supervise.import_items(svc.ledger, svc.config, path, actor=svc.actor)
    index_supervision(svc)
    return result


def _day_turn(svc: Services, today: date) -> str | None:
    from .. import supervise
    from ..process import index_supervision

    turn = supervise.day_turn(svc.ledger, svc.config, today=today, actor=svc.actor)
    index_supervision(svc)
    return turn.summary_if_changed()


def archive_holds_copy(svc: Services, outcome: Outcome, claimed: Path) -> bool:
    """True when the document's archive record holds a byte-identical copy of ``claimed`` as its
    原稿 — only then may the claimed copy be removed (a move into the archive, nothing lost)."""
    if not outcome.number:
        return False
    rec = svc.store.find(outcome.number)   # by its folder name first: no metadata scan
    original = rec.file("原稿") if rec is not None else None
    if original is None or not original.is_file():
        return False
    return same_content(original, claimed)


# --- the intake -----------------------------------------------------------------------------------
class Intake:
    """The watched-folder service for one instance: observers feed the readiness gate; ready files are
    claimed, run through the pipeline and put where the result says; failures are retried. All
    decisions run on the thread that calls ``run()``, ``run_once()`` or ``step()``."""

    def __init__(self, config: Config, svc: Services, *, on_event: OnEvent, hooks: Hooks,
                 clock: Callable[[], float] = time.monotonic, stop: threading.Event | None = None,
                 today: Callable[[], date] = date.today):
        self.config, self.svc, self.on_event, self.hooks = config, svc, on_event, hooks
        self.clock, self.today = clock, today
        self._day: date | None = None
        self.stop = stop or threading.Event()
        self.intake_cfg = config.intake
        any_share = any(r.share for r in config.intake.routes)
        self.folders: list[Folder] = [Folder(config.inbox / r.folder, r, r.share) for r in config.intake.routes]
        self.import_key: str | None = None
        by_folder = {}
        if hooks.import_items is not None:     # inbox/督办/: 交办清单 files for the 督办台账
            self.import_key = config.supervision.folder
            self.folders.append(Folder(config.inbox / self.import_key, None, any_share, imports=True))
            by_folder[config.inbox / self.import_key] = (hooks.import_suffixes, hooks.import_probe)
        self.receive_key: str | None = None
        if hooks.receive is not None:     # inbox/收文/: documents received, one 口子 for all of them
            self.receive_key = config.incoming.folder
            self.folders.append(Folder(config.inbox / self.receive_key, None, config.incoming.share, imports=True))
            by_folder[config.inbox / self.receive_key] = (hooks.receive_suffixes, hooks.receive_probe)
        # inbox/ itself: polled if any route is a share (it is then most likely on the share too).
        self.folders.append(Folder(config.inbox, None, any_share))
        # proofs/<route>/ and proofs/ itself: the same gate and claims, a 清样 beside the draft
        self.proofdesk = ProofDesk(self) if hooks.proof is not None else None
        if self.proofdesk is not None:
            self.folders += self.proofdesk.folders
        self.readiness = Readiness(stable_seconds=config.intake.stable_seconds,
                                   invalid_timeout_s=config.intake.invalid_timeout_s,
                                   suffixes=hooks.suffixes, probe=hooks.probe, clock=clock, by_folder=by_folder)
        self.claims = Claims(config.work_dir / CLAIMS_DIR)
        self._events: queue.SimpleQueue[tuple[Path, str]] = queue.SimpleQueue()
        self.wake = threading.Event()
        self._inflight: set[Path] = set()
        self._retry: dict[Path, tuple[Claim, float]] = {}   # claim dir -> (claim, due)
        self.observers = Observers(self.folders, self.notice, poll_interval_s=config.intake.poll_interval_s)
        self._next_rescan = 0.0
        self.counts: dict[str, int] = {}
        self._gone: set[Path] = set()                       # watched folders seen deleted
        # The disks the service writes to; one found full is watched until space is freed.
        self._disks = (config.work_dir, config.archive_dir, config.rejected, config.inbox)
        self._space_wait: Path | None = None
        self._reported: set[tuple[Path, int]] = set()       # subfolders already reported

    @property
    def once(self) -> bool:
        """Once mode: nothing is left for a later pass (no retries scheduled, invalid files parked)."""
        return self.readiness.once

    @once.setter
    def once(self, value: bool) -> None:
        self.readiness.once = value

    # -- the service -----------------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        """Watch until ``stop`` is set: finish what an earlier run left, take everything waiting,
        then every file as it becomes ready. The current document is always finished before
        stopping. Returns counts by event kind."""
        self.ensure_folders()
        with self.observers.running():
            modes = "、".join(f"{f.key}（{'轮询' if f.share else '实时'}）" for f in self.folders if f.desk == "inbox")
            where = f"正在监视 {self.config.inbox}：{modes}"
            if self.proofdesk is not None:
                where += f"；清样文件夹 {self.config.proofs}"
            self._emit(IntakeEvent("started", message=where))
            log.info("开始监视：%s", modes)
            self.recover()
            self.scan()
            while not self.stop.is_set():
                self.turn_day()
                self.step()
                self.wait()
        return self._stopped()

    def run_once(self) -> dict[str, int]:
        """Process what is waiting (and what an earlier run left), then return: a file still being
        written or not valid after ``invalid_timeout_s`` is left in place and reported."""
        self.ensure_folders()
        self.once = True
        self.recover()
        self.turn_day()
        self.scan()
        self._drain()
        started = self.clock()
        while not self.stop.is_set():
            self.step()
            if not self.busy():
                break
            if self.clock() - started > self.intake_cfg.invalid_timeout_s:
                for c in self.readiness.candidates():
                    if not c.parked:
                        self._park(c, "文件仍在写入或无法判断是否写完；文件仍留在收件夹中")
                break
            self.wait()
        return self._stopped()

    def _stopped(self) -> dict[str, int]:
        self._tidy()
        log.info("停止监视；统计：%s", self.counts)
        self._emit(IntakeEvent("stopped", message="已停止"))
        return dict(self.counts)

    # -- set-up ----------------------------------------------------------------------------------
    def ensure_folders(self) -> None:
        for f in self.folders:
            f.path.mkdir(parents=True, exist_ok=True)
        self.claims.ensure()
        self.config.rejected.mkdir(parents=True, exist_ok=True)
        if self.proofdesk is not None:
            self.proofdesk.ensure()

    def _folder_of(self, path: Path) -> Folder | None:
        parent = path.parent
        for f in self.folders:
            if f.path == parent:
                return f
        return None

    def _route_for_key(self, key: str) -> tuple[bool, Route | None]:
        if key == ROOT_KEY:
            return True, None
        r = self.config.route_for_folder(key)
        return r is not None, r

    # -- input -----------------------------------------------------------------------------------
    def notice(self, path: Path, what: str) -> None:
        """Thread-safe: record that something happened to ``path`` ("writing", "finished", "seen",
        "gone")."""
        self._events.put((path, what))
        self.wake.set()

    def scan(self) -> None:
        """A full look at every folder: catches drops made while the service was down and anything
        the events missed (shares, overflowed inotify queues)."""
        for f in self.folders:
            if not f.path.is_dir():
                try:
                    f.path.mkdir(parents=True, exist_ok=True)
                except OSError as e:
                    log.warning("无法重建收件夹 %s：%s", f.path, e)
                    continue
                self._folder_back(f, "已由服务重建")
            self._scan_folder(f)
        self._next_rescan = self.clock() + self.intake_cfg.rescan_interval_s

    def _scan_folder(self, f: Folder) -> None:
        try:
            names = sorted(os.listdir(f.path))
        except OSError as e:
            log.warning("无法读取收件夹 %s：%s", f.path, e)
            return
        watched = {w.path for w in self.folders}
        for n in names:
            p = f.path / n
            if p in watched:
                continue
            if entry_kind(p) == "dir":
                self._folder_event(p, "dir")
            else:
                self._events.put((p, "seen"))

    def _drain(self) -> None:
        """Hand the queued notices to the readiness gate."""
        now = self.clock()
        while True:
            try:
                path, what = self._events.get_nowait()
            except queue.Empty:
                return
            if what == "gone":
                self.readiness.notice(path, "gone", share=False, now=now)
                continue
            if what in ("dir", "dir_gone"):
                self._folder_event(path, what)
                continue
            folder = self._folder_of(path)
            if folder is None:
                continue
            self.readiness.notice(path, what, share=folder.share, now=now)  # type: ignore[arg-type]

    def _folder_event(self, path: Path, what: str) -> None:
        """A folder appeared or vanished: a watched folder deleted or made again, or a subfolder
        dropped into one (never processed, but never ignored silently either)."""
        watched = next((f for f in self.folders if f.path == path), None)
        if watched is not None:
            if what == "dir_gone":
                if watched.path not in self._gone:
                    self._gone.add(watched.path)
                    self._notify(f"收件夹 {watched.key} 已被删除：重建之前放入的草稿无法收取；"
                                 "重建（或服务在下次全盘扫描时自动重建）后立即恢复监视", watched)
            elif watched.path.is_dir():
                self._folder_back(watched, "已重建")
                self._scan_folder(watched)
            return
        folder = self._folder_of(path)
        if folder is None or what != "dir" or entry_kind(path) != "dir":
            return
        try:
            key = (path, os.lstat(path).st_ino)
        except OSError:
            return
        if key in self._reported:
            return
        self._reported.add(key)
        where = f"{self.config.paths.inbox}/{folder.key + '/' if folder.key != ROOT_KEY else ''}"
        self._notify(f"「{readable(path.name)}」是文件夹：收件夹只收取直接放入的草稿文件，文件夹及其中的文件不会被处理；"
                     f"请把草稿本身放入 {where}", folder, name=readable(path.name), path=path)

    def _folder_back(self, f: Folder, how: str) -> None:
        """A watched folder exists again: its old watch died with it."""
        self.observers.rewatch(f)
        self._gone.discard(f.path)
        self._notify(f"收件夹 {f.key} {how}，已恢复监视", f)

    def _notify(self, message: str, folder: Folder | None = None, *, name: str | None = None,
                path: Path | None = None) -> None:
        log.warning(message)
        route = folder.route.folder if folder is not None and folder.route else None
        self._emit(IntakeEvent("notice", name or (folder.key if folder is not None else ""), route,
                               path=path or (folder.path if folder is not None else None), message=message))

    # -- the work --------------------------------------------------------------------------------
    def step(self) -> None:
        """Take in new events, then move every file that is ready, and retry failed claims that are
        due. Stops between documents when ``stop`` is set."""
        self._drain()
        self._check_space()
        now = self.clock()
        if not self.once and now >= self._next_rescan:
            self.scan()
            self._drain()
        for path in self.readiness.order():
            if self.stop.is_set():
                return
            c = self.readiness.get(path)
            if c is None or c.parked:
                continue
            key = _resolved(path)
            if key in self._inflight:
                continue
            verdict = self.readiness.judge(c)
            if verdict == "gone":
                self.readiness.forget(path)
            elif verdict == "wait":
                if self.once and c.finished_but_invalid:
                    # finished writing but not valid: once mode has no later pass to wait for
                    self._park(c, f"{c.reason}；文件仍留在收件夹中")
                else:
                    self._maybe_report_waiting(c)
            else:
                self._take(c, verdict)
        for d in sorted(self._retry):
            if self.stop.is_set():
                return
            claim, due = self._retry[d]
            if self.clock() >= due:
                del self._retry[d]
                self._handle(claim)

    def _route_of(self, c: Candidate) -> str | None:
        folder = self._folder_of(c.path)
        return folder.route.folder if folder is not None and folder.route else None

    def _maybe_report_waiting(self, c: Candidate) -> None:
        if self.readiness.report_due(c):
            msg = f"{c.reason}；若 {_human_s(self.readiness.time_left(c))}内仍无法打开，将退回 rejected/"
            log.info("等待 %s：%s", c.path, msg)
            self._emit(IntakeEvent("waiting", readable(c.path.name), self._route_of(c), path=c.path, message=msg))

    def _park(self, c: Candidate, message: str) -> None:
        self.readiness.park(c)
        log.info("未处理 %s：%s", c.path, message)
        self._emit(IntakeEvent("waiting", readable(c.path.name), self._route_of(c), path=c.path, message=message))

    def _take(self, c: Candidate, verdict: str) -> None:
        key = _resolved(c.path)
        self._inflight.add(key)
        try:
            self.readiness.forget(c.path)
            folder = self._folder_of(c.path)
            if folder is not None and folder.desk == "proofs" and self.proofdesk is not None:
                self.proofdesk.take(c, verdict, folder)
                return
            route_key = folder.key if folder is not None else ROOT_KEY
            state = {"take": "processing", "refuse": "refused"}.get(verdict, verdict)
            try:
                claim = self.claims.take(c.path, route_key, state=state, attempts=1 if verdict == "take" else 0,
                                         reason=(c.reason or "文件无法打开") if verdict == "invalid" else "")
            except OSError as e:
                # Left where it is; the next full rescan, an event, or space freed tries again.
                self._park(c, f"无法取走文件：{self._trouble(e)}")
                self.readiness.put_back(c)
                return
            if claim is None:
                return
            self._handle(claim, fresh=True)
        finally:
            self._inflight.discard(key)

    def recover(self) -> None:
        """Finish every claim an earlier run left in the work area (a crash, a kill, a failure), and
        index documents that were filed but not indexed (an index outage, a kill between the two)."""
        try:
            caught_up = self.hooks.catch_up(self.svc)
        except RegisterUnavailable as e:  # derived work only: the next start (or gongwen doctor --repair) does it
            log.warning("补编索引暂缓（登记簿忙）：%s", e)
            caught_up = []
        for ref in caught_up:
            self._emit(IntakeEvent("recovered", ref, message=f"{ref} 已归档未编入索引，现已补编"))
        for claim in self.claims.leftovers(self.stop):
            log.info("恢复认领的草稿 %s（状态 %s）", claim.path, claim.state)
            self._emit(IntakeEvent("recovered", claim.name, claim.route, path=claim.path,
                                   message=f"上次运行留下的草稿（{claim.state}），继续处理"))
            self._handle(claim)
        if self.proofdesk is not None:
            self.proofdesk.recover()
        self._tidy()

    # -- where each result goes ------------------------------------------------------------------
    def _handle(self, claim: Claim, *, fresh: bool = False) -> None:
        """Run one claimed draft (or 交办清单) through the pipeline and put it where the result says. A
        file operation that fails (a full disk) makes it 'failed': kept and tried again, never a stop.
        ``fresh``: claimed just now (its record already says what it is; see _take)."""
        try:
            self._handle_claim(claim, fresh)
        except OSError as e:
            log.warning("处理 %s 时文件操作失败：%s", claim.path, e)
            self._failed(claim, Outcome(file=str(claim.path), status="failed",
                                        problems=(Problem("处理", self._trouble(e)),)), 0.0)

    def _handle_claim(self, claim: Claim, fresh: bool) -> None:
        if claim.method == SNAPSHOT and self.proofdesk is not None:   # a 清样 retried
            self.proofdesk.handle(claim)
            return
        kind = entry_kind(claim.path)
        if kind not in ("file", None) or claim.state == "refused":
            # whatever the record says: only a regular file is ever opened
            problem = Problem("文件", _refusal(claim.path, kind))
            self._reject(claim, "unsupported", [problem], message=problem.message)
            return
        if claim.route_key == self.import_key:
            self._handle_import(claim, fresh)
            return
        if claim.route_key == self.receive_key:
            self._handle_received(claim, fresh)
            return
        known, route = self._route_for_key(claim.route_key)
        if not known:
            log.warning("路由 %s 已不在配置中，按无路由处理：%s", claim.route_key, claim.path)
        if claim.state == "unsupported" or claim.path.suffix.lower() not in self.hooks.suffixes:
            accepted = "、".join(sorted(self.hooks.suffixes))
            problem = Problem("文件类型", f"不支持 {claim.path.suffix or '无扩展名'} 文件；"
                                          f"请提交以下类型的草稿：{accepted}")
            self._reject(claim, "unsupported", [problem], message=problem.message)
            return
        if claim.state == "invalid":
            problem = Problem("文件", f"{claim.reason}（等待 {_human_s(self.intake_cfg.invalid_timeout_s)}"
                                      "后仍无法打开，请检查后重新提交）")
            self._reject(claim, "invalid", [problem], message=claim.reason)
            return
        # The pipeline ran on this claim before (a crash, a failure, an unconfirmed archive copy):
        # a "duplicate" answer may then be this very draft's own document.
        if fresh and claim.state == "processing":
            earlier = "claimed"     # claimed just now, recorded as processing in the same write
        else:
            earlier = claim.state
            claim.state, claim.attempts = "processing", claim.attempts + 1
            claim.save(durable=False)   # bookkeeping: see claims.claim_file
        t0 = time.perf_counter()
        try:
            outcome = self.hooks.process(claim.path, self.svc, route=route)
        except Exception as e:  # a bug or an unforeseen error must not stop the service
            log.exception("处理草稿时出错：%s", claim.path)
            outcome = Outcome(file=str(claim.path), status="failed",
                              problems=(Problem("处理", f"内部错误：{type(e).__name__}: {e}"),))
        seconds = outcome.seconds if outcome.seconds is not None else time.perf_counter() - t0
        if outcome.status == "issued":
            self._finish_issued(claim, outcome, seconds, earlier=earlier)
        elif outcome.status == "rejected":
            problems = list(outcome.problems) or [Problem("草稿", "草稿未通过检查")]
            errors = [p for p in problems if p.severity == "error"]
            self._reject(claim, "rejected", problems, outcome=outcome, seconds=seconds,
                         message=f"{len(errors or problems)} 个问题")
        else:
            self._failed(claim, outcome, seconds)

    def _start_other(self, claim: Claim, fresh: bool, suffixes: frozenset[str], takes: str, again: str) -> bool:
        """A claim from a folder of other files (督办, 收文): refuse a type it does not take or a file
        that never opened, each with its note; else mark it in progress. False when refused."""
        if claim.state == "unsupported" or claim.path.suffix.lower() not in suffixes:
            problem = Problem("文件类型", f"{takes}（{'、'.join(sorted(suffixes))}），"
                                          f"不收 {claim.path.suffix or '无扩展名'} 文件")
            self._reject(claim, "unsupported", [problem], message=problem.message)
            return False
        if claim.state == "invalid":
            problem = Problem("文件", f"{claim.reason}（请检查后{again}）")
            self._reject(claim, "invalid", [problem], message=claim.reason)
            return False
        if not (fresh and claim.state == "processing"):   # claimed just now: recorded so already
            claim.state, claim.attempts = "processing", claim.attempts + 1
            claim.save()
        return True

    def _handle_import(self, claim: Claim, fresh: bool = False) -> None:
        """A 交办清单 from the 督办 folder: its good rows go onto the 督办台账. All taken → the file is
        kept with the 台账 (archive/督办/交办清单/); rows left out → the file goes to rejected/ with a
        note naming each row (re-dropping it after the fix adds only those rows)."""
        if not self._start_other(claim, fresh, self.hooks.import_suffixes, "督办文件夹只收交办清单", "重新提交"):
            return
        t0 = time.perf_counter()
        try:
            result = self.hooks.import_items(self.svc, claim.path)
        except GongwenError as e:       # the file itself cannot be read: nothing was taken
            self._reject(claim, "rejected", [Problem("交办清单", str(e))], message=str(e))
            return
        except Exception as e:  # a busy register, a bug: keep the file and try again
            log.exception("录入交办清单时出错：%s", claim.path)
            self._failed(claim, Outcome(file=str(claim.path), status="failed",
                                        problems=(Problem("督办", f"录入未完成：{type(e).__name__}: {e}"),)),
                         time.perf_counter() - t0)
            return
        seconds = time.perf_counter() - t0
        if result.rejected:
            taken = [i.reference for i in (*result.added, *result.existing)]
            header = (f"本清单其余 {len(taken)} 件已录入督办台账" + (f"（{'、'.join(taken[:20])}）" if taken else "")
                      + f"；修改下列各行后，可将整个文件重新放入 {self.config.paths.inbox}/{self.import_key}/，"
                        "已录入的不会重复")
            self._reject(claim, "rejected", result.problems(), message=result.summary(), seconds=seconds,
                         header=header)
            return
        try:
            dest = move_to_free(claim.path, self.config.archive_dir / "督办" / "交办清单",
                                f"{datetime.now():%Y%m%d}-{claim.name}")
        except OSError as e:
            log.error("交办清单已录入，但无法移入档案目录：%s（%s），保留在工作区", claim.path, e)
            return
        drop_claim_dir(claim.dir)
        log.info("督办 ← %s：%s", claim.name, result.summary())
        self._count("supervised")
        self._emit(IntakeEvent("supervised", claim.name, self.import_key, path=dest, message=result.summary(),
                               seconds=seconds))

    def _handle_received(self, claim: Claim, fresh: bool = False) -> None:
        """A document from the 收文 folder: registered → the claimed copy goes once the archive holds it
        as the record's 原件; refused (涉密, encrypted, damaged …) or a duplicate → rejected/ with a note
        saying why; failed → kept and retried (receiving it again resumes with the same 收文号)."""
        if not self._start_other(claim, fresh, self.hooks.receive_suffixes, "收文文件夹只收来文", "重新放入"):
            return
        t0 = time.perf_counter()
        try:
            r = self.hooks.receive(self.svc, claim.path)
        except Exception as e:  # a bug must not stop the service: keep the file and try again
            log.exception("收文时出错：%s", claim.path)
            self._failed(claim, Outcome(file=str(claim.path), status="failed",
                                        problems=(Problem("收文", f"内部错误：{type(e).__name__}: {e}"),)),
                         time.perf_counter() - t0)
            return
        seconds = r.seconds if r.seconds is not None else time.perf_counter() - t0
        problems = list(r.problems)
        if r.status == "registered" or (r.status == "duplicate" and r.reference and claim.attempts > 1):
            from ..incoming import record_for

            rec = record_for(self.svc, r.reference)
            original = rec.file("原件") if rec is not None else None
            if original is not None and original.is_file() and same_content(original, claim.path):
                self.claims.release(claim)
            else:
                claim.state = "kept"
                claim.save()
            what = " ".join(x for x in ((r.elements or {}).get("sender"), (r.elements or {}).get("title")) if x)
            log.info("收文 %s ← %s（%s）%.1f s", r.reference, claim.name, what, seconds)
            self._count("received")
            self._emit(IntakeEvent("received", claim.name, self.receive_key, path=claim.path,
                                   message=f"{r.reference}　{what}".strip(), seconds=seconds))
        elif r.status == "failed":
            self._failed(claim, Outcome(file=str(claim.path), status="failed", problems=tuple(problems)), seconds)
        else:
            kind = "duplicate" if r.status == "duplicate" else "rejected"
            if kind == "duplicate" and not r.reference:
                problems.append(Problem("重复", "如确为另一份文件（如更正件），请用 gongwen receive --allow-duplicate 登记",
                                        "warning"))
            self._reject(claim, kind, problems or [Problem("收文", "未能收文")],
                         message="；".join(p.message for p in problems if p.severity == "error") or
                         (problems[0].message if problems else "未能收文"), seconds=seconds)

    def turn_day(self) -> None:
        """At the first step of each new day: the day-turn hook (督办件 逾期), logged and shown."""
        today = self.today()
        if today == self._day:
            return
        self._day = today
        try:
            line = self.hooks.day_turn(self.svc, today)
        except Exception:  # the service goes on; the next day (or a restart) tries again
            log.exception("日切处理出错（%s）", today)
            return
        if line:
            log.info("日切 %s：%s", today, line)
            self._emit(IntakeEvent("day_turn", message=line))

    def _finish_issued(self, claim: Claim, outcome: Outcome, seconds: float, *, earlier: str) -> None:
        resumed = earlier in ("processing", "failed", "kept")
        duplicate_msg = f"内容与已发文件 {outcome.number} 相同，未重复编号"
        if outcome.duplicate and not resumed:
            # A fresh drop of content already issued: one document, and the clerk is told so.
            self._reject(claim, "duplicate", [Problem("重复提交", duplicate_msg)], outcome=outcome,
                         message=duplicate_msg, seconds=seconds)
            return
        try:
            held = self.hooks.archived(self.svc, outcome, claim.path)
        except Exception:
            log.exception("核对档案中的原稿时出错：%s", claim.path)
            held = False
        if not held:
            if outcome.duplicate and earlier != "kept":
                # Resumed, the document exists, but this file is not its archived original: a second
                # drop of the same content that was interrupted. Say so; keep the file.
                self._reject(claim, "duplicate", [Problem("重复提交", duplicate_msg)], outcome=outcome,
                             message=duplicate_msg, seconds=seconds)
                return
            claim.state = "kept"
            claim.save()
            msg = f"已发文 {outcome.number}，但未能确认档案中有相同的原稿，草稿保留在 {claim.path}"
            log.error(msg)
            self._count("kept")
            self._emit(IntakeEvent("kept", claim.name, claim.route, outcome=outcome, path=claim.path,
                                   message=msg, seconds=seconds))
            return
        self.claims.release(claim)
        log.info("发文 %s ← %s（%s）%.1f s%s", outcome.number, claim.name, outcome.title or "",
                 seconds, "（恢复）" if resumed else "")
        self._count("issued")
        self._emit(IntakeEvent("issued", claim.name, claim.route, outcome=outcome, seconds=seconds,
                               message="上次中断后完成" if resumed else ""))

    def _reject(self, claim: Claim, kind: EventKind, problems: list[Problem], *, message: str,
                outcome: Outcome | None = None, seconds: float | None = None, header: str = "") -> None:
        header = (f"收件夹：{self.config.paths.inbox}/{claim.route_key if claim.route_key != ROOT_KEY else ''}"
                  + (f"\n{header}" if header else ""))
        if claim.renamed:
            problems = [*problems, Problem("文件名", f"原文件名不是 UTF-8 编码（常见于从 Windows 共享复制的 GBK 文件名），"
                                                    f"已改为「{claim.name}」", "warning")]
        try:
            dest, note = self.claims.reject(claim, self.config.rejected, problems, self.hooks.write_note,
                                            header=header)
        except OSError as e:
            log.error("无法把 %s 移到 rejected/：%s；草稿保留在工作区", claim.path, e)
            self._failed(claim, Outcome(file=str(claim.path), status="failed",
                                        problems=(Problem("退回", f"无法写入 rejected/：{e}"),)), seconds or 0.0)
            return
        drop_claim_dir(claim.dir)
        log.info("退回 %s → %s：%s", claim.name, dest, message)
        self._count(kind)
        self._emit(IntakeEvent(kind, claim.name, claim.route, outcome=outcome, path=dest,
                               note=note, message=message, seconds=seconds))

    def _failed(self, claim: Claim, outcome: Outcome, seconds: float) -> None:
        claim.state = "failed"
        with contextlib.suppress(OSError):
            claim.save()
        if self._space_wait is None and (full := low_disk(self._disks)) is not None:
            self._wait_for_space(full)
        delay = RETRY_DELAYS_S[min(claim.attempts, len(RETRY_DELAYS_S)) - 1] if claim.attempts else RETRY_DELAYS_S[0]
        reason = "；".join(p.message for p in outcome.problems) or "处理失败"
        if self.once:
            msg = f"{reason}；草稿保留在 {claim.path}，下次启动时重试"
            retry = None
        else:
            self._retry[claim.dir] = (claim, self.clock() + delay)
            msg = f"{reason}；{_human_s(delay)}后重试（草稿保留在 {claim.path}）"
            retry = delay
        log.warning("失败 %s（第 %d 次）：%s", claim.name, claim.attempts, msg)
        self._count("failed")
        self._emit(IntakeEvent("failed", claim.name, claim.route, outcome=outcome,
                               path=claim.path, message=msg, seconds=seconds, retry_in=retry))

    # -- a full disk -----------------------------------------------------------------------------
    def _trouble(self, e: OSError) -> str:
        """A failed file operation in one Chinese sentence; a full disk is named, and watched."""
        full = full_disk(self._disks, e)
        if full is not None:
            self._wait_for_space(full)
            return f"{disk_full_message(full)}；释放空间后自动继续"
        where = f" {readable_path(e.filename)}" if getattr(e, "filename", None) else ""
        return f"文件操作失败{where}（{e.strerror or e}）"

    def _wait_for_space(self, path: Path) -> None:
        if self._space_wait is None:
            self._space_wait = path
            self._notify(f"{disk_full_message(path)}；服务继续运行，空间释放后自动继续办理")

    def _check_space(self) -> None:
        """Once the full disk has room again, retry at once what failed and look again at every
        folder (a file that could not be claimed is waiting there)."""
        if self._space_wait is None:
            return
        free = free_bytes(self._space_wait)
        if free is None or free < LOW_SPACE_BYTES:
            return
        self._notify(f"磁盘空间已释放（{readable_path(mount_point(self._space_wait))} 可用 {human_bytes(free)}），继续办理")
        self._space_wait = None
        now = self.clock()
        self._retry = {d: (claim, min(due, now)) for d, (claim, due) in self._retry.items()}
        self.scan()
        self._drain()

    def _emit(self, ev: IntakeEvent) -> None:
        try:
            self.on_event(ev)
        except Exception:  # a broken console must not stop the service
            log.exception("事件回调出错")

    def _count(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    # -- loop helpers ----------------------------------------------------------------------------
    def _tidy(self) -> None:
        """Remove released claim folders (the inbox's and the 清样 folders' snapshots)."""
        self.claims.tidy()
        if self.proofdesk is not None:
            self.proofdesk.claims.tidy()

    def busy(self) -> bool:
        """True while some file is pending (not parked) — used by once mode."""
        return self.readiness.busy()

    def wait(self) -> None:
        """Tidy up, then sleep until an event arrives, the stop flag is set, or the next tick."""
        self._tidy()
        self.wake.wait(TICK_S)
        self.wake.clear()

    @property
    def pending_retries(self) -> int:
        return len(self._retry)


def _refusal(path: Path, kind: str | None) -> str:
    """Why an entry that is not a regular file is not taken, in the clerk's words."""
    if kind == "link":
        try:
            target = f"，指向 {readable(os.readlink(path))}"
        except OSError:
            target = ""
        what = f"这是一个符号链接（快捷方式）{target}"
    else:
        what = {"fifo": "这是一个命名管道（FIFO），不是文件", "device": "这是一个设备文件，不是草稿文件",
                "socket": "这是一个套接字，不是文件", "dir": "这是一个文件夹"}.get(kind or "", "这不是普通文件")
    return (f"{what}；收件夹只收取草稿文件本身，不会打开或读取它（符号链接指向的内容也不读取）。"
            "请把草稿文件本身放入收件夹")


def _resolved(p: Path) -> Path:
    try:
        return p.resolve()
    except OSError:
        return p.absolute()


def _human_s(s: float) -> str:
    if s >= 90:
        return f"{round(s / 60)} 分钟"
    return f"{max(1, round(s))} 秒"


@contextlib.contextmanager
def single_watcher(config: Config) -> Iterator[None]:
    """One watcher per instance: a second would 'recover' the first's live claims."""
    config.work_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(config.work_dir / ".watch.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise GongwenError(f"另一个 gongwen watch 正在处理此实例（{config.work_dir}），请勿重复启动") from None
    try:
        yield
    finally:
        lock.release()


def watch(config: Config, svc_factory: Callable[[], ContextManager[Services]], *, on_event: OnEvent,
          stop: threading.Event | None = None, once: bool = False, hooks: Hooks | None = None,
          clock: Callable[[], float] = time.monotonic, today: Callable[[], date] = date.today) -> dict[str, int]:
    """The watched-folder service: one per instance; opens the pipeline's services once, then
    ``Intake.run()`` (or ``run_once()``). Returns counts by event kind."""
    with single_watcher(config), svc_factory() as svc:
        intake = Intake(config, svc, on_event=on_event, hooks=hooks or default_hooks(config), clock=clock,
                        stop=stop, today=today)
        return intake.run_once() if once else intake.run()
