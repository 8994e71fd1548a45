"""Search benchmark: both engines side by side on sections of real 政府工作报告 text.

For each size (20,000 and 100,000 sections; 2,000 with --quick) and each engine, a child process
builds the index with `rebuild` (streamed, one commit per 500 documents) and reports build time,
index size and its own peak RSS; then fresh processes measure the first query, p50/p95 latency over
20 fixed queries (each run 5 times after a warm-up) and adding one document. Sections beyond the
corpus's ~6,000 are re-used with distinct 文号 (ids) and dates.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "data" / "corpus" / "government_work_reports.jsonl"
ENGINES = ("whoosh", "tantivy")
QUERIES = [
    "珠晖", "政府工作报告", "经济", "人民", "改革开放", "\"全面建成小康社会\"", "国内生产总值",
    "农业 AND 农村", "教育 OR 科技", "发展 -经济", "标题:工作回顾", "年度:2015", "GDP",
    "社会主义现代化", "脱贫攻坚", "住房", "疫情防控", "一带一路", "乡村振兴 NOT 城市", "珠政发〔2015〕3号",
]
SERIES = (("珠政发", ("通知", "意见", "决定", "报告")), ("珠政办发", ("通知", "通报", "意见")),
          ("珠政函", ("函", "批复")))
_HEADING = re.compile(r"^[一二三四五六七八九十]+、")


@dataclass(frozen=True)
class Section:
    report: str        # the report's title
    heading: str       # the 一、 heading it sits under ("" before the first)
    text: str          # one paragraph
    year: int


def _year_of(rec: dict, previous: int) -> int:
    for s in (str(rec.get("year") or ""), rec.get("title", ""), rec.get("content", "")[:400]):
        m = re.search(r"(19[5-9]\d|20[0-4]\d)", s)
        if m:
            return int(m.group(1))
    return previous


def report_sections(path: Path = CORPUS, min_chars: int = 20) -> list[Section]:
    """The corpus split into paragraphs (blank-line separated), each remembering its report and
    the 一、 heading above it; headings themselves and very short lines are not sections."""
    out: list[Section] = []
    year = 1954
    with open(path, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            year = _year_of(rec, year)
            heading = ""
            for para in re.split(r"\n\s*\n", rec["content"]):
                para = para.strip()
                if not para:
                    continue
                if _HEADING.match(para) and len(para) < 60:
                    heading = para
                    continue
                if len(para) >= min_chars:
                    out.append(Section(rec["title"], heading, para, year))
    return out


def section_docs(sections: list[Section], n: int | None = None, *, start_seq: int = 0):
    """IndexDocs for ``n`` sections (cycling through the list with distinct ids): a made-up 文号 per
    section in a series chosen round-robin, its 文种 from that series, a date in the report's year."""
    from pipeline.search import IndexDoc

    n = len(sections) if n is None else n
    seqs: dict[tuple[str, int], int] = {}
    for i in range(n):
        s = sections[i % len(sections)]
        series, kinds = SERIES[i % len(SERIES)]
        key = (series, s.year)
        seqs[key] = seqs.get(key, start_seq) + 1
        seq = seqs[key]
        ref = f"{series}〔{s.year}〕{seq}号"
        title = f"{s.report} {s.heading}".strip()
        yield IndexDoc(id=ref, number=ref, archive_code=None, title=title, body=s.text, year=s.year,
                       series=series, kind=kinds[i % len(kinds)],
                       date=dt.date(s.year, 1, 1) + dt.timedelta(days=seq % 365))


# --- relevance: nDCG@10 on graded judgements ----------------------------------------------------

JUDGEMENTS = REPO / "tests" / "fixtures" / "search_relevance.json"


def judgements() -> dict[str, dict[tuple[str, str], int]]:
    """{query: {(report title, first 24 characters of the section): grade 0–3}}."""
    data = json.loads(JUDGEMENTS.read_text(encoding="utf-8"))
    return {q: {(report, starts): grade for grade, report, starts in js} for q, js in data["queries"].items()}


