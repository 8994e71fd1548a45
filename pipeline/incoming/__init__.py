"""收文办理 (条例 art. 24): what comes in through 一个口子 — signed in, read, checked, registered,
filed with its 处理笺, indexed, then routed, instructed, answered.

    receive(file) → read (text layer | OCR | LibreOffice | OFD) → elements → 初审 (涉密 refused)
        → duplicate? (same file / same words / same 来文字号) → 登记 (收文号, atomic) → 处理笺
        → file (原件, PDF/A 副本, 全文, 处理笺, metadata) → index
    route (拟办) · instruct (批办; a 批示 that assigns work → 督办件) · done (办结, 复文号) · edit

Library first: the CLI (pipeline/cli/incoming.py), the watcher and the web app call these functions;
nothing here prints. Each function takes the run's ``process.Services`` (ledger, archive store,
converter, index, actor).
"""
from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .. import __version__
from ..archive import HANDLING_REASON, METADATA, ArchiveStore, Record, StoredFile, record_anchor
from ..config import RETENTION_CODES, Config
from ..drafts import patterns as P
from ..errors import GongwenError, IncomingError, SearchError
from ..model import Number, Problem
from .elements import Elements, read_elements
from .reading import SUFFIXES, Reading, read_document
from .register import (COLUMNS, DONE, HANDLING, STAGE_NAMES, WAITING, Incoming, IncomingRegister, IncomingRow,
                       Instruction, answered_by, register_listing, text_hash)
from .supervision import AddItem, create_item, default_add_item

__all__ = ["receive", "route", "instruct", "done", "edit", "Receipt", "IncomingRegister", "Incoming",
           "IncomingRow", "Instruction", "COLUMNS", "SUFFIXES", "SECRET_NOTE", "record_for", "catch_up",
           "WAITING", "HANDLING", "DONE", "UNTITLED", "answered_by", "health", "register_listing"]

log = logging.getLogger("gongwen.incoming")

SECRET_NOTE = "涉密文件不得进入本系统，请按机要渠道办理"
# DA/T 22-2015 5.5: a document without a usable title gets one written by the archivist, in [ ];
# until the clerk fills it in, the record says that it is missing.
UNTITLED = "［标题待补］"
ROLES = ("原件", "副本", "处理笺", "处理笺底稿", "全文")
SLIP_PDF, SLIP_DOCX, COPY_PDF = "处理笺.pdf", "处理笺.docx", "收文.pdf"

@dataclass(frozen=True)
class Receipt:
    """What happened to one received file; what `gongwen receive --json` prints."""

    file: str
    status: Literal["registered", "duplicate", "refused", "failed"]
    reference: str | None = None          # 收文号
    duplicate_of: str | None = None       # the earlier 收文 it repeats
    elements: dict = field(default_factory=dict)
    method: str | None = None             # 文本层 / OCR / …
    pages: int | None = None
    deadline: str | None = None
    problems: tuple[Problem, ...] = ()
    seconds: float | None = None

    def to_json(self) -> dict:
        return {"file": self.file, "status": self.status, "reference": self.reference,
                "duplicate_of": self.duplicate_of, "elements": self.elements, "method": self.method,
                "pages": self.pages, "deadline": self.deadline, "seconds": self.seconds,
                "problems": [{"element": p.element, "message": p.message, "severity": p.severity}
                             for p in self.problems]}


# --- receiving --------------------------------------------------------------------------------------

def _workdir(config: Config) -> Path:
    root = config.work_dir / "incoming"
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="recv-", dir=root))


