"""PAdES signatures with the office's certificate (pyHanko): signing, verification, a demo PKI for
new instances, and the certificate's health for `gongwen doctor`."""
from __future__ import annotations

import datetime as dt
import io
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Config
from .errors import SigningError
from .fsutil import atomic_write_bytes, atomic_write_text
from .model import Finding

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
    from cryptography.x509 import Certificate

# The mark every demo certificate carries in its subject (OU), and that health() looks for.
DEMO_MARK = "演示证书 DEMO – 不得用于正式公文"
# Choice: RSA-3072 with SHA-256. RSA is what every PDF reader in the office verifies (SM2/SM3
# signatures are not supported by pyHanko or common readers); 3072 bits stays acceptable past 2030.
KEY_BITS = 3072
DEMO_CA_YEARS = 10
DEMO_CERT_YEARS = 5
EXPIRY_WARNING_DAYS = 30


# --- the office's key and certificate -------------------------------------------------------------

def _passphrase(config: Config) -> bytes:
    """From the environment variable first, else the passphrase file — never from config.yaml."""
    env = os.environ.get(config.signing.passphrase_env)
    if env:
        return env.encode("utf-8")
    pf = config.signing.passphrase_file
    if pf is not None:
        p = config.path(pf)
        if p.is_file():
            try:
                text = p.read_text(encoding="utf-8").strip("\r\n")
            except OSError as e:
                raise SigningError(f"无法读取证书口令文件 {p}：{e}") from e
            if text:
                return text.encode("utf-8")
    where = f"环境变量 {config.signing.passphrase_env}"
    if pf is not None:
        where += f" 或口令文件 {config.path(pf)}"
    raise SigningError(f"没有数字证书的口令：请设置{where}（口令不得写在配置文件中）")


@dataclass(frozen=True)
class OfficeKey:
    """The decrypted PKCS#12: what signing needs. ``chain`` are the other certificates in the file."""

    key: PrivateKeyTypes
    cert: Certificate
    chain: tuple[Certificate, ...]


def load_office_key(config: Config) -> OfficeKey:
    """Open config.signing.pkcs12 with its passphrase; SigningError in Chinese when that fails."""
    from cryptography.hazmat.primitives.serialization import pkcs12

    p12 = config.path(config.signing.pkcs12)
    if not p12.is_file():
        raise SigningError(f"找不到本机关的数字证书 {p12}（signing › pkcs12）；"
                           "演示环境可运行 gongwen init 生成演示证书，正式使用请放入本机关的证书")
    passphrase = _passphrase(config)
    try:
        key, cert, others = pkcs12.load_key_and_certificates(p12.read_bytes(), passphrase)
    except (ValueError, TypeError) as e:
        raise SigningError(f"无法打开数字证书 {p12.name}：口令不正确，或证书文件已损坏") from e
    except OSError as e:
        raise SigningError(f"无法读取数字证书 {p12}：{e}") from e
    if key is None or cert is None:
        raise SigningError(f"数字证书 {p12.name} 中没有私钥或证书，不能用于签名")
    return OfficeKey(key, cert, tuple(others or ()))


def office_signer(office: OfficeKey):
    """pyHanko's signer for the already opened key. pyHanko's SimpleSigner re-parses its private key
    for every signature (twice per PDF: a dry run sizes the signature), and parsing an RSA-3072 key
    runs its consistency checks, ~90 ms each; this one signs RSA with the key object opened once
    (other key types go the library's way)."""
    from asn1crypto import keys as akeys, x509 as ax509
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    from pyhanko.sign import signers
    from pyhanko.sign.general import get_pyca_cryptography_hash
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    class OfficeSigner(signers.SimpleSigner):
        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mech = self.get_signature_mechanism_for_digest(digest_algorithm)
            try:
                algo = mech.signature_algo
            except ValueError:
                algo = mech["algorithm"].native
            if algo == "rsassa_pkcs1v15" and isinstance(office.key, RSAPrivateKey):
                return office.key.sign(data, padding.PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
            return super().sign_raw(data, digest_algorithm)

    def cert(c):
        return ax509.Certificate.load(c.public_bytes(Encoding.DER))

    key = akeys.PrivateKeyInfo.load(office.key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()))
    return OfficeSigner(signing_cert=cert(office.cert), signing_key=key,
                        cert_registry=SimpleCertificateStore.from_certs([cert(c) for c in office.chain]))


def _cn(name) -> str:
    from cryptography.x509.oid import NameOID

    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return attrs[0].value if attrs else name.rfc4514_string()


# --- signing --------------------------------------------------------------------------------------

