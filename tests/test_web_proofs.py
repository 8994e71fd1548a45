"""The 清样/签发 page through the test client, on the web instance's 清样 (tests/support/web_instance.py PROOFS,
made by the real make_proof): the list of waiting 清样 with their PDF and page images; who may see it
(办文, 领导) and who may 签发 or 退回 (领导 only); a 签发 through the same library call as `gongwen
release` — the draft moves to inbox/, the watch service numbers it, the list shows the 文号 and the
发文登记簿 the 签发人 —; a 退回 with its opinion as the clerk sees it; a 清样 replaced since it was
shown; CSRF; hostile names shown as text; no path from the book or the request outside proofs/."""
from __future__ import annotations

import datetime as dt
import re
import sqlite3

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from tests.support.web import Clock, app_for, login, token
from tests.support.web_instance import PROOF_CASES, PROOF_ROUTE, PROOFS, USERS, copy

pytestmark = [pytest.mark.slow, pytest.mark.libreoffice, pytest.mark.usefixtures("cheap_hashes")]
FIRE, HOSTILE = PROOF_CASES["fire"], PROOF_CASES["hostile"]
CST = dt.timezone(dt.timedelta(hours=8))
FORMS = ("sign", "return")


def url(case_id: int, tail: str = "") -> str:
    return f"/proofs/{case_id}{tail}"


def seen(html: str) -> str:
    return re.search(r'name="seen" value="([0-9a-f]+)"', html).group(1)


def msg(html: str, kind: str) -> str:
    m = re.search(r'<p class="msg ' + kind + r'" role="\w+">(.*?)</p>', html, re.S)
    return m.group(1) if m else ""


@pytest.fixture
def private(web_instance, tmp_path):
    """A private copy of the instance and an app whose day is 2016-01-11 (the 签发日期)."""
    inst = copy(web_instance, tmp_path / "inst")
    return inst, app_for(inst, Clock(dt.datetime(2016, 1, 11, 10, 0, tzinfo=CST)))


def _cases(inst):
    from pipeline.ledger import Ledger
    from pipeline.signoff import cases

    with Ledger.open(inst.config) as ledger:
        assert ledger.verify().ok
        return {c.id: c for c in cases(ledger, inst.config)}


def _events(inst, case_id: int) -> list[tuple[str, str]]:
    from pipeline.ledger import Ledger
    from pipeline.signoff import case_history

    with Ledger.open(inst.config) as ledger:
        return [(e.event, e.actor) for e in case_history(ledger, inst.config, case_id)]


# --- who may see and do what --------------------------------------------------------------------------------

@pytest.mark.parametrize("role", list(USERS))
def test_only_办文_and_领导_see_the_清样_their_pdf_and_pages(clients, role):
    c = clients[role]
    got = {u: c.get(u, follow_redirects=False).status_code
           for u in ("/proofs", url(FIRE), url(FIRE, "/pdf"), url(FIRE, "/thumb/1"), url(FIRE, "/page/1"))}
    expect = 200 if role in ("clerk", "leader") else 403
    assert set(got.values()) == {expect}, got
    nav = re.search(r'<nav class="nav">(.*?)</nav>', c.get("/").text, re.S).group(1)
    assert ('href="/proofs"' in nav) == (role in ("clerk", "leader"))


@pytest.mark.parametrize("role", list(USERS))
def test_only_领导_sees_the_签发_form_and_may_post_it(clients, role):
    c = clients[role]
    if role in ("clerk", "leader"):
        html = c.get(url(FIRE)).text
        present = {f for f in FORMS if f'action="{url(FIRE)}/{f}"' in html or f'formaction="{url(FIRE)}/{f}"' in html}
        assert present == (set(FORMS) if role == "leader" else set()), present
        assert ('name="opinion"' in html) == (role == "leader")
    if role != "leader":
        tok = token(c, "/")
        for f in FORMS:
            r = c.post(url(FIRE, "/" + f), data={"csrf_token": tok, "opinion": "同意", "seen": "0" * 64},
                       follow_redirects=False)
            assert r.status_code == 403 and "您的角色不能签发" in r.text, (f, r.status_code)


def test_the_list_shows_the_waiting_清样_with_pdf_pages_and_state(clients, web_instance):
    config = web_instance.config
    html = clients["clerk"].get("/proofs").text
    assert "待签发的清样（2）" in html
    for key, (_name, title) in PROOFS.items():
        assert title in html
        assert f'href="{url(PROOF_CASES[key], "/pdf")}"' in html
    assert html.count('<span class="badge pf-wait">待签发</span>') == 2
    assert "草稿已改" not in html                          # both 清样 are of the drafts as they are
    pdf = config.proofs / PROOF_ROUTE / (PROOFS["fire"][0] + ".清样.pdf")
    got = clients["leader"].get(url(FIRE, "/pdf"))
    assert got.content == pdf.read_bytes() and got.headers["content-type"] == "application/pdf"
    assert got.headers["cache-control"] == "no-store"
    pages = len(PdfReader(pdf).pages)
    html = clients["leader"].get(url(FIRE)).text
    assert len(re.findall(r'<img src="/proofs/1/thumb/\d+"', html)) == pages >= 1
    png = clients["leader"].get(url(FIRE, f"/thumb/{pages}"))
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert clients["leader"].get(url(FIRE, f"/page/{pages + 1}")).status_code == 404
    assert "第 1 稿" in html and "秘书组" in html              # the 清样 event in the 办理过程


