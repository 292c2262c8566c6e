"""The read-back gate (station.point.gate): a card made by a job passes every check, and each
refusal names its check and reason: the CAN, Terminal, Chip and Active Authentication, the files
read against those written, passive authentication, the e-signature certificate, its OCSP
status. Then a job whose gate fails spoils its blanks with the reason and revokes their
certificates."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from tests.station.point.jobs_kit import reader, returned_application, setup_station, station

from idcard.chip import ChipSecrets, ChipTransport, VirtualChip
from idcard.cvc.certificate import ecdsa_signer
from idcard.lds.dump import Dump
from idcard.reader.document import TerminalCredentials
from idcard.reader.personalize import personalize
from idcard.verify import TrustStore
from station.card_data import CardKeys
from station.db import Database, Role, open_database, sqlite_url
from station.db.point_job_tables import Job
from station.domain.jobs import MAX_BLANKS, JobStatus, Step
from station.point.gate import GateReport, run_gate
from station.point.jobs import JobEvent, JobServices, _keys, create_job, job_info, run_job
from station.point.stock import BlankStatus, list_blanks, virtual_blank_path


@dataclasses.dataclass
class Made:
    services: JobServices
    db: Database
    image: Path
    written: dict[str, bytes]
    can: str
    cert: bytes
    folder: Path
    keys: tuple[Any, Any]  # the chip's CA and AA keys, kept before the job wiped them


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Made]:
    """One card made by a job (SQLite: the gate reads the card, not the database)."""
    folder = tmp_path_factory.mktemp("gate")
    center = open_database(sqlite_url(folder / "center.db"), Role.CENTER)
    point = open_database(sqlite_url(folder / "point.db"), Role.POINT)
    kit = setup_station(folder, center, point, blanks=1 + MAX_BLANKS)
    center.close()
    point.close()
    kept: list[tuple[Any, Any]] = []

    def keep_keys(event: JobEvent) -> None:
        if event.step is Step.READY and event.phase == "started":
            with services.db.session(write=False) as s:
                row = s.get(Job, event.job)
                assert row is not None
                kept.append(_keys(services, row))

    with station(kit, on_event=keep_keys) as (services, db):
        app = returned_application(services, 1)
        job = run_job(services, create_job(db, app, reader="R1", now=services.clock()).id,
                      reader(kit))  # fmt: skip
        assert job.status is JobStatus.READY and job.blank is not None
        with db.session(write=False) as s:
            row = s.get(Job, job.id)
            assert row is not None and row.lds is not None
            written = {n: bytes.fromhex(d) for n, d in json.loads(row.lds).items()}
            can = row.can
        found = services.esign.register.get(job.esign_serial or 0)
        assert found is not None
        yield Made(services, db, virtual_blank_path(folder, job.blank), written, can,
                   found.der, folder, kept[0])  # fmt: skip


def gate(m: Made, *, image: Path | None = None, **changes: Any) -> GateReport:
    args: dict[str, Any] = {"written": m.written, "can": m.can, "anchors": m.services.anchors,
                            "esign_certificate": m.cert}  # fmt: skip
    args.update(changes)
    chip = VirtualChip.load(image or m.image)  # not saved: the card is left as it is
    return run_gate(ChipTransport(chip), **args)


def failed(report: GateReport) -> dict[str, str]:
    assert not report.ok
    return {c.name: c.detail for c in report.checks if not c.ok}


def test_the_card_passes_every_check(made: Made) -> None:
    report = gate(made)
    assert report.ok, report.reason
    assert [c.name for c in report.checks] == ["read", "PACE", "CA", "TA", "AA", "files",
                                               "passive-authentication", "esign-certificate",
                                               "esign-ocsp"]  # fmt: skip
    assert report.reason is None
    assert report.to_json()["ok"] is True


def test_a_wrong_can_is_not_read(made: Made) -> None:
    report = gate(made, can="000000" if made.can != "000000" else "111111")
    assert list(failed(report)) == ["read"]
    assert failed(report)["read"].startswith("the card could not be read")


def test_a_file_that_differs_or_is_missing(made: Made) -> None:
    changed = dict(made.written)
    changed["DG11"] = changed["DG11"][:-1] + bytes([changed["DG11"][-1] ^ 1])
    assert failed(gate(made, written=changed))["files"] == "differ from what was written: DG11"
    fewer = {n: d for n, d in made.written.items() if n != "DG12"}
    assert failed(gate(made, written=fewer))["files"] == "not written but on the card: DG12"
    more = {**made.written, "DG16": b"\x70\x00"}
    assert failed(gate(made, written=more))["files"] == "not read back: DG16"


def test_an_untrusted_document_signer_fails_passive_authentication(made: Made) -> None:
    anchors = dataclasses.replace(made.services.anchors, trust=TrustStore())
    found = failed(gate(made, anchors=anchors))
    assert list(found) == ["passive-authentication"]


def test_terminal_authentication_with_a_wrong_key(made: Made) -> None:
    terminal = made.services.anchors.terminal
    wrong = TerminalCredentials(terminal.chain,
                                ecdsa_signer(ec.generate_private_key(ec.BrainpoolP256R1())))
    found = failed(gate(made, anchors=dataclasses.replace(made.services.anchors,
                                                           terminal=wrong)))  # fmt: skip
    assert "TA" in found


def _other_chip(made: Made, tmp_path: Path, *, ca: Any, aa: Any) -> Path:
    """A blank personalized with the card's files and these chip keys (saved to a file)."""
    chip = VirtualChip.new()
    personalize(ChipTransport(chip), Dump(made.written), ChipSecrets(
        ca_private_key=ca, aa_private_key=aa, can=made.can, cvca=made.services.cvca,
    ))  # fmt: skip
    image = tmp_path / "other.json"
    chip.save(image)
    return image


