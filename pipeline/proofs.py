"""清样 (proofs): a draft read and reviewed exactly as for issue, rendered with its real template and
laid out as its document will be — but with the number left blank (珠政发〔2015〕　　号), no seal, no
signature, and a light diagonal 「清样」 on every page — so the head can sign it off before anything is
numbered. The PDF comes back beside the draft as ``<name>.清样.pdf`` (with ``<name>.问题.txt`` when
there are problems, warnings included); a corrected draft replaces both. Nothing is filed, indexed or
registered: the only trace is the 清样 event in the 清样签发登记 (signoff.record_proof).

Crash safety: the draft is never moved or changed; the PDF is built in the work folder, recorded,
then renamed into place, so a 清样 beside a draft is always one the book knows (a rerun after a crash
records nothing twice and puts the file in place).
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Literal

from .config import Config, Route
from .errors import ConversionError, GongwenError, LedgerError, SigningError, TemplateError
from .fsutil import NOTE_SUFFIX, atomic_copy, fit_name, note_path, readable, readable_path
from .model import Draft, Problem, ProofOutcome

PROOF_SUFFIX = ".清样.pdf"
MARK_TEXT = "清样"
# The mark: grey at low opacity, blended with /Multiply so the text under it stays black; its two
# characters span about half the page's diagonal and run along it (bottom-left to top-right).
MARK_RGB = (128, 128, 128)
MARK_OPACITY = 0.28
MARK_SPAN = 0.5
MARK_DPI = 100          # the mark is a soft shape; 100 dpi is smooth on screen and paper, and small
# Keys of the PDF's document information saying what it is and which draft content it shows.
INFO_PROOF, INFO_HASH = "/GongwenProof", "/GongwenContentHash"
NOTE_FOOTER = "修改后保存在原处（同名）即自动重出清样，旧清样随之替换；出清样不占用文号。"


def proof_path(draft: Path) -> Path:
    """``<name>.清样.pdf`` beside the draft (the whole file name, as for the 问题 note; the name cut
    if it would not fit)."""
    draft = Path(draft)
    return draft.with_name(fit_name(draft.stem, draft.suffix + PROOF_SUFFIX))


def is_output(name: str) -> bool:
    """Files gongwen writes beside drafts (清样 and notes): never drafts themselves."""
    return name.endswith((PROOF_SUFFIX, NOTE_SUFFIX))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


# --- the mark -----------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=8)
def _mark(width_pt: float, height_pt: float, font_file: str, font_index: int):
    """The mark for a page of this size: (RGBA image, its width and height in points)."""
    from PIL import Image, ImageDraw, ImageFont

    scale = MARK_DPI / 72
    diagonal = math.hypot(width_pt, height_pt)
    char_pt = diagonal * MARK_SPAN / (len(MARK_TEXT) + 0.3 * (len(MARK_TEXT) - 1))
    px = max(16, round(char_pt * scale))
    face = ImageFont.truetype(font_file, size=px, index=font_index)
    canvas = Image.new("L", (round(px * (len(MARK_TEXT) * 1.3 + 1)), round(px * 1.6)), 0)
    draw = ImageDraw.Draw(canvas)
    for i, ch in enumerate(MARK_TEXT):
        draw.text((px * (0.5 + 1.3 * i), px * 0.2), ch, font=face, fill=255)
    box = canvas.getbbox()
    if box is None:
        raise SigningError(f"字体 {Path(font_file).name} 缺少「{MARK_TEXT}」两字，无法画清样标记")
    angle = math.degrees(math.atan2(height_pt, width_pt))
    alpha = canvas.crop(box).rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    alpha = alpha.point(lambda v: round(v * MARK_OPACITY))
    img = Image.new("RGBA", alpha.size, MARK_RGB + (0,))
    img.putalpha(alpha)
    return img, alpha.width / scale, alpha.height / scale


@functools.lru_cache(maxsize=4)
def _mark_font(fontconfig_file: str | None) -> tuple[Path, int]:
    """The mark's face (the seal's bold Song/Hei, through fontconfig), looked up once per process."""
    from .seal import find_seal_font

    return find_seal_font(Path(fontconfig_file) if fontconfig_file else None)


def apply_mark(pdf_in: Path, pdf_out: Path, config: Config, *, content_hash: str = "") -> Path:
    """Draw the diagonal 「清样」 centred on every page of ``pdf_in`` into ``pdf_out`` (atomically)."""
    from .seal import overlay_image

    conf = config.fonts_dir / "fonts.conf"
    font_file, font_index = _mark_font(str(conf) if conf.is_file() else None)

    def where(_i: int, box: tuple[float, ...]):
        x0, y0, x1, y1 = box
        _, w, h = _mark(round(x1 - x0, 1), round(y1 - y0, 1), str(font_file), font_index)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2

    from pypdf import PdfReader

    first = PdfReader(pdf_in).pages[0].mediabox
    img, _, _ = _mark(round(float(first.width), 1), round(float(first.height), 1), str(font_file), font_index)
    return overlay_image(pdf_in, pdf_out, img, where, name="GwProof",
                         info={INFO_PROOF: MARK_TEXT, INFO_HASH: content_hash})


# --- one 清样 ------------------------------------------------------------------------------------------

def _replace_into(src: Path, dest: Path) -> Path:
    """Move a finished file into place in one step (a rename); across filesystems an atomic copy."""
    try:
        os.replace(src, dest)
    except OSError as e:
        if e.errno != 18:    # EXDEV
            raise
        atomic_copy(src, dest)
        src.unlink(missing_ok=True)
    return dest


def make_proof(path: Path, svc, *, route: Route | None = None, beside: Path | None = None) -> ProofOutcome:
    """The 清样 of the draft at ``path``, put beside ``beside`` (default: the draft itself; the
    watcher works on a snapshot and puts the result beside the dropped file). Returns what happened;
    raises only on a programming error. A draft that changed or went away meanwhile gets nothing
    (status failed, and the watcher proofs the new version)."""
    from . import render, signoff, stamp
    from .numbers import blank_number
    from .process import read_and_check, write_note

    t0 = time.perf_counter()
    path = Path(path)
    beside = Path(beside) if beside else path
    config: Config = svc.config
    out_pdf, note = proof_path(beside), note_path(beside)
    file_hash = sha256_file(path)

    def done(status: Literal["proof", "rejected", "failed"], problems, draft: Draft | None = None, **kw) -> ProofOutcome:
        return ProofOutcome(file=readable_path(beside), status=status, problems=tuple(problems),
                            title=draft.title if draft else None,
                            seconds=round(time.perf_counter() - t0, 3), **kw)

    def still_there() -> bool:
        return beside == path or (beside.is_file() and sha256_file(beside) == file_hash)

    def reject(problems, draft):
        if not still_there():
            return _gone(done, draft)
        out_pdf.unlink(missing_ok=True)      # a 清样 beside a draft is that draft's, or none
        n = write_note(problems, beside.name, beside.parent, exact=True, footer=NOTE_FOOTER)
        return done("rejected", problems, draft, note=str(n))

    draft, problems = read_and_check(path, config, route)
    if draft is None or draft.series is None or any(p.severity == "error" for p in problems):
        return reject(problems, draft)   # (no 机关代字 is one of the errors)
    try:
        year = svc.ledger.year_for(draft)
    except LedgerError:
        year = dt.date.today().year
    number = blank_number(config, draft.series, year)

    work = config.work_dir / "proofs" / f"{dt.datetime.now():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
    work.mkdir(parents=True, exist_ok=True)
    try:
        docx, pdf, marked = work / "清样.docx", work / "清样.pdf", work / "marked.pdf"
        try:
            # laid out exactly as its document will be (render.lay_out, as process does it)
            render.lay_out(draft, number, config, docx, convert=lambda d: svc.converter.convert(d, pdf),
                           settle=lambda layout: stamp.check_layout(pdf, draft=draft, config=config,
                                                                    last_attempt=layout.last))
        except TemplateError as e:
            return reject([*problems, Problem("模板", f"无法套用模板：{e}")], draft)
        except render.LayoutExhausted as e:
            what = "印章、署名和成文日期" if config.series[draft.series].sealed else "署名和成文日期"
            return reject([*problems, Problem("版面", f"正文末页放不下{what}（已调整行距仍不行：{e}）；"
                                                       "请精简末段或调整附件说明后重新出清样")], draft)
        h = draft.substantive_hash()
        apply_mark(pdf, marked, config, content_hash=h)
        if not still_there():
            return _gone(done, draft)
        key = signoff.route_key_of(beside, config, config.proofs)
        case = signoff.record_proof(svc.ledger, config, route=key, name=readable(beside.name), draft=draft,
                                    file_hash=file_hash, pdf=out_pdf, actor=svc.actor)
        _replace_into(marked, out_pdf)
        written = None
        if problems:
            written = str(write_note(problems, beside.name, beside.parent, exact=True, footer=NOTE_FOOTER,
                                     header=f"清样已生成（{out_pdf.name}），另有以下问题请核对："))
        else:
            note.unlink(missing_ok=True)
        return done("proof", problems, draft, pdf=str(out_pdf), note=written, case=case.id)
    except (ConversionError, SigningError, LedgerError, OSError) as e:
        return done("failed", [*problems, Problem("清样", f"暂未能出清样（可重试）：{e}")], draft)
    except GongwenError as e:
        return done("failed", [*problems, Problem("清样", f"暂未能出清样：{e}")], draft)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _gone(done, draft):
    return done("failed", [Problem("清样", "出清样期间草稿被修改或移走，未生成清样（修改后的草稿会重新出清样）", "warning")],
                draft, note=None)


def has_current_proof(svc, path: Path) -> bool:
    """The draft at ``path`` (in proofs/) already has its 清样: made of exactly these bytes, recorded,
    and beside it (the watcher's test before it makes one)."""
    from . import signoff

    config: Config = svc.config
    key = signoff.route_key_of(path, config, config.proofs)
    try:
        digest = sha256_file(path)
    except OSError:
        return False
    return signoff.proof_is_current(svc.ledger, config, key, readable(Path(path).name), digest)


def clean_leftovers(folder: Path) -> list[Path]:
    """Temporary files an interrupted atomic copy of a 清样 or note left in a proofs folder."""
    out = []
    for p in Path(folder).glob(".*.tmp"):
        inner = p.name[1:].rsplit(".", 2)[0]
        if is_output(inner):
            p.unlink(missing_ok=True)
            out.append(p)
    return out

