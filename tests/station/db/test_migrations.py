"""The Alembic trees (station/db/migrations/{center,point}): upgrade from empty, downgrade to
base and up again, and the migrated schema equal to the models (``alembic check``), on SQLite and
on PostgreSQL."""

from __future__ import annotations

import io
import threading
import tomllib
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect
from tests.conftest import ROOT

from station.db import Role, metadata_for, open_database
from station.db.database import create_station_engine
from station.db.migrate import alembic_config, current, downgrade, head, upgrade, version_table

ROLES = pytest.mark.parametrize("role", list(Role), ids=str)


def _diff(engine: Engine, role: Role) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": version_table(role)}
        )
        return list(compare_metadata(context, metadata_for(role)))


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


@ROLES
def test_upgrade_from_empty_gives_the_models(database_url: str, role: Role) -> None:
    db = open_database(database_url, role)
    try:
        assert _tables(db.engine) == set(metadata_for(role).tables) | {version_table(role)}
        assert current(db.engine, role) == head(role)
        assert _diff(db.engine, role) == []
    finally:
        db.close()


@ROLES
def test_downgrade_to_base_then_upgrade_again(database_url: str, role: Role) -> None:
    engine = create_station_engine(database_url)
    try:
        upgrade(engine, role)
        downgrade(engine, role, "base")
        assert _tables(engine) == {version_table(role)}
        assert current(engine, role) is None
        upgrade(engine, role)
        assert current(engine, role) == head(role)
        assert _diff(engine, role) == []
    finally:
        engine.dispose()


def test_the_roles_databases_hold_only_their_own_tables() -> None:
    center, point = set(metadata_for(Role.CENTER).tables), set(metadata_for(Role.POINT).tables)
    audit = {"audit_entries", "audit_head", "audit_checkpoints"}  # each keeps its own chain
    assert center == {"points", "operators", "persons", "pinfl_blocks", "card_series",
                      "requests", "cards", "card_events", "revocations", "card_sods", "users",
                      "login_sessions"} | audit
    assert point == {"applications", "refusals", "handovers", "point_events", "blanks", "jobs",
                     "biometric_captures"} | audit


@ROLES
def test_a_change_to_the_models_without_a_revision_is_seen(database_url: str, role: Role) -> None:
    """The comparison the tests above rely on does see a difference (it is not vacuous)."""
    from sqlalchemy import Column, Integer, MetaData, Table

    engine = create_station_engine(database_url)
    try:
        upgrade(engine, role)
        extra = MetaData()
        for table in metadata_for(role).tables.values():
            table.to_metadata(extra)
        Table("unmigrated", extra, Column("id", Integer, primary_key=True))
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"version_table": version_table(role)}
            )
            diff = compare_metadata(context, extra)
        assert [(d[0], d[1].name) for d in diff] == [("add_table", "unmigrated")]
    finally:
        engine.dispose()


@ROLES
def test_concurrent_openers_of_a_fresh_database_all_succeed(database_url: str, role: Role) -> None:
    """Four processes' worth of openers at once: one migrates, the others wait and find it done."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_it() -> None:
        try:
            barrier.wait()
            open_database(database_url, role).close()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    engine = create_station_engine(database_url)
    try:
        assert current(engine, role) == head(role)
        assert _diff(engine, role) == []
    finally:
        engine.dispose()


def test_offline_sql_for_postgresql_has_the_partial_index() -> None:
    """``alembic upgrade --sql``: the script a DBA can read before running it."""
    config = alembic_config(Role.POINT)
    config.set_main_option("sqlalchemy.url", "postgresql+psycopg://")
    out = io.StringIO()
    config.output_buffer = out
    with redirect_stdout(io.StringIO()):
        command.upgrade(config, "head", sql=True)
    sql = out.getvalue()
    assert "CREATE TABLE applications (" in sql
    assert (
        "CREATE UNIQUE INDEX uq_applications_open_person_key_ground ON applications "
        "(person_key, ground) WHERE open;" in sql
    )
    assert "CREATE TABLE alembic_version_point" in sql


def test_every_migration_file_is_package_data() -> None:
    """pyproject's package-data globs take every file of both trees into the wheel (an
    installed ``idkarta`` must find its revisions)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    package = ROOT / "src" / "station"
    globs = config["tool"]["setuptools"]["package-data"]["station"]
    packaged = {p for pattern in globs for p in package.glob(pattern)}
    files = {
        p for p in (package / "db" / "migrations").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert {p.relative_to(package).as_posix() for p in files} >= {
        "db/migrations/center/env.py", "db/migrations/point/script.py.mako",
        "db/migrations/point/versions/point_0001_initial.py",
    }
    assert files - packaged == set()


@ROLES
def test_alembic_commands_by_url(database_url: str, role: Role) -> None:
    """Alembic's own commands on a URL (no connection handed in): what a developer runs to
    write the next revision (``command.revision(config, autogenerate=True)``)."""
    config = alembic_config(role)
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    command.upgrade(config, "head")
    engine = create_station_engine(database_url)
    try:
        assert current(engine, role) == head(role)
        assert _diff(engine, role) == []
    finally:
        engine.dispose()


def test_a_migration_that_breaks_foreign_keys_is_rolled_back(tmp_path: Path) -> None:
    """SQLite: foreign keys are off while a migration runs (batch mode copies tables), and
    checked before its commit; a broken reference undoes the whole migration."""
    from sqlalchemy import text

    from station.db import DatabaseError, sqlite_url
    from station.db.migrate import _locked

    engine = create_station_engine(sqlite_url(tmp_path / "center.db"))
    try:
        upgrade(engine, Role.CENTER)
        with pytest.raises(DatabaseError, match=r"^the migration broke 1 foreign-key reference$"), \
                _locked(engine, Role.CENTER) as connection:
            connection.execute(text(
                "INSERT INTO operators (id, point_code, login, name, role) "
                "VALUES (1, 'NOWHERE', 'ali', 'Ali', 'operator')"
            ))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM operators")).scalar_one() == 0
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    finally:
        engine.dispose()
