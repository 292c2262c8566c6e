"""The virtual chip's card behaviour and access control: ATR and EF.ATR/INFO, SELECT/READ BINARY
forms, the personalization state, the issued state before and after BAC/PACE, the end of secure
messaging, PACE-only profiles, TA order, the JSON image; and a hypothesis state machine that
random command sequences never leak application data before authentication."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from tests.idcard.chip.cards import Card, build_dump, make_card

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.chip.emrtd import EF_ATR_INFO_CONTENT, EMRTD_AID, VirtualChip, make_atr
from idcard.chip.perso import ChipSecrets
from idcard.chip.transport import ChipTransport
from idcard.chip.vpcd import CardSimulator
from idcard.errors import AuthenticationError, DecodeError
from idcard.protocols.bac import BACProtocol, key_seed
from idcard.protocols.base import drive
from idcard.reader.atr import parse_atr
from idcard.reader.personalize import CardLockedError, personalize
from idcard.sm import SecureTransport, UnprotectedResponseError

SELECT_APP = CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)
SELECT_MF = CommandAPDU(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00")


def select(fid: int, p2: int = 0x0C) -> CommandAPDU:
    return CommandAPDU(0x00, 0xA4, 0x02, p2, fid.to_bytes(2, "big"))


def read(offset: int = 0, ne: int = 256) -> CommandAPDU:
    return CommandAPDU(0x00, 0xB0, offset >> 8, offset & 0xFF, ne=ne)


@functools.cache
def bac_card_files() -> Card:
    dump, keys = build_dump(pace_oid=None)
    return make_card(dump, keys)


def fresh_bac_card() -> Card:
    """A new chip with the same (cached) personalization, so tests do not share sessions."""
    card = bac_card_files()
    return Card(VirtualChip(card.chip.state), card.dump, card.keys, card.mrz)


def bac(card: Card) -> SecureTransport:
    t = card.transport()
    t.transmit(SELECT_APP).check()
    m = card.mrz
    result = drive(BACProtocol(key_seed(m.document_number, m.birth_date, m.expiry_date)), t)
    return SecureTransport(t, result.channel)


def test_chip_is_a_card_simulator_with_extended_length_atr() -> None:
    chip = VirtualChip.new()
    assert isinstance(chip, CardSimulator)
    info = parse_atr(chip.atr)
    assert info.extended_length and info.protocols == {0, 1}
    assert not parse_atr(make_atr(False)).extended_length
    t = ChipTransport(chip)
    t.transmit(SELECT_MF).check()
    t.transmit(select(0x2F01)).check()
    assert t.transmit(read()).data == EF_ATR_INFO_CONTENT
    caps = tlv.find(tlv.decode_all(EF_ATR_INFO_CONTENT), 0x47)
    assert caps is not None and caps.value[2] & 0x40  # extended Lc/Le (ISO 7816-4 Table 118)


def test_personalization_state_refuses_reading_and_protocols() -> None:
    chip = VirtualChip.new()
    t = ChipTransport(chip)
    t.transmit(SELECT_APP).check()
    t.transmit(CommandAPDU(0x00, 0xE0, 0, 0, bytes.fromhex("6304 0004 0101"))).check()
    t.transmit(CommandAPDU(0x00, 0xD6, 0, 0, b"\x61\x02AB")).check()
    assert t.transmit(read()).sw == 0x6982  # "in personalization": not readable
    digest = t.transmit(CommandAPDU(0x80, 0x5A, 0, 0, ne=32))
    assert digest.ok and len(digest.data) == 32
    assert t.transmit(CommandAPDU(0x00, 0x84, 0, 0, ne=8)).ok  # GET CHALLENGE is generic
    assert t.transmit(CommandAPDU(0x00, 0x82, 0, 0, b"\x00" * 40, ne=40)).sw == 0x6985
    assert t.transmit(CommandAPDU(0x00, 0x22, 0xC1, 0xA4, b"\x80\x01\x00")).sw == 0x6985
    assert t.transmit(CommandAPDU(0x00, 0xDA, 0xDE, 0xAD)).sw == 0x6985  # incomplete: no lock
    assert not chip.locked


def test_select_forms_and_fci() -> None:
    card = fresh_bac_card()
    t = card.transport()
    fci = t.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x00, EMRTD_AID, ne=256))
    assert fci.ok and fci.data == tlv.encode(0x6F, tlv.encode(0x84, EMRTD_AID))
    fcp = t.transmit(select(0x0101, p2=0x04))
    size = len(card.dump.files["DG1"]).to_bytes(2, "big")
    assert tlv.decode_one(fcp.data, expected_tag=0x62).children()[0].value == size
    assert t.transmit(select(0x0120)).sw == 0x6A82
    other_aid = bytes.fromhex("A0000002471002")
    assert t.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, other_aid)).sw == 0x6A82
    assert t.transmit(CommandAPDU(0x00, 0xA4, 0x02, 0x01, b"\x01\x01")).sw == 0x6A86


def test_nothing_of_the_application_is_readable_before_access_control() -> None:
    card = fresh_bac_card()
    t = card.transport()
    t.transmit(SELECT_APP).check()
    for fid in (0x011E, 0x011D, 0x0101, 0x0102, 0x010E, 0x010F):
        assert t.transmit(select(fid)).ok
        assert t.transmit(read()) == ResponseAPDU(b"", 0x6982)
    for sfi in (0x01, 0x1E, 0x1D):
        assert t.transmit(CommandAPDU(0x00, 0xB0, 0x80 | sfi, 0, ne=256)).sw == 0x6982
    assert t.transmit(CommandAPDU(0x00, 0x88, 0, 0, b"\x00" * 8, ne=256)).sw == 0x6982


def test_after_bac_reading_only_with_secure_messaging() -> None:
    card = fresh_bac_card()
    sm = bac(card)
    sm.transmit(select(0x0101)).check()
    dg1 = card.dump.files["DG1"]
    assert sm.transmit(read(0, 223)).data == dg1[:223]
    # READ BINARY by SFI (P1 b8) and the odd INS B1 with DO'54'
    assert sm.transmit(CommandAPDU(0x00, 0xB0, 0x81, 0x04, ne=16)).data == dg1[4:20]
    odd = sm.transmit(CommandAPDU(0x00, 0xB1, 0x00, 0x00, tlv.encode(0x54, b"\x02"), ne=20))
    assert tlv.decode_one(odd.data, expected_tag=0x53).value == dg1[2:18]
    assert card.chip.authenticated
    # an unprotected command ends the session: it is answered as unauthenticated, and the
    # old channel is gone
    assert card.chip.process(read(0, 16).encode()) == bytes.fromhex("6982")
    assert not card.chip.authenticated
    with pytest.raises(UnprotectedResponseError) as info:
        sm.transmit(read(0, 16))
    assert info.value.sw == 0x6987


def test_secure_messaging_failure_closes_the_session() -> None:
    card = fresh_bac_card()
    sm = bac(card)
    wrapped = sm.channel.wrap(read(0, 16))
    tampered = bytearray(wrapped.encode())
    tampered[-3] ^= 0x01  # inside DO'8E'
    assert card.chip.process(bytes(tampered)) == bytes.fromhex("6988")
    assert not card.chip.authenticated
    assert card.chip.process(wrapped.encode())[-2:] == bytes.fromhex("6987")


def test_pace_required_profile_refuses_bac() -> None:
    dump, keys = build_dump()
    card = make_card(dump, keys, pace_required=True)
    t = card.transport()
    t.transmit(SELECT_APP).check()
    m = card.mrz
    with pytest.raises(AuthenticationError) as info:
        drive(BACProtocol(key_seed(m.document_number, m.birth_date, m.expiry_date)), t)
    assert info.value.step == "GET CHALLENGE"


def test_ta_needs_chip_authentication_first() -> None:
    card = fresh_bac_card()
    sm = bac(card)
    mse = CommandAPDU(0x00, 0x22, 0x81, 0xB6, tlv.encode(0x83, b"UZCVCA00001"))
    assert sm.transmit(mse).sw == 0x6982
    assert sm.transmit(CommandAPDU(0x00, 0x2A, 0x00, 0xBE, b"\x7f\x4e\x00")).sw == 0x6982


def test_locked_card_refuses_personalization() -> None:
    card = fresh_bac_card()
    t = card.transport()
    for command in (
        CommandAPDU(0x00, 0xE0, 0, 0, bytes.fromhex("6304 0010 0105")),
        CommandAPDU(0x00, 0xD6, 0, 0, b"\x00"),
        CommandAPDU(0x00, 0xDA, 0x00, 0x62, b"\x62\x00"),
        CommandAPDU(0x00, 0xDA, 0xDE, 0xAD),
    ):
        assert t.transmit(command).sw == 0x6982
    assert t.transmit(CommandAPDU(0x80, 0x5A, 0, 0, ne=32)).sw == 0x6D00
    with pytest.raises(CardLockedError):
        personalize(t, card.dump, ChipSecrets())


def test_image_round_trip_keeps_state_but_no_session(tmp_path: Path) -> None:
    card = fresh_bac_card()
    bac(card)
    path = tmp_path / "chip.json"
    card.chip.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    image = json.loads(path.read_text())
    assert image["format"] == "idkarta-virtual-chip" and image["locked"] is True
    assert image["files"]["application"]["0101"] == card.dump.files["DG1"].hex().upper()
    assert "ks_enc" not in path.read_text()
    loaded = VirtualChip.load(path)
    assert loaded.state.to_json() == card.chip.state.to_json()
    assert not loaded.authenticated
    path.write_text(json.dumps({**image, "format": "other"}))
    with pytest.raises(DecodeError):
        VirtualChip.load(path)


def test_random_bytes_never_crash_the_chip() -> None:
    chip = fresh_bac_card().chip
    for raw in (b"", b"\x00", b"\x00\xa4", b"\x00\xb0\x00", b"\x0c\xb0\x00\x00\x00", b"\xff" * 9):
        answer = chip.process(raw)
        assert len(answer) >= 2 and answer[-2:] != b"\x6f\x00"


# -- hypothesis: access control as a state machine ----------------------------------------------

_FIDS = st.sampled_from([0x011E, 0x011D, 0x0101, 0x0102, 0x0103, 0x010E, 0x010F, 0x011C, 0x2F01])
_INS = st.sampled_from([0xA4, 0xB0, 0xB1, 0x84, 0x82, 0x22, 0x86, 0x88, 0x2A, 0xE0, 0xD6, 0xDA])


class AccessControl(RuleBasedStateMachine):
    """Random SELECT / READ BINARY / GET CHALLENGE / authentication and personalization commands,
    unprotected, on a locked card: no response ever carries application data, and every
    answer ends with a status word other than 6F00 (no internal error)."""

    def __init__(self) -> None:
        super().__init__()
        self.card = fresh_bac_card()
        self.secrets = [v for n, v in self.card.dump.files.items() if n != "EF.CardAccess"]

    def send(self, command: CommandAPDU) -> ResponseAPDU:
        raw = self.card.chip.process(command.encode())
        assert len(raw) >= 2
        response = ResponseAPDU.decode(raw)
        assert response.sw != 0x6F00
        if len(response.data) >= 4:
            for data in self.secrets:
                assert response.data[:16] not in data or len(response.data) < 8
        return response

    @rule(aid=st.booleans())
    def select_df(self, aid: bool) -> None:
        self.send(SELECT_APP if aid else SELECT_MF)

    @rule(fid=_FIDS, p2=st.sampled_from([0x00, 0x04, 0x0C]))
    def select_ef(self, fid: int, p2: int) -> None:
        self.send(select(fid, p2))

    @rule(offset=st.integers(0, 0x7FFF), ne=st.integers(1, 65536))
    def read_binary(self, offset: int, ne: int) -> None:
        self.send(read(offset, ne))

    @rule(sfi=st.integers(0, 31), offset=st.integers(0, 255))
    def read_sfi(self, sfi: int, offset: int) -> None:
        self.send(CommandAPDU(0x00, 0xB0, 0x80 | sfi, offset, ne=256))

    @rule(offset=st.binary(min_size=0, max_size=4), p1p2=st.integers(0, 0xFFFF))
    def read_odd(self, offset: bytes, p1p2: int) -> None:
        self.send(CommandAPDU(0x00, 0xB1, p1p2 >> 8, p1p2 & 0xFF, tlv.encode(0x54, offset), ne=256))

    @rule()
    def get_challenge(self) -> None:
        response = self.send(CommandAPDU(0x00, 0x84, 0x00, 0x00, ne=8))
        assert response.ok and len(response.data) == 8

    @rule(ins=_INS, p1=st.integers(0, 255), p2=st.integers(0, 255), data=st.binary(max_size=48))
    def anything(self, ins: int, p1: int, p2: int, data: bytes) -> None:
        self.send(CommandAPDU(0x00, ins, p1, p2, data, ne=256))

    @invariant()
    def never_authenticated(self) -> None:
        assert not self.card.chip.authenticated


TestAccessControl = AccessControl.TestCase
TestAccessControl.settings = settings(max_examples=30, stateful_step_count=25, deadline=None)
