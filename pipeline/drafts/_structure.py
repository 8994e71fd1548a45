"""Find the elements of a 公文 in a sequence of paragraphs, by text patterns only (never by styles).

Both readers produce ``Item``s — a .docx's paragraphs and tables, or a Markdown body's blocks — and
``analyse`` cuts them into 版头 lines, 标题, 主送机关, 正文, 附件说明, 署名, 成文日期, 附注, the
attachments' own pages and the 版记. Forms are recognised loosely; rules.py judges them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ..model import Attachment, Block, BlockKind, Problem
from . import patterns as P


@dataclass(frozen=True)
class Item:
    kind: Literal["para", "heading", "table", "attach"]   # attach: an explicit "attachment starts" marker
    text: str = ""
    level: int | None = None       # Markdown heading level (1–6); None for text
    rows: tuple[tuple[str, ...], ...] = ()
    explicit: bool = False         # a Markdown heading/paragraph: its kind was chosen by the author
    in_list: bool = False          # a Markdown list item: never a heading, whatever its number


@dataclass
class Parsed:
    """What the text itself carries."""

    title: str | None = None
    main_to: str | None = None
    body: tuple[Block, ...] = ()
    attachment_note: tuple[str, ...] = ()
    sections: list[tuple[int | None, str | None, tuple[Block, ...]]] = field(default_factory=list)
    signature: str | None = None
    date_text: str | None = None
    note: str | None = None
    cc: str | None = None
    main_to_banji: str | None = None
    printer: str | None = None
    print_date_text: str | None = None
    number_text: str | None = None
    signers: tuple[str, ...] = ()
    secrecy: str | None = None
    urgency: str | None = None
    header: str | None = None
    # a 纪要's labelled lines (出席/请假/列席/记录/主持) found at the end of the text, in order
    meeting_lines: list[tuple[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


_CLAUSE_PUNCT = re.compile("[。，；：！？,;:!?]")

_HEADINGS: tuple[BlockKind, ...] = ("heading1", "heading2", "heading3", "heading4")


def _is_para(it: Item) -> bool:
    return it.kind in ("para", "heading")


def _title_like(text: str) -> bool:
    return (len(text) <= 80 and not text.endswith(("。", "；", "，", "：", ":", ";", ","))
            and not P.DATE_LOOSE_RE.match(text) and P.heading_prefix(text) is None
            and not P.ATTACH_NOTE_RE.match(text) and "。" not in text)


_NOT_MAIN_TO = re.compile("如下|现将|现就|特此|为了|为进一步|根据|经研究")


def _main_to_like(text: str) -> bool:
    return (text.endswith(("：", ":")) and len(text) <= 150 and "。" not in text
            and not _NOT_MAIN_TO.search(text)
            and P.heading_prefix(text) is None and not P.ATTACH_NOTE_RE.match(text)
            and not P.SIGNER_RE.match(text) and not P.CC_RE.match(text))


def _main_to_at(main: list[Item], n: int) -> int:
    """How many lines make a 主送机关 starting at ``main[n]``: up to three continuation lines ending
    with ，/、 and a line ending with a colon (0 when there is none)."""
    k = n
    while k < min(n + 3, len(main) - 1) and main[k].kind == "para" and main[k].text.endswith(("，", "、", ",")) \
            and len(main[k].text) <= 80 and P.heading_prefix(main[k].text) is None:
        k += 1
    if k < len(main) and main[k].kind == "para" and _main_to_like(main[k].text):
        return k - n + 1
    return 0


def _signature_like(text: str) -> bool:
    return (0 < len(text) <= 40 and not _CLAUSE_PUNCT.search(text) and P.heading_prefix(text) is None
            and not P.ATTACH_NOTE_RE.match(text) and not P.DATE_LOOSE_RE.match(text)
            and P.ATTACH_ENTRY_RE.match(text) is None)


def _attach_head(it: Item) -> int | None | bool:
    """False if ``it`` does not start an attachment's own page; else its number (or None)."""
    if it.kind == "attach":
        return None
    if not _is_para(it):
        return False
    m = P.ATTACH_HEAD_RE.match(P.squeeze(it.text))
    if not m:
        return False
    num = m["num"]
    if not num:
        # "附件：" alone is the start of a 附件说明 written over several lines, not a page.
        return False if it.text.rstrip().endswith(("：", ":")) else None
    return P.cn_numeral_value(P.to_halfwidth_digits(num))


