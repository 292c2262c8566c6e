"""The MRZ check digit (ICAO Doc 9303 Part 3 §4.9): weights 7-3-1, mod 10."""

from __future__ import annotations

from idcard.errors import MRZError

__all__ = ["check_digit", "char_value"]

_WEIGHTS = (7, 3, 1)


def char_value(ch: str) -> int:
    """Value of one MRZ character: 0-9 as is, A-Z as 10-35, the filler '<' as 0."""
    if "0" <= ch <= "9":
        return ord(ch) - 48
    if "A" <= ch <= "Z":
        return ord(ch) - 55
    if ch == "<":
        return 0
    raise MRZError(f"character {ch!r} is not in the MRZ alphabet")


def check_digit(text: str) -> str:
    """The check digit of ``text`` as one character '0'..'9'."""
    total = 0
    for i, ch in enumerate(text):
        total += char_value(ch) * _WEIGHTS[i % 3]
    return str(total % 10)
