"""The 督办 page through the test client, on the web instance's 督办件 (tests/support/web_instance.py
SUPERVISED): the list with its filters, counts and 办结率, overdue in red; an item's page with its
fields, 进展, files and history; who may change an item (督查 only); the changes themselves — 进展
with files, 销号 (refused without a 办结说明, with the library's message), 延期, 暂缓/恢复, 答复 —
each an event in the chain under the web user's name, the search index following; and the file
route's path safety."""
from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from urllib.parse import quote, urlencode

import pytest
from fastapi.testclient import TestClient

from tests.support.web import Clock, app_for, cards, login, rows, token
from tests.support.web_instance import EVIDENCE, HOSTILE_MATTER, PHOTO, SUPERVISED, USERS, copy

pytestmark = [pytest.mark.slow, pytest.mark.libreoffice, pytest.mark.browser, pytest.mark.usefixtures("cheap_hashes")]
SQUARE, FUNDS, TRAFFIC, HELD, HOSTILE = (SUPERVISED[k] for k in ("square", "funds", "traffic", "held", "hostile"))
CST = dt.timezone(dt.timedelta(hours=8))


def item(ref: str) -> str:
    return "/supervise/" + quote(ref, safe="")


def file_url(ref: str, name: str) -> str:
    return item(ref) + "/file?" + urlencode({"name": name})


@pytest.fixture
def on_day(web_instance, tmp_path):
    """A private copy of the instance and an app on a chosen day: ``on_day(date)`` → (inst, app)."""
    inst = copy(web_instance, tmp_path / "inst")

    def make(day: dt.date):
        clock = Clock(dt.datetime(day.year, day.month, day.day, 10, 0, tzinfo=CST))
        return inst, app_for(inst, clock)
    return make


# --- the list --------------------------------------------------------------------------------------------

def test_the_list_shows_counts_rate_and_overdue_in_red(clients):
    html = clients["reader"].get("/supervise").text      # no year: the latest year with items (2015)
    assert "督办事项（2015 年度）" in html
    assert cards(html) == {"督办事项": "5", "已办结": "1", "挂牌办理": "3", "其中逾期": "3", "暂缓": "1",
                           "不能办理": "0", "办结率": "20.0%"}
    assert rows(html) == {SQUARE: "late", FUNDS: "", TRAFFIC: "late", HELD: "", HOSTILE: "late"}
    assert '<span class="badge st-late">逾期</span>' in html and '<span class="badge st-closed">已办结</span>' in html
    assert "已完成广场摊点清理" in html                       # the latest 进展 in its column
    assert "协办：区公安分局" in html


@pytest.mark.parametrize("query, expect", [
    ({"status": "逾期"}, {SQUARE, TRAFFIC, HOSTILE}),
    ({"status": "挂牌"}, {SQUARE, TRAFFIC, HOSTILE}),
    ({"status": "已办结"}, {FUNDS}),
    ({"status": "暂缓"}, {HELD}),
    ({"status": "办理中"}, set()),                            # every open one is past its 时限 by now
    ({"unit": "区公安分局"}, {SQUARE}),                       # 协办 counts
    ({"unit": "区财政局"}, {FUNDS}),
    ({"type": "人大建议"}, {TRAFFIC}),
    ({"type": "人大建议", "status": "已办结"}, set()),
    ({"year": "全部"}, {SQUARE, FUNDS, TRAFFIC, HELD, HOSTILE}),
    ({"year": "2016"}, set()),
])
def test_the_list_filters(clients, query, expect):
    html = clients["clerk"].get("/supervise?" + "&".join(f"{k}={quote(v)}" for k, v in query.items())).text
    assert set(rows(html)) == expect
    assert f"共 <strong>{len(expect)}</strong> 件" in html


def test_the_figures_follow_unit_and_source_but_not_the_status(clients):
    c = clients["leader"]
    html = c.get("/supervise?unit=" + quote("区财政局") + "&status=" + quote("逾期")).text
    assert cards(html)["督办事项"] == "1" and cards(html)["办结率"] == "100.0%" and not rows(html)
    html = c.get("/supervise?type=" + quote("政协提案")).text
    assert cards(html)["暂缓"] == "1" and cards(html)["办结率"] == "0.0%"


def test_bad_filter_values_are_named_not_a_500(clients):
    html = clients["reader"].get("/supervise?status=" + quote("已完成") + "&type=" + quote("座谈会") + "&year=x&page=y").text
    assert "没有“已完成”这种状态" in html and "没有“座谈会”这种来源类型" in html and "年度“x”不是数字" in html