def _titled_head(it: Item) -> tuple[int | None, str] | None:
    """(number, title) when ``it`` is "附件1：名称" — an attachment label with its title on the line."""
    if it.kind not in ("para", "heading"):
        return None
    m = P.ATTACH_HEAD_TITLE_RE.match(P.clean_line(it.text))
    if not m:
        return None
    return P.cn_numeral_value(P.to_halfwidth_digits(m["num"])), P.clean_line(m["title"])


def _is_date_line(it: Item) -> bool:
    return _is_para(it) and bool(P.DATE_LOOSE_RE.match(it.text) or P.ISO_DATE_RE.match(it.text))


def _org_names(text: str, known: set[str]) -> bool:
    t = P.squeeze(text)
    return t in known or t.endswith(P.ORGAN_SUFFIXES)


def _peel_meeting_lines(main: list[Item], out: Parsed) -> list[Item]:
    """Take the 纪要's labelled lines (出席：… 请假：… 列席：…) off the end of ``main``."""
    k = len(main)
    while k > 0 and main[k - 1].kind == "para" and P.MEETING_LINE_RE.match(P.clean_line(main[k - 1].text)):
        k -= 1
    found = []
    for it in main[k:]:
        m = P.MEETING_LINE_RE.match(P.clean_line(it.text))
        if m:   # every one of them does (the loop above)
            found.append((P.squeeze(m["label"]), m["value"].strip()))
    out.meeting_lines = found + out.meeting_lines
    return main[:k]


