"""Benchmarks: `python -m bench [NAME ...]` runs bench/bench_NAME.py modules and prints tables.

Each module exposes ``run(args: argparse.Namespace) -> list[Table]`` where a Table is
``(title, headers, rows)``. Timings are measured here, never asserted in tests.
"""
