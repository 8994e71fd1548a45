"""Year-end at scale: `gongwen archive`, `check`, `handover` and `check --package` on 1,000 documents
(--quick: 60), each step run as the real command in its own process: wall time and peak RSS.

The year is synthetic, not made by the draft pipeline (that would take ~20 minutes of LibreOffice):
each document is a small .docx (python-docx: 版头 line, 发文字号, title, body, 署名, date, and for every
fourth an attachment page) converted to PDF/A-2b by the project's Converter, signed (PAdES, invisible)
with the demo certificate, registered in the ledger (allocate → … → indexed) and filed through
ArchiveStore with record_metadata — the same record shape the pipeline writes. Four series, all three
保管期限. The filed year is cached under $TMPDIR/gongwen-bench-yearend-<N>-anchored/source and copied for each
run, so only the first run pays for making it.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
YEAR = 2015
SERIES = (("珠政发", "通知"), ("珠政发", "意见"), ("珠政办发", "通知"), ("珠政办发", "通报"), ("珠政函", "函"),
          ("常务会议纪要", "纪要"), ("珠政发", "请示"), ("珠政办发", "报告"))
SUBJECTS = ("做好春季森林防火工作", "加强城区环境卫生整治", "开展安全生产大检查", "做好防汛抗旱工作",
            "推进政务公开工作", "加强食品安全监管", "开展全民健身活动", "做好征兵工作", "加强地质灾害防治",
            "规范公务接待管理", "推进农村危房改造", "加强校园周边治安管理", "开展节能宣传周活动")


def _instance(root: Path) -> Path:
    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw.setdefault("paths", {})
    raw["paths"]["templates"] = str(REPO / "templates")
    raw["paths"]["fonts"] = str(REPO / "fonts")
    root.mkdir(parents=True, exist_ok=True)
    cfg = root / "config.yaml"
    cfg.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return cfg


def _docx(path: Path, header: str, number: str, title: str, main_to: str, paras: list[str], signature: str,
          date_text: str, attachment: str | None) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    from pipeline import layout

    doc = Document()

    def para(text, font=layout.FONT_FANGSONG, size=16, align=None, red=False):
        p = doc.add_paragraph()
        r = p.add_run(text)
        r.font.size = Pt(size)
        r._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
        if red:
            r.font.color.rgb = RGBColor(0xFF, 0, 0)
        if align is not None:
            p.alignment = align
        return p

    centre, right = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    para(header, layout.FONT_XIAOBIAOSONG, 36, centre, red=True)
    para(number, align=centre)
    para(title, layout.FONT_XIAOBIAOSONG, 22, centre)
    para(f"{main_to}：")
    for t in paras:
        para(t)
    if attachment:
        para(f"附件：{attachment}")
    para(signature, align=right)
    para(date_text, align=right)
    if attachment:
        para("").add_run().add_break(WD_BREAK.PAGE)
        para("附件", layout.FONT_HEITI)
        para(attachment, layout.FONT_XIAOBIAOSONG, 22, centre)
        para(f"一、{attachment}的主要内容和工作要求。")
    doc.save(path)


def make_year(root: Path, n: int) -> Path:
    """File ``n`` synthetic documents of YEAR into a fresh instance at ``root``; returns its config."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from pipeline.archive import ArchiveStore, StoredFile, draft_text, record_anchor, record_metadata
    from pipeline.config import load
    from pipeline.convert import Converter
    from pipeline.ledger import Ledger
    from pipeline.model import Attachment, Block, Draft, cn_date
    from pipeline.pdfcheck import inspect_pdf
    from pipeline.sign import init_demo_pki, load_office_key, office_signer

    cfg_path = _instance(root)
    config = load(cfg_path)
    init_demo_pki(config)
    work = root / "make"
    work.mkdir()
    drafts, pairs = [], []
    for i in range(n):
        series, kind = SERIES[i % len(SERIES)]
        s = config.series[series]
        subject = f"{SUBJECTS[i % len(SUBJECTS)]}（第{i // len(SUBJECTS) + 1}批）"
        title = f"{s.issuer}关于{subject}的{kind}" if kind != "纪要" else f"区政府第{i + 1}次常务会议纪要"
        date = dt.date(YEAR, 1, 2) + dt.timedelta(days=(i * 7) % 360)
        attachment = f"{subject}任务分工表" if i % 4 == 0 and kind != "纪要" else None
        body = [f"为{subject}，根据上级有关部署，结合我区实际，现就有关事项明确如下。",
                f"一、各单位要切实加强组织领导，明确工作责任，确保第{i + 1}项任务落到实处。",
                "二、区政府办公室将适时组织督查，对工作不力的单位予以通报。"]
        draft = Draft(source=str(work / f"{i:04d}.md"), source_format="markdown", kind=kind, series=series,
                      issuer=s.issuer, title=title, main_to="各镇人民政府、街道办事处，区政府各部门",
                      body=tuple(Block("paragraph", t) for t in body),
                      attachments=(Attachment(attachment, None, (Block("paragraph", "主要内容"),)),) if attachment else (),
                      attachment_note=(f"附件：{attachment}",) if attachment else (),
                      signature=s.issuer, date_text=cn_date(date), date=date,
                      signers=("陈礼洋",) if kind in ("请示", "报告") else ())
        Path(draft.source).write_text(f"# {title}\n\n" + "\n\n".join(body) + "\n", encoding="utf-8")
        drafts.append(draft)
    ledger = Ledger.open(config)
    store = ArchiveStore(config)
    office = load_office_key(config)
    signer = office_signer(office)
    numbers = []
    for i, d in enumerate(drafts):
        alloc = ledger.allocate(d, actor="bench")
        numbers.append(alloc)
        docx = work / f"{i:04d}.docx"
        _docx(docx, config.series[d.series].header, alloc.number.text, d.title, d.main_to,
              [b.text for b in d.body], d.signature, d.date_text, d.attachments[0].name if d.attachments else None)
        pairs.append((docx, work / f"{i:04d}-unsigned.pdf"))
    with Converter(config, workdir=root / "lo") as conv:
        results = conv.convert_many(pairs)
    bad = [r for r in results if not isinstance(r, Path)]
    if bad:
        raise RuntimeError(f"conversion failed: {bad[0]}")
    for i, (d, alloc) in enumerate(zip(drafts, numbers)):
        unsigned, signed = pairs[i][1], work / f"{i:04d}.pdf"
        for stage in ("rendered", "converted"):
            ledger.advance(alloc.doc_id, stage, actor="bench")
        writer = IncrementalPdfFileWriter(io.BytesIO(unsigned.read_bytes()), strict=False)
        meta = signers.PdfSignatureMetadata(field_name="Signature1", md_algorithm="sha256",
                                            subfilter=fields.SigSeedSubFilter.PADES, reason="发文用印",
                                            name=config.series[d.series].issuer)
        out = io.BytesIO()
        signers.PdfSigner(meta, signer, new_field_spec=fields.SigFieldSpec("Signature1")).sign_pdf(writer, output=out)
        signed.write_bytes(out.getvalue())
        ledger.advance(alloc.doc_id, "stamped", actor="bench")
        facts = inspect_pdf(signed)
        events = [{"业务行为": e.event, "行为时间": e.time, "机构人员名称": e.actor, "行为描述": {}}
                  for e in ledger.events(alloc.number.reference)]
        sig = {"签名规则": "PAdES（ETSI EN 319 142），CMS 分离式签名", "签名时间": None, "签名人": d.signature,
               "签名结果": "有效", "签名算法标识": "SHA-256"}
        metadata = record_metadata(number=alloc.number, draft=d, config=config, pages=facts.pages,
                                   signature=sig, events=events)
        files = [StoredFile(signed, "正本", "正本.pdf", f"PDF/A-{facts.pdfa[0]}{facts.pdfa[1:].lower()}", "LibreOffice"),
                 StoredFile(pairs[i][0], "定稿", "定稿.docx", "DOCX (Office Open XML)", "python-docx"),
                 StoredFile(Path(d.source), "原稿", "原稿.md")]
        rec = store.file(number=alloc.number, draft=d, files=files, metadata=metadata, text=draft_text(d))
        # anchored at filing, as the pipeline does (archive.py "Anchoring")
        ledger.advance(alloc.doc_id, "filed", actor="bench", detail={"anchor": record_anchor(rec.path)})
        ledger.advance(alloc.doc_id, "indexed", actor="bench")
    ledger.close()
    shutil.rmtree(work)
    return cfg_path


