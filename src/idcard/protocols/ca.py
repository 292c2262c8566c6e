"""Chip Authentication version 1 (ICAO Doc 9303-11 §6.2; BSI TR-03110-1 §3.4) — hazmat.

The terminal sends an ephemeral DH/ECDH public key; both sides compute K from it and the chip's
static key of DG14 (ChipAuthenticationPublicKeyInfo) and restart secure messaging with
KS_enc = KDF(K, 1), KS_mac = KDF(K, 2) and SSC = 0 (§6.2.3). The 3DES variant sends the key with
MSE:Set KAT (00 22 41 A6, DO'91', optional key id DO'84'); the AES variants use MSE:Set AT
(00 22 41 A4, DO'80' protocol OID, DO'84' key id) then GENERAL AUTHENTICATE (7C{80 key}).
The answer to the last command still travels under the old keys; the new channel starts after.

EC keys are ``cryptography`` objects (the chip's static key is long-lived: OpenSSL's
constant-time ECDH serves it; the point arithmetic of :mod:`idcard.protocols.params` is for the
mapped generators of PACE). Finite-field DH uses the group objects of
:mod:`idcard.protocols.params` (``DHDomainParameters``, also named :data:`DHGroup` here) for
encoding, validation and key agreement; :class:`DHPublicKey` / :class:`DHPrivateKey` only pair a
group with a value, because ``cryptography`` deprecates FFDH. The chip's public key may also be
SubjectPublicKeyInfo DER (named or explicit EC parameters, X9.42 ``dhpublicnumber``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Final

from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU, StatusWord
from idcard.crypto import Cipher
from idcard.cvc.curves import curve_from_generator
from idcard.errors import AuthenticationError, DecodeError, EncodeError
from idcard.protocols.params import STANDARDIZED_DOMAIN_PARAMETERS, DHDomainParameters
from idcard.sm import SecureChannel, SessionKeys

__all__ = [
    "CA_OIDS",
    "CAChip",
    "CAProtocol",
    "CAResult",
    "DHGroup",
    "DHPrivateKey",
    "DHPublicKey",
    "ChipPrivateKey",
    "ChipPublicKey",
    "compressed",
    "encode_public_key",
    "load_public_key",
    "shared_secret",
]

_PROTOCOL = "CA"
_ID_CA: Final = "0.4.0.127.0.7.2.2.3"
_SUFFIX: dict[str, Cipher] = {
    "1": "3DES", "2": "AES-128", "3": "AES-192", "4": "AES-256",
}  # fmt: skip
CA_OIDS: dict[str, tuple[str, Cipher]] = {
    f"{_ID_CA}.{family}.{n}": (kind, cipher)
    for family, kind in (("1", "DH"), ("2", "ECDH"))
    for n, cipher in _SUFFIX.items()
}
"""id-CA-{DH,ECDH}-{3DES-CBC-CBC, AES-CBC-CMAC-128/192/256} (TR-03110-3 A.1.1.2): kind, cipher."""

DHGroup = DHDomainParameters
"""X9.42 DH domain parameters ``DHGroup(p, g, q)``: the group type of
:mod:`idcard.protocols.params`."""


def _known_group(group: DHDomainParameters) -> DHDomainParameters:
    """The standardized group with these numbers (it has a name), else ``group``."""
    for params in STANDARDIZED_DOMAIN_PARAMETERS.values():
        if isinstance(params, DHDomainParameters) and params == group:
            return params
    return group


@dataclass(frozen=True, slots=True)
class DHPublicKey:
    """A DH public value, validated in its group (1 < y < p-1, y^q = 1; RFC 2631 §2.1.5)."""

    group: DHDomainParameters
    y: int

    def __post_init__(self) -> None:
        self.group.validate_element(self.y)

    def encode(self) -> bytes:
        """The value padded to the length of p (9303-11 §9.4.5)."""
        return self.group.encode_element(self.y)


@dataclass(frozen=True, slots=True)
class DHPrivateKey:
    """A DH private exponent in its group (never in a repr)."""

    group: DHDomainParameters
    x: int = field(repr=False)

    @classmethod
    def generate(cls, group: DHDomainParameters) -> DHPrivateKey:
        return cls(group, group.random_private_key(os.urandom))

    def public_key(self) -> DHPublicKey:
        return DHPublicKey(self.group, int.from_bytes(self.group.public_key(self.x), "big"))


ChipPublicKey = ec.EllipticCurvePublicKey | DHPublicKey
ChipPrivateKey = ec.EllipticCurvePrivateKey | DHPrivateKey

def _oid_for(kind: str, cipher: Cipher) -> str:
    for oid, value in CA_OIDS.items():
        if value == (kind, cipher):
            return oid
    raise EncodeError(f"no Chip Authentication OID for {kind}/{cipher}")


def _select(kind: str, oid: str | None, cipher: Cipher) -> tuple[str, Cipher]:
    """The protocol OID (given, or the one for ``kind`` and ``cipher``) and its cipher; an OID
    that is not Chip Authentication with ``kind`` is refused."""
    if oid is None:
        oid = _oid_for(kind, cipher)
    if oid not in CA_OIDS or CA_OIDS[oid][0] != kind:
        raise EncodeError(f"OID {oid} is not Chip Authentication with {kind}")
    return oid, CA_OIDS[oid][1]


def load_public_key(spki: bytes) -> ChipPublicKey:
    """A chip public key from SubjectPublicKeyInfo DER (DG14 ChipAuthenticationPublicKeyInfo).

    Explicit EC parameters (usual in DG14) are matched to a named curve by their generator.
    """
    try:
        info = asn1_keys.PublicKeyInfo.load(spki)
        algorithm = info["algorithm"]["algorithm"].native
        if algorithm == "ec":
            params = info["algorithm"]["parameters"]
            if params.name == "specified":
                curve = curve_from_generator(params.chosen["base"].native)
                point = info["public_key"].native
                return ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
        if algorithm == "dh":
            params = info["algorithm"]["parameters"].native
            group = _known_group(DHDomainParameters(params["p"], params["g"], params["q"]))
            return DHPublicKey(group, info["public_key"].native)
        key = serialization.load_der_public_key(spki)
    except DecodeError:
        raise
    except Exception as exc:  # asn1crypto / cryptography parse errors
        raise DecodeError(f"not a usable chip public key: {type(exc).__name__}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise DecodeError("chip public key is neither EC nor DH")
    return key


def encode_public_key(key: ChipPublicKey) -> bytes:
    """Public key as sent in CA/TA: uncompressed EC point, or the DH value padded to |p|."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    return key.encode()


