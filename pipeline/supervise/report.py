"""Reports of the 督办台账: the figures (办结率 per 来源类型 and per 责任单位, which always reconcile:
created = 已办结 + 挂牌 + 暂缓 + 不能办理), the 督查督办台账 workbook, and the 督查通报 draft — a
Markdown 清样 with front matter in the office's 通报 form, written to proofs/<report series>/ for
review and 签发 (the office's own 关于2015年第一季度督查督办工作情况的通报 is the model).

Choices made here, once:
- an item belongs to the period its 交办日期 falls in; its state is the state on ``today`` (the
  report's date, 「截至…」);
- 办结率 = 已办结 ÷ 督办事项总数 (the office's 41 of 46 = 89.1%), one decimal;
- 逾期 = 挂牌 and its 时限 before ``today`` (whether or not the day turn has marked it yet).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..config import SOURCE_TYPES, Config
from ..fsutil import atomic_write_text, unique_path
from ..ledger import Ledger
from ..model import cn_date
from ..sheets import register_xlsx
from .items import CANNOT, CLOSED, HELD, ON_BOARD, OPEN, OVERDUE, Item, list_items, report_series

QUARTERS = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}
# Status colours of the 台账 (light fills that print legibly in grey too).
STATUS_FILL = {"已办结": "C6EFCE", "逾期": "FFC7CE", "办理中": "FFEB9C", "暂缓": "D9D9D9", "不能办理": "F4B183"}

LEDGER_COLUMNS = (
    ("no", "序号"), ("reference", "督办编号"), ("source_type", "来源类型"), ("source", "来源"),
    ("matter", "事项"), ("lead_unit", "责任单位"), ("co_units", "协办单位"), ("leader", "责任领导"),
    ("assigned", "交办日期"), ("deadline", "办结时限"), ("status", "状态"), ("status_note", "状态说明"),
    ("progress", "最新进展"), ("closed_on", "办结日期"), ("close_note", "办结说明"), ("answer", "答复"),
)
RATE_COLUMNS = (("name", "名称"), ("total", "督办事项"), ("closed", "已办结"), ("open", "办理中"),
                ("overdue", "其中逾期"), ("held", "暂缓"), ("cannot", "不能办理"), ("rate", "办结率"))


@dataclass(frozen=True)
class Period:
    year: int
    quarter: int | None = None

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * (self.quarter - 1) + 1, 1) if self.quarter else dt.date(self.year, 1, 1)

    @property
    def end(self) -> dt.date:
        if not self.quarter:
            return dt.date(self.year, 12, 31)
        nxt = dt.date(self.year + (self.quarter == 4), (3 * self.quarter) % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        """2015年第一季度 / 2015年度."""
        return f"{self.year}年{QUARTERS[self.quarter]}" if self.quarter else f"{self.year}年度"

    @property
    def short(self) -> str:
        """第一季度 / 全年 (as the 通报's sentences say it)."""
        return QUARTERS[self.quarter] if self.quarter else "全年"


@dataclass(frozen=True)
class Rate:
    """One line of a 办结率 table."""

    name: str
    total: int = 0
    closed: int = 0
    open: int = 0          # 挂牌 (办理中 + 逾期)
    overdue: int = 0       # of which past the 时限
    held: int = 0
    cannot: int = 0

    @property
    def rate(self) -> str:
        return percent(self.closed, self.total)

    @property
    def reconciles(self) -> bool:
        return self.total == self.closed + self.open + self.held + self.cannot


def rate_of_counts(name: str, counts: dict[str, int]) -> Rate:
    """The line for items counted by their state as shown on a day (items.count_items): the same
    figures as ``rate`` over those items, without reading them."""
    c = {s: counts.get(s, 0) for s in (CLOSED, OPEN, OVERDUE, HELD, CANNOT)}
    return Rate(name=name, total=sum(counts.values()), closed=c[CLOSED], open=c[OPEN] + c[OVERDUE],
                overdue=c[OVERDUE], held=c[HELD], cannot=c[CANNOT])


def percent(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "—"


def rate(name: str, items: list[Item], today: dt.date) -> Rate:
    """The figures of ``items`` on ``today`` (the 办结率 line of a table, the counts of the 督办 page)."""
    return Rate(name=name, total=len(items), closed=sum(i.status == CLOSED for i in items),
                open=sum(i.status in ON_BOARD for i in items), overdue=sum(i.is_overdue(today) for i in items),
                held=sum(i.status == HELD for i in items), cannot=sum(i.status == CANNOT for i in items))


@dataclass(frozen=True)
class Statistics:
    """The period's figures; ``reconciles`` checks created = 已办结 + 挂牌 + 暂缓 + 不能办理 overall and
    on every line."""

    period: Period
    today: dt.date
    items: tuple[Item, ...]
    total: Rate
    by_source: tuple[Rate, ...]
    by_unit: tuple[Rate, ...]
    overdue: tuple[tuple[str, tuple[Item, ...]], ...] = field(default=())   # (责任单位, its overdue items)

    @property
    def reconciles(self) -> bool:
        lines = (self.total, *self.by_source, *self.by_unit)
        return all(r.reconciles for r in lines) and sum(r.total for r in self.by_source) == self.total.total \
            and sum(r.total for r in self.by_unit) == self.total.total


def statistics(ledger: Ledger, *, period: Period, today: dt.date) -> Statistics:
    items = list_items(ledger, assigned_from=period.start, assigned_to=period.end)
    by_type = [(t, [i for i in items if i.source_type == t]) for t in SOURCE_TYPES]
    units = sorted({i.lead_unit for i in items})
    by_unit = [(u, [i for i in items if i.lead_unit == u]) for u in units]
    late: dict[str, list[Item]] = {}
    for i in items:
        if i.is_overdue(today):
            late.setdefault(i.lead_unit, []).append(i)
    overdue = tuple(sorted(((u, tuple(v)) for u, v in late.items()), key=lambda kv: (-len(kv[1]), kv[0])))
    return Statistics(period=period, today=today, items=tuple(items), total=rate("合计", items, today),
                      by_source=tuple(rate(t, v, today) for t, v in by_type if v),
                      by_unit=tuple(rate(u, v, today) for u, v in by_unit), overdue=overdue)


# --- the 台账 workbook ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class LedgerLine:
    no: int
    reference: str
    source_type: str
    source: str
    matter: str
    lead_unit: str
    co_units: str
    leader: str
    assigned: str
    deadline: str
    status: str
    status_note: str
    progress: str
    closed_on: str
    close_note: str
    answer: str


def ledger_lines(ledger: Ledger, items: tuple[Item, ...], today: dt.date) -> list[LedgerLine]:
    from .items import latest_progress

    latest = latest_progress(ledger)
    out = []
    for n, i in enumerate(items, 1):
        status = "逾期" if i.is_overdue(today) else i.status
        note = i.status_reason or ""
        if status == "逾期":
            note = f"超过时限 {(today - i.deadline).days} 天" + (f"；{note}" if note else "")
        if i.deadline_provisional:
            note = (note + "；" if note else "") + "时限暂定（节假日未知）"
        last = latest.get(i.id)
        answer = "/".join(x for x in (i.answer_category, i.answer_date and i.answer_date.isoformat(),
                                      i.satisfaction) if x)
        out.append(LedgerLine(
            no=n, reference=i.reference, source_type=i.source_type, source=i.source, matter=i.matter,
            lead_unit=i.lead_unit, co_units="、".join(i.co_units), leader=i.leader or "",
            assigned=i.assigned.isoformat(), deadline=i.deadline.isoformat(), status=status, status_note=note,
            progress=f"{last.day.isoformat()} {last.text}" if last else "",
            closed_on=i.closed_on.isoformat() if i.closed_on else "", close_note=i.close_note or "", answer=answer))
    return out


def write_workbook(ledger: Ledger, config: Config, stats: Statistics, path: Path, *, actor: str) -> Path:
    """The 督查督办台账 .xlsx: one row per item with its status colour, then the 办结率 sheets."""
    org = config.organisation.name
    lines = ledger_lines(ledger, stats.items, stats.today)
    t = stats.total
    subtitle = (f"共 {t.total} 件：已办结 {t.closed} 件，办理中 {t.open} 件（其中逾期 {t.overdue} 件），暂缓 {t.held} 件，"
                f"不能办理 {t.cannot} 件；办结率 {t.rate}。截至 {cn_date(stats.today)}　导出人：{actor}")
    rates = lambda rows: [*rows, stats.total]  # noqa: E731 — the 合计 line last
    return register_xlsx(
        path, title=f"{org}{stats.period.label}督查督办台账", columns=LEDGER_COLUMNS, rows=lines,
        subtitle=subtitle, row_fill=lambda line: STATUS_FILL.get(line.status),
        sheets=(("办结率（按来源类型）", RATE_COLUMNS, rates(list(stats.by_source)), subtitle),
                ("办结率（按责任单位）", RATE_COLUMNS, rates(list(stats.by_unit)), subtitle)))


# --- the 督查通报 draft ---------------------------------------------------------------------------------

SOURCE_WORDS = {"常务会议": "区政府常务会议议定事项", "区长办公会": "区长办公会议定事项", "领导批示": "领导批示交办件",
                "人大建议": "人大代表建议", "政协提案": "政协委员提案", "网络诉求": "网络诉求",
                "政府工作报告目标": "政府工作报告目标任务", "为民办实事": "为民办实事项目", "其他": "其他事项"}


def notice_text(config: Config, stats: Statistics) -> tuple[str, str]:
    """(file name, Markdown with front matter) of the 督查通报 draft."""
    code = report_series(config)
    series = config.series[code]
    issuer = series.issuer
    p, t = stats.period, stats.total
    title = f"{issuer}关于{p.label}督查督办工作情况的通报"
    kinds = "、".join(SOURCE_WORDS[r.name] for r in stats.by_source) or "督办事项"
    lines = [
        "---",
        f"标题: {title}",
        f"机关代字: {code}",
        "文种: 通报",
        f"成文日期: {cn_date(stats.today)}",
        f"署名: {issuer}",
        "公开属性: 依申请公开",
        "---",
        f"{config.supervision.report_to}：",
        f"{p.label}，{issuer}围绕{kinds}，组织开展了督查督办工作。现将有关情况通报如下。",
        "一、基本情况",
    ]
    if t.total:
        basic = f"{p.short}共督办事项{t.total}件，已办结{t.closed}件，办结率{t.rate}"
        rest = []
        if t.open:
            rest.append(f"正在办理{t.open}件" + (f"（其中逾期{t.overdue}件）" if t.overdue else ""))
        if t.held:
            rest.append(f"暂缓办理{t.held}件")
        if t.cannot:
            rest.append(f"因条件限制不能办理{t.cannot}件")
        lines.append(basic + ("；" + "，".join(rest) if rest else "") + "。")
        per = [f"{SOURCE_WORDS[r.name]}{r.total}件，已办结{r.closed}件，办结率{r.rate}" for r in stats.by_source]
        lines.append("按来源分：" + "；".join(per) + "。")
    else:
        lines.append(f"{p.short}没有新交办的督办事项。")
    lines.append("二、存在的问题")
    if stats.overdue:
        named = "，".join(f"{u}{len(v)}件（{'、'.join(i.reference for i in v)}）" for u, v in stats.overdue)
        lines.append(f"截至{cn_date(stats.today)}，以下单位有超过办结时限仍未办结的事项：{named}。"
                     "少数单位对督办事项重视不够，存在办理进度慢、反馈不及时等问题。")
    else:
        lines.append(f"截至{cn_date(stats.today)}，没有超过办结时限仍未办结的事项。")
    lines += [
        "三、下一步要求",
        "各单位要对未办结事项明确办结时限，实行挂牌销号，确保件件有落实、事事有回音。"
        + ("有逾期事项的单位要书面说明原因，并明确办结时间。" if stats.overdue else ""),
        issuer,
        cn_date(stats.today),
    ]
    return f"关于{p.label}督查督办工作情况的通报.md", "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Report:
    stats: Statistics
    workbook: Path
    notice: Path


def report(ledger: Ledger, config: Config, *, year: int, quarter: int | None = None, today: dt.date, actor: str,
           out_dir: Path | None = None) -> Report:
    """The period's 台账 workbook (default outbox/督办/) and the 督查通报 draft in
    proofs/<report series>/. Neither overwrites a file already there (a (2) name instead)."""
    if quarter is not None and quarter not in QUARTERS:
        from ..errors import SupervisionError

        raise SupervisionError("季度应为 1、2、3 或 4")
    period = Period(year, quarter)
    stats = statistics(ledger, period=period, today=today)
    if not stats.reconciles:     # a bug, never a user error: the figures must add up before they go out
        raise AssertionError(f"督办统计不平衡：{stats.total}")
    out_dir = Path(out_dir) if out_dir else config.outbox / "督办"
    book = write_workbook(ledger, config, stats, unique_path(out_dir / f"督查督办台账-{period.label}.xlsx"),
                          actor=actor)
    name, text = notice_text(config, stats)
    notice = atomic_write_text(unique_path(config.proofs / report_series(config) / name), text)
    return Report(stats, book, notice)
