"""EC public keys with explicit (specified) domain parameters (RFC 3279 §2.3.5; BSI TR-03111
§4.1) — hazmat.

Many CSCA, DS and master-list signer keys (Germany's among them) carry their curve as explicit
``SpecifiedECDomain`` parameters instead of a curve OID; ``cryptography`` only maps such
parameters to secp256r1, secp384r1 and secp521r1. :func:`load_ec_public_key` reads any EC
SubjectPublicKeyInfo:

* parameters equal (p, a, b, G, n and h when given) to a named curve — NIST or brainpool, the
  constants taken from the maintained ``ecdsa`` package — are that curve: ``cryptography`` verifies
  when it implements the curve, ``ecdsa`` otherwise (brainpoolP160/192/224/320r1, the t1 curves);
* any other prime curve is verified with ``ecdsa`` after checking the parameters are sane
  (:func:`check_domain`): p prime, a and b in the field, a non-singular curve, G on it, n prime,
  h·n within the Hasse bound and n·G the point at infinity.

The curve arithmetic is always a maintained library's, never this module's. Parameters that fail
a check raise :class:`InvalidDomainParameters`; a signature that does not verify gives False.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass

from asn1crypto import keys
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from ecdsa import BadSignatureError, VerifyingKey  # type: ignore[import-untyped]
from ecdsa import curves as _ecdsa_curves
from ecdsa.der import UnexpectedDER  # type: ignore[import-untyped]
from ecdsa.ellipticcurve import INFINITY, CurveFp, PointJacobi  # type: ignore[import-untyped]
from ecdsa.errors import MalformedPointError  # type: ignore[import-untyped]
from ecdsa.numbertheory import is_prime  # type: ignore[import-untyped]
from ecdsa.util import MalformedSignature, sigdecode_der  # type: ignore[import-untyped]

from idcard.crypto import HASH_ALGORITHMS
from idcard.errors import DecodeError

__all__ = [
    "ECDomain",
    "ECPublicKey",
    "InvalidDomainParameters",
    "check_domain",
    "domain_of",
    "explicit_public_key_info",
    "load_ec_public_key",
    "named_curve_of",
]

_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
_MIN_FIELD_BITS = 160
_MAX_FIELD_BITS = 1024


class InvalidDomainParameters(DecodeError):
    """Explicit EC domain parameters that do not describe a usable prime curve."""


@dataclass(frozen=True, slots=True)
class ECDomain:
    """y² = x³ + ax + b over GF(p), base point (gx, gy) of prime order n, cofactor h (None when
    the parameters omit it)."""

    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int
    h: int | None

    def cofactor(self) -> int:
        """h as given, else the one the Hasse bound allows (TR-03111 §2.3.1)."""
        return self.h if self.h is not None else (self.p + 1 + self.n // 2) // self.n


# The named curves ``cryptography`` implements.
_CRYPTOGRAPHY_NAMES: dict[str, Callable[[], ec.EllipticCurve]] = {
    "secp192r1": ec.SECP192R1, "secp224r1": ec.SECP224R1, "secp256r1": ec.SECP256R1,
    "secp384r1": ec.SECP384R1, "secp521r1": ec.SECP521R1, "secp256k1": ec.SECP256K1,
    "brainpoolP256r1": ec.BrainpoolP256R1, "brainpoolP384r1": ec.BrainpoolP384R1,
    "brainpoolP512r1": ec.BrainpoolP512R1,
}  # fmt: skip
_NAMED = (
    "NIST192p", "NIST224p", "NIST256p", "NIST384p", "NIST521p", "SECP256k1",
    "BRAINPOOLP160r1", "BRAINPOOLP192r1", "BRAINPOOLP224r1", "BRAINPOOLP256r1",
    "BRAINPOOLP320r1", "BRAINPOOLP384r1", "BRAINPOOLP512r1",
    "BRAINPOOLP160t1", "BRAINPOOLP192t1", "BRAINPOOLP224t1", "BRAINPOOLP256t1",
    "BRAINPOOLP320t1", "BRAINPOOLP384t1", "BRAINPOOLP512t1",
)  # fmt: skip


def _standard_name(ecdsa_name: str) -> str:
    """SEC 2 / RFC 5639 spelling (``secp256r1``, ``brainpoolP256r1``) of an ``ecdsa`` curve."""
    if ecdsa_name.startswith("NIST"):
        return f"secp{ecdsa_name[4:-1]}r1"
    return ecdsa_name.replace("BRAINPOOLP", "brainpoolP").replace("SECP", "secp")


def _domain_of_curve(curve: object) -> ECDomain:
    c = curve.curve  # type: ignore[attr-defined]
    g = curve.generator  # type: ignore[attr-defined]
    p = int(c.p())  # ints, not gmpy2's mpz; ecdsa keeps the NIST a as -3: reduce it
    return ECDomain(
        p, int(c.a()) % p, int(c.b()) % p, int(g.x()), int(g.y()), int(g.order()),
        int(c.cofactor()),
    )  # fmt: skip


@functools.cache
def _named() -> dict[tuple[int, int, int, int, int, int], str]:
    out = {}
    for name in _NAMED:
        d = _domain_of_curve(getattr(_ecdsa_curves, name))
        out[(d.p, d.a, d.b, d.gx, d.gy, d.n)] = _standard_name(name)
    return out


def named_curve_of(domain: ECDomain) -> str | None:
    """The name (``secp256r1``, ``brainpoolP224r1``…) of the named curve ``domain`` equals, or
    None. A cofactor, when given, must be the curve's too."""
    name = _named().get((domain.p, domain.a, domain.b, domain.gx, domain.gy, domain.n))
    if name is None:
        return None
    if domain.h is not None and domain.h != _by_name()[name].curve.cofactor():  # type: ignore[attr-defined]
        return None
    return name


