"""Build the robustness corpus in tests/fixtures/robustness/: .docx drafts made the way Word and WPS
users really make them (titles split over paragraphs, run-in bold headings, soft returns, automatic
numbering, text boxes, images, tracked changes and comments, content controls and fields, a file
saved by LibreOffice, layout tables, document properties), and the text drafts whose bytes matter
(UTF-8 with BOM and CRLF, UTF-16 from Notepad, zero-width characters). The Markdown/YAML/text drafts
that are plain UTF-8 are committed as written.

    .venv/bin/python scripts/make_robustness_fixtures.py [OUTDIR]

Each draft is a list of paragraph specs (see ``P``); the text is what a secretary types, the options
say how they formatted it. Re-running gives the same document content (zip timestamps aside; the
LibreOffice-saved draft is re-saved by soffice when it is installed, kept as is otherwise);
tests/test_robustness.py checks that the committed drafts match this script.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_example_docx import FIXED_TIME, save_docx  # noqa: E402  (the sibling script's helpers)
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "tests" / "fixtures" / "robustness"

ALIGN = {"center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT,
         "left": WD_ALIGN_PARAGRAPH.LEFT, "justify": WD_ALIGN_PARAGRAPH.JUSTIFY}


@dataclass
class P:
    """One paragraph as typed. ``text`` may hold "\\n" (a soft return, Shift+Enter) and "\\t";
    «+…+» is a tracked insertion, «-…-» a tracked deletion, «c…|comment» a commented range.
    ``runs``: (text, bold) pieces instead of ``text`` (run-in bold headings)."""

    text: str = ""
    font: str = "仿宋_GB2312"
    size: float = 16
    bold: bool = False
    align: str = "justify"
    indent: bool = False             # first-line indent of two characters (set in the paragraph)
    runs: list = field(default_factory=list)
    num: tuple | None = None         # (numId, level): Word automatic numbering
    textbox: str | None = None       # a text box anchored in this paragraph, holding this text
    image: bool = False              # an inline picture at the end of the paragraph
    page_break_before: bool = False
    border_bottom: bool = False      # the red rule some clerks draw under a typed 版头
    color: str | None = None


def title(text: str, size: float = 22) -> P:
    return P(text, font="方正小标宋简体", size=size, bold=True, align="center")


def body(text: str) -> P:
    return P(text, indent=True)


def right(text: str) -> P:
    return P(text, align="right")


def blank() -> P:
    return P("")


@dataclass
class T:
    """A table; ``borders`` False = a layout table (署名/日期 aligned in cells)."""

    rows: list
    borders: bool = True
    merge_first_row: bool = False
    align: str = "justify"


class PB:
    """A page break (its own paragraph)."""


# --- low-level helpers ------------------------------------------------------------------------------
def _font(run, font: str, size: float, bold: bool, color: str | None = None) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold or None
    run.font.name = font
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    if color:
        from docx.shared import RGBColor
        run.font.color.rgb = RGBColor.from_string(color)


_MARK = re.compile(r"«([+\-c])(.*?)(?:\|(.*?))?\1?»", re.S)
_rev_id = [100]


def _revision(tag: str) -> OxmlElement:
    el = OxmlElement(tag)
    _rev_id[0] += 1
    el.set(qn("w:id"), str(_rev_id[0]))
    el.set(qn("w:author"), "刘科长")
    el.set(qn("w:date"), "2015-03-19T16:20:00Z")
    return el


def _add_text(doc, p, spec: P, text: str, bold: bool) -> list:
    """Runs for ``text``, honouring the revision/comment markers; returns the runs made."""
    made = []
    pos = 0
    for m in _MARK.finditer(text):
        if m.start() > pos:
            r = p.add_run(text[pos:m.start()])
            _font(r, spec.font, spec.size, bold, spec.color)
            made.append(r)
        kind, inner, comment = m.group(1), m.group(2).rstrip("+-"), m.group(3)
        r = p.add_run(inner)
        _font(r, spec.font, spec.size, bold, spec.color)
        if kind == "+":
            ins = _revision("w:ins")
            r._r.addprevious(ins)
            ins.append(r._r)
        elif kind == "-":
            for t in r._r.findall(qn("w:t")):
                dt_ = OxmlElement("w:delText")
                dt_.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
                dt_.text = t.text
                t.addprevious(dt_)
                r._r.remove(t)
            d = _revision("w:del")
            r._r.addprevious(d)
            d.append(r._r)
        else:
            doc.add_comment(r, text=comment or "请核实", author="刘科长", initials="LKZ")
            made.append(r)
        pos = m.end()
    if pos < len(text):
        r = p.add_run(text[pos:])
        _font(r, spec.font, spec.size, bold, spec.color)
        made.append(r)
    return made


def _png(width: int = 40, height: int = 30) -> bytes:
    """A small grey PNG (a stand-in for a photo pasted into the draft)."""
    raw = b"".join(b"\x00" + bytes([200, 200, 200]) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


_shape_id = [1]


def _textbox_run(text: str) -> OxmlElement:
    """A run holding a floating text box as Word 2010+ writes it: the DrawingML shape (mc:Choice)
    and the VML copy of the same text (mc:Fallback)."""
    _shape_id[0] += 1
    sid = _shape_id[0]
    inner = (f'<w:p><w:r><w:rPr><w:rFonts w:ascii="仿宋_GB2312" w:eastAsia="仿宋_GB2312"/><w:sz w:val="28"/></w:rPr>'
             f'<w:t>{escape(text)}</w:t></w:r></w:p>')
    xml = (
        f'<w:r {nsdecls("w")} xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
        'xmlns:v="urn:schemas-microsoft-com:vml">'
        '<mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
        '<wp:anchor distT="0" distB="0" distL="114300" distR="114300" simplePos="0" relativeHeight="2" '
        'behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/><wp:positionH relativeFrom="column"><wp:posOffset>2000000</wp:posOffset></wp:positionH>'
        '<wp:positionV relativeFrom="paragraph"><wp:posOffset>100000</wp:posOffset></wp:positionV>'
        '<wp:extent cx="2800000" cy="500000"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapSquare wrapText="bothSides"/>'
        f'<wp:docPr id="{sid}" name="文本框 {sid}"/><wp:cNvGraphicFramePr/>'
        '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        '<wps:wsp><wps:cNvSpPr txBox="1"/><wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="2800000" cy="500000"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:ln w="6350"><a:solidFill><a:srgbClr val="000000"/></a:solidFill></a:ln></wps:spPr>'
        f'<wps:txbx><w:txbxContent>{inner}</w:txbxContent></wps:txbx><wps:bodyPr/></wps:wsp>'
        '</a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>'
        '<mc:Fallback><w:pict><v:shape style="position:absolute;width:220pt;height:40pt" stroked="t">'
        f'<v:textbox><w:txbxContent>{inner}</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback>'
        '</mc:AlternateContent></w:r>')
    return parse_xml(xml)


def _numbering(doc) -> None:
    """Word's multilevel list for 公文 headings (一、/（一）/1./（1）, numId 1) and a plain decimal
    list "1." (numId 2), as a clerk sets them up with 定义新的多级列表."""
    np = doc.part.numbering_part.element
    levels = [("chineseCounting", "%1、"), ("chineseCounting", "（%2）"), ("decimal", "%3."), ("decimal", "（%4）")]
    lvls = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/><w:lvlText w:val="{txt}"/>'
        f'<w:lvlJc w:val="left"/><w:pPr><w:ind w:left="0" w:firstLine="640"/></w:pPr></w:lvl>'
        for i, (fmt, txt) in enumerate(levels))
    absn = parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="90"><w:multiLevelType w:val="multilevel"/>{lvls}</w:abstractNum>')
    absd = parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="91"><w:multiLevelType w:val="singleLevel"/>'
                     '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/>'
                     '<w:lvlJc w:val="left"/></w:lvl></w:abstractNum>')
    first_num = np.find(qn("w:num"))
    for a in (absn, absd):
        if first_num is not None:
            first_num.addprevious(a)
        else:
            np.append(a)
    np.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="901"><w:abstractNumId w:val="90"/></w:num>'))
    np.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="902"><w:abstractNumId w:val="91"/></w:num>'))


def _borderless(table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = parse_xml(f'<w:tblBorders {nsdecls("w")}>' + "".join(
        f'<w:{s} w:val="nil"/>' for s in ("top", "left", "bottom", "right", "insideH", "insideV")) + "</w:tblBorders>")
    tbl_pr.append(borders)


def build(path: Path, items: list, *, props: dict | None = None, core: dict | None = None,
          header: str | None = None, footer_page: bool = False) -> Path:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "仿宋_GB2312"
    normal.font.size = Pt(16)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋_GB2312")
    if any(isinstance(x, P) and x.num for x in items):
        _numbering(doc)
    for it in items:
        if it is PB or isinstance(it, PB):
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            continue
        if isinstance(it, T):
            ncols = max(len(r) for r in it.rows)
            table = doc.add_table(rows=len(it.rows), cols=ncols)
            if it.borders:
                table.style = "Table Grid"
            else:
                _borderless(table)
            for r, row in enumerate(it.rows):
                for c, text in enumerate(row):
                    cell = table.cell(r, c)
                    para = cell.paragraphs[0]
                    para.alignment = ALIGN[it.align]
                    for k, line in enumerate(text.split("\n")):
                        if k:
                            para = cell.add_paragraph()
                            para.alignment = ALIGN[it.align]
                        run = para.add_run(line)
                        _font(run, "仿宋_GB2312", 14 if it.borders else 16, r == 0 and it.borders)
            if it.merge_first_row and ncols > 1:
                merged = table.cell(0, 0).merge(table.cell(0, ncols - 1))
                for extra in merged.paragraphs[1:]:
                    extra._p.getparent().remove(extra._p)
            continue
        p = doc.add_paragraph()
        p.alignment = ALIGN[it.align]
        if it.indent:
            p.paragraph_format.first_line_indent = Pt(it.size * 2)
        if it.page_break_before:
            p.paragraph_format.page_break_before = True
        if it.num:
            num_id, lvl = it.num
            p_pr = p._p.get_or_add_pPr()
            p_pr.insert(0, parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{lvl}"/><w:numId w:val="{num_id}"/></w:numPr>'))
        if it.border_bottom:
            p._p.get_or_add_pPr().append(parse_xml(
                f'<w:pBdr {nsdecls("w")}><w:bottom w:val="single" w:sz="12" w:space="1" w:color="FF0000"/></w:pBdr>'))
        if it.runs:
            for text, bold in it.runs:
                _add_text(doc, p, it, text, bold)
        else:
            _add_text(doc, p, it, it.text, it.bold)
        if it.textbox:
            p._p.append(_textbox_run(it.textbox))
        if it.image:
            p.add_run().add_picture(io.BytesIO(_png()), width=Cm(6))
    if header:
        hp = doc.sections[0].header.paragraphs[0]
        hp.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(hp.add_run(header), "宋体", 10.5, False)
    if footer_page:
        fp = doc.sections[0].footer.paragraphs[0]
        fp.alignment = WD_ALIGN_PARAGRAPH.CENTER
        fp._p.append(parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>'))
    c = doc.core_properties
    c.author = c.last_modified_by = "办公室秘书组"
    c.created = c.modified = FIXED_TIME
    c.revision = 3
    c.title = ""
    for k, v in (core or {}).items():
        setattr(c, k, v)
    return save_docx(doc, path, props)


def _field_paragraph(doc_items: list, before: str, result: str, instr: str) -> None:
    """Marker for a paragraph whose text ends in a complex field (handled in fix_fields)."""
    doc_items.append(P(f"{before}⟦{instr}|{result}⟧", indent=True))


def fix_fields(path: Path) -> None:
    """Turn ⟦instr|result⟧ in the saved document into a complex field (fldChar begin/instrText/
    separate/result/end), and wrap paragraphs starting with ⟪sdt⟫ in a content control, as WPS and
    Word templates do."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    xml = members["word/document.xml"].decode("utf-8")

    def field(m: re.Match) -> str:
        instr, result = m.group(1), m.group(2)
        return ('</w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
                f'<w:r><w:instrText xml:space="preserve"> {escape(instr)} </w:instrText></w:r>'
                '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
                f'<w:r><w:t>{escape(result)}</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:t>')

    xml = re.sub(r"⟦([^|⟧]*)\|([^⟧]*)⟧", field, xml)

    def sdt(m: re.Match) -> str:
        return (f'<w:sdt><w:sdtPr><w:alias w:val="标题"/><w:tag w:val="title"/></w:sdtPr><w:sdtContent>{m.group(0).replace("⟪sdt⟫", "")}'
                "</w:sdtContent></w:sdt>")

    xml = re.sub(r"<w:p>(?:(?!</w:p>).)*?⟪sdt⟫.*?</w:p>", sdt, xml, flags=re.S)

    def link(m: re.Match) -> str:
        return (f'</w:t></w:r><w:hyperlink w:history="1" w:tooltip="{escape(m.group(2))}"><w:r><w:t>{m.group(1)}</w:t></w:r>'
                "</w:hyperlink><w:r><w:t>")

    xml = re.sub(r"⟨([^|⟩]*)\|([^⟩]*)⟩", link, xml)
    members["word/document.xml"] = xml.encode("utf-8")
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in members.items():
            z.writestr(n, data)
    os.replace(tmp, path)


