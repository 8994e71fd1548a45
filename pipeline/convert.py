""".docx → PDF/A-2b with LibreOffice: a one-shot `soffice --convert-to`, and a persistent converter."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import zipfile
from pathlib import Path

from .config import Config
from .errors import ConversionError
from .fsutil import atomic_copy

# PDF/A-2b. soffice's command line only honours the JSON form of the filter options; the older
# `pdf:writer_pdf_Export:SelectPdfVersion=2` is silently ignored and gives a plain PDF (recipes.md).
# PDF/A-2 rather than PDF/A-1: the stamp step draws the seal with a soft mask (alpha), which PDF/A-1
# forbids; PDF/A-2b ("basic": visual appearance, fonts embedded) is what LibreOffice can claim.
PDFA_FILTER_SOFFICE = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'
PDFA_FILTER_OPTIONS = ["SelectPdfVersion=2"]   # the same for unoserver's UnoClient.convert
PDFA_PART = "2B"                               # what pikepdf's pdfa_status reports for it

# What to install when LibreOffice is missing (Debian package names; see Makefile APT_PACKAGES).
INSTALL_HINT = ("请安装 LibreOffice：apt-get install --no-install-recommends libreoffice-writer-nogui"
                "（常驻转换另需 python3-uno）")


def find_soffice() -> Path | None:
    """The LibreOffice executable on PATH (soffice first: `libreoffice` has been seen spinning)."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def _require_soffice() -> Path:
    exe = find_soffice()
    if exe is None:
        raise ConversionError(f"找不到 LibreOffice（soffice 不在 PATH 中）。{INSTALL_HINT}")
    return exe


def fonts_conf(config: Config) -> Path | None:
    """The repository's fontconfig file mapping office font names to installed faces, if present."""
    p = config.fonts_dir / "fonts.conf"
    return p if p.is_file() else None


def lo_env(config: Config, home: Path, tmp: Path) -> dict[str, str]:
    """Environment for a LibreOffice process: own HOME and TMPDIR, the repository's font map."""
    env = dict(os.environ)
    env["HOME"] = str(home)
    env["TMPDIR"] = str(tmp)
    env.pop("SESSION_MANAGER", None)
    conf = fonts_conf(config)
    if conf is not None:
        env["FONTCONFIG_FILE"] = str(conf.resolve())
    return env


def check_input(docx: Path) -> None:
    """Refuse, with a Chinese message, what LibreOffice would fail on obscurely or hang on."""
    docx = Path(docx)
    if not docx.is_file():
        raise ConversionError(f"要转换的文件不存在：{docx}")
    if docx.suffix.lower() in (".docx", ".docm", ".dotx", ".odt"):
        try:
            with zipfile.ZipFile(docx) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, OSError) as e:
            raise ConversionError(f"{docx.name} 不是有效的 Word 文档（无法按 zip 打开：{e}），无法转换为 PDF") from e
        if docx.suffix.lower() != ".odt" and "word/document.xml" not in names:
            raise ConversionError(f"{docx.name} 不是有效的 Word 文档（缺少 word/document.xml），无法转换为 PDF")


def validate_pdf(path: Path, source: Path) -> int:
    """The page count of a freshly written PDF; ConversionError when it does not open as a PDF."""
    import pikepdf

    try:
        with pikepdf.open(path) as pdf:
            n = len(pdf.pages)
    except Exception as e:  # pikepdf raises several types for damaged files
        raise ConversionError(f"{Path(source).name} 转换后的 PDF 无法打开（{e}），未写出") from e
    if n < 1:
        raise ConversionError(f"{Path(source).name} 转换后的 PDF 没有页面，未写出")
    return n


def kill_group(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """Stop a process started with start_new_session=True and everything it started."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    # soffice.bin may outlive its parent (oosplash): kill the whole group regardless.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass


def soffice_batch(exe: Path, inputs: list[Path], outdir: Path, profile: Path, env: dict[str, str],
                  timeout: float, log: Path | None = None) -> subprocess.CompletedProcess | None:
    """Run one `soffice --convert-to` over ``inputs`` into ``outdir``. Returns None on timeout (the
    process group has been killed). Output files are ``outdir/<input stem>.pdf``."""
    cmd = [str(exe), f"-env:UserInstallation={profile.resolve().as_uri()}", "--headless", "--norestore",
           "--nologo", "--nodefault", "--nolockcheck", "--convert-to", PDFA_FILTER_SOFFICE,
           "--outdir", str(outdir), *[str(p) for p in inputs]]
    out = open(log, "ab") if log else subprocess.PIPE
    try:
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as e:
        if log:
            out.close()
        raise ConversionError(f"无法启动 LibreOffice（{exe}：{e}）。{INSTALL_HINT}") from e
    try:
        stdout, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        return None
    finally:
        if log:
            out.close()
    # Even a clean exit leaves soffice's helpers around now and then; the group is ours alone.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout or b"", b"")


def clean_lo_tmp(tmp: Path) -> None:
    """Remove what LibreOffice leaves in its TMPDIR (lu*.tmp folders, OSL_PIPE_* sockets)."""
    for p in list(tmp.glob("lu*.tmp")) + list(tmp.glob("OSL_PIPE_*")):
        try:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink()
        except OSError:
            pass


def convert_once(docx: Path, pdf: Path, config: Config) -> Path:
    """One-shot conversion (soffice --headless --convert-to with PDF/A-2b, own profile, own HOME and
    TMPDIR, FONTCONFIG_FILE = config.fonts_dir / 'fonts.conf'); writes ``pdf`` atomically."""
    docx, pdf = Path(docx), Path(pdf)
    check_input(docx)
    exe = _require_soffice()
    with tempfile.TemporaryDirectory(prefix="gongwen-once-") as work:
        work = Path(work)
        profile, home, tmp, out = (work / n for n in ("profile", "home", "tmp", "out"))
        for d in (home, tmp, out):
            d.mkdir()
        # Convert a copy with a plain name: soffice names its output after the input, and the
        # user's file (in a read-only inbox, with any name) stays untouched.
        src = work / "doc" / ("input" + docx.suffix.lower())
        src.parent.mkdir()
        shutil.copyfile(docx, src)
        res = soffice_batch(exe, [src], out, profile, lo_env(config, home, tmp),
                            config.converter.timeout_s)
        if res is None:
            raise ConversionError(
                f"{docx.name} 转换超时（超过 {config.converter.timeout_s:g} 秒），已终止 LibreOffice；可稍后重试")
        made = out / "input.pdf"
        if not made.is_file():
            tail = res.stdout.decode("utf-8", "replace").strip()[-400:]
            raise ConversionError(f"LibreOffice 未能转换 {docx.name}（退出码 {res.returncode}）：{tail}")
        validate_pdf(made, docx)
        return atomic_copy(made, pdf)