def test_a_day_before_the_时限_shows_办理中_and_earlier_years_stay_in_sight(on_day):
    inst, app = on_day(dt.date(2015, 3, 20))
    with TestClient(app) as c:
        login(c, "reader")
        html = c.get("/supervise?year=2015").text
        assert rows(html)[SQUARE] == ""                      # 时限 2015-03-23: three days left
        assert "截至 2015-03-20" in html
        assert "距办结时限 3 天" in c.get(item(SQUARE)).text
    inst, app = on_day(dt.date(2016, 2, 1))
    with TestClient(app) as c:
        login(c, "reader")
        html = c.get("/supervise").text                      # 2016 has no items yet: the latest year
        assert "督办事项（2015 年度）" in html
        html = c.get("/supervise?year=2016").text
        assert "往年仍挂牌的事项 3 件（其中逾期 3 件）" in html


def test_many_items_are_paged(on_day):
    from pipeline import supervise as sv
    from pipeline.ledger import Ledger

    inst, app = on_day(dt.date(2015, 6, 1))
    with Ledger.open(inst.config) as ledger:
        for k in range(60):
            sv.add_item(ledger, inst.config, matter=f"第{k}项", source_type="其他", source="s", lead_unit="区商务局",
                        assigned=dt.date(2015, 5, 1), actor="督查员")
    with TestClient(app) as c:
        login(c, "reader")
        html = c.get("/supervise?unit=" + quote("区商务局")).text
        assert len(rows(html)) == 50 and "第 1 / 2 页" in html
        html = c.get("/supervise?unit=" + quote("区商务局") + "&page=2").text
        assert len(rows(html)) == 10 and "督〔2015〕65号" in html
        html = c.get("/supervise?unit=" + quote("区商务局") + "&sort=deadline&page=9").text   # past the end: last
        assert len(rows(html)) == 10


