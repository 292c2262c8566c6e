"""The German and Dutch CSCA master lists as published (../shared/vectors/real-world/): they verify
against their national roots (Germany's keys in explicit brainpool parameters), a flipped bit
fails, every certificate's key loads, and the library's verdict on every self-signed and link
certificate equals OpenSSL's (issue 17)."""

from __future__ import annotations

import functools
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from asn1crypto import x509
from tests.conftest import require_real_world, require_tool

from idcard.crypto_ec import load_ec_public_key
from idcard.verify import Status, TrustStore, _signature
from idcard.verify.masterlist import MasterList, check_master_list, verify_master_list

ML = require_real_world() / "master-lists"
LISTS = {
    "DE": (ML / "DE_ML_2026-05-28-08-28-45.ml", ML / "DE_ROOT_CA_CSCA07.cer", 588),
    "NL": (ML / "NL_ML_2026-07-22.ml", ML / "NL_ROOT_CA.cer", 411),
}


@functools.cache
def _list(country: str) -> MasterList:
    return MasterList.decode(LISTS[country][0].read_bytes())


@functools.cache
def _root(country: str) -> x509.Certificate:
    return x509.Certificate.load(LISTS[country][1].read_bytes())


@pytest.mark.parametrize("country", ["DE", "NL"])
def test_the_published_master_list_verifies_against_its_root(country: str) -> None:
    ml = _list(country)
    assert len(ml.certificates) == LISTS[country][2]
    result = verify_master_list(ml, [_root(country)])
    assert result.status is Status.PASS, result.reason
    assert result.reason.endswith(f"{LISTS[country][2]} certificates")
    full = check_master_list(ml, [_root(country)])
    assert full.valid and full.unsupported is None and full.problems == ()


def test_the_german_signer_and_root_carry_explicit_brainpool_parameters() -> None:
    signer = _list("DE").signer_certificate
    assert signer is not None
    for cert, curve in ((signer, "brainpoolP256r1"), (_root("DE"), "brainpoolP512r1")):
        params = cert.public_key["algorithm"]["parameters"]
        assert params.name == "specified"
        assert load_ec_public_key(cert.public_key.dump()).curve_name == curve
    assert _signature.signed_by(signer, _root("DE"))
    assert _signature.signed_by(_root("DE"), _root("DE"))


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


