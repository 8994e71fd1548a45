"""The 归档章 (DA/T 22-2015 5.4 and 附录A, standards.md §3.8) on page 1 of a 件's 正本 PDF.

45 × 16 mm, six equal cells: 全宗号 | 年度 | 件号 over 机构 | 保管期限 | 页数; red frame, values in black,
centred in the blank space at the top of the first page.

How it goes on without breaking the office's signature: the stamp is the visible appearance of a
second PAdES signature (``sign.sign_pdf``, reason "归档章 <档号>") added as an incremental update. The
bytes the office signed stay as they were; pyHanko's modification analysis classes a new signature
field with its appearance as FORM_FILLING, which an approval signature permits, and the PDF/A-2b claim
(XMP, OutputIntent) is untouched. The alternative — drawing into the page content or adding a plain
stamp annotation — is judged a suspicious modification (ModificationLevel.OTHER) and fails the
office's signature. The stamp is an image (Pillow, 600 dpi) so it needs no font in the PDF, which
PDF/A would require to be embedded.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .. import layout
from ..config import Config
from ..errors import ArchiveError

STAMP_W_MM = 45.0
STAMP_H_MM = 16.0
COLS, ROWS = 3, 2
DPI = 600
FRAME_MM = 0.35               # red frame line width
CLEARANCE_MM = 2.0            # blank space kept between the stamp and any text or drawing
EDGE_MM = 5.0                 # never closer than this to the paper's edge (printers' margin)
REASON_PREFIX = "归档章"


STAMP_RED = layout.RED


def is_archive_stamp(v) -> bool:
    """Whether a sign.Verification is the 归档章's signature (its reason names the 档号)."""
    return v.reason.startswith(REASON_PREFIX)


def stamped_code(sigs) -> str | None:
    """The 档号 named by the last 归档章 signature among ``sigs`` (sign.Verification), None if none."""
    stamps = [s for s in sigs if is_archive_stamp(s)]
    return stamps[-1].reason[len(REASON_PREFIX):].strip() if stamps else None


def _px(mm: float) -> int:
    return round(mm / 25.4 * DPI)


@dataclass(frozen=True)
class StampValues:
    """The six cells. 机构 may be empty (optional field, left blank when unused)."""

    fonds: str          # 全宗号
    year: str           # 年度, 4 digits
    item: str           # 件号, as in the 档号 (0001)
    unit: str           # 机构（问题）
    retention: str      # 保管期限: 永久 / 30年 / 10年
    pages: str          # 页数

    def cells(self) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
        return (self.fonds, self.year, self.item), (self.unit, self.retention, self.pages)

    def to_json(self) -> dict:
        return {"全宗号": self.fonds, "年度": self.year, "件号": self.item, "机构": self.unit,
                "保管期限": self.retention, "页数": self.pages}


@lru_cache(maxsize=4)
def _font(size_px: int, fontconfig: str | None):
    from PIL import ImageFont

    from ..seal import find_seal_font

    path, index = find_seal_font(Path(fontconfig) if fontconfig else None)
    return ImageFont.truetype(str(path), size_px, index=index)


def stamp_image(values: StampValues, *, fontconfig: Path | None = None):
    """Draw the 归档章 as an RGBA Pillow image (transparent outside the lines and glyphs)."""
    from PIL import Image, ImageDraw

    w, h = _px(STAMP_W_MM), _px(STAMP_H_MM)
    img = Image.new("RGBA", (w, h), (255, 255, 255, 0))
    d = ImageDraw.Draw(img)
    red = tuple(int(STAMP_RED[i:i + 2], 16) for i in (0, 2, 4)) + (255,)
    lw = max(1, _px(FRAME_MM))
    cw, ch = w / COLS, h / ROWS
    for r, row in enumerate(values.cells()):
        for c, text in enumerate(row):
            if not text:
                continue
            # Largest size up to 4 mm glyph height that fits the cell with 1.2 mm padding.
            size = _px(4.0)
            while size > _px(1.5):
                font = _font(size, str(fontconfig) if fontconfig else None)
                x0, y0, x1, y1 = d.textbbox((0, 0), text, font=font)
                if x1 - x0 <= cw - 2 * _px(1.2) and y1 - y0 <= ch - 2 * _px(1.2):
                    break
                size -= _px(0.25)
            cx, cy = (c + 0.5) * cw, (r + 0.5) * ch
            d.text((cx, cy), text, font=font, fill=(0, 0, 0, 255), anchor="mm")
    # The frame's outer edge is the stamp's edge: 45 × 16 mm exactly.
    d.rectangle([0, 0, w - 1, h - 1], outline=red, width=lw)
    d.line([(0, h / 2), (w, h / 2)], fill=red, width=lw)
    for i in (1, 2):
        d.line([(w * i / 3, 0), (w * i / 3, h)], fill=red, width=lw)
    return img


# --- where it goes ------------------------------------------------------------------------------

@dataclass(frozen=True)
class StampPlacement:
    """Where the stamp goes, in PDF user space (points, origin bottom-left, y up), page counted
    from 0; duck-types seal.SealPlacement (``page``, ``rect``) for sign.sign_pdf. ``preferred`` is
    False when the top centre was taken and another blank spot was used (§3.8)."""

    page: int
    rect: tuple[float, float, float, float]
    mediabox: tuple[float, float, float, float]
    preferred: bool

    @property
    def rect_mm_from_top(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) in mm from the paper's top-left corner — how a clerk measures."""
        mx0, _, _, my1 = self.mediabox
        x0, y0, x1, y1 = self.rect
        k = 25.4 / 72
        return (round((x0 - mx0) * k, 2), round((my1 - y1) * k, 2), round((x1 - mx0) * k, 2),
                round((my1 - y0) * k, 2))


