"""KDF of 9303-11 §9.7.1 against published vectors (vectors/protocols/kdf.json); plain ECDSA."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from tests.conftest import VECTORS

from idcard.crypto import adjust_des_parity, ecdsa_sign_plain, ecdsa_verify_plain, kdf
from idcard.errors import EncodeError

VECTORS_KDF = [
    v
    for v in json.loads((VECTORS / "protocols" / "kdf.json").read_text())["vectors"]
    if "counter" in v
]


@pytest.mark.parametrize("v", VECTORS_KDF, ids=lambda v: f"{v['cipher']}-{v['key_bits']}")
def test_kdf_vectors(v: dict[str, object]) -> None:
    cipher = "3DES" if v["cipher"] == "TDES" else f"AES-{v['key_bits']}"
    secret = bytes.fromhex(str(v["shared_secret_or_password_key"]))
    assert kdf(secret, int(str(v["counter"])), cipher) == bytes.fromhex(str(v["expected"]))


def test_vector_count() -> None:
    assert len(VECTORS_KDF) == 7


def test_parity() -> None:
    out = adjust_des_parity(bytes(range(256)))
    assert all(bin(b).count("1") % 2 == 1 for b in out)
    assert all((a & 0xFE) == (b & 0xFE) for a, b in zip(bytes(range(256)), out, strict=True))


def test_kdf_rejects_unknown_cipher() -> None:
    with pytest.raises(EncodeError):
        kdf(b"k", 1, "DES")
    with pytest.raises(EncodeError):
        kdf(b"k", -1, "AES-128")


def test_plain_ecdsa_round_trip() -> None:
    key = ec.derive_private_key(0x1F2E3D4C5B6A7988, ec.SECP384R1())
    signature = ecdsa_sign_plain(key, b"challenge", "sha384")
    assert len(signature) == 96
    assert ecdsa_verify_plain(key.public_key(), signature, b"challenge", "sha384")
    assert not ecdsa_verify_plain(key.public_key(), signature, b"challengE", "sha384")
    assert not ecdsa_verify_plain(key.public_key(), signature[:-1], b"challenge", "sha384")
