"""Commands about documents: init, process, run."""
from __future__ import annotations

import click

from . import App, cli, pass_app


@cli.command("process")
@click.argument("drafts", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), default=None, help="output folder (default: outbox/)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per draft")
@pass_app
def process_cmd(app: App, drafts: tuple[str, ...], out: str | None, as_json: bool) -> None:
    """Render, number, seal and file each DRAFT — or reject it with a note."""
    raise click.ClickException("not built yet")
