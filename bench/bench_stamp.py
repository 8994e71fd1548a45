"""Stamping cost per document: seal placement + overlay, PAdES signing, verification (p50/p95 over
20 LibreOffice-converted documents of 1–4 pages, some with attachments; --quick: 5)."""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def _row(name: str, seconds: list[float]) -> tuple:
    ms = [s * 1000 for s in seconds]
    return (name, len(ms), f"{_pct(ms, 50):.0f}", f"{_pct(ms, 95):.0f}", f"{max(ms):.0f}")


def _documents(root: Path, n: int):
    """(name, kwargs) for n documents: bodies from 2 to ~70 lines, every third with attachments."""
    from samples.seal_docs import ATTACH

    docs = []
    for i in range(n):
        body = [f"第{j + 1}项：按照区政府统一部署，认真做好第{i + 1}批文件的用印和归档工作，确保按时完成。"
                for j in range(2 + (i * 7) % 36)]
        kw = dict(body=body, signature="珠晖区人民政府", date=f"2015年{i % 12 + 1}月{i % 28 + 1}日")
        if i % 3 == 2:
            kw.update(attach_note=ATTACH["attach_note"], attachments=ATTACH["attachments"],
                      signature=ATTACH["signature"])
        docs.append((f"doc{i:02d}", kw))
    return docs


def run(args) -> list[tuple[str, list[str], list[tuple]]]:
    # The documents are built like the seal tests build theirs (python-docx in GB/T 9704 geometry)
    # and converted by the project's converter, so the bench measures stamping on real output.
    from pipeline import stamp
    from pipeline.convert import Converter
    from pipeline.model import Draft
    from pipeline.seal import NeedsRelayout, apply_seal, place_seal, seal_image
    from samples.instance import instance_config
    from samples.seal_docs import build_docx

    n = 5 if args.quick else 20
    with tempfile.TemporaryDirectory(prefix="bench-stamp-") as tmp:
        root = Path(tmp)
        config = instance_config(root)
        t = time.perf_counter()
        stamp.init_demo_pki(config)
        pki_s = time.perf_counter() - t
        t = time.perf_counter()
        seal_image("珠晖区人民政府", config.seal.diameter_mm, root / "seal.png")
        seal_s = time.perf_counter() - t

        place, overlay, sign, verify, whole, relayouts, pages = [], [], [], [], [], 0, []
        opens = []
        for _ in range(3):
            t = time.perf_counter()
            key = stamp.load_office_key(config)       # what a batch does once
            opens.append(time.perf_counter() - t)
        with Converter(config, workdir=root / "lo") as conv:
            for name, kw in _documents(root, n):
                for tighten in range(4):
                    pdf = conv.convert(build_docx(root / f"{name}-{tighten}.docx", **kw, tighten=tighten),
                                       root / f"{name}-{tighten}.pdf")
                    t = time.perf_counter()
                    try:
                        pl = place_seal(pdf, signature=kw["signature"], date_text=kw["date"],
                                        diameter_mm=config.seal.diameter_mm)
                    except NeedsRelayout:
                        relayouts += 1
                        continue
                    place.append(time.perf_counter() - t)
                    break
                else:
                    raise RuntimeError(f"{name}: no layout fits")
                png = stamp.seal_for(kw["signature"], config)
                t = time.perf_counter()
                sealed = apply_seal(pdf, root / f"{name}-sealed.pdf", png, pl)
                overlay.append(time.perf_counter() - t)
                t = time.perf_counter()
                signed = stamp.sign_pdf(sealed, root / f"{name}-signed.pdf", config, placement=pl, key=key)
                sign.append(time.perf_counter() - t)
                t = time.perf_counter()
                [v] = stamp.verify_pdf(signed, config)
                verify.append(time.perf_counter() - t)
                if not v.ok:
                    raise RuntimeError(f"{name}: {v.detail}")
                from pypdf import PdfReader

                pages.append(len(PdfReader(signed).pages))
                # The whole step with the batch's key (places, overlays, signs).
                series = "珠政发" if kw["signature"] == "珠晖区人民政府" else "珠政办发"
                d = Draft(source=name, source_format="yaml", series=series, signature=kw["signature"],
                          date_text=kw["date"])
                t = time.perf_counter()
                stamp.seal_and_sign(pdf, root / f"{name}-正本.pdf", draft=d, config=config, key=key)
                whole.append(time.perf_counter() - t)
        both = [a + b for a, b in zip(place, overlay)]
        rows = [_row("place_seal (text positions → placement)", place),
                _row("apply_seal (pikepdf overlay, PDF/A kept)", overlay),
                _row("placement + overlay", both),
                _row("sign_pdf (PAdES, RSA-3072, incremental, key open)", sign),
                _row("verify_pdf (demo CA, no network)", verify),
                _row("seal_and_sign (the whole step, key opened once)", whole)]
        once = [("demo PKI (two RSA-3072 keys)", f"{pki_s * 1000:.0f}"),
                ("opening the PKCS#12 (load_office_key), median of 3", f"{statistics.median(opens) * 1000:.0f}"),
                ("seal image, generated once per issuer (300 dpi)", f"{seal_s * 1000:.0f}"),
                ("documents / pages", f"{n} / {sum(pages)} (1–{max(pages)} pages each)"),
                ("re-renders needed (NeedsRelayout)", str(relayouts))]
        return [(f"Stamping per document (ms), {n} documents", ["step", "n", "p50", "p95", "max"], rows),
                ("One-off costs", ["what", "value"], once)]
