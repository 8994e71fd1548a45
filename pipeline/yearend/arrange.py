"""Year-end arrangement (DA/T 22-2015 5.2–5.4): classes, order by 时间结合事由, 件号 and 档号, the
归档章 on each 正本, the 档号 in the register, the metadata and the search index — idempotent and
resumable.

The order within a class (时间结合事由, standards.md §3.6), as one rule:
1. 事由 groups: two documents of a class are on the same matter when one cites the other's 文号 in
   its text (a 补充通知 citing the 通知, a 报告 on an earlier 请示), or when their titles name the same
   matter once "关于", the issuer before it and the closing 文种 ("的通知", "的补充通知", "的批复" …)
   are taken off. The relation is transitive (union-find).
2. Groups are ordered by their earliest 成文日期; inside a group the documents follow in the order they
   were produced (成文日期, then the series' order in config.yaml, then the 顺序号).
3. Ties everywhere break on (series order, 顺序号), so the result never depends on folder order.

Idempotent and resumable: the arrangement is written first to ``yearend/<年度>/整理方案.json``
(atomically), then applied 件 by 件. A 件 already carrying its planned 档号 is left alone, so a second
run changes nothing and an interrupted run continues where it stopped. A document filed after its
class was arranged goes to the end of that class with a 备注 (standards.md §3.6 practice); the 件号
already given never move.

Nothing forged is arranged: every record is compared with its anchor in the ledger and with its row
in the 发文登记簿 first (archive.check_anchor, register_problems), and the run is refused, naming
them, if one differs; records filed before anchors existed are anchored as they are (archive.adopt).
Each new version a 归档章 makes is anchored before it takes the old one's place. The 整理方案 and the
目录 are anchored too (``year_subject``): an edited plan is put right from the records' metadata
(the 档号 there is anchored and signed into the 归档章), an edited 目录 is written again.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..archive import (YEAREND_REASON, ArchiveStore, Record, adopt, check_anchor, record_anchor,
                       register_problems)
from ..config import RETENTION_CODES, Config
from ..errors import ArchiveError, LedgerError
from ..ledger import EVENT_NAMES
from ..fsutil import atomic_write_text
from ..hashing import chain_algorithm, digest_file
from .common import (ARCHIVE_CODE_RE, ClassKey, archive_code, class_of, is_incoming, now_iso, record_date,
                     stamp_role, year_subject, yearend_dir)

if TYPE_CHECKING:
    from .archstamp import StampValues

PLAN_FILE = "整理方案.json"
PLAN_SCHEMA = "gongwen-arrangement/1"
ORDER_RULE = "时间结合事由/1"
LATE_NOTE = "补归档：{date} 在本类整理之后归档，排于本类之末"

Progress = Callable[[int, int, str], None]

# The closing 文种 of a title, with the qualifiers that make a follow-up on the same matter.
_KIND_TAIL = re.compile(
    r"的?(?:补充|紧急|进一步|再次|重新)?(?:通知|通报|意见|决定|决议|批复|请示|报告|复函|函|纪要|公告|通告|命令|令|议案|公报)$")
_SPACE = re.compile(r"\s+")


def subject_key(title: str | None) -> str:
    """The matter a title names: 珠晖区人民政府关于做好防汛工作的补充通知 → 做好防汛工作."""
    t = _SPACE.sub("", title or "")
    if "关于" in t:
        t = t.split("关于", 1)[1]
    t = _KIND_TAIL.sub("", t)
    return t.rstrip("的")


def _series_rank(config: Config) -> dict[str, int]:
    return {s: i for i, s in enumerate(config.series)}


def _prod_key(rec: Record, rank: dict[str, int]) -> tuple:
    d = record_date(rec.meta) or dt.date.max
    return (d, rank.get(rec.meta.get("机关代字") or "", len(rank)), int(rec.meta.get("顺序号") or 0), rec.reference)


def order_records(records: list[Record], config: Config) -> list[Record]:
    """The 时间结合事由 order of one class (module docstring)."""
    rank = _series_rank(config)
    n = len(records)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        a, b = find(i), find(j)
        if a != b:
            parent[max(a, b)] = min(a, b)

    by_subject: dict[str, int] = {}
    for i, rec in enumerate(records):
        key = subject_key(rec.meta.get("题名"))
        if len(key) >= 4:     # too short a remainder ("工作") says nothing about the matter
            if key in by_subject:
                union(i, by_subject[key])
            else:
                by_subject[key] = i
    refs = {rec.reference: i for i, rec in enumerate(records) if rec.reference}
    # a 收文 is cited by the 文号 it was sent under (our 批复 cites the 请示 as 珠安监〔2015〕8号)
    refs.update({rec.meta["印制文号"]: i for i, rec in enumerate(records)
                 if is_incoming(rec.meta) and rec.meta.get("印制文号") and rec.meta["印制文号"] not in refs})
    if len(refs) > 1:
        pattern = re.compile("|".join(re.escape(r) for r in sorted(refs, key=len, reverse=True)))
        for i, rec in enumerate(records):
            for m in pattern.finditer(_SPACE.sub("", rec.text())):
                j = refs[m.group(0)]
                if j != i:
                    union(i, j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    keyed = []
    for members in groups.values():
        members.sort(key=lambda i: _prod_key(records[i], rank))
        keyed.append((_prod_key(records[members[0]], rank), members))
    keyed.sort(key=lambda t: t[0])
    return [records[i] for _, members in keyed for i in members]


# --- the plan ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanEntry:
    item_no: int
    code: str               # 档号
    reference: str          # 文件编号
    late: bool = False
    note: str = ""
    arranged_at: str = ""

    def to_json(self) -> dict:
        return {"件号": self.item_no, "档号": self.code, "文件编号": self.reference, "补归档": self.late,
                "备注": self.note, "整理时间": self.arranged_at}

    @classmethod
    def from_json(cls, d: dict) -> "PlanEntry":
        return cls(int(d["件号"]), d["档号"], d["文件编号"], bool(d.get("补归档")), d.get("备注", ""),
                   d.get("整理时间", ""))


@dataclass
class Plan:
    """The arrangement of one year: per class, the 件 in 件号 order. Mutable while a run builds it;
    written atomically as JSON."""

    year: int
    fonds: str
    scheme: tuple[str, ...]
    classes: dict[ClassKey, list[PlanEntry]] = field(default_factory=dict)
    created: str = ""
    updated: str = ""
    actor: str = ""
    status: str = "进行中"
    totals: dict = field(default_factory=dict)
    catalogues: dict = field(default_factory=dict)   # class stem → content hash of its 目录/备考表

    def entries(self) -> list[tuple[ClassKey, PlanEntry]]:
        return [(k, e) for k in sorted(self.classes, key=ClassKey.sort_key) for e in self.classes[k]]

    def by_reference(self) -> dict[str, tuple[ClassKey, PlanEntry]]:
        return {e.reference: (k, e) for k, e in self.entries()}

    def to_json(self) -> dict:
        return {
            "格式版本": PLAN_SCHEMA, "年度": self.year, "全宗号": self.fonds, "分类方案": list(self.scheme),
            "排列规则": ORDER_RULE, "首次整理时间": self.created, "最近整理时间": self.updated,
            "整理人": self.actor, "状态": self.status, "统计": self.totals, "目录摘要": self.catalogues,
            "类别": [{**k.to_json(), "件": [e.to_json() for e in self.classes[k]]}
                     for k in sorted(self.classes, key=ClassKey.sort_key)],
        }

    @classmethod
    def from_json(cls, d: dict) -> "Plan":
        if d.get("格式版本") != PLAN_SCHEMA:
            raise ArchiveError(f"整理方案的格式版本“{d.get('格式版本')}”无法识别（应为 {PLAN_SCHEMA}）")
        classes = {ClassKey.from_json(c): [PlanEntry.from_json(e) for e in c["件"]] for c in d.get("类别", [])}
        return cls(year=int(d["年度"]), fonds=d["全宗号"], scheme=tuple(d.get("分类方案", ())), classes=classes,
                   created=d.get("首次整理时间", ""), updated=d.get("最近整理时间", ""), actor=d.get("整理人", ""),
                   status=d.get("状态", ""), totals=d.get("统计", {}), catalogues=d.get("目录摘要", {}))


def plan_path(config: Config, year: int) -> Path:
    return yearend_dir(config, year) / PLAN_FILE


def load_plan(config: Config, year: int) -> Plan | None:
    p = plan_path(config, year)
    if not p.is_file():
        return None
    try:
        return Plan.from_json(json.loads(p.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ArchiveError(f"整理方案 {p} 无法读取：{e}；请检查或从备份恢复（不要删除，否则件号会重新编排）") from e


def save_plan(config: Config, plan: Plan) -> Path:
    return atomic_write_text(plan_path(config, plan.year),
                             json.dumps(plan.to_json(), ensure_ascii=False, indent=2) + "\n")


def extend_plan(plan: Plan | None, records: list[Record], config: Config, *, actor: str,
                now: str) -> tuple[Plan, list[str], list[str], list[str]]:
    """Add every record not yet in the plan. Returns (plan, newly arranged references, of which
    late, warnings). A record that already carries a 档号 in its metadata (a lost plan file) keeps it."""
    year = records[0].year if records else (plan.year if plan else 0)
    if plan is None:
        plan = Plan(year=year, fonds=config.organisation.fonds_code, scheme=tuple(config.archive.scheme),
                    created=now, actor=actor)
    if tuple(plan.scheme) != tuple(config.archive.scheme):
        raise ArchiveError(f"{year} 年度已按分类方案 {'–'.join(plan.scheme)} 整理，配置现为 "
                           f"{'–'.join(config.archive.scheme)}；同一全宗内分类方案应保持稳定（DA/T 22-2015 5.2）")
    known = plan.by_reference()
    warnings: list[str] = []
    pending: dict[ClassKey, list[Record]] = {}
    for rec in records:
        key = class_of(rec.meta, config)
        if key.retention not in RETENTION_CODES:
            raise ArchiveError(f"{rec.reference} 的保管期限“{key.retention}”无效（应为 Y/D30/D10）")
        if rec.reference in known:
            pkey, entry = known[rec.reference]
            if pkey != key:
                raise ArchiveError(f"{rec.reference} 已编档号 {entry.code}，但其元数据中的分类已变为 {key.label}；"
                                   "档号编定后不能改变，请核对元数据")
            have = rec.meta.get("档号")
            if have and have != entry.code:
                raise ArchiveError(f"{rec.reference} 元数据中的档号 {have} 与整理方案中的 {entry.code} 不一致")
            continue
        have = rec.meta.get("档号")
        if have:
            # Arranged before, but the plan lost it: adopt the 档号 it carries.
            if not ARCHIVE_CODE_RE.match(have):
                raise ArchiveError(f"{rec.reference} 元数据中的档号“{have}”不合规范，无法沿用")
            item = int(have.rsplit("-", 1)[1])
            entries = plan.classes.setdefault(key, [])
            if any(e.item_no == item for e in entries):
                raise ArchiveError(f"{rec.reference} 的档号 {have} 与本类已有件号重复")
            entries.append(PlanEntry(item, have, rec.reference, bool(rec.meta.get("补归档")),
                                     rec.meta.get("备注") or "", rec.meta.get("整理时间") or now))
            entries.sort(key=lambda e: e.item_no)
            warnings.append(f"{rec.reference} 已有档号 {have}（整理方案中没有），已沿用")
            continue
        pending.setdefault(key, []).append(rec)
    newly, late = [], []
    for key in sorted(pending, key=ClassKey.sort_key):
        entries = plan.classes.setdefault(key, [])
        is_late = bool(entries)
        start = max((e.item_no for e in entries), default=0)
        for i, rec in enumerate(order_records(pending[key], config), start + 1):
            if i > 9999:
                raise ArchiveError(f"{key.label} 超过 9999 件，件号只有 4 位")
            note = LATE_NOTE.format(date=now[:10]) if is_late else ""
            entries.append(PlanEntry(i, archive_code(plan.fonds, key, i), rec.reference, is_late, note, now))
            newly.append(rec.reference)
            if is_late:
                late.append(rec.reference)
    return plan, newly, late, warnings


def reconcile_plan(plan: Plan, records: dict[str, Record], config: Config) -> list[str]:
    """Put right the entries of a 件 that carries its 档号 when the plan says otherwise (two 件
    swapped, a 档号 typed over): the record's metadata wins. Returns what was put right."""
    out = []
    for key in list(plan.classes):
        keep = []
        for e in plan.classes[key]:
            rec = records.get(e.reference)
            code = rec.meta.get("档号") if rec is not None else None
            if rec is None or not code or code == e.code or not ARCHIVE_CODE_RE.match(code):
                keep.append(e)
                continue
            out.append(f"整理方案中 {e.reference} 的档号被改为 {e.code}，已按该件元数据改回 {code}")
            fixed = PlanEntry(int(code.rsplit("-", 1)[1]), code, e.reference, bool(rec.meta.get("补归档")),
                              rec.meta.get("备注") or "", rec.meta.get("整理时间") or e.arranged_at)
            home = class_of(rec.meta, config)
            (keep if home == key else plan.classes.setdefault(home, [])).append(fixed)
        plan.classes[key] = keep
    for key in list(plan.classes):
        plan.classes[key].sort(key=lambda e: e.item_no)
        if not plan.classes[key]:
            del plan.classes[key]
    return out


