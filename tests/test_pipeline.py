"""The whole pipeline end to end, with real parts: drafts → rules → ledger → docxtpl → LibreOffice →
seal + signature → archive → index → outbox, through the library and through the `gongwen` command."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.errors import ConversionError, SearchError
from pipeline.pdfcheck import inspect_pdf
from pipeline.process import process_draft
from tests.conftest import REPO

pytestmark = pytest.mark.libreoffice

EXAMPLES = sorted(p for p in (REPO / "examples").rglob("*") if p.is_file())
DRAFT = """---
文种: 通知
机关代字: 珠政办发
标题: 珠晖区人民政府办公室关于做好{what}工作的通知
主送: 各镇人民政府、街道办事处，区直各单位
成文日期: 2015年5月{day}日
署名: 珠晖区人民政府办公室
印发日期: 2015年5月{day}日
---
一、总体要求

各单位要高度重视{what}工作，明确责任，抓好落实。

二、工作措施

（一）加强组织领导。各单位主要负责同志要亲自部署。

（二）强化督查督办。区政府办公室将适时开展督查。
"""


def _draft(dirpath: Path, name: str, what: str, day: int = 8) -> Path:
    p = dirpath / name
    p.write_text(DRAFT.format(what=what, day=day), encoding="utf-8")
    return p


def _register(config) -> list[tuple]:
    with sqlite3.connect(config.archive_dir / "ledger.sqlite3") as db:
        return db.execute("select * from documents order by id").fetchall()


def test_every_example_is_issued_filed_indexed_and_in_the_outbox(inst, svc):
    outcomes = [process_draft(p, svc) for p in EXAMPLES]
    bad = [(o.file, [str(p) for p in o.problems]) for o in outcomes if o.status != "issued"]
    assert not bad
    assert len({o.number for o in outcomes}) == len(EXAMPLES)
    for o in outcomes:
        pdf, docx = Path(o.pdf), Path(o.docx)
        assert pdf.parent == inst.outbox and pdf.name == f"{o.number}.pdf" and docx.name == f"{o.number}.docx"
        facts = inspect_pdf(pdf)
        assert facts.pdfa == "2B" and facts.all_fonts_embedded and facts.signatures == 1 and facts.error is None
        rec = svc.store.find(o.number)
        assert rec is not None and rec.meta["题名"] == o.title and rec.meta["页数"] == facts.pages
        assert rec.file("正本").read_bytes() == pdf.read_bytes()
        assert all(r.ok for r in rec.verify())
        doc = svc.ledger.document(o.number)
        assert doc.stage == "indexed"
        hits = svc.index.search(f'"{o.title}"', limit=3).hits
        assert hits and hits[0].id == o.number
    # sealed series got a 用印登记 row per organ's seal (联合行文: every organ); the unsealed 纪要 none
    seals = svc.ledger.seal_register()  # by 用印时间 (today), not by the documents’ year
    sealed = {o.number: len(svc.store.find(o.number).meta["责任者"]) for o in outcomes
              if not o.number.startswith("常务会议纪要")}
    assert Counter(r.number for r in seals) == sealed and max(sealed.values()) == 3
    assert all(r.seal_name.endswith("印") and r.handler == "测试员" for r in seals)


def test_a_bad_draft_takes_no_number_and_survives(inst, svc, tmp_path):
    before = _register(inst)
    bad = tmp_path / "坏稿.md"
    text = "---\n文种: 通知\n机关代字: 珠政办发\n标题: 关于XX工作的通知\n成文日期: 2015年02月30日\n---\n正文。\n"
    bad.write_text(text, encoding="utf-8")
    o = process_draft(bad, svc)
    assert o.status == "rejected" and o.number is None
    elements = {p.element for p in o.problems if p.severity == "error"}
    assert {"标题", "成文日期"} <= elements
    assert _register(inst) == before
    assert bad.read_text(encoding="utf-8") == text


def test_the_same_content_twice_is_one_document(inst, svc, tmp_path):
    a = _draft(tmp_path, "防汛.md", "防汛")
    first = process_draft(a, svc)
    copy = tmp_path / "防汛 副本.md"
    shutil.copyfile(a, copy)
    again = process_draft(copy, svc)
    assert first.status == again.status == "issued"
    assert again.number == first.number and again.duplicate and not first.duplicate
    changed = _draft(tmp_path, "防汛2.md", "防汛", day=9)
    assert process_draft(changed, svc).number != first.number


def test_a_failure_after_numbering_resumes_with_the_same_number(inst, svc, tmp_path, monkeypatch):
    d = _draft(tmp_path, "续办.md", "森林防火")
    real = svc.converter.convert

    def down(*a, **k):
        raise ConversionError("LibreOffice 未响应（模拟）")

    monkeypatch.setattr(svc.converter, "convert", down)
    o = process_draft(d, svc)
    assert o.status == "failed" and o.number
    doc = svc.ledger.document(o.number)
    assert doc.stage in ("allocated", "rendered") and not svc.store.find(o.number)
    assert doc in svc.ledger.pending()
    monkeypatch.setattr(svc.converter, "convert", real)
    again = process_draft(d, svc)
    assert again.status == "issued" and again.number == o.number
    assert svc.ledger.document(o.number).stage == "indexed"


def test_filed_but_not_indexed_is_caught_up(inst, svc, tmp_path, monkeypatch):
    from pipeline.process import catch_up

    d = _draft(tmp_path, "补编.md", "汛期值班")
    index = svc.index

    def broken(docs):
        raise SearchError("索引被占用（模拟）")

    monkeypatch.setattr(index, "add", broken)
    o = process_draft(d, svc)
    assert o.status == "issued" and any(p.element == "检索" for p in o.problems)
    assert svc.ledger.document(o.number).stage == "filed"
    monkeypatch.undo()
    assert catch_up(svc) == [o.number]
    assert svc.ledger.document(o.number).stage == "indexed"
    assert svc.index.search("汛期值班").hits[0].id == o.number


def test_a_typed_number_that_is_not_reserved_is_rejected_and_the_batch_goes_on(inst, svc, tmp_path):
    before = _register(inst)
    typed = tmp_path / "自编文号.md"
    typed.write_text(DRAFT.format(what="自编文号", day=14).replace("机关代字: 珠政办发\n",
                                                                    "机关代字: 珠政办发\n文号: 珠政办发〔2015〕88号\n"),
                     encoding="utf-8")
    o = process_draft(typed, svc)
    assert o.status == "rejected" and o.number is None
    assert [p.element for p in o.problems if p.severity == "error"] == ["发文字号"]
    assert _register(inst) == before
    # a reserved number named by the draft is used
    reserved = svc.ledger.reserve("珠政办发", 2015, actor="测试员", note="留给防汛通知")
    typed.write_text(DRAFT.format(what="预留文号", day=14).replace(
        "机关代字: 珠政办发\n", f"机关代字: 珠政办发\n文号: {reserved.reference}\n"), encoding="utf-8")
    o = process_draft(typed, svc)
    assert o.status == "issued" and o.number == reserved.reference


def test_a_crash_between_the_seal_row_and_the_stage_registers_the_seal_once(inst, svc, tmp_path, monkeypatch):
    from pipeline.errors import LedgerError

    d = _draft(tmp_path, "用印续办.md", "用印续办")
    real = svc.ledger.advance

    def crash_at_stamped(doc_id, stage, **kw):
        if stage == "stamped":
            raise LedgerError("数据库写入中断（模拟）")
        return real(doc_id, stage, **kw)

    monkeypatch.setattr(svc.ledger, "advance", crash_at_stamped)
    first = process_draft(d, svc)
    assert first.status == "failed"
    monkeypatch.setattr(svc.ledger, "advance", real)
    again = process_draft(d, svc)
    assert again.status == "issued" and again.number == first.number
    assert [r.number for r in svc.ledger.seal_register()].count(first.number) == 1


def test_a_joint_document_carries_every_organ_in_seal_register_and_metadata(inst, svc):
    """联合行文 (the example with three organs): a seal over each organ's 署名 in the 正本, a 用印登记
    row per seal, every organ in the 发文登记簿 and as 责任者, the 主办机关's number."""
    import pikepdf

    from pipeline.sign import verify_pdf

    draft = REPO / "examples" / "珠政发" / "关于开展2015年校园安全专项检查的通知（三机关联合行文）.md"
    o = process_draft(draft, svc)
    assert o.status == "issued" and o.number.startswith("珠政发〔2015〕")
    organs = ["珠晖区人民政府", "珠晖区财政局", "珠晖区教育局"]
    rec = svc.store.find(o.number)
    assert rec.meta["责任者"] == organs
    row = next(r for r in svc.ledger.register(2015) if r.number == o.number)
    assert row.issuers == "、".join(organs)
    uses = [r.seal_name for r in svc.ledger.seal_register() if r.number == o.number]
    assert uses == [f"{n}印" for n in organs]
    with pikepdf.open(o.pdf) as pdf:
        images = [name for page in pdf.pages for name, obj in (page.Resources.get("/XObject") or {}).items()
                  if obj.get("/Subtype") == "/Image"]
    assert len(images) == 3
    assert all(v.ok for v in verify_pdf(Path(o.pdf), inst))


