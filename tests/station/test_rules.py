"""Validity by age on the day of issue (issuance scheme, lines 8-12)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from station.errors import StationError
from station.rules import age_on, expiry_date, validity_years


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
