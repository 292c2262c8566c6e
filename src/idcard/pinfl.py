"""PINFL, the personal identification number of a natural person of Uzbekistan (JShShIR).

Fourteen digits: digit 1 gives century and sex (1/2 male/female born in the 1800s, 3/4 in the
1900s, 5/6 in the 2000s), digits 2-7 the date of birth as DDMMYY, 8-10 a place code, 11-13 a
serial number, and digit 14 a check digit: the sum of digits 1-13 weighted 7, 3, 1 (repeating),
modulo 10. The Uzbek ID card carries it in TD1 line 1 positions 16-29 (the optional data); the
older passport (TD3) in the personal number field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from idcard.errors import EncodeError, PINFLError

if TYPE_CHECKING:
    from idcard.mrz.model import MRZ

__all__ = ["PINFL", "check_against_mrz", "pinfl_check_digit", "validate_pinfl"]

_WEIGHTS = (7, 3, 1)
# First digit → (century start, sex).
_CENTURY_SEX = {
    "1": (1800, "M"), "2": (1800, "F"),
    "3": (1900, "M"), "4": (1900, "F"),
    "5": (2000, "M"), "6": (2000, "F"),
}  # fmt: skip


def pinfl_check_digit(digits: str) -> str:
    """Check digit of the first 13 digits of a PINFL (weights 7, 3, 1; mod 10)."""
    return str(sum(int(d) * _WEIGHTS[i % 3] for i, d in enumerate(digits[:13])) % 10)


@dataclass(frozen=True, slots=True)
class PINFL:
    """A checked PINFL and what it says about its holder."""

    value: str
    sex: str
    birth_date: date
    place_code: str
    serial: str

    @classmethod
    def parse(cls, text: str) -> PINFL:
        """Parse and check ``text`` (14 digits); :class:`PINFLError` with the reason otherwise."""
        if not isinstance(text, str) or len(text) != 14 or not text.isascii() or not text.isdigit():
            raise PINFLError("a PINFL is exactly 14 digits")
        if text[0] not in _CENTURY_SEX:
            raise PINFLError(f"first digit {text[0]} is not a century/sex code 1-6", offset=0)
        century, sex = _CENTURY_SEX[text[0]]
        try:
            birth = date(century + int(text[5:7]), int(text[3:5]), int(text[1:3]))
        except ValueError:
            raise PINFLError("digits 2-7 are not a date of birth DDMMYY", offset=1) from None
        expected = pinfl_check_digit(text)
        if text[13] != expected:
            raise PINFLError("check digit does not match digits 1-13", offset=13)
        return cls(value=text, sex=sex, birth_date=birth, place_code=text[7:10], serial=text[10:13])

    @classmethod
    def build(cls, sex: str, birth_date: date, place_code: str, serial: str) -> PINFL:
        """The PINFL with its check digit; :class:`EncodeError` for values it cannot hold."""
        if sex not in ("M", "F"):
            raise EncodeError("sex must be 'M' or 'F'")
        if not 1800 <= birth_date.year <= 2099:
            raise EncodeError("a PINFL holds birth years 1800-2099")
        for name, value in (("place_code", place_code), ("serial", serial)):
            if len(value) != 3 or not value.isascii() or not value.isdigit():
                raise EncodeError(f"{name} must be 3 digits")
        first = {(c, s): d for d, (c, s) in _CENTURY_SEX.items()}[
            (birth_date.year // 100 * 100, sex)
        ]
        body = first + birth_date.strftime("%d%m") + f"{birth_date.year % 100:02d}"
        body += place_code + serial
        return cls.parse(body + pinfl_check_digit(body))

    def __str__(self) -> str:
        return self.value


def validate_pinfl(text: str) -> str | None:
    """The reason ``text`` is not a valid PINFL, or None when it is."""
    try:
        PINFL.parse(text)
    except PINFLError as exc:
        return exc.reason
    return None


def pinfl_of(mrz: MRZ) -> str | None:
    """The PINFL field of an Uzbek MRZ: TD1 optional data or TD3 personal number."""
    if mrz.format in ("TD1", "TD3") and mrz.optional_data:
        return mrz.optional_data
    return None


def check_against_mrz(mrz: MRZ) -> list[str]:
    """Problems between the PINFL in ``mrz`` and its date of birth and sex (empty if none)."""
    text = pinfl_of(mrz)
    where = "personal number" if mrz.format == "TD3" else "optional data"
    if text is None:
        return [f"no PINFL in the {where}"]
    try:
        pinfl = PINFL.parse(text)
    except PINFLError as exc:
        return [f"PINFL in the {where}: {exc.reason}"]
    problems = []
    if pinfl.birth_date.strftime("%y%m%d") != mrz.birth_date:
        problems.append(
            f"PINFL birth date {pinfl.birth_date.isoformat()} does not match MRZ {mrz.birth_date}"
        )
    if pinfl.sex != mrz.sex:
        problems.append(f"PINFL sex {pinfl.sex} does not match MRZ sex {mrz.sex}")
    return problems
