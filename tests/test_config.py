"""config.yaml is validated at load: each mistake stops start-up with a message naming the key."""
from __future__ import annotations

import pytest
import yaml

from pipeline.config import load
from pipeline.errors import ConfigError
from tests.conftest import REPO


def _write(tmp_path, mutate):
    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    tpl = tmp_path / "tpl"
    tpl.mkdir(exist_ok=True)
    for n in ("下行文", "上行文", "信函", "纪要"):
        (tpl / f"{n}.docx").write_bytes(b"")
    raw.setdefault("paths", {})["templates"] = str(tpl)
    mutate(raw)
    p = tmp_path / "config.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return p


def test_default_config_describes_the_office(tmp_path):
    cfg = load(_write(tmp_path, lambda r: None))
    assert cfg.organisation.unit.code == "BGS"
    assert set(cfg.series) == {"珠政发", "珠政办发", "珠政函", "常务会议纪要"}
    assert cfg.series["常务会议纪要"].sealed is False
    assert {r.folder for r in cfg.intake.routes} == {"珠政发", "珠政办发", "珠政函", "纪要"}
    assert cfg.archive.retention_for("常务会议纪要", "纪要") == "Y"
    assert cfg.archive.retention_for("珠政函", "函") == "D10"
    assert cfg.inbox == tmp_path / "inbox"


@pytest.mark.parametrize("mutate, key", [
    (lambda r: r.update(organisaton=r["organisation"]), "organisaton"),
    (lambda r: r["series"]["珠政发"].update(sealled=True), "sealled"),
    (lambda r: r["intake"].update(poll_interval_s="often"), "poll_interval_s"),
    (lambda r: r["seal"].update(diameter_mm=[42]), "diameter_mm"),
    (lambda r: r["series"].update({"珠政〔发": r["series"]["珠政发"]}), "珠政〔发"),
    (lambda r: r["series"].update({"珠政发2": r["series"]["珠政发"]}), "珠政发2"),
    (lambda r: r["series"]["珠政发"].update(kinds=["通知", "报道"]), "kinds"),
    (lambda r: r["organisation"].update(fonds_code="z-109"), "fonds_code"),
    (lambda r: r["intake"]["routes"].append({"folder": "x", "series": "珠政不存在"}), "routes"),
    (lambda r: r["archive"].update(retention=[{"kind": "函", "period": "D10"}]), "retention"),
    (lambda r: r["search"].update(engine="elastic"), "engine"),
])
def test_each_mistake_names_its_key(tmp_path, mutate, key):
    with pytest.raises(ConfigError) as e:
        load(_write(tmp_path, mutate))
    assert key in str(e.value)


def test_missing_template_file_names_the_key(tmp_path):
    p = _write(tmp_path, lambda r: None)
    (tmp_path / "tpl" / "信函.docx").unlink()
    with pytest.raises(ConfigError, match=r"templates › 信函.*信函\.docx"):
        load(p)


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(ConfigError, match="找不到配置文件"):
        load(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("series: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="YAML"):
        load(bad)


def test_config_from_environment(tmp_path, monkeypatch):
    p = _write(tmp_path, lambda r: None)
    monkeypatch.setenv("GONGWEN_CONFIG", str(p))
    assert load().base == tmp_path


def test_a_file_system_error_is_one_chinese_line_not_a_traceback(tmp_path, capsys):
    from pipeline.cli import main

    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(SystemExit) as e:
        main(["init", str(blocker / "instance")])
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("错误：文件操作失败") and str(blocker) in err and "Traceback" not in err
