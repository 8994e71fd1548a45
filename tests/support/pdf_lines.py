"""An independent reading of a rendered 公文 PDF, line by line, for the GB/T 9704 checks that hold on
every page: every line inside the 版心 with at most 28 characters, no line starting with a closing
mark or ending with an opening one (避头尾), and every page the text flows on from full (22 lines,
less at most two for widow/orphan control).

It reads pdfplumber's character boxes directly (not pipeline.pdfcheck, which the pipeline uses), so
that the pipeline's own reading cannot hide its own mistakes.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import pdfplumber

from pipeline import layout as L

MM = 25.4 / 72
TOP, BOTTOM = L.MARGIN_TOP_MM, L.MARGIN_TOP_MM + L.TYPE_AREA_HEIGHT_MM          # 37, 262
LEFT, RIGHT = L.MARGIN_LEFT_MM, L.MARGIN_LEFT_MM + L.TYPE_AREA_WIDTH_MM         # 28, 184
EDGE_TOLERANCE_MM = 0.2

# 避头尾 (GB/T 15834 and the practice GB/T 9704 follows): these never start a line …
NO_LINE_START = "。，、；：？！）》」』”’〕】〗"
# … and these never end one.
NO_LINE_END = "（《「『“‘〔【〖"


@dataclass
class Line:
    page: int            # 1-based
    top: float           # mm from the paper's top
    bottom: float
    x0: float            # mm from the paper's left
    x1: float
    chars: list = field(repr=False)

    @property
    def text(self) -> str:
        return "".join(c["text"] for c in self.chars if c["text"].strip())

    @property
    def size(self) -> float:
        return max(c["size"] for c in self.chars)

    def wide(self) -> int:
        """Full-width characters (汉字 and Chinese punctuation) on the line."""
        return sum(1 for c in self.text if ord(c) >= 0x2E80 or c in "“”‘’—…")


def _rows(chars: list) -> list[list]:
    """Characters grouped into lines by the vertical overlap of their boxes (a 汉字 and a Times New
    Roman digit of one line have different heights), left to right."""
    rows: list[list] = []
    for c in sorted(chars, key=lambda c: (c["top"] + c["bottom"]) / 2):
        mid = (c["top"] + c["bottom"]) / 2
        if rows and rows[-1][0] <= mid <= rows[-1][1]:
            rows[-1][2].append(c)
            rows[-1][0] = min(rows[-1][0], c["top"])
            rows[-1][1] = max(rows[-1][1], c["bottom"])
        else:
            rows.append([c["top"], c["bottom"], [c]])
    return [sorted(r[2], key=lambda c: c["x0"]) for r in rows]


def read_lines(path) -> list[list[Line]]:
    """Every page's text lines (upright characters, blanks dropped), top to bottom."""
    pages = []
    with pdfplumber.open(str(path)) as pdf:
        for n, page in enumerate(pdf.pages, 1):
            chars = [c for c in page.chars if c.get("upright", True) and c["text"].strip()]
            lines = []
            for row in _rows(chars):
                lines.append(Line(n, min(c["top"] for c in row) * MM, max(c["bottom"] for c in row) * MM,
                                  row[0]["x0"] * MM, row[-1]["x1"] * MM, row))
            pages.append(lines)
    return pages


def in_type_area(lines: list[Line]) -> list[Line]:
    """The lines inside the 版心 vertically: not the page number below it, not the 信函's 标志 above."""
    return [ln for ln in lines if ln.top >= TOP - 1 and ln.bottom <= BOTTOM + 1]


def line_problems(pages: list[list[Line]]) -> list[str]:
    """Every line of every page: inside the 版心 left and right, at most 28 full-width characters,
    no closing mark at its start and no opening mark at its end."""
    out = []
    for lines in pages:
        for ln in in_type_area(lines):
            where = f"p{ln.page} 「{ln.text}」"
            if ln.x0 < LEFT - EDGE_TOLERANCE_MM or ln.x1 > RIGHT + EDGE_TOLERANCE_MM:
                out.append(f"{where}: outside the 版心 ({ln.x0:.1f}–{ln.x1:.1f} mm)")
            if ln.wide() > L.CHARS_PER_LINE:
                out.append(f"{where}: {ln.wide()} characters")
            if ln.text and ln.text[0] in NO_LINE_START:
                out.append(f"{where}: starts with {ln.text[0]}")
            if ln.text and ln.text[-1] in NO_LINE_END:
                out.append(f"{where}: ends with {ln.text[-1]}")
    return out


_ATTACHMENT_LABEL = re.compile(r"^附件\d*$")


def _starts_attachment(lines: list[Line]) -> bool:
    body = in_type_area(lines)
    return bool(body) and body[0].top < TOP + L.LINE_PITCH_MM and bool(_ATTACHMENT_LABEL.match(body[0].text))


def flow_pages(pages: list[list[Line]], ends: tuple[str, ...]) -> list[int]:
    """The pages (1-based) the text flows on from: not the last page, not the page before an
    attachment starts, not a page holding a line that ends the main text (the 成文日期, a 纪要's
    出席 …, given in ``ends``)."""
    out = []
    for i, lines in enumerate(pages[:-1]):
        texts = [ln.text for ln in lines]
        if _starts_attachment(pages[i + 1]) or any(t in texts or any(x.startswith(t) for x in texts)
                                                   for t in ends):
            continue
        out.append(i + 1)
    return out


def empty_lines_at_foot(lines: list[Line]) -> int:
    """Whole lines (at the standard pitch) left empty between a page's last line and the 版心 bottom."""
    body = in_type_area(lines)
    if not body:
        return L.LINES_PER_PAGE
    room = BOTTOM - (body[-1].bottom + L.GLYPH_BOTTOM_BODY_MM)
    return math.floor(room / L.LINE_PITCH_MM + 0.05)


def fill_problems(pages: list[list[Line]], ends: tuple[str, ...], slack: int = 2) -> list[str]:
    """Each page the text flows on from is full: at most ``slack`` whole lines empty at its foot,
    and (after page 1, which holds the 版头) 22 ± ``slack`` lines of 3号 text."""
    out = []
    for n in flow_pages(pages, ends):
        body = in_type_area(pages[n - 1])
        if not body:
            out.append(f"p{n}: empty")
            continue
        empty = empty_lines_at_foot(pages[n - 1])
        if empty > slack:
            out.append(f"p{n}: {empty} empty lines at the foot (last line 「{body[-1].text}」)")
        if n > 1 and all(abs(ln.size - L.SIZE_3) < 0.5 for ln in body):
            if abs(len(body) - L.LINES_PER_PAGE) > slack:
                out.append(f"p{n}: {len(body)} lines")
    return out
