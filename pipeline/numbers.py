"""The 发文字号: print (series, year, seq) in a series' configured form and parse one back, strictly.

GB/T 9704-2012 7.2.5 (standards.md §1.12): 机关代字 + 〔年份〕 + 序号 + 号; the year in full Arabic digits
inside 六角括号 〔〕 (U+3014/U+3015), the sequence number without leading zeros and without 第. The forms
come from config (``Series.number`` as printed, ``Series.reference`` as the register knows it); the
parser is built from the same forms, so format → parse is a round trip by construction and anything
else (look-alike brackets, 03号, 第3号, 〔15〕, full-width digits, spaces) is refused with a reason.
"""
from __future__ import annotations

import re
from functools import lru_cache

from .config import Config
from .errors import ConfigError, LedgerError
from .model import Number

FIELD_RE = re.compile(r"\{(code|year|seq)\}")
# The year "in full": the standards' own validation regex uses (19|20)\d{2}. ASCII classes only —
# Python's \d would also accept full-width and other Unicode digits.
YEAR_MIN, YEAR_MAX = 1900, 2099
_YEAR = "(?:19|20)[0-9]{2}"
_SEQ = "[1-9][0-9]*"          # no leading zeros (不编虚位)


# The sequence number of a 清样: left blank, as wide as two characters of the 3号 line, so a number
# of up to three digits can be written in by hand. Ideographic spaces, because an ASCII space in a CJK
# face is a quarter em and the blank would hardly show.
BLANK_SEQ = "\u3000\u3000"


def render(fmt: str, code: str, year: int, seq: int | str) -> str:
    """Fill one number format. Plain replacement, not str.format: a format is a template of three
    named fields only (config validates that), never arbitrary Python formatting."""
    return fmt.replace("{code}", code).replace("{year}", str(year)).replace("{seq}", str(seq))


def format_number(config: Config, series: str, year: int, seq: int) -> Number:
    """The Number for ``seq`` of ``series`` in ``year``: printed text and unique reference."""
    s = config.series.get(series)
    if s is None:
        raise LedgerError(f"没有名为“{series}”的发文系列（机关代字）；配置中有：{'、'.join(config.series)}")
    if not (YEAR_MIN <= year <= YEAR_MAX):
        raise LedgerError(f"年份 {year} 不在 {YEAR_MIN}–{YEAR_MAX} 之内")
    if seq < 1:
        raise LedgerError(f"发文顺序号必须从 1 起，收到 {seq}")
    return Number(series=series, year=year, seq=seq,
                  text=render(s.number, series, year, seq),
                  reference=render(s.reference_format, series, year, seq))


def blank_number(config: Config, series: str, year: int) -> Number:
    """The 发文字号 a 清样 shows — 珠政发〔2015〕　　号 — with no number taken (``seq`` 0). It never
    parses as a number, so nothing can mistake it for one."""
    s = config.series.get(series)
    if s is None:
        raise LedgerError(f"没有名为“{series}”的发文系列（机关代字）；配置中有：{'、'.join(config.series)}")
    text = render(s.number, series, year, BLANK_SEQ)
    return Number(series=series, year=year, seq=0, text=text,
                  reference=render(s.reference_format, series, year, BLANK_SEQ))


@lru_cache(maxsize=256)
def _pattern(fmt: str, code: str) -> re.Pattern | None:
    """A strict full-match regex for one format with the series' code filled in; None when the
    format does not carry the year (e.g. 第{seq}期), so it cannot identify a number by itself."""
    if "{year}" not in fmt:
        return None
    out, seen = [], set()
    pos = 0
    for m in FIELD_RE.finditer(fmt):
        out.append(re.escape(fmt[pos:m.start()]))
        name = m.group(1)
        if name == "code":
            out.append(re.escape(code))
        elif name in seen:
            out.append(f"(?P={name})")
        else:
            seen.add(name)
            out.append(f"(?P<{name}>{_YEAR if name == 'year' else _SEQ})")
        pos = m.end()
    out.append(re.escape(fmt[pos:]))
    return re.compile("".join(out))


def _why_not(text: str) -> str:
    """The most likely reason a text is not a valid 发文字号, for the error message."""
    if not text:
        return "文号为空"
    if re.search(r"\s", text):
        return "文号中不能有空格"
    if re.search(r"[\[\]()（）【】﹝﹞〖〗{}<>〈〉]", text):
        return "年份应使用六角括号〔〕（不用 []、()、（）、【】）"
    if re.search(r"[０-９]", text):
        return "数字应使用半角阿拉伯数字"
    if re.search(r"[〇零一二三四五六七八九十百]+号$", text):
        return "序号应使用阿拉伯数字"
    if "第" in text:
        return "序号前不加“第”"
    if re.search(r"〔[0-9]{1,3}〕", text):
        return "年份应写全四位（如 2015，不写 15）"
    if re.search(r"(?<![0-9])0[0-9]+(号|期)", text):
        return "序号不编虚位（写 3，不写 03）"
    return "与配置的任何发文系列格式都不符"


def parse_number(text: str, config: Config) -> tuple[str, int, int]:
    """(series, year, seq) for a 发文字号 written exactly in one series' number or reference form.

    Strict: no surrounding or inner spaces, 〔〕 only, no leading zeros, no 第 unless the configured
    form has it. A printed form shared by several series (two 纪要 series both printing 〔2015〕7号)
    is ambiguous and refused: use the reference form then. Raises ValueError (with the reason in
    Chinese): reading a text is not a register operation; the register turns it into its own error."""
    if not isinstance(text, str):
        raise ValueError(f"发文字号应为文本，收到 {type(text).__name__}")
    hits: set[tuple[str, int, int]] = set()
    for code, s in config.series.items():
        for fmt in {s.number, s.reference_format}:
            pat = _pattern(fmt, code)
            m = pat.fullmatch(text) if pat else None
            if m:
                hits.add((code, int(m.group("year")), int(m.group("seq"))))
    if len(hits) == 1:
        return hits.pop()
    if len(hits) > 1:
        names = "、".join(sorted({h[0] for h in hits}))
        raise ValueError(f"“{text}”可以是多个系列（{names}）的文号，请写完整文号（带机关代字）")
    raise ValueError(f"“{text}”不是有效的发文字号：{_why_not(text)}。"
                      "正确形式如 珠政发〔2015〕3号（机关代字〔年份〕序号号）")


def check_formats(config: Config) -> None:
    """Refuse a config whose reference forms cannot identify a number: each must carry {year} and
    parse back to its own series (no two series sharing a reference form)."""
    for code, s in config.series.items():
        key = "reference" if s.reference else "number"
        if "{year}" not in s.reference_format:
            raise ConfigError(f"series › {code} › {key}: 登记用文号格式必须含 {{year}}，否则各年的文号会重复"
                              f"（纪要印“第{{seq}}期”时，另设 reference: \"{{code}}〔{{year}}〕{{seq}}号\"）")
        for year, seq in ((2015, 1), (2099, 1234)):
            ref = render(s.reference_format, code, year, seq)
            try:
                got = parse_number(ref, config)
            except ValueError as e:
                raise ConfigError(f"series › {code} › {key}: 文号“{ref}”无法唯一识别：{e}") from None
            if got != (code, year, seq):
                raise ConfigError(f"series › {code} › {key}: 文号“{ref}”会被识别为 {got}")
