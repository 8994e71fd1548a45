"""The `gongwen` command. The only place that prints or exits: each command is a thin wrapper over
one library call, and domain errors (pipeline.errors) become one readable line and an exit code.

Commands live in sub-modules by area and register themselves on the ``cli`` group below. The group
imports a sub-module only when one of its commands runs (``COMMANDS``), so ``gongwen --version``,
``--help`` and ``gongwen search`` do not pay for the PDF, signing and archive libraries.
"""
from __future__ import annotations

import getpass
import importlib
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from .. import CONFIG_ENV, __version__
from ..errors import GongwenError

if TYPE_CHECKING:
    from ..config import Config
    from ..configcache import ConfigFacts

# Each command: the sub-module that defines it and its short help as `gongwen --help` lists it
# (the command's own, checked by tests/test_search_engine.py), so listing imports nothing.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("documents", "Create a working instance in DIRECTORY (default: the current config's folder): "
                          "config.yaml, inbox/outbox/rejected/archive folders, templates, fonts, and a demo "
                          "seal certificate."),
    "process": ("documents", "Run the whole pipeline once for each DRAFT: number, render, convert, seal, sign, "
                             "file, index — or reject it with a note in rejected/."),
    "run": ("documents", "What `make run` does: make sure the instance is set up, then run the watch service — "
                         "with --serve, the browser app beside it in the same process (Ctrl+C stops both)."),
    "show": ("records", "Show one filed document by 文号 or 档号: metadata, files with fixity status, the record "
                        "against its anchor in the register and against its register row, history."),
    "doctor": ("records", "Environment and archive health: LibreOffice, fonts, certificate, register chain, "
                          "fixity, each record against its anchor and its register row, search index."),
    "watch": ("watch", "Watch the inbox folders: every finished draft becomes a document, or goes to rejected/."),
    "search": ("find", "Full-text search in Chinese."),
    "reindex": ("find", "Rebuild the search index from the archive, in chunks, with a progress bar."),
    "archive": ("yearend", "Year-end arrangement of YEAR (DA/T 22-2015): 件号 and 档号 by class, the 归档章 on "
                           "each 正本, 档号 into the register and the metadata, the 归档文件目录 and 备考表."),
    "check": ("yearend", "The 四性检测 (DA/T 70-2018) of YEAR — authenticity, integrity, usability, security — "
                         "item by item, naming every failing document and file; or of a handover package with "
                         "--package DIR."),
    "handover": ("yearend", "Build the handover package of YEAR for the 区档案馆 at DIR: one folder per 件 by 档号 "
                            "with its files and XML metadata, the 目录, the 检测报告, the 电子档案移交与接收登记表, "
                            "a BagIt bag and an SM3 manifest."),
    "register": ("registers", "Show the 发文登记簿 (or with --seals the 用印登记, with --times the handling times) of "
                              "YEAR (default: this year)."),
    "reserve": ("registers", "Reserve the next number of SERIES now for a document that comes later."),
    "void": ("registers", "Void the 发文字号 NUMBER: it stays in the register, marked 作废 with the reason."),
    "receive": ("incoming", "Sign in received documents (收文): PDF, scans and photos (JPEG/PNG/TIFF, by OCR), "
                            ".docx, .doc, .wps, OFD."),
    "incoming": ("incoming", "The 收文 register and its handling: list, show, route (拟办), instruct (批办), "
                             "done (办结), edit (补登), register (收文登记簿)."),
    "proof": ("proofs", "Make the 清样 of each DRAFT beside it (<name>.清样.pdf): read and reviewed as for issue, "
                       "the real template, the number left blank, no seal, no signature, 「清样」 across every page."),
    "release": ("proofs", "Record the 签发 of DRAFT's 清样 and move the draft from proofs/<route>/ to inbox/<route>/ "
                           "for numbering."),
    "return": ("proofs", "退回: the head sends DRAFT's 清样 back with an opinion; the draft stays in proofs/ for correction."),
    "proofs": ("proofs", "Each draft on its way to a number: its 清样, 签发 or 退回, and state (newest first)."),
    "supervise": ("supervise", "督查督办: the 督办台账 — add, list, progress, close, remind, report."),
    "serve": ("web", "The office in a browser: search, documents, registers, year-end, accounts (see docs/web.md)."),
    "user": ("web", "Accounts of the browser app (stored in the instance's register database; changes are events)."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported when they are used, and listed from ``COMMANDS``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:
            importlib.import_module(f"{__name__}.{COMMANDS[name][0]}")
        return self.commands.get(name)

    def listed_commands(self) -> list[tuple[str, str]]:
        return [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = self.listed_commands()
        limit = formatter.width - 6 - max(len(name) for name, _ in rows)
        with formatter.section("Commands"):
            # Shortened as click shortens a command's own help (its helper for that is deprecated).
            formatter.write_dl([(name, click.Command(name, help=short).get_short_help_str(limit))
                                for name, short in rows])


@dataclass
class App:
    """Shared state for commands (click's ctx.obj): where the config is, who acts, debug mode."""

    config_path: str | None
    actor: str
    debug: bool = False
    _config: Config | None = field(default=None, repr=False)

    @property
    def config(self) -> "Config":
        if self._config is None:
            from ..config import load

            self._config = load(self.config_path)
        return self._config

    def config_facts(self) -> "Config | ConfigFacts":
        """For a read-only command that needs only the archive's place and the search engine: what
        the config said when it last validated, if the file is unchanged since; else the config,
        loaded and validated in full (see pipeline.configcache)."""
        from ..configcache import recall

        if self._config is None and (facts := recall(self.config_path)) is not None:
            return facts
        return self.config


pass_app = click.make_pass_decorator(App)


def wide_console():
    """A rich Console; piped or captured output is wide enough that a 发文字号, a title or a message
    is never folded mid-word."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=220)


def default_actor() -> str:
    try:
        return os.environ.get("GONGWEN_ACTOR") or getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "gongwen"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
        click.echo(f"错误：{e}" + (f"（--{e.option}）" if e.option else ""), err=True)
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