def sign_pdf(pdf_in: Path, pdf_out: Path, config: Config, *, seal_png=None,
             placement=None, reason: str = "发文用印", signer_name: str | None = None,
             key: OfficeKey | None = None, field_name: str | None = None) -> Path:
    """A PAdES baseline signature (ETSI.CAdES.detached, SHA-256) added as an incremental update, so
    the PDF/A-2b bytes before it stay as they were. The widget sits at ``placement`` (a
    seal.SealPlacement) when given: its appearance is the seal image alone when ``seal_png`` is given,
    or empty when the seal is already drawn into the page (seal.apply_seal) — pyHanko's default text
    stamp is never used, since its non-embedded Courier breaks PDF/A. Without a placement the field
    is invisible. ``seal_png`` is a PNG path or an image already drawn (the 归档章). ``key``: the
    already opened certificate (load_office_key), to open it once per batch. ``field_name``: the
    signature field's name (default the next free SignatureN). Nothing is written unless signing
    succeeds (atomic write). One signing path for the 发文用印 and the 归档章."""
    from pyhanko.pdf_utils import layout as hlayout
    from pyhanko.pdf_utils.images import PdfImage
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import StaticStampStyle

    office = key or load_office_key(config)
    signer = office_signer(office)
    try:
        data = Path(pdf_in).read_bytes()
    except OSError as e:
        raise SigningError(f"找不到待签名的 PDF {pdf_in}：{e}") from e
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
        name = field_name
        if name is None:
            taken = {f.get("/T") for f in _field_dicts(writer.root)}
            n = 1
            while f"Signature{n}" in taken:
                n += 1
            name = f"Signature{n}"
        style = None
        if placement is not None:
            spec = fields.SigFieldSpec(name, on_page=placement.page,
                                       box=tuple(round(v, 2) for v in placement.rect))
            background = None
            if seal_png is not None:
                from .seal import _load_rgba

                image = _load_rgba(Path(seal_png)) if isinstance(seal_png, (str, Path)) else seal_png
                background = PdfImage(image, writer=writer)
            style = StaticStampStyle(
                background=background, border_width=0, background_opacity=1.0,
                background_layout=hlayout.SimpleBoxLayoutRule(
                    x_align=hlayout.AxisAlignment.ALIGN_MID, y_align=hlayout.AxisAlignment.ALIGN_MID,
                    margins=hlayout.Margins.uniform(0)))
        else:
            spec = fields.SigFieldSpec(name)
        meta = signers.PdfSignatureMetadata(
            field_name=name, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason, name=signer_name or _cn(office.cert.subject))
        out = io.BytesIO()
        signers.PdfSigner(meta, signer, stamp_style=style, new_field_spec=spec).sign_pdf(writer, output=out)
    except SigningError:
        raise
    except Exception as e:  # pyHanko raises its own and pyca types; the caller needs one kind
        raise SigningError(f"签名失败（{Path(pdf_in).name}）：{e}") from e
    return atomic_write_bytes(Path(pdf_out), out.getvalue())


def _field_dicts(root) -> list:
    form = root.get("/AcroForm")
    if form is None:
        return []
    out, todo = [], list(form.get_object().get("/Fields", []))
    while todo:
        f = todo.pop().get_object()
        out.append(f)
        todo.extend(f.get("/Kids", []))
    return out


# --- verification ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verification:
    """One signature's check. ``intact``: the signed bytes are unchanged; ``valid``: the
    cryptographic signature is correct; ``trusted``: the certificate chains to a configured trust
    root; ``covers_whole_file``: nothing was appended after it; ``modification``: pyHanko's
    modification level of what was appended (e.g. FORM_FILLING for a later signature such as the
    归档章); ``modifications_ok``: every later change is one a signature may be followed by (new
    signatures and their appearances, ModificationLevel ≤ FORM_FILLING and DocMDP respected).
    ``reason`` and ``field`` tell signatures apart (the office's 发文用印, the 归档章 …).
    ``parsed`` is False for the one entry of a file that could not be read at all (truncated or
    damaged): then no signature was found, which is not the same as none being there."""

    intact: bool
    valid: bool
    trusted: bool
    covers_whole_file: bool
    signer: str | None
    signed_at: dt.datetime | None
    detail: str
    reason: str = ""
    field: str = ""
    modification: str | None = None
    modifications_ok: bool = False
    parsed: bool = True

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and (self.covers_whole_file or self.modifications_ok)


def load_trust_roots(paths) -> tuple[list, list[str]]:
    """Trust-root certificates from PEM/DER files: (certificates, files that could not be read)."""
    from pyhanko.keys import load_certs_from_pemder

    roots, missing = [], []
    for p in paths:
        full = Path(p)
        if not full.is_file():
            missing.append(str(full))
            continue
        try:
            roots.extend(load_certs_from_pemder([str(full)]))
        except Exception:
            missing.append(f"{full}（无法读取）")
    return roots, missing


