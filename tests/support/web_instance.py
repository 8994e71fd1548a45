"""A real instance for the web tests: drafts through the real pipeline (LibreOffice, seal, signature,
filing, index), one with a hostile title, a 纪要, 督办件 in every state (SUPERVISED), the year arranged
(档号, 归档章), two 清样 waiting for 签发 (PROOFS, one under a hostile file name), and one account per
role. Built once per session (conftest ``web_instance``) and shared read-only by the page tests."""
from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO

YEAR = 2015
PASSWORD = "正确的密码-2015"
USERS = {"reader": ("查阅",), "clerk": ("办文",), "leader": ("领导",), "inspector": ("督查",), "archivist": ("档案",),
         "admin": ("管理",)}
HOSTILE_TITLE = "珠晖区人民政府关于<script>alert(1)</script>和{{7*7}}问题的通知"
HOSTILE_REF = "珠政发〔2016〕1号"
PHRASE = "防汛物资储备"
HOSTILE_MATTER = "整治<script>alert(3)</script>和{{7*7}}问题"
# The 督办件 of the instance (督〔2015〕N号 by position), all assigned in 2015: their 时限 have passed
# by any real today, so the open ones are 逾期 unless a test's clock says otherwise.
SUPERVISED = {
    "square": "督〔2015〕1号",       # 领导批示, 区城管局 with a 协办, 15个工作日, one 进展 with a photo: open
    "funds": "督〔2015〕2号",        # 常务会议, 区财政局: closed with a 办结说明 and a 佐证材料 file
    "traffic": "督〔2015〕3号",      # 人大建议, 区交警大队: answered B, open
    "held": "督〔2015〕4号",         # 政协提案, 区教育局: 暂缓
    "hostile": "督〔2015〕5号",      # 其他, 区民政局: markup and template syntax in its 事项
}
# 清样 waiting for 签发 in proofs/珠政办发/ (case numbers by position), dated 2016 so that they are
# numbered 珠政办发〔2016〕N号 (2015 is arranged; 珠政发〔2016〕1号 is the hand-filed hostile record).
PROOF_ROUTE = "珠政办发"
PROOFS = {
    "fire": ("森林防火.md", "珠晖区人民政府办公室关于加强2016年春季森林防火工作的通知"),
    "hostile": ("<img src=x onerror=alert(4)>{{7*7}}.md", "珠晖区人民政府办公室关于做好2016年春节期间安全工作的通知"),
}
PROOF_CASES = {"fire": 1, "hostile": 2}
PROOF_DRAFT = """---
文种: 通知
标题: {title}
主送: 各镇人民政府、街道办事处，区直各单位
成文日期: 2016年1月12日
署名: 珠晖区人民政府办公室
---
各单位要高度重视，明确责任，做好值班值守和隐患排查，抓好落实。

区政府办公室将适时开展督查。
"""
PHOTO = b"\xff\xd8\xff\xe0 a photo of the square\xff\xd9"
EVIDENCE = b"%PDF-1.4 the acceptance report\n%%EOF\n"

NOTICE = """---
文种: 通知
标题: {title}
主送: 各镇人民政府、街道办事处，区直各单位
成文日期: 2015年5月{day}日
署名: {org}
印发日期: 2015年5月{day}日
---
一、总体要求

各单位要高度重视{what}，做好{phrase}和值班值守，明确责任，抓好落实。

二、工作措施

（一）加强组织领导。各单位主要负责同志要亲自部署。

（二）强化督查督办。区政府办公室将适时开展督查。
"""


@dataclass
class WebInstance:
    cfg_path: Path
    references: dict[str, str]        # key → 文号

    @property
    def config(self):
        from pipeline.config import load

        return load(self.cfg_path)


