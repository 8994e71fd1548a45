"""The browser app through Starlette's test client, on a real instance (tests/support/web_instance.py): every
page for every role (who may and may not see or do what), and the security properties — login
redirects, CSRF, path traversal on the file routes, escaping, throttling, every action in the chain
with its user, secure headers, the session secret."""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import stat
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.support.web_instance import HOSTILE_TITLE, PASSWORD, PHRASE, SUPERVISED, USERS, YEAR, copy
from tests.support.web import Clock, app_for, login, token

pytestmark = [pytest.mark.slow, pytest.mark.libreoffice, pytest.mark.usefixtures("cheap_hashes")]


def doc(ref: str) -> str:
    return "/doc/" + quote(ref, safe="")


def record_file(inst, ref: str, role: str) -> Path:
    from pipeline.archive import ArchiveStore

    return ArchiveStore(inst.config).find(ref).file(role)


# --- who may see what ----------------------------------------------------------------------------------

FLOOD = "珠政办发〔2015〕1号"
PAGES = {
    "search": "/",
    "results": "/?q=" + quote(PHRASE),
    "document": doc(FLOOD),
    "page image": doc(FLOOD) + "/page/1",
    "thumbnail": doc(FLOOD) + "/thumb/1",
    "正本": doc(FLOOD) + "/file/" + quote("正本"),
    "定稿": doc(FLOOD) + "/file/" + quote("定稿"),
    "原稿": doc(FLOOD) + "/file/" + quote("原稿"),
    "registers": "/registers",
    "seal register": "/registers?book=" + quote("用印"),
    "register xlsx": "/registers.xlsx",
    "yearend": "/yearend",
    "users": "/users",
    "督办": "/supervise",
    "督办件": "/supervise/" + quote(SUPERVISED["square"], safe=""),
    "佐证材料": "/supervise/" + quote(SUPERVISED["funds"], safe="") + "/file?name=" + quote("佐证材料/验收报告.pdf"),
    "清样": "/proofs",
    "清样页": "/proofs/1",
    "清样 PDF": "/proofs/1/pdf",
    "收文": "/incoming",
    "收文登记簿 xlsx": "/incoming.xlsx",
}
SUPERVISION = {"督办", "督办件", "佐证材料", "收文"}      # and the 收文 list: everyone may look
PROOF_PAGES = {"清样", "清样页", "清样 PDF"}
# The expected outcome per role, written out here (not derived from accounts.PERMISSIONS, so that a
# change of the table shows up as a failing test that says who gained or lost what).
ALLOWED = {
    "reader": {"search", "results", "document", "page image", "thumbnail", "正本", *SUPERVISION},
    "clerk": {"search", "results", "document", "page image", "thumbnail", "正本", "定稿", "原稿", "registers",
              "seal register", "register xlsx", "收文登记簿 xlsx", *SUPERVISION, *PROOF_PAGES},
    "leader": {"search", "results", "document", "page image", "thumbnail", "正本", "定稿", "原稿", "registers",
               "seal register", "register xlsx", "收文登记簿 xlsx", "yearend", *SUPERVISION, *PROOF_PAGES},
    "inspector": {"search", "results", "document", "page image", "thumbnail", "正本", *SUPERVISION},
    "archivist": {"search", "results", "document", "page image", "thumbnail", "正本", "定稿", "原稿", "registers",
                  "seal register", "register xlsx", "收文登记簿 xlsx", "yearend", *SUPERVISION},
    "admin": {"search", "results", "document", "page image", "thumbnail", "正本", "registers", "seal register",
              "register xlsx", "收文登记簿 xlsx", "yearend", "users", *SUPERVISION},
}


@pytest.mark.parametrize("role", list(USERS))
def test_each_role_sees_its_pages_and_no_others(clients, role):
    got = {}
    for page, url in PAGES.items():
        r = clients[role].get(url, follow_redirects=False)
        got[page] = r.status_code
    allowed = {p for p, s in got.items() if s == 200}
    assert allowed == ALLOWED[role], got
    assert all(s == 403 for p, s in got.items() if p not in ALLOWED[role]), got


