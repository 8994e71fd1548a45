"""Load and validate an instance's config.yaml into frozen objects.

Every problem stops start-up with a message naming the key (``series › 珠政发 › template``); unknown
keys are errors, so a typo never silently falls back to a default. Paths in the file are relative to
the file's own folder, so several instances can live side by side.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from . import CONFIG_ENV, DEFAULT_CONFIG  # noqa: F401  (re-exported: the config's own names)
from .configcache import remember, resolve_path
from .errors import ConfigError

# 机关代字: Chinese characters (letters allowed for e.g. "X区府发"); no brackets, digits or spaces.
AGENCY_CODE_RE = re.compile(r"^[\u4e00-\u9fffA-Za-z]{1,12}$")

KINDS = ("决议", "决定", "命令", "令", "公报", "公告", "通告", "意见", "通知", "通报",
         "报告", "请示", "批复", "议案", "函", "纪要")
RETENTION_CODES = {"Y": "永久", "D30": "30年", "D10": "10年"}
# 督查督办 来源类型 (where a 督办件 comes from), in the order the 台账 and the 通报 list them.
SOURCE_TYPES = ("常务会议", "区长办公会", "领导批示", "人大建议", "政协提案", "网络诉求",
                "政府工作报告目标", "为民办实事", "其他")
Format = Literal["文件", "信函", "纪要"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Paths(_Frozen):
    inbox: Path = Path("inbox")
    # 清样 folders, one per inbox route: a draft dropped here comes back as a marked proof beside it
    # (no number taken) for the head to sign off before it goes to inbox/. Drafts gongwen writes
    # itself (the 督查通报) are put into proofs/<series>/ for the same review and 签发.
    proofs: Path = Path("proofs")
    outbox: Path = Path("outbox")
    rejected: Path = Path("rejected")
    archive: Path = Path("archive")
    templates: Path = Path("templates")
    fonts: Path = Path("fonts")
    # Where the watcher keeps claimed drafts while it works on them (inside the archive folder by
    # default so that a claim is a rename on the same filesystem).
    work: Path = Path("archive/work")
    log: Path = Path("archive/gongwen.log")


class Unit(_Frozen):
    name: str  # 机构（问题）, e.g. 办公室
    code: str  # 机构代码, e.g. BGS

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Z0-9]{1,3}", v):
            raise ValueError("机构代码 must be 1–3 capital letters or digits (DA/T 22), e.g. BGS")
        return v


class Organisation(_Frozen):
    name: str                     # 立档单位 / 全宗名称, e.g. 珠晖区人民政府办公室
    fonds_code: str               # 全宗号, e.g. Z109
    unit: Unit                    # the 机构 used in the classification and the 档号
    archive_name: str = "档案馆"   # the receiving archive (区档案馆) named in the handover form

    @field_validator("fonds_code")
    @classmethod
    def _fonds(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Z0-9]{1,4}", v):
            raise ValueError("全宗号 must be 1–4 capital letters or digits, e.g. Z109")
        return v


class Series(_Frozen):
    """One numbering sequence (发文字号 series), keyed by its 机关代字 in ``Config.series``."""

    issuer: str                     # 发文机关署名 (and the seal's owner)
    header: str                     # 发文机关标志, e.g. 珠晖区人民政府文件
    format: Format = "文件"
    kinds: tuple[str, ...]          # 文种 this series issues
    sealed: bool = True             # 加盖印章 (False: the unsealed layout of GB/T 9704 7.3.5.2)
    # Printed 发文字号; {code} {year} {seq}. 纪要 series use e.g. "〔{year}〕{seq}号" or "第{seq}期".
    number: str = "{code}〔{year}〕{seq}号"
    # The number as the register, file names and search know it; defaults to `number`. For a 纪要
    # series printed as "第7期" this must carry the code and year to be unique.
    reference: str | None = None
    printer: str | None = None      # 印发机关 default
    description: str = ""
    # 未经签发，不能编号: a draft of this series is numbered only with a recorded 签发 (on its 清样,
    # by `gongwen release`, or carried in the draft). Off by default: drafts signed off on paper
    # keep flowing; the register shows which documents have no recorded 签发.
    require_signoff: bool = False

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [k for k in v if k not in KINDS]
        if bad:
            raise ValueError(f"unknown 文种 {bad}; allowed: {', '.join(KINDS)}")
        if not v:
            raise ValueError("a series needs at least one 文种")
        return v

    @field_validator("number", "reference")
    @classmethod
    def _fmt(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if "{seq}" not in v:
            raise ValueError("the number format needs {seq}")
        leftover = re.sub(r"\{(code|year|seq)\}", "", v)
        if "{" in leftover or "}" in leftover:
            raise ValueError("only {code}, {year} and {seq} may appear in a number format")
        return v

    @property
    def reference_format(self) -> str:
        return self.reference or self.number


class CoIssuer(_Frozen):
    """An organ this office issues documents with (联合行文), keyed by its name (its 署名 and the
    name on its seal; the seal image, if the office has it, is ``seal.images[<name>]``)."""

    header: str | None = None       # its name in the 发文机关标志 (a 规范化简称); default: the name


class Route(_Frozen):
    folder: str                     # sub-folder of paths.inbox
    series: str                     # series key it feeds
    kind: str | None = None         # default 文种 for drafts dropped here
    share: bool = False             # a network share: poll instead of inotify


class Intake(_Frozen):
    routes: tuple[Route, ...]
    poll_interval_s: float = Field(2.0, gt=0)
    stable_seconds: float = Field(2.0, ge=0)      # unchanged size needed under polling
    rescan_interval_s: float = Field(300.0, gt=0)
    invalid_timeout_s: float = Field(600.0, gt=0)  # a file never valid by then goes to rejected/


class RetentionRule(_Frozen):
    series: str | None = None
    kind: str | None = None
    period: Literal["Y", "D30", "D10"]


class Archive(_Frozen):
    scheme: tuple[Literal["年度", "保管期限", "机构"], ...] = ("年度", "保管期限", "机构")
    retention: tuple[RetentionRule, ...] = (RetentionRule(period="D30"),)

    @field_validator("retention")
    @classmethod
    def _has_default(cls, v: tuple[RetentionRule, ...]) -> tuple[RetentionRule, ...]:
        if not v or v[-1].series is not None or v[-1].kind is not None:
            raise ValueError("the last 保管期限 rule must be a default (period only)")
        return v

    def retention_for(self, series: str, kind: str) -> str:
        for rule in self.retention:
            if (rule.series in (None, series)) and (rule.kind in (None, kind)):
                return rule.period
        raise AssertionError("unreachable: validated default rule")


class Seal(_Frozen):
    diameter_mm: float = Field(42.0, gt=20, le=60)
    # Seal images per issuer name; an issuer without one gets a generated seal.
    images: dict[str, Path] = {}


class Signing(_Frozen):
    pkcs12: Path = Path("archive/keys/office.p12")
    # The passphrase comes from this environment variable, or from passphrase_file (a file kept
    # outside the repository, mode 0600); it is never written in the config.
    passphrase_env: str = "GONGWEN_P12_PASSPHRASE"
    passphrase_file: Path | None = Path("archive/keys/office.pass")
    trust_roots: tuple[Path, ...] = (Path("archive/keys/demo-ca.pem"),)


class Converter(_Frozen):
    timeout_s: float = Field(90.0, gt=0)
    mode: Literal["unoserver", "soffice"] = "unoserver"
    port: int = Field(0, ge=0, le=65535)  # 0: choose a free port


class Search(_Frozen):
    # tantivy: far faster to build and query, a smaller index (docs/benchmarks.md); whoosh is the
    # pure-Python alternative. Switching needs `gongwen reindex` (each engine has its own folder).
    engine: Literal["whoosh", "tantivy"] = "tantivy"


class Numbering(_Frozen):
    # The year in the 发文字号: the 成文日期's year (default) or the year the number is taken.
    year_from: Literal["成文日期", "登记日期"] = "成文日期"


class Security(_Frozen):
    # Only a system approved for classified work (涉密信息系统) may process 秘密/机密/绝密 drafts.
    classified_approved: bool = False


class PageLayout(_Frozen):
    # Choices GB/T 9704 leaves to the office (render.py, layout.py).
    # The 版记 on an even page (the back of the last sheet), as many offices print: when the
    # document would end on an odd page, the 版记 goes onto the next page (with a blank page
    # before it when it already stood alone on an odd one; GB/T 9704 7.5: then neither is numbered).
    imprint_on_even_page: bool = False
    # 份号 (GB/T 9704 7.2.1) on every document, not only on those whose draft gives 份数.
    copy_numbers: bool = False


class Incoming(_Frozen):
    """收文 (incoming documents): their register series, time limits, the OCR and the limits on what
    is accepted (pipeline/incoming/)."""

    # The 收文登记簿's counter key (also the archive folder <年度>/<series>/ and the index's 机关代字)
    # and the printed 收文号.
    series: str = "收文"
    number: str = "收〔{year}〕{seq}号"
    # The inbox sub-folder the watcher takes 收文 from (inbox/收文/).
    folder: str = "收文"
    share: bool = False
    # 时限 of urgent documents (条例 art. 24(4): 紧急公文应当明确办理时限), in calendar days from the
    # 收文日期: 特急件随到随办, 加急件数日内办结.
    time_limits: dict[str, int] = {"特急": 1, "加急": 3}
    # OCR (Tesseract through OCRmyPDF): languages, the dpi images without a resolution are taken to
    # have, and whether to straighten real scans (+1.6 s a page; recipes-next.md §1).
    ocr_languages: tuple[str, ...] = ("chi_sim",)
    ocr_default_dpi: int = Field(200, ge=72, le=1200)
    ocr_deskew: bool = True
    ocr_jobs: int = Field(2, ge=1, le=64)
    # What is refused before any work is done (a file this large or long stalls the queue).
    max_mb: float = Field(100.0, gt=0)
    max_pages: int = Field(300, ge=1)
    max_image_megapixels: float = Field(120.0, gt=0)

    @field_validator("number")
    @classmethod
    def _number(cls, v: str) -> str:
        if "{seq}" not in v or "{year}" not in v:
            raise ValueError("the 收文号 format needs {year} and {seq}")
        if re.sub(r"\{(year|seq)\}", "", v).count("{") or re.sub(r"\{(year|seq)\}", "", v).count("}"):
            raise ValueError("only {year} and {seq} may appear in the 收文号 format")
        return v

    @field_validator("series")
    @classmethod
    def _series(cls, v: str) -> str:
        if not AGENCY_CODE_RE.match(v):
            raise ValueError("the 收文 series must be Chinese characters only, e.g. 收文")
        return v

    @field_validator("time_limits")
    @classmethod
    def _limits(cls, v: dict[str, int]) -> dict[str, int]:
        bad = [k for k in v if k not in ("特提", "特急", "加急", "平急")]
        if bad:
            raise ValueError(f"unknown 紧急程度 {bad}; allowed: 特提, 特急, 加急, 平急")
        if any(int(d) < 0 for d in v.values()):
            raise ValueError("a 时限 is a number of days, 0 or more")
        return v


class CalendarYear(_Frozen):
    """One year's official schedule, copied from the State Council's notice: the days off
    (放假) and the weekend days worked instead (调休上班)."""

    holidays: tuple[dt.date, ...] = ()
    workdays: tuple[dt.date, ...] = ()

    @model_validator(mode="after")
    def _disjoint(self) -> "CalendarYear":
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            raise ValueError(f"{both[0]} is listed both as a holiday and as a workday")
        return self


DEFAULT_DEADLINES = {"常务会议": "30个工作日", "区长办公会": "30个工作日", "领导批示": "15个工作日",
                     "人大建议": "3个月", "政协提案": "3个月", "网络诉求": "10个工作日",
                     "政府工作报告目标": "年底前", "为民办实事": "年底前", "其他": "30个工作日"}


class Supervision(_Frozen):
    """督查督办: the 督办台账's number series, the units that may be 责任单位, and the default 办结时限
    per 来源类型 when an item names none."""

    code: str = "督"                      # 督办编号 督〔2015〕12号: the counter's key, not a 发文系列
    units: tuple[str, ...] = ()           # known 责任单位/协办单位; empty: any name is accepted
    deadlines: dict[str, str] = DEFAULT_DEADLINES
    # 建议/提案 marked urgent (急件): the office's shorter answer period.
    urgent_deadline: str = "1个月"
    remind_days: int = Field(5, ge=0, le=365)        # 催办单: items due within this many days
    folder: str = "督办"                   # inbox/<folder>/: 交办清单 files (.xlsx/.yaml) dropped for the 台账
    # Which 纪要 series feed which 来源类型 when a 纪要 is issued; None: every 纪要 series, its 来源类型
    # by its name (supervise.items.minutes_series).
    minutes: dict[str, str] | None = None
    # The 督查通报 draft's series (its 发文机关 signs it and the 催办单); None: the first series that
    # issues 通报 (supervise.items.report_series).
    report_series: str | None = None
    report_to: str = "各镇人民政府、街道办事处，区政府各部门、各直属机构"   # 主送 of the 通报
    retention: Literal["Y", "D30", "D10"] = "D30"    # the yearly 台账's 保管期限 at year end

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not AGENCY_CODE_RE.match(v):
            raise ValueError("the 督办编号 code must be Chinese characters, e.g. 督")
        return v

    @field_validator("deadlines")
    @classmethod
    def _deadlines(cls, v: dict[str, str]) -> dict[str, str]:
        from .supervise.deadlines import parse_rule

        unknown = [k for k in v if k not in SOURCE_TYPES]
        if unknown:
            raise ValueError(f"unknown 来源类型 {unknown}; allowed: {', '.join(SOURCE_TYPES)}")
        bad = [f"{k}: {t}" for k, t in v.items() if parse_rule(t) is None]
        if bad:
            raise ValueError(f"unreadable 时限 {bad} (write e.g. 15个工作日, 30日, 3个月, 月底前, 年底前)")
        return {**DEFAULT_DEADLINES, **v}

    @field_validator("urgent_deadline")
    @classmethod
    def _urgent(cls, v: str) -> str:
        from .supervise.deadlines import parse_rule

        if parse_rule(v) is None:
            raise ValueError(f"unreadable 时限 {v!r} (write e.g. 1个月 or 20个工作日)")
        return v

    @field_validator("minutes")
    @classmethod
    def _minutes(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        bad = [t for t in (v or {}).values() if t not in SOURCE_TYPES]
        if bad:
            raise ValueError(f"unknown 来源类型 {bad}; allowed: {', '.join(SOURCE_TYPES)}")
        return v


class Web(_Frozen):
    """The browser app (`gongwen serve`). Who may do what is one table: pipeline.accounts.PERMISSIONS."""

    # 查阅 users may also download the 原稿 (the draft as dropped); off: only 正本.pdf.
    readers_download_originals: bool = False
    session_hours: float = Field(8.0, gt=0, le=24 * 30)
    # This many wrong passwords in a row throttle the account for lockout_minutes.
    max_failed_logins: int = Field(10, ge=1)
    lockout_minutes: float = Field(15.0, gt=0)
    # The app sits behind a reverse proxy that speaks HTTPS: session cookies get the Secure flag and
    # `serve --host` does not warn about plain HTTP.
    behind_tls_proxy: bool = False


TEMPLATE_NAMES = ("下行文", "上行文", "信函", "纪要")


class Config(_Frozen):
    organisation: Organisation
    series: dict[str, Series]
    intake: Intake
    paths: Paths = Paths()
    templates: dict[str, str] = {n: f"{n}.docx" for n in TEMPLATE_NAMES}
    upward_kinds: tuple[str, ...] = ("请示", "报告")  # 上行文: 签发人 required, 上行文 template
    archive: Archive = Archive()
    seal: Seal = Seal()
    signing: Signing = Signing()
    converter: Converter = Converter()
    search: Search = Search()
    numbering: Numbering = Numbering()
    security: Security = Security()
    layout: PageLayout = PageLayout()
    co_issuers: dict[str, CoIssuer] = {}
    incoming: Incoming = Incoming()
    supervision: Supervision = Supervision()
    # Official holidays and 调休 workdays for years the chinesecalendar package does not know yet.
    calendar: dict[int, CalendarYear] = {}
    web: Web = Web()
    # Filled in by load(): the folder the config file lives in; relative paths resolve against it.
    base: Path = Path(".")

    @field_validator("series")
    @classmethod
    def _series_keys(cls, v: dict[str, Series]) -> dict[str, Series]:
        for code in v:
            if not AGENCY_CODE_RE.match(code):
                raise ValueError(
                    f"机关代字 {code!r} is malformed: use Chinese characters only (e.g. 珠政发), "
                    "no digits, brackets or spaces")
        if not v:
            raise ValueError("at least one series is needed")
        return v

    @model_validator(mode="after")
    def _cross(self) -> "Config":
        for i, route in enumerate(self.intake.routes):
            if route.series not in self.series:
                raise ValueError(f"intake.routes[{i}].series: unknown series {route.series!r}")
            if route.kind and route.kind not in self.series[route.series].kinds:
                raise ValueError(f"intake.routes[{i}].kind: {route.kind} is not a 文种 of {route.series}")
        for i, rule in enumerate(self.archive.retention):
            if rule.series and rule.series not in self.series:
                raise ValueError(f"archive.retention[{i}].series: unknown series {rule.series!r}")
        if self.incoming.series in self.series:
            raise ValueError(f"incoming.series: {self.incoming.series!r} is also a 发文 series (机关代字); "
                             "the 收文登记簿 needs a name of its own")
        if any(r.folder == self.incoming.folder for r in self.intake.routes):
            raise ValueError(f"incoming.folder: inbox/{self.incoming.folder}/ is already a 发文 route")
        if self.incoming.folder == self.supervision.folder:
            raise ValueError(f"incoming.folder: inbox/{self.incoming.folder}/ is already the 督办 folder")
        if self.incoming.series == self.supervision.code:
            raise ValueError(f"incoming.series: {self.incoming.series!r} is already the 督办编号's counter")
        sup = self.supervision
        if sup.code in self.series:
            raise ValueError(f"supervision.code: {sup.code!r} is also a 发文系列; choose another")
        if self.route_for_folder(sup.folder) is not None:
            raise ValueError(f"supervision.folder: {sup.folder!r} is already an intake route folder")
        if sup.report_series is not None and sup.report_series not in self.series:
            raise ValueError(f"supervision.report_series: unknown series {sup.report_series!r}")
        for name in sup.minutes or {}:
            if name not in self.series or self.series[name].format != "纪要":
                raise ValueError(f"supervision.minutes: {name!r} is not a 纪要 series")
        for year, days in self.calendar.items():
            stray = [d for d in (*days.holidays, *days.workdays) if d.year != year]
            if stray:
                raise ValueError(f"calendar › {year}: {stray[0]} is not in {year}")
        missing = [n for n in TEMPLATE_NAMES if n not in self.templates]
        if missing:
            raise ValueError(f"templates: missing entries {missing}")
        return self

    # --- resolved paths -------------------------------------------------------------------------
    def path(self, p: Path | str) -> Path:
        p = Path(p)
        return p if p.is_absolute() else (self.base / p)

    @property
    def inbox(self) -> Path: return self.path(self.paths.inbox)
    @property
    def proofs(self) -> Path: return self.path(self.paths.proofs)
    @property
    def outbox(self) -> Path: return self.path(self.paths.outbox)
    @property
    def rejected(self) -> Path: return self.path(self.paths.rejected)
    @property
    def archive_dir(self) -> Path: return self.path(self.paths.archive)
    @property
    def templates_dir(self) -> Path: return self.path(self.paths.templates)
    @property
    def fonts_dir(self) -> Path: return self.path(self.paths.fonts)
    @property
    def work_dir(self) -> Path: return self.path(self.paths.work)

    def template_path(self, name: str) -> Path:
        return self.templates_dir / self.templates[name]

    def route_for_folder(self, folder: str) -> Route | None:
        return next((r for r in self.intake.routes if r.folder == folder), None)

    def is_upward(self, kind: str | None) -> bool:
        return kind in self.upward_kinds

    def header_name(self, organ: str) -> str:
        """An organ's name as the 发文机关标志 of a joint document prints it."""
        co = self.co_issuers.get(organ)
        return (co.header if co and co.header else organ)


