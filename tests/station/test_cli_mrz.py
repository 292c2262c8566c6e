"""`idkarta mrz parse|build` through click's CliRunner: output, JSON and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import VECTORS

from idcard.mrz import MRZ
from station.cli import main

UZ = json.loads((VECTORS / "mrz" / "uzbek-samples.json").read_text(encoding="utf-8"))
STEVENSON = (
    "I<UTOD23145890<7349<<<<<<<<<<<\n3407127M9507122UTO<<<<<<<<<<<2\nSTEVENSON<<PETER<JOHN<<<<<<<<<"
)


def _run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["mrz", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_parse_text_output() -> None:
    code, out, err = _run("parse", STEVENSON, "--reference-date", "2024-01-01")
    assert code == 0, err
    assert "document_number: D23145890734" in out
    assert "birth_date: 1934-07-12" in out and "expiry_date: 1995-07-12" in out
    assert "format: TD1" in out


def test_parse_json_uzbek_card() -> None:
    text = "".join(UZ["id_card"]["lines"])
    code, out, _ = _run("parse", text, "--json", "--reference-date", "2025-06-01")
    assert code == 0
    data = json.loads(out)
    assert data["format"] == "TD1" and data["birth_date"] == "1990-01-15"
    assert data["expiry_date"] == "2034-01-14" and data["optional_data_2"] == "UZB"
    assert data["uzbek"] == {
        "pinfl": UZ["id_card"]["pinfl"]["value"],
        "pinfl_birth_date": "1990-01-15",
        "pinfl_sex": "M",
        "profile_problems": [],
    }


def test_parse_undecidable_date_stays_yymmdd() -> None:
    text = MRZ.build(
        format="TD3", document_code="P", issuing_state="UTO", document_number="X1",
        birth_date="7408<<", sex="<", expiry_date="300101", nationality="UTO", surname="A",
    ).encode()  # fmt: skip
    code, out, err = _run("parse", text, "--json")
    assert code == 0, err
    assert json.loads(out)["birth_date"] == "7408<<"
    assert json.loads(out)["expiry_date"] != "300101"  # decided: ISO


def test_parse_reads_stdin() -> None:
    code, out, _ = _run("parse", "-", stdin=STEVENSON + "\n")
    assert code == 0 and "STEVENSON" in out


def test_wrong_check_digit_exits_1_naming_the_field() -> None:
    wrong = STEVENSON.replace("3407127", "3407128")
    code, out, err = _run("parse", wrong)
    assert code == 1 and out == ""
    assert err.strip().count("\n") == 0 and "birth_date" in err
    code, out, err = _run("parse", wrong, "--json")
    assert code == 1
    assert json.loads(out)["field"] == "birth_date"
    assert "birth_date" in json.loads(out)["error"]


def test_not_an_mrz_exits_2() -> None:
    code, out, err = _run("parse", "hello world", "--json")
    assert code == 2
    assert json.loads(out)["field"] == "format"
    assert err.startswith("error:")


def test_build_from_json(tmp_path: Path) -> None:
    spec = {
        "format": "TD3", "document_code": "P", "issuing_state": "UTO",
        "document_number": "L898902C3", "birth_date": "740812", "sex": "F",
        "expiry_date": "120415", "nationality": "UTO", "surname": "Eriksson",
        "given_names": "Anna Maria", "optional_data": "ZE184226B",
    }  # fmt: skip
    path = tmp_path / "fields.json"
    path.write_text(json.dumps(spec))
    code, out, _ = _run("build", "--json-input", str(path))
    assert code == 0
    assert out.split() == [
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    ]
    path.write_text(json.dumps({**spec, "sex": "Q"}))
    code, _, err = _run("build", "--json-input", str(path))
    assert code == 2 and "sex" in err
    path.write_text("[1]")
    assert _run("build", "--json-input", str(path))[0] == 2


# Issue 9 item 13: `mrz parse` exits 1 when a UZB document breaks the Uzbek profile.


def test_parse_uzbek_profile_problem_exits_1() -> None:
    card = MRZ.parse("\n".join(UZ["id_card"]["lines"]))
    fields = {name: getattr(card, name) for name in card.__dataclass_fields__}
    wrong_sex = MRZ(**{**fields, "sex": "F"}).encode()  # check digits stay right: sex has none
    code, out, err = _run("parse", wrong_sex, "--json", "--reference-date", "2025-06-01")
    assert code == 1
    assert json.loads(out)["uzbek"]["profile_problems"] == ["PINFL sex M does not match MRZ sex F"]
    assert err == "error: not the Uzbek document profile: PINFL sex M does not match MRZ sex F\n"
    code, out, err = _run("parse", wrong_sex)
    assert code == 1 and "uzbek.profile_problems: PINFL sex M" in out
    assert err.startswith("error: ") and err.count("\n") == 1


# Issue 9 item 20: `mrz build` reads what `mrz parse --json` prints, and '-' for stdin.

ROUND_TRIP = [
    STEVENSON,
    "\n".join(UZ["id_card"]["lines"]),
    "\n".join(UZ["passport_td3"]["lines"]),
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10",
    MRZ.build(
        format="TD3", document_code="P", issuing_state="UTO", document_number="X1",
        birth_date="7408<<", sex="<", expiry_date="300101", nationality="UTO", surname="A",
        blank_optional_check="0",
    ).encode(),
    MRZ.build(
        format="TD2", document_code="I", issuing_state="UTO", document_number="D231458907",
        birth_date="340712", sex="M", expiry_date="950712", nationality="UTO",
        surname="Stevenson", given_names="Peter",
    ).encode(),
]  # fmt: skip


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_build_reads_parse_json_from_stdin(text: str) -> None:
    code, out, err = _run("parse", text, "--json", "--reference-date", "2025-06-01")
    assert code == 0, err
    code, built, err = _run("build", "--json-input", "-", stdin=out)
    assert code == 0, err
    assert built == text + "\n"


def test_build_reads_iso_dates_ignores_extra_keys_and_refuses_bad_ones(tmp_path: Path) -> None:
    spec = {
        "format": "TD1", "document_code": "I", "issuing_state": "UTO",
        "document_number": "D23145890734", "birth_date": "1934-07-12", "sex": "M",
        "expiry_date": "1995-07-12", "nationality": "UTO", "surname": "Stevenson",
        "given_names": "Peter John", "comment": "ignored", "uzbek": {"pinfl": None},
    }  # fmt: skip
    code, out, err = _run("build", "--json-input", "-", stdin=json.dumps(spec))
    assert code == 0, err
    assert out == STEVENSON + "\n"
    path = tmp_path / "f.json"
    path.write_text(json.dumps({**spec, "birth_date": "1934-02-30"}))
    code, out, err = _run("build", "--json-input", str(path))
    assert (code, out) == (2, "")
    assert err == "error: birth_date: '1934-02-30' is not a date YYYY-MM-DD\n"
    code, _, err = _run("build", "--json-input", "-", stdin=json.dumps({**spec, "sex": 1}))
    assert code == 2 and err == "error: sex: must be a JSON string\n"
