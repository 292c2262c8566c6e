"""The Center's tables: points, persons and PINFLs, the central registry of ID cards, the
accounts of the web application and the audit log.

SQLAlchemy 2 declarative models on their own metadata (:data:`CenterBase.metadata`): a Center's
database holds these and nothing of a point's. Enumerations (point kind, scheme, ground, card
status, operator role) are stored as the string codes of their ``station.domain`` enums; the
services convert. The schema is versioned by Alembic (``migrations/center``): a change here needs
a new revision there (``tests/station/db/test_migrations.py`` compares the two).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from station.db.audit_tables import AuditCheckpointColumns, AuditEntryColumns, AuditHeadColumns
from station.db.base import UTCDateTime, new_metadata

CODE = 16  # a point's code
LOGIN = 64  # an operator's login
NAME = 200  # one name (surname, given name, patronymic), a point's name
KEY = 1000  # a demographic key
STATUS = 32  # an enum's code


class CenterBase(DeclarativeBase):
    """Base of the Center's tables (its own metadata: a Center's database has only these)."""

    metadata = new_metadata()
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime()}


class Point(CenterBase):
    """A data-collection point; ``place_code`` is the region/district code of PINFL digits 8-10."""

    __tablename__ = "points"

    code: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    kind: Mapped[str] = mapped_column(String(STATUS))  # station.domain PointKind
    place_code: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[dt.datetime]


class Person(CenterBase):
    """A person known to the Center, with the PINFL given or generated for them."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    pinfl: Mapped[str] = mapped_column(String(14), unique=True)
    demographic_key: Mapped[str] = mapped_column(String(KEY), unique=True)
    surname_lat: Mapped[str] = mapped_column(String(NAME))
    given_name_lat: Mapped[str] = mapped_column(String(NAME))
    patronymic_lat: Mapped[str] = mapped_column(String(NAME))
    surname_cyr: Mapped[str] = mapped_column(String(NAME))
    given_name_cyr: Mapped[str] = mapped_column(String(NAME))
    patronymic_cyr: Mapped[str] = mapped_column(String(NAME))
    birth_date: Mapped[dt.date]
    sex: Mapped[str] = mapped_column(String(1))
    place_of_birth: Mapped[str] = mapped_column(String(NAME))
    nationality: Mapped[str] = mapped_column(String(64))
    citizenship: Mapped[str] = mapped_column(String(3))
    address: Mapped[str] = mapped_column(String(500))
    foreign_document: Mapped[str | None] = mapped_column(String(64))
    father_pinfl: Mapped[str | None] = mapped_column(String(14))
    mother_pinfl: Mapped[str | None] = mapped_column(String(14))
    pinfl_generated: Mapped[bool]
    created_at: Mapped[dt.datetime]
    created_by_point: Mapped[str] = mapped_column(ForeignKey("points.code"))


class PINFLBlock(CenterBase):
    """The next serial of one PINFL block: century/sex digit + DDMMYY + place code (10 chars).

    Serials are taken with ``UPDATE … SET next_serial = next_serial + 1 … RETURNING``, which
    concurrent writers queue on (``tests/station/db/test_concurrency.py``).
    """

    __tablename__ = "pinfl_blocks"

    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    next_serial: Mapped[int]


class CardSeries(CenterBase):
    """A card series (2 letters) and its next number; at most one series is active."""

    __tablename__ = "card_series"
    __table_args__ = (
        Index(
            "uq_card_series_one_active", "active", unique=True,
            sqlite_where=text("active"), postgresql_where=text("active"),
        ),
    )

    series: Mapped[str] = mapped_column(String(2), primary_key=True)
    next_number: Mapped[int]
    active: Mapped[bool]


class Request(CenterBase):
    """A point's request (stage 2 → 3), keyed by the point's application id; ``answer`` is the
    JSON returned, returned again for a repeated request (idempotent)."""

    __tablename__ = "requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    point_code: Mapped[str] = mapped_column(ForeignKey("points.code"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    scheme: Mapped[str] = mapped_column(String(STATUS))
    ground: Mapped[str] = mapped_column(String(STATUS))
    operator: Mapped[str] = mapped_column(String(LOGIN))
    received_at: Mapped[dt.datetime]
    answer: Mapped[str] = mapped_column(Text)


