"""The seal: image, placement from real LibreOffice output (short document, body ending near the
bottom of a page → relayout, attachments), and the overlay keeping PDF/A-2b."""
from __future__ import annotations

import dataclasses
import math
import re
import subprocess
from pathlib import Path

import pikepdf
import pdfplumber
import pytest
from PIL import Image

from pipeline import layout as L
from pipeline.errors import SigningError
from pipeline.seal import (NeedsRelayout, SealPlacement, TextLine, apply_seal, compute_placement,
                           find_seal_font, place_seal, seal_for, seal_image)
from samples.instance import instance_config
from samples.seal_docs import ATTACH, BOTTOM, DIAMETER, SHORT, build_docx
from tests.conftest import REPO, write_instance

pytestmark = pytest.mark.libreoffice

R = L.mm_to_pt(DIAMETER) / 2


@pytest.fixture(scope="module")
def lo_pdfs(tmp_path_factory, lo_converter):
    """Real LibreOffice PDF/A-2b output for the three cases (and the bottom case re-rendered
    tighter), converted by the session's LibreOffice (conftest ``lo_converter``)."""
    root = tmp_path_factory.mktemp("seal-docs")
    docs = {"short": (SHORT, 0), "attach": (ATTACH, 0),
            "bottom0": (BOTTOM, 0), "bottom1": (BOTTOM, 1), "bottom2": (BOTTOM, 2)}
    out = {}
    for name, (case, tighten) in docs.items():
        docx = build_docx(root / f"{name}.docx", **case, tighten=tighten)
        out[name] = lo_converter.convert(docx, root / f"{name}.pdf")
    return out


# --- geometry checks made independently of pipeline.seal (plain pdfplumber) -----------------------

def _lines_on(pdf: Path, page: int) -> list[dict]:
    with pdfplumber.open(pdf) as doc:
        pg = doc.pages[page]
        lines = pg.extract_text_lines(return_chars=False)
        for ln in lines:
            ln["text"] = re.sub(r"\s+", "", ln["text"])
            ln["y_top"], ln["y_bottom"] = pg.height - ln["top"], pg.height - ln["bottom"]
        return lines


def assert_seal_geometry(pdf: Path, pl: SealPlacement, *, signature: str, date: str, above: str):
    lines = _lines_on(pdf, pl.page)
    texts = [ln["text"] for ln in lines]
    i = texts.index(date.replace(" ", ""))
    d, s, last = lines[i], lines[i - 1], lines[i - 2]
    assert s["text"] == signature and last["text"] == above
    cx, cy, r = pl.cx_pt, pl.cy_pt, pl.diameter_pt / 2
    assert abs(r - R) < 0.01
    # The 成文日期 in the lower half: its vertical extent between the centre and the circle's bottom,
    # horizontally centred on the seal.
    assert cy - r <= d["y_bottom"] and d["y_top"] <= cy
    assert abs((d["x0"] + d["x1"]) / 2 - cx) < 1.0
    # The 署名 below the centre and over the seal (its middle inside the circle).
    assert s["y_top"] <= cy and s["y_bottom"] >= cy - r
    assert s["x0"] < cx < s["x1"]
    # The seal's top within one line of the last body / 附件说明 line, not over it.
    gap = last["y_bottom"] - (cy + r)
    assert 0 <= gap <= L.LINE_PITCH_PT, gap


def test_short_document(lo_pdfs):
    pl = place_seal(lo_pdfs["short"], signature=SHORT["signature"], date_text=SHORT["date"], diameter_mm=DIAMETER)
    assert pl.page == 0
    assert_seal_geometry(lo_pdfs["short"], pl, signature="珠晖区人民政府", date="2015年3月20日",
                         above="二、请于本月底前完成。")
    # The check itself bites: half a line higher or lower, or a character to the side, fails it.
    for wrong in (dict(cy_pt=pl.cy_pt + 15), dict(cy_pt=pl.cy_pt - 15), dict(cx_pt=pl.cx_pt + 16)):
        with pytest.raises(AssertionError):
            assert_seal_geometry(lo_pdfs["short"], dataclasses.replace(pl, **wrong), signature="珠晖区人民政府",
                                 date="2015年3月20日", above="二、请于本月底前完成。")


