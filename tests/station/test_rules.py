"""Validity by age on the day of issue (issuance scheme, lines 8-12)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from idcard.errors import IdkartaError
from idcard.pinfl import PINFL
from station.applicant import Applicant, ApplicantError, sample_applicant
from station.card_data import CardKeys, build_card_data
from station.cli.demo import run_demo
from station.errors import StationError
from station.rules import (
    age_on,
    applicant_problems,
    check_applicant,
    expiry_date,
    validity_years,
)


@pytest.mark.parametrize(
    ("birth", "issue", "years"),
    [
        (date(2026, 5, 1), date(2026, 11, 20), 2),  # newborn under one year
        (date(2025, 11, 21), date(2026, 11, 20), 2),  # one day before the first birthday
        (date(2025, 11, 20), date(2026, 11, 20), 5),  # one year old that day
        (date(2010, 11, 21), date(2026, 11, 20), 5),  # 15, turns 16 tomorrow
        (date(2010, 11, 20), date(2026, 11, 20), 10),  # 16 that day
        (date(1990, 3, 15), date(2026, 11, 20), 10),
    ],
)
def test_validity_by_age(birth: date, issue: date, years: int) -> None:
    assert validity_years(birth, issue) == years


def test_expiry_is_day_before_anniversary() -> None:
    assert expiry_date(date(1990, 3, 15), date(2026, 11, 20)) == date(2036, 11, 19)
    assert expiry_date(date(2026, 1, 1), date(2028, 2, 29)) == date(2033, 2, 28)


def test_leap_day_birthday_ages_on_first_of_march() -> None:
    assert age_on(date(2008, 2, 29), date(2024, 2, 28)) == 15
    assert age_on(date(2008, 2, 29), date(2024, 2, 29)) == 16


def test_issue_before_birth_is_refused() -> None:
    with pytest.raises(StationError):
        validity_years(date(2026, 1, 2), date(2026, 1, 1))


@given(st.dates(date(1900, 1, 1), date(2030, 1, 1)), st.integers(0, 40000))
def test_expiry_after_issue_and_within_ten_years(birth: date, days: int) -> None:
    from datetime import timedelta

    issue = birth + timedelta(days=days)
    end = expiry_date(birth, issue)
    assert issue < end
    assert (end - issue).days < 10 * 366


# Issue 9 item 13: the application is checked before anything is signed, the error names the field.

SAMPLE = sample_applicant()
TODAY = date(2026, 12, 4)


def _with(**changes: object) -> Applicant:
    doc_changes = {k[4:]: v for k, v in changes.items() if k.startswith("doc_")}
    rest = {k: v for k, v in changes.items() if not k.startswith("doc_")}
    return replace(SAMPLE, document=replace(SAMPLE.document, **doc_changes), **rest)


def test_sample_applicant_is_accepted() -> None:
    assert applicant_problems(SAMPLE, today=TODAY) == []
    check_applicant(SAMPLE, today=TODAY)


@pytest.mark.parametrize(
    ("changes", "field", "needle"),
    [
        ({"birth_date": date(1990, 3, 16)}, "pinfl", "born 1990-03-15, birth_date is 1990-03-16"),
        ({"sex": "F"}, "pinfl", "sex M, sex is F"),
        ({"sex": "X"}, "sex", "'M' or 'F'"),
        ({"can": "12"}, "can", "6 digits"),
        ({"can": "12345a"}, "can", "6 digits"),
        ({"can": "1234567"}, "can", "6 digits"),
        ({"can": ""}, "can", "6 digits"),
        ({"doc_issue_date": date(2030, 1, 1)}, "document.issue_date", "after today, 2026-12-04"),
        ({"doc_issue_date": date(1990, 3, 15)}, "birth_date", "not before the issue date"),
        ({"doc_document_code": "ID"}, "document.type", "not IU"),
        ({"doc_series": "A1"}, "document.series", "2 letters"),
        ({"doc_number": "123456"}, "document.number", "7 digits"),
        ({"nationality": "RUS"}, "nationality", "not UZB"),
        ({"doc_issuing_state": "KAZ"}, "document.issuing_state", "not UZB"),
        ({"surname": "Gʻulomov@"}, "surname", "U+0040"),
        ({"given_names": "Oʻtkir©"}, "given_names", "U+00A9"),
        ({"surname": " "}, "surname", "empty"),
    ],
)
def test_each_problem_is_refused_naming_the_field(
    changes: dict[str, object], field: str, needle: str
) -> None:
    applicant = _with(**changes)
    with pytest.raises(ApplicantError) as info:
        check_applicant(applicant, today=TODAY)
    assert info.value.field == field
    assert needle in info.value.reason
    assert str(info.value).startswith(f"{field}: ")
    assert isinstance(info.value, IdkartaError)


def test_issue_date_today_is_accepted_and_can_is_never_shown() -> None:
    check_applicant(_with(doc_issue_date=TODAY), today=TODAY)
    with pytest.raises(ApplicantError) as info:
        check_applicant(_with(can="98765"), today=TODAY)
    assert "98765" not in str(info.value)


def test_every_problem_is_listed() -> None:
    with pytest.raises(ApplicantError) as info:
        check_applicant(_with(can="1", doc_number="1"), today=TODAY)
    assert [f for f, _ in info.value.problems] == ["can", "document.number"]
    assert "1 more problem" in str(info.value)


def test_build_card_data_refuses_before_building() -> None:
    with pytest.raises(ApplicantError, match=r"^pinfl: "):
        build_card_data(_with(birth_date=date(1991, 3, 15)), CardKeys.generate(), today=TODAY)


@settings(max_examples=40, deadline=None)
@given(
    pinfl_sex=st.sampled_from("MF"),
    pinfl_birth=st.dates(date(1900, 1, 1), date(2025, 12, 31)),
    sex=st.sampled_from("MF"),
    birth=st.dates(date(1900, 1, 1), date(2025, 12, 31)),
    serial=st.integers(0, 999),
)
def test_contradicting_pinfl_is_refused_before_any_file_is_written(
    pinfl_sex: str, pinfl_birth: date, sex: str, birth: date, serial: int
) -> None:
    assume((pinfl_sex, pinfl_birth) != (sex, birth))
    pinfl = PINFL.build(pinfl_sex, pinfl_birth, "262", f"{serial:03d}")
    applicant = _with(pinfl=pinfl, sex=sex, birth_date=birth)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        with pytest.raises(ApplicantError) as info:
            run_demo(out, applicant)
        assert info.value.field == "pinfl"
        assert not out.exists()
