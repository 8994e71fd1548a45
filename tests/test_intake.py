"""Unit tests for the watcher's decisions: the readiness gate, ignored names, claiming, recovery and
where a draft goes after each result — with a fake pipeline, a fake probe and an injected clock, on a
real temporary filesystem (no observers; events are fed by hand)."""
from __future__ import annotations

import dataclasses
import errno
import json
import os
from pathlib import Path

import pytest
import yaml

from pipeline import intake
from pipeline.intake import claims as claims_mod
from pipeline.config import Config
from pipeline.intake import CLAIM_RECORD, Claim, Hooks, Intake, IntakeEvent, is_ignored
from pipeline.model import Outcome, Problem
from tests.conftest import REPO
from tests.support.intake import Clock, FakePipeline, NullServices, make_config


@pytest.fixture
def env(tmp_path):
    config = make_config(tmp_path)
    fake = FakePipeline(config)
    clock = Clock()
    events: list[IntakeEvent] = []
    it = Intake(config, svc=None, on_event=events.append, hooks=fake.hooks(), clock=clock)
    it.ensure_folders()
    return config, fake, clock, events, it


def with_hooks(env, **replaced):
    """The env's intake made again with some hooks replaced (its parts are given the hooks when made)."""
    config, fake, clock, events, _ = env
    it = Intake(config, svc=None, on_event=events.append, hooks=dataclasses.replace(fake.hooks(), **replaced),
                clock=clock)
    it.ensure_folders()
    return it


def inbox(config: Config, route: str = "珠政发") -> Path:
    return config.inbox / route


def kinds(events) -> list[str]:
    return [e.kind for e in events]


def claims(config: Config) -> list[Path]:
    root = config.work_dir / intake.CLAIMS_DIR
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != CLAIM_RECORD) if root.exists() else []


# --- ignored names ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [
    "~$关于开展检查的通知.docx", ".~lock.草稿.docx#", "草稿.docx.part", "下载.crdownload", "a.tmp",
    "~WRL0001.tmp", ".~草稿.docx", ".hidden.md", "草稿.md.swp", "Thumbs.db", "desktop.ini",
    "Backup of 草稿.wbk", "草稿.md~", "upload.filepart", "自动恢复.asd",
])
def test_lock_temp_and_hidden_files_are_ignored(name):
    assert is_ignored(name)


@pytest.mark.parametrize("name", ["关于开展检查的通知.docx", "草稿.md", "会议纪要.yaml", "scan.pdf", "a~b.docx",
                                  "tmp报告.docx"])
def test_drafts_and_other_files_are_not_ignored(name):
    assert not is_ignored(name)


def test_ignored_files_are_never_touched(env):
    config, fake, clock, events, it = env
    lock = inbox(config) / "~$草稿.docx"
    lock.write_bytes(b"owner")
    it.notice(lock, "finished")
    it.scan()
    clock.advance(3600)
    it.step()
    assert lock.exists() and fake.calls == [] and events == []


# --- the readiness gate -------------------------------------------------------------------------------
def test_native_file_being_written_is_not_taken_until_closed(env):
    config, fake, clock, events, it = env
    f = inbox(config) / "草稿.md"
    f.write_bytes(b"half END")          # valid-looking already: only the gate can hold it back
    it.notice(f, "writing")
    it.step()
    clock.advance(10)                   # far beyond stable_seconds, but the writer has not closed
    it.step()
    assert fake.calls == [] and f.exists()
    f.write_bytes(b"half and the rest END")
    it.notice(f, "finished")
    it.step()
    assert [c[1] for c in fake.calls] == [b"half and the rest END"]
    assert not f.exists()


