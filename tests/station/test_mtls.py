"""Mutual TLS between the points and the Center: the point CA's profiles (pkilint, openssl),
``idkarta center serve`` with --tls-cert/--tls-key/--client-ca/--crl started for real on
127.0.0.1, and points reaching it with their certificates through ``CenterClient``."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from tests.conftest import require_tool
from tests.pki.test_esign_kit import run_lint
from tests.station.center.kit import person, request, setup_center

from pki.point_ca import point_code_of
from station.api import create_app
from station.api.auth import check_own, point_of_scope
from station.center.errors import CenterUnavailable, NotYourPoint, PointUnauthenticated
from station.cli import main
from station.client import CenterClient
from station.db import Database, Role, open_database
from station.domain.application import PointKind
from station.domain.cards import CardStatus
from station.errors import UsageError
from station.folders.pki import load_certificate_file

ENV = {"IDKARTA_PASSPHRASE": "mtls-test-passphrase"}


def cli(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, [*args, "--json"], env=ENV)
    assert result.exit_code == 0, result.output
    out: dict[str, object] = json.loads(result.stdout)
    return out


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PKI folder with a point CA; TLS files of points TAS01 and SAM01, of the Center
    (127.0.0.1) and of a rogue CA's 'TAS01' under ``tls/``."""
    root = tmp_path_factory.mktemp("mtls")
    d = str(root / "pki")
    cli("pki", "init", "--dir", d, "--key-type", "ec-p256", "--cvc-key-type", "ec-p256")
    cli("pki", "point-ca", "init", "--dir", d)
    for point in ("TAS01", "SAM01"):
        cli("pki", "point-ca", "issue", "--dir", d, "--point", point,
            "--out", str(root / "tls" / point))  # fmt: skip
    cli("pki", "point-ca", "issue", "--dir", d, "--host", "127.0.0.1",
        "--out", str(root / "tls" / "center"))  # fmt: skip
    rogue = str(root / "rogue")
    cli("pki", "init", "--dir", rogue, "--key-type", "ec-p256", "--cvc-key-type", "ec-p256")
    cli("pki", "point-ca", "init", "--dir", rogue)
    cli("pki", "point-ca", "issue", "--dir", rogue, "--point", "TAS01",
        "--out", str(root / "tls" / "rogue"))  # fmt: skip
    return root


def _files(pki: Path, who: str) -> dict[str, Path]:
    base = pki / "tls" / who
    return {"cert": base / "cert.pem", "key": base / "key.pem", "ca": base / "ca.pem"}


# -- the profiles ------------------------------------------------------------------------------


def test_point_ca_profiles_pass_pkilint_and_openssl(pki: Path) -> None:
    ca = str(pki / "pki" / "point-ca" / "ca.pem")
    for who in ("TAS01", "center"):
        assert run_lint("lint_pkix_cert", str(pki / "tls" / who / "cert.pem")) == "", who
    assert run_lint("lint_pkix_cert", ca) == ""
    assert run_lint("lint_crl", "-t", "CRL", "-p", "PKIX",
                    str(pki / "pki" / "point-ca" / "crl.pem")) == ""  # fmt: skip
    openssl = require_tool("openssl")

    def verify(who: str, purpose: str) -> int:
        return subprocess.run(
            [openssl, "verify", "-CAfile", ca, "-purpose", purpose, "-crl_check", "-CRLfile",
             str(pki / "pki" / "point-ca" / "crl.pem"), str(pki / "tls" / who / "cert.pem")],
            capture_output=True, timeout=60).returncode  # fmt: skip

    assert verify("TAS01", "sslclient") == 0
    assert verify("center", "sslserver") == 0
    assert verify("TAS01", "sslserver") != 0  # a point cannot pose as the Center
    assert verify("center", "sslclient") != 0  # nor the Center's certificate as a point
    assert verify("rogue", "sslclient") != 0
    text = subprocess.run([openssl, "x509", "-in", str(pki / "tls" / "center" / "cert.pem"),
                           "-noout", "-ext", "subjectAltName,extendedKeyUsage"],
                          capture_output=True, text=True, timeout=60).stdout  # fmt: skip
    assert "IP Address:127.0.0.1" in text and "TLS Web Server Authentication" in text
    assert oct((pki / "tls" / "TAS01" / "key.pem").stat().st_mode & 0o777) == "0o600"


def test_point_code_is_read_from_a_point_client_certificate_only(pki: Path) -> None:
    assert point_code_of(load_certificate_file(_files(pki, "TAS01")["cert"])) == "TAS01"
    assert point_code_of(load_certificate_file(_files(pki, "center")["cert"])) is None
    assert point_code_of(load_certificate_file(_files(pki, "TAS01")["ca"])) is None


