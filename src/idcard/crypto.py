"""Key derivation shared by BAC, PACE and Chip Authentication (ICAO Doc 9303-11 §9.7.1), and
the plain-format ECDSA of the chip protocols and CV certificates (BSI TR-03111 §5.2.1).

Public on purpose: users building their own tools need the exact derivation. Hazmat.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from idcard.errors import EncodeError

__all__ = [
    "CIPHERS",
    "HASH_ALGORITHMS",
    "Cipher",
    "KDF_ENC",
    "KDF_MAC",
    "KDF_PACE",
    "adjust_des_parity",
    "ecdsa_sign_plain",
    "ecdsa_verify_plain",
    "kdf",
]

Cipher = Literal["3DES", "AES-128", "AES-192", "AES-256"]
CIPHERS: tuple[Cipher, ...] = ("3DES", "AES-128", "AES-192", "AES-256")

KDF_ENC = 1
"""Counter for the encryption key."""
KDF_MAC = 2
"""Counter for the MAC key."""
KDF_PACE = 3
"""Counter for the PACE password key K_π."""


def adjust_des_parity(key: bytes) -> bytes:
    """Set the odd-parity bit (b0) of every DES key byte (FIPS 46-3)."""
    out = bytearray()
    for b in key:
        high = b & 0xFE
        out.append(high | ((bin(high).count("1") + 1) % 2))
    return bytes(out)


def kdf(secret: bytes, counter: int, cipher: str) -> bytes:
    """KDF(K, c) of Doc 9303-11 §9.7.1: hash(K ‖ c) truncated to the cipher's key length.

    ``counter`` is 1 (encryption), 2 (MAC) or 3 (PACE password). For ``3DES`` the result is the
    16-byte two-key form (K_a ‖ K_b, SHA-1) with DES parity set, as Appendix D prints it;
    AES-128 uses SHA-1, AES-192 and AES-256 use SHA-256.
    """
    if not 0 <= counter <= 0xFFFFFFFF:
        raise EncodeError(f"KDF counter must fit 32 bits, got {counter}")
    data = bytes(secret) + counter.to_bytes(4, "big")
    if cipher == "3DES":
        return adjust_des_parity(hashlib.sha1(data).digest()[:16])  # noqa: S324 - Doc 9303
    if cipher == "AES-128":
        return hashlib.sha1(data).digest()[:16]  # noqa: S324 - Doc 9303 prescribes SHA-1
    if cipher == "AES-192":
        return hashlib.sha256(data).digest()[:24]
    if cipher == "AES-256":
        return hashlib.sha256(data).digest()
    raise EncodeError(f"unknown cipher {cipher!r}; expected one of {', '.join(CIPHERS)}")


HASH_ALGORITHMS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
    "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}  # fmt: skip
"""The hashes of the chip protocols and CV certificates by name."""


def _field_bytes(curve: ec.EllipticCurve) -> int:
    return (curve.key_size + 7) // 8


def ecdsa_sign_plain(key: ec.EllipticCurvePrivateKey, data: bytes, hash_name: str) -> bytes:
    """ECDSA over ``data`` in the plain format r ‖ s, each as long as the curve's field
    (BSI TR-03111 §5.2.1), as Active Authentication and CV certificates carry it."""
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(HASH_ALGORITHMS[hash_name]())))
    n = _field_bytes(key.curve)
    return r.to_bytes(n, "big") + s.to_bytes(n, "big")


def ecdsa_verify_plain(
    key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes, hash_name: str
) -> bool:
    """Whether the plain r ‖ s ``signature`` over ``data`` verifies (False for a signature of
    the wrong length)."""
    n = _field_bytes(key.curve)
    if len(signature) != 2 * n:
        return False
    der = encode_dss_signature(
        int.from_bytes(signature[:n], "big"), int.from_bytes(signature[n:], "big")
    )
    try:
        key.verify(der, data, ec.ECDSA(HASH_ALGORITHMS[hash_name]()))
    except (InvalidSignature, ValueError):
        return False
    return True
