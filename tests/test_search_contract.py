"""One contract for the search index, run on both engines (whoosh, tantivy) with a small corpus of
our own: Chinese bigram phrases, single characters, mixed CJK/ASCII, exact 文号/档号, weighting,
query syntax, filters, sorting, snippets, versioning, damage and rebuild, one writer at a time."""
from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

import pytest

from pipeline.config import load
from pipeline.errors import SearchError
from pipeline.search import (POINTER, FolderIndex, IndexDoc, archive_documents, health, index_root,
                             open_index, reindex)
from tests.support.search import DOCS, doc, make_config, write_record

ENGINES = ["whoosh", "tantivy"]
D = dt.date


IDS = {d.id for d in DOCS}


def ids(res) -> set[str]:
    return {h.id for h in res.hits}


@pytest.fixture(scope="module", params=ENGINES)
def built(request, tmp_path_factory):
    """A read-only index of DOCS per engine, shared by the module's read-only tests."""
    engine = request.param
    cfg = make_config(tmp_path_factory.mktemp(f"contract-{engine}"), engine)
    index = open_index(cfg, engine)
    index.add(DOCS)
    yield index
    index.close()


@pytest.fixture(params=ENGINES)
def fresh(request, tmp_path):
    """A new, empty index (and its config) for tests that change it."""
    cfg = make_config(tmp_path / "inst", request.param)
    index = open_index(cfg, request.param)
    yield cfg, index
    index.close()


# --- Chinese matching ----------------------------------------------------------------------------


def test_count_and_version_recorded(built):
    assert built.count() == len(DOCS)
    assert built.ids() == IDS
    pointer = json.loads((built.root / POINTER).read_text(encoding="utf-8"))
    assert pointer["version"] == built.version and built.engine_name in built.version


@pytest.mark.parametrize("query, expected", [
    ("珠晖", {"珠政发〔2015〕3号", "珠政发〔2015〕13号", "珠政函〔2016〕7号", "珠政办发〔2017〕2号"}),
    ("珠晖区", {"珠政发〔2015〕3号", "珠政函〔2016〕7号", "珠政办发〔2017〕2号"}),   # not 13号: 珠晖 + 晖区 apart
    ("晖区人民", {"珠政函〔2016〕7号"}),
    # the 纪要's "工作 会议": spaces between CJK characters are not text (a spaced-out line)
    ("工作会议", {"珠政发〔2015〕3号", "常务会议纪要〔2016〕2号"}),
    ("人人民", {"珠政办发〔2017〕2号"}),                                           # repeated characters
    ("人民政府", {"珠政发〔2015〕3号", "珠政函〔2016〕7号", "常务会议纪要〔2016〕2号", "珠政办发〔2017〕2号"}),
    ("茶山坳镇便民服务中心", {"珠政函〔2016〕7号"}),
    ("便民中心", set()),                                                           # bigrams present, phrase absent
])
def test_bigram_phrases_are_exact(built, query, expected):
    assert ids(built.search(query, limit=None)) == expected


@pytest.mark.parametrize("query, expected", [
    ("珠", {"珠政发〔2015〕3号", "珠政发〔2015〕13号", "珠政办发〔2016〕1号", "珠政函〔2016〕7号",
           "珠政发〔2017〕5号", "珠政发〔2017〕6号", "珠政办发〔2017〕2号"}),   # 文号 text counts: 珠政发…
    ("汛", {"珠政办发〔2017〕2号"}),
    ("坳", {"珠政函〔2016〕7号"}),
    ("鑫", set()),
])
def test_single_character_queries(built, query, expected):
    assert ids(built.search(query, limit=None)) == expected


@pytest.mark.parametrize("query, expected", [
    ("GDP", {"珠政发〔2015〕3号"}), ("gdp", {"珠政发〔2015〕3号"}), ("ＧＤＰ增长", {"珠政发〔2015〕3号"}),
    ("PDF文件", {"珠政办发〔2016〕1号"}), ("PDF/A格式", {"珠政办发〔2016〕1号"}),
    ("２０１５年度", {"珠政发〔2015〕3号"}), ("2015年度工作", {"珠政发〔2015〕3号"}),
    ("PD", set()),                                   # ASCII words are whole words
])
def test_mixed_cjk_and_ascii(built, query, expected):
    assert ids(built.search(query, limit=None)) == expected


