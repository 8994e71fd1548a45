"""督办件 in the search index, as documents of their own kind (record_kind 督办件): found by their
督办编号, words of the 事项, 来源, units, 进展 and 办结说明, filtered by year and by kind 督办件.

The index is derived: ``sync_index`` adds what changed since it last ran (it remembers the last event
of the chain it has seen), and a rebuild (``gongwen reindex``) takes every item again."""
from __future__ import annotations

from typing import Callable, Iterable, Iterator

from ..config import Config
from ..ledger import Ledger, Register, ledger_path
from .items import ITEMS_TABLE, Item, _has_books, get_item

KIND = "督办件"


def index_doc(item: Item, config: Config):
    from ..search import IndexDoc

    body = [item.matter, f"来源：{item.source}（{item.source_type}）",
            f"责任单位：{'、'.join(item.units)}" + (f"；责任领导：{item.leader}" if item.leader else ""),
            f"状态：{item.status}" + (f"（{item.status_reason}）" if item.status_reason else "")]
    body += [f"{p.day.isoformat()} 进展：{p.text}" for p in item.progress]
    if item.close_note:
        body.append(f"办结说明：{item.close_note}")
    title = item.matter if len(item.matter) <= 60 else item.matter[:59] + "…"
    return IndexDoc(id=item.reference, number=item.reference, archive_code=item.archive_code, title=title,
                    body="\n".join(body), year=item.year, series=config.supervision.code, kind=KIND,
                    date=item.assigned, issuer=item.lead_unit, record_kind=KIND)


def documents(config: Config) -> Iterator:
    """Every item as an IndexDoc (nothing when the instance has no register yet; never creates it)."""
    if not ledger_path(config).is_file():
        return
    with Ledger.open(config) as ledger:
        with ledger.book_read() as db:
            refs = [r[0] for r in db.execute(f"SELECT reference FROM {ITEMS_TABLE} ORDER BY id")] \
                if _has_books(db) else []
        for ref in refs:
            yield index_doc(get_item(ledger, ref), config)


def item_ids(config: Config) -> set[str]:
    if not ledger_path(config).is_file():
        return set()
    with Ledger.open(config) as ledger, ledger.book_read() as db:
        return {r[0] for r in db.execute(f"SELECT reference FROM {ITEMS_TABLE}")} if _has_books(db) else set()


def sync_index(ledger: Register, config: Config, index) -> int:
    """Index the items changed since the last sync (by the event chain); returns how many."""
    with ledger.book_read() as db:
        if not _has_books(db):
            return 0
        row = db.execute("SELECT value FROM supervision_meta WHERE key = 'indexed_event'").fetchone()
        since = int(row[0]) if row else 0
        last = db.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
        refs = [r[0] for r in db.execute(
            "SELECT DISTINCT reference FROM events WHERE id > ? AND event LIKE 'supervision_%' AND reference IN "
            f"(SELECT reference FROM {ITEMS_TABLE})", (since,))]
    docs: Iterable = [index_doc(get_item(ledger, ref), config) for ref in refs]
    if refs:
        index.add(docs)
    with ledger.book_write() as w:
        w.execute("INSERT INTO supervision_meta (key, value) VALUES ('indexed_event', ?) "
                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(last),))
    return len(refs)




def sync_quietly(ledger: Register, config: Config, index_of: Callable[[], object] | None = None) -> str | None:
    """``sync_index`` after a change, where a failure is a note, never the change's failure: the index
    is derived, and doctor and the service catch it up. ``index_of`` gives an index the caller keeps
    open (the web app's); without it one is opened and closed here. Returns None, or the Chinese note."""
    from ..errors import SearchError
    from ..search import open_index

    try:
        if index_of is not None:
            sync_index(ledger, config, index_of())
        else:
            index = open_index(config)
            try:
                sync_index(ledger, config, index)
            finally:
                index.close()
    except (SearchError, OSError) as e:
        return f"检索索引未更新（{e}）；gongwen doctor --repair 时补做"
    return None
