"""份号 copies through the `gongwen` command with real parts: `gongwen process --copies` writes one
sealed, signed PDF per copy, each with its own 份号 in the 版心's first line; the archive keeps the
正本, copy 000001."""
from __future__ import annotations

import json
from pathlib import Path

import pdfplumber
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.config import load
from pipeline.instance import init_instance
from pipeline.process import open_services
from pipeline.sign import verify_pdf

pytestmark = pytest.mark.libreoffice

DRAFT = """---
文种: 通知
机关代字: 珠政办发
标题: 珠晖区人民政府办公室关于做好防汛工作的通知
主送: 各镇人民政府、街道办事处，区直各单位
成文日期: 2015年5月8日
署名: 珠晖区人民政府办公室
印发日期: 2015年5月8日
份数: 3
---
各单位要高度重视防汛工作，明确责任，抓好落实。
"""


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    root = tmp_path_factory.mktemp("copies") / "instance"
    init_instance(root, None)
    draft = root.parent / "防汛.md"
    draft.write_text(DRAFT, encoding="utf-8")
    r = CliRunner().invoke(cli, ["--config", str(root / "config.yaml"), "process", "--copies", "--json", str(draft)])
    assert r.exit_code == 0, r.output
    plain = CliRunner().invoke(cli, ["--config", str(root / "config.yaml"), "process", "--copies", str(draft)])
    return load(root / "config.yaml"), json.loads(r.output.splitlines()[-1]), plain.output


def _first_line(pdf: Path) -> tuple[str, float]:
    with pdfplumber.open(pdf) as doc:
        chars = sorted(doc.pages[0].chars, key=lambda c: (round(c["top"]), c["x0"]))
        top = chars[0]["top"]
        return "".join(c["text"] for c in chars if abs(c["top"] - top) < 1), chars[0]["x0"] * 25.4 / 72


def test_one_signed_pdf_per_copy_each_with_its_own_copy_number(issued):
    config, row, _ = issued
    copies = [Path(p) for p in row["copies"]]
    assert [p.name for p in copies] == [f"{row['number']}.份号{n:06d}.pdf" for n in (1, 2, 3)]
    for n, pdf in enumerate(copies, 1):
        text, x0 = _first_line(pdf)
        assert text == f"{n:06d}" and abs(x0 - 28.0) < 0.2          # 版心 top left
        checks = verify_pdf(pdf, config)
        assert len(checks) == 1 and checks[0].ok, checks
    assert len({p.read_bytes() for p in copies}) == 3


def test_the_archive_keeps_copy_000001_as_the_original(issued):
    config, row, output = issued
    with open_services(config, "测试员") as svc:
        original = svc.store.find(row["number"]).file("正本")
    assert original.read_bytes() == Path(row["copies"][0]).read_bytes() == Path(row["pdf"]).read_bytes()
    # Run again: the same document (no new number), the copies already written are kept.
    assert "（重复提交，沿用原文号）" in output and "份号 000001–000003，共 3 份" in output
