"""Review a draft against GB/T 9704-2012 and the 条例: every problem at once, each a Chinese sentence
naming the element and what to do, plus the draft with safe normalisations applied.

Errors mean the draft is sent back; warnings are printed with the document but do not stop it.
Safe normalisations (half-width punctuation between Chinese characters, a heading number written
"1、", punctuation after an attachment name …) are applied and reported as warnings; anything not
certainly safe is only reported.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import overload

from .config import KINDS, Config
from .drafts import patterns as P
from .model import Block, Decision, Draft, Problem, cn_date
from .numbers import parse_number

# 文种 that are addressed to no one in particular (no 主送机关): 纪要 records a meeting; 公告/通告
# are published; 命令/决议/公报 are proclaimed. Every other 文种 the office uses needs a 主送.
KINDS_WITHOUT_MAIN_TO = frozenset({"纪要", "公告", "通告", "公报", "决议", "命令", "令"})
# 条例 art. 9(3): ordinary documents are 特急 or 加急 (特提/平急 are for telegrams only).
URGENCIES = ("特急", "加急")
PUBLICITIES = ("主动公开", "依申请公开", "不予公开")
RETENTIONS = ("Y", "D30", "D10", "永久", "30年", "10年", "定期30年", "定期10年")
CLASSIFIED = ("绝密", "机密", "秘密")
NOT_CLASSIFIED = ("非密", "公开", "无", "不涉密", "普通")
CLASSIFIED_REFUSAL = "涉密公文不得在非涉密系统处理"

# Placeholders a template or a hurried author leaves behind. Each occurrence is reported.
PLACEHOLDER_RE = re.compile(
    r"(?<![0-9A-Za-z])[0-9]{2,3}[XxＸｘ×]{1,2}(?![0-9A-Za-z])"       # 202X, 20XX
    r"|(?<![A-Za-z])[XxＸｘ×]{2,}(?![A-Za-z])"                      # XX, xxx, ××
    r"|(?<![A-Za-z0-9])[XxＸｘ×](?=[年月日号期件个名项条次份元人位])"   # X月X日, X号
    # ○○, ○月 — but ○ after a Chinese numeral is a zero (一九八○年, 二○○八年)
    r"|(?<![〇零一二三四五六七八九十○◯])(?:[○◯]{2,}|[○◯](?=[年月日号]))"
    r"|某某|[□■]{2,}|＊{2,}|\*{3,}"
    r"|(?i:\bTODO\b|\bTBD\b|\bFIXME\b)"
    r"|待定|待补充|待填写|待填|此处填写|请填写"
    r"|\{\{[^{}]*\}\}|\{%[^{}]*%\}")
# Names used in every example form. A real 张三 is possible, so this is a warning only.
SAMPLE_NAMES = ("张三", "李四", "王五", "赵六")
# Pictographs and emoji. ★ (密级), ✓/✔/✗/✘ (tick marks in tables) and ☎ are ordinary symbols.
EMOJI_RE = re.compile("[\U0001F000-\U0001FAFF\u2300-\u23FF\u2600-\u27BF\u2B50\u2B55\uFE0F]")
EMOJI_OK = set("★☆✓✔✗✘☎")

# Characters a draft cannot carry into the archive as they are (decided as an archivist would):
# - C0/C1 control characters other than tab and line breaks, and DEL (BEL, BS, ESC … pasted from a
#   terminal or a web form), and the invisible bidi marks LRM, RLM, ALM: they print as nothing and
#   mean nothing in Chinese text, but would be stored in 题名 and compared ever after — taken out,
#   with a warning naming the element;
# - bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): the text displays in
#   another order than it is stored (U+202E turns the rest of a title around), so nobody could say
#   which reading was approved — the draft is sent back.
CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
BIDI_MARK_RE = re.compile("[\u200e\u200f\u061c]")
BIDI_CONTROL_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")
# The longest title taken. GB/T 9704 sets no limit; a title is read at a glance (2 号 on a 156 mm 版心
# is ~20 characters a line) and the longest real ones, 转发 chains, stay near 100 characters. 200 never
# refuses a real title and refuses a pasted page; the year-end check uses the same figure for 题名.
MAX_TITLE_CHARS = 200

# The longest body (正文 and the attachments' own text) a document can be made from. GB/T 9704 sets no
# length; this is a limit of making one: LibreOffice's time grows with the length (about 40 s for
# 100,000 characters on the 2-core reference machine, against converter.timeout_s = 90 s per try, and a
# relayout can convert up to four times). 100,000 characters is about 160 pages of 22 lines × 28
# characters — far beyond any 公文 (a 规划 issued with its 通知 is tens of thousands) — and far below what
# the reader accepts (8 MB of text is some 2.6 million). A longer draft is sent back before numbering.
MAX_BODY_CHARS = 100_000
CHARS_PER_PAGE = 22 * 28   # GB/T 9704 版心: 22 lines of 28 characters

REQUEST_VERBS = re.compile("请示|恳请|请予|请批准|请审批|妥否|请批复|请核准")
SECOND_MATTER = re.compile("另外请示|同时请示|一并请示|另请示|并请示|另外.{0,6}恳请|此外.{0,6}恳请")


# --- walking the draft's texts ---------------------------------------------------------------------
def _block_texts(blocks: tuple[Block, ...], element: str) -> Iterator[tuple[str, str, str]]:
    n = 0
    for b in blocks:
        if b.kind == "table":
            for r, row in enumerate(b.rows, 1):
                for c, cell in enumerate(row, 1):
                    if cell:
                        yield element, f"表格第{r}行第{c}列", cell
        else:
            n += 1
            yield element, f"第{n}段", b.text


def _texts(d: Draft) -> Iterator[tuple[str, str, str]]:
    """(element, where, text) for every text of the draft, for checks that read."""
    simple = (("发文机关", d.issuer), ("标题", d.title), ("主送机关", d.main_to), ("发文机关署名", d.signature),
              ("成文日期", d.date_text), ("抄送机关", d.cc), ("附注", d.note), ("印发机关", d.printer),
              ("印发日期", d.print_date_text), ("发文字号", d.number_text), ("拟稿部门", d.drafter_unit),
              ("拟稿人", d.drafter), ("密级", d.secrecy))
    for element, text in simple:
        if text:
            yield element, "", text
    for s in d.signers:
        yield "签发人", "", s
    yield from _block_texts(d.body, "正文")
    for a in d.attachments:
        label = f"附件{a.number}" if a.number else "附件"
        if a.name:
            yield "附件说明", "", a.name
        if a.title:
            yield label, "标题", a.title
        yield from _block_texts(a.blocks, label)
    m = d.meeting
    if m:
        for label, text in (("会议名称", m.name), ("期号", m.issue), ("时间", m.time), ("地点", m.place),
                            ("主持", m.chair), ("记录", m.recorder), ("导语", m.lead)):
            if text:
                yield label, "", text
        for label, names in (("出席", m.present), ("请假", m.absent), ("列席", m.attending)):
            for name in names:
                yield label, "", name
        for i, dec in enumerate(m.decisions, 1):
            yield "议定事项", f"第{i}项", dec.text
            if dec.owner:
                yield "议定事项", f"第{i}项责任单位", dec.owner


def _map_prose(d: Draft, fn: Callable[[str, str, str], str]) -> Draft:
    """Apply ``fn(element, where, text)`` to the draft's prose (not to dates, numbers or names)."""
    @overload
    def f(element: str, where: str, text: str) -> str: ...
    @overload
    def f(element: str, where: str, text: str | None) -> str | None: ...
    def f(element: str, where: str, text: str | None) -> str | None:
        return fn(element, where, text) if text else text

    def blocks(bs: tuple[Block, ...], element: str) -> tuple[Block, ...]:
        out, n = [], 0
        for b in bs:
            if b.kind == "table":
                rows = tuple(tuple(f(element, f"表格第{r}行第{c}列", cell) for c, cell in enumerate(row, 1))
                             for r, row in enumerate(b.rows, 1))
                out.append(replace(b, rows=rows))
            else:
                n += 1
                out.append(replace(b, text=f(element, f"第{n}段", b.text)))
        return tuple(out)

    atts = tuple(replace(a, name=f("附件说明", "", a.name),
                         title=f(f"附件{a.number}" if a.number else "附件", "标题", a.title),
                         blocks=blocks(a.blocks, f"附件{a.number}" if a.number else "附件"))
                 for a in d.attachments)
    meeting = d.meeting
    if meeting:
        meeting = replace(meeting, name=f("会议名称", "", meeting.name), lead=f("导语", "", meeting.lead),
                          place=f("地点", "", meeting.place),
                          decisions=tuple(Decision(f("议定事项", f"第{i}项", x.text), f("议定事项", f"第{i}项责任单位", x.owner))
                                          for i, x in enumerate(meeting.decisions, 1)))
    return replace(d, title=f("标题", "", d.title), main_to=f("主送机关", "", d.main_to),
                   body=blocks(d.body, "正文"), attachments=atts, note=f("附注", "", d.note),
                   cc=f("抄送机关", "", d.cc), meeting=meeting)


