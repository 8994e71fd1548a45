"""What the test modules share: helper functions and builders (plain modules here, imported by name) and
the fixtures (``fixtures``, a pytest plugin registered from tests/conftest.py, never imported).

A test module imports no other test module and nothing from bench/; data the benchmarks also use lives
in samples/ (docs/internals.md, "The test loop"; tests/test_house.py keeps the rule)."""