def test_close_event_for_an_older_version_does_not_count(env):
    """A `closed` recorded for one size, then the file changes without a new close (events lost):
    the gate falls back to stability."""
    config, fake, clock, events, it = env
    f = inbox(config) / "草稿.md"
    f.write_bytes(b"v1 END")
    it.notice(f, "finished")
    it.drain()
    f.write_bytes(b"v1 plus more END")
    it.step()
    assert fake.calls == []
    clock.advance(2.1)
    it.step()
    assert [c[1] for c in fake.calls] == [b"v1 plus more END"]


def test_scanned_file_needs_stable_seconds(env):
    config, fake, clock, events, it = env
    f = inbox(config) / "草稿.md"
    f.write_bytes(b"x END")
    it.scan()
    it.step()
    assert fake.calls == []
    clock.advance(1.9)
    it.step()
    assert fake.calls == []
    clock.advance(0.2)
    it.step()
    assert len(fake.calls) == 1 and fake.calls[0][2] == "珠政发"   # routed by folder


def test_share_route_uses_stability_only(tmp_path):
    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw["intake"]["routes"][0]["share"] = True
    config = Config.model_validate({**raw, "base": tmp_path})
    fake, clock, events = FakePipeline(config), Clock(), []
    it = Intake(config, None, on_event=events.append, hooks=fake.hooks(), clock=clock)
    it.ensure_folders()
    assert [f.share for f in it.folders if f.route and f.route.folder == "珠政发"] == [True]
    assert it.folders[-1].route is None and it.folders[-1].share   # inbox/ itself polled too
    f = inbox(config) / "草稿.md"
    f.write_bytes(b"part")
    it.notice(f, "seen")
    clock.advance(1.5)
    it.step()
    with open(f, "ab") as fh:           # still growing: the window restarts
        fh.write(b" more END")
    it.notice(f, "seen")
    it.step()                           # the change is seen now: 2 s from here
    clock.advance(1.9)
    it.step()
    assert fake.calls == []
    clock.advance(0.2)
    it.step()
    assert [c[1] for c in fake.calls] == [b"part more END"]


def test_invalid_file_waits_then_goes_to_rejected_with_note(env):
    config, fake, clock, events, it = env
    f = inbox(config) / "坏文件.docx"
    f.write_bytes(b"garbage")
    it.notice(f, "finished")
    it.step()
    assert kinds(events) == ["waiting"] and "文件不完整" in events[0].message and f.exists()
    clock.advance(30)
    it.step()
    assert kinds(events) == ["waiting"], "reported once, not every tick"
    clock.advance(31)
    it.step()
    assert kinds(events) == ["waiting", "invalid"]
    dest = config.rejected / "坏文件.docx"
    assert dest.read_bytes() == b"garbage"
    note = (config.rejected / "坏文件.docx.问题.txt").read_text(encoding="utf-8")
    assert "文件不完整" in note
    assert fake.calls == [] and claims(config) == []


def test_invalid_file_that_becomes_valid_is_taken(env):
    config, fake, clock, events, it = env
    f = inbox(config) / "草稿.docx"
    f.write_bytes(b"garbage")
    it.notice(f, "finished")
    it.step()
    clock.advance(50)
    f.write_bytes(b"fixed END")
    it.notice(f, "finished")
    clock.advance(20)                   # 70 s since first seen, but only 20 s since the change
    it.step()
    assert [c[1] for c in fake.calls] == [b"fixed END"]


def test_empty_file_is_rejected_after_the_wait(env):
    config, fake, clock, events, it = env
    f = inbox(config) / "空.md"
    f.write_bytes(b"")
    it.notice(f, "finished")
    it.step()
    clock.advance(61)
    it.step()
    assert kinds(events)[-1] == "invalid"
    assert "文件为空" in (config.rejected / "空.md.问题.txt").read_text(encoding="utf-8")


def test_writer_that_never_closes_is_judged_after_invalid_timeout(env):
    config, fake, clock, events, it = env
    f = inbox(config) / "草稿.md"
    f.write_bytes(b"x END")
    it.notice(f, "writing")
    it.step()
    clock.advance(59)
    it.step()
    assert fake.calls == []
    clock.advance(2)
    it.step()
    assert len(fake.calls) == 1