def test_the_scope_without_a_point_certificate_is_unauthenticated(pki: Path) -> None:
    pem = _files(pki, "center")["cert"].read_text()
    for scope in ({}, {"extensions": {}}, {"extensions": {"tls": {"client_cert_chain": []}}},
                  {"extensions": {"tls": {"client_cert_chain": [pem]}}},
                  {"extensions": {"tls": {"client_cert_chain": ["not PEM"]}}}):  # fmt: skip
        with pytest.raises(PointUnauthenticated) as refused:
            point_of_scope(scope)
        chain = scope.get("extensions", {}).get("tls", {}).get("client_cert_chain")
        assert str(refused.value) == ("certificate: the client certificate is not a point's"
                                      if chain else
                                      "certificate: a point's TLS client certificate is "
                                      "required")  # fmt: skip
    own = _files(pki, "SAM01")["cert"].read_text()
    assert point_of_scope({"extensions": {"tls": {"client_cert_chain": [own]}}}) == "SAM01"
    check_own(None, "TAS01", "point")  # the embedded Center: no TLS, its one point
    check_own("TAS01", "TAS01", "point")
    with pytest.raises(NotYourPoint) as other:
        check_own("SAM01", "TAS01", "point")
    assert other.value.field == "point"
    assert str(other.value) == "point: point SAM01 may not act for point TAS01"


def test_point_ca_refuses_what_it_should_not_issue(pki: Path, tmp_path: Path) -> None:
    d = str(pki / "pki")
    for args in (["--point", "tas 01"], ["--host", "Not A Host!"], [],
                 ["--point", "TAS01", "--host", "x.example"]):  # fmt: skip
        result = CliRunner().invoke(main, ["pki", "point-ca", "issue", "--dir", d, *args,
                                           "--out", str(tmp_path / "x"), "--json"], env=ENV)
        assert result.exit_code == 2, args
        assert not (tmp_path / "x" / "cert.pem").exists()
    # never overwrites a key
    again = CliRunner().invoke(main, ["pki", "point-ca", "issue", "--dir", d, "--point", "TAS01",
                                      "--out", str(pki / "tls" / "TAS01")], env=ENV)  # fmt: skip
    assert again.exit_code == 2 and "exists" in again.stderr
    twice = CliRunner().invoke(main, ["pki", "point-ca", "init", "--dir", d], env=ENV)
    assert twice.exit_code == 2 and "already has a point CA" in twice.stderr


def test_the_embedded_center_stays_without_tls_and_a_served_one_requires_it(
    center_db: Database,
) -> None:
    setup_center(center_db)
    with CenterClient.in_process(create_app(center_db)) as embedded:
        assert embedded.center_status().points == 2
    app = create_app(center_db, client_certificates=True)
    with CenterClient.in_process(app) as no_tls, pytest.raises(PointUnauthenticated):
        no_tls.center_status()


