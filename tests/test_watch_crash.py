"""Crash safety of the watched-folder service: `gongwen watch` as a subprocess on a temporary instance,
30 drafts dropped (valid ones, a duplicate, drafts the rules reject, garbage, an unsupported type),
SIGKILL in the middle of the run, restart, then SIGTERM — and the register (ledger), the archive and
the inbox/rejected/work folders must agree: every draft accounted for exactly once, no number used
twice, no gap that is not voided with a reason, nothing left half-done."""
from __future__ import annotations

import hashlib
import os
import signal

import psutil
import pytest

from samples.drafts import sample_draft
from tests.conftest import REPO
from tests.support.watch_service import _tail, files_under, fresh_instance, kill_hard, start, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.libreoffice]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_drafts() -> dict[str, tuple[str, bytes, str]]:
    """name -> (route folder, bytes, expected fate: issued | duplicate | rejected | invalid | unsupported)."""
    drafts: dict[str, tuple[str, bytes, str]] = {}
    for i in range(24):
        route = "珠政发" if i % 2 == 0 else "珠政办发"
        data = sample_draft(i + 1)
        if route == "珠政办发":
            data = data.replace("署名: 珠晖区人民政府".encode(), "署名: 珠晖区人民政府办公室".encode()).replace(
                "珠晖区人民政府关于".encode(), "珠晖区人民政府办公室关于".encode())
        drafts[f"通知{i + 1:02d}.md"] = (route, data, "issued")
    drafts["通知01（再次）.md"] = ("珠政发", drafts["通知01.md"][1], "duplicate")
    no_title = sample_draft(90).replace("标题: 珠晖区人民政府关于做好第90批重点工作的通知\n".encode(), b"")
    assert no_title != sample_draft(90)
    drafts["缺标题.md"] = ("珠政发", no_title, "rejected")
    bad_date = sample_draft(91).replace("成文日期: 2015年3月20日".encode(), "成文日期: 二〇一五年三月".encode())
    assert bad_date != sample_draft(91)
    drafts["日期不对.md"] = ("珠政发", bad_date, "rejected")
    drafts["乱码.docx"] = ("珠政发", os.urandom(20000), "invalid")
    drafts["空文件.md"] = ("珠政办发", b"", "invalid")
    drafts["扫描件.pdf"] = ("珠政发", b"%PDF-1.4\n%%EOF\n", "unsupported")
    assert len(drafts) == 30
    return drafts


