"""Register test helpers: the time zone, a fake clock, a draft built as a model object."""
from __future__ import annotations

import datetime as dt

from pipeline.model import Draft

TZ = dt.timezone(dt.timedelta(hours=8))


class Clock:
    """A fake clock: each reading is one minute after the last (distinct, ordered event times)."""

    def __init__(self, start: dt.datetime):
        self.t = start

    def __call__(self) -> dt.datetime:
        self.t += dt.timedelta(minutes=1)
        return self.t

    def set(self, *args) -> None:
        self.t = dt.datetime(*args, tzinfo=TZ)


def draft(title: str, date=dt.date(2015, 3, 20), series="珠政发", kind="通知", **kw) -> Draft:
    return Draft(source=f"/inbox/{title}.md", source_format="markdown", series=series, kind=kind,
                 title=title, date=date, main_to="各街道办事处", **kw)