# --- the drafts -----------------------------------------------------------------------------------------
MAIN_TO_ALL = "各镇人民政府、街道办事处，区政府各部门、各直属机构"


def d01():
    """通知: title split over three bold paragraphs, 主送 with a half-width colon, full-width spaces for
    indentation, bold heading paragraphs, signature and date right-aligned with spaces, 附注, 版记."""
    return "r01-通知-标题分三段-半角冒号-空格缩进.docx", [
        title("珠晖区人民政府"),
        title("关于做好2015年汛期地质灾害"),
        title("防治工作的通知"),
        blank(), blank(),
        P("各镇人民政府、街道办事处，区政府各部门:"),
        P("　　当前我区已进入汛期，强降雨天气频繁，地质灾害进入易发高发期。为切实做好2015年汛期地质灾害防治工作，最大限度减少灾害造成的人员伤亡和财产损失，现就有关事项通知如下："),
        P("　　一、高度重视，压实防治责任", font="黑体", bold=True),
        P("　　各镇（街道）、各有关部门要牢固树立“以人为本、预防为主”的理念，严格落实地质灾害防治行政首长负责制，层层签订责任状，将防治责任落实到具体单位和责任人。"),
        blank(),
        P("　　二、突出重点，加强巡查排查", font="黑体", bold=True),
        P("　　（一）开展汛前排查", font="楷体_GB2312"),
        P("　　区国土资源分局要会同各镇（街道），在5月20日前对全区28处地质灾害隐患点开展一轮全面排查，逐点落实监测责任人和防灾预案。"),
        P("　　（二）加强汛期巡查", font="楷体_GB2312"),
        P("　　强降雨期间，各隐患点监测人员要加密巡查频次，发现险情立即报告并组织群众撤离。"),
        P("　　1．茶山坳镇重点监测新联村滑坡隐患点。"),
        P("　　2．和平乡做好湖东村崩塌隐患点搬迁避让。"),
        P("　　三、强化值守，确保信息畅通", font="黑体", bold=True),
        P("　　汛期各单位要严格执行24小时值班和领导带班制度，发生地质灾害险情灾情，要在30分钟内报告区政府总值班室（电话：0734-8212119）。"),
        blank(), blank(), blank(),
        P("                                珠晖区人民政府", align="right"),
        P("                                2015年5月12日", align="right"),
        P("　　（此件公开发布）"),
        blank(), blank(), blank(),
        P("抄送：区委办，区人大办，区政协办，区人武部。", size=14),
        P("珠晖区人民政府办公室                    2015年5月12日印发", size=14),
    ], {}