def section_keys(sections: list[Section], docs) -> dict[str, tuple[str, str]]:
    """{document id: the key the judgements use} for ``section_docs(sections)``."""
    return {d.id: (s.report, s.text[:24]) for s, d in zip(sections, docs)}


def ndcg_at_10(ranked: list[tuple[str, str]], grades: dict[tuple[str, str], int]) -> float:
    """nDCG@10 with gains 2^grade − 1; sections nobody judged count as 0."""
    def dcg(gs):
        return sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(gs[:10]))

    ideal = dcg(sorted(grades.values(), reverse=True))
    return dcg([grades.get(k, 0) for k in ranked]) / ideal if ideal else 0.0


def relevance(ix, keys: dict[str, tuple[str, str]]) -> dict[str, float]:
    """nDCG@10 per judged query for an open index holding ``section_docs(report_sections())``."""
    return {q: ndcg_at_10([keys[h.id] for h in ix.search(q, limit=10, snippets=False).hits], grades)
            for q, grades in judgements().items()}


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


def child_first(root: Path, engine: str) -> dict:
    t0 = time.perf_counter()
    from pipeline.search import open_index

    cfg = _config(root, engine)
    ix = open_index(cfg, engine)
    res = ix.search(QUERIES[0])
    return {"seconds": time.perf_counter() - t0, "total": res.total}


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


def _child(argv: list[str]) -> None:
    what, root, engine = argv[0], Path(argv[1]), argv[2]
    fn = {"build": lambda: child_build(root, engine, int(argv[3])), "first": lambda: child_first(root, engine),
          "queries": lambda: child_queries(root, engine), "add": lambda: child_add(root, engine)}[what]
    print(json.dumps(fn(), ensure_ascii=False))


def _spawn(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.bench_search", "--child", *args], cwd=REPO,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"bench child {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the benchmark -------------------------------------------------------------------------------


def run(args: argparse.Namespace):
    if not CORPUS.exists():
        return [("search: skipped", ["reason"], [[f"corpus not found: {CORPUS}"]])]
    sizes = [2_000] if getattr(args, "quick", False) else [20_000, 100_000]
    rows = []
    detail = []
    for n in sizes:
        for engine in ENGINES:
            with tempfile.TemporaryDirectory(prefix=f"bench-search-{engine}-") as tmp:
                b = _spawn("build", tmp, engine, str(n))
                first = _spawn("first", tmp, engine)
                q = _spawn("queries", tmp, engine)
                add = _spawn("add", tmp, engine)
            rows.append([f"{n:,}", engine, f"{b['seconds']:.1f}", f"{b['bytes'] / 2**20:.0f}",
                         f"{b['rss_mib']:.0f}", f"{q['p50_ms']:.1f}", f"{q['p95_ms']:.1f}",
                         f"{q['rss_mib']:.0f}", f"{first['seconds'] * 1000:.0f}", f"{add['median_ms']:.0f}"])
            detail.append((n, engine, q["totals"]))
    headers = ["sections", "engine", "build s", "index MiB", "build peak RSS MiB", "query p50 ms",
               "query p95 ms", "query process peak RSS MiB", "first query ms (fresh process)",
               "add one doc ms"]
    tables = [("search: both engines (reindex streamed, commit per 500)", headers, rows)]
    # Both engines must agree on every query's hit count: a cheap cross-check printed with the times.
    for n in sizes:
        per = {e: t for m, e, t in detail if m == n}
        agree = [[qq, *(per[e].get(qq, "") for e in ENGINES),
                  "yes" if len({per[e].get(qq) for e in ENGINES}) == 1 else "NO"] for qq in QUERIES]
        tables.append((f"search: hits per query at {n:,} sections", ["query", *ENGINES, "same"], agree))
    return tables


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
    else:
        from bench.__main__ import main

        sys.exit(main(["search", *sys.argv[1:]]))
