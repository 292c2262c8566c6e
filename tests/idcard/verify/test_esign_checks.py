"""The checks of the card's e-signature certificate (idcard.verify.esign): each one passes for a
certificate of the project's e-signature CA (pki.esign) and fails, or is not checked, with its
exact reason; OCSP asks the CA's real responder (station.services) on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.idcard.chip.cards import build_dump, ds_pki
from tests.idcard.verify.online_kit import Site, closed_url, free_port, serving
from tests.idcard.verify.pa_pki import asn1

from idcard.verify.esign import ESIGN_CHECKS, EsignTrust, check_esign, read_esign_files
from idcard.verify.online import Fetcher
from pki.enroll import enroll
from pki.esign import EsignCA, EsignRegister, HolderRecord, ServiceURLs
from pki.keys import SoftwareSigner
from pki.ocsp import OCSPResponder, error_response, request_for
from station.services import ServiceServer

UTC = dt.UTC
NOW = dt.datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
AT = dt.datetime(2026, 12, 1, tzinfo=UTC)
PINFL = "31503902620452"  # the sample applicant's (tests.idcard.chip.cards.build_dump)
OTHER_PINFL = "31507880230014"
CARD_EXPIRY = dt.date(2036, 11, 19)  # the sample applicant's MRZ date of expiry
Result = dict[str, tuple[str, str]]


@dataclass
class EsignPKI:
    ca: EsignCA
    ca_key: ec.EllipticCurvePrivateKey
    holder: bytes
    files: Mapping[str, bytes]
    url: str

    @property
    def ca_name(self) -> str:
        return str(self.ca.certificate.subject.human_friendly)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _issue(ca: EsignCA, pinfl: str = PINFL) -> bytes:
    record = HolderRecord(pinfl, "GULOMOV", "OTKIR", "AD1234567", CARD_EXPIRY)
    return bytes(enroll(SoftwareSigner(_key()), record, ca, now=NOW).der)


@pytest.fixture(scope="module")
def esign(tmp_path_factory: pytest.TempPathFactory) -> object:
    tmp = tmp_path_factory.mktemp("esign-checks")
    port = free_port()
    ca_key = _key()
    ca = EsignCA.create(EsignRegister(tmp / "esign.sqlite"), SoftwareSigner(ca_key, "esign-ca"),
                        ServiceURLs.at(f"http://127.0.0.1:{port}"),
                        now=NOW - dt.timedelta(days=30))  # fmt: skip
    dump, _ = build_dump()
    with ServiceServer(ca, port=port) as server:
        yield EsignPKI(ca, ca_key, _issue(ca), dump.files, server.url)


def _run(pki: EsignPKI, cert: bytes | None, *, files: Mapping[str, bytes] | None = None,
         anchors: tuple[ax509.Certificate, ...] | None = None, online: bool = True,
         card_ca: bytes | None = None, at: dt.datetime = AT,
         clock: dt.datetime | None = None) -> Result:  # fmt: skip
    trust = EsignTrust(anchors if anchors is not None else (pki.ca.certificate,),
                       Fetcher(timeout=5) if online else None)  # fmt: skip
    if clock is not None:
        trust = dataclasses.replace(trust, clock=lambda: clock)
    esign_files = {} if cert is None else {"EF.C.ESIGN": cert}
    if card_ca is not None:
        esign_files["EF.C.CA"] = card_ca
    results = check_esign(pki.files if files is None else files, esign_files, trust, at)
    assert tuple(r.name for r in results) == ESIGN_CHECKS
    return {r.name: (r.status.value, r.reason) for r in results}


def _span(der: bytes) -> str:
    validity = ax509.Certificate.load(der)["tbs_certificate"]["validity"].native
    return (f"{validity['not_before']:%Y-%m-%d %H:%M:%S} to "
            f"{validity['not_after']:%Y-%m-%d %H:%M:%S} UTC")  # fmt: skip


def _craft(
    pki: EsignPKI,
    *,
    attribute: str | None = PINFL,
    serial: str | None = PINFL,
    usage: tuple[str, ...] | None = ("digital_signature", "content_commitment"),
    ca: bool = False,
    not_before: dt.datetime = NOW,
    not_after: dt.datetime = NOW + dt.timedelta(days=365),
    ocsp_url: str | None = None,
    issuer_key: ec.EllipticCurvePrivateKey | None = None,
    issuer_name: x509.Name | None = None,
    key: ec.EllipticCurvePrivateKey | None = None,
    common_name: str = "OTKIR GULOMOV",
) -> bytes:
    """A certificate the test makes itself, signed by the CA's key unless told otherwise."""
    ca_cert = x509.load_der_x509_certificate(pki.ca.certificate.dump())
    names = [x509.NameAttribute(NameOID.COUNTRY_NAME, "UZ"),
             x509.NameAttribute(NameOID.COMMON_NAME, common_name)]  # fmt: skip
    if serial is not None:
        names.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, f"PNOUZ-{serial}"))
    if attribute is not None:
        names.append(x509.NameAttribute(x509.ObjectIdentifier("1.2.860.3.16.1.2"), attribute))
    signing_key = issuer_key or pki.ca_key
    public = (key or _key()).public_key()
    b = (x509.CertificateBuilder().subject_name(x509.Name(names))
         .issuer_name(issuer_name or ca_cert.subject).public_key(public)
         .serial_number(x509.random_serial_number())
         .not_valid_before(not_before).not_valid_after(not_after)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             signing_key.public_key()), critical=False))  # fmt: skip
    if usage is not None:
        flags = {n: n in usage for n in (
            "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
            "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")}
        b = b.add_extension(x509.KeyUsage(**flags), critical=True)
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    if ocsp_url is not None:
        b = b.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]),
            critical=False)  # fmt: skip
    return b.sign(signing_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


# -- every check passes -----------------------------------------------------------------------


def test_the_card_certificate_passes_every_check_online(esign: EsignPKI) -> None:
    result = _run(esign, esign.holder)
    assert result["esign_chain"] == ("pass", f"issued by the trusted e-signature CA "
                                     f"{esign.ca_name}")  # fmt: skip
    assert result["esign_holder"] == ("pass", "the certificate's PINFL is the one in DG1 and DG11")
    assert result["esign_validity"] == ("pass", f"valid on 2026-12-01 ({_span(esign.holder)})")
    assert result["esign_key_usage"] == ("pass", "keyUsage digital_signature, non_repudiation")
    status, reason = result["esign_revocation"]
    assert status == "pass" and reason.startswith("good at ")
    assert reason.endswith(f" UTC (OCSP {esign.url}/ocsp)")


def test_a_dump_without_the_certificate_is_not_checked(esign: EsignPKI) -> None:
    why = "no e-signature certificate in the dump (EF.C.ESIGN)"
    assert _run(esign, None) == dict.fromkeys(ESIGN_CHECKS, ("not-checked", why))


def test_bytes_that_are_no_certificate_fail_the_chain(esign: EsignPKI) -> None:
    result = _run(esign, b"\x30\x03\x02\x01\x01")
    try:
        ax509.Certificate.load(b"\x30\x03\x02\x01\x01").native  # noqa: B018
    except ValueError as exc:
        why = " ".join(str(exc).split())
    assert result["esign_chain"] == ("fail", f"EF.C.ESIGN is not an X.509 certificate ({why})")
    assert {n: s for n, (s, _) in result.items() if n != "esign_chain"} == dict.fromkeys(
        ESIGN_CHECKS[1:], "not-checked")
    assert result["esign_holder"][1] == "EF.C.ESIGN is not a certificate"


def test_read_esign_files_takes_both_files_of_a_dump(tmp_path: Path) -> None:
    (tmp_path / "EF.C.ESIGN").write_bytes(b"cert")
    (tmp_path / "EF.C.CA").write_bytes(b"ca")
    (tmp_path / "DG1").write_bytes(b"dg1")
    assert read_esign_files(tmp_path) == {"EF.C.ESIGN": b"cert", "EF.C.CA": b"ca"}
    assert read_esign_files(tmp_path / "DG1.d") == {}


# -- esign_chain --------------------------------------------------------------------------------


def test_chain_fails_naming_why(esign: EsignPKI, tmp_path: Path) -> None:
    other = EsignCA.create(EsignRegister(tmp_path / "other.sqlite"), SoftwareSigner(_key()),
                           ServiceURLs.at("http://127.0.0.1:1"), now=NOW)  # fmt: skip
    result = _run(esign, esign.holder, anchors=(other.certificate,))
    assert result["esign_chain"] == ("fail", "the certificate's signature does not verify with "
                                     f"the trusted e-signature CA {esign.ca_name}")  # fmt: skip
    assert result["esign_revocation"] == ("not-checked", "no trusted chain: the OCSP answer "
                                          "could not be checked")  # fmt: skip
    csca = asn1(ds_pki().csca)
    assert _run(esign, esign.holder, anchors=(csca,))["esign_chain"] == (
        "fail", f"no trusted e-signature CA is named {esign.ca_name} (issuer of the certificate)")
    assert _run(esign, esign.holder, anchors=())["esign_chain"] == (
        "not-checked", "no e-signature CA given (--esign-ca)")
    # the other checks do not depend on the chain
    assert _run(esign, esign.holder, anchors=())["esign_holder"][0] == "pass"


def test_chain_through_the_card_ca_certificate(esign: EsignPKI) -> None:
    """EF.C.CA may link the holder's certificate to a given anchor, never replace one."""
    sub_key = _key()
    sub_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "e-Signature Sub CA")])
    sub = _rename(esign, sub_key, sub_name)
    holder = _craft(esign, issuer_key=sub_key, issuer_name=sub_name)
    assert _run(esign, holder, card_ca=sub, online=False)["esign_chain"] == (
        "pass", "issued by Common Name: e-Signature Sub CA (EF.C.CA), which the trusted "
        f"e-signature CA {esign.ca_name} issued")
    assert _run(esign, holder, online=False)["esign_chain"] == (
        "fail", "no trusted e-signature CA is named Common Name: e-Signature Sub CA (issuer of "
        "the certificate)")
    # a card CA certificate that no anchor issued does not help
    rogue = _rename(esign, sub_key, sub_name, issuer_key=sub_key)
    assert _run(esign, holder, card_ca=rogue, online=False)["esign_chain"][0] == "fail"