def d02():
    """通报: run-in bold headings, heading numbers typed 1、 ㈠ (1), soft returns mid-sentence and
    after a sentence, 署名 and 日期 in one right-aligned paragraph split by a soft return."""
    return "r02-通报-行内标题-序号变体-软回车.docx", [
        title("珠晖区人民政府办公室关于2014年度政务服务工作考核情况的通报"),
        blank(),
        P(MAIN_TO_ALL + "："),
        body("根据《珠晖区政务服务工作考核办法》，区政府办公室组织对全区32个单位2014年度\n政务服务工作进行了考核。现将考核情况通报如下。"),
        P(runs=[("一、总体情况。", True), ("2014年，全区各单位进驻政务服务中心的审批事项达到216项，共受理办件4.6万件，按时办结率99.2%，群众满意率98.6%。", False)], indent=True),
        P(runs=[("二、考核结果。", True), ("经综合评定，区国土资源分局等10个单位考核等次为优秀，区城管局等18个单位为良好，区水务局等4个单位为合格。", False)], indent=True),
        P("三、存在的问题", bold=True, indent=True),
        body("㈠窗口授权不到位。部分单位进驻窗口的审批权限未充分授权，群众办事仍需“两头跑”。"),
        body("㈡服务效率不够高。个别窗口办件超时，全年共有超时办件37件。"),
        P("四、下一步工作要求", bold=True, indent=True),
        body("1、深化授权改革。各单位要在2015年6月底前完成窗口授权。"),
        body("2、推行限时办结。对办件超时的窗口，按以下规定处理："),
        body("(1)超时1次的，予以通报批评；"),
        body("(2)超时3次以上的，取消年度评优资格。"),
        body("希望受到表彰的单位再接再厉。\n其他单位要对照先进找差距，切实提高政务服务水平。"),
        blank(),
        P("珠晖区人民政府办公室　　\n2015年1月30日　　　", align="right"),
    ], {}


