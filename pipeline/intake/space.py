"""A full disk, as the watcher meets it: a failed file operation is put in one Chinese sentence, and a
disk the service writes to that has run full is watched until it has room again — the service keeps
running meanwhile, and what failed is retried at once when space is freed."""
from __future__ import annotations

from pathlib import Path

from ..fsutil import (LOW_SPACE_BYTES, disk_full_message, free_bytes, full_disk, human_bytes, low_disk, mount_point,
                      readable_path)
from .events import Reporter


class SpaceGuard:
    """The disks the service writes to; one found full is watched (``waiting``) until space is freed."""

    def __init__(self, disks: tuple[Path, ...], reporter: Reporter):
        self.disks, self.reporter = disks, reporter
        self.waiting: Path | None = None

    def trouble(self, e: OSError) -> str:
        """A failed file operation in one Chinese sentence; a full disk is named, and watched."""
        full = full_disk(self.disks, e)
        if full is not None:
            self.wait_for(full)
            return f"{disk_full_message(full)}；释放空间后自动继续"
        where = f" {readable_path(e.filename)}" if getattr(e, "filename", None) else ""
        return f"文件操作失败{where}（{e.strerror or e}）"

    def wait_for(self, path: Path) -> None:
        """Watch the disk of ``path`` (said once) until it has room again."""
        if self.waiting is None:
            self.waiting = path
            self.reporter.notify(f"{disk_full_message(path)}；服务继续运行，空间释放后自动继续办理")

    def check_low(self) -> None:
        """After a failure: a disk with too little room left is the likely cause, and is watched."""
        if self.waiting is None and (full := low_disk(self.disks)) is not None:
            self.wait_for(full)

    def freed(self) -> bool:
        """True (once, and said) when the disk being watched has room again."""
        if self.waiting is None:
            return False
        free = free_bytes(self.waiting)
        if free is None or free < LOW_SPACE_BYTES:
            return False
        self.reporter.notify(f"磁盘空间已释放（{readable_path(mount_point(self.waiting))} 可用 {human_bytes(free)}），继续办理")
        self.waiting = None
        return True
