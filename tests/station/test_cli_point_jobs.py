"""`idkarta point stock | personalize | jobs` on a station folder (SQLite; the use cases run on
both databases in tests/station/point/): a captured application becomes a ready card through the
embedded Center, the stock report balances, exit codes 0/1/2 and --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.conftest import ROOT
from tests.pcsc_harness import PCSCD, READERS, PluggedChip
from tests.station.point.jobs_kit import PASSPHRASE, PIN, PUK, make_pki

from idcard.chip import ChipTransport, VirtualChip
from idcard.esign import ESignCard
from pki.filestore import ScryptCost
from station.cli import main
from station.point.biometrics import KEY_FILE, create_file_key

SAMPLES = ROOT / "src" / "station" / "samples"
ENV = {"IDKARTA_PASSPHRASE": PASSPHRASE.decode(), "IDKARTA_HOLDER_PIN": PIN,
       "IDKARTA_HOLDER_PUK": PUK}


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env or ENV)


@pytest.fixture
def station(tmp_path: Path) -> Path:
    folder = tmp_path / "station"
    make_pki(folder)
    made = run("center", "init", "--dir", folder, "--esign", folder / "esign", "--pki",
               folder / "pki")  # fmt: skip
    assert made.exit_code == 0, made.output
    assert run("point", "init", "--station", folder, "--code", "TAS-01", "--name", "N",
               "--kind", "internal-affairs", "--place-code", "262", "--operator", "aziza",
               "--supervisor", "dilnoza").exit_code == 0  # fmt: skip
    create_file_key(folder / KEY_FILE, PASSPHRASE, cost=ScryptCost(2**10))
    for app_id in ("TAS-01-0001",):
        applied = run("point", "apply", SAMPLES / "application.json", "--station", folder,
                      "--operator", "aziza", "--id", app_id)  # fmt: skip
        assert applied.exit_code == 0, applied.output
        assert run("point", "submit", app_id, "--station", folder).exit_code == 0
        captured = run("point", "capture", app_id, "--station", folder, "--operator", "aziza",
                       "--face", SAMPLES / "photo.jpg",
                       "--finger", f"2={SAMPLES / 'finger-right-index.jpg'}",
                       "--finger", f"7={SAMPLES / 'finger-left-index.jpg'}")  # fmt: skip
        assert captured.exit_code == 0, captured.output
    return folder


def test_stock_then_personalize_then_the_report(station: Path) -> None:
    received = run("point", "stock", "receive", "--station", station, "--batch", "B1",
                   "--virtual", "2", "--json")  # fmt: skip
    assert received.exit_code == 0, received.output
    assert [b["serial"] for b in json.loads(received.stdout)["received"]] == ["B1-00001",
                                                                             "B1-00002"]
    done = run("point", "personalize", "TAS-01-0001", "--station", station, "--operator",
               "aziza", "--json")  # fmt: skip
    assert done.exit_code == 0, done.output
    (job,) = json.loads(done.stdout)["jobs"]
    assert (job["status"], job["blank"], job["blanks_used"]) == ("ready", "B1-00001", 1)
    chip = VirtualChip.load(station / "blanks" / "B1-00001.json")
    assert chip.locked
    card = ESignCard(ChipTransport(chip))
    card.select()
    card.verify_pin(PIN)  # the holder's PIN from IDKARTA_HOLDER_PIN is the card's (else raises)
    status = run("point", "status", "TAS-01-0001", "--station", station, "--json")
    assert json.loads(status.stdout)["status"] == "verified"
    listed = run("point", "jobs", "--station", station, "--json")
    assert [j["card"] for j in json.loads(listed.stdout)["jobs"]] == [job["card"]]
    blanks = run("point", "stock", "list", "--station", station)
    assert blanks.stdout.splitlines()[0].split()[:4] == ["B1-00001", "B1", "issued", job["card"]]
    report = run("point", "stock", "report", "--station", station, "--json")
    assert report.exit_code == 0, report.output
    shown = json.loads(report.stdout)
    assert (shown["received"], shown["issued"], shown["closing"], shown["balanced"]) == (
        2, 1, 1, True)
    again = run("point", "personalize", "TAS-01-0001", "--station", station, "--operator",
                "aziza")  # fmt: skip
    assert again.exit_code == 0 and "ready" in again.stdout  # the job as it is, no second card


def test_personalize_without_a_blank_in_stock_exits_1(station: Path) -> None:
    done = run("point", "personalize", "TAS-01-0001", "--station", station, "--operator",
               "aziza", "--json")  # fmt: skip
    assert done.exit_code == 1, done.output
    (job,) = json.loads(done.stdout)["jobs"]
    assert job["status"] == "error" and "no blank is left in stock" in job["error"]


@pytest.mark.parametrize(("args", "message"), [
    (("personalize", "--operator", "aziza"), "give the APPLICATIONS"),
    (("personalize", "TAS-01-0001", "--operator", "nobody"), "not an operator of point"),
    (("stock", "receive", "--batch", "B1"), "give --virtual N or --blank"),
    (("stock", "receive", "--batch", "B1", "--blank", "S1:zz"), "SERIAL:HISTORICAL"),
])
def test_usage_errors_exit_2(station: Path, args: tuple[str, ...], message: str) -> None:
    result = run("point", *args, "--station", station)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_the_progress_bars_follow_the_events() -> None:
    """On a terminal: one bar for the batch, one per job showing its step (rich, recorded)."""
    from rich.console import Console

    from station.cli.point_jobs import _Progress
    from station.domain.jobs import Step
    from station.point.jobs import JobEvent

    console = Console(record=True, force_terminal=True, width=100)
    with _Progress(True, console=console) as progress:
        progress.batch(1)
        for step in Step:
            progress(JobEvent("j1", "TAS-01-0001", "R1", step, "started"))
            progress(JobEvent("j1", "TAS-01-0001", "R1", step, "done"))
        progress(JobEvent("j1", "TAS-01-0001", "R1", None, "ready", "AD0000001"))
    text = console.export_text()
    assert "batch" in text and "TAS-01-0001 (R1)" in text and "ready" in text
    assert [t.completed for t in progress._bar.tasks] == [1, 7]
    quiet = _Progress(False)
    with quiet:
        quiet(JobEvent("j1", "A", "R1", Step.GATE, "started"))  # no terminal: nothing shown
    assert quiet._bar is None


def test_personalize_in_a_pcsc_reader(station: Path, pcscd: PCSCD) -> None:
    """--pcsc: the blank (a virtual chip plugged into pcscd's vpcd reader) personalized there."""
    assert run("point", "stock", "receive", "--station", station, "--batch", "B1", "--virtual",
               "1").exit_code == 0  # fmt: skip
    chip = VirtualChip.load(station / "blanks" / "B1-00001.json")
    with pcscd.card(PluggedChip(chip), 0):
        done = run("point", "personalize", "TAS-01-0001", "--station", station, "--operator",
                   "aziza", "--pcsc", READERS[0], "--json", env={**pcscd.env, **ENV})  # fmt: skip
    assert done.exit_code == 0, done.output
    (job,) = json.loads(done.stdout)["jobs"]
    assert (job["status"], job["reader"], job["blank"]) == ("ready", "pcsc1", "B1-00001")
    assert chip.locked
