"""Active Authentication (9303-11 §6.1): the ICAO worked example's representative F, the Bouncy
Castle ISO/IEC 9796-2 vector, terminal ↔ chip for RSA (every trailer) and ECDSA."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import VECTORS

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.errors import AuthenticationError
from idcard.protocols.aa import (
    AAChip,
    AAProtocol,
    AAResult,
    iso9796_2_recover,
    iso9796_2_sign,
    sign_challenge,
    verify_challenge,
)

AA: dict[str, Any] = json.loads((VECTORS / "protocols" / "aa.json").read_text())
H = bytes.fromhex


@cache
def _rsa(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, bits)


def test_icao_worked_example_representative() -> None:
    """The example fixes M1, M2 = RND.IFD, H and F (no key pair is published): sign with a
    1024-bit key of our own and check the recovered representative byte for byte."""
    v = AA["icao_worked_example"]
    m1, m2 = H(v["M1"]), H(v["rnd_ifd_M2"])
    assert m1 + m2 == H(v["M_star_M1_M2"])
    assert hashlib.sha1(m1 + m2).digest() == H(v["H_sha1_of_M1_M2"])  # noqa: S324
    assert len(m1) * 8 == v["capacity_c_bits"] - 4  # c = k - Lh - 8 * 1 - 4 bits
    key = _rsa(1024)
    sig = iso9796_2_sign(key, m1, m2)
    pub = key.public_key().public_numbers()
    f = pow(int.from_bytes(sig, "big"), pub.e, pub.n)
    assert f.to_bytes(128, "big") == H(v["F_message_representative"])
    assert iso9796_2_recover(key.public_key(), sig, m2) == m1
    assert CommandAPDU(0, 0x88, 0, 0, m2, ne=256).encode() == H(v["internal_authenticate_apdu"])


def test_bouncy_castle_vector() -> None:
    v = AA["bouncycastle_iso9796_vector"]
    key = load_der_public_key(H(v["subject_public_key_info"]))
    assert isinstance(key, rsa.RSAPublicKey)
    sig = H(v["signature"])
    assert iso9796_2_recover(key, sig, H(v["message"])) == H(v["recovered_M1"])
    assert verify_challenge(key, H(v["message"]), sig)
    assert not verify_challenge(key, b"\x00" * 7 + b"\x01", sig)
    bad = bytearray(sig)
    bad[-1] ^= 1
    assert not verify_challenge(key, H(v["message"]), bytes(bad))


@settings(max_examples=10)
@given(
    st.sampled_from([None, "sha1", "sha224", "sha256", "sha384", "sha512"]),
    st.binary(min_size=8, max_size=8),
)
def test_rsa_terminal_and_chip(hash_alg: str | None, challenge: bytes) -> None:
    key = _rsa(2048)
    chip = AAChip(key, hash_alg=hash_alg)
    proto = AAProtocol(key.public_key(), hash_alg=hash_alg, rng=lambda n: challenge)
    command = proto.start()
    assert command.data == challenge
    result = proto.receive(chip.handle(command))
    assert result == AAResult(True, challenge, result.signature)
    trailer = pow(
        int.from_bytes(result.signature, "big"), 65537, key.public_key().public_numbers().n
    )
    expected = {None: 0xBC, "sha1": 0xBC}.get(hash_alg, 0xCC)
    assert trailer & 0xFF == expected


@settings(max_examples=10)
@given(
    st.sampled_from([ec.SECP256R1(), ec.BrainpoolP256R1(), ec.SECP384R1(), ec.BrainpoolP512R1()]),
    st.binary(min_size=8, max_size=8),
    st.integers(0, 8 * 64 - 1),
)
def test_ecdsa_terminal_and_chip(curve: ec.EllipticCurve, challenge: bytes, bit: int) -> None:
    key = ec.generate_private_key(curve)
    chip = AAChip(key)
    proto = AAProtocol(key.public_key(), rng=lambda n: challenge)
    answer = chip.handle(proto.start())
    n = (curve.key_size + 7) // 8
    assert len(answer.data) == 2 * n  # plain r ‖ s (TR-03111)
    assert proto.receive(answer).valid
    flipped = bytearray(answer.data)
    flipped[(bit // 8) % len(flipped)] ^= 1 << (bit % 8)
    again = AAProtocol(key.public_key(), rng=lambda n: challenge)
    again.start()
    assert not again.receive(ResponseAPDU(bytes(flipped))).valid


def test_ecdsa_hash_from_aa_info_oid() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    sig = sign_challenge(key, b"12345678", hash_alg="1.2.840.10045.4.3.4")  # ecdsa-with-SHA512
    assert verify_challenge(key.public_key(), b"12345678", sig, hash_alg="1.2.840.10045.4.3.4")
    assert not verify_challenge(key.public_key(), b"12345678", sig)  # default SHA-256


def test_wrong_key_is_invalid_and_refusal_raises() -> None:
    chip = AAChip(_rsa(1024))
    proto = AAProtocol(_rsa(2048).public_key(), rng=lambda n: b"\x01" * 8)
    assert not proto.receive(chip.handle(proto.start())).valid
    proto2 = AAProtocol(_rsa(1024).public_key())
    proto2.start()
    with pytest.raises(AuthenticationError) as info:
        proto2.receive(ResponseAPDU(b"", 0x6982))
    assert info.value.step == "INTERNAL AUTHENTICATE"
    assert chip.handle(CommandAPDU(0, 0x88, 0, 0, b"short")).sw == 0x6A80
