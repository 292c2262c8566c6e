"""The PIV face driven by software no one here wrote: OpenSC's PKCS#11 module (through
pkcs11-tool), pkcs15-tool and piv-tool, against the virtual chip served by a private pcscd with
the vpcd driver; openssl checks the signatures against the holder's certificate."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from tests.conftest import require_component, require_tool
from tests.idcard.chip.piv_kit import PIVCard, piv_card
from tests.idcard.esign.esign_kit import PIN, PUK, open_card
from tests.pcsc_harness import PCSCD, PluggedChip, pcscd  # noqa: F401 - registers the fixture

from idcard.esign import PINBlockedError, PINError

pytestmark = [pytest.mark.pcsc, pytest.mark.tool]

OPENSC_PKCS11 = (
    "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib64/opensc-pkcs11.so",
    "/usr/lib/opensc-pkcs11.so",
)
OPENSC_CONF = """app default {
    framework pkcs15 {
        use_file_caching = no;
    }
}
"""
"""OpenSC's defaults (its PIV driver is found without help), with no cache of card files on
disk, so that every test reads its own card."""


def opensc_module() -> str:
    """OpenSC's PKCS#11 module (Debian's opensc-pkcs11), or skip locally / fail in CI."""
    found = next((m for m in OPENSC_PKCS11 if Path(m).exists()), None)
    require_component(found is not None, "OpenSC's PKCS#11 module (opensc-pkcs11)")
    assert found is not None
    return found


class Tools:
    """Runs OpenSC's programs against the private pcscd, with the test's opensc.conf."""

    def __init__(self, harness: PCSCD, folder: Path) -> None:
        conf = folder / "opensc.conf"
        conf.write_text(OPENSC_CONF)
        self.env = {**harness.env, "OPENSC_CONF": str(conf)}
        self.module = opensc_module()

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        program = require_tool(args[0])
        return subprocess.run([program, *args[1:]], capture_output=True, text=True,
                              env=self.env, timeout=120, check=False)  # fmt: skip

    def pkcs11(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("pkcs11-tool", "--module", self.module, *args)


@pytest.fixture
def tools(pcscd: PCSCD, tmp_path: Path) -> Tools:  # noqa: F811
    return Tools(pcscd, tmp_path)


@pytest.fixture
def plugged(pcscd: PCSCD, tmp_path: Path) -> Iterator[PIVCard]:  # noqa: F811
    card = piv_card(tmp_path)
    with pcscd.card(PluggedChip(card.chip)):
        yield card


def _public_pem(card: PIVCard, folder: Path) -> Path:
    cert = x509.load_der_x509_certificate(card.issued.der)
    path = folder / "holder-public.pem"
    path.write_bytes(cert.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))  # fmt: skip
    return path


def test_pkcs11_tool_shows_token_certificate_and_private_key(
    tools: Tools, plugged: PIVCard, tmp_path: Path
) -> None:
    out = tools.pkcs11("--list-slots", "--list-objects")
    assert out.returncode == 0, out.stderr
    assert "token label        : ALISHER TOSHMATOV" in out.stdout
    assert "Certificate Object; type = X.509 cert" in out.stdout
    assert "CN=ALISHER TOSHMATOV" in out.stdout
    assert "Private Key Object" not in out.stdout  # private: shown after login
    out = tools.pkcs11("--login", "--pin", PIN, "--list-objects")
    assert out.returncode == 0, out.stderr
    assert "Private Key Object; EC" in out.stdout
    assert "label:      SIGN key" in out.stdout
    # the certificate read through PKCS#11 is the holder's, byte for byte
    der = tmp_path / "cert.der"
    out = tools.pkcs11("--read-object", "--type", "cert", "--id", "02", "--output-file", str(der))
    assert out.returncode == 0, out.stderr
    assert der.read_bytes() == plugged.issued.der
    assert plugged.chip.state.esign_pin_tries == 3


@pytest.mark.parametrize("key_type", ["ec-p256", "ec-p384", "rsa-2048"])
def test_pkcs11_tool_signs_and_openssl_verifies(
    tools: Tools, pcscd: PCSCD, tmp_path: Path, key_type: str  # noqa: F811
) -> None:
    card = piv_card(tmp_path, key_type)
    data = tmp_path / "data"
    message = b"a contract the holder signs"
    signature = tmp_path / "signature"
    if key_type == "rsa-2048":
        data.write_bytes(message)
        mechanism = "SHA256-RSA-PKCS"
    else:
        hashed = hashlib.sha384 if key_type == "ec-p384" else hashlib.sha256
        data.write_bytes(hashed(message).digest())
        mechanism = "ECDSA"
    with pcscd.card(PluggedChip(card.chip)):
        out = tools.pkcs11("--login", "--pin", PIN, "--sign", "--mechanism", mechanism,
                           "--input-file", str(data), "--output-file", str(signature),
                           "--signature-format", "openssl")  # fmt: skip
        assert out.returncode == 0, out.stderr
    public = _public_pem(card, tmp_path)
    if key_type == "rsa-2048":
        check = tools.run("openssl", "dgst", "-sha256", "-verify", str(public),
                          "-signature", str(signature), str(data))  # fmt: skip
        assert check.stdout.strip() == "Verified OK", check.stdout + check.stderr
    else:
        check = tools.run("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public),
                          "-in", str(data), "-sigfile", str(signature))  # fmt: skip
        assert check.stdout.strip() == "Signature Verified Successfully", check.stderr
    assert check.returncode == 0
    # and a signature of another hash does not verify: openssl checked something
    data.write_bytes(hashlib.sha256(b"another").digest())
    if key_type != "rsa-2048":
        bad = tools.run("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public),
                        "-in", str(data), "-sigfile", str(signature))  # fmt: skip
        assert bad.returncode != 0


def test_wrong_pins_spend_the_e_signature_counter_and_block_both_faces(
    tools: Tools, pcscd: PCSCD, tmp_path: Path  # noqa: F811
) -> None:
    card = piv_card(tmp_path)
    chip = card.chip
    with pcscd.card(PluggedChip(chip)):
        out = tools.pkcs11("--login", "--pin", "000000", "--list-objects")
        assert out.returncode != 0 and "CKR_PIN_INCORRECT" in out.stderr
    assert open_card(chip).pin_tries() == 2  # the e-signature application reports it
    with pcscd.card(PluggedChip(chip)):
        out = tools.pkcs11("--login", "--pin", "111111", "--list-objects")
        assert "CKR_PIN_INCORRECT" in out.stderr
        out = tools.pkcs11("--login", "--pin", "222222", "--list-objects")
        assert out.returncode != 0 and "CKR_PIN_LOCKED" in out.stderr
        out = tools.pkcs11("--login", "--pin", PIN, "--list-objects")
        assert out.returncode != 0 and "CKR_PIN_LOCKED" in out.stderr  # the right PIN too
    assert chip.state.esign_pin_tries == 0
    with pytest.raises(PINBlockedError):
        open_card(chip).verify_pin(PIN)
    # unblocked on the e-signature face, the PIV face signs again with the new PIN
    open_card(chip).unblock_pin(PUK, "24681357")
    with pcscd.card(PluggedChip(chip)):
        out = tools.pkcs11("--login", "--pin", "24681357", "--list-objects")
        assert out.returncode == 0 and "Private Key Object; EC" in out.stdout, out.stderr


def test_a_pin_changed_through_pkcs11_is_the_e_signature_pin(
    tools: Tools, pcscd: PCSCD, tmp_path: Path  # noqa: F811
) -> None:
    chip = piv_card(tmp_path).chip
    with pcscd.card(PluggedChip(chip)):
        out = tools.pkcs11("--login", "--pin", PIN, "--change-pin", "--new-pin", "135790")
        assert out.returncode == 0, out.stderr
    esign = open_card(chip)
    with pytest.raises(PINError):
        esign.verify_pin(PIN)
    esign.verify_pin("135790")
    assert chip.state.esign_pin_tries == 3


def test_pkcs15_tool_and_piv_tool_read_the_card(
    tools: Tools, plugged: PIVCard, tmp_path: Path
) -> None:
    out = tools.run("pkcs15-tool", "--dump")
    assert out.returncode == 0, out.stderr
    assert "PKCS#15 Card [ALISHER TOSHMATOV]" in out.stdout
    assert "Private EC Key [SIGN key]" in out.stdout
    assert "Key ref        : 156 (0x9C)" in out.stdout
    assert "Reference      : 128 (0x80)" in out.stdout  # the PIV application PIN
    out = tools.run("pkcs15-tool", "--read-certificate", "02")
    assert out.returncode == 0, out.stderr
    cert = x509.load_pem_x509_certificate(out.stdout.encode())
    assert cert.public_bytes(serialization.Encoding.DER) == plugged.issued.der
    out = tools.run("piv-tool", "--name")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Personal Identity Verification Card"
    assert "OPENSC_CONF" in tools.env and os.path.exists(tools.env["OPENSC_CONF"])
