"""What the schema itself refuses, the same way on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from station.db import ConstraintError, Database, DatabaseError, Role, metadata_for
from station.db.center_tables import CardSeries, Operator, Person, Point
from station.db.point_tables import Application

NOW = dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC)
TASHKENT = dt.timezone(dt.timedelta(hours=5))


def _application(person_key: str, ground: str, *, open_: bool = True) -> Application:
    return Application(
        id=str(uuid.uuid4()), point_code="TAS01", operator="op1", scheme="citizen",
        ground=ground, form="{}", person_key=person_key, status="accepted", accepted_at=NOW,
        due_date=dt.date(2026, 12, 7), fee_waived=False, open=open_,
    )


def _add(db: Database, *rows: object) -> None:
    with db.session() as session:
        session.add_all(rows)


# issue 10: "a second open application for the same person and ground → exit 1 or 2 with the
# field named, nothing written" — the partial unique index (person_key, ground) WHERE open.
def test_second_open_application_for_person_and_ground_is_refused(point_db: Database) -> None:
    _add(point_db, _application("key-1", "lost"))
    with pytest.raises(ConstraintError) as caught:
        _add(point_db, _application("key-1", "lost"))
    assert caught.value.constraint == "uq_applications_open_person_key_ground"
    assert caught.value.kind == "unique"
    with point_db.session(write=False) as session:
        assert len(session.scalars(select(Application)).all()) == 1


def test_closed_applications_and_other_grounds_do_not_count(point_db: Database) -> None:
    _add(point_db, _application("key-1", "lost", open_=False),
         _application("key-1", "lost", open_=False), _application("key-1", "lost"),
         _application("key-1", "expired"), _application("key-2", "lost"))
    with point_db.session() as session:  # closing the open one frees the pair again
        session.execute(update(Application).where(Application.person_key == "key-1",
                                                  Application.ground == "lost")
                        .values(open=False))
    _add(point_db, _application("key-1", "lost"))
    with point_db.session(write=False) as session:
        assert len(session.scalars(select(Application)).all()) == 6


def _point(code: str = "TAS01") -> Point:
    return Point(code=code, name="Toshkent 1", kind="internal-affairs", place_code="261",
                 created_at=NOW)


def test_at_most_one_active_card_series(center_db: Database) -> None:
    _add(center_db, CardSeries(series="AD", next_number=1, active=True),
         CardSeries(series="AA", next_number=1, active=False),
         CardSeries(series="AB", next_number=1, active=False))
    with pytest.raises(ConstraintError) as caught:
        _add(center_db, CardSeries(series="AE", next_number=1, active=True))
    assert caught.value.constraint == "uq_card_series_one_active"


def test_operator_login_unique_within_a_point(center_db: Database) -> None:
    _add(center_db, _point("TAS01"), _point("SAM01"))
    _add(center_db, Operator(point_code="TAS01", login="ali", name="Ali", role="operator"),
         Operator(point_code="SAM01", login="ali", name="Ali", role="operator"))
    with pytest.raises(ConstraintError) as caught:
        _add(center_db, Operator(point_code="TAS01", login="ali", name="A", role="supervisor"))
    assert caught.value.constraint == "uq_operators_point_code_login"


def test_foreign_keys_are_enforced(center_db: Database) -> None:
    with pytest.raises(ConstraintError) as caught:
        _add(center_db, Operator(point_code="NOWHERE", login="ali", name="Ali", role="operator"))
    assert caught.value.kind == "foreign-key"
    # PostgreSQL names it; SQLite only says "FOREIGN KEY constraint failed"
    named = "fk_operators_point_code_points" if center_db.dialect == "postgresql" else None
    assert caught.value.constraint == named
    assert str(caught.value) == "the write refers to a row that does not exist" + (
        f" ({named})" if named else "")
    assert "NOWHERE" not in str(caught.value)


def _person(pinfl: str, key: str) -> Person:
    return Person(
        pinfl=pinfl, demographic_key=key, surname_lat="Karimov", given_name_lat="Aziz",
        patronymic_lat="Olimovich", surname_cyr="Каримов", given_name_cyr="Азиз",
        patronymic_cyr="Олимович", birth_date=dt.date(1990, 3, 15), sex="M",
        place_of_birth="Toshkent", nationality="o'zbek", citizenship="UZB", address="Toshkent",
        pinfl_generated=True, created_at=NOW, created_by_point="TAS01",
    )


def test_duplicate_pinfl_and_demographic_key_name_their_constraint(center_db: Database) -> None:
    """The message names the constraint, never the personal data that collided."""
    _add(center_db, _point())
    _add(center_db, _person("31503901234567", "karimov aziz 1990-03-15"))
    with pytest.raises(ConstraintError) as caught:
        _add(center_db, _person("31503901234567", "other key"))
    assert caught.value.constraint == "uq_persons_pinfl"
    assert "31503901234567" not in str(caught.value)
    with pytest.raises(ConstraintError) as caught:
        _add(center_db, _person("31503901234568", "karimov aziz 1990-03-15"))
    assert caught.value.constraint == "uq_persons_demographic_key"
    assert "karimov" not in str(caught.value)


def test_instants_come_back_aware_utc(center_db: Database) -> None:
    _add(center_db, Point(code="TAS01", name="T", kind="k", place_code="261",
                          created_at=dt.datetime(2026, 12, 4, 14, 30, tzinfo=TASHKENT)))
    with center_db.session(write=False) as session:
        point = session.get(Point, "TAS01")
    assert point is not None
    assert point.created_at == NOW
    assert point.created_at.utcoffset() == dt.timedelta(0)


def test_naive_instant_is_refused(center_db: Database) -> None:
    with pytest.raises(DatabaseError, match=r"^a naive datetime cannot be stored: give it a "
                                            r"time zone \(UTC\)$"):
        _add(center_db, Point(code="TAS01", name="T", kind="k", place_code="261",
                              created_at=dt.datetime(2026, 12, 4, 9, 30)))
    with center_db.session(write=False) as session:
        assert session.get(Point, "TAS01") is None


def test_missing_value_names_the_column(center_db: Database) -> None:
    with pytest.raises(ConstraintError) as caught:
        _add(center_db, Point(code="TAS01", name=None, kind="k", place_code="261",
                              created_at=NOW))
    assert (caught.value.kind, caught.value.constraint) == ("not-null", "points.name")
    assert str(caught.value) == "a required value is missing (points.name)"


def test_check_constraint_is_named(center_db: Database) -> None:
    """A CHECK constraint (none in the schema yet; a later revision may add some) is named the
    same way on both databases."""
    from sqlalchemy import CheckConstraint, Column, Integer, MetaData, Table, insert

    scratch = Table("scratch", MetaData(), Column("id", Integer, primary_key=True),
                    Column("n", Integer, nullable=False),
                    CheckConstraint("n > 0", name="ck_scratch_positive"))
    scratch.create(center_db.engine)
    with pytest.raises(ConstraintError) as caught, center_db.session() as session:
        session.execute(insert(scratch).values(id=1, n=0))
    assert (caught.value.kind, caught.value.constraint) == ("check", "ck_scratch_positive")
    assert str(caught.value) == "a value breaks a rule of the schema (ck_scratch_positive)"


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(instant=st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1),
                            timezones=st.sampled_from([dt.UTC, TASHKENT,
                                                       dt.timezone(dt.timedelta(hours=-9.5))])))
def test_any_aware_instant_round_trips(center_db: Database, instant: dt.datetime) -> None:
    with center_db.session() as session:
        session.merge(Point(code="TAS01", name="T", kind="k", place_code="261",
                            created_at=instant))
    with center_db.session(write=False) as session:
        stored = session.get(Point, "TAS01")
        assert stored is not None
        assert stored.created_at == instant
        assert stored.created_at.tzinfo == dt.UTC


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_every_unique_rule_is_found_by_its_columns(role: Role) -> None:
    """SQLite names only the columns of a failed unique rule; each rule of the schema must be
    found back from them (no two rules of a table on the same columns), as PostgreSQL names it."""
    from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint

    from station.db.database import _sqlite_unique_name

    metadata = metadata_for(role)
    rules = 0
    for table in metadata.tables.values():
        named = [(i.name, [c.name for c in i.columns]) for i in table.indexes if i.unique]
        named += [(c.name, [col.name for col in c.columns]) for c in table.constraints
                  if isinstance(c, UniqueConstraint | PrimaryKeyConstraint)]
        for name, columns in named:
            rules += 1
            qualified = [f"{table.name}.{column}" for column in columns]
            assert _sqlite_unique_name(metadata, qualified) == name
    # center: + card_sods (sod), users, sessions, audit (accounts); point: + blanks, jobs (jobs),
    # biometric_captures (capture), audit (accounts)
    assert rules == {Role.CENTER: 24, Role.POINT: 15}[role]
