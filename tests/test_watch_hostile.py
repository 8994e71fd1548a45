"""Files the watched-folder service must survive and answer, through the real service: `gongwen watch`
as a subprocess on a fresh instance, files made as a clerk (or an attacker) would make them — names
that are not UTF-8, names at the length limit, a draft that can never be produced, a route folder
deleted and made again, symlinks, FIFOs, device nodes, subfolders. After each, the service must still
be running and the file must be where its answer says, with a note naming the problem."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.bench_watch import sample_draft
from tests.watch_service import WatchService, fresh_instance, intake_settings

pytestmark = pytest.mark.slow

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
