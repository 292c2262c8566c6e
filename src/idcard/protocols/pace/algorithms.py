"""PACE building blocks shared by the terminal and the chip (ICAO 9303-11 §4.4) — hazmat.

Protocol object identifiers and their cipher suites (§4.4.3.1–2, Tables 2–3), passwords and
K_π (§4.4, §9.7.3), nonce lengths and encryption (§4.4.3.3), the Integrated Mapping
pseudo-random function R_p(s, t) (§4.4.3.3.2, Figure 2), authentication tokens over public key
data objects (§4.4.3.4, §9.4) and the encrypted Chip Authentication Data of PACE-CAM (§4.4.3.5).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

from asn1crypto import core

from idcard import tlv
from idcard.crypto import KDF_PACE, Cipher, kdf
from idcard.errors import DecodeError, EncodeError, SecureMessagingError
from idcard.mrz.check import check_digit
from idcard.sm import block_size, decrypt_cbc, encrypt_cbc, pad, token_mac, unpad

__all__ = [
    "CAN",
    "ID_PACE",
    "MRZ",
    "PACE_ALGORITHMS",
    "PIN",
    "PUK",
    "Mapping",
    "PACEAlgorithm",
    "PACEPassword",
    "auth_token",
    "decrypt_chip_authentication_data",
    "encrypt_chip_authentication_data",
    "key_length",
    "nonce_length",
    "pseudo_random",
    "public_key_data_object",
]

ID_PACE = "0.4.0.127.0.7.2.2.4"
"""id-PACE (BSI TR-03110-3 §A.1.1.1; ICAO 9303-11 §9.2.3)."""

MRZ = 1
"""Password reference of MSE:Set AT tag 83 (9303-11 §4.4.4.1; TR-03110-3 §B.11.1)."""
CAN = 2
PIN = 3
PUK = 4

Mapping = Literal["GM", "IM", "CAM"]

_CIPHER_ARC: dict[int, Cipher] = {1: "3DES", 2: "AES-128", 3: "AES-192", 4: "AES-256"}
_FAMILY_ARC: dict[int, tuple[Literal["DH", "ECDH"], Mapping]] = {
    1: ("DH", "GM"),
    2: ("ECDH", "GM"),
    3: ("DH", "IM"),
    4: ("ECDH", "IM"),
    6: ("ECDH", "CAM"),
}


@dataclass(frozen=True, slots=True)
class PACEAlgorithm:
    """One PACE protocol OID and what it selects (9303-11 Tables 2 and 3)."""

    oid: str
    name: str
    agreement: Literal["DH", "ECDH"]
    mapping: Mapping
    cipher: Cipher

    @property
    def oid_bytes(self) -> bytes:
        """The OID's content octets (tag 06 omitted), as MSE:Set AT tag 80 carries them."""
        return bytes(core.ObjectIdentifier(self.oid).contents)

    @classmethod
    def from_oid(cls, oid: str) -> PACEAlgorithm:
        try:
            return PACE_ALGORITHMS[oid]
        except KeyError:
            raise DecodeError(f"{oid} is not a PACE protocol OID") from None

    @classmethod
    def from_oid_bytes(cls, data: bytes) -> PACEAlgorithm:
        """From content octets (MSE:Set AT tag 80); DecodeError for anything unknown."""
        for algorithm in PACE_ALGORITHMS.values():
            if algorithm.oid_bytes == data:
                return algorithm
        raise DecodeError("unknown PACE protocol OID in tag 80")


def _build_table() -> dict[str, PACEAlgorithm]:
    table: dict[str, PACEAlgorithm] = {}
    for family, (agreement, mapping) in _FAMILY_ARC.items():
        for arc, cipher in _CIPHER_ARC.items():
            if mapping == "CAM" and cipher == "3DES":
                continue  # 9303-11 §4.4.3 Note 1: no 3DES for CAM
            suite = "3DES-CBC-CBC" if cipher == "3DES" else f"AES-CBC-CMAC-{cipher[4:]}"
            oid = f"{ID_PACE}.{family}.{arc}"
            name = f"id-PACE-{agreement}-{mapping}-{suite}"
            table[oid] = PACEAlgorithm(oid, name, agreement, mapping, cipher)
    return table


PACE_ALGORITHMS: dict[str, PACEAlgorithm] = _build_table()
"""Every PACE protocol OID of ICAO 9303-11 §4.4.3: 19 (four families × four ciphers, and CAM
with the three AES key sizes)."""


def key_length(cipher: Cipher) -> int:
    """Key size k in octets; 3DES counts as 128 bits (9303-11 §4.4.3.3.2 Note)."""
    return {"3DES": 16, "AES-128": 16, "AES-192": 24, "AES-256": 32}[cipher]


