"""The app in a real headless Chromium (Debian's `chromium`, driven by Playwright from PyPI — no browser
download): log in, search a phrase, open the document and see its page images, download the PDF and
compare its bytes with the archive's, run the 四性检测 as the archivist and watch it finish, add a 进展
and 销号 a 督办件 as the 督查, sign off a 清样 as a 领导 and see the draft numbered and its 签发人 in the
发文登记簿. One browser for the module. Screenshots of every page at 1366×768 (and four at phone size) go to
build/screenshots/ (docs/web.md names it)."""
from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support.web_instance import (
    PHRASE, PROOF_CASES, PROOF_ROUTE, PROOFS, SUPERVISED, YEAR, copy,
)
from tests.support.browser import SHOTS, launch, log_in, page_for, serving, shot

FLOOD = "珠政办发〔2015〕1号"

pytestmark = [pytest.mark.slow, pytest.mark.libreoffice, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(web_instance, tmp_path_factory):
    inst = copy(web_instance, tmp_path_factory.mktemp("browser") / "inst")
    with serving(inst.config) as base:
        yield inst, base


@pytest.fixture(scope="module")
def browser():
    with launch() as b:
        yield b


@pytest.fixture(scope="module", autouse=True)
def _shots():
    SHOTS.mkdir(parents=True, exist_ok=True)


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
    pages = int(rec.meta["页数"])
    assert imgs.count() == pages >= 2
    loaded = "img => img.complete && img.naturalWidth > 0"
    for k in range(pages):                                   # thumbnails, all in sight at once
        page.wait_for_function(loaded, arg=imgs.nth(k).element_handle(), timeout=60000)
    assert imgs.first.evaluate("img => img.naturalWidth") == 360
    shot(page, "04-文件")
    # A click enlarges a page in place; → turns to the next, Esc closes.
    imgs.first.click()
    big = page.locator(".lightbox img")
    page.wait_for_selector(".lightbox:not([hidden])")
    page.wait_for_function(loaded, arg=big.element_handle(), timeout=60000)
    assert big.evaluate("img => img.naturalWidth") > 800 and big.get_attribute("src").endswith("/page/1")
    assert page.locator(".lightbox figcaption").inner_text() == f"正本 第 1 / {pages} 页"
    shot(page, "04b-文件-大图")
    page.keyboard.press("ArrowRight")
    assert big.get_attribute("src").endswith("/page/2")
    page.keyboard.press("Escape")
    page.wait_for_selector(".lightbox", state="hidden")
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
    section = page.locator("section", has_text="最近一次四性检测")
    text = section.inner_text()
    # What failed is in sight; the items that passed (GD-ZS-1-1 here) are folded until asked for.
    assert "结论：" in text and "GD-WZ-4" in text and "GD-ZS-1-1" not in text
    shot(page, "09-年终-报告", full=True)
    section.locator("details.passed summary").click()
    assert "GD-ZS-1-1" in section.inner_text()
    ctx.close()


def test_the_inspector_adds_progress_and_closes_an_item(server, browser, tmp_path):
    from pipeline import supervise as sv
    from pipeline.ledger import Ledger

    inst, base = server
    ref = SUPERVISED["square"]
    photo = tmp_path / "整治后照片.jpg"
    photo.write_bytes(b"\xff\xd8 after \xff\xd9")
    report = tmp_path / "验收意见.pdf"
    report.write_bytes(b"%PDF-1.4 acceptance\n%%EOF\n")
    ctx, page = page_for(browser)
    errors = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("dialog", lambda d: d.accept())                 # the 销号 confirmation
    log_in(page, base, "inspector")
    page.get_by_role("link", name="督办").click()
    page.wait_for_selector("table.supervise")
    row = page.locator("table.supervise tr", has_text=ref)
    assert "late" in row.get_attribute("class")             # 逾期: in red
    assert row.locator(".badge").inner_text() == "逾期"
    shot(page, "13-督办")
    page.get_by_role("link", name=ref).click()
    page.wait_for_selector("#progress")
    shot(page, "14-督办件")

    def send(form: str, text: str, file: Path | None, button: str, answer: str):
        page.locator(f"#{form} textarea").fill(text)
        if file is not None:
            page.locator(f"#{form} input[type=file]").set_input_files(str(file))
        page.get_by_role("button", name=button).click()
        page.wait_for_selector(answer)
        return page.locator(answer).inner_text()

    assert "已记录进展" in send("progress", "广场整治已完成，摊点全部入市经营", photo, "记录进展", "p.msg.ok")
    assert page.locator(".timeline li").first.get_by_role("link", name="整治后照片.jpg").count() == 1
    # 销号 with only spaces: the library refuses and the page says why, next to the form.
    assert "销号须写明办结说明" in send("close", "   ", None, "销号", "#close p.msg.error")
    shot(page, "15-督办件-销号未填说明")
    assert "已销号" in send("close", "广场综合整治完成，长效管理机制已建立", report, "销号", "p.msg.ok")
    assert page.locator(".docnum .badge").inner_text() == "已办结"
    assert page.locator("#close").count() == 0
    with page.expect_download() as dl:
        page.get_by_role("link", name="验收意见.pdf").click()
    assert Path(dl.value.path()).read_bytes() == report.read_bytes()
    shot(page, "16-督办件-已销号", full=True)
    assert not [e for e in errors if "/close" not in e], errors     # the refused 销号 answers 400
    with Ledger.open(inst.config) as ledger:
        hist = sv.history(ledger, ref)
    assert [(h["event"], h["actor"]) for h in hist[-2:]] == [("进展", "inspector"), ("销号", "inspector")]
    ctx.close()


def test_a_leader_signs_off_a_清样_and_sees_the_draft_numbered(server, browser):
    from pipeline import intake
    from pipeline.process import open_services

    inst, base = server
    config = inst.config
    ctx, page = page_for(browser)
    errors = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("dialog", lambda d: d.accept())                 # 确认签发？
    log_in(page, base, "leader")
    page.get_by_role("link", name="清样", exact=True).click()
    page.wait_for_selector("table.waiting")
    assert page.locator("table.waiting tbody tr").count() == 2
    page.get_by_role("link", name=PROOFS["fire"][1]).click()
    page.wait_for_url(base + "/proofs/" + str(PROOF_CASES["fire"]))
    imgs = page.locator(".pages img")
    assert imgs.count() >= 1
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=imgs.first.element_handle(),
                           timeout=60000)
    assert imgs.first.evaluate("img => img.naturalWidth") == 360
    page.get_by_label("签发意见 / 退回意见").fill("同意")
    shot(page, "18-清样-签发")
    page.get_by_role("button", name="签发", exact=True).click()
    page.wait_for_selector("p.msg.ok")
    assert "已签发（同意），送编号" in page.locator("p.msg.ok").inner_text()
    assert page.locator(".docnum .badge").inner_text() == "已送编号"
    # The watch service, run once as `gongwen watch --once` would: it numbers the released draft. On
    # a thread of its own: Playwright's event loop runs on this one, and the signing runs its own.
    counts = {}
    watcher = threading.Thread(target=lambda: counts.update(intake.watch(
        config, lambda: open_services(config, "秘书组"), on_event=lambda e: None, once=True)))
    watcher.start()
    watcher.join(timeout=600)
    assert not watcher.is_alive() and counts.get("issued") == 1, counts
    page.reload()
    assert page.locator(".docnum .badge").inner_text() == "已编号"
    number = page.locator(".docnum a").inner_text()
    assert number == "珠政办发〔2016〕1号"
    page.goto(base + "/proofs")
    row = page.locator("table.states tr", has_text=number)
    assert "已编号" in row.inner_text() and "leader" in row.inner_text()
    shot(page, "19-清样-办理情况")
    page.goto(base + f"/registers?year=2016&series={PROOF_ROUTE}")
    register = page.locator("table.register")
    heads = register.locator("thead th").all_inner_texts()
    cells = register.locator("tbody tr", has_text=number).locator("td").all_inner_texts()
    assert cells[heads.index("签发人")] == "leader"
    assert not errors, errors
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
    page.goto(base + "/supervise")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    shot(page, "17-手机-督办")
    page.goto(base + "/proofs")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    shot(page, "20-手机-清样")
    ctx.close()
    assert len(list(SHOTS.glob("*.png"))) >= 20
