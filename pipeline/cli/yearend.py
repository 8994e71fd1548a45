"""Year-end commands: archive (件号, 档号, 归档章, 目录), check (四性检测), handover (移交包)."""
from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import App, cli, pass_app

RESULT_STYLE = {True: "[green]通过[/green]", False: "[red]未通过[/red]", None: "[yellow]未检测[/yellow]"}
MAX_TERMINAL_FAILURES = 200


@contextmanager
def _progress(label: str):
    """A progress bar on stderr; yields the callback the library functions take."""
    console = Console(stderr=True)
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[what]}"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(label, total=None, what="")

        def update(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=max(total, 1), what=what)

        yield update


def _ledger(config):
    from ..ledger import Ledger

    return Ledger.open(config)


def print_report(report, console: Console) -> None:
    table = Table(title=f"四性检测（{report.stage}环节）：{report.subject}", show_lines=False)
    for col in ("编号", "性质", "检测项目", "结果", "检测数", "说明"):
        table.add_column(col, overflow="fold")
    for it in report.items:
        detail = it.note or (f"{len(it.failures)} 处问题" if it.failures else "")
        table.add_row(it.code, it.prop, it.name, RESULT_STYLE[it.ok], str(it.checked), detail)
    console.print(table)
    fails = report.failures()
    if fails:
        ft = Table(title="未通过的文件", show_lines=False)
        for col in ("检测项目", "档号或文号", "文件", "问题"):
            ft.add_column(col, overflow="fold")
        for it, f in fails[:MAX_TERMINAL_FAILURES]:
            ft.add_row(it.code, f.ident, f.file, f.message)
        console.print(ft)
        if len(fails) > MAX_TERMINAL_FAILURES:
            console.print(f"另有 {len(fails) - MAX_TERMINAL_FAILURES} 处问题未显示，见 --json 或 --report。")
    style = "green" if report.ok else "red"
    console.print(f"[{style}]结论：{report.verdict}[/{style}]")
    if report.skipped:
        console.print("[yellow]“未检测”表示该项本次没有运行，不等于通过。[/yellow]")


@cli.command("archive")
@click.argument("year", type=int)
@click.option("--no-pdf", is_flag=True, help="write the 目录 as .xlsx only (no LibreOffice)")
@pass_app
def archive_cmd(app: App, year: int, no_pdf: bool) -> None:
    """Year-end arrangement of YEAR (DA/T 22-2015): 件号 and 档号 by class, the 归档章 on each 正本,
    档号 into the register and the metadata, the 归档文件目录 and 备考表. Safe to run again: what is
    done stays as it is; documents filed late go to the end of their class with a note."""
    from ..yearend.arrange import archive_year

    config = app.config
    console = Console()
    with _ledger(config) as ledger, _progress(f"{year} 年度整理归档") as progress:
        result = archive_year(config, year, ledger=ledger, actor=app.actor, progress=progress, make_pdf=not no_pdf)
    table = Table(title=f"{config.organisation.name} {year} 年度归档整理")
    for col in ("类别", "件数", "起止档号", "页数", "文件数", "字节数", "补归档"):
        table.add_column(col)
    for s in result.classes:
        table.add_row(s.key.label, str(s.items), f"{s.first_code} — {s.last_code}", str(s.pages), str(s.files),
                      str(s.bytes), str(s.late))
    console.print(table)
    if not result.changed:
        console.print("已整理过，本次没有任何改动（件号、档号、归档章、目录均保持不变）。")
    else:
        console.print(f"本次新编档号 {len(result.newly)} 件（其中补归档 {len(result.late)} 件），加盖归档章 "
                      f"{len(result.stamped)} 件，档号记入登记簿 {len(result.registered)} 件、"
                      f"检索索引 {len(result.indexed)} 件。")
    for w in result.warnings:
        console.print(f"[yellow]提示：{w}[/yellow]")
    for p in result.outputs:
        console.print(f"已写出 {p}")
    console.print(f"整理方案：{result.plan}")