# --- 文号 and 档号 --------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["珠政发〔2015〕3号", "珠政发[2015]3号", "珠政发（2015）3号", "珠政发〔2015〕03号",
                                   "文号:珠政发〔2015〕3号", "number:珠政发(2015)3号", "Z109-WS·2015-Y-BGS-0001",
                                   "z109-ws.2015-y-bgs-0001", "档号:Z109-WS·2015-Y-BGS-0001"])
def test_reference_and_archive_code_are_exact(built, query):
    res = built.search(query)
    assert [h.id for h in res.hits] == ["珠政发〔2015〕3号"] and res.total == 1


def test_printed_number_of_a_jiyao_is_found(built):
    assert [h.id for h in built.search("〔2016〕2号").hits] == ["常务会议纪要〔2016〕2号"]


def test_quoted_reference_also_finds_documents_citing_it(built):
    res = built.search('"珠政发〔2015〕3号"')
    assert [h.id for h in res.hits][0] == "珠政发〔2015〕3号"
    assert ids(res) == {"珠政发〔2015〕3号", "珠政办发〔2016〕1号"}
    cited = next(h for h in res.hits if h.id == "珠政办发〔2016〕1号")
    assert "【珠政发〔2015〕3号】" in cited.snippet


def test_partial_reference_searches_the_reference_text(built):
    assert ids(built.search("文号:珠政函", limit=None)) == {"珠政函〔2016〕7号"}


# --- ranking, syntax, filters, sorting, snippets ---------------------------------------------------


def test_title_counts_but_does_not_swamp_the_body(fresh):
    """BM25 over 标题 and 正文 as fields, the title weighted less than a use in the body: the words
    in the title and the body beat the body alone, which beats the title alone; heavy use in the
    body beats a title hit."""
    cfg, index = fresh
    filler = "各单位要按照要求认真落实，确保工作取得实效。"
    index.add([
        doc("珠政发〔2018〕1号", "关于开展环境卫生整治的通知", filler * 2, D(2018, 1, 1), "珠政发", "通知"),
        doc("珠政发〔2018〕2号", "关于做好有关工作的通知", "开展环境卫生整治。" + filler * 2, D(2018, 1, 2), "珠政发", "通知"),
        doc("珠政发〔2018〕3号", "关于开展环境卫生整治的通知", "开展环境卫生整治。" + filler * 2, D(2018, 1, 3), "珠政发", "通知"),
        doc("珠政发〔2018〕4号", "关于做好有关工作的通知", "环境卫生整治，" * 4 + filler, D(2018, 1, 4), "珠政发", "通知"),
        doc("珠政发〔2018〕5号", "关于防汛工作的通知", filler * 3, D(2018, 1, 5), "珠政发", "通知"),
    ])
    res = index.search("环境卫生整治")
    order = [h.id[-2] for h in res.hits]
    assert order.index("3") < order.index("2") < order.index("1")
    assert order.index("4") < order.index("1") and len(order) == 4
    assert all(h.score > 0 for h in res.hits)


