"""China's working days: the official holidays and the 调休 make-up days, for counting 时限 such as
「15个工作日内」.

The years the State Council has published come from the maintained ``chinesecalendar`` package
(pinned; it raises NotImplementedError for any year it does not know). A year it does not know yet —
the package is released each November, after the next year's schedule is announced — can be given in
the config (``calendar: {2027: {holidays: […], workdays: […]}}``): the office copies the State
Council's notice there. An office entry wins over the package for its year (a late change, such as
the one-off holiday of 2015-09-03, is then a config edit, not a package upgrade).

When neither knows a year, nothing is guessed silently: ``add_workdays`` still answers, counting
Monday–Friday only, but says so (``WorkdayCount.provisional``) so that the caller marks the date as
provisional, recomputes it once the year is known, and ``gongwen doctor`` names what waits for it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from .config import Config

PACKAGE = "chinesecalendar"


@dataclass(frozen=True)
class WorkdayCount:
    """The result of counting working days: the date, and whether a year nobody covers was crossed
    (then Monday–Friday were counted for it, and ``uncovered`` names the years)."""

    date: dt.date
    uncovered: tuple[int, ...] = ()

    @property
    def provisional(self) -> bool:
        return bool(self.uncovered)


@lru_cache(maxsize=1)
def _package():
    import chinese_calendar

    years = sorted({d.year for d in chinese_calendar.holidays})
    try:
        from importlib.metadata import version

        ver = version(PACKAGE)
    except Exception:  # noqa: BLE001 — only for the message
        ver = "?"
    return chinese_calendar, (years[0], years[-1]), ver


def package_years() -> tuple[int, int]:
    """First and last year the installed chinesecalendar knows (2004–2026 for 1.11.0)."""
    return _package()[1]


def package_version() -> str:
    return _package()[2]


class Calendar:
    """Working days from the package and the office's own years (config ``calendar``)."""

    def __init__(self, config: Config | None = None):
        self._office: dict[int, tuple[frozenset[dt.date], frozenset[dt.date]]] = {}
        if config is not None:
            for year, days in config.calendar.items():
                self._office[int(year)] = (frozenset(days.holidays), frozenset(days.workdays))

    def source(self, year: int) -> str | None:
        """Who knows ``year``: 「配置」 (the office's list), 「chinesecalendar 1.11.0」, or None."""
        if year in self._office:
            return "配置"
        lo, hi = package_years()
        if lo <= year <= hi:
            return f"{PACKAGE} {package_version()}"
        return None

    def covers(self, year: int) -> bool:
        return self.source(year) is not None

    def is_workday(self, day: dt.date) -> bool | None:
        """True/False, or None when no source knows the day's year."""
        office = self._office.get(day.year)
        if office is not None:
            holidays, workdays = office
            if day in workdays:
                return True
            if day in holidays:
                return False
            return day.weekday() < 5
        lo, hi = package_years()
        if lo <= day.year <= hi:
            return _package()[0].is_workday(day)
        return None

    def holiday_name(self, day: dt.date) -> str | None:
        """The holiday's Chinese name (春节 …) for a package holiday, 「节假日」 for an office one."""
        if day.year in self._office:
            return "节假日" if day in self._office[day.year][0] else None
        if self.source(day.year) is None:
            return None
        on, name = _package()[0].get_holiday_detail(day)
        if not on or not name:
            return None
        from chinese_calendar.constants import Holiday

        for h in Holiday:
            if h.value == name:
                return h.chinese
        return name

    def add_workdays(self, start: dt.date, n: int) -> WorkdayCount:
        """The ``n``-th working day after ``start`` (``start`` itself not counted: 「15个工作日内」
        from the day of 交办). n = 0 gives ``start`` if it is a working day, else the next one."""
        if n < 0:
            raise ValueError("n must be >= 0")
        uncovered: set[int] = set()
        d = start
        count = 0

        def work(day: dt.date) -> bool:
            w = self.is_workday(day)
            if w is None:
                uncovered.add(day.year)
                return day.weekday() < 5
            return w

        if n == 0:
            while not work(d):
                d += dt.timedelta(days=1)
            return WorkdayCount(d, tuple(sorted(uncovered)))
        while count < n:
            d += dt.timedelta(days=1)
            if work(d):
                count += 1
        return WorkdayCount(d, tuple(sorted(uncovered)))

    def workdays_between(self, start: dt.date, end: dt.date) -> tuple[int, tuple[int, ...]]:
        """(working days after ``start`` up to and including ``end`` — negative when ``end`` is
        earlier —, the years counted Monday–Friday because no source knows them)."""
        sign = 1
        if end < start:
            start, end, sign = end, start, -1
        uncovered: set[int] = set()
        n = 0
        d = start
        while d < end:
            d += dt.timedelta(days=1)
            w = self.is_workday(d)
            if w is None:
                uncovered.add(d.year)
                w = d.weekday() < 5
            n += w
        return sign * n, tuple(sorted(uncovered))
