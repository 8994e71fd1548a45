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
from tests.support.intake import TIMEOUT, Running, make_config
from tests.support.watch_service import wait_until

pytestmark = pytest.mark.libreoffice


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
    assert run.of("waiting") == []


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
        wait_until(lambda: len(scans) >= n0 + 3, TIMEOUT, "three more full rescans")
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

    from pipeline.intake import observers

    class SpyPolling(observers.PollingObserver):
        def schedule(self, handler, path, **kw):
            polled.append(Path(path).name)
            return super().schedule(handler, path, **kw)

    monkeypatch.setattr(observers, "PollingObserver", SpyPolling)
    fake = FastPipeline()
    with Running(config, fast_hooks(fake)) as run:
        assert "珠政函（轮询）" in run.of("started")[0].message
        (config.inbox / "珠政函" / "复函.md").write_bytes(md_text("关于同意某事的复函"))
        run.wait_for(lambda evs: any(e.kind == "issued" for e in evs), what="the polled draft")
    # the share route and inbox/ itself are polled; the local routes are not
    assert sorted(polled) == sorted(["珠政函", "inbox"])
    assert fake.names() == ["复函.md"]


# --- real events, real pipeline ---------------------------------------------------------------------
def zip_bomb(path: Path) -> None:
    """A .docx-named zip whose document.xml inflates 1000:1 (20 MB of zeros in ~20 KB)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with zf.open("word/document.xml", "w") as w:
            for _ in range(20):
                w.write(b"\0" * (1 << 20))


def docx_with_external_entity(path: Path) -> None:
    """A real .docx whose document.xml declares an external entity pointing at /etc/passwd."""
    src = io.BytesIO(docx_bytes("关于开展检查的通知"))
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                text = data.decode("utf-8")
                decl_end = text.index("?>") + 2
                text = (text[:decl_end] + '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                        + text[decl_end:].replace("关于开展检查的通知", "&xxe;", 1))
                data = text.encode("utf-8")
            zout.writestr(item, data)


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """One real service for the module (LibreOffice starts once): a fresh instance with demo keys."""
    import yaml

    from pipeline.config import load
    from pipeline.instance import init_instance
    from pipeline.process import open_services
    from tests.conftest import REPO, write_instance

    root = tmp_path_factory.mktemp("watch-real")
    opts = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))["intake"]
    opts.update({"stable_seconds": 0.5, "invalid_timeout_s": 3, "poll_interval_s": 0.3, "rescan_interval_s": 300})
    cfg = write_instance(root / "instance", intake=opts)
    init_instance(None, str(cfg))
    config = load(cfg)
    with Running(config, None, lambda: open_services(config, "测试员")) as run:
        yield run


def _issued(run: Running, name: str) -> IntakeEvent:
    evs = run.wait_for(lambda evs: any(e.name == name and e.kind in ("issued", "failed", "rejected", "duplicate")
                                       for e in evs), 300, f"{name} to be processed")
    ev = next(e for e in evs if e.name == name and e.kind in ("issued", "failed", "rejected", "duplicate"))
    assert ev.kind == "issued", f"{name}: {ev.kind} {ev.message}"
    return ev


def test_real_draft_becomes_a_filed_document(real):
    from samples.drafts import sample_draft
    from pipeline.archive import ArchiveStore

    config = real.config
    data = sample_draft(501)
    (config.inbox / "珠政发" / "真实草稿.md").write_bytes(data)
    ev = _issued(real, "真实草稿.md")
    assert ev.route == "珠政发" and ev.outcome.number.startswith("珠政发〔2015〕")
    assert Path(ev.outcome.pdf).is_file() and Path(ev.outcome.docx).is_file()
    rec = ArchiveStore(config).find(ev.outcome.number)
    assert rec.file("原稿").read_bytes() == data          # the draft moved into the archive
    assert not (config.inbox / "珠政发" / "真实草稿.md").exists() and claims_left(config) == []


def test_draft_dropped_into_inbox_itself_is_routed_by_its_own_metadata(real):
    from samples.drafts import sample_draft

    (real.config.inbox / "无路由.md").write_bytes(sample_draft(502))
    ev = _issued(real, "无路由.md")
    assert ev.route is None and ev.outcome.number.startswith("珠政发〔2015〕")


def test_same_draft_dropped_twice_yields_one_document(real):
    from samples.drafts import sample_draft
    from pipeline.archive import ArchiveStore

    config = real.config
    data = sample_draft(503)
    route = config.inbox / "珠政发"
    (route / "两次甲.md").write_bytes(data)
    (route / "两次乙.md").write_bytes(data)
    evs = real.wait_for(lambda evs: {e.name for e in evs if e.kind in ("issued", "duplicate")} >= {"两次甲.md", "两次乙.md"},
                        300, "both drops")
    mine = sorted((e.kind, e.name) for e in evs if e.name in ("两次甲.md", "两次乙.md"))
    assert [k for k, _ in mine].count("issued") == 1 and [k for k, _ in mine].count("duplicate") == 1
    issued = next(e for e in evs if e.kind == "issued" and e.name in ("两次甲.md", "两次乙.md"))
    dup = next(e for e in evs if e.kind == "duplicate")
    assert issued.outcome.number in dup.note.read_text(encoding="utf-8")
    assert dup.path.read_bytes() == data
    titles = [r for r in ArchiveStore(config).records() if "第503批" in (r.meta.get("题名") or r.text())]
    assert len(titles) == 1


def test_rejected_draft_then_corrected_draft_simply_works(real):
    from samples.drafts import sample_draft

    config = real.config
    good = sample_draft(504)
    bad = good.replace("成文日期: 2015年3月20日".encode(), "成文日期: 二〇一五年三月".encode())
    assert bad != good
    route = config.inbox / "珠政发"
    (route / "待修改.md").write_bytes(bad)
    evs = real.wait_for(lambda evs: any(e.name == "待修改.md" and e.kind == "rejected" for e in evs), 300, "the rejection")
    rej = next(e for e in evs if e.name == "待修改.md" and e.kind == "rejected")
    assert rej.path == config.rejected / "待修改.md" and rej.path.read_bytes() == bad
    assert "成文日期" in rej.note.read_text(encoding="utf-8")
    (route / "待修改.md").write_bytes(good)
    real.wait_for(lambda evs: any(e.name == "待修改.md" and e.kind == "issued" for e in evs), 300, "the corrected draft")


def test_garbage_is_rejected_with_a_note_and_the_service_keeps_running(real):
    from samples.drafts import sample_draft

    config = real.config
    route = config.inbox / "珠政办发"
    (route / "随机字节.docx").write_bytes(os.urandom(50_000))
    (route / "空文件.md").write_bytes(b"")
    zip_bomb(route / "压缩炸弹.docx")
    docx_with_external_entity(route / "外部实体.docx")
    (route / "乱码.md").write_bytes("标题: 测试".encode("gbk") + b"\xff\xfe\x00")
    garbage = ["随机字节.docx", "空文件.md", "压缩炸弹.docx", "外部实体.docx", "乱码.md"]
    evs = real.wait_for(lambda evs: {e.name for e in evs if e.kind in ("invalid", "rejected")} >= set(garbage),
                        60, "every garbage file to be rejected")
    passwd = Path("/etc/passwd").read_text(errors="replace").splitlines()[0]
    for name in garbage:
        ev = next(e for e in evs if e.name == name and e.kind in ("invalid", "rejected"))
        assert ev.path == config.rejected / name and ev.path.exists()
        note = ev.note.read_text(encoding="utf-8")
        assert ev.note == config.rejected / f"{name}.问题.txt" and "【" in note
        assert passwd not in note
        assert not (route / name).exists()
    # still running: a good draft right after is issued
    (route / "之后.md").write_bytes(sample_draft(505).replace("署名: 珠晖区人民政府".encode(),
                                                               "署名: 珠晖区人民政府办公室".encode()))
    _issued(real, "之后.md")


def test_busy_register_keeps_a_valid_draft_and_retries_it(tmp_path, monkeypatch):
    """Another process holds the register's write lock beyond the wait (60 s, shortened here): the
    draft is 'failed' and kept — not sent to rejected/ with a note telling the clerk to fix it — and
    issued by the retry once the register is free."""
    from samples.drafts import sample_draft
    from pipeline import ledger as ledger_mod
    from pipeline.config import load
    from pipeline.instance import init_instance
    from pipeline.process import open_services
    from tests.conftest import write_instance
    from tests.support.watch_service import HeldLock, intake_settings

    monkeypatch.setattr(ledger_mod, "BUSY_TIMEOUT_S", 1.0)
    cfg = write_instance(tmp_path / "instance", intake=intake_settings(stable_seconds=0.5, invalid_timeout_s=3,
                                                                      rescan_interval_s=300))
    init_instance(None, str(cfg))
    config = load(cfg)
    with open_services(config, "测试员"):
        pass                                    # the register exists before another process locks it
    with Running(config, None, lambda: open_services(config, "测试员")) as run:
        with HeldLock(ledger_mod.ledger_path(config)):
            (config.inbox / "珠政发" / "忙时.md").write_bytes(sample_draft(601))
            evs = run.wait_for(lambda evs: any(e.name == "忙时.md" and e.kind != "recovered" for e in evs), 60,
                               "an answer while the register is busy")
        first = next(e for e in evs if e.name == "忙时.md")
        assert first.kind == "failed" and "登记簿" in first.message and first.retry_in
        assert list(config.rejected.iterdir()) == []
        evs = run.wait_for(lambda evs: any(e.name == "忙时.md" and e.kind in ("issued", "rejected") for e in evs),
                           300, "the retry")
    assert [e.kind for e in evs if e.name == "忙时.md"] == ["failed", "issued"]
    assert list(config.rejected.iterdir()) == []
