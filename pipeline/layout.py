"""GB/T 9704-2012 geometry and type, in one place (standards.md §1). Templates, rendering, seal
placement and the layout tests all read these values; where the standard leaves a choice, the
choice is made here once, with the reason next to it."""
from __future__ import annotations

import math
from dataclasses import dataclass

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
CHAR_PITCH_TWIPS = int(SIZE_3 * TWIPS_PER_PT) + CHAR_SPACING_TWIPS   # 315: one 字 of body text
SIZE_4_CHAR_TWIPS = int(SIZE_4 * TWIPS_PER_PT)                     # 280: one 字 of 4号 (版记, 页码)
TYPE_AREA_WIDTH_TWIPS = mm_to_twips(TYPE_AREA_WIDTH_MM)             # 8844


def chars(n: float) -> int:
    """``n`` body characters (字) in twips: the unit of 左空二字, 右空四字 …"""
    return round(n * CHAR_PITCH_TWIPS)


# Widths as LibreOffice sets them with the stand-in faces (the PDF is the 正本): Latin digits and
# letters of Noto Serif CJK are 0.56 em (Times New Roman's 0.5), and LibreOffice always adds 0.2 em
# between Chinese and Latin text (its "Asian/non-Asian spacing"; it ignores Word's autoSpaceDE/DN,
# which the templates switch off for Word and WPS). Used where a position depends on a text's width.
LATIN_EM = 0.56
AUTOSPACE_EM = 0.2


# Punctuation below U+2E80 that Chinese text sets full-width (measured: LibreOffice takes it from the
# CJK face, 1 em): quotation marks, the dash of ——, the ellipsis of …… . The middle dot of a name
# (阿卜杜·热合曼) stays narrow.
WIDE_PUNCTUATION = frozenset("“”‘’—…")


def _is_wide(ch: str) -> bool:
    return ord(ch) >= 0x2E80 or ch in WIDE_PUNCTUATION


def text_width_twips(text: str, size_pt: float = SIZE_3, spacing_twips: int = CHAR_SPACING_TWIPS) -> int:
    """Advance width of ``text`` in twips: full-width (CJK) characters one em, Latin ones LATIN_EM,
    AUTOSPACE_EM at each change between the two, plus the character spacing after every character."""
    em = size_pt * TWIPS_PER_PT
    width = 0.0
    for i, ch in enumerate(text):
        width += (em if _is_wide(ch) else em * LATIN_EM) + spacing_twips
        if i and ch.isalnum() and text[i - 1].isalnum() and _is_wide(ch) != _is_wide(text[i - 1]):
            width += em * AUTOSPACE_EM
    return round(width)


# Heading fonts by level: 一、 黑体, （一） 楷体, 1. 仿宋, （1） 仿宋; no bold (the face carries weight).
HEADING_FONTS = {1: FONT_HEITI, 2: FONT_KAITI, 3: FONT_FANGSONG, 4: FONT_FANGSONG}

# --- 版头: 发文机关标志, 发文字号, red rule (7.2) -------------------------------------------------
RED = "FF0000"                 # Choice: pure red on screen and PDF; print shops use Y80 M80 (§1.15)
RED_RULE_MM = 0.5              # 版头 red line; not fixed by the standard, 0.35–0.5 mm is common
RED_RULE_GAP_MM = 4.0          # red line 4 mm below the 发文字号
HEADER_MARK_OFFSET_MM = 35.0   # 发文机关标志 top edge below the 版心 top (文件格式, 纪要格式)

# The size of the 发文机关标志 is not fixed (standards.md §1.5). Choice: 48 pt 小标宋 (about 17 mm
# characters, within the 1999 standard's old 22 mm cap), compressed horizontally (character scale)
# when the name is longer than MARK_MAX_WIDTH_MM, so that any 标志 fits the 版心 with a little air.
MARK_SIZE = 48.0
MARK_MAX_WIDTH_MM = 150.0
MARK_MIN_SCALE = 50            # percent; narrower than this is unreadable, the name must be shortened

