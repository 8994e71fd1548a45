"""清样 and 签发: the 清样 waiting for a leader's 签发 with their pages and PDF, a 清样's page where a
领导 writes the 签发意见 and signs it off (签发 and 送编号 in one step) or sends it back (退回), and the
state of every draft on its way to a number — 待签发, 已退回 with the opinion, 已送编号, 已编号 with the 文号.

Everything is a call to pipeline.signoff, as `gongwen release` and `gongwen return` make it, with the
logged-in 领导 as 签发人 and actor: the same 签发 event, the same move from proofs/<route>/ to
inbox/<route>/ where the watch service numbers it. The page passes the content hash of the 清样 it
showed (``seen``), so a 清样 replaced meanwhile is neither signed nor sent back unseen. Files are found
through the 清样签发登记 by case number, never by a path from the request, and only inside proofs/."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from ...accounts import User
from ...errors import GongwenError
from ...model import Signoff
from ...proofs import has_current_proof
from ...signoff import (
    NUMBERED, PROOFED, RELEASED, RETURNED, SIGNED, Case, case, case_history, cases, release, send_back,
)
from ..app import Nav, render, require, state_of
from ..security import inside_tree

router = APIRouter()
NAV = (Nav("清样", "/proofs", "proofs", 25),)
RECENT = 20                    # numbered drafts still shown in the list, newest first
ACTIVE = (PROOFED, RETURNED, SIGNED)     # a 领导 may still 签发 or 退回 (the draft is in proofs/)
STATE_CLASS = {PROOFED: "wait", RETURNED: "back", SIGNED: "signed", RELEASED: "sent", NUMBERED: "done"}


def case_url(case_id: int) -> str:
    return f"/proofs/{case_id}"


def _rel(c: Case) -> str:
    return f"{c.route}/{c.name}" if c.route else c.name


def draft_file(config, c: Case):
    """The case's draft, only while it lies inside proofs/ (None otherwise, whatever the book says)."""
    return inside_tree(config.proofs, _rel(c))


def proof_file(config, c: Case):
    """The case's 清样 PDF, only when it lies inside proofs/."""
    if c.pdf is None:
        return None
    try:
        rel = c.pdf.relative_to(config.proofs)
    except ValueError:
        return None
    return inside_tree(config.proofs, rel.as_posix())


def _case(request: Request, case_id: int) -> Case:
    found = case(state_of(request).ledger, state_of(request).config, case_id)
    if found is None:
        raise HTTPException(404)
    return found


def _pages(pdf) -> int:
    from pypdf import PdfReader

    try:
        return len(PdfReader(pdf).pages)
    except Exception:           # a damaged 清样 shows no pages; the PDF link still says what it is
        return 0


@router.get("/proofs")
def proofs_page(request: Request, user: User = Depends(require("proofs"))):
    st = state_of(request)
    config = st.config
    open_cases = cases(st.ledger, config, open_only=True)
    waiting = []
    for c in open_cases:
        if c.state == PROOFED and proof_file(config, c) is not None:
            path = draft_file(config, c)
            waiting.append((c, path is not None and has_current_proof(st, path)))
    numbered = cases(st.ledger, config, states=(NUMBERED,))[:RECENT]
    return render(request, "proofs.html", {
        "waiting": waiting, "rows": open_cases + numbered, "recent": RECENT, "state_class": STATE_CLASS,
        "case_url": case_url, "flash": request.session.pop("flash", None),
    }, user=user)


def _case_page(request: Request, c: Case, user: User, *, error: str = "", opinion: str = "", status: int = 200):
    st = state_of(request)
    config = st.config
    pdf = proof_file(config, c)
    path = draft_file(config, c)
    live = c.state in ACTIVE and pdf is not None and path is not None
    return render(request, "proof.html", {
        "c": c, "url": case_url(c.id), "pages": range(1, (_pages(pdf) if pdf else 0) + 1),
        "has_pdf": pdf is not None and c.state in ACTIVE, "current": live and has_current_proof(st, path),
        "can_act": live, "history": case_history(st.ledger, config, c.id), "state_class": STATE_CLASS,
        "error": error, "opinion": opinion, "today": st.today(), "flash": request.session.pop("flash", None),
    }, user=user, status=status)


