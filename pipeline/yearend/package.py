"""The handover package for the 区档案馆 (移交, standards.md §5.5) and its re-verification on receipt.

A BagIt bag (the ``bagit`` library, SHA-256 manifests) whose payload explains itself without gongwen::

    bagit.txt  bag-info.txt  manifest-sha256.txt  manifest-sm3.txt  tagmanifest-sha256.txt
    data/说明.txt                     what is where and how to verify it (Chinese)
    data/件/<档号>/                   正本.pdf 定稿.docx 原稿.* 全文.txt 封装包.xml (one folder per 件)
    data/目录/                        归档文件目录 (.xlsx, .pdf) and 备考表 (.pdf) per class
    data/检测报告/                    the 四性检测 of the year (.json, .docx, .pdf)
    data/移交登记表.{json,docx,pdf}   电子档案移交与接收登记表
    data/移交清单.json                every 件 and file with size and digests
    data/schema/eep.xsd               the schema of 封装包.xml (docs/eep-schema.md)
    data/证书/                        the trust-root certificates the signatures chain to

``manifest-sm3.txt`` follows the BagIt manifest form with SM3 (GB/T 32905); the bagit library does not
know SM3 and ignores it, so gongwen writes and checks it itself — and the SHA-256 tag manifest covers
it. The package is built in a temporary folder beside the destination and renamed into place, and is
refused when the year's check fails unless ``force`` (then bag-info and the 登记表 say so).
"""
from __future__ import annotations

import json
import os
import shutil
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .. import __version__, hashing
from ..archive import ArchiveStore
from ..config import Config
from ..errors import ArchiveError
from ..fsutil import atomic_copy, atomic_write_bytes, atomic_write_text
from ..pdfcheck import PdfTextError, pages_text
from .common import ARCHIVE_CODE_RE, now_iso
from .eep import SCHEMA_FILE, PackedFile, build_eep, read_eep, validate
from .pdftext import norm
from .report_model import CheckItem, CheckReport, Failure, make_item, not_run

Progress = Callable[[int, int, str], None]
PACKAGE_FORMAT = "gongwen-handover/1"
EEP_NAME = "封装包.xml"
SM3_MANIFEST = "manifest-sm3.txt"
ITEMS_DIR = "件"
ALGORITHM = "SM3"


class HandoverRefused(ArchiveError):
    """The year's 四性检测 failed and ``force`` was not given; ``report`` says why."""

    def __init__(self, message: str, report: CheckReport):
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class HandoverResult:
    path: Path
    items: int
    files: int
    bytes: int
    forced: bool
    report: CheckReport
    data_digest: str


def _sm3(path: Path) -> str:
    return hashing.digest_file(path, ("sm3",))["sm3"]


def data_digest(lines: list[str]) -> str:
    """The 登记表's 数字摘要: SM3 over the sorted SM3 manifest lines of data/件/ (paths from data/)."""
    return hashing.digest_bytes("".join(sorted(lines)).encode("utf-8"), "sm3")


def _readme(config: Config, year: int, items: int, forced: bool) -> str:
    org = config.organisation
    lines = [
        f"{org.name}（全宗号 {org.fonds_code}）{year} 年度文书类电子档案移交包",
        f"生成：gongwen {__version__}，{now_iso()}",
        "",
        "一、内容",
        f"  件/<档号>/      共 {items} 件，每件一个文件夹，以档号命名：",
        "                  正本.pdf（PDF/A-2b，电子印章与数字签名，首页归档章为第二个签名的外观）",
        "                  定稿.docx、原稿、全文.txt，以及 封装包.xml（本件元数据，模式见 schema/eep.xsd）",
        "  目录/           归档文件目录（.xlsx 与 .pdf）和备考表（.pdf），按保管期限分类",
        "  检测报告/       移交前的四性检测报告（.json、.docx、.pdf）",
        "  移交登记表.*    电子档案移交与接收登记表（.json、.docx、.pdf）",
        "  移交清单.json   每件的档号、文号、题名与每个文件的大小和摘要",
        "  证书/           签名所用证书链的根证书（验证 PDF 签名用）",
        "",
        "二、核验方法",
        "  1. BagIt：包根目录的 manifest-sha256.txt、tagmanifest-sha256.txt（任何 BagIt 工具可校验，如 bagit.py --validate）。",
        "  2. SM3：manifest-sm3.txt 与 BagIt 清单格式相同（摘要  路径），每个 data/ 下文件一行，算法为 SM3（GB/T 32905）。",
        "  3. 移交登记表中的“数字摘要”为对 data/件/ 下全部文件 SM3 清单行（按路径排序后连接）再计算的 SM3 值。",
        "  4. 封装包.xml 可用 schema/eep.xsd 校验；其中文件大小与摘要应与同文件夹中的文件一致。",
        "  5. 使用 gongwen 时：gongwen check --package <本文件夹>。",
    ]
    if forced:
        lines += ["", "注意：本包在移交方四性检测未通过的情况下强制生成（--force），详见 检测报告/。"]
    return "\n".join(lines) + "\n"


