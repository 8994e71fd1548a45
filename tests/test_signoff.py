"""签发 and 复核 on a real register (SQLite) with real drafts read and reviewed, without LibreOffice:
the substantive hash, the 签发 a draft carries, the 清样签发登记 (清样 → 签发 | 退回 → 送编号 → 编号)
kept as a ledger Book, 复核 before the number with a diff naming what changed, require_signoff, the
register's 签发人/签发日期, and the v1 → v2 register upgrade."""
from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest

from pipeline import drafts, rules, signoff
from pipeline.errors import GongwenError, LedgerError
from pipeline.ledger import Ledger
from pipeline.model import Signoff
from tests.conftest import REPO
from tests.support.ledger import TZ, Clock

FIXTURES = REPO / "tests" / "fixtures"

DRAFT = """---
文种: 通知
机关代字: 珠政发
标题: {title}
主送: 各镇人民政府，各街道办事处，区政府各部门
成文日期: 2015年3月20日
署名: 珠晖区人民政府
{extra}---
为切实做好防汛工作，确保人民群众生命财产安全，现就有关事项通知如下。

一、总体要求

各单位要高度重视，明确责任，抓好落实。

二、工作措施

（一）加强组织领导。各单位主要负责同志要亲自部署。

（二）强化督查督办。区政府办公室将适时开展督查。
"""
TITLE = "珠晖区人民政府关于做好2015年防汛工作的通知"