@router.get("/proofs/{case_id}")
def case_page(request: Request, case_id: int, user: User = Depends(require("proofs"))):
    return _case_page(request, _case(request, case_id), user)


@router.get("/proofs/{case_id}/pdf")
def case_pdf(request: Request, case_id: int, user: User = Depends(require("proofs"))):
    st = state_of(request)
    c = _case(request, case_id)
    pdf = proof_file(st.config, c) if c.state in ACTIVE else None
    if pdf is None:
        raise HTTPException(404)
    return FileResponse(pdf, filename=pdf.name, media_type="application/pdf", headers={"Cache-Control": "no-store"},
                        content_disposition_type="inline")


def _image(request: Request, case_id: int, n: int, thumb: bool) -> Response:
    st = state_of(request)
    c = _case(request, case_id)
    pdf = proof_file(st.config, c) if c.state in ACTIVE else None
    png = st.previews.file_page(pdf, n, thumb=thumb) if pdf is not None else None
    if png is None:
        raise HTTPException(404)
    return FileResponse(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/proofs/{case_id}/page/{n}")
def case_page_image(request: Request, case_id: int, n: int, user: User = Depends(require("proofs"))):
    return _image(request, case_id, n, thumb=False)


@router.get("/proofs/{case_id}/thumb/{n}")
def case_thumb(request: Request, case_id: int, n: int, user: User = Depends(require("proofs"))):
    return _image(request, case_id, n, thumb=True)


def _seen(seen: str) -> None:
    if not seen:
        raise GongwenError("表单未注明所看的清样，请刷新页面、看过清样后再签发或退回")


def _act(request: Request, case_id: int, user: User, opinion: str, do) -> Response:
    """Run ``do(st, case)`` (the library call); on success back to the list with a note, else the
    清样's page again with the library's message and the opinion as typed."""
    st = state_of(request)
    c = _case(request, case_id)
    try:
        if draft_file(st.config, c) is None or proof_file(st.config, c) is None:
            raise GongwenError(f"{c.name} 或其清样已不在清样文件夹中（已送编号、已编号或被移走），不能签发或退回")
        done = do(st, c)
    except GongwenError as e:
        return _case_page(request, _case(request, case_id), user, error=str(e), opinion=opinion, status=400)
    request.session["flash"] = done
    return RedirectResponse(case_url(c.id), status_code=303)


@router.post("/proofs/{case_id}/sign")
def sign_off(request: Request, case_id: int, opinion: str = Form(""), seen: str = Form(""),
             user: User = Depends(require("signoff"))):
    """签发 and 送编号: `gongwen release DRAFT --signer <the user> --opinion …`, for the 清样 shown."""
    def do(st, c):
        _seen(seen)
        text = opinion.strip()
        if not text:
            raise GongwenError("签发须写明签发意见（如“同意”）")
        so = Signoff(signer=user.name, date=st.today(), opinion=text)
        done = release(st.ledger, st.config, c.id, actor=user.name, signoff=so, seen_hash=seen)
        where = done.draft.relative_to(st.config.base) if done.draft.is_relative_to(st.config.base) else done.draft
        return f"已签发（{so.opinion}），送编号：{where}；监视服务编号后此处显示文号"
    return _act(request, case_id, user, opinion, do)


@router.post("/proofs/{case_id}/return")
def send_back_page(request: Request, case_id: int, opinion: str = Form(""), seen: str = Form(""),
                   user: User = Depends(require("signoff"))):
    """退回: `gongwen return DRAFT --by <the user> --opinion …`; the draft stays in proofs/."""
    def do(st, c):
        _seen(seen)
        back = send_back(st.ledger, st.config, c.id, by=user.name, opinion=opinion, actor=user.name,
                         seen_hash=seen)
        return f"已退回：{back.return_opinion}"
    return _act(request, case_id, user, opinion, do)
