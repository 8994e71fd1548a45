"""What the watcher reports: one ``IntakeEvent`` per thing that happened to a dropped file (or to a
watched folder), handed to the ``on_event`` callback, counted by kind, and the same in the
``gongwen.intake`` log. Every part of the intake reports through one ``Reporter``."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal

from ..model import Outcome, ProofOutcome

if TYPE_CHECKING:
    from .observers import Folder

log = logging.getLogger("gongwen.intake")

EventKind = Literal[
    "started",      # watching; message names the folders and modes
    "recovered",    # a claim left by an earlier run is being finished
    "issued",       # a document was issued (outcome has the 文号)
    "rejected",     # the draft went to rejected/ with a note listing its problems
    "duplicate",    # same content as an issued document: rejected/ with a note naming the 文号
    "unsupported",  # not a draft type: rejected/ with a note naming the accepted types
    "invalid",      # never became a valid file within invalid_timeout_s: rejected/ with a note
    "waiting",      # finished writing but not (yet) valid; left in place for now
    "failed",       # the pipeline failed; the draft stays claimed and is retried
    "kept",         # issued, but the archive's copy could not be confirmed: the draft is kept
    "proofed",      # a 清样 was made beside a draft in proofs/ (proof has the outcome)
    "proof_rejected",  # no 清样: the note beside the draft in proofs/ says why; the draft stays
    "supervised",   # a 交办清单 from inbox/督办/ went onto the 督办台账 (message: what was taken)
    "received",     # a document from inbox/收文/ was registered (message: 收文号 and what it is)
    "day_turn",     # the day turned: 督办件 marked 逾期 (message says which)
    "notice",       # something a person should know that is no draft's result (a subfolder in an
                    # inbox, a watched folder deleted or made again, a full disk)
    "stopped",      # the service stopped cleanly
]


@dataclass(frozen=True)
class IntakeEvent:
    """One thing that happened to one dropped file, for the console and tests."""

    kind: EventKind
    name: str = ""                   # the file name as dropped
    route: str | None = None         # the route folder it came through (None: inbox/ itself)
    outcome: Outcome | None = None   # the pipeline's answer, when it ran
    path: Path | None = None         # where the draft is now (rejected/…, work/…)
    note: Path | None = None         # the 问题 note written beside it
    message: str = ""                # Chinese detail
    seconds: float | None = None     # pipeline time for this draft
    retry_in: float | None = None    # for "failed": seconds until the next attempt
    proof: ProofOutcome | None = None  # for "proofed" / "proof_rejected" (and a 清样's "failed"): make_proof's answer


OnEvent = Callable[[IntakeEvent], None]


class Reporter:
    """Hands events to ``on_event`` (a broken callback never stops the service) and counts them by
    kind; ``counts`` is what the service returns when it stops."""

    def __init__(self, on_event: OnEvent):
        self.on_event = on_event
        self.counts: dict[str, int] = {}

    def emit(self, ev: IntakeEvent) -> None:
        try:
            self.on_event(ev)
        except Exception:  # a broken console must not stop the service
            log.exception("事件回调出错")

    def count(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def result(self, ev: IntakeEvent) -> None:
        """A file's result: counted under its kind, then emitted."""
        self.count(ev.kind)
        self.emit(ev)

    def notify(self, message: str, folder: Folder | None = None, *, name: str | None = None,
               path: Path | None = None) -> None:
        """Something a person should know that is no file's result (a "notice"), logged as a warning."""
        log.warning(message)
        route = folder.route.folder if folder is not None and folder.route else None
        self.emit(IntakeEvent("notice", name or (folder.key if folder is not None else ""), route,
                              path=path or (folder.path if folder is not None else None), message=message))


def human_s(s: float) -> str:
    """A delay as a clerk reads it: "10 秒", "5 分钟"."""
    if s >= 90:
        return f"{round(s / 60)} 分钟"
    return f"{max(1, round(s))} 秒"