def cheap_hasher():
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def build(root: Path) -> WebInstance:
    from pipeline import accounts
    from pipeline.config import load
    from pipeline.instance import init_instance
    from pipeline.ledger import Ledger
    from pipeline.process import open_services, process_draft
    from pipeline.search import open_index
    from pipeline.yearend.arrange import archive_year
    from tests.support.search import doc, write_record

    accounts.set_hasher(cheap_hasher())
    inst = root / "instance"
    init_instance(inst, None)
    config = load(inst / "config.yaml")
    drafts = root / "drafts"
    drafts.mkdir()
    items = [
        ("flood", "珠政办发", NOTICE.format(title="珠晖区人民政府办公室关于做好2015年防汛抗旱工作的通知", day=8,
                                            org="珠晖区人民政府办公室", what="防汛抗旱工作", phrase=PHRASE)),
        ("notice", "珠政发", NOTICE.format(title="珠晖区人民政府关于开展安全生产大检查的通知", day=9,
                                         org="珠晖区人民政府", what="安全生产大检查", phrase="隐患排查台账")),
    ]
    refs = {}
    with open_services(config, "秘书组") as svc:
        for key, folder, text in items:
            p = drafts / folder / f"{key}.md"
            p.parent.mkdir(exist_ok=True)
            p.write_text(text, encoding="utf-8")
            o = process_draft(p, svc, route=config.route_for_folder(folder), outbox=root / "outbox")
            assert o.status == "issued", (key, [str(x) for x in o.problems])
            refs[key] = o.number
        minutes = drafts / "纪要" / "minutes.md"
        minutes.parent.mkdir()
        shutil.copyfile(REPO / "examples" / "纪要" / "区政府第6次常务会议纪要.md", minutes)
        o = process_draft(minutes, svc, route=config.route_for_folder("纪要"), outbox=root / "outbox")
        assert o.status == "issued", [str(x) for x in o.problems]
        refs["minutes"] = o.number
    add_supervised(config, root / "materials")
    add_proofs(config)
    with Ledger.open(config) as ledger:
        archive_year(config, YEAR, ledger=ledger, actor="档案员", make_pdf=False)
    # A record whose title and text carry markup and template syntax (the draft rules refuse such a
    # title, but metadata can come from elsewhere: a record filed by hand, a future 收文).
    hostile = doc(HOSTILE_REF, HOSTILE_TITLE, "正文含有<img src=x onerror=alert(2)>与{% raw %}和{{ 8*8 }}。",
                  dt.date(2016, 1, 4), "珠政发", "通知")
    write_record(config.archive_dir, hostile)
    with open_index(config) as index:
        index.add([hostile])
    refs["hostile"] = HOSTILE_REF
    with Ledger.open(config) as ledger:
        acc = accounts.Accounts(ledger)
        for name, roles in USERS.items():
            acc.add(name, roles, PASSWORD, actor="安装")
    return WebInstance(inst / "config.yaml", refs)


def add_supervised(config, materials: Path) -> None:
    """The 督办件 of SUPERVISED, through the library as the CLI adds them (the 督查员 acts)."""
    from pipeline import supervise as sv
    from pipeline.ledger import Ledger
    from pipeline.search import open_index
    from pipeline.supervise.index import sync_index

    materials.mkdir()
    photo, report = materials / "广场现场照片.jpg", materials / "验收报告.pdf"
    photo.write_bytes(PHOTO)
    report.write_bytes(EVIDENCE)
    d = dt.date
    with Ledger.open(config) as ledger:
        def add(**kw):
            return sv.add_item(ledger, config, actor="督查员", **kw).reference

        refs = [
            add(matter="完成火车站广场综合整治，清理占道经营", source_type="领导批示", source="陈礼洋区长2015年3月2日批示",
                lead_unit="区城管局", co_units=["区公安分局"], leader="彭建元", assigned=d(2015, 3, 2), rule="15个工作日"),
            add(matter="落实2015年为民办实事项目资金", source_type="常务会议", source="常务会议纪要〔2015〕1号 议定事项第2项",
                lead_unit="区财政局", assigned=d(2015, 3, 21)),
            add(matter="关于改善东风路交通秩序的建议", source_type="人大建议", source="第1号（张三）", lead_unit="区交警大队",
                assigned=d(2015, 3, 18), source_ref="人大建议:第1号"),
            add(matter="关于增加城区学位供给的提案", source_type="政协提案", source="第7号（李四）", lead_unit="区教育局",
                assigned=d(2015, 3, 18), source_ref="政协提案:第7号"),
            add(matter=HOSTILE_MATTER, source_type="其他", source="<b>来源</b>{{ 8*8 }}", lead_unit="区民政局",
                assigned=d(2015, 4, 1)),
        ]
        assert refs == list(SUPERVISED.values()), refs
        sv.add_progress(ledger, config, refs[0], "已完成广场摊点清理，正在拆除违章建筑", actor="督查员",
                        day=d(2015, 3, 10), files=[photo])
        sv.add_progress(ledger, config, refs[1], "资金已下达各实施单位", actor="督查员", day=d(2015, 4, 2))
        sv.close_item(ledger, config, refs[1], note="资金3200万元已全部拨付到位", actor="督查员",
                      closed_on=d(2015, 4, 20), evidence=[report])
        sv.record_answer(ledger, config, refs[2], category="B", answered_on=d(2015, 5, 10), satisfaction="基本满意",
                         actor="督查员")
        sv.set_status(ledger, config, refs[3], sv.HELD, reason="等待市级学位规划", actor="督查员", today=d(2015, 4, 1))
        with open_index(config) as index:
            sync_index(ledger, config, index)


