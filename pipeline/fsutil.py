"""Atomic file writes and read-only records: every file gongwen writes goes temp + fsync + rename.
Also the names of files: shown readable (never as surrogate escapes), kept within the filesystem's
limit, never taken twice."""
from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, Iterable


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


def _atomic(path: Path, fill: Callable[[BinaryIO], object], mode: int, durable: bool) -> Path:
    """Temp file in ``path``'s folder, filled by ``fill``, then renamed over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            fill(f)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with _suppress():
            os.unlink(tmp)
        raise
    if durable:
        fsync_dir(path.parent)
    return path


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644, *, durable: bool = True) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one — also after a
    SIGKILL at any moment. ``durable`` (the default) also survives a power loss: the file and its
    folder are fsynced (~15 ms on an ordinary disk). Without it, a power loss may leave the old file
    (or none): only for bookkeeping whose loss the reader is ready for."""
    return _atomic(path, lambda f: f.write(data), mode, durable)


def atomic_write_text(path: Path, text: str, mode: int = 0o644, *, durable: bool = True) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), mode, durable=durable)


def atomic_copy(src: Path, dst: Path, mode: int = 0o644) -> Path:
    """Copy ``src`` to ``dst`` atomically (temp file in the destination folder, then rename), durably."""
    def fill(out: BinaryIO) -> None:
        with open(src, "rb") as inp:
            shutil.copyfileobj(inp, out, 1 << 20)

    return _atomic(dst, fill, mode, True)


def unique_path(path: Path, *, companion: Callable[[Path], Path] | None = None) -> Path:
    """``path`` if free, else ``name (2).ext``, ``name (3).ext`` … — user files are never overwritten.
    With ``companion`` (e.g. the note beside a file), a name counts as free only if its companion's is too."""
    path = Path(path)
    stem, suffix = path.stem, path.suffix
    for i in range(1, 100000):
        cand = path if i == 1 else path.with_name(fit_name(stem, f" ({i}){suffix}"))
        if not os.path.lexists(cand) and not (companion is not None and os.path.lexists(companion(cand))):
            return cand
    raise FileExistsError(path)


# --- a full disk ------------------------------------------------------------------------------------
# One document needs about 1 MB on its way (定稿 ~15 KB, the PDF/A with embedded fonts ~150 KB twice,
# LibreOffice's temporary files, an index segment). With less free than this on a disk the instance
# writes to, a failure of any part — LibreOffice not writing its PDF, SQLite, the index — is put down
# to the disk, and the service waits for space instead of blaming the part.
LOW_SPACE_BYTES = 16 * 1024 * 1024


def is_disk_full(e: BaseException) -> bool:
    """The error says the disk (or the quota) is full — from the OS, or from SQLite."""
    for err in (e, e.__cause__, e.__context__):
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if err is not None and ("disk is full" in str(err) or "No space left" in str(err)):
            return True
    return False


def free_bytes(path: Path) -> int | None:
    """Bytes free for this user on the disk holding ``path`` (or its nearest existing folder)."""
    p = Path(path)
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        st = os.statvfs(p)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def mount_point(path: Path) -> Path:
    """The mount point of the disk holding ``path``."""
    p = Path(path).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    while not os.path.ismount(p) and p != p.parent:
        p = p.parent
    return p


def low_disk(paths: Iterable[Path]) -> Path | None:
    """The first of ``paths`` whose disk has less than LOW_SPACE_BYTES free, or None."""
    for p in paths:
        free = free_bytes(p)
        if free is not None and free < LOW_SPACE_BYTES:
            return Path(p)
    return None


def human_bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} 字节"


def disk_full_message(path: Path) -> str:
    """One Chinese sentence naming the full disk and what is left on it."""
    free = free_bytes(path)
    left = f"只剩 {human_bytes(free)}" if free is not None else "空间不足"
    return f"磁盘已满：{readable_path(path)} 所在的磁盘（{readable_path(mount_point(path))}）{left}"


def full_disk(paths: Iterable[Path], e: BaseException | None = None) -> Path | None:
    """The disk to blame for a failure, if any: one of ``paths`` with less than LOW_SPACE_BYTES free,
    or the file the error names when the error itself says the disk is full."""
    full = low_disk(paths)
    if full is None and e is not None and is_disk_full(e):
        full = Path(getattr(e, "filename", None) or next(iter(paths)))
    return full


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