def _loc(err: ErrorDetails) -> str:
    return " › ".join(str(p) for p in err["loc"]) or "(top level)"


def _explain(err: ErrorDetails) -> str:
    t = err["type"]
    if t == "extra_forbidden":
        return "unknown key (check the spelling; see config.yaml in the README)"
    if t == "missing":
        return "required key is missing"
    msg = err["msg"]
    return msg.removeprefix("Value error, ")


def load(path: str | os.PathLike | None = None) -> Config:
    file = resolve_path(path)
    if not file.is_file():
        raise ConfigError(f"找不到配置文件 {file}（用 --config 或环境变量 {CONFIG_ENV} 指定）")
    data = file.read_bytes()
    try:
        raw = yaml.safe_load(data.decode("utf-8")) or {}
    except UnicodeDecodeError as e:
        raise ConfigError(f"{file}: 不是 UTF-8 编码的文本: {e}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{file}: 不是有效的 YAML: {e}") from e
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: the top level must be a mapping of keys")
    raw.pop("base", None)
    try:
        cfg = Config.model_validate({**raw, "base": file.resolve().parent})
    except ValidationError as e:
        lines = [f"{file}: 配置有误 / invalid config:"]
        lines += [f"  {_loc(err)}: {_explain(err)}" for err in e.errors()]
        raise ConfigError("\n".join(lines)) from None
    problems = []
    for name in cfg.templates:
        if not cfg.template_path(name).is_file():
            problems.append(f"  templates › {name}: template file not found: {cfg.template_path(name)}")
    for issuer, img in cfg.seal.images.items():
        if not cfg.path(img).is_file():
            problems.append(f"  seal › images › {issuer}: image not found: {cfg.path(img)}")
    if problems:
        raise ConfigError("\n".join([f"{file}: 配置有误 / invalid config:"] + problems))
    remember(file, data, cfg)    # lets `gongwen search` skip this validation while the file is unchanged
    return cfg
