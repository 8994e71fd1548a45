"""Property test on text nobody tuned the layout to: 200 sections of the State Council work reports
(../shared/data/corpus), as 通知, 请示, 函 and 纪要 drafts (bench/bench_render.py builds them), laid
out as the pipeline does it (render, LibreOffice, relayout while the stamp step asks for it; batched:
one LibreOffice run per round) and every line of every page read back with pdfplumber: inside the
版心, at most 28 characters, 避头尾, and every page the text flows on from full (22 lines ± 2).
"""
from __future__ import annotations

import dataclasses
import re

import pytest

from pipeline.config import Config
from pipeline.model import Block
from tests.support import pdf_lines as PL
from samples import render_drafts as D
from tests.conftest import REPO, shared_path

pytestmark = [pytest.mark.slow, pytest.mark.libreoffice, pytest.mark.timeout(3600)]

SECTIONS = 200
_OPENING, _CLOSING = PL.NO_LINE_END, PL.NO_LINE_START


def _joined(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
    """The corpus (Wikisource) breaks some paragraphs inside a 《…》 or “…” and has paragraphs of a
    zero-width space: a paragraph that starts with a closing mark or follows one ending with an
    opening mark is joined to the one before, as the report prints it, and an empty one dropped;
    a section cut off after an opening mark loses it. No office's draft starts a paragraph with 》."""
    out: list[Block] = []
    for b in blocks:
        if b.kind != "table" and not re.sub(r"[\s\u200b]", "", b.text):
            continue
        if out and (b.text[0] in _CLOSING or out[-1].text[-1:] in _OPENING):
            out[-1] = dataclasses.replace(out[-1], kind="paragraph", text=out[-1].text + b.text)
        else:
            out.append(b)
    if out and out[-1].text[-1:] in _OPENING:
        out[-1] = dataclasses.replace(out[-1], text=out[-1].text.rstrip(_OPENING))
    return tuple(out)


@pytest.fixture(scope="module")
def laid_out(tmp_path_factory):
    import yaml

    from samples.corpus import chapter_drafts

    shared_path("corpus", "government_work_reports.jsonl")
    root = tmp_path_factory.mktemp("corpus-layout")
    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw.setdefault("paths", {}).update(templates=str(REPO / "templates"), fonts=str(REPO / "fonts"))
    config = Config.model_validate({**raw, "base": root / "instance"})
    docs = {}
    for i, (d, number) in enumerate(chapter_drafts(SECTIONS)):
        atts = tuple(dataclasses.replace(a, blocks=_joined(a.blocks)) for a in d.attachments)
        docs[f"s{i:03d}"] = (dataclasses.replace(d, body=_joined(d.body), attachments=atts), number)
    layouts: dict = {}
    pdfs = D.lay_out(docs, config, root, layouts=layouts)
    return {k: (docs[k][0], PL.read_lines(pdfs[k]), layouts[k]) for k in docs}


def _ends(draft) -> tuple[str, ...]:
    return tuple(x for x in (draft.date_text, "出席：") if x)


def test_every_line_of_every_page_inside_the_type_area(laid_out):
    """At most 28 characters, inside the 版心, no closing mark first and no opening mark last."""
    problems = {k: PL.line_problems(pages) for k, (_, pages, _) in laid_out.items()}
    bad = {k: v for k, v in problems.items() if v}
    assert not bad, f"{len(bad)} of {len(laid_out)} documents: {dict(list(bad.items())[:5])}"
    lines = sum(len(PL.in_type_area(p)) for _, pages, _ in laid_out.values() for p in pages)
    assert lines > 200 * 60                                  # a few pages each: something was read


def test_every_page_the_text_flows_on_from_is_full(laid_out):
    problems = {k: PL.fill_problems(pages, _ends(d)) for k, (d, pages, _) in laid_out.items()}
    bad = {k: v for k, v in problems.items() if v}
    assert not bad, f"{len(bad)} of {len(laid_out)} documents: {dict(list(bad.items())[:5])}"


def test_the_signature_block_is_never_alone_and_takes_at_most_two_lines(laid_out):
    checked = 0
    for k, (d, pages, layout) in laid_out.items():
        if d.kind == "纪要":
            continue                                             # no 署名 block (会议纪要不署名盖章)
        at = [(i, j) for i, lines in enumerate(pages) for j, ln in enumerate(lines) if ln.text == d.date_text]
        i, j = at[0]
        above = PL.in_type_area(pages[i][:j - 1])
        assert above, f"{k}: the block alone on page {i + 1}"
        checked += 1
        if layout.carry:                                         # one or two lines, at the page top
            assert len(layout.carry) <= 2 * 28 and "".join(ln.text for ln in above).startswith(layout.carry), k
    assert checked >= 140
