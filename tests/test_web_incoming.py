"""The 收文 page through the test client, on the web instance with the 收文 of tests/support/web_instance.py
INCOMING (real PDFs received through the library): the 收文登记簿 list with its filters and counts,
逾期 in red, its .xlsx; a 收文's page with its register entry, page images of the document and of its
处理笺, files, history and the links both ways to the 发文 that answers it; who may do what (办文 拟办
and 办结, 领导 批示); the changes themselves, each an event under the web user's name with the 处理笺 made
again — a 批示 交办督办 making a 督办件 —, the library's refusals beside the form; receiving a file from
the browser; escaping and path safety. One test drives a real Chromium: a leader writes a 批示."""
from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from tests.support.web import Clock, app_for, cards, login, rows, token
from tests.support.web_instance import INCOMING, INCOMING_TODAY, USERS, add_incoming, copy

pytestmark = [pytest.mark.slow, pytest.mark.libreoffice, pytest.mark.browser, pytest.mark.usefixtures("cheap_hashes")]
NOTICE, REQUEST, URGENT, HOSTILE = (INCOMING[k] for k in ("notice", "request", "urgent", "hostile"))
CST = dt.timezone(dt.timedelta(hours=8))
TODAY = Clock(dt.datetime(INCOMING_TODAY.year, INCOMING_TODAY.month, INCOMING_TODAY.day, 10, 0, tzinfo=CST))


def page(ref: str) -> str:
    return "/incoming/" + quote(ref, safe="")


def forms(html: str) -> set[str]:
    return set(re.findall(r'<form method="post" action="/incoming/[^"]*/(route|instruct|done)"', html))


@pytest.fixture(scope="module")
def received(web_instance, tmp_path_factory, lo_converter):
    """The web instance with the 收文 (built once; tests copy it before changing it)."""
    root = tmp_path_factory.mktemp("web-incoming")
    inst = copy(web_instance, root / "inst")
    add_incoming(inst, root / "docs", lo_converter)
    return inst, root / "docs"


@pytest.fixture(scope="module")
def clients(received):
    """One logged-in client per role on a read-only app (nothing here changes a 收文)."""
    with TestClient(app_for(received[0], TODAY)) as first:
        out = {}
        for name in USERS:
            c = TestClient(first.app)
            assert login(c, name).status_code == 303
            out[name] = c
        yield out
        for c in out.values():
            c.close()


@pytest.fixture(scope="module")
def acting(received, tmp_path_factory):
    """A copy the tests change, one app (one LibreOffice for the 处理笺) and a client per role."""
    inst = copy(received[0], tmp_path_factory.mktemp("acting") / "inst")
    with TestClient(app_for(inst, TODAY)) as first:
        out = {}
        for name in ("clerk", "leader", "reader"):
            c = TestClient(first.app)
            assert login(c, name).status_code == 303
            out[name] = c
        yield inst, out
        for c in out.values():
            c.close()


def post(client: TestClient, url: str, data: dict, **kw):
    return client.post(url, data={**data, "csrf_token": token(client, kw.pop("form_page", "/incoming"))},
                       follow_redirects=False, **kw)


# --- the list --------------------------------------------------------------------------------------------

def test_the_list_shows_the_register_with_overdue_in_red(clients):
    html = clients["reader"].get("/incoming").text     # no year: the app's year (2015)
    assert "收文登记簿（2015 年度）" in html and "截至 2015-06-10" in html
    assert rows(html) == {URGENT: "late", HOSTILE: "", NOTICE: "", REQUEST: ""}
    assert list(rows(html)) == [HOSTILE, URGENT, REQUEST, NOTICE]          # newest first
    assert cards(html) == {"收文": "4", "未办结": "3", "其中逾期": "1", "已办结": "1"}
    assert '<span class="badge in-late">逾期</span><small class="bad">8 天</small>' in html   # 时限 2015-06-02
    assert "衡政发〔2015〕12号" in html and "衡阳市人民政府" in html and "特急" in html
    assert '<a href="/incoming" class="on" aria-current="page">收文</a>' in html      # in the navigation bar
    assert "收文登记" not in html.split("</table>")[1]                       # the upload form is for 办文


