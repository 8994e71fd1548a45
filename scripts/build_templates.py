"""Build the GB/T 9704 公文 templates (templates/下行文.docx, 上行文, 信函, 纪要) from pipeline/layout.py.

Run `python scripts/build_templates.py [OUTDIR]` (or `make templates`) after changing a value in
layout.py; the outputs are committed so that an office can open and restyle them in Word/WPS. The
templates carry docxtpl tags ({{ }}, {%p %}, {%tr %}); pipeline/render.py fills them and then fits
what depends on the text (标志 width, 署名/成文日期 and 附件说明 indents). Every paragraph gets a named
style (公文…), so restyling in Word changes every document; every run names its East Asian font.
"""
from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from docx import Document  # noqa: E402
from docx.oxml import parse_xml  # noqa: E402

from pipeline import layout as L  # noqa: E402

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NSDECL = f'xmlns:w="{W_NS}"'
TEMPLATE_NAMES = ("下行文", "上行文", "信函", "纪要")
FIXED_TIME = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)   # reproducible core properties


# --- run and paragraph properties, in schema order (Word refuses out-of-order children) ---------------

_RPR_ORDER = ("rStyle", "rFonts", "b", "bCs", "i", "iCs", "color", "spacing", "w", "kern", "sz", "szCs",
              "lang")
_PPR_ORDER = ("pStyle", "keepNext", "keepLines", "pageBreakBefore", "widowControl", "pBdr", "tabs",
              "autoSpaceDE", "autoSpaceDN", "snapToGrid", "spacing", "ind", "jc", "outlineLvl", "rPr")


def _ordered(parts: dict[str, str], order: tuple[str, ...]) -> str:
    unknown = set(parts) - set(order)
    if unknown:
        raise ValueError(f"no schema position for {unknown}")
    return "".join(parts[k] for k in order if k in parts)


def fonts(east_asia: str, latin: str | None = None) -> str:
    latin = latin or east_asia
    return (f'<w:rFonts w:ascii="{latin}" w:eastAsia="{east_asia}" w:hAnsi="{latin}" '
            f'w:cs="{latin}" w:hint="eastAsia"/>')


def rpr(font: str, size: float | None = None, *, latin: str | None = None, color: str | None = None,
        spacing: int | None = None, bold_off: bool = False, style: str | None = None) -> str:
    """Run properties; the East Asian slot is always set (python-docx's font.name does not)."""
    parts = {"rFonts": fonts(font, latin)}
    if style:
        parts["rStyle"] = f'<w:rStyle w:val="{style}"/>'
    if bold_off:
        parts["b"] = '<w:b w:val="0"/>'
        parts["bCs"] = '<w:bCs w:val="0"/>'
    if color:
        parts["color"] = f'<w:color w:val="{color}"/>'
    if spacing is not None:
        parts["spacing"] = f'<w:spacing w:val="{spacing}"/>'
    if size is not None:
        half = round(size * 2)
        parts["sz"] = f'<w:sz w:val="{half}"/>'
        parts["szCs"] = f'<w:szCs w:val="{half}"/>'
    return "<w:rPr>" + _ordered(parts, _RPR_ORDER) + "</w:rPr>"


def ppr(*, style: str | None = None, jc: str | None = None, line: int | None = L.LINE_PITCH_TWIPS,
        before: int = 0, after: int = 0, ind: str | None = None, keep_next: bool = False,
        page_break: bool = False, border: str | None = None, tabs: str | None = None,
        outline: int | None = None, widow: bool | None = None, autospace: bool | None = None) -> str:
    parts: dict[str, str] = {}
    if style:
        parts["pStyle"] = f'<w:pStyle w:val="{style}"/>'
    if keep_next:
        parts["keepNext"] = "<w:keepNext/>"
    if page_break:
        parts["pageBreakBefore"] = "<w:pageBreakBefore/>"
    if widow is not None:
        parts["widowControl"] = f'<w:widowControl w:val="{int(widow)}"/>'
    if border:
        parts["pBdr"] = f"<w:pBdr>{border}</w:pBdr>"
    if tabs:
        parts["tabs"] = f"<w:tabs>{tabs}</w:tabs>"
    if autospace is not None:
        parts["autoSpaceDE"] = f'<w:autoSpaceDE w:val="{int(autospace)}"/>'
        parts["autoSpaceDN"] = f'<w:autoSpaceDN w:val="{int(autospace)}"/>'
    if line is not None:
        parts["spacing"] = (f'<w:spacing w:before="{before}" w:after="{after}" w:line="{line}" '
                            f'w:lineRule="exact"/>')
    if ind is not None:
        parts["ind"] = ind
    if jc:
        parts["jc"] = f'<w:jc w:val="{jc}"/>'
    if outline is not None:
        parts["outlineLvl"] = f'<w:outlineLvl w:val="{outline}"/>'
    return "<w:pPr>" + _ordered(parts, _PPR_ORDER) + "</w:pPr>"