def test_with_attachments_seal_goes_on_the_body_page(lo_pdfs):
    with pdfplumber.open(lo_pdfs["attach"]) as doc:
        assert len(doc.pages) == 3
    pl = place_seal(lo_pdfs["attach"], signature=ATTACH["signature"], date_text=ATTACH["date"], diameter_mm=DIAMETER)
    assert pl.page == 0
    assert_seal_geometry(lo_pdfs["attach"], pl, signature="珠晖区人民政府办公室", date="2015年12月3日",
                         above="2.珠晖区印章测试安排表")


def test_body_ending_near_the_bottom_needs_relayout_then_fits(lo_pdfs):
    """At the standard pitch (22 lines) and one step tighter (still 22) the block falls alone onto
    page 2; two steps tighter (24 lines) it fits under the body on page 1."""
    kw = dict(signature=BOTTOM["signature"], date_text=BOTTOM["date"], diameter_mm=DIAMETER)
    with pdfplumber.open(lo_pdfs["bottom0"]) as doc:
        assert len(doc.pages) == 2
    with pytest.raises(NeedsRelayout, match="第2页只有"):
        place_seal(lo_pdfs["bottom0"], **kw)
    # What a caller does: re-render tighter until it fits.
    placement = None
    for name in ("bottom0", "bottom1", "bottom2"):
        try:
            placement = place_seal(lo_pdfs[name], **kw)
            break
        except NeedsRelayout:
            continue
    assert placement is not None and name == "bottom2" and placement.page == 0
    with pdfplumber.open(lo_pdfs["bottom2"]) as doc:
        assert len(doc.pages) == 1
    assert_seal_geometry(lo_pdfs["bottom2"], placement, signature="珠晖区人民政府", date="2015年3月20日",
                         above="第17项工作按照区政府统一部署推进落实。")


def test_apply_seal_keeps_pdfa_and_draws_red_at_the_placement(lo_pdfs, tmp_path):
    src = lo_pdfs["attach"]
    before = src.read_bytes()
    pl = place_seal(src, signature=ATTACH["signature"], date_text=ATTACH["date"], diameter_mm=DIAMETER)
    png = seal_image("珠晖区人民政府办公室", DIAMETER, tmp_path / "seal.png")
    out = apply_seal(src, tmp_path / "sealed.pdf", png, pl)
    assert src.read_bytes() == before                      # the input is untouched
    assert out.read_bytes().startswith(b"%PDF-1.6")
    with pikepdf.open(out) as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"
        assert len(pdf.pages) == 3
        images = [x for x in pdf.pages[0].Resources.XObject.values() if x.get("/Subtype") == "/Image"]
        assert len(images) == 1 and "/SMask" in images[0]
        assert not any("/XObject" in p.Resources and any("/GwSeal" in str(k) for k in p.Resources.XObject.keys())
                       for p in list(pdf.pages)[1:])
    with pdfplumber.open(out) as doc:                      # the text is still there and extracts
        assert "2015年12月3日" in re.sub(r"\s+", "", doc.pages[0].extract_text())
    # Rendered by poppler: the star's red at the seal's centre, the 署名 still dark through the seal
    # (multiply), white outside the circle.
    ppm = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "72", "-f", "1", "-l", "1", "-png", str(out), str(ppm)], check=True)
    img = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")
    h = img.height
    r_, g_, b_ = img.getpixel((round(pl.cx_pt), round(h - pl.cy_pt)))
    assert r_ > 200 and g_ < 80 and b_ < 80
    x0, y0, x1, y1 = pl.signature_box
    dark = [img.getpixel((x, round(h - (y0 + y1) / 2))) for x in range(round(x0), round(x1))]
    assert min(sum(p) for p in dark) < 150
    assert img.getpixel((round(pl.cx_pt + pl.diameter_pt), round(h - pl.cy_pt))) == (255, 255, 255)


# --- the seal image ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seal_png(tmp_path_factory):
    return seal_image("珠晖区人民政府", DIAMETER, tmp_path_factory.mktemp("seal") / "seal.png")


