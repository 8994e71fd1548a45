"""收文: OCR quality and speed, and the latency of receiving a document.

1. OCR quality: 10 pages of the 2015 政府工作报告 (../shared corpus) rendered as a 公文 by gongwen's
   template and LibreOffice, rasterised at 150/200/300 dpi (poppler), read back by gongwen's OCR
   (OCRmyPDF + Tesseract chi_sim, red channel, rotate/deskew as configured). Character accuracy =
   1 − Levenshtein(reference, OCR) / len(reference) per page, both sides NFKC with whitespace removed;
   the reference is the page's own text layer. Time per page = the OCR run / pages (2 jobs, 2 cores).
2. Receive latency (p50): `incoming.receive` of a 5-page text PDF (LibreOffice PDF/A, sealed) and of
   the same 5 pages scanned at 200 dpi, each run a file with other bytes (so each is registered, filed
   with its 处理笺 and indexed), in a fresh instance with one persistent LibreOffice.
args.quick: 3 pages, 200 dpi only, fewer runs."""
from __future__ import annotations

import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "data" / "corpus" / "government_work_reports.jsonl"
sys.path.insert(0, str(REPO))


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _pdf_pages_text(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True).stdout
    return out.split("\f")


def _report_draft(pages_wanted: int):
    """The 2015 report as a 公文 body long enough for ``pages_wanted`` full pages."""
    from pipeline.model import Block, Draft

    report = next(json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()
                  if json.loads(line)["year"] in (2015, "2015"))
    paras = [p.strip().replace("\u200d", "") for p in report["content"].split("\n") if p.strip()]
    # about 500 characters make a page of 公文 body (22 lines × 28 characters, less the headings)
    body, n = [], 0
    for p in paras[1:]:
        body.append(Block("paragraph", p))
        n += len(p)
        if n > 560 * (pages_wanted + 1):
            break
    return Draft(source="report.yaml", source_format="yaml", kind="通知", series="珠政发",
                 title="珠晖区人民政府关于学习贯彻2015年政府工作报告的通知", main_to="各镇人民政府，各街道办事处",
                 body=tuple(body), signature="珠晖区人民政府", date=dt.date(2015, 3, 20), date_text="2015年3月20日")


def _accuracy(ref: str, hyp: str) -> float:
    from rapidfuzz.distance import Levenshtein

    ref, hyp = _norm(ref), _norm(hyp)
    return 1 - Levenshtein.distance(ref, hyp) / max(len(ref), 1)


def _ocr_table(cfg, work: Path, pages: int, dpis: tuple[int, ...]):
    from pipeline.convert import Converter
    from pipeline.incoming.ocr import ocr_pdf
    from pipeline.incoming.reading import clean_page
    from pipeline.model import Number
    from pipeline.render import render_document
    from samples.incoming_docs import rasterise

    docx = render_document(_report_draft(pages), Number("珠政发", 2015, 9, "珠政发〔2015〕9号", "珠政发〔2015〕9号"),
                           cfg, work / "report.docx")
    pdf = work / "report.pdf"
    with Converter(cfg) as conv:
        conv.convert(docx, pdf)
    refs = _pdf_pages_text(pdf)[:pages]
    rows, rate = [], None
    for dpi in dpis:
        scan = rasterise(pdf, work / f"scan{dpi}.pdf", dpi=dpi, first=1, last=pages)
        out = work / f"ocr{dpi}.pdf"
        t0 = time.perf_counter()
        ocr_pdf(scan, out, cfg, pages=pages)
        secs = time.perf_counter() - t0
        hyps = _pdf_pages_text(out)[:pages]
        acc = [_accuracy(clean_page(r), clean_page(h, ocr=True)) for r, h in zip(refs, hyps)]
        rows.append([dpi, pages, f"{statistics.fmean(acc):.3f}", f"{min(acc):.3f}", f"{statistics.median(acc):.3f}",
                     f"{secs / pages:.2f}", f"{out.stat().st_size / pages / 1024:.0f}"])
        if dpi == 200:
            rate = pages / secs * 60
    return rows, rate


