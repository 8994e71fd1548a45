"""The 归档文件目录 (DA/T 22-2015 5.5, standards.md §3.9) and the 备考表 (§3.10), one per class.

Each class gets ``归档文件目录-<年度>-<保管期限>-<机构>.xlsx`` (openpyxl: A4 landscape, heading row
repeated on every printed page, borders, column widths, a cover sheet) and the same as PDF (the
``归档文件目录.docx`` template filled with render_template, converted by LibreOffice), plus
``备考表-….pdf``. Files are rewritten only when their content changes (a hash kept in the plan), so a
second ``gongwen archive`` leaves them byte for byte as they were — or when they are not what the
ledger anchored (``stale``: edited by hand, or written before anchors existed): they are derived from
the records, so writing them again is the repair.
"""
from __future__ import annotations

import hashlib
import io
import json
import tempfile
from collections.abc import Collection
from pathlib import Path

from ..archive import Record, responsible
from ..config import Config
from ..fsutil import atomic_copy, atomic_write_bytes
from .common import ClassKey, date8, yearend_dir

COLUMNS = (("序号", 6), ("档号", 27), ("文号", 22), ("责任者", 18), ("题名", 46), ("日期", 10),
           ("密级", 6), ("页数", 6), ("备注", 16))
TEMPLATES = {"目录": "归档文件目录", "备考表": "备考表", "检测报告": "检测报告", "登记表": "移交登记表"}


def template_path(config: Config, name: str) -> Path:
    """A year-end template: config.templates may name it, else templates/<name>.docx."""
    return config.templates_dir / (config.templates.get(name) or f"{name}.docx")


def render_docx(config: Config, name: str, context: dict, out: Path) -> Path:
    from ..render import render_template

    return render_template(template_path(config, name), context, out)


def to_pdf(config: Config, pairs: list[tuple[Path, Path]]) -> list[Path]:
    """Convert (docx, pdf) pairs with one LibreOffice for all of them."""
    from ..convert import Converter
    from ..errors import ConversionError

    if not pairs:
        return []
    with Converter(config) as conv:
        results = conv.convert_many(pairs)
    errors = [r for r in results if isinstance(r, ConversionError)]
    if errors:
        raise errors[0]
    return [r for r in results if isinstance(r, Path)]


# The columns a 件's own metadata fills (not 序号, 档号 and 备注, which come from the arrangement), by
# their heading in COLUMNS: what the check compares row by row.
ROW_FIELDS = (("文号", "number"), ("责任者", "author"), ("题名", "title"), ("日期", "date"), ("密级", "secrecy"),
              ("页数", "pages"))


def row_values(meta: dict) -> dict:
    """The 目录 values a 件's metadata gives (a 收文 is listed under the sender's 文号)."""
    received = meta.get("类型") == "收文"
    number = (meta.get("来文字号") or "") if received else (meta.get("文件编号") or "")
    return {"number": number, "author": responsible(meta), "title": meta.get("题名") or "",
            "date": date8(meta), "secrecy": meta.get("密级") or "", "pages": meta.get("页数") or ""}


def catalogue_rows(entries, records: dict[str, Record]) -> list[dict]:
    rows = []
    for i, e in enumerate(entries, 1):
        m = records[e.reference].meta
        note = e.note or m.get("备注") or ""
        if m.get("类型") == "收文":      # its 收文号 goes in the 备注 (row_values lists the sender's 文号)
            note = "；".join(x for x in (f"收文 {m.get('文件编号')}", note) if x)
        rows.append({"seq": i, "code": e.code, **row_values(m), "note": note})
    return rows


def cover(config: Config, key: ClassKey) -> dict:
    return {"fonds": config.organisation.fonds_code, "fonds_name": config.organisation.name,
            "year": str(key.year), "retention": key.retention_name, "unit": key.unit_name or ""}


def remarks_text(key: ClassKey, entries, records: dict[str, Record]) -> str:
    pages = sum(int(records[e.reference].meta.get("页数") or 0) for e in entries)
    text = (f"本类（{key.label}）共 {len(entries)} 件，{pages} 页，件号 {entries[0].item_no:04d}—"
            f"{entries[-1].item_no:04d}；均为电子文件，正本为 PDF/A，首页加盖归档章。")
    late = [e for e in entries if e.late]
    if late:
        text += (f"其中 {len(late)} 件在本类整理后补归档，排于本类之末（件号 "
                 f"{'、'.join(f'{e.item_no:04d}' for e in late)}），已在目录备注栏注明。")
    return text


