"""The 检测报告 as files (JSON, .docx from templates/检测报告.docx, PDF) and the 电子档案移交与接收登记表
(standards.md §5.5) — both in Chinese, item by item, naming each failing 件 and file."""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from .. import __version__
from ..config import Config
from ..errors import ArchiveError
from ..fsutil import atomic_copy, atomic_write_text
from .catalogue import TEMPLATES, render_docx, to_pdf
from .common import human_bytes_gb
from .report_model import PROPS, CheckReport

# Failures listed in the .docx/PDF report; the JSON always has all of them.
MAX_REPORT_FAILURES = 2000
REPORT_SUFFIXES = (".json", ".docx", ".pdf")


def report_context(report: CheckReport, config: Config) -> dict:
    items = [{"no": i, "code": it.code, "prop": it.prop, "name": it.name, "result": it.result,
              "checked": it.checked, "detail": it.note or ("" if it.ok else f"{len(it.failures)} 处问题")}
             for i, it in enumerate(report.items, 1)]
    failures = [{"no": i, "item": f"{it.code} {it.name}", "ident": f.ident, "file": f.file, "message": f.message}
                for i, (it, f) in enumerate(report.failures(), 1)]
    more = len(failures) - MAX_REPORT_FAILURES
    failures = failures[:MAX_REPORT_FAILURES]
    if not failures:
        failures = [{"no": "", "item": "无", "ident": "", "file": "", "message": ""}]
    notes = ["“未检测”表示该项本次没有运行（例如本机未安装病毒检测软件），不等于通过。",
             "凡检测对象为 0 的项目一律判为未通过（避免空检测被当作通过）。",
             "检测项目编号参照 DA/T 70—2018 的检测项目分类（归档环节 GD，移交与接收环节 YJ）。"]
    if report.strict:
        notes.append("本次为严格模式：未检测项目按未通过计。")
    if more > 0:
        notes.append(f"另有 {more} 处问题未列入本表，见同名 JSON 报告。")
    counts = report.counts
    head = {"stage": f"{report.stage}环节", "fonds": counts.get("全宗号") or config.organisation.fonds_code,
            "fonds_name": counts.get("全宗名称") or config.organisation.name,
            "subject": report.subject,
            "scope": f"{counts.get('件数', 0)} 件，{counts.get('文件数', 0)} 个电子文件，{counts.get('总字节数', 0)} 字节",
            "time": report.finished.replace("T", " ")[:19], "actor": report.actor, "software": f"gongwen {__version__}"}
    return {"head": head, "items": items, "failures": failures, "verdict": report.verdict, "notes": "\n".join(notes)}


def write_report(report: CheckReport, config: Config | None, out: Path) -> Path:
    """Write the report as ``out``'s suffix says: .json, .docx or .pdf (the .docx converted)."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix == ".json":
        return atomic_write_text(out, json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")
    if suffix not in REPORT_SUFFIXES:
        raise ArchiveError(f"检测报告只能写成 .json、.docx 或 .pdf：{out.name}")
    if config is None:
        raise ArchiveError(f"写出 {out.name} 需要配置（模板与 LibreOffice）")
    ctx = report_context(report, config)
    with tempfile.TemporaryDirectory(prefix=".report-") as tmp:
        docx = render_docx(config, TEMPLATES["检测报告"], ctx, Path(tmp) / "检测报告.docx")
        if suffix == ".docx":
            return atomic_copy(docx, out)
        pdf = to_pdf(config, [(docx, Path(tmp) / "检测报告.pdf")])[0]
        return atomic_copy(pdf, out)


def handover_form(config: Config, year: int, report: CheckReport, *, items: int, files: int, size: int,
                  digest: str, algorithm: str, forced: bool, created: str, package: str) -> dict:
    """The 电子档案移交与接收登记表 fields (standards.md §5.5), as data (also written as JSON)."""
    org = config.organisation
    by_prop = {p: report.property_result(p) for p in PROPS[1:]}
    return {
        "name": f"{org.name}（全宗号 {org.fonds_code}）{year} 年度文书类电子档案移交",
        "description": (f"{year} 年度文书档案（发文），按 年度—保管期限—机构 整理；每件含正本（PDF/A-2b，"
                        "加盖电子印章并数字签名，首页有归档章）、定稿（DOCX）、原稿、全文（TXT）及 XML 元数据封装包；"
                        "附归档文件目录、备考表与四性检测报告；BagIt 包，在线移交"),
        "count": f"{items} 件，{files} 个电子文件（另有元数据封装包 {items} 个）",
        "volume": f"{human_bytes_gb(size)} GB（{size} 字节，1 GB = 10⁹ 字节，仅计各件文件）",
        "carrier_seq": f"在线移交：包内按档号顺序存放，文件夹 data/件/ 下 {items} 个",
        "carrier": f"在线（文件夹 {package}，BagIt 1.0 包）",
        "accuracy": by_prop["真实性"], "integrity": by_prop["完整性"], "usability": by_prop["可用性"],
        "security": by_prop["安全性"], "carrier_check": "在线移交，不适用",
        "digest": (f"{algorithm}（GB/T 32905—2016）：{digest}（对 data/件/ 下全部文件的 {algorithm} 摘要清单计算，"
                   "逐个文件的摘要见 manifest-sm3.txt；另有 SHA-256 的 BagIt 清单）"),
        "from_unit": org.name, "to_unit": org.archive_name, "date": created[:10],
        "forced": ("注意：本移交包在四性检测未通过的情况下强制生成（--force），接收方不应直接接收" if forced else ""),
        "verdict": report.verdict, "forced_flag": forced, "items": items, "files": files, "bytes": size,
        "algorithm": algorithm, "data_digest": digest,
    }


def write_handover_form(config: Config, form: dict, out_dir: Path, *, make_pdf: bool = True) -> list[Path]:
    """移交登记表.json, .docx and (converted) .pdf in ``out_dir``."""
    out_dir = Path(out_dir)
    written = [atomic_write_text(out_dir / "移交登记表.json", json.dumps(form, ensure_ascii=False, indent=2) + "\n")]
    docx = render_docx(config, TEMPLATES["登记表"], {"form": form}, out_dir / "移交登记表.docx")
    written.append(docx)
    if make_pdf:
        with tempfile.TemporaryDirectory(prefix=".form-") as tmp:
            pdf = to_pdf(config, [(docx, Path(tmp) / "移交登记表.pdf")])[0]
            written.append(atomic_copy(pdf, out_dir / "移交登记表.pdf"))
    return written


# --- the last report of a year ---------------------------------------------------------------------

LAST_REPORT = "四性检测-最近.json"


def last_report_path(config: Config, year: int) -> Path:
    from .common import yearend_dir

    return yearend_dir(config, year) / LAST_REPORT


def save_last_report(config: Config, report: CheckReport) -> Path:
    """Keep ``report`` as the year's last 四性检测 (``gongwen check YEAR`` and the 年终 page both do), so
    the 年终 page shows it item by item whoever ran it."""
    if report.year is None:
        raise ValueError("only a year's 四性检测 is kept as its last report, not a package's")
    return atomic_write_text(last_report_path(config, report.year),
                             json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")


def load_last_report(config: Config, year: int) -> CheckReport | None:
    p = last_report_path(config, year)
    if not p.is_file():
        return None
    try:
        return CheckReport.from_json(json.loads(p.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ArchiveError(f"最近一次检测报告 {p} 无法读取：{e}") from e
