"""The 督办台账 at year end: the year's 督查督办台账 (one 件: the workbook of every item with that year's
督办编号) and each closed item's 办结材料 (its 办结说明 and 办理过程 as text, its 佐证材料 and 进展 files)
are filed under ``archive/yearend/<年度>/督查督办/`` with a 清单.json that records every file's SHA-256,
the counts and the 台账's 保管期限 (``supervision.retention``). ``gongwen archive YEAR`` files them and
``gongwen check YEAR`` checks them against the 台账 and the files (counts in its report).

Filing is idempotent: a file is rewritten only when its content changes, so a second run changes
nothing; filed files are read-only."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..fsutil import atomic_copy, atomic_write_bytes, make_readonly, make_writable
from ..ledger import Ledger
from ..model import cn_date
from .items import CLOSED, evidence_files, get_item, history, list_items

FOLDER = "督查督办"
MANIFEST = "清单.json"


def folder(config: Config, year: int) -> Path:
    from ..yearend.common import yearend_dir

    return yearend_dir(config, year) / FOLDER


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write(path: Path, data: bytes) -> bool:
    """Write when different; True when written."""
    if path.is_file() and _sha(path.read_bytes()) == _sha(data):
        return False
    if path.exists():
        make_writable(path)
    atomic_write_bytes(path, data)
    make_readonly(path)
    return True


def _closing_text(ledger: Ledger, item) -> str:
    lines = [f"督办编号：{item.reference}", f"事项：{item.matter}", f"来源：{item.source}（{item.source_type}）",
             f"责任单位：{'、'.join(item.units)}", f"交办日期：{cn_date(item.assigned)}",
             f"办结时限：{cn_date(item.deadline)}", f"办结日期：{cn_date(item.closed_on)}",
             f"办结说明：{item.close_note}", "", "办理过程："]
    lines += [f"{h['time']}  {h['event']}  {h['actor']}  {h['what']}" for h in history(ledger, item.reference)]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class FiledYear:
    year: int
    items: int                 # items with that year's 督办编号 (rows of the 台账)
    closed: int                # closed items whose 办结材料 are filed
    written: tuple[Path, ...]  # files written this time (empty on an unchanged second run)
    manifest: Path


def file_year(ledger: Ledger, config: Config, year: int, *, actor: str) -> FiledYear | None:
    """File the year's 台账 and 办结材料; None when the year has no items."""
    from .report import Period, statistics, write_workbook

    items = list_items(ledger, year=year)
    if not items:
        return None
    root = folder(config, year)
    written: list[Path] = []
    files: list[dict] = []
    # The 台账: the workbook is rewritten only when its rows change (openpyxl stamps the time inside).
    book = root / f"督查督办台账-{year}年度.xlsx"
    rows_key = _sha(json.dumps([[i.reference, i.status, i.deadline.isoformat(), i.closed_on and i.closed_on.isoformat(),
                                 i.close_note, i.updated_at] for i in items], ensure_ascii=False).encode())
    old = _manifest(root)
    if not book.is_file() or old.get("台账内容") != rows_key:
        # The 台账 as at the year's end: 逾期 counted against 31 December (the 督办编号's year is the
        # 交办 year, so the period's items are exactly these).
        stats = statistics(ledger, period=Period(year), today=dt.date(year, 12, 31))
        if book.exists():
            make_writable(book)
        write_workbook(ledger, config, stats, book, actor=actor)
        make_readonly(book)
        written.append(book)
    files.append({"文件": book.name, "sha256": _sha(book.read_bytes()), "类型": "督查督办台账"})
    closed = [get_item(ledger, i.reference) for i in items if i.status == CLOSED]
    for item in closed:
        where = root / "办结材料" / item.reference
        text = _closing_text(ledger, item).encode("utf-8")
        if _write(where / "办结说明.txt", text):
            written.append(where / "办结说明.txt")
        files.append({"文件": f"办结材料/{item.reference}/办结说明.txt", "sha256": _sha(text), "督办编号": item.reference})
        for src, ev in evidence_files(config, item):
            dest = where / ev.name
            if not (dest.is_file() and _sha(dest.read_bytes()) == ev.sha256):
                if dest.exists():
                    make_writable(dest)
                atomic_copy(src, dest)
                make_readonly(dest)
                written.append(dest)
            files.append({"文件": f"办结材料/{item.reference}/{ev.name}", "sha256": ev.sha256,
                          "督办编号": item.reference})
    manifest = {"年度": year, "保管期限": config.supervision.retention, "督办事项": len(items),
                "已办结": len(closed), "督办编号": [i.reference for i in items], "台账内容": rows_key,
                "文件": files}
    data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
    if _write(root / MANIFEST, data):
        written.append(root / MANIFEST)
        ledger.log("supervision_archived", actor=actor, detail={
            "year": year, "what": f"{year} 年度督查督办台账归档：{len(items)} 件，办结材料 {len(closed)} 件"})
    return FiledYear(year, len(items), len(closed), tuple(written), root / MANIFEST)


def _manifest(root: Path) -> dict:
    try:
        return json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def check_year(ledger: Ledger | None, config: Config, year: int) -> tuple[dict, list[tuple[str, str, str]]]:
    """(counts for the check report, failures as (ident, file, message)): the filed 台账 lists every
    item of the year, and every filed file is there with its recorded SHA-256."""
    items = list_items(ledger, year=year) if ledger is not None else []
    root = folder(config, year)
    manifest = _manifest(root)
    if not items and not manifest:
        return {}, []
    fails: list[tuple[str, str, str]] = []
    if not manifest:
        return ({"督办事项": len(items)},
                [(f"{year} 年度督查督办台账", MANIFEST, "尚未归档（请运行 gongwen archive）")])
    listed = set(manifest.get("督办编号") or [])
    missing = [i.reference for i in items if i.reference not in listed]
    if missing:
        fails.append((f"{year} 年度督查督办台账", MANIFEST,
                      f"台账未列入 {len(missing)} 件：{'、'.join(missing[:10])}（请重新运行 gongwen archive）"))
    closed_now = {i.reference for i in items if i.status == CLOSED}
    filed = {f.get("督办编号") for f in manifest.get("文件") or [] if f.get("督办编号")}
    unfiled = sorted(closed_now - filed)
    if unfiled:
        fails.append((f"{year} 年度督查督办台账", "办结材料",
                      f"已办结未归档办结材料 {len(unfiled)} 件：{'、'.join(unfiled[:10])}（请重新运行 gongwen archive）"))
    for f in manifest.get("文件") or []:
        path = root / f.get("文件", "")
        ident = f.get("督办编号") or f"{year} 年度督查督办台账"
        if not path.is_file():
            fails.append((ident, f.get("文件", ""), "文件缺失"))
        elif _sha(path.read_bytes()) != f.get("sha256"):
            fails.append((ident, f.get("文件", ""), "内容与归档时记录的 SHA-256 不符（被改动）"))
    counts = {"督查督办台账": 1, "督办事项": int(manifest.get("督办事项") or 0),
              "办结材料件数": int(manifest.get("已办结") or 0)}
    return counts, fails