def _rename(pki: EsignPKI, key: ec.EllipticCurvePrivateKey, name: x509.Name, *,
            issuer_key: ec.EllipticCurvePrivateKey | None = None) -> bytes:  # fmt: skip
    """A CA certificate for ``key`` named ``name``, issued by the e-signature CA (or by
    ``issuer_key``, self-signed then)."""
    ca_cert = x509.load_der_x509_certificate(pki.ca.certificate.dump())
    signer = issuer_key or pki.ca_key
    return (x509.CertificateBuilder().subject_name(name)
            .issuer_name(name if issuer_key else ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW).not_valid_after(NOW + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                signer.public_key()), critical=False)
            .sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.DER))  # fmt: skip


# -- esign_holder -------------------------------------------------------------------------------


def test_holder_fails_for_another_persons_certificate(esign: EsignPKI) -> None:
    other = _issue(esign.ca, OTHER_PINFL)
    assert _run(esign, other, online=False)["esign_holder"] == (
        "fail", "the certificate's PINFL is not the one in DG1 and DG11: another person's "
        "certificate")
    no_dg11 = {k: v for k, v in esign.files.items() if k != "DG11"}
    assert _run(esign, other, files=no_dg11, online=False)["esign_holder"] == (
        "fail", "the certificate's PINFL is not the one in DG1: another person's certificate")
    assert _run(esign, esign.holder, files=no_dg11, online=False)["esign_holder"] == (
        "pass", "the certificate's PINFL is the one in DG1")


