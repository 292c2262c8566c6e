"""First-issue enrollment through the card, with the e-signature CA's key in SoftHSM2: the chip
generates the key and signs the request, the CA issues, the certificate lands in the chip, the
OneID event in the outbox; replays and requests for another person are refused."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import pem
from cryptography.hazmat.primitives import serialization
from tests.conftest import require_tool
from tests.idcard.esign.esign_kit import K_PERSO, PIN, PUK, enrolled_chip, open_card
from tests.idcard.esign.esign_kit import personalized_chip as new_card
from tests.pki.test_esign_kit import ALISHER, NODIRA, NOW, PUBLIC_URLS
from tests.softhsm import SoftHSMToken

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.chip.transport import ChipTransport
from idcard.errors import TransportError
from idcard.esign import FID_CA_CERTIFICATE, FID_CERTIFICATE
from pki.card_signer import CardSigner
from pki.enroll import build_request
from pki.esign import EnrollmentRefused, EsignCA, EsignRegister
from pki.hsm import PKCS11Module
from pki.keys import KeySpec, verify_signature
from station.enrollment import EnrollmentError, enroll_card
from station.outbox import Outbox

pytestmark = pytest.mark.hsm


@pytest.fixture
def hsm_ca(softhsm_token: SoftHSMToken, tmp_path: Path) -> Iterator[EsignCA]:
    token = PKCS11Module(softhsm_token.module).token(softhsm_token.label)
    label = f"esign-ca-{os.urandom(4).hex()}"
    with token.session(lambda: softhsm_token.pin) as session:
        key = session.generate_key(label, KeySpec("ec", curve="secp256r1"))
        yield EsignCA.create(EsignRegister(tmp_path / "esign.sqlite"), key, PUBLIC_URLS, now=NOW)
        session.destroy_key(label)


def test_enrollment_writes_the_issued_certificate_into_the_chip(hsm_ca: EsignCA) -> None:
    chip = new_card()
    result = enroll_card(ChipTransport(chip), k_perso=K_PERSO, record=ALISHER, ca=hsm_ca,
                         pin=lambda: PIN, puk=PUK, now=NOW)  # fmt: skip
    issued = result.issued
    card = open_card(chip)  # anyone reads the certificates, in the clear
    assert card.read_file(FID_CERTIFICATE) == issued.der
    assert card.read_file(FID_CA_CERTIFICATE) == hsm_ca.certificate.dump()
    cert = issued.certificate
    assert cert.subject.native["serial_number"] == "PNOUZ-" + ALISHER.pinfl
    spki = open_card(chip).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert cert.public_key.dump() == spki
    tbs, signature = cert["tbs_certificate"].dump(), cert["signature_value"].native
    assert verify_signature(hsm_ca.signer.public_key(), signature, tbs, hsm_ca.algorithm)
    # recorded, and the OneID event queued in the same register
    assert [r.serial for r in hsm_ca.register.by_pinfl(ALISHER.pinfl)] == [issued.serial]
    [event] = Outbox(hsm_ca.register.path).pending()
    assert event.payload["pinfl"] == ALISHER.pinfl
    assert event.payload["certificate_serial"] == format(issued.serial, "x")
    # the holder's PIN works; the station's channel and PIN verification are over
    assert card.pin_tries() == 3
    signer = CardSigner(card, lambda: PIN)
    assert verify_signature(signer.public_key(), signer.sign(b"x", signer.algorithm), b"x",
                            signer.algorithm)  # fmt: skip


@pytest.mark.tool
def test_openssl_verifies_the_chip_signed_request(hsm_ca: EsignCA, tmp_path: Path) -> None:
    openssl = require_tool("openssl")
    result = enroll_card(ChipTransport(new_card()), k_perso=K_PERSO, record=ALISHER, ca=hsm_ca,
                         pin=lambda: PIN, puk=PUK, now=NOW)  # fmt: skip
    path = tmp_path / "request.pem"
    path.write_bytes(pem.armor("CERTIFICATE REQUEST", result.request))
    out = subprocess.run([openssl, "req", "-in", str(path), "-verify", "-noout"],
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "verify OK" in out.stdout + out.stderr


def test_replayed_request_and_request_for_another_person_are_refused(hsm_ca: EsignCA) -> None:
    result = enroll_card(ChipTransport(new_card()), k_perso=K_PERSO, record=ALISHER, ca=hsm_ca,
                         pin=lambda: PIN, puk=PUK, now=NOW)  # fmt: skip
    with pytest.raises(EnrollmentRefused, match="subject"):
        hsm_ca.issue(result.request, NODIRA, now=NOW)  # Alisher's request at Nodira's issuance
    with pytest.raises(EnrollmentRefused, match="already certified"):
        hsm_ca.issue(result.request, ALISHER, now=NOW)  # the same request again
    # a card signs a request naming Nodira; the issuance record is Alisher's
    other = enrolled_chip()
    request = build_request(CardSigner(open_card(other), lambda: PIN), NODIRA)
    with pytest.raises(EnrollmentRefused, match="subject"):
        hsm_ca.issue(request, ALISHER, now=NOW)
    assert hsm_ca.register.count() == 2  # the CA and Alisher's one certificate
    assert len(Outbox(hsm_ca.register.path).pending()) == 1


class _FailingWrites:
    """A transport whose card is pulled out when the certificate is being written."""

    def __init__(self, inner: ChipTransport) -> None:
        self.inner = inner

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        if command.ins == 0xD7:
            raise TransportError("card removed")
        return self.inner.transmit(command)


def test_certificate_not_written_is_revoked(hsm_ca: EsignCA) -> None:
    chip = new_card()
    with pytest.raises(EnrollmentError, match="card removed"):
        enroll_card(_FailingWrites(ChipTransport(chip)), k_perso=K_PERSO, record=ALISHER,
                    ca=hsm_ca, pin=lambda: PIN, puk=PUK, now=NOW)  # fmt: skip
    [row] = hsm_ca.register.by_pinfl(ALISHER.pinfl)
    assert row.revoked_at is not None and row.reason == "cessation_of_operation"


def test_wrong_perso_key_enrolls_nothing(hsm_ca: EsignCA) -> None:
    from idcard.errors import AuthenticationError

    chip = new_card()
    with pytest.raises(AuthenticationError):
        enroll_card(ChipTransport(chip), k_perso=bytes(32), record=ALISHER, ca=hsm_ca,
                    pin=lambda: PIN, puk=PUK, now=NOW)  # fmt: skip
    assert chip.state.esign_key is None and hsm_ca.register.count() == 1


# -- idkarta sign --card ---------------------------------------------------------------------------


def test_cli_signs_with_the_enrolled_card_image(hsm_ca: EsignCA, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from idcard.chip.emrtd import VirtualChip
    from pki.pdf import simple_pdf, validate_pdf
    from station.cli import main

    chip = new_card()
    enroll_card(ChipTransport(chip), k_perso=K_PERSO, record=ALISHER, ca=hsm_ca,
                pin=lambda: PIN, puk=PUK, now=NOW)  # fmt: skip
    image, pdf, out = tmp_path / "card.json", tmp_path / "in.pdf", tmp_path / "out.pdf"
    chip.save(image)
    pdf.write_bytes(simple_pdf())
    runner = CliRunner()
    args = ["sign", str(pdf), str(out), "--card", "--image", str(image)]
    wrong = runner.invoke(main, args, env={"IDKARTA_PIN": "000000"})
    assert wrong.exit_code == 2 and "2 tries left" in wrong.output and "000000" not in wrong.output
    assert VirtualChip.load(image).state.esign_pin_tries == 2  # saved back to the image
    result = runner.invoke(main, args, input=f"{PIN}\n", env={"IDKARTA_PIN": ""})
    assert result.exit_code == 0, result.output
    assert PIN not in result.output.replace("Card PIN", "")
    [report] = validate_pdf(out.read_bytes(), [hsm_ca.certificate],  # chain from the card
                            crls=[hsm_ca.issue_crl()])
    assert report.ok, report.summary
    assert VirtualChip.load(image).state.esign_pin_tries == 3
    usage = runner.invoke(main, ["sign", str(pdf), str(out), "--card"])
    assert usage.exit_code == 2 and "--image" in usage.output
