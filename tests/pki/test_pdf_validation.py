"""validate_pdf keeps integrity, validity, trust and revocation apart and never calls an
unchecked revocation good (issue 9, item 10)."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.pki.test_esign_kit import make_ca
from tests.pki.test_pdf import _holder, _ocsp, _setup

from pki.esign import EsignCA, RevocationCause, ServiceURLs
from pki.pdf import PdfSigner, Revocation, sign_pdf, simple_pdf, validate_pdf


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port: int = s.getsockname()[1]
    return port


def _signed(tmp_path: Path, text: str = "idkarta") -> tuple[EsignCA, bytes]:
    ca, _tsa = _setup(tmp_path)
    holder, issued = _holder(ca)
    return ca, sign_pdf(simple_pdf(text), PdfSigner(holder, issued.certificate, [ca.certificate]))


def test_no_revocation_data_is_not_checked_and_not_ok(tmp_path: Path) -> None:
    ca, signed = _signed(tmp_path)
    [report] = validate_pdf(signed, [ca.certificate])
    assert (report.intact, report.valid, report.trusted) == (True, True, True)
    assert report.revocation is Revocation.NOT_CHECKED and not report.revoked
    assert not report.ok
    assert report.revocation_reason.startswith("The path could not be validated because no "
                                               "revocation information could be found")
    assert report.revocation_reason.endswith("(none in the document or given, and not "
                                             "fetched: no --online)")
    assert report.as_dict()["revocation"] == "not-checked"
    assert ("revocation", "not-checked", report.revocation_reason) in report.checks()


def test_online_with_nothing_listening_is_not_checked(tmp_path: Path) -> None:
    base = make_ca(tmp_path)
    url = f"http://127.0.0.1:{_free_port()}"
    ca = EsignCA(base.register, base.signer, ServiceURLs.at(url))
    holder, issued = _holder(ca)
    signed = sign_pdf(simple_pdf(), PdfSigner(holder, issued.certificate, [ca.certificate]))
    [report] = validate_pdf(signed, [ca.certificate], online=True, timeout=2)
    assert report.revocation is Revocation.NOT_CHECKED and not report.ok
    assert f"fetching {url}/crl/esign.crl failed" in report.revocation_reason
    assert f"fetching {url}/ocsp failed" in report.revocation_reason
    assert report.trusted and report.intact and report.valid


def test_crl_of_another_ca_does_not_make_it_good(tmp_path: Path) -> None:
    ca, signed = _signed(tmp_path)
    other = make_ca(tmp_path / "other")
    [report] = validate_pdf(signed, [ca.certificate], crls=[other.issue_crl()])
    assert report.revocation is Revocation.NOT_CHECKED and not report.ok


def test_waived_revocation_is_named_and_ok(tmp_path: Path) -> None:
    ca, signed = _signed(tmp_path)
    [report] = validate_pdf(signed, [ca.certificate], check_revocation=False)
    assert report.revocation is Revocation.WAIVED and report.ok
    assert ("revocation", "waived", "waived by the caller") in report.checks()


def test_good_and_revoked_by_crl_and_ocsp(tmp_path: Path) -> None:
    ca, _tsa = _setup(tmp_path)
    holder, issued = _holder(ca)
    signed = sign_pdf(simple_pdf(), PdfSigner(holder, issued.certificate, [ca.certificate]))
    [by_crl] = validate_pdf(signed, [ca.certificate], crls=[ca.issue_crl()])
    [by_ocsp] = validate_pdf(signed, [ca.certificate], ocsps=[_ocsp(ca, issued)])
    assert by_crl.revocation is by_ocsp.revocation is Revocation.GOOD
    assert by_crl.ok and by_ocsp.ok
    ca.revoke(issued.serial, RevocationCause.LOST_CARD)
    for report in (validate_pdf(signed, [ca.certificate], crls=[ca.issue_crl()])[0],
                   validate_pdf(signed, [ca.certificate], ocsps=[_ocsp(ca, issued)])[0]):
        assert report.revocation is Revocation.REVOKED and report.revoked and not report.ok
        assert report.trusted  # trust is the path; revocation is its own check
        assert "revoked" in report.revocation_reason.lower()


def test_tampered_document_says_why_and_keeps_checks_apart(tmp_path: Path) -> None:
    ca, good = _signed(tmp_path, "original")
    signed = bytearray(good)
    at = bytes(signed).index(b"(original)")
    signed[at + 1 : at + 9] = b"tampered"
    [report] = validate_pdf(bytes(signed), [ca.certificate], crls=[ca.issue_crl()])
    assert not report.intact and not report.ok
    assert report.valid  # the signature over the signed attributes still verifies
    assert report.trusted  # and the signer's certificate still chains to the root
    assert report.revocation is Revocation.GOOD
    assert report.field_name == "Signature1"
    assert report.integrity_reason.startswith("digest mismatch: the signed byte ranges hash "
                                              "(sha256) to ")
    assert report.integrity_reason.endswith("; the document was changed")
    [claimed] = [a["values"][0].native for a in _signer_info(good)["signed_attrs"]
                 if a["type"].native == "message_digest"]  # fmt: skip
    assert f"the signature covers {claimed.hex()}" in report.integrity_reason
    [intact] = validate_pdf(good, [ca.certificate], crls=[ca.issue_crl()])
    assert intact.integrity_reason == "digest matches; the signature covers the whole file"


def _signer_info(data: bytes):  # type: ignore[no-untyped-def]
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(BytesIO(data)).embedded_signatures[0].signer_info