def test_seal_image_is_round_red_and_transparent(seal_png):
    img = Image.open(seal_png)
    assert img.mode == "RGBA"
    px = round(DIAMETER / 25.4 * 300)
    assert img.size == (px, px)
    a = img.getchannel("A")
    c = px // 2
    assert a.getpixel((0, 0)) == 0 and a.getpixel((px - 1, px - 1)) == 0       # corners transparent
    assert a.getpixel((c, 3)) > 200 and a.getpixel((c, px - 4)) > 200          # the ring, top and bottom
    assert a.getpixel((3, c)) > 200 and a.getpixel((px - 4, c)) > 200
    assert a.getpixel((c, c)) == 255                                           # the star's centre
    r, g, b, _ = img.getpixel((c, c))
    assert (r, g, b) == (255, 0, 0)
    # Nothing outside the circle.
    for x, y in ((c + round(c * 0.75), c + round(c * 0.75)), (c - round(c * 0.75), c - round(c * 0.75))):
        assert a.getpixel((x, y)) == 0


def _ink(img, r0: float, r1: float, y0: float = 0.0, y1: float = 1.0) -> int:
    """Opaque pixels at r0..r1 of the radius from the centre, between heights y0..y1 (fractions of
    the image, from the top); every second pixel."""
    a = img.getchannel("A")
    n = img.width
    c = n / 2
    count = 0
    for y in range(round(y0 * n), round(y1 * n), 2):
        for x in range(0, n, 2):
            if r0 <= math.hypot(x - c, y - c) / c <= r1 and a.getpixel((x, y)) > 128:
                count += 1
    return count


BAND = (0.45, 0.88)       # between the star and the ring


def test_seal_name_runs_along_the_upper_arc(seal_png):
    img = Image.open(seal_png)
    assert _ink(img, *BAND, 0.0, 0.5) > 1000         # the name, above the centre
    assert _ink(img, *BAND, 0.7, 1.0) == 0           # nothing along the bottom of the seal


def test_long_name_stays_inside_the_ring(tmp_path):
    img = Image.open(seal_image("珠晖区人民政府办公室综合科", DIAMETER, tmp_path / "long.png"))
    assert _ink(img, 1.01, 2.0) == 0                 # no ink outside the ring's outer edge
    assert _ink(img, *BAND, 0.0, 0.5) > 1000
    assert _ink(img, *BAND, 0.8, 1.0) == 0


def test_no_blank_seal(tmp_path):
    with pytest.raises(SigningError, match="空白印章"):
        seal_image("  ", DIAMETER, tmp_path / "blank.png")
    assert not (tmp_path / "blank.png").exists()


def test_seal_font_is_a_cjk_face():
    path, index = find_seal_font(REPO / "fonts" / "fonts.conf")
    assert path.is_file() and index >= 0


def test_seal_for_caches_and_honours_configured_image(tmp_path):
    config = instance_config(tmp_path)
    first = seal_for("珠晖区人民政府", config)
    mtime = first.stat().st_mtime_ns
    again = seal_for("珠晖区人民政府", config)
    assert again == first and again.stat().st_mtime_ns == mtime
    assert seal_for("珠晖区人民政府办公室", config) != first
    # An office's own image wins (config.seal.images).
    own = tmp_path / "instance" / "office-seal.png"
    Image.new("RGBA", (100, 100), (255, 0, 0, 255)).save(own)
    from pipeline.config import load

    cfg_path = write_instance(tmp_path / "instance", paths=dict(config.paths.model_dump(mode="json")),
                              seal={"diameter_mm": 42, "images": {"珠晖区人民政府": "office-seal.png"}})
    config2 = load(cfg_path)
    assert seal_for("珠晖区人民政府", config2).resolve() == own.resolve()
    assert seal_for("珠晖区人民政府办公室", config2).parent == config2.archive_dir / "seals"   # others generated


def test_scanned_seal_on_white_gets_transparency(tmp_path):
    from pipeline.seal import _load_rgba

    scan = Image.new("RGB", (50, 50), (255, 255, 255))
    scan.putpixel((25, 25), (230, 10, 10))
    p = tmp_path / "scan.png"          # RGB, no alpha channel
    scan.save(p)
    img = _load_rgba(p)
    assert img.getpixel((0, 0))[3] < 10 and img.getpixel((25, 25))[3] > 200


# --- placement rules on synthetic lines (no PDF) ------------------------------------------------

