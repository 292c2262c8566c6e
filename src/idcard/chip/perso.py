"""The personalization command set of the virtual chip, both directions (docs/chip.md).

Compatible with the JMRTD passport applet (``PassportApplet.java``) where it defines a command:
CREATE FILE ``00 E0 00 00`` with ``63 04 size(2) fid(2)``, UPDATE BINARY ``00 D6``, PUT DATA
``00 DA 00 62`` (MRZ: ``62 { 04 number, 04 birth date, 04 expiry date }``), ``60``/``61`` (AA RSA
modulus / private exponent as ``60 { 04 modulus }``), ``63`` (CA EC key: the JMRTD TLV
81 p, 82 a, 83 b, 84 G, 85 n, 86 s, 87 h), ``64`` (the CVCA certificate), ``65`` (PACE secrets
``65 { 66 { ref secret } … }``), ``67`` (the chip's date, 6 digits YYMMDD) and the lock
``00 DA DE AD``. Extended here: P2 ``63`` also takes PKCS#8 DER, ``68`` the AA private key as
PKCS#8 DER (EC on a prime curve, or RSA), ``69`` the chip options, UPDATE BINARY ``00 D7`` (odd
INS, offset DO'54' past 32 767, data DO'53') and the read-back command GET DIGEST ``80 5A``.

This module holds the encoders the terminal uses and the decoders the chip uses, so both sides
agree by construction. Secrets never appear in messages.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from idcard import tlv
from idcard.apdu import CommandAPDU
from idcard.cvc.certificate import CVCertificate
from idcard.errors import CardError, DecodeError, EncodeError
from idcard.esign.protocol import put_perso_key as put_esign_perso_key
from idcard.lds.dg14 import DG14
from idcard.lds.security_infos import (
    ActiveAuthenticationInfo,
    CardAccess,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    PACEInfo,
    SecurityInfo,
    TerminalAuthenticationInfo,
)
from idcard.protocols.pace import PACEAlgorithm

if TYPE_CHECKING:
    from idcard.chip.state import ChipState

__all__ = [
    "CREATE_FILE",
    "GET_DIGEST",
    "LOCK",
    "OPTION_PACE_REQUIRED",
    "PUT_DATA",
    "NEEDS_AA_KEY",
    "NEEDS_CAN",
    "NEEDS_CA_KEY",
    "NEEDS_CVCA",
    "TAG_AA_KEY",
    "TAG_AA_RSA_EXPONENT",
    "TAG_AA_RSA_MODULUS",
    "TAG_CA_KEY",
    "TAG_CURRENT_DATE",
    "TAG_CVCA",
    "TAG_MRZ",
    "TAG_OPTIONS",
    "TAG_PACE_SECRETS",
    "CardLockedError",
    "ChipSecrets",
    "MRZKey",
    "PrivateKey",
    "advertised_secrets",
    "chip_create_file",
    "chip_update_binary",
    "create_file",
    "decode_create_file",
    "decode_date",
    "decode_ec_key",
    "decode_mrz",
    "decode_pace_secrets",
    "decode_private_key",
    "decode_rsa_part",
    "encode_date",
    "encode_mrz",
    "encode_pace_secrets",
    "encode_private_key",
    "lock",
    "missing_secrets",
    "public_key_digest",
    "put_data",
    "put_esign_perso_key",
    "update_binary",
]

CREATE_FILE = 0xE0
PUT_DATA = 0xDA
GET_DIGEST = 0x5A
"""Proprietary (CLA 80): P1 00 → SHA-256 of the current EF; P1 01 → personalization status."""

TAG_AA_RSA_MODULUS = 0x60
TAG_AA_RSA_EXPONENT = 0x61
TAG_MRZ = 0x62
TAG_CA_KEY = 0x63
TAG_CVCA = 0x64
TAG_PACE_SECRETS = 0x65
TAG_PACE_SECRET_ENTRY = 0x66
TAG_CURRENT_DATE = 0x67
TAG_AA_KEY = 0x68
TAG_OPTIONS = 0x69

OPTION_PACE_REQUIRED = 0x01
"""Options byte b1: the chip refuses BAC (PACE-only profile)."""

LOCK = CommandAPDU(0x00, PUT_DATA, 0xDE, 0xAD)
"""The JMRTD lock command: ends personalization for good."""

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class CardLockedError(CardError):
    """The card is already personalized and locked; it refuses personalization commands."""


@dataclass(frozen=True, slots=True)
class MRZKey:
    """The MRZ fields that key BAC and PACE-MRZ (PUT DATA 62): number, YYMMDD dates."""

    document_number: str = field(repr=False)
    birth_date: str = field(repr=False)
    expiry_date: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ChipSecrets:
    """What personalization writes besides the files (never printed).

    ``ca_private_key`` is the Chip Authentication key (also SK_IC for PACE-CAM),
    ``aa_private_key`` the Active Authentication key; ``can`` the 6-digit Card Access Number;
    ``cvca`` the Terminal Authentication trust anchor; ``current_date`` the chip's first notion
    of today (TR-03110-3 §2.5); ``pace_required`` refuses BAC; ``esign_perso_key`` (K_perso) is
    the key of the e-signature application's personalization channel, through which the station
    later generates the holder's key and writes the certificate. The MRZ key comes from DG1.
    """

    ca_private_key: ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)
    aa_private_key: PrivateKey | None = field(default=None, repr=False)
    can: str | None = field(default=None, repr=False)
    cvca: CVCertificate | None = None
    current_date: datetime.date | None = None
    pace_required: bool = False
    esign_perso_key: bytes | None = field(default=None, repr=False)


# -- commands -----------------------------------------------------------------------------------


def create_file(fid: int, size: int) -> CommandAPDU:
    """CREATE FILE (JMRTD): ``63 04 size fid`` creates a transparent EF in the current DF."""
    if not 0 <= size <= 0xFFFF or not 0 <= fid <= 0xFFFF:
        raise EncodeError("file size and identifier must fit two bytes")
    body = tlv.encode(0x63, size.to_bytes(2, "big") + fid.to_bytes(2, "big"))
    return CommandAPDU(0x00, CREATE_FILE, 0x00, 0x00, body)


def decode_create_file(data: bytes) -> tuple[int, int]:
    """The chip's reading of CREATE FILE's data ``63 04 size fid``: (size, fid)."""
    spec = tlv.decode_one(data, expected_tag=0x63, allow_padding=False).value
    if len(spec) != 4:
        raise DecodeError("CREATE FILE needs DO'63' of 4 bytes (size, file identifier)")
    return int.from_bytes(spec[:2], "big"), int.from_bytes(spec[2:], "big")


def update_binary(offset: int, data: bytes) -> CommandAPDU:
    """UPDATE BINARY of the current EF: ``D6`` with a 15-bit offset, else odd ``D7`` with
    DO'54' (offset) and DO'53' (data) (ISO/IEC 7816-4 §11.3.4)."""
    if offset <= 0x7FFF:
        return CommandAPDU(0x00, 0xD6, offset >> 8, offset & 0xFF, data)
    body = tlv.encode(0x54, offset.to_bytes(3, "big")) + tlv.encode(0x53, data)
    return CommandAPDU(0x00, 0xD7, 0x00, 0x00, body)


def put_data(tag: int, data: bytes) -> CommandAPDU:
    """PUT DATA ``00 DA 00 tag``."""
    return CommandAPDU(0x00, PUT_DATA, 0x00, tag, data)


def lock() -> CommandAPDU:
    return LOCK


# -- payloads -----------------------------------------------------------------------------------


def encode_mrz(key: MRZKey) -> bytes:
    """``62 { 04 number, 04 birth date, 04 expiry date }`` (JMRTD ``putMRZ``)."""
    parts = [
        tlv.encode(0x04, v.encode("ascii"))
        for v in (key.document_number, key.birth_date, key.expiry_date)
    ]
    return tlv.encode(TAG_MRZ, parts)


def decode_mrz(data: bytes) -> MRZKey:
    outer = tlv.decode_one(data, expected_tag=TAG_MRZ, allow_padding=False)
    items = outer.children()
    if len(items) != 3 or any(i.tag != 0x04 for i in items):
        raise DecodeError("MRZ data needs three DO'04'")
    try:
        number, dob, doe = (i.value.decode("ascii") for i in items)
    except UnicodeDecodeError:
        raise DecodeError("MRZ fields must be ASCII") from None
    if not number or len(dob) != 6 or len(doe) != 6 or not (dob + doe).isdigit():
        raise DecodeError("MRZ fields malformed")
    return MRZKey(number, dob, doe)


def encode_pace_secrets(secrets: dict[int, bytes]) -> bytes:
    """``65 { 66 { ref(1) secret } … }``; refs 2 CAN, 3 PIN, 4 PUK (9303-11 §4.4.4.1)."""
    entries = [tlv.encode(TAG_PACE_SECRET_ENTRY, bytes([ref]) + s) for ref, s in secrets.items()]
    return tlv.encode(TAG_PACE_SECRETS, entries)


def decode_pace_secrets(data: bytes) -> dict[int, bytes]:
    items = tlv.decode_all(data)
    if len(items) == 1 and items[0].tag == TAG_PACE_SECRETS:
        items = items[0].children()
    out: dict[int, bytes] = {}
    for item in items:
        if item.tag != TAG_PACE_SECRET_ENTRY or len(item.value) < 2:
            raise DecodeError("PACE secret entries are DO'66' { ref secret }")
        if item.value[0] not in (2, 3, 4):
            raise DecodeError("PACE secret reference must be 2 (CAN), 3 (PIN) or 4 (PUK)")
        out[item.value[0]] = item.value[1:]
    return out


def encode_date(date: datetime.date) -> bytes:
    """Six digit bytes YYMMDD (unpacked BCD, as CV certificate dates)."""
    return bytes(int(c) for c in date.strftime("%y%m%d"))


def decode_date(data: bytes) -> datetime.date:
    if len(data) != 6 or any(b > 9 for b in data):
        raise DecodeError("date must be 6 digit bytes YYMMDD")
    y, m, d = (data[i] * 10 + data[i + 1] for i in (0, 2, 4))
    try:
        return datetime.date(2000 + y, m, d)
    except ValueError:
        raise DecodeError("not a calendar date") from None


def encode_private_key(key: PrivateKey) -> bytes:
    """PKCS#8 DER (unencrypted): how this project writes CA and AA keys."""
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_digest(key: PrivateKey) -> bytes:
    """SHA-256 of the key's SubjectPublicKeyInfo: how the personalization status names the CA
    and AA keys without revealing them."""
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).digest()


