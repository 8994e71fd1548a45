"""The app: its state, sessions and CSRF, who is logged in, what they may do, and the page modules.

Every page calls the library (pipeline.search, .archive, .ledger, .yearend, .accounts) exactly as the
CLI does; nothing here decides a rule of the office. The state is opened once per process: one Ledger
connection (thread-safe, shared by the request threads and the jobs), one search index (it follows
rebuilds by other processes), one ArchiveStore.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from .. import __version__
from ..accounts import ACTION_NAMES, Accounts, User, may
from ..archive import ArchiveStore
from ..config import Config
from ..errors import GongwenError
from ..ledger import EVENT_NAMES, Ledger
from .security import CSRF_FIELD, ClientLimiter, SecureHeaders, new_token, same_token, session_secret

if TYPE_CHECKING:
    from ..convert import Converter
    from ..search import FolderIndex

HERE = Path(__file__).resolve().parent
log = logging.getLogger("gongwen.web")


class LoginRequired(Exception):
    pass


class Forbidden(Exception):
    def __init__(self, action: str):
        self.action = action


class BadForm(Exception):
    pass


def form_text(form: FormData, key: str) -> str:
    """A text field of a posted form ("" when absent); a file sent in its place is refused."""
    value = form.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise StarletteHTTPException(400, f"表单项“{key}”应为文字，不是文件。")
    return value


class WebState:
    """What the pages share, opened once per process."""

    def __init__(self, config: Config, *, clock: Callable[[], dt.datetime] | None = None):
        self.config = config
        self._clock = clock
        self.limiter = ClientLimiter()
        self._index: FolderIndex | None = None
        self._index_lock = threading.Lock()
        self._converter: Converter | None = None
        self.closed = True
        self.open()

    def open(self) -> None:
        """Open the ledger, accounts, archive store and jobs (again, after close())."""
        from .jobs import JobRunner
        from .previews import Previews

        self.ledger = Ledger.open(self.config, **({"clock": self._clock} if self._clock else {}))
        try:
            self.accounts = Accounts(self.ledger)
            self.store = ArchiveStore(self.config)
        except BaseException:
            self.ledger.close()
            raise
        self.previews = Previews(self.config)
        self.jobs = JobRunner(self)
        self.closed = False

    def now(self) -> dt.datetime:
        """The app's clock (injected in tests), as the ledger stamps events."""
        return self._clock() if self._clock else dt.datetime.now().astimezone()

    def today(self) -> dt.date:
        """The day that decides 逾期 and a form's default date."""
        return self.now().date()

    def index(self):
        """The search index, opened on first use (built from the archive when missing)."""
        with self._index_lock:
            if self._index is None:
                from ..search import open_index

                self._index = open_index(self.config)
            return self._index

    def converter(self):
        """The LibreOffice the pages' library calls need (a 收文处理笺 made again after a 批示), started
        on first use and kept; its own work folder (another process's converter makes it use a
        temporary one, see convert.Converter). Thread-safe: conversions queue on its lock."""
        with self._index_lock:
            if self._converter is None:
                from ..convert import Converter

                self._converter = Converter(self.config, workdir=self.config.work_dir / "web" / "converter")
            return self._converter

    def services(self, actor: str):
        """A ``process.Services`` on the app's ledger, store, index and converter, with ``actor`` as
        the one who acts: what the library's 收文 functions take (never closed by the page)."""
        from ..process import Services

        return Services(config=self.config, actor=actor, ledger=self.ledger, store=self.store,
                        _converter=self.converter(), _index=self.index())

    def close(self) -> None:
        self.jobs.close()
        with self._index_lock:
            if self._converter is not None:
                self._converter.stop()
                self._converter = None
            if self._index is not None:
                self._index.close()
                self._index = None
        self.ledger.close()
        self.closed = True


@dataclass(frozen=True)
class Nav:
    """A page in the navigation bar: shown to those who may ``action``; ``order`` sorts the bar."""

    label: str
    path: str
    action: str
    order: int


def state_of(request: Request) -> WebState:
    return request.app.state.web


