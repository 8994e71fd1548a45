"""The readiness gate: for each file seen in a watched folder, decide whether its writer has finished
and whether it is worth claiming — from the notices the observers give and the file's stat signature,
on an injected clock. Nothing here moves a file, starts a thread or sleeps (peers.md pitfalls 2–3).

    notice(path, "writing" | "finished" | "seen" | "gone")  →  judge(candidate)  →
        "wait" | "take" | "unsupported" | "invalid" | "gone"

Local folders (inotify) are done when a close or a move-in says so, or after ``stable_seconds`` of
unchanged size+mtime when no write is in progress; shares (polling) only by stability. A finished file
must also pass the probe (it opens as its type); one that does not is judged "invalid" once it has
stayed so for ``invalid_timeout_s``.
"""
from __future__ import annotations

import fnmatch
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

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


def is_ignored(name: str) -> bool:
    """True for hidden, lock, temp and partial files: they are never drafts and are never touched."""
    if not name or name.startswith("."):
        return True
    low = name.lower()
    return any(fnmatch.fnmatchcase(low, pat) for pat in IGNORED_PATTERNS)


# "dir" / "dir_gone": a folder appeared in or vanished from a watched folder (for the intake, not the gate)
Notice = Literal["writing", "finished", "seen", "gone", "dir", "dir_gone"]
Verdict = Literal["wait", "take", "unsupported", "invalid", "refuse", "gone"]
Sig = tuple[int, int, int]  # size, mtime_ns, inode
# What a directory entry is. Only a "file" is ever opened; the others are refused as they are
# (a symlink is never followed: its target may be /etc/passwd or a draft outside the instance; a FIFO
# blocks whoever opens it for reading; a device is no document).
EntryKind = Literal["file", "link", "fifo", "device", "socket", "dir"]


def entry_kind(path: Path) -> EntryKind | None:
    """What ``path`` itself is (symlinks not followed), or None when it is gone."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


def stat_sig(path: Path) -> Sig | None:
    """The entry's (size, mtime, inode) — of the entry itself, a symlink is not followed — or None
    when it is gone or is a folder."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def notices_for(event_type: str, src: str, dest: str, *, share: bool,
                is_directory: bool = False) -> list[tuple[str, Notice]]:
    """What one event from an observer means, as (path, notice) pairs.

    Native events (inotify) tell when a writer closes the file or moves it in (finished); polling
    events only say "look at it", and stability decides. Folder events become "dir" / "dir_gone"."""
    out: list[tuple[str, Notice]] = []
    if is_directory:
        if event_type in ("moved", "deleted") and src:
            out.append((src, "dir_gone"))
        if event_type == "created" and src:
            out.append((src, "dir"))
        if event_type == "moved" and dest:
            out.append((dest, "dir"))
        return out
    if share:
        if event_type == "moved":
            if src:
                out.append((src, "gone"))
            if dest:
                out.append((dest, "seen"))
        elif event_type == "deleted":
            out.append((src, "gone"))
        elif event_type in ("created", "modified"):
            out.append((src, "seen"))
        return out
    if event_type == "moved":
        if src:
            out.append((src, "gone"))
        if dest:
            out.append((dest, "finished"))
    elif event_type == "closed":
        out.append((src, "finished"))
    elif event_type in ("created", "modified"):
        out.append((src, "writing"))
    elif event_type == "deleted":
        out.append((src, "gone"))
    return out


@dataclass
class Candidate:
    """One file waiting in a watched folder, as the gate sees it."""

    path: Path
    share: bool                     # its folder is polled (stability only)
    kind: EntryKind = "file"        # anything but a regular file is refused, never opened
    sig: Sig | None = None
    sig_since: float = 0.0          # when ``sig`` was first seen (injected clock)
    writing: bool = False           # inotify saw a create/modify without a close since
    closed_sig: Sig | None = None   # sig when a close / move-in said the writer finished
    probed_sig: Sig | None = None
    reason: str | None = None       # probe's answer for probed_sig
    reported: Sig | None = None     # the sig a "waiting" event was sent for
    parked: bool = False            # once mode: left in place, nothing more to do this run

    @property
    def finished_but_invalid(self) -> bool:
        """The writer has finished (this content was probed) and the probe refused it."""
        return self.reason is not None and self.probed_sig == self.sig


