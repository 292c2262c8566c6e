"""`idkarta validate` says what it checked (issue 9, item 10) and `idkarta sign --field` adds a
second signature (item 17): real signatures, a live CRL/OCSP responder on 127.0.0.1, the CLI
through click's runner."""

from __future__ import annotations

import datetime as dt
import json
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.idcard.esign.esign_kit import PIN, enrolled_chip, open_card
from tests.pki.test_esign_kit import ALISHER, NODIRA, make_ca

from idcard.chip.emrtd import VirtualChip
from pki.ca import pem_certificate
from pki.card_signer import CardSigner
from pki.enroll import enroll
from pki.esign import EsignCA, IssuedCertificate, RevocationCause, ServiceURLs
from pki.pdf import simple_pdf
from station.cli import main
from station.services import ServiceServer


def _now() -> dt.datetime:
    """pyHanko validates at the current time: the certificates are issued "now"."""
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port: int = s.getsockname()[1]
    return port


@dataclass
class Kit:
    ca: EsignCA
    port: int
    dir: Path
    alisher: IssuedCertificate
    nodira: IssuedCertificate

    @property
    def trust(self) -> str:
        return str(self.dir / "ca.pem")

    def sign(self, holder: str, src: Path, out: Path, *extra: str,
             env: dict[str, str] | None = None, input: str | None = None):  # type: ignore[no-untyped-def]
        args = ["sign", str(src), str(out), "--card", "--image", str(self.dir / f"{holder}.json"),
                "--cert", str(self.dir / f"{holder}.pem"), "--chain", self.trust, *extra]
        return CliRunner().invoke(main, args, env=env if env is not None else {"IDKARTA_PIN": PIN},
                                  input=input)

    def validate(self, pdf: Path, *extra: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, ["validate", str(pdf), "--trust", self.trust, *extra])


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    port = _free_port()
    base = make_ca(tmp_path)
    ca = EsignCA(base.register, base.signer, ServiceURLs.at(f"http://127.0.0.1:{port}"))
    (tmp_path / "ca.pem").write_bytes(pem_certificate(ca.certificate))
    issued = {}
    for name, record in (("alisher", ALISHER), ("nodira", NODIRA)):
        chip = enrolled_chip()
        issued[name] = enroll(CardSigner(open_card(chip), lambda: PIN), record, ca, now=_now())
        chip.save(tmp_path / f"{name}.json")
        (tmp_path / f"{name}.pem").write_bytes(pem_certificate(issued[name].certificate))
    (tmp_path / "in.pdf").write_bytes(simple_pdf())
    return Kit(ca, port, tmp_path, issued["alisher"], issued["nodira"])


@pytest.fixture
def signed(kit: Kit) -> Path:
    out = kit.dir / "signed.pdf"
    result = kit.sign("alisher", kit.dir / "in.pdf", out)
    assert result.exit_code == 0, result.output
    return out


def test_without_revocation_data_not_checked_exit_1(kit: Kit, signed: Path) -> None:
    result = kit.validate(signed)
    assert result.exit_code == 1, result.output
    first, *checks = result.stdout.splitlines()
    assert first.startswith("Signature1: FAILED (integrity=yes, signature=yes, trust=yes, "
                            "revocation=not checked) ")
    assert "revoked=no" not in result.stdout and " OK " not in result.stdout
    assert checks[3].startswith("  revocation NOT CHECKED")
    assert checks[3].endswith("(none in the document or given, and not fetched: no --online)")