def verify_records(records: list[Record], docs: dict, ledger, *, actor: str) -> tuple[list[str], list[str]]:
    """Before anything is arranged: each record as its anchor and its register row say, or refused.
    Records without an anchor are anchored as they are (archive.adopt). Returns (refusals, adopted)."""
    anchors = ledger.anchors()
    refused, adopted = [], []
    for rec in records:
        ref = rec.reference
        mine = anchors.get(ref, [])
        doc = docs.get(ref)          # None for a 收文 (its row is in the 收文登记簿)
        if not mine:
            why = adopt(rec, doc, mine, ledger, actor=actor)
            if why:
                refused.append(f"{ref} 未锚定，且不能按现有内容补锚定：{'；'.join(why)}")
            else:
                adopted.append(ref)
            continue
        state = check_anchor(rec, mine)
        # An interrupted year end left the filed version: it is stamped again, and anchored again.
        if state.state not in ("一致", f"{YEAREND_REASON}中断"):
            refused.append(f"{ref} 与登记簿锚定不符，不能整理归档：{state.summary()}")
        differ = register_problems(rec.meta, doc, archive_code=False)
        if differ:
            refused.append(f"{ref} 的元数据与发文登记簿不符，不能整理归档：{'；'.join(differ)}")
    return refused, adopted