def test_hostile_names_are_shown_as_text(clients):
    name = PROOFS["hostile"][0]
    escaped = name.replace("<", "&lt;").replace(">", "&gt;")
    for page in ("/proofs", url(HOSTILE)):
        html = clients["leader"].get(page).text
        assert escaped in html and name not in html, page
        assert "{{7*7}}" in html and ">49<" not in html and "49.md" not in html


# --- 签发 and 退回 ---------------------------------------------------------------------------------------------

def test_a_leader_signs_off_the_draft_is_numbered_and_the_register_names_the_signer(private):
    from pipeline import intake
    from pipeline.ledger import Ledger, register_listing
    from pipeline.process import open_services

    inst, app = private
    config = inst.config
    draft = config.proofs / PROOF_ROUTE / PROOFS["fire"][0]
    with TestClient(app) as c:
        login(c, "leader")
        html = c.get(url(FIRE)).text
        r = c.post(url(FIRE, "/sign"), data={"csrf_token": token(c, url(FIRE)), "opinion": "同意，请按意见修改后印发",
                                             "seen": seen(html)}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == url(FIRE)
        html = c.get(url(FIRE)).text
        assert f"已签发（同意，请按意见修改后印发），送编号：inbox/{PROOF_ROUTE}/森林防火.md" in msg(html, "ok")
        assert '<span class="badge pf-sent">已送编号</span>' in html and 'name="opinion"' not in html
        assert c.get(url(FIRE, "/pdf")).status_code == 404          # the 清样 is taken down with the draft
    assert not draft.exists() and (config.inbox / PROOF_ROUTE / draft.name).is_file()
    assert _events(inst, FIRE)[-2:] == [("signoff", "leader"), ("released", "leader")]
    # The watch service, once: it numbers the draft with the 签发 recorded on its 清样.
    counts = intake.watch(config, lambda: open_services(config, "秘书组"), on_event=lambda e: None, once=True)
    assert counts.get("issued") == 1, counts
    case = _cases(inst)[FIRE]
    assert case.state == "numbered" and case.reference == "珠政办发〔2016〕1号"
    with TestClient(app) as c:
        login(c, "clerk")
        html = c.get("/proofs").text
        row = re.search(r'<tr class="pf-row-done">.*?</tr>', html, re.S).group(0)
        assert "已编号" in row and 'href="/doc/' in row and "珠政办发〔2016〕1号" in row
        assert "leader 2016-01-11 签发：同意，请按意见修改后印发" in row
        assert "待签发的清样（1）" in html
        html = c.get("/registers?year=2016&series=" + PROOF_ROUTE).text
        assert re.search(r"珠政办发〔2016〕1号.*?<td[^>]*>leader</td><td[^>]*>2016-01-11</td>", html, re.S)
    with Ledger.open(config) as ledger:
        (row,) = register_listing(config, 2016, PROOF_ROUTE, ledger=ledger).rows
        assert row.signers == "leader" and row.signed_on == "2016-01-11"


def test_a_leader_sends_a_清样_back_and_the_clerk_sees_the_opinion(private):
    inst, app = private
    with TestClient(app) as c:
        login(c, "leader")
        html = c.get(url(FIRE)).text
        tok = token(c, url(FIRE))
        r = c.post(url(FIRE, "/return"), data={"csrf_token": tok, "opinion": "  ", "seen": seen(html)})
        assert r.status_code == 400 and "退回须写明意见" in msg(r.text, "error")
        r = c.post(url(FIRE, "/sign"), data={"csrf_token": tok, "opinion": "", "seen": seen(html)})
        assert r.status_code == 400 and "签发须写明签发意见" in msg(r.text, "error")
        r = c.post(url(FIRE, "/return"), data={"csrf_token": tok, "opinion": "第二段<b>措施</b>要具体", "seen": seen(html)},
                   follow_redirects=False)
        assert r.status_code == 303
    with TestClient(app) as c:
        login(c, "clerk")
        html = c.get("/proofs").text
        assert "<strong>leader 退回</strong>：第二段&lt;b&gt;措施&lt;/b&gt;要具体" in html
        assert "待签发的清样（1）" in html
        html = c.get(url(FIRE)).text
        assert '<span class="badge pf-back">已退回</span>' in html and "第二段&lt;b&gt;措施&lt;/b&gt;要具体" in html
    assert (inst.config.proofs / PROOF_ROUTE / PROOFS["fire"][0]).is_file()
    assert _events(inst, FIRE)[-1] == ("returned", "leader")
    assert _cases(inst)[FIRE].return_opinion == "第二段<b>措施</b>要具体"


def test_a_清样_replaced_since_it_was_shown_is_neither_signed_nor_sent_back(private):
    from pipeline.process import open_services
    from pipeline.proofs import make_proof

    inst, app = private
    config = inst.config
    draft = config.proofs / PROOF_ROUTE / PROOFS["fire"][0]
    with TestClient(app) as c:
        login(c, "leader")
        shown = seen(c.get(url(FIRE)).text)
        # Meanwhile the clerk corrects the draft and its new 清样 is made.
        draft.write_text(draft.read_text(encoding="utf-8").replace("抓好落实", "抓紧落实"), encoding="utf-8")
        html = c.get("/proofs").text
        assert "草稿已改，待重出清样" in html
        with open_services(config, "秘书组") as svc:
            assert make_proof(draft, svc, route=config.route_for_folder(PROOF_ROUTE)).status == "proof"
        tok = token(c, url(FIRE))
        for f in FORMS:
            r = c.post(url(FIRE, "/" + f), data={"csrf_token": tok, "opinion": "同意", "seen": shown})
            assert r.status_code == 400 and "清样已更新（第 2 稿），请看过新清样后再签发或退回" in msg(r.text, "error"), f
        r = c.post(url(FIRE, "/sign"), data={"csrf_token": tok, "opinion": "同意"})
        assert r.status_code == 400 and "表单未注明所看的清样" in msg(r.text, "error")
    assert draft.is_file() and not (config.inbox / PROOF_ROUTE / draft.name).exists()
    assert [e for e, _ in _events(inst, FIRE)] == ["proof", "proof"]


def test_a_post_without_the_csrf_token_changes_nothing(private):
    inst, app = private
    with TestClient(app) as c:
        login(c, "leader")
        shown = seen(c.get(url(FIRE)).text)
        for data in ({"opinion": "同意", "seen": shown}, {"opinion": "同意", "seen": shown, "csrf_token": "forged"}):
            for f in FORMS:
                r = c.post(url(FIRE, "/" + f), data=data, follow_redirects=False)
                assert r.status_code == 403 and "表单已失效" in r.text
    assert [e for e, _ in _events(inst, FIRE)] == ["proof"]
    assert (inst.config.proofs / PROOF_ROUTE / PROOFS["fire"][0]).is_file()


# --- paths --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/proofs/99", "/proofs/99/pdf", "/proofs/x", "/proofs/..%2F..%2Fconfig.yaml",
                                  "/proofs/1/pdf/..%2F..%2Fconfig.yaml", "/proofs/1/page/0", "/proofs/1/thumb/-1",
                                  "/proofs/%2Fetc%2Fpasswd/pdf", "/proofs/1%2F..%2F2/pdf"])
