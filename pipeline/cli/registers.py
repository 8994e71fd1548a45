"""Commands about numbers and registers: register (发文登记簿 / 用印登记), void, reserve."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path

import click
from rich.table import Table

from . import App, cli, pass_app, wide_console as _console
from ..fsutil import atomic_write_bytes
from ..ledger import Ledger, register_listing


@cli.command("register")
@click.argument("year", type=int, required=False)
@click.option("--series", default=None, help="only this series (机关代字)")
@click.option("--seals", is_flag=True, help="the 用印登记 instead of the 发文登记簿")
@click.option("--times", is_flag=True, help="each document's 清样 → 签发 → 编号 → 用印 → 核发 times")
@click.option("--json", "as_json", is_flag=True, help="print JSON for scripts")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False), default=None,
              help="also write a printable .xlsx (A4 landscape) to this file")
@click.option("--force", is_flag=True, help="replace an existing --xlsx file")
@pass_app
def register_cmd(app: App, year: int | None, series: str | None, seals: bool, times: bool, as_json: bool,
                 xlsx: str | None, force: bool) -> None:
    """Show the 发文登记簿 (or with --seals the 用印登记, with --times the handling times) of YEAR
    (default: this year)."""
    config = app.config
    year = year or dt.date.today().year
    if series and series not in config.series:
        raise click.ClickException(f"没有名为“{series}”的发文系列；可用的有：{'、'.join(config.series)}")
    if seals and times:
        raise click.ClickException("--seals 和 --times 只能选一个")
    refuse_existing(xlsx, force)
    if times:
        from ..signoff import times_listing

        listing = times_listing(config, year, series)                  # never creates the register
    else:
        listing = register_listing(config, year, series, seals=seals)   # never creates the register
    emit_register(app, listing, xlsx=xlsx, as_json=as_json, head={"year": year, "series": series},
                  no_wrap=("number", "registered", "used_at", "seq_no", "proofed", "signed", "numbered", "sealed",
                           "issued"))


def refuse_existing(xlsx: str | None, force: bool) -> None:
    """Before any work: an --xlsx target that exists is replaced only with --force."""
    if xlsx and Path(xlsx).exists() and not force:
        raise click.ClickException(f"{xlsx} 已存在；换一个文件名，或加 --force 覆盖")


def emit_register(app: App, listing, *, xlsx: str | None, as_json: bool, head: dict,
                  no_wrap: tuple[str, ...]) -> None:
    """A register (ledger.RegisterListing) as the office reads it: the printable .xlsx when asked,
    then JSON or a table. Shared by the 发文登记簿, the 用印登记 and the 收文登记簿."""
    columns, rows, title = listing.columns, listing.rows, listing.title
    if xlsx:
        atomic_write_bytes(Path(xlsx), listing.xlsx_bytes(actor=app.actor, when=dt.datetime.now()))
    if as_json:
        click.echo(json.dumps({"register": listing.name, "organisation": app.config.organisation.name, **head,
                               "columns": dict(columns), "rows": [asdict(r) for r in rows]},
                              ensure_ascii=False, indent=2))
        return
    console = _console()
    table = Table(title=title, show_lines=False)
    for field, heading in columns:
        table.add_column(heading, no_wrap=field in no_wrap)
    for r in rows:
        table.add_row(*["" if getattr(r, f) is None else str(getattr(r, f)) for f, _ in columns])
    if rows:
        console.print(table)
    else:
        console.print(f"{title}：没有登记。")
    if xlsx:
        console.print(f"已写入 {xlsx}")


@cli.command("void")
@click.argument("number")
@click.option("--reason", default=None, help="why the number is voided (required)")
@click.option("--force", is_flag=True, help="void even a document that has its 档号 (the reason must say why)")
@pass_app
def void_cmd(app: App, number: str, reason: str | None, force: bool) -> None:
    """Void the 发文字号 NUMBER: it stays in the register, marked 作废 with the reason. A document
    already arranged (with a 档号) is refused unless --force."""
    if not reason or not reason.strip():
        raise click.ClickException("作废文号必须用 --reason 写明原因")
    with Ledger.open(app.config) as ledger:
        voided = ledger.void(number.strip(), reason=reason, actor=app.actor, force=force)
        doc = ledger.document(voided.reference)
    if doc is None:   # a voided number keeps its row
        raise click.ClickException(f"登记簿中找不到 {voided.reference}")
    click.echo(f"已作废 {voided.reference}（原因：{doc.void_reason}；经办：{app.actor}）")
    if doc.archive_code:
        click.echo(f"该文件已编档号 {doc.archive_code}，仍在档案中：{voided.year} 年度的四性检测将指出此件。")


@cli.command("reserve")
@click.argument("series")
@click.option("--year", type=int, default=None, help="year of the number (default: this year)")
@click.option("--note", default="", help="what the number is reserved for")
@pass_app
def reserve_cmd(app: App, series: str, year: int | None, note: str) -> None:
    """Reserve the next number of SERIES now for a document that comes later."""
    with Ledger.open(app.config) as ledger:
        number = ledger.reserve(series, year or dt.date.today().year, actor=app.actor, note=note)
    click.echo(f"已预留 {number.reference}（在草稿中写明此发文字号即可使用）")
