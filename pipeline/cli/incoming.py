"""Commands about received documents (收文): receive, and incoming list/show/route/instruct/done/edit/
register. Thin wrappers over pipeline.incoming; every refusal and problem is said in Chinese."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from . import App, cli, pass_app


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=220)


def _date(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    from ..drafts import patterns as P

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        d = P.parse_exact_date(P.squeeze(value)) or P.date_suggestion(value)[0]
        if d is None:
            raise click.BadParameter(f"无法识别的日期“{value}”，请写成 2015-03-20 或 2015年3月20日。",
                                     param_hint=name) from None
        return d


def _receipt_line(r) -> str:
    name = Path(r.file).name
    secs = f"  {r.seconds:.1f} s" if r.seconds is not None else ""
    el = r.elements or {}
    if r.status == "registered":
        what = " ".join(x for x in (el.get("sender"), el.get("number"), el.get("title")) if x) or name
        dl = f"（时限 {r.deadline}）" if r.deadline else ""
        return f"{r.reference} ← {what}{dl}  [{r.method}]{secs}"
    if r.status == "duplicate":
        if r.reference:
            return f"重复 ← {name}：即 {r.reference}，未重复登记{secs}"
        return f"重复 ← {name}：与 {r.duplicate_of} 相同，未登记{secs}"
    if r.status == "refused":
        return f"拒收 ← {name}{secs}"
    return f"暂未办结 ← {name}（{r.reference}）{secs}"


@cli.command("receive")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--copies", type=click.IntRange(1, 10000), default=None, help="份数 received (paper copies)")
@click.option("--allow-duplicate", is_flag=True,
              help="register even when the same 来文字号 or text is already registered (e.g. a 更正件)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per file")
@pass_app
def receive_cmd(app: App, files: tuple[Path, ...], copies: int | None, allow_duplicate: bool, as_json: bool) -> None:
    """Sign in received documents (收文): PDF, scans and photos (JPEG/PNG/TIFF, by OCR), .docx,
    .doc, .wps, OFD. Each is read, checked (涉密 documents are refused), registered with a 收文号,
    filed with its 收文处理笺 and indexed. Exit status 1 if any file was not registered."""
    from ..incoming import receive
    from ..process import open_services

    bad = 0
    with open_services(app.config, app.actor) as svc:
        for path in files:
            r = receive(path, svc, copies=copies, allow_duplicate=allow_duplicate)
            bad += r.status not in ("registered",) and not (r.status == "duplicate" and r.reference)
            if as_json:
                click.echo(json.dumps(r.to_json(), ensure_ascii=False))
            else:
                click.echo(_receipt_line(r))
                for p in r.problems:
                    click.echo(f"    {p}")
    if bad:
        raise SystemExit(1)


@cli.group("incoming")
def incoming_group() -> None:
    """The 收文 register and its handling: list, show, route (拟办), instruct (批办), done (办结),
    edit (补登), register (收文登记簿)."""


def _svc(app: App):
    from ..process import open_services

    return open_services(app.config, app.actor)


def _today(svc) -> dt.date:
    return svc.ledger.now().date()


@incoming_group.command("list")
@click.option("--year", type=int, default=None, help="收文 of this year only")
@click.option("--pending", is_flag=True, help="only those not yet 办结")
@click.option("--overdue", is_flag=True, help="only those past their 时限")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def list_cmd(app: App, year: int | None, pending: bool, overdue: bool, as_json: bool) -> None:
    """List 收文 with their state; --pending, --overdue (特急/加急 past their 时限)."""
    from ..incoming import IncomingRegister
    from ..ledger import Ledger, ledger_path

    rows, today = [], dt.date.today()
    if ledger_path(app.config).is_file():
        with Ledger.open(app.config) as ledger:
            today = ledger.now().date()
            rows = IncomingRegister(ledger, app.config).listing(year, pending=pending, overdue=overdue, today=today)
    if as_json:
        click.echo(json.dumps({"today": today.isoformat(), "rows": [r.to_json(today) for r in rows]},
                              ensure_ascii=False, indent=2))
        return
    console = _console()
    what = "逾期" if overdue else ("未办结" if pending else "")
    if not rows:
        console.print(f"没有{what}收文。")
        return
    table = Table(title=f"{what}收文（{today.isoformat()}）")
    for col in ("收文号", "收文时间", "来文机关", "来文字号", "标题", "紧急程度", "时限", "承办单位", "状态"):
        table.add_column(col, overflow="fold", no_wrap=col in ("收文号", "收文时间"))
    for r in rows:
        status = r.status(today)
        if r.overdue(today):
            status = f"[red]{status}[/red]"
        table.add_row(r.reference, r.received_at[:16].replace("T", " "), r.sender or "", r.sender_number or "",
                      r.title or "", r.urgency or "", r.deadline.isoformat() if r.deadline else "",
                      r.lead_unit or "", status)
    console.print(table)
    console.print(f"共 {len(rows)} 件。")


@incoming_group.command("show")
@click.argument("ident")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def show_cmd(app: App, ident: str, as_json: bool) -> None:
    """One 收文 by 收文号 (收〔2015〕3号, 2015-3, or 3 for this year): register row and record."""
    from ..incoming import IncomingRegister, record_for

    with _svc(app) as svc:
        row = IncomingRegister(svc.ledger, app.config).require(ident)
        rec = record_for(svc, row.reference)
        today = _today(svc)
        events = svc.ledger.events(row.reference)
    if as_json:
        click.echo(json.dumps({**row.to_json(today), "record": str(rec.path) if rec else None,
                               "events": [{"time": e.time, "event": e.event, "actor": e.actor} for e in events]},
                              ensure_ascii=False, indent=2))
        return
    console = _console()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    pairs = [("收文号", row.reference), ("收文时间", row.received_at.replace("T", " ")), ("来文机关", row.sender),
             ("来文字号", row.sender_number), ("标题", row.title), ("文种", row.kind), ("成文日期", row.doc_date),
             ("主送", row.main_to), ("密级/紧急程度", "/".join(x for x in (row.secrecy, row.urgency) if x)),
             ("时限", row.deadline), ("页数", row.pages), ("份数", row.copies), ("附件", "；".join(row.attachments)),
             ("读取方式", row.method), ("承办单位", row.lead_unit),
             ("拟办意见", f"{row.opinion}（{row.opinion_by}）" if row.opinion else ""),
             ("领导批示", "；".join(f"{i.text}（{i.leader}，{i.date}）" + (f" → 督办 {i.supervise}" if i.supervise else "")
                                   for i in row.instructions)),
             ("办理结果", row.result), ("复文号", row.reply_ref), ("办结时间", (row.done_at or "").replace("T", " ")),
             ("状态", row.status(today)), ("档号", row.archive_code), ("登记人", row.registrar),
             ("待补", "、".join(row.missing())), ("档案位置", str(rec.path) if rec else "（尚未归档）")]
    for k, v in pairs:
        grid.add_row(k, "" if v in (None, "") else str(v))
    console.print(grid)
    hist = Table(title="办理过程")
    for col in ("时间", "行为", "人员"):
        hist.add_column(col)
    from ..ledger import EVENT_NAMES

    for e in events:
        hist.add_row(e.time, EVENT_NAMES.get(e.event, e.event), e.actor)
    console.print(hist)


@incoming_group.command("route")
@click.argument("ident")
@click.option("--to", "lead_unit", required=True, help="承办单位")
@click.option("--opinion", required=True, help="拟办意见")
@pass_app
def route_cmd(app: App, ident: str, lead_unit: str, opinion: str) -> None:
    """拟办: name the 承办单位 and write the 拟办意见; the 处理笺 is made again."""
    from ..incoming import route

    with _svc(app) as svc:
        row = route(svc, ident, lead_unit=lead_unit, opinion=opinion)
    click.echo(f"{row.reference} 已拟办：承办单位 {row.lead_unit}；{row.opinion}")


@incoming_group.command("instruct")
@click.argument("ident")
@click.option("--leader", required=True, help="批示领导")
@click.option("--text", required=True, help="批示内容")
@click.option("--date", "date_", default=None, help="批示日期 (default: today)")
@click.option("--to", "assign_to", default=None,
              help="the unit the 批示 assigns the work to: creates a 督办件 with this 收文 as its 来源")
@click.option("--co", "co_units", multiple=True, help="协办单位 (repeatable)")
@click.option("--deadline", default=None, help="办结时限 of the 督办件 (2015-04-30)")
@pass_app
def instruct_cmd(app: App, ident: str, leader: str, text: str, date_: str | None, assign_to: str | None,
                 co_units: tuple[str, ...], deadline: str | None) -> None:
    """批办: record a 领导批示. With --to (the unit it assigns the work to) it creates a 督办件."""
    from ..incoming import instruct

    if (co_units or deadline) and not assign_to:
        raise click.ClickException("--co 和 --deadline 只用于交办督办的批示，请同时用 --to 写明承办单位")
    with _svc(app) as svc:
        row, item = instruct(svc, ident, leader=leader, text=text, date=_date(date_, "--date"),
                             assign_to=assign_to, co_units=co_units, deadline=_date(deadline, "--deadline"))
    click.echo(f"{row.reference} 已记录 {leader} 的批示" + (f"，已建立督办件 {item}" if item else ""))


@incoming_group.command("done")
@click.argument("ident")
@click.option("--reply", default=None, help="复文号: the 发文字号 of our document answering it (required for a 请示)")
@click.option("--result", default="", help="办理结果")
@pass_app
def done_cmd(app: App, ident: str, reply: str | None, result: str) -> None:
    """办结. A 请示 is 办结 only with --reply (the 批复's 发文字号), which links both ways."""
    from ..incoming import done

    with _svc(app) as svc:
        row = done(svc, ident, result=result, reply=reply)
    click.echo(f"{row.reference} 已办结" + (f"，复文 {row.reply_ref}" if row.reply_ref else "") + f"：{row.result}")


@incoming_group.command("edit")
@click.argument("ident")
@click.option("--sender", default=None, help="来文机关")
@click.option("--number", default=None, help="来文字号")
@click.option("--title", default=None, help="标题")
@click.option("--date", "date_", default=None, help="成文日期")
@click.option("--main-to", default=None, help="主送")
@click.option("--urgency", type=click.Choice(["特急", "加急", "特提", "平急"]), default=None, help="紧急程度")
@click.option("--copies", type=click.IntRange(1, 10000), default=None, help="份数")
@pass_app
def edit_cmd(app: App, ident: str, sender, number, title, date_, main_to, urgency, copies) -> None:
    """补登/更正 what could not be read (the change is recorded with who and when)."""
    from ..incoming import edit

    with _svc(app) as svc:
        row = edit(svc, ident, sender=sender, sender_number=number, title=title, doc_date=_date(date_, "--date"),
                   main_to=main_to, urgency=urgency, copies=copies)
    left = row.missing()
    click.echo(f"{row.reference} 已更正" + (f"；仍待补：{'、'.join(left)}" if left else ""))


@incoming_group.command("register")
@click.argument("year", type=int, required=False)
@click.option("--json", "as_json", is_flag=True, help="print JSON for scripts")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False), default=None,
              help="also write a printable .xlsx (A4 landscape) to this file")
@click.option("--force", is_flag=True, help="replace an existing --xlsx file")
@pass_app
def register_cmd(app: App, year: int | None, as_json: bool, xlsx: str | None, force: bool) -> None:
    """The 收文登记簿 of YEAR (default: this year) as a table, JSON or .xlsx."""
    from ..incoming import register_listing
    from .registers import emit_register, refuse_existing

    year = year or dt.date.today().year
    refuse_existing(xlsx, force)
    emit_register(app, register_listing(app.config, year), xlsx=xlsx, as_json=as_json, head={"year": year},
                  no_wrap=("reference", "received", "seq_no"))
