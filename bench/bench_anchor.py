"""What anchoring costs: on the year-end bench's filed year (1,000 documents, --quick 60; cached, see
bench_yearend), in one process, each pass over every record — the fixity check that was always
there, and beside it what anchoring adds: the anchor taken at filing (record_anchor), the comparison
check and doctor make (check_anchor reusing the fixity digests), the one archive makes before it
arranges (check_anchor on its own), the register comparison, and reading every anchor from the
ledger. Times are totals and per document; on a shared machine compare them with each other."""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path


def run(args) -> list[tuple[str, list[str], list[tuple]]]:
    from bench.bench_yearend import YEAR, source_year
    from pipeline.archive import ArchiveStore, check_anchor, record_anchor, register_problems
    from pipeline.config import load
    from pipeline.ledger import Ledger

    n = 60 if args.quick else 1000
    source, _ = source_year(n)
    with tempfile.TemporaryDirectory(prefix="bench-anchor-") as tmp:
        inst = Path(tmp) / "instance"
        shutil.copytree(source, inst, symlinks=True)
        config = load(inst / "config.yaml")
        records = list(ArchiveStore(config).records(YEAR))
        size = sum(p.stat().st_size for r in records for p in r.path.iterdir() if p.is_file())
        with Ledger.open(config) as ledger:
            docs = {d.reference: d for d in ledger.documents(YEAR)}
            t = time.perf_counter()
            anchors = ledger.anchors()
            passes = [("ledger.anchors() (every anchor, one query)", time.perf_counter() - t)]
        fixity = {}

        def timed(name, fn):
            t0 = time.perf_counter()
            for rec in records:
                fn(rec)
            passes.append((name, time.perf_counter() - t0))

        timed("fixity: Record.verify() (SM3 + SHA-256 of every file; always there)",
              lambda r: fixity.__setitem__(r.reference, r.verify()))
        timed("record_anchor (what filing adds)", lambda r: record_anchor(r.path))
        states = []
        timed("check_anchor reusing the fixity digests (what check, doctor, show add)",
              lambda r: states.append(check_anchor(r, anchors[r.reference], fixity[r.reference]).state))
        timed("check_anchor alone (archive, before it arranges)", lambda r: check_anchor(r, anchors[r.reference]))
        timed("register_problems (metadata against the 发文登记簿)", lambda r: register_problems(r.meta, docs[r.reference]))
    assert states == ["一致"] * len(records), set(states)
    rows = [(name, f"{secs:.2f}", f"{secs / len(records) * 1000:.1f}") for name, secs in passes]
    title = f"anchoring on {len(records)} filed records ({size / 1e6:.0f} MB), one process"
    return [(title, ["pass", "seconds", "ms / document"], rows)]
