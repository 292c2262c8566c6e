"""Pydantic schemas of the Center's ``/v1`` API: they describe (OpenAPI) and first-check the JSON.

The wire format itself is the ``to_json``/``from_json`` of :mod:`station.center.models` and
:class:`station.domain.person.Person`; these schemas accept exactly that JSON and the routes
hand it on as a dict, so the domain's checks (a PINFL against the person, …) name the field.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from station.domain.application import PointKind
from station.domain.cards import CardStatus
from station.domain.grounds import Ground, Scheme

__all__ = [
    "AnswerOut",
    "CardEventOut",
    "CardOut",
    "ErrorBody",
    "ErrorOut",
    "EsignIn",
    "PersonIn",
    "PersonNameIn",
    "PointIn",
    "PointOut",
    "Problem",
    "RequestIn",
    "SODIn",
    "SODOut",
    "StatusChangeIn",
    "StatusOut",
]

_PINFL = r"^[0-9]{14}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        # PostgreSQL refuses NUL in text; no field of a person or a card holds a control char
        if isinstance(value, str) and any(unicodedata.category(c) == "Cc" for c in value):
            raise ValueError("must not contain control characters")
        return value


class PersonNameIn(_Strict):
    latin: str = Field(max_length=200, description="Uzbek Latin (a patronymic may be empty)")
    cyrillic: str = Field(default="", max_length=200, description="Uzbek Cyrillic, may be empty")


class PersonIn(_Strict):
    """A person as the point enters them (scheme, stage 2: "biografik ma’lumotlarini")."""

    surname: PersonNameIn
    given_name: PersonNameIn
    patronymic: PersonNameIn
    birth_date: date
    sex: Literal["M", "F"]
    place_of_birth: str = Field(min_length=1, max_length=200)
    nationality: str = Field(min_length=1, max_length=64)
    citizenship: str = Field(
        pattern=r"^[A-Z]{3}$", description="UZB, the ISO 3166 alpha-3 of another state, or XXA"
    )
    address: str = Field(min_length=1, max_length=500)
    foreign_document: str | None = Field(default=None, max_length=64)
    father_pinfl: str | None = Field(default=None, pattern=_PINFL)
    mother_pinfl: str | None = Field(default=None, pattern=_PINFL)
    pinfl: str | None = Field(
        default=None, description="14 digits; absent: the Center generates one (stage 3 a)"
    )


class RequestIn(_Strict):
    """The electronic request for a card (scheme, stage 2); ``id`` makes it idempotent."""

    id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,35}$", description="the point's application id"
    )
    point: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")
    operator: str = Field(min_length=1, max_length=64)
    scheme: Scheme
    ground: Ground
    person: PersonIn
    previous_card: str | None = Field(
        default=None, max_length=9, description="the card replaced or restored, AD1234567"
    )


class AnswerOut(_Strict):
    request_id: str
    pinfl: str
    pinfl_generated: bool
    card: str = Field(description="series (2 letters) and number (7 digits)")
    issue_date: date
    expiry_date: date
    previous_card: str | None
    previous_card_status: CardStatus | None


class StatusChangeIn(_Strict):
    status: CardStatus
    operator: str = Field(min_length=1, max_length=64)
    reason: str | None = Field(default=None, max_length=500)


class EsignIn(_Strict):
    """The card's e-signature certificate (decree §5д, first issue) and its OneID event."""

    serial: str = Field(pattern=r"^[0-9]{1,60}$", description="decimal certificate serial")
    fingerprint: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the DER")
    oneid_event_id: str | None = Field(default=None, max_length=64)


_DG_NUMBER = Annotated[str, StringConstraints(pattern=r"^(1[0-6]|[1-9])$")]
_DIGEST_HEX = Annotated[str, StringConstraints(pattern=r"^(?:[0-9a-f]{2}){20,64}$")]


class SODIn(_Strict):
    """Data group hashes to sign into the card's EF.SOD (issue 11): hashes only, never the data
    groups or the biometrics; the Center's Document Signer signs them."""

    point: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$", description="the card's point")
    algorithm: Literal["sha1", "sha224", "sha256", "sha384", "sha512"] = Field(
        default="sha256", description="the data group hash algorithm (ICAO 9303-12 §5)"
    )
    hashes: dict[_DG_NUMBER, _DIGEST_HEX] = Field(
        max_length=16, description="data group number (1-16) → its hash, lower-case hex"
    )


class SODOut(_Strict):
    card: str
    point: str
    algorithm: str
    ds_serial: str = Field(description="decimal serial of the Document Signer's certificate")
    signed_at: datetime
    sod: str = Field(description="the EF.SOD file (tag 77), base64")


class CardEventOut(_Strict):
    status: CardStatus
    at: datetime
    by: str
    reason: str | None


class CardOut(_Strict):
    card: str
    pinfl: str
    status: CardStatus
    point: str
    request_id: str
    issue_date: date
    expiry_date: date
    previous_card: str | None
    esign_serial: str | None
    esign_fingerprint: str | None
    oneid_event_id: str | None
    history: list[CardEventOut]


class PointIn(_Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,15}$")
    name: str = Field(min_length=1, max_length=200)
    kind: PointKind
    place_code: str = Field(pattern=r"^[0-9]{3}$", description="PINFL digits 8-10")


class PointOut(_Strict):
    code: str
    name: str
    kind: PointKind
    place_code: str


class StatusOut(_Strict):
    points: int
    persons: int
    requests: int
    cards: dict[str, int]
    pending_revocations: int


class Problem(_Strict):
    field: str
    reason: str


class ErrorBody(_Strict):
    type: str = Field(description="the error class: DomainError, NotFound, PersonMismatch, …")
    field: str = Field(description="the field at fault, as in the request: person.pinfl")
    message: str
    problems: list[Problem]


class ErrorOut(_Strict):
    error: ErrorBody
