"""Commands about finding documents: search (Chinese full-text, with filters) and reindex."""
from __future__ import annotations

import datetime as dt
import json
import time
from typing import TYPE_CHECKING

import click

from . import App, cli, pass_app

if TYPE_CHECKING:
    from rich.text import Text

MATCH_STYLE = "bold red"
EMPTY_QUERY = "检索词为空：列出全部"


def _date_option(value: str | None, *, upper: bool, name: str) -> dt.date | None:
    from ..search.query import parse_date_bound

    if not value:
        return None
    try:
        v = parse_date_bound(value, upper=upper)
    except Exception:
        raise click.BadParameter(f"无法识别的日期“{value}”，请写成 2015-03-20、2015-03 或 2015。",
                                 param_hint=name) from None
    return dt.date(v // 10000, v // 100 % 100, v % 100)


def highlighted(snippet: str, spans: tuple[tuple[int, int], ...]) -> "Text":
    """The snippet with each match styled instead of bracketed 【…】."""
    from rich.text import Text

    out = Text()
    pos = 0
    for start, end in spans:
        out.append(snippet[pos:start - 1])           # up to the opening 【
        out.append(snippet[start:end], style=MATCH_STYLE)
        pos = end + 1                                  # past the closing 】
    out.append(snippet[pos:])
    return out


class QueryCommand(click.Command):
    """A command whose words starting with "-" are query words (NOT), not options, unless they are
    exactly one of its options (``-h``, ``--year`` or ``--year=2015`` …): ``gongwen search -h经济``
    searches for documents without h经济 instead of printing the help."""

    MARK = "\x00"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        names = {n for p in self.get_params(ctx) for n in (*p.opts, *p.secondary_opts)}
        marked = []
        for a in args:
            if a == "--":
                marked.append(a)
            elif a.startswith("-") and a.partition("=")[0] not in names:
                marked.append(self.MARK + a)
            else:
                marked.append(a)
        return super().parse_args(ctx, marked)


@cli.command("search", cls=QueryCommand)
@click.argument("query", nargs=-1)
@click.option("--year", type=int, default=None, help="年度, e.g. 2015")
@click.option("--series", default=None, help="机关代字, e.g. 珠政发")
@click.option("--kind", default=None, help="文种, e.g. 通知")
@click.option("--direction", type=click.Choice(["收文", "发文"]), default=None,
              help="only documents received (收文) or issued (发文)")
@click.option("--from", "date_from", default=None, help="成文日期 from (2015-03-01, 2015-03 or 2015)")
@click.option("--to", "date_to", default=None, help="成文日期 to, inclusive")
@click.option("--limit", type=click.IntRange(1, 10000), default=20, show_default=True, help="how many hits to show")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--engine", type=click.Choice(["whoosh", "tantivy"]), default=None,
              help="index to search (default: search.engine in the config)")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts")
@pass_app
def search_cmd(app: App, query: tuple[str, ...], year, series, kind, direction, date_from, date_to, limit, sort,
               engine, as_json) -> None:
    """Full-text search in Chinese. QUERY: words (all must match), "exact phrases", AND / OR / NOT
    or -word, field:value (标题: 文号: 档号: 年度: 文种: 机关代字: 日期:), a 文号 or 档号 alone.
    An empty QUERY lists every document (with the filters). Example: gongwen search 控违拆违 --year 2015"""
    from ..search import archive_count, index_missing, open_index

    q = " ".join(w.removeprefix(QueryCommand.MARK) for w in query)
    d_from = _date_option(date_from, upper=False, name="--from")
    d_to = _date_option(date_to, upper=True, name="--to")
    config = app.config_facts()
    engine = engine or config.search.engine
    if index_missing(config, engine):
        config = app.config    # building the index reads the archive: the whole config
        click.echo(f"搜索索引（{engine}）不存在，正在从档案建立（共 {archive_count(config)} 件）…", err=True)
    with open_index(config, engine) as index:
        res = index.search(q, year=year, series=series, kind=kind, date_from=d_from, date_to=d_to,
                           limit=limit, sort=sort, direction=direction)
    empty = not q.strip()
    if as_json:
        if empty:
            click.echo(EMPTY_QUERY, err=True)
        click.echo(json.dumps({"query": q, "total": res.total, "sort": sort,
                               "hits": [h.to_json() for h in res.hits]}, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(soft_wrap=False)
    if empty:
        console.print(EMPTY_QUERY)
    if not res.hits:
        console.print(f"没有找到与“{q}”相符的文件。" if q.strip() else "没有相符的文件。")
        return
    table = Table(show_lines=False, expand=False)
    table.add_column("文号", no_wrap=True)
    table.add_column("日期", no_wrap=True)
    # Chinese has no spaces to wrap at: fold long text across lines instead of cutting it off.
    table.add_column("标题", overflow="fold", ratio=2)
    table.add_column("摘要", overflow="fold", ratio=3)
    # Colour marks the matches on a terminal; piped into a file or `less`, the 【…】 brackets stay.
    styled = console.is_terminal and console.color_system is not None
    for h in res.hits:
        table.add_row(h.id, h.date.isoformat(), h.title,
                      highlighted(h.snippet, h.highlights) if styled else Text(h.snippet))
    console.print(table)
    order = "按相关度排序" if sort == "relevance" else "按成文日期排序（新在前）"
    console.print(f"共 {res.total} 件，显示 {len(res.hits)} 件，{order}。")


@cli.command("reindex")
@click.option("--engine", type=click.Choice(["whoosh", "tantivy"]), default=None,
              help="which index to rebuild (default: search.engine in the config)")
@click.option("--chunk", type=click.IntRange(1, 100000), default=500, show_default=True,
              help="documents per commit (bounds memory)")
@pass_app
def reindex_cmd(app: App, engine: str | None, chunk: int) -> None:
    """Rebuild the search index from the archive, in chunks, with a progress bar. The old index
    keeps answering searches until the new one is complete."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..search import archive_count, reindex

    config = app.config
    engine = engine or config.search.engine
    total = archive_count(config)
    console = Console(stderr=True)
    t0 = time.perf_counter()
    with Progress(TextColumn("重建索引（{task.fields[engine]}）"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task("reindex", total=total or None, engine=engine)
        n = reindex(config, engine, chunk=chunk, progress=lambda done: progress.update(task, completed=done))
        progress.update(task, completed=n, total=max(n, 1))
    click.echo(f"已重建搜索索引（{engine}）：{n} 件，用时 {time.perf_counter() - t0:.1f} 秒。")
