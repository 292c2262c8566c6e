"""personalize() and the personalization command set: JMRTD-compatible APDUs, verification
before the lock, a card pulled out half way (unlocked, restartable), a corrupted write (never
locked), a locked card refused; payload codecs round-trip and refuse garbage with DecodeError."""

from __future__ import annotations

import datetime as dt
import functools

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given
from hypothesis import strategies as st
from tests.idcard.chip.cards import (
    CAN,
    TODAY,
    DyingTransport,
    build_dump,
    make_card,
    sample_cvca,
)

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.chip import perso
from idcard.chip.emrtd import EMRTD_AID, VirtualChip
from idcard.chip.perso import ChipSecrets, MRZKey
from idcard.chip.transport import ChipTransport
from idcard.errors import DecodeError, TransportError
from idcard.lds import FILES
from idcard.lds.dg1 import DG1
from idcard.lds.dg15 import DG15
from idcard.reader.document import read_document
from idcard.reader.personalize import CardLockedError, PersonalizationError, personalize


@functools.cache
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - speed


def secrets_for(keys: object) -> ChipSecrets:
    return ChipSecrets(
        ca_private_key=keys.chip_authentication,  # type: ignore[attr-defined]
        aa_private_key=keys.active_authentication,  # type: ignore[attr-defined]
        can=CAN,
        cvca=sample_cvca(),
        current_date=TODAY,
    )


def test_personalize_writes_verifies_and_locks() -> None:
    dump, keys = build_dump()
    chip = VirtualChip.new()
    personalize(ChipTransport(chip), dump, secrets_for(keys))
    assert chip.locked
    state = chip.state
    for name, data in dump.files.items():
        df = "mf" if FILES[name].in_mf else "application"
        assert bytes(state.files[df][FILES[name].fid]) == data
    mrz = DG1.decode(dump.files["DG1"]).mrz
    assert state.mrz == MRZKey(mrz.document_number, mrz.birth_date, mrz.expiry_date)
    assert state.pace_secrets == {2: CAN.encode()}
    assert state.current_date == TODAY
    with pytest.raises(CardLockedError):
        personalize(ChipTransport(chip), dump, secrets_for(keys))


def test_card_pulled_out_half_way_stays_unlocked_and_can_be_redone() -> None:
    dump, keys = build_dump()
    chip = VirtualChip.new()
    with pytest.raises(TransportError):
        personalize(DyingTransport(ChipTransport(chip), 12), dump, secrets_for(keys))
    assert not chip.locked
    t = ChipTransport(chip)
    t.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)).check()
    assert t.transmit(CommandAPDU(0x00, 0xA4, 0x02, 0x0C, b"\x01\x1e")).ok
    assert t.transmit(CommandAPDU(0x00, 0xB0, 0, 0, ne=256)).sw == 0x6982
    personalize(ChipTransport(chip), dump, secrets_for(keys))  # restart on the same card
    result = read_document(ChipTransport(chip), can=CAN, read_biometrics=False)
    assert all(result.dump.files[n] == dump.files[n] for n in result.dump)


def test_a_corrupted_write_is_caught_before_the_lock() -> None:
    dump, keys = build_dump()
    chip = VirtualChip.new()
    inner = ChipTransport(chip)

    class Corrupting:
        atr = chip.atr

        def transmit(self, command: CommandAPDU) -> ResponseAPDU:
            if command.ins == 0xD6 and len(command.data) > 40:
                data = bytearray(command.data)
                data[40] ^= 0xFF
                command = CommandAPDU(command.cla, command.ins, command.p1, command.p2,
                                      bytes(data))  # fmt: skip
            return inner.transmit(command)

    with pytest.raises(PersonalizationError):
        personalize(Corrupting(), dump, secrets_for(keys))
    assert not chip.locked