@pytest.mark.parametrize("role", list(USERS))
def test_the_navigation_offers_only_what_the_role_may_open(clients, role):
    html = clients[role].get("/").text
    nav = re.search(r'<nav class="nav">(.*?)</nav>', html, re.S).group(1)
    labels = set(re.findall(r">([^<]+)</a>", nav))
    expect = {"检索", "收文", "督办"} | ({"登记簿"} if "registers" in ALLOWED[role] else set()) \
        | ({"年终"} if "yearend" in ALLOWED[role] else set()) | ({"用户"} if "users" in ALLOWED[role] else set()) \
        | ({"清样"} if "清样" in ALLOWED[role] else set())
    assert labels == expect


@pytest.mark.parametrize("role", list(USERS))
def test_only_the_archivist_may_run_year_end_work(clients, role):
    c = clients[role]
    html = c.get("/yearend").text if "yearend" in ALLOWED[role] else ""
    assert ("/yearend/2015/run" in html) == (role == "archivist")
    if role != "archivist":
        r = c.post(f"/yearend/{YEAR}/run", data={"kind": "check", "csrf_token": token(c, "/")},
                   follow_redirects=False)
        assert r.status_code == 403


def test_unauthenticated_requests_are_sent_to_login(app):
    anon = TestClient(app)      # no `with`: entering would run the shared app's lifespan again
    if True:
        for url in PAGES.values():
            r = anon.get(url, follow_redirects=False)
            assert r.status_code == 303, url
            assert r.headers["location"].startswith("/login?next="), url
        assert anon.get("/jobs/x", follow_redirects=False).status_code == 303
        # A POST without a session has no CSRF token either: refused before anything runs.
        r = anon.post(f"/yearend/{YEAR}/run", data={"kind": "check"}, follow_redirects=False)
        assert r.status_code == 403
        r = anon.get("/login?next=//evil.example/x")
        assert 'name="next" value="/"' in r.text           # no open redirect after login


def test_a_reader_may_download_the_original_only_when_the_config_says_so(web_instance, tmp_path):
    inst = copy(web_instance, tmp_path / "inst")
    url = PAGES["原稿"]
    with TestClient(app_for(inst)) as c:
        login(c, "reader")
        assert c.get(url).status_code == 403
        assert "下载原稿" not in c.get(doc(FLOOD)).text
    raw = yaml.safe_load(inst.cfg_path.read_text(encoding="utf-8"))
    raw["web"] = {"readers_download_originals": True}
    inst.cfg_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with TestClient(app_for(inst)) as c:
        login(c, "reader")
        r = c.get(url)
        assert r.status_code == 200
        assert r.content == record_file(inst, FLOOD, "原稿").read_bytes()
        assert "定稿" in PAGES and c.get(PAGES["定稿"]).status_code == 403    # 定稿 stays closed


# --- pages ---------------------------------------------------------------------------------------------

def test_search_finds_a_phrase_with_marked_snippet_and_count(clients, web_instance):
    html = clients["reader"].get("/?q=" + quote(f'"{PHRASE}"')).text
    assert "共 <strong>1</strong> 件" in html
    assert f"<mark>{PHRASE}</mark>" in html
    assert f'href="{doc(FLOOD)}"' in html


def test_search_filters_sort_and_errors(clients, web_instance):
    c = clients["reader"]

    def hits(**params):
        html = c.get("/?" + "&".join(f"{k}={quote(str(v))}" for k, v in params.items())).text
        return re.findall(r'<a class="title" href="/doc/([^"]+)"', html), html

    everything, _ = hits(q="工作 OR 会议 OR 通知")
    assert len(everything) >= 3
    assert hits(q="工作 OR 会议 OR 通知", series="珠政办发")[0] == [quote(FLOOD, safe="")]
    assert quote("常务会议纪要〔2015〕6号", safe="") in hits(q="会议", kind="纪要")[0]   # its 期号 6 is its number
    assert hits(q="通知", year=2016)[0] == [quote("珠政发〔2016〕1号", safe="")]
    assert hits(q="通知", date_from="2015-05-09", date_to="2015-05")[0] == [quote("珠政发〔2015〕1号", safe="")]
    # 保管期限 by the office's table: 珠政发 → 永久, a 珠政办发 通知 → 30年, 纪要 → 永久
    assert quote(FLOOD, safe="") not in hits(q="工作 OR 会议 OR 通知", retention="Y")[0]
    assert hits(q="工作 OR 会议 OR 通知", retention="D30")[0] == [quote(FLOOD, safe="")]
    by_date, _ = hits(q="工作 OR 会议 OR 通知", sort="date")
    assert by_date[0] == quote("珠政发〔2016〕1号", safe="")         # newest first
    _, html = hits(q="通知", date_from="2015-13-45")
    assert "日期“2015-13-45”" in html
    _, html = hits(q="通知 AND")          # (an unpaired quote is text now: a malformed query shows its error)
    assert "AND 后缺少检索词" in html


