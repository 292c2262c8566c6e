"""`idkarta verify` beyond passive authentication: a dump written by `card read` (with its
evidence.json) verifies with every check; tampered evidence and data fail naming the check; an
old dump without evidence verifies with NOT CHECKED; the station's validity-period rule."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.idcard.chip.cards import CAN, build_dump, ds_pki, make_card, sample_cvca
from tests.idcard.verify.pa_pki import pem, sample_files, sign_files

from idcard.lds.dg1 import DG1
from idcard.lds.dg11 import DG11, DateValue
from idcard.lds.dg12 import DG12
from idcard.reader.document import read_document
from idcard.reader.evidence import EVIDENCE_FILE
from station.audit.rules import check_validity_period
from station.cli import main

PASS = "verify-test-passphrase"


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"IDKARTA_PASSPHRASE": PASS})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``card read`` of a personalized image into <root>/read; the CSCA in <root>/csca.pem."""
    d = tmp_path_factory.mktemp("verify-checks")
    dump, keys = build_dump()
    dump.write(d / "prepared")
    keys.to_secrets_file(d / "secrets.json", PASS.encode(), can=CAN, cvca=sample_cvca(),
                         current_date=dt.date(2026, 11, 20))  # fmt: skip
    assert _run("card", "new", str(d / "chip.json"))[0] == 0
    code, _, err = _run("card", "personalize", "--image", str(d / "chip.json"), "--dump",
                        str(d / "prepared"), "--secrets", str(d / "secrets.json"))  # fmt: skip
    assert code == 0, err
    code, _, err = _run("card", "read", "--image", str(d / "chip.json"), "--can", CAN, "--out",
                        str(d / "read"))  # fmt: skip
    assert code == 0, err
    (d / "csca.pem").write_bytes(pem(ds_pki().csca))
    return d


def _verify(root: Path, folder: Path, *extra: str) -> tuple[int, str, str]:
    return _run("verify", str(folder), "--csca", str(root / "csca.pem"), "--at", "2026-12-01",
                *extra)  # fmt: skip


def _copy(root: Path, name: str) -> Path:
    target = root / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(root / "read", target)
    return target


def test_card_read_dump_verifies_with_every_check(root: Path) -> None:
    evidence = json.loads((root / "read" / EVIDENCE_FILE).read_text())
    assert evidence["access"]["protocol"] == "PACE" and evidence["reader"] == "ChipTransport"
    code, out, err = _verify(root, root / "read")
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[1].startswith("Chip read: PACE GM, parameter id 13, CAN; reader ChipTransport; ")
    for line in ("  PASS         evidence ", "  PASS         active_authentication ",
                 "  NOT CHECKED  chip_authentication ", "  PASS         dg11_consistency ",
                 "  PASS         pinfl ", "  PASS         validity_period "):  # fmt: skip
        assert any(x.startswith(line) for x in lines), line
    assert lines[-1] == "RESULT: PASS (every check performed passed)"
    code, out, _ = _verify(root, root / "read", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] and doc["evidence"] == evidence
    assert {c["name"]: c["status"] for c in doc["checks"]}["validity_period"] == "pass"


def test_tampered_evidence_fails_naming_the_check(root: Path) -> None:
    folder = _copy(root, "tampered")
    doc = json.loads((folder / EVIDENCE_FILE).read_text())
    sig = doc["active_authentication"]["signature"]
    doc["active_authentication"]["signature"] = sig[:-2] + ("00" if sig[-2:] != "00" else "01")
    (folder / EVIDENCE_FILE).write_text(json.dumps(doc))
    code, out, _ = _verify(root, folder)
    assert code == 1
    assert "  FAIL         active_authentication  the signature over the recorded challenge " in out
    assert out.rstrip().endswith("RESULT: FAIL (active_authentication)")


def test_broken_evidence_is_a_failed_check_not_unusable_input(root: Path) -> None:
    folder = _copy(root, "broken")
    (folder / EVIDENCE_FILE).write_text("{")
    code, out, _ = _verify(root, folder)
    assert code == 1
    assert "  FAIL         evidence               evidence.json is unusable: evidence.json: not " \
        "valid JSON" in out
    assert "Chip read: not recorded (no usable evidence.json)" in out


def test_old_dump_without_evidence_verifies_with_not_checked(root: Path) -> None:
    folder = _copy(root, "old")
    (folder / EVIDENCE_FILE).unlink()
    code, out, _ = _verify(root, folder)
    assert code == 0
    none = "no evidence.json: the dump does not record how the chip was read"
    assert f"  NOT CHECKED  active_authentication  {none}" in out
    assert f"  NOT CHECKED  evidence               {none}" in out


def _files(**replace: bytes) -> dict[str, bytes]:
    dump, _ = build_dump(replace=replace)
    return dict(dump.files)


