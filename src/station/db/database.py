"""Opening a station database: the engine settings for SQLite and PostgreSQL, one transaction per
use case, and the errors a front can print.

SQLite (the embedded default, a file): WAL (readers never block the writer), a busy timeout and
``BEGIN IMMEDIATE`` for write transactions, so concurrent writers (threads or processes) queue
for the write lock instead of failing with "database is locked" halfway through; foreign keys
on. PostgreSQL (psycopg 3): READ COMMITTED, under which ``UPDATE … SET n = n + 1 … RETURNING``
and ``SELECT … FOR UPDATE`` make concurrent writers wait for the row, not fail.
"""

from __future__ import annotations

import contextlib
import enum
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, PrimaryKeyConstraint, UniqueConstraint, create_engine, event, exc
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from station.db.base import NaiveInstantError
from station.db.center_tables import CenterBase
from station.db.point_tables import PointBase
from station.errors import StationError

BUSY_TIMEOUT = 60.0
"""Seconds an SQLite writer waits for the write lock before :class:`DatabaseError`."""


class Role(enum.StrEnum):
    """Whose database: the Center's tables or a collection point's (never both in one)."""

    CENTER = "center"
    POINT = "point"


class DatabaseError(StationError):
    """The database could not be opened, migrated or written; the message names no data."""


class ConstraintError(DatabaseError):
    """A constraint refused a write (the transaction was rolled back, nothing was written).

    ``constraint`` is the constraint's or unique index's name, the same on SQLite and PostgreSQL
    (e.g. ``uq_persons_demographic_key``; ``table.column`` for a missing value), or None when
    the database does not say (SQLite's foreign keys); ``kind`` is "unique", "foreign-key",
    "not-null", "check" or "other".
    """

    def __init__(self, message: str, *, constraint: str | None, kind: str) -> None:
        super().__init__(message)
        self.constraint = constraint
        self.kind = kind


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of an SQLite file (absolute, so it does not depend on the cwd)."""
    return URL.create("sqlite", database=str(Path(path).resolve())).render_as_string()


def metadata_for(role: Role) -> MetaData:
    """The tables of ``role``'s database."""
    return CenterBase.metadata if role is Role.CENTER else PointBase.metadata


