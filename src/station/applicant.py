"""The applicant's data as a data-collection point enters it (issuance scheme, stage 2).

Loaded from JSON (the sample in ``station/samples/applicant.json`` has the shape); images are
files next to the JSON. Immutable; validation of the legal rules lives in :mod:`station.rules`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from idcard.errors import DecodeError
from idcard.pinfl import PINFL
from station.errors import StationError

__all__ = ["Applicant", "ApplicantError", "DocumentRequest", "FingerImage", "sample_applicant"]

T = TypeVar("T")


class ApplicantError(StationError):
    """An application the station refuses; ``field`` names the first bad field as in the
    applicant JSON (``document.issue_date``), ``problems`` lists every (field, reason)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        self.field, self.reason = self.problems[0]
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(f"{self.field}: {self.reason}{more}")


def _field_error(field: str, reason: str) -> ApplicantError:
    return ApplicantError([(field, reason)])

FINGER_POSITIONS = {
    "right-thumb": 1, "right-index": 2, "right-middle": 3, "right-ring": 4, "right-little": 5,
    "left-thumb": 6, "left-index": 7, "left-middle": 8, "left-ring": 9, "left-little": 10,
}
"""ISO/IEC 19794-4:2005 Table 2 finger positions."""


@dataclass(frozen=True, slots=True)
class FingerImage:
    position: int
    image: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class DocumentRequest:
    document_code: str
    series: str
    number: str
    issue_date: date
    issuing_authority: str
    issuing_state: str

    @property
    def document_number(self) -> str:
        return self.series + self.number


@dataclass(frozen=True, slots=True)
class Applicant:
    surname: str
    given_names: str
    patronymic: str
    surname_cyrillic: str
    given_names_cyrillic: str
    sex: str
    birth_date: date
    place_of_birth: str
    pinfl: PINFL
    nationality: str
    address: tuple[str, ...]
    telephone: str | None
    document: DocumentRequest
    portrait: bytes = field(repr=False)
    signature: bytes | None = field(repr=False)
    fingers: tuple[FingerImage, ...] = field(repr=False)
    can: str = field(repr=False, default="")

    @classmethod
    def load(cls, path: str | Path) -> Applicant:
        """Read an applicant JSON file (and the image files it names, relative to it).

        A missing or malformed field raises :class:`ApplicantError` naming it; the
        rules of issuance are checked separately (:func:`station.rules.check_applicant`).
        """
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StationError(f"{path}: not a usable applicant file ({exc})") from exc
        if not isinstance(data, dict):
            raise StationError(f"{path}: not a usable applicant file (not a JSON object)")
        return cls._from_json(data, path.parent)

    @classmethod
    def _from_json(cls, data: dict[str, Any], folder: Path) -> Applicant:
        doc = _get(data, "document", dict)

        def text(obj: dict[str, Any], key: str, default: str | None = None,
                 prefix: str = "") -> str:
            return _get(obj, key, str, _MISSING if default is None else default, prefix)

        def day(obj: dict[str, Any], key: str, prefix: str = "") -> date:
            try:
                return date.fromisoformat(text(obj, key, prefix=prefix))
            except ValueError:
                raise _field_error(prefix + key, "not a date YYYY-MM-DD") from None

        def image(key: str, name: str) -> bytes:
            try:
                return (folder / name).read_bytes()
            except OSError as exc:
                raise _field_error(key, f"cannot read {name}: {exc.strerror}") from None

        try:
            pinfl = PINFL.parse(text(data, "pinfl"))
        except DecodeError as exc:
            raise _field_error("pinfl", str(exc)) from None
        fingers = []
        for i, f in enumerate(_get(data, "fingers", list, [])):
            key = f"fingers[{i}]"
            if not isinstance(f, dict) or f.get("position") not in FINGER_POSITIONS:
                raise _field_error(key, "needs a position such as 'right-index' and an image")
            fingers.append(FingerImage(
                FINGER_POSITIONS[f["position"]], image(key, text(f, "image", prefix=key + "."))
            ))
        signature = _get(data, "signature", str, "")
        return cls(
            surname=text(data, "surname"),
            given_names=text(data, "given_names"),
            patronymic=text(data, "patronymic", ""),
            surname_cyrillic=text(data, "surname_cyrillic", ""),
            given_names_cyrillic=text(data, "given_names_cyrillic", ""),
            sex=text(data, "sex"),
            birth_date=day(data, "birth_date"),
            place_of_birth=text(data, "place_of_birth", ""),
            pinfl=pinfl,
            nationality=text(data, "nationality", "UZB"),
            address=tuple(str(line) for line in _get(data, "address", list, [])),
            telephone=_get(data, "telephone", str, "") or None,
            document=DocumentRequest(
                document_code=text(doc, "type", "IU", "document."),
                series=text(doc, "series", prefix="document."),
                number=text(doc, "number", prefix="document."),
                issue_date=day(doc, "issue_date", "document."),
                issuing_authority=text(doc, "issuing_authority", "", "document."),
                issuing_state=text(doc, "issuing_state", "UZB", "document."),
            ),
            portrait=image("portrait", text(data, "portrait")),
            signature=image("signature", signature) if signature else None,
            fingers=tuple(fingers),
            can=text(data, "can", ""),
        )


_MISSING = object()


def _get(obj: dict[str, Any], key: str, kind: type[T], default: Any = _MISSING,
         prefix: str = "") -> T:
    """``obj[key]`` if it is a ``kind``, else :class:`ApplicantError` naming ``prefix + key``."""
    value = obj.get(key, default)
    if value is _MISSING:
        raise _field_error(prefix + key, "missing")
    if value is None and default is not _MISSING:
        value = default
    if not isinstance(value, kind):
        raise _field_error(prefix + key, f"must be a JSON {_JSON_KIND[kind]}")
    return value


_JSON_KIND: dict[type, str] = {str: "string", list: "array", dict: "object"}


def sample_applicant() -> Applicant:
    """The synthetic sample applicant shipped in ``station/samples/``."""
    folder = resources.files("station") / "samples"
    with resources.as_file(folder) as path:
        return Applicant.load(Path(path) / "applicant.json")