def d03():
    """请示 with two 签发人 typed at the top (names separated by a full-width space), 附注 with the
    contact person."""
    return "r03-请示-两个签发人.docx", [
        P("签发人：陈礼洋　彭建元", align="right", font="楷体_GB2312"),
        blank(),
        title("珠晖区人民政府关于将酃湖公园建设项目"),
        title("列入2015年市重点建设项目的请示"),
        blank(),
        P("衡阳市人民政府："),
        body("酃湖公园位于我区酃湖乡，规划面积1200亩，是衡阳市城市总体规划确定的城东片区综合性公园。项目总投资约3.6亿元，建成后将有效改善城东片区人居环境，带动周边区域发展。"),
        body("目前，项目已完成规划设计、环境影响评价和用地预审等前期工作，具备开工条件。为加快项目建设，恳请市人民政府将酃湖公园建设项目列入2015年市重点建设项目，在用地指标、融资等方面给予支持。"),
        body("妥否，请批示。"),
        blank(), blank(),
        right("珠晖区人民政府"),
        right("2015年2月10日"),
        body("（联系人：聂百洲，电话：0734-8212388）"),
    ], {}


def d04():
    """意见 whose headings (and one 附件说明 list) are Word automatic numbering: the numbers are not
    in the text."""
    def H(text, lvl):
        return P(text, num=(901, lvl), font="黑体" if lvl == 0 else "楷体_GB2312" if lvl == 1 else "仿宋_GB2312")
    return "r04-意见-自动编号标题.docx", [
        title("珠晖区人民政府关于加强城区农贸市场管理的意见"),
        blank(),
        P(MAIN_TO_ALL + "："),
        body("为规范城区农贸市场经营秩序，保障食品安全，方便群众生活，结合我区实际，提出如下意见。"),
        H("明确管理职责", 0),
        H("属地管理责任", 1),
        body("各街道办事处对辖区农贸市场负属地管理责任，要建立市场管理工作联席会议制度。"),
        H("部门监管责任", 1),
        body("区商务局、区食药监局、区城管局等部门按照各自职责，加强对农贸市场的行业管理和执法监管。"),
        H("规范经营秩序", 0),
        H("实行划行归市", 2),
        body("农贸市场内蔬菜、肉类、水产、熟食等实行分区经营，不得混杂摆放。"),
        H("严禁占道经营", 2),
        body("市场周边道路严禁摆摊设点，城管部门要加强巡查，及时查处占道经营行为。"),
        H("加强组织保障", 0),
        body("区政府将农贸市场管理工作纳入年度目标绩效考核，每半年组织一次专项督查。"),
        body("附件：1.珠晖区城区农贸市场名录"),
        body("2.珠晖区农贸市场管理考核细则"),
        blank(),
        right("珠晖区人民政府"),
        right("2015年6月18日"),
        body("（此件公开发布）"),
    ], {}


def d05():
    """通知 with a table in the body (a merged title row) and the 署名/日期 set in a borderless
    layout table at the end."""
    return "r05-通知-正文表格-署名表格.docx", [
        title("珠晖区人民政府办公室关于开展2015年度"),
        title("行政事业单位国有资产清查工作的通知"),
        blank(),
        P("区政府各部门、各直属机构："),
        body("根据市财政局统一部署，区政府决定在全区开展2015年度行政事业单位国有资产清查工作。现将有关事项通知如下："),
        body("一、清查范围和时间安排"),
        body("清查范围为全区各行政事业单位占有、使用的国有资产。清查工作分三个阶段进行，具体安排如下："),
        T([("清查工作时间安排", "", ""), ("阶段", "时间", "主要任务"),
           ("单位自查", "7月1日—7月31日", "各单位全面清查资产，填报清查报表"),
           ("审核汇总", "8月1日—8月20日", "区财政局审核各单位报表"),
           ("结果上报", "8月31日前", "汇总上报市财政局")], merge_first_row=True),
        body("二、工作要求"),
        body("各单位要明确一名分管领导和一名具体经办人员，确保清查工作按时保质完成。"),
        blank(),
        T([("珠晖区人民政府办公室",), ("2015年6月25日",)], borders=False, align="right"),
    ], {}


def d06():
    """报告 with a text box, a photo, a header with the organisation's name and a page-number
    footer; 签发人 in the document properties."""
    return "r06-报告-文本框-图片-页眉.docx", [
        title("珠晖区人民政府关于2015年上半年"),
        title("重点项目建设情况的报告"),
        blank(),
        P("衡阳市人民政府："),
        body("2015年上半年，我区坚持把项目建设作为经济工作的主抓手，全区32个重点项目完成投资28.6亿元，占年度计划的53.2%。现将有关情况报告如下："),
        body("一、项目推进情况"),
        P("　　全区32个重点项目中，新开工项目9个，续建项目18个，竣工项目5个。酃湖公园、东阳渡物流园等项目进展较快。", textbox="注：以上数据截至2015年6月30日。"),
        P("", image=True, align="center"),
        body("二、存在的主要问题"),
        body("部分项目征地拆迁难度大，建设进度滞后；部分项目融资困难，资金到位率不高。"),
        body("三、下半年工作打算"),
        body("我区将继续实行重点项目区级领导联系制度，强化要素保障，确保全年投资目标顺利完成。"),
        blank(),
        right("珠晖区人民政府"),
        right("2015年7月6日"),
    ], {"签发人": "陈礼洋", "公开属性": "依申请公开", "KSOProductBuildVer": "2052-10.1.0.7698"}


