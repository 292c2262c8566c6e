"""What the point's use cases return: frozen snapshots of its records (no database objects)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from station.domain.application import ApplicationForm

__all__ = ["Application", "ApplicationStatus", "Handover", "Refusal"]


class ApplicationStatus(enum.StrEnum):
    """An application's life at the point (scheme stages 2 → 4, or 5 → 6)."""

    ACCEPTED = "accepted"  # all documents accepted (stage 2): the deadline runs from here
    RETURNED = "returned"  # the Center answered the request (stage 3): PINFL and card number
    REFUSED = "refused"  # fingerprints or a bare-headed photograph refused (scheme line 216)
    PERSONALIZED = "personalized"
    VERIFIED = "verified"  # read back and verified: may be handed over
    HANDED_OVER = "handed-over"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset({ApplicationStatus.ACCEPTED, ApplicationStatus.RETURNED,
                           ApplicationStatus.PERSONALIZED, ApplicationStatus.VERIFIED})  # fmt: skip
"""Statuses of an application still in progress (``open``: one per person and ground)."""


@dataclass(frozen=True, slots=True)
class Application:
    id: str
    point_code: str
    operator: str
    form: ApplicationForm
    status: ApplicationStatus
    accepted_at: datetime
    due_date: date
    person_key: str
    pinfl: str | None = None
    card: str | None = None
    submitted_at: datetime | None = None
    returned_at: datetime | None = None
    fee_waived: bool = False
    waiver_reason: str | None = None
    approved_by: str | None = None

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES

    def to_json(self) -> dict[str, Any]:
        """The application as the CLI's ``--json`` prints it."""
        person = self.form.person
        return {
            "id": self.id,
            "point": self.point_code,
            "operator": self.operator,
            "scheme": self.form.scheme.value,
            "ground": self.form.ground.value,
            "holder": f"{person.surname.latin} {person.given_name.latin}",
            "birth_date": person.birth_date.isoformat(),
            "status": self.status.value,
            "open": self.open,
            "accepted_at": self.accepted_at.isoformat(),
            "due_date": self.due_date.isoformat(),
            "pinfl": self.pinfl,
            "card": self.card,
            "previous_card": self.form.previous_card,
            "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
            "returned_at": self.returned_at.isoformat() if self.returned_at else None,
            "fee_waived": self.fee_waived,
            "waiver_reason": self.waiver_reason,
            "approved_by": self.approved_by,
        }


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refusal record and its printable notice (PDF bytes, identified by ``notice_sha256``)."""

    id: int
    application_id: str | None
    reason: str
    operator: str
    at: datetime
    person: dict[str, Any]
    notice_sha256: str
    notice: bytes = field(repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "application": self.application_id, "reason": self.reason,
                "operator": self.operator, "at": self.at.isoformat(),
                "notice_sha256": self.notice_sha256}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Handover:
    application_id: str
    card: str
    receiver_role: str
    receiver_name: str
    receiver_document: str
    operator: str
    at: datetime
    due_date: date
    on_time: bool

    def to_json(self) -> dict[str, Any]:
        return {"application": self.application_id, "card": self.card,
                "receiver_role": self.receiver_role, "receiver_name": self.receiver_name,
                "receiver_document": self.receiver_document, "operator": self.operator,
                "at": self.at.isoformat(), "due_date": self.due_date.isoformat(),
                "on_time": self.on_time}  # fmt: skip
