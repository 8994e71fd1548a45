"""`gongwen doctor`'s findings about 督查督办: 纪要 whose 议定事项 are not on the 台账 yet, 时限 that
wait for a year's holidays, and which years the working-day calendar covers. (An edited item is found
by the ledger's own chain check.)"""
from __future__ import annotations

from ..config import Config
from ..ledger import Ledger, ledger_path
from ..model import Finding
from ..workdays import Calendar, package_version, package_years
from .items import HELD, ON_BOARD, list_items, started_at
from .sources import minutes_pending

AREA = "督办"


def health(config: Config) -> list[Finding]:
    lo, hi = package_years()
    office = sorted(config.calendar)
    cover = f"chinesecalendar {package_version()} 覆盖 {lo}–{hi} 年" + (
        f"；配置补充 {'、'.join(map(str, office))} 年" if office else "")
    out = [Finding(AREA, "工作日日历", True, cover)]
    if not ledger_path(config).is_file():
        return out
    with Ledger.open(config) as ledger:
        if started_at(ledger) is None:
            return out
        pending = minutes_pending(ledger, config)
        out.append(Finding(AREA, "纪要议定事项已列入督办台账", not pending,
                           "、".join(pending[:20]) + ("；重启服务或再次运行 gongwen doctor 补做，仍失败见日志" if pending else "")))
        provisional = [i for i in list_items(ledger, status=(*ON_BOARD, HELD)) if i.deadline_provisional]
        cal = Calendar(config)
        years = sorted({i.deadline.year for i in provisional} | {y for i in provisional
                                                                  for y in range(i.assigned.year, i.deadline.year + 1)
                                                                  if not cal.covers(y)})
        missing = [y for y in years if not cal.covers(y)]
        out.append(Finding(
            AREA, "办结时限不依赖未知的节假日安排", not provisional,
            (f"{len(provisional)} 件的时限暂按周一至周五推算：{'、'.join(i.reference for i in provisional[:20])}；"
             f"请在配置 calendar 中补充 {'、'.join(map(str, missing))} 年的节假日和调休安排（或升级 chinesecalendar），"
             "之后的日切会自动重算") if provisional else ""))
    return out
