"""The seal (印章): an image (configured or generated), placed from the real text positions of the
rendered PDF as GB/T 9704 7.3.5 asks, and drawn into the page content.

Coordinates: everything public here is in PDF user space, points, origin at the bottom-left of the
page's MediaBox, y upwards (pdfplumber's "top" values are converted once, in ``_page_lines``).
Pages are numbered from 0.
"""
from __future__ import annotations

import hashlib
import io
import math
import os
import re
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from . import layout
from .config import Config
from .errors import SigningError
from .fsutil import atomic_write_bytes

if TYPE_CHECKING:
    import pikepdf
    from PIL import Image

# --- the seal image -----------------------------------------------------------------------------

# Choice: the seal's text face. 国发〔1999〕25号 prescribes 宋体 for the characters of an organ's seal,
# so a bold Song face comes first; a bold Hei face is the fallback. Names go through fontconfig (with
# the instance's fonts.conf when there is one, so an office's licensed 宋体 in fonts/ wins).
SEAL_FONT_PATTERNS = ("宋体:weight=bold", "Noto Serif CJK SC:style=Bold", "Noto Sans CJK SC:style=Bold",
                      "黑体:weight=bold", ":lang=zh-cn:weight=bold")
# Proportions of a 42 mm organ seal (ring about 1.2 mm, characters about 7 mm high, star about 14 mm
# across), kept as fractions of the diameter so another diameter scales alike.
RING_WIDTH = 0.030
TEXT_GAP = 0.022            # between the ring's inner edge and the characters
TEXT_HEIGHT = 0.165
STAR_RADIUS = 0.165         # the star's outer radius
MAX_ARC_DEG = 250.0         # longest arc the name may take; longer names are set narrower
SUPERSAMPLE = 3             # draw large, then reduce: Pillow's shapes are not anti-aliased
# Bump when the drawing changes, so cached seals are redrawn.
GENERATOR_VERSION = 1


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


SEAL_RGB = _rgb(layout.RED)


