"""One private PostgreSQL cluster for the whole test session, and a fresh database per test.

Like ``tests/pcsc_harness.py`` starts pcscd: ``initdb`` in a temporary folder (trust
authentication, superuser ``postgres``, no locale, no fsync), then ``postgres`` itself started
by this process (its PID is ours to stop), listening on a Unix socket in that folder only
(``listen_addresses = ''``: no TCP port, nothing shared with the host). PostgreSQL refuses to run
as root, so as root both run as ``nobody`` (``Popen(user=…, group=…, extra_groups=[])``: the
folder is chowned to it). Stopped by PID at the end of the session (fast shutdown, then SIGKILL),
and the folder removed; if it does not start, the test fails with the server's log, and when tests
failed, the end of the log is shown after them.

Binaries from ``PATH`` or the newest ``/usr/lib/postgresql/*/bin`` (Debian's ``postgresql``, as
``tools/system-deps`` installs it); missing ones skip locally and fail under CI=true
(:func:`tests.conftest.require_component`).

:meth:`PostgresCluster.create_database` makes a database (``CREATE DATABASE … TEMPLATE
template0``) and gives its psycopg URL over the socket,
``postgresql+psycopg://postgres@/NAME?host=SOCKETDIR``.
"""

from __future__ import annotations

import atexit
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.conftest import require_component

SUPERUSER = "postgres"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
UNPRIVILEGED = "nobody"
SETTINGS = {
    "listen_addresses": "",  # no TCP at all: the Unix socket in the folder only
    "fsync": "off",  # a throw-away cluster: durability is not what the tests measure
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
}


def find_binary(name: str) -> str | None:
    """``name`` on PATH, else in the newest ``/usr/lib/postgresql/*/bin``."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return str(versions[-1]) if versions else None


class CreatedDatabase(NamedTuple):
    """A database made by :meth:`PostgresCluster.create_database`."""

    url: str  # SQLAlchemy URL (psycopg 3, over the socket)
    name: str
    drop: Callable[[], None]  # DROP DATABASE … WITH (FORCE)


class PostgresCluster:
    """A private PostgreSQL cluster (see the module doc); :meth:`start`, then :meth:`stop`."""

    def __init__(self) -> None:
        initdb, postgres = find_binary("initdb"), find_binary("postgres")
        require_component(
            initdb is not None and postgres is not None,
            "PostgreSQL (initdb, postgres; Debian package postgresql)",
        )
        assert initdb is not None and postgres is not None
        self.initdb, self.postgres = initdb, postgres
        self.tmp = Path(tempfile.mkdtemp(prefix="idk-postgres-"))
        self.data = self.tmp / "data"
        self.socket_dir = self.tmp / "socket"
        self.log = self.tmp / "postgres.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)
        self._user: str | None = None
        if os.geteuid() == 0:  # PostgreSQL refuses root: run it as an unprivileged user
            self._user = UNPRIVILEGED
            entry = pwd.getpwnam(UNPRIVILEGED)
            self._uid, self._gid = entry.pw_uid, entry.pw_gid

    def _run_as(self) -> dict[str, object]:
        if self._user is None:
            return {}
        return {"user": self._uid, "group": self._gid, "extra_groups": []}

    def _chown(self, path: Path) -> None:
        if self._user is not None:
            os.chown(path, self._uid, self._gid)

    def start(self) -> None:
        self._chown(self.tmp)
        self.socket_dir.mkdir(mode=0o700)
        self._chown(self.socket_dir)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        initdb = subprocess.run(
            [self.initdb, "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "--no-locale",
             "-E", "UTF8", "--no-sync", "--no-instructions"],
            cwd=self.tmp, env=env, capture_output=True, text=True, check=False,
            **self._run_as(),  # type: ignore[arg-type]
        )
        if initdb.returncode != 0:
            self.stop()
            pytest.fail(f"initdb failed ({initdb.returncode}):\n{initdb.stdout}{initdb.stderr}")
        argv = [self.postgres, "-D", str(self.data), "-k", str(self.socket_dir)]
        for name, value in SETTINGS.items():
            argv += ["-c", f"{name}={value}"]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                argv, cwd=self.tmp, env=env, stdout=out, stderr=subprocess.STDOUT,
                **self._run_as(),  # type: ignore[arg-type]
            )
        atexit.register(self.stop)  # the session fixture stops it; this if pytest dies first
        deadline = time.monotonic() + START_TIMEOUT
        while not self._ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = self.log.read_text(errors="replace")
                self.stop()
                pytest.fail(f"postgres did not start:\n{log}")
            time.sleep(0.05)

    def _ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(**self.connect_args("postgres"), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def connect_args(self, dbname: str) -> dict[str, str]:
        return {"host": str(self.socket_dir), "user": SUPERUSER, "dbname": dbname}

    def url(self, dbname: str) -> str:
        """The SQLAlchemy (psycopg 3) URL of ``dbname`` over the cluster's Unix socket."""
        return f"postgresql+psycopg://{SUPERUSER}@/{dbname}?host={self.socket_dir}"

    def execute(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(**self.connect_args("postgres"), autocommit=True) as conn:
            conn.execute(sql.encode())

    def create_database(self, name: str, *, template: str = "template0") -> CreatedDatabase:
        """A new database ``test_<n>_<name>``, a copy of ``template`` (by default empty)."""
        dbname = f"test_{next(self._names)}_{name}"
        self.execute(f'CREATE DATABASE "{dbname}" TEMPLATE "{template}"')

        def drop() -> None:
            if self.proc is not None and self.proc.poll() is None:
                self.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')

        return CreatedDatabase(self.url(dbname), dbname, drop)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # "fast shutdown": rolls back, disconnects, exits
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)
        shutil.rmtree(self.tmp, ignore_errors=True)


_CLUSTER: PostgresCluster | None = None


@pytest.fixture(scope="session")
def postgres_cluster(request: pytest.FixtureRequest) -> Iterator[PostgresCluster]:
    """The session's private PostgreSQL cluster (started on first use); when tests failed, the
    end of its log is shown at the end of the session."""
    global _CLUSTER
    if _CLUSTER is None:
        cluster = PostgresCluster()
        cluster.start()
        _CLUSTER = cluster
    yield _CLUSTER
    if _CLUSTER is not None:
        if request.session.testsfailed:
            _show_log(request.config, _CLUSTER.log)
        _CLUSTER.stop()
        _CLUSTER = None


def _show_log(config: pytest.Config, log: Path, lines: int = 40) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not log.exists():
        return
    tail = log.read_text(errors="replace").splitlines()[-lines:]
    reporter.write_sep("-", f"PostgreSQL server log (last {len(tail)} lines)")
    for line in tail:
        reporter.write_line(line)
