"""LibreOffice conversion to PDF/A-2b: one-shot, persistent (unoserver), crash, hang and fallback.

Real LibreOffice throughout (installed by `make test`); one converter is shared by the module so that
LibreOffice starts once, plus the restarts the tests cause on purpose.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pikepdf
import psutil
import pypdf
import pytest
from docx import Document
from docx.oxml.ns import qn

from pipeline import convert as conv_mod
from pipeline.config import Config
from pipeline.convert import Converter, convert_once, health
from pipeline.errors import ConversionError
from pipeline.pdfcheck import inspect_pdf
from tests.support.convert import make_config

pytestmark = pytest.mark.libreoffice

REPO = Path(__file__).resolve().parent.parent


def make_docx(path: Path, marker: str, pages: int = 1, paras_per_page: int = 4) -> Path:
    """A .docx whose Chinese text sits in the East Asian font slot, with explicit page breaks so that
    the page count is known."""
    doc = Document()
    for page in range(pages):
        for i in range(paras_per_page):
            run = doc.add_paragraph().add_run(
                f"{marker}：第{page + 1}页第{i + 1}段，关于做好2024年度安全生产工作的通知，请认真贯彻落实。")
            run.font.name = "Times New Roman"
            run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋_GB2312")
        if page < pages - 1:
            doc.add_page_break()
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def pdffonts(path: Path) -> list[tuple[str, bool]]:
    """(name, embedded) per font as poppler's pdffonts reports it (an independent reader)."""
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        tok = line.split()
        rows.append((tok[0], tok[-5] == "yes"))  # emb sub uni object ID: types may contain spaces
    return rows


def text_of(path: Path) -> str:
    return "".join(p.extract_text() or "" for p in pypdf.PdfReader(str(path)).pages).replace(" ", "")


def assert_pdfa_with_text(pdf: Path, marker: str, pages: int) -> None:
    with pikepdf.open(pdf) as p:
        assert p.open_metadata().pdfa_status == "2B"
        assert len(p.pages) == pages
        assert "/OutputIntents" in p.Root
    fonts = pdffonts(pdf)
    assert fonts, "a text PDF uses fonts"
    assert all(emb for _, emb in fonts), f"fonts not embedded: {fonts}"
    text = text_of(pdf)
    assert f"{marker}：第1页第1段" in text
    assert f"第{pages}页第4段" in text
    facts = inspect_pdf(pdf)
    assert (facts.pdfa, facts.pages, facts.all_fonts_embedded, facts.error) == ("2B", pages, True, None)


@pytest.fixture(scope="module")
def cfg(tmp_path_factory) -> Config:
    return make_config(tmp_path_factory.mktemp("instance"))


@pytest.fixture(scope="module")
def converter(cfg, tmp_path_factory):
    c = Converter(cfg, workdir=tmp_path_factory.mktemp("lo-work"))
    yield c
    c.stop()


# --- one-shot ---------------------------------------------------------------------------------

def test_convert_once_writes_pdfa_2b_with_embedded_fonts_and_chinese_text(cfg, tmp_path):
    src = make_docx(tmp_path / "定稿 草案.docx", "一次性转换", pages=2)
    out = tmp_path / "out" / "正本.pdf"
    assert convert_once(src, out, cfg) == out
    assert_pdfa_with_text(out, "一次性转换", pages=2)
    assert sorted(p.name for p in out.parent.iterdir()) == ["正本.pdf"]   # no temp left beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "定稿 草案.docx"]  # input untouched


def test_convert_once_without_libreoffice_is_a_clear_error(cfg, tmp_path, monkeypatch):
    src = make_docx(tmp_path / "a.docx", "无")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(ConversionError, match="libreoffice-writer-nogui"):
        convert_once(src, tmp_path / "a.pdf", cfg)
    c = Converter(cfg)
    with pytest.raises(ConversionError, match="找不到 LibreOffice"):
        c.convert(src, tmp_path / "a.pdf")
    assert c.workdir is None, "nothing is set up without LibreOffice"
    assert not (tmp_path / "a.pdf").exists()


@pytest.mark.parametrize("content, why", [(b"not a zip at all", "zip"),
                                          (b"", "zip")])
