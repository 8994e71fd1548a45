"""`gongwen watch` as a subprocess on a fresh instance, for the tests that must go through the real
service: start it, read its console, wait on a condition (failing at once if the service died), kill
it hard (with everything it started) or stop it with SIGTERM. Also the register's write lock held by
another process (HeldLock), for the service's answer to a busy register."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
import yaml

from tests.conftest import REPO, write_instance

GONGWEN = [sys.executable, "-m", "pipeline"]


def _tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-40:])


def wait_until(cond, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None):
    """Poll ``cond`` until true; fail naming ``what`` after ``timeout`` s, or at once if ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while not cond():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"gongwen watch exited ({proc.returncode}) while waiting for {what}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}:\n{_tail(log)}")
        time.sleep(0.1)


def files_under(root: Path) -> list[Path]:
    """The files under ``root`` while a running service may be removing folders there: one that
    vanishes during the walk is skipped (Path.rglob raises FileNotFoundError instead)."""
    return [Path(d) / f for d, _, files in os.walk(root) for f in files]


def start(cfg: Path, out: Path, env: dict, *args: str) -> subprocess.Popen:
    fh = open(out, "ab")
    return subprocess.Popen(GONGWEN + ["--config", str(cfg), "watch", *args], stdout=fh, stderr=subprocess.STDOUT,
                            env=env, cwd=REPO, start_new_session=True)


def intake_settings(**kw) -> dict:
    """The repository's intake settings with ``kw`` replaced (fast gates for tests)."""
    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))["intake"]
    raw.update(kw)
    return raw


def fresh_instance(tmp_path: Path, *, root: Path | None = None, **overrides):
    """A new instance with demo keys in tmp_path (or ``root``), and the environment of its own service
    process (own HOME and TMPDIR in tmp_path: LibreOffice leaves its files there). Returns (config
    path, config, env)."""
    from pipeline.config import load
    from pipeline.instance import init_instance

    cfg = write_instance(root or tmp_path / "instance", **overrides)
    init_instance(None, str(cfg))
    home = tmp_path / "home"
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(home / "tmp"), "GONGWEN_ACTOR": "测试员",
           "PYTHONUNBUFFERED": "1"}
    return cfg, load(cfg), env


def kill_hard(proc: subprocess.Popen) -> None:
    """SIGKILL the service and everything it started (converter included), by process id."""
    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    proc.send_signal(signal.SIGKILL)
    for child in family:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    proc.wait(timeout=30)
    psutil.wait_procs(family, timeout=30)


class WatchService:
    """One `gongwen watch` subprocess on an instance; its console goes to ``out``."""

    def __init__(self, cfg: Path, env: dict, out: Path):
        self.cfg, self.env, self.out = cfg, env, out
        self.proc: subprocess.Popen | None = None

    def start(self) -> "WatchService":
        self.proc = start(self.cfg, self.out, self.env)
        self.wait_for(lambda text: "正在监视" in text, 120, "the service to start")
        return self

    def console(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace") if self.out.exists() else ""

    def wait_for(self, pred, timeout: float, what: str) -> str:
        """Wait until ``pred(console text)``; fails at once if the service has exited."""
        wait_until(lambda: pred(self.console()), timeout, what, self.proc, self.out)
        return self.console()

    def until(self, cond, timeout: float, what: str) -> None:
        """Wait until ``cond()``; fails at once if the service has exited."""
        wait_until(cond, timeout, what, self.proc, self.out)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int:
        """SIGTERM, wait for a clean exit; returns the exit status."""
        assert self.proc is not None
        try:
            self.proc.send_signal(signal.SIGTERM)
            return self.proc.wait(timeout=180)
        except BaseException:
            kill_hard(self.proc)
            raise

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            kill_hard(self.proc)


class HeldLock:
    """Another process holding the register's write lock (BEGIN IMMEDIATE) until released."""

    def __init__(self, path: Path):
        code = textwrap.dedent(f"""
            import sqlite3, sys
            db = sqlite3.connect({str(path)!r}, isolation_level=None)
            db.execute("BEGIN IMMEDIATE")
            print("locked", flush=True)
            sys.stdin.read()
        """)
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)

    def __enter__(self) -> "HeldLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()
