"""催办: one 催办单 per 责任单位 (主办) listing its 督办件 that are overdue or due within N days —
.docx from templates/催办单.docx (GB/T 9704 信函 page, built by scripts/build_supervise_templates.py)
and PDF through LibreOffice — and a 催办 event on each item listed."""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..fsutil import atomic_write_bytes, unique_path
from ..ledger import Ledger
from ..model import cn_date
from .items import Item, list_items, report_series

TEMPLATE = "催办单"


@dataclass(frozen=True)
class Reminder:
    unit: str
    items: tuple[Item, ...]
    docx: Path
    pdf: Path | None = None

    @property
    def overdue(self) -> int:
        return sum(1 for i in self.items if i.days_left(self._today) < 0)

    _today: dt.date = field(default=dt.date.min, repr=False)


@dataclass(frozen=True)
class RemindResult:
    today: dt.date
    within_days: int
    reminders: tuple[Reminder, ...] = ()

    def summary(self) -> str:
        if not self.reminders:
            return f"没有逾期或 {self.within_days} 日内到期的督办事项，未生成催办单"
        lines = [f"{r.unit}：{len(r.items)} 件（逾期 {r.overdue} 件）" for r in self.reminders]
        return f"催办单 {len(self.reminders)} 份：" + "；".join(lines)


def state_text(item: Item, today: dt.date) -> str:
    """办理情况 as the 催办单 prints it: 逾期N天 / N天后到期 / 今日到期."""
    left = item.days_left(today)
    if left < 0:
        return f"逾期{-left}天"
    if left == 0:
        return "今日到期"
    return f"{left}天后到期"


def due_items(ledger: Ledger, *, today: dt.date, within_days: int, units: list[str] | None = None) -> dict[str, list[Item]]:
    """挂牌 items overdue or due within ``within_days`` calendar days, by 责任单位 (主办)."""
    by_unit: dict[str, list[Item]] = {}
    for item in list_items(ledger, due_by=today + dt.timedelta(days=within_days)):
        if units and item.lead_unit not in units:
            continue
        by_unit.setdefault(item.lead_unit, []).append(item)
    return by_unit


def context(config: Config, unit: str, items: list[Item], *, today: dt.date, within_days: int) -> dict:
    issuer = config.series[report_series(config)].issuer
    overdue = sum(1 for i in items if i.days_left(today) < 0)
    return {
        "header": issuer,
        "title": "督办事项催办单",
        "unit": unit,
        "intro": (f"截至{cn_date(today)}，你单位承办的下列督办事项共{len(items)}件"
                  + (f"，其中{overdue}件已超过办结时限" if overdue else "")
                  + f"，其余将于{within_days}日内到期。请抓紧办理，按时办结。"),
        "items": [{"no": str(n), "reference": i.reference, "matter": i.matter, "source": i.source,
                   "assigned": cn_date(i.assigned), "deadline": cn_date(i.deadline), "state": state_text(i, today)}
                  for n, i in enumerate(items, 1)],
        "ask": ("已办结的事项，请将办结说明和佐证材料报送区政府办公室；逾期事项，请书面说明原因和办结时间。"
                if overdue else "已办结的事项，请将办结说明和佐证材料报送区政府办公室。"),
        "signature": issuer,
        "date": cn_date(today),
    }


def _fit(docx: Path) -> None:
    """What render.fit_document does for a 公文, for this letter: the 标志 compressed to fit, the
    署名 右空二字 with the date under it (7.3.5.2)."""
    from docx import Document
    from docx.oxml.ns import qn

    from ..render import fit_mark, fit_signature

    doc = Document(str(docx))
    header = doc.sections[0].first_page_header._element
    fit_mark(list(header.iter(qn("w:p"))))
    fit_signature([p for p in doc.element.body if p.tag == qn("w:p")])
    buf = io.BytesIO()
    doc.save(buf)
    atomic_write_bytes(docx, buf.getvalue())


def remind(ledger: Ledger, config: Config, *, today: dt.date, actor: str, within_days: int | None = None,
           units: list[str] | None = None, out_dir: Path | None = None, pdf: bool = True) -> RemindResult:
    """Write the 催办单 of every 责任单位 with items overdue or due within ``within_days`` (default
    ``supervision.remind_days``) into ``out_dir`` (default outbox/催办单/<date>/), convert them to PDF
    with one LibreOffice, and record a 催办 event on each item listed."""
    from ..render import render_template
    from ..yearend.catalogue import to_pdf

    within = config.supervision.remind_days if within_days is None else within_days
    groups = due_items(ledger, today=today, within_days=within, units=units)
    out_dir = Path(out_dir) if out_dir else config.outbox / "催办单" / today.isoformat()
    out_dir.mkdir(parents=True, exist_ok=True)
    template = config.templates_dir / f"{TEMPLATE}.docx"
    made: list[tuple[str, list[Item], Path]] = []
    for unit in sorted(groups):
        items = groups[unit]
        docx = unique_path(out_dir / f"催办单-{unit}-{today:%Y%m%d}.docx")
        render_template(template, context(config, unit, items, today=today, within_days=within), docx)
        _fit(docx)
        made.append((unit, items, docx))
    pdfs = to_pdf(config, [(d, d.with_suffix(".pdf")) for _, _, d in made]) if pdf and made else []
    for (unit, items, docx) in made:
        for item in items:
            ledger.log("supervision_reminded", actor=actor, reference=item.reference,
                       detail={"what": f"催办（{state_text(item, today)}）：{docx.name}"})
    reminders = tuple(Reminder(unit, tuple(items), docx, pdfs[k] if pdfs else None, _today=today)
                      for k, (unit, items, docx) in enumerate(made))
    return RemindResult(today, within, reminders)
