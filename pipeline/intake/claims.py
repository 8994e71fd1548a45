"""Claims: take a ready draft out of the inbox into the work area with a record beside it, move it on
without ever overwriting a file, and find what an interrupted run left behind — so that a crash at any
moment leaves each draft either in the inbox, in one claim folder, or where its result put it.

    inbox/<route>/草稿.docx
      │  claim: atomic rename (EXDEV: copy + fsync + rename, then unlink the source)
    work/claims/<route>/<token>/草稿.docx  +  .claim.json (route, source, state)
      │  release (the archive holds it)  or  reject (rejected/草稿.docx + its 问题 note)
"""
from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import secrets
import stat
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from ..fsutil import atomic_copy, atomic_write_text, fsync_dir, note_path, readable, unique_path
from ..hashing import digest_file
from ..model import Problem

if TYPE_CHECKING:
    from ..config import Config, Route

log = logging.getLogger("gongwen.intake")

# The claim record beside a claimed draft; hidden, so it can never collide with a draft's name.
CLAIM_RECORD = ".claim.json"
# Claims live in work_dir/claims/<route>/<token>/ (work_dir also holds the pipeline's own scratch).
CLAIMS_DIR = "claims"
# A claim that copies its draft and leaves it in place (the 清样 folders), see Claims.snapshot.
SNAPSHOT = "snapshot"
# Where drafts dropped straight into inbox/ (no route folder) are claimed; they go through the pipeline
# with route=None, so the draft's own metadata must name its series.
ROOT_KEY = "_收件箱"


def route_for_key(config: Config, key: str) -> tuple[bool, Route | None]:
    """The route a claim's folder key names: (known, route); ROOT_KEY is known and has no route."""
    if key == ROOT_KEY:
        return True, None
    r = config.route_for_folder(key)
    return r is not None, r


def free_name(folder: Path, name: str, *, with_note: bool) -> Path:
    """``folder/name`` or ``name (2).ext`` …: the first name not taken (and, with ``with_note``, whose
    ``.问题.txt`` is not taken either) — user files are never overwritten."""
    return unique_path(folder / name, companion=note_path if with_note else None)


