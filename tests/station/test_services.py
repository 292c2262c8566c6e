"""The HTTP services on loopback: CRL, OCSP (POST and GET, openssl ocsp), TSA, B-LT over HTTP."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509 as cx509
from tests.conftest import require_tool
from tests.pki.test_esign_kit import ALISHER, NODIRA, ec_signer, make_ca

from pki.ca import pem_certificate
from pki.enroll import enroll
from pki.esign import EsignCA, IssuedCertificate, RevocationCause, ServiceURLs
from pki.ocsp import parse_response, request_for
from pki.pdf import HTTPTimeStamper, PAdESLevel, PdfSigner, sign_pdf, simple_pdf, validate_pdf
from pki.tsa import TimeStampAuthority
from pki.tsa import parse_response as parse_tsr
from pki.tsa import request_for as tsq
from station.services import ServiceServer


@dataclass
class Running:
    server: ServiceServer
    ca: EsignCA
    good: IssuedCertificate
    bad: IssuedCertificate
    holder: object


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    base = make_ca(tmp_path)
    tsa_key = ec_signer("tsa")
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    tsa_cert = base.issue_tsa(tsa_key.public_key(), now=now).certificate
    server = ServiceServer(base, tsa=TimeStampAuthority(tsa_cert, tsa_key)).start()
    try:
        ca = EsignCA(base.register, base.signer, ServiceURLs.at(server.url))
        holder = ec_signer("holder")
        good = enroll(holder, ALISHER, ca, now=now)
        bad = enroll(ec_signer(), NODIRA, ca, now=now)
        ca.revoke(bad.serial, RevocationCause.LOST_CARD)
        yield Running(server, ca, good, bad, holder)
    finally:
        server.stop()


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 - loopback test
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def _post(url: str, body: bytes, content_type: str) -> tuple[int, str, bytes]:
    req = urllib.request.Request(  # noqa: S310 - loopback test
        url, data=body, headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_crl_and_ca_certificate(running: Running) -> None:
    status, ctype, body = _get(running.ca.urls.crl)
    assert (status, ctype) == (200, "application/pkix-crl")
    crl = cx509.load_der_x509_crl(body)
    assert crl.is_signature_valid(running.ca.signer.public_key())
    assert crl.get_revoked_certificate_by_serial_number(running.bad.serial) is not None
    assert crl.get_revoked_certificate_by_serial_number(running.good.serial) is None
    status, ctype, body = _get(running.ca.urls.ca_issuers)
    assert (status, ctype, body) == (200, "application/pkix-cert", running.ca.certificate.dump())
    assert _get(running.server.url + "/nothing")[0] == 404


def test_ocsp_post_and_get(running: Running) -> None:
    req = request_for(running.good.certificate, running.ca.certificate, b"nonce-1")
    status, ctype, body = _post(running.ca.urls.ocsp, req, "application/ocsp-request")
    assert (status, ctype) == (200, "application/ocsp-response")
    assert parse_response(body)[0].status == "good"
    req = request_for(running.bad.certificate, running.ca.certificate, b"nonce-2")
    encoded = urllib.parse.quote(base64.b64encode(req).decode(), safe="")
    status, _, body = _get(f"{running.ca.urls.ocsp}/{encoded}")
    assert status == 200 and parse_response(body)[0].status == "revoked"
    assert _post(running.ca.urls.ocsp, req, "text/plain")[0] == 415


def test_tsa_over_http(running: Running) -> None:
    status, ctype, body = _post(
        running.server.url + "/tsa", tsq(b"data", nonce=9), "application/timestamp-query"
    )
    assert (status, ctype) == (200, "application/timestamp-reply")
    assert parse_tsr(body)["nonce"].native == 9
    assert _post(running.server.url + "/tsa", tsq(b"data"), "application/json")[0] == 415


@pytest.mark.tool
def test_openssl_ocsp_queries_the_responder(running: Running, tmp_path: Path) -> None:
    openssl = require_tool("openssl")
    (tmp_path / "ca.pem").write_bytes(pem_certificate(running.ca.certificate))
    for name, issued, expected in (("good", running.good, ": good"),
                                   ("bad", running.bad, ": revoked")):
        cert = tmp_path / f"{name}.pem"
        cert.write_bytes(pem_certificate(issued.certificate))
        out = subprocess.run(
            [openssl, "ocsp", "-issuer", str(tmp_path / "ca.pem"), "-cert", str(cert),
             "-url", running.ca.urls.ocsp, "-CAfile", str(tmp_path / "ca.pem")],
            capture_output=True, text=True, timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert f"{cert}{expected}" in out.stdout, out.stdout
        assert "Response verify OK" in out.stderr


def test_b_lt_fetches_from_the_services(running: Running) -> None:
    signer = PdfSigner(running.holder, running.good.certificate, [running.ca.certificate])  # type: ignore[arg-type]
    signed = sign_pdf(
        simple_pdf(),
        signer,
        level=PAdESLevel.B_LT,
        timestamper=HTTPTimeStamper(running.server.url + "/tsa"),
        trust_roots=[running.ca.certificate],
    )
    [report] = validate_pdf(signed, [running.ca.certificate])
    assert report.ok and report.timestamped
    [online] = validate_pdf(
        sign_pdf(simple_pdf(), signer), [running.ca.certificate], online=True
    )
    assert online.ok