def test_not_a_docx_is_refused_before_libreoffice(cfg, tmp_path, content, why):
    bad = tmp_path / "坏文件.docx"
    bad.write_bytes(content)
    with pytest.raises(ConversionError, match="不是有效的 Word 文档"):
        convert_once(bad, tmp_path / "x.pdf", cfg)
    c = Converter(cfg)
    with pytest.raises(ConversionError, match=why):
        c.convert(bad, tmp_path / "x.pdf")
    assert c.workdir is None, "no LibreOffice is started for a file that cannot be a document"
    assert not (tmp_path / "x.pdf").exists()


# --- persistent converter -----------------------------------------------------------------------

def test_converter_writes_pdfa_2b(converter, tmp_path):
    src = make_docx(tmp_path / "通知.docx", "常驻转换", pages=3)
    out = tmp_path / "通知.pdf"
    assert converter.convert(src, out) == out
    assert converter.mode == "unoserver"
    assert_pdfa_with_text(out, "常驻转换", pages=3)
    assert converter.pid is not None and psutil.Process(converter.pid).name() == "soffice.bin"
    # LibreOffice runs with the converter's own profile, HOME and TMPDIR, never the user's.
    env = psutil.Process(converter.pid).environ()
    assert env["HOME"] == str(converter.workdir / "home")
    assert env["TMPDIR"] == str(converter.workdir / "tmp")
    cmdline = " ".join(psutil.Process(converter.pid).cmdline())
    assert (converter.workdir / "profile").resolve().as_uri() in cmdline
    assert list((converter.workdir / "out").iterdir()) == []


def make_hanging_docx(path: Path, overflow_punct: str | None) -> Path:
    """3号 text on a 156 mm line (27 characters fit) whose 28th character is a full stop, with Word's
    ``<w:overflowPunct w:val=…/>`` (None: not said) on the paragraph."""
    from docx.shared import Mm, Pt

    doc = Document()
    s = doc.sections[0]
    s.page_width, s.left_margin, s.right_margin = Mm(210), Mm(28), Mm(26)
    p = doc.add_paragraph()
    if overflow_punct is not None:
        el = p._p.get_or_add_pPr().makeelement(qn("w:overflowPunct"), {qn("w:val"): overflow_punct})
        p._p.get_or_add_pPr().append(el)
    run = p.add_run(("我国发展历程很不平凡党的二十届三中全会胜利召开对进" * 2)[:27] + "。")
    run.font.size = Pt(16)
    r_pr = run._element.get_or_add_rPr()
    r_pr.get_or_add_rFonts().set(qn("w:eastAsia"), "仿宋_GB2312")
    r_pr.append(r_pr.makeelement(qn("w:lang"), {qn("w:eastAsia"): "zh-CN"}))   # Chinese line-breaking rules
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path


def right_edge_mm(pdf: Path) -> float:
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        return max(c["x1"] for c in doc.pages[0].chars) * 25.4 / 72


def test_libreoffice_input_inverts_overflow_punct_in_a_copy(tmp_path):
    """LibreOffice's DOCX import reads w:overflowPunct inverted; it is given a translated copy, the
    user's file stays as it is, and a document that does not say is given as it is."""
    import zipfile

    src = make_hanging_docx(tmp_path / "in" / "定稿.docx", "0")
    before = src.read_bytes()
    work = tmp_path / "work"
    work.mkdir()
    copy = conv_mod.libreoffice_input(src, work)
    assert copy != src and copy.name == src.name and copy.parent.parent == work
    assert src.read_bytes() == before
    with zipfile.ZipFile(copy) as z, zipfile.ZipFile(src) as orig:
        assert b'<w:overflowPunct w:val="1"/>' in z.read("word/document.xml")
        assert z.namelist() == orig.namelist()
        assert all(z.read(n) == orig.read(n) for n in z.namelist() if n != "word/document.xml")
    for given, seen in (("1", b'w:val="0"'), ("true", b'w:val="0"'), ("off", b'w:val="1"')):
        made = conv_mod.libreoffice_input(make_hanging_docx(tmp_path / given / "x.docx", given), work)
        with zipfile.ZipFile(made) as z:
            assert b"<w:overflowPunct " + seen in z.read("word/document.xml"), given
    plain = make_hanging_docx(tmp_path / "plain" / "x.docx", None)
    assert conv_mod.libreoffice_input(plain, work) == plain
    broken = tmp_path / "broken.docx"
    broken.write_bytes(b"PK not a zip")
    assert conv_mod.libreoffice_input(broken, work) == broken


