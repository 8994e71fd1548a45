"""The watched drop folders: wait until a dropped draft is finished and valid, claim it into the work
area, run the pipeline on it, and put the draft where its result says (archive, rejected/, or kept for
a retry) — exactly once, and safe against a crash at any moment.

How a file travels (peers.md pitfalls 1–4):

    inbox/<route>/草稿.docx
      │  readiness gate: the writer has finished (inotify `closed`/moved-in, or `stable_seconds` of
      │  unchanged size+mtime under polling and rescans) AND drafts.probe() says it opens
      ▼  claim: atomic rename (EXDEV: copy + fsync + rename, then unlink the source)
    work/<route>/<token>/草稿.docx  +  .claim.json (route, source, state)
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
import errno
import fnmatch
import hashlib
import json
import logging
import os
import queue
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterator, Literal

from filelock import FileLock, Timeout
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.polling import PollingObserver

from .config import Config, Route
from .errors import GongwenError
from .fsutil import atomic_copy, atomic_write_text
from .model import Outcome, Problem

log = logging.getLogger("gongwen.intake")

# --- what is never a draft ----------------------------------------------------------------------
# Editors' lock/owner files, partial downloads and uploads, editor swap and backup files. These are
# transient or private to an editor, so they are ignored silently (a clerk never meant to submit them).
# WPS writes `~$name.docx` owner files on Windows (like Word) and hidden `.~name.docx` lock files on
# Linux (caught by the hidden-file rule); Word's save-time temp files are `~WRL0001.tmp`/`~WRD0000.tmp`,
# its optional backups `Backup of X.wbk`, its AutoRecover files `*.asd`.
IGNORED_PATTERNS: tuple[str, ...] = (
    "~$*", "~*.tmp", ".~lock.*#", "*.part", "*.partial", "*.filepart", "*.tmp", "*.temp",
    "*.crdownload", "*.download", "*.swp", "*.swo", "*.swx", "*~", "*.wbk", "*.asd",
    "thumbs.db", "desktop.ini", "icon\r",
    # gongwen's own outputs beside a draft: a 问题 note, a 清样 (a note dragged back from rejected/
    # with its corrected draft is not a second draft)
    "*.问题.txt", "*.清样.pdf",
)

# The claim record beside a claimed draft; hidden, so it can never collide with a draft's name.
CLAIM_RECORD = ".claim.json"
# Claims live in work_dir/claims/<route>/<token>/ (work_dir also holds the pipeline's own scratch).
CLAIMS_DIR = "claims"
# Where drafts dropped straight into inbox/ (no route folder) are claimed; they go through the pipeline
# with route=None, so the draft's own metadata must name its series.
ROOT_KEY = "_收件箱"

# Retry delays for a draft whose processing failed (LibreOffice down, disk full …). Capped at 10 min:
# a fixed cause (LibreOffice restarted) is picked up within minutes, and a draft that keeps failing
# costs one attempt per 10 min, each logged, instead of a busy loop. Every start retries at once.
RETRY_DELAYS_S: tuple[float, ...] = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0)

# How often the main loop looks at the stop flag and at pending files' stability.
TICK_S = 0.2


def is_ignored(name: str) -> bool:
    """True for hidden, lock, temp and partial files: they are never drafts and are never touched."""
    if not name or name.startswith("."):
        return True
    low = name.lower()
    return any(fnmatch.fnmatchcase(low, pat) for pat in IGNORED_PATTERNS)


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
    from . import drafts, process

    return Hooks(
        process=process.process_draft,
        write_note=process.write_note,
        probe=drafts.probe,
        suffixes=frozenset(s.lower() for s in drafts.SUPPORTED_SUFFIXES),
        archived=archive_holds_copy,
        catch_up=process.catch_up,
    )


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def archive_holds_copy(svc: Any, outcome: Outcome, claimed: Path) -> bool:
    """True when the document's archive record holds a byte-identical copy of ``claimed`` as its
    原稿 — only then may the claimed copy be removed (a move into the archive, nothing lost)."""
    if not outcome.number:
        return False
    rec = svc.store.find(outcome.number)   # by its folder name first: no metadata scan
    original = rec.file("原稿") if rec is not None else None
    if original is None or not original.is_file():
        return False
    if original.stat().st_size != claimed.stat().st_size:
        return False
    return sha256_file(original) == sha256_file(claimed)


# --- file moves that never overwrite --------------------------------------------------------------
def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _free_name(folder: Path, name: str, *, with_note: bool) -> Path:
    """``folder/name`` or ``name (2).ext`` …: the first name not taken (and, with ``with_note``, whose
    ``.问题.txt`` is not taken either) — user files are never overwritten."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for i in range(1, 100000):
        cand = folder / (name if i == 1 else f"{stem} ({i}){suffix}")
        if not cand.exists() and not (with_note and note_path(cand).exists()):
            return cand
    raise FileExistsError(folder / name)


