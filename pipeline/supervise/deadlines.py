"""办结时限: read a 时限 from an item's text (「4月1日起实施」「月底前」「15个工作日内」) or from a rule
written in the config or on the command line, and turn it into a date from the 交办日期.

Only phrases that say *when* are read: a bare date in a sentence ("听取了3月4日的汇报") is not a
时限; a date counts when it is followed by 前/之前/以前/起/为止/完成/办结/实施/施行/到位/上线. The
earliest such phrase in the text wins. Counting rules, each chosen once here:
- N个工作日: the N-th working day after the 交办日期 (that day not counted), holidays and 调休
  make-up days from ``pipeline.workdays``;
- N日/N天内: calendar days after the 交办日期; N个月: the same day N months later (the month's last
  day when it has no such day); N周: 7·N days;
- a date without a year: the 交办日期's year, or the next year when the date would fall before the
  交办日期 (「1月10日前」 assigned in December);
- 月底前: the 交办 month's last day; M月底: that month's; 年底前/年内: 31 December; 上半年: 30 June;
  第N季度: the quarter's last day.
A 时限 that falls on a holiday is not moved: the office's practice is to finish before it.
"""
from __future__ import annotations

import calendar as _cal
import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..cntext import _cn_number, squeeze, to_halfwidth_digits

if TYPE_CHECKING:
    from ..workdays import Calendar

Kind = Literal["workdays", "days", "months", "date", "month_end", "year_end", "quarter_end"]  # as resolved

_NUM = r"(\d{1,3}|[一二两三四五六七八九十]{1,3})"
_SUFFIX = r"(?:前|之前|以前|起|为止|完成|办结|实施|施行|到位|上线)"
# By the pattern's own kind (weeks, half_year … are resolved as one of the Kinds).
_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    ("workdays", re.compile(rf"{_NUM}个?工作日")),
    ("days", re.compile(rf"(?<![月年\d一二三四五六七八九十]){_NUM}(?:个)?(?:日|天|自然日)(?:内|之内|以内|$)")),
    ("months", re.compile(rf"{_NUM}个月")),
    ("weeks", re.compile(rf"{_NUM}(?:周|个星期|个礼拜)(?:内|之内|以内|$)")),
    ("date", re.compile(rf"(?:(\d{{4}})年)?(\d{{1,2}}|[一二三四五六七八九十]{{1,3}})月"
                        rf"(\d{{1,2}}|[一二三四五六七八九十]{{1,3}})[日号]{_SUFFIX}")),
    ("month_end", re.compile(r"(?:(\d{4})年)?(\d{1,2}|[一二三四五六七八九十]{1,3})月(?:底|末|份)")),
    ("this_month_end", re.compile(r"(?<![\d一二三四五六七八九十月])(?:本月|当月)?(?:月底|月末)")),
    ("year_end", re.compile(r"(\d{4})年?(?:年底|年末)|(?<![\d一二两三四五六七八九十])(?:年底|年末|年内|本年度内|年度内)")),
    ("half_year", re.compile(r"(?:(\d{4})年)?上半年")),
    ("quarter", re.compile(r"(?:(\d{4})年)?第?([一二三四1-4])季度")),
)
ISO_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
FULL_DATE_RE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")


@dataclass(frozen=True)
class Rule:
    """A 时限 as written and what it means. ``text`` is the phrase found ("15个工作日")."""

    kind: Kind
    text: str
    n: int = 0                        # workdays / days / months
    year: int | None = None           # date, month_end, year_end, quarter_end: a year written
    month: int = 0                    # date, month_end; quarter_end: the quarter's last month
    day: int = 0                      # date

    def resolve(self, assigned: dt.date, cal: "Calendar") -> tuple[dt.date, tuple[int, ...]]:
        """(the 时限 for an item assigned on ``assigned``, years counted Monday–Friday because no
        calendar covers them — non-empty means the date is provisional)."""
        if self.kind == "workdays":
            got = cal.add_workdays(assigned, self.n)
            return got.date, got.uncovered
        if self.kind == "days":
            return assigned + dt.timedelta(days=self.n), ()
        if self.kind == "months":
            return add_months(assigned, self.n), ()
        if self.kind == "year_end":
            return dt.date(self.year or assigned.year, 12, 31), ()
        if self.kind in ("month_end", "quarter_end"):
            year = self.year or assigned.year
            if self.year is None and self.month and self.month < assigned.month:
                year += 1
            month = self.month or assigned.month
            return dt.date(year, month, _cal.monthrange(year, month)[1]), ()
        # date
        year = self.year or assigned.year
        day = _safe_date(year, self.month, self.day)
        if self.year is None and day is not None and day < assigned:
            day = _safe_date(year + 1, self.month, self.day)
        if day is None:
            raise ValueError(f"{self.text} 不是有效日期")
        return day, ()


