"""Year end with 收文 and 发文 together (real pipeline, LibreOffice, signatures): both in the same
classes, ordered by 时间结合事由 (a 请示 next to our 批复), the 处理笺 first in its 件 and carrying the
归档章, the 目录 listing the sender's 文号; `check` passes; a 收文 not yet 办结 waits and is caught by
`check`; a missing 处理笺 and a 收文 the 收文登记簿 does not know are caught; the handover package
checks out."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from pipeline.archive import ArchiveStore
from pipeline.config import load
from pipeline.incoming import IncomingRegister, done, receive, route
from pipeline.instance import init_instance
from pipeline.ledger import Ledger
from pipeline.process import Services, process_draft
from samples import incoming_docs as D
from tests.support.ledger import TZ, Clock
from tests.support.yearend import copy_instance, writable

pytestmark = [pytest.mark.libreoffice, pytest.mark.ocr]

YEAR = 2015
ACTOR = "档案员"
DRAFT = ("---\n文种: {kind}\n机关代字: {series}\n标题: {title}\n主送: {to}\n成文日期: {date}\n署名: 珠晖区人民政府\n"
         "---\n{body}\n")


def _draft(folder: Path, name: str, **kw) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / f"{name}.md"
    p.write_text(DRAFT.format(**kw), encoding="utf-8")
    return p


def _open(cfg, start: dt.datetime | None = None):
    ledger = Ledger.open(cfg, clock=Clock(start or dt.datetime(YEAR, 3, 2, 9, tzinfo=TZ)))
    return Services(config=cfg, actor="收文员", ledger=ledger, store=ArchiveStore(cfg))


@pytest.fixture(scope="module")
def office(tmp_path_factory, lo_converter):
    """An office's 2015: two 发文, a 上级 通知 received and 办结, a 请示 answered by our 批复, and a
    second 通知 received but not yet 办结."""
    base = tmp_path_factory.mktemp("incoming-year")
    up = D.upstream_config(base / "upstream")
    docs = base / "docs"
    _, notice = D.render_pdf(*D.notice(), up, docs, "通知", converter=lo_converter, seal=True)
    _, request = D.render_pdf(*D.request_draft(), up, docs, "请示", converter=lo_converter, seal=True)
    _, later = D.render_pdf(*D.notice(seq=20, title="衡阳市人民政府关于做好2015年防汛工作的通知",
                                      body=(D.NOTICE_BODY[0].__class__("paragraph", "各地要做好防汛抗旱工作。"),)),
                            up, docs, "防汛通知", converter=lo_converter)
    root = base / "office"
    init_instance(root, None)
    cfg = load(root / "config.yaml")
    svc = _open(cfg)
    try:
        refs = {}
        for name, title in (("防汛", "珠晖区人民政府关于做好2015年防汛工作的通知"),
                            ("整治", "珠晖区人民政府关于开展城乡环境综合整治的通知")):
            o = process_draft(_draft(base / "drafts" / "珠政发", name, kind="通知", series="珠政发", title=title,
                                     to="各镇人民政府，各街道办事处", date="2015年3月10日",
                                     body=f"请各单位认真做好{name}工作。"), svc)
            assert o.status == "issued", o.problems
            refs[name] = o.number
        r = receive(notice, svc)
        assert r.status == "registered", r.problems
        refs["通知"] = r.reference
        route(svc, r.reference, lead_unit="区安监局", opinion="拟请区安监局牵头办理")
        done(svc, r.reference, result="已转区安监局落实")
        r = receive(request, svc)
        assert r.status == "registered", r.problems
        refs["请示"] = r.reference
        o = process_draft(_draft(base / "drafts" / "珠政函", "批复", kind="批复", series="珠政函",
                                 title="珠晖区人民政府关于同意拨付安全生产专项检查经费的批复",
                                 to="区安全生产监督管理局", date="2015年3月6日",
                                 body="你局《关于请求拨付安全生产专项检查经费的请示》（珠安监〔2015〕8号）收悉。同意拨付。"), svc)
        assert o.status == "issued", o.problems
        refs["批复"] = o.number
        done(svc, refs["请示"], result="同意拨付", reply=o.number)
        r = receive(later, svc)
        assert r.status == "registered", r.problems
        refs["待办"] = r.reference
    finally:
        svc.close()
    return {"root": root, "cfg": root / "config.yaml", "refs": refs}


def _archive(cfg_path: Path, **kw):
    from pipeline.yearend.arrange import archive_year

    cfg = load(cfg_path)
    with Ledger.open(cfg) as ledger:
        return archive_year(cfg, YEAR, ledger=ledger, actor=ACTOR, **kw)


def _check(cfg_path: Path):
    from pipeline.yearend.checks import check_year

    cfg = load(cfg_path)
    with Ledger.open(cfg) as ledger:
        return check_year(cfg, YEAR, ledger=ledger, actor=ACTOR, scan=False)


def _failed(report) -> list[str]:
    return [f"{i.code} {f.ident} {f.file} {f.message}" for i in report.items for f in i.failures]


@pytest.fixture(scope="module")
def arranged(office):
    """The year arranged while one 收文 is still open, then again once it is 办结."""
    first = _archive(office["cfg"])
    waiting = _check(office["cfg"])
    cfg = load(office["cfg"])
    svc = _open(cfg, dt.datetime(YEAR, 12, 20, 9, tzinfo=TZ))
    try:
        done(svc, office["refs"]["待办"], result="已传达")
    finally:
        svc.close()
    second = _archive(office["cfg"])
    return {"first": first, "waiting": waiting, "second": second, "report": _check(office["cfg"])}


def test_收文_and_发文_are_arranged_in_the_same_classes_and_pass_check(office, arranged):
    refs = office["refs"]
    first = arranged["first"]
    assert any(refs["待办"] in w and "尚未办结" in w for w in first.warnings)
    assert refs["待办"] not in first.newly and refs["通知"] in first.newly and refs["防汛"] in first.newly
    # while it waits, check names it
    assert any(refs["待办"] in f for f in _failed(arranged["waiting"]))
    assert arranged["second"].late == (refs["待办"],)
    report = arranged["report"]
    assert report.ok, _failed(report)
    cfg = load(office["cfg"])
    store = ArchiveStore(cfg)
    recs = {r.reference: r for r in store.records(YEAR)}
    received = [r for r in recs.values() if r.meta.get("类型") == "收文"]
    assert len(received) == 3 and all(r.meta.get("档号") for r in recs.values())
    # one scheme for both: the 收文 sit in the classes of the 发文 of the same 保管期限
    codes = {r.meta["档号"].rsplit("-", 1)[0] for r in recs.values()}
    assert len(codes) <= 3
    with Ledger.open(cfg) as ledger:
        rows = {r.reference: r for r in IncomingRegister(ledger, cfg).all(YEAR)}
        assert all(rows[r.reference].archive_code == r.meta["档号"] for r in received)
        assert ledger.verify().ok


def test_the_处理笺_carries_the_归档章_and_the_document_stays_as_received(office, arranged):
    from pipeline.sign import verify_pdf
    from pipeline.yearend.archstamp import stamped_code

    cfg = load(office["cfg"])
    rec = ArchiveStore(cfg).find(office["refs"]["请示"])
    assert [f["稿本"] for f in rec.meta["电子文件"]][:2] == ["处理笺", "原件"]   # 处理单 before the 来文
    sigs = verify_pdf(rec.file("处理笺"), cfg)
    assert stamped_code(sigs) == rec.meta["档号"] and all(s.ok for s in sigs)
    assert all(r.ok for r in rec.verify())


def test_来文_and_复文_are_kept_together_and_the_目录_lists_the_sender(office, arranged):
    from pipeline.yearend.arrange import load_plan

    from pipeline.archive import Record
    from pipeline.yearend.arrange import order_records

    cfg = load(office["cfg"])
    refs = office["refs"]
    store = ArchiveStore(cfg)
    request, reply, other = (store.find(refs[k]) for k in ("请示", "批复", "通知"))
    between = Record(other.path, {**other.meta, "日期": "2015-03-01", "题名": "衡阳市人民政府关于另一事项的通知"})
    # 请示 02-25, the other 03-01, 批复 03-06: the 批复 cites 珠安监〔2015〕8号, so it follows its 请示
    order = [r.reference for r in order_records([reply, between, request], cfg)]
    assert order == [refs["请示"], refs["批复"], refs["通知"]]
    plan = load_plan(cfg, YEAR)
    from openpyxl import load_workbook

    from pipeline.yearend.catalogue import class_files

    key, entry = plan.by_reference()[refs["请示"]]
    ws = load_workbook(class_files(cfg, YEAR, key)["xlsx"])["目录"]
    row = next(r for r in ws.iter_rows(min_row=4, values_only=True) if r[1] == entry.code)
    assert row[2] == "珠安监〔2015〕8号" and row[3] == "珠晖区安全生产监督管理局" and refs["请示"] in (row[8] or "")


def test_a_missing_处理笺_is_caught(office, arranged, tmp_path):
    cfg_path = copy_instance(office["root"], tmp_path / "copy")
    cfg = load(cfg_path)
    rec = ArchiveStore(cfg).find(office["refs"]["通知"])
    writable(rec.path / "处理笺.pdf").unlink()
    fails = _failed(_check(cfg_path))
    assert any("处理笺.pdf" in f and "缺失" in f for f in fails), fails


def test_an_unregistered_收文_is_caught(office, arranged, tmp_path):
    cfg_path = copy_instance(office["root"], tmp_path / "copy")
    cfg = load(cfg_path)
    rec = ArchiveStore(cfg).find(office["refs"]["通知"])
    forged = rec.path.with_name("收〔2015〕99号")
    shutil.copytree(rec.path, forged)
    meta_path = writable(forged / "metadata.json")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.update({"文件编号": "收〔2015〕99号", "收文号": "收〔2015〕99号", "顺序号": 99})
    meta_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    fails = _failed(_check(cfg_path))
    assert any("收〔2015〕99号" in f and "收文登记簿中没有" in f for f in fails), fails


def test_the_handover_package_with_收文_checks_out(office, arranged, tmp_path):
    from pipeline.yearend.package import build_handover, check_package

    cfg = load(office["cfg"])
    with Ledger.open(cfg) as ledger:
        result = build_handover(cfg, YEAR, tmp_path / "pkg", ledger=ledger, actor=ACTOR, make_pdf=False)
    report = check_package(result.path,
                           trust=[cfg.path(p) for p in cfg.signing.trust_roots])
    assert report.ok, _failed(report)


# --- a 收文 is anchored like a 发文 ---------------------------------------------------------------------

def test_a_收文_is_anchored_when_filed_at_each_handling_step_and_at_year_end(office, arranged):
    """Filing anchors the record ("incoming_filed"), each handling step that makes its 处理笺 again
    anchors the new version (收文办理), the year end anchors the stamped one — never 补锚定."""
    from pipeline.archive import check_anchor

    cfg = load(office["cfg"])
    ref = office["refs"]["通知"]
    with Ledger.open(cfg) as ledger:
        anchors = ledger.anchors(ref)[ref]
        rec = ArchiveStore(cfg).find(ref)
        state = check_anchor(rec, anchors)
    reasons = [a.reason for a in anchors]
    assert anchors[0].event == "incoming_filed" and reasons[0] == "归档", reasons
    assert reasons.count("收文办理") == 2 and reasons[-1] == "整理归档" and "补锚定" not in reasons, reasons
    assert state.state == "一致", state.summary()


def _doctor(cfg_path: Path):
    from pipeline.doctor import run_doctor

    return run_doctor(load(cfg_path), ACTOR)


def test_an_edited_收文_title_is_named_by_doctor_and_show(office, arranged, tmp_path):
    from click.testing import CliRunner

    from pipeline.cli import cli

    cfg_path = copy_instance(office["root"], tmp_path / "copy")
    ref = office["refs"]["通知"]
    rec = ArchiveStore(load(cfg_path)).find(ref)
    meta_path = writable(rec.path / "metadata.json")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["题名"] = meta["题名"].replace("通知", "紧急通知")
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    bad = [f for f in _doctor(cfg_path) if f.ok is False]
    assert any(ref in f.detail and "元数据被改动" in f.detail for f in bad), bad
    r = CliRunner().invoke(cli, ["--config", str(cfg_path), "show", ref])
    assert r.exit_code == 1 and "元数据被改动" in r.output, r.output
    fails = _failed(_check(cfg_path))
    assert any(f.startswith("GD-ZS-1-1") and "元数据被改动" in f for f in fails), fails


def test_a_deleted_收文_record_is_named_by_doctor(office, arranged, tmp_path):
    """The 收文登记簿 says 已归档 and the record folder is gone: doctor names it (as for a 发文)."""
    cfg_path = copy_instance(office["root"], tmp_path / "copy")
    ref = office["refs"]["请示"]
    rec = ArchiveStore(load(cfg_path)).find(ref)
    for p in (rec.path, *rec.path.iterdir()):
        writable(p)
    shutil.rmtree(rec.path)
    bad = [f for f in _doctor(cfg_path) if f.ok is False]
    assert any(ref in f.detail and "档案中没有此件" in f.detail for f in bad), bad
    fails = _failed(_check(cfg_path))
    assert any(f.startswith("GD-WZ-2-4") and ref in f and "档案中没有此收文" in f for f in fails), fails
