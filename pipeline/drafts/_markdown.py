"""Turn a Markdown body (after the front matter) into Items with markdown-it-py: headings keep their
`#` level, GFM tables become table items, `<!-- [附件] -->` markers split off the attachments.
Plain .txt bodies are not Markdown: one line is one paragraph."""
from __future__ import annotations

import re
from urllib.parse import unquote

from markdown_it import MarkdownIt
from markdown_it.token import Token

from ..model import Problem
from ._structure import Item
from .patterns import clean_line, is_cjk

_MD = MarkdownIt("commonmark", {"html": True}).enable("table")

# Pandoc/Quarto markup that is layout, not content: fenced-div lines (::: {.noindent}), lone
# attribute paragraphs ({v}, {pagebreak}) and trailing attributes ({.noindent}).
_DIV_FENCE = re.compile(r"^\s*:::.*$", re.M)
_LONE_ATTR = re.compile(r"^\{[^{}\n]*\}$")
_TRAIL_ATTR = re.compile(r"\s*\{[.#][^{}\n]*\}\s*$")
_ATTACH_MARK = re.compile(r"<!--\s*\[?\s*附\s*件\s*\]?\s*-->")


def _join(parts: list[str]) -> str:
    """Join soft-broken lines: no space between Chinese characters, one between Latin words."""
    out = ""
    for p in parts:
        if out and p and not (is_cjk(out[-1]) or is_cjk(p[0]) or out[-1] in "，。；：、（）" or p[0] in "，。；：、（）"):
            out += " "
        out += p
    return out


def _inline(tok: Token, images: list[str]) -> str:
    lines: list[str] = [""]
    for ch in tok.children or ():
        t = ch.type
        if t in ("text", "code_inline"):
            lines[-1] += ch.content
        elif t in ("softbreak", "hardbreak"):
            lines.append("")
        elif t == "image":
            images.append(unquote(str(ch.attrs.get("src", ""))) if ch.attrs else "")
        # strong/em/link open/close and inline html add nothing to the text
    return _TRAIL_ATTR.sub("", _join([x.strip() for x in lines]))


def items_from_markdown(body: str) -> tuple[list[Item], list[Problem]]:
    problems: list[Problem] = []
    images: list[str] = []
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
            text = _inline(tokens[i + 1], images)
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
            text = _inline(tok, images)
            if text and not _LONE_ATTR.match(text):
                items.append(Item("para", pending_prefix + text, explicit=True, in_list=bool(list_stack)))
            pending_prefix = ""
        elif t == "table_open":
            rows, i = _table(tokens, i, images)
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
    if images:
        problems.append(Problem("正文", f"草稿中的 {len(images)} 张图片（{'、'.join(x for x in images[:3] if x) or '未命名'}）不会进入公文，请改为附件或另行处理", "warning"))
    if dropped_html:
        problems.append(Problem("正文", f"草稿中有 {dropped_html} 段 HTML 代码，已忽略", "warning"))
    return items, problems


def _table(tokens: list[Token], i: int, images: list[str]) -> tuple[tuple[tuple[str, ...], ...], int]:
    rows: list[tuple[str, ...]] = []
    row: list[str] = []
    while tokens[i].type != "table_close":
        t = tokens[i].type
        if t == "tr_open":
            row = []
        elif t == "tr_close":
            rows.append(tuple(row))
        elif t == "inline":
            row.append(clean_line(_inline(tokens[i], images)))
        i += 1
    return tuple(rows), i + 1


def items_from_text(body: str) -> list[Item]:
    """A plain-text body: each non-empty line is one paragraph (that is how people type .txt)."""
    return [Item("para", clean_line(line)) for line in body.split("\n") if line.strip()]
