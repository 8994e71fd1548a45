"""Open a draft file defensively: bounded sizes, no zip bombs, no DTDs or external entities, UTF-8 only.

Every check returns a Chinese reason instead of raising, so that probe() (the watched-folder readiness
gate, called many times) and read_draft() (which raises DraftError) share one implementation.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from lxml import etree

# Limits. A real 公文 draft is a few hundred KB; a .docx with photos a few MB. The caps are far above
# that and far below what would hurt a 2-core machine.
MAX_DOCX_BYTES = 64 * 1024 * 1024
MAX_TEXT_BYTES = 8 * 1024 * 1024
MAX_ZIP_MEMBERS = 2000
MAX_UNCOMPRESSED = 256 * 1024 * 1024
# Deflate of XML reaches ~20:1 and of padding ~50:1; zip bombs go to 1000:1. Checked only for members
# large enough to matter, so that a tiny, very regular part is not refused.
MAX_RATIO = 100
RATIO_MIN_SIZE = 1024 * 1024

DOCUMENT_XML = "word/document.xml"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CONTENT_TYPES = "[Content_Types].xml"
# Code a Word file can carry: a VBA project (a .docm, whatever its name says) and ActiveX controls.
# The 原稿 is archived byte for byte, so such a draft cannot be taken in: it is sent back.
MACRO_ENABLED = b"macroEnabled"

# A DTD (and so any entity declaration) must sit in the prolog as <!DOCTYPE. Searching the bytes
# (also in UTF-16) is cheap and cannot be fooled by a long comment before it.
_DTD_MARKERS = tuple(m.encode(enc) for m in ("<!DOCTYPE", "<!ENTITY")
                     for enc in ("utf-8", "utf-16-le", "utf-16-be"))

# A parser that resolves nothing and fetches nothing, even if a DTD slipped through.
SAFE_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                  dtd_validation=False, huge_tree=False, remove_comments=True)


class _NoDatesLoader(yaml.SafeLoader):
    """SafeLoader that keeps dates as the text written (2015-03-20 stays a string, so the date rule
    can judge what the clerk typed) and refuses duplicate keys (YAML says they are an error)."""


_NoDatesLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hashable = key in seen
        except TypeError:
            continue
        if hashable:
            raise yaml.constructor.ConstructorError(
                None, None, f"字段「{key}」重复出现", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_NoDatesLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass(frozen=True)
class DocxParts:
    """The XML parts of a .docx that gongwen reads, parsed safely (None when absent)."""

    document: etree._Element
    custom: etree._Element | None
    core: etree._Element | None
    numbering: etree._Element | None = None    # word/numbering.xml: automatic numbering definitions
    styles: etree._Element | None = None       # word/styles.xml: a style may carry the numbering


@dataclass(frozen=True)
class TextDraft:
    """A text draft split into its front matter (a mapping, possibly empty) and body."""

    meta: dict
    body: str
    has_front_matter: bool
    body_line: int          # 1-based line number where the body starts in the file
    notes: tuple[str, ...] = ()   # what was read leniently (a warning each)


# --- .docx ----------------------------------------------------------------------------------------
def _docx_zip_problem(path: Path) -> tuple[str | None, zipfile.ZipFile | None]:
    size = path.stat().st_size
    if size == 0:
        return "文件是空的（0 字节）", None
    if size > MAX_DOCX_BYTES:
        return f"文件过大（{size // 1048576} MB，上限 {MAX_DOCX_BYTES // 1048576} MB）", None
    with open(path, "rb") as f:
        head = f.read(8)
    if head == OLE_MAGIC:
        return "这是旧版 Word/WPS 格式（.doc/.wps）的文件，请在 Word 或 WPS 中“另存为”.docx 格式后再放入", None
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        return "不是有效的 Word 文档（.docx 应为 zip 压缩包，此文件无法打开，可能已损坏或尚未写完）", None
    infos = zf.infolist()
    reason = None
    if len(infos) > MAX_ZIP_MEMBERS:
        reason = f"文档内部文件过多（{len(infos)} 个），疑似恶意构造的压缩包"
    elif sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
        reason = "文档解压后体积异常巨大，疑似“压缩炸弹”，出于安全原因拒绝处理"
    else:
        for i in infos:
            if i.file_size > RATIO_MIN_SIZE and i.file_size > MAX_RATIO * max(i.compress_size, 1):
                reason = f"文档内部文件 {i.filename} 压缩比异常（疑似“压缩炸弹”），出于安全原因拒绝处理"
                break
    if reason is None and DOCUMENT_XML not in zf.namelist():
        reason = "不是有效的 Word 文档：缺少正文部分 word/document.xml（可能是其他格式改了扩展名）"
    if reason:
        zf.close()
        return reason, None
    return None, zf


def _read_member(zf: zipfile.ZipFile, name: str) -> tuple[bytes, str | None]:
    """(the member's bytes, None), or (b"", why it cannot be read)."""
    try:
        return zf.read(name), None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, RuntimeError) as e:
        return b"", f"文档内部文件 {name} 已损坏，无法读取（{type(e).__name__}）"
    except NotImplementedError:
        return b"", f"文档内部文件 {name} 使用了不支持的压缩方式"


