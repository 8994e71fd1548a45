"""OCR of scans and images: OCRmyPDF with Debian's Tesseract (``chi_sim``) makes a searchable
PDF/A-2b for the archive; the text comes back from it.

Choices (measured in recipes-next.md §1 and bench/bench_incoming.py):
- OCRmyPDF runs as its own process (``python -m ocrmypdf``) with a time limit, so a page that hangs
  Tesseract or a crash cannot stall or take down the service; its exit status is turned into a
  Chinese reason. It sets ``OMP_THREAD_LIMIT`` for Tesseract itself (without it a page takes 4.6 s
  instead of 0.8 s on 2 cores).
- PDF/A through OCRmyPDF's internal backend (pikepdf writes and validates it): Debian 12's
  Ghostscript 10.0.0 corrupts PDFs with existing text and OCRmyPDF refuses it for pages that keep
  their text, so Ghostscript is never used.
- Tesseract sees the red channel only (``redchannel.py``): a seal no longer wipes out the 署名 and
  the date.
- Only copies are OCR'd. OCRmyPDF refuses a signed PDF unless told it may invalidate the signature;
  it is told so because it works on a copy in a work folder — the original is filed untouched.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..errors import IncomingError

PLUGIN = Path(__file__).with_name("redchannel.py")
# Seconds a document may take: a fixed start plus this much per page (a page takes 1–4 s here).
TIMEOUT_BASE_S = 120.0
TIMEOUT_PER_PAGE_S = 60.0
INSTALL_HINT = "请安装 Tesseract：apt-get install --no-install-recommends tesseract-ocr tesseract-ocr-chi-sim"

# ocrmypdf's exit codes (ocrmypdf.ExitCode) → what a clerk is told.
_EXIT = {
    2: "OCR 参数有误",
    3: f"缺少 OCR 所需的程序（{INSTALL_HINT}）",
    4: "OCR 生成的 PDF 无效",
    5: "OCR 无法读写文件",
    6: "文件已有文字层",
    7: "OCR 子进程出错",
    8: "PDF 已加密，无法识别",
    9: "OCR 配置有误",
    10: "无法生成 PDF/A",
    15: "OCR 出错",
}


@dataclass(frozen=True)
class OcrResult:
    pdf: Path                # the searchable PDF/A-2b
    pages: int               # pages OCR'd (the others kept their text layer)
    seconds: float


def tesseract_languages() -> set[str] | None:
    """Languages Tesseract has data for; None when tesseract is not installed."""
    try:
        res = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {line.strip() for line in res.stdout.splitlines()[1:] if line.strip()}


def ocr_pdf(src: Path, out: Path, config: Config, *, pages: int, force: bool = False,
            deskew: bool | None = None) -> OcrResult:
    """OCR ``src`` (a copy; never a signed original) into the PDF/A-2b ``out``. Pages that already
    carry text keep it (``skip``); ``force`` rasterises every page and reads it anew (for a text layer
    that is not usable, or a PDF that cannot be made PDF/A as it is). Raises IncomingError with a
    Chinese reason."""
    cfg = config.incoming
    langs = tesseract_languages()
    if langs is None:
        raise IncomingError(f"找不到 Tesseract，无法识别扫描件。{INSTALL_HINT}")
    missing = [lang for lang in cfg.ocr_languages if lang not in langs]
    if missing:
        raise IncomingError(f"Tesseract 缺少语言数据 {'、'.join(missing)}。{INSTALL_HINT}")
    deskew = cfg.ocr_deskew if deskew is None else deskew
    args = [sys.executable, "-m", "ocrmypdf", "--quiet", "--language", "+".join(cfg.ocr_languages),
            "--output-type", "pdfa-2", "--pdfa-backend", "internal", "--jobs", str(cfg.ocr_jobs),
            "--plugin", str(PLUGIN), "--invalidate-digital-signatures",
            "--image-dpi", str(cfg.ocr_default_dpi), "--max-image-mpixels", str(cfg.max_image_megapixels),
            "--mode", "force" if force else "skip"]
    if deskew:
        # Real scans lie a little crooked or sideways: straightening gains more than it costs.
        args += ["--rotate-pages", "--deskew"]
    args += [str(src), str(out)]
    timeout = TIMEOUT_BASE_S + TIMEOUT_PER_PAGE_S * max(pages, 1)
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise IncomingError(f"文字识别超时（超过 {timeout:.0f} 秒），已终止；请检查扫描件或稍后重试") from None
    if proc.returncode != 0 or not out.is_file():
        tail = err.decode("utf-8", "replace").strip().splitlines()
        why = _EXIT.get(proc.returncode, f"OCR 失败（退出码 {proc.returncode}）")
        detail = tail[-1][:200] if tail else ""
        raise IncomingError(f"{why}" + (f"：{detail}" if detail else ""))
    return OcrResult(out, pages, time.perf_counter() - t0)


def _kill(proc: subprocess.Popen) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(5)
            return
        except subprocess.TimeoutExpired:
            continue
