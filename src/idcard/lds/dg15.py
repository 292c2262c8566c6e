"""DG15: the Active Authentication public key (ICAO Doc 9303-10 §4.7.15, 9303-11 §6.1).

DG15 (tag ``6F``) holds one DER ``SubjectPublicKeyInfo``: RSA, or EC whose domain parameters
are named or — as many documents carry them — explicit. :func:`load_public_key` turns such a
key (and the TR-03110 forms naming standardized domain parameters) into a ``cryptography``
public key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from asn1crypto import core, keys
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
)

from idcard import tlv
from idcard.asn1 import oids
from idcard.asn1.parse import load_strict, split_algorithm_identifier
from idcard.asn1.security_infos import SubjectPublicKeyInfo
from idcard.errors import DecodeError, IdkartaError

__all__ = ["DG15", "PublicKey", "curve_for_parameter_id", "load_public_key"]

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
"""The public key types this module returns."""

_PARAMETER_ID_CURVES: dict[int, type[ec.EllipticCurve]] = {
    8: ec.SECP192R1,
    10: ec.SECP224R1,
    12: ec.SECP256R1,
    13: ec.BrainpoolP256R1,
    15: ec.SECP384R1,
    16: ec.BrainpoolP384R1,
    17: ec.BrainpoolP512R1,
    18: ec.SECP521R1,
}
# Curves of 9303-11 §9.5.1 that `cryptography` implements; brainpoolP192r1/P224r1/P320r1 it
# does not, so keys on them decode but cannot become `cryptography` objects.
_KNOWN_CURVES: tuple[type[ec.EllipticCurve], ...] = tuple(_PARAMETER_ID_CURVES.values())


def curve_for_parameter_id(parameter_id: int) -> ec.EllipticCurve | None:
    """The ``cryptography`` curve of a standardized domain parameter id (9303-11 §9.5.1)."""
    curve = _PARAMETER_ID_CURVES.get(parameter_id)
    return curve() if curve is not None else None


def _match_explicit_curve(domain: keys.SpecifiedECDomain) -> ec.EllipticCurve | None:
    """The named curve that explicit prime-field parameters describe, or None.

    Checked with the curve's own arithmetic: the generator must be the named curve's, two of
    its points (G, 2G) must satisfy y² = x³ + ax + b mod p, and (n−1)·G must be −G.
    """
    if domain["field_id"]["field_type"].native != "prime_field":
        return None
    p = domain["field_id"]["parameters"].native
    a = int.from_bytes(domain["curve"]["a"].native, "big")
    b = int.from_bytes(domain["curve"]["b"].native, "big")
    base = domain["base"].native
    n = domain["order"].native
    if not isinstance(p, int) or not isinstance(n, int) or n < 2 or base[:1] != b"\x04":
        return None
    size = (len(base) - 1) // 2
    gx, gy = int.from_bytes(base[1 : 1 + size], "big"), int.from_bytes(base[1 + size :], "big")
    for curve_type in _KNOWN_CURVES:
        curve = curve_type()
        if curve.key_size != p.bit_length():
            continue
        g = ec.derive_private_key(1, curve).public_key().public_numbers()
        if (g.x, g.y) != (gx, gy):
            continue
        g2 = ec.derive_private_key(2, curve).public_key().public_numbers()
        if any((pt.y * pt.y - pt.x**3 - a * pt.x - b) % p for pt in (g, g2)):
            continue
        try:
            minus_g = ec.derive_private_key(n - 1, curve).public_key().public_numbers()
        except ValueError:
            continue
        if (minus_g.x, minus_g.y) == (gx, (-gy) % p):
            return curve
    return None


def load_public_key(spki_der: bytes) -> PublicKey:
    """A ``cryptography`` public key from a DER SubjectPublicKeyInfo.

    Accepts RSA, EC with named or explicit parameters (mapped to the named curve they equal),
    and TR-03110 keys whose algorithm is ``standardizedDomainParameters`` with an EC id
    (TR-03110-3 A.2.1.1). Raises :class:`DecodeError` when the key cannot be represented
    (Diffie-Hellman keys included).
    """
    try:
        key = load_der_public_key(spki_der)
    except (UnsupportedAlgorithm, ValueError, TypeError):
        key = None
    if isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return key
    try:
        curve, point = _curve_and_point(spki_der)
        if curve is None:
            raise DecodeError("public key on domain parameters cryptography does not support")
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
    except IdkartaError:
        raise
    except Exception as exc:
        raise DecodeError(f"unusable public key: {type(exc).__name__}") from exc


def _curve_and_point(spki_der: bytes) -> tuple[ec.EllipticCurve | None, bytes]:
    info = SubjectPublicKeyInfo.load(spki_der, strict=True)
    point = bytes(info["subject_public_key"].native)
    algorithm, params = split_algorithm_identifier(bytes(info["algorithm"].dump()))
    if params is None:
        return None, point
    if algorithm == oids.STANDARDIZED_DOMAIN_PARAMETERS_OID:
        parameter_id = core.Integer.load(params, strict=True).native
        return curve_for_parameter_id(parameter_id), point
    if algorithm == "1.2.840.10045.2.1":  # id-ecPublicKey (RFC 5480)
        domain = load_strict(keys.ECDomainParameters, params)
        if domain.name == "specified":
            return _match_explicit_curve(domain.chosen), point
    return None, point


def _guarded_spki(data: bytes, offset: int) -> keys.PublicKeyInfo:
    info = load_strict(keys.PublicKeyInfo, data, offset=offset, what="SubjectPublicKeyInfo")
    try:
        _ = info.native  # also parses the key inside the BIT STRING (RSAPublicKey, EC point)
        split_algorithm_identifier(bytes(info["algorithm"].dump()))
        return info
    except IdkartaError:
        raise
    except Exception as exc:
        raise DecodeError(f"SubjectPublicKeyInfo: {exc}", offset=offset) from exc


@dataclass(frozen=True, slots=True)
class DG15:
    """Data group 15: the chip's Active Authentication public key (9303-10 §4.7.15)."""

    TAG: ClassVar[int] = 0x6F
    NAME: ClassVar[str] = "DG15"
    public_key_info: bytes
    """DER SubjectPublicKeyInfo, exactly as stored."""
    raw: bytes = field(default=b"", repr=False, compare=False)

    def __post_init__(self) -> None:
        _guarded_spki(self.public_key_info, 0)

    @classmethod
    def decode(cls, data: bytes) -> DG15:
        """Decode DG15 (tag 6F) holding one SubjectPublicKeyInfo; trailing 00/FF allowed."""
        data = bytes(data)
        outer = tlv.decode_one(data, expected_tag=cls.TAG)
        inner, end = tlv.read_tlv(outer.value, base_offset=outer.value_offset)
        if inner.tag != 0x30:
            raise DecodeError("DG15 must hold a SubjectPublicKeyInfo SEQUENCE", offset=inner.offset)
        if end != len(outer.value):
            raise DecodeError(
                "bytes after the SubjectPublicKeyInfo", offset=outer.value_offset + end
            )
        spki = outer.value
        _guarded_spki(spki, outer.value_offset)
        return cls(public_key_info=spki, raw=data)

    @classmethod
    def from_public_key(cls, key: PublicKey) -> DG15:
        """DG15 of a ``cryptography`` public key (named-curve form for EC)."""
        der = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        return cls(public_key_info=der)

    def encode(self) -> bytes:
        return tlv.encode(self.TAG, self.public_key_info)

    @property
    def algorithm(self) -> str:
        """``rsa`` or ``ec`` (asn1crypto's name of the key algorithm)."""
        return str(keys.PublicKeyInfo.load(self.public_key_info).algorithm)

    @property
    def public_key(self) -> PublicKey:
        """The key as a ``cryptography`` object (DecodeError if its curve is unsupported)."""
        return load_public_key(self.public_key_info)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.NAME, "algorithm": self.algorithm}
        try:
            key = self.public_key
        except DecodeError:
            key = None
        if key is not None:
            out["key_size"] = key.key_size
        if isinstance(key, ec.EllipticCurvePublicKey):
            out["curve"] = key.curve.name
        out["public_key_info"] = self.public_key_info.hex().upper()
        return out
