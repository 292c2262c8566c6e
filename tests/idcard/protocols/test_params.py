"""Standardized domain parameters (ICAO 9303-11 §9.5.1): the constants, the group operations
cross-checked against OpenSSL (via cryptography), and decoders that only raise DecodeError."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from idcard.errors import DecodeError, EncodeError
from idcard.protocols.params import (
    STANDARDIZED_DOMAIN_PARAMETERS,
    DHDomainParameters,
    ECDomainParameters,
    random_scalar,
    standardized,
)

EC_IDS = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]
DH_IDS = [0, 1, 2]

# parameter id -> (name, field bits) of ICAO 9303-11 §9.5.1
TABLE = {
    0: ("MODP-1024-160", 1024),
    1: ("MODP-2048-224", 2048),
    2: ("MODP-2048-256", 2048),
    8: ("NIST P-192", 192),
    9: ("brainpoolP192r1", 192),
    10: ("NIST P-224", 224),
    11: ("brainpoolP224r1", 224),
    12: ("NIST P-256", 256),
    13: ("brainpoolP256r1", 256),
    14: ("brainpoolP320r1", 320),
    15: ("NIST P-384", 384),
    16: ("brainpoolP384r1", 384),
    17: ("brainpoolP512r1", 512),
    18: ("NIST P-521", 521),
}
SUBGROUP_BITS = {0: 160, 1: 224, 2: 256}

OPENSSL: dict[int, ec.EllipticCurve] = {
    8: ec.SECP192R1(),
    10: ec.SECP224R1(),
    12: ec.SECP256R1(),
    13: ec.BrainpoolP256R1(),
    15: ec.SECP384R1(),
    16: ec.BrainpoolP384R1(),
    17: ec.BrainpoolP512R1(),
    18: ec.SECP521R1(),
}


def probably_prime(n: int) -> bool:
    """Miller-Rabin with the first 20 prime bases (enough to catch any transcription error)."""
    bases = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71]
    if n < 2 or any(n % b == 0 for b in bases if n != b):
        return n in bases
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for a in bases:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def ec_params(pid: int) -> ECDomainParameters:
    params = standardized(pid)
    assert isinstance(params, ECDomainParameters)
    return params


def dh_params(pid: int) -> DHDomainParameters:
    params = standardized(pid)
    assert isinstance(params, DHDomainParameters)
    return params


def test_table_is_complete() -> None:
    assert sorted(STANDARDIZED_DOMAIN_PARAMETERS) == sorted(TABLE)
    for pid, (name, bits) in TABLE.items():
        params = standardized(pid)
        assert params.name == name and params.parameter_id == pid
        assert params.p.bit_length() == bits
        assert name in repr(params)


@pytest.mark.parametrize("pid", [3, 4, 5, 6, 7, 19, 31, -1])
def test_reserved_ids(pid: int) -> None:
    with pytest.raises(DecodeError):
        standardized(pid)


@pytest.mark.parametrize("pid", DH_IDS)
def test_modp_groups(pid: int) -> None:
    group = dh_params(pid)
    assert group.kind == "DH" and group.public_key_tag == 0x84
    assert group.q.bit_length() == SUBGROUP_BITS[pid]
    assert probably_prime(group.p) and probably_prime(group.q)
    assert (group.p - 1) % group.q == 0
    assert group.g != 1 and pow(group.g, group.q, group.p) == 1


@pytest.mark.parametrize("pid", EC_IDS)
def test_curves(pid: int) -> None:
    curve = ec_params(pid)
    assert curve.kind == "ECDH" and curve.public_key_tag == 0x86
    assert curve.h == 1
    assert probably_prime(curve.p) and probably_prime(curve.n)
    assert curve.contains(curve.generator)
    with pytest.raises(DecodeError):
        curve.multiply(curve.n)  # n·G is the point at infinity
    gx, gy = curve.generator
    assert curve.multiply(curve.n - 1) == (gx, (-gy) % curve.p)
    assert curve.add(curve.generator, curve.generator) == curve.multiply(2)


@pytest.mark.parametrize("pid", sorted(OPENSSL))
def test_curves_against_openssl(pid: int) -> None:
    curve = ec_params(pid)
    for k in (1, 2, 0xC0FFEE, curve.n - 2):
        numbers = ec.derive_private_key(k, OPENSSL[pid]).public_key().public_numbers()
        assert curve.multiply(k) == (numbers.x, numbers.y)
    # ECDH shared secret equals OpenSSL's
    a, b = 0x1234567 % curve.n, (curve.n // 3) | 1
    peer = ec.derive_private_key(b, OPENSSL[pid]).public_key()
    expected = ec.derive_private_key(a, OPENSSL[pid]).exchange(ec.ECDH(), peer)
    assert curve.shared_secret(a, curve.public_key(b)) == expected


@pytest.mark.parametrize("pid", EC_IDS)
def test_point_codec(pid: int) -> None:
    curve = ec_params(pid)
    encoded = curve.public_key(7)
    assert len(encoded) == 1 + 2 * curve.field_length and encoded[0] == 4
    assert curve.encode_point(curve.decode_point(encoded)) == encoded
    assert curve.compressed(encoded) == encoded[1 : 1 + curve.field_length]
    x, y = curve.decode_point(encoded)
    bad = [
        b"\x02" + encoded[1:],
        encoded[:-1],
        encoded + b"\x00",
        curve.encode_point((x, (y + 1) % curve.p)),
        curve.encode_point((x + curve.p, y)) if x + curve.p < 1 << (8 * curve.field_length)
        else encoded[:-2],
    ]
    for data in bad:
        with pytest.raises(DecodeError):
            curve.decode_point(data)


@given(pid=st.sampled_from(EC_IDS), data=st.binary(max_size=140))
def test_random_points_only_decode_error(pid: int, data: bytes) -> None:
    curve = ec_params(pid)
    try:
        point = curve.decode_point(data)
    except DecodeError:
        return
    assert curve.contains(point)


@given(pid=st.sampled_from(DH_IDS), data=st.binary(max_size=260))
def test_random_dh_values_only_decode_error(pid: int, data: bytes) -> None:
    group = dh_params(pid)
    try:
        y = group.decode_element(data)
    except DecodeError:
        return
    assert pow(y, group.q, group.p) == 1


@pytest.mark.parametrize("pid", DH_IDS)
def test_dh_validation(pid: int) -> None:
    group = dh_params(pid)
    n = group.field_length
    for y in (0, 1, group.p - 1, group.p, group.p - group.g):
        with pytest.raises(DecodeError):
            group.decode_element(y.to_bytes(n + 1, "big"))
    pk = group.public_key(5)
    assert len(pk) == n and group.decode_element(pk) == pow(group.g, 5, group.p)
    assert group.decode_element(b"\x00" + pk) == group.decode_element(pk)  # 00-prefixed form
    assert group.compressed(pk) == hashlib.sha1(pk).digest()  # noqa: S324 - TR-03110 Comp()
    shared = group.shared_secret(3, group.public_key(5))
    assert shared == group.shared_secret(5, group.public_key(3))


@given(x=st.integers(min_value=2))
@pytest.mark.parametrize("pid", [pid for pid in EC_IDS if pid != 10])
def test_ec_integrated_map_lands_on_the_curve(pid: int, x: int) -> None:
    curve = ec_params(pid)
    try:
        encoded = curve.integrated_map(x)
    except EncodeError:
        return  # degenerate inputs (t = 0, α + α² = 0) only
    assert curve.contains(curve.decode_point(encoded))


def test_ec_integrated_map_needs_p_3_mod_4() -> None:
    with pytest.raises(EncodeError):
        ec_params(10).integrated_map(12345)


@given(x=st.integers(min_value=2, max_value=2**1100))
def test_dh_integrated_map_lands_in_the_subgroup(x: int) -> None:
    group = dh_params(0)
    try:
        g2 = group.decode_element(group.integrated_map(x))
    except DecodeError:
        return
    assert g2 != 1


@given(seed=st.binary(min_size=1, max_size=8))
def test_random_scalar_range(seed: bytes) -> None:
    order = ec_params(8).n

    def rng(n: int) -> bytes:
        return (seed * n)[:n]

    k = random_scalar(order, rng)
    assert 1 <= k < order
    assert random_scalar(order, rng) == k  # deterministic from the injected source


# -- the OpenSSL route (k·G and the ECKA secret through cryptography) ------------------------


def test_openssl_route_is_chosen_by_the_constants() -> None:
    from dataclasses import replace

    from idcard.protocols.params import _openssl_curve

    for pid in EC_IDS:  # P-256 only: OpenSSL's generic code is not faster than python-ecdsa
        curve = _openssl_curve(standardized(pid))
        assert (curve is None) == (pid != 12), pid
    p256 = standardized(12)
    assert isinstance(p256, ECDomainParameters)
    unnamed = replace(p256, name="explicit", parameter_id=None)  # e.g. from DG14's parameters
    assert _openssl_curve(unnamed).name == "secp256r1"  # type: ignore[union-attr]
    assert _openssl_curve(replace(p256, b=p256.b + 1)) is None  # another curve: python-ecdsa


def _ecdsa_multiply(
    domain: ECDomainParameters, k: int, point: tuple[int, int] | None = None
) -> tuple[int, int]:
    """k·G or k·P by python-ecdsa alone (the route before issue 15)."""
    from idcard.protocols.params import _ecdsa_generator

    product = (_ecdsa_generator(domain) if point is None else domain._jacobi(point)) * k
    return (int(product.x()), int(product.y()))


@pytest.mark.parametrize("pid", sorted(OPENSSL))
@given(k=st.integers(min_value=1, max_value=(1 << 530) - 1), j=st.integers(2, 1 << 64))
def test_openssl_route_equals_python_ecdsa(pid: int, k: int, j: int) -> None:
    domain = standardized(pid)
    assert isinstance(domain, ECDomainParameters)
    if k % domain.n == 0:
        k += 1
    assert domain.multiply(k) == _ecdsa_multiply(domain, k)
    point = _ecdsa_multiply(domain, j)  # any point of the group, as a mapped generator is
    product = _ecdsa_multiply(domain, k, point)
    assert domain.multiply(k, point) == product
    peer = domain.encode_point(point)
    assert domain.agree_element(k, peer) == domain.encode_point(product)
    x = domain.encode_point(product)[1 : 1 + domain.field_length]
    assert domain.shared_secret(k, peer) == x
    for edge in (1, 2, domain.n - 2, domain.n - 1, domain.n + 1, 2 * domain.n - 1):
        assert domain.multiply(edge, point) == _ecdsa_multiply(domain, edge, point), edge


@pytest.mark.parametrize("pid", sorted(OPENSSL))
def test_openssl_route_refuses_like_python_ecdsa(pid: int) -> None:
    domain = standardized(pid)
    assert isinstance(domain, ECDomainParameters)
    with pytest.raises(DecodeError, match="point at infinity"):
        domain.multiply(domain.n)
    with pytest.raises(DecodeError, match="point at infinity"):
        domain.multiply(3 * domain.n, domain.generator)
    with pytest.raises(DecodeError, match="point at infinity"):
        domain.shared_secret(2 * domain.n, domain.encode_point(domain.generator))
    off_curve = domain.encode_point((domain.gx, (domain.gy + 1) % domain.p))
    with pytest.raises(DecodeError, match="not on"):
        domain.shared_secret(5, off_curve)
    assert domain.multiply(domain.n + 1) == domain.generator


def test_python_ecdsa_keeps_what_openssl_cannot_do() -> None:
    """The other curves multiply arbitrary points by python-ecdsa: the same results."""
    for pid in (10, 11, 13, 15):
        domain = standardized(pid)
        assert isinstance(domain, ECDomainParameters)
        point = _ecdsa_multiply(domain, 12345)
        assert domain._openssl_multiply(777, point) is None
        assert domain.multiply(777, point) == _ecdsa_multiply(domain, 777 * 12345)
    p256 = standardized(12)
    assert isinstance(p256, ECDomainParameters)
    off_curve = (p256.gx, (p256.gy + 1) % p256.p)
    assert p256._openssl_multiply(5, off_curve) is None  # as before: python-ecdsa's arithmetic
