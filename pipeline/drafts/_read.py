"""Read any supported draft (.docx, Markdown/text with YAML front matter, plain YAML) into one
model.Draft, filling metadata by precedence: the draft's own metadata → inbox route → config → inference.

A file that cannot be read at all raises DraftError with a Chinese reason; everything about the
*content* (missing title, bad date …) is left to rules.py.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from ..config import KINDS, Config, Route
from ..errors import DraftError
from ..fsutil import readable_path
from ..model import Block, Draft, Meeting, Problem
from . import _safety  # the readers (_docx: python-docx; _markdown: markdown-it) load when first used
from ._fields import MEETING_KEYS, Meta, meeting_from, normalise, signoff_from
from ._structure import Item, Parsed, analyse, attachments_from
from .patterns import MEETING_LABELS, NOTE_RE, clean_line, kind_from_title, parse_exact_date, split_names, squeeze

__all__ = ["SUPPORTED_SUFFIXES", "probe", "read_draft", "docx_items"]

SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".docx", ".md", ".markdown", ".txt", ".qmd", ".yaml", ".yml"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".qmd"})
YAML_SUFFIXES = frozenset({".yaml", ".yml"})

# Where a value came from (Draft.origins values).
FROM_META = "前置元数据"
FROM_PROPS = "文档属性"
FROM_TEXT = "正文"
FROM_ROUTE = "收件夹"
FROM_CONFIG = "配置"
FROM_INFERENCE = "推断"


def _suffix_problem(path: Path) -> str | None:
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        names = "、".join(sorted(SUPPORTED_SUFFIXES))
        return f"不支持的文件类型「{path.suffix or '（无扩展名）'}」，草稿应为 {names} 之一"
    return None


def probe(path: Path) -> str | None:
    """None when the file opens as a valid file of its type (a .docx zip with word/document.xml
    that passes the safety limits; UTF-8 text whose front matter / YAML parses); else a Chinese reason.
    Cheap: used by the watched-folder readiness gate many times."""
    path = Path(path)
    why = _suffix_problem(path)
    if why:
        return why
    try:
        if not path.is_file():
            return "文件不存在或不是普通文件"
        if path.suffix.lower() == ".docx":
            return _safety.docx_problem(path)
        _, why = _safety.load_text(path, yaml_only=path.suffix.lower() in YAML_SUFFIXES)
        return why
    except OSError as e:
        return f"无法读取文件（{e.strerror or e}）"


def read_draft(path: Path, config: Config, route: Route | None = None) -> Draft:
    """Read any supported draft into one model.Draft.

    ``route``: the inbox route the file came through; when None, the route whose folder is the
    file's parent folder name (so ``examples/珠政发/x.docx`` is routed like ``inbox/珠政发/``).
    Raises DraftError (Chinese message) when the file cannot be read at all."""
    path = Path(path)
    why = _suffix_problem(path)
    if why:
        raise DraftError(f"{path.name}：{why}")
    if route is None:
        route = config.route_for_folder(path.parent.name)
    suffix = path.suffix.lower()
    from . import _docx, _markdown

    try:
        if suffix == ".docx":
            parts, why = _safety.load_docx(path)
            if parts is None:
                raise DraftError(f"{path.name}：{why}")
            items, problems = _docx.items_from(parts)
            custom, core = _docx.properties(parts)
            meta = normalise(custom, FROM_PROPS, ignore_vendor_ascii=True)
            fallback = {}
            if core.get("category") in KINDS and "文种" not in meta.values:
                fallback["文种"] = core["category"]
            if core.get("title"):
                fallback["标题"] = core["title"]
            fmt = "docx"
        else:
            text, why = _safety.load_text(path, yaml_only=suffix in YAML_SUFFIXES)
            if text is None:
                raise DraftError(f"{path.name}：{why}")
            meta = normalise(text.meta, FROM_META)
            fallback = {}
            problems = [Problem("前置元数据", note, "warning") for note in text.notes]
            body = meta.values.pop("正文", None) if suffix in YAML_SUFFIXES else text.body
            if suffix in YAML_SUFFIXES:
                items, found = _yaml_body(body)
                fmt = "yaml"
            elif suffix in MARKDOWN_SUFFIXES:
                items, found = _markdown.items_from_markdown(body)
                fmt = "markdown"
            else:
                items, found = _markdown.items_from_text(body), []
                fmt = "markdown"
            problems += found
    except OSError as e:
        raise DraftError(f"{path.name}：无法读取文件（{e.strerror or e}）") from e
    return _build(path, fmt, items, list(problems), meta, fallback, config, route)


def docx_items(path: Path) -> list[Item]:
    """The paragraphs and tables of any .docx (a received document, not only a draft) as the reader
    sees them, for ``_structure.analyse``; opened within the same safety limits as a draft. Raises
    DraftError (Chinese) when it is no valid .docx."""
    from . import _docx

    parts, why = _safety.load_docx(Path(path))
    if parts is None:
        raise DraftError(str(why))
    items, _ = _docx.items_from(parts)
    return items


def _yaml_body(body) -> tuple[list[Item], list[Problem]]:
    """正文 in a YAML draft: Markdown text, or a list of paragraphs."""
    from . import _markdown

    if body is None:
        return [], []
    if isinstance(body, (list, tuple)):
        return [Item("para", clean_line(str(x))) for x in body if x is not None and str(x).strip()], []
    if isinstance(body, dict):
        return [], [Problem("正文", "YAML 草稿的“正文”应是一段文字（可用 Markdown）或段落列表，不能是映射", "error")]
    return _markdown.items_from_markdown(str(body))


def _series_by_issuer(config: Config, name: str | None) -> set[str]:
    if not name:
        return set()
    n = squeeze(name)
    return {code for code, s in config.series.items() if n in (squeeze(s.issuer), squeeze(s.header))}


def _build(path: Path, fmt, items: list[Item], problems: list[Problem], meta: Meta, fallback: dict,
           config: Config, route: Route | None) -> Draft:
    v = meta.values
    problems = list(meta.problems) + problems
    origins: dict[str, str] = {}
    mo = meta.origin

    known_issuers = {squeeze(s.issuer) for s in config.series.values()}
    known_headers = {squeeze(s.header) for s in config.series.values() if s.header.endswith(("文件", "纪要"))}
    minutes_hint = (route is not None and route.kind == "纪要") or squeeze(str(v.get("文种") or "")) == "纪要" \
        or any(k in v for k in MEETING_KEYS) or (route is not None and route.series in config.series
                                                  and config.series[route.series].format == "纪要")
    parsed: Parsed = analyse(items, known_issuers=known_issuers, meta_title=v.get("标题"),
                             meta_main_to=v.get("主送"), known_headers=known_headers, minutes=minutes_hint)
    problems += parsed.problems

    def pick(field: str, element: str, meta_value, text_value, text_origin: str = FROM_TEXT):
        """Metadata first, then what the text carries; a disagreement is reported."""
        if meta_value not in (None, (), ""):
            origins[field] = mo
            if text_value not in (None, (), "") and squeeze(str(meta_value)) != squeeze(str(text_value)):
                problems.append(Problem(element, f"{mo}中的{element}「{_s(meta_value)}」与正文中的「{_s(text_value)}」不一致，采用{mo}中的写法", "warning"))
            return meta_value
        if text_value not in (None, (), ""):
            origins[field] = text_origin
            return text_value
        return None

    title = pick("title", "标题", v.get("标题"), parsed.title)
    if title is None and fallback.get("标题"):
        title, origins["title"] = fallback["标题"], FROM_PROPS
    main_to = pick("main_to", "主送机关", _strip_colon(v.get("主送")), parsed.main_to)
    if main_to is None and parsed.main_to_banji:
        main_to, origins["main_to"] = parsed.main_to_banji, FROM_TEXT
    # 联合行文: the other organs from the metadata, or from a 署名 line that names several organs
    # side by side (珠晖区人民政府　　珠晖区财政局), as a typed joint document has it.
    organs = known_issuers | {squeeze(n) for n in config.co_issuers}
    text_signature, text_co = parsed.signature, ()  # type: str | None, tuple[str, ...]
    if text_signature:
        parts = [x for x in re.split(r"[\s\u3000]+", text_signature.strip()) if x]
        if len(parts) > 1 and all(squeeze(x) in organs for x in parts):
            text_signature, text_co = parts[0], tuple(parts[1:])
    signature = pick("signature", "发文机关署名", v.get("署名"), text_signature)
    co_issuers = tuple(pick("co_issuers", "联合发文机关", v.get("联合发文机关"), text_co) or ())
    date_text = pick("date", "成文日期", v.get("成文日期"), parsed.date_text)
    signers = pick("signers", "签发人", v.get("签发人"), parsed.signers) or ()
    cc = pick("cc", "抄送机关", _join_list(v.get("抄送")), parsed.cc)
    note = pick("note", "附注", _strip_brackets(v.get("附注")), parsed.note)
    secrecy = pick("secrecy", "密级", _secrecy(v), parsed.secrecy)
    urgency = pick("urgency", "紧急程度", v.get("紧急程度"), parsed.urgency)
    number_text = pick("number_text", "发文字号", v.get("文号"), parsed.number_text)
    print_date_text = pick("print_date", "印发日期", v.get("印发日期"), parsed.print_date_text)
    publicity = pick("publicity", "公开属性", v.get("公开属性"), None)
    retention = pick("retention", "保管期限", v.get("保管期限"), None)
    header_issuer = parsed.header[:-2] if parsed.header and parsed.header.endswith("文件") else None
    issuer = pick("issuer", "发文机关", v.get("发文机关"), header_issuer)
    if "副标题" in v:
        problems.append(Problem("标题", f"公文没有副标题要素，「{v['副标题']}」已忽略；如需说明请写入标题或正文", "warning"))

    meeting = meeting_from(meta)
    signoff, found = signoff_from(meta)
    problems += found
    if signoff is not None:
        origins["signoff"] = mo
    body = parsed.body
    attachments = attachments_from(parsed.attachment_note, v.get("附件", ()), parsed.sections)
    attachment_note = tuple(raw for raw, _ in v.get("附件", ())) or parsed.attachment_note
    if v.get("附件"):
        origins["attachments"] = mo
        if parsed.attachment_note:
            problems.append(Problem("附件说明", f"{mo}和正文都写了附件说明，采用{mo}中的附件列表", "warning"))

    copies = None
    if v.get("份数") is not None:
        try:
            copies = int(str(v["份数"]).strip().removesuffix("份"))
            if copies <= 0:
                raise ValueError
            origins["copies"] = mo
        except ValueError:
            problems.append(Problem("份数", f"份数「{v['份数']}」应是正整数", "error"))

    # --- 机关代字 (series) and 文种 (kind): metadata → route → config → inference -------------------
    series = None
    written_code = v.get("机关代字")
    if written_code:
        series, origins["series"] = squeeze(written_code), mo
        if series not in config.series:
            by_name = _series_by_issuer(config, written_code)
            if len(by_name) == 1:
                series = by_name.pop()
    elif issuer and squeeze(issuer) in config.series:
        series, origins["series"] = squeeze(issuer), origins.get("issuer", mo)
    elif number_text:
        code = next((c for c in sorted(config.series, key=len, reverse=True) if squeeze(number_text).startswith(c)), None)
        if code:
            series, origins["series"] = code, origins.get("number_text", FROM_TEXT)
    if route is not None:
        if series is None:
            series, origins["series"] = route.series, FROM_ROUTE
        elif series != route.series:
            problems.append(Problem("机关代字", f"草稿写明机关代字「{series}」，但放在“{route.folder}”收件夹（{route.series}），按草稿所写办理；如放错了文件夹请移到正确的收件夹", "warning"))

    kind = None
    if v.get("文种"):
        kind, origins["kind"] = squeeze(v["文种"]), mo
    elif fallback.get("文种"):
        kind, origins["kind"] = fallback["文种"], FROM_PROPS
    elif route is not None and route.kind:
        kind, origins["kind"] = route.kind, FROM_ROUTE
    elif series in config.series and len(config.series[series].kinds) == 1:
        kind, origins["kind"] = config.series[series].kinds[0], FROM_CONFIG
    else:
        inferred = kind_from_title(title, KINDS)
        if inferred is None and meeting is not None:
            inferred = "纪要"
        if inferred:
            kind, origins["kind"] = inferred, FROM_INFERENCE

    if series is None:
        candidates = set(config.series)
        hinted = False
        for hint in (issuer, signature):
            by = _series_by_issuer(config, hint)
            if by:
                candidates &= by
                hinted = True
        if kind:
            candidates = {c for c in candidates if kind in config.series[c].kinds}
            hinted = True
        if hinted and len(candidates) == 1:
            series, origins["series"] = candidates.pop(), FROM_INFERENCE

    printer = pick("printer", "印发机关", v.get("印发机关"), parsed.printer)
    if printer is None and series in config.series and config.series[series].printer:
        printer, origins["printer"] = config.series[series].printer, FROM_CONFIG
    if retention is None and series in config.series and kind:
        retention, origins["retention"] = config.archive.retention_for(series, kind), FROM_CONFIG
    if parsed.meeting_lines:
        if kind == "纪要":
            meeting = _meeting_with_lines(meeting, parsed.meeting_lines, title)
            origins.setdefault("meeting", FROM_TEXT)
        else:
            # not a 纪要 after all: the labelled lines are body text where they were
            body = body + tuple(Block("paragraph", f"{label}：{value}") for label, value in parsed.meeting_lines)
    if meeting is not None:
        origins.setdefault("meeting", mo)
        if title is None and meeting.name and kind == "纪要":
            # A 纪要 is known by its meeting: 区政府第6次常务会议 → 区政府第6次常务会议纪要 (the archive
            # and search need a 题名 for every document).
            title = meeting.name if meeting.name.endswith("纪要") else meeting.name + "纪要"
            origins["title"] = FROM_INFERENCE

    return Draft(
        source=readable_path(path), source_format=fmt, kind=kind, series=series, issuer=issuer,
        title=clean_line(title) if title else None, main_to=main_to, body=body,
        attachments=attachments, attachment_note=attachment_note, signature=signature,
        date_text=date_text, date=parse_exact_date(date_text), signers=tuple(signers), cc=cc,
        note=note, secrecy=secrecy, urgency=urgency, publicity=publicity, printer=printer,
        print_date_text=print_date_text, print_date=parse_exact_date(print_date_text),
        retention=retention, number_text=number_text, copies=copies, co_issuers=co_issuers,
        drafter_unit=v.get("拟稿部门"), drafter=v.get("拟稿人"), meeting=meeting, signoff=signoff,
        origins=origins, read_problems=tuple(problems))


def _meeting_with_lines(meeting: Meeting | None, lines: list[tuple[str, str]], title: str | None) -> Meeting:
    """The 纪要's Meeting completed from the 出席/请假/列席/记录/主持 lines typed in its text
    (metadata, when given, wins) and the meeting's name from a title "…会议纪要"."""
    meeting = meeting or Meeting()
    changes: dict = {}
    for label, value in lines:
        attr = MEETING_LABELS[label]
        if getattr(meeting, attr) or attr in changes:
            continue
        if attr in ("present", "absent", "attending"):
            changes[attr] = split_names(value, spaces=attr == "present")
        else:
            changes[attr] = value
    if not meeting.name and title and squeeze(title).endswith("纪要") and len(squeeze(title)) > 2:
        changes["name"] = squeeze(title)[:-2]
    return dataclasses.replace(meeting, **changes)


def _s(value) -> str:
    return "、".join(value) if isinstance(value, (list, tuple)) else str(value)


def _strip_colon(v: str | None) -> str | None:
    return v.strip().rstrip("：:").strip() if v else v


def _strip_brackets(v: str | None) -> str | None:
    if not v:
        return v
    m = NOTE_RE.match(v.strip())
    return m["text"].strip() if m else v.strip()


def _join_list(v) -> str | None:
    if not v:
        return None
    text = "、".join(v) if isinstance(v, (list, tuple)) else str(v)
    return text.strip().removeprefix("抄送：").removeprefix("抄送:").rstrip("。.").strip() or None


def _secrecy(v: dict) -> str | None:
    level = v.get("密级")
    period = v.get("保密期限")
    if level and period and "★" not in level:
        return f"{level}★{period}"
    return level
