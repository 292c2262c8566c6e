"""pki.keys: key specs, signature algorithm identifiers, r‖s ↔ DER, the software signer."""

from __future__ import annotations

import pytest
from asn1crypto import algos
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given
from hypothesis import strategies as st

from pki.errors import KeyStoreError
from pki.keys import (
    KeySpec,
    SignatureAlgorithm,
    Signer,
    SoftwareSigner,
    default_algorithm,
    ecdsa_der_to_raw,
    ecdsa_raw_to_der,
    generate_private_key,
    verify_signature,
)

# AlgorithmIdentifier encodings printed in RFC 5758 §3.2 (ECDSA: parameters absent) and
# RFC 4055 §5 / RFC 8017 A.2.4 (sha256WithRSAEncryption with NULL parameters).
KNOWN_ALGORITHM_IDS = [
    (SignatureAlgorithm.ecdsa("sha256"), "300a06082a8648ce3d040302"),
    (SignatureAlgorithm.ecdsa("sha384"), "300a06082a8648ce3d040303"),
    (SignatureAlgorithm.ecdsa("sha512"), "300a06082a8648ce3d040304"),
    (SignatureAlgorithm.rsa_pkcs1v15("sha256"), "300d06092a864886f70d01010b0500"),
]


@pytest.mark.parametrize(("algorithm", "der"), KNOWN_ALGORITHM_IDS)
def test_algorithm_identifier_encodings(algorithm: SignatureAlgorithm, der: str) -> None:
    encoded = algorithm.signed_digest_algorithm().dump()
    assert encoded.hex() == der
    parsed = algos.SignedDigestAlgorithm.load(encoded)
    back = SignatureAlgorithm.from_signed_digest_algorithm(parsed)
    assert back == algorithm


def test_pss_identifier_round_trip() -> None:
    alg = SignatureAlgorithm.rsa_pss("sha384")
    ident = algos.SignedDigestAlgorithm.load(alg.signed_digest_algorithm().dump())
    assert ident["algorithm"].dotted == "1.2.840.113549.1.1.10"
    params = ident["parameters"]
    assert params["hash_algorithm"]["algorithm"].native == "sha384"
    assert params["mask_gen_algorithm"]["parameters"]["algorithm"].native == "sha384"
    assert params["salt_length"].native == 48
    assert SignatureAlgorithm.from_signed_digest_algorithm(ident) == SignatureAlgorithm(
        alg.scheme, "sha384", 48
    )


@pytest.mark.parametrize(
    ("text", "kind", "curve", "bits"),
    [
        ("ec-p256", "ec", "secp256r1", 256),
        ("ec-p384", "ec", "secp384r1", 384),
        ("ec-p521", "ec", "secp521r1", 521),
        ("ec-brainpoolP256r1", "ec", "brainpoolP256r1", 256),
        ("ec-brainpoolp384r1", "ec", "brainpoolP384r1", 384),
        ("ec-brainpoolP512r1", "ec", "brainpoolP512r1", 512),
        ("rsa-2048", "rsa", None, 2048),
        ("rsa-4096", "rsa", None, 4096),
    ],
)
def test_key_spec_parse(text: str, kind: str, curve: str | None, bits: int) -> None:
    spec = KeySpec.parse(text)
    assert (spec.kind, spec.curve, spec.bits) == (kind, curve, bits)
    assert KeySpec.parse(str(spec)) == spec


@pytest.mark.parametrize("text", ["ec-p192", "ec-secp256k1", "rsa-1024", "rsa-abc", "dsa-2048", ""])
def test_unsupported_key_specs_raise_keystore_error(text: str) -> None:
    with pytest.raises(KeyStoreError):
        KeySpec.parse(text)


def test_curve_oids_are_the_published_ones() -> None:
    # RFC 5480 §2.1.1.1 and RFC 5639 §4.1
    assert KeySpec.parse("ec-p256").curve_oid == "1.2.840.10045.3.1.7"
    assert KeySpec.parse("ec-p384").curve_oid == "1.3.132.0.34"
    assert KeySpec.parse("ec-brainpoolP256r1").curve_oid == "1.3.36.3.3.2.8.1.1.7"
    assert KeySpec.parse("ec-brainpoolP512r1").curve_oid == "1.3.36.3.3.2.8.1.1.13"


@given(
    r=st.integers(min_value=1, max_value=2**256 - 1),
    s=st.integers(min_value=1, max_value=2**256 - 1),
)
def test_raw_der_round_trip(r: int, s: int) -> None:
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    der = ecdsa_raw_to_der(raw)
    assert decode_dss_signature(der) == (r, s)
    assert ecdsa_der_to_raw(der, 32) == raw


def test_raw_der_rejects_bad_input() -> None:
    with pytest.raises(KeyStoreError):
        ecdsa_raw_to_der(b"\x01\x02\x03")
    with pytest.raises(KeyStoreError):
        ecdsa_der_to_raw(b"\x30\x00garbage", 32)
    big = ecdsa_raw_to_der(b"\xff" * 33 + b"\x01" * 33)
    with pytest.raises(KeyStoreError):
        ecdsa_der_to_raw(big, 32)


@pytest.mark.parametrize(
    ("spec", "algorithm"),
    [
        ("ec-p256", SignatureAlgorithm.ecdsa("sha256")),
        ("ec-brainpoolP384r1", SignatureAlgorithm.ecdsa("sha384")),
        ("ec-p521", SignatureAlgorithm.ecdsa("sha512")),
        ("rsa-2048", SignatureAlgorithm.rsa_pss("sha256")),
        ("rsa-2048", SignatureAlgorithm.rsa_pkcs1v15("sha1")),
        ("rsa-2048", SignatureAlgorithm(SignatureAlgorithm.rsa_pss().scheme, "sha512", 20)),
    ],
)
def test_software_signer_signatures_verify(spec: str, algorithm: SignatureAlgorithm) -> None:
    signer = SoftwareSigner(generate_private_key(KeySpec.parse(spec)), "k")
    assert isinstance(signer, Signer)
    sig = signer.sign(b"to be signed", algorithm)
    assert verify_signature(signer.public_key(), sig, b"to be signed", algorithm)
    assert not verify_signature(signer.public_key(), sig, b"to be signeD", algorithm)


def test_ecdsa_signature_is_der() -> None:
    signer = SoftwareSigner(ec.generate_private_key(ec.SECP256R1()), "k")
    sig = signer.sign(b"x", signer.algorithm)
    r, s = decode_dss_signature(sig)
    assert ecdsa_raw_to_der(ecdsa_der_to_raw(sig, 32)) == sig
    assert r > 0 and s > 0


def test_scheme_must_match_key() -> None:
    signer = SoftwareSigner(ec.generate_private_key(ec.SECP256R1()), "k")
    with pytest.raises(KeyStoreError):
        signer.sign(b"x", SignatureAlgorithm.rsa_pss())
    assert default_algorithm(KeySpec.parse("ec-brainpoolP512r1")) == SignatureAlgorithm.ecdsa(
        "sha512"
    )
    assert default_algorithm(KeySpec.parse("rsa-3072")) == SignatureAlgorithm.rsa_pss("sha256")


def test_pss_salt_only_for_pss() -> None:
    with pytest.raises(KeyStoreError):
        SignatureAlgorithm(SignatureAlgorithm.ecdsa().scheme, "sha256", 32)
