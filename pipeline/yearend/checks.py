"""The 四性检测 of one year at the 归档 stage (DA/T 70-2018, standards.md §5.2.1): every item the
software can honestly test, each naming the 件 and the file that fails it.

``check_year`` returns data (a CheckReport); the CLI renders it. What each item tests is listed in
ITEMS below and in the README. Items that cannot run (no ClamAV) are 未检测, never 通过; an item that
found nothing to look at fails (a year with nothing in it is a failure, not a pass).
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import unicodedata
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from ..archive import (METADATA, OLD_PREFIX, TEXT, TMP_PREFIX, ArchiveStore, Record, check_anchor, register_problems,
                       responsible)
from ..config import KINDS, RETENTION_CODES, Config
from ..errors import ArchiveError, GongwenError
from ..ledger import EVENT_NAMES
from ..pdfcheck import PdfTextError, pages_text
from ..rules import MAX_TITLE_CHARS
from .common import (ARCHIVE_CODE_RE, INCOMING_ROLES, ClassKey, archive_code, class_of, content_role, is_incoming,
                     now_iso, stamp_role)
from .pdftext import missing_attachments, norm, truncated
from .report_model import CheckItem, CheckReport, Failure, make_item, not_run

Progress = Callable[[int, int, str], None]

# (code, 性质, name) in report order. Codes follow standards.md §5.2.1 (reconstructed DA/T 70 numbering,
# ⚠ there): GD = 归档环节, ZS 真实性, WZ 完整性, KY 可用性, AQ 安全性.
ITEMS = (
    ("GD-0", "检测对象", "本年度有可检测的文件"),
    ("GD-ZS-1-1", "真实性", "固化信息有效性：数字摘要（重新计算 SM3/SHA-256 与记录比对，记录与登记簿锚定比对）"),
    ("GD-ZS-1-2", "真实性", "固化信息有效性：电子签名（发文签名与归档章签名）"),
    ("GD-ZS-2-1", "真实性", "元数据项长度与必填项"),
    ("GD-ZS-2-2", "真实性", "元数据数据类型与格式"),
    ("GD-ZS-2-3", "真实性", "设定值域的元数据项值域符合度"),
    ("GD-ZS-2-4", "真实性", "元数据值合理性"),
    ("GD-ZS-2-5", "真实性", "元数据不含非法字符"),
    ("GD-ZS-2-6", "真实性", "档号规范性"),
    ("GD-ZS-2-7", "真实性", "数据重复性（档号、文号、电子文件号）"),
    ("GD-ZS-3", "真实性", "电子属性一致性（大小、格式、页数、题名与文号见于正文）"),
    ("GD-ZS-4", "真实性", "元数据与内容关联（存储位置、全文、发文登记簿）"),
    ("GD-WZ-1-1", "完整性", "总件数与归档文件目录相符（整理方案与目录逐件比对）"),
    ("GD-WZ-1-2", "完整性", "总字节数与归档登记相符"),
    ("GD-WZ-2-1", "完整性", "元数据项齐全"),
    ("GD-WZ-2-2", "完整性", "件号连续无重复"),
    ("GD-WZ-2-3", "完整性", "过程信息（办理记录）齐全"),
    ("GD-WZ-2-4", "完整性", "发文登记簿无漏号（每个文号已归档、作废有原因或为未用预留号）"),
    ("GD-WZ-3-1", "完整性", "电子文件齐全"),
    ("GD-WZ-3-2", "完整性", "附件齐全（附件说明所列附件见于正本）"),
    ("GD-WZ-4", "完整性", "归档信息组织完整（档号、归档章、目录、备考表，及其与登记簿锚定比对）"),
    ("GD-WZ-5", "完整性", "登记簿与事件链完整（哈希链、登记簿与事件一致）"),
    ("GD-KY-1", "可用性", "元数据可读取解析"),
    ("GD-KY-2", "可用性", "内容可用（能打开、PDF/A、字体嵌入、可提取文字）"),
    ("GD-KY-3", "可用性", "格式与软硬件环境符合归档要求"),
    ("GD-KY-4", "可用性", "无加密、无非公开压缩"),
    ("GD-AQ-1", "安全性", "病毒检测"),
    ("GD-AQ-2-1", "安全性", "无非归档文件（件内与年度文件夹内）"),
    ("GD-AQ-2-2", "安全性", "无可执行内容（JavaScript、启动动作、嵌入文件）"),
    ("GD-AQ-3", "安全性", "归档过程安全（记录只读、无中断遗留）"),
)
ITEM = {code: (prop, name) for code, prop, name in ITEMS}

# Required metadata (DA/T 46 core as standards.md §5.3 derives it, plus GB/T 18894's minimum §5.1).
REQUIRED = ("聚合层次", "电子文件号", "全宗号", "立档单位名称", "年度", "保管期限", "题名", "文件编号", "责任者", "日期",
            "文种", "机构或问题", "页数", "电子文件", "业务行为", "归档时间")
REQUIRED_ARRANGED = ("档号", "件号", "归档章")
FILE_REQUIRED = ("稿本", "计算机文件名", "计算机文件大小", "格式信息", "文档创建程序", "数字摘要")
PRESENT_KEYS = ("密级", "紧急程度", "主送", "抄送", "附件")      # may be empty, must exist
MAX_LEN = {"题名": MAX_TITLE_CHARS, "文件编号": 60, "责任者": 200, "主送": 1000, "抄送": 1000, "机构或问题": 100}
SECRECY = ("", "公开", "限制", "秘密", "机密", "绝密")
URGENCY = ("", "特提", "特急", "加急", "平急", "急件")
ROLES = ("正本", "定稿", "原稿", "全文")
# A 收文 record's files (pipeline/incoming): 副本 is the PDF/A made of an original that is not one.
INCOMING_FILE_ROLES = ("原件", "副本", "处理笺", "处理笺底稿", "全文")
ACCEPTED_FORMATS = re.compile(r"^(PDF/A-[123][abuAB]|DOCX.*|纯文本.*|Markdown|YAML|JSON|OFD.*)$")
BAD_CHARS = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffd]")
MAX_LATE_DAYS = 366


@dataclass
class _Acc:
    """What one item has seen so far."""

    checked: int = 0
    failures: list = field(default_factory=list)
    notes: list = field(default_factory=list)


class _Run:
    """The items of one check (the year's, or a package's) as they are counted: what was checked, what
    failed, what to note."""

    def __init__(self, items: tuple[tuple[str, str, str], ...] | None = None):
        items = ITEMS if items is None else items
        self.names = {code: (prop, name) for code, prop, name in items}
        self.acc: dict[str, _Acc] = {code: _Acc() for code, _, _ in items}

    def add(self, code: str, n: int = 1) -> None:
        self.acc[code].checked += n

    def fail(self, code: str, ident: str, file: str, message: str) -> None:
        self.acc[code].failures.append(Failure(ident, file, message))

    def note(self, code: str, text: str) -> None:
        self.acc[code].notes.append(text)

    def item(self, code: str, *, unit: str = "件") -> CheckItem:
        prop, name = self.names[code]
        a = self.acc[code]
        return make_item(code, prop, name, a.checked, a.failures, "；".join(dict.fromkeys(a.notes)), unit=unit)


def _ident(meta: dict, fallback: str) -> str:
    return meta.get("档号") or meta.get("文件编号") or fallback


def trust_roots(config: Config) -> tuple[list, list[str]]:
    from ..sign import load_trust_roots

    return load_trust_roots([config.path(p) for p in config.signing.trust_roots])


def load_year(config: Config, year: int) -> tuple[list[Record], list[tuple[Path, str]]]:
    """Every record folder of the year: the records that load, and (folder, why) for those that do not."""
    store = ArchiveStore(config)
    ydir = config.archive_dir / str(year)
    good: list[Record] = []
    bad: list[tuple[Path, str]] = []
    if not ydir.is_dir():
        return good, bad
    for sdir in sorted(p for p in ydir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for rdir in sorted(p for p in sdir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if not (rdir / METADATA).exists():
                bad.append((rdir, f"缺少元数据文件 {METADATA}"))
                continue
            try:
                rec = store.load(rdir)
                if not isinstance(rec.meta, dict) or "文件编号" not in rec.meta:
                    raise ArchiveError("元数据缺少“文件编号”")
                good.append(rec)
            except (ArchiveError, KeyError, TypeError) as e:
                bad.append((rdir, str(e)))
    return good, bad


def stray_files(config: Config, year: int) -> list[Path]:
    """Files under archive/<年度>/ outside every record folder: in the year folder, in a series
    folder, or hidden there (a record folder without metadata is GD-KY-1's; ".tmp-" leftovers and
    ".old-" swaps are GD-AQ-3's)."""
    ydir = config.archive_dir / str(year)
    out: list[Path] = []
    if not ydir.is_dir():
        return out
    for entry in sorted(ydir.iterdir()):
        if not entry.is_dir() or entry.name.startswith("."):
            out.append(entry)
            continue
        for inner in sorted(entry.iterdir()):
            if inner.is_dir() and inner.name.startswith((TMP_PREFIX, OLD_PREFIX)):
                continue
            if not inner.is_dir() or inner.name.startswith("."):
                out.append(inner)
    return out


def virus_scan(paths: list[Path], timeout: float = 3600) -> tuple[bool | None, list[Failure], str]:
    """ClamAV over ``paths`` when installed: (ok, failures, note); ok None when it cannot run."""
    exe = shutil.which("clamdscan") or shutil.which("clamscan")
    if exe is None:
        return None, [], "本机未安装 ClamAV（clamscan/clamdscan），未进行病毒检测——此项不是“通过”"
    args = [exe, "--no-summary", "--infected"]
    if Path(exe).name == "clamscan":
        args.append("--recursive")
    else:
        args.append("--fdpass")
    try:
        res = subprocess.run(args + [str(p) for p in paths], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, [Failure("病毒检测", "", f"{Path(exe).name} 未能完成：{e}")], ""
    if res.returncode == 0:
        return True, [], f"{Path(exe).name}：未发现恶意代码"
    if res.returncode == 1:
        fails = [Failure("病毒检测", line.split(":", 1)[0], line.split(":", 1)[-1].strip())
                 for line in res.stdout.splitlines() if line.strip().endswith("FOUND")]
        return False, fails or [Failure("病毒检测", "", res.stdout.strip()[-300:])], ""
    return False, [Failure("病毒检测", "", f"{Path(exe).name} 出错（退出码 {res.returncode}）：{res.stderr.strip()[-300:]}")], ""


def usability_problems(facts) -> list[str]:
    """Why a PDF (pdfcheck.PdfFacts of one that opens) is not usable as an archival file: no PDF/A
    claim, no OutputIntent, fonts not embedded, no text to extract."""
    problems = []
    if not facts.pdfa:
        problems.append("未声明 PDF/A（XMP 中没有 pdfaid）")
    if not facts.has_output_intent:
        problems.append("没有输出意图（OutputIntent）")
    if not facts.all_fonts_embedded:
        problems.append("有未嵌入的字体：" + "、".join(f.name for f in facts.fonts if not f.embedded)[:200])
    if facts.text_chars == 0:
        problems.append("提取不到文字")
    return problems


def signatures(pdf: Path, roots, missing_roots) -> list:
    """sign.verify_signatures, except that a file cut short (no %%EOF at its end) has its signatures
    marked unreadable (``parsed`` False) — the ones it appended last are gone, not absent."""
    from ..sign import Verification, verify_signatures

    sigs = verify_signatures(pdf, roots, missing_roots)
    if not truncated(pdf):
        return sigs
    return [replace(s, parsed=False) for s in sigs] or [
        Verification(False, False, False, False, None, None, "文件末尾没有 %%EOF 标记，签名无法找到", parsed=False)]


def active_content(facts) -> list[str]:
    """Executable content in a PDF: JavaScript, launch actions, embedded files."""
    return [what for flag, what in ((facts.has_javascript, "含 JavaScript"),
                                    (facts.has_launch_action, "含启动（Launch）动作"),
                                    (facts.has_embedded_files, "含嵌入文件")) if flag]


def _check_pdf(run: _Run, ident: str, pdf: Path, meta: dict, entry: dict, roots, missing_roots,
               part: str = "正本") -> None:
    """The 正本: usability, active content, electronic properties, text, attachments, signatures.
    For a 收文 (``part``): its archival copy ("来文": the content, no signature of ours — the sender's
    cannot be judged against our trust roots) and its 处理笺 (usability and the 归档章)."""
    from ..pdfcheck import inspect_pdf

    name = pdf.name
    facts = inspect_pdf(pdf)
    run.add("GD-KY-2")
    run.add("GD-KY-4")
    run.add("GD-AQ-2-2")
    if facts.encrypted:
        run.fail("GD-KY-4", ident, name, "PDF 已加密")
    if facts.error:
        run.fail("GD-KY-2", ident, name, f"无法打开：{facts.error}")
        run.fail("GD-ZS-1-2", ident, name, "PDF 无法打开，签名无法验证")
        run.add("GD-ZS-1-2")
        return
    for p in usability_problems(facts):
        run.fail("GD-KY-2", ident, name, p)
    for p in active_content(facts):
        run.fail("GD-AQ-2-2", ident, name, p)
    # 电子属性一致性: format and page count against the metadata.
    fmt = entry.get("格式信息") or ""
    if fmt.upper().startswith("PDF/A"):
        claimed = fmt.upper().replace("PDF/A-", "")
        if facts.pdfa and facts.pdfa.upper() != claimed:
            run.fail("GD-ZS-3", ident, name, f"元数据格式为 {fmt}，文件声明为 PDF/A-{facts.pdfa}")
        elif not facts.pdfa:
            run.fail("GD-ZS-3", ident, name, f"元数据格式为 {fmt}，文件未声明 PDF/A")
    if part == "处理笺":
        _check_stamp(run, ident, pdf, meta, roots, missing_roots)
        return
    if str(meta.get("页数")) != str(facts.pages):
        run.fail("GD-ZS-3", ident, name, f"元数据页数为 {meta.get('页数')}，文件实有 {facts.pages} 页")
    try:
        pages: list[str] | str = pages_text(pdf)
    except PdfTextError as e:
        pages = str(e)
    if part == "来文" and not isinstance(pages, str):
        # OCR's text layer carries the 文号 with the brackets it read and NFKC punctuation
        from ..drafts.patterns import repair_numbers

        pages = [unicodedata.normalize("NFKC", repair_numbers(p)) for p in pages]
        meta = {**meta, **{k: unicodedata.normalize("NFKC", str(meta.get(k) or "")) for k in ("题名", "印制文号")}}
    if isinstance(pages, str):
        run.fail("GD-ZS-3", ident, name, pages)
    else:
        whole = norm("".join(pages))
        title = norm(meta.get("题名"))
        if title and title not in whole:
            run.fail("GD-ZS-3", ident, name, f"元数据题名“{meta.get('题名')}”不见于正本文字（题名与文件不符）")
        number = norm(meta.get("印制文号") or "")
        if number and number not in whole:
            run.fail("GD-ZS-3", ident, name, f"文号“{meta.get('印制文号')}”不见于正本文字")
        names = [a for a in (meta.get("附件") or []) if a]
        # a 收文's attachments often come as files of their own: only our 正本 is held to its 附件说明
        if names and part == "正本":
            run.add("GD-WZ-3-2")
            for a in missing_attachments(names, pages):
                run.fail("GD-WZ-3-2", ident, name, f"附件说明列有“{a}”，正本中没有该附件（附件缺失）")
    if part == "来文":
        return
    _check_stamp(run, ident, pdf, meta, roots, missing_roots)


def _check_stamp(run: _Run, ident: str, pdf: Path, meta: dict, roots, missing_roots) -> None:
    """Signatures: the office's, and the 归档章's naming this 档号."""
    from .archstamp import is_archive_stamp, stamped_code

    name = pdf.name
    run.add("GD-ZS-1-2")
    sigs = signatures(pdf, roots, missing_roots)
    unreadable = [s for s in sigs if not s.parsed]
    if meta.get("电子签名") and not sigs:
        run.fail("GD-ZS-1-2", ident, name, "元数据记有电子签名，文件中没有签名")
    for s in sigs:
        if not s.parsed:
            run.fail("GD-ZS-1-2", ident, name, f"签名无法读取（文件可能被截断或损坏）：{s.detail}")
        elif not s.ok:
            who = s.signer or s.field
            label = "归档章签名" if is_archive_stamp(s) else (f"签名（{who}）" if who else "签名")
            run.fail("GD-ZS-1-2", ident, name, f"{label}无效：{s.detail}")
    what = stamp_role(meta)
    code = meta.get("档号")
    if code:
        stamped = stamped_code(sigs)
        if unreadable:
            run.fail("GD-WZ-4", ident, name, f"{what}无法解析，其中的归档章无法核验（文件可能被截断或损坏）")
        elif stamped is None:
            run.fail("GD-WZ-4", ident, name, f"已编档号，但{what}没有归档章")
        elif stamped != code:
            run.fail("GD-WZ-4", ident, name, f"归档章所载档号“{stamped}”与元数据档号 {code} 不符")


def _check_metadata(run: _Run, ident: str, rec: Record, config: Config) -> None:
    m = rec.meta
    for code in ("GD-ZS-2-1", "GD-ZS-2-2", "GD-ZS-2-3", "GD-ZS-2-4", "GD-ZS-2-5"):
        run.add(code)
    run.add("GD-WZ-2-1")
    need = REQUIRED + (REQUIRED_ARRANGED if m.get("档号") else ())
    absent = [k for k in need + PRESENT_KEYS if k not in m]
    if absent:
        run.fail("GD-WZ-2-1", ident, METADATA, f"缺少元数据项：{'、'.join(absent)}")
    for i, f in enumerate(m.get("电子文件") or [], 1):
        # The 原稿 is the draft as the secretary dropped it: the program that made it is not known
        # to gongwen, so 文档创建程序 is asked of the 正本, 定稿 and 全文 only.
        need_f = [k for k in FILE_REQUIRED if not (k == "文档创建程序" and f.get("稿本") == "原稿")]
        gone = [k for k in need_f if k not in f or f[k] in (None, "", [])]
        if gone:
            run.fail("GD-WZ-2-1", ident, f.get("计算机文件名") or f"电子文件{i}", f"电子属性缺少：{'、'.join(gone)}")
    empty = [k for k in need if k in m and m[k] in (None, "", [], {})]
    if empty:
        run.fail("GD-ZS-2-1", ident, METADATA, f"必填元数据项为空：{'、'.join(empty)}")
    for k, limit in MAX_LEN.items():
        v = responsible(m) if k == "责任者" else m.get(k)
        if isinstance(v, str) and len(v) > limit:
            run.fail("GD-ZS-2-1", ident, METADATA, f"{k} 长 {len(v)} 字，超过 {limit} 字")
    # Types and formats.
    bad = []
    if not re.fullmatch(r"[0-9]{4}", str(m.get("年度", ""))):
        bad.append(f"年度“{m.get('年度')}”不是 4 位数字")
    try:
        d = dt.date.fromisoformat(str(m.get("日期")))
    except ValueError:
        d = None
        bad.append(f"日期“{m.get('日期')}”不是 YYYY-MM-DD")
    for k in ("归档时间", "登记时间"):
        if m.get(k):
            try:
                dt.datetime.fromisoformat(str(m[k]))
            except ValueError:
                bad.append(f"{k}“{m[k]}”不是 ISO 时间")
    if not isinstance(m.get("页数"), int) or m.get("页数", 0) < 1:
        bad.append(f"页数“{m.get('页数')}”不是正整数")
    if not isinstance(m.get("顺序号"), int):
        bad.append(f"顺序号“{m.get('顺序号')}”不是整数")
    for f in m.get("电子文件") or []:
        if not isinstance(f.get("计算机文件大小"), int):
            bad.append(f"{f.get('计算机文件名')} 的计算机文件大小不是整数")
        for dg in f.get("数字摘要") or []:
            if not re.fullmatch(r"[0-9a-f]{64}", str(dg.get("值", ""))):
                bad.append(f"{f.get('计算机文件名')} 的 {dg.get('算法')} 摘要不是 64 位十六进制")
    for b in bad:
        run.fail("GD-ZS-2-2", ident, METADATA, b)
    # Value ranges.
    rng = []
    if m.get("聚合层次") != "文件":
        rng.append(f"聚合层次“{m.get('聚合层次')}”应为“文件”")
    if m.get("保管期限") not in RETENTION_CODES:
        rng.append(f"保管期限“{m.get('保管期限')}”不在 Y/D30/D10 之内")
    if m.get("文种") not in KINDS:
        rng.append(f"文种“{m.get('文种')}”不是《条例》规定的文种")
    sec = str(m.get("密级") or "")
    if not any(sec.startswith(s) for s in SECRECY if s) and sec:
        rng.append(f"密级“{sec}”不在 公开/限制/秘密/机密/绝密 之内")
    if str(m.get("紧急程度") or "") not in URGENCY:
        rng.append(f"紧急程度“{m.get('紧急程度')}”不在 特提/特急/加急/平急 之内")
    for f in m.get("电子文件") or []:
        allowed = INCOMING_FILE_ROLES if is_incoming(m) else ROLES
        if f.get("稿本") not in allowed:
            rng.append(f"{f.get('计算机文件名')} 的稿本“{f.get('稿本')}”不在 {'/'.join(allowed)} 之内")
        for dg in f.get("数字摘要") or []:
            if dg.get("算法") not in ("SM3", "SHA-256"):
                rng.append(f"{f.get('计算机文件名')} 的摘要算法“{dg.get('算法')}”无法识别")
    for r in rng:
        run.fail("GD-ZS-2-3", ident, METADATA, r)
    # Reasonable values.
    year = m.get("年度")
    if d is not None and isinstance(year, int) and is_incoming(m):
        # a 收文 belongs to the year it was received in; the document may be older, never later
        received = str(m.get("收文时间") or "")[:10]
        if received[:4] != str(year):
            run.fail("GD-ZS-2-4", ident, METADATA, f"收文时间 {received} 不在年度 {year} 之内")
        elif received and d.isoformat() > received:
            run.fail("GD-ZS-2-4", ident, METADATA, f"成文日期 {d} 晚于收文时间 {received}")
    elif d is not None and isinstance(year, int):
        slack = 0 if config.numbering.year_from == "成文日期" else 1
        if not (year - slack <= d.year <= year + slack):
            run.fail("GD-ZS-2-4", ident, METADATA, f"日期 {d} 不在年度 {year} 之内")
        if d > dt.date.today() + dt.timedelta(days=1):
            run.fail("GD-ZS-2-4", ident, METADATA, f"日期 {d} 晚于今天")
    if m.get("全宗号") != config.organisation.fonds_code:
        run.fail("GD-ZS-2-4", ident, METADATA, f"全宗号 {m.get('全宗号')} 不是本全宗 {config.organisation.fonds_code}")
    for f in m.get("电子文件") or []:
        if isinstance(f.get("计算机文件大小"), int) and f["计算机文件大小"] <= 0:
            run.fail("GD-ZS-2-4", ident, METADATA, f"{f.get('计算机文件名')} 的大小为 {f['计算机文件大小']}")
    # Illegal characters.
    for k in ("题名", "文件编号", "责任者", "主送", "抄送", "密级", "附注"):
        v = responsible(m) if k == "责任者" else m.get(k)
        if isinstance(v, str) and BAD_CHARS.search(v):
            run.fail("GD-ZS-2-5", ident, METADATA, f"{k} 含控制字符或替换字符（U+FFFD）")


def _check_files(run: _Run, ident: str, rec: Record, roots, missing_roots, anchors: list) -> int:
    """Fixity and the anchor in the ledger, presence, electronic properties, formats, extra files;
    returns bytes on disk."""
    m = rec.meta
    listed = {f.get("计算机文件名") for f in m.get("电子文件") or []}
    size_sum = 0
    run.add("GD-WZ-3-1")
    roles = {f.get("稿本") for f in m.get("电子文件") or []}
    incoming = is_incoming(m)
    for role in (INCOMING_ROLES if incoming else ROLES):
        if role not in roles:
            run.fail("GD-WZ-3-1", ident, "", f"缺少{role}（元数据未登记该稿本）")
    archival = content_role(m)
    verified: dict[str, int] = {}
    fixity = rec.verify()
    anchored = check_anchor(rec, anchors, fixity)
    for file, message in anchored.problems:
        if anchored.ok is None:
            run.note("GD-ZS-1-1", message)
        else:
            run.fail("GD-ZS-1-1", ident, file, message)
    for r in fixity:
        run.add("GD-ZS-1-1", 1)
        present = (rec.path / r.file).is_file()
        if not present:
            if r.file not in verified:
                run.fail("GD-ZS-1-1", ident, r.file, f"文件缺失，无法核验 {r.algorithm} 摘要")
            verified[r.file] = 0
        elif r.actual is None:
            # Stored with an algorithm this machine's OpenSSL lacks (SM3): the other one must carry it.
            run.note("GD-ZS-1-1", f"本机不支持 {r.algorithm}，该算法的摘要未核验")
            verified.setdefault(r.file, 0)
        elif not r.ok:
            run.fail("GD-ZS-1-1", ident, r.file, f"{r.algorithm} 摘要不符（文件被改动）")
            verified[r.file] = verified.get(r.file, 0) + 1
        else:
            verified[r.file] = verified.get(r.file, 0) + 1
    for name, n in verified.items():
        if n == 0 and (rec.path / name).is_file():
            run.fail("GD-ZS-1-1", ident, name, "没有一种记录的摘要算法能在本机核验")
    for f in m.get("电子文件") or []:
        name = f.get("计算机文件名") or ""
        path = rec.path / name
        run.add("GD-ZS-3")
        run.add("GD-KY-3")
        if not path.is_file():
            run.fail("GD-WZ-3-1", ident, name, "文件缺失（元数据登记了该文件，存储中没有）")
            continue
        size = path.stat().st_size
        size_sum += size
        if f.get("计算机文件大小") != size:
            run.fail("GD-ZS-3", ident, name, f"元数据大小 {f.get('计算机文件大小')} 字节，文件实为 {size} 字节")
        fmt = str(f.get("格式信息") or "")
        # a 收文's original is kept as received whatever its format; its archival copy must be archival
        if not ACCEPTED_FORMATS.match(fmt) and not (incoming and f.get("稿本") == "原件" and archival == "副本"):
            run.fail("GD-KY-3", ident, name, f"格式“{fmt}”不是归档格式")
        if not f.get("文档创建程序") and f.get("稿本") != "原稿":
            run.fail("GD-KY-3", ident, name, "未记录文档创建程序")
        with path.open("rb") as fh:
            head = fh.read(8)
        if fmt.upper().startswith("PDF") and not head.startswith(b"%PDF-"):
            run.fail("GD-ZS-3", ident, name, f"元数据格式为 {fmt}，文件不是 PDF")
        elif fmt.upper().startswith("DOCX"):
            run.add("GD-KY-2")
            try:
                with zipfile.ZipFile(path) as z:
                    if "word/document.xml" not in z.namelist():
                        run.fail("GD-KY-2", ident, name, "不是有效的 .docx（缺少 word/document.xml）")
                    if any(i.flag_bits & 0x1 for i in z.infolist()):
                        run.fail("GD-KY-4", ident, name, ".docx 中有加密的部件")
            except zipfile.BadZipFile:
                run.fail("GD-ZS-3", ident, name, f"元数据格式为 {fmt}，文件不是有效的 .docx")
        elif fmt.startswith("纯文本"):
            run.add("GD-KY-2")
            try:
                path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                run.fail("GD-KY-2", ident, name, "不是 UTF-8 文本")
        if f.get("稿本") == "正本" and not incoming:
            _check_pdf(run, ident, path, m, f, roots, missing_roots)
        elif incoming and f.get("稿本") == "处理笺":
            _check_pdf(run, ident, path, m, f, roots, missing_roots, part="处理笺")
        elif incoming and f.get("稿本") == archival and fmt.upper().startswith("PDF"):
            _check_pdf(run, ident, path, m, f, roots, missing_roots, part="来文")
    run.add("GD-AQ-2-1")
    extra = sorted(p.name for p in rec.path.iterdir() if p.name not in listed and p.name != METADATA)
    if extra:
        run.fail("GD-AQ-2-1", ident, "、".join(extra), "件内有未登记的文件")
    run.add("GD-AQ-3")
    writable = [p.name or "." for p in (rec.path, *rec.path.iterdir()) if p.stat().st_mode & 0o222]
    if writable:
        run.fail("GD-AQ-3", ident, "、".join(n if n != rec.path.name else "（文件夹）" for n in writable),
                 "已归档记录不是只读")
    return size_sum


def _check_register(run: _Run, config: Config, year: int, records: list[Record], ledger) -> None:
    from ..numbers import format_number

    received = [r for r in records if is_incoming(r.meta)]
    _check_incoming_register(run, year, received, ledger)
    records = [r for r in records if not is_incoming(r.meta)]
    docs = ledger.documents(year)
    filed = {r.reference for r in records}
    by_series: dict[str, list] = defaultdict(list)
    for d in docs:
        by_series[d.number.series].append(d)
    unused = []
    run.add("GD-WZ-2-4", len(docs))
    gaps_in = set()
    # The counter says which numbers were issued (the chain vouches for it, GD-WZ-5): a gap is a number
    # below it without a row. A row above it was never issued (check_numbers names it), and the
    # numbers between are no 漏号.
    counters = ledger.counters(year)
    for series in sorted(set(by_series) | (set(counters) & set(config.series))):
        seqs = {d.number.seq for d in by_series.get(series, ())}
        for s in range(1, counters.get(series, 1)):
            if s not in seqs:
                gaps_in.add(series)
                ref = format_number(config, series, year, s).reference
                run.fail("GD-WZ-2-4", ref, "发文登记簿", "漏号：登记簿中没有此号（既未归档，也未作废或预留）")
    for msg in ledger.check_numbers(year):
        if not any(msg.startswith(s + " ") for s in gaps_in):
            run.fail("GD-WZ-2-4", "发文登记簿", "", msg)
    for d in docs:
        ref = d.reference
        if d.stage == "voided":
            if not (d.void_reason or "").strip():
                run.fail("GD-WZ-2-4", ref, "发文登记簿", "已作废，但没有作废原因")
            if ref in filed:
                kept = f"（档号 {d.archive_code}）" if d.archive_code else ""
                run.fail("GD-WZ-2-4", ref, "发文登记簿", f"已作废（{d.void_reason}），档案中却仍有此文件{kept}")
        elif d.stage == "reserved":
            unused.append(ref)
            if ref in filed:
                run.fail("GD-WZ-2-4", ref, "发文登记簿", "登记为预留，档案中却有此文件")
        elif d.stage == "indexed":
            if ref not in filed:
                run.fail("GD-WZ-2-4", ref, "发文登记簿", "登记为已发，档案中没有此文件")
        else:
            run.fail("GD-WZ-2-4", ref, "发文登记簿", f"{d.status}：尚未办结")
    registered = {d.reference for d in docs}
    for r in records:
        if r.reference not in registered:
            run.fail("GD-WZ-2-4", r.meta.get("档号") or r.reference, "发文登记簿", "档案中有此文件，登记簿中没有")
    voided = sum(d.stage == "voided" for d in docs)
    run.note("GD-WZ-2-4", f"登记 {len(docs)} 个文号：已归档 {len(filed & registered)}，作废 {voided}，"
                          f"未用预留 {len(unused)}" + (f"（{'、'.join(unused)}）" if unused else ""))
    report = ledger.verify()
    run.add("GD-WZ-5", max(report.events, 1))
    if not report.ok:
        for b in report.breaks:
            run.fail("GD-WZ-5", "登记簿", "事件链" if b.table == "events" else b.table, b.message)
    else:
        run.note("GD-WZ-5", report.summary())
    # Handling records per document: the ledger's events and the metadata's 业务行为.
    events = defaultdict(set)
    for ev in ledger.events():
        if ev.reference:
            events[ev.reference].add(ev.event)
    for r in received + records:
        ident = _ident(r.meta, r.reference)
        run.add("GD-WZ-2-3")
        have = events.get(r.reference, set())
        archived = bool(r.meta.get("档号"))
        if is_incoming(r.meta):
            need = {code: EVENT_NAMES[code] for code in ("incoming_registered", "incoming_filed")}
            if archived:
                need["incoming_archived"] = f"{EVENT_NAMES['incoming_archived']}（档号）"
        else:
            need = {"filed": EVENT_NAMES["filed"]} | (
                {"archived": f"{EVENT_NAMES['archived']}（档号）"} if archived else {})
            if not ({"allocated", "reservation_used"} & have):
                need["allocated"] = EVENT_NAMES["allocated"]
        miss = [name for ev, name in sorted(need.items()) if ev not in have]
        if miss:
            run.fail("GD-WZ-2-3", ident, "事件记录", f"登记簿事件中缺少：{'、'.join(miss)}")
        acts = {e.get("业务行为") for e in r.meta.get("业务行为") or [] if isinstance(e, dict)}
        if not acts:
            run.fail("GD-WZ-2-3", ident, METADATA, "元数据中没有办理过程记录（业务行为）")
        elif archived and EVENT_NAMES["archived"] not in acts:
            run.fail("GD-WZ-2-3", ident, METADATA, f"已编档号，但业务行为中没有“{EVENT_NAMES['archived']}”")


def _check_incoming_register(run: _Run, year: int, received: list[Record], ledger) -> None:
    """Every 收文 record is a row of the 收文登记簿 and every row filed there has its record (its 漏号
    come with the ledger's check_numbers, as the 发文's do)."""
    from ..incoming.register import read_rows

    rows = {r.reference: r for r in read_rows(ledger, year)}
    filed = {r.reference for r in received}
    run.add("GD-WZ-2-4", len(rows))
    for r in received:
        if r.reference not in rows:
            run.fail("GD-WZ-2-4", r.meta.get("档号") or r.reference, "收文登记簿",
                     f"档案中有此收文（{r.reference}），收文登记簿中没有（未登记的收文）")
    for ref, row in rows.items():
        if row.stage in ("filed", "indexed") and ref not in filed:
            run.fail("GD-WZ-2-4", ref, "收文登记簿", "登记为已归档，档案中没有此收文")
        elif row.stage == "registered":
            run.fail("GD-WZ-2-4", ref, "收文登记簿", "已登记，尚未归档（再次收文即可续办）")
    if rows:
        done = sum(1 for r in rows.values() if not r.pending)
        run.note("GD-WZ-2-4", f"收文登记 {len(rows)} 件：已办结 {done}，未办结 {len(rows) - done}")


def _check_arrangement(run: _Run, config: Config, year: int, records: list[Record], disk_bytes: int,
                       anchors: dict) -> None:
    """档号 format, uniqueness, 件号 continuity, counts and bytes against the plan and the 目录; the
    plan and the 目录 against their anchor in the ledger, and row by row against the records."""
    from .arrange import PLAN_FILE, drift, load_plan, year_anchor
    from .catalogue import class_files

    codes: Counter[str] = Counter()
    by_class: dict[ClassKey, list[tuple[int, str]]] = defaultdict(list)
    for r in records:
        m = r.meta
        ident = _ident(m, r.reference)
        code = m.get("档号")
        run.add("GD-ZS-2-6")
        run.add("GD-WZ-4")
        if not code:
            run.fail("GD-WZ-4", r.reference, "", "尚未整理：没有档号（请先运行 gongwen archive）")
            continue
        codes[code] += 1
        if not ARCHIVE_CODE_RE.match(code):
            run.fail("GD-ZS-2-6", ident, METADATA, f"档号“{code}”不合 全宗号-WS·年度-保管期限-机构代码-件号 格式")
            continue
        key = class_of(m, config)
        try:
            item = int(str(m.get("件号")))
        except ValueError:
            run.fail("GD-ZS-2-6", ident, METADATA, f"件号“{m.get('件号')}”不是数字")
            continue
        expect = archive_code(config.organisation.fonds_code, key, item)
        if expect != code:
            run.fail("GD-ZS-2-6", ident, METADATA, f"档号与元数据（全宗号、年度、保管期限、机构、件号）不符，应为 {expect}")
        by_class[key].append((item, ident))
    run.add("GD-ZS-2-7", len(records))
    for code, n in codes.items():
        if n > 1:
            run.fail("GD-ZS-2-7", code, "", f"档号重复 {n} 次")
    for field_, label in (("文件编号", "文号"), ("电子文件号", "电子文件号")):
        seen = Counter(str(r.meta[field_]) for r in records if r.meta.get(field_))
        for v, n in seen.items():
            if n > 1:
                run.fail("GD-ZS-2-7", v, "", f"{label}重复 {n} 次")
    for key, items in by_class.items():
        run.add("GD-WZ-2-2", len(items))
        nums = Counter(i for i, _ in items)
        for i, n in nums.items():
            if n > 1:
                run.fail("GD-WZ-2-2", key.label, "", f"件号 {i:04d} 重复 {n} 次")
        top = max(nums)
        gaps = [i for i in range(1, top + 1) if i not in nums]
        if gaps:
            run.fail("GD-WZ-2-2", key.label, "", f"件号不连续，缺 {'、'.join(f'{g:04d}' for g in gaps[:20])}")
    # Against what was registered at arrangement: the plan's totals and the 目录 files.
    plan = None
    try:
        plan = load_plan(config, year)
    except ArchiveError as e:
        run.fail("GD-WZ-1-1", "整理方案", "", str(e))
    run.add("GD-WZ-1-1", len(records))
    run.add("GD-WZ-1-2", len(records))
    if plan is None:
        if not any(r.meta.get("档号") for r in records):
            run.fail("GD-WZ-1-1", f"{year} 年度", "", "尚未整理，没有归档文件目录可比对")
            run.fail("GD-WZ-1-2", f"{year} 年度", "", "尚未整理，没有归档登记的字节数可比对")
        else:
            run.fail("GD-WZ-1-1", f"{year} 年度", "整理方案", "整理方案文件缺失，无法比对")
        return
    planned = plan.by_reference()
    here = {r.reference for r in records}
    for ref in sorted(set(planned) - here):
        run.fail("GD-WZ-1-1", planned[ref][1].code, "", f"目录中有 {ref}，档案中没有（文件缺失）")
    for ref in sorted(here - set(planned)):
        run.fail("GD-WZ-1-1", ref, "", "档案中有此文件，目录中没有（整理后补入的文件请重新运行 gongwen archive）")
    total = plan.totals.get("件数")
    if total is not None and total != len(records):
        run.fail("GD-WZ-1-1", f"{year} 年度", "整理方案", f"归档登记 {total} 件，档案实有 {len(records)} 件")
    registered_bytes = plan.totals.get("总字节数")
    if registered_bytes is None:
        run.fail("GD-WZ-1-2", f"{year} 年度", "整理方案", "归档登记中没有总字节数")
    elif registered_bytes != disk_bytes:
        run.fail("GD-WZ-1-2", f"{year} 年度", "整理方案", f"归档登记 {registered_bytes} 字节，存储实有 {disk_bytes} 字节")
    else:
        run.note("GD-WZ-1-2", f"{disk_bytes} 字节")
    by_ref = {r.reference: r for r in records}
    for ref, (_, entry) in sorted(planned.items()):
        have = by_ref[ref].meta.get("档号") if ref in by_ref else None
        if have and have != entry.code:
            run.fail("GD-WZ-1-1", entry.code, PLAN_FILE, f"整理方案中 {ref} 的档号为 {entry.code}，该件元数据为 {have}")
    by_code = {str(r.meta["档号"]): r for r in records if r.meta.get("档号")}
    labels = {PLAN_FILE: f"{year} 年度"}
    for key, entries in plan.classes.items():
        files = class_files(config, year, key)
        labels.update({p.name: key.label for p in files.values()})
        run.add("GD-WZ-4")
        for kind, label in (("xlsx", "归档文件目录（xlsx）"), ("pdf", "归档文件目录（PDF）"), ("remarks", "备考表")):
            if not files[kind].is_file():
                run.fail("GD-WZ-4", key.label, files[kind].name, f"缺少{label}")
        if files["xlsx"].is_file():
            n = xlsx_rows(files["xlsx"])
            if n != len(entries):
                run.fail("GD-WZ-1-1", key.label, files["xlsx"].name, f"目录列 {n} 件，整理方案为 {len(entries)} 件")
            for message in catalogue_row_problems(files["xlsx"], by_code):
                run.fail("GD-WZ-1-1", key.label, files["xlsx"].name, message)
    run.note("GD-WZ-1-1", f"{len(records)} 件，与整理方案及目录逐件比对")
    # The plan and the 目录 as the ledger anchored them at the last `gongwen archive` (a missing one
    # is named above).
    latest = year_anchor(anchors, year)
    if latest is None:
        run.fail("GD-WZ-4", f"{year} 年度", PLAN_FILE, f"{year} 年度的整理方案与目录未锚定（运行 gongwen archive 补记）")
        return
    for name, why in sorted(drift(config, plan, latest).items()):
        where = labels.get(name, f"{year} 年度")
        if why == "unanchored":
            run.fail("GD-WZ-4", where, name, f"{name} 未锚定（运行 gongwen archive 补记）")
        else:
            run.fail("GD-WZ-4", where, name, f"{name} 与登记簿锚定的摘要不符（被改动；锚定于事件 #{latest.event_id}）；"
                                             "重新运行 gongwen archive 可按档案重写")


def catalogue_row_problems(path: Path, by_code: dict[str, Record]) -> list[str]:
    """Each 件 row of a 目录 workbook against the metadata of the 件 its 档号 names."""
    from openpyxl import load_workbook

    from .catalogue import COLUMNS, ROW_FIELDS, row_values

    heads = [name for name, _ in COLUMNS]
    try:
        wb = load_workbook(path, read_only=True)
        rows = [r for r in wb["目录"].iter_rows(min_row=4, values_only=True) if r and r[1]]
        wb.close()
    except Exception as e:  # an unreadable workbook is one problem, named
        return [f"目录无法读取：{type(e).__name__}: {e}"]
    out = []
    codes = []
    for i, row in enumerate(rows, 1):
        code = str(row[heads.index("档号")])
        codes.append(code)
        rec = by_code.get(code)
        if rec is None:
            out.append(f"目录第 {i} 行的档号“{code}”不是任何一件的档号")
            continue
        want = row_values(rec.meta)
        for label, key in ROW_FIELDS:
            got = row[heads.index(label)]
            got, expect = ("" if got is None else str(got)), str(want[key])
            if got != expect:
                out.append(f"目录第 {i} 行（{code}）的{label}“{got}”与该件元数据的“{expect}”不符")
    if codes != sorted(codes):
        out.append("目录各行不是按档号顺序排列")
    return out


def xlsx_rows(path: Path) -> int:
    """件 rows of a 归档文件目录 workbook (its 目录 sheet, rows with a 档号); -1 when it cannot be read."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True)
        ws = wb["目录"]
        n = sum(1 for row in ws.iter_rows(min_row=4, values_only=True) if row and row[1])
        wb.close()
        return n
    except Exception:
        return -1


def check_year(config: Config, year: int, *, ledger, actor: str = "", progress: Progress | None = None,
               strict: bool = False, scan: bool = True) -> CheckReport:
    """The 四性检测 of ``year`` at the 归档 stage."""
    started = now_iso()
    run = _Run()
    records, broken = load_year(config, year)
    run.add("GD-KY-1", len(records) + len(broken))
    for folder, why in broken:
        run.fail("GD-KY-1", folder.name, METADATA, f"元数据无法读取：{why}")
    roots, missing_roots = trust_roots(config)
    n_files = disk = 0
    store = ArchiveStore(config)
    anchors = ledger.anchors()
    docs = {d.reference: d for d in ledger.documents(year)}
    for i, rec in enumerate(records):
        if progress:
            progress(i, len(records), rec.meta.get("档号") or rec.reference)
        ident = _ident(rec.meta, rec.reference)
        try:
            _check_metadata(run, ident, rec, config)
            disk += _check_files(run, ident, rec, roots, missing_roots, anchors.get(rec.reference, []))
        except (OSError, GongwenError, ValueError, KeyError, TypeError) as e:
            run.fail("GD-KY-1", ident, "", f"检测时出错：{type(e).__name__}: {e}")
        n_files += len(rec.meta.get("电子文件") or [])
        run.add("GD-ZS-4")
        expect = store.root / str(rec.meta.get("年度")) / str(rec.meta.get("机关代字")) / str(rec.meta.get("文件编号"))
        if rec.path.resolve() != expect.resolve():
            run.fail("GD-ZS-4", ident, "", f"存储位置 {rec.path} 与元数据所示位置 {expect} 不符")
        text = rec.text()
        if norm(rec.meta.get("题名")) and norm(rec.meta.get("题名")) not in norm(text):
            run.fail("GD-ZS-4", ident, TEXT, "全文中没有题名（元数据与内容不对应）")
        if rec.reference in docs:       # a record missing from the register is GD-WZ-2-4's
            for message in register_problems(rec.meta, docs[rec.reference]):
                run.fail("GD-ZS-4", ident, METADATA, message)
    run.add("GD-AQ-2-1")
    for path in stray_files(config, year):
        run.fail("GD-AQ-2-1", f"{year} 年度", str(path.relative_to(config.archive_dir)),
                 "不在任何一件的文件夹内（非归档文件）")
    if progress:
        progress(len(records), len(records), "登记簿")
    _check_register(run, config, year, records, ledger)
    _check_arrangement(run, config, year, records, disk, anchors)
    from ..supervise.yearend import check_year as check_supervision

    supervised, fails = check_supervision(ledger, config, year)   # the 督查督办台账 and 办结材料
    if supervised:
        run.add("GD-WZ-4")
        for ident, file, message in fails:
            run.fail("GD-WZ-4", ident, file, message)
    leftovers = [p for p in ArchiveStore(config).leftovers() if p.parent.parent.name == str(year)]
    for p in leftovers:
        run.fail("GD-AQ-3", p.parent.name, p.name, "中断归档遗留的临时文件夹")
    items = []
    if not records and not broken:
        items.append(CheckItem("GD-0", "检测对象", ITEM["GD-0"][1], False, 0,
                               (Failure(f"{year} 年度", "", "档案中没有任何文件：没有可检测的对象，不能判定为通过"),)))
        items += [not_run(c, p, n, "没有检测对象") for c, p, n in ITEMS[1:] if c not in ("GD-WZ-2-4", "GD-WZ-5")]
        items += [run.item("GD-WZ-2-4", unit="个文号"), run.item("GD-WZ-5", unit="条事件")]
        order = {c: i for i, (c, _, _) in enumerate(ITEMS)}
        items.sort(key=lambda it: order[it.code])
    else:
        items.append(CheckItem("GD-0", "检测对象", ITEM["GD-0"][1], True, len(records) + len(broken), (),
                               f"{len(records) + len(broken)} 件，{n_files} 个电子文件"))
        for code, _, _ in ITEMS[1:]:
            if code == "GD-AQ-1":
                continue
            unit = {"GD-ZS-1-1": "个文件", "GD-ZS-3": "个文件", "GD-KY-3": "个文件", "GD-WZ-2-4": "个文号",
                    "GD-WZ-5": "条事件"}.get(code, "件")
            # 附件: only documents with attachments are counted; none in a year is not a failure.
            if code == "GD-WZ-3-2" and run.acc[code].checked == 0:
                items.append(CheckItem(code, *ITEM[code], True, 0, (), "本年度没有带附件的文件"))
                continue
            items.append(run.item(code, unit=unit))
        if scan:
            ok, infected, note = virus_scan([config.archive_dir / str(year)])
            prop, name = ITEM["GD-AQ-1"]
            item = CheckItem("GD-AQ-1", prop, name, ok, len(records) if ok is not None else 0, tuple(infected), note)
        else:
            item = not_run("GD-AQ-1", *ITEM["GD-AQ-1"], "本次检测未要求病毒检测")
        order = {c: i for i, (c, _, _) in enumerate(ITEMS)}
        items.append(item)
        items.sort(key=lambda it: order[it.code])
    return CheckReport(stage="归档", subject=f"{config.organisation.name} {year} 年度", year=year, started=started,
                       finished=now_iso(), actor=actor, items=tuple(items),
                       counts={"全宗号": config.organisation.fonds_code, "全宗名称": config.organisation.name,
                               "件数": len(records) + len(broken), "文件数": n_files, "总字节数": disk,
                               **supervised}, strict=strict)