def _step(cmd: list[str], cwd: Path) -> tuple[float, float, float, int]:
    """Run one gongwen command as a child: (seconds, its peak RSS MiB, peak RSS MiB of its own
    children — LibreOffice — sampled every 0.2 s, exit status)."""
    import threading

    import psutil

    env = {**os.environ, "GONGWEN_ACTOR": "档案员", "COLUMNS": "120"}
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", *cmd], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak_children = [0]
    done = threading.Event()

    def sample():
        try:
            me = psutil.Process(proc.pid)
            while not done.wait(0.2):
                total = 0
                for c in me.children(recursive=True):
                    try:
                        total += c.memory_info().rss
                    except psutil.Error:
                        pass
                peak_children[0] = max(peak_children[0], total)
        except psutil.Error:
            pass

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    th.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t, usage.ru_maxrss / 1024, peak_children[0] / 2**20, proc.returncode


def source_year(n: int) -> tuple[Path, float | None]:
    """The cached filed year of ``n`` documents (made first if absent): (its instance folder, seconds
    it took to make now, or None when it was cached)."""
    # "-anchored": a year made before records were anchored at filing is not reused
    cache = Path(tempfile.gettempdir()) / f"gongwen-bench-yearend-{n}-anchored"
    if (cache / "source" / ".complete").is_file():
        return cache / "source", None
    shutil.rmtree(cache, ignore_errors=True)
    t = time.perf_counter()
    # In a child process: Linux carries a parent's peak RSS into a forked child's ru_maxrss, so the
    # steps below must be started from a small process.
    subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from bench.bench_yearend "
                    f"import make_year; make_year(Path(sys.argv[1]), {n})", str(cache / "source")],
                   cwd=REPO, check=True)
    (cache / "source" / ".complete").write_text("ok\n")
    return cache / "source", time.perf_counter() - t


