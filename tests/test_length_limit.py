"""A draft no document can be made from — a body of thousands of pages — is sent back by the rules,
before a number is taken, instead of taking a number and timing out in conversion at every retry."""
from __future__ import annotations

import dataclasses

import pytest

from samples.drafts import sample_draft
from pipeline import rules
from pipeline.model import Attachment, Block

pytestmark = pytest.mark.libreoffice

PARA = "各单位要高度重视，认真组织，确保各项工作取得实效，并及时报送工作进展情况。"   # 37 characters


@pytest.fixture
def draft(config, tmp_path):
    from pipeline import drafts

    p = tmp_path / "通知.md"
    p.write_bytes(sample_draft(1))
    return drafts.read_draft(p, config, None)


def with_body(d, n_chars: int, *, in_attachment: bool = False):
    blocks = tuple(Block("paragraph", PARA) for _ in range(n_chars // len(PARA)))
    if in_attachment:
        return dataclasses.replace(d, attachments=(Attachment(number=None, name="附表", blocks=blocks),))
    return dataclasses.replace(d, body=blocks)


def too_long(problems) -> list:
    return [p for p in problems if p.severity == "error" and "过长" in p.message]


def test_a_body_beyond_the_limit_is_an_error_naming_its_length_and_pages(draft, config):
    _, problems = rules.review(with_body(draft, rules.MAX_BODY_CHARS + 1000), config)
    [p] = too_long(problems)
    assert "字" in p.message and "页" in p.message and f"{rules.MAX_BODY_CHARS:,}" in p.message


def test_attachments_count_too(draft, config):
    _, problems = rules.review(with_body(draft, rules.MAX_BODY_CHARS + 1000, in_attachment=True), config)
    assert too_long(problems)


def test_a_long_but_possible_body_passes(draft, config):
    _, problems = rules.review(with_body(draft, rules.MAX_BODY_CHARS - 1000), config)
    assert not too_long(problems)


def test_process_refuses_it_without_taking_a_number(config, tmp_path):
    """7.9 MB of Markdown, just under the reader's 8 MB cap: rejected, no number, the draft untouched."""
    from pipeline.process import open_services, process_draft

    head = sample_draft(2).split(b"\n\n", 1)[0]
    body = b"\n\n".join([PARA.encode()] * (7_900_000 // (len(PARA.encode()) + 2)))
    path = tmp_path / "超长.md"
    path.write_bytes(head + b"\n\n" + body + b"\n")
    with open_services(config, "测试员") as svc:
        o = process_draft(path, svc)
        assert o.status == "rejected" and too_long(o.problems), o.problems[:3]
        assert svc.ledger.documents() == [] and svc.ledger.events() == []