def test_unsupported_type_goes_to_rejected_naming_accepted_types(env):
    config, fake, clock, events, it = env
    f = inbox(config) / "扫描件.pdf"
    f.write_bytes(b"%PDF-1.4")
    it.notice(f, "finished")
    it.step()
    assert kinds(events) == ["unsupported"]
    note = (config.rejected / "扫描件.pdf.问题.txt").read_text(encoding="utf-8")
    assert ".pdf" in note and ".docx" in note and ".md" in note
    assert (config.rejected / "扫描件.pdf").read_bytes() == b"%PDF-1.4"
    assert fake.calls == []


def test_probe_exception_does_not_stop_the_service(env):
    config, fake, clock, events, it = env

    def broken(path):
        raise RuntimeError("boom")

    it = Intake(config, svc=None, on_event=events.append, hooks=Hooks(**{**fake.hooks().__dict__, "probe": broken}),
                clock=clock)
    f = inbox(config) / "草稿.md"
    f.write_bytes(b"x END")
    it.notice(f, "finished")
    it.step()
    clock.advance(61)
    it.step()
    assert kinds(events) == ["waiting", "invalid"]


# --- exactly once ----------------------------------------------------------------------------------
def test_repeated_events_and_rescans_process_a_file_once(env):
    config, fake, clock, events, it = env
    f = inbox(config) / "草稿.md"
    f.write_bytes(b"x END")
    for what in ("writing", "finished", "finished", "seen", "writing", "finished"):
        it.notice(f, what)
    it.scan()
    it.step()
    it.notice(f, "finished")   # late duplicate events after the claim
    it.scan()
    clock.advance(5)
    it.step()
    assert len(fake.calls) == 1
    assert kinds(events) == ["issued"]


def test_in_flight_path_is_skipped(env):
    config, fake, clock, events, it = env
    f = inbox(config) / "草稿.md"
    f.write_bytes(b"x END")
    it.notice(f, "finished")
    it.inflight.add(f.resolve())
    it.step()
    assert fake.calls == [] and f.exists()
    it.inflight.clear()
    it.step()
    assert len(fake.calls) == 1


def test_same_name_dropped_again_while_processing_is_a_new_file(env):
    config, fake, clock, events, it = env
    f = inbox(config) / "草稿.md"
    f.write_bytes(b"first END")

    def process(path, svc, *, route=None):
        if not fake.calls:          # the clerk drops a second file with the same name meanwhile
            f.write_bytes(b"second END")
            it.notice(f, "finished")
        return FakePipeline.process(fake, path, svc, route=route)

    it = with_hooks(env, process=process)
    it.notice(f, "finished")
    it.step()
    it.step()
    assert [c[1] for c in fake.calls] == [b"first END", b"second END"]


# --- results ---------------------------------------------------------------------------------------
def test_issued_draft_is_removed_only_when_the_archive_holds_it(env):
    config, fake, clock, events, it = env
    f = inbox(config) / "草稿.md"
    f.write_bytes(b"x END")
    fake.archived_ok = False
    it.notice(f, "finished")
    it.step()
    assert kinds(events) == ["kept"]
    kept = claims(config)
    assert [p.read_bytes() for p in kept] == [b"x END"]
    record = json.loads((kept[0].parent / CLAIM_RECORD).read_text(encoding="utf-8"))
    assert record["state"] == "kept"


def test_issued_draft_leaves_nothing_behind(env):
    config, fake, clock, events, it = env
    f = inbox(config) / "草稿.md"
    f.write_bytes(b"x END")
    it.notice(f, "finished")
    it.step()
    ev = events[-1]
    assert ev.kind == "issued" and ev.outcome.number == "珠政发〔2015〕1号" and ev.route == "珠政发"
    assert claims(config) == []
    it.claims.tidy()                    # the empty claim folder goes when the service is idle
    assert list((config.work_dir / intake.CLAIMS_DIR / "珠政发").iterdir()) == []


