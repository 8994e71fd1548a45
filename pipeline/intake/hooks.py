"""The pipeline as the watcher sees it: ``Hooks`` (what runs on a claimed file, and the checks the
readiness gate uses), ``default_hooks(config)`` wiring the real modules; unit tests pass fakes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..config import Config
from ..errors import GongwenError
from ..model import Outcome, ProofOutcome
from .claims import same_content

if TYPE_CHECKING:
    from ..process import Services  # the pipeline's services (tests pass fakes of the same shape)


@dataclass(frozen=True)
class Hooks:
    """The pipeline as the watcher sees it. ``default_hooks()`` wires the real modules; unit tests
    pass fakes."""

    process: Callable[..., Outcome]            # process_draft(path, svc, *, route=None)
    write_note: Callable[..., Path]            # write_note(problems, draft_name, dest_dir, *, header="")
    probe: Callable[[Path], str | None]        # None when the file opens, else a Chinese reason
    suffixes: frozenset[str]                   # accepted draft suffixes, lower case with the dot
    archived: Callable[[Services, Outcome, Path], bool]  # does the archive hold an identical copy?
    catch_up: Callable[[Services], list[str]] = lambda svc: []  # index what was filed but not indexed
    # The 清样 folders (proofs/<route>/): make_proof(path, svc, *, route=None, beside=None), and
    # whether a draft there already has its current 清样. Without ``proof`` they are not watched.
    proof: Callable[..., ProofOutcome] | None = None
    proof_current: Callable[[Services, Path], bool] = lambda svc, path: False
    # 督办: 交办清单 files dropped into inbox/<supervision.folder>/ (None: that folder is not watched),
    # and what runs when the day turns (marks 督办件 逾期; returns a line to show, or None).
    import_items: Callable[[Services, Path], Any] | None = None    # (svc, path) → supervise.ImportResult
    import_suffixes: frozenset[str] = frozenset()
    import_probe: Callable[[Path], str | None] = lambda path: None
    day_turn: Callable[[Services, date], str | None] = lambda svc, today: None
    # 收文: documents dropped into inbox/<incoming.folder>/ (None: that folder is not watched).
    receive: Callable[[Services, Path], Any] | None = None         # (svc, path) → incoming.Receipt
    receive_suffixes: frozenset[str] = frozenset()
    receive_probe: Callable[[Path], str | None] = lambda path: None


def default_hooks(config: Config) -> Hooks:
    from .. import drafts, incoming, process, proofs
    from ..incoming import reading
    from ..supervise import sources as supervise_sources

    def probe_received(path: Path) -> str | None:
        try:
            reading.identify(path, config)
        except GongwenError as e:
            return str(e)
        return None

    return Hooks(
        process=process.process_draft,
        write_note=process.write_note,
        probe=drafts.probe,
        suffixes=frozenset(s.lower() for s in drafts.SUPPORTED_SUFFIXES),
        archived=archive_holds_copy,
        catch_up=lambda svc: process.catch_up(svc) + incoming.catch_up(svc),
        proof=proofs.make_proof,
        proof_current=proofs.has_current_proof,
        import_items=_import_and_index,
        import_suffixes=frozenset(supervise_sources.SUFFIXES),
        import_probe=supervise_sources.probe,
        day_turn=_day_turn,
        receive=lambda svc, path: incoming.receive(path, svc),
        receive_suffixes=frozenset(reading.SUFFIXES),
        receive_probe=probe_received,
    )


def _import_and_index(svc: Services, path: Path):
    from .. import supervise
    from ..process import index_supervision

    result = supervise.import_items(svc.ledger, svc.config, path, actor=svc.actor)
    index_supervision(svc)
    return result


def _day_turn(svc: Services, today: date) -> str | None:
    from .. import supervise
    from ..process import index_supervision

    turn = supervise.day_turn(svc.ledger, svc.config, today=today, actor=svc.actor)
    index_supervision(svc)
    return turn.summary_if_changed()


def archive_holds_copy(svc: Services, outcome: Outcome, claimed: Path) -> bool:
    """True when the document's archive record holds a byte-identical copy of ``claimed`` as its
    原稿 — only then may the claimed copy be removed (a move into the archive, nothing lost)."""
    if not outcome.number:
        return False
    rec = svc.store.find(outcome.number)   # by its folder name first: no metadata scan
    original = rec.file("原稿") if rec is not None else None
    if original is None or not original.is_file():
        return False
    return same_content(original, claimed)