def d07():
    """通知 with unaccepted tracked changes and a comment."""
    return "r07-通知-修订和批注.docx", [
        title("珠晖区人民政府关于做好2015年度征兵工作的通知"),
        blank(),
        P(MAIN_TO_ALL + "："),
        body("根据«-省、-»市征兵工作会议精神，«+经区人民政府研究，+»现就做好我区2015年度征兵工作通知如下："),
        body("一、严格标准，确保兵员质量。各镇（街道）要严格执行«c征兵体检标准|请核对最新标准名称»，严把政治、身体和文化关，确保«-按时-»«+圆满+»完成征集任务。"),
        body("二、加强宣传，营造良好氛围。要充分利用广播、电视、网络等媒体，广泛宣传依法服兵役的光荣义务。"),
        body("«-三、此段已删除。-»"),
        body("三、落实优抚，解除后顾之忧。区民政局要及时足额发放义务兵家庭优待金。"),
        blank(),
        right("珠晖区人民政府"),
        right("2015年7月20日"),
    ], {}


def d08_source():
    """The draft that LibreOffice re-saves (r08): an 通报 with the usual Word habits."""
    return "r08-通报-LibreOffice另存.docx", [
        title("珠晖区人民政府关于2015年上半年安全生产"),
        title("目标管理考核情况的通报"),
        blank(),
        P(MAIN_TO_ALL + "："),
        body("根据《珠晖区安全生产目标管理考核办法》，区安委会对各镇（街道）和区直有关部门2015年上半年安全生产目标管理工作进行了考核。现将考核情况通报如下："),
        P("一、考核结果", font="黑体"),
        body("茶山坳镇、东阳渡街道等8个单位考核为优秀，和平乡等12个单位考核为良好，其余单位考核为合格。"),
        P("二、存在问题", font="黑体"),
        body("部分单位隐患排查不彻底，整改不到位；个别企业安全生产主体责任落实不力。"),
        P("三、工作要求", font="黑体"),
        body("各单位要认真分析存在的问题，举一反三，切实抓好整改落实，坚决遏制各类事故发生。"),
        blank(),
        right("珠晖区人民政府"),
        right("2015年7月28日"),
        body("（此件公开发布）"),
    ], {}


def d09():
    """批复 whose series and 文种 come from the document properties (core title/category and custom
    properties, WPS's own ASCII properties among them); the body carries no title."""
    return "r09-批复-文档属性.docx", [
        P("区教育局："),
        body("你局《关于调整珠晖区2015年中小学布局的请示》（珠教字〔2015〕12号）收悉。经研究，现批复如下："),
        body("一、同意撤销和平乡湖东小学，学生并入和平乡中心小学就读。"),
        body("二、请你局做好学生分流和教师调配工作，确保平稳过渡。"),
        body("此复。"),
        blank(),
        right("珠晖区人民政府"),
        right("2015年8月3日"),
    ], {"机关代字": "珠政发", "公开属性": "不予公开", "保管期限": "30年", "ICV": "B8A5E7F0", "KSOProductBuildVer": "2052-11.1.0.9912"}, \
        {"title": "珠晖区人民政府关于同意调整和平乡中小学布局的批复", "category": "批复"}


def d10():
    """通知 with a numbered 附件说明 whose second name wraps onto a line indented with full-width
    spaces, and three attachment pages (one a table)."""
    return "r10-通知-附件说明折行-附件页.docx", [
        title("珠晖区人民政府关于印发珠晖区2015年度"),
        title("为民办实事项目责任分解方案的通知"),
        blank(),
        P(MAIN_TO_ALL + "："),
        body("现将《珠晖区2015年度为民办实事项目责任分解方案》等文件印发给你们，请结合实际，认真组织实施。"),
        blank(),
        body("附件：1.珠晖区2015年度为民办实事项目责任分解方案"),
        P("　　　　　2.珠晖区2015年度为民办实事项目督查考核办法（试行）及"),
        P("　　　　　　考核评分细则"),
        P("　　　　　3.珠晖区2015年度为民办实事项目进度表"),
        blank(), blank(),
        right("珠晖区人民政府"),
        right("2015年3月2日"),
        PB(),
        P("附件1", font="黑体"),
        blank(),
        title("珠晖区2015年度为民办实事项目责任分解方案", 18),
        blank(),
        body("一、城乡居民医疗保险参保率达到98%以上。牵头单位：区人社局。"),
        body("二、新建农村公路38.6公里。牵头单位：区交通局。"),
        PB(),
        P("附件2", font="黑体"),
        title("珠晖区2015年度为民办实事项目督查考核办法（试行）及考核评分细则", 18),
        body("第一条　为确保为民办实事项目按期完成，制定本办法。"),
        body("第二条　考核实行百分制，按季度督查、年终考核。"),
        PB(),
        P("附件3", font="黑体"),
        title("珠晖区2015年度为民办实事项目进度表", 18),
        T([("项目", "责任单位", "一季度", "二季度"), ("城乡医保", "区人社局", "60%", "80%"), ("农村公路", "区交通局", "20%", "50%")]),
    ], {}


def d11():
    """函 (letter) with the signature and date aligned by tabs, the date in Chinese numerals, and a
    主送 with a half-width colon followed by spaces."""
    return "r11-函-制表符对齐-汉字日期.docx", [
        title("珠晖区人民政府关于商请协助做好湘江珠晖段"),
        title("河道采砂管理工作的函"),
        blank(),
        P("衡阳市水务局:   "),
        body("湘江珠晖段河道采砂管理关系防洪安全和航道畅通。近期，我区发现部分采砂船只在禁采区非法采砂，对堤防安全造成威胁。为加强河道采砂管理，特商请贵局协助做好以下工作："),
        body("一是加大对湘江珠晖段禁采区的巡查力度；二是依法查处非法采砂船只；三是指导我区建立河道采砂长效管理机制。"),
        body("特此函达，请予支持。"),
        blank(),
        P("\t\t\t\t\t\t珠晖区人民政府"),
        P("\t\t\t\t\t\t二〇一五年三月二十日"),
        body("（联系人：罗宏俊，电话：0734-8212399）"),
    ], {"机关代字": "珠政函"}


