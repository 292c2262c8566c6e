"""The MRZ of TD1, TD2 and TD3 documents (ICAO Doc 9303 Parts 4, 5 and 6).

:class:`MRZ` parses text (lines joined by newlines, or one string of 90/72/88 characters),
validates every check digit (Part 3 §4.9) and encodes back to exactly the same text. Long
document numbers (over 9 characters) of TD1 and TD2 overflow into the optional data field with
``<`` in the document number's check-digit position (Part 5 §4.2.4 note j, Part 6 §4.2.4): the
remaining characters, their check digit, then a filler. TD3 (Part 4) has no such provision.

Visas (MRV-A/B) are not supported: they have no composite check digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal

from idcard.errors import EncodeError, MRZError
from idcard.mrz.check import check_digit
from idcard.mrz.names import decode_name, encode_name, truncate_name
from idcard.mrz.translit import Language, transliterate

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["FORMATS", "MRZ", "CheckDigitError", "Format"]

Format = Literal["TD1", "TD2", "TD3"]

#: (lines, characters per line, length of the name field) for each format.
FORMATS: dict[Format, tuple[int, int, int]] = {
    "TD1": (3, 30, 30),
    "TD2": (2, 36, 31),
    "TD3": (2, 44, 39),
}

_BY_TOTAL: dict[int, Format] = {lines * width: name for name, (lines, width, _) in FORMATS.items()}
_BY_SHAPE: dict[tuple[int, int], Format] = {
    (lines, width): name for name, (lines, width, _) in FORMATS.items()
}
_ALPHABET = re.compile(r"[0-9A-Z<]*")
_NAME_CHARS = re.compile(r"[0-9A-Z ]*")

# Field positions (line, start, end) per format; used to name the field of a bad character.
_LAYOUT: dict[str, list[tuple[str, int, int, int]]] = {
    "TD1": [
        ("document_code", 0, 0, 2), ("issuing_state", 0, 2, 5), ("document_number", 0, 5, 15),
        ("optional_data", 0, 15, 30), ("birth_date", 1, 0, 7), ("sex", 1, 7, 8),
        ("expiry_date", 1, 8, 15), ("nationality", 1, 15, 18), ("optional_data_2", 1, 18, 29),
        ("composite", 1, 29, 30), ("name", 2, 0, 30),
    ],
    "TD2": [
        ("document_code", 0, 0, 2), ("issuing_state", 0, 2, 5), ("name", 0, 5, 36),
        ("document_number", 1, 0, 10), ("nationality", 1, 10, 13), ("birth_date", 1, 13, 20),
        ("sex", 1, 20, 21), ("expiry_date", 1, 21, 28), ("optional_data", 1, 28, 35),
        ("composite", 1, 35, 36),
    ],
    "TD3": [
        ("document_code", 0, 0, 2), ("issuing_state", 0, 2, 5), ("name", 0, 5, 44),
        ("document_number", 1, 0, 10), ("nationality", 1, 10, 13), ("birth_date", 1, 13, 20),
        ("sex", 1, 20, 21), ("expiry_date", 1, 21, 28), ("optional_data", 1, 28, 43),
        ("composite", 1, 43, 44),
    ],
}  # fmt: skip

# Optional-data field length: TD1 line 1 (Part 5), TD2 (Part 6), the TD3 personal number (Part 4);
# in TD1 and TD2 an overflowing document number goes there too.
_OPTIONAL_ROOM: dict[str, int] = {"TD1": 15, "TD2": 7, "TD3": 14}


class CheckDigitError(MRZError):
    """A check digit of the MRZ does not match its data; ``field`` names the checked field."""


def _strip(text: str) -> str:
    return text.rstrip("<")


def _date_text(value: str | date) -> str:
    if isinstance(value, date):
        return value.strftime("%y%m%d")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class MRZ:
    """One machine readable zone, with fields as printed (fillers at the ends removed).

    ``birth_date`` and ``expiry_date`` are ``YYMMDD`` as in the MRZ (``<`` allowed for unknown
    parts, Part 3 §4.8); ``surname`` and ``given_names`` use spaces between components.
    ``optional_data`` is TD1 line-1 optional data, TD2 optional data, or the TD3 personal number;
    ``optional_data_2`` is TD1 line-2 optional data. ``blank_optional_check`` is the TD3
    personal-number check digit used when the personal number is empty: Part 4 allows ``<`` or
    ``0`` there, and keeping which one was read makes parse/encode a byte-exact round trip.
    """

    format: Format
    document_code: str
    issuing_state: str
    document_number: str
    birth_date: str
    sex: str
    expiry_date: str
    nationality: str
    surname: str
    given_names: str = ""
    optional_data: str = ""
    optional_data_2: str = ""
    blank_optional_check: str = "<"

    def __post_init__(self) -> None:
        self._validate()

    # -- validation ---------------------------------------------------------------------------

    def _validate(self) -> None:
        if self.format not in FORMATS:
            raise EncodeError(f"format must be TD1, TD2 or TD3, not {self.format!r}")
        _, _, name_length = FORMATS[self.format]
        for name in (
            "document_code",
            "issuing_state",
            "document_number",
            "birth_date",
            "expiry_date",
            "nationality",
            "optional_data",
            "optional_data_2",
        ):
            value = getattr(self, name)
            if not isinstance(value, str) or not _ALPHABET.fullmatch(value):
                raise EncodeError(f"{name}: only A-Z, 0-9 and '<' are allowed")
        code = self.document_code
        if not 1 <= len(code) <= 2 or not code[0].isalpha() or not code[-1].isalpha():
            raise EncodeError("document_code: one letter, optionally a second letter")
        first = code[0]
        if (self.format == "TD3") != (first == "P") or first not in "IACP":
            raise EncodeError(f"document_code: {code!r} is not a {self.format} document code")
        for name in ("issuing_state", "nationality"):
            value = getattr(self, name)
            if len(value) > 3 or value.endswith("<") or any(c.isdigit() for c in value):
                raise EncodeError(f"{name}: up to 3 letters")
        for name in ("birth_date", "expiry_date"):
            if not re.fullmatch(r"[0-9<]{6}", getattr(self, name)):
                raise EncodeError(f"{name}: YYMMDD (digits, '<' for unknown parts)")
        if self.sex not in ("M", "F", "<", "X"):
            raise EncodeError("sex: 'M', 'F', 'X' or '<'")
        for name in ("surname", "given_names"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _NAME_CHARS.fullmatch(value):
                raise EncodeError(f"{name}: only A-Z, 0-9 and spaces (use MRZ.build to convert)")
        if self.surname.endswith(" ") or "  " in self.surname or self.given_names.endswith(" "):
            raise EncodeError("surname/given_names: no trailing or double spaces")
        encode_name(self.surname, self.given_names, name_length)
        if self.blank_optional_check not in ("<", "0"):
            raise EncodeError("blank_optional_check: '<' or '0'")
        if self.blank_optional_check != "<" and (self.format != "TD3" or self.optional_data):
            raise EncodeError("blank_optional_check: '0' only for an empty TD3 personal number")
        self._validate_numbers()

    def _validate_numbers(self) -> None:
        number, optional = self.document_number, self.optional_data
        if not number or number.endswith("<"):
            raise EncodeError("document_number: must not be empty or end with '<'")
        if optional.endswith("<") or self.optional_data_2.endswith("<"):
            raise EncodeError("optional_data: trailing fillers are implied")
        room = _OPTIONAL_ROOM[self.format]
        if len(number) > 9:
            if self.format == "TD3":
                raise EncodeError("document_number: TD3 holds at most 9 characters")
            overflow = number[9:]
            if "<" in overflow:
                raise EncodeError("document_number: no '<' after the 9th character")
            used = len(overflow) + 1 + (1 + len(optional) if optional else 0)
            if used > room:
                raise EncodeError("document_number: too long for the optional data field")
        elif len(optional) > room:
            raise EncodeError(f"optional_data: at most {room} characters")
        if self.format != "TD1" and self.optional_data_2:
            raise EncodeError("optional_data_2: only TD1 has a second optional data field")
        if len(self.optional_data_2) > 11:
            raise EncodeError("optional_data_2: at most 11 characters")

    # -- encoding -----------------------------------------------------------------------------

    def _number_fields(self) -> tuple[str, str]:
        """(document number field with its check digit, optional data field) for TD1/TD2."""
        room = _OPTIONAL_ROOM[self.format]
        number = self.document_number
        if len(number) <= 9:
            field = number.ljust(9, "<")
            return field + check_digit(field), self.optional_data.ljust(room, "<")
        head, overflow = number[:9], number[9:]
        optional = overflow + check_digit(number)
        if self.optional_data:
            optional += "<" + self.optional_data
        return head + "<", optional.ljust(room, "<")

    def lines(self) -> tuple[str, ...]:
        """The MRZ lines, every check digit computed."""
        name = encode_name(self.surname, self.given_names, FORMATS[self.format][2])
        code = self.document_code.ljust(2, "<")
        state = self.issuing_state.ljust(3, "<")
        nationality = self.nationality.ljust(3, "<")
        birth = self.birth_date + check_digit(self.birth_date)
        expiry = self.expiry_date + check_digit(self.expiry_date)
        if self.format == "TD1":
            number, optional = self._number_fields()
            optional_2 = self.optional_data_2.ljust(11, "<")
            line1 = code + state + number + optional
            line2 = birth + self.sex + expiry + nationality + optional_2
            composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
            return line1, line2 + check_digit(composite), name
        if self.format == "TD2":
            number, optional = self._number_fields()
            line2 = number + nationality + birth + self.sex + expiry + optional
        else:
            field = self.document_number.ljust(9, "<")
            personal = self.optional_data.ljust(_OPTIONAL_ROOM["TD3"], "<")
            personal_check = (
                check_digit(personal) if self.optional_data else (self.blank_optional_check)
            )
            line2 = (
                field
                + check_digit(field)
                + nationality
                + birth
                + self.sex
                + expiry
                + personal
                + personal_check
            )
        composite = line2[0:10] + line2[13:20] + line2[21:]
        return code + state + name, line2 + check_digit(composite)

    def encode(self) -> str:
        """The MRZ text, lines joined by ``"\\n"``."""
        return "\n".join(self.lines())

    def __str__(self) -> str:
        return self.encode()

    # -- parsing ------------------------------------------------------------------------------

    @staticmethod
    def split_lines(text: str) -> tuple[Format, list[str]]:
        """Format and lines of ``text`` (lines separated by newlines or spaces, or one string)."""
        if not isinstance(text, str):
            raise MRZError("MRZ text must be a str", field="format")
        parts = text.split()  # lines by newlines or any whitespace: the MRZ has none inside
        if len(parts) == 1:
            fmt = _BY_TOTAL.get(len(parts[0]))
            if fmt is None:
                raise MRZError(
                    f"{len(parts[0])} characters is not a TD1/TD2/TD3 MRZ", field="format"
                )
            width = FORMATS[fmt][1]
            return fmt, [parts[0][i : i + width] for i in range(0, len(parts[0]), width)]
        shape = (len(parts), len(parts[0]) if parts else 0)
        fmt = _BY_SHAPE.get(shape)
        if fmt is None or any(len(p) != shape[1] for p in parts):
            lengths = "x".join(str(len(p)) for p in parts) or "0"
            raise MRZError(
                f"lines of {lengths} characters are not a TD1/TD2/TD3 MRZ", field="format"
            )
        return fmt, parts

    @classmethod
    def parse(cls, text: str) -> MRZ:
        """Parse and check an MRZ; :class:`MRZError` (with ``field``) on any problem.

        A wrong check digit raises :class:`CheckDigitError`, naming ``document_number``,
        ``birth_date``, ``expiry_date``, ``optional_data`` (TD3 personal number) or
        ``composite``.
        """
        fmt, lines = cls.split_lines(text)
        width = FORMATS[fmt][1]
        for row, line in enumerate(lines):
            for col, ch in enumerate(line):
                if not ("0" <= ch <= "9" or "A" <= ch <= "Z" or ch == "<"):
                    raise MRZError(
                        f"character {ch!r} is not in the MRZ alphabet",
                        field=_field_at(fmt, row, col),
                        offset=row * width + col,
                    )
        if fmt == "TD1":
            return _parse_td1(lines)
        return _parse_td2_td3(fmt, lines)

    # -- building -----------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        *,
        format: Format = "TD1",
        document_code: str,
        issuing_state: str,
        document_number: str,
        birth_date: str | date,
        sex: str,
        expiry_date: str | date,
        nationality: str,
        surname: str,
        given_names: str = "",
        optional_data: str = "",
        optional_data_2: str = "",
        transliteration: Language = "icao",
        blank_optional_check: str = "<",
    ) -> MRZ:
        """An MRZ from human-entered fields: names transliterated (:mod:`idcard.mrz.translit`)
        and truncated (:mod:`idcard.mrz.names`), other fields upper-cased with spaces as ``<``.

        Raises :class:`EncodeError` for values that cannot be encoded.
        """
        length = FORMATS[format][2] if format in FORMATS else 0
        last, first = truncate_name(
            transliterate(surname, transliteration),
            transliterate(given_names, transliteration),
            length,
        )

        def field(value: str) -> str:
            return _strip(value.strip().upper().replace(" ", "<"))

        return cls(
            format=format,
            document_code=field(document_code),
            issuing_state=field(issuing_state),
            document_number=field(document_number),
            birth_date=_date_text(birth_date),
            sex=(sex.strip().upper() or "<"),
            expiry_date=_date_text(expiry_date),
            nationality=field(nationality),
            surname=last,
            given_names=first,
            optional_data=field(optional_data),
            optional_data_2=field(optional_data_2),
            blank_optional_check=blank_optional_check,
        )

    # -- dates --------------------------------------------------------------------------------

    def birth_date_iso(self, reference: date) -> date | None:
        """Date of birth with its century: the latest one not after ``reference``.

        None when the MRZ date has unknown parts or is not a calendar date.
        """
        return _with_century(self.birth_date, reference.year - 100, reference.year, reference)

    def expiry_date_iso(self, reference: date) -> date | None:
        """Date of expiry with its century: the year in ``[reference - 79, reference + 20]``.

        Documents are valid for at most 20 years ahead; anything else is taken as past. None
        when the MRZ date has unknown parts or is not a calendar date.
        """
        return _with_century(self.expiry_date, reference.year - 79, reference.year + 20, None)

    # -- profiles -----------------------------------------------------------------------------

    def uzbek_profile_problems(self) -> list[str]:
        """Reasons this MRZ does not follow the Uzbek ID card / passport profile (empty if OK)."""
        from idcard.mrz.uzbek import uzbek_profile_problems

        return uzbek_profile_problems(self)


def _with_century(text: str, low: int, high: int, not_after: date | None) -> date | None:
    if not text.isdigit():
        return None
    yy, month, day = int(text[0:2]), int(text[2:4]), int(text[4:6])
    year = high - ((high - yy) % 100)
    if year < low:
        return None
    try:
        value = date(year, month, day)
        if not_after is not None and value > not_after:
            if year - 100 < low:
                return None
            value = date(year - 100, month, day)
    except ValueError:
        return None
    return value


def _field_at(fmt: str, row: int, col: int) -> str:
    for name, line, start, end in _LAYOUT[fmt]:
        if line == row and start <= col < end:
            return name
    return "format"  # pragma: no cover - the layout covers every position


def _check(field: str, data: str, digit: str) -> None:
    if check_digit(data) != digit:
        raise CheckDigitError(f"check digit {digit!r} does not match the data", field=field)


def _parse_common(
    fmt: str, code: str, state: str, nationality: str, birth: str, sex: str, expiry: str
) -> dict[str, str]:
    if not code[0].isalpha() or code[0] not in ("P" if fmt == "TD3" else "IAC"):
        raise MRZError(f"{code!r} is not a {fmt} document code", field="document_code")
    if code[1].isdigit() or code == "<<":
        raise MRZError(f"{code!r} is not a document code", field="document_code")
    for name, value in (("issuing_state", state), ("nationality", nationality)):
        if any(c.isdigit() for c in value):
            raise MRZError(f"{value!r} is not a country code", field=name)
    for name, value in (("birth_date", birth), ("expiry_date", expiry)):
        if not re.fullmatch(r"[0-9<]{6}", value):
            raise MRZError(f"{value!r} is not YYMMDD", field=name)
    if sex not in ("M", "F", "<", "X"):
        raise MRZError(f"{sex!r} is not M, F, X or <", field="sex")
    return {
        "document_code": _strip(code),
        "issuing_state": _strip(state),
        "nationality": _strip(nationality),
        "birth_date": birth,
        "sex": sex,
        "expiry_date": expiry,
    }


def _long_number(head: str, optional: str) -> tuple[str, str]:
    """Document number and remaining optional data when the number overflows (Part 5 §4.2.4)."""
    end = optional.find("<")
    if end < 0:
        end = len(optional)
    if end < 2 or head.endswith("<"):
        raise MRZError(
            "check digit is '<' but no document number continues in the optional data",
            field="document_number",
        )
    number = head + optional[: end - 1]
    _check("document_number", number, optional[end - 1])
    return number, _strip(optional[end + 1 :])


def _number(head: str, digit: str, optional: str) -> tuple[str, str]:
    if digit == "<":
        return _long_number(head, optional)
    _check("document_number", head, digit)
    if not _strip(head):
        raise MRZError("document number is empty", field="document_number")
    return _strip(head), _strip(optional)


def _build(fields: dict[str, str], **more: str) -> MRZ:
    try:
        return MRZ(**fields, **more)  # type: ignore[arg-type]
    except EncodeError as exc:  # a structural rule of the model the text breaks
        name = str(exc).split(":", 1)[0]
        raise MRZError(str(exc), field=name if name.isidentifier() else "format") from None


def _parse_td1(lines: Sequence[str]) -> MRZ:
    l1, l2, l3 = lines
    fields = _parse_common("TD1", l1[0:2], l1[2:5], l2[15:18], l2[0:6], l2[7], l2[8:14])
    number, optional = _number(l1[5:14], l1[14], l1[15:30])
    _check("birth_date", l2[0:6], l2[6])
    _check("expiry_date", l2[8:14], l2[14])
    _check("composite", l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29])
    surname, given = decode_name(l3)
    return _build(
        fields,
        format="TD1",
        document_number=number,
        optional_data=optional,
        optional_data_2=_strip(l2[18:29]),
        surname=surname,
        given_names=given,
    )


def _parse_td2_td3(fmt: str, lines: Sequence[str]) -> MRZ:
    l1, l2 = lines
    fields = _parse_common(fmt, l1[0:2], l1[2:5], l2[10:13], l2[13:19], l2[20], l2[21:27])
    blank = "<"
    if fmt == "TD2":
        number, optional = _number(l2[0:9], l2[9], l2[28:35])
    else:
        if l2[9] == "<":
            raise CheckDigitError("TD3 has no long document numbers", field="document_number")
        number, _ = _number(l2[0:9], l2[9], "")
        optional, digit = _strip(l2[28:42]), l2[42]
        if optional or digit not in ("<", "0"):
            _check("optional_data", l2[28:42], digit)
        else:
            blank = digit
    _check("birth_date", l2[13:19], l2[19])
    _check("expiry_date", l2[21:27], l2[27])
    end = 35 if fmt == "TD2" else 43
    _check("composite", l2[0:10] + l2[13:20] + l2[21:end], l2[end])
    surname, given = decode_name(l1[5:])
    return _build(
        fields,
        format=fmt,
        document_number=number,
        optional_data=optional,
        surname=surname,
        given_names=given,
        blank_optional_check=blank,
    )