def year_files(config: Config, plan: Plan, make_pdf: bool) -> dict[str, Path]:
    """The files of a year's arrangement the ledger anchors: the plan and each class's 目录 and 备考表."""
    from .catalogue import class_files

    out = {PLAN_FILE: plan_path(config, plan.year)}
    for key in plan.classes:
        for kind, path in class_files(config, plan.year, key).items():
            if make_pdf or kind == "xlsx" or path.is_file():
                out[path.name] = path
    return out


def year_anchor(anchors: dict, year: int):
    """The latest anchor of ``year``'s plan and 目录 among ``anchors`` (Ledger.anchors()), or None."""
    return (anchors.get(year_subject(year)) or [None])[-1]


def drift(config: Config, plan: Plan, anchored, *, make_pdf: bool = True) -> dict[str, str]:
    """The year's arrangement files that exist and are not as ``anchored`` (a ledger.Anchor) fixed
    them: name → "changed" (another digest) or "unanchored" (not in it; all of them without an anchor)."""
    want = anchored.anchor.get("files") or {} if anchored is not None else {}
    algorithm = anchored.anchor.get("algorithm") if anchored is not None else None
    out = {}
    for name, path in year_files(config, plan, make_pdf).items():
        if not path.is_file():
            continue
        if name not in want:
            out[name] = "unanchored"
        elif _digest(path, algorithm) != want[name]:
            out[name] = "changed"
    return out