def test_holder_of_a_certificate_without_pinfl_or_with_two(esign: EsignPKI) -> None:
    none = _craft(esign, attribute=None, serial=None)
    assert _run(esign, none, online=False)["esign_holder"] == (
        "fail", "the certificate names no PINFL (neither 1.2.860.3.16.1.2 nor serialNumber "
        "PNOUZ-…)")
    two = _craft(esign, attribute=PINFL, serial=OTHER_PINFL)
    assert _run(esign, two, online=False)["esign_holder"] == (
        "fail", "the certificate names two PINFLs (1.2.860.3.16.1.2 and serialNumber differ)")
    only_serial = _craft(esign, attribute=None, serial=PINFL)
    assert _run(esign, only_serial, online=False)["esign_holder"][0] == "pass"
    only_attribute = _craft(esign, attribute=PINFL, serial=None)
    assert _run(esign, only_attribute, online=False)["esign_holder"][0] == "pass"
    # only serialNumber carries the PNO form: another attribute that looks like it is no PINFL
    named = _craft(esign, attribute=PINFL, serial=None, common_name=f"PNOUZ-{OTHER_PINFL}")
    assert _run(esign, named, online=False)["esign_holder"][0] == "pass"


def test_holder_not_checked_without_a_pinfl_in_the_document(esign: EsignPKI) -> None:
    files = {k: v for k, v in esign.files.items() if k not in ("DG1", "DG11")}
    assert _run(esign, esign.holder, files=files, online=False)["esign_holder"] == (
        "not-checked", "the document holds no PINFL (DG1, DG11)")


# -- esign_validity -----------------------------------------------------------------------------


def test_validity_fails_before_and_after_the_period(esign: EsignPKI) -> None:
    span = _span(esign.holder)
    early = dt.datetime(2026, 2, 1, tzinfo=UTC)
    assert _run(esign, esign.holder, at=early, online=False)["esign_validity"] == (
        "fail", f"not yet valid on 2026-02-01 (valid {span})")
    late = dt.datetime(2028, 3, 1, tzinfo=UTC)
    assert _run(esign, esign.holder, at=late, online=False)["esign_validity"] == (
        "fail", f"expired on 2028-02-02 (valid {span})")


