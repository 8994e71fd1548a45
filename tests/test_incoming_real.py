"""收文 on real files with real parts: documents another organ's gongwen writes (LibreOffice PDF, .docx,
.doc, .wps), a 200-dpi scan and a photo read by Tesseract, a real OFD, hostile PDFs; the archive
record, the search index, the 收文处理笺, the handling commands, the two-way 复文 link, the CLI.

OCR runs three times here (a 2-page scan, a 1-page photo, a picture without text); everything else
reads text layers."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.config import load
from pipeline.incoming import SECRET_NOTE, IncomingRegister, done, instruct, receive, record_for, route
from pipeline.instance import init_instance
from pipeline.pdfcheck import inspect_pdf
from pipeline.process import open_services, process_draft
from samples import incoming_docs as D
from tests.conftest import shared_path
from tests.support.incoming import FakeSupervise

pytestmark = [pytest.mark.libreoffice, pytest.mark.ocr]


def _pdftext(pdf: Path) -> str:
    import subprocess

    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True).stdout
    return "".join(out.split())          # the form's cells wrap text anywhere


@pytest.fixture(scope="module")
def upstream(tmp_path_factory, lo_converter):
    """What arrives: the 上级 通知 (sealed, as sent), the same 通知 marked 秘密, a 下级 请示, as .pdf
    and .docx, made with the session's LibreOffice."""
    root = tmp_path_factory.mktemp("upstream")
    cfg = D.upstream_config(root / "instance")
    out = root / "docs"
    conv = lo_converter
    notice_docx, notice_pdf = D.render_pdf(*D.notice(), cfg, out, "通知", converter=conv, seal=True)
    secret, secret_no = D.notice(seq=13, secrecy="秘密★1年", title="衡阳市人民政府关于开展保密专项检查的通知",
                                 body=(D.NOTICE_BODY[0].__class__("paragraph", "请各单位开展涉密载体清查整治专项行动。"),))
    _, secret_pdf = D.render_pdf(secret, secret_no, cfg, out, "秘密通知", converter=conv)
    request_docx, request_pdf = D.render_pdf(*D.request_draft(), cfg, out, "请示", converter=conv, seal=True)
    other_docx, _ = D.render_pdf(*D.notice(seq=15, title="衡阳市人民政府关于做好2015年防汛工作的通知",
                                           body=(D.NOTICE_BODY[0].__class__("paragraph", "各地要做好防汛抗旱工作。"),)),
                                 cfg, out, "防汛通知", converter=conv)
    fire_docx, _ = D.render_pdf(*D.notice(seq=16, title="衡阳市人民政府关于做好2015年森林防火工作的通知",
                                          urgency="特急",
                                          body=(D.NOTICE_BODY[0].__class__("paragraph", "各地要做好森林防火工作。"),)),
                                cfg, out, "防火通知", converter=conv)
    return {"notice_pdf": notice_pdf, "notice_docx": notice_docx, "secret_pdf": secret_pdf,
            "request_pdf": request_pdf, "request_docx": request_docx, "other_docx": other_docx,
            "fire_docx": fire_docx, "dir": out}


@pytest.fixture(scope="module")
def received(upstream, svc, tmp_path_factory):
    """The receiving, in the order an office meets it: the scan first (a paper copy came by post),
    then the electronic 正本 of the same 通知, then that file once more."""
    scan = D.rasterise(upstream["notice_pdf"], tmp_path_factory.mktemp("scan") / "扫描件.pdf", dpi=200)
    r = {"scan": receive(scan, svc)}
    r["text_dup"] = receive(upstream["notice_pdf"], svc)
    r["text"] = receive(upstream["notice_pdf"], svc, allow_duplicate=True)
    r["text_again"] = receive(upstream["notice_pdf"], svc)
    return r


def _index_ids(svc, query: str, **kw) -> list[str]:
    return [h.id for h in svc.index.search(query, limit=50, **kw).hits]