def _xml_members(zf: zipfile.ZipFile) -> list[str]:
    return [n for n in zf.namelist() if n.endswith((".xml", ".rels"))]


def _has_dtd(data: bytes) -> bool:
    return any(m in data for m in _DTD_MARKERS)


def _code_problem(zf: zipfile.ZipFile) -> str | None:
    """Why the .docx carries code (macros, ActiveX) that must not enter the archive; None if it does not."""
    names = zf.namelist()
    vba = [n for n in names if n.lower().rsplit("/", 1)[-1] in ("vbaproject.bin", "vbadata.xml")]
    types = zf.read(CONTENT_TYPES) if CONTENT_TYPES in names else b""
    if vba or MACRO_ENABLED in types:
        what = f"含 VBA 宏 {vba[0]}" if vba else "内容类型声明为启用宏"
        return (f"这是启用宏的 Word 文档（{what}，可能是 .docm 改了扩展名）：宏可以执行代码，不能存入档案；"
                "请在 Word/WPS 中“另存为”普通的 .docx（不含宏）后再放入")
    activex = [n for n in names if n.lower().startswith("word/activex/")]
    if activex:
        return (f"文档含有 ActiveX 控件（{activex[0]}），控件可以执行代码，不能存入档案；"
                "请在 Word/WPS 中删除控件后另存为 .docx 再放入")
    return None


def _container_problem(path: Path) -> str | None:
    reason, zf = _docx_zip_problem(path)
    if reason:
        return reason
    assert zf is not None
    with zf:
        try:
            bad = zf.testzip()    # CRC of every member: catches a file still being written
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError):
            bad = "?"
        if bad:
            return f"文档已损坏或尚未写完（内部文件 {bad} 校验失败）"
        code = _code_problem(zf)
        if code:
            return code
        for name in _xml_members(zf):
            data, why = _read_member(zf, name)
            if why:
                return why
            if _has_dtd(data):
                return f"文档内部文件 {name} 含有 DTD/实体声明（<!DOCTYPE>/<!ENTITY>），可能引用外部资源，出于安全原因拒绝处理"
    return None


def _parse_xml(data: bytes, name: str) -> tuple[etree._Element | None, str | None]:
    try:
        return etree.fromstring(data, SAFE_XML_PARSER), None
    except etree.XMLSyntaxError as e:
        return None, f"文档内部文件 {name} 不是有效的 XML（{e.msg}），文件可能已损坏"


def docx_problem(path: Path) -> str | None:
    """Why ``path`` is not a safe, complete, well-formed .docx (None when it is)."""
    return load_docx(path)[1]


def load_docx(path: Path) -> tuple[DocxParts | None, str | None]:
    reason = _container_problem(path)
    if reason:
        return None, reason
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        parsed: dict[str, etree._Element | None] = {}
        for name in (DOCUMENT_XML, "docProps/custom.xml", "docProps/core.xml", "word/numbering.xml", "word/styles.xml"):
            if name not in names:
                parsed[name] = None
                continue
            data, why = _read_member(zf, name)
            if why:
                return None, why
            parsed[name], why = _parse_xml(data, name)
            if why:
                return None, why
    document = parsed[DOCUMENT_XML]
    assert document is not None   # _container_problem refuses a .docx without it
    return DocxParts(document, parsed["docProps/custom.xml"], parsed["docProps/core.xml"],
                     parsed["word/numbering.xml"], parsed["word/styles.xml"]), None


# --- text (Markdown / text / YAML) ----------------------------------------------------------------
def _decode(path: Path) -> tuple[str | None, str | None]:
    size = path.stat().st_size
    if size == 0:
        return None, "文件是空的（0 字节）"
    if size > MAX_TEXT_BYTES:
        return None, f"文件过大（{size // 1048576} MB，上限 {MAX_TEXT_BYTES // 1048576} MB）"
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Windows Notepad's "Unicode": the byte-order mark makes the encoding certain.
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            return None, "文件标记为 UTF-16（“Unicode”）编码，但内容无法按此编码读取，请另存为 UTF-8 编码后再放入"
        if "\x00" in text:
            return None, "文件含有二进制内容（NUL 字符），不是文本文件"
        if not text.strip():
            return None, "文件只有空白，没有内容"
        return text.replace("\r\n", "\n").replace("\r", "\n"), None
    if b"\x00" in data:
        if data.count(b"\x00") * 3 >= len(data):
            return None, "文件看起来是不带字节顺序标记的 UTF-16 编码，请另存为 UTF-8 编码后再放入"
        return None, "文件含有二进制内容（NUL 字符），不是文本文件"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        hint = ""
        try:
            data.decode("gb18030")
            hint = "，看起来是 GBK/GB18030 编码"
        except UnicodeDecodeError:
            pass
        return None, f"文件不是 UTF-8 编码（第 {line} 行第一处无法识别的字节{hint}），请另存为 UTF-8 编码后再放入"
    if not text.strip():
        return None, "文件只有空白，没有内容"
    return text.replace("\r\n", "\n").replace("\r", "\n"), None