@pytest.mark.parametrize("query, expected", [
    ("珠晖 通知", {"珠政发〔2015〕3号"}),
    ("珠晖 AND 通知", {"珠政发〔2015〕3号"}),
    ("控违拆违 OR 防汛", {"珠政发〔2015〕13号", "珠政办发〔2017〕2号"}),
    ("珠晖 -通知", {"珠政发〔2015〕13号", "珠政函〔2016〕7号", "珠政办发〔2017〕2号"}),
    ("珠晖 NOT 通知", {"珠政发〔2015〕13号", "珠政函〔2016〕7号", "珠政办发〔2017〕2号"}),
    ("(控违拆违 OR 防汛) AND NOT 通报", {"珠政发〔2015〕13号"}),
    ("NOT 珠", {"常务会议纪要〔2016〕2号"}),
    ('"便民服务中心" 请示', {"珠政函〔2016〕7号"}),
    ("“便民服务中心”", set()),          # Chinese quotes are text (the 函 quotes it in 《…》)
    ("标题:通知", {"珠政发〔2015〕3号", "珠政办发〔2016〕1号", "珠政发〔2017〕5号", "珠政发〔2017〕6号"}),
    ("正文:通知", set()),
    ("title:环境卫生", {"珠政发〔2017〕5号"}),
    ("标题：(会议 OR 防汛)", {"珠政发〔2015〕3号", "常务会议纪要〔2016〕2号", "珠政办发〔2017〕2号"}),
    ("(控违拆违 OR 防汛) -通报", {"珠政发〔2015〕13号"}),
    ("-(控违拆违 OR 防汛) 年度:2015", {"珠政发〔2015〕3号"}),
    # Full-width brackets are text (a pasted （一）): inside a 文号 they are its brackets.
    ("珠政发（2015）3号 GDP", {"珠政发〔2015〕3号"}),
    ("年度:2016", {"珠政办发〔2016〕1号", "珠政函〔2016〕7号", "常务会议纪要〔2016〕2号"}),
    ("年度:2016..2017 文种:通报", {"珠政办发〔2017〕2号"}),
    ("文种:通知 -年度:2017", {"珠政发〔2015〕3号", "珠政办发〔2016〕1号"}),
    ("机关代字:珠政办发", {"珠政办发〔2016〕1号", "珠政办发〔2017〕2号"}),
    ("责任者:珠晖区人民政府办公室", {"珠政办发〔2016〕1号", "珠政办发〔2017〕2号"}),
    ("日期:2016-01-01..2016-08-31", {"珠政办发〔2016〕1号", "珠政函〔2016〕7号"}),
    ("日期:2015年6月1日", {"珠政发〔2015〕13号"}),
    ("", IDS),
])
def test_query_syntax(built, query, expected):
    assert ids(built.search(query, limit=None)) == expected


@pytest.mark.parametrize("query, words", [
    # (an unpaired quote or bracket is text: tests/test_search_forgiving.py)
    ("珠晖 AND", "AND"), ("OR 珠晖", "OR"), ("珠晖 NOT", "NOT"), ("年度:今年", "年度"), ("日期:2015-02-30", "日期"),
    ("标题: 通知", "标题"), ("( )", "括号"),
])
def test_malformed_queries_say_what_is_wrong(built, query, words):
    with pytest.raises(SearchError) as e:
        built.search(query)
    assert "检索式有误" in str(e.value) and words in str(e.value)


def test_filters(built):
    assert ids(built.search("通知", year=2017, limit=None)) == {"珠政发〔2017〕5号", "珠政发〔2017〕6号"}
    assert ids(built.search("", series="珠政办发", limit=None)) == {"珠政办发〔2016〕1号", "珠政办发〔2017〕2号"}
    assert ids(built.search("", kind="函", limit=None)) == {"珠政函〔2016〕7号"}
    assert ids(built.search("", date_from=D(2016, 8, 15), date_to=D(2016, 9, 1), limit=None)) == {
        "珠政函〔2016〕7号", "常务会议纪要〔2016〕2号"}
    assert ids(built.search("珠晖", date_to=D(2015, 12, 31), limit=None)) == {"珠政发〔2015〕3号", "珠政发〔2015〕13号"}
    assert built.search("珠晖", year=2015, kind="通知", series="珠政发").total == 1
    with pytest.raises(SearchError):
        built.search("", date_from=D(2017, 1, 1), date_to=D(2016, 1, 1))


def test_sort_by_date_and_limit_and_total(built):
    res = built.search("", sort="date", limit=3)
    assert [h.id for h in res.hits] == ["珠政办发〔2017〕2号", "珠政发〔2017〕6号", "珠政发〔2017〕5号"]
    assert res.total == len(DOCS)
    every = built.search("人民", sort="date", limit=None)
    dates = [h.date for h in every.hits]
    assert dates == sorted(dates, reverse=True) and len(dates) == every.total
    rel = built.search("人民", limit=None)
    scores = [h.score for h in rel.hits]
    assert scores == sorted(scores, reverse=True) and ids(rel) == ids(every)


