"""The docs are tested, like datasette's: every config key is in the configuration reference, every
command in the README, every link between the pages resolves, and measured figures live only in
docs/benchmarks.md."""
from __future__ import annotations

import re

import pytest
from pydantic import BaseModel

from pipeline.cli import cli
from pipeline.config import Config
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
DOCS = REPO / "docs"
PAGES = {p.name: p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md"))}
CONFIG_PAGE = "admin-guide.md"


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
    section = PAGES[CONFIG_PAGE].split("<!-- section:config -->", 1)[1].split("\n## ", 1)[0]
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
    assert not missing, f"config keys missing from docs/{CONFIG_PAGE}: {missing}"


def test_every_command_is_in_the_readme():
    missing = [name for name in cli.list_commands(None) if not re.search(rf"gongwen {name}\b", README)]
    assert not missing, f"commands not documented in the README: {missing}"


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    h = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return h.replace(" ", "-")


def _anchors(text: str) -> set[str]:
    fence = False
    out = set()
    for line in text.splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and (m := re.match(r"#+ (.*)", line)):
            out.add(_anchor(m.group(1)))
    return out


@pytest.mark.parametrize("name", ["README.md", *PAGES])
def test_links_between_pages_resolve(name):
    text = README if name == "README.md" else PAGES[name]
    base = REPO if name == "README.md" else DOCS
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        path, _, frag = target.partition("#")
        file = (base / path).resolve() if path else (base / name)
        if not file.exists():
            broken.append(target)
        elif frag and file.suffix == ".md" and frag not in _anchors(file.read_text(encoding="utf-8")):
            broken.append(target)
    assert not broken, f"{name}: broken links {broken}"


# Words that only a measurement uses; a page other than benchmarks.md must link there instead.
_FIGURE = re.compile(r"\bp(50|95|99)\b|drafts/s|documents/s|per second|\d\s?MiB\b|\d+(\.\d+)?\s?ms\b")


@pytest.mark.parametrize("name", ["README.md", *[n for n in PAGES if n != "benchmarks.md"]])
def test_figures_only_in_benchmarks(name):
    text = README if name == "README.md" else PAGES[name]
    hits = [line.strip() for line in text.splitlines() if _FIGURE.search(line)]
    assert not hits, f"{name} states measured figures; they belong in docs/benchmarks.md: {hits[:5]}"


@pytest.mark.parametrize("name", ["README.md", *PAGES])
def test_no_issue_numbers_or_private_references(name):
    text = README if name == "README.md" else PAGES[name]
    hits = re.findall(r"\b(?:issues? \d+|requests? \d+|peers\.md|pitfall \d+)", text)
    assert not hits, f"{name} refers to project-internal history users don't have: {hits}"