def ind(left: int = 0, right: int = 0, first: int = 0, hanging: int = 0) -> str:
    extra = f' w:hanging="{hanging}"' if hanging else f' w:firstLine="{first}"'
    return f'<w:ind w:left="{left}" w:right="{right}"{extra}/>'


# --- styles -------------------------------------------------------------------------------------------

BODY_FONT = dict(font=L.FONT_FANGSONG, latin=L.FONT_LATIN)
CHAR_SP = L.CHAR_SPACING_TWIPS
INDENT2 = ind(first=L.chars(2))


def _border(side: str, eighths: int, color: str = "000000", space: int = 0, val: str = "single") -> str:
    return f'<w:{side} w:val="{val}" w:sz="{eighths}" w:space="{space}" w:color="{color}"/>'


RED_RULE_EIGHTHS = L.border_eighths(L.RED_RULE_MM)
# 居左空一字 / 居右空一字 on one line: a left tab one character in, a right tab one character short.
SIDE_TABS = (f'<w:tab w:val="left" w:pos="{L.chars(1)}"/>'
             f'<w:tab w:val="right" w:pos="{L.TYPE_AREA_WIDTH_TWIPS - L.chars(1)}"/>')
SEALED_LEFT = L.sealed_block_left(L.text_width_twips("2015年12月31日"))
# Space (pt) between the 发文字号 line's bottom and the red rule so the rule's centre lies
# RED_RULE_GAP_MM below the characters: the gap under the glyph inside its line is part of it.
RED_RULE_SPACE_PT = max(0, round(L.mm_to_pt(L.RED_RULE_GAP_MM - L.GLYPH_BOTTOM_BODY_MM - L.RED_RULE_MM / 2)))
# The 标志 line: its top edge 35 mm below the 版心 top, under the three reserved top lines.
MARK_BEFORE_TWIPS = L.MARK_BEFORE_TWIPS


def _style(sid: str, name: str, ppr_xml: str = "", rpr_xml: str = "", *, kind: str = "paragraph",
           based: str | None = "Normal", nxt: str | None = None, custom: bool = True) -> str:
    attrs = f'w:type="{kind}" w:styleId="{sid}"' + (' w:customStyle="1"' if custom else "")
    based_xml = f'<w:basedOn w:val="{based}"/>' if based else ""
    next_xml = f'<w:next w:val="{nxt}"/>' if nxt else ""
    return (f"<w:style {attrs}><w:name w:val=\"{name}\"/>{based_xml}{next_xml}<w:qFormat/>"
            f"{ppr_xml}{rpr_xml}</w:style>")