def _obstacles(pdf: Path) -> tuple[tuple[float, float, float, float], list[tuple[float, float, float, float]]]:
    """(MediaBox, boxes of everything drawn on page 1 and of its annotations), boxes in user space."""
    import pdfplumber

    with pdfplumber.open(str(pdf)) as doc:
        if not doc.pages:
            raise ArchiveError(f"{pdf.name} 没有页面，无法加盖归档章")
        page = doc.pages[0]
        x0, y0, x1, y1 = (float(v) for v in page.mediabox)
        mb = (x0, y0, x1, y1)
        mx0, my1 = x0, y1
        boxes: list[tuple[float, float, float, float]] = []
        for obj in (*page.chars, *page.rects, *page.lines, *page.curves, *page.images):
            # pdfplumber: x from the left edge, top/bottom from the top edge of the page box.
            boxes.append((mx0 + float(obj["x0"]), my1 - float(obj["bottom"]),
                          mx0 + float(obj["x1"]), my1 - float(obj["top"])))
        for a in page.annots or []:
            boxes.append((mx0 + float(a["x0"]), my1 - float(a["bottom"]), mx0 + float(a["x1"]), my1 - float(a["top"])))
    return mb, boxes


def _free(rect, boxes, clearance: float) -> bool:
    x0, y0, x1, y1 = rect
    for b in boxes:
        if b[0] < x1 + clearance and b[2] > x0 - clearance and b[1] < y1 + clearance and b[3] > y0 - clearance:
            return False
    return True


def find_placement(pdf: Path) -> StampPlacement:
    """Centred horizontally on the paper and vertically in the blank band at the top of page 1 (above
    the first text or drawing, within the 天头 of GB/T 9704); if that band is too small, the first free
    spot scanning down from the top (centred, then at the right and left edges of the 版心)."""
    mb, boxes = _obstacles(pdf)
    k = 72 / 25.4
    w, h = STAMP_W_MM * k, STAMP_H_MM * k
    clear, edge = CLEARANCE_MM * k, EDGE_MM * k
    mx0, my0, mx1, my1 = mb
    cx = (mx0 + mx1) / 2
    x_centre = (cx - w / 2, cx + w / 2)
    # The blank band: from the paper's top down to the first thing under the stamp's columns, and no
    # lower than the 版心's top (the stamp belongs in the top margin, not in the text area).
    under = [b for b in boxes if b[0] < x_centre[1] + clear and b[2] > x_centre[0] - clear]
    first = max((b[3] for b in under), default=my0)
    band_bottom = max(first, my1 - layout.MARGIN_TOP_MM * k)
    band = my1 - band_bottom
    if band >= h + 2 * clear:
        top = my1 - (band - h) / 2
        top = min(top, my1 - edge)
        rect = (x_centre[0], top - h, x_centre[1], top)
        if _free(rect, boxes, clear):
            return StampPlacement(0, rect, mb, True)
    left = mx0 + layout.MARGIN_LEFT_MM * k
    right = mx1 - layout.MARGIN_RIGHT_MM * k
    xs = (x_centre[0], right - w, left)
    step = 1.0 * k
    top = my1 - edge
    while top - h >= my0 + edge:
        for x in xs:
            rect = (x, top - h, x + w, top)
            if _free(rect, boxes, clear):
                return StampPlacement(0, rect, mb, False)
        top -= step
    raise ArchiveError(f"{pdf.name} 第1页没有可加盖归档章的空白位置（{STAMP_W_MM:g}×{STAMP_H_MM:g} 毫米）")


FIELD_NAME = "ArchiveStamp"


class ArchiveSigner:
    """Signs 归档章 onto PDFs with the office's certificate, opening the key once per run and signing
    through ``sign.sign_pdf`` (PAdES, SHA-256, incremental update, image-only appearance so PDF/A
    needs no font) — the same path as the 发文用印, with the 归档章's image, field and reason."""

    def __init__(self, config: Config):
        from ..convert import fonts_conf
        from ..sign import load_office_key

        self.config = config
        self.office = load_office_key(config)
        self.fontconfig = fonts_conf(config)

    def stamp(self, pdf_in: Path, pdf_out: Path, values: StampValues, code: str) -> StampPlacement:
        """Stamp page 1 of ``pdf_in`` into ``pdf_out`` (atomic; ``pdf_in`` untouched); the signature's
        reason names the 档号."""
        from ..errors import SigningError
        from ..sign import sign_pdf

        placement = find_placement(Path(pdf_in))
        img = stamp_image(values, fontconfig=self.fontconfig)
        try:
            sign_pdf(Path(pdf_in), Path(pdf_out), self.config, seal_png=img, placement=placement,
                     reason=f"{REASON_PREFIX} {code}", signer_name=f"{self.config.organisation.name}（归档）",
                     key=self.office, field_name=FIELD_NAME)
        except SigningError as e:
            raise ArchiveError(f"{Path(pdf_in).name} 加盖归档章（签名）失败：{e}") from e
        return placement
