"""Commands about 发文办理 before the number: proof (清样), release (签发 → 送编号), return (退回), proofs
(each draft's state)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from . import App, cli, pass_app
from .documents import echo_result
from ..model import ProofOutcome, Signoff


def _rel(app: App, p: str | Path | None) -> str:
    if not p:
        return ""
    try:
        return str(Path(p).resolve().relative_to(app.config.base.resolve()))
    except ValueError:
        return str(p)


def _proof_line(app: App, o: ProofOutcome) -> str:
    secs = f"  {o.seconds:.1f} s" if o.seconds is not None else ""
    name = Path(o.file).name
    see = f"（见 {_rel(app, o.note)}）" if o.note else ""
    if o.status == "proof":
        tips = f"，{len(o.problems)} 条提示{see}" if o.problems else ""
        return f"清样 ← {name}：{_rel(app, o.pdf)}{tips}{secs}"
    n = sum(1 for p in o.problems if p.severity == "error")
    if o.status == "rejected":
        return f"未出清样 ← {name}：{n} 个问题{see}{secs}"
    return f"暂未出清样 ← {name}：{'；'.join(p.message for p in o.problems)}{secs}"


@cli.command("proof")
@click.argument("drafts", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print one JSON object per draft")
@pass_app
def proof_cmd(app: App, drafts: tuple[Path, ...], as_json: bool) -> None:
    """Make the 清样 of each DRAFT beside it (<name>.清样.pdf): read and reviewed as for issue, the real
    template, the number left blank, no seal, no signature, 「清样」 across every page. No number is
    taken. Exit status 1 if any draft got no 清样."""
    from ..process import open_services
    from ..proofs import make_proof

    config = app.config
    bad = 0
    with open_services(config, app.actor) as svc:
        for path in drafts:
            o = make_proof(path, svc, route=config.route_for_folder(path.parent.name))
            bad += o.status != "proof"
            echo_result(o, _proof_line(app, o), as_json)
    if bad:
        raise SystemExit(1)


def _signoff(signer: str | None, opinion: str | None, date: dt.date | None, cosigners: tuple[str, ...],
             delegated: bool) -> Signoff | None:
    if signer is None:
        if opinion or cosigners or delegated or date:
            raise click.UsageError("--opinion、--date、--cosigner、--delegated 须与 --signer 一起使用")
        return None
    if not signer.strip():
        raise click.UsageError("--signer 不能为空")
    opinion = (opinion or "").strip()
    if not opinion:
        raise click.UsageError("签发须写明签发意见（--opinion，如“同意”；圈阅的写“圈阅”）")
    return Signoff(signer=signer.strip(), date=date or dt.date.today(), opinion=opinion,
                   cosigners=tuple(c.strip() for c in cosigners if c.strip()), delegated=delegated)


@cli.command("release")
@click.argument("draft", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--signer", default=None, help="签发人: the head who signed the 清样 off")
@click.option("--opinion", default=None, help="签发意见, e.g. 同意 (required with --signer)")
@click.option("--date", "date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="签发日期 (default: today)")
@click.option("--cosigner", "cosigners", multiple=True, help="会签: a co-signing head (repeat for several)")
@click.option("--delegated", is_flag=True, help="代签: the signer signed for another head")
@pass_app
def release_cmd(app: App, draft: Path, signer: str | None, opinion: str | None, date: dt.datetime | None,
                cosigners: tuple[str, ...], delegated: bool) -> None:
    """Record the 签发 of DRAFT's 清样 and move the draft from proofs/<route>/ to inbox/<route>/ for
    numbering. Without --signer the draft must carry its 签发 or be signed off already."""
    from ..ledger import Ledger
    from ..signoff import release

    so = _signoff(signer, opinion, date.date() if date else None, cosigners, delegated)
    with Ledger.open(app.config) as ledger:
        done = release(ledger, app.config, draft, actor=app.actor, signoff=so)
    s = done.case.signoff
    assert s is not None   # release() moves only a draft that is signed off
    who = "、".join(s.names) + ("（代）" if s.delegated else "")
    click.echo(f"已送编号 ← {draft.name}：{who} {s.date.isoformat()} 签发（{s.opinion_text}）→ {_rel(app, done.draft)}")


@cli.command("return")
@click.argument("draft", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", "by", required=True, help="who sends the 清样 back (the head)")
@click.option("--opinion", required=True, help="what must change")
@pass_app
def return_cmd(app: App, draft: Path, by: str, opinion: str) -> None:
    """退回: the head sends DRAFT's 清样 back with an opinion; the draft stays in proofs/ for correction."""
    from ..fsutil import readable
    from ..ledger import Ledger
    from ..signoff import find_case, route_key_of, send_back

    config = app.config
    with Ledger.open(config) as ledger:
        c = find_case(ledger, config, route_key_of(draft, config, config.proofs), readable(draft.name))
        if c is None:
            raise click.ClickException(f"{draft.name} 没有待签发的清样")
        c = send_back(ledger, config, c.id, by=by, opinion=opinion, actor=app.actor)
    click.echo(f"已退回 ← {draft.name}：{c.returned_by}：{c.return_opinion}")


@cli.command("proofs")
@click.option("--all", "show_all", is_flag=True, help="also drafts already numbered")
@click.option("--json", "as_json", is_flag=True, help="print JSON for scripts")
@pass_app
def proofs_cmd(app: App, show_all: bool, as_json: bool) -> None:
    """Each draft on its way to a number: its 清样, 签发 or 退回, and state (newest first)."""
    from ..ledger import Ledger, ledger_path
    from ..signoff import cases

    config = app.config
    rows = []
    if ledger_path(config).is_file():            # a listing never creates the register
        with Ledger.open(config) as ledger:
            rows = cases(ledger, config, open_only=not show_all)
    if as_json:
        click.echo(json.dumps([c.to_json() for c in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("没有待办的清样。")
        return
    table = Table(title="清样签发登记")
    for col in ("稿件", "文件夹", "草稿", "标题", "状态", "稿次", "清样时间", "签发 / 退回", "文号"):
        table.add_column(col, overflow="fold")
    for c in rows:
        if c.returned_at and c.state == "returned":
            so = f"{c.returned_by} 退回：{c.return_opinion}"
        elif c.signoff:
            so = f"{'、'.join(c.signoff.names)} {c.signoff.date.isoformat()}：{c.signoff.opinion_text}"
        else:
            so = ""
        table.add_row(str(c.id), c.route or "（根目录）", c.name, c.title or "", c.state_name, str(c.proof_count),
                      (c.proofed_at or "")[:16].replace("T", " "), so, c.reference or "")
    console = Console()
    (console if console.is_terminal else Console(width=200)).print(table)
