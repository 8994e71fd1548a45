"""Converter test helpers: the repository's config as an instance with converter settings."""
from __future__ import annotations

from pathlib import Path

import yaml

from pipeline.config import Config
from samples.instance import REPO

def make_config(base: Path, fonts: Path | None = None, **converter) -> Config:
    """The repository's config.yaml as an instance in ``base`` (templates are not needed here)."""
    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw.setdefault("paths", {})["fonts"] = str(fonts or REPO / "fonts")
    raw["converter"] = {"timeout_s": 60, **converter}
    base.mkdir(parents=True, exist_ok=True)
    return Config.model_validate({**raw, "base": base})
