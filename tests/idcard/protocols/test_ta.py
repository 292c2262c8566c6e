"""Terminal Authentication v1: terminal ↔ chip with a generated CVCA → DV → IS chain, after
Chip Authentication; CHAT decides DG3/DG4; wrong signature, expired, wrong key refused."""

from __future__ import annotations

import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.idcard.cvc.test_cvc_certificate import TODAY, make_pki

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.cvc import CHAT, CVCertificate, Role, Signer, ecdsa_signer
from idcard.errors import AuthenticationError
from idcard.protocols.base import drive
from idcard.protocols.ca import CAChip, CAProtocol, compressed
from idcard.protocols.ta import TAChip, TAProtocol, id_picc_from_document_number


class Wire:
    def __init__(self, chip: TAChip) -> None:
        self.chip = chip
        self.log: list[CommandAPDU] = []

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        self.log.append(command)
        return self.chip.handle(CommandAPDU.decode(command.encode()))


def _run(
    certs: list[CVCertificate], sign: Signer, *, date: datetime.date = TODAY,
    id_picc: bytes = b"L898902C<3",
) -> tuple[TAChip, Wire, TAProtocol]:  # fmt: skip
    comp = b"\x11" * 32
    chip = TAChip(certs[0], date, id_picc=b"L898902C<3", ephemeral_public_key_comp=comp)
    proto = TAProtocol(certs[1:], sign, id_picc=id_picc, ephemeral_public_key_comp=comp)
    return chip, Wire(chip), proto


def test_id_picc_from_bac_document_number() -> None:
    assert id_picc_from_document_number("L898902C") == b"L898902C<3"


def test_chain_accepted_and_chat_opens_dg3_only() -> None:
    certs, is_key = make_pki()
    chip, wire, proto = _run(certs, ecdsa_signer(is_key))
    assert drive(proto, wire) is True
    assert chip.done and chip.read_dg3 and not chip.read_dg4
    assert chip.granted is not None and chip.granted.role is Role.TERMINAL
    # the APDU sequence of TR-03110 v1.11: (DST, PSO) × 2, Set AT, GET CHALLENGE, EXT AUTH
    heads = [(c.ins, c.p1, c.p2) for c in wire.log]
    assert heads == [
        (0x22, 0x81, 0xB6), (0x2A, 0x00, 0xBE), (0x22, 0x81, 0xB6), (0x2A, 0x00, 0xBE),
        (0x22, 0x81, 0xA4), (0x84, 0, 0), (0x82, 0, 0),
    ]  # fmt: skip
    assert wire.log[0].data == b"\x83\x0bUZCVCA00001"
    assert wire.log[1].data == certs[1].signature_body
    assert wire.log[4].data == b"\x83\x0dUZISTEST00001"
    assert len(wire.log[6].data) == 64


def test_chat_without_dg3_does_not_open_dg3() -> None:
    certs, is_key = make_pki(is_chat=CHAT.inspection_system(Role.TERMINAL, dg4=True))
    chip, wire, proto = _run(certs, ecdsa_signer(is_key))
    assert drive(proto, wire) is True
    assert not chip.read_dg3 and chip.read_dg4


def test_wrong_signature_is_certificate_refused() -> None:
    certs, is_key = make_pki()
    sig = bytearray(certs[2].signature)
    sig[-1] ^= 0x01
    forged = CVCertificate(certs[2].body, bytes(sig))
    chip, wire, proto = _run([certs[0], certs[1], forged], ecdsa_signer(is_key))
    with pytest.raises(AuthenticationError) as info:
        drive(proto, wire)
    assert info.value.protocol == "TA" and info.value.step == "PSO:Verify Certificate"
    assert not chip.done and "signature" in (chip.failure or "")


def test_expired_is_certificate_refused() -> None:
    certs, is_key = make_pki(is_expiry=datetime.date(2026, 1, 10))
    chip, wire, proto = _run(certs, ecdsa_signer(is_key))
    with pytest.raises(AuthenticationError):
        drive(proto, wire)
    assert "expired" in (chip.failure or "") and not chip.done


def test_wrong_terminal_key_or_id_picc_refused() -> None:
    certs, _ = make_pki()
    other = ec.generate_private_key(ec.BrainpoolP256R1())
    chip, wire, proto = _run(certs, ecdsa_signer(other))
    with pytest.raises(AuthenticationError) as info:
        drive(proto, wire)
    assert info.value.step == "EXTERNAL AUTHENTICATE" and not chip.done
    certs, is_key = make_pki()
    chip, wire, proto = _run(certs, ecdsa_signer(is_key), id_picc=b"X12345678<0")
    with pytest.raises(AuthenticationError):
        drive(proto, wire)
    assert not chip.done


@settings(max_examples=8)
@given(st.booleans(), st.booleans())
def test_after_chip_authentication(dg3: bool, dg4: bool) -> None:
    """EAC v1 order: CA first, TA signs Comp(ephemeral CA key); PACE's ID_PICC works alike."""
    certs, is_key = make_pki(is_chat=CHAT.inspection_system(Role.TERMINAL, dg3=dg3, dg4=dg4))
    chip_key = ec.generate_private_key(ec.SECP256R1())
    ca_chip = CAChip(chip_key)
    ca = drive(
        CAProtocol(chip_key.public_key()),
        type("W", (), {"transmit": lambda s, c: ca_chip.handle(c)})(),
    )
    assert ca_chip.result is not None
    pace_id = compressed(ec.generate_private_key(ec.SECP256R1()).public_key())
    comp = ca_chip.result.compressed_ephemeral_public_key
    chip = TAChip(certs[0], TODAY, id_picc=pace_id, ephemeral_public_key_comp=comp)
    proto = TAProtocol(certs[1:], ecdsa_signer(is_key), id_picc=pace_id,
                       ephemeral_public_key_comp=ca.compressed_ephemeral_public_key)  # fmt: skip
    assert drive(proto, Wire(chip)) is True
    assert (chip.read_dg3, chip.read_dg4) == (dg3, dg4)


def test_chip_refuses_out_of_order_commands() -> None:
    certs, _ = make_pki()
    chip = TAChip(certs[0], TODAY, id_picc=b"x", ephemeral_public_key_comp=b"y")
    assert chip.handle(CommandAPDU(0, 0x2A, 0, 0xBE, certs[1].signature_body)).sw == 0x6985
    assert chip.handle(CommandAPDU(0, 0x82, 0, 0, b"\x00" * 64)).sw == 0x6985
    assert chip.handle(CommandAPDU(0, 0x22, 0x81, 0xB6, b"\x83\x03ABC")).sw == 0x6A88
    assert chip.handle(CommandAPDU(0, 0x22, 0x81, 0xB6, b"\x83\x0bUZCVCA00001")).ok
    assert chip.handle(CommandAPDU(0, 0x2A, 0, 0xBE, b"\x7f\x4e\x01")).sw == 0x6A80
