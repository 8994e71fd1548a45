"""督办: the 督办台账 in the browser — the list filtered by 年度, 状态, 责任单位 and 来源类型 with the
counts and 办结率 of what is selected (逾期 in red), and an item's page: every field, its 进展 with
their files, the 佐证材料, the 办理过程 (who did what, when), and for the 督查 role the forms to add a
进展, to 销号 (a 办结说明 is required: the library says so), to hold, resume or give up, to 延期 and
to record the 答复 of a 建议/提案.

Everything is a call to pipeline.supervise, as `gongwen supervise` makes it, with the logged-in user
as the actor, so each change is an event in the chain under that name; the search index follows
(sync_quietly). What is 逾期 is the library's rule (Item.is_overdue: 挂牌 and past the 时限, whether
or not the day turn has marked it yet); the figures are report.rate's. Files are served only as the
item's own record lists them (evidence_files), never from a path in the request."""
from __future__ import annotations

import datetime as dt
import threading
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response

from ...accounts import User
from ...config import SOURCE_TYPES
from ...errors import GongwenError, SupervisionError
from ...supervise import (
    ANSWER_CATEGORIES, ANSWER_TYPES, CANNOT, CLOSED, HELD, ON_BOARD, OPEN, OVERDUE, SATISFACTION, STATUSES,
    add_progress, close_item, evidence_files, extend, get_item, history, item_dir, list_items, record_answer,
    set_status,
)
from ...supervise.index import sync_quietly
from ...supervise.items import count_items, item_years, latest_progress
from ...supervise.report import STATUS_FILL, rate_of_counts
from ...supervise.sources import parse_date
from ..app import Nav, client_of, render, require, state_of
from ..security import inside_tree
from ..uploads import received

router = APIRouter()
NAV = (Nav("督办", "/supervise", "supervise", 35),)
PAGE_SIZE = 50
BOARD = "挂牌"                                 # 办理中 and 逾期: the filter 「挂牌」
ALL_YEARS = "全部"
# CSS class per status; the colours are the 台账's (report.STATUS_FILL), served by /supervise/status.css.
STATUS_CLASS = {OPEN: "open", OVERDUE: "late", CLOSED: "closed", HELD: "held", CANNOT: "cannot"}
_sync_lock = threading.Lock()                  # one index update at a time from this process


def item_url(reference: str) -> str:
    return "/supervise/" + quote(reference, safe="")


def shown_status(item, today: dt.date) -> str:
    """The state as the list and the page show it: 逾期 as soon as the 时限 has passed."""
    return OVERDUE if item.is_overdue(today) else item.status


@router.get("/supervise/status.css")
def status_css(user: User = Depends(require("supervise"))):
    """The status colours of the 台账 workbook, for the badges and the figures (one place: STATUS_FILL)."""
    css = "".join(f".st-{STATUS_CLASS[s]}{{background:#{fill}}}\n" for s, fill in STATUS_FILL.items()
                  if s in STATUS_CLASS)
    return Response(css, media_type="text/css; charset=utf-8")


