"""A writer killed (SIGKILL) in the middle of a transaction leaves the database consistent: each
transaction is there whole or not at all ("never a partial write", COMMON rules), and the next
writer gets the lock at once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from tests.conftest import ROOT
from tests.station.db.crash_worker import ROWS

from station.db import Database
from station.db.center_tables import CardSeries, PINFLBlock


def _start(url: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.station.db.crash_worker", url],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _read_until(proc: subprocess.Popen[str], wanted: str) -> str:
    """Read the writer's lines up to the first that starts with ``wanted``."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(wanted):
            return line.strip()
    pytest.fail(f"the writer ended before {wanted!r}: {proc.stderr.read() if proc.stderr else ''}")


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    assert proc.returncode == -signal.SIGKILL


def _check_whole(db: Database) -> dict[int, int]:
    """Rows per batch; every batch complete, and the counter moved by exactly those rows."""
    with db.session(write=False) as session:
        if db.dialect == "sqlite":
            assert session.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
        per_batch = dict(
            session.execute(
                select(PINFLBlock.next_serial, func.count()).group_by(PINFLBlock.next_serial)
            ).all()
        )
        counter = session.scalars(select(CardSeries.next_number)).one()
    assert set(per_batch.values()) <= {ROWS}
    assert sorted(per_batch) == list(range(len(per_batch)))
    assert counter == ROWS * len(per_batch)
    return per_batch


@pytest.fixture
def prepared(center_db: Database) -> Database:
    with center_db.session() as session:
        session.add(CardSeries(series="AD", next_number=0, active=True))
    return center_db


def test_killed_mid_transaction_writes_nothing_of_it(prepared: Database) -> None:
    url = prepared.engine.url.render_as_string(hide_password=False)
    proc = _start(url)
    try:
        wal = Path(str(prepared.engine.url.database) + "-wal")
        _read_until(proc, "committed 1")
        committed = wal.stat().st_size if prepared.dialect == "sqlite" else 0
        _read_until(proc, "writing 2")
        if prepared.dialect == "sqlite":  # the half-written batch's pages are already on disk
            assert wal.stat().st_size > committed
    finally:
        _kill(proc)
    assert sorted(_check_whole(prepared)) == [0, 1]
    with prepared.session() as session:  # the dead writer's lock is gone
        session.add(PINFLBlock(prefix="9999000000", next_serial=0))


def test_killed_at_random_moments_every_transaction_whole_or_absent(prepared: Database) -> None:
    url = prepared.engine.url.render_as_string(hide_password=False)
    rng = random.Random(10)
    seen: set[int] = set()
    for _ in range(3):
        proc = _start(url)
        try:
            _read_until(proc, "writing")
            time.sleep(rng.uniform(0.0, 0.3))  # mid-batch, between batches, mid-commit…
        finally:
            _kill(proc)
        seen |= set(_check_whole(prepared))
    assert seen  # some batches did commit before their writer died
