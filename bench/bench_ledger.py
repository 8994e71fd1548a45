"""Allocations per second of the register: one process, then 4 processes on the same SQLite file
(each allocation its own BEGIN IMMEDIATE transaction, WAL, synchronous=FULL), and verify() time."""
from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def _config(base: Path):
    from pipeline.config import Config

    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    return Config.model_validate({**raw, "base": base})


def _draft(tag: str, i: int):
    from pipeline.model import Draft

    return Draft(source=f"{tag}-{i}.md", source_format="markdown", series="珠政办发", kind="通知",
                 title=f"关于测试事项{tag}-{i}的通知", date=dt.date(2015, 6, 1), main_to="各街道办事处")


def _worker(base: str, tag: str, n: int, start, out) -> None:
    from pipeline.ledger import Ledger

    config = _config(Path(base))
    drafts = [_draft(tag, i) for i in range(n)]
    with Ledger.open(config) as ledger:
        start.wait()
        t0 = time.perf_counter()
        for d in drafts:
            ledger.allocate(d, actor=tag)
        out.put(time.perf_counter() - t0)


def _run(base: Path, procs: int, per_proc: int) -> tuple[float, float]:
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    ps = [ctx.Process(target=_worker, args=(str(base), f"p{procs}-{k}", per_proc, start, out))
          for k in range(procs)]
    for p in ps:
        p.start()
    time.sleep(1.0)  # let every worker import and open the ledger before the common start
    t0 = time.perf_counter()
    start.set()
    times = [out.get(timeout=600) for _ in ps]  # a crashed worker fails the run, not hangs it
    wall = time.perf_counter() - t0
    for p in ps:
        p.join()
    return wall, max(times)


def run(args) -> list[tuple[str, list[str], list[list]]]:
    from pipeline.ledger import Ledger

    n = 200 if args.quick else 2000
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
        base = Path(tmp)
        for procs in (1, 4):
            per = n // procs
            wall, slowest = _run(base, procs, per)
            total = per * procs
            rows.append([procs, total, f"{wall:.2f}", f"{total / wall:.0f}", f"{1000 * wall / total:.2f}"])
        with Ledger.open(_config(base)) as ledger:
            t0 = time.perf_counter()
            rep = ledger.verify()
            vt = time.perf_counter() - t0
            assert rep.ok, rep.summary()
            events = rep.events
    return [
        (f"发文字号分配 ×{n}（每次一个事务）",
         ["进程数", "分配数", "用时 s", "次/秒", "ms/次"], rows),
        ("事件链核验 verify()", ["事件数", "用时 s", "事件/秒"],
         [[events, f"{vt:.2f}", f"{events / vt:.0f}"]]),
    ]