def add_proofs(config) -> None:
    """The 清样 of PROOFS, made by the real make_proof (LibreOffice) in proofs/珠政办发/, waiting for 签发."""
    from pipeline.process import open_services
    from pipeline.proofs import make_proof

    folder = config.proofs / PROOF_ROUTE
    folder.mkdir(parents=True, exist_ok=True)
    with open_services(config, "秘书组") as svc:
        for key, (name, title) in PROOFS.items():
            draft = folder / name
            draft.write_text(PROOF_DRAFT.format(title=title), encoding="utf-8")
            o = make_proof(draft, svc, route=config.route_for_folder(PROOF_ROUTE))
            assert o.status == "proof" and o.case == PROOF_CASES[key], (key, o)


def copy(src: WebInstance, dst: Path) -> WebInstance:
    """A private copy (records stay read-only, as filed) for a test that changes the instance."""
    shutil.copytree(src.cfg_path.parent, dst, symlinks=True)
    return WebInstance(dst / "config.yaml", dict(src.references))


# --- 收文 -----------------------------------------------------------------------------------------------
# What the office received, for the 收文 page (tests/test_web_incoming.py): by key, registered in this
# order on RECEIVED_ON (收〔2015〕N号 by position). The app's day in those tests is INCOMING_TODAY.
RECEIVED_ON = dt.datetime(2015, 6, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
INCOMING_TODAY = dt.date(2015, 6, 10)
INCOMING = {
    "notice": "收〔2015〕1号",     # 衡政发〔2015〕12号, the 上级 通知: 拟办 to 区安监局 (办理中)
    "request": "收〔2015〕2号",    # 珠安监〔2015〕8号, a 请示: 办结 with our 通知 as its 复文号
    "urgent": "收〔2015〕3号",     # a 特急 通知: 时限 the next day, so 逾期 on INCOMING_TODAY
    "hostile": "收〔2015〕4号",    # its 标题 补登 with markup and template syntax (待办)
}
INCOMING_HOSTILE = "衡阳市人民政府关于<script>alert(4)</script>和{{7*7}}的通知"


def add_incoming(inst: WebInstance, docs: Path, converter) -> dict[str, str]:
    """The 收文 of INCOMING, received through the library as `gongwen receive` does (real PDFs written
    by another organ's gongwen through LibreOffice, read from their text layers, filed with a 处理笺),
    routed, answered and corrected as the CLI does it. ``docs`` keeps the PDFs, and 消防通知.pdf that
    was not received."""
    from pipeline.archive import ArchiveStore
    from pipeline.incoming import done, edit, receive, route
    from pipeline.ledger import Ledger
    from pipeline.process import Services
    from samples import incoming_docs as D

    config = inst.config
    up = D.upstream_config(docs / "upstream")
    body = D.NOTICE_BODY[0].__class__
    pdfs = {
        "notice": D.render_pdf(*D.notice(), up, docs, "通知", converter=converter)[1],
        "request": D.render_pdf(*D.request_draft(), up, docs, "请示", converter=converter)[1],
        "urgent": D.render_pdf(*D.notice(seq=16, title="衡阳市人民政府关于做好2015年森林防火工作的通知", urgency="特急",
                                         body=(body("paragraph", "各地要做好森林防火工作。"),)), up, docs, "防火通知",
                               converter=converter)[1],
        "hostile": D.render_pdf(*D.notice(seq=15, title="衡阳市人民政府关于做好2015年防汛工作的通知",
                                          body=(body("paragraph", "各地要做好防汛抗旱工作。"),)), up, docs, "防汛通知",
                                converter=converter)[1],
    }
    # One more, not received here: for the upload form.
    D.render_pdf(*D.notice(seq=21, title="衡阳市人民政府关于开展2015年消防安全专项整治的通知",
                           body=(body("paragraph", "各地要开展消防安全专项整治。"),)), up, docs, "消防通知",
                 converter=converter)
    clock = lambda: RECEIVED_ON  # noqa: E731
    with Ledger.open(config, clock=clock) as ledger:
        svc = Services(config=config, actor="收文员", ledger=ledger, store=ArchiveStore(config), _converter=converter)
        try:
            refs = {}
            for key, pdf in pdfs.items():
                r = receive(pdf, svc)
                assert r.status == "registered", (key, [str(p) for p in r.problems])
                refs[key] = r.reference
            assert refs == INCOMING, refs
            route(svc, refs["notice"], lead_unit="区安监局", opinion="拟请区安监局牵头办理")
            done(svc, refs["request"], result="同意拨付", reply=inst.references["notice"])
            edit(svc, refs["hostile"], title=INCOMING_HOSTILE)
        finally:
            if svc._index is not None:
                svc._index.close()
    return refs
