"""Commands about filed records and the instance's health: show, doctor."""
from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from . import App, cli, pass_app
from ..model import Finding

MARK = {True: "[green]通过[/green]", False: "[red]未通过[/red]", None: "[yellow]未检测[/yellow]"}


def render_findings(findings: list[Finding], title: str) -> Table:
    table = Table(title=title, show_lines=False)
    for col in ("类别", "检查项", "结果", "说明"):
        table.add_column(col, overflow="fold")
    for f in findings:
        table.add_row(f.area, f.item, MARK[f.ok], f.detail)
    return table


@cli.command("show")
@click.argument("ident")
@click.option("--json", "as_json", is_flag=True, help="print the metadata and fixity as JSON")
@pass_app
def show_cmd(app: App, ident: str, as_json: bool) -> None:
    """Show one filed document by 文号 or 档号: metadata, files with fixity status, history."""
    from ..archive import ArchiveStore, summary_keys

    rec = ArchiveStore(app.config).find(ident)
    if rec is None:
        raise click.ClickException(f"档案中没有 {ident}（可用 gongwen search 查找）")
    fixity = rec.verify()
    from ..incoming import answered_by
    from ..ledger import Ledger

    with Ledger.open(app.config) as ledger:
        events = ledger.events(rec.reference)
        # the 收文 this 发文 answers (its 复文号): the other way of the link the 收文 records
        answers = [r.reference for r in answered_by(ledger, rec.reference)]
    if as_json:
        click.echo(json.dumps({"path": str(rec.path), "metadata": rec.meta, "answers": answers,
                               "fixity": [{"file": r.file, "algorithm": r.algorithm, "ok": r.ok,
                                           "status": r.status,
                                           "expected": r.expected, "actual": r.actual} for r in fixity]},
                              ensure_ascii=False, indent=2))
        if not all(r.ok for r in fixity if r.verified):
            raise SystemExit(1)
        return
    console = Console()
    m = rec.meta
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    for key in summary_keys(m):
        val = m.get(key)
        if isinstance(val, list):
            val = "、".join(val)
        head.add_row(key, "" if val in (None, "") else str(val))
    if answers:
        head.add_row("答复来文", "、".join(answers))
    for key in ("签发意见", "签发日期"):                 # the 业务实体 签发, when one was recorded
        val = (m.get("签发") or {}).get(key)
        if val:
            head.add_row(key, str(val))
    head.add_row("位置", str(rec.path))
    console.print(head)
    files = Table(title="文件与固定性")
    for col in ("文件", "稿本", "大小", "格式", "算法", "校验"):
        files.add_column(col)
    by_file = {f["计算机文件名"]: f for f in m.get("电子文件", [])}
    for r in fixity:
        f = by_file.get(r.file, {})
        colour = "green" if r.ok else ("yellow" if not r.verified else "red")
        status = f"[{colour}]{r.status}[/{colour}]"
        files.add_row(r.file, f.get("稿本", ""), str(f.get("计算机文件大小", "")), f.get("格式信息", ""), r.algorithm, status)
    console.print(files)
    sig = m.get("电子签名")
    if sig:
        console.print(f"电子签名：{sig.get('签名人')}  {sig.get('签名时间')}  {sig.get('签名结果')}")
    from ..ledger import EVENT_NAMES, Ledger
    from ..process import document_events
    from ..signoff import handling

    with Ledger.open(app.config) as ledger:
        steps = handling(ledger, app.config, rec.reference)
        events = document_events(ledger, app.config, rec.reference)
    flow = Table(title="发文办理（清样 → 签发 → 编号 → 用印 → 核发）")
    for col in ("步骤", "时间", "人员", "说明"):
        flow.add_column(col, overflow="fold")
    for s in steps:
        flow.add_row(s.name, (s.time or "—")[:19].replace("T", " "), s.actor or "", s.detail)
    console.print(flow)
    history = Table(title="办理过程")
    for col in ("时间", "行为", "人员"):
        history.add_column(col)
    for ev in events:
        history.add_row(str(ev.time), EVENT_NAMES.get(ev.event, ev.event), ev.actor)
    console.print(history)
    if not all(r.ok for r in fixity if r.verified):
        bad = "；".join(f"{r.file}（{r.algorithm}）{r.status}" for r in fixity if r.verified and not r.ok)
        console.print(f"[red]固定性校验未通过：{bad}[/red]")
        raise SystemExit(1)


@cli.command("doctor")
@click.option("--json", "as_json", is_flag=True)
@pass_app
def doctor_cmd(app: App, as_json: bool) -> None:
    """Environment and archive health: LibreOffice, fonts, certificate, register chain, fixity,
    search index. Catches up documents that were filed but not indexed. Exit 1 on any failure."""
    from ..doctor import run_doctor

    findings = run_doctor(app.config, app.actor)
    if as_json:
        click.echo(json.dumps([f.__dict__ for f in findings], ensure_ascii=False, indent=2))
    else:
        Console().print(render_findings(findings, "gongwen doctor"))
    if any(f.ok is False for f in findings):
        raise SystemExit(1)