def test_a_text_pdf_of_a_上级_通知_is_registered_with_its_elements(received, svc, upstream):
    rc = received["text"]
    assert rc.status == "registered", rc.problems
    row = IncomingRegister(svc.ledger, svc.config).require(rc.reference)
    assert (row.sender, row.sender_number, row.title, row.doc_date) == (
        D.NOTICE_SENDER, D.NOTICE_NUMBER, D.NOTICE_TITLE, D.NOTICE_DATE)
    assert row.main_to == "各县市区人民政府，市直各有关单位" and row.kind == "通知" and row.pages == 2
    assert row.method == "文本层" and row.stage == "indexed" and row.state == "待办"
    rec = record_for(svc, rc.reference)
    roles = {f["稿本"]: f for f in rec.meta["电子文件"]}
    # LibreOffice's PDF/A is kept as it came: no copy needed
    assert set(roles) == {"原件", "处理笺", "处理笺底稿", "全文"} and roles["原件"]["格式信息"] == "PDF/A-2b"
    assert rec.file("原件").read_bytes() == upstream["notice_pdf"].read_bytes()
    assert all(r.ok for r in rec.verify())
    m = rec.meta
    assert (m["类型"], m["文件编号"], m["来文字号"], m["印制文号"], m["责任者"], m["日期"], m["机关代字"]) == (
        "收文", rc.reference, D.NOTICE_NUMBER, D.NOTICE_NUMBER, D.NOTICE_SENDER, "2015-02-16", "收文")
    slip = _pdftext(rec.file("处理笺"))
    assert rc.reference in slip and D.NOTICE_NUMBER in slip and D.NOTICE_TITLE in slip
    assert inspect_pdf(rec.file("处理笺")).pdfa == "2B"
    assert rc.reference in _index_ids(svc, D.NOTICE_NUMBER)          # an exact 文号 lookup finds it
    assert svc.ledger.verify().ok


def test_the_same_page_scanned_at_200_dpi_gives_the_same_来文字号_and_a_searchable_phrase(received, svc):
    rc = received["scan"]
    assert rc.status == "registered", rc.problems
    assert rc.method == "OCR" and rc.elements["number"] == D.NOTICE_NUMBER
    assert rc.elements["sender"] == D.NOTICE_SENDER and rc.elements["date"] == "2015-02-16"
    assert any("OCR" in p.message for p in rc.problems)           # the clerk is told to check
    assert rc.reference in _index_ids(svc, D.NOTICE_PHRASE)
    assert rc.reference in _index_ids(svc, D.NOTICE_PHRASE, direction="收文")
    assert rc.reference not in _index_ids(svc, D.NOTICE_PHRASE, direction="发文")
    rec = record_for(svc, rc.reference)
    copy = rec.file("副本")
    facts = inspect_pdf(copy)
    assert facts.pdfa == "2B" and facts.text_chars > 200 and not facts.pages_without_text
    assert D.NOTICE_PHRASE in _pdftext(copy)


def test_a_duplicate_is_recognised_and_said_so(received):
    first, dup, same = received["scan"], received["text_dup"], received["text_again"]
    assert dup.status == "duplicate" and dup.reference is None and dup.duplicate_of == first.reference
    assert "来文字号相同" in dup.problems[0].message and "--allow-duplicate" in dup.problems[0].message
    # allowed on purpose, it is registered and marked
    assert received["text"].duplicate_of == first.reference
    # the very same file again: the same 收文, no new number
    assert same.status == "duplicate" and same.reference == received["text"].reference
    assert "文件内容完全相同" in same.problems[0].message


def test_a_秘密_document_is_refused_and_kept_out_of_the_register_archive_and_index(upstream, svc, inst):
    reg = IncomingRegister(svc.ledger, inst)
    before = len(reg.all())
    folders = sorted(p.name for p in inst.archive_dir.rglob("*") if p.is_dir())
    rc = receive(upstream["secret_pdf"], svc)
    assert rc.status == "refused" and rc.reference is None
    assert rc.problems[0].message == f"来文标有“秘密★1年”：{SECRET_NOTE}"
    assert len(reg.all()) == before
    assert sorted(p.name for p in inst.archive_dir.rglob("*") if p.is_dir()) == folders
    assert _index_ids(svc, "涉密载体清查整治") == []
    refused = [e for e in svc.ledger.events() if e.event == "incoming_refused"]
    assert refused and "保密专项检查" not in json.dumps([e.detail for e in refused], ensure_ascii=False)
    assert upstream["secret_pdf"].is_file()                       # the file itself is left where it was
    assert not list((inst.work_dir / "incoming").glob("*"))         # no text or copy left in the work area


