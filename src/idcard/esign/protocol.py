"""The e-signature application's command set: identifiers, data formats, and the personalization
mutual authentication, shared by the chip (:mod:`idcard.chip.esign_app`) and the terminal
(:class:`idcard.esign.ESignCard`) so both sides agree by construction (docs/chip.md,
"E-signature on the card").

Everything here is a *project* definition built from ISO/IEC 7816-4/-8 building blocks; the AID
is in the national registration space of ISO/IEC 7816-5 (category ``D``, ISO 3166 numeric
``860`` = Uzbekistan) but is NOT a registered AID.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU, StatusWord
from idcard.crypto import Cipher
from idcard.errors import AuthenticationError, DecodeError, EncodeError
from idcard.protocols.bac import cryptogram, open_cryptogram, session_channel
from idcard.sm import SecureChannel, SessionKeys

__all__ = [
    "ALG_ECDSA_DER",
    "ALG_ECDSA_PLAIN",
    "ALG_RSA_PKCS1",
    "ALG_RSA_PSS",
    "ALG_RSA_RAW",
    "ESIGN_AID",
    "FID_CA_CERTIFICATE",
    "FID_CERTIFICATE",
    "KEY_TYPES",
    "PERSO_KEY_LENGTHS",
    "PIN_REF",
    "PIN_TRIES",
    "PUK_REF",
    "PUK_TRIES",
    "TAG_PERSO_KEY",
    "KeyType",
    "PersoAuthChip",
    "PersoAuthProtocol",
    "PublicKey",
    "decode_public_key",
    "encode_public_key",
    "pin_block",
    "parse_pin_block",
    "put_perso_key",
]

ESIGN_AID = bytes.fromhex("D860000001") + b"ESIGN"
"""``D8 60 00 00 01 45 53 49 47 4E``: RID ``D860000001`` (ISO/IEC 7816-5 national registration,
category D, country 860, registration number 000001 — a PROJECT value, not registered) and PIX
"ESIGN" in ASCII."""

FID_CERTIFICATE = 0xC000
"""EF.C.ESIGN: the holder's signing certificate (DER), readable by anyone."""
FID_CA_CERTIFICATE = 0xC001
"""EF.C.CA: the issuing e-signature CA certificate (DER), readable by anyone."""
CERTIFICATE_FIDS = (FID_CERTIFICATE, FID_CA_CERTIFICATE)

PIN_REF = 0x81
"""Specific (local) reference data 1: the signature PIN (ISO/IEC 7816-4 §11.5.2, P2 b8 = 1)."""
PUK_REF = 0x82
"""Specific reference data 2: the PUK (resetting code)."""
PIN_TRIES = 3
PUK_TRIES = 10
PIN_LENGTHS = (6, 8)
PUK_LENGTH = 8
_BLOCK = 8

TAG_PERSO_KEY = 0x71
"""PUT DATA ``00 DA 00 71`` (before the lock, e-sign application selected): K_perso, the
card-specific AES key (16, 24 or 32 bytes) of the personalization mutual authentication."""
PERSO_KEY_LENGTHS = (16, 24, 32)

KEY_REF = 0x01
"""The one signature key of the application (DO'84' in the CRT)."""

ALG_ECDSA_PLAIN = 0x01
"""PSO CDS input: the hash (20/28/32/48/64 bytes); output plain r ‖ s (BSI TR-03111 §5.2.1)."""
ALG_ECDSA_DER = 0x02
"""PSO CDS input: the hash; output DER Ecdsa-Sig-Value (RFC 5480 §2.2)."""
ALG_RSA_PKCS1 = 0x11
"""PSO CDS input: a DER DigestInfo (RFC 8017 §9.2); the card pads EMSA-PKCS1-v1_5."""
ALG_RSA_RAW = 0x12
"""PSO CDS input: a full-length block < n (the host padded it); output m^d mod n."""
ALG_RSA_PSS = 0x13
"""PSO CDS input: the hash; RSASSA-PSS with MGF1 of the same hash, salt = hash length."""
SIGNATURE_ALGORITHMS = (ALG_ECDSA_PLAIN, ALG_ECDSA_DER, ALG_RSA_PKCS1, ALG_RSA_RAW, ALG_RSA_PSS)


@dataclass(frozen=True, slots=True)
class KeyType:
    """A key type the card generates: its reference byte in DO'80' of GENERATE's CRT."""

    ref: int
    name: str
    kind: str
    bits: int


KEY_TYPES: dict[int, KeyType] = {
    k.ref: k
    for k in (
        KeyType(0x01, "ec-p256", "ec", 256),
        KeyType(0x02, "ec-p384", "ec", 384),
        KeyType(0x11, "rsa-2048", "rsa", 2048),
        KeyType(0x12, "rsa-3072", "rsa", 3072),
    )
}
"""Key types by reference: ECDSA P-256 (default), P-384, RSA-2048, RSA-3072 (e = 65537)."""
KEY_TYPE_NAMES = {k.name: k for k in KEY_TYPES.values()}

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey

