"""The app served on a local port and a real headless Chromium (Debian's, driven by Playwright), with
log-in and screenshot helpers, for the browser tests."""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from samples.instance import REPO
from tests.support.web_instance import PASSWORD, cheap_hasher

CHROMIUM = Path("/usr/bin/chromium")


SHOTS = REPO / "build" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(config, clock=None):
    """The app for ``config`` served by uvicorn on a free local port (its base URL), stopped after."""
    import uvicorn

    from pipeline import accounts
    from pipeline.web import create_app

    accounts.set_hasher(cheap_hasher())
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(config, clock=clock), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=30)
        accounts.set_hasher(None)


@contextmanager
def launch():
    """Debian's Chromium, headless, driven by Playwright; closed after."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed (make system-deps installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                              args=["--disable-background-networking", "--disable-component-update",
                                    "--no-first-run", "--disable-sync"])
        try:
            yield b
        finally:
            b.close()


def page_for(browser, *, phone: bool = False):
    ctx = browser.new_context(viewport={"width": 390, "height": 844} if phone else {"width": 1366, "height": 768},
                              locale="zh-CN", accept_downloads=True, device_scale_factor=1)
    return ctx, ctx.new_page()


def log_in(page, base: str, name: str):
    page.goto(base + "/")
    assert "/login" in page.url
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(base + "/")


def shot(page, name: str, full: bool = False):
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)
