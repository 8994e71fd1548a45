"""The elements of a received document, found by the draft reader's own patterns
(drafts/_structure.analyse over drafts/patterns): 发文机关 (from the 发文机关标志, else the 署名),
来文字号, 标题, 主送, 成文日期, 文种, 密级, 紧急程度, 附件说明. What is not found stays None — left
for the clerk, never guessed.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass

from ..config import KINDS
from ..drafts import patterns as P
from ..drafts._structure import Item, analyse

# How far down page 1 a 密级 mark is looked for (it belongs in the 版头's top-left corner, GB/T
# 9704 7.2.2; OCR and text extraction may put a 份号, a stray mark or the 紧急程度 before it).
SECRECY_LINES = 12


@dataclass(frozen=True)
class Elements:
    sender: str | None = None            # 来文机关 (发文机关)
    number: str | None = None            # 来文字号 as printed
    title: str | None = None             # 标题
    main_to: str | None = None           # 主送
    date: dt.date | None = None          # 成文日期
    date_text: str | None = None         # 成文日期 as printed
    kind: str | None = None              # 文种, from the title
    secrecy: str | None = None           # 密级 (and 保密期限) as printed
    urgency: str | None = None           # 紧急程度
    attachments: tuple[str, ...] = ()    # 附件说明 entries
    signers: tuple[str, ...] = ()        # 签发人 (of an upward document)

    @property
    def classified(self) -> bool:
        return self.secrecy is not None and bool(re.match("绝密|机密|秘密", self.secrecy))

    def missing(self) -> list[str]:
        """Elements the clerk has to fill in (Chinese names)."""
        need = (("sender", "来文机关"), ("number", "来文字号"), ("title", "标题"), ("date", "成文日期"))
        return [name for attr, name in need if not getattr(self, attr)]

    def to_json(self) -> dict:
        d = asdict(self)
        d["date"] = self.date.isoformat() if self.date else None
        d["attachments"] = list(self.attachments)
        d["signers"] = list(self.signers)
        return d


def _top_line(line: str) -> bool:
    """A 版头 line (份号, 密级, 紧急程度, 发文机关标志, 发文字号 and 签发人): never part of a paragraph."""
    s = P.squeeze(line)
    number = re.split(r"签发人[：:]", s)[0]
    return bool(P.COPY_NO_RE.match(s) or P.CLASSIFIED_MARK_RE.match(s) or P.URGENCY_RE.match(s)
                or (s.endswith("文件") and len(s) <= 25) or "签发人" in s
                or (number and P.NUMBER_LOOSE_RE.match(number)))


def _print_lines(lines: list[str]) -> list[str]:
    """The 版记's last line holds the 印发机关 at the left and 「…印发」 at the right; an extractor may
    give them as two lines (with the page number between, already dropped): put them together again,
    or the 印发机关 would be taken for the 署名."""
    out: list[str] = []
    for line in lines:
        m = P.PRINT_RE.match(line)
        if m and not m["printer"].strip() and out:
            prev = P.squeeze(out[-1])
            if 2 <= len(prev) <= 40 and prev.endswith(P.ORGAN_SUFFIXES) and not re.search("[，。：:；]", prev):
                out[-1] = f"{out[-1]}  {line}"
                continue
        out.append(line)
    return out


def items_from_lines(lines: list[str]) -> list[Item]:
    """Lines of extracted or OCR'd text → paragraphs: the 版头 lines as they are, then a line wrapped
    at the right margin joined with the next (the draft reader's rule for soft line breaks)."""
    lines = _print_lines(list(lines))
    k = 0
    while k < len(lines) and _top_line(lines[k]):
        k += 1
    return [Item("para", t) for t in lines[:k]] + \
        [Item("para", t) for t in P.group_lines(lines[k:], sentence_breaks=True)]


def secrecy_mark(lines: list[str]) -> str | None:
    """A 密级 mark near the top of the first page, whatever stands before it."""
    for line in lines[:SECRECY_LINES]:
        s = P.squeeze(line)
        m = P.CLASSIFIED_MARK_RE.match(s)
        if m:
            return s[s.index(m["level"]):]
        # 份号, 密级 and 紧急程度 set on one line, or read onto one line by OCR
        for token in re.split(r"[\s\u3000]+", line.strip()):
            m = P.CLASSIFIED_MARK_RE.match(token)
            if m:
                return token[token.index(m["level"]):]
    return None


def _header_line(items: list[Item]) -> set[str]:
    """A 信函-style 版头 (the organ's name alone, no 文件) is the first line when a 发文字号 follows
    within two lines: known to analyse as a header so it is not taken for the title."""
    if len(items) < 2:
        return set()
    first = P.squeeze(items[0].text)
    if not (4 <= len(first) <= 30 and first.endswith(P.ORGAN_SUFFIXES) and not re.search("[，。：:；]", first)):
        return set()
    for it in items[1:3]:
        t = P.squeeze(it.text)
        t = re.split(r"签发人[：:]", t)[0]
        if P.NUMBER_LOOSE_RE.match(t):
            return {first}
    return set()


def read_elements(lines: list[str], items: list[Item] | None = None) -> Elements:
    """The elements of a received document from its text lines (or a .docx's items)."""
    if items:
        # Tables are read as lines: a 版记 or a 署名/日期 block set in a table is still found (the body
        # is not kept from here; 全文 comes from the rendered text).
        items = [x for it in items for x in ([it] if it.kind != "table" else
                 [Item("para", P.clean_line(line)) for row in it.rows for cell in row
                  for line in cell.split("\n") if line.strip()])]
    else:
        items = items_from_lines(lines)
    flat = [it.text for it in items if it.kind != "table"] if items else list(lines)
    secrecy = secrecy_mark(flat[:SECRECY_LINES] or lines)
    parsed = analyse(items, known_issuers=set(), known_headers=_header_line(items))
    header = parsed.header
    sender = None
    if header:
        sender = header[:-2] if header.endswith("文件") else header
    if not sender and parsed.signature:
        sender = parsed.signature
    number = parsed.number_text
    if number and not P.NUMBER_LOOSE_RE.match(P.squeeze(number)):
        number = None
    date = None
    if parsed.date_text:
        date = P.parse_exact_date(P.squeeze(parsed.date_text)) or P.date_suggestion(parsed.date_text)[0]
    title = P.clean_line(parsed.title) if parsed.title else None
    attachments = tuple(e.name for e in P.parse_attachment_note(parsed.attachment_note)) \
        if parsed.attachment_note else ()
    return Elements(
        sender=sender, number=P.squeeze(number) if number else None, title=title,
        main_to=parsed.main_to, date=date, date_text=parsed.date_text,
        kind=P.kind_from_title(title, KINDS), secrecy=secrecy or parsed.secrecy, urgency=parsed.urgency,
        attachments=attachments, signers=tuple(parsed.signers))
