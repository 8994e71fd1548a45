"""督查督办 at the size of ten busy years: 5,000 items (500 a year, every 来源类型, one 进展 each, most
closed, some held, given up, open or overdue). Times adding them (each its own transaction, like a
clerk or a 交办清单), `supervise list --overdue` (library and the real command), the day turn over all
of them, `supervise report YEAR` (statistics, the 台账 workbook and the 督查通报 draft), verify(), and
the 督办 page of `gongwen serve` under wrk on loopback, as bench_web measures the other pages (one
uvicorn worker in its own process, 20 connections, then 1; each request another year, page, filter or
item; the server's today is the real one, so every item still open is 逾期)."""
from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
YEARS = list(range(2015, 2025))


def _instance(base: Path):
    from pipeline.config import load

    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw.setdefault("paths", {})
    raw["paths"]["templates"] = str(REPO / "templates")
    raw["paths"]["fonts"] = str(REPO / "fonts")
    (base / "config.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    cfg = load(base / "config.yaml")
    cfg.archive_dir.mkdir(parents=True, exist_ok=True)
    return cfg


def _fill(ledger, cfg, per_year: int, rng: random.Random) -> float:
    from pipeline import supervise as sv
    from pipeline.config import SOURCE_TYPES

    units = cfg.supervision.units
    t0 = time.perf_counter()
    for year in YEARS:
        for k in range(per_year):
            assigned = dt.date(year, 1, 5) + dt.timedelta(days=rng.randrange(0, 340))
            stype = SOURCE_TYPES[k % len(SOURCE_TYPES)]
            item = sv.add_item(ledger, cfg, matter=f"{year}年第{k + 1}项督办事项：推进重点工作落实",
                               source_type=stype, source=f"来源{year}-{k}", lead_unit=units[k % len(units)],
                               assigned=assigned, actor="督查员", source_ref=f"bench:{year}:{k}")
            sv.add_progress(ledger, cfg, item.reference, "已按要求推进", actor="督查员",
                            day=min(assigned + dt.timedelta(days=5), item.deadline))
            roll = rng.random()
            if year < YEARS[-1] or roll < 0.6:
                if roll < 0.9:
                    sv.close_item(ledger, cfg, item.reference, note="已办结", actor="督查员",
                                  closed_on=item.deadline)
                elif roll < 0.95:
                    sv.set_status(ledger, cfg, item.reference, sv.HELD, reason="等待政策", actor="督查员",
                                  today=assigned)
                else:
                    sv.set_status(ledger, cfg, item.reference, sv.CANNOT, reason="超出职权", actor="督查员",
                                  today=assigned)
    return time.perf_counter() - t0


def run(args) -> list[tuple[str, list[str], list[list]]]:
    from pipeline import supervise as sv
    from pipeline.ledger import Ledger
    from pipeline.supervise.report import Period, report, statistics

    per_year = 50 if args.quick else 500
    n = per_year * len(YEARS)
    rng = random.Random(16)
    today = dt.date(YEARS[-1], 12, 31)
    rows_add, rows_list, rows_report = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-supervise-") as tmp:
        cfg = _instance(Path(tmp))
        with Ledger.open(cfg) as ledger:
            took = _fill(ledger, cfg, per_year, rng)
            events = len(ledger.events())
            rows_add.append([n, events, f"{took:.1f}", f"{events / took:.0f}"])

            t0 = time.perf_counter()
            overdue = sv.list_items(ledger, overdue_on=today)
            t_list = time.perf_counter() - t0
            t0 = time.perf_counter()
            turn = sv.day_turn(ledger, cfg, today=today, actor="gongwen")
            t_turn = time.perf_counter() - t0
            t0 = time.perf_counter()
            again = sv.day_turn(ledger, cfg, today=today, actor="gongwen")
            t_turn2 = time.perf_counter() - t0
            assert not again.overdue
            t0 = time.perf_counter()
            rep = ledger.verify()
            t_verify = time.perf_counter() - t0
            assert rep.ok, rep.summary()

            env = {**os.environ, "GONGWEN_ACTOR": "bench"}
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "pipeline", "--config", str(cfg.base / "config.yaml"),
                            "supervise", "list", "--overdue", "--json", "--today", today.isoformat()],
                           check=True, capture_output=True, env=env, cwd=REPO)
            t_cli = time.perf_counter() - t0
            rows_list += [["list_items(overdue_on) 库函数", len(overdue), f"{t_list * 1000:.0f}"],
                          ["gongwen supervise list --overdue --json（含启动）", len(overdue), f"{t_cli * 1000:.0f}"],
                          [f"day_turn 首次（{len(turn.overdue)} 件转为逾期）", len(turn.overdue), f"{t_turn * 1000:.0f}"],
                          ["day_turn 再次（无变化）", 0, f"{t_turn2 * 1000:.0f}"],
                          [f"verify()（{rep.events} 条事件）", n, f"{t_verify * 1000:.0f}"]]

            year = YEARS[-1]
            t0 = time.perf_counter()
            st = statistics(ledger, period=Period(year), today=today)
            t_stats = time.perf_counter() - t0
            t0 = time.perf_counter()
            out = report(ledger, cfg, year=year, today=today, actor="bench", out_dir=Path(tmp) / "out")
            t_report = time.perf_counter() - t0
            t0 = time.perf_counter()
            report(ledger, cfg, year=year, quarter=4, today=today, actor="bench", out_dir=Path(tmp) / "out")
            t_quarter = time.perf_counter() - t0
            assert st.reconciles and out.stats.total.total == per_year
            rows_report += [[f"statistics({year})", st.total.total, f"{t_stats * 1000:.0f}"],
                            [f"report {year}（台账 .xlsx + 督查通报）", st.total.total, f"{t_report * 1000:.0f}"],
                            [f"report {year} --quarter 4", out.stats.total.total and
                             statistics(ledger, period=Period(year, 4), today=today).total.total,
                             f"{t_quarter * 1000:.0f}"]]
        rows_web = _web(cfg, per_year, 5 if args.quick else 30, Path(tmp))
    tables = [
        (f"登记 {n} 件督办事项（每件：交办、1 条进展、销号或状态变更，各一个事务）",
         ["督办事项", "事件", "用时 s", "事件/秒"], rows_add),
        (f"{n} 件督办事项中的查询与日切", ["操作", "件数", "用时 ms"], rows_list),
        ("督查督办报告（一年）", ["操作", "件数", "用时 ms"], rows_report),
    ]
    if rows_web:
        from bench.bench_web import CONNECTIONS

        seconds = 5 if args.quick else 30
        tables.append((f"督办页面（{n} 件；一个 uvicorn 进程，wrk 在本机回环：{CONNECTIONS} 个连接 {seconds} 秒，"
                       "再 1 个连接——无排队——三分之一的时间）",
                       ["页面", "连接", "p50 ms", "p95 ms", "p99 ms", "请求/秒", "请求数", "错误"], rows_web))
    else:
        tables.append(("督办页面：未测", ["原因"], [["wrk 未安装（make system-deps）"]]))
    return tables