def styles_xml() -> str:
    """All styles of the templates: Word's four defaults plus one 公文 style per element."""
    body_rpr = rpr(L.FONT_FANGSONG, L.SIZE_3, latin=L.FONT_LATIN, spacing=CHAR_SP)
    hei = rpr(L.FONT_HEITI, L.SIZE_3, spacing=CHAR_SP, bold_off=True)
    c4 = L.SIZE_4_CHAR_TWIPS
    colophon_tab = f'<w:tab w:val="right" w:pos="{L.TYPE_AREA_WIDTH_TWIPS - c4}"/>'
    styles = [
        # Normal = 正文: 3号仿宋, justified, 2-character first-line indent, exact line pitch.
        _style("Normal", "Normal", ppr(jc="both", ind=INDENT2, widow=True, autospace=False), body_rpr,
               based=None, custom=False),
        '<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont">'
        '<w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/>'
        '<w:unhideWhenUsed/></w:style>',
        '<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/>'
        '<w:uiPriority w:val="99"/><w:semiHidden/><w:unhideWhenUsed/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/>'
        '<w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/>'
        '<w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>',
        _style("GwTopLine", "公文份号密级紧急", ppr(jc="left", ind=ind()), hei),
        _style("GwMark", "公文发文机关标志",
               ppr(jc="center", ind=ind(), line=L.MARK_LINE_TWIPS, before=MARK_BEFORE_TWIPS),
               rpr(L.FONT_XIAOBIAOSONG, L.MARK_SIZE, color=L.RED, bold_off=True)),
        _style("GwBlank", "公文空行", ppr(jc="left", ind=ind())),
        _style("GwMarkGap", "公文标志下空行", ppr(jc="left", ind=ind(), line=L.MARK_GAP_TWIPS)),
        _style("GwNumber", "公文发文字号", ppr(jc="center", ind=ind())),
        _style("GwNumberRule", "公文发文字号（红线）",
               ppr(jc="center", ind=ind(), border=_border("bottom", RED_RULE_EIGHTHS, L.RED,
                                                          RED_RULE_SPACE_PT))),
        # 上行文: 发文字号 居左空一字, 签发人 居右空一字 on the same line (tab stops; the paragraph
        # itself spans the 版心 so that the red rule under it does too).
        _style("GwSigner", "公文签发人", ppr(jc="left", ind=ind(), tabs=SIDE_TABS)),
        _style("GwSignerRule", "公文签发人（红线）",
               ppr(jc="left", ind=ind(), tabs=SIDE_TABS,
                   border=_border("bottom", RED_RULE_EIGHTHS, L.RED, RED_RULE_SPACE_PT))),
        # 纪要: 印发机关 左空一字 and 成文日期 右空一字 under the number, red rule beneath.
        _style("GwMinutesLineRule", "公文纪要机关日期（红线）",
               ppr(jc="left", ind=ind(), tabs=SIDE_TABS,
                   border=_border("bottom", RED_RULE_EIGHTHS, L.RED, RED_RULE_SPACE_PT))),
        _style("GwTitle", "公文标题", ppr(jc="center", ind=ind(), keep_next=True),
               rpr(L.FONT_XIAOBIAOSONG, L.SIZE_2, bold_off=True)),
        _style("GwMainTo", "公文主送机关", ppr(jc="both", ind=ind())),
        _style("GwH1", "公文一级标题", ppr(jc="both", ind=INDENT2, keep_next=True, outline=0), hei),
        _style("GwH2", "公文二级标题", ppr(jc="both", ind=INDENT2, keep_next=True, outline=1),
               rpr(L.FONT_KAITI, L.SIZE_3, spacing=CHAR_SP, bold_off=True)),
        _style("GwH3", "公文三级标题", ppr(jc="both", ind=INDENT2, keep_next=True, outline=2), body_rpr),
        _style("GwH4", "公文四级标题", ppr(jc="both", ind=INDENT2, outline=3), body_rpr),
        # 附件说明: "附件：1.名称"; a long name wraps to the name's first character (render.py
        # adjusts the hanging indent to the widest number).
        _style("GwAttachNote", "公文附件说明",
               ppr(jc="both", ind=ind(left=L.chars(5) + L.text_width_twips("1."),
                                      hanging=L.chars(3) + L.text_width_twips("1.")))),
        _style("GwAttachNoteMore", "公文附件说明续",
               ppr(jc="both", ind=ind(left=L.chars(5) + L.text_width_twips("1."),
                                      hanging=L.text_width_twips("1.")))),
        # 署名 and 成文日期, sealed layout (7.3.5.1): both centred on one axis placed so that the
        # date ends 右空四字; render.py moves the axis for the actual date's width.
        _style("GwSignature", "公文发文机关署名（加盖印章）",
               ppr(jc="center", ind=ind(left=SEALED_LEFT), keep_next=True)),
        _style("GwDate", "公文成文日期（加盖印章）", ppr(jc="center", ind=ind(left=SEALED_LEFT))),
        # Unsealed layout (7.3.5.2): 署名 右空二字, date's first character two characters to the
        # right of the 署名's (render.py sets both left indents).
        _style("GwSignatureFree", "公文发文机关署名（不加盖印章）",
               ppr(jc="left", ind=ind(left=L.chars(20)), keep_next=True)),
        _style("GwDateFree", "公文成文日期（不加盖印章）", ppr(jc="left", ind=ind(left=L.chars(22)))),
        _style("GwNote", "公文附注", ppr(jc="both", ind=INDENT2)),
        _style("GwAttachLabel", "公文附件标识", ppr(jc="left", ind=ind(), page_break=True, keep_next=True),
               hei),
        _style("GwAttachTitle", "公文附件标题", ppr(jc="center", ind=ind(), keep_next=True),
               rpr(L.FONT_XIAOBIAOSONG, L.SIZE_2, bold_off=True)),
        # 纪要 出席/请假/列席: label 黑体 (character style), names 仿宋 aligned after the colon.
        _style("GwAttendance", "公文纪要出席",
               ppr(jc="both", ind=ind(left=L.chars(5), hanging=L.chars(3)))),
        _style("GwHei", "公文黑体字", "", rpr(L.FONT_HEITI, bold_off=True), kind="character",
               based="DefaultParagraphFont"),
        _style("GwKai", "公文楷体字", "", rpr(L.FONT_KAITI, bold_off=True), kind="character",
               based="DefaultParagraphFont"),
        # 版记: 4号仿宋, 左右各空一字; 印发机关 left, 印发日期 right (tab).
        _style("GwColophon", "公文版记",
               ppr(jc="both", ind=ind(left=c4, right=c4, hanging=0), widow=False),
               rpr(L.FONT_FANGSONG, L.SIZE_4, latin=L.FONT_LATIN, spacing=0)),
        _style("GwColophonPrint", "公文版记印发",
               ppr(jc="left", ind=ind(left=c4, right=c4), tabs=colophon_tab, widow=False),
               rpr(L.FONT_FANGSONG, L.SIZE_4, latin=L.FONT_LATIN, spacing=0)),
        # The paragraph the floating 版记 table hangs on: as small as Word allows.
        _style("GwAnchor", "公文版记锚点", ppr(jc="left", ind=ind(), line=20),
               rpr(L.FONT_FANGSONG, 1, latin=L.FONT_LATIN, spacing=0)),
        _style("GwTable", "公文表格文字", ppr(jc="center", ind=ind(), line=None),
               rpr(L.FONT_FANGSONG, L.SIZE_4, latin=L.FONT_LATIN, spacing=0)),
        _style("GwPageNumber", "公文页码", ppr(jc="right", ind=ind(right=c4), line=round(L.SIZE_4 * 20)),
               rpr(L.FONT_SONGTI, L.SIZE_4, spacing=0)),
        _style("GwLetterHead", "公文信函版头",
               ppr(jc="center", ind=ind(), line=L.MARK_LINE_TWIPS, after=L.LETTER_HEAD_AFTER_TWIPS),
               rpr(L.FONT_XIAOBIAOSONG, L.MARK_SIZE, color=L.RED, bold_off=True)),
        _style("GwLetterNumber", "公文信函发文字号",
               ppr(jc="left", ind=ind(), tabs=f'<w:tab w:val="right" w:pos="{L.TYPE_AREA_WIDTH_TWIPS}"/>')),
    ]
    doc_defaults = (
        "<w:docDefaults><w:rPrDefault>"
        + rpr(L.FONT_FANGSONG, L.SIZE_3, latin=L.FONT_LATIN).replace(
            "</w:rPr>", '<w:lang w:val="en-US" w:eastAsia="zh-CN" w:bidi="ar-SA"/></w:rPr>')
        + "</w:rPrDefault><w:pPrDefault><w:pPr>"
        # No punctuation hanging past the right margin (GB/T 9704: 28 characters inside the 版心;
        # a mark that does not fit takes the character before it to the next line, 避头尾). This
        # is Word's and WPS's reading; LibreOffice reads the attribute the other way round, and
        # pipeline/convert.py hands it a translated copy (libreoffice_input).
        '<w:overflowPunct w:val="0"/>'
        # No snapping to the document grid and no automatic CJK/Latin spacing: line positions come
        # from the exact line pitch alone, the same in Word, WPS and LibreOffice.
        '<w:autoSpaceDE w:val="0"/><w:autoSpaceDN w:val="0"/><w:snapToGrid w:val="0"/>'
        f'<w:spacing w:before="0" w:after="0" w:line="{L.LINE_PITCH_TWIPS}" w:lineRule="exact"/>'
        "</w:pPr></w:pPrDefault></w:docDefaults>"
    )
    return f"<w:styles {NSDECL}>{doc_defaults}{''.join(styles)}</w:styles>"


