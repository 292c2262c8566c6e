"""The MRZ check digit (ICAO 9303-3 §4.9): character values, the alphabet, the 7-3-1 weights."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idcard.errors import MRZError
from idcard.mrz.check import char_value, check_digit

ALPHABET = string.digits + string.ascii_uppercase + "<"
VALUES = {**{d: int(d) for d in string.digits}, "<": 0} | {
    c: 10 + i for i, c in enumerate(string.ascii_uppercase)
}  # 9303-3 §4.9: A=10 … Z=35


def test_every_character_of_the_alphabet_has_its_value() -> None:
    assert {c: char_value(c) for c in ALPHABET} == VALUES
    assert (char_value("A"), char_value("Z"), char_value("<")) == (10, 35, 0)


@given(st.characters().filter(lambda c: c not in ALPHABET))
def test_a_character_outside_the_alphabet_has_no_value(ch: str) -> None:
    with pytest.raises(MRZError) as info:
        char_value(ch)
    assert str(info.value) == f"character {ch!r} is not in the MRZ alphabet"


@pytest.mark.parametrize("ch", [*"az[\\]^_`{:;=>?@/", "", "AB", "<<", "0 "])
def test_lower_case_neighbours_and_non_characters_are_refused(ch: str) -> None:
    """The ASCII neighbours of 0-9, A-Z and '<', lower case, and strings that are not one
    character: no value, and no check digit over them (not a TypeError)."""
    with pytest.raises(MRZError, match="is not in the MRZ alphabet"):
        char_value(ch)
    if len(ch) == 1:
        with pytest.raises(MRZError, match="is not in the MRZ alphabet"):
            check_digit(f"AB{ch}12")


def test_worked_example_of_part_3() -> None:
    """9303-3 §4.9.2: the date 520727 has check digit 3 (5*7+2*3+0*1+7*7+2*3+7*1 = 103)."""
    assert check_digit("520727") == "3"
    assert check_digit("") == "0"
    assert check_digit("AB2134<<<") == "5"  # 70+33+2+7+9+4 = 125


@given(st.text(ALPHABET, max_size=40))
def test_check_digit_is_the_weighted_sum_mod_10(text: str) -> None:
    total = sum(VALUES[c] * (7, 3, 1)[i % 3] for i, c in enumerate(text))
    assert check_digit(text) == str(total % 10)


@given(st.text(ALPHABET, max_size=20), st.characters(), st.text(ALPHABET, max_size=20))
def test_one_foreign_character_anywhere_refuses_the_whole_text(
    head: str, ch: str, tail: str
) -> None:
    text = head + ch + tail
    if ch in ALPHABET:
        assert check_digit(text) in string.digits
    else:
        with pytest.raises(MRZError, match="is not in the MRZ alphabet"):
            check_digit(text)


@pytest.mark.parametrize("value", [None, 7, b"A", ["A"], ("A",)])
def test_what_is_not_text_has_no_value(value: object) -> None:
    with pytest.raises(MRZError, match="is not in the MRZ alphabet"):
        char_value(value)  # type: ignore[arg-type]
