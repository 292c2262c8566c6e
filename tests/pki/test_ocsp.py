"""OCSP responder: good / revoked / unknown, nonce echo, signature, pkilint."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from asn1crypto import ocsp
from cryptography import x509 as cx509
from cryptography.x509 import ocsp as cocsp
from tests.pki.test_esign_kit import ALISHER, NODIRA, NOW, ec_signer, make_ca, run_lint

from pki.enroll import enroll
from pki.esign import RevocationCause
from pki.keys import verify_signature
from pki.ocsp import OCSPResponder, parse_response, request_for


def _responder(tmp_path: Path):  # type: ignore[no-untyped-def]
    ca = make_ca(tmp_path)
    good = enroll(ec_signer(), ALISHER, ca, now=NOW)
    bad = enroll(ec_signer(), NODIRA, ca, now=NOW)
    ca.revoke(bad.serial, RevocationCause.LOST_CARD, when=NOW + dt.timedelta(days=3))
    clock = NOW + dt.timedelta(days=4)
    return ca, good, bad, OCSPResponder(ca, clock=lambda: clock)


def test_good_revoked_unknown(tmp_path: Path) -> None:
    ca, good, bad, responder = _responder(tmp_path)
    answers = parse_response(responder.respond(request_for(good.certificate, ca.certificate, b"n")))
    assert [(a.serial, a.status) for a in answers] == [(good.serial, "good")]
    revoked = parse_response(responder.respond(request_for(bad.certificate, ca.certificate, b"n")))
    assert revoked[0].status == "revoked"
    assert revoked[0].reason == "key_compromise"
    assert revoked[0].revoked_at == NOW + dt.timedelta(days=3)
    # a certificate of another CA (same serial, other issuer key): unknown
    other = make_ca(tmp_path / "other")
    unknown = parse_response(
        responder.respond(request_for(good.certificate, other.certificate, b"n"))
    )
    assert unknown[0].status == "unknown"


def test_cryptography_reads_and_verifies_response(tmp_path: Path) -> None:
    ca, good, _bad, responder = _responder(tmp_path)
    nonce = bytes(range(16))
    der = responder.respond(request_for(good.certificate, ca.certificate, nonce))
    response = cocsp.load_der_ocsp_response(der)
    assert response.response_status is cocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status is cocsp.OCSPCertStatus.GOOD
    assert response.serial_number == good.serial
    assert response.responder_key_hash == ca.key_id
    assert response.produced_at_utc == NOW + dt.timedelta(days=4)
    assert response.next_update_utc == NOW + dt.timedelta(days=4, hours=12)
    nonce_ext = response.extensions.get_extension_for_class(cx509.OCSPNonce)
    assert nonce_ext.value.nonce == nonce
    assert verify_signature(
        ca.signer.public_key(), response.signature, response.tbs_response_bytes, ca.algorithm
    )


def test_malformed_request(tmp_path: Path) -> None:
    _ca, _good, _bad, responder = _responder(tmp_path)
    for junk in (b"", b"\x30\x00", b"not der at all"):
        response = ocsp.OCSPResponse.load(responder.respond(junk))
        assert response["response_status"].native == "malformed_request"


@pytest.mark.tool
def test_pkilint_ocsp(tmp_path: Path) -> None:
    ca, good, bad, responder = _responder(tmp_path)
    for name, cert in (("good", good), ("revoked", bad)):
        path = tmp_path / f"{name}.der"
        path.write_bytes(responder.respond(request_for(cert.certificate, ca.certificate, b"n")))
        assert run_lint("lint_ocsp_response", str(path)) == ""
