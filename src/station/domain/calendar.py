"""Working days of Uzbekistan and the handover deadlines of the scheme.

Scheme, stage 4 (line 162): the card is handed over "Hujjatlar to‘liq qabul qilib olingandan
so‘ng bir ish kuni mobaynida" (within one working day after all documents were accepted); stage 6
(lines 207-208): a restored or replaced card "ID-kartani tiklash yoki almashtirish uchun ariza
berilgan kundan boshlab besh ish kuni ichida" (within five working days of the application).

Working days: Monday to Friday, less the public holidays of ``holidays.country_holidays("UZ")``
(fixed and Islamic holidays, observed days, days off by presidential decree), plus the Saturdays
a decree moved to working days (its ``weekend_workdays``). Decree days of years the library does
not list yet are not known.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from station.domain.errors import DeadlineError
from station.domain.grounds import Ground, rule

if TYPE_CHECKING:
    import holidays

__all__ = ["TASHKENT", "WorkCalendar", "is_overdue", "local_day"]

TASHKENT = timezone(timedelta(hours=5), "UZT")
"""Uzbekistan's time (UTC+5, no daylight saving since 1992): the day of an instant, for the
point's and the Center's dates alike, is the day in Tashkent."""


def local_day(at: datetime) -> date:
    """The day in Uzbekistan of the aware instant ``at`` (a naive one is refused: its day is
    unknown)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise DeadlineError("now", "a time without its zone (naive) has no known day")
    return at.astimezone(TASHKENT).date()

_MAX_WORKING_DAYS = 366  # far beyond any deadline of the scheme


def is_overdue(due: date, today: date) -> bool:
    """A card not handed over by ``due`` is overdue from the next day on."""
    return due < today


class WorkCalendar:
    """Uzbekistan's working days (``holidays``' calendar for UZ). Safe to share between
    threads: the library fills its years lazily, so every look-up holds a lock."""

    def __init__(self, days: holidays.HolidayBase | None = None) -> None:
        if days is None:
            import holidays  # imported here: local_day's users need no holiday tables

            days = holidays.country_holidays("UZ")
        self._days = days
        self._lock = threading.Lock()

    def is_working_day(self, day: date) -> bool:
        """Monday-Friday and not a holiday, or a Saturday moved to a working day."""
        self._check_year(day)
        with self._lock:
            holiday = day in self._days  # fills the year (and its weekend_workdays) first
            if day.weekday() >= 5:
                return day in self._days.weekend_workdays
            return not holiday

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``day`` itself is not counted)."""
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= _MAX_WORKING_DAYS:
            raise DeadlineError("working_days", f"{n!r} is not 1-{_MAX_WORKING_DAYS}")
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            counted += self.is_working_day(day)
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Working days after ``a`` up to and including ``b`` (negative when ``b`` is before
        ``a``): ``working_days_between(d, add_working_days(d, n)) == n``."""
        if b < a:
            return -self.working_days_between(b, a)
        if (b - a).days > 2 * _MAX_WORKING_DAYS:
            raise DeadlineError("day", f"{a.isoformat()} to {b.isoformat()} is too long a span")
        return sum(self.is_working_day(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))

    def due_date(self, ground: Ground | str, *, accepted_on: date) -> date:
        """The last day to hand the card over: five working days after the application on a
        restoration ground (stage 6, lines 207-208), else one working day after all documents
        were accepted (stage 4, line 162)."""
        return self.add_working_days(accepted_on, rule(ground).working_days)

    @staticmethod
    def is_overdue(due: date, today: date) -> bool:
        return is_overdue(due, today)

    def _check_year(self, day: date) -> None:
        first, last = self._days.start_year, self._days.end_year
        if not first <= day.year <= last:
            raise DeadlineError("day", f"{day.isoformat()} is outside the working-day calendar "
                                f"({first}-{last})")
