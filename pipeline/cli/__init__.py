"""The `gongwen` command. The only place that prints or exits: each command is a thin wrapper over
one library call, and domain errors (pipeline.errors) become one readable line and an exit code.

Commands live in sub-modules by area and register themselves on the ``cli`` group below.
"""
from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass, field

import click

from .. import __version__
from ..config import CONFIG_ENV, Config, load
from ..errors import GongwenError


@dataclass
class App:
    """Shared state for commands (click's ctx.obj): where the config is, who acts, debug mode."""

    config_path: str | None
    actor: str
    debug: bool = False
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load(self.config_path)
        return self._config


pass_app = click.make_pass_decorator(App)


def default_actor() -> str:
    try:
        return os.environ.get("GONGWEN_ACTOR") or getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "gongwen"


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help=f"config file (default: ${CONFIG_ENV} or ./config.yaml)")
@click.option("--actor", default=None, help="who acts, for the event log (default: $GONGWEN_ACTOR or the login name)")
@click.option("--debug", is_flag=True, help="show tracebacks")
@click.version_option(__version__, prog_name="gongwen")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, actor: str | None, debug: bool) -> None:
    """gongwen — 公文生成、登记、用印、归档与检索。"""
    ctx.obj = App(config_path=config_path, actor=actor or default_actor(), debug=debug)


def main(argv: list[str] | None = None) -> None:
    debug = "--debug" in (argv if argv is not None else sys.argv)
    try:
        rc = cli.main(args=argv, prog_name="gongwen", standalone_mode=False)
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except click.exceptions.Abort:
        click.echo("已中止。", err=True)
        sys.exit(130)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except GongwenError as e:
        if debug:
            raise
        click.echo(f"错误：{e}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("已中止。", err=True)
        sys.exit(130)
    except OSError as e:
        # A full disk, a permission or a missing folder: one line naming the file, not a traceback.
        if debug:
            raise
        where = f"：{e.filename}" if getattr(e, "filename", None) else ""
        click.echo(f"错误：文件操作失败{where}（{e.strerror or e}）", err=True)
        sys.exit(1)


# Command modules register on `cli` when imported.
from . import documents, records  # noqa: E402,F401
from . import watch  # noqa: E402,F401
from . import find  # noqa: E402,F401
from . import yearend  # noqa: E402,F401
from . import registers  # noqa: E402,F401
from . import web  # noqa: E402,F401
