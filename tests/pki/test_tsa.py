"""RFC 3161 TSA: tokens verified by openssl ts -verify, nonce, refusals, TSA certificate."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from pathlib import Path

import pytest
from asn1crypto import tsp
from cryptography import x509 as cx509
from tests.conftest import require_tool
from tests.pki.test_esign_kit import NOW, ec_signer, make_ca, run_lint

from pki.ca import pem_certificate
from pki.esign import EsignCA
from pki.tsa import (
    ID_IDKARTA_TSA_POLICY,
    TimeStampAuthority,
    parse_response,
    request_for,
    response_status,
)


def _tsa(tmp_path: Path) -> tuple[EsignCA, TimeStampAuthority]:
    ca = make_ca(tmp_path)
    key = ec_signer("tsa")
    cert = ca.issue_tsa(key.public_key(), now=NOW).certificate
    clock = NOW + dt.timedelta(hours=1)
    return ca, TimeStampAuthority(cert, key, clock=lambda: clock)


def test_token_content(tmp_path: Path) -> None:
    _ca, tsa = _tsa(tmp_path)
    info = parse_response(tsa.respond(request_for(b"document", nonce=77))).native
    assert info["message_imprint"]["hashed_message"] == hashlib.sha256(b"document").digest()
    assert info["nonce"] == 77
    assert info["policy"] == ID_IDKARTA_TSA_POLICY
    assert info["gen_time"] == NOW + dt.timedelta(hours=1)


def test_tsa_certificate_has_critical_timestamping_eku(tmp_path: Path) -> None:
    _ca, tsa = _tsa(tmp_path)
    cert = cx509.load_der_x509_certificate(tsa.certificate.dump())
    eku = cert.extensions.get_extension_for_class(cx509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [cx509.ExtendedKeyUsageOID.TIME_STAMPING]


def test_refusals(tmp_path: Path) -> None:
    _ca, tsa = _tsa(tmp_path)
    bad = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"}, "hashed_message": b"short"
            },
        }
    ).dump()
    wrong_policy = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"}, "hashed_message": bytes(32)
            },
            "req_policy": "1.2.3.4",
        }
    ).dump()
    for request, failure in ((b"junk", "bad_data_format"), (bad, "bad_alg"),
                             (wrong_policy, "unaccepted_policy")):
        assert response_status(tsa.respond(request)) == ("rejection", {failure})
    assert response_status(tsa.respond(request_for(b"x"))) == ("granted", set())


@pytest.mark.tool
def test_openssl_ts_verify(tmp_path: Path) -> None:
    openssl = require_tool("openssl")
    ca, tsa = _tsa(tmp_path)
    (tmp_path / "data").write_bytes(b"signed document bytes")
    (tmp_path / "query").write_bytes(request_for(b"signed document bytes", nonce=5))
    (tmp_path / "reply").write_bytes(tsa.respond((tmp_path / "query").read_bytes()))
    (tmp_path / "ca.pem").write_bytes(pem_certificate(ca.certificate))
    (tmp_path / "tsa.pem").write_bytes(pem_certificate(tsa.certificate))
    for source in (["-data", str(tmp_path / "data")], ["-queryfile", str(tmp_path / "query")]):
        out = subprocess.run(
            [openssl, "ts", "-verify", "-in", str(tmp_path / "reply"), *source,
             "-CAfile", str(tmp_path / "ca.pem"), "-untrusted", str(tmp_path / "tsa.pem")],
            capture_output=True, text=True,
        )
        assert out.returncode == 0 and "Verification: OK" in out.stdout, out.stderr
    (tmp_path / "other").write_bytes(b"other bytes")
    out = subprocess.run(
        [openssl, "ts", "-verify", "-in", str(tmp_path / "reply"), "-data",
         str(tmp_path / "other"), "-CAfile", str(tmp_path / "ca.pem"),
         "-untrusted", str(tmp_path / "tsa.pem")],
        capture_output=True, text=True,
    )
    assert out.returncode != 0


@pytest.mark.tool
def test_pkilint_tsa_certificate(tmp_path: Path) -> None:
    _ca, tsa = _tsa(tmp_path)
    (tmp_path / "tsa.pem").write_bytes(pem_certificate(tsa.certificate))
    assert run_lint("lint_pkix_cert", str(tmp_path / "tsa.pem")) == ""
