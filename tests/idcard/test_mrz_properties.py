"""MRZ properties: build → encode → parse round trips, every data change breaks the right check
digit, random text gives only MRZError, and agreement with the independent PyPI ``mrz`` package."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from mrz.checker.td1 import TD1CodeChecker
from mrz.checker.td2 import TD2CodeChecker
from mrz.checker.td3 import TD3CodeChecker
from mrz.generator.td1 import TD1CodeGenerator
from mrz.generator.td2 import TD2CodeGenerator
from mrz.generator.td3 import TD3CodeGenerator

from idcard.errors import MRZError
from idcard.mrz import MRZ, CheckDigitError
from idcard.mrz.check import char_value

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALNUM = LETTERS + "0123456789"

words = st.text(LETTERS, min_size=1, max_size=12)
names = st.lists(words, min_size=0, max_size=3).map(" ".join)
dates = st.text("0123456789", min_size=6, max_size=6)
codes = st.text(LETTERS, min_size=1, max_size=3)


def _optional(max_size: int) -> st.SearchStrategy[str]:
    return st.text(ALNUM + "<", max_size=max_size).map(lambda s: s.rstrip("<"))


@st.composite
def mrzs(draw: st.DrawFn, formats: tuple[str, ...] = ("TD1", "TD2", "TD3")) -> MRZ:
    fmt = draw(st.sampled_from(formats))
    first = "P" if fmt == "TD3" else draw(st.sampled_from("IAC"))
    code = first + draw(st.sampled_from(["", *LETTERS]))
    long_number = fmt != "TD3" and draw(st.booleans())
    if long_number:
        room = 15 if fmt == "TD1" else 7
        overflow = draw(st.integers(1, room - 1))
        number = draw(st.text(ALNUM, min_size=9 + overflow, max_size=9 + overflow))
        left = room - overflow - 2
        optional = draw(_optional(left)) if left > 0 else ""
    else:
        number = draw(st.text(ALNUM + "<", min_size=1, max_size=9).map(lambda s: s.rstrip("<")))
        assume(number)
        optional = draw(_optional({"TD1": 15, "TD2": 7, "TD3": 14}[fmt]))
    blank = draw(st.sampled_from("<0")) if fmt == "TD3" and not optional else "<"
    return MRZ.build(
        format=fmt,  # type: ignore[arg-type]
        document_code=code,
        issuing_state=draw(codes),
        document_number=number,
        birth_date=draw(dates),
        sex=draw(st.sampled_from("MF<X")),
        expiry_date=draw(dates),
        nationality=draw(codes),
        surname=draw(words),
        given_names=draw(names),
        optional_data=optional,
        optional_data_2=draw(_optional(11)) if fmt == "TD1" else "",
        blank_optional_check=blank,
    )


@given(mrzs())
def test_build_encode_parse_round_trip(m: MRZ) -> None:
    text = m.encode()
    assert MRZ.parse(text) == m
    assert MRZ.parse(text).encode() == text
    assert MRZ.parse(text.replace("\n", "")) == m
    width = {"TD1": 30, "TD2": 36, "TD3": 44}[m.format]
    assert all(len(line) == width for line in text.split("\n"))


def _expected_field(m: MRZ, row: int, col: int) -> str | None:
    """The check digit a change at (row, col) must break first (None: not covered)."""
    long = len(m.document_number) > 9
    overflow_end = len(m.document_number) - 9 + 1  # overflow characters and their digit
    if m.format == "TD1":
        if row == 0 and 5 <= col < 15:
            return "document_number"
        if row == 0 and 15 <= col < 30:
            return "document_number" if long and col - 15 < overflow_end else "composite"
        if row == 1 and 0 <= col < 7:
            return "birth_date"
        if row == 1 and 8 <= col < 15:
            return "expiry_date"
        if row == 1 and (18 <= col < 30):
            return "composite"
        return None
    if row != 1:
        return None
    if col < 10:
        return "document_number"
    if 13 <= col < 20:
        return "birth_date"
    if 21 <= col < 28:
        return "expiry_date"
    if m.format == "TD2" and 28 <= col < 35:
        return "document_number" if long and col - 28 < overflow_end else "composite"
    if m.format == "TD3" and 28 <= col < 43:
        return "optional_data"
    return "composite" if col == len(m.lines()[1]) - 1 else None


@given(mrzs(), st.data())
def test_any_data_change_breaks_the_right_check_digit(m: MRZ, data: st.DataObject) -> None:
    lines = list(m.lines())
    spots = [
        (r, c)
        for r, line in enumerate(lines)
        for c, ch in enumerate(line)
        if ch != "<" and _expected_field(m, r, c) is not None
    ]
    row, col = data.draw(st.sampled_from(spots))
    old = lines[row][col]
    pool = "0123456789" if old.isdigit() else ALNUM
    new = data.draw(
        st.sampled_from([c for c in pool if (char_value(c) - char_value(old)) % 10 != 0])
    )
    lines[row] = lines[row][:col] + new + lines[row][col + 1 :]
    with pytest.raises(CheckDigitError) as info:
        MRZ.parse("\n".join(lines))
    assert info.value.field == _expected_field(m, row, col)


@given(st.text(max_size=120))
def test_random_text_gives_only_mrz_error(text: str) -> None:
    try:
        MRZ.parse(text)
    except MRZError:
        pass


@given(st.sampled_from([90, 72, 88]).flatmap(lambda n: st.text(ALNUM + "<<<<", min_size=n,
                                                               max_size=n)))  # fmt: skip
def test_random_mrz_shaped_text_gives_only_mrz_error(text: str) -> None:
    try:
        m = MRZ.parse(text)
    except MRZError:
        return
    assert m.encode().replace("\n", "") == text


# -- cross-check against the PyPI ``mrz`` package (independent implementation) -------------------


def _generator(m: MRZ) -> Any:
    sex = "<" if m.sex == "X" else m.sex
    common = dict(
        birth_date=m.birth_date, sex=sex, expiry_date=m.expiry_date, nationality=m.nationality,
        surname=m.surname, given_names=m.given_names, force=True,
    )  # fmt: skip
    if m.format == "TD1":
        return TD1CodeGenerator(
            m.document_code, m.issuing_state, m.document_number,
            optional_data1=m.optional_data, optional_data2=m.optional_data_2, **common,
        )  # fmt: skip
    cls = TD2CodeGenerator if m.format == "TD2" else TD3CodeGenerator
    return cls(m.document_code, m.issuing_state, document_number=m.document_number,
               optional_data=m.optional_data, **common)  # fmt: skip


@st.composite
def package_compatible(draw: st.DrawFn) -> MRZ:
    """MRZs the mrz package can make: short numbers, real dates, '<' for X, '0' as the blank
    personal-number check digit, no fillers inside optional data, names that need no cut."""
    fmt = draw(st.sampled_from(["TD1", "TD2", "TD3"]))
    room = {"TD1": 15, "TD2": 7, "TD3": 14}[fmt]
    short = st.text(LETTERS, min_size=1, max_size=6)
    day = st.dates().map(lambda d: d.strftime("%y%m%d"))
    optional = draw(st.text(ALNUM, max_size=room))
    return MRZ.build(
        format=fmt,  # type: ignore[arg-type]
        document_code=("P" if fmt == "TD3" else draw(st.sampled_from("IAC")))
        + draw(st.sampled_from(["", "X", "D"])),
        issuing_state=draw(st.text(LETTERS, min_size=3, max_size=3)),
        document_number=draw(st.text(ALNUM, min_size=1, max_size=9)),
        birth_date=draw(day),
        sex=draw(st.sampled_from("MF<")),
        expiry_date=draw(day),
        nationality=draw(st.text(LETTERS, min_size=3, max_size=3)),
        surname=draw(st.text(LETTERS, min_size=1, max_size=8)),
        given_names=" ".join(draw(st.lists(short, min_size=1, max_size=2))),
        optional_data=optional,
        optional_data_2=draw(st.text(ALNUM, max_size=11)) if fmt == "TD1" else "",
        blank_optional_check="0" if fmt == "TD3" and not optional else "<",
    )


@given(package_compatible())
def test_generation_agrees_with_mrz_package(m: MRZ) -> None:
    theirs = str(_generator(m))
    assert theirs == m.encode()


@given(package_compatible())
def test_mrz_package_checker_accepts_our_check_digits(m: MRZ) -> None:
    checker = {"TD1": TD1CodeChecker, "TD2": TD2CodeChecker, "TD3": TD3CodeChecker}[m.format]
    report = checker(m.encode()).report
    assert not [item for item in report.falses if "hash" in item[0]]
    fields = checker(m.encode()).fields()
    assert fields.document_number == m.document_number
    assert fields.surname == m.surname and fields.name == m.given_names
