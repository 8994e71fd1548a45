"""Run benchmarks, print their tables and write them into docs/benchmarks.md:
python -m bench [NAME ...] [--quick] [--no-write]."""
from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import pkgutil
import re
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs" / "benchmarks.md"


def available() -> list[str]:
    return sorted(m.name.removeprefix("bench_") for m in pkgutil.iter_modules([str(HERE)])
                  if m.name.startswith("bench_"))


def machine() -> str:
    """One line naming the machine: CPU model, cores, OS, Python."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    osname = platform.system()
    try:
        osname = re.search(r'^PRETTY_NAME="?([^"\n]*)', Path("/etc/os-release").read_text(), re.M).group(1)
    except (OSError, AttributeError):
        pass
    return f"{osname}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def commit() -> str:
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=HERE.parent, capture_output=True, text=True).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "pipeline", "bench", "templates")
    return head + (" + uncommitted changes" if dirty else "")


def markdown(tables: list[tuple[str, list, list]], stamp: str) -> str:
    out = [stamp, ""]
    for title, headers, rows in tables:
        out += [f"**{title}**", "", "| " + " | ".join(str(h) for h in headers) + " |",
                "|" + "---|" * len(headers)]
        out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_section(name: str, body: str, path: Path = DOCS) -> bool:
    """Replace the text between <!-- bench:NAME --> and <!-- /bench:NAME --> (added at the end when the
    page has no such section yet). Written atomically."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body}{end}"
    if start in text and end in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + f"\n\n## {name}\n\n{block}\n"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("names", nargs="*", help=f"which benchmarks (default: all of {available()})")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run (writes nothing)")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = ap.parse_args(argv)
    console = Console()
    names = args.names or available()
    where = machine()
    for name in names:
        mod = importlib.import_module(f"bench.bench_{name}")
        t0 = time.perf_counter()
        tables = []
        for title, headers, rows in mod.run(args):
            rows = [list(r) for r in rows]
            tables.append((title, list(headers), rows))
            table = Table(title=title)
            for h in headers:
                table.add_column(str(h))
            for row in rows:
                table.add_row(*[str(c) for c in row])
            console.print(table)
        elapsed = time.perf_counter() - t0
        console.print(f"[dim]{name}: {elapsed:.1f} s[/dim]")
        if not (args.quick or args.no_write) and tables:
            stamp = (f"Measured {dt.date.today().isoformat()} on commit {commit()}; {where}; "
                     f"`python -m bench {name}` took {elapsed:.0f} s.")
            write_section(name, markdown(tables, stamp))
            console.print(f"[dim]{name}: written to {DOCS.relative_to(HERE.parent)}[/dim]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
