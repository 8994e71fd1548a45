"""Turn a Markdown body (after the front matter) into Items with markdown-it-py: headings keep their
`#` level, GFM tables become table items, `<!-- [附件] -->` markers split off the attachments.
Plain .txt bodies are not Markdown: one line is one paragraph."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ..model import Problem
from ._structure import Item
from .patterns import clean_line, group_lines, is_cjk

_MD = MarkdownIt("commonmark", {"html": True}).enable("table")

# Pandoc/Quarto markup that is layout, not content: fenced-div lines (::: {.noindent}), lone
# attribute paragraphs ({v}, {pagebreak}) and trailing attributes ({.noindent}).
_DIV_FENCE = re.compile(r"^\s*:::.*$", re.M)
_LONE_ATTR = re.compile(r"^\{[^{}\n]*\}$")
_TRAIL_ATTR = re.compile(r"\s*\{[.#][^{}\n]*\}\s*$")
_ATTACH_MARK = re.compile(r"<!--\s*\[?\s*附\s*件\s*\]?\s*-->")
# An inline HTML tag: its name, for the warning (<span style=…> and </span> are both "<span>").
_TAG = re.compile(r"^<\s*/?\s*([A-Za-z][A-Za-z0-9-]*)")
_LINE_BREAK_TAGS = {"br"}


def _join(parts: list[str]) -> str:
    """Join soft-broken lines: no space between Chinese characters, one between Latin words."""
    out = ""
    for p in parts:
        if out and p and not (is_cjk(out[-1]) or is_cjk(p[0]) or out[-1] in "，。；：、（）" or p[0] in "，。；：、（）"):
            out += " "
        out += p
    return out


@dataclass
class _Dropped:
    """What the Markdown carries that a printed 公文 cannot: pictures, link addresses, HTML tags."""

    images: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)      # "<span>", in the order met, once each


def _inline(tok: Token, dropped: _Dropped) -> str:
    return _TRAIL_ATTR.sub("", _join(_inline_lines(tok, dropped)))


def _inline_lines(tok: Token, dropped: _Dropped) -> list[str]:
    """The inline text of a block, one string per source line (soft and hard breaks)."""
    lines: list[str] = [""]
    href, link_text = None, ""
    for ch in tok.children or ():
        t = ch.type
        if t in ("text", "code_inline"):
            lines[-1] += ch.content
            link_text += ch.content
        elif t in ("softbreak", "hardbreak"):
            lines.append("")
        elif t == "html_inline":
            # The tag goes; the text between tags is separate text tokens and stays. <br> is a
            # line break as its writer meant; a comment is not content.
            m = _TAG.match(ch.content)
            if m and m.group(1).lower() in _LINE_BREAK_TAGS:
                lines.append("")
            elif m and f"<{m.group(1).lower()}>" not in dropped.tags:
                dropped.tags.append(f"<{m.group(1).lower()}>")
        elif t == "image":
            dropped.images.append(unquote(str(ch.attrs.get("src", ""))) if ch.attrs else "")
        elif t == "link_open":
            href, link_text = unquote(str(ch.attrs.get("href", ""))) if ch.attrs else "", ""
        elif t == "link_close":
            # the link's text is printed; its address only if the text shows it
            address = href.removeprefix("mailto:") if href else ""
            if address and address not in link_text and address.rstrip("/") not in link_text:
                dropped.links.append(f"{link_text}（{href}）")
            href = None
        # strong/em open/close add nothing to the text
    return [x.strip() for x in lines]


def items_from_markdown(body: str) -> tuple[list[Item], list[Problem]]:
    problems: list[Problem] = []
    dropped = _Dropped()
    dropped_html = 0
    body = _DIV_FENCE.sub("", body)
    tokens = _MD.parse(body)
    items: list[Item] = []
    list_stack: list[list] = []      # [ordered?, next number]
    pending_prefix = ""
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        t = tok.type
        if t == "heading_open":
            text = _inline(tokens[i + 1], dropped)
            items.append(Item("heading", text, level=int(tok.tag[1]), explicit=True))
            i += 3
            continue
        if t in ("bullet_list_open", "ordered_list_open"):
            start = int(tok.attrs.get("start", 1)) if tok.attrs and tok.attrs.get("start") else 1
            list_stack.append([t == "ordered_list_open", start])
        elif t in ("bullet_list_close", "ordered_list_close"):
            list_stack.pop()
        elif t == "list_item_open":
            if list_stack and list_stack[-1][0]:
                pending_prefix = f"{list_stack[-1][1]}."
                list_stack[-1][1] += 1
            else:
                pending_prefix = ""
        elif t == "inline" and tokens[i - 1].type == "paragraph_open":
            # Lines typed without a blank line between them are one Markdown paragraph, but a clerk
            # writing 署名, 日期 or 附件说明 entries on consecutive lines means separate lines.
            lines = group_lines([_TRAIL_ATTR.sub("", x) for x in _inline_lines(tok, dropped)], sentence_breaks=False)
            for k, text in enumerate(lines):
                if text and not _LONE_ATTR.match(text):
                    items.append(Item("para", (pending_prefix if k == 0 else "") + text, explicit=True,
                                      in_list=bool(list_stack)))
            pending_prefix = ""
        elif t == "table_open":
            rows, i = _table(tokens, i, dropped)
            items.append(Item("table", rows=rows))
            continue
        elif t in ("fence", "code_block"):
            for line in tok.content.splitlines():
                if line.strip():
                    items.append(Item("para", clean_line(line), explicit=True))
        elif t == "html_block":
            if _ATTACH_MARK.search(tok.content):
                items.append(Item("attach"))
            elif not tok.content.strip().startswith("<!--"):
                dropped_html += 1
        i += 1
    images = dropped.images
    if images:
        problems.append(Problem("正文", f"草稿中的 {len(images)} 张图片（{'、'.join(x for x in images[:3] if x) or '未命名'}）不会进入公文，请改为附件或另行处理", "warning"))
    if dropped.links:
        shown = "、".join(f"「{x}」" for x in dropped.links[:3])
        problems.append(Problem("正文", f"链接只保留文字，网址不会印在公文上：{shown}{'等' if len(dropped.links) > 3 else ''}；如需读者看到网址，请把网址写进正文", "warning"))
    if dropped.tags:
        shown = "、".join(dropped.tags[:5]) + ("等" if len(dropped.tags) > 5 else "")
        problems.append(Problem("正文", f"草稿中的 HTML 标签（{shown}）已去掉，只保留其中的文字；公文的格式由模板决定", "warning"))
    if dropped_html:
        problems.append(Problem("正文", f"草稿中有 {dropped_html} 段 HTML 代码，已忽略", "warning"))
    return items, problems


def _table(tokens: list[Token], i: int, dropped: _Dropped) -> tuple[tuple[tuple[str, ...], ...], int]:
    rows: list[tuple[str, ...]] = []
    row: list[str] = []
    while tokens[i].type != "table_close":
        t = tokens[i].type
        if t == "tr_open":
            row = []
        elif t == "tr_close":
            rows.append(tuple(row))
        elif t == "inline":
            row.append(clean_line(_inline(tokens[i], dropped)))
        i += 1
    return tuple(rows), i + 1


def items_from_text(body: str) -> list[Item]:
    """A plain-text body: each non-empty line is one paragraph (that is how people type .txt)."""
    return [Item("para", clean_line(line)) for line in body.split("\n") if line.strip()]
