"""Where 督办件 come from: an issued 纪要's 议定事项, and 交办清单 files (YAML or .xlsx) with many items.

A 纪要 gives one item per 议定事项 that names a 责任单位 — the structured 议定事项 of a YAML/Markdown
纪要 (``责任单位:``), or, in a 纪要 written as plain paragraphs, a paragraph that ends with
「（责任单位：区城管局）」 (the form gongwen itself prints). The first unit is the 主办, the others
协办. A 时限 in the item's text is read (see deadlines.py); otherwise the config's default for the
series' 来源类型. Each item remembers its 纪要 and 项次, so processing the 纪要 again adds nothing.

A 交办清单 (the 人大/政协 list usually arrives as a spreadsheet) is read row by row: a bad row (unknown
unit, no 事项, an unreadable date …) is left out with a Chinese note naming the row and every problem,
the others are taken. A row with a 来源编号 (建议号/提案号) is known by it; one without by its content,
so the same file dropped twice adds nothing.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..config import Config
from ..errors import SupervisionError
from ..ledger import Register
from ..model import Decision, Draft, Problem
from .deadlines import FULL_DATE_RE, ISO_RE, find_in_text, parse_rule
from .items import Item, add_item, check_item, minutes_series, source_key

SUFFIXES = (".yaml", ".yml", ".xlsx")
_OWNER_MARK = re.compile(r"[（(]\s*(?:责任单位|牵头单位|责任部门)\s*[:：]\s*([^）)]+?)\s*[）)]\s*[。；;]?\s*$")
_UNIT_SPLIT = re.compile(r"[、，,；;/\s]+")


@dataclass(frozen=True)
class MinutesResult:
    """Items from one 纪要: those made (or found made before), and notes about the others."""

    items: tuple[Item, ...] = ()
    notes: tuple[str, ...] = ()


def minutes_decisions(draft: Draft) -> tuple[Decision, ...]:
    """The 纪要's 议定事项: the structured ones, else paragraphs marked 「（责任单位：…）」."""
    if draft.meeting and draft.meeting.decisions:
        return draft.meeting.decisions
    out = []
    for b in draft.body:
        m = _OWNER_MARK.search(b.text or "")
        if b.kind != "table" and m:
            out.append(Decision(text=b.text[: m.start()].rstrip("，,；; "), owner=m.group(1)))
    return tuple(out)


def split_units(owner: str) -> list[str]:
    return [u for u in _UNIT_SPLIT.split(owner or "") if u]


def items_from_minutes(ledger: Register, config: Config, draft: Draft, reference: str, *, actor: str,
                       assigned: dt.date | None = None) -> MinutesResult:
    """Register one item per 议定事项 with a 责任单位 of an issued 纪要 (idempotent). The 交办日期 is
    the 纪要's 成文日期 (or ``assigned``). Units missing from ``supervision.units`` are still taken — the
    meeting decided it — and named in the notes. Nothing happens for a series not in
    ``supervision.minutes``."""
    source_type = minutes_series(config).get(draft.series or "")
    if source_type is None:
        return MinutesResult()
    day = assigned or draft.date
    if day is None:
        raise SupervisionError(f"{reference} 没有可识别的成文日期，无法确定交办日期")
    known = set(config.supervision.units)
    items, notes = [], []
    for i, d in enumerate(minutes_decisions(draft), 1):
        units = split_units(d.owner or "")
        if not units:
            notes.append(f"议定事项第 {i} 项未写责任单位，未列入督办")
            continue
        unknown = [u for u in units if known and u not in known]
        if unknown:
            notes.append(f"议定事项第 {i} 项的责任单位“{'、'.join(unknown)}”不在单位名单中（已照录）")
        rule = find_in_text(d.text)
        item = add_item(ledger, config, matter=d.text, source_type=source_type,
                        source=f"{reference} 议定事项第{i}项", lead_unit=units[0], co_units=units[1:],
                        assigned=day, actor=actor, source_ref=f"{reference}#{i}", rule=rule,
                        check_units=False)
        items.append(item)
    return MinutesResult(tuple(items), tuple(notes))


# --- 交办清单 files -----------------------------------------------------------------------------------

