"""The observers on a real folder (inotify through watchdog): what each filesystem event becomes, and a
claim's move out of the folder not holding back the events behind it."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from pipeline.intake import observers
from pipeline.intake.observers import Folder, Observers


def _watching(folder: Path):
    seen: list[tuple[str, str]] = []
    cond = threading.Condition()

    def notify(path: Path, what: str) -> None:
        with cond:
            seen.append((path.name, what))
            cond.notify_all()

    def wait_for(item: tuple[str, str], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        with cond:
            while item not in seen:
                left = deadline - time.monotonic()
                assert left > 0, f"no {item} within {timeout} s; seen: {seen}"
                cond.wait(left)

    obs = Observers([Folder(folder, None, share=False)], notify, poll_interval_s=1.0)
    return obs, seen, wait_for


def test_moves_in_out_and_within_the_folder_become_the_right_notices(tmp_path):
    inbox, claims, outside = tmp_path / "inbox", tmp_path / "claims", tmp_path / "outside"
    for d in (inbox, claims, outside):
        d.mkdir()
    obs, seen, wait_for = _watching(inbox)
    with obs.running():
        (inbox / "a.md").write_text("草稿", encoding="utf-8")
        wait_for(("a.md", "finished"))                       # closed after writing
        os.rename(inbox / "a.md", claims / "a.md")            # a claim: moved out, never paired
        wait_for(("a.md", "gone"))
        (inbox / "b.md.part").write_text("草稿", encoding="utf-8")
        os.rename(inbox / "b.md.part", inbox / "b.md")        # a rename inside: paired
        wait_for(("b.md", "finished"))
        assert ("b.md.part", "gone") in seen
        (outside / "c.md").write_text("草稿", encoding="utf-8")
        os.rename(outside / "c.md", inbox / "c.md")           # moved in from elsewhere: unpaired
        wait_for(("c.md", "finished"))


def test_an_unpaired_move_out_holds_the_queue_only_a_moment(tmp_path):
    """watchdog holds every IN_MOVED_FROM to pair it, and all later events wait behind it; each claim
    is such a move, so the wait is the pairing moment (MOVE_PAIRING_S), not watchdog's half second.
    (The time itself is measured by `python -m bench watch`, not asserted here; that each new grouper
    reads the class attribute is checked in test_upstream.)"""
    from watchdog.observers.inotify_move_event_grouper import InotifyMoveEventGrouper

    obs, _, _ = _watching(tmp_path)
    with obs.running():
        assert InotifyMoveEventGrouper.delay == observers.MOVE_PAIRING_S < 0.05
