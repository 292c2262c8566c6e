"""`idkarta point capture` and `idkarta point purge` on a station folder (SQLite; the use cases
are tested on both databases in tests/station/point/test_capture.py): exit codes 0/1/2, every
refusal reason shown, the captures encrypted under the file key store's key, no image printed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner, Result
from tests.conftest import ROOT

from pki.filestore import ScryptCost
from station.cli import main
from station.point.biometrics import KEY_FILE, create_file_key

SAMPLES = ROOT / "src" / "station" / "samples"
PHOTO = SAMPLES / "photo.jpg"
RIGHT = SAMPLES / "finger-right-index.jpg"
LEFT = SAMPLES / "finger-left-index.jpg"
ENV = {"IDKARTA_PASSPHRASE": "point biometrics passphrase"}


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=ENV)


@pytest.fixture
def station(tmp_path: Path) -> Path:
    folder = tmp_path / "station"
    assert run("center", "init", "--dir", folder).exit_code == 0
    assert run("point", "init", "--station", folder, "--code", "TAS-01", "--name", "N",
               "--kind", "internal-affairs", "--place-code", "262", "--operator", "aziza",
               "--supervisor", "dilnoza").exit_code == 0  # fmt: skip
    applied = run("point", "apply", SAMPLES / "application.json", "--station", folder,
                  "--operator", "aziza", "--id", "TAS-01-0001")  # fmt: skip
    assert applied.exit_code == 0, applied.output
    # the key made beforehand at a test-only scrypt cost (the file records it; the CLI reads it)
    create_file_key(folder / KEY_FILE, ENV["IDKARTA_PASSPHRASE"].encode(), cost=ScryptCost(2**10))
    return folder


def _capture(station: Path, *args: str | Path) -> Result:
    return run("point", "capture", "TAS-01-0001", "--station", station, "--operator", "aziza",
               *args)  # fmt: skip


def test_a_full_capture_is_accepted_and_stored_encrypted(station: Path) -> None:
    result = _capture(station, "--face", PHOTO, "--finger", f"2={RIGHT}", "--finger",
                      f"7={LEFT}", "--missing", "3=amputated")  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "face       accepted (attempt 1)"
    assert lines[1].startswith("finger 2   accepted (attempt 1, score ")
    assert lines[3] == "finger 3   exception: amputated"
    assert lines[4] == "DG3        finger 2, finger 7"
    assert lines[-2].startswith("Stored     encrypted (AES-256-GCM, key file:")
    assert lines[-1] == "Complete"
    with sqlite3.connect(station / "point.db") as db:
        rows = db.execute("SELECT position, status, length(sealed) FROM biometric_captures "
                          "ORDER BY position").fetchall()  # fmt: skip
        blob = b"".join(r[0] for r in db.execute("SELECT sealed FROM biometric_captures "
                                                 "WHERE sealed IS NOT NULL"))  # fmt: skip
    assert [(p, s) for p, s, _ in rows] == [(0, "accepted"), (2, "accepted"), (3, "exception"),
                                            (7, "accepted")]  # fmt: skip
    assert RIGHT.read_bytes()[200:232] not in blob and LEFT.read_bytes()[200:232] not in blob


def test_a_refused_capture_shows_every_reason_and_exits_1(station: Path, tmp_path: Path) -> None:
    pixels = cv2.imread(str(PHOTO))
    bad = tmp_path / "dark.jpg"
    cv2.imwrite(str(bad), np.asarray(cv2.GaussianBlur(pixels, (0, 0), 2.5) * 0.25, np.uint8))
    result = _capture(station, "--face", bad, "--attempts", "2", "--json")
    assert result.exit_code == 1, result.output
    shown = json.loads(result.stdout)
    assert shown["complete"] is False and shown["has_face"] is False
    (slot,) = shown["slots"]
    assert slot["status"] == "refused" and slot["attempts"] == 2
    assert [p["reason"] for p in slot["problems"]] == ["too_dark", "blurred"]
    text = _capture(station, "--face", bad)
    assert text.exit_code == 1
    assert "face       REFUSED after 3 attempt(s)" in text.stdout
    assert "too_dark: mean face brightness" in text.stdout and "blurred: sharpness" in text.stdout
    assert text.stdout.splitlines()[-1] == "Incomplete: capture again what was refused"


def test_the_threshold_option_refuses_a_finger(station: Path) -> None:
    result = _capture(station, "--face", PHOTO, "--finger", f"2={RIGHT}", "--min-score", "100",
                      "--attempts", "1", "--json")  # fmt: skip
    assert result.exit_code == 1
    slots = json.loads(result.stdout)["slots"]
    assert slots[1]["problems"][0]["reason"] == "finger_quality"


def test_the_applicants_refusal_is_recorded(station: Path, tmp_path: Path) -> None:
    notice = tmp_path / "notice.pdf"
    result = _capture(station, "--refuse", "glasses-or-headwear", "--out", notice, "--json")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["reason"] == "glasses-or-headwear"
    assert notice.read_bytes()[:5] == b"%PDF-"
    status = run("point", "status", "TAS-01-0001", "--station", station, "--json")
    assert json.loads(status.stdout)["status"] == "refused"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "error: nothing to capture: give --face, --finger or --missing\n"),
        (["--finger", "11=x.jpg"], "error: --finger '11=x.jpg': finger position 11 is not 1..10\n"),
        (["--finger", "two=x.jpg"],
         "error: --finger 'two=x.jpg': expected POS=VALUE (POS 1..10)\n"),
        (["--missing", "3="], "error: --missing '3=': expected POS=VALUE (POS 1..10)\n"),
        (["--finger", "2=a", "--finger", "2=b"],
         "error: --finger: finger position 2 given twice\n"),
        (["--finger", f"2={RIGHT}", "--missing", "2=cut"],
         "error: fingers: finger 2 is both captured and an exception\n"),
        (["--refuse", "fingerprints-refused", "--face", str(PHOTO)],
         "error: --refuse records a refusal: give no --face, --finger or --missing\n"),
    ],
)  # fmt: skip
def test_unusable_input_exits_2_with_one_line(station: Path, args: list[str],
                                              message: str) -> None:  # fmt: skip
    result = _capture(station, *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message)


def test_a_wrong_passphrase_is_refused_without_echoing_it(station: Path) -> None:
    result = CliRunner().invoke(main, ["point", "capture", "TAS-01-0001", "--station",
                                       str(station), "--operator", "aziza", "--face", str(PHOTO)],
                                env={"IDKARTA_PASSPHRASE": "not-the-passphrase"})  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == ("error: cannot unwrap biometrics.key.json: wrong passphrase or "
                             "damaged file\n")  # fmt: skip
    assert "not-the-passphrase" not in result.output


def test_purge_deletes_only_ended_applications(station: Path) -> None:
    assert _capture(station, "--face", PHOTO).exit_code == 0
    kept = run("point", "purge", "--station", station, "--retention-days", "0", "--json")
    assert kept.exit_code == 0 and json.loads(kept.stdout) == {
        "retention_days": 0, "captures": 0, "applications": {}}
    for step in (["submit", "TAS-01-0001"],
                 ["mark", "TAS-01-0001", "personalized", "--operator", "aziza"],
                 ["mark", "TAS-01-0001", "verified", "--operator", "aziza"],
                 ["handover", "TAS-01-0001", "--operator", "aziza", "--name", "Gʻulomov Oʻtkir",
                  "--document", "FA1234567"]):  # fmt: skip
        done = run("point", *step, "--station", station)
        assert done.exit_code == 0, done.output
    within = run("point", "purge", "--station", station)  # 30 days by default
    assert within.stdout == ("Purged 0 capture(s) of 0 application(s) ended more than 30 days "
                             "ago\n")  # fmt: skip
    (station / "biometrics.json").write_text('{"retention_days": 0}')
    gone = run("point", "purge", "--station", station)
    assert gone.exit_code == 0
    assert gone.stdout.splitlines() == [
        "TAS-01-0001  1 capture(s) deleted",
        "Purged 1 capture(s) of 1 application(s) ended more than 0 days ago"]
    with sqlite3.connect(station / "point.db") as db:
        assert db.execute("SELECT count(*) FROM biometric_captures").fetchone() == (0,)
