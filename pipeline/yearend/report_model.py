"""The data of a 四性检测 report: items (DA/T 70-2018 codes where they fit), their failures, the verdict.

An item is 通过 only when it found nothing wrong **and** checked something: an item with nothing to
check fails (peers.md pitfall 13: checks that pass vacuously). An item the software could not run
(no virus scanner installed) is 未检测 — never counted as passed, listed separately in every output.
"""
from __future__ import annotations

from dataclasses import dataclass, field

PROPS = ("检测对象", "真实性", "完整性", "可用性", "安全性")
RESULT = {True: "通过", False: "未通过", None: "未检测"}


@dataclass(frozen=True)
class Failure:
    ident: str          # 档号, or 文号 before arrangement, or 登记簿 / 事件链 / the package
    file: str           # file name inside the 件 (or the package), "" when not about one file
    message: str        # Chinese, says what is wrong

    def to_json(self) -> dict:
        return {"对象": self.ident, "文件": self.file, "问题": self.message}


@dataclass(frozen=True)
class CheckItem:
    code: str           # e.g. GD-ZS-1-1 (GD 归档环节, YJ 移交与接收环节; numbering after standards.md §5.2)
    prop: str           # 真实性 / 完整性 / 可用性 / 安全性 (or 检测对象)
    name: str
    ok: bool | None     # None: not run (未检测)
    checked: int        # how many objects (件, files, rows) it looked at
    failures: tuple[Failure, ...] = ()
    note: str = ""

    @property
    def result(self) -> str:
        return RESULT[self.ok]

    def to_json(self) -> dict:
        return {"编号": self.code, "性质": self.prop, "检测项目": self.name, "结果": self.result,
                "通过": self.ok, "检测数": self.checked, "说明": self.note,
                "问题": [f.to_json() for f in self.failures]}


def make_item(code: str, prop: str, name: str, checked: int, failures: list[Failure] | tuple = (),
              note: str = "", *, unit: str = "件") -> CheckItem:
    """An item that passes only when it checked something and found nothing."""
    failures = tuple(failures)
    if not failures and checked <= 0:
        return CheckItem(code, prop, name, False, 0,
                         (Failure("—", "", f"没有可检测的对象（0 {unit}），不能判定为通过"),), note)
    return CheckItem(code, prop, name, not failures, checked, failures, note)


def not_run(code: str, prop: str, name: str, why: str) -> CheckItem:
    return CheckItem(code, prop, name, None, 0, (), why)


@dataclass(frozen=True)
class CheckReport:
    stage: str                      # 归档 / 移交与接收
    subject: str                    # "2025 年度" or the package folder
    year: int | None
    started: str
    finished: str
    actor: str
    items: tuple[CheckItem, ...]
    counts: dict = field(default_factory=dict)     # 件数, 文件数, 总字节数
    strict: bool = False            # 未检测 items count as failures

    @property
    def failed(self) -> tuple[CheckItem, ...]:
        return tuple(i for i in self.items if i.ok is False)

    @property
    def skipped(self) -> tuple[CheckItem, ...]:
        return tuple(i for i in self.items if i.ok is None)

    @property
    def ok(self) -> bool:
        """Passed: at least one item, none failed (and with ``strict``, none left unrun)."""
        if not self.items or self.failed:
            return False
        return not (self.strict and self.skipped)

    @property
    def verdict(self) -> str:
        if not self.ok:
            n = len(self.failed) + (len(self.skipped) if self.strict else 0)
            return f"未通过（{n} 项未通过）"
        if self.skipped:
            return f"通过（另有 {len(self.skipped)} 项未检测：{'、'.join(i.name for i in self.skipped)}）"
        return "通过"

    def property_result(self, prop: str) -> str:
        """The result of one 性 for the 登记表: 通过 / 未通过 / 通过（…未检测）."""
        items = [i for i in self.items if i.prop == prop]
        if not items:
            return "未检测"
        bad = [i for i in items if i.ok is False]
        if bad:
            return f"未通过：{'、'.join(i.name for i in bad)}"
        skipped = [i for i in items if i.ok is None]
        if skipped:
            return f"通过（{'、'.join(i.name for i in skipped)} 未检测）"
        return "通过"

    def failures(self) -> list[tuple[CheckItem, Failure]]:
        return [(i, f) for i in self.items for f in i.failures]

    def to_json(self) -> dict:
        return {"格式版本": "gongwen-check/1", "检测环节": self.stage, "检测对象": self.subject, "年度": self.year,
                "开始时间": self.started, "结束时间": self.finished, "检测人": self.actor,
                "结论": self.verdict, "通过": self.ok, "严格模式": self.strict, "统计": self.counts,
                "未检测项目": [i.code for i in self.skipped],
                "项目": [i.to_json() for i in self.items]}

    @classmethod
    def from_json(cls, d: dict) -> "CheckReport":
        """The report back from ``to_json`` (the last report kept per year, see report.save_last_report)."""
        if d.get("格式版本") != "gongwen-check/1":
            raise ValueError(f"检测报告的格式版本“{d.get('格式版本')}”无法识别")
        items = tuple(CheckItem(code=i["编号"], prop=i["性质"], name=i["检测项目"], ok=i["通过"], checked=i["检测数"],
                                failures=tuple(Failure(f["对象"], f["文件"], f["问题"]) for f in i.get("问题", [])),
                                note=i.get("说明", "")) for i in d["项目"])
        return cls(stage=d["检测环节"], subject=d["检测对象"], year=d.get("年度"), started=d["开始时间"],
                   finished=d["结束时间"], actor=d.get("检测人", ""), items=items, counts=d.get("统计", {}),
                   strict=bool(d.get("严格模式")))
