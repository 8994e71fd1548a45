"""One place per contract: the labels of the chain's events live in ledger.EVENT_NAMES only (the
metadata's 业务行为, the histories and the 四性检测 read them from there), and a PDF's text is read by
pdfcheck.pages_text only."""
from __future__ import annotations

import re

from pipeline.ledger import EVENT_NAMES
from tests.conftest import REPO

# an event code mapped to a Chinese label: `"archived": "整理归档"`
LABEL = re.compile(r'"([a-z_]+)"\s*:\s*"[^"]*[\u4e00-\u9fff]')
# Other contracts that happen to share a word with an event code.
NOT_EVENTS = {
    ("pipeline/accounts.py", "signoff"),          # an action's name in the permission table
    ("pipeline/cli/watch.py", "duplicate"),       # an intake outcome's kind
    ("pipeline/incoming/register.py", "filed"),   # 收文 states (已归档), not events
    ("pipeline/incoming/register.py", "indexed"),
}


def test_event_labels_are_written_once():
    twins = []
    for src in sorted((REPO / "pipeline").rglob("*.py")):
        if src.name == "ledger.py" and src.parent.name == "pipeline":
            continue
        for code in LABEL.findall(src.read_text(encoding="utf-8")):
            if code in EVENT_NAMES and (str(src.relative_to(REPO)), code) not in NOT_EVENTS:
                twins.append(f"{src.relative_to(REPO)}: {code}")
    assert not twins, "event labels written outside ledger.EVENT_NAMES: " + "; ".join(twins)


def test_every_event_the_督办_code_logs_has_its_label_in_the_one_table():
    from pipeline.supervise.items import ITEMS_TABLE, PROGRESS_TABLE

    codes = set()
    for src in (REPO / "pipeline" / "supervise").glob("*.py"):
        codes |= set(re.findall(r'"(supervision_[a-z_]+)"', src.read_text(encoding="utf-8")))
    codes -= {ITEMS_TABLE, PROGRESS_TABLE}             # the 台账's tables, not events
    assert codes and codes <= set(EVENT_NAMES), sorted(codes - set(EVENT_NAMES))


def test_only_pdfcheck_extracts_pdf_text():
    readers = [str(src.relative_to(REPO)) for src in (REPO / "pipeline").rglob("*.py")
               if "extract_text(" in src.read_text(encoding="utf-8")]
    assert readers == ["pipeline/pdfcheck.py"]
