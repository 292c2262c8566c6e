"""Composing a PINFL for a person who has none (scheme, stage 3 a).

Scheme, lines 129-131: "arizachida jismoniy shaxsning shaxsiy identifikatsiya raqami mavjud
bo‘lmagan holda: jismoniy shaxsning shaxsiy identifikatsiya raqamini shakllantiradi" (no PINFL:
the Center forms one). Its layout and check digit are :mod:`idcard.pinfl`'s (digit 1 century and
sex, 2-7 DDMMYY, 8-10 place code, 11-13 serial, 14 check digit); this module only chooses the
parts. The serial comes from the Center's registry (one counter per day-and-place block).
"""

from __future__ import annotations

import re
from datetime import date

from idcard.pinfl import PINFL
from station.domain.errors import DomainError

__all__ = ["MAX_SERIAL", "century_sex_digit", "compose_pinfl", "pinfl_prefix"]

MAX_SERIAL = 999
"""Serials are digits 11-13: 001-999 per birth date, sex/century and place code."""

_PLACE = re.compile(r"[0-9]{3}")


def century_sex_digit(sex: str, birth_date: date) -> str:
    """Digit 1 of the PINFL: 1/2 male/female born 1800-1899, 3/4 1900-1999, 5/6 2000-2099."""
    if sex not in ("M", "F"):
        raise DomainError("person.sex", f"must be 'M' or 'F', not {sex!r}")
    if not 1800 <= birth_date.year <= 2099:
        raise DomainError("person.birth_date",
                          f"a PINFL holds birth years 1800-2099, not {birth_date.year}")
    return str(2 * (birth_date.year // 100 - 18) + (1 if sex == "M" else 2))


def pinfl_prefix(*, sex: str, birth_date: date, place_code: str) -> str:
    """Digits 1-10 (the block a serial is counted in): century/sex, DDMMYY, place code."""
    if not (isinstance(place_code, str) and _PLACE.fullmatch(place_code)):
        raise DomainError("place_code", f"{place_code!r} is not 3 digits")
    return century_sex_digit(sex, birth_date) + birth_date.strftime("%d%m") + (
        f"{birth_date.year % 100:02d}") + place_code


def compose_pinfl(*, sex: str, birth_date: date, place_code: str, serial: int) -> str:
    """The 14-digit PINFL of the given parts, with its check digit (``idcard.pinfl``)."""
    pinfl_prefix(sex=sex, birth_date=birth_date, place_code=place_code)  # names a bad part
    if isinstance(serial, bool) or not isinstance(serial, int) or not 1 <= serial <= MAX_SERIAL:
        raise DomainError("serial", f"{serial!r} is not a serial 1-{MAX_SERIAL}")
    return PINFL.build(sex, birth_date, place_code, f"{serial:03d}").value
