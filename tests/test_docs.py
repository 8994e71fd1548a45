"""The README documents every config key and every command (the docs are tested, like datasette's)."""
from __future__ import annotations

import re

from pydantic import BaseModel

from pipeline.cli import cli
from pipeline.config import Config
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        if name == "base":
            continue
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += _keys(ann, f"{prefix}{name}.")
        else:
            out.append(f"{prefix}{name}")
    return out


def test_every_config_key_is_documented():
    section = README.split("<!-- section:config -->", 1)[1].split("\n## ", 1)[0]
    missing = []
    for key in _keys(Config):
        leaf = key.split(".")[-1]
        if key.startswith("series.") or key.startswith("paths."):
            ok = leaf in section
        else:
            ok = f"`{key}" in section or (leaf in section and key.split(".")[0] in section)
        if not ok:
            missing.append(key)
    from pipeline.config import Route, Series

    missing += [f"series.{n}" for n in Series.model_fields if f".{n}`" not in section]
    missing += [f"intake.routes.{n}" for n in Route.model_fields if f"`{n}`" not in section]
    assert not missing, f"config keys missing from the README: {missing}"


def test_every_command_is_in_the_readme():
    missing = [name for name in cli.list_commands(None) if not re.search(rf"gongwen {name}\b", README)]
    assert not missing, f"commands not documented in the README: {missing}"
