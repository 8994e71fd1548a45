"""File names as they arrive: bytes that are not UTF-8 (a GBK name from a Windows share), names at the
filesystem's 255-byte limit, and the companions gongwen makes beside them (notes, "(2)" copies,
temporary files)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.fsutil import NAME_MAX, atomic_write_text, fit_name, note_path, readable, readable_path, unique_path
from tests.conftest import REPO, write_instance

LONGEST = "关于" + "开展" * 40 + "通知" + ".md"          # 84 characters + .md = 255 bytes


def gbk(name: str) -> str:
    """``name`` as Python sees it when the file system holds it in GBK."""
    return os.fsdecode(name.encode("gbk"))


def test_readable_decodes_gbk_and_marks_bytes_of_no_encoding():
    assert readable(gbk("关于开展检查的通知.md")) == "关于开展检查的通知.md"
    assert readable(os.fsdecode(b"bad\xff.md")) == "bad\ufffd.md"
    assert readable("已是文本.md") == "已是文本.md"
    assert readable_path(f"/收件箱/{gbk('通知甲.md')}") == "/收件箱/通知甲.md"


def test_companion_names_fit_beside_the_longest_name():
    assert len(os.fsencode(LONGEST)) == NAME_MAX
    note = note_path(Path("/r") / LONGEST)
    assert len(os.fsencode(note.name)) <= NAME_MAX and note.name.endswith(".md.问题.txt")
    assert note.name.startswith("关于开展")
    assert note_path(Path("/r/草稿.md")).name == "草稿.md.问题.txt"
    assert fit_name("短", ".txt") == "短.txt"


def test_unique_and_temporary_names_beside_the_longest_name(tmp_path):
    (tmp_path / LONGEST).write_bytes(b"one")
    second = unique_path(tmp_path / LONGEST)
    assert second != tmp_path / LONGEST and second.name.endswith(" (2).md")
    atomic_write_text(second, "two")            # its temporary name must fit too
    atomic_write_text(tmp_path / LONGEST, "three")
    assert (tmp_path / LONGEST).read_text(encoding="utf-8") == "three" and second.read_text(encoding="utf-8") == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([LONGEST, second.name])


@pytest.mark.parametrize("raw", ["通知乙（GBK）.md".encode("gbk"), b"bad\xff.md"])
def test_gongwen_process_on_a_name_that_is_not_utf8(tmp_path, raw):
    """`gongwen process` on such a file answers like on any other: here the draft is sent back, with
    its note in rejected/, and the line printed names it readably."""
    from pipeline.config import load

    cfg = write_instance(tmp_path / "instance")
    config = load(cfg)
    folder = tmp_path / "drafts"
    folder.mkdir()
    path = os.fsencode(folder) + b"/" + raw
    with open(path, "wb") as f:
        f.write("---\n标题: 坏\n---\n正文\n".encode("utf-8"))
    env = {**os.environ, "GONGWEN_ACTOR": "测试员", "PYTHONIOENCODING": "utf-8"}
    r = subprocess.run([sys.executable, "-m", "pipeline", "--config", str(cfg), "process", path],
                       capture_output=True, env=env, cwd=REPO, timeout=300)
    out = r.stdout.decode("utf-8") + r.stderr.decode("utf-8")
    assert r.returncode == 1, out                      # rejected: exit status 1, no traceback
    assert "Traceback" not in out and "退回 ← " + readable(os.fsdecode(raw)) in out
    notes = [p for p in config.rejected.iterdir() if p.name.endswith(".问题.txt")]
    assert len(notes) == 1
    assert "文件：" + readable(os.fsdecode(raw)) in notes[0].read_text(encoding="utf-8")
    assert os.path.exists(path)                        # gongwen process never moves the draft