def d12():
    """通知 with 紧急程度 and a reserved 文号 typed at the top — the 文号 with （ ） brackets."""
    return "r12-通知-特急-文号括号错误.docx", [
        P("特急", font="黑体", align="left"),
        P("珠政发（2015）12号", align="center"),
        blank(),
        title("珠晖区人民政府关于立即开展"),
        title("城区燃气管道安全隐患排查的通知"),
        blank(),
        P("各街道办事处，区住建局、区安监局、区城管局："),
        body("7月25日，外地发生一起燃气管道爆炸事故，造成重大人员伤亡。为切实防范类似事故发生，区人民政府决定立即在城区开展燃气管道安全隐患排查。现将有关事项通知如下："),
        body("一、各街道办事处要在8月5日前完成辖区内燃气管道沿线的拉网式排查，建立隐患台账。"),
        body("二、区住建局要督促燃气经营企业落实安全主体责任，对排查出的隐患限期整改。"),
        blank(),
        right("珠晖区人民政府"),
        right("2015年7月27日"),
    ], {}


def d13():
    """通知 as WPS and Word templates leave it: the title in a content control, a hyperlink, the
    date as a DATE field's result."""
    items = [
        P("⟪sdt⟫珠晖区人民政府办公室关于启用区政府门户网站新版的通知", font="方正小标宋简体", size=22, align="center"),
        blank(),
        P("区政府各部门、各直属机构："),
        P("经区政府同意，区政府门户网站新版（⟨www.zhuhui.gov.cn|区政府门户网站⟩）将于2015年9月1日正式上线运行，原网站同时停止更新。现将有关事项通知如下：", indent=True),
        body("一、各单位要在8月25日前完成栏目信息迁移，确保新版网站内容完整准确。"),
        body("二、各单位信息员账号和密码由区信息化办统一分配，请于8月20日前到区信息化办领取。"),
        blank(),
        right("珠晖区人民政府办公室"),
    ]
    items.append(P("⟦DATE \\@ \"yyyy年M月d日\"|2015年8月12日⟧", align="right"))
    return "r13-通知-内容控件-超链接-域.docx", items, {}


def d14():
    """纪要 typed in Word: the 出席/请假/列席 lists as labelled lines at the end, the date after them."""
    return "r14-纪要-出席名单在正文.docx", [
        title("区政府第10次常务会议纪要"),
        blank(),
        body("2015年5月20日上午，区长陈礼洋在区政府第一会议室主持召开区政府第10次常务会议，研究了城区停车管理和2015年度民生实事项目推进等事项。现纪要如下："),
        body("一、会议原则同意《珠晖区城区停车场规划建设和管理办法》，由区城管局根据会议意见修改完善后按程序印发。"),
        body("二、会议听取了区发改局关于2015年度民生实事项目推进情况的汇报。会议要求，各责任单位要倒排工期，确保10月底前全面完成。"),
        blank(),
        P("出席：陈礼洋、彭建元、聂百洲、陶朝晖、史瑞光", indent=True),
        P("请假：罗毅（出差）", indent=True),
        P("列席：区财政局、区发改局、区城管局负责人", indent=True),
        blank(),
        right("2015年5月21日"),
    ], {}


_REPORT_TOPICS = [
    ("经济运行", "地区生产总值", "亿元"), ("财政收支", "一般公共预算收入", "亿元"), ("固定资产投资", "全社会固定资产投资", "亿元"),
    ("招商引资", "实际到位内资", "亿元"), ("农业农村", "农村居民人均可支配收入", "元"), ("城市建设", "城建项目完成投资", "亿元"),
    ("社会事业", "民生支出", "亿元"), ("就业创业", "城镇新增就业", "人"), ("生态环境", "空气质量优良天数", "天"),
    ("安全生产", "生产安全事故起数", "起"),
]
_REPORT_SENTENCES = [
    "{topic}工作稳中有进，{metric}达到{v}{unit}，同比增长{p}%，完成年度目标任务的{q}%。",
    "全年围绕{topic}共召开专题调度会{n}次，协调解决问题{m}个，{metric}指标在全市{rank}个城区中排名第{r}位。",
    "在推进{topic}过程中，我们坚持问题导向，对照年初确定的{n}项重点任务逐项销号，其中{m}项已提前完成。",
    "同时也要看到，{topic}方面仍存在一些困难和问题，主要是要素保障不足、部门协同不够，{metric}增速较上年回落{d}个百分点。",
    "下一步，我们将进一步强化{topic}工作的统筹调度，力争{metric}在2015年达到{v2}{unit}以上。",
]


def long_body(pages: int) -> list:
    """About ``pages`` pages of distinct report paragraphs, structured 一、/（一）/1."""
    out = []
    chars = 0
    target = pages * 22 * 28
    k = 0
    while chars < target:
        topic, metric, unit = _REPORT_TOPICS[k % len(_REPORT_TOPICS)]
        i = k // len(_REPORT_TOPICS)
        h1 = f"{'一二三四五六七八九十'[k % 10]}、关于{topic}工作" + ("（续）" * i)
        out.append(P(h1, font="黑体", indent=True))
        for j, s in enumerate(_REPORT_SENTENCES):
            text = s.format(topic=topic, metric=metric, unit=unit, v=round(12.3 + k * 3.7 + j, 1), p=round(5.1 + k % 7 + j / 10, 1),
                            q=96 + (k + j) % 9, n=8 + k + j, m=3 + (k * j) % 11, rank=5, r=1 + (k + j) % 5,
                            d=round(0.4 + j / 10, 1), v2=round(14.8 + k * 3.9 + j, 1))
            if j == 2:
                out.append(P(f"（{'一二三四五'[j]}）{topic}重点任务第{k + 1}组推进情况", font="楷体_GB2312", indent=True))
            out.append(body(text))
            chars += len(text) + 28
        k += 1
    return out


def d15():
    """报告 of about 20 pages, typed paragraph by paragraph; 签发人 and 文种 in the properties."""
    return "r15-报告-二十页长文.docx", [
        title("珠晖区人民政府关于2014年国民经济和社会发展"),
        title("计划执行情况的报告"),
        blank(),
        P("衡阳市人民政府："),
        body("2014年，在市委、市政府的正确领导下，我区全面贯彻落实党的十八大和十八届三中、四中全会精神，主动适应经济发展新常态，国民经济和社会发展计划执行情况良好。现将有关情况报告如下："),
        *long_body(19),
        body("以上报告，请审阅。"),
        blank(),
        right("珠晖区人民政府"),
        right("2015年1月15日"),
    ], {"签发人": "陈礼洋", "文种": "报告"}


