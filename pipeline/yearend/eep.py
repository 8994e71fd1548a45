"""The XML metadata record of one 件 in a handover package (DA/T 48-like EEP, schema eep.xsd, described
in docs/eep-schema.md): built from the record's metadata and the files as they are in the package,
checked against the schema, and read back on the receiving side."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

from ..archive import responsible
from ..config import RETENTION_CODES, Config

NS = "urn:gongwen:eep:1"
SCHEMA_FILE = Path(__file__).with_name("eep.xsd")
FORMAT = "gongwen-eep/1"
DESCRIPTION = ("gongwen 电子文件封装包（参照 DA/T 48-2009 与 DA/T 46-2009 元数据；非国家档案局 XSD；"
               "文件不以 Base64 内嵌，与本 XML 同在一个文件夹，以计算机文件名与数字摘要关联）")


@dataclass(frozen=True)
class PackedFile:
    """A file of the 件 as it lies in the package."""

    role: str
    name: str
    size: int
    format: str
    creator: str
    digests: dict[str, str]        # {"SM3": hex, "SHA-256": hex}


def _e(parent, tag: str, text=None, **attrs):
    el = etree.SubElement(parent, f"{{{NS}}}{tag}", {k: str(v) for k, v in attrs.items()})
    if text is not None:
        el.text = str(text)
    return el


def _describe(desc) -> str:
    """A short, self-contained 行为描述: scalar values only; register snapshots reduced to stage and
    number, and no local file paths of the office's machines."""
    if not isinstance(desc, dict):
        return str(desc or "")
    out = {}
    for k, v in desc.items():
        if k in ("register", "seal_register") and isinstance(v, dict):
            out.update({"文号": v.get("reference"), "状态": v.get("stage")})
        elif k in ("path", "source"):
            continue
        elif isinstance(v, (str, int, float, bool)) or v is None:
            out[k] = v
    return json.dumps(out, ensure_ascii=False, sort_keys=True) if out else ""


def build_eep(meta: dict, files: list[PackedFile], config: Config, *, folder: str, created: str) -> bytes:
    """The EEP XML of one archived 件 (``meta`` must carry its 档号)."""
    root = etree.Element(f"{{{NS}}}电子文件封装包", {"格式版本": FORMAT}, nsmap={None: NS})
    _e(root, "封装包格式描述", DESCRIPTION)
    _e(root, "版本", FORMAT)
    signed = _e(root, "被签名对象")
    _e(signed, "封装包类型", "原始型")
    _e(signed, "封装包类型描述", "年度归档移交时由 gongwen 生成的原始型封装包")
    _e(signed, "封装包创建时间", created)
    _e(signed, "封装包创建单位", config.organisation.name)
    content = _e(signed, "封装内容")
    ent = _e(_e(content, "文件实体块"), "文件实体")
    _e(ent, "聚合层次", "文件")
    src = _e(ent, "来源")
    _e(src, "档案馆名称", config.organisation.archive_name)
    _e(src, "全宗名称", config.organisation.name)
    _e(src, "立档单位名称", meta.get("立档单位名称") or config.organisation.name)
    _e(ent, "电子文件号", meta["电子文件号"])
    code = _e(ent, "档号")
    _e(code, "档号", meta["档号"])
    _e(code, "全宗号", meta["全宗号"])
    _e(code, "年度", meta["年度"])
    _e(code, "保管期限", meta["保管期限"])
    _e(code, "保管期限名称", RETENTION_CODES.get(meta["保管期限"], meta["保管期限"]))
    if "机构" in config.archive.scheme:
        _e(code, "机构或问题", meta.get("机构或问题") or "")
        _e(code, "机构代码", meta.get("机构代码") or "")
    _e(code, "件号", meta["件号"])
    desc = _e(ent, "内容描述")
    _e(desc, "题名", meta["题名"])
    _e(desc, "文件编号", meta["文件编号"])
    if meta.get("印制文号"):
        _e(desc, "印制文号", meta["印制文号"])
    _e(desc, "责任者", responsible(meta))
    _e(desc, "日期", meta["日期"])
    _e(desc, "文种", meta["文种"])
    _e(desc, "密级", meta.get("密级") or "")
    for k in ("紧急程度", "主送", "抄送"):
        if meta.get(k):
            _e(desc, k, meta[k])
    for s in meta.get("签发人") or []:
        _e(desc, "签发人", s)
    for a in meta.get("附件") or []:
        _e(desc, "附件", a)
    if meta.get("附注"):
        _e(desc, "附注", meta["附注"])
    form = _e(ent, "形式特征")
    _e(form, "文件组合类型", "组合文件" if len(files) > 1 else "单件")
    _e(form, "件数", 1)
    _e(form, "页数", meta["页数"])
    _e(form, "语种", "汉语")
    loc = _e(ent, "存储位置")
    _e(loc, "当前位置", folder)
    _e(loc, "脱机载体编号", "在线移交")
    if meta.get("备注"):
        _e(ent, "备注", meta["备注"])
    data = _e(ent, "文件数据")
    for i, f in enumerate(files, 1):
        doc = _e(data, "文档")
        _e(doc, "文档标识符", f"{meta['电子文件号']}-{i}")
        _e(doc, "文档序号", i)
        _e(doc, "稿本", f.role)
        props = _e(doc, "电子属性")
        _e(props, "格式信息", f.format)
        _e(props, "计算机文件名", f.name)
        _e(props, "计算机文件大小", f.size)
        _e(props, "文档创建程序", f.creator)
        for algo in ("SM3", "SHA-256"):
            if algo in f.digests:
                _e(doc, "数字摘要", f.digests[algo], 算法=algo)
    sig = meta.get("电子签名")
    if isinstance(sig, dict):
        s = _e(ent, "电子签名")
        _e(s, "签名规则", sig.get("签名规则") or "")
        for k in ("签名时间", "签名人"):
            if sig.get(k):
                _e(s, k, sig[k])
        _e(s, "签名结果", sig.get("签名结果") or "")
        if sig.get("签名算法标识"):
            _e(s, "签名算法标识", sig["签名算法标识"])
        _e(s, "签名理由", "发文用印")
    stamp = meta.get("归档章") or {}
    if stamp.get("签名理由"):
        s = _e(ent, "电子签名")
        _e(s, "签名规则", "PAdES（ETSI EN 319 142），CMS 分离式签名；签名外观即归档章")
        _e(s, "签名人", f"{config.organisation.name}（归档）")
        _e(s, "签名结果", "归档时有效")
        _e(s, "签名理由", stamp["签名理由"])
    st = _e(ent, "归档章")
    for k in ("全宗号", "年度", "件号", "机构", "保管期限", "页数"):
        _e(st, k, stamp.get(k, ""))
    events = _e(content, "业务实体块")
    people: dict[str, str] = {}
    org_id = f"{config.organisation.fonds_code}-{config.organisation.unit.code}"
    for i, ev in enumerate(meta.get("业务行为") or [], 1):
        if not isinstance(ev, dict):
            continue
        who = str(ev.get("机构人员名称") or config.organisation.name)
        pid = people.setdefault(who, f"{org_id}-P{len(people) + 1}")
        b = _e(events, "业务实体")
        _e(b, "业务标识符", f"{meta['电子文件号']}-B{i}")
        _e(b, "机构人员标识符", pid)
        _e(b, "文件标识符", meta["电子文件号"])
        _e(b, "业务状态", "已完成")
        _e(b, "业务行为", ev.get("业务行为") or "（未记录）")
        _e(b, "行为时间", ev.get("行为时间") or "")
        d = _describe(ev.get("行为描述"))
        if d:
            _e(b, "行为描述", d)
    agents = _e(content, "机构人员实体块")
    a = _e(agents, "机构人员实体")
    _e(a, "机构人员标识符", org_id)
    _e(a, "机构人员类型", "机构")
    _e(a, "机构人员名称", config.organisation.name)
    _e(a, "组织机构代码", config.organisation.unit.code)
    for who, pid in people.items():
        a = _e(agents, "机构人员实体")
        _e(a, "机构人员标识符", pid)
        _e(a, "机构人员类型", "个人")
        _e(a, "机构人员名称", who)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@lru_cache(maxsize=4)
