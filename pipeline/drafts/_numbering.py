"""Replay Word's automatic numbering (word/numbering.xml): the label ("一、", "（二）", "3.") each
numbered paragraph shows, so that a draft whose headings are a Word/WPS multilevel list keeps its
heading numbers — they are not in the paragraph's text.

Counters follow Word: one set per abstract list definition, shared by every list instance (w:num)
that uses it; a deeper level restarts when a shallower one advances; a list instance with a
startOverride restarts its level the first time it is used. Numbering can also come from a
paragraph style (a "标题 1" linked to a multilevel list).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import overload

from lxml import etree

from .patterns import cn_numeral, is_cjk

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = "{%s}" % W
NS = {"w": W}
MAX_LEVELS = 9

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_TIANGAN = "甲乙丙丁戊己庚辛壬癸"
_DIZHI = "子丑寅卯辰巳午未申酉戌亥"
_LEGAL = "零壹贰叁肆伍陆柒捌玖"


@dataclass(frozen=True)
class Level:
    start: int
    fmt: str          # w:numFmt (decimal, chineseCounting, bullet …)
    text: str         # w:lvlText ("%1、", "（%2）")
    suffix: str       # w:suff: tab | space | nothing
    legal: bool       # w:isLgl: show every level's number in decimal


@overload
def _val(el: etree._Element | None, default: str) -> str: ...
@overload
def _val(el: etree._Element | None, default: None = None) -> str | None: ...
def _val(el: etree._Element | None, default: str | None = None) -> str | None:
    return el.get(_W + "val", default) if el is not None else default


def _int(el: etree._Element | None, default: int) -> int:
    try:
        return int(_val(el, str(default)))
    except (TypeError, ValueError):
        return default


def _roman(n: int) -> str:
    out = ""
    for v, s in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                 (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= v:
            out, n = out + s, n - v
    return out


def format_number(n: int, fmt: str) -> str:
    """One level's number in Word's numFmt (the common ones; anything else as decimal)."""
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting", "taiwaneseCounting",
               "koreanCounting"):
        return cn_numeral(n)
    if fmt == "ideographDigital" or fmt == "taiwaneseDigital":
        return "".join("〇一二三四五六七八九"[int(c)] for c in str(n))
    if fmt in ("chineseLegalSimplified", "ideographLegalTraditional") and n < 10:
        return _LEGAL[n]
    if fmt == "ideographTraditional" and 1 <= n <= 10:
        return _TIANGAN[n - 1]
    if fmt == "ideographZodiac" and 1 <= n <= 12:
        return _DIZHI[n - 1]
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese") and 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    if fmt == "decimalEnclosedParen" and 1 <= n <= 20:
        return chr(0x2474 + n - 1)
    if fmt == "decimalEnclosedFullstop" and 1 <= n <= 20:
        return chr(0x2488 + n - 1)
    if fmt == "ideographEnclosedCircle" and 1 <= n <= 10:
        return chr(0x3280 + n - 1)
    if fmt in ("decimalFullWidth", "decimalFullWidth2"):
        return str(n).translate(_FULLWIDTH)
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt in ("upperLetter", "lowerLetter"):
        s = chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1)
        return s if fmt == "upperLetter" else s.lower()
    if fmt in ("upperRoman", "lowerRoman"):
        return _roman(n) if fmt == "upperRoman" else _roman(n).lower()
    return str(n)


def _levels(abstract: etree._Element) -> dict[int, Level]:
    out = {}
    for lvl in abstract.iterfind("w:lvl", NS):
        try:
            ilvl = int(lvl.get(_W + "ilvl", "0"))
        except ValueError:
            continue
        out[ilvl] = Level(start=_int(lvl.find("w:start", NS), 1), fmt=_val(lvl.find("w:numFmt", NS), "decimal"),
                          text=_val(lvl.find("w:lvlText", NS), "") or "", suffix=_val(lvl.find("w:suff", NS), "tab"),
                          legal=lvl.find("w:isLgl", NS) is not None and _val(lvl.find("w:isLgl", NS), "1") not in ("0", "false"))
    return out


class Numbering:
    """The labels of numbered paragraphs, in document order (owns the running counters)."""

    def __init__(self, numbering: etree._Element | None, styles: etree._Element | None):
        # Keyed by the w: ids as written; None where a (damaged) part leaves an id out.
        self._abstracts: dict[str | None, dict[int, Level]] = {}
        self._style_link: dict[str | None, str | None] = {}   # abstractNum with numStyleLink → style id
        self._nums: dict[str | None, tuple[str | None, dict[int, int], dict[int, Level]]] = {}
        self._style_num: dict[str | None, tuple[str | None, int | None]] = {}
        self._based_on: dict[str | None, str | None] = {}
        self._counters: dict[str, list[int | None]] = {}
        self._restarted: set[tuple[str, int]] = set()
        self.used = 0                                  # numbered paragraphs seen
        if numbering is not None:
            for a in numbering.iterfind("w:abstractNum", NS):
                aid = a.get(_W + "abstractNumId")
                self._abstracts[aid] = _levels(a)
                link = a.find("w:numStyleLink", NS)
                if link is not None:
                    self._style_link[aid] = _val(link)
            for n in numbering.iterfind("w:num", NS):
                starts, lvls = {}, {}
                for o in n.iterfind("w:lvlOverride", NS):
                    ilvl = int(o.get(_W + "ilvl", "0"))
                    if o.find("w:startOverride", NS) is not None:
                        starts[ilvl] = _int(o.find("w:startOverride", NS), 1)
                    lvl = o.find("w:lvl", NS)
                    if lvl is not None:
                        wrapper = etree.Element(_W + "abstractNum")
                        lvl_copy = etree.SubElement(wrapper, _W + "lvl", {_W + "ilvl": str(ilvl)})
                        lvl_copy.extend(list(lvl))
                        lvls.update(_levels(wrapper))
                self._nums[n.get(_W + "numId")] = (_val(n.find("w:abstractNumId", NS)), starts, lvls)
        if styles is not None:
            for st in styles.iterfind("w:style", NS):
                sid = st.get(_W + "styleId")
                based = st.find("w:basedOn", NS)
                if based is not None:
                    self._based_on[sid] = _val(based)
                num_pr = st.find("w:pPr/w:numPr", NS)
                if num_pr is not None:
                    self._style_num[sid] = (_val(num_pr.find("w:numId", NS)),
                                            _int(num_pr.find("w:ilvl", NS), 0) if num_pr.find("w:ilvl", NS) is not None else None)

    def _from_style(self, style: str | None) -> tuple[str | None, int | None]:
        seen = set()
        while style and style not in seen:
            seen.add(style)
            if style in self._style_num:
                return self._style_num[style]
            style = self._based_on.get(style)
        return None, None

    def _abstract_of(self, num_id: str) -> str | None:
        aid = self._nums[num_id][0]
        if aid in self._style_link:          # a list defined by a numbering style: follow it once
            linked, _ = self._from_style(self._style_link[aid])
            if linked in self._nums:
                aid = self._nums[linked][0]
        return aid if aid in self._abstracts else None

    def label(self, p: etree._Element) -> str | None:
        """The label Word shows before paragraph ``p`` ("" for a bullet), or None when it is not
        numbered. Advances the counters: call once per paragraph, in document order."""
        p_pr = p.find("w:pPr", NS)
        num_pr = p_pr.find("w:numPr", NS) if p_pr is not None else None
        style = _val(p_pr.find("w:pStyle", NS)) if p_pr is not None else None
        num_id, ilvl = None, None
        if num_pr is not None:
            num_id = _val(num_pr.find("w:numId", NS))
            if num_pr.find("w:ilvl", NS) is not None:
                ilvl = _int(num_pr.find("w:ilvl", NS), 0)
        if num_id is None or ilvl is None:
            s_num, s_lvl = self._from_style(style)
            num_id = num_id if num_id is not None else s_num
            ilvl = ilvl if ilvl is not None else (s_lvl or 0)
        if num_id in (None, "0") or num_id not in self._nums:
            return None
        aid = self._abstract_of(num_id)
        if aid is None:
            return None
        _, starts, lvl_over = self._nums[num_id]
        levels = {**self._abstracts[aid], **lvl_over}
        level = levels.get(ilvl)
        if level is None:
            return None
        self.used += 1
        counters = self._counters.setdefault(aid, [None] * MAX_LEVELS)
        if ilvl in starts and (num_id, ilvl) not in self._restarted:
            self._restarted.add((num_id, ilvl))
            counters[ilvl] = starts[ilvl] - 1
        current = counters[ilvl]
        counters[ilvl] = (current if current is not None else level.start - 1) + 1
        for deeper in range(ilvl + 1, MAX_LEVELS):
            counters[deeper] = None
        if level.fmt == "bullet":
            return ""
        if level.fmt == "none":
            # a level that shows no number (LibreOffice's outline levels): only its literal text
            literal = re.sub(r"%\d", "", level.text)
            return literal or None

        def number(k: int) -> str:
            lv = levels.get(k) or level
            value = counters[k]
            if value is None:
                value = lv.start
            return format_number(value, "decimal" if level.legal else lv.fmt)

        text = level.text
        for k in range(MAX_LEVELS, 0, -1):
            text = text.replace(f"%{k}", number(k - 1))
        if not text or level.suffix == "nothing" or not text[-1].isalnum():
            return text                       # 一、 （一） 1. carry their own separator
        return text + ("\u3000" if is_cjk(text[-1]) else " ")