@cli.command("check")
@click.argument("year", type=int, required=False)
@click.option("--package", "package", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="re-verify a handover package (receiving side) instead of a year of the archive")
@click.option("--json", "as_json", is_flag=True, help="print the report as JSON")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="also write the report to FILE (.json, .docx or .pdf)")
@click.option("--strict", is_flag=True, help="count items that could not run (未检测) as failures")
@click.option("--trust", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="with --package: an extra trust-root certificate (PEM/DER); may be repeated")
@pass_app
def check_cmd(app: App, year: int | None, package: Path | None, as_json: bool, report_file: Path | None,
              strict: bool, trust: tuple[Path, ...]) -> None:
    """The 四性检测 (DA/T 70-2018) of YEAR — authenticity, integrity, usability, security — item by
    item, naming every failing document and file; or of a handover package with --package DIR.
    Exit status 1 if anything fails (a year with nothing in it fails too)."""
    if (year is None) == (package is None):
        raise click.UsageError("请给出年度 YEAR，或用 --package DIR 检测移交包（二者取一）")
    from ..yearend.report import REPORT_SUFFIXES

    if report_file is not None and report_file.suffix.lower() not in REPORT_SUFFIXES:
        # Said before the check runs (minutes on a large year), not after it.
        raise click.BadParameter(f"检测报告只能写成 .json、.docx 或 .pdf，不能是“{report_file.name}”",
                                 param_hint="--report")
    if package is not None:
        from ..yearend.package import check_package

        with _progress("检测移交包") as progress:
            report = check_package(package, trust=list(trust), actor=app.actor, progress=progress, strict=strict)
    else:
        from ..yearend.checks import check_year

        from ..yearend.report import save_last_report

        assert year is not None   # one of YEAR and --package, checked above
        config = app.config
        with _ledger(config) as ledger, _progress(f"{year} 年度四性检测") as progress:
            report = check_year(config, year, ledger=ledger, actor=app.actor, progress=progress, strict=strict)
        save_last_report(config, report)      # the 年终 page shows the last report of the year
    if report_file is not None:
        from ..yearend.report import write_report

        needs_config = report_file.suffix.lower() in (".docx", ".pdf")   # templates and LibreOffice
        written = write_report(report, app.config if needs_config else None, report_file)
        click.echo(f"检测报告已写出：{written}", err=True)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print_report(report, Console())
    if not report.ok:
        raise SystemExit(1)


@cli.command("handover")
@click.argument("year", type=int)
@click.option("--to", "dest", required=True, type=click.Path(path_type=Path), help="the package folder to create")
@click.option("--force", is_flag=True, help="build even if the check fails (marked as forced in the package)")
@pass_app
def handover_cmd(app: App, year: int, dest: Path, force: bool) -> None:
    """Build the handover package of YEAR for the 区档案馆 at DIR: one folder per 件 by 档号 with its
    files and XML metadata, the 目录, the 检测报告, the 电子档案移交与接收登记表, a BagIt bag and an SM3
    manifest. Refuses when the year's check fails, unless --force."""
    from ..yearend.package import HandoverRefused, build_handover

    config = app.config
    console = Console()
    try:
        with _ledger(config) as ledger, _progress(f"{year} 年度移交包") as progress:
            result = build_handover(config, year, dest, ledger=ledger, actor=app.actor, force=force,
                                    progress=progress)
    except HandoverRefused as e:
        print_report(e.report, console)
        click.echo(f"错误：{e}", err=True)
        raise SystemExit(1) from None
    if result.forced:
        console.print("[red]注意：检测未通过，本包为强制生成，包内与登记表均已注明。[/red]")
    console.print(f"已生成移交包 {result.path}：{result.items} 件，{result.files} 个文件，{result.bytes} 字节；"
                  f"SM3 数据摘要 {result.data_digest}")
    console.print(f"接收方可用 gongwen check --package {result.path} 或任何 BagIt 工具核验。")