def test_hits_carry_the_metadata(built):
    h = built.search("珠政发〔2015〕3号").hits[0]
    assert (h.number, h.archive_code, h.date, h.year, h.series, h.kind) == (
        "珠政发〔2015〕3号", "Z109-WS·2015-Y-BGS-0001", D(2015, 3, 20), 2015, "珠政发", "通知")
    assert h.title == "关于召开珠晖区2015年度工作会议的通知"
    j = h.to_json()
    assert j["date"] == "2015-03-20" and j["archive_code"] == "Z109-WS·2015-Y-BGS-0001"


def test_snippets_mark_every_match(built):
    h = built.search("珠晖 GDP").hits[0]
    assert "【珠晖】" in h.snippet and "【GDP】" in h.snippet
    for start, end in h.highlights:
        assert h.snippet[start - 1] == "【" and h.snippet[end] == "】"
        assert h.snippet[start:end] in ("珠晖", "GDP")
    # Negated words are not marked; full-width input marks the ASCII text.
    h = built.search("ＧＤＰ -控违").hits[0]
    assert "【GDP】" in h.snippet and h.snippet.count("【") == 1


# --- writing -------------------------------------------------------------------------------------


def test_add_replaces_by_id_and_delete_removes(fresh):
    cfg, index = fresh
    index.add(DOCS)
    changed = IndexDoc(**{**DOCS[0].__dict__, "body": "改为讨论防汛抗旱。"})
    index.add([changed])
    assert index.count() == len(DOCS)
    assert "珠政发〔2015〕3号" not in ids(index.search("GDP"))
    assert "珠政发〔2015〕3号" in ids(index.search("防汛抗旱"))
    index.delete("珠政发〔2015〕13号")
    assert index.count() == len(DOCS) - 1 and not index.search("控违拆违").hits
    index.delete("珠政发〔2099〕1号")   # deleting what is not there is not an error
    assert index.count() == len(DOCS) - 1


def test_rebuild_replaces_the_generation_and_others_see_it(fresh):
    cfg, index = fresh
    index.add(DOCS[:2])
    other = open_index(cfg, index.engine_name)       # another opener, e.g. the watcher
    assert other.count() == 2
    progress = []
    n = index.rebuild(DOCS, chunk=3, progress=progress.append)
    assert n == len(DOCS) and progress == [3, 6, 8]
    assert other.count() == len(DOCS)                # picked up the new generation
    gens = [p for p in index.root.iterdir() if p.is_dir()]
    assert len(gens) == 1                             # the old one is gone
    other.close()


# --- version, damage, rebuild from the archive ---------------------------------------------------


@pytest.fixture(params=ENGINES)
def archived(request, tmp_path):
    cfg = make_config(tmp_path / "inst", request.param)
    for d in DOCS:
        write_record(cfg.archive_dir, d)
    return cfg


def test_documents_from_archive_records(archived):
    docs = {d.id: d for d in archive_documents(archived)}
    assert set(docs) == IDS
    assert docs["珠政发〔2015〕3号"] == DOCS[0]          # title line split off 全文.txt
    assert docs["常务会议纪要〔2016〕2号"].record_kind == "纪要"


def test_record_without_a_date_is_refused_clearly():
    with pytest.raises(SearchError, match="缺少“日期”"):
        IndexDoc.from_record({"文件编号": "珠政发〔2015〕9号", "题名": "关于某事的通知"}, "")


def test_missing_index_is_built_from_the_archive(archived):
    findings = health(archived)
    assert findings[0].ok is False and "gongwen reindex" in findings[0].detail
    index = open_index(archived)
    assert index.count() == len(DOCS)
    assert all(f.ok for f in health(archived))
    index.close()


def test_index_deleted_by_hand_is_detected_and_rebuilt(archived):
    index = open_index(archived)
    assert index.count() == len(DOCS)
    index.close()
    import shutil

    shutil.rmtree(index_root(archived, archived.search.engine))
    assert [f.ok for f in health(archived)] == [False]
    with pytest.raises(SearchError, match="gongwen reindex"):
        index.search("珠晖")                        # an open index notices too
    reopened = open_index(archived)                 # the service's next start rebuilds it
    assert reopened.count() == len(DOCS) and reopened.search("珠晖").total == 4
    reopened.close()


