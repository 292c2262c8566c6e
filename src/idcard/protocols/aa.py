"""Active Authentication (ICAO Doc 9303-11 §6.1) — terminal verifier and chip signer. Hazmat.

INTERNAL AUTHENTICATE (00 88 00 00) carries an 8-byte challenge RND.IFD; the chip signs it with
the private key whose public key is in DG15:

* RSA: ISO/IEC 9796-2 digital signature scheme 1 (message recovery, partial): the
  representative F = 6A ‖ M1 ‖ H(M1 ‖ M2) ‖ trailer, M2 = RND.IFD, trailer BC for SHA-1 or
  hash-id ‖ CC for the others (ISO/IEC 10118-3 identifiers, below).
* ECDSA: plain r ‖ s (BSI TR-03111 §5.2.1) over the challenge, with the hash named in
  ActiveAuthenticationInfo or, by default, matching the key size.

A signature that does not verify is a result (:class:`AAResult` with ``valid=False``); a chip
that refuses the command raises :class:`~idcard.errors.AuthenticationError`.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from idcard.apdu import CommandAPDU, ResponseAPDU, StatusWord
from idcard.crypto import HASH_ALGORITHMS, ecdsa_sign_plain, ecdsa_verify_plain
from idcard.errors import AuthenticationError, EncodeError

__all__ = [
    "AAChip",
    "AAProtocol",
    "AAResult",
    "HASH_IDS",
    "default_ecdsa_hash",
    "iso9796_2_sign",
    "iso9796_2_recover",
    "sign_challenge",
    "verify_challenge",
]

_PROTOCOL = "AA"
Rng = Callable[[int], bytes]
AAPublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
AAPrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

HASH_IDS: dict[int, str] = {
    0x33: "sha1", 0x34: "sha256", 0x35: "sha512", 0x36: "sha384", 0x38: "sha224",
}  # fmt: skip
"""ISO/IEC 10118-3 hash-function identifiers used in the ISO/IEC 9796-2 trailer 'xxCC'."""

_ECDSA_OIDS = {
    "1.2.840.10045.4.1": "sha1", "1.2.840.10045.4.3.1": "sha224", "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384", "1.2.840.10045.4.3.4": "sha512",
    "0.4.0.127.0.7.1.1.4.1.1": "sha1", "0.4.0.127.0.7.1.1.4.1.2": "sha224",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256", "0.4.0.127.0.7.1.1.4.1.4": "sha384",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512", "0.4.0.127.0.7.1.1.4.1.6": "ripemd160",
}  # fmt: skip
"""ActiveAuthenticationInfo.signatureAlgorithm (9303-11 §9.2.6) → hash: the X9.62
ecdsa-with-SHA* OIDs and BSI TR-03111 §5.2.1's ecdsa-plain-SHA* (bsi-de 1.1.4.1.1–6). Both
sign plain r ‖ s here; RIPEMD-160 is recognised but not supported (EncodeError)."""


def _digest(name: str, data: bytes) -> bytes:
    h = hashes.Hash(HASH_ALGORITHMS[name]())
    h.update(data)
    return h.finalize()


def _hash_name(hash_alg: str | None) -> str:
    if hash_alg is None:
        return "sha1"
    name = _ECDSA_OIDS.get(hash_alg, hash_alg).lower().replace("-", "")
    if name not in HASH_ALGORITHMS:
        raise EncodeError(f"unsupported hash {hash_alg!r}")
    return name


def default_ecdsa_hash(curve: ec.EllipticCurve) -> str:
    """Hash matching the key size (BSI TR-03111 §4.1.1 recommendation)."""
    size = curve.key_size
    if size <= 224:
        return "sha224"
    if size <= 256:
        return "sha256"
    if size <= 384:
        return "sha384"
    return "sha512"


def _trailer(name: str) -> bytes:
    if name == "sha1":
        return b"\xbc"
    ident = next(k for k, v in HASH_IDS.items() if v == name)
    return bytes([ident, 0xCC])


def iso9796_2_sign(key: rsa.RSAPrivateKey, m1: bytes, m2: bytes, hash_alg: str = "sha1") -> bytes:
    """ISO/IEC 9796-2 scheme 1 partial recovery: ``m1`` recoverable (exactly filling the
    capacity), ``m2`` the non-recoverable part (the challenge)."""
    name = _hash_name(hash_alg)
    k = key.key_size
    size = (k + 7) // 8
    trailer = _trailer(name)
    h = _digest(name, m1 + m2)
    if len(m1) != size - len(h) - len(trailer) - 1:
        raise EncodeError(f"M1 must be {size - len(h) - len(trailer) - 1} bytes for this key")
    f = int.from_bytes(b"\x6a" + m1 + h + trailer, "big")
    numbers = key.private_numbers()
    s = pow(f, numbers.d, numbers.public_numbers.n)
    return s.to_bytes(size, "big")


def iso9796_2_recover(key: rsa.RSAPublicKey, signature: bytes, m2: bytes) -> bytes | None:
    """Verify an ISO/IEC 9796-2 scheme 1 signature over M1 ‖ ``m2``; return M1 or None."""
    numbers = key.public_numbers()
    n, size = numbers.n, (key.key_size + 7) // 8
    s = int.from_bytes(signature, "big")
    if len(signature) != size or not 0 < s < n:
        return None
    f = pow(s, numbers.e, n)
    if f & 0xF != 0xC:
        f = n - f  # the min(s, n - s) convention of ISO/IEC 9796-2
    block = f.to_bytes(size, "big")
    if block[0] & 0xC0 != 0x40 or block[-1] & 0x0F != 0x0C:
        return None
    if block[-1] == 0xBC:
        name, tlen = "sha1", 1
    else:
        found = HASH_IDS.get(block[-2])
        if block[-1] != 0xCC or found is None:
            return None
        name, tlen = found, 2
    hlen = len(_digest(name, b""))
    # header nibble 6 (partial recovery) followed by padding nibbles; scheme 1 with full bytes
    start = 1 if block[0] == 0x6A else None
    if start is None:
        return None
    m1 = block[start : size - tlen - hlen]
    h = block[size - tlen - hlen : size - tlen]
    if not hmac.compare_digest(_digest(name, m1 + m2), h):
        return None
    return m1


def sign_challenge(
    key: AAPrivateKey, challenge: bytes, *, hash_alg: str | None = None, rng: Rng = os.urandom
) -> bytes:
    """The chip's answer to INTERNAL AUTHENTICATE for ``challenge``."""
    if isinstance(key, rsa.RSAPrivateKey):
        name = _hash_name(hash_alg)
        size = (key.key_size + 7) // 8
        m1_len = size - len(_digest(name, b"")) - len(_trailer(name)) - 1
        return iso9796_2_sign(key, rng(m1_len), challenge, name)
    name = _hash_name(hash_alg) if hash_alg else default_ecdsa_hash(key.curve)
    return ecdsa_sign_plain(key, challenge, name)


