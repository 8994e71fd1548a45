"""The test suite's own house rules (docs/internals.md, "The test loop"): a test module imports no other
test module and nothing from bench/ (helpers live in tests/support/, fixtures in its plugin); bench/
imports nothing from tests/; samples/, which both use, imports neither. The bench's own tests
(tests/test_bench_*.py) are the one exception: their subject is bench code."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from samples.instance import REPO


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (function-level imports too), as dotted names;
    ``from tests import x`` counts as ``tests.x``."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            if node.module in ("tests", "bench", "samples"):      # `from tests import x`: the module x
                out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def is_test_module(name: str) -> bool:
    return name.startswith("tests.") and name.split(".")[-1].startswith("test_")


def breaches(path: Path, repo: Path = REPO) -> list[str]:
    """The imports of ``path`` (a file of ``repo``'s tests/, bench/ or samples/) that break the rules."""
    rel = path.relative_to(repo)
    top = rel.parts[0]
    bad = []
    for name in sorted(imported_modules(path)):
        root = name.split(".")[0]
        if top == "tests":
            if is_test_module(name):
                bad.append(f"{rel} imports the test module {name}")
            elif root == "bench" and not rel.name.startswith("test_bench_"):
                bad.append(f"{rel} imports {name} from bench/")
        elif top == "bench" and root == "tests":
            bad.append(f"{rel} imports {name} from tests/")
        elif top == "samples" and root in ("tests", "bench"):
            bad.append(f"{rel} imports {name}: samples/ imports neither tests/ nor bench/")
    return bad


def files() -> list[Path]:
    return sorted(p for top in ("tests", "bench", "samples") for p in (REPO / top).rglob("*.py"))


def test_no_test_module_imports_another_or_bench_and_bench_imports_no_tests():
    found = [b for p in files() for b in breaches(p)]
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("source, expected", [
    ("from tests.test_ledger import Clock", "imports the test module tests.test_ledger"),
    ("from tests import test_ledger", "imports the test module tests.test_ledger"),
    ("def f():\n    from tests.test_web import login", "imports the test module tests.test_web"),
    ("import tests.test_seal", "imports the test module tests.test_seal"),
    ("from bench.bench_watch import sample_draft", "from bench/"),
], ids=["from-import", "from-package-import", "in-a-function", "import", "bench"])
def test_the_check_sees_every_form_of_a_forbidden_import(tmp_path, source, expected):
    """The rule's check on files written here (under a stand-in repository): each form is caught,
    and the allowed imports are not."""
    bad = tmp_path / "tests" / "test_x.py"
    bad.parent.mkdir()
    bad.write_text(source + "\n", encoding="utf-8")
    assert any(expected in b for b in breaches(bad, tmp_path)), breaches(bad, tmp_path)
    ok = tmp_path / "tests" / "test_y.py"
    ok.write_text("from tests.support.web import login\nfrom samples.drafts import sample_draft\n"
                  "from tests.conftest import REPO\n", encoding="utf-8")
    assert breaches(ok, tmp_path) == []
    for top, line in (("bench", "from tests.support.web import login"), ("samples", "import bench.bench_watch")):
        (tmp_path / top).mkdir()
        f = tmp_path / top / "m.py"
        f.write_text(line + "\n", encoding="utf-8")
        assert breaches(f, tmp_path), (top, line)
