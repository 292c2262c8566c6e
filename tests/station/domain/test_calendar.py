"""Deadlines in Uzbekistan's working days (scheme, line 162: "Hujjatlar to‘liq qabul qilib
olingandan so‘ng bir ish kuni mobaynida"; lines 207-208: "tiklash yoki almashtirish uchun ariza
berilgan kundan boshlab besh ish kuni ichida").

Dates are real ones of holidays 0.109's calendar for UZ (checked in the first test): 8 December
Constitution Day; 31 December 2026 a day off in exchange for the working Saturday 12 December
2026; 9 May 2026 (a Saturday) observed on Monday 11 May; 30-31 December 2024 and 2 January 2025
days off, Saturdays 14 December 2024 and 4 January 2025 working.
"""

from __future__ import annotations

from datetime import date

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from station.domain.calendar import WorkCalendar, is_overdue
from station.domain.errors import DeadlineError
from station.domain.grounds import GROUND_RULES, Ground

CAL = WorkCalendar()
RESTORE, ISSUE = Ground.LOST, Ground.TURNED_16  # five working days; one working day


def test_the_calendar_the_cases_rest_on() -> None:
    uz = holidays.country_holidays("UZ", years=range(2024, 2028))
    for day in (date(2026, 12, 8), date(2026, 12, 31), date(2027, 1, 1), date(2026, 5, 11),
                date(2024, 12, 30), date(2024, 12, 31), date(2025, 1, 1), date(2025, 1, 2),
                date(2026, 5, 27), date(2026, 5, 28), date(2026, 5, 29), date(2024, 4, 12)):
        assert day in uz, day
    assert {date(2024, 4, 13), date(2024, 12, 14), date(2025, 1, 4), date(2026, 12, 12)} <= set(
        uz.weekend_workdays)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 12, 4), True),  # Friday
        (date(2026, 12, 5), False),  # Saturday
        (date(2026, 12, 6), False),  # Sunday
        (date(2026, 12, 8), False),  # Tuesday, Constitution Day
        (date(2026, 12, 12), True),  # Saturday moved to a working day
        (date(2026, 12, 31), False),  # Thursday off in exchange
        (date(2026, 5, 11), False),  # Monday, observed Day of Memory and Honor
        (date(2024, 1, 6), True),  # Saturday moved to a working day
        (date(2024, 1, 2), False),  # Tuesday off in exchange
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


@pytest.mark.parametrize(
    ("accepted", "ground", "due"),
    [
        # an application on a Friday
        (date(2026, 12, 4), ISSUE, date(2026, 12, 7)),
        (date(2026, 12, 4), RESTORE, date(2026, 12, 12)),  # 7, 9, 10, 11, Saturday 12
        # before a holiday (Tuesday 8 December)
        (date(2026, 12, 7), ISSUE, date(2026, 12, 9)),
        (date(2026, 12, 7), RESTORE, date(2026, 12, 14)),  # 9, 10, 11, 12, 14
        # before an observed day (Saturday 9 May observed on Monday 11 May)
        (date(2026, 5, 8), ISSUE, date(2026, 5, 12)),
        (date(2025, 3, 7), ISSUE, date(2025, 3, 11)),  # Saturday 8 March observed Monday 10
        (date(2027, 3, 19), ISSUE, date(2027, 3, 23)),  # Sunday 21 March observed Monday 22
        # across New Year
        (date(2026, 12, 30), ISSUE, date(2027, 1, 4)),  # 31 Dec off, 1 Jan, weekend
        (date(2026, 12, 30), RESTORE, date(2027, 1, 8)),
        (date(2024, 12, 27), ISSUE, date(2025, 1, 3)),  # 30, 31 Dec, 1, 2 Jan off
        (date(2024, 12, 27), RESTORE, date(2025, 1, 8)),  # 3, Saturday 4, 6, 7, 8
        # on and to a moved working Saturday
        (date(2026, 12, 11), ISSUE, date(2026, 12, 12)),
        (date(2026, 12, 12), ISSUE, date(2026, 12, 14)),
        (date(2024, 12, 13), ISSUE, date(2024, 12, 14)),
        (date(2024, 4, 9), ISSUE, date(2024, 4, 13)),  # Eid 10, decree 11, off 12, Saturday 13
        # a run of decree days off (Eid al-Adha 27 May 2026 and 28-29 May)
        (date(2026, 5, 26), ISSUE, date(2026, 6, 1)),
        # accepted on a day off: the next working day counts as the first
        (date(2026, 12, 6), ISSUE, date(2026, 12, 7)),
    ],
)
def test_due_date(accepted: date, ground: Ground, due: date) -> None:
    assert CAL.due_date(ground, accepted_on=accepted) == due
    n = GROUND_RULES[ground].working_days
    assert CAL.working_days_between(accepted, due) == n