def test_online_with_nothing_listening_not_checked_exit_1(kit: Kit, signed: Path) -> None:
    result = kit.validate(signed, "--online", "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    [sig] = report["signatures"]
    assert (sig["revocation"], sig["ok"], report["ok"]) == ("not-checked", False, False)
    [revocation] = [c for c in sig["checks"] if c["name"] == "revocation"]
    url = f"http://127.0.0.1:{kit.port}"
    assert f"fetching {url}/crl/esign.crl failed" in revocation["reason"]
    assert f"fetching {url}/ocsp failed" in revocation["reason"]


def test_online_with_live_responder_good_then_revoked(kit: Kit, signed: Path) -> None:
    with ServiceServer(kit.ca, port=kit.port):
        good = kit.validate(signed, "--online")
        assert good.exit_code == 0, good.output
        assert good.stdout.startswith("Signature1: OK (integrity=yes, signature=yes, trust=yes, "
                                      "revocation=good) ")
        kit.ca.revoke(kit.alisher.serial, RevocationCause.LOST_CARD)
        revoked = kit.validate(signed, "--online", "--json")
    assert revoked.exit_code == 1
    [sig] = json.loads(revoked.stdout)["signatures"]
    assert (sig["revocation"], sig["revoked"], sig["trusted"]) == ("revoked", True, True)


def test_crl_file_and_waiver(kit: Kit, signed: Path) -> None:
    crl = kit.dir / "esign.crl"
    crl.write_bytes(kit.ca.issue_crl().dump())
    assert kit.validate(signed, "--crl", str(crl)).exit_code == 0
    waived = kit.validate(signed, "--waive-revocation")
    assert waived.exit_code == 0, waived.output
    assert "revocation=waived" in waived.stdout
    assert "  revocation WAIVED      waived by --waive-revocation" in waived.stdout
    as_json = json.loads(kit.validate(signed, "--waive-revocation", "--json").stdout)
    assert as_json["revocation_waived"] is True
    assert as_json["signatures"][0]["revocation"] == "waived"
    both = kit.validate(signed, "--waive-revocation", "--online")
    assert both.exit_code == 2 and both.stderr.startswith("error: ")
    kit.ca.revoke(kit.alisher.serial, RevocationCause.LOST_CARD)
    crl.write_bytes(kit.ca.issue_crl().dump())
    assert kit.validate(signed, "--crl", str(crl)).exit_code == 1
    junk = kit.dir / "junk.crl"
    junk.write_bytes(b"junk")
    assert kit.validate(signed, "--crl", str(junk)).exit_code == 2


def test_tampered_pdf_says_why_and_keeps_checks_apart(kit: Kit, signed: Path) -> None:
    data = bytearray(signed.read_bytes())
    at = bytes(data).index(b"(idkarta)")
    data[at + 1 : at + 8] = b"IDKARTA"
    tampered = kit.dir / "tampered.pdf"
    tampered.write_bytes(bytes(data))
    result = kit.validate(tampered, "--waive-revocation")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Signature1: FAILED (integrity=no, signature=yes, trust=yes, "
                               "revocation=waived) ")
    assert lines[1].startswith("  integrity  FAIL        digest mismatch: the signed byte ranges")
    assert lines[2].startswith("  signature  PASS        ")
    assert lines[3].startswith("  trust      PASS        ")


def test_second_signature_with_field_keeps_the_first_valid(kit: Kit, signed: Path) -> None:
    twice = kit.dir / "twice.pdf"
    result = kit.sign("nodira", signed, twice, "--field", "Witness")
    assert result.exit_code == 0, result.output
    assert twice.read_bytes().startswith(signed.read_bytes())  # an incremental update
    crl = kit.dir / "esign.crl"
    crl.write_bytes(kit.ca.issue_crl().dump())
    checked = kit.validate(twice, "--crl", str(crl), "--json")
    assert checked.exit_code == 0, checked.output
    sigs = json.loads(checked.stdout)["signatures"]
    assert [(s["field"], s["ok"]) for s in sigs] == [("Signature1", True), ("Witness", True)]
    assert "ALISHER" in sigs[0]["signer"] and "NODIRA" in sigs[1]["signer"]
    integrity = {s["field"]: s["checks"][0]["reason"] for s in sigs}
    assert integrity["Signature1"].startswith("digest matches; later revisions permitted")
    # the same field again is refused; without --field the next free name is taken
    again = kit.sign("nodira", twice, kit.dir / "x.pdf", "--field", "Witness")
    assert again.exit_code == 2
    assert again.stderr == "error: the field 'Witness' is already signed: choose another --field\n"
    third = kit.dir / "third.pdf"
    assert kit.sign("alisher", twice, third).exit_code == 0
    sigs = json.loads(kit.validate(third, "--crl", str(crl), "--json").stdout)["signatures"]
    assert [s["field"] for s in sigs] == ["Signature1", "Witness", "Signature2"]
    assert all(s["ok"] for s in sigs)


def test_sign_without_pin_gives_a_reason(kit: Kit) -> None:
    out = kit.dir / "out.pdf"
    result = kit.sign("alisher", kit.dir / "in.pdf", out, env={"IDKARTA_PIN": ""}, input="")
    assert result.exit_code == 2
    assert "signing the PDF failed" not in result.output
    assert result.stderr.endswith("error: no PIN: set IDKARTA_PIN or enter the card pin at the "
                                  "prompt (standard input gave none)\n")
    assert not out.exists()
    # the card's PIN counter was not touched: no VERIFY was sent
    assert VirtualChip.load(kit.dir / "alisher.json").state.esign_pin_tries == 3
