"""`gongwen doctor`: every owner's health findings in one list, plus the catch-up of documents that
were filed but not indexed (or stopped half-way) — the things a restart would also repair."""
from __future__ import annotations

from .config import Config
from .model import Finding


def run_doctor(config: Config, actor: str) -> list[Finding]:
    from . import archive, convert, ledger, search, stamp

    findings: list[Finding] = []
    for area, mod in (("环境", convert), ("证书", stamp), ("登记簿", ledger), ("档案", archive), ("索引", search)):
        try:
            findings += mod.health(config)
        except Exception as e:  # a broken owner is itself a finding, not a crash of the doctor
            findings.append(Finding(area, "健康检查", False, f"{type(e).__name__}: {e}"))
    findings += _pending(config, actor)
    return findings


def _pending(config: Config, actor: str) -> list[Finding]:
    """Index what was filed but not indexed (ledger.health reports documents stuck earlier on)."""
    from .process import catch_up, open_services

    with open_services(config, actor) as svc:
        caught = catch_up(svc)
    return [Finding("索引", "补编已归档未索引的文件", True, "、".join(caught))] if caught else []
