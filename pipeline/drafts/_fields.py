"""Field names a clerk may write in front matter, YAML or .docx properties, mapped to one canonical
Chinese name each; values cleaned into str / tuple / int without judging them (rules.py judges)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ..model import Decision, Meeting, Problem, Signoff
from .patterns import ZERO_WIDTH_RE, date_suggestion, parse_exact_date, split_names

# Canonical key (the element's own Chinese name) → accepted aliases. English aliases follow the
# quarto-gbt9704 field set (title, header-org, header-number, mainreceiver, signdate, copyto …) and
# plain English. Keys are compared after lower-casing and unifying "_", " " and "-".
FIELDS: dict[str, tuple[str, ...]] = {
    "文种": ("kind", "doctype", "doc-type", "type", "公文种类"),
    "机关代字": ("series", "code", "agency-code", "代字"),
    "发文机关": ("issuer", "organ", "org", "header-org", "发文机关标志", "发文单位"),
    "联合发文机关": ("co-issuers", "co-issuer", "联合行文机关", "联署机关", "会签机关"),
    "标题": ("title", "公文标题"),
    "副标题": ("subtitle",),
    "主送": ("主送机关", "main-to", "mainreceiver", "main-receiver", "receiver", "to"),
    "成文日期": ("date", "signdate", "sign-date", "日期", "发文日期"),
    "署名": ("发文机关署名", "signature", "落款"),
    "签发人": ("signer", "signers", "signatory", "header-signatory"),
    # 签发: the sign-off as a mapping {签发人, 意见, 日期, 会签, 代签}; a plain name (签发: 陈礼洋) is
    # read as 签发人, as before. The flat keys 签发意见 / 签发日期 / 会签 (with 签发人) say the same
    # where a mapping cannot be written (.docx custom properties).
    "签发": ("signoff", "sign-off"),
    "签发意见": ("signoff-opinion", "opinion"),
    "签发日期": ("signoff-date", "sign-off-date", "signed-on"),
    "会签": ("会签人", "cosigners", "co-signers"),
    "抄送": ("抄送机关", "cc", "copyto", "copy-to"),
    "附件": ("附件说明", "attachments", "attachment"),
    "附注": ("note", "notes"),
    "密级": ("密级和保密期限", "secrecy", "classification"),
    "保密期限": ("secrecy-period",),
    "紧急程度": ("urgency",),
    "公开属性": ("publicity", "disclosure", "公开方式"),
    "印发机关": ("printer", "issue-author", "print-org"),
    "印发日期": ("print-date", "issue-date"),
    "保管期限": ("retention",),
    "文号": ("发文字号", "number", "header-number", "doc-number"),
    "份数": ("copies",),
    "拟稿部门": ("拟稿单位", "drafter-unit", "department"),
    "拟稿人": ("drafter", "author", "起草人"),
    "正文": ("body", "content", "text"),
    # 纪要
    "会议名称": ("meeting", "meeting-name"),
    "期号": ("issue", "meeting-issue"),
    "时间": ("会议时间", "time"),
    "地点": ("会议地点", "place", "location"),
    "主持": ("主持人", "chair"),
    "出席": ("出席人员", "present", "attendees"),
    "请假": ("请假人员", "absent"),
    "列席": ("列席人员", "attending", "observers"),
    "记录": ("记录人", "recorder"),
    "导语": ("lead",),
    "议定事项": ("decisions", "决定事项"),
}
MEETING_KEYS = ("会议名称", "期号", "时间", "地点", "主持", "出席", "请假", "列席", "记录", "导语", "议定事项")
LIST_KEYS = {"签发人", "会签", "抄送", "附件", "出席", "请假", "列席", "议定事项", "联合发文机关"}
# Lists of people: names separated only by spaces are separate names (签发人: 陈礼洋 彭建元).
PEOPLE_KEYS = {"签发人", "会签", "出席", "请假"}
# Keys inside a 签发 mapping → canonical sub-key.
SIGNOFF_KEYS = {"签发人": "签发人", "signer": "签发人", "name": "签发人", "姓名": "签发人",
                "意见": "意见", "签发意见": "意见", "opinion": "意见",
                "日期": "日期", "签发日期": "日期", "date": "日期",
                "会签": "会签", "会签人": "会签", "cosigners": "会签", "co-signers": "会签",
                "代签": "代签", "代": "代签", "delegated": "代签"}

# Settings of Markdown tool chains (pandoc/quarto) that say nothing about the document's content.
TOOL_KEYS = {"format", "emoji", "lang", "documentclass", "classoption", "output", "toc", "fontsize",
             "papersize", "header-includes", "bibliography", "csl", "keep-tex", "mainfont",
             "cjk-mainfont", "geometry", "editor", "execute", "jupyter", "engine", "filters",
             "pdf-engine", "number-sections", "linestretch", "template", "metadata"}

_ALIAS: dict[str, str] = {}
for _canon, _aliases in FIELDS.items():
    for _a in (_canon, *_aliases):
        _ALIAS[_a.strip().lower().replace("_", "-").replace(" ", "-")] = _canon


def canonical_key(key: object) -> str | None:
    return _ALIAS.get(str(key).strip().lower().replace("_", "-").replace(" ", "-"))


@dataclass(frozen=True)
class Meta:
    """Metadata read from front matter / YAML / .docx properties, keyed by canonical name."""

    values: dict
    origin: str                       # 前置元数据 / 文档属性
    problems: tuple[Problem, ...] = ()

    def get(self, key: str):
        return self.values.get(key)


def _scalar(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = ZERO_WIDTH_RE.sub("", str(v)).strip()
    return s or None


def _as_list(v, people: bool = False) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, (list, tuple)):
        out = []
        for x in v:
            s = _scalar(x) if not isinstance(x, dict) else None
            if s:
                out.append(s)
        return tuple(out)
    s = _scalar(v)
    return split_names(s, spaces=people) if s else ()


def normalise(raw: dict, origin: str, *, ignore_vendor_ascii: bool = False) -> Meta:
    """Map ``raw`` keys to canonical names; every key not understood becomes a warning naming it
    (a typo must not pass silently). ``ignore_vendor_ascii``: for .docx custom properties, where Word
    and WPS add ASCII-named properties of their own (KSOProductBuildVer, ICV …)."""
    values: dict = {}
    problems: list[Problem] = []
    seen_as: dict[str, str] = {}
    label = "前置元数据" if origin == "前置元数据" else "文档属性"
    for key, value in raw.items():
        canon = canonical_key(key)
        if canon == "签发" and not isinstance(value, dict):
            canon = "签发人"            # 签发: 陈礼洋 — a name, as it always meant
        if canon is None:
            k = str(key)
            if ignore_vendor_ascii and k.isascii():
                continue
            if k.strip().lower() in TOOL_KEYS:
                problems.append(Problem(label, f"「{k}」是排版工具的设置，与公文内容无关，已忽略", "warning"))
            else:
                problems.append(Problem(label, f"不认识的字段「{k}」，已忽略；如是拼写错误请改正（字段名用要素的中文名称，如“标题”“主送”“成文日期”）", "warning"))
            continue
        if canon in seen_as:
            problems.append(Problem(label, f"字段「{seen_as[canon]}」和「{key}」都表示“{canon}”，只采用「{seen_as[canon]}」", "warning"))
            continue
        seen_as[canon] = str(key)
        if canon == "议定事项":
            values[canon] = _decisions(value, problems, label)
        elif canon == "正文":
            values[canon] = value
        elif canon == "签发":
            values[canon] = _signoff_mapping(value, problems, label)
        elif canon == "附件":
            values[canon] = _attachments(value)
        elif canon == "署名" and isinstance(value, bool):
            problems.append(Problem(label, f"「{key}」应填写发文机关名称（如“珠晖区人民政府”），不能是 true/false，已忽略", "warning"))
        elif canon in LIST_KEYS:
            values[canon] = _as_list(value, people=canon in PEOPLE_KEYS)
        elif isinstance(value, (list, tuple)) and canon in ("拟稿人", "主送", "印发机关", "署名"):
            values[canon] = "、".join(_as_list(value)) or None
        elif isinstance(value, (list, tuple, dict)):
            problems.append(Problem(label, f"字段「{key}」应是一个值，不能是列表或映射，已忽略", "warning"))
        else:
            values[canon] = _scalar(value)
    return Meta({k: v for k, v in values.items() if v not in (None, (), "")}, origin, tuple(problems))


def _attachments(value) -> tuple:
    """附件 entries: a text ("1. 关于……的通知") or a mapping {名称/name, 文件/file}."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        value = [value]
    out = []
    for item in value:
        if isinstance(item, dict):
            name = file = None
            for k, v in item.items():
                ck = str(k).strip().lower()
                if ck in ("名称", "name", "标题", "title"):
                    name = _scalar(v)
                elif ck in ("文件", "file", "path"):
                    file = _scalar(v)
            if name:
                out.append((name, file))
        else:
            s = _scalar(item)
            if s:
                out.append((s, None))
    return tuple(out)


