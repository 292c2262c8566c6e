"""Standardized domain parameters for PACE and Chip Authentication (ICAO 9303-11 §9.5.1) — hazmat.

ICAO Doc 9303-11 §9.5.1 (Table "Standardized Domain Parameters", shared with BSI TR-03110-3
§A.2.1.1) numbers the groups a chip may name by ``parameterId``:

======  ===========================================  ============
id      group                                        type
======  ===========================================  ============
0       1024-bit MODP, 160-bit prime-order subgroup  GFp (RFC 5114 §2.1)
1       2048-bit MODP, 224-bit prime-order subgroup  GFp (RFC 5114 §2.2)
2       2048-bit MODP, 256-bit prime-order subgroup  GFp (RFC 5114 §2.3)
8       NIST P-192 (secp192r1)                       ECP
9       brainpoolP192r1                              ECP
10      NIST P-224 (secp224r1)                       ECP
11      brainpoolP224r1                              ECP
12      NIST P-256 (secp256r1)                       ECP
13      brainpoolP256r1                              ECP
14      brainpoolP320r1                              ECP
15      NIST P-384 (secp384r1)                       ECP
16      brainpoolP384r1                              ECP
17      brainpoolP512r1                              ECP
18      NIST P-521 (secp521r1)                       ECP
======  ===========================================  ============

Ids 3–7 and 19–31 are reserved.

Two routes for points. On NIST P-256 (and any curve with exactly its constants) scalar
multiplications go through OpenSSL (``cryptography``), whose dedicated P-256 code is several
times faster: k·G from a private key, the ECKA shared secret by ECDH, and k·P for any other
point P — PACE Generic and Integrated Mapping compute on a *mapped* generator G' and need whole
points (H, G', keys on G'), and ECDH gives only x-coordinates, so k·P is rebuilt from x(k·P) and
x((k+1)·P) (see ``ECDomainParameters._openssl_multiply``). Point addition (G' = s·G + H) and every
other curve use python-ecdsa (OpenSSL's generic code is not faster there): the curve constants
(p, a, b, G, n, h of FIPS 186-4 / RFC 5639) and the Jacobian point arithmetic of the maintained
``ecdsa`` package (tlsfuzzer/python-ecdsa), with ``gmpy2`` when installed (about 0.5 ms per P-256
multiplication on an arbitrary point). ``benchmarks/bench_pace.py`` times a PACE-GM P-256
handshake against the python-ecdsa-only route; the tests check both routes give the same points.
DH uses Python's three-argument ``pow``.

Every group here offers the same byte-level interface, so PACE and Chip Authentication never
branch on DH versus ECDH: public keys are encoded as ICAO 9303-11 §9.4.5 says (uncompressed
point ``04‖X‖Y``, or the unsigned integer padded to the length of p), received keys are
validated on decoding (point on the curve, or 1 < y < p-1 and y^q = 1, RFC 2631 §2.1.5), and
:class:`~idcard.errors.DecodeError` is the only error a bad key raises.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from cryptography.hazmat.primitives.asymmetric import ec
from ecdsa import curves as _ecdsa_curves  # type: ignore[import-untyped]
from ecdsa.ellipticcurve import INFINITY, CurveFp, PointJacobi  # type: ignore[import-untyped]

from idcard.errors import DecodeError, EncodeError

__all__ = [
    "DHDomainParameters",
    "DomainParameters",
    "ECDomainParameters",
    "ECPoint",
    "STANDARDIZED_DOMAIN_PARAMETERS",
    "random_scalar",
    "standardized",
]

ECPoint = tuple[int, int]
"""An affine point (x, y); the point at infinity is never a valid key and is not representable."""

Rng = Callable[[int], bytes]


def random_scalar(order: int, rng: Rng) -> int:
    """A private key uniform in [1, order-1] (64 extra random bits, then reduce: FIPS 186-4
    B.4.1), from an injected byte source so tests can replay it."""
    nbytes = (order.bit_length() + 7) // 8 + 8
    return int.from_bytes(rng(nbytes), "big") % (order - 1) + 1


def _octets(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


@dataclass(frozen=True, slots=True, repr=False)
class ECDomainParameters:
    """Prime-curve domain parameters y² = x³ + ax + b over GF(p), base point G of order n,
    cofactor h (ICAO 9303-11 §9.5.1, BSI TR-03111 §2.3)."""

    name: str
    parameter_id: int | None
    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int
    h: int

    kind: Literal["ECDH"] = "ECDH"

    def __repr__(self) -> str:
        return f"ECDomainParameters({self.name!r}, parameter_id={self.parameter_id})"

    @property
    def generator(self) -> ECPoint:
        return (self.gx, self.gy)

    @property
    def order(self) -> int:
        """Order of the base point (the private-key range is [1, order-1])."""
        return self.n

    @property
    def field_length(self) -> int:
        """Octets of a field element (FE2OS length)."""
        return (self.p.bit_length() + 7) // 8

    @property
    def order_length(self) -> int:
        """Octets of an integer modulo the group order."""
        return (self.n.bit_length() + 7) // 8

    @property
    def public_key_tag(self) -> int:
        """Tag of the public key in a public key data object (9303-11 §9.4.5: 0x86 point)."""
        return 0x86

    # -- points --------------------------------------------------------------------------

    def contains(self, point: ECPoint) -> bool:
        x, y = point
        if not (0 <= x < self.p and 0 <= y < self.p):
            return False
        return (y * y - (x * x * x + self.a * x + self.b)) % self.p == 0

    def _jacobi(self, point: ECPoint) -> PointJacobi:
        return PointJacobi(_ecdsa_curve(self), point[0], point[1], 1, self.n)

    @staticmethod
    def _affine(point: PointJacobi) -> ECPoint:
        if point == INFINITY or point.x() is None:
            raise DecodeError("the computation gave the point at infinity")
        return (int(point.x()), int(point.y()))

    def _openssl_key(self, k: int) -> ec.EllipticCurvePrivateKey | None:
        """k as an OpenSSL private key on the OpenSSL route (NIST P-256), else None."""
        curve = _openssl_curve(self)
        if curve is None:
            return None
        k %= self.n
        if not k:
            raise DecodeError("the computation gave the point at infinity")
        return ec.derive_private_key(k, curve)

    def multiply(self, k: int, point: ECPoint | None = None) -> ECPoint:
        """k·P (k·G when ``point`` is None); the point at infinity raises DecodeError.

        On the OpenSSL route (NIST P-256) both go through OpenSSL: the same points.
        """
        if point is None:
            key = self._openssl_key(k)
            if key is not None:
                numbers = key.public_key().public_numbers()
                return (numbers.x, numbers.y)
            return self._affine(_ecdsa_generator(self) * k)
        product = self._openssl_multiply(k, point)
        if product is not None:
            return product
        return self._affine(self._jacobi(point) * k)

    def _openssl_multiply(self, k: int, point: ECPoint) -> ECPoint | None:
        """k·P for any point P of the curve through OpenSSL's ECDH, which gives x-coordinates
        only: x(k·P) and x((k+1)·P); y is the square root of x³ + ax + b (p ≡ 3 mod 4) whose
        sign makes (x, y) + P have the second x (the other sign gives -k·P + P, whose x differs
        unless 2·P or 2·k·P is the point at infinity, impossible in a group of prime order).
        None off the OpenSSL route, for p ≢ 3 mod 4, or when P is not on the curve."""
        curve = _openssl_curve(self)
        if curve is None or self.p % 4 != 3 or not self.contains(point):
            return None
        k %= self.n
        if not k:
            raise DecodeError("the computation gave the point at infinity")
        if k == 1:
            return point
        if k == self.n - 1:
            return (point[0], (self.p - point[1]) % self.p)
        peer = ec.EllipticCurvePublicNumbers(point[0], point[1], curve).public_key()
        x, x_next = (
            int.from_bytes(ec.derive_private_key(m, curve).exchange(ec.ECDH(), peer), "big")
            for m in (k, k + 1)
        )
        y = pow((x * x + self.a) * x + self.b, (self.p + 1) // 4, self.p)
        if self.add((x, y), point)[0] != x_next:
            y = self.p - y
        return (x, y)

    def add(self, p1: ECPoint, p2: ECPoint) -> ECPoint:
        return self._affine(self._jacobi(p1) + self._jacobi(p2))

    def encode_point(self, point: ECPoint) -> bytes:
        """Uncompressed encoding 04‖X‖Y (9303-11 §9.4.5, TR-03111 §3.2.1)."""
        n = self.field_length
        return b"\x04" + _octets(point[0], n) + _octets(point[1], n)

    def decode_point(self, data: bytes) -> ECPoint:
        """Decode an uncompressed point and check it lies on the curve (not at infinity)."""
        n = self.field_length
        if len(data) != 1 + 2 * n or data[:1] != b"\x04":
            raise DecodeError(f"not an uncompressed {self.name} point ({len(data)} bytes)")
        point = (int.from_bytes(data[1 : 1 + n], "big"), int.from_bytes(data[1 + n :], "big"))
        if not self.contains(point):
            raise DecodeError(f"point is not on {self.name}")
        return point

    # -- the byte-level interface shared with DH -------------------------------------------

    def random_private_key(self, rng: Rng) -> int:
        return random_scalar(self.n, rng)

    def public_key(self, private_key: int, generator: bytes | None = None) -> bytes:
        """Encoded public key k·G (or k·G' for a mapped generator given encoded)."""
        base = None if generator is None else self.decode_point(generator)
        return self.encode_point(self.multiply(private_key, base))

    def validate_public_key(self, data: bytes) -> None:
        self.decode_point(data)

    def agree_element(self, private_key: int, peer_public_key: bytes) -> bytes:
        """The whole shared point h·k·PK encoded (ECKA with cofactor multiplication, TR-03111
        §4.3.1; the mapping point H of Generic Mapping)."""
        peer = self.decode_point(peer_public_key)
        k = private_key * self.h if self.h != 1 else private_key
        return self.encode_point(self.multiply(k, peer))

    def shared_secret(self, private_key: int, peer_public_key: bytes) -> bytes:
        """ECKA shared secret: the x-coordinate of h·k·PK as FE2OS (TR-03111 §4.3.1); OpenSSL's
        ECDH when ``cryptography`` knows the curve (cofactor 1, so h·k·PK = k·PK)."""
        if self.h == 1:
            peer = self.decode_point(peer_public_key)
            key = self._openssl_key(private_key)
            if key is not None:
                numbers = ec.EllipticCurvePublicNumbers(peer[0], peer[1], key.curve)
                return key.exchange(ec.ECDH(), numbers.public_key())
        element = self.agree_element(private_key, peer_public_key)
        return element[1 : 1 + self.field_length]

    def generic_map(self, nonce: int, h_element: bytes) -> bytes:
        """Generic Mapping G' = s·G + H (9303-11 §4.4.3.3.1)."""
        return self.encode_point(self.add(self.multiply(nonce), self.decode_point(h_element)))

    def integrated_map(self, x: int) -> bytes:
        """f_G of the Integrated Mapping: the point encoding of Brier et al. ("simplified SWU",
        9303-11 §4.4.3.3.2 and Appendix B.2, affine coordinates), defined for p ≡ 3 mod 4."""
        p, a, b = self.p, self.a, self.b
        if p % 4 != 3:
            raise EncodeError(f"the ICAO point encoding needs p ≡ 3 mod 4; {self.name} has not")
        t = x % p
        alpha = (-t * t) % p
        s = (alpha + alpha * alpha) % p
        if s == 0 or a % p == 0:
            raise EncodeError("degenerate input to the point encoding")
        x2 = (-b * (1 + s) * pow(a * s, p - 2, p)) % p
        x3 = (alpha * x2) % p
        h2 = (x2 * x2 * x2 + a * x2 + b) % p
        u = (t * t * t * h2) % p
        aa = pow(h2, p - 1 - (p + 1) // 4, p)
        point = (x2, aa * h2 % p) if aa * aa * h2 % p == 1 else (x3, aa * u % p)
        if self.h != 1:
            point = self.multiply(self.h, point)
        return self.encode_point(point)

    def compressed(self, public_key: bytes) -> bytes:
        """Comp(PK): the x-coordinate (9303-11 §9.6.1 / TR-03110-3 §A.2.2.3), e.g. ID_PICC."""
        return self.decode_point(public_key)[0].to_bytes(self.field_length, "big")

    def multiply_encoded(self, k: int, public_key: bytes) -> bytes:
        """k·PK for an encoded point (PACE-CAM check PK_Map,IC = CA_IC · PK_IC)."""
        return self.encode_point(self.multiply(k, self.decode_point(public_key)))


@dataclass(frozen=True, slots=True, repr=False)
class DHDomainParameters:
    """MODP group: prime p, generator g of the subgroup of prime order q (RFC 5114; X9.42).

    Groups compare by (p, g, q): a group read from a key's X9.42 parameters equals the
    standardized one with the same numbers. ``DHDomainParameters(p, g, q)`` makes an unnamed
    group (Chip Authentication keys of DG14 may use any).
    """

    p: int
    g: int
    q: int
    name: str = field(default="", compare=False)
    parameter_id: int | None = field(default=None, compare=False)

    kind: Literal["DH"] = "DH"

    def __repr__(self) -> str:
        return f"DHDomainParameters({self.name!r}, parameter_id={self.parameter_id})"

    @property
    def order(self) -> int:
        return self.q

    @property
    def field_length(self) -> int:
        return (self.p.bit_length() + 7) // 8

    @property
    def order_length(self) -> int:
        return (self.q.bit_length() + 7) // 8

    @property
    def public_key_tag(self) -> int:
        """Tag of the public key in a public key data object (9303-11 §9.4.5: 0x84 y)."""
        return 0x84

    def encode_element(self, y: int) -> bytes:
        """Unsigned integer padded to the length of p (9303-11 §9.4.5)."""
        return _octets(y, self.field_length)

    def decode_element(self, data: bytes) -> int:
        """Decode and validate a public value: 1 < y < p-1 and y^q ≡ 1 (RFC 2631 §2.1.5)."""
        if not data or len(data) > self.field_length + 1:
            raise DecodeError(f"DH public value of {len(data)} bytes for a "
                              f"{self.name or 'DH'} group")  # fmt: skip
        return self.validate_element(int.from_bytes(data, "big"))

    def validate_element(self, y: int) -> int:
        """``y`` when 1 < y < p-1 and y^q ≡ 1 (RFC 2631 §2.1.5), else DecodeError."""
        if not 1 < y < self.p - 1 or pow(y, self.q, self.p) != 1:
            raise DecodeError("DH public value is not in the prime-order subgroup")
        return y

    def random_private_key(self, rng: Rng) -> int:
        return random_scalar(self.q, rng)

    def public_key(self, private_key: int, generator: bytes | None = None) -> bytes:
        base = self.g if generator is None else self.decode_element(generator)
        return self.encode_element(pow(base, private_key, self.p))

    def validate_public_key(self, data: bytes) -> None:
        self.decode_element(data)

    def agree_element(self, private_key: int, peer_public_key: bytes) -> bytes:
        y = pow(self.decode_element(peer_public_key), private_key, self.p)
        if y == 1:
            raise DecodeError("DH key agreement gave the identity")
        return self.encode_element(y)

    def shared_secret(self, private_key: int, peer_public_key: bytes) -> bytes:
        """Shared secret y^x mod p as an octet string of the length of p (9303-11 §9.6)."""
        return self.agree_element(private_key, peer_public_key)

    def generic_map(self, nonce: int, h_element: bytes) -> bytes:
        """Generic Mapping g' = g^s · h mod p (9303-11 §4.4.3.3.1)."""
        h = self.decode_element(h_element)
        g2 = pow(self.g, nonce, self.p) * h % self.p
        if g2 <= 1:
            raise DecodeError("mapped generator is the identity")
        return self.encode_element(g2)

    def integrated_map(self, x: int) -> bytes:
        """f_g(x) = x^((p-1)/q) mod p; the identity is refused (9303-11 §4.4.3.3.2)."""
        g2 = pow(x % self.p, (self.p - 1) // self.q, self.p)
        if g2 <= 1:
            raise DecodeError("mapped generator is the identity")
        return self.encode_element(g2)

    def compressed(self, public_key: bytes) -> bytes:
        """Comp(PK) for DH: SHA-1 of the public value (TR-03110-3 §A.2.2.3)."""
        return hashlib.sha1(self.encode_element(self.decode_element(public_key))).digest()  # noqa: S324

    def multiply_encoded(self, k: int, public_key: bytes) -> bytes:
        return self.encode_element(pow(self.decode_element(public_key), k, self.p))


DomainParameters = ECDomainParameters | DHDomainParameters


@lru_cache(maxsize=64)
def _ecdsa_curve(params: ECDomainParameters) -> CurveFp:
    return CurveFp(params.p, params.a, params.b, params.h)


@lru_cache(maxsize=64)
def _ecdsa_generator(params: ECDomainParameters) -> PointJacobi:
    """Base point with ecdsa's precomputed table (fast k·G)."""
    return PointJacobi(_ecdsa_curve(params), params.gx, params.gy, 1, params.n, generator=True)


_OPENSSL_CURVES: dict[int, type[ec.EllipticCurve]] = {12: ec.SECP256R1}
"""parameterId → the ``cryptography`` curve of the same name, for the curves whose OpenSSL
multiplication is faster than python-ecdsa's: NIST P-256 alone (OpenSSL's dedicated P-256 code;
its generic code for brainpool, P-192 and P-384 measured slower than python-ecdsa with gmpy2
for a point other than G)."""


def _constants(params: ECDomainParameters) -> tuple[int, ...]:
    return (params.p, params.a, params.b, params.gx, params.gy, params.n, params.h)


@lru_cache(maxsize=64)
def _openssl_curve(params: ECDomainParameters) -> ec.EllipticCurve | None:
    """The OpenSSL curve of the route with exactly the constants of ``params`` (whatever its
    name or id), or None: then python-ecdsa does every multiplication."""
    for parameter_id, curve in _OPENSSL_CURVES.items():
        named = STANDARDIZED_DOMAIN_PARAMETERS[parameter_id]
        if isinstance(named, ECDomainParameters) and _constants(named) == _constants(params):
            return curve()
    return None


def _from_ecdsa(name: str, parameter_id: int, curve: object) -> ECDomainParameters:
    fp = curve.curve  # type: ignore[attr-defined]
    gen = curve.generator  # type: ignore[attr-defined]
    return ECDomainParameters(
        name=name,
        parameter_id=parameter_id,
        p=int(fp.p()),
        a=int(fp.a()),
        b=int(fp.b()),
        gx=int(gen.x()),
        gy=int(gen.y()),
        n=int(curve.order),  # type: ignore[attr-defined]
        h=int(fp.cofactor()),
    )


# RFC 5114 §2.1–2.3 (also ICAO 9303-11 Appendix G.2 prints group 0).
_MODP_1024_160 = DHDomainParameters(
    name="MODP-1024-160",
    parameter_id=0,
    p=int(
        "B10B8F96A080E01DDE92DE5EAE5D54EC52C99FBCFB06A3C69A6A9DCA52D23B61"
        "6073E28675A23D189838EF1E2EE652C013ECB4AEA906112324975C3CD49B83BF"
        "ACCBDD7D90C4BD7098488E9C219A73724EFFD6FAE5644738FAA31A4FF55BCCC0"
        "A151AF5F0DC8B4BD45BF37DF365C1A65E68CFDA76D4DA708DF1FB2BC2E4A4371",
        16,
    ),
    g=int(
        "A4D1CBD5C3FD34126765A442EFB99905F8104DD258AC507FD6406CFF14266D31"
        "266FEA1E5C41564B777E690F5504F213160217B4B01B886A5E91547F9E2749F4"
        "D7FBD7D3B9A92EE1909D0D2263F80A76A6A24C087A091F531DBF0A0169B6A28A"
        "D662A4D18E73AFA32D779D5918D08BC8858F4DCEF97C2A24855E6EEB22B3B2E5",
        16,
    ),
    q=int("F518AA8781A8DF278ABA4E7D64B7CB9D49462353", 16),
)
_MODP_2048_224 = DHDomainParameters(
    name="MODP-2048-224",
    parameter_id=1,
    p=int(
        "AD107E1E9123A9D0D660FAA79559C51FA20D64E5683B9FD1B54B1597B61D0A75"
        "E6FA141DF95A56DBAF9A3C407BA1DF15EB3D688A309C180E1DE6B85A1274A0A6"
        "6D3F8152AD6AC2129037C9EDEFDA4DF8D91E8FEF55B7394B7AD5B7D0B6C12207"
        "C9F98D11ED34DBF6C6BA0B2C8BBC27BE6A00E0A0B9C49708B3BF8A3170918836"
        "81286130BC8985DB1602E714415D9330278273C7DE31EFDC7310F7121FD5A074"
        "15987D9ADC0A486DCDF93ACC44328387315D75E198C641A480CD86A1B9E587E8"
        "BE60E69CC928B2B9C52172E413042E9B23F10B0E16E79763C9B53DCF4BA80A29"
        "E3FB73C16B8E75B97EF363E2FFA31F71CF9DE5384E71B81C0AC4DFFE0C10E64F",
        16,
    ),
    g=int(
        "AC4032EF4F2D9AE39DF30B5C8FFDAC506CDEBE7B89998CAF74866A08CFE4FFE3"
        "A6824A4E10B9A6F0DD921F01A70C4AFAAB739D7700C29F52C57DB17C620A8652"
        "BE5E9001A8D66AD7C17669101999024AF4D027275AC1348BB8A762D0521BC98A"
        "E247150422EA1ED409939D54DA7460CDB5F6C6B250717CBEF180EB34118E98D1"
        "19529A45D6F834566E3025E316A330EFBB77A86F0C1AB15B051AE3D428C8F8AC"
        "B70A8137150B8EEB10E183EDD19963DDD9E263E4770589EF6AA21E7F5F2FF381"
        "B539CCE3409D13CD566AFBB48D6C019181E1BCFE94B30269EDFE72FE9B6AA4BD"
        "7B5A0F1C71CFFF4C19C418E1F6EC017981BC087F2A7065B384B890D3191F2BFA",
        16,
    ),
    q=int("801C0D34C58D93FE997177101F80535A4738CEBCBF389A99B36371EB", 16),
)
_MODP_2048_256 = DHDomainParameters(
    name="MODP-2048-256",
    parameter_id=2,
    p=int(
        "87A8E61DB4B6663CFFBBD19C651959998CEEF608660DD0F25D2CEED4435E3B00"
        "E00DF8F1D61957D4FAF7DF4561B2AA3016C3D91134096FAA3BF4296D830E9A7C"
        "209E0C6497517ABD5A8A9D306BCF67ED91F9E6725B4758C022E0B1EF4275BF7B"
        "6C5BFC11D45F9088B941F54EB1E59BB8BC39A0BF12307F5C4FDB70C581B23F76"
        "B63ACAE1CAA6B7902D52526735488A0EF13C6D9A51BFA4AB3AD8347796524D8E"
        "F6A167B5A41825D967E144E5140564251CCACB83E6B486F6B3CA3F7971506026"
        "C0B857F689962856DED4010ABD0BE621C3A3960A54E710C375F26375D7014103"
        "A4B54330C198AF126116D2276E11715F693877FAD7EF09CADB094AE91E1A1597",
        16,
    ),
    g=int(
        "3FB32C9B73134D0B2E77506660EDBD484CA7B18F21EF205407F4793A1A0BA125"
        "10DBC15077BE463FFF4FED4AAC0BB555BE3A6C1B0C6B47B1BC3773BF7E8C6F62"
        "901228F8C28CBB18A55AE31341000A650196F931C77A57F2DDF463E5E9EC144B"
        "777DE62AAAB8A8628AC376D282D6ED3864E67982428EBC831D14348F6F2F9193"
        "B5045AF2767164E1DFC967C1FB3F2E55A4BD1BFFE83B9C80D052B985D182EA0A"
        "DB2A3B7313D3FE14C8484B1E052588B9B7D2BBD2DF016199ECD06E1557CD0915"
        "B3353BBB64E0EC377FD028370DF92B52C7891428CDC67EB6184B523D1DB246C3"
        "2F63078490F00EF8D647D148D47954515E2327CFEF98C582664B4C0F6CC41659",
        16,
    ),
    q=int("8CF83642A709A097B447997640129DA299B1A47D1EB3750BA308B0FE64F5FBD3", 16),
)

STANDARDIZED_DOMAIN_PARAMETERS: dict[int, DomainParameters] = {
    0: _MODP_1024_160,
    1: _MODP_2048_224,
    2: _MODP_2048_256,
    8: _from_ecdsa("NIST P-192", 8, _ecdsa_curves.NIST192p),
    9: _from_ecdsa("brainpoolP192r1", 9, _ecdsa_curves.BRAINPOOLP192r1),
    10: _from_ecdsa("NIST P-224", 10, _ecdsa_curves.NIST224p),
    11: _from_ecdsa("brainpoolP224r1", 11, _ecdsa_curves.BRAINPOOLP224r1),
    12: _from_ecdsa("NIST P-256", 12, _ecdsa_curves.NIST256p),
    13: _from_ecdsa("brainpoolP256r1", 13, _ecdsa_curves.BRAINPOOLP256r1),
    14: _from_ecdsa("brainpoolP320r1", 14, _ecdsa_curves.BRAINPOOLP320r1),
    15: _from_ecdsa("NIST P-384", 15, _ecdsa_curves.NIST384p),
    16: _from_ecdsa("brainpoolP384r1", 16, _ecdsa_curves.BRAINPOOLP384r1),
    17: _from_ecdsa("brainpoolP512r1", 17, _ecdsa_curves.BRAINPOOLP512r1),
    18: _from_ecdsa("NIST P-521", 18, _ecdsa_curves.NIST521p),
}
"""parameterId → domain parameters (ICAO 9303-11 §9.5.1)."""


def standardized(parameter_id: int) -> DomainParameters:
    """The standardized domain parameters with this id; DecodeError for reserved ids."""
    try:
        return STANDARDIZED_DOMAIN_PARAMETERS[parameter_id]
    except KeyError:
        raise DecodeError(f"no standardized domain parameters with id {parameter_id}") from None
