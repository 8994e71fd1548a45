"""Conversion to PDF/A-2b per document: the persistent converter (unoserver) against a cold
`soffice --convert-to` per file, and the batched soffice fallback; 50 two-page 公文-like documents
(args.quick: 10)."""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def _config(base: Path, **converter):
    from pipeline.config import Config

    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw.setdefault("paths", {})["fonts"] = str(REPO / "fonts")
    raw["converter"] = {"timeout_s": 120, **converter}
    return Config.model_validate({**raw, "base": base})


def _docx(path: Path, i: int, pages: int = 2) -> Path:
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    for page in range(pages):
        for k in range(5):
            run = doc.add_paragraph().add_run(
                f"第{i}号文件第{page + 1}页第{k + 1}段：为切实做好2024年度安全生产工作，现将有关事项通知如下，"
                "请各单位结合实际认真贯彻落实，确保各项措施落到实处。")
            run.font.size = Pt(16)
            run.font.name = "Times New Roman"
            run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋_GB2312")
        if page < pages - 1:
            doc.add_page_break()
    doc.save(str(path))
    return path


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0]
    pos = q * (len(xs) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _row(name: str, startup: float | None, times: list[float], total: float, rss: str = "") -> list:
    ms = [t * 1000 for t in times]
    return [name, f"{startup:.1f}" if startup is not None else "—", f"{_pct(ms, .5):.0f}", f"{_pct(ms, .95):.0f}",
            f"{statistics.fmean(ms):.0f}", f"{total:.1f}", rss]


def run(args) -> list[tuple[str, list[str], list[list]]]:
    import psutil

    from pipeline.convert import Converter, convert_once
    from pipeline.pdfcheck import inspect_pdf

    n = 10 if getattr(args, "quick", False) else 50
    rows = []
    with tempfile.TemporaryDirectory(prefix="gongwen-bench-convert-") as work:
        work = Path(work)
        docs = [_docx(work / f"doc{i:03d}.docx", i) for i in range(n)]

        # Persistent converter: start-up once, then one document at a time.
        cfg = _config(work / "inst")
        with Converter(cfg, workdir=work / "lo") as conv:
            t0 = time.perf_counter()
            conv.start()
            startup = time.perf_counter() - t0
            times = []
            t_all = time.perf_counter()
            for i, d in enumerate(docs):
                t = time.perf_counter()
                conv.convert(d, work / "uno" / f"{i:03d}.pdf")
                times.append(time.perf_counter() - t)
            total = time.perf_counter() - t_all
            rss = psutil.Process(conv.pid).memory_info().rss / 2**20 if conv.pid else 0
        rows.append(_row("常驻 unoserver (Converter)", startup, times, total, f"{rss:.0f}"))

        # Cold: a fresh soffice (and a fresh profile) per file, as convert_once does.
        times = []
        t_all = time.perf_counter()
        for i, d in enumerate(docs):
            t = time.perf_counter()
            convert_once(d, work / "once" / f"{i:03d}.pdf", cfg)
            times.append(time.perf_counter() - t)
        total = time.perf_counter() - t_all
        rows.append(_row("冷启动 soffice 每份 (convert_once)", None, times, total))

        # Fallback: batched soffice --convert-to (20 per process); per document = batch time / size.
        with Converter(_config(work / "inst2", mode="soffice"), workdir=work / "lo2") as conv:
            t_all = time.perf_counter()
            res = conv.convert_many([(d, work / "batch" / f"{i:03d}.pdf") for i, d in enumerate(docs)])
            total = time.perf_counter() - t_all
        assert all(isinstance(r, Path) for r in res), res
        rows.append(["soffice 批量 (回退方式，均摊)", "—", "—", "—", f"{total / n * 1000:.0f}", f"{total:.1f}", ""])

        check = inspect_pdf(work / "uno" / "000.pdf")
        assert check.pdfa == "2B" and check.all_fonts_embedded, check
        pages = check.pages
    headers = ["方式", "启动 s", "p50 ms", "p95 ms", "均值 ms", "合计 s", "soffice.bin RSS MB"]
    return [(f"LibreOffice → PDF/A-2b，每份文档（{n} 份，每份 {pages} 页）", headers, rows)]
