"""PDF facts and text boxes: the shared real-world PDFs (encrypted, corrupt, PDF/A, forms, attachments,
image-only), PDFs built here with active content and signatures, and a LibreOffice 公文 page."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pikepdf
import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from pipeline.pdfcheck import _lines, _runs, inspect_pdf, page_text, text_boxes
from tests.conftest import REPO, SHARED_DATA, shared_path

PDFS = SHARED_DATA / "pdf"
PASSWORD = "openpassword"   # 005's user password, from its README.md


def shared_entries() -> list[dict]:
    index = PDFS / "files.json"
    if not index.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"shared test data not available: {index}"))]
    return [pytest.param(e, id=e["path"].split("/")[0]) for e in json.loads(index.read_text())["data"]
            if (PDFS / e["path"]).is_file()]


def pdffonts(path: Path, password: str | None = None) -> list[tuple[str, bool]]:
    cmd = ["pdffonts"] + (["-upw", password] if password else []) + [str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [(t[0], t[-5] == "yes") for t in (line.split() for line in out.splitlines()[2:])]


@pytest.mark.parametrize("entry", shared_entries())
def test_facts_of_each_shared_pdf_match_its_description(entry):
    path = PDFS / entry["path"]
    corrupt = entry["path"].startswith("017-")
    password = PASSWORD if entry["encrypted"] else None
    facts = inspect_pdf(path, password=password)
    if corrupt:
        assert facts.error and "无法" in facts.error and facts.pages == 0
        return
    assert facts.error is None, facts.error
    assert facts.pages == entry["pages"]
    assert facts.encrypted == entry["encrypted"]
    # files.json took 005's producer from somewhere other than its (encrypted) Info dictionary.
    if entry["producer"] not in (None, "?") and not entry["encrypted"]:
        assert facts.producer == entry["producer"]
    # Fonts: the same names and embedding as poppler's pdffonts, an independent reader.
    ours = sorted((f.name if f.name != "(未命名)" else "[none]", f.embedded) for f in facts.fonts)
    assert ours == sorted(pdffonts(path, password))
    assert facts.all_fonts_embedded == all(e for _, e in ours)
    assert facts.pdfa == ("1B" if entry["path"].startswith("021-") else None)
    assert facts.has_output_intent == entry["path"].startswith("021-")
    assert facts.has_embedded_files == entry["path"].startswith("025-")
    assert (facts.has_javascript, facts.has_launch_action, facts.signatures) == (False, False, 0)
    image_only = entry["path"].startswith(("019-", "023-"))
    assert (facts.text_chars == 0) == image_only
    assert facts.pages_without_text == ((1,) if image_only else ())


def test_encrypted_pdf_without_or_with_a_wrong_password_is_an_error_not_a_crash():
    path = shared_path("pdf", "005-libreoffice-writer-password", "libreoffice-writer-password.pdf")
    none = inspect_pdf(path)
    assert none.encrypted and none.error == "PDF 已加密，需要打开密码" and none.pages == 0
    wrong = inspect_pdf(path, password="wrong")
    assert wrong.encrypted and "密码不正确" in wrong.error
    right = inspect_pdf(path, password=PASSWORD)
    assert right.error is None and right.text_chars > 0
    assert "Lorem" in page_text(path, 1, password=PASSWORD)
    assert text_boxes(path, 1, password=PASSWORD)


def test_corrupt_pdf_gives_an_error():
    facts = inspect_pdf(shared_path("pdf", "017-unreadable-meta-data", "unreadablemetadata.pdf"))
    assert facts.error and not facts.ok


@pytest.mark.parametrize("content", [b"", b"hello, not a pdf", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog"])
def test_garbage_never_raises(tmp_path, content):
    p = tmp_path / "x.pdf"
    p.write_bytes(content)
    facts = inspect_pdf(p)
    assert facts.error and facts.pages == 0


def test_truncated_pdf_and_missing_file_never_raise(tmp_path):
    data = shared_path("pdf", "004-pdflatex-4-pages", "pdflatex-4-pages.pdf").read_bytes()
    half = tmp_path / "half.pdf"
    half.write_bytes(data[: len(data) // 2])
    facts = inspect_pdf(half)   # qpdf may repair some of it; either way: facts, no exception
    assert facts.error or facts.pages >= 1
    missing = inspect_pdf(tmp_path / "nope.pdf")
    assert missing.error and "不存在" in missing.error


# --- active content and signatures, built with pikepdf ------------------------------------------

def _base(tmp_path: Path) -> pikepdf.Pdf:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    return pdf


def test_javascript_launch_and_attachment_are_detected(tmp_path):
    pdf = _base(tmp_path)
    clean = tmp_path / "clean.pdf"
    pdf.save(clean)
    f = inspect_pdf(clean)
    assert (f.has_javascript, f.has_launch_action, f.has_embedded_files) == (False, False, False)

    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    js = tmp_path / "js.pdf"
    pdf.save(js)
    assert inspect_pdf(js).has_javascript and not inspect_pdf(js).has_launch_action

    pdf = _base(tmp_path)
    annot = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 10, 10],
        A=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe"))))
    pdf.pages[0].obj.Annots = pdf.make_indirect(pikepdf.Array([annot]))
    pdf.attachments["说明.txt"] = pikepdf.AttachedFileSpec(pdf, "附件".encode())
    launch = tmp_path / "launch.pdf"
    pdf.save(launch)
    f = inspect_pdf(launch)
    assert (f.has_javascript, f.has_launch_action, f.has_embedded_files) == (False, True, True)


def test_signed_signature_fields_are_counted(tmp_path):
    pdf = _base(tmp_path)
    sig_value = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Sig, Filter=pikepdf.Name("/Adobe.PPKLite"), ByteRange=[0, 0, 0, 0],
        Contents=pikepdf.String(b"\0" * 8)))
    signed = pdf.make_indirect(pikepdf.Dictionary(FT=pikepdf.Name.Sig, T=pikepdf.String("签名1"), V=sig_value))
    empty = pdf.make_indirect(pikepdf.Dictionary(FT=pikepdf.Name.Sig, T=pikepdf.String("空签名域")))
    parent = pdf.make_indirect(pikepdf.Dictionary(T=pikepdf.String("组"), Kids=[signed]))
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[parent, empty], SigFlags=3)
    out = tmp_path / "signed.pdf"
    pdf.save(out)
    assert inspect_pdf(out).signatures == 1


# --- text boxes -----------------------------------------------------------------------------------

def _run(p, text, font="仿宋_GB2312", size=16):
    r = p.add_run(text)
    r.font.size = Pt(size)
    r.font.name = "Times New Roman"
    r._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)


@pytest.fixture(scope="module")
def gongwen_pdf(tmp_path_factory, lo_converter) -> Path:
    """A 公文-like page rendered by real LibreOffice: 发文字号 and 签发人 on one line (tab), a title,
    body lines mixing 汉字 with Times New Roman digits, 署名 and 成文日期 right-aligned (the session's
    LibreOffice)."""
    root = tmp_path_factory.mktemp("gw")
    doc = Document()
    p = doc.add_paragraph()
    _run(p, "珠政发〔2024〕12号")
    _run(p, "\t\t\t\t\t")
    _run(p, "签发人：张三", "楷体_GB2312")
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(p, "关于做好2024年度安全生产工作的通知", "方正小标宋简体", 22)
    p = doc.add_paragraph()
    _run(p, "各乡镇人民政府，区直各单位：为切实做好2024年度安全生产工作，现将有关事项通知如下，"
            "请结合实际认真贯彻落实，并于12月31日前报送工作总结。")
    for text in ("珠晖区人民政府", "2024年1月5日"):
        p = doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _run(p, text)
    docx = root / "公文.docx"
    doc.save(str(docx))
    return lo_converter.convert(docx, root / "公文.pdf")


@pytest.mark.libreoffice
def test_text_boxes_find_the_lines_of_a_gongwen_page(gongwen_pdf):
    boxes = text_boxes(gongwen_pdf, 1)
    by_text = {b.text: b for b in boxes}
    number, signer = by_text["珠政发〔2024〕12号"], by_text["签发人：张三"]
    assert abs(number.top - signer.top) < 1 and number.x1 < signer.x0     # one line, two runs
    title = by_text["关于做好2024年度安全生产工作的通知"]
    assert title.bottom - title.top > number.bottom - number.top        # 22 pt over 16 pt
    issuer, date = by_text["珠晖区人民政府"], by_text["2024年1月5日"]
    assert issuer.bottom <= date.top and abs(issuer.x1 - date.x1) < 2   # right-aligned, stacked
    body = [b for b in boxes if b.top > title.bottom and b.bottom < issuer.top]
    assert len(body) >= 2 and "".join(b.text for b in body).startswith("各乡镇人民政府，区直各单位")
    assert "12月31日" in "".join(b.text for b in body)
    tops = [b.top for b in boxes]
    assert tops == sorted(tops)                                          # reading order
    with pikepdf.open(gongwen_pdf) as pdf:
        width, height = (float(v) for v in pdf.pages[0].mediabox[2:])
    assert all(0 <= b.x0 < b.x1 <= width and 0 <= b.top < b.bottom <= height for b in boxes)
    assert text_boxes(gongwen_pdf) == boxes                              # one page: same as all pages
    assert "安全生产工作的通知" in page_text(gongwen_pdf, 1).replace(" ", "")
    with pytest.raises(ValueError):
        text_boxes(gongwen_pdf, 2)


def test_text_boxes_put_spaces_between_latin_words_only():
    path = shared_path("pdf", "026-latex-multicolumn", "multicolumn.pdf")
    texts = [b.text for b in text_boxes(path, 1)]
    assert "Two-Column Document with Lorem Ipsum" in texts
    assert "January 3, 2024" in texts


def _char(text, x0, top, size=16.0, height=None):
    h = height or size
    return {"text": text, "x0": x0, "x1": x0 + size, "top": top, "bottom": top + h, "size": size, "upright": True}


def test_line_grouping_keeps_mixed_fonts_on_one_line_and_splits_far_runs():
    # 汉字 (tall box) and Times digits (shorter box, lower top) on one baseline; a second line 28 pt below.
    line1 = [_char("第", 0, 100), _char("1", 16, 103, height=12), _char("段", 24, 100),
             _char("签", 300, 100), _char("发", 316, 100)]
    line2 = [_char("下", 0, 128), _char("一", 16, 128)]
    lines = _lines(line2 + line1)
    assert [sorted(c["text"] for c in line) for line in lines] == [sorted("第1段签发"), sorted("下一")]
    runs = _runs(lines[0])
    assert ["".join(c["text"] for c in r) for r in runs] == ["第1段", "签发"]


def test_pages_text_is_the_one_reader_and_raises_for_an_unreadable_file(tmp_path):
    """One place reads a PDF's text (pdfcheck.pages_text): it raises, with a Chinese message, for a
    file it cannot read, instead of returning the message as text; search and the year end use it."""
    from pipeline.pdfcheck import PdfTextError, pages_text

    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7\nnot really\n")
    with pytest.raises(PdfTextError, match="无法读取 PDF 文字"):
        pages_text(bad)
    import pikepdf

    locked = tmp_path / "locked.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.save(locked, encryption=pikepdf.Encryption(owner="o", user="u"))
    with pytest.raises(PdfTextError, match="已加密"):
        pages_text(locked)
    assert pages_text(locked, password="u") == [""]
    for module in ("search", "yearend"):
        for src in (REPO / "pipeline" / module).glob("*.py"):
            text = src.read_text(encoding="utf-8")
            assert "extract_text" not in text, src
            other = "yearend" if module == "search" else "search"
            if module == "search":
                assert f"..{other}" not in text and f"pipeline.{other}" not in text, f"{src} imports {other}"
