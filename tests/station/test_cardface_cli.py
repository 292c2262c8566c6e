"""`idkarta card-face` and the demo's card face: written next to the chip, MRZ of the issued DG1."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import require_tool

from idcard.lds.dg1 import DG1
from idcard.lds.dump import Dump
from station.applicant import sample_applicant
from station.cli import main
from station.cli.demo import print_summary, run_demo

SAMPLES = Path(__file__).parents[2] / "src/station/samples"


def _back_text(pdf: Path) -> list[str]:
    pdftotext = require_tool("pdftotext")
    out = subprocess.run([pdftotext, "-f", "2", "-l", "2", "-layout", str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return [line.strip() for line in out.splitlines() if line.strip()][-3:]


@pytest.mark.tool
def test_card_face_command_writes_the_print_job(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["card-face", str(SAMPLES / "applicant.json"),
                                       "--out", str(tmp_path / "face"), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    paths = json.loads(result.output)
    assert sorted(Path(p).name for p in paths.values()) == [
        "card-face-back.png", "card-face-front.png", "card-face.pdf"]
    assert _back_text(Path(paths["pdf"])) == [
        "IUUZBAD1234567731503902620452<",
        "9003152M3611199UZBUZB<<<<<<<<8",
        "GULOMOV<<OTKIR<<<<<<<<<<<<<<<<",
    ]


def test_card_face_refuses_an_overflowing_field_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "applicant"
    shutil.copytree(SAMPLES, folder)
    data = json.loads((folder / "applicant.json").read_text(encoding="utf-8"))
    data["place_of_birth"] = "Toshkent viloyati, Yuqorichirchiq tumani, " * 4
    (folder / "applicant.json").write_text(json.dumps(data), encoding="utf-8")
    result = CliRunner().invoke(main, ["card-face", str(folder / "applicant.json"),
                                       "--out", str(tmp_path / "face")])  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith("error: card face: place_of_birth: ")
    assert not (tmp_path / "face").exists()  # nothing partial


@pytest.mark.tool
def test_demo_writes_the_card_face_next_to_the_chip_image(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    outcome = run_demo(out, sample_applicant())
    assert outcome.ok
    assert not isinstance(outcome.card_face, str), outcome.card_face
    pdf, front, back = outcome.card_face
    assert pdf.parent == outcome.image.parent == out
    assert front.name == "card-face-front.png" and back.stat().st_size > 0
    dg1 = Dump.read(out / "card").decode("DG1")
    assert isinstance(dg1, DG1)
    assert _back_text(pdf) == list(dg1.mrz.lines())
    lines: list[str] = []
    print_summary(outcome, lines.append)
    assert f"   Card face   {pdf}, {front}, {back}" in lines


def test_demo_without_text_fonts_says_why_and_still_issues(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import station.cardface.render as render

    monkeypatch.setattr(render, "TEXT_FONT_DIRS", (tmp_path / "no-fonts",))
    outcome = run_demo(tmp_path / "demo-out", sample_applicant())
    assert outcome.ok and outcome.image.exists()
    assert outcome.card_face == (
        f"not rendered: card face: fonts: DejaVu Sans not found in {tmp_path / 'no-fonts'} "
        "(Debian: apt-get install fonts-dejavu-core)")
    assert not (tmp_path / "demo-out" / "card-face.pdf").exists()
    lines: list[str] = []
    print_summary(outcome, lines.append)
    assert f"   Card face   {outcome.card_face}" in lines


@pytest.mark.tool
def test_card_face_prints_an_issued_dump_and_refuses_one_of_another_card(tmp_path: Path) -> None:
    from tests.station.cardface_holders import TODAY, holders

    from station.card_data import CardKeys, build_card_data

    applicant = str(SAMPLES / "applicant.json")
    own = tmp_path / "own"
    build_card_data(holders()["sample"], CardKeys.generate(), today=TODAY).write(own)
    result = CliRunner().invoke(main, ["card-face", applicant, "--dump", str(own),
                                       "--out", str(tmp_path / "face")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _back_text(tmp_path / "face" / "card-face.pdf")[0] == "IUUZBAD1234567731503902620452<"
    other = tmp_path / "other"
    build_card_data(holders()["child"], CardKeys.generate(), today=TODAY).write(other)
    result = CliRunner().invoke(main, ["card-face", applicant, "--dump", str(other),
                                       "--out", str(tmp_path / "other-face")])  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == ("error: card face: document_number: printed 'AD1234567' but the MRZ "
                             "(DG1) holds 'MW8888888'\n")
    assert not (tmp_path / "other-face").exists()