def test_validity_includes_both_ends_of_the_period(esign: EsignPKI) -> None:
    """RFC 5280 §4.1.2.5: notBefore and notAfter are inclusive."""
    validity = ax509.Certificate.load(esign.holder)["tbs_certificate"]["validity"].native
    for at in (validity["not_before"], validity["not_after"]):
        assert _run(esign, esign.holder, at=at, online=False)["esign_validity"][0] == "pass"
    second = dt.timedelta(seconds=1)
    assert _run(esign, esign.holder, at=validity["not_before"] - second,
                online=False)["esign_validity"][0] == "fail"  # fmt: skip
    assert _run(esign, esign.holder, at=validity["not_after"] + second,
                online=False)["esign_validity"][0] == "fail"  # fmt: skip


def test_validity_past_the_card_fails(esign: EsignPKI) -> None:
    beyond = _craft(esign, not_after=dt.datetime(2036, 11, 20, 12, tzinfo=UTC))
    assert _run(esign, beyond, online=False)["esign_validity"] == (
        "fail", "valid until 2036-11-20, past the card's expiry 2036-11-19 (the profile ends it "
        "with the card)")
    last_day = _craft(esign, not_after=dt.datetime(2036, 11, 19, 23, 59, 59, tzinfo=UTC))
    assert _run(esign, last_day, online=False)["esign_validity"][0] == "pass"


# -- esign_key_usage ----------------------------------------------------------------------------


def test_key_usage_fails_naming_what_is_wrong(esign: EsignPKI) -> None:
    sign_only = _craft(esign, usage=("digital_signature",))
    assert _run(esign, sign_only, online=False)["esign_key_usage"] == (
        "fail", "keyUsage lacks non_repudiation (has digital_signature)")
    neither = _craft(esign, usage=("key_agreement", "key_encipherment"))
    assert _run(esign, neither, online=False)["esign_key_usage"] == (
        "fail", "keyUsage lacks digital_signature and non_repudiation (has key_agreement, "
        "key_encipherment)")
    empty = _craft(esign, usage=())
    assert _run(esign, empty, online=False)["esign_key_usage"] == (
        "fail", "keyUsage lacks digital_signature and non_repudiation (has nothing)")
    absent = _craft(esign, usage=None)
    assert _run(esign, absent, online=False)["esign_key_usage"] == (
        "fail", "no keyUsage extension (digitalSignature and nonRepudiation expected)")
    ca = _craft(esign, ca=True)
    assert _run(esign, ca, online=False)["esign_key_usage"] == (
        "fail", "a CA certificate, not a holder's (basicConstraints cA true)")


# -- esign_revocation (OCSP) --------------------------------------------------------------------


def test_ocsp_revoked_certificate_fails(esign: EsignPKI) -> None:
    cert = _issue(esign.ca)
    serial = ax509.Certificate.load(cert).serial_number
    esign.ca.revoke(serial, "key_compromise", when=dt.datetime(2026, 5, 4, 10, 30, tzinfo=UTC))
    assert _run(esign, cert)["esign_revocation"] == (
        "fail", f"revoked on 2026-05-04 10:30 UTC (key_compromise; OCSP {esign.url}/ocsp)")


def test_ocsp_unknown_certificate_fails(esign: EsignPKI) -> None:
    """A certificate the CA's key signed but its register never recorded (a key misused)."""
    cert = _craft(esign, ocsp_url=f"{esign.url}/ocsp")
    status, reason = _run(esign, cert)["esign_revocation"]
    assert status == "fail" and reason.startswith("unknown to the CA's OCSP responder at ")
    assert reason.endswith(f"UTC: the CA did not issue it (OCSP {esign.url}/ocsp)")


def test_ocsp_not_asked_offline_or_without_a_responder(esign: EsignPKI) -> None:
    assert _run(esign, esign.holder, online=False)["esign_revocation"] == (
        "not-checked", "OCSP not asked (without --online)")
    assert _run(esign, _craft(esign))["esign_revocation"] == (
        "not-checked", "the certificate names no http(s) OCSP responder (authorityInfoAccess)")


def test_ocsp_unreachable_is_not_checked(esign: EsignPKI) -> None:
    url = closed_url("/ocsp")
    status, reason = _run(esign, _craft(esign, ocsp_url=url))["esign_revocation"]
    assert status == "not-checked"
    assert reason.startswith(f"the OCSP responder {url} could not be asked: unreachable (")


