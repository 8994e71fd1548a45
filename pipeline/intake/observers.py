"""The observers: filesystem events from the watched folders, turned into notices for the readiness
gate — inotify for local folders, a PollingObserver for network shares (peers.md pitfall 1). They run
on watchdog's threads and only queue what happened; every decision is taken on the intake's thread."""
from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.polling import PollingObserver

from ..config import Route
from .claims import ROOT_KEY
from .readiness import notices_for

log = logging.getLogger("gongwen.intake")


@dataclass(frozen=True)
class Folder:
    """One watched folder: a route's folder, or inbox/ itself (route None) — or the same in proofs/
    (``desk`` "proofs": a draft there gets a 清样 beside it and stays)."""

    path: Path
    route: Route | None
    share: bool
    desk: str = "inbox"
    imports: bool = False       # a folder of other files (督办: 交办清单; 收文: received documents), not drafts

    @property
    def key(self) -> str:
        if self.imports:
            return self.path.name
        return self.route.folder if self.route else ROOT_KEY


Notify = Callable[[Path, str], None]

# watchdog holds each IN_MOVED_FROM for InotifyMoveEventGrouper.delay (0.5 s) to pair it with its
# IN_MOVED_TO, and every later event of that observer waits behind it. Each claim moves a draft out of
# its watched folder — an IN_MOVED_FROM that never pairs — so the next drop was seen up to half a second
# late (the watcher's share of drop-to-filed in docs/benchmarks.md). The kernel queues the two halves of
# a rename together (inotify(7): "usually consecutive", at most "a brief interval" apart), so pairing
# needs only a moment; a half that stays unpaired is handled all the same (full events: a move out is
# "gone", a move in "finished" — notices_for).
MOVE_PAIRING_S = 0.01


class _Handler(FileSystemEventHandler):
    """Runs on watchdog's thread: only queues what happened."""

    def __init__(self, notify: Notify, share: bool):
        self.notify, self.share = notify, share

    def dispatch(self, event: FileSystemEvent) -> None:
        src, dest = os.fsdecode(event.src_path or ""), os.fsdecode(event.dest_path or "")
        for path, what in notices_for(event.event_type, src, dest, share=self.share,
                                      is_directory=event.is_directory):
            self.notify(Path(path), what)


def _native_observer():
    try:
        from watchdog.observers.inotify import InotifyObserver
        from watchdog.observers.inotify_move_event_grouper import InotifyMoveEventGrouper
    except Exception:  # not Linux: the platform's native observer (no close events; stability gates)
        from watchdog.observers import Observer

        return Observer()
    InotifyMoveEventGrouper.delay = MOVE_PAIRING_S    # read by each new grouper (docs/internals.md)
    # full events: a file moved in from outside the folder is reported as moved, not created,
    # which tells us its writer has finished.
    return InotifyObserver(generate_full_events=True)


class Observers:
    """Native (inotify) watches for local folders, a PollingObserver for shares; ``notify(path, what)``
    is called from their threads."""

    def __init__(self, folders: list[Folder], notify: Notify, *, poll_interval_s: float):
        self.folders, self.notify, self.poll_interval_s = folders, notify, poll_interval_s
        self._observers: list[Any] = []
        self._watches: dict[Path, tuple[Any, Any]] = {}

    @contextlib.contextmanager
    def running(self) -> Iterator["Observers"]:
        native, polling = None, None
        for f in self.folders:
            if f.share:
                polling = polling or PollingObserver(timeout=self.poll_interval_s)
                self._watches[f.path] = (polling, polling.schedule(_Handler(self.notify, True), str(f.path)))
            else:
                native = native or _native_observer()
                self._watches[f.path] = (native, native.schedule(_Handler(self.notify, False), str(f.path)))
        self._observers = [o for o in (native, polling) if o is not None]
        for o in self._observers:
            o.start()
        try:
            yield self
        finally:
            for o in self._observers:
                o.stop()
            for o in self._observers:
                o.join(timeout=10)
            self._observers, self._watches = [], {}

    def rewatch(self, f: Folder) -> None:
        """A watched folder was deleted and has been created again: its old watch is dead."""
        entry = self._watches.get(f.path)
        if entry is None:
            return
        observer, old = entry
        with contextlib.suppress(Exception):
            observer.unschedule(old)
        self._watches[f.path] = (observer, observer.schedule(_Handler(self.notify, f.share), str(f.path)))
