"""The data that flows between stages: a Draft in, Problems out, a Document through the rest.

Frozen dataclasses; a stage returns a new value (``dataclasses.replace``) instead of mutating.
Field names are English; each is glossed with the element's Chinese name (GB/T 9704 / 条例 art. 9).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Literal

BlockKind = Literal["heading1", "heading2", "heading3", "heading4", "paragraph", "table"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a draft, as a clerk reads it: the element and what to do."""

    element: str                 # the element's Chinese name: 标题, 成文日期, 附件说明 …
    message: str                 # one Chinese sentence naming the problem and the fix
    severity: Severity = "error"

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else "（提示）"
        return f"【{self.element}】{tag}{self.message}"


@dataclass(frozen=True)
class Block:
    """A paragraph of the body. Heading levels: 一、 → heading1, （一） → heading2, 1. → heading3,
    （1） → heading4. ``text`` keeps the heading's own numbering as written ("一、总体要求")."""

    kind: BlockKind
    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()   # for kind == "table"


@dataclass(frozen=True)
class Attachment:
    """附件: ``number`` is 1, 2 … when numbered (附件：1.XXX), None for a single attachment."""

    name: str
    number: int | None = None
    blocks: tuple[Block, ...] = ()           # the attachment's own content, when the draft has it
    file: str | None = None                  # a separate file named by the draft, if any
    # The title on the attachment's own page as written (GB/T 9704 7.3.7: it must match the
    # 附件说明 name); None when the draft carries no content for it.
    title: str | None = None


@dataclass(frozen=True)
class Decision:
    """议定事项 of a 纪要: the matter and, optionally, the unit responsible (责任单位)."""

    text: str
    owner: str | None = None


@dataclass(frozen=True)
class Meeting:
    """The 纪要's meeting: 会议名称, 期号, 时间, 地点, 主持, 出席, 请假, 列席, 记录, 导语, 议定事项."""

    name: str | None = None
    issue: str | None = None                 # 期号 as written
    time: str | None = None
    place: str | None = None
    chair: str | None = None
    present: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()             # 请假
    attending: tuple[str, ...] = ()          # 列席
    recorder: str | None = None
    lead: str | None = None                  # 导语, the opening sentence
    decisions: tuple[Decision, ...] = ()


@dataclass(frozen=True)
class Signoff:
    """签发 (条例 art. 22): the head's opinion, name and full date; 会签 names the heads of the other
    organs of a joint document; ``delegated`` is the 代 a head acting for another writes after the
    name. A draft may carry it (front matter, .docx properties) or it is recorded on its 清样."""

    signer: str                              # 签发人
    date: dt.date                            # 签发日期
    opinion: str | None = None               # 签发意见; none written: 圈阅或者签名的，视为同意
    cosigners: tuple[str, ...] = ()          # 会签
    delegated: bool = False                  # 代签

    @property
    def names(self) -> tuple[str, ...]:
        """Everyone who signed it off: the 签发人 first, then the 会签 heads."""
        return (self.signer, *(n for n in self.cosigners if n != self.signer))

    @property
    def opinion_text(self) -> str:
        return self.opinion or "（未写意见，圈阅视为同意）"

    def to_json(self) -> dict:
        return {"签发人": self.signer, "签发意见": self.opinion, "签发日期": self.date.isoformat(),
                "会签": list(self.cosigners), "代签": self.delegated}


# Fields of a Draft that are not its content: where it came from and how it was read — and the 签发,
# which is a judgement *about* the content (the same text signed off or not is the same document).
_NOT_CONTENT = ("source", "source_format", "origins", "read_problems", "signoff")
# Fields an office may fill in after the 签发 without going back to the signer: the 印发日期 and the
# number of copies are decided at 印制 (条例 art. 25(2)–(3)), not by the text the head approved.
AFTER_SIGNOFF_FIELDS = ("print_date_text", "print_date", "copies")


