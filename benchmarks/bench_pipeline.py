"""The personalization pipeline: cards per hour per core, and where the time goes (issue 11).

Run: ``.venv/bin/python -m benchmarks.bench_pipeline [N] [--pcsc]``. A station in a temporary
folder (SQLite databases, the Center in process with its document PKI and e-signature CA in
file key stores, the sample photo and fingers) gets N returned applications; each one's job is
then run (:func:`station.point.jobs.run_job`: blank, LDS, EF.SOD at the Center, chip,
e-signature enrolment, read-back gate, ready), one after the other on one reader:

* ``durable``: the embedded default, each virtual blank an image file saved after every command
  that changes it (:class:`idcard.chip.state.DurableChip`: a crash leaves it as a card would be);
* ``in memory``: the same chips kept in memory (what is left when the chip's own persistence is
  not counted: a real card persists itself);
* ``pcsc`` (with ``--pcsc``): the chips behind a private pcscd with the vpcd driver
  (``tests/pcsc_harness.py``; needs pcscd, the vpcd driver and ``unshare``).

For each: wall time and CPU time (this process, every thread) per card, cards per hour per core
(3600 / CPU seconds per card), and the wall time of each step summed over the cards.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.station.point.jobs_kit import Kit, returned_application, setup_station, station

from pki.filestore import ScryptCost, test_only_scrypt_cost
from station.db import Role, open_database, sqlite_url
from station.domain.jobs import ORDER, JobStatus, Step
from station.point.jobs import JobEvent, Reader, create_job, run_job


class _Steps:
    """Wall time per step from the jobs' events (started → done)."""

    def __init__(self) -> None:
        self.total: dict[Step, float] = defaultdict(float)
        self._began: dict[tuple[str, Step], float] = {}

    def __call__(self, event: JobEvent) -> None:
        if event.step is None:
            return
        key = (event.job, event.step)
        if event.phase == "started":
            self._began[key] = time.perf_counter()
        elif event.phase == "done" and key in self._began:
            self.total[event.step] += time.perf_counter() - self._began.pop(key)


def _station(folder: Path, n: int) -> Kit:
    center = open_database(sqlite_url(folder / "center.db"), Role.CENTER)
    point = open_database(sqlite_url(folder / "point.db"), Role.POINT)
    try:
        return setup_station(folder, center, point, blanks=n)
    finally:
        center.close()
        point.close()


def run(n: int, make_reader: Callable[[Kit], Reader], plug: Callable[[Kit, str], Any]
        | None = None) -> dict[str, Any]:  # fmt: skip
    """N cards on a new station with the reader ``make_reader`` gives; ``plug(kit, serial)``
    (a context manager) puts the blank into a physical-style reader around its job."""
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        kit = _station(Path(tmp), n)
        steps = _Steps()
        with station(kit, on_event=steps) as (services, db):
            apps = [returned_application(services, i) for i in range(n)]
            reader = make_reader(kit)
            wall = cpu = 0.0
            for i, app in enumerate(apps):
                serial = f"B1-{i + 1:05d}"
                with plug(kit, serial) if plug is not None else _nothing():
                    w0, c0 = time.perf_counter(), time.process_time()
                    job = run_job(services, create_job(db, app, reader=reader.name,
                                                       now=services.clock()).id, reader)
                    wall += time.perf_counter() - w0
                    cpu += time.process_time() - c0
                if job.status is not JobStatus.READY or job.blank != serial:
                    raise SystemExit(f"job of {app} ended {job.status.value}: {job.error}")
    return {"cards": n, "wall": wall / n, "cpu": cpu / n,
            "steps": {s.value: steps.total[s] / n for s in ORDER}}  # fmt: skip


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _virtual(durable: bool) -> Callable[[Kit], Reader]:
    from station.point.jobs import VirtualReader

    return lambda kit: VirtualReader("R1", kit.folder, durable=durable)


def _pcsc_run(n: int) -> dict[str, Any]:
    from tests.pcsc_harness import PCSCD, READERS, PluggedChip

    from idcard.chip import VirtualChip
    from station.point.jobs import PCSCReader

    daemon = PCSCD()
    daemon.start()
    try:
        @contextmanager
        def plug(kit: Kit, serial: str) -> Iterator[None]:
            chip = VirtualChip.load(kit.folder / "blanks" / f"{serial}.json")
            with daemon.card(PluggedChip(chip), 0):
                yield

        return run(n, lambda kit: PCSCReader("pcsc", READERS[0]), plug)
    finally:
        daemon.stop()


def report(name: str, r: dict[str, Any]) -> str:
    per_hour = 3600 / r["cpu"] if r["cpu"] else float("inf")
    lines = [f"{name}: {r['cards']} cards, {r['wall'] * 1000:.0f} ms wall and "
             f"{r['cpu'] * 1000:.0f} ms CPU per card: {per_hour:,.0f} cards/hour/core"]
    lines += [f"  {step:<15}{t * 1000:8.1f} ms" for step, t in r["steps"].items()]
    return "\n".join(lines)


def main(argv: list[str]) -> dict[str, dict[str, Any]]:
    n = int(next((a for a in argv if a.isdigit()), "10"))
    results: dict[str, dict[str, Any]] = {}
    with test_only_scrypt_cost(ScryptCost(n=2**10)):  # the station's own key stores: set-up only
        results["durable"] = run(n, _virtual(True))
        print(report("durable (embedded default)", results["durable"]), flush=True)
        results["memory"] = run(n, _virtual(False))
        print(report("in memory", results["memory"]), flush=True)
        if "--pcsc" in argv:
            results["pcsc"] = _pcsc_run(n)
            print(report("pcscd + vpcd", results["pcsc"]), flush=True)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