def xlsx_bytes(config: Config, key: ClassKey, rows: list[dict]) -> bytes:
    """The 目录 as a printable workbook: 封面 and 目录 sheets."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.worksheet.page import PageMargins
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook()
    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    left = Alignment(horizontal="left", vertical="center", wrap_text=True)

    cv = wb.active
    assert isinstance(cv, Worksheet)   # a new workbook has one worksheet
    cv.title = "封面"
    cv.column_dimensions["A"].width = 18
    cv.column_dimensions["B"].width = 50
    cv["A1"] = "归档文件目录"
    cv["A1"].font = Font(name="方正小标宋简体", size=26)
    cv["A1"].alignment = centre
    cv.merge_cells("A1:B1")
    cv.row_dimensions[1].height = 60
    c = cover(config, key)
    for i, (label, value) in enumerate((("全宗号", c["fonds"]), ("全宗名称", c["fonds_name"]), ("年度", c["year"]),
                                        ("保管期限", c["retention"]), ("机构（问题）", c["unit"])), 3):
        cv.cell(i, 1, label).font = Font(name="黑体", size=14)
        cv.cell(i, 2, value).font = Font(name="仿宋_GB2312", size=14)
        for col in (1, 2):
            cv.cell(i, col).border = box
            cv.cell(i, col).alignment = centre if col == 1 else left
        cv.row_dimensions[i].height = 30
    cv.page_setup.paperSize = cv.PAPERSIZE_A4
    cv.page_setup.orientation = "landscape"
    cv.print_options.horizontalCentered = True

    ws = wb.create_sheet("目录")
    ws["A1"] = "归档文件目录"
    ws["A1"].font = Font(name="方正小标宋简体", size=18)
    ws["A1"].alignment = centre
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    ws["A2"] = f"{config.organisation.name}　{key.label}"
    ws["A2"].alignment = centre
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(COLUMNS))
    for col, (name, width) in enumerate(COLUMNS, 1):
        cell = ws.cell(3, col, name)
        cell.font = Font(name="黑体", size=11)
        cell.alignment = centre
        cell.border = box
        ws.column_dimensions[cell.column_letter].width = width
    keys = ("seq", "code", "number", "author", "title", "date", "secrecy", "pages", "note")
    for r, row in enumerate(rows, 4):
        for col, k in enumerate(keys, 1):
            v = row[k]
            # 日期 stays text: 20250301 is a code to read, not a number to sum.
            cell = ws.cell(r, col, v if k in ("seq", "pages") and v != "" else str(v))
            cell.font = Font(name="仿宋_GB2312", size=10.5)
            cell.alignment = left if k in ("author", "title", "note") else centre
            cell.border = box
    ws.freeze_panes = "A4"
    ws.print_title_rows = "3:3"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.7, right=0.5, top=0.6, bottom=0.6)
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def class_files(config: Config, year: int, key: ClassKey) -> dict[str, Path]:
    d = yearend_dir(config, year)
    return {"xlsx": d / f"归档文件目录-{key.stem}.xlsx", "pdf": d / f"归档文件目录-{key.stem}.pdf",
            "remarks": d / f"备考表-{key.stem}.pdf"}


def write_catalogues(config: Config, plan, records: dict[str, Record], *, actor: str,
                     make_pdf: bool = True, checker: str = "", checked_on: str = "",
                     stale: Collection[str] = frozenset()) -> list[Path]:
    """(Re)write each class's 目录 and 备考表 when its content changed, or when one of its files is
    named in ``stale``; returns the files written."""
    written: list[Path] = []
    todo: list[tuple[Path, Path]] = []
    yearend_dir(config, plan.year).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".catalogue-", dir=yearend_dir(config, plan.year)) as tmp_name:
        tmp = Path(tmp_name)
        for key in sorted(plan.classes, key=ClassKey.sort_key):
            entries = plan.classes[key]
            rows = catalogue_rows(entries, records)
            arranged_on = max(e.arranged_at for e in entries)[:10]
            remarks = {"cover": cover(config, key), "label": f"{config.organisation.name}　{key.label}",
                       "remarks": remarks_text(key, entries, records), "arranger": plan.actor,
                       "arranged_on": arranged_on, "checker": checker, "checked_on": checked_on}
            content = {"rows": rows, "cover": cover(config, key), "remarks": remarks, "pdf": make_pdf}
            digest = hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
            files = class_files(config, plan.year, key)
            wanted = [files["xlsx"]] + ([files["pdf"], files["remarks"]] if make_pdf else [])
            if (plan.catalogues.get(key.stem) == digest and all(p.is_file() for p in wanted)
                    and not any(p.name in stale for p in wanted)):
                continue
            atomic_write_bytes(files["xlsx"], xlsx_bytes(config, key, rows))
            written.append(files["xlsx"])
            if make_pdf:
                title = f"{config.organisation.name}　{key.label}"
                cat_docx = render_docx(config, TEMPLATES["目录"], {"cover": cover(config, key), "title": title,
                                                                   "rows": rows}, tmp / f"目录-{key.stem}.docx")
                rem_docx = render_docx(config, TEMPLATES["备考表"], remarks, tmp / f"备考表-{key.stem}.docx")
                todo += [(cat_docx, tmp / f"目录-{key.stem}.pdf"), (rem_docx, tmp / f"备考表-{key.stem}.pdf")]
            plan.catalogues[key.stem] = digest
        if todo:
            made = to_pdf(config, todo)
            for pdf in made:
                kind, stem = pdf.stem.split("-", 1)
                dest = yearend_dir(config, plan.year) / (f"归档文件目录-{stem}.pdf" if kind == "目录" else f"备考表-{stem}.pdf")
                atomic_copy(pdf, dest)
                written.append(dest)
    return written