def receive(path: Path, svc, *, copies: int | None = None, allow_duplicate: bool = False) -> Receipt:
    """Sign in one received file. Never moves or changes ``path``. Returns what happened; raises
    only on a programming error."""
    t0 = time.perf_counter()
    path = Path(path)
    config = svc.config

    def result(status, **kw) -> Receipt:
        return Receipt(file=str(path), status=status, seconds=round(time.perf_counter() - t0, 3), **kw)

    work = _workdir(config)
    try:
        try:
            reading = read_document(path, config, work, converter=_lazy_converter(svc))
        except IncomingError as e:
            return result("refused", problems=(Problem("收文", str(e)),))
        elements = read_elements(reading.lines, list(reading.items) or None)
        if elements.classified and not config.security.classified_approved:
            # Nothing of it stays: no number, no record, no index entry, no text in the event log —
            # only that a file with this digest was refused (who and when).
            svc.ledger.log("incoming_refused", actor=svc.actor,
                           detail={"原因": "涉密", "sha256": reading.sha256})
            return result("refused", problems=(Problem("密级", f"来文标有“{elements.secrecy}”：{SECRET_NOTE}"),))
        reg = IncomingRegister(svc.ledger, config)
        th = text_hash(reading.text)
        dup = reg.find_duplicate(file_hash=reading.sha256, text_hash_=th, number_key=P.number_key(elements.number),
                                 sender=elements.sender)
        notes = [Problem("收文", n, "warning") for n in reading.notes]
        missing = elements.missing()
        if missing:
            notes.append(Problem("要素", f"未能识别：{'、'.join(missing)}，请核对后用 gongwen incoming edit 补登", "warning"))
        if dup is not None and dup.same_file:
            row = dup.row
            if row.stage == "indexed":
                svc.ledger.log("incoming_duplicate", actor=svc.actor, reference=row.reference,
                               detail={"source": path.name, "how": dup.how})
                return result("duplicate", reference=row.reference, duplicate_of=row.reference,
                              elements=elements.to_json(), method=reading.method, pages=reading.pages,
                              problems=(Problem("重复", f"与 {row.reference} 重复（{dup.how}），未重复登记", "warning"),))
            log.info("%s: resuming the filing of %s", path.name, row.reference)
        elif dup is not None and not allow_duplicate:
            return result("duplicate", duplicate_of=dup.row.reference, elements=elements.to_json(),
                          method=reading.method, pages=reading.pages,
                          problems=(Problem("重复", f"与已登记的 {dup.row.reference}（{dup.row.title or '无标题'}）重复："
                                                  f"{dup.how}，未登记、未占用收文号；如确为另一份文件（如更正件），"
                                                  "请加 --allow-duplicate 另行登记"),))
        else:
            now = svc.ledger.now()
            row = reg.register(
                year=now.year, received_at=now.isoformat(timespec="seconds"), file_hash=reading.sha256,
                text_hash_=th, source_name=path.name, format_=reading.format, method=reading.method,
                pages=reading.pages, elements=elements, copies=copies, actor=svc.actor,
                duplicate_of=dup.row.reference if dup else None)
            if dup is not None:
                notes.append(Problem("重复", f"与 {dup.row.reference} 重复（{dup.how}），经确认另行登记", "warning"))
        try:
            record = _file(row, reading, svc, reg, work)
            if not _index(record, row, svc, reg):
                notes.append(Problem("检索", "已归档，但尚未编入检索索引；gongwen doctor 或下次启动时补做", "warning"))
        except GongwenError as e:
            # LibreOffice down, the disk full …: the 收文号 stays; receiving the same file again resumes.
            log.warning("%s: %s registered, filing not finished: %s", path.name, row.reference, e)
            return result("failed", reference=row.reference, elements=elements.to_json(), method=reading.method,
                          pages=reading.pages,
                          problems=tuple(notes) + (Problem("办理", f"{row.reference} 已登记但未归档（可再次收文续办）：{e}"),))
        return result("registered", reference=row.reference, elements=elements.to_json(), method=reading.method,
                      pages=reading.pages, deadline=row.deadline.isoformat() if row.deadline else None,
                      problems=tuple(notes), duplicate_of=row.duplicate_of)
    finally:
        shutil.rmtree(work, ignore_errors=True)


class _lazy_converter:
    """The run's converter, started only if a document needs LibreOffice (a PDF does not)."""

    def __init__(self, svc):
        self._svc = svc

    def convert(self, src: Path, out: Path) -> Path:
        return self._svc.converter.convert(src, out)


def _number(row: Incoming, config: Config) -> Number:
    return Number(series=config.incoming.series, year=row.year, seq=row.seq, text=row.reference,
                  reference=row.reference)


def record_for(svc, ident: str) -> Record | None:
    """The archive record of a 收文 (by 收文号)."""
    row = IncomingRegister(svc.ledger, svc.config).get(ident)
    if row is None:
        return None
    folder = svc.store.record_dir(_number(row, svc.config))
    return svc.store.load(folder) if folder.is_dir() else None


def _events(svc, ref: str) -> list[dict]:
    from ..ledger import EVENT_NAMES

    return [{"业务行为": EVENT_NAMES.get(e.event, e.event), "行为时间": e.time, "机构人员名称": e.actor,
             "行为描述": {k: v for k, v in (e.detail or {}).items() if k != "rows"}}
            for e in svc.ledger.events(ref)]