def verify_challenge(
    key: AAPublicKey, challenge: bytes, signature: bytes, *, hash_alg: str | None = None
) -> bool:
    """Check an Active Authentication signature over ``challenge`` (9303-11 §6.1)."""
    if isinstance(key, rsa.RSAPublicKey):
        return iso9796_2_recover(key, signature, challenge) is not None
    if len(signature) != 2 * ((key.curve.key_size + 7) // 8):
        return False
    name = _hash_name(hash_alg) if hash_alg else default_ecdsa_hash(key.curve)
    return ecdsa_verify_plain(key, signature, challenge, name)


@dataclass(frozen=True, slots=True)
class AAResult:
    """Outcome of Active Authentication: ``valid`` says whether the signature verified."""

    valid: bool
    challenge: bytes
    signature: bytes


class AAProtocol:
    """Terminal side: INTERNAL AUTHENTICATE with an 8-byte challenge from ``rng``, then
    :class:`AAResult`. ``hash_alg`` is ActiveAuthenticationInfo's OID (or a hash name)."""

    def __init__(
        self, public_key: AAPublicKey, *, hash_alg: str | None = None, rng: Rng = os.urandom
    ) -> None:
        self._key = public_key
        self._hash = hash_alg
        self._rng = rng
        self._challenge: bytes | None = None

    def start(self) -> CommandAPDU:
        challenge = self._rng(8)
        if len(challenge) != 8:
            raise AuthenticationError("challenge must be 8 bytes", protocol=_PROTOCOL)
        self._challenge = challenge
        return CommandAPDU(0x00, 0x88, 0x00, 0x00, challenge, ne=256)

    def receive(self, response: ResponseAPDU) -> AAResult:
        if self._challenge is None:
            raise AuthenticationError("protocol not started", protocol=_PROTOCOL)
        if not response.ok:
            raise AuthenticationError(f"chip answered {response.sw:04X}", protocol=_PROTOCOL,
                                      step="INTERNAL AUTHENTICATE")  # fmt: skip
        try:
            valid = verify_challenge(self._key, self._challenge, response.data,
                                     hash_alg=self._hash)  # fmt: skip
        except EncodeError as exc:
            raise AuthenticationError(f"cannot verify: {exc}", protocol=_PROTOCOL,
                                      step="signature algorithm") from None  # fmt: skip
        return AAResult(valid, self._challenge, response.data)


class AAChip:
    """Chip side: answers INTERNAL AUTHENTICATE with :func:`sign_challenge`."""

    def __init__(
        self, private_key: AAPrivateKey, *, hash_alg: str | None = None, rng: Rng = os.urandom
    ) -> None:
        self._key = private_key
        self._hash = hash_alg
        self._rng = rng
        self.done = False

    def handle(self, command: CommandAPDU) -> ResponseAPDU:
        if command.ins != 0x88:
            return ResponseAPDU(b"", StatusWord.INS_NOT_SUPPORTED)
        if command.p1 or command.p2:
            return ResponseAPDU(b"", StatusWord.INCORRECT_P1P2)
        if len(command.data) != 8:
            return ResponseAPDU(b"", StatusWord.WRONG_DATA)
        self.done = True
        return ResponseAPDU(sign_challenge(self._key, command.data, hash_alg=self._hash,
                                           rng=self._rng))  # fmt: skip