def test_a_chip_with_another_aa_key_than_dg15(made: Made, tmp_path: Path) -> None:
    """The card's files on a chip whose AA key is not DG15's (a clone of the files)."""
    image = _other_chip(made, tmp_path, ca=made.keys[0],
                        aa=CardKeys.generate().active_authentication)  # fmt: skip
    found = failed(gate(made, image=image, esign_certificate=None))
    assert list(found) == ["AA", "passive-authentication"]  # the document's AA check too
    assert "active" in found["passive-authentication"].lower(), found


def test_a_chip_with_another_ca_key_than_dg14(made: Made, tmp_path: Path) -> None:
    """Chip Authentication with a key that is not DG14's: the chip cannot continue secure
    messaging with the terminal's keys, so the card is not read at all."""
    image = _other_chip(made, tmp_path, ca=CardKeys.generate().chip_authentication,
                        aa=made.keys[1])  # fmt: skip
    found = failed(gate(made, image=image, esign_certificate=None))
    assert list(found) == ["read"]
    assert "secure messaging" in found["read"]


def test_the_esign_certificate_checks(made: Made) -> None:
    assert failed(gate(made, esign_certificate=None))["esign-certificate"] == (
        "a certificate is on the card that was not issued for it")
    other = made.cert[:-1] + bytes([made.cert[-1] ^ 1])
    assert failed(gate(made, esign_certificate=other))["esign-certificate"] == (
        "the card holds another certificate than the one issued")
    anchors = dataclasses.replace(made.services.anchors, ocsp=None)
    assert failed(gate(made, anchors=anchors)) == {
        "esign-ocsp": "not checked (no OCSP responder)"}


def test_a_revoked_certificate_fails_ocsp(made: Made, tmp_path: Path) -> None:
    import shutil

    ca = made.services.esign
    register = Path(ca.register.path)
    backup = tmp_path / "register.bak"
    shutil.copy(register, backup)
    try:
        from asn1crypto import x509

        ca.revoke(x509.Certificate.load(made.cert).serial_number, "key_compromise")
        assert failed(gate(made)) == {"esign-ocsp": "OCSP answers revoked"}
    finally:
        shutil.copy(backup, register)
    assert gate(made).ok


def test_a_job_whose_gate_fails_spoils_each_blank(made: Made) -> None:
    """No OCSP responder: every blank fails the gate, is spoiled with the reason and its
    certificate revoked; after MAX_BLANKS the job fails and no card is ready."""
    from tests.station.point.jobs_kit import Kit

    kit = Kit.load(made.folder)
    services = dataclasses.replace(made.services, anchors=dataclasses.replace(
        made.services.anchors, ocsp=None))  # fmt: skip
    app = returned_application(services, 2)
    job = run_job(services, create_job(made.db, app, reader="R1", now=services.clock()).id,
                  reader(kit))  # fmt: skip
    assert (job.status, job.step, job.blanks_used) == (JobStatus.FAILED, None, MAX_BLANKS)
    assert job_info(made.db, job.id).error == (
        "read-back-gate: read-back gate: esign-ocsp: not checked (no OCSP responder)")
    spoiled = [b for b in list_blanks(made.db) if b.card == job.card]
    assert [b.status for b in spoiled] == [BlankStatus.SPOILED] * MAX_BLANKS
    assert {b.reason for b in spoiled} == {
        "read-back-gate: read-back gate: esign-ocsp: not checked (no OCSP responder)"}
    certs = [c for c in services.esign.register.all() if c.card_number == job.card]
    assert len(certs) == MAX_BLANKS and all(c.reason == "cessation_of_operation" for c in certs)
    assert services.center.card_info(job.card).status.value == "allocated"


def test_an_ocsp_answer_not_signed_by_the_ca(made: Made) -> None:
    """An answer whose signature does not verify with the CA's key is not believed."""
    from asn1crypto import core, ocsp

    real = made.services.anchors.ocsp
    assert real is not None

    def forged(request: bytes) -> bytes:
        response = ocsp.OCSPResponse.load(real(request))
        basic = response.basic_ocsp_response
        signature = bytearray(basic["signature"].native)
        signature[-1] ^= 1
        basic["signature"] = core.OctetBitString(bytes(signature))
        response["response_bytes"]["response"] = ocsp.BasicOCSPResponse.load(basic.dump(True))
        return bytes(response.dump(True))

    anchors = dataclasses.replace(made.services.anchors, ocsp=forged)
    assert failed(gate(made, anchors=anchors)) == {
        "esign-ocsp": "the OCSP answer is not signed by the e-signature CA"}