@pytest.mark.parametrize("query, expect", [
    ({"state": "未办结"}, {NOTICE, URGENT, HOSTILE}),
    ({"state": "逾期"}, {URGENT}),
    ({"state": "已办结"}, {REQUEST}),
    ({"state": "待办"}, {URGENT, HOSTILE}),
    ({"state": "办理中"}, {NOTICE}),
    ({"sender": "珠晖区安全生产监督管理局"}, {REQUEST}),
    ({"sender": "衡阳市人民政府", "state": "逾期"}, {URGENT}),
    ({"q": "森林防火"}, {URGENT}),
    ({"q": "区安监局"}, {NOTICE}),                                          # the 承办单位
    ({"q": "珠安监〔2015〕8号"}, {REQUEST}),
    ({"year": "全部"}, {NOTICE, REQUEST, URGENT, HOSTILE}),
    ({"year": "2016"}, set()),
])
def test_the_list_filters(clients, query, expect):
    html = clients["clerk"].get("/incoming?" + "&".join(f"{k}={quote(v)}" for k, v in query.items())).text
    assert set(rows(html)) == expect
    assert f"共 <strong>{len(expect)}</strong> 件" in html


def test_bad_filter_values_are_named_not_a_500(clients):
    r = clients["reader"].get("/incoming?state=" + quote("已完成") + "&year=x&page=y")
    assert r.status_code == 200
    assert "没有“已完成”这种状态" in r.text and "年度“x”不是数字" in r.text


def test_the_xlsx_is_the_register_the_cli_writes(clients, received):
    from openpyxl import load_workbook

    from pipeline.incoming import register_listing

    r = clients["clerk"].get("/incoming.xlsx?year=2015")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(r.content)).active
    cells = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    listing = register_listing(received[0].config, 2015, today=INCOMING_TODAY)
    heading = next(row for row in cells if row and row[0] == "序号")
    assert tuple(heading[:len(listing.columns)]) == tuple(h for _, h in listing.columns)
    body = [row for row in cells if row and isinstance(row[0], int)]
    assert [row[1] for row in body] == [NOTICE, REQUEST, URGENT, HOSTILE]
    assert body[2][16] == "待办（逾期）" and body[1][14] == received[0].references["notice"]
    assert clients["reader"].get("/incoming.xlsx").status_code == 403      # as the 发文登记簿: 登记簿 roles


# --- a 收文's page ---------------------------------------------------------------------------------------

def test_the_page_shows_the_entry_the_pages_the_files_and_the_history(clients, received):
    from pipeline.archive import ArchiveStore

    c = clients["reader"]
    html = c.get(page(NOTICE)).text
    assert "衡阳市人民政府关于开展2015年安全生产大检查的通知" in html
    for text in ("衡政发〔2015〕12号", "2015-02-16", "区安监局", "拟请区安监局牵头办理", "文本层"):
        assert text in html, text
    assert 'src="/incoming/%E6%94%B6%E3%80%942015%E3%80%951%E5%8F%B7/thumb/doc/1"' in html
    assert "/thumb/slip/1" in html
    history = html.split("<h2>办理过程</h2>")[1]
    assert re.search(r"收文登记</td><td>收文员", history) and re.search(r"拟办</td><td>收文员", history)
    for kind in ("doc", "slip"):
        for size in ("thumb", "page"):
            r = c.get(f"{page(NOTICE)}/{size}/{kind}/1")
            assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content[:4] == b"\x89PNG"
    r = c.get(page(NOTICE) + "/file/" + quote("处理笺"))
    slip = ArchiveStore(received[0].config).find(NOTICE).file("处理笺")
    assert r.status_code == 200 and r.content == slip.read_bytes()
    assert "拟请区安监局牵头办理" in _text(slip)                              # the 拟办 is on the 处理笺
    assert "下载处理笺" in c.get(page(NOTICE)).text.split('class="side"')[1]


