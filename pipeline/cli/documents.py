"""Commands about documents: init, process, run."""
from __future__ import annotations

import json
from pathlib import Path

import click

from . import App, cli, pass_app
from ..fsutil import readable_path
from ..model import Outcome


def _outcome_line(o: Outcome, note: str | None) -> str:
    secs = f"  {o.seconds:.1f} s" if o.seconds is not None else ""
    name = Path(o.file).name
    if o.status == "issued":
        dup = "（重复提交，沿用原文号）" if o.duplicate else ""
        copies = f"（份号 {o.copies[0].rsplit('份号', 1)[1][:6]}–{o.copies[-1].rsplit('份号', 1)[1][:6]}，共 {len(o.copies)} 份）" if o.copies else ""
        return f"{o.number} ← {o.title or name}{dup}{copies}{secs}"
    n = sum(1 for p in o.problems if p.severity == "error")
    where = f"（见 {note}）" if note else ""
    if o.status == "rejected":
        return f"退回 ← {name}：{n} 个问题{where}{secs}"
    return f"暂未办结 ← {name}：{'；'.join(p.message for p in o.problems if p.severity == 'error')}{secs}"


@cli.command("process")
@click.argument("drafts", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="where the finished .docx/.pdf go (default: the instance's outbox/)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object per draft (see README)")
@click.option("--copies", is_flag=True,
              help="also write the numbered copies (份号 000001 … 份数), one signed PDF per copy")
@pass_app
def process_cmd(app: App, drafts: tuple[Path, ...], out: Path | None, as_json: bool, copies: bool) -> None:
    """Run the whole pipeline once for each DRAFT: number, render, convert, seal, sign, file, index
    — or reject it with a note in rejected/. Exit status 1 if any draft was not issued."""
    from ..process import open_services, process_draft, write_note

    config = app.config
    bad = 0
    with open_services(config, app.actor) as svc:
        for path in drafts:
            route = config.route_for_folder(path.parent.name)
            o = process_draft(path, svc, route=route, outbox=out, copies=copies)
            note = None
            if o.status == "rejected":
                note = readable_path(write_note(o.problems, path.name, config.rejected))
                o = Outcome(**{**o.__dict__, "note": note})
            bad += o.status != "issued"
            echo_result(o, _outcome_line(o, note), as_json)
    if bad:
        raise SystemExit(1)


def echo_result(o, line: str, as_json: bool) -> None:
    """One draft's result (an Outcome or a ProofOutcome): its JSON object on one line, or its
    console line followed by its problems."""
    if as_json:
        click.echo(json.dumps(o.to_json(), ensure_ascii=False))
        return
    click.echo(line)
    for p in o.problems:
        click.echo(f"    {p}")


@cli.command("init")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--force-keys", is_flag=True, help="replace existing demo keys")
@pass_app
def init_cmd(app: App, directory: Path | None, force_keys: bool) -> None:
    """Create a working instance in DIRECTORY (default: the current config's folder): config.yaml,
    inbox/outbox/rejected/archive folders, templates, fonts, and a demo seal certificate."""
    from ..instance import init_instance

    report = init_instance(directory, app.config_path)
    for line in report:
        click.echo(line)


@cli.command("run")
@click.option("--serve", "with_web", is_flag=True, help="also run the browser app (as `gongwen serve`)")
@click.option("--host", default="127.0.0.1", show_default=True, help="with --serve: address to listen on")
@click.option("--port", type=click.IntRange(1, 65535), default=8400, show_default=True, help="with --serve")
@pass_app
def run_cmd(app: App, with_web: bool, host: str, port: int) -> int:
    """What `make run` does: make sure the instance is set up, then run the watch service — with
    --serve, the browser app beside it in the same process (Ctrl+C stops both)."""
    from ..instance import init_instance
    from .watch import run_service

    for line in init_instance(None, app.config_path):
        click.echo(line)
    if with_web:
        from .web import run_with_server

        return run_with_server(app, host, port, run_service)
    return run_service(app)
