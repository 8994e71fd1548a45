"""The Whoosh engine (whoosh-reloaded): the shared bigram/unigram tokens in a Whoosh index folder.

Whoosh is pure Python. Its analyzer here is a tokenizer that emits exactly the tokens of
``text.grams`` with their positions, so the index matches the tantivy one term for term.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterable

from whoosh import index as windex
from whoosh import query as wq
from whoosh.analysis import Token, Tokenizer
from whoosh.fields import ID, NUMERIC, TEXT, Schema

from . import query as Q
from . import text as T
from .common import EngineDoc, StoredHit

LIBRARY = "whoosh-reloaded 2.7.5"
INDEX_NAME = "MAIN"
# Memory the writer may use before it spills sorted postings to disk (bounded memory on reindex).
WRITER_LIMIT_MB = 96
# Separate segment files, not Whoosh's compound .seg: a reader of a compound segment copies its
# postings and term files into memory (BytesIO over the mmap), so every open searcher held about
# the index's size in RAM (≈ 500 MB at 100,000 sections). Separate files are read through the OS.
COMPOUND = False


class GramTokenizer(Tokenizer):
    """Units of the text as bigrams with positions (n=2) or as unigrams (n=1). Pickled into the
    index's schema, so its module path and name are part of the index format (SCHEMA_VERSION)."""

    def __init__(self, n: int = 2):
        self.n = n

    def __eq__(self, other):
        return type(other) is type(self) and other.n == self.n

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, mode="", **kwargs):
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        g = T.grams([value])
        # Unigrams need no positions (never phrase-matched); bigrams carry the run gaps.
        tokens = enumerate(g.unigrams) if self.n == 1 else T.positioned_bigrams(g)
        for pos, text in tokens:
            t.text = text
            t.boost = 1.0
            t.stopped = False
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = t.endchar = start_char
            yield t


def _schema() -> Schema:
    bi, uni = GramTokenizer(2), GramTokenizer(1)
    return Schema(
        id=ID(stored=True, unique=True),
        number=ID(stored=True),
        archive_code=ID(stored=True),
        title=TEXT(analyzer=bi, phrase=True, stored=True),
        title1=TEXT(analyzer=uni, phrase=False),
        body=TEXT(analyzer=bi, phrase=True, stored=True),
        body1=TEXT(analyzer=uni, phrase=False),
        refs=TEXT(analyzer=bi, phrase=True),
        refs1=TEXT(analyzer=uni, phrase=False),
        year=NUMERIC(int, stored=True),
        date=NUMERIC(int, stored=True, sortable=True),
        series=ID(stored=True),
        kind=ID(stored=True),
        issuer=ID(stored=True),
        record_kind=ID(stored=True),
    )


def _fields(d: EngineDoc) -> dict:
    f = {
        "id": d.id, "number": d.number, "title": d.title, "title1": d.title, "body": d.body,
        "body1": d.body, "refs": d.refs, "refs1": d.refs, "year": d.year, "date": d.date,
        "series": d.series, "kind": d.kind, "issuer": d.issuer, "record_kind": d.record_kind,
    }
    if d.archive_code:
        f["archive_code"] = d.archive_code
    return f


def _translate(p: Q.Plan) -> wq.Query:
    if isinstance(p, Q.PTerm):
        return wq.Term(p.field, p.value)
    if isinstance(p, Q.PPhrase):
        if len(p.grams) == 1:
            return wq.Term(p.field, p.grams[0])
        return wq.Phrase(p.field, list(p.grams), slop=1)
    if isinstance(p, Q.PRange):
        return wq.NumericRange(p.field, p.lo, p.hi)
    if isinstance(p, Q.PAll):
        return wq.Every()
    if isinstance(p, Q.PAnd):
        return wq.And([_translate(i) for i in p.items])
    if isinstance(p, Q.POr):
        return wq.Or([_translate(i) for i in p.items])
    if isinstance(p, Q.PAndNot):
        # Not wq.AndNot: its matcher skips the prohibited matcher only when both start on the same
        # document, so the first hit of a segment can be a document that should be excluded
        # (found by the NOT tests against a substring scan). And + Not intersects correctly.
        return wq.And([_translate(p.positive)] + [wq.Not(_translate(i)) for i in p.negatives])
    if isinstance(p, Q.PBoost):
        return _translate(p.item).with_boost(p.factor)
    raise AssertionError(p)


