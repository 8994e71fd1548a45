"""`gongwen doctor`: every owner's health findings in one list. It only reads: it creates no register,
no index and no folder, and changes nothing it finds. `gongwen doctor --repair` first does what a
restart would (finish an interrupted year-end swap, remove the temporary folders of an interrupted
filing, index what was filed but not indexed) and anchors records filed before anchors existed
(archive.adopt), then checks."""
from __future__ import annotations

from .config import Config
from .model import Finding

AREA = "修复"


def run_doctor(config: Config, actor: str, *, repair: bool = False) -> list[Finding]:
    """The findings of every owner's ``health``; with ``repair``, the repairs' findings first."""
    from . import archive, convert, incoming, ledger, search, stamp
    from .supervise import health as supervise

    findings = _repair(config, actor) if repair else []
    for area, mod in (("环境", convert), ("证书", stamp), ("登记簿", ledger), ("收文", incoming), ("档案", archive),
                      ("索引", search), ("督办", supervise)):
        try:
            findings += mod.health(config)
        except Exception as e:  # a broken owner is itself a finding, not a crash of the doctor
            findings.append(Finding(area, "健康检查", False, f"{type(e).__name__}: {e}"))
    return findings


def _repair(config: Config, actor: str) -> list[Finding]:
    """Finish interrupted swaps, remove leftovers, index what was filed but not indexed (发文 and 收文),
    anchor unanchored records."""
    from . import incoming
    from .archive import ArchiveStore, adopt_all
    from .ledger import ledger_path
    from .process import catch_up, open_services

    if not ledger_path(config).is_file():
        return [Finding(AREA, "修复", None, "登记簿尚未建立（还没有取过文号），无可修复")]
    out = []
    try:
        store = ArchiveStore(config)        # opening it finishes interrupted swaps
        restored, cleaned = store.recovered, store.clean_leftovers()
        if restored:
            out.append(Finding(AREA, "完成中断的整理归档换版", True, "、".join(p.name for p in restored)))
        if cleaned:
            out.append(Finding(AREA, "清除中断归档遗留的临时文件夹", True, "、".join(str(p) for p in cleaned)))
        with open_services(config, actor) as svc:
            caught = catch_up(svc) + incoming.catch_up(svc)
            if caught:
                out.append(Finding(AREA, "补编已归档未索引的文件", True, "、".join(caught)))
            done, refused = adopt_all(config, svc.ledger, actor=actor)
    except Exception as e:  # noqa: BLE001 — the doctor reports every failure, whatever its kind
        return out + [Finding(AREA, "修复", False, f"{type(e).__name__}: {e}")]
    if done:
        out.append(Finding(AREA, f"补锚定 {len(done)} 件", True,
                           f"锚定启用前归档的记录，已按当前内容锚定（此前的改动无法由锚定发现）：{'、'.join(done)}"))
    if refused:
        out.append(Finding(AREA, f"不能补锚定 {len(refused)} 件", False,
                           "；".join(refused) + "；请从备份恢复原件，或核对登记簿后再运行"))
    return out