@pytest.mark.parametrize("ground", list(Ground))
def test_due_date_by_stage(ground: Ground) -> None:
    # Friday 4 December 2026: stage 4 → Monday 7; stage 6 → Saturday 12 (a working one)
    restoration = ground in {Ground.LOST, Ground.UNUSABLE, Ground.DATA_CHANGED,
                             Ground.DATA_ERROR}
    expected = date(2026, 12, 12) if restoration else date(2026, 12, 7)
    assert CAL.due_date(ground.value, accepted_on=date(2026, 12, 4)) == expected


@given(st.dates(date(2024, 1, 1), date(2027, 12, 31)), st.integers(1, 15))
def test_add_working_days_lands_on_the_nth_working_day(day: date, n: int) -> None:
    due = CAL.add_working_days(day, n)
    assert due > day and CAL.is_working_day(due)
    assert CAL.working_days_between(day, due) == n
    assert CAL.working_days_between(due, day) == -n
    if n > 1:
        assert CAL.add_working_days(day, n - 1) < due


def test_working_days_between() -> None:
    assert CAL.working_days_between(date(2026, 12, 4), date(2026, 12, 4)) == 0
    assert CAL.working_days_between(date(2026, 12, 4), date(2026, 12, 13)) == 5
    assert CAL.working_days_between(date(2026, 12, 28), date(2027, 1, 4)) == 3  # 29, 30, 4


def test_overdue() -> None:
    due = date(2026, 12, 7)
    assert not is_overdue(due, date(2026, 12, 7))
    assert is_overdue(due, date(2026, 12, 8))
    assert not CAL.is_overdue(due, date(2026, 12, 4))


@pytest.mark.parametrize("n", [0, -1, 367, True])
def test_bad_counts(n: int) -> None:
    with pytest.raises(DeadlineError) as info:
        CAL.add_working_days(date(2026, 12, 4), n)
    assert info.value.field == "working_days"


@pytest.mark.parametrize("day", [date(1991, 12, 31), date(2101, 1, 1)])
def test_outside_the_calendar(day: date) -> None:
    with pytest.raises(DeadlineError) as info:
        CAL.is_working_day(day)
    assert info.value.field == "day" and "1992-2100" in info.value.reason


def test_a_fresh_calendar_and_an_injected_one() -> None:
    # built inside the test (CAL is built at import time)
    assert WorkCalendar().due_date(RESTORE, accepted_on=date(2026, 12, 4)) == date(2026, 12, 12)
    # another country's calendar, injected: Kazakhstan has no working Saturday on 12 Dec 2026
    kz = WorkCalendar(holidays.country_holidays("KZ"))
    assert not kz.is_working_day(date(2026, 12, 12))
    assert kz.is_working_day(date(2026, 12, 8))


def test_count_and_year_limits() -> None:
    cal = WorkCalendar()
    assert cal.add_working_days(date(2026, 1, 1), 366) > date(2027, 1, 1)
    with pytest.raises(DeadlineError) as info:
        cal.add_working_days(date(2026, 12, 4), 367)
    assert info.value.reason == "367 is not 1-366"
    assert cal.is_working_day(date(1992, 1, 3)) and cal.is_working_day(date(2100, 12, 31))
    with pytest.raises(DeadlineError) as info:
        cal.is_working_day(date(1991, 12, 31))
    assert info.value.reason == "1991-12-31 is outside the working-day calendar (1992-2100)"


def test_span_limit() -> None:
    cal = WorkCalendar()
    start = date(2026, 1, 1)
    assert cal.working_days_between(start, date.fromordinal(start.toordinal() + 732)) > 400
    with pytest.raises(DeadlineError) as info:
        cal.working_days_between(start, date.fromordinal(start.toordinal() + 733))
    assert info.value.field == "day"
    assert info.value.reason == "2026-01-01 to 2028-01-04 is too long a span"


def test_the_day_of_an_instant_is_tashkents() -> None:
    """At 19:00 UTC it is already tomorrow in Tashkent (UTC+5): the point's dates and the
    Center's issue date are the same day."""
    from datetime import UTC, datetime

    from station.domain.calendar import local_day

    assert local_day(datetime(2026, 12, 4, 18, 59, 59, tzinfo=UTC)) == date(2026, 12, 4)
    assert local_day(datetime(2026, 12, 4, 19, 0, tzinfo=UTC)) == date(2026, 12, 5)
    with pytest.raises(DeadlineError) as err:
        local_day(datetime(2026, 12, 4, 12, 0))
    assert err.value.field == "now"