def move_noclobber(src: Path, dst: Path) -> Path:
    """Move ``src`` to ``dst`` without ever replacing an existing entry: hard link + unlink on one
    filesystem (link fails if ``dst`` exists), copy + fsync + unlink across filesystems or where links
    are unsupported. The source is removed only once the destination is durable. A symlink, FIFO or
    device is moved as itself — never followed, never opened."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError as e:
        if e.errno == errno.EEXIST:
            raise
        if e.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if os.path.lexists(dst):
            raise FileExistsError(dst) from e
        mode = os.lstat(src).st_mode
        if stat.S_ISLNK(mode):
            os.symlink(os.readlink(src), dst)   # fails if dst appeared meanwhile
        elif stat.S_ISREG(mode):
            atomic_copy(src, dst, mode=0o644)
        else:
            raise   # a FIFO or device cannot be copied: it stays where it is
    fsync_dir(dst.parent)
    os.unlink(src)
    fsync_dir(src.parent)
    return dst


def move_to_free(src: Path, folder: Path, name: str, *, with_note: bool = False) -> Path:
    """Move ``src`` into ``folder`` under ``name`` or the first free variant of it."""
    for _ in range(100):
        dst = free_name(folder, name, with_note=with_note)
        try:
            return move_noclobber(src, dst)
        except FileExistsError:
            continue  # taken between the check and the link: pick the next name
    raise FileExistsError(folder / name)


def same_content(a: Path, b: Path) -> bool:
    """Byte-identical files (size first, then SHA-256)."""
    if a.stat().st_size != b.stat().st_size:
        return False
    return digest_file(a, ("sha256",)) == digest_file(b, ("sha256",))


@dataclass
class Claim:
    """A draft taken out of the inbox: ``work/claims/<route>/<token>/<name>`` and its record."""

    dir: Path
    name: str
    route_key: str            # route folder, or ROOT_KEY
    source: str               # where it was dropped
    method: str = "rename"    # "rename" or "copy" (across filesystems)
    state: str = "claimed"    # claimed | processing | failed | invalid | unsupported | refused | kept
    reason: str = ""          # for invalid: what probe said; for refused: what the entry is
    attempts: int = 0
    claimed_at: str = ""
    dest: str = ""            # the name chosen in rejected/ (kept so a rerun after a kill reuses it)

    @property
    def path(self) -> Path:
        return self.dir / self.name

    @property
    def renamed(self) -> bool:
        """The name it was dropped under was not readable text (not UTF-8) and was made readable."""
        return bool(self.source) and Path(self.source).name != self.name

    @property
    def route(self) -> str | None:
        """The route folder it came through (None: inbox/ itself)."""
        return None if self.route_key == ROOT_KEY else self.route_key

    def save(self, *, durable: bool = True) -> None:
        """Write the record (atomically). ``durable=False`` for the watcher's own bookkeeping on the
        way of every draft (see claim_file): it survives a kill, and after a power loss an old or
        missing record is read as such (Claim.load), never as a wrong one."""
        data = {"name": self.name, "route": self.route_key, "source": self.source, "method": self.method,
                "state": self.state, "reason": self.reason, "attempts": self.attempts,
                "claimed_at": self.claimed_at, "dest": self.dest}
        # ASCII JSON: a source path that is not UTF-8 (surrogate escapes) round-trips as \udcxx
        atomic_write_text(self.dir / CLAIM_RECORD, json.dumps(data, ensure_ascii=True, indent=1), durable=durable)

    @classmethod
    def load(cls, d: Path, route_key: str) -> "Claim | None":
        """Read a claim folder; None when it holds no draft file (an interrupted claim or cleanup)."""
        data: dict = {}
        with contextlib.suppress(OSError, ValueError):
            data = json.loads((d / CLAIM_RECORD).read_text(encoding="utf-8"))
        name = data.get("name")
        if not isinstance(name, str) or not _is_entry(d / name):
            # No (readable) record: the draft is the one visible entry in the folder.
            files = [p.name for p in d.iterdir() if _is_entry(p) and not p.name.startswith(".")]
            if len(files) != 1:
                return None
            name = files[0]
        return cls(dir=d, name=name, route_key=str(data.get("route") or route_key),
                   source=str(data.get("source") or ""), method=str(data.get("method") or "rename"),
                   state=str(data.get("state") or "claimed"), reason=str(data.get("reason") or ""),
                   attempts=int(data.get("attempts") or 0), claimed_at=str(data.get("claimed_at") or ""),
                   dest=str(data.get("dest") or ""))


def _is_entry(p: Path) -> bool:
    """A claimed entry: a file, or a link/FIFO/device claimed to be refused (never a folder)."""
    return os.path.lexists(p) and not (p.is_dir() and not p.is_symlink())


def _new_claim_dir(work_route: Path) -> Path:
    work_route.mkdir(parents=True, exist_ok=True)
    while True:
        d = work_route / f"{datetime.now():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        try:
            d.mkdir()
            return d
        except FileExistsError:
            continue


def claim_file(src: Path, work_route: Path, route_key: str, *, state: str = "claimed", reason: str = "",
               attempts: int = 0) -> Claim | None:
    """Take ``src`` out of the inbox into a fresh claim folder. None when it is gone already
    (another watcher or the clerk took it). The record is written first, so a crash at any point
    leaves either the draft in the inbox or a claim folder that recovery understands.

    A name that is not UTF-8 (a GBK name from a Windows share) is claimed under its readable form:
    everything after — the pipeline, the note, rejected/, the register — then reads it as text.

    Nothing here is fsynced on the way of a local draft, on purpose (each fsync costs 5–15 ms on an
    ordinary disk, and a drop should cost the watcher nothing). The draft is never at risk: the
    rename is atomic, so after any crash it is in the inbox or in its claim folder, and both are
    looked at on start. What a power loss can undo is only where it is and the record's bookkeeping
    (written before the rename, so a kill never leaves a claim without one); a missing or old record
    is read as "the one file in the folder is the draft", which at worst answers 'duplicate' (naming
    the document) for a draft whose document was being filed at that very moment. Everything the
    pipeline records is durable on its own (the register's commits, the archive's files). Across
    filesystems the copy is made durable before the source is removed.

    ``state`` (and ``reason``, ``attempts``) go into the one record written: a draft about to be
    processed is claimed as "processing", so its record is written once on its way."""
    d = _new_claim_dir(work_route)
    c = Claim(dir=d, name=readable(src.name), route_key=route_key, source=str(src), state=state, reason=reason,
              attempts=attempts, claimed_at=datetime.now().isoformat(timespec="seconds"))
    try:
        c.save(durable=False)
        try:
            os.rename(src, c.path)
        except OSError as e:
            if e.errno != errno.EXDEV or not stat.S_ISREG(os.lstat(src).st_mode):
                raise   # a link, FIFO or device is never copied (that would follow or open it)
            # Across filesystems (a network share): copy durably, then remove the source.
            c.method = "copy"
            c.save()
            atomic_copy(src, c.path, mode=0o644)
            os.unlink(src)
            fsync_dir(src.parent)
    except FileNotFoundError:
        drop_claim_dir(d)
        return None
    except BaseException:
        if not os.path.lexists(c.path):
            drop_claim_dir(d)
        raise
    return c


def drop_claim_dir(d: Path) -> None:
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


class Claims:
    """The claims area of one instance (``work/claims/``): claim, release, reject, recover."""

    def __init__(self, root: Path):
        self.root = root
        self._emptied: list[Path] = []   # released claim folders, removed by tidy()

    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def take(self, src: Path, route_key: str, **record) -> Claim | None:
        """Claim ``src`` for ``route_key`` (``record``: state, reason, attempts); None when it is gone
        already."""
        return claim_file(src, self.root / route_key, route_key, **record)

    def snapshot(self, src: Path, route_key: str) -> Claim | None:
        """Copy ``src`` into a fresh claim folder and leave it where it is (a 清样 is made of a
        snapshot; its draft never moves). None when it is gone already. Recovery finishes a
        snapshot claim only while its source is unchanged (``snapshot_current``)."""
        d = _new_claim_dir(self.root / route_key)
        c = Claim(dir=d, name=readable(src.name), route_key=route_key, source=str(src), method=SNAPSHOT,
                  claimed_at=datetime.now().isoformat(timespec="seconds"))
        try:
            c.save()
            atomic_copy(src, c.path, mode=0o644)
        except FileNotFoundError:
            drop_claim_dir(d)
            return None
        except BaseException:
            with contextlib.suppress(OSError):
                c.path.unlink()
            drop_claim_dir(d)
            raise
        fsync_dir(d)
        return c

    @staticmethod
    def snapshot_current(claim: Claim) -> bool:
        """The snapshot still shows its source as it is (not changed, not removed since)."""
        src = Path(claim.source)
        try:
            return src.is_file() and same_content(src, claim.path)
        except OSError:
            return False

    def release(self, claim: Claim) -> None:
        """The archive holds an identical copy: removing ours completes a move, nothing is lost. The
        empty folder is left for tidy() (removing a folder costs a few ms; an empty claim folder is
        harmless, and recovery removes one a kill left)."""
        with contextlib.suppress(FileNotFoundError):
            claim.path.unlink()
        with contextlib.suppress(FileNotFoundError):
            (claim.dir / CLAIM_RECORD).unlink()
        self._emptied.append(claim.dir)

    def tidy(self) -> None:
        """Remove the folders of released claims (when the service has nothing else to do)."""
        while self._emptied:
            drop_claim_dir(self._emptied.pop())

    def reject(self, claim: Claim, rejected: Path, problems: list[Problem],
               write_note: Callable[..., Path], *, header: str = "") -> tuple[Path, Path]:
        """Put the claimed draft into ``rejected`` beside a note listing ``problems``; returns
        (draft, note). Raises OSError (nothing moved) when rejected/ cannot be written.

        The note first, under the name the draft will take, and that name in the claim record: a
        kill in between leaves the claim, which recovery rejects again to the same name (its new
        note replaces the one written before the kill, instead of leaving it without its draft)."""
        rejected.mkdir(parents=True, exist_ok=True)
        if claim.dest and not os.path.lexists(rejected / claim.dest):
            dest = rejected / claim.dest
        else:
            dest = free_name(rejected, claim.name, with_note=True)
            claim.dest = dest.name
            claim.save()
        note = write_note(problems, dest.name, rejected, header=header)
        dest = move_to_free(claim.path, rejected, dest.name)
        if note != note_path(dest) and note.exists():
            # the draft had to take another name at the last moment, or this is a rerun after a kill
            # and the note written then holds the name: either way the new note goes beside the draft
            with contextlib.suppress(OSError):
                os.replace(note, note_path(dest))
                note = note_path(dest)
        return dest, note

    def leftovers(self, stop: threading.Event | None = None) -> Iterator[Claim]:
        """Every claim an earlier run left (a crash, a kill, a failure), oldest first per route. Empty
        or interrupted claim folders are cleaned up on the way; an interrupted cross-filesystem claim
        whose source is still in the inbox is dropped, so the inbox file is claimed afresh."""
        if not self.root.is_dir():
            return
        for route_dir in sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for d in sorted(p for p in route_dir.iterdir() if p.is_dir()):
                if stop is not None and stop.is_set():
                    return
                claim = Claim.load(d, route_dir.name)
                if claim is None:
                    drop_claim_dir(d)
                    continue
                if claim.method == "copy" and claim.state == "claimed" and claim.source:
                    src = Path(claim.source)
                    with contextlib.suppress(OSError):
                        if src.is_file() and same_content(src, claim.path):
                            claim.path.unlink()
                            drop_claim_dir(d)
                            continue
                yield claim