# 份号, 密级, 紧急程度 stack from line 1 of the 版心 (7.2.1–7.2.3); the template always reserves these
# three lines (empty when absent), so the 标志 below them never moves.
TOP_LINES = 3
COPY_NUMBER_DIGITS = 6         # 份号: 6 Arabic digits, 3号, 顶格 in the 版心's first line (7.2.1)


def copy_number(n: int) -> str:
    """The printed 份号 of copy ``n``: 1 → 000001."""
    if not 1 <= n < 10 ** COPY_NUMBER_DIGITS:
        raise ValueError(f"份号 must be 1..{10 ** COPY_NUMBER_DIGITS - 1}, not {n}")
    return f"{n:0{COPY_NUMBER_DIGITS}d}"

# Where LibreOffice puts a glyph inside a line of exact height, measured with the stand-in faces on
# this machine (tests/test_layout_pdf.py checks the printed positions): from the top of the line to
# the top of the character's em box, and from the em box's bottom to the bottom of the line, in mm.
# The standard's positions are those of the characters, so the templates subtract these.
GLYPH_TOP_BODY_MM = 2.69       # 3号 in a LINE_PITCH line
GLYPH_BOTTOM_BODY_MM = LINE_PITCH_MM - GLYPH_TOP_BODY_MM - SIZE_3 * MM_PER_PT   # 1.88
GLYPH_TOP_TITLE_MM = 0.58      # 2号 in a LINE_PITCH line
MARK_LINE_TWIPS = 1077         # exact line of the 48 pt 标志 (glyph plus a body line's gap, nominally)
GLYPH_TOP_MARK_MM = -1.58      # LibreOffice lifts a glyph whose line is shorter than the face's height
GLYPH_BOTTOM_MARK_MM = 3.65    # … and keeps most of its descent below it
# The space above the 标志 line: its characters' top edge HEADER_MARK_OFFSET_MM below the 版心's top,
# under the TOP_LINES reserved lines.
MARK_BEFORE_TWIPS = mm_to_twips(HEADER_MARK_OFFSET_MM - TOP_LINES * LINE_PITCH_MM - GLYPH_TOP_MARK_MM)
# The first blank line under the 标志 is shortened by the extra descent, so that the 发文字号 sits
# exactly two body lines below the 标志, as it would under a body line (7.2.5).
MARK_GAP_TWIPS = LINE_PITCH_TWIPS - mm_to_twips(GLYPH_BOTTOM_MARK_MM - GLYPH_BOTTOM_BODY_MM)

# --- 主体 (7.3) ------------------------------------------------------------------------------------
# Title lines: 2号 characters are not condensed; 20 of them (440 pt) fit the 442.2 pt 版心 width.
TITLE_MAX_CHARS = 20

# --- 版记 (7.4) and 页码 (7.5) -----------------------------------------------------------------------
COLOPHON_THICK_MM = 0.35       # 版记 first and last lines
COLOPHON_THIN_MM = 0.25        # 版记 lines in between
PAGE_NUMBER_GAP_MM = 7.0       # 一字线 7 mm below the 版心 bottom
PAGE_NUMBER_DASH = "\u2014"    # 一字线 (EM DASH), "— 1 —"


def border_eighths(mm: float) -> int:
    """A rule thickness as a Word border width (eighths of a point): 0.35 mm → 8, 0.25 mm → 6."""
    return max(2, round(mm_to_pt(mm) * 8))


# Word's footer distance is from the paper's bottom edge to the bottom of the footer line. The
# page number's 一字线 must start 7 mm below the 版心: 35 − 7 − one 4号 line (4.94 mm) = 23.06 mm,
# less the 0.96 mm LibreOffice leaves between a 4号 glyph and the bottom of its 14 pt exact line
# (measured; tests/test_layout_pdf.py checks the printed position).
PAGE_NUMBER_GLYPH_LIFT_MM = 0.96
FOOTER_DISTANCE_TWIPS = mm_to_twips(MARGIN_BOTTOM_MM - PAGE_NUMBER_GAP_MM - SIZE_4 * MM_PER_PT
                                    - PAGE_NUMBER_GLYPH_LIFT_MM)