class WhooshEngine:
    """One open Whoosh index folder (a generation). Not thread-safe; the caller serialises."""

    name = "whoosh"
    library = LIBRARY

    def __init__(self, ix, path: Path):
        self._ix = ix
        self.path = path
        self._searcher = None

    @classmethod
    def create(cls, path: Path) -> "WhooshEngine":
        path.mkdir(parents=True, exist_ok=True)
        return cls(windex.create_in(str(path), _schema(), indexname=INDEX_NAME), path)

    @classmethod
    def open(cls, path: Path) -> "WhooshEngine":
        ix = windex.open_dir(str(path), indexname=INDEX_NAME)
        if set(ix.schema.names()) != set(_schema().names()):
            raise ValueError("schema fields differ")
        return cls(ix, path)

    def check(self) -> None:
        """Touch the index's parts a search needs (TOC, segments, stored fields, postings)."""
        with self._ix.searcher() as s:
            n = s.doc_count()
            if n:
                next(iter(s.reader().all_stored_fields()))
            s.search(wq.Term("body", "检索"), limit=1)
            s.search(wq.Term("body1", "文"), limit=1)

    def write(self, docs: Iterable[EngineDoc], deletes: Iterable[str] = (), *, replace: bool = True) -> int:
        """Add (replacing by id when ``replace``) and delete, in one commit."""
        w = self._ix.writer(limitmb=WRITER_LIMIT_MB, compound=COMPOUND)
        n = 0
        try:
            for doc_id in deletes:
                w.delete_by_term("id", doc_id)
            for d in docs:
                (w.update_document if replace else w.add_document)(**_fields(d))
                n += 1
        except BaseException:
            w.cancel()
            raise
        w.commit()
        if self._searcher is not None:   # the next search opens the new state
            self._searcher.close()
            self._searcher = None
        return n

    def _s(self):
        if self._searcher is None:
            self._searcher = self._ix.searcher()
        else:
            self._searcher = self._searcher.refresh()
        return self._searcher

    def count(self) -> int:
        return self._s().doc_count()

    def ids(self) -> set[str]:
        return {f["id"] for f in self._s().reader().all_stored_fields()}

    def archive_codes(self, year: int | None) -> dict[str, str | None]:
        return {f["id"]: f.get("archive_code") for f in self._s().reader().all_stored_fields()
                if year is None or f.get("year") == year}

    def search(self, plan: Q.Plan, filt: Q.Plan | None, limit: int | None, sort: str) -> tuple[list[StoredHit], int]:
        s = self._s()
        kw: dict[str, object] = {"limit": limit, "terms": False}
        if filt is not None:
            kw["filter"] = _translate(filt)
        if sort == "date":
            kw.update(sortedby="date", reverse=True)
        q = _translate(plan)
        res = s.search(q, **kw)
        if limit is None:
            total = len(res)
        else:
            # len(res) of a limited search is not exact: Whoosh's top-N collector replaces
            # sub-matchers that can no longer reach the top and stops counting their documents
            # (3,925 instead of 3,953 for "发展 -经济" at 20,000 sections). Count unscored instead.
            total = s.search(q, limit=None, scored=False, terms=False, filter=kw.get("filter")).scored_length()
        hits = []
        for h in res:
            f = h.fields()
            hits.append(StoredHit(
                score=float(h.score) if (h.score is not None and sort != "date") else 0.0,
                id=f["id"], number=f.get("number", ""), archive_code=f.get("archive_code"),
                title=f.get("title", ""), body=f.get("body", ""), year=int(f["year"]),
                date=_date(f["date"]), series=f.get("series", ""), kind=f.get("kind", ""),
                issuer=f.get("issuer", ""), record_kind=f.get("record_kind", "")))
        return hits, total

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        self._ix.close()


def _date(v: int) -> dt.date:
    return dt.date(v // 10000, v // 100 % 100, v % 100)
