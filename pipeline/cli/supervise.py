"""`gongwen supervise …`: the 督办台账 from the command line — thin wrappers over pipeline.supervise."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from . import App, cli, pass_app
from ..ledger import Ledger, ledger_path

STATUS_STYLE = {"逾期": "red", "已办结": "green", "暂缓": "dim", "不能办理": "yellow"}


def _date(value: str | None, what: str) -> dt.date | None:
    from ..supervise.sources import parse_date

    if value is None:
        return None
    d = parse_date(value)
    if d is None:
        raise click.ClickException(f"{what}“{value}”无法识别（应为 2015-03-02 或 2015年3月2日）")
    return d


def _today(value: str | None) -> dt.date:
    return _date(value, "日期") or dt.date.today()


def _sync_search(ledger: Ledger, config) -> None:
    """Bring the changed 督办件 into the search index (a failure is a warning: see sync_quietly)."""
    from ..supervise.index import sync_quietly

    note = sync_quietly(ledger, config)
    if note:
        click.echo(f"提示：{note}", err=True)


def _console() -> Console:
    console = Console()
    return console if console.is_terminal else Console(width=220)


def _item_json(item) -> dict:
    d = asdict(item)
    return json.loads(json.dumps(d, ensure_ascii=False, default=str))


TODAY_OPTION = click.option("--today", default=None, metavar="DATE",
                            help="as of this date (default: today), e.g. 2015-04-08")


@cli.group("supervise")
def supervise_group() -> None:
    """督查督办: the 督办台账 — add, list, progress, close, remind, report."""


@supervise_group.command("add")
@click.option("--matter", "-m", required=True, help="事项")
@click.option("--type", "source_type", required=True, help="来源类型: 常务会议/区长办公会/领导批示/人大建议/政协提案/…")
@click.option("--source", required=True, help="来源: 纪要文号和项次, 批示领导和日期, 建议提案号和代表委员 …")
@click.option("--unit", required=True, help="责任单位（主办）")
@click.option("--co-unit", "co_units", multiple=True, help="协办单位 (repeatable)")
@click.option("--leader", default=None, help="责任领导")
@click.option("--assigned", default=None, help="交办日期 (default: today)")
@click.option("--deadline", default=None, help="办结时限: a date or a rule (15个工作日, 3个月, 月底前); default: the config's")
@click.option("--urgent", is_flag=True, help="急件 (建议/提案: the shorter answer period)")
@click.option("--ref", "source_ref", default=None, help="the source's own number (建议号 …): the same again adds nothing")
@pass_app
def add_cmd(app: App, matter, source_type, source, unit, co_units, leader, assigned, deadline, urgent, source_ref):
    """Register one 督办件 and print its 督办编号."""
    from .. import supervise as sv

    config = app.config
    with Ledger.open(config) as ledger:      # the 时限, a date or a rule, is read by the library (parse_rule)
        item = sv.add_item(ledger, config, matter=matter, source_type=source_type, source=source, lead_unit=unit,
                           co_units=co_units, leader=leader, assigned=_today(assigned), rule=deadline or None,
                           actor=app.actor, source_ref=source_ref, urgent=urgent)
        _sync_search(ledger, config)
    click.echo(f"已登记 {item.reference}：{item.lead_unit}，办结时限 {item.deadline.isoformat()}（{item.deadline_rule}）"
               + ("；时限暂按周一至周五推算，该年节假日安排公布后将自动重算" if item.deadline_provisional else ""))


@supervise_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def import_cmd(app: App, files: tuple[Path, ...]) -> int:
    """Take the items of 交办清单 files (.xlsx or .yaml); rows with problems are named and left out."""
    from .. import supervise as sv

    bad = 0
    with Ledger.open(app.config) as ledger:
        for f in files:
            res = sv.import_items(ledger, app.config, f, actor=app.actor)
            click.echo(res.summary())
            for p in res.problems():
                click.echo(f"  {p}", err=True)
            bad += len(res.rejected)
        _sync_search(ledger, app.config)
    return 1 if bad else 0


@supervise_group.command("list")
@click.option("--overdue", is_flag=True, help="only items past their 时限")
@click.option("--due-within", type=int, default=None, metavar="N", help="only items due within N days (overdue included)")
@click.option("--unit", default=None, help="only this unit (主办 or 协办)")
@click.option("--status", default=None, help="办理中/逾期/已办结/暂缓/不能办理")
@click.option("--type", "source_type", default=None, help="only this 来源类型")
@click.option("--year", type=int, default=None, help="only this year's 督办编号")
@click.option("--json", "as_json", is_flag=True, help="print JSON for scripts")
@TODAY_OPTION
@pass_app
def list_cmd(app: App, overdue, due_within, unit, status, source_type, year, as_json, today) -> None:
    """The 督办台账, filtered; overdue items in red."""
    from .. import supervise as sv

    config = app.config
    day = _today(today)
    if status and status not in sv.STATUSES:
        raise click.ClickException(f"状态应为：{'、'.join(sv.STATUSES)}")
    items = []
    if ledger_path(config).is_file():       # a listing never creates the register
        with Ledger.open(config) as ledger:
            wanted = sv.OVERDUE if status == sv.OVERDUE else status     # 逾期: marked or past the 时限
            items = sv.list_items(
                ledger, year=year, unit=unit, source_type=source_type,
                status=None if wanted == sv.OVERDUE else wanted,
                overdue_on=day if overdue or wanted == sv.OVERDUE else None,
                due_by=day + dt.timedelta(days=due_within) if due_within is not None else None)
    if as_json:
        click.echo(json.dumps({"today": day.isoformat(), "items": [
            {**_item_json(i), "overdue": i.is_overdue(day), "days_left": i.days_left(day)} for i in items]},
            ensure_ascii=False, indent=2))
        return
    console = _console()
    if not items:
        console.print("没有符合条件的督办事项。")
        return
    table = Table(title=f"督办台账（截至 {day.isoformat()}，共 {len(items)} 件）")
    for col in ("督办编号", "来源类型", "事项", "责任单位", "交办日期", "办结时限", "状态"):
        table.add_column(col, no_wrap=col in ("督办编号", "交办日期", "办结时限"))
    for i in items:
        shown = "逾期" if i.is_overdue(day) else i.status
        extra = f"（{-i.days_left(day)}天）" if shown == "逾期" else ""
        style = STATUS_STYLE.get(shown)
        table.add_row(i.reference, i.source_type, i.matter, "、".join(i.units), i.assigned.isoformat(),
                      i.deadline.isoformat() + ("（暂定）" if i.deadline_provisional else ""),
                      f"[{style}]{shown}{extra}[/{style}]" if style else shown)
    console.print(table)


@supervise_group.command("show")
@click.argument("ident")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def show_cmd(app: App, ident: str, as_json: bool) -> None:
    """One 督办件: its fields, 进展, files and history (办理过程)."""
    from .. import supervise as sv

    config = app.config
    with Ledger.open(config) as ledger:
        item = sv.get_item(ledger, ident)
        hist = sv.history(ledger, item.reference)
    if as_json:
        click.echo(json.dumps({"item": _item_json(item), "history": hist}, ensure_ascii=False, indent=2))
        return
    console = Console()
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    rows = [("督办编号", item.reference), ("事项", item.matter), ("来源类型", item.source_type), ("来源", item.source),
            ("责任单位", item.lead_unit), ("协办单位", "、".join(item.co_units)), ("责任领导", item.leader or ""),
            ("交办日期", item.assigned.isoformat()), ("办结时限", f"{item.deadline.isoformat()}（{item.deadline_rule}）"),
            ("状态", item.status + (f"（{item.status_reason}）" if item.status_reason else "")),
            ("办结日期", item.closed_on.isoformat() if item.closed_on else ""), ("办结说明", item.close_note or "")]
    if item.source_type in sv.ANSWER_TYPES:
        rows.append(("答复", "/".join(x for x in (item.answer_category,
                                                  item.answer_date and item.answer_date.isoformat(),
                                                  item.satisfaction) if x)))
    for k, v in rows:
        head.add_row(k, v)
    console.print(head)
    if item.progress:
        t = Table(title="进展")
        for col in ("日期", "内容", "记录人", "附件"):
            t.add_column(col)
        for p in item.progress:
            t.add_row(p.day.isoformat(), p.text, p.actor, "、".join(f.name for f in p.files))
        console.print(t)
    if item.evidence:
        console.print("佐证材料：" + "、".join(str(sv.item_dir(config, item) / e.name) for e in item.evidence))
    t = Table(title="办理过程")
    for col in ("时间", "行为", "人员", "说明"):
        t.add_column(col)
    for h in hist:
        t.add_row(h["time"], h["event"], h["actor"], h["what"])
    console.print(t)


@supervise_group.command("progress")
@click.argument("ident")
@click.argument("text")
@click.option("--file", "files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="a file to keep with the entry (repeatable)")
@click.option("--date", "day", default=None, help="the 进展's date (default: today)")
@pass_app
def progress_cmd(app: App, ident: str, text: str, files, day) -> None:
    """Record a dated 进展 of a 督办件."""
    from .. import supervise as sv

    with Ledger.open(app.config) as ledger:
        sv.add_progress(ledger, app.config, ident, text, actor=app.actor, day=_today(day), files=files)
        _sync_search(ledger, app.config)
    click.echo(f"已记录 {ident.strip()} 的进展" + (f"（附 {len(files)} 个文件）" if files else ""))


@supervise_group.command("close")
@click.argument("ident")
@click.option("--note", default=None, help="办结说明 (required)")
@click.option("--evidence", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="佐证材料 file (repeatable)")
@click.option("--date", "day", default=None, help="办结日期 (default: today)")
@pass_app
def close_cmd(app: App, ident: str, note: str | None, evidence, day) -> None:
    """销号: close a 督办件 — only with a 办结说明."""
    from .. import supervise as sv

    with Ledger.open(app.config) as ledger:
        item = sv.close_item(ledger, app.config, ident, note=note or "", actor=app.actor, closed_on=_today(day),
                             evidence=evidence)
        _sync_search(ledger, app.config)
    click.echo(f"已销号 {item.reference}（办结日期 {item.closed_on}"
               + (f"，佐证材料 {len(item.evidence)} 个" if item.evidence else "") + "）")


@supervise_group.command("status")
@click.argument("ident")
@click.argument("status", type=click.Choice(["暂缓", "不能办理", "办理中"]))
@click.option("--reason", default=None, help="why (required)")
@TODAY_OPTION
@pass_app
def status_cmd(app: App, ident: str, status: str, reason: str | None, today) -> None:
    """暂缓 / 不能办理 (with the reason), or back to 办理中."""
    from .. import supervise as sv

    with Ledger.open(app.config) as ledger:
        item = sv.set_status(ledger, app.config, ident, status, reason=reason or "", actor=app.actor,
                             today=_today(today))
        _sync_search(ledger, app.config)
    click.echo(f"{item.reference} 已改为“{item.status}”（{item.status_reason}）")


@supervise_group.command("extend")
@click.argument("ident")
@click.option("--deadline", required=True, help="the new 办结时限: a date, or a rule from the 交办日期 (6个月)")
@click.option("--reason", default=None, help="why (required)")
@TODAY_OPTION
@pass_app
def extend_cmd(app: App, ident: str, deadline: str, reason: str | None, today) -> None:
    """延期: give a 督办件 a new 办结时限, with the reason."""
    from .. import supervise as sv

    with Ledger.open(app.config) as ledger:
        item = sv.extend(ledger, app.config, ident, rule=deadline, reason=reason or "", actor=app.actor,
                         today=_today(today))
        _sync_search(ledger, app.config)
    click.echo(f"{item.reference} 办结时限延至 {item.deadline.isoformat()}（{reason}）")


@supervise_group.command("answer")
@click.argument("ident")
@click.option("--category", required=True, type=click.Choice(["A", "B", "C"]), help="答复类别")
@click.option("--date", "day", default=None, help="答复日期 (default: today)")
@click.option("--satisfaction", default=None, type=click.Choice(["满意", "基本满意", "不满意"]), help="代表/委员满意度")
@pass_app
def answer_cmd(app: App, ident: str, category: str, day, satisfaction) -> None:
    """The 答复 of a 人大建议 / 政协提案: 类别, 日期, 满意度."""
    from .. import supervise as sv

    with Ledger.open(app.config) as ledger:
        item = sv.record_answer(ledger, app.config, ident, category=category, answered_on=_today(day),
                                satisfaction=satisfaction, actor=app.actor)
        _sync_search(ledger, app.config)
    click.echo(f"已记录 {item.reference} 的答复（{category}类，{item.answer_date}"
               + (f"，{satisfaction}" if satisfaction else "") + "）")


@supervise_group.command("remind")
@click.option("--within", type=int, default=None, metavar="N", help="items due within N days (default: config remind_days)")
@click.option("--unit", "units", multiple=True, help="only these units (repeatable)")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder for the 催办单 (default: outbox/催办单/<date>/)")
@click.option("--no-pdf", is_flag=True, help="write the .docx only")
@TODAY_OPTION
@pass_app
def remind_cmd(app: App, within, units, out, no_pdf, today) -> None:
    """Write a 催办单 (.docx + PDF) for every unit with overdue or soon-due items; print a summary."""
    from .. import supervise as sv
    from ..supervise.remind import remind

    config = app.config
    day = _today(today)
    with Ledger.open(config) as ledger:
        sv.day_turn(ledger, config, today=day, actor=app.actor)
        _sync_search(ledger, config)
        res = remind(ledger, config, today=day, actor=app.actor, within_days=within, units=list(units) or None,
                     out_dir=out, pdf=not no_pdf)
    click.echo(res.summary())
    for r in res.reminders:
        click.echo(f"  {r.docx}" + (f"\n  {r.pdf}" if r.pdf else ""))


@supervise_group.command("report")
@click.argument("year", type=int)
@click.option("--quarter", type=click.IntRange(1, 4), default=None, help="1–4 (default: the whole year)")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder for the 台账 .xlsx (default: outbox/督办/)")
@TODAY_OPTION
@pass_app
def report_cmd(app: App, year: int, quarter, out, today) -> None:
    """The 督查督办台账 (.xlsx) and a 督查通报 draft in proofs/ for YEAR (or one quarter)."""
    from .. import supervise as sv
    from ..supervise.report import report

    config = app.config
    day = _today(today)
    with Ledger.open(config) as ledger:
        sv.day_turn(ledger, config, today=day, actor=app.actor)
        _sync_search(ledger, config)
        rep = report(ledger, config, year=year, quarter=quarter, today=day, actor=app.actor, out_dir=out)
    t = rep.stats.total
    click.echo(f"{rep.stats.period.label}：督办事项 {t.total} 件，已办结 {t.closed} 件，办理中 {t.open} 件"
               f"（其中逾期 {t.overdue} 件），暂缓 {t.held} 件，不能办理 {t.cannot} 件；办结率 {t.rate}")
    for r in rep.stats.by_source:
        click.echo(f"  {r.name}：{r.total} 件，已办结 {r.closed} 件，办结率 {r.rate}")
    click.echo(f"台账：{rep.workbook}")
    click.echo(f"督查通报（清样，待审核签发）：{rep.notice}")
