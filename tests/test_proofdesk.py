"""The watched 清样 folders (proofs/<route>/), driven by hand: an injected clock, notices fed directly,
a fake 清样 maker in place of LibreOffice — the same gate and claims as the inbox, but the draft stays
where the clerk put it and a snapshot is what gets worked on."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.intake import Hooks, Intake, IntakeEvent
from pipeline.intake.claims import CLAIM_RECORD, Claims
from pipeline.intake.proofdesk import PROOF_CLAIMS_DIR
from pipeline.model import ProofOutcome, Problem
from tests.support.intake import Clock, FakePipeline, make_config


class FakeProofs(FakePipeline):
    """Adds a 清样 maker: writes ``<name>.清样.pdf`` beside the draft, or fails, as told."""

    def __init__(self, config):
        super().__init__(config)
        self.proof_calls: list[tuple[Path, Path, bytes]] = []
        self.fail_next = 0
        self.current: set[Path] = set()

    def proof(self, path: Path, svc, *, route=None, beside=None) -> ProofOutcome:
        self.proof_calls.append((path, beside, path.read_bytes()))
        if self.fail_next:
            self.fail_next -= 1
            return ProofOutcome(file=str(beside), status="failed", problems=(Problem("清样", "LibreOffice 未响应"),))
        out = beside.with_name(beside.name + ".清样.pdf")
        out.write_bytes(b"%PDF " + path.read_bytes())
        return ProofOutcome(file=str(beside), status="proof", pdf=str(out), seconds=0.01)

    def write_note(self, problems, draft_name, dest_dir, *, header="", footer="", exact=False):
        p = Path(dest_dir) / f"{draft_name}.问题.txt"
        p.write_text("\n".join(str(x) for x in problems), encoding="utf-8")
        return p

    def hooks(self) -> Hooks:
        return Hooks(process=self.process, write_note=self.write_note, probe=self.probe,
                     suffixes=frozenset({".docx", ".md", ".yaml"}), archived=self.archived,
                     proof=self.proof, proof_current=lambda svc, p: p in self.current)


@pytest.fixture
def env(tmp_path):
    config = make_config(tmp_path)
    fake = FakeProofs(config)
    clock = Clock()
    events: list[IntakeEvent] = []
    it = Intake(config, svc=None, on_event=events.append, hooks=fake.hooks(), clock=clock)
    it.ensure_folders()
    return config, fake, clock, events, it


def snapshots(config) -> list[Path]:
    root = config.work_dir / PROOF_CLAIMS_DIR
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != CLAIM_RECORD) if root.exists() else []


def drop(it: Intake, path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    it.notice(path, "finished")
    it.step()
    return path


def test_a_draft_in_proofs_gets_its_清样_beside_it_and_stays(env):
    config, fake, clock, events, it = env
    draft = drop(it, config.proofs / "珠政发" / "通知.md", b"first END")
    ((snap, beside, seen),) = fake.proof_calls
    assert beside == draft and snap != draft and seen == b"first END"     # made of a snapshot
    assert draft.read_bytes() == b"first END" and draft.with_name("通知.md.清样.pdf").is_file()
    assert snapshots(config) == [] and fake.calls == []                     # not numbered
    assert [(e.kind, e.name, e.route) for e in events] == [("proofed", "通知.md", "珠政发")]
    assert not list(config.rejected.iterdir())


def test_a_rescan_or_our_own_outputs_make_no_second_清样_a_corrected_draft_does(env):
    config, fake, clock, events, it = env
    draft = drop(it, config.proofs / "珠政发" / "通知.md", b"first END")
    it.notice(draft.with_name("通知.md.清样.pdf"), "finished")
    it.notice(draft.with_name("通知.md.问题.txt"), "finished")
    it.scan()
    clock.advance(3600)
    it.step()
    assert len(fake.proof_calls) == 1
    draft.write_bytes(b"second END")
    it.notice(draft, "finished")
    it.step()
    assert [c[2] for c in fake.proof_calls] == [b"first END", b"second END"]
    assert draft.with_name("通知.md.清样.pdf").read_bytes() == b"%PDF second END"


def test_a_draft_whose_清样_is_current_is_left_alone(env):
    config, fake, clock, events, it = env
    draft = config.proofs / "珠政发" / "旧稿.md"
    fake.current.add(draft)
    drop(it, draft, b"old END")
    assert fake.proof_calls == [] and events == []


def test_a_file_that_is_no_draft_gets_a_note_beside_it_and_stays(env):
    config, fake, clock, events, it = env
    pdf = drop(it, config.proofs / "珠政发" / "扫描件.pdf", b"%PDF-1.4")
    assert pdf.is_file() and pdf.with_name("扫描件.pdf.问题.txt").is_file()
    assert [e.kind for e in events] == ["proof_rejected"] and fake.proof_calls == []
    assert not list(config.rejected.iterdir())


def test_a_failed_清样_is_retried_and_the_draft_never_moves(env):
    config, fake, clock, events, it = env
    fake.fail_next = 1
    draft = drop(it, config.proofs / "珠政办发" / "值班.md", b"v END")
    assert [e.kind for e in events] == ["failed"] and len(snapshots(config)) == 1 and draft.is_file()
    clock.advance(3600)
    it.step()
    assert [e.kind for e in events] == ["failed", "proofed"] and snapshots(config) == []
    assert draft.read_bytes() == b"v END"


def test_a_failed_清样_is_reported_with_make_proofs_answer_as_the_proof(env):
    """The event of a failed 清样 carries the ProofOutcome where IntakeEvent keeps one (``proof``), not
    where a draft's Outcome goes (``outcome``: the console and the web app read 文号 and title there)."""
    config, fake, clock, events, it = env
    fake.fail_next = 1
    drop(it, config.proofs / "珠政办发" / "值班.md", b"v END")
    [ev] = events
    assert ev.kind == "failed" and "LibreOffice 未响应" in ev.message
    assert isinstance(ev.proof, ProofOutcome) and ev.proof.status == "failed" and ev.outcome is None


def test_recovery_finishes_a_snapshot_of_an_unchanged_draft_and_drops_one_of_a_changed_draft(env):
    config, fake, clock, events, it = env
    claims = Claims(config.work_dir / PROOF_CLAIMS_DIR)
    same = drop_silently(config.proofs / "珠政发" / "同.md", b"same END")
    changed = drop_silently(config.proofs / "珠政发" / "改.md", b"before END")
    gone = drop_silently(config.proofs / "珠政发" / "删.md", b"gone END")
    for p in (same, changed, gone):
        claims.snapshot(p, "珠政发")                  # as a killed run left them
    changed.write_bytes(b"after END")
    gone.unlink()
    it.recover()
    assert [(beside.name, data) for _, beside, data in fake.proof_calls] == [("同.md", b"same END")]
    assert snapshots(config) == [] and changed.read_bytes() == b"after END"


def drop_silently(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", ["通知.md.问题.txt", "通知.docx.清样.pdf"])
def test_gongwen_own_outputs_are_never_drafts(name):
    """A note dragged back into inbox/ with its corrected draft was read as a second (text) draft and
    sent back; a 清样 beside its draft was 'unsupported'."""
    from pipeline.intake import is_ignored

    assert is_ignored(name)
