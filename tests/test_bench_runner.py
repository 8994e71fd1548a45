"""The benchmark runner writes its tables into docs/benchmarks.md between markers, dated and attributed."""
from __future__ import annotations

from bench.__main__ import markdown, write_section


def test_a_section_is_replaced_between_its_markers_and_nothing_else_changes(tmp_path):
    page = tmp_path / "benchmarks.md"
    page.write_text("# B\n\nprose a\n\n<!-- bench:x -->\nold table\n<!-- /bench:x -->\n\nprose b\n", encoding="utf-8")
    write_section("x", markdown([("T", ["a", "b"], [[1, "x|y"]])], "Measured today"), page)
    text = page.read_text(encoding="utf-8")
    assert "old table" not in text
    assert text.startswith("# B\n\nprose a\n\n<!-- bench:x -->\nMeasured today\n")
    assert "| 1 | x\\|y |" in text and text.endswith("<!-- /bench:x -->\n\nprose b\n")


def test_a_new_section_is_appended(tmp_path):
    page = tmp_path / "benchmarks.md"
    page.write_text("# B\n", encoding="utf-8")
    write_section("y", "body\n", page)
    assert page.read_text(encoding="utf-8") == "# B\n\n## y\n\n<!-- bench:y -->\nbody\n<!-- /bench:y -->\n"