def test_a_请示_answered_by_our_批复_links_both_ways(upstream, svc, inst, tmp_path):
    rc = receive(upstream["request_pdf"], svc)
    assert rc.status == "registered" and rc.elements["kind"] == "请示", rc.problems
    assert rc.elements["signers"] == ["王建国"] and rc.elements["sender"] == "珠晖区安全生产监督管理局"
    from pipeline.errors import IncomingError

    with pytest.raises(IncomingError, match="须有复文号"):
        done(svc, rc.reference, result="同意")
    draft = tmp_path / "珠政函" / "批复.md"
    draft.parent.mkdir()
    draft.write_text("---\n文种: 批复\n机关代字: 珠政函\n标题: 珠晖区人民政府关于同意拨付安全生产专项检查经费的批复\n"
                     "主送: 区安全生产监督管理局\n成文日期: 2015年3月6日\n署名: 珠晖区人民政府\n---\n"
                     "你局《关于请求拨付安全生产专项检查经费的请示》（珠安监〔2015〕8号）收悉。经研究，同意拨付专项检查经费12万元。\n",
                     encoding="utf-8")
    out = process_draft(draft, svc)
    assert out.status == "issued", out.problems
    row = done(svc, rc.reference, result="同意拨付", reply=out.number)
    assert row.reply_ref == out.number and row.state == "已办结"
    assert [r.reference for r in IncomingRegister(svc.ledger, inst).answered_by(out.number)] == [rc.reference]
    rec = record_for(svc, rc.reference)
    assert rec.meta["复文号"] == out.number and rec.meta["办理状态"] == "已办结"
    assert out.number in _pdftext(rec.file("处理笺"))
    shown = CliRunner().invoke(cli, ["--config", str(inst.base / "config.yaml"), "show", out.number])
    assert shown.exit_code == 0, shown.output
    assert rc.reference in shown.output          # our 批复 knows which 收文 it answers


def test_a_批示_that_assigns_work_creates_a_督办件_and_goes_on_the_处理笺(received, svc):
    ref = received["text"].reference
    route(svc, ref, lead_unit="区安监局", opinion="拟请区安监局牵头办理，报李明副区长阅示")
    fake = FakeSupervise()
    row, item = instruct(svc, ref, leader="李明", text="请区安监局牵头抓好落实，4月底前报结果", assign_to="区安监局",
                         deadline=dt.date(2015, 4, 30), add_item=fake)
    assert item == "督〔2015〕1号" and fake.calls[0]["source_ref"] == f"{ref}#批示1"
    rec = record_for(svc, ref)
    text = _pdftext(rec.file("处理笺"))
    assert "拟请区安监局牵头办理" in text and "请区安监局牵头抓好落实" in text and item in text
    assert rec.meta["承办单位"] == "区安监局" and rec.meta["批办意见"][0]["supervise"] == item
    assert all(r.ok for r in rec.verify()) and not any(p.stat().st_mode & 0o222 for p in rec.path.iterdir())
    assert svc.ledger.verify().ok


