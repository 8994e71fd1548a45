"""config.layout.imprint_on_even_page on real LibreOffice output: the 版记 ends a document of more
than one page on an even page (the back of the last sheet); off by default, as GB/T 9704 does not
require it."""
from __future__ import annotations

import pytest

from pipeline import layout as L
from pipeline.config import load
from pipeline.model import Block
from tests.support import pdf_lines as PL
from samples import render_drafts as D
from tests.conftest import write_instance

pytestmark = pytest.mark.libreoffice

DASH = L.PAGE_NUMBER_DASH


def _notice(lines: int):
    """A 通知 whose body is one paragraph of ``lines`` full lines: 20 end on page 2 with room for the
    版记; 22 leave the 版记 no room on page 2; 30 end on page 3."""
    return D.notice(body=(Block("paragraph", D.text(28 * lines - 2, 3)),), attachments=(), attachment_note=()), D.number()


@pytest.fixture(scope="module")
def laid_out(tmp_path_factory):
    root = tmp_path_factory.mktemp("imprint")
    docs = {f"n{n}": _notice(n) for n in (20, 22, 30)}
    on = load(write_instance(root / "on", layout={"imprint_on_even_page": True}))
    off = load(write_instance(root / "off"))
    layouts: dict = {}
    pdfs = D.lay_out(docs, on, root / "run-on", layouts=layouts)
    plain = D.lay_out(docs, off, root / "run-off")
    return ({k: PL.read_lines(p) for k, p in pdfs.items()}, layouts, {k: PL.read_lines(p) for k, p in plain.items()})


def _numbers(pages) -> list[str]:
    return ["".join(ln.text for ln in lines if ln.top > PL.BOTTOM) for lines in pages]


def _has_imprint(lines) -> bool:
    return any(ln.text.endswith("印发") for ln in lines)


def test_off_by_default_the_imprint_stays_on_the_last_page_of_text(laid_out):
    _, _, plain = laid_out
    assert [len(plain[k]) for k in ("n20", "n22", "n30")] == [2, 3, 3]
    assert _has_imprint(plain["n30"][2]) and any("2015年3月20日" == ln.text for ln in plain["n30"][2])


def test_an_odd_last_page_sends_the_imprint_to_the_next_even_page(laid_out):
    pages, layouts, _ = laid_out
    n30 = pages["n30"]
    assert len(n30) == 4 and layouts["n30"].imprint_breaks == 1
    assert any(ln.text == "2015年3月20日" for ln in n30[2]) and not _has_imprint(n30[2])
    assert _has_imprint(n30[3]) and len(PL.in_type_area(n30[3])) == 2          # the 版记 alone
    assert _numbers(n30) == [f"{DASH}{i}{DASH}" for i in range(1, 5)]           # numbered as usual


def test_an_imprint_alone_on_an_odd_page_gets_a_blank_page_before_it_and_no_page_numbers(laid_out):
    """GB/T 9704 7.5: 公文的版记页前有空白页的，空白页和版记页均不编排页码."""
    pages, layouts, plain = laid_out
    assert not _has_imprint(plain["n22"][1]) and _has_imprint(plain["n22"][2])   # it did not fit on page 2
    n22 = pages["n22"]
    assert len(n22) == 4 and layouts["n22"].imprint_breaks == 2
    assert n22[2] == [] and _has_imprint(n22[3])
    assert _numbers(n22) == [f"{DASH}1{DASH}", f"{DASH}2{DASH}", "", ""]


def test_an_even_last_page_keeps_the_imprint(laid_out):
    pages, layouts, _ = laid_out
    assert len(pages["n20"]) == 2 and _has_imprint(pages["n20"][1]) and layouts["n20"].imprint_breaks == 0