@pytest.mark.parametrize("country", ["DE", "NL"])
def test_one_flipped_bit_fails(country: str) -> None:
    raw = LISTS[country][0].read_bytes()
    ml = _list(country)
    # a bit of a certificate's signature in the content: the messageDigest no longer matches
    content_at = raw.find(ml.certificates[100].dump())
    broken = MasterList.decode(_flip(raw, content_at + len(ml.certificates[100].dump()) - 5))
    result = verify_master_list(broken, [_root(country)])
    assert result.status is Status.FAIL
    assert "messageDigest is not the hash of the eContent" in result.reason
    # a bit of the signature value itself
    signature_at = raw.rfind(ml.signed.signature)
    broken = MasterList.decode(_flip(raw, signature_at + len(ml.signed.signature) // 2))
    result = verify_master_list(broken, [_root(country)])
    assert result.status is Status.FAIL
    assert result.reason.endswith("the signature does not verify with the signer key")


def test_a_root_that_did_not_issue_the_signer_is_refused() -> None:
    result = verify_master_list(_list("DE"), [_root("NL")])
    assert result.status is Status.FAIL
    assert "is not issued by a trusted CSCA" in result.reason


def test_every_key_of_both_lists_loads() -> None:
    curves: Counter[str] = Counter()
    for country in LISTS:
        for cert in _list(country).certificates:
            info = cert.public_key
            if info["algorithm"]["algorithm"].native == "ec":
                curves[load_ec_public_key(info.dump()).curve_name] += 1
            else:
                assert info["algorithm"]["algorithm"].native in ("rsa", "rsassa_pss")
    explicit = sum(
        1
        for country in LISTS
        for c in _list(country).certificates
        if c.public_key["algorithm"]["algorithm"].native == "ec"
        and c.public_key["algorithm"]["parameters"].name == "specified"
    )
    assert explicit == 160 + 111
    assert set(curves) == {
        "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1",
        "secp256r1", "secp384r1", "secp521r1",
    }  # fmt: skip


def _links(ml: MasterList) -> list[tuple[x509.Certificate, x509.Certificate]]:
    """(link certificate, the certificate of the list whose key signed it)."""
    out = []
    for c in ml.certificates:
        if c.self_signed != "no":
            continue
        issuers = [
            p for p in ml.certificates
            if p.subject == c.issuer and p is not c
            and (c.authority_key_identifier is None
                 or p.key_identifier in (None, c.authority_key_identifier))
        ]  # fmt: skip
        signed = [p for p in issuers if _signature.signed_by(c, p)]
        if issuers:
            out.append((c, signed[0] if signed else issuers[0]))
    return out


_DIGEST = {"sha1": "-sha1", "sha224": "-sha224", "sha256": "-sha256", "sha384": "-sha384",
           "sha512": "-sha512"}  # fmt: skip


def _openssl_args(cert: x509.Certificate) -> list[str]:
    alg = cert["signature_algorithm"]
    if alg["algorithm"].native == "rsassa_pss":
        p = alg["parameters"]
        return [
            _DIGEST[p["hash_algorithm"]["algorithm"].native],
            "-sigopt", "rsa_padding_mode:pss",
            "-sigopt", f"rsa_pss_saltlen:{p['salt_length'].native}",
            "-sigopt", f"rsa_mgf1_md:{p['mask_gen_algorithm']['parameters']['algorithm'].native}",
        ]  # fmt: skip
    return [_DIGEST[alg.hash_algo]]


def _openssl_verdicts(
    pairs: list[tuple[x509.Certificate, x509.Certificate]], tmp: Path
) -> list[bool]:
    """OpenSSL's verdict on each (certificate, issuer) signature: one shell running
    ``openssl dgst -verify`` per certificate (the files written once), not one Python
    subprocess each."""
    openssl = require_tool("openssl")
    lines = []
    for i, (cert, issuer) in enumerate(pairs):
        (tmp / f"{i}.tbs").write_bytes(cert["tbs_certificate"].dump())
        (tmp / f"{i}.sig").write_bytes(bytes(cert["signature_value"].native))
        (tmp / f"{i}.key").write_bytes(issuer.public_key.dump())
        args = " ".join(_openssl_args(cert))
        lines.append(
            f"if {openssl} dgst {args} -keyform DER -verify {i}.key -signature {i}.sig {i}.tbs"
            f" >/dev/null 2>&1; then echo 1; else echo 0; fi"
        )
    (tmp / "run.sh").write_text("\n".join(lines) + "\n")
    out = subprocess.run(
        ["sh", "run.sh"], cwd=tmp, capture_output=True, text=True, check=True, timeout=120
    ).stdout.split()
    assert len(out) == len(pairs)
    return [v == "1" for v in out]


@pytest.mark.tool
def test_every_self_signed_and_link_certificate_agrees_with_openssl(tmp_path: Path) -> None:
    """Differential: for all 999 certificates of both lists, the library's verdict on each
    self-signed certificate (and each link certificate under the CSCA it links) equals
    OpenSSL's, which handles explicit EC parameters natively."""
    pairs: list[tuple[x509.Certificate, x509.Certificate]] = []
    total = 0
    for country in LISTS:
        certs = _list(country).certificates
        total += len(certs)
        pairs += [(c, c) for c in certs if c.self_signed != "no"]
        pairs += _links(_list(country))
    ours = [_signature.signed_by(c, p) for c, p in pairs]
    theirs = _openssl_verdicts(pairs, tmp_path)
    disagree = [
        (c.subject.human_friendly, a, b) for (c, _), a, b in zip(pairs, ours, theirs, strict=True)
        if a != b
    ]  # fmt: skip
    assert total == 999
    assert disagree == [], f"{len(disagree)} of {len(pairs)} verdicts differ from OpenSSL"
    assert len(pairs) > 900
    # every link certificate verifies against the CSCA it links
    links = [p for p in pairs if p[0] is not p[1]]
    assert links and all(ours[pairs.index(p)] for p in links)
    print(f"openssl agrees on {len(pairs)} signatures ({len(links)} link certificates)")


def test_the_german_list_as_trust_store_trusts_its_cscas() -> None:
    trust = TrustStore([_root("DE")], master_lists=[_list("DE")])
    assert [r.status for r in trust.master_list_results] == [Status.PASS]
    assert len(trust.trusted) > 500