def reorder_warnings(plan: Plan, records: dict[str, Record], config: Config) -> list[str]:
    """Recompute the order of each class's first arrangement from today's metadata; a difference
    is reported (the 件号 already given stay — 档号 are never renumbered)."""
    out = []
    for key, entries in plan.classes.items():
        first = [e for e in entries if not e.late]
        recs = [records[e.reference] for e in first if e.reference in records]
        if len(recs) != len(first):
            continue
        again = [r.reference for r in order_records(recs, config)]
        if again != [e.reference for e in first]:
            out.append(f"{key.label}：按现有元数据重新排列的顺序与已编件号不同（已编档号不变）")
    return out


# --- applying it ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClassSummary:
    key: ClassKey
    items: int
    files: int
    bytes: int
    pages: int
    late: int
    first_code: str
    last_code: str


@dataclass(frozen=True)
class ArchiveResult:
    year: int
    classes: tuple[ClassSummary, ...]
    newly: tuple[str, ...]              # references given a 档号 in this run
    late: tuple[str, ...]               # of which filed late (end of class, with a note)
    stamped: tuple[str, ...]            # references whose 正本 got the 归档章 in this run
    registered: tuple[str, ...]         # references whose 档号 went into the register in this run
    indexed: tuple[str, ...]            # references whose 档号 went into the search index in this run
    outputs: tuple[Path, ...]           # 目录 / 备考表 files (re)written in this run
    warnings: tuple[str, ...]
    plan: Path
    repaired: tuple[str, ...] = ()      # what was put right: an edited plan or 目录, records anchored late

    @property
    def changed(self) -> bool:
        return bool(self.newly or self.stamped or self.registered or self.indexed or self.outputs or self.repaired)


