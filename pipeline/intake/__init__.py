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
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator, Literal

from filelock import FileLock, Timeout

from ..config import Config, Route
from ..errors import GongwenError
from ..fsutil import readable
from ..model import Outcome, Problem
from .claims import (CLAIM_RECORD, CLAIMS_DIR, ROOT_KEY, Claim, Claims, claim_file, drop_claim_dir,
                     move_noclobber, note_path, same_content)
from .observers import Folder, Observers
from .readiness import IGNORED_PATTERNS, Candidate, Readiness, is_ignored

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


OnEvent = Callable[[IntakeEvent], None]


@dataclass(frozen=True)
class Hooks:
    """The pipeline as the watcher sees it. ``default_hooks()`` wires the real modules; unit tests
    pass fakes."""

    process: Callable[..., Outcome]            # process_draft(path, svc, *, route=None)
    write_note: Callable[..., Path]            # write_note(problems, draft_name, dest_dir, *, header="")
    probe: Callable[[Path], str | None]        # None when the file opens, else a Chinese reason
    suffixes: frozenset[str]                   # accepted draft suffixes, lower case with the dot
    archived: Callable[[Any, Outcome, Path], bool]  # does the archive hold an identical copy?
    catch_up: Callable[[Any], list[str]] = lambda svc: []  # index what was filed but not indexed


def default_hooks(config: Config) -> Hooks:
    from .. import drafts, process

    return Hooks(
        process=process.process_draft,
        write_note=process.write_note,
        probe=drafts.probe,
        suffixes=frozenset(s.lower() for s in drafts.SUPPORTED_SUFFIXES),
        archived=archive_holds_copy,
        catch_up=process.catch_up,
    )


