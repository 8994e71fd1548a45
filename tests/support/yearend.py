"""Year-end test helpers: the year's drafts as text, copies of a built instance, its config and register,
and a flipped byte."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
from pathlib import Path

YEAR = 2015


_ORGS = {"珠政发": "珠晖区人民政府", "珠政办发": "珠晖区人民政府办公室", "珠政函": "珠晖区人民政府"}


_TO_DOWN = "各镇人民政府、街道办事处，区政府各部门、各直属机构"


def _date(i: int) -> dt.date:
    return dt.date(YEAR, 1, 5) + dt.timedelta(days=(i * 5) % 350)


def _cn(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _body(subject: str, i: int) -> str:
    return (f"为{subject}，根据上级有关部署，结合我区实际，现就有关事项{'通知' if i % 2 else '明确'}如下。\n\n"
            f"一、提高认识\n\n各单位要充分认识{subject}的重要意义，切实加强组织领导，明确工作责任。\n\n"
            f"二、突出重点\n\n要围绕第{i + 1}项重点任务，制定具体方案，细化工作措施，确保各项工作落到实处。\n\n"
            "三、强化督查\n\n区政府办公室将适时组织督查，对工作不力的单位予以通报。\n")


def _attachment_sections(names: list[str]) -> str:
    out = []
    for name in names:
        out.append(f"\n<!-- [附件] -->\n\n# {name}\n\n一、{name}的主要内容。\n\n二、填报要求和报送时限。\n")
    return "".join(out)


def draft_text(i: int, route: str, kind: str, subject: str, *, attachments: list[str] = (),
               follow_up: bool = False, issue: int | None = None) -> str:
    d = _date(i)
    if route == "纪要":
        n = issue or i + 1          # the meeting's own number: a 纪要's 期号 is its 文号
        return (f"---\n会议名称: 区政府第{n}次常务会议\n期号: {n}\n时间: {_cn(d)}上午\n地点: 区政府第一会议室\n"
                f"主持: 陈礼洋\n出席: 陈礼洋、彭建元、聂百洲、陶朝晖\n列席: 区财政局、区安监局\n记录: 文雅\n"
                f"成文日期: {_cn(d)}\n---\n\n"
                f"{_cn(d)}上午，区长陈礼洋主持召开区政府第{n}次常务会议，研究{subject}等事项。现纪要如下：\n\n"
                f"一、会议听取了关于{subject}的汇报，原则同意工作方案。\n\n"
                "二、会议要求各责任单位按照分工抓好落实，区政府办公室负责跟踪督办。\n")
    org = _ORGS[route]
    tail = "补充通知" if follow_up else kind
    title = f"{org}关于{subject}的{tail}"
    upward = kind in ("请示", "报告")
    main_to = "衡阳市人民政府" if upward else ("区财政局" if kind == "批复" else
                                             ("衡阳市民族宗教事务局" if kind == "函" else _TO_DOWN))
    lines = ["---", f"文种: {kind}", f"标题: {title}", f"主送: {main_to}", f"成文日期: {_cn(d)}", f"署名: {org}",
             "公开属性: 依申请公开", "拟稿部门: 综合组", "拟稿人: 蒋志辉"]
    if upward:
        lines.append("签发人: 陈礼洋")
    if attachments:
        lines.append("附件:")
        lines += [f"  - {a}" for a in attachments]
    lines.append("---\n")
    body = _body(subject, i)
    if kind == "请示":
        body += "\n妥否，请批示。\n"
    elif kind == "报告":
        body += "\n特此报告。\n"
    elif kind == "批复":
        body = f"你局《关于{subject}的请示》收悉。经研究，现批复如下：\n\n一、同意你局所报方案。\n\n二、请按规定抓好落实。\n"
    elif kind == "函":
        body = f"为{subject}，特商请贵局给予支持，并提供相关资料。\n\n请予支持为盼。\n"
    if follow_up:
        body = f"现就{subject}有关事项补充通知如下：\n\n一、进一步压实工作责任。\n\n二、请于月底前报送进展情况。\n"
    return "\n".join(lines) + "\n" + body + _attachment_sections(list(attachments))


ACTOR = "档案员"


def copy_instance(src: Path, dst: Path) -> Path:
    """A full copy of an instance (records stay read-only, as filed); returns its config path."""
    shutil.copytree(src, dst, symlinks=True)
    return dst / "config.yaml"


def writable(path: Path) -> Path:
    """Let a test damage a filed record (its folder and the file)."""
    for p in (path.parent, path):
        if p.exists():
            os.chmod(p, stat.S_IMODE(p.stat().st_mode) | stat.S_IWUSR)
    return path


def load_config(cfg_path: Path):
    from pipeline.config import load

    return load(cfg_path)


def open_ledger(config):
    from pipeline.ledger import Ledger

    return Ledger.open(config)


def flip_byte(path: Path) -> None:
    """Change one byte of a filed file (a third of the way in)."""
    writable(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x20
    path.write_bytes(bytes(data))