def test_rejected_draft_goes_beside_a_note_listing_every_problem(env):
    config, fake, clock, events, it = env
    problems = (Problem("标题", "标题缺少文种"), Problem("成文日期", "成文日期格式不对"),
                Problem("附注", "建议加括号", "warning"))
    fake.results["草稿.md"] = Outcome(file="草稿.md", status="rejected", problems=problems)
    (config.rejected / "草稿.md").write_bytes(b"an earlier rejected draft")   # never overwritten
    f = inbox(config) / "草稿.md"
    f.write_bytes(b"x END")
    it.notice(f, "finished")
    it.step()
    ev = events[-1]
    assert ev.kind == "rejected" and ev.message == "2 个问题"
    assert (config.rejected / "草稿.md").read_bytes() == b"an earlier rejected draft"
    assert ev.path == config.rejected / "草稿 (2).md" and ev.path.read_bytes() == b"x END"
    note = ev.note.read_text(encoding="utf-8")
    assert ev.note == config.rejected / "草稿 (2).md.问题.txt"
    assert all(p.message in note for p in problems)


def test_duplicate_goes_to_rejected_naming_the_existing_number(env):
    config, fake, clock, events, it = env
    fake.results["又一次.md"] = Outcome(file="又一次.md", status="issued", number="珠政发〔2015〕3号",
                                      duplicate=True)
    f = inbox(config) / "又一次.md"
    f.write_bytes(b"x END")
    it.notice(f, "finished")
    it.step()
    assert kinds(events) == ["duplicate"]
    note = (config.rejected / "又一次.md.问题.txt").read_text(encoding="utf-8")
    assert "内容与已发文件 珠政发〔2015〕3号 相同，未重复编号" in note


def test_failed_draft_stays_claimed_and_is_retried_with_backoff(env):
    config, fake, clock, events, it = env
    fake.results["草稿.md"] = Outcome(file="草稿.md", status="failed",
                                     problems=(Problem("办理", "LibreOffice 未响应"),))
    f = inbox(config) / "草稿.md"
    f.write_bytes(b"x END")
    it.notice(f, "finished")
    it.step()
    assert kinds(events) == ["failed"] and events[0].retry_in == intake.RETRY_DELAYS_S[0]
    assert "LibreOffice 未响应" in events[0].message
    assert [p.read_bytes() for p in claims(config)] == [b"x END"]
    clock.advance(intake.RETRY_DELAYS_S[0] - 1)
    it.step()
    assert len(fake.calls) == 1
    clock.advance(1)
    it.step()
    assert len(fake.calls) == 2 and events[-1].retry_in == intake.RETRY_DELAYS_S[1]
    del fake.results["草稿.md"]                       # LibreOffice is back
    clock.advance(intake.RETRY_DELAYS_S[1])
    it.step()
    assert len(fake.calls) == 3 and kinds(events)[-1] == "issued"
    assert claims(config) == [] and not f.exists()


def test_handler_exception_is_a_failure_not_a_crash(env):
    config, fake, clock, events, it = env

    def process(path, svc, *, route=None):
        raise ValueError("bug")

    it = with_hooks(env, process=process)
    f = inbox(config) / "草稿.md"
    f.write_bytes(b"x END")
    it.notice(f, "finished")
    it.step()
    assert kinds(events) == ["failed"] and "bug" in events[0].message
    assert len(claims(config)) == 1


def test_draft_in_inbox_root_goes_through_without_a_route(env):
    config, fake, clock, events, it = env
    f = config.inbox / "草稿.md"
    f.write_bytes(b"x END")
    it.notice(f, "finished")
    it.step()
    assert [c[2] for c in fake.calls] == [None]
    assert events[-1].route is None