# -- the served Center -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def served(pki: Path, database: str) -> Iterator[str]:
    """``idkarta center serve`` with mutual TLS in a process of its own; yields its URL."""
    port = _free_port()
    tls = _files(pki, "center")
    proc = subprocess.Popen(
        [sys.executable, "-m", "station.cli", "center", "serve", "--database", database,
         "--port", str(port), "--tls-cert", str(tls["cert"]), "--tls-key", str(tls["key"]),
         "--client-ca", str(pki / "pki" / "point-ca" / "ca.pem"),
         "--crl", str(pki / "pki" / "point-ca" / "crl.pem")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **ENV},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[1].decode()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the Center did not start"
                time.sleep(0.1)
        yield f"https://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _client(url: str, files: dict[str, Path]) -> CenterClient:
    return CenterClient.over_http(url, cert=files["cert"], key=files["key"], ca=files["ca"],
                                  timeout=10)  # fmt: skip


def _refused_at_handshake(url: str, files: dict[str, Path]) -> None:
    with _client(url, files) as client, pytest.raises(CenterUnavailable):
        client.center_status()


def test_points_reach_only_their_own_data_over_mutual_tls(
    pki: Path, new_database_url: object, tmp_path: Path
) -> None:
    url_of = new_database_url
    assert callable(url_of)
    database = url_of("center", migrated=Role.CENTER)
    db = open_database(database, Role.CENTER)
    try:
        setup_center(db)
    finally:
        db.close()
    tas, sam = _files(pki, "TAS01"), _files(pki, "SAM01")
    with served(pki, database) as url:
        # no client certificate: the TLS connection stands (browsers), /v1 answers 401
        plain = ssl.create_default_context(cafile=str(tas["ca"]))
        answer = httpx.get(f"{url}/v1/status", verify=plain, timeout=10)
        assert answer.status_code == 401
        assert answer.json()["error"]["type"] == "PointUnauthenticated"

        with _client(url, tas) as tas_client, _client(url, sam) as sam_client:
            made = tas_client.send_request(request(person(), point="TAS01"))
            card = made.card
            assert tas_client.record_card_status(
                card, CardStatus.PERSONALIZED, operator="op1").status is CardStatus.PERSONALIZED
            before = tas_client.center_status()

            # another point's data: 403, nothing changed
            with pytest.raises(NotYourPoint) as other:
                sam_client.record_card_status(card, CardStatus.VERIFIED, operator="op2")
            assert other.value.field == "card"
            with pytest.raises(NotYourPoint) as other:
                sam_client.record_esign(card, serial=5, fingerprint="00" * 32)
            assert other.value.field == "card"
            with pytest.raises(NotYourPoint) as other:
                sam_client.send_request(request(person(), point="TAS01"))
            assert other.value.field == "point"
            with pytest.raises(NotYourPoint) as other:
                sam_client.register_point(code="TAS01", name="x", kind=PointKind.INTERNAL_AFFAIRS,
                                          place_code="023")  # fmt: skip
            assert other.value.field == "code"
            assert tas_client.card_info(card).status is CardStatus.PERSONALIZED
            assert sam_client.center_status() == before
            # reading the registry is every point's (a replacement may be applied for anywhere)
            assert sam_client.card_info(card).point == "TAS01"

        # refused at the handshake: the Center's own certificate, another CA's "TAS01"
        _refused_at_handshake(url, _files(pki, "center"))
        _refused_at_handshake(url, {**_files(pki, "rogue"), "ca": tas["ca"]})
        # the point checks the Center: another CA, or a name the certificate does not hold
        _refused_at_handshake(url, {**tas, "ca": _files(pki, "rogue")["ca"]})
        _refused_at_handshake(url.replace("127.0.0.1", "localhost"), tas)
        # plain HTTP to the TLS port
        with CenterClient.over_http(url.replace("https", "http"), timeout=10) as bare, \
                pytest.raises(CenterUnavailable):  # fmt: skip
            bare.center_status()

        # a point over the CLI: `point init --tls` registers through mutual TLS, point.json
        # keeps the folder
        station = tmp_path / "station"
        result = CliRunner().invoke(main, [
            "point", "init", "--station", str(station), "--center", url, "--code", "SAM01",
            "--name", "Samarqand DXM", "--kind", "public-service-centre", "--place-code",
            "114", "--operator", "aziza", "--tls", str(pki / "tls" / "SAM01"),
            "--json"])  # fmt: skip
        assert result.exit_code == 0, result.output
        saved = json.loads((station / "point.json").read_text())
        assert saved["center_tls"] == str((pki / "tls" / "SAM01").resolve())
        # a later command finds the TLS files through point.json: the Center answers (the
        # card is not in use yet), which it could not without the point's certificate
        replace = CliRunner().invoke(main, [
            "point", "replace", "--station", str(station), "--center", url, "--operator",
            "aziza", "--card", card, "--ground", "lost", "--json"])  # fmt: skip
        assert replace.exit_code == 1, replace.output
        assert json.loads(replace.stdout)["error"] == (
            f"previous_card: {card} is personalized: only a card in use is restored or replaced")

        # revoked: a new CRL is read at the next handshake, no restart
        fresh = tmp_path / "fresh"
        issued = cli("pki", "point-ca", "issue", "--dir", str(pki / "pki"), "--point", "SAM01",
                     "--out", str(fresh))  # fmt: skip
        fresh_files = {"cert": fresh / "cert.pem", "key": fresh / "key.pem",
                       "ca": fresh / "ca.pem"}  # fmt: skip
        with _client(url, fresh_files) as before_revocation:
            assert before_revocation.center_status().points == 2
        cli("pki", "point-ca", "revoke", "--dir", str(pki / "pki"), str(issued["serial"]),
            "--reason", "key-compromise")  # fmt: skip
        cli("pki", "point-ca", "crl", "--dir", str(pki / "pki"))
        _refused_at_handshake(url, fresh_files)
        with _client(url, sam) as still:
            assert still.card_info(card).status is CardStatus.PERSONALIZED


def test_serve_wants_all_four_tls_options(tmp_path: Path, pki: Path) -> None:
    tls = _files(pki, "center")
    result = CliRunner().invoke(main, ["center", "serve", "--dir", str(tmp_path),
                                       "--tls-cert", str(tls["cert"]), "--json"])  # fmt: skip
    assert result.exit_code == 2
    assert "--tls-cert, --tls-key, --client-ca and --crl go together" in result.stderr


def test_an_https_center_needs_the_point_files(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="needs the point's certificate"):
        CenterClient.over_http("https://127.0.0.1:1")
    with pytest.raises(UsageError, match="needs an https"):
        CenterClient.over_http("http://127.0.0.1:1", ca=tmp_path / "ca.pem")