def find_seal_font(fontconfig_file: Path | None = None) -> tuple[Path, int]:
    """(font file, face index) of a CJK face for the seal's text, found through fontconfig."""
    env = dict(os.environ)
    if fontconfig_file is not None and Path(fontconfig_file).is_file():
        env["FONTCONFIG_FILE"] = str(Path(fontconfig_file).resolve())
    for pattern in SEAL_FONT_PATTERNS:
        try:
            res = subprocess.run(["fc-match", "-f", "%{file}\n%{index}\n%{lang}", pattern], env=env,
                                 capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise SigningError(f"无法查找印章字体（fontconfig 的 fc-match 不可用：{e}）；"
                               "请安装 fontconfig 和 fonts-noto-cjk") from e
        parts = res.stdout.split("\n")
        if res.returncode == 0 and len(parts) >= 3 and "zh-cn" in parts[2].split("|") and Path(parts[0]).is_file():
            return Path(parts[0]), int(parts[1] or 0)
    raise SigningError("找不到可用于印章的中文字体（需要宋体或黑体，例如 fonts-noto-cjk 中的 Noto Serif CJK SC）")


def seal_image(issuer: str, diameter_mm: float, out: Path, *, dpi: int = 300,
               font: tuple[Path, int] | None = None) -> Path:
    """A round red seal PNG with transparency: red ring, five-point star in the middle, the
    organisation's name along the upper arc, each character turned to face the centre. Written
    atomically to ``out``. There is no blank seal (GB/T 9704 7.3.5.1): an empty name is refused."""
    from PIL import Image, ImageDraw, ImageFont

    name = re.sub(r"\s+", "", issuer or "")
    if not name:
        raise SigningError("印章文字为空：不得生成空白印章（请在配置中填写发文机关名称）")
    font_file, font_index = font or find_seal_font()
    px = max(64, round(diameter_mm / 25.4 * dpi))
    size = px * SUPERSAMPLE
    c = size / 2
    alpha = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(alpha)

    ring = RING_WIDTH * size
    # The ring's outer edge is the seal's diameter (Pillow draws the outline inside the box).
    draw.ellipse((0, 0, size - 1, size - 1), outline=255, width=round(ring))

    ro = STAR_RADIUS * size
    ri = ro * math.sin(math.radians(18)) / math.sin(math.radians(54))   # a regular star's inner radius
    star = [(c + (ro if k % 2 == 0 else ri) * math.sin(math.radians(36 * k)),
             c - (ro if k % 2 == 0 else ri) * math.cos(math.radians(36 * k))) for k in range(10)]
    draw.polygon(star, fill=255)

    h = TEXT_HEIGHT * size
    rc = size / 2 - ring - TEXT_GAP * size - h / 2         # radius of the characters' centres
    step = h * 1.08 / rc                                     # natural spacing, in radians
    n = len(name)
    if math.degrees(step * n) > MAX_ARC_DEG:
        step = math.radians(MAX_ARC_DEG) / n
    width = min(h, step * rc * 0.92)                         # long names: narrower characters
    face = ImageFont.truetype(str(font_file), size=round(h), index=font_index)
    for i, ch in enumerate(name):
        theta = (i - (n - 1) / 2) * step                     # 0 at the top, clockwise
        glyph = Image.new("L", (round(h * 1.5), round(h * 1.5)), 0)
        gd = ImageDraw.Draw(glyph)
        x0, y0, x1, y1 = gd.textbbox((0, 0), ch, font=face)
        gd.text(((glyph.width - (x1 - x0)) / 2 - x0, (glyph.height - (y1 - y0)) / 2 - y0), ch, font=face, fill=255)
        box = glyph.getbbox()
        if box is None:
            raise SigningError(f"印章字体缺少字符「{ch}」（{font_file.name}），无法生成印章")
        glyph = glyph.crop(box)
        glyph = glyph.resize((max(1, round(width * glyph.width / h)), max(1, round(h * glyph.height / h))),
                             Image.Resampling.LANCZOS)
        glyph = glyph.rotate(-math.degrees(theta), resample=Image.Resampling.BICUBIC, expand=True)
        gx = c + rc * math.sin(theta) - glyph.width / 2
        gy = c - rc * math.cos(theta) - glyph.height / 2
        alpha.paste(255, (round(gx), round(gy)), glyph)

    alpha = alpha.resize((px, px), Image.Resampling.LANCZOS)
    img = Image.new("RGBA", (px, px), SEAL_RGB + (0,))
    img.putalpha(alpha)
    buf = io.BytesIO()
    img.save(buf, "PNG", dpi=(dpi, dpi), optimize=True)
    return atomic_write_bytes(Path(out), buf.getvalue())


def seal_for(issuer: str, config: Config) -> Path:
    """The seal image for ``issuer``: the office's own image from ``config.seal.images`` when there
    is one, else a generated seal, cached under ``<archive>/seals/`` so every document of an issuer
    carries the identical image (regenerated only when the diameter or the drawing changes)."""
    if issuer in config.seal.images:
        p = config.path(config.seal.images[issuer])
        if not p.is_file():
            raise SigningError(f"配置的印章图片不存在：{p}（seal › images › {issuer}）")
        return p
    d = config.seal.diameter_mm
    key = hashlib.sha256(f"{issuer}|{d}|{GENERATOR_VERSION}".encode()).hexdigest()[:10]
    out = config.archive_dir / "seals" / f"{issuer}-{d:g}mm-{key}.png"
    if not out.is_file():
        conf = config.fonts_dir / "fonts.conf"
        seal_image(issuer, d, out, font=find_seal_font(conf if conf.is_file() else None))
    return out


def _load_rgba(png: Path):
    """The seal as RGBA. An image without transparency (a scan on white) gets alpha from its
    distance to white, so paper white does not cover the text."""
    from PIL import Image

    try:
        img = Image.open(png)
        img.load()
    except (OSError, ValueError) as e:
        raise SigningError(f"印章图片无法读取：{png}（{e}）") from e
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        return img.convert("RGBA")
    rgb = img.convert("RGB")
    from PIL import ImageChops, ImageOps

    r, g, b = rgb.split()
    darkest = ImageChops.darker(ImageChops.darker(r, g), b)
    rgba = rgb.copy()
    rgba.putalpha(ImageOps.invert(darkest))
    return rgba


# --- where the seal goes ------------------------------------------------------------------------

@dataclass(frozen=True)
class TextLine:
    """One line of text on a page, PDF user space (y up): x0, y0 (bottom), x1, y1 (top)."""

    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)


