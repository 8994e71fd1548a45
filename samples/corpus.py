"""The corpus of real 政府工作报告 text in ../shared/data/corpus, cut two ways: into paragraph sections
with made-up 文号 for the search index (and the graded judgements of tests/fixtures/search_relevance.json
with nDCG@10 over them), and into chapter drafts for rendering."""
from __future__ import annotations

import datetime as dt
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from samples.instance import REPO

CORPUS = REPO.parent / "shared" / "data" / "corpus" / "government_work_reports.jsonl"
SERIES = (("珠政发", ("通知", "意见", "决定", "报告")), ("珠政办发", ("通知", "通报", "意见")),
          ("珠政函", ("函", "批复")))
_HEADING = re.compile(r"^[一二三四五六七八九十]+、")


@dataclass(frozen=True)
class Section:
    report: str        # the report's title
    heading: str       # the 一、 heading it sits under ("" before the first)
    text: str          # one paragraph
    year: int


def _year_of(rec: dict, previous: int) -> int:
    for s in (str(rec.get("year") or ""), rec.get("title", ""), rec.get("content", "")[:400]):
        m = re.search(r"(19[5-9]\d|20[0-4]\d)", s)
        if m:
            return int(m.group(1))
    return previous


def report_sections(path: Path = CORPUS, min_chars: int = 20) -> list[Section]:
    """The corpus split into paragraphs (blank-line separated), each remembering its report and
    the 一、 heading above it; headings themselves and very short lines are not sections."""
    out: list[Section] = []
    year = 1954
    with open(path, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            year = _year_of(rec, year)
            heading = ""
            for para in re.split(r"\n\s*\n", rec["content"]):
                para = para.strip()
                if not para:
                    continue
                if _HEADING.match(para) and len(para) < 60:
                    heading = para
                    continue
                if len(para) >= min_chars:
                    out.append(Section(rec["title"], heading, para, year))
    return out


def section_docs(sections: list[Section], n: int | None = None, *, start_seq: int = 0):
    """IndexDocs for ``n`` sections (cycling through the list with distinct ids): a made-up 文号 per
    section in a series chosen round-robin, its 文种 from that series, a date in the report's year."""
    from pipeline.search import IndexDoc

    n = len(sections) if n is None else n
    seqs: dict[tuple[str, int], int] = {}
    for i in range(n):
        s = sections[i % len(sections)]
        series, kinds = SERIES[i % len(SERIES)]
        key = (series, s.year)
        seqs[key] = seqs.get(key, start_seq) + 1
        seq = seqs[key]
        ref = f"{series}〔{s.year}〕{seq}号"
        title = f"{s.report} {s.heading}".strip()
        yield IndexDoc(id=ref, number=ref, archive_code=None, title=title, body=s.text, year=s.year,
                       series=series, kind=kinds[i % len(kinds)],
                       date=dt.date(s.year, 1, 1) + dt.timedelta(days=seq % 365))


# --- relevance: nDCG@10 on graded judgements ----------------------------------------------------

JUDGEMENTS = REPO / "tests" / "fixtures" / "search_relevance.json"


def judgements() -> dict[str, dict[tuple[str, str], int]]:
    """{query: {(report title, first 24 characters of the section): grade 0–3}}."""
    data = json.loads(JUDGEMENTS.read_text(encoding="utf-8"))
    return {q: {(report, starts): grade for grade, report, starts in js} for q, js in data["queries"].items()}


def section_keys(sections: list[Section], docs) -> dict[str, tuple[str, str]]:
    """{document id: the key the judgements use} for ``section_docs(sections)``."""
    return {d.id: (s.report, s.text[:24]) for s, d in zip(sections, docs)}


def ndcg_at_10(ranked: list[tuple[str, str]], grades: dict[tuple[str, str], int]) -> float:
    """nDCG@10 with gains 2^grade − 1; sections nobody judged count as 0."""
    def dcg(gs):
        return sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(gs[:10]))

    ideal = dcg(sorted(grades.values(), reverse=True))
    return dcg([grades.get(k, 0) for k in ranked]) / ideal if ideal else 0.0


def relevance(ix, keys: dict[str, tuple[str, str]]) -> dict[str, float]:
    """nDCG@10 per judged query for an open index holding ``section_docs(report_sections())``."""
    return {q: ndcg_at_10([keys[h.id] for h in ix.search(q, limit=10, snippets=False).hits], grades)
            for q, grades in judgements().items()}


# --- chapters as drafts to render ------------------------------------------------------------------

_H1 = re.compile(r"^[一二三四五六七八九十]+、")
_H2 = re.compile(r"^（[一二三四五六七八九十]+）")
_H3 = re.compile(r"^\d+[.．]")


def _blocks(lines: list[str]):
    from pipeline.model import Block

    out = []
    for ln in lines:
        kind = ("heading1" if _H1.match(ln) else "heading2" if _H2.match(ln) and len(ln) < 40
                else "heading3" if _H3.match(ln) and len(ln) < 40 else "paragraph")
        out.append(Block(kind, ln))
    return tuple(out)


def chapters(limit_chars: int = 3500) -> list[tuple[str, list[str]]]:
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


def chapter_drafts(n: int):
    """``n`` drafts cycling through the four templates."""
    from pipeline.model import Attachment, Draft, Meeting, Number

    secs = chapters()
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
