"""Shared fixtures: a fresh gongwen instance in a temporary folder, paths to the shared test data."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
SHARED = (REPO.parent / "shared").resolve()
SHARED_DATA = SHARED / "data"


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data; the test is skipped, with the reason, when it is absent."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared test data not available: {p} (clone ../shared beside the repository)")
    return p


def write_instance(root: Path, **overrides) -> Path:
    """Write a config.yaml for an instance in ``root`` that uses the repository's templates and
    fonts; ``overrides`` replace top-level keys. Returns the config path."""
    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw.setdefault("paths", {})
    raw["paths"]["templates"] = str(REPO / "templates")
    raw["paths"]["fonts"] = str(REPO / "fonts")
    for k, v in overrides.items():
        raw[k] = v
    root.mkdir(parents=True, exist_ok=True)
    cfg = root / "config.yaml"
    cfg.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return cfg


@pytest.fixture(scope="session")
def cfg():
    """The repository's default instance, validated without the template-file check: for readers
    and rules, which never render."""
    from pipeline.config import Config

    return Config.model_validate(yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8")))


@pytest.fixture
def bare_config(tmp_path: Path):
    """A config whose templates are empty placeholder files: for unit tests that never render."""
    from pipeline.config import TEMPLATE_NAMES, load

    tpl = tmp_path / "placeholder-templates"
    tpl.mkdir()
    for name in TEMPLATE_NAMES:
        (tpl / f"{name}.docx").write_bytes(b"")
    cfg = write_instance(tmp_path / "bare")
    text = cfg.read_text(encoding="utf-8").replace(str(REPO / "templates"), str(tpl))
    cfg.write_text(text, encoding="utf-8")
    return load(cfg)


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def instance_path(tmp_path: Path) -> Path:
    """Path of a fresh instance's config.yaml in tmp_path."""
    return write_instance(tmp_path / "instance")


@pytest.fixture
def config(instance_path: Path):
    from pipeline.config import load

    return load(instance_path)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    monkeypatch.delenv("GONGWEN_CONFIG", raising=False)
    monkeypatch.setenv("GONGWEN_ACTOR", "测试员")


@pytest.fixture(scope="session")
def web_instance(tmp_path_factory):
    """A real instance with issued, arranged documents and one account per role (tests/web_instance.py)."""
    from tests.web_instance import build

    return build(tmp_path_factory.mktemp("web"))