# --- paragraphs ----------------------------------------------------------------------------------------

def r(text: str, rpr_xml: str | None = None) -> str:
    """A run; ``text`` may hold docxtpl tags. Every run names its East Asian face (python-docx's
    font.name would not; rendered runs keep these properties); the body face unless given."""
    return f'<w:r>{rpr_xml or R_BODY}<w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


TAB = f"<w:r>{rpr(L.FONT_FANGSONG, latin=L.FONT_LATIN)}<w:tab/></w:r>"


def p(style: str, *runs: str, rpr_xml: str | None = None) -> str:
    return f"<w:p>{ppr(style=style, line=None)}{''.join(runs)}</w:p>"


def tag(text: str) -> str:
    """A paragraph holding only a docxtpl paragraph tag ({%p …%}); docxtpl removes it."""
    return f"<w:p>{ppr(style='GwBlank', line=None)}{r(text)}</w:p>"


# Run properties per element (repeat the style's fonts on the run: East Asian slot on every run).
R_BODY = rpr(L.FONT_FANGSONG, latin=L.FONT_LATIN)
R_HEI = rpr(L.FONT_HEITI)
R_KAI = rpr(L.FONT_KAITI)
R_XBS = rpr(L.FONT_XIAOBIAOSONG)
R_MARK = rpr(L.FONT_XIAOBIAOSONG, color=L.RED)
R_SONG = rpr(L.FONT_SONGTI)


def blank(n: int = 1) -> list[str]:
    return [p("GwBlank") for _ in range(n)]


# 份号: six Arabic digits (GB/T 9704 7.2.1), set in the Latin face of the body; 密级 and 紧急程度 黑体.
R_COPY_NO = rpr(L.FONT_HEITI, latin=L.FONT_LATIN)


def top_line(var: str) -> list[str]:
    """One of the lines for 份号, 密级, 紧急程度 (a dict: copy_no, text — one of them empty)."""
    return [r(f"{{{{ {var}.copy_no }}}}", R_COPY_NO), r(f"{{{{ {var}.text }}}}", R_HEI)]


def top_lines() -> list[str]:
    return [tag("{%p for line in top_lines %}"), p("GwTopLine", *top_line("line")), tag("{%p endfor %}")]