# --- claiming and recovery --------------------------------------------------------------------------
def test_claim_moves_the_file_and_records_its_source(tmp_path):
    src = tmp_path / "inbox" / "草稿.md"
    src.parent.mkdir()
    src.write_bytes(b"x")
    c = intake.claim_file(src, tmp_path / "work" / "珠政发", "珠政发")
    assert not src.exists() and c.path.read_bytes() == b"x"
    rec = json.loads((c.dir / CLAIM_RECORD).read_text(encoding="utf-8"))
    assert rec["source"] == str(src) and rec["route"] == "珠政发" and rec["method"] == "rename"


def test_claim_of_a_vanished_file_leaves_nothing(tmp_path):
    assert intake.claim_file(tmp_path / "nope.md", tmp_path / "work" / "r", "r") is None
    assert list((tmp_path / "work" / "r").iterdir()) == []


def test_claim_across_filesystems_copies_then_removes_the_source(tmp_path, monkeypatch):
    src = tmp_path / "share" / "草稿.md"
    src.parent.mkdir()
    src.write_bytes(b"content")
    real_rename = os.rename

    def rename(a, b, *args, **kw):
        if Path(a) == src:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_rename(a, b, *args, **kw)

    monkeypatch.setattr(claims_mod.os, "rename", rename)
    c = intake.claim_file(src, tmp_path / "work" / "r", "r")
    assert not src.exists() and c.path.read_bytes() == b"content" and c.method == "copy"


def test_recovery_finishes_claims_and_cleans_interrupted_ones(env):
    config, fake, clock, events, it = env
    root = config.work_dir / intake.CLAIMS_DIR / "珠政发"
    # 1. a claim interrupted before the rename: record only → removed, nothing processed
    (root / "a").mkdir(parents=True)
    (root / "a" / CLAIM_RECORD).write_text(json.dumps({"name": "甲.md", "route": "珠政发"}), encoding="utf-8")
    # 2. a claim killed mid-pipeline → resumed
    (root / "b").mkdir()
    (root / "b" / "乙.md").write_bytes(b"b END")
    (root / "b" / CLAIM_RECORD).write_text(json.dumps({"name": "乙.md", "route": "珠政发", "state": "processing"}),
                                           encoding="utf-8")
    # 3. an interrupted cross-filesystem copy whose source is still in the inbox → our copy dropped
    src = inbox(config) / "丙.md"
    src.write_bytes(b"c END")
    (root / "c").mkdir()
    (root / "c" / "丙.md").write_bytes(b"c END")
    (root / "c" / CLAIM_RECORD).write_text(json.dumps({"name": "丙.md", "route": "珠政发", "source": str(src),
                                                       "method": "copy", "state": "claimed"}), encoding="utf-8")
    # 4. a claim whose record was lost: the one visible file is the draft
    (root / "d").mkdir()
    (root / "d" / "丁.md").write_bytes(b"d END")
    it.recover()
    assert sorted(c[0] for c in fake.calls) == ["丁.md", "乙.md"]
    assert src.read_bytes() == b"c END"
    assert list(root.iterdir()) == []
    assert kinds(events).count("issued") == 2


def test_resumed_claim_whose_document_exists_counts_as_issued(env):
    """Killed after the pipeline finished but before the claimed copy was removed: the rerun says
    'duplicate' — it is this draft's own document, not a second drop."""
    config, fake, clock, events, it = env
    root = config.work_dir / intake.CLAIMS_DIR / "珠政发" / "t"
    root.mkdir(parents=True)
    (root / "草稿.md").write_bytes(b"x END")
    Claim(dir=root, name="草稿.md", route_key="珠政发", source="", state="processing").save()
    fake.results["草稿.md"] = Outcome(file="草稿.md", status="issued", number="珠政发〔2015〕7号", duplicate=True)
    it.recover()
    assert kinds(events) == ["recovered", "issued"] and events[-1].message == "上次中断后完成"
    assert not root.exists() and not list(config.rejected.iterdir())


