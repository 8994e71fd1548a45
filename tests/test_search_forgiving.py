"""Search forgives what clerks paste and type, on both engines: Chinese quotes and full-width
brackets in a query are text, an unpaired quote or bracket is text, traditional characters, the
three zeros, dash variants, spaced-out names and wrapped lines are folded.

Every expected hit set is a substring scan of the normalised text of the documents below (never a
hard-coded list), and each scan is checked to be neither empty nor everything, so a test can fail.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest

from pipeline.search import IndexDoc, open_index
from pipeline.search import text as T
from tests.support.search import make_config

ENGINES = ["whoosh", "tantivy"]
D = dt.date


def doc(n: int, title: str, body: str) -> IndexDoc:
    ref = f"珠政发〔2016〕{n}号"
    return IndexDoc(id=ref, number=ref, archive_code=None, title=title, body=body, year=2016,
                    series="珠政发", kind="通知", date=D(2016, 1, n))


# Written for these tests in the style of the 政府工作报告 and of documents a 收文 brings in.
DOCS = [
    doc(1, "关于加强机关党建工作的意见",
        "（一）巩固和发展安定团结的政治局面。（二）加强机关党的建设（机关党委负责）。（四）严肃纪律。"),
    doc(2, "关于总结历史经验的报告",
        "在“文化大革命”时期，国民经济遭受严重损失。粉碎“四人帮”以后，对“四人帮”的揭批深入开展。"),
    doc(3, "关于农业生产的通知", "(一)巩固农业基础地位。(1)稳定粮食生产。(2)增加农民收入。"),
    doc(4, "关于经济工作的报告",
        "一、巩固经济发展成果。一九七○年以来，工业生产——特别是钢铁生产——稳步增长。"),
    doc(5, "关于落实各项措施的通知", "第（１）项：完善制度。第（四）项：加强检查。四项工作同步推进。"),
    doc(6, "關於加強經濟建設的報告", "加強經濟建設，堅持中國共產黨的領導，發展社會主義市場經濟。"),
    doc(7, "关于经济建设的意见", "经济建设是中心，坚持社会主义道路，二〇一五年以来共产党员带头。"),
    doc(8, "关于年度计划的报告", "二零一五年计划完成，一九七〇年的基数较低。坚持――发展，坚持——改革。"),
    doc(9, "关于表彰先进的通报",
        "受到习　近　平同志的接见。为推进农业面源污染\n防治工作，各镇要落实责任。\n"
        "加强组织领导。\n防治任务分解到村。"),
    doc(10, "关于工作安排的通知", "一、总体要求\n防汛工作要提前部署。（一）巩固"
        "提高\n成果：各单位要认真执行。"),
]
ALL = {d.id for d in DOCS}


def scan(q: str) -> set[str]:
    """Documents whose normalised title, body or 文号 holds the normalised query, ASCII words whole
    (the index's contract: PDF finds PDF/A, PD does not)."""
    needle = T.normalize(q)
    rx = re.compile((r"(?<![0-9a-z])" if re.match(r"[0-9a-z]", needle) else "") + re.escape(needle)
                    + (r"(?![0-9a-z])" if re.search(r"[0-9a-z]$", needle) else ""))
    return {d.id for d in DOCS if any(rx.search(T.normalize(f)) for f in (d.title, d.body, d.id))}


@pytest.fixture(scope="module", params=ENGINES)
def index(request, tmp_path_factory):
    cfg = make_config(tmp_path_factory.mktemp(f"forgiving-{request.param}"), request.param)
    ix = open_index(cfg, request.param)
    ix.add(DOCS)
    yield ix
    ix.close()


def found(ix, q: str) -> set[str]:
    return {h.id for h in ix.search(q, limit=None).hits}


# --- pasted text: quotes and brackets are text ---------------------------------------------------

@pytest.mark.parametrize("query", ["革命”时", "对“四人帮”", "（一）巩固", "四）", "（机关党", "（１）", "（一）",
                                   # the same typed with ASCII brackets or quotes, not as syntax
                                   "(一)", "(1)", "(一)巩固", "四)", "“四人帮”"])
def test_pasted_quotes_and_brackets_are_text(index, query):
    want = scan(query)
    assert want and want != ALL, f"scan of {query!r} proves nothing: {want}"
    assert found(index, query) == want


def test_full_width_and_ascii_brackets_find_the_same(index):
    assert found(index, "（一）") == found(index, "(一)") == scan("（一）")
    assert found(index, "（１）") == found(index, "(1)") == scan("(1)")


@pytest.mark.parametrize("query, words", [
    ('"四人帮', ['"四人帮']), ('四人帮"', ['四人帮"']), ("(机关党", ["(机关党"]), ("机关党)", ["机关党)"]),
    ("()", ["()"]), ('革命"时', ['革命"时']), ("（机关党 OR 防汛", None), ("(机关党 OR 防汛", None),
])
def test_an_unpaired_quote_or_bracket_is_text_not_an_error(index, query, words):
    if words is None:   # an unpaired bracket before an OR: the OR still works, the bracket is text
        first = query.split()[0]
        assert found(index, query) == scan(first) | scan("防汛")
    else:
        assert found(index, query) == scan(words[0])


def test_ascii_syntax_still_works_where_it_is_clearly_meant(index):
    assert found(index, '"四人帮" 揭批') == scan("四人帮") & scan("揭批")
    assert found(index, "(巩固 OR 防汛) -农业") == (scan("巩固") | scan("防汛")) - scan("农业")
    assert found(index, "标题:(报告 OR 通报) 经济") == ({d.id for d in DOCS if re.search("报告|通报|報告", d.title)}
                                                       & scan("经济"))


# --- variants are folded -------------------------------------------------------------------------

@pytest.mark.parametrize("query, written_as", [
    ("經濟建設", "经济建设"), ("共產黨", "共产党"), ("社會主義", "社会主义"),     # traditional → simplified
    ("经济建设", "經濟建設"), ("社会主义市场经济", "社會主義市場經濟"),
    ("一九七〇年", "一九七○年"), ("一九七○年", "一九七〇年"), ("二〇一五年", "二零一五年"),   # the three zeros
    ("坚持——发展", "坚持――发展"), ("――特别", "——特别"),                         # dash variants
    ("习近平同志", "习　近　平同志"),                                             # a spaced-out name
    ("面源污染防治", "面源污染\n防治"),                                           # a wrapped line
])
def test_variants_are_folded(index, query, written_as):
    holders = {d.id for d in DOCS if written_as in d.body or written_as in d.title}
    assert holders, f"no document is written with {written_as!r}"
    want = scan(query)
    assert holders <= want and want != ALL
    assert found(index, query) == want


def test_folding_definitions():
    assert T.normalize("經濟建設，共產黨") == "经济建设,共产党"
    assert T.normalize("一九七○年，二零一五") == "一九七〇年,二〇一五"
    assert T.normalize("――─━") == "————"
    assert T.normalize("习　近　平 GDP 增长") == "习近平 gdp 增长"          # only between CJK characters
    assert T.normalize("（１）ＰＤＦ") == "(1)pdf"
    assert T.normalize("面源污染\n防治") == "面源污染防治"
    assert T.normalize("加强领导。\n防治") == "加强领导。\n防治"                 # a sentence ended there
    assert T.normalize("一、总体要求\n防汛工作") == "一、总体要求\n防汛工作"       # a heading line
    assert T.normalize("第一段\n\n第二段") == "第一段\n\n第二段"                 # a blank line
    assert T.normalize("污染\u200b防治") == "污染防治"                          # zero-width space


def test_paragraph_boundaries_are_kept(index):
    for query in ("领导防治", "要求防汛", "领导。防治"):
        assert scan(query) == set() and found(index, query) == set(), query


def test_snippet_marks_the_original_text(index):
    h = next(h for h in index.search("经济建设", limit=None).hits if h.id == "珠政发〔2016〕6号")
    assert "【經濟建設】" in h.snippet
    h = index.search("面源污染防治").hits[0]
    assert "【面源污染防治】" in h.snippet
    h = index.search("习近平").hits[0]
    assert "【习近平】" in h.snippet


@pytest.mark.parametrize("query", ["ſeries:x", "tıtle:x", "\u212aind:x"])   # long s, dotless i, Kelvin sign
def test_a_letter_that_only_unicode_folds_to_a_field_name_is_text(query):
    """Field names are matched without regard to ASCII case only: "ſeries:" is not 机关代字 (the
    parser used to read it as a field with no name and dropped the prefix from the search)."""
    from pipeline.search import query as Q

    assert Q.parse("TITLE:x") == Q.parse("title:x") == Q.Leaf("x", "title", phrase=False)
    assert Q.parse(query) == Q.Leaf(query, None, phrase=False)