def note_path(draft: Path) -> Path:
    return draft.with_name(draft.name + ".问题.txt")


def move_noclobber(src: Path, dst: Path) -> Path:
    """Move ``src`` to ``dst`` without ever replacing an existing file: hard link + unlink on one
    filesystem (link fails if ``dst`` exists), copy + fsync + unlink across filesystems or where links
    are unsupported. The source is removed only once the destination is durable."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError as e:
        if e.errno == errno.EEXIST:
            raise
        if e.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if dst.exists():
            raise FileExistsError(dst) from e
        atomic_copy(src, dst, mode=0o644)
    _fsync_dir(dst.parent)
    os.unlink(src)
    _fsync_dir(src.parent)
    return dst


def _move_to_free(src: Path, folder: Path, name: str, *, with_note: bool = False) -> Path:
    for _ in range(100):
        dst = _free_name(folder, name, with_note=with_note)
        try:
            return move_noclobber(src, dst)
        except FileExistsError:
            continue  # taken between the check and the link: pick the next name
    raise FileExistsError(folder / name)


move_to_free = _move_to_free


# --- claims ---------------------------------------------------------------------------------------
@dataclass
class Claim:
    """A draft taken out of the inbox: ``work/<route>/<token>/<name>`` and its record."""

    dir: Path
    name: str
    route_key: str            # route folder, or ROOT_KEY
    source: str               # where it was dropped
    method: str = "rename"    # "rename" or "copy" (across filesystems)
    state: str = "claimed"    # claimed | processing | failed | invalid | unsupported
    reason: str = ""          # for invalid: what probe said
    attempts: int = 0
    claimed_at: str = ""
    dest: str = ""            # the name chosen in rejected/ (kept so a rerun after a kill reuses it)

    @property
    def path(self) -> Path:
        return self.dir / self.name

    def save(self) -> None:
        data = {"name": self.name, "route": self.route_key, "source": self.source, "method": self.method,
                "state": self.state, "reason": self.reason, "attempts": self.attempts,
                "claimed_at": self.claimed_at, "dest": self.dest}
        atomic_write_text(self.dir / CLAIM_RECORD, json.dumps(data, ensure_ascii=False, indent=1))

    @classmethod
    def load(cls, d: Path, route_key: str) -> "Claim | None":
        """Read a claim folder; None when it holds no draft file (an interrupted claim or cleanup)."""
        data: dict = {}
        with contextlib.suppress(OSError, ValueError):
            data = json.loads((d / CLAIM_RECORD).read_text(encoding="utf-8"))
        name = data.get("name")
        if not isinstance(name, str) or not (d / name).is_file():
            # No (readable) record: the draft is the one visible file in the folder.
            files = [p.name for p in d.iterdir() if p.is_file() and not p.name.startswith(".")]
            if len(files) != 1:
                return None
            name = files[0]
        return cls(dir=d, name=name, route_key=str(data.get("route") or route_key),
                   source=str(data.get("source") or ""), method=str(data.get("method") or "rename"),
                   state=str(data.get("state") or "claimed"), reason=str(data.get("reason") or ""),
                   attempts=int(data.get("attempts") or 0), claimed_at=str(data.get("claimed_at") or ""),
                   dest=str(data.get("dest") or ""))


def _new_claim_dir(work_route: Path) -> Path:
    work_route.mkdir(parents=True, exist_ok=True)
    while True:
        d = work_route / f"{datetime.now():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        try:
            d.mkdir()
            return d
        except FileExistsError:
            continue


def claim_file(src: Path, work_route: Path, route_key: str) -> Claim | None:
    """Take ``src`` out of the inbox into a fresh claim folder. None when it is gone already
    (another watcher or the clerk took it). The record is written first, so a crash at any point
    leaves either the draft in the inbox or a claim folder that recovery understands."""
    d = _new_claim_dir(work_route)
    c = Claim(dir=d, name=src.name, route_key=route_key, source=str(src),
              claimed_at=datetime.now().isoformat(timespec="seconds"))
    try:
        c.save()
        try:
            os.rename(src, c.path)
        except OSError as e:
            if e.errno != errno.EXDEV:
                raise
            # Across filesystems (a network share): copy durably, then remove the source.
            c.method = "copy"
            c.save()
            atomic_copy(src, c.path, mode=0o644)
            os.unlink(src)
            _fsync_dir(src.parent)
    except FileNotFoundError:
        _drop_claim_dir(d)
        return None
    except BaseException:
        if not c.path.exists():
            _drop_claim_dir(d)
        raise
    _fsync_dir(d)
    return c


def _drop_claim_dir(d: Path) -> None:
    """Remove a claim folder's own files (record, interrupted copies) and the folder if then empty.
    Never touches a draft."""
    with contextlib.suppress(FileNotFoundError):
        (d / CLAIM_RECORD).unlink()
    for p in d.glob(".*.tmp"):  # atomic_copy's temp file from an interrupted cross-filesystem claim
        with contextlib.suppress(OSError):
            p.unlink()
    try:
        d.rmdir()
    except OSError as e:
        if e.errno not in (errno.ENOENT,):
            log.warning("认领目录未清空，保留：%s（%s）", d, e)


# --- the watcher ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Folder:
    """One watched folder: a route's folder, or inbox/ itself (route None)."""

    path: Path
    route: Route | None
    share: bool

    @property
    def key(self) -> str:
        return self.route.folder if self.route else ROOT_KEY


