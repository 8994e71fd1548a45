"""Search benchmark: both engines side by side on sections of real 政府工作报告 text, with SQLite
FTS5 (trigram tokenizer) measured in the same run as a peer.

For each size (20,000 and 100,000 sections; 2,000 with --quick) and each engine, a child process
builds the index with `rebuild` (streamed, one commit per 500 documents) and reports build time,
index size and its own peak RSS; then fresh processes measure p50/p95 latency over 20 fixed queries
with snippets (each run 5 times after a warm-up) and adding one document, and the wall time of the
command line's first query (`gongwen search 社会主义` in a fresh process, median of 3). Sections
beyond the corpus's ~6,000 are re-used with distinct 文号 (ids) and dates.

Also: nDCG@10 per engine on the graded judgements of tests/fixtures/search_relevance.json (with
the title weights in force and the ×3 of before), and the command line's start-up beside
`python -c pass`.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from samples.corpus import CORPUS, relevance, report_sections, section_docs, section_keys

REPO = Path(__file__).resolve().parent.parent
ENGINES = ("whoosh", "tantivy")
WHOOSH_MAX = 20_000      # the largest corpus Whoosh is built for in this bench (see run)
QUERIES = [
    "珠晖", "政府工作报告", "经济", "人民", "改革开放", "\"全面建成小康社会\"", "国内生产总值",
    "农业 AND 农村", "教育 OR 科技", "发展 -经济", "标题:工作回顾", "年度:2015", "GDP",
    "社会主义现代化", "脱贫攻坚", "住房", "疫情防控", "一带一路", "乡村振兴 NOT 城市", "珠政发〔2015〕3号",
]
# --- child processes -----------------------------------------------------------------------------


def _config(root: Path, engine: str):
    from pipeline.config import Config

    raw = {
        "organisation": {"name": "珠晖区人民政府办公室", "fonds_code": "Z109", "unit": {"name": "办公室", "code": "BGS"}},
        "series": {"珠政发": {"issuer": "珠晖区人民政府", "header": "珠晖区人民政府文件", "kinds": ["通知"]}},
        "intake": {"routes": [{"folder": "珠政发", "series": "珠政发"}]},
        "search": {"engine": engine},
        "base": str(root),
    }
    return Config.model_validate(raw)


def _write_config(root: Path, engine: str) -> Path:
    """A config.yaml for the command line over the same instance as ``_config`` (the repository's
    config with its templates and fonts)."""
    import yaml

    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw.setdefault("paths", {}).update(templates=str(REPO / "templates"), fonts=str(REPO / "fonts"))
    raw["search"] = {"engine": engine}
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_build(root: Path, engine: str, n: int) -> dict:
    from pipeline.search import reindex

    sections = report_sections()
    cfg = _config(root, engine)
    t0 = time.perf_counter()
    count = reindex(cfg, engine, docs=section_docs(sections, n))
    secs = time.perf_counter() - t0
    folder = cfg.archive_dir / "index" / engine
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return {"count": count, "seconds": secs, "bytes": size, "rss_mib": _peak_rss_mib()}


def child_queries(root: Path, engine: str, repeat: int = 5) -> dict:
    from pipeline.search import open_index

    ix = open_index(_config(root, engine), engine)
    for q in QUERIES:
        ix.search(q)  # warm-up: caches, lazily opened files
    times, totals = [], {}
    for _ in range(repeat):
        for q in QUERIES:
            t0 = time.perf_counter()
            res = ix.search(q)
            times.append(time.perf_counter() - t0)
            totals[q] = res.total
    times.sort()
    return {"p50_ms": 1000 * statistics.median(times),
            "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))], "totals": totals,
            "rss_mib": _peak_rss_mib()}


def child_add(root: Path, engine: str) -> dict:
    from pipeline.search import IndexDoc, open_index

    ix = open_index(_config(root, engine), engine)
    times = []
    for i in range(5):
        doc = IndexDoc(id=f"珠政发〔2099〕{i + 1}号", number=f"珠政发〔2099〕{i + 1}号", archive_code=None,
                       title="关于珠晖区控违拆违工作的通知", body="为加强珠晖区控违拆违工作，现通知如下。" * 20,
                       year=2099, series="珠政发", kind="通知", date=dt.date(2099, 1, 2))
        t0 = time.perf_counter()
        ix.add([doc])
        times.append(time.perf_counter() - t0)
    assert ix.search("珠政发〔2099〕1号").total == 1
    return {"median_ms": 1000 * statistics.median(times)}


def child_relevance(root: Path, engine: str) -> dict:
    """nDCG@10 per judged query on the whole corpus, with the title weights in force and the ×3
    (refs ×2) used before the judgements."""
    from pipeline.search import query as Q
    from pipeline.search import reindex

    sections = report_sections()
    docs = list(section_docs(sections))
    keys = section_keys(sections, docs)
    cfg = _config(root, engine)
    reindex(cfg, engine, docs=docs)
    from pipeline.search import open_index

    ix = open_index(cfg, engine)
    now = relevance(ix, keys)
    Q.BOOSTS.update(title=3.0, refs=2.0)
    before = relevance(ix, keys)
    title_hit = sorted({q for q in now for d in docs if q in d.title})
    return {"now": now, "before": before, "title_hit": title_hit}


# --- SQLite FTS5 (trigram), the peer ----------------------------------------------------------------
# Each query written as one would for FTS5: MATCH for words of three or more characters (the trigram
# tokenizer matches nothing shorter), LIKE (a full scan) for two-character words, the year and the
# 文号 as plain columns; snippet() with the same 【】 marks where MATCH is used.
_M = "docs MATCH ?"


def _like(w: str) -> tuple[str, list]:
    return "(title LIKE ? OR body LIKE ?)", [f"%{w}%", f"%{w}%"]


FTS5_QUERIES: dict[str, tuple[str, list]] = {
    "珠晖": _like("珠晖"), "政府工作报告": (_M, ['"政府工作报告"']), "经济": _like("经济"), "人民": _like("人民"),
    "改革开放": (_M, ['"改革开放"']), "\"全面建成小康社会\"": (_M, ['"全面建成小康社会"']),
    "国内生产总值": (_M, ['"国内生产总值"']),
    "农业 AND 农村": ("(title LIKE ? OR body LIKE ?) AND (title LIKE ? OR body LIKE ?)", ["%农业%"] * 2 + ["%农村%"] * 2),
    "教育 OR 科技": ("(title LIKE ? OR body LIKE ? OR title LIKE ? OR body LIKE ?)", ["%教育%"] * 2 + ["%科技%"] * 2),
    "发展 -经济": ("(title LIKE ? OR body LIKE ?) AND NOT (title LIKE ? OR body LIKE ?)", ["%发展%"] * 2 + ["%经济%"] * 2),
    "标题:工作回顾": (_M, ['title : "工作回顾"']), "年度:2015": ("year = ?", [2015]), "GDP": (_M, ['"GDP"']),
    "社会主义现代化": (_M, ['"社会主义现代化"']), "脱贫攻坚": (_M, ['"脱贫攻坚"']), "住房": _like("住房"),
    "疫情防控": (_M, ['"疫情防控"']), "一带一路": (_M, ['"一带一路"']),
    "乡村振兴 NOT 城市": (_M + " AND NOT (title LIKE ? OR body LIKE ?)", ['"乡村振兴"', "%城市%", "%城市%"]),
    "珠政发〔2015〕3号": ("id = ?", ["珠政发〔2015〕3号"]),
}


def _fts_db(root: Path) -> Path:
    return root / "fts5.sqlite"


def fts_build(root: Path, n: int) -> dict:
    import sqlite3

    path = _fts_db(root)
    t0 = time.perf_counter()
    con = sqlite3.connect(path)
    con.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, year UNINDEXED, title, body, "
                "tokenize='trigram')")
    batch = []
    count = 0
    for d in section_docs(report_sections(), n):
        batch.append((d.id, d.year, d.title, d.body))
        if len(batch) >= 500:
            con.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", batch)
            con.commit()
            count += len(batch)
            batch = []
    con.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)", batch)
    con.commit()
    count += len(batch)
    con.execute("INSERT INTO docs(docs) VALUES ('optimize')")
    con.commit()
    con.close()
    return {"count": count, "seconds": time.perf_counter() - t0, "bytes": path.stat().st_size,
            "rss_mib": _peak_rss_mib()}


def fts_search(con, q: str, limit: int = 20) -> tuple[int, list]:
    where, params = FTS5_QUERIES[q]
    total = con.execute(f"SELECT count(*) FROM docs WHERE {where}", params).fetchone()[0]
    if where.startswith(_M):
        sql = (f"SELECT id, title, snippet(docs, 3, '【', '】', '…', 30) FROM docs WHERE {where} "
               f"ORDER BY bm25(docs) LIMIT {limit}")
    else:   # no MATCH, no rank and no snippet(): the start of the body, as a list would show it
        sql = f"SELECT id, title, substr(body, 1, 60) FROM docs WHERE {where} LIMIT {limit}"
    return total, con.execute(sql, params).fetchall()


def fts_queries(root: Path, repeat: int = 5) -> dict:
    import sqlite3

    con = sqlite3.connect(_fts_db(root))
    for q in QUERIES:
        fts_search(con, q)
    times, totals = [], {}
    for _ in range(repeat):
        for q in QUERIES:
            t0 = time.perf_counter()
            totals[q] = fts_search(con, q)[0]
            times.append(time.perf_counter() - t0)
    times.sort()
    return {"p50_ms": 1000 * statistics.median(times), "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))],
            "totals": totals, "rss_mib": _peak_rss_mib()}


def fts_add(root: Path) -> dict:
    import sqlite3

    con = sqlite3.connect(_fts_db(root))
    times = []
    for i in range(5):
        t0 = time.perf_counter()
        con.execute("INSERT INTO docs VALUES (?, ?, ?, ?)", (f"珠政发〔2099〕{i + 1}号", 2099, "关于珠晖区控违拆违工作的通知",
                                                           "为加强珠晖区控违拆违工作，现通知如下。" * 20))
        con.commit()
        times.append(time.perf_counter() - t0)
    return {"median_ms": 1000 * statistics.median(times)}


FTS_FIRST = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
rows = con.execute("SELECT id, title, snippet(docs, 3, '【', '】', '…', 30) FROM docs WHERE docs MATCH ? "
                   "ORDER BY bm25(docs) LIMIT 20", ['"社会主义"']).fetchall()
total = con.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", ['"社会主义"']).fetchone()[0]
print(total, len(rows))
"""


