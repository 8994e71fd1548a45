"""Search test helpers: an instance with a chosen engine, sample index documents, archive records."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pipeline.config import load
from pipeline.search import IndexDoc
from samples.instance import write_instance

D = dt.date

def make_config(root: Path, engine: str = "whoosh"):
    """A real instance (config.yaml through the real loader) in ``root``; placeholder template
    files stand in for the .docx templates, which search never reads."""
    tpl = root / "tpl"
    tpl.mkdir(parents=True, exist_ok=True)
    for name in ("下行文", "上行文", "信函", "纪要"):
        (tpl / f"{name}.docx").touch()
    return load(write_instance(root, paths={"templates": str(tpl), "fonts": str(root)},
                               search={"engine": engine}))


def doc(ref, title, body, date, series, kind, *, number=None, code=None, issuer="珠晖区人民政府"):
    return IndexDoc(id=ref, number=number or ref, archive_code=code, title=title, body=body,
                    year=date.year, series=series, kind=kind, date=date, issuer=issuer)


DOCS = [
    doc("珠政发〔2015〕3号", "关于召开珠晖区2015年度工作会议的通知",
        "各街道办事处、区直各单位：经区人民政府研究，决定召开珠晖区2015年度工作会议。请各单位认真准备，"
        "GDP增长情况一并报告。", D(2015, 3, 20), "珠政发", "通知", code="Z109-WS·2015-Y-BGS-0001"),
    doc("珠政发〔2015〕13号", "关于加强控违拆违工作的意见",
        "为进一步加强全区控违拆违工作，现提出如下意见。沿珠晖大道开展整治，东晖区片同步推进。",
        D(2015, 6, 1), "珠政发", "意见", code="Z109-WS·2015-Y-BGS-0002"),
    doc("珠政办发〔2016〕1号", "关于PDF文件归档工作的通知",
        "电子文件以PDF/A格式归档。依据珠政发〔2015〕3号文件精神办理。", D(2016, 1, 5), "珠政办发", "通知",
        issuer="珠晖区人民政府办公室"),
    doc("珠政函〔2016〕7号", "珠晖区人民政府关于同意设立茶山坳镇便民服务中心的函",
        "茶山坳镇人民政府：你镇《关于设立便民服务中心的请示》收悉。经研究，同意设立。", D(2016, 8, 15),
        "珠政函", "函"),
    doc("常务会议纪要〔2016〕2号", "区人民政府第二次常务会议纪要",
        "会议研究了城市管理 工作 会议 议定事项。", D(2016, 9, 1), "常务会议纪要", "纪要",
        number="〔2016〕2号"),
    doc("珠政发〔2017〕5号", "关于开展环境卫生整治的通知", "请各单位按要求落实。", D(2017, 4, 2),
        "珠政发", "通知"),
    doc("珠政发〔2017〕6号", "关于做好有关工作的通知", "请各单位开展环境卫生整治，按要求落实。",
        D(2017, 5, 9), "珠政发", "通知"),
    doc("珠政办发〔2017〕2号", "关于衡阳市珠晖区防汛工作的通报", "人人人民政府与 人民 政府。防汛抗旱。",
        D(2017, 7, 30), "珠政办发", "通报", issuer="珠晖区人民政府办公室"),
]


def write_record(archive: Path, d: IndexDoc) -> Path:
    """An archive record folder as archive.py lays it out: metadata.json + 全文.txt."""
    folder = archive / str(d.year) / d.series / d.id
    folder.mkdir(parents=True)
    meta = {"文件编号": d.id, "印制文号": d.number, "档号": d.archive_code, "题名": d.title,
            "年度": d.year, "机关代字": d.series, "文种": d.kind, "日期": d.date.isoformat(),
            "责任者": d.issuer}
    (folder / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    (folder / "全文.txt").write_text(f"{d.title}\n{d.body}\n", encoding="utf-8")
    return folder
