"""Drafts rendered per second: .docx only (docxtpl + checks + fitting), and with the PDF from
LibreOffice (the persistent converter, and one batched `soffice --convert-to`). 200 drafts built
from the State Council work reports in ../shared/data/corpus, split into sections (args.quick: 20)."""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import yaml

from samples.corpus import CORPUS, chapter_drafts

REPO = Path(__file__).resolve().parent.parent

def _config(base: Path):
    from pipeline.config import Config

    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw.setdefault("paths", {}).update(templates=str(REPO / "templates"), fonts=str(REPO / "fonts"))
    raw["converter"] = {"timeout_s": 180}
    return Config.model_validate({**raw, "base": base})


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:.1f}" if seconds > 0 else "—"


def run(args) -> list[tuple[str, list[str], list[list]]]:
    from pipeline import render
    from pipeline.convert import Converter, find_soffice, lo_env, soffice_batch

    if not CORPUS.is_file():
        return [("render", ["note"], [[f"corpus not available: {CORPUS} (clone ../shared beside the repository)"]])]
    n = 20 if getattr(args, "quick", False) else 200
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        tmp = Path(tmp)
        config = _config(tmp)
        items = chapter_drafts(n)
        chars = sum(len(b.text) for d, _ in items for b in d.body)
        times, outs = [], []
        t0 = time.perf_counter()
        for i, (d, num) in enumerate(items):
            t = time.perf_counter()
            outs.append(render.render_document(d, num, config, tmp / "docx" / f"d{i:03d}.docx"))
            times.append(time.perf_counter() - t)
        docx_total = time.perf_counter() - t0
        ms = sorted(x * 1000 for x in times)
        rows.append([".docx only (docxtpl + checks)", n, f"{docx_total:.1f}", _rate(n, docx_total),
                     f"{statistics.median(ms):.0f}", f"{ms[int(0.95 * (len(ms) - 1))]:.0f}"])

        # With the PDF: the pipeline's persistent converter (one LibreOffice, one document at a time).
        pdf_dir = tmp / "pdf"
        pdf_dir.mkdir()
        with Converter(config, tmp / "conv") as conv:
            t = time.perf_counter()
            conv.start()
            startup = time.perf_counter() - t
            t0 = time.perf_counter()
            conv_times = []
            for i, docx in enumerate(outs):
                t = time.perf_counter()
                conv.convert(docx, pdf_dir / f"u{i:03d}.pdf")
                conv_times.append(time.perf_counter() - t)
            conv_total = time.perf_counter() - t0
            mode = conv.mode
        both = docx_total + conv_total
        cms = sorted(x * 1000 for x in conv_times)
        rows.append([f"+ PDF, persistent converter ({mode}; start {startup:.1f} s not counted)", n,
                     f"{both:.1f}", _rate(n, both),
                     f"{statistics.median(ms) + statistics.median(cms):.0f}",
                     f"{ms[int(0.95 * (len(ms) - 1))] + cms[int(0.95 * (len(cms) - 1))]:.0f}"])

        # With the PDF: one batched soffice --convert-to over every document (cold start included).
        exe = find_soffice()
        if exe is not None:
            home, ltmp, out = tmp / "home", tmp / "lotmp", tmp / "batch"
            for p in (home, ltmp, out):
                p.mkdir()
            t0 = time.perf_counter()
            soffice_batch(exe, outs, out, tmp / "profile", lo_env(config, home, ltmp), 1800)
            batch = time.perf_counter() - t0
            made = len(list(out.glob("*.pdf")))
            rows.append([f"+ PDF, one soffice batch ({made} PDFs)", n, f"{docx_total + batch:.1f}",
                         _rate(n, docx_total + batch), "—", "—"])
    title = f"render: {n} drafts from the work reports ({chars // n} body characters each on average)"
    return [(title, ["path", "drafts", "seconds", "drafts/s", "median ms", "p95 ms"], rows)]
