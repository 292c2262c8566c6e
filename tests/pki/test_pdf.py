"""PAdES signing with our signers (software, SoftHSM) and pyHanko's PKCS#11 signer; validation."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from asn1crypto import ocsp as aocsp
from tests.conftest import require_tool
from tests.pki.test_esign_kit import ALISHER, NODIRA, ec_signer, make_ca
from tests.softhsm import SoftHSMToken

from pki.enroll import enroll
from pki.errors import PKIError
from pki.esign import EsignCA, IssuedCertificate, RevocationCause
from pki.hsm import PKCS11Module
from pki.keys import KeySpec, Signer
from pki.ocsp import OCSPResponder, request_for
from pki.pdf import (
    LocalTimeStamper,
    PAdESLevel,
    PdfSigner,
    Revocation,
    sign_pdf,
    simple_pdf,
    validate_pdf,
)
from pki.tsa import TimeStampAuthority

_PYHANKO_PKCS11 = """
import os, sys
from io import BytesIO
from pathlib import Path
from asn1crypto import x509
from pyhanko.config.pkcs11 import TokenCriteria
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, pkcs11, signers
module, token, label, folder = sys.argv[1:]
d = Path(folder)
session = pkcs11.open_pkcs11_session(
    module, token_criteria=TokenCriteria(label=token), user_pin=os.environ["IDKARTA_PIN"])
try:
    signer = pkcs11.PKCS11Signer(
        session, key_label=label,
        signing_cert=x509.Certificate.load((d / "ee.der").read_bytes()),
        ca_chain=[x509.Certificate.load((d / "ca.der").read_bytes())],
        use_raw_mechanism=True)
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(BytesIO((d / "in.pdf").read_bytes())),
        signers.PdfSignatureMetadata(field_name="Sig", subfilter=fields.SigSeedSubFilter.PADES),
        signer=signer)
    (d / "out.pdf").write_bytes(out.getvalue())
finally:
    session.close()
