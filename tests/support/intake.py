"""Intake test helpers: a config without the template check, a fake monotonic clock, a fake pipeline
behind the intake's hooks, null services, and ``intake.watch`` running on a thread (Running)."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml

from pipeline import intake
from pipeline.config import Config
from pipeline.intake import Hooks, IntakeEvent
from pipeline.model import Outcome
from samples.instance import REPO

def make_config(root: Path, **intake_overrides) -> Config:
    """A config for an instance in ``root`` without the template check (these tests never render)."""
    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw["intake"].update({"stable_seconds": 2, "invalid_timeout_s": 60, "rescan_interval_s": 300,
                          **intake_overrides})
    return Config.model_validate({**raw, "base": root})


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, s: float) -> None:
        self.t += s


class FakePipeline:
    """Stands in for process_draft / write_note / probe / the archive check."""

    def __init__(self, config: Config):
        self.config = config
        self.calls: list[tuple[str, bytes, str | None]] = []
        self.results: dict[str, Outcome] = {}   # by draft name; default: issued
        self.archived_ok = True
        self.seq = 0

    def process(self, path: Path, svc, *, route=None) -> Outcome:
        self.calls.append((path.name, path.read_bytes(), route.series if route else None))
        if path.name in self.results:
            return self.results[path.name]
        self.seq += 1
        return Outcome(file=str(path), status="issued", number=f"珠政发〔2015〕{self.seq}号", title="关于测试的通知",
                       seconds=0.01)

    def write_note(self, problems, draft_name, dest_dir, *, header=""):
        p = Path(dest_dir) / f"{draft_name}.问题.txt"
        assert not p.exists(), "a note must never be overwritten"
        p.write_text(header + "\n" + "\n".join(str(x) for x in problems), encoding="utf-8")
        return p

    @staticmethod
    def probe(path: Path) -> str | None:
        data = path.read_bytes()
        if not data:
            return "文件为空"
        return None if data.endswith(b"END") else "文件不完整"

    def archived(self, svc, outcome, claimed) -> bool:
        return self.archived_ok

    def hooks(self) -> Hooks:
        return Hooks(process=self.process, write_note=self.write_note, probe=self.probe,
                     suffixes=frozenset({".docx", ".md", ".yaml"}), archived=self.archived)


class NullServices:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


TIMEOUT = 30.0


class Running:
    """``intake.watch`` on a thread, with its events collected; stop() ends it cleanly."""

    def __init__(self, config: Config, hooks: Hooks | None = None, svc_factory=NullServices):
        self.config, self.events, self.error, self.counts = config, [], None, None
        self.cond = threading.Condition()
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(hooks, svc_factory), daemon=True)

    def _run(self, hooks, svc_factory) -> None:
        try:
            self.counts = intake.watch(self.config, svc_factory, on_event=self._on, stop=self.stop_flag,
                                       hooks=hooks)
        except BaseException as e:  # surfaced by wait_for/stop
            self.error = e
        with self.cond:
            self.cond.notify_all()

    def _on(self, ev: IntakeEvent) -> None:
        with self.cond:
            self.events.append(ev)
            self.cond.notify_all()

    def __enter__(self) -> "Running":
        self.thread.start()
        self.wait_for(lambda evs: any(e.kind == "started" for e in evs), 120, "the watcher to start")
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.stop_flag.set()
        self.thread.join(timeout=120)
        assert not self.thread.is_alive(), "the watcher did not stop"
        if self.error:
            raise self.error

    def wait_for(self, pred, timeout: float = TIMEOUT, what: str = "events") -> list[IntakeEvent]:
        with self.cond:
            ok = self.cond.wait_for(lambda: self.error is not None or pred(self.events), timeout)
            if self.error is not None:
                raise self.error
            if not ok:
                pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; events: "
                            f"{[(e.kind, e.name) for e in self.events]}")
            return list(self.events)

    def of(self, kind: str) -> list[IntakeEvent]:
        with self.cond:
            return [e for e in self.events if e.kind == kind]
