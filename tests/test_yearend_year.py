"""Year-end archiving on a real year: 62 drafts of four series through the real pipeline (LibreOffice,
seal, PAdES signature, filing), one voided number and one unused reservation; then `archive` (twice),
`check`, `handover` and `check --package`, and each fault of issue 7 in its own copy of the year.

The year is built once per module (module scope = once per session: this is the only test file that
uses it) and copied for every test that damages it.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_instance
from tests.support.yearend import ACTOR, YEAR, copy_instance, draft_text, flip_byte, load_config, open_ledger, writable

pytestmark = pytest.mark.libreoffice

REPO = Path(__file__).resolve().parent.parent

# --- the drafts ---------------------------------------------------------------------------------

# (series/route folder, 文种, title subject, attachments, 主送)
_SUBJECTS = [
    "做好春季森林防火工作", "加强城区环境卫生整治", "开展安全生产大检查", "做好防汛抗旱工作",
    "推进政务公开工作", "加强食品安全监管", "开展全民健身活动", "做好征兵工作", "加强地质灾害防治",
    "做好高温天气防暑降温工作", "规范公务接待管理", "推进农村危房改造", "做好秋季农业生产",
    "加强校园周边治安管理", "开展节能宣传周活动", "做好困难群众冬季生活保障", "加强河道采砂管理",
    "推进社区网格化管理", "开展消防安全专项整治", "做好第三次全国农业普查准备工作",
]


def make_drafts(folder: Path) -> list[Path]:
    """62 drafts: 珠政发 18, 珠政办发 22, 珠政函 14, 纪要 8; with attachments, a follow-up 补充通知."""
    plan = []
    kinds_zf = ["通知", "通报", "意见", "决定", "批复", "请示", "报告"]
    for i in range(18):
        plan.append(("珠政发", kinds_zf[i % len(kinds_zf)]))
    kinds_bf = ["通知", "通报", "通知", "意见", "报告"]
    for i in range(22):
        plan.append(("珠政办发", kinds_bf[i % len(kinds_bf)]))
    for i in range(14):
        plan.append(("珠政函", "函" if i % 4 else "批复"))
    for _ in range(8):
        plan.append(("纪要", "纪要"))
    paths = []
    for i, (route, kind) in enumerate(plan):
        subject = _SUBJECTS[i % len(_SUBJECTS)] + ("" if i < len(_SUBJECTS) else f"（第{i // len(_SUBJECTS) + 1}批）")
        attach = []
        if kind in ("通知", "函") and i % 3 == 0:
            attach = [f"{subject}任务分工表"]
        if kind == "通知" and i % 5 == 0:
            attach = [f"{subject}工作方案", f"{subject}联系人名单"]
        issue = sum(1 for r, _ in plan[:i + 1] if r == "纪要") if route == "纪要" else None
        text = draft_text(i, route, kind, subject, attachments=attach, issue=issue)
        p = folder / route / f"{i:02d}-{kind}.md"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    # A 补充通知 on the matter of draft 0 (same subject, later date): kept together with it.
    p = folder / "珠政发" / "90-补充通知.md"
    p.write_text(draft_text(40, "珠政发", "通知", _SUBJECTS[0], follow_up=True), encoding="utf-8")
    paths.append(p)
    return paths


# --- building the year --------------------------------------------------------------------------


def build_year(root: Path) -> Path:
    """An instance in ``root`` holding YEAR: the drafts through process_draft, a voided number in the
    middle of 珠政发 and an unused reservation in 珠政办发. Returns the config path."""
    from pipeline.config import load
    from pipeline.drafts import read_draft
    from pipeline.process import open_services, process_draft
    from pipeline.sign import init_demo_pki

    cfg_path = write_instance(root / "instance")
    config = load(cfg_path)
    init_demo_pki(config)
    drafts = make_drafts(root / "drafts")
    half = len(drafts) // 2
    with open_services(config, "秘书组") as svc:
        for n, p in enumerate(drafts):
            if n == half:
                extra = root / "drafts" / "珠政发" / "99-作废.md"
                extra.write_text(draft_text(99, "珠政发", "通知", "调整区政府领导工作分工"), encoding="utf-8")
                d = read_draft(extra, config, config.route_for_folder("珠政发"))
                alloc = svc.ledger.allocate(d, actor="秘书组")
                svc.ledger.void(alloc.number.reference, reason="领导分工调整另行发文，本号作废", actor="秘书组")
                svc.ledger.reserve("珠政办发", YEAR, actor="秘书组", note="留给区长办公会议纪要")
            o = process_draft(p, svc, route=config.route_for_folder(p.parent.name), outbox=root / "outbox")
            assert o.status == "issued", (p.name, [str(x) for x in o.problems])
    return cfg_path


def file_digests(root: Path) -> dict[str, str]:
    from pipeline.hashing import digest_file

    return {str(p.relative_to(root)): digest_file(p, ("sha256",))["sha256"]
            for p in sorted(root.rglob("*")) if p.is_file() and "ledger" not in p.name}


class Year:
    """The shared year: ``raw`` (filed, not yet arranged) and ``done`` (arranged) instances."""

    def __init__(self, root: Path):
        from pipeline.yearend.arrange import archive_year

        self.root = root
        build = build_year(root / "build")
        self.raw = root / "raw"
        copy_instance(build.parent, self.raw)
        self.done = build.parent
        self.cfg = build
        config = load_config(build)
        with open_ledger(config) as ledger:
            self.first = archive_year(config, YEAR, ledger=ledger, actor=ACTOR)
            archive = config.archive_dir
            self.before_second = file_digests(archive / str(YEAR)) | file_digests(archive / "yearend")
            self.second = archive_year(config, YEAR, ledger=ledger, actor=ACTOR)
            self.after_second = file_digests(archive / str(YEAR)) | file_digests(archive / "yearend")

    def copy(self, tmp_path: Path, name: str = "copy") -> Path:
        return copy_instance(self.done, tmp_path / name)


@pytest.fixture(scope="module")
def year(tmp_path_factory) -> Year:
    return Year(tmp_path_factory.mktemp("yearend"))


def check(cfg_path: Path, year_: int = YEAR):
    from pipeline.yearend.checks import check_year

    config = load_config(cfg_path)
    with open_ledger(config) as ledger:
        return check_year(config, year_, ledger=ledger, actor=ACTOR)


def failures_of(report, code: str):
    item = next(i for i in report.items if i.code == code)
    return item, list(item.failures)


# --- the year as built ----------------------------------------------------------------------------

def test_the_year_is_varied_and_complete(year):
    from pipeline.archive import ArchiveStore

    config = load_config(year.cfg)
    recs = list(ArchiveStore(config).records(YEAR))
    assert len(recs) >= 60
    assert len({r.meta["机关代字"] for r in recs}) == 4
    assert len({r.meta["文种"] for r in recs}) >= 8
    assert {r.meta["保管期限"] for r in recs} == {"Y", "D30", "D10"}
    assert sum(bool(r.meta["附件"]) for r in recs) >= 5
    assert any(len(r.meta["附件"]) == 2 for r in recs)
    with open_ledger(config) as ledger:
        docs = ledger.documents(YEAR)
    assert sum(d.stage == "voided" for d in docs) == 1 and sum(d.stage == "reserved" for d in docs) == 1


def test_archive_gives_codes_per_class_and_a_second_run_changes_nothing(year):
    from pipeline.archive import ArchiveStore
    from pipeline.yearend.common import ARCHIVE_CODE_RE, class_of

    first, second = year.first, year.second
    assert len(first.newly) >= 60 and len(first.stamped) == len(first.newly) == len(first.registered)
    assert first.late == () and first.outputs
    assert len(first.indexed) == len(first.newly)                  # the 档号 reached the search index
    assert not second.changed and second.newly == second.stamped == second.registered == second.outputs == ()
    assert second.indexed == ()
    assert year.after_second == year.before_second          # not one byte of records, 目录 or plan changed
    config = load_config(year.cfg)
    recs = list(ArchiveStore(config).records(YEAR))
    by_class: dict = {}
    for r in recs:
        assert ARCHIVE_CODE_RE.match(r.meta["档号"]) and r.meta["档号"].endswith("-" + r.meta["件号"])
        by_class.setdefault(class_of(r.meta, config), []).append(int(r.meta["件号"]))
    assert len(by_class) == 3
    for key, nums in by_class.items():
        assert sorted(nums) == list(range(1, len(nums) + 1)), key      # 件号 restart at 0001 per class
    with open_ledger(config) as ledger:
        codes = {d.reference: d.archive_code for d in ledger.documents(YEAR) if d.stage == "indexed"}
        archived_events = [e for e in ledger.events() if e.event == "archived"]
    assert codes == {r.reference: r.meta["档号"] for r in recs}
    assert len(archived_events) == len(recs)                        # one per 件, none from the second run
    # The summary classes and the 目录 files.
    assert sum(s.items for s in second.classes) == len(recs)
    ydir = config.archive_dir / "yearend" / str(YEAR)
    for s in second.classes:
        for name in (f"归档文件目录-{s.key.stem}.xlsx", f"归档文件目录-{s.key.stem}.pdf", f"备考表-{s.key.stem}.pdf"):
            assert (ydir / name).is_file(), name


def test_a_search_for_the_archive_code_finds_the_document(year):
    from pipeline.archive import ArchiveStore
    from pipeline.search import health, open_index

    config = load_config(year.cfg)
    recs = list(ArchiveStore(config).records(YEAR))
    with open_index(config) as index:
        assert index.archive_codes(YEAR) == {r.reference: r.meta["档号"] for r in recs}
        for r in recs[::20]:
            hits = index.search(r.meta["档号"]).hits
            assert [h.id for h in hits] == [r.reference] and hits[0].archive_code == r.meta["档号"]
    assert all(f.ok for f in health(config)), [f for f in health(config) if not f.ok]


def test_same_matter_is_kept_together_in_the_order(year):
    from pipeline.archive import ArchiveStore

    config = load_config(year.cfg)
    recs = {r.meta["题名"]: r for r in ArchiveStore(config).records(YEAR)}
    first = recs[f"珠晖区人民政府关于{_SUBJECTS[0]}的通知"]
    follow = recs[f"珠晖区人民政府关于{_SUBJECTS[0]}的补充通知"]
    assert follow.meta["日期"] > "2015-07"                       # half a year later …
    assert int(follow.meta["件号"]) == int(first.meta["件号"]) + 1   # … yet right after the 通知
    # Otherwise by date: the 件号 order of a class follows 成文日期 outside that pair.
    same = sorted((r for r in recs.values() if r.meta["保管期限"] == "D30"), key=lambda r: int(r.meta["件号"]))
    dates = [r.meta["日期"] for r in same]
    assert dates == sorted(dates)


def test_the_catalogue_lists_every_item_in_code_order(year):
    from openpyxl import load_workbook

    config = load_config(year.cfg)
    plan = json.loads((config.archive_dir / "yearend" / str(YEAR) / "整理方案.json").read_text(encoding="utf-8"))
    for cls in plan["类别"]:
        name = {"Y": "永久", "D30": "30年", "D10": "10年"}[cls["保管期限"]]
        wb = load_workbook(config.archive_dir / "yearend" / str(YEAR) / f"归档文件目录-{YEAR}-{name}-办公室.xlsx")
        ws = wb["目录"]
        header = [c.value for c in ws[3]]
        assert header == ["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注"]
        rows = [r for r in ws.iter_rows(min_row=4, values_only=True) if r[1]]
        assert [r[1] for r in rows] == [e["档号"] for e in cls["件"]]
        assert all(len(r[5]) == 8 and r[5].startswith(str(YEAR)) for r in rows)   # 日期 YYYYMMDD
        assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$3:$3"
        cover = {r[0]: r[1] for r in wb["封面"].iter_rows(min_row=3, values_only=True) if r[0]}
        assert cover["全宗号"] == "Z109" and cover["保管期限"] == name and cover["机构（问题）"] == "办公室"
    pdf = config.archive_dir / "yearend" / str(YEAR) / f"归档文件目录-{YEAR}-永久-办公室.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "归档文件目录" in text and "Z109-WS·2015-Y-BGS-0001" in text


def _stamp_annotation(pdf: Path):
    import pikepdf

    with pikepdf.open(pdf) as doc:
        page = doc.pages[0]
        box = [float(v) for v in page.MediaBox]
        for a in page.get("/Annots", []):
            v = a.get("/V")
            if a.get("/FT") == "/Sig" and v is not None and str(v.get("/Reason", "")).startswith("归档章"):
                return [float(x) for x in a.Rect], box, str(v.Reason)
    return None, box, None


def test_archive_stamp_is_in_place_and_the_signature_still_validates(year, tmp_path):
    import pdfplumber
    from PIL import Image

    from pipeline.archive import ArchiveStore
    from pipeline.pdfcheck import inspect_pdf
    from pipeline.sign import verify_pdf
    from pipeline.yearend.archstamp import is_archive_stamp

    config = load_config(year.cfg)
    recs = list(ArchiveStore(config).records(YEAR))
    sample = {}
    for r in recs:                                   # one of each series (文件, 信函 and 纪要 formats)
        sample.setdefault(r.meta["机关代字"], r)
    k = 72 / 25.4
    for r in sample.values():
        pdf = r.file("正本")
        rect, box, reason = _stamp_annotation(pdf)
        assert rect is not None and reason == f"归档章 {r.meta['档号']}"
        x0, y0, x1, y1 = rect
        assert (x1 - x0) / k == pytest.approx(45, abs=0.1) and (y1 - y0) / k == pytest.approx(16, abs=0.1)
        assert (x0 + x1) / 2 == pytest.approx((box[0] + box[2]) / 2, abs=0.5)   # centred on the page
        assert box[3] - y1 >= 5 * k - 0.1 and y0 >= box[3] - 37 * k               # in the blank top margin
        with pdfplumber.open(pdf) as doc:
            top_of_content = min(c["top"] for c in doc.pages[0].chars)
        assert box[3] - y0 < top_of_content                                          # above every character
        # The office's signature still validates; only a signature (the 归档章) came after it.
        sigs = verify_pdf(pdf, config)
        assert len(sigs) == 2
        assert sigs[0].intact and sigs[0].valid and sigs[0].trusted and not sigs[0].covers_whole_file
        assert sigs[1].ok and sigs[1].covers_whole_file                              # the 归档章 covers the file
        assert [v.ok for v in sigs] == [True, True]
        assert sigs[0].modification == "FORM_FILLING" and sigs[0].modifications_ok
        assert is_archive_stamp(sigs[1]) and not is_archive_stamp(sigs[0])
        facts = inspect_pdf(pdf)
        assert facts.pdfa == "2B" and facts.all_fonts_embedded and facts.has_output_intent
        assert facts.pages == r.meta["页数"]
    # Look at one page 1 (60 dpi): red frame and black values inside the stamp, no red above the text
    # elsewhere in the top band.
    r = sample["珠政发"]
    png = tmp_path / "page1"
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(r.file("正本")), str(png)], check=True)
    shown = next(tmp_path.glob("page1*.png"))
    if os.environ.get("YEAREND_PNG_OUT"):          # to look at it by eye
        shutil.copy(shown, Path(os.environ["YEAREND_PNG_OUT"]) / "yearend-page1.png")
    img = Image.open(shown).convert("RGB")
    rect, box, _ = _stamp_annotation(r.file("正本"))
    s = img.width / (box[2] - box[0])
    left, right = int(rect[0] * s), int(rect[2] * s)
    top, bottom = int((box[3] - rect[3]) * s), int((box[3] - rect[1]) * s)
    px = img.load()
    inside = [px[x, y] for x in range(left, right) for y in range(top, bottom)]
    red = sum(1 for p in inside if p[0] > 180 and p[1] < 110 and p[2] < 110)
    dark = sum(1 for p in inside if max(p) < 100)
    assert red > 40 and dark > 20
    outside = [px[x, y] for x in range(img.width) for y in range(0, top) if not left <= x < right]
    assert not any(p[0] > 180 and p[1] < 110 and p[2] < 110 for p in outside)


def test_check_passes_item_by_item(year):
    report = check(year.cfg)
    bad = [(i.code, [f.message for f in i.failures][:3]) for i in report.items if i.ok is False]
    assert report.ok, bad
    for item in report.items:
        if item.code == "GD-AQ-1":
            # Only ClamAV can pass it; without it the item is 未检测, never 通过.
            assert item.ok is (None if not shutil.which("clamscan") and not shutil.which("clamdscan") else True)
            continue
        assert item.ok is True and item.checked > 0, item.code
    assert report.counts["件数"] >= 60
    if report.skipped:
        assert report.verdict.startswith("通过（另有") and "病毒检测" in report.verdict


def test_check_command_exit_status_report_files_and_empty_year(year, tmp_path):
    out = tmp_path / "检测报告.pdf"
    env = {**os.environ, "GONGWEN_ACTOR": ACTOR}
    run = subprocess.run([sys.executable, "-m", "pipeline", "--config", str(year.cfg), "check", str(YEAR),
                          "--report", str(out)], capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "结论：通过" in run.stdout and out.is_file()
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert "电子档案四性检测报告" in text and "GD-ZS-1-1" in text
    run = subprocess.run([sys.executable, "-m", "pipeline", "--config", str(year.cfg), "check", "2099", "--json"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 1
    data = json.loads(run.stdout)
    assert data["通过"] is False and data["项目"][0]["编号"] == "GD-0" and data["项目"][0]["通过"] is False
    assert "没有任何文件" in data["项目"][0]["问题"][0]["问题"]


# --- the handover package ------------------------------------------------------------------------

def test_handover_package_validates_with_gongwen_and_bagit(year, tmp_path):
    import bagit

    from pipeline.yearend.eep import read_eep, validate
    from pipeline.yearend.package import build_handover, check_package

    cfg = year.copy(tmp_path)
    config = load_config(cfg)
    dest = tmp_path / "移交包"
    with open_ledger(config) as ledger:
        result = build_handover(config, YEAR, dest, ledger=ledger, actor=ACTOR)
    assert result.items >= 60 and not result.forced and result.report.ok
    bagit.Bag(str(dest)).validate()
    run = subprocess.run([sys.executable, "-m", "bagit", "--validate", str(dest)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-1000:]
    assert "manifest-sm3.txt" in (dest / "tagmanifest-sha256.txt").read_text(encoding="utf-8")
    folders = sorted((dest / "data" / "件").iterdir())
    assert len(folders) == result.items
    for f in folders:
        xml = (f / "封装包.xml").read_bytes()
        assert validate(xml) == [], f.name
        eep = read_eep(xml)
        assert eep.code == f.name and {x.name for x in eep.files} | {"封装包.xml"} == {p.name for p in f.iterdir()}
    payload = [p for p in (dest / "data").rglob("*") if p.is_file()]
    lines = (dest / "manifest-sm3.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(payload)
    form = json.loads((dest / "data" / "移交登记表.json").read_text(encoding="utf-8"))
    assert form["items"] == result.items and form["forced"] == "" and "SM3" in form["digest"]
    gb = form["volume"].split(" GB")[0]
    assert len(gb.split(".")[1]) == 3 and float(gb) == round(result.bytes / 1e9, 3)
    for name in ("移交登记表.docx", "移交登记表.pdf", f"检测报告/检测报告-{YEAR}.pdf", "说明.txt", "schema/eep.xsd"):
        assert (dest / "data" / name).is_file(), name
    info = (dest / "bag-info.txt").read_text(encoding="utf-8")
    assert "Gongwen-Forced: no" in info and "Gongwen-Check: 通过" in info
    # The receiving side: no archive needed; only the package (and its certificates).
    report = check_package(dest, actor="接收人")
    assert report.ok, [(i.code, [f.message for f in i.failures][:2]) for i in report.failed]
    assert all(i.ok is not False for i in report.items)
    # One changed byte in one 正本 is caught by both manifests and the signature, naming the file.
    damaged = tmp_path / "damaged"
    shutil.copytree(dest, damaged)
    target = sorted((damaged / "data" / "件").iterdir())[3] / "正本.pdf"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    # The receiving side's command, without the sender's config: exit 1, both manifests name the file.
    run = subprocess.run([sys.executable, "-m", "pipeline", "check", "--package", str(damaged), "--json"],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 1, run.stderr[-1000:]
    bad = json.loads(run.stdout)
    assert bad["通过"] is False
    items = {i["编号"]: i for i in bad["项目"]}
    rel = f"data/件/{target.parent.name}/正本.pdf"
    assert items["YJ-ZS-1-1"]["通过"] is False
    assert any(rel in (f["文件"] + f["问题"]) for f in items["YJ-ZS-1-1"]["问题"])
    assert any(f["文件"] == rel and "SM3" in f["问题"] for f in items["YJ-ZS-1-2"]["问题"])


def test_handover_refuses_a_failing_year_unless_forced(year, tmp_path):
    from pipeline.archive import ArchiveStore
    from pipeline.yearend.package import HandoverRefused, build_handover, check_package

    cfg = year.copy(tmp_path)
    config = load_config(cfg)
    store = ArchiveStore(config)
    rec = next(store.records(YEAR))
    store.update_record(rec, meta_updates={"题名": "关于一件并不存在的事情的通知"})
    dest = tmp_path / "pkg"
    with open_ledger(config) as ledger:
        with pytest.raises(HandoverRefused) as e:
            build_handover(config, YEAR, dest, ledger=ledger, actor=ACTOR)
        assert "GD-ZS-3" in str(e.value) and not dest.exists()
        result = build_handover(config, YEAR, dest, ledger=ledger, actor=ACTOR, force=True, make_pdf=False,
                                report=e.value.report)
    assert result.forced
    assert "Gongwen-Forced: yes" in (dest / "bag-info.txt").read_text(encoding="utf-8")
    form = json.loads((dest / "data" / "移交登记表.json").read_text(encoding="utf-8"))
    assert "强制生成" in form["forced"] and form["accuracy"].startswith("未通过")
    report = check_package(dest, actor="接收人")
    item, fails = failures_of(report, "YJ-ZS-0")
    assert item.ok is False and "强制生成" in fails[0].message
    # An existing, non-empty destination is never overwritten.
    with open_ledger(config) as ledger, pytest.raises(Exception, match="已存在且不为空"):
        build_handover(config, YEAR, dest, ledger=ledger, actor=ACTOR, force=True, make_pdf=False)


# --- each fault on its own ------------------------------------------------------------------------

def _record(config, series: str = "珠政办发", *, with_attachment: bool = False):
    from pipeline.archive import ArchiveStore

    for r in ArchiveStore(config).records(YEAR):
        if r.meta["机关代字"] == series and (bool(r.meta["附件"]) or not with_attachment):
            return r
    raise AssertionError("no such record")


def _flip_byte(config):
    r = _record(config)
    flip_byte(r.file("正本"))
    return r.meta["档号"], "正本.pdf", ["GD-ZS-1-1"], "摘要不符"


def _delete_file(config):
    r = _record(config)
    writable(r.path / "定稿.docx").unlink()
    return r.meta["档号"], "定稿.docx", ["GD-WZ-3-1", "GD-ZS-1-1"], "缺失"


def _remove_register_row(config):
    from pipeline.ledger import ledger_path

    db = sqlite3.connect(ledger_path(config))
    row = db.execute("SELECT reference FROM documents WHERE series = '珠政发' AND seq = 3").fetchone()
    db.execute("DELETE FROM documents WHERE series = '珠政发' AND seq = 3")
    db.commit()
    db.close()
    return row[0], None, ["GD-WZ-2-4"], "登记簿"


def _drop_attachment(config):
    import pikepdf

    from pipeline.archive import ArchiveStore

    r = _record(config, "珠政发", with_attachment=True)
    src = r.file("正本")
    out = Path(str(config.work_dir)) / "no-attachment.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    with pikepdf.open(src) as pdf:
        first_attachment = next(i for i in range(1, len(pdf.pages))
                                if "附件" in (subprocess.run(["pdftotext", "-f", str(i + 1), "-l", str(i + 1), str(src), "-"],
                                                             capture_output=True, text=True).stdout.strip()[:8]))
        del pdf.pages[first_attachment:]
        pages = len(pdf.pages)
        pdf.save(out)
    # Re-filed properly (digests, size, 页数 recomputed) — only the attachment itself is missing.
    ArchiveStore(config).update_record(r, replace={"正本.pdf": out}, meta_updates={"页数": pages})
    return r.meta["档号"], "正本.pdf", ["GD-WZ-3-2"], "附件缺失"


def _not_pdfa(config):
    import pikepdf

    r = _record(config)
    pdf = writable(r.file("正本"))
    with pikepdf.open(pdf, allow_overwriting_input=True) as doc:
        del doc.Root.Metadata
        del doc.Root.OutputIntents
        doc.save(pdf)
    return r.meta["档号"], "正本.pdf", ["GD-KY-2"], "未声明 PDF/A"


def _encrypted(config):
    import pikepdf

    r = _record(config)
    pdf = writable(r.file("正本"))
    with pikepdf.open(pdf, allow_overwriting_input=True) as doc:
        doc.save(pdf, encryption=pikepdf.Encryption(owner="owner-secret", user="", R=6))
    return r.meta["档号"], "正本.pdf", ["GD-KY-4"], "已加密"


def _javascript(config):
    import pikepdf

    r = _record(config)
    pdf = writable(r.file("正本"))
    with pikepdf.open(pdf, allow_overwriting_input=True) as doc:
        doc.Root.OpenAction = doc.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)")))
        doc.save(pdf)
    return r.meta["档号"], "正本.pdf", ["GD-AQ-2-2"], "JavaScript"


def _wrong_title(config):
    from pipeline.archive import ArchiveStore

    r = _record(config)
    ArchiveStore(config).update_record(r, meta_updates={"题名": "珠晖区人民政府办公室关于另一件事情的通知"})
    return r.meta["档号"], "正本.pdf", ["GD-ZS-3"], "题名"


def _break_chain(config):
    from pipeline.ledger import ledger_path

    db = sqlite3.connect(ledger_path(config))
    db.execute("DROP TRIGGER events_no_update")
    db.execute("UPDATE events SET actor = '某人' WHERE id = 7")
    db.commit()
    db.close()
    return "登记簿", None, ["GD-WZ-5"], "事件 #7"


FAULTS = {"changed byte": _flip_byte, "deleted file": _delete_file, "missing number": _remove_register_row,
          "missing attachment": _drop_attachment, "not PDF/A": _not_pdfa, "encrypted": _encrypted,
          "javascript": _javascript, "wrong title": _wrong_title, "broken chain": _break_chain}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_fault_is_detected_and_named(year, tmp_path, fault):
    cfg = year.copy(tmp_path)
    ident, file, codes, words = FAULTS[fault](load_config(cfg))
    report = check(cfg)
    assert not report.ok
    for code in codes:
        item, fails = failures_of(report, code)
        assert item.ok is False, (fault, code)
        named = [f for f in fails if f.ident == ident and (file is None or f.file == file)]
        assert named, (fault, code, [(f.ident, f.file, f.message) for f in fails][:5])
    assert any(words in f.message for code in codes for f in failures_of(report, code)[1]), fault


def test_an_empty_year_fails(year):
    report = check(year.cfg, 2099)
    assert not report.ok and report.items[0].code == "GD-0" and report.items[0].ok is False
    assert report.counts["件数"] == 0


# --- late filing and resuming ------------------------------------------------------------------------

def test_a_document_filed_late_goes_to_the_end_of_its_class(year, tmp_path):
    from pipeline.archive import ArchiveStore
    from pipeline.process import open_services, process_draft
    from pipeline.yearend.arrange import archive_year

    cfg = year.copy(tmp_path)
    config = load_config(cfg)
    before = {r.reference: r.meta["档号"] for r in ArchiveStore(config).records(YEAR)}
    late = tmp_path / "drafts" / "珠政办发" / "late.md"
    late.parent.mkdir(parents=True)
    # Dated in March: by date it would sit early in its class, but the class is already arranged.
    late.write_text(draft_text(10, "珠政办发", "通知", "做好春季植树造林工作"), encoding="utf-8")
    with open_services(config, "秘书组") as svc:
        out = process_draft(late, svc, route=config.route_for_folder("珠政办发"), outbox=tmp_path / "outbox")
    assert out.status == "issued", out.problems
    with open_ledger(config) as ledger:
        result = archive_year(config, YEAR, ledger=ledger, actor=ACTOR, make_pdf=False)
    assert result.newly == result.late == (out.number,)
    recs = {r.reference: r for r in ArchiveStore(config).records(YEAR)}
    assert {ref: recs[ref].meta["档号"] for ref in before} == before          # nobody else moved
    new = recs[out.number]
    same_class = [r for r in recs.values() if r.meta["保管期限"] == new.meta["保管期限"]]
    assert int(new.meta["件号"]) == len(same_class)                           # the last of its class
    assert new.meta["补归档"] and "补归档" in new.meta["备注"]
    plan = json.loads((config.archive_dir / "yearend" / str(YEAR) / "整理方案.json").read_text(encoding="utf-8"))
    entry = [e for c in plan["类别"] for e in c["件"] if e["文件编号"] == out.number][0]
    assert entry["补归档"] and "补归档" in entry["备注"]


class _Crash(Exception):
    pass


def test_an_interrupted_archive_resumes_to_the_same_arrangement(year, tmp_path):
    from pipeline.archive import ArchiveStore
    from pipeline.yearend.arrange import archive_year

    cfg = copy_instance(year.raw, tmp_path / "raw")
    config = load_config(cfg)

    def crash_after(n):
        def progress(done, total, what):
            if done >= n:
                raise _Crash(what)
        return progress

    with open_ledger(config) as ledger:
        with pytest.raises(_Crash):
            archive_year(config, YEAR, ledger=ledger, actor=ACTOR, progress=crash_after(20), make_pdf=False)
        partly = [r for r in ArchiveStore(config).records(YEAR) if r.meta.get("档号")]
        assert len(partly) == 20
        result = archive_year(config, YEAR, ledger=ledger, actor=ACTOR, make_pdf=False)
    assert result.late == () and result.newly == () and len(result.stamped) == len(list(ArchiveStore(config).records(YEAR))) - 20
    done = {r.reference: r.meta["档号"] for r in ArchiveStore(load_config(year.cfg)).records(YEAR)}
    again = {r.reference: r.meta["档号"] for r in ArchiveStore(config).records(YEAR)}
    assert again == done
    # The search index caught up too, the 20 stamped before the crash included.
    from pipeline.search import open_index

    assert sorted(result.indexed) == sorted(again)
    with open_index(config) as index:
        assert index.archive_codes(YEAR) == again