def test_a_minutes_issue_number_is_its_number_and_a_used_one_is_refused(inst, svc, tmp_path):
    """纪要 期号 (decision: taken as the number): the examples' 第5次/第6次 纪要 are 〔2015〕5号 and 6号,
    with 1–4 left as unused reservations the register shows; another 纪要 giving 期号 6 is sent back
    with a note naming the document that has it, and takes no number."""
    rows = {r.number: r for r in svc.ledger.register(2015, "常务会议纪要")}
    assert "第5次常务会议" in rows["常务会议纪要〔2015〕5号"].title
    assert "第6次常务会议" in rows["常务会议纪要〔2015〕6号"].title
    assert [rows[f"常务会议纪要〔2015〕{i}号"].status for i in range(1, 5)] == ["预留"] * 4
    clash = tmp_path / "纪要" / "第6次（重复期号）.md"
    clash.parent.mkdir()
    clash.write_text("---\n文种: 纪要\n机关代字: 常务会议纪要\n会议名称: 区政府第6次常务会议（补充）\n期号: 6\n"
                     "时间: 2015年4月3日\n地点: 区政府第一会议室\n主持: 陈礼洋\n出席: 陈礼洋、彭建元\n"
                     "成文日期: 2015年4月3日\n---\n会议研究了补充事项。\n", encoding="utf-8")
    before = _register(inst)
    o = process_draft(clash, svc)
    assert o.status == "rejected" and o.number is None
    assert any("期号 6 已使用：常务会议纪要〔2015〕6号" in p.message for p in o.problems)
    assert _register(inst) == before


