"""收文: the 收文登记簿 in the browser — the list filtered by 年度, 状态 (未办结, 逾期, 已办结 …), 来文机关
and any text, with the counts of what is selected (逾期 in red), the .xlsx of `gongwen incoming register`
— and a 收文's page: its register entry, the pages of the document as received and of its 收文处理笺,
the files, the 办理过程 (who did what, when), the links to the 发文 that answers it and to the 督办件
its 批示 created; with the forms 拟办 and 办结 for 办文, 批示 (with 交办督办) for 领导, and 收文登记 (a
file sent from the browser) on the list for 办文.

Everything is a call to pipeline.incoming as `gongwen incoming …` and `gongwen receive` make it, with
the logged-in user as the actor (``WebState.services``), so each change is an event in the chain under
that name, the 处理笺 is made again and the search index follows, as on the command line. What is
逾期 is the library's rule (``Incoming.overdue``: not 办结 and past its 时限), as `incoming list
--overdue` decides it. Files and page images are found by role through the record's metadata, never by
a path from the request."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response

from ...accounts import User
from ...errors import GongwenError
from ...incoming import DONE, HANDLING, WAITING, IncomingRegister, done, instruct, receive, record_for, route
from ...incoming.register import register_listing
from ..app import Nav, client_of, doc_url, render, require, state_of
from ..security import inside
from ..uploads import received

router = APIRouter()
NAV = (Nav("收文", "/incoming", "incoming", 25),)
PAGE_SIZE = 50
ALL_YEARS = "全部"
PENDING, OVERDUE = "未办结", "逾期"
STATES = (PENDING, OVERDUE, WAITING, HANDLING, DONE)
STATE_CLASS = {WAITING: "waiting", HANDLING: "open", DONE: "closed", OVERDUE: "late"}
# Files a 收文's page offers, by their role in the record (pipeline.incoming ROLES); 全文 is the index's.
FILE_ROLES = ("处理笺", "原件", "副本", "处理笺底稿")
PAGE_ROLES = {"doc": None, "slip": "处理笺"}      # page images: the document (副本, else a PDF 原件), the 处理笺


def incoming_url(reference: str) -> str:
    return "/incoming/" + quote(reference, safe="")


def shown_state(row, today: dt.date) -> str:
    """The state as the list and the page show it: 逾期 as soon as the 时限 has passed (not 办结)."""
    return OVERDUE if row.overdue(today) else row.state


def _selected(row, state: str, today: dt.date) -> bool:
    if state == PENDING:
        return row.pending
    if state == OVERDUE:
        return row.overdue(today)
    return not state or row.state == state


def _matches(row, text: str) -> bool:
    return not text or any(text in (v or "") for v in (row.reference, row.sender, row.sender_number, row.title,
                                                        row.lead_unit, row.opinion, row.result, row.reply_ref))


def _year(year: str, years: list[int], today: dt.date, errors: list[str]) -> int | None:
    if year == ALL_YEARS:
        return None
    try:
        return int(year) if year else (today.year if today.year in years or not years else years[-1])
    except ValueError:
        errors.append(f"年度“{year}”不是数字")
        return years[-1] if years else today.year


@router.get("/incoming")
def incoming_page(request: Request, year: str = "", state: str = "", sender: str = "", q: str = "",
                  page: str = "1", user: User = Depends(require("incoming"))):
    st = state_of(request)
    today = st.today()
    errors: list[str] = []
    every = IncomingRegister(st.ledger, st.config).all()
    years = sorted({r.year for r in every})
    y = _year(year, years, today, errors)
    if state and state not in STATES:
        errors.append(f"没有“{state}”这种状态")
        state = ""
    sender, q = sender.strip(), q.strip()
    in_year = [r for r in every if y is None or r.year == y]
    scope = [r for r in in_year if (not sender or (r.sender or "") == sender) and _matches(r, q)]
    counts = {"total": len(scope), PENDING: sum(r.pending for r in scope),
              OVERDUE: sum(r.overdue(today) for r in scope), DONE: sum(r.state == DONE for r in scope)}
    rows = sorted((r for r in scope if _selected(r, state, today)), key=lambda r: (r.year, r.seq), reverse=True)
    try:
        pg = max(1, int(page))
    except ValueError:
        pg = 1
    pages = max(1, (len(rows) + PAGE_SIZE - 1) // PAGE_SIZE)
    pg = min(pg, pages)
    form = {"year": ALL_YEARS if y is None else y, "state": state, "sender": sender, "q": q}
    senders = sorted({r.sender for r in in_year if r.sender} | ({sender} if sender else set()))
    return render(request, "incoming.html", {
        "today": today, "form": form, "year": y, "years": sorted(set(years) | ({y} if y else set())),
        "all_years": ALL_YEARS, "states": STATES, "senders": senders, "counts": counts, "count": len(rows),
        "rows": [(r, shown_state(r, today)) for r in rows[(pg - 1) * PAGE_SIZE: pg * PAGE_SIZE]],
        "page": pg, "pages": pages, "errors": errors, "state_class": STATE_CLASS, "incoming_url": incoming_url,
        "url": lambda **kw: "/incoming?" + urlencode({**form, **kw}),
        "page_url": lambda n: "/incoming?" + urlencode({**form, "page": n}),
        "xlsx_url": "/incoming.xlsx?" + urlencode({"year": y or today.year}),
        "flash": request.session.pop("flash", None), "receipts": request.session.pop("receipts", None),
    }, user=user)


@router.get("/incoming.xlsx")
def incoming_xlsx(request: Request, year: str = "", user: User = Depends(require("registers"))):
    """The 收文登记簿 of a year: the file `gongwen incoming register YEAR --xlsx` writes."""
    st = state_of(request)
    today = st.today()
    try:
        y = int(year) if year else today.year
    except ValueError:
        raise HTTPException(400, f"年度“{year}”不是数字") from None
    listing = register_listing(st.config, y, ledger=st.ledger, today=today)
    data = listing.xlsx_bytes(actor=user.name, when=st.now().replace(tzinfo=None))
    st.ledger.log("downloaded", actor=user.name, detail={"登记簿": listing.title, "条数": len(listing.rows),
                                                         "client": client_of(request)})
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(listing.title + '.xlsx')}",
                             "Cache-Control": "no-store"})


@router.post("/incoming/receive")
def receive_files(request: Request, files: list[UploadFile] = File(default=[]), allow_duplicate: str = Form(""),
                  user: User = Depends(require("incoming_handle"))):
    """收文登记 of files sent from the browser: `gongwen receive` on each (read, checked, registered,
    filed with its 处理笺, indexed); what happened to each is shown on the list."""
    st = state_of(request)
    chosen = [u for u in files if u.filename]
    if not chosen:
        request.session["flash"] = "请选择要登记的来文文件"
        return RedirectResponse("/incoming", status_code=303)
    svc = st.services(user.name)
    out: list[dict[str, Any]] = []
    try:
        with received(st.config, chosen) as paths:
            for path in paths:
                r = receive(path, svc, allow_duplicate=bool(allow_duplicate))
                out.append({"file": path.name, "status": r.status, "reference": r.reference or r.duplicate_of,
                            "title": (r.elements or {}).get("title") or "", "problems": [str(p) for p in r.problems]})
    except GongwenError as e:
        request.session["flash"] = str(e)
        return RedirectResponse("/incoming", status_code=303)
    registered = [r for r in out if r["status"] == "registered"]
    if len(out) == 1 and registered and not registered[0]["problems"]:
        request.session["flash"] = f"已登记为 {registered[0]['reference']}"
        return RedirectResponse(incoming_url(registered[0]["reference"]), status_code=303)
    request.session["receipts"] = out
    return RedirectResponse("/incoming", status_code=303)


def _row(request: Request, ref: str):
    ref = (ref or "").strip()
    if not ref or len(ref) > 40:
        raise HTTPException(404)
    row = IncomingRegister(state_of(request).ledger, state_of(request).config).get(ref)
    if row is None:
        raise HTTPException(404)
    return row


def _record(request: Request, row):
    st = state_of(request)
    rec = record_for(_reader(st), row.reference)
    if rec is not None and not rec.path.resolve().is_relative_to(st.store.root.resolve()):
        return None
    return rec


class _reader:
    """What ``record_for`` reads (ledger, config, store): no actor, no converter, no index."""

    def __init__(self, st):
        self.ledger, self.config, self.store = st.ledger, st.config, st.store


def _file_of(rec, role: str):
    """The file of ``role`` in the record, when its name is a plain name inside the record folder."""
    entry = next((f for f in rec.meta.get("电子文件", []) if f.get("稿本") == role), None) if rec else None
    return inside(rec.path, entry.get("计算机文件名", "")) if entry else None


def _doc_role(rec) -> str | None:
    """Whose pages show the document: the PDF/A 副本, else the 原件 when it is a PDF."""
    for role in ("副本", "原件"):
        path = _file_of(rec, role)
        if path is not None and path.suffix.lower() == ".pdf":
            return role
    return None


def _pages(path) -> int:
    import pikepdf

    try:
        with pikepdf.open(path) as pdf:
            return len(pdf.pages)
    except (pikepdf.PdfError, OSError):
        return 0


def _page(request: Request, row, user: User, *, failed: str = "", error: str = "", values: dict | None = None,
          status: int = 200):
    st = state_of(request)
    today = st.today()
    rec = _record(request, row)
    url = incoming_url(row.reference)
    files = []
    for role in FILE_ROLES:
        path = _file_of(rec, role)
        if path is not None:
            files.append({"role": role, "name": path.name, "size": path.stat().st_size,
                          "url": f"{url}/file/{quote(role)}"})
    doc_role = _doc_role(rec)
    slip = _file_of(rec, "处理笺")
    doc_pages = (row.pages or _pages(_file_of(rec, doc_role))) if doc_role else 0
    supervised = [i.supervise for i in row.instructions if i.supervise]
    return render(request, "incoming_item.html", {
        "row": row, "rec": rec, "shown": shown_state(row, today), "today": today, "url": url,
        "state_class": STATE_CLASS, "files": files, "doc_role": doc_role, "doc_pages": range(1, doc_pages + 1),
        "slip_pages": range(1, (_pages(slip) if slip else 0) + 1),
        "events": st.ledger.events(row.reference), "supervised": supervised,
        "days_over": (today - row.deadline).days if row.overdue(today) else 0,
        "reply_url": doc_url(row.reply_ref) if row.reply_ref else None,
        "units": list(st.config.supervision.units),
        "can": {"route": row.state != DONE, "instruct": row.state != DONE, "done": row.state != DONE},
        "failed": failed, "error": error, "values": values or {},
        "flash": request.session.pop("flash", None),
    }, user=user, status=status)


@router.get("/incoming/{ref}")
def item_page(request: Request, ref: str, user: User = Depends(require("incoming"))):
    row = _row(request, ref)
    if ref != row.reference:            # 2015-3, 3 or other spellings: one address per 收文
        return RedirectResponse(incoming_url(row.reference), status_code=303)
    return _page(request, row, user)


@router.get("/incoming/{ref}/file/{role}")
def item_file(request: Request, ref: str, role: str, user: User = Depends(require("incoming"))):
    if role not in FILE_ROLES:
        raise HTTPException(404)
    st = state_of(request)
    row = _row(request, ref)
    path = _file_of(_record(request, row), role)
    if path is None:
        raise HTTPException(404)
    st.ledger.log("downloaded", actor=user.name, reference=row.reference,
                  detail={"稿本": role, "文件": path.name, "client": client_of(request)})
    return FileResponse(path, filename=f"{row.reference}-{path.name}", headers={"Cache-Control": "no-store"},
                        content_disposition_type="attachment")


@router.get("/incoming/{ref}/page/{which}/{n}")
def page_image(request: Request, ref: str, which: str, n: int, user: User = Depends(require("incoming"))):
    return _image(request, ref, which, n, thumb=False)


@router.get("/incoming/{ref}/thumb/{which}/{n}")
def page_thumb(request: Request, ref: str, which: str, n: int, user: User = Depends(require("incoming"))):
    return _image(request, ref, which, n, thumb=True)


def _image(request: Request, ref: str, which: str, n: int, *, thumb: bool):
    if which not in PAGE_ROLES:
        raise HTTPException(404)
    st = state_of(request)
    rec = _record(request, _row(request, ref))
    role = PAGE_ROLES[which] or (_doc_role(rec) if rec else None)
    png = st.previews.page(rec, n, thumb=thumb, role=role) if role and _file_of(rec, role) else None
    if png is None:
        raise HTTPException(404)
    return FileResponse(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


def _change(request: Request, ref: str, user: User, name: str, values: dict, do) -> Response:
    """Run one handling step — ``do(svc, row)`` with the user as the actor — ; on success back to the
    page with a note, else the page again with the library's message beside the form, what was typed
    kept."""
    st = state_of(request)
    row = _row(request, ref)
    try:
        note = do(st.services(user.name), row)
    except GongwenError as e:
        return _page(request, _row(request, ref), user, failed=name, error=str(e), values=values, status=400)
    request.session["flash"] = note
    return RedirectResponse(incoming_url(row.reference), status_code=303)


def _date(value: str, what: str) -> dt.date | None:
    from ...supervise.sources import parse_date

    if not (value or "").strip():
        return None
    d = parse_date(value.strip())
    if d is None:
        raise GongwenError(f"{what}“{value}”无法识别（应为 2015-03-02 或 2015年3月2日）")
    return d


@router.post("/incoming/{ref}/route")
def route_form(request: Request, ref: str, lead_unit: str = Form(""), opinion: str = Form(""),
               user: User = Depends(require("incoming_handle"))):
    def do(svc, row):
        changed = route(svc, row.reference, lead_unit=lead_unit, opinion=opinion)
        return f"已拟办：承办单位 {changed.lead_unit}"
    return _change(request, ref, user, "route", {"lead_unit": lead_unit, "opinion": opinion}, do)


@router.post("/incoming/{ref}/instruct")
def instruct_form(request: Request, ref: str, leader: str = Form(""), text: str = Form(""), day: str = Form(""),
                  assign_to: str = Form(""), co_units: str = Form(""), deadline: str = Form(""),
                  user: User = Depends(require("incoming_instruct"))):
    def do(svc, row):
        co = tuple(u for u in re.split(r"[、，,；;\s]+", co_units) if u)
        if (co or deadline.strip()) and not assign_to.strip():
            raise GongwenError("协办单位和办结时限只用于交办督办的批示，请同时写明承办单位")
        changed, item = instruct(svc, row.reference, leader=leader, text=text, date=_date(day, "批示日期"),
                                 assign_to=assign_to, co_units=co, deadline=_date(deadline, "办结时限"))
        note = f"已记录 {leader.strip()} 的批示"
        if item:
            from ...supervise.index import sync_quietly
            from .supervise import _sync_lock

            with _sync_lock:
                late = sync_quietly(svc.ledger, svc.config, state_of(request).index)
            note += f"，已建立督办件 {item}" + (f"。提示：{late}" if late else "")
        return note
    return _change(request, ref, user, "instruct", {"leader": leader, "text": text, "day": day,
                                                    "assign_to": assign_to, "co_units": co_units,
                                                    "deadline": deadline}, do)


@router.post("/incoming/{ref}/done")
def done_form(request: Request, ref: str, result: str = Form(""), reply: str = Form(""),
              user: User = Depends(require("incoming_handle"))):
    def do(svc, row):
        changed = done(svc, row.reference, result=result, reply=reply or None)
        return "已办结" + (f"，复文 {changed.reply_ref}" if changed.reply_ref else "")
    return _change(request, ref, user, "done", {"result": result, "reply": reply}, do)
