"""Elliptic-curve domain parameters as CV certificates carry them (BSI TR-03110-3 §D.3.3).

A CVCA certificate's public key holds p (81), a (82), b (83), G (84), r (85) and f (87) next to
the point (86); DV and terminal certificates inherit them. ``cryptography`` does not expose a
curve's p, a, b, so the curves we write are listed here (FIPS 186-4 D.1.2.3; RFC 5639 §3.4),
each checked by :func:`check_table` (G on the curve, G equal to ``cryptography``'s).
Reading works for every ``cryptography`` curve: it is matched by its generator.
"""

from __future__ import annotations

import functools

from cryptography.hazmat.primitives.asymmetric import ec

from idcard.errors import DecodeError, EncodeError

__all__ = ["DOMAINS", "check_table", "curve_from_generator", "domain_fields"]

DOMAINS: dict[str, dict[str, int]] = {
    "secp256r1": {
        "p": 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF,
        "a": 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFC,
        "b": 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
        "x": 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
        "y": 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
        "n": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
        "h": 1,
    },
    "brainpoolP256r1": {
        "p": 0xA9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377,
        "a": 0x7D5A0975FC2C3057EEF67530417AFFE7FB8055C126DC5C6CE94A4B44F330B5D9,
        "b": 0x26DC5C6CE94A4B44F330B5D9BBD77CBF958416295CF7E1CE6BCCDC18FF8C07B6,
        "x": 0x8BD2AEB9CB7E57CB2C4B482FFC81B7AFB9DE27E1E3BD23C23A4453BD9ACE3262,
        "y": 0x547EF835C3DAC4FD97F8461A14611DC9C27745132DED8E545C1D54C72F046997,
        "n": 0xA9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7,
        "h": 1,
    },
}

_CURVES: tuple[ec.EllipticCurve, ...] = (
    ec.SECP192R1(), ec.SECP224R1(), ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1(),
    ec.BrainpoolP256R1(), ec.BrainpoolP384R1(), ec.BrainpoolP512R1(),
)  # fmt: skip


def _generator(curve: ec.EllipticCurve) -> tuple[int, int]:
    g = ec.derive_private_key(1, curve).public_key().public_numbers()
    return g.x, g.y


@functools.cache
def _by_generator() -> dict[tuple[int, int], ec.EllipticCurve]:
    """Each supported curve by its generator, computed once: deriving a generator is a scalar
    multiplication, and every CV certificate check or DG14 key with explicit parameters asks."""
    return {_generator(curve): curve for curve in _CURVES}


def check_table() -> None:
    """Raise unless every listed curve's G lies on it and equals ``cryptography``'s."""
    for curve in _CURVES:
        d = DOMAINS.get(curve.name)
        if d is None:
            continue
        x, y = d["x"], d["y"]
        if (y * y - (x**3 + d["a"] * x + d["b"])) % d["p"] or _generator(curve) != (x, y):
            raise EncodeError(f"domain parameter table of {curve.name} is wrong")


def curve_from_generator(point: bytes) -> ec.EllipticCurve:
    """The curve whose generator is the uncompressed ``point`` (04 ‖ X ‖ Y)."""
    if len(point) < 3 or point[0] != 0x04 or len(point) % 2 == 0:
        raise DecodeError("base point is not an uncompressed point")
    size = (len(point) - 1) // 2
    xy = (int.from_bytes(point[1 : 1 + size], "big"), int.from_bytes(point[1 + size :], "big"))
    curve = _by_generator().get(xy)
    if curve is None:
        raise DecodeError("domain parameters of an unsupported curve")
    return curve


def domain_fields(curve: ec.EllipticCurve) -> list[tuple[int, bytes]]:
    """DOs 81-85 and 87 of ``curve`` (TR-03110-3 Table D.3)."""
    d = DOMAINS.get(curve.name)
    if d is None:
        raise EncodeError(f"no domain parameters for {curve.name}; use one of {sorted(DOMAINS)}")
    size = (d["p"].bit_length() + 7) // 8

    def num(v: int) -> bytes:
        return v.to_bytes(size, "big")

    def minimal(v: int) -> bytes:
        return v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")

    return [
        (0x81, num(d["p"])), (0x82, num(d["a"])), (0x83, num(d["b"])),
        (0x84, b"\x04" + num(d["x"]) + num(d["y"])), (0x85, num(d["n"])), (0x87, minimal(d["h"])),
    ]  # fmt: skip