def test_jmrtd_command_set_personalizes_a_readable_card() -> None:
    """The JMRTD PassportApplet's commands (CREATE FILE 63 04, UPDATE BINARY, PUT DATA 60/61
    RSA AA key, 62 MRZ, 63 EC key as TLV, 64 CVCA, 65 PACE secrets, 67 date, lock DE AD)."""
    aa_key = rsa_key()
    dg15 = DG15.from_public_key(aa_key.public_key()).encode()
    dump, keys = build_dump(pace_oid=None, replace={"DG15": dg15})
    mrz = DG1.decode(dump.files["DG1"]).mrz
    chip = VirtualChip.new()
    t = ChipTransport(chip)

    def ok(command: CommandAPDU) -> None:
        t.transmit(command).check(command)

    ok(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID))
    for name, data in dump.files.items():
        ok(CommandAPDU(0, 0xE0, 0, 0, b"\x63\x04" + len(data).to_bytes(2, "big")
                       + FILES[name].fid.to_bytes(2, "big")))  # fmt: skip
        for off in range(0, len(data), 223):
            ok(CommandAPDU(0, 0xD6, off >> 8, off & 0xFF, data[off : off + 223]))
    fields = (mrz.document_number, mrz.birth_date, mrz.expiry_date)
    mrz_data = tlv.encode(0x62, [tlv.encode(0x04, v.encode()) for v in fields])
    ok(CommandAPDU(0, 0xDA, 0, 0x62, mrz_data))
    n = aa_key.private_numbers()
    ok(CommandAPDU(0, 0xDA, 0, 0x60, tlv.encode(0x60, tlv.encode(0x04, b"\x00"
       + n.public_numbers.n.to_bytes(128, "big")))))  # fmt: skip
    ok(CommandAPDU(0, 0xDA, 0, 0x61, tlv.encode(0x61, tlv.encode(0x04, n.d.to_bytes(128, "big")))))
    ca = keys.chip_authentication
    g = ec.derive_private_key(1, ca.curve).public_key().public_numbers()
    size = (ca.curve.key_size + 7) // 8
    point = b"\x04" + g.x.to_bytes(size, "big") + g.y.to_bytes(size, "big")
    secret = ca.private_numbers().private_value.to_bytes(size, "big")
    ok(CommandAPDU(0, 0xDA, 0, 0x63, tlv.encode(0x84, point) + tlv.encode(0x86, secret)))
    ok(CommandAPDU(0, 0xDA, 0, 0x65, tlv.encode(0x65, tlv.encode(0x66, b"\x02" + CAN.encode()))))
    ok(CommandAPDU(0, 0xDA, 0, 0x67, bytes([2, 6, 0, 1, 1, 5])))
    assert chip.state.current_date == dt.date(2026, 1, 15)
    ok(CommandAPDU(0, 0xDA, 0, 0x64, sample_cvca().encode()))  # DG14 advertises TA
    ok(CommandAPDU(0, 0xDA, 0xDE, 0xAD))
    assert chip.locked
    result = read_document(ChipTransport(chip), mrz=mrz, read_biometrics=False)
    assert [(r.protocol, r.ok) for r in result.protocols] == [("BAC", True), ("CA", True),
                                                             ("AA", True)]  # fmt: skip


# -- payload codecs ------------------------------------------------------------------------------


@given(st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)))
def test_date_round_trip(date: dt.date) -> None:
    assert perso.decode_date(perso.encode_date(date)) == date


@given(
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<", min_size=1, max_size=20),
    st.from_regex(r"\A[0-9]{6}\Z"),
    st.from_regex(r"\A[0-9]{6}\Z"),
)
def test_mrz_payload_round_trip(number: str, dob: str, doe: str) -> None:
    key = MRZKey(number, dob, doe)
    assert perso.decode_mrz(perso.encode_mrz(key)) == key


@given(st.dictionaries(st.sampled_from([2, 3, 4]), st.binary(min_size=1, max_size=12)))
def test_pace_secrets_round_trip(secrets: dict[int, bytes]) -> None:
    assert perso.decode_pace_secrets(perso.encode_pace_secrets(secrets)) == secrets


@given(st.binary(max_size=80))
def test_payload_decoders_raise_only_decode_error(data: bytes) -> None:
    for decode in (
        perso.decode_mrz, perso.decode_pace_secrets, perso.decode_date,
        perso.decode_ec_key, perso.decode_private_key,
        lambda d: perso.decode_rsa_part(d, 0x60),
    ):  # fmt: skip
        try:
            decode(data)
        except DecodeError:
            pass


def test_private_keys_round_trip_as_pkcs8() -> None:
    for key in (ec.generate_private_key(ec.BrainpoolP256R1()), rsa_key()):
        back = perso.decode_private_key(perso.encode_private_key(key))
        assert back.private_numbers() == key.private_numbers()  # type: ignore[comparison-overlap]
    ca = perso.decode_ec_key(perso.encode_private_key(ec.generate_private_key(ec.SECP256R1())))
    assert isinstance(ca.curve, ec.SECP256R1)


def test_make_card_helper_uses_personalize() -> None:
    dump, keys = build_dump()
    assert make_card(dump, keys).chip.locked


def test_esign_perso_key_opens_the_channel_after_the_lock_and_a_wrong_one_does_not() -> None:
    from dataclasses import replace

    from idcard.errors import AuthenticationError, CardError
    from idcard.esign.card import ESignCard

    dump, keys = build_dump()
    k_perso = bytes(range(16))
    chip = VirtualChip.new()
    personalize(ChipTransport(chip), dump, replace(secrets_for(keys), esign_perso_key=k_perso))
    assert chip.locked
    card = ESignCard(ChipTransport(chip))
    card.select()
    secure = card.open_personalization(k_perso)
    assert secure.generate_key("ec-p256").public_numbers().curve.name == "secp256r1"
    chip.reset()
    other = ESignCard(ChipTransport(chip))
    other.select()
    with pytest.raises((AuthenticationError, CardError)):
        other.open_personalization(bytes(16))