class Readiness:
    """The pending files and the rules that decide when each is ready. Single-threaded: the caller
    feeds notices and asks for verdicts on one thread."""

    def __init__(self, *, stable_seconds: float, invalid_timeout_s: float, suffixes: frozenset[str],
                 probe: Callable[[Path], str | None], clock: Callable[[], float],
                 by_folder: dict[Path, tuple[frozenset[str], Callable[[Path], str | None]]] | None = None):
        self.stable_seconds, self.invalid_timeout_s = stable_seconds, invalid_timeout_s
        self.suffixes, self.probe, self.clock = suffixes, probe, clock
        # A folder that takes other files (the 督办 folder's 交办清单, the 收文 folder's documents):
        # its own suffixes and probe.
        self.by_folder = dict(by_folder or {})
        self.once = False   # once mode: a rescan does not un-park a file
        self._candidates: dict[Path, Candidate] = {}

    # -- input -----------------------------------------------------------------------------------
    def notice(self, path: Path, what: Notice, *, share: bool, now: float | None = None) -> None:
        """Record what happened to ``path`` (a file in a watched folder, ``share`` if polled)."""
        now = self.clock() if now is None else now
        if what == "gone":
            c = self._candidates.get(path)
            if c is not None and stat_sig(path) is None:
                del self._candidates[path]
            return
        if is_ignored(path.name):
            return
        c = self._candidates.get(path)
        if c is None:
            sig, kind = stat_sig(path), entry_kind(path)
            if sig is None or kind is None or kind == "dir":
                return
            c = self._candidates[path] = Candidate(path, share, kind=kind, sig=sig, sig_since=now)
        if what == "writing":
            c.writing, c.closed_sig, c.parked = True, None, False
        elif what == "finished":
            c.writing, c.closed_sig, c.parked = False, stat_sig(path), False
        elif not self.once:
            c.parked = False  # a rescan looks again at a file it could not take before

    def forget(self, path: Path) -> None:
        self._candidates.pop(path, None)

    def put_back(self, c: Candidate) -> None:
        """A candidate that could not be taken after all stays pending."""
        self._candidates[c.path] = c

    # -- state -----------------------------------------------------------------------------------
    def get(self, path: Path) -> Candidate | None:
        return self._candidates.get(path)

    def order(self) -> list[Path]:
        """Pending paths, the longest-waiting first."""
        return sorted(self._candidates, key=lambda p: self._candidates[p].sig_since)

    def candidates(self) -> list[Candidate]:
        return list(self._candidates.values())

    def busy(self) -> bool:
        """True while some file is pending (not parked)."""
        return any(not c.parked for c in self._candidates.values())

    def park(self, c: Candidate) -> None:
        c.parked = True

    def report_due(self, c: Candidate) -> bool:
        """True once per content that finished but is not (yet) valid: the time to say so."""
        if c.finished_but_invalid and c.reported != c.sig:
            c.reported = c.sig
            return True
        return False

    def time_left(self, c: Candidate) -> float:
        """Seconds until a finished-but-invalid file is judged invalid."""
        return max(0.0, self.invalid_timeout_s - (self.clock() - c.sig_since))

    # -- the gate --------------------------------------------------------------------------------
    def judge(self, c: Candidate) -> Verdict:
        """"wait", "take", "unsupported", "invalid", "refuse" or "gone" for one pending file.
        Anything but a regular file is refused at once: it is made in one step (no writer to wait
        for) and is never opened."""
        now = self.clock()
        sig, kind = stat_sig(c.path), entry_kind(c.path)
        if sig is None or kind is None or kind == "dir":
            return "gone"
        c.kind = kind
        if kind != "file":
            return "refuse"
        if sig != c.sig:
            c.sig, c.sig_since = sig, now
        stable = now - c.sig_since
        if c.share:
            done = stable >= self.stable_seconds
        else:
            done = (c.closed_sig == sig
                    or (not c.writing and stable >= self.stable_seconds)
                    # a writer that keeps the file open without writing: after invalid_timeout_s
                    # its content is judged as it is (never waiting forever)
                    or (c.writing and stable >= self.invalid_timeout_s))
        if not done:
            return "wait"
        suffixes, probe = self.by_folder.get(c.path.parent, (self.suffixes, self.probe))
        if c.path.suffix.lower() not in suffixes:
            return "unsupported"
        if c.probed_sig != sig:
            try:
                c.reason = probe(c.path)
            except Exception as e:  # a probe must never stop the service
                log.exception("检查文件时出错：%s", c.path)
                c.reason = f"文件无法读取（{type(e).__name__}）"
            c.probed_sig = sig
        if c.reason is None:
            return "take"
        if stable >= self.invalid_timeout_s:
            return "invalid"
        return "wait"
