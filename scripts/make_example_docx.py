"""Build the .docx example drafts in examples/ (and the .docx test fixtures) with python-docx, so they
can be regenerated: `.venv/bin/python scripts/make_example_docx.py`.

The drafts look like what a secretary types in Word or WPS: fonts and sizes set by hand, no special
styles or markup; metadata the text does not carry goes into the custom document properties
(文件 › 属性 › 自定义), named by the elements' Chinese names.
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml.ns import qn
from docx.shared import Pt

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
FIXTURES = REPO / "tests" / "fixtures" / "drafts"

CUSTOM_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
FIXED_TIME = dt.datetime(2015, 3, 20, 9, 0, 0)

# (role, text) — the role only chooses how the secretary formatted the line by hand.
FONTS = {
    "title": ("方正小标宋简体", 22, True, WD_ALIGN_PARAGRAPH.CENTER),
    "main_to": ("仿宋_GB2312", 16, False, WD_ALIGN_PARAGRAPH.LEFT),
    "h1": ("黑体", 16, False, WD_ALIGN_PARAGRAPH.JUSTIFY),
    "h2": ("楷体_GB2312", 16, False, WD_ALIGN_PARAGRAPH.JUSTIFY),
    "body": ("仿宋_GB2312", 16, False, WD_ALIGN_PARAGRAPH.JUSTIFY),
    "sign": ("仿宋_GB2312", 16, False, WD_ALIGN_PARAGRAPH.RIGHT),
    "top": ("仿宋_GB2312", 16, False, WD_ALIGN_PARAGRAPH.LEFT),
    "att": ("黑体", 16, False, WD_ALIGN_PARAGRAPH.LEFT),
    "att_title": ("方正小标宋简体", 18, False, WD_ALIGN_PARAGRAPH.CENTER),
    "banji": ("仿宋_GB2312", 14, False, WD_ALIGN_PARAGRAPH.LEFT),
}


def _custom_xml(props: dict) -> bytes:
    """docProps/custom.xml: the metadata a clerk types into Word's 文件 › 属性 › 自定义."""
    def value(v) -> str:
        if isinstance(v, bool):
            return f"<vt:bool>{'true' if v else 'false'}</vt:bool>"
        return f"<vt:lpwstr>{escape(str(v))}</vt:lpwstr>"

    items = "".join(
        f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{i}" name="{escape(k)}">{value(v)}</property>'
        for i, (k, v) in enumerate(props.items(), 2))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
            'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
            f"{items}</Properties>").encode("utf-8")


def save_docx(doc, path: Path, props: dict | None = None) -> Path:
    """Save ``doc`` at ``path`` with the custom document properties ``props`` (if any)."""
    if props:
        package = doc.part.package
        part = Part(PackURI("/docProps/custom.xml"), CUSTOM_CT, _custom_xml(props), package)
        package.relate_to(part, RT.CUSTOM_PROPERTIES)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def build_docx(path: Path, lines: list, props: dict[str, str] | None = None, title: str = "") -> Path:
    """Write a .docx draft. ``lines``: (role, text) pairs, ("table", rows) or ("pagebreak", "")."""
    doc = Document()
    for role, content in lines:
        if role == "pagebreak":
            doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            continue
        if role == "table":
            table = doc.add_table(rows=len(content), cols=len(content[0]))
            table.style = "Table Grid"
            for r, row in enumerate(content):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
            continue
        if role == "blank":
            doc.add_paragraph()
            continue
        font, size, bold, align = FONTS[role]
        p = doc.add_paragraph()
        p.alignment = align
        if role in ("body", "h1", "h2"):
            p.paragraph_format.first_line_indent = Pt(32)
        run = p.add_run(content)
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.name = font
        run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    core = doc.core_properties
    core.title = title
    core.author = "秘书组"
    core.last_modified_by = "秘书组"
    core.created = core.modified = FIXED_TIME
    core.revision = 1
    return save_docx(doc, path, props)