def mark() -> list[str]:
    # 标志, then two blank lines before the 发文字号 (7.2.5).
    return [p("GwMark", r("{{ header }}", R_MARK)), p("GwMarkGap"), *blank(1)]


def title(var: str = "title_lines") -> list[str]:
    # Two blank lines below the red rule (7.3.1), then the title, one line per paragraph.
    return [*blank(2), tag(f"{{%p for line in {var} %}}"), p("GwTitle", r("{{ line }}", R_XBS)),
            tag("{%p endfor %}")]


def main_to() -> list[str]:
    # One blank line below the title; 主送 flush left with a full-width colon (7.3.2).
    return [*blank(1), tag("{%p if main_to %}"), p("GwMainTo", r("{{ main_to }}：", R_BODY)),
            tag("{%p endif %}")]


def blocks(var: str) -> list[str]:
    """The body (or an attachment's content): one paragraph per block, styled by kind."""
    return [
        tag(f"{{%p for b in {var} %}}"),
        tag('{%p if b.kind == "heading1" %}'), p("GwH1", r("{{ b.text }}", R_HEI)),
        tag('{%p elif b.kind == "heading2" %}'), p("GwH2", r("{{ b.text }}", R_KAI)),
        tag('{%p elif b.kind == "heading3" %}'), p("GwH3", r("{{ b.text }}", R_BODY)),
        tag('{%p elif b.kind == "heading4" %}'), p("GwH4", r("{{ b.text }}", R_BODY)),
        tag('{%p elif b.kind == "table" %}'), f"<w:p>{ppr(style='GwBlank', line=None)}{r('{{p b.table }}')}</w:p>",
        tag("{%p else %}"), p("Normal", r("{{ b.text }}", R_BODY)),
        tag("{%p endif %}"),
        tag("{%p endfor %}"),
    ]


def attachment_note() -> list[str]:
    # One blank line below the body, 左空二字, "附件：" then "1.名称" (7.3.3).
    return [
        tag("{%p if attachment_note %}"), *blank(1),
        tag("{%p for a in attachment_note %}"),
        tag("{%p if loop.first %}"), p("GwAttachNote", r("附件：{{ a.num }}{{ a.name }}", R_BODY)),
        tag("{%p else %}"), p("GwAttachNoteMore", r("{{ a.num }}{{ a.name }}", R_BODY)),
        tag("{%p endif %}"),
        tag("{%p endfor %}"),
        tag("{%p endif %}"),
    ]


def signature_block() -> list[str]:
    """署名 and 成文日期 in the sealed layout (seal_gap blank lines for the seal) or the unsealed one
    (one blank line, 7.3.5.2), then 附注 on the next line (7.3.6)."""
    return [
        tag("{%p if sealed %}"),
        tag("{%p for _ in seal_gap %}"), *blank(1), tag("{%p endfor %}"),
        p("GwSignature", r("{{ signature }}", R_BODY)),
        p("GwDate", r("{{ date }}", R_BODY)),
        tag("{%p else %}"),
        *blank(1),
        p("GwSignatureFree", r("{{ signature }}", R_BODY)),
        p("GwDateFree", r("{{ date }}", R_BODY)),
        tag("{%p endif %}"),
        tag("{%p if note %}"), p("GwNote", r("（{{ note }}）", R_BODY)), tag("{%p endif %}"),
    ]


def attachments() -> list[str]:
    # Each attachment on a new page: 附件N in 3号黑体 on line 1, its title centred on line 3.
    return [
        tag("{%p for a in attachments %}"),
        p("GwAttachLabel", r("{{ a.label }}", R_HEI)),
        *blank(1),
        tag("{%p for line in a.title_lines %}"), p("GwAttachTitle", r("{{ line }}", R_XBS)), tag("{%p endfor %}"),
        *blank(1),
        *blocks("a.body"),
        tag("{%p endfor %}"),
    ]


def attendance() -> list[str]:
    # 纪要: one blank line below the body, 出席/请假/列席 左空二字, label 黑体 (10.3).
    return [
        tag("{%p if attendance %}"), *blank(1),
        tag("{%p for m in attendance %}"),
        p("GwAttendance", r("{{ m.label }}：", rpr(L.FONT_HEITI, style="GwHei")), r("{{ m.names }}", R_BODY)),
        tag("{%p endfor %}"),
        tag("{%p endif %}"),
    ]


def _table_row(cell_paragraphs: str, width: int, height: int | None = None) -> str:
    tr_pr = (f'<w:trPr><w:cantSplit/><w:trHeight w:val="{height}" w:hRule="exact"/></w:trPr>' if height
             else "<w:trPr><w:cantSplit/></w:trPr>")
    return (f"<w:tr>{tr_pr}<w:tc><w:tcPr><w:tcW w:w=\"{width}\" w:type=\"dxa\"/>"
            f'<w:vAlign w:val="center"/></w:tcPr>{cell_paragraphs}</w:tc></w:tr>')


