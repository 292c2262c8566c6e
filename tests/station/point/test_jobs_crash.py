"""Jobs survive crashes (issue 11): the worker is killed with SIGKILL at every step boundary (each
step started, performed but not recorded, done) on SQLite and PostgreSQL, and started again.
Afterwards every card is ready and verified with no second card number, no second e-signature
certificate, no second OneID event, and no half-personalized card marked ready: a blank whose
personalization was interrupted is spoiled with the reason, never issued."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import ROOT
from tests.station.point.jobs_kit import returned_application, setup_station, station

from idcard.chip import VirtualChip
from station.center.sod import card_sod
from station.db import Database
from station.domain.calendar import local_day
from station.domain.cards import CardStatus
from station.domain.jobs import JobStatus, Step
from station.point import service as point_service
from station.point.jobs import list_jobs
from station.point.models import ApplicationStatus
from station.point.stock import BlankStatus, daily_report, list_blanks, virtual_blank_path

BOUNDARIES = [(step.value, phase) for step in Step
              for phase in ("started", "performed", "done")]  # fmt: skip


def _worker(folder: Path, app: str, step: str, phase: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-m", "tests.station.point.jobs_worker", str(folder), app, step, phase],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _oneid(register: Path) -> list[dict[str, object]]:
    conn = sqlite3.connect(register)
    try:
        return [json.loads(r[0]) for r in conn.execute("SELECT payload FROM outbox_events")]
    finally:
        conn.close()


def test_killed_at_every_step_boundary_then_resumed(tmp_path: Path, center_db: Database,
                                                    point_db: Database) -> None:
    kit = setup_station(tmp_path, center_db, point_db, blanks=len(BOUNDARIES) + 4)
    with station(kit) as (services, db):
        apps = [returned_application(services, i) for i in range(len(BOUNDARIES))]
    for app, (step, phase) in zip(apps, BOUNDARIES, strict=True):
        run = _worker(tmp_path, app, step, phase)
        assert run.returncode == -signal.SIGKILL, (step, phase, run.stdout, run.stderr[-3000:])
        assert "resumed" in run.stdout, run.stderr[-3000:]
    last = _worker(tmp_path, "-", "-", "-")
    assert last.returncode == 0, last.stderr[-3000:]
    assert last.stdout.strip() == "resumed 0"  # the last kill came after its job was ready

    with station(kit) as (services, db):
        jobs = {j.application: j for j in list_jobs(db)}
        assert sorted(jobs) == sorted(apps)
        cards = [jobs[a].card for a in apps]
        assert len(set(cards)) == len(apps)  # one card number per application, never a second
        status = services.center.center_status()
        assert sum(status.cards.values()) == len(apps)
        for app in apps:
            job = jobs[app]
            assert (job.status, job.step) == (JobStatus.READY, None), job
            assert point_service.status(db, app).status is ApplicationStatus.VERIFIED
            info = services.center.card_info(job.card)
            assert info.status is CardStatus.VERIFIED
            certs = [c for c in services.esign.register.all() if c.card_number == job.card]
            assert [(c.serial, c.revoked_at) for c in certs] == [(job.esign_serial, None)], app
            assert info.esign_serial == job.esign_serial
            record = card_sod(center_db, job.card)
            assert record is not None
        events = _oneid(services.esign.register.path)
        assert sorted(str(e["card_number"]) for e in events) == sorted(cards)

    blanks = list_blanks(db)
    issued = [b for b in blanks if b.status is BlankStatus.ISSUED]
    spoiled = [b for b in blanks if b.status is BlankStatus.SPOILED]
    assert sorted(b.card or "" for b in issued) == sorted(cards)
    assert not [b for b in blanks if b.status is BlankStatus.IN_USE]
    # the personalization killed after it started (before and after its effect): spoiled
    interrupted = {jobs[apps[BOUNDARIES.index(("personalize", p))]].card
                   for p in ("started", "performed")}  # fmt: skip
    assert {b.card for b in spoiled} == interrupted
    assert all(b.reason == "personalize: personalization interrupted (the card cannot be "
               "trusted)" for b in spoiled)  # fmt: skip
    for blank in issued:  # every card issued is locked; the spoiled ones never became ready
        assert VirtualChip.load(virtual_blank_path(tmp_path, blank.serial)).locked
    report = daily_report(db, local_day(datetime.now(UTC)))
    assert (report.received, report.issued, report.spoiled) == (len(blanks), len(apps),
                                                                len(spoiled))
    assert report.balanced