# --- invisible characters --------------------------------------------------------------------------
# Draft fields by their element's name, for notes about any text in the draft.
_FIELD_LABELS = {
    "kind": "文种", "series": "机关代字", "issuer": "发文机关", "title": "标题", "main_to": "主送机关", "body": "正文",
    "attachments": "附件", "attachment_note": "附件说明", "signature": "发文机关署名", "date_text": "成文日期",
    "signers": "签发人", "cc": "抄送机关", "note": "附注", "secrecy": "密级", "urgency": "紧急程度",
    "publicity": "公开属性", "printer": "印发机关", "print_date_text": "印发日期", "retention": "保管期限",
    "number_text": "发文字号", "drafter_unit": "拟稿部门", "drafter": "拟稿人", "meeting": "会议",
}
_NOT_TEXT = ("source", "source_format", "origins", "read_problems")


def _map_all_text(d: Draft, fn: Callable[[str, str, str], str]) -> Draft:
    """Apply ``fn(element, where, text)`` to every text of the draft, whatever field holds it (a
    paragraph of the body or of an attachment is "第N段")."""
    def walk(value, element: str, where: str):
        if isinstance(value, str):
            return fn(element, where, value)
        if isinstance(value, tuple):
            return tuple(walk(v, element, f"第{i}段" if element in ("正文", "附件") and
                              dataclasses.is_dataclass(v) and hasattr(v, "text") else where)
                         for i, v in enumerate(value, 1))
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return replace(value, **{f.name: walk(getattr(value, f.name), element, where)
                                     for f in dataclasses.fields(value)})
        return value

    return replace(d, **{f.name: walk(getattr(d, f.name), _FIELD_LABELS.get(f.name, f.name), "")
                         for f in dataclasses.fields(d) if f.name not in _NOT_TEXT})


def _codes(chars) -> str:
    return "、".join(f"U+{ord(c):04X}" for c in dict.fromkeys(chars))


def _normalise_invisible(d: Draft) -> tuple[Draft, list[Problem]]:
    """Take out control characters and bidi marks, one warning per element and place (CONTROL_RE)."""
    found: dict[tuple[str, str], dict[str, list[str]]] = {}

    def fn(element: str, where: str, text: str) -> str:
        for kind, rx in (("控制字符", CONTROL_RE), ("文字方向标记", BIDI_MARK_RE)):
            hits = rx.findall(text)
            if hits:
                found.setdefault((element, where), {}).setdefault(kind, []).extend(hits)
                text = rx.sub("", text)
        return text

    d = _map_all_text(d, fn)
    problems = [Problem(element, f"{where}含有不可见的{kind}（{_codes(chars)}），已删去", "warning")
                for (element, where), kinds in found.items() for kind, chars in kinds.items()]
    return d, problems


