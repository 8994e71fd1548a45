"""The three owners of state behind small Protocols — the seams where another register, store or index
would plug in: each implementation has every method of its Protocol with the same parameters, so a
change on one side that the other does not follow fails here."""
from __future__ import annotations

import inspect

import pytest

from pipeline.archive import ArchiveStore, Store
from pipeline.ledger import Ledger, Register
from pipeline.search import FolderIndex, SearchIndex

SEAMS = [(Register, Ledger), (Store, ArchiveStore), (SearchIndex, FolderIndex)]


def _methods(proto) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(fn) for name, fn in vars(proto).items()
            if callable(fn) and not name.startswith("_")}


@pytest.mark.parametrize("proto,impl", SEAMS, ids=[p.__name__ for p, _ in SEAMS])
def test_the_implementation_has_the_protocols_methods_with_its_parameters(proto, impl):
    wanted = _methods(proto)
    assert wanted, proto
    for name, sig in wanted.items():
        have = getattr(impl, name, None)
        assert callable(have), f"{impl.__name__} has no {name}()"
        got = list(inspect.signature(have).parameters.values())
        need = list(sig.parameters.values())
        # the Protocol's parameters, in order; an implementation may add keyword-only ones with defaults
        assert [(p.name, p.kind) for p in got[:len(need)]] == [(p.name, p.kind) for p in need], \
            f"{impl.__name__}.{name}: {got} against {proto.__name__}: {need}"
        extra = got[len(need):]
        assert all(p.kind is p.KEYWORD_ONLY and p.default is not p.empty for p in extra), \
            f"{impl.__name__}.{name} adds parameters a caller of {proto.__name__} cannot leave out: {extra}"


def test_the_running_objects_are_their_protocols(config, tmp_path):
    with Ledger.open(config) as ledger:
        assert isinstance(ledger, Register)
    assert isinstance(ArchiveStore(config), Store)


def test_the_pipeline_types_its_services_by_the_protocols():
    from typing import get_type_hints

    from pipeline import process

    hints = get_type_hints(process.Services, vars(process) | {"SearchIndex": SearchIndex})
    assert hints["ledger"] is Register and hints["store"] is Store
