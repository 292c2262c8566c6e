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
from typing import Any

from idcard.errors import DecodeError
from idcard.pinfl import PINFL
from station.errors import StationError

__all__ = ["Applicant", "DocumentRequest", "FingerImage", "sample_applicant"]

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
        """Read an applicant JSON file (and the image files it names, relative to it)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls._from_json(data, path.parent)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StationError(f"{path}: not a usable applicant file ({exc})") from exc

    @classmethod
    def _from_json(cls, data: dict[str, Any], folder: Path) -> Applicant:
        try:
            pinfl = PINFL.parse(data["pinfl"])
        except DecodeError as exc:
            raise StationError(f"PINFL: {exc}") from exc
        doc = data["document"]
        fingers = tuple(
            FingerImage(FINGER_POSITIONS[f["position"]], (folder / f["image"]).read_bytes())
            for f in data.get("fingers", ())
        )
        return cls(
            surname=data["surname"],
            given_names=data["given_names"],
            patronymic=data.get("patronymic", ""),
            surname_cyrillic=data.get("surname_cyrillic", ""),
            given_names_cyrillic=data.get("given_names_cyrillic", ""),
            sex=data["sex"],
            birth_date=date.fromisoformat(data["birth_date"]),
            place_of_birth=data.get("place_of_birth", ""),
            pinfl=pinfl,
            nationality=data.get("nationality", "UZB"),
            address=tuple(data.get("address", ())),
            telephone=data.get("telephone"),
            document=DocumentRequest(
                document_code=doc.get("type", "IU"),
                series=doc["series"],
                number=doc["number"],
                issue_date=date.fromisoformat(doc["issue_date"]),
                issuing_authority=doc.get("issuing_authority", ""),
                issuing_state=doc.get("issuing_state", "UZB"),
            ),
            portrait=(folder / data["portrait"]).read_bytes(),
            signature=(folder / data["signature"]).read_bytes() if data.get("signature") else None,
            fingers=fingers,
            can=data.get("can", ""),
        )


def sample_applicant() -> Applicant:
    """The synthetic sample applicant shipped in ``station/samples/``."""
    folder = resources.files("station") / "samples"
    with resources.as_file(folder) as path:
        return Applicant.load(Path(path) / "applicant.json")