def test_sigkill_mid_run_then_restart_accounts_for_every_draft(tmp_path):
    from pipeline.archive import ArchiveStore
    from pipeline.ledger import Ledger

    import yaml

    raw_intake = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))["intake"]
    raw_intake.update({"stable_seconds": 0.5, "invalid_timeout_s": 3, "poll_interval_s": 0.5,
                       "rescan_interval_s": 300})
    cfg, config, env = fresh_instance(tmp_path, intake=raw_intake)
    out = tmp_path / "console.txt"
    drafts = build_drafts()

    def issued_lines() -> int:
        text = out.read_text(encoding="utf-8", errors="replace") if out.exists() else ""
        return sum(1 for line in text.splitlines() if "〕" in line and " ← " in line and not line.startswith(("退回", "重复")))

    # --- run 1: drop everything, kill it in the middle ---------------------------------------------
    p1 = start(cfg, out, env)
    try:
        wait_until(lambda: "正在监视" in (out.read_text(encoding="utf-8") if out.exists() else ""), 120,
                   "the service to start", p1, out)
        for name, (route, data, _) in drafts.items():
            (config.inbox / route / name).write_bytes(data)
        wait_until(lambda: issued_lines() >= 4, 300, "four documents issued", p1, out)
    finally:
        kill_hard(p1)
    claims_root = config.work_dir / "claims"
    left_in_inbox = [p for r in ("珠政发", "珠政办发") for p in (config.inbox / r).iterdir()]
    claimed = [p for p in claims_root.rglob("*") if p.is_file() and p.name != ".claim.json"]
    assert left_in_inbox or claimed, "the kill came after everything was done: nothing was tested"

    # --- run 2: restart; it must finish everything, then stop cleanly on SIGTERM --------------------
    store = ArchiveStore(config)

    def settled() -> bool:
        inbox_left = [p for r in ("珠政发", "珠政办发") for p in (config.inbox / r).iterdir()]
        claims_left = files_under(claims_root)
        rejected = [p for p in config.rejected.iterdir() if not p.name.endswith(".问题.txt")]
        return (not inbox_left and not claims_left and len(rejected) == 6
                and sum(1 for _ in store.records()) == 24)

    p2 = start(cfg, out, env)
    try:
        wait_until(settled, 600, "every draft to be accounted for", p2, out)
        p2.send_signal(signal.SIGTERM)
        rc = p2.wait(timeout=120)
    except BaseException:
        kill_hard(p2)
        raise
    assert rc == 0, _tail(out)
    assert "已停止" in out.read_text(encoding="utf-8")

    # --- the folders ---------------------------------------------------------------------------------
    by_fate: dict[str, list[str]] = {}
    for name, (_, _, fate) in drafts.items():
        by_fate.setdefault(fate, []).append(name)
    rejected_names = sorted(p.name for p in config.rejected.iterdir() if not p.name.endswith(".问题.txt"))
    assert rejected_names == sorted(by_fate["duplicate"] + by_fate["rejected"] + by_fate["invalid"]
                                    + by_fate["unsupported"])
    for name in rejected_names:
        assert (config.rejected / name).read_bytes() == drafts[name][1], f"rejected/{name} changed"
        assert (config.rejected / f"{name}.问题.txt").is_file(), f"no note for {name}"
    dup_note = (config.rejected / "通知01（再次）.md.问题.txt").read_text(encoding="utf-8")
    assert "内容与已发文件" in dup_note and "未重复编号" in dup_note

    # --- the archive: one record per valid draft, holding that draft as its 原稿 ---------------------
    records = list(store.records())
    originals = sorted(sha(r.file("原稿").read_bytes()) for r in records)
    assert originals == sorted(sha(drafts[n][1]) for n in by_fate["issued"])
    for r in records:
        assert all(f.ok for f in r.verify()), f"fixity fails for {r.reference}"
        assert (config.outbox / f"{r.reference}.pdf").is_file() and (config.outbox / f"{r.reference}.docx").is_file()
    assert not list(config.archive_dir.glob("*/*/.tmp-*")), "a half-filed record was left behind"

    # --- the register: no number lost or used twice ----------------------------------------------------
    with Ledger.open(config) as ledger:
        docs = ledger.documents()
        assert ledger.check_numbers() == [], "漏号 in the register"
        assert ledger.pending() == [], "a numbered document was left unfinished"
        live = [d for d in docs if d.stage != "voided"]
        voided = [d for d in docs if d.stage == "voided"]
        assert all(d.void_reason for d in voided), "a voided number without a reason"
        assert sorted(d.reference for d in live) == sorted(r.reference for r in records)
        assert len({d.content_hash for d in live}) == len(live), "the same content numbered twice"
        for series in ("珠政发", "珠政办发"):
            seqs = sorted(d.number.seq for d in docs if d.number.series == series)
            assert seqs == list(range(1, len(seqs) + 1)), f"{series}: numbers {seqs}"
        assert ledger.verify().first is None, ledger.verify().summary()


def test_sigterm_finishes_the_current_document_stops_the_converter_and_exits_0(tmp_path):
    from pipeline.archive import ArchiveStore

    cfg, config, env = fresh_instance(tmp_path)
    out = tmp_path / "console.txt"
    proc = start(cfg, out, env)
    seen: set[int] = set()

    def claimed_and_converting() -> bool:
        try:
            seen.update(c.pid for c in psutil.Process(proc.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            pass
        claims = [p for p in (config.work_dir / "claims").rglob("*.md")]
        return bool(claims) and len(seen) > 0

    try:
        wait_until(lambda: "正在监视" in (out.read_text(encoding="utf-8") if out.exists() else ""), 120,
                   "the service to start", proc, out)
        (config.inbox / "珠政发" / "正在办.md").write_bytes(sample_draft(1))
        wait_until(claimed_and_converting, 120, "the draft to be claimed and LibreOffice started", proc, out)
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=180)
    except BaseException:
        kill_hard(proc)
        raise
    assert rc == 0, _tail(out)
    text = out.read_text(encoding="utf-8")
    assert "珠政发〔2015〕1号 ← " in text and "已停止" in text, text
    records = list(ArchiveStore(config).records())
    assert [r.reference for r in records] == ["珠政发〔2015〕1号"]
    assert not [p for p in (config.work_dir / "claims").rglob("*") if p.is_file()]
    procs = []
    for pid in seen:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    gone, alive = psutil.wait_procs(procs, timeout=30)
    assert not alive, f"left running after exit: {[p.pid for p in alive]}"
