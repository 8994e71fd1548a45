""".docx → PDF/A-2b with LibreOffice: a one-shot `soffice --convert-to`, and a persistent converter."""
from __future__ import annotations

import http.client
import importlib.util
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import xmlrpc.client
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import model
from .config import Config
from .errors import ConversionError
from .fsutil import atomic_copy

if TYPE_CHECKING:
    from filelock import BaseFileLock

log = logging.getLogger("gongwen.convert")

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


# LibreOffice reads Word's <w:overflowPunct> the wrong way round: its DOCX import (writerfilter's
# DomainMapper, 7.4 and the later versions looked at) sets ParaIsHangingPunctuation = (w:val == 0). So
# the w:val="0" our templates carry for Word and WPS ("punctuation must not extend past the text
# extents", ECMA-376 17.3.1.21) made LibreOffice hang 。，、 past the 版心 (measured in
# recipes-next.md §6; tests/test_layout_pdf.py reads it on the PDF). LibreOffice is therefore given a
# copy with every explicit overflowPunct inverted; a document that says nothing hangs in both readings
# (their common default) and is given as it is.
_OVERFLOW_PUNCT = re.compile(rb'<w:overflowPunct(?:\s+w:val="([^"]*)")?\s*/>')
_WORD_XML = re.compile(r"^word/[^/]+\.xml$")


def _invert_overflow_punct(m: re.Match) -> bytes:
    on = m.group(1) is None or m.group(1).lower() not in (b"0", b"false", b"off")
    return b'<w:overflowPunct w:val="0"/>' if on else b'<w:overflowPunct w:val="1"/>'


def libreoffice_input(docx: Path, workdir: Path) -> Path:
    """``docx`` as LibreOffice must read it: the file itself, or a copy under ``workdir`` (same file
    name, so soffice names its output alike) with every w:overflowPunct inverted (see above). The
    given file is never changed; what is not a readable Word document is passed on as it is."""
    docx = Path(docx)
    if docx.suffix.lower() not in (".docx", ".docm", ".dotx"):
        return docx
    try:
        with zipfile.ZipFile(docx) as z:
            infos = z.infolist()
            changed = {}
            for info in infos:
                if _WORD_XML.match(info.filename):
                    data = z.read(info)
                    if b"overflowPunct" in data:
                        changed[info.filename] = _OVERFLOW_PUNCT.sub(_invert_overflow_punct, data)
            if not changed:
                return docx
            folder = Path(tempfile.mkdtemp(prefix="lo-input-", dir=workdir))
            out = folder / docx.name
            # Stored, not deflated: the copy lives for one conversion, and compressing it cost more
            # than reading it (about 10 ms a document).
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
                for info in infos:
                    dst.writestr(info.filename, changed.get(info.filename) or z.read(info))
            return out
    except (zipfile.BadZipFile, OSError, KeyError):
        return docx


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
                  timeout: float, log: Path | None = None,
                  procs: dict | None = None) -> subprocess.CompletedProcess | None:
    """Run one `soffice --convert-to` over ``inputs`` into ``outdir``. Returns None on timeout (the
    process group has been killed). Output files are ``outdir/<input stem>.pdf``. The running process
    is kept in ``procs["batch"]`` meanwhile (so that its owner can find or stop it)."""
    staging = Path(tempfile.mkdtemp(prefix="gongwen-lo-in-", dir=Path(outdir).parent))
    try:
        inputs = [libreoffice_input(p, staging) for p in inputs]
        cmd = [str(exe), f"-env:UserInstallation={profile.resolve().as_uri()}", "--headless", "--norestore",
               "--nologo", "--nodefault", "--nolockcheck", "--convert-to", PDFA_FILTER_SOFFICE,
               "--outdir", str(outdir), *[str(p) for p in inputs]]
        logf = open(log, "ab") if log else None
        try:
            proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                    stdout=logf if logf is not None else subprocess.PIPE,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            if logf is not None:
                logf.close()
            raise ConversionError(f"无法启动 LibreOffice（{exe}：{e}）。{INSTALL_HINT}") from e
        if procs is not None:
            procs["batch"] = proc
        try:
            stdout, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            return None
        finally:
            if logf is not None:
                logf.close()
            if procs is not None:
                procs["batch"] = None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # Even a clean exit leaves soffice's helpers around now and then; the group is ours alone.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout or b"", b"")


