"""Drafts and numbers for the rendering tests (tests/test_render.py, tests/test_layout_pdf.py), built
directly as model objects so that the tests do not depend on the draft readers."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.model import Attachment, Block, Decision, Draft, Meeting, Number

# Pure Chinese text without punctuation: every full line of it holds exactly 28 characters.
CJK = ("我国发展历程很不平凡党的二十届三中全会胜利召开对进一步全面深化改革推进中国式现代化作出系统部署"
       "各地区各部门坚持稳中求进工作总基调完整准确全面贯彻新发展理念加快构建新发展格局扎实推动高质量发展")


def text(n: int, offset: int = 0) -> str:
    """``n`` characters of CJK, starting at ``offset`` (so paragraphs differ)."""
    s = CJK * (n // len(CJK) + 2)
    return s[offset % len(CJK):offset % len(CJK) + n]


def number(series: str = "珠政发", seq: int = 3, text_: str | None = None) -> Number:
    printed = text_ or f"{series}〔2015〕{seq}号"
    return Number(series=series, year=2015, seq=seq, text=printed, reference=f"{series}〔2015〕{seq}号")


def notice(**over) -> Draft:
    """A 下行文 通知 with every element: headings of four levels, a table, two attachments (one
    with content), 附注, 抄送; a body long enough for a full second page."""
    body = (
        Block("paragraph", "为进一步做好全区城乡环境综合整治工作，经区人民政府同意，现将有关事项通知如下。"),
        Block("heading1", "一、总体要求"),
        Block("paragraph", text(28 * 3 - 2, 1)),
        Block("heading2", "（一）工作目标"),
        Block("paragraph", text(28 * 12 - 2, 7)),
        Block("heading3", "1.明确责任"),
        Block("paragraph", text(28 * 14 - 2, 13)),
        Block("heading4", "（1）落实到人"),
        Block("table", rows=(("序号", "单位", "任务"), ("1", "区城管局", "整治A&B路段<试点>"))),
        Block("paragraph", "各单位要高度重视，认真组织实施。"),
    )
    base = dict(
        source="notice.yaml", source_format="yaml", kind="通知", series="珠政发",
        title="珠晖区人民政府关于印发《珠晖区2015年城乡环境综合整治工作实施方案》的通知",
        main_to="各镇人民政府，各街道办事处，区直各单位", body=body,
        attachments=(Attachment("珠晖区2015年城乡环境综合整治工作实施方案", 1,
                                blocks=(Block("heading1", "一、整治范围"), Block("paragraph", text(70, 3)))),
                     Attachment("珠晖区城乡环境综合整治工作任务分解表", 2)),
        signature="珠晖区人民政府", date=dt.date(2015, 3, 20), date_text="2015年3月20日",
        cc="区委各部门，区人大办公室，区政协办公室", note="此件公开发布",
        printer="珠晖区人民政府办公室", print_date=dt.date(2015, 3, 22), print_date_text="2015年3月22日",
    )
    base.update(over)
    return Draft(**base)


def request(**over) -> Draft:
    """A 上行文 请示 with three 签发人, 密级 and 紧急程度."""
    base = dict(
        source="request.yaml", source_format="yaml", kind="请示", series="珠政发",
        title="珠晖区人民政府关于请求解决东阳渡街道办事处办公用房建设资金的请示", main_to="衡阳市人民政府",
        body=(Block("paragraph", text(120, 2)), Block("paragraph", "妥否，请批示。")),
        signers=("张三", "李四明", "王五"), secrecy="秘密★1年", urgency="特急",
        signature="珠晖区人民政府", date=dt.date(2015, 4, 2), date_text="2015年4月2日",
        note="联系人：赵六，电话：1234567", print_date=dt.date(2015, 4, 2),
    )
    base.update(over)
    return Draft(**base)


def letter(**over) -> Draft:
    """A 信函 函 with 紧急程度 and 抄送."""
    base = dict(
        source="letter.yaml", source_format="yaml", kind="函", series="珠政函", urgency="加急",
        title="珠晖区人民政府关于商请支持珠晖区城乡环境综合整治工作的函", main_to="衡阳市城市管理局",
        body=(Block("paragraph", text(300, 5)), Block("paragraph", "特此函商，盼复。")),
        signature="珠晖区人民政府", date=dt.date(2015, 5, 8), date_text="2015年5月8日", cc="区城管局",
    )
    base.update(over)
    return Draft(**base)


def minutes(**over) -> Draft:
    """A 纪要 from its Meeting: 导语, 议定事项, 出席/请假/列席."""
    meeting = Meeting(
        name="区政府第7次常务会议", present=("张三", "李四", "王五"), absent=("赵六（出差）",),
        attending=("区政府办公室主任钱七",),
        lead="2015年3月20日，区长张三主持召开区政府第7次常务会议，研究城乡环境综合整治等工作。现纪要如下：",
        decisions=(Decision("会议原则同意《珠晖区2015年城乡环境综合整治工作实施方案》。", "区城管局"),
                   Decision("会议要求各单位抓好落实。")))
    base = dict(source="minutes.yaml", source_format="yaml", kind="纪要", series="常务会议纪要", meeting=meeting,
                date=dt.date(2015, 3, 20), date_text="2015年3月20日", cc="区委办公室")
    base.update(over)
    return Draft(**base)


def minutes_number() -> Number:
    return Number(series="常务会议纪要", year=2015, seq=7, text="〔2015〕7号", reference="常务会议纪要〔2015〕7号")


def unsealed_config_overrides(repo_config: Path) -> dict:
    """config.yaml overrides that make 珠政办发 an unsealed 文件 series (GB/T 9704 7.3.5.2)."""
    import yaml

    raw = yaml.safe_load(repo_config.read_text(encoding="utf-8"))
    series = raw["series"]
    series["珠政办发"] = {**series["珠政办发"], "sealed": False}
    return {"series": series}


def lay_out(docs: dict, config, root: Path, layouts: dict | None = None, rounds: dict | None = None) -> dict[str, Path]:
    """{name: (draft, number[, 份号])} rendered and converted as the pipeline does it — render, convert,
    ask the stamp step whether the layout must change, render again — but batched: each round
    converts every document still open in one LibreOffice run. Returns {name: pdf}; ``layouts``
    (when given) receives the layout each document ended with, ``rounds`` how many it took."""
    from pipeline import render, stamp
    from pipeline.convert import find_soffice, lo_env, soffice_batch

    exe = find_soffice()
    assert exe is not None, "LibreOffice (soffice) is required: make test installs it"
    home, tmp = root / "lo-home", root / "lo-tmp"
    home.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(parents=True, exist_ok=True)
    layouts = {} if layouts is None else layouts
    layouts.update({name: render.Layout() for name in docs})
    done: dict[str, Path] = {}
    for round_ in range(render.LAYOUT_ATTEMPTS + 2):          # + the 版记's own (imprint_on_even_page)
        todo = [k for k in docs if k not in done]
        if not todo:
            break
        out = root / f"pdf-{round_}"
        out.mkdir(parents=True, exist_ok=True)
        inputs = {k: render.render_document(*docs[k][:2], config, root / f"docx-{round_}" / f"{k}.docx",
                                            layout=layouts[k], copy_no=(docs[k][2:] or (None,))[0])
                  for k in todo}
        res = soffice_batch(exe, list(inputs.values()), out, root / "profile", lo_env(config, home, tmp),
                            60 + 10 * len(inputs))
        assert res is not None, "LibreOffice timed out"
        for k in todo:
            pdf = out / f"{k}.pdf"
            assert pdf.is_file(), f"LibreOffice made no PDF for {k}: {res.stdout[-400:]!r}"
            try:
                stamp.check_layout(pdf, draft=docs[k][0], config=config, last_attempt=layouts[k].last)
            except stamp.NeedsRelayout as e:
                nxt = render.next_layout(layouts[k], e.shortfall, inputs[k]) if e.shortfall else None
                if nxt is not None:
                    layouts[k] = nxt
                    continue
            done[k] = pdf
            if rounds is not None:
                rounds[k] = round_ + 1
    return done
