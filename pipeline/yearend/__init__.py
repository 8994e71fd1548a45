"""Year-end archiving (issue 7): arrangement per DA/T 22-2015 (arrange), the 归档章 (archstamp), the
归档文件目录 and 备考表 (catalogue), the DA/T 70 四性检测 (checks, report_model, report), and the handover
package with its EEP-like XML records (package, eep). README section "Year-end archiving"."""
from __future__ import annotations

from .arrange import ArchiveResult, archive_year
from .checks import check_year
from .package import HandoverRefused, HandoverResult, build_handover, check_package
from .report_model import CheckItem, CheckReport, Failure

__all__ = ["ArchiveResult", "CheckItem", "CheckReport", "Failure", "HandoverRefused", "HandoverResult",
           "archive_year", "build_handover", "check_package", "check_year"]
