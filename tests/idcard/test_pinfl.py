"""PINFL: structure, check digit, building, and agreement with the MRZ."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import VECTORS

from idcard.errors import EncodeError, PINFLError
from idcard.mrz import MRZ
from idcard.pinfl import PINFL, check_against_mrz, pinfl_check_digit, validate_pinfl

UZ = json.loads((VECTORS / "mrz" / "uzbek-samples.json").read_text(encoding="utf-8"))


def test_known_pinfls() -> None:
    for sample in (UZ["id_card"]["pinfl"], UZ["passport_td3"]["pinfl"]):
        p = PINFL.parse(sample["value"])
        assert p.sex == sample["sex"]
        assert p.birth_date.isoformat() == sample["birth_date"]
        assert (p.place_code, p.serial) == (sample["place_code"], sample["serial"])
        assert str(p) == sample["value"]


def test_check_digit_by_hand() -> None:
    # 3 1 5 0 1 9 0 2 6 2 1 2 3 weighted 7 3 1 7 3 1 7 3 1 7 3 1 7:
    # 21+3+5+0+3+9+0+6+6+14+3+2+21 = 93 → 3
    assert pinfl_check_digit("3150190262123") == "3"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("3150190262123", "exactly 14 digits"),
        ("3150190262123X", "exactly 14 digits"),
        ("71501902621233", "century/sex"),
        ("33202902621233", "date of birth"),
        ("31501902621234", "check digit"),
    ],
)
def test_invalid_pinfls(text: str, reason: str) -> None:
    with pytest.raises(PINFLError, match=reason):
        PINFL.parse(text)
    assert reason in (validate_pinfl(text) or "")


def test_validate_ok() -> None:
    assert validate_pinfl(UZ["id_card"]["pinfl"]["value"]) is None


@pytest.mark.parametrize(
    ("first", "sex", "year"), [("1", "M", 1850), ("2", "F", 1899), ("3", "M", 1900),
                               ("4", "F", 1999), ("5", "M", 2000), ("6", "F", 2099)],
)  # fmt: skip
def test_century_and_sex_digit(first: str, sex: str, year: int) -> None:
    p = PINFL.build(sex, date(year, 3, 1), "001", "002")
    assert p.value[0] == first and p.birth_date == date(year, 3, 1) and p.sex == sex


@given(
    st.sampled_from("MF"),
    st.dates(date(1800, 1, 1), date(2099, 12, 31)),
    st.text("0123456789", min_size=3, max_size=3),
    st.text("0123456789", min_size=3, max_size=3),
)
def test_build_parse_round_trip(sex: str, born: date, place: str, serial: str) -> None:
    p = PINFL.build(sex, born, place, serial)
    assert PINFL.parse(p.value) == p
    assert (p.sex, p.birth_date, p.place_code, p.serial) == (sex, born, place, serial)


@given(st.text(max_size=20))
def test_random_text_only_pinfl_error(text: str) -> None:
    try:
        PINFL.parse(text)
    except PINFLError:
        pass


@given(st.integers(0, 12), st.integers(1, 9))
def test_single_digit_change_breaks_check(position: int, delta: int) -> None:
    value = UZ["id_card"]["pinfl"]["value"]
    changed = value[:position] + str((int(value[position]) + delta) % 10) + value[position + 1 :]
    with pytest.raises(PINFLError):
        PINFL.parse(changed)


def test_build_rejects_bad_values() -> None:
    with pytest.raises(EncodeError):
        PINFL.build("X", date(1990, 1, 1), "001", "001")
    with pytest.raises(EncodeError):
        PINFL.build("M", date(2100, 1, 1), "001", "001")
    with pytest.raises(EncodeError):
        PINFL.build("M", date(1990, 1, 1), "01", "001")


def test_check_against_mrz() -> None:
    card = MRZ.parse("\n".join(UZ["id_card"]["lines"]))
    passport = MRZ.parse("\n".join(UZ["passport_td3"]["lines"]))
    assert check_against_mrz(card) == [] and check_against_mrz(passport) == []
    other = PINFL.build("F", date(1991, 1, 15), "262", "123").value
    fields = {name: getattr(card, name) for name in card.__dataclass_fields__}
    wrong = MRZ(**{**fields, "optional_data": other})
    problems = check_against_mrz(wrong)
    assert len(problems) == 2
    assert "birth date" in problems[0] and "sex" in problems[1]
    assert check_against_mrz(MRZ(**{**fields, "optional_data": ""})) == [
        "no PINFL in the optional data"
    ]
    bad_digit = MRZ(**{**fields, "optional_data": "31501902621230"})
    assert "check digit" in check_against_mrz(bad_digit)[0]