# Column headings and YAML keys people use → the canonical field.
COLUMNS = {
    "matter": ("事项", "督办事项", "内容", "事项内容", "建议标题", "提案标题", "案由", "标题", "议定事项"),
    "source_type": ("来源类型", "类型", "类别", "来源类别"),
    "source": ("来源", "来源说明", "交办依据"),
    "number": ("来源编号", "编号", "建议号", "提案号", "案号", "建议编号", "提案编号"),
    "proposer": ("提出人", "代表", "委员", "领衔代表", "提案人", "建议人"),
    "lead_unit": ("责任单位", "主办单位", "承办单位", "牵头单位", "责任部门"),
    "co_units": ("协办单位", "会办单位", "配合单位"),
    "leader": ("责任领导", "分管领导", "联系领导"),
    "assigned": ("交办日期", "交办时间"),
    "deadline": ("办结时限", "时限", "办理时限", "答复时限"),
    "urgent": ("急件", "紧急", "紧急程度"),
}
TYPE_ALIASES = {"人大代表建议": "人大建议", "代表建议": "人大建议", "建议": "人大建议",
                "政协委员提案": "政协提案", "委员提案": "政协提案", "提案": "政协提案",
                "常务会": "常务会议", "政府常务会议": "常务会议", "区长办公会议": "区长办公会",
                "批示": "领导批示", "领导批示件": "领导批示", "网络舆情": "网络诉求",
                "为民办实事项目": "为民办实事", "政府工作报告": "政府工作报告目标"}
_KEY_OF = {re.sub(r"\s+", "", a): k for k, aliases in COLUMNS.items() for a in aliases}
_YES = {"是", "急", "急件", "紧急", "特急", "加急", "1", "true", "yes", "y", "√"}


@dataclass(frozen=True)
class RowProblem:
    row: str                 # 「第 5 行」 / 「第 3 项」
    problems: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.row}：{'；'.join(self.problems)}"


@dataclass
class ImportResult:
    """What one 交办清单 gave: items taken (new), items already there, rows left out."""

    file: str
    added: list[Item] = field(default_factory=list)
    existing: list[Item] = field(default_factory=list)
    rejected: list[RowProblem] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.added) + len(self.existing) + len(self.rejected)

    def problems(self) -> list[Problem]:
        """The note for the clerk: one Problem per row left out."""
        return [Problem(r.row, "；".join(r.problems) + "（此行未录入，其余各行已录入）") for r in self.rejected]

    def summary(self) -> str:
        text = f"{Path(self.file).name}：录入 {len(self.added)} 件"
        if self.existing:
            text += f"，{len(self.existing)} 件此前已录入"
        if self.rejected:
            text += f"，{len(self.rejected)} 行有问题未录入（{'；'.join(str(r) for r in self.rejected[:5])}）"
        return text


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, (list, tuple)):
        return "、".join(_text(x) for x in v)
    return str(v).strip()


def parse_date(v) -> dt.date | None:
    """A date as a person writes it in a sheet, a form or a command: 2015-03-02, 2015年3月2日 (None if not)."""
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    s = re.sub(r"\s+", "", _text(v))
    for pat in (ISO_RE, FULL_DATE_RE):
        m = pat.match(s)
        if m:
            try:
                return dt.date(*(int(g) for g in m.groups()))
            except ValueError:
                return None
    return None


def read_rows(path: Path) -> tuple[list[tuple[str, dict]], dict]:
    """(rows as (label, {field: value}), file-level defaults) from a YAML or .xlsx 交办清单."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return _yaml_rows(path)
    if suffix == ".xlsx":
        return _xlsx_rows(path), {}
    raise SupervisionError(f"不支持 {suffix or '无扩展名'} 文件；交办清单请用 .xlsx 或 .yaml")


def probe(path: Path) -> str | None:
    """None when a 交办清单 file opens (an .xlsx zip with a workbook, YAML that parses); else a Chinese
    reason. Cheap: the watched folder's readiness gate calls it."""
    import zipfile

    path = Path(path)
    try:
        if path.suffix.lower() == ".xlsx":
            with zipfile.ZipFile(path) as z:
                return None if "xl/workbook.xml" in z.namelist() else "不是 Excel 工作簿"
        yaml.safe_load(path.read_text(encoding="utf-8"))
        return None
    except (zipfile.BadZipFile, yaml.YAMLError, UnicodeDecodeError, ValueError) as e:
        return f"文件无法打开（{type(e).__name__}）"
    except OSError as e:
        return f"无法读取文件（{e.strerror or e}）"


