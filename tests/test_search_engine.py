"""tantivy is the default engine, an instance switches with `gongwen reindex`, doctor names a missing
index of the configured engine; the search command takes any query (one starting with "-" is a
NOT, an empty one lists everything and says so); the CLI imports only what a command uses."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.config import load
from pipeline.configcache import cache_dir, recall
from pipeline.search import health, index_root, open_index, reindex
from tests.conftest import REPO, write_instance
from tests.support.search import DOCS, make_config, write_record


def test_tantivy_is_the_default_engine(tmp_path):
    assert yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))["search"]["engine"] == "tantivy"
    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    del raw["search"]
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    for name in ("下行文", "上行文", "信函", "纪要"):
        (tpl / f"{name}.docx").touch()
    cfg = load(write_instance(tmp_path / "bare", paths={"templates": str(tpl), "fonts": str(tmp_path)},
                              **{k: v for k, v in raw.items() if k != "paths"}))
    assert cfg.search.engine == "tantivy"


def test_init_writes_tantivy(tmp_path):
    from pipeline.instance import init_instance

    init_instance(tmp_path / "new", None)
    assert load(tmp_path / "new" / "config.yaml").search.engine == "tantivy"


def _archived(tmp_path: Path, engine: str):
    cfg = make_config(tmp_path / "inst", engine)
    for d in DOCS:
        write_record(cfg.archive_dir, d)
    return cfg


def test_switching_engine_doctor_names_the_missing_index_and_reindex_builds_it(tmp_path):
    old = _archived(tmp_path, "whoosh")
    assert reindex(old) == len(DOCS)
    # The office switches config.yaml to tantivy.
    path = old.base / "config.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["search"] = {"engine": "tantivy"}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    new = load(path)
    first = health(new)[0]
    assert first.ok is False
    assert "tantivy" in first.item and "whoosh" in first.detail and "gongwen reindex" in first.detail
    r = CliRunner().invoke(cli, ["--config", str(path), "reindex"])
    assert r.exit_code == 0 and "（tantivy）：8 件" in r.stdout
    assert all(f.ok for f in health(new))
    assert (index_root(new, "whoosh") / "CURRENT.json").exists()     # the old index is left alone


def test_a_search_that_builds_a_missing_index_says_so(tmp_path):
    cfg = _archived(tmp_path, "tantivy")
    r = CliRunner().invoke(cli, ["--config", str(cfg.base / "config.yaml"), "search", "茶山坳", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["total"] == 1
    assert "搜索索引（tantivy）不存在" in r.stderr and "8 件" in r.stderr


def _search(cfg, *args):
    return CliRunner().invoke(cli, ["--config", str(cfg.base / "config.yaml"), "search", *args])


def test_a_query_starting_with_a_minus_is_not_an_option(tmp_path):
    cfg = _archived(tmp_path, "tantivy")
    reindex(cfg)
    r = _search(cfg, "-h经济", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["total"] == len(DOCS)        # no document holds h经济
    r = _search(cfg, "-珠晖", "--json", "--limit", "50")
    with open_index(cfg) as ix:
        assert {h["id"] for h in json.loads(r.stdout)["hits"]} == {h.id for h in ix.search("-珠晖", limit=None).hits}
    r = _search(cfg, "防汛", "-h人民", "--json")
    assert json.loads(r.stdout)["total"] == 1
    # The options themselves still work, and -h alone is the help.
    assert "Usage" in _search(cfg, "-h").stdout and "Usage" in _search(cfg, "--help").stdout
    r = _search(cfg, "--limit=1", "-通知", "--json")
    assert r.exit_code == 0 and len(json.loads(r.stdout)["hits"]) == 1


def test_an_empty_query_lists_everything_and_says_so(tmp_path):
    cfg = _archived(tmp_path, "tantivy")
    reindex(cfg)
    r = _search(cfg, "")
    assert r.exit_code == 0 and r.stdout.startswith("检索词为空：列出全部") and f"共 {len(DOCS)} 件" in r.stdout
    r = _search(cfg, "--series", "珠政函")
    assert r.stdout.startswith("检索词为空：列出全部") and "共 1 件" in r.stdout
    r = _search(cfg, "", "--json")
    assert json.loads(r.stdout)["total"] == len(DOCS) and "检索词为空：列出全部" in r.stderr


# --- start-up: a command pays only for what it uses ---------------------------------------------

PROBE = """
import sys
from pipeline.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = ("pydantic", "yaml", "rich", "tantivy", "whoosh", "docx", "pikepdf", "pypdf", "pyhanko", "lxml",
         "watchdog", "openpyxl", "filelock", "pipeline.ledger", "pipeline.intake", "pipeline.archive",
         "pipeline.drafts")