class Database:
    """An opened station database: ``engine`` and :meth:`session`, one transaction each."""

    def __init__(self, engine: Engine, role: Role) -> None:
        self.engine = engine
        self.role = role
        self._read_engine = _read_only_engine(engine)
        self._write = sessionmaker(engine, expire_on_commit=False)
        self._read = sessionmaker(self._read_engine, expire_on_commit=False)
        self._writing = threading.local()

    @property
    def dialect(self) -> str:
        """"sqlite" or "postgresql"."""
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back when it raises.

        ``write=False``: a read-only transaction (it never waits for SQLite's write lock; a
        write in it fails, on both databases). Database failures come out as
        :class:`DatabaseError` / :class:`ConstraintError` (the SQLAlchemy exception as
        ``__cause__``); other exceptions pass through after the rollback.
        """
        if write and getattr(self._writing, "active", False):
            # On SQLite the inner BEGIN IMMEDIATE would wait for the outer one's lock, held by
            # this very thread, until the busy timeout: say so at once, on both databases.
            raise DatabaseError("a write transaction is already open in this thread "
                                "(one use case, one transaction)")
        maker = self._write if write else self._read
        try:
            if write:
                self._writing.active = True
            with maker() as session, session.begin():
                yield session
        except exc.IntegrityError as error:
            raise constraint_error(error, metadata_for(self.role)) from error
        except exc.SQLAlchemyError as error:
            raise database_error(error) from error
        finally:
            if write:
                self._writing.active = False

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        self._read_engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.engine.url.render_as_string(hide_password=True)!r}, {self.role})"


def database_error(error: exc.SQLAlchemyError) -> DatabaseError:
    """A :class:`DatabaseError` for ``error`` naming its kind (and, for a connection or lock
    problem, the driver's first line), never the statement or its parameters."""
    orig = getattr(error, "orig", None)
    if isinstance(orig, NaiveInstantError):  # our own message, naming no value
        return DatabaseError(str(orig))
    kind = type(orig).__name__ if orig is not None else type(error).__name__
    if isinstance(error, exc.OperationalError) and orig is not None:
        first = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
        return DatabaseError(f"database error ({kind}): {first}" if first else kind)
    return DatabaseError(f"database error ({kind})")


_SQLITE_COLUMNS = re.compile(r"^(UNIQUE|NOT NULL) constraint failed: (.+)$")
_SQLITE_CHECK = re.compile(r"^CHECK constraint failed: (\S+)")
_PG_KINDS = {"23505": "unique", "23503": "foreign-key", "23502": "not-null", "23514": "check"}


def constraint_error(error: exc.IntegrityError, metadata: MetaData) -> ConstraintError:
    """A :class:`ConstraintError` naming the constraint that refused the write."""
    orig: Any = error.orig
    constraint: str | None = None
    kind = "other"
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg
        kind = _PG_KINDS.get(getattr(orig, "sqlstate", None) or "", "other")
        constraint = diag.constraint_name
        if kind == "not-null" and diag.table_name and diag.column_name:
            constraint = f"{diag.table_name}.{diag.column_name}"  # as SQLite says it
    else:  # sqlite3: the message names the columns, the metadata names the constraint
        text = str(orig)
        if match := _SQLITE_COLUMNS.match(text):
            kind = "unique" if match[1] == "UNIQUE" else "not-null"
            columns = [c.strip() for c in match[2].split(",")]
            if kind == "unique":
                constraint = _sqlite_unique_name(metadata, columns)
            elif len(columns) == 1:
                constraint = columns[0]
        elif match := _SQLITE_CHECK.match(text):
            kind, constraint = "check", match[1]
        elif text.startswith("FOREIGN KEY constraint failed"):
            kind = "foreign-key"
    what = {
        "unique": "the same key is already recorded",
        "foreign-key": "the write refers to a row that does not exist",
        "not-null": "a required value is missing",
        "check": "a value breaks a rule of the schema",
    }.get(kind, "the database refused the write")
    message = what + (f" ({constraint})" if constraint else "")
    return ConstraintError(message, constraint=constraint, kind=kind)


def _sqlite_unique_name(metadata: MetaData, qualified: list[str]) -> str | None:
    tables = {c.rsplit(".", 1)[0] for c in qualified}
    if len(tables) != 1:
        return None
    table = metadata.tables.get(tables.pop())
    if table is None:
        return None
    columns = {c.rsplit(".", 1)[1] for c in qualified}
    candidates: list[tuple[Any, set[str]]] = [
        (index.name, {c.name for c in index.columns}) for index in table.indexes if index.unique
    ]
    candidates += [
        (cons.name, {c.name for c in cons.columns})
        for cons in table.constraints
        if isinstance(cons, UniqueConstraint | PrimaryKeyConstraint)
    ]
    for name, cols in candidates:
        if cols == columns and isinstance(name, str):
            return name
    return None


def _wal(cursor: Any) -> None:
    """Put the file in WAL mode (a property of the file: once is enough). SQLite answers a
    conversion that races another opener's lock with "database is locked" at once, without its
    busy handler (found by four threads opening one fresh file), so it is retried here until
    the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


def _sqlite_engine(url: URL, *, read_only: bool = False) -> Engine:
    if url.database in (None, "", ":memory:") or str(url.database).startswith("file::memory:"):
        raise DatabaseError("an SQLite station database must be a file (sqlite_url(path))")
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN: _begin below issues it
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
            if not read_only:
                _wal(cursor)
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA query_only = {int(read_only)}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # A write transaction takes the write lock at BEGIN, waiting (busy_timeout) for it: a
        # deferred one that read first and writes later fails at once when another wrote since.
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")

    return engine


def _read_only_engine(engine: Engine) -> Engine:
    """The engine of ``session(write=False)``: SQLite, a second pool with ``query_only``;
    PostgreSQL, a second pool whose connections are read-only (``default_transaction_read_only``)
    and run each statement in its own transaction (autocommit): under READ COMMITTED every
    statement takes its own snapshot anyway, so a read transaction would add two round trips
    (BEGIN, COMMIT) and no consistency. No ping before each checkout either (one more round
    trip per read, ``benchmarks/bench_registry.py``): after a server restart the first read on
    a stale connection fails (a :class:`DatabaseError`, HTTP 503 at the API) and SQLAlchemy
    drops the whole pool, so the next read reconnects; writes keep the ping."""
    if engine.dialect.name == "sqlite":
        return _sqlite_engine(engine.url, read_only=True)
    return create_engine(engine.url, isolation_level="AUTOCOMMIT",
                         connect_args={"options": "-c default_transaction_read_only=on"})


def _postgresql_engine(url: URL) -> Engine:
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, isolation_level="READ COMMITTED", pool_pre_ping=True)


def create_station_engine(url: str) -> Engine:
    """An engine for ``url`` with the station's settings (see module doc)."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise DatabaseError("not a database URL (sqlite:///FILE or postgresql://…)") from None
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            return _sqlite_engine(parsed)
        if backend == "postgresql":
            return _postgresql_engine(parsed)
    except (ImportError, exc.SQLAlchemyError) as error:
        raise DatabaseError(f"cannot use {parsed.drivername}: {type(error).__name__}") from error
    raise DatabaseError(f"unsupported database {backend!r}: sqlite or postgresql")


def open_database(url: str, role: Role, *, migrate: bool = True) -> Database:
    """Open ``role``'s database at ``url``; with ``migrate``, upgrade its schema to the newest
    revision first (in one transaction, concurrent openers wait for each other).

    Raises :class:`DatabaseError` when it cannot be reached, or belongs to the other role.
    """
    from station.db import migrate as migrations

    engine = create_station_engine(url)
    try:
        if migrate:
            migrations.upgrade(engine, role)
        else:
            migrations.check_role(engine, role)
    except exc.SQLAlchemyError as error:
        engine.dispose()
        raise database_error(error) from error
    except BaseException:
        engine.dispose()
        raise
    return Database(engine, role)


__all__ = [
    "BUSY_TIMEOUT",
    "ConstraintError",
    "Database",
    "DatabaseError",
    "Role",
    "constraint_error",
    "create_station_engine",
    "database_error",
    "metadata_for",
    "open_database",
    "sqlite_url",
]