def analyse(items: list[Item], *, known_issuers: set[str], meta_title: str | None = None, meta_main_to: str | None = None,
            known_headers: frozenset[str] | set[str] = frozenset(), minutes: bool = False) -> Parsed:
    """Cut ``items`` into elements. ``known_headers``: the configured 发文机关标志 (a typed line equal
    to one is the 版头, not a title); ``minutes``: the draft is known to be a 纪要 (its 出席/请假/列席
    lines at the end are the meeting's, not body text)."""
    out = Parsed()
    items = [it for it in items if it.kind in ("table", "attach") or it.text.strip()]

    # 1. 版记 at the very end: 主送：/抄送：/…印发 lines (and continuation lines of 抄送).
    j = _banji_start(items)
    banji, items = items[j:], items[:j]
    _parse_banji(banji, out)

    # 2. The attachments' own pages start at the first "附件N" line or marker.
    # "附件1：名称" on one line starts the pages only after the 成文日期 (before it, it is a 附件说明
    # entry typed as a label).
    def starts_pages(i: int, it: Item) -> bool:
        if i < 2:
            return False
        if _attach_head(it) is not False:
            return True
        return _titled_head(it) is not None and any(_is_date_line(x) for x in items[:i])

    a = next((i for i, it in enumerate(items) if starts_pages(i, it)), len(items))
    main, rest = items[:a], items[a:]
    # Signature and date set in a borderless layout table at the end: read them as lines.
    if main and main[-1].kind == "table" and _layout_table(main[-1]):
        main = main[:-1] + [Item("para", P.clean_line(line)) for row in main[-1].rows for cell in row
                            for line in cell.split("\n") if line.strip()]

    # 3. 版头 lines typed at the top: 份号, 密级, 紧急程度, 发文机关标志, 发文字号, 签发人.
    i = 0
    while i < len(main) and main[i].kind == "para":
        t = main[i].text
        s = P.squeeze(t)
        if P.COPY_NO_RE.match(s):
            pass
        elif P.SECRECY_RE.match(s) and len(s) <= 12:
            out.secrecy = s
        elif P.URGENCY_RE.match(s):
            out.urgency = s
        elif (s.endswith("文件") and len(s) <= 25 and i <= 2) or s in known_headers:
            # 发文机关标志 typed at the top (珠晖区人民政府文件). A bare organ name is not taken: it is
            # more often the first line of a two-line title; nor a line ending with 纪要 that is not
            # the office's 纪要标志 — "区政府第10次常务会议纪要" is a 纪要's title.
            out.header = s
        elif _top_number_or_signer(t, out):
            pass
        else:
            break
        i += 1
    main = main[i:]

    # 4. 标题: a Markdown level-1 heading first, else up to three short lines before the 主送.
    if main and meta_title and P.squeeze(main[0].text) == P.squeeze(meta_title) and _is_para(main[0]):
        main = main[1:]
    elif main and not meta_title:
        first = main[0]
        if first.kind == "heading" and first.level == 1:
            out.title, main = first.text, main[1:]
        elif first.kind == "para":
            n = 0
            while n < min(3, len(main)) and main[n].kind == "para" and _title_like(main[n].text):
                n += 1
                if _main_to_at(main, n):
                    break
            if n and (n == 1 or _main_to_at(main, n)):
                out.title = "".join(P.clean_line(x.text) for x in main[:n])
                main = main[n:]
            elif n:
                out.title, main = main[0].text, main[1:]

    # 5. 主送机关: a short line ending with a colon (continuation lines ending with ，/、 before it).
    labelled = P.MAIN_TO_BANJI_RE.match(P.squeeze(main[0].text)) if main and main[0].kind == "para" else None
    value = labelled["rest"].rstrip("：:。") if labelled else ""
    if value and len(main[0].text) <= 150 and not re.search("[。；！？;!?]", value) \
            and not value.startswith(("请", "现", "为")) and not _NOT_MAIN_TO.search(value):
        # 「主送：各镇人民政府……」 typed with its label under the title
        out.main_to = P.clean_line(main[0].text.split("：", 1)[-1] if "：" in main[0].text else main[0].text.split(":", 1)[-1]).rstrip("：:。")
        main = main[1:]
    elif main:
        n = _main_to_at(main, 0)
        if n:
            text = "".join(x.text for x in main[:n]).rstrip("：: ")
            # When the metadata names the 主送 too, the line is still the 主送 (not body text) if it
            # names organs; the metadata wins and the reader reports the difference.
            if meta_main_to is None or P.squeeze(text) == P.squeeze(meta_main_to).rstrip("：:") \
                    or all(_org_names(x, set()) for x in P.split_names(text)):
                out.main_to = text
                main = main[n:]

    # 6. From the end of the main part: 附注 lines after the 成文日期, the date, the 署名.
    minutes = minutes or bool(out.title and P.squeeze(out.title).endswith("纪要")) or bool(
        meta_title and P.squeeze(meta_title).endswith("纪要"))
    if minutes:
        main = _peel_meeting_lines(main, out)
    e = len(main)
    notes_from = e
    while notes_from > 0 and main[notes_from - 1].kind == "para" and (
            P.NOTE_RE.match(main[notes_from - 1].text) or P.NOTE_PLAIN_RE.match(P.clean_line(main[notes_from - 1].text))):
        notes_from -= 1
    d = notes_from - 1
    if d >= 0 and main[d].kind == "para" and (P.DATE_LOOSE_RE.match(main[d].text) or P.ISO_DATE_RE.match(main[d].text)):
        out.date_text = P.clean_line(main[d].text)
        notes = []
        for x in main[notes_from:]:
            m = P.NOTE_RE.match(x.text)
            if m:
                notes.append(m["text"])
            else:
                notes.append(P.clean_line(x.text))
                out.problems.append(Problem("附注", f"附注「{P.clean_line(x.text)[:20]}」应加圆括号，写在成文日期下一行，已按附注处理（印出时加括号）", "warning"))
        if notes:
            out.note = "\n".join(n.strip() for n in notes)
        e = d
        # the line above is the 署名 if it names an organ ("特此通知" above a date is body text)
        if e > 0 and main[e - 1].kind == "para" and _signature_like(main[e - 1].text) \
                and _org_names(main[e - 1].text, known_issuers):
            out.signature = P.clean_line(main[e - 1].text)
            e -= 1
    elif e > 0 and main[e - 1].kind == "para" and _signature_like(main[e - 1].text) \
            and _org_names(main[e - 1].text, known_issuers):
        out.signature = P.clean_line(main[e - 1].text)
        e -= 1
    body_items = main[:e]
    if minutes:
        body_items = _peel_meeting_lines(body_items, out)

    # 7. 附件说明: from the first "附件：" line to the end of the body.
    for start in range(len(body_items)):
        it = body_items[start]
        if it.kind == "para" and P.ATTACH_NOTE_RE.match(it.text.strip()):
            tail = body_items[start:]
            if all(x.kind == "para" and len(x.text) <= 120 for x in tail) and len(tail) <= 12:
                out.attachment_note = tuple(P.clean_line(x.text) for x in tail)
                body_items = body_items[:start]
            break
    else:
        body_items = _labelled_attachment_note(body_items, out)

    out.body = blocks_from(body_items, out.problems)

    # 8. Each attachment's own page: "附件N" line (or marker), its title, its content.
    for sec in _split_sections(rest):
        num, title, blocks = _section(sec, out.problems)
        out.sections.append((num, title, blocks))
    return out