@dataclass(frozen=True)
class SealPlacement:
    """Where the seal goes. PDF user space in points, origin bottom-left of the MediaBox, y up;
    ``page`` counts from 0. The boxes (x0, y0, x1, y1) are the text lines it was placed against."""

    page: int
    cx_pt: float
    cy_pt: float
    diameter_pt: float
    signature_box: tuple | None
    date_box: tuple
    last_text_box: tuple

    @property
    def rect(self) -> tuple[float, float, float, float]:
        r = self.diameter_pt / 2
        return (self.cx_pt - r, self.cy_pt - r, self.cx_pt + r, self.cy_pt + r)


class NeedsRelayout(Exception):
    """The 署名/成文日期 block is alone on its page, has taken the page before's text along, or the
    seal does not fit: the caller renders again with render.next_layout(layout, e.shortfall)
    (GB/T 9704 7.3.5.5) and tries again. The message is Chinese."""

    def __init__(self, message: str, shortfall: layout.Shortfall | None = None):
        super().__init__(message)
        self.shortfall = shortfall


# Where a 3号 line's slot lies around its characters (layout.py's measured offsets), in points.
_GLYPH_TOP_PT = layout.mm_to_pt(layout.GLYPH_TOP_BODY_MM)
_GLYPH_BOTTOM_PT = layout.mm_to_pt(layout.GLYPH_BOTTOM_BODY_MM)
_PITCH_PT = layout.LINE_PITCH_PT


def _type_area(height_pt: float) -> tuple[float, float]:
    """(top, bottom) of the 版心 in PDF user space (y up) on a page ``height_pt`` high."""
    top = height_pt - layout.mm_to_pt(layout.MARGIN_TOP_MM)
    return top, top - layout.mm_to_pt(layout.TYPE_AREA_HEIGHT_MM)


def _inside(lines: list[TextLine], height_pt: float) -> list[TextLine]:
    """The lines inside the 版心 (not the page number under it)."""
    return [ln for ln in lines if ln.y0 >= _type_area(height_pt)[1] - 1.0]


def _slots_to(line: TextLine, height_pt: float) -> float:
    """Line slots (at the standard pitch) from the 版心 top down to the bottom of ``line``'s slot."""
    return (_type_area(height_pt)[0] - (line.y0 - _GLYPH_BOTTOM_PT)) / _PITCH_PT


def _tops(lines: list[TextLine], height_pt: float) -> tuple[int, ...]:
    """Where each line's slot begins, in twips below the 版心 top."""
    top = _type_area(height_pt)[0]
    return tuple(max(0, round((top - ln.y1 - _GLYPH_TOP_PT) * layout.TWIPS_PER_PT)) for ln in lines)


def _twips_to(line: TextLine, height_pt: float) -> int:
    return round(_slots_to(line, height_pt) * layout.LINE_PITCH_TWIPS)


def _shortfall_before(pages: list[list[TextLine]], heights: list[float], p: int, kind: str,
                      date: TextLine) -> layout.Shortfall | None:
    """The page before page ``p`` must take what page ``p`` holds down to the block's ``date``."""
    if p == 0:
        return None
    before = _inside(pages[p - 1], heights[p - 1])
    if not before:
        return None
    return layout.Shortfall(kind, _squashed(before), _tops(before, heights[p - 1]),
                            round(_slots_to(before[-1], heights[p - 1]), 1), _twips_to(date, heights[p]))


def _squashed(lines: list[TextLine]) -> tuple[str, ...]:
    return tuple(_norm(ln.text) for ln in lines)


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", s or "")


def _box(array) -> tuple[float, float, float, float]:
    """A PDF rectangle (MediaBox) as four floats."""
    x0, y0, x1, y1 = (float(v) for v in array)
    return x0, y0, x1, y1


