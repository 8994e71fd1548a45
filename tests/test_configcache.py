"""pipeline.configcache: a validated config's facts are remembered only while nothing they depend on
has changed, and a cache that cannot be used is never an error."""
from __future__ import annotations

import json

import pipeline
from pipeline import configcache
from pipeline.config import load
from pipeline.configcache import ConfigFacts, recall
from tests.conftest import write_instance


def test_nothing_is_remembered_before_the_config_validates(tmp_path):
    path = write_instance(tmp_path / "inst")
    assert recall(path) is None
    (tmp_path / "broken.yaml").write_text("paths: {inbx: x}\n", encoding="utf-8")
    assert recall(tmp_path / "broken.yaml") is None


def test_after_a_load_the_facts_are_the_configs(tmp_path, monkeypatch):
    path = write_instance(tmp_path / "inst", search={"engine": "whoosh"})
    cfg = load(path)
    facts = recall(path)
    assert isinstance(facts, ConfigFacts)
    assert facts.archive_dir == cfg.archive_dir and facts.search.engine == "whoosh" == cfg.search.engine
    assert facts.file == path.resolve()
    # Loading the same config again rewrites nothing (the cache file is the same inode).
    [cached] = configcache.cache_dir().iterdir()
    inode = cached.stat().st_ino
    load(path)
    assert cached.stat().st_ino == inode and recall(path) == facts
    # The same file named another way (relative, or through $GONGWEN_CONFIG) is the same config.
    monkeypatch.chdir(path.parent)
    assert recall("config.yaml") == facts
    monkeypatch.setenv("GONGWEN_CONFIG", str(path))
    monkeypatch.chdir(tmp_path)
    assert recall(None) == facts


def test_any_change_to_the_file_forgets_it(tmp_path):
    path = write_instance(tmp_path / "inst")
    load(path)
    data = path.read_bytes()
    path.write_bytes(data + b"\n")    # even a change that means nothing: the bytes are the key
    assert recall(path) is None
    path.write_bytes(data)
    assert recall(path) is not None


def test_another_gongwen_or_another_validation_code_forgets_it(tmp_path, monkeypatch):
    path = write_instance(tmp_path / "inst")
    load(path)
    with monkeypatch.context() as m:
        m.setattr(configcache, "__version__", pipeline.__version__ + ".1")
        assert recall(path) is None
    assert recall(path) is not None
    code = tmp_path / "config.py"
    code.write_bytes(configcache.VALIDATION_CODE.read_bytes())
    monkeypatch.setattr(configcache, "VALIDATION_CODE", code)
    load(path)
    assert recall(path) is not None
    code.write_bytes(code.read_bytes() + b"# a changed rule\n")
    assert recall(path) is None


def test_a_damaged_or_foreign_cache_file_is_ignored(tmp_path):
    path = write_instance(tmp_path / "inst")
    load(path)
    [cached] = configcache.cache_dir().iterdir()
    facts = json.loads(cached.read_text(encoding="utf-8"))
    for bad in ("{not json", "[]", json.dumps({**facts, "file": "/elsewhere/config.yaml"}),
                json.dumps({k: v for k, v in facts.items() if k != "engine"})):
        cached.write_text(bad, encoding="utf-8")
        assert recall(path) is None, bad
    assert load(path) and recall(path) is not None    # the next full load repairs it


def test_an_unwritable_cache_never_stops_a_load(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    path = write_instance(tmp_path / "inst")
    assert load(path).search.engine
    assert recall(path) is None


def test_a_config_that_is_not_utf8_is_a_config_error(tmp_path):
    import pytest

    from pipeline.errors import ConfigError

    path = tmp_path / "config.yaml"
    path.write_bytes("paths: {inbox: 收件}\n".encode("gbk"))
    with pytest.raises(ConfigError, match="UTF-8"):
        load(path)
