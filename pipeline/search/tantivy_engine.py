"""The tantivy engine (tantivy-py): the shared bigram/unigram tokens in a tantivy index folder.

The tokens are made in Python (``text.grams``) and handed to tantivy as space-separated words; two
filler words between runs, removed by a stop-word filter, keep a two-position gap so a phrase
never spans whitespace. The original title and body are kept as stored bytes for snippets.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterable

import tantivy

from . import query as Q
from . import text as T
from .common import EngineDoc, StoredHit

_VERSION: str = tantivy.__version__  # type: ignore[attr-defined]  # set by the extension; its stub omits it
LIBRARY = f"tantivy-py {_VERSION.split()[1] if ' ' in _VERSION else _VERSION}"
ANALYZER = "gongwen_grams"
# A private-use character: never a bigram (bigrams have two units) and removed by the analyzer.
GAP = "\ue000"
# Writer memory: tantivy flushes a segment when a thread's share is used up (bounded memory).
WRITER_HEAP = 96_000_000
EXACT = ("id", "number", "archive_code", "series", "kind", "issuer", "record_kind")
GRAM_FIELDS = ("title", "body", "refs")


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    for name in EXACT:
        sb.add_text_field(name, stored=True, tokenizer_name="raw", index_option="basic")
    for name in GRAM_FIELDS:
        sb.add_text_field(name, tokenizer_name=ANALYZER, index_option="position")
        sb.add_text_field(name + "1", tokenizer_name=ANALYZER, index_option="freq")
    sb.add_bytes_field("title_text", stored=True)
    sb.add_bytes_field("body_text", stored=True)
    sb.add_integer_field("year", stored=True, indexed=True, fast=True)
    sb.add_integer_field("date", stored=True, indexed=True, fast=True)
    return sb.build()


def _analyzer():
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace())
            .filter(tantivy.Filter.custom_stopword([GAP])).build())


def _gram_texts(text: str) -> tuple[str, str]:
    g = T.grams([text])
    # Two filler positions between runs: a phrase's cover (below) skips at most one bigram, so runs
    # must be further apart than that for no phrase to match across them.
    return f" {GAP} {GAP} ".join(" ".join(run) for run in g.bigram_runs), " ".join(g.unigrams)


def _document(d: EngineDoc) -> tantivy.Document:
    doc = tantivy.Document()
    for name in EXACT:
        v = getattr(d, name)
        if v:
            doc.add_text(name, v)
    for name in GRAM_FIELDS:
        bi, uni = _gram_texts(getattr(d, name))
        doc.add_text(name, bi)
        doc.add_text(name + "1", uni)
    doc.add_bytes("title_text", d.title.encode("utf-8"))
    doc.add_bytes("body_text", d.body.encode("utf-8"))
    doc.add_integer("year", d.year)
    doc.add_integer("date", d.date)
    return doc


class TantivyEngine:
    """One open tantivy index folder (a generation). Not thread-safe; the caller serialises."""

    name = "tantivy"
    library = LIBRARY

    def __init__(self, ix: tantivy.Index, path: Path):
        ix.register_tokenizer(ANALYZER, _analyzer())
        self._ix: tantivy.Index | None = ix
        self._schema = ix.schema
        self.path = path

    @classmethod
    def create(cls, path: Path) -> "TantivyEngine":
        path.mkdir(parents=True, exist_ok=True)
        return cls(tantivy.Index(_schema(), path=str(path), reuse=False), path)

    @classmethod
    def open(cls, path: Path) -> "TantivyEngine":
        if not tantivy.Index.exists(str(path)):
            raise ValueError("no tantivy index here")
        if not tantivy.Index.is_compatible(str(path)):
            raise ValueError("index format not supported by this tantivy")
        ix = tantivy.Index.open(str(path))
        return cls(ix, path)

    def _index(self) -> tantivy.Index:
        if self._ix is None:
            raise ValueError(f"the tantivy index {self.path} is closed")
        return self._ix

    def check(self) -> None:
        s = self._searcher()
        res = s.search(tantivy.Query.all_query(), 1)
        for _, addr in res.hits:
            s.doc(addr)
        for field, term, opt in (("body", "检索", "position"), ("body1", "文", "freq")):
            s.search(tantivy.Query.term_query(self._schema, field, term, index_option=opt), 1)

    def write(self, docs: Iterable[EngineDoc], deletes: Iterable[str] = (), *, replace: bool = True) -> int:
        w = self._index().writer(heap_size=WRITER_HEAP, num_threads=1)
        n = 0
        try:
            for doc_id in deletes:
                w.delete_documents_by_term("id", doc_id)
            for d in docs:
                if replace:
                    w.delete_documents_by_term("id", d.id)
                w.add_document(_document(d))
                n += 1
            w.commit()
        except BaseException:
            w.rollback()
            raise
        finally:
            # Dropping the writer releases tantivy's own lock; merges finish before we return, so
            # the next writer (maybe another process) starts from a quiet folder.
            w.wait_merging_threads()
        return n

    def _searcher(self) -> tantivy.Searcher:
        ix = self._index()
        ix.reload()
        return ix.searcher()

    def count(self) -> int:
        return self._searcher().num_docs

    def ids(self) -> set[str]:
        s = self._searcher()
        return {t for t, c in s.terms_with_prefix("id", "", filter_query=tantivy.Query.all_query()) if c > 0}

    def archive_codes(self, year: int | None) -> dict[str, str | None]:
        s = self._searcher()
        q = (tantivy.Query.all_query() if year is None else
             tantivy.Query.range_query(self._schema, "year", tantivy.FieldType.Integer, year, year))
        out = {}
        for _, addr in s.search(q, max(1, s.num_docs)).hits:
            f = s.doc(addr).to_dict()
            out[_first(f, "id")] = _first(f, "archive_code") or None
        return out

    def _translate(self, p: Q.Plan) -> tantivy.Query:
        sch = self._schema
        Occur = tantivy.Occur
        if isinstance(p, Q.PTerm):
            opt = "freq" if p.field.endswith("1") else "basic"
            return tantivy.Query.term_query(sch, p.field, p.value, index_option=opt)
        if isinstance(p, Q.PPhrase):
            if len(p.grams) == 1:
                return tantivy.Query.term_query(sch, p.field, p.grams[0], index_option="position")
            return tantivy.Query.phrase_query(sch, p.field, _cover(p.grams))
        if isinstance(p, Q.PRange):
            return tantivy.Query.range_query(sch, p.field, tantivy.FieldType.Integer, p.lo, p.hi)
        if isinstance(p, Q.PAll):
            return tantivy.Query.all_query()
        if isinstance(p, Q.PAnd):
            return tantivy.Query.boolean_query([(Occur.Must, self._translate(i)) for i in p.items])
        if isinstance(p, Q.POr):
            return tantivy.Query.boolean_query([(Occur.Should, self._translate(i)) for i in p.items])
        if isinstance(p, Q.PAndNot):
            return tantivy.Query.boolean_query(
                [(Occur.Must, self._translate(p.positive))]
                + [(Occur.MustNot, self._translate(i)) for i in p.negatives])
        if isinstance(p, Q.PBoost):
            return tantivy.Query.boost_query(self._translate(p.item), p.factor)
        raise AssertionError(p)

    def search(self, plan: Q.Plan, filt: Q.Plan | None, limit: int | None, sort: str) -> tuple[list[StoredHit], int]:
        s = self._searcher()
        q = self._translate(plan)
        if filt is not None:
            # Filters restrict without scoring, as Whoosh's filter= does.
            q = tantivy.Query.boolean_query([(tantivy.Occur.Must, q), (tantivy.Occur.Must,
                                              tantivy.Query.const_score_query(self._translate(filt), 0.0))])
        n = limit if limit is not None else max(1, s.num_docs)
        if sort == "date":
            res = s.search(q, n, count=True, order_by_field="date", order=tantivy.Order.Desc)
        else:
            res = s.search(q, n, count=True)
        hits = []
        for key, addr in res.hits:
            f = s.doc(addr).to_dict()
            hits.append(StoredHit(
                score=float(key) if sort != "date" else 0.0,
                id=_first(f, "id"), number=_first(f, "number"), archive_code=_first(f, "archive_code") or None,
                title=bytes(_first(f, "title_text", b"")).decode("utf-8"),
                body=bytes(_first(f, "body_text", b"")).decode("utf-8"),
                year=int(_first(f, "year")), date=_date(int(_first(f, "date"))),
                series=_first(f, "series"), kind=_first(f, "kind"), issuer=_first(f, "issuer"),
                record_kind=_first(f, "record_kind")))
        return hits, res.count  # type: ignore[attr-defined]  # set when count=True; the stub omits it

    def close(self) -> None:
        self._ix = None


def _cover(grams: tuple[str, ...]) -> list[str | tuple[int, str]]:
    """Every other bigram of a phrase and the last one, at their offsets: they cover every unit, so
    they match exactly where all the bigrams do, and a phrase reads ~half the positions (a phrase
    in every document's title cost 12 ms at 20,000 sections with all of them)."""
    keep = list(range(0, len(grams), 2))
    if keep[-1] != len(grams) - 1:
        keep.append(len(grams) - 1)
    return [(i, grams[i]) for i in keep]


def _first(f: dict, name: str, default=""):
    v = f.get(name)
    return v[0] if v else default


def _date(v: int) -> dt.date:
    return dt.date(v // 10000, v // 100 % 100, v % 100)