def _damage(root: Path) -> None:
    gen = root / json.loads((root / POINTER).read_text(encoding="utf-8"))["generation"]
    for p in gen.iterdir():
        if p.is_file() and p.stat().st_size > 0 and not p.name.startswith("."):
            data = bytearray(p.read_bytes())
            for i in range(0, len(data), 7):
                data[i] ^= 0x5A
            # a new file in its place, not a rewrite in place: an index an earlier test opened may still
            # have the old one memory-mapped (tantivy), and truncating a mapped file is SIGBUS for its reader
            tmp = p.with_name(p.name + ".damaged")
            tmp.write_bytes(bytes(data))
            os.replace(tmp, p)


def test_corrupted_index_is_detected_and_reindex_repairs_it(archived):
    engine = archived.search.engine
    open_index(archived).close()
    _damage(index_root(archived, engine))
    with pytest.raises(SearchError, match="gongwen reindex"):
        open_index(archived)
    findings = health(archived)
    assert findings[0].ok is False and "gongwen reindex" in findings[0].detail
    assert findings[-1].ok is None                   # not checked, never reported as passed
    assert reindex(archived) == len(DOCS)
    index = open_index(archived)
    assert index.search("茶山坳").total == 1 and all(f.ok for f in health(archived))
    index.close()


def test_version_mismatch_asks_for_reindex_or_rebuilds(archived):
    engine = archived.search.engine
    open_index(archived).close()
    ptr = index_root(archived, engine) / POINTER
    data = json.loads(ptr.read_text(encoding="utf-8"))
    ptr.write_text(json.dumps({**data, "version": "gongwen-search-0"}), encoding="utf-8")
    with pytest.raises(SearchError, match="版本.*gongwen reindex"):
        open_index(archived)
    assert [f.ok for f in health(archived)][:2] == [True, False]
    index = open_index(archived, rebuild_from=lambda: archive_documents(archived))
    assert index.count() == len(DOCS)
    assert json.loads(ptr.read_text(encoding="utf-8"))["version"] == index.version
    index.close()


def test_missing_pointer_beside_index_files_is_damage(archived):
    open_index(archived).close()
    (index_root(archived, archived.search.engine) / POINTER).unlink()
    with pytest.raises(SearchError, match="gongwen reindex"):
        open_index(archived)


def test_health_names_documents_missing_from_the_index(archived):
    index = open_index(archived)
    index.delete("珠政函〔2016〕7号")
    last = health(archived)[-1]
    assert last.ok is False and "珠政函〔2016〕7号" in last.detail
    index.close()


def test_archive_codes_as_the_index_holds_them(built):
    codes = built.archive_codes()
    assert set(codes) == IDS and codes["珠政发〔2015〕3号"] == "Z109-WS·2015-Y-BGS-0001"
    assert codes["珠政函〔2016〕7号"] is None
    assert built.archive_codes(2015) == {"珠政发〔2015〕3号": "Z109-WS·2015-Y-BGS-0001",
                                         "珠政发〔2015〕13号": "Z109-WS·2015-Y-BGS-0002"}