@pytest.mark.parametrize(("answer", "expected"), [
    (500, ("not-checked", "could not be asked: HTTP 500 Internal Server Error")),
    (error_response("try_later"), ("not-checked", "answered try_later")),
    (b"not DER", ("not-checked", "does not parse (")),
])  # fmt: skip
def test_ocsp_unusable_answers_are_not_checked(esign: EsignPKI, answer: object,
                                               expected: tuple[str, str]) -> None:  # fmt: skip
    with serving(Site({"/ocsp": answer})) as site:  # type: ignore[dict-item]
        status, reason = _run(esign, _craft(esign, ocsp_url=f"{site.url}/ocsp"))["esign_revocation"]
    assert status == expected[0] and expected[1] in reason, reason
    assert reason.startswith("the OCSP ")


def test_ocsp_answer_of_another_ca_fails(esign: EsignPKI, tmp_path: Path) -> None:
    other = EsignCA.create(EsignRegister(tmp_path / "other.sqlite"), SoftwareSigner(_key()),
                           ServiceURLs.at("http://127.0.0.1:1"), now=NOW)  # fmt: skip
    forger = OCSPResponder(other)
    with serving(Site({"/ocsp": forger.respond})) as site:
        result = _run(esign, _craft(esign, ocsp_url=f"{site.url}/ocsp"))
        assert result["esign_revocation"] == (
            "fail", f"the OCSP answer of {site.url}/ocsp: the responder's certificate was not "
            "issued by the certificate's CA")
        site.routes["/ocsp"] = OCSPResponder(other, include_certificate=False).respond
        result = _run(esign, _craft(esign, ocsp_url=f"{site.url}/ocsp"))
        assert result["esign_revocation"] == (
            "fail", f"the OCSP answer of {site.url}/ocsp: the answer is signed by a responder that "
            "is neither the CA nor one it authorised")


def test_ocsp_answer_with_a_bad_signature_fails(esign: EsignPKI) -> None:
    """The CA's own answer with its signature broken: named by the CA's key, not signed by it."""
    from asn1crypto import ocsp

    def broken(body: bytes) -> bytes:
        response = ocsp.OCSPResponse.load(OCSPResponder(esign.ca).respond(body))
        basic = response.basic_ocsp_response
        signature = bytearray(basic["signature"].native)
        signature[-1] ^= 1
        basic["signature"] = bytes(signature)
        return bytes(ocsp.OCSPResponse({"response_status": "successful", "response_bytes": {
            "response_type": "basic_ocsp_response", "response": basic}}).dump(force=True))

    with serving(Site({"/ocsp": broken})) as site:
        result = _run(esign, _craft(esign, ocsp_url=f"{site.url}/ocsp"))
    assert result["esign_revocation"] == (
        "fail", f"the OCSP answer of {site.url}/ocsp is not signed by the certificate's CA or its "
        "responder")


def test_ocsp_replayed_answer_fails(esign: EsignPKI) -> None:
    """A genuine answer of the CA's responder, recorded for another request (another nonce)."""
    responder = OCSPResponder(esign.ca)
    with serving(Site()) as site:
        cert = _craft(esign, ocsp_url=f"{site.url}/ocsp")
        recorded = responder.respond(request_for(ax509.Certificate.load(cert),
                                                 esign.ca.certificate, b"an old nonce"))
        site.routes["/ocsp"] = recorded
        assert _run(esign, cert)["esign_revocation"] == (
            "fail", f"the OCSP answer of {site.url}/ocsp carries another request's nonce (a "
            "replayed answer)")
        # the same responder answering this request: its nonce is echoed
        site.routes["/ocsp"] = responder.respond
        assert _run(esign, cert)["esign_revocation"][0] == "fail"  # unknown, not replayed
        assert "unknown to the CA's OCSP responder" in _run(esign, cert)["esign_revocation"][1]


def test_ocsp_out_of_date_answer_is_not_checked(esign: EsignPKI) -> None:
    stale = OCSPResponder(esign.ca, validity=dt.timedelta(hours=1), clock=lambda: NOW)
    with serving(Site({"/ocsp": stale.respond})) as site:
        result = _run(esign, _craft(esign, ocsp_url=f"{site.url}/ocsp"))
    assert result["esign_revocation"] == (
        "not-checked", f"the OCSP answer of {site.url}/ocsp is out of date (nextUpdate "
        "2026-02-02 10:00 UTC)")
    future = OCSPResponder(esign.ca, clock=lambda: dt.datetime.now(UTC) + dt.timedelta(days=2))
    with serving(Site({"/ocsp": future.respond})) as site:
        status, reason = _run(esign, _craft(esign, ocsp_url=f"{site.url}/ocsp"))[
            "esign_revocation"]
    assert status == "not-checked"
    assert reason.startswith(f"the OCSP answer of {site.url}/ocsp is dated in the future (")