print("LOADED", " ".join(sorted(m for m in heavy if m in sys.modules)))
"""


def _loaded(*args: str, cwd: Path = REPO) -> set[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd,
                         timeout=120)
    line = [x for x in out.stdout.splitlines() if x.startswith("LOADED")][-1]
    return set(line.split()[1:])


def test_version_and_help_import_nothing_heavy():
    assert _loaded("--version") == set()
    assert _loaded("--help") == set()


CONFIG_ONLY = """
import sys
from pipeline.config import load
load(sys.argv[1])
print("LOADED", " ".join(sorted(m for m in {heavy} if m in sys.modules)))
"""


def test_search_imports_only_the_config_and_the_search(tmp_path):
    """Beyond what loading the config imports (its validators may import their owners' modules),
    a search imports the search and tantivy, nothing of the PDF, signing, archive or watch code."""
    cfg = _archived(tmp_path, "tantivy")
    reindex(cfg)
    path = str(cfg.base / "config.yaml")
    heavy = PROBE.split("heavy = ", 1)[1].split(")", 1)[0] + ")"
    out = subprocess.run([sys.executable, "-c", CONFIG_ONLY.replace("{heavy}", heavy), path], capture_output=True,
                         text=True, cwd=REPO, timeout=120)
    config_only = set(out.stdout.split("LOADED", 1)[1].split())
    # That load remembered the config; forget it again: the first search validates it in full ...
    shutil.rmtree(cache_dir())
    loaded = _loaded("--config", path, "search", "防汛", "--json")
    assert {"pydantic", "yaml", "tantivy"} <= loaded
    assert not (loaded - config_only) & {"whoosh", "docx", "pikepdf", "pypdf", "pyhanko", "watchdog", "openpyxl",
                                         "filelock", "pipeline.ledger", "pipeline.intake", "pipeline.archive",
                                         "pipeline.drafts", "rich"}
    # ... and remembers it, so the next searches need neither pydantic nor YAML (pipeline.configcache).
    again = _loaded("--config", path, "search", "防汛", "--json")
    assert "tantivy" in again and not again & {"pydantic", "yaml", "pipeline.ledger", "pipeline.archive"}


def test_search_with_a_remembered_config_finds_the_same_and_follows_an_edit(tmp_path):
    cfg = _archived(tmp_path, "tantivy")
    reindex(cfg)
    path = cfg.base / "config.yaml"
    first = json.loads(_search(cfg, "防汛", "--json").stdout)
    assert first["total"] >= 1 and recall(path) is not None
    again = json.loads(_search(cfg, "防汛", "--json").stdout)    # from the remembered facts
    assert again == first
    # The office moves the archive: the edit is seen at once, not the remembered place.
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw.setdefault("paths", {})["archive"] = "elsewhere"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert recall(path) is None
    moved = _search(cfg, "防汛", "--json")
    assert json.loads(moved.stdout)["total"] == 0 and "不存在" in moved.stderr


def test_help_lists_every_command_with_its_own_short_help():
    ctx = cli.make_context("gongwen", ["--help"], resilient_parsing=True)
    listed = dict(cli.listed_commands())
    assert set(listed) == set(cli.list_commands(ctx)) and {"search", "reindex", "doctor", "process"} <= set(listed)
    for name, short in listed.items():
        assert cli.get_command(ctx, name).get_short_help_str(limit=300) == short, name


def test_help_uses_no_deprecated_click_api():
    """`gongwen --help` shortened each line with click.utils.make_default_short_help, deprecated in
    click 8.5 (a DeprecationWarning on every --help; gone in click 9; found by the type check)."""
    result = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c",
                             "import sys; sys.argv[0] = 'gongwen'; from pipeline.cli import main; main()", "--help"],
                            capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "search" in result.stdout and "DeprecationWarning" not in result.stderr
