"""A valid draft, distinct per call: what the watcher benchmarks drop and the watcher tests feed."""
from __future__ import annotations

import yaml


def sample_draft(i: int, tag: str = "") -> bytes:
    """A valid 下行文 通知 draft (Markdown with front matter), distinct per ``i``."""
    body = "\n\n".join([
        f"为切实做好第{i}批重点工作{tag}，确保各项任务落到实处，经区人民政府同意，现就有关事项通知如下。",
        "一、总体要求",
        "各镇人民政府、街道办事处和区政府各部门要高度重视，明确责任分工，细化工作措施，确保按期完成。",
        "二、工作安排",
        "（一）摸底排查。各单位于本月底前完成本辖区、本系统的摸底排查，建立工作台账。",
        "（二）集中整治。针对排查发现的问题，逐项制定整改措施，明确整改时限和责任人。",
        "三、工作要求",
        "各单位要加强组织领导，落实工作责任，及时报送工作进展情况。",
    ])
    fm = {
        "文种": "通知",
        "标题": f"珠晖区人民政府关于做好第{i}批重点工作{tag}的通知",
        "主送": "各镇人民政府，各街道办事处，区政府各部门",
        "成文日期": "2015年3月20日",
        "署名": "珠晖区人民政府",
        "公开属性": "主动公开",
    }
    head = yaml.safe_dump(fm, allow_unicode=True, sort_keys=False)
    return f"---\n{head}---\n\n{body}\n".encode("utf-8")
