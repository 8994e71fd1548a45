"""`gongwen process` on a draft the watcher is handling at the same moment: one document, and the second
caller is told it is a duplicate — never a path error from two processes sharing one scratch folder."""
from __future__ import annotations

import sqlite3
import subprocess

import pytest

from samples.drafts import sample_draft
from tests.conftest import REPO
from tests.support.watch_service import GONGWEN, WatchService, fresh_instance, intake_settings

pytestmark = [pytest.mark.slow, pytest.mark.libreoffice]


def stages(config) -> list[str]:
    from pipeline.ledger import ledger_path

    path = ledger_path(config)
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return [r[0] for r in db.execute("SELECT stage FROM documents")]
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def test_gongwen_process_while_the_watcher_handles_the_same_draft(tmp_path):
    from pipeline.archive import ArchiveStore
    from pipeline.ledger import Ledger

    cfg, config, env = fresh_instance(tmp_path, intake=intake_settings(stable_seconds=0.5, rescan_interval_s=300))
    service = WatchService(cfg, env, tmp_path / "console.txt").start()
    data = sample_draft(701)
    copy = tmp_path / "另一份.md"
    copy.write_bytes(data)
    try:
        (config.inbox / "珠政发" / "同一稿.md").write_bytes(data)
        # the watcher has numbered it and is making it (its first document: LibreOffice is starting)
        service.until(lambda: any(s in ("allocated", "rendered", "converted") for s in stages(config)), 120,
                      "the watcher to number the draft")
        r = subprocess.run(GONGWEN + ["--config", str(cfg), "process", str(copy)], capture_output=True,
                           text=True, env=env, cwd=REPO, timeout=600)
        service.wait_for(lambda text: "珠政发〔2015〕1号 ← " in text, 300, "the watcher's document")
    finally:
        service.kill()
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "珠政发〔2015〕1号" in out and "重复提交" in out, out
    assert "错误" not in out and "暂未办结" not in out, out
    assert [rec.reference for rec in ArchiveStore(config).records()] == ["珠政发〔2015〕1号"]
    with Ledger.open(config) as ledger:
        events = ledger.events("珠政发〔2015〕1号")
        assert [d.reference for d in ledger.documents()] == ["珠政发〔2015〕1号"]
        assert ledger.verify().first is None
    order = [e.event for e in events]
    # the test means something only if gongwen process came while the watcher was still at work
    assert "duplicate" in order and order.index("duplicate") < order.index("filed"), \
        f"no overlap (events {order}): nothing was tested"
    assert copy.read_bytes() == data