def write(folder: Path, name: str = "防汛.md", *, title: str = TITLE, extra: str = "", body=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = DRAFT.format(title=title, extra=extra)
    if body is not None:
        text = body(text)
    p = folder / name
    p.write_text(text, encoding="utf-8")
    return p


def reviewed(path: Path, config):
    d, problems = rules.review(drafts.read_draft(path, config), config)
    assert not [p for p in problems if p.severity == "error"], problems
    return d


@pytest.fixture
def ledger(ledger_cfg, tmp_path):
    with Ledger(tmp_path / "ledger.sqlite3", ledger_cfg, clock=Clock(dt.datetime(2015, 3, 15, 9, tzinfo=TZ))) as led:
        yield led


@pytest.fixture
def folders(ledger_cfg):
    """Fresh proofs/珠政发 and inbox/珠政发 folders of the shared instance."""
    for root in (ledger_cfg.proofs, ledger_cfg.inbox):
        shutil.rmtree(root, ignore_errors=True)
        (root / "珠政发").mkdir(parents=True)
    yield ledger_cfg.proofs / "珠政发", ledger_cfg.inbox / "珠政发"


def proof(ledger, ledger_cfg, path: Path, actor: str = "秘书甲"):
    """Record a 清样 of ``path`` as make_proof does (the PDF itself is LibreOffice's: test_proofs)."""
    pdf = path.with_name(path.name + ".清样.pdf")
    pdf.write_bytes(b"%PDF-1.6 stand-in\n")
    return signoff.record_proof(ledger, ledger_cfg, route=signoff.route_key_of(path, ledger_cfg, ledger_cfg.proofs), name=path.name,
                                draft=reviewed(path, ledger_cfg), file_hash=signoff_file_hash(path), pdf=pdf, actor=actor)


def signoff_file_hash(path: Path) -> str:
    from pipeline.proofs import sha256_file

    return sha256_file(path)


CHEN = Signoff(signer="陈礼洋", date=dt.date(2015, 3, 16), opinion="同意")


# --- the substantive hash -----------------------------------------------------------------------------

def test_only_印发日期_and_份数_may_change_after_签发(ledger_cfg, tmp_path):
    base = reviewed(write(tmp_path / "a"), ledger_cfg)
    printed = reviewed(write(tmp_path / "b", extra="印发日期: 2015年3月21日\n份数: 40\n"), ledger_cfg)
    retitled = reviewed(write(tmp_path / "c", title=TITLE.replace("防汛", "抗旱")), ledger_cfg)
    assert printed.content_hash() != base.content_hash()            # a different document …
    assert printed.substantive_hash() == base.substantive_hash()    # … but the same approved text
    assert retitled.substantive_hash() != base.substantive_hash()
    signed = reviewed(write(tmp_path / "d", extra="签发: {签发人: 陈礼洋, 意见: 同意, 日期: 2015-03-16}\n"), ledger_cfg)
    assert signed.signoff == CHEN
    assert signed.content_hash() == base.content_hash() and signed.substantive_hash() == base.substantive_hash()


# --- the 签发 a draft carries --------------------------------------------------------------------------

def test_front_matter_签发_mapping_flat_keys_and_代(ledger_cfg, tmp_path):
    d = reviewed(write(tmp_path, extra="签发:\n  签发人: 陈礼洋（代）\n  意见: 同意，请按意见修改后印发\n"
                                        "  日期: 2015年3月16日\n  会签: 彭建元 李明\n"), ledger_cfg)
    assert d.signoff == Signoff("陈礼洋", dt.date(2015, 3, 16), "同意，请按意见修改后印发", ("彭建元", "李明"), True)
    assert d.signed_by == ("陈礼洋", "彭建元", "李明") and d.signers == ()
    flat = reviewed(write(tmp_path, "f.md", extra="签发人: 陈礼洋\n签发意见: 同意\n签发日期: 2015-03-16\n"), ledger_cfg)
    assert flat.signoff == CHEN and flat.signers == ("陈礼洋",)
    plain = reviewed(write(tmp_path, "p.md", extra="签发: 陈礼洋\n"), ledger_cfg)       # a name, as it always meant
    assert plain.signoff is None and plain.signers == ("陈礼洋",)


def test_a_签发_without_its_date_or_signer_is_an_error_naming_it(ledger_cfg, tmp_path):
    for extra, phrase in (("签发: {签发人: 陈礼洋, 意见: 同意}\n", "缺少签发日期"),
                          ("签发: {意见: 同意, 日期: 2015-03-16}\n", "缺少签发人"),
                          ("签发: {签发人: 陈礼洋, 日期: 三月十六}\n", "签发日期「三月十六」无法识别")):
        d, problems = rules.review(drafts.read_draft(write(tmp_path, extra=extra), ledger_cfg), ledger_cfg)
        assert d.signoff is None
        assert any(p.element == "签发" and p.severity == "error" and phrase in p.message for p in problems), problems


def test_docx_custom_properties_carry_a_签发(ledger_cfg, tmp_path):
    from scripts.make_example_docx import build_docx

    p = build_docx(tmp_path / "请示.docx", [("title", TITLE), ("banji", "各镇人民政府："), ("body", "现就有关事项通知如下。"),
                                           ("sign", "珠晖区人民政府"), ("sign", "2015年3月20日")],
                   props={"文种": "通知", "机关代字": "珠政发", "签发人": "陈礼洋", "签发意见": "同意",
                          "签发日期": "2015年3月16日", "会签": "彭建元"})
    d = drafts.read_draft(p, ledger_cfg)
    assert d.signoff == Signoff("陈礼洋", dt.date(2015, 3, 16), "同意", ("彭建元",)) and d.origins["signoff"] == "文档属性"


# --- the 清样签发登记 -----------------------------------------------------------------------------------

def test_清样_签发_送编号_are_chained_and_replayed(ledger, ledger_cfg, folders):
    proofs, inbox = folders
    path = write(proofs)
    c = proof(ledger, ledger_cfg, path)
    assert (c.state, c.state_name, c.proof_count, c.proofed_by, c.route, c.name) == (
        "proofed", "待签发", 1, "秘书甲", "珠政发", "防汛.md")
    assert proof(ledger, ledger_cfg, path).proof_count == 1          # the same file again (a rerun): nothing new
    data = path.read_bytes()
    released = signoff.release(ledger, ledger_cfg, path, actor="秘书甲", signoff=CHEN)
    assert released.draft == inbox / "防汛.md" and released.draft.read_bytes() == data
    assert not path.exists() and not path.with_name("防汛.md.清样.pdf").exists()   # our outputs went with it
    c = signoff.case(ledger, ledger_cfg, c.id)
    assert (c.state, c.signoff, c.signed_by, c.signed_current) == ("released", CHEN, "秘书甲", True)
    assert [e.event for e in ledger.events(f"稿件#{c.id}")] == ["proof", "signoff", "released"]
    assert ledger.events(f"稿件#{c.id}")[1].detail["签发人"] == "陈礼洋"
    rep = ledger.verify()
    assert rep.ok, rep.summary()


def test_a_corrected_draft_is_the_same_case_and_needs_a_new_签发(ledger, ledger_cfg, folders):
    proofs, _ = folders
    path = write(proofs)
    c = proof(ledger, ledger_cfg, path)
    signoff.sign(ledger, ledger_cfg, c.id, CHEN, actor="陈礼洋", seen_hash=c.content_hash)
    write(proofs, extra="印发日期: 2015年3月21日\n")             # only the 印发日期: still signed off
    c2 = proof(ledger, ledger_cfg, path)
    assert (c2.id, c2.proof_count, c2.state, c2.signed_current) == (c.id, 2, "signed", True)
    write(proofs, title=TITLE.replace("防汛", "抗旱"))
    c3 = proof(ledger, ledger_cfg, path)
    assert (c3.id, c3.proof_count, c3.state, c3.state_name, c3.signed_current) == (
        c.id, 3, "proofed", "待签发（签发后有改动）", False)
    with pytest.raises(LedgerError, match="清样已更新"):         # the head looked at the 2nd 清样
        signoff.sign(ledger, ledger_cfg, c.id, CHEN, actor="陈礼洋", seen_hash=c2.content_hash)
    with pytest.raises(GongwenError, match="未经签发"):
        signoff.release(ledger, ledger_cfg, path, actor="秘书甲")


def test_退回_with_an_opinion_keeps_the_draft_in_proofs(ledger, ledger_cfg, folders):
    proofs, _ = folders
    path = write(proofs)
    c = proof(ledger, ledger_cfg, path)
    with pytest.raises(LedgerError, match="写明意见"):
        signoff.send_back(ledger, ledger_cfg, c.id, by="陈礼洋", opinion=" ", actor="陈礼洋")
    c = signoff.send_back(ledger, ledger_cfg, c.id, by="陈礼洋", opinion="第二部分请补充责任单位", actor="陈礼洋")
    assert (c.state_name, c.return_opinion, c.returned_by) == ("已退回", "第二部分请补充责任单位", "陈礼洋")
    assert path.is_file()
    assert [x.id for x in signoff.cases(ledger, ledger_cfg, states=("returned",))] == [c.id]


def test_release_needs_a_current_清样(ledger, ledger_cfg, folders):
    proofs, _ = folders
    path = write(proofs)
    with pytest.raises(GongwenError, match="还没有与其内容一致的清样"):
        signoff.release(ledger, ledger_cfg, path, actor="秘书甲", signoff=CHEN)
    proof(ledger, ledger_cfg, path)
    write(proofs, title=TITLE.replace("防汛", "抗旱"))             # changed after its 清样, not yet re-proofed
    with pytest.raises(GongwenError, match="还没有与其内容一致的清样"):
        signoff.release(ledger, ledger_cfg, path, actor="秘书甲", signoff=CHEN)
    assert path.is_file()
    elsewhere = write(proofs.parent.parent / "别处")
    with pytest.raises(GongwenError, match="不在清样文件夹"):
        signoff.release(ledger, ledger_cfg, elsewhere, actor="秘书甲", signoff=CHEN)


def test_an_edited_签发_is_named_by_verify(ledger, ledger_cfg, folders):
    proofs, _ = folders
    c = proof(ledger, ledger_cfg, write(proofs))
    signoff.sign(ledger, ledger_cfg, c.id, CHEN, actor="陈礼洋")
    db = sqlite3.connect(ledger.path, isolation_level=None)
    db.execute("UPDATE proof_cases SET signer = '王某' WHERE id = ?", (c.id,))
    db.close()
    rep = ledger.verify()
    assert not rep.ok and any("清样签发登记" in b.message and "的签发人与事件" in b.message for b in rep.breaks), \
        [b.message for b in rep.breaks]


# --- 复核 before the number ---------------------------------------------------------------------------

def test_复核_passes_the_signed_content_and_attaches_its_签发(ledger, ledger_cfg, folders):
    proofs, inbox = folders
    path = write(proofs)
    c = proof(ledger, ledger_cfg, path)
    signoff.release(ledger, ledger_cfg, path, actor="秘书甲", signoff=CHEN)
    d = reviewed(inbox / "防汛.md", ledger_cfg)
    r = signoff.recheck(ledger, ledger_cfg, d, route="珠政发", name="防汛.md", actor="流水线")
    assert r.ok and r.case_id == c.id and r.draft.signoff == CHEN


def test_复核_refuses_a_change_after_签发_naming_it(ledger, ledger_cfg, folders):
    proofs, inbox = folders
    path = write(proofs)
    proof(ledger, ledger_cfg, path)
    signoff.release(ledger, ledger_cfg, path, actor="秘书甲", signoff=CHEN)
    write(inbox, title=TITLE.replace("2015年防汛", "2015年度防汛"),
          body=lambda t: t.replace("抓好落实", "层层抓好落实").replace("将适时开展督查。", "将适时开展督查。\n\n三、其他\n\n未尽事宜另行通知。"))
    before = list(ledger.documents())
    r = signoff.recheck(ledger, ledger_cfg, reviewed(inbox / "防汛.md", ledger_cfg), route="珠政发", name="防汛.md", actor="流水线")
    assert not r.ok
    lead, *changes = r.problems
    assert lead.element == "复核" and "2015-03-16 陈礼洋签发" in lead.message and "条例第二十五条" in lead.message
    shown = [(p.element, p.message) for p in changes]
    assert ("标题", "「…好2015年防汛工作的通知」改为「…好2015年度防汛工作的通知」") in shown, shown
    assert any(el == "正文" and "改动" in m and "层层抓好落实" in m for el, m in shown), shown
    assert any(el == "正文" and m.startswith("新增第") and "三、其他" in m for el, m in shown), shown
    assert list(ledger.documents()) == before


def test_复核_passes_a_change_of_印发日期_only(ledger, ledger_cfg, folders):
    proofs, inbox = folders
    path = write(proofs)
    proof(ledger, ledger_cfg, path)
    signoff.release(ledger, ledger_cfg, path, actor="秘书甲", signoff=CHEN)
    write(inbox, extra="印发日期: 2015年3月22日\n份数: 60\n")
    r = signoff.recheck(ledger, ledger_cfg, reviewed(inbox / "防汛.md", ledger_cfg), route="珠政发", name="防汛.md", actor="流水线")
    assert r.ok and r.draft.signoff == CHEN


def test_a_draft_carrying_its_签发_must_match_its_latest_清样(ledger, ledger_cfg, folders):
    proofs, inbox = folders
    proof(ledger, ledger_cfg, write(proofs))
    so = "签发: {签发人: 陈礼洋, 意见: 同意, 日期: 2015-03-16}\n"
    changed = reviewed(write(inbox, extra=so, body=lambda t: t.replace("抓好落实", "狠抓落实")), ledger_cfg)
    r = signoff.recheck(ledger, ledger_cfg, changed, route="珠政发", name="防汛.md", actor="流水线")
    assert not r.ok and "与送签的清样" in r.problems[0].message
    assert any(p.element == "正文" and "狠抓落实" in p.message for p in r.problems)
    same = reviewed(write(inbox, extra=so), ledger_cfg)
    r = signoff.recheck(ledger, ledger_cfg, same, route="珠政发", name="防汛.md", actor="流水线")
    assert r.ok and r.draft.signoff == CHEN
    again = signoff.recheck(ledger, ledger_cfg, same, route="珠政发", name="防汛.md", actor="流水线")   # resumed
    assert again.case_id == r.case_id
    assert [e.event for e in ledger.events(f"稿件#{r.case_id}")] == ["proof", "signoff"]


def test_require_signoff(ledger, ledger_cfg, folders, tmp_path):
    _, inbox = folders
    strict = ledger_cfg.model_copy(update={"series": {**ledger_cfg.series, "珠政发": ledger_cfg.series["珠政发"].model_copy(
        update={"require_signoff": True})}})
    d = reviewed(write(inbox), ledger_cfg)
    assert signoff.recheck(ledger, ledger_cfg, d, route="珠政发", name="防汛.md", actor="x").ok     # off: as today
    r = signoff.recheck(ledger, strict, d, route="珠政发", name="防汛.md", actor="x")
    assert not r.ok and r.problems[0].element == "签发" and r.problems[0].message.startswith("未经签发，不能编号")
    signed = reviewed(write(inbox, extra="签发: {签发人: 陈礼洋, 意见: 同意, 日期: 2015-03-16}\n"), ledger_cfg)
    assert signoff.recheck(ledger, strict, signed, route="珠政发", name="防汛.md", actor="x").ok


def test_the_register_shows_签发人_and_签发日期_or_that_none_was_recorded(ledger, ledger_cfg, folders):
    _, inbox = folders
    signed = reviewed(write(inbox, extra="签发: {签发人: 陈礼洋, 意见: 同意, 日期: 2015-03-16, 会签: 彭建元}\n"), ledger_cfg)
    ledger.allocate(signed, actor="流水线")
    plain = reviewed(write(inbox, "b.md", title=TITLE.replace("防汛", "抗旱")), ledger_cfg)
    ledger.allocate(plain, actor="流水线")
    rows = ledger.register(2015)
    assert [(r.signers, r.signed_on) for r in rows] == [("陈礼洋、彭建元", "2015-03-16"), ("", "未记录")]
    assert ledger.verify().ok


# --- what changed ---------------------------------------------------------------------------------------

def test_describe_changes_names_paragraphs_and_limits_itself():
    p = lambda *texts: [{"kind": "paragraph", "text": t, "rows": []} for t in texts]  # noqa: E731
    before = {"title": "关于甲的通知", "body": p("第一段。", "第二段内容很长很长。", "第三段。")}
    after = {"title": "关于甲的通知", "body": p("第一段。", "第二段内容很短很长。", "第三段。", "第四段。")}
    assert signoff.describe_changes(before, after) == [
        ("正文", "第 2 段改动：「第二段内容很长很长。」改为「第二段内容很短很长。」"), ("正文", "新增第 4 段「第四段。」")]
    gone = {"title": "关于甲的通知", "body": p("第一段。", "第三段。")}
    assert signoff.describe_changes(before, gone) == [("正文", "删去了原第 2 段「第二段内容很长很长。」")]
    many = {"title": "关于乙的通知", "body": p(*[f"新{i}" for i in range(12)])}
    out = signoff.describe_changes(before, many)     # 1 title + 3 paragraphs gone + 12 new = 16
    assert len(out) == 8 and out[0][0] == "标题" and out[-1] == ("内容", "另有 9 处改动")


# --- the register's upgrade --------------------------------------------------------------------------

def test_a_version_1_register_is_upgraded_and_still_verifies(ledger_cfg, tmp_path):
    """tests/fixtures/ledger-v1.sqlite3 was written by the register before 签发日期 existed (two
    documents numbered, one voided): it opens, gains the column, verifies, and numbers on."""
    path = tmp_path / "ledger.sqlite3"
    shutil.copyfile(FIXTURES / "ledger-v1.sqlite3", path)
    with Ledger(path, ledger_cfg) as led:
        assert led.verify().ok, led.verify().summary()
        assert [r.signed_on for r in led.register(2015)] == ["未记录", ""]
        d = reviewed(write(tmp_path / "d", extra="签发: {签发人: 陈礼洋, 意见: 同意, 日期: 2015-03-16}\n"), ledger_cfg)
        a = led.allocate(d, actor="流水线")
        assert a.number.seq == 3 and led.document(a.number.reference).signed_on == dt.date(2015, 3, 16)
        assert led.verify().ok
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == "2"


def test_release_takes_a_path_relative_to_the_current_folder(ledger, ledger_cfg, folders, monkeypatch):
    """A clerk in the instance folder types `gongwen release proofs/珠政发/防汛.md`: the relative path
    names the same draft as the absolute one."""
    proofs, inbox = folders
    path = write(proofs)
    proof(ledger, ledger_cfg, path)
    monkeypatch.chdir(ledger_cfg.proofs.parent)
    done = signoff.release(ledger, ledger_cfg, path.relative_to(ledger_cfg.proofs.parent), actor="秘书甲", signoff=CHEN)
    assert done.draft == inbox / "防汛.md" and done.draft.is_file() and not path.exists()


def test_the_web_page_releases_a_case_by_its_id(ledger, ledger_cfg, folders):
    proofs, inbox = folders
    c = proof(ledger, ledger_cfg, write(proofs))
    signoff.sign(ledger, ledger_cfg, c.id, CHEN, actor="陈礼洋", seen_hash=c.content_hash)   # the head, in the browser
    done = signoff.release(ledger, ledger_cfg, c.id, actor="秘书甲")
    assert done.draft == inbox / "防汛.md" and done.case.state == "released" and done.case.signoff == CHEN
    assert [e.event for e in ledger.events(f"稿件#{c.id}")] == ["proof", "signoff", "released"]
    with pytest.raises(LedgerError, match="没有第 99 号稿件"):
        signoff.release(ledger, ledger_cfg, 99, actor="秘书甲")


def test_an_上行文_printing_another_签发人_than_who_signed_it_off_is_warned(ledger, ledger_cfg, tmp_path):
    text = ("---\n文种: 请示\n机关代字: 珠政发\n标题: 珠晖区人民政府关于申请专项经费的请示\n主送: 衡阳市人民政府\n"
            "成文日期: 2015年3月20日\n署名: 珠晖区人民政府\n签发人: 彭建元\n附注: 联系人：文雅，电话：0734-8212301\n"
            "签发: {签发人: 陈礼洋, 意见: 同意, 日期: 2015-03-16}\n---\n现申请专项经费。\n\n妥否，请批示。\n")
    p = tmp_path / "请示.md"
    p.write_text(text, encoding="utf-8")
    r = signoff.recheck(ledger, ledger_cfg, reviewed(p, ledger_cfg), route="珠政发", name="请示.md", actor="x")
    assert r.ok and [w.element for w in r.warnings] == ["签发人"] and "彭建元" in r.warnings[0].message
    p.write_text(text.replace("签发人: 彭建元", "签发人: 陈礼洋"), encoding="utf-8")
    assert signoff.recheck(ledger, ledger_cfg, reviewed(p, ledger_cfg), route="珠政发", name="请示.md", actor="x").warnings == ()


def test_a_draft_numbered_from_its_unsigned_清样_closes_its_case(ledger, ledger_cfg, folders):
    proofs, inbox = folders
    c = proof(ledger, ledger_cfg, write(proofs))
    r = signoff.recheck(ledger, ledger_cfg, reviewed(write(inbox), ledger_cfg), route="珠政发", name="防汛.md", actor="x")
    assert r.ok and r.case_id == c.id and r.draft.signoff is None          # require_signoff off
    signoff.mark_numbered(ledger, ledger_cfg, c.id, "珠政发〔2015〕1号", actor="x")
    assert signoff.find_case(ledger, ledger_cfg, "珠政发", "防汛.md") is None      # a new drop is a new case
    assert signoff.case(ledger, ledger_cfg, c.id).state_name == "已编号"


def test_a_busy_register_at_复核_is_a_failure_tried_again_not_a_crash(ledger, ledger_cfg, folders, monkeypatch):
    from pipeline.archive import ArchiveStore
    from pipeline.process import Services, process_draft

    _, inbox = folders
    draft = write(inbox)

    def busy(*a, **kw):
        raise LedgerError("登记簿忙，60 秒内未能取得写锁")

    monkeypatch.setattr(signoff, "recheck", busy)
    o = process_draft(draft, Services(config=ledger_cfg, actor="x", ledger=ledger, store=ArchiveStore(ledger_cfg)),
                      route=ledger_cfg.route_for_folder("珠政发"))
    assert o.status == "failed" and o.number is None and "暂未复核" in o.problems[-1].message
    assert ledger.documents() == [] and draft.is_file()


def test_release_by_the_head_in_the_browser_refuses_a_清样_replaced_since_it_was_shown(ledger, ledger_cfg, folders):
    proofs, inbox = folders
    path = write(proofs)
    shown = proof(ledger, ledger_cfg, path)
    path.write_text(path.read_text(encoding="utf-8").replace("抓好落实", "抓紧落实"), encoding="utf-8")
    newer = proof(ledger, ledger_cfg, path)                      # the clerk's correction, proofed meanwhile
    with pytest.raises(LedgerError, match="清样已更新（第 2 稿）"):
        signoff.release(ledger, ledger_cfg, shown.id, actor="陈礼洋", signoff=CHEN, seen_hash=shown.content_hash)
    assert path.is_file() and not (inbox / "防汛.md").exists()
    assert signoff.case(ledger, ledger_cfg, shown.id).signoff is None      # nothing signed unseen
    done = signoff.release(ledger, ledger_cfg, shown.id, actor="陈礼洋", signoff=CHEN, seen_hash=newer.content_hash)
    assert done.draft == inbox / "防汛.md" and done.case.signoff == CHEN and done.case.signed_by == "陈礼洋"
    assert [(e.event, e.actor) for e in signoff.case_history(ledger, ledger_cfg, shown.id)] == [
        ("proof", "秘书甲"), ("proof", "秘书甲"), ("signoff", "陈礼洋"), ("released", "陈礼洋")]