_CURVE_OIDS: dict[str, tuple[bytes, ec.EllipticCurve]] = {
    "secp256r1": (bytes.fromhex("2A8648CE3D030107"), ec.SECP256R1()),
    "secp384r1": (bytes.fromhex("2B81040022"), ec.SECP384R1()),
}


def put_perso_key(k_perso: bytes) -> CommandAPDU:
    """PUT DATA 71 (before the lock, after SELECT of the e-sign AID): the key of the
    personalization mutual authentication that later opens the channel for key generation
    and certificate writing."""
    if len(k_perso) not in PERSO_KEY_LENGTHS:
        raise EncodeError("K_perso must be 16, 24 or 32 bytes")
    return CommandAPDU(0x00, 0xDA, 0x00, TAG_PERSO_KEY, k_perso)


# -- PIN blocks ---------------------------------------------------------------------------------


def pin_block(value: str, *, puk: bool = False) -> bytes:
    """A PIN (6–8 digits) or PUK (8 digits) as 8 bytes: ASCII digits, padded with FF (the PIV
    card's format, NIST SP 800-73-4 §2.4.3), so two blocks concatenate without ambiguity."""
    low, high = (PUK_LENGTH, PUK_LENGTH) if puk else PIN_LENGTHS
    if not (value.isascii() and value.isdigit() and low <= len(value) <= high):
        what = "PUK" if puk else "PIN"
        raise EncodeError(f"the {what} must be {low}" + (f"–{high}" if high != low else "")
                          + " digits")  # fmt: skip
    return value.encode("ascii") + b"\xff" * (_BLOCK - len(value))


def parse_pin_block(block: bytes, *, puk: bool = False) -> bytes | None:
    """The digits of a PIN block, or None when it is malformed (chip side)."""
    if len(block) != _BLOCK:
        return None
    digits = block.rstrip(b"\xff")
    low, high = (PUK_LENGTH, PUK_LENGTH) if puk else PIN_LENGTHS
    if not low <= len(digits) <= high or not all(0x30 <= b <= 0x39 for b in digits):
        return None
    return digits


# -- public keys (ISO/IEC 7816-8 DO'7F49', BSI TR-03110-3 D.3) -----------------------------------


def encode_public_key(key: PublicKey) -> bytes:
    """``7F49 { 06 curve OID, 86 uncompressed point }`` or ``7F49 { 81 n, 82 e }``."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        oid = _CURVE_OIDS.get(key.curve.name)
        if oid is None:
            raise EncodeError(f"curve {key.curve.name} not supported by the card")
        point = key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return tlv.encode(0x7F49, [tlv.encode(0x06, oid[0]), tlv.encode(0x86, point)])
    numbers = key.public_numbers()
    n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
    e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
    return tlv.encode(0x7F49, [tlv.encode(0x81, n), tlv.encode(0x82, e)])


def decode_public_key(data: bytes) -> PublicKey:
    """The inverse of :func:`encode_public_key`; anything else is a DecodeError."""
    outer = tlv.decode_one(data, expected_tag=0x7F49, allow_padding=False)
    items = {i.tag: i.value for i in outer.children()}
    try:
        if 0x86 in items:
            for oid, curve in _CURVE_OIDS.values():
                if items.get(0x06) == oid:
                    return ec.EllipticCurvePublicKey.from_encoded_point(curve, items[0x86])
            raise DecodeError("public key on an unsupported curve")
        if 0x81 in items and 0x82 in items:
            n, e = (int.from_bytes(items[t], "big") for t in (0x81, 0x82))
            return rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError:
        raise DecodeError("public key values are invalid") from None
    raise DecodeError("DO'7F49' holds neither an EC point nor an RSA modulus and exponent")


# -- personalization mutual authentication ------------------------------------------------------

Rng = Callable[[int], bytes]
_NONCE = 16
_K = 32
_PROTOCOL = "ESIGN-PERSO"


def _cipher(key: bytes) -> Cipher:
    names: dict[int, Cipher] = {16: "AES-128", 24: "AES-192", 32: "AES-256"}
    if len(key) not in names:
        raise EncodeError("K_perso must be 16, 24 or 32 bytes")
    return names[len(key)]


def _derive(k_perso: bytes) -> SessionKeys:
    """K_enc = KDF(K_perso, 1), K_mac = KDF(K_perso, 2), AES of K_perso's length."""
    return SessionKeys.derive(_cipher(k_perso), k_perso)


def _open(keys: SessionKeys, data: bytes) -> bytes | None:
    return open_cryptogram(keys, data, 2 * _NONCE + _K)


