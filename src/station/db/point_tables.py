"""A collection point's tables: applications, refusals, handovers, their audit trail and the
point's audit log (hash chain).

SQLAlchemy 2 declarative models on their own metadata (:data:`PointBase.metadata`): a point's
database holds these and nothing of the Center's. Enumerations are stored as the string codes of
their ``station.domain`` enums. Versioned by Alembic (``migrations/point``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from station.db.audit_tables import AuditCheckpointColumns, AuditEntryColumns, AuditHeadColumns
from station.db.base import UTCDateTime, new_metadata

CODE = 16
LOGIN = 64
NAME = 200
KEY = 1000
STATUS = 32
CARD = 9  # "AD1234567"


class PointBase(DeclarativeBase):
    """Base of a point's tables (its own metadata: a point's database has only these)."""

    metadata = new_metadata()
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime()}


class Application(PointBase):
    """An application for a card at this point.

    ``open`` is true until the application ends (handed over, refused, cancelled); the partial
    unique index on (person_key, ground) WHERE open refuses a second open application of the same
    person on the same ground, on SQLite and PostgreSQL alike.
    """

    __tablename__ = "applications"
    __table_args__ = (
        Index(
            "uq_applications_open_person_key_ground", "person_key", "ground", unique=True,
            sqlite_where=text("open"), postgresql_where=text("open"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid
    point_code: Mapped[str] = mapped_column(String(CODE))
    operator: Mapped[str] = mapped_column(String(LOGIN))
    scheme: Mapped[str] = mapped_column(String(STATUS))
    ground: Mapped[str] = mapped_column(String(STATUS))
    form: Mapped[str] = mapped_column(Text)  # JSON of ApplicationForm.to_json()
    person_key: Mapped[str] = mapped_column(String(KEY))  # demographic key or PINFL
    status: Mapped[str] = mapped_column(String(STATUS))
    accepted_at: Mapped[dt.datetime]
    due_date: Mapped[dt.date] = mapped_column(index=True)
    pinfl: Mapped[str | None] = mapped_column(String(14))
    card: Mapped[str | None] = mapped_column(String(CARD))
    submitted_at: Mapped[dt.datetime | None]
    returned_at: Mapped[dt.datetime | None]
    fee_waived: Mapped[bool]
    waiver_reason: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[str | None] = mapped_column(String(LOGIN))  # the supervisor
    open: Mapped[bool]


class Refusal(PointBase):
    """A refusal (scheme: fingerprints refused, photograph in glasses or headwear insisted on);
    ``application_id`` is NULL when it came before an application was saved."""

    __tablename__ = "refusals"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[str | None] = mapped_column(ForeignKey("applications.id"), index=True)
    reason: Mapped[str] = mapped_column(String(STATUS))
    operator: Mapped[str] = mapped_column(String(LOGIN))
    at: Mapped[dt.datetime]
    person: Mapped[str] = mapped_column(Text)  # JSON
    notice_sha256: Mapped[str] = mapped_column(String(64))


class Handover(PointBase):
    """The handover of an application's card: to whom, on which document, by whom, on time?"""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), unique=True)
    card: Mapped[str] = mapped_column(String(CARD))
    receiver_role: Mapped[str] = mapped_column(String(16))
    receiver_name: Mapped[str] = mapped_column(String(NAME))
    receiver_document: Mapped[str] = mapped_column(String(64))
    operator: Mapped[str] = mapped_column(String(LOGIN))
    at: Mapped[dt.datetime]
    on_time: Mapped[bool]


class PointEvent(PointBase):
    """The audit trail of an application: what happened, when, by which operator."""

    __tablename__ = "point_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    at: Mapped[dt.datetime]
    operator: Mapped[str] = mapped_column(String(LOGIN))
    what: Mapped[str] = mapped_column(String(STATUS))
    detail: Mapped[str | None] = mapped_column(Text)


class AuditEntry(PointBase, AuditEntryColumns):
    """One entry of the point's audit log (hash chain, :mod:`station.auditlog`)."""

    __tablename__ = "audit_entries"


class AuditHead(PointBase, AuditHeadColumns):
    """The head of the point's audit chain (one row)."""

    __tablename__ = "audit_head"


class AuditCheckpoint(PointBase, AuditCheckpointColumns):
    """A checkpoint of the point's audit chain, signed by the Center's audit key."""

    __tablename__ = "audit_checkpoints"


__all__ = [
    "Application",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditHead",
    "Handover",
    "PointBase",
    "PointEvent",
    "Refusal",
]


from station.db import point_captures as _point_captures  # noqa: E402,F401  (issue 11 captures)
from station.db import point_job_tables as _point_job_tables  # noqa: E402,F401  (issue 11 tables)
