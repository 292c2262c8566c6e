"""`idkarta verify` with the e-signature certificate and the Center's registry, end to end: a
card enrolled for e-signature (station.enrollment) is read by `card read` (which keeps
EF.C.ESIGN and EF.C.CA in the dump), the e-signature CA's OCSP responder (station.services) and
the Center (uvicorn) run on 127.0.0.1; every new check shows in text, JSON, JSON Lines, CSV and
the report; and the Center's check fails for lost, stolen, cancelled and unknown cards."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ec
from tests.idcard.chip.cards import CAN, _keys, ds_pki, sample_cvca
from tests.idcard.verify.online_kit import Site, closed_url, free_port
from tests.idcard.verify.online_kit import serving as serving_site
from tests.idcard.verify.pa_pki import pem, sign_files
from tests.pcsc_harness import PCSCD, READERS, PluggedChip
from tests.station.api.test_serve import serving
from tests.station.center.kit import NOW, person, request, setup_center

from idcard.chip.emrtd import VirtualChip
from idcard.chip.perso import ChipSecrets
from idcard.chip.transport import ChipTransport
from idcard.lds.dump import Dump
from idcard.pinfl import PINFL
from idcard.reader.personalize import personalize
from idcard.verify.esign import ESIGN_CHECKS
from idcard.verify.report import CheckResult
from pki.esign import EsignCA, EsignRegister, HolderRecord, ServiceURLs
from pki.keys import SoftwareSigner
from station.api import create_app
from station.applicant import sample_applicant
from station.audit.batch import BatchSettings
from station.audit.rules import center_check
from station.card_data import build_card_data
from station.center import CenterAnswer, receive_request, record_card_status
from station.center.errors import CenterUnavailable
from station.center.models import CardInfo
from station.cli import main
from station.cli.verify import run_verify_live
from station.client import CenterClient
from station.db import Database, Role, open_database, sqlite_url
from station.domain.cards import CardStatus
from station.domain.errors import DomainError
from station.domain.person import PersonName
from station.enrollment import enroll_card

AT = "2026-12-01"
ISSUED = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
NEW_CHECKS = (*ESIGN_CHECKS, "center_status")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@dataclass
class World:
    root: Path
    ca: EsignCA
    db: Database
    center: str
    esign: str
    answers: list[CenterAnswer]
    files: list[dict[str, bytes]]
    certificate: bytes

    def verify(self, folder: Path, *extra: str) -> tuple[int, str, str]:
        return _run("verify", str(folder), "--csca", str(self.root / "csca.pem"), "--at", AT,
                    "--esign-ca", str(self.root / "esign-ca.pem"), *extra)  # fmt: skip


def _files(answer: CenterAnswer) -> dict[str, bytes]:
    """The sample applicant's files as the Center numbered the card and formed the PINFL."""
    sample = sample_applicant()
    applicant = dataclasses.replace(
        sample, pinfl=PINFL.parse(answer.pinfl),
        document=dataclasses.replace(sample.document, number=answer.card[2:]))  # fmt: skip
    files = dict(build_card_data(applicant, _keys(13)).files)
    signed = sign_files({k: v for k, v in files.items() if k.startswith("DG")}, ds_pki())
    return {**files, "EF.SOD": signed["EF.SOD"]}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("verify-esign-center")
    (root / "csca.pem").write_bytes(pem(ds_pki().csca))
    db = open_database(sqlite_url(root / "center.db"), Role.CENTER)
    setup_center(db)
    answers = [receive_request(db, request(person(surname=PersonName(f"Gulomov{i}", ""),
                                                  birth_date=dt.date(1990, 3, 15))), now=NOW)
               for i in range(5)]  # fmt: skip
    files = [_files(a) for a in answers]
    port = free_port()
    ca = EsignCA.create(EsignRegister(root / "esign.sqlite"),
                        SoftwareSigner(ec.generate_private_key(ec.SECP256R1()), "esign-ca"),
                        ServiceURLs.at(f"http://127.0.0.1:{port}"),
                        now=NOW - dt.timedelta(days=60))  # fmt: skip
    (root / "esign-ca.pem").write_text(_pem(ca.certificate.dump()))
    # card 0: personalized with an e-signature application, enrolled, saved as an image
    chip = VirtualChip.new()
    k_perso = bytes(range(16))
    keys = _keys(13)
    personalize(ChipTransport(chip), Dump(files[0]), ChipSecrets(
        ca_private_key=keys.chip_authentication, aa_private_key=keys.active_authentication,
        can=CAN, cvca=sample_cvca(), current_date=dt.date(2026, 11, 20),
        esign_perso_key=k_perso))  # fmt: skip
    record = HolderRecord(answers[0].pinfl, "GULOMOV", "OTKIR", answers[0].card,
                          dt.date(2036, 11, 19))  # fmt: skip
    enrolled = enroll_card(ChipTransport(chip), k_perso=k_perso, record=record, ca=ca,
                           pin=lambda: "246810", puk="13572468", now=ISSUED)  # fmt: skip
    chip.save(root / "chip.json")
    for i, a in enumerate(answers[:4]):
        for status in (CardStatus.PERSONALIZED, CardStatus.VERIFIED, CardStatus.HANDED_OVER):
            if (i, status) == (3, CardStatus.HANDED_OVER):
                break  # card 3 stays verified: never handed over
            record_card_status(db, a.card, status, operator="op1", now=NOW)
    from station.services import ServiceServer

    with ServiceServer(ca, port=port) as server, serving(create_app(db)) as center:
        yield World(root, ca, db, center, server.url, answers, files,
                    bytes(enrolled.issued.der))  # fmt: skip
    db.close()


