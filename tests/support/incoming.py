"""收文 test helpers: a stand-in for the 督办 hook that records its calls."""
from __future__ import annotations


class FakeSupervise:
    def __init__(self):
        self.calls = []

    def __call__(self, ledger, config, *, matter, source_type, source, lead_unit, co_units=(), leader=None,
                 assigned, deadline=None, actor, source_ref=None):
        self.calls.append(dict(matter=matter, source_type=source_type, source=source, lead_unit=lead_unit,
                               co_units=co_units, leader=leader, assigned=assigned, deadline=deadline,
                               source_ref=source_ref))
        return type("Item", (), {"reference": f"督〔2015〕{len(self.calls)}号"})()
