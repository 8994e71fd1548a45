"""年终: per year, the arrangement (整理方案) status, the last 四性检测 report item by item with every
failing 件 linked, and — for the 档案 role — archive / check / handover as background jobs."""
from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse

from ...accounts import User
from ...yearend.arrange import load_plan
from ...yearend.report import load_last_report
from ..app import Nav, render, require, state_of
from ..jobs import KINDS

router = APIRouter()
NAV = (Nav("年终", "/yearend", "yearend_view", 40),)


def _year(value, st) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        years = st.ledger.years()
        return years[-1] if years else dt.date.today().year


@router.get("/yearend")
def yearend_page(request: Request, year: str = "", user: User = Depends(require("yearend_view"))):
    st = state_of(request)
    y = _year(year, st)
    errors: list[str] = []
    try:
        plan = load_plan(st.config, y)
    except Exception as e:  # noqa: BLE001 — a damaged plan file is shown, not a 500
        plan, errors = None, errors + [str(e)]
    try:
        report = load_last_report(st.config, y)
    except Exception as e:  # noqa: BLE001
        report, errors = None, errors + [str(e)]
    jobs = st.jobs.for_year(y)
    return render(request, "yearend.html", {
        "year": y, "years": sorted(set(st.ledger.years()) | {y}), "plan": plan, "report": report,
        "jobs": jobs[:10], "active": next((j for j in jobs if j.active), None), "kinds": KINDS, "errors": errors,
        "classes": [(k, es) for k, es in sorted(plan.classes.items(), key=lambda kv: kv[0].sort_key())] if plan else [],
    }, user=user)


@router.post("/yearend/{year}/run")
def run_job(request: Request, year: int, kind: str = Form(...), user: User = Depends(require("yearend_run"))):
    st = state_of(request)
    if kind not in KINDS:
        raise HTTPException(404)
    job = st.jobs.submit(kind, year, user.name)
    return RedirectResponse(f"/yearend?year={year}#job-{job.id}", status_code=303)


@router.get("/jobs/{job_id}")
def job_status(request: Request, job_id: str, user: User = Depends(require("yearend_view"))):
    job = state_of(request).jobs.get(job_id)
    if job is None:
        raise HTTPException(404)
    return JSONResponse(job.to_json())
