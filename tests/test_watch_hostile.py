"""Files the watched-folder service must survive and answer, through the real service: `gongwen watch`
as a subprocess on a fresh instance, files made as a clerk (or an attacker) would make them — names
that are not UTF-8, names at the length limit, a draft that can never be produced, a route folder
deleted and made again, symlinks, FIFOs, device nodes, subfolders. After each, the service must still
be running and the file must be where its answer says, with a note naming the problem."""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from samples.drafts import sample_draft
from tests.support.watch_service import WatchService, fresh_instance, intake_settings

pytestmark = [pytest.mark.slow, pytest.mark.libreoffice]

# A draft the rules send back (no 主送, no 成文日期 …): answered without LibreOffice.
BAD_DRAFT = "---\n标题: 坏\n---\n正文\n".encode("utf-8")


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    cfg, config, env = fresh_instance(tmp, intake=intake_settings(
        stable_seconds=0.5, invalid_timeout_s=3, poll_interval_s=0.5, rescan_interval_s=300))
    service = WatchService(cfg, env, tmp / "console.txt")
    service.config = config
    service.start()
    try:
        yield service
    finally:
        service.kill()


def rejected_entries(config) -> dict[str, Path]:
    return {p.name: p for p in config.rejected.iterdir()} if config.rejected.exists() else {}


def wait_rejected(svc, name: str, timeout: float = 60) -> tuple[Path, Path]:
    """Wait until ``name`` is in rejected/ beside its note; returns (entry, note)."""
    config = svc.config

    def there() -> bool:
        names = rejected_entries(config)
        return name in names and any(n.endswith(".问题.txt") and _note_for(n, name) for n in names)

    svc.until(there, timeout, f"{name} in rejected/ with its note")
    note = next(p for n, p in rejected_entries(config).items() if n.endswith(".问题.txt") and _note_for(n, name))
    return config.rejected / name, note


def _note_for(note_name: str, name: str) -> bool:
    """The note beside ``name``: its own name plus .问题.txt, or (when that would be too long for the
    filesystem) a shortened stem that still begins the same way."""
    if note_name == name + ".问题.txt":
        return True
    stem = name.split(".")[0]
    return len(os.fsencode(name + ".问题.txt")) > 255 and note_name.startswith(stem[:20])


def records(config) -> list:
    from pipeline.archive import ArchiveStore

    return list(ArchiveStore(config).records())


def register(config) -> list:
    from pipeline.ledger import Ledger

    with Ledger.open(config) as ledger:
        return ledger.documents()


# --- 1. names that are not UTF-8 -------------------------------------------------------------------
def test_non_utf8_names_never_stop_the_service(svc):
    """A GBK name copied from a Windows share (and a byte that is no encoding at all) kills neither
    the claim nor the note: the bad draft comes back with its note, the good one is issued, and the
    names people read are decoded."""
    config = svc.config
    ib = os.fsencode(config.inbox / "珠政发")
    good = sample_draft(301)
    with open(ib + b"/" + "通知甲（GBK）.md".encode("gbk"), "wb") as f:
        f.write(good)
    with open(ib + b"/bad\xff.md", "wb") as f:          # the issue's own example
        f.write(BAD_DRAFT)
    svc.until(lambda: any(r.file("原稿").read_bytes() == good for r in records(config)), 300,
              "the GBK-named draft to be issued")
    svc.until(lambda: any(p.read_bytes() == BAD_DRAFT for p in config.rejected.iterdir()), 60,
              "bad\\xff.md to be rejected")
    bad = [p for p in config.rejected.iterdir() if not p.name.endswith(".问题.txt") and p.read_bytes() == BAD_DRAFT]
    assert len(bad) == 1
    note = bad[0].with_name(bad[0].name + ".问题.txt")
    assert note.is_file() and "标题" in note.read_text(encoding="utf-8")
    text = svc.console()
    assert "通知甲（GBK）.md" in text or "珠晖区人民政府关于做好第301批重点工作的通知" in text
    rec = next(r for r in records(config) if r.file("原稿").read_bytes() == good)
    assert rec.meta["原稿文件名"] == "通知甲（GBK）.md"     # decoded, not \udcxx escapes
    assert svc.alive()
    assert not list((config.inbox / "珠政发").iterdir())


# --- 3. a name at the length limit -----------------------------------------------------------------
def test_rejected_draft_with_the_longest_possible_name_gets_its_note(svc):
    """84 Chinese characters + .md is 255 bytes, the longest name the filesystem allows: the note's
    name (+ .问题.txt) cannot be the draft's name plus a suffix, yet the draft must come back with it
    — not fail and be retried forever."""
    config = svc.config
    name = "关于" + "开展" * 40 + "通知" + ".md"
    assert len(os.fsencode(name)) == 255
    (config.inbox / "珠政发" / name).write_bytes(BAD_DRAFT)
    entry, note = wait_rejected(svc, name)
    assert entry.read_bytes() == BAD_DRAFT
    assert len(os.fsencode(note.name)) <= 255
    assert name in note.read_text(encoding="utf-8")       # the note names the draft in full
    assert not [line for line in svc.console().splitlines() if line.startswith("失败") and name[:10] in line]
    assert svc.alive()