def current_user(request: Request) -> User | None:
    """The logged-in user, re-read on every request: a disabled account, a new password or new roles
    end existing sessions at once (the session remembers the account's updated_at)."""
    uid = request.session.get("uid")
    if uid is None:
        return None
    user = state_of(request).accounts.by_id(uid)
    if user is None or not user.active or request.session.get("ver") != user.updated_at:
        request.session.pop("uid", None)
        return None
    return user


def require(action: str):
    """A dependency: the user, who must be logged in and allowed ``action`` (else login or 403)."""
    def dep(request: Request) -> User:
        user = current_user(request)
        if user is None:
            raise LoginRequired()
        if not may(user.roles, action, state_of(request).config):
            raise Forbidden(action)
        return user
    return dep


def allowed(request: Request, user: User | None, action: str) -> bool:
    return user is not None and may(user.roles, action, state_of(request).config)


def csrf_token(request: Request) -> str:
    tok = request.session.get("csrf")
    if not tok:
        tok = request.session["csrf"] = new_token()
    return tok


async def csrf_guard(request: Request) -> None:
    """Every POST, whichever page module it is in, carries the session's CSRF token."""
    if request.method != "POST":
        return
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if not isinstance(token, str) or not same_token(request.session.get("csrf"), token):
        raise BadForm()


def client_of(request: Request) -> str:
    return request.client.host if request.client else ""


def doc_url(ident: str) -> str:
    return "/doc/" + quote(ident, safe="")


def render(request: Request, template: str, ctx: dict | None = None, *, status: int = 200,
           user: User | None = None) -> HTMLResponse:
    st = state_of(request)
    user = user if user is not None else current_user(request)
    nav = [n for n in request.app.state.nav if allowed(request, user, n.action)]
    base = {"user": user, "nav": nav, "csrf_token": csrf_token(request), "csrf_field": CSRF_FIELD,
            "org": st.config.organisation.name, "version": __version__, "path": request.url.path,
            "may": lambda action: allowed(request, user, action), "doc_url": doc_url,
            "event_name": lambda e: EVENT_NAMES.get(e, e), "urlencode": urlencode}
    return request.app.state.templates.TemplateResponse(request, template, {**base, **(ctx or {})},
                                                        status_code=status)


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html", {"title": title, "message": message}, status=status)


def create_app(config: Config, *, clock: Callable[[], dt.datetime] | None = None) -> FastAPI:
    """The app for ``config``. Its state is opened here and closed with the app's lifespan."""
    from contextlib import asynccontextmanager

    from .pages import MODULES

    state = WebState(config, clock=clock)

    @asynccontextmanager
    async def lifespan(app):
        if state.closed:        # served again after a shutdown (a test client used twice)
            state.open()
        yield
        state.close()

    app = FastAPI(title="gongwen", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan,
                  dependencies=[Depends(csrf_guard)])
    app.state.web = state
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["action_names"] = ACTION_NAMES
    app.state.templates = templates
    app.state.nav = []
    for module in MODULES:
        app.include_router(module.router)
        app.state.nav.extend(getattr(module, "NAV", ()))
    app.state.nav.sort(key=lambda n: n.order)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden):
        return error_page(request, 403, "没有权限", f"您的角色不能{ACTION_NAMES.get(exc.action, exc.action)}。"
                                                   "如需此权限，请联系管理员。")

    @app.exception_handler(BadForm)
    async def _bad_form(request: Request, exc: BadForm):
        return error_page(request, 403, "表单已失效", "表单缺少有效的校验码（可能页面已过期或来自其他网站）。"
                                                     "请返回，刷新页面后重试。")

    @app.exception_handler(GongwenError)
    async def _domain(request: Request, exc: GongwenError):
        return error_page(request, 400, "无法完成", str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return error_page(request, 404, "找不到", "没有这个页面或文件。")
        if exc.status_code == 405:
            return error_page(request, 405, "不支持的操作", "此地址不支持这种请求。")
        return error_page(request, exc.status_code, "出错了", str(exc.detail))

    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return error_page(request, 400, "参数有误", "请求中的参数无法识别（例如页码或年度不是数字）。")

    # Sessions wrap everything (added last = outermost after the headers).
    app.add_middleware(SessionMiddleware, secret_key=session_secret(config), session_cookie="gongwen_session",
                       max_age=int(config.web.session_hours * 3600), same_site="lax",
                       https_only=config.web.behind_tls_proxy)
    app.add_middleware(SecureHeaders)
    return app