def _yaml(text: str, first_line: int, what: str) -> tuple[object, str | None]:
    try:
        return yaml.load(text, Loader=_NoDatesLoader), None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        where = f"第 {mark.line + first_line} 行" if mark is not None else "某处"
        problem = getattr(e, "problem", None) or str(e)
        return None, f"{what}的 YAML 格式有误（{where}：{_explain_yaml(problem)}），请检查缩进、冒号和引号"


def _explain_yaml(problem: str) -> str:
    table = {
        "mapping values are not allowed here": "此处不能出现冒号，含冒号的值请加引号",
        "found character '\\t' that cannot start any token": "不能用 Tab 缩进，请用空格",
        "could not find expected ':'": "缺少冒号",
        "found unexpected end of stream": "引号或括号没有闭合",
        "did not find expected key": "缩进不一致或缺少字段名",
    }
    for k, v in table.items():
        if k in problem:
            return v
    return problem


# Keys a clerk may type with the IME's full-width colon ("标题：关于……"): the fields, and the keys of
# the mappings inside 议定事项 and 附件. Only these are rewritten, so a value that merely contains a
# "：" (会议同意……：由区住建局牵头) stays a value.
_NESTED_KEYS = {"事项", "责任单位", "责任部门", "牵头单位", "内容", "名称", "文件", "标题"}
_IME_KEY_RE = re.compile(r"^(?P<lead>\s*(?:-\s+)?)(?P<key>[^\s:：#'\"\[\]{}|>-][^:：#'\"]{0,20}?)\s*：[ \t\u3000]*(?P<rest>.*)$")
_BLOCK_START_RE = re.compile(r"^(?P<indent>\s*)(?:-\s+)?[^#\s][^#]*?:\s*[|>][-+0-9]*\s*(?:#.*)?$")


def _ime_colons(text: str, first_line: int) -> tuple[str, list[int]]:
    """Rewrite "键：值" typed with a full-width colon as "键: 值" (outside block scalars, for known
    keys only). Returns the text and the line numbers (in the file) that were rewritten."""
    from ._fields import canonical_key

    out, fixed = [], []
    block_indent: int | None = None
    for n, line in enumerate(text.split("\n")):
        indent = len(line) - len(line.lstrip(" "))
        if block_indent is not None:
            if not line.strip() or indent > block_indent:
                out.append(line)
                continue
            block_indent = None
        m = _IME_KEY_RE.match(line)
        if m and ":" not in line[: m.start("rest")] and (canonical_key(m["key"].strip()) or m["key"].strip() in _NESTED_KEYS):
            line = f"{m['lead']}{m['key'].strip()}: {m['rest']}"
            fixed.append(n + first_line)
        b = _BLOCK_START_RE.match(line)
        if b:
            block_indent = len(b["indent"])
        out.append(line)
    return "\n".join(out), fixed


def _ime_note(lines: list[int]) -> str:
    shown = "、".join(str(n) for n in lines[:5]) + ("等" if len(lines) > 5 else "")
    return f"第 {shown} 行的字段名后用了全角冒号“：”，已按“字段: 值”读取；YAML 中字段名后应为半角冒号加空格"


FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n(?P<yaml>.*?\n)?(?P<end>---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


def load_text(path: Path, yaml_only: bool) -> tuple[TextDraft | None, str | None]:
    """Decode and split a text draft; for a .yaml file the whole file is the mapping."""
    text, why = _decode(path)
    if why:
        return None, why
    assert text is not None
    if yaml_only:
        text, fixed = _ime_colons(text, 1)
        data, why = _yaml(text, 1, "文件")
        if why:
            return None, why
        if not isinstance(data, dict):
            return None, "YAML 草稿的最外层应是“字段: 值”的映射（例如“标题: 关于……的通知”）"
        return TextDraft(data, "", True, 1, (_ime_note(fixed),) if fixed else ()), None
    if not text.startswith("---"):
        return TextDraft({}, text, False, 1), None
    m = FRONT_MATTER_RE.match(text)
    if not m:
        return None, "前置元数据以“---”开始，但没有找到结束的“---”行"
    front, fixed = _ime_colons(m["yaml"] or "", 2)
    data, why = _yaml(front, 2, "前置元数据")
    if why:
        return None, why
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, "前置元数据应是“字段: 值”的映射（例如“标题: 关于……的通知”）"
    body_line = text[: m.end()].count("\n") + 1
    return TextDraft(data, text[m.end():], True, body_line, (_ime_note(fixed),) if fixed else ()), None