def test_an_edited_outbox_copy_is_never_overwritten(inst, svc, tmp_path):
    d = _draft(tmp_path, "外发.md", "外发核对")
    first = process_draft(d, svc)
    Path(first.pdf).write_bytes(b"clerk's annotated copy")
    again = process_draft(d, svc)
    assert again.duplicate and Path(first.pdf).read_bytes() == b"clerk's annotated copy"
    assert Path(again.pdf) != Path(first.pdf) and Path(again.pdf).read_bytes() == svc.store.find(first.number).file("正本").read_bytes()
    assert Path(again.docx) == Path(first.docx)          # the untouched .docx is simply kept


def test_cli_process_json_show_and_doctor_name_a_changed_byte(new_inst, tmp_path):
    """On an instance of its own: the byte it changes in a record must not reach the other tests."""
    runner = CliRunner()
    cfg = str(new_inst.base / "config.yaml")
    d = _draft(tmp_path, "命令行.md", "安全生产大检查", day=12)
    bad = tmp_path / "空.md"
    bad.write_text("", encoding="utf-8")
    r = runner.invoke(cli, ["--config", cfg, "process", "--json", str(d), str(bad)])
    assert r.exit_code == 1, r.output
    rows = [json.loads(line) for line in r.output.splitlines() if line.startswith("{")]
    assert [row["status"] for row in rows] == ["issued", "rejected"]
    issued, rejected = rows
    assert set(issued) >= {"file", "status", "number", "docx", "pdf", "problems", "title", "duplicate", "note"}
    assert Path(issued["pdf"]).is_file() and Path(rejected["note"]).is_file()
    assert rejected["problems"][0]["element"] and rejected["problems"][0]["message"]

    r = runner.invoke(cli, ["--config", cfg, "show", issued["number"]])
    assert r.exit_code == 0 and "一致" in r.output and issued["title"] in r.output

    rec_dir = next(new_inst.archive_dir.glob(f"*/*/{issued['number']}"))
    os.chmod(rec_dir, 0o755)
    target = rec_dir / "定稿.docx"
    os.chmod(target, 0o644)
    data = bytearray(target.read_bytes())
    data[100] ^= 0xFF
    target.write_bytes(bytes(data))
    r = runner.invoke(cli, ["--config", cfg, "show", issued["number"]])
    assert r.exit_code == 1 and "定稿.docx" in r.output and "SHA-256" in r.output
    r = runner.invoke(cli, ["--config", cfg, "doctor", "--json"])
    assert r.exit_code == 1
    findings = json.loads(r.output)
    fixity = [f for f in findings if f["area"] == "档案" and f["ok"] is False]
    assert fixity and "定稿.docx" in fixity[0]["detail"] and "SHA-256" in fixity[0]["detail"]