def test_health_names_a_document_whose_archive_code_the_index_lacks(archived):
    """A 档号 given at year end that did not reach the index: searching by it would find nothing."""
    open_index(archived).close()
    folder = archived.archive_dir / "2016" / "珠政函" / "珠政函〔2016〕7号"
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    meta["档号"] = "Z109-WS·2016-D30-BGS-0001"
    (folder / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    last = health(archived)[-1]
    assert last.ok is False and "档号" in last.detail and "珠政函〔2016〕7号" in last.detail

# --- one writer at a time, crashes ----------------------------------------------------------------
# Child processes are started with "spawn": a fresh interpreter, like the watcher and a CLI.


def _hold_lock_child(cfg_path: str, engine: str, locked: str, release: str) -> None:
    cfg = load(cfg_path)
    index = open_index(cfg, engine)

    def slow():
        Path(locked).touch()
        deadline = time.monotonic() + 300            # the parent releases it; never wait for ever
        while not Path(release).exists():
            if time.monotonic() > deadline:
                raise TimeoutError("never released")
            time.sleep(0.02)
        yield doc("珠政发〔2018〕1号", "关于子进程写入的通知", "子进程写入的文件。", D(2018, 1, 2), "珠政发", "通知")

    index.add(slow())
    index.close()


def _wait_for(cond, proc, what: str, timeout: float = 60) -> None:
    """Poll ``cond`` until true; fail at once if the child process died, or after ``timeout`` s."""
    end = time.monotonic() + timeout
    while not cond():
        assert proc.is_alive() or cond(), f"child process died before {what}"
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.mark.parametrize("engine", ENGINES)
def test_second_writer_waits_for_the_first(tmp_path, engine):
    cfg = make_config(tmp_path / "inst", engine)
    open_index(cfg, engine).add(DOCS)
    locked, release = tmp_path / "locked", tmp_path / "release"
    ctx = mp.get_context("spawn")
    child = ctx.Process(target=_hold_lock_child,
                        args=(str(cfg.base / "config.yaml"), engine, str(locked), str(release)))
    child.start()
    try:
        _wait_for(locked.exists, child, f"{locked.name} to appear")
        impatient = open_index(cfg, engine, lock_timeout=0.3)
        with pytest.raises(SearchError, match="正由另一个进程写入"):
            impatient.add([doc("珠政发〔2018〕2号", "关于父进程的通知", "父进程。", D(2018, 2, 1), "珠政发", "通知")])
        assert impatient.search("父进程").total == 0 and impatient.count() == len(DOCS)   # reads go on
        # A patient writer blocks until the child commits, then writes on top of it.
        patient = open_index(cfg, engine, lock_timeout=60)
        import threading

        done = threading.Event()
        t = threading.Thread(target=lambda: (patient.add([doc("珠政发〔2018〕3号", "关于等待的通知", "等待后写入。",
                                                               D(2018, 3, 1), "珠政发", "通知")]), done.set()))
        t.start()
        assert not done.wait(0.5), "the second writer did not wait for the lock"
        release.touch()
        t.join(60)
        assert done.is_set()
    finally:
        release.touch()
        child.join(60)
    assert child.exitcode == 0
    final = open_index(cfg, engine)
    assert final.count() == len(DOCS) + 2
    assert final.search("子进程写入").total == 1 and final.search("等待后写入").total == 1


def _add_many_child(cfg_path: str, engine: str, prefix: str, n: int) -> None:
    index = open_index(load(cfg_path), engine)
    for i in range(1, n + 1):
        index.add([doc(f"{prefix}〔2019〕{i}号", f"关于{prefix}第{i}件的通知", f"{prefix}并发写入测试第{i}件。",
                       D(2019, 1, 1) + dt.timedelta(days=i), prefix, "通知")])
    index.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_concurrent_writers_in_two_processes_lose_nothing(tmp_path, engine):
    cfg = make_config(tmp_path / "inst", engine)
    open_index(cfg, engine).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_add_many_child, args=(str(cfg.base / "config.yaml"), engine, p, 15))
             for p in ("珠政发", "珠政办发")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    index = open_index(cfg, engine)
    assert index.count() == 30 and index.search("并发写入测试").total == 30
    assert index.search("珠政办发〔2019〕15号").total == 1


def _crash_child(cfg_path: str, engine: str, committed: str, mode: str) -> None:
    index = open_index(load(cfg_path), engine)
    if mode == "add":
        for i in range(1, 100000):
            index.add([doc(f"珠政发〔2020〕{i}号", "关于崩溃测试的通知", f"崩溃测试第{i}件。" * 30,
                           D(2020, 1, 1), "珠政发", "通知")])
            Path(committed).write_text(str(i))
    else:
        def endless():
            for i in range(1, 10 ** 7):
                if i == 300:
                    Path(committed).write_text("rebuilding")
                yield doc(f"珠政发〔2021〕{i}号", "关于重建中崩溃的通知", f"重建第{i}件。" * 30,
                          D(2021, 1, 1), "珠政发", "通知")
        index.rebuild(endless(), chunk=100)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("mode", ["add", "rebuild"])