def _decode_like(reference: ChipPublicKey | ChipPrivateKey, data: bytes) -> ChipPublicKey:
    """The peer's public key from its encoding, in the group of ``reference``."""
    try:
        if isinstance(reference, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
            return ec.EllipticCurvePublicKey.from_encoded_point(reference.curve, data)
        if len(data) != reference.group.field_length:
            raise DecodeError("DH public value of the wrong length")
        return DHPublicKey(reference.group, reference.group.decode_element(data))
    except ValueError:
        raise DecodeError("public key is not a valid element of the group") from None


def compressed(key: ChipPublicKey | bytes, *, kind: str | None = None) -> bytes:
    """Comp() of TR-03110-3 A.2.2.3: the x-coordinate (EC), SHA-1 of the value (DH).

    Raw bytes are taken as an encoded key: ``04‖X‖Y`` is EC unless ``kind="DH"``.
    """
    if isinstance(key, ec.EllipticCurvePublicKey):
        key = encode_public_key(key)
    elif isinstance(key, DHPublicKey):
        return key.group.compressed(key.encode())
    if kind != "DH" and key[:1] == b"\x04" and len(key) % 2 == 1:
        return key[1 : 1 + (len(key) - 1) // 2]
    return hashlib.sha1(key).digest()  # noqa: S324 - TR-03110 Comp() for DH (group unknown)


def shared_secret(private: ChipPrivateKey, public: ChipPublicKey) -> bytes:
    """K: the x-coordinate of the ECDH point, or the DH value padded to |p| (9303-11 §9.6)."""
    if isinstance(private, ec.EllipticCurvePrivateKey):
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise EncodeError("EC private key with a DH public key")
        return private.exchange(ec.ECDH(), public)
    if not isinstance(public, DHPublicKey) or public.group != private.group:
        raise EncodeError("DH private key with a public key of another group")
    return private.group.shared_secret(private.x, public.encode())


def _channel(secret: bytes, cipher: Cipher) -> SecureChannel:
    return SecureChannel(SessionKeys.derive(cipher, secret))


def _key_ref(key_id: int | None) -> bytes:
    if key_id is None:
        return b""
    return tlv.encode(0x84, key_id.to_bytes(max(1, (key_id.bit_length() + 7) // 8), "big"))


@dataclass(frozen=True, slots=True)
class CAResult:
    """After CA: the new secure channel (SSC 0) and the terminal's ephemeral public key, whose
    Comp() TA v1 signs (TR-03110-1 §3.4)."""

    channel: SecureChannel
    oid: str
    ephemeral_public_key: bytes = field(repr=False)

    @property
    def compressed_ephemeral_public_key(self) -> bytes:
        kind = CA_OIDS[self.oid][0]
        return compressed(self.ephemeral_public_key, kind=kind)


class CAProtocol:
    """Terminal side of Chip Authentication v1.

    ``chip_public_key`` comes from DG14; ``oid`` (from ChipAuthenticationInfo) chooses the
    cipher, else ``cipher`` does (default AES-128). ``ephemeral_key`` is injected for replays;
    otherwise one is generated in the chip key's group.
    """

    def __init__(
        self,
        chip_public_key: ChipPublicKey | bytes,
        *,
        oid: str | None = None,
        cipher: Cipher = "AES-128",
        key_id: int | None = None,
        ephemeral_key: ChipPrivateKey | None = None,
    ) -> None:
        if isinstance(chip_public_key, bytes):
            chip_public_key = load_public_key(chip_public_key)
        pk = self._chip_key = chip_public_key
        kind = "ECDH" if isinstance(pk, ec.EllipticCurvePublicKey) else "DH"
        self.oid, self.cipher = _select(kind, oid, cipher)
        self._key_id = key_id
        if ephemeral_key is None:
            if isinstance(pk, ec.EllipticCurvePublicKey):
                ephemeral_key = ec.generate_private_key(pk.curve)
            else:
                ephemeral_key = DHPrivateKey.generate(pk.group)
        self._eph = ephemeral_key
        self._eph_public = encode_public_key(ephemeral_key.public_key())
        self._state = "new"

    def start(self) -> CommandAPDU:
        if self._state != "new":
            raise AuthenticationError("protocol already started", protocol=_PROTOCOL)
        ref = _key_ref(self._key_id)
        if self.cipher == "3DES":
            self._state = "kat"
            return CommandAPDU(0x00, 0x22, 0x41, 0xA6, tlv.encode(0x91, self._eph_public) + ref)
        self._state = "set_at"
        oid = asn1_keys.ObjectIdentifier(self.oid).contents
        return CommandAPDU(0x00, 0x22, 0x41, 0xA4, tlv.encode(0x80, oid) + ref)

    def receive(self, response: ResponseAPDU) -> CommandAPDU | CAResult:
        step = {"kat": "MSE:Set KAT", "set_at": "MSE:Set AT", "ga": "GENERAL AUTHENTICATE"}.get(
            self._state, self._state
        )
        if self._state not in ("kat", "set_at", "ga"):
            raise AuthenticationError(f"no response expected in state {self._state}",
                                      protocol=_PROTOCOL)  # fmt: skip
        if not response.ok:
            self._state = "failed"
            raise AuthenticationError(f"chip answered {response.sw:04X}", protocol=_PROTOCOL,
                                      step=step)  # fmt: skip
        if self._state == "set_at":
            self._state = "ga"
            body = tlv.encode(0x7C, tlv.encode(0x80, self._eph_public))
            return CommandAPDU(0x00, 0x86, 0x00, 0x00, body, ne=256)
        if self._state == "ga" and response.data not in (b"", b"\x7c\x00"):
            self._state = "failed"
            raise AuthenticationError("unexpected dynamic authentication data",
                                      protocol=_PROTOCOL, step=step)  # fmt: skip
        self._state = "done"
        secret = shared_secret(self._eph, self._chip_key)
        return CAResult(_channel(secret, self.cipher), self.oid, self._eph_public)


class CAChip:
    """Chip side of Chip Authentication v1 with the static key pair of DG14.

    After success :attr:`result` holds the new channel; the caller switches to it after the
    answer to the last command has been sent (``SecureChipSession.next_channel``).
    """

    def __init__(
        self, private_key: ChipPrivateKey, *, oid: str | None = None, cipher: Cipher = "AES-128",
        key_id: int | None = None,
    ) -> None:  # fmt: skip
        self._key = private_key
        kind = "ECDH" if isinstance(private_key, ec.EllipticCurvePrivateKey) else "DH"
        self.oid, self.cipher = _select(kind, oid or None, cipher)
        self._key_id = key_id
        self._at_set = False
        self.result: CAResult | None = None

    @property
    def done(self) -> bool:
        return self.result is not None

    def _key_id_ok(self, items: list[tlv.TLV]) -> bool:
        ref = tlv.find(items, 0x84)
        if ref is None:
            return True  # the only key, or the default one
        return self._key_id is not None and int.from_bytes(ref.value, "big") == self._key_id

    def _agree(self, encoded: bytes) -> ResponseAPDU | None:
        try:
            peer = _decode_like(self._key, encoded)
        except DecodeError:
            return ResponseAPDU(b"", StatusWord.WRONG_DATA)
        secret = shared_secret(self._key, peer)
        self.result = CAResult(_channel(secret, self.cipher), self.oid, encoded)
        return None

    def handle(self, command: CommandAPDU) -> ResponseAPDU:
        try:
            items = tlv.decode_all(command.data)
        except DecodeError:
            return ResponseAPDU(b"", StatusWord.WRONG_DATA)
        if command.ins == 0x22 and (command.p1, command.p2) == (0x41, 0xA6):
            key = tlv.find(items, 0x91)
            if self.cipher != "3DES" or key is None or not self._key_id_ok(items):
                return ResponseAPDU(b"", StatusWord.REFERENCE_DATA_NOT_USABLE)
            return self._agree(key.value) or ResponseAPDU(b"")
        if command.ins == 0x22 and (command.p1, command.p2) == (0x41, 0xA4):
            oid = tlv.find(items, 0x80)
            expected = asn1_keys.ObjectIdentifier(self.oid).contents
            if oid is None or oid.value != expected or not self._key_id_ok(items):
                return ResponseAPDU(b"", StatusWord.REFERENCE_DATA_NOT_USABLE)
            self._at_set = True
            return ResponseAPDU(b"")
        if command.ins == 0x86 and self._at_set:
            self._at_set = False
            outer = tlv.find(items, 0x7C)
            try:
                inner = tlv.find(outer.children(), 0x80) if outer is not None else None
            except DecodeError:
                inner = None
            if inner is None:
                return ResponseAPDU(b"", StatusWord.WRONG_DATA)
            return self._agree(inner.value) or ResponseAPDU(b"\x7c\x00")
        if command.ins == 0x86:
            return ResponseAPDU(b"", StatusWord.CONDITIONS_NOT_SATISFIED)
        return ResponseAPDU(b"", StatusWord.INS_NOT_SUPPORTED)