@functools.cache
def _by_name() -> dict[str, object]:
    return {_standard_name(n): getattr(_ecdsa_curves, n) for n in _NAMED}


def _point(encoded: bytes, p: int, what: str) -> tuple[int, int]:
    size = (p.bit_length() + 7) // 8
    if len(encoded) != 1 + 2 * size or encoded[0] != 0x04:
        raise InvalidDomainParameters(f"{what} is not an uncompressed point of the field size")
    return int.from_bytes(encoded[1 : 1 + size], "big"), int.from_bytes(encoded[1 + size :], "big")


def domain_of(specified: keys.SpecifiedECDomain) -> ECDomain:
    """The integers of an ASN.1 SpecifiedECDomain; a non-prime field or a malformed value raises
    :class:`InvalidDomainParameters` (nothing is checked beyond the shape: see
    :func:`check_domain`)."""
    try:
        field_type = specified["field_id"]["field_type"].native
        if field_type != "prime_field":
            raise InvalidDomainParameters(f"EC field type {field_type!r} is not a prime field")
        p = specified["field_id"]["parameters"].native
        a = int.from_bytes(specified["curve"]["a"].native, "big")
        b = int.from_bytes(specified["curve"]["b"].native, "big")
        base = bytes(specified["base"].native)
        n = specified["order"].native
        h = specified["cofactor"].native
    except InvalidDomainParameters:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidDomainParameters(f"EC domain parameters do not decode: {exc}") from None
    if not isinstance(p, int) or not isinstance(n, int) or p < 5 or n < 2:
        raise InvalidDomainParameters("EC domain parameters: p or n is missing or too small")
    gx, gy = _point(base, p, "the base point")
    return ECDomain(p, a, b, gx, gy, n, h if isinstance(h, int) else None)


