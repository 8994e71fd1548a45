"""The flat records the engines store and return (kept apart so the engines need not import the
public module)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class EngineDoc:
    """A document as an engine indexes it: the date as YYYYMMDD (one sortable integer in both
    engines) and ``refs`` (文号, printed number and 档号 as searchable text)."""

    id: str
    number: str
    archive_code: str | None
    title: str
    body: str
    refs: str
    year: int
    date: int
    series: str
    kind: str
    issuer: str
    record_kind: str


@dataclass(frozen=True)
class StoredHit:
    score: float
    id: str
    number: str
    archive_code: str | None
    title: str
    body: str
    year: int
    date: dt.date
    series: str
    kind: str
    issuer: str
    record_kind: str
