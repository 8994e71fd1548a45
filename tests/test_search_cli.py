"""`gongwen search` and `gongwen reindex` on a real instance whose archive holds record folders
(metadata.json + 全文.txt), through the real command-line entry point."""
from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from pipeline.cli import cli, main
from pipeline.search import index_root
from tests.support.search import DOCS, make_config, write_record


@pytest.fixture
def instance(tmp_path):
    cfg = make_config(tmp_path / "inst", "whoosh")
    for d in DOCS:
        write_record(cfg.archive_dir, d)
    return cfg


def run(cfg, capsys, *args: str) -> tuple[int, str, str]:
    """Run like the console script does (``main``: domain errors → one line + exit code)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["--config", str(cfg.base / "config.yaml"), *args])
        raise SystemExit(0)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


def invoke(cfg, *args: str):
    return CliRunner().invoke(cli, ["--config", str(cfg.base / "config.yaml"), *args])


def test_reindex_builds_from_the_archive_with_progress(instance):
    r = invoke(instance, "reindex")
    assert r.exit_code == 0, r.output
    assert "已重建搜索索引（whoosh）：8 件" in r.stdout
    assert "重建索引" in r.stderr                      # the progress bar goes to stderr
    r = invoke(instance, "reindex", "--engine", "tantivy", "--chunk", "3")
    assert r.exit_code == 0 and "（tantivy）：8 件" in r.stdout
    assert (index_root(instance, "tantivy") / "CURRENT.json").exists()


def test_search_table_shows_number_date_title_and_marked_snippet(instance):
    invoke(instance, "reindex")
    r = invoke(instance, "search", "防汛")
    assert r.exit_code == 0, r.output
    for text in ("文号", "日期", "标题", "摘要", "珠政办发〔2017〕2号", "2017-07-30", "共 1 件"):
        assert text in r.stdout
    assert "【防汛】" in r.stdout                      # not a terminal: matches keep their brackets


def test_terminal_output_styles_matches_instead_of_brackets():
    from rich.console import Console

    from pipeline.cli.find import MATCH_STYLE, highlighted

    text = highlighted("沿【珠晖】大道，【GDP】增长", ((2, 4), (9, 12)))
    assert text.plain == "沿珠晖大道，GDP增长"
    assert [(s.start, s.end, str(s.style)) for s in text.spans] == [(1, 3, MATCH_STYLE), (6, 9, MATCH_STYLE)]
    console = Console(force_terminal=True, color_system="standard", width=40)
    with console.capture() as cap:
        console.print(text)
    assert "【" not in cap.get() and "\x1b[" in cap.get()


def test_search_json_for_scripts(instance):
    invoke(instance, "reindex")
    r = invoke(instance, "search", "珠晖", "--json", "--limit", "2", "--sort", "date")
    data = json.loads(r.stdout)
    assert data["total"] == 4 and len(data["hits"]) == 2 and data["sort"] == "date"
    assert [h["id"] for h in data["hits"]] == ["珠政办发〔2017〕2号", "珠政函〔2016〕7号"]
    # 珠晖 is in these two titles only: the snippet is the start of the body, nothing marked.
    assert data["hits"][0]["snippet"] == "人人人民政府与 人民 政府。防汛抗旱。"
    assert "珠晖" in data["hits"][0]["title"]
    assert set(data["hits"][0]) >= {"id", "number", "archive_code", "title", "date", "year", "series",
                                    "kind", "score", "snippet"}


def test_search_options_filter(instance):
    invoke(instance, "reindex")

    def hits(*args):
        return [h["id"] for h in json.loads(invoke(instance, "search", *args, "--json").stdout)["hits"]]

    assert hits("通知", "--year", "2017", "--sort", "date") == ["珠政发〔2017〕6号", "珠政发〔2017〕5号"]
    assert hits("", "--series", "珠政函") == ["珠政函〔2016〕7号"]
    assert hits("", "--kind", "纪要") == ["常务会议纪要〔2016〕2号"]
    assert set(hits("", "--from", "2016-08", "--to", "2016")) == {"珠政函〔2016〕7号", "常务会议纪要〔2016〕2号"}
    assert hits("珠政发〔2015〕3号") == ["珠政发〔2015〕3号"]
    assert hits("珠晖", "-通知", "-通报", "--sort", "date") == ["珠政函〔2016〕7号", "珠政发〔2015〕13号"]


def test_search_builds_a_missing_index_first(instance):
    r = invoke(instance, "search", "茶山坳", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["total"] == 1


def test_errors_are_one_chinese_line(instance, capsys):
    invoke(instance, "reindex")
    code, out, err = run(instance, capsys, "search", "珠晖", "AND")
    assert code == 1 and err.startswith("错误：检索式有误：AND 后缺少检索词")
    assert "Traceback" not in err
    code, out, err = run(instance, capsys, "search", "珠晖", "--from", "去年")
    assert code == 2 and "无法识别的日期" in err
    # A damaged index: the message says how to repair it, and reindex does.
    root = index_root(instance, "whoosh")
    gen = root / json.loads((root / "CURRENT.json").read_text(encoding="utf-8"))["generation"]
    shutil.rmtree(gen)
    code, out, err = run(instance, capsys, "search", "珠晖")
    assert code == 1 and "gongwen reindex" in err
    assert invoke(instance, "reindex").exit_code == 0
    assert json.loads(invoke(instance, "search", "珠晖", "--json").stdout)["total"] == 4


def test_no_hits_says_so(instance):
    invoke(instance, "reindex")
    r = invoke(instance, "search", "量子计算")
    assert r.exit_code == 0 and "没有找到与“量子计算”相符的文件" in r.stdout
