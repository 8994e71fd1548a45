"""The upstream internals gongwen leans on (docs/internals.md, "Upstream internals we rely on"). Each
use is checked against the exact version pinned in pyproject.toml: a version bump fails here, loudly,
naming what to re-check, instead of failing later in a signature or a conversion."""
from __future__ import annotations

import importlib.metadata as md
import inspect
import pkgutil
import re

import pytest

from tests.conftest import REPO

# (distribution, the private member we use, where, what to re-check on a new version)
RELIED_ON = [
    ("pyHanko", "pyhanko.sign.signers.SimpleSigner.sign_raw", "pipeline/sign.py OfficeSigner",
     "SimpleSigner.sign_raw(data, digest_algorithm) is still the synchronous hook async_sign_raw calls"),
    ("unoserver", "unoserver.client.UnoClient._connect", "pipeline/convert.py _Client",
     "UnoClient._connect(proxy, retries, sleep) still does the connection retries we switch off"),
    ("watchdog", "watchdog.observers.inotify_move_event_grouper.InotifyMoveEventGrouper.delay",
     "pipeline/intake/observers.py _native_observer",
     "each new grouper still holds an IN_MOVED_FROM for InotifyMoveEventGrouper.delay, read when it is made"),
]


def _pinned(dist: str) -> str:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    m = re.search(rf'"{re.escape(dist)}==([^"]+)"', text, re.I)
    assert m, f"{dist} is not pinned exactly in pyproject.toml"
    return m.group(1)


@pytest.mark.parametrize("dist,member,where,recheck", RELIED_ON, ids=[r[0] for r in RELIED_ON])
def test_private_member_is_there_in_the_pinned_version(dist, member, where, recheck):
    installed = md.version(dist)
    assert installed == _pinned(dist), (
        f"{dist} {installed} is installed but {_pinned(dist)} is pinned: {where} uses {member}; re-check that "
        f"{recheck}, then update the pin and docs/internals.md")
    try:
        pkgutil.resolve_name(member)
    except (ImportError, AttributeError):
        pytest.fail(f"{member} is gone in {dist} {installed}: {where} needs another way")


def test_the_signatures_we_call_are_unchanged():
    from pyhanko.sign.signers import SimpleSigner
    from unoserver.client import UnoClient

    assert list(inspect.signature(SimpleSigner.sign_raw).parameters) == ["self", "data", "digest_algorithm"]
    assert list(inspect.signature(UnoClient._connect).parameters) == ["self", "proxy", "retries", "sleep"]


def test_the_move_pairing_delay_is_a_class_attribute_each_grouper_reads():
    from watchdog.observers.inotify_move_event_grouper import InotifyMoveEventGrouper

    saved = InotifyMoveEventGrouper.delay
    try:
        InotifyMoveEventGrouper.delay = 0.123
        assert InotifyMoveEventGrouper()._queue.delay == 0.123
    finally:
        InotifyMoveEventGrouper.delay = saved


def test_the_internals_doc_lists_each_one():
    doc = (REPO / "docs" / "internals.md").read_text(encoding="utf-8")
    section = doc.split("## Upstream internals we rely on", 1)[1].split("\n## ", 1)[0]
    for _, member, _, _ in RELIED_ON:
        assert member.rsplit(".", 2)[-2] + "." + member.rsplit(".", 1)[-1] in section, member