def test_a_typed_number_or_archive_code_opens_the_document(clients, web_instance):
    from pipeline.archive import ArchiveStore

    c = clients["reader"]
    r = c.get("/?q=" + quote("珠政办发[2015]1号"), follow_redirects=False)      # as typed, other brackets
    assert r.status_code == 303 and r.headers["location"] == doc(FLOOD)
    code = ArchiveStore(web_instance.config).find(FLOOD).meta["档号"]
    assert code
    r = c.get("/?q=" + quote(code), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == doc(FLOOD)
    r = c.get(doc(code), follow_redirects=False)                               # a 档号 link (check report)
    assert r.status_code == 303 and r.headers["location"] == doc(FLOOD)


def test_the_home_page_shows_the_years_figures(clients):
    def cards(year):
        html = clients["reader"].get(f"/?fig_year={year}").text
        return dict((label, int(n)) for n, label in re.findall(r"<b>(\d+)</b><span>([^<]+)</span>", html))

    # 用印 counts by the day the seal was used: the 2015 documents were sealed when the test built them.
    assert cards(2015) == {"发文（件）": 3, "会议纪要（期）": 1, "用印（次）": 0, "已归档（件）": 3}
    assert cards(dt.date.today().year)["用印（次）"] == 2


def test_the_document_page_shows_metadata_pages_files_history_and_stamp(clients, web_instance):
    from pipeline.archive import ArchiveStore

    rec = ArchiveStore(web_instance.config).find(FLOOD)
    html = clients["clerk"].get(doc(FLOOD)).text
    for label in ("文件编号", "题名", "文种", "保管期限名称", "页数", "办理过程", "归档章"):
        assert label in html
    n = int(rec.meta["页数"])
    # Thumbnails, each a link to its full page (gongwen.js enlarges it in place).
    thumbs = re.findall(r'<a href="([^"]+)/page/(\d+)" data-zoom[^>]*><img src="([^"]+)/thumb/(\d+)" loading="lazy"', html)
    assert [(int(a), int(b)) for _, a, _, b in thumbs] == [(k, k) for k in range(1, n + 1)]
    assert rec.meta["档号"] in html
    for text in ("登记（编号）", "用印（电子签章）", "编入检索", "整理归档", "秘书组", "档案员"):
        assert text in html
    assert "下载正本" in html and "下载定稿" in html and "下载原稿" in html
    png = clients["clerk"].get(doc(FLOOD) + f"/page/{n}")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert clients["clerk"].get(doc(FLOOD) + f"/page/{n + 1}").status_code == 404
    thumb = clients["clerk"].get(doc(FLOOD) + f"/thumb/{n}")
    assert thumb.status_code == 200 and thumb.content[:8] == b"\x89PNG\r\n\x1a\n"
    width = lambda data: int.from_bytes(data[16:20], "big")                                 # noqa: E731 (IHDR)
    assert width(thumb.content) == 360 and width(png.content) > 800
    assert len(thumb.content) < len(png.content) / 3
    assert clients["clerk"].get(doc(FLOOD) + f"/thumb/{n + 1}").status_code == 404


def test_downloads_are_the_archives_bytes_with_no_store(clients, web_instance):
    for role in ("正本", "定稿", "原稿"):
        r = clients["archivist"].get(PAGES[role])
        assert r.status_code == 200
        assert r.content == record_file(web_instance, FLOOD, role).read_bytes()
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["content-disposition"].startswith("attachment")


def test_verification_on_demand_shows_result_time_and_who(web_instance, tmp_path):
    from pipeline.ledger import Ledger

    inst = copy(web_instance, tmp_path / "inst")
    with TestClient(app_for(inst)) as c:
        login(c, "reader")
        assert "尚未在本系统中核验过" in c.get(doc(FLOOD)).text
        r = c.post(doc(FLOOD) + "/verify", data={"csrf_token": token(c, doc(FLOOD))}, follow_redirects=False)
        assert r.status_code == 303
        html = c.get(doc(FLOOD)).text
        assert "核验通过" in html and "reader" in html and "正本.pdf SHA-256：一致" in html
        assert "归档章" in html and "签名有效" in html
        # A changed byte is named on the next check.
        pdf = record_file(inst, FLOOD, "正本")
        os.chmod(pdf.parent, 0o755)
        os.chmod(pdf, 0o644)
        data = bytearray(pdf.read_bytes())
        data[len(data) // 2] ^= 0x01
        pdf.write_bytes(bytes(data))
        c.post(doc(FLOOD) + "/verify", data={"csrf_token": token(c, doc(FLOOD))})
        html = c.get(doc(FLOOD)).text
        assert "核验未通过" in html and "摘要不符" in html
    with Ledger.open(inst.config) as ledger:
        ev = [e for e in ledger.events(FLOOD) if e.event == "verified"]
    assert [e.actor for e in ev] == ["reader", "reader"] and [e.detail["ok"] for e in ev] == [True, False]


def test_verification_on_demand_checks_the_record_against_its_anchor_and_register_row(web_instance, tmp_path):
    """An edited 题名 in metadata.json changes no file digest: the page's 核验 said 核验通过 while
    `gongwen show` and `check` fail the record. It calls archive.audit as show does."""
    inst = copy(web_instance, tmp_path / "inst")
    meta_path = record_file(inst, FLOOD, "正本").parent / "metadata.json"
    os.chmod(meta_path.parent, 0o755)
    os.chmod(meta_path, 0o644)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["题名"] = meta["题名"] + "（修订）"
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    with TestClient(app_for(inst)) as c:
        login(c, "reader")
        c.post(doc(FLOOD) + "/verify", data={"csrf_token": token(c, doc(FLOOD))})
        html = c.get(doc(FLOOD)).text
    assert "核验未通过" in html and "元数据被改动" in html and "与发文登记簿的" in html, html


def test_registers_page_and_the_same_xlsx_as_the_cli(clients, web_instance, tmp_path):
    from click.testing import CliRunner
    from openpyxl import load_workbook

    from pipeline.cli import cli
    from pipeline.ledger import Ledger

    c = clients["clerk"]
    html = c.get("/registers?year=2015").text
    with Ledger.open(web_instance.config) as ledger:
        rows = ledger.register(2015)
    for r in rows:
        assert r.number in html
    assert "顺序号" in html and "发文字号" in html
    html = c.get("/registers?year=2015&series=" + quote("珠政发")).text
    assert "珠政发〔2015〕1号" in html and FLOOD not in html
    html = c.get("/registers?year=2015&text=" + quote("防汛")).text
    assert FLOOD in html and "珠政发〔2015〕1号" not in html
    assert "用印时间" in c.get(PAGES["seal register"]).text

    def cells(data: bytes):
        ws = load_workbook(io.BytesIO(data)).active
        return [[c.value for c in row] for i, row in enumerate(ws.iter_rows()) if i != 1]  # row 2: time, who

    web = c.get("/registers.xlsx?year=2015")
    assert web.status_code == 200 and web.headers["cache-control"] == "no-store"
    out = tmp_path / "r.xlsx"
    res = CliRunner().invoke(cli, ["--config", str(web_instance.cfg_path), "register", "2015", "--xlsx", str(out)])
    assert res.exit_code == 0, res.output
    assert cells(web.content) == cells(out.read_bytes())
    sub = load_workbook(io.BytesIO(web.content)).active.cell(row=2, column=1).value
    assert "导出人：clerk" in sub


def test_yearend_check_as_a_job_with_the_report_item_by_item_and_failures_linked(web_instance, tmp_path):
    from pipeline.archive import ArchiveStore
    from pipeline.ledger import Ledger

    inst = copy(web_instance, tmp_path / "inst")
    # Damage one record's 全文.txt: the check must name it and link the 件.
    rec = ArchiveStore(inst.config).find(FLOOD)
    txt = rec.path / "全文.txt"
    os.chmod(rec.path, 0o755)
    os.chmod(txt, 0o644)
    txt.write_text(txt.read_text(encoding="utf-8") + "改动\n", encoding="utf-8")
    app = app_for(inst)
    with TestClient(app) as c:
        login(c, "archivist")
        html = c.get(f"/yearend?year={YEAR}").text
        assert "本年度还没有检测报告" in html and "状态：<strong>完成</strong>" in html
        r = c.post(f"/yearend/{YEAR}/run", data={"kind": "check", "csrf_token": token(c, "/yearend")},
                   follow_redirects=False)
        assert r.status_code == 303
        job_id = r.headers["location"].split("#job-")[1]
        job = app.state.web.jobs.wait(job_id)
        assert job.status == "完成" and job.ok is False
        status = c.get(f"/jobs/{job_id}").json()
        assert status["percent"] == 100 and not status["active"]
        html = c.get(f"/yearend?year={YEAR}").text
        row = re.search(r'<tr class="r-bad"><td class="nowrap">GD-ZS-1-1</td>.*?</tr>', html)
        assert row and "未通过" in row.group(0)
        assert re.search(r"GD-ZS-1-1</td><td class=\"nowrap\"><a [^>]+>[^<]+</a></td><td>全文.txt</td>", html)
        assert f'href="{doc(rec.meta["档号"])}"' in html
        assert "archivist" in html
        # Failures first; the items that passed are folded away below them.
        passed = re.search(r'<details class="passed">\s*<summary>通过的项目（(\d+) 项）</summary>(.*?)</details>', html, re.S)
        assert passed and 'class="r-bad"' not in passed.group(2) and 'class="r-warn"' not in passed.group(2)
        assert len(re.findall(r'<tr class="r-ok">', passed.group(2))) == int(passed.group(1)) > 10
        assert html.index("GD-ZS-1-1</td>") < html.index('<details class="passed">') < html.index(">GD-ZS-1-2<")
        assert 'class="r-ok"' not in html[:html.index('<details class="passed">')]
    with Ledger.open(inst.config) as ledger:
        jobs = [e for e in ledger.events() if e.event == "yearend_job"]
    assert [e.actor for e in jobs] == ["archivist", "archivist"]
    assert jobs[-1].detail["状态"] == "完成"


def test_a_job_survives_a_restart_as_its_last_result(web_instance, tmp_path):
    inst = copy(web_instance, tmp_path / "inst")
    app = app_for(inst)
    with TestClient(app) as c:
        login(c, "archivist")
        r = c.post(f"/yearend/{YEAR}/run", data={"kind": "archive", "csrf_token": token(c, "/yearend")},
                   follow_redirects=False)
        app.state.web.jobs.wait(r.headers["location"].split("#job-")[1])
    with TestClient(app_for(inst)) as c:
        login(c, "archivist")
        html = c.get(f"/yearend?year={YEAR}").text
        assert 'class="job ok"' in html and "2015年度·永久·办公室：2 件" in html
        assert "已写出 archive/yearend/2015/归档文件目录-2015-永久-办公室.pdf" in html


# --- security -------------------------------------------------------------------------------------------

def test_post_without_or_with_a_wrong_csrf_token_is_refused(web_instance, tmp_path):
    from pipeline.ledger import Ledger

    inst = copy(web_instance, tmp_path / "inst")
    app = app_for(inst)
    with TestClient(app) as c:
        login(c, "archivist")
        for data in ({"kind": "check"}, {"kind": "check", "csrf_token": "forged"}):
            r = c.post(f"/yearend/{YEAR}/run", data=data, follow_redirects=False)
            assert r.status_code == 403 and "表单已失效" in r.text
        r = c.post(doc(FLOOD) + "/verify", data={}, follow_redirects=False)
        assert r.status_code == 403
        r = c.post("/logout", data={}, follow_redirects=False)
        assert r.status_code == 403
        assert app.state.web.jobs.for_year(YEAR) == []
    with TestClient(app) as other:      # a token from another session is no good either
        stolen = token(other)
        r = other.post("/login", data={"name": "archivist", "password": PASSWORD, "csrf_token": stolen + "x"},
                       follow_redirects=False)
        assert r.status_code == 403
    with Ledger.open(inst.config) as ledger:
        assert not [e for e in ledger.events() if e.event in ("verified", "yearend_job")]


TRAVERSALS = [
    "/doc/..%2F..%2Fconfig.yaml/file/" + quote("正本"),
    "/doc/%2Fetc%2Fpasswd/file/" + quote("正本"),
    "/doc/..%2F..%2F..%2F..%2Fetc%2Fpasswd/page/1",
    "/doc/..%2F..%2F..%2F..%2Fetc%2Fpasswd/thumb/1",
    "/doc/%2E%2E/file/" + quote("正本"),
    "/doc/./file/" + quote("正本"),
    "/doc/" + quote(FLOOD, safe="") + "/file/..%2F..%2F..%2Fconfig.yaml",
    "/doc/" + quote(FLOOD, safe="") + "/file/%2Fetc%2Fpasswd",
    "/doc/" + quote(FLOOD, safe="") + "/file/metadata.json",
    "/doc/" + quote(FLOOD, safe="") + "/file/" + quote("全文"),
    "/doc/" + quote(FLOOD, safe="") + "%2F..%2F..%2F..%2Fconfig.yaml/file/" + quote("正本"),
    "/doc/" + quote(FLOOD, safe="") + "/page/..%2F1",
    "/doc/" + quote(FLOOD, safe="") + "/page/-1",
    "/doc/" + quote(FLOOD, safe="") + "/thumb/0",
    "/static/..%2Fapp.py",
    "/static/%2E%2E/%2E%2E/config.py",
    "/static/%2Fetc%2Fpasswd",
]


@pytest.mark.parametrize("url", TRAVERSALS)
def test_no_file_route_serves_outside_the_archive(clients, url):
    r = clients["archivist"].get(url, follow_redirects=False)
    assert r.status_code in (400, 404), (url, r.status_code)
    assert b"organisation" not in r.content and b"root:" not in r.content and b"import" not in r.content


def test_a_record_whose_metadata_names_a_path_outside_it_serves_nothing(web_instance, tmp_path):
    from pipeline.archive import ArchiveStore

    inst = copy(web_instance, tmp_path / "inst")
    rec = ArchiveStore(inst.config).find(FLOOD)
    meta = json.loads((rec.path / "metadata.json").read_text(encoding="utf-8"))
    for f in meta["电子文件"]:
        if f["稿本"] == "正本":
            f["计算机文件名"] = "../../../../config.yaml"
        if f["稿本"] == "定稿":
            f["计算机文件名"] = str(inst.cfg_path)        # an absolute path
    os.chmod(rec.path, 0o755)
    os.chmod(rec.path / "metadata.json", 0o644)
    (rec.path / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    with TestClient(app_for(inst)) as c:
        login(c, "archivist")
        for role in ("正本", "定稿"):
            r = c.get(doc(FLOOD) + "/file/" + quote(role))
            assert r.status_code == 404 and b"organisation" not in r.content


def test_a_title_with_markup_and_template_syntax_is_shown_as_text(clients, web_instance):
    c = clients["reader"]
    for html in (c.get("/?q=" + quote("问题")).text, c.get(doc(web_instance.references["hostile"])).text):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert" not in html and "{{7*7}}" in html and ">49<" not in html
        assert "<img src=x" not in html
    assert HOSTILE_TITLE not in c.get("/?q=" + quote("问题")).text      # never unescaped


def test_ten_wrong_passwords_throttle_the_account(web_instance, tmp_path):
    from pipeline.ledger import Ledger

    inst = copy(web_instance, tmp_path / "inst")
    with Ledger.open(inst.config) as ledger:
        before = len(ledger.events())
    clock = Clock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    with TestClient(app_for(inst, clock)) as c:
        codes = [login(c, "clerk", "错误的密码").status_code for _ in range(10)]
        assert codes == [401] * 9 + [429]
        r = login(c, "clerk")                                  # the right password: still locked
        assert r.status_code == 429 and "锁定" in r.text
        clock.t += dt.timedelta(minutes=16)
        assert login(c, "clerk").status_code == 303            # after the lockout, it works again
    with Ledger.open(inst.config) as ledger:
        ev = [e.event for e in ledger.events()[before:] if e.actor == "clerk" and e.event.startswith("login")]
    assert ev == ["login_failed"] * 9 + ["login_locked", "login_locked", "login"]


def test_every_action_is_in_the_chain_with_its_user_and_no_hash_is(web_instance, tmp_path):
    from pipeline.ledger import Ledger

    inst = copy(web_instance, tmp_path / "inst")
    app = app_for(inst)
    with TestClient(app) as c:
        login(c, "archivist")
        c.get(PAGES["正本"])
        c.get(PAGES["register xlsx"])
        c.post(doc(FLOOD) + "/verify", data={"csrf_token": token(c, doc(FLOOD))})
        r = c.post(f"/yearend/{YEAR}/run", data={"kind": "check", "csrf_token": token(c, "/yearend")},
                   follow_redirects=False)
        app.state.web.jobs.wait(r.headers["location"].split("#job-")[1])
        c.post("/logout", data={"csrf_token": token(c, "/")})
    with TestClient(app) as c:
        login(c, "admin")
        tok = token(c, "/users")
        c.post("/users", data={"op": "add", "name": "新同事", "password": "新同事的密码-1", "roles": ["查阅", "办文"],
                               "csrf_token": tok})
        c.post("/users", data={"op": "roles", "name": "新同事", "roles": ["领导"], "csrf_token": tok})
        c.post("/users", data={"op": "password", "name": "新同事", "password": "另一个密码-22", "csrf_token": tok})
        c.post("/users", data={"op": "disable", "name": "新同事", "csrf_token": tok})
    with Ledger.open(inst.config) as ledger:
        events = ledger.events()
        chain = ledger.verify()
    assert chain.ok, chain.summary()
    mine = [(e.event, e.actor) for e in events if e.actor in ("archivist", "admin")]
    for expected in [("login", "archivist"), ("downloaded", "archivist"), ("verified", "archivist"),
                     ("yearend_job", "archivist"), ("logout", "archivist"), ("login", "admin"),
                     ("user_added", "admin"), ("user_roles", "admin"), ("user_password", "admin"),
                     ("user_disabled", "admin")]:
        assert expected in mine, expected
    assert not any("argon2" in json.dumps(e.detail, ensure_ascii=False) for e in events)


def test_disabling_an_account_looks_unlike_saving_and_asks_first(clients):
    html = clients["admin"].get("/users").text
    row = re.search(r"<tr>\s*<td>clerk</td>(.*?)</tr>", html, re.S).group(1)
    save = re.search(r'<button type="submit" class="([^"]+)">保存角色</button>', row)
    disable = re.search(r'<button type="submit" class="([^"]+)" data-confirm="([^"]+)">停用账号</button>', row)
    assert save and disable, row
    assert "primary" in save.group(1) and "danger" in disable.group(1) and save.group(1) != disable.group(1)
    assert "停用 clerk 的账号？" in disable.group(2)
    assert row.index("保存角色") < row.index("设密码") < row.index("停用账号")    # not beside 保存


def test_user_changes_end_that_users_sessions(web_instance, tmp_path):
    inst = copy(web_instance, tmp_path / "inst")
    app = app_for(inst)
    with TestClient(app) as clerk, TestClient(app) as admin:
        login(clerk, "clerk")
        assert clerk.get("/registers", follow_redirects=False).status_code == 200
        login(admin, "admin")
        admin.post("/users", data={"op": "disable", "name": "clerk", "csrf_token": token(admin, "/users")})
        assert clerk.get("/registers", follow_redirects=False).status_code == 303
        assert login(clerk, "clerk").status_code == 401            # a disabled account cannot log in
        r = admin.post("/users", data={"op": "disable", "name": "admin", "csrf_token": token(admin, "/users")})
        assert r.status_code == 400 and "不能停用自己的账号" in r.text


def test_a_file_posted_where_a_text_field_belongs_is_refused(web_instance, tmp_path):
    """A hand-made POST with a file part named "name" or "password" (the type check saw that a form
    value may be an UploadFile): 400 with a note naming the field, not a crash, and no user added."""
    app = app_for(copy(web_instance, tmp_path / "inst"))
    with TestClient(app) as admin:
        login(admin, "admin")
        for field in ("name", "password"):
            data = {"op": "add", "name": "新同事", "password": "新同事的密码-1", "roles": ["查阅"],
                    "csrf_token": token(admin, "/users")}
            del data[field]
            r = admin.post("/users", data=data, files={field: ("x.txt", b"abc", "text/plain")})
            assert r.status_code == 400 and f"“{field}”" in r.text, (field, r.status_code)
        assert "新同事" not in admin.get("/users").text


def test_secure_headers_and_a_signed_cookie_from_a_0600_secret(web_instance, tmp_path, clients):
    from pipeline.errors import ConfigError
    from pipeline.web.security import secret_path

    r = clients["reader"].get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    assert "<script>" not in r.text.replace('<script src="/static/gongwen.js" defer></script>', "")
    assert " style=" not in r.text
    path = secret_path(web_instance.config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # A cookie not signed with that secret is no session.
    c = TestClient(clients["reader"].app)
    if True:
        c.cookies.set("gongwen_session", clients["reader"].cookies.get("gongwen_session")[:-3] + "AAA")
        assert c.get("/", follow_redirects=False).status_code == 303
    inst = copy(web_instance, tmp_path / "inst")
    os.chmod(secret_path(inst.config), 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        app_for(inst)


# --- the CLI -------------------------------------------------------------------------------------------

def test_user_commands(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli
    from pipeline.ledger import Ledger
    from tests.conftest import write_instance

    cfg = write_instance(tmp_path / "inst")

    def run(*args, stdin=None):
        return CliRunner().invoke(cli, ["--config", str(cfg), "--actor", "管理员甲", *args], input=stdin)

    r = run("user", "list")
    assert r.exit_code == 0 and "还没有用户" in r.output
    assert not (tmp_path / "inst" / "archive" / "ledger.sqlite3").exists()       # listing creates nothing
    r = run("user", "add", "王秘书", "--role", "办文", "--role", "查阅", "--password-stdin", stdin="足够长的密码-01\n")
    assert r.exit_code == 0, r.output
    assert run("user", "add", "短", "--role", "办文", "--password-stdin", stdin="123\n").exit_code != 0
    r = run("user", "add", "x", "--role", "超级", "--password-stdin", stdin="足够长的密码-01\n")
    assert r.exit_code != 0 and "角色" in str(r.exception or r.output)
    assert run("user", "role", "王秘书", "--role", "档案").exit_code == 0
    assert run("user", "passwd", "王秘书", "--password-stdin", stdin="又一个长密码-002\n").exit_code == 0
    r = run("user", "disable", "王秘书")
    assert r.exit_code == 0 and "已停用 王秘书" in r.output
    r = run("user", "list", "--json")
    assert json.loads(r.output) == [{"name": "王秘书", "roles": ["档案"], "active": False, "last_login": None,
                                     "locked_until": None}]
    from pipeline.config import load

    with Ledger.open(load(cfg)) as ledger:
        ev = [(e.event, e.actor) for e in ledger.events()]
        assert ledger.verify().ok
    assert ev == [("user_added", "管理员甲"), ("user_roles", "管理员甲"), ("user_password", "管理员甲"),
                  ("user_disabled", "管理员甲")]
    r = run("user", "enable", "王秘书")
    assert r.exit_code == 0 and "已启用 王秘书" in r.output
    assert json.loads(run("user", "list", "--json").output)[0]["active"] is True


def test_serve_warns_when_listening_beyond_this_machine_without_tls():
    from pipeline.cli.web import exposure_warning

    assert exposure_warning("127.0.0.1", False) is None
    assert exposure_warning("::1", False) is None and exposure_warning("localhost", False) is None
    warning = exposure_warning("0.0.0.0", False)
    assert warning and "HTTPS" in warning and "admin-guide" in warning
    assert exposure_warning("192.0.2.10", True) is None


def test_the_permission_table_in_the_docs_is_the_codes():
    from pipeline.accounts import ROLES, permission_table
    from tests.conftest import REPO

    text = (REPO / "docs" / "web.md").read_text(encoding="utf-8")
    block = text.split("<!-- permissions -->", 1)[1].split("<!-- /permissions -->", 1)[0].strip().splitlines()
    assert block[0] == "| 操作 | " + " | ".join(ROLES) + " |"
    rows = ["| " + name + " | " + " | ".join("✔" if c else "" for c in cells) + " |"
            for name, cells in permission_table()]
    assert block[2:] == rows


def test_user_add_takes_the_督查_role(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli
    from tests.conftest import write_instance

    cfg = write_instance(tmp_path / "inst")

    def run(*args, stdin=None):
        return CliRunner().invoke(cli, ["--config", str(cfg), "--actor", "管理员甲", *args], input=stdin)

    assert "督查" in run("user", "add", "--help").output
    r = run("user", "add", "督查员甲", "--role", "督查", "--password-stdin", stdin="足够长的密码-01\n")
    assert r.exit_code == 0, r.output
    assert json.loads(run("user", "list", "--json").output)[0]["roles"] == ["督查"]