def nonce_length(cipher: Cipher) -> int:
    """Length of the chip's nonce s: the smallest multiple of the block size ≥ k (required for
    the Integrated Mapping, 9303-11 §4.4.3.3, and used for every mapping here)."""
    block = block_size(cipher)
    return -(-key_length(cipher) // block) * block


@dataclass(frozen=True, slots=True)
class PACEPassword:
    """A PACE password: its reference (tag 83) and the secret fed to KDF_π (9303-11 §9.7.3).

    For the MRZ the secret is SHA-1(document number ‖ check digit ‖ date of birth ‖ check digit
    ‖ date of expiry ‖ check digit); for CAN, PIN and PUK the characters themselves (ISO 8859-1).
    """

    ref: int
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if self.ref not in (MRZ, CAN, PIN, PUK):
            raise EncodeError(f"password reference must be 1..4, got {self.ref}")

    @classmethod
    def from_mrz_info(cls, mrz_info: str) -> PACEPassword:
        """From the MRZ information string (number, DOB, DOE each with its check digit)."""
        return cls(MRZ, hashlib.sha1(mrz_info.encode("ascii")).digest())  # noqa: S324 - 9303

    @classmethod
    def from_mrz(
        cls, document_number: str, date_of_birth: str, date_of_expiry: str
    ) -> PACEPassword:
        """From the three MRZ fields (YYMMDD dates); check digits are computed here."""
        number = document_number.upper().ljust(9, "<")
        info = "".join(v + check_digit(v) for v in (number, date_of_birth, date_of_expiry))
        return cls.from_mrz_info(info)

    @classmethod
    def can(cls, value: str) -> PACEPassword:
        return cls(CAN, value.encode("latin-1"))

    @classmethod
    def pin(cls, value: str) -> PACEPassword:
        return cls(PIN, value.encode("latin-1"))

    @classmethod
    def puk(cls, value: str) -> PACEPassword:
        return cls(PUK, value.encode("latin-1"))

    def key(self, cipher: Cipher) -> bytes:
        """K_π = KDF_π(π) = KDF(f(π), 3) (9303-11 §9.7.3)."""
        return kdf(self.secret, KDF_PACE, cipher)


_C0_128 = bytes.fromhex("a668892a7c41e3ca739f40b057d85904")
_C1_128 = bytes.fromhex("a4e136ac725f738b01c1f60217c188ad")
_C0_256 = bytes.fromhex("d463d65234124ef7897054986dca0a174e28df758cbaa03f240616414d5a1676")
_C1_256 = bytes.fromhex("54bd7255f0aaf831bec3423fcf39d69b6cbf066677d0faae5aadd99df8e53517")


def pseudo_random(s: bytes, t: bytes, cipher: Cipher, p: int) -> bytes:
    """R(s, t) of the Integrated Mapping (9303-11 §4.4.3.3.2, Figure 2): x1‖…‖xn.

    k1 = E(t, s); then k_{i+1} = E(k_i, c0), x_i = E(k_i, c1), keys truncated to k bits, block
    cipher in CBC mode with zero IV, n the smallest number with n·l ≥ log2 p + 64. The caller
    reduces the result modulo p.
    """
    k = key_length(cipher)
    c0, c1 = (_C0_128, _C1_128) if k == 16 else (_C0_256, _C1_256)
    if len(s) != len(c0) or len(t) != k:
        raise DecodeError(f"integrated mapping needs |s| = {len(c0)} and |t| = {k} octets")
    bits = len(s) * 8
    n = -(-(p.bit_length() + 64) // bits)
    key = encrypt_cbc(cipher, t, s)
    out = []
    for _ in range(n):
        key = key[:k]
        out.append(encrypt_cbc(cipher, key, c1))
        key = encrypt_cbc(cipher, key, c0)
    return b"".join(out)


def public_key_data_object(oid: str, public_key: bytes, tag: int) -> bytes:
    """7F49 { 06 OID, 86 point | 84 y } without domain parameters (9303-11 §9.4, §4.4.3.4)."""
    return tlv.encode(0x7F49, [core.ObjectIdentifier(oid).dump(), tlv.encode(tag, public_key)])


def auth_token(cipher: Cipher, ks_mac: bytes, oid: str, public_key: bytes, tag: int) -> bytes:
    """Authentication token MAC(KS_MAC, PK data object): AES-CMAC or 3DES retail MAC, 8 bytes."""
    return token_mac(cipher, ks_mac, public_key_data_object(oid, public_key, tag))


def _cam_iv(cipher: Cipher, ks_enc: bytes) -> bytes:
    return encrypt_cbc(cipher, ks_enc, b"\xff" * 16)


def encrypt_chip_authentication_data(cipher: Cipher, ks_enc: bytes, ca_ic: bytes) -> bytes:
    """A_IC = E(KS_Enc, CA_IC): AES-CBC, IV = E(KS_Enc, -1), padding method 2 (§4.4.3.5)."""
    return encrypt_cbc(cipher, ks_enc, pad(ca_ic, 16), iv=_cam_iv(cipher, ks_enc))


def decrypt_chip_authentication_data(cipher: Cipher, ks_enc: bytes, a_ic: bytes) -> bytes:
    """CA_IC from A_IC; DecodeError when the length or the padding is wrong."""
    if not a_ic or len(a_ic) % 16:
        raise DecodeError("encrypted chip authentication data is not whole AES blocks")
    try:
        return unpad(decrypt_cbc(cipher, ks_enc, a_ic, iv=_cam_iv(cipher, ks_enc)), 16)
    except SecureMessagingError:
        raise DecodeError("encrypted chip authentication data has no valid padding") from None