def metadata(row: Incoming, config: Config, *, reading: Reading | None, events: list[dict],
             base: dict | None = None) -> dict:
    """DA/T 46 core keys (as a 发文 record has them, so year end, search and the 四性检测 read both
    alike) plus the 收文 fields. ``base``: the record's current metadata, when it is being updated."""
    kind = row.kind or ""
    retention = config.archive.retention_for(config.incoming.series, kind)
    meta = dict(base or {})
    meta.update({
        "格式版本": "gongwen-record/1",
        "类型": "收文",
        "电子文件号": meta.get("电子文件号") or str(uuid.uuid5(
            uuid.NAMESPACE_URL, f"gongwen:{config.organisation.fonds_code}:{row.reference}")),
        "聚合层次": "文件",
        "全宗号": config.organisation.fonds_code,
        "立档单位名称": config.organisation.name,
        "文件编号": row.reference,
        "印制文号": row.sender_number or "",
        "机关代字": config.incoming.series,
        "年度": row.year,
        "顺序号": row.seq,
        "题名": row.title or UNTITLED,
        "责任者": row.sender or "",
        "日期": row.doc_date.isoformat() if row.doc_date else None,
        "文种": kind,
        "密级": row.secrecy or "",
        "紧急程度": row.urgency or "",
        "公开属性": "",
        "主送": row.main_to or "",
        "抄送": "",
        "签发人": [],
        "附件": list(row.attachments),
        "附注": "",
        "保管期限": meta.get("保管期限") or retention,
        "保管期限名称": RETENTION_CODES[meta.get("保管期限") or retention],
        "机构或问题": config.organisation.unit.name,
        "机构代码": config.organisation.unit.code,
        "页数": row.pages,
        "份数": row.copies,
        # 收文 fields (standards.md §6.2)
        "收文号": row.reference,
        "收文时间": row.received_at,
        "来文机关": row.sender or "",
        "来文字号": row.sender_number or "",
        "时限": row.deadline.isoformat() if row.deadline else None,
        "承办单位": row.lead_unit or "",
        "拟办意见": row.opinion or "",
        "批办意见": [i.to_json() for i in row.instructions],
        "办理状态": row.state,
        "办理结果": row.result or "",
        "复文号": row.reply_ref or "",
        "办结时间": row.done_at,
        "登记人": row.registrar,
        "内容摘要值": {"算法": "SHA-256", "值": row.file_hash},
        "业务行为": events,
        "生成程序": f"gongwen {__version__}",
    })
    if reading is not None:
        meta.update({"原件文件名": row.source_name, "来文格式": reading.format, "读取方式": reading.method,
                     "识别页数": reading.ocr_pages, "读取说明": list(reading.notes),
                     "档号": None, "件号": None, "电子签名": None, "归档时间": None,
                     "登记时间": row.received_at})
    return meta


def _file(row: Incoming, reading: Reading, svc, reg: IncomingRegister, work: Path) -> Record:
    """原件, the PDF/A 副本, the 处理笺 and 全文 into one record (idempotent), then stage filed."""
    config = svc.config
    existing = svc.store.record_dir(_number(row, config))
    if row.stage in ("filed", "indexed") and existing.is_dir():
        return svc.store.load(existing)
    from .slip import render_slip

    slip_docx, slip_pdf = render_slip(row, config, work / SLIP_DOCX, work / SLIP_PDF, converter=_lazy_converter(svc))
    suffix = reading.source.suffix.lower()
    original_fmt = reading.archival_format if reading.archival is None else reading.format
    # In the order of the 件 (DA/T 22-2015 5.1.2): the 处理笺 before the document, the 原件 before its copy.
    files = [StoredFile(slip_pdf, "处理笺", SLIP_PDF, "PDF/A-2b", f"gongwen {__version__} + LibreOffice"),
             StoredFile(reading.source, "原件", f"原件{suffix}", original_fmt, reading.creator or "来文单位（未知）")]
    if reading.archival is not None:
        maker = "OCRmyPDF + Tesseract" if reading.ocr_pages else (
            "LibreOffice" if reading.format in ("DOCX", "DOC", "WPS") else "OCRmyPDF（PDF/A 转换）")
        files.append(StoredFile(reading.archival, "副本", COPY_PDF, reading.archival_format, maker))
    files.append(StoredFile(slip_docx, "处理笺底稿", SLIP_DOCX, "DOCX (Office Open XML)", f"gongwen {__version__} (docxtpl)"))
    meta = metadata(row, config, reading=reading, events=_events(svc, row.reference))
    text = f"{row.title or UNTITLED}\n{reading.text}\n"
    record = svc.store.file_record(number=_number(row, config), content_hash=row.file_hash, files=files,
                                   metadata=meta, text=text)
    # The record's digests go into the chain with the filing (archive.py "Anchoring").
    reg.advance(row.reference, "filed", actor=svc.actor,
                detail={"path": str(record.path), "anchor": record_anchor(record.path)})
    return record


