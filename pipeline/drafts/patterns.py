"""Text patterns of a 公文 draft, shared by the readers (to find elements) and rules.py (to judge them).

The readers recognise *loose* forms (a date with leading zeros, a 文号 with [ ] brackets, a heading
written "1、") so that the element is found and rules.py can then say exactly what is wrong with it.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, replace

from ..cntext import _CN_VAL, _cn_number, squeeze, to_halfwidth_digits  # noqa: F401 (re-exported)

# --- characters ------------------------------------------------------------------------------------
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RE = re.compile(f"[{CJK}]")
# Full-width punctuation that may sit next to a half-width mark in Chinese text.
CJK_PUNCT = "，。、；：？！“”‘’（）《》〈〉【】〔〕「」『』—…·％"

CN_DIGITS = "〇零一二三四五六七八九○Ｏ"
CN_NUMERAL = "一二三四五六七八九十百"


def is_cjk(ch: str) -> bool:
    return bool(ch) and bool(CJK_RE.match(ch))


# Invisible characters pasted from web pages and chat tools: zero-width space/joiners, word joiner,
# BOM, soft hyphen. They print as nothing but break comparisons (a 主送 with one is another 主送).
ZERO_WIDTH_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def clean_line(s: str) -> str:
    """One paragraph's text with layout whitespace removed: NBSP/ideographic spaces trimmed at the
    ends, runs of spaces inside collapsed (Word users align with spaces and tabs)."""
    s = unicodedata.normalize("NFC", s).replace("\u00a0", " ").replace("\t", " ")
    s = ZERO_WIDTH_RE.sub("", s)
    s = re.sub(r"[ \u3000]{2,}", "  ", s)
    return s.strip(" \u3000\r\n")


# --- 文种 ------------------------------------------------------------------------------------------
# A draft's stage written after its title: 「……的意见（征求意见稿）」. It names the 文种 all the same, but
# must not be printed on the issued document.
DRAFT_MARKER_RE = re.compile(r"[（(](?:征求意见稿|送审稿|讨论稿|代拟稿|草稿|修改稿|修订稿|初稿|审议稿|报批稿|草案|试行稿|定稿)[）)]$")


def kind_from_title(title: str | None, kinds: tuple[str, ...]) -> str | None:
    """The 文种 a title ends with (标题 = 发文机关 + 事由 + 文种, 条例 art. 9(7)); the longest match
    wins so that 复函 is not taken for 函 only when the list knows 复函."""
    if not title:
        return None
    t = DRAFT_MARKER_RE.sub("", squeeze(title).rstrip("。"))
    for k in sorted(kinds, key=len, reverse=True):
        if t.endswith(k):
            return k
    if t.endswith("复函"):
        return "函" if "函" in kinds else None
    return None


# --- dates (GB/T 9704 7.3.5.4: 2015年3月20日) --------------------------------------------------------
_Y = f"[0-9０-９XxＸｘ×{CN_DIGITS}]{{2,4}}"
_MD = f"[0-9０-９XxＸｘ×{CN_DIGITS}十]{{1,3}}"
# A line that is only a date, in any of the forms people type (so that it is found as the 成文日期).
DATE_LOOSE_RE = re.compile(rf"^\s*(?P<y>{_Y})\s*年\s*(?P<m>{_MD})\s*月\s*(?P<d>{_MD})\s*日\s*$")
DATE_EXACT_RE = re.compile(r"^(?P<y>[12]\d{3})年(?P<m>[1-9]|1[0-2])月(?P<d>[1-9]|[12]\d|3[01])日$")
ISO_DATE_RE = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\s*$")



def parse_exact_date(text: str | None) -> dt.date | None:
    """The date when ``text`` is exactly in 2015年3月20日 form and a real day; else None."""
    if not text:
        return None
    m = DATE_EXACT_RE.match(text.strip())
    if not m:
        return None
    try:
        return dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        return None


def date_suggestion(text: str) -> tuple[dt.date | None, str]:
    """Read a date written in another form (leading zeros, full-width or Chinese digits, ISO).

    Returns (date or None, what is wrong in Chinese). date is None when no real day can be read
    (e.g. 2月30日) or it holds placeholders."""
    s = squeeze(text)
    iso = ISO_DATE_RE.match(s)
    if iso:
        y, m, d = (int(g) for g in iso.groups())
        what = "不能用“-”“/”“.”分隔年月日"
    else:
        lm = DATE_LOOSE_RE.match(s)
        if not lm:
            return None, "不是“年月日”形式"
        ys, ms, ds = lm["y"], lm["m"], lm["d"]
        if re.search("[XxＸｘ×]", ys + ms + ds):
            return None, "含有占位符"
        ys, ms, ds = (to_halfwidth_digits(v) for v in (ys, ms, ds))
        if all(c in _CN_VAL for c in ys) and not ys.isdigit():
            y = int("".join(str(_CN_VAL[c]) for c in ys))
            cn_m, cn_d = _cn_number(ms), _cn_number(ds)
            what = "应使用阿拉伯数字，不用汉字数字"
            if cn_m is None or cn_d is None:
                return None, what
            m, d = cn_m, cn_d
        elif ys.isdigit() and ms.isdigit() and ds.isdigit():
            y, m, d = int(ys), int(ms), int(ds)
            notes = []
            if len(ys) != 4:
                notes.append("年份应写全四位")
            if (len(ms) > 1 and ms.startswith("0")) or (len(ds) > 1 and ds.startswith("0")):
                notes.append("月、日前不加“0”")
            if text != s or to_halfwidth_digits(text) != text:
                notes.append("数字应为半角阿拉伯数字、中间不留空格")
            what = "，".join(notes) or "格式不规范"
            if len(ys) != 4:
                return None, what
        else:
            return None, "应使用阿拉伯数字"
    try:
        return dt.date(y, m, d), what
    except ValueError:
        return None, f"{y}年{m}月{d}日不是真实存在的日期"


# --- 发文字号 (GB/T 9704 7.2.5; standards.md §1.12) --------------------------------------------------
NUMBER_EXACT_RE = re.compile(r"^(?P<code>[\u4e00-\u9fa5A-Za-z]*)〔(?P<year>(?:19|20)\d{2})〕(?P<seq>[1-9]\d*)号$")
# What people type: any bracket pair, 第, leading zeros, spaces, placeholders.
NUMBER_LOOSE_RE = re.compile(
    r"^(?P<code>[\u4e00-\u9fa5A-Za-zＡ-Ｚ]{0,14})\s*(?P<open>[〔\[【(（［{｛〖])\s*"
    r"(?P<year>[0-9０-９XxＸ×]{2,4})\s*(?P<close>[〕\]】)）］}｝〗])\s*(?P<di>第?)\s*"
    r"(?P<seq>[0-9０-９XxＸ×]+)\s*号$")
# A 文号 somewhere inside a sentence (kept intact by the punctuation normaliser).
NUMBER_IN_TEXT_RE = re.compile(r"[\u4e00-\u9fa5A-Za-z]{0,14}[〔\[【(（]\s*\d{4}\s*[〕\]】)）]\s*第?\s*\d+\s*号")

# --- headings (GB/T 9704 7.3.3: 一、 （一） 1. （1）) ------------------------------------------------
# Loose forms are recognised so the level is right; rules.py reports and normalises the variant.
HEADING_RES: tuple[tuple[str, re.Pattern], ...] = (
    ("heading1", re.compile(rf"^(?P<num>[{CN_NUMERAL}]+)\s*(?P<sep>[、．.])\s*")),
    # ㈠…㈩ and ⑴…⒇ are single characters some input methods offer for （一） and （1）
    ("heading2", re.compile(rf"^(?:(?P<open>[（(])\s*(?P<num>[{CN_NUMERAL}]+)\s*(?P<close>[）)])|(?P<enc>[㈠-㈩]))\s*")),
    # "1.5亿元" is not a heading; "1.2015年工作回顾" is.
    ("heading3", re.compile(r"^(?P<num>[0-9０-９]{1,2})\s*(?P<sep>[.．、])(?!(?![0-9]{4}年)[0-9０-９])\s*")),
    ("heading4", re.compile(r"^(?:(?P<open>[（(])\s*(?P<num>[0-9０-９]{1,2})\s*(?P<close>[）)])|(?P<enc>[⑴-⒇]))\s*")),
)
CANONICAL_PREFIX = {"heading1": "{n}、", "heading2": "（{n}）", "heading3": "{n}.", "heading4": "（{n}）"}
_SENTENCE_END = re.compile("[。；！？;!?]")
HEADING_MAX_CHARS = 60
HEADING_MAX_SENTENCE = 20


def heading_prefix(text: str) -> tuple[str, re.Match] | None:
    """(level, match) when ``text`` starts with a heading number of any level."""
    for level, rx in HEADING_RES:
        m = rx.match(text)
        if m:
            if level == "heading1" and m["sep"] == "." and not is_cjk(text[m.end():m.end() + 1]):
                continue
            return level, m
    return None


def heading_number(m: re.Match) -> int | None:
    """The value of a heading number matched by HEADING_RES (一 → 1, 12 → 12, ㈢ → 3, ⑿ → 12)."""
    enc = m.groupdict().get("enc")
    if enc:
        return ord(enc) - (0x3220 if "㈠" <= enc <= "㈩" else 0x2474) + 1
    return cn_numeral_value(to_halfwidth_digits(m["num"]))


def heading_level(text: str) -> str | None:
    """The heading level of a paragraph written as a heading: a numbered line that is short and
    holds no sentence inside. A numbered line that runs on into sentences (「（一）人员编制。区政府…」)
    is a body paragraph that starts with a run-in heading."""
    hit = heading_prefix(text)
    if not hit:
        return None
    level, m = hit
    rest = text[m.end():]
    if not rest or len(text) > HEADING_MAX_CHARS or _SENTENCE_END.search(rest[:-1]):
        return None
    # A heading may end with 。 (1.加强组织领导。) but a long line ending so is a sentence.
    if _SENTENCE_END.match(rest[-1]) and len(rest) > HEADING_MAX_SENTENCE:
        return None
    return level


def cn_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九 (heading numbers)."""
    d = "零一二三四五六七八九"
    if n < 10:
        return d[n]
    if n < 20:
        return "十" + (d[n - 10] if n > 10 else "")
    if n < 100:
        return d[n // 10] + "十" + (d[n % 10] if n % 10 else "")
    return str(n)


def cn_numeral_value(s: str) -> int | None:
    s = s.strip()
    if s.isdigit():
        return int(s)
    return _cn_number(s)


def number_heading(level: str, n: int) -> str:
    num = cn_numeral(n) if level in ("heading1", "heading2") else str(n)
    return CANONICAL_PREFIX[level].format(n=num)


# --- 附件 ------------------------------------------------------------------------------------------
# 附件说明's first line: 附件：XXX or 附件：1.XXX
ATTACH_NOTE_RE = re.compile(r"^附\s*件\s*[：:]\s*(?P<rest>.*)$")
# An entry of a numbered 附件说明: 1.XXX (also 1．/1、/1 for the rule to report)
ATTACH_ENTRY_RE = re.compile(
    r"^(?P<num>[0-9０-９]{1,2})(?:\s*(?P<sep>[.．、,，:：])|\s+)\s*(?P<name>\S.*)$")
# The first line of an attachment's own page: 附件 / 附件1 / 附件 1 / 附件1：
ATTACH_HEAD_RE = re.compile(r"^附\s*件\s*(?P<num>[0-9０-９]{0,2}|[一二三四五六七八九十]{0,3})\s*[：:]?$")
# "附件1：名称" — an attachment page whose title is on the label's line (only after the 成文日期), or a
# 附件说明 entry typed as a label (before the 署名).
ATTACH_HEAD_TITLE_RE = re.compile(r"^附\s*件\s*(?P<num>[0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})\s*[：:．.、]\s*(?P<title>\S.{0,99})$")



@dataclass(frozen=True)
class NoteEntry:
    """One entry of a 附件说明 as written: its number (None if unnumbered), the mark after the
    number (``.`` is right; ``、`` ``．`` … are variants), and the name."""

    number: int | None
    sep: str
    name: str


def parse_attachment_note(lines, first_has_label: bool = True) -> list[NoteEntry]:
    """附件说明 lines → entries; a line that does not start with a number continues the name above
    (a long name wraps onto the next line)."""
    entries: list[NoteEntry] = []
    for i, line in enumerate(lines):
        t = clean_line(line)
        if i == 0 and first_has_label:
            m = ATTACH_NOTE_RE.match(t)
            if m:
                t = m["rest"].strip()
            if not t:
                continue
        em = ATTACH_ENTRY_RE.match(t)
        if em:
            entries.append(NoteEntry(int(to_halfwidth_digits(em["num"])), em["sep"] or "", em["name"].strip()))
        elif entries:
            entries[-1] = replace(entries[-1], name=entries[-1].name + t)
        else:
            entries.append(NoteEntry(None, "", t))
    return entries


# --- 版头 / 版记 lines -------------------------------------------------------------------------------
COPY_NO_RE = re.compile(r"^[0-9０-９]{6}$")
SECRECY_RE = re.compile(r"^(?P<level>绝密|机密|秘密)(?P<rest>\s*[★☆\*].{0,10})?$")
URGENCY_RE = re.compile(r"^(特急|加急|特提|平急)$")
SIGNER_RE = re.compile(r"^签\s*发\s*人\s*[：:]\s*(?P<names>.*)$")
NUMBER_LINE_RE = re.compile(r"^(?:发文字号|文\s*号)\s*[：:]\s*(?P<number>.+)$")
CC_RE = re.compile(r"^抄\s*送\s*(?:机关)?\s*[：:]\s*(?P<rest>.*)$")
MAIN_TO_BANJI_RE = re.compile(r"^主\s*送\s*(?:机\s*关)?\s*[：:]\s*(?P<rest>.*)$")
PRINT_RE = re.compile(rf"^(?P<printer>.*?)\s*(?P<date>{_Y}\s*年\s*{_MD}\s*月\s*{_MD}\s*日)\s*印\s*发$")
NOTE_RE = re.compile(r"^[（(](?P<text>.+)[）)]$")
# A 附注 typed without its brackets on the line after the date: contact person, or 此件…
NOTE_PLAIN_RE = re.compile(r"^(?:联\s*系\s*人|联\s*系\s*电\s*话|此件)\S.{0,80}$")
# A 纪要's labelled lines as typed at the end of a Word draft: 出席：…, 请假：…, 列席：…, 记录：…
MEETING_LINE_RE = re.compile(r"^(?P<label>出\s*席|请\s*假|缺\s*席|列\s*席|记\s*录|主\s*持)(?:人员|领导|人|单位)?\s*[：:]\s*(?P<value>\S.*)$")
MEETING_LABELS = {"出席": "present", "请假": "absent", "缺席": "absent", "列席": "attending", "记录": "recorder",
                  "主持": "chair"}

# --- lines of one paragraph (soft returns, Markdown line breaks) ------------------------------------
_LINE_FINAL = ("。", "！", "？", "；", "：", ":", ";", "!", "?", "…")
_CLAUSE = re.compile("[，。；：、,;:！？!?]")
# A line this long that does not end a sentence is wrapped text (a 28-character line pasted from a
# PDF, an 80-column Markdown line); shorter lines are title lines, 署名, labels.
WRAPPED_LINE_MIN = 20


def starts_element(line: str) -> bool:
    """The line begins an element of its own: a numbered heading, a 附件/附件说明 line, a date, a
    bracketed 附注, a 版记 or 签发人 label."""
    s = squeeze(line)
    return bool(heading_prefix(line.strip()) or ATTACH_NOTE_RE.match(s) or ATTACH_HEAD_RE.match(s)
                or ATTACH_HEAD_TITLE_RE.match(s) or DATE_LOOSE_RE.match(s) or ISO_DATE_RE.match(s)
                or NOTE_RE.match(line.strip()) or CC_RE.match(s) or MAIN_TO_BANJI_RE.match(s)
                or SIGNER_RE.match(s) or PRINT_RE.match(line.strip()))


def _plain_short(line: str) -> bool:
    return len(line) <= 25 and not _CLAUSE.search(line)


def _continues(prev: str, line: str, sentence_breaks: bool) -> bool:
    """``line`` carries on the sentence of ``prev`` (the two were split by a soft line break)."""
    if len(prev) < WRAPPED_LINE_MIN or starts_element(line) or heading_level(prev.strip()):
        return False
    if line.endswith(("：", ":")) and len(line) <= 80:       # a 主送 line
        return False
    if prev.endswith(_LINE_FINAL):
        # Word users end a paragraph with Shift+Enter as often as with Enter; in Markdown a line
        # break inside a paragraph is a space, unless what follows is a short line of its own (署名).
        return not sentence_breaks and not _plain_short(line) and not prev.endswith(("：", ":"))
    return True


def join_lines(a: str, b: str) -> str:
    """Join two pieces of one sentence: no space between Chinese text, one between Latin words."""
    if a and b and not (is_cjk(a[-1]) or is_cjk(b[0]) or a[-1] in CJK_PUNCT or b[0] in CJK_PUNCT):
        return a + " " + b
    return a + b


def group_lines(lines: list[str], *, sentence_breaks: bool) -> list[str]:
    """The lines of one paragraph, split by soft line breaks, regrouped into what the author meant:
    a line break that wraps a sentence is joined; one before a line that starts an element (a
    heading number, 附件, a date, a 附注, 抄送 …), after a short line (a title line, a 署名) or after
    a colon starts a new line. ``sentence_breaks``: a break after a full stop also starts a new
    paragraph (Word's Shift+Enter); in Markdown it does not."""
    out: list[str] = []
    prev = ""
    for line in lines:
        line = line.strip(" \u3000")
        if not line:
            continue
        if out and _continues(prev, line, sentence_breaks):
            out[-1] = join_lines(out[-1], line)
        else:
            out.append(line)
        prev = line
    return out


# Words an organ's name ends with, for telling a 署名 from a short sentence.
ORGAN_SUFFIXES = ("政府", "办公室", "委员会", "人大常委会", "局", "委", "办", "部", "厅", "院", "中心",
                  "小组", "组", "会", "处", "科", "所", "队", "站", "公司", "街道", "镇", "乡", "分局")
NAME_SPLIT_RE = re.compile(r"[、，,；;\n]+")


_PERSON_RE = re.compile(f"^[{CJK}·]{{2,5}}(?:[（(][^）)]*[）)])?$")


def split_names(value: str, *, spaces: bool = False) -> tuple[str, ...]:
    """Names in a list written as one string: 陈礼洋、彭建元 → (陈礼洋, 彭建元). ``spaces``: a list of
    people, where names separated only by spaces (陈礼洋 彭建元, 陈礼洋　彭建元) are separate names too
    — but only when every piece looks like a person's name."""
    names = [n for n in (x.strip(" \u3000。") for x in NAME_SPLIT_RE.split(value)) if n]
    if spaces:
        out = []
        for n in names:
            pieces = re.split(r"[\s\u3000]+", n)
            out += pieces if len(pieces) > 1 and all(_PERSON_RE.match(x) for x in pieces) else [n]
        names = out
    return tuple(names)


# --- text read from a received document (收文: a PDF's text layer, OCR) -------------------------------
# A 发文字号 whose brackets OCR misread (〔〕 came out as 【】, [], () …) with the spacing OCR puts
# between characters; repaired to 〔〕 (recipes-next.md §1: 〔〕 survived in none of 17 OCR runs).
OCR_NUMBER_RE = re.compile(
    r"(?P<code>[\u4e00-\u9fa5]{2,10})\s*[\[【(（〔<〈{［｛〖]\s*(?P<year>(?:19|20)\d{2})\s*"
    r"[\]】)）〕>〉}］｝〗]\s*第?\s*(?P<seq>\d{1,5})\s*号")
# A line that is only a page number (GB/T 9704 7.5 "— 1 —", or as OCR reads it: "一2", "- 3 -").
PAGE_NUMBER_LINE_RE = re.compile(r"^[\s\-—－–一_~～]*[0-9０-９]{1,4}[\s\-—－–一_~～]*$")
# The 密级 mark at the top of page 1 (GB/T 9704 7.2.2), also behind a 份号 on the same line and with
# the ★ as OCR may read it; for refusing classified documents, so deliberately broad.
CLASSIFIED_MARK_RE = re.compile(r"^(?:[0-9０-９]{6})?(?P<level>绝密|机密|秘密)(?:[★☆\*＊·•].{0,12})?$")
_ASCII_PUNCT_CJK = str.maketrans({",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"})


def repair_numbers(text: str) -> str:
    """Every 发文字号 in ``text`` written with 〔〕, as GB/T 9704 7.2.5 prints it."""
    return OCR_NUMBER_RE.sub(lambda m: f"{m['code']}〔{m['year']}〕{int(m['seq'])}号", text)


def number_key(text: str | None) -> str | None:
    """A 发文字号 reduced to what identifies it (code, year, sequence number), whatever the brackets,
    spaces, 第 or leading zeros; None when ``text`` is no 发文字号."""
    if not text:
        return None
    m = NUMBER_LOOSE_RE.match(squeeze(unicodedata.normalize("NFKC", text)))
    if not m or not m["year"].isdigit() or not m["seq"].isdigit():
        return None
    return f"{m['code']}〔{m['year']}〕{int(m['seq'])}号"


def clean_extracted_line(line: str) -> str:
    """A line of text extracted from a PDF or read by OCR, as it was printed: spaces that the
    extractor put beside Chinese characters removed (「2015 年 3 月」, 「人民 政府」), half-width
    punctuation between Chinese characters made full-width again (OCR's NFKC output), invisible
    characters dropped. Spaces between Latin words and digits stay."""
    s = ZERO_WIDTH_RE.sub("", unicodedata.normalize("NFC", line)).replace("\u00a0", " ").replace("\u3000", " ")
    s = s.strip()
    out: list[str] = []
    for i, ch in enumerate(s):
        if ch == " ":
            prev = out[-1] if out else ""
            nxt = next((c for c in s[i + 1:] if c != " "), "")
            if not prev or not nxt or is_cjk(prev) or is_cjk(nxt) or prev in CJK_PUNCT or nxt in CJK_PUNCT \
                    or prev == " ":
                continue
        out.append(ch)
    s = "".join(out)
    # a half-width mark with Chinese on its left is Chinese punctuation read as ASCII
    return "".join(ch.translate(_ASCII_PUNCT_CJK) if i and (is_cjk(s[i - 1]) or s[i - 1] in CJK_PUNCT)
                   and ch in ",:;?!()" else ch for i, ch in enumerate(s))