def _labelled_attachment_note(body_items: list[Item], out: Parsed) -> list[Item]:
    """A 附件说明 typed as labels at the end of the body ("附件1：名称" / "附件2：名称"): read as the
    附件说明 and written in the standard form "附件：1.名称" (GB/T 9704 7.3.2)."""
    s = len(body_items)
    while s > 0 and _titled_head(body_items[s - 1]) is not None and len(body_items[s - 1].text) <= 120:
        s -= 1
    entries = [h for x in body_items[s:] if (h := _titled_head(x)) is not None]   # all of them (above)
    if not entries or [n for n, _ in entries] != list(range(1, len(entries) + 1)):
        return body_items
    lines: tuple[str, ...]
    if len(entries) == 1:
        lines = (f"附件：{entries[0][1]}",)
    else:
        lines = (f"附件：1.{entries[0][1]}",) + tuple(f"{n}.{name}" for n, name in entries[1:])
    out.attachment_note = lines
    written = "」「".join(P.clean_line(x.text)[:20] for x in body_items[s:s + 2])
    out.problems.append(Problem("附件说明", f"附件说明应写作“附件：1.名称”，「{written}」已按附件说明读取并改为标准写法，请核对", "warning"))
    return body_items[:s]


def _banji_label(it: Item) -> bool:
    s = P.squeeze(it.text)
    return bool(P.CC_RE.match(s) or P.MAIN_TO_BANJI_RE.match(s) or P.PRINT_RE.match(it.text))


def _banji_start(items: list[Item]) -> int:
    """Index where the 版记 starts: only labelled lines (抄送：, 主送：, …印发) and continuation lines
    of a 抄送/主送 just above them may follow it, up to the end."""
    def cc_or_main(it: Item) -> bool:
        s = P.squeeze(it.text)
        return bool(P.CC_RE.match(s) or P.MAIN_TO_BANJI_RE.match(s))

    def continuation(it: Item) -> bool:
        return _is_para(it) and len(it.text) <= 80 and not P.DATE_LOOSE_RE.match(it.text) \
            and P.heading_prefix(it.text) is None

    k = j = len(items)
    while k > 0 and _is_para(items[k - 1]):
        if _banji_label(items[k - 1]):
            k -= 1
            j = k
            continue
        # a wrapped 抄送 line: a labelled 抄送/主送 line at most three lines above, nothing else between
        above = next((m for m in range(k - 2, max(-1, k - 5), -1) if cc_or_main(items[m])), None)
        if above is not None and all(continuation(x) for x in items[above + 1:k]):
            k -= 1
            continue
        break
    return j