Sig = tuple[int, int, int]  # size, mtime_ns, inode


@dataclass
class _Candidate:
    path: Path
    folder: Folder
    sig: Sig | None = None
    sig_since: float = 0.0          # when ``sig`` was first seen (injected clock)
    writing: bool = False           # inotify saw a create/modify without a close since
    closed_sig: Sig | None = None   # sig when a close / move-in said the writer finished
    probed_sig: Sig | None = None
    reason: str | None = None       # probe's answer for probed_sig
    reported: Sig | None = None     # the sig a "waiting" event was sent for
    parked: bool = False            # once mode: left in place, nothing more to do this run


def _stat_sig(path: Path) -> Sig | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not os.path.isfile(path):
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


class _Handler(FileSystemEventHandler):
    """Runs on watchdog's thread: only queues what happened; all decisions are on the worker."""

    def __init__(self, intake: "Intake", share: bool):
        self.intake, self.share = intake, share

    def dispatch(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        t = event.event_type
        src, dest = os.fsdecode(event.src_path or ""), os.fsdecode(event.dest_path or "")
        if self.share:  # polling: events only say "look at it"; stability decides
            if t == "moved":
                if src:
                    self.intake.notice(Path(src), "gone")
                if dest:
                    self.intake.notice(Path(dest), "seen")
            elif t == "deleted":
                self.intake.notice(Path(src), "gone")
            elif t in ("created", "modified"):
                self.intake.notice(Path(src), "seen")
            return
        if t == "moved":
            if src:
                self.intake.notice(Path(src), "gone")
            if dest:
                self.intake.notice(Path(dest), "finished")
        elif t == "closed":
            self.intake.notice(Path(src), "finished")
        elif t in ("created", "modified"):
            self.intake.notice(Path(src), "writing")
        elif t == "deleted":
            self.intake.notice(Path(src), "gone")


class Intake:
    """Owns the watcher's state: the pending files, the in-flight set, the failed claims awaiting a
    retry, and the observers. All decisions run on the thread that calls ``step()``."""

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
        self._events: queue.SimpleQueue[tuple[Path, str]] = queue.SimpleQueue()
        self.wake = threading.Event()
        self._candidates: dict[Path, _Candidate] = {}
        self._inflight: set[Path] = set()
        self._retry: dict[Path, tuple[Claim, float]] = {}   # claim dir -> (claim, due)
        self._observers: list[Any] = []
        self._watches: dict[Path, tuple[Any, Any]] = {}
        self._next_rescan = 0.0
        self.claims_root = config.work_dir / CLAIMS_DIR
        self.once = False
        self.counts: dict[str, int] = {}

    # -- set-up ----------------------------------------------------------------------------------
    def ensure_folders(self) -> None:
        for f in self.folders:
            f.path.mkdir(parents=True, exist_ok=True)
        self.claims_root.mkdir(parents=True, exist_ok=True)
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

    @contextlib.contextmanager
    def observing(self) -> Iterator[None]:
        """Native (inotify) watches for local folders, a PollingObserver for shares."""
        native, polling = None, None
        for f in self.folders:
            if f.share:
                polling = polling or PollingObserver(timeout=self.intake_cfg.poll_interval_s)
                self._watches[f.path] = (polling, polling.schedule(_Handler(self, True), str(f.path)))
            else:
                native = native or _native_observer()
                self._watches[f.path] = (native, native.schedule(_Handler(self, False), str(f.path)))
        self._observers = [o for o in (native, polling) if o is not None]
        for o in self._observers:
            o.start()
        try:
            yield
        finally:
            for o in self._observers:
                o.stop()
            for o in self._observers:
                o.join(timeout=10)
            self._observers, self._watches = [], {}

    def _rewatch(self, f: Folder) -> None:
        """A watched folder was deleted and has been created again: its old watch is dead."""
        entry = self._watches.get(f.path)
        if entry is None:
            return
        observer, old = entry
        with contextlib.suppress(Exception):
            observer.unschedule(old)
        self._watches[f.path] = (observer, observer.schedule(_Handler(self, f.share), str(f.path)))
        log.warning("收件夹 %s 曾被删除，已重建并恢复监视", f.path)

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
                    self._rewatch(f)
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
        now = self.clock()
        while True:
            try:
                path, what = self._events.get_nowait()
            except queue.Empty:
                return
            if what == "gone":
                c = self._candidates.get(path)
                if c is not None and _stat_sig(path) is None:
                    del self._candidates[path]
                continue
            folder = self._folder_of(path)
            if folder is None or is_ignored(path.name):
                continue
            c = self._candidates.get(path)
            if c is None:
                sig = _stat_sig(path)
                if sig is None:
                    continue
                c = self._candidates[path] = _Candidate(path, folder, sig=sig, sig_since=now)
            if what == "writing":
                c.writing, c.closed_sig, c.parked = True, None, False
            elif what == "finished":
                c.writing, c.closed_sig, c.parked = False, _stat_sig(path), False
            elif not self.once:
                c.parked = False  # a rescan looks again at a file it could not take before

    # -- the readiness gate ----------------------------------------------------------------------
    def _gate(self, c: _Candidate, now: float) -> str:
        """"wait", "take", "unsupported", "invalid" or "gone" for one pending file."""
        sig = _stat_sig(c.path)
        if sig is None:
            return "gone"
        if sig != c.sig:
            c.sig, c.sig_since = sig, now
        stable = now - c.sig_since
        cfg = self.intake_cfg
        if c.folder.share:
            done = stable >= cfg.stable_seconds
        else:
            done = (c.closed_sig == sig
                    or (not c.writing and stable >= cfg.stable_seconds)
                    # a writer that keeps the file open without writing: after invalid_timeout_s
                    # its content is judged as it is (never waiting forever)
                    or (c.writing and stable >= cfg.invalid_timeout_s))
        if not done:
            return "wait"
        if c.path.suffix.lower() not in self.hooks.suffixes:
            return "unsupported"
        if c.probed_sig != sig:
            try:
                c.reason = self.hooks.probe(c.path)
            except Exception as e:  # a probe must never stop the service
                log.exception("检查文件时出错：%s", c.path)
                c.reason = f"文件无法读取（{type(e).__name__}）"
            c.probed_sig = sig
        if c.reason is None:
            return "take"
        if stable >= cfg.invalid_timeout_s:
            return "invalid"
        return "wait"

    # -- the work --------------------------------------------------------------------------------
    def step(self) -> None:
        """Take in new events, then move every file that is ready, and retry failed claims that are
        due. Stops between documents when ``stop`` is set."""
        self._drain()
        now = self.clock()
        if not self.once and now >= self._next_rescan:
            self.scan()
            self._drain()
        for path in sorted(self._candidates, key=lambda p: self._candidates[p].sig_since):
            if self.stop.is_set():
                return
            c = self._candidates.get(path)
            if c is None or c.parked:
                continue
            key = _resolved(path)
            if key in self._inflight:
                continue
            verdict = self._gate(c, self.clock())
            if verdict == "gone":
                del self._candidates[path]
            elif verdict == "wait":
                if self.once and c.reason is not None and c.probed_sig == c.sig:
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

    def _maybe_report_waiting(self, c: _Candidate) -> None:
        if c.reason is not None and c.probed_sig == c.sig and c.reported != c.sig:
            c.reported = c.sig
            left = max(0.0, self.intake_cfg.invalid_timeout_s - (self.clock() - c.sig_since))
            msg = f"{c.reason}；若 {_human_s(left)}内仍无法打开，将退回 rejected/"
            log.info("等待 %s：%s", c.path, msg)
            self._emit(IntakeEvent("waiting", c.path.name, c.folder.route and c.folder.route.folder,
                                   path=c.path, message=msg))

    def _park(self, c: _Candidate, message: str) -> None:
        c.parked = True
        log.info("未处理 %s：%s", c.path, message)
        self._emit(IntakeEvent("waiting", c.path.name, c.folder.route and c.folder.route.folder,
                               path=c.path, message=message))

    def _take(self, c: _Candidate, verdict: str) -> None:
        key = _resolved(c.path)
        self._inflight.add(key)
        try:
            del self._candidates[c.path]
            work_route = self.claims_root / c.folder.key
            try:
                claim = claim_file(c.path, work_route, c.folder.key)
            except OSError as e:
                # Left where it is; the next full rescan (or an event) tries again.
                self._park(c, f"无法取走文件（{e.strerror or e}）；将在下次扫描时重试")
                self._candidates[c.path] = c
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
        root = self.claims_root
        if not root.is_dir():
            return
        for route_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for d in sorted(p for p in route_dir.iterdir() if p.is_dir()):
                if self.stop.is_set():
                    return
                claim = Claim.load(d, route_dir.name)
                if claim is None:
                    _drop_claim_dir(d)
                    continue
                if claim.method == "copy" and claim.state == "claimed" and claim.source:
                    src = Path(claim.source)
                    # Interrupted cross-filesystem claim: the source is still there. If it is the
                    # same file, drop our copy and let the inbox file be claimed afresh.
                    with contextlib.suppress(OSError):
                        if src.is_file() and sha256_file(src) == sha256_file(claim.path):
                            claim.path.unlink()
                            _drop_claim_dir(d)
                            continue
                log.info("恢复认领的草稿 %s（状态 %s）", claim.path, claim.state)
                self._emit(IntakeEvent("recovered", claim.name, _route_name(claim.route_key),
                                       path=claim.path, message=f"上次运行留下的草稿（{claim.state}），继续处理"))
                self._handle(claim)

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
        rname = _route_name(claim.route_key)
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
            self._emit(IntakeEvent("kept", claim.name, rname, outcome=outcome, path=claim.path,
                                   message=msg, seconds=seconds))
            return
        # The archive holds an identical copy: removing ours completes a move, nothing is lost.
        with contextlib.suppress(FileNotFoundError):
            claim.path.unlink()
        _drop_claim_dir(claim.dir)
        log.info("发文 %s ← %s（%s）%.1f s%s", outcome.number, claim.name, outcome.title or "",
                 seconds, "（恢复）" if resumed else "")
        self._count("issued")
        self._emit(IntakeEvent("issued", claim.name, rname, outcome=outcome, seconds=seconds,
                               message="上次中断后完成" if resumed else ""))

    def _reject(self, claim: Claim, kind: EventKind, problems: list[Problem], *, message: str,
                outcome: Outcome | None = None, seconds: float | None = None) -> None:
        rejected = self.config.rejected
        rejected.mkdir(parents=True, exist_ok=True)
        # The note first, under the name the draft will take, and that name in the claim record: a
        # kill in between leaves the claim, which recovery rejects again to the same name (its new
        # note replaces the one written before the kill, instead of leaving it without its draft).
        header = f"收件夹：{self.config.paths.inbox}/{claim.route_key if claim.route_key != ROOT_KEY else ''}"
        try:
            if claim.dest and not (rejected / claim.dest).exists():
                dest = rejected / claim.dest
            else:
                dest = _free_name(rejected, claim.name, with_note=True)
                claim.dest = dest.name
                claim.save()
            note = self.hooks.write_note(problems, dest.name, rejected, header=header)
            dest = _move_to_free(claim.path, rejected, dest.name)
        except OSError as e:
            log.error("无法把 %s 移到 rejected/：%s；草稿保留在工作区", claim.path, e)
            self._failed(claim, Outcome(file=str(claim.path), status="failed",
                                        problems=(Problem("退回", f"无法写入 rejected/：{e}"),)), seconds or 0.0)
            return
        if note != note_path(dest) and note.exists():
            # the draft had to take another name at the last moment, or this is a rerun after a kill
            # and the note written then holds the name: either way the new note goes beside the draft
            with contextlib.suppress(OSError):
                os.replace(note, note_path(dest))
                note = note_path(dest)
        _drop_claim_dir(claim.dir)
        log.info("退回 %s → %s：%s", claim.name, dest, message)
        self._count(kind)
        self._emit(IntakeEvent(kind, claim.name, _route_name(claim.route_key), outcome=outcome, path=dest,
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
        self._emit(IntakeEvent("failed", claim.name, _route_name(claim.route_key), outcome=outcome,
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
        return any(not c.parked for c in self._candidates.values())

    def wait(self) -> None:
        """Sleep until an event arrives, the stop flag is set, or the next tick."""
        self.wake.wait(TICK_S)
        self.wake.clear()

    @property
    def pending_retries(self) -> int:
        return len(self._retry)


def _native_observer():
    try:
        from watchdog.observers.inotify import InotifyObserver
    except Exception:  # not Linux: the platform's native observer (no close events; stability gates)
        from watchdog.observers import Observer

        return Observer()
    # full events: a file moved in from outside the folder is reported as moved, not created,
    # which tells us its writer has finished.
    return InotifyObserver(generate_full_events=True)


def _resolved(p: Path) -> Path:
    try:
        return p.resolve()
    except OSError:
        return p.absolute()


def _route_name(key: str) -> str | None:
    return None if key == ROOT_KEY else key


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
    """The watched-folder service. Opens the pipeline's services once, finishes the claims an earlier
    run left, processes everything waiting, then (unless ``once``) watches until ``stop`` is set.
    The current document is always finished before stopping. Returns counts by event kind."""
    stop = stop or threading.Event()
    hooks = hooks or default_hooks(config)
    with single_watcher(config), svc_factory() as svc:
        intake = Intake(config, svc, on_event=on_event, hooks=hooks, clock=clock, stop=stop)
        intake.ensure_folders()
        if once:
            intake.once = True
            intake.recover()
            intake.scan()
            intake._drain()
            started = clock()
            while not stop.is_set():
                intake.step()
                if not intake.busy():
                    break
                if clock() - started > config.intake.invalid_timeout_s:
                    for c in list(intake._candidates.values()):
                        if not c.parked:
                            intake._park(c, "文件仍在写入或无法判断是否写完；文件仍留在收件夹中")
                    break
                intake.wait()
        else:
            with intake.observing():
                modes = "、".join(f"{f.key}（{'轮询' if f.share else '实时'}）" for f in intake.folders)
                intake._emit(IntakeEvent("started", message=f"正在监视 {config.inbox}：{modes}"))
                log.info("开始监视：%s", modes)
                intake.recover()
                intake.scan()
                while not stop.is_set():
                    intake.step()
                    intake.wait()
        log.info("停止监视；统计：%s", intake.counts)
        intake._emit(IntakeEvent("stopped", message="已停止"))
        return dict(intake.counts)
