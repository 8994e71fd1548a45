"""The query language: parse a person's query once into a small AST, then lower it to an
engine-neutral plan of term/phrase/range clauses that each engine translates one to one.

Syntax (ASCII only, see the lexer): words (implicit AND), "quoted phrases", AND / OR / NOT (upper
case) and a ``-`` prefix, parentheses around several words, and ``field:value`` (标题: 正文: 文号: 档号: 年度: 文种: 机关代字: 日期:
责任者: and English aliases). A bare word that *is* a 文号 or 档号 is searched exactly in those fields.
The CJK bigram clause is built per leaf (never OR-ed at the top), so NOT and AND keep their meaning.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Union

from ..errors import SearchError
from . import text as T

# --- AST -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaf:
    value: str
    field: str | None = None     # canonical field name, None = everywhere (标题, 正文, 文号/档号 text)
    phrase: bool = False         # quoted: always a text phrase, never an exact 文号 lookup


@dataclass(frozen=True)
class And:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class Or:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class Not:
    item: "Node"


@dataclass(frozen=True)
class Every:
    pass


Node = Union[Leaf, And, Or, Not, Every]

# --- field names ---------------------------------------------------------------------------------

FIELD_ALIASES = {
    "标题": "title", "题名": "title", "title": "title",
    "正文": "body", "body": "body", "content": "body",
    "文号": "number", "发文字号": "number", "文件编号": "number", "number": "number", "id": "number",
    "档号": "archive_code", "archive_code": "archive_code", "archive": "archive_code",
    "年度": "year", "year": "year",
    "文种": "kind", "kind": "kind",
    "机关代字": "series", "series": "series",
    "日期": "date", "成文日期": "date", "date": "date",
    "责任者": "issuer", "issuer": "issuer",
}
# ASCII case only (re.A): under plain re.I "ſ", "ı" and the Kelvin sign would match s, i and k, and
# the lower-cased match would name no field.
_FIELD_RE = re.compile(r"(%s)[:：]" % "|".join(sorted(map(re.escape, FIELD_ALIASES), key=len, reverse=True)),
                       re.I | re.A)

# --- 文号 and 档号 recognition --------------------------------------------------------------------

# 机关代字〔年份〕序号号, accepting the brackets people actually type: 〔〕 [] ［］ () （） 【】 ﹝﹞.
_NUMBER_RE = re.compile(
    r"^(?P<code>[\u3400-\u9fffA-Za-z]{0,12})\s*[〔\[［(（【﹝]\s*(?P<year>\d{4})\s*[〕\]］)）】﹞]"
    r"\s*第?\s*(?P<seq>\d{1,5})\s*号$")
# DA/T 22 档号: 全宗号-WS·年度-保管期限-机构代码-件号 (standards §3.7; "." and other dots → U+00B7).
_ARCHIVE_RE = re.compile(
    r"^(?:(?P<fonds>[A-Z0-9]{1,4})-)?WS[·.・•‧･]\s*(?P<year>\d{4})-(?P<period>Y|D30|D10)"
    r"(?:-(?P<unit>[A-Z0-9]{1,3}))?-(?P<item>\d{4})$", re.I)


def parse_number(s: str) -> str | None:
    """The canonical 文号 (珠政发〔2015〕3号) if ``s`` is one, however bracketed; else None."""
    m = _NUMBER_RE.match(s.strip())
    if not m:
        return None
    return f"{m['code']}〔{m['year']}〕{int(m['seq'])}号"


def parse_archive_code(s: str) -> str | None:
    """The canonical 档号 (Z109-WS·2015-Y-BGS-0001) if ``s`` is one; else None."""
    m = _ARCHIVE_RE.match(s.strip())
    if not m:
        return None
    head = f"{m['fonds'].upper()}-" if m["fonds"] else ""
    unit = f"-{m['unit'].upper()}" if m["unit"] else ""
    return f"{head}WS·{m['year']}-{m['period'].upper()}{unit}-{m['item']}"


# --- lexer ---------------------------------------------------------------------------------------
#
# Syntax is ASCII only, and only where it is clearly meant (what a clerk pastes is text):
# - words are separated by whitespace (any: a space, the ideographic space, a tab, a line break);
# - ``"`` opens a phrase where a word starts and a later ``"`` ends a word; any other ``"`` is text;
# - ``(`` groups where a word starts, if its matching ``)`` ends a word and the group holds more
#   than one word (``(控违 OR 防汛)``); ``(一)`` and an unpaired ``(`` or ``)`` are text;
# - ``-`` where a word starts excludes that word (NOT); ``AND`` ``OR`` ``NOT`` in capitals;
# - ``field:value`` (also with ``：``) where a word starts, for the field names in FIELD_ALIASES.
# Chinese quotes “…” 「…」, full-width brackets （…） and everything else are text, searched as typed
# (after normalisation: （一） finds (一) too).

QUOTE, LPAREN, RPAREN = '"', "(", ")"
_OPENERS = ('"', "(", "-")


@dataclass(frozen=True)
class _Tok:
    kind: str      # WORD PHRASE FIELD AND OR NOT LP RP
    value: str = ""


def _after_field(q: str, i: int) -> bool:
    """``q[:i]`` ends with a field prefix (标题: or 标题：) that starts a word."""
    if i == 0 or q[i - 1] not in ":：":
        return False
    k = i - 1
    while k > 0 and not q[k - 1].isspace() and q[k - 1] not in _OPENERS:
        k -= 1
    m = _FIELD_RE.match(q, k)
    return m is not None and m.end() == i


def _syntax(q: str) -> tuple[dict[int, int], set[int], set[int]]:
    """Which quotes and parentheses of ``q`` are syntax: {phrase start: end}, group starts, ends."""
    n = len(q)

    def starts_word(i: int, openers: set[int]) -> bool:
        return i == 0 or q[i - 1].isspace() or q[i - 1] == "-" or (i - 1) in openers or _after_field(q, i)

    def ends_word(j: int) -> bool:
        return j + 1 == n or q[j + 1].isspace() or q[j + 1] == RPAREN

    phrases: dict[int, int] = {}
    i = 0
    while i < n:
        if q[i] == QUOTE and (i == 0 or q[i - 1].isspace() or q[i - 1] in "(-" or _after_field(q, i)):
            j = next((j for j in range(i + 1, n) if q[j] == QUOTE and ends_word(j)), None)
            if j is not None:
                phrases[i] = j
                i = j + 1
                continue
        i += 1
    inside = {k for a, b in phrases.items() for k in range(a, b + 1)}
    candidates: set[int] = set()
    stack: list[int] = []
    pairs: list[tuple[int, int]] = []
    for i, ch in enumerate(q):
        if i in inside:
            continue
        if ch == LPAREN and starts_word(i, candidates):
            candidates.add(i)
            stack.append(i)
        elif ch == RPAREN and stack and ends_word(i):
            pairs.append((stack.pop(), i))
    groups = [(a, b) for a, b in pairs if any(c.isspace() for c in q[a + 1:b])]
    return phrases, {a for a, _ in groups}, {b for _, b in groups}


def _lex(q: str) -> list[_Tok]:
    phrases, lps, rps = _syntax(q)
    stops = set(phrases) | lps | rps
    toks: list[_Tok] = []
    i, n = 0, len(q)
    prefixed = -1      # the position just after a - or + prefix: a word (or field) starts there
    while i < n:
        ch = q[i]
        if ch.isspace():
            i += 1
            continue
        if i in phrases:
            toks.append(_Tok("PHRASE", q[i + 1:phrases[i]]))
            i = phrases[i] + 1
            continue
        if i in lps:
            toks.append(_Tok("LP"))
            i += 1
            continue
        if i in rps:
            toks.append(_Tok("RP"))
            i += 1
            continue
        at_start = (i == 0 or i == prefixed or q[i - 1].isspace() or (i - 1) in stops
                    or _after_field(q, i))
        if ch in "-+" and at_start and i + 1 < n and not q[i + 1].isspace():
            if ch == "-":
                toks.append(_Tok("NOT"))
            # "+" is Lucene's "must": terms are required anyway
            i = prefixed = i + 1
            continue
        m = _FIELD_RE.match(q, i) if at_start else None
        if m:
            toks.append(_Tok("FIELD", FIELD_ALIASES[m.group(1).lower()]))
            i = m.end()
            if i >= n or q[i].isspace():
                raise SearchError(f"检索式有误：“{m.group(0)}”后缺少检索词，如 {m.group(0)}2015。")
            continue
        j = i + 1
        while j < n and not q[j].isspace() and j not in stops:
            j += 1
        word = q[i:j]
        i = j
        if word in ("AND", "&&"):
            toks.append(_Tok("AND"))
        elif word in ("OR", "||"):
            toks.append(_Tok("OR"))
        elif word == "NOT":
            toks.append(_Tok("NOT"))
        else:
            toks.append(_Tok("WORD", word))
    return toks


# --- parser --------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, toks: list[_Tok], source: str):
        self.toks = toks
        self.i = 0
        self.source = source

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def peek_kind(self) -> str | None:
        """The next token's kind; None at the end."""
        t = self.peek()
        return None if t is None else t.kind

    def take(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def error(self, msg: str) -> SearchError:
        return SearchError(f"检索式有误：{msg}（检索式：{self.source}）")

    def parse(self) -> Node:
        if not self.toks:
            return Every()
        node = self.or_()
        if (t := self.peek()) is not None:
            if t.kind == "RP":
                raise self.error("右括号多于左括号")
            raise self.error(f"无法理解“{t.value or t.kind}”")
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while (t := self.peek()) is not None and t.kind == "OR":
            self.take()
            if self.peek_kind() in (None, "OR", "AND", "RP"):
                raise self.error("OR 后缺少检索词")
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_(self) -> Node:
        t = self.peek()
        if t is None or t.kind in ("OR", "AND", "RP"):
            what = {"OR": "OR 前", "AND": "AND 前", "RP": "括号内"}.get(t.kind if t else "", "")
            raise self.error(f"{what}缺少检索词")
        items = [self.unary()]
        while (t := self.peek()) is not None and t.kind not in ("OR", "RP"):
            if t.kind == "AND":
                self.take()
                if self.peek_kind() in (None, "OR", "AND", "RP"):
                    raise self.error("AND 后缺少检索词")
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Node:
        t = self.peek()
        if t is not None and t.kind == "NOT":
            self.take()
            if self.peek_kind() in (None, "OR", "AND", "RP"):
                raise self.error("NOT（或 -）后缺少检索词")
            return Not(self.unary())
        return self.primary(None)

    def primary(self, field: str | None) -> Node:
        t = self.take()
        if t.kind == "LP":
            if self.peek() is None:
                raise self.error("括号不成对")
            node = self.or_()
            if self.peek_kind() != "RP":
                raise self.error("括号不成对")
            self.take()
            return _with_field(node, field) if field else node
        if t.kind == "FIELD":
            if field:
                raise self.error("字段不能嵌套")
            if self.peek_kind() not in ("WORD", "PHRASE", "LP"):
                raise self.error("字段后缺少检索词")
            return self.primary(t.value)
        if t.kind == "WORD":
            return Leaf(t.value, field, phrase=False)
        if t.kind == "PHRASE":
            return Leaf(t.value, field, phrase=True)
        raise self.error(f"无法理解“{t.value or t.kind}”")


def _with_field(node: Node, field: str) -> Node:
    if isinstance(node, Leaf):
        return Leaf(node.value, node.field or field, node.phrase)
    if isinstance(node, And):
        return And(tuple(_with_field(n, field) for n in node.items))
    if isinstance(node, Or):
        return Or(tuple(_with_field(n, field) for n in node.items))
    if isinstance(node, Not):
        return Not(_with_field(node.item, field))
    return node


def parse(q: str) -> Node:
    """Parse a query. A query that as a whole is a 文号 or 档号 (even with spaces or other brackets)
    is one exact leaf; an empty query matches every document."""
    q = (q or "").strip()
    if q and (parse_number(q) or parse_archive_code(q)) and not q.startswith(("-", "(")):
        return Leaf(q)
    return _Parser(_lex(q), q).parse()


# --- plan: the engine-neutral clauses ------------------------------------------------------------

# Ranking: BM25 (both engines) over the 标题, the 正文 and the 文号/档号 text (refs) as fields, their
# scores added. The title's weight is small so that it cannot swamp the body: with the title ×3 a
# chapter heading holding 市场经济 ranked seven sections that never use it above the one using it
# five times. Chosen on the graded judgements in tests/fixtures/search_relevance.json (nDCG@10 on
# both engines, printed by `python -m bench search`): it rises as the weight falls from ×3 to about
# ×0.3 and is nearly flat below. ×0.3 keeps a title hit worth about a third of a use in the body, as
# an archive's own titles say more than the shared chapter headings of that corpus. An exact
# 文号/档号 match outranks everything.
BOOSTS = {"title": 0.3, "refs": 1.0, "body": 1.0}
EXACT_BOOST = 20.0
TEXT_FIELDS = ("title", "body", "refs")


@dataclass(frozen=True)
class PTerm:          # one term in an exact field (id, number, archive_code, series …) or a unigram field
    field: str
    value: str


@dataclass(frozen=True)
class PPhrase:        # bigrams at consecutive positions in a bigram field (one bigram = a term)
    field: str
    grams: tuple[str, ...]


@dataclass(frozen=True)
class PRange:         # integer range, inclusive (year, date as YYYYMMDD)
    field: str
    lo: int | None
    hi: int | None


@dataclass(frozen=True)
class PAll:
    pass


@dataclass(frozen=True)
class PAnd:
    items: tuple["Plan", ...]


@dataclass(frozen=True)
class POr:
    items: tuple["Plan", ...]


@dataclass(frozen=True)
class PAndNot:
    positive: "Plan"
    negatives: tuple["Plan", ...]


@dataclass(frozen=True)
class PBoost:
    item: "Plan"
    factor: float


Plan = Union[PTerm, PPhrase, PRange, PAll, PAnd, POr, PAndNot, PBoost]


@dataclass(frozen=True)
class Compiled:
    plan: Plan
    needles: tuple[str, ...]    # normalised strings to mark in snippets (positive text leaves only)


def unigram_field(field: str) -> str:
    return field + "1"


def text_clause(value: str, fields: tuple[str, ...] | None = None) -> tuple[Plan | None, list[str]]:
    """The clause for free text in ``fields`` (default TEXT_FIELDS): per whitespace-free run, a
    unigram term (one unit) or a bigram phrase (more), OR-ed across fields with their boosts; runs
    are AND-ed."""
    fields = fields or TEXT_FIELDS
    rs = T.runs(value)
    if not rs:
        return None, []
    per_run: list[Plan] = []
    for run in rs:
        alts: list[Plan] = []
        for f in fields:
            if len(run) == 1:
                clause: Plan = PTerm(unigram_field(f), run[0])
            else:
                clause = PPhrase(f, tuple(T.bigrams(run)))
            alts.append(PBoost(clause, BOOSTS[f]) if BOOSTS[f] != 1.0 else clause)
        per_run.append(alts[0] if len(alts) == 1 else POr(tuple(alts)))
    plan = per_run[0] if len(per_run) == 1 else PAnd(tuple(per_run))
    return plan, ["".join(r) for r in rs]


def _year_range(value: str) -> PRange:
    v = T.normalize(value).strip().rstrip("年")
    m = re.fullmatch(r"(\d{4})(?:\s*(?:\.\.|-|~|至|到)\s*(\d{4}))?", v)
    if not m:
        raise SearchError(f"检索式有误：年度“{value}”应为四位数字，如 年度:2015 或 年度:2014..2016。")
    lo = int(m[1])
    hi = int(m[2]) if m[2] else lo
    return PRange("year", min(lo, hi), max(lo, hi))


def parse_date_bound(value: str, *, upper: bool) -> int:
    """YYYYMMDD of a date written 2015-03-20, 2015/3/20, 2015年3月20日, 20150320; a month or a year
    alone stands for its first (lower bound) or last (upper bound) day."""
    v = T.normalize(value).strip()
    m = (re.fullmatch(r"(\d{4})[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?|月)?", v)
         or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", v)
         or re.fullmatch(r"(\d{4})年?()()", v))
    if not m:
        raise SearchError(f"检索式有误：日期“{value}”无法识别，请写成 2015-03-20 或 2015年3月20日。")
    y = int(m[1])
    mo = int(m[2]) if m[2] else (12 if upper else 1)
    if m[3]:
        d = int(m[3])
    elif upper:
        d = (dt.date(y + (mo == 12), mo % 12 + 1, 1) - dt.timedelta(days=1)).day
    else:
        d = 1
    try:
        return int(dt.date(y, mo, d).strftime("%Y%m%d"))
    except ValueError:
        raise SearchError(f"检索式有误：日期“{value}”不存在。") from None


def _date_range(value: str) -> PRange:
    parts = re.split(r"\s*(?:\.\.|~|至|到)\s*", value.strip(), maxsplit=1)
    lo = parse_date_bound(parts[0], upper=False) if parts[0] else None
    hi = parse_date_bound(parts[-1], upper=True) if parts[-1] else None
    return PRange("date", lo, hi)


def _exact_reference(v: str) -> Plan | None:
    if (num := parse_number(v)) is not None:
        return PBoost(POr((PTerm("id", num), PTerm("number", num))), EXACT_BOOST)
    if (code := parse_archive_code(v)) is not None:
        return PBoost(PTerm("archive_code", code), EXACT_BOOST)
    return None


def _leaf(leaf: Leaf, needles: list[str]) -> Plan | None:
    f = leaf.field
    v = leaf.value
    if f is None:
        exact = _exact_reference(v)
        if exact is not None and not leaf.phrase:
            return exact
        plan, ns = text_clause(v)
        needles.extend(ns)
        if exact is not None and plan is not None:
            # A quoted 文号: the document itself (first) and every document citing it.
            return POr((exact, plan))
        return plan
    if f in ("title", "body"):
        plan, ns = text_clause(v, (f,))
        needles.extend(ns)
        return plan
    if f in ("number", "archive_code"):
        exact = _exact_reference(v)
        return exact if exact is not None else text_clause(v, ("refs",))[0]
    if f == "year":
        return _year_range(v)
    if f == "date":
        return _date_range(v)
    if f in ("kind", "series", "issuer"):
        v = v.strip()
        return PTerm(f, v) if v else None
    raise AssertionError(f)


def _lower(node: Node, needles: list[str], negated: bool) -> Plan | None:
    if isinstance(node, Every):
        return PAll()
    if isinstance(node, Leaf):
        return _leaf(node, needles if not negated else [])
    if isinstance(node, Not):
        inner = _lower(node.item, needles, not negated)
        return None if inner is None else PAndNot(PAll(), (inner,))
    if isinstance(node, Or):
        items = [p for p in (_lower(n, needles, negated) for n in node.items) if p is not None]
        if not items:
            return None
        return items[0] if len(items) == 1 else POr(tuple(items))
    if isinstance(node, And):
        pos: list[Plan] = []
        neg: list[Plan] = []
        for n in node.items:
            if isinstance(n, Not):
                p = _lower(n.item, needles, not negated)
                if p is not None:
                    neg.append(p)
            else:
                p = _lower(n, needles, negated)
                if p is not None:
                    pos.append(p)
        if not pos and not neg:
            return None
        positive: Plan = PAll() if not pos else (pos[0] if len(pos) == 1 else PAnd(tuple(pos)))
        return PAndNot(positive, tuple(neg)) if neg else positive
    raise AssertionError(node)


def compile_query(q: str) -> Compiled:
    """Parse and lower ``q``. A query whose words are all punctuation-free nothing (e.g. ``""``)
    matches every document, like an empty query."""
    needles: list[str] = []
    plan = _lower(parse(q), needles, False)
    return Compiled(plan if plan is not None else PAll(), tuple(dict.fromkeys(needles)))


DIRECTIONS = ("收文", "发文")


def filters_plan(*, year: int | None = None, series: str | None = None, kind: str | None = None,
                 date_from: dt.date | None = None, date_to: dt.date | None = None,
                 direction: str | None = None) -> Plan | None:
    """The filter clauses of the search options (they restrict, they do not score). ``direction``:
    收文 (documents received, record kind 收文) or 发文 (everything this office issued)."""
    items: list[Plan] = []
    if direction:
        if direction not in DIRECTIONS:
            raise SearchError(f"收发文筛选只能是 收文 或 发文，不是“{direction}”。")
        received = PTerm("record_kind", "收文")
        items.append(received if direction == "收文" else PAndNot(PAll(), (received,)))
    if year is not None:
        items.append(PRange("year", int(year), int(year)))
    if series:
        items.append(PTerm("series", series))
    if kind:
        items.append(PTerm("kind", kind))
    if date_from is not None or date_to is not None:
        if date_from and date_to and date_from > date_to:
            raise SearchError(f"起始日期 {date_from} 晚于截止日期 {date_to}。")
        items.append(PRange("date", int(date_from.strftime("%Y%m%d")) if date_from else None,
                            int(date_to.strftime("%Y%m%d")) if date_to else None))
    if not items:
        return None
    return items[0] if len(items) == 1 else PAnd(tuple(items))
