""""The draft is refused" and "the register cannot be used just now" are different answers: the first
sends the draft back to the clerk with a note, the second keeps it and tries again. A busy register
(another process holding SQLite's write lock beyond the wait) must never reject a valid draft."""
from __future__ import annotations

import datetime as dt

import pytest

from samples.drafts import sample_draft
from pipeline import ledger as ledger_mod
from pipeline.errors import LedgerError, NumberRefused, RegisterUnavailable
from pipeline.ledger import Ledger
from pipeline.model import Draft
from tests.support.watch_service import HeldLock

pytestmark = pytest.mark.libreoffice

WAIT_S = 1.0   # the register's 60 s wait for its write lock, shortened for the test


def draft(title: str, **kw) -> Draft:
    base = dict(source=f"/inbox/{title}.md", source_format="markdown", series="珠政发", kind="通知",
                title=title, date=dt.date(2015, 3, 20), main_to="各街道办事处")
    return Draft(**{**base, **kw})


@pytest.fixture
def short_wait(monkeypatch):
    monkeypatch.setattr(ledger_mod, "BUSY_TIMEOUT_S", WAIT_S)


def test_refusals_caused_by_the_draft_are_number_refused(config, tmp_path):
    with Ledger(tmp_path / "l.sqlite3", config) as led:
        for bad in (draft("无日期", date=None), draft("错系列", series="不存在发"),
                    draft("写错文号", number_text="珠政发[2015]2号"), draft("未预留", number_text="珠政发〔2015〕9号")):
            with pytest.raises(NumberRefused):
                led.allocate(bad, actor="甲")
        assert led.events() == []


def test_a_write_lock_held_too_long_is_register_unavailable(config, tmp_path, short_wait):
    path = tmp_path / "l.sqlite3"
    with Ledger(path, config) as led:
        with HeldLock(path):
            with pytest.raises(RegisterUnavailable, match="登记簿") as e:
                led.allocate(draft("忙时来的稿"), actor="甲")
            assert not isinstance(e.value, NumberRefused) and isinstance(e.value, LedgerError)
        assert led.allocate(draft("忙时来的稿"), actor="甲").number.seq == 1   # nothing was taken


def test_parse_number_raises_value_error(config):
    from pipeline.numbers import parse_number

    with pytest.raises(ValueError, match="六角括号") as e:
        parse_number("珠政发[2015]2号", config)
    assert not isinstance(e.value, LedgerError)


def test_busy_register_fails_the_draft_for_a_retry_never_rejects_it(config, tmp_path, short_wait):
    """process_draft with the register locked: 'failed' (kept, retried), not 'rejected' with a note
    telling the clerk to fix a draft that has nothing wrong with it."""
    from pipeline.process import open_services, process_draft

    path = tmp_path / "通知.md"
    path.write_bytes(sample_draft(1))
    with open_services(config, "测试员") as svc:
        with HeldLock(ledger_mod.ledger_path(config)):
            o = process_draft(path, svc)
        assert o.status == "failed", o.problems
        assert any("登记簿" in p.message for p in o.problems)
        assert svc.ledger.documents() == [] and path.read_bytes() == sample_draft(1)


def test_a_year_the_register_cannot_number_is_refused_not_retried_forever(config, tmp_path):
    """成文日期 1850年…: the 文号 can never be formed (years 1900–2099). The draft goes back with a note;
    it must not escape as an error that the watcher keeps retrying."""
    from pipeline.process import open_services, process_draft

    path = tmp_path / "古稿.md"
    path.write_bytes(sample_draft(2).replace("2015年3月20日".encode(), "1850年3月20日".encode()))
    with open_services(config, "测试员") as svc:
        o = process_draft(path, svc)
        assert o.status == "rejected" and any("1850" in p.message for p in o.problems), o
        assert svc.ledger.documents() == []
