"""SIGKILL in the middle of allocating and filing, then restart: the register stays consistent (no
holes, no duplicates), every number is issued, resumable via pending() or voided with a reason, the
files of each recorded stage exist, and the event chain verifies.

The worker is a small script that does what the pipeline does with the ledger: allocate (idempotent
per content), write each stage's file atomically, advance, record the seal use, and void some drafts
as a failed layout would. It is killed from outside at a random moment, or kills itself exactly when
SQLite is about to run a chosen statement inside an allocation or advance transaction.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipeline.config import load
from pipeline.ledger import STAGES, Ledger
from tests.conftest import REPO
from samples.instance import write_instance

N_DRAFTS = 80
VOID_EVERY = 9           # drafts i % 9 == 4 fail after rendering and void their number

WORKER = textwrap.dedent(f"""
    import datetime as dt, os, signal, sys
    from pathlib import Path
    from pipeline.config import load
    from pipeline.fsutil import atomic_write_text
    from pipeline.ledger import STAGES, Ledger
    from pipeline.model import Draft

    config_path, n, files = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    kill_sql, kill_at = os.environ.get("KILL_SQL"), int(os.environ.get("KILL_AT", "0"))
    config = load(config_path)
    seen = 0

    def trace(sql):
        global seen
        if kill_sql and sql.lstrip().upper().startswith(kill_sql):
            seen += 1
            if seen == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)     # inside the transaction, before this statement

    with Ledger.open(config) as ledger:
        ledger._db.set_trace_callback(trace)
        print("ready", flush=True)
        for i in range(n):
            if (files / f"done-{{i}}").exists():
                continue
            print("draft", i, flush=True)
            d = Draft(source=f"inbox/{{i}}.md", source_format="markdown", series="珠政发", kind="通知",
                      title=f"第{{i}}份通知", date=dt.date(2015, 4, 1), signers=("张三",), copies=5)
            a = ledger.allocate(d, actor="流水线")
            ref, stage = a.number.reference, a.stage
            for st in STAGES[STAGES.index(stage) + 1:]:
                if i % {VOID_EVERY} == 4 and st == "converted":
                    ledger.void(ref, reason="模拟：版面放不下印章", actor="流水线")
                    break
                out = files / str(a.doc_id) / f"{{st}}.txt"
                atomic_write_text(out, f"{{ref}} {{st}}\\n")
                if st == "stamped" and not any(r.number == ref for r in ledger.seal_register()):
                    ledger.record_seal_use(ref, seal_name="珠晖区人民政府", copies=5, handler="流水线",
                                           approver="张三")
                ledger.advance(a.doc_id, st, actor="流水线", detail={{"file": str(out)}})
            atomic_write_text(files / f"done-{{i}}", ref)
    print("finished", flush=True)
""")


def start(config_path: Path, files: Path, env: dict | None = None) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", WORKER, str(config_path), str(N_DRAFTS), str(files)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                         env={**os.environ, **(env or {})})
    assert p.stdout.readline().strip() == "ready", p.stderr.read()
    return p


def check_consistent(config, files: Path) -> dict[str, int]:
    """The register after a crash: what any restart may rely on."""
    with Ledger.open(config) as led:
        rep = led.verify()
        assert rep.ok, rep.summary()
        assert led.check_numbers() == []
        docs = led.documents(2015, "珠政发")
        seqs = [d.number.seq for d in docs]
        assert seqs == list(range(1, len(seqs) + 1))                      # no hole, no duplicate
        live = [d.title for d in docs if d.stage != "voided"]
        assert len(live) == len(set(live))                                # one live document per content
        counts = {"issued": 0, "pending": 0, "voided": 0}
        for d in docs:
            if d.stage == "voided":
                assert d.void_reason and d.voided_by and d.voided_at
                counts["voided"] += 1
            elif d.stage == "indexed":
                counts["issued"] += 1
            else:
                assert d.pending and d in led.pending()
                counts["pending"] += 1
            # Every stage the register records was really done: its file is there.
            reached = STAGES.index(d.stage) if d.stage in STAGES else None
            if reached is not None:
                for st in STAGES[1:reached + 1]:
                    assert (files / str(d.id) / f"{st}.txt").read_text().startswith(d.reference)
        sealed = [r.number for r in led.seal_register()]
        assert len(sealed) == len(set(sealed))
        for d in docs:
            if d.stage in ("stamped", "filed", "indexed"):
                assert d.reference in sealed
        allocated = {e.reference for e in led.events() if e.event == "allocated"}
        assert allocated == {d.reference for d in docs}
    return counts


@pytest.mark.slow
def test_sigkill_while_allocating_and_filing_then_resume(tmp_path):
    config_path = write_instance(tmp_path / "inst")
    config = load(config_path)
    files = tmp_path / "files"
    files.mkdir()
    rng = random.Random(20150401)
    kills, operator_voided = 0, None
    plans = [{}, {"KILL_SQL": "INSERT INTO DOCUMENTS", "KILL_AT": "3"},
             {}, {"KILL_SQL": "UPDATE DOCUMENTS", "KILL_AT": str(rng.randint(5, 30))},
             {}, {"KILL_SQL": "COMMIT", "KILL_AT": str(rng.randint(10, 40))},
             {}, {"KILL_SQL": "INSERT INTO EVENTS", "KILL_AT": str(rng.randint(5, 30))},
             {}]
    for n, env in enumerate(plans):
        p = start(config_path, files, env)
        if env:
            p.wait(timeout=120)                               # it kills itself mid-transaction
        else:
            # From outside, at a random moment while drafts remain: after 1–3 drafts have begun.
            for _ in range(rng.randint(1, 3)):
                assert p.stdout.readline().startswith("draft")
            time.sleep(rng.uniform(0, 0.03))
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=120)
        assert p.returncode == -signal.SIGKILL, (n, env, p.returncode, p.stderr.read())
        p.stdout.close()
        p.stderr.close()
        kills += 1
        counts = check_consistent(config, files)
        if counts["pending"] and not operator_voided:
            # An operator gives up on one interrupted document: void it with the reason. Its draft,
            # dropped again, is a new document with a new number.
            with Ledger.open(config) as led:
                operator_voided = led.void(led.pending()[0].reference, reason="崩溃后放弃，重新办理",
                                           actor="值班员").reference
    assert operator_voided, "no kill ever left a document half-way: the kills missed the pipeline"
    # The restart that completes everything.
    p = start(config_path, files)
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0 and "finished" in out, err
    counts = check_consistent(config, files)
    with Ledger.open(config) as led:
        assert led.pending() == []
        docs = led.documents(2015)
        issued = {d.title for d in docs if d.stage == "indexed"}
        expect = {f"第{i}份通知" for i in range(N_DRAFTS) if i % VOID_EVERY != 4}
        assert issued == expect                                # every draft issued exactly once
        assert counts["issued"] == len(expect)
        assert counts["voided"] >= len([i for i in range(N_DRAFTS) if i % VOID_EVERY == 4])
        assert all(d.void_reason for d in docs if d.stage == "voided")
        assert led.document(operator_voided).voided_by == "值班员"
    assert kills == len(plans)
    assert sorted(int(f.name.split("-")[1]) for f in files.glob("done-*")) == list(range(N_DRAFTS))