@functools.lru_cache(maxsize=64)
def check_domain(domain: ECDomain) -> None:
    """Raise :class:`InvalidDomainParameters` unless ``domain`` is a sane prime curve: p prime of
    160 to 1024 bits, 0 ≤ a, b < p, 4a³ + 27b² ≠ 0, G on the curve, n prime, h·n within
    p + 1 ± 2√p (Hasse) and n·G = O (TR-03111 §2.3; SEC 1 §3.1.1.2.1)."""
    p, a, b, n = domain.p, domain.a, domain.b, domain.n
    bits = p.bit_length()
    if not _MIN_FIELD_BITS <= bits <= _MAX_FIELD_BITS:
        raise InvalidDomainParameters(f"EC field of {bits} bits (160 to 1024 accepted)")
    if not is_prime(p):
        raise InvalidDomainParameters("EC field size p is not prime")
    if not (0 <= a < p and 0 <= b < p):
        raise InvalidDomainParameters("EC coefficient a or b is not a field element")
    if (4 * a**3 + 27 * b**2) % p == 0:
        raise InvalidDomainParameters("EC curve is singular (4a³ + 27b² = 0 mod p)")
    if not (0 <= domain.gx < p and 0 <= domain.gy < p) or (
        domain.gy**2 - domain.gx**3 - a * domain.gx - b
    ) % p:
        raise InvalidDomainParameters("EC base point is not on the curve")
    if not is_prime(n):
        raise InvalidDomainParameters("EC order n is not prime")
    h = domain.cofactor()
    if h < 1 or abs(h * n - (p + 1)) > 2 * math.isqrt(p) + 2:
        raise InvalidDomainParameters("EC cofactor and order violate the Hasse bound")
    if _generator(domain) * n != INFINITY:
        raise InvalidDomainParameters("EC base point does not have order n")


def _curve_fp(domain: ECDomain) -> CurveFp:
    return CurveFp(domain.p, domain.a, domain.b, domain.cofactor())


def _generator(domain: ECDomain) -> PointJacobi:
    return PointJacobi(_curve_fp(domain), domain.gx, domain.gy, 1, domain.n, generator=True)


@functools.lru_cache(maxsize=64)
def _ecdsa_curve(domain: ECDomain) -> object:
    name = named_curve_of(domain)
    if name is not None:
        return _by_name()[name]
    return _ecdsa_curves.Curve("explicit", _curve_fp(domain), _generator(domain), (1, 3, 9999))


@dataclass(frozen=True, slots=True, eq=False)
class ECPublicKey:
    """An EC public key on any sane prime curve; ``curve_name`` is the named curve's
    (``brainpoolP256r1``) or ``"explicit"``. Verifies with ``cryptography`` when it
    implements the curve, else with ``ecdsa``."""

    curve_name: str
    key_size: int
    _crypto: ec.EllipticCurvePublicKey | None
    _ecdsa: object | None

    def verify(self, signature_der: bytes, data: bytes, hash_name: str) -> bool:
        """Whether the DER Ecdsa-Sig-Value ``signature_der`` over ``data`` verifies."""
        if self._crypto is not None:
            try:
                self._crypto.verify(signature_der, data, ec.ECDSA(HASH_ALGORITHMS[hash_name]()))
            except (InvalidSignature, ValueError):
                return False
            return True
        try:
            return bool(
                self._ecdsa.verify(  # type: ignore[union-attr]
                    signature_der, data, hashfunc=getattr(hashlib, hash_name),
                    sigdecode=sigdecode_der, allow_truncate=True,
                )
            )  # fmt: skip
        except (BadSignatureError, MalformedSignature, UnexpectedDER, ValueError):
            return False

    def verify_plain(self, signature: bytes, data: bytes, hash_name: str) -> bool:
        """Whether the plain r ‖ s ``signature`` (BSI TR-03111 §5.2.1) verifies."""
        size = (self.key_size + 7) // 8
        if len(signature) != 2 * size:
            return False
        r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        return self.verify(encode_dss_signature(r, s), data, hash_name)

    @property
    def cryptography_key(self) -> ec.EllipticCurvePublicKey | None:
        """The ``cryptography`` key, when ``cryptography`` implements the curve."""
        return self._crypto