def _tag_row(text: str, width: int) -> str:
    return _table_row(f"<w:p>{ppr(style='GwColophon', line=None)}{r(text)}</w:p>", width)


def _float_table(rows: str, width: int, *, x_twips: int, y_spec: str | None = None,
                 y_twips: int | None = None, v_anchor: str = "margin", borders: str = "",
                 bottom_from_text: int = 0) -> str:
    """A table floating at a fixed place. Positioned horizontally against the *page* so that
    LibreOffice imports it as a frame (it turns a full-width table anchored to the margin back into
    an inline table); vertically against the margin (版记: bottom of the 版心) or the page."""
    y = f'w:tblpYSpec="{y_spec}"' if y_spec else f'w:tblpY="{y_twips}"'
    return (
        f"<w:tbl><w:tblPr>"
        f'<w:tblpPr w:leftFromText="0" w:rightFromText="0" w:topFromText="0" w:bottomFromText="{bottom_from_text}" '
        f'w:vertAnchor="{v_anchor}" w:horzAnchor="page" w:tblpX="{x_twips}" {y}/>'
        f'<w:tblOverlap w:val="never"/>'
        f'<w:tblW w:w="{width}" w:type="dxa"/>'
        f"<w:tblBorders>{borders}</w:tblBorders>"
        '<w:tblLayout w:type="fixed"/>'
        '<w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="0" w:type="dxa"/>'
        '<w:bottom w:w="0" w:type="dxa"/><w:right w:w="0" w:type="dxa"/></w:tblCellMar>'
        '<w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" w:lastColumn="0" '
        'w:noHBand="1" w:noVBand="1"/>'
        f"</w:tblPr><w:tblGrid><w:gridCol w:w=\"{width}\"/></w:tblGrid>{rows}</w:tbl>"
    )


def colophon(lines: bool = True) -> list[str]:
    """版记 as a table floating at the bottom of the 版心 of the page where the document ends, so its
    last rule always lies on the 版心 bottom (7.4). 文件/纪要: 抄送 then 印发机关/印发日期, thick
    first and last rules, thin rule between. 信函: 抄送 only, no rules (10.1)."""
    w = L.TYPE_AREA_WIDTH_TWIPS
    cc = _table_row(p("GwColophon", r("抄送：{{ cc }}。", R_BODY)), w)
    if lines:
        thick, thin = L.border_eighths(L.COLOPHON_THICK_MM), L.border_eighths(L.COLOPHON_THIN_MM)
        borders = (_border("top", thick) + '<w:left w:val="nil"/>' + _border("bottom", thick)
                   + '<w:right w:val="nil"/>' + _border("insideH", thin) + '<w:insideV w:val="nil"/>')
        rows = (_tag_row("{%tr if cc %}", w) + cc + _tag_row("{%tr endif %}", w)
                + _table_row(p("GwColophonPrint", r("{{ printer }}", R_BODY), TAB,
                               r("{{ print_date }}印发", R_BODY)), w))
        return [_float_table(rows, w, x_twips=L.mm_to_twips(L.MARGIN_LEFT_MM), y_spec="bottom",
                             borders=borders), p("GwAnchor")]
    borders = ('<w:top w:val="nil"/><w:left w:val="nil"/><w:bottom w:val="nil"/><w:right w:val="nil"/>'
               '<w:insideH w:val="nil"/><w:insideV w:val="nil"/>')
    return [tag("{%p if cc %}"),
            _float_table(cc, w, x_twips=L.mm_to_twips(L.MARGIN_LEFT_MM), y_spec="bottom", borders=borders),
            p("GwAnchor"), tag("{%p endif %}")]


WP_NS = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
WPS_NS = "http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
EMU_PER_MM = 36000


def red_rule(shape_id: int, name: str, y_mm: float, width_mm: float) -> str:
    """A red horizontal line drawn at a fixed place on the page (DrawingML, no text wrap): each 信函
    double line is two of these, outside the flow of the text."""
    x = round((L.PAGE_WIDTH_MM - L.LETTER_RULE_LENGTH_MM) / 2 * EMU_PER_MM)
    cx = round(L.LETTER_RULE_LENGTH_MM * EMU_PER_MM)
    return (
        f'<w:r><w:drawing><wp:anchor xmlns:wp="{WP_NS}" distT="0" distB="0" distL="0" distR="0" '
        f'simplePos="0" relativeHeight="{shape_id}" behindDoc="0" locked="1" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/>'
        f'<wp:positionH relativeFrom="page"><wp:posOffset>{x}</wp:posOffset></wp:positionH>'
        f'<wp:positionV relativeFrom="page"><wp:posOffset>{round(y_mm * EMU_PER_MM)}</wp:posOffset></wp:positionV>'
        f'<wp:extent cx="{cx}" cy="0"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapNone/>'
        f'<wp:docPr id="{shape_id}" name="{name}"/><wp:cNvGraphicFramePr/>'
        f'<a:graphic xmlns:a="{A_NS}"><a:graphicData uri="{WPS_NS}">'
        f'<wps:wsp xmlns:wps="{WPS_NS}"><wps:cNvCnPr/><wps:spPr>'
        f'<a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="0"/></a:xfrm>'
        '<a:prstGeom prst="line"><a:avLst/></a:prstGeom>'
        f'<a:ln w="{round(width_mm * EMU_PER_MM)}"><a:solidFill><a:srgbClr val="{L.RED}"/></a:solidFill></a:ln>'
        "</wps:spPr><wps:bodyPr/></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></w:r>"
    )


