"""检索, the home page: one box with the CLI's query syntax, the filters, counts, marked snippets, sort
and pages; a 文号 or 档号 typed in opens the document. Without a query it shows the year's figures."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from ...accounts import User
from ...config import KINDS, RETENTION_CODES
from ...errors import SearchError
from ...ledger import year_figures
from ...search.query import parse_archive_code, parse_date_bound, parse_number
from ...supervise.index import KIND as SUPERVISED
from ..app import Nav, doc_url, render, require, state_of
from .supervise import item_url

router = APIRouter()
NAV = (Nav("检索", "/", "search", 10),)
PAGE_SIZE = 20
MAX_PAGES = 50          # deeper than 1,000 hits nobody reads; narrow the query instead


def marked(snippet: str, spans) -> list[tuple[str, bool]]:
    """The snippet as (text, is_match) runs, without the 【】 the library puts around matches (the page
    marks them with <mark>; Jinja escapes every run)."""
    out, pos = [], 0
    for start, end in spans:
        if start - 1 > pos:
            out.append((snippet[pos:start - 1], False))
        out.append((snippet[start:end], True))
        pos = end + 1
    if pos < len(snippet):
        out.append((snippet[pos:], False))
    return out


def hit_url(hit) -> str:
    """Where a hit opens: a 督办件 on the 督办 page, anything else on the 文件 page."""
    return item_url(hit.id) if hit.record_kind == SUPERVISED else doc_url(hit.id)


def _date(value: str, *, upper: bool) -> dt.date | None:
    if not value.strip():
        return None
    v = parse_date_bound(value, upper=upper)
    return dt.date(v // 10000, v // 100 % 100, v % 100)


def retention_clause(config, code: str) -> str:
    """The 保管期限 filter in the query language: the (机关代字, 文种) pairs the office's 保管期限表
    (config archive.retention, applied by Archive.retention_for) files under ``code``."""
    parts = []
    for series, s in config.series.items():
        kinds = [k for k in s.kinds if config.archive.retention_for(series, k) == code]
        if kinds:
            ks = " OR ".join(f"文种:{k}" for k in kinds)
            parts.append(f"(机关代字:{series} AND ({ks}))")
    return "(" + " OR ".join(parts) + ")" if parts else ""


def _int(value: str, name: str, errors: list[str]) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        errors.append(f"{name}“{value}”不是数字")
        return None


@router.get("/")
def search_page(request: Request, q: str = "", year: str = "", series: str = "", kind: str = "",
                retention: str = "", date_from: str = "", date_to: str = "", sort: str = "relevance",
                page: str = "1", fig_year: str = "", user: User = Depends(require("search"))):
    st = state_of(request)
    config = st.config
    errors: list[str] = []
    q = q.strip()
    y = _int(year, "年度", errors)
    pg = max(1, min(_int(page, "页码", errors) or 1, MAX_PAGES))
    if series and series not in config.series:
        errors.append(f"没有名为“{series}”的机关代字")
    if kind and kind not in KINDS:
        errors.append(f"没有名为“{kind}”的文种")
    if retention and retention not in RETENTION_CODES:
        errors.append(f"保管期限“{retention}”无效")
    if sort not in ("relevance", "date"):
        sort = "relevance"
    try:
        d_from, d_to = _date(date_from, upper=False), _date(date_to, upper=True)
    except SearchError as e:
        errors.append(str(e))
        d_from = d_to = None
    form = {"q": q, "year": year, "series": series, "kind": kind, "retention": retention,
            "date_from": date_from, "date_to": date_to, "sort": sort}
    ctx = {"form": form, "series_list": list(config.series), "kinds": KINDS, "retentions": RETENTION_CODES,
           "errors": errors, "searched": False}
    filtered = any((y, series, kind, retention, d_from, d_to))
    if not errors and (q or filtered):
        # A 文号 or 档号 alone goes straight to its document.
        exact = parse_number(q) or parse_archive_code(q) if q else None
        index = st.index()
        query = q
        if retention:
            query = f"({q}) AND {retention_clause(config, retention)}" if q else retention_clause(config, retention)
        try:
            if exact and not filtered:
                res = index.search(q, limit=5, snippets=False)
                hit = next((h for h in res.hits if exact in (h.id, h.number, h.archive_code)), None)
                if hit is not None:
                    return RedirectResponse(hit_url(hit), status_code=303)
            res = index.search(query, year=y, series=series or None, kind=kind or None, date_from=d_from,
                               date_to=d_to, limit=pg * PAGE_SIZE, sort=sort)
        except SearchError as e:
            ctx["errors"] = [str(e)]
        else:
            hits = res.hits[(pg - 1) * PAGE_SIZE:]
            pages = min(MAX_PAGES, (res.total + PAGE_SIZE - 1) // PAGE_SIZE)
            ctx.update(searched=True, total=res.total, page=pg, pages=pages,
                       hits=[(h, marked(h.snippet, h.highlights)) for h in hits], hit_url=hit_url,
                       page_url=lambda n: "/?" + urlencode({**form, "page": n}),
                       sort_url=lambda s: "/?" + urlencode({**form, "sort": s}))
    if not ctx["searched"]:
        years = st.ledger.years() or [dt.date.today().year]
        fy = _int(fig_year, "年度", []) or years[-1]
        ctx.update(figures=year_figures(st.ledger, fy), fig_years=years, fig_year=fy, series_cfg=config.series)
    return render(request, "search.html", ctx, user=user)