def d16():
    """通知 whose body is just long enough to fill the first page, so the signature block must
    carry the last lines with it."""
    text = ("为认真贯彻落实上级关于进一步加强节能减排工作的部署要求，确保完成2015年度节能目标任务，经区人民政府同意，现就做好全区公共机构节能工作的有关事项通知如下，请认真抓好落实。"
            "各单位要结合实际制定本单位节能工作方案，明确节能目标和具体措施，落实节能工作责任人，加强对办公用电、用水、用油的计量管理，按季度向区机关事务管理局报送能源消费统计数据。")
    return "r16-通知-正文满一页.docx", [
        title("珠晖区人民政府办公室关于做好2015年度"),
        title("公共机构节能工作的通知"),
        blank(),
        P("区政府各部门、各直属机构："),
        body(text),
        body("要严格执行夏季室内空调温度设置不低于26摄氏度、冬季不高于20摄氏度的规定，做到人走灯灭、人走机关。"),
        body("区机关事务管理局要加强对各单位节能工作的指导和检查，每半年通报一次各单位能源消费情况。"),
        blank(),
        right("珠晖区人民政府办公室"),
        right("2015年4月2日"),
    ], {}


def d17():
    """通知 whose attachment pages start with "附件1：名称" on one line (no separate title line)."""
    return "r17-通知-附件页标题同行.docx", [
        title("珠晖区人民政府关于公布2015年度区级"),
        title("非物质文化遗产代表性项目名录的通知"),
        blank(),
        P(MAIN_TO_ALL + "："),
        body("经区非物质文化遗产保护工作专家委员会评审，区人民政府同意，现将2015年度区级非物质文化遗产代表性项目名录和保护单位名单予以公布。"),
        body("附件：1.2015年度区级非物质文化遗产代表性项目名录"),
        body("2.2015年度区级非物质文化遗产代表性项目保护单位名单"),
        blank(),
        right("珠晖区人民政府"),
        right("2015年6月12日"),
        PB(),
        P("附件1：2015年度区级非物质文化遗产代表性项目名录", font="黑体"),
        T([("序号", "项目名称", "类别"), ("1", "酃湖龙舟竞渡", "民俗"), ("2", "茶山坳花鼓戏", "传统戏剧")]),
        PB(),
        P("附件2：2015年度区级非物质文化遗产代表性项目保护单位名单", font="黑体"),
        body("一、茶山坳镇文化站"),
        body("二、酃湖乡文化站"),
    ], {}


def d18():
    """决定 with the 版头 typed by hand (发文机关标志, 发文字号 over a red rule) and a 版记 whose 抄送
    wraps onto a second line."""
    return "r18-决定-手打版头-版记折行.docx", [
        P("珠晖区人民政府文件", font="方正小标宋简体", size=36, align="center", color="FF0000"),
        blank(),
        P("珠政发〔2015〕15号", align="center", border_bottom=True),
        blank(),
        title("珠晖区人民政府关于授予谭建国等同志"),
        title("“珠晖区见义勇为先进个人”称号的决定"),
        blank(),
        P(MAIN_TO_ALL + "："),
        body("2015年以来，我区涌现出一批见义勇为的先进典型。谭建国同志在湘江边勇救落水儿童，李红梅同志协助公安机关抓获抢劫嫌疑人。为弘扬社会正气，区人民政府决定，授予谭建国、李红梅同志“珠晖区见义勇为先进个人”称号，并各奖励人民币5000元。"),
        body("希望受到表彰的同志珍惜荣誉，再接再厉。全区广大干部群众要以他们为榜样，积极参与社会治安综合治理，共同营造和谐稳定的社会环境。"),
        blank(),
        right("珠晖区人民政府"),
        right("2015年9月8日"),
        body("（此件公开发布）"),
        blank(),
        P("抄送：市综治办，区委各部门，区人大常委会办公室，区政协办公室，区法院，", size=14),
        P("　　　区检察院，区人武部。", size=14),
        P("珠晖区人民政府办公室　　　　　　　　　2015年9月8日印发", size=14),
    ], {}


def d19():
    """通知 typed with soft returns everywhere: the title lines, the 附件说明 entries and the
    署名/日期 are lines of single paragraphs."""
    return "r19-通知-软回车分行.docx", [
        title("珠晖区人民政府办公室\n关于做好2015年国庆节期间\n有关工作的通知"),
        blank(),
        P("各镇人民政府、街道办事处，\n区政府各部门、各直属机构："),
        body("国庆节即将来临，为确保全区人民度过一个欢乐、祥和、平安的节日，现就做好节日期间有关工作通知如下："),
        body("一、加强值班值守。各单位要严格执行24小时值班和领导带班制度，值班表于9月28日前报区政府总值班室。"),
        body("二、做好安全防范。要加强对人员密集场所、旅游景区和道路交通的安全检查，及时消除各类安全隐患。"),
        body("附件：1.2015年国庆节期间区政府领导带班表\n2.2015年国庆节期间值班工作要求"),
        blank(),
        P("珠晖区人民政府办公室\n2015年9月22日", align="right"),
    ], {}


