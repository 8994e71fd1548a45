"""A full disk through the real service: `gongwen watch` on an instance that lives on a small tmpfs.
The service must stay up, say in Chinese that the disk is full (naming the disk — not LibreOffice when
only the PDF does not fit), resume by itself once space is freed, and leave no half-filed record and
no lost draft."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from samples.drafts import sample_draft
from tests.support.watch_service import WatchService, fresh_instance, intake_settings

pytestmark = [pytest.mark.slow, pytest.mark.libreoffice]


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"mount of a small tmpfs refused ({r.stderr.strip() or r.returncode}): "
                    "the disk-full case needs root or CAP_SYS_ADMIN")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def fill(disk, leave: int):
    """Fill the disk with one file until about ``leave`` bytes are free; returns the file."""
    filler = disk / "占位.bin"
    chunk = b"\1" * (1 << 20)
    with open(filler, "ab") as f:
        while (free := shutil.disk_usage(disk).free) > leave:
            try:
                f.write(chunk[: min(len(chunk), free - leave)])
                f.flush()
            except OSError:
                break
    return filler


def drop(folder, name: str, data: bytes) -> None:
    """Write under an ignored name, then rename into place (renaming needs no free space)."""
    part = folder / f"{name}.part"
    part.write_bytes(data)
    os.rename(part, folder / name)


def failures(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("失败", "注意"))]


def test_full_disk_waits_says_so_and_resumes_by_itself(small_disk, tmp_path):
    from pipeline.archive import ArchiveStore
    from pipeline.ledger import Ledger

    cfg, config, env = fresh_instance(tmp_path, root=small_disk / "instance",
                                      intake=intake_settings(stable_seconds=0.5, rescan_interval_s=300))
    service = WatchService(cfg, env, tmp_path / "console.txt").start()
    route = config.inbox / "珠政发"
    store = ArchiveStore(config)
    drafts = {f"满{i}.md": sample_draft(800 + i) for i in range(3)}

    def issued(name: str) -> bool:
        return any(r.file("原稿").read_bytes() == drafts[name] for r in store.records())

    try:
        drop(route, "满0.md", drafts["满0.md"])                      # LibreOffice warm, the index made
        service.wait_for(lambda text: "珠政发〔2015〕1号 ← " in text, 300, "the first draft")

        # A: the disk completely full — not even the claim's record fits
        drop_part = route / "满1.md.part"
        drop_part.write_bytes(drafts["满1.md"])
        filler = fill(small_disk, 0)
        os.rename(drop_part, route / "满1.md")
        service.wait_for(lambda text: any("磁盘已满" in line for line in failures(text)), 60,
                         "the console to say the disk is full")
        assert service.alive() and not issued("满1.md")
        filler.unlink()
        service.until(lambda: issued("满1.md"), 120, "满1.md once space is freed (no restart)")

        # B: room for the claim and the 定稿, not for the PDF: the disk is named, not LibreOffice
        mark = len(service.console())
        drop_part = route / "满2.md.part"
        drop_part.write_bytes(drafts["满2.md"])
        filler = fill(small_disk, 96 * 1024)
        os.rename(drop_part, route / "满2.md")
        service.wait_for(lambda text: any("磁盘已满" in line for line in failures(text[mark:])), 120,
                         "the console to say the disk is full")
        said = [line for line in failures(service.console()[mark:]) if "满2.md" in line or "磁盘" in line]
        assert said and not any("LibreOffice" in line for line in said), said
        assert service.alive() and not issued("满2.md")
        filler.unlink()
        service.until(lambda: issued("满2.md"), 180, "满2.md once space is freed (no restart)")
        assert service.stop() == 0
    finally:
        service.kill()

    # nothing lost, nothing half-filed, no number wasted or doubled
    assert not list(route.iterdir())
    assert not [p for p in (config.work_dir / "claims").rglob("*") if p.is_file()]
    assert not list(config.archive_dir.glob("*/*/.tmp-*")), "a half-filed record was left behind"
    assert sorted(r.file("原稿").read_bytes() for r in store.records()) == sorted(drafts.values())
    assert all(all(f.ok for f in r.verify()) for r in store.records())
    with Ledger.open(config) as ledger:
        assert ledger.check_numbers() == [] and ledger.pending() == []
        live = [d for d in ledger.documents() if d.stage != "voided"]
        assert len(live) == 3 and ledger.verify().first is None
    assert not list(config.rejected.iterdir())
