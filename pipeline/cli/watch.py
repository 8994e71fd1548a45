"""The `gongwen watch` command: the watched-folder service, its console lines and its log file."""
from __future__ import annotations

import logging
import logging.handlers
import os
import signal
import sys
import threading
from pathlib import Path

import click

from .. import intake
from ..config import Config
from . import App, cli, pass_app

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Rotation: 5 files of 5 MB keep months of daily use (a line per document) within 30 MB.
LOG_MAX_BYTES = 5 * 1024 * 1024
LOG_BACKUPS = 5


class _LogFile(logging.handlers.RotatingFileHandler):
    """The log file; when it cannot be written (the disk full) the console says so once, in one
    line, instead of a traceback for every log record — and again once it works after failing."""

    failing = False

    def emit(self, record: logging.LogRecord) -> None:
        self._written = True
        super().emit(record)           # calls handleError on failure
        if self._written:
            self.failing = False

    def handleError(self, record: logging.LogRecord) -> None:
        self._written = False
        if not self.failing:
            self.failing = True
            err = sys.exc_info()[1]
            click.echo(f"注意：日志文件 {self.baseFilename} 无法写入（{getattr(err, 'strerror', None) or err}）；"
                       "服务继续运行", err=True)


def setup_logging(config: Config) -> Path:
    """Send the `gongwen` loggers to the instance's rotating log file (config.paths.log)."""
    path = config.path(config.paths.log)
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("gongwen")
    logger.setLevel(logging.INFO)
    for h in logger.handlers:
        if isinstance(h, logging.handlers.RotatingFileHandler) and Path(h.baseFilename) == path.resolve():
            return path
    # backslashreplace: a file name that is not UTF-8 is logged as \udcxx, never as a logging error
    handler = _LogFile(path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8",
                       errors="backslashreplace")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    logger.addHandler(handler)
    # watchdog's own warnings (e.g. at shutdown) belong in the log file, not on the console
    wd = logging.getLogger("watchdog")
    wd.setLevel(logging.WARNING)
    wd.addHandler(handler)
    return path


def _rel(config: Config, p: Path | None) -> str:
    if p is None:
        return ""
    try:
        return str(Path(p).resolve().relative_to(config.base.resolve()))
    except ValueError:
        return str(p)


PLAIN_LABELS = {"failed": "失败", "kept": "注意", "waiting": "等待", "recovered": "恢复", "notice": "注意"}


def console_line(config: Config, ev: intake.IntakeEvent) -> str | None:
    """The one line a person watching the console sees for an event (None: nothing to show)."""
    o = ev.outcome
    secs = f"  {ev.seconds:.1f} s" if ev.seconds is not None else ""
    if ev.kind == "issued" and o is not None:
        extra = f"（{ev.message}）" if ev.message else ""
        return f"{o.number} ← {o.title or ev.name}{secs}{extra}"
    if ev.kind in ("rejected", "duplicate", "unsupported", "invalid"):
        label = "重复" if ev.kind == "duplicate" else "退回"
        see = f"（见 {_rel(config, ev.note)}）" if ev.note else ""
        return f"{label} ← {ev.name}：{ev.message}{see}"
    if ev.kind == "received":
        return f"收文 {ev.message} ← {ev.name}{secs}"
    if ev.kind == "proofed":
        extra = f"，{ev.message}（见 {_rel(config, ev.note)}）" if ev.note else ""
        return f"清样 ← {ev.name}：{_rel(config, ev.path)}{extra}{secs}"
    if ev.kind == "proof_rejected":
        see = f"（见 {_rel(config, ev.note)}）" if ev.note else ""
        return f"未出清样 ← {ev.name}：{ev.message}{see}{secs}"
    if ev.kind == "supervised":
        return f"督办 ← {ev.name}：{ev.message}"
    if ev.kind == "day_turn":
        return f"日切：{ev.message}"
    if ev.kind in PLAIN_LABELS:
        if not ev.name:
            return f"{PLAIN_LABELS[ev.kind]}：{ev.message}"
        return f"{PLAIN_LABELS[ev.kind]} ← {ev.name}：{ev.message}"
    if ev.kind == "started":
        return f"{ev.message}。把草稿放进对应文件夹即可；按 Ctrl+C 停止。"
    if ev.kind == "stopped":
        return "已停止。"
    return None


def serve(app: App, *, once: bool = False) -> int:
    """Run the service for `gongwen watch` and `gongwen run`. SIGTERM/SIGINT finish the current
    document, stop the converter and return 0; a second signal aborts at once. Returns the exit
    status: with ``once``, 1 when a draft failed (it stays claimed and is retried on the next start)."""
    from ..process import open_services

    config = app.config
    log_path = setup_logging(config)
    stop = threading.Event()

    def on_signal(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        click.echo("正在停止：处理完当前文件后退出（再按一次 Ctrl+C 立即中止）……", err=True)

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, on_signal)

    def on_event(ev: intake.IntakeEvent) -> None:
        line = console_line(config, ev)
        if line:
            click.echo(line, err=ev.kind in ("failed", "kept"))

    if not once:
        click.echo(f"日志：{_rel(config, log_path)}（进程 {os.getpid()}）")
    try:
        counts = intake.watch(config, lambda: open_services(config, app.actor), on_event=on_event,
                              stop=stop, once=once)
    finally:
        for sig, h in previous.items():
            signal.signal(sig, h)
    if once:
        summary = "，".join(f"{_KIND_CN.get(k, k)} {n}" for k, n in sorted(counts.items())) or "没有待处理的草稿"
        click.echo(f"完成：{summary}")
        return 1 if counts.get("failed") else 0
    return 0


_KIND_CN = {"issued": "发文", "rejected": "退回", "duplicate": "重复", "unsupported": "类型不符",
            "invalid": "无法打开", "failed": "失败", "kept": "保留", "proofed": "清样", "proof_rejected": "未出清样"}


@cli.command("watch")
@click.option("--once", is_flag=True,
              help="process what is waiting (and what an earlier run left), then exit")
@pass_app
def watch_cmd(app: App, once: bool) -> int:
    """Watch the inbox folders: every finished draft becomes a document, or goes to rejected/."""
    return serve(app, once=once)


def run_service(app: App) -> int:
    """The entry point `gongwen run` (and so `make run`) calls: the service on the app's config."""
    return serve(app)