def d20():
    """通报 with the 主送 over two paragraphs, 附注 after the date, 抄送 over two paragraphs and the
    印发 line, all typed at the end of a Word document."""
    return "r20-通报-主送两段-附注-抄送两段.docx", [
        title("珠晖区人民政府关于2015年第三季度"),
        title("重点工作督查情况的通报"),
        blank(),
        P("各镇人民政府、街道办事处，"),
        P("区政府各部门、各直属机构："),
        body("根据区政府工作安排，区政府督查室于10月中旬对第三季度重点工作推进情况进行了督查。从督查情况看，全区重点工作总体推进有力，但也有少数工作进度滞后。现将督查情况通报如下："),
        P("一、总体情况", font="黑体", indent=True),
        body("第三季度区政府确定的重点工作共46项，已完成38项，正在推进6项，进度滞后2项。"),
        P("二、进度滞后的工作", font="黑体", indent=True),
        body("东阳渡街道棚户区改造项目征收进度滞后，完成率仅为计划的62%；区城管局城区停车场建设项目尚未开工。"),
        body("请上述单位认真分析原因，采取有效措施，确保按期完成任务。"),
        blank(),
        right("珠晖区人民政府"),
        right("2015年10月26日"),
        body("（此件公开发布）"),
        blank(), blank(),
        P("抄送：区委办，区人大常委会办公室，区政协办公室，", size=14),
        P("区纪委，区委组织部。", size=14),
        P("珠晖区人民政府办公室　　　　　　2015年10月26日印发", size=14),
    ], {}


DOCX = [d01, d02, d03, d04, d05, d06, d07, d09, d10, d11, d12, d13, d14, d15, d16, d17, d18, d19, d20]
FIELD_FIXES = {"r13-通知-内容控件-超链接-域.docx"}


# --- text drafts whose bytes matter ---------------------------------------------------------------
UTF16_TXT = """---
文种: 通知
---
珠晖区人民政府办公室关于做好2015年秋季开学安全工作的通知
区教育局，各镇人民政府、街道办事处：
秋季开学在即，为确保广大师生安全，现就做好秋季开学安全工作通知如下：
一、全面开展校园安全隐患排查，重点检查校舍、食堂、消防设施和校车安全。
二、加强校园周边治安和交通秩序整治，维护良好的教育教学秩序。
珠晖区人民政府办公室
2015年8月25日
"""

ZERO_WIDTH_MD = """---
标题: 珠晖区人民政府办公室关于\u200b进一步规范机关公文处理工作的通知
主送: 区政府各部门、各直属机构\u200b
成文日期: 2015年6月1日
署名: 珠晖区人民政府办公室
---

为进一步提高机关公文处理工作\u200b规范化水平，根据《党政机关公文处理工作条例》和\u2060《党政机关公文格式》（GB/T 9704-2012），结合工作实际，现就有关事项通知如下：

一、严格执行公文格式标准。公文用纸采用A4型纸，正文用3号仿宋体字，一般每面排22行，每行排28个字。

二、规范公文报送程序。各单位报送区政府的公文，应当由本单位主要负责人签发，并\ufeff经区政府办公室审核后呈报。

三、提高公文办理时效。一般公文应当在5个工作日内办结，紧急公文应当随到随办。
"""

BOM_CRLF_TXT = """---
文种: 报告
签发人: 陈礼洋
抄送: 市政府办公室
---
珠晖区人民政府
关于2015年第一季度安全生产工作情况的报告

衡阳市安全生产委员会：

2015年第一季度，我区认真贯彻落实市安委会工作部署，扎实开展安全生产大检查和隐患排查治理，全区安全生产形势总体稳定。现将有关情况报告如下：

一、主要工作

（一）落实安全生产责任。区政府与各镇（街道）、区直有关部门签订了2015年度安全生产目标管理责任状，层层分解落实责任。

（二）开展隐患排查治理。第一季度共检查生产经营单位426家，排查一般隐患318处，已整改306处，整改率96.2%。

二、存在的问题

部分企业安全生产主体责任落实不到位，安全投入不足；少数镇（街道）安监站人员力量薄弱。

三、下一步工作打算

我区将继续深化“打非治违”专项行动，强化重点行业领域安全监管，确保全年安全生产形势持续稳定。

珠晖区人民政府

2015年4月3日
"""


def write_text_drafts(out: Path) -> None:
    (out / "t06-通知-UTF16记事本.txt").write_bytes(UTF16_TXT.replace("\n", "\r\n").encode("utf-16"))
    (out / "m11-通知-零宽字符 (试行) [修订稿].md").write_bytes(ZERO_WIDTH_MD.encode("utf-8"))
    (out / "t02-报告-BOM-CRLF.txt").write_bytes(b"\xef\xbb\xbf" + BOM_CRLF_TXT.replace("\n", "\r\n").encode("utf-8"))


def libreoffice_resave(src: Path, dest: Path) -> bool:
    """Save ``src`` again with LibreOffice (its own XML: other namespaces, element order, styles)."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        return False
    with tempfile.TemporaryDirectory(prefix="robust-lo-") as tmp:
        t = Path(tmp)
        (t / "home").mkdir()
        (t / "in").mkdir()
        shutil.copy(src, t / "in" / "draft.docx")
        env = dict(os.environ, HOME=str(t / "home"), TMPDIR=tmp)
        subprocess.run([exe, f"-env:UserInstallation={(t / 'profile').as_uri()}", "--headless", "--norestore",
                        "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(t / "out"), str(t / "in" / "draft.docx")],
                       env=env, check=True, capture_output=True, timeout=180)
        shutil.copy(t / "out" / "draft.docx", dest)
    return True


def build_one(fn, out: Path) -> Path:
    """Build the draft that ``fn`` (one of DOCX) describes into folder ``out``."""
    spec = fn()
    name, items, props = spec[0], spec[1], spec[2]
    core = spec[3] if len(spec) > 3 else None
    kwargs = {"header": "珠晖区人民政府", "footer_page": True} if name.startswith("r06") else {}
    path = build(out / name, items, props=props, core=core, **kwargs)
    if name in FIELD_FIXES:
        fix_fields(path)
    return path


def main(out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for fn in DOCX:
        path = build_one(fn, out)
        print("wrote", path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    name, items, props = d08_source()
    with tempfile.TemporaryDirectory() as tmp:
        src = build(Path(tmp) / "draft.docx", items, props=props)
        if libreoffice_resave(src, out / name):
            print("wrote", name, "(saved by LibreOffice)")
        else:
            print("soffice not found: kept", name)
    write_text_drafts(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
