"""`idkarta verify --reader`: a personalized chip image served by `idkarta card serve` into the
private pcscd's vpcd reader (tests/pcsc_harness.py), verified live by `idkarta verify` in another
process: Active Authentication over a fresh challenge, Chip Authentication PASS because it ran
now; with --out the dump folder and its evidence are written; a wrong CAN is exit 2."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import ROOT
from tests.idcard.chip.cards import CAN, build_dump, ds_pki, sample_cvca
from tests.idcard.verify.pa_pki import pem
from tests.pcsc_harness import BASE_PORT, PCSCD, READERS, wait_absent

from idcard.reader import PCSCTransport
from idcard.reader.evidence import read_evidence

pytestmark = pytest.mark.pcsc

PASS = "verify-live-passphrase"
SLOT = 1


@pytest.fixture
def served(pcscd: PCSCD, tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    """A personalized chip image served into reader slot 1; the CLI's environment and tmp."""
    dump, keys = build_dump()
    dump.write(tmp_path / "dump")
    keys.to_secrets_file(tmp_path / "secrets.json", PASS.encode(), can=CAN, cvca=sample_cvca(),
                         current_date=dt.date(2026, 11, 20))  # fmt: skip
    (tmp_path / "csca.pem").write_bytes(pem(ds_pki().csca))
    env = {**pcscd.env, "IDKARTA_PASSPHRASE": PASS,
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}  # fmt: skip
    image = tmp_path / "chip.json"
    for args in (["card", "new", str(image)],
                 ["card", "personalize", "--image", str(image), "--dump", str(tmp_path / "dump"),
                  "--secrets", str(tmp_path / "secrets.json")]):  # fmt: skip
        done = _cli(env, *args)
        assert done.returncode == 0, done.stderr
    server = subprocess.Popen(
        ["nsenter", f"--net={pcscd.netns}", sys.executable, "-m", "station.cli", "card", "serve",
         str(image), "--vpcd", f"127.0.0.1:{BASE_PORT + SLOT}"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        with PCSCTransport.connect(READERS[SLOT], wait=15):
            pass  # the card is in
        yield env, tmp_path
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
        wait_absent(READERS[SLOT])


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "station.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


def test_verify_a_card_live(served: tuple[dict[str, str], Path]) -> None:
    env, tmp = served
    csca = str(tmp / "csca.pem")
    done = _cli(env, "verify", "--reader", READERS[SLOT], "--can", CAN, "--csca", csca,
                "--at", "2026-12-01", "--out", str(tmp / "read"), "--report", str(tmp / "rep"),
                "--json")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    checks = {c["name"]: (c["status"], c["reason"]) for c in doc["checks"]}
    assert doc["ok"] and doc["live"]
    assert checks["chip_authentication"][0] == "pass"
    assert checks["chip_authentication"][1].startswith("performed live: the chip proved DG14's")
    challenge = doc["evidence"]["active_authentication"]["challenge"]
    assert checks["active_authentication"] == (
        "pass", f"the chip's signature over a fresh challenge {challenge} verifies with DG15's "
        "key (ECDSA)")
    assert doc["evidence"]["reader"] == READERS[SLOT]
    for name in ("sod_signature", "chain", "evidence", "dg11_consistency", "pinfl",
                 "validity_period"):  # fmt: skip
        assert checks[name][0] == "pass", name
    [reported] = json.loads((tmp / "rep" / "report.json").read_text())["documents"]
    assert reported["dump"] == "live" and reported["live"] and reported["ok"]
    assert reported["evidence"] == doc["evidence"]
    assert {c["name"]: c["status"] for c in reported["checks"]}["chip_authentication"] == "pass"
    # the dump written is the one verified; offline, CA is honestly not re-provable
    assert read_evidence(tmp / "read") is not None
    offline = _cli(env, "verify", str(tmp / "read"), "--csca", csca, "--at", "2026-12-01")
    assert offline.returncode == 0, offline.stdout
    assert "  NOT CHECKED  chip_authentication    recorded as passed" in offline.stdout
    # a second live read: another fresh challenge
    again = _cli(env, "verify", "--reader", READERS[SLOT], "--can", CAN, "--csca", csca,
                 "--at", "2026-12-01", "--json")  # fmt: skip
    assert again.returncode == 0
    assert json.loads(again.stdout)["evidence"]["active_authentication"]["challenge"] != challenge


def test_verify_live_with_a_wrong_can_is_exit_2(served: tuple[dict[str, str], Path]) -> None:
    env, tmp = served
    done = _cli(env, "verify", "--reader", READERS[SLOT], "--can", "000000", "--csca",
                str(tmp / "csca.pem"))  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == "" and done.stderr.startswith("error: ")
    assert len(done.stderr.splitlines()) == 1 and "000000" not in done.stderr
    assert "PACE" in done.stderr, done.stderr
