"""Chinese full-text search over the archive: one small interface, two engines (whoosh, tantivy).

The index is derived data under ``archive/index/<engine>/``: it can always be rebuilt from the
archive (``gongwen reindex``). Layout of that folder::

    index/.<engine>.lock         exclusive writer lock (filelock), held around every write
    index/<engine>/CURRENT.json  which generation is live, its schema version and library
    index/<engine>/g-…/          one generation: the engine's own files

A rebuild writes a new generation beside the live one and switches ``CURRENT.json`` atomically, so
searches keep working during a rebuild and a crash leaves the old index in place. Every open index
looks at ``CURRENT.json`` before it searches or writes, so a rebuild by another process (the CLI
while the watcher runs) is picked up.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal, Protocol

from ..configcache import ConfigFacts
from ..errors import GongwenError, SearchError
from ..fsutil import atomic_write_text
from . import query as Q
from . import text as T
from .common import Engine, EngineDoc, StoredHit

if TYPE_CHECKING:
    from filelock import BaseFileLock

    from .. import model
    from ..config import Config

# Bump when the tokens, the fields or their meaning change: an index with another value must be
# rebuilt (open_index refuses it with a message naming `gongwen reindex`).
SCHEMA_VERSION = ("gongwen-search-2 (folded text: NFKC, TSCharacters, 〇/dash/dot variants, CJK gaps joined; "
                  "unit bigrams+unigrams, runs two positions apart, exact 文号/档号)")
ENGINES = ("whoosh", "tantivy")
POINTER = "CURRENT.json"
DEFAULT_LOCK_TIMEOUT = 120.0
REINDEX_HINT = "需要重建索引（gongwen reindex）"

__all__ = ["IndexDoc", "Hit", "Results", "IndexState", "SearchIndex", "open_index", "index_missing", "reindex",
           "health", "archive_documents", "all_documents", "SCHEMA_VERSION", "ENGINES"]


# --- public records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexDoc:
    """One archived document as the index sees it."""

    id: str                    # the document's reference 文号 (unique), e.g. 珠政发〔2015〕3号
    number: str                # 文号 as printed (exact field)
    archive_code: str | None   # 档号 (exact field), e.g. Z109-WS·2015-Y-BGS-0001, set at year end
    title: str                 # 题名
    body: str                  # 正文 (plain text)
    year: int                  # 年度
    series: str                # 机关代字
    kind: str                  # 文种
    date: dt.date              # 成文日期
    issuer: str = ""           # 责任者
    record_kind: str = "公文"   # 公文 / 纪要 / 收文 (metadata 类型)

    @classmethod
    def from_record(cls, meta: dict, text: str) -> "IndexDoc":
        """From an archive record: its ``metadata.json`` (DA/T 46 Chinese keys) and ``全文.txt``
        (title line, then the body)."""
        def need(key: str) -> Any:
            v = meta.get(key)
            if v in (None, ""):
                ref = meta.get("文件编号") or meta.get("题名") or "?"
                raise SearchError(f"档案记录 {ref} 的 metadata.json 缺少“{key}”，无法编入索引。")
            return v

        ref = str(need("文件编号"))
        title = str(need("题名"))
        if meta.get("类型") == "收文" and not meta.get("日期"):
            # a 收文 whose 成文日期 could not be read is found by the day it came in
            meta = {**meta, "日期": meta.get("收文时间")}
        try:
            date = dt.date.fromisoformat(str(need("日期"))[:10])
        except ValueError:
            raise SearchError(f"档案记录 {ref} 的日期“{meta.get('日期')}”不是 YYYY-MM-DD 格式。") from None
        try:
            year = int(meta.get("年度") or date.year)
        except (TypeError, ValueError):
            raise SearchError(f"档案记录 {ref} 的年度“{meta.get('年度')}”不是数字。") from None
        body = text or ""
        first, _, rest = body.lstrip("\ufeff").partition("\n")
        if first.strip() == title.strip():
            body = rest
        issuer = meta.get("责任者") or ""
        if isinstance(issuer, (list, tuple)):
            issuer = "、".join(map(str, issuer))
        kind = str(meta.get("文种") or "")
        return cls(
            id=ref,
            number=str(meta.get("印制文号") or ref),
            archive_code=meta.get("档号") or None,
            title=title,
            body=body.strip(),
            year=year,
            series=str(meta.get("机关代字") or ""),
            kind=kind,
            date=date,
            issuer=str(issuer),
            record_kind=str(meta.get("类型") or ("纪要" if kind == "纪要" else "公文")),
        )


@dataclass(frozen=True)
class Hit:
    id: str
    number: str
    archive_code: str | None
    title: str
    date: dt.date
    year: int
    series: str
    kind: str
    score: float                # relevance (0.0 when sorted by date)
    snippet: str                # text around the match, each match marked 【…】
    highlights: tuple[tuple[int, int], ...] = ()   # (start, end) of the marked text inside snippet
    issuer: str = ""
    record_kind: str = "公文"

    def to_json(self) -> dict:
        return {"id": self.id, "number": self.number, "archive_code": self.archive_code,
                "title": self.title, "date": self.date.isoformat(), "year": self.year,
                "series": self.series, "kind": self.kind, "issuer": self.issuer,
                "score": round(self.score, 4), "snippet": self.snippet}


@dataclass(frozen=True)
class Results:
    hits: list[Hit]
    total: int                  # all matching documents (hits holds at most `limit`)


@dataclass(frozen=True)
class IndexState:
    """The index folder as found: ``kind`` is ok, missing, version (another SCHEMA_VERSION) or
    damaged; ``message`` says in Chinese what is wrong and how to repair it."""

    kind: Literal["ok", "missing", "version", "damaged"]
    message: str = ""


class SearchIndex(Protocol):
    version: str

    def add(self, docs: Iterable[IndexDoc]) -> None: ...
    def delete(self, doc_id: str) -> None: ...
    def search(self, query: str, *, year: int | None = None, series: str | None = None,
               kind: str | None = None, date_from: dt.date | None = None, date_to: dt.date | None = None,
               limit: int | None = 20, sort: Literal["relevance", "date"] = "relevance",
               snippets: bool = True, direction: Literal["收文", "发文"] | None = None) -> Results: ...
    def count(self) -> int: ...
    def ids(self) -> set[str]: ...
    def archive_codes(self, year: int | None = None) -> dict[str, str | None]: ...
    def rebuild(self, docs: Iterable[IndexDoc], *, chunk: int = 500,
                progress: Callable[[int], None] | None = None) -> int: ...
    def close(self) -> None: ...


# --- engines -------------------------------------------------------------------------------------


def _engine_class(engine: str):
    if engine == "whoosh":
        from .whoosh_engine import WhooshEngine
        return WhooshEngine
    if engine == "tantivy":
        from .tantivy_engine import TantivyEngine
        return TantivyEngine
    raise SearchError(f"未知的检索引擎“{engine}”，可选：{'、'.join(ENGINES)}。")


def engine_doc(d: IndexDoc) -> EngineDoc:
    refs = "\n".join(dict.fromkeys(x for x in (d.id, d.number, d.archive_code) if x))
    return EngineDoc(id=d.id, number=d.number or d.id, archive_code=d.archive_code or None,
                     title=d.title or "", body=d.body or "", refs=refs, year=int(d.year),
                     date=int(d.date.strftime("%Y%m%d")), series=d.series or "", kind=d.kind or "",
                     issuer=d.issuer or "", record_kind=d.record_kind or "")


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for it in items:
        batch.append(it)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- the index folder ----------------------------------------------------------------------------


def index_root(config: Config | ConfigFacts, engine: str) -> Path:
    return config.archive_dir / "index" / engine


def expected_version(engine: str) -> str:
    return f"{SCHEMA_VERSION} · {engine}"


class FolderIndex:
    """A search index folder with generations, a pointer file and a writer lock; the engine object
    does the indexing. Implements ``SearchIndex``."""

    def __init__(self, root: Path, engine: str, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT):
        self.root = Path(root)
        self.engine_name = engine
        self._cls = _engine_class(engine)
        self._lock_path = self.root.parent / f".{engine}.lock"
        self._lock: BaseFileLock | None = None     # made on the first write: a search needs no lock (and filelock costs ~35 ms to import)
        self._lock_timeout = lock_timeout
        self._mutex = threading.RLock()
        self._engine: Engine | None = None
        self._generation: str | None = None
        self.version = expected_version(engine)

    # --- pointer and generations ---
    def _read_pointer(self) -> dict | None:
        p = self.root / POINTER
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            raise SearchError(f"搜索索引的 {POINTER} 无法读取（{e}），{REINDEX_HINT}。") from None
        if not isinstance(data, dict) or not isinstance(data.get("generation"), str):
            raise SearchError(f"搜索索引的 {POINTER} 内容不完整，{REINDEX_HINT}。")
        return data

    def missing(self) -> bool:
        """Nothing is there (no pointer and no files): cheap, opens nothing."""
        return not (self.root / POINTER).exists() and not (self.root.exists() and any(self.root.iterdir()))

    def state(self) -> "IndexState":
        """What is on disk: missing (nothing there), ok, an outdated version, or damage."""
        if self.missing():
            return IndexState("missing")
        try:
            ptr = self._read_pointer()
        except SearchError as e:
            return IndexState("damaged", str(e))
        if ptr is None:
            return IndexState("damaged", f"搜索索引 {self.root} 缺少版本文件 {POINTER}，{REINDEX_HINT}。")
        if ptr.get("version") != self.version:
            return IndexState("version", f"搜索索引的版本（{ptr.get('version')}）与程序（{self.version}）不符，"
                                         f"{REINDEX_HINT}。")
        gen = self.root / ptr["generation"]
        try:
            eng = self._cls.open(gen)
            try:
                eng.check()
            finally:
                eng.close()
        except Exception as e:  # any engine failure here means the files are damaged
            return IndexState("damaged", f"搜索索引 {gen} 已损坏或不完整（{type(e).__name__}: {e}），{REINDEX_HINT}。")
        return IndexState("ok")

    def _sync(self) -> Engine:
        """Make sure the live generation is the one open (another process may have rebuilt);
        returns its engine."""
        ptr = self._read_pointer()
        if ptr is None:
            raise SearchError(f"搜索索引 {self.root} 不存在，{REINDEX_HINT}。")
        if ptr.get("version") != self.version:
            raise SearchError(f"搜索索引的版本（{ptr.get('version')}）与程序（{self.version}）不符，{REINDEX_HINT}。")
        if ptr["generation"] != self._generation or self._engine is None:
            old = self._engine
            try:
                self._engine = self._cls.open(self.root / ptr["generation"])
            except Exception as e:
                self._engine = None
                raise SearchError(f"搜索索引已损坏，无法打开（{type(e).__name__}: {e}），{REINDEX_HINT}。") from e
            self._generation = ptr["generation"]
            if old is not None:
                old.close()
        return self._engine

    def _write_lock(self):
        if self._lock is None:
            import filelock

            self._lock = filelock.FileLock(str(self._lock_path), timeout=self._lock_timeout)
        return _Locked(self._lock, self._lock_timeout, self.root)

    # --- SearchIndex ---
    def add(self, docs: Iterable[IndexDoc], *, chunk: int = 500) -> None:
        with self._mutex, self._write_lock():
            engine = self._sync()
            for batch in _chunks(docs, chunk):
                engine.write([engine_doc(d) for d in batch], replace=True)

    def delete(self, doc_id: str) -> None:
        with self._mutex, self._write_lock():
            self._sync().write([], [doc_id])

    def count(self) -> int:
        with self._mutex:
            return self._guard(self._sync().count)

    def ids(self) -> set[str]:
        with self._mutex:
            return self._guard(self._sync().ids)

    def archive_codes(self, year: int | None = None) -> dict[str, str | None]:
        """{文号: 档号 or None} of every indexed document (of one 年度), as the index holds them."""
        with self._mutex:
            engine = self._sync()
            return self._guard(lambda: engine.archive_codes(year))

    def search(self, query: str, *, year: int | None = None, series: str | None = None,
               kind: str | None = None, date_from: dt.date | None = None, date_to: dt.date | None = None,
               limit: int | None = 20, sort: Literal["relevance", "date"] = "relevance",
               snippets: bool = True, direction: Literal["收文", "发文"] | None = None) -> Results:
        if sort not in ("relevance", "date"):
            raise SearchError(f"排序方式只能是 relevance（相关度）或 date（日期），不是“{sort}”。")
        if limit is not None and limit < 1:
            raise SearchError("显示条数必须至少为 1。")
        compiled = Q.compile_query(query)
        filt = Q.filters_plan(year=year, series=series, kind=kind, date_from=date_from, date_to=date_to,
                              direction=direction)
        with self._mutex:
            engine = self._sync()
            stored, total = self._guard(lambda: engine.search(compiled.plan, filt, limit, sort))
        return Results([_hit(h, compiled.needles, snippets) for h in stored], total)

    def rebuild(self, docs: Iterable[IndexDoc], *, chunk: int = 500,
                progress: Callable[[int], None] | None = None) -> int:
        """Build a new generation from ``docs`` (streamed; one commit per ``chunk`` documents, so
        memory stays bounded), then make it live atomically. Returns the number of documents."""
        if chunk < 1:
            raise SearchError("分批大小必须至少为 1。")
        with self._mutex, self._write_lock():
            self.root.mkdir(parents=True, exist_ok=True)
            gen = f"g-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
            path = self.root / gen
            eng = self._cls.create(path)
            n = 0
            seen: set[str] = set()
            try:
                for batch in _chunks(docs, chunk):
                    edocs = [engine_doc(d) for d in batch]
                    # A rebuild starts empty: add without the per-document delete, unless an id repeats.
                    dup = any(d.id in seen for d in edocs) or len({d.id for d in edocs}) < len(edocs)
                    seen.update(d.id for d in edocs)
                    n += eng.write(edocs, replace=dup)
                    if progress:
                        progress(n)
                if not n:
                    eng.write([], replace=False)  # an empty index still needs its first commit
                if eng.count() != len(seen):
                    raise SearchError(f"重建的索引文件数（{eng.count()}）与输入（{len(seen)}）不符。")
            except BaseException:
                eng.close()
                shutil.rmtree(path, ignore_errors=True)
                raise
            eng.close()
            atomic_write_text(self.root / POINTER, json.dumps({
                "generation": gen, "version": self.version, "engine": self.engine_name,
                "library": self._cls.library, "documents": n,
                "built": dt.datetime.now().isoformat(timespec="seconds"),
            }, ensure_ascii=False, indent=2) + "\n")
            if self._engine is not None:
                self._engine.close()
                self._engine = None
            self._generation = None
            self._sync()
            self._remove_stale(keep=gen)
            return n

    def _remove_stale(self, keep: str) -> None:
        # Old generations and folders of crashed rebuilds; derived files only, never user files.
        for p in self.root.iterdir():
            if p.is_dir() and p.name.startswith("g-") and p.name != keep:
                shutil.rmtree(p, ignore_errors=True)

    def _guard(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except SearchError:
            raise
        except Exception as e:  # engine errors while reading mean damaged files
            raise SearchError(f"读取搜索索引失败（{type(e).__name__}: {e}），{REINDEX_HINT}。") from e

    def close(self) -> None:
        with self._mutex:
            if self._engine is not None:
                self._engine.close()
                self._engine = None
            self._generation = None

    def __enter__(self) -> "FolderIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Locked:
    """The exclusive writer lock, turning a timeout into a clear message."""

    def __init__(self, lock, timeout: float, root: Path):
        self.lock, self.timeout, self.root = lock, timeout, root

    def __enter__(self):
        Path(self.lock.lock_file).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.lock.acquire()
        except TimeoutError:      # filelock.Timeout is a TimeoutError
            raise SearchError(
                f"搜索索引 {self.root} 正由另一个进程写入（如 gongwen reindex 或监视服务），"
                f"等待 {self.timeout:g} 秒后仍未结束，请稍后再试。") from None
        return self

    def __exit__(self, *exc):
        self.lock.release()


def _hit(h: StoredHit, needles: tuple[str, ...], snippets: bool) -> Hit:
    if snippets:
        text, spans = T.snippet(h.body, needles)
    else:
        text, spans = "", ()
    return Hit(id=h.id, number=h.number, archive_code=h.archive_code, title=h.title, date=h.date,
               year=h.year, series=h.series, kind=h.kind, score=h.score, snippet=text,
               highlights=spans, issuer=h.issuer, record_kind=h.record_kind)


# --- opening -------------------------------------------------------------------------------------


def open_index(config: Config | ConfigFacts, engine: str | None = None, *,
               rebuild_from: Callable[[], Iterable[IndexDoc]] | None = None,
               lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> FolderIndex:
    """Open the search index of ``config`` (engine: ``config.search.engine`` unless given).

    A missing index (a new instance, or the folder deleted by hand) is built from the archive —
    from ``rebuild_from()`` when given, else from ``archive_documents(config)``; for a new instance
    that is an empty index. A version mismatch or damaged files raise SearchError naming
    ``gongwen reindex``, or are rebuilt the same way when ``rebuild_from`` is given.

    ``config`` may be the remembered facts of a config (``configcache.recall``): enough to open an
    index that exists; building a missing one reads the archive, so the config is then loaded in full."""
    engine = engine or config.search.engine
    idx = FolderIndex(index_root(config, engine), engine, lock_timeout=lock_timeout)
    state = idx.state()
    if state.kind == "ok":
        return idx
    if rebuild_from is not None:
        idx.rebuild(rebuild_from())
    elif state.kind == "missing":
        from ..config import load

        idx.rebuild(all_documents(load(config.file) if isinstance(config, ConfigFacts) else config))
    else:
        raise SearchError(state.message)
    return idx


def index_missing(config: Config | ConfigFacts, engine: str | None = None) -> bool:
    """No index at all for ``engine`` (default: the configured one); opens nothing."""
    engine = engine or config.search.engine
    return FolderIndex(index_root(config, engine), engine).missing()


def reindex(config: Config, engine: str | None = None, *, docs: Iterable[IndexDoc] | None = None,
            chunk: int = 500, progress: Callable[[int], None] | None = None,
            lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> int:
    """Rebuild the index from the archive and the 督办台账 (or from ``docs``) whatever state it is in."""
    engine = engine or config.search.engine
    with FolderIndex(index_root(config, engine), engine, lock_timeout=lock_timeout) as idx:
        return idx.rebuild(all_documents(config) if docs is None else docs, chunk=chunk, progress=progress)


# --- the archive as documents --------------------------------------------------------------------


def _records(config: Config, year: int | None = None) -> Iterator[tuple[dict, Callable[[], str]]]:
    """(metadata, text loader) per archived document, streamed, as the archive store reads them."""
    from ..archive import ArchiveStore

    for rec in ArchiveStore(config, recover=False).records(year):    # reading never writes
        yield rec.meta, functools.partial(record_text, rec)


def record_text(rec) -> str:
    """The text to index for an archive record: its 全文.txt, or — when that file is missing (a
    record filed by hand or damaged) — the text of its 正本 PDF, so a rebuild never loses a document's
    words while the PDF is there."""
    text = rec.text()
    if text.strip():
        return text
    pdf = rec.file("正本")
    if pdf is None or not pdf.is_file():
        return text
    from ..pdfcheck import PdfTextError, pages_text

    try:
        return "\n".join(pages_text(pdf))
    except PdfTextError:
        return ""


def archive_documents(config: Config, year: int | None = None) -> Iterator[IndexDoc]:
    """Every archived document as an IndexDoc, streamed (one record in memory at a time)."""
    for meta, text in _records(config, year):
        yield IndexDoc.from_record(meta, text())


def all_documents(config: Config) -> Iterator[IndexDoc]:
    """What the index holds: every archived document, then every 督办件 (record_kind 督办件)."""
    from ..supervise.index import documents as supervision_documents

    yield from archive_documents(config)
    yield from supervision_documents(config)


def archive_count(config: Config) -> int:
    return sum(1 for _ in _records(config))


# --- health --------------------------------------------------------------------------------------


def health(config: Config) -> list["model.Finding"]:
    """For `gongwen doctor`: the index opens, its version matches, and it holds exactly the
    archive's documents, each with the 档号 its record carries."""
    from .. import model

    engine = config.search.engine
    area = "索引"
    idx = FolderIndex(index_root(config, engine), engine)
    state = idx.state()
    out: list[model.Finding] = []
    if state.kind == "missing":
        n = archive_count(config)
        # After search.engine was changed, the other engine's index is still there: say so.
        others = [e for e in ENGINES if e != engine and (index_root(config, e) / POINTER).exists()]
        where = f"（现有 {'、'.join(others)} 的索引，配置的引擎是 {engine}）" if others else ""
        out.append(model.Finding(area, f"搜索索引（{engine}）存在", n == 0,
                                 "" if n == 0 else f"索引不存在{where}，档案中有 {n} 件，{REINDEX_HINT}"))
        return out
    opens = state.kind in ("ok", "version")
    out.append(model.Finding(area, f"搜索索引（{engine}）可以打开", opens, "" if opens else state.message))
    if state.kind == "version":
        out.append(model.Finding(area, "索引版本与程序一致", False, state.message))
        return out
    if not opens:
        out.append(model.Finding(area, "索引版本与程序一致", None, "索引无法打开，未检查"))
        out.append(model.Finding(area, "索引与档案一致", None, "索引无法打开，未检查"))
        return out
    out.append(model.Finding(area, "索引版本与程序一致", True, idx.version))
    try:
        in_index = idx.archive_codes()
        in_archive = {meta.get("文件编号"): meta.get("档号") or None for meta, _ in _records(config)}
        from ..supervise.index import item_ids

        supervised = item_ids(config)    # 督办件 are indexed too; their 档号 is not checked here
        in_archive.update({i: in_index.get(i) for i in supervised})
    except GongwenError as e:  # the index or the archive could not be read: not checked
        out.append(model.Finding(area, "索引与档案一致", None, str(e)))
        return out
    finally:
        idx.close()
    missing = sorted(x for x in in_archive.keys() - in_index.keys() if x)
    extra = sorted(in_index.keys() - in_archive.keys())
    # A 档号 given at year end and not yet in the index: searching by it would find nothing.
    stale = sorted(x for x in in_index.keys() & in_archive.keys() if in_archive[x] != in_index[x])

    def some(refs: list[str]) -> str:
        return "、".join(refs[:5]) + (" 等" if len(refs) > 5 else "")

    detail = []
    if missing:
        detail.append(f"未编入索引 {len(missing)} 件：{some(missing)}")
    if extra:
        detail.append(f"索引中多出 {len(extra)} 件：{some(extra)}")
    if stale:
        detail.append(f"索引中的档号与档案不符 {len(stale)} 件：{some(stale)}")
    ok = not missing and not extra and not stale
    out.append(model.Finding(area, "索引与档案一致", ok,
                             f"{len(in_index)} 件" if ok else "；".join(detail) + f"，{REINDEX_HINT}"))
    return out
