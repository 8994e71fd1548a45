"""Books: other registers in the ledger's database (the seam 收文 and 督办 plug into). Numbers from the
shared counters, rows chained and replayed by verify, tampering named, gaps reported per book."""
from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from pipeline.ledger import Book, Ledger
from tests.support.ledger import TZ, Clock, draft

BOOK = Book(table="test_incoming", label="测试登记簿", series="测收", schema="""
CREATE TABLE IF NOT EXISTS test_incoming (
  id INTEGER PRIMARY KEY, series TEXT NOT NULL, year INTEGER NOT NULL, seq INTEGER NOT NULL,
  reference TEXT NOT NULL UNIQUE, title TEXT, state TEXT NOT NULL, UNIQUE (series, year, seq));
CREATE TABLE IF NOT EXISTS test_incoming_cache (k TEXT PRIMARY KEY, v TEXT)""")


def receive(ledger: Ledger, title: str, year: int = 2015) -> str:
    with ledger.book_write() as w:
        seq = w.next_seq(BOOK, year)
        ref = f"测收〔{year}〕{seq}号"
        row_id = w.execute("INSERT INTO test_incoming (series, year, seq, reference, title, state)"
                           " VALUES (?, ?, ?, ?, ?, '待办')", (BOOK.series, year, seq, ref, title)).lastrowid
        w.record("test_received", actor="秘书", book=BOOK, row_id=row_id, reference=ref)
    return ref


@pytest.fixture
def ledger(ledger_cfg, tmp_path, monkeypatch):
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path, ledger_cfg, clock=Clock(dt.datetime(2015, 3, 1, 9, tzinfo=TZ))) as led:
        led.open_book(BOOK)
        yield led


def raw(ledger: Ledger) -> sqlite3.Connection:
    return sqlite3.connect(ledger.path, isolation_level=None)


def test_numbers_are_consecutive_per_year_and_chained(ledger):
    refs = [receive(ledger, f"来文{i}") for i in range(3)] + [receive(ledger, "次年来文", 2016)]
    assert refs == ["测收〔2015〕1号", "测收〔2015〕2号", "测收〔2015〕3号", "测收〔2016〕1号"]
    rep = ledger.verify()
    assert rep.ok, rep.summary()
    assert [e.event for e in ledger.events("测收〔2015〕2号")] == ["test_received"]
    assert ledger.check_numbers() == []


def test_a_book_and_the_发文登记簿_share_nothing_but_the_chain(ledger):
    ledger.allocate(draft("关于甲的通知"), actor="秘书")
    receive(ledger, "来文")
    assert [d.reference for d in ledger.documents()] == ["珠政发〔2015〕1号"]
    assert ledger.check_numbers() == [] and ledger.verify().ok


@pytest.mark.parametrize("tamper, named", [
    ("UPDATE test_incoming SET title = '改过的标题' WHERE id = 2", "测试登记簿第 2 行（测收〔2015〕2号）的标题与事件"),
    ("DELETE FROM test_incoming WHERE id = 3", "测试登记簿第 3 行（测收〔2015〕3号）被删除"),
    ("INSERT INTO test_incoming (series, year, seq, reference, state) VALUES ('测收', 2015, 9, 'x', '待办')",
     "没有对应的事件记录"),
    ("UPDATE counters SET next_seq = 2 WHERE series = '测收'", "测收 2015年 的计数器为 2"),
    ("DELETE FROM books WHERE name = 'test_incoming'", "被删除或除名"),
])
def test_tampering_with_a_book_is_named(ledger, tamper, named):
    for i in range(3):
        receive(ledger, f"来文{i}")
    assert ledger.verify().ok
    db = raw(ledger)
    db.execute(tamper)
    db.close()
    rep = ledger.verify()
    assert not rep.ok
    assert any(named in b.message for b in rep.breaks), [b.message for b in rep.breaks]


def test_a_book_names_its_columns_in_chinese_for_any_later_verify(ledger, ledger_cfg):
    """The book's owner names its columns (Book.columns); open_book keeps the names with the book, so a
    verify by a process that never loaded the owner names an edited column in Chinese, not “state”列."""
    named = Book(table=BOOK.table, label=BOOK.label, series=BOOK.series, schema=BOOK.schema,
                 columns=(("title", "来文标题"), ("state", "办理状态")))
    ledger.open_book(named)
    receive(ledger, "来文")
    db = raw(ledger)
    db.execute("UPDATE test_incoming SET state = '已办结', title = '改过' WHERE id = 1")
    db.close()
    with Ledger(ledger.path, ledger_cfg) as fresh:
        messages = [b.message for b in fresh.verify().breaks]
    assert any("测试登记簿第 1 行（测收〔2015〕1号）的办理状态、来文标题与事件" in m for m in messages), messages


def test_the_module_own_tables_are_not_replayed(ledger):
    receive(ledger, "来文")
    db = raw(ledger)
    db.execute("INSERT INTO test_incoming_cache VALUES ('a', 'b')")
    db.close()
    assert ledger.verify().ok


def test_a_gap_in_a_book_is_a_漏号_of_that_book(ledger):
    for i in range(3):
        receive(ledger, f"来文{i}")
    with ledger.book_write() as w:      # a number taken, its row never written (a bug or a forgery)
        w.next_seq(BOOK, 2015)
    assert ledger.check_numbers() == ["测收 2015年 缺少第 4 号的登记（漏号）"]


def test_a_book_opened_again_or_by_a_later_version_keeps_its_rows(ledger, ledger_cfg):
    receive(ledger, "来文")
    ledger.open_book(BOOK)
    with Ledger(ledger.path, ledger_cfg) as again:
        assert again.verify().ok           # verify needs no open_book: the books table lists it
        with again.book_read() as db:
            assert [r["title"] for r in db.execute("SELECT title FROM test_incoming")] == ["来文"]


def test_log_cannot_forge_book_rows(ledger):
    with pytest.raises(ValueError):
        ledger.log("test_received", actor="x", detail={"rows": {"test_incoming": {"id": 1}}})
    with ledger.book_write() as w:
        with pytest.raises(ValueError):
            w.record("x", actor="x", book=BOOK, row_id=1, detail={"register": {}})
