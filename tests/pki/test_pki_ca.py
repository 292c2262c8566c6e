"""pki.ca and pki.profiles: CSCA, link, DS, MLS, DLS certificates and CRLs, signed through the
file key store and through SoftHSM2, verified with cryptography, openssl and pkilint."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import core, x509
from asn1crypto import crl as acrl
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tests.conftest import require_tool
from tests.softhsm import SoftHSMToken

from pki.asn1 import DocumentTypeListSyntax
from pki.ca import CAState, CertificateAuthority, pem_certificate, pem_crl
from pki.errors import IssuanceError
from pki.filestore import FileKeyStore
from pki.hsm import PKCS11Module
from pki.keys import KeySpec, KeyStore, SignatureAlgorithm, generate_private_key
from pki.profiles import Validity, document_type_list, make_name

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)


@dataclass
class Hierarchy:
    folder: Path
    ca: CertificateAuthority
    new_ca: CertificateAuthority
    ds: x509.Certificate
    mls: x509.Certificate
    dls: x509.Certificate
    link: x509.Certificate
    crl_der: bytes

    def write(self) -> dict[str, Path]:
        files = {
            "csca": pem_certificate(self.ca.certificate),
            "csca2": pem_certificate(self.new_ca.certificate),
            "ds": pem_certificate(self.ds),
            "mls": pem_certificate(self.mls),
            "dls": pem_certificate(self.dls),
            "link": pem_certificate(self.link),
        }
        out = {}
        for name, data in files.items():
            out[name] = self.folder / f"{name}.pem"
            out[name].write_bytes(data)
        out["crl"] = self.folder / "crl.der"
        out["crl"].write_bytes(self.crl_der)
        return out


def _build(folder: Path, store: KeyStore, spec: KeySpec) -> Hierarchy:
    state = folder / "state.json"
    ca = CertificateAuthority.create_csca(
        store.generate("csca", spec), state, country="UZ", common_name="CSCA Uzbekistan",
        organization="Republic of Uzbekistan", crl_urls=["http://pki.example.uz/csca.crl"],
        now=NOW,
    )
    ds = ca.issue_document_signer(
        store.generate("ds", spec).public_key(), common_name="DS 1", doc_types=("ID", "P"),
        now=NOW,
    )
    mls = ca.issue_master_list_signer(
        store.generate("mls", spec).public_key(), common_name="MLS", now=NOW
    )
    dls = ca.issue_deviation_list_signer(
        store.generate("dls", spec).public_key(), common_name="DLS", now=NOW
    )
    link, new_ca = ca.issue_link(
        store.generate("csca2", spec), common_name="CSCA Uzbekistan 2", now=NOW
    )
    ca.revoke(ds.serial_number, reason="key_compromise", when=NOW)
    crl = ca.issue_crl(now=NOW)
    return Hierarchy(folder, ca, new_ca, ds, mls, dls, link, crl.dump())


@pytest.fixture(scope="module", params=["file-ec", "file-rsa", "hsm-ec", "hsm-rsa"])
def hierarchy(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Hierarchy]:
    kind, key = str(request.param).split("-")
    spec = KeySpec.parse("ec-brainpoolP256r1" if key == "ec" else "rsa-2048")
    folder = tmp_path_factory.mktemp(str(request.param))
    if kind == "file":
        yield _build(folder, FileKeyStore(folder / "keys", lambda: b"test"), spec)
        return
    token: SoftHSMToken = request.getfixturevalue("new_softhsm_token")()  # a token of its own
    module = PKCS11Module(token.module)
    with module.token(token.label).session(lambda: token.pin) as session:
        prefix = f"ca-{folder.name}-"

        class Prefixed:
            def generate(self, label: str, spec: KeySpec) -> object:
                return session.generate(prefix + label, spec)

        yield _build(folder, Prefixed(), spec)  # type: ignore[arg-type]


def _crypto(cert: x509.Certificate) -> cx509.Certificate:
    return cx509.load_der_x509_certificate(cert.dump())


def test_chain_verifies_with_cryptography(hierarchy: Hierarchy) -> None:
    csca = _crypto(hierarchy.ca.certificate)
    csca.verify_directly_issued_by(csca)
    for cert in (hierarchy.ds, hierarchy.mls, hierarchy.dls, hierarchy.link):
        _crypto(cert).verify_directly_issued_by(csca)
    new = _crypto(hierarchy.new_ca.certificate)
    new.verify_directly_issued_by(new)
    assert _crypto(hierarchy.link).public_key() == new.public_key()
    crl = cx509.load_der_x509_crl(hierarchy.crl_der)
    assert crl.is_signature_valid(csca.public_key())
    assert not crl.is_signature_valid(new.public_key())


def test_csca_profile(hierarchy: Hierarchy) -> None:
    cert = _crypto(hierarchy.ca.certificate)
    assert cert.version is cx509.Version.v3
    ku = cert.extensions.get_extension_for_class(cx509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
    assert not ku.value.digital_signature
    bc = cert.extensions.get_extension_for_class(cx509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ski = cert.extensions.get_extension_for_class(cx509.SubjectKeyIdentifier).value
    assert ski == cx509.SubjectKeyIdentifier.from_public_key(cert.public_key())
    assert cert.subject == cert.issuer
    country = cert.subject.get_attributes_for_oid(cx509.NameOID.COUNTRY_NAME)[0]
    assert country.value == "UZ" and country._type.name == "PrintableString"
    pkup = hierarchy.ca.certificate.private_key_usage_period_value
    assert pkup is not None and pkup["not_after"].native < cert.not_valid_after_utc
    dp = cert.extensions.get_extension_for_class(cx509.CRLDistributionPoints).value
    assert dp[0].full_name == [cx509.UniformResourceIdentifier("http://pki.example.uz/csca.crl")]


def test_document_signer_profile(hierarchy: Hierarchy) -> None:
    cert = _crypto(hierarchy.ds)
    ku = cert.extensions.get_extension_for_class(cx509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    aki = cert.extensions.get_extension_for_class(cx509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == hierarchy.ca.key_id
    raw = cert.extensions.get_extension_for_oid(cx509.ObjectIdentifier("2.23.136.1.1.6.2"))
    assert not raw.critical
    dtl = DocumentTypeListSyntax.load(raw.value.value)
    assert dtl["version"].native == 0
    assert sorted(dtl["doc_type_list"].native) == ["ID", "P"]
    assert all(isinstance(v, core.PrintableString) for v in dtl["doc_type_list"])
    pkup = hierarchy.ds.private_key_usage_period_value
    assert pkup["not_after"].native - pkup["not_before"].native == dt.timedelta(days=90)
    with pytest.raises(cx509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(cx509.BasicConstraints)


@pytest.mark.parametrize(("attr", "oid"), [("mls", "2.23.136.1.1.3"), ("dls", "2.23.136.1.1.10")])
def test_list_signer_profiles(hierarchy: Hierarchy, attr: str, oid: str) -> None:
    cert = _crypto(getattr(hierarchy, attr))
    eku = cert.extensions.get_extension_for_class(cx509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [cx509.ObjectIdentifier(oid)]
    ku = cert.extensions.get_extension_for_class(cx509.KeyUsage)
    assert ku.critical and ku.value.digital_signature


def test_link_certificate(hierarchy: Hierarchy) -> None:
    link = _crypto(hierarchy.link)
    old = _crypto(hierarchy.ca.certificate)
    assert link.issuer == old.subject
    assert link.subject == _crypto(hierarchy.new_ca.certificate).subject != old.subject
    aki = link.extensions.get_extension_for_class(cx509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == hierarchy.ca.key_id
    name_change = link.extensions.get_extension_for_oid(cx509.ObjectIdentifier("2.23.136.1.1.6.1"))
    assert name_change.value.value == b"\x05\x00"  # NULL, 9303-12 §7.1.1.2
    assert link.extensions.get_extension_for_class(cx509.BasicConstraints).value.ca


def test_crl_profile(hierarchy: Hierarchy) -> None:
    crl = cx509.load_der_x509_crl(hierarchy.crl_der)
    assert crl.next_update_utc is not None
    assert crl.extensions.get_extension_for_class(cx509.CRLNumber).value.crl_number == 1
    aki = crl.extensions.get_extension_for_class(cx509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == hierarchy.ca.key_id
    revoked = crl.get_revoked_certificate_by_serial_number(hierarchy.ds.serial_number)
    assert revoked is not None
    reason = revoked.extensions.get_extension_for_class(cx509.CRLReason).value
    assert reason.reason is cx509.ReasonFlags.key_compromise
    assert len(crl) == 1


def test_state_file_records_serials(hierarchy: Hierarchy) -> None:
    state = CAState.load(hierarchy.ca.state_path)
    serials = [r.serial for r in state.issued]
    assert serials == sorted(set(serials))
    assert hierarchy.ds.serial_number in serials and hierarchy.link.serial_number in serials
    assert [r.serial for r in state.revoked] == [hierarchy.ds.serial_number]
    assert state.next_crl_number == 2


@pytest.mark.tool
def test_openssl_verify_and_crl(hierarchy: Hierarchy) -> None:
    openssl = require_tool("openssl")
    f = hierarchy.write()
    out = subprocess.run(
        [openssl, "verify", "-x509_strict", "-CAfile", f["csca"], f["ds"], f["mls"], f["dls"],
         f["link"]],
        capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count(": OK") == 4
    out = subprocess.run(
        [openssl, "verify", "-crl_check", "-CAfile", f["csca"], "-CRLfile", f["crl"], f["ds"]],
        capture_output=True, text=True,
    )
    assert out.returncode != 0 and "certificate revoked" in out.stdout + out.stderr
    out = subprocess.run(
        [openssl, "verify", "-crl_check", "-CAfile", f["csca"], "-CRLfile", f["crl"], f["mls"]],
        capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    out = subprocess.run(
        [openssl, "crl", "-inform", "DER", "-in", f["crl"], "-CAfile", f["csca"], "-noout"],
        capture_output=True, text=True,
    )
    assert out.returncode == 0 and "verify OK" in out.stdout + out.stderr


def _pkilint(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = Path(sys.executable).parent / tool
    return subprocess.run([str(path), "lint", "-s", "WARNING", *args], capture_output=True,
                          text=True)


@pytest.mark.tool
def test_pkilint_reports_no_warnings_or_errors(hierarchy: Hierarchy) -> None:
    f = hierarchy.write()
    for name in ("csca", "csca2", "ds", "mls", "dls", "link"):
        out = _pkilint("lint_pkix_cert", str(f[name]))
        assert out.returncode == 0 and out.stdout.strip() == "", (name, out.stdout, out.stderr)
    out = _pkilint("lint_crl", "-t", "CRL", "-p", "PKIX", str(f["crl"]))
    assert out.returncode == 0 and out.stdout.strip() == "", out.stdout + out.stderr


# -- profile inputs -------------------------------------------------------------------------------


def test_bad_profile_inputs_raise_issuance_error(tmp_path: Path) -> None:
    with pytest.raises(IssuanceError):
        make_name("uz", "CSCA")
    with pytest.raises(IssuanceError):
        make_name("UZ", "")
    with pytest.raises(IssuanceError):
        document_type_list([])
    with pytest.raises(IssuanceError):
        document_type_list(["IDX"])
    with pytest.raises(IssuanceError):
        Validity(NOW, NOW + dt.timedelta(days=1), NOW + dt.timedelta(days=2))
    with pytest.raises(IssuanceError):
        Validity(NOW.replace(tzinfo=None), NOW, NOW)


def test_ca_refuses_foreign_signer_and_bad_revocations(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys", lambda: b"pw")
    spec = KeySpec.parse("ec-p256")
    ca = CertificateAuthority.create_csca(
        store.generate("c", spec), tmp_path / "s.json", country="UZ", common_name="CSCA", now=NOW
    )
    with pytest.raises(IssuanceError, match="not the CA certificate's key"):
        CertificateAuthority(ca.certificate, store.generate("other", spec), tmp_path / "s.json")
    with pytest.raises(IssuanceError, match="not issued"):
        ca.revoke(999)
    with pytest.raises(IssuanceError, match="reason"):
        ca.revoke(1, reason="because")
    ds = ca.issue_document_signer(
        generate_private_key(spec).public_key(), common_name="DS", now=NOW
    )
    ca.revoke(ds.serial_number)
    with pytest.raises(IssuanceError, match="already revoked"):
        ca.revoke(ds.serial_number)
    with pytest.raises(IssuanceError, match="outlive"):
        ca.issue_document_signer(
            generate_private_key(spec).public_key(), common_name="DS", now=NOW,
            validity=dt.timedelta(days=365 * 30),
        )
    # an empty-reason revocation is listed without a reasonCode entry extension
    crl = cx509.load_der_x509_crl(ca.issue_crl(now=NOW).dump())
    entry = crl.get_revoked_certificate_by_serial_number(ds.serial_number)
    assert entry is not None and len(entry.extensions) == 0


def test_pss_and_pkcs1_signatures_in_certificates(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys", lambda: b"pw")
    for i, alg in enumerate(
        (SignatureAlgorithm.rsa_pkcs1v15("sha256"), SignatureAlgorithm.rsa_pss("sha384"))
    ):
        ca = CertificateAuthority.create_csca(
            store.generate(f"c{i}", KeySpec.parse("rsa-2048")), tmp_path / f"s{i}.json",
            country="UZ", common_name="CSCA", algorithm=alg, now=NOW,
        )
        ds = ca.issue_document_signer(
            ec.generate_private_key(ec.SECP256R1()).public_key(), common_name="DS", now=NOW
        )
        cert = _crypto(ds)
        cert.verify_directly_issued_by(_crypto(ca.certificate))
        assert ds["signature_algorithm"].dump() == alg.signed_digest_algorithm().dump()


def test_pem_crl_armour(hierarchy: Hierarchy) -> None:
    pem = pem_crl(acrl.CertificateList.load(hierarchy.crl_der))
    assert pem.startswith(b"-----BEGIN X509 CRL-----")
    der = cx509.load_pem_x509_crl(pem).public_bytes(serialization.Encoding.DER)
    assert der == hierarchy.crl_der