def _from_domain(domain: ECDomain, point: bytes) -> ECPublicKey:
    name = named_curve_of(domain)
    if name is None:
        check_domain(domain)
    bits = domain.p.bit_length()
    make = _CRYPTOGRAPHY_NAMES.get(name or "")
    if make is not None:
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(make(), point)
        except ValueError:
            raise InvalidDomainParameters("EC public point is not on the curve") from None
        return ECPublicKey(name or "", bits, key, None)
    try:
        vk = VerifyingKey.from_string(point, curve=_ecdsa_curve(domain), validate_point=True)
    except (MalformedPointError, ValueError, AssertionError):
        raise InvalidDomainParameters("EC public point is not on the curve") from None
    if domain.cofactor() != 1 and vk.pubkey.point * domain.n != INFINITY:
        raise InvalidDomainParameters("EC public point is not in the subgroup of order n")
    return ECPublicKey(name or "explicit", bits, None, vk)


def load_ec_public_key(spki_der: bytes) -> ECPublicKey:
    """An EC key from a DER SubjectPublicKeyInfo with named or explicit parameters.

    Not an EC key, or a named curve neither library knows: :class:`DecodeError`; explicit
    parameters that fail :func:`check_domain`, or a point off the curve:
    :class:`InvalidDomainParameters`.
    """
    try:
        info = keys.PublicKeyInfo.load(spki_der, strict=True)
        algorithm = info["algorithm"]["algorithm"].dotted
        params = info["algorithm"]["parameters"]
        point = bytes(info["public_key"].native) if algorithm == _EC_PUBLIC_KEY else b""
    except (ValueError, TypeError, KeyError) as exc:
        raise DecodeError(f"SubjectPublicKeyInfo does not decode: {exc}") from None
    if algorithm != _EC_PUBLIC_KEY:
        raise DecodeError(f"not an EC public key (algorithm {algorithm})")
    if params.name == "specified":
        return _from_domain(domain_of(params.chosen), point)
    if params.name == "named":  # a curve OID cryptography lacks (brainpoolP224r1…)
        oid = tuple(int(x) for x in params.chosen.dotted.split("."))
        for name, curve in _by_name().items():
            if getattr(curve, "oid", None) == oid and name not in _CRYPTOGRAPHY_NAMES:
                return _from_domain(_domain_of_curve(curve), point)
    try:
        key = serialization.load_der_public_key(spki_der)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise DecodeError(f"EC public key not supported: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise DecodeError("not an EC public key")
    return ECPublicKey(key.curve.name, key.curve.key_size, key, None)


def explicit_public_key_info(curve_name: str, point: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of the uncompressed ``point`` on the named curve
    ``curve_name`` (``brainpoolP256r1``…), its domain written out as explicit SpecifiedECDomain
    parameters (version 1, with the cofactor), as Germany's CSCA keys are (RFC 3279 §2.3.5)."""
    curve = _by_name().get(curve_name)
    if curve is None:
        raise DecodeError(f"unknown curve {curve_name!r}; one of {', '.join(sorted(_by_name()))}")
    d = _domain_of_curve(curve)
    size = (d.p.bit_length() + 7) // 8
    domain = keys.SpecifiedECDomain(
        {
            "version": "ecdpVer1",
            "field_id": {"field_type": "prime_field", "parameters": d.p},
            "curve": {"a": d.a.to_bytes(size, "big"), "b": d.b.to_bytes(size, "big")},
            "base": b"\x04" + d.gx.to_bytes(size, "big") + d.gy.to_bytes(size, "big"),
            "order": d.n,
            "cofactor": d.cofactor(),
        }
    )
    info = keys.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": "ec",
                "parameters": keys.ECDomainParameters(name="specified", value=domain),
            },
            "public_key": point,
        }
    )
    return bytes(info.dump())