def _page_lines(pdf: Path) -> tuple[list[list[TextLine]], list[tuple[float, float, float, float]]]:
    """Text lines of every page (top to bottom) and each page's MediaBox. The text comes from
    pdfcheck.text_boxes (pdfplumber, one box per run); runs sharing a line are joined here."""
    from pypdf import PdfReader

    from .pdfcheck import text_boxes

    try:
        boxes = [_box(pg.mediabox) for pg in PdfReader(pdf).pages]
        runs = text_boxes(Path(pdf))
    except Exception as e:  # pypdf/pdfminer raise many kinds of errors on a damaged file
        raise SigningError(f"无法读取待用印的 PDF {Path(pdf).name}：{e}") from e
    pages: list[list[TextLine]] = [[] for _ in boxes]
    for run in runs:
        if not run.text.strip() or not 1 <= run.page <= len(boxes):
            continue
        x0, _, _, y1 = boxes[run.page - 1]
        ln = TextLine(run.page - 1, run.text, round(x0 + run.x0, 2), round(y1 - run.bottom, 2),
                      round(x0 + run.x1, 2), round(y1 - run.top, 2))
        lines = pages[run.page - 1]
        prev = lines[-1] if lines else None
        if prev is not None and prev.y0 <= (ln.y0 + ln.y1) / 2 <= prev.y1:
            left, right = (prev, ln) if prev.x0 <= ln.x0 else (ln, prev)
            lines[-1] = TextLine(prev.page, f"{left.text} {right.text}", min(prev.x0, ln.x0), min(prev.y0, ln.y0),
                                 max(prev.x1, ln.x1), max(prev.y1, ln.y1))
        else:
            lines.append(ln)
    for lines in pages:
        lines.sort(key=lambda t: -t.y1)
    return pages, boxes


_ANNEX_START = re.compile(r"^附件[:：]")
_ANNEX_ITEM = re.compile(r"^\d+[.．]")


def _only_annex_note_above(pages: list[list[TextLine]], p: int, first: int) -> bool:
    """True when everything above the 署名 on its page belongs to the 附件说明: the page starts with
    "附件：…", or with "2.…" items continuing a 附件说明 begun at the foot of the previous page."""
    above = pages[p][:first]
    if not above:
        return False
    head = above[0].text.strip()
    if _ANNEX_START.match(head):
        return True
    if _ANNEX_ITEM.match(head) and p > 0:
        return any(_ANNEX_START.match(ln.text.strip()) for ln in pages[p - 1][-6:])
    return False


def find_block(pages: list[list[TextLine]], *, signature: str | None, date_text: str,
               annex_only_ok: bool = False, heights: list[float] | None = None,
               block_above: tuple[str, ...] = ()) -> tuple[int, int, int | None]:
    """(page, date line, 署名 line or None) of the 署名/成文日期 block: the first line that reads as the
    date with the 署名 directly above it. NeedsRelayout when the block is split over two pages, has
    nothing above it on its page, or (unless ``annex_only_ok``, the last attempt) only the 附件说明,
    or has taken along so much of the body that the page before lacks more than
    layout.FILL_SLACK_LINES lines; SigningError when it is not there at all. ``heights``: each page's
    height in points (A4 when not given), for measuring what the next layout must gain.
    ``block_above``: the lines (whitespace removed) that belong to the block above its last 署名 —
    a joint document's earlier rows of 署名, or its stacked 署名 (联合行文)."""
    heights = heights or [layout.mm_to_pt(layout.PAGE_HEIGHT_MM)] * len(pages)
    want_date, want_sig = _norm(date_text), _norm(signature or "")
    if not want_date:
        raise SigningError("没有成文日期，无法确定用印位置")
    found: tuple[int, int, int | None] | None = None
    split = None
    for p, lines in enumerate(pages):
        for i, ln in enumerate(lines):
            if _norm(ln.text) != want_date:
                continue
            if not want_sig:
                found = (p, i, None)
                break
            if i > 0 and _norm(lines[i - 1].text) == want_sig:
                found = (p, i, i - 1)
                break
            if i == 0 and p > 0 and pages[p - 1] and _norm(pages[p - 1][-1].text) == want_sig:
                split = (p, ln)
        if found:
            break
    if found is None:
        if split:
            p, date = split
            raise NeedsRelayout("发文机关署名与成文日期被分在两页，需要调整行距重新排版",
                                _shortfall_before(pages, heights, p, "split", date))
        what = f"发文机关署名「{signature}」紧接其上的成文日期「{date_text}」" if want_sig else f"成文日期「{date_text}」"
        raise SigningError(f"在转换后的 PDF 中找不到{what}，无法确定用印位置")
    p, di, si = found
    first = si if si is not None else di
    wanted = {_norm(x) for x in block_above}
    while first > 0 and _norm(pages[p][first - 1].text) in wanted:
        first -= 1
    date = pages[p][di]
    if first == 0:
        raise NeedsRelayout(f"第{p + 1}页只有发文机关署名和成文日期，没有正文（GB/T 9704 7.3.5.5 要求调整行距，不得单独成页）",
                            _shortfall_before(pages, heights, p, "alone", date))
    if not annex_only_ok and _only_annex_note_above(pages, p, first):
        # Legal under the seal rule (its top may be within one line of the 附件说明), but a page
        # with nothing of the body on it reads as a stray signature: try another layout first.
        raise NeedsRelayout(f"第{p + 1}页只有附件说明和署名，没有正文，需要调整行距重新排版",
                            _shortfall_before(pages, heights, p, "annex", date))
    if not annex_only_ok and p > 0:
        # The block took body text along (keep-with-next) and left the page before short: more of
        # it than the empty lines there could have stayed above.
        before = _inside(pages[p - 1], heights[p - 1])
        empty = layout.LINES_PER_PAGE - (_slots_to(before[-1], heights[p - 1]) if before else 0)
        above = _slots_to(pages[p][first - 1], heights[p])
        if math.floor(empty + 0.05) > layout.FILL_SLACK_LINES and above <= empty + 0.5:
            raise NeedsRelayout(f"第{p}页下方空{round(empty)}行：正文末尾随署名移到了第{p + 1}页，需要调整行距重新排版",
                                _shortfall_before(pages, heights, p, "short", date))
    return p, di, si


