"""Explicit EC domain parameters end to end (issue 17): our own CSCA and DS with explicit keys
(one on a curve ``cryptography`` lacks) pass passive authentication; master lists of ours and the
German one make their CSCAs anchors for their own country only; the parameter checks of
:mod:`idcard.crypto_ec` refuse insane curves with a typed error."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from asn1crypto import crl as acrl
from asn1crypto import keys
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from ecdsa import SECP256k1, SigningKey  # type: ignore[import-untyped]
from ecdsa.curves import Curve  # type: ignore[import-untyped]
from ecdsa.util import sigencode_der  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st
from tests.idcard.verify.explicit_pki import ExplicitPKI
from tests.idcard.verify.pa_pki import PKI, VERIFY_AT, asn1, master_list, sample_files
from tests.idcard.verify.test_realworld_masterlists import _list, _root

from idcard.crypto_ec import (
    ECDomain,
    InvalidDomainParameters,
    check_domain,
    domain_of,
    explicit_public_key_info,
    load_ec_public_key,
    named_curve_of,
)
from idcard.errors import DecodeError
from idcard.lds.sod import SODParts
from idcard.verify import Status, TrustStore, _signature, verify_passive
from idcard.verify.masterlist import MasterList

EXPLICIT = ExplicitPKI()


def _verify(files: dict[str, bytes], trust: TrustStore) -> dict[str, Status]:
    return verify_passive(files, trust, at=VERIFY_AT).statuses


def test_a_dump_under_an_explicit_parameter_csca_passes() -> None:
    files = EXPLICIT.sign_files(sample_files())
    csca = ax509.Certificate.load(EXPLICIT.csca_der)
    assert csca.public_key["algorithm"]["parameters"].name == "specified"
    assert load_ec_public_key(csca.public_key.dump()).curve_name == "brainpoolP224r1"
    report = verify_passive(files, TrustStore([csca]), at=VERIFY_AT)
    assert report.ok, [(c.name, c.reason) for c in report.checks]
    assert report.sod_signature.reason.startswith("sha256_ecdsa signature by")
    tampered = {**files, "DG2": files["DG2"][:-1] + b"\x00"}
    assert _verify(tampered, TrustStore([csca]))["DG2"] is Status.FAIL
    other = ExplicitPKI(slot=1)  # same curve, other key, other name
    assert _verify(files, TrustStore([asn1(other.csca)]))["chain"] is Status.FAIL


def test_a_bad_signature_by_an_explicit_key_fails() -> None:
    files = EXPLICIT.sign_files(sample_files())
    sod = files["EF.SOD"]
    parts = SODParts.decode(sod).signed
    at = sod.rfind(parts.signature)
    broken = sod[: at + 20] + bytes([sod[at + 20] ^ 1]) + sod[at + 21 :]
    statuses = _verify({**files, "EF.SOD": broken}, TrustStore([asn1(EXPLICIT.csca)]))
    assert statuses["sod_signature"] is Status.FAIL


def test_crls_signed_by_an_explicit_parameter_csca_are_verified() -> None:
    files = EXPLICIT.sign_files(sample_files())
    csca = asn1(EXPLICIT.csca)
    good = acrl.CertificateList.load(EXPLICIT.crl())
    report = verify_passive(files, TrustStore([csca], crls=[good]), at=VERIFY_AT)
    assert report.revocation.status is Status.PASS, report.revocation.reason
    revoked = acrl.CertificateList.load(EXPLICIT.crl((EXPLICIT.ds_serial,)))
    report = verify_passive(files, TrustStore([csca], crls=[revoked]), at=VERIFY_AT)
    assert report.revocation.status is Status.FAIL
    assert report.revocation.reason.endswith("revoked on 2024-06-01")
    # the same CRL signed by another brainpoolP224r1 key does not verify: revocation FAILs
    tbs = revoked["tbs_cert_list"]
    forged = acrl.CertificateList({
        "tbs_cert_list": tbs, "signature_algorithm": revoked["signature_algorithm"],
        "signature": ExplicitPKI(slot=5).csca_sign(tbs.dump()),
    })  # fmt: skip
    assert not TrustStore([csca]).crl_verified(forged, csca)
    assert TrustStore([csca]).crl_verified(revoked, csca)
    report = verify_passive(files, TrustStore([csca], crls=[forged]), at=VERIFY_AT)
    assert report.revocation.status is Status.FAIL
    assert "does not verify with the CSCA" in report.revocation.reason


def test_our_master_list_makes_the_explicit_csca_an_anchor() -> None:
    root = PKI(country="UZ", slot=400)
    ml = MasterList.decode(master_list(root, [EXPLICIT.csca, root.csca]))
    trust = TrustStore([asn1(root.csca)], master_lists=[ml])
    assert [r.status for r in trust.master_list_results] == [Status.PASS]
    report = verify_passive(EXPLICIT.sign_files(sample_files()), trust, at=VERIFY_AT)
    assert report.ok and report.master_list.status is Status.PASS
    # without the root the list is not trusted, nor is the CSCA it carries
    alone = TrustStore([asn1(PKI(country="UZ", slot=401).csca)], master_lists=[ml])
    assert alone.master_list_results[0].status is Status.FAIL
    assert _verify(EXPLICIT.sign_files(sample_files()), alone)["chain"] is Status.FAIL


def test_a_listed_csca_anchors_only_its_own_country() -> None:
    root = PKI(country="UZ", slot=402)
    foreign = ExplicitPKI(country="KZ", slot=2, ds_country="UZ")  # a KZ CSCA, a DS saying UZ
    ml = MasterList.decode(master_list(root, [foreign.csca]))
    files = foreign.sign_files(sample_files())
    report = verify_passive(files, TrustStore([asn1(root.csca)], master_lists=[ml]), at=VERIFY_AT)
    assert report.chain.status is Status.FAIL
    assert report.chain.reason == (
        f"the CSCA {asn1(foreign.csca).subject.human_friendly} comes from a master list and is "
        "trusted only for country 'KZ', not for a DS of 'UZ'"
    )
    # given by the auditor directly, the same CSCA is an anchor (the country check then fails)
    direct = verify_passive(files, TrustStore([asn1(foreign.csca)]), at=VERIFY_AT)
    assert direct.chain.status is Status.PASS
    assert direct.country.status is Status.FAIL


def test_the_country_scope_ignores_letter_case() -> None:
    root = PKI(country="UZ", slot=404)
    lower = ExplicitPKI(country="kz", slot=4, ds_country="KZ")
    ml = MasterList.decode(master_list(root, [lower.csca]))
    trust = TrustStore([asn1(root.csca)], master_lists=[ml])
    chain = verify_passive(lower.sign_files(sample_files()), trust, at=VERIFY_AT).chain
    assert chain.status is Status.PASS, chain.reason


def _fake_ds(issuer: ax509.Certificate, country: str | None) -> ax509.Certificate:
    k = ec.derive_private_key(77, ec.SECP256R1())
    country_name = [] if country is None else [x509.NameAttribute(x509.NameOID.COUNTRY_NAME,
                                                                  country)]  # fmt: skip
    name = x509.Name([*country_name, x509.NameAttribute(x509.NameOID.COMMON_NAME, "DS")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(x509.load_der_x509_certificate(issuer.dump()).subject)
        .public_key(k.public_key())
        .serial_number(1)
        .not_valid_before(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
        .sign(k, hashes.SHA256())
    )
    return asn1(cert)


def test_the_german_list_anchors_each_csca_for_its_own_country() -> None:
    trust = TrustStore([_root("DE")], master_lists=[_list("DE")])
    fr = next(
        c for c in _list("DE").certificates
        if c.subject.native.get("country_name") == "FR" and c.self_signed != "no"
    )  # fmt: skip
    assert any(c.dump() == fr.dump() for c in trust.trusted)
    wrong = trust.chain(_fake_ds(fr, "DE"))
    assert wrong.status is Status.FAIL and "trusted only for country 'FR'" in wrong.reason
    right = trust.chain(_fake_ds(fr, "FR"))  # in scope; the forged signature is what fails
    assert right.status is Status.FAIL and "does not verify with the trusted CSCA" in right.reason
    # a DS that names no country is in no listed CSCA's scope (and is no crash)
    nowhere = trust.chain(_fake_ds(fr, None))
    assert nowhere.status is Status.FAIL
    assert nowhere.reason.endswith("trusted only for country 'FR', not for a DS of None")


# -- the parameter checks --------------------------------------------------------------------

NAMED = [
    "secp192r1", "secp224r1", "secp256r1", "secp384r1", "secp521r1", "brainpoolP160r1",
    "brainpoolP192r1", "brainpoolP224r1", "brainpoolP256r1", "brainpoolP320r1",
    "brainpoolP384r1", "brainpoolP512r1",
]  # fmt: skip


def _domain(der: bytes) -> ECDomain:
    return domain_of(keys.PublicKeyInfo.load(der)["algorithm"]["parameters"].chosen)


@pytest.mark.parametrize("name", NAMED)
def test_explicit_parameters_of_a_named_curve_are_that_curve(name: str) -> None:
    curve = {c.name: c for c in __import__("ecdsa").curves.curves}[
        name.replace("secp", "NIST").replace("r1", "p") if name.startswith("secp")
        else name.replace("brainpoolP", "BRAINPOOLP")
    ]  # fmt: skip
    sk = SigningKey.from_secret_exponent(12345, curve)
    der = explicit_public_key_info(name, b"\x04" + sk.get_verifying_key().to_string())
    assert named_curve_of(_domain(der)) == name
    key = load_ec_public_key(der)
    assert key.curve_name == name
    data = b"explicit parameters"
    sig = sk.sign_deterministic(data, hashfunc=hashlib.sha256, sigencode=sigencode_der)
    assert key.verify(sig, data, "sha256")
    assert not key.verify(sig, data + b"!", "sha256")


def _other_curve_key() -> tuple[SigningKey, bytes]:
    """secp256k1 with 2G as base point: sane, but no named curve."""
    g2 = SECP256k1.generator * 2
    curve = Curve("k1-2G", SECP256k1.curve, g2, (1, 3, 9999))
    sk = SigningKey.from_secret_exponent(4242, curve)
    base = ECDomain(
        int(SECP256k1.curve.p()), 0, 7, int(g2.x()), int(g2.y()), int(SECP256k1.order), 1
    )
    return sk, _spki(base, b"\x04" + sk.get_verifying_key().to_string())


def _spki(d: ECDomain, point: bytes) -> bytes:
    size = (d.p.bit_length() + 7) // 8
    spec = {
        "version": "ecdpVer1",
        "field_id": {"field_type": "prime_field", "parameters": d.p},
        "curve": {"a": d.a.to_bytes(size, "big"), "b": d.b.to_bytes(size, "big")},
        "base": b"\x04" + d.gx.to_bytes(size, "big") + d.gy.to_bytes(size, "big"),
        "order": d.n,
    }
    if d.h is not None:
        spec["cofactor"] = d.h
    return bytes(
        keys.PublicKeyInfo(
            {
                "algorithm": {
                    "algorithm": "ec",
                    "parameters": keys.ECDomainParameters(
                        name="specified", value=keys.SpecifiedECDomain(spec)
                    ),
                },
                "public_key": point,
            }
        ).dump()
    )


def test_a_sane_curve_no_one_named_is_verified_with_python_ecdsa() -> None:
    sk, der = _other_curve_key()
    key = load_ec_public_key(der)
    assert key.curve_name == "explicit" and key.cryptography_key is None
    sig = sk.sign_deterministic(b"data", hashfunc=hashlib.sha256, sigencode=sigencode_der)
    assert key.verify(sig, b"data", "sha256")
    assert not key.verify(sig, b"datA", "sha256")
    assert not key.verify(b"\x30\x00", b"data", "sha256")
    raw = sig  # the same signature as plain r ‖ s
    from ecdsa.util import sigdecode_der  # type: ignore[import-untyped]

    r, s = sigdecode_der(raw, SECP256k1.order)
    assert key.verify_plain(r.to_bytes(32, "big") + s.to_bytes(32, "big"), b"data", "sha256")
    assert not key.verify_plain(b"\x01" * 63, b"data", "sha256")


P256 = _domain(explicit_public_key_info("secp256r1", bytes.fromhex(
    "046B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296"
    "4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5"
)))  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"p": P256.p + 2}, "EC field size p is not prime"),
        ({"p": 2**127 - 1}, "EC field of 127 bits (160 to 1024 accepted)"),
        ({"a": P256.p}, "EC coefficient a or b is not a field element"),
        ({"a": 0, "b": 0}, "EC curve is singular (4a³ + 27b² = 0 mod p)"),
        ({"gy": P256.gy + 1}, "EC base point is not on the curve"),
        ({"n": P256.n + 2}, "EC order n is not prime"),
        ({"h": 4}, "EC cofactor and order violate the Hasse bound"),
        ({"b": (P256.b + 1)}, "EC base point is not on the curve"),
    ],
)
def test_insane_parameters_raise_a_typed_error(change: dict[str, int], message: str) -> None:
    import dataclasses

    bad = dataclasses.replace(P256, **change)
    with pytest.raises(InvalidDomainParameters) as info:
        check_domain(bad)
    assert str(info.value) == message
    assert isinstance(info.value, DecodeError)


def test_a_base_point_of_the_wrong_order_is_refused() -> None:
    # secp256k1 with the order of another prime: G·n ≠ O
    _, der = _other_curve_key()
    d = _domain(der)
    import dataclasses

    from ecdsa.numbertheory import next_prime  # type: ignore[import-untyped]

    wrong = dataclasses.replace(d, n=next_prime(d.n + 1000))
    with pytest.raises(InvalidDomainParameters, match=r"does not have order n|Hasse"):
        check_domain(wrong)


def test_an_invalid_key_is_a_failed_signature_not_a_not_checked() -> None:
    root = PKI(country="UZ", slot=403)
    files = EXPLICIT.sign_files(sample_files())
    # the DS certificate's explicit parameters made singular: the SOD check is FAIL
    parts = SODParts.decode(files["EF.SOD"]).signed
    ds = ax509.Certificate.load(parts.signer_certificate_der or b"")
    spki = ds.public_key.dump()
    d = _domain(spki)
    bad = _spki(ECDomain(d.p, 0, 0, d.gx, d.gy, d.n, 1), bytes(ds.public_key["public_key"].native))
    with pytest.raises(InvalidDomainParameters):
        load_ec_public_key(bad)
    alg = ds["signature_algorithm"]
    assert not _signature.verify(keys.PublicKeyInfo.load(bad), alg, b"\x30\x00", b"")
    with pytest.raises(InvalidDomainParameters):
        _signature.verifier(bad, bytes(alg.dump()))
    del root


def test_a_point_off_the_curve_is_refused() -> None:
    _, der = _other_curve_key()
    d = _domain(der)
    point = b"\x04" + (1).to_bytes(32, "big") + (1).to_bytes(32, "big")
    with pytest.raises(InvalidDomainParameters, match="not on the curve"):
        load_ec_public_key(_spki(d, point))
    named = explicit_public_key_info("brainpoolP256r1", b"\x04" + b"\x01" * 64)
    with pytest.raises(InvalidDomainParameters, match="not on the curve"):
        load_ec_public_key(named)


@given(st.binary(max_size=80))
def test_random_bytes_give_only_decode_errors(data: bytes) -> None:
    try:
        load_ec_public_key(data)
    except DecodeError:
        pass


_OTHER_KEY = load_ec_public_key(_other_curve_key()[1])


@given(st.binary(max_size=90))
def test_random_signatures_on_an_explicit_curve_are_only_false(signature: bytes) -> None:
    assert _OTHER_KEY.verify(signature, b"data", "sha256") is False
    assert _OTHER_KEY.verify_plain(signature, b"data", "sha256") is False


@pytest.mark.parametrize("curve", [ec.BrainpoolP256R1(), ec.BrainpoolP384R1(), ec.SECP256R1()])
def test_active_authentication_with_an_explicit_parameter_dg15_key(
    curve: ec.EllipticCurve,
) -> None:
    from cryptography.hazmat.primitives import serialization

    from idcard.lds.dg15 import load_public_key
    from idcard.protocols.aa import sign_challenge, verify_challenge

    k = ec.derive_private_key(0xAA15, curve)
    point = k.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    key = load_public_key(explicit_public_key_info(curve.name, point))
    assert key == k.public_key()
    challenge = bytes(range(8))
    signature = sign_challenge(k, challenge)
    assert verify_challenge(key, challenge, signature)  # type: ignore[arg-type]
    assert not verify_challenge(key, bytes(8), signature)  # type: ignore[arg-type]