# --- the examples -----------------------------------------------------------------------------------
def spring_safety() -> tuple[str, list, dict, str]:
    title = "珠晖区人民政府关于做好2015年春节期间安全生产工作的通知"
    lines = [
        ("title", "珠晖区人民政府"),
        ("title", "关于做好2015年春节期间安全生产工作的通知"),
        ("blank", ""),
        ("main_to", "各镇人民政府、街道办事处，区政府各部门、各直属机构："),
        ("body", "春节将至，人流、物流、车流大幅增加，烟花爆竹、道路交通、人员密集场所等领域安全风险明显上升。为切实做好春节期间安全生产工作，确保全区人民过一个安全、祥和的节日，现就有关事项通知如下。"),
        ("h1", "一、提高认识，落实安全生产责任"),
        ("body", "各镇（街道）、各部门要充分认识节日期间安全生产工作的重要性，严格落实“党政同责、一岗双责”，主要负责人要亲自部署、亲自检查。各单位要在2月10日前完成一次安全隐患自查，并将自查情况报区安委办。"),
        ("h1", "二、突出重点，开展隐患排查整治"),
        ("h2", "（一）烟花爆竹"),
        ("body", "严格烟花爆竹经营许可管理，严厉打击非法生产、运输、储存和销售行为。零售网点应当与居民住宅保持安全距离，严禁在人员密集场所周边设点经营。"),
        ("h2", "（二）道路交通"),
        ("body", "公安交警部门要加强火车站、汽车站周边道路和农村道路的巡逻管控，严查酒后驾驶、超速超员等违法行为，确保春运期间道路交通安全畅通。"),
        ("h2", "（三）人员密集场所"),
        ("body", "商场、超市、宾馆、网吧等人员密集场所要落实消防安全主体责任，保持疏散通道和安全出口畅通，严禁锁闭、堵塞。衡阳商业城等大型商贸场所要制定并演练节日应急疏散预案。"),
        ("h1", "三、严格值守，做好应急处置准备"),
        ("body", "节日期间严格执行24小时值班制度和领导带班制度，值班人员要坚守岗位，保持通信畅通。发生安全生产事故要在30分钟内向区政府总值班室报告，不得迟报、漏报、瞒报。各单位值班安排请于2月13日前报区政府办公室。"),
        ("body", "附件：1.2015年春节期间安全生产检查重点"),
        ("body", "2.春节期间区直部门值班安排表"),
        ("blank", ""),
        ("sign", "珠晖区人民政府"),
        ("sign", "2015年2月6日"),
        ("body", "（此件公开发布）"),
        ("pagebreak", ""),
        ("att", "附件1"),
        ("blank", ""),
        ("att_title", "2015年春节期间安全生产检查重点"),
        ("body", "一、烟花爆竹经营网点的许可证照、储存条件和安全距离。"),
        ("body", "二、火车站广场、汽车站及周边道路的交通组织和秩序管理。"),
        ("body", "三、商场、超市、宾馆、网吧等人员密集场所的消防设施和疏散通道。"),
        ("body", "四、建筑工地、危险化学品储存单位节前停工停产的安全措施。"),
        ("pagebreak", ""),
        ("att", "附件2"),
        ("blank", ""),
        ("att_title", "春节期间区直部门值班安排表"),
        ("table", [("日期", "带班领导", "值班单位", "值班电话"),
                   ("2月18日", "陈礼洋", "区政府办公室", "0734-8212345"),
                   ("2月19日", "彭建元", "区安监局", "0734-8212346"),
                   ("2月20日", "聂百洲", "区公安分局", "0734-8212347")]),
        ("banji", "抄送：区委办，区人大办，区政协办。"),
        ("banji", "珠晖区人民政府办公室          2015年2月6日印发"),
    ]
    props = {"公开属性": "主动公开", "拟稿部门": "区安监局", "拟稿人": "汤水华"}
    return "珠政发/关于做好2015年春节期间安全生产工作的通知.docx", lines, props, title


def station_request() -> tuple[str, list, dict, str]:
    title = "珠晖区人民政府关于申请火车站广场综合管理专项经费的请示"
    lines = [
        ("top", "签发人：陈礼洋"),
        ("title", "珠晖区人民政府关于申请火车站广场"),
        ("title", "综合管理专项经费的请示"),
        ("blank", ""),
        ("main_to", "衡阳市人民政府："),
        ("body", "火车站广场是衡阳的城市窗口，日均客流量超过5万人次。2014年以来，我区按照“统一调度、统一政策、统一评审、统一财务、统一移送”的要求，组织城管、公安、交警、商务等部门对火车站广场实施综合管理，广场秩序明显好转。但由于广场管理范围大、参与部门多，监控设备老化、保洁和执勤力量不足等问题较为突出，仅靠区级财力难以长期维持。"),
        ("body", "为巩固综合管理成果，建立长效机制，我区拟于2015年对火车站广场视频监控系统进行升级改造，并增加保洁和执勤人员，共需经费380万元。经测算，区级财政可安排180万元，尚有缺口200万元。"),
        ("body", "恳请市人民政府从城市维护专项资金中给予200万元补助，用于火车站广场视频监控系统升级改造和保洁执勤。"),
        ("body", "妥否，请批示。"),
        ("blank", ""),
        ("sign", "珠晖区人民政府"),
        ("sign", "2015年3月16日"),
        ("body", "（联系人：文雅，电话：0734-8212301）"),
    ]
    props = {"公开属性": "不予公开", "拟稿部门": "区政府办公室综合组", "拟稿人": "蒋志辉"}
    return "珠政发/关于申请火车站广场综合管理专项经费的请示.docx", lines, props, title


