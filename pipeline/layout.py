"""GB/T 9704-2012 geometry and type, in one place (standards.md §1). Templates, rendering, seal
placement and the layout tests all read these values; where the standard leaves a choice, the
choice is made here once, with the reason next to it."""
from __future__ import annotations

MM_PER_PT = 25.4 / 72
TWIPS_PER_PT = 20


def mm_to_pt(mm: float) -> float:
    return mm / MM_PER_PT


def mm_to_twips(mm: float) -> int:
    return round(mm_to_pt(mm) * TWIPS_PER_PT)


# --- page (5.1, 5.2) ------------------------------------------------------------------------------
PAGE_WIDTH_MM = 210.0
PAGE_HEIGHT_MM = 297.0
MARGIN_TOP_MM = 37.0        # 天头
MARGIN_LEFT_MM = 28.0       # 订口
TYPE_AREA_WIDTH_MM = 156.0  # 版心
TYPE_AREA_HEIGHT_MM = 225.0
MARGIN_BOTTOM_MM = PAGE_HEIGHT_MM - MARGIN_TOP_MM - TYPE_AREA_HEIGHT_MM   # 35
MARGIN_RIGHT_MM = PAGE_WIDTH_MM - MARGIN_LEFT_MM - TYPE_AREA_WIDTH_MM     # 26

LINES_PER_PAGE = 22
CHARS_PER_LINE = 28

# Choice: a fixed line pitch that puts exactly 22 lines in the 225 mm 版心 (the standard's 一行 of
# 16 pt + 7/8 × 16 pt would overflow it; standards.md §1.3). 225 mm / 22 = 28.99 pt; rounded down to
# whole twips (579 = 28.95 pt) so the 22nd line never spills to the next page.
LINE_PITCH_TWIPS = int(mm_to_pt(TYPE_AREA_HEIGHT_MM) * TWIPS_PER_PT / LINES_PER_PAGE)  # 579
LINE_PITCH_PT = LINE_PITCH_TWIPS / TWIPS_PER_PT
LINE_PITCH_MM = LINE_PITCH_PT * MM_PER_PT

# --- type (sizes in pt: 2号 22, 小二 18, 3号 16, 4号 14) --------------------------------------------
SIZE_2 = 22.0
SIZE_3 = 16.0
SIZE_4 = 14.0

# Font names as the office's Windows/WPS machines know them; fonts/fonts.conf maps them to the
# faces installed on Linux for LibreOffice (README "Fonts").
FONT_FANGSONG = "仿宋_GB2312"     # body, 发文字号, 版记
FONT_XIAOBIAOSONG = "方正小标宋简体"  # title, 发文机关标志
FONT_HEITI = "黑体"               # 一、 headings, 附件 label, 密级, 紧急程度, 纪要 出席/请假/列席
FONT_KAITI = "楷体_GB2312"        # （一） headings, 签发人 names
FONT_SONGTI = "宋体"              # page numbers
FONT_LATIN = "Times New Roman"    # digits/Latin in body runs (practice, standards.md §1.16)

# Character pitch: 156 mm / 28 = 15.79 pt, a little less than a 16 pt glyph. Choice: condense every
# body run by 0.25 pt (-5 twips), so 28 full-width characters take 441 pt of the 442.2 pt line and a
# 29th cannot fit.
CHAR_SPACING_TWIPS = -5

# Heading fonts by level: 一、 黑体, （一） 楷体, 1. 仿宋, （1） 仿宋; no bold (the face carries weight).
HEADING_FONTS = {1: FONT_HEITI, 2: FONT_KAITI, 3: FONT_FANGSONG, 4: FONT_FANGSONG}

# --- colours and rules ----------------------------------------------------------------------------
RED = "FF0000"                 # Choice: pure red on screen and PDF; print shops use Y80 M80 (§1.15)
RED_RULE_MM = 0.5              # 版头 red line; not fixed by the standard, 0.35–0.5 mm is common
RED_RULE_GAP_MM = 4.0          # red line 4 mm below the 发文字号
HEADER_MARK_OFFSET_MM = 35.0   # 发文机关标志 top edge below the 版心 top (文件格式, 纪要格式)
LETTER_MARK_TOP_MM = 30.0      # 信函格式: 标志 top edge from the paper top
LETTER_RULE_LENGTH_MM = 170.0  # 信函 double lines
LETTER_BOTTOM_RULE_MM = 20.0   # 信函 bottom double line above the paper bottom
COLOPHON_THICK_MM = 0.35       # 版记 first and last lines
COLOPHON_THIN_MM = 0.25        # 版记 lines in between
PAGE_NUMBER_GAP_MM = 7.0       # 一字线 7 mm below the 版心 bottom
PAGE_NUMBER_DASH = "\u2014"    # 一字线 (EM DASH), "— 1 —"

# --- signature block and seal (7.3.5) -------------------------------------------------------------
DATE_RIGHT_INDENT_CHARS = 4      # sealed: 成文日期 右空四字
UNSEALED_RIGHT_INDENT_CHARS = 2  # unsealed: 署名 右空二字, date first char 2 chars right of it


def seal_gap_lines(diameter_mm: float) -> int:
    """Blank lines between the body (or 附件说明) and the 署名 of a sealed document.

    The seal's top must lie within one line of the last body line and its centre above the 署名
    (both 署名 and 成文日期 below the centre, 居中下压). With the 署名 k line pitches below the
    last body line, the seal fits when  r <= k·pitch − glyph  and  k·pitch − glyph − r <= pitch.
    For the default 42 mm seal this gives 2 blank lines (署名 on the 3rd line after the body).
    """
    r = diameter_mm / 2
    glyph = SIZE_3 * MM_PER_PT
    k = 1
    while k * LINE_PITCH_MM - glyph < r:
        k += 1
    return k - 1
