"""督办件 are searchable as documents of their own kind (record_kind 督办件), in both engines; a
rebuild keeps them, and doctor's index check counts them as expected, not as extras."""
from __future__ import annotations

import datetime as dt

import pytest

from pipeline import supervise as sv
from pipeline.config import load
from pipeline.ledger import Ledger
from pipeline.search import ENGINES, health, open_index, reindex
from pipeline.supervise.index import sync_index
from tests.conftest import write_instance


@pytest.fixture(params=ENGINES)
def cfg(tmp_path, request):
    c = load(write_instance(tmp_path / "i", search={"engine": request.param}))
    c.archive_dir.mkdir(parents=True)
    return c


def test_items_are_found_by_words_number_and_kind(cfg):
    with Ledger.open(cfg) as ledger:
        a = sv.add_item(ledger, cfg, matter="推进火车站广场综合整治，建立长效管理机制", source_type="领导批示",
                        source="陈礼洋区长批示", lead_unit="区城管局", assigned=dt.date(2015, 3, 2), actor="x")
        sv.add_item(ledger, cfg, matter="增设社区卫生服务站", source_type="人大建议", source="第2号建议",
                    lead_unit="区卫计局", assigned=dt.date(2015, 3, 18), actor="x")
        index = open_index(cfg)
        try:
            assert sync_index(ledger, cfg, index) == 2
            assert sync_index(ledger, cfg, index) == 0                       # nothing changed since
            sv.add_progress(ledger, cfg, a.reference, "已完成摊点清理", actor="x", day=dt.date(2015, 3, 5))
            assert sync_index(ledger, cfg, index) == 1
            hits = index.search("广场 整治").hits
            assert [h.id for h in hits] == [a.reference] and hits[0].record_kind == "督办件"
            assert [h.id for h in index.search("摊点清理").hits] == [a.reference]     # its 进展 too
            assert [h.id for h in index.search(a.reference).hits] == [a.reference]
            assert len(index.search("", kind="督办件", limit=None).hits) == 2
        finally:
            index.close()
    assert all(f.ok is not False for f in health(cfg)), [f for f in health(cfg) if f.ok is False]
    assert reindex(cfg) == 2
    assert all(f.ok is not False for f in health(cfg))
