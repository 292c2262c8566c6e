"""Verification of X.509 / CMS signatures with cryptography, for the idcard layer.

ECDSA (DER Ecdsa-Sig-Value), RSASSA-PSS and RSASSA-PKCS1-v1_5, the schemes of ICAO 9303-12 §5.
Kept here because ``idcard`` may not import ``pki`` (STYLE.md §1).
"""

from __future__ import annotations

import functools

from asn1crypto import algos, keys
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

__all__ = ["UnsupportedKey", "load_public_key", "verify"]

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class UnsupportedKey(Exception):
    """The key or algorithm cannot be used by this verifier (reported as not-checked)."""


@functools.lru_cache(maxsize=256)
def _load_der(der: bytes) -> PublicKey:
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise UnsupportedKey(f"public key not supported: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise UnsupportedKey(f"public key type {type(key).__name__} not supported")
    return key


def load_public_key(info: keys.PublicKeyInfo) -> PublicKey:
    """The cryptography key of a SubjectPublicKeyInfo (cached by its DER)."""
    return _load_der(bytes(info.dump()))


def _hash_of(alg: algos.SignedDigestAlgorithm, fallback: str | None) -> str:
    name = alg["algorithm"].native
    if name == "rsassa_pss":
        return str(alg["parameters"]["hash_algorithm"]["algorithm"].native)
    try:
        return str(alg.hash_algo)
    except ValueError:
        if fallback is None:
            raise UnsupportedKey(f"signature algorithm {name!r} names no hash") from None
        return fallback


def verify(
    info: keys.PublicKeyInfo,
    alg: algos.SignedDigestAlgorithm,
    signature: bytes,
    data: bytes,
    *,
    digest_algorithm: str | None = None,
) -> bool:
    """True when ``signature`` over ``data`` verifies with the key ``info`` under ``alg``.

    ``digest_algorithm`` (a CMS SignerInfo's digestAlgorithm) supplies the hash when ``alg`` is a
    bare ``rsaEncryption`` or ``ecPublicKey`` OID, as some issuers write it. Raises
    :class:`UnsupportedKey` when the key or algorithm is not supported.
    """
    key = load_public_key(info)
    hash_name = _hash_of(alg, digest_algorithm)
    if hash_name not in _HASHES:
        raise UnsupportedKey(f"hash {hash_name!r} not supported")
    h = _HASHES[hash_name]()
    try:
        sig_name = alg.signature_algo
    except ValueError:
        sig_name = str(alg["algorithm"].native)
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            if sig_name not in ("ecdsa", "ec"):
                return False
            key.verify(signature, data, ec.ECDSA(h))
            return True
        if sig_name == "rsassa_pss":
            params = alg["parameters"]
            mgf_hash = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
            pad: padding.AsymmetricPadding = padding.PSS(
                mgf=padding.MGF1(_HASHES[str(mgf_hash)]()),
                salt_length=int(params["salt_length"].native),
            )
        elif sig_name in ("rsassa_pkcs1v15", "rsa"):
            pad = padding.PKCS1v15()
        else:
            return False
        key.verify(signature, data, pad, h)
        return True
    except (InvalidSignature, ValueError, KeyError):
        return False