# --- 4. a draft that can never be produced ---------------------------------------------------------
def test_draft_too_long_for_any_document_is_rejected_before_numbering(svc):
    """Just under the 8 MB size cap, a Markdown draft is millions of characters — thousands of pages:
    it can never be converted in time. It must be recognised before a number is taken and go back
    with a note, not take a number, time out and block the queue."""
    config = svc.config
    head = sample_draft(302).split(b"\n\n", 1)[0]
    para = "各单位要高度重视，认真组织，确保各项工作取得实效，并及时报送工作进展情况。".encode("utf-8")
    body = b"\n\n".join([para] * (7_900_000 // (len(para) + 2)))
    data = head + b"\n\n" + body + b"\n"
    assert 7_800_000 < len(data) < 8 * 1024 * 1024
    before = {d.reference for d in register(config)}
    (config.inbox / "珠政发" / "超长.md").write_bytes(data)
    entry, note = wait_rejected(svc, "超长.md", timeout=300)
    assert entry.read_bytes() == data
    assert "过长" in note.read_text(encoding="utf-8")
    assert {d.reference for d in register(config)} == before, "a number was taken"
    assert svc.alive()


# --- 5. a route folder deleted and made again ------------------------------------------------------
def test_route_folder_deleted_and_recreated_is_watched_live_again(svc):
    config = svc.config
    route = config.inbox / "珠政函"
    shutil.rmtree(route)
    svc.wait_for(lambda text: "珠政函" in text and "删除" in text, 30, "the deletion to be reported")
    route.mkdir()
    svc.wait_for(lambda text: "恢复监视" in text, 30, "the folder to be watched again")
    (route / "重建后.md").write_bytes(BAD_DRAFT)
    # rescan_interval_s is 300: only a live watch answers within the minute
    wait_rejected(svc, "重建后.md", timeout=60)
    assert svc.alive()


# --- 8. things that are not files ------------------------------------------------------------------
def test_symlink_is_refused_and_moved_as_a_link_never_followed(svc, tmp_path):
    config = svc.config
    ib = config.inbox / "珠政发"
    outside = tmp_path / "外部草稿.md"
    outside.write_bytes(sample_draft(303))
    os.symlink("/etc/passwd", ib / "x.md")
    os.symlink(outside, ib / "外部.md")
    for name, target in (("x.md", "/etc/passwd"), ("外部.md", str(outside))):
        entry, note = wait_rejected(svc, name)
        assert entry.is_symlink() and os.readlink(entry) == target, f"{name}: the link itself must move"
        text = note.read_text(encoding="utf-8")
        assert "符号链接" in text and "root:" not in text
    assert outside.read_bytes() == sample_draft(303)
    assert not any(r.file("原稿").read_bytes() == sample_draft(303) for r in records(config))
    assert svc.alive()


def test_fifo_and_device_are_refused_without_being_opened(svc):
    """Opening a FIFO for reading blocks until a writer comes: the probe must never open one."""
    config = svc.config
    ib = config.inbox / "珠政发"
    os.mkfifo(ib / "管道.md")
    entry, note = wait_rejected(svc, "管道.md")
    assert stat.S_ISFIFO(os.lstat(entry).st_mode)
    assert "管道" in note.read_text(encoding="utf-8")
    try:
        os.mknod(ib / "设备.md", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("mknod refused (not root or no CAP_MKNOD): the device-node case is not tested here")
    entry, note = wait_rejected(svc, "设备.md")
    assert stat.S_ISCHR(os.lstat(entry).st_mode)
    assert "设备" in note.read_text(encoding="utf-8")
    assert svc.alive()


def test_subfolder_and_folder_symlink_are_reported_not_ignored(svc, tmp_path):
    config = svc.config
    ib = config.inbox / "珠政发"
    sub = ib / "子文件夹"
    sub.mkdir()
    (sub / "里面的草稿.md").write_bytes(BAD_DRAFT)
    target = tmp_path / "别处"
    target.mkdir()
    os.symlink(target, ib / "链接目录")
    svc.wait_for(lambda text: any("子文件夹" in line and "不会被处理" in line for line in text.splitlines()), 30,
                 "the subfolder to be reported")
    assert (sub / "里面的草稿.md").read_bytes() == BAD_DRAFT      # left where it is, untouched
    entry, note = wait_rejected(svc, "链接目录")
    assert entry.is_symlink() and target.is_dir()
    assert "符号链接" in note.read_text(encoding="utf-8")
    assert svc.alive()
