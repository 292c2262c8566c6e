"""The e-signature CA: profile (pkilint ETSI + RFC 5280), enrollment checks, register, CRL."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from asn1crypto import crl, x509
from cryptography import x509 as cx509
from tests.conftest import require_tool
from tests.pki.test_esign_kit import ALISHER, NODIRA, NOW, ec_signer, make_ca, run_lint

from pki.ca import pem_certificate, pem_crl
from pki.enroll import build_request, enroll
from pki.errors import IssuanceError
from pki.esign import (
    ID_ETSI_QCS_SEMANTICS_ID_NATURAL,
    ID_IDKARTA_ESIGN_POLICY,
    ID_UZ_PINFL,
    EnrollmentRefused,
    EsignCA,
    EsignRegister,
    HolderRecord,
    QCStatements,
    RevocationCause,
    ServiceURLs,
)
from pki.keys import verify_signature


def _crypto(cert: x509.Certificate) -> cx509.Certificate:
    return cx509.load_der_x509_certificate(cert.dump())


def test_certificate_profile(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    holder = ec_signer()
    issued = enroll(holder, ALISHER, ca, now=NOW)
    cert = _crypto(issued.certificate)
    subject = {a.oid.dotted_string: a.value for a in cert.subject}
    assert subject == {
        "2.5.4.6": "UZ",
        "2.5.4.4": "TOSHMATOV",
        "2.5.4.42": "ALISHER",
        "2.5.4.5": "PNOUZ-31507880230014",
        "2.5.4.3": "ALISHER TOSHMATOV",
        ID_UZ_PINFL: "31507880230014",
    }
    assert cert.issuer == _crypto(ca.certificate).subject
    ku = cert.extensions.get_extension_for_class(cx509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and ku.value.content_commitment
    assert not ku.value.key_cert_sign
    policies = cert.extensions.get_extension_for_class(cx509.CertificatePolicies).value
    assert [p.policy_identifier.dotted_string for p in policies] == [ID_IDKARTA_ESIGN_POLICY]
    aia = cert.extensions.get_extension_for_class(cx509.AuthorityInformationAccess).value
    assert {d.access_method.dotted_string: d.access_location.value for d in aia} == {
        "1.3.6.1.5.5.7.48.1": "http://pki.idkarta.uz/ocsp",
        "1.3.6.1.5.5.7.48.2": "http://pki.idkarta.uz/ca/esign.crt",
    }
    dps = cert.extensions.get_extension_for_class(cx509.CRLDistributionPoints).value
    assert dps[0].full_name[0].value == "http://pki.idkarta.uz/crl/esign.crl"
    aki = cert.extensions.get_extension_for_class(cx509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ca.key_id
    ski = cert.extensions.get_extension_for_class(cx509.SubjectKeyIdentifier).value
    assert ski == cx509.SubjectKeyIdentifier.from_public_key(holder.public_key())
    qc = cert.extensions.get_extension_for_oid(cx509.ObjectIdentifier("1.3.6.1.5.5.7.1.3"))
    statements = QCStatements.load(qc.value.value)
    assert statements[0]["statement_id"].dotted == "1.3.6.1.5.5.7.11.2"
    info = statements[0]["statement_info"]
    assert info["semantics_identifier"].dotted == ID_ETSI_QCS_SEMANTICS_ID_NATURAL
    assert cert.public_key() == holder.public_key()
    # default validity: 2 years from issuance
    assert cert.not_valid_before_utc == NOW
    assert cert.not_valid_after_utc == NOW + dt.timedelta(days=730)
    assert verify_signature(
        ca.signer.public_key(), cert.signature, cert.tbs_certificate_bytes, ca.algorithm
    )


def test_validity_never_past_card_expiry(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    issued = enroll(ec_signer(), NODIRA, ca, now=NOW)  # card expires 2027-06-30
    assert issued.not_after == dt.datetime(2027, 6, 30, 23, 59, 59, tzinfo=dt.UTC)
    longer = enroll(ec_signer(), ALISHER, ca, now=NOW, validity=dt.timedelta(days=365))
    assert longer.not_after == NOW + dt.timedelta(days=365)


def test_expired_card_refused(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    with pytest.raises(EnrollmentRefused, match="expired"):
        enroll(ec_signer(), NODIRA, ca, now=dt.datetime(2027, 7, 1, tzinfo=dt.UTC))
    assert ca.register.count() == 1  # the CA certificate only


@pytest.mark.tool
def test_pkilint_etsi_and_pkix(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    issued = enroll(ec_signer(), ALISHER, ca, now=NOW)
    (tmp_path / "ee.pem").write_bytes(pem_certificate(issued.certificate))
    (tmp_path / "ca.pem").write_bytes(pem_certificate(ca.certificate))
    ee, root = str(tmp_path / "ee.pem"), str(tmp_path / "ca.pem")
    assert run_lint("lint_etsi_cert", "-t", "NCP-NATURAL-PERSON-CERTIFICATE", ee) == ""
    assert run_lint("lint_pkix_cert", ee) == ""
    assert run_lint("lint_pkix_cert", root) == ""
    ca.revoke(issued.serial, RevocationCause.LOST_CARD, when=NOW)
    (tmp_path / "crl.pem").write_bytes(pem_crl(ca.issue_crl(now=NOW)))
    assert run_lint("lint_crl", "-t", "CRL", "-p", "PKIX", str(tmp_path / "crl.pem")) == ""


@pytest.mark.tool
def test_openssl_verifies_request_and_certificate(tmp_path: Path) -> None:
    openssl = require_tool("openssl")
    ca = make_ca(tmp_path)
    holder = ec_signer()
    (tmp_path / "req.der").write_bytes(build_request(holder, ALISHER))
    out = subprocess.run(
        [openssl, "req", "-inform", "DER", "-in", str(tmp_path / "req.der"), "-verify",
         "-noout"], capture_output=True, text=True,
    )
    assert out.returncode == 0 and "verify OK" in out.stdout + out.stderr
    issued = ca.issue((tmp_path / "req.der").read_bytes(), ALISHER)
    (tmp_path / "ee.pem").write_bytes(pem_certificate(issued.certificate))
    (tmp_path / "ca.pem").write_bytes(pem_certificate(ca.certificate))
    out = subprocess.run(
        [openssl, "verify", "-CAfile", str(tmp_path / "ca.pem"), str(tmp_path / "ee.pem")],
        capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_request_for_another_person_refused(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    request = build_request(ec_signer(), ALISHER)
    with pytest.raises(EnrollmentRefused, match="does not match"):
        ca.issue(request, NODIRA)  # Alisher's request replayed at Nodira's enrollment
    same_pinfl_other_name = HolderRecord(
        ALISHER.pinfl, "TOSHMATOV", "ALI", ALISHER.card_number, ALISHER.card_expiry
    )
    with pytest.raises(EnrollmentRefused):
        ca.issue(request, same_pinfl_other_name)
    assert ca.register.count() == 1
    assert ca.issue(request, ALISHER).pinfl == ALISHER.pinfl


def test_request_without_proof_of_possession_refused(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    request = bytearray(build_request(ec_signer(), ALISHER))
    request[-3] ^= 0x01  # flip a bit of the signature
    with pytest.raises(EnrollmentRefused):
        ca.issue(bytes(request), ALISHER)
    with pytest.raises(EnrollmentRefused, match="PKCS#10"):
        ca.issue(b"\x30\x03\x02\x01\x00", ALISHER)


def test_same_key_certified_once(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    holder = ec_signer()
    first = enroll(holder, ALISHER, ca, now=NOW)
    with pytest.raises(EnrollmentRefused, match="already certified"):
        enroll(holder, ALISHER, ca, now=NOW)
    ca.revoke(first.serial, RevocationCause.REPLACED_CARD, when=NOW)
    assert ca.register.status(first.serial).reason == "superseded"


class _FailingSigner:
    """A signer that dies half way (after ``ok`` signatures), like a lost HSM session."""

    def __init__(self, ok: int = 0) -> None:
        self._inner = ec_signer("flaky")
        self.ok = ok
        self.label = "flaky"
        self.algorithm = self._inner.algorithm
        self.key_spec = self._inner.key_spec

    def public_key(self):  # type: ignore[no-untyped-def]
        return self._inner.public_key()

    def sign(self, data: bytes, algorithm):  # type: ignore[no-untyped-def]
        if self.ok <= 0:
            raise OSError("device removed")
        self.ok -= 1
        return self._inner.sign(data, algorithm)


def test_failing_signer_leaves_no_half_issued_certificate(tmp_path: Path) -> None:
    flaky = _FailingSigner(ok=1)  # signs the CA certificate, then fails
    register = EsignRegister(tmp_path / "esign.sqlite")
    ca = EsignCA.create(register, flaky, ServiceURLs.at("http://pki.idkarta.uz"), now=NOW)
    before = [r.serial for r in register.all()]
    with pytest.raises(OSError, match="device removed"):
        enroll(ec_signer(), ALISHER, ca, now=NOW)
    assert [r.serial for r in register.all()] == before
    assert register.by_pinfl(ALISHER.pinfl) == []
    flaky.ok = 1
    issued = enroll(ec_signer(), ALISHER, ca, now=NOW)
    assert [r.serial for r in register.by_pinfl(ALISHER.pinfl)] == [issued.serial]


def test_outbox_hook_runs_in_the_issuing_transaction(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)

    def hook(conn, issued):  # type: ignore[no-untyped-def]
        conn.execute("CREATE TABLE IF NOT EXISTS seen (serial TEXT)")
        conn.execute("INSERT INTO seen VALUES (?)", (format(issued.serial, "x"),))
        raise RuntimeError("outbox full")

    with pytest.raises(RuntimeError):
        enroll(ec_signer(), ALISHER, ca, now=NOW, on_record=hook)
    assert ca.register.by_pinfl(ALISHER.pinfl) == []  # rolled back with the hook's failure


def test_crl_lists_revocations_with_reasons(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    lost = enroll(ec_signer(), ALISHER, ca, now=NOW)
    replaced = enroll(ec_signer(), NODIRA, ca, now=NOW)
    kept = enroll(ec_signer(), ALISHER, ca, now=NOW)
    revoked = ca.revoke_card(ALISHER.card_number, RevocationCause.LOST_CARD, when=NOW)
    assert {r.serial for r in revoked} == {lost.serial, kept.serial}
    ca.revoke(replaced.serial, "superseded", when=NOW)
    with pytest.raises(IssuanceError, match="already revoked"):
        ca.revoke(replaced.serial, "superseded")
    assert ca.register.revoked_count() == len(ca.register.revoked()) == 3
    first = ca.issue_crl(now=NOW)
    second = crl.CertificateList.load(ca.issue_crl(now=NOW).dump())
    assert first["tbs_cert_list"]["crl_extensions"][1]["extn_value"].native == 1
    assert second["tbs_cert_list"]["crl_extensions"][1]["extn_value"].native == 2
    entries = {
        int(e["user_certificate"].native): e["crl_entry_extensions"][0]["extn_value"].native
        for e in second["tbs_cert_list"]["revoked_certificates"]
    }
    assert entries == {
        lost.serial: "key_compromise",
        kept.serial: "key_compromise",
        replaced.serial: "superseded",
    }
    cert_list = cx509.load_der_x509_crl(second.dump())
    assert cert_list.is_signature_valid(ca.signer.public_key())


def test_unknown_reason_and_serial(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    with pytest.raises(IssuanceError, match="reason"):
        ca.revoke(5, "affiliation_changed")
    with pytest.raises(IssuanceError, match="not issued"):
        ca.revoke(5, "superseded")
    with pytest.raises(IssuanceError, match="already holds"):
        EsignCA.create(ca.register, ec_signer(), ca.urls)
