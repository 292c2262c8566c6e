"""`idkarta esign …`, `idkarta sign` and `idkarta validate` through click's runner."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.pki.test_esign_kit import ALISHER, NODIRA, ec_signer
from tests.softhsm import SoftHSMToken

from pki.enroll import build_request
from pki.esign import EsignCA, EsignRegister, ServiceURLs
from pki.filestore import FileKeyStore
from pki.hsm import PKCS11Module
from pki.keys import KeySpec
from pki.pdf import simple_pdf
from station.cli import main
from station.services import ServiceServer

ENV = {"IDKARTA_PASSPHRASE": "correct horse battery"}


def _issue_args(record, csr: Path, ca_dir: Path, out: Path) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        "esign", "issue", str(csr), "--dir", str(ca_dir), "--pinfl", record.pinfl,
        "--surname", record.surname, "--given-name", record.given_name,
        "--card-number", record.card_number, "--card-expiry", record.card_expiry.isoformat(),
        "--out", str(out), "--json",
    ]


def test_esign_init_issue_refuse_revoke_crl(tmp_path: Path) -> None:
    runner = CliRunner()
    ca_dir = tmp_path / "esign"
    result = runner.invoke(main, ["esign", "init", "--dir", str(ca_dir),
                                  "--base-url", "http://pki.idkarta.uz"], env=ENV)
    assert result.exit_code == 0, result.output
    assert (ca_dir / "ca.pem").is_file() and (ca_dir / "tsa.pem").is_file()
    assert runner.invoke(main, ["esign", "init", "--dir", str(ca_dir)], env=ENV).exit_code == 2
    csr = tmp_path / "req.der"
    csr.write_bytes(build_request(ec_signer(), ALISHER))
    result = runner.invoke(main, _issue_args(ALISHER, csr, ca_dir, tmp_path / "ee.pem"), env=ENV)
    assert result.exit_code == 0, result.output
    issued = json.loads(result.output)
    assert issued["subject"].startswith("PINFL: 31507880230014")
    assert (tmp_path / "ee.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
    # Alisher's request at Nodira's enrollment is refused: exit 2, nothing issued
    result = runner.invoke(main, _issue_args(NODIRA, csr, ca_dir, tmp_path / "x.pem"), env=ENV)
    assert result.exit_code == 2 and "does not match" in result.output
    register = EsignRegister(ca_dir / "esign.sqlite")
    assert len(register.by_pinfl(NODIRA.pinfl)) == 0
    # the OneID event was written with the certificate
    from station.outbox import Outbox

    [event] = Outbox(register.path).pending()
    assert event.payload["certificate_serial"] == issued["serial"]
    result = runner.invoke(main, ["esign", "revoke", issued["serial"], "--dir", str(ca_dir),
                                  "--reason", "key-compromise"], env=ENV)
    assert result.exit_code == 0, result.output
    assert register.status(int(issued["serial"], 16)).reason == "key_compromise"
    result = runner.invoke(main, ["esign", "crl", "--dir", str(ca_dir)], env=ENV)
    assert result.exit_code == 0 and "BEGIN X509 CRL" in result.output


@pytest.mark.hsm
def test_sign_and_validate_with_token_key(
    softhsm_token: SoftHSMToken,
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    ca_dir = tmp_path / "esign"
    assert runner.invoke(main, ["esign", "init", "--dir", str(ca_dir)], env=ENV).exit_code == 0
    config = json.loads((ca_dir / "esign.json").read_text())
    store = FileKeyStore(ca_dir / "keys", lambda: ENV["IDKARTA_PASSPHRASE"].encode())
    base = EsignCA(EsignRegister(ca_dir / "esign.sqlite"), store.load("esign-ca"),
                   ServiceURLs.at("http://127.0.0.1"))
    label = f"cli-holder-{os.urandom(4).hex()}"
    token = PKCS11Module(softhsm_token.module).token(softhsm_token.label)
    with ServiceServer(base) as server, token.session(lambda: softhsm_token.pin) as session:
        config["base_url"] = server.url
        (ca_dir / "esign.json").write_text(json.dumps(config))
        key = session.generate_key(label, KeySpec("ec", curve="secp256r1"))
        csr = tmp_path / "req.der"
        csr.write_bytes(build_request(key, ALISHER))
        result = runner.invoke(main, _issue_args(ALISHER, csr, ca_dir, tmp_path / "ee.pem"),
                               env=ENV)
        assert result.exit_code == 0, result.output
        serial = json.loads(result.output)["serial"]
        (tmp_path / "in.pdf").write_bytes(simple_pdf())
        sign_args = [
            "sign", str(tmp_path / "in.pdf"), str(tmp_path / "out.pdf"),
            "--pkcs11-module", softhsm_token.module, "--token", softhsm_token.label,
            "--key-label", label, "--cert", str(tmp_path / "ee.pem"),
            "--chain", str(ca_dir / "ca.pem"),
        ]
        result = runner.invoke(main, sign_args, env={"IDKARTA_PIN": softhsm_token.pin})
        assert result.exit_code == 0, result.output
        assert softhsm_token.pin not in result.output
        validate = ["validate", str(tmp_path / "out.pdf"), "--trust", str(ca_dir / "ca.pem")]
        result = runner.invoke(main, [*validate, "--online", "--json"])
        assert result.exit_code == 0, result.output
        [sig] = json.loads(result.stdout)["signatures"]
        assert (sig["intact"], sig["valid"], sig["trusted"], sig["revocation"]) == (
            True, True, True, "good")
        # offline and nothing embedded: revocation not checked, so not OK
        result = runner.invoke(main, [*validate, "--json"])
        assert result.exit_code == 1
        assert json.loads(result.stdout)["signatures"][0]["revocation"] == "not-checked"
        # untrusted root: checked and failed
        other = tmp_path / "other.pem"
        other.write_bytes((ca_dir / "tsa.pem").read_bytes())
        assert runner.invoke(main, ["validate", str(tmp_path / "out.pdf"), "--trust",
                                    str(other), "--online"]).exit_code == 1
        # revoked, seen online through the running services
        runner.invoke(main, ["esign", "revoke", serial, "--dir", str(ca_dir), "--reason",
                             "superseded"], env=ENV)
        result = runner.invoke(main, [*validate, "--online", "--json"])
        assert result.exit_code == 1
        assert json.loads(result.stdout)["signatures"][0]["revoked"] is True
        session.destroy_key(label)
    # unusable input
    (tmp_path / "junk.pdf").write_bytes(b"junk")
    result = runner.invoke(main, ["validate", str(tmp_path / "junk.pdf"), "--trust",
                                  str(ca_dir / "ca.pem")])
    assert result.exit_code == 2
    result = runner.invoke(main, ["validate", str(tmp_path / "in.pdf"), "--trust",
                                  str(ca_dir / "ca.pem")])
    assert result.exit_code == 2 and "no signature" in result.output
