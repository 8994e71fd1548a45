"""The 清样 folders (proofs/<route>/) as the watcher serves them: the same readiness gate, claims and
recovery as the inbox — but a draft there is never taken away. A ready draft is *snapshotted* into
the work area, its 清样 made of the snapshot (proofs.make_proof) and put beside the draft, and the
snapshot dropped:

    proofs/<route>/草稿.docx                      stays where the clerk put it
      │  readiness gate (as the inbox) → already has its current 清样? nothing to do
      ▼  snapshot: copy into work/proof-claims/<route>/<token>/ + .claim.json
    make_proof(snapshot, beside=the draft)  →  proofs/<route>/草稿.docx.清样.pdf (+ .问题.txt)
      └─ failed (LibreOffice down …) → the claim stays, retried with the inbox's backoff

Crash safety: the draft is never moved, so it cannot be lost; a kill leaves at most a snapshot
claim, which recovery finishes while the draft is unchanged and drops otherwise (the changed draft
is seen again by the scan); the 清样 is renamed into place only after the 清样签发登记 records it, so
a 清样 beside a draft is always one the register knows.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..config import Config
from ..fsutil import readable
from ..model import Problem
from .claims import SNAPSHOT, Claim, Claims, route_for_key
from .events import EventKind, IntakeEvent, Reporter
from .hooks import Hooks
from .observers import Folder
from .readiness import Candidate, Sig, stat_sig

if TYPE_CHECKING:
    from ..process import Services
    from .outcomes import Outcomes

log = logging.getLogger("gongwen.intake")

PROOF_CLAIMS_DIR = "proof-claims"
DESK = "proofs"


class ProofDesk:
    """The proofs/ side of one Intake: its folders, its snapshot claims, and where each 清样 goes.
    ``set_aside(candidate, message)``: the intake's way to leave a file it could not read for a later
    look; ``outcomes``: where a failed 清样 goes (kept and retried like a draft)."""

    def __init__(self, config: Config, svc: Services, hooks: Hooks, reporter: Reporter, outcomes: Outcomes, *,
                 set_aside: Callable[[Candidate, str], None], stop: threading.Event):
        if hooks.proof is None:
            raise ValueError("the proofs desk needs hooks.proof")
        self.config, self.svc, self.hooks, self.reporter, self.outcomes = config, svc, hooks, reporter, outcomes
        self.make_proof = hooks.proof
        self.set_aside, self.stop = set_aside, stop
        any_share = any(r.share for r in config.intake.routes)
        self.folders = [Folder(config.proofs / r.folder, r, r.share, DESK) for r in config.intake.routes]
        self.folders.append(Folder(config.proofs, None, any_share, DESK))
        self.claims = Claims(config.work_dir / PROOF_CLAIMS_DIR)
        # Drafts handled in this run, by path, with the stat signature they had: a rescan or our own
        # writes beside them do not make a 清样 again (across restarts the register says so).
        self._done: dict[Path, Sig | None] = {}

    def ensure(self) -> None:
        self.claims.ensure()
        from ..proofs import clean_leftovers

        for f in self.folders:
            if f.path.is_dir():
                clean_leftovers(f.path)

    # -- taking a ready draft ----------------------------------------------------------------------
    def take(self, c: Candidate, verdict: str, folder: Folder) -> None:
        """A ready file in a 清样 folder: snapshot it and make its 清样 (unless it has its current one)."""
        sig = stat_sig(c.path)
        if sig is None or self._done.get(c.path) == sig:
            return
        if verdict in ("unsupported", "invalid"):
            self._note_only(c, folder, verdict)
            self._done[c.path] = sig
            return
        if self.hooks.proof_current(self.svc, c.path):
            self._done[c.path] = sig
            return
        try:
            claim = self.claims.snapshot(c.path, folder.key)
        except OSError as e:
            self.set_aside(c, f"无法读取文件（{e.strerror or e}）；将在下次扫描时重试")
            return
        if claim is not None:
            self.handle(claim)

    def _note_only(self, c: Candidate, folder: Folder, verdict: str) -> None:
        """Not a draft (or never a valid one): a note beside it says so; the file stays."""
        if verdict == "unsupported":
            accepted = "、".join(sorted(self.hooks.suffixes))
            problem = Problem("文件类型", f"不支持 {c.path.suffix or '无扩展名'} 文件；请放入以下类型的草稿：{accepted}")
        else:
            problem = Problem("文件", f"{c.reason or '文件无法打开'}（请检查后重新放入）")
        try:
            note = self.hooks.write_note([problem], c.path.name, c.path.parent, exact=True,
                                           footer="清样文件夹只接受草稿；此文件未作处理，仍留在原处。")
        except OSError as e:
            log.warning("无法在 %s 旁写说明：%s", c.path, e)
            note = None
        self.reporter.result(IntakeEvent("proof_rejected", readable(c.path.name),
                                         folder.route.folder if folder.route else None, path=c.path, note=note,
                                         message=problem.message))

    # -- one snapshot claim ------------------------------------------------------------------------
    def handle(self, claim: Claim) -> None:
        """Make the 清样 of one snapshot claim while its draft is unchanged."""
        if not self.claims.snapshot_current(claim):
            # the draft changed or went away since: its new version is seen on its own
            self.claims.release(claim)
            return
        _, route = route_for_key(self.config, claim.route_key)
        source = Path(claim.source)
        claim.state, claim.attempts = "processing", claim.attempts + 1
        claim.save()
        try:
            outcome = self.make_proof(claim.path, self.svc, route=route, beside=source)
        except Exception as e:  # a bug or an unforeseen error must not stop the service
            log.exception("出清样时出错：%s", claim.path)
            from ..model import ProofOutcome

            outcome = ProofOutcome(file=str(source), status="failed",
                                   problems=(Problem("清样", f"内部错误：{type(e).__name__}: {e}"),))
        if outcome.status == "failed":
            if self.claims.snapshot_current(claim):
                self.outcomes.failed(claim, outcome, outcome.seconds or 0.0)
            else:
                self.claims.release(claim)
            return
        self._done[source] = stat_sig(source)
        self.claims.release(claim)
        kind: EventKind = "proofed" if outcome.status == "proof" else "proof_rejected"
        errors = [p for p in outcome.problems if p.severity == "error"]
        message = (f"{len(outcome.problems)} 条提示" if outcome.status == "proof" and outcome.problems
                   else f"{len(errors)} 个问题" if errors else "")
        log.info("%s %s：%s %s", "清样" if kind == "proofed" else "未出清样", source, outcome.pdf or "", message)
        self.reporter.result(IntakeEvent(kind, claim.name, claim.route,
                                         path=Path(outcome.pdf) if outcome.pdf else source,
                                         note=Path(outcome.note) if outcome.note else None, message=message,
                                         seconds=outcome.seconds, proof=outcome))

    def recover(self) -> None:
        """Finish the snapshot claims an earlier run left while their drafts are unchanged."""
        for claim in self.claims.leftovers(self.stop):
            if claim.method != SNAPSHOT:     # not ours to judge: never removed (a person may look)
                log.warning("清样工作区中有非快照的认领，保留不动：%s", claim.dir)
                continue
            self.handle(claim)
