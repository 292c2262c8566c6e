"""The name field of the MRZ (ICAO Doc 9303 Part 3 §4.6; Parts 4, 5, 6 give its length).

The field holds the primary identifier (surname), ``<<``, then the secondary identifiers (given
names) separated by ``<``, padded with ``<``. In this library names are held in MRZ characters
with one space where the field has ``<`` between components.

Truncation (:func:`truncate_name`) — the deterministic rule implemented here, following the
Part 3 §4.6 principles (the primary identifier is kept whole when possible; characters are
removed from the end; a letter in the last position signals a possible truncation):

1. If ``SURNAME<<GIVEN<NAMES`` fits, nothing is truncated.
2. Else, if the surname, ``<<`` and at least one character of the given names fit, the given
   names are cut at the end of the field.
3. Else the surname is cut at the end of the field and the given names are omitted.

After the cut, fillers left at the end (a cut that fell on a name boundary) are removed, so a
name never ends with a dangling separator; when the cut falls inside a name, the last position
of the field carries a letter.
"""

from __future__ import annotations

from idcard.errors import EncodeError

__all__ = ["decode_name", "encode_name", "truncate_name"]


def _mrz_form(surname: str, given_names: str) -> str:
    primary = surname.replace(" ", "<")
    if not given_names:
        return primary
    return primary + "<<" + given_names.replace(" ", "<")


def encode_name(surname: str, given_names: str, length: int) -> str:
    """The name field of ``length`` characters; :class:`EncodeError` if the names do not fit."""
    text = _mrz_form(surname, given_names)
    if len(text) > length:
        raise EncodeError(f"name is {len(text)} characters, the field holds {length}")
    return text.ljust(length, "<")


def decode_name(field: str) -> tuple[str, str]:
    """``(surname, given_names)`` of a name field, ``<`` inside each part read as a space.

    The surname ends at the first ``<<``; the given names are the rest without the trailing
    fillers. This is lossless: :func:`encode_name` of the result gives ``field`` back.
    """
    split = field.find("<<")
    if split < 0:
        return field.rstrip("<").replace("<", " "), ""
    surname = field[:split].replace("<", " ")
    given = field[split + 2 :].rstrip("<").replace("<", " ")
    return surname, given


def truncate_name(surname: str, given_names: str, length: int) -> tuple[str, str]:
    """Names (MRZ characters, spaces between components) cut to fit a field of ``length``."""
    text = _mrz_form(surname, given_names)
    if len(text) <= length:
        return surname, given_names
    primary = surname.replace(" ", "<")
    cut = text[:length] if len(primary) + 3 <= length else primary[:length]
    return decode_name(cut.rstrip("<"))
