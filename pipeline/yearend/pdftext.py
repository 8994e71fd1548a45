"""The checks made on a PDF's text (read by ``pdfcheck.pages_text``, the one place that reads it): the
title is there, and every attachment named in the 附件说明 has its own pages (附件 label, then its
title) after the body; and whether a PDF was cut short."""
from __future__ import annotations

import re
from pathlib import Path

_WS = re.compile(r"\s+")
# A page number line (GB/T 9704 7.5: "— 1 —"), wherever the extractor puts it.
_PAGE_NO = re.compile(r"[—\-－–]\s*\d+\s*[—\-－–]")
_ATTACH_LABEL = re.compile(r"^附件\s*([0-9０-９]*)")


def norm(text: str | None) -> str:
    """Whitespace removed: PDF text breaks lines wherever the layout did."""
    return _WS.sub("", text or "")


def attachment_pages(pages: list[str]) -> list[tuple[str, str]]:
    """(label number or "", page text) for each page after the first that starts with a 附件 label."""
    found = []
    for text in pages[1:]:
        head = norm(_PAGE_NO.sub("", text or ""))
        # The label is the first thing on an attachment's first page (GB/T 9704 7.3.7).
        m = _ATTACH_LABEL.match(head)
        if m:
            found.append((m.group(1), head))
    return found


def missing_attachments(names: list[str], pages: list[str]) -> list[str]:
    """Names from the 附件说明 with no attachment page carrying them (numbered ones matched by number
    when the label has one)."""
    starts = attachment_pages(pages)
    missing = []
    for i, name in enumerate(names, 1):
        n = norm(name)
        numbered = [(num, t) for num, t in starts
                    if num and int(num.translate(str.maketrans("０１２３４５６７８９", "0123456789"))) == i]
        pool = numbered if numbered else starts
        if not any(n and n in t for _, t in pool):
            missing.append(name)
    return missing


def truncated(path: Path) -> bool:
    """Whether a PDF does not end with its end-of-file marker (ISO 32000-1 7.5.5: the last line is
    %%EOF). A file cut short loses the incremental updates appended last — the signatures and the 归档章
    — and what is left may even be a whole earlier revision with some bytes of the next after it; then
    no signature is found, which is not the same as none being there."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        f.seek(max(0, f.tell() - 64))
        return not f.read().rstrip(b"\r\n\t \x00").endswith(b"%%EOF")
