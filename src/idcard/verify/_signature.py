"""Verification of X.509 and CMS signatures with cryptography, for the idcard layer.

ECDSA (DER Ecdsa-Sig-Value), RSASSA-PSS and RSASSA-PKCS1-v1_5, the schemes of ICAO 9303-12 §5,
and the CMS SignedData signature check of RFC 5652 §5.6 (:func:`check_signed_parts`) that EF.SOD
and CSCA master lists share. Kept here because ``idcard`` may not import ``pki`` (STYLE.md §1).
A verifier (key, hash and padding) is built once per key and algorithm and cached by their DER.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable

from asn1crypto import algos, keys, x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from idcard.crypto import HASH_ALGORITHMS
from idcard.crypto_ec import ECPublicKey, InvalidDomainParameters, load_ec_public_key
from idcard.errors import DecodeError
from idcard.lds.sod import SignedParts, load_certificate, load_signature_algorithm
from idcard.verify.report import CheckResult, Status

__all__ = [
    "UnsupportedKey",
    "check_signed_parts",
    "message_digest_problem",
    "signature_problem",
    "signed_by",
    "verifier",
    "verify",
]


PublicKey = ECPublicKey | rsa.RSAPublicKey
Verifier = Callable[[bytes, bytes], bool]
"""``verifier(signature, data)``: True when the signature over ``data`` verifies."""


class UnsupportedKey(Exception):
    """The key or algorithm cannot be used by this verifier (reported as not-checked)."""


def _load_key(spki_der: bytes) -> PublicKey:
    """RSA with ``cryptography``; EC, named or explicit parameters, with
    :func:`idcard.crypto_ec.load_ec_public_key` (invalid parameters raise
    :class:`InvalidDomainParameters`)."""
    try:
        is_ec = keys.PublicKeyInfo.load(spki_der)["algorithm"]["algorithm"].native == "ec"
    except (ValueError, TypeError, KeyError):
        is_ec = False
    if is_ec:
        try:
            return load_ec_public_key(spki_der)
        except InvalidDomainParameters:
            raise
        except DecodeError as exc:
            raise UnsupportedKey(f"public key not supported: {exc.reason}") from None
    try:
        key = serialization.load_der_public_key(spki_der)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise UnsupportedKey(f"public key not supported: {exc}") from None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return ECPublicKey(key.curve.name, key.curve.key_size, key, None)
    if not isinstance(key, rsa.RSAPublicKey):
        raise UnsupportedKey(f"public key type {type(key).__name__} not supported")
    return key


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


def _rejects(signature: bytes, data: bytes) -> bool:
    return False


@functools.lru_cache(maxsize=256)
def verifier(
    spki_der: bytes, algorithm_der: bytes, digest_algorithm: str | None = None
) -> Verifier:
    """The signature check of the key ``spki_der`` under the signature algorithm
    ``algorithm_der`` (both DER), cached by those bytes.

    ``digest_algorithm`` (a CMS SignerInfo's digestAlgorithm) supplies the hash when the
    algorithm is a bare ``rsaEncryption`` or ``ecPublicKey`` OID, as some issuers write it.
    Raises :class:`UnsupportedKey` when the key or algorithm is not supported, and
    :class:`~idcard.crypto_ec.InvalidDomainParameters` when explicit EC parameters are not a
    sane curve.
    """
    key = _load_key(spki_der)
    alg = load_signature_algorithm(algorithm_der)
    hash_name = _hash_of(alg, digest_algorithm)
    if hash_name not in HASH_ALGORITHMS:
        raise UnsupportedKey(f"hash {hash_name!r} not supported")
    h = HASH_ALGORITHMS[hash_name]()
    try:
        sig_name = alg.signature_algo
    except ValueError:
        sig_name = str(alg["algorithm"].native)
    if isinstance(key, ECPublicKey):
        if sig_name not in ("ecdsa", "ec"):
            return _rejects
        ec_key = key

        def check_ec(signature: bytes, data: bytes) -> bool:
            return ec_key.verify(signature, data, hash_name)

        return check_ec
    if sig_name == "rsassa_pss":
        params = alg["parameters"]
        mgf_hash = str(params["mask_gen_algorithm"]["parameters"]["algorithm"].native)
        if mgf_hash not in HASH_ALGORITHMS:
            raise UnsupportedKey(f"MGF1 hash {mgf_hash!r} not supported")
        pad: padding.AsymmetricPadding = padding.PSS(
            mgf=padding.MGF1(HASH_ALGORITHMS[mgf_hash]()),
            salt_length=int(params["salt_length"].native),
        )
    elif sig_name in ("rsassa_pkcs1v15", "rsa"):
        pad = padding.PKCS1v15()
    else:
        return _rejects
    rsa_key = key

    def check_rsa(signature: bytes, data: bytes) -> bool:
        try:
            rsa_key.verify(signature, data, pad, h)
        except (InvalidSignature, ValueError):
            return False
        return True

    return check_rsa


def verify(
    info: keys.PublicKeyInfo,
    alg: algos.SignedDigestAlgorithm,
    signature: bytes,
    data: bytes,
    *,
    digest_algorithm: str | None = None,
) -> bool:
    """True when ``signature`` over ``data`` verifies with the key ``info`` under ``alg``
    (see :func:`verifier`); False for a key whose explicit EC parameters are invalid."""
    try:
        check = verifier(bytes(info.dump()), bytes(alg.dump()), digest_algorithm)
    except InvalidDomainParameters:
        return False
    return check(bytes(signature), bytes(data))


def signed_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """True when ``parent``'s key verifies ``child``'s signature (unsupported keys: False)."""
    try:
        return verify(
            parent.public_key,
            child["signature_algorithm"],
            bytes(child["signature_value"].native),
            bytes(child["tbs_certificate"].dump()),
        )
    except UnsupportedKey:
        return False


@functools.lru_cache(maxsize=256)
def _spki(cert_der: bytes) -> tuple[bytes, str]:
    """The SubjectPublicKeyInfo DER and the readable subject of a certificate, by its DER."""
    cert = load_certificate(cert_der)
    return bytes(cert.public_key.dump()), str(cert.subject.human_friendly)


@functools.lru_cache(maxsize=256)
def _algorithm_name(algorithm_der: bytes) -> str:
    return str(load_signature_algorithm(algorithm_der)["algorithm"].native)


def message_digest_problem(parts: SignedParts, expected_type: str) -> CheckResult | None:
    """The RFC 5652 §5.6 content checks: eContentType is ``expected_type`` and equals the
    contentType attribute; messageDigest is the hash of eContent. None when all hold; else the
    result (named ``""``) saying why."""
    if parts.e_content_type != expected_type:
        return CheckResult(
            "", Status.FAIL, f"eContentType is {parts.e_content_type}, not {expected_type}"
        )
    if parts.signed_attrs_der is None:
        return CheckResult("", Status.FAIL, "no signed attributes")
    if parts.content_type_attr != expected_type:
        return CheckResult(
            "", Status.FAIL, "the contentType signed attribute does not match eContentType"
        )
    if parts.message_digest is None:
        return CheckResult("", Status.FAIL, "no messageDigest signed attribute")
    try:
        digest = hashlib.new(parts.digest_algorithm, parts.e_content).digest()
    except ValueError:
        return CheckResult(
            "", Status.NOT_CHECKED, f"digest algorithm {parts.digest_algorithm} unsupported"
        )
    if digest != parts.message_digest:
        return CheckResult("", Status.FAIL, "messageDigest is not the hash of the eContent")
    return None


def signature_problem(parts: SignedParts) -> CheckResult | None:
    """The signature over the signed attributes with the signer certificate's key; None when it
    verifies, else the result (named ``""``) saying why not."""
    cert = parts.signer_certificate_der
    if cert is None:
        return CheckResult("", Status.NOT_CHECKED, "the signer certificate is not included")
    if parts.signed_attrs_der is None:
        return CheckResult("", Status.FAIL, "no signed attributes")
    try:
        check = verifier(_spki(cert)[0], parts.signature_algorithm_der, parts.digest_algorithm)
    except UnsupportedKey as exc:
        return CheckResult("", Status.NOT_CHECKED, str(exc))
    except InvalidDomainParameters as exc:
        return CheckResult("", Status.FAIL, f"the signer key is invalid: {exc.reason}")
    if not check(parts.signature, parts.signed_attrs_der):
        return CheckResult("", Status.FAIL, "the signature does not verify with the signer key")
    return None


def check_signed_parts(parts: SignedParts, name: str, expected_type: str) -> CheckResult:
    """The CMS signature check of RFC 5652 §5.6 for ``parts`` with its own signer certificate.

    eContentType must be ``expected_type`` and equal the contentType attribute; messageDigest must
    be the hash of eContent; the signature over the signed attributes must verify with the signer
    certificate's key.
    """
    problem = message_digest_problem(parts, expected_type) or signature_problem(parts)
    if problem is not None:
        return CheckResult(name, problem.status, problem.reason)
    alg = _algorithm_name(parts.signature_algorithm_der)
    subject = _spki(parts.signer_certificate_der or b"")[1]
    return CheckResult(name, Status.PASS, f"{alg} signature by {subject} verifies")
