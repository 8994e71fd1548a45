"""The archive store: one self-describing, read-only folder per issued document, with fixity.

Layout (readable without gongwen — a file browser and a text editor are enough)::

    archive/<年度>/<机关代字>/<文号>/
        正本.pdf        the stamped, signed PDF/A (what was sent)
        定稿.docx       the final unstamped .docx
        原稿.<ext>      the draft exactly as the secretary dropped it
        全文.txt        plain text of the document (title, 主送, body, attachments, 署名, date)
        metadata.json   DA/T 46 core metadata in Chinese keys, per-file fixity (SM3 + SHA-256,
                        each value with its algorithm), the handling events

A record is built in a temporary folder inside the archive and renamed into place in one step, then
made read-only; a crash leaves either no record or a whole one. A record changes again only through
``update_record``, by the same build-and-swap: at year end (档号 and the 归档章) and, for a 收文, as
its handling goes on (its 处理笺 and the handling fields).

Anchoring: metadata.json carries the files' digests, but nothing vouched for metadata.json itself —
an edited 题名, or an edited 全文.txt with its digest updated to match, passed every check. So each
version of a record is anchored in the ledger's hash-chained event log: ``record_anchor`` (the
digest of metadata.json and of every file in the folder) goes into the filing event when the record
is filed (the 发文's "filed", the 收文's "incoming_filed"), and into an "anchored" event just before
``update_record`` puts a new version in place (the year end's, a 收文's handling). ``check_anchor``
compares a record with its latest anchor; ``register_problems`` compares a 发文's metadata with its row
in the 发文登记簿 (itself protected by the chain). Records filed before anchors existed are reported as
未锚定 until ``adopt`` anchors them as they are (gongwen doctor --repair, or gongwen archive), with an
event that says so: changes made before that moment cannot be found.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from glob import escape as glob_escape
from pathlib import Path
from typing import Callable, Iterator, Protocol, runtime_checkable

from . import __version__
from .config import RETENTION_CODES, Config
from .errors import ArchiveError
from .fsutil import atomic_copy, atomic_write_text, make_readonly, make_writable
from .hashing import chain_algorithm, digest_file, fixity_algorithms, sm3_available
from .model import Draft, Finding, Number

SCHEMA = "gongwen-record/1"
METADATA = "metadata.json"
TEXT = "全文.txt"
ALGORITHM_NAMES = {"sm3": "SM3", "sha256": "SHA-256"}
ALGORITHM_KEYS = {v: k for k, v in ALGORITHM_NAMES.items()}
FORMATS = {".pdf": "PDF", ".docx": "DOCX", ".md": "Markdown", ".markdown": "Markdown",
           ".txt": "纯文本", ".qmd": "Markdown", ".yaml": "YAML", ".yml": "YAML", ".json": "JSON"}
# The metadata a person reads first, in this order (`gongwen show`, the 文件 page).
SUMMARY_KEYS = ("文件编号", "档号", "题名", "文种", "责任者", "日期", "密级", "紧急程度", "保管期限名称", "主送",
                "抄送", "签发人", "附件", "页数", "份数", "印发机关", "印发日期", "归档时间")
# The same for a 收文 (pipeline/incoming): the sender's 文号 and name, and how it was handled.
INCOMING_SUMMARY_KEYS = ("文件编号", "档号", "题名", "文种", "来文机关", "来文字号", "日期", "收文时间", "密级",
                         "紧急程度", "时限", "保管期限名称", "主送", "附件", "页数", "承办单位", "办理状态", "复文号",
                         "归档时间")


def summary_keys(meta: dict) -> tuple[str, ...]:
    """The metadata a person is shown first (CLI show, the web app's document page)."""
    return INCOMING_SUMMARY_KEYS if meta.get("类型") == "收文" else SUMMARY_KEYS


TMP_PREFIX = ".tmp-"     # a record being built: never the only copy, safe to remove
OLD_PREFIX = ".old-"     # the previous version during a year-end swap (see update_record)
INCOMING = "收文"          # metadata 类型 of a 收文 record (pipeline/incoming)
# Why a record was anchored (the "reason" of its anchor event). A record equal to an earlier anchor
# while the latest is one of UPDATE_REASONS is an update cut short between anchoring and swapping.
FILED_REASON = "归档"
YEAREND_REASON = "整理归档"
HANDLING_REASON = "收文办理"
UPDATE_REASONS = {YEAREND_REASON: "请重新运行 gongwen archive", HANDLING_REASON: "请再做一次该收文最近的办理操作"}
ADOPT_REASON = "补锚定"
ADOPT_NOTE = "锚定启用前归档的记录，按当前内容补锚定；此前的改动无法由锚定发现"
UNANCHORED = ("未锚定：登记簿中没有此件内容的锚定记录（锚定启用前归档）；"
              "运行 gongwen doctor --repair 或 gongwen archive 补锚定")
# The metadata that is also in the 发文登记簿: (metadata key, register field, label).
REGISTER_FIELDS = (("题名", "title", "题名"), ("文种", "kind", "文种"), ("日期", "doc_date", "日期"),
                   ("密级", "secrecy", "密级"), ("紧急程度", "urgency", "紧急程度"), ("主送", "main_to", "主送"),
                   ("抄送", "cc", "抄送"), ("签发人", "signers", "签发人"), ("份数", "copies", "份数"))


@dataclass(frozen=True)
class StoredFile:
    """A file to put in a record: where it is now, its role (稿本) and its name in the record."""

    source: Path
    role: str            # 正本 / 定稿 / 原稿
    name: str            # file name inside the record folder
    format: str | None = None      # 格式信息, e.g. "PDF/A-2b"; default from the suffix
    creator: str | None = None     # 文档创建程序


@dataclass(frozen=True)
class FixityResult:
    file: str
    algorithm: str       # SM3 / SHA-256
    expected: str
    actual: str | None   # None: the file is missing, or this machine cannot compute the algorithm
    present: bool = True

    @property
    def ok(self) -> bool:
        return self.actual == self.expected

    @property
    def verified(self) -> bool:
        """False when the file is there but its algorithm is not available here (no SM3 in OpenSSL)."""
        return not self.present or self.actual is not None

    @property
    def status(self) -> str:
        if not self.present:
            return "文件缺失"
        if self.actual is None:
            return "未核验（本机不支持该算法）"
        return "一致" if self.ok else "摘要不符"


@dataclass(frozen=True)
class Record:
    """One filed document: its folder and its metadata."""

    path: Path
    meta: dict

    @property
    def reference(self) -> str:
        return self.meta["文件编号"]

    @property
    def year(self) -> int:
        return int(self.meta["年度"])

    def file(self, role: str) -> Path | None:
        for f in self.meta.get("电子文件", []):
            if f.get("稿本") == role:
                return self.path / f["计算机文件名"]
        return None

    def required_file(self, role: str) -> Path:
        """``file(role)`` of a record that must have it (a 发文's 正本 and 定稿)."""
        path = self.file(role)
        if path is None:
            raise ArchiveError(f"档案 {self.path} 的元数据中没有{role}")
        return path

    def text(self) -> str:
        p = self.path / TEXT
        return p.read_text(encoding="utf-8") if p.exists() else ""

    def verify(self) -> list[FixityResult]:
        """Recompute every file's digests against the stored values, algorithm by algorithm."""
        out: list[FixityResult] = []
        for f in self.meta.get("电子文件", []):
            path = self.path / f["计算机文件名"]
            stored = {ALGORITHM_KEYS.get(d["算法"], d["算法"].lower()): d["值"] for d in f.get("数字摘要", [])}
            usable = tuple(a for a in stored if a in ("sm3", "sha256") and a in fixity_algorithms())
            present = path.is_file()
            actual = digest_file(path, usable) if present and usable else {}
            for algo in stored:
                out.append(FixityResult(file=f["计算机文件名"], algorithm=ALGORITHM_NAMES.get(algo, algo),
                                        expected=stored[algo], actual=actual.get(algo), present=present))
        return out


def draft_text(draft: Draft) -> str:
    """The document's plain text for 全文.txt and the search index."""
    lines: list[str] = []
    if draft.title:
        lines.append(draft.title)
    if draft.main_to:
        lines.append(f"{draft.main_to}：")
    if draft.meeting and draft.meeting.lead:
        lines.append(draft.meeting.lead)
    for b in draft.body:
        lines.append(b.text if b.kind != "table" else "\n".join("\t".join(r) for r in b.rows))
    if draft.meeting:
        for i, d in enumerate(draft.meeting.decisions, 1):
            lines.append(f"{i}. {d.text}" + (f"（责任单位：{d.owner}）" if d.owner else ""))
    for line in draft.attachment_note:
        lines.append(line)
    if draft.signature:
        lines.append(draft.signature)
    if draft.date_text:
        lines.append(draft.date_text)
    for a in draft.attachments:
        if a.blocks:
            lines.append(f"附件{a.number or ''} {a.name}")
            lines += [b.text if b.kind != "table" else "\n".join("\t".join(r) for r in b.rows) for b in a.blocks]
    return "\n".join(lines) + "\n"


def responsible(meta: dict) -> str:
    """The 责任者 as one text (目录, EEP, checks): a list (联合行文, the 主办机关 first) joined with
    "、"; records filed before it became a list hold one name."""
    v = meta.get("责任者") or ""
    return "、".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _retention_code(draft: Draft, config: Config, series: str) -> str:
    written = (draft.retention or "").strip()
    if written in RETENTION_CODES:
        return written
    for code, label in RETENTION_CODES.items():
        if written == label:
            return code
    return config.archive.retention_for(series, draft.kind or "")


def record_metadata(*, number: Number, draft: Draft, config: Config, pages: int | None,
                    signature: dict | None, events: list[dict], signoff: dict | None = None) -> dict:
    """The DA/T 46 core this document can know, in Chinese keys (README "The archive"). ``signoff``:
    the 业务实体 签发 (签发人, 签发意见, 签发日期, 会签 …), None when no 签发 was recorded."""
    series = config.series[number.series]
    retention = _retention_code(draft, config, number.series)
    return {
        "格式版本": SCHEMA,
        "电子文件号": str(uuid.uuid5(uuid.NAMESPACE_URL, f"gongwen:{config.organisation.fonds_code}:{number.reference}")),
        "聚合层次": "文件",
        "全宗号": config.organisation.fonds_code,
        "立档单位名称": config.organisation.name,
        "文件编号": number.reference,
        "印制文号": number.text,
        "机关代字": number.series,
        "年度": number.year,
        "顺序号": number.seq,
        "题名": draft.title,
        "责任者": list(draft.issuers(series.issuer)),      # 联合行文: every organ, the 主办机关 first
        "日期": _iso(draft.date),
        "文种": draft.kind,
        "密级": draft.secrecy or "",
        "紧急程度": draft.urgency or "",
        "公开属性": draft.publicity or "",
        "主送": draft.main_to or "",
        "抄送": draft.cc or "",
        "签发人": list(draft.signed_by),
        "签发": signoff,
        "附件": [a.name for a in draft.attachments],
        "附注": draft.note or "",
        "保管期限": retention,
        "保管期限名称": RETENTION_CODES[retention],
        "机构或问题": config.organisation.unit.name,
        "机构代码": config.organisation.unit.code,
        "页数": pages,
        "份数": draft.copies,
        "印发机关": draft.printer or series.printer or "",
        "印发日期": _iso(draft.print_date),
        "拟稿部门": draft.drafter_unit or "",
        "拟稿人": draft.drafter or "",
        "原稿文件名": Path(draft.source).name,
        "内容摘要值": {"算法": "SHA-256", "值": draft.content_hash()},
        "档号": None,
        "件号": None,
        "电子签名": signature,
        "业务行为": events,
        "归档时间": None,
        "登记时间": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "生成程序": f"gongwen {__version__}",
    }


def _file_entry(path: Path, f: StoredFile) -> dict:
    digests = digest_file(path)
    return {
        "稿本": f.role,
        "计算机文件名": f.name,
        "计算机文件大小": path.stat().st_size,
        "格式信息": f.format or FORMATS.get(path.suffix.lower(), path.suffix.lstrip(".").upper()),
        "文档创建程序": f.creator or "",
        "数字摘要": [{"算法": ALGORITHM_NAMES[a], "值": v} for a, v in digests.items()],
    }


def _dump(meta: dict) -> str:
    return json.dumps(meta, ensure_ascii=False, indent=2) + "\n"


@runtime_checkable
class Store(Protocol):
    """What the pipeline asks of the archive store (the seam for another store, e.g. object storage):
    file a record, find and load it, update it build-then-rename. `ArchiveStore` (folders on disk) is
    the implementation; tests/test_seams.py holds it to this surface."""

    def record_dir(self, number: Number) -> Path: ...
    def file_record(self, *, number: Number, content_hash: str, files: list[StoredFile], metadata: dict,
                    text: str) -> Record: ...
    def load(self, folder: Path) -> Record: ...
    def find(self, ident: str, *, scan: bool = True) -> Record | None: ...
    def update_record(self, record: Record, *, replace: dict[str, Path] | None = None,
                      meta_updates: dict | None = None, formats: dict[str, str] | None = None,
                      before_swap: Callable[[Path], None] | None = None) -> Record: ...


class ArchiveStore:
    """Files documents into ``config.archive_dir`` and reads them back."""

    def __init__(self, config: Config, *, recover: bool = True):
        """``recover=False``: only read — an interrupted year-end swap is left for a repair (the
        read-only ``gongwen doctor`` reports it)."""
        self.config = config
        self.root = config.archive_dir
        self.recovered: list[Path] = self.recover() if recover else []

    def recover(self) -> list[Path]:
        """Finish a year-end swap a crash interrupted: a ".old-<文号>" whose "<文号>" is missing is
        the only copy and goes back; one whose "<文号>" exists is the superseded version and goes.
        Returns the records put back."""
        restored: list[Path] = []
        if not self.root.is_dir():
            return restored
        for backup in sorted(self.root.glob(f"[0-9]*/*/{OLD_PREFIX}*")):
            target = backup.with_name(backup.name[len(OLD_PREFIX):])
            if target.exists():
                _remove_tree(backup)
            else:
                os.rename(backup, target)
                restored.append(target)
        return restored

    # --- paths ---------------------------------------------------------------------------------
    def record_dir(self, number: Number) -> Path:
        return self.root / str(number.year) / number.series / number.reference

    # --- writing ---------------------------------------------------------------------------------
    def file(self, *, number: Number, draft: Draft, files: list[StoredFile], metadata: dict,
             text: str) -> Record:
        """File one document. Idempotent: an existing record for the same number and the same
        draft content is returned as it is; a different one is an error (never overwritten)."""
        return self.file_record(number=number, content_hash=draft.content_hash(), files=files,
                                metadata=metadata, text=text)

    def file_record(self, *, number: Number, content_hash: str, files: list[StoredFile], metadata: dict,
                    text: str) -> Record:
        """File one record of any kind (a 发文, a 收文) under ``number``; ``content_hash`` (the
        metadata's 内容摘要值) makes it idempotent as ``file`` is."""
        final = self.record_dir(number)
        if final.exists():
            rec = self.load(final)
            if rec.meta.get("内容摘要值", {}).get("值") != content_hash:
                raise ArchiveError(f"档案中已有 {number.reference}，且内容不同；拒绝覆盖（{final}）")
            return rec
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f"{TMP_PREFIX}{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            entries = []
            for f in files:
                dest = tmp / f.name
                atomic_copy(f.source, dest)
                entries.append(_file_entry(dest, f))
            atomic_write_text(tmp / TEXT, text)
            entries.append(_file_entry(tmp / TEXT, StoredFile(tmp / TEXT, "全文", TEXT, "纯文本 UTF-8",
                                                              f"gongwen {__version__}")))
            meta = {**metadata, "电子文件": entries,
                    "归档时间": dt.datetime.now().astimezone().isoformat(timespec="seconds")}
            atomic_write_text(tmp / METADATA, _dump(meta))
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        make_readonly(final)
        return Record(final, meta)

    def update_record(self, record: Record, *, replace: dict[str, Path] | None = None,
                      meta_updates: dict | None = None, formats: dict[str, str] | None = None,
                      before_swap: Callable[[Path], None] | None = None) -> Record:
        """Year-end changes to a filed record (档号, 件号, a PDF with the 归档章): build the new
        version beside the old one, swap them with two renames, and keep it read-only.
        ``replace`` maps a file name in the record to its new content; digests are recomputed.
        ``before_swap(folder)`` is called with the finished new version before it takes the old
        one's place (the year end anchors it there); if it raises, nothing is swapped."""
        replace = replace or {}
        old = record.path
        tmp = old.parent / f"{TMP_PREFIX}{uuid.uuid4().hex}"
        shutil.copytree(old, tmp)
        make_writable(tmp)
        for p in tmp.rglob("*"):
            make_writable(p)
        try:
            meta = json.loads((tmp / METADATA).read_text(encoding="utf-8"))
            for name, src in replace.items():
                atomic_copy(src, tmp / name)
            entries = []
            for e in meta.get("电子文件", []):
                if e["计算机文件名"] in replace or formats and e["计算机文件名"] in formats:
                    path = tmp / e["计算机文件名"]
                    new = _file_entry(path, StoredFile(path, e["稿本"], e["计算机文件名"],
                                                       (formats or {}).get(e["计算机文件名"], e.get("格式信息")),
                                                       e.get("文档创建程序")))
                    entries.append(new)
                else:
                    entries.append(e)
            meta["电子文件"] = entries
            meta.update(meta_updates or {})
            atomic_write_text(tmp / METADATA, _dump(meta))
            if before_swap is not None:
                before_swap(tmp)
        except BaseException:
            _remove_tree(tmp)
            raise
        # The swap: the old version steps aside under a name that says whose it is, the new one
        # takes its place. A crash between the two renames leaves ".old-<文号>" and no "<文号>":
        # recover() (run whenever the store is opened) puts the old version back.
        backup = old.parent / f"{OLD_PREFIX}{old.name}"
        make_writable(old)
        os.rename(old, backup)
        try:
            os.rename(tmp, old)
        except BaseException:
            os.rename(backup, old)
            _remove_tree(tmp)
            make_readonly(old)
            raise
        _remove_tree(backup)
        make_readonly(old)
        return Record(old, meta)

    # --- reading ---------------------------------------------------------------------------------
    def load(self, folder: Path) -> Record:
        try:
            meta = json.loads((folder / METADATA).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise ArchiveError(f"无法读取档案元数据 {folder / METADATA}: {e}") from e
        return Record(folder, meta)

    def records(self, year: int | None = None) -> Iterator[Record]:
        """Every record (of one year), in 年度/机关代字/文号 folder order; streams, never loads all."""
        if not self.root.is_dir():
            return
        years = [self.root / str(year)] if year is not None else sorted(
            p for p in self.root.iterdir() if p.is_dir() and p.name.isdigit())
        for ydir in years:
            if not ydir.is_dir():
                continue
            for sdir in sorted(p for p in ydir.iterdir() if p.is_dir() and not p.name.startswith(".")):
                for rdir in sorted(p for p in sdir.iterdir() if p.is_dir() and not p.name.startswith(".")):
                    if (rdir / METADATA).exists():
                        yield self.load(rdir)

    def find(self, ident: str, *, scan: bool = True) -> Record | None:
        """A record by its 文号 (reference or printed form) or its 档号. With ``scan=False`` only the
        folder named by the reference is looked at (no walk over every record's metadata: for a server
        answering arbitrary text; ask the search index for a 档号 or a printed 文号 instead)."""
        ident = ident.strip()
        if ident and "/" not in ident and "\\" not in ident and not ident.startswith(".") and self.root.is_dir():
            # Records are folders named by their reference: look there before reading any metadata.
            for folder in self.root.glob(f"[0-9]*/*/{glob_escape(ident)}"):
                if (folder / METADATA).is_file():
                    return self.load(folder)
        if not scan:
            return None
        for rec in self.records():
            m = rec.meta
            if ident in (m.get("文件编号"), m.get("档号")):
                return rec
        for rec in self.records():
            if ident == rec.meta.get("印制文号"):
                return rec
        return None

    def pending_swaps(self) -> list[Path]:
        """".old-" folders of a year-end swap a crash interrupted (``recover`` finishes them)."""
        if not self.root.is_dir():
            return []
        return sorted(self.root.glob(f"[0-9]*/*/{OLD_PREFIX}*"))

    def leftovers(self) -> list[Path]:
        """Temporary folders left by a crash in the middle of filing (safe to remove)."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.glob(f"*/*/{TMP_PREFIX}*"))

    def clean_leftovers(self) -> list[Path]:
        gone = self.leftovers()
        for p in gone:
            _remove_tree(p)
        return gone


# --- anchoring ------------------------------------------------------------------------------------

def record_anchor(folder: Path, algorithm: str | None = None) -> dict:
    """What the ledger fixes of the record in ``folder`` as it is on disk: the digest of its
    metadata.json and of every other file in the folder (the folder's listing, so that a file added
    later is a change too). SM3 where this machine has it (the chain's algorithm), named."""
    algorithm = algorithm or chain_algorithm()
    files = {p.name: digest_file(p, (algorithm,))[algorithm]
             for p in sorted(Path(folder).iterdir()) if p.is_file() and p.name != METADATA}
    return {"algorithm": algorithm, "metadata": digest_file(Path(folder) / METADATA, (algorithm,))[algorithm],
            "files": files}


@dataclass(frozen=True)
class AnchorCheck:
    """A record against its anchors. ``state``: 一致, 不符, 整理归档中断 / 收文办理中断, 未锚定, or 未核验 (the anchor's
    algorithm is missing here); ``problems`` are (file, message) pairs."""

    state: str
    problems: tuple[tuple[str, str], ...] = ()
    event_id: int | None = None

    @property
    def ok(self) -> bool | None:
        return None if self.state == "未核验" else self.state == "一致"

    def summary(self) -> str:
        if self.state == "一致":
            return f"与登记簿锚定一致（事件 #{self.event_id}）"
        return "；".join(f"{m}" for _, m in self.problems) or self.state


def _current(folder: Path, algorithm: str, fixity: list[FixityResult] | None) -> dict | None:
    """The record as ``record_anchor`` would see it now, reusing digests ``fixity`` already computed."""
    if algorithm not in ("sm3", "sha256") or (algorithm == "sm3" and not sm3_available()):
        return None
    known = {r.file: r.actual for r in fixity or () if r.actual is not None
             and ALGORITHM_KEYS.get(r.algorithm) == algorithm}
    files = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.name != METADATA:
            files[p.name] = known.get(p.name) or digest_file(p, (algorithm,))[algorithm]
    return {"algorithm": algorithm, "metadata": digest_file(folder / METADATA, (algorithm,))[algorithm],
            "files": files}


def _differences(now: dict, anchored: dict, event_id: int) -> list[tuple[str, str]]:
    at = f"锚定于事件 #{event_id}"
    out = []
    if now["metadata"] != anchored.get("metadata"):
        out.append((METADATA, f"{METADATA} 与登记簿锚定的摘要不符（元数据被改动；{at}）"))
    want = anchored.get("files") or {}
    for name in sorted(set(want) | set(now["files"])):
        if name not in now["files"]:
            out.append((name, f"{name} 缺失（{at}时有此文件）"))
        elif name not in want:
            out.append((name, f"{name} 不在登记簿锚定的文件之列（{at}之后加入）"))
        elif now["files"][name] != want[name]:
            out.append((name, f"{name} 与登记簿锚定的摘要不符（文件被改动；{at}）"))
    return out


def check_anchor(record: Record, anchors: list, fixity: list[FixityResult] | None = None) -> AnchorCheck:
    """The record against its latest anchor (``anchors``: ledger.Anchor list, oldest first). A record
    still equal to an earlier anchor while the latest is a year-end one is an interrupted year end
    (the new version was anchored, the swap did not happen), named as such — it fails all the same."""
    if not anchors:
        return AnchorCheck("未锚定", (("", UNANCHORED),))
    latest = anchors[-1]
    now = _current(record.path, latest.anchor.get("algorithm"), fixity)
    if now is None:
        return AnchorCheck("未核验", (("", f"锚定所用算法 {latest.anchor.get('algorithm')} 本机不支持，未核验"),),
                           latest.event_id)
    diffs = _differences(now, latest.anchor, latest.event_id)
    if not diffs:
        return AnchorCheck("一致", (), latest.event_id)
    if latest.reason in UPDATE_REASONS:
        for earlier in reversed(anchors[:-1]):
            before = _current(record.path, earlier.anchor.get("algorithm"), fixity)
            if before is not None and not _differences(before, earlier.anchor, earlier.event_id):
                return AnchorCheck(f"{latest.reason}中断", (("", f"{latest.reason}中断：记录仍是事件 #{earlier.event_id} "
                                                              f"锚定的版本，登记簿已锚定事件 #{latest.event_id} 的新版本；"
                                                              f"{UPDATE_REASONS[latest.reason]}"),),
                                   latest.event_id)
            if earlier.reason not in UPDATE_REASONS:
                break
    return AnchorCheck("不符", tuple(diffs), latest.event_id)


def _register_value(doc, field: str) -> str:
    v = getattr(doc, field)
    if isinstance(v, tuple):
        return "、".join(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return "" if v is None else str(v)


def _meta_value(meta: dict, key: str) -> str:
    v = meta.get(key)
    if isinstance(v, list):
        return "、".join(str(x) for x in v)
    return "" if v is None else str(v)


def register_problems(meta: dict, doc, *, archive_code: bool = True) -> list[str]:
    """Where the record's metadata says something else than its row in the 发文登记簿 (``doc``, a
    ledger.DocumentRow, or None when the register has no such number). ``archive_code=False``
    leaves the 档号 out (the year end, which is what writes it to both)."""
    if meta.get("类型") == INCOMING:
        return []           # a 收文's row is in the 收文登记簿 (its own book), not compared here
    if doc is None:
        return [f"发文登记簿中没有 {meta.get('文件编号')}"]
    out = []
    for key, field_, label in REGISTER_FIELDS:
        m, r = _meta_value(meta, key), _register_value(doc, field_)
        if m != r:
            out.append(f"元数据的{label}“{m}”与发文登记簿的“{r}”不符")
    code = meta.get("档号")
    if not archive_code:
        return out
    if doc.archive_code and code != doc.archive_code:
        out.append(f"元数据的档号“{code or ''}”与发文登记簿的“{doc.archive_code}”不符")
    elif code and not doc.archive_code:
        out.append(f"元数据的档号“{code}”尚未记入发文登记簿（整理归档中断？请重新运行 gongwen archive）")
    return out


@dataclass(frozen=True)
class Audit:
    """One record against its own digests, its anchor and its register row (``audit``): what
    `gongwen show` reports, and what any other front end should."""

    fixity: list[FixityResult]
    anchor: AnchorCheck | None        # None: there is no register to compare with
    register: list[str]               # where the metadata differs from the 发文登记簿

    @property
    def ok(self) -> bool:
        return (all(r.ok for r in self.fixity if r.verified) and not self.register
                and self.anchor is not None and self.anchor.ok is not False)


def audit(record: Record, ledger) -> Audit:
    """Check one record: fixity, its latest anchor, its metadata against the register (``ledger``
    may be None when the instance has no register: then that is the finding)."""
    fixity = record.verify()
    if ledger is None:
        return Audit(fixity, None, ["登记簿不存在，无法与登记簿比对"])
    anchored = check_anchor(record, ledger.anchors(record.reference).get(record.reference, []), fixity)
    return Audit(fixity, anchored, register_problems(record.meta, ledger.document(record.reference)))


def adopt(record: Record, doc, anchors: list, ledger, *, actor: str) -> list[str]:
    """Anchor a record that has no anchor yet (filed before anchors existed), as it is now — only
    when its files match their digests and its metadata matches the register. Returns why it was
    refused ([] when anchored, or when it was anchored already)."""
    if anchors:
        return []
    bad = [f"{r.file}（{r.algorithm}）{r.status}" for r in record.verify() if r.verified and not r.ok]
    bad += register_problems(record.meta, doc)
    if bad:
        return bad
    ledger.anchor(record.reference, {**record_anchor(record.path), "note": ADOPT_NOTE}, actor=actor,
                  reason=ADOPT_REASON)
    return []


def adopt_all(config: Config, ledger, *, actor: str, year: int | None = None) -> tuple[list[str], list[str]]:
    """``adopt`` every unanchored record (of one year): (references anchored, refusals with why)."""
    anchors = ledger.anchors()
    docs = {d.reference: d for d in ledger.documents(year)}
    done, refused = [], []
    for rec in ArchiveStore(config).records(year):
        if anchors.get(rec.reference):
            continue
        why = adopt(rec, docs.get(rec.reference), [], ledger, actor=actor)
        if why:
            refused.append(f"{rec.reference}：{'；'.join(why)}")
        else:
            done.append(rec.reference)
    return done, refused


def _remove_tree(path: Path) -> None:
    """Remove a folder gongwen itself made (a temporary record build), read-only files included."""
    if not path.exists():
        return
    for p in path.rglob("*"):
        try:
            make_writable(p)
        except OSError:
            pass
    make_writable(path)
    shutil.rmtree(path, ignore_errors=True)


def _some(items: list[str], n: int = 20) -> str:
    return "；".join(items[:n]) + (f" 等 {len(items)} 处" if len(items) > n else "")


def health(config: Config) -> list[Finding]:
    """For `gongwen doctor`, reading only: fixity of every record, read-only state, leftovers of
    interrupted filings and swaps, and — against the register — each record's anchor, its metadata,
    and that every document the register calls filed is in the archive."""
    from .ledger import Ledger, ledger_path

    store = ArchiveStore(config, recover=False)
    findings: list[Finding] = []
    n = bad = 0
    details: list[str] = []
    writable: list[str] = []
    unverified: set[str] = set()
    ledger = Ledger(ledger_path(config), config) if ledger_path(config).is_file() else None
    try:
        anchors = ledger.anchors() if ledger else {}
        docs = {d.reference: d for d in ledger.documents()} if ledger else {}
    finally:
        if ledger is not None:
            ledger.close()
    anchor_bad: list[str] = []
    unanchored: list[str] = []
    meta_bad: list[str] = []
    present: set[str] = set()
    for rec in store.records():
        n += 1
        if rec.meta.get("类型") != INCOMING:      # a 收文's row is in the 收文登记簿 (incoming.health)
            present.add(rec.reference)
        fixity = rec.verify()
        for r in fixity:
            if not r.verified:
                unverified.add(r.algorithm)
            elif not r.ok:
                bad += 1
                details.append(f"{rec.reference}/{r.file}（{r.algorithm}）{r.status}")
        # Mode bits, not os.access: root may write anything, yet the record must still be marked.
        if any(p.stat().st_mode & 0o222 for p in (rec.path, *rec.path.iterdir())):
            writable.append(rec.reference)
        if ledger is None:
            continue
        a = check_anchor(rec, anchors.get(rec.reference, []), fixity)
        if a.state == "未锚定":
            unanchored.append(rec.reference)
        elif a.ok is False:
            anchor_bad += [f"{rec.reference}：{m}" for _, m in a.problems]
        meta_bad += [f"{rec.reference}：{m}" for m in register_problems(rec.meta, docs.get(rec.reference))]
    note = _some(details)
    if unverified:
        note = "；".join(p for p in (note, f"本机不支持 {'、'.join(sorted(unverified))}，该算法的摘要未核验") if p)
    findings.append(Finding("档案", f"固定性（{'、'.join(ALGORITHM_NAMES[a] for a in fixity_algorithms())}）校验 {n} 件",
                            bad == 0, note))
    findings.append(Finding("档案", "已归档记录只读", not writable, "、".join(writable[:20])))
    left = store.leftovers()
    findings.append(Finding("档案", "无中断归档遗留的临时文件夹", not left, "、".join(str(p) for p in left[:10])))
    swaps = store.pending_swaps()
    findings.append(Finding("档案", "无中断的整理归档换版", not swaps,
                            "、".join(str(p) for p in swaps[:10]) + ("；运行 gongwen doctor --repair 完成" if swaps else "")))
    if ledger is None:
        why = "登记簿尚未建立，无从比对" if n == 0 else f"档案中有 {n} 件，登记簿却不存在"
        findings.append(Finding("档案", "记录与登记簿一致", None if n == 0 else False, why))
        return findings
    text = _some(anchor_bad)
    if unanchored:
        text = "；".join(x for x in (text, f"未锚定 {len(unanchored)} 件（{'、'.join(unanchored[:5])}"
                                          f"{' 等' if len(unanchored) > 5 else ''}）：运行 gongwen doctor --repair 补锚定") if x)
    findings.append(Finding("档案", f"记录与登记簿锚定一致（{n} 件）", not anchor_bad and not unanchored,
                            text or "每件的元数据和文件与归档时锚定的摘要相同"))
    findings.append(Finding("档案", "元数据与发文登记簿一致", not meta_bad, _some(meta_bad)))
    filed = sorted(r for r, d in docs.items() if d.stage in ("filed", "indexed"))
    lost = [r for r in filed if r not in present]
    stray = sorted(present - set(docs))
    problems = [f"{r}：登记簿记为“{docs[r].status}”，档案中没有此件" for r in lost]
    problems += [f"{r}：档案中有此件，登记簿中没有" for r in stray]
    findings.append(Finding("档案", "登记簿所载已归档的文件都在档案中", not problems, _some(problems)))
    return findings
