"""Personalization jobs end to end on the in-process virtual chip (SQLite and PostgreSQL): a
returned application becomes a card that passed the read-back gate, with one e-signature
certificate, one OneID event, a blank issued; a failing blank is spoiled with its reason."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from tests.pcsc_harness import PCSCD, READERS, PluggedChip
from tests.station.point.jobs_kit import NOW, reader, returned_application, setup_station, station

from idcard.chip import VirtualChip
from station.db import Database, Role, open_database, sqlite_url
from station.domain.jobs import JobStatus, Step
from station.point import service as point_service
from station.point.errors import PointError
from station.point.jobs import (
    JobEvent,
    JobInfo,
    PCSCReader,
    create_job,
    job_info,
    list_jobs,
    personalize_applications,
    run_job,
)
from station.point.models import ApplicationStatus
from station.point.stock import BlankStatus, list_blanks


def oneid_events(register: Path) -> list[str]:
    """The OneID events queued in the e-signature CA's register (station.outbox)."""
    conn = sqlite3.connect(register)
    try:
        return [r[0] for r in conn.execute("SELECT payload FROM outbox_events")]
    finally:
        conn.close()


def test_a_job_makes_a_verified_card(tmp_path: Path, center_db: Database,
                                     point_db: Database) -> None:
    kit = setup_station(tmp_path, center_db, point_db, blanks=2)
    events: list[JobEvent] = []
    with station(kit, on_event=events.append) as (services, db):
        app_id = returned_application(services, 1)
        job = create_job(db, app_id, reader="R1", now=NOW)
        assert create_job(db, app_id, reader="R2", now=NOW) == job  # one job per application
        done = run_job(services, job.id, reader(kit))
        assert (done.status, done.step, done.blank, done.blanks_used) == (
            JobStatus.READY, None, "B1-00001", 1)
        app = point_service.status(db, app_id)
        assert app.status is ApplicationStatus.VERIFIED
        info = services.center.card_info(done.card)
        assert info.status.value == "verified"
        assert info.esign_serial == done.esign_serial
        certs = [c for c in services.esign.register.all() if c.card_number == done.card]
        assert [(c.serial, c.revoked_at) for c in certs] == [(done.esign_serial, None)]
        assert len(oneid_events(services.esign.register.path)) == 1
    assert [(b.serial, b.status, b.card) for b in list_blanks(db)] == [
        ("B1-00001", BlankStatus.ISSUED, done.card), ("B1-00002", BlankStatus.IN_STOCK, None)]
    steps = [(e.step.value if e.step else None, e.phase) for e in events]
    assert steps[:3] == [("take-blank", "started"), ("take-blank", "performed"),
                         ("take-blank", "done")]
    assert [s for s, p in steps if p == "done"] == [s.value for s in Step]
    assert steps[-1] == (None, "ready")
    assert list_jobs(db)[0].to_json()["status"] == "ready"


def test_several_readers_in_parallel(tmp_path: Path, center_db: Database,
                                     point_db: Database) -> None:
    """Five applications on three readers at once (one thread each): five ready cards, each on a
    blank of its own, each reader used."""
    kit = setup_station(tmp_path, center_db, point_db, blanks=5)
    with station(kit) as (services, db):
        apps = [returned_application(services, i) for i in range(5)]
        readers = [reader(kit, f"R{i}") for i in range(1, 4)]
        results = personalize_applications(services, apps, readers)
        assert all(isinstance(r, JobInfo) and r.status is JobStatus.READY for r in results), [
            r if isinstance(r, BaseException) else r.error for r in results]
        jobs = [r for r in results if isinstance(r, JobInfo)]
        assert [j.application for j in jobs] == apps
        assert len({j.blank for j in jobs}) == 5 and len({j.card for j in jobs}) == 5
        assert {j.reader for j in jobs} == {"R1", "R2", "R3"}
        for job in jobs:
            assert services.center.card_info(job.card).status.value == "verified"
    assert [b.status for b in list_blanks(db)] == [BlankStatus.ISSUED] * 5


def test_through_pcscd_and_vpcd(tmp_path: Path, pcscd: PCSCD) -> None:
    """The blank in a PC/SC reader (pcscd with the vpcd driver): a wrong card in the reader
    stops the job at its step without spoiling the blank; with the blank it becomes ready.
    (SQLite only: the PC/SC path does not depend on the database.)"""
    center_db = open_database(sqlite_url(tmp_path / "center.db"), Role.CENTER)
    point_db = open_database(sqlite_url(tmp_path / "point.db"), Role.POINT)
    kit = setup_station(tmp_path, center_db, point_db, blanks=1)
    center_db.close()
    point_db.close()
    blank = VirtualChip.load(tmp_path / "blanks" / "B1-00001.json")
    with station(kit) as (services, db):
        app = returned_application(services, 1)
        job = create_job(db, app, reader="pcsc", now=NOW)
        pcsc = PCSCReader("pcsc", READERS[0])
        other = PluggedChip(VirtualChip.new(extended_length=False))
        with pcscd.card(other, 0), pytest.raises(PointError, match="is not blank B1-00001"):
            run_job(services, job.id, pcsc)
        stopped = job_info(db, job.id)
        assert (stopped.status, stopped.step, stopped.blank) == (
            JobStatus.RUNNING, Step.PERSONALIZE, "B1-00001")
        assert "is not blank B1-00001" in (stopped.error or "")
        with pcscd.card(PluggedChip(blank), 0):
            done = run_job(services, job.id, pcsc)
        assert (done.status, done.blanks_used) == (JobStatus.READY, 1)
        assert blank.locked
    assert [b.status for b in list_blanks(db)] == [BlankStatus.ISSUED]


def test_the_chip_keys_are_sealed_at_rest_and_wiped_when_ready(tmp_path: Path,
                                                              center_db: Database,
                                                              point_db: Database) -> None:
    """While the job runs, its row holds the chip's private keys and K_perso sealed under the
    point's data key (bound to the job); once the card is ready they are gone."""
    from station.db.point_job_tables import Job
    from station.point.biometrics import BiometricsError, SoftwareBiometricKey
    from station.point.jobs import _keys

    kit = setup_station(tmp_path, center_db, point_db, blanks=1)
    seen: list[tuple[bytes, bytes]] = []

    def look(event: JobEvent) -> None:
        if event.step is Step.GATE and event.phase == "started":
            with point_db.session(write=False) as s:
                row = s.get(Job, event.job)
                assert row is not None and row.chip_keys and row.k_perso
                seen.append((row.chip_keys, row.k_perso))
                ca, _ = _keys(services, row)
                assert ca.private_numbers().private_value.to_bytes(32, "big") not in row.chip_keys
                other = replace(services, sealing=SoftwareBiometricKey(bytes(32), "other"))
                with pytest.raises(BiometricsError):
                    _keys(other, row)

    with station(kit, on_event=look) as (services, db):
        app = returned_application(services, 1)
        job = run_job(services, create_job(db, app, reader="R1", now=NOW).id, reader(kit))
        assert job.status is JobStatus.READY
        ((keys, k_perso),) = seen
        assert keys[:1] == b"\x01" and k_perso[:1] == b"\x01" and len(k_perso) == 1 + 12 + 16 + 16
        with db.session(write=False) as s:
            row = s.get(Job, job.id)
            assert row is not None and (row.chip_keys, row.k_perso) == (None, None)
