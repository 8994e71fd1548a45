"""登录 and 退出: the login form, the per-account throttle (pipeline.accounts) and a per-client limit."""
from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from ..app import client_of, current_user, render, state_of
from ..security import new_token

router = APIRouter()


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no //host, no scheme): an open redirect would help phishing."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, next: str = "/"):
    if current_user(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "error": ""})


@router.post("/login")
def login(request: Request, name: str = Form(""), password: str = Form(""), next: str = Form("/")):
    # A plain def: Argon2 takes a while and runs in the thread pool, not on the event loop.
    st = state_of(request)
    client = client_of(request)
    if st.limiter.blocked(client):
        return render(request, "login.html", {"next": _safe_next(next), "name": name,
                                              "error": "本机登录失败次数过多，请稍后再试"}, status=429)
    result = st.accounts.authenticate(name, password, client=client)
    if result.user is None:
        st.limiter.failed(client)
        return render(request, "login.html", {"next": _safe_next(next), "name": name, "error": result.reason},
                      status=429 if result.locked else 401)
    st.limiter.succeeded(client)
    request.session.clear()
    request.session.update({"uid": result.user.id, "ver": result.user.updated_at, "csrf": new_token()})
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request):
    user = current_user(request)
    if user is not None:
        state_of(request).ledger.log("logout", actor=user.name, detail={"client": client_of(request)})
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
