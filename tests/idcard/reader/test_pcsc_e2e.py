"""Every access scenario end to end through the real pcscd: the virtual chip plugged into vpcd
(tests/pcsc_harness.py), read by :func:`idcard.reader.read_document` over
:class:`~idcard.reader.pcsc.PCSCTransport`, and `idkarta card …` in a process.

BAC; PACE GM/IM/CAM over 3DES and AES-128/192/256 on P-256 and brainpoolP256r1; Chip
Authentication; Active Authentication with ECDSA (BSI ecdsa-plain-SHA256 in DG14) and RSA;
Terminal Authentication to DG3 with `idkarta pki init`'s CVCA/DV/IS and with OpenPACE's
cvc-create chain; wrong MRZ/CAN; DG3 refused without TA; personalization through PC/SC, read back
identical; personalization after the lock refused; a card pulled out half way (TransportError,
exit 2, nothing written); OpenSC's opensc-tool selecting the eMRTD application; cvc-print reading
our CV certificates.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from tests.conftest import ROOT, require_tool
from tests.idcard.chip.cards import CAN, TODAY, Card, build_dump, make_card
from tests.pcsc_harness import BASE_PORT, PCSCD, READERS, PluggedChip, wait_absent

from idcard.apdu import CommandAPDU
from idcard.asn1 import oids
from idcard.chip.emrtd import VirtualChip
from idcard.chip.perso import ChipSecrets
from idcard.cvc.certificate import CVCertificate
from idcard.errors import AuthenticationError, TransportError
from idcard.lds.dg1 import DG1
from idcard.lds.dg15 import DG15
from idcard.lds.dump import Dump
from idcard.protocols.base import drive
from idcard.protocols.pace import PACEPassword, PACEProtocol
from idcard.reader import (
    CardLockedError,
    PCSCTransport,
    ReadResult,
    TerminalCredentials,
    personalize,
    read_document,
)
from idcard.sm import SecureTransport
from station.cli import main
from station.folders.card import load_terminal

pytestmark = pytest.mark.pcsc

PASS = "e2e-passphrase"
ENV = {"IDKARTA_PASSPHRASE": PASS}
CARDSLOT = 0
SERVE_SLOT = 1


@contextlib.contextmanager
def plugged_in(pcscd: PCSCD, chip: VirtualChip) -> Iterator[PCSCTransport]:
    """``chip`` in reader slot 0 and a PC/SC connection to it."""
    with pcscd.card(PluggedChip(chip), CARDSLOT), PCSCTransport.connect(READERS[CARDSLOT]) as t:
        yield t


def read_through_pcscd(pcscd: PCSCD, chip: VirtualChip, **kwargs: Any) -> ReadResult:
    with plugged_in(pcscd, chip) as transport:
        return read_document(transport, **kwargs)


def expect_full_read(result: ReadResult, card: Card, *, dg3: bool = False) -> None:
    expected = {n: d for n, d in card.dump.files.items() if dg3 or n != "DG3"}
    assert dict(result.dump.files) == expected
    assert not result.decode_errors
    if not dg3:
        assert "DG3" in result.skipped


@pytest.fixture(scope="module")
def eac_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("eac") / "pki"
    args = ["pki", "init", "--dir", str(d), "--key-type", "ec-p256",
            "--cvc-key-type", "ec-brainpoolP256r1"]  # fmt: skip
    result = CliRunner().invoke(main, args, env=ENV)
    assert result.exit_code == 0, result.stderr
    return d


def pki_terminal(eac_pki: Path) -> TerminalCredentials:
    return load_terminal(eac_pki / "cvc", eac_pki / "cvc" / "keys" / "UZIS00001.key.pem",
                         lambda: PASS.encode())  # fmt: skip


def pki_cvca(eac_pki: Path) -> CVCertificate:
    return CVCertificate.decode((eac_pki / "cvc" / "UZCVCA00001.cvcert").read_bytes())


# -- access control -----------------------------------------------------------------------------


def test_bac_only(pcscd: PCSCD) -> None:
    dump, keys = build_dump(pace_oid=None)
    card = make_card(dump, keys)
    result = read_through_pcscd(pcscd, card.chip, mrz=card.mrz)
    assert result.access == "BAC"
    assert [(r.protocol, r.ok) for r in result.protocols] == [("BAC", True), ("CA", True),
                                                              ("AA", True)]  # fmt: skip
    expect_full_read(result, card)


PACE_CASES = [
    # (family, cipher suffix, parameter id, access by): 3 mappings, 4 ciphers, 2 curves
    (oids.ID_PACE_ECDH_GM, 1, 12, "mrz"),  # 3DES, P-256
    (oids.ID_PACE_ECDH_GM, 2, 13, "can"),  # AES-128, brainpoolP256r1
    (oids.ID_PACE_ECDH_IM, 3, 12, "can"),  # AES-192, P-256
    (oids.ID_PACE_ECDH_CAM, 4, 13, "mrz"),  # AES-256, brainpoolP256r1
]


@pytest.mark.parametrize(("family", "cipher", "parameter_id", "by"), PACE_CASES,
                         ids=["GM-3DES-P256", "GM-AES128-BP256", "IM-AES192-P256",
                              "CAM-AES256-BP256"])  # fmt: skip
def test_pace(pcscd: PCSCD, family: str, cipher: int, parameter_id: int, by: str) -> None:
    cam = family == oids.ID_PACE_ECDH_CAM
    dump, keys = build_dump(pace_oid=f"{family}.{cipher}", parameter_id=parameter_id, cam=cam)
    card = make_card(dump, keys, pace_required=True)
    access = {"mrz": card.mrz} if by == "mrz" else {"can": CAN}
    result = read_through_pcscd(pcscd, card.chip, **access)
    assert result.access == "PACE"
    pace = result.protocol("PACE")
    assert pace is not None and pace.ok and by.upper() in pace.detail
    assert f"parameter id {parameter_id}" in pace.detail
    names = [r.protocol for r in result.protocols]
    if cam:  # the chip proved its key inside PACE; no separate CA without a terminal
        assert names == ["PACE", "PACE-CAM", "AA"]
        assert all(r.ok for r in result.protocols)
    else:
        assert names == ["PACE", "CA", "AA"] and all(r.ok for r in result.protocols)
    expect_full_read(result, card)


def test_wrong_mrz_and_can(pcscd: PCSCD) -> None:
    dump, keys = build_dump()
    card = make_card(dump, keys)
    with plugged_in(pcscd, card.chip) as t, pytest.raises(AuthenticationError, match="PACE"):
            read_document(t, can="000000")
    bac_dump, bac_keys = build_dump(pace_oid=None)
    bac_card = make_card(bac_dump, bac_keys)
    wrong = dataclasses.replace(bac_card.mrz, birth_date="900316")
    with plugged_in(pcscd, bac_card.chip) as t, pytest.raises(AuthenticationError, match="BAC"):
            read_document(t, mrz=wrong)


# -- Active, Chip and Terminal Authentication -----------------------------------------------------


def test_active_authentication_rsa(pcscd: PCSCD) -> None:
    rsa_key = rsa.generate_private_key(65537, 2048)
    dg15 = DG15.from_public_key(rsa_key.public_key()).encode()
    dump, keys = build_dump(replace={"DG15": dg15})
    card = make_card(dump, keys, aa_key=rsa_key)
    result = read_through_pcscd(pcscd, card.chip, can=CAN)
    aa = result.protocol("AA")
    assert aa is not None and aa.ok and aa.detail == "signature verified"
    expect_full_read(result, card)


def test_terminal_authentication_with_pki_init_chain(pcscd: PCSCD, eac_pki: Path) -> None:
    dump, keys = build_dump()
    card = make_card(dump, keys, cvca=pki_cvca(eac_pki))
    result = read_through_pcscd(pcscd, card.chip, can=CAN, terminal=pki_terminal(eac_pki))
    assert [(r.protocol, r.ok) for r in result.protocols] == [
        ("PACE", True), ("CA", True), ("TA", True), ("AA", True)]  # fmt: skip
    expect_full_read(result, card, dg3=True)
    assert card.chip.state.current_date >= TODAY


def test_dg3_refused_without_terminal_authentication(pcscd: PCSCD, eac_pki: Path) -> None:
    dump, keys = build_dump()
    card = make_card(dump, keys, cvca=pki_cvca(eac_pki))
    with plugged_in(pcscd, card.chip) as t:
        result = read_document(t, can=CAN)
        assert result.skipped["DG3"].startswith("needs Terminal Authentication")
        # and the chip itself refuses: PACE, then SELECT DG3 and READ BINARY → 6982
        t.transmit(CommandAPDU(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00"))
        pace = drive(PACEProtocol(PACEPassword.can(CAN), f"{oids.ID_PACE_ECDH_GM}.2", 13), t)
        sm = SecureTransport(t, pace.secure_channel())
        sm.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, bytes.fromhex("A0000002471001"))).check()
        sm.transmit(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, b"\x01\x03")).check()
        refused = sm.transmit(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=16))
        assert refused.sw == 0x6982 and refused.data == b""
        dg2 = sm.transmit(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, b"\x01\x02"))
        assert dg2.sw == 0x9000


def test_terminal_authentication_with_openpace_cvc_create(
    pcscd: PCSCD, tmp_path: Path
) -> None:
    """OpenPACE's cvc-create makes CVCA → DV → IS; our chip trusts its CVCA and accepts TA."""
    tool = require_tool("cvc-create")
    cvca_key = ec.generate_private_key(ec.BrainpoolP256R1())
    (tmp_path / "cvca.pkcs8").write_bytes(cvca_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))  # fmt: skip

    def create(*args: str) -> None:
        out = subprocess.run([tool, "--expires=301231", "--scheme=ECDSA_SHA_256", "--read-finger",
                              "--read-iris", *args], cwd=tmp_path, capture_output=True,
                             text=True, timeout=30, check=False)  # fmt: skip
        assert out.returncode == 0, out.stdout + out.stderr

    create("--role=cvca", "--type=is", "--chr=UZOPCVCA0001", "--sign-with=cvca.pkcs8")
    create("--role=dv_domestic", "--chr=UZOPDV00001", "--sign-with=cvca.pkcs8",
           "--sign-as=UZOPCVCA0001.cvcert")  # fmt: skip
    create("--role=terminal", "--chr=UZOPIS00001", "--sign-with=UZOPDV00001.pkcs8",
           "--sign-as=UZOPDV00001.cvcert")  # fmt: skip
    terminal = load_terminal(tmp_path, tmp_path / "UZOPIS00001.pkcs8", lambda: b"")
    assert [c.chr for c in terminal.chain] == ["UZOPCVCA0001", "UZOPDV00001", "UZOPIS00001"]
    cvca = CVCertificate.decode((tmp_path / "UZOPCVCA0001.cvcert").read_bytes())
    dump, keys = build_dump()
    card = make_card(dump, keys, cvca=cvca)
    result = read_through_pcscd(pcscd, card.chip, can=CAN, terminal=terminal)
    ta = result.protocol("TA")
    assert ta is not None and ta.ok and ta.detail == "UZOPIS00001"
    expect_full_read(result, card, dg3=True)


