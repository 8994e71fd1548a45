"""Write the 督查督办 template into templates/: 催办单.docx (GB/T 9704 信函 format).

Run: .venv/bin/python scripts/build_supervise_templates.py [--out DIR]

The 催办单 is the office's letter to one 责任单位 listing its 督办件 that are overdue or due soon. It
uses the 信函 page of scripts/build_templates.py (the red 标志 30 mm from the paper top, the red double
lines, no page number on page 1) and its styles, so it looks like the office's other letters and
restyles with them in Word/WPS. gongwen fills it with ``render.render_template`` and converts it with
LibreOffice (pipeline/supervise/remind.py builds the context).

Context: header (发文机关标志), title, unit (主送), intro, items [{no, reference, matter, source,
assigned, deadline, state}], ask, signature, date.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

import build_templates as bt  # noqa: E402
from pipeline import layout as L  # noqa: E402

# Column widths in twips add up to the 版心 width (156 mm).
# The table is set in 五号 (10.5 pt) so that a 督办编号 and a date fit on one line.
COLUMNS = (("序号", 560, "i.no"), ("督办编号", 1650, "i.reference"), ("事项", 2584, "i.matter"),
           ("来源", 1650, "i.source"), ("办结时限", 1400, "i.deadline"), ("办理情况", 1000, "i.state"))
TABLE_SIZE = 10.5
TABLE_LINE_TWIPS = round(TABLE_SIZE * 20 * 1.3)     # exact line height inside the table
assert sum(w for _, w, _ in COLUMNS) == L.TYPE_AREA_WIDTH_TWIPS


def _cell(text: str, width: int, rpr_xml: str, jc: str = "center") -> str:
    return (f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
            f'<w:p>{bt.ppr(style="GwTable", jc=jc, line=TABLE_LINE_TWIPS)}{bt.r(text, rpr_xml)}</w:p></w:tc>')


def _row(cells: str, header: bool = False) -> str:
    pr = "<w:trPr><w:cantSplit/>" + ("<w:tblHeader/>" if header else "") + "</w:trPr>"
    return f"<w:tr>{pr}{cells}</w:tr>"


def items_table() -> str:
    """The list of items: a heading row repeated on every page, one row per item ({%tr for %})."""
    small = bt.rpr(L.FONT_FANGSONG, TABLE_SIZE, latin=L.FONT_LATIN)
    head = bt.rpr(L.FONT_HEITI, TABLE_SIZE)
    border = "".join(bt._border(side, 4) for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for _, w, _ in COLUMNS)
    rows = _row("".join(_cell(name, w, head) for name, w, _ in COLUMNS), header=True)
    span = f'<w:gridSpan w:val="{len(COLUMNS)}"/>'
    rows += _row(f'<w:tc><w:tcPr><w:tcW w:w="{L.TYPE_AREA_WIDTH_TWIPS}" w:type="dxa"/>{span}</w:tcPr>'
                 f'<w:p>{bt.ppr(style="GwTable", line=None)}{bt.r("{%tr for i in items %}", small)}</w:p></w:tc>')
    rows += _row("".join(_cell(f"{{{{ {tag} }}}}", w, small, "left" if tag in ("i.matter", "i.source") else "center")
                         for _, w, tag in COLUMNS))
    rows += _row(f'<w:tc><w:tcPr><w:tcW w:w="{L.TYPE_AREA_WIDTH_TWIPS}" w:type="dxa"/>{span}</w:tcPr>'
                 f'<w:p>{bt.ppr(style="GwTable", line=None)}{bt.r("{%tr endfor %}", small)}</w:p></w:tc>')
    return (f'<w:tbl><w:tblPr><w:tblW w:w="{L.TYPE_AREA_WIDTH_TWIPS}" w:type="dxa"/><w:jc w:val="center"/>'
            f'<w:tblBorders>{border}</w:tblBorders><w:tblLayout w:type="fixed"/>'
            '<w:tblCellMar><w:left w:w="60" w:type="dxa"/><w:right w:w="60" w:type="dxa"/></w:tblCellMar>'
            f"</w:tblPr><w:tblGrid>{grid}</w:tblGrid>{rows}</w:tbl>")


def reminder_body() -> str:
    """信函 page 1: title two lines under the double rule, 主送, the request, the table, the 署名 and
    date in the unsealed layout (a 催办单 is not sealed), then a note on how to answer."""
    parts = [
        *bt.blank(1),
        bt.p("GwTitle", bt.r("{{ title }}", bt.R_XBS)),
        *bt.blank(1),
        bt.p("GwMainTo", bt.r("{{ unit }}：", bt.R_BODY)),
        bt.p("Normal", bt.r("{{ intro }}", bt.R_BODY)),
        items_table(),
        bt.p("Normal", bt.r("{{ ask }}", bt.R_BODY)),
        *bt.blank(1),
        bt.p("GwSignatureFree", bt.r("{{ signature }}", bt.R_BODY)),
        bt.p("GwDateFree", bt.r("{{ date }}", bt.R_BODY)),
    ]
    return "".join(parts)


def build(out: Path) -> Path:
    data = bt.build("信函", body_xml=reminder_body())
    tmp = out.with_suffix(".docx.tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "templates", help="folder to write into (default: templates/)")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    print(build(args.out / "催办单.docx"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
