"""Web bench: latency of the search page and the document page of `gongwen serve`, on tantivy, with
20,000 and 100,000 sections (2,000 with --quick), measured by wrk on loopback.

For each size: the index is built from the 政府工作报告 sections (as bench_search does); 1,000 of
the documents also get an archive record folder (metadata.json with the fields a real record has,
全文.txt) — the document page finds a record by its folder name, so its cost does not grow with the
number of records, only the search index does; an account logs in once and its session cookie is
given to wrk. The server is one uvicorn worker (`gongwen serve`'s setup: uvloop, httptools, no access
log) in its own process; wrk runs 2 threads and 20 connections for 30 s (5 s with --quick) per page,
then 1 connection for 10 s (the time of one request without queueing),
each request a different query (the 20 queries of bench_search) or document. Latency is wrk's: from
request sent to response read, on loopback — the server's time plus a few microseconds. Non-2xx
answers are counted (must be 0). wrk and the server share the machine's cores.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import yaml

REPO = Path(__file__).resolve().parent.parent
RECORDS = 1_000
CONNECTIONS, THREADS = 20, 2
USER, PASSWORD = "bench", "bench-password-2015"

LUA = r"""
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%.3f %%.3f %%.3f %%d\n", summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.duration))
end
"""


def write_config(root: Path) -> Path:
    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw.setdefault("paths", {})
    raw["paths"]["templates"] = str(REPO / "templates")
    raw["paths"]["fonts"] = str(REPO / "fonts")
    raw["search"] = {"engine": "tantivy"}
    root.mkdir(parents=True, exist_ok=True)
    cfg = root / "config.yaml"
    cfg.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return cfg


def record(archive: Path, d) -> None:
    """A record folder as the archive store lays it out, with the metadata the page shows."""
    folder = archive / str(d.year) / d.series / d.id
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"格式版本": "gongwen-record/1", "文件编号": d.id, "印制文号": d.number, "机关代字": d.series,
            "年度": d.year, "题名": d.title, "责任者": d.issuer or "珠晖区人民政府", "日期": d.date.isoformat(),
            "文种": d.kind, "密级": "", "紧急程度": "", "主送": "各镇人民政府、街道办事处", "抄送": "",
            "签发人": [], "附件": [], "保管期限": "Y", "保管期限名称": "永久", "页数": 3, "份数": 20,
            "印发机关": "珠晖区人民政府办公室", "印发日期": d.date.isoformat(), "档号": None,
            "电子文件": [{"稿本": "正本", "计算机文件名": "正本.pdf", "计算机文件大小": 171176, "格式信息": "PDF/A-2b",
                          "文档创建程序": "LibreOffice", "数字摘要": [{"算法": "SHA-256", "值": "0" * 64}]},
                         {"稿本": "全文", "计算机文件名": "全文.txt", "计算机文件大小": len(d.body.encode()),
                          "格式信息": "纯文本 UTF-8", "文档创建程序": "gongwen", "数字摘要": []}],
            "业务行为": [], "归档时间": "2015-03-01T09:00:00+08:00"}
    (folder / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    (folder / "全文.txt").write_text(f"{d.title}\n{d.body}\n", encoding="utf-8")


def build(root: Path, n: int) -> tuple[Path, list[str], float]:
    from samples.corpus import report_sections, section_docs
    from pipeline import accounts
    from pipeline.config import load
    from pipeline.ledger import Ledger
    from pipeline.search import reindex

    cfg = write_config(root)
    config = load(cfg)
    sections = report_sections()
    t0 = time.perf_counter()
    reindex(config, "tantivy", docs=section_docs(sections, n))
    secs = time.perf_counter() - t0
    step = max(1, n // RECORDS)
    refs = []
    for i, d in enumerate(section_docs(sections, n)):
        if i % step == 0 and len(refs) < RECORDS:
            record(config.archive_dir, d)
            refs.append(d.id)
    with Ledger.open(config) as ledger:
        accounts.Accounts(ledger).add(USER, ["查阅"], PASSWORD, actor="bench")
    return cfg, refs, secs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(cfg: str, port: int) -> None:
    """The server process: what `gongwen serve` runs."""
    import uvicorn

    from pipeline.config import load
    from pipeline.web import create_app

    uvicorn.run(create_app(load(cfg)), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _login(base: str, user: str = USER, password: str = PASSWORD) -> str:
    import httpx2 as httpx
    import re

    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as c:
        tok = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"name": user, "password": password, "csrf_token": tok, "next": "/"})
        assert r.status_code == 303, r.text[:300]
        return c.cookies.get("gongwen_session")


def wrk(base: str, cookie: str, paths: list[str], seconds: int, workdir: Path,
        connections: int = CONNECTIONS) -> dict:
    script = workdir / "paths.lua"
    script.write_text(LUA % ", ".join(json.dumps(p) for p in paths), encoding="utf-8")
    out = subprocess.run(["wrk", f"-t{min(THREADS, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                          "-H", f"Cookie: gongwen_session={cookie}", "-s", str(script), base + "/"],
                         capture_output=True, text=True, timeout=seconds + 120)
    line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result: {out.stdout}\n{out.stderr}")
    req, status_err, sock_err, p50, p95, p99, dur_us = line.split()[1:]
    return {"requests": int(req), "non2xx": int(status_err), "socket_errors": int(sock_err), "p50": float(p50),
            "p95": float(p95), "p99": float(p99), "rps": int(req) / (int(dur_us) / 1e6)}


@contextmanager
def serving(cfg: Path):
    """`gongwen serve`'s app for ``cfg`` in its own process on a free loopback port: yields the base
    URL once it answers; stopped (and waited for) at the end."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "bench.bench_web", "--serve", str(cfg), str(port)],
                            cwd=REPO, env=env)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def load_rows(base: str, cookie: str, pages: list[tuple[str, list[str]]], seconds: int, workdir: Path,
              lead: list) -> list[list]:
    """Each page under CONNECTIONS connections for ``seconds``, then 1 connection for a third of that:
    rows of ``lead`` + [page, connections, p50, p95, p99, requests/s, requests, errors]."""
    rows = []
    for name, paths in pages:
        for conns, secs in ((CONNECTIONS, seconds), (1, max(3, seconds // 3))):
            r = wrk(base, cookie, paths, secs, workdir, connections=conns)
            rows.append([*lead, name, conns, f"{r['p50']:.1f}", f"{r['p95']:.1f}", f"{r['p99']:.1f}",
                         f"{r['rps']:.0f}", r["requests"], r["non2xx"] + r["socket_errors"]])
    return rows


def measure(n: int, seconds: int) -> list[list]:
    from bench.bench_search import QUERIES

    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        tmp = Path(tmp)
        cfg, refs, build_s = build(tmp / "inst", n)
        with serving(cfg) as base:
            cookie = _login(base)
            search = ["/?q=" + quote(q) for q in QUERIES]
            docs = ["/doc/" + quote(r, safe="") for r in refs]
            # one warm-up pass (first opens of the index and the pages' templates), not measured
            wrk(base, cookie, search + docs[:50], 3, tmp)
            rows = load_rows(base, cookie, [("search page (检索)", search), ("document page (文件)", docs)],
                             seconds, tmp, [f"{n:,}"])
    return [r + [f"{build_s:.0f}"] for r in rows]


def run(args: argparse.Namespace):
    from samples.corpus import CORPUS

    if not CORPUS.exists():
        return [("web: skipped", ["reason"], [[f"corpus not found: {CORPUS}"]])]
    if shutil.which("wrk") is None:
        return [("web: skipped", ["reason"], [["wrk is not installed (make system-deps)"]])]
    quick = getattr(args, "quick", False)
    sizes, seconds = ([2_000], 5) if quick else ([20_000, 100_000], 30)
    rows = []
    for n in sizes:
        rows += measure(n, seconds)
    headers = ["sections", "page", "connections", "p50 ms", "p95 ms", "p99 ms", "requests/s", "requests", "errors",
               "index build s"]
    return [(f"web: one uvicorn worker, tantivy, wrk on loopback ({CONNECTIONS} connections for {seconds} s; "
             "1 connection — no queueing — for a third of that)", headers, rows)]


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        ns = argparse.Namespace(quick="--quick" in sys.argv)
        for title, headers, rows in run(ns):
            print(title)
            print(headers)
            for r in rows:
                print(r)
