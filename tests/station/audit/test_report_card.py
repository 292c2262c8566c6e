"""A card verified through pcscd, and the report signed with the auditor's own ID card.

Two virtual cards in the private pcscd's vpcd readers (tests/pcsc_harness.py): the card under
audit, served by `idkarta card serve` into slot 1, and the auditor's own ID card (an enrolled
chip with its e-signature certificate, tests/idcard/chip/piv_kit.py) in slot 0. `idkarta verify
--reader` reads and verifies the first live, then signs report.pdf with the second through
OpenSC's PKCS#11 module and the card's PIV face (--report-pkcs11 opensc-pkcs11.so, token = the
holder's name, key "SIGN key", the certificate read from the card). poppler's pdfsig and
`idkarta validate` (against the e-signature CA and its CRL) accept the signature."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import ROOT, require_tool
from tests.idcard.chip.cards import CAN, build_dump, ds_pki, sample_cvca
from tests.idcard.chip.piv_kit import piv_card
from tests.idcard.chip.test_piv_opensc import OPENSC_CONF, opensc_module
from tests.idcard.esign.esign_kit import PIN
from tests.idcard.verify.pa_pki import pem
from tests.pcsc_harness import BASE_PORT, PCSCD, READERS, PluggedChip, wait_absent

from idcard.reader import PCSCTransport

pytestmark = [pytest.mark.pcsc, pytest.mark.tool]

PASS = "report-card-passphrase"
AUDITED = 1  # the card under audit: slot 1; the auditor's card: slot 0


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "station.cli", *args], env=env,
                          capture_output=True, text=True, timeout=180, check=False)  # fmt: skip


@pytest.fixture
def audited(pcscd: PCSCD, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The sample card served into slot 1; the CLI's environment (pcscd, OpenSC without a file
    cache, the auditor's PIN)."""
    dump, keys = build_dump()
    dump.write(tmp_path / "dump")
    keys.to_secrets_file(tmp_path / "secrets.json", PASS.encode(), can=CAN, cvca=sample_cvca(),
                         current_date=dt.date(2026, 11, 20))  # fmt: skip
    (tmp_path / "csca.pem").write_bytes(pem(ds_pki().csca))
    (tmp_path / "opensc.conf").write_text(OPENSC_CONF)
    env = {**pcscd.env, "IDKARTA_PASSPHRASE": PASS, "IDKARTA_PIN": PIN,
           "OPENSC_CONF": str(tmp_path / "opensc.conf"),
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}  # fmt: skip
    image = tmp_path / "chip.json"
    for args in (["card", "new", str(image)],
                 ["card", "personalize", "--image", str(image), "--dump", str(tmp_path / "dump"),
                  "--secrets", str(tmp_path / "secrets.json")]):  # fmt: skip
        done = _cli(env, *args)
        assert done.returncode == 0, done.stderr
    server = subprocess.Popen(
        ["nsenter", f"--net={pcscd.netns}", sys.executable, "-m", "station.cli", "card", "serve",
         str(image), "--vpcd", f"127.0.0.1:{BASE_PORT + AUDITED}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        with PCSCTransport.connect(READERS[AUDITED], wait=15):
            pass  # the card is in
        yield env
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
        wait_absent(READERS[AUDITED])


def test_live_verification_with_a_report_signed_by_the_auditors_id_card(
    pcscd: PCSCD, audited: dict[str, str], tmp_path: Path
) -> None:
    auditor = piv_card(tmp_path / "auditor-ca")
    (tmp_path / "esign-ca.pem").write_bytes(pem_of(auditor.ca.certificate.dump()))
    (tmp_path / "esign.crl").write_bytes(auditor.ca.issue_crl().dump())
    out = tmp_path / "report"
    with pcscd.card(PluggedChip(auditor.chip), slot=0):
        done = _cli(audited, "verify", "--reader", READERS[AUDITED], "--can", CAN, "--csca",
                    str(tmp_path / "csca.pem"), "--at", "2026-12-01", "--report", str(out),
                    "--report-pkcs11", opensc_module(), "--report-token", "ALISHER TOSHMATOV",
                    "--report-key-label", "SIGN key", "--json")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""  # the PIN came from IDKARTA_PIN: no prompt
    doc = json.loads(done.stdout)
    assert doc["ok"] and doc["live"]
    assert {c["name"]: c["status"] for c in doc["checks"]}["chip_authentication"] == "pass"
    report = json.loads((out / "report.json").read_text())
    [reported] = report["documents"]
    assert reported["dump"] == "live" and reported["ok"] and reported["live"]
    assert reported["evidence"]["reader"] == READERS[AUDITED]
    signer = report["signer"]
    assert signer["sha256"] == hashlib.sha256(auditor.issued.der).hexdigest()  # read from card
    assert "ALISHER TOSHMATOV" in signer["subject"]
    assert signer["key"] == f"PKCS#11 token 'ALISHER TOSHMATOV' ({opensc_module()})"
    assert signer["level"] == "B-B"
    # outside tools accept the signature
    checked = subprocess.run([require_tool("pdfsig"), str(out / "report.pdf")],
                             capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert "Signature Validation: Signature is Valid." in checked.stdout, checked.stdout
    assert "ALISHER TOSHMATOV" in checked.stdout
    done = _cli(audited, "validate", str(out / "report.pdf"), "--trust",
                str(tmp_path / "esign-ca.pem"), "--crl", str(tmp_path / "esign.crl"), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    [sig] = json.loads(done.stdout)["signatures"]
    assert sig["intact"] and sig["valid"] and sig["trusted"] and sig["revocation"] == "good"
    # one PIN verification through the PIV face, the right one: no try spent
    assert auditor.chip.state.esign_pin_tries == 3


def test_a_wrong_pin_on_the_auditors_card_writes_no_report(
    pcscd: PCSCD, audited: dict[str, str], tmp_path: Path
) -> None:
    auditor = piv_card(tmp_path / "auditor-ca")
    out = tmp_path / "report"
    with pcscd.card(PluggedChip(auditor.chip), slot=0):
        done = _cli({**audited, "IDKARTA_PIN": "000000"}, "verify", "--reader",
                    READERS[AUDITED], "--can", CAN, "--csca", str(tmp_path / "csca.pem"),
                    "--at", "2026-12-01", "--report", str(out), "--report-pkcs11",
                    opensc_module(), "--report-token", "ALISHER TOSHMATOV",
                    "--report-key-label", "SIGN key")  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == "error: C_Login failed: CKR_PIN_INCORRECT\n"
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert auditor.chip.state.esign_pin_tries == 2  # the card counted it


def pem_of(der: bytes) -> bytes:
    from asn1crypto import pem as apem

    return bytes(apem.armor("CERTIFICATE", der))
