"""Text analysis shared by both engines: normalisation, character units, bigrams, and snippets.

Chinese has no spaces, so the index works on *units*: every CJK character (and every other
non-space character, punctuation included) is one unit, a run of ASCII letters/digits is one unit
(a word), and whitespace ends a run. A field is indexed twice: as bigrams of neighbouring units with
positions (so a phrase query is a true phrase: exact substring match within a run) and as single
units without positions (so one-character queries work). Both engines get the very same tokens
from here, which is what makes their results identical.

**Normalisation** (``normalize``) is one function, used on the text when it is indexed, on every
query word, and to find the matches a snippet marks:

1. each character is folded on its own (``fold_char``, so a position in the folded text is a
   position in the original): its NFKC form when that is one character (full-width letters, digits
   and punctuation → ASCII, compatibility ideographs → unified, the ideographic space → a space;
   forms NFKC spells with several characters, such as …, ㈠ and ⑴, stay as they are), lower case,
   traditional → simplified by OpenCC's character table ``TSCharacters`` (first candidate; the
   table opencc-purepy ships, read as data so that folding costs a dictionary look-up), and the
   variants in ``VARIANTS`` (〇/○/零, dashes, middle dots); invisible format characters (zero-width
   space, BOM, soft hyphen) become spaces;
2. whitespace between two CJK characters (CJK punctuation included) is removed: a name spaced out
   as 「习　近　平」 or text from an OCR layer that puts spaces between characters reads as written;
3. a single line break between two CJK characters is removed as well (text from PDFs and typed
   .txt files breaks lines mid-sentence), unless the line before ends a sentence (。！？；：…) or
   one of the two lines is a heading (``drafts.patterns.heading_prefix``); a blank line always
   separates paragraphs.
"""
from __future__ import annotations

import bisect
import importlib.util
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

# A unit longer than this is cut: tantivy refuses terms over 64 KB and such strings (hashes, base64)
# are never typed by a person anyway.
MAX_UNIT = 64
_RUN_SPLIT = re.compile(r"\s+")
_UNIT = re.compile(r"[0-9a-z]+|.", re.S)

# --- normalisation -------------------------------------------------------------------------------

# The traditional → simplified table: OpenCC's TSCharacters (one character to its first candidate).
OPENCC_TABLE = "TSCharacters"
# Variants folded after NFKC and the OpenCC table: the zero written three ways in dates and numbers
# (一九七〇年, 一九七○年, 二零一五年), the long dash drawn with other characters (—— ―― ──), the
# short dashes and the wave dash people type for ranges, and middle dots in names and 档号.
VARIANTS = {
    "○": "〇", "零": "〇",
    "―": "—", "─": "—", "━": "—",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "−": "-",
    "〜": "~",
    "・": "·", "•": "·", "‧": "·", "∙": "·", "⋅": "·",
}


