"""station.db: opening, transactions, errors, the role of a database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests.postgres import PostgresCluster

from station.db import ConstraintError, Database, DatabaseError, Role, open_database, sqlite_url
from station.db.center_tables import Point

NOW = dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC)


def _point(code: str = "TAS01") -> Point:
    return Point(code=code, name="Toshkent 1", kind="internal-affairs", place_code="261",
                 created_at=NOW)


def test_session_commits(center_db: Database) -> None:
    with center_db.session() as session:
        session.add(_point())
    with center_db.session(write=False) as session:
        point = session.get(Point, "TAS01")
        assert point is not None and point.place_code == "261"


def test_session_rolls_back_on_exception(center_db: Database) -> None:
    def fail() -> None:
        with center_db.session() as session:
            session.add(_point())
            session.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail()
    with center_db.session(write=False) as session:
        assert session.get(Point, "TAS01") is None


def test_duplicate_is_a_constraint_error_naming_the_constraint(center_db: Database) -> None:
    with center_db.session() as session:
        session.add(_point())
    with pytest.raises(ConstraintError) as caught, center_db.session() as session:
        session.add(_point())
    assert caught.value.constraint == "pk_points"
    assert caught.value.kind == "unique"
    assert str(caught.value) == "the same key is already recorded (pk_points)"


def test_other_roles_database_is_refused(database_url: str) -> None:
    open_database(database_url, Role.CENTER).close()
    with pytest.raises(DatabaseError, match="this database is a center's, not a point's"):
        open_database(database_url, Role.POINT)


def test_read_only_session_cannot_write(center_db: Database) -> None:
    with pytest.raises(DatabaseError), center_db.session(write=False) as session:
        session.add(_point())
    with center_db.session(write=False) as session:
        assert session.get(Point, "TAS01") is None


def test_unsupported_and_malformed_urls_are_database_errors() -> None:
    with pytest.raises(DatabaseError, match="unsupported database 'mysql'"):
        open_database("mysql://u:secret@host/db", Role.CENTER)
    with pytest.raises(DatabaseError, match="not a database URL"):
        open_database("not a url", Role.CENTER)
    with pytest.raises(DatabaseError, match=r"^an SQLite station database must be a file "
                                            r"\(sqlite_url\(path\)\)$"):
        open_database("sqlite://", Role.CENTER)


def test_unreachable_postgresql_is_a_database_error_without_the_password(
    tmp_path: Path,
) -> None:
    with pytest.raises(DatabaseError) as caught:
        open_database(f"postgresql://u:s3cret@/db?host={tmp_path}", Role.CENTER)
    assert "s3cret" not in str(caught.value)
    assert str(caught.value).startswith("database error (OperationalError): ")


def test_sqlite_url_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert sqlite_url(Path("center.db")) == f"sqlite:///{tmp_path / 'center.db'}"


def test_missing_sqlite_folder_is_a_database_error(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match=r"^database error \(OperationalError\): unable to"):
        open_database(sqlite_url(tmp_path / "no" / "such" / "center.db"), Role.CENTER)


def test_schema_from_a_newer_idkarta_is_refused_and_left_alone(database_url: str) -> None:
    from sqlalchemy import text

    open_database(database_url, Role.POINT).close()
    engine = open_database(database_url, Role.POINT, migrate=False).engine
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version_point SET version_num = 'point_9999'"))
    engine.dispose()
    with pytest.raises(DatabaseError, match=r"cannot migrate the point's schema: .*point_9999"):
        open_database(database_url, Role.POINT)
    engine = open_database(database_url, Role.POINT, migrate=False).engine
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version_point"))
        assert version.scalar_one() == "point_9999"
    engine.dispose()


def test_nested_write_transaction_is_refused_at_once(center_db: Database) -> None:
    """Not a 60 s wait for a lock this thread holds itself (SQLite), nor a second transaction
    (PostgreSQL): one use case, one transaction."""
    with center_db.session() as outer:
        outer.add(_point())
        with pytest.raises(DatabaseError, match="already open in this thread"), \
                center_db.session():
            pass  # pragma: no cover
        with center_db.session(write=False) as reader:  # reading beside it is fine
            assert reader.get(Point, "SAM01") is None
    with center_db.session() as session:  # and the next one after it
        assert session.get(Point, "TAS01") is not None


def test_unknown_driver_is_a_database_error() -> None:
    with pytest.raises(DatabaseError, match=r"^cannot use sqlite\+nosuch: NoSuchModuleError$"):
        open_database("sqlite+nosuch:///x.db", Role.CENTER)
    for memory in ("sqlite:///:memory:", "sqlite:///file::memory:?uri=true"):
        with pytest.raises(DatabaseError, match="must be a file"):
            open_database(memory, Role.CENTER)


def test_an_unclassified_integrity_error_still_says_nothing_of_the_data() -> None:
    """A refusal the driver does not classify (neither sqlite3's nor psycopg's known kinds)."""
    from sqlalchemy import exc

    from station.db.database import constraint_error, metadata_for

    error = exc.IntegrityError("INSERT …", {"pinfl": "31503901234567"}, Exception("odd"))
    converted = constraint_error(error, metadata_for(Role.CENTER))
    assert (converted.kind, converted.constraint) == ("other", None)
    assert str(converted) == "the database refused the write"


def test_after_the_server_dropped_its_connections_one_read_fails_then_all_reconnect(
    postgres_cluster: PostgresCluster,
) -> None:
    """PostgreSQL's read pool does not ping before each read (one round trip less per PINFL
    lookup): the first read on a dropped connection fails with a DatabaseError and the pool is
    renewed; writes ping first, so they never see the dropped connection."""
    made = postgres_cluster.create_database("dropped")
    db = open_database(made.url, Role.CENTER)
    try:
        with db.session() as session:
            session.add(_point())
        with db.session(write=False) as session:  # one pooled connection in each pool
            assert session.get(Point, "TAS01") is not None
        terminate = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
        postgres_cluster.execute(f"{terminate}'{made.name}'")  # our own database's name
        with pytest.raises(DatabaseError), db.session(write=False) as session:
            session.get(Point, "TAS01")
        with db.session(write=False) as session:
            assert session.get(Point, "TAS01") is not None
        with db.session() as session:
            session.add(_point("TAS02"))
    finally:
        db.close()
        made.drop()