def kill_orphans(profile: Path) -> list[int]:
    """Kill processes (unoserver, soffice.bin) whose command line names ``profile``: leftovers of a
    converter whose owner was killed. Returns their pids."""
    import psutil

    needle = str(Path(profile).resolve())
    killed = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or ())
            if needle in cmd and proc.pid != os.getpid():
                proc.kill()
                killed.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    if killed:
        log.warning("killed LibreOffice left behind by a previous run: %s", killed)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(p) for p in killed):
            time.sleep(0.1)
    return killed


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
    with tempfile.TemporaryDirectory(prefix="gongwen-once-") as work_name:
        work = Path(work_name)
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


# --- the persistent converter ---------------------------------------------------------------------

# unoserver waits 7 s by design before it serves (server.py sleeps 5 + 2 s); allow for a loaded machine.
START_TIMEOUT_S = 90.0
# Fallback mode: one soffice start (~1 s) per batch instead of per file (20 files: 3.2 s, recipes.md).
BATCH_SIZE = 20
# A document under which LibreOffice died is tried once more on a fresh LibreOffice (a crash is more
# often the process than the document); a second death is the document's error.
RETRIES_AFTER_CRASH = 1
LOG_ROTATE_BYTES = 5 << 20


@dataclass
class ConverterStats:
    """What a Converter has done (mutable counters it owns; read by tests, logs and the bench)."""

    starts: int = 0      # LibreOffice starts (unoserver mode)
    restarts: int = 0    # starts after a death, a kill or a timeout
    converted: int = 0   # PDFs written
    retried: int = 0     # documents retried because LibreOffice died under them
    timeouts: int = 0
    failed: int = 0      # documents given back as ConversionError


class _Client:
    """unoserver's UnoClient, minus its connection retries (5 × 10 s sleeps): a refused connection
    means our server is gone, and we restart it ourselves."""

    def __init__(self, port: int):
        from unoserver.client import UnoClient

        class Client(UnoClient):
            def _connect(self, proxy, retries=5, sleep=10):
                return super()._connect(proxy, retries=1, sleep=0)

        self._client = Client(server="127.0.0.1", port=str(port), host_location="local")

    def convert(self, src: Path, out: Path) -> None:
        self._client.convert(inpath=str(src), outpath=str(out), filter_options=list(PDFA_FILTER_OPTIONS))


class _TimeoutTransport(xmlrpc.client.Transport):
    def __init__(self, timeout: float):
        super().__init__()
        self._timeout = timeout

    def make_connection(self, host):
        conn = super().make_connection(host)
        conn.timeout = self._timeout
        return conn


def _free_ports(n: int) -> list[int]:
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _alive(pid: int | None) -> bool:
    import psutil

    if not pid:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _office_pid(root_pid: int, wait_s: float = 3.0) -> int | None:
    """The soffice.bin under ``root_pid`` (soffice is a shell script → oosplash → soffice.bin)."""
    import psutil

    deadline = time.monotonic() + wait_s
    while True:
        try:
            kids = psutil.Process(root_pid).children(recursive=True)
        except psutil.Error:
            return None
        for k in kids:
            try:
                if k.name() == "soffice.bin":
                    return k.pid
            except psutil.Error:
                continue
        if time.monotonic() > deadline:
            return kids[0].pid if kids else None
        time.sleep(0.05)


