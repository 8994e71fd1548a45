"""One factory for an instance's config.yaml, for tests (tests/conftest.py re-exports it) and benchmarks."""
from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


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


def instance_config(root: Path, **overrides):
    """The loaded Config of a fresh instance in ``root``/instance (``write_instance``'s overrides)."""
    from pipeline.config import load

    return load(write_instance(root / "instance", **overrides))