def seal_rules() -> tuple[str, list, dict, str]:
    title = "珠晖区人民政府办公室关于印发《珠晖区人民政府办公室印章使用管理办法》的通知"
    lines = [
        ("title", "珠晖区人民政府办公室关于印发《珠晖区人民政府"),
        ("title", "办公室印章使用管理办法》的通知"),
        ("blank", ""),
        ("main_to", "办公室各组，区政务中心、区信息化办、区房征中心、区重点办："),
        ("body", "《珠晖区人民政府办公室印章使用管理办法》已经办公室主任办公会议研究同意，现印发给你们，请认真遵照执行。"),
        ("body", "附件：珠晖区人民政府办公室印章使用管理办法"),
        ("blank", ""),
        ("sign", "珠晖区人民政府办公室"),
        ("sign", "2015年3月12日"),
        ("pagebreak", ""),
        ("att", "附件"),
        ("blank", ""),
        ("att_title", "珠晖区人民政府办公室印章使用管理办法"),
        ("body", "第一条　为规范印章使用管理，防止印章滥用，根据有关规定，制定本办法。"),
        ("body", "第二条　本办法所称印章，是指区人民政府印章、区人民政府办公室印章和区人民政府办公室业务专用章。"),
        ("body", "第三条　印章由秘书组专人保管。使用印章须填写用印审批单，经办公室分管负责人签批后方可用印。"),
        ("body", "第四条　印章使用实行登记制度。印章管理人员应当在印章使用登记簿上逐项记录用印时间、用印事由、用印份数和经办人。"),
        ("body", "第五条　严禁在空白纸张、空白介绍信上加盖印章。印章原则上不得携带外出，确需携带的，须经办公室主任批准，并由两人以上共同负责。"),
        ("body", "第六条　本办法自印发之日起施行。"),
    ]
    props = {"文种": "通知", "公开属性": "依申请公开", "拟稿部门": "秘书组", "拟稿人": "文雅"}
    return "珠政办发/关于印发《珠晖区人民政府办公室印章使用管理办法》的通知.docx", lines, props, title


def yearbook_letter() -> tuple[str, list, dict, str]:
    title = "珠晖区人民政府关于商请提供2014年度年鉴资料的函"
    lines = [
        ("title", "珠晖区人民政府关于商请提供2014年度年鉴资料的函"),
        ("blank", ""),
        ("main_to", "衡阳市地方志编纂室："),
        ("body", "根据《湖南年鉴》《衡阳年鉴》编纂工作安排，我区正在组织2014年度珠晖部分的组稿工作。为确保入鉴资料准确完整，现商请贵室提供以下资料："),
        ("body", "一是2014年度《衡阳年鉴》组稿提纲及供稿要求；二是2013年度珠晖部分的终审稿电子文本；三是入鉴图片的规格要求。"),
        ("body", "请于2015年4月10日前将上述资料送区政府办公室综合组。"),
        ("body", "特此函商，请予支持。"),
        ("blank", ""),
        ("sign", "珠晖区人民政府"),
        ("sign", "2015年3月23日"),
        ("body", "（联系人：蒋志辉，电话：0734-8212302）"),
    ]
    props = {"拟稿部门": "综合组", "拟稿人": "蒋志辉", "公开属性": "不予公开"}
    return "珠政函/关于商请提供2014年度年鉴资料的函.docx", lines, props, title


EXAMPLE_BUILDERS = (spring_safety, station_request, seal_rules, yearbook_letter)


# --- deliberately bad .docx fixtures for tests -------------------------------------------------------
def bad_fixture() -> tuple[str, list, dict, str]:
    """A draft with a typo'd property, a bad 文号, a padded date and attachment mistakes."""
    lines = [
        ("top", "珠政发[2015]第03号"),
        ("title", "珠晖区人民政府关于开展2015年度政务公开检查"),
        ("blank", ""),
        ("main_to", "各镇人民政府、街道办事处："),
        ("body", "为推进政务公开工作,现决定开展2015年度政务公开检查。"),
        ("h1", "一、检查内容"),
        ("body", "重点检查政府信息公开目录、依申请公开办理和政务公开栏更新情况。"),
        ("h1", "三、工作要求"),
        ("body", "请各单位于4月30日前完成自查。"),
        ("body", "附件：1、检查评分表。"),
        ("body", "3、自查报告提纲"),
        ("blank", ""),
        ("sign", "珠晖区人民政府"),
        ("sign", "2015年04月01日"),
        ("pagebreak", ""),
        ("att", "附件1"),
        ("att_title", "政务公开检查评分表"),
        ("body", "评分表内容。"),
    ]
    return "bad-props-number-date.docx", lines, {"文众": "通知", "密级": "", "紧急程度": "急件"}, ""


def main(argv: list[str]) -> int:
    for builder in EXAMPLE_BUILDERS:
        rel, lines, props, title = builder()
        out = build_docx(EXAMPLES / rel, lines, props, title)
        print(f"wrote {out.relative_to(REPO)}")
    rel, lines, props, title = bad_fixture()
    out = build_docx(FIXTURES / rel, lines, props, title)
    print(f"wrote {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