def _listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` itself listens on ``port`` (not some other server that took it)."""
    import psutil

    try:
        conns = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.Error:
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in conns)


def _reap(box: dict) -> None:
    """Finalizer: never leave a LibreOffice or a temporary folder behind when a Converter is
    dropped without stop()."""
    for key in ("server", "batch"):
        if box.get(key) is not None:
            kill_group(box[key], grace=2)
    if box.get("tempdir") is not None:
        shutil.rmtree(box["tempdir"], ignore_errors=True)


def _tail(path: Path | None, n: int = 600) -> str:
    if path is None:
        return ""
    try:
        data = path.read_bytes()[-n:]
    except OSError:
        return ""
    return data.decode("utf-8", "replace").strip()


def _short(e: BaseException | None) -> str:
    if e is None:
        return "原因不明"
    if isinstance(e, xmlrpc.client.Fault):
        msg = e.faultString
    else:
        msg = f"{type(e).__name__}: {e}"
    msg = msg.strip().splitlines()[-1] if msg.strip() else type(e).__name__
    return msg[:300]


class Converter:
    """A persistent LibreOffice (unoserver) owned by gongwen: started on first use or by start(),
    stopped by stop()/close() (context manager), own profile + HOME + TMPDIR under a work folder,
    restarted automatically if it dies, a per-document timeout (config.converter.timeout_s) after
    which it is killed and restarted, and a fallback to batched `soffice --convert-to` when
    unoserver cannot run (config.converter.mode = "soffice" forces it).

    One document at a time (LibreOffice is single-threaded): calls from several threads queue on a
    lock. A work folder given by the caller is kept (its profile makes the next start faster) and
    locked against a second Converter; without one a temporary folder is used and removed on stop().
    """

    def __init__(self, config: Config, workdir: Path | None = None):
        self.config = config
        # Per-document limit; an attribute so that a caller (or a test) can tighten it.
        self.timeout_s: float = config.converter.timeout_s
        self.stats = ConverterStats()
        self.fallback_reason: str | None = None  # why unoserver mode was given up, if it was
        self._mode = config.converter.mode
        self._workdir_arg = Path(workdir) if workdir is not None else None
        self.workdir: Path | None = None
        self._temp_workdir = False
        self._filelock: BaseFileLock | None = None
        self._server: subprocess.Popen | None = None
        self._port: int | None = None
        self._office: int | None = None
        self._lock = threading.RLock()
        # What must not outlive this object: the processes and a temporary work folder.
        self._procs: dict = {"server": None, "batch": None, "tempdir": None}
        import weakref

        self._finalizer = weakref.finalize(self, _reap, self._procs)

    # --- life cycle -------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        """"unoserver" or "soffice" (configured, or fallen back to; see fallback_reason)."""
        return self._mode

    @property
    def pid(self) -> int | None:
        """The running soffice.bin process (tests kill it), or None when none runs."""
        if self._mode == "unoserver":
            return self._office if _alive(self._office) else None
        batch = self._procs.get("batch")
        if batch is not None and batch.poll() is None:
            pid = _office_pid(batch.pid, wait_s=0)
            return pid if _alive(pid) else None
        return None

    @property
    def log_path(self) -> Path | None:
        return self.workdir / "libreoffice.log" if self.workdir else None

    def __enter__(self) -> "Converter":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def close(self) -> None:
        self.stop()

    def start(self) -> None:
        """Start LibreOffice now (otherwise the first conversion does). Raises ConversionError when
        LibreOffice is not installed."""
        with self._lock:
            _require_soffice()
            self._prepare()
            if self._mode == "soffice" or (self._server is not None and self._server.poll() is None):
                return
            reason = self._unoserver_unusable()
            if reason:
                self._fall_back(reason)
                return
            try:
                self._start_server()
            except ConversionError:
                # Once more on fresh ports (one may have been taken between choosing and binding).
                try:
                    self._start_server()
                except ConversionError as e:
                    self._fall_back(str(e))

    def stop(self) -> None:
        """Stop LibreOffice (the whole process group) and clean its temporary files. Idempotent; the
        converter can be used again afterwards (it starts anew)."""
        with self._lock:
            self._kill_server()
            batch = self._procs.get("batch")
            if batch is not None:
                kill_group(batch, grace=2)
                self._procs["batch"] = None
            if self.workdir is not None:
                clean_lo_tmp(self.workdir / "tmp")
                if self._temp_workdir:
                    shutil.rmtree(self.workdir, ignore_errors=True)
                    self._procs["tempdir"] = None
                if self._filelock is not None:
                    self._filelock.release()
                    self._filelock = None
                self.workdir = None

    def _prepare(self) -> None:
        if self.workdir is not None:
            return
        wd = None
        if self._workdir_arg is not None:
            from filelock import FileLock, Timeout

            self._workdir_arg.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(self._workdir_arg / ".converter.lock"))
            try:
                lock.acquire(timeout=0)
                self._filelock, wd, self._temp_workdir = lock, self._workdir_arg, False
                # The lock was free, so any LibreOffice still using this profile was left behind by
                # an owner that died without stopping it (SIGKILL): end it before starting anew.
                kill_orphans(wd / "profile")
            except Timeout:
                # Another Converter (e.g. the watcher service) owns that profile: two LibreOffice
                # processes must never share one. Work in a private temporary folder instead.
                log.info("work folder %s is in use by another converter; using a temporary one",
                         self._workdir_arg)
        if wd is None:
            wd, self._temp_workdir = Path(tempfile.mkdtemp(prefix="gongwen-lo-")), True
            self._procs["tempdir"] = wd
        for sub in ("profile", "home", "tmp", "out", "batch"):
            (wd / sub).mkdir(parents=True, exist_ok=True)
        self.workdir = wd

    def _env(self) -> dict[str, str]:
        assert self.workdir is not None
        return lo_env(self.config, self.workdir / "home", self.workdir / "tmp")

    @staticmethod
    def _unoserver_unusable() -> str | None:
        if importlib.util.find_spec("unoserver") is None:
            return "未安装 unoserver（pip install unoserver），改用 soffice 批量转换"
        if importlib.util.find_spec("uno") is None:
            return ("无法导入 uno（请安装 Debian 软件包 python3-uno，并按 Makefile 在 .venv 中建立 uno 链接），"
                    "改用 soffice 批量转换")
        return None

    def _fall_back(self, reason: str) -> None:
        log.warning("unoserver unusable, falling back to soffice --convert-to: %s", reason)
        self._kill_server()
        self._mode = "soffice"
        self.fallback_reason = reason

    def _rotate_log(self) -> None:
        lp = self.log_path
        if lp and lp.exists() and lp.stat().st_size > LOG_ROTATE_BYTES:
            os.replace(lp, lp.with_suffix(".log.1"))

    def _start_server(self) -> None:
        assert self.workdir is not None
        exe = _require_soffice()
        self._kill_server()
        self._rotate_log()
        if self.config.converter.port:
            port, uno_port = self.config.converter.port, _free_ports(1)[0]
        else:
            port, uno_port = _free_ports(2)
        cmd = [sys.executable, "-m", "unoserver.server", "--executable", str(exe),
               "--user-installation", str((self.workdir / "profile").resolve()),
               "--interface", "127.0.0.1", "--uno-interface", "127.0.0.1",
               "--port", str(port), "--uno-port", str(uno_port)]
        log_path = self.log_path
        assert log_path is not None   # with a workdir
        with open(log_path, "ab") as logf:
            try:
                proc = subprocess.Popen(cmd, env=self._env(), cwd=self.workdir, stdin=subprocess.DEVNULL,
                                        stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
            except OSError as e:
                raise ConversionError(f"无法启动 unoserver（{e}）") from e
        self._server, self._procs["server"], self._port = proc, proc, port
        if self.stats.starts:
            self.stats.restarts += 1
        self.stats.starts += 1
        proxy_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                self._kill_server()
                raise ConversionError(f"unoserver 未能启动（退出码 {proc.returncode}）：{_tail(self.log_path)}")
            if time.monotonic() > deadline:
                self._kill_server()
                raise ConversionError(f"unoserver 在 {START_TIMEOUT_S:g} 秒内未就绪：{_tail(self.log_path)}")
            try:
                with xmlrpc.client.ServerProxy(proxy_url, transport=_TimeoutTransport(5)) as px:
                    px.info()
                break
            except (OSError, xmlrpc.client.Error, http.client.HTTPException):
                # Refused until it binds (after its 5 s sleep); a timeout while it reaches LibreOffice.
                time.sleep(0.2)
        if not _listens(proc.pid, port):
            # The free port was taken between choosing it and binding it, by another server.
            self._kill_server()
            raise ConversionError(f"端口 {port} 被其他程序占用，unoserver 未能启动")
        self._office = _office_pid(proc.pid)
        log.info("LibreOffice ready (unoserver port %s, soffice.bin pid %s)", port, self._office)

    def _kill_server(self) -> None:
        if self._server is not None:
            kill_group(self._server, grace=3)
        self._server, self._procs["server"], self._office, self._port = None, None, None, None
        if self.workdir is not None:
            clean_lo_tmp(self.workdir / "tmp")

    def _server_dead(self) -> bool:
        return (self._server is None or self._server.poll() is not None
                or (self._office is not None and not _alive(self._office)))

    # --- conversion -------------------------------------------------------------------------
    def convert(self, docx: Path, pdf: Path) -> Path:
        """Convert one document to PDF/A-2b at ``pdf`` (atomic write). ConversionError otherwise;
        the document can be converted again later."""
        docx, pdf = Path(docx), Path(pdf)
        check_input(docx)
        with self._lock:
            if self.workdir is None or (self._mode == "unoserver" and self._server is None):
                self.start()
            if self._mode == "soffice":
                result = self._convert_batch([(docx, pdf)])[0]
                if isinstance(result, ConversionError):
                    raise result
                return result
            return self._convert_uno(docx, pdf)

    def convert_many(self, pairs: list[tuple[Path, Path]]) -> list[Path | ConversionError]:
        """Convert each (docx, pdf) pair; one result per pair, in order: the PDF written, or the
        ConversionError for that document (the others go on)."""
        pairs = [(Path(d), Path(p)) for d, p in pairs]
        with self._lock:
            if self.workdir is None or (self._mode == "unoserver" and self._server is None):
                self.start()
            if self._mode == "soffice":
                return self._convert_batch(pairs)
            results: list[Path | ConversionError] = []
            for docx, pdf in pairs:
                try:
                    results.append(self.convert(docx, pdf))
                except ConversionError as e:
                    results.append(e)
            return results

    def _convert_uno(self, docx: Path, pdf: Path) -> Path:
        assert self.workdir is not None
        src = docx.resolve()
        for attempt in range(1 + RETRIES_AFTER_CRASH):
            if self._server_dead():
                if self._server is not None:
                    log.warning("LibreOffice is gone; restarting it")
                self._kill_server()
                self.start()
                if self._mode == "soffice":   # unoserver could not come back: carry on without it
                    return self.convert(docx, pdf)
            out = self.workdir / "out" / f"{uuid.uuid4().hex}.pdf"
            lo_src = libreoffice_input(src, self.workdir / "out")
            try:
                status, err = self._call(lo_src, out)
                if status == "ok":
                    validate_pdf(out, docx)
                    atomic_copy(out, pdf)
                    self.stats.converted += 1
                    return pdf
                if status == "timeout":
                    self.stats.timeouts += 1
                    self.stats.failed += 1
                    raise ConversionError(
                        f"{docx.name} 转换超时（超过 {self.timeout_s:g} 秒）：已终止 LibreOffice，下一份文档将自动重启；"
                        "该文档未生成 PDF，可稍后重试")
                if status == "crashed":
                    log.warning("LibreOffice died while converting %s (attempt %d): %s",
                                docx, attempt + 1, _short(err))
                    self._kill_server()
                    if attempt < RETRIES_AFTER_CRASH:
                        self.stats.retried += 1
                        continue
                    self.stats.failed += 1
                    raise ConversionError(f"LibreOffice 在转换 {docx.name} 时{attempt + 1}次崩溃；该文档未生成 PDF，可稍后重试")
                self.stats.failed += 1
                raise ConversionError(f"LibreOffice 无法转换 {docx.name}：{_short(err)}")
            finally:
                out.unlink(missing_ok=True)
                if lo_src != src:
                    shutil.rmtree(lo_src.parent, ignore_errors=True)
        raise AssertionError("unreachable")

    def _call(self, src: Path, out: Path) -> tuple[str, BaseException | None]:
        """One conversion on the server, bounded by the timeout: "ok", "timeout", "crashed" (the
        server or soffice died) or "failed" (LibreOffice refused the document)."""
        box: dict[str, BaseException] = {}
        if self._port is None:   # the server is gone: a restart and a retry, as for a crash
            return "crashed", ConversionError("unoserver 未在运行")
        client = _Client(self._port)

        def work():
            try:
                client.convert(src, out)
            except BaseException as e:  # handed to the calling thread
                box["error"] = e

        t = threading.Thread(target=work, name="gongwen-convert", daemon=True)
        t.start()
        t.join(self.timeout_s)
        if t.is_alive():
            log.warning("conversion of %s timed out after %s s; killing LibreOffice", src, self.timeout_s)
            self._kill_server()
            t.join(10)   # the killed server closes the connection, which ends the call
            return "timeout", None
        err = box.get("error")
        if err is None:
            if out.is_file():
                return "ok", None
            err = RuntimeError("no output written")
        if self._server_dead():
            return "crashed", err
        time.sleep(0.2)   # a death noticed by the bridge a moment before the process is reaped
        return ("crashed" if self._server_dead() else "failed"), err

    # --- fallback: batched soffice --convert-to ---------------------------------------------
    def _convert_batch(self, pairs: list[tuple[Path, Path]]) -> list[Path | ConversionError]:
        results: list[Path | ConversionError | None] = [None] * len(pairs)
        todo = []
        for i, (docx, _) in enumerate(pairs):
            try:
                check_input(docx)
                todo.append(i)
            except ConversionError as e:
                self.stats.failed += 1
                results[i] = e
        for k in range(0, len(todo), BATCH_SIZE):
            self._soffice_chunk(todo[k:k + BATCH_SIZE], pairs, results, retry=True)
        done = [r for r in results if r is not None]
        assert len(done) == len(results)   # every input has its PDF or its error
        return done

    def _soffice_chunk(self, idx: list[int], pairs, results, retry: bool) -> None:
        assert self.workdir is not None
        exe = _require_soffice()
        stage = self.workdir / "batch" / uuid.uuid4().hex
        ins, outs = stage / "in", stage / "out"
        ins.mkdir(parents=True)
        outs.mkdir()
        try:
            # Numbered copies: unique output names whatever the inputs are called.
            srcs = {}
            for i in idx:
                srcs[i] = ins / f"{i:05d}{pairs[i][0].suffix.lower()}"
                shutil.copyfile(pairs[i][0], srcs[i])
            timeout = self.timeout_s * len(idx)
            res = soffice_batch(exe, [srcs[i] for i in idx], outs, self.workdir / "profile", self._env(),
                                timeout, log=self.log_path, procs=self._procs)
            missing = []
            for i in idx:
                made = outs / f"{i:05d}.pdf"
                if not made.is_file():
                    missing.append(i)
                    continue
                try:
                    validate_pdf(made, pairs[i][0])
                    results[i] = atomic_copy(made, pairs[i][1])
                    self.stats.converted += 1
                except ConversionError as e:
                    self.stats.failed += 1
                    results[i] = e
            if res is None:
                self.stats.timeouts += 1
            for i in missing:
                if retry and not (res is None and len(idx) == 1):
                    # Isolate the document that hung or crashed the batch; each gets its own try.
                    self.stats.retried += 1
                    self._soffice_chunk([i], pairs, results, retry=False)
                    continue
                self.stats.failed += 1
                name = pairs[i][0].name
                if res is None:
                    results[i] = ConversionError(
                        f"{name} 转换超时（超过 {self.timeout_s:g} 秒），已终止 LibreOffice；该文档未生成 PDF，可稍后重试")
                else:
                    results[i] = ConversionError(
                        f"LibreOffice 未能转换 {name}（退出码 {res.returncode}）：{_tail(self.log_path, 300)}")
        finally:
            shutil.rmtree(stage, ignore_errors=True)
            clean_lo_tmp(self.workdir / "tmp")



# --- health (for `gongwen doctor`) -----------------------------------------------------------------

AREA = "环境"


def soffice_version(exe: Path, timeout: float = 60.0) -> str:
    """`soffice --version`, run with a throw-away profile, HOME and TMPDIR."""
    with tempfile.TemporaryDirectory(prefix="gongwen-ver-") as work:
        env = dict(os.environ, HOME=work, TMPDIR=work)
        res = subprocess.run([str(exe), f"-env:UserInstallation={Path(work, 'p').as_uri()}", "--version"],
                             env=env, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return res.stdout.decode("utf-8", "replace").strip()


def font_aliases(conf: Path) -> dict[str, list[str]]:
    """Family name → the families fonts.conf maps it to, in order. Reads both the <alias> form
    (prefer/accept/default) and the <match><test family><edit family> form."""
    from defusedxml import ElementTree as ET

    root = ET.parse(str(conf)).getroot()
    out: dict[str, list[str]] = {}
    if root is None:
        return out
    for alias in root.iter("alias"):
        fam = alias.find("family")
        family = (fam.text or "").strip() if fam is not None else ""
        if not family:
            continue
        targets = [f.text.strip() for tag in ("prefer", "accept", "default")
                   for el in alias.findall(tag) for f in el.findall("family") if f.text]
        out.setdefault(family, []).extend(targets)
    for match in root.iter("match"):
        names = [s.text.strip() for t in match.findall("test") if t.get("name") == "family"
                 for s in t.findall("string") if s.text]
        targets = [s.text.strip() for e in match.findall("edit") if e.get("name") == "family"
                   for s in e.findall("string") if s.text]
        for n in names:
            out.setdefault(n, []).extend(targets)
    return out


def fc_match(name: str, conf: Path | None) -> list[str]:
    """The family names fontconfig picks for ``name`` (all its localised names)."""
    env = dict(os.environ)
    if conf is not None:
        env["FONTCONFIG_FILE"] = str(conf.resolve())
    res = subprocess.run(["fc-match", "-f", "%{family}", f"{name}:lang=zh-cn"], env=env,
                         capture_output=True, timeout=30)
    return [f.strip() for f in res.stdout.decode("utf-8", "replace").split(",") if f.strip()]


def _sample_docx(path: Path) -> str:
    """A small .docx with Chinese text in the office body font (East Asian slot); returns its text."""
    from docx import Document
    from docx.oxml.ns import qn

    from .layout import FONT_FANGSONG

    text = "关于开展转换自检的通知"
    doc = Document()
    run = doc.add_paragraph().add_run(text)
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT_FANGSONG)
    doc.save(str(path))
    return text


def health(config: Config) -> list[model.Finding]:
    """Environment checks for `gongwen doctor`: LibreOffice and its version, unoserver and uno,
    the office fonts as fontconfig maps them, and a real test conversion to PDF/A-2b."""
    from . import layout
    from .pdfcheck import inspect_pdf, page_text

    found: list[model.Finding] = []
    exe = find_soffice()
    if exe is None:
        found.append(model.Finding(AREA, "LibreOffice", False, f"找不到 soffice。{INSTALL_HINT}"))
    else:
        try:
            found.append(model.Finding(AREA, "LibreOffice", True, f"{exe}：{soffice_version(exe)}"))
        except (OSError, subprocess.SubprocessError) as e:
            found.append(model.Finding(AREA, "LibreOffice", False, f"{exe} 无法运行：{e}"))

    try:
        from importlib.metadata import version

        found.append(model.Finding(AREA, "unoserver", True, f"unoserver {version('unoserver')}"))
    except Exception:
        found.append(model.Finding(AREA, "unoserver", False, "未安装 unoserver：将退回到 soffice 批量转换（较慢）"))
    # Import uno in a child: importing it here would hook this process's imports.
    res = subprocess.run([sys.executable, "-c", "import uno"], capture_output=True, timeout=60)
    if res.returncode == 0:
        found.append(model.Finding(AREA, "uno（LibreOffice Python 桥）", True, "可导入"))
    else:
        found.append(model.Finding(
            AREA, "uno（LibreOffice Python 桥）", False,
            "无法导入 uno：请安装 python3-uno，并按 Makefile 在 .venv 中建立 uno 链接；将退回到 soffice 批量转换"))
    if config.converter.mode == "soffice":
        found.append(model.Finding(AREA, "转换方式", True, "soffice 批量转换（配置指定）"))
    elif res.returncode == 0 and Converter._unoserver_unusable() is None:
        found.append(model.Finding(AREA, "转换方式", True, "常驻 unoserver"))
    else:
        found.append(model.Finding(AREA, "转换方式", False, "配置为常驻 unoserver，但其无法运行：将退回 soffice 批量转换（较慢）"))

    conf = fonts_conf(config)
    names = [layout.FONT_XIAOBIAOSONG, layout.FONT_FANGSONG, layout.FONT_HEITI, layout.FONT_KAITI,
             layout.FONT_SONGTI]
    if shutil.which("fc-match") is None:
        found.append(model.Finding(AREA, "字体映射", None, "找不到 fc-match（请安装 fontconfig），无法检查字体"))
    elif conf is None:
        found.append(model.Finding(
            AREA, "字体映射", False,
            f"{config.fonts_dir / 'fonts.conf'} 不存在：LibreOffice 使用系统字体配置，公文字体名"
            f"（{'、'.join(names)}）不会映射到指定字体"))
    else:
        try:
            aliases = font_aliases(conf)
        except Exception as e:
            aliases = None
            found.append(model.Finding(AREA, "字体映射", False, f"{conf} 无法解析：{e}"))
        for name in names if aliases is not None else ():
            want = aliases.get(name, []) if aliases is not None else []
            got = fc_match(name, conf)
            if not want:
                found.append(model.Finding(AREA, f"字体 {name}", False,
                                           f"{conf.name} 未映射该字体，实际使用 {got[0] if got else '（无）'}"))
            elif set(got) & set(want):
                found.append(model.Finding(AREA, f"字体 {name}", True, f"→ {got[0]}"))
            else:
                found.append(model.Finding(
                    AREA, f"字体 {name}", False,
                    f"应映射为 {' / '.join(want)}，实际为 {got[0] if got else '（无）'}：请安装对应字体"))

    if exe is None:
        found.append(model.Finding(AREA, "试转换 PDF/A-2b", None, "没有 LibreOffice，未试转换"))
        return found
    with tempfile.TemporaryDirectory(prefix="gongwen-health-") as work:
        docx, pdf = Path(work, "自检.docx"), Path(work, "自检.pdf")
        text = _sample_docx(docx)
        try:
            convert_once(docx, pdf, config)
        except ConversionError as e:
            found.append(model.Finding(AREA, "试转换 PDF/A-2b", False, str(e)))
            return found
        facts = inspect_pdf(pdf)
        problems = []
        if facts.pdfa != PDFA_PART:
            problems.append(f"未声明 PDF/A-2b（{facts.pdfa or '无'}）")
        if not facts.all_fonts_embedded:
            problems.append("有字体未嵌入：" + "、".join(f.name for f in facts.fonts if not f.embedded))
        if text not in page_text(pdf, 1).replace(" ", ""):
            problems.append("中文文字无法从 PDF 中提取")
        found.append(model.Finding(AREA, "试转换 PDF/A-2b", not problems,
                                   "；".join(problems) or f"PDF/A-{facts.pdfa}，字体均已嵌入，中文可提取"))
    return found