def _schema(path: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(path))


def validate(xml: bytes, schema: Path | None = None) -> list[str]:
    """Problems with ``xml`` (not well-formed, or not valid against the schema), in Chinese; [] if fine."""
    try:
        doc = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as e:
        return [f"XML 格式错误：{e}"]
    try:
        xsd = _schema(str(schema or SCHEMA_FILE))
    except (etree.XMLSchemaParseError, OSError) as e:
        return [f"模式文件无法读取：{e}"]
    if xsd.validate(doc):
        return []
    return [f"第 {err.line} 行：{err.message}" for err in xsd.error_log][:20]


@dataclass(frozen=True)
class EepSummary:
    """What the receiving side compares against the files: the 档号, title, pages and each file."""

    code: str
    reference: str
    title: str
    pages: int
    folder: str
    files: tuple[PackedFile, ...]


def read_eep(xml: bytes) -> EepSummary:
    doc = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    ns = {"e": NS}

    def t(path: str, node=doc) -> str:
        found = node.find(path, ns)
        return (found.text or "") if found is not None else ""

    ent = "e:被签名对象/e:封装内容/e:文件实体块/e:文件实体"
    files = []
    for d in doc.findall(f"{ent}/e:文件数据/e:文档", ns):
        files.append(PackedFile(
            role=t("e:稿本", d), name=t("e:电子属性/e:计算机文件名", d),
            size=int(t("e:电子属性/e:计算机文件大小", d) or -1), format=t("e:电子属性/e:格式信息", d),
            creator=t("e:电子属性/e:文档创建程序", d),
            digests={(x.get("算法") or ""): (x.text or "") for x in d.findall("e:数字摘要", ns)}))
    return EepSummary(code=t(f"{ent}/e:档号/e:档号"), reference=t(f"{ent}/e:内容描述/e:文件编号"),
                      title=t(f"{ent}/e:内容描述/e:题名"), pages=int(t(f"{ent}/e:形式特征/e:页数") or 0),
                      folder=t(f"{ent}/e:存储位置/e:当前位置"), files=tuple(files))
