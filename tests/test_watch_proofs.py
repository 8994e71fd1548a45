"""The 清样 folders through the real service: `gongwen watch` with LibreOffice, on a thread (a 清样
appears beside a dropped draft, a corrected draft replaces it, the inbox goes on as before) and as a
subprocess killed with SIGKILL mid-run and restarted — no draft lost or changed, no stray 清样, nothing
numbered, the register's chain whole."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pypdf import PdfReader

from samples.drafts import sample_draft
from tests.support.intake import Running
from tests.support.watch_service import WatchService, files_under, fresh_instance, intake_settings

pytestmark = pytest.mark.libreoffice

FAST = {"stable_seconds": 0.5, "invalid_timeout_s": 3, "poll_interval_s": 0.3, "rescan_interval_s": 300}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def office(i: int) -> bytes:
    return sample_draft(i).replace("珠晖区人民政府关于".encode(), "珠晖区人民政府办公室关于".encode()).replace(
        "署名: 珠晖区人民政府".encode(), "署名: 珠晖区人民政府办公室".encode())


def test_the_service_makes_a_清样_beside_a_dropped_draft_and_replaces_it_for_a_corrected_one(tmp_path):
    from pipeline.ledger import Ledger
    from pipeline.process import open_services
    from pipeline.signoff import cases

    _, config, _ = fresh_instance(tmp_path, intake=intake_settings(**FAST))
    folder = config.proofs / "珠政发"
    with Running(config, None, lambda: open_services(config, "测试员")) as run:
        (folder / "防汛.md.part").write_bytes(sample_draft(1))
        (folder / "防汛.md.part").rename(folder / "防汛.md")
        run.wait_for(lambda evs: any(e.kind == "proofed" for e in evs), 300, "the first 清样")
        first = PdfReader(folder / "防汛.md.清样.pdf").metadata["/GongwenContentHash"]
        (config.inbox / "珠政发" / "同时.md").write_bytes(sample_draft(2))        # the inbox as before
        (folder / "防汛.md").write_bytes(sample_draft(1, "（修改）"))
        run.wait_for(lambda evs: sum(e.kind == "proofed" for e in evs) == 2
                     and any(e.kind == "issued" for e in evs), 300, "the second 清样 and the issued document")
    assert sorted(p.name for p in folder.iterdir()) == ["防汛.md", "防汛.md.清样.pdf"]
    assert (folder / "防汛.md").read_bytes() == sample_draft(1, "（修改）")
    assert PdfReader(folder / "防汛.md.清样.pdf").metadata["/GongwenContentHash"] != first
    with Ledger.open(config) as ledger:
        (c,) = cases(ledger, config)
        assert c.proof_count == 2 and c.state == "proofed" and c.name == "防汛.md"
        assert [d.title for d in ledger.documents()] == ["珠晖区人民政府关于做好第2批重点工作的通知"]
    assert [e.kind for e in run.events if e.kind not in ("started", "stopped")].count("proofed") == 2


@pytest.mark.slow
def test_sigkill_mid_run_loses_no_draft_and_leaves_no_stray_清样(tmp_path):
    from pipeline.ledger import Ledger
    from pipeline.proofs import proof_path
    from pipeline.signoff import cases

    cfg, config, env = fresh_instance(tmp_path, intake=intake_settings(**FAST))
    drafts: dict[Path, bytes] = {}
    for i in range(10):
        route = "珠政发" if i % 2 == 0 else "珠政办发"
        drafts[config.proofs / route / f"稿{i:02d}.md"] = sample_draft(i + 1) if route == "珠政发" else office(i + 1)
    bad = config.proofs / "珠政发" / "缺日期.md"
    drafts[bad] = sample_draft(50).replace("成文日期: 2015年3月20日\n".encode(), b"")
    out = tmp_path / "console.txt"

    svc = WatchService(cfg, env, out).start()
    try:
        for p, data in drafts.items():
            p.write_bytes(data)
        svc.wait_for(lambda text: text.count("清样 ← ") - text.count("未出清样 ← ") >= 2, 300, "two 清样")
    finally:
        svc.kill()
    done = [p for p in drafts if proof_path(p).exists()]
    assert len(done) < len(drafts) - 1, "the kill came after everything was done: nothing was tested"

    svc = WatchService(cfg, env, out).start()
    try:
        svc.until(lambda: all(proof_path(p).exists() for p in drafts if p != bad)
                  and bad.with_name("缺日期.md.问题.txt").exists()
                  and not files_under(config.work_dir / "proof-claims"), 600,
                  "every draft to have its 清样 (or its note)")
        assert svc.stop() == 0
    finally:
        svc.kill()

    for p, data in drafts.items():                                 # no draft lost or changed
        assert p.read_bytes() == data, f"{p.name} changed"
    for route in ("珠政发", "珠政办发"):                           # nothing else beside them
        names = sorted(f.name for f in (config.proofs / route).iterdir())
        mine = sorted(n for p in drafts if p.parent.name == route
                      for n in (p.name, proof_path(p).name if p != bad else p.name + ".问题.txt"))
        assert names == mine, names
    assert not proof_path(bad).exists()
    with Ledger.open(config) as ledger:
        by_name = {c.name: c for c in cases(ledger, config)}
        assert sorted(by_name) == sorted(p.name for p in drafts if p != bad)
        for p, data in drafts.items():
            if p == bad:
                continue
            c = by_name[p.name]
            # each 清样 on disk is the one the register recorded, of exactly this draft, made once
            assert c.file_hash == sha(data) and c.pdf == proof_path(p) and c.proof_count == 1
            assert PdfReader(proof_path(p)).metadata["/GongwenContentHash"] == c.content_hash
        assert ledger.documents() == [] and ledger.check_numbers() == []
        assert ledger.verify().ok, ledger.verify().summary()