def test_no_address_reaches_outside_the_清样(clients, path):
    r = clients["leader"].get(path, follow_redirects=False)
    assert r.status_code in (400, 404), (path, r.status_code)
    assert b"organisation" not in r.content and b"root:" not in r.content


@pytest.mark.parametrize("pdf, name", [
    ("config.yaml", None),                                    # the 清样 named outside proofs/
    (f"proofs/{PROOF_ROUTE}/../../config.yaml", None),
    ("/etc/passwd", None),
    (None, "../../config.yaml"),                             # the draft named outside proofs/
    (None, "../../../etc/passwd"),
])
def test_a_book_row_naming_a_path_outside_proofs_serves_and_moves_nothing(private, pdf, name):
    from pipeline.ledger import ledger_path

    inst, app = private
    config = inst.config
    outside = config.base / "config.yaml"
    before = outside.read_bytes()
    shown = _cases(inst)[FIRE].content_hash
    with sqlite3.connect(ledger_path(config)) as db:
        if pdf is not None:
            db.execute("UPDATE proof_cases SET pdf = ? WHERE id = ?", (pdf, FIRE))
        if name is not None:
            db.execute("UPDATE proof_cases SET name = ?, route = '' WHERE id = ?", (name, FIRE))
    with TestClient(app) as c:
        login(c, "leader")
        for tail in ("/pdf", "/page/1", "/thumb/1") if pdf is not None else ():
            r = c.get(url(FIRE, tail))
            assert r.status_code == 404 and b"organisation" not in r.content and b"root:" not in r.content, tail
        html = c.get(url(FIRE)).text
        assert 'name="opinion"' not in html
        r = c.post(url(FIRE, "/sign"), data={"csrf_token": token(c, "/proofs"), "opinion": "同意", "seen": shown})
        assert r.status_code == 400 and "不在清样文件夹中" in msg(r.text, "error")
    assert outside.read_bytes() == before and not list(config.inbox.rglob("*.yaml"))
