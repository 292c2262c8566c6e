"""station.db: opening, transactions, errors, the role of a database."""

from __future__ import annotations

import datetime as dt

import pytest

from station.db import ConstraintError, Database, DatabaseError, Role, open_database
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
