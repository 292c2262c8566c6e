"""A natural person as the Center's registry and a point's application know them.

Scheme, stage 2 (lines 101-103): the point enters "arizachining biografik ma’lumotlarini" (the
applicant's biographic data); stage 3 (line 127) the Center checks that the person has a PINFL and
that it is correct ("mavjudligi va to‘g‘riligini tekshiradi"). Residents (second scheme, line
251) are foreign citizens or stateless persons (citizenship ``XXA``) with a foreign passport or
residence permit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from idcard.errors import PINFLError
from idcard.pinfl import PINFL
from station.domain.errors import DomainError

__all__ = ["CITIZEN", "STATELESS", "Person", "PersonName", "normalise"]

CITIZEN = "UZB"
STATELESS = "XXA"  # ICAO 9303-3: stateless person

_PINFL_SHAPE = re.compile(r"[0-9]{14}")
_STATE = re.compile(r"[A-Z]{3}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Apostrophe look-alikes typed for the Uzbek Latin o‘, g‘ and the tutuq belgisi (ʼ).
_APOSTROPHES = re.compile("['`´‘’ʻʼʹ′]")


def normalise(text: str) -> str:
    """``text`` compared as the registry compares names and places: NFKC, every apostrophe
    look-alike as ``'``, case-folded, runs of spaces as one, no leading/trailing space."""
    text = _APOSTROPHES.sub("'", unicodedata.normalize("NFKC", text))
    return " ".join(text.casefold().replace("|", " ").split())


@dataclass(frozen=True, slots=True)
class PersonName:
    """One name in Uzbek Latin (as on the card's MRZ side) and Cyrillic (may be empty)."""

    latin: str
    cyrillic: str = ""


@dataclass(frozen=True, slots=True)
class Person:
    surname: PersonName
    given_name: PersonName
    patronymic: PersonName  # latin "" for a person without one (many foreigners)
    birth_date: date
    sex: str  # "M" | "F"
    place_of_birth: str
    nationality: str  # "millati" (line 19), as written: "o‘zbek"
    citizenship: str  # "UZB", a foreign state's ISO 3166 alpha-3, or "XXA" stateless
    address: str  # the registration address
    foreign_document: str | None = None  # residents: foreign passport / residence permit number
    father_pinfl: str | None = None
    mother_pinfl: str | None = None
    pinfl: str | None = None

    def __post_init__(self) -> None:
        problems = _shape_problems({f.name: getattr(self, f.name) for f in fields(self)})
        if problems:
            raise DomainError.from_problems(problems)

    # -- JSON ------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The person as a JSON object (dates ISO 8601, absent values null)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, PersonName):
                value = {"latin": value.latin, "cyrillic": value.cyrillic}
            elif isinstance(value, date):
                value = value.isoformat()
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: object) -> Person:
        """The person of :meth:`to_json`'s JSON; :class:`DomainError` naming the first bad field
        (``person.birth_date``, ``person.surname.latin``) and listing every one."""
        if not isinstance(data, dict):
            raise DomainError("person", "must be a JSON object")
        names = {f.name for f in fields(cls)}
        problems = [(f"person.{k}", "unknown field") for k in data if k not in names]
        values: dict[str, Any] = {}
        for key in ("surname", "given_name", "patronymic"):
            name = _name(data, key, problems)
            if name is not None:
                values[key] = name
        raw_date = data.get("birth_date")
        if isinstance(raw_date, str) and _ISO_DATE.fullmatch(raw_date):
            try:
                values["birth_date"] = date.fromisoformat(raw_date)
            except ValueError:
                problems.append(("person.birth_date", f"{raw_date!r} is not a date"))
        else:
            problems.append(("person.birth_date", "must be a date YYYY-MM-DD"))
        for key in ("sex", "place_of_birth", "nationality", "citizenship", "address"):
            value = data.get(key)
            if isinstance(value, str):
                values[key] = value
            else:
                problems.append((f"person.{key}", "must be a string"))
        for key in ("foreign_document", "father_pinfl", "mother_pinfl", "pinfl"):
            value = data.get(key)
            if value is None or isinstance(value, str):
                values[key] = value
            else:
                problems.append((f"person.{key}", "must be a string or null"))
        if problems:  # and those of the fields that were read
            problems += _shape_problems(values)
            raise DomainError.from_problems(problems)
        return cls(**values)

    # -- rules -----------------------------------------------------------------------------

    def demographic_key(self) -> str:
        """What makes two entries the same person when there is no PINFL (the Center's
        demographic match): names in Latin, birth date, place of birth, and the parents' PINFLs
        where given, each :func:`normalise`-d; typing the same person twice gives the same key."""
        return "|".join((
            normalise(self.surname.latin),
            normalise(self.given_name.latin),
            normalise(self.patronymic.latin),
            self.birth_date.isoformat(),
            normalise(self.place_of_birth),
            f"f={self.father_pinfl or ''}",
            f"m={self.mother_pinfl or ''}",
        ))

    def pinfl_problems(self, pinfl: str) -> list[tuple[str, str]]:
        """Why ``pinfl`` is not a correct PINFL of this person (scheme, line 127:
        "to‘g‘riligini tekshiradi"): 14 digits, check digit, and its digit 1 (century and sex)
        and digits 2-7 (DDMMYY) against the person's sex and birth date. Empty: it is."""
        try:
            parsed = PINFL.parse(pinfl)
        except PINFLError as exc:
            return [("person.pinfl", exc.reason)]
        problems: list[tuple[str, str]] = []
        if parsed.sex != self.sex:
            problems.append(("person.pinfl",
                             f"its first digit {pinfl[0]} says sex {parsed.sex}, the person is "
                             f"{self.sex}"))  # fmt: skip
        if parsed.birth_date != self.birth_date:
            problems.append(("person.pinfl",
                             f"its digits 1-7 say born {parsed.birth_date.isoformat()}, the person "
                             f"was born {self.birth_date.isoformat()}"))  # fmt: skip
        return problems


