"""Atomic file writes and read-only records: every file gongwen writes goes temp + fsync + rename.
Also the names of files: shown readable (never as surrogate escapes), kept within the filesystem's
limit, never taken twice."""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Callable


# Bytes in one file name on every filesystem an instance lives on (ext4, xfs, btrfs, tmpfs, NTFS via
# Samba counts UTF-16 units, which 255 bytes of UTF-8 never exceed).
NAME_MAX = 255


def readable(name: str) -> str:
    """A file name fit to show and to store as text. Linux file names are bytes; one that is not UTF-8
    — a GBK name copied from a Windows share is the everyday case — reaches Python as surrogate
    escapes, which no UTF-8 text (a note, the register, JSON, the console) can hold. Such a name is
    decoded as GB18030 (a superset of GBK) where it is valid GB18030, else each bad byte becomes �."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        pass
    raw = os.fsencode(name)
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace")


def readable_path(path: Path | str) -> str:
    """``path`` as text, each part made readable on its own (a folder may be UTF-8, a name GBK)."""
    return os.sep.join(readable(part) for part in str(path).split(os.sep))


def fit_name(stem: str, tail: str = "", limit: int = NAME_MAX) -> str:
    """``stem + tail``, with the stem cut (by whole characters, marked with …) so that the name fits
    in ``limit`` bytes: a companion file (a note, a "(2)" copy) of a name already at the limit."""
    name = stem + tail
    if len(os.fsencode(name)) <= limit:
        return name
    budget = limit - len(os.fsencode(tail)) - len("…".encode("utf-8"))
    cut = stem
    while cut and len(os.fsencode(cut)) > budget:
        cut = cut[:-1]
    return cut + "…" + tail


def _temp_prefix(name: str) -> str:
    """A temporary file's prefix beside ``name``: hidden, recognisable, and short enough that the
    temporary name fits where ``name`` itself only just fits."""
    return "." + fit_name(name, "", 160) + "."


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` durable (best effort: some filesystems refuse)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with _suppress():
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)
    return path


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), mode)


def atomic_copy(src: Path, dst: Path, mode: int = 0o644) -> Path:
    """Copy ``src`` to ``dst`` atomically (temp file in the destination folder, then rename)."""
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(dst.name), suffix=".tmp", dir=dst.parent)
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
            shutil.copyfileobj(inp, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, dst)
    except BaseException:
        with _suppress():
            os.unlink(tmp)
        raise
    fsync_dir(dst.parent)
    return dst


def unique_path(path: Path, *, companion: Callable[[Path], Path] | None = None) -> Path:
    """``path`` if free, else ``name (2).ext``, ``name (3).ext`` … — user files are never overwritten.
    With ``companion`` (e.g. the note beside a file), a name counts as free only if its companion's is too."""
    path = Path(path)
    stem, suffix = path.stem, path.suffix
    for i in range(1, 100000):
        cand = path if i == 1 else path.with_name(fit_name(stem, f" ({i}){suffix}"))
        if not cand.exists() and not (companion is not None and companion(cand).exists()):
            return cand
    raise FileExistsError(path)


NOTE_SUFFIX = ".问题.txt"


def note_path(draft: Path) -> Path:
    """The 问题 note beside a draft: its name plus .问题.txt (the name cut if it would not fit)."""
    return draft.with_name(fit_name(draft.stem, draft.suffix + NOTE_SUFFIX))


def make_readonly(path: Path) -> None:
    """Remove write permission from a file, or from a folder and everything in it."""
    path = Path(path)
    ro = ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    if path.is_dir():
        for p in sorted(path.rglob("*"), reverse=True):
            os.chmod(p, stat.S_IMODE(p.stat().st_mode) & ro)
    os.chmod(path, stat.S_IMODE(path.stat().st_mode) & ro)


def make_writable(path: Path) -> None:
    """Give the owner write permission back (used only by the year-end step that adds the 归档章)."""
    path = Path(path)
    os.chmod(path, stat.S_IMODE(path.stat().st_mode) | stat.S_IWUSR)


class _suppress:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return exc[0] is not None and issubclass(exc[0], OSError)
