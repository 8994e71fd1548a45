"""Unit tests of the year-end pieces that need no LibreOffice: the 时间结合事由 order, the plan (件号,
档号, late filing), the 档号 rule, the report model's verdicts, attachment detection in page text, the
EEP XML against its schema, and the 归档章's drawing and placement on a generated page."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.archive import Record
from pipeline.errors import ArchiveError
from pipeline.yearend.arrange import extend_plan, order_records, subject_key
from pipeline.yearend.common import ARCHIVE_CODE_RE, ClassKey, archive_code, class_of
from pipeline.yearend.report_model import CheckItem, CheckReport, Failure, make_item, not_run


def rec(tmp_path: Path, ref: str, title: str, date: str, *, series="珠政发", seq=1, retention="Y",
        text: str = "", code: str | None = None) -> Record:
    folder = tmp_path / ref
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "全文.txt").write_text(text or title, encoding="utf-8")
    meta = {"文件编号": ref, "题名": title, "日期": date, "机关代字": series, "顺序号": seq, "年度": 2015,
            "保管期限": retention, "机构或问题": "办公室", "机构代码": "BGS", "档号": code, "页数": 2}
    return Record(folder, meta)


# --- the order within a class ------------------------------------------------------------------------

def test_subject_key_takes_off_issuer_guanyu_and_kind():
    assert subject_key("珠晖区人民政府关于做好防汛工作的通知") == "做好防汛工作"
    assert subject_key("珠晖区人民政府关于做好防汛工作的补充通知") == "做好防汛工作"
    assert subject_key("关于同意区房征中心调整内设机构的批复") == "同意区房征中心调整内设机构"
    assert subject_key("区政府第6次常务会议纪要") == "区政府第6次常务会议"
    assert subject_key(None) == ""


def test_order_is_by_date_with_same_matter_kept_together(tmp_path, config):
    a = rec(tmp_path, "珠政发〔2015〕1号", "珠晖区人民政府关于做好防汛工作的通知", "2015-03-01", seq=1)
    b = rec(tmp_path, "珠政发〔2015〕2号", "珠晖区人民政府关于加强食品安全监管的意见", "2015-04-01", seq=2)
    c = rec(tmp_path, "珠政发〔2015〕3号", "珠晖区人民政府关于做好防汛工作的补充通知", "2015-06-01", seq=3)
    d = rec(tmp_path, "珠政发〔2015〕4号", "珠晖区人民政府关于开展节能宣传的通知", "2015-02-01", seq=4)
    got = [r.reference for r in order_records([c, b, a, d], config)]
    assert got == ["珠政发〔2015〕4号", "珠政发〔2015〕1号", "珠政发〔2015〕3号", "珠政发〔2015〕2号"]


def test_a_cited_number_links_documents_of_different_titles(tmp_path, config):
    a = rec(tmp_path, "珠政发〔2015〕1号", "珠晖区人民政府关于调整征收补偿标准的请示", "2015-01-10", seq=1)
    b = rec(tmp_path, "珠政发〔2015〕2号", "珠晖区人民政府关于开展节能宣传的通知", "2015-02-01", seq=2)
    c = rec(tmp_path, "珠政发〔2015〕3号", "珠晖区人民政府关于征收工作进展情况的报告", "2015-05-01", seq=3,
            text="按照我区《关于调整征收补偿标准的请示》（珠政发〔2015〕1号）的安排，现将进展报告如下。")
    got = [r.reference for r in order_records([b, c, a], config)]
    assert got == ["珠政发〔2015〕1号", "珠政发〔2015〕3号", "珠政发〔2015〕2号"]


def test_ties_break_on_series_order_then_number(tmp_path, config):
    a = rec(tmp_path, "珠政办发〔2015〕1号", "关于甲事项办理的通知", "2015-03-01", series="珠政办发", seq=1)
    b = rec(tmp_path, "珠政发〔2015〕9号", "关于乙事项办理的通知", "2015-03-01", seq=9)
    c = rec(tmp_path, "珠政发〔2015〕2号", "关于丙事项办理的通知", "2015-03-01", seq=2)
    assert [r.reference for r in order_records([a, b, c], config)] == \
        ["珠政发〔2015〕2号", "珠政发〔2015〕9号", "珠政办发〔2015〕1号"]


# --- 档号 and the plan -----------------------------------------------------------------------------------

def test_archive_code_form_and_regex():
    key = ClassKey(2015, "Y", "BGS", "办公室")
    code = archive_code("Z109", key, 1)
    assert code == "Z109-WS\u00b72015-Y-BGS-0001"
    assert ARCHIVE_CODE_RE.match(code)
    assert archive_code("Z109", ClassKey(2015, "D30", None, None), 26) == "Z109-WS·2015-D30-0026"
    for bad in ("Z109-WS.2015-Y-BGS-0001", "Z109-WS·15-Y-BGS-0001", "Z109-WS·2015-D20-BGS-0001",
                "Z109-WS·2015-Y-BGS-1", "Z109-WS·２０１５-Y-BGS-0001"):
        assert not ARCHIVE_CODE_RE.match(bad), bad


def test_class_follows_the_scheme(config):
    meta = {"年度": 2015, "保管期限": "D10", "机构代码": "BGS", "机构或问题": "办公室"}
    assert class_of(meta, config) == ClassKey(2015, "D10", "BGS", "办公室")
    two_level = config.model_copy(update={"archive": config.archive.model_copy(update={"scheme": ("年度", "保管期限")})})
    assert class_of(meta, two_level) == ClassKey(2015, "D10", None, None)


def test_plan_numbers_each_class_from_0001_and_appends_late_documents(tmp_path, config):
    recs = [rec(tmp_path, f"珠政发〔2015〕{i}号", f"关于第{i}项工作安排的通知", f"2015-0{i}-01", seq=i,
                retention="Y" if i % 2 else "D30") for i in range(1, 7)]
    plan, newly, late, warnings = extend_plan(None, recs, config, actor="档案员", now="2016-01-10T09:00:00+08:00")
    assert len(newly) == 6 and late == [] and warnings == []
    codes = {e.reference: e.code for _, e in plan.entries()}
    assert codes["珠政发〔2015〕1号"] == "Z109-WS·2015-Y-BGS-0001"
    assert codes["珠政发〔2015〕5号"] == "Z109-WS·2015-Y-BGS-0003"
    assert codes["珠政发〔2015〕2号"] == "Z109-WS·2015-D30-BGS-0001"
    # Run again: nothing new.
    again, newly2, late2, _ = extend_plan(plan, recs, config, actor="档案员", now="2016-01-11T09:00:00+08:00")
    assert newly2 == [] and late2 == []
    # A document filed after the arrangement, dated early: still the end of its class, with a note.
    early = rec(tmp_path, "珠政发〔2015〕7号", "关于第7项工作安排的通知", "2015-01-02", seq=7)
    plan3, newly3, late3, _ = extend_plan(plan, recs + [early], config, actor="档案员",
                                          now="2016-02-01T09:00:00+08:00")
    assert newly3 == late3 == ["珠政发〔2015〕7号"]
    key, entry = plan3.by_reference()["珠政发〔2015〕7号"]
    assert entry.item_no == 4 and entry.code.endswith("-Y-BGS-0004") and entry.late
    assert "补归档" in entry.note and "2016-02-01" in entry.note


def test_plan_refuses_a_changed_scheme_and_a_moved_class(tmp_path, config):
    recs = [rec(tmp_path, "珠政发〔2015〕1号", "关于甲的通知", "2015-01-01")]
    plan, *_ = extend_plan(None, recs, config, actor="a", now="2016-01-01T00:00:00+08:00")
    two_level = config.model_copy(update={"archive": config.archive.model_copy(update={"scheme": ("年度", "保管期限")})})
    with pytest.raises(ArchiveError, match="分类方案"):
        extend_plan(plan, recs, two_level, actor="a", now="x")
    moved = [rec(tmp_path, "珠政发〔2015〕1号", "关于甲的通知", "2015-01-01", retention="D10")]
    with pytest.raises(ArchiveError, match="档号编定后不能改变"):
        extend_plan(plan, moved, config, actor="a", now="x")


def test_plan_adopts_a_code_already_in_the_metadata(tmp_path, config):
    a = rec(tmp_path, "珠政发〔2015〕1号", "关于甲的通知", "2015-01-01", code="Z109-WS·2015-Y-BGS-0005")
    b = rec(tmp_path, "珠政发〔2015〕2号", "关于乙的通知", "2015-02-01", seq=2)
    plan, newly, late, warnings = extend_plan(None, [a, b], config, actor="a", now="2016-01-01T00:00:00+08:00")
    assert plan.by_reference()["珠政发〔2015〕1号"][1].item_no == 5
    assert plan.by_reference()["珠政发〔2015〕2号"][1].item_no == 6 and late == ["珠政发〔2015〕2号"]
    assert warnings and "沿用" in warnings[0]


def test_plan_round_trips_through_json(tmp_path, config):
    from pipeline.yearend.arrange import Plan

    recs = [rec(tmp_path, f"珠政发〔2015〕{i}号", f"关于第{i}项的通知", "2015-03-01", seq=i) for i in (1, 2)]
    plan, *_ = extend_plan(None, recs, config, actor="a", now="2016-01-01T00:00:00+08:00")
    back = Plan.from_json(json.loads(json.dumps(plan.to_json(), ensure_ascii=False)))
    assert back.entries() == plan.entries() and back.scheme == plan.scheme
    with pytest.raises(ArchiveError, match="格式版本"):
        Plan.from_json({**plan.to_json(), "格式版本": "other/9"})


# --- the report model ----------------------------------------------------------------------------------

def test_an_item_that_checked_nothing_fails():
    item = make_item("GD-X", "完整性", "某项", 0, [])
    assert item.ok is False and "没有可检测的对象" in item.failures[0].message
    assert make_item("GD-X", "完整性", "某项", 3, []).ok is True
    assert make_item("GD-X", "完整性", "某项", 3, [Failure("a", "b", "c")]).ok is False


def test_not_run_is_never_a_pass_and_strict_makes_it_a_failure():
    items = (CheckItem("A", "真实性", "甲", True, 5), not_run("B", "安全性", "病毒检测", "未安装"))
    rep = CheckReport("归档", "x", 2015, "t0", "t1", "a", items)
    assert rep.ok and rep.skipped == (items[1],) and "未检测" in rep.verdict and rep.verdict != "通过"
    assert items[1].result == "未检测"
    strict = CheckReport("归档", "x", 2015, "t0", "t1", "a", items, strict=True)
    assert not strict.ok and strict.verdict.startswith("未通过")
    assert not CheckReport("归档", "x", 2015, "t0", "t1", "a", ()).ok
    assert rep.property_result("安全性").startswith("通过（病毒检测 未检测")
    data = rep.to_json()
    assert data["未检测项目"] == ["B"] and data["项目"][1]["通过"] is None


# --- attachments in the page text ----------------------------------------------------------------------

def test_attachment_pages_are_found_by_label_and_title():
    from pipeline.yearend.pdftext import missing_attachments

    pages = ["正文……附件：1.工作方案\n2.联系人名单\n— 1 —", "附件1\n工作方案\n一、……\n— 2 —",
             "附件2\n联系人名单\n……\n— 3 —"]
    assert missing_attachments(["工作方案", "联系人名单"], pages) == []
    assert missing_attachments(["工作方案", "联系人名单"], pages[:2]) == ["联系人名单"]
    # The name only in the 附件说明 on page 1 is not an attachment.
    assert missing_attachments(["任务分工表"], ["附件：任务分工表\n— 1 —"]) == ["任务分工表"]
    assert missing_attachments(["任务分工表"], ["正文", "— 2 —\n附件\n任务分工表\n内容"]) == []


# --- EEP ---------------------------------------------------------------------------------------------------

def _meta():
    return {"电子文件号": "1692f888-13bd-5da1-a203-219647df9b2b", "立档单位名称": "珠晖区人民政府办公室",
            "档号": "Z109-WS·2015-D10-BGS-0001", "全宗号": "Z109", "年度": 2015, "保管期限": "D10",
            "机构或问题": "办公室", "机构代码": "BGS", "件号": "0001", "题名": "关于商请协助开展调研的函",
            "文件编号": "珠政函〔2015〕1号", "印制文号": "珠政函〔2015〕1号", "责任者": "珠晖区人民政府",
            "日期": "2015-04-03", "文种": "函", "密级": "", "主送": "衡阳市民族宗教事务局", "签发人": [],
            "附件": ["调研提纲"], "页数": 2, "电子签名": {"签名规则": "PAdES", "签名结果": "有效"},
            "归档章": {"全宗号": "Z109", "年度": "2015", "件号": "0001", "机构": "办公室", "保管期限": "10年",
                      "页数": "2", "签名理由": "归档章 Z109-WS·2015-D10-BGS-0001"},
            "业务行为": [{"业务行为": "登记（编号）", "行为时间": "2015-04-03T09:00:00+08:00", "机构人员名称": "秘书组",
                          "行为描述": {"register": {"reference": "珠政函〔2015〕1号", "stage": "allocated",
                                                    "source": "/home/secretary/草稿.md"}}}]}


def test_eep_is_valid_against_its_schema_and_reads_back(config):
    from pipeline.yearend.eep import PackedFile, build_eep, read_eep, validate

    files = [PackedFile("正本", "正本.pdf", 1234, "PDF/A-2b", "LibreOffice", {"SM3": "a" * 64, "SHA-256": "b" * 64}),
             PackedFile("原稿", "原稿.md", 10, "Markdown", "", {"SM3": "c" * 64})]
    xml = build_eep(_meta(), files, config, folder="件/Z109-WS·2015-D10-BGS-0001", created="2016-01-10T09:00:00+08:00")
    assert validate(xml) == []
    back = read_eep(xml)
    assert back.code == "Z109-WS·2015-D10-BGS-0001" and back.pages == 2 and back.files == tuple(files)
    assert b"/home/secretary" not in xml          # no local paths of the office's machines
    broken = xml.replace("<题名>关于商请协助开展调研的函</题名>".encode(), b"")
    assert any("题名" in p for p in validate(broken))
    bad_code = xml.replace("Z109-WS·2015-D10-BGS-0001</档号>".encode(), "Z109-WS.2015-D10-BGS-1</档号>".encode())
    assert validate(bad_code)
    assert validate(b"<not-xml")[0].startswith("XML 格式错误")


# --- the 归档章 ------------------------------------------------------------------------------------------

def _page_pdf(path: Path, boxes_mm: list[tuple[float, float, float, float]]) -> Path:
    """An A4 page with filled rectangles at (left, top, right, bottom) in mm from the top-left."""
    import pikepdf

    k = 72 / 25.4
    ops = []
    for left, t, r, b in boxes_mm:
        ops.append(f"{left * k:.2f} {(297 - b) * k:.2f} {(r - left) * k:.2f} {(b - t) * k:.2f} re f")
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595.28, 841.89))
    page.Contents = pdf.make_stream("\n".join(ops).encode())
    pdf.save(path)
    return path


def test_stamp_goes_centred_in_the_top_margin(tmp_path):
    from pipeline.yearend.archstamp import STAMP_H_MM, STAMP_W_MM, find_placement

    pdf = _page_pdf(tmp_path / "a.pdf", [(28, 72, 182, 90), (28, 100, 182, 250)])   # content from 72 mm down
    p = find_placement(pdf)
    left, top, right, bottom = p.rect_mm_from_top
    assert p.preferred and p.page == 0
    assert right - left == pytest.approx(STAMP_W_MM, abs=0.05) and bottom - top == pytest.approx(STAMP_H_MM, abs=0.05)
    assert (left + right) / 2 == pytest.approx(105, abs=0.05)
    # Centred in the blank top margin (0–37 mm): top at (37 − 16) / 2.
    assert top == pytest.approx(10.5, abs=0.05) and bottom < 37


def test_stamp_avoids_text_in_the_top_margin(tmp_path):
    from pipeline.yearend.archstamp import find_placement

    # Something printed across the top centre (a receipt stamp, say) from 5 to 30 mm.
    pdf = _page_pdf(tmp_path / "b.pdf", [(80, 5, 130, 30), (28, 40, 182, 250)])
    p = find_placement(pdf)
    left, top, right, bottom = p.rect_mm_from_top
    assert not p.preferred
    overlaps = not (right < 80 - 2 or left > 130 + 2 or bottom < 5 - 2 or top > 30 + 2)
    assert not overlaps and top < 40


def test_no_room_for_the_stamp_is_an_error(tmp_path):
    from pipeline.yearend.archstamp import find_placement

    pdf = _page_pdf(tmp_path / "c.pdf", [(0, 0, 210, 297)])
    with pytest.raises(ArchiveError, match="没有可加盖归档章的空白位置"):
        find_placement(pdf)


def test_stamp_image_red_frame_black_values():
    from pipeline.yearend.archstamp import DPI, StampValues, stamp_image

    img = stamp_image(StampValues("Z109", "2015", "0001", "办公室", "永久", "3"))
    assert img.size == (round(45 / 25.4 * DPI), round(16 / 25.4 * DPI))
    px = img.load()
    w, h = img.size
    assert px[w // 2, 2][:3] == (255, 0, 0) and px[w // 2, 2][3] == 255          # red frame, top edge
    assert px[w // 3, h // 4][:3] == (255, 0, 0)                                   # a red cell divider
    black = sum(1 for x in range(0, w, 3) for y in range(0, h, 3) if px[x, y][3] and px[x, y][:3] == (0, 0, 0))
    assert black > 100                                                             # the six values


def test_a_folder_that_is_not_a_package_fails_the_receiving_check(tmp_path):
    from pipeline.yearend.package import check_package

    (tmp_path / "data").mkdir()
    report = check_package(tmp_path, actor="接收人")
    assert not report.ok and report.items[0].code == "YJ-0" and report.items[0].ok is False
    assert "不是移交包" in report.items[0].failures[0].message
    assert all(i.ok is None for i in report.items[1:])          # the rest not run — and not passed


# --- the year-end templates ------------------------------------------------------------------------------

def test_build_script_regenerates_the_committed_archive_templates(tmp_path):
    """templates/归档文件目录.docx … are what scripts/build_archive_templates.py makes (so a change to the
    script cannot silently diverge from what gongwen renders)."""
    import re
    import zipfile

    from scripts import build_archive_templates

    parts = re.compile(r"^word/(document|styles|settings|header\d*|footer\d*)\.xml$")

    def xml(path: Path) -> dict[str, bytes]:
        with zipfile.ZipFile(path) as z:
            return {n: z.read(n) for n in z.namelist() if parts.match(n)}

    made = build_archive_templates.build(tmp_path)
    assert sorted(p.name for p in made) == sorted(f"{n}.docx" for n in build_archive_templates.BUILDERS)
    repo = Path(__file__).resolve().parent.parent / "templates"
    for fresh in made:
        committed = xml(repo / fresh.name)
        assert committed and committed == xml(fresh), (
            f"{fresh.name} differs from scripts/build_archive_templates.py; run `make templates`")


def test_check_refuses_a_report_file_it_cannot_write_before_checking(instance_path, tmp_path):
    """A typo in --report is caught at once, not after a check of the whole year."""
    from click.testing import CliRunner

    from pipeline.cli import cli

    r = CliRunner().invoke(cli, ["--config", str(instance_path), "check", "2015", "--report",
                                 str(tmp_path / "检测报告.xlsx")])
    assert r.exit_code == 2 and ".json、.docx 或 .pdf" in r.output
    assert "四性检测" not in r.output and not (tmp_path / "检测报告.xlsx").exists()


# --- the register in the check ---------------------------------------------------------------------------

def test_an_inserted_register_row_is_named_and_makes_no_derived_gap(config):
    """A row slipped into the register with a high number is reported as inserted; the numbers
    between the counter and it were never issued, so they are no 漏号."""
    import sqlite3

    from pipeline.ledger import Ledger, ledger_path
    from pipeline.model import Draft
    from pipeline.yearend.checks import check_year

    import datetime as dt

    with Ledger.open(config) as led:
        for i in (1, 2):
            led.allocate(Draft(source=f"/x/{i}.md", source_format="markdown", series="珠政发", kind="通知",
                               title=f"关于第{i}件事的通知", date=dt.date(2015, 3, i)), actor="甲")
            led.void(f"珠政发〔2015〕{i}号", reason="测试", actor="甲")
    db = sqlite3.connect(ledger_path(config))
    db.execute("INSERT INTO documents (series, year, seq, number_text, reference, stage, registered_at, updated_at)"
               " VALUES ('珠政发', 2015, 40, '珠政发〔2015〕40号', '珠政发〔2015〕40号', 'voided', 'x', 'x')")
    db.commit()
    db.close()
    with Ledger.open(config) as led:
        report = check_year(config, 2015, ledger=led, actor="档案员", scan=False)
    item = next(i for i in report.items if i.code == "GD-WZ-2-4")
    messages = [f"{f.ident} {f.message}" for f in item.failures]
    assert not [m for m in messages if "漏号" in m], messages
    assert "发文登记簿 珠政发 2015年 计数器为 3，但已登记到 40 号" in messages
    chain = next(i for i in report.items if i.code == "GD-WZ-5")
    assert any(f.message == "登记簿第 3 行（珠政发〔2015〕40号）没有对应的事件记录（被插入或改了行号）"
               for f in chain.failures)


def test_a_pdf_that_does_not_end_with_its_eof_marker_is_truncated(tmp_path):
    from pipeline.yearend.pdftext import truncated

    whole = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF"
    cases = {"whole": (whole, False), "newline": (whole + b"\r\n", False),
             "cut": (whole[:-9], True),
             # an earlier revision and the first bytes of the next: a file cut inside its last update
             "cut in an update": (whole + b"\n2 0 obj\n<< /Type /Sig /Contents <3082", True)}
    for name, (data, expected) in cases.items():
        (tmp_path / f"{name}.pdf").write_bytes(data)
        assert truncated(tmp_path / f"{name}.pdf") is expected, name