def run(args) -> list[tuple[str, list[str], list[tuple]]]:
    n = 60 if args.quick else 1000
    source, made = source_year(n)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-yearend-") as tmp:
        inst = Path(tmp) / "instance"
        shutil.copytree(source, inst, symlinks=True)
        cfg = str(inst / "config.yaml")
        pkg = Path(tmp) / "package"
        steps = [("archive（件号/档号/归档章/目录）", ["--config", cfg, "archive", str(YEAR)]),
                 ("archive again (no change)", ["--config", cfg, "archive", str(YEAR)]),
                 ("check（四性检测）", ["--config", cfg, "check", str(YEAR), "--json"]),
                 ("handover（check + package）", ["--config", cfg, "handover", str(YEAR), "--to", str(pkg)]),
                 ("check --package（receiving side）", ["--config", cfg, "check", "--package", str(pkg), "--json"])]
        for name, cmd in steps:
            secs, rss, lo, rc = _step(cmd, Path(tmp))
            rows.append((name, f"{secs:.1f}", f"{secs / n * 1000:.0f}", f"{rss:.0f}", f"{lo:.0f}" if lo else "—", rc))
        size = sum(p.stat().st_size for p in pkg.rglob("*") if p.is_file()) if pkg.exists() else 0
    title = (f"year-end on {n} synthetic documents (python-docx → LibreOffice PDF/A-2b → PAdES, filed via "
             f"ArchiveStore; not the draft pipeline); package {size / 1e6:.0f} MB"
             + (f"; making the year took {made:.0f} s (cached for later runs)" if made else ""))
    return [(title, ["step", "seconds", "ms / document", "peak RSS MiB (gongwen)", "peak RSS MiB (LibreOffice)",
                     "exit"], rows)]
