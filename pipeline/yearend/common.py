"""Shared pieces of the year-end work: where its outputs live, the class (类别) of a record, the 档号.

The choices DA/T 22-2015 leaves open are made here once:
- 档号 structure is the one of standards.md §3.7, ``全宗号-WS·年度-保管期限-机构代码-件号``, whatever the
  order of the facets in ``config.archive.scheme``; the 机构 part is left out when the scheme does not
  classify by 机构 (§3.7 "leave it out if the unit does not classify by 机构/问题").
- The lowest class is the set of scheme facets (年度, 保管期限, 机构); 件号 restarts at 0001 in each.
- Year-end outputs go to ``<archive>/yearend/<年度>/``: a folder name without digits only, so the
  archive store's walk over ``<archive>/<年度>/`` never mistakes it for a year of records.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from ..config import RETENTION_CODES, Config

YEAREND_DIR = "yearend"
CATEGORY_CODE = "WS"            # 档案门类代码: 文书
MIDDLE_DOT = "\u00b7"           # 间隔号 between codes of the same level
ITEM_DIGITS = 4                 # 件号: 4 digits, zero-padded (standards.md §3.7)
# standards.md §3.7, the derived validation regex (ASCII classes: \d would accept full-width digits).
ARCHIVE_CODE_RE = re.compile(r"^[A-Z0-9]{1,4}-WS\u00b7[0-9]{4}-(Y|D30|D10)(-[A-Z0-9]{1,3})?-[0-9]{4}$")
RETENTION_ORDER = ("Y", "D30", "D10")


def yearend_dir(config: Config, year: int) -> Path:
    return config.archive_dir / YEAREND_DIR / str(int(year))


@dataclass(frozen=True, order=True)
class ClassKey:
    """The lowest class of the classification scheme a 件 belongs to."""

    year: int
    retention: str              # Y / D30 / D10
    unit_code: str | None       # None when the scheme has no 机构 facet
    unit_name: str | None

    @property
    def retention_name(self) -> str:
        return RETENTION_CODES.get(self.retention, self.retention)

    @property
    def label(self) -> str:
        """As a clerk reads it: 2025年度·永久·办公室."""
        parts = [f"{self.year}年度", self.retention_name]
        if self.unit_name:
            parts.append(self.unit_name)
        return "·".join(parts)

    @property
    def stem(self) -> str:
        """For file names: 2025-永久-办公室."""
        return "-".join(p for p in (str(self.year), self.retention_name, self.unit_name) if p)

    def sort_key(self) -> tuple:
        r = RETENTION_ORDER.index(self.retention) if self.retention in RETENTION_ORDER else 99
        return (self.year, r, self.unit_code or "")

    def to_json(self) -> dict:
        return {"年度": self.year, "保管期限": self.retention, "机构代码": self.unit_code, "机构": self.unit_name}

    @classmethod
    def from_json(cls, d: dict) -> "ClassKey":
        return cls(int(d["年度"]), d["保管期限"], d.get("机构代码"), d.get("机构"))


def class_of(meta: dict, config: Config) -> ClassKey:
    """The class from the record's own metadata (保管期限 was set at filing from the rules table)."""
    by_unit = "机构" in config.archive.scheme
    return ClassKey(
        year=int(meta["年度"]),
        retention=str(meta.get("保管期限") or ""),
        unit_code=(meta.get("机构代码") or config.organisation.unit.code) if by_unit else None,
        unit_name=(meta.get("机构或问题") or config.organisation.unit.name) if by_unit else None,
    )


def archive_code(fonds: str, key: ClassKey, item_no: int) -> str:
    """档号, e.g. Z109-WS·2025-Y-BGS-0001."""
    parts = [fonds, f"{CATEGORY_CODE}{MIDDLE_DOT}{key.year}", key.retention]
    if key.unit_code:
        parts.append(key.unit_code)
    parts.append(f"{item_no:0{ITEM_DIGITS}d}")
    return "-".join(parts)


def record_date(meta: dict) -> dt.date | None:
    """成文日期 from the metadata (ISO), else the day it was registered; None if neither parses."""
    for key in ("日期", "登记时间"):
        v = meta.get(key)
        if v:
            try:
                return dt.date.fromisoformat(str(v)[:10])
            except ValueError:
                continue
    return None


def date8(meta: dict) -> str:
    """日期 for the 目录: 8 digits, ISO basic form (standards.md §3.9)."""
    d = meta.get("日期")
    try:
        return dt.date.fromisoformat(str(d)[:10]).strftime("%Y%m%d") if d else ""
    except ValueError:
        return ""


def human_bytes_gb(n: int) -> str:
    """移交数据量: GB to 3 decimals (standards.md §5.5), decimal GB (10^9 bytes) as disc capacities are."""
    return f"{n / 1e9:.3f}"


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


# --- 收文 beside 发文 (DA/T 22-2015: received documents are filed in the same classes) ----------------
# A 收文 record (pipeline/incoming) holds 原件 (as received), 副本 (its PDF/A, when the original is not
# one), 处理笺 (PDF/A) and 全文. The 件 is 处理笺 + 来文, 处理笺 first (DA/T 22 5.1.2: 文件处理单 before
# the incoming document), so the 归档章 goes on the 处理笺's first page — which also leaves the document
# as received, and any signature on it, untouched.
INCOMING = "收文"
INCOMING_ROLES = ("原件", "处理笺", "全文")          # required in every 收文 record; 副本 when made


def is_incoming(meta: dict) -> bool:
    return meta.get("类型") == INCOMING


def stamp_role(meta: dict) -> str:
    """The file that carries the 归档章: the 正本 of a 发文, the 处理笺 of a 收文."""
    return "处理笺" if is_incoming(meta) else "正本"


def content_role(meta: dict) -> str:
    """The archival file of the document's content: the 正本 of a 发文; of a 收文 its PDF/A 副本, or
    the 原件 when that is archival as received (a clean PDF/A, an OFD)."""
    if not is_incoming(meta):
        return "正本"
    roles = {f.get("稿本") for f in meta.get("电子文件") or []}
    return "副本" if "副本" in roles else "原件"
