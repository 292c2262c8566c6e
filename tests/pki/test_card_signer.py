"""CardSigner: the pki Signer over the card's e-sign key; PDFs signed with card + PIN validate
with pyHanko and poppler's pdfsig, in process and through the real pcscd (vpcd bridge)."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from tests.conftest import require_tool
from tests.idcard.esign.esign_kit import PIN, enrolled_chip, open_card
from tests.pcsc_harness import PCSCD, READERS, PluggedChip, pcscd  # noqa: F401 - registers the fixture
from tests.pki.test_esign_kit import ALISHER, NOW, make_ca

from idcard.chip.emrtd import VirtualChip
from idcard.esign import ESignCard, PINBlockedError, PINError
from pki.card_signer import CardSigner
from pki.enroll import enroll
from pki.esign import EsignCA, IssuedCertificate
from pki.keys import SignatureAlgorithm, verify_signature
from pki.pdf import PdfSigner, sign_pdf, simple_pdf, validate_pdf

DATA = b"to be signed"


class _Pin:
    def __init__(self, value: str = PIN) -> None:
        self.value = value
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return self.value


@pytest.mark.parametrize(
    ("key_type", "algorithm"),
    [
        ("ec-p256", SignatureAlgorithm.ecdsa("sha256")),
        ("ec-p384", SignatureAlgorithm.ecdsa("sha384")),
        ("ec-p256", SignatureAlgorithm.ecdsa("sha512")),
        ("rsa-2048", SignatureAlgorithm.rsa_pss("sha256")),
        ("rsa-2048", SignatureAlgorithm.rsa_pkcs1v15("sha384")),
    ],
)
def test_signatures_verify(key_type: str, algorithm: SignatureAlgorithm) -> None:
    chip = enrolled_chip(key_type)
    signer = CardSigner(open_card(chip), _Pin())
    assert str(signer.key_spec) == key_type
    signature = signer.sign(DATA, algorithm)
    assert verify_signature(signer.public_key(), signature, DATA, algorithm)
    assert not verify_signature(signer.public_key(), signature, DATA + b"!", algorithm)


def test_pin_is_asked_once_and_again_after_a_reset() -> None:
    chip = enrolled_chip()
    pin = _Pin()
    signer = CardSigner(open_card(chip), pin)
    signer.sign(DATA, signer.algorithm)
    signer.sign(DATA, signer.algorithm)
    assert pin.calls == 1
    chip.reset()
    signer.card.select()
    signer.sign(DATA, signer.algorithm)
    assert pin.calls == 2


def test_wrong_pin_raises_with_tries_left() -> None:
    signer = CardSigner(open_card(enrolled_chip()), _Pin("000000"))
    with pytest.raises(PINError) as exc:
        signer.sign(DATA, signer.algorithm)
    assert exc.value.tries_left == 2
    for _ in range(2):
        with pytest.raises(PINError):
            signer.sign(DATA, signer.algorithm)
    with pytest.raises(PINBlockedError):
        signer.sign(DATA, signer.algorithm)


# -- PDF ------------------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)


def _enrolled(tmp_path: Path) -> tuple[VirtualChip, EsignCA, IssuedCertificate]:
    ca = make_ca(tmp_path)
    assert ca.not_after > NOW
    chip = enrolled_chip()
    issued = enroll(CardSigner(open_card(chip), _Pin()), ALISHER, ca, now=_now())
    return chip, ca, issued


def _sign(card: ESignCard, ca: EsignCA, issued: IssuedCertificate) -> bytes:
    pdf_signer = PdfSigner(CardSigner(card, _Pin()), issued.certificate, [ca.certificate])
    return sign_pdf(simple_pdf(), pdf_signer)


def test_pdf_signed_with_card_and_pin_validates(tmp_path: Path) -> None:
    chip, ca, issued = _enrolled(tmp_path)
    signed = _sign(open_card(chip), ca, issued)
    [report] = validate_pdf(signed, [ca.certificate], crls=[ca.issue_crl()])
    assert report.ok, report.summary
    assert "ALISHER TOSHMATOV" in report.signer


@pytest.mark.tool
def test_pdfsig_accepts_the_card_signature(tmp_path: Path) -> None:
    pdfsig = require_tool("pdfsig")
    chip, ca, issued = _enrolled(tmp_path)
    path = tmp_path / "signed.pdf"
    path.write_bytes(_sign(open_card(chip), ca, issued))
    out = subprocess.run([pdfsig, str(path)], capture_output=True, text=True, timeout=60)
    assert "Signature Validation: Signature is Valid." in out.stdout, out.stdout + out.stderr
    assert "ALISHER TOSHMATOV" in out.stdout


@pytest.mark.pcsc
def test_pdf_signed_through_pcscd(pcscd: PCSCD, tmp_path: Path) -> None:  # noqa: F811
    from idcard.reader.pcsc import PCSCTransport

    chip, ca, issued = _enrolled(tmp_path)
    with pcscd.card(PluggedChip(chip)), PCSCTransport.connect(READERS[0]) as transport:
        card = ESignCard(transport)
        card.select()
        signed = _sign(card, ca, issued)
    [report] = validate_pdf(signed, [ca.certificate], crls=[ca.issue_crl()])
    assert report.ok, report.summary