def _check_bidi(d: Draft, config: Config) -> list[Problem]:
    out: list[Problem] = []

    def fn(element: str, where: str, text: str) -> str:
        hits = BIDI_CONTROL_RE.findall(text)
        if hits:
            out.append(Problem(element, f"{where}含有改变文字显示顺序的双向控制字符（{_codes(hits)}）："
                                        "显示出来的文字与实际存储的不同，请删去后重新提交"))
        return text

    _map_all_text(d, fn)
    return out


def _check_title_length(d: Draft, config: Config) -> list[Problem]:
    if d.title and len(d.title) > MAX_TITLE_CHARS:
        return [Problem("标题", f"标题过长（{len(d.title)} 字，上限 {MAX_TITLE_CHARS} 字），请精简")]
    return []


# --- half-width punctuation ------------------------------------------------------------------------
_PROTECT_RE = re.compile(r"(?:https?|ftp)://\S+|www\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|"
                         + P.NUMBER_IN_TEXT_RE.pattern)
_FULL = {",": "，", ".": "。", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"}
_OPENERS = "“‘（《〈【〔「『"
_CLOSERS = "”’）》〉】〕」』"


def _cjkish(ch: str | None) -> bool:
    return ch is not None and (P.is_cjk(ch) or ch in P.CJK_PUNCT)


def _fix_once(text: str) -> tuple[str, int, list[str]]:
    """One left-to-right pass of fix_punctuation."""
    protected = [False] * len(text)
    for m in _PROTECT_RE.finditer(text):
        for k in range(m.start(), m.end()):
            protected[k] = True
    chars = list(text)
    original = list(text)
    changed = 0
    unsure: list[str] = []

    def neighbour(i: int, step: int) -> tuple[int, str | None]:
        # Looking back, read what is already converted (so the result does not depend on how
        # many times the text went through here); looking ahead, the original.
        src = chars if step < 0 else original
        j = i + step
        while 0 <= j < len(text) and src[j] in ("", " ", "\u3000"):
            j += step
        return j, (src[j] if 0 <= j < len(text) else None)

    def convert(i: int) -> None:
        nonlocal changed
        chars[i] = _FULL[text[i]]
        changed += 1
        # Spaces between a full-width mark and Chinese text are wrong in Chinese typesetting.
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(text) and text[j] == " ":
                j += step
            if j != i + step and (0 <= j < len(text)) and _cjkish(text[j]):
                for k in range(min(i + step, j - step), max(i + step, j - step) + 1):
                    chars[k] = ""

    def snippet(i: int) -> str:
        return text[max(0, i - 6): i + 7]

    # Straight double quotes, taken in pairs: Chinese quotation marks when they enclose Chinese text
    # or stand between Chinese characters (“互联网+政务服务”); an English quotation stays.
    quotes = [i for i, ch in enumerate(text) if ch == '"' and not protected[i]]
    if quotes and len(quotes) % 2 == 0:
        for i, j in zip(quotes[::2], quotes[1::2]):
            _, prev = neighbour(i, -1)
            _, after = neighbour(j, 1)
            if P.CJK_RE.search(text[i + 1: j]) or _cjkish(prev) or _cjkish(after):
                chars[i], chars[j] = "“", "”"
                changed += 2
    elif quotes:
        unsure.extend(snippet(i) for i in quotes[:1] if _cjkish(neighbour(i, -1)[1]) or _cjkish(neighbour(i, 1)[1]))

    pairs: dict[int, int] = {}
    stack: list[int] = []
    for i, ch in enumerate(text):
        if protected[i]:
            continue
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            pairs[stack.pop()] = i
    closed = set(pairs.values())

    for i, ch in enumerate(text):
        if protected[i] or ch not in _FULL:
            continue
        pi, prev = neighbour(i, -1)
        ni, nxt = neighbour(i, 1)
        if ch == "(" and i in pairs:
            j = pairs[i]
            inner = text[i + 1: j]
            ai, after = neighbour(j, 1)
            if after in _FULL and after not in "()":
                # 「接口(API).」: a mark after the bracket that ends the sentence counts as Chinese
                # when what follows it is Chinese or nothing
                _, beyond = neighbour(ai, 1)
                after_ok, after_cjk = beyond is None or _cjkish(beyond), _cjkish(beyond)
            else:
                after_ok, after_cjk = after is None or _cjkish(after), _cjkish(after)
            # Chinese on at least one side: "():" or "(a)." alone is not Chinese text.
            outer_ok = (prev is None or _cjkish(prev)) and after_ok and (_cjkish(prev) or after_cjk)
            if P.CJK_RE.search(inner) or outer_ok:
                convert(i)
                convert(j)
            elif _cjkish(prev) or _cjkish(after):
                unsure.append(snippet(i))
            continue
        if ch == ")" and i in closed:
            continue
        if ch in "()":
            if _cjkish(prev) or _cjkish(nxt):
                unsure.append(snippet(i))
            continue
        if ch == "." and prev is not None and prev.isdigit() and pi == i - 1:
            continue    # 1.5 / a heading number 1. / 3.要素 — never a sentence end
        prev_c = prev is not None and _cjkish(prev) and prev not in _OPENERS
        next_c = nxt is None or (_cjkish(nxt) and nxt not in _CLOSERS)
        if ch in ",;:":
            # 以来,2015年 / 增长3%,其中 / 附件1:关于 — Chinese on one side, a number on the other
            safe = (prev_c and (next_c or (nxt is not None and nxt.isdigit()))) or \
                (prev is not None and (prev.isdigit() or prev == "%") and nxt is not None
                 and P.is_cjk(nxt))
        elif ch == ".":
            safe = prev_c and (nxt is None or (_cjkish(nxt) and nxt not in _CLOSERS) or nxt in _CLOSERS)
        else:  # ? !
            safe = prev_c
        if safe:
            convert(i)
        elif _cjkish(prev) or _cjkish(nxt):
            unsure.append(snippet(i))
    return "".join(chars), changed, unsure


def fix_punctuation(text: str) -> tuple[str, int, list[str]]:
    """Half-width , . : ; ? ! ( ) in Chinese text → full-width where certainly safe.

    Safe means: the mark sits between Chinese characters (or a Chinese character and the end of the
    text; for , ; : also before a digit), never inside a number (1.5, 17:00), a URL, an e-mail
    address, a 文号 or an English phrase; parentheses are converted as a pair when they enclose
    Chinese text or sit between Chinese characters. Returns (text, number changed, snippets of marks
    left alone that touch Chinese text — for the author to check).

    One mark's conversion can make its neighbour's context Chinese (一?: → 一？:), so passes repeat
    until nothing changes; each pass only turns half-width into full-width, so this ends."""
    total = 0
    while True:
        text, n, unsure = _fix_once(text)
        total += n
        if n == 0:
            return text, total, unsure


def _normalise_punctuation(d: Draft) -> tuple[Draft, list[Problem]]:
    changed: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    unsure: list[tuple[str, str, str]] = []

    def fn(element: str, where: str, text: str) -> str:
        new, n, left = fix_punctuation(text)
        if n:
            changed.setdefault(element, []).append(where)
            counts[element] = counts.get(element, 0) + n
        unsure.extend((element, where, s) for s in left)
        return new

    d = _map_prose(d, fn)
    problems = []
    for element, wheres in changed.items():
        where = [w for w in wheres if w]
        loc = f"（{'、'.join(where[:5])}{'等' if len(where) > 5 else ''}）" if where else ""
        problems.append(Problem(element, f"中文里的半角标点已改为全角{loc}，共 {counts[element]} 处，请核对", "warning"))
    for element, at, s in unsure[:8]:
        problems.append(Problem(element, f"{at}「{s}」中的半角标点紧挨中文，未自动修改，请确认是否应为全角标点", "warning"))
    if len(unsure) > 8:
        problems.append(Problem("正文", f"另有 {len(unsure) - 8} 处紧挨中文的半角标点未自动修改，请通篇核对", "warning"))
    return d, problems


# --- other safe normalisations -----------------------------------------------------------------------
def _normalise_headings(d: Draft) -> tuple[Draft, list[Problem]]:
    """Heading numbers written 1、 1． 一. (一) → the GB/T 9704 7.3.3 forms 一、 （一） 1. （1）."""
    seen: list[str] = []

    def fix_blocks(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
        out = []
        for b in blocks:
            hit = P.heading_prefix(b.text) if b.kind != "table" else None
            if hit and (b.kind.startswith("heading") or b.kind == "paragraph"):
                level, m = hit
                value = P.heading_number(m)
                if m["num"]:
                    num = P.to_halfwidth_digits(m["num"])
                elif value is not None:   # an enclosed number (㈢ ⑿): its value
                    num = P.number_heading(level, value)[1:-1]
                else:
                    out.append(b)
                    continue
                canon = P.CANONICAL_PREFIX[level].format(n=num)
                written = b.text[: m.end()]
                if written != canon:
                    if written.rstrip() != canon:
                        seen.append(written.strip())
                    b = replace(b, text=canon + b.text[m.end():])
            out.append(b)
        return tuple(out)

    d = replace(d, body=fix_blocks(d.body),
                attachments=tuple(replace(a, blocks=fix_blocks(a.blocks)) for a in d.attachments))
    if not seen:
        return d, []
    sample = "」「".join(dict.fromkeys(seen[:4]))
    return d, [Problem("正文", f"结构层次序数「{sample}」不规范，已改为“一、”“（一）”“1.”“（1）”的写法（共 {len(seen)} 处）", "warning")]


_TRAILING = "。；;，,.、：:"


def _normalise_elements(d: Draft) -> tuple[Draft, list[Problem]]:
    problems = []
    if d.title and d.title[-1] in _TRAILING + "！？!?":
        problems.append(Problem("标题", f"标题末尾不加标点，已删去「{d.title[-1]}」", "warning"))
        d = replace(d, title=d.title.rstrip(_TRAILING + "！？!? "))
    if d.main_to and d.main_to[-1] in "：:":
        d = replace(d, main_to=d.main_to.rstrip("：: "))
    if d.cc:
        cc = re.sub(r"^抄\s*送\s*[：:]\s*", "", d.cc).rstrip("。.，,、； ")
        if cc != d.cc:
            d = replace(d, cc=cc)
    if d.note:
        m = P.NOTE_RE.match(d.note)
        if m:
            d = replace(d, note=m["text"].strip())
    if d.number_text and P.squeeze(d.number_text) != d.number_text:
        # The register reads a 发文字号 strictly (numbers.parse_number): no spaces in it.
        if P.squeeze(d.number_text) != d.number_text.strip():
            problems.append(Problem("发文字号", f"发文字号「{d.number_text}」中的空格已删去", "warning"))
        d = replace(d, number_text=P.squeeze(d.number_text))
    if d.secrecy and d.secrecy.strip() in NOT_CLASSIFIED:
        problems.append(Problem("密级", f"「{d.secrecy}」不是密级；非涉密公文不标注密级，已忽略", "warning"))
        d = replace(d, secrecy=None)
    # 附件说明: the mark after the number is "."; no punctuation after a name (GB/T 9704 7.3.2).
    fixed_sep, fixed_end = [], []
    atts = []
    for a in d.attachments:
        name = a.name
        if name and name[-1] in _TRAILING:
            fixed_end.append(name)
            name = name.rstrip(_TRAILING + " ")
        atts.append(replace(a, name=name))
    listed = [a for a in atts if a.name]
    if len(listed) == 1 and listed[0].number is not None:
        problems.append(Problem("附件说明", "只有一个附件时不编序号，已改为“附件：名称”", "warning"))
        atts = [replace(a, number=None) if a is listed[0] else a for a in atts]
    lines = []
    note = d.attachment_note
    for i, line in enumerate(note):
        label = ""
        body = line
        if i == 0:
            m = P.ATTACH_NOTE_RE.match(line)
            if m:
                label, body = "附件：", m["rest"]
        em = P.ATTACH_ENTRY_RE.match(body.strip())
        if em and em["sep"] != ".":
            fixed_sep.append(body.strip()[: len(em["num"]) + len(em["sep"] or " ")])
            body = f"{em['num']}.{em['name']}"
        if len(listed) == 1 and em:
            body = em["name"]
        # A long name wraps onto the next line; only the line that ends an entry loses its punctuation.
        ends_entry = i == len(note) - 1 or P.ATTACH_ENTRY_RE.match(note[i + 1].strip()) is not None
        if ends_entry:
            body = body.rstrip(_TRAILING + " ")
        lines.append(label + body)
    if fixed_sep:
        problems.append(Problem("附件说明", f"附件序号后应使用“.”，「{'」「'.join(fixed_sep[:3])}」已改正", "warning"))
    if fixed_end:
        problems.append(Problem("附件说明", f"附件名称后不加标点符号，已删去（「{fixed_end[0]}」等 {len(fixed_end)} 处）", "warning"))
    return replace(d, attachments=tuple(atts), attachment_note=tuple(lines)), problems


# --- checks ------------------------------------------------------------------------------------------
def _check_classified(d: Draft, config: Config) -> list[Problem]:
    if not d.secrecy:
        return []
    m = P.SECRECY_RE.match(P.squeeze(d.secrecy))
    if not m:
        return [Problem("密级", f"密级「{d.secrecy}」无法识别：只能是绝密、机密或秘密（可加保密期限，如“秘密★1年”）")]
    if not config.security.classified_approved:
        return [Problem("密级", f"{CLASSIFIED_REFUSAL}：此稿标注「{d.secrecy}」，本系统未经批准处理涉密信息，请停止在本系统流转，按涉密公文管理规定办理")]
    out = []
    if m["rest"] and not re.fullmatch(r"★\d+年|★长期", m["rest"].strip()):
        out.append(Problem("密级", f"密级和保密期限「{d.secrecy}」的写法不规范，应如“秘密★1年”（期限用阿拉伯数字）"))
    if not d.copies:
        out.append(Problem("份数", "涉密公文应当标注份号，请写明印制份数"))
    return out


def _check_kind_series(d: Draft, config: Config) -> list[Problem]:
    out = []
    if not d.kind:
        out.append(Problem("文种", "无法确定文种：请在标题末尾写明文种（如“关于……的通知”），或在元数据中写“文种: 通知”"))
    elif d.kind not in KINDS:
        out.append(Problem("文种", f"「{d.kind}」不是《党政机关公文处理工作条例》规定的文种，请改为 {'、'.join(KINDS)} 之一"))
    if not d.series:
        routes = "、".join(f"{r.folder}/" for r in config.intake.routes)
        out.append(Problem("机关代字", f"无法确定以哪个机关代字发文：请把草稿放入对应的收件夹（{routes}），或在元数据中写明“机关代字”（可用：{'、'.join(config.series)}）"))
    elif d.series not in config.series:
        out.append(Problem("机关代字", f"机关代字「{d.series}」不在本机关的配置中，可用：{'、'.join(config.series)}"))
    elif d.kind in KINDS and d.kind not in config.series[d.series].kinds:
        kinds = "、".join(config.series[d.series].kinds)
        others = [c for c, s in config.series.items() if d.kind in s.kinds]
        hint = f"；「{d.kind}」可用 {'、'.join(others)} 发文" if others else ""
        out.append(Problem("文种", f"「{d.series}」不发「{d.kind}」（只发 {kinds}）{hint}，请改放到正确的收件夹或更正文种"))
    return out


def _check_required(d: Draft, config: Config) -> list[Problem]:
    out = []
    minutes = d.kind == "纪要"
    if not d.title and not minutes:
        out.append(Problem("标题", "缺少标题：请在正文前写标题（由发文机关、事由和文种组成，如“珠晖区人民政府关于……的通知”）"))
    if not d.main_to and d.kind not in KINDS_WITHOUT_MAIN_TO:
        out.append(Problem("主送机关", "缺少主送机关：请在标题下一行写主送机关，以全角冒号结尾（如“各镇人民政府、街道办事处，区政府各部门：”）"))
    has_body = any(b.kind == "table" or b.text.strip() for b in d.body)
    if minutes:
        has_body = has_body or bool(d.meeting and (d.meeting.decisions or d.meeting.lead))
    if not has_body:
        what = "议定事项或正文" if minutes else "正文"
        out.append(Problem("正文", f"缺少{what}，请补充"))
    if not d.date_text:
        out.append(Problem("成文日期", "缺少成文日期：请在署名下一行写成文日期，用阿拉伯数字写全年月日（如“2015年3月20日”）"))
    if not d.signature and not minutes:
        issuer = config.series[d.series].issuer if d.series in config.series else "发文机关名称"
        out.append(Problem("发文机关署名", f"缺少发文机关署名：请在正文（或附件说明）之后、成文日期上一行写“{issuer}”"))
    return out


def _check_signature(d: Draft, config: Config) -> list[Problem]:
    if not d.signature or d.series not in config.series:
        return []
    series = config.series[d.series]
    if P.squeeze(d.signature) != P.squeeze(series.issuer):
        seal = "印章须与署名相符，" if series.sealed else ""
        return [Problem("发文机关署名", f"署名「{d.signature}」与发文机关「{series.issuer}」（{d.series}）不一致：{seal}请改为「{series.issuer}」，或放入正确的收件夹")]
    return []


def _check_co_issuers(d: Draft, config: Config) -> list[Problem]:
    """联合行文 (GB/T 9704 7.2.4, 7.3.5): every other organ is one the office issues with (its seal and
    name come from the config), named once, not the 主办机关 itself; the 文件格式 carries several
    organs in its 版头 and 署名 (信函 and 纪要 are not set jointly here)."""
    if not d.co_issuers:
        return []
    out = []
    series = config.series.get(d.series or "")
    main = series.issuer if series else None
    known = "、".join(config.co_issuers) or "（未配置）"
    for name in dict.fromkeys(d.co_issuers):
        if main and P.squeeze(name) == P.squeeze(main):
            out.append(Problem("联合发文机关", f"「{name}」是本件的主办机关，不必再列为联合发文机关"))
        elif name not in config.co_issuers:
            out.append(Problem("联合发文机关", f"「{name}」不在配置的联合行文机关（co_issuers）中：可联合行文的机关有 {known}；"
                                          "请核对名称，或请管理员在配置中添加该机关及其印章"))
    repeated = [n for n, c in Counter(d.co_issuers).items() if c > 1]
    if repeated:
        out.append(Problem("联合发文机关", f"联合发文机关「{'、'.join(repeated)}」重复列出"))
    if series and series.format != "文件":
        out.append(Problem("联合发文机关", f"{d.series}（{series.format}格式）不能联合行文：联合行文请使用文件格式的发文系列"))
    return out


def _check_title(d: Draft, config: Config) -> list[Problem]:
    """The title must end with the 文种 (标题 = 发文机关 + 事由 + 文种, 条例 art. 9(7)). An error and not
    a warning: the 文种 decides the template, the 上行文 rules and the 保管期限, so a title that names
    another 文种 (or none) is a draft at odds with itself."""
    if not d.title or not d.kind or d.kind not in KINDS:
        return []
    marker = P.DRAFT_MARKER_RE.search(P.squeeze(d.title))
    if marker:
        return [Problem("标题", f"标题末尾的「{marker.group(0)}」是草稿标记，印发的公文标题中应删去")]
    ends = P.kind_from_title(d.title, KINDS)
    if d.kind == "纪要":
        if ends not in (None, "纪要"):
            return [Problem("标题", f"纪要的标题以「{ends}」结尾，应以“纪要”结尾")]
        return []
    if ends is None:
        return [Problem("标题", f"标题应以文种结尾（标题由发文机关、事由和文种组成），请写成“关于……的{d.kind}”")]
    if ends != d.kind:
        return [Problem("标题", f"标题以「{ends}」结尾，但文种是「{d.kind}」：请统一标题和文种")]
    return []


def _check_upward(d: Draft, config: Config) -> list[Problem]:
    if not config.is_upward(d.kind):
        return []
    out = []
    if not d.signers:
        out.append(Problem("签发人", f"{d.kind}是上行文，必须标注签发人（条例第九条），请写明签发人姓名（如“签发人: 陈礼洋”）"))
    if d.kind == "请示":
        if d.main_to and len(P.split_names(d.main_to)) > 1:
            out.append(Problem("主送机关", f"请示一般只主送一个上级机关（现为「{d.main_to}」），需要其他机关知悉的请用抄送", "warning"))
        if not d.note or not re.search("联系人|电话", d.note):
            out.append(Problem("附注", "请示应在附注处注明联系人姓名和电话（写在成文日期下一行的括号内）", "warning"))
        out += _one_matter(d)
    return out


def _one_matter(d: Draft) -> list[Problem]:
    """请示 一文一事: several 一、 sections each asking for something, or a second request sentence."""
    sections: list[str] = []
    asking: list[bool] = []
    for b in d.body:
        if b.kind == "heading1":
            sections.append(b.text)
            asking.append(bool(REQUEST_VERBS.search(b.text)))
        elif sections and REQUEST_VERBS.search(b.text or ""):
            asking[-1] = True
    text = "".join(b.text for b in d.body)
    second = SECOND_MATTER.search(text)
    many = sum(asking) >= 2
    if second or many or len(re.findall("妥否", text)) > 1:
        why = f"出现“{second.group(0)}”" if second else "有多个部分分别提出请求"
        return [Problem("正文", f"请示应当一文一事，此稿{why}，似乎请示了不止一个事项，请拆分为多份请示", "warning")]
    return []


def _check_dates(d: Draft, config: Config) -> list[Problem]:
    out = []
    for element, text, parsed in (("成文日期", d.date_text, d.date), ("印发日期", d.print_date_text, d.print_date)):
        if not text or parsed is not None or PLACEHOLDER_RE.search(text):
            continue
        day, what = P.date_suggestion(text)
        if day:
            out.append(Problem(element, f"{element}「{text}」写法不规范（{what}），应写作「{cn_date(day)}」"))
        else:
            out.append(Problem(element, f"{element}「{text}」有误：{what}；应用阿拉伯数字写全年月日，如“2015年3月20日”"))
    if d.date and d.print_date and d.print_date < d.date:
        out.append(Problem("印发日期", f"印发日期「{d.print_date_text}」早于成文日期「{d.date_text}」，请核对"))
    if d.date and d.date.year > dt.date.today().year + 1:
        out.append(Problem("成文日期", f"成文日期「{d.date_text}」远在今后，请核对年份", "warning"))
    return out


def _check_number(d: Draft, config: Config) -> list[Problem]:
    """A 发文字号 typed in the draft: 机关代字〔2015〕3号 — 六角括号, no 第, no leading zeros (7.2.5).
    Valid means what the register accepts (numbers.parse_number: the series' printed or register
    form, the one `gongwen reserve` prints); anything else is explained from a loose reading."""
    text = d.number_text
    if not text or PLACEHOLDER_RE.search(text):
        return []
    s = P.squeeze(text)
    series = config.series.get(d.series) if d.series else None
    try:
        code, year, _ = parse_number(s, config)
    except ValueError:
        pass
    else:
        if series is not None and code != d.series:
            return [Problem("发文字号", f"发文字号「{text}」是「{code}」的文号，而本文按「{d.series}」发文："
                                        f"机关代字应为「{d.series}」，或把草稿放入「{code}」的收件夹")]
        if config.numbering.year_from == "成文日期" and d.date and d.date.year != year:
            return [Problem("发文字号", f"发文字号「{text}」的年份 {year} 与成文日期「{d.date_text}」的年份不一致")]
        return []
    loose = P.NUMBER_LOOSE_RE.match(s)
    if not loose:
        return [Problem("发文字号", f"发文字号「{text}」无法识别，应由机关代字、年份和序号组成，如“{d.series or '珠政发'}〔2015〕3号”")]
    wrong = []
    if loose["open"] != "〔" or loose["close"] != "〕":
        wrong.append(f"年份应用六角括号“〔〕”，不用“{loose['open']}{loose['close']}”")
    if loose["di"]:
        wrong.append("序号前不加“第”")
    seq = P.to_halfwidth_digits(loose["seq"])
    year_text = P.to_halfwidth_digits(loose["year"])
    if seq.startswith("0"):
        wrong.append("序号前不加“0”")
    if re.search("[０-９]", loose["year"] + loose["seq"]):
        wrong.append("数字应使用半角阿拉伯数字")
    if len(year_text) != 4:
        wrong.append("年份应写全四位")
    elif year_text.isdigit() and not 1900 <= int(year_text) <= 2099:
        wrong.append(f"年份 {year_text} 有误")
    code = loose["code"]
    if series and d.series and "{code}" in series.number and code != d.series:
        wrong.append(f"机关代字应为「{d.series}」")
    if not wrong:
        wrong.append("格式与本系列的发文字号不符")
    good_code = d.series if series and "{code}" in series.number else code
    fixed = f"{good_code}〔{year_text}〕{int(seq)}号" if seq.isdigit() and year_text.isdigit() else None
    tail = f"，应写作「{fixed}」" if fixed and fixed != s else ""
    return [Problem("发文字号", f"发文字号「{text}」不规范：{'；'.join(wrong)}{tail}")]


def _check_attachments(d: Draft, config: Config) -> list[Problem]:
    out = []
    listed = [a for a in d.attachments if a.name]
    unlisted = [a for a in d.attachments if not a.name]
    for a in unlisted:
        name = f"「{a.title}」" if a.title else (f"附件{a.number}" if a.number else "")
        if listed:
            out.append(Problem("附件说明", f"正文后附有附件{name}，但附件说明中没有列出，请补入附件说明并核对序号"))
        else:
            out.append(Problem("附件说明", f"正文后附有附件{name}，但缺少附件说明：请在正文下空一行写“附件：{a.title or '附件名称'}”（多个附件写“附件：1.……”）"))
    if len(listed) > 1:
        numbers = [a.number for a in listed]
        if any(n is None for n in numbers):
            out.append(Problem("附件说明", "有多个附件时应用阿拉伯数字标注序号，如“附件：1.……”另起一行“2.……”"))
        elif numbers != list(range(1, len(listed) + 1)):
            out.append(Problem("附件说明", f"附件序号应从 1 起连续编排，现为 {'、'.join(str(n) for n in numbers)}"))
    for a in listed:
        if a.title and P.squeeze(a.title) != P.squeeze(a.name):
            label = f"附件{a.number}" if a.number else "附件"
            out.append(Problem("附件说明", f"附件说明中的名称「{a.name}」与{label}页上的标题「{a.title}」不一致，二者应完全相同"))
    return out


def _check_placeholders(d: Draft, config: Config) -> list[Problem]:
    out = []
    for element, where, text in _texts(d):
        hits = list(PLACEHOLDER_RE.finditer(text))
        for k, m in enumerate(hits, 1):
            nth = f"第{k}处" if len(hits) > 1 else ""
            context = text if len(text) <= 30 else text[max(0, m.start() - 8): m.end() + 8]
            ctx = f"「{context}」中" if context != m.group(0) else ""
            loc = f"{where}" if where else ""
            out.append(Problem(element, f"{loc}{ctx}{nth}「{m.group(0)}」是占位内容，请填写实际内容"))
        for name in SAMPLE_NAMES:
            if name in text:
                out.append(Problem(element, f"{where}「{name}」像是示例人名，请确认是否为真实姓名", "warning"))
    return out


def _check_emoji(d: Draft, config: Config) -> list[Problem]:
    out = []
    for element, where, text in _texts(d):
        found = [c for c in EMOJI_RE.findall(text) if c not in EMOJI_OK and c != "\ufe0f"]
        if found:
            out.append(Problem(element, f"{where}含有表情符号「{''.join(dict.fromkeys(found))}」，公文中不得使用，请删除或改用文字"))
    return out


# Characters that OpenCC's traditional→simplified table maps although they are standard characters of
# the 通用规范汉字表 in their own right (显著, 宫商角徵羽, 夥 as in 夥颐).
_SIMPLIFIED_TOO = frozenset("著夥徵")


@functools.lru_cache(maxsize=1)
def _t2s():
    from opencc_purepy import OpenCC

    return OpenCC("t2s"), OpenCC("s2t")


@functools.lru_cache(maxsize=8192)
def _traditional(ch: str) -> str | None:
    """The simplified form of ``ch`` when it is a traditional-only character (辦 → 办), else None.
    A character is traditional when OpenCC simplifies it and turns the result back into it: this
    leaves out one-way mappings of standard characters."""
    if ch in _SIMPLIFIED_TOO or not P.is_cjk(ch):
        return None
    t2s, s2t = _t2s()
    s = t2s.convert(ch)
    return s if s != ch and len(s) == 1 and s2t.convert(s) == ch else None


def _check_traditional(d: Draft, config: Config) -> list[Problem]:
    """公文 use 规范汉字 (国家通用语言文字法 art. 9, 17): traditional characters pasted from another
    source are named with their simplified form. A warning, since a name may be written so on purpose."""
    out = []
    for element, where, text in _texts(d):
        found = dict.fromkeys(f"{c}→{s}" for c in text if (s := _traditional(c)))
        if found:
            shown = "」「".join(list(found)[:6])
            out.append(Problem(element, f"{where}含有繁体字「{shown}」{'等' if len(found) > 6 else ''}，公文应使用规范汉字，请核对改正", "warning"))
    return out


def _check_values(d: Draft, config: Config) -> list[Problem]:
    out = []
    if d.urgency and d.urgency not in URGENCIES:
        out.append(Problem("紧急程度", f"紧急程度「{d.urgency}」不规范：公文只标“特急”或“加急”，一般公文不标"))
    if d.publicity and d.publicity not in PUBLICITIES:
        out.append(Problem("公开属性", f"公开属性「{d.publicity}」不规范，应为 {'、'.join(PUBLICITIES)} 之一"))
    if d.retention and d.retention not in RETENTIONS:
        out.append(Problem("保管期限", f"保管期限「{d.retention}」不规范，应为 永久、30年、10年（或代码 Y、D30、D10）之一"))
    if d.printer and d.series in config.series and d.printer.endswith(("。", "：")):
        out.append(Problem("印发机关", f"印发机关「{d.printer}」末尾不加标点"))
    return out


def _check_cc(d: Draft, config: Config) -> list[Problem]:
    if not d.cc:
        return []
    out = []
    if re.search(r"[\u4e00-\u9fff]\s+[\u4e00-\u9fff]", d.cc):
        out.append(Problem("抄送机关", f"抄送机关「{d.cc}」之间应用顿号或逗号分隔，不用空格", "warning"))
    if d.main_to:
        mains = {P.squeeze(x) for x in P.split_names(d.main_to)}
        dup = [x for x in P.split_names(d.cc) if P.squeeze(x) in mains]
        if dup:
            out.append(Problem("抄送机关", f"「{'、'.join(dup)}」已是主送机关，不必再抄送", "warning"))
    return out


def _check_headings(d: Draft, config: Config) -> list[Problem]:
    """Heading numbers run 一、二、三 … within their parent (a gap is usually a deleted section)."""
    out = []

    def walk(blocks: tuple[Block, ...], element: str) -> None:
        last = [0, 0, 0, 0]
        prev_text = ["", "", "", ""]
        for b in blocks:
            # numbered paragraphs count too: 「（二）…。正文」 is a run-in heading of the same sequence
            if b.kind == "table":
                continue
            hit = P.heading_prefix(b.text)
            if not hit:
                continue
            level = b.kind if b.kind.startswith("heading") else hit[0]
            idx = int(level[-1]) - 1
            value = P.heading_number(hit[1])
            if value is None:
                continue
            if value != last[idx] + 1:
                before = f"上一个同级标题是「{prev_text[idx][:12]}」" if last[idx] else "同级的第一个标题应从“一”或“1”开始"
                out.append(Problem(element, f"标题「{b.text[:16]}」的序号不连续（{before}），请核对", "warning"))
            last[idx] = value
            prev_text[idx] = b.text
            for k in range(idx + 1, 4):
                last[k] = 0
                prev_text[k] = ""

    walk(d.body, "正文")
    for a in d.attachments:
        walk(a.blocks, f"附件{a.number}" if a.number else "附件")
    return out


def _check_meeting(d: Draft, config: Config) -> list[Problem]:
    if d.kind != "纪要":
        return []
    m = d.meeting
    if m is None:
        return [Problem("会议", "纪要应写明会议信息：会议名称、时间、地点、主持、出席、议定事项等（字段名见说明）")]
    out = []
    if not m.present:
        out.append(Problem("出席", "纪要应列出出席人员（“出席”），请补充"))
    for label, value in (("会议名称", m.name), ("时间", m.time), ("地点", m.place), ("主持", m.chair)):
        if not value:
            out.append(Problem(label, f"纪要未写{label}，请补充", "warning"))
    if m.issue and not re.fullmatch(r"第?[0-9]+期?", P.squeeze(m.issue)):
        out.append(Problem("期号", f"期号「{m.issue}」应为阿拉伯数字，如“7”"))
    return out


def _check_misc(d: Draft, config: Config) -> list[Problem]:
    out = []
    if any("此页无正文" in (b.text or "") for b in d.body):
        out.append(Problem("正文", "GB/T 9704-2012 不再使用“（此页无正文）”，版面不足时调整行距和字距即可，请删去", "warning"))
    return out


CHECKS: tuple[Callable[[Draft, Config], list[Problem]], ...] = (
    _check_classified, _check_kind_series, _check_required, _check_title, _check_signature, _check_co_issuers,
    _check_upward, _check_dates, _check_number, _check_attachments, _check_placeholders,
    _check_emoji, _check_traditional, _check_values, _check_cc, _check_headings, _check_meeting, _check_misc,
    _check_bidi, _check_title_length,
)


def body_chars(d: Draft) -> int:
    """Characters of the 正文 and of the attachments' own content (tables cell by cell)."""
    blocks = [*d.body, *(b for a in d.attachments for b in a.blocks)]
    return sum(len(b.text) + sum(len(c) for row in b.rows for c in row) for b in blocks)


def _check_length(d: Draft) -> list[Problem]:
    n = body_chars(d)
    if n <= MAX_BODY_CHARS:
        return []
    return [Problem("正文", f"正文（含附件）过长：约 {n:,} 字，排版后约 {n // CHARS_PER_PAGE:,} 页，"
                            f"超过一件公文可以办理的上限 {MAX_BODY_CHARS:,} 字（约 {MAX_BODY_CHARS // CHARS_PER_PAGE} 页），"
                            "无法生成正式文件；请精简正文，或把长篇材料拆成几件分别行文")]


def review(draft: Draft, config: Config) -> tuple[Draft, list[Problem]]:
    """All problems at once (the reader's problems first), plus the draft with safe
    normalisations applied. Errors mean: reject.

    A draft too long to be made into a document is answered with that alone: every other check on
    millions of characters would take long and list problems no one will fix in that form."""
    problems = list(draft.read_problems)
    too_long = _check_length(draft)
    if too_long:
        return draft, problems + too_long
    d = draft
    for step in (_normalise_invisible, _normalise_elements, _normalise_punctuation, _normalise_headings):
        d, found = step(d)
        problems += found
    for check in CHECKS:
        problems += check(d, config)
    return d, problems