def _web(cfg, per_year: int, seconds: int, tmp: Path) -> list[list]:
    """The 督办 page's latency under wrk (bench_web's server and load generator), [] without wrk."""
    import shutil
    from urllib.parse import quote, urlencode

    from bench.bench_web import PASSWORD, USER, _login, load_rows, serving, wrk
    from pipeline import accounts
    from pipeline.ledger import Ledger
    from pipeline.supervise import list_items

    if shutil.which("wrk") is None:
        return []
    with Ledger.open(cfg) as ledger:
        accounts.Accounts(ledger).add(USER, ["查阅"], PASSWORD, actor="bench")
        refs = [i.reference for i in list_items(ledger)]
    pages_per_year = -(-per_year // 50)

    def url(**q) -> str:
        return "/supervise?" + urlencode(q)

    one_year = [url(year=y, page=k) for y in YEARS for k in range(1, pages_per_year + 1)]
    every_year = [url(year="全部", page=k) for k in range(1, len(YEARS) * pages_per_year + 1)]
    overdue = [url(year="全部", status="逾期", unit=u) for u in ("", *cfg.supervision.units)]
    items = ["/supervise/" + quote(r, safe="") for r in refs[:: max(1, len(refs) // 200)]]
    with serving(cfg.base / "config.yaml") as base:
        cookie = _login(base)
        wrk(base, cookie, one_year[:20] + items[:20], 3, tmp)            # warm-up, not measured
        return load_rows(base, cookie, [
            (f"列表：一个年度（{per_year} 件，每页 50 件，逐页）", one_year),
            (f"列表：全部年度（{len(refs)} 件的统计与办结率，逐页）", every_year),
            ("列表：全部年度中的逾期，按责任单位", overdue),
            ("督办件页面（字段、进展、办理过程）", items),
        ], seconds, tmp, [])
