"""`idkarta dump show`: text and JSON output, exit 2 with one line on a bad file."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from tests.conftest import VECTORS

from idcard.lds.dump import Dump
from station.cli import main

TLV_DIR = VECTORS / "lds/tlv"


def make_dump(folder: Path) -> dict[str, bytes]:
    files = {
        "DG1": (VECTORS / "lds/bsi-tr03105-refset/DG1").read_bytes(),
        "DG2": (TLV_DIR / "DG2.39794-mandatory-fields").read_bytes(),
        "DG11": (TLV_DIR / "DG11.9303-10-A5").read_bytes(),
        "DG16": (TLV_DIR / "DG16.9303-10-A6").read_bytes(),
    }
    Dump(files).write(folder)
    return files


def test_show_json(tmp_path: Path) -> None:
    make_dump(tmp_path / "d")
    result = CliRunner().invoke(main, ["dump", "show", str(tmp_path / "d"), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert list(out) == ["DG1", "DG2", "DG11", "DG16"]
    assert out["DG1"]["surname"] == "MUSTERMANN" and out["DG1"]["document_number"] == "C11T002JM"
    assert out["DG11"]["profession"] == "TRAVEL<AGENT"
    assert out["DG16"]["persons"][0]["telephone"] == "19525551212"
    rep = out["DG2"]["faces"][0]["record"]["representations"][0]
    assert rep["image"]["format"] == "jpeg2000" and rep["image"]["length"] == 15000


def test_show_text(tmp_path: Path) -> None:
    files = make_dump(tmp_path / "d")
    result = CliRunner().invoke(main, ["dump", "show", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert f"DG1 ({len(files['DG1'])} bytes)" in result.output
    assert "  given_names: ERIKA" in result.output
    assert "address: 123 MAPLE RD<ANYTOWN<MN" in result.output
    assert "  mrz:\n    P<D<<MUSTERMANN<<ERIKA<<<" in result.output
    assert all(line == line.rstrip() for line in result.output.splitlines())


def test_bad_file_exit_2_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    make_dump(folder)
    data = bytearray((folder / "DG11").read_bytes())
    data[20] = 0xFF
    (folder / "DG11").write_bytes(bytes(data))
    (folder / "manifest.json").unlink()
    result = CliRunner().invoke(main, ["dump", "show", str(folder)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == ["error: DG11 5F0E: not UTF-8 (at offset 20)"]
    assert "Traceback" not in result.output


def test_missing_folder_is_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["dump", "show", str(tmp_path / "nope")])
    assert result.exit_code == 2