def compute_placement(pages: list[list[TextLine]], mediaboxes: list[tuple[float, float, float, float]], *,
                      signature: str | None, date_text: str, diameter_mm: float,
                      annex_only_ok: bool = False) -> SealPlacement:
    """The seal's place from text lines (see place_seal). Pure, so it is tested without a PDF."""
    heights = [box[3] - box[1] for box in mediaboxes]
    p, di, si = find_block(pages, signature=signature, date_text=date_text, annex_only_ok=annex_only_ok,
                           heights=heights)
    lines = pages[p]
    date = lines[di]
    sig = lines[si] if si is not None else None
    first = si if si is not None else di
    last = lines[first - 1]

    r = layout.mm_to_pt(diameter_mm) / 2
    pitch = layout.LINE_PITCH_PT
    # Horizontally on the date's centre: the 署名 is centred on the date (以成文日期为准居中编排), so
    # this is the block's axis, and a slightly off-centre 署名 does not pull the seal off the date.
    cx = (date.x0 + date.x1) / 2
    top_of_block = (sig or date).y1
    # Feasible centres: the 署名 (or the date) below the centre (居中下压); the date's bottom above
    # the circle's bottom; the seal's top not over the last line above, and within one line of it.
    lo = max(top_of_block, last.y0 - pitch - r)
    hi = min(date.y0 + r, last.y0 - r)
    # Nor over the page number (or anything else below the 版心): a document whose block sits on the
    # last lines of the 版心 would otherwise push the seal onto "— 1 —".
    mx0, my0, mx1, my1 = mediaboxes[p]
    floor = my0 + layout.mm_to_pt(layout.MARGIN_BOTTOM_MM)
    below = [ln.y1 for ln in lines[di + 1:] if ln.y1 <= floor]
    if below:
        lo = max(lo, max(below) + r)
    eps = 0.5
    # Room for the seal is made on its own page: the lines above the block, a little tighter.
    def short_by(points: float) -> layout.Shortfall:
        above = lines[:first]
        return layout.Shortfall("seal", _squashed(above), _tops(above, heights[p]),
                                round(_slots_to(date, heights[p]), 1), _twips_to(date, heights[p]),
                                deficit=round(points * layout.TWIPS_PER_PT))

    if lo > hi + eps:
        raise NeedsRelayout(
            f"第{p + 1}页印章放不下：署名与上方正文的间距不符合"
            f"“印章顶端距正文一行之内、署名和成文日期居印章中心偏下”的要求（直径 {diameter_mm:g} 毫米）",
            short_by(lo - hi))
    cy = (lo + hi) / 2 if lo <= hi else hi
    if cx - r < mx0 or cx + r > mx1 or cy - r < my0:
        raise NeedsRelayout(f"第{p + 1}页印章超出页面，需要调整版面", short_by(max(my0 - (cy - r), pitch)))
    return SealPlacement(page=p, cx_pt=round(cx, 2), cy_pt=round(cy, 2), diameter_pt=round(2 * r, 2),
                         signature_box=sig.box if sig else None, date_box=date.box, last_text_box=last.box)


