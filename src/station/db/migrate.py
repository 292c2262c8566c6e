"""Alembic, driven from code: one migration tree per role, no ``alembic.ini``.

``migrations/center`` and ``migrations/point`` are two independent trees, each with its own
version table (``alembic_version_center`` / ``alembic_version_point``), so a Center's database
and a point's never share a revision history. :func:`upgrade` runs inside ONE transaction that
also serialises concurrent openers (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-level
advisory lock), so two processes opening a fresh database do not both create it. On SQLite,
foreign keys are off while the schema changes (batch mode copies tables) and checked with
``PRAGMA foreign_key_check`` before the commit, as SQLite's documentation prescribes.

A new revision, after changing ``center_tables.py`` or ``point_tables.py``: draft it against a
database at head, then read and tidy it by hand (``tests/station/db/test_migrations.py`` checks
the result equals the models on SQLite and PostgreSQL, both ways)::

    config = alembic_config(Role.CENTER)
    config.set_main_option("sqlalchemy.url", sqlite_url(Path("/tmp/at-head.db")))
    command.upgrade(config, "head")
    command.revision(config, message="…", autogenerate=True, rev_id="center_0002")
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, inspect, text

from station.db.database import DatabaseError, Role, metadata_for

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def version_table(role: Role) -> str:
    """The table holding ``role``'s schema revision."""
    return f"alembic_version_{role.value}"


def alembic_config(role: Role, connection: Connection | None = None) -> Config:
    """An Alembic configuration for ``role``'s tree; ``connection`` (when given) is used by
    ``env.py`` instead of opening one (``command.upgrade(alembic_config(...), "head")``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS / role.value))
    config.attributes["role"] = role
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head(role: Role) -> str:
    """The newest revision of ``role``'s tree."""
    revision = ScriptDirectory.from_config(alembic_config(role)).get_current_head()
    assert revision is not None
    return revision


def current(engine: Engine, role: Role) -> str | None:
    """The revision ``engine``'s database is at (None: no schema yet)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": version_table(role)}
        )
        return context.get_current_revision()


def check_role(engine: Engine, role: Role) -> None:
    """Raise :class:`DatabaseError` when the database holds the other role's schema."""
    with engine.connect() as connection:
        _check_role(connection, role)


def _check_role(connection: Connection, role: Role) -> None:
    other = Role.POINT if role is Role.CENTER else Role.CENTER
    if inspect(connection).has_table(version_table(other)):
        raise DatabaseError(f"this database is a {other.value}'s, not a {role.value}'s")


@contextmanager
def _locked(engine: Engine, role: Role) -> Iterator[Connection]:
    """A connection in a transaction that no other migrator of this database runs beside."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # before the transaction begins: the pragma is a no-op inside one
            connection.connection.driver_connection.execute(  # type: ignore[union-attr]
                "PRAGMA foreign_keys = OFF"
            )
        try:
            with connection.begin():  # SQLite: BEGIN IMMEDIATE (station.db.database)
                if connection.dialect.name == "postgresql":
                    key = zlib.crc32(f"idkarta {role.value} schema".encode())
                    connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
                _check_role(connection, role)
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        n = len(broken)
                        raise DatabaseError(
                            f"the migration broke {n} foreign-key reference{'s' * (n != 1)}"
                        )
        finally:
            if sqlite:
                connection.connection.driver_connection.execute(  # type: ignore[union-attr]
                    "PRAGMA foreign_keys = ON"
                )


def upgrade(engine: Engine, role: Role, revision: str = "head") -> None:
    """Upgrade ``role``'s schema to ``revision`` (all or nothing).

    A database at a revision this code does not know (written by a newer idkarta) is a
    :class:`DatabaseError`, and is left as it is.
    """
    with _locked(engine, role) as connection, _command_errors(role):
        command.upgrade(alembic_config(role, connection), revision)


def downgrade(engine: Engine, role: Role, revision: str = "base") -> None:
    """Downgrade ``role``'s schema to ``revision`` ("base": no tables; all or nothing)."""
    with _locked(engine, role) as connection, _command_errors(role):
        command.downgrade(alembic_config(role, connection), revision)


@contextmanager
def _command_errors(role: Role) -> Iterator[None]:
    try:
        yield
    except CommandError as error:
        raise DatabaseError(f"cannot migrate the {role.value}'s schema: {error}") from error


def run_env(config: Config) -> None:
    """The body of each tree's ``env.py``."""
    from alembic import context

    role = Role(str(config.attributes.get("role") or config.get_main_option("station_role")))
    options: dict[str, Any] = {
        "target_metadata": metadata_for(role),
        "version_table": version_table(role),
        "render_as_batch": True,
        "compare_type": True,
    }
    if context.is_offline_mode():  # `alembic upgrade --sql`: the script for a DBA
        context.configure(
            url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **options
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is None:
        from station.db.database import create_station_engine

        url = config.get_main_option("sqlalchemy.url")
        if not url:
            raise DatabaseError("no database: set sqlalchemy.url or pass a connection")
        engine = create_station_engine(url)
        try:
            with _locked(engine, role) as locked:
                context.configure(connection=locked, **options)
                context.run_migrations()
        finally:
            engine.dispose()
        return
    context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()


__all__ = [
    "MIGRATIONS",
    "alembic_config",
    "check_role",
    "current",
    "downgrade",
    "head",
    "run_env",
    "upgrade",
    "version_table",
]
