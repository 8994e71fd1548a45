"""Where a claimed file goes once its result is known, and how that is reported: issued (the claimed
copy is released once the archive holds it, else kept), rejected/duplicate/unsupported/invalid
(rejected/ beside a note listing every problem), failed (kept in its claim and retried with backoff).

    issued     → the archive holds an identical copy → claimed copy removed   ("issued")
               → not confirmed                       → kept in its claim       ("kept")
    rejected   → rejected/草稿.docx + 草稿.docx.问题.txt                        ("rejected", "duplicate", …)
    failed     → stays claimed; Retries says when it is due again             ("failed")
"""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..config import Config
from ..model import Outcome, Problem, ProofOutcome
from .claims import ROOT_KEY, Claim, Claims, drop_claim_dir
from .events import EventKind, IntakeEvent, Reporter, human_s
from .hooks import Hooks
from .space import SpaceGuard

if TYPE_CHECKING:
    from ..process import Services

log = logging.getLogger("gongwen.intake")

# Retry delays for a draft whose processing failed (LibreOffice down, disk full …). Capped at 10 min:
# a fixed cause (LibreOffice restarted) is picked up within minutes, and a draft that keeps failing
# costs one attempt per 10 min, each logged, instead of a busy loop. Every start retries at once.
RETRY_DELAYS_S: tuple[float, ...] = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class Retries:
    """Failed claims waiting for their next attempt, by claim folder."""

    def __init__(self) -> None:
        self._due: dict[Path, tuple[Claim, float]] = {}   # claim dir -> (claim, due)

    def schedule(self, claim: Claim, due: float) -> None:
        self._due[claim.dir] = (claim, due)

    def folders(self) -> list[Path]:
        """The claim folders waiting, in a stable order."""
        return sorted(self._due)

    def pop_due(self, d: Path, now: float) -> Claim | None:
        """The claim in ``d`` if its attempt is due at ``now`` (it is then no longer scheduled)."""
        entry = self._due.get(d)
        if entry is None or now < entry[1]:
            return None
        del self._due[d]
        return entry[0]

    def all_due(self, now: float) -> None:
        """Everything waiting is due at ``now`` (the cause, a full disk, has gone)."""
        self._due = {d: (claim, min(due, now)) for d, (claim, due) in self._due.items()}

    def __len__(self) -> int:
        return len(self._due)


class Outcomes:
    """Puts a claimed file where its result says and reports it (one event, counted, logged)."""

    def __init__(self, config: Config, svc: Services, hooks: Hooks, claims: Claims, reporter: Reporter,
                 space: SpaceGuard, *, clock: Callable[[], float], once: Callable[[], bool]):
        self.config, self.svc, self.hooks, self.claims = config, svc, hooks, claims
        self.reporter, self.space, self.clock, self.once = reporter, space, clock, once
        self.retries = Retries()

    def issued(self, claim: Claim, outcome: Outcome, seconds: float, *, earlier: str) -> None:
        """The pipeline issued (or had issued) the document: release the claimed copy once the archive
        holds it; ``earlier`` is the claim's state before this attempt."""
        resumed = earlier in ("processing", "failed", "kept")
        duplicate_msg = f"内容与已发文件 {outcome.number} 相同，未重复编号"
        if outcome.duplicate and not resumed:
            # A fresh drop of content already issued: one document, and the clerk is told so.
            self.reject(claim, "duplicate", [Problem("重复提交", duplicate_msg)], outcome=outcome,
                        message=duplicate_msg, seconds=seconds)
            return
        try:
            held = self.hooks.archived(self.svc, outcome, claim.path)
        except Exception:
            log.exception("核对档案中的原稿时出错：%s", claim.path)
            held = False
        if not held:
            if outcome.duplicate and earlier != "kept":
                # Resumed, the document exists, but this file is not its archived original: a second
                # drop of the same content that was interrupted. Say so; keep the file.
                self.reject(claim, "duplicate", [Problem("重复提交", duplicate_msg)], outcome=outcome,
                            message=duplicate_msg, seconds=seconds)
                return
            claim.state = "kept"
            claim.save()
            msg = f"已发文 {outcome.number}，但未能确认档案中有相同的原稿，草稿保留在 {claim.path}"
            log.error(msg)
            self.reporter.result(IntakeEvent("kept", claim.name, claim.route, outcome=outcome, path=claim.path,
                                             message=msg, seconds=seconds))
            return
        self.claims.release(claim)
        log.info("发文 %s ← %s（%s）%.1f s%s", outcome.number, claim.name, outcome.title or "",
                 seconds, "（恢复）" if resumed else "")
        self.reporter.result(IntakeEvent("issued", claim.name, claim.route, outcome=outcome, seconds=seconds,
                                         message="上次中断后完成" if resumed else ""))

    def reject(self, claim: Claim, kind: EventKind, problems: list[Problem], *, message: str,
               outcome: Outcome | None = None, seconds: float | None = None, header: str = "") -> None:
        """Into rejected/ beside a note listing ``problems`` (and the folder it came through). When
        rejected/ cannot be written, the file stays claimed and it is a failure instead."""
        header = (f"收件夹：{self.config.paths.inbox}/{claim.route_key if claim.route_key != ROOT_KEY else ''}"
                  + (f"\n{header}" if header else ""))
        if claim.renamed:
            problems = [*problems, Problem("文件名", f"原文件名不是 UTF-8 编码（常见于从 Windows 共享复制的 GBK 文件名），"
                                                    f"已改为「{claim.name}」", "warning")]
        try:
            dest, note = self.claims.reject(claim, self.config.rejected, problems, self.hooks.write_note,
                                            header=header)
        except OSError as e:
            log.error("无法把 %s 移到 rejected/：%s；草稿保留在工作区", claim.path, e)
            self.failed(claim, Outcome(file=str(claim.path), status="failed",
                                       problems=(Problem("退回", f"无法写入 rejected/：{e}"),)), seconds or 0.0)
            return
        drop_claim_dir(claim.dir)
        log.info("退回 %s → %s：%s", claim.name, dest, message)
        self.reporter.result(IntakeEvent(kind, claim.name, claim.route, outcome=outcome, path=dest,
                                         note=note, message=message, seconds=seconds))

    def failed(self, claim: Claim, outcome: Outcome | ProofOutcome, seconds: float) -> None:
        """Kept in its claim and retried with backoff (in once mode: at the next start)."""
        claim.state = "failed"
        with contextlib.suppress(OSError):
            claim.save()
        self.space.check_low()
        delay = RETRY_DELAYS_S[min(claim.attempts, len(RETRY_DELAYS_S)) - 1] if claim.attempts else RETRY_DELAYS_S[0]
        reason = "；".join(p.message for p in outcome.problems) or "处理失败"
        if self.once():
            msg = f"{reason}；草稿保留在 {claim.path}，下次启动时重试"
            retry = None
        else:
            self.retries.schedule(claim, self.clock() + delay)
            msg = f"{reason}；{human_s(delay)}后重试（草稿保留在 {claim.path}）"
            retry = delay
        log.warning("失败 %s（第 %d 次）：%s", claim.name, claim.attempts, msg)
        draft_outcome, proof = (None, outcome) if isinstance(outcome, ProofOutcome) else (outcome, None)
        self.reporter.result(IntakeEvent("failed", claim.name, claim.route, outcome=draft_outcome, proof=proof,
                                         path=claim.path, message=msg, seconds=seconds, retry_in=retry))
