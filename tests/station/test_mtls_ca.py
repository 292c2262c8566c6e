"""The point CA's rules (what it issues, revokes, lists) and the served Center's CRL handling:
an expired CRL refuses every point (fail closed), a new one is read at the next handshake, an
unreadable one leaves the last good one in force."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from asn1crypto import crl
from cryptography.hazmat.primitives.asymmetric import ec
from tests.station.center.kit import setup_center
from tests.station.test_mtls import ENV, _client, _files, pki  # noqa: F401 - pki: a fixture

from pki.ca import CAState
from pki.errors import IssuanceError, PKIError
from pki.filestore import FileKeyStore
from pki.keys import KeySpec
from pki.point_ca import PointCA
from station.api import create_app
from station.api.tls import CRLReloadingContext, TLSPeerH11Protocol, server_ssl_context
from station.center.errors import CenterUnavailable
from station.db import Database
from station.domain.application import PointKind
from station.errors import UsageError
from station.folders.pki import open_pki_stores, run_point_cert, run_point_crl
from station.point.config import PointConfig

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def ca(tmp_path: Path) -> PointCA:
    store = FileKeyStore(tmp_path / "keys", passphrase=lambda: b"point-ca-test")
    return PointCA.create(store.generate("point-ca-1", KeySpec.parse("ec-p256")),
                          tmp_path / "state.json", country="UZ", organization="IIV", days=365,
                          now=NOW)  # fmt: skip


def _key() -> Any:
    return ec.generate_private_key(ec.SECP256R1()).public_key()


def test_point_ca_issues_revokes_and_lists(ca: PointCA, tmp_path: Path) -> None:
    assert ca.certificate.subject.native == {"country_name": "UZ", "organization_name": "IIV",
                                             "common_name": "Point CA UZ"}  # fmt: skip
    assert ca.certificate.ca and ca.certificate.max_path_length == 0
    assert ca.certificate.key_usage_value.native == {"key_cert_sign", "crl_sign"}
    client = ca.issue_client(_key(), point="TAS-01", days=30, now=NOW)
    assert client.subject.native == {"country_name": "UZ", "organization_name": "IIV",
                                     "common_name": "TAS-01"}  # fmt: skip
    assert client.extended_key_usage_value.native == ["client_auth"]
    assert client.authority_key_identifier == ca.key_id
    assert client.not_valid_after == NOW + dt.timedelta(days=30)
    server = ca.issue_server(_key(), hosts=["center.example", "10.0.0.5", "center.example"],
                             days=30, now=NOW)  # fmt: skip
    assert server.valid_domains == ["center.example"] and server.valid_ips == ["10.0.0.5"]
    assert server.extended_key_usage_value.native == ["server_auth"]
    state = CAState.load(tmp_path / "state.json")
    assert [(r.serial, r.profile) for r in state.issued] == [
        (1, "point-ca"), (2, "point-client"), (3, "center-server")]

    with pytest.raises(IssuanceError, match="would outlive the point CA"):
        ca.issue_client(_key(), point="TAS-01", days=366, now=NOW)
    with pytest.raises(IssuanceError, match="not a point code"):
        ca.issue_client(_key(), point="tas-01", days=30, now=NOW)
    with pytest.raises(IssuanceError, match="at least one host"):
        ca.issue_server(_key(), hosts=[], days=30, now=NOW)
    with pytest.raises(IssuanceError, match="neither an IP address nor"):
        ca.issue_server(_key(), hosts=["Center.Example"], days=30, now=NOW)
    with pytest.raises(IssuanceError, match="does not revoke its own"):
        ca.revoke(1)
    with pytest.raises(IssuanceError, match="serial 9 was not issued"):
        ca.revoke(9)
    with pytest.raises(IssuanceError, match="unknown revocation reason"):
        ca.revoke(2, reason="lost")

    ca.revoke(2, reason="key_compromise", when=NOW)
    with pytest.raises(IssuanceError, match="serial 2 is already revoked"):
        ca.revoke(2)
    first = ca.issue_crl(now=NOW)
    second = ca.issue_crl(now=NOW + dt.timedelta(days=1))
    assert [int(c.crl_number_value.native) for c in (first, second)] == [1, 2]
    tbs = first["tbs_cert_list"]
    assert tbs["next_update"].native == NOW + dt.timedelta(days=7)
    assert [(e["user_certificate"].native, e.crl_reason_value.native)
            for e in tbs["revoked_certificates"]] == [(2, "key_compromise")]  # fmt: skip
    assert first.authority_key_identifier == ca.key_id
    assert isinstance(first, crl.CertificateList)


def test_a_pki_folder_without_a_point_ca_says_so(tmp_path: Path, pki: Path) -> None:  # noqa: F811
    root = tmp_path / "pki"
    shutil.copytree(pki / "rogue", root)
    config = (root / "pki.json").read_text()
    (root / "pki.json").write_text(config.replace('"point_ca"', '"no_point_ca"'))
    with (open_pki_stores(root, passphrase=lambda: ENV["IDKARTA_PASSPHRASE"].encode())
          as (store, _), pytest.raises(PKIError, match="has no point CA")):  # fmt: skip
        run_point_crl(root, store)


def test_point_json_keeps_the_tls_folder() -> None:
    config = PointConfig(code="TAS-01", name="T", kind=PointKind.INTERNAL_AFFAIRS,
                         place_code="262", center_tls="tls")  # fmt: skip
    assert config.to_json()["center_tls"] == "tls"
    assert PointConfig.from_json(config.to_json()) == config
    plain = PointConfig(code="TAS-01", name="T", kind=PointKind.INTERNAL_AFFAIRS,
                        place_code="262")  # fmt: skip
    assert "center_tls" not in plain.to_json()  # a point.json without TLS stays as it was
    with pytest.raises(UsageError, match=r"point\.center_tls: not a non-empty text"):
        PointConfig.from_json({**plain.to_json(), "center_tls": 5})


# -- the CRL of a served Center ----------------------------------------------------------------


@contextmanager
def serving(app: Any, pki_dir: Path, center: dict[str, Path]) -> Iterator[str]:
    """``app`` under uvicorn with the Center's mutual TLS, in a thread on 127.0.0.1."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off",
        http=TLSPeerH11Protocol,
        ssl_context_factory=server_ssl_context(center["cert"], center["key"],
                                               pki_dir / "point-ca" / "ca.pem",
                                               pki_dir / "point-ca" / "crl.pem"),
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_an_expired_crl_refuses_every_point_until_a_new_one(
    center_db: Database, tmp_path: Path, pki: Path,  # noqa: F811
) -> None:  # fmt: skip
    setup_center(center_db)
    root = tmp_path / "pki"
    shutil.copytree(pki / "pki", root)
    with open_pki_stores(root, passphrase=lambda: ENV["IDKARTA_PASSPHRASE"].encode()) as (
        store, _
    ):
        tas = run_point_cert(root, store, out=tmp_path / "tas", point="TAS01")
        assert tas["point"] == "TAS01"
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
        run_point_crl(root, store, next_update_days=1, now=long_ago)  # expired 29 days ago
        files = {n: tmp_path / "tas" / f"{n}.pem" for n in ("cert", "key", "ca")}
        app = create_app(center_db, client_certificates=True)
        with serving(app, root, _files(pki, "center")) as url:
            with _client(url, files) as client, \
                    pytest.raises(CenterUnavailable):  # fmt: skip
                client.center_status()
            run_point_crl(root, store)
            with _client(url, files) as client:
                assert client.center_status().points == 2
            (root / "point-ca" / "crl.pem").write_text("not a CRL")  # the last good one stays
            with _client(url, files) as client:
                assert client.center_status().points == 2