def letter_header() -> str:
    """信函 page 1 (10.1) as the first-page header: the 标志 with its top edge 30 mm from the paper
    top (header distance), a red double line (thick over thin) 4 mm below it and another (thin over
    thick) 20 mm above the paper bottom, both 170 mm long and centred. The space below the 标志
    pushes the body down so that the 发文字号 starts 7/8 of a 3号 character under the double line."""
    top = L.LETTER_MARK_TOP_MM + L.MARK_SIZE * L.MM_PER_PT + L.LETTER_RULE_GAP_MM
    thick, thin, gap = L.LETTER_RULE_THICK_MM, L.LETTER_RULE_THIN_MM, L.LETTER_RULE_SPACE_MM
    bottom = L.PAGE_HEIGHT_MM - L.LETTER_BOTTOM_RULE_MM
    rules = (red_rule(101, "信函上双线（粗）", top + thick / 2, thick)
             + red_rule(102, "信函上双线（细）", top + thick + gap + thin / 2, thin)
             + red_rule(103, "信函下双线（细）", bottom - thick - gap - thin / 2, thin)
             + red_rule(104, "信函下双线（粗）", bottom - thick / 2, thick))
    return f'<w:p {NSDECL}>{ppr(style="GwLetterHead", line=None)}{r("{{ header }}", R_MARK)}{rules}</w:p>'


def letter_number() -> list[str]:
    # 份号/密级/紧急程度 flush left, 发文字号 flush right on the first line below the double rule.
    return [
        p("GwLetterNumber", *top_line("letter_left[0]"), TAB, r("{{ number }}", R_BODY)),
        tag("{%p for line in letter_left[1:] %}"), p("GwTopLine", *top_line("line")), tag("{%p endfor %}"),
    ]


def body_for(name: str) -> list[str]:
    if name == "下行文":
        head = [*top_lines(), *mark(), p("GwNumberRule", r("{{ number }}", R_BODY))]
    elif name == "上行文":
        head = [*top_lines(), *mark(),
                tag("{%p for line in signer_lines %}"),
                tag("{%p if loop.last %}"),
                p("GwSignerRule", TAB, r("{{ line.number }}", R_BODY), TAB, r("{{ line.label }}", R_BODY),
                  r("{{ line.names }}", rpr(L.FONT_KAITI, style="GwKai"))),
                tag("{%p else %}"),
                p("GwSigner", TAB, TAB, r("{{ line.label }}", R_BODY),
                  r("{{ line.names }}", rpr(L.FONT_KAITI, style="GwKai"))),
                tag("{%p endif %}"),
                tag("{%p endfor %}")]
    elif name == "纪要":
        head = [*top_lines(), *mark(), p("GwNumber", r("{{ number }}", R_BODY)),
                p("GwMinutesLineRule", TAB, r("{{ printer }}", R_BODY), TAB, r("{{ date }}", R_BODY))]
    elif name == "信函":
        head = letter_number()
    else:
        raise ValueError(name)
    if name == "纪要":
        parts = [*head, tag("{%p if title_lines %}"), *title(), tag("{%p endif %}"), *main_to(),
                 *blocks("body"), *attachment_note(), *attendance(), *attachments(), *colophon(True)]
    else:
        parts = [*head, *title(), *main_to(), *blocks("body"), *attachment_note(), *signature_block(),
                 *attachments(), *colophon(lines=name != "信函")]
    return "".join(parts)


# --- page setup, footers, settings -----------------------------------------------------------------------

def page_number_paragraph(align: str) -> str:
    """"— n —" in 4号宋体: odd pages 右空一字, even pages 左空一字 (7.5)."""
    c4 = L.SIZE_4_CHAR_TWIPS
    indent = ind(right=c4) if align == "right" else ind(left=c4)
    dash = L.PAGE_NUMBER_DASH
    rp = rpr(L.FONT_SONGTI)
    field = (f'<w:r>{rp}<w:fldChar w:fldCharType="begin"/></w:r>'
             f'<w:r>{rp}<w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
             f'<w:r>{rp}<w:fldChar w:fldCharType="separate"/></w:r>'
             f'<w:r>{rp}<w:t>1</w:t></w:r>'
             f'<w:r>{rp}<w:fldChar w:fldCharType="end"/></w:r>')
    return (f'<w:p {NSDECL}>{ppr(style="GwPageNumber", jc=align, ind=indent, line=None)}'
            f'{r(dash + " ", rp)}{field}{r(" " + dash, rp)}</w:p>')


