"""The fault-injection table: each way a filed record, a year's arrangement or the register can be
tampered with → the command that catches it → the exact message it gives.

A small real year is built once (four drafts of three series through the real pipeline: LibreOffice,
seal, PAdES signature, filing), in two states: ``raw`` (filed, not yet arranged) and ``done``
(`archive` has given 档号, 归档章 and the 目录). Every row damages its own copy and runs one command.
The table in the docs (docs/_incoming/records.md, "Fault-injection table") lists the same rows.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from tests.support.yearend import (ACTOR, YEAR, copy_instance, draft_text, flip_byte, load_config, open_ledger,
                                     writable)

pytestmark = pytest.mark.libreoffice     # the year is made through the real pipeline

DRAFTS = [("珠政发", "通知", "做好春季森林防火工作", ["森林防火任务分工表"]),
          ("珠政发", "意见", "加强食品安全监管", []),
          ("珠政办发", "通知", "推进政务公开工作", []),
          ("珠政函", "函", "开展全民健身活动", [])]


class Year:
    def __init__(self, root: Path):
        from pipeline.process import open_services, process_draft
        from pipeline.sign import init_demo_pki
        from pipeline.yearend.arrange import archive_year
        from tests.conftest import write_instance

        cfg = write_instance(root / "raw")
        config = load_config(cfg)
        init_demo_pki(config)
        with open_services(config, "秘书组") as svc:
            for i, (route, kind, subject, attach) in enumerate(DRAFTS):
                p = root / "drafts" / route / f"{i}.md"
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(draft_text(i * 40, route, kind, subject, attachments=attach), encoding="utf-8")
                o = process_draft(p, svc, route=config.route_for_folder(route), outbox=root / "outbox")
                assert o.status == "issued", [str(x) for x in o.problems]
        self.raw = cfg
        self.done = copy_instance(cfg.parent, root / "done")
        config = load_config(self.done)
        with open_ledger(config) as ledger:
            archive_year(config, YEAR, ledger=ledger, actor=ACTOR)

    def copy(self, tmp_path: Path, state: str) -> Path:
        src = self.raw if state == "raw" else self.done
        return copy_instance(src.parent, tmp_path / state)


@pytest.fixture(scope="module")
def year(tmp_path_factory) -> Year:
    return Year(tmp_path_factory.mktemp("tamper"))


# --- helpers the tampers use --------------------------------------------------------------------------

def record(config, series: str = "珠政办发"):
    from pipeline.archive import ArchiveStore

    return next(r for r in ArchiveStore(config).records(YEAR) if r.meta["机关代字"] == series)


def last_anchor(config, ref: str) -> int:
    with open_ledger(config) as ledger:
        return ledger.anchors(ref)[ref][-1].event_id


def edit_json(path: Path, change: Callable[[dict], None]) -> None:
    writable(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def forge(config, rec, *, meta: dict | None = None, files: dict[str, bytes] | None = None):
    """What a forger with the gongwen library does: rewrite the record and recompute its digests
    (ArchiveStore.update_record, as the year end does) — without the ledger."""
    from pipeline.archive import ArchiveStore

    work = Path(config.work_dir) / "forged"
    work.mkdir(parents=True, exist_ok=True)
    replace = {}
    for name, data in (files or {}).items():
        (work / name).write_bytes(data)
        replace[name] = work / name
    return ArchiveStore(config).update_record(rec, replace=replace, meta_updates=meta or {})


def year_file(config, prefix: str, suffix: str) -> Path:
    ydir = Path(config.archive_dir) / "yearend" / str(YEAR)
    return next(p for p in sorted(ydir.iterdir()) if p.name.startswith(prefix) and p.name.endswith(suffix))


# --- the tampers: each returns what the expected message needs ------------------------------------------

def t_title_edited(config):
    """题名 changed in metadata.json by hand (digests untouched)."""
    rec = record(config)
    ev = last_anchor(config, rec.reference)
    edit_json(rec.path / "metadata.json", lambda m: m.update(题名=m["题名"].replace("推进", "暂停")))
    return {"ref": rec.reference, "code": rec.meta.get("档号") or rec.reference, "ev": ev,
            "old": rec.meta["题名"], "new": rec.meta["题名"].replace("推进", "暂停")}


def t_title_forged(config):
    """题名 changed to text that still occurs in the document, digests recomputed."""
    rec = record(config)
    ev = last_anchor(config, rec.reference)
    new = "推进政务公开工作的通知"
    forge(config, rec, meta={"题名": new})
    return {"ref": rec.reference, "code": rec.meta.get("档号") or rec.reference, "ev": ev, "old": rec.meta["题名"],
            "new": new}


def t_fulltext_forged(config):
    """全文.txt rewritten and its digests in metadata.json updated to match."""
    rec = record(config)
    ev = last_anchor(config, rec.reference)
    text = rec.text().replace("提高认识", "无需重视")
    forge(config, rec, files={"全文.txt": text.encode("utf-8")})
    return {"ref": rec.reference, "code": rec.meta.get("档号") or rec.reference, "ev": ev}


def t_docx_forged(config):
    """定稿.docx replaced (another document's) and its digests updated to match."""
    rec = record(config)
    other = record(config, "珠政函")
    ev = last_anchor(config, rec.reference)
    forge(config, rec, files={"定稿.docx": other.file("定稿").read_bytes()})
    return {"ref": rec.reference, "code": rec.meta.get("档号") or rec.reference, "ev": ev}


def t_file_added(config):
    """An extra file slipped into a record folder."""
    rec = record(config)
    ev = last_anchor(config, rec.reference)
    os.chmod(rec.path, 0o755)
    (rec.path / "说明.txt").write_text("后补的说明", encoding="utf-8")
    return {"ref": rec.reference, "code": rec.meta.get("档号") or rec.reference, "ev": ev}


def t_stray_in_year(config):
    (Path(config.archive_dir) / str(YEAR) / "备忘.txt").write_text("x", encoding="utf-8")
    return {"path": f"{YEAR}/备忘.txt"}


def t_stray_in_series(config):
    d = Path(config.archive_dir) / str(YEAR) / "珠政发"
    os.chmod(d, 0o755)
    (d / "Thumbs.db").write_bytes(b"\0" * 16)
    return {"path": f"{YEAR}/珠政发/Thumbs.db"}


def t_record_deleted_then_reindexed(config):
    """A record folder removed, then `gongwen reindex` made the index agree with what is left."""
    from pipeline.search import reindex

    rec = record(config)
    for p in (rec.path, *rec.path.iterdir()):
        os.chmod(p, 0o755)
    os.chmod(rec.path.parent, 0o755)
    shutil.rmtree(rec.path)
    reindex(config)
    return {"ref": rec.reference}


def t_catalogue_title_changed(config):
    """A title changed in the 归档文件目录 .xlsx."""
    from openpyxl import load_workbook

    path = year_file(config, "归档文件目录", ".xlsx")
    wb = load_workbook(path)
    ws = wb["目录"]
    old = ws.cell(4, 5).value
    ws.cell(4, 5).value = "关于另一件事情的通知"
    code = ws.cell(4, 2).value
    wb.save(path)
    with open_ledger(config) as ledger:
        ev = ledger.anchors()[f"{YEAR}年度整理"][-1].event_id
    return {"name": path.name, "code": code, "old": old, "ev": ev, "label": _label_of(path)}


def _label_of(path: Path) -> str:
    # 归档文件目录-2015-永久-办公室.xlsx → 2015年度·永久·办公室
    year_, retention, unit = path.stem.split("-")[1:4]
    return f"{year_}年度·{retention}·{unit}"


def t_catalogue_pdf_changed(config):
    """The 归档文件目录 PDF replaced by another (e.g. re-typed) file."""
    path = year_file(config, "归档文件目录", ".pdf")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with open_ledger(config) as ledger:
        ev = ledger.anchors()[f"{YEAR}年度整理"][-1].event_id
    return {"name": path.name, "ev": ev, "label": _label_of(path)}


def t_plan_items_swapped(config):
    """Two 件 of a class swapped in 整理方案.json."""
    path = Path(config.archive_dir) / "yearend" / str(YEAR) / "整理方案.json"
    got = {}

    def swap(plan):
        cls = next(c for c in plan["类别"] if len(c["件"]) >= 2)
        a, b = cls["件"][0], cls["件"][1]
        got.update(a=a["文件编号"], a_code=a["档号"], b=b["文件编号"], b_code=b["档号"])
        a["文件编号"], b["文件编号"] = b["文件编号"], a["文件编号"]

    edit_json(path, swap)
    return got


def t_truncated_pdf(config):
    rec = record(config)
    pdf = writable(rec.file("正本"))
    data = pdf.read_bytes()
    pdf.write_bytes(data[: len(data) * 2 // 3])
    return {"ref": rec.reference, "code": rec.meta.get("档号")}


def t_byte_flipped(config):
    rec = record(config)
    flip_byte(rec.file("正本"))
    return {"ref": rec.reference, "code": rec.meta.get("档号") or rec.reference}


def t_file_deleted(config):
    rec = record(config)
    writable(rec.path / "定稿.docx").unlink()
    return {"ref": rec.reference, "code": rec.meta.get("档号") or rec.reference}


def t_register_row_deleted(config):
    from pipeline.ledger import ledger_path

    rec = record(config)
    db = sqlite3.connect(ledger_path(config))
    db.execute("DELETE FROM documents WHERE reference = ?", (rec.reference,))
    db.commit()
    db.close()
    return {"ref": rec.reference, "code": rec.meta.get("档号") or rec.reference}


def t_archived_voided(config):
    rec = record(config)
    return {"ref": rec.reference, "code": rec.meta["档号"]}


def t_register_title_edited(config):
    from pipeline.ledger import ledger_path

    rec = record(config)
    db = sqlite3.connect(ledger_path(config))
    row = db.execute("SELECT id FROM documents WHERE reference = ?", (rec.reference,)).fetchone()
    db.execute("UPDATE documents SET title = '改过的标题' WHERE id = ?", row)
    db.commit()
    db.close()
    return {"ref": rec.reference, "id": row[0]}


def t_unanchored(config):
    """A record filed before anchors existed: its anchoring events are not in this ledger (the
    instance's ledger is rebuilt without them: an older gongwen wrote none)."""
    from pipeline.ledger import ledger_path

    rec = record(config)
    db = sqlite3.connect(ledger_path(config))
    db.executescript("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;")
    db.execute("UPDATE events SET detail = json_remove(detail, '$.anchor') WHERE reference = ? AND event = 'filed'",
               (rec.reference,))
    db.execute("DELETE FROM events WHERE reference = ? AND event = 'anchored'", (rec.reference,))
    db.commit()
    db.close()
    _rechain(config)
    return {"ref": rec.reference, "code": rec.meta.get("档号") or rec.reference}


def _rechain(config) -> None:
    """Renumber and re-hash the chain after the events above were changed, as a ledger written by
    an older gongwen would have been (no anchors, a whole chain)."""
    from pipeline.ledger import GENESIS, _event_hash, ledger_path

    db = sqlite3.connect(ledger_path(config))
    rows = db.execute("SELECT id, time, actor, event, reference, detail, algorithm FROM events ORDER BY id").fetchall()
    db.execute("DELETE FROM events")
    prev = GENESIS
    for n, (_, time_, actor, event, ref, detail, algo) in enumerate(rows, 1):
        h = _event_hash(algo, n, time_, actor, event, ref, detail, prev)
        db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (n, time_, actor, event, ref, detail,
                                                                            algo, prev, h))
        prev = h
    db.executescript("""
CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, '事件记录只能追加，不能修改'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, '事件记录只能追加，不能删除'); END;
""")
    db.commit()
    db.close()


# --- the commands ----------------------------------------------------------------------------------------

def run_check(cfg: Path) -> dict[str, list[tuple[str, str, str]]]:
    from pipeline.yearend.checks import check_year

    config = load_config(cfg)
    with open_ledger(config) as ledger:
        report = check_year(config, YEAR, ledger=ledger, actor=ACTOR, scan=False)
    assert not report.ok
    return {i.code: [(f.ident, f.file, f.message) for f in i.failures] for i in report.items}


def run_doctor(cfg: Path) -> list:
    from pipeline.doctor import run_doctor as doctor

    return doctor(load_config(cfg), ACTOR)


def run_cli(cfg: Path, *args: str):
    from pipeline.cli import cli

    return CliRunner().invoke(cli, ["--config", str(cfg), "--actor", ACTOR, *args])


@dataclass(frozen=True)
class Row:
    tamper: Callable
    state: str                  # raw (filed) or done (arranged)
    command: str                # check / doctor / show / archive / handover / void
    where: str                  # check: item code; doctor: finding item prefix; others: ""
    message: str                # the exact message, with {placeholders} from the tamper's result
    ident: str = ""             # check: the failure's ident (template)
    file: str | None = None     # check: the failure's file (template); None: not compared


ANCHOR_META = "metadata.json 与登记簿锚定的摘要不符（元数据被改动；锚定于事件 #{ev}）"
TITLE_VS_REGISTER = "元数据的题名“{new}”与发文登记簿的“{old}”不符"

TABLE: dict[str, Row] = {
    # item 10: a record edited, with or without its digests recomputed
    "题名 edited → check": Row(t_title_edited, "done", "check", "GD-ZS-1-1", ANCHOR_META, "{code}", "metadata.json"),
    "题名 edited → doctor": Row(t_title_edited, "done", "doctor", "记录与登记簿锚定一致", "{ref}：" + ANCHOR_META),
    "题名 edited → show": Row(t_title_edited, "raw", "show", "", ANCHOR_META),
    "题名 forged (digests updated) → check": Row(t_title_forged, "done", "check", "GD-ZS-1-1", ANCHOR_META,
                                                 "{code}", "metadata.json"),
    "题名 forged → check vs register": Row(t_title_forged, "done", "check", "GD-ZS-4", TITLE_VS_REGISTER,
                                           "{code}", "metadata.json"),
    "题名 forged → doctor": Row(t_title_forged, "raw", "doctor", "元数据与发文登记簿一致", "{ref}：" + TITLE_VS_REGISTER),
    "题名 forged → show": Row(t_title_forged, "raw", "show", "", TITLE_VS_REGISTER),
    "题名 forged → handover refused": Row(t_title_forged, "done", "handover", "GD-ZS-1-1", ANCHOR_META),
    "题名 forged → archive refuses": Row(t_title_forged, "raw", "archive", "",
                                         "{ref} 与登记簿锚定不符，不能整理归档：" + ANCHOR_META),
    "全文.txt forged → check": Row(t_fulltext_forged, "done", "check", "GD-ZS-1-1",
                                   "全文.txt 与登记簿锚定的摘要不符（文件被改动；锚定于事件 #{ev}）", "{code}", "全文.txt"),
    "全文.txt forged → show": Row(t_fulltext_forged, "raw", "show", "",
                                  "全文.txt 与登记簿锚定的摘要不符（文件被改动；锚定于事件 #{ev}）"),
    "定稿.docx forged → check": Row(t_docx_forged, "done", "check", "GD-ZS-1-1",
                                    "定稿.docx 与登记簿锚定的摘要不符（文件被改动；锚定于事件 #{ev}）", "{code}", "定稿.docx"),
    "定稿.docx forged → doctor": Row(t_docx_forged, "raw", "doctor", "记录与登记簿锚定一致",
                                     "{ref}：定稿.docx 与登记簿锚定的摘要不符（文件被改动；锚定于事件 #{ev}）"),
    "file added to a record → check": Row(t_file_added, "done", "check", "GD-ZS-1-1",
                                          "说明.txt 不在登记簿锚定的文件之列（锚定于事件 #{ev}之后加入）", "{code}", "说明.txt"),
    "a byte of 正本 changed → check": Row(t_byte_flipped, "done", "check", "GD-ZS-1-1", "SM3 摘要不符（文件被改动）",
                                          "{code}", "正本.pdf"),
    "a byte of 正本 changed → doctor": Row(t_byte_flipped, "raw", "doctor", "固定性", "{ref}/正本.pdf（SM3）摘要不符"),
    "a byte of 正本 changed → show": Row(t_byte_flipped, "raw", "show", "", "固定性校验未通过：正本.pdf（SM3）摘要不符"),
    "定稿.docx deleted → check": Row(t_file_deleted, "done", "check", "GD-WZ-3-1", "文件缺失（元数据登记了该文件，存储中没有）",
                                   "{code}", "定稿.docx"),
    "register row deleted → check": Row(t_register_row_deleted, "done", "check", "GD-WZ-2-4",
                                        "漏号：登记簿中没有此号（既未归档，也未作废或预留）", "{ref}", "发文登记簿"),
    "record never anchored → doctor": Row(t_unanchored, "raw", "doctor", "记录与登记簿锚定一致",
                                          "未锚定 1 件（{ref}）：运行 gongwen doctor --repair 补锚定"),
    "record never anchored → check": Row(t_unanchored, "done", "check", "GD-ZS-1-1",
                                         "未锚定：登记簿中没有此件内容的锚定记录（锚定启用前归档）；"
                                         "运行 gongwen doctor --repair 或 gongwen archive 补锚定", "{code}", ""),
    "register title edited → check": Row(t_register_title_edited, "done", "check", "GD-WZ-5",
                                         "登记簿第 {id} 行（{ref}）的标题与事件 #{ev} 记录的不符（被改动）", "登记簿", "documents"),
    # item 11: the year's arrangement
    "目录 xlsx title changed → check digest": Row(t_catalogue_title_changed, "done", "check", "GD-WZ-4",
                                               "{name} 与登记簿锚定的摘要不符（被改动；锚定于事件 #{ev}）；"
                                               "重新运行 gongwen archive 可按档案重写", "{label}", "{name}"),
    "目录 xlsx title changed → check row": Row(t_catalogue_title_changed, "done", "check", "GD-WZ-1-1",
                                            "目录第 1 行（{code}）的题名“关于另一件事情的通知”与该件元数据的“{old}”不符",
                                            "{label}", "{name}"),
    "目录 xlsx title changed → archive repairs": Row(t_catalogue_title_changed, "done", "archive", "",
                                                  "{name} 与登记簿锚定的摘要不符（被改动），已按档案重写"),
    "目录 PDF changed → check": Row(t_catalogue_pdf_changed, "done", "check", "GD-WZ-4",
                                    "{name} 与登记簿锚定的摘要不符（被改动；锚定于事件 #{ev}）；"
                                    "重新运行 gongwen archive 可按档案重写", "{label}", "{name}"),
    "目录 PDF changed → archive repairs": Row(t_catalogue_pdf_changed, "done", "archive", "",
                                          "{name} 与登记簿锚定的摘要不符（被改动），已按档案重写"),
    "整理方案 two 件 swapped → check": Row(t_plan_items_swapped, "done", "check", "GD-WZ-1-1",
                                        "整理方案中 {b} 的档号为 {a_code}，该件元数据为 {b_code}", "{a_code}", "整理方案.json"),
    "整理方案 two 件 swapped → archive repairs": Row(t_plan_items_swapped, "done", "archive", "",
                                              "整理方案中 {b} 的档号被改为 {a_code}，已按该件元数据改回 {b_code}"),
    # item 12: stray files outside a record folder
    "stray file in the year folder → check": Row(t_stray_in_year, "done", "check", "GD-AQ-2-1",
                                                 "不在任何一件的文件夹内（非归档文件）", f"{YEAR} 年度", "{path}"),
    "stray file in a series folder → check": Row(t_stray_in_series, "done", "check", "GD-AQ-2-1",
                                                 "不在任何一件的文件夹内（非归档文件）", f"{YEAR} 年度", "{path}"),
    # item 13
    "record deleted, index rebuilt → doctor": Row(t_record_deleted_then_reindexed, "raw", "doctor",
                                                  "登记簿所载已归档的文件都在档案中", "{ref}：登记簿记为“已发”，档案中没有此件"),
    # item 14
    "archived document voided → void refuses": Row(t_archived_voided, "done", "void", "",
                                                   "{ref} 已整理归档（档号 {code}），作废会使 2015 年度的四性检测不通过；"
                                                   "确需作废请加 --force，并在原因中写明为何作废已归档的文件"),
    # item 15: a truncated 正本
    "truncated 正本 → check signature": Row(t_truncated_pdf, "done", "check", "GD-ZS-1-2",
                                          "签名无法读取（文件可能被截断或损坏）", "{code}", "正本.pdf"),
    "truncated 正本 → check 归档章": Row(t_truncated_pdf, "done", "check", "GD-WZ-4",
                                      "正本无法解析，其中的归档章无法核验（文件可能被截断或损坏）", "{code}", "正本.pdf"),
}


def _fmt(template: str, values: dict) -> str:
    return template.format(**values)


@pytest.mark.parametrize("name", list(TABLE))
def test_fault_injection_table(year, tmp_path, name):
    row = TABLE[name]
    cfg = year.copy(tmp_path, row.state)
    config = load_config(cfg)
    values = row.tamper(config)
    if row.tamper is t_register_title_edited:
        with open_ledger(config) as ledger:
            values["ev"] = max(e.id for e in ledger.events(values["ref"]) if "register" in e.detail)
    want = _fmt(row.message, values)
    if row.command == "check":
        failures = run_check(cfg)[row.where]
        ident = _fmt(row.ident, values)
        file = None if row.file is None else _fmt(row.file, values)
        hits = [f for f in failures if f[0] == ident and (file is None or f[1] == file)
                and (f[2] == want or (row.tamper is t_truncated_pdf and f[2].startswith(want)))]
        assert hits, (want, failures[:6])
    elif row.command == "doctor":
        findings = run_doctor(cfg)
        hits = [f for f in findings if f.item.startswith(row.where)]
        assert hits and hits[0].ok is False, findings
        assert want in hits[0].detail.split("；") or want in hits[0].detail, hits[0].detail
    elif row.command == "show":
        r = run_cli(cfg, "show", values["ref"])
        assert r.exit_code == 1, r.output
        assert want in r.output.replace("\n", ""), r.output
    elif row.command == "archive":
        from pipeline.errors import ArchiveError
        from pipeline.yearend.arrange import archive_year

        with open_ledger(config) as ledger:
            if row.state == "raw":
                with pytest.raises(ArchiveError) as e:
                    archive_year(config, YEAR, ledger=ledger, actor=ACTOR, make_pdf=False)
                assert want in str(e.value), str(e.value)
                return
            result = archive_year(config, YEAR, ledger=ledger, actor=ACTOR)
        assert want in result.warnings and result.changed, result.warnings
        # repaired: the year passes its check again
        from pipeline.yearend.checks import check_year

        with open_ledger(config) as ledger:
            report = check_year(config, YEAR, ledger=ledger, actor=ACTOR, scan=False)
        assert report.ok, [(i.code, [f.message for f in i.failures][:3]) for i in report.failed]
    elif row.command == "handover":
        from pipeline.yearend.package import HandoverRefused, build_handover

        with open_ledger(config) as ledger, pytest.raises(HandoverRefused) as e:
            build_handover(config, YEAR, tmp_path / "pkg", ledger=ledger, actor=ACTOR, make_pdf=False)
        item = next(i for i in e.value.report.items if i.code == row.where)
        assert want in [f.message for f in item.failures]
        assert not (tmp_path / "pkg").exists()
    elif row.command == "void":
        from pipeline.errors import LedgerError

        with open_ledger(config) as ledger, pytest.raises(LedgerError) as e:
            ledger.void(values["ref"], reason="发错了", actor=ACTOR)
        assert str(e.value) == want
    else:
        raise AssertionError(row.command)


# --- the untampered year, and repairs -------------------------------------------------------------------

def test_the_untampered_year_passes_and_every_record_is_anchored(year, tmp_path):
    from pipeline.archive import ArchiveStore, check_anchor, record_anchor
    from pipeline.yearend.checks import check_year

    cfg = year.copy(tmp_path, "done")
    config = load_config(cfg)
    with open_ledger(config) as ledger:
        report = check_year(config, YEAR, ledger=ledger, actor=ACTOR, scan=False)
        anchors = ledger.anchors()
        assert report.ok, [(i.code, [f.message for f in i.failures][:3]) for i in report.failed]
        for rec in ArchiveStore(config).records(YEAR):
            mine = anchors[rec.reference]
            # filed, then the year end's new version (anchored before the swap)
            assert [a.reason for a in mine] == ["归档", "整理归档"]
            assert mine[-1].anchor["files"] == record_anchor(rec.path)["files"]
            assert check_anchor(rec, mine).state == "一致"
        assert [f.ok for f in run_doctor(cfg) if f.area == "档案"] == [True] * 7


def test_doctor_repair_anchors_an_unanchored_record_with_an_event_that_says_so(year, tmp_path):
    cfg = year.copy(tmp_path, "raw")
    config = load_config(cfg)
    ref = t_unanchored(config)["ref"]
    r = run_cli(cfg, "doctor", "--repair", "--json")
    assert any(f["item"] == "补锚定 1 件" and ref in f["detail"] for f in json.loads(r.output)), r.output
    with open_ledger(config) as ledger:
        (a,) = ledger.anchors(ref)[ref]
    assert a.reason == "补锚定" and "此前的改动无法由锚定发现" in a.anchor["note"]
    findings = run_doctor(cfg)
    assert next(f for f in findings if f.item.startswith("记录与登记簿锚定一致")).ok is True


def test_doctor_repair_refuses_to_anchor_a_record_that_does_not_match_the_register(year, tmp_path):
    cfg = year.copy(tmp_path, "raw")
    config = load_config(cfg)
    ref = t_unanchored(config)["ref"]
    rec = record(config)
    forge(config, rec, meta={"题名": "关于另一件事情的通知"})
    r = run_cli(cfg, "doctor", "--repair", "--json")
    assert r.exit_code == 1
    refused = next(f for f in json.loads(r.output) if f["item"] == "不能补锚定 1 件")
    assert f"{ref}：元数据的题名“关于另一件事情的通知”与发文登记簿的" in refused["detail"] and refused["ok"] is False
    with open_ledger(config) as ledger:
        assert ledger.anchors(ref) == {}


def test_archive_anchors_a_year_arranged_before_anchors_existed(year, tmp_path):
    """An instance upgraded after its year end: records and 目录 without anchors. `archive` anchors
    the records as they are (补锚定) and rewrites the 目录 from them, then the check passes."""
    from pipeline.yearend.arrange import archive_year
    from pipeline.yearend.checks import check_year

    cfg = year.copy(tmp_path, "done")
    config = load_config(cfg)
    from pipeline.ledger import ledger_path

    db = sqlite3.connect(ledger_path(config))
    db.executescript("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;")
    db.execute("UPDATE events SET detail = json_remove(detail, '$.anchor') WHERE event = 'filed'")
    db.execute("DELETE FROM events WHERE event = 'anchored'")
    db.commit()
    db.close()
    _rechain(config)
    with open_ledger(config) as ledger:
        result = archive_year(config, YEAR, ledger=ledger, actor=ACTOR)
        assert any(w.startswith(f"{len(DRAFTS)} 件在锚定启用前归档，已按现有内容补锚定") for w in result.warnings)
        assert result.outputs and result.changed
        report = check_year(config, YEAR, ledger=ledger, actor=ACTOR, scan=False)
    assert report.ok, [(i.code, [f.message for f in i.failures][:3]) for i in report.failed]


def test_an_interrupted_year_end_swap_is_named_and_archive_finishes_it(year, tmp_path, monkeypatch):
    """Killed after the new version was anchored and before the swap: the record is the filed
    version, the ledger's latest anchor the stamped one. check names it; archive finishes it."""
    import pipeline.archive as archive_mod
    from pipeline.yearend.arrange import archive_year
    from pipeline.yearend.checks import check_year

    cfg = year.copy(tmp_path, "raw")
    config = load_config(cfg)

    class Killed(Exception):
        pass

    real = archive_mod.os.rename
    calls = []

    def rename(a, b):
        if Path(b).name.startswith(".old-"):
            calls.append(a)
            raise Killed()
        return real(a, b)

    monkeypatch.setattr(archive_mod.os, "rename", rename)
    with open_ledger(config) as ledger, pytest.raises(Killed):
        archive_year(config, YEAR, ledger=ledger, actor=ACTOR, make_pdf=False)
    monkeypatch.undo()
    ref = Path(calls[0]).name
    with open_ledger(config) as ledger:
        failures = {i.code: i.failures for i in check_year(config, YEAR, ledger=ledger, actor=ACTOR, scan=False).items}
        assert any(f.message.startswith("整理归档中断：记录仍是事件 #") and f.message.endswith("请重新运行 gongwen archive")
                   for f in failures["GD-ZS-1-1"]), failures["GD-ZS-1-1"]
        archive_year(config, YEAR, ledger=ledger, actor=ACTOR)
        report = check_year(config, YEAR, ledger=ledger, actor=ACTOR, scan=False)
    # What the killed swap left behind is the one thing left; the doctor's repair removes it.
    assert [(i.code, [f.message for f in i.failures]) for i in report.failed] == [("GD-AQ-3", ["中断归档遗留的临时文件夹"])]
    r = run_cli(cfg, "doctor", "--repair", "--json")
    assert any(f["item"] == "清除中断归档遗留的临时文件夹" for f in json.loads(r.output)), r.output
    with open_ledger(config) as ledger:
        report = check_year(config, YEAR, ledger=ledger, actor=ACTOR, scan=False)
        assert report.ok, [(i.code, [f.message for f in i.failures][:3]) for i in report.failed]
        assert [a.reason for a in ledger.anchors(ref)[ref]] == ["归档", "整理归档", "整理归档"]


def test_doctor_is_read_only_on_a_fresh_instance(tmp_path):
    """`gongwen doctor` creates nothing: no register, no index, no folder (it did create
    ledger.sqlite3 through open_services)."""
    from pipeline.cli import cli

    inst = tmp_path / "inst"
    r = CliRunner().invoke(cli, ["init", str(inst)])
    assert r.exit_code == 0, r.output

    def tree():
        return {str(p.relative_to(inst)): (p.is_dir(), p.stat().st_size if p.is_file() else 0, p.stat().st_mtime_ns)
                for p in sorted(inst.rglob("*"))}

    before = tree()
    r = run_cli(inst / "config.yaml", "doctor")
    assert tree() == before, set(tree()) ^ set(before)
    assert not (inst / "archive" / "ledger.sqlite3").exists()


def test_doctor_without_repair_does_not_index_a_filed_document(year, tmp_path):
    """A document filed but not indexed (the index was down) is reported by the doctor, and indexed
    only by --repair (the doctor used to do it on every run, writing to the index and the register)."""
    from pipeline.errors import SearchError
    from pipeline.ledger import ledger_path
    from pipeline.process import open_services, process_draft

    cfg = year.copy(tmp_path, "raw")
    config = load_config(cfg)

    class Down:
        def add(self, docs):
            raise SearchError("索引被占用（模拟）")

        def close(self):
            pass

    draft = tmp_path / "珠政办发" / "late.md"
    draft.parent.mkdir()
    draft.write_text(draft_text(300, "珠政办发", "通知", "做好秋冬季防火工作"), encoding="utf-8")
    with open_services(config, "秘书组") as svc:
        svc._index = Down()
        o = process_draft(draft, svc, route=config.route_for_folder("珠政办发"), outbox=tmp_path / "outbox")
    assert o.status == "issued"

    def events():
        db = sqlite3.connect(ledger_path(config))
        try:
            return db.execute("SELECT count(*) FROM events").fetchone()[0]
        finally:
            db.close()

    before = events()
    findings = run_doctor(cfg)
    assert events() == before
    assert any(f.area == "索引" and f.ok is False and o.number in f.detail for f in findings), findings
    r = run_cli(cfg, "doctor", "--repair", "--json")
    assert any(f["item"] == "补编已归档未索引的文件" and o.number in f["detail"] for f in json.loads(r.output)), r.output
    with open_ledger(config) as ledger:
        assert ledger.document(o.number).stage == "indexed"
