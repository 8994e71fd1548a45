"""Run benchmarks and print their tables: python -m bench [NAME ...] [--quick]."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(m.name.removeprefix("bench_") for m in pkgutil.iter_modules([str(HERE)])
                  if m.name.startswith("bench_"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("names", nargs="*", help=f"which benchmarks (default: all of {available()})")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = ap.parse_args(argv)
    console = Console()
    names = args.names or available()
    for name in names:
        mod = importlib.import_module(f"bench.bench_{name}")
        t0 = time.perf_counter()
        for title, headers, rows in mod.run(args):
            table = Table(title=title)
            for h in headers:
                table.add_column(str(h))
            for row in rows:
                table.add_row(*[str(c) for c in row])
            console.print(table)
        console.print(f"[dim]{name}: {time.perf_counter() - t0:.1f} s[/dim]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
