"""The watched-folder service with real filesystem events (inotify and polling) in temporary folders.

The first group uses a fast fake pipeline (to count exactly-once over 100 drops and to time the
readiness gate precisely) with the real readiness probe from pipeline.drafts; the second group runs the
real pipeline (LibreOffice, stamp, signature, ledger, archive, index) on a few drafts and on garbage.
Every wait is on a condition with a timeout; the only sleep is the slow writer's own pause.
"""
from __future__ import annotations

import io
import os
import threading
import time
import zipfile
from pathlib import Path

import pytest

from pipeline import intake
from pipeline.config import Config
from pipeline.intake import Hooks, IntakeEvent
from pipeline.model import Outcome
from tests.test_intake import make_config

TIMEOUT = 30.0


def wait_until(cond, timeout: float = TIMEOUT, what: str = "condition") -> None:
    """Poll ``cond`` until true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for: {what}")
        time.sleep(0.05)


class NullServices:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


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


class FastPipeline:
    """A fake process_draft that records what it was given (thread-safe) and issues a number."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls: list[tuple[str, bytes]] = []

    def process(self, path: Path, svc, *, route=None) -> Outcome:
        data = path.read_bytes()
        with self.lock:
            self.calls.append((path.name, data))
            n = len(self.calls)
        return Outcome(file=str(path), status="issued", number=f"珠政发〔2015〕{n}号", title=path.stem, seconds=0.0)

    def names(self) -> list[str]:
        with self.lock:
            return [c[0] for c in self.calls]


def _write_note(*args, **kw):
    from pipeline.process import write_note

    return write_note(*args, **kw)


def fast_hooks(fake: FastPipeline) -> Hooks:
    from pipeline import drafts

    return Hooks(process=fake.process, write_note=_write_note, probe=drafts.probe,
                 suffixes=frozenset(s.lower() for s in drafts.SUPPORTED_SUFFIXES),
                 archived=lambda svc, outcome, claimed: True)


def docx_bytes(text: str = "关于开展安全生产大检查的通知") -> bytes:
    from docx import Document

    d = Document()
    d.add_paragraph(text)
    for i in range(40):
        d.add_paragraph(f"第{i + 1}段：各单位要高度重视，认真组织，确保取得实效。" * 3)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def md_text(title: str, body_lines: int = 40) -> bytes:
    body = "\n\n".join(f"{i + 1}. 各单位要高度重视，认真组织，确保检查工作取得实效。" for i in range(body_lines))
    return f"---\n标题: {title}\n---\n\n{body}\n".encode("utf-8")


def fast_config(tmp_path: Path, **kw) -> Config:
    opts = {"stable_seconds": 1, "invalid_timeout_s": 4, "poll_interval_s": 0.3, "rescan_interval_s": 300}
    opts.update(kw)
    return make_config(tmp_path / "instance", **opts)


