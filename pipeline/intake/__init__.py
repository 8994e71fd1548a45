"""The watched drop folders: wait until a dropped draft is finished and valid, claim it into the work
area, run the pipeline on it, and put the draft where its result says (archive, rejected/, or kept for
a retry) — exactly once, and safe against a crash at any moment.

The parts, each with its own job:

- ``readiness``: is a file finished and worth claiming? (pure; notices in, verdicts out; injected clock)
- ``claims``: take a file into the work area, move it on without overwriting, find leftovers
- ``observers``: filesystem events (inotify, or polling for shares) turned into notices
- ``handlers``: what is done with a claim, by kind (draft, 交办清单, 收文, 清样 snapshot)
- ``outcomes``: where a claim's result puts the file, how it is reported, and the retry of failures
- ``space``: a full disk named, watched, and the service going on once space is freed
- ``proofdesk``: the 清样 folders (a 清样 beside the draft; the draft never moves)
- ``events``: what the watcher reports (``IntakeEvent``) and the one ``Reporter`` every part uses
- ``hooks``: the pipeline as the watcher sees it (``Hooks``, ``default_hooks``)
- this module: ``Intake``, the coordinator (folders, scanning, the loop: ``run()`` / ``run_once()`` /
  ``step()``), and ``watch()``, the service.

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
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Callable, ContextManager, Iterator

from filelock import FileLock, Timeout

from ..config import Config
from ..errors import GongwenError, RegisterUnavailable
from ..fsutil import note_path, readable
from .claims import CLAIM_RECORD, CLAIMS_DIR, ROOT_KEY, Claim, Claims, claim_file, move_noclobber
from .events import EventKind, IntakeEvent, OnEvent, Reporter, human_s
from .handlers import Handlers
from .hooks import Hooks, archive_holds_copy, default_hooks
from .observers import Folder, Observers
from .outcomes import RETRY_DELAYS_S, Outcomes
from .proofdesk import ProofDesk
from .readiness import IGNORED_PATTERNS, Candidate, Readiness, entry_kind, is_ignored
from .space import SpaceGuard

if TYPE_CHECKING:
    from ..process import Services  # the pipeline's services (tests pass fakes of the same shape)

__all__ = [
    "Intake", "IntakeEvent", "EventKind", "OnEvent", "Hooks", "Folder", "default_hooks", "watch",
    "single_watcher", "archive_holds_copy", "is_ignored", "IGNORED_PATTERNS", "Claim", "Claims",
    "claim_file", "move_noclobber", "note_path", "CLAIM_RECORD", "CLAIMS_DIR", "ROOT_KEY",
    "RETRY_DELAYS_S", "TICK_S",
]

log = logging.getLogger("gongwen.intake")

# How often the main loop looks at the stop flag and at pending files' stability.
TICK_S = 0.2


# --- the intake -----------------------------------------------------------------------------------
class Intake:
    """The watched-folder service for one instance: observers feed the readiness gate; ready files are
    claimed and handed to ``handlers`` (which run them and let ``outcomes`` put them where the result
    says); failures are retried when ``outcomes.retries`` says. All decisions run on the thread that
    calls ``run()``, ``run_once()`` or ``step()``."""

    def __init__(self, config: Config, svc: Services, *, on_event: OnEvent, hooks: Hooks,
                 clock: Callable[[], float] = time.monotonic, stop: threading.Event | None = None,
                 today: Callable[[], date] = date.today):
        self.config, self.svc, self._hooks = config, svc, hooks
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
        self.readiness = Readiness(stable_seconds=config.intake.stable_seconds,
                                   invalid_timeout_s=config.intake.invalid_timeout_s,
                                   suffixes=hooks.suffixes, probe=hooks.probe, clock=clock, by_folder=by_folder)
        self.claims = Claims(config.work_dir / CLAIMS_DIR)
        self.reporter = Reporter(on_event)
        # The disks the service writes to; one found full is watched until space is freed.
        self.space = SpaceGuard((config.work_dir, config.archive_dir, config.rejected, config.inbox), self.reporter)
        self.outcomes = Outcomes(config, svc, hooks, self.claims, self.reporter, self.space, clock=clock,
                                 once=lambda: self.once)
        # proofs/<route>/ and proofs/ itself: the same gate and claims, a 清样 beside the draft
        self.proofdesk = (ProofDesk(config, svc, hooks, self.reporter, self.outcomes, set_aside=self._set_aside,
                                    stop=self.stop) if hooks.proof is not None else None)
        if self.proofdesk is not None:
            self.folders += self.proofdesk.folders
        self.handlers = Handlers(config, svc, hooks, self.claims, self.outcomes, self.reporter, self.space,
                                 proofdesk=self.proofdesk, import_key=self.import_key, receive_key=self.receive_key)
        self._events: queue.SimpleQueue[tuple[Path, str]] = queue.SimpleQueue()
        self.wake = threading.Event()
        self.inflight: set[Path] = set()   # files being taken right now (resolved paths): step() skips them
        self.observers = Observers(self.folders, self.notice, poll_interval_s=config.intake.poll_interval_s)
        self._next_rescan = 0.0
        self._gone: set[Path] = set()                       # watched folders seen deleted
        self._reported: set[tuple[Path, int]] = set()       # subfolders already reported

    @property
    def once(self) -> bool:
        """Once mode: nothing is left for a later pass (no retries scheduled, invalid files parked)."""
        return self.readiness.once

    @once.setter
    def once(self, value: bool) -> None:
        self.readiness.once = value

    @property
    def hooks(self) -> Hooks:
        """The pipeline as this intake sees it; every part is given it when the intake is made."""
        return self._hooks

    @property
    def counts(self) -> dict[str, int]:
        """Events so far, by kind."""
        return self.reporter.counts

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
            self.reporter.emit(IntakeEvent("started", message=where))
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
        self.drain()
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
        self.reporter.emit(IntakeEvent("stopped", message="已停止"))
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

    def drain(self) -> None:
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
                    self.reporter.notify(f"收件夹 {watched.key} 已被删除：重建之前放入的草稿无法收取；"
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
        self.reporter.notify(f"「{readable(path.name)}」是文件夹：收件夹只收取直接放入的草稿文件，文件夹及其中的文件不会被处理；"
                             f"请把草稿本身放入 {where}", folder, name=readable(path.name), path=path)

    def _folder_back(self, f: Folder, how: str) -> None:
        """A watched folder exists again: its old watch died with it."""
        self.observers.rewatch(f)
        self._gone.discard(f.path)
        self.reporter.notify(f"收件夹 {f.key} {how}，已恢复监视", f)

    # -- the work --------------------------------------------------------------------------------
    def step(self) -> None:
        """Take in new events, then move every file that is ready, and retry failed claims that are
        due. Stops between documents when ``stop`` is set."""
        self.drain()
        self._check_space()
        now = self.clock()
        if not self.once and now >= self._next_rescan:
            self.scan()
            self.drain()
        for path in self.readiness.order():
            if self.stop.is_set():
                return
            c = self.readiness.get(path)
            if c is None or c.parked:
                continue
            key = _resolved(path)
            if key in self.inflight:
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
        for d in self.outcomes.retries.folders():
            if self.stop.is_set():
                return
            claim = self.outcomes.retries.pop_due(d, self.clock())
            if claim is not None:
                self.handlers.handle(claim)

    def _route_of(self, c: Candidate) -> str | None:
        folder = self._folder_of(c.path)
        return folder.route.folder if folder is not None and folder.route else None

    def _maybe_report_waiting(self, c: Candidate) -> None:
        if self.readiness.report_due(c):
            msg = f"{c.reason}；若 {human_s(self.readiness.time_left(c))}内仍无法打开，将退回 rejected/"
            log.info("等待 %s：%s", c.path, msg)
            self.reporter.emit(IntakeEvent("waiting", readable(c.path.name), self._route_of(c), path=c.path,
                                           message=msg))

    def _park(self, c: Candidate, message: str) -> None:
        self.readiness.park(c)
        log.info("未处理 %s：%s", c.path, message)
        self.reporter.emit(IntakeEvent("waiting", readable(c.path.name), self._route_of(c), path=c.path,
                                       message=message))

    def _set_aside(self, c: Candidate, message: str) -> None:
        """Could not be taken now: left where it is, reported; the next full rescan, an event, or space
        freed tries again."""
        self._park(c, message)
        self.readiness.put_back(c)

    def _take(self, c: Candidate, verdict: str) -> None:
        key = _resolved(c.path)
        self.inflight.add(key)
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
                self._set_aside(c, f"无法取走文件：{self.space.trouble(e)}")
                return
            if claim is None:
                return
            self.handlers.handle(claim, fresh=True)
        finally:
            self.inflight.discard(key)

    def recover(self) -> None:
        """Finish every claim an earlier run left in the work area (a crash, a kill, a failure), and
        index documents that were filed but not indexed (an index outage, a kill between the two)."""
        try:
            caught_up = self.hooks.catch_up(self.svc)
        except RegisterUnavailable as e:  # derived work only: the next start (or gongwen doctor --repair) does it
            log.warning("补编索引暂缓（登记簿忙）：%s", e)
            caught_up = []
        for ref in caught_up:
            self.reporter.emit(IntakeEvent("recovered", ref, message=f"{ref} 已归档未编入索引，现已补编"))
        for claim in self.claims.leftovers(self.stop):
            log.info("恢复认领的草稿 %s（状态 %s）", claim.path, claim.state)
            self.reporter.emit(IntakeEvent("recovered", claim.name, claim.route, path=claim.path,
                                           message=f"上次运行留下的草稿（{claim.state}），继续处理"))
            self.handlers.handle(claim)
        if self.proofdesk is not None:
            self.proofdesk.recover()
        self._tidy()

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
            self.reporter.emit(IntakeEvent("day_turn", message=line))

    def _check_space(self) -> None:
        """Once the full disk has room again, retry at once what failed and look again at every
        folder (a file that could not be claimed is waiting there)."""
        if not self.space.freed():
            return
        self.outcomes.retries.all_due(self.clock())
        self.scan()
        self.drain()

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
        return len(self.outcomes.retries)


def _resolved(p: Path) -> Path:
    try:
        return p.resolve()
    except OSError:
        return p.absolute()



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