@router.get("/supervise")
def supervise_page(request: Request, year: str = "", status: str = "", unit: str = "", type: str = "",
                   sort: str = "ref", page: str = "1", user: User = Depends(require("supervise"))):
    st = state_of(request)
    config = st.config
    today = st.today()
    errors = []
    years = item_years(st.ledger)
    if year == ALL_YEARS:
        y = None
    else:
        try:
            y = int(year) if year else (today.year if today.year in years else (years[-1] if years else today.year))
        except ValueError:
            errors.append(f"年度“{year}”不是数字")
            y = years[-1] if years else today.year
    if status and status not in (BOARD, *STATUSES):
        errors.append(f"没有“{status}”这种状态")
        status = ""
    if type and type not in SOURCE_TYPES:
        errors.append(f"没有“{type}”这种来源类型")
        type = ""
    unit = unit.strip()
    sort = sort if sort in ("ref", "deadline") else "ref"
    try:
        pg = max(1, int(page))
    except ValueError:
        pg = 1
    # Counted in the database and read one page at a time: 5,000 items cost what 50 do.
    scope: dict[str, Any] = {"unit": unit or None, "source_type": type or None}
    counts = count_items(st.ledger, today=today, year=y, **scope)
    figures = rate_of_counts("合计", counts)
    count = (figures.total if not status else figures.open if status == BOARD else counts.get(status, 0))
    pages = max(1, (count + PAGE_SIZE - 1) // PAGE_SIZE)
    pg = min(pg, pages)
    filters: dict[str, dict[str, Any]] = {"": {}, BOARD: {"status": ON_BOARD}, OVERDUE: {"overdue_on": today},
                                          OPEN: {"open_on": today}}
    chosen = filters.get(status, {"status": status})
    rows = list_items(st.ledger, year=y, **scope, **chosen, order="deadline" if sort == "deadline" else "reference",
                      limit=PAGE_SIZE, offset=(pg - 1) * PAGE_SIZE)
    latest = latest_progress(st.ledger, [i.id for i in rows])
    earlier = None
    if y is not None:       # what is still on the board from earlier years is not hidden by the year
        old = count_items(st.ledger, today=today, before_year=y, status=ON_BOARD, **scope)
        if old:
            earlier = (sum(old.values()), old.get(OVERDUE, 0))
    form = {"year": ALL_YEARS if y is None else y, "status": status, "unit": unit, "type": type, "sort": sort}
    units = list(config.supervision.units)
    if unit and unit not in units:
        units.append(unit)
    return render(request, "supervise.html", {
        "today": today, "form": form, "years": sorted(set(years) | ({y} if y else set())), "year": y,
        "all_years": ALL_YEARS, "statuses": STATUSES, "board": BOARD, "units": units, "types": SOURCE_TYPES,
        "figures": figures, "rows": [(i, shown_status(i, today), latest.get(i.id)) for i in rows],
        "count": count, "page": pg, "pages": pages, "earlier": earlier, "errors": errors,
        "status_class": STATUS_CLASS, "item_url": item_url,
        "url": lambda **kw: "/supervise?" + urlencode({**form, **kw}),       # another filter: its first page
        "page_url": lambda n: "/supervise?" + urlencode({**form, "page": n}),
    }, user=user)


def _item(request: Request, ref: str):
    ref = (ref or "").strip()
    if not ref or len(ref) > 40:
        raise HTTPException(404)
    try:
        return get_item(state_of(request).ledger, ref)
    except SupervisionError:
        raise HTTPException(404) from None


def _file_url(item, name: str) -> str:
    return f"{item_url(item.reference)}/file?" + urlencode({"name": name})


def _item_page(request: Request, item, user: User, *, failed: str = "", error: str = "", option: str = "",
               values: dict | None = None, status: int = 200):
    st = state_of(request)
    today = st.today()
    shown = shown_status(item, today)
    progress = [(p, [(f, _file_url(item, f.name)) for f in p.files]) for p in reversed(item.progress)]
    can = {"progress": item.status in (OPEN, OVERDUE, HELD), "close": item.status in (OPEN, OVERDUE, HELD),
           "hold": item.status in ON_BOARD, "resume": item.status == HELD,
           "cannot": item.status in (OPEN, OVERDUE, HELD), "extend": item.status in (OPEN, OVERDUE, HELD),
           "answer": item.source_type in ANSWER_TYPES}
    forms = {k for k in ("progress", "close", "extend", "answer") if can[k]} | \
        ({"status"} if can["hold"] or can["resume"] or can["cannot"] else set())
    return render(request, "supervise_item.html", {
        "item": item, "shown": shown, "today": today, "days": item.days_left(today),
        "status_class": STATUS_CLASS, "history": history(st.ledger, item.reference),
        "progress": progress, "evidence": [(e, _file_url(item, e.name)) for e in item.evidence],
        "url": item_url(item.reference), "answer_types": ANSWER_TYPES, "categories": ANSWER_CATEGORIES,
        "satisfaction": SATISFACTION,
        "can": can, "failed": failed, "error": error, "option": option, "values": values or {},
        "error_top": error if failed and failed not in forms else "",     # its form is not on the page
        "flash": request.session.pop("flash", None),
    }, user=user, status=status)


@router.get("/supervise/{ref}")
def item_page(request: Request, ref: str, user: User = Depends(require("supervise"))):
    item = _item(request, ref)
    if ref != item.reference:            # spaces or other spellings: one address per item
        return RedirectResponse(item_url(item.reference), status_code=303)
    return _item_page(request, item, user)


@router.get("/supervise/{ref}/file")
def item_file(request: Request, ref: str, name: str = "", user: User = Depends(require("supervise"))):
    """A file of the item, found in the item's own record of its files by the name recorded there;
    the path served is the library's, and it must lie inside the item's folder."""
    st = state_of(request)
    item = _item(request, ref)
    entry = next(((p, e) for p, e in evidence_files(st.config, item) if e.name == name), None)
    path = inside_tree(item_dir(st.config, item), entry[1].name) if entry else None
    if entry is None or path is None:
        raise HTTPException(404)
    st.ledger.log("downloaded", actor=user.name, reference=item.reference,
                  detail={"督办材料": entry[1].name, "client": client_of(request)})
    return FileResponse(path, filename=f"{item.reference}-{path.name}", headers={"Cache-Control": "no-store"},
                        content_disposition_type="attachment")


def _day(value: str, what: str, today: dt.date) -> dt.date:
    if not (value or "").strip():
        return today
    d = parse_date(value)
    if d is None:
        raise SupervisionError(f"{what}“{value}”无法识别（应为 2015-03-02 或 2015年3月2日）", option="day")
    return d


def _change(request: Request, ref: str, user: User, name: str, values: dict, do, uploads=()) -> Response:
    """Run one change of an item — ``do(st, item, paths)`` with the files sent as ``uploads`` saved
    as ``paths`` — ; on success back to its page with a note, else the page again with the library's
    message beside the form and what was typed kept."""
    st = state_of(request)
    item = _item(request, ref)
    chosen = [u for u in uploads or () if u.filename]
    try:
        with received(st.config, chosen) as paths:
            done = do(st, item, paths)
    except GongwenError as e:
        message = str(e) + ("（所选文件未保存，请重新选择）" if chosen else "")
        return _item_page(request, item, user, failed=name, error=message, option=getattr(e, "option", "") or "",
                          values=values, status=400)
    with _sync_lock:
        note = sync_quietly(st.ledger, st.config, st.index)
    request.session["flash"] = done + (f"。提示：{note}" if note else "")
    return RedirectResponse(item_url(item.reference), status_code=303)


@router.post("/supervise/{ref}/progress")
def progress(request: Request, ref: str, text: str = Form(""), day: str = Form(""),
             files: list[UploadFile] = File(default=[]), user: User = Depends(require("supervise_edit"))):
    def do(st, item, paths):
        when = _day(day, "进展日期", st.today())
        add_progress(st.ledger, st.config, item.reference, text, actor=user.name, day=when, files=paths)
        return f"已记录进展（{when.isoformat()}）" + (f"，附 {len(paths)} 个文件" if paths else "")
    return _change(request, ref, user, "progress", {"text": text, "day": day}, do, files)


@router.post("/supervise/{ref}/close")
def close(request: Request, ref: str, note: str = Form(""), day: str = Form(""),
          files: list[UploadFile] = File(default=[]), user: User = Depends(require("supervise_edit"))):
    def do(st, item, paths):
        closed = close_item(st.ledger, st.config, item.reference, note=note, actor=user.name,
                            closed_on=_day(day, "办结日期", st.today()), evidence=paths)
        return f"已销号（办结日期 {closed.closed_on}" + (f"，佐证材料 {len(paths)} 个）" if paths else "）")
    return _change(request, ref, user, "close", {"note": note, "day": day}, do, files)


@router.post("/supervise/{ref}/status")
def change_status(request: Request, ref: str, status: str = Form(""), reason: str = Form(""),
                  user: User = Depends(require("supervise_edit"))):
    def do(st, item, _paths):
        changed = set_status(st.ledger, st.config, item.reference, status, reason=reason, actor=user.name,
                             today=st.today())
        return f"已改为“{changed.status}”"
    return _change(request, ref, user, "status", {"status": status, "reason": reason}, do)


@router.post("/supervise/{ref}/extend")
def extend_deadline(request: Request, ref: str, deadline: str = Form(""), reason: str = Form(""),
                    user: User = Depends(require("supervise_edit"))):
    def do(st, item, _paths):
        changed = extend(st.ledger, st.config, item.reference, rule=deadline.strip() or None, reason=reason,
                         actor=user.name, today=st.today())
        return f"办结时限已延至 {changed.deadline.isoformat()}"
    return _change(request, ref, user, "extend", {"deadline": deadline, "reason": reason}, do)


@router.post("/supervise/{ref}/answer")
def answer(request: Request, ref: str, category: str = Form(""), day: str = Form(""),
           satisfaction: str = Form(""), user: User = Depends(require("supervise_edit"))):
    def do(st, item, _paths):
        when = _day(day, "答复日期", st.today())
        changed = record_answer(st.ledger, st.config, item.reference, category=category, answered_on=when,
                                satisfaction=satisfaction or None, actor=user.name)
        return f"已记录答复（{changed.answer_category}类，{when.isoformat()}）"
    return _change(request, ref, user, "answer", {"category": category, "day": day,
                                                  "satisfaction": satisfaction}, do)