def place_seal(pdf: Path, *, signature: str | None, date_text: str, diameter_mm: float,
               annex_only_ok: bool = False) -> SealPlacement:
    """From the real text positions in the rendered PDF: the first 成文日期 line with the 署名
    directly above it (the body's, before any 附件 pages and the 版记, whose 印发日期 line reads
    differently). The seal is centred horizontally on the date (the block's axis) and vertically so
    that both lines lie below its centre (居中下压) while its top is within one line
    (layout.LINE_PITCH_PT) of the last body or 附件说明 line above and covers neither that line nor
    the page number; of the centres that satisfy all this, the middle one. Raises NeedsRelayout when
    the block has no text above it on its page, is split over two pages, or the constraints cannot
    be met; SigningError when the lines are not in the PDF at all."""
    pages, boxes = _page_lines(Path(pdf))
    return compute_placement(pages, boxes, signature=signature, date_text=date_text, diameter_mm=diameter_mm,
                             annex_only_ok=annex_only_ok)


def place_joint_seals(pdf: Path, *, organs: list[str], date_text: str, diameter_mm: float,
                      annex_only_ok: bool = False) -> list[SealPlacement]:
    """联合行文 (GB/T 9704 7.3.5.1): one seal over each organ's 署名, in the order of ``organs``, from
    the real text of the PDF: the rows of 署名 (render.fit_joint_signature: at most
    layout.JOINT_PER_ROW a row) above the 成文日期. Each seal is centred on its 署名; all sit at the
    same height over their row, chosen as for a single seal — the first row's seals within one line
    of the text above them, the 署名 below the centre, the date (under the last 署名) above the
    circle's bottom, nothing below covered. NeedsRelayout / SigningError as place_seal."""
    # The rows as render.fit_joint_signature set them.
    per_row = len(layout.joint_columns([layout.text_width_twips(o) for o in organs],
                                       layout.text_width_twips(date_text), diameter_mm))
    rows = [organs[i:i + per_row] for i in range(0, len(organs), per_row)]
    row_texts = [_norm("".join(r)) for r in rows]
    pages, boxes = _page_lines(Path(pdf))
    heights = [box[3] - box[1] for box in boxes]
    p, di, si = find_block(pages, signature=row_texts[-1], date_text=date_text, annex_only_ok=annex_only_ok,
                           heights=heights, block_above=tuple(row_texts[:-1]))
    lines = pages[p]
    assert si is not None   # a 署名 (the last row) was asked for, so the block found has one
    at = [si]
    for text in reversed(row_texts[:-1]):
        j = next((i for i in range(at[0] - 1, -1, -1) if _norm(lines[i].text) == text), None)
        if j is None:
            raise NeedsRelayout("联合行文的发文机关署名被分在两页，需要调整行距重新排版",
                                _shortfall_before(pages, heights, p, "split", lines[di]))
        at.insert(0, j)
    date, last = lines[di], lines[at[0] - 1]
    r = layout.mm_to_pt(diameter_mm) / 2
    pitch = layout.LINE_PITCH_PT
    # One height over every row: the offset of the centre above its row's top.
    lo = max(0.0, last.y0 - pitch - r - lines[at[0]].y1)
    hi = min(last.y0 - r - lines[at[0]].y1, date.y0 + r - lines[at[-1]].y1)
    mx0, my0, mx1, my1 = boxes[p]
    floor = my0 + layout.mm_to_pt(layout.MARGIN_BOTTOM_MM)
    below = [ln.y1 for ln in lines[di + 1:] if ln.y1 <= floor]
    if below:
        lo = max(lo, max(below) + r - lines[at[-1]].y1)
    if lo > hi + 0.5:
        above = lines[:at[0]]
        raise NeedsRelayout(f"第{p + 1}页联合行文的印章放不下（直径 {diameter_mm:g} 毫米）",
                            layout.Shortfall("seal", _squashed(above), _tops(above, heights[p]),
                                             round(_slots_to(date, heights[p]), 1), _twips_to(date, heights[p]),
                                             deficit=round((lo - hi) * layout.TWIPS_PER_PT)))
    offset = (lo + hi) / 2 if lo <= hi else hi
    x0, _, _, y1 = boxes[p]
    left = x0 + layout.mm_to_pt(layout.MARGIN_LEFT_MM)
    right = left + layout.mm_to_pt(layout.TYPE_AREA_WIDTH_MM)
    out = []
    for names, i in zip(rows, at):
        row = lines[i]
        # The names of a row may stand closer than the gap that splits a line into runs: find each
        # in the row's characters, left to right.
        chars = _row_chars(Path(pdf), p, y1 - row.y1, y1 - row.y0)
        text = "".join(c["text"] for c in chars)
        start = 0
        for name in names:
            k = text.find(_norm(name), start)
            if k < 0:
                raise SigningError(f"在转换后的 PDF 中找不到联合发文机关署名「{name}」，无法确定用印位置")
            span = chars[k:k + len(_norm(name))]
            start = k + len(_norm(name))
            bx0, bx1 = min(c["x0"] for c in span), max(c["x1"] for c in span)
            top, bottom = min(c["top"] for c in span), max(c["bottom"] for c in span)
            cx = x0 + (bx0 + bx1) / 2
            if cx - r < left - 1 or cx + r > right + 1:
                raise SigningError(f"「{name}」的印章超出版心（GB/T 9704 7.3.5.1：每排印章两端不得超出版心）")
            sig_box = (round(x0 + bx0, 2), round(y1 - bottom, 2), round(x0 + bx1, 2), round(y1 - top, 2))
            out.append(SealPlacement(page=p, cx_pt=round(cx, 2), cy_pt=round(row.y1 + offset, 2),
                                     diameter_pt=round(2 * r, 2), signature_box=sig_box,
                                     date_box=date.box if i == at[-1] else row.box, last_text_box=last.box))
    return out