def _index(record: Record, row: Incoming, svc, reg: IncomingRegister | None = None) -> bool:
    from ..search import IndexDoc

    try:
        svc.index.add([IndexDoc.from_record(record.meta, record.text())])
    except (SearchError, OSError) as e:
        log.warning("%s filed but not indexed: %s", row.reference, e)
        return False
    reg = reg or IncomingRegister(svc.ledger, svc.config)
    reg.advance(row.reference, "indexed", actor=svc.actor)
    return True


def catch_up(svc) -> list[str]:
    """Index 收文 that were filed but not indexed (a crash, an index outage). Returns 收文号."""
    reg = IncomingRegister(svc.ledger, svc.config)
    out = []
    for row in reg.unfinished_filing():
        if row.stage == "filed":
            rec = record_for(svc, row.reference)
            if rec is not None and _index(rec, row, svc, reg):
                out.append(row.reference)
    return out


def health(config: Config) -> list:
    """For `gongwen doctor`: OCR is usable, no 收文 stopped between 登记 and 归档 (receiving the
    same file again resumes it), and every 收文 the register calls filed is in the archive (as
    archive.health does for the 发文). Never creates the register."""
    from ..ledger import Ledger, ledger_path
    from ..model import Finding
    from .ocr import INSTALL_HINT, tesseract_languages
    from .register import STAGE_NAMES, read_rows

    out = []
    langs = tesseract_languages()
    missing = [lang for lang in config.incoming.ocr_languages if lang not in (langs or set())]
    out.append(Finding("收文", "文字识别（Tesseract）可用", not missing,
                       f"已安装语言：{'、'.join(sorted(langs or ())) or '无'}" if not missing
                       else f"缺少 {'、'.join(missing)}；{INSTALL_HINT}"))
    if not ledger_path(config).is_file():
        return out
    with Ledger.open(config) as ledger:
        rows = read_rows(ledger)
    stuck = [r for r in rows if r.stage == "registered"]
    out.append(Finding("收文", "没有已登记未归档的收文", not stuck,
                       "；".join(f"{r.reference}（{r.source_name}）" for r in stuck[:20])
                       + ("；把原文件再收一次即可续办" if stuck else "")))
    store = ArchiveStore(config, recover=False)
    lost = [f"{r.reference}：收文登记簿记为“{STAGE_NAMES[r.stage]}”，档案中没有此件" for r in rows
            if r.stage != "registered" and not (store.record_dir(_number(r, config)) / METADATA).is_file()]
    out.append(Finding("收文", "收文登记簿所载已归档的收文都在档案中", not lost,
                       "；".join(lost[:20]) + (f" 等 {len(lost)} 件" if len(lost) > 20 else "")))
    return out


# --- handling ---------------------------------------------------------------------------------------

def _refresh(svc, row: Incoming) -> Incoming:
    """After a change in the register: the record's 处理笺 made again and its handling fields and
    events brought up to date (build-and-swap, still read-only), and its index entry."""
    rec = record_for(svc, row.reference)
    if rec is None:
        return row     # not filed yet: filing will take the current state
    from .slip import render_slip

    work = _workdir(svc.config)
    try:
        docx, pdf = render_slip(row, svc.config, work / SLIP_DOCX, work / SLIP_PDF, converter=_lazy_converter(svc))
        meta = metadata(row, svc.config, reading=None, events=_events(svc, row.reference), base=rec.meta)
        changed = {k: v for k, v in meta.items() if rec.meta.get(k) != v}
        rec = svc.store.update_record(rec, replace={SLIP_PDF: pdf, SLIP_DOCX: docx}, meta_updates=changed,
                                      before_swap=lambda folder: svc.ledger.anchor(
                                          row.reference, record_anchor(folder), actor=svc.actor, reason=HANDLING_REASON))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _index(rec, row, svc)
    return row