def _text(pdf) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True).stdout
    return "".join(out.split())


def test_a_收文_and_the_发文_that_answers_it_link_both_ways(clients, received):
    reply = received[0].references["notice"]
    c = clients["reader"]
    html = c.get(page(REQUEST)).text
    assert f'<a href="/doc/{quote(reply, safe="")}">{reply}</a>' in html
    assert "同意拨付" in html
    doc = c.get("/doc/" + quote(reply, safe="")).text
    assert f'<th>答复来文</th><td><a href="{page(REQUEST)}">{REQUEST}</a>' in doc
    r = c.get("/doc/" + quote(NOTICE, safe=""), follow_redirects=False)      # a 收文 found by 检索
    assert r.status_code == 303 and r.headers["location"] == page(NOTICE)


def test_other_spellings_lead_to_one_address_and_unknown_ones_nowhere(clients):
    c = clients["reader"]
    r = c.get("/incoming/2015-3", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == page(URGENT)
    assert c.get(page(URGENT)).text.count("已逾期 8 天") == 1
    assert c.get("/incoming/" + quote("收〔2015〕99号")).status_code == 404


@pytest.mark.parametrize("who, expect", [
    ("reader", set()), ("clerk", {"route", "done"}), ("leader", {"instruct"}), ("inspector", set()),
    ("archivist", set()), ("admin", set()),
])
def test_each_role_sees_the_forms_it_may_use(clients, who, expect):
    assert clients[who].get(page(HOSTILE)).status_code == 200
    assert forms(clients[who].get(page(HOSTILE)).text) == expect
    assert ("收文登记" in clients[who].get("/incoming").text.split("</table>")[1]) == (who == "clerk")
    assert forms(clients[who].get(page(REQUEST)).text) == set()            # 已办结: nothing more to do


@pytest.mark.parametrize("who, action", [
    ("reader", "route"), ("reader", "instruct"), ("reader", "done"), ("leader", "route"), ("leader", "done"),
    ("clerk", "instruct"), ("inspector", "instruct"), ("admin", "done"), ("leader", "receive"),
])
def test_who_may_not_is_refused_and_nothing_changes(clients, received, who, action):
    from pipeline.incoming import IncomingRegister
    from pipeline.ledger import Ledger

    url = "/incoming/receive" if action == "receive" else f"{page(HOSTILE)}/{action}"
    r = post(clients[who], url, {"lead_unit": "区民政局", "opinion": "x", "text": "同意", "leader": who, "result": "x"})
    assert r.status_code == 403 and "没有权限" in r.text
    with Ledger.open(received[0].config) as ledger:
        row = IncomingRegister(ledger, received[0].config).get(HOSTILE)
    assert row.state == "待办" and not row.instructions


def test_a_post_without_the_csrf_token_is_refused(clients):
    r = clients["leader"].post(f"{page(HOSTILE)}/instruct", data={"text": "同意", "leader": "leader"},
                               follow_redirects=False)
    assert r.status_code == 403 and "表单已失效" in r.text


def test_hostile_titles_are_shown_as_text(clients):
    for html in (clients["reader"].get("/incoming").text, clients["leader"].get(page(HOSTILE)).text):
        assert "<script>alert(4)" not in html
        assert "&lt;script&gt;alert(4)&lt;/script&gt;和{{7*7}}的通知" in html
        assert "和49的通知" not in html


@pytest.mark.parametrize("path", [
    "/file/" + quote("../../config.yaml", safe=""), "/file/" + quote("全文"), "/file/" + quote("正本"),
    "/file/..%2F..%2Fmetadata.json", "/page/doc/0", "/page/doc/99", "/thumb/other/1",
    "/page/" + quote("../../x", safe="") + "/1",
])
def test_files_and_pages_are_found_by_role_never_by_path(clients, path):
    assert clients["reader"].get(page(NOTICE) + path).status_code == 404


def test_a_收文_ref_that_is_a_path_leads_nowhere(clients):
    for ref in ("..%2F..%2Fconfig.yaml", quote("收〔2015〕1号/../../x", safe=""), "x" * 60):
        assert clients["reader"].get("/incoming/" + ref).status_code == 404


# --- the changes ----------------------------------------------------------------------------------------

def _events(inst, ref: str) -> list[tuple[str, str]]:
    from pipeline.ledger import Ledger

    with Ledger.open(inst.config) as ledger:
        return [(e.event, e.actor) for e in ledger.events(ref)]


def test_the_clerk_routes_and_the_处理笺_is_made_again(acting):
    from pipeline.archive import ArchiveStore

    inst, c = acting
    before = ArchiveStore(inst.config).find(HOSTILE).file("处理笺").read_bytes()
    r = post(c["clerk"], f"{page(HOSTILE)}/route", {"lead_unit": "区应急管理局", "opinion": "拟请区应急管理局阅办"},
             form_page=page(HOSTILE))
    assert r.status_code == 303 and r.headers["location"] == page(HOSTILE)
    html = c["clerk"].get(page(HOSTILE)).text
    assert "已拟办：承办单位 区应急管理局" in html and '<span class="badge in-open">办理中</span>' in html
    # the change, then the new version of the record (its 处理笺 made again) anchored, both under the user
    assert _events(inst, HOSTILE)[-2:] == [("incoming_routed", "clerk"), ("anchored", "clerk")]
    slip = ArchiveStore(inst.config).find(HOSTILE).file("处理笺")
    assert slip.read_bytes() != before and "拟请区应急管理局阅办" in _text(slip)


def test_a_leader_s_批示_that_assigns_work_creates_a_督办件_linked_both_ways(acting):
    from pipeline import supervise as sv
    from pipeline.ledger import Ledger

    inst, c = acting
    r = post(c["leader"], f"{page(NOTICE)}/instruct",
             {"text": "请区安监局牵头，6月底前报结果。", "leader": "陈礼洋", "day": "2015-06-10",
              "assign_to": "区安监局", "co_units": "区公安分局、区交警大队", "deadline": "2015-06-30"},
             form_page=page(NOTICE))
    assert r.status_code == 303, r.text
    html = c["leader"].get(page(NOTICE)).text
    m = re.search(r"已记录 陈礼洋 的批示，已建立督办件 (督〔2015〕\d+号)", html)
    assert m, html
    item_ref = m[1]
    assert f'<a href="/supervise/{quote(item_ref, safe="")}">交办督办 {item_ref}</a>' in html
    assert "请区安监局牵头，6月底前报结果。" in html and "leader 记录" in html
    assert ("incoming_instructed", "leader") in _events(inst, NOTICE)
    with Ledger.open(inst.config) as ledger:
        item = sv.get_item(ledger, item_ref)
    assert item.source_type == "领导批示" and NOTICE in item.source and item.deadline == dt.date(2015, 6, 30)
    assert item.co_units == ("区公安分局", "区交警大队")
    assert NOTICE in c["reader"].get("/supervise/" + quote(item_ref, safe="")).text


@pytest.mark.parametrize("data, message", [
    ({"text": "   ", "leader": "陈礼洋"}, "批办须写明批示内容"),
    ({"text": "阅", "leader": "陈礼洋", "co_units": "区公安分局"}, "协办单位和办结时限只用于交办督办的批示"),
    ({"text": "阅", "leader": "陈礼洋", "day": "六月"}, "批示日期“六月”无法识别"),
])
def test_a_refused_批示_is_said_beside_the_form_and_what_was_typed_stays(acting, data, message):
    inst, c = acting
    n = len(_events(inst, URGENT))
    r = post(c["leader"], f"{page(URGENT)}/instruct", data, form_page=page(URGENT))
    assert r.status_code == 400
    form = r.text.split('id="instruct"')[1]
    assert message in form and data["leader"] in form
    assert len(_events(inst, URGENT)) == n


def test_the_clerk_closes_with_a_复文号_of_the_发文登记簿_only(acting):
    inst, c = acting
    r = post(c["clerk"], f"{page(URGENT)}/done", {"result": "已落实", "reply": "珠政发〔2099〕9号"},
             form_page=page(URGENT))
    assert r.status_code == 400 and "不在发文登记簿中" in r.text.split('id="done"')[1]
    assert 'value="珠政发〔2099〕9号"' in r.text
    r = post(c["clerk"], f"{page(URGENT)}/done", {"result": "已转区林业局落实", "reply": ""}, form_page=page(URGENT))
    assert r.status_code == 303
    html = c["clerk"].get(page(URGENT)).text
    assert "已办结" in html and forms(html) == set() and "已逾期" not in html
    assert ("incoming_done", "clerk") in _events(inst, URGENT)
    assert rows(c["reader"].get("/incoming").text)[URGENT] == ""           # no longer red


def test_the_clerk_receives_files_from_the_browser(acting, received):
    inst, c = acting
    docs = received[1]
    new = docs / "消防通知.pdf"
    r = c["clerk"].post("/incoming/receive", data={"csrf_token": token(c["clerk"], "/incoming")},
                        files=[("files", ("消防通知.pdf", new.read_bytes(), "application/pdf"))], follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == page("收〔2015〕5号")
    html = c["clerk"].get(r.headers["location"]).text
    assert "已登记为 收〔2015〕5号" in html and "衡阳市人民政府关于开展2015年消防安全专项整治的通知" in html
    assert _events(inst, "收〔2015〕5号")[0] == ("incoming_registered", "clerk")
    # The same file again, and a file that is no document: each said, nothing registered.
    r = c["clerk"].post("/incoming/receive", data={"csrf_token": token(c["clerk"], "/incoming")},
                        files=[("files", ("消防通知.pdf", new.read_bytes(), "application/pdf")),
                               ("files", ("../../说明.txt", b"just text", "text/plain"))])
    html = r.text
    assert "消防通知.pdf</strong>：重复" in html and "收〔2015〕5号" in html
    assert "说明.txt</strong>：拒收" in html
    assert "收〔2015〕6号" not in c["clerk"].get("/incoming?year=2015").text


# --- in a real browser ------------------------------------------------------------------------------------

def test_a_leader_writes_a_批示_in_the_browser(received, tmp_path):
    from tests.support.browser import SHOTS, launch, log_in, page_for, serving, shot

    inst = copy(received[0], tmp_path / "inst")
    with serving(inst.config, TODAY) as base, launch() as browser:
        ctx, pg = page_for(browser)
        errors = []
        pg.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        log_in(pg, base, "leader")
        pg.get_by_role("link", name="收文").first.click()
        pg.wait_for_selector("table.incoming")
        row = pg.locator("table.incoming tr", has_text=URGENT)
        assert "late" in row.get_attribute("class")                        # 逾期: in red
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot(pg, "21-收文")
        pg.get_by_role("link", name=URGENT).click()
        pg.wait_for_selector("#instruct")
        imgs = pg.locator(".pages img")
        assert imgs.count() == 2                                           # the 通知's page and its 处理笺
        for k in range(imgs.count()):
            pg.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=imgs.nth(k).element_handle(),
                                 timeout=60000)
        pg.locator("#instruct textarea").fill("请区林业局立即部署，确保不发生森林火灾。")
        pg.get_by_role("button", name="记录批示").click()
        pg.wait_for_selector("p.msg.ok")
        assert "已记录 leader 的批示" in pg.locator("p.msg.ok").inner_text()
        assert "请区林业局立即部署" in pg.locator("table.meta").inner_text()
        imgs = pg.locator(".pages img")                                    # the 处理笺 made again, with it
        for k in range(imgs.count()):
            pg.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=imgs.nth(k).element_handle(),
                                 timeout=60000)
        history = pg.locator("table.list").last.inner_text()
        assert re.search(r"批办（领导批示）\s+leader", history), history
        shot(pg, "22-收文-批示", full=True)
        ctx.close()
    assert not errors, errors
    assert _events(inst, URGENT)[-2:] == [("incoming_instructed", "leader"), ("anchored", "leader")]