def _opencc_table() -> dict[str, str]:
    # Read as data (the package's own converter is a phrase-level, pure-Python loop: too slow to
    # run over an archive, and a phrase rule would make the fold depend on the neighbours).
    spec = importlib.util.find_spec("opencc_purepy")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("opencc-purepy is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "dicts" / f"{OPENCC_TABLE}.txt"
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        src, _, targets = line.partition("\t")
        first = targets.split(" ")[0]
        if len(src) == 1 and len(first) == 1 and not src.startswith("#"):
            table[src] = first
    return table


_T2S: dict[str, str] | None = None


def fold_char(ch: str) -> str:
    """The one character ``ch`` stands for in the index (see the module docstring, step 1)."""
    global _T2S
    if unicodedata.category(ch) == "Cf":
        return " "
    n = unicodedata.normalize("NFKC", ch)
    if len(n) != 1:
        n = ch
    low = n.lower()
    if len(low) == 1:
        n = low
    if n > "\u2e7f":                      # below: no CJK, nothing in the OpenCC table
        if _T2S is None:
            _T2S = _opencc_table()
        n = _T2S.get(n, n)
    return VARIANTS.get(n, n)


class _FoldTable(dict):
    """``str.translate`` table filled on first sight of each character (a dict subclass's
    ``__missing__`` is honoured by translate), so folding is a C loop over a cached table. Values
    are code points, unchanged characters included (translate is slowest on a miss and on str
    values: 85 ns a character this way, 200 ns with str values)."""

    def __missing__(self, cp: int) -> int:
        f = ord(fold_char(chr(cp)))
        self[cp] = f
        return f


_FOLD = _FoldTable()

# Characters between which whitespace and wrapped lines are removed: CJK ideographs, 〇/○, CJK and
# full-width punctuation, Chinese quotes, dashes, the ellipsis and the middle dot (not full-width
# letters and digits, which fold to ASCII words).
_CJK = ("\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f\u3001-\u303f\u25cb"
        "\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\u2018-\u201f\u2014\u2015\u2026\u00b7")
_SPACE = "[ \t\u00a0\u1680\u2000-\u200d\u202f\u205f\u2060\u3000\ufeff\u00ad]"
_GAP = re.compile(rf"(?<=[{_CJK}])(?:{_SPACE}+|{_SPACE}*\r?\n{_SPACE}*)(?=[{_CJK}])")
_WS = re.compile(r"\s")
_SPACES = re.compile(rf"(?:\s|{_SPACE})+")
_LINE_END = "。！？；：…"
_CLOSERS = "”’」』）》】〕"


def _line_wraps(text: str, a: int, b: int) -> bool:
    """The line break in ``text[a:b]`` (between two CJK characters) wraps one paragraph."""
    before = text[a - 1]
    if before in _LINE_END or (before in _CLOSERS and a >= 2 and text[a - 2] in _LINE_END):
        return False
    from ..drafts.patterns import heading_level, heading_prefix

    start = text.rfind("\n", 0, a) + 1
    end = text.find("\n", b)
    prev_line = text[start:a].strip()
    next_line = text[b:end if end >= 0 else len(text)].strip()
    return not (heading_prefix(next_line) or heading_level(prev_line))


def _gaps(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` removed by normalisation (steps 2 and 3)."""
    out = []
    for m in _GAP.finditer(text):
        a, b = m.span()
        if "\n" in text[a:b] and not _line_wraps(text, a, b):
            continue
        out.append((a, b))
    return out


def normalize(text: str) -> str:
    """The text as the index sees it (module docstring): folded characters, no whitespace between
    CJK characters, wrapped lines joined."""
    folded = text.translate(_FOLD)
    if not _WS.search(folded):
        return folded
    gaps = _gaps(text)
    if not gaps:
        return folded
    parts, pos = [], 0
    for a, b in gaps:
        parts.append(folded[pos:a])
        pos = b
    parts.append(folded[pos:])
    return "".join(parts)


def normalize_with_map(text: str) -> tuple[str, list[int], list[int]]:
    """``normalize(text)`` and a map back: segment starts in the normalised text and, for each, the
    position of that segment in ``text`` (a normalised position ``i`` in the segment starting at
    ``n`` is ``raw + i - n`` in the original)."""
    folded = text.translate(_FOLD)
    norm_starts, raw_starts, parts = [0], [0], []
    pos = length = 0
    for a, b in (_gaps(text) if _WS.search(folded) else ()):
        parts.append(folded[pos:a])
        length += a - pos
        pos = b
        norm_starts.append(length)
        raw_starts.append(b)
    parts.append(folded[pos:])
    return "".join(parts), norm_starts, raw_starts


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


def find_matches(text: str, needles: Iterable[str], cap: int = 2000) -> list[tuple[int, int]]:
    """Merged, sorted (start, end) spans in ``text`` where any needle (already normalised, no
    whitespace) occurs, compared in normalised space (so 經濟 in the text is marked for 经济, and a
    phrase across a wrapped line is marked across it)."""
    needles = [n for n in {n for n in needles if n}]
    if not needles or not text:
        return []
    norm, norm_starts, raw_starts = normalize_with_map(text)

    def raw(i: int) -> int:
        k = bisect.bisect_right(norm_starts, i) - 1
        return raw_starts[k] + i - norm_starts[k]

    spans: list[tuple[int, int]] = []
    for needle in needles:
        start = norm.find(needle)
        while start >= 0 and len(spans) < cap:
            end = start + len(needle)
            spans.append((raw(start), raw(end - 1) + 1))
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
    pos = lo
    for a, b in ((max(a, lo), min(b, hi)) for a, b in matches if b > lo and a < hi):
        plain = _SPACES.sub(" ", text[pos:a])
        if not length:
            plain = plain.lstrip()
        # Whitespace inside a match is what normalisation removed (a wrapped line, a spaced name).
        piece = _SPACES.sub("", text[a:b])
        out += (plain, OPEN, piece, CLOSE)
        length += len(plain)
        spans.append((length + 1, length + 1 + len(piece)))
        length += len(piece) + 2
        pos = b
    rest = _SPACES.sub(" ", text[pos:hi])
    out.append(rest.lstrip() if not length else rest)
    s = "".join(out).rstrip()
    if hi < len(text):
        s += "…"
    return s, tuple(spans)
