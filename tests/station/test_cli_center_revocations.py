"""A card that leaves its holder loses its e-signature certificate at the real CA, through the
command line (issue 10, card registry: "revokes its e-signature certificate (the CRL and OCSP
answer change)"; scheme, stages 5-6, lines 178-184): `center init --esign` names the CA, the
lost card's restoration is submitted, and the CA's own CRL and OCSP answer say revoked. Without
the CA's passphrase the revocation stays pending, and `center revocations --apply` applies it."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.pki.test_esign_kit import ec_signer

from pki.enroll import enroll
from pki.esign import EsignCA, HolderRecord
from pki.esign_register import IssuedCertificate
from pki.filestore import FileKeyStore
from pki.keys import KeySpec
from pki.ocsp import OCSPResponder, parse_response, request_for
from station.center.service import record_esign
from station.cli import main
from station.folders.esign import open_ca
from station.folders.esign import run_init as esign_init
from station.folders.station import open_center

PASSPHRASE = "revocation-test-passphrase"
HOLDER = ["--name", "Gʻulomov Oʻtkir", "--document", "FA1234567"]


def _idkarta(*args: str | Path, code: int = 0) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == code, (args, result.output, result.stderr)
    return result.stdout


def _issued_station(tmp_path: Path) -> tuple[Path, Path, IssuedCertificate]:
    """A station whose Center revokes through the CA of ``esign``, and the sample citizen's card
    AD0000001 handed over with its e-signature certificate recorded (decree §5д)."""
    esign = tmp_path / "esign"
    store = FileKeyStore(esign / "keys", lambda: PASSPHRASE.encode())
    esign_init(esign, {"type": "file"}, base_url="http://127.0.0.1:8080",
               key_spec=KeySpec.parse("ec-p256"), common_name="Test e-Signature CA",
               store=store)  # fmt: skip
    station = tmp_path / "station"
    _idkarta("center", "init", "--dir", station, "--esign", esign)
    assert json.loads((station / "center.json").read_text())["esign"] == str(esign.resolve())
    _idkarta("point", "init", "--station", station, "--code", "TAS-01", "--name", "Toshkent 1",
             "--kind", "internal-affairs", "--place-code", "262", "--operator", "aziza")
    form = tmp_path / "application.json"
    shutil.copy(Path(str(resources.files("station") / "samples" / "application.json")), form)
    _idkarta("point", "apply", form, "--station", station, "--operator", "aziza",
             "--id", "TAS-01-0001")  # fmt: skip
    _idkarta("point", "submit", "TAS-01-0001", "--station", station)
    ca = open_ca(esign, store)
    record = HolderRecord("31503902620452", "GULOMOV", "OTKIR", "AD0000001", date(2036, 12, 1))
    cert = enroll(ec_signer(), record, ca)
    with open_center(station, None) as db:
        record_esign(db, "AD0000001", serial=cert.serial,
                     fingerprint=hashlib.sha256(bytes(cert.certificate.dump())).hexdigest())
    for status in ("personalized", "verified"):
        _idkarta("point", "mark", "TAS-01-0001", status, "--station", station,
                 "--operator", "aziza")  # fmt: skip
    _idkarta("point", "handover", "TAS-01-0001", "--station", station, "--operator", "aziza",
             *HOLDER)  # fmt: skip
    return station, esign, cert


def _lose(station: Path) -> None:
    _idkarta("point", "replace", "--station", station, "--operator", "aziza", "--card",
             "AD0000001", "--ground", "lost", "--document", "application-form", "--document",
             "fee-receipt", "--applicant-document", "FA1234567", "--id", "TAS-01-0002")
    _idkarta("point", "submit", "TAS-01-0002", "--station", station)


def _revoked_at_the_ca(esign: Path, cert: IssuedCertificate) -> tuple[bool, str]:
    ca: EsignCA = open_ca(esign, FileKeyStore(esign / "keys", lambda: PASSPHRASE.encode()))
    listed = {int(e["user_certificate"].native)
              for e in ca.issue_crl()["tbs_cert_list"]["revoked_certificates"] or []}
    answer = parse_response(OCSPResponder(ca).respond(
        request_for(cert.certificate, ca.certificate, b"nonce-0001")))
    return cert.serial in listed, answer[0].status


def test_a_lost_cards_certificate_is_revoked_at_the_ca(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDKARTA_PASSPHRASE", PASSPHRASE)
    station, esign, cert = _issued_station(tmp_path)
    assert _revoked_at_the_ca(esign, cert) == (False, "good")
    _lose(station)
    assert _revoked_at_the_ca(esign, cert) == (True, "revoked")
    listed = json.loads(_idkarta("center", "revocations", "--dir", station, "--json"))
    assert listed["pending"] == 0 and len(listed["revocations"]) == 1
    entry = listed["revocations"][0]
    assert entry["card"] == "AD0000001" and entry["serial"] == str(cert.serial)
    assert entry["applied_at"] is not None


def test_without_the_cas_passphrase_it_stays_pending_until_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDKARTA_PASSPHRASE", PASSPHRASE)
    station, esign, cert = _issued_station(tmp_path)
    monkeypatch.delenv("IDKARTA_PASSPHRASE")
    _lose(station)  # the card is lost and the new one allocated all the same
    assert _revoked_at_the_ca(esign, cert) == (False, "good")
    out = _idkarta("center", "revocations", "--dir", station)
    assert "AD0000001" in out and "pending" in out and "Pending       1" in out
    assert PASSPHRASE not in out
    monkeypatch.setenv("IDKARTA_PASSPHRASE", PASSPHRASE)
    applied = json.loads(_idkarta("center", "revocations", "--dir", station, "--apply",
                                  "--json"))  # fmt: skip
    assert applied["applied"] == 1 and applied["pending"] == 0
    assert _revoked_at_the_ca(esign, cert) == (True, "revoked")
    again = json.loads(_idkarta("center", "revocations", "--dir", station, "--apply", "--json"))
    assert again["applied"] == 0 and again["pending"] == 0


def test_apply_without_a_configured_ca_is_a_usage_error(tmp_path: Path) -> None:
    station = tmp_path / "station"
    _idkarta("center", "init", "--dir", station)
    result = CliRunner().invoke(main, ["center", "revocations", "--dir", str(station), "--apply"])
    assert result.exit_code == 2
    assert "no e-signature CA is configured" in result.stderr
