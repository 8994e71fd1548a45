"""督办 test helpers: a 纪要 with 议定事项, adding an item with defaults, a spreadsheet of rows."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline import supervise as sv

D = dt.date

MINUTES = """文种: 纪要
会议名称: 区政府第3次常务会议
期号: 3
时间: 2015年2月5日上午
地点: 区政府第一会议室
主持: 陈礼洋
出席: [陈礼洋, 彭建元, 聂百洲]
记录: 文雅
导语: 2015年2月5日上午，区长陈礼洋主持召开区政府第3次常务会议。现纪要如下：
议定事项:
  - 事项: 会议同意火车站广场综合管理工作方案，由区城管局牵头，15个工作日内拿出实施细则。
    责任单位: 区城管局
  - 事项: 会议要求区财政局月底前完成春节慰问资金拨付。
    责任单位: 区财政局
  - 事项: 会议原则同意区房征中心调整内设机构，由区编办按程序办理。
    责任单位: 区编办、区房征中心
  - 会议要求各单位严格执行公文统一归口区政府办公室受理的规定。
成文日期: 2015年2月6日
"""


def add(ledger, config, **kw):
    base = dict(matter="完成火车站广场综合整治", source_type="领导批示", source="陈礼洋区长2015年3月2日批示",
                lead_unit="区城管局", assigned=D(2015, 3, 2), actor="督查员")
    return sv.add_item(ledger, config, **{**base, **kw})


def xlsx(path: Path, rows: list[list]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["珠晖区2015年人大代表建议交办清单"])
    ws.append(["建议号", "事项", "提出人", "来源类型", "责任单位", "协办单位", "交办日期", "办结时限"])
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path