def _channel(k_ifd: bytes, k_ic: bytes, rnd_ic: bytes, rnd_ifd: bytes) -> SecureChannel:
    """Session keys KDF(K.IFD ⊕ K.IC, 1/2) for AES-256, SSC = RND.IC[8:] ‖ RND.IFD[8:]
    (the BAC construction of ICAO 9303-11 §9.7.2–9.7.4 with AES and 16-byte nonces)."""
    return session_channel("AES-256", k_ifd, k_ic, rnd_ic, rnd_ifd)


def _rand(rng: Rng, n: int) -> bytes:
    value = rng(n)
    if len(value) != n:
        raise AuthenticationError(f"rng returned {len(value)} bytes, not {n}", protocol=_PROTOCOL)
    return value


class PersoAuthProtocol:
    """Terminal side: GET CHALLENGE (Le 16) → MUTUAL AUTHENTICATE ``00 82 00 00`` with
    E(RND.IFD ‖ RND.IC ‖ K.IFD) ‖ CMAC → the secure channel. ``rng`` gives RND.IFD then K.IFD."""

    def __init__(self, k_perso: bytes, *, rng: Rng = os.urandom) -> None:
        self._keys = _derive(k_perso)
        self._rng = rng
        self._state = "new"
        self._rnd_ic = self._rnd_ifd = self._k_ifd = b""

    def start(self) -> CommandAPDU:
        if self._state != "new":
            raise AuthenticationError("protocol already started", protocol=_PROTOCOL)
        self._state = "challenge"
        return CommandAPDU(0x00, 0x84, 0x00, 0x00, ne=_NONCE)

    def receive(self, response: ResponseAPDU) -> CommandAPDU | SecureChannel:
        if self._state == "challenge":
            if not response.ok or len(response.data) != _NONCE:
                self._state = "failed"
                raise AuthenticationError(f"GET CHALLENGE answered {response.sw:04X}",
                                          protocol=_PROTOCOL, step="GET CHALLENGE")  # fmt: skip
            self._rnd_ic = response.data
            self._rnd_ifd = _rand(self._rng, _NONCE)
            self._k_ifd = _rand(self._rng, _K)
            self._state = "mutual"
            body = cryptogram(self._keys, self._rnd_ifd + self._rnd_ic + self._k_ifd)
            return CommandAPDU(0x00, 0x82, 0x00, 0x00, body, ne=len(body))
        if self._state == "mutual":
            self._state = "failed"
            step = "MUTUAL AUTHENTICATE"
            if not response.ok:
                raise AuthenticationError(f"card refused ({response.sw:04X}): wrong K_perso?",
                                          protocol=_PROTOCOL, step=step)  # fmt: skip
            r = _open(self._keys, response.data)
            if r is None or r[:_NONCE] != self._rnd_ic or r[_NONCE : 2 * _NONCE] != self._rnd_ifd:
                raise AuthenticationError("card cryptogram does not verify",
                                          protocol=_PROTOCOL, step=step)  # fmt: skip
            self._state = "done"
            return _channel(self._k_ifd, r[2 * _NONCE :], self._rnd_ic, self._rnd_ifd)
        raise AuthenticationError(f"no response expected in state {self._state}",
                                  protocol=_PROTOCOL)  # fmt: skip


class PersoAuthChip:
    """Chip side of :class:`PersoAuthProtocol`. ``rng`` gives RND.IC then K.IC. After a good
    MUTUAL AUTHENTICATE :attr:`channel` is set; a bad cryptogram gets 6300 and the challenge is
    forgotten."""

    def __init__(self, k_perso: bytes, *, rng: Rng = os.urandom) -> None:
        self._keys = _derive(k_perso)
        self._rng = rng
        self._rnd_ic: bytes | None = None
        self.channel: SecureChannel | None = None

    def handle(self, command: CommandAPDU) -> ResponseAPDU:
        if command.ins == 0x84:
            if command.p1 or command.p2 or command.data or command.ne != _NONCE:
                return ResponseAPDU(b"", StatusWord.WRONG_LENGTH)
            self._rnd_ic = _rand(self._rng, _NONCE)
            return ResponseAPDU(self._rnd_ic)
        if command.ins == 0x82:
            rnd_ic, self._rnd_ic = self._rnd_ic, None
            if rnd_ic is None:
                return ResponseAPDU(b"", StatusWord.CONDITIONS_NOT_SATISFIED)
            s = _open(self._keys, command.data)
            if s is None or s[_NONCE : 2 * _NONCE] != rnd_ic:
                return ResponseAPDU(b"", StatusWord.VERIFICATION_FAILED)
            rnd_ifd, k_ifd = s[:_NONCE], s[2 * _NONCE :]
            k_ic = _rand(self._rng, _K)
            self.channel = _channel(k_ifd, k_ic, rnd_ic, rnd_ifd)
            return ResponseAPDU(cryptogram(self._keys, rnd_ic + rnd_ifd + k_ic))
        return ResponseAPDU(b"", StatusWord.INS_NOT_SUPPORTED)