def _sha256_json(d: dict) -> str:
    canon = json.dumps(d, ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Draft:
    """A draft as read from any source (.docx, Markdown/text with front matter, YAML).

    Values are kept as written (``date_text``); rules.py judges them and the pipeline uses the
    parsed forms (``date``). ``origins`` says where each metadata value came from
    (正文 / 前置元数据 / 文档属性 / 收件夹 / 配置 / 推断) so a note can explain a choice.
    """

    source: str                              # path of the original file
    source_format: Literal["docx", "markdown", "yaml"]
    kind: str | None = None                  # 文种
    series: str | None = None                # 机关代字 (series key in config)
    issuer: str | None = None                # 发文机关 as written in the draft, if any
    title: str | None = None                 # 标题
    main_to: str | None = None               # 主送机关, without the trailing colon
    body: tuple[Block, ...] = ()             # 正文
    attachments: tuple[Attachment, ...] = ()  # 附件说明 entries (with content when present)
    attachment_note: tuple[str, ...] = ()    # 附件说明 lines exactly as written
    signature: str | None = None             # 发文机关署名
    date_text: str | None = None             # 成文日期 as written
    date: dt.date | None = None              # 成文日期, when it parses in 2015年3月20日 form
    signers: tuple[str, ...] = ()            # 签发人
    cc: str | None = None                    # 抄送机关, without label and final 。
    note: str | None = None                  # 附注, without the brackets
    secrecy: str | None = None               # 密级 (秘密/机密/绝密) and period as written
    urgency: str | None = None               # 紧急程度 (特急/加急)
    publicity: str | None = None             # 公开属性 (主动公开/依申请公开/不予公开)
    printer: str | None = None               # 印发机关
    print_date_text: str | None = None       # 印发日期 as written
    print_date: dt.date | None = None
    retention: str | None = None             # 保管期限 (Y/D30/D10 or 永久/30年/10年 as written)
    number_text: str | None = None           # a 发文字号 typed in the draft (e.g. a reserved one)
    copies: int | None = None                # 份数
    drafter_unit: str | None = None          # 拟稿部门
    drafter: str | None = None               # 拟稿人
    meeting: Meeting | None = None           # for 纪要
    co_issuers: tuple[str, ...] = ()         # 联合行文: the other 发文机关, after the 主办机关 (the series')
    signoff: Signoff | None = None           # 签发, when the draft carries it (or it was recorded)
    origins: dict[str, str] = field(default_factory=dict, compare=False)
    # Problems found while reading (unknown front-matter keys, normalised punctuation …).
    read_problems: tuple[Problem, ...] = ()

    def content_hash(self) -> str:
        """Identity of the draft's *content* (not its file name or mtime): the same content dropped
        again is the same document. SHA-256 over a canonical JSON of every content field."""
        d = asdict(self)
        for k in _NOT_CONTENT:
            d.pop(k, None)
        if not d["co_issuers"]:
            del d["co_issuers"]        # fields added later leave earlier documents' identity alone
        return _sha256_json(d)

    def substantive_content(self) -> dict:
        """What the head approves at 签发: every content field except those the office may fill in
        afterwards (AFTER_SIGNOFF_FIELDS). JSON-ready; ``substantive_hash`` is its digest, and the
        复核 diff compares two of these."""
        d = json.loads(json.dumps(asdict(self), ensure_ascii=False, default=str))
        for k in (*_NOT_CONTENT, *AFTER_SIGNOFF_FIELDS):
            d.pop(k, None)
        if not d.get("co_issuers"):
            d.pop("co_issuers", None)  # as in content_hash: a 清样 signed off before the field still matches
        return d

    def substantive_hash(self) -> str:
        """The 复核 identity (条例 art. 25(1)): equal for a draft and the 清样 its head signed off
        unless something the head approved changed."""
        return substantive_hash(self.substantive_content())

    @property
    def signed_by(self) -> tuple[str, ...]:
        """签发人 as the register lists them: who signed it off, else the names the draft prints."""
        return self.signoff.names if self.signoff else self.signers

    @property
    def year(self) -> int | None:
        return self.date.year if self.date else None

    def issuers(self, main: str) -> tuple[str, ...]:
        """Every 发文机关 of the document, the 主办机关 ``main`` first (责任者)."""
        return (main, *self.co_issuers)


def substantive_hash(content: dict) -> str:
    """SHA-256 of a ``Draft.substantive_content()`` (also to check one read back from storage)."""
    return _sha256_json(content)


@dataclass(frozen=True)
class Number:
    """A 发文字号 taken from the register."""

    series: str
    year: int
    seq: int
    text: str          # as printed in the document, e.g. 珠政发〔2015〕3号 or 〔2015〕7号
    reference: str     # as the register/file names/search know it (unique), e.g. 珠政发〔2015〕3号


def problems_json(problems) -> list[dict]:
    """Problems as `--json` prints them: element, message, severity."""
    return [{"element": p.element, "message": p.message, "severity": p.severity} for p in problems]


@dataclass(frozen=True)
class Outcome:
    """What happened to one draft; what `gongwen process --json` prints."""

    file: str
    status: Literal["issued", "rejected", "failed"]
    number: str | None = None
    docx: str | None = None
    pdf: str | None = None
    problems: tuple[Problem, ...] = ()
    note: str | None = None          # path of the rejection note, if any
    seconds: float | None = None
    title: str | None = None
    duplicate: bool = False          # the same content was issued before
    copies: tuple[str, ...] = ()     # the numbered copies written (gongwen process --copies)

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "status": self.status,
            "number": self.number,
            "title": self.title,
            "docx": self.docx,
            "pdf": self.pdf,
            "duplicate": self.duplicate,
            "copies": list(self.copies),
            "note": self.note,
            "problems": problems_json(self.problems),
        }


@dataclass(frozen=True)
class ProofOutcome:
    """What happened to one draft sent for 清样; what `gongwen proof --json` prints. ``proof``: the
    清样 PDF is beside the draft; ``rejected``: it could not be made (the note says why); ``failed``:
    LibreOffice or the disk failed, try again."""

    file: str
    status: Literal["proof", "rejected", "failed"]
    pdf: str | None = None
    problems: tuple[Problem, ...] = ()
    note: str | None = None          # <name>.问题.txt beside the draft, when there are problems
    title: str | None = None
    case: int | None = None          # the draft's row in the 清样签发登记 (signoff.Case.id)
    seconds: float | None = None

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "status": self.status,
            "pdf": self.pdf,
            "title": self.title,
            "case": self.case,
            "note": self.note,
            "problems": problems_json(self.problems),
        }


def cn_date(d: dt.date) -> str:
    """成文日期 form (GB/T 9704 7.3.5.4): Arabic digits, full year, no leading zeros."""
    return f"{d.year}年{d.month}月{d.day}日"


@dataclass(frozen=True)
class Finding:
    """One line of a health or check report. ``ok`` is None when the item could not be run
    (never reported as passed)."""

    area: str                # 环境 / 登记簿 / 档案 / 索引 …
    item: str                # what was checked, in Chinese
    ok: bool | None
    detail: str = ""         # what failed, naming the document or file
