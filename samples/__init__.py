"""Sample documents and the builders both the tests and the benchmarks use.

The house rule (docs/internals.md, "The test loop"): a test module imports no other test module and
nothing from bench/; bench/ imports nothing from tests/; what both need lives here. This package
imports only gongwen (pipeline), the standard library and the test-time dependencies — never tests/
or bench/ (tests/test_house.py keeps all three rules)."""
