"""Printable .xlsx sheets of the office's registers (发文登记簿, 用印登记, and any other book): A4
landscape, one title row, a header row repeated on every page, widths to fit, thin borders."""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, Callable

from .fsutil import atomic_write_bytes

__all__ = ["register_xlsx", "register_xlsx_bytes"]

Sheet = tuple[str, tuple[tuple[str, str], ...], list, str]     # title, columns, rows, subtitle


def register_xlsx(path: Path, *, title: str, columns: tuple[tuple[str, str], ...], rows: list,
                  subtitle: str = "", row_fill: Callable[[Any], str | None] | None = None,
                  sheets: tuple[Sheet, ...] = ()) -> Path:
    """Write rows as an .xlsx the office can print (see register_xlsx_bytes)."""
    return atomic_write_bytes(Path(path), register_xlsx_bytes(title=title, columns=columns, rows=rows,
                                                              subtitle=subtitle, row_fill=row_fill,
                                                              sheets=sheets))


def register_xlsx_bytes(*, title: str, columns: tuple[tuple[str, str], ...], rows: list,
                        subtitle: str = "", row_fill: Callable[[Any], str | None] | None = None,
                        sheets: tuple[Sheet, ...] = ()) -> bytes:
    """Rows (RegisterRow / SealRow / any object with the columns' fields) as an .xlsx the office can
    print: A4 landscape, one title row, a header row repeated on every page, widths to fit, thin
    borders, SimSun-style fonts. ``row_fill`` gives a row's background colour (hex RGB, e.g. a status
    colour) or None; ``sheets`` adds further sheets, each (title, columns, rows, subtitle)."""
    from openpyxl import Workbook

    wb = Workbook()
    _sheet(wb.active, title, columns, rows, subtitle, row_fill)
    for s_title, s_columns, s_rows, s_subtitle in sheets:
        _sheet(wb.create_sheet(), s_title, s_columns, s_rows, s_subtitle, None)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sheet(ws, title: str, columns: tuple[tuple[str, str], ...], rows: list, subtitle: str,
           row_fill: Callable[[object], str | None] | None) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    ws.title = re.sub(r"[\\/*?:\[\]]", "", title)[:31]     # characters a sheet name may not hold
    n = len(columns)
    ws.cell(row=1, column=1, value=title).font = Font(name="宋体", size=16, bold=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 30
    ws.cell(row=2, column=1, value=subtitle).font = Font(name="宋体", size=10)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=n)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for c, (_, heading) in enumerate(columns, 1):
        cell = ws.cell(row=3, column=c, value=heading)
        cell.font = Font(name="黑体", size=10, bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = border
    for r, row in enumerate(rows, 4):
        colour = row_fill(row) if row_fill else None
        fill = PatternFill("solid", start_color=colour, end_color=colour) if colour else None
        for c, (field, _) in enumerate(columns, 1):
            value = getattr(row, field)
            cell = ws.cell(row=r, column=c, value=value if value != "" else None)
            cell.font = Font(name="宋体", size=10)
            cell.alignment = Alignment(vertical="center", wrap_text=True,
                                       horizontal="center" if isinstance(value, int) else "left")
            cell.border = border
            if fill is not None:
                cell.fill = fill
    # Widths in characters: CJK characters count double; capped so the sheet fits A4 landscape rows.
    for c, (field, heading) in enumerate(columns, 1):
        texts = [heading] + [str(getattr(row, field) or "") for row in rows]
        width = max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in t) for t in texts) + 2
        ws.column_dimensions[get_column_letter(c)].width = min(max(width, 6), 40)
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "3:3"
    ws.freeze_panes = "A4"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
