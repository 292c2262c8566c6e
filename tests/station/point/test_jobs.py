"""Personalization jobs end to end on the in-process virtual chip (SQLite and PostgreSQL): a
returned application becomes a card that passed the read-back gate, with one e-signature
certificate, one OneID event, a blank issued; a failing blank is spoiled with its reason."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.station.point.jobs_kit import NOW, reader, returned_application, setup_station, station

from station.db import Database
from station.domain.jobs import JobStatus, Step
from station.point import service as point_service
from station.point.jobs import JobEvent, create_job, list_jobs, run_job
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
