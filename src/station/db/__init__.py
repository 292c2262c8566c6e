"""The station's persistence: SQLAlchemy tables, Alembic migrations, :func:`open_database`.

Two databases, one per :class:`Role`: the Center's (``center_tables``) and a collection point's
(``point_tables``), each with its own Alembic tree. A service takes a :class:`Database` and runs
each use case in one ``with db.session() as session:`` transaction::

    db = open_database(sqlite_url(folder / "center.db"), Role.CENTER)
    with db.session() as session:
        session.add(Point(code="TAS01", ...))

Failures come out as :class:`DatabaseError` (a :class:`ConstraintError` names the constraint),
never as SQLAlchemy's own exceptions.
"""

from station.db.database import (
    BUSY_TIMEOUT,
    ConstraintError,
    Database,
    DatabaseError,
    Role,
    metadata_for,
    open_database,
    sqlite_url,
)

__all__ = [
    "BUSY_TIMEOUT",
    "ConstraintError",
    "Database",
    "DatabaseError",
    "Role",
    "metadata_for",
    "open_database",
    "sqlite_url",
]