def stamp_values(meta: dict, key: ClassKey, entry: PlanEntry, config: Config) -> StampValues:
    from .archstamp import StampValues

    return StampValues(fonds=config.organisation.fonds_code, year=str(key.year), item=f"{entry.item_no:04d}",
                       unit=key.unit_name or "", retention=key.retention_name, pages=str(meta.get("页数") or ""))


def _stamp_record(rec: Record, key: ClassKey, entry: PlanEntry, store: ArchiveStore, config: Config,
                  actor: str, now: str, signer, ledger) -> Record:
    role = stamp_role(rec.meta)
    pdf = rec.file(role)
    if pdf is None or not pdf.is_file():
        raise ArchiveError(f"{rec.reference} 没有{role} PDF，无法加盖归档章")
    values = stamp_values(rec.meta, key, entry, config)
    work = config.work_dir / "yearend"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="stamp-", dir=work) as tmp:
        out = Path(tmp) / pdf.name
        placement = signer.stamp(pdf, out, values, entry.code)
        events = list(rec.meta.get("业务行为") or [])
        events.append({"业务行为": EVENT_NAMES["archived"], "行为时间": now, "机构人员名称": actor,
                       "行为描述": {"档号": entry.code, "件号": f"{entry.item_no:04d}", "归档章": "首页"}})
        updates = {
            "档号": entry.code,
            "件号": f"{entry.item_no:04d}",
            "归档章": {**values.to_json(), "页码": 1,
                       "位置毫米": dict(zip(("左", "上", "右", "下"), placement.rect_mm_from_top)),
                       "位置说明": "首页上端居中空白处" if placement.preferred else "首页上端已有内容，盖于首页其他空白处",
                       "签名理由": f"归档章 {entry.code}"},
            "整理时间": now,
            "整理人": actor,
            "补归档": entry.late,
            "备注": entry.note,
            "业务行为": events,
        }
        # The new version is anchored before it takes the old one's place: a crash between the two
        # leaves the old version and an anchor it does not match, which check names and a new run
        # of archive finishes (archive.check_anchor, "整理归档中断").
        return store.update_record(rec, replace={pdf.name: out}, meta_updates=updates,
                                   before_swap=lambda folder: ledger.anchor(
                                       rec.reference, record_anchor(folder), actor=actor, reason=YEAREND_REASON))


