"""Legal rules of ID card issuance that the station applies.

Source: the ID-card issuance scheme (shared/seeds/id-card-issuance-scheme.uz.txt, lines 8-12):
"ID-karta ma’lumotlarni yig‘ish punkti tomonidan fuqarolarga quyidagi muddatlarga beriladi:
yangi tug‘ilgan bolaga bir yoshgacha ikki yil muddatga …; bir yoshdan 16 yoshgacha — 5 yil
muddatga …; 16 yoshdan — 10 yil muddatga." (newborn under one year: 2 years; from one to 16:
5 years; from 16: 10 years — the age taken on the day of issue).
"""

from __future__ import annotations

from datetime import date, timedelta

from station.errors import StationError

__all__ = ["age_on", "expiry_date", "validity_years"]


def age_on(birth_date: date, on: date) -> int:
    """Full years of age on a given day (a person born on 29 February ages on 1 March)."""
    if on < birth_date:
        raise StationError("the day of issue is before the date of birth")
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def validity_years(birth_date: date, issue_date: date) -> int:
    """Validity of a card by the holder's age on the day of issue (scheme, lines 10-12)."""
    age = age_on(birth_date, issue_date)
    if age < 1:
        return 2
    if age < 16:
        return 5
    return 10


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year: the period ends with 28 February
        return date(day.year + years, 3, 1)


def expiry_date(birth_date: date, issue_date: date) -> date:
    """Last day of validity: a period of N years that starts on the day of issue ends on the day
    before its N-th anniversary (N from :func:`validity_years`)."""
    return _add_years(issue_date, validity_years(birth_date, issue_date)) - timedelta(days=1)