def _set_footer(footer, paragraph_xml: str | None) -> None:
    footer.is_linked_to_previous = False
    ftr = footer._element
    for child in list(ftr):
        ftr.remove(child)
    ftr.append(parse_xml(paragraph_xml or f'<w:p {NSDECL}>{ppr(style="GwBlank", line=None)}</w:p>'))


def build(name: str, body_xml: str | None = None) -> bytes:
    """One template as .docx bytes; ``body_xml`` replaces the 公文 body of ``name`` (other documents in
    the same page format, e.g. the 督办 催办单 in 信函 format)."""
    doc = Document()
    # Styles: replace python-docx's default set with the 公文 styles.
    styles_el = doc.styles.element
    for child in list(styles_el):
        styles_el.remove(child)
    for child in parse_xml(styles_xml()):
        styles_el.append(child)

    body = doc.element.body
    sect = body[-1]
    for child in list(body)[:-1]:
        body.remove(child)
    wrapper = parse_xml(f"<w:body {NSDECL}>{body_xml if body_xml is not None else body_for(name)}</w:body>")
    for child in list(wrapper):
        sect.addprevious(child)

    section = doc.sections[0]
    doc.settings.odd_and_even_pages_header_footer = True
    _set_footer(section.footer, page_number_paragraph("right"))
    _set_footer(section.even_page_footer, page_number_paragraph("left"))
    if name == "信函":
        section.different_first_page_header_footer = True   # 信函: no page number on page 1
        _set_footer(section.first_page_footer, None)
        _set_footer(section.first_page_header, letter_header())

    sect_pr = section._sectPr
    for tagname in ("pgSz", "pgMar", "cols", "docGrid"):
        for el in sect_pr.findall(f"{{{W_NS}}}{tagname}"):
            sect_pr.remove(el)
    new = parse_xml(
        f'<w:sectPr {NSDECL}><w:pgSz w:w="{L.mm_to_twips(L.PAGE_WIDTH_MM)}" w:h="{L.mm_to_twips(L.PAGE_HEIGHT_MM)}"/>'
        f'<w:pgMar w:top="{L.mm_to_twips(L.MARGIN_TOP_MM)}" w:right="{L.mm_to_twips(L.MARGIN_RIGHT_MM)}" '
        f'w:bottom="{L.mm_to_twips(L.MARGIN_BOTTOM_MM)}" w:left="{L.mm_to_twips(L.MARGIN_LEFT_MM)}" '
        f'w:header="{L.LETTER_HEADER_DISTANCE_TWIPS if name == "信函" else L.HEADER_DISTANCE_TWIPS}" w:footer="{L.FOOTER_DISTANCE_TWIPS}" w:gutter="0"/>'
        '<w:cols w:space="425"/>'
        # Word/WPS 文档网格: 22 lines per page at the template's line pitch (页面设置 › 文档网格).
        f'<w:docGrid w:type="lines" w:linePitch="{L.LINE_PITCH_TWIPS}"/></w:sectPr>')
    # Insert pgSz/pgMar/cols right after the header/footer references and titlePg handling order.
    refs = [el for el in sect_pr if el.tag in (f"{{{W_NS}}}headerReference", f"{{{W_NS}}}footerReference")]
    anchor = refs[-1] if refs else None
    for el in list(new)[:3]:
        if anchor is None:
            sect_pr.insert(0, el)
        else:
            anchor.addnext(el)
        anchor = el
    title_pg = sect_pr.find(f"{{{W_NS}}}titlePg")
    grid = list(new)[-1]
    (title_pg if title_pg is not None else anchor).addnext(grid)

    settings = doc.settings.element
    lang = settings.find(f"{{{W_NS}}}themeFontLang")
    if lang is not None:
        lang.set(f"{{{W_NS}}}eastAsia", "zh-CN")

    # Drop what python-docx's default package carries and a 公文 template does not need (Word 2010
    # style effects, a customXml item, a thumbnail): smaller files, nothing stale.
    for rels in (doc.part.rels, doc.part.package.rels):
        for rid, rel in list(rels.items()):
            if rel.reltype.endswith(("/stylesWithEffects", "/customXml", "/metadata/thumbnail")):
                rels.pop(rid)

    props = doc.core_properties
    props.title = f"公文模板（{name}）"
    props.author = props.last_modified_by = "gongwen scripts/build_templates.py"
    props.subject = "GB/T 9704-2012"
    props.created = props.modified = FIXED_TIME
    props.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else REPO / "templates"
    out.mkdir(parents=True, exist_ok=True)
    for name in TEMPLATE_NAMES:
        path = out / f"{name}.docx"
        tmp = path.with_suffix(".docx.tmp")
        tmp.write_bytes(build(name))
        tmp.replace(path)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