HEADER_DISTANCE_TWIPS = mm_to_twips(15.0)   # no header content in 公文; Word's usual 1.5 cm

# --- 信函格式 (10.1) --------------------------------------------------------------------------------
LETTER_MARK_TOP_MM = 30.0      # 信函格式: 标志 top edge from the paper top
LETTER_RULE_LENGTH_MM = 170.0  # 信函 double lines
LETTER_RULE_GAP_MM = 4.0       # top double line 4 mm below the 标志
LETTER_BOTTOM_RULE_MM = 20.0   # 信函 bottom double line above the paper bottom
LETTER_ELEMENT_GAP_MM = 7 / 8 * SIZE_3 * MM_PER_PT   # 发文字号 etc. 7/8 of a 3号 character below the line
# The double lines' thickness is not fixed; choice: a 0.75 mm line and a 0.25 mm line, 0.5 mm apart.
LETTER_RULE_THICK_MM = 0.75
LETTER_RULE_THIN_MM = 0.25
LETTER_RULE_SPACE_MM = 0.5
# The 标志 sits in the first-page header: the header distance puts its characters' top edge
# LETTER_MARK_TOP_MM from the paper top.
LETTER_HEADER_DISTANCE_TWIPS = mm_to_twips(LETTER_MARK_TOP_MM - GLYPH_TOP_MARK_MM)
# Measured: with no space below the 标志, LibreOffice starts the body so that its first characters
# are 4.25 mm below the lower double line, and a header paragraph's space below moves the body by
# half its value; the space below the 标志 makes up the rest of the 7/8 character.
LETTER_HEAD_AFTER_TWIPS = 2 * mm_to_twips(LETTER_ELEMENT_GAP_MM - 4.25)

# --- signature block and seal (7.3.5) -------------------------------------------------------------
DATE_RIGHT_INDENT_CHARS = 4      # sealed: 成文日期 右空四字
UNSEALED_RIGHT_INDENT_CHARS = 2  # unsealed: 署名 右空二字, date first char 2 chars right of it


def sealed_block_left(date_width_twips: int) -> int:
    """Left indent of the centred 署名 and 成文日期 paragraphs of a sealed document (7.3.5.1): their
    common axis lies where a date of this width ends 右空四字, so the 署名 is centred on the date in
    any renderer, whatever the 署名's own width."""
    axis = TYPE_AREA_WIDTH_TWIPS - round(DATE_RIGHT_INDENT_CHARS * CHAR_PITCH_TWIPS) - date_width_twips / 2
    return max(0, round(2 * axis - TYPE_AREA_WIDTH_TWIPS))


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


# --- 联合行文 (7.2.4, 7.3.5.1–2) ----------------------------------------------------------------------

JOINT_PER_ROW = 3              # 署名 (and seals) side by side in a row, at most
SEAL_CLEARANCE_MM = 2.0        # choice: seals of one row, or of two rows, at least this far apart
MARK_SUFFIX_GAP_EM = 0.5       # choice: between the organs' names and 文件 in the 标志
# Choice: a joint 标志 of more organs than this is set smaller, to this many 48 pt lines' height,
# so that the first page still shows body text (GB/T 9704: 首页必须显示正文).
JOINT_MARK_MAX_LINES = 3


