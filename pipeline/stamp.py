"""Stamping a converted PDF: the seal where GB/T 9704 7.3.5 puts it, then the PAdES signature
(pipeline.seal draws, pipeline.sign signs; this module puts them in order and is what the pipeline
imports)."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from .config import Config
from .errors import SigningError
from .layout import Shortfall
from .model import Draft, cn_date
from .seal import (NeedsRelayout, SealPlacement, apply_seal, check_block, compute_placement,
                   place_joint_seals, place_seal, seal_for, seal_image)
from .sign import OfficeKey, Verification, health, init_demo_pki, load_office_key, sign_pdf, verify_pdf

__all__ = ["NeedsRelayout", "OfficeKey", "SealPlacement", "StampResult", "Verification", "apply_seal",
           "check_block", "check_layout", "compute_placement", "health", "init_demo_pki", "load_office_key", "place_seal",
           "seal_and_sign", "seal_for", "seal_image", "seal_name", "sign_pdf", "verify_pdf"]


@dataclass(frozen=True)
class StampResult:
    """What stamping did: where the seal went (None for an unsealed series), the 印章名称 for the
    用印登记 (None when no seal was used), and whether the PDF was signed. A joint document (联合行文)
    has a seal for each organ: ``placements`` and ``seal_names`` in the organs' order, the first
    being the 主办机关's (``placement``, ``seal_name``)."""

    placement: SealPlacement | None
    seal_name: str | None
    signed: bool
    placements: tuple[SealPlacement, ...] = ()
    seal_names: tuple[str, ...] = ()


def seal_name(issuer: str) -> str:
    """The 印章名称 as the 用印登记 lists it."""
    return f"{issuer}印"


def check_layout(pdf: Path, *, draft: Draft, config: Config, last_attempt: bool = False) -> list[SealPlacement]:
    """Whether the converted PDF's 署名/成文日期 block sits where GB/T 9704 7.3.5 wants it: for a sealed
    series the seal's placement (place_seal; place_joint_seals for every organ of a joint document),
    for an unsealed 文件/信函 series the block not alone on a page (check_block), for a 纪要 nothing;
    with config.layout.imprint_on_even_page, the 版记 on an even page. Returns the seals' places
    (none when unsealed). Raises NeedsRelayout (render again, differently) or SigningError (the lines
    are not in the PDF at all). ``last_attempt``: the last layout the pipeline will try, so a page
    holding only the 附件说明 above the 署名 is accepted."""
    series = config.series.get(draft.series or "")
    if series is None:
        raise SigningError(f"未知的发文系列（机关代字）「{draft.series}」，无法确定用哪枚印章")
    date_text = draft.date_text or (cn_date(draft.date) if draft.date else None)
    organs = list(draft.issuers(draft.signature or series.issuer))
    placements: list[SealPlacement] = []
    if not series.sealed:
        if series.format != "纪要" and date_text:
            # 署名 and 成文日期 without a seal (7.3.5.2) must not stand alone on a page either; a
            # joint document's 署名 stand one under another, the last over the date.
            check_block(Path(pdf), signature=organs[-1], date_text=date_text, annex_only_ok=last_attempt,
                        block_above=tuple(organs[:-1]))
    elif not date_text:
        raise SigningError("公文没有成文日期，无法确定用印位置")
    elif len(organs) > 1:
        placements = place_joint_seals(Path(pdf), organs=organs, date_text=date_text,
                                       diameter_mm=config.seal.diameter_mm, annex_only_ok=last_attempt)
    else:
        placements = [place_seal(Path(pdf), signature=organs[0], date_text=date_text,
                                 diameter_mm=config.seal.diameter_mm, annex_only_ok=last_attempt)]
    if config.layout.imprint_on_even_page:
        check_imprint_page(Path(pdf))
    return placements


def check_imprint_page(pdf: Path) -> None:
    """config.layout.imprint_on_even_page: a document of more than one page ends — with its 版记 —
    on an even page (the back of the last sheet); NeedsRelayout otherwise. A one-page document
    keeps its 版记 at the foot of its page."""
    from pypdf import PdfReader

    pages = len(PdfReader(pdf).pages)
    if pages > 1 and pages % 2:
        raise NeedsRelayout(f"版记在第{pages}页（奇数页），按配置应置于偶数页",
                            Shortfall("imprint", (), (), 0.0, 0))


def seal_and_sign(pdf_in: Path, pdf_out: Path, *, draft: Draft, config: Config,
                  last_attempt: bool = False, key: OfficeKey | None = None) -> StampResult:
    """A sealed series (config.series[draft.series].sealed): check_layout (may raise NeedsRelayout:
    re-render and call again) → apply_seal → sign_pdf with the signature widget over the seal.
    An unsealed series (e.g. 纪要, GB/T 9704 7.3.5.2): an invisible signature only, after checking
    that a 署名/成文日期 block (文件 and 信函 formats) does not stand alone on a page. ``pdf_in`` is
    not changed; ``pdf_out`` appears only when everything succeeded. ``last_attempt``: see
    check_layout. ``key``: the certificate opened once for a batch (sign.load_office_key); without
    it, it is opened here."""
    series = config.series.get(draft.series or "")
    if series is None:
        raise SigningError(f"未知的发文系列（机关代字）「{draft.series}」，无法确定用哪枚印章")
    # Open the certificate first: a missing key or a wrong passphrase should fail before any work.
    key = key or load_office_key(config)
    placements = check_layout(Path(pdf_in), draft=draft, config=config, last_attempt=last_attempt)
    if not placements:
        sign_pdf(pdf_in, pdf_out, config, reason="发文（不加盖印章）", signer_name=series.issuer, key=key)
        return StampResult(None, None, True)
    owners = [series.issuer, *draft.co_issuers]        # whose seal goes where, in the organs' order
    out = Path(pdf_out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".stamp-", dir=out.parent) as tmp:
        sealed = Path(pdf_in)
        for i, (owner, placement) in enumerate(zip(owners, placements)):
            sealed = apply_seal(sealed, Path(tmp) / f"sealed-{i}.pdf", seal_for(owner, config), placement)
        # The seal is page content (inside the signed bytes, printed by every viewer); the widget
        # lies over the 主办机关's seal with an empty appearance so it is not drawn twice.
        sign_pdf(sealed, out, config, placement=placements[0], reason="发文用印", signer_name=series.issuer, key=key)
    names = tuple(seal_name(o) for o in owners)
    return StampResult(placements[0], names[0], True, tuple(placements), names)
