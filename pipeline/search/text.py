"""Text analysis shared by both engines: normalisation, character units, bigrams, and snippets.

Chinese has no spaces, so the index works on *units*: every CJK character (and every other
non-space character, punctuation included) is one unit, a run of ASCII letters/digits is one unit
(a word), and whitespace ends a run. A field is indexed twice: as bigrams of neighbouring units with
positions (so a phrase query is a true phrase: exact substring match within a run) and as single
units without positions (so one-character queries work). Both engines get the very same tokens
from here, which is what makes their results identical.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Iterator

# A unit longer than this is cut: tantivy refuses terms over 64 KB and such strings (hashes, base64)
# are never typed by a person anyway.
MAX_UNIT = 64
_RUN_SPLIT = re.compile(r"\s+")
_UNIT = re.compile(r"[0-9a-z]+|.", re.S)


def normalize(text: str) -> str:
    """NFKC (full-width digits/letters → ASCII, compatibility ideographs → unified) and lower case:
    what a person typing on any keyboard means by the same text."""
    return unicodedata.normalize("NFKC", text).lower()


def runs(text: str) -> list[list[str]]:
    """The units of ``text``, grouped in whitespace-free runs."""
    out = []
    for chunk in _RUN_SPLIT.split(normalize(text)):
        if chunk:
            out.append([u[:MAX_UNIT] for u in _UNIT.findall(chunk)])
    return out


def bigrams(run: list[str]) -> list[str]:
    return [run[i] + run[i + 1] for i in range(len(run) - 1)]


@dataclass(frozen=True)
class Grams:
    """A field's tokens: ``bigram_runs`` (one list per run; positions restart after a one-position
    gap between runs) and ``unigrams`` (every unit, no positions needed)."""

    bigram_runs: tuple[tuple[str, ...], ...]
    unigrams: tuple[str, ...]


def grams(texts: Iterable[str]) -> Grams:
    """Tokens for a field made of one or more texts (each text is at least one run)."""
    bruns: list[tuple[str, ...]] = []
    unis: list[str] = []
    for text in texts:
        for run in runs(text or ""):
            unis.extend(run)
            bruns.append(tuple(bigrams(run)))
    return Grams(tuple(bruns), tuple(unis))


def positioned_bigrams(g: Grams) -> Iterator[tuple[int, str]]:
    """(position, bigram) pairs; a run of n units occupies n positions and runs are one position
    apart, so no phrase can be matched across whitespace or field values."""
    pos = 0
    for run in g.bigram_runs:
        for i, gram in enumerate(run):
            yield pos + i, gram
        pos += len(run) + 2


# --- snippets ------------------------------------------------------------------------------------

OPEN, CLOSE = "【", "】"


def _normalized_with_map(text: str) -> tuple[str, list[int]]:
    """The normalised text and, for each of its characters, the index of the source character (so
    matches found in normalised space are marked on the original text)."""
    out: list[str] = []
    idx: list[int] = []
    for i, ch in enumerate(text):
        n = ch if ch.isascii() and not ch.isupper() else normalize(ch)
        out.append(n)
        idx.extend([i] * len(n))
    return "".join(out), idx


def find_matches(text: str, needles: Iterable[str], cap: int = 2000) -> list[tuple[int, int]]:
    """Merged, sorted (start, end) spans in ``text`` where any needle (already normalised, no
    whitespace) occurs, compared in normalised space."""
    needles = [n for n in {n for n in needles if n}]
    if not needles or not text:
        return []
    norm, idx = _normalized_with_map(text)
    spans = []
    for needle in needles:
        start = norm.find(needle)
        while start >= 0 and len(spans) < cap:
            end = start + len(needle)
            spans.append((idx[start], idx[end - 1] + 1))
            start = norm.find(needle, start + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def _densest_window(matches: list[tuple[int, int]], width: int) -> int:
    """The window start (a little before a match) whose ``width`` characters cover the most whole
    matches; the earliest wins a tie. ``matches`` are merged, so starts and ends are both sorted and
    each count is two binary searches (a common word in a long report has thousands of matches:
    counting them pairwise cost ~60 ms per hit)."""
    lead = width // 5
    starts = [a for a, _ in matches]
    ends = [b for _, b in matches]
    best, best_n = 0, -1
    for s in starts:
        w0 = max(0, s - lead)
        n = max(0, bisect.bisect_right(ends, w0 + width) - bisect.bisect_left(starts, w0))
        if n > best_n:
            best, best_n = w0, n
    return best


def snippet(text: str, needles: Iterable[str], width: int = 90) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A window of about ``width`` characters of ``text`` around the densest group of matches, with
    each match marked 【…】; whitespace is collapsed. Returns the snippet and the (start, end) spans of
    the marked text inside it (for a terminal to style instead of the brackets)."""
    text = text or ""
    matches = find_matches(text, needles)
    lo = _densest_window(matches, width) if matches else 0
    hi = min(len(text), lo + width)
    if matches and hi - lo < width:  # near the end: show more text before the match instead
        lo = max(0, hi - width)
    out: list[str] = ["…"] if lo > 0 else []
    length = len(out[0]) if out else 0
    spans: list[tuple[int, int]] = []
    inside = [(max(a, lo), min(b, hi)) for a, b in matches if b > lo and a < hi]
    mi = 0
    last_space = False
    i = lo
    while i < hi:
        if mi < len(inside) and i == inside[mi][0]:
            a, b = inside[mi]
            piece = re.sub(r"\s+", " ", text[a:b])
            out.append(OPEN)
            spans.append((length + 1, length + 1 + len(piece)))
            out.append(piece)
            out.append(CLOSE)
            length += len(piece) + 2
            i = b
            mi += 1
            last_space = False
            continue
        ch = text[i]
        if ch.isspace():
            if not last_space and length:
                out.append(" ")
                length += 1
            last_space = True
        else:
            out.append(ch)
            length += 1
            last_space = False
        i += 1
    s = "".join(out).rstrip()
    if hi < len(text):
        s += "…"
    return s, tuple(spans)
