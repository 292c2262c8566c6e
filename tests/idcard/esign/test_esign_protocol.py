"""The shared formats of the e-sign application: PIN blocks, DO'7F49' public keys, and the
personalization mutual authentication (terminal and chip state machines talking directly)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given
from hypothesis import strategies as st

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.errors import AuthenticationError, DecodeError, EncodeError
from idcard.esign.protocol import (
    ESIGN_AID,
    PersoAuthChip,
    PersoAuthProtocol,
    decode_public_key,
    encode_public_key,
    parse_pin_block,
    pin_block,
)
from idcard.sm import SecureChannel


def test_aid_is_in_the_uzbek_national_registration_space() -> None:
    # ISO/IEC 7816-5: category D, then the ISO 3166 numeric country code 860
    assert ESIGN_AID.hex().upper().startswith("D860") and 5 <= len(ESIGN_AID) <= 16


def test_pin_blocks() -> None:
    assert pin_block("123456") == b"123456\xff\xff"
    assert pin_block("12345678", puk=True) == b"12345678"
    assert parse_pin_block(b"123456\xff\xff") == b"123456"
    for bad in ("12345", "123456789", "12345a"):
        with pytest.raises(EncodeError):
            pin_block(bad)
    with pytest.raises(EncodeError):
        pin_block("123456", puk=True)
    assert parse_pin_block(b"12\xff45678") is None


@given(st.binary(max_size=8))
def test_parse_pin_block_takes_only_well_formed_blocks(data: bytes) -> None:
    digits = parse_pin_block(data)
    if digits is not None:
        assert pin_block(digits.decode()) == data


@pytest.mark.parametrize(
    "key",
    [ec.generate_private_key(ec.SECP256R1()).public_key(),
     ec.generate_private_key(ec.SECP384R1()).public_key(),
     rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()],
)  # fmt: skip
def test_public_key_round_trip(key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey) -> None:
    encoded = encode_public_key(key)
    assert encoded[:2] == b"\x7f\x49"
    assert decode_public_key(encoded) == key


@given(st.binary(max_size=120))
def test_public_key_decoder_raises_only_decode_error(data: bytes) -> None:
    try:
        decode_public_key(data)
    except DecodeError:
        pass


class _Rng:
    def __init__(self, seed: int) -> None:
        self.n = seed

    def __call__(self, size: int) -> bytes:
        self.n += 1
        return bytes([self.n & 0xFF]) * size


def _run(k_terminal: bytes, k_chip: bytes) -> tuple[SecureChannel, SecureChannel | None]:
    terminal = PersoAuthProtocol(k_terminal, rng=_Rng(0x10))
    chip = PersoAuthChip(k_chip, rng=_Rng(0x80))
    step: CommandAPDU | SecureChannel = terminal.start()
    while isinstance(step, CommandAPDU):
        response: ResponseAPDU = chip.handle(step)
        step = terminal.receive(response)
    return step, chip.channel


@pytest.mark.parametrize("size", [16, 24, 32])
def test_mutual_authentication_gives_both_sides_the_same_channel(size: int) -> None:
    key = bytes(range(size))
    terminal, chip = _run(key, key)
    assert chip is not None
    assert terminal.keys == chip.keys and terminal.ssc == chip.ssc
    assert terminal.cipher == "AES-256"
    # RND.IC[8:] ‖ RND.IFD[8:] with the injected nonces (chip 0x81…, terminal 0x11…)
    assert terminal.ssc_bytes == b"\x81" * 8 + b"\x11" * 8
    command = terminal.wrap(CommandAPDU(0x00, 0x2A, 0x9E, 0x9A, b"hash", ne=256))
    assert chip.unwrap_command(command).data == b"hash"


def test_mutual_authentication_with_the_wrong_key_fails() -> None:
    with pytest.raises(AuthenticationError):
        _run(bytes(32), bytes(range(32)))


def test_chip_answers_mutual_authenticate_without_challenge_with_6985() -> None:
    chip = PersoAuthChip(bytes(32))
    assert chip.handle(CommandAPDU(0x00, 0x82, 0x00, 0x00, bytes(72))).sw == 0x6985
