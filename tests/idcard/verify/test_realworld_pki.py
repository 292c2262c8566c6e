"""The project's own PKI issues a CSCA, DS and master-list signer with explicit-parameter keys, as
Germany does (issue 17), and what it issues passes passive authentication and master-list
verification; OpenSSL reads the keys and checks the DS signature."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tests.conftest import require_tool
from tests.idcard.verify.pa_pki import key, sample_files

from idcard.crypto_ec import load_ec_public_key
from idcard.verify import Status, TrustStore, verify_passive
from idcard.verify.masterlist import MasterList, verify_master_list
from pki.ca import CertificateAuthority, certificate_public_key
from pki.errors import KeyStoreError
from pki.keys import ExplicitParametersKey, ExplicitParametersSigner, SoftwareSigner
from pki.masterlist import build_master_list
from pki.sod import SODBuilder

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
CSCA_KEY = ec.derive_private_key(0x5EED1, ec.BrainpoolP384R1())
DS_KEY = ec.derive_private_key(0x5EED2, ec.BrainpoolP256R1())
MLS_KEY = ec.derive_private_key(0x5EED3, ec.BrainpoolP256R1())


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    state = tmp_path_factory.mktemp("explicit-ca") / "state.json"
    return CertificateAuthority.create_csca(
        ExplicitParametersSigner(SoftwareSigner(CSCA_KEY, "csca")), state, country="UZ",
        common_name="CSCA Uzbekistan explicit", organization="Republic of Uzbekistan", now=NOW,
    )  # fmt: skip


def _explicit(info: object) -> str:
    params = info["algorithm"]["parameters"]  # type: ignore[index]
    assert params.name == "specified"
    return load_ec_public_key(info.dump()).curve_name  # type: ignore[attr-defined]


def test_the_ca_issues_explicit_parameter_certificates(ca: CertificateAuthority) -> None:
    assert _explicit(ca.certificate.public_key) == "brainpoolP384r1"
    ds = ca.issue_document_signer(
        ExplicitParametersKey(DS_KEY.public_key()), common_name="DS explicit", now=NOW
    )
    assert _explicit(ds.public_key) == "brainpoolP256r1"
    assert certificate_public_key(ds) == DS_KEY.public_key()
    # a CA reopened from its explicit-parameter certificate accepts its own signer
    again = CertificateAuthority(ca.certificate, SoftwareSigner(CSCA_KEY, "csca"), ca.state_path)
    assert again.certificate.dump() == ca.certificate.dump()


def test_a_document_of_the_explicit_pki_passes(ca: CertificateAuthority) -> None:
    ds = ca.issue_document_signer(
        ExplicitParametersKey(DS_KEY.public_key()), common_name="DS explicit 2",
        doc_types=("I", "ID"), now=NOW,
    )  # fmt: skip
    files = sample_files()
    b = SODBuilder().hash_algorithm("sha256").signing_time(NOW + dt.timedelta(days=1))
    for name, raw in files.items():
        if name.startswith("DG"):
            b = b.data_group(int(name[2:]), raw)
    files["EF.SOD"] = b.sign(SoftwareSigner(DS_KEY, "ds"), ds)
    report = verify_passive(files, TrustStore([ca.certificate]), at=NOW + dt.timedelta(days=30))
    assert report.ok, [(c.name, c.reason) for c in report.checks]


def test_a_master_list_signed_under_the_explicit_pki_verifies(ca: CertificateAuthority) -> None:
    mls = ca.issue_master_list_signer(
        ExplicitParametersKey(MLS_KEY.public_key()), common_name="MLS explicit", now=NOW
    )
    data = build_master_list(
        [ca.certificate], SoftwareSigner(MLS_KEY, "mls"), mls, signing_time=NOW
    )
    result = verify_master_list(MasterList.decode(data), [ca.certificate])
    assert result.status is Status.PASS, result.reason


def test_openssl_reads_the_explicit_key_and_checks_the_ds(
    ca: CertificateAuthority, tmp_path: Path
) -> None:
    openssl = require_tool("openssl")
    ds = ca.issue_document_signer(
        ExplicitParametersKey(DS_KEY.public_key()), common_name="DS explicit 3", now=NOW
    )
    (tmp_path / "csca.der").write_bytes(ca.certificate.public_key.dump())
    text = subprocess.run(
        [openssl, "pkey", "-pubin", "-inform", "DER", "-in", "csca.der", "-noout", "-text"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "Field Type: prime-field" in text and "Cofactor:  1 (0x1)" in text
    (tmp_path / "tbs").write_bytes(ds["tbs_certificate"].dump())
    (tmp_path / "sig").write_bytes(bytes(ds["signature_value"].native))
    ok = subprocess.run(
        [openssl, "dgst", "-sha384", "-keyform", "DER", "-verify", "csca.der",
         "-signature", "sig", "tbs"], cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert ok.returncode == 0 and ok.stdout.strip() == "Verified OK"


def test_the_explicit_key_writes_spki_in_pem_and_refuses_rsa() -> None:
    explicit = ExplicitParametersKey(DS_KEY.public_key())
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    pem = explicit.public_bytes(serialization.Encoding.PEM, spki)
    der = explicit.public_bytes(serialization.Encoding.DER, spki)
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert load_ec_public_key(der).cryptography_key == DS_KEY.public_key()
    assert explicit == DS_KEY.public_key() and explicit.curve.name == "brainpoolP256r1"
    rsa_key = key("rsa2048")
    with pytest.raises(KeyStoreError, match="explicit domain parameters need an EC key"):
        ExplicitParametersSigner(SoftwareSigner(rsa_key, "rsa"))