def _canon(mapping: dict) -> tuple[dict, list[str]]:
    out, unknown = {}, []
    for k, v in mapping.items():
        key = _KEY_OF.get(re.sub(r"\s+", "", str(k)))
        if key is None:
            unknown.append(str(k))
        else:
            out[key] = v
    return out, unknown


def _yaml_rows(path: Path) -> tuple[list[tuple[str, dict]], dict]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise SupervisionError(f"{path.name} 不是有效的 YAML：{e}") from None
    defaults: dict = {}
    if isinstance(data, dict):
        listed = next((data[k] for k in ("督办事项", "事项列表", "items") if k in data), None)
        if listed is None:
            raise SupervisionError(f"{path.name} 中没有“督办事项”列表")
        rest = {k: v for k, v in data.items() if k not in ("督办事项", "事项列表", "items")}
        defaults, unknown = _canon(rest)
        if unknown:
            raise SupervisionError(f"{path.name} 中不认识的字段：{'、'.join(unknown)}")
        data = listed
    if not isinstance(data, list):
        raise SupervisionError(f"{path.name} 应为督办事项的列表")
    rows = []
    for i, entry in enumerate(data, 1):
        label = f"第 {i} 项"
        if not isinstance(entry, dict):
            rows.append((label, {"_problem": "应为“字段: 值”的形式"}))
            continue
        fields_, unknown = _canon(entry)
        if unknown:
            fields_["_problem"] = f"不认识的字段：{'、'.join(unknown)}"
        rows.append((label, fields_))
    return rows, defaults


