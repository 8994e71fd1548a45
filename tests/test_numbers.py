"""The 发文字号 format and its strict parser (GB/T 9704 7.2.5; standards.md §1.12)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import Config
from pipeline.errors import ConfigError, LedgerError
from pipeline.numbers import check_formats, format_number, parse_number

REPO = Path(__file__).resolve().parent.parent
RAW = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
# The repository's config without loading templates: numbering never reads them.
DEFAULT = Config.model_validate({**RAW, "base": Path("/nonexistent")})


def make_config(series: dict[str, dict]) -> Config:
    """A config with exactly these series (each {number, reference}); routes point at the first."""
    first = next(iter(series))
    raw = {**RAW, "series": {code: {"issuer": "某机关", "header": "某机关文件", "kinds": ["通知"], **fmt}
                             for code, fmt in series.items()},
           "intake": {"routes": [{"folder": "x", "series": first}]},
           "archive": {"retention": [{"period": "D30"}]}, "base": Path("/nonexistent")}
    return Config.model_validate(raw)


# --- examples -------------------------------------------------------------------------------------

def test_default_forms():
    n = format_number(DEFAULT, "珠政发", 2015, 3)
    assert (n.text, n.reference) == ("珠政发〔2015〕3号", "珠政发〔2015〕3号")
    assert "\u3014" in n.text and "\u3015" in n.text
    m = format_number(DEFAULT, "常务会议纪要", 2015, 7)
    assert (m.text, m.reference) == ("〔2015〕7号", "常务会议纪要〔2015〕7号")
    assert format_number(DEFAULT, "珠政办发", 2024, 120).text == "珠政办发〔2024〕120号"


def test_parse_examples():
    assert parse_number("珠政发〔2015〕3号", DEFAULT) == ("珠政发", 2015, 3)
    assert parse_number("珠政办发〔2015〕10号", DEFAULT) == ("珠政办发", 2015, 10)
    # The 纪要's printed form is unique in the default config, its reference too.
    assert parse_number("〔2015〕7号", DEFAULT) == ("常务会议纪要", 2015, 7)
    assert parse_number("常务会议纪要〔2015〕7号", DEFAULT) == ("常务会议纪要", 2015, 7)


@pytest.mark.parametrize("text, why", [
    ("珠政发[2015]3号", "六角括号"), ("珠政发(2015)3号", "六角括号"), ("珠政发（2015）3号", "六角括号"),
    ("珠政发【2015】3号", "六角括号"), ("珠政发﹝2015﹞3号", "六角括号"), ("珠政发〔2015〕03号", "虚位"),
    ("珠政发〔2015〕第3号", "第"), ("珠政发〔15〕3号", "四位"), ("珠政发〔２０１５〕３号", "半角"),
    ("珠政发 〔2015〕3号", "空格"), (" 珠政发〔2015〕3号", "空格"), ("珠政发〔2015〕3号 ", "空格"),
    ("珠政发〔2015〕 3号", "空格"), ("珠政发〔2015〕3", "不符"), ("珠政发〔2015〕0号", "不符"),
    ("珠政府发〔2015〕3号", "不符"), ("珠政发〔2015〕三号", "阿拉伯"), ("珠政发〔1899〕3号", "不符"),
    ("", "为空"),
])
def test_look_alikes_rejected_with_reason(text, why):
    with pytest.raises(ValueError) as e:
        parse_number(text, DEFAULT)
    assert why in str(e.value)
    assert "珠政发〔2015〕3号" in str(e.value) or why == "为空"


def test_format_number_refuses_bad_values():
    with pytest.raises(LedgerError, match="发文系列"):
        format_number(DEFAULT, "没有这个", 2015, 1)
    with pytest.raises(LedgerError, match="从 1 起"):
        format_number(DEFAULT, "珠政发", 2015, 0)
    with pytest.raises(LedgerError, match="年份"):
        format_number(DEFAULT, "珠政发", 15, 1)


def test_ambiguous_printed_form_needs_the_reference():
    cfg = make_config({
        "常务会议纪要": {"number": "〔{year}〕{seq}号", "reference": "{code}〔{year}〕{seq}号"},
        "专题会议纪要": {"number": "〔{year}〕{seq}号", "reference": "{code}〔{year}〕{seq}号"},
    })
    check_formats(cfg)
    with pytest.raises(ValueError, match="多个系列"):
        parse_number("〔2015〕7号", cfg)
    assert parse_number("专题会议纪要〔2015〕7号", cfg) == ("专题会议纪要", 2015, 7)


def test_issue_number_series():
    """A 纪要 printed as 第7期: the printed form alone carries no year, the reference does."""
    cfg = make_config({"珠政发": {},
                       "纪要": {"number": "第{seq}期", "reference": "{code}〔{year}〕第{seq}期"}})
    n = format_number(cfg, "纪要", 2015, 7)
    assert (n.text, n.reference) == ("第7期", "纪要〔2015〕第7期")
    assert parse_number(n.reference, cfg) == ("纪要", 2015, 7)
    with pytest.raises(ValueError):
        parse_number("第7期", cfg)
    with pytest.raises(ValueError):
        parse_number("纪要〔2015〕第07期", cfg)


def test_check_formats_refuses_unidentifiable_references():
    with pytest.raises(ConfigError, match=r"series › 纪要 › number.*\{year\}"):
        check_formats(make_config({"珠政发": {}, "纪要": {"number": "第{seq}期"}}))
    with pytest.raises(ConfigError, match="无法唯一识别"):
        check_formats(make_config({"甲发": {"reference": "〔{year}〕{seq}号"},
                                   "乙发": {"reference": "〔{year}〕{seq}号"}}))
    check_formats(DEFAULT)


# --- properties -----------------------------------------------------------------------------------

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
codes = st.text(CJK, min_size=1, max_size=6)
years = st.integers(1900, 2099)
seqs = st.integers(1, 99999)
REFERENCE_FORMS = ("{code}〔{year}〕{seq}号", "{code}〔{year}〕第{seq}期", "〔{year}〕{code}{seq}号")
NUMBER_FORMS = (None, "〔{year}〕{seq}号", "第{seq}期")


@st.composite
def configs(draw):
    n = draw(st.integers(1, 4))
    names = draw(st.lists(codes, min_size=n, max_size=n, unique=True))
    series, special_used = {}, False
    for code in names:
        ref = draw(st.sampled_from(REFERENCE_FORMS))
        num = draw(st.sampled_from(NUMBER_FORMS))
        if num and special_used:     # at most one series uses a code-less printed form
            num = None
        special_used = special_used or bool(num)
        series[code] = {"reference": ref, **({"number": num} if num else {"number": ref})}
    return make_config(series)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs(), data=st.data())
def test_round_trip_every_series_form(cfg, data):
    code = data.draw(st.sampled_from(sorted(cfg.series)))
    year, seq = data.draw(years), data.draw(seqs)
    n = format_number(cfg, code, year, seq)
    assert (n.series, n.year, n.seq) == (code, year, seq)
    assert parse_number(n.reference, cfg) == (code, year, seq)
    if "{year}" in cfg.series[code].number:
        assert parse_number(n.text, cfg) == (code, year, seq)
    else:
        with pytest.raises(ValueError):
            parse_number(n.text, cfg)
    for s in (n.text, n.reference):
        assert f"〔{year}〕" in s or "{year}" not in cfg.series[code].number
        assert re.search(r"(?<![0-9])([0-9]+)(号|期)$", s).group(1) == str(seq)   # no leading zeros


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
SPACES = (" ", "\u3000", "\t", "\u00a0")


def _mutations(text: str, year: int, seq: int) -> list[str]:
    y, q = f"〔{year}〕", f"{seq}号"
    out = [text.replace(y, f"[{year}]"), text.replace(y, f"({year})"), text.replace(y, f"（{year}）"),
           text.replace(y, f"【{year}】"), text.replace(y, f"﹝{year}﹞"), text.replace(y, f"〔{year}]"),
           text.replace(y, f"{year}"),
           text.replace(y, f"〔{year % 100:02d}〕"),
           text.replace(y + q, y + "0" + q), text.replace(y + q, y + "00" + q),
           text.replace(y + q, y + "第" + q),
           text.replace(y + q, y + q.removesuffix("号")),
           text.replace(y + q, y + q + "号"),
           text.translate(FULLWIDTH)]
    return [m for m in out if m != text]


@settings(max_examples=200, deadline=None)
@given(code=st.sampled_from(["珠政发", "珠政办发", "珠政函", "常务会议纪要"]), year=years, seq=seqs,
       where=st.integers(0, 30), space=st.sampled_from(SPACES), pick=st.integers(0, 100))
def test_look_alikes_of_valid_numbers_are_rejected(code, year, seq, where, space, pick):
    n = format_number(DEFAULT, code, year, seq)
    for text in {n.text, n.reference}:
        bad = _mutations(text, year, seq)
        i = where % (len(text) + 1)
        bad.append(text[:i] + space + text[i:])
        for b in (bad[pick % len(bad)], bad[-1]):
            with pytest.raises(ValueError):
                parse_number(b, DEFAULT)
