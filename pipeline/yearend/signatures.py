"""Validating every signature in an archived PDF, including what was added after it.

``sign.verify_pdf`` counts any later revision as a failure (``covers_whole_file``). After the 归档章 the
office's signature no longer covers the whole file by design, so the year-end check asks pyHanko's
modification analysis what the later revisions did: a signature passes when it is intact, valid and
trusted and either covers the whole file or every later change is one its policy permits (new
signatures and their appearances: ModificationLevel ≤ FORM_FILLING, ``docmdp_ok``). Anything else —
changed page content, a new annotation, freed objects — fails it, naming what pyHanko saw.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from .archstamp import REASON_PREFIX


@dataclass(frozen=True)
class SignatureCheck:
    field: str
    reason: str
    signer: str | None
    intact: bool
    valid: bool
    trusted: bool
    covers_whole_file: bool
    modification: str | None      # pyHanko ModificationLevel name for what came after, if anything
    modifications_ok: bool
    detail: str

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and (self.covers_whole_file or self.modifications_ok)

    @property
    def is_archive_stamp(self) -> bool:
        return self.reason.startswith(REASON_PREFIX)


def load_roots(paths: list[Path]) -> tuple[list, list[str]]:
    """Trust-root certificates from PEM/DER files; (certificates, files that could not be read)."""
    from pyhanko.keys import load_certs_from_pemder

    roots, bad = [], []
    for p in paths:
        p = Path(p)
        if not p.is_file():
            bad.append(str(p))
            continue
        try:
            roots.extend(load_certs_from_pemder([str(p)]))
        except Exception:
            bad.append(f"{p}（无法读取）")
    return roots, bad


def check_signatures(pdf: Path, roots: list, missing_roots: list[str] | None = None) -> list[SignatureCheck] | str:
    """Every signature in ``pdf``, in file order; a Chinese message instead when the file cannot be
    parsed at all."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(Path(pdf).read_bytes()), strict=False)
        sigs = list(reader.embedded_signatures)
    except Exception as e:
        return f"无法读取 PDF 或其中的签名：{type(e).__name__}: {e}"
    out = []
    for sig in sigs:
        reason = str(sig.sig_object.get("/Reason", "") or "")
        vc = ValidationContext(trust_roots=roots, allow_fetching=False)
        try:
            st = validate_pdf_signature(sig, vc)
        except Exception as e:
            out.append(SignatureCheck(sig.field_name or "", reason, None, False, False, False, False, None, False,
                                      f"签名无法验证：{type(e).__name__}: {e}"))
            continue
        cert = st.signing_cert
        signer = (cert.subject.native.get("common_name") or cert.subject.human_friendly) if cert is not None else None
        whole = st.coverage == SignatureCoverageLevel.ENTIRE_FILE
        level = st.modification_level
        mods_ok = bool(st.docmdp_ok) and level is not None and level <= ModificationLevel.FORM_FILLING
        problems = []
        if not st.intact:
            problems.append("签名后文件内容被改动")
        elif not st.valid:
            problems.append("签名值不正确")
        if not st.trusted:
            problems.append("证书不受信任" + (f"（缺少根证书 {'、'.join(missing_roots)}）" if missing_roots else ""))
        if not whole and not mods_ok:
            what = level.name if level is not None else "未知"
            problems.append(f"签名之后追加的内容不是签名或归档章（修改级别 {what}）")
        detail = "；".join(problems) if problems else (
            "签名有效，覆盖整个文件" if whole else "签名有效；其后只追加了签名（如归档章），未改动已签内容")
        out.append(SignatureCheck(sig.field_name or "", reason, signer, bool(st.intact), bool(st.valid),
                                  bool(st.trusted), whole, level.name if level is not None else None, mods_ok, detail))
    return out