def archive_holds_copy(svc: Any, outcome: Outcome, claimed: Path) -> bool:
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

    def __init__(self, config: Config, svc: Any, *, on_event: OnEvent, hooks: Hooks,
                 clock: Callable[[], float] = time.monotonic, stop: threading.Event | None = None):
        self.config, self.svc, self.on_event, self.hooks = config, svc, on_event, hooks
        self.clock = clock
        self.stop = stop or threading.Event()
        self.intake_cfg = config.intake
        any_share = any(r.share for r in config.intake.routes)
        self.folders: list[Folder] = [Folder(config.inbox / r.folder, r, r.share) for r in config.intake.routes]
        # inbox/ itself: polled if any route is a share (it is then most likely on the share too).
        self.folders.append(Folder(config.inbox, None, any_share))
        self.readiness = Readiness(stable_seconds=config.intake.stable_seconds,
                                   invalid_timeout_s=config.intake.invalid_timeout_s,
                                   suffixes=hooks.suffixes, probe=hooks.probe, clock=clock)
        self.claims = Claims(config.work_dir / CLAIMS_DIR)
        self._events: queue.SimpleQueue[tuple[Path, str]] = queue.SimpleQueue()
        self.wake = threading.Event()
        self._inflight: set[Path] = set()
        self._retry: dict[Path, tuple[Claim, float]] = {}   # claim dir -> (claim, due)
        self.observers = Observers(self.folders, self.notice, poll_interval_s=config.intake.poll_interval_s)
        self._next_rescan = 0.0
        self.counts: dict[str, int] = {}

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
            modes = "、".join(f"{f.key}（{'轮询' if f.share else '实时'}）" for f in self.folders)
            self._emit(IntakeEvent("started", message=f"正在监视 {self.config.inbox}：{modes}"))
            log.info("开始监视：%s", modes)
            self.recover()
            self.scan()
            while not self.stop.is_set():
                self.step()
                self.wait()
        return self._stopped()

    def run_once(self) -> dict[str, int]:
        """Process what is waiting (and what an earlier run left), then return: a file still being
        written or not valid after ``invalid_timeout_s`` is left in place and reported."""
        self.ensure_folders()
        self.once = True
        self.recover()
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
        log.info("停止监视；统计：%s", self.counts)
        self._emit(IntakeEvent("stopped", message="已停止"))
        return dict(self.counts)

    # -- set-up ----------------------------------------------------------------------------------
    def ensure_folders(self) -> None:
        for f in self.folders:
            f.path.mkdir(parents=True, exist_ok=True)
        self.claims.ensure()
        self.config.rejected.mkdir(parents=True, exist_ok=True)

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
            try:
                if not f.path.is_dir():
                    f.path.mkdir(parents=True, exist_ok=True)
                    self.observers.rewatch(f)
                names = sorted(os.listdir(f.path))
            except OSError as e:
                log.warning("无法读取收件夹 %s：%s", f.path, e)
                continue
            for n in names:
                p = f.path / n
                if p.is_file():
                    self._events.put((p, "seen"))
        self._next_rescan = self.clock() + self.intake_cfg.rescan_interval_s

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
            folder = self._folder_of(path)
            if folder is None:
                continue
            self.readiness.notice(path, what, share=folder.share, now=now)  # type: ignore[arg-type]

    # -- the work --------------------------------------------------------------------------------
    def step(self) -> None:
        """Take in new events, then move every file that is ready, and retry failed claims that are
        due. Stops between documents when ``stop`` is set."""
        self._drain()
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
            route_key = folder.key if folder is not None else ROOT_KEY
            try:
                claim = self.claims.take(c.path, route_key)
            except OSError as e:
                # Left where it is; the next full rescan (or an event) tries again.
                self._park(c, f"无法取走文件（{e.strerror or e}）；将在下次扫描时重试")
                self.readiness.put_back(c)
                return
            if claim is None:
                return
            if verdict == "invalid":
                claim.state, claim.reason = "invalid", c.reason or "文件无法打开"
                claim.save()
            elif verdict == "unsupported":
                claim.state = "unsupported"
                claim.save()
            self._handle(claim)
        finally:
            self._inflight.discard(key)

    def recover(self) -> None:
        """Finish every claim an earlier run left in the work area (a crash, a kill, a failure), and
        index documents that were filed but not indexed (an index outage, a kill between the two)."""
        for ref in self.hooks.catch_up(self.svc):
            self._emit(IntakeEvent("recovered", ref, message=f"{ref} 已归档未编入索引，现已补编"))
        for claim in self.claims.leftovers(self.stop):
            log.info("恢复认领的草稿 %s（状态 %s）", claim.path, claim.state)
            self._emit(IntakeEvent("recovered", claim.name, claim.route, path=claim.path,
                                   message=f"上次运行留下的草稿（{claim.state}），继续处理"))
            self._handle(claim)

    # -- where each result goes ------------------------------------------------------------------
    def _handle(self, claim: Claim) -> None:
        """Run one claimed draft through the pipeline and put it where the result says."""
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
        earlier = claim.state
        claim.state, claim.attempts = "processing", claim.attempts + 1
        claim.save()
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
                outcome: Outcome | None = None, seconds: float | None = None) -> None:
        header = f"收件夹：{self.config.paths.inbox}/{claim.route_key if claim.route_key != ROOT_KEY else ''}"
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

    def _emit(self, ev: IntakeEvent) -> None:
        try:
            self.on_event(ev)
        except Exception:  # a broken console must not stop the service
            log.exception("事件回调出错")

    def _count(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    # -- loop helpers ----------------------------------------------------------------------------
    def busy(self) -> bool:
        """True while some file is pending (not parked) — used by once mode."""
        return self.readiness.busy()

    def wait(self) -> None:
        """Sleep until an event arrives, the stop flag is set, or the next tick."""
        self.wake.wait(TICK_S)
        self.wake.clear()

    @property
    def pending_retries(self) -> int:
        return len(self._retry)


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


def watch(config: Config, svc_factory: Callable[[], ContextManager[Any]], *, on_event: OnEvent,
          stop: threading.Event | None = None, once: bool = False, hooks: Hooks | None = None,
          clock: Callable[[], float] = time.monotonic) -> dict[str, int]:
    """The watched-folder service: one per instance; opens the pipeline's services once, then
    ``Intake.run()`` (or ``run_once()``). Returns counts by event kind."""
    with single_watcher(config), svc_factory() as svc:
        intake = Intake(config, svc, on_event=on_event, hooks=hooks or default_hooks(config), clock=clock,
                        stop=stop)
        return intake.run_once() if once else intake.run()