def _row_chars(pdf: Path, page: int, top: float, bottom: float) -> list[dict]:
    """The non-blank characters of a line of page ``page`` (from 0) lying between ``top`` and
    ``bottom`` (points from the page's top), left to right."""
    import pdfplumber

    with pdfplumber.open(str(pdf)) as doc:
        chars = [c for c in doc.pages[page].chars
                 if c["text"].strip() and top - 1 <= (c["top"] + c["bottom"]) / 2 <= bottom + 1]
    return sorted(chars, key=lambda c: c["x0"])


def check_block(pdf: Path, *, signature: str | None, date_text: str, annex_only_ok: bool = False,
                block_above: tuple[str, ...] = ()) -> None:
    """For a document sent without a seal (7.3.5.2): its 署名/成文日期 block must not stand alone on a
    page either (7.3.5.5). Raises NeedsRelayout (re-render tighter) or SigningError like place_seal."""
    pages, boxes = _page_lines(Path(pdf))
    find_block(pages, signature=signature, date_text=date_text, annex_only_ok=annex_only_ok,
               heights=[box[3] - box[1] for box in boxes], block_above=block_above)


# --- drawing it ---------------------------------------------------------------------------------

# Encoded image data by image content: the same seal, or the same 清样 mark, is compressed once per
# process (Flate at level 9 of a page-sized mark costs about 0.2 s), then reused.
_ENCODED: dict[bytes, tuple[bytes, bytes]] = {}
_ENCODED_MAX = 8


def _image_xobject(pdf: pikepdf.Pdf, img: Image.Image) -> pikepdf.Stream:
    """An image XObject of ``pdf`` (DeviceRGB, Flate) with its alpha as an /SMask (allowed in PDF/A-2)."""
    import pikepdf

    key = hashlib.blake2b(img.tobytes(), digest_size=16, person=repr(img.size).encode()[:16]).digest()
    if key not in _ENCODED:
        if len(_ENCODED) >= _ENCODED_MAX:
            _ENCODED.pop(next(iter(_ENCODED)))
        _ENCODED[key] = (zlib.compress(img.convert("RGB").tobytes(), 9), zlib.compress(img.getchannel("A").tobytes(), 9))
    rgb, alpha = _ENCODED[key]

    def stream(data: bytes, colour_space: str) -> pikepdf.Stream:
        st = pdf.make_stream(b"", Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image, Width=img.width,
                             Height=img.height, ColorSpace=pikepdf.Name(colour_space), BitsPerComponent=8)
        st.write(data, filter=pikepdf.Name.FlateDecode)     # already Flate-encoded above
        return st

    image = stream(rgb, "/DeviceRGB")
    image.SMask = stream(alpha, "/DeviceGray")
    return image


def _inherited(page: pikepdf.Object, key: str) -> pikepdf.Object | None:
    """A page attribute, looked up through the page tree as PDF inheritance says (7.7.3.4)."""
    node = page
    for _ in range(64):
        if key in node:
            return node[key]
        parent = node.get("/Parent")
        if parent is None:
            return None
        node = parent
    return None