PAGE = (0.0, 0.0, 595.28, 841.89)


def _line(page, text, top_from_top, x0=79.5, x1=521.9, size=16.0):
    y1 = PAGE[3] - top_from_top
    return TextLine(page, text, x0, y1 - size, x1, y1)


def _block(first_top: float, gap_lines: int, n_body: int = 3, page: int = 0):
    p = L.LINE_PITCH_PT
    lines = [_line(page, f"正文第{i}行", first_top + i * p) for i in range(n_body)]
    sig_top = first_top + (n_body - 1 + gap_lines + 1) * p
    lines.append(_line(page, "珠晖区人民政府", sig_top, 350, 462))
    lines.append(_line(page, "2015年3月20日", sig_top + p, 338, 442))
    return lines


def test_placement_rules_on_synthetic_lines():
    lines = _block(112.0, L.seal_gap_lines(DIAMETER))
    pl = compute_placement([lines], [PAGE], signature="珠晖区人民政府", date_text="2015年3月20日",
                           diameter_mm=DIAMETER)
    sig, date, last = lines[-2], lines[-1], lines[-3]
    assert pl.cx_pt == pytest.approx((date.x0 + date.x1) / 2)
    assert sig.y1 <= pl.cy_pt and date.y0 >= pl.cy_pt - R
    assert 0 <= last.y0 - (pl.cy_pt + R) <= L.LINE_PITCH_PT


def test_too_much_space_above_the_signature_needs_relayout():
    lines = _block(112.0, 6)
    with pytest.raises(NeedsRelayout, match="印章放不下"):
        compute_placement([lines], [PAGE], signature="珠晖区人民政府", date_text="2015年3月20日",
                          diameter_mm=DIAMETER)


def test_too_little_space_above_the_signature_needs_relayout():
    lines = _block(112.0, 0)
    with pytest.raises(NeedsRelayout):
        compute_placement([lines], [PAGE], signature="珠晖区人民政府", date_text="2015年3月20日",
                          diameter_mm=DIAMETER)


def test_seal_never_covers_the_page_number():
    lines = _block(112.0 + 15 * L.LINE_PITCH_PT, 2)          # the date on the 版心's last line
    kw = dict(signature="珠晖区人民政府", date_text="2015年3月20日", diameter_mm=DIAMETER)
    free = compute_placement([lines], [PAGE], **kw)
    # A (tall) page number just below the 版心, reaching up to where the seal's bottom would be.
    page_no = _line(0, "— 1 —", PAGE[3] - (free.cy_pt - R) - 1, 470, 520, size=14)
    assert page_no.y1 <= L.mm_to_pt(L.MARGIN_BOTTOM_MM) and page_no.y1 > free.cy_pt - R
    pl = compute_placement([lines + [page_no]], [PAGE], **kw)
    assert pl.cy_pt - R >= page_no.y1 and pl.cy_pt > free.cy_pt


def test_block_split_over_two_pages_needs_relayout():
    lines = _block(112.0, 2)
    page1, page2 = lines[:-1], [_line(1, "2015年3月20日", 112.0, 338, 442)]
    with pytest.raises(NeedsRelayout, match="分在两页"):
        compute_placement([page1, page2], [PAGE, PAGE], signature="珠晖区人民政府", date_text="2015年3月20日",
                          diameter_mm=DIAMETER)


def test_missing_date_is_a_clear_error_not_a_relayout():
    lines = _block(112.0, 2)
    with pytest.raises(SigningError, match="找不到"):
        compute_placement([lines], [PAGE], signature="珠晖区人民政府", date_text="2015年3月21日",
                          diameter_mm=DIAMETER)
    with pytest.raises(SigningError, match="找不到"):
        compute_placement([lines], [PAGE], signature="珠晖区人民政府办公室", date_text="2015年3月20日",
                          diameter_mm=DIAMETER)


def test_print_date_in_the_colophon_is_not_taken_for_the_date():
    """The 版记's 印发日期 line ("…2015年3月20日印发") must not be mistaken for the 成文日期."""
    body = _block(112.0, 2)
    colophon = [_line(1, "珠晖区人民政府办公室 2015年3月20日印发", 700)]
    pl = compute_placement([body, colophon], [PAGE, PAGE], signature="珠晖区人民政府",
                           date_text="2015年3月20日", diameter_mm=DIAMETER)
    assert pl.page == 0


