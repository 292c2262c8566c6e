"""What the Center and a collection point exchange (scheme, stages 2-3), as frozen dataclasses.

Their ``to_json``/``from_json`` are the wire format of the Center's ``/v1`` API: the API's
pydantic schemas describe the same JSON, the point's client rebuilds these classes from it, and
the Center stores a request's answer in that form (a repeated request gets the same answer).
``from_json`` refuses bad input with :class:`DomainError` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from station.domain.application import PointKind
from station.domain.cards import CardStatus
from station.domain.errors import DomainError
from station.domain.grounds import Ground, Scheme
from station.domain.person import Person

__all__ = [
    "CardEvent",
    "CardInfo",
    "CenterAnswer",
    "CenterRequest",
    "CenterStatus",
    "PointInfo",
]

E = TypeVar("E", Scheme, Ground, CardStatus, PointKind)

_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,35}")
_LOGIN = re.compile(r"\S.{0,63}", re.DOTALL)
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,15}")


def _obj(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DomainError(where or "body", "must be a JSON object")
    return value


def _text(
    obj: Mapping[str, Any],
    key: str,
    *,
    prefix: str = "",
    pattern: re.Pattern[str] | None = None,
    optional: bool = False,
) -> str | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    name = prefix + key
    if not isinstance(value, str) or not value:
        raise DomainError(name, "must be a non-empty string")
    if pattern is not None and not pattern.fullmatch(value):
        raise DomainError(name, f"{value[:40]!r} is not of the form {pattern.pattern}")
    return value


def _required(obj: Mapping[str, Any], key: str, *, prefix: str = "",
              pattern: re.Pattern[str] | None = None) -> str:
    value = _text(obj, key, prefix=prefix, pattern=pattern)
    assert value is not None
    return value


def _enum(kind: type[E], value: object, name: str) -> E:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise DomainError(name, f"{str(value)[:40]!r} is not one of: {allowed}") from None


def _date(value: object, name: str) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise DomainError(name, "must be a date YYYY-MM-DD")


@dataclass(frozen=True, slots=True)
class CenterRequest:
    """The electronic request of a collection point for a card (scheme, stage 2, line 109:
    "ID-kartani rasmiylashtirish uchun elektron talabnomani shakllantiradi").

    ``id`` is the point's application id (the idempotency key); ``person.pinfl`` may be None
    (the Center generates one); ``previous_card`` is the card being replaced or restored.
    """

    id: str
    point: str
    operator: str
    scheme: Scheme
    ground: Ground
    person: Person
    previous_card: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "point": self.point,
            "operator": self.operator,
            "scheme": self.scheme.value,
            "ground": self.ground.value,
            "person": self.person.to_json(),
            "previous_card": self.previous_card,
        }

    @classmethod
    def from_json(cls, obj: object) -> CenterRequest:
        data = _obj(obj, "")
        person = Person.from_json(_obj(data.get("person"), "person"))
        previous = _text(data, "previous_card", optional=True)
        return cls(
            id=_required(data, "id", pattern=_REQUEST_ID),
            point=_required(data, "point", pattern=_CODE),
            operator=_required(data, "operator", pattern=_LOGIN),
            scheme=_enum(Scheme, data.get("scheme"), "scheme"),
            ground=_enum(Ground, data.get("ground"), "ground"),
            person=person,
            previous_card=previous,
        )


@dataclass(frozen=True, slots=True)
class CenterAnswer:
    """The Center's answer (scheme, stage 3, lines 127-135): the PINFL checked or generated,
    and the card number allocated in the registry (decree §6б)."""

    request_id: str
    pinfl: str
    pinfl_generated: bool
    card: str
    issue_date: date
    expiry_date: date
    previous_card: str | None = None
    previous_card_status: CardStatus | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "pinfl": self.pinfl,
            "pinfl_generated": self.pinfl_generated,
            "card": self.card,
            "issue_date": self.issue_date.isoformat(),
            "expiry_date": self.expiry_date.isoformat(),
            "previous_card": self.previous_card,
            "previous_card_status": (
                None if self.previous_card_status is None else self.previous_card_status.value
            ),
        }

    @classmethod
    def from_json(cls, obj: object) -> CenterAnswer:
        data = _obj(obj, "")
        status = data.get("previous_card_status")
        return cls(
            request_id=_required(data, "request_id"),
            pinfl=_required(data, "pinfl"),
            pinfl_generated=bool(data.get("pinfl_generated")),
            card=_required(data, "card"),
            issue_date=_date(data.get("issue_date"), "issue_date"),
            expiry_date=_date(data.get("expiry_date"), "expiry_date"),
            previous_card=_text(data, "previous_card", optional=True),
            previous_card_status=(
                None if status is None else _enum(CardStatus, status, "previous_card_status")
            ),
        )


@dataclass(frozen=True, slots=True)
class CardEvent:
    """One entry of a card's status history."""

    status: CardStatus
    at: datetime
    by: str
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status.value, "at": self.at.isoformat(), "by": self.by,
                "reason": self.reason}  # fmt: skip

    @classmethod
    def from_json(cls, obj: object) -> CardEvent:
        data = _obj(obj, "history")
        try:
            at = datetime.fromisoformat(str(data.get("at")))
        except ValueError:
            raise DomainError("history.at", "must be an ISO 8601 time") from None
        return cls(
            status=_enum(CardStatus, data.get("status"), "history.status"),
            at=at,
            by=_required(data, "by", prefix="history."),
            reason=_text(data, "reason", optional=True),
        )