def _decisions(value, problems: list[Problem], label: str) -> tuple[Decision, ...]:
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        value = [value]
    out = []
    for i, item in enumerate(value, 1):
        if isinstance(item, dict):
            text = owner = None
            for k, v in item.items():
                ck = str(k).strip().lower()
                if ck in ("事项", "text", "item", "内容", "matter"):
                    text = _scalar(v)
                elif ck in ("责任单位", "owner", "unit", "责任部门", "牵头单位"):
                    owner = "、".join(_as_list(v)) if isinstance(v, (list, tuple)) else _scalar(v)
                else:
                    problems.append(Problem(label, f"议定事项第 {i} 项中不认识的字段「{k}」（应为“事项”或“责任单位”），已忽略", "warning"))
            if text:
                out.append(Decision(text=text, owner=owner))
            else:
                problems.append(Problem(label, f"议定事项第 {i} 项缺少“事项”内容，已忽略", "warning"))
        else:
            s = _scalar(item)
            if s:
                out.append(Decision(text=s))
    return tuple(out)


def _signoff_mapping(value: dict, problems: list[Problem], label: str) -> dict:
    out: dict = {}
    for k, v in value.items():
        ck = SIGNOFF_KEYS.get(str(k).strip().lower())
        if ck is None:
            problems.append(Problem(label, f"签发中不认识的字段「{k}」（应为“签发人”“意见”“日期”“会签”或“代签”），已忽略", "warning"))
        elif ck == "会签":
            out[ck] = _as_list(v, people=True)
        elif ck == "代签":
            out[ck] = v if isinstance(v, bool) else str(v).strip().lower() in ("1", "true", "是", "代", "yes")
        elif ck == "日期" and isinstance(v, dt.date):
            out[ck] = v                 # YAML reads 2015-03-16 as a date
        else:
            out[ck] = _scalar(v)
    return out