def claims_left(config: Config) -> list[Path]:
    root = config.work_dir / intake.CLAIMS_DIR
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- real events, fast fake pipeline ------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["docx", "md"])
def test_slow_writer_is_not_taken_early(tmp_path, kind):
    """A writer that pauses 2.5 s half-way (longer than stable_seconds = 1 s) is taken only after it
    closes the file. A half Markdown file is valid Markdown, so here only the gate can hold it back."""
    config = fast_config(tmp_path)
    fake = FastPipeline()
    data = docx_bytes() if kind == "docx" else md_text("关于开展安全生产大检查的通知")
    target = config.inbox / "珠政发" / f"慢慢写.{kind}"
    seen_early: list[str] = []

    def writer():
        with open(target, "wb") as f:
            f.write(data[: len(data) // 2])
            f.flush()
            os.fsync(f.fileno())
            time.sleep(2.5)  # the writer's own pause (what is being tested), not a wait in the test
            if fake.names() or not target.exists():
                seen_early.append("taken while the writer was paused")
            f.write(data[len(data) // 2:])

    with Running(config, fast_hooks(fake)) as run:
        t = threading.Thread(target=writer)
        t.start()
        run.wait_for(lambda evs: any(e.kind == "issued" for e in evs), what="the slow draft")
        t.join()
    assert seen_early == []
    assert fake.calls == [(target.name, data)]
    assert run.of("waiting") == [] or kind == "docx"


def test_lock_and_temp_files_are_ignored(tmp_path, monkeypatch):
    config = fast_config(tmp_path, rescan_interval_s=0.3)
    fake = FastPipeline()
    route = config.inbox / "珠政发"
    route.mkdir(parents=True)
    scans = []
    real_scan = intake.Intake.scan

    def counting_scan(self):
        scans.append(time.monotonic())
        return real_scan(self)

    monkeypatch.setattr(intake.Intake, "scan", counting_scan)
    before = {"~$草稿.docx": b"owner", ".~lock.草稿.docx#": b"lock", "~WRL0001.tmp": b"word temp"}
    for n, b in before.items():         # present at start: the start-up scan must skip them
        (route / n).write_bytes(b)
    with Running(config, fast_hooks(fake)) as run:
        after = {"草稿.md.swp": b"vim", "Thumbs.db": b"x", ".hidden.md": md_text("隐藏"), "下载.crdownload": b"x"}
        for n, b in after.items():
            (route / n).write_bytes(b)
        # the write-then-rename convention: *.part is ignored until it is renamed into place
        part = route / "草稿.md.part"
        part.write_bytes(md_text("关于开展检查的通知"))
        os.rename(part, route / "草稿.md")
        run.wait_for(lambda evs: any(e.kind == "issued" for e in evs), what="草稿.md")
        n0 = len(scans)
        wait_until(lambda: len(scans) >= n0 + 3, what="three more full rescans")
    assert fake.names() == ["草稿.md"]
    for n, b in {**before, **after}.items():
        assert (route / n).read_bytes() == b, f"{n} was touched"
    assert [e.kind for e in run.events if e.name and e.name != "草稿.md"] == []


def test_hundred_drafts_dropped_at_once_are_each_processed_exactly_once(tmp_path):
    config = fast_config(tmp_path)
    fake = FastPipeline()
    route = config.inbox / "珠政发"
    names = [f"草稿{i:03d}.md" for i in range(100)]
    with Running(config, fast_hooks(fake)) as run:
        for i, n in enumerate(names):
            (route / n).write_bytes(md_text(f"关于第{i}项工作的通知", body_lines=5))
        run.wait_for(lambda evs: sum(e.kind == "issued" for e in evs) >= 100, 120, "100 issued")
        # repeated events cannot bring anything back: touch the (now empty) folder and a new marker
        (route / "标记.md").write_bytes(md_text("标记"))
        run.wait_for(lambda evs: any(e.name == "标记.md" for e in evs), what="the marker")
    got = fake.names()
    assert sorted(got) == sorted(names + ["标记.md"]) and len(got) == len(set(got)) == 101
    assert list(route.iterdir()) == [] and claims_left(config) == []
    assert run.counts == {"issued": 101}


def test_share_route_is_polled(tmp_path, monkeypatch):
    import yaml

    from tests.conftest import REPO

    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw["intake"].update({"stable_seconds": 0.5, "invalid_timeout_s": 4, "poll_interval_s": 0.3,
                          "rescan_interval_s": 300})
    raw["intake"]["routes"][2]["share"] = True          # 珠政函 is on a network share
    config = Config.model_validate({**raw, "base": tmp_path / "instance"})
    polled: list[str] = []

    class SpyPolling(intake.PollingObserver):
        def schedule(self, handler, path, **kw):
            polled.append(Path(path).name)
            return super().schedule(handler, path, **kw)

    monkeypatch.setattr(intake, "PollingObserver", SpyPolling)
    fake = FastPipeline()
    with Running(config, fast_hooks(fake)) as run:
        assert "珠政函（轮询）" in run.of("started")[0].message
        (config.inbox / "珠政函" / "复函.md").write_bytes(md_text("关于同意某事的复函"))
        run.wait_for(lambda evs: any(e.kind == "issued" for e in evs), what="the polled draft")
    # the share route and inbox/ itself are polled; the local routes are not
    assert sorted(polled) == sorted(["珠政函", "inbox"])
    assert fake.names() == ["复函.md"]