class Card(CenterBase):
    """The central registry of ID cards (decree §6б): one row per allocated card."""

    __tablename__ = "cards"
    __table_args__ = (UniqueConstraint("series", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series: Mapped[str] = mapped_column(ForeignKey("card_series.series"))
    number: Mapped[int]
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), unique=True)
    point_code: Mapped[str] = mapped_column(ForeignKey("points.code"))  # place of issue
    issue_date: Mapped[dt.date]
    expiry_date: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(STATUS))  # station.domain CardStatus
    esign_serial: Mapped[str | None] = mapped_column(String(64))  # decimal
    esign_fingerprint: Mapped[str | None] = mapped_column(String(64))  # SHA-256, hex
    oneid_event_id: Mapped[str | None] = mapped_column(String(64))
    previous_card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))


class CardEvent(CenterBase):
    """One status change of a card: which status, when, by which operator, why."""

    __tablename__ = "card_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    status: Mapped[str] = mapped_column(String(STATUS))
    at: Mapped[dt.datetime]
    by: Mapped[str] = mapped_column(String(LOGIN))
    reason: Mapped[str | None] = mapped_column(Text)


class Revocation(CenterBase):
    """Outbox of e-signature certificate revocations to apply at the e-signature CA; pending
    while ``applied_at`` is NULL (``last_error`` says why the last attempt failed)."""

    __tablename__ = "revocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    esign_serial: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(STATUS))
    created_at: Mapped[dt.datetime]
    applied_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class CardSOD(CenterBase):
    """An EF.SOD the Center's Document Signer signed for a card (issue 11): the data group
    hashes the point sent (never the data groups), the SOD, which DS signed it and when. One row
    per card and set of hashes (``hashes_digest``: SHA-256 of the algorithm and the sorted
    hashes), so the same hashes again return the same SOD; the newest row is the card's SOD."""

    __tablename__ = "card_sods"
    __table_args__ = (UniqueConstraint("card_id", "hashes_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    point_code: Mapped[str] = mapped_column(ForeignKey("points.code"))
    hash_algorithm: Mapped[str] = mapped_column(String(16))
    hashes_digest: Mapped[str] = mapped_column(String(64))  # SHA-256, hex
    hashes: Mapped[str] = mapped_column(Text)  # JSON {"1": hex, …}
    sod: Mapped[bytes] = mapped_column(LargeBinary)
    ds_serial: Mapped[str] = mapped_column(String(64))  # decimal
    signed_at: Mapped[dt.datetime]


class Operator(CenterBase):
    """An operator or supervisor of a point; the login is unique within the point."""

    __tablename__ = "operators"
    __table_args__ = (UniqueConstraint("point_code", "login"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    point_code: Mapped[str] = mapped_column(ForeignKey("points.code"))
    login: Mapped[str] = mapped_column(String(LOGIN))
    name: Mapped[str] = mapped_column(String(NAME))
    role: Mapped[str] = mapped_column(String(16))  # "operator" | "supervisor"


# -- accounts (station.accounts) and the audit log (station.auditlog) ------------------------------


class User(CenterBase):
    """An account of the web application: an operator or supervisor of one point, an auditor
    or an administrator of the Center. ``password_hash`` is an argon2id PHC string;
    ``failures`` counts failed logins in a row, ``locked_until`` ends a lockout."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(LOGIN), unique=True)
    name: Mapped[str] = mapped_column(String(NAME))
    role: Mapped[str] = mapped_column(String(16))  # station.accounts Role
    point_code: Mapped[str | None] = mapped_column(ForeignKey("points.code"))
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool]
    failures: Mapped[int]
    locked_until: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]


class LoginSession(CenterBase):
    """A login session: only the SHA-256 of its token is kept; ``closed_at`` ends it early."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    last_seen: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]


class AuditEntry(CenterBase, AuditEntryColumns):
    """One entry of the Center's audit log (hash chain, :mod:`station.auditlog`)."""

    __tablename__ = "audit_entries"


class AuditHead(CenterBase, AuditHeadColumns):
    """The head of the Center's audit chain (one row): appenders lock it, verify compares."""

    __tablename__ = "audit_head"


class AuditCheckpoint(CenterBase, AuditCheckpointColumns):
    """A signed checkpoint of the Center's audit chain."""

    __tablename__ = "audit_checkpoints"


__all__ = [
    "AuditCheckpoint",
    "AuditEntry",
    "AuditHead",
    "Card",
    "CardEvent",
    "CardSOD",
    "CardSeries",
    "CenterBase",
    "LoginSession",
    "Operator",
    "PINFLBlock",
    "Person",
    "Point",
    "Request",
    "Revocation",
    "User",
]