def joint_columns(name_widths: list[int], date_width: int, diameter_mm: float) -> list[int]:
    """Centres (twips from the 版心's left edge) of the columns the organs' 署名 stand in — as many as
    fit, at most JOINT_PER_ROW; rows of that many: the last column over the 成文日期, which ends 右空四字 (7.3.5.1); columns a seal's
    width plus SEAL_CLEARANCE_MM apart (seals must not touch), and wider if a 署名 is; the whole row
    moved right when it would start left of the 版心 (each row of seals stays within it)."""
    seal = mm_to_twips(diameter_mm)
    half = max(seal, max(name_widths)) / 2
    step = max(seal + mm_to_twips(SEAL_CLEARANCE_MM), max(name_widths) + chars(1))
    # As many a row as fit the 版心 (long names: fewer), at most JOINT_PER_ROW.
    k = max(1, min(JOINT_PER_ROW, len(name_widths), int((TYPE_AREA_WIDTH_TWIPS - 2 * half) // step) + 1))
    axis = TYPE_AREA_WIDTH_TWIPS - chars(DATE_RIGHT_INDENT_CHARS) - date_width / 2
    axis = max(axis, half + (k - 1) * step)
    axis = min(axis, TYPE_AREA_WIDTH_TWIPS - half)
    return [round(axis - (k - 1 - j) * step) for j in range(k)]


def joint_row_gap_lines(diameter_mm: float) -> int:
    """Blank lines between two rows of 署名, so that the seals over them do not touch."""
    return math.ceil(mm_to_twips(diameter_mm + SEAL_CLEARANCE_MM) / LINE_PITCH_TWIPS) - 1


# --- title lines (7.3.1): 梯形 or 菱形, broken between words ------------------------------------------

# Breaking: only between words (rjieba, a Rust port of jieba, segments the title); best after these
# (the organ, 关于, the verb before its object …) or before these (关于, a book-title mark, the
# closing "的通知"). Inside 《》（）〔〕“” or a word a break is a last resort.
_GOOD_AFTER = ("关于", "印发", "转发", "批转", "做好", "加强", "开展", "推进", "进一步", "建立", "实施",
               "同意", "设立", "请求", "解决", "、", "，", "》", "）", "期间", "年度", "人民政府",
               "办公室", "委员会", "领导小组", "和", "与", "及")
_GOOD_BEFORE = ("关于", "《", "（", "的通知", "的意见", "的报告", "的请示", "的批复", "的函", "的决定",
                "的通报", "的纪要", "的实施方案", "的办法", "的规定")
_OPENERS, _CLOSERS = "《（〔“‘(", "》）〕”’)"
_NO_LINE_START = "，。、；：？！》）〕”’,.;:?!)"


def _em(text: str) -> float:
    return text_width_twips(text, 1.0, 0) / TWIPS_PER_PT


def _word_starts(text: str) -> set[int]:
    import rjieba   # imported here: only titles need the dictionary (0.1 s to load)

    starts, pos = set(), 0
    for word in rjieba.cut(text):
        starts.add(pos)
        pos += len(word)
    return starts


def _break_cost(text: str, i: int, words: set[int]) -> float | None:
    """Cost of breaking ``text`` before index ``i``; None where a break is not allowed at all."""
    before, after = text[:i], text[i:]
    if after[0] in _NO_LINE_START or before[-1] in _OPENERS:
        return None
    if before[-1].isascii() and before[-1].isalnum() and after[0].isascii() and after[0].isalnum():
        return None
    depth = sum(ch in _OPENERS for ch in before) - sum(ch in _CLOSERS for ch in before)
    cost = 0.0 if (before.endswith(_GOOD_AFTER) or after.startswith(_GOOD_BEFORE)) else 1.5
    if after.startswith("的") and not after.startswith(_GOOD_BEFORE):
        cost = 3.0
    if i not in words:
        cost += 12.0
    if depth > 0:
        cost += 8.0
    return cost


def _shape_cost(widths: list[float]) -> float:
    """梯形 (lines growing or shrinking) or 菱形 (up then down) is fine, a zigzag is not; within a
    shape, lines of similar length are better."""
    k = len(widths)
    if k == 1:
        return 0.0
    peak = widths.index(max(widths))
    unimodal = all(widths[j] <= widths[j + 1] + 0.5 for j in range(peak)) and \
        all(widths[j] >= widths[j + 1] - 0.5 for j in range(peak, k - 1))
    mean = sum(widths) / k
    spread = sum((w - mean) ** 2 for w in widths) / k
    return (0.0 if unimodal else 20.0) + 0.1 * spread


def title_lines(title: str, max_em: float = TITLE_MAX_CHARS) -> list[str]:
    """Break a title into centred lines of at most ``max_em`` 2号 characters (7.3.1): as few lines
    as possible (one more only when it avoids a bad break), never a line of one character, a
    梯形/菱形 outline, breaks between words."""
    title = title.strip()
    if _em(title) <= max_em:
        return [title]
    n = len(title)
    words = _word_starts(title)
    best: tuple[float, list[str]] | None = None
    min_lines = int(-(-_em(title) // max_em))

    def search(k: int, start: int, left: int, acc: list[int], cost: float) -> None:
        nonlocal best
        if left == 1:
            rest = title[start:]
            if _em(rest) > max_em or len(rest) < 2:
                return
            lines = [title[a:b] for a, b in zip([0] + acc, acc + [n])]
            total = cost + _shape_cost([_em(x) for x in lines]) + 6.0 * (k - min_lines)
            if best is None or total < best[0]:
                best = (total, lines)
            return
        for i in range(start + 2, n - 2 * (left - 1) + 1):
            if _em(title[start:i]) > max_em:
                break
            c = _break_cost(title, i, words)
            if c is not None and (best is None or cost + c < best[0]):
                search(k, i, left - 1, acc + [i], cost + c)

    for k in range(min_lines, min(min_lines + 1, 8) + 1):
        search(k, 0, k, [], 0.0)
    if best is None:   # nothing satisfies the rules (e.g. a run of Latin letters): fill greedily
        lines, cur = [], ""
        for ch in title:
            if _em(cur + ch) > max_em:
                lines.append(cur)
                cur = ""
            cur += ch
        if len(cur) == 1 and lines:
            lines[-1], cur = lines[-1][:-1], lines[-1][-1] + cur
        return lines + [cur]
    return best[1]


# --- the end of the body and the signature block on the page (7.3.5.5) ------------------------------

# A page the text flows on from holds LINES_PER_PAGE lines, less at most this many (widow/orphan
# control, a heading kept with its paragraph).
FILL_SLACK_LINES = 2
# The signature block takes at most the body's last two lines with it onto its page.
CARRY_MAX_LINES = 2
# Choice: the page the block must share may be set tighter, by at most a quarter of the line pitch
# (28.95 → 21.7 pt for 16 pt type, still 1.36 times the type size, a usual leading for body text);
# up to 12 % (three more lines on a full page) is preferred to carrying body lines along.
# Characters keep their pitch: 28 a line.
MIN_PITCH_TWIPS = round(LINE_PITCH_TWIPS * 0.75)
PREFERRED_PITCH_TWIPS = round(LINE_PITCH_TWIPS * 0.88)
TYPE_AREA_HEIGHT_TWIPS = mm_to_twips(TYPE_AREA_HEIGHT_MM)


@dataclass(frozen=True)
class Shortfall:
    """What a converted PDF shows when the 署名/成文日期 block does not sit well, for choosing the
    next layout (render.next_layout).

    ``kind``: "alone" (nothing of the body above the block on its page), "annex" (only the 附件说明
    above it: legal, but a page without body text reads as a stray signature), "short" (the page before
    the block lacks more than FILL_SLACK_LINES lines, its text having gone along with the block),
    "split" (署名 and date on two pages), "seal" (no room for the seal under the block).
    ``lines``: the printed lines (whitespace removed, top to bottom) of the page that must hold
    more — the page before the block's, or for "seal" the block's own page above the block;
    ``tops``: where each of those lines' slot begins, in twips below the 版心 top; ``fill``: the
    line slots (at the standard pitch) in use on that page. ``end``: twips from the 版心 top of the
    block's page to the bottom of the date's slot — what must move up onto the page before, for
    "seal" what its page holds. ``deficit``: twips more room needed below the block ("seal")."""

    kind: str
    lines: tuple[str, ...]
    tops: tuple[int, ...]
    fill: float
    end: int
    deficit: int = 0
