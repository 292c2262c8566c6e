"""Fixtures of the station's tests: the session's private pcscd (tests/pcsc_harness.py) and the
station databases, on SQLite and on PostgreSQL.

- ``database_backend``: "sqlite" or "postgresql" (every test that uses the fixtures below runs
  once on each; PostgreSQL is a private cluster of ``tests/postgres.py``, skipped locally when it
  is not installed, required under CI=true).
- ``new_database_url``: a factory, ``new_database_url(name, *, migrated=None) -> str``, of
  databases on that backend (an SQLite file in ``tmp_path``; ``CREATE DATABASE`` in the
  cluster), empty or migrated to head for a role (``migrated=Role.CENTER``).
- ``database_url``: one such empty database.
- ``center_db`` / ``point_db``: a :class:`station.db.Database` of that role, migrated, each in a
  database of its own (a test may use both: the Center and a point never share a database).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import pytest
from tests.pcsc_harness import pcscd
from tests.postgres import PostgresCluster, postgres_cluster

from station.db import Database, Role, open_database, sqlite_url


class NewDatabaseURL(Protocol):
    def __call__(self, name: str, *, migrated: Role | None = None) -> str: ...


@pytest.fixture(params=["sqlite", "postgresql"])
def database_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def postgres_templates() -> dict[Role, str]:
    """Per role, a database of the session's cluster migrated to head: CREATE DATABASE copies
    it (0.13 s) instead of migrating each test's database anew (0.27 s)."""
    return {}


@pytest.fixture
def new_database_url(
    database_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[NewDatabaseURL]:
    """Makes databases on ``database_backend``, empty or (``migrated=role``) at the newest
    revision of ``role``'s schema; dropped after the test."""
    cleanups: list[Callable[[], None]] = []

    def make(name: str, *, migrated: Role | None = None) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", name):
            raise ValueError(f"database name {name!r}: lower-case letters, digits, _")
        if database_backend == "sqlite":
            path = tmp_path / f"{name}.db"
            if path.exists():
                raise ValueError(f"database {name!r} made twice in one test")
            url = sqlite_url(path)
            if migrated is not None:
                open_database(url, migrated).close()
            return url
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        template = "template0"
        if migrated is not None:
            templates: dict[Role, str] = request.getfixturevalue("postgres_templates")
            if migrated not in templates:
                made = cluster.create_database(f"template_{migrated.value}")
                open_database(made.url, migrated).close()
                templates[migrated] = made.name
            template = templates[migrated]
        made = cluster.create_database(name, template=template)
        cleanups.append(made.drop)
        return made.url

    yield make
    for cleanup in reversed(cleanups):
        cleanup()


@pytest.fixture
def database_url(new_database_url: NewDatabaseURL) -> str:
    """An empty database (no tables) on ``database_backend``."""
    return new_database_url("main")


def _opened(new_database_url: NewDatabaseURL, role: Role) -> Iterator[Database]:
    db = open_database(new_database_url(role.value, migrated=role), role)
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def center_db(new_database_url: NewDatabaseURL) -> Iterator[Database]:
    """The Center's database, migrated to head."""
    yield from _opened(new_database_url, Role.CENTER)


@pytest.fixture
def point_db(new_database_url: NewDatabaseURL) -> Iterator[Database]:
    """A collection point's database, migrated to head."""
    yield from _opened(new_database_url, Role.POINT)


__all__ = ["pcscd", "postgres_cluster"]
