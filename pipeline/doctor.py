"""`gongwen doctor`: every owner's health findings in one list, plus the catch-up of documents that
were filed but not indexed (or stopped half-way) — the things a restart would also repair."""
from __future__ import annotations

from .config import Config
from .model import Finding


def run_doctor(config: Config, actor: str) -> list[Finding]:
    """Repair what a restart would (index documents filed but not indexed), then check."""
    from . import archive, convert, incoming, ledger, search, stamp
    from .supervise import health as supervise

    findings = _catch_up(config, actor)
    for area, mod in (("环境", convert), ("证书", stamp), ("登记簿", ledger), ("收文", incoming), ("档案", archive),
                      ("索引", search), ("督办", supervise)):
        try:
            findings += mod.health(config)
        except Exception as e:  # a broken owner is itself a finding, not a crash of the doctor
            findings.append(Finding(area, "健康检查", False, f"{type(e).__name__}: {e}"))
    return findings


def _catch_up(config: Config, actor: str) -> list[Finding]:
    """Index what was filed but not indexed (ledger.health reports documents stuck earlier on)."""
    from . import incoming
    from .process import catch_up, open_services

    try:
        with open_services(config, actor) as svc:
            caught = catch_up(svc) + incoming.catch_up(svc)
    except Exception as e:
        return [Finding("索引", "补编已归档未索引的文件", False, f"{type(e).__name__}: {e}")]
    return [Finding("索引", "补编已归档未索引的文件", True, "、".join(caught))] if caught else []
