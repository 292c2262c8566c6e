"""A personalization worker to be killed: ``python -m tests.station.point.jobs_worker FOLDER
APP STEP PHASE`` (FOLDER: a station of jobs_kit.py).

It first resumes every running job (as a point does when it starts again), then runs the job of
application APP (``-``: none) and kills itself with SIGKILL when that job reports STEP in PHASE
(``started``, ``performed``, ``done``): the process dies at that step boundary as a machine
that loses power would, with nothing cleaned up. Prints ``resumed N`` after the resumption.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from tests.station.point.jobs_kit import NOW, Kit, reader, station

from station.domain.jobs import JobStatus
from station.point.jobs import JobEvent, create_job, list_jobs, run_job


def main(folder: str, app: str, step: str, phase: str) -> None:
    kit = Kit.load(Path(folder))

    def kill_at(event: JobEvent) -> None:
        here = event.step.value if event.step is not None else None
        if event.application == app and (here, event.phase) == (step, phase):
            os.kill(os.getpid(), signal.SIGKILL)

    with station(kit, on_event=kill_at) as (services, db):
        running = list_jobs(db, status=JobStatus.RUNNING)
        for job in running:
            run_job(services, job.id, reader(kit))
        print(f"resumed {len(running)}", flush=True)
        if app != "-":
            job = create_job(db, app, reader="R1", now=NOW)
            run_job(services, job.id, reader(kit))
            print(f"finished {app} without being killed", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