def sync_index(config: Config, year: int, records: dict[str, Record]) -> tuple[list[str], list[str]]:
    """Put each record's 档号 into the search index where the index does not hold it yet (so a
    search for the 档号 finds the document). Compared with the index itself, not with what this run
    stamped: a run killed after stamping is caught up by the next. Returns (updated references,
    warnings); an index that cannot be opened or written is a warning naming `gongwen reindex`, never
    a failed arrangement (the index is derived data)."""
    from ..errors import SearchError
    from ..search import IndexDoc, open_index, record_text

    try:
        with open_index(config) as index:
            held = index.archive_codes(year)
            stale = [r for ref, r in sorted(records.items()) if held.get(ref, "") != (r.meta.get("档号") or None)]
            index.add(IndexDoc.from_record(r.meta, record_text(r)) for r in stale)
    except SearchError as e:
        return [], [f"档号未能写入检索索引（{e}）；请运行 gongwen reindex"]
    return [r.reference for r in stale], []


def _received_to_arrange(config: Config, year: int, ledger, records: list[Record]):
    """(records to arrange, the 收文登记簿 rows of the 收文 among them, warnings). A 收文 record the
    收文登记簿 does not know stops the arrangement; a 收文 not yet 办结 waits (its 处理笺 is still
    being written) and is arranged by a later run, at the end of its class like any late filing."""
    incoming = [r for r in records if is_incoming(r.meta)]
    if not incoming:
        return records, {}, []
    from ..incoming import IncomingRegister

    rows = {r.reference: r for r in IncomingRegister(ledger, config).all(year)}
    unknown = [r.reference for r in incoming if r.reference not in rows]
    if unknown:
        raise ArchiveError(f"以下收文在档案中，但收文登记簿中没有：{'、'.join(unknown)}；请先核对收文登记簿")
    waiting = [r.reference for r in incoming if rows[r.reference].pending and not r.meta.get("档号")]
    warnings = [f"收文 {'、'.join(waiting)} 尚未办结，本次未整理；办结后再运行 gongwen archive {year}"] if waiting else []
    keep = [r for r in records if r.reference not in waiting]
    return keep, {r.reference: rows[r.reference] for r in keep if is_incoming(r.meta)}, warnings