@pytest.mark.tool
def test_cvc_print_verifies_our_chain(tmp_path: Path, eac_pki: Path) -> None:
    """OpenPACE's cvc-print reads our IS and DV certificates and verifies them up to our CVCA."""
    tool = require_tool("cvc-print")
    trust = tmp_path / "trust"
    trust.mkdir()
    for name in ("UZCVCA00001", "UZDV00001"):
        (trust / name).write_bytes((eac_pki / "cvc" / f"{name}.cvcert").read_bytes())
    for name in ("UZDV00001", "UZIS00001"):
        out = subprocess.run([tool, f"--cvc-dir={trust}", "--cvc",
                              str(eac_pki / "cvc" / f"{name}.cvcert")],
                             capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert f"CHR: {name}" in out.stdout and "certificate verified" in out.stdout


# -- personalization through PC/SC ------------------------------------------------------------


def test_personalize_through_pcsc_then_read_back(
    pcscd: PCSCD, tmp_path: Path, eac_pki: Path
) -> None:
    dump, keys = build_dump()
    dump.write(tmp_path / "dump")
    keys.to_secrets_file(tmp_path / "secrets.json", PASS.encode(), can=CAN, current_date=TODAY)
    blank = VirtualChip.new()
    plugged = PluggedChip(blank)
    with pcscd.card(plugged, CARDSLOT):
        result = CliRunner().invoke(main, [
            "card", "personalize", "--reader", "vpcd 00 00", "--dump", str(tmp_path / "dump"),
            "--secrets", str(tmp_path / "secrets.json"),
            "--cvca", str(eac_pki / "cvc" / "UZCVCA00001.cvcert")], env=ENV)  # fmt: skip
        assert result.exit_code == 0, result.stderr
        assert blank.locked
        with PCSCTransport.connect(READERS[CARDSLOT]) as t:
            back = read_document(t, mrz=DG1.decode(dump.files["DG1"]).mrz,
                                 terminal=pki_terminal(eac_pki))  # fmt: skip
            assert dict(back.dump.files) == dict(Dump.read(tmp_path / "dump").files)
            assert all(r.ok for r in back.protocols) and not back.skipped
            # a second personalization is refused by the locked card
            with pytest.raises(CardLockedError):
                personalize(t, dump, ChipSecrets(can=CAN))
        again = CliRunner().invoke(main, [
            "card", "personalize", "--reader", "0", "--dump", str(tmp_path / "dump"),
            "--secrets", str(tmp_path / "secrets.json")], env=ENV)  # fmt: skip
        assert again.exit_code == 1 and "locked" in again.stderr


# -- a card pulled out half way ---------------------------------------------------------------


def test_card_pulled_out_half_way(pcscd: PCSCD, tmp_path: Path) -> None:
    dump, keys = build_dump()
    card = make_card(dump, keys)
    plugged = PluggedChip(card.chip)
    with pcscd.card(plugged, CARDSLOT) as (_, client):
        plugged.on_apdu = lambda n: client.stop() if n == 15 else None
        with PCSCTransport.connect(READERS[CARDSLOT]) as t, pytest.raises(TransportError):
            read_document(t, can=CAN)
    assert 15 <= plugged.apdus <= 16

    card = make_card(dump, keys)
    plugged = PluggedChip(card.chip)
    out = tmp_path / "out"
    with pcscd.card(plugged, CARDSLOT) as (_, client):
        plugged.on_apdu = lambda n: client.stop() if n == 20 else None
        result = CliRunner().invoke(main, ["card", "read", "--reader", "vpcd 00 00", "--can",
                                           CAN, "--out", str(out)], env=ENV)  # fmt: skip
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert not out.exists() and os.listdir(tmp_path) == []


# -- OpenSC ---------------------------------------------------------------------------------------


@pytest.mark.tool
def test_opensc_tool_selects_the_emrtd_application(pcscd: PCSCD) -> None:
    tool = require_tool("opensc-tool")
    dump, keys = build_dump()
    card = make_card(dump, keys)
    with pcscd.card(PluggedChip(card.chip), CARDSLOT):
        out = subprocess.run([tool, "-r", READERS[CARDSLOT], "-s", "00A4040C07A0000002471001"],
                             env=pcscd.env, capture_output=True, text=True, timeout=30,
                             check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Received (SW1=0x90, SW2=0x00)" in out.stdout, out.stdout + out.stderr


# -- `idkarta card serve` + `idkarta card read --reader` in processes ------------------------




def test_cli_serve_and_read_through_pcscd(pcscd: PCSCD, tmp_path: Path, eac_pki: Path) -> None:
    """`idkarta card serve` under `nsenter --net` into pcscd's namespace, `idkarta card read
    --reader` in another process; SIGTERM stops the server cleanly and the image keeps the date
    TA moved."""
    dump, keys = build_dump()
    dump.write(tmp_path / "dump")
    keys.to_secrets_file(tmp_path / "secrets.json", PASS.encode(), can=CAN, current_date=TODAY)
    image = tmp_path / "chip.json"
    env = {**pcscd.env, **ENV, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    cli = [sys.executable, "-m", "station.cli", "card"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, *args], env=env, capture_output=True, text=True, timeout=60,
                              check=False)  # fmt: skip

    assert run("new", str(image)).returncode == 0
    done = run("personalize", "--image", str(image), "--dump", str(tmp_path / "dump"),
               "--secrets", str(tmp_path / "secrets.json"),
               "--cvca", str(eac_pki / "cvc" / "UZCVCA00001.cvcert"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    before = VirtualChip.load(image).state.current_date
    server = subprocess.Popen(
        ["nsenter", f"--net={pcscd.netns}", *cli, "serve", str(image), "--vpcd",
         f"127.0.0.1:{BASE_PORT + SERVE_SLOT}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        with PCSCTransport.connect(READERS[SERVE_SLOT], wait=15):
            pass  # the card is in
        out = tmp_path / "read"
        read = run("read", "--reader", "vpcd 00 01", "--can", CAN, "--terminal",
                   str(eac_pki / "cvc"), "--terminal-key",
                   str(eac_pki / "cvc" / "keys" / "UZIS00001.key.pem"), "--out", str(out),
                   "--trace", str(tmp_path / "trace.log"))  # fmt: skip
        assert read.returncode == 0, read.stderr
        assert "TA: ok (UZIS00001)" in read.stdout and "AA: ok" in read.stdout
        assert Dump.read(out).files == dump.files
        trace = (tmp_path / "trace.log").read_text()
        assert "  > 0C" not in trace and "  > 00 B0" in trace  # decrypted reads
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            _, err = server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
            raise
    assert server.returncode == 0, err
    assert "stopped; image saved" in err
    wait_absent(READERS[SERVE_SLOT])
    after = VirtualChip.load(image)
    is_cert = CVCertificate.decode((eac_pki / "cvc" / "UZIS00001.cvcert").read_bytes())
    assert after.locked and after.state.current_date == max(before, is_cert.body.effective_date)
