"""Small Chinese-text helpers with no dependencies beyond the standard library: full-width digits,
spaces, and the numerals of months and days. They live here (not in drafts.patterns, which
re-exports them) so that reading the config — whose 督办 时限 rules use them — does not load the
draft readers."""
from __future__ import annotations

import re


def to_halfwidth_digits(s: str) -> str:
    return s.translate({ord("０") + i: ord("0") + i for i in range(10)})


def squeeze(s: str) -> str:
    """Remove every space: for comparing names and matching patterns that ignore spacing."""
    return re.sub(r"[\s\u3000]+", "", s)


_CN_VAL = {c: i for i, c in enumerate("〇一二三四五六七八九")}
_CN_VAL.update({"零": 0, "○": 0, "Ｏ": 0})


def _cn_number(s: str) -> int | None:
    """二十一 → 21, 十 → 10, 三 → 3 (month/day numerals only)."""
    if not s or any(c not in _CN_VAL and c != "十" for c in s):
        return None
    if "十" in s:
        a, _, b = s.partition("十")
        tens = _CN_VAL.get(a, None) if a else 1
        ones = _CN_VAL.get(b, None) if b else 0
        if tens is None or ones is None:
            return None
        return tens * 10 + ones
    if len(s) == 1:
        return _CN_VAL[s]
    return None