"""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)


def _setup(tmp_path: Path) -> tuple[EsignCA, TimeStampAuthority]:
    ca = make_ca(tmp_path)
    # pyHanko validates at the current time: issue "now", not at the fixed test date
    ca = EsignCA(ca.register, ca.signer, ca.urls)
    key = ec_signer("tsa")
    tsa_cert = ca.issue_tsa(key.public_key(), now=_now()).certificate
    return ca, TimeStampAuthority(tsa_cert, key)


def _holder(ca: EsignCA, signer: Signer | None = None) -> tuple[Signer, IssuedCertificate]:
    holder = signer or ec_signer("holder")
    return holder, enroll(holder, ALISHER, ca, now=_now())


def _ocsp(ca: EsignCA, issued: IssuedCertificate) -> aocsp.OCSPResponse:
    der = OCSPResponder(ca).respond(request_for(issued.certificate, ca.certificate, b"n" * 8))
    return aocsp.OCSPResponse.load(der)


def test_b_b_valid_and_trusted(tmp_path: Path) -> None:
    ca, _tsa = _setup(tmp_path)
    holder, issued = _holder(ca)
    signed = sign_pdf(simple_pdf(), PdfSigner(holder, issued.certificate, [ca.certificate]))
    [report] = validate_pdf(signed, [ca.certificate], crls=[ca.issue_crl()])
    assert (report.intact, report.valid, report.trusted, report.revoked) == (
        True, True, True, False
    )
    assert report.revocation is Revocation.GOOD
    assert not report.timestamped and report.ok
    other = make_ca(tmp_path / "other")
    [untrusted] = validate_pdf(signed, [other.certificate])
    assert untrusted.intact and untrusted.valid and not untrusted.trusted


def test_tampered_document_is_not_intact(tmp_path: Path) -> None:
    ca, _tsa = _setup(tmp_path)
    holder, issued = _holder(ca)
    signed = bytearray(
        sign_pdf(simple_pdf("original"), PdfSigner(holder, issued.certificate))
    )
    at = bytes(signed).index(b"(original)")
    signed[at + 1 : at + 9] = b"tampered"
    [report] = validate_pdf(bytes(signed), [ca.certificate])
    assert not report.intact and not report.ok


def test_b_lt_embeds_revocation_info(tmp_path: Path) -> None:
    ca, tsa = _setup(tmp_path)
    holder, issued = _holder(ca)
    signed = sign_pdf(
        simple_pdf(),
        PdfSigner(holder, issued.certificate, [ca.certificate]),
        level=PAdESLevel.B_LT,
        timestamper=LocalTimeStamper(tsa),
        trust_roots=[ca.certificate],
        crls=[ca.issue_crl()],
        ocsps=[_ocsp(ca, issued)],
    )
    assert b"/DSS" in signed and b"/OCSPs" in signed and b"/CRLs" in signed
    [report] = validate_pdf(signed, [ca.certificate])  # offline: only the embedded data
    assert report.ok and report.timestamped


def test_revoked_certificate_reported_revoked(tmp_path: Path) -> None:
    ca, _tsa = _setup(tmp_path)
    holder, issued = _holder(ca)
    signed = sign_pdf(simple_pdf(), PdfSigner(holder, issued.certificate, [ca.certificate]))
    ca.revoke(issued.serial, RevocationCause.LOST_CARD)
    [report] = validate_pdf(signed, [ca.certificate], crls=[ca.issue_crl()])
    assert report.intact and report.valid and report.revoked and not report.ok
    [by_ocsp] = validate_pdf(signed, [ca.certificate], ocsps=[_ocsp(ca, issued)])
    assert by_ocsp.revoked


def test_levels_need_their_inputs(tmp_path: Path) -> None:
    ca, _tsa = _setup(tmp_path)
    holder, issued = _holder(ca)
    signer = PdfSigner(holder, issued.certificate)
    with pytest.raises(PKIError, match="time-stamp"):
        sign_pdf(simple_pdf(), signer, level=PAdESLevel.B_T)
    with pytest.raises(PKIError, match="PDF"):
        sign_pdf(b"not a pdf", signer)
    with pytest.raises(PKIError, match="readable"):
        validate_pdf(b"not a pdf", [ca.certificate])


@pytest.mark.tool
def test_pdfsig_reports_b_b_valid(tmp_path: Path) -> None:
    pdfsig = require_tool("pdfsig")
    ca, _tsa = _setup(tmp_path)
    holder, issued = _holder(ca)
    path = tmp_path / "signed.pdf"
    path.write_bytes(
        sign_pdf(simple_pdf(), PdfSigner(holder, issued.certificate, [ca.certificate]))
    )
    out = subprocess.run([pdfsig, str(path)], capture_output=True, text=True)
    assert "Signature Validation: Signature is Valid." in out.stdout, out.stdout + out.stderr
    assert "ALISHER TOSHMATOV" in out.stdout


@pytest.mark.hsm
def test_softhsm_holder_key_our_signer_and_pyhanko_pkcs11(
    softhsm_token: SoftHSMToken, tmp_path: Path
) -> None:
    """The holder key on a token: our PdfSigner over HSMKey, and pyHanko's own PKCS11Signer."""
    ca, _tsa = _setup(tmp_path)
    label = f"holder-{os.urandom(4).hex()}"
    token = PKCS11Module(softhsm_token.module).token(softhsm_token.label)
    with token.session(lambda: softhsm_token.pin) as session:
        key = session.generate_key(label, KeySpec("ec", curve="secp256r1"))
        _, issued = _holder(ca, key)
        ours = sign_pdf(simple_pdf(), PdfSigner(key, issued.certificate, [ca.certificate]))
        [report] = validate_pdf(ours, [ca.certificate], crls=[ca.issue_crl()])
        assert report.ok
        # pyHanko's PKCS11Signer uses python-pkcs11, which must not C_Initialize the module
        # PyKCS11 already holds in this process: it runs in a process of its own.
        (tmp_path / "ee.der").write_bytes(issued.certificate.dump())
        (tmp_path / "ca.der").write_bytes(ca.certificate.dump())
        (tmp_path / "in.pdf").write_bytes(simple_pdf())
        env = {**os.environ, "IDKARTA_PIN": softhsm_token.pin}
        out = subprocess.run(
            [sys.executable, "-c", _PYHANKO_PKCS11, softhsm_token.module, softhsm_token.label,
             label, str(tmp_path)],
            capture_output=True, text=True, env=env, timeout=120,
        )
        assert out.returncode == 0, out.stderr
        [theirs] = validate_pdf((tmp_path / "out.pdf").read_bytes(), [ca.certificate],
                                crls=[ca.issue_crl()])
        assert theirs.ok
        session.destroy_key(label)


def test_second_holder_not_confused(tmp_path: Path) -> None:
    ca, _tsa = _setup(tmp_path)
    holder = ec_signer()
    nodira = enroll(holder, NODIRA, ca)
    signed = sign_pdf(simple_pdf(), PdfSigner(holder, nodira.certificate, [ca.certificate]))
    [report] = validate_pdf(signed, [ca.certificate], ocsps=[_ocsp(ca, nodira)])
    assert "KARIMOVA" in report.signer and report.ok


def test_b_t_carries_a_signature_time_stamp(tmp_path: Path) -> None:
    ca, tsa = _setup(tmp_path)
    holder, issued = _holder(ca)
    signed = sign_pdf(
        simple_pdf(), PdfSigner(holder, issued.certificate, [ca.certificate]),
        level=PAdESLevel.B_T, timestamper=LocalTimeStamper(tsa),
    )
    assert b"/DSS" not in signed
    [report] = validate_pdf(signed, [ca.certificate], crls=[ca.issue_crl()])
    assert report.timestamped and report.ok
