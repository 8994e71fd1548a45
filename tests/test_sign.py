"""PAdES signing and verification on real LibreOffice PDF/A output, with the demo PKI: validates
against the demo CA, breaks on any changed byte, refuses missing keys and wrong passphrases without
writing anything, and keeps the PDF/A-2b claim."""
from __future__ import annotations

import io
import stat
import subprocess

import pikepdf
import pytest

from pipeline import stamp
from pipeline.errors import SigningError
from pipeline.model import Draft
from samples.instance import instance_config
from samples.seal_docs import ATTACH, BOTTOM, SHORT, build_docx

pytestmark = pytest.mark.libreoffice


@pytest.fixture(scope="module")
def env(tmp_path_factory, lo_converter):
    """An instance with a demo PKI, and LibreOffice PDF/A output for a short document and one with
    attachments (one conversion each, by the session's LibreOffice)."""
    root = tmp_path_factory.mktemp("sign")
    config = instance_config(root)
    info = stamp.init_demo_pki(config)
    pdfs = {name: lo_converter.convert(build_docx(root / f"{name}.docx", **case), root / f"{name}.pdf")
            for name, case in (("short", SHORT), ("attach", ATTACH), ("bottom", BOTTOM))}
    return config, info, pdfs


@pytest.fixture(autouse=True)
def _no_passphrase_env(monkeypatch):
    monkeypatch.delenv("GONGWEN_P12_PASSPHRASE", raising=False)


def draft(series="珠政发", **kw) -> Draft:
    base = dict(source="t.yaml", source_format="yaml", series=series, kind="通知", title="关于印章位置测试的通知",
                signature=SHORT["signature"], date_text=SHORT["date"])
    base.update(kw)
    return Draft(**base)


@pytest.fixture(scope="module")
def stamped(env, tmp_path_factory):
    config, _, pdfs = env
    out = tmp_path_factory.mktemp("stamped") / "正本.pdf"
    result = stamp.seal_and_sign(pdfs["short"], out, draft=draft(), config=config)
    return out, result


def test_demo_pki_is_marked_and_private(env):
    config, info, _ = env
    assert info["created"] is True
    assert "演示" in info["subject"] and "DEMO" in info["subject"] and "珠晖区人民政府办公室" in info["subject"]
    for p in (info["pkcs12"], info["passphrase_file"]):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert info["ca"].read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert info["passphrase_file"].read_text().strip() not in (config.base / "config.yaml").read_text()


def test_demo_pki_never_overwrites_without_force(env, tmp_path):
    config = instance_config(tmp_path)
    first = stamp.init_demo_pki(config)
    p12 = first["pkcs12"].read_bytes()
    again = stamp.init_demo_pki(config)
    assert again["created"] is False and first["pkcs12"].read_bytes() == p12
    forced = stamp.init_demo_pki(config, force=True)
    assert forced["created"] is True and first["pkcs12"].read_bytes() != p12
    # The old keys are kept beside the new ones, not deleted.
    backups = forced["backups"]
    assert len(backups) == 3 and all(b.is_file() for b in backups)
    assert any(b.read_bytes() == p12 for b in backups)


def test_sealed_document_signature_validates_against_demo_ca(env, stamped):
    config, _, _ = env
    out, result = stamped
    assert result.signed and result.seal_name == "珠晖区人民政府印" and result.placement.page == 0
    [v] = stamp.verify_pdf(out, config)
    assert v.intact and v.valid and v.trusted and v.covers_whole_file and v.ok, v.detail
    assert "演示" in v.signer and v.signed_at is not None
    # An independent implementation (poppler/NSS) agrees that the signature is valid and covers all.
    res = subprocess.run(["pdfsig", str(out)], capture_output=True, text=True)
    assert "Signature is Valid" in res.stdout and "Total document signed" in res.stdout, res.stdout


def test_pdfa_claim_and_embedded_fonts_survive_sealing_and_signing(env, stamped):
    from pipeline.pdfcheck import inspect_pdf

    out, result = stamped
    facts = inspect_pdf(out)
    assert facts.error is None
    assert facts.pdfa == "2B" and facts.all_fonts_embedded and facts.signatures == 1
    with pikepdf.open(out) as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"
        # The widget lies over the seal, printable, with an appearance that draws nothing and uses
        # no font (pyHanko's text stamp would bring in a non-embedded Courier).
        annots = [a for a in pdf.pages[0].get("/Annots", []) if a.get("/FT") == "/Sig"]
        assert len(annots) == 1
        rect = [float(v) for v in annots[0].Rect]
        r = result.placement.diameter_pt / 2
        assert rect[0] == pytest.approx(result.placement.cx_pt - r, abs=0.02)
        assert rect[3] == pytest.approx(result.placement.cy_pt + r, abs=0.02)
        assert int(annots[0].F) & 4
        ap = annots[0].AP.N
        assert "/Font" not in ap.get("/Resources", {})