def build_handover(config: Config, year: int, dest: Path, *, ledger, actor: str, force: bool = False,
                   progress: Progress | None = None, report: CheckReport | None = None,
                   make_pdf: bool = True) -> HandoverResult:
    """Check the year, then write its handover package at ``dest`` (which must not exist or be empty)."""
    import bagit

    from .arrange import load_plan
    from .catalogue import class_files, to_pdf
    from .checks import check_year
    from .report import handover_form, write_handover_form, write_report

    dest = Path(dest).resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ArchiveError(f"目标位置 {dest} 已存在且不为空；为免覆盖，请指定一个新的文件夹")
    if not hashing.sm3_available():
        raise ArchiveError("本机 OpenSSL 不支持 SM3，无法生成移交包要求的 SM3 摘要清单")
    plan = load_plan(config, year)
    if plan is None:
        raise ArchiveError(f"{year} 年度尚未整理（没有档号），请先运行 gongwen archive {year}")
    if report is None:
        report = check_year(config, year, ledger=ledger, actor=actor, progress=progress)
    if not report.ok and not force:
        bad = "；".join(f"{i.code} {i.name}" for i in report.failed)
        raise HandoverRefused(f"{year} 年度四性检测未通过，拒绝生成移交包（{bad}）。"
                              "请先修正；确需生成的，加 --force（包和登记表将注明“强制生成”）", report)

    store = ArchiveStore(config)
    records = {r.reference: r for r in store.records(year)}
    entries = [(k, e) for k, e in plan.entries() if e.reference in records]
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    created = now_iso()
    try:
        items_dir = tmp / ITEMS_DIR
        listing, sm3_lines = [], []
        n_files = size = 0
        for n, (key, e) in enumerate(entries, 1):
            if progress:
                progress(n - 1, len(entries), e.code)
            rec = records[e.reference]
            folder = items_dir / e.code
            packed = []
            for f in rec.meta.get("电子文件") or []:
                src = rec.path / f["计算机文件名"]
                if not src.is_file():
                    if force:
                        continue
                    raise ArchiveError(f"{e.code} 的文件 {src.name} 缺失")
                dst = atomic_copy(src, folder / src.name)
                digests = hashing.digest_file(dst, ("sm3", "sha256"))
                packed.append(PackedFile(f.get("稿本") or "", dst.name, dst.stat().st_size, f.get("格式信息") or "",
                                         f.get("文档创建程序") or "", {"SM3": digests["sm3"], "SHA-256": digests["sha256"]}))
                rel = f"{ITEMS_DIR}/{e.code}/{dst.name}"
                sm3_lines.append(f"{digests['sm3']}  {rel}\n")
                n_files += 1
                size += dst.stat().st_size
            xml = build_eep(rec.meta, packed, config, folder=f"{ITEMS_DIR}/{e.code}", created=created)
            problems = validate(xml)
            if problems:
                raise ArchiveError(f"{e.code} 的封装包 XML 不合模式：{problems[0]}")
            atomic_write_bytes(folder / EEP_NAME, xml)
            listing.append({"档号": e.code, "文件编号": e.reference, "题名": rec.meta.get("题名"),
                            "保管期限": key.retention, "件号": f"{e.item_no:04d}", "页数": rec.meta.get("页数"),
                            "文件": [{"计算机文件名": p.name, "稿本": p.role, "计算机文件大小": p.size,
                                      "数字摘要": [{"算法": a, "值": v} for a, v in p.digests.items()]} for p in packed]})
        if progress:
            progress(len(entries), len(entries), "目录与报告")
        digest = data_digest(sm3_lines)
        cat = tmp / "目录"
        for key in plan.classes:
            for path in class_files(config, year, key).values():
                if path.is_file():
                    atomic_copy(path, cat / path.name)
        rep_dir = tmp / "检测报告"
        write_report(report, config, rep_dir / f"检测报告-{year}.json")
        rep_docx = write_report(report, config, rep_dir / f"检测报告-{year}.docx")
        form = handover_form(config, year, report, items=len(entries), files=n_files, size=size, digest=digest,
                             algorithm=ALGORITHM, forced=force and not report.ok, created=created, package=dest.name)
        form_docx = [p for p in write_handover_form(config, form, tmp, make_pdf=False) if p.suffix == ".docx"][0]
        if make_pdf:   # one LibreOffice for both
            to_pdf(config, [(rep_docx, rep_docx.with_suffix(".pdf")), (form_docx, form_docx.with_suffix(".pdf"))])
        atomic_write_text(tmp / "移交清单.json", json.dumps(
            {"格式版本": PACKAGE_FORMAT, "全宗号": config.organisation.fonds_code, "全宗名称": config.organisation.name,
             "年度": year, "件数": len(entries), "文件数": n_files, "总字节数": size, "数字摘要算法": ALGORITHM,
             "档案数据摘要": digest, "强制生成": form["forced_flag"], "件": listing},
            ensure_ascii=False, indent=2) + "\n")
        atomic_copy(SCHEMA_FILE, tmp / "schema" / "eep.xsd")
        for i, p in enumerate(config.signing.trust_roots, 1):
            src = config.path(p)
            if src.is_file():
                atomic_copy(src, tmp / "证书" / f"信任根-{i}{src.suffix or '.pem'}")
        atomic_write_text(tmp / "说明.txt", _readme(config, year, len(entries), form["forced_flag"]))

        info = {
            "Source-Organization": config.organisation.name,
            "External-Identifier": f"{config.organisation.fonds_code}-WS·{year}-移交",
            "External-Description": f"{config.organisation.name} {year} 年度文书类电子档案移交包（DA/T 22-2015，DA/T 70-2018）",
            "Contact-Name": actor,
            "Gongwen-Format": PACKAGE_FORMAT,
            "Gongwen-Year": str(year),
            "Gongwen-Items": str(len(entries)),
            "Gongwen-Check": "通过" if report.ok else "未通过",
            "Gongwen-Forced": "yes" if form["forced_flag"] else "no",
            "Bag-Software-Agent": f"gongwen {__version__} (bagit)",
        }
        bag = bagit.make_bag(str(tmp), info, processes=1, checksums=["sha256"])
        # The SM3 manifest over the same payload, then the tag manifest again so that it covers it.
        lines = []
        for path in sorted((tmp / "data").rglob("*")):
            if path.is_file():
                lines.append(f"{_sm3(path)}  {path.relative_to(tmp).as_posix()}\n")
        atomic_write_text(tmp / SM3_MANIFEST, "".join(lines))
        bag.save(processes=1)
        os.chmod(tmp, 0o755)
        if dest.exists():
            dest.rmdir()
        os.rename(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return HandoverResult(dest, len(entries), n_files, size, bool(form["forced_flag"]), report, digest)


# --- the receiving side -------------------------------------------------------------------------

PKG_ITEMS = (
    ("YJ-0", "检测对象", "移交包中有可检测的档案"),
    ("YJ-ZS-0", "真实性", "移交方检测结论（非强制生成）"),
    ("YJ-ZS-1-1", "真实性", "数字摘要：BagIt 清单（SHA-256）"),
    ("YJ-ZS-1-2", "真实性", "数字摘要：SM3 清单"),
    ("YJ-ZS-1-3", "真实性", "电子签名（发文签名与归档章签名）"),
    ("YJ-ZS-2-6", "真实性", "档号规范性与唯一性"),
    ("YJ-ZS-3", "真实性", "封装包元数据与文件一致（文件名、大小、摘要、页数、题名）"),
    ("YJ-ZS-5", "真实性", "登记表所载数字摘要与数据相符"),
    ("YJ-WZ-1-1", "完整性", "总件数与登记表、移交清单、目录相符"),
    ("YJ-WZ-1-2", "完整性", "总字节数与登记表相符"),
    ("YJ-WZ-3", "完整性", "每件内容齐全（正本与封装包所列文件）"),
    ("YJ-WZ-4", "完整性", "移交包组成齐全（目录、检测报告、登记表、模式、证书、说明）"),
    ("YJ-KY-1", "可用性", "元数据可用（XML 格式正确并符合模式）"),
    ("YJ-KY-2", "可用性", "内容可用（能打开、PDF/A、字体嵌入、可提取文字）"),
    ("YJ-KY-4", "可用性", "无加密"),
    ("YJ-AQ-1", "安全性", "病毒检测"),
    ("YJ-AQ-2", "安全性", "无可执行内容与非归档文件"),
)
PKG_ITEM = {c: (p, n) for c, p, n in PKG_ITEMS}


def _read_manifest(path: Path) -> tuple[dict[str, str], list[str]]:
    entries, problems = {}, []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or len(parts[0]) != 64:
            problems.append(f"第 {i} 行格式不对：{line[:80]}")
            continue
        if parts[1] in entries:
            problems.append(f"第 {i} 行重复列出 {parts[1]}")
        entries[parts[1]] = parts[0].lower()
    return entries, problems


def check_package(pkg: Path, *, trust: list[Path] | None = None, actor: str = "", progress: Progress | None = None,
                  strict: bool = False, scan: bool = True) -> CheckReport:
    """Re-verify a handover package without the original archive (the 移交与接收 stage): the bag and
    the SM3 manifest, the package's parts, each 件, then the counts against the 登记表, the 移交清单 and
    the 目录 — each step its own function, all counting into one run of the package items."""
    from .checks import _Run

    started = now_iso()
    pkg = Path(pkg)
    data = pkg / "data"
    if not (pkg / "bagit.txt").is_file() or not data.is_dir():
        item = CheckItem("YJ-0", "检测对象", PKG_ITEM["YJ-0"][1], False, 0,
                         (Failure(str(pkg), "", "不是移交包：缺少 bagit.txt 或 data/ 文件夹"),))
        return CheckReport("移交与接收", str(pkg), None, started, now_iso(), actor,
                           (item,) + tuple(not_run(c, p, n, "不是移交包") for c, p, n in PKG_ITEMS[1:]), {}, strict)
    run = _Run(PKG_ITEMS)
    info = _check_bag(run, pkg)
    _check_manifest(run, pkg, data)
    form, listing = _check_parts(run, data)
    roots, bad_roots = _package_roots(run, data, trust)
    schema = data / "schema" / "eep.xsd"
    schema = schema if schema.is_file() else SCHEMA_FILE
    items_dir = data / ITEMS_DIR
    folders = sorted(p for p in items_dir.iterdir() if p.is_dir()) if items_dir.is_dir() else []
    seen = _Seen()
    for n, folder in enumerate(folders, 1):
        if progress:
            progress(n - 1, len(folders), folder.name)
        _check_item(run, folder, schema, roots, bad_roots, seen)
    _check_totals(run, data, len(folders), seen, form, listing)
    year = int(info["Gongwen-Year"]) if str(info.get("Gongwen-Year", "")).isdigit() else None
    return CheckReport("移交与接收", str(pkg), year, started, now_iso(), actor,
                       _package_items(run, data, len(folders), seen, scan),
                       {"全宗号": listing.get("全宗号", ""), "全宗名称": listing.get("全宗名称", ""),
                        "件数": len(folders), "文件数": seen.files, "总字节数": seen.bytes}, strict)


@dataclass
class _Seen:
    """What the 件 of a package add up to, for the counts and the data digest."""

    codes: set = field(default_factory=set)
    digest_lines: list = field(default_factory=list)
    bytes: int = 0
    files: int = 0


def _check_bag(run, pkg: Path) -> dict:
    """BagIt (SHA-256) and the sender's verdict (a package built with --force); returns bag-info."""
    import bagit

    run.add("YJ-ZS-1-1")
    try:
        bag = bagit.Bag(str(pkg))
        bag.validate(processes=1)
        run.note("YJ-ZS-1-1", f"BagIt 校验通过（{', '.join(bag.algorithms)}），{bag.info.get('Payload-Oxum', '')}")
    except bagit.BagValidationError as e:
        details = getattr(e, "details", None) or []
        for d in details:
            run.fail("YJ-ZS-1-1", "BagIt", getattr(d, "path", ""), str(d))
        if not details:
            run.fail("YJ-ZS-1-1", "BagIt", "", str(e))
        bag = None
    except bagit.BagError as e:
        run.fail("YJ-ZS-1-1", "BagIt", "", str(e))
        bag = None
    info = {}
    try:
        info = bagit.Bag(str(pkg)).info if bag is None else bag.info
    except Exception:
        pass
    run.add("YJ-ZS-0")
    if str(info.get("Gongwen-Forced", "")).lower() == "yes":
        run.fail("YJ-ZS-0", "移交包", "bag-info.txt", "本包为强制生成：移交方四性检测未通过，不应直接接收")
    return info


def _check_manifest(run, pkg: Path, data: Path) -> None:
    """The SM3 manifest: every payload file exactly once, every digest matching, nothing else listed."""
    payload = sorted(p.relative_to(pkg).as_posix() for p in data.rglob("*") if p.is_file())
    man = pkg / SM3_MANIFEST
    if not man.is_file():
        run.fail("YJ-ZS-1-2", "移交包", SM3_MANIFEST, "缺少 SM3 清单")
        return
    sm3, problems = _read_manifest(man)
    for p in problems:
        run.fail("YJ-ZS-1-2", "移交包", SM3_MANIFEST, p)
    for rel in sorted(set(payload) - set(sm3)):
        run.fail("YJ-ZS-1-2", "移交包", rel, "文件不在 SM3 清单中")
    for rel in sorted(set(sm3) - set(payload)):
        run.fail("YJ-ZS-1-2", "移交包", rel, "SM3 清单列出的文件不存在")
    for rel in sorted(set(sm3) & set(payload)):
        run.add("YJ-ZS-1-2")
        if _sm3(pkg / rel) != sm3[rel]:
            run.fail("YJ-ZS-1-2", "移交包", rel, "SM3 摘要不符（文件被改动）")
    run.note("YJ-ZS-1-2", f"清单 {len(sm3)} 行，数据文件 {len(payload)} 个")


def _check_parts(run, data: Path) -> tuple[dict, dict]:
    """The package's parts are there; returns the 移交登记表 and the 移交清单 (empty when unreadable)."""
    run.add("YJ-WZ-4")
    for rel, what in (("说明.txt", "说明"), ("移交清单.json", "移交清单"), ("移交登记表.json", "移交登记表（JSON）"),
                      ("移交登记表.docx", "移交登记表"), ("schema/eep.xsd", "封装包模式")):
        if not (data / rel).is_file():
            run.fail("YJ-WZ-4", "移交包", f"data/{rel}", f"缺少{what}")
    for folder, what in (("目录", "归档文件目录"), ("检测报告", "检测报告"), ("证书", "根证书")):
        present = (data / folder).is_dir() and any((data / folder).iterdir())
        if not present:
            run.fail("YJ-WZ-4", "移交包", f"data/{folder}/", f"缺少{what}")
    read: dict[str, dict] = {}
    for name in ("移交登记表.json", "移交清单.json"):
        try:
            read[name] = json.loads((data / name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            run.fail("YJ-KY-1", "移交包", f"data/{name}", f"无法读取：{e}")
    return read.get("移交登记表.json", {}), read.get("移交清单.json", {})


def _package_roots(run, data: Path, trust: list[Path] | None):
    """The trust roots: the package's data/证书/ and any given with --trust."""
    from ..sign import load_trust_roots

    roots_files = sorted((data / "证书").glob("*")) if (data / "证书").is_dir() else []
    roots, bad_roots = load_trust_roots([*roots_files, *(trust or [])])
    run.note("YJ-ZS-1-3", "信任根取自" + ("移交包 data/证书/" if roots_files else "") +
             ("及命令行 --trust" if trust else "") + "（接收方应确认这些根证书确为移交单位所用）")
    return roots, bad_roots


def _check_item(run, folder: Path, schema: Path, roots, bad_roots, seen: _Seen) -> None:
    """One 件's folder: its 档号, its EEP against the schema, its files against the EEP, and each PDF
    (usable, no active content, the title in its text, its signatures and the 归档章 of this 档号)."""
    code = folder.name
    run.add("YJ-ZS-2-6")
    run.add("YJ-WZ-3")
    run.add("YJ-KY-1")
    if not ARCHIVE_CODE_RE.match(code):
        run.fail("YJ-ZS-2-6", code, "", "文件夹名不是规范的档号")
    if code in seen.codes:
        run.fail("YJ-ZS-2-6", code, "", "档号重复")
    seen.codes.add(code)
    xml_path = folder / EEP_NAME
    if not xml_path.is_file():
        run.fail("YJ-WZ-3", code, EEP_NAME, "缺少封装包 XML")
        return
    xml = xml_path.read_bytes()
    problems = validate(xml, schema)
    for p in problems:
        run.fail("YJ-KY-1", code, EEP_NAME, p)
    if problems:
        return
    eep = read_eep(xml)
    if eep.code != code:
        run.fail("YJ-ZS-2-6", code, EEP_NAME, f"封装包中的档号 {eep.code} 与文件夹名不符")
    listed = {f.name for f in eep.files}
    extra = sorted(p.name for p in folder.iterdir() if p.name not in listed and p.name != EEP_NAME)
    run.add("YJ-AQ-2")
    if extra:
        run.fail("YJ-AQ-2", code, "、".join(extra), "件内有封装包未登记的文件")
    roles = {f.role for f in eep.files}
    # a 收文's 件 is its 处理笺 (with the 归档章) and the document (its PDF/A 副本, or the 原件)
    incoming = "处理笺" in roles
    content = ("副本" if "副本" in roles else "原件") if incoming else "正本"
    for need in (("处理笺", content) if incoming else ("正本",)):
        if need not in roles:
            run.fail("YJ-WZ-3", code, "", f"封装包中没有{need}")
    for f in eep.files:
        path = folder / f.name
        run.add("YJ-ZS-3")
        if not path.is_file():
            run.fail("YJ-WZ-3", code, f.name, "封装包列出的文件不存在")
            continue
        size = path.stat().st_size
        seen.bytes += size
        seen.files += 1
        if size != f.size:
            run.fail("YJ-ZS-3", code, f.name, f"封装包记为 {f.size} 字节，文件实为 {size} 字节")
        digest = _sm3(path)
        seen.digest_lines.append(f"{digest}  {ITEMS_DIR}/{code}/{f.name}\n")
        if f.digests.get("SM3") != digest:
            run.fail("YJ-ZS-3", code, f.name, "与封装包记录的 SM3 摘要不符")
        if f.role in ("正本", "处理笺", content) and f.name.lower().endswith(".pdf"):
            _check_item_pdf(run, code, path, f, eep, incoming=incoming, content=content,
                            roots=roots, bad_roots=bad_roots)


def _check_item_pdf(run, code: str, path: Path, f, eep, *, incoming: bool, content: str, roots, bad_roots) -> None:
    from ..pdfcheck import inspect_pdf
    from .archstamp import is_archive_stamp, stamped_code
    from .checks import active_content, signatures, usability_problems

    facts = inspect_pdf(path)
    run.add("YJ-KY-2")
    run.add("YJ-KY-4")
    if facts.encrypted:
        run.fail("YJ-KY-4", code, f.name, "PDF 已加密")
    if facts.error:
        run.fail("YJ-KY-2", code, f.name, f"无法打开：{facts.error}")
        return
    for msg in usability_problems(facts):
        run.fail("YJ-KY-2", code, f.name, msg)
    for msg in active_content(facts):
        run.fail("YJ-AQ-2", code, f.name, msg)
    if f.role != "处理笺":
        if facts.pages != eep.pages:
            run.fail("YJ-ZS-3", code, f.name, f"封装包记为 {eep.pages} 页，文件实有 {facts.pages} 页")
        try:
            pages: list[str] | None = pages_text(path)
        except PdfTextError:
            pages = None
        if pages is not None and incoming:
            pages = [unicodedata.normalize("NFKC", p) for p in pages]
        title = unicodedata.normalize("NFKC", eep.title) if incoming else eep.title
        if pages is None or norm(title) not in norm("".join(pages)):
            run.fail("YJ-ZS-3", code, f.name, f"题名“{eep.title}”不见于{f.role}文字")
    if f.role == content and incoming:
        return        # the sender's file: no signature of ours to judge
    run.add("YJ-ZS-1-3")
    sigs = signatures(path, roots, bad_roots)
    if not sigs:
        run.fail("YJ-ZS-1-3", code, f.name, f"{f.role}没有数字签名")
    for s in sigs:
        if not s.parsed:
            run.fail("YJ-ZS-1-3", code, f.name, f"签名无法读取（文件可能被截断或损坏）：{s.detail}")
        elif not s.ok:
            run.fail("YJ-ZS-1-3", code, f.name, f"{'归档章签名' if is_archive_stamp(s) else '签名'}无效：{s.detail}")
    if any(not s.parsed for s in sigs):
        run.fail("YJ-ZS-1-3", code, f.name, f"{f.role}无法解析，其中的归档章无法核验（文件可能被截断或损坏）")
    elif stamped_code(sigs) != code:
        run.fail("YJ-ZS-1-3", code, f.name, f"{f.role}没有载明本档号的归档章签名")


def _check_totals(run, data: Path, n_items: int, seen: _Seen, form: dict, listing: dict) -> None:
    """Counts and totals against the 登记表, the 移交清单 and the 目录."""
    from .checks import xlsx_rows

    run.add("YJ-WZ-1-1", n_items)
    run.add("YJ-WZ-1-2", n_items)
    run.add("YJ-ZS-5", n_items)
    if form:
        if form.get("items") != n_items:
            run.fail("YJ-WZ-1-1", "移交登记表", "移交登记表.json", f"登记 {form.get('items')} 件，包内实有 {n_items} 件")
        if form.get("files") != seen.files:
            run.fail("YJ-WZ-1-1", "移交登记表", "移交登记表.json",
                     f"登记 {form.get('files')} 个文件，包内实有 {seen.files} 个")
        if form.get("bytes") != seen.bytes:
            run.fail("YJ-WZ-1-2", "移交登记表", "移交登记表.json",
                     f"登记 {form.get('bytes')} 字节，包内实有 {seen.bytes} 字节")
        if form.get("data_digest") != data_digest(seen.digest_lines):
            run.fail("YJ-ZS-5", "移交登记表", "移交登记表.json", "登记表所载 SM3 数字摘要与包内数据重新计算的不符")
    else:
        for code in ("YJ-WZ-1-1", "YJ-WZ-1-2", "YJ-ZS-5"):
            run.fail(code, "移交登记表", "移交登记表.json", "没有可比对的登记表")
    if listing:
        listed_codes = {e.get("档号") for e in listing.get("件", [])}
        for c in sorted(listed_codes - seen.codes):
            run.fail("YJ-WZ-1-1", c, "移交清单.json", "移交清单列出，包内没有此件")
        for c in sorted(seen.codes - listed_codes):
            run.fail("YJ-WZ-1-1", c, "移交清单.json", "包内有此件，移交清单中没有")
    rows = 0
    for x in sorted((data / "目录").glob("归档文件目录-*.xlsx")) if (data / "目录").is_dir() else []:
        rows += max(xlsx_rows(x), 0)
    if rows != n_items:
        run.fail("YJ-WZ-1-1", "归档文件目录", "目录/", f"目录共列 {rows} 件，包内实有 {n_items} 件")
    run.note("YJ-WZ-1-1", f"{n_items} 件，{seen.files} 个文件")
    run.note("YJ-WZ-1-2", f"{seen.bytes} 字节")


def _package_items(run, data: Path, n_items: int, seen: _Seen, scan: bool) -> tuple[CheckItem, ...]:
    """The report's items in the table's order: the object, then each package item (the virus scan
    run or said not to be)."""
    from .checks import virus_scan

    if not n_items:
        items = [CheckItem("YJ-0", "检测对象", PKG_ITEM["YJ-0"][1], False, 0,
                           (Failure(str(data.parent), "", "移交包中没有任何档案：没有可检测的对象，不能判定为通过"),))]
    else:
        items = [CheckItem("YJ-0", "检测对象", PKG_ITEM["YJ-0"][1], True, n_items, (),
                           f"{n_items} 件，{seen.files} 个文件")]
    for code, prop, name in PKG_ITEMS[1:]:
        if code == "YJ-AQ-1":
            if scan:
                ok, fails, why = virus_scan([data])
                items.append(CheckItem(code, prop, name, ok, n_items if ok is not None else 0, tuple(fails), why))
            else:
                items.append(not_run(code, prop, name, "本次检测未要求病毒检测"))
            continue
        a = run.acc[code]
        items.append(make_item(code, prop, name, a.checked, a.failures, "；".join(a.notes)))
    return tuple(items)