def archive_year(config: Config, year: int, *, ledger, actor: str, progress: Progress | None = None,
                 make_pdf: bool = True) -> ArchiveResult:
    """Arrange ``year`` (see the module docstring) and write its 归档文件目录 and 备考表. Raises
    ArchiveError, naming the documents, when there is nothing to arrange or something stands in the
    way (documents still in progress, a record without its 正本)."""
    from .catalogue import write_catalogues

    store = ArchiveStore(config)
    records = list(store.records(year))
    if not records:
        raise ArchiveError(f"{year} 年度档案中没有任何已归档的文件，无可整理")
    sent = [r for r in records if not is_incoming(r.meta)]
    records, received, incoming_warnings = _received_to_arrange(config, year, ledger, records)
    by_ref = {r.reference: r for r in records}
    docs = {d.reference: d for d in ledger.documents(year)}
    busy = [f"{d.reference}（{d.status}）" for d in docs.values() if d.pending]
    if busy:
        raise ArchiveError(f"{year} 年度尚有文件未办结，不能整理归档：{'、'.join(busy)}；"
                           "请先办结（gongwen process/watch 会续办）或作废（gongwen void）")
    unknown = [r.reference for r in sent if r.reference not in docs]
    if unknown:
        raise ArchiveError(f"以下文件在档案中，但发文登记簿中没有：{'、'.join(unknown)}；请先核对登记簿")
    not_done = [f"{r.reference}（{docs[r.reference].status}）" for r in sent if docs[r.reference].stage != "indexed"]
    if not_done:
        raise ArchiveError(f"以下文件在登记簿中不是“已发”状态，不能编档号：{'、'.join(not_done)}")
    refused, adopted = verify_records(records, docs, ledger, actor=actor)
    if refused:
        raise ArchiveError(f"{year} 年度有 {len(refused)} 件与登记簿不符，拒绝整理归档（请从备份恢复原件，"
                           f"gongwen check {year} 列出详情）：{'；'.join(refused)}")
    repaired: list[str] = []
    if adopted:
        repaired.append(f"{len(adopted)} 件在锚定启用前归档，已按现有内容补锚定（此前的改动无法由锚定发现）："
                        f"{'、'.join(adopted[:10])}{' 等' if len(adopted) > 10 else ''}")

    now = now_iso()
    old = load_plan(config, year)
    before = json.dumps(old.to_json(), ensure_ascii=False, sort_keys=True) if old else None
    anchored = year_anchor(ledger.anchors(year_subject(year)), year)
    plan_drift = old is not None and PLAN_FILE in drift(config, old, anchored, make_pdf=make_pdf)
    if old is not None:
        repaired += reconcile_plan(old, by_ref, config)
        if plan_drift and anchored is not None:
            head = anchored.anchor.get("plan") or {}
            old.created, old.actor = head.get("首次整理时间", old.created), head.get("整理人", old.actor)
            repaired.append(f"{PLAN_FILE} 与登记簿锚定的不同（被改动或上次整理中断），已按各件元数据核对后重写")
    plan, newly, late, warnings = extend_plan(old, records, config, actor=actor, now=now)
    warnings = incoming_warnings + warnings
    missing = [e.reference for _, e in plan.entries() if e.reference not in by_ref]
    if missing:
        raise ArchiveError(f"整理方案中的文件在档案中找不到：{'、'.join(missing)}（文件被移走或删除？）")
    if newly:
        plan.status = "进行中"
        plan.updated = now
        save_plan(config, plan)     # before anything is stamped: a crash resumes this very plan
    warnings += reorder_warnings(plan, by_ref, config)

    stamped, registered = [], []
    signer = None       # opened on the first 件 that needs the stamp: a no-op run needs no passphrase
    entries = plan.entries()
    for n, (key, entry) in enumerate(entries, 1):
        rec = by_ref[entry.reference]
        if progress:
            progress(n - 1, len(entries), entry.code)
        if rec.meta.get("档号") != entry.code:
            if signer is None:
                from .archstamp import ArchiveSigner

                signer = ArchiveSigner(config)
            rec = _stamp_record(rec, key, entry, store, config, actor, now, signer, ledger)
            by_ref[entry.reference] = rec
            stamped.append(entry.reference)
        if entry.reference in received:
            if received[entry.reference].archive_code != entry.code:
                from ..incoming import IncomingRegister

                IncomingRegister(ledger, config).set_archive_code(entry.reference, entry.code, actor=actor)
                registered.append(entry.reference)
        elif docs[entry.reference].archive_code != entry.code:
            try:
                ledger.set_archive_code(entry.reference, entry.code, actor=actor)
            except LedgerError as e:
                raise ArchiveError(f"{entry.reference} 的档号未能记入登记簿：{e}") from e
            registered.append(entry.reference)
    if progress:
        progress(len(entries), len(entries), "检索索引")
    indexed, index_warnings = sync_index(config, year, by_ref)
    warnings += index_warnings
    if progress:
        progress(len(entries), len(entries), "目录")

    summaries = []
    for key in sorted(plan.classes, key=ClassKey.sort_key):
        es = plan.classes[key]
        recs = [by_ref[e.reference] for e in es]
        files = sum(len(r.meta.get("电子文件") or []) for r in recs)
        size = sum(int(f.get("计算机文件大小") or 0) for r in recs for f in r.meta.get("电子文件") or [])
        pages = sum(int(r.meta.get("页数") or 0) for r in recs)
        summaries.append(ClassSummary(key, len(es), files, size, pages, sum(e.late for e in es),
                                      es[0].code, es[-1].code))
    plan.totals = {
        "件数": sum(s.items for s in summaries), "文件数": sum(s.files for s in summaries),
        "总字节数": sum(s.bytes for s in summaries), "页数": sum(s.pages for s in summaries),
        "类别": {s.key.stem: {"件数": s.items, "文件数": s.files, "总字节数": s.bytes, "页数": s.pages,
                             "起止档号": [s.first_code, s.last_code]} for s in summaries},
    }
    # Files not as the ledger anchored them are written again from the records; before any anchor
    # (a year arranged by an older gongwen, or a first run cut short) all of them are.
    stale = {name: why for name, why in drift(config, plan, anchored, make_pdf=make_pdf).items() if name != PLAN_FILE}
    repaired += [f"{name} 与登记簿锚定的摘要不符（被改动），已按档案重写" for name, why in stale.items() if why == "changed"]
    outputs = write_catalogues(config, plan, by_ref, actor=actor, make_pdf=make_pdf, stale=stale)
    from ..supervise.yearend import file_year

    filed = file_year(ledger, config, year, actor=actor)       # the 督查督办台账 and 办结材料
    if filed is not None:
        outputs = [*outputs, *filed.written]
    plan.status = "完成"
    after = json.dumps(plan.to_json(), ensure_ascii=False, sort_keys=True)
    if after != before or plan_drift:
        # Compare without the timestamp so an unchanged year keeps its file byte for byte.
        plan.updated = now if (newly or stamped or registered or outputs or repaired) else plan.updated
        save_plan(config, plan)
    _anchor_year(config, plan, make_pdf, ledger, actor, anchored)
    return ArchiveResult(year=year, classes=tuple(summaries), newly=tuple(newly), late=tuple(late),
                         stamped=tuple(stamped), registered=tuple(registered), indexed=tuple(indexed),
                         outputs=tuple(outputs), warnings=tuple(repaired + warnings), plan=plan_path(config, year),
                         repaired=tuple(repaired))


def _digest(path: Path, algorithm: str | None = None) -> str:
    """A file's digest in the algorithm of the anchor it is compared with (the chain's for a new one)."""
    algorithm = algorithm or chain_algorithm()
    try:
        return digest_file(path, (algorithm,))[algorithm]
    except ValueError:          # an algorithm this machine lacks: never equal, so written again
        return ""


def _anchor_year(config: Config, plan: Plan, make_pdf: bool, ledger, actor: str, anchored) -> None:
    """Anchor the plan and the 目录 as they now are, unless the ledger already holds exactly that."""
    algorithm = chain_algorithm()
    files = {name: _digest(path, algorithm) for name, path in sorted(year_files(config, plan, make_pdf).items())
             if path.is_file()}
    if anchored is not None and files == anchored.anchor.get("files"):
        return
    ledger.anchor(None, {"algorithm": algorithm, "files": files,
                         "plan": {"首次整理时间": plan.created, "整理人": plan.actor}},
                  actor=actor, reason=YEAREND_REASON, subject=year_subject(plan.year))