def verify_pdf(pdf: Path, config: Config) -> list[Verification]:
    """Validate every signature in ``pdf`` against ``config.signing.trust_roots`` (see verify_signatures)."""
    roots, missing = load_trust_roots(config.path(p) for p in config.signing.trust_roots)
    return verify_signatures(pdf, roots, missing)


def verify_signatures(pdf: Path, roots: list, missing_roots: list[str] | tuple = ()) -> list[Verification]:
    """Every signature in ``pdf``, in file order, validated against ``roots`` (no network: no
    revocation fetching). An empty list for an unsigned PDF; one failed Verification naming the
    problem when the file cannot be parsed. What was appended after a signature is judged by
    pyHanko's modification analysis: another signature (the 归档章) keeps the earlier one ok;
    changed page content, a new annotation or freed objects do not."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        data = Path(pdf).read_bytes()
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        sigs = list(reader.embedded_signatures)
    except Exception as e:
        return [Verification(False, False, False, False, None, None, f"无法读取 PDF 或其中的签名：{e}",
                             parsed=False)]
    results = []
    for sig in sigs:
        reason = str(sig.sig_object.get("/Reason", "") or "")
        field = sig.field_name or ""
        vc = ValidationContext(trust_roots=roots, allow_fetching=False)
        try:
            st = validate_pdf_signature(sig, vc)
        except Exception as e:
            results.append(Verification(False, False, False, False, None, None, f"签名无法验证：{e}",
                                        reason, field))
            continue
        cert = st.signing_cert
        signer = (cert.subject.native.get("common_name") or cert.subject.human_friendly) if cert is not None else None
        whole = st.coverage == SignatureCoverageLevel.ENTIRE_FILE
        level = st.modification_level
        mods_ok = (not whole and bool(st.docmdp_ok) and level is not None
                   and level <= ModificationLevel.FORM_FILLING)
        problems = []
        if not st.intact:
            problems.append("签名后文件内容被改动（签名所覆盖的字节与签名时不同）")
        else:
            if not st.valid:
                problems.append("签名值不正确")
            if not st.trusted:
                problems.append("证书不受信任（不是由配置的根证书签发，或已过期）"
                                + (f"；缺少根证书 {'、'.join(missing_roots)}" if missing_roots else ""))
        if not whole and not mods_ok:
            what = level.name if level is not None else "未知"
            problems.append(f"签名之后文件又被追加了内容，且不只是签名（修改级别 {what}）")
        detail = "；".join(problems) if problems else (
            "签名有效：文件完整、签名正确、证书可信、覆盖整个文件" if whole
            else "签名有效；其后只追加了签名（如归档章），未改动已签内容")
        results.append(Verification(bool(st.intact), bool(st.valid), bool(st.trusted), whole, signer,
                                    st.signer_reported_dt, detail, reason, field,
                                    level.name if level is not None else None, mods_ok))
    return results


# --- demo PKI -------------------------------------------------------------------------------------

def _backup(p: Path, stamp: str) -> Path | None:
    if not p.exists():
        return None
    dest = p.with_name(f"{p.name}.{stamp}.bak")
    os.replace(p, dest)
    return dest


def init_demo_pki(config: Config, *, force: bool = False) -> dict:
    """A self-signed demo CA and an office certificate (O = the organisation, OU = the demo mark) as
    a PKCS#12 at config.signing.pkcs12, a random passphrase in config.signing.passphrase_file (mode
    0600) — or the one in the environment variable when it is set — and the CA certificate at
    config.signing.trust_roots[0]. Existing keys are kept unless ``force``; with ``force`` the old
    files are renamed to ``*.<time>.bak``, never deleted (old documents verify only with the old CA).
    Returns what was done: {"created", "pkcs12", "passphrase_file", "ca", "subject", "not_after"}."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    p12 = config.path(config.signing.pkcs12)
    if not config.signing.trust_roots:
        raise SigningError("配置中没有信任根证书路径（signing › trust_roots），无法生成演示证书")
    ca_path = config.path(config.signing.trust_roots[0])
    pass_path = config.path(config.signing.passphrase_file) if config.signing.passphrase_file else None
    if p12.exists() and not force:
        cert = load_office_key(config).cert if _has_passphrase(config) else None
        return {"created": False, "pkcs12": p12, "passphrase_file": pass_path, "ca": ca_path,
                "subject": cert.subject.rfc4514_string() if cert else None,
                "not_after": cert.not_valid_after_utc if cert else None}
    env = os.environ.get(config.signing.passphrase_env)
    if not env and pass_path is None:
        raise SigningError(f"没有地方存放证书口令：请设置环境变量 {config.signing.passphrase_env}，"
                           "或在配置中给出 signing › passphrase_file")
    passphrase = env or secrets.token_urlsafe(24)

    org = config.organisation.name
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

    def demo_name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                          x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, DEMO_MARK),
                          x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    ca_name = demo_name(f"{org} 演示根证书 DEMO CA")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=365 * DEMO_CA_YEARS))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, key_cert_sign=True, crl_sign=True,
                                            encipher_only=False, decipher_only=False), critical=True)
               .add_extension(ca_ski, critical=False)
               .sign(ca_key, hashes.SHA256()))

    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    subject = demo_name(f"{org}（演示 DEMO）")
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365 * DEMO_CERT_YEARS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            # id-kp-documentSigning (RFC 9336)
            .add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36"),
                                                  ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256()))
    blob = pkcs12.serialize_key_and_certificates(
        b"gongwen-office", key, cert, [ca_cert],
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")))

    backups = []
    if force:
        stamp = now.strftime("%Y%m%d%H%M%S")
        for p in (p12, ca_path, pass_path if not env else None):
            if p is not None and (b := _backup(p, stamp)):
                backups.append(b)
    # The CA first and the key file last: a crash in between leaves no usable-looking half state.
    atomic_write_bytes(ca_path, ca_cert.public_bytes(serialization.Encoding.PEM))
    if not env and pass_path is not None:   # (one of the two, checked above)
        atomic_write_text(pass_path, passphrase + "\n", mode=0o600)
    atomic_write_bytes(p12, blob, mode=0o600)
    return {"created": True, "pkcs12": p12, "passphrase_file": None if env else pass_path, "ca": ca_path,
            "subject": cert.subject.rfc4514_string(), "not_after": cert.not_valid_after_utc,
            "backups": backups}


def _has_passphrase(config: Config) -> bool:
    try:
        _passphrase(config)
        return True
    except SigningError:
        return False


def _issued_by_root(cert, config: Config) -> tuple[bool, list[str]]:
    """Whether ``cert`` is signed directly by one of the configured trust roots."""
    from cryptography import x509

    missing, ok = [], False
    for p in config.signing.trust_roots:
        full = config.path(p)
        try:
            roots = x509.load_pem_x509_certificates(full.read_bytes())
        except (OSError, ValueError):
            missing.append(str(full))
            continue
        for root in roots:
            try:
                cert.verify_directly_issued_by(root)
                ok = True
            except Exception:  # InvalidSignature, or a root of another key type
                pass
    return ok, missing


# --- health -------------------------------------------------------------------------------------

def health(config: Config) -> list[Finding]:
    """For `gongwen doctor`: certificate present, passphrase available and right, not expired (and
    not about to), chains to a trust root, and whether it is a demo certificate."""
    from cryptography.x509.oid import NameOID

    area = "签章"
    out: list[Finding] = []
    p12 = config.path(config.signing.pkcs12)
    out.append(Finding(area, "数字证书文件", p12.is_file(), str(p12) if p12.is_file() else f"不存在：{p12}"))
    try:
        _passphrase(config)
        out.append(Finding(area, "证书口令", True, "已提供（环境变量或口令文件）"))
    except SigningError as e:
        out.append(Finding(area, "证书口令", False, str(e)))
    try:
        office = load_office_key(config)
    except SigningError as e:
        out.append(Finding(area, "打开证书", None if not p12.is_file() else False, str(e)))
        return out
    cert = office.cert
    now = dt.datetime.now(dt.timezone.utc)
    left = cert.not_valid_after_utc - now
    if left.total_seconds() <= 0:
        out.append(Finding(area, "证书有效期", False, f"证书已于 {cert.not_valid_after_utc:%Y-%m-%d} 过期"))
    elif left.days < EXPIRY_WARNING_DAYS:
        out.append(Finding(area, "证书有效期", False, f"证书将于 {cert.not_valid_after_utc:%Y-%m-%d} 过期（剩 {left.days} 天）"))
    else:
        out.append(Finding(area, "证书有效期", True, f"有效至 {cert.not_valid_after_utc:%Y-%m-%d}"))
    chain_ok, missing = _issued_by_root(cert, config)
    out.append(Finding(area, "信任根证书", chain_ok,
                       "证书由配置的根证书签发" if chain_ok else
                       "证书不是由 signing › trust_roots 中的根证书签发" + (f"（缺少 {'、'.join(missing)}）" if missing else "")))
    ous = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
    demo = any("DEMO" in v or "演示" in v for v in ous)
    out.append(Finding(area, "证书类型", True,
                       "演示证书（自签名），不得用于正式公文：正式使用前请换成本机关的数字证书" if demo
                       else f"正式证书：{cert.subject.rfc4514_string()}"))
    return out