def test_killed_writer_leaves_a_usable_index(tmp_path, engine, mode):
    cfg = make_config(tmp_path / "inst", engine)
    open_index(cfg, engine).add(DOCS)
    committed = tmp_path / "committed"
    ctx = mp.get_context("spawn")
    child = ctx.Process(target=_crash_child, args=(str(cfg.base / "config.yaml"), engine, str(committed), mode))
    child.start()
    _wait_for(committed.exists, child, f"{committed.name} to appear")
    if mode == "add":
        _wait_for(lambda: int(committed.read_text() or 0) >= 5, child, "five documents committed")
    os.kill(child.pid, signal.SIGKILL)
    child.join(30)
    index = open_index(cfg, engine, lock_timeout=10)   # opens: not damaged, lock not stale
    n = index.count()
    if mode == "add":
        assert n >= len(DOCS) + 5 and index.search("崩溃测试").total == n - len(DOCS)
    else:
        assert n == len(DOCS)                            # the live generation was never touched
    assert index.search("茶山坳").total == 1
    index.add([doc("珠政发〔2022〕1号", "关于崩溃之后的通知", "崩溃之后仍可写入。", D(2022, 1, 1), "珠政发", "通知")])
    assert index.search("崩溃之后").total == 1
    assert index.rebuild(DOCS) == len(DOCS)
    assert [p.name for p in index.root.iterdir() if p.is_dir()] == [json.loads(
        (index.root / POINTER).read_text(encoding="utf-8"))["generation"]]   # crashed generation cleaned
    index.close()


def test_unknown_engine_is_refused(tmp_path):
    cfg = make_config(tmp_path / "inst")
    with pytest.raises(SearchError, match="未知的检索引擎"):
        FolderIndex(tmp_path / "x", "lucene")
    assert cfg.search.engine == "whoosh"


# --- snippets (no engine) -----------------------------------------------------------------------------


def test_snippet_window_is_the_densest_group_of_matches():
    from pipeline.search import text as T

    def brute(matches, width):         # the definition: count every match inside each candidate window
        lead, best, best_n = width // 5, 0, -1
        for s, _ in matches:
            w0 = max(0, s - lead)
            n = sum(1 for a, b in matches if a >= w0 and b <= w0 + width)
            if n > best_n:
                best, best_n = w0, n
        return best

    import random

    rng = random.Random(7)
    for _ in range(300):
        text = "".join(rng.choice("防汛工作的通知，各单位") for _ in range(rng.randint(1, 400)))
        needles = rng.sample(["防汛", "的", "工作", "通知，各", "单位"], rng.randint(1, 3))
        matches = T.find_matches(text, needles)
        if matches:
            width = rng.choice((5, 20, 90))
            assert T._densest_window(matches, width) == brute(matches, width), (text, needles, width)
    # The snippet shows the crowded part of a long text, every match in it marked.
    body = "前言部分没有要找的词。" * 30 + "防汛、防汛、防汛。" + "其后也没有。" * 30 + "防汛。"
    snip, spans = T.snippet(body, ["防汛"])
    assert snip.count("【防汛】") == 3 and len(spans) == 3 and snip.startswith("…") and snip.endswith("…")


def _text_pdf(path: Path, text: str) -> None:
    """A one-page PDF whose only content is ``text`` in Helvetica (ASCII: no CJK font needed)."""
    import pikepdf

    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    stream = pdf.make_stream(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("ascii"))
    pdf.pages.append(pikepdf.Page(pikepdf.Dictionary(
        Type=pikepdf.Name.Page, MediaBox=[0, 0, 595, 842], Contents=stream,
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)))))
    pdf.save(path)


def test_reindex_reads_the_pdf_of_a_record_without_its_text_file(archived):
    """`gongwen reindex` rebuilds from the archive's metadata and PDFs: a record whose 全文.txt is gone
    is still found by the words of its 正本."""
    d = doc("珠政发〔2018〕9号", "关于档案重建的通知", "", D(2018, 2, 2), "珠政发", "通知")
    folder = write_record(archived.archive_dir, d)
    (folder / "全文.txt").unlink()
    _text_pdf(folder / "正本.pdf", "Rebuilt from the signed PDF")
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    meta["电子文件"] = [{"稿本": "正本", "计算机文件名": "正本.pdf"}]
    (folder / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    assert reindex(archived) == len(DOCS) + 1
    with open_index(archived) as index:
        assert ids(index.search("signed PDF")) == {"珠政发〔2018〕9号"}