def apply_seal(pdf_in: Path, pdf_out: Path, seal_png: Path, placement: SealPlacement) -> Path:
    """Draw the seal into the page content (``overlay_image``): an image XObject with an /SMask, blended
    with /Multiply so the black 署名 and date stay legible through the red as on paper. PDF/A-2 allows
    soft masks and blend modes; the header is kept at 1.6 or above and the seal is marked as an
    /Artifact for tagged PDFs. Written atomically; the input is not touched."""
    img = _load_rgba(Path(seal_png))
    return overlay_image(pdf_in, pdf_out, img, lambda i, box: placement.rect if i == placement.page else None,
                         name="GwSeal", pages=(placement.page,))


def overlay_image(pdf_in: Path, pdf_out: Path, img: Image.Image,
                  where: Callable[[int, tuple[float, ...]], tuple[float, float, float, float] | None], *, name: str,
                  pages: tuple[int, ...] | None = None, info: dict[str, str] | None = None) -> Path:
    """Draw the RGBA image ``img`` over pages of ``pdf_in`` (all, or ``pages``) into ``pdf_out``:
    ``where(page_index, mediabox) -> (x0, y0, x1, y1)`` in user space, or None to leave the page.
    One image object shared by every page; /Multiply blending; marked /Artifact; header ≥ 1.6.
    ``info``: entries for the document information dictionary (e.g. /GongwenProof). Written with
    pikepdf (qpdf), which keeps the file's PDF/A identification as it is."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name

    try:
        pdf = pikepdf.open(pdf_in)
    except Exception as e:
        raise SigningError(f"无法读取 PDF {Path(pdf_in).name}：{e}") from e
    with pdf:
        indexes = range(len(pdf.pages)) if pages is None else pages
        for i in indexes:
            if not 0 <= i < len(pdf.pages):
                raise SigningError(f"用印页码超出范围：第{i + 1}页（共{len(pdf.pages)}页）")
        image = _image_xobject(pdf, img)
        gs = pdf.make_indirect(Dictionary(Type=Name.ExtGState, BM=Name.Multiply))
        for i in indexes:
            page = pdf.pages[i].obj
            mediabox = _inherited(page, "/MediaBox")
            box = tuple(float(v) for v in (mediabox if mediabox is not None else (0, 0, 595.276, 841.89)))
            rect = where(i, box)
            if rect is None:
                continue
            shared = _inherited(page, "/Resources")
            res = Dictionary({k: v for k, v in shared.items()}) if shared is not None else Dictionary()
            for key in ("/XObject", "/ExtGState"):     # own copies: LibreOffice shares one across pages
                sub = res.get(key)
                res[key] = Dictionary({k: v for k, v in sub.items()}) if sub is not None else Dictionary()
            n = 0
            while f"/{name}{n}" in res.XObject or f"/{name}GS{n}" in res.ExtGState:
                n += 1
            res.XObject[f"/{name}{n}"] = image
            res.ExtGState[f"/{name}GS{n}"] = gs
            page.Resources = res

            x0, y0, x1, y1 = rect
            before = pdf.make_stream(b"q\n")
            after = pdf.make_stream(f"\nQ\n/Artifact BMC q /{name}GS{n} gs {x1 - x0:.3f} 0 0 {y1 - y0:.3f} {x0:.3f} "
                                    f"{y0:.3f} cm /{name}{n} Do Q EMC\n".encode())
            contents = page.get("/Contents")
            old = [] if contents is None else list(contents) if isinstance(contents, Array) else [contents]
            page.Contents = Array([before, *old, after])

            if "/OutputIntents" not in pdf.Root:
                # PDF/A-2 asks for a transparency group colour space on pages with transparency when the
                # file has no OutputIntent (LibreOffice's PDF/A always has one).
                page.Group = Dictionary(S=Name.Transparency, CS=Name.DeviceRGB)
        for k, v in (info or {}).items():
            pdf.docinfo[k] = pikepdf.String(v)
        buf = io.BytesIO()
        # fix_metadata_version=False: the XMP packet (the PDF/A identification) stays byte for byte as it is
        pdf.save(buf, min_version="1.6", fix_metadata_version=False)
    return atomic_write_bytes(Path(pdf_out), buf.getvalue())
