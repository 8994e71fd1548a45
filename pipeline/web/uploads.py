"""Files sent with a form (a 进展's materials, the 佐证材料 of a 销号): each saved under the work area
with a safe plain name, handed to the library as paths (it copies them into the archive, read-only),
and removed afterwards — they are the app's temporary copies, never a user's file.

The name a browser sends is only a hint: its last part, without control characters, no hidden or
empty name, at most 200 bytes. A request may carry at most MAX_UPLOAD_BYTES in all (the reverse
proxy of docs/admin-guide.md lets 20 MB through: the same limit)."""
from __future__ import annotations

import re
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..config import Config
from ..errors import GongwenError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_NAME_BYTES = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UploadRefused(GongwenError):
    """A file sent with a form cannot be taken (no usable name, too large)."""


def safe_name(raw: str | None) -> str | None:
    """A plain file name from what a browser sent (``C:\\fakepath\\报告.pdf``, ``../../x``), or None."""
    name = _CONTROL.sub("", (raw or "").replace("\\", "/").rsplit("/", 1)[-1]).strip().lstrip(".").strip()
    if not name:
        return None
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        stem, dot, suffix = name.rpartition(".")
        suffix = f".{suffix}" if dot and 0 < len(suffix) <= 10 else ""
        stem = name[: len(name) - len(suffix)]
        while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
            stem = stem[:-1]
        name = stem + suffix
    return name


@contextmanager
def received(config: Config, uploads) -> Iterator[list[Path]]:
    """The uploaded files (Starlette UploadFile objects; an empty file input is skipped) as paths of
    temporary copies, removed when the block ends."""
    chosen = [u for u in uploads or () if getattr(u, "filename", None) or getattr(u, "size", 0)]
    if sum(u.size or 0 for u in chosen) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"上传的文件合计超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB；请分几次上传，或压缩后再传")
    folder = config.work_dir / "web" / "uploads" / uuid.uuid4().hex
    try:
        paths: list[Path] = []
        names: set[str] = set()
        for u in chosen:
            name = safe_name(u.filename)
            if name is None:
                raise UploadRefused(f"上传的文件“{u.filename or ''}”没有可用的文件名")
            if name in names:           # two files of the same name in one form: both kept
                stem, dot, suffix = name.rpartition(".")
                name = f"{stem or suffix} ({len(names) + 1}){dot}{suffix if stem else ''}"
            names.add(name)
            path = folder / name
            folder.mkdir(parents=True, exist_ok=True)
            u.file.seek(0)
            with open(path, "wb") as out:
                shutil.copyfileobj(u.file, out, 1024 * 1024)
            paths.append(path)
        yield paths
    finally:
        shutil.rmtree(folder, ignore_errors=True)