def test_word_wps_ofd_and_a_photo_are_received(upstream, svc, tmp_path):
    doc = D.word97(upstream["other_docx"], tmp_path / "防汛通知.doc")
    wps = tmp_path / "防汛通知-金山.wps"
    shutil.copyfile(D.word97(upstream["fire_docx"], tmp_path / "防火.doc"), wps)
    photo = D.rasterise(upstream["request_pdf"], tmp_path / "请示照片.jpg", dpi=200, first=1, last=1, image="jpeg")
    results = {p.suffix: receive(p, svc, allow_duplicate=True)
               for p in (upstream["other_docx"], doc, wps, D.OFD_SAMPLE, photo)}
    bad = {k: [str(x) for x in r.problems] for k, r in results.items() if r.status != "registered"}
    assert not bad
    assert results[".docx"].elements["title"] == "衡阳市人民政府关于做好2015年防汛工作的通知"
    assert results[".doc"].elements["number"] == "衡政发〔2015〕15号"
    assert results[".wps"].elements["number"] == "衡政发〔2015〕16号" and results[".wps"].deadline
    assert results[".ofd"].elements["number"] == "路卫发〔2011〕76号" and results[".ofd"].elements["kind"] == "批复"
    assert results[".jpg"].elements["number"] == "珠安监〔2015〕8号" and results[".jpg"].method == "OCR"
    for key in (".docx", ".doc", ".wps"):
        assert record_for(svc, results[key].reference).file("副本") is not None, key
    ofd = record_for(svc, results[".ofd"].reference)
    assert ofd.file("副本") is None and {f["格式信息"] for f in ofd.meta["电子文件"] if f["稿本"] == "原件"} == {"OFD"}
    urgent = IncomingRegister(svc.ledger, svc.config).require(results[".wps"].reference)
    assert urgent.urgency == "特急" and urgent.deadline == dt.date.fromisoformat(urgent.received_at[:10]) + dt.timedelta(days=1)
    assert urgent.reference in [r.reference for r in IncomingRegister(svc.ledger, svc.config).listing(
        overdue=True, today=urgent.deadline + dt.timedelta(days=1))]


def test_hostile_pdfs_are_refused_or_flagged_and_the_queue_goes_on(upstream, inst, svc, tmp_path):
    js = D.with_javascript(upstream["request_pdf"], tmp_path / "带脚本.pdf")
    files = [shared_path("pdf", "005-libreoffice-writer-password", "libreoffice-writer-password.pdf"),
             shared_path("pdf", "017-unreadable-meta-data", "unreadablemetadata.pdf"),
             shared_path("pdf", "019-grayscale-image", "grayscale-image.pdf"), js]
    before = len(IncomingRegister(svc.ledger, inst).all())
    res = CliRunner().invoke(cli, ["--config", str(inst.base / "config.yaml"), "receive", "--json",
                                   "--allow-duplicate", *map(str, files)])
    assert res.exit_code == 1, res.output            # not everything was registered
    out = [json.loads(line) for line in res.output.splitlines() if line.startswith("{")]
    assert [o["status"] for o in out] == ["refused", "refused", "refused", "registered"]
    assert "已加密" in out[0]["problems"][0]["message"] and "已损坏" in out[1]["problems"][0]["message"]
    assert "未能识别出任何文字" in out[2]["problems"][0]["message"]
    assert any("JavaScript" in p["message"] for p in out[3]["problems"])
    with open_services(inst, "收文员") as s2:
        rec = record_for(s2, out[3]["reference"])
    assert rec.file("原件").read_bytes() == js.read_bytes()            # the original as received
    facts = inspect_pdf(rec.file("副本"))
    assert not facts.has_javascript and facts.pdfa == "2B"
    assert len(IncomingRegister(svc.ledger, inst).all()) == before + 1
    assert all(f.is_file() for f in files)


def test_the_cli_lists_handles_and_prints_the_register(received, inst, tmp_path):
    cfgp = str(inst.base / "config.yaml")
    run = CliRunner().invoke
    ref = received["scan"].reference
    r = run(cli, ["--config", cfgp, "incoming", "route", ref, "--to", "区应急局", "--opinion", "拟请区应急局阅办"])
    assert r.exit_code == 0 and "已拟办" in r.output, r.output
    r = run(cli, ["--config", cfgp, "incoming", "done", ref, "--result", "已转区应急局落实"])
    assert r.exit_code == 0, r.output
    listing = json.loads(run(cli, ["--config", cfgp, "incoming", "list", "--pending", "--json"]).output)
    assert ref not in [x["reference"] for x in listing["rows"]]
    shown = json.loads(run(cli, ["--config", cfgp, "incoming", "show", ref, "--json"]).output)
    assert shown["state"] == "已办结" and shown["lead_unit"] == "区应急局"
    xlsx = tmp_path / "收文登记簿.xlsx"
    year = str(dt.date.fromisoformat(shown["received_at"][:10]).year)
    r = run(cli, ["--config", cfgp, "incoming", "register", year, "--xlsx", str(xlsx)])
    assert r.exit_code == 0, r.output
    from openpyxl import load_workbook

    ws = load_workbook(xlsx).active
    heads = [c.value for c in ws[3]]
    assert heads[:6] == ["序号", "收文号", "收文时间", "来文机关", "来文字号", "标题"] and "复文号" in heads
    refs = [row[1] for row in ws.iter_rows(min_row=4, values_only=True)]
    assert ref in refs
    err = run(cli, ["--config", cfgp, "incoming", "route", "收〔1999〕1号", "--to", "x", "--opinion", "y"])
    assert err.exit_code == 1 and "收文登记簿中没有" in str(err.exception)     # main() prints it as 错误：…


