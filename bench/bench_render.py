"""Drafts rendered per second: .docx only (docxtpl + checks + fitting), and with the PDF from
LibreOffice (the persistent converter, and one batched `soffice --convert-to`). 200 drafts built
from the State Council work reports in ../shared/data/corpus, split into sections (args.quick: 20)."""
from __future__ import annotations

import datetime as dt
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "data" / "corpus" / "government_work_reports.jsonl"

_H1 = re.compile(r"^[一二三四五六七八九十]+、")
_H2 = re.compile(r"^（[一二三四五六七八九十]+）")
_H3 = re.compile(r"^\d+[.．]")


def _config(base: Path):
    from pipeline.config import Config

    raw = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
    raw.setdefault("paths", {}).update(templates=str(REPO / "templates"), fonts=str(REPO / "fonts"))
    raw["converter"] = {"timeout_s": 180}
    return Config.model_validate({**raw, "base": base})


def _blocks(lines: list[str]):
    from pipeline.model import Block

    out = []
    for ln in lines:
        kind = ("heading1" if _H1.match(ln) else "heading2" if _H2.match(ln) and len(ln) < 40
                else "heading3" if _H3.match(ln) and len(ln) < 40 else "paragraph")
        out.append(Block(kind, ln))
    return tuple(out)


def sections(limit_chars: int = 3500) -> list[tuple[str, list[str]]]:
    """(heading, paragraphs) for each 一、 section of each report, capped at ~limit_chars so that a
    draft is a few pages, like a real 公文."""
    out = []
    with open(CORPUS, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            paras = [p.strip() for p in rec["content"].splitlines() if p.strip()]
            current: tuple[str, list[str]] | None = None
            for p in paras:
                if _H1.match(p) and len(p) < 40:
                    if current and current[1]:
                        out.append(current)
                    current = (_H1.sub("", p), [])
                elif current is not None and sum(map(len, current[1])) < limit_chars:
                    current[1].append(p)
            if current and current[1]:
                out.append(current)
    return out


def drafts(n: int):
    """``n`` drafts cycling through the four templates."""
    from pipeline.model import Attachment, Draft, Meeting, Number

    secs = sections()
    made = []
    for i in range(n):
        heading, paras = secs[i % len(secs)]
        title = f"珠晖区人民政府关于{heading[:24]}的通知"
        body = _blocks(paras)
        kind = i % 4
        common = dict(source=f"bench-{i}.yaml", source_format="yaml", title=title, body=body,
                      date=dt.date(2015, 3, 1 + i % 28), date_text=f"2015年3月{1 + i % 28}日",
                      cc="区委办公室，区人大办公室，区政协办公室")
        if kind == 0:
            d = Draft(kind="通知", series="珠政发", main_to="各镇人民政府，各街道办事处，区直各单位",
                      attachments=(Attachment(f"{heading[:20]}任务分解表", 1, blocks=body[:3]),
                                   Attachment("联系人名单", 2)), **common)
            num = Number("珠政发", 2015, i + 1, f"珠政发〔2015〕{i + 1}号", f"珠政发〔2015〕{i + 1}号")
        elif kind == 1:
            d = Draft(kind="请示", series="珠政发", main_to="衡阳市人民政府", signers=("张三",),
                      **{**common, "title": title.replace("通知", "请示")})
            num = Number("珠政发", 2015, i + 1, f"珠政发〔2015〕{i + 1}号", f"珠政发〔2015〕{i + 1}号")
        elif kind == 2:
            d = Draft(kind="函", series="珠政函", main_to="衡阳市发展和改革委员会",
                      **{**common, "title": title.replace("通知", "函")})
            num = Number("珠政函", 2015, i + 1, f"珠政函〔2015〕{i + 1}号", f"珠政函〔2015〕{i + 1}号")
        else:
            d = Draft(kind="纪要", series="常务会议纪要",
                      meeting=Meeting(present=("张三", "李四", "王五"), absent=("赵六",)),
                      **{**common, "title": None})
            num = Number("常务会议纪要", 2015, i + 1, f"〔2015〕{i + 1}号", f"常务会议纪要〔2015〕{i + 1}号")
        made.append((d, num))
    return made


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:.1f}" if seconds > 0 else "—"


def run(args) -> list[tuple[str, list[str], list[list]]]:
    from pipeline import render
    from pipeline.convert import Converter, find_soffice, lo_env, soffice_batch

    if not CORPUS.is_file():
        return [("render", ["note"], [[f"corpus not available: {CORPUS} (clone ../shared beside the repository)"]])]
    n = 20 if getattr(args, "quick", False) else 200
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        tmp = Path(tmp)
        config = _config(tmp)
        items = drafts(n)
        chars = sum(len(b.text) for d, _ in items for b in d.body)
        times, outs = [], []
        t0 = time.perf_counter()
        for i, (d, num) in enumerate(items):
            t = time.perf_counter()
            outs.append(render.render_document(d, num, config, tmp / "docx" / f"d{i:03d}.docx"))
            times.append(time.perf_counter() - t)
        docx_total = time.perf_counter() - t0
        ms = sorted(x * 1000 for x in times)
        rows.append([".docx only (docxtpl + checks)", n, f"{docx_total:.1f}", _rate(n, docx_total),
                     f"{statistics.median(ms):.0f}", f"{ms[int(0.95 * (len(ms) - 1))]:.0f}"])

        # With the PDF: the pipeline's persistent converter (one LibreOffice, one document at a time).
        pdf_dir = tmp / "pdf"
        pdf_dir.mkdir()
        with Converter(config, tmp / "conv") as conv:
            t = time.perf_counter()
            conv.start()
            startup = time.perf_counter() - t
            t0 = time.perf_counter()
            conv_times = []
            for i, docx in enumerate(outs):
                t = time.perf_counter()
                conv.convert(docx, pdf_dir / f"u{i:03d}.pdf")
                conv_times.append(time.perf_counter() - t)
            conv_total = time.perf_counter() - t0
            mode = conv.mode
        both = docx_total + conv_total
        cms = sorted(x * 1000 for x in conv_times)
        rows.append([f"+ PDF, persistent converter ({mode}; start {startup:.1f} s not counted)", n,
                     f"{both:.1f}", _rate(n, both),
                     f"{statistics.median(ms) + statistics.median(cms):.0f}",
                     f"{ms[int(0.95 * (len(ms) - 1))] + cms[int(0.95 * (len(cms) - 1))]:.0f}"])

        # With the PDF: one batched soffice --convert-to over every document (cold start included).
        exe = find_soffice()
        if exe is not None:
            home, ltmp, out = tmp / "home", tmp / "lotmp", tmp / "batch"
            for p in (home, ltmp, out):
                p.mkdir()
            t0 = time.perf_counter()
            soffice_batch(exe, outs, out, tmp / "profile", lo_env(config, home, ltmp), 1800)
            batch = time.perf_counter() - t0
            made = len(list(out.glob("*.pdf")))
            rows.append([f"+ PDF, one soffice batch ({made} PDFs)", n, f"{docx_total + batch:.1f}",
                         _rate(n, docx_total + batch), "—", "—"])
    title = f"render: {n} drafts from the work reports ({chars // n} body characters each on average)"
    return [(title, ["path", "drafts", "seconds", "drafts/s", "median ms", "p95 ms"], rows)]
