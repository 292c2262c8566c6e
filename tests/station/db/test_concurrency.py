"""Concurrent writers queue, they do not fail, on SQLite (WAL, busy_timeout, BEGIN IMMEDIATE) and
on PostgreSQL (READ COMMITTED row locks): serials and card numbers handed out under contention
are all distinct and leave no gap. The Center's PINFL serials (issue 10: "two different persons
must never get the same PINFL (serial from the database …)") and card numbers ("allocated by the
Center without gaps or duplicates under concurrency") are built on these two patterns."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.conftest import ROOT
from tests.station.db.serial_worker import take_serial

import station.db.database
from station.db import Database, DatabaseError, Role, open_database, sqlite_url
from station.db.center_tables import CardSeries, PINFLBlock, Point

THREADS = 8
PER_THREAD = 15
PREFIX = "3150390261"  # century/sex 3, 15.03.90, place 261


def _in_threads(work: Callable[[], int]) -> list[int]:
    """Run ``work`` PER_THREAD times in each of THREADS threads started together."""
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    def run() -> None:
        try:
            barrier.wait()
            for _ in range(PER_THREAD):
                value = work()
                with lock:
                    results.append(value)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    return results


def test_update_returning_serials_are_distinct_and_gapless(center_db: Database) -> None:
    with center_db.session() as session:
        session.add(PINFLBlock(prefix=PREFIX, next_serial=1))

    def work() -> int:
        with center_db.session() as session:
            serial = take_serial(session, PREFIX)
            time.sleep(0.001)  # hold the lock a little: the others must wait, not fail
            return serial

    serials = _in_threads(work)
    assert sorted(serials) == list(range(1, THREADS * PER_THREAD + 1))
    with center_db.session(write=False) as session:
        assert session.get(PINFLBlock, PREFIX).next_serial == THREADS * PER_THREAD + 1  # type: ignore[union-attr]


def test_read_then_write_under_for_update_is_gapless(center_db: Database) -> None:
    """Card numbers: read the active series' next number, write it back + 1, in one transaction
    (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the lock)."""
    with center_db.session() as session:
        session.add(CardSeries(series="AD", next_number=1, active=True))

    def take_number(session: Session) -> int:
        series = session.scalars(
            select(CardSeries).where(CardSeries.active).with_for_update()
        ).one()
        number = series.next_number
        time.sleep(0.001)  # between the read and the write: a lost update would show here
        series.next_number = number + 1
        return number

    def work() -> int:
        with center_db.session() as session:
            return take_number(session)

    numbers = _in_threads(work)
    assert sorted(numbers) == list(range(1, THREADS * PER_THREAD + 1))


def test_a_failed_transaction_returns_nothing_it_took(center_db: Database) -> None:
    """A serial taken in a transaction that then fails is not used up (rolled back): no gap."""
    with center_db.session() as session:
        session.add(PINFLBlock(prefix=PREFIX, next_serial=1))

    class Abort(Exception):
        pass

    def work() -> int:
        try:
            with center_db.session() as session:
                serial = take_serial(session, PREFIX)
                if serial % 3 == 0:
                    raise Abort
                return serial
        except Abort:
            return -1

    taken = [s for s in _in_threads(work) if s != -1]
    assert sorted(taken) == list(range(1, len(taken) + 1))


def test_writer_processes_queue(center_db: Database) -> None:
    """Three processes (as a Center's server workers would be), each with its own engine."""
    with center_db.session() as session:
        session.add(PINFLBlock(prefix=PREFIX, next_serial=1))
        session.add(Point(code="TAS01", name="T", kind="internal-affairs", place_code="261",
                          created_at=dt.datetime(2026, 12, 4, tzinfo=dt.UTC)))
    url = center_db.engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.station.db.serial_worker", url, PREFIX, "20"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(3)
    ]
    serials: list[int] = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        serials += [int(line) for line in out.split()]
    assert sorted(serials) == list(range(1, 61))


def test_a_reader_does_not_wait_for_a_writer_and_a_second_writer_queues(
    center_db: Database,
) -> None:
    with center_db.session() as session:
        session.add(PINFLBlock(prefix=PREFIX, next_serial=1))
    holding, release, second_done = threading.Event(), threading.Event(), threading.Event()
    taken: list[int] = []

    def first_writer() -> None:
        with center_db.session() as session:
            taken.append(take_serial(session, PREFIX))
            holding.set()
            release.wait(30)

    def second_writer() -> None:
        with center_db.session() as session:
            taken.append(take_serial(session, PREFIX))
        second_done.set()

    first = threading.Thread(target=first_writer)
    first.start()
    second = threading.Thread(target=second_writer)
    try:
        assert holding.wait(30)
        started = time.monotonic()
        with center_db.session(write=False) as session:  # the last committed state, at once
            assert session.scalars(select(PINFLBlock.next_serial)).one() == 1
        assert time.monotonic() - started < 5
        second.start()
        assert not second_done.wait(0.5)  # queued behind the first writer, not failed
    finally:
        release.set()
        first.join(30)
    assert second_done.wait(30)
    second.join(30)
    assert taken == [1, 2]


def test_a_writer_that_waits_too_long_gets_a_database_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: past BUSY_TIMEOUT the waiting writer gives up with a typed error."""
    url = sqlite_url(tmp_path / "center.db")
    holder = open_database(url, Role.CENTER)
    monkeypatch.setattr(station.db.database, "BUSY_TIMEOUT", 0.2)
    impatient = open_database(url, Role.CENTER)
    try:
        with holder.session() as session:
            session.add(PINFLBlock(prefix=PREFIX, next_serial=1))
            session.flush()
            locked = r"^database error \(OperationalError\): database is locked$"
            with pytest.raises(DatabaseError, match=locked), impatient.session() as waiting:
                waiting.get(PINFLBlock, PREFIX)
    finally:
        impatient.close()
        holder.close()
