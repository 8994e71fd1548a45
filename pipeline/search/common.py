"""The flat records the engines store and return (kept apart so the engines need not import the
public module)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Protocol

if TYPE_CHECKING:
    from .query import Plan


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


class Engine(Protocol):
    """What FolderIndex asks of an engine (whoosh_engine.WhooshEngine, tantivy_engine.TantivyEngine)
    once a generation is open."""

    def check(self) -> None: ...
    def write(self, docs: Iterable[EngineDoc], deletes: Iterable[str] = (), *, replace: bool = True) -> int: ...
    def count(self) -> int: ...
    def ids(self) -> set[str]: ...
    def archive_codes(self, year: int | None) -> dict[str, str | None]: ...
    def search(self, plan: Plan, filt: Plan | None, limit: int | None,
               sort: str) -> tuple[list[StoredHit], int]: ...
    def close(self) -> None: ...