def test_the_status_colours_are_the_台账s(clients):
    from pipeline.supervise.report import STATUS_FILL

    css = clients["reader"].get("/supervise/status.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    for status, fill in STATUS_FILL.items():
        assert f"{{background:#{fill}}}" in css.text, status
    assert '<link rel="stylesheet" href="/supervise/status.css">' in clients["reader"].get("/supervise").text


# --- an item -----------------------------------------------------------------------------------------------

def test_the_item_page_shows_fields_progress_files_and_history(clients):
    html = clients["reader"].get(item(SQUARE)).text
    for text in ("完成火车站广场综合整治", "领导批示", "陈礼洋区长2015年3月2日批示", "区城管局", "区公安分局", "彭建元",
                 "2015-03-02", "2015-03-23", "指定：15个工作日", "已完成广场摊点清理，正在拆除违章建筑", "广场现场照片.jpg"):
        assert text in html, text
    assert re.search(r"<td class=\"nowrap\">交办</td><td class=\"nowrap\">督查员</td>", html)
    assert re.search(r"<td class=\"nowrap\">进展</td><td class=\"nowrap\">督查员</td>", html)
    assert 'href="' + file_url(SQUARE, "进展材料/广场现场照片.jpg").replace("&", "&amp;") + '"' in html
    html = clients["reader"].get(item(FUNDS)).text
    assert "资金3200万元已全部拨付到位" in html and "2015-04-20" in html and "验收报告.pdf" in html
    html = clients["reader"].get(item(TRAFFIC)).text
    assert "B 类，2015-05-10，基本满意" in html


def test_an_item_address_is_canonical_and_an_unknown_one_is_404(clients):
    c = clients["reader"]
    r = c.get("/supervise/" + quote(" 督〔2015〕1 号", safe=""), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == item(SQUARE)
    assert c.get(item("督〔2015〕99号")).status_code == 404
    assert c.get("/supervise/" + "x" * 60).status_code == 404


def test_markup_in_an_item_is_shown_as_text(clients):
    for url in ("/supervise", item(HOSTILE)):
        html = clients["reader"].get(url).text
        assert "&lt;script&gt;alert(3)&lt;/script&gt;" in html and "<script>alert(3)" not in html
        assert "{{7*7}}" in html and ">49<" not in html
    html = clients["reader"].get(item(HOSTILE)).text
    assert "&lt;b&gt;来源&lt;/b&gt;{{ 8*8 }}" in html and HOSTILE_MATTER not in html


def test_a_督办件_found_by_search_opens_on_the_督办_page(clients):
    c = clients["reader"]
    html = c.get("/?q=" + quote("火车站广场")).text
    assert f'href="{item(SQUARE)}"' in html
    r = c.get("/?q=" + quote(SQUARE), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == item(SQUARE)


# --- who may change an item ------------------------------------------------------------------------------

FORMS = ("progress", "close", "status", "extend", "answer")


@pytest.mark.parametrize("role", list(USERS))
def test_only_督查_sees_the_forms_and_may_post_them(clients, role):
    c = clients[role]
    html = c.get(item(TRAFFIC)).text
    present = {f for f in FORMS if f'action="{item(TRAFFIC)}/{f}"' in html}
    assert present == (set(FORMS) if role == "inspector" else set()), present
    if role != "inspector":
        tok = token(c, "/supervise")
        data = {"csrf_token": tok, "text": "进展", "note": "说明", "status": "暂缓", "reason": "r",
                "deadline": "6个月", "category": "A"}
        for f in FORMS:
            r = c.post(item(TRAFFIC) + "/" + f, data=data, follow_redirects=False)
            assert r.status_code == 403 and "您的角色不能督办：记进展、销号、延期" in r.text, f


def test_a_closed_item_offers_no_forms(clients):
    html = clients["inspector"].get(item(FUNDS)).text
    assert not any(f'action="{item(FUNDS)}/{f}"' in html for f in FORMS)
    html = clients["inspector"].get(item(HELD)).text          # 暂缓: may resume, not hold again
    assert '<option value="办理中">恢复办理</option>' in html and "<option>暂缓</option>" not in html


# --- changes -------------------------------------------------------------------------------------------------

def _events(inst, ref: str) -> list[tuple[str, str]]:
    from pipeline.ledger import Ledger

    with Ledger.open(inst.config) as ledger:
        assert ledger.verify().ok
        return [(e.event, e.actor) for e in ledger.events(ref) if e.event.startswith("supervision_")]


def test_progress_with_files_then_销号_refused_without_a_note_then_closed(on_day):
    from pipeline import supervise as sv
    from pipeline.ledger import Ledger
    from pipeline.search import open_index

    inst, app = on_day(dt.date(2015, 3, 20))
    with TestClient(app) as c:
        login(c, "inspector")
        tok = token(c, item(SQUARE))
        r = c.post(item(SQUARE) + "/progress", data={"csrf_token": tok, "text": "违章建筑已拆除三处", "day": "2015-03-19"},
                   files=[("files", ("C:\\fakepath\\拆除前后对比.jpg", b"before/after", "image/jpeg")),
                          ("files", ("../../../etc/passwd", b"not a passwd", "text/plain"))],
                   follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == item(SQUARE)
        html = c.get(item(SQUARE)).text
        assert "已记录进展（2015-03-19），附 2 个文件" in html
        assert "违章建筑已拆除三处" in html and "拆除前后对比.jpg" in html
        # The 办结说明 is required: the library refuses and says so; what was typed stays.
        r = c.post(item(SQUARE) + "/close", data={"csrf_token": tok, "note": "  ", "day": "2015-03-21"},
                   files=[("files", ("验收单.pdf", b"%PDF-1.4", "application/pdf"))])
        assert r.status_code == 400
        assert "销号须写明办结说明（所选文件未保存，请重新选择）" in r.text and "--note" not in r.text
        assert re.search(r'<textarea name="note"[^>]* class="invalid"', r.text)
        assert 'name="day" value="2015-03-21"' in r.text
        r = c.post(item(SQUARE) + "/close", data={"csrf_token": tok, "note": "广场整治完成，长效管理机制已建立",
                                                   "day": "2015-03-21"},
                   files=[("files", ("验收单.pdf", b"%PDF-1.4 signed", "application/pdf"))], follow_redirects=False)
        assert r.status_code == 303
        html = c.get(item(SQUARE)).text
        assert "已销号（办结日期 2015-03-21，佐证材料 1 个）" in html
        assert '<span class="badge st-closed">已办结</span>' in html and "验收单.pdf" in html
        assert 'action="' + item(SQUARE) + '/progress"' not in html
        assert 'role="status"' not in c.get(item(SQUARE)).text         # the note is shown once
        got = c.get(file_url(SQUARE, "进展材料/passwd"))
        assert got.status_code == 200 and got.content == b"not a passwd"
    with Ledger.open(inst.config) as ledger:
        it = sv.get_item(ledger, SQUARE)
        assert it.status == sv.CLOSED and it.closed_on == dt.date(2015, 3, 21)
        assert [f.original for f in it.progress[-1].files] == ["拆除前后对比.jpg", "passwd"]
        assert all(p.is_file() and p.is_relative_to(sv.item_dir(inst.config, it)) for p, _ in
                   sv.evidence_files(inst.config, it))
    assert _events(inst, SQUARE)[-2:] == [("supervision_progress", "inspector"), ("supervision_closed", "inspector")]
    assert not list((inst.config.work_dir / "web" / "uploads").glob("*/*"))     # temporary copies gone
    with open_index(inst.config) as index:                                      # the index followed
        hits = index.search("长效管理机制", limit=5, snippets=False).hits
    assert [h.id for h in hits] == [SQUARE]


def test_extend_hold_resume_give_up_and_answer(on_day):
    inst, app = on_day(dt.date(2015, 4, 10))
    with TestClient(app) as c:
        login(c, "inspector")
        tok = token(c, item(TRAFFIC))

        def post(ref, op, **data):
            return c.post(item(ref) + "/" + op, data={"csrf_token": tok, **data}, follow_redirects=False)

        r = post(TRAFFIC, "extend", deadline="6个月", reason="")
        assert r.status_code == 400 and "延期须写明原因" in r.text and 'value="6个月"' in r.text
        r = post(TRAFFIC, "extend", deadline="以后再说", reason="交办机构同意")
        assert r.status_code == 400 and "办结时限“以后再说”无法识别" in r.text
        assert post(TRAFFIC, "extend", deadline="6个月", reason="交办机构同意").status_code == 303
        assert "办结时限已延至 2015-09-18" in c.get(item(TRAFFIC)).text
        assert post(SQUARE, "status", status="暂缓", reason="等待规划调整").status_code == 303
        assert post(SQUARE, "status", status="办理中", reason="规划已批复").status_code == 303
        html = c.get(item(SQUARE)).text
        assert '<span class="badge st-late">逾期</span>' in html        # 时限 2015-03-23 has passed
        assert post(HOSTILE, "status", status="不能办理", reason="超出职权").status_code == 303
        r = post(HOSTILE, "progress", text="还想记一条")
        assert r.status_code == 400 and "已是“不能办理”，不能再记进展" in r.text
        assert post(TRAFFIC, "answer", category="A", day="2015-06-01", satisfaction="满意").status_code == 303
        assert "A 类，2015-06-01，满意" in c.get(item(TRAFFIC)).text
        r = post(TRAFFIC, "answer", category="D", day="2015-06-01")
        assert r.status_code == 400 and "答复类别应为" in r.text
        r = post(TRAFFIC, "progress", text="x", day="前天")
        assert r.status_code == 400 and "进展日期“前天”无法识别" in r.text
    assert _events(inst, SQUARE)[-2:] == [("supervision_status", "inspector")] * 2
    assert ("supervision_deadline", "inspector") in _events(inst, TRAFFIC)
    assert ("supervision_answered", "inspector") in _events(inst, TRAFFIC)


def test_a_post_without_the_csrf_token_changes_nothing(on_day):
    inst, app = on_day(dt.date(2015, 4, 10))
    before = _events(inst, SQUARE)
    with TestClient(app) as c:
        login(c, "inspector")
        r = c.post(item(SQUARE) + "/close", data={"note": "办结"}, follow_redirects=False)
        assert r.status_code == 403 and "表单已失效" in r.text
        r = c.post(item(SQUARE) + "/progress", data={"text": "x", "csrf_token": "forged"},
                   files=[("files", ("a.txt", b"a", "text/plain"))], follow_redirects=False)
        assert r.status_code == 403
    assert _events(inst, SQUARE) == before


def test_too_large_an_upload_is_refused_with_a_note(on_day, monkeypatch):
    from pipeline.web import uploads

    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 1024)
    inst, app = on_day(dt.date(2015, 4, 10))
    before = _events(inst, SQUARE)
    with TestClient(app) as c:
        login(c, "inspector")
        r = c.post(item(SQUARE) + "/progress", data={"csrf_token": token(c, "/supervise"), "text": "大文件"},
                   files=[("files", ("big.bin", b"x" * 2048, "application/octet-stream"))])
        assert r.status_code == 400 and "上传的文件合计超过" in r.text and "大文件" in r.text
    assert _events(inst, SQUARE) == before


# --- files ---------------------------------------------------------------------------------------------

def test_a_file_is_the_stored_bytes_and_its_download_is_in_the_chain(on_day):
    from pipeline.ledger import Ledger

    inst, app = on_day(dt.date(2015, 4, 10))
    with Ledger.open(inst.config) as ledger:
        before = len(ledger.events(FUNDS))      # the shared instance may have served it already
    with TestClient(app) as c:
        login(c, "reader")
        r = c.get(file_url(FUNDS, "佐证材料/验收报告.pdf"))
        assert r.status_code == 200 and r.content == EVIDENCE
        assert r.headers["cache-control"] == "no-store" and r.headers["content-disposition"].startswith("attachment")
        assert c.get(file_url(SQUARE, "进展材料/广场现场照片.jpg")).content == PHOTO
    with Ledger.open(inst.config) as ledger:
        ev = [e for e in ledger.events(FUNDS)[before:] if e.event == "downloaded"]
    assert [(e.actor, e.detail["督办材料"]) for e in ev] == [("reader", "佐证材料/验收报告.pdf")]


NAMES = ["../../../config.yaml", "佐证材料/../../../../config.yaml", "/etc/passwd", "佐证材料/../验收报告.pdf",
         "佐证材料\\验收报告.pdf", "佐证材料", "", "佐证材料//验收报告.pdf", "./佐证材料/验收报告.pdf",
         "佐证材料/验收报告.pdf\x00.txt", "%2e%2e/%2e%2e/config.yaml"]


@pytest.mark.parametrize("name", NAMES)
def test_no_name_in_the_request_reaches_outside_the_record(clients, name):
    r = clients["archivist"].get(file_url(FUNDS, name))
    assert r.status_code == 404 and b"organisation" not in r.content and b"root:" not in r.content


def test_only_recorded_files_are_served_even_inside_the_folder_and_a_tampered_record_serves_nothing(on_day):
    import os

    from pipeline import supervise as sv
    from pipeline.ledger import Ledger, ledger_path

    inst, app = on_day(dt.date(2015, 4, 10))
    with Ledger.open(inst.config) as ledger:
        folder = sv.item_dir(inst.config, sv.get_item(ledger, FUNDS))
    os.chmod(folder / "佐证材料", 0o755)
    (folder / "佐证材料" / "未登记.txt").write_text("not recorded", encoding="utf-8")
    db = sqlite3.connect(ledger_path(inst.config))
    stored = json.loads(db.execute("SELECT evidence FROM supervision_items WHERE reference = ?", (FUNDS,)).fetchone()[0])
    stored[0]["name"] = "../../../../config.yaml"
    db.execute("UPDATE supervision_items SET evidence = ? WHERE reference = ?",
               (json.dumps(stored, ensure_ascii=False), FUNDS))
    db.commit()
    db.close()
    with TestClient(app) as c:
        login(c, "archivist")
        assert c.get(file_url(FUNDS, "佐证材料/未登记.txt")).status_code == 404
        r = c.get(file_url(FUNDS, "../../../../config.yaml"))
        assert r.status_code == 404 and b"organisation" not in r.content


# --- uploads, unit ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, name", [
    ("报告.pdf", "报告.pdf"), ("C:\\fakepath\\报告.pdf", "报告.pdf"), ("../../etc/passwd", "passwd"),
    ("..", None), ("", None), (None, None), (".bashrc", "bashrc"), ("a\x00b\nc.txt", "abc.txt"),
    ("/", None), ("  空格.doc  ", "空格.doc"),
])
def test_upload_names_are_plain(raw, name):
    from pipeline.web.uploads import safe_name

    assert safe_name(raw) == name


def test_a_long_upload_name_keeps_its_suffix_within_the_limit():
    from pipeline.web.uploads import MAX_NAME_BYTES, safe_name

    name = safe_name("很长的名字" * 40 + ".pdf")
    assert name.endswith(".pdf") and len(name.encode("utf-8")) <= MAX_NAME_BYTES


def test_an_instance_without_items_shows_an_empty_list(tmp_path):
    from pipeline import accounts
    from pipeline.config import load
    from pipeline.ledger import Ledger
    from pipeline.web import create_app
    from tests.conftest import write_instance
    from tests.support.web_instance import PASSWORD

    config = load(write_instance(tmp_path / "inst"))
    with Ledger.open(config) as ledger:
        accounts.Accounts(ledger).add("reader", ["查阅"], PASSWORD, actor="安装")
    with TestClient(create_app(config)) as c:
        login(c, "reader")
        html = c.get("/supervise").text
        assert "没有符合条件的督办事项" in html and cards(html)["督办事项"] == "0" and cards(html)["办结率"] == "—"
        assert c.get(item("督〔2015〕1号")).status_code == 404
        assert c.get(file_url("督〔2015〕1号", "佐证材料/x.pdf")).status_code == 404