def _xlsx_rows(path: Path) -> list[tuple[str, dict]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 — any unreadable workbook is the clerk's to fix
        raise SupervisionError(f"{path.name} 无法作为 Excel 文件打开：{e}") from None
    try:
        for ws in wb.worksheets:
            rows = list(ws.iter_rows(values_only=True))
            for h, header in enumerate(rows[:10]):
                keys = [_KEY_OF.get(re.sub(r"\s+", "", _text(c))) for c in header]
                if "matter" in keys and "lead_unit" in keys:
                    return _sheet_rows(rows, h, keys)
        raise SupervisionError(f"{path.name} 中找不到表头（须有“事项”和“责任单位”两列）")
    finally:
        wb.close()


def _sheet_rows(rows: list, h: int, keys: list) -> list[tuple[str, dict]]:
    out = []
    for n, values in enumerate(rows[h + 1:], h + 2):
        if all(_text(v) == "" for v in values):
            continue
        fields_ = {k: v for k, v in zip(keys, values) if k is not None and _text(v) != ""}
        out.append((f"第 {n} 行", fields_))
    return out


def _source_type(value: str) -> str:
    v = re.sub(r"\s+", "", value)
    return TYPE_ALIASES.get(v, v)


def import_items(ledger: Register, config: Config, path: Path, *, actor: str) -> ImportResult:
    """Take every good row of a 交办清单 as an item; collect each bad row's problems. Raises
    SupervisionError (nothing taken) only when the file itself cannot be read."""
    rows, defaults = read_rows(path)
    result = ImportResult(file=str(path))
    for label, raw in rows:
        row = {**defaults, **raw}
        problems = [raw.pop("_problem")] if "_problem" in raw else []
        matter = _text(row.get("matter"))
        stype = _source_type(_text(row.get("source_type")))
        number, proposer = _text(row.get("number")), _text(row.get("proposer"))
        source = _text(row.get("source")) or "".join(
            [number, f"（{proposer}）" if proposer and number else proposer])
        units = [u for part in (row.get("lead_unit"),) for u in _UNIT_SPLIT.split(_text(part)) if u]
        lead = units[0] if units else ""
        co = units[1:] + [u for u in _UNIT_SPLIT.split(_text(row.get("co_units"))) if u]
        assigned = parse_date(row.get("assigned"))
        if row.get("assigned") not in (None, "") and assigned is None:
            problems.append(f"交办日期“{_text(row.get('assigned'))}”无法识别（应为 2015年3月1日 或 2015-03-01）")
            assigned_for_check: dt.date | None = dt.date.min
        else:
            assigned_for_check = assigned
        deadline_raw = row.get("deadline")
        deadline, rule = parse_date(deadline_raw), None
        if deadline is None and _text(deadline_raw):
            rule = parse_rule(_text(deadline_raw))
            if rule is None:
                problems.append(f"办结时限“{_text(deadline_raw)}”无法识别（可写 2015年4月1日、15个工作日、3个月、月底前）")
        problems += check_item(config, matter=matter, source_type=stype, source=source, lead_unit=lead,
                               co_units=co, assigned=assigned_for_check, deadline=deadline)
        if problems or assigned is None:   # check_item reports a missing 交办日期
            result.rejected.append(RowProblem(label, tuple(dict.fromkeys(problems))))
            continue
        ref = f"{stype}:{number}" if number else source_key(stype, matter, source, lead, assigned.isoformat())
        before = _existing(ledger, ref)
        try:
            item = add_item(ledger, config, matter=matter, source_type=stype, source=source, lead_unit=lead,
                            co_units=co, leader=_text(row.get("leader")) or None, assigned=assigned,
                            deadline=deadline, rule=rule, actor=actor, source_ref=ref,
                            urgent=_text(row.get("urgent")).lower() in _YES)
        except SupervisionError as e:
            result.rejected.append(RowProblem(label, (str(e),)))
            continue
        (result.existing if before else result.added).append(item)
    return result


def _existing(ledger: Register, source_ref: str) -> bool:
    from .items import ITEMS_TABLE, _has_books

    with ledger.book_read() as db:
        if not _has_books(db):
            return False
        return db.execute(f"SELECT 1 FROM {ITEMS_TABLE} WHERE source_ref = ?",
                          (re.sub(r"\s+", "", source_ref),)).fetchone() is not None


# --- the 纪要 hook and its catch-up -------------------------------------------------------------------

MINUTES_DONE, MINUTES_FAILED = "supervision_minutes", "supervision_minutes_failed"


def minutes_hook(ledger: Register, config: Config, draft: Draft, reference: str, *, actor: str) -> MinutesResult:
    """What the pipeline calls once a 纪要 is filed: its items, then one event on the 纪要 saying so
    (the catch-up looks for that event). Idempotent."""
    if draft.series not in minutes_series(config):
        return MinutesResult()
    result = items_from_minutes(ledger, config, draft, reference, actor=actor)
    if not any(e.event == MINUTES_DONE for e in ledger.events(reference)):
        refs = [i.reference for i in result.items]
        ledger.log(MINUTES_DONE, actor=actor, reference=reference,
                   detail={"items": refs, "notes": list(result.notes),
                           "what": f"议定事项列入督办 {len(refs)} 件" + (f"：{'、'.join(refs)}" if refs else "")})
    return result


def record_minutes_failure(ledger: Register, reference: str, error: Exception, *, actor: str) -> None:
    ledger.log(MINUTES_FAILED, actor=actor, reference=reference,
               detail={"error": f"{type(error).__name__}: {error}",
                       "what": "议定事项未能列入督办台账，待补做"})


def minutes_pending(ledger: Register, config: Config) -> list[str]:
    """纪要 of a supervised series, filed since supervision started, whose items were never made (a
    failed hook, or a stop between filing and the hook)."""
    from .items import started_at

    since = started_at(ledger)
    if since is None:
        return []
    out = []
    for series in minutes_series(config):
        for doc in ledger.documents(series=series):
            if doc.stage not in ("filed", "indexed") or doc.registered_at < since:
                continue
            if not any(e.event == MINUTES_DONE for e in ledger.events(doc.reference)):
                out.append(doc.reference)
    return out


def catch_up_minutes(ledger: Register, config: Config, store, *, actor: str) -> tuple[list[str], list[str]]:
    """Redo the 纪要 hook for every pending 纪要 from its archived 原稿. Returns (done, still failing
    with the reason)."""
    from .. import drafts
    from ..config import Route

    done, failed = [], []
    for ref in minutes_pending(ledger, config):
        rec = store.find(ref)
        original = rec.file("原稿") if rec is not None else None
        if original is None or not original.is_file():
            failed.append(f"{ref}：档案中找不到原稿")
            continue
        doc = ledger.document(ref)
        if doc is None:
            failed.append(f"{ref}：登记簿中没有此文号")
            continue
        series = doc.number.series
        route = next((r for r in config.intake.routes if r.series == series), None) \
            or Route(folder=series, series=series, kind="纪要")
        try:
            draft = drafts.read_draft(original, config, route)
            minutes_hook(ledger, config, draft, ref, actor=actor)
        except Exception as e:  # noqa: BLE001 — reported, and tried again next time
            failed.append(f"{ref}：{type(e).__name__}: {e}")
            continue
        done.append(ref)
    return done, failed