def test_ocsp_answer_about_another_certificate_is_not_checked(esign: EsignPKI) -> None:
    """A genuine answer without a nonce (as pre-produced answers come, RFC 5019) about another
    certificate of the CA says nothing about this one."""
    from asn1crypto import ocsp

    def pre_produced(about: bytes) -> bytes:
        request = ocsp.OCSPRequest.load(request_for(ax509.Certificate.load(about),
                                                    esign.ca.certificate, b"n"))
        request["tbs_request"]["request_extensions"] = None
        return OCSPResponder(esign.ca).respond(request.dump(force=True))

    with serving(Site()) as site:
        cert = _craft(esign, ocsp_url=f"{site.url}/ocsp")
        site.routes["/ocsp"] = pre_produced(esign.holder)
        assert _run(esign, cert)["esign_revocation"] == (
            "not-checked", f"the OCSP answer of {site.url}/ocsp says nothing about this "
            "certificate")
        # an answer without a nonce about this very certificate is taken (here: unknown)
        site.routes["/ocsp"] = pre_produced(cert)
        status, reason = _run(esign, cert)["esign_revocation"]
        assert status == "fail" and reason.startswith("unknown to the CA's OCSP responder")


@dataclass
class _Delegate:
    """What OCSPResponder needs of a CA, for a responder certificate the CA issued (RFC 6960
    §4.2.2.2): its certificate, key and key id; the CA's register (never matched: unknown)."""

    certificate: ax509.Certificate
    signer: SoftwareSigner
    register: EsignRegister

    @property
    def algorithm(self) -> object:
        return self.signer.algorithm

    @property
    def key_id(self) -> bytes:
        import hashlib

        return hashlib.sha1(self.certificate.public_key["public_key"].contents[1:]).digest()  # noqa: S324


def _delegate(esign: EsignPKI, *, ocsp_signing: bool,
              not_after: dt.datetime = NOW + dt.timedelta(days=3650)) -> _Delegate:  # fmt: skip
    key = _key()
    ca_cert = x509.load_der_x509_certificate(esign.ca.certificate.dump())
    b = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OCSP responder")]))
         .issuer_name(ca_cert.subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(NOW).not_valid_after(not_after))  # fmt: skip
    if ocsp_signing:
        b = b.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.OCSP_SIGNING]),
                            critical=False)  # fmt: skip
    der = b.sign(esign.ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    return _Delegate(ax509.Certificate.load(der), SoftwareSigner(key), esign.ca.register)


def test_ocsp_answer_of_a_delegated_responder(esign: EsignPKI) -> None:
    """A responder certificate the CA issued for OCSP signing is taken; without id-kp-
    OCSPSigning it is not."""
    authorised = OCSPResponder(_delegate(esign, ocsp_signing=True))  # type: ignore[arg-type]
    with serving(Site({"/ocsp": authorised.respond})) as site:
        cert = _craft(esign, ocsp_url=f"{site.url}/ocsp")
        status, reason = _run(esign, cert)["esign_revocation"]
        assert status == "fail" and reason.startswith("unknown to the CA's OCSP responder")
        site.routes["/ocsp"] = OCSPResponder(
            _delegate(esign, ocsp_signing=False)).respond  # type: ignore[arg-type]
        assert _run(esign, cert)["esign_revocation"] == (
            "fail", f"the OCSP answer of {site.url}/ocsp: the responder's certificate is not for "
            "OCSP signing")
        expired = _delegate(esign, ocsp_signing=True, not_after=NOW + dt.timedelta(days=30))
        site.routes["/ocsp"] = OCSPResponder(expired).respond  # type: ignore[arg-type]
        assert _run(esign, cert)["esign_revocation"] == (
            "fail", f"the OCSP answer of {site.url}/ocsp: the responder's certificate is not "
            "valid now (valid 2026-02-02 to 2026-03-04)")


def test_ocsp_responder_named_by_name(esign: EsignPKI) -> None:
    """RFC 6960 §4.2.2.3 ResponderID byName: the CA's name is taken, another name is not."""
    from asn1crypto import ocsp

    def by_name(name: ax509.Name) -> object:
        def answer(body: bytes) -> bytes:
            response = ocsp.OCSPResponse.load(OCSPResponder(esign.ca).respond(body))
            basic = response.basic_ocsp_response
            data = basic["tbs_response_data"]
            data["responder_id"] = ocsp.ResponderId(name="by_name", value=name)
            tbs = data.dump(force=True)
            basic["signature"] = esign.ca_key.sign(tbs, ec.ECDSA(hashes.SHA256()))
            basic["certs"] = None
            return bytes(ocsp.OCSPResponse({"response_status": "successful", "response_bytes": {
                "response_type": "basic_ocsp_response", "response": basic}}).dump(force=True))
        return answer

    with serving(Site({"/ocsp": by_name(esign.ca.certificate.subject)})) as site:
        cert = _craft(esign, ocsp_url=f"{site.url}/ocsp")
        status, reason = _run(esign, cert)["esign_revocation"]
        assert status == "fail" and reason.startswith("unknown to the CA's OCSP responder")
        site.routes["/ocsp"] = by_name(ax509.Name.build({"common_name": "Someone else"}))
        assert _run(esign, cert)["esign_revocation"] == (
            "fail", f"the OCSP answer of {site.url}/ocsp: the answer is signed by a responder that "
            "is neither the CA nor one it authorised")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), flip=st.integers(min_value=0))
