"""Composing a PINFL (scheme, lines 129-131: "shaxsiy identifikatsiya raqamini shakllantiradi")."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idcard.errors import PINFLError
from idcard.pinfl import PINFL, pinfl_check_digit
from station.domain.errors import DomainError
from station.domain.pinfl import MAX_SERIAL, century_sex_digit, compose_pinfl, pinfl_prefix

PLACES = st.text(st.sampled_from("0123456789"), min_size=3, max_size=3)


def test_known_answer() -> None:
    # 4 (female, 1900s) 070385 (7 March 1985) 123 (place) 005 (serial) 8 (check digit:
    # 4·7+0·3+7·1+0·7+3·3+8·1+5·7+1·3+2·1+3·7+0·3+0·1+5·7 = 148)
    assert compose_pinfl(sex="F", birth_date=date(1985, 3, 7), place_code="123",
                         serial=5) == "40703851230058"
    assert pinfl_prefix(sex="F", birth_date=date(1985, 3, 7), place_code="123") == "4070385123"


@pytest.mark.parametrize(
    ("sex", "born", "digit"),
    [("M", date(1899, 12, 31), "1"), ("F", date(1800, 1, 1), "2"), ("M", date(1900, 1, 1), "3"),
     ("F", date(1999, 12, 31), "4"), ("M", date(2000, 1, 1), "5"), ("F", date(2099, 12, 31), "6")],
)
def test_century_sex_digit(sex: str, born: date, digit: str) -> None:
    assert century_sex_digit(sex, born) == digit


@given(st.sampled_from(["M", "F"]), st.dates(date(1800, 1, 1), date(2099, 12, 31)), PLACES,
       st.integers(1, MAX_SERIAL))
def test_composed_pinfl_parses_and_agrees(sex: str, born: date, place: str, serial: int) -> None:
    value = compose_pinfl(sex=sex, birth_date=born, place_code=place, serial=serial)
    parsed = PINFL.parse(value)
    assert (parsed.sex, parsed.birth_date, parsed.place_code, parsed.serial) == (
        sex, born, place, f"{serial:03d}")
    assert value[0] == century_sex_digit(sex, born)
    assert value[13] == pinfl_check_digit(value[:13])


@given(st.sampled_from(["M", "F"]), st.dates(date(1800, 1, 1), date(2099, 12, 31)), PLACES,
       st.integers(1, MAX_SERIAL), st.integers(0, 12), st.integers(1, 9))
def test_one_wrong_digit_is_caught(sex: str, born: date, place: str, serial: int, at: int,
                                   delta: int) -> None:
    value = compose_pinfl(sex=sex, birth_date=born, place_code=place, serial=serial)
    wrong = value[:at] + str((int(value[at]) + delta) % 10) + value[at + 1:]
    with pytest.raises(PINFLError):
        PINFL.parse(wrong)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"serial": 0}, "serial"),
        ({"serial": MAX_SERIAL + 1}, "serial"),
        ({"serial": True}, "serial"),
        ({"place_code": "12"}, "place_code"),
        ({"place_code": "12a"}, "place_code"),
        ({"sex": "X"}, "person.sex"),
        ({"birth_date": date(2100, 1, 1)}, "person.birth_date"),
        ({"birth_date": date(1799, 12, 31)}, "person.birth_date"),
    ],
)
def test_bad_parts_name_the_field(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"sex": "M", "birth_date": date(2000, 1, 1), "place_code": "001",
                               "serial": 1, **kwargs}
    with pytest.raises(DomainError) as info:
        compose_pinfl(**args)  # type: ignore[arg-type]
    assert info.value.field == field


def test_serial_bounds_are_inclusive() -> None:
    low = compose_pinfl(sex="M", birth_date=date(2000, 1, 1), place_code="001", serial=1)
    high = compose_pinfl(sex="M", birth_date=date(2000, 1, 1), place_code="001", serial=999)
    assert (low[10:13], high[10:13]) == ("001", "999")


def test_bad_part_reasons() -> None:
    born = date(2000, 1, 1)
    cases: list[tuple[dict[str, object], str]] = [
        ({"sex": "X"}, "must be 'M' or 'F', not 'X'"),
        ({"birth_date": date(2100, 1, 1)}, "a PINFL holds birth years 1800-2099, not 2100"),
        ({"place_code": "1234"}, "'1234' is not 3 digits"),
        ({"serial": 1000}, "1000 is not a serial 1-999"),
    ]
    for change, reason in cases:
        args: dict[str, object] = {"sex": "M", "birth_date": born, "place_code": "001",
                                   "serial": 1, **change}
        with pytest.raises(DomainError) as info:
            compose_pinfl(**args)  # type: ignore[arg-type]
        assert info.value.reason == reason
