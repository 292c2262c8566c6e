"""PINFL rules pinned down: an independent reading of the rule decides every input, and each
refusal has its exact reason and offset (the messages are the interface of ``validate_pinfl``)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from tests.conftest import VECTORS

from idcard.errors import EncodeError, PINFLError
from idcard.mrz import MRZ
from idcard.pinfl import PINFL, check_against_mrz, pinfl_check_digit, validate_pinfl

UZ = json.loads((VECTORS / "mrz" / "uzbek-samples.json").read_text(encoding="utf-8"))
CARD = MRZ.parse("\n".join(UZ["id_card"]["lines"]))
PASSPORT = MRZ.parse("\n".join(UZ["passport_td3"]["lines"]))
CENTURY = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}


def _digit(body: str) -> str:
    """The check digit written out from the rule: digits 1-13 weighted 7, 3, 1; mod 10."""
    weights = [7, 3, 1, 7, 3, 1, 7, 3, 1, 7, 3, 1, 7]
    return str(sum(int(d) * w for d, w in zip(body[:13], weights, strict=False)) % 10)


def _verdict(text: str) -> tuple[str, int | None] | PINFL:
    """What the rule says about ``text``: (reason, offset) of the first broken rule, or the
    PINFL it denotes."""
    if len(text) != 14 or any(c not in "0123456789" for c in text):
        return "a PINFL is exactly 14 digits", None
    if text[0] not in CENTURY:
        return f"first digit {text[0]} is not a century/sex code 1-6", 0
    try:
        born = dt.date(CENTURY[text[0]] + int(text[5:7]), int(text[3:5]), int(text[1:3]))
    except ValueError:
        return "digits 2-7 are not a date of birth DDMMYY", 1
    if text[13] != _digit(text):
        return "check digit does not match digits 1-13", 13
    sex = "M" if text[0] in "135" else "F"
    return PINFL(value=text, sex=sex, birth_date=born, place_code=text[7:10], serial=text[10:13])


def _with_digit(body: str) -> str:
    return body + _digit(body)


_digits = st.text("0123456789", min_size=13, max_size=13)
_pinfls = st.one_of(
    _digits.map(_with_digit),  # mostly bad dates or first digits, right check digit
    st.builds(
        lambda first, born, rest: _with_digit(first + born.strftime("%d%m%y") + rest),
        st.sampled_from("123456"),
        st.dates(dt.date(1800, 1, 1), dt.date(2099, 12, 31)),
        st.text("0123456789", min_size=6, max_size=6),
    ),
    st.text("0123456789", min_size=14, max_size=14),  # mostly a wrong check digit
    st.text(min_size=13, max_size=15),
)


@given(_pinfls)
@example("31501902621233")  # the ID card sample
@example("3150190262123٣")  # an Arabic-Indic digit is a digit, but not ASCII
@example("07501902621233")  # first digit 0
@example("13101901000009")  # 31 Jan 1890
@example("22902000000000")  # 29 Feb 1800: not a leap year
@example("52902000000005")  # 29 Feb 2000: a leap year
def test_parse_decides_as_the_rule_says(text: str) -> None:
    verdict = _verdict(text)
    if isinstance(verdict, PINFL):
        assert PINFL.parse(text) == verdict
        assert validate_pinfl(text) is None
        return
    reason, offset = verdict
    with pytest.raises(PINFLError) as info:
        PINFL.parse(text)
    assert (info.value.reason, info.value.offset) == (reason, offset)
    assert str(info.value) == (reason if offset is None else f"{reason} (at offset {offset})")
    assert validate_pinfl(text) == reason


@given(st.text("0123456789", min_size=13, max_size=14))
def test_check_digit_uses_the_first_13_digits_only(digits: str) -> None:
    assert pinfl_check_digit(digits) == _digit(digits)


def test_check_digit_known_answers() -> None:
    assert pinfl_check_digit("3150190262123") == "3"
    assert pinfl_check_digit("4060869305047") == "4"  # the TD3 sample
    assert pinfl_check_digit("0000000000001") == "7"  # weight 7 on digit 13
    assert pinfl_check_digit("1000000000000") == "7"
    assert pinfl_check_digit("0100000000000") == "3"
    assert pinfl_check_digit("00000000000009") == "0"  # digit 14 is not summed


@pytest.mark.parametrize("value", [None, 31501902621233, b"31501902621233"])
def test_parse_refuses_what_is_not_text(value: object) -> None:
    with pytest.raises(PINFLError) as info:
        PINFL.parse(value)  # type: ignore[arg-type]
    assert str(info.value) == "a PINFL is exactly 14 digits"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("X", dt.date(1990, 1, 1), "001", "001"), "sex must be 'M' or 'F'"),
        (("m", dt.date(1990, 1, 1), "001", "001"), "sex must be 'M' or 'F'"),
        (("M", dt.date(1799, 12, 31), "001", "001"), "a PINFL holds birth years 1800-2099"),
        (("F", dt.date(2100, 1, 1), "001", "001"), "a PINFL holds birth years 1800-2099"),
        (("M", dt.date(1990, 1, 1), "01", "001"), "place_code must be 3 digits"),
        (("M", dt.date(1990, 1, 1), "0011", "001"), "place_code must be 3 digits"),
        (("M", dt.date(1990, 1, 1), "٠٠١", "001"), "place_code must be 3 digits"),
        (("M", dt.date(1990, 1, 1), "0a1", "001"), "place_code must be 3 digits"),
        (("M", dt.date(1990, 1, 1), "001", "1"), "serial must be 3 digits"),
        (("M", dt.date(1990, 1, 1), "001", "١٢٣"), "serial must be 3 digits"),
        (("M", dt.date(1990, 1, 1), "001", "12x"), "serial must be 3 digits"),
    ],
)
def test_build_refuses_with_the_reason(args: tuple[str, dt.date, str, str], message: str) -> None:
    with pytest.raises(EncodeError) as info:
        PINFL.build(*args)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("sex", "born", "value"),
    [
        ("M", dt.date(1800, 1, 1), "10101000010015"),
        ("F", dt.date(2099, 12, 31), "63112990010028"),
        ("M", dt.date(1990, 1, 15), "31501902621233"),
    ],
)
def test_build_known_answers_at_the_year_limits(sex: str, born: dt.date, value: str) -> None:
    place, serial = value[7:10], value[10:13]
    assert PINFL.build(sex, born, place, serial).value == value
    assert str(PINFL.build(sex, born, place, serial)) == value


def _card(**changes: str) -> MRZ:
    fields = {name: getattr(CARD, name) for name in CARD.__dataclass_fields__}
    return MRZ(**{**fields, **changes})


def _passport(**changes: str) -> MRZ:
    fields = {name: getattr(PASSPORT, name) for name in PASSPORT.__dataclass_fields__}
    return MRZ(**{**fields, **changes})


def test_check_against_mrz_reports_each_disagreement_exactly() -> None:
    other = PINFL.build("F", dt.date(1991, 1, 15), "262", "123").value
    assert check_against_mrz(_card(optional_data=other)) == [
        "PINFL birth date 1991-01-15 does not match MRZ 900115",
        "PINFL sex F does not match MRZ sex M",
    ]
    same_day_other_sex = PINFL.build("F", dt.date(1990, 1, 15), "262", "123").value
    assert check_against_mrz(_card(optional_data=same_day_other_sex)) == [
        "PINFL sex F does not match MRZ sex M"
    ]
    other_century = PINFL.build("M", dt.date(2090, 1, 15), "262", "123").value
    assert check_against_mrz(_card(optional_data=other_century)) == []  # YYMMDD agrees
    assert check_against_mrz(_card(optional_data="31501902621230")) == [
        "PINFL in the optional data: check digit does not match digits 1-13"
    ]
    assert check_against_mrz(_card(optional_data="")) == ["no PINFL in the optional data"]


def test_check_against_mrz_reads_the_td3_personal_number() -> None:
    assert check_against_mrz(PASSPORT) == []
    assert check_against_mrz(_passport(optional_data="40608693050475")) == [
        "PINFL in the personal number: check digit does not match digits 1-13"
    ]
    assert check_against_mrz(_passport(optional_data="")) == ["no PINFL in the personal number"]
    assert check_against_mrz(_passport(sex="M")) == ["PINFL sex F does not match MRZ sex M"]


def test_a_td2_document_carries_no_pinfl() -> None:
    td2 = MRZ(
        format="TD2", document_code="I", issuing_state="UZB", document_number="AD1234567",
        birth_date="900115", sex="M", expiry_date="340114", nationality="UZB",
        surname="ORINBOYEV", optional_data="3150190",
    )  # fmt: skip
    assert check_against_mrz(td2) == ["no PINFL in the optional data"]
