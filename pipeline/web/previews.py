"""Page images of a 正本 — full pages and thumbnails —, every page rendered once with pdftoppm and
cached in the work area.

The cache folder is named by the 正本's SHA-256 as the record's metadata gives it, so the 正本 that
the year end replaces (with the 归档章) gets new images, and the old ones are never shown for it.
A folder is built under a temporary name and renamed into place (build-then-rename): a crash or a
second request never sees half the pages. One render per document at a time (a lock per key)."""
from __future__ import annotations

import re
import shutil
import subprocess
import threading
import uuid
from pathlib import Path

import filelock

from ..archive import Record
from ..config import Config
from ..errors import ArchiveError

DPI = 110               # A4 at 110 dpi ≈ 910×1286 px: readable on an office screen, light to send
THUMB_WIDTH = 360       # px: shown about 170 px wide, sharp on a screen at 2× too
TIMEOUT_S = 180.0


class Previews:
    def __init__(self, config: Config):
        self.root = config.work_dir / "web" / "pages"
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @staticmethod
    def key(rec: Record) -> str | None:
        for f in rec.meta.get("电子文件", []):
            if f.get("稿本") == "正本":
                for d in f.get("数字摘要", []):
                    if d.get("算法") == "SHA-256" and re.fullmatch(r"[0-9a-f]{64}", str(d.get("值", ""))):
                        return d["值"]
        return None

    def page(self, rec: Record, n: int, *, thumb: bool = False) -> Path | None:
        """The PNG of page ``n`` (1-based) of the record's 正本 (a thumbnail with ``thumb``),
        rendering all pages on first use."""
        pdf = rec.file("正本")
        key = self.key(rec)
        if pdf is None or key is None or not pdf.is_file() or n < 1:
            return None
        if thumb:
            key += "-thumbs"
        folder = self.root / key
        if not folder.is_dir():
            self._render(pdf, key, ["-scale-to-x", str(THUMB_WIDTH), "-scale-to-y", "-1"] if thumb
                         else ["-r", str(DPI)])
        png = folder / f"{n}.png"
        return png if png.is_file() else None

    def _render(self, pdf: Path, key: str, size: list[str]) -> None:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        self.root.mkdir(parents=True, exist_ok=True)
        # The thread lock for this process, the file lock for other server processes (--workers).
        with lock, filelock.FileLock(str(self.root / f".{key}.lock"), timeout=TIMEOUT_S):
            folder = self.root / key
            if folder.is_dir():
                return
            tmp = self.root / f".tmp-{uuid.uuid4().hex}"
            tmp.mkdir()
            try:
                r = subprocess.run(["pdftoppm", "-png", *size, str(pdf), str(tmp / "p")],
                                   capture_output=True, timeout=TIMEOUT_S)
                if r.returncode != 0:
                    raise ArchiveError(f"无法生成页面图像（pdftoppm：{r.stderr.decode(errors='replace')[:200]}）")
                # pdftoppm pads page numbers to the width of the page count: p-1.png or p-01.png.
                for f in tmp.glob("p-*.png"):
                    f.rename(tmp / f"{int(f.stem.split('-')[-1])}.png")
                tmp.rename(folder)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