def test_any_bytes_give_results_never_exceptions(esign: EsignPKI, data: bytes, flip: int) -> None:
    """Random bytes, and the holder's certificate with one byte changed, as EF.C.ESIGN and
    EF.C.CA: every check is a result (offline)."""
    broken = bytearray(esign.holder)
    broken[flip % len(broken)] ^= 0x5A
    for cert in (data, bytes(broken)):
        result = _run(esign, cert, card_ca=data, online=False)
        assert set(result) == set(ESIGN_CHECKS)


def test_a_certificate_whose_issuer_name_does_not_parse(esign: EsignPKI) -> None:
    """Found by the property above: asn1crypto parses names lazily, so a broken issuer name
    (an RDN's SET tag turned APPLICATION) must fail when the certificate is loaded."""
    issuer = bytes(esign.ca.certificate.subject.dump())
    at = esign.holder.index(issuer) + 2  # the first RDN's SET tag after the SEQUENCE header
    assert esign.holder[at] == 0x31
    broken = esign.holder[:at] + b"\x71" + esign.holder[at + 1:]
    result = _run(esign, broken, online=False)
    status, reason = result["esign_chain"]
    assert status == "fail" and reason.startswith("EF.C.ESIGN is not an X.509 certificate (")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flip=st.integers(min_value=0), junk=st.binary(max_size=200))
def test_any_ocsp_answer_gives_a_result(esign: EsignPKI, flip: int, junk: bytes) -> None:
    """The CA's genuine answer with one byte changed, and random bytes: a result, never an
    exception (an answer comes from the network)."""

    def flipped(body: bytes) -> bytes:
        answer = bytearray(OCSPResponder(esign.ca).respond(body))
        answer[flip % len(answer)] ^= 0x5A
        return bytes(answer)

    with serving(Site({"/ocsp": flipped, "/junk": junk})) as site:
        for path in ("/ocsp", "/junk"):
            cert = _craft(esign, ocsp_url=f"{site.url}{path}")
            status, _ = _run(esign, cert)["esign_revocation"]
            assert status in ("fail", "not-checked")


def test_ocsp_answer_times_at_the_edges_of_the_leeway(esign: EsignPKI) -> None:
    """thisUpdate up to 5 minutes ahead and nextUpdate up to 5 minutes past are taken."""
    t = dt.datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    responder = OCSPResponder(esign.ca, validity=dt.timedelta(hours=1), clock=lambda: t)
    skew, second = dt.timedelta(minutes=5), dt.timedelta(seconds=1)
    with serving(Site({"/ocsp": responder.respond})) as site:
        cert = _craft(esign, ocsp_url=f"{site.url}/ocsp")

        def status(now: dt.datetime) -> str:
            return _run(esign, cert, clock=now)["esign_revocation"][0]

        assert status(t - skew) == "fail"  # taken: unknown
        assert status(t - skew - second) == "not-checked"  # dated in the future
        assert status(t + dt.timedelta(hours=1) + skew) == "fail"
        assert status(t + dt.timedelta(hours=1) + skew + second) == "not-checked"  # out of date


def test_ocsp_revoked_without_a_reason(esign: EsignPKI) -> None:
    cert = _issue(esign.ca)
    serial = ax509.Certificate.load(cert).serial_number
    esign.ca.revoke(serial, "unspecified", when=dt.datetime(2026, 6, 1, 9, tzinfo=UTC))
    assert _run(esign, cert)["esign_revocation"] == (
        "fail", f"revoked on 2026-06-01 09:00 UTC (no reason given; OCSP {esign.url}/ocsp)")


def test_ocsp_urls_of_other_schemes_are_not_asked(esign: EsignPKI) -> None:
    https = closed_url("/ocsp").replace("http://", "https://")
    status, reason = _run(esign, _craft(esign, ocsp_url=https))["esign_revocation"]
    assert status == "not-checked"
    assert reason.startswith(f"the OCSP responder {https} could not be asked: unreachable (")
    assert _run(esign, _craft(esign, ocsp_url="ldap://directory.example/ocsp"))[
        "esign_revocation"] == ("not-checked", "the certificate names no http(s) OCSP responder "
                                "(authorityInfoAccess)")


