"""Working days (chinesecalendar + the office's own years) and the 时限 reader."""
from __future__ import annotations

import datetime as dt

import pytest

from pipeline.config import Config, load
from pipeline.supervise.deadlines import add_months, find_in_text, parse_rule
from pipeline.workdays import Calendar, package_years
from tests.conftest import write_instance

D = dt.date


@pytest.fixture(scope="module")
def cal():
    return Calendar()


def test_the_package_years_are_stated(cal):
    lo, hi = package_years()
    assert lo <= 2015 and hi >= 2026
    assert cal.source(2015).startswith("chinesecalendar")
    assert cal.source(hi + 1) is None


def test_holidays_and_调休_days(cal):
    assert cal.is_workday(D(2015, 2, 18)) is False          # 春节
    assert cal.holiday_name(D(2015, 2, 18)) == "春节"
    assert cal.is_workday(D(2015, 2, 28)) is True           # Saturday worked (调休)
    assert cal.is_workday(D(2015, 2, 15)) is True           # Sunday worked (调休)
    assert cal.is_workday(D(2015, 9, 3)) is False           # the one-off 70th anniversary holiday
    assert cal.is_workday(D(2015, 3, 7)) is False           # an ordinary Saturday


def test_fifteen_working_days_cross_the_spring_festival(cal):
    # From the 2015-02-06 纪要: Sun 2/15 and Sat 2/28 are worked, 2/18–2/24 are off.
    got = cal.add_workdays(D(2015, 2, 6), 15)
    assert got.date == D(2015, 3, 4) and not got.provisional
    # Monday–Friday alone would have said 2/27: the holidays and the 调休 both count.
    assert D(2015, 2, 6) + dt.timedelta(days=21) == D(2015, 2, 27)
    assert cal.workdays_between(D(2015, 2, 6), D(2015, 3, 4)) == (15, ())


def test_a_year_nobody_covers_is_provisional_not_silent(cal):
    hi = package_years()[1]
    got = cal.add_workdays(D(hi, 12, 20), 15)
    assert got.provisional and got.uncovered == (hi + 1,)
    assert cal.is_workday(D(hi + 1, 1, 4)) is None


def test_the_office_list_covers_a_year_the_package_does_not_know(tmp_path):
    hi = package_years()[1]
    y = hi + 1
    cfg = load(write_instance(tmp_path / "i", calendar={
        y: {"holidays": [f"{y}-01-01", f"{y}-01-04"], "workdays": [f"{y}-01-09"]}}))
    cal = Calendar(cfg)
    assert cal.source(y) == "配置"
    assert cal.is_workday(D(y, 1, 4)) is False or D(y, 1, 4).weekday() >= 5
    assert cal.is_workday(D(y, 1, 9)) is True
    got = cal.add_workdays(D(hi, 12, 30), 3)
    assert not got.provisional


def test_calendar_config_is_validated(tmp_path):
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="both as a holiday and as a workday"):
        load(write_instance(tmp_path / "a", calendar={2030: {"holidays": ["2030-01-01"],
                                                             "workdays": ["2030-01-01"]}}))
    with pytest.raises(ConfigError, match="is not in 2030"):
        load(write_instance(tmp_path / "b", calendar={2030: {"holidays": ["2031-01-01"]}}))


@pytest.mark.parametrize("text, when", [
    ("由区城管局牵头，公安、交警、商务等部门配合，4月1日起实施。", D(2015, 4, 1)),
    ("请于15个工作日内报送方案", D(2015, 3, 4)),
    ("十五个工作日内办结", D(2015, 3, 4)),
    ("月底前完成清理", D(2015, 2, 28)),
    ("3月底前完成", D(2015, 3, 31)),
    ("年底前建成投用", D(2015, 12, 31)),
    ("两个月内拿出方案", D(2015, 4, 6)),
    ("30日内答复", D(2015, 3, 8)),
    ("1月10日前报送", D(2016, 1, 10)),          # a date before 交办 is next year's
    ("第三季度完成", D(2015, 9, 30)),
    ("2015年6月30日前完成", D(2015, 6, 30)),
])
def test_a_时限_in_the_text_is_read(cal, text, when):
    rule = find_in_text(text)
    assert rule is not None, text
    assert rule.resolve(D(2015, 2, 6), cal)[0] == when


@pytest.mark.parametrize("text", ["会议听取了3月4日的工作汇报", "3年内完成改造", "尽快办理", ""])
def test_text_without_a_时限_gives_none(text):
    assert find_in_text(text) is None


def test_rules_as_written_in_the_config():
    assert parse_rule("15个工作日").n == 15
    assert parse_rule("2015-04-01").resolve(D(2015, 1, 1), Calendar())[0] == D(2015, 4, 1)
    assert parse_rule("乱写") is None
    assert add_months(D(2015, 1, 31), 1) == D(2015, 2, 28)


def test_supervision_config_is_validated(tmp_path):
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="unreadable 时限"):
        load(write_instance(tmp_path / "a", supervision={"deadlines": {"常务会议": "很快"}}))
    with pytest.raises(ConfigError, match="unknown 来源类型"):
        load(write_instance(tmp_path / "b", supervision={"deadlines": {"座谈会": "10个工作日"}}))
    with pytest.raises(ConfigError, match="also a 发文系列"):
        load(write_instance(tmp_path / "c", supervision={"code": "珠政发"}))
    cfg: Config = load(write_instance(tmp_path / "d", supervision={"deadlines": {"常务会议": "20个工作日"}}))
    assert cfg.supervision.deadlines["常务会议"] == "20个工作日"
    assert cfg.supervision.deadlines["领导批示"] == "15个工作日"     # the others keep their default


def test_an_instance_without_the_defaults_series_loads(tmp_path):
    """An office with other 机关代字 and no supervision section: the defaults adapt to its series
    (the 督查通报's series: the first that issues 通报; its 纪要 series by their names)."""
    cfg = load(write_instance(
        tmp_path / "other",
        series={"衡政发": {"issuer": "衡阳市人民政府", "header": "衡阳市人民政府文件", "kinds": ["通知", "通报"]},
                "衡政办函": {"issuer": "衡阳市人民政府办公室", "header": "衡阳市人民政府办公室", "format": "信函",
                         "kinds": ["函"]},
                "区长办公会议纪要": {"issuer": "衡阳市人民政府", "header": "区长办公会议纪要", "format": "纪要",
                             "kinds": ["纪要"], "sealed": False}},
        intake={"routes": [{"folder": "衡政发", "series": "衡政发"}]},
        archive={"retention": [{"period": "D30"}]}, supervision={}))
    from pipeline.supervise.items import minutes_series, report_series

    assert report_series(cfg) == "衡政发"
    assert minutes_series(cfg) == {"区长办公会议纪要": "区长办公会"}
