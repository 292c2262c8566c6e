"""The checks beyond passive authentication (idcard.verify.document): each one PASS on a genuine
read, FAIL with its reason on a tampered dump or evidence, NOT CHECKED with its reason where it
cannot be made. Tampered data groups come with a re-signed EF.SOD, so passive authentication
still passes and the failure is the check's own."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.idcard.chip.cards import CAN, build_dump, ds_pki, make_card
from tests.idcard.verify.pa_pki import asn1, sample_files, sign_files

from idcard.asn1 import oids
from idcard.lds.dg1 import DG1
from idcard.lds.dg11 import DG11, DateValue
from idcard.lds.dg15 import DG15
from idcard.reader.document import ReadResult, read_document
from idcard.reader.evidence import (
    ActiveAuthEvidence,
    Evidence,
    RunEvidence,
)
from idcard.verify import Status, TrustStore
from idcard.verify.chip import EvidenceSource
from idcard.verify.document import DocumentReport, verify_document
from idcard.verify.esign import ESIGN_CHECKS
from idcard.verify.holder import check_dg11, check_pinfl

FURTHER = ("evidence", "active_authentication", "chip_authentication", "pace_cam",
           "dg11_consistency", "pinfl", *ESIGN_CHECKS)  # fmt: skip
AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    return TrustStore([asn1(ds_pki().csca)])


@pytest.fixture(scope="module")
def read() -> ReadResult:
    dump, keys = build_dump()
    return read_document(make_card(dump, keys).transport(), can=CAN)


def _verify(files: Mapping[str, bytes], trust: TrustStore, evidence: EvidenceSource = None,
            *, live: bool = False) -> DocumentReport:  # fmt: skip
    return verify_document(files, trust, evidence=evidence, at=AT, live=live)


def _further(report: DocumentReport) -> dict[str, tuple[str, str]]:
    return {c.name: (c.status.value, c.reason) for c in report.further}


def _evidence(read: ReadResult) -> Evidence:
    assert read.evidence is not None
    return read.evidence


def test_genuine_read_passes_with_ca_honestly_not_checked(read: ReadResult, trust: TrustStore
                                                           ) -> None:  # fmt: skip
    report = _verify(read.dump.files, trust, read.evidence)
    statuses = {n: s for n, (s, _) in _further(report).items()}
    assert statuses == {"evidence": "pass", "active_authentication": "pass",
                        "chip_authentication": "not-checked", "pace_cam": "not-checked",
                        "dg11_consistency": "pass", "pinfl": "pass",
                        **dict.fromkeys(ESIGN_CHECKS, "not-checked")}  # fmt: skip
    assert report.ok and report.passive.ok
    reasons = _further(report)
    challenge = _evidence(read).active_authentication.challenge.hex().upper()  # type: ignore[union-attr]
    assert reasons["active_authentication"][1] == (
        f"the chip's signature over the recorded challenge {challenge} verifies with DG15's key "
        "(ECDSA)")
    ca = reasons["chip_authentication"][1]
    assert ca.startswith("recorded as passed with DG14's key when read at ")
    assert "cannot be re-proved offline" in ca and "verify the card live" in ca
    assert reasons["pace_cam"][1] == "the access protocol was PACE GM, not PACE-CAM"
    assert reasons["dg11_consistency"][1] == (
        "DG1 and DG11 agree: names, date of birth, personal number (PINFL)")
    # JSON carries the evidence and every check
    doc = report.to_dict()
    assert doc["ok"] is True and doc["evidence"]["access"]["protocol"] == "PACE"
    assert [c["name"] for c in doc["checks"]][-len(FURTHER):] == list(FURTHER)
    assert json.dumps(doc)


def test_live_read_makes_ca_pass(read: ReadResult, trust: TrustStore) -> None:
    report = _verify(read.dump.files, trust, read.evidence, live=True)
    status, reason = _further(report)["chip_authentication"]
    assert status == "pass" and reason.startswith("performed live: the chip proved DG14's key")
    assert _further(report)["active_authentication"][1].startswith(
        "the chip's signature over a fresh challenge")


def test_no_evidence_is_not_checked_never_ok(read: ReadResult, trust: TrustStore) -> None:
    report = _verify(read.dump.files, trust, None)
    none = "no evidence.json: the dump does not record how the chip was read"
    assert {n: r for n, r in _further(report).items() if n in FURTHER[:4]} == {
        "evidence": ("not-checked", none), "active_authentication": ("not-checked", none),
        "chip_authentication": ("not-checked", none), "pace_cam": ("not-checked", none),
    }  # fmt: skip
    assert report.ok  # an old dump still verifies as far as it can be verified


def test_tampered_aa_signature_fails(read: ReadResult, trust: TrustStore) -> None:
    ev = _evidence(read)
    aa = ev.active_authentication
    assert aa is not None and aa.signature is not None
    bad = dataclasses.replace(aa, signature=aa.signature[:-1] + bytes([aa.signature[-1] ^ 1]))
    report = _verify(read.dump.files, trust, dataclasses.replace(ev, active_authentication=bad))
    status, reason = _further(report)["active_authentication"]
    assert status == "fail" and not report.ok
    assert reason.endswith("does not verify with DG15's key (the evidence says it did)")
    assert [c.name for c in report.failed] == ["active_authentication"]


def test_aa_with_another_challenge_fails(read: ReadResult, trust: TrustStore) -> None:
    ev = _evidence(read)
    aa = ev.active_authentication
    assert aa is not None
    other = dataclasses.replace(aa, challenge=bytes(8))
    status, reason = _further(_verify(read.dump.files, trust, dataclasses.replace(
        ev, active_authentication=other)))["active_authentication"]  # fmt: skip
    assert (status, reason) == ("fail", "the signature over the recorded challenge "
                                "0000000000000000 does not verify with DG15's key (the evidence "
                                "says it did)")  # fmt: skip


def test_aa_refused_while_reading_fails_and_not_run_is_not_checked(
    read: ReadResult, trust: TrustStore
) -> None:
    ev = _evidence(read)
    refused = ActiveAuthEvidence("error", detail="chip answered 6D00")
    report = _verify(read.dump.files, trust, dataclasses.replace(ev, active_authentication=refused))
    assert _further(report)["active_authentication"] == (
        "fail", "the chip gave no signature while reading (chip answered 6D00)")
    report = _verify(read.dump.files, trust, dataclasses.replace(ev, active_authentication=None))
    assert _further(report)["active_authentication"] == (
        "not-checked", "Active Authentication was not run while reading")
    no15 = {n: d for n, d in read.dump.files.items() if n != "DG15"}
    assert _further(_verify(no15, trust, ev))["active_authentication"] == (
        "not-checked", "no DG15: the document has no Active Authentication key")


def test_ca_failure_and_foreign_key_fail(read: ReadResult, trust: TrustStore) -> None:
    ev = _evidence(read)
    ca = ev.chip_authentication
    assert ca is not None
    failed = dataclasses.replace(ca, result="error", detail="chip answered 6A80")
    report = _verify(read.dump.files, trust, dataclasses.replace(ev, chip_authentication=failed))
    assert _further(report)["chip_authentication"] == (
        "fail", "Chip Authentication failed while reading (chip answered 6A80)")
    assert not report.ok
    foreign = dataclasses.replace(ca, chip_key_sha256=bytes(32))
    report = _verify(read.dump.files, trust, dataclasses.replace(ev, chip_authentication=foreign))
    assert _further(report)["chip_authentication"] == (
        "fail", "the chip key recorded is not DG14's (key id None recorded, None in DG14)")


def test_ca_not_offered_or_not_run_is_not_checked(read: ReadResult, trust: TrustStore) -> None:
    ev = _evidence(read)
    report = _verify(read.dump.files, trust, dataclasses.replace(ev, chip_authentication=None))
    assert _further(report)["chip_authentication"] == (
        "not-checked", "Chip Authentication was not run while reading")
    files = sign_files(sample_files(), ds_pki())  # its DG14 offers no Chip Authentication
    assert _further(_verify(files, trust, ev))["chip_authentication"] == (
        "not-checked", "the document offers no Chip Authentication (no ChipAuthenticationInfo "
        "and key in DG14)")


def test_pace_cam_recorded_failure_fails_and_success_is_not_provable() -> None:
    cam = f"{oids.ID_PACE_ECDH_CAM}.2"
    dump, keys = build_dump(pace_oid=cam, cam=True)
    read = read_document(make_card(dump, keys).transport(), can=CAN)
    trust = TrustStore([asn1(ds_pki().csca)])
    ev = _evidence(read)
    checks = _further(_verify(read.dump.files, trust, ev))
    assert checks["pace_cam"][0] == "not-checked"
    assert "a recorded PACE-CAM cannot be re-proved offline" in checks["pace_cam"][1]
    assert checks["chip_authentication"] == (
        "not-checked", "not run while reading: PACE-CAM authenticated the chip instead (see "
        "pace_cam)")
    failed = dataclasses.replace(ev, pace_cam=RunEvidence("fail", "PK_Map = CA_IC · PK_IC"))
    report = _verify(read.dump.files, trust, failed)
    assert _further(report)["pace_cam"] == (
        "fail", "PACE-CAM's chip authentication failed while reading (PK_Map = CA_IC · PK_IC)")
    assert _further(_verify(read.dump.files, trust, ev, live=True))["pace_cam"][0] == "pass"


def test_evidence_of_other_bytes_fails(read: ReadResult, trust: TrustStore) -> None:
    ev = _evidence(read)
    files = dict(ev.files)
    files["DG11"] = bytes(32)
    del files["DG7"]
    report = _verify(read.dump.files, trust, dataclasses.replace(ev, files=files))
    assert _further(report)["evidence"] == (
        "fail", "DG11 differs from the bytes recorded when read; DG7 in the dump but not "
        "recorded as read")
    report = _verify(read.dump.files, trust, "evidence.json: unsupported version 2")
    assert _further(report)["evidence"] == (
        "fail", "evidence.json is unusable: evidence.json: unsupported version 2")
    assert _further(report)["active_authentication"] == (
        "not-checked", "the evidence is unusable (evidence.json: unsupported version 2)")


def _dump_with(**replace: bytes) -> dict[str, bytes]:
    dump, _ = build_dump(replace=replace)
    return dict(dump.files)


def _dg11(read: ReadResult, **changes: object) -> bytes:
    return dataclasses.replace(DG11.decode(read.dump.files["DG11"]), **changes).encode()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"full_name": "KARIMOV<<OTKIR SHUHRAT OGLI"},
         "surname 'KARIMOV' in DG11, 'GULOMOV' in the MRZ"),
        ({"full_name": "GULOMOV<<BOBUR"}, "given names 'BOBUR' in DG11, 'OTKIR' in the MRZ"),
        ({"full_date_of_birth": DateValue.from_date(dt.date(1990, 3, 16))},
         "date of birth 1990-03-16 in DG11, 900315 in the MRZ"),
        ({"personal_number": "31503902620461"},
         "the personal number in DG11 is not the MRZ's PINFL"),
    ],
)
def test_dg11_disagreeing_with_dg1_fails(read: ReadResult, trust: TrustStore,
                                         changes: dict[str, object], reason: str) -> None:
    report = _verify(_dump_with(DG11=_dg11(read, **changes)), trust)
    assert report.passive.ok
    assert _further(report)["dg11_consistency"] == ("fail", reason)
    assert [c.name for c in report.failed] == ["dg11_consistency"]


def test_dg11_absent_or_empty_is_not_checked(read: ReadResult, trust: TrustStore) -> None:
    files = {n: d for n, d in read.dump.files.items() if n != "DG11"}
    assert _further(_verify(files, trust))["dg11_consistency"] == (
        "not-checked", "no DG11 in the dump")
    empty = DG11(place_of_birth="TOSHKENT").encode()
    assert _further(_verify(_dump_with(DG11=empty), trust))["dg11_consistency"] == (
        "not-checked", "DG11 holds no name, full date of birth or personal number to compare")


def _dg1(read: ReadResult, **changes: str) -> bytes:
    mrz = DG1.decode(read.dump.files["DG1"]).mrz
    return DG1(dataclasses.replace(mrz, **changes)).encode()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"optional_data": "31503902620453"},
         "PINFL in the optional data: check digit does not match digits 1-13"),
        ({"sex": "F"}, "PINFL sex M does not match MRZ sex F"),
        ({"optional_data": "31603902620453"},
         "PINFL birth date 1990-03-16 does not match MRZ 900315"),
    ],
)
def test_pinfl_disagreeing_with_the_mrz_fails(read: ReadResult, trust: TrustStore,
                                              changes: dict[str, str], reason: str) -> None:
    report = _verify(_dump_with(DG1=_dg1(read, **changes)), trust)
    assert report.passive.ok
    assert _further(report)["pinfl"] == ("fail", reason)


def test_pinfl_of_another_state_is_not_checked(trust: TrustStore) -> None:
    files = sign_files(sample_files(state="FRA"), ds_pki())
    report = _verify(files, trust)
    assert _further(report)["pinfl"] == (
        "not-checked", "issuing state FRA: the PINFL is Uzbekistan's")
    assert _further(report)["dg11_consistency"] == ("not-checked", "no DG11 in the dump")
    uz = _verify(sign_files(sample_files(), ds_pki()), trust)  # a UZB MRZ without a PINFL
    assert _further(uz)["pinfl"] == ("not-checked", "no PINFL in the MRZ's optional data")


def test_rsa_active_authentication_re_verified(trust: TrustStore) -> None:
    """ISO/IEC 9796-2 (message recovery): the recorded signature over the recorded challenge."""
    aa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - speed
    dump, keys = build_dump(replace={"DG15": DG15.from_public_key(aa_key.public_key()).encode()})
    read = read_document(make_card(dump, keys, aa_key=aa_key).transport(), can=CAN)
    ev = _evidence(read)
    status, reason = _further(_verify(read.dump.files, trust, ev))["active_authentication"]
    assert status == "pass" and reason.endswith("verifies with DG15's key (ISO/IEC 9796-2)")
    aa = ev.active_authentication
    assert aa is not None and aa.challenge is not None
    other = dataclasses.replace(aa, challenge=aa.challenge[::-1])
    status, _ = _further(_verify(read.dump.files, trust, dataclasses.replace(
        ev, active_authentication=other)))["active_authentication"]  # fmt: skip
    assert status == "fail"


def test_undecodable_dg1_and_dg11(read: ReadResult) -> None:
    bad11 = {**read.dump.files, "DG11": b"\x6b\x01"}
    result = check_dg11(bad11)
    assert result.status is Status.FAIL and result.reason.startswith("DG11 does not decode: ")
    bad1 = {**read.dump.files, "DG1": b"\x61\x00"}
    no1 = {n: d for n, d in read.dump.files.items() if n != "DG1"}
    for check, name in ((check_dg11, "dg11_consistency"), (check_pinfl, "pinfl")):
        result = check(bad1)
        assert result.status is Status.NOT_CHECKED and result.name == name
        assert check(no1).status is Status.NOT_CHECKED and check(no1).name == name
        assert result.reason.startswith("DG1 does not decode: ")
    assert (check_dg11(no1).reason, check_pinfl(no1).reason) == ("no DG1 in the dump",) * 2


@pytest.mark.parametrize(
    ("full_name", "reason"),
    [
        ("KARI<MOV<<OTKIR", "surname 'KARI MOV' in DG11, 'GULOMOV' in the MRZ"),
        ("GULOMOV<<OTKIR<<SHUHRAT", None),  # the first '<<' parts surname from given names
        ("Gulomov☃<<Otkir", None),  # no transliteration: compared upper-cased as it is
        ("KARIMOV<<BOBUR", "surname 'KARIMOV' in DG11, 'GULOMOV' in the MRZ; given names "
         "'BOBUR' in DG11, 'OTKIR' in the MRZ"),
    ],
)
def test_dg11_names_as_the_mrz_writes_them(read: ReadResult, full_name: str,
                                           reason: str | None) -> None:  # fmt: skip
    files = {**read.dump.files, "DG11": _dg11(read, full_name=full_name)}
    result = check_dg11(files)
    assert result.name == "dg11_consistency"
    if reason is None:
        assert result.status is Status.PASS, result.reason
    else:
        assert (result.status, result.reason) == (Status.FAIL, reason)


def test_personal_number_compared_only_for_uzbek_documents(read: ReadResult) -> None:
    files = {**read.dump.files, "DG1": _dg1(read, issuing_state="FRA"),
             "DG11": _dg11(read, personal_number="X1234567")}  # fmt: skip
    result = check_dg11(files)
    assert (result.status, result.reason) == (
        Status.PASS, "DG1 and DG11 agree: names, date of birth")


def test_pinfl_reasons(read: ReadResult) -> None:
    result = check_pinfl(read.dump.files)
    assert (result.name, result.status, result.reason) == (
        "pinfl", Status.PASS, "the PINFL's check digit holds and it encodes the MRZ's date of "
        "birth and sex")
    both = {**read.dump.files, "DG1": _dg1(read, optional_data="31603902620453", sex="F")}
    assert check_pinfl(both).reason == (
        "PINFL birth date 1990-03-16 does not match MRZ 900315; PINFL sex M does not match MRZ "
        "sex F")
