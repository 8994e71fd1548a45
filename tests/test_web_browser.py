"""The app in a real headless Chromium (Debian's `chromium`, driven by Playwright from PyPI — no browser
download): log in, search a phrase, open the document and see its page images, download the PDF and
compare its bytes with the archive's, run the 四性检测 as the archivist and watch it finish. One
browser for the module. Screenshots of every page at 1366×768 (and two at phone size) go to
build/screenshots/ (docs/web.md names it)."""
from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import REPO
from tests.web_instance import PASSWORD, PHRASE, YEAR, cheap_hasher, copy

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "build" / "screenshots"
FLOOD = "珠政办发〔2015〕1号"

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(web_instance, tmp_path_factory):
    import uvicorn

    from pipeline import accounts
    from pipeline.web import create_app

    accounts.set_hasher(cheap_hasher())
    inst = copy(web_instance, tmp_path_factory.mktemp("browser") / "inst")
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(inst.config), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield inst, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
    accounts.set_hasher(None)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed (make system-deps installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                              args=["--disable-background-networking", "--disable-component-update",
                                    "--no-first-run", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture(scope="module", autouse=True)
def _shots():
    SHOTS.mkdir(parents=True, exist_ok=True)


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


def test_a_reader_searches_opens_sees_pages_and_downloads_the_pdf(server, browser):
    inst, base = server
    from pipeline.archive import ArchiveStore

    ctx, page = page_for(browser)
    errors = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(base + "/login")
    shot(page, "01-登录")
    log_in(page, base, "reader")
    shot(page, "02-首页概况")
    page.get_by_label("检索词").fill(f'"{PHRASE}"')
    page.get_by_role("button", name="检索").click()
    page.wait_for_selector("ol.hits li")
    assert page.locator("ol.hits li").count() == 1
    assert page.locator("mark").first.inner_text() == PHRASE
    shot(page, "03-检索结果")
    page.locator("ol.hits a.title").first.click()
    page.wait_for_url(base + "/doc/" + quote(FLOOD, safe=""))
    imgs = page.locator(".pages img")
    rec = ArchiveStore(inst.config).find(FLOOD)
    assert imgs.count() == int(rec.meta["页数"])
    first = imgs.first
    first.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=first.element_handle(), timeout=60000)
    assert first.evaluate("img => img.naturalWidth") > 800
    shot(page, "04-文件")
    with page.expect_download() as dl:
        page.get_by_role("link", name="下载正本").click()
    path = dl.value.path()
    assert Path(path).read_bytes() == rec.file("正本").read_bytes()
    assert page.get_by_role("link", name="下载原稿").count() == 0        # a reader may not (default config)
    page.get_by_role("button", name="立即核验").click()
    page.wait_for_selector("#verify p.ok")
    assert "核验通过" in page.locator("#verify").inner_text()
    page.locator("#verify").scroll_into_view_if_needed()
    shot(page, "05-文件-核验")
    assert not errors, errors
    page.goto(base + "/registers")
    assert "没有权限" in page.content()
    shot(page, "06-无权限")
    ctx.close()


def test_the_archivist_runs_the_check_and_sees_the_report(server, browser):
    inst, base = server
    ctx, page = page_for(browser)
    log_in(page, base, "archivist")
    page.goto(base + f"/registers?year={YEAR}")
    assert FLOOD in page.content()
    shot(page, "07-登记簿")
    page.goto(base + f"/yearend?year={YEAR}")
    page.get_by_role("button", name="四性检测").click()
    page.wait_for_selector(".job.running, .job.ok, .job.bad")
    shot(page, "08-年终-检测中")
    # gongwen.js polls the job and reloads the page when it ends.
    page.wait_for_selector(".job.ok, .job.bad", timeout=300000)
    page.wait_for_selector("table.report")
    text = page.locator("section", has_text="最近一次四性检测").inner_text()
    assert "结论：" in text and "GD-ZS-1-1" in text
    shot(page, "09-年终-报告", full=True)
    ctx.close()


def test_screenshots_of_the_other_pages_and_on_a_phone(server, browser):
    inst, base = server
    ctx, page = page_for(browser)
    log_in(page, base, "admin")
    page.goto(base + "/users")
    shot(page, "10-用户")
    ctx.close()
    ctx, page = page_for(browser, phone=True)
    log_in(page, base, "clerk")
    page.get_by_label("检索词").fill("通知")
    page.get_by_role("button", name="检索").click()
    page.wait_for_selector("ol.hits li")
    shot(page, "11-手机-检索")
    page.goto(base + "/doc/" + quote(FLOOD, safe=""))
    # On a narrow screen nothing may overflow sideways (tables scroll inside their own box).
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    shot(page, "12-手机-文件")
    ctx.close()
    assert len(list(SHOTS.glob("*.png"))) >= 12