def test_serve_refuses_unusable_tls_files(tmp_path: Path, pki: Path) -> None:  # noqa: F811
    center = _files(pki, "center")
    crl_file = pki / "pki" / "point-ca" / "crl.pem"
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("garbage")
    for args, message in (
        ((garbage, center["key"], center["ca"], crl_file), "--tls-cert/--tls-key"),
        ((center["cert"], center["key"], garbage, crl_file), "--client-ca"),
        ((center["cert"], center["key"], center["ca"], garbage), "--crl"),
        ((center["cert"], center["key"], center["ca"], tmp_path / "none"), "--crl"),
    ):
        with pytest.raises(UsageError, match=message):
            server_ssl_context(*args)


async def _echo_tls(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app answering the scope's TLS extension as JSON."""
    import json

    received = await receive()
    body = json.dumps({**scope.get("extensions", {}).get("tls"),
                       "body": received["body"].decode()}).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


def test_the_hook_puts_the_verified_client_certificate_into_the_scope(
    pki: Path,  # noqa: F811
) -> None:
    import ssl

    import httpx

    tas = _files(pki, "TAS01")
    with serving(_echo_tls, pki / "pki", _files(pki, "center")) as url:
        ctx = ssl.create_default_context(cafile=str(tas["ca"]))
        anonymous = httpx.post(url, content=b"hello", verify=ctx, timeout=10).json()
        assert anonymous == {"server_cert": None, "client_cert_chain": [],
                             "client_cert_name": None, "client_cert_error": None,
                             "tls_version": 0x0304, "cipher_suite": None,
                             "body": "hello"}  # fmt: skip
        ctx.load_cert_chain(tas["cert"], tas["key"])
        shown = httpx.get(url, verify=ctx, timeout=10).json()
        pem = shown["client_cert_chain"]
        assert len(pem) == 1
        assert ssl.PEM_cert_to_DER_cert(pem[0]) == ssl.PEM_cert_to_DER_cert(
            tas["cert"].read_text())


def test_point_ca_defaults_bounds_and_messages(
    ca: PointCA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the default validities: 10 years for the CA, 825 days for TLS certificates
    store = FileKeyStore(tmp_path / "k2", passphrase=lambda: b"point-ca-test")
    default = PointCA.create(store.generate("p", KeySpec.parse("ec-p256")),
                             tmp_path / "s2.json", country="UZ", now=NOW)  # fmt: skip
    assert default.certificate.not_valid_after - NOW == dt.timedelta(days=3650)
    client = default.issue_client(_key(), point="TAS-01", now=NOW)
    server = default.issue_server(_key(), hosts=["127.0.0.1"], now=NOW)
    for cert in (client, server):
        assert cert.not_valid_before == NOW
        assert cert.not_valid_after - NOW == dt.timedelta(days=825)
    assert server.subject.native == {"country_name": "UZ", "common_name": "idkarta Center"}
    issued = CAState.load(tmp_path / "s2.json").issued
    assert [r.subject for r in issued] == [
        "Common Name: Point CA UZ, Country: UZ", "Common Name: TAS-01, Country: UZ",
        "Common Name: idkarta Center, Country: UZ"]
    assert issued[1].not_after == "2029-03-05T09:00:00+00:00"  # 825 days on
    assert {r.issuer_key_id for r in issued} == {default.key_id.hex()}
    # a certificate may end with the CA, not after it
    assert ca.issue_client(_key(), point="TAS-01", days=365, now=NOW).not_valid_after == (
        ca.certificate.not_valid_after)
    with pytest.raises(IssuanceError) as late:
        ca.issue_server(_key(), hosts=["x.example"], days=366, now=NOW)
    assert str(late.value) == "the certificate would outlive the point CA certificate"
    with pytest.raises(IssuanceError) as own:
        ca.revoke(1)
    assert str(own.value) == "the point CA does not revoke its own certificate"
    # revocation times: UTC (whatever the host's zone), whole seconds, the moment given
    monkeypatch.setenv("TZ", "Asia/Tashkent")
    time.tzset()
    try:
        tashkent = dt.timezone(dt.timedelta(hours=5))
        record = ca.revoke(2, when=NOW.astimezone(tashkent).replace(microsecond=123))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert record.revocation_date == "2026-12-01T09:00:00+00:00"


def test_only_a_point_code_in_a_client_certificate_names_a_point(ca: PointCA) -> None:
    from pki.point_ca import point_code_of
    from pki.profiles import Profile

    odd = ca._issue(Profile.POINT_CLIENT, _key(), "not a code", 30, NOW)
    assert point_code_of(odd) is None
    assert point_code_of(ca.issue_client(_key(), point="TAS-01", days=30, now=NOW)) == "TAS-01"


def test_a_point_ca_refuses_a_foreign_key_by_name(ca: PointCA, tmp_path: Path) -> None:
    other = FileKeyStore(tmp_path / "o", passphrase=lambda: b"x" * 12).generate(
        "k", KeySpec.parse("ec-p256"))
    with pytest.raises(IssuanceError) as refused:
        PointCA(ca.certificate, other, tmp_path / "state.json")
    assert str(refused.value) == "the signer's key is not the point CA certificate's key"


def test_the_server_context_is_swapped_only_when_the_crl_changes(
    tmp_path: Path, pki: Path,  # noqa: F811
) -> None:
    import ssl

    center = _files(pki, "center")
    crl_file = tmp_path / "crl.pem"
    shutil.copy(pki / "pki" / "point-ca" / "crl.pem", crl_file)
    holder = CRLReloadingContext(center["cert"], center["key"], center["ca"], crl_file)
    ctx = holder.current
    assert ctx.protocol == ssl.PROTOCOL_TLS_SERVER and ctx.verify_mode == ssl.CERT_OPTIONAL
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    wanted = ssl.VERIFY_CRL_CHECK_LEAF | ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_TRUSTED_FIRST
    assert ctx.verify_flags & wanted == wanted  # Python's defaults kept

    class Handshake:
        context: ssl.SSLContext | None = None

    first = Handshake()
    holder._choose(first, None, holder.outer)
    assert first.context is ctx  # the CRL did not change: the same context
    crl_file.write_bytes(crl_file.read_bytes() + b"\n")
    second = Handshake()
    holder._choose(second, None, holder.outer)
    assert second.context is holder.current and holder.current is not ctx
