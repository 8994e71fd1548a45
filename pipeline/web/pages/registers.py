"""登记簿: the 发文登记簿 and the 用印登记 per year and series (ledger.register_listing, as `gongwen
register`), filtered by words and status, with the same .xlsx download as `gongwen register --xlsx`."""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ...accounts import User
from ...ledger import register_listing
from ..app import Nav, client_of, render, require, state_of

router = APIRouter()
NAV = (Nav("登记簿", "/registers", "registers", 30),)
ESSENTIAL = {"seq_no", "registered", "number", "title", "status", "used_at", "seal_name"}
NOWRAP = {"number", "registered", "used_at", "seq_no", "archive_code", "status"}


def _year(value: str, years: list[int]) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return years[-1] if years else dt.date.today().year


def _filter(rows: list, text: str, status: str) -> list:
    text = text.strip()
    out = []
    for r in rows:
        if status and getattr(r, "status", "") and not getattr(r, "status").startswith(status):
            continue
        if text and not any(text in str(v) for v in vars(r).values() if v is not None):
            continue
        out.append(r)
    return out


@router.get("/registers")
def registers_page(request: Request, year: str = "", series: str = "", book: str = "发文", text: str = "",
                   status: str = "", user: User = Depends(require("registers"))):
    st = state_of(request)
    years = st.ledger.years()
    y = _year(year, years)
    seals = book == "用印"
    series = series if series in st.config.series else ""
    listing = register_listing(st.config, y, series or None, seals=seals, ledger=st.ledger)
    rows = _filter(listing.rows, text, "" if seals else status)
    # Columns empty in every row shown are left out on screen (the .xlsx keeps them all).
    shown = [(f, h) for f, h in listing.columns
             if f in ESSENTIAL or any(getattr(r, f) not in (None, "") for r in rows)]
    params = {"year": y, "series": series, "book": "用印" if seals else "发文", "text": text, "status": status}
    return render(request, "registers.html", {
        "listing": listing, "rows": rows, "columns": shown, "years": sorted(set(years) | {y}), "year": y, "series": series,
        "series_list": list(st.config.series), "book": params["book"], "text": text, "status": status,
        "statuses": ("已发", "办理中", "作废", "预留"), "nowrap": NOWRAP, "xlsx_url": "/registers.xlsx?" + urlencode(params),
    }, user=user)


@router.get("/registers.xlsx")
def registers_xlsx(request: Request, year: str = "", series: str = "", book: str = "发文", text: str = "",
                   status: str = "", user: User = Depends(require("registers"))):
    st = state_of(request)
    y = _year(year, st.ledger.years())
    seals = book == "用印"
    series = series if series in st.config.series else ""
    listing = register_listing(st.config, y, series or None, seals=seals, ledger=st.ledger)
    if text or status:
        listing = type(listing)(listing.name, listing.title, listing.columns,
                                _filter(listing.rows, text, "" if seals else status))
    data = listing.xlsx_bytes(actor=user.name, when=dt.datetime.now())
    st.ledger.log("downloaded", actor=user.name, detail={"登记簿": listing.title, "条数": len(listing.rows),
                                                         "client": client_of(request)})
    name = f"{listing.title}.xlsx"
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
                             "Cache-Control": "no-store"})
