"""tests/postgres.py: the private cluster listens on nothing but its socket, runs unprivileged,
and is gone (process and folder) after stop."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest
import tests.conftest
import tests.postgres
from tests.postgres import SETTINGS, PostgresCluster


def _uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


def test_session_cluster_is_private(postgres_cluster: PostgresCluster) -> None:
    with psycopg.connect(**postgres_cluster.connect_args("postgres")) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)
        assert conn.execute("SHOW unix_socket_directories").fetchone() == (
            str(postgres_cluster.socket_dir),
        )
        assert conn.execute("SHOW fsync").fetchone() == ("off",)
    assert postgres_cluster.proc is not None
    if os.geteuid() == 0:
        assert _uid(postgres_cluster.proc.pid) != 0


def test_create_database_gives_a_fresh_empty_database(postgres_cluster: PostgresCluster) -> None:
    url, dbname, drop = postgres_cluster.create_database("harness")
    assert url == f"postgresql+psycopg://postgres@/{dbname}?host={postgres_cluster.socket_dir}"
    with psycopg.connect(**postgres_cluster.connect_args(dbname)) as conn:
        assert conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone() == (0,)
    drop()
    with psycopg.connect(**postgres_cluster.connect_args("postgres")) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (dbname,)
        ).fetchone() == (0,)


def test_stop_ends_the_server_and_removes_its_folder() -> None:
    cluster = PostgresCluster()
    cluster.start()
    assert cluster.proc is not None
    pid = cluster.proc.pid
    cluster.stop()
    assert not Path(f"/proc/{pid}").exists()
    assert not cluster.tmp.exists()


def test_a_server_that_does_not_start_fails_with_its_log(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(SETTINGS, "shared_buffers", "lots")
    cluster = PostgresCluster()
    with pytest.raises(pytest.fail.Exception) as caught:
        cluster.start()
    assert "postgres did not start" in str(caught.value)
    assert 'invalid value for parameter "shared_buffers": "lots"' in str(caught.value)
    assert cluster.proc is None
    assert not cluster.tmp.exists()


@pytest.mark.parametrize(("in_ci", "outcome"), [(False, pytest.skip.Exception),
                                                (True, pytest.fail.Exception)])
def test_missing_postgresql_skips_locally_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, in_ci: bool, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(tests.conftest, "IN_CI", in_ci)
    monkeypatch.setattr(tests.postgres, "find_binary", lambda name: None)
    with pytest.raises(outcome, match="PostgreSQL"):
        PostgresCluster()


def test_binaries_found_on_path_or_under_usr_lib_postgresql(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    installed = list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    tests.conftest.require_component(bool(installed), "Debian's PostgreSQL (/usr/lib/postgresql)")
    newest = max(installed, key=lambda p: int(p.parts[-3]))
    monkeypatch.setenv("PATH", "/nonexistent")  # Debian keeps them off PATH
    assert tests.postgres.find_binary("initdb") == str(newest)
    assert tests.postgres.find_binary("no-such-postgres-tool") is None