def _pem(der: bytes) -> str:
    import base64
    import textwrap

    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"


@pytest.fixture(scope="module")
def read(world: World) -> Path:
    """`card read` of the enrolled card: the dump keeps both certificate files."""
    out = world.root / "read"
    code, stdout, err = _run("card", "read", "--image", str(world.root / "chip.json"), "--can",
                             CAN, "--out", str(out))  # fmt: skip
    assert code == 0, stdout + err
    assert (out / "EF.C.ESIGN").read_bytes() == world.certificate
    assert (out / "EF.C.CA").read_bytes() == world.ca.certificate.dump()
    cert_size, ca_size = len(world.certificate), len(world.ca.certificate.dump())
    assert f"e-signature certificates: EF.C.ESIGN ({cert_size}), EF.C.CA ({ca_size})" in stdout
    code, stdout, _ = _run("card", "read", "--image", str(world.root / "chip.json"), "--can",
                           CAN, "--out", str(world.root / "read-json"), "--json")  # fmt: skip
    assert json.loads(stdout)["esign_files"] == {"EF.C.ESIGN": cert_size, "EF.C.CA": ca_size}
    return out


def _checks(stdout: str) -> dict[str, tuple[str, str]]:
    return {c["name"]: (c["status"], c["reason"]) for c in json.loads(stdout)["checks"]}


def test_a_card_read_verifies_with_its_certificate_online_and_in_the_registry(
    world: World, read: Path
) -> None:
    code, out, err = world.verify(read, "--online", "--center", world.center, "--json")
    assert code == 0, out + err
    checks = _checks(out)
    assert {n: checks[n][0] for n in NEW_CHECKS} == dict.fromkeys(NEW_CHECKS, "pass")
    card = world.answers[0].card
    assert checks["center_status"][1] == (f"card {card} is handed-over (in use) in the Center's "
                                          f"registry at {world.center}")  # fmt: skip
    assert checks["esign_revocation"][1].endswith(f"(OCSP {world.esign}/ocsp)")
    # the test DS names no CRL distribution point: online, revocation says so (not a pass)
    assert checks["revocation"] == ("not-checked", "no CRL from the DS certificate's issuer (the "
                                    "DS certificate names no http(s) CRL distribution point)")
    code, text, _ = world.verify(read, "--online", "--center", world.center)
    assert code == 0
    for name in NEW_CHECKS:
        assert any(line.startswith(f"  PASS         {name} ") for line in text.splitlines()), name


def test_without_the_options_the_new_checks_are_not_checked(world: World, read: Path) -> None:
    code, out, _ = _run("verify", str(read), "--csca", str(world.root / "csca.pem"), "--at", AT,
                        "--json")  # fmt: skip
    checks = _checks(out)
    assert code == 0  # not checked is not failed
    assert checks["esign_chain"] == ("not-checked", "no e-signature CA given (--esign-ca)")
    assert checks["esign_revocation"] == ("not-checked", "OCSP not asked (without --online)")
    assert checks["center_status"] == ("not-checked", "no Center given (--center URL)")
    assert checks["esign_holder"][0] == "pass"


