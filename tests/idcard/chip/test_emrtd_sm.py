"""The virtual chip ends secure messaging on any malformed protected APDU, as on a MAC failure
(ICAO 9303-11 §9.8): a wrong Lc, a truncated or lengthened APDU, an extended APDU the chip does
not take, any flipped bit. The chip answers 6987/6988 without data, is unauthenticated, and the
terminal's next protected command gets 6987: the session is gone. BAC and PACE sessions."""

from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.idcard.chip.cards import Card, build_dump, make_card

from idcard.apdu import CommandAPDU
from idcard.asn1 import oids
from idcard.chip.emrtd import EMRTD_AID, VirtualChip
from idcard.chip.transport import ChipTransport
from idcard.protocols.bac import BACProtocol, key_seed
from idcard.protocols.base import drive
from idcard.protocols.pace import PACEPassword, PACEProtocol
from idcard.sm import SecureChannel

SELECT_APP = CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)
SELECT_DG1 = CommandAPDU(0x00, 0xA4, 0x02, 0x0C, b"\x01\x01")
READ = CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=16)
CAN = "123456"


@functools.cache
def _card(access: str, extended_length: bool = True) -> Card:
    dump, keys = build_dump(pace_oid=None if access == "BAC" else f"{oids.ID_PACE_ECDH_GM}.2")
    return make_card(dump, keys, extended_length=extended_length)


def session(access: str, extended_length: bool = True) -> tuple[VirtualChip, SecureChannel]:
    """A fresh chip (the cached personalization) with an open BAC or PACE session, DG1
    selected; the terminal's channel."""
    card = _card(access, extended_length)
    chip = VirtualChip(card.chip.state)
    t = ChipTransport(chip)
    if access == "BAC":
        t.transmit(SELECT_APP).check()
        m = card.mrz
        channel = drive(BACProtocol(key_seed(m.document_number, m.birth_date, m.expiry_date)),
                        t).channel  # fmt: skip
    else:
        pace = drive(PACEProtocol(PACEPassword.can(CAN), f"{oids.ID_PACE_ECDH_GM}.2", 13), t)
        channel = pace.secure_channel()
    for command in (SELECT_APP, SELECT_DG1):
        assert channel.unwrap(chip.process(channel.wrap(command).encode())).sw == 0x9000
    assert chip.authenticated and chip.access == access
    return chip, channel


def assert_session_ended(chip: VirtualChip, channel: SecureChannel, answer: bytes) -> None:
    """Answered like a MAC failure, and the next well-formed protected command is refused."""
    assert answer in (b"\x69\x87", b"\x69\x88")
    assert not chip.authenticated and chip.access is None
    assert chip.process(channel.wrap(READ).encode()) == b"\x69\x87"
    assert not chip.authenticated


def _with_lc(raw: bytes, lc: int) -> bytes:
    return raw[:4] + bytes([lc]) + raw[5:]


@pytest.mark.parametrize("delta", [-1, 1, 2])
@pytest.mark.parametrize("access", ["BAC", "PACE"])
def test_corrupted_lc_ends_secure_messaging(access: str, delta: int) -> None:
    """Lc - 1 and Lc + 2 do not parse (6700 before); Lc + 1 parses as a command without Le."""
    chip, channel = session(access)
    raw = channel.wrap(READ).encode()
    assert raw[4] == len(raw) - 6  # CLA INS P1 P2 Lc data Le
    answer = chip.process(_with_lc(raw, raw[4] + delta))
    assert answer == b"\x69\x88"  # as a MAC failure: SM data objects incorrect
    assert_session_ended(chip, channel, answer)


@pytest.mark.parametrize("access", ["BAC", "PACE"])
def test_mac_failure_and_malformed_apdu_are_answered_alike(access: str) -> None:
    chip, channel = session(access)
    raw = bytearray(channel.wrap(READ).encode())
    raw[-3] ^= 0x01  # inside DO'8E'
    mac_failure = chip.process(bytes(raw))
    chip2, channel2 = session(access)
    truncated = chip2.process(channel2.wrap(READ).encode()[:-2])
    assert mac_failure == truncated == b"\x69\x88"
    assert_session_ended(chip2, channel2, truncated)


def test_extended_apdu_on_a_short_length_chip_ends_secure_messaging() -> None:
    chip, channel = session("BAC", extended_length=False)
    raw = channel.wrap(CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=1000)).encode()
    assert raw[4] == 0x00  # extended length
    assert_session_ended(chip, channel, chip.process(raw))


def test_partial_sm_class_bits_in_a_malformed_apdu_end_the_session_with_6987() -> None:
    chip, channel = session("BAC")
    raw = channel.wrap(READ).encode()
    answer = chip.process(b"\x08" + _with_lc(raw, 0x01)[1:])
    assert answer == b"\x69\x87"
    assert_session_ended(chip, channel, answer)


def test_malformed_unprotected_apdu_ends_the_session_too() -> None:
    chip, channel = session("BAC")
    assert chip.process(b"\x00\xb0\x00\x00\x05\x01") == b"\x67\x00"
    assert not chip.authenticated
    assert chip.process(channel.wrap(READ).encode()) == b"\x69\x87"


def test_malformed_apdu_without_a_session_is_wrong_length() -> None:
    chip = VirtualChip(_card("BAC").chip.state)
    assert chip.process(b"\x0c\xb0\x00\x00\x05\x01") == b"\x67\x00"
    assert chip.process(b"\x00\xb0\x00\x00\x05\x01") == b"\x67\x00"


@st.composite
def malformations(draw: st.DrawFn, raw: bytes) -> bytes:
    """One change of a protected APDU: a flipped bit, another Lc, cut or lengthened."""
    kind = draw(st.sampled_from(["bit", "lc", "cut", "grow"]))
    if kind == "bit":
        bit = draw(st.integers(0, 8 * len(raw) - 1))
        out = bytearray(raw)
        out[bit // 8] ^= 1 << (bit % 8)
        return bytes(out)
    if kind == "lc":
        return _with_lc(raw, draw(st.integers(1, 255).filter(lambda lc: lc != raw[4])))
    if kind == "cut":
        return raw[: draw(st.integers(1, len(raw) - 1))]
    return raw + draw(st.binary(min_size=1, max_size=4))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["BAC", "PACE"]), st.data())
def test_any_malformed_protected_apdu_ends_secure_messaging(
    access: str, data: st.DataObject
) -> None:
    chip, channel = session(access)
    raw = channel.wrap(READ).encode()
    bad = data.draw(malformations(raw))
    assert bad != raw
    assert_session_ended(chip, channel, chip.process(bad))