def _child(argv: list[str]) -> None:
    what, root, engine = argv[0], Path(argv[1]), argv[2]
    if engine == "fts5":
        fn = {"build": lambda: fts_build(root, int(argv[3])), "queries": lambda: fts_queries(root),
              "add": lambda: fts_add(root)}[what]
    else:
        fn = {"build": lambda: child_build(root, engine, int(argv[3])), "queries": lambda: child_queries(root, engine),
              "add": lambda: child_add(root, engine), "relevance": lambda: child_relevance(root, engine)}[what]
    print(json.dumps(fn(), ensure_ascii=False))


def _spawn(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.bench_search", "--child", *args], cwd=REPO,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"bench child {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the benchmark -------------------------------------------------------------------------------


def _gongwen() -> list[str]:
    script = Path(sys.executable).parent / "gongwen"
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline"]


def _wall(cmd: list[str], runs: int = 3, *, validate: bool = False) -> float:
    """Median wall seconds of ``cmd`` in a fresh process (output discarded). ``validate``: with an
    empty user cache each run, so the command validates the config instead of recalling its facts
    (pipeline.configcache) — the first search after config.yaml was edited."""
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-cache-") if validate else contextlib.nullcontext() as cache:
            env = {**os.environ, "XDG_CACHE_HOME": cache} if cache else None
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cli_first_query(root: Path, engine: str, *, validate: bool = False) -> float:
    """`gongwen search 社会主义` in a fresh process (table output), or the same query for FTS5."""
    if engine == "fts5":
        return _wall([sys.executable, "-c", FTS_FIRST, str(_fts_db(root))])
    return _wall([*_gongwen(), "--config", str(_write_config(root, engine)), "search", "社会主义"], validate=validate)


def startup(tmp: Path, runs: int = 7) -> list[list[str]]:
    """The command line's start-up beside `python -c pass`, alternating so drift hits all alike."""
    from pipeline.search import reindex

    reindex(_config(tmp, "tantivy"), "tantivy", docs=section_docs(report_sections(), 200))
    cfg = str(_write_config(tmp, "tantivy"))
    cmds = {"python -c pass": [sys.executable, "-c", "pass"],
            "gongwen --version": [*_gongwen(), "--version"],
            "gongwen --help": [*_gongwen(), "--help"],
            "gongwen search 防汛 (200 sections, tantivy)": [*_gongwen(), "--config", cfg, "search", "防汛"]}
    validated = "gongwen search 防汛, config validated (first search after an edit)"
    cmds[validated] = cmds["gongwen search 防汛 (200 sections, tantivy)"]
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(runs):
        for k, cmd in cmds.items():
            times[k].append(_wall(cmd, runs=1, validate=k == validated))
    base = statistics.median(times["python -c pass"])
    return [[k, f"{1000 * statistics.median(v):.0f}", f"{statistics.median(v) / base:.1f}×"] for k, v in times.items()]


def run(args: argparse.Namespace):
    if not CORPUS.exists():
        return [("search: skipped", ["reason"], [[f"corpus not found: {CORPUS}"]])]
    sizes = [2_000] if getattr(args, "quick", False) else [20_000, 100_000]
    engines = (*ENGINES, "fts5")
    rows = []
    detail = []
    for n in sizes:
        # Whoosh, the pure-Python alternative, is measured up to 20,000 sections: at 100,000 its build
        # alone takes over an hour on two cores, and the contract tests hold it to the same answers.
        for engine in ("tantivy", "whoosh", "fts5") if n <= WHOOSH_MAX else ("tantivy", "fts5"):
            with tempfile.TemporaryDirectory(prefix=f"bench-search-{engine}-") as tmp:
                b = _spawn("build", tmp, engine, str(n))
                q = _spawn("queries", tmp, engine)
                first = cli_first_query(Path(tmp), engine)
                validated = first if engine == "fts5" else cli_first_query(Path(tmp), engine, validate=True)
                add = _spawn("add", tmp, engine)
            name = "SQLite FTS5 trigram (peer)" if engine == "fts5" else engine
            rows.append([f"{n:,}", name, f"{b['seconds']:.1f}", f"{b['bytes'] / 2**20:.0f}",
                         f"{b['rss_mib']:.0f}", f"{q['p50_ms']:.1f}", f"{q['p95_ms']:.1f}",
                         f"{q['rss_mib']:.0f}", f"{first:.2f}", f"{validated:.2f}", f"{add['median_ms']:.0f}"])
            detail.append((n, engine, q["totals"]))
    headers = ["sections", "engine", "build s", "index MiB", "build peak RSS MiB", "query p50 ms",
               "query p95 ms", "query process peak RSS MiB", "CLI first query s (fresh process)",
               "CLI first query s, config validated", "add one doc ms"]
    tables = [("search: engines (reindex streamed, commit per 500; queries with snippets, limit 20)", headers, rows)]
    # Both engines must agree on every query's hit count (FTS5 beside them: no folding, no 文号 field).
    for n in sizes:
        per = {e: t for m, e, t in detail if m == n}
        here = [e for e in engines if e in per]
        folded = [e for e in ENGINES if e in per]
        agree = [[qq, *(per[e].get(qq, "") for e in here),
                  "yes" if len({per[e].get(qq) for e in folded}) == 1 else "NO"] for qq in QUERIES]
        tables.append((f"search: hits per query at {n:,} sections", ["query", *here, "engines agree"], agree))
    rel_rows = []
    for engine in ("tantivy", "whoosh"):
        with tempfile.TemporaryDirectory(prefix=f"bench-search-rel-{engine}-") as tmp:
            r = _spawn("relevance", tmp, engine)
        th = set(r["title_hit"])
        for label, key in (("title ×0.3, refs ×1 (now)", "now"), ("title ×3, refs ×2 (before)", "before")):
            v = r[key]
            rel_rows.append([engine, label, f"{statistics.mean(v.values()):.3f}",
                             f"{statistics.mean(v[q] for q in th):.3f}",
                             f"{statistics.mean(v[q] for q in v if q not in th):.3f}", str(len(v))])
    tables.append(("search: nDCG@10 on the graded judgements (tests/fixtures/search_relevance.json)",
                   ["engine", "weights", "all queries", "words in a chapter heading", "other queries", "queries"],
                   rel_rows))
    with tempfile.TemporaryDirectory(prefix="bench-search-startup-") as tmp:
        tables.append(("search: command-line start-up (median wall of 7, alternating)",
                       ["command", "wall ms", "vs python -c pass"], startup(Path(tmp))))
    return tables


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
    else:
        from bench.__main__ import main

        sys.exit(main(["search", *sys.argv[1:]]))