def test_a_revoked_certificate_and_a_lost_card_fail(world: World, read: Path,
                                                    tmp_path: Path) -> None:  # fmt: skip
    """Card 0's certificate revoked (then restored for the other tests); the Center not
    reachable."""
    from asn1crypto import x509

    copy = tmp_path / "copy"
    shutil.copytree(read, copy)
    serial = x509.Certificate.load(world.certificate).serial_number
    code, out, _ = world.verify(copy, "--online", "--json")
    assert code == 0
    unreachable = closed_url()
    code, out, _ = world.verify(copy, "--center", unreachable, "--json")
    assert code == 0  # the Center could not be asked: not checked, not failed
    status, reason = _checks(out)["center_status"]
    assert status == "not-checked"
    assert reason.startswith(f"the Center at {unreachable} could not be asked: ")
    world.ca.revoke(serial, "key_compromise", when=dt.datetime(2026, 11, 30, 8, tzinfo=dt.UTC))
    try:
        code, out, _ = world.verify(copy, "--online", "--json")
        assert code == 1
        assert _checks(out)["esign_revocation"] == (
            "fail", f"revoked on 2026-11-30 08:00 UTC (key_compromise; OCSP {world.esign}/ocsp)")
        code, text, _ = world.verify(copy, "--online")
        assert text.splitlines()[-1] == "RESULT: FAIL (esign_revocation)"
    finally:
        with world.ca.register.transaction() as conn:  # un-revoke for the other tests
            conn.execute("UPDATE esign_certificates SET revoked_at = NULL, reason = NULL "
                         "WHERE serial = ?", (format(serial, "x"),))  # fmt: skip


@pytest.mark.parametrize(("card", "status"), [
    (1, CardStatus.LOST), (2, CardStatus.STOLEN), (4, CardStatus.CANCELLED),
])  # fmt: skip
def test_center_status_fails_for_a_card_no_longer_in_use(world: World, card: int,
                                                         status: CardStatus) -> None:  # fmt: skip
    answer = world.answers[card]
    record_card_status(world.db, answer.card, status, operator="op1", now=NOW)
    with CenterClient.over_http(world.center) as client:
        result = center_check(client, world.center)(world.files[card])
        unnamed = center_check(client)(world.files[card])  # no URL to name
    assert (result.name, result.status.value, result.reason) == (
        "center_status", "fail",
        f"card {answer.card} is {status.value} in the Center's registry at {world.center}")
    assert unnamed.reason == f"card {answer.card} is {status.value} in the Center's registry"


def test_center_status_of_a_card_never_handed_over_or_unknown(world: World) -> None:
    with CenterClient.over_http(world.center) as client:
        check = center_check(client, world.center)
        never = check(world.files[3])
        assert never.name == "center_status"
        assert (never.status.value, never.reason) == (
            "fail", f"card {world.answers[3].card} is verified in the Center's registry at "
            f"{world.center}")
        unknown = _files(dataclasses.replace(world.answers[0], card="AD7777777"))
        result = check(unknown)
        assert result.name == "center_status"
        assert (result.status.value, result.reason) == (
            "fail", f"card AD7777777 is not in the Center's registry at {world.center} (unknown "
            "card)")
        other = _files(dataclasses.replace(world.answers[0], pinfl=world.answers[1].pinfl))
        result = check(other)
        assert result.name == "center_status"
        assert (result.status.value, result.reason) == (
            "fail", f"the Center's registry at {world.center} holds card {world.answers[0].card} "
            "for another PINFL than the document's")
        assert _triple(check({})) == ("center_status", "not-checked", "no DG1 in the dump")
        in_use = center_check(client)(world.files[0])
        assert _triple(in_use) == ("center_status", "pass",
                                   f"card {world.answers[0].card} is handed-over (in use) in the "
                                   "Center's registry")  # fmt: skip
    assert _triple(center_check(None)(world.files[0])) == (
        "center_status", "not-checked", "no Center given (--center URL)")