def test_recovered_invalid_claim_is_rejected_not_processed(env):
    config, fake, clock, events, it = env
    root = config.work_dir / intake.CLAIMS_DIR / "珠政发" / "t"
    root.mkdir(parents=True)
    (root / "坏.docx").write_bytes(b"garbage")
    Claim(dir=root, name="坏.docx", route_key="珠政发", source="", state="invalid", reason="不是有效的 .docx").save()
    it.recover()
    assert fake.calls == [] and kinds(events) == ["recovered", "invalid"]
    assert "不是有效的 .docx" in (config.rejected / "坏.docx.问题.txt").read_text(encoding="utf-8")


def test_move_noclobber_never_replaces(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"new")
    b.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        intake.move_noclobber(a, b)
    assert a.read_bytes() == b"new" and b.read_bytes() == b"old"


def test_second_watcher_on_the_same_instance_is_refused(tmp_path):
    from pipeline.errors import GongwenError

    config = make_config(tmp_path)
    with intake.single_watcher(config):
        with pytest.raises(GongwenError, match="另一个 gongwen watch"):
            with intake.single_watcher(config):
                pass


# --- the loop, once mode ------------------------------------------------------------------------------


def test_once_mode_processes_waiting_files_and_leaves_invalid_ones(tmp_path):
    config = make_config(tmp_path, stable_seconds=0.2)
    fake, events = FakePipeline(config), []
    for n in ("一.md", "二.md"):
        (inbox(config) / n).parent.mkdir(parents=True, exist_ok=True)
        (inbox(config) / n).write_bytes(b"x END")
    (inbox(config) / "坏.docx").write_bytes(b"garbage")
    counts = intake.watch(config, NullServices, on_event=events.append, once=True, hooks=fake.hooks())
    assert counts == {"issued": 2}
    assert sorted(c[0] for c in fake.calls) == ["一.md", "二.md"]
    waiting = [e for e in events if e.kind == "waiting"]
    assert [e.name for e in waiting] == ["坏.docx"] and "仍留在收件夹" in waiting[0].message
    assert (inbox(config) / "坏.docx").exists()


def test_console_lines(tmp_path):
    from pipeline.cli.watch import console_line

    config = make_config(tmp_path)
    o = Outcome(file="x", status="issued", number="珠政发〔2015〕3号", title="关于开展检查的通知")
    assert console_line(config, IntakeEvent("issued", "草稿.docx", outcome=o, seconds=1.26)) == \
        "珠政发〔2015〕3号 ← 关于开展检查的通知  1.3 s"
    ev = IntakeEvent("rejected", "草稿.docx", note=config.rejected / "草稿.docx.问题.txt", message="3 个问题")
    assert console_line(config, ev) == "退回 ← 草稿.docx：3 个问题（见 rejected/草稿.docx.问题.txt）"


def test_archive_check_compares_the_records_original_byte_for_byte(tmp_path):
    from types import SimpleNamespace

    from pipeline.archive import METADATA, ArchiveStore

    rec_dir = tmp_path / "archive" / "2015" / "珠政发" / "珠政发〔2015〕3号"
    rec_dir.mkdir(parents=True)
    meta = {"文件编号": "珠政发〔2015〕3号", "电子文件": [{"稿本": "原稿", "计算机文件名": "原稿.md"}]}
    (rec_dir / METADATA).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    (rec_dir / "原稿.md").write_bytes(b"the draft")
    svc = SimpleNamespace(store=ArchiveStore(SimpleNamespace(archive_dir=tmp_path / "archive")))
    claimed = tmp_path / "claimed.md"
    o = Outcome(file="x", status="issued", number="珠政发〔2015〕3号")
    claimed.write_bytes(b"the draft")
    assert intake.archive_holds_copy(svc, o, claimed)
    claimed.write_bytes(b"the draff")                       # same size, other bytes
    assert not intake.archive_holds_copy(svc, o, claimed)
    claimed.write_bytes(b"the draft")
    assert not intake.archive_holds_copy(svc, Outcome(file="x", status="issued", number="珠政发〔2015〕4号"), claimed)


