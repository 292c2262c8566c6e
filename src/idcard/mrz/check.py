"""The MRZ check digit (ICAO Doc 9303 Part 3 §4.9): weights 7-3-1, mod 10."""

from __future__ import annotations

from idcard.errors import MRZError

__all__ = ["check_digit", "char_value"]

_WEIGHTS = (7, 3, 1)
_VALUES = {ch: n for n, ch in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")} | {"<": 0}
"""Part 3 §4.9: digits as is, A-Z as 10-35, the filler '<' as 0; nothing else has a value."""


def char_value(ch: str) -> int:
    """Value of one MRZ character: 0-9 as is, A-Z as 10-35, the filler '<' as 0.

    Anything else (lower case, other characters, a string that is not one character) raises
    :class:`MRZError`.
    """
    value = _VALUES.get(ch) if isinstance(ch, str) else None
    if value is None:
        raise MRZError(f"character {ch!r} is not in the MRZ alphabet")
    return value


def check_digit(text: str) -> str:
    """The check digit of ``text`` as one character '0'..'9'; :class:`MRZError` when ``text``
    has a character outside the MRZ alphabet."""
    total = 0
    for i, ch in enumerate(text):
        total += char_value(ch) * _WEIGHTS[i % 3]
    return str(total % 10)
