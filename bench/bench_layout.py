"""Laying documents out as the pipeline does — render, convert, let the stamp step judge the signature
block (GB/T 9704 7.3.5.5), render again when it asks — for 200 drafts built from the work reports
(bench_render.drafts; args.quick: 20), batched: one LibreOffice run per round. How many layouts the
documents needed and what the later ones did, and the time in all."""
from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path


def run(args) -> list[tuple[str, list[str], list[list]]]:
    from bench.bench_render import _config
    from pipeline.convert import find_soffice
    from samples.corpus import CORPUS, chapter_drafts
    from samples.render_drafts import lay_out

    if not CORPUS.is_file() or find_soffice() is None:
        return [("layout", ["note"], [["corpus or LibreOffice not available"]])]
    n = 20 if getattr(args, "quick", False) else 200
    with tempfile.TemporaryDirectory(prefix="bench-layout-") as tmp:
        tmp = Path(tmp)
        config = _config(tmp)
        docs = {f"d{i:03d}": item for i, item in enumerate(chapter_drafts(n))}
        layouts: dict = {}
        rounds: dict = {}
        t0 = time.perf_counter()
        lay_out(docs, config, tmp, layouts=layouts, rounds=rounds)
        seconds = time.perf_counter() - t0
    tries = Counter(rounds.values())
    carried = sum(1 for layout in layouts.values() if layout.carry)
    tighter = sum(1 for layout in layouts.values() if layout.pitch)
    rows = [[f"done after {k} layout{'s' if k > 1 else ''} (renders and conversions)", tries.get(k, 0)]
            for k in range(1, max(tries) + 1)]
    rows += [["… of them with a tighter pitch on the block's page", tighter],
             ["… of them with the body's last line(s) carried to the block", carried],
             ["seconds in all (render + LibreOffice, batched rounds)", f"{seconds:.0f}"],
             ["documents per second", f"{n / seconds:.2f}"]]
    return [(f"layout: {n} drafts from the work reports, laid out as the pipeline does", ["what", "documents"], rows)]