def test_recovery_catches_up_documents_filed_but_not_indexed(env):
    config, fake, clock, events, it = env
    seen = []

    def catch_up(svc):
        seen.append(svc)
        return ["珠政发〔2015〕4号"]

    it = with_hooks(env, catch_up=catch_up)
    it.recover()
    assert seen == [None]
    assert [(e.kind, e.name) for e in events] == [("recovered", "珠政发〔2015〕4号")]
    assert "补编" in events[0].message


class _Killed(BaseException):
    """Stands for SIGKILL at one precise moment (nothing after it runs)."""


def test_kill_between_note_and_move_leaves_one_draft_beside_one_note(env, monkeypatch):
    """The note is written before the draft is moved to rejected/; a kill in between must not leave
    that note behind on its own when the restarted service rejects the draft again."""
    from pipeline.process import write_note

    config, fake, clock, events, _ = env
    problems = (Problem("标题", "标题缺少文种"),)
    fake.results["草稿.md"] = Outcome(file="草稿.md", status="rejected", problems=problems)
    hooks = Hooks(process=fake.process, write_note=write_note, probe=fake.probe,
                  suffixes=frozenset({".md"}), archived=fake.archived)
    it = Intake(config, svc=None, on_event=events.append, hooks=hooks, clock=clock)
    real_move = claims_mod.move_noclobber

    def killed(src, dst):
        raise _Killed()

    monkeypatch.setattr(claims_mod, "move_noclobber", killed)
    f = inbox(config) / "草稿.md"
    f.write_bytes(b"x END")
    it.notice(f, "finished")
    with pytest.raises(_Killed):
        it.step()
    assert sorted(p.name for p in config.rejected.iterdir()) == ["草稿.md.问题.txt"]
    monkeypatch.setattr(claims_mod, "move_noclobber", real_move)
    again = Intake(config, svc=None, on_event=events.append, hooks=hooks, clock=clock)   # the restart
    again.recover()
    assert kinds(events)[-2:] == ["recovered", "rejected"]
    assert sorted(p.name for p in config.rejected.iterdir()) == ["草稿.md", "草稿.md.问题.txt"]
    assert (config.rejected / "草稿.md").read_bytes() == b"x END"
    assert "标题缺少文种" in (config.rejected / "草稿.md.问题.txt").read_text(encoding="utf-8")
    assert claims(config) == []


# --- what is not a regular file -----------------------------------------------------------------------
def test_symlink_fifo_and_folder_are_never_opened_or_processed(env, tmp_path):
    config, fake, clock, events, it = env
    opened = []
    it.readiness.probe = lambda p: opened.append(p.name)
    ib = inbox(config)
    target = tmp_path / "elsewhere.md"
    target.write_bytes(b"x END")
    os.symlink(target, ib / "链接.md")
    os.mkfifo(ib / "管道.md")
    (ib / "子文件夹").mkdir()
    it.scan()
    it.step()
    assert opened == [] and fake.calls == []
    assert sorted((e.kind, e.name) for e in events) == [("notice", "子文件夹"), ("unsupported", "管道.md"),
                                                       ("unsupported", "链接.md")]
    assert (config.rejected / "链接.md").is_symlink() and os.readlink(config.rejected / "链接.md") == str(target)
    assert "符号链接" in (config.rejected / "链接.md.问题.txt").read_text(encoding="utf-8")
    assert (ib / "子文件夹").is_dir() and target.read_bytes() == b"x END"
    it.scan()                      # a subfolder is reported once, not at every rescan
    it.step()
    assert [e.kind for e in events].count("notice") == 1