def _variant(src: Path, out: Path, i: int) -> Path:
    """``src`` with other bytes (a document-information entry) and the same pages."""
    import pikepdf

    with pikepdf.open(src) as doc:
        doc.docinfo["/Subject"] = f"bench run {i}"
        doc.save(out)
    return out


def _latency(base: Path, runs_text: int, runs_scan: int):
    from pipeline.config import load
    from pipeline.incoming import receive
    from pipeline.instance import init_instance
    from pipeline.process import open_services
    from samples import incoming_docs as D

    up = D.upstream_config(base / "upstream")
    body = tuple(D.NOTICE_BODY) * 5        # five pages of the 上级 通知's text
    draft, number = D.notice(body=body)
    _, pdf = D.render_pdf(draft, number, up, base / "docs", "五页通知", seal=True)
    from pipeline.pdfcheck import inspect_pdf

    pages = inspect_pdf(pdf).pages
    scan = D.rasterise(pdf, base / "docs" / "五页扫描.pdf", dpi=200)
    root = base / "office"
    init_instance(root, None)
    cfg = load(root / "config.yaml")
    results = {}
    with open_services(cfg, "bench") as svc:
        receive(_variant(pdf, base / "warm.pdf", -1), svc, allow_duplicate=True)   # LibreOffice and the index warm
        for name, src, runs in (("文本层 PDF", pdf, runs_text), ("扫描件 PDF（200 dpi）", scan, runs_scan)):
            times = []
            for i in range(runs):
                f = _variant(src, base / f"run-{len(times)}-{name[:2]}.pdf", i)
                t0 = time.perf_counter()
                r = receive(f, svc, allow_duplicate=True)
                times.append(time.perf_counter() - t0)
                assert r.status == "registered", r.problems
            results[name] = times
    rows = [[name, pages, len(ts), f"{statistics.median(ts):.1f}", f"{min(ts):.1f}", f"{max(ts):.1f}"]
            for name, ts in results.items()]
    return rows


def run(args):
    from pipeline.config import load
    from pipeline.instance import init_instance

    if not CORPUS.is_file():
        print(f"skipped: the corpus {CORPUS} is not there (clone ../shared beside the repository)")
        return []
    import os

    load_start = os.getloadavg()[0]
    quick = getattr(args, "quick", False)
    pages = 3 if quick else 10
    dpis = (200,) if quick else (150, 200, 300)
    with tempfile.TemporaryDirectory(prefix="bench-incoming-") as td:
        base = Path(td)
        init_instance(base / "ocr-instance", None)
        cfg = load(base / "ocr-instance" / "config.yaml")
        rows, rate = _ocr_table(cfg, base, pages, dpis)
        yield ("OCR of a rendered 政府工作报告: character accuracy per page and time (OCRmyPDF 17 + Tesseract 5.3 "
               "chi_sim, red channel, rotate/deskew, 2 jobs)",
               ["dpi", "pages", "accuracy mean", "min", "median", "s/page", "KB/page (PDF/A)"], rows)
        if rate is not None:
            yield ("OCR throughput on this machine (200 dpi, 2 cores)", ["pages per minute"], [[f"{rate:.1f}"]])
        yield ("Receiving a document: `incoming.receive` end to end (read, register, 处理笺 through LibreOffice, "
               "file, index), seconds",
               ["input", "pages", "runs", "p50", "min", "max"],
               _latency(base, 2 if quick else 5, 1 if quick else 3))
    # The machine is shared: OCR time grows with whatever else runs (2 cores).
    yield ("Machine load during the run (1-minute load average)", ["at start", "at end", "cores"],
           [[f"{load_start:.1f}", f"{os.getloadavg()[0]:.1f}", os.cpu_count()]])
