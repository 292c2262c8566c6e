"""Legal rules of ID card issuance that the station applies.

Source: the ID-card issuance scheme (shared/seeds/id-card-issuance-scheme.uz.txt, lines 8-12):
"ID-karta ma’lumotlarni yig‘ish punkti tomonidan fuqarolarga quyidagi muddatlarga beriladi:
yangi tug‘ilgan bolaga bir yoshgacha ikki yil muddatga …; bir yoshdan 16 yoshgacha — 5 yil
muddatga …; 16 yoshdan — 10 yil muddatga." (newborn under one year: 2 years; from one to 16:
5 years; from 16: 10 years — the age taken on the day of issue).

Before anything is signed, :func:`check_applicant` checks an application against itself (scheme,
stage 3: the PINFL "is correct"): the PINFL against the date of birth and sex, the Uzbek TD1
profile, the 6-digit CAN, the dates. The CLI, the demo and any issuance service call it; a
refusal is an :class:`ApplicantError` naming the field.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from idcard.errors import EncodeError
from idcard.mrz import MRZ, build_uzbek_id_card, transliterate, uzbek_profile_problems
from station.applicant import Applicant, ApplicantError
from station.domain.calendar import local_day
from station.errors import StationError

__all__ = [
    "ApplicantError",
    "age_on",
    "applicant_problems",
    "card_mrz",
    "check_applicant",
    "expiry_date",
    "validity_years",
]

_CAN = re.compile(r"[0-9]{6}")
_SERIES = re.compile(r"[A-Z]{2}")
_NUMBER = re.compile(r"[0-9]{7}")


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


def card_mrz(applicant: Applicant) -> MRZ:
    """The TD1 MRZ of the applicant's card (validity by age on the day of issue)."""
    doc = applicant.document
    return build_uzbek_id_card(
        document_number=doc.document_number,
        pinfl=applicant.pinfl.value,
        birth_date=applicant.birth_date,
        sex=applicant.sex,
        expiry_date=expiry_date(applicant.birth_date, doc.issue_date),
        surname=applicant.surname,
        given_names=applicant.given_names,
        document_code=doc.document_code,
    )


def applicant_problems(applicant: Applicant, *, today: date) -> list[tuple[str, str]]:
    """Every (field, reason) that stops a card being issued for ``applicant`` on ``today``."""
    problems: list[tuple[str, str]] = []
    doc, pinfl = applicant.document, applicant.pinfl
    # The PINFL "is correct" (scheme, stage 3): its digits 1-7 give the sex and date of birth.
    if applicant.sex not in ("M", "F"):
        problems.append(("sex", f"must be 'M' or 'F', not {applicant.sex!r}"))
    elif pinfl.sex != applicant.sex:
        problems.append(("pinfl", f"its first digit says sex {pinfl.sex}, sex is {applicant.sex}"))
    if pinfl.birth_date != applicant.birth_date:
        problems.append((
            "pinfl",
            f"its digits 2-7 say born {pinfl.birth_date.isoformat()}, "
            f"birth_date is {applicant.birth_date.isoformat()}",
        ))
    if not (isinstance(applicant.can, str) and _CAN.fullmatch(applicant.can)):
        problems.append(("can", "the card access number is exactly 6 digits"))  # value not shown
    if doc.issue_date > today:
        problems.append(
            ("document.issue_date", f"{doc.issue_date.isoformat()} is after today, "
             f"{today.isoformat()}")
        )
    if applicant.birth_date >= doc.issue_date:
        problems.append(
            ("birth_date", f"{applicant.birth_date.isoformat()} is not before the issue date "
             f"{doc.issue_date.isoformat()}")
        )
    # The Uzbek ID card profile (TD1): idcard.mrz.uzbek, field by field of the application.
    if doc.document_code not in ("IU", "I"):
        problems.append(("document.type", f"{doc.document_code!r} is not IU (or I)"))
    if not _SERIES.fullmatch(doc.series):
        problems.append(("document.series", f"{doc.series!r} is not 2 letters A-Z"))
    if not _NUMBER.fullmatch(doc.number):
        problems.append(("document.number", f"{doc.number!r} is not 7 digits"))
    for name, value in (("nationality", applicant.nationality),
                        ("document.issuing_state", doc.issuing_state)):  # fmt: skip
        if value != "UZB":
            problems.append((name, f"{value!r} is not UZB"))
    for name, value in (("surname", applicant.surname), ("given_names", applicant.given_names)):
        try:
            transliterate(value, "uz")
        except EncodeError as exc:
            problems.append((name, str(exc)))
    if not applicant.surname.strip():
        problems.append(("surname", "must not be empty"))
    if problems:
        return problems
    try:
        mrz = card_mrz(applicant)
    except EncodeError as exc:
        return [("mrz", str(exc))]
    return [("mrz", reason) for reason in uzbek_profile_problems(mrz)]


def check_applicant(applicant: Applicant, *, today: date | None = None) -> None:
    """Refuse (:class:`ApplicantError`) an application with any problem; ``today`` defaults to
    the day in Tashkent (:func:`station.domain.calendar.local_day`), where the card is issued."""
    problems = applicant_problems(applicant, today=today or local_day(datetime.now(UTC)))
    if problems:
        raise ApplicantError(problems)