def route(svc, ident: str, *, lead_unit: str, opinion: str) -> Incoming:
    """拟办: the 承办单位 and the 拟办意见."""
    reg = IncomingRegister(svc.ledger, svc.config)
    row = reg.route(ident, lead_unit=lead_unit, opinion=opinion, actor=svc.actor)
    return _refresh(svc, row)


def instruct(svc, ident: str, *, leader: str, text: str, date: dt.date | None = None,
             assign_to: str | None = None, co_units: tuple[str, ...] = (), deadline: dt.date | None = None,
             add_item: AddItem | None = None) -> tuple[Incoming, str | None]:
    """批办 (领导批示). A 批示 that assigns work (``assign_to``: the unit it gives the work to)
    creates a 督办件 whose 来源 is this 收文. Returns the row and the 督办编号 (or None)."""
    leader, text = (leader or "").strip(), (text or "").strip()
    if not leader:
        raise IncomingError("批办须写明批示领导（--leader）")
    if not text:
        raise IncomingError("批办须写明批示内容（--text）")
    reg = IncomingRegister(svc.ledger, svc.config)
    row = reg.require(ident)
    date = date or svc.ledger.now().date()
    assign_to = (assign_to or "").strip() or None
    if assign_to:
        add_item = add_item or default_add_item()     # before anything is recorded: no half 批示
    same = next((k for k, i in enumerate(row.instructions)
                 if (i.leader, i.text, i.date) == (leader, text, date.isoformat())), None)
    if same is None:
        row = reg.instruct(ident, Instruction(leader=leader, text=text, date=date.isoformat(),
                                              recorded_by=svc.actor,
                                              recorded_at=svc.ledger.now().isoformat(timespec="seconds"),
                                              lead_unit=assign_to), actor=svc.actor)
        same = len(row.instructions) - 1
    item_ref = row.instructions[same].supervise
    if assign_to and add_item is not None and item_ref is None:   # (add_item is set with assign_to)
        # The same 批示 given again after a failure here resumes: its 督办件 is made once.
        try:
            item_ref = create_item(svc.ledger, svc.config, add_item=add_item, incoming_ref=row.reference,
                                   number=same + 1, title=row.title, leader=leader, text=text, date=date,
                                   lead_unit=assign_to, co_units=co_units, deadline=deadline, actor=svc.actor)
        except GongwenError as e:
            _refresh(svc, row)
            raise IncomingError(f"{row.reference} 的批示已记录，但督办件未能建立：{e}；改正后把同一批示再记一次即可补建"
                                "（不会重复记录批示）") from e
        row = reg.set_supervision(row.reference, same, item_ref, actor=svc.actor)
    return _refresh(svc, row), item_ref


def done(svc, ident: str, *, result: str = "", reply: str | None = None) -> Incoming:
    """办结, with the 办理结果 and, for a 请示 necessarily, the 复文号 (a 发文 of this office)."""
    reg = IncomingRegister(svc.ledger, svc.config)
    row = reg.done(ident, result=result, reply_ref=reply, actor=svc.actor)
    return _refresh(svc, row)


def edit(svc, ident: str, **changes) -> Incoming:
    """补登/更正 what the reader could not read: sender, sender_number, title, main_to, doc_date,
    kind, urgency, copies."""
    changes = {k: v for k, v in changes.items() if v not in (None, "")}
    if "sender_number" in changes:
        number = P.squeeze(str(changes["sender_number"]))
        if not P.NUMBER_LOOSE_RE.match(number):
            raise IncomingError(f"来文字号“{changes['sender_number']}”不是发文字号的写法（如 衡政发〔2015〕12号）")
        changes["sender_number"] = P.repair_numbers(number)
    if "title" in changes and changes.get("kind") is None:
        from ..config import KINDS

        changes["kind"] = P.kind_from_title(changes["title"], KINDS)
        if changes["kind"] is None:
            del changes["kind"]
    reg = IncomingRegister(svc.ledger, svc.config)
    row = reg.edit(ident, changes, actor=svc.actor)
    return _refresh(svc, row)


def pending_elements(row: Incoming) -> list[str]:
    return row.missing()


def stage_name(stage: str) -> str:
    return STAGE_NAMES.get(stage, stage)


__all__ += ["Elements", "Reading", "metadata", "pending_elements", "stage_name"]