def test_recovered_claim_of_a_symlink_is_refused_even_without_its_record(env, tmp_path):
    config, fake, clock, events, it = env
    d = config.work_dir / intake.CLAIMS_DIR / "珠政发" / "t"
    d.mkdir(parents=True)
    os.symlink("/etc/passwd", d / "x.md")          # claimed, then the record was lost
    it.recover()
    assert fake.calls == [] and kinds(events) == ["recovered", "unsupported"]
    assert (config.rejected / "x.md").is_symlink()


def test_folder_events_become_folder_notices():
    from pipeline.intake.readiness import notices_for

    assert notices_for("created", "/i/a", "", share=False, is_directory=True) == [("/i/a", "dir")]
    assert notices_for("deleted", "/i/a", "", share=False, is_directory=True) == [("/i/a", "dir_gone")]
    assert notices_for("moved", "/i/a", "/i/b", share=True, is_directory=True) == [("/i/a", "dir_gone"),
                                                                                  ("/i/b", "dir")]


# --- a full disk ---------------------------------------------------------------------------------------
def test_a_full_disk_while_handling_a_claim_is_a_failure_not_a_stop(env, monkeypatch):
    """A claimed draft's state cannot be saved (ENOSPC) when it is retried: the service must go on —
    the draft is 'failed' with the disk named, and kept for the next retry."""
    config, fake, clock, events, it = env
    fake.results["草稿.md"] = Outcome(file="草稿.md", status="failed", problems=(Problem("办理", "转换失败"),))
    f = inbox(config) / "草稿.md"
    f.write_bytes(b"x END")
    it.notice(f, "finished")
    it.step()
    assert kinds(events) == ["failed"]
    real_save = Claim.save

    def save(self, **kw):
        if self.state == "processing":
            raise OSError(errno.ENOSPC, "No space left on device", str(self.dir / CLAIM_RECORD))
        real_save(self, **kw)

    monkeypatch.setattr(Claim, "save", save)
    clock.advance(11)
    it.step()                                   # the retry
    assert [e.kind for e in events if e.kind != "notice"] == ["failed", "failed"]
    assert "磁盘已满" in events[-1].message and events[-1].retry_in
    assert [p.read_bytes() for p in claims(config)] == [b"x END"] and len(fake.calls) == 1


def test_a_log_file_that_cannot_be_written_is_said_once_not_a_traceback_per_line(capsys):
    import logging

    from pipeline.cli.watch import _LogFile

    h = _LogFile("/dev/full", maxBytes=0, encoding="utf-8", errors="backslashreplace")   # every write: ENOSPC
    try:
        for i in range(3):
            h.emit(logging.LogRecord("gongwen.intake", logging.INFO, __file__, 1, f"第{i}行", None, None))
    finally:
        try:
            h.close()
        except OSError:   # the buffered rest cannot be written either (logging.shutdown ignores this)
            pass
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Logging error" not in err
    assert err.count("无法写入") == 1 and "/dev/full" in err


def test_a_local_drop_costs_the_watcher_no_fsync_and_one_record_write(env, monkeypatch):
    """The watcher's own share of a drop is bookkeeping; each fsync costs 5–15 ms on an ordinary disk.
    The draft's safety rests on the atomic rename (see claims.claim_file), not on them."""
    import pipeline.fsutil as fsutil

    config, fake, clock, events, it = env
    fsyncs, writes = [], []
    real_fsync, real_write = os.fsync, fsutil.atomic_write_bytes
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd))[1])
    monkeypatch.setattr(fsutil, "atomic_write_bytes", lambda *a, **kw: (writes.append(a[0]), real_write(*a, **kw))[1])
    f = inbox(config) / "草稿.md"
    f.write_bytes(b"x END")
    it.notice(f, "finished")
    it.step()
    assert kinds(events) == ["issued"]
    assert fsyncs == [] and [Path(p).name for p in writes] == [CLAIM_RECORD]