def test_validity_period_against_the_age_rule() -> None:
    files = _files()
    ok = check_validity_period(files)
    assert (ok.status.value, ok.reason) == (
        "pass", "expiry 2036-11-19 as the age rule gives (age 36 on the day of issue "
        "2026-11-20: 10 years)")
    dg12 = DG12.decode(files["DG12"])
    # issued as a child: 5 years, and the MRZ's 10-year expiry is wrong for that
    earlier = dataclasses.replace(dg12, date_of_issue=DateValue.from_date(dt.date(2004, 1, 10)))
    bad = check_validity_period(_files(DG12=earlier.encode()))
    assert (bad.status.value, bad.reason) == (
        "fail", "MRZ date of expiry 361119, but the age rule gives 2009-01-09 (age 13 on the day "
        "of issue 2004-01-10: 5 years)")
    before_birth = dataclasses.replace(dg12, date_of_issue=DateValue.from_date(dt.date(1989, 1, 1)))
    bad = check_validity_period(_files(DG12=before_birth.encode()))
    assert (bad.status.value, bad.reason) == (
        "fail", "date of issue 1989-01-01 is before the date of birth 1990-03-15")


def test_validity_period_not_checked_with_reasons() -> None:
    no12 = {n: d for n, d in _files().items() if n != "DG12"}
    r = check_validity_period(no12)
    assert (r.status.value, r.reason) == ("not-checked", "no DG12 in the dump (no date of issue)")
    r = check_validity_period(sign_files(sample_files(state="FRA"), ds_pki()))
    assert (r.status.value, r.reason) == (
        "not-checked", "issuing state FRA: the age rule is the Uzbek ID card's")
    undated = dataclasses.replace(DG12.decode(_files()["DG12"]), date_of_issue=None)
    r = check_validity_period(_files(DG12=undated.encode()))
    assert (r.status.value, r.reason) == ("not-checked", "DG12 holds no full date of issue")


def test_failed_validity_period_fails_the_cli(root: Path, tmp_path: Path) -> None:
    files = _files()
    dg12 = DG12.decode(files["DG12"])
    earlier = dataclasses.replace(dg12, date_of_issue=DateValue.from_date(dt.date(2004, 1, 10)))
    dump, keys = build_dump(replace={"DG12": earlier.encode()})
    read = read_document(make_card(dump, keys).transport(), can=CAN)
    read.write(tmp_path / "d")
    code, out, _ = _verify(root, tmp_path / "d")
    assert code == 1 and out.rstrip().endswith("RESULT: FAIL (validity_period)")


def _check(files: dict[str, bytes]) -> tuple[str, str]:
    result = check_validity_period(files)
    assert result.name == "validity_period"
    return result.status.value, result.reason


def test_validity_period_takes_the_birth_date_from_dg11_else_the_pinfl() -> None:
    files = _files()
    rule = ("pass", "expiry 2036-11-19 as the age rule gives (age 36 on the day of issue "
            "2026-11-20: 10 years)")  # fmt: skip
    no11 = {n: d for n, d in files.items() if n != "DG11"}
    assert _check(no11) == rule  # the PINFL's date of birth
    undated = dataclasses.replace(DG11.decode(files["DG11"]), full_date_of_birth=None)
    assert _check({**files, "DG11": undated.encode()}) == rule
    # DG11's date of birth comes first: one that makes the holder a child changes the rule
    child = dataclasses.replace(DG11.decode(files["DG11"]),
                                full_date_of_birth=DateValue.from_date(dt.date(2015, 3, 15)))
    status, reason = _check({**files, "DG11": child.encode()})
    assert status == "fail" and reason.endswith("(age 11 on the day of issue 2026-11-20: 5 years)")
    # neither DG11 nor a PINFL: nothing to take the century from
    mrz = DG1.decode(files["DG1"]).mrz
    no_pinfl = {**no11, "DG1": DG1(dataclasses.replace(mrz, optional_data="")).encode()}
    assert _check(no_pinfl) == ("not-checked", "no full date of birth (DG11 or PINFL)")
    bad11 = {**files, "DG11": b"\x6b\x01"}  # an undecodable DG11: the PINFL's date then
    assert _check(bad11) == rule


def test_validity_period_of_unusable_groups() -> None:
    files = _files()
    status, reason = _check({**files, "DG12": b"\x6c\x01"})
    assert status == "fail" and reason.startswith("DG12 does not decode: ")
    assert _check({n: d for n, d in files.items() if n != "DG1"}) == (
        "not-checked", "no DG1 in the dump")
    status, reason = _check({**files, "DG1": b"\x61\x00"})
    assert status == "not-checked" and reason.startswith("DG1 does not decode: ")
