"""Atomic file writes and read-only records: every file gongwen writes goes temp + fsync + rename."""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Callable


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
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
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
        cand = path if i == 1 else path.with_name(f"{stem} ({i}){suffix}")
        if not cand.exists() and not (companion is not None and companion(cand).exists()):
            return cand
    raise FileExistsError(path)


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