def test_one_changed_byte_anywhere_in_the_signed_range_breaks_it(env, stamped, tmp_path):
    config, _, _ = env
    out, _ = stamped
    data = out.read_bytes()
    with pikepdf.open(out) as pdf:
        sig = [a for a in pdf.pages[0].Annots if a.get("/FT") == "/Sig"][0].V
        a, b, c, d = (int(x) for x in sig.ByteRange)
    assert a == 0 and c + d == len(data)              # the whole file but the signature value
    positions = [a + i * (b - a) // 12 + 7 for i in range(12)] + [c + 5, c + d // 2, c + d - 3]
    for pos in positions:
        changed = bytearray(data)
        changed[pos] ^= 0x01
        bad = tmp_path / f"changed-{pos}.pdf"
        bad.write_bytes(bytes(changed))
        results = stamp.verify_pdf(bad, config)
        assert results and not any(v.ok for v in results), (pos, results)
        if pos < b:      # inside the body: the file still parses, and the digest no longer matches
            assert not results[0].intact and "改动" in results[0].detail, (pos, results)
    assert stamp.verify_pdf(out, config)[0].ok        # the untouched file still verifies


def test_appended_update_is_reported(env, stamped, tmp_path):
    from pyhanko.pdf_utils.generic import pdf_string
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    config, _, _ = env
    out, _ = stamped
    w = IncrementalPdfFileWriter(io.BytesIO(out.read_bytes()))
    w.root["/Lang"] = pdf_string("en")
    w.update_root()
    buf = io.BytesIO()
    w.write(buf)
    later = tmp_path / "later.pdf"
    later.write_bytes(buf.getvalue())
    [v] = stamp.verify_pdf(later, config)
    assert v.intact and not v.covers_whole_file and not v.ok and "追加" in v.detail


def test_untrusted_root_is_not_trusted(env, stamped, tmp_path):
    _, _, _ = env
    out, _ = stamped
    other = instance_config(tmp_path)
    stamp.init_demo_pki(other)                     # another CA in trust_roots
    [v] = stamp.verify_pdf(out, other)
    assert v.intact and v.valid and not v.trusted and not v.ok and "不受信任" in v.detail


def test_missing_certificate_is_a_clear_error_and_nothing_is_written(env, tmp_path):
    _, _, pdfs = env
    config = instance_config(tmp_path)               # no init_demo_pki: no key at all
    out = tmp_path / "out" / "正本.pdf"
    with pytest.raises(SigningError, match="找不到本机关的数字证书"):
        stamp.seal_and_sign(pdfs["short"], out, draft=draft(), config=config)
    with pytest.raises(SigningError, match="找不到本机关的数字证书"):
        stamp.sign_pdf(pdfs["short"], out, config)
    assert not out.exists() and (not out.parent.exists() or not any(out.parent.iterdir()))


def test_wrong_passphrase_is_a_clear_error_and_nothing_is_written(env, tmp_path, monkeypatch):
    config, _, pdfs = env
    out = tmp_path / "正本.pdf"
    monkeypatch.setenv(config.signing.passphrase_env, "not-the-passphrase")
    with pytest.raises(SigningError, match="口令不正确"):
        stamp.seal_and_sign(pdfs["short"], out, draft=draft(), config=config)
    with pytest.raises(SigningError, match="口令不正确"):
        stamp.sign_pdf(pdfs["short"], out, config)
    assert list(tmp_path.iterdir()) == []


def test_passphrase_comes_from_env_before_file(env, tmp_path, monkeypatch):
    config, info, pdfs = env
    right = info["passphrase_file"].read_text().strip()
    other = instance_config(tmp_path)                # same key files, but no passphrase file there
    cfg = other.model_copy(update={"signing": config.signing.model_copy(update={
        "pkcs12": config.path(config.signing.pkcs12), "passphrase_file": None,
        "trust_roots": (config.path(config.signing.trust_roots[0]),)})})
    with pytest.raises(SigningError, match="没有数字证书的口令"):
        stamp.sign_pdf(pdfs["short"], tmp_path / "a.pdf", cfg)
    monkeypatch.setenv(cfg.signing.passphrase_env, right)
    stamp.sign_pdf(pdfs["short"], tmp_path / "a.pdf", cfg)
    assert stamp.verify_pdf(tmp_path / "a.pdf", cfg)[0].ok


def test_unsealed_series_gets_an_invisible_signature(env, tmp_path):
    config, _, pdfs = env
    out = tmp_path / "纪要.pdf"
    result = stamp.seal_and_sign(pdfs["short"], out, draft=draft(series="常务会议纪要", kind="纪要"), config=config)
    assert result == stamp.StampResult(None, None, True)
    [v] = stamp.verify_pdf(out, config)
    assert v.ok, v.detail
    with pikepdf.open(out) as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"
        sigs = [a for p in pdf.pages for a in p.get("/Annots", []) if a.get("/FT") == "/Sig"]
        assert len(sigs) == 1
        x0, y0, x1, y1 = (float(v) for v in sigs[0].Rect)
        assert x1 - x0 == 0 and y1 - y0 == 0
        # No seal image anywhere.
        assert not any("/GwSeal" in str(k) for p in pdf.pages for k in p.Resources.get("/XObject", {}).keys())


def test_unsealed_document_block_alone_on_a_page_needs_relayout(env, tmp_path):
    """Without a seal the 署名 and 成文日期 must not stand alone on a page either (7.3.5.5)."""
    config, _, pdfs = env
    unsealed = config.model_copy(update={"series": {
        **config.series, "珠政发": config.series["珠政发"].model_copy(update={"sealed": False})}})
    with pytest.raises(stamp.NeedsRelayout, match="第2页只有"):
        stamp.seal_and_sign(pdfs["bottom"], tmp_path / "a.pdf", draft=draft(), config=unsealed)
    assert not (tmp_path / "a.pdf").exists()
    assert stamp.seal_and_sign(pdfs["short"], tmp_path / "b.pdf", draft=draft(), config=unsealed).signed


def test_seal_image_as_the_signature_appearance(env, tmp_path):
    """sign_pdf on its own (no overlay) shows the seal image as the widget's appearance."""
    config, _, pdfs = env
    pl = stamp.place_seal(pdfs["attach"], signature=ATTACH["signature"], date_text=ATTACH["date"],
                          diameter_mm=config.seal.diameter_mm)
    png = stamp.seal_for("珠晖区人民政府办公室", config)
    out = stamp.sign_pdf(pdfs["attach"], tmp_path / "vis.pdf", config, seal_png=png, placement=pl)
    assert stamp.verify_pdf(out, config)[0].ok
    with pikepdf.open(out) as pdf:
        assert pdf.open_metadata().pdfa_status == "2B"
        [w] = [a for a in pdf.pages[0].Annots if a.get("/FT") == "/Sig"]
        ap = w.AP.N
        xobjs = list(ap.Resources.XObject.values())
        assert xobjs and "/Font" not in ap.Resources
        assert any(x.get("/Subtype") == "/Image" and "/SMask" in x for x in xobjs) or \
            any(x.get("/Subtype") == "/Form" for x in xobjs)


def test_unsigned_and_unreadable_files(env, tmp_path):
    config, _, pdfs = env
    assert stamp.verify_pdf(pdfs["short"], config) == []
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.6\nnot really a pdf")
    [v] = stamp.verify_pdf(junk, config)
    assert not v.ok and v.detail


def test_health(env, tmp_path):
    config, _, _ = env
    findings = stamp.health(config)
    by = {f.item: f for f in findings}
    assert all(f.ok for f in findings), findings
    assert "演示" in by["证书类型"].detail
    missing = stamp.health(instance_config(tmp_path))
    assert any(f.ok is False for f in missing)
    assert {f.area for f in findings} == {"签章"}


def test_the_key_is_opened_once_not_per_signature(env, tmp_path, monkeypatch):
    """Opening the PKCS#12 and re-parsing the RSA-3072 key (with its consistency checks) cost ~90 ms
    each; a batch opens the key once (``key=``) and every signature is made with that key object."""
    from pyhanko.sign.signers import pdf_cms

    config, _, pdfs = env
    key = stamp.load_office_key(config)
    elsewhere = config.model_copy(update={"signing": config.signing.model_copy(
        update={"pkcs12": tmp_path / "not-here.p12"})})          # the file is never read again

    def reparse(*a, **kw):
        raise AssertionError("the private key was parsed again for a signature")

    monkeypatch.setattr(pdf_cms.serialization, "load_der_private_key", reparse)
    out = tmp_path / "正本.pdf"
    result = stamp.seal_and_sign(pdfs["short"], out, draft=draft(), config=elsewhere, key=key)
    assert result.signed and stamp.verify_pdf(out, config)[0].ok
    stamp.sign_pdf(pdfs["attach"], tmp_path / "b.pdf", elsewhere, key=key)
    assert stamp.verify_pdf(tmp_path / "b.pdf", config)[0].ok
