"""Watched-folder service, real pipeline: drop-to-filed latency for single drafts (read, check, number,
render, PDF/A, seal + signature, file, index, outbox), drop-to-清样 latency for single drafts dropped
into proofs/ in the same run (read, check, render, PDF, layout check, mark; no number), and the total
time for a batch dropped at once.

Drop-to-filed = from the moment the draft is renamed into the inbox folder to the watcher's "issued"
event (the claimed copy is then gone and the record is in the archive). Drop-to-清样 = from the rename
into proofs/<route>/ to the "proofed" event (the 清样 PDF is then beside the draft). Run:
    .venv/bin/python -m bench watch [--quick]
"""
from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import yaml

from samples.drafts import sample_draft
from samples.instance import write_instance

REPO = Path(__file__).resolve().parent.parent


def make_instance(root: Path, **intake_opts) -> Path:
    """A fresh instance in ``root`` using the repository's templates and fonts; returns config.yaml."""
    from pipeline.instance import init_instance

    intake = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))["intake"]
    cfg = write_instance(root, intake={**intake, **intake_opts})
    init_instance(None, str(cfg))
    return cfg


def drop(folder: Path, name: str, data: bytes) -> float:
    """Write under a temporary (ignored) name, then rename into place; returns the drop time."""
    part = folder / f"{name}.part"
    part.write_bytes(data)
    t = time.perf_counter()
    os.rename(part, folder / name)
    return t


class Service:
    """The real service (intake.watch + open_services) on a thread, with issued times by name."""

    def __init__(self, config):
        from pipeline import intake
        from pipeline.process import open_services

        self.config = config
        self.stop = threading.Event()
        self.cond = threading.Condition()
        self.done: dict[str, float] = {}
        self.pipeline_s: dict[str, float] = {}
        self.proofed: dict[str, float] = {}
        self.proof_s: dict[str, float] = {}
        self.other: list[str] = []
        self.started = False
        self.error: BaseException | None = None

        def on_event(ev):
            with self.cond:
                if ev.kind == "issued":
                    self.done[ev.name] = time.perf_counter()
                    self.pipeline_s[ev.name] = ev.seconds or 0.0
                elif ev.kind == "proofed":
                    self.proofed[ev.name] = time.perf_counter()
                    self.proof_s[ev.name] = ev.seconds or 0.0
                elif ev.kind == "started":
                    self.started = True
                elif ev.kind not in ("stopped", "recovered"):
                    self.other.append(f"{ev.kind} {ev.name}: {ev.message}")
                self.cond.notify_all()

        def target():
            try:
                intake.watch(config, lambda: open_services(config, "bench"), on_event=on_event, stop=self.stop)
            except BaseException as e:
                self.error = e
                with self.cond:
                    self.cond.notify_all()

        self.thread = threading.Thread(target=target, daemon=True)

    def __enter__(self):
        self.thread.start()
        self.wait(lambda: self.started, 120)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=120)

    def wait(self, pred, timeout: float) -> None:
        with self.cond:
            ok = self.cond.wait_for(lambda: pred() or self.error is not None or bool(self.other), timeout)
        if self.error:
            raise self.error
        if self.other:
            raise RuntimeError("unexpected results: " + "; ".join(self.other[:5]))
        if not ok:
            raise TimeoutError("the watcher did not finish in time")


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run(args) -> list[tuple[str, list[str], list[list]]]:
    singles = 5 if args.quick else 20
    batch = 10 if args.quick else 100
    tmp = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    try:
        return _run(tmp, singles, batch)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(tmp: Path, singles: int, batch: int) -> list[tuple[str, list[str], list[list]]]:
    from pipeline.config import load

    os.environ.setdefault("GONGWEN_ACTOR", "bench")
    cfg = make_instance(tmp / "instance", stable_seconds=1, rescan_interval_s=300)
    config = load(cfg)
    folder = config.inbox / "珠政发"
    latencies: list[float] = []
    with Service(config) as svc:
        # warm-up: LibreOffice (unoserver) and the index start on first use
        t_warm = drop(folder, "预热.md", sample_draft(0, "（预热）"))
        svc.wait(lambda: "预热.md" in svc.done, 300)
        warm = svc.done["预热.md"] - t_warm
        single_names = []
        for i in range(1, singles + 1):
            name = f"单份{i:03d}.md"
            single_names.append(name)
            t0 = drop(folder, name, sample_draft(i))
            svc.wait(lambda name=name: name in svc.done, 300)
            latencies.append(svc.done[name] - t0)
        # the same drafts' kind into proofs/, interleaved with drops into the inbox (same run, same
        # warm LibreOffice): drop-to-清样 beside drop-to-filed
        proofs_dir = config.proofs / "珠政发"
        proof_lat: list[float] = []
        proof_names = []
        for i in range(1, singles + 1):
            name = f"清样{i:03d}.md"
            proof_names.append(name)
            t0 = drop(proofs_dir, name, sample_draft(500 + i))
            svc.wait(lambda name=name: name in svc.proofed, 300)
            proof_lat.append(svc.proofed[name] - t0)
        names = [f"批量{i:03d}.md" for i in range(batch)]
        datas = [sample_draft(1000 + i) for i in range(batch)]
        for n, d in zip(names, datas):          # write all first, then rename them in one burst
            (folder / f"{n}.part").write_bytes(d)
        t_batch = time.perf_counter()
        for n in names:
            os.rename(folder / f"{n}.part", folder / n)
        svc.wait(lambda: all(n in svc.done for n in names), 60 + 30 * batch)
        total = max(svc.done[n] for n in names) - t_batch
    pipe = [svc.pipeline_s[n] for n in single_names]
    overhead = [lat - p for lat, p in zip(latencies, pipe)]
    lat_rows = [
        ["first draft (LibreOffice cold start)", "1", f"{warm:.2f}", "", ""],
        ["single drafts, one at a time: drop-to-filed", str(len(latencies)), f"{_pct(latencies, 50):.2f}",
         f"{_pct(latencies, 95):.2f}", f"{max(latencies):.2f}"],
        ["  of which the pipeline (process_draft)", str(len(pipe)), f"{_pct(pipe, 50):.2f}",
         f"{_pct(pipe, 95):.2f}", f"{max(pipe):.2f}"],
        ["  of which the watcher (event, gate, claim, archive check, release)", str(len(overhead)),
         f"{_pct(overhead, 50):.3f}", f"{_pct(overhead, 95):.3f}", f"{max(overhead):.3f}"],
    ]
    proof_pipe = [svc.proof_s[n] for n in proof_names]
    lat_rows += [
        ["single drafts into proofs/: drop-to-清样 (no number)", str(len(proof_lat)), f"{_pct(proof_lat, 50):.2f}",
         f"{_pct(proof_lat, 95):.2f}", f"{max(proof_lat):.2f}"],
        ["  of which the 清样 (make_proof)", str(len(proof_pipe)), f"{_pct(proof_pipe, 50):.2f}",
         f"{_pct(proof_pipe, 95):.2f}", f"{max(proof_pipe):.2f}"],
    ]
    batch_rows = [[str(batch), f"{total:.1f}", f"{total / batch:.2f}", f"{batch / total * 60:.0f}"]]
    return [
        ("watch: drop-to-filed and drop-to-清样 latency (s), real pipeline with PDF/A, seal and signature",
         ["case", "n", "p50", "p95", "max"], lat_rows),
        ("watch: drafts dropped at once", ["drafts", "total s", "s per draft", "drafts per minute"], batch_rows),
    ]