def _safe_date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def add_months(d: dt.date, n: int) -> dt.date:
    """The same day ``n`` months later (the month's last day when it has no such day)."""
    m = d.month - 1 + n
    y, m = d.year + m // 12, m % 12 + 1
    return dt.date(y, m, min(d.day, _cal.monthrange(y, m)[1]))


def _num(s: str) -> int | None:
    s = to_halfwidth_digits(s)
    if s.isdigit():
        return int(s)
    return _cn_number(s.replace("两", "二"))


_COUNTED: dict[str, Kind] = {"workdays": "workdays", "days": "days", "months": "months"}


def _rule(kind: str, m: re.Match) -> Rule | None:
    text = m.group(0)
    if kind in ("workdays", "days", "months", "weeks"):
        n = _num(m.group(1))
        if not n:
            return None
        if kind == "weeks":
            return Rule("days", text, n=7 * n)
        return Rule(_COUNTED[kind], text, n=n)
    year = next((int(g) for g in m.groups() if g and len(g) == 4 and g.isdigit()), None)
    if kind == "date":
        month, day = _num(m.group(2)), _num(m.group(3))
        if not month or not day or not 1 <= month <= 12 or _safe_date(year or 2000, month, day) is None:
            return None
        return Rule("date", text, year=year, month=month, day=day)
    if kind == "month_end":
        month = _num(m.group(2))
        if not month or not 1 <= month <= 12:
            return None
        return Rule("month_end", text, year=year, month=month)
    if kind == "this_month_end":
        return Rule("month_end", text)
    if kind == "year_end":
        return Rule("year_end", text, year=year)
    if kind == "half_year":
        return Rule("quarter_end", text, year=year, month=6)
    if kind == "quarter":
        q = _num(m.group(2))
        return Rule("quarter_end", text, year=year, month=3 * q) if q and 1 <= q <= 4 else None
    return None


def find_in_text(text: str | None) -> Rule | None:
    """The first 时限 phrase in an item's text, or None."""
    if not text:
        return None
    s = to_halfwidth_digits(squeeze(text))
    found: list[tuple[int, int, Rule]] = []
    for order, (kind, pat) in enumerate(_PATTERNS):
        for m in pat.finditer(s):
            r = _rule(kind, m)
            if r is not None:
                found.append((m.start(), order, r))
                break
    if not found:
        return None
    return min(found, key=lambda t: (t[0], t[1]))[2]


def parse_rule(text: str | None) -> Rule | None:
    """A 时限 as a person writes it in the config, a spreadsheet or on the command line: a date
    (2015年4月1日, 2015-04-01) or a phrase (15个工作日, 30日, 3个月, 月底前, 年底前). None when it
    says nothing readable."""
    if text is None:
        return None
    s = to_halfwidth_digits(squeeze(str(text)))
    if not s:
        return None
    for pat in (ISO_RE, FULL_DATE_RE):
        m = pat.match(s)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            if _safe_date(y, mo, d) is None:
                return None
            return Rule("date", s, year=y, month=mo, day=d)
    # A bare date written as a rule is a 时限 even without 前: 「4月1日」.
    m = re.fullmatch(r"(\d{1,2})月(\d{1,2})[日号]", s)
    if m and _safe_date(2000, int(m.group(1)), int(m.group(2))):
        return Rule("date", s, month=int(m.group(1)), day=int(m.group(2)))
    return find_in_text(s)
