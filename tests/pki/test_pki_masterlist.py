"""pki.masterlist: build, sign, parse back, detect tampering; pki.asn1 registration."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from asn1crypto import cms, x509
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import require_tool
from tests.softhsm import SoftHSMToken

from idcard.errors import DecodeError
from pki import asn1 as pki_asn1
from pki.ca import CertificateAuthority, pem_certificate
from pki.errors import IssuanceError
from pki.filestore import FileKeyStore
from pki.hsm import PKCS11Module
from pki.keys import KeySpec, SignatureAlgorithm, Signer
from pki.masterlist import build_master_list, parse_master_list

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)


class PKI:
    def __init__(self, folder: Path, country: str = "UZ", spec: str = "ec-p256") -> None:
        self.store = FileKeyStore(folder / "keys", lambda: b"pw")
        k = KeySpec.parse(spec)
        self.ca = CertificateAuthority.create_csca(
            self.store.generate("csca", k), folder / "state.json", country=country,
            common_name=f"CSCA {country}", now=NOW,
        )
        self.mls_signer = self.store.generate("mls", k)
        self.mls = self.ca.issue_master_list_signer(
            self.mls_signer.public_key(), common_name="MLS", now=NOW
        )
        self.ds_signer = self.store.generate("ds", k)
        self.ds = self.ca.issue_document_signer(
            self.ds_signer.public_key(), common_name="DS", now=NOW
        )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return PKI(tmp_path_factory.mktemp("ml"))


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return PKI(tmp_path_factory.mktemp("foreign"), "KZ", "rsa-2048")


def _ml(pki: PKI, foreign: PKI, signer: Signer | None = None) -> bytes:
    return build_master_list(
        [pki.ca.certificate, foreign.ca.certificate],
        signer or pki.mls_signer,
        pki.mls,
        issuer_certificate=pki.ca.certificate,
        signing_time=NOW,
    )


def test_registration_happened() -> None:
    assert pki_asn1.registered()
    assert cms.ContentType("2.23.136.1.1.2").native == "icao_csca_master_list"
    assert x509.KeyPurposeId("2.23.136.1.1.10").native == "icao_deviation_list_signing"
    pki_asn1.register()  # idempotent
    assert pki_asn1.registered()


def test_build_and_parse_back(pki: PKI, foreign: PKI) -> None:
    data = _ml(pki, foreign)
    result = parse_master_list(data)
    assert result.valid, result.problems
    assert result.intact and result.signature_valid
    assert result.signer_is_master_list_signer and result.signer_issued_by_listed_csca
    assert result.problems == ()
    got = sorted(c.dump() for c in result.csca_certificates)
    assert got == sorted([pki.ca.certificate.dump(), foreign.ca.certificate.dump()])
    assert result.signer_certificate is not None
    assert result.signer_certificate.dump() == pki.mls.dump()
    assert result.signing_time == NOW
    info = cms.ContentInfo.load(data)
    sd = info["content"]
    assert sd["version"].native == "v3"
    assert sd["encap_content_info"]["content_type"].dotted == "2.23.136.1.1.2"
    ml = sd["encap_content_info"]["content"].parsed
    assert ml["version"].native == 0
    attrs = {a["type"].native for a in sd["signer_infos"][0]["signed_attrs"]}
    assert attrs == {"content_type", "message_digest", "signing_time"}


def test_master_list_signed_on_the_hsm(
    pki: PKI, foreign: PKI, fresh_softhsm_token: SoftHSMToken, tmp_path: Path
) -> None:
    softhsm_token = fresh_softhsm_token  # its own token: the fixed label is free on every run
    module = PKCS11Module(softhsm_token.module)
    with module.token(softhsm_token.label).session(lambda: softhsm_token.pin) as session:
        key = session.generate_key("ml-hsm-mls", KeySpec.parse("ec-p384"))
        cert = pki.ca.issue_master_list_signer(key.public_key(), common_name="MLS HSM", now=NOW)
        data = build_master_list([pki.ca.certificate], key, cert, signing_time=NOW)
    result = parse_master_list(data, trust_anchors=[pki.ca.certificate])
    assert result.valid, result.problems


@pytest.mark.tool
def test_openssl_cms_verifies(pki: PKI, foreign: PKI, tmp_path: Path) -> None:
    openssl = require_tool("openssl")
    (tmp_path / "ml.der").write_bytes(_ml(pki, foreign))
    (tmp_path / "csca.pem").write_bytes(pem_certificate(pki.ca.certificate))
    out = subprocess.run(
        [openssl, "cms", "-verify", "-inform", "DER", "-in", tmp_path / "ml.der", "-CAfile",
         tmp_path / "csca.pem", "-purpose", "any", "-out", tmp_path / "content.der"],
        capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr
    content = (tmp_path / "content.der").read_bytes()
    assert pki_asn1.CscaMasterList.load(content)["version"].native == 0


def test_tampered_content_is_reported(pki: PKI, foreign: PKI) -> None:
    data = bytearray(_ml(pki, foreign))
    i = bytes(data).find(b"CSCA KZ")  # the foreign CSCA's subject CN, inside the content
    assert i > 0
    data[i + 6 : i + 7] = b"Y"
    result = parse_master_list(bytes(data))
    assert not result.intact and not result.valid
    assert "messageDigest does not match the content" in result.problems
    assert result.signature_valid  # the signed attributes themselves are untouched


def test_tampered_signature_is_reported(pki: PKI, foreign: PKI) -> None:
    data = _ml(pki, foreign)
    info = cms.ContentInfo.load(data)
    sig = info["content"]["signer_infos"][0]["signature"].native
    i = data.rfind(sig)
    bad = data[: i + 10] + bytes([data[i + 10] ^ 0x80]) + data[i + 11 :]
    result = parse_master_list(bad)
    assert result.intact and not result.signature_valid and not result.valid
    assert "the signature does not verify" in result.problems


def test_signed_by_another_key_is_reported(pki: PKI, foreign: PKI) -> None:
    # the DS key signs, but the sid names the MLS certificate: the signature does not verify
    with pytest.raises(IssuanceError):
        _ml(pki, foreign, signer=pki.ds_signer)


def test_signer_without_mls_eku_is_refused(pki: PKI) -> None:
    with pytest.raises(IssuanceError, match="EKU"):
        build_master_list([pki.ca.certificate], pki.ds_signer, pki.ds)
    with pytest.raises(IssuanceError):
        build_master_list([], pki.mls_signer, pki.mls)


def test_foreign_signer_not_issued_by_listed_csca(pki: PKI, foreign: PKI) -> None:
    data = build_master_list(
        [foreign.ca.certificate], foreign.mls_signer, foreign.mls,
        algorithm=SignatureAlgorithm.rsa_pkcs1v15("sha256"), signing_time=NOW,
    )
    result = parse_master_list(data)
    assert result.intact and result.signature_valid
    assert result.signer_issued_by_listed_csca  # KZ's own CSCA is in the list
    only_ours = build_master_list(
        [pki.ca.certificate], foreign.mls_signer, foreign.mls, signing_time=NOW
    )
    result = parse_master_list(only_ours)
    assert result.signature_valid and not result.signer_issued_by_listed_csca
    assert not result.valid
    assert parse_master_list(only_ours, trust_anchors=[foreign.ca.certificate]).valid


def test_not_a_master_list_is_decode_error(pki: PKI) -> None:
    with pytest.raises(DecodeError):
        parse_master_list(pki.ca.certificate.dump())
    other = cms.ContentInfo(
        {"content_type": "data", "content": b"hello"}
    ).dump()
    with pytest.raises(DecodeError):
        parse_master_list(other)


@given(st.binary(max_size=300))
def test_random_bytes_give_only_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError):
        parse_master_list(data)


def test_truncations_give_only_decode_error(pki: PKI, foreign: PKI) -> None:
    data = _ml(pki, foreign)
    for cut in range(0, len(data), max(1, len(data) // 40)):
        with pytest.raises(DecodeError):
            parse_master_list(data[:cut])


def test_idcard_reader_accepts_our_master_list(pki: PKI, foreign: PKI) -> None:
    from idcard.verify.masterlist import MasterList, verify_master_list
    from idcard.verify.report import Status

    ml = MasterList.decode(_ml(pki, foreign))
    assert sorted(c.dump() for c in ml.certificates) == sorted(
        [pki.ca.certificate.dump(), foreign.ca.certificate.dump()]
    )
    assert verify_master_list(ml, [pki.ca.certificate]).status is Status.PASS
    assert verify_master_list(ml, [foreign.ca.certificate]).status is not Status.PASS