def _layout_table(it: Item) -> bool:
    """A small table at the end holding the 署名 and 成文日期 (Word users align them so)."""
    cells = [line for row in it.rows for cell in row for line in cell.split("\n") if line.strip()]
    return (len(it.rows) <= 4 and 0 < len(cells) <= 6 and all(len(c) <= 40 for c in cells)
            and any(P.DATE_LOOSE_RE.match(c) for c in cells))


def _top_number_or_signer(text: str, out: Parsed) -> bool:
    """A typed 发文字号 and/or 签发人 at the top (上行文 put both on one line)."""
    t = P.clean_line(text)
    signer = None
    m = re.search(r"签\s*发\s*人\s*[：:]", t)
    if m:
        signer = t[m.end():].strip()
        t = t[: m.start()].strip()
    number = None
    if t:
        nm = P.NUMBER_LINE_RE.match(t)
        cand = nm["number"].strip() if nm else t
        if P.NUMBER_LOOSE_RE.match(P.squeeze(cand)) or (nm and cand):
            number = cand
        else:
            return False
    if signer is None and number is None:
        return False
    if number:
        out.number_text = number
    if signer is not None:
        out.signers = tuple(n for n in re.split(r"[\s、，,]+", signer) if n)
    return True


def _parse_banji(lines: list[Item], out: Parsed) -> None:
    current = None
    cc: list[str] = []
    mt: list[str] = []
    for it in lines:
        t = P.clean_line(it.text)
        s = P.squeeze(t)
        pm = P.PRINT_RE.match(t)
        if m := P.CC_RE.match(s):
            current, cc = "cc", [m["rest"]]
        elif m := P.MAIN_TO_BANJI_RE.match(s):
            current, mt = "mt", [m["rest"]]
        elif pm:
            out.printer = P.clean_line(pm["printer"]) or None
            out.print_date_text = P.squeeze(pm["date"])
            current = None
        elif current == "cc":
            cc.append(s)
        elif current == "mt":
            mt.append(s)
    if cc:
        out.cc = "".join(cc).rstrip("。.") or None
    if mt:
        out.main_to_banji = "".join(mt).rstrip("。.") or None


def _split_sections(items: list[Item]) -> list[list[Item]]:
    sections: list[list[Item]] = []
    for it in items:
        if _attach_head(it) is not False or _titled_head(it) is not None or not sections:
            sections.append([it])
        else:
            sections[-1].append(it)
    return sections


def _section(sec: list[Item], problems: list[Problem]) -> tuple[int | None, str | None, tuple[Block, ...]]:
    head = _attach_head(sec[0])
    num = head if isinstance(head, int) and not isinstance(head, bool) else None
    body = sec[1:]
    titled = _titled_head(sec[0]) if head is False else None
    if titled:
        return titled[0], titled[1], blocks_from(body, problems)
    title = None
    if body and _is_para(body[0]) and (body[0].kind == "heading" or _title_like(body[0].text)):
        title = P.clean_line(body[0].text)
        body = body[1:]
    return num, title, blocks_from(body, problems)