@dataclass(frozen=True, slots=True)
class CardInfo:
    """A card in the central registry (decree §6б: series, number, place and date of issue,
    expiry) with its status and history, and its e-signature certificate once recorded."""

    card: str
    pinfl: str
    status: CardStatus
    point: str
    request_id: str
    issue_date: date
    expiry_date: date
    previous_card: str | None = None
    esign_serial: int | None = None
    esign_fingerprint: str | None = None
    oneid_event_id: str | None = None
    history: tuple[CardEvent, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "card": self.card,
            "pinfl": self.pinfl,
            "status": self.status.value,
            "point": self.point,
            "request_id": self.request_id,
            "issue_date": self.issue_date.isoformat(),
            "expiry_date": self.expiry_date.isoformat(),
            "previous_card": self.previous_card,
            # decimal string: a 159-bit serial does not fit a JSON number of most readers
            "esign_serial": None if self.esign_serial is None else str(self.esign_serial),
            "esign_fingerprint": self.esign_fingerprint,
            "oneid_event_id": self.oneid_event_id,
            "history": [e.to_json() for e in self.history],
        }

    @classmethod
    def from_json(cls, obj: object) -> CardInfo:
        data = _obj(obj, "")
        serial = data.get("esign_serial")
        history = data.get("history") or []
        if not isinstance(history, list):
            raise DomainError("history", "must be a list")
        return cls(
            card=_required(data, "card"),
            pinfl=_required(data, "pinfl"),
            status=_enum(CardStatus, data.get("status"), "status"),
            point=_required(data, "point"),
            request_id=_required(data, "request_id"),
            issue_date=_date(data.get("issue_date"), "issue_date"),
            expiry_date=_date(data.get("expiry_date"), "expiry_date"),
            previous_card=_text(data, "previous_card", optional=True),
            esign_serial=None if serial is None else int(str(serial)),
            esign_fingerprint=_text(data, "esign_fingerprint", optional=True),
            oneid_event_id=_text(data, "oneid_event_id", optional=True),
            history=tuple(CardEvent.from_json(e) for e in history),
        )


@dataclass(frozen=True, slots=True)
class PointInfo:
    """A data-collection point registered at the Center (scheme, stage 2, line 97)."""

    code: str
    name: str
    kind: PointKind
    place_code: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "kind": self.kind.value,
                "place_code": self.place_code}  # fmt: skip

    @classmethod
    def from_json(cls, obj: object) -> PointInfo:
        data = _obj(obj, "")
        return cls(
            code=_required(data, "code", pattern=_CODE),
            name=_required(data, "name"),
            kind=_enum(PointKind, data.get("kind"), "kind"),
            place_code=_required(data, "place_code", pattern=re.compile(r"[0-9]{3}")),
        )


@dataclass(frozen=True, slots=True)
class CenterStatus:
    """Counts of the Center's registry."""

    points: int
    persons: int
    requests: int
    cards: Mapping[str, int]  # by status, every status present
    pending_revocations: int

    def to_json(self) -> dict[str, Any]:
        return {
            "points": self.points,
            "persons": self.persons,
            "requests": self.requests,
            "cards": dict(self.cards),
            "pending_revocations": self.pending_revocations,
        }

    @classmethod
    def from_json(cls, obj: object) -> CenterStatus:
        data = _obj(obj, "")
        cards = data.get("cards")
        if not isinstance(cards, Mapping):
            raise DomainError("cards", "must be an object")
        try:
            return cls(
                points=int(data["points"]),
                persons=int(data["persons"]),
                requests=int(data["requests"]),
                cards={str(k): int(v) for k, v in cards.items()},
                pending_revocations=int(data["pending_revocations"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DomainError("status", f"not a status object ({exc})") from None


@dataclass(frozen=True, slots=True)
class RevocationInfo:
    """One e-signature revocation the Center queued when a card left its holder: pending while
    ``applied_at`` is None (``last_error`` says why the last attempt failed)."""

    card: str
    serial: int
    reason: str
    created_at: datetime
    applied_at: datetime | None
    last_error: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "card": self.card,
            "serial": str(self.serial),
            "reason": self.reason,
            "created_at": self.created_at.isoformat(),
            "applied_at": None if self.applied_at is None else self.applied_at.isoformat(),
            "last_error": self.last_error,
        }