def test_the_watched_收文_folder_takes_documents_in_one_口子(upstream, tmp_path):
    """inbox/收文/ in the watch service: a 通知 registered and its dropped copy gone (the archive holds
    it as 原件); 秘密, an encrypted PDF and a text file go to rejected/ with a note saying why."""
    from pipeline import intake

    root = tmp_path / "instance"
    init_instance(root, None)
    cfg = load(root / "config.yaml")
    box = cfg.inbox / cfg.incoming.folder
    box.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(upstream["notice_pdf"], box / "市政府通知.pdf")
    shutil.copyfile(upstream["secret_pdf"], box / "秘密件.pdf")
    shutil.copyfile(shared_path("pdf", "005-libreoffice-writer-password", "libreoffice-writer-password.pdf"),
                    box / "加密.pdf")
    (box / "说明.txt").write_text("请查收", encoding="utf-8")
    events = []
    counts = intake.watch(cfg, lambda: open_services(cfg, "收文员"), on_event=events.append, once=True)
    assert counts.get("received") == 1 and counts.get("rejected") == 2 and counts.get("unsupported") == 1, counts
    assert sorted(p.name for p in box.iterdir()) == []
    rejected = sorted(p.name for p in cfg.rejected.iterdir())
    assert {"秘密件.pdf", "加密.pdf", "说明.txt"} <= set(rejected)
    note = next(p for p in cfg.rejected.iterdir() if p.name.startswith("秘密件.pdf.") and p.suffix == ".txt")
    assert SECRET_NOTE in note.read_text(encoding="utf-8")
    with open_services(cfg, "收文员") as s:
        rows = IncomingRegister(s.ledger, cfg).all()
        assert [r.sender_number for r in rows] == [D.NOTICE_NUMBER]
        assert record_for(s, rows[0].reference).file("原件").read_bytes() == upstream["notice_pdf"].read_bytes()
    from pipeline.cli.watch import console_line

    line = next(console_line(cfg, e) for e in events if e.kind == "received")
    assert line.startswith(f"收文 {rows[0].reference}")


def test_a_批示_creates_a_real_督办件_on_the_督办台账(upstream, svc, tmp_path):
    """The same path through pipeline.supervise itself: the 督办件's 来源 is this 收文 and its 批示, its
    时限 the one the leader gave, and the same 批示 again makes no second item."""
    from pipeline.supervise import get_item

    rc = receive(upstream["fire_docx"], svc, allow_duplicate=True)      # a 收文 not yet 办结
    assert rc.status == "registered", rc.problems
    ref = rc.reference
    row, item = instruct(svc, ref, leader="王副区长", text="请区财政局会同区安监局研究办理", assign_to="区财政局",
                         co_units=("区安监局",), deadline=dt.date(2015, 4, 30), date=dt.date(2015, 3, 9))
    it = get_item(svc.ledger, item)
    assert it.source_type == "领导批示" and ref in it.source and it.source_ref.startswith(ref)
    assert it.lead_unit == "区财政局" and it.deadline == dt.date(2015, 4, 30)
    _, again = instruct(svc, ref, leader="王副区长", text="请区财政局会同区安监局研究办理", assign_to="区财政局",
                        co_units=("区安监局",), deadline=dt.date(2015, 4, 30), date=dt.date(2015, 3, 9))
    assert again == item and svc.ledger.verify().ok