def blocks_from(items: list[Item], problems: list[Problem]) -> tuple[Block, ...]:
    """Body blocks with heading levels. Markdown headings are mapped from their `#` level (the
    shallowest level used becomes 一、); a heading written without its number gets one generated
    (一、（一）1.（1）), so the author may write `## 总体要求`."""
    md_levels = [it.level for it in items if it.kind == "heading" and it.level]
    base = min(md_levels) if md_levels else 1
    counters = [0, 0, 0, 0]
    deep_warned = False
    out: list[Block] = []
    explicit: set[int] = set()       # blocks that are Markdown `#` headings: the author chose them
    for it in items:
        if it.kind == "heading":
            explicit.add(len(out))
        if it.kind == "table":
            if it.rows:
                out.append(Block(kind="table", rows=it.rows))
            continue
        if it.kind == "attach":
            continue
        text = P.clean_line(it.text)
        if not text:
            continue
        level = None
        if it.kind == "heading":
            written = P.heading_prefix(text)
            if written:
                level = written[0]
            else:
                idx = min((it.level or base) - base, 3)
                if (it.level or base) - base > 3 and not deep_warned:
                    problems.append(Problem("正文", f"标题层级超过四级（「{text[:20]}」），公文正文结构层次最多四级，已按第四级处理", "warning"))
                    deep_warned = True
                level = f"heading{idx + 1}"
                n = counters[idx] + 1
                text = P.number_heading(level, n) + text
        elif not it.in_list:
            level = P.heading_level(text)
        if level:
            idx = int(level[-1]) - 1
            hit = P.heading_prefix(text)
            value = P.heading_number(hit[1]) if hit else None
            counters[idx] = value if value else counters[idx] + 1
            for deeper in range(idx + 1, 4):
                counters[deeper] = 0
            out.append(Block(kind=_HEADINGS[idx], text=text))
        else:
            out.append(Block(kind="paragraph", text=text))
    return _consistent_siblings(out, explicit)


def _consistent_siblings(blocks: list[Block], explicit: set[int]) -> tuple[Block, ...]:
    """Numbered items of one level under one parent are alike: when some of them are sentences
    (body paragraphs that start with a number), a short sibling that also ends like a sentence
    (「二、区财政配套资金1200万元，分两年安排。」) is one too, not a 黑体 heading among 仿宋 lines."""
    groups: dict[tuple[int, int], list[int]] = {}
    parents = [-1, -1, -1, -1]          # index of the current numbered block at each level
    for i, b in enumerate(blocks):
        hit = P.heading_prefix(b.text) if b.kind != "table" else None
        if not hit:
            continue
        idx = int(hit[0][-1]) - 1
        parent = max(parents[:idx], default=-1)
        groups.setdefault((idx, parent), []).append(i)
        parents[idx] = i
        for deeper in range(idx + 1, 4):
            parents[deeper] = -1
    out = list(blocks)
    for members in groups.values():
        if not any(blocks[i].kind == "paragraph" for i in members):
            continue
        for i in members:
            b = blocks[i]
            if b.kind.startswith("heading") and i not in explicit and b.text.endswith(("。", "；", ";")):
                out[i] = Block(kind="paragraph", text=b.text)
    return tuple(out)


def attachments_from(note_lines: tuple[str, ...], meta_entries: tuple, sections) -> tuple[Attachment, ...]:
    """Pair the 附件说明 entries (or a YAML 附件 list) with the attachments' own pages."""
    entries: list[tuple[str, int | None, Any]]
    if meta_entries:
        entries = []
        numbered = len(meta_entries) > 1
        for i, (raw, file) in enumerate(meta_entries, 1):
            e = P.parse_attachment_note((raw,), first_has_label=False)
            if e and e[0].number is not None:
                entries.append((e[0].name, e[0].number, file))
            else:
                entries.append((P.clean_line(raw), i if numbered else None, file))
    else:
        entries = [(e.name, e.number, None) for e in P.parse_attachment_note(note_lines)]
    out: list[Attachment] = []
    used = set()
    numbered_sections = any(num is not None for num, _, _ in sections)
    for idx, (name, number, file) in enumerate(entries):
        sec = None
        if numbered_sections and number is not None:
            cand = [k for k, s in enumerate(sections) if s[0] == number and k not in used]
            sec = cand[0] if cand else None
        elif idx < len(sections) and idx not in used:
            sec = idx
        if sec is not None:
            used.add(sec)
            _, title, blocks = sections[sec]
            out.append(Attachment(name=name, number=number, blocks=blocks, file=file, title=title))
        else:
            out.append(Attachment(name=name, number=number, file=file))
    for k, (num, title, blocks) in enumerate(sections):
        if k in used:
            continue
        number = num if num is not None else (k + 1 if len(sections) > 1 else None)
        out.append(Attachment(name="", number=number, blocks=blocks, title=title))
    return tuple(out)
