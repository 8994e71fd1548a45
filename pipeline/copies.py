"""Numbered copies of an issued document (份号, GB/T 9704 7.2.1): one sealed, signed PDF per copy.

Choice: one PDF per copy, not one PDF holding every copy. A 份号 identifies one physical copy — the
office hands copy 000007 to one recipient and records it — so each copy is a document of its own:
it is printed, sent or withdrawn alone, and its own PAdES signature covers its own 份号 (a copy cut
out of a combined PDF would no longer verify). The archive keeps the 正本, which is copy 000001.
Each further copy costs one render, one conversion, seal and signature (the layout is the 正本's:
the 份号 sits on the line the template always reserves for it).
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from . import render, stamp
from .config import Config
from .errors import SigningError
from .fsutil import atomic_copy
from .layout import copy_number
from .model import Draft, Number


def copy_path(dest: Path, number: Number, n: int) -> Path:
    return Path(dest) / f"{number.reference}.份号{copy_number(n)}.pdf"


def write_copies(draft: Draft, number: Number, config: Config, *, converter, key, first: Path,
                 dest: Path, layout: render.Layout | None = None) -> list[Path]:
    """Copies 000001 … 份数 (``draft.copies``; 1 when not given) as ``<reference>.份号NNNNNN.pdf`` in
    ``dest``. Copy 000001 is the 正本 ``first`` itself; the others are rendered with their 份号,
    converted, laid out again while the stamp step asks (from ``layout``; each copy starts from the
    layout the one before ended with — they differ only in the 份号's reserved line), sealed and
    signed. A copy already in ``dest`` is kept as it is (an outbox file is never overwritten)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    layout = layout or render.Layout()
    out = []
    config.work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".copies-", dir=config.work_dir) as tmp:
        for n in range(1, (draft.copies or 1) + 1):
            target = copy_path(dest, number, n)
            out.append(target)
            if target.exists():
                continue
            if n == 1:
                atomic_copy(first, target)
                continue
            docx, pdf = Path(tmp) / f"{n}.docx", Path(tmp) / f"{n}.pdf"
            def convert(d: Path, pdf: Path = pdf) -> None:
                converter.convert(d, pdf)

            def settle(current: render.Layout, pdf: Path = pdf, target: Path = target):
                return stamp.seal_and_sign(pdf, target, draft=draft, config=config, last_attempt=current.last,
                                           key=key)

            try:
                layout, _ = render.lay_out(    # the next copies start from the layout that worked
                    draft, number, config, docx, layout=layout, copy_no=n, convert=convert, settle=settle)
            except render.LayoutExhausted as e:
                raise SigningError(f"第{copy_number(n)}份的版面无法容纳署名和印章：{e}") from e
    return out