def test_no_punctuation_hangs_past_the_margin_in_any_conversion(converter, cfg, tmp_path):
    """A .docx that says (as Word reads it) that punctuation must not hang: the full stop that does
    not fit takes the character before it to the next line, through the persistent converter and
    through soffice; the converter's work folder keeps no copy."""
    src = make_hanging_docx(tmp_path / "定稿.docx", "0")
    right = 210 - 26 + 0.2
    assert right_edge_mm(converter.convert(src, tmp_path / "uno.pdf")) <= right
    assert right_edge_mm(convert_once(src, tmp_path / "once.pdf", cfg)) <= right
    assert list((converter.workdir / "out").iterdir()) == []
    # Not said at all, it hangs: the default of Word and of LibreOffice alike.
    plain = make_hanging_docx(tmp_path / "plain" / "定稿.docx", None)
    assert right_edge_mm(converter.convert(plain, tmp_path / "plain.pdf")) > right


def test_killing_libreoffice_mid_batch_loses_and_duplicates_nothing(converter, tmp_path):
    n = 8
    pairs = [(make_docx(tmp_path / f"doc{i}.docx", f"批次文档{i:02d}", pages=4), tmp_path / "pdf" / f"doc{i}.pdf")
             for i in range(n)]
    (tmp_path / "pdf").mkdir()
    converter.start()
    victim = converter.pid
    before = (converter.stats.restarts, converter.stats.converted, converter.stats.retried)
    seen = {}

    def assassin():
        # Once two documents are out, freeze LibreOffice (so that the next one is certainly in the
        # middle of its conversion), then kill it.
        deadline = time.monotonic() + 120
        while len(list((tmp_path / "pdf").glob("*.pdf"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(victim, signal.SIGSTOP)
        time.sleep(0.5)
        seen["done_at_kill"] = len(list((tmp_path / "pdf").glob("*.pdf")))
        os.kill(victim, signal.SIGKILL)

    t = threading.Thread(target=assassin)
    t.start()
    results = converter.convert_many(pairs)
    t.join()

    assert 2 <= seen["done_at_kill"] < n, "the kill landed in the middle of the batch"
    assert not psutil.pid_exists(victim) or psutil.Process(victim).status() == psutil.STATUS_ZOMBIE
    assert [r for r in results if not isinstance(r, Path)] == []
    assert results == [p for _, p in pairs]
    assert sorted(p.name for p in (tmp_path / "pdf").iterdir()) == sorted(f"doc{i}.pdf" for i in range(n))
    for i, (_, pdf) in enumerate(pairs):   # each PDF is its own document's, complete
        text = text_of(pdf)
        assert f"批次文档{i:02d}：第4页第4段" in text
        assert all(f"批次文档{j:02d}" not in text for j in range(n) if j != i)
        assert len(pikepdf.open(pdf).pages) == 4
    restarts, converted, retried = converter.stats.restarts, converter.stats.converted, converter.stats.retried
    assert restarts - before[0] == 1
    assert converted - before[1] == n            # each document written exactly once
    assert retried - before[2] == 1              # the one under the kill, on the new LibreOffice
    assert converter.pid not in (None, victim)
    assert list((converter.workdir / "out").iterdir()) == []


def test_hang_times_out_then_the_next_document_converts(converter, tmp_path):
    src = make_docx(tmp_path / "挂起.docx", "挂起测试")
    converter.start()
    frozen = converter.pid
    os.kill(frozen, signal.SIGSTOP)       # a real hang: LibreOffice stops answering
    converter.timeout_s = 3
    try:
        with pytest.raises(ConversionError, match="超时"):
            converter.convert(src, tmp_path / "挂起.pdf")
    finally:
        converter.timeout_s = 60
    assert not (tmp_path / "挂起.pdf").exists()
    assert not psutil.pid_exists(frozen) or psutil.Process(frozen).status() == psutil.STATUS_ZOMBIE
    assert converter.stats.timeouts >= 1
    out = converter.convert(src, tmp_path / "再试.pdf")      # restarted on demand
    assert_pdfa_with_text(out, "挂起测试", pages=1)
    assert converter.pid != frozen


def test_a_document_libreoffice_refuses_is_an_error_and_the_rest_goes_on(converter, tmp_path):
    good = make_docx(tmp_path / "好.docx", "正常文档")
    bad = tmp_path / "伪装.docx"
    bad.write_bytes(b"PK\x03\x04 broken zip")
    pid = converter.pid
    results = converter.convert_many([(bad, tmp_path / "伪装.pdf"), (good, tmp_path / "好.pdf")])
    assert isinstance(results[0], ConversionError) and "伪装.docx" in str(results[0])
    assert results[1] == tmp_path / "好.pdf"
    assert not (tmp_path / "伪装.pdf").exists()
    assert pid is None or converter.pid == pid, "a bad document does not cost a restart"


def test_second_converter_on_the_same_workdir_gets_its_own_folder(converter, cfg):
    converter.start()
    other = Converter(cfg, workdir=converter.workdir)
    other._prepare()
    own = other.workdir
    try:
        assert own != converter.workdir and own.name.startswith("gongwen-lo-")
    finally:
        other.stop()
    assert not own.exists() and converter.workdir.is_dir()


def test_stop_kills_the_process_group_and_cleans_temporary_files(converter, tmp_path):
    converter.start()
    pid, wd = converter.pid, converter.workdir
    group = os.getpgid(pid)
    converter.stop()
    # Zombies are dead already (reaped by init in its own time); anything else is left running. A
    # process SIGKILLed by stop() may take a moment to be gone: wait for that, not a fixed time.
    deadline = time.monotonic() + 10
    while left := [p for p in psutil.process_iter(["pid", "status"])
                   if _pgid(p.pid) == group and p.info["status"] != psutil.STATUS_ZOMBIE]:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert left == []
    assert list((wd / "tmp").glob("lu*.tmp")) == [] and list((wd / "tmp").glob("OSL_PIPE_*")) == []
    assert (wd / "profile" / "user").is_dir(), "a caller's work folder keeps its profile"
    # usable again afterwards
    src = make_docx(tmp_path / "再用.docx", "停止后再用")
    assert_pdfa_with_text(converter.convert(src, tmp_path / "再用.pdf"), "停止后再用", pages=1)


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def test_temporary_workdir_is_removed_on_stop(cfg, tmp_path):
    with Converter(cfg) as c:
        c._prepare()
        wd = c.workdir
        assert wd.is_dir()
    assert not wd.exists()


# --- fallback: batched soffice -----------------------------------------------------------------

def test_falls_back_to_batched_soffice_when_unoserver_cannot_run(cfg, tmp_path, monkeypatch):
    monkeypatch.setattr(Converter, "_unoserver_unusable", staticmethod(lambda: "无法导入 uno（测试）"))
    pairs = [(make_docx(tmp_path / f"同名{i}" / "定稿.docx", f"批量{i}", pages=i + 1), tmp_path / f"out{i}.pdf")
             for i in range(3)]
    bad = tmp_path / "坏.docx"
    bad.write_text("x")
    with Converter(cfg) as c:
        results = c.convert_many(pairs[:2] + [(bad, tmp_path / "坏.pdf")] + pairs[2:])
        assert c.mode == "soffice" and "uno" in c.fallback_reason
    assert [type(r).__name__ for r in results] == ["PosixPath", "PosixPath", "ConversionError", "PosixPath"]
    for i, (_, pdf) in enumerate(pairs):   # same input names in different folders: no mix-up
        assert_pdfa_with_text(pdf, f"批量{i}", pages=i + 1)
    assert not (tmp_path / "坏.pdf").exists()


def test_soffice_mode_batch_timeout_isolates_each_document(cfg, tmp_path, monkeypatch):
    """Unit test with a stand-in for soffice: a batch that hangs is retried one by one."""
    calls = []
    tiny = tmp_path / "tiny.pdf"
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.save(tiny)

    def fake_batch(exe, inputs, outdir, profile, env, timeout, log=None, procs=None):
        calls.append([p.name for p in inputs])
        if len(inputs) > 1:
            return None                          # the whole batch hung
        if inputs[0].name.startswith("00001"):
            return None                          # this one hangs alone too
        shutil.copyfile(tiny, outdir / (inputs[0].stem + ".pdf"))
        return subprocess.CompletedProcess([], 0, b"", b"")

    monkeypatch.setattr(conv_mod, "soffice_batch", fake_batch)
    monkeypatch.setattr(conv_mod, "find_soffice", lambda: Path("/usr/bin/true"))
    docs = [make_docx(tmp_path / f"d{i}.docx", "x") for i in range(3)]
    with Converter(make_config(tmp_path / "i", mode="soffice", timeout_s=1)) as c:
        res = c.convert_many([(d, tmp_path / f"d{i}.pdf") for i, d in enumerate(docs)])
    assert calls == [["00000.docx", "00001.docx", "00002.docx"], ["00000.docx"], ["00001.docx"], ["00002.docx"]]
    assert res[0] == tmp_path / "d0.pdf" and res[2] == tmp_path / "d2.pdf"
    assert isinstance(res[1], ConversionError) and "超时" in str(res[1])


# --- health -------------------------------------------------------------------------------------

FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <alias binding="same"><family>方正小标宋简体</family><prefer><family>Noto Serif CJK SC</family></prefer></alias>
  <alias binding="same"><family>仿宋_GB2312</family><prefer><family>Noto Serif CJK SC</family></prefer></alias>
  <alias binding="same"><family>黑体</family><prefer><family>Noto Sans CJK SC</family></prefer></alias>
  <match target="pattern">
    <test name="family"><string>楷体_GB2312</string></test>
    <edit name="family" mode="assign" binding="strong"><string>AR PL UKai CN</string></edit>
  </match>
  <alias binding="same"><family>宋体</family><prefer><family>Font That Is Not Installed</family></prefer></alias>
</fontconfig>
"""


def test_health_reports_libreoffice_fonts_and_a_real_conversion(tmp_path):
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    (fonts / "fonts.conf").write_text(FONTS_CONF, encoding="utf-8")
    found = {f.item: f for f in health(make_config(tmp_path / "inst", fonts=fonts))}
    assert found["LibreOffice"].ok and "LibreOffice" in found["LibreOffice"].detail
    assert found["unoserver"].ok and found["uno（LibreOffice Python 桥）"].ok
    for name in ("方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"):
        assert found[f"字体 {name}"].ok, found[f"字体 {name}"]
    assert found["字体 黑体"].detail == "→ Noto Sans CJK SC"
    assert found["字体 宋体"].ok is False and "Font That Is Not Installed" in found["字体 宋体"].detail
    assert found["试转换 PDF/A-2b"].ok, found["试转换 PDF/A-2b"].detail


def test_health_without_fonts_conf_or_libreoffice_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(conv_mod, "find_soffice", lambda: None)
    found = {f.item: f for f in health(make_config(tmp_path / "inst", fonts=tmp_path / "nofonts"))}
    assert found["LibreOffice"].ok is False and "libreoffice-writer-nogui" in found["LibreOffice"].detail
    assert found["字体映射"].ok is False and "fonts.conf" in found["字体映射"].detail
    assert found["试转换 PDF/A-2b"].ok is None     # not run is not passed


def test_libreoffice_left_by_a_killed_owner_is_ended_by_the_next_converter(cfg, tmp_path):
    """SIGKILL of the owning process leaves LibreOffice running (it has its own session); the next
    converter on the same work folder finds it by its profile and ends it before starting anew."""
    import signal
    import subprocess
    import sys

    wd = tmp_path / "conv"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from tests.support.convert import make_config\n"
        "from pipeline.convert import Converter\n"
        f"c = Converter(make_config(Path({str(tmp_path / 'inst')!r})), workdir=Path({str(wd)!r}))\n"
        "c.start(); print(c.pid, flush=True); time.sleep(600)\n")
    owner = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        orphan = int(owner.stdout.readline())
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait()
    proc = psutil.Process(orphan)
    assert proc.status() != psutil.STATUS_ZOMBIE, "LibreOffice survives its owner's SIGKILL"
    with Converter(cfg, workdir=wd) as c:
        src = make_docx(tmp_path / "接续.docx", "接续转换")
        assert_pdfa_with_text(c.convert(src, tmp_path / "接续.pdf"), "接续转换", pages=1)
        assert c.pid != orphan
    try:
        assert proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        pass