def test_ocsp_answer_with_a_certificate_that_does_not_parse(esign: EsignPKI) -> None:
    """The answer's certificates are parsed before use: a broken one is no exception."""
    from asn1crypto import ocsp

    issuer = bytes(esign.ca.certificate.subject.dump())
    at = esign.holder.index(issuer) + 2
    broken = esign.holder[:at] + b"\x71" + esign.holder[at + 1:]

    def answer(body: bytes) -> bytes:
        response = ocsp.OCSPResponse.load(OCSPResponder(esign.ca).respond(body))
        basic = response.basic_ocsp_response
        basic["certs"] = [ax509.Certificate.load(esign.holder)]
        good = bytes(ocsp.OCSPResponse({"response_status": "successful", "response_bytes": {
            "response_type": "basic_ocsp_response", "response": basic}}).dump(force=True))
        return good.replace(esign.holder, broken)  # the same length: only the name breaks

    with serving(Site({"/ocsp": answer})) as site:
        status, reason = _run(esign, _craft(esign, ocsp_url=f"{site.url}/ocsp"))[
            "esign_revocation"]
    assert status == "not-checked"
    assert reason.startswith(f"the OCSP answer of {site.url}/ocsp does not parse (")


def test_ocsp_answer_that_does_not_parse_names_why(esign: EsignPKI) -> None:
    from asn1crypto import ocsp

    try:
        ocsp.OCSPResponse.load(b"not DER").native  # noqa: B018
    except ValueError as exc:
        why = " ".join(str(exc).split())
    with serving(Site({"/ocsp": b"not DER"})) as site:
        assert _run(esign, _craft(esign, ocsp_url=f"{site.url}/ocsp"))["esign_revocation"] == (
            "not-checked", f"the OCSP answer of {site.url}/ocsp does not parse ({why})")


def test_ocsp_answer_signed_with_a_key_this_tool_does_not_verify(esign: EsignPKI) -> None:
    """A responder certificate the CA issued for an Ed25519 key: not checked, not failed."""
    from asn1crypto import ocsp
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    ca_cert = x509.load_der_x509_certificate(esign.ca.certificate.dump())
    responder = ax509.Certificate.load(x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Ed responder")]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW).not_valid_after(NOW + dt.timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.OCSP_SIGNING]),
                       critical=False)
        .sign(esign.ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))  # fmt: skip

    def answer(body: bytes) -> bytes:
        response = ocsp.OCSPResponse.load(OCSPResponder(esign.ca).respond(body))
        basic = response.basic_ocsp_response
        data = basic["tbs_response_data"]
        data["responder_id"] = ocsp.ResponderId(name="by_name", value=responder.subject)
        basic["signature_algorithm"] = {"algorithm": "ed25519"}
        basic["signature"] = key.sign(data.dump(force=True))
        basic["certs"] = [responder]
        return bytes(ocsp.OCSPResponse({"response_status": "successful", "response_bytes": {
            "response_type": "basic_ocsp_response", "response": basic}}).dump(force=True))

    with serving(Site({"/ocsp": answer})) as site:
        status, reason = _run(esign, _craft(esign, ocsp_url=f"{site.url}/ocsp"))[
            "esign_revocation"]
    assert status == "not-checked"
    assert reason.startswith(f"the OCSP answer of {site.url}/ocsp is signed with a key this tool "
                             "does not verify (")


def test_the_ocsp_request_sent(esign: EsignPKI) -> None:
    """RFC 6960 §4.1 / RFC 8954: one SHA-1 CertID, a fresh 16-byte nonce, non-critical, POSTed
    as application/ocsp-request."""
    from asn1crypto import ocsp

    bodies: list[bytes] = []

    def answer(body: bytes) -> bytes:
        bodies.append(body)
        return OCSPResponder(esign.ca).respond(body)

    with serving(Site({"/ocsp": answer})) as site:
        cert = _craft(esign, ocsp_url=f"{site.url}/ocsp")
        _run(esign, cert)
        _run(esign, cert)
    assert site.requests == [("POST", "/ocsp", "application/ocsp-request")] * 2
    nonces = []
    for body in bodies:
        tbs = ocsp.OCSPRequest.load(body)["tbs_request"]
        [one] = tbs["request_list"]
        assert one["req_cert"]["hash_algorithm"]["algorithm"].native == "sha1"
        assert one["req_cert"]["serial_number"].native == ax509.Certificate.load(cert).serial_number
        [nonce] = tbs["request_extensions"]
        assert (nonce["extn_id"].native, nonce["critical"].native) == ("nonce", False)
        nonces.append(nonce["extn_value"].parsed.native)
    assert [len(n) for n in nonces] == [16, 16] and nonces[0] != nonces[1]