def test_new_checks_in_the_batch_files_and_the_report(world: World, read: Path,
                                                      tmp_path: Path) -> None:  # fmt: skip
    batch = tmp_path / "batch"
    shutil.copytree(read, batch / "card0")
    jsonl, csv_path, report = tmp_path / "r.jsonl", tmp_path / "r.csv", tmp_path / "report"
    code, out, err = world.verify(batch, "--center", world.center, "--jobs", "1", "--jsonl",
                                  str(jsonl), "--csv", str(csv_path), "--report",
                                  str(report))  # fmt: skip
    assert code == 0, out + err
    row = json.loads(jsonl.read_text().splitlines()[0])
    assert {n: row["checks"][n] for n in NEW_CHECKS} == {
        **dict.fromkeys(ESIGN_CHECKS[:-1], "pass"), "esign_revocation": "not-checked",
        "center_status": "pass"}
    assert row["reasons"]["esign_revocation"] == "OCSP not asked (without --online)"
    with csv_path.open() as f:
        header, line = list(csv.reader(f))
    assert {n: line[header.index(n)] for n in NEW_CHECKS} == {n: row["checks"][n]
                                                             for n in NEW_CHECKS}  # fmt: skip
    for name in NEW_CHECKS:
        assert f"  {name} " in out
    doc = json.loads((report / "report.json").read_text())
    checks = {c["name"]: c["status"] for c in doc["documents"][0]["checks"]}
    assert {n: checks[n] for n in NEW_CHECKS} == {n: row["checks"][n] for n in NEW_CHECKS}
    html = "".join(p.read_text() for p in report.rglob("*.html"))
    assert all(name in html for name in NEW_CHECKS)


@pytest.mark.pcsc
def test_the_enrolled_card_verified_live_through_pcscd(
    pcscd: PCSCD, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`verify --reader`'s body: the e-signature certificate is read from the card itself."""
    at = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    settings = BatchSettings(world.root / "csca.pem", at=at, esign_ca=world.root / "esign-ca.pem",
                             online=True, center=world.center)  # fmt: skip
    chip = VirtualChip.load(world.root / "chip.json")
    capsys.readouterr()
    with pcscd.card(PluggedChip(chip)):
        code = run_verify_live(READERS[0], None, CAN, settings.trust(), at, True,
                               out=tmp_path / "live", settings=settings)  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    checks = {c["name"]: c["status"] for c in doc["checks"]}
    assert code == 0 and doc["live"] is True
    assert {n: checks[n] for n in NEW_CHECKS} == dict.fromkeys(NEW_CHECKS, "pass")
    assert (tmp_path / "live" / "EF.C.ESIGN").read_bytes() == world.certificate


def _dg1(number: str) -> dict[str, bytes]:
    """A DG1 of a TD1 MRZ (9303-5 §4.2) with ``number`` and correct check digits."""
    from idcard import tlv
    from idcard.mrz.check import check_digit

    l1 = f"I<UZB{number}{check_digit(number)}".ljust(30, "<")
    l2 = f"900315{check_digit('900315')}M361119{check_digit('361119')}UZB".ljust(29, "<")
    l2 += check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    mrz = l1 + l2 + "GULOMOV<<OTKIR".ljust(30, "<")
    return {"DG1": tlv.encode(0x61, tlv.encode(0x5F1F, mrz.encode()))}


def test_center_status_of_an_unreachable_center(world: World) -> None:
    url = closed_url()
    with CenterClient.over_http(url, timeout=5) as client:
        try:
            client.card_info(world.answers[0].card)
        except CenterUnavailable as exc:
            why = " ".join(str(exc).split())
        result = center_check(client, url)(world.files[0])
    assert _triple(result) == ("center_status", "not-checked",
                               f"the Center at {url} could not be asked: {why}")


def test_center_status_of_a_number_no_card_has(world: World) -> None:
    with CenterClient.over_http(world.center) as client:
        result = center_check(client, world.center)(_dg1("X12345678"))
    assert result.name == "center_status"
    assert (result.status.value, result.reason) == (
        "fail", "document number X12345678 is no card number of the Center's registry (2 "
        "letters and 7 digits)")


def test_center_status_of_an_answer_that_is_not_the_centers(world: World) -> None:
    """A server at --center that answers 200 with JSON that is no card: not checked."""
    card = world.answers[0].card
    with serving_site(Site({f"/v1/cards/{card}": b"{}"})) as site, CenterClient.over_http(
            site.url) as client:  # fmt: skip
        result = center_check(client, site.url)(world.files[0])
    try:
        CardInfo.from_json({})
    except DomainError as exc:
        why = " ".join(str(exc).split())
    assert _triple(result) == ("center_status", "not-checked",
                               f"the Center at {site.url} did not answer about card {card}: {why}")


def _triple(result: CheckResult) -> tuple[str, str, str]:
    return result.name, result.status.value, result.reason