def decode_private_key(data: bytes) -> PrivateKey:
    """A PKCS#8 DER EC (prime curve) or RSA private key."""
    try:
        key = serialization.load_der_private_key(bytes(data), password=None)
    except (ValueError, TypeError):
        raise DecodeError("not an unencrypted PKCS#8 private key") from None
    except Exception:  # cryptography's UnsupportedAlgorithm
        raise DecodeError("unsupported private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise DecodeError("private key must be EC or RSA")
    return key


_CURVES: tuple[ec.EllipticCurve, ...] = (
    ec.SECP192R1(), ec.SECP224R1(), ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1(),
    ec.BrainpoolP256R1(), ec.BrainpoolP384R1(), ec.BrainpoolP512R1(),
)  # fmt: skip


def _generator(curve: ec.EllipticCurve) -> bytes:
    return (
        ec.derive_private_key(1, curve)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )


def decode_ec_key(data: bytes) -> ec.EllipticCurvePrivateKey:
    """P2 63: PKCS#8 DER (starts with 30), or the JMRTD TLV of a prime-curve key, whose
    generator (DO'84') names the curve and DO'86' holds the private value."""
    if data[:1] == b"\x30":
        key = decode_private_key(data)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise DecodeError("Chip Authentication key must be EC")
        return key
    items = {i.tag: i.value for i in tlv.decode_all(data)}
    if 0x84 not in items or 0x86 not in items:
        raise DecodeError("EC key TLV needs DO'84' (generator) and DO'86' (private value)")
    for curve in _CURVES:
        if _generator(curve) == items[0x84]:
            s = int.from_bytes(items[0x86], "big")
            try:
                return ec.derive_private_key(s, curve)
            except ValueError:
                raise DecodeError("private value out of range") from None
    raise DecodeError("EC key on an unsupported curve")


def decode_rsa_part(data: bytes, tag: int) -> int:
    """P2 60/61 (JMRTD): ``tag { 04 value }`` or ``tag 00 04 value``; the integer value."""
    items = tlv.decode_all(data)
    if not items or items[0].tag != tag:
        raise DecodeError(f"expected DO'{tag:02X}'")
    inner = items[0].children() if items[0].value else items[1:]
    octets = tlv.find(inner, 0x04)
    if octets is None or not octets.value:
        raise DecodeError("expected DO'04' with the value")
    return int.from_bytes(octets.value, "big")


# -- what a complete card holds ----------------------------------------------------------------

NEEDS_CAN = "CAN"
NEEDS_CA_KEY = "CA key"
NEEDS_AA_KEY = "AA key"
NEEDS_CVCA = "CVCA"


def advertised_secrets(
    card_access: bytes | None, dg14: bytes | None, dg15: bytes | None
) -> frozenset[str]:
    """The secrets a card's own files promise a reader, so the card must hold them:
    PACE (a PACEInfo in EF.CardAccess or DG14) → the CAN; PACE-CAM or Chip Authentication
    (DG14 ChipAuthenticationInfo / ChipAuthenticationPublicKeyInfo) → the CA key; Terminal
    Authentication (DG14 TerminalAuthenticationInfo) → a CVCA; Active Authentication (DG15, or
    DG14 ActiveAuthenticationInfo) → the AA key. Raises DecodeError when EF.CardAccess or DG14
    does not decode (what they promise is then unknown)."""
    infos: list[SecurityInfo] = []
    if card_access is not None:
        infos.extend(CardAccess.decode(card_access).security_infos.infos)
    if dg14 is not None:
        infos.extend(DG14.decode(dg14).security_infos.infos)
    out: set[str] = set()
    if dg15 is not None:
        out.add(NEEDS_AA_KEY)
    for info in infos:
        if isinstance(info, PACEInfo):
            out.add(NEEDS_CAN)
            try:
                cam = PACEAlgorithm.from_oid(info.protocol).mapping == "CAM"
            except DecodeError:
                cam = False
            if cam:
                out.add(NEEDS_CA_KEY)
        elif isinstance(info, ChipAuthenticationInfo | ChipAuthenticationPublicKeyInfo):
            out.add(NEEDS_CA_KEY)
        elif isinstance(info, TerminalAuthenticationInfo):
            out.add(NEEDS_CVCA)
        elif isinstance(info, ActiveAuthenticationInfo):
            out.add(NEEDS_AA_KEY)
    return frozenset(out)


def missing_secrets(advertised: frozenset[str], *, can: bool, ca_key: bool, aa_key: bool,
                    cvca: bool) -> list[str]:  # fmt: skip
    """The names of the ``advertised`` secrets that are not there (sorted)."""
    held = {NEEDS_CAN: can, NEEDS_CA_KEY: ca_key, NEEDS_AA_KEY: aa_key, NEEDS_CVCA: cvca}
    return sorted(name for name in advertised if not held[name])


# -- the chip's file memory (chip side) ---------------------------------------------------------


def chip_create_file(state: ChipState, df: str, fid: int, size: int) -> None:
    """CREATE FILE on the chip: a zero-filled EF of ``size`` bytes, all of them unwritten
    (re-creating replaces the file)."""
    state.files[df][fid] = bytearray(size)
    state.unwritten.setdefault(df, {})[fid] = [(0, size)] if size else []


def chip_update_binary(state: ChipState, df: str, fid: int, offset: int, data: bytes) -> bool:
    """UPDATE BINARY on the chip: False (nothing written) when ``data`` would pass the end of
    the file; else the bytes are written and no longer count as unwritten."""
    content, end = state.files[df][fid], offset + len(data)
    if end > len(content):
        return False
    content[offset:end] = data
    gaps = state.unwritten.get(df, {}).get(fid)
    if gaps:
        left = [(a, b) for a, b in gaps if b <= offset or a >= end]
        left += [(a, offset) for a, b in gaps if a < offset < b]
        left += [(end, b) for a, b in gaps if a < end < b]
        state.unwritten[df][fid] = sorted(left)
    return True
