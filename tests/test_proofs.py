"""清样, 签发 and 复核 end to end with real parts (LibreOffice, pypdf, pdftotext/pdftoppm, SQLite, the
archive): what a 清样 PDF carries and lacks, that it takes no number, that a corrected draft replaces
it, and that the document issued from a signed-off 清样 goes through 复核 — refused with a diff when it
changed, passed when only its 印发日期 did — through the library and through the `gongwen` command."""
from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from samples.drafts import sample_draft
from pipeline import signoff
from pipeline.cli import cli
from pipeline.pdfcheck import inspect_pdf
from pipeline.process import open_services, process_draft
from pipeline.proofs import make_proof, proof_path

pytestmark = pytest.mark.libreoffice

@pytest.fixture(scope="module")
def svc(inst):
    with open_services(inst, "秘书甲") as s:
        yield s


def drop(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_bytes(data)
    return p


def tables(config) -> dict[str, list[tuple]]:
    """The 发文登记簿, its counters and the 用印登记 as stored."""
    with sqlite3.connect(config.archive_dir / "ledger.sqlite3") as db:
        return {t: db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                for t in ("documents", "counters", "seal_uses")}


def _render(pdf: Path, out: Path) -> list:
    from PIL import Image

    out.mkdir()
    subprocess.run(["pdftoppm", "-gray", "-r", "20", str(pdf), str(out / "p")], check=True)
    return [Image.open(png).convert("L") for png in sorted(out.iterdir())]


def mark_footprint(pdf: Path, tmp_path: Path) -> list[float]:
    """Per page: the share of the page the mark visibly changes — the page rendered as it is against
    the same page with the mark's drawing (the last content stream, see seal.overlay_image) taken
    out, at 20 dpi in greyscale."""
    from PIL import ImageChops
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, NameObject

    writer = PdfWriter(clone_from=PdfReader(pdf))
    for page in writer.pages:
        page[NameObject("/Contents")] = ArrayObject(list(page["/Contents"])[:-1])
    bare = tmp_path / "bare.pdf"
    writer.write(bare)
    out = []
    for a, b in zip(_render(pdf, tmp_path / "marked"), _render(bare, tmp_path / "bare")):
        hist = ImageChops.difference(a, b).histogram()
        out.append(sum(hist[8:]) / (a.width * a.height))
    return out


def page_ops(reader: PdfReader, i: int) -> str:
    return reader.pages[i].get_contents().get_data().decode("latin-1")


def test_a_清样_is_marked_on_every_page_with_a_blank_number_no_seal_no_signature_and_takes_no_number(
        inst, svc, tmp_path):
    assert all((inst.proofs / r.folder).is_dir() for r in inst.intake.routes)     # made by gongwen init
    draft = drop(inst.proofs / "珠政发", "防汛通知.md", sample_draft(1, "（清样）"))
    before = tables(inst) if (inst.archive_dir / "ledger.sqlite3").exists() else None
    o = make_proof(draft, svc)
    assert o.status == "proof", o.problems
    pdf = Path(o.pdf)
    assert pdf == proof_path(draft) == draft.with_name("防汛通知.md.清样.pdf") and o.note is None

    reader = PdfReader(pdf)
    assert len(reader.pages) >= 2
    for i in range(len(reader.pages)):                      # the mark: on every page, centred
        names = [str(k) for k in reader.pages[i]["/Resources"]["/XObject"].keys()]
        assert "/GwProof0" in names and not any(n.startswith("/GwSeal") for n in names), names
        m = re.search(r"([\d.]+) 0 0 ([\d.]+) ([\d.]+) ([\d.]+) cm /GwProof0 Do", page_ops(reader, i))
        w, h, x, y = (float(g) for g in m.groups())
        box = reader.pages[i].mediabox
        assert abs(x + w / 2 - float(box.width) / 2) < 1 and abs(y + h / 2 - float(box.height) / 2) < 1
        assert w > float(box.width) / 3 and h > float(box.height) / 3     # across the page, diagonally
    assert all(share > 0.03 for share in mark_footprint(pdf, tmp_path)), "the mark is not visible on every page"
    assert reader.metadata["/GongwenProof"] == "清样"

    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert re.search(r"珠政发〔2015〕\s+号", text) and not re.search(r"〔2015〕\s*\d+\s*号", text), text[:200]

    assert inspect_pdf(pdf).signatures == 0                  # no signature, and no field for one
    form = reader.trailer["/Root"].get("/AcroForm")
    assert form is None or not form.get_object().get("/Fields")
    assert not any(a.get_object().get("/FT") == "/Sig" for p in reader.pages for a in p.get("/Annots") or [])

    after = tables(inst)
    if before is not None:
        assert after == before
    assert after["documents"] == [] and after["counters"] == [] and after["seal_uses"] == []
    assert not list(inst.archive_dir.glob("20*/*/*")), "a 清样 was filed"
    (ev,) = svc.ledger.events(f"稿件#{o.case}")
    assert (ev.event, ev.actor) == ("proof", "秘书甲") and ev.time
    assert ev.detail["content_hash"] == reader.metadata["/GongwenContentHash"]
    assert not list((inst.work_dir / "proofs").iterdir())


def test_a_corrected_draft_replaces_its_清样_and_problems_go_in_a_note_beside_it(inst, svc, tmp_path):
    folder = inst.proofs / "珠政办发"
    data = sample_draft(2).replace("珠晖区人民政府关于".encode(), "珠晖区人民政府办公室关于".encode()).replace(
        "署名: 珠晖区人民政府".encode(), "署名: 珠晖区人民政府办公室".encode())
    draft = drop(folder, "值班.md", data)
    first = make_proof(draft, svc)
    assert first.status == "proof", first.problems
    drop(folder, "值班.md", data.replace("第2批".encode(), "第二批".encode()))
    second = make_proof(draft, svc)
    assert second.status == "proof" and second.case == first.case
    c = signoff.case(svc.ledger, inst, first.case)
    assert c.proof_count == 2 and PdfReader(second.pdf).metadata["/GongwenContentHash"] == c.content_hash
    assert sorted(p.name for p in folder.iterdir()) == ["值班.md", "值班.md.清样.pdf"]

    drop(folder, "值班.md", data.replace("成文日期: 2015年3月20日\n".encode(), b""))      # an error
    bad = make_proof(draft, svc)
    assert bad.status == "rejected" and bad.pdf is None
    assert any(p.element == "成文日期" and p.severity == "error" for p in bad.problems)
    assert sorted(p.name for p in folder.iterdir()) == ["值班.md", "值班.md.问题.txt"]   # no stale 清样
    assert "出清样不占用文号" in (folder / "值班.md.问题.txt").read_text(encoding="utf-8")

    drop(folder, "值班.md", data.replace("主送".encode(), "主送机关".encode()).replace(
        "为切实做好".encode(), "为切实做好,".encode()))                                  # a warning only
    warned = make_proof(draft, svc)
    assert warned.status == "proof" and warned.problems and all(p.severity == "warning" for p in warned.problems)
    assert sorted(p.name for p in folder.iterdir()) == ["值班.md", "值班.md.清样.pdf", "值班.md.问题.txt"]
    assert signoff.case(svc.ledger, inst, first.case).proof_count == 3


def signed_off_and_issued(inst, svc, name: str, i: int):
    """A draft dropped in proofs/, its 清样 made, 签发 with `gongwen release` and issued: (the release
    command's result, the draft in proofs/, the draft moved to the inbox, the issued Outcome)."""
    draft = drop(inst.proofs / "珠政发", name, sample_draft(i))
    assert make_proof(draft, svc).status == "proof"
    r = CliRunner().invoke(cli, ["--config", str(inst.base / "config.yaml"), "--actor", "秘书甲", "release", str(draft),
                                 "--signer", "陈礼洋", "--opinion", "同意", "--date", "2015-03-18",
                                 "--cosigner", "彭建元"])
    assert r.exit_code == 0, r.output
    moved = inst.inbox / "珠政发" / name
    return r, draft, moved, process_draft(moved, svc, route=inst.route_for_folder("珠政发"))


def test_the_issued_document_from_a_signed_off_清样(inst, svc, tmp_path):
    r, draft, moved, o = signed_off_and_issued(inst, svc, "安全生产.md", 3)
    assert "已送编号" in r.output and "陈礼洋、彭建元 2015-03-18 签发（同意）" in r.output
    assert moved.read_bytes() == sample_draft(3) and not draft.exists() and not proof_path(draft).exists()
    assert o.status == "issued", o.problems
    facts = inspect_pdf(Path(o.pdf))
    assert facts.signatures == 1 and facts.pdfa == "2B"
    reader = PdfReader(o.pdf)
    assert not any("/GwProof" in str(k) for p in reader.pages for k in p["/Resources"].get("/XObject", {}).keys())
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", o.pdf, "-"], capture_output=True, text=True).stdout
    assert o.number in text.replace(" ", "")
    (row,) = [x for x in svc.ledger.register(2015) if x.number == o.number]
    assert (row.signers, row.signed_on) == ("陈礼洋、彭建元", "2015-03-18")
    rec = svc.store.find(o.number)
    assert rec.meta["签发"]["签发人"] == "陈礼洋" and rec.meta["签发"]["会签"] == ["彭建元"]
    assert rec.meta["签发"]["签发日期"] == "2015-03-18" and rec.meta["签发人"] == ["陈礼洋", "彭建元"]
    acts = [e["业务行为"] for e in rec.meta["业务行为"]]
    assert acts.index("清样") < acts.index("签发") < acts.index("送编号") < acts.index("登记（编号）")
    signed = next(e for e in rec.meta["业务行为"] if e["业务行为"] == "签发")
    assert signed["机构人员名称"] == "陈礼洋" and signed["行为描述"]["登记人"] == "秘书甲"   # the head's act
    c = signoff.case_for_reference(svc.ledger, inst, o.number)
    assert c.state == "numbered" and c.reference == o.number
    steps = signoff.handling(svc.ledger, inst, o.number)
    assert [s.name for s in steps] == ["清样", "签发", "编号", "用印", "核发"] and all(s.time for s in steps)
    (times,) = [t for t in signoff.times(svc.ledger, inst, 2015) if t.number == o.number]
    assert times.signed == "2015-03-18" and times.proofed <= times.numbered <= times.sealed <= times.issued
    assert svc.ledger.verify().ok


def test_a_change_after_签发_is_refused_with_a_diff_and_印发日期_only_passes(inst, svc):
    data = sample_draft(4)
    draft = drop(inst.proofs / "珠政发", "整治.md", data)
    assert make_proof(draft, svc).status == "proof"
    release = CliRunner().invoke(cli, ["--config", str(inst.base / "config.yaml"), "release", str(draft),
                                       "--signer", "陈礼洋", "--opinion", "同意"])
    assert release.exit_code == 0, release.output
    moved = inst.inbox / "珠政发" / "整治.md"
    moved.write_bytes(data.replace("第4批重点工作的通知".encode(), "第4批重点工作的紧急通知".encode()))
    before = tables(inst)
    o = process_draft(moved, svc, route=inst.route_for_folder("珠政发"))
    assert o.status == "rejected" and o.number is None
    assert o.problems[0].element == "复核" and "陈礼洋签发的清样不一致" in o.problems[0].message
    assert any(p.element == "标题" and "紧急通知" in p.message for p in o.problems), o.problems
    assert tables(inst) == before                              # no number taken

    moved.write_bytes(data.replace("成文日期: 2015年3月20日\n".encode(),
                                   "成文日期: 2015年3月20日\n印发日期: 2015年3月23日\n".encode()))
    o = process_draft(moved, svc, route=inst.route_for_folder("珠政发"))
    assert o.status == "issued", o.problems
    assert svc.store.find(o.number).meta["印发日期"] == "2015-03-23"
    assert svc.ledger.document(o.number).signed_on is not None


def test_require_signoff_refuses_an_unsigned_draft_and_off_issues_it(inst, svc):
    strict = inst.model_copy(update={"series": {**inst.series, "珠政办发": inst.series["珠政办发"].model_copy(
        update={"require_signoff": True})}})
    strict_svc = dataclasses.replace(svc, config=strict)          # same converter, index and register
    data = sample_draft(5).replace("珠晖区人民政府关于".encode(), "珠晖区人民政府办公室关于".encode()).replace(
        "署名: 珠晖区人民政府".encode(), "署名: 珠晖区人民政府办公室".encode())
    draft = drop(inst.inbox / "珠政办发", "无签发.md", data)
    before = tables(inst)
    o = process_draft(draft, strict_svc, route=strict.route_for_folder("珠政办发"))
    assert o.status == "rejected" and o.problems[-1].message.startswith("未经签发，不能编号")
    assert tables(inst) == before
    o = process_draft(draft, svc, route=inst.route_for_folder("珠政办发"))          # off: as today
    assert o.status == "issued", o.problems
    (row,) = [x for x in svc.ledger.register(2015) if x.number == o.number]
    assert row.signed_on == "未记录"
    signed = drop(inst.inbox / "珠政办发", "纸质签发.md", data.replace(
        "第5批".encode(), "第五批".encode()).replace(b"---\n\n", "签发: {签发人: 陈礼洋, 意见: 同意, 日期: 2015-03-19}\n---\n\n".encode(), 1))
    o = process_draft(signed, strict_svc, route=strict.route_for_folder("珠政办发"))
    assert o.status == "issued", o.problems
    assert svc.ledger.document(o.number).signed_on.isoformat() == "2015-03-19"


def test_cli_proof_json_proofs_and_return(inst, svc, tmp_path):
    runner = CliRunner()
    cfg = str(inst.base / "config.yaml")
    good = drop(inst.proofs / "珠政函", "年鉴.md", sample_draft(6).replace("文种: 通知".encode(), "文种: 函".encode())
                .replace("的通知".encode(), "的函".encode()))
    bad = drop(tmp_path, "空.md", b"")
    r = runner.invoke(cli, ["--config", cfg, "proof", "--json", str(good), str(bad)])
    assert r.exit_code == 1, r.output
    rows = [json.loads(line) for line in r.output.splitlines() if line.startswith("{")]
    assert [row["status"] for row in rows] == ["proof", "rejected"]
    assert set(rows[0]) >= {"file", "status", "pdf", "problems"} and Path(rows[0]["pdf"]).is_file()
    assert rows[1]["pdf"] is None and rows[1]["problems"] and Path(rows[1]["note"]).is_file()

    r = runner.invoke(cli, ["--config", cfg, "--actor", "陈礼洋", "return", str(good), "--by", "陈礼洋",
                            "--opinion", "请补充联系人"])
    assert r.exit_code == 0 and "已退回" in r.output
    r = runner.invoke(cli, ["--config", cfg, "proofs", "--json"])
    listed = {c["name"]: c for c in json.loads(r.output)}
    assert listed["年鉴.md"]["state_name"] == "已退回" and listed["年鉴.md"]["returned"]["opinion"] == "请补充联系人"
    assert listed["年鉴.md"]["pdf_exists"]
    r = runner.invoke(cli, ["--config", cfg, "release", str(good)])
    assert r.exit_code == 1 and "未经签发" in str(r.exception) and good.is_file()
    r = runner.invoke(cli, ["--config", cfg, "proofs"])
    assert r.exit_code == 0 and "已退回" in r.output and "请补充联系人" in r.output


def test_a_crash_between_recording_a_清样_and_putting_it_in_place_is_finished_by_the_next_run(
        inst, svc, monkeypatch):
    """The 清样 is recorded before it is renamed into place: a kill in between leaves a recorded 清样
    that is not there yet (never one on disk that the register does not know); the rerun puts it in
    place without recording it twice."""
    from pipeline import proofs

    draft = drop(inst.proofs / "珠政发", "断电.md", sample_draft(7))

    def killed(src, dest):
        raise SystemExit("killed")

    monkeypatch.setattr(proofs, "_replace_into", killed)
    with pytest.raises(SystemExit):
        make_proof(draft, svc)
    assert not proof_path(draft).exists()
    monkeypatch.undo()
    o = make_proof(draft, svc)
    assert o.status == "proof" and proof_path(draft).is_file()
    assert [e.event for e in svc.ledger.events(f"稿件#{o.case}")] == ["proof"]
    assert signoff.case(svc.ledger, inst, o.case).proof_count == 1


def test_show_prints_the_handling_in_order(inst, svc):
    *_, o = signed_off_and_issued(inst, svc, "展示办理.md", 4)
    numbered = [c for c in signoff.cases(svc.ledger, inst, states=("numbered",)) if c.reference == o.number]
    assert numbered
    r = CliRunner().invoke(cli, ["--config", str(inst.base / "config.yaml"), "show", numbered[-1].reference])
    assert r.exit_code == 0, r.output
    flow = r.output[r.output.index("发文办理"):]
    at = [flow.index(step) for step in ("清样", "签发", "编号", "用印", "核发")]
    assert at == sorted(at) and "陈礼洋" in flow
    r = CliRunner().invoke(cli, ["--config", str(inst.base / "config.yaml"), "register", "2015", "--times"])
    assert r.exit_code == 0 and numbered[-1].reference in r.output and "2015-03-18" in r.output