def _name(data: dict[Any, Any], key: str, problems: list[tuple[str, str]]) -> PersonName | None:
    value = data.get(key)
    where = f"person.{key}"
    if not isinstance(value, dict):
        problems.append((where, 'must be an object {"latin": ..., "cyrillic": ...}'))
        return None
    bad = [k for k in value if k not in ("latin", "cyrillic")]
    problems += [(f"{where}.{k}", "unknown field") for k in bad]
    latin, cyrillic = value.get("latin"), value.get("cyrillic", "")
    if not isinstance(latin, str):
        problems.append((f"{where}.latin", "must be a string"))
    if not isinstance(cyrillic, str):
        problems.append((f"{where}.cyrillic", "must be a string"))
    if isinstance(latin, str) and isinstance(cyrillic, str):
        return PersonName(latin, cyrillic)
    return None


def _shape_problems(values: dict[str, Any]) -> list[tuple[str, str]]:
    """Problems of form (not of the scheme's rules) of the person's fields in ``values`` (those
    missing from it are not looked at)."""
    problems: list[tuple[str, str]] = []
    for key in ("surname", "given_name", "patronymic"):
        if key not in values:
            continue
        name = values[key]
        if not isinstance(name, PersonName):
            problems.append((f"person.{key}", "must be a PersonName"))
            continue
        for part in ("latin", "cyrillic"):
            text = getattr(name, part)
            if not isinstance(text, str) or any(unicodedata.category(c) == "Cc" for c in text):
                problems.append((f"person.{key}.{part}", "must be text without control characters"))
        if key != "patronymic" and isinstance(name.latin, str) and not name.latin.strip():
            problems.append((f"person.{key}.latin", "must not be empty"))
    if "birth_date" in values and not isinstance(values["birth_date"], date):
        problems.append(("person.birth_date", "must be a date"))
    if "sex" in values and values["sex"] not in ("M", "F"):
        problems.append(("person.sex", f"must be 'M' or 'F', not {values['sex']!r}"))
    for key in ("place_of_birth", "nationality", "address"):
        if key in values and not (isinstance(values[key], str) and values[key].strip()):
            problems.append((f"person.{key}", "must not be empty"))
    state = values.get("citizenship", CITIZEN)
    if not (isinstance(state, str) and _STATE.fullmatch(state)):
        problems.append(("person.citizenship",
                         f"{state!r} is not UZB, a state's 3-letter code or XXA"))
    document = values.get("foreign_document")
    if document is not None and not (isinstance(document, str) and document.strip()):
        problems.append(("person.foreign_document", "must be a document number or null"))
    for key in ("pinfl", "father_pinfl", "mother_pinfl"):
        value = values.get(key)
        if value is not None and not (isinstance(value, str) and _PINFL_SHAPE.fullmatch(value)):
            problems.append((f"person.{key}", "a PINFL is exactly 14 digits"))
    return problems