def test_date_only_block_when_there_is_no_signature():
    lines = [ln for ln in _block(112.0, 2) if ln.text != "珠晖区人民政府"]
    pl = compute_placement([lines], [PAGE], signature=None, date_text="2015年3月20日", diameter_mm=DIAMETER)
    assert pl.signature_box is None and lines[-1].y1 <= pl.cy_pt


# --- the project's own render + convert (GB/T 9704 templates) ------------------------------------

# One paragraph of seven lines fills page 1 under the 版头: the block falls onto page 2 alone at
# every spacing unless the paragraph's end goes with it (render.Layout.carry).
ONE_PARAGRAPH = "各单位要按照区政府统一部署，认真做好防汛抗旱各项工作，确保人民群众生命财产安全。" * 4 + "请认真贯彻执行。"


def _real_draft(n_body: int, attach: bool = False, body_text: str | None = None):
    import datetime as dt

    from pipeline.model import Attachment, Block, Draft

    body = tuple(Block("paragraph", f"第{i + 1}项工作按照区政府统一部署推进落实，各单位要高度重视，认真组织实施。")
                 for i in range(n_body))
    if body_text is not None:
        body = (Block("paragraph", body_text),)
    atts = (Attachment(name="珠晖区印章测试名单", number=1, blocks=(Block("paragraph", "名单内容。"),)),
            Attachment(name="珠晖区印章测试安排表", number=2, blocks=(Block("paragraph", "安排内容。"),))) if attach else ()
    return Draft(source="t.yaml", source_format="yaml", kind="通知", series="珠政发", title="关于印章位置测试的通知",
                 main_to="各镇人民政府，区政府各部门", body=body, attachments=atts,
                 attachment_note=tuple(f"{a.number}.{a.name}" for a in atts), signature="珠晖区人民政府",
                 date_text="2015年3月20日", date=dt.date(2015, 3, 20), printer="珠晖区人民政府办公室",
                 print_date_text="2015年3月20日", print_date=dt.date(2015, 3, 20), cc="区委办公室")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Drafts through render.render_document and LibreOffice, laid out again on NeedsRelayout with
    render.next_layout as process.py does (samples/render_drafts.lay_out, batched):
    {name: (pdf, placement, layout)}."""
    from pipeline.model import Number
    from samples.render_drafts import lay_out

    root = tmp_path_factory.mktemp("rendered")
    config = instance_config(root)
    number = Number(series="珠政发", year=2015, seq=3, text="珠政发〔2015〕3号", reference="珠政发〔2015〕3号")
    docs = {name: (d, number) for name, d in (
        ("short", _real_draft(2)), ("near-bottom-13", _real_draft(13)), ("near-bottom-14", _real_draft(14)),
        ("attach", _real_draft(3, attach=True)), ("one-paragraph", _real_draft(0, body_text=ONE_PARAGRAPH)))}
    layouts: dict = {}
    pdfs = lay_out(docs, config, root, layouts=layouts)
    out = {}
    for name, (d, _) in docs.items():
        pl = place_seal(pdfs[name], signature=d.signature, date_text=d.date_text, diameter_mm=DIAMETER,
                        annex_only_ok=layouts[name].last)
        out[name] = (pdfs[name], pl, layouts[name])
    return out


def _line_above_signature(pdf: Path, pl: SealPlacement) -> str:
    lines = _lines_on(pdf, pl.page)
    i = [ln["text"] for ln in lines].index("2015年3月20日")
    return lines[i - 2]["text"]


def test_rendered_documents_seal_geometry(rendered):
    for name, (pdf, pl, _) in rendered.items():
        above = _line_above_signature(pdf, pl)
        assert_seal_geometry(pdf, pl, signature="珠晖区人民政府", date="2015年3月20日", above=above)
        if name == "attach":       # the last line above is the 附件说明, and the seal is not on 附件 pages
            assert re.match(r"^(附件：)?2\.珠晖区印章测试安排表$", above), above
            with pdfplumber.open(pdf) as doc:
                later = [re.sub(r"\s+", "", doc.pages[i].extract_text() or "")
                         for i in range(pl.page + 1, len(doc.pages))]
            assert any(t.startswith("附件2") or t.startswith("附件1") for t in later)
        elif name == "one-paragraph":
            assert ONE_PARAGRAPH.endswith(above), above     # the paragraph's own last line
        else:
            assert "认真组织实施" in above, above           # the body's last line


def test_one_paragraph_body_that_fills_page_one_takes_its_end_along(rendered):
    """The number is not voided: the paragraph's last line or two go to page 2 with the block, cut
    exactly where LibreOffice broke the line; page 1 keeps the rest of the paragraph (GB/T 9704
    7.3.1: body text on the first page), and the text reads on unbroken."""
    pdf, pl, layout = rendered["one-paragraph"]
    assert layout.carry and pl.page == 1
    with pdfplumber.open(pdf) as doc:
        pages = [re.sub(r"\s+", "", p.extract_text() or "") for p in doc.pages]
    head = pages[0][pages[0].index("区政府各部门：") + len("区政府各部门："):pages[0].index("—1—")]
    tail = pages[1][:pages[1].index("珠晖区人民政府")]
    assert len(head) > 28 and 0 < len(tail) <= 2 * 28        # body text on page 1; one or two lines with the block
    assert head + tail == ONE_PARAGRAPH and tail == layout.carry


def test_rendered_near_bottom_block_is_never_alone(rendered):
    """Two lengths around a page boundary: each block either sits at the foot of a page under the
    body or has taken body text with it onto the next page — never alone."""
    bottom = L.mm_to_pt(L.MARGIN_BOTTOM_MM)
    near = []
    for name in ("near-bottom-13", "near-bottom-14"):
        pdf, pl, _ = rendered[name]
        assert pl.page >= 1
        x0, y0, x1, y1 = pl.date_box
        top = pl.last_text_box[3]
        page_top = PAGE[3] - L.mm_to_pt(L.MARGIN_TOP_MM)
        near.append(y0 - bottom < 5 * L.LINE_PITCH_PT or top > page_top - 3 * L.LINE_PITCH_PT)
    assert any(near), "neither document ends near a page boundary any more: adjust the body lengths"


def test_a_page_with_only_the_annex_note_above_the_signature_needs_relayout_until_the_last_attempt():
    p = L.LINE_PITCH_PT
    kw = dict(signature="珠晖区人民政府", date_text="2015年3月20日", diameter_mm=DIAMETER)
    page1 = [_line(0, f"正文第{i}行", 112.0 + i * p) for i in range(22)]
    gap = L.seal_gap_lines(DIAMETER)
    annex = [_line(1, "附件：1.防汛责任人名单", 112.0), _line(1, "2.防汛物资储备表", 112.0 + p)]
    sig_top = 112.0 + (1 + gap + 1) * p
    page2 = annex + [_line(1, "珠晖区人民政府", sig_top, 350, 462), _line(1, "2015年3月20日", sig_top + p, 338, 442)]
    with pytest.raises(NeedsRelayout, match="只有附件说明"):
        compute_placement([page1, page2], [PAGE, PAGE], **kw)
    pl = compute_placement([page1, page2], [PAGE, PAGE], annex_only_ok=True, **kw)
    assert pl.page == 1
    # items continuing a 附件说明 begun on the previous page count too
    cont = [_line(1, "2.防汛物资储备表", 112.0)]
    sig_top = 112.0 + (gap + 1) * p
    page1b = page1[:-1] + [_line(0, "附件：1.防汛责任人名单", 112.0 + 21 * p)]
    page2b = cont + [_line(1, "珠晖区人民政府", sig_top, 350, 462), _line(1, "2015年3月20日", sig_top + p, 338, 442)]
    with pytest.raises(NeedsRelayout, match="只有附件说明"):
        compute_placement([page1b, page2b], [PAGE, PAGE], **kw)
    # body text above the 附件说明 on the same page is fine
    page2c = [_line(1, "正文最后一行。", 112.0)] + [_line(1, t.text, t.y1 and PAGE[3] - t.y1 + p, t.x0, t.x1)
                                                  for t in page2]
    assert compute_placement([page1, page2c], [PAGE, PAGE], **kw).page == 1
