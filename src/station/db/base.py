"""What both schemas share: the constraint naming convention and a UTC timestamp type.

Constraint and index names are spelled by one convention so that SQLite and PostgreSQL carry
the same names (a :class:`station.db.ConstraintError` names the constraint that refused a write
on either), and so that Alembic's batch mode on SQLite can find them again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, Dialect, MetaData
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """A fresh :class:`MetaData` with :data:`NAMING_CONVENTION`."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class NaiveInstantError(ValueError):
    """A ``datetime`` without a time zone was given for an instant column."""


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An instant: an aware ``datetime`` in, an aware UTC ``datetime`` out, on every database.

    PostgreSQL keeps ``timestamp with time zone``; SQLite has no time zones, so the value is
    stored as naive UTC and made aware again when read. A naive ``datetime`` is refused (it would
    mean different instants on different machines).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveInstantError("a naive datetime cannot be stored: give it a time zone (UTC)")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


__all__ = ["NAMING_CONVENTION", "NaiveInstantError", "UTCDateTime", "new_metadata"]
