"""The archive store: atomic, read-only, self-describing records with SM3 + SHA-256 fixity."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import stat

import pytest

from pipeline.archive import ArchiveStore, StoredFile, draft_text, health, record_metadata
from pipeline.errors import ArchiveError
from pipeline.hashing import digest_file, sm3_available
from pipeline.model import Attachment, Block, Draft, Number


def _draft(tmp_path, title="关于做好2015年防汛工作的通知", body="各单位要切实做好防汛准备。"):
    src = tmp_path / "草稿.md"
    src.write_text(f"---\n标题: {title}\n---\n{body}\n", encoding="utf-8")
    return Draft(source=str(src), source_format="markdown", kind="通知", series="珠政发", title=title,
                 main_to="各镇人民政府，区直各单位", body=(Block("heading1", "一、总体要求"), Block("paragraph", body)),
                 attachments=(Attachment("防汛责任人名单", None),), attachment_note=("附件：防汛责任人名单",),
                 signature="珠晖区人民政府", date_text="2015年3月20日", date=dt.date(2015, 3, 20),
                 signers=("陈礼洋",), copies=30)


def _file(store, config, tmp_path, draft=None, seq=3):
    draft = draft or _draft(tmp_path)
    number = Number("珠政发", 2015, seq, f"珠政发〔2015〕{seq}号", f"珠政发〔2015〕{seq}号")
    pdf = tmp_path / f"z{seq}.pdf"
    pdf.write_bytes(b"%PDF-1.6 fake for the store test\n")
    docx = tmp_path / f"z{seq}.docx"
    docx.write_bytes(b"PK fake docx")
    meta = record_metadata(number=number, draft=draft, config=config, pages=2, signature=None,
                           events=[{"业务行为": "登记（编号）", "行为时间": "2015-03-20T10:00:00+08:00", "机构人员名称": "测试员"}])
    files = [StoredFile(pdf, "正本", "正本.pdf", "PDF/A-2b"), StoredFile(docx, "定稿", "定稿.docx"),
             StoredFile(draft.source and __import__("pathlib").Path(draft.source), "原稿", "原稿.md")]
    return store.file(number=number, draft=draft, files=files, metadata=meta, text=draft_text(draft))


def test_record_layout_metadata_and_fixity(bare_config, tmp_path):
    store = ArchiveStore(bare_config)
    rec = _file(store, bare_config, tmp_path)
    assert rec.path == bare_config.archive_dir / "2015" / "珠政发" / "珠政发〔2015〕3号"
    names = sorted(p.name for p in rec.path.iterdir())
    assert names == sorted(["正本.pdf", "定稿.docx", "原稿.md", "全文.txt", "metadata.json"])
    meta = json.loads((rec.path / "metadata.json").read_text(encoding="utf-8"))
    assert meta["文件编号"] == "珠政发〔2015〕3号"
    assert meta["题名"] == "关于做好2015年防汛工作的通知"
    assert meta["责任者"] == ["珠晖区人民政府"]            # a list: 联合行文 names every organ
    assert meta["日期"] == "2015-03-20"
    assert meta["保管期限"] == "Y"  # config: 珠政发 → 永久
    assert meta["附件"] == ["防汛责任人名单"]
    assert meta["页数"] == 2
    algos = {"SM3", "SHA-256"} if sm3_available() else {"SHA-256"}
    for f in meta["电子文件"]:
        assert {d["算法"] for d in f["数字摘要"]} == algos
        real = digest_file(rec.path / f["计算机文件名"])
        assert {d["值"] for d in f["数字摘要"]} == set(real.values())
        assert f["计算机文件大小"] == (rec.path / f["计算机文件名"]).stat().st_size
    assert "各单位要切实做好防汛准备。" in (rec.path / "全文.txt").read_text(encoding="utf-8")
    # read-only: no write bits on the folder or any file
    for p in [rec.path, *rec.path.iterdir()]:
        assert not stat.S_IMODE(p.stat().st_mode) & 0o222, p
    assert all(r.ok for r in rec.verify())


def test_changed_byte_is_named_with_file_and_algorithm(bare_config, tmp_path):
    store = ArchiveStore(bare_config)
    rec = _file(store, bare_config, tmp_path)
    target = rec.path / "正本.pdf"
    os.chmod(target, 0o644)
    data = bytearray(target.read_bytes())
    data[5] ^= 0x01
    target.write_bytes(bytes(data))
    bad = [r for r in store.find("珠政发〔2015〕3号").verify() if not r.ok]
    assert {r.file for r in bad} == {"正本.pdf"}
    assert {r.algorithm for r in bad} == ({"SM3", "SHA-256"} if sm3_available() else {"SHA-256"})
    findings = health(bare_config)
    fixity = findings[0]
    assert fixity.ok is False and "正本.pdf" in fixity.detail and "SHA-256" in fixity.detail


def test_missing_file_reported(bare_config, tmp_path):
    store = ArchiveStore(bare_config)
    rec = _file(store, bare_config, tmp_path)
    os.chmod(rec.path, 0o755)
    (rec.path / "定稿.docx").unlink()
    bad = [r for r in rec.verify() if not r.ok]
    assert bad and all(r.file == "定稿.docx" and r.actual is None for r in bad)


def test_filing_is_idempotent_and_never_overwrites(bare_config, tmp_path):
    store = ArchiveStore(bare_config)
    rec1 = _file(store, bare_config, tmp_path)
    rec2 = _file(store, bare_config, tmp_path)  # same content: same record back
    assert rec1.path == rec2.path and rec1.meta["归档时间"] == rec2.meta["归档时间"]
    other = _draft(tmp_path, title="关于另一件事的通知")
    with pytest.raises(ArchiveError, match="内容不同"):
        _file(store, bare_config, tmp_path, draft=other)


def test_crash_while_filing_leaves_no_half_record(bare_config, tmp_path, monkeypatch):
    store = ArchiveStore(bare_config)
    import pipeline.archive as archive_mod

    def boom(*a, **k):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(archive_mod, "atomic_write_text", boom)
    with pytest.raises(OSError):
        _file(store, bare_config, tmp_path)
    assert not (bare_config.archive_dir / "2015" / "珠政发" / "珠政发〔2015〕3号").exists()
    assert store.leftovers() == []
    assert list(store.records()) == []


def test_find_by_reference_and_update_record_keeps_fixity(bare_config, tmp_path):
    store = ArchiveStore(bare_config)
    _file(store, bare_config, tmp_path, seq=1)
    rec = _file(store, bare_config, tmp_path, draft=_draft(tmp_path, title="关于第二件事的通知"), seq=2)
    assert store.find("珠政发〔2015〕2号").path == rec.path
    assert store.find("珠政发〔2015〕9号") is None
    newpdf = tmp_path / "stamped.pdf"
    newpdf.write_bytes(b"%PDF-1.6 with an archive stamp\n")
    rec2 = store.update_record(rec, replace={"正本.pdf": newpdf},
                               meta_updates={"档号": "Z109-WS·2015-Y-BGS-0002", "件号": 2})
    assert rec2.meta["档号"] == "Z109-WS·2015-Y-BGS-0002"
    assert store.find("Z109-WS·2015-Y-BGS-0002").path == rec.path
    assert (rec.path / "正本.pdf").read_bytes() == newpdf.read_bytes()
    assert all(r.ok for r in store.find("珠政发〔2015〕2号").verify())
    assert not stat.S_IMODE((rec.path / "正本.pdf").stat().st_mode) & 0o222
    assert store.leftovers() == []
    assert [r.reference for r in store.records(2015)] == ["珠政发〔2015〕1号", "珠政发〔2015〕2号"]


def test_a_crash_in_the_middle_of_the_year_end_swap_is_recovered(bare_config, tmp_path):
    store = ArchiveStore(bare_config)
    rec = _file(store, bare_config, tmp_path)
    # killed after the old version stepped aside and before the new one took its place
    os.chmod(rec.path.parent, 0o755)
    backup = rec.path.with_name(".old-" + rec.path.name)
    os.rename(rec.path, backup)
    assert store.find("珠政发〔2015〕3号") is None
    again = ArchiveStore(bare_config)          # opening the store finishes the interrupted swap
    found = again.find("珠政发〔2015〕3号")
    assert found is not None and found.path == rec.path and not backup.exists()
    assert all(r.ok for r in found.verify()) and again.leftovers() == []
    # killed after the swap, before the old version was removed: the superseded copy goes
    shutil.copytree(rec.path, backup)
    ArchiveStore(bare_config)
    assert not backup.exists() and rec.path.is_dir()


def test_a_failed_swap_puts_the_old_version_back(bare_config, tmp_path, monkeypatch):
    store = ArchiveStore(bare_config)
    rec = _file(store, bare_config, tmp_path)
    real = os.rename
    calls = []

    def second_rename_fails(a, b):
        calls.append((a, b))
        if len(calls) == 2:
            raise OSError("I/O error (simulated)")
        return real(a, b)

    import pipeline.archive as archive_mod

    monkeypatch.setattr(archive_mod.os, "rename", second_rename_fails)
    with pytest.raises(OSError):
        store.update_record(rec, meta_updates={"档号": "Z109-WS·2015-Y-BGS-0001"})
    monkeypatch.undo()
    back = store.find("珠政发〔2015〕3号")
    assert back is not None and back.meta["档号"] is None and all(r.ok for r in back.verify())
    assert store.leftovers() == [] and not list(rec.path.parent.glob(".old-*"))


def test_an_algorithm_this_machine_lacks_is_not_verified_not_missing(bare_config, tmp_path, monkeypatch):
    store = ArchiveStore(bare_config)
    _file(store, bare_config, tmp_path)
    if not sm3_available():
        pytest.skip("this machine's OpenSSL has no SM3, so no SM3 digest was stored to test with")
    import pipeline.archive as archive_mod

    monkeypatch.setattr(archive_mod, "fixity_algorithms", lambda: ("sha256",))
    results = store.find("珠政发〔2015〕3号").verify()
    sm3 = [r for r in results if r.algorithm == "SM3"]
    assert sm3 and all(r.present and not r.verified and r.status.startswith("未核验") for r in sm3)
    assert all(r.ok for r in results if r.algorithm == "SHA-256")
    fixity = health(bare_config)[0]
    assert fixity.ok is True and "未核验" in fixity.detail and "缺失" not in fixity.detail


def test_a_joint_document_names_every_organ_as_responsible(bare_config):
    """联合行文: 责任者 lists every 发文机关, the 主办机关 first; the 目录, the EEP and the checks read
    it as one text (responsible), and a record filed when it was one name reads as before."""
    import dataclasses

    from pipeline.archive import record_metadata, responsible
    from pipeline.model import Draft, Number

    draft = Draft(source="j.md", source_format="markdown", kind="通知", series="珠政发", title="关于联合检查的通知",
                  co_issuers=("珠晖区财政局", "珠晖区教育局"))
    number = Number(series="珠政发", year=2015, seq=4, text="珠政发〔2015〕4号", reference="珠政发〔2015〕4号")
    meta = record_metadata(number=number, draft=draft, config=bare_config, pages=1, signature=None, events=[])
    assert meta["责任者"] == ["珠晖区人民政府", "珠晖区财政局", "珠晖区教育局"]
    assert responsible(meta) == "珠晖区人民政府、珠晖区财政局、珠晖区教育局"
    assert responsible({"责任者": "珠晖区人民政府"}) == "珠晖区人民政府" and responsible({}) == ""
    assert dataclasses.replace(draft, co_issuers=()).issuers("甲") == ("甲",)