# 陈礼洋（代）/ 陈礼洋(代) / 陈礼洋 代: signed on another head's behalf.
_DELEGATED_RE = re.compile(r"^(?P<name>.+?)(?:[\s\u3000]*[（(]代[）)]|[\s\u3000]+代)$")


def signoff_from(meta: Meta) -> tuple[Signoff | None, list[Problem]]:
    """The 签发 a draft carries: the 签发 mapping, or the flat keys 签发日期 (with 签发人, 签发意见,
    会签). A sign-off needs the signer and the full date (条例 art. 22); what is missing is an error
    naming it, so a sign-off is never half recorded. ``签发人`` alone is the name printed on an
    上行文, not a sign-off."""
    v = meta.values
    mapping = v.get("签发")
    flat = any(k in v for k in ("签发日期", "签发意见", "会签"))
    if mapping is None and not flat:
        return None, []
    label = meta.origin
    if mapping is not None:
        signer, opinion, date = mapping.get("签发人"), mapping.get("意见"), mapping.get("日期")
        cosigners, delegated = mapping.get("会签", ()), bool(mapping.get("代签"))
        how = f"{label}“签发”中的"
    else:
        names = v.get("签发人", ())
        signer = names[0] if names else None
        opinion, date = v.get("签发意见"), v.get("签发日期")
        cosigners, delegated = tuple(v.get("会签", ())) + tuple(names[1:]), False
        how = f"{label}中的"
    problems = []
    if signer:
        m = _DELEGATED_RE.match(signer)
        if m:
            signer, delegated = m["name"].strip(), True
    else:
        problems.append(Problem("签发", f"{how}签发记录缺少签发人（条例第二十二条：签发人签署意见、姓名和完整日期）"))
    day = date if isinstance(date, dt.date) else None
    if day is None and date:
        day = parse_exact_date(str(date)) or date_suggestion(str(date))[0]
    if day is None:
        what = (f"签发日期「{date}」无法识别，应写作 2015-03-16 或 2015年3月16日" if date
                else "签发记录缺少签发日期")
        problems.append(Problem("签发", f"{how}{what}（条例第二十二条：签发须写完整日期）"))
    if problems or day is None:   # a missing day is one of the problems
        return None, problems
    return Signoff(signer=signer, date=day, opinion=opinion or None, cosigners=tuple(cosigners),
                   delegated=delegated), []


def meeting_from(meta: Meta) -> Meeting | None:
    v = meta.values
    if not any(k in v for k in MEETING_KEYS):
        return None
    return Meeting(
        name=v.get("会议名称"), issue=v.get("期号"), time=v.get("时间"), place=v.get("地点"),
        chair=v.get("主持"), present=v.get("出席", ()), absent=v.get("请假", ()),
        attending=v.get("列席", ()), recorder=v.get("记录"), lead=v.get("导语"),
        decisions=v.get("议定事项", ()))
