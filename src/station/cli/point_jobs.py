"""`idkarta point personalize | jobs | stock`: the point's personalization pipeline (issue 11).

``personalize`` runs each application's job (:mod:`station.point.jobs`) on one or more virtual
readers (one thread each) with the embedded Center of the station folder: its document PKI
(``pki`` in ``center.json``) signs EF.SOD and gives the read-back gate its trust anchors, its
e-signature CA (``esign``) certifies the holder's key. Key store passphrases come from
IDKARTA_PASSPHRASE (a token's PIN from IDKARTA_PIN) or a prompt; the holder's new PIN from
IDKARTA_HOLDER_PIN or a prompt (asked twice), the PUK from IDKARTA_HOLDER_PUK or a prompt. On a
terminal a progress bar shows each job's step; ``--json`` prints the jobs. Exit 0 when every
card is ready, 1 when one failed.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from station.cli.center import run_errors
from station.cli.common import EXIT_FAILED, echo_json, prompt_secret
from station.errors import UsageError

if TYPE_CHECKING:
    from station.point.jobs import JobEvent, JobInfo, JobServices

__all__ = ["COMMANDS", "jobs", "personalize", "stock"]

_STATION = click.option("--station", type=click.Path(file_okay=False, path_type=Path),
                        default=Path("."), show_default=True,
                        help="The station folder: point.json, point.db, center.db and "
                             "center.json (the Center's PKI and e-signature CA).")  # fmt: skip
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def _now() -> datetime:
    return datetime.now(UTC)


def _ask(prompt: str, confirm: bool) -> str:
    return prompt_secret(prompt, confirm)


def _secret(env: str, prompt: str, *, confirm: bool = False) -> Callable[[], str]:
    """A secret from ``env`` or the terminal, asked when needed (never echoed or logged); one
    prompt at a time when several readers ask at once."""
    import os

    lock = threading.Lock()

    def get() -> str:
        value = os.environ.get(env)
        if value:
            return value
        with lock:
            return prompt_secret(prompt, confirm)

    return get


def _center_config(station: Path) -> dict[str, Path]:
    path = station / "center.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{station}: no center.json (the embedded Center's PKI and e-signature "
                         "CA: 'idkarta center init --pki DIR --esign DIR')") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a usable Center configuration ({exc})") from None
    found = {}
    for key in ("pki", "esign"):
        value = config.get(key) if isinstance(config, dict) else None
        if not isinstance(value, str):
            raise UsageError(f"{path}: no {key!r} folder (personalization needs the Center's "
                             "document PKI and e-signature CA)")  # fmt: skip
        folder = Path(value)
        found[key] = folder if folder.is_absolute() else station / folder
    return found


@contextlib.contextmanager
def open_services(
    station: Path, *, operator: str, on_event: Callable[[JobEvent], None] | None
) -> Iterator[JobServices]:
    """The job services of the station folder with its embedded Center."""
    from idcard.reader.document import TerminalCredentials
    from idcard.verify import TrustStore
    from pki.cvca import EACFolder, cv_signer
    from pki.ocsp import OCSPResponder
    from station.folders.esign import EsignFolder
    from station.folders.pki import PKIFolder, open_pki_stores
    from station.folders.station import embedded_center, open_point
    from station.point.biometrics import open_biometric_key
    from station.point.gate import GateAnchors
    from station.point.jobs import JobServices, lds_builder

    folders = _center_config(station)
    pki_dir, esign_dir = folders["pki"], folders["esign"]
    with contextlib.ExitStack() as stack:
        config, db = stack.enter_context(open_point(station))
        config.role(operator)
        client = stack.enter_context(embedded_center(station, ask=_ask))
        _, eac_store = stack.enter_context(open_pki_stores(pki_dir, ask=_ask))
        esign_store = stack.enter_context(EsignFolder(esign_dir).store(ask=_ask))
        ca = EsignFolder(esign_dir).ca(esign_store)
        eac = EACFolder.open(pki_dir / "cvc")
        state = eac.state.data
        cvca = eac.certificate(state["cvca"])
        chain = (cvca, eac.certificate(state["dv"][-1]), eac.certificate(state["is"][-1]))
        terminal = TerminalCredentials(chain, cv_signer(eac_store.load(chain[-1].chr)))
        pki = PKIFolder.open(pki_dir)
        trust = TrustStore.from_paths(pki.cert_path(str(pki.config["csca"])),
                                      master_lists=[pki_dir / "masterlist.der"],
                                      crls=[pki_dir / "crl" / "latest.pem"])  # fmt: skip
        anchors = GateAnchors(trust, terminal, ca.certificate, OCSPResponder(ca).respond)
        data_key = stack.enter_context(open_biometric_key(station, ask=_ask))
        captures = _captures(db, data_key)
        yield JobServices(
            db=db, center=client, point=config, operator=operator, esign=ca, anchors=anchors,
            cvca=cvca, build_lds=lds_builder(
                point=config, face=lambda app: captures(app).face,
                fingers=lambda app: (*captures(app).fingers, *captures(app).exceptions)),
            pin=_secret("IDKARTA_HOLDER_PIN", "Holder's new e-signature PIN", confirm=True),
            puk=_secret("IDKARTA_HOLDER_PUK", "PUK for the holder's PIN letter"), clock=_now,
            on_event=on_event, sealing=data_key,
        )  # fmt: skip


def _captures(db: Any, key: Any) -> Callable[[Any], Any]:
    """The accepted captures of an application (:mod:`station.point.capture`), read once."""
    seen: dict[str, Any] = {}
    lock = threading.Lock()

    def captures(application: Any) -> Any:
        from station.point.capture import accepted_captures

        with lock:
            if application.id not in seen:
                found = accepted_captures(db, application.id, key)
                if found.face is None:
                    raise UsageError(f"{application.id}: no accepted portrait "
                                     "('idkarta point capture' first)")  # fmt: skip
                seen[application.id] = found
            return seen[application.id]

    return captures


# -- personalize -------------------------------------------------------------------------------


class _Progress:
    """On a terminal, rich progress bars: the batch (cards ended) and each job's steps."""

    STEPS = 7

    def __init__(self, enabled: bool, *, console: Any = None) -> None:
        self.enabled, self._console = enabled, console
        self._bar: Any = None
        self._batch: Any = None
        self._tasks: dict[str, Any] = {}
        self._lock = threading.Lock()

    def batch(self, total: int) -> None:
        if self._bar is not None:
            self._batch = self._bar.add_task("batch", total=total, step="cards ready or failed")

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.fields[step]}"), transient=False,
                                 console=self._console)  # fmt: skip
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def __call__(self, event: JobEvent) -> None:
        if self._bar is None:
            return
        from station.domain.jobs import ORDER

        with self._lock:
            task = self._tasks.get(event.job)
            if task is None:
                task = self._bar.add_task(f"{event.application} ({event.reader})",
                                          total=self.STEPS, step="")  # fmt: skip
                self._tasks[event.job] = task
            if event.phase == "done" and event.step is not None:
                self._bar.update(task, completed=ORDER.index(event.step) + 1,
                                 step=f"{event.step.value} done")  # fmt: skip
            elif event.phase in ("started", "spoiled", "failed", "ready"):
                what = event.step.value if event.step is not None else ""
                self._bar.update(task, step=f"{what} {event.phase}".strip())
            if event.phase in ("failed", "ready") and self._batch is not None:
                self._bar.advance(self._batch)


@click.command()
@click.argument("applications", nargs=-1)
@_STATION
@click.option("--operator", required=True, metavar="LOGIN",
              help="The operator running the personalization.")
@click.option("--readers", default=1, show_default=True, type=click.IntRange(1, 16),
              help="Virtual readers working at once (one job each).")
@click.option("--pcsc", "pcsc", multiple=True, metavar="READER",
              help="Personalize in this PC/SC reader (a name or part of it; repeatable) "
                   "instead of virtual readers; the blank the job takes must be in it.")
@click.option("--resume", is_flag=True, help="Also run every job left running (after a crash).")
@_JSON
@run_errors
def personalize(applications: tuple[str, ...], station: Path, operator: str, readers: int,
                pcsc: tuple[str, ...], resume: bool, as_json: bool) -> None:  # fmt: skip
    """Personalize the cards of APPLICATIONS (returned by the Center): blank from stock, chip
    files, EF.SOD at the Center, chip, e-signature, read-back gate.

    A card that fails is spoiled with its reason and the job takes a new blank. A job is picked
    up where it stopped when run again (--resume runs every unfinished one). The holder's new
    PIN: IDKARTA_HOLDER_PIN or a prompt (twice); the PUK: IDKARTA_HOLDER_PUK or a prompt; key
    stores: IDKARTA_PASSPHRASE (IDKARTA_PIN for a token) or a prompt.
    """
    from station.domain.jobs import JobStatus
    from station.point.jobs import (
        PCSCReader,
        Reader,
        VirtualReader,
        list_jobs,
        personalize_applications,
    )

    with _Progress(sys.stdout.isatty() and not as_json) as progress, \
            open_services(station, operator=operator, on_event=progress) as services:
        wanted = list(applications)
        if resume:
            wanted += [j.application for j in list_jobs(services.db, status=JobStatus.RUNNING)
                       if j.application not in wanted]  # fmt: skip
        if not wanted:
            raise UsageError("give the APPLICATIONS to personalize (or --resume)")
        pool: list[Reader] = (
            [PCSCReader(f"pcsc{i + 1}", name) for i, name in enumerate(pcsc)] if pcsc
            else [VirtualReader(f"R{i + 1}", station) for i in range(readers)]
        )  # fmt: skip
        progress.batch(len(wanted))
        results = personalize_applications(services, wanted, pool)
    _print_results(wanted, results, as_json)
    if not all(not isinstance(r, BaseException) and r.status is JobStatus.READY
               for r in results):  # fmt: skip
        raise SystemExit(EXIT_FAILED)


def _print_results(apps: list[str], results: list[JobInfo | BaseException],
                   as_json: bool) -> None:  # fmt: skip
    rows = []
    for app, result in zip(apps, results, strict=True):
        if isinstance(result, BaseException):
            rows.append({"application": app, "status": "error", "error": str(result)})
        else:
            rows.append(result.to_json())
    if as_json:
        echo_json({"jobs": rows})
        return
    for row in rows:
        if row["status"] == "error":
            click.echo(f"{row['application']:<16} error   {row['error']}")
        else:
            click.echo(f"{row['application']:<16} {row['status']:<7} card {row['card']}, "
                       f"blank {row['blank']}, {row['blanks_used']} blank(s) used"
                       + (f"; {row['error']}" if row["error"] else ""))  # fmt: skip


# -- jobs ----------------------------------------------------------------------------------------


@click.command()
@_STATION
@click.option("--status", type=click.Choice(["running", "ready", "failed"]), default=None,
              help="Only the jobs of this status.")
@_JSON
@run_errors
def jobs(station: Path, status: str | None, as_json: bool) -> None:
    """List the point's personalization jobs: step, blank, card, last error."""
    from station.domain.jobs import JobStatus
    from station.folders.station import open_point
    from station.point.jobs import list_jobs

    with open_point(station) as (_, db):
        found = list_jobs(db, status=JobStatus(status) if status else None)
    if as_json:
        echo_json({"jobs": [j.to_json() for j in found]})
        return
    for j in found:
        where = f"{j.step.value} ({j.phase.value})" if j.step else "-"
        click.echo(f"{j.application:<16} {j.status.value:<8} {where:<26} card {j.card} "
                   f"blank {j.blank or '-'}" + (f"  {j.error}" if j.error else ""))  # fmt: skip
    click.echo(f"{len(found)} job(s)")


# -- stock ---------------------------------------------------------------------------------------


@click.group()
def stock() -> None:
    """The point's card blanks: receive batches, list them, the daily report."""


@stock.command()
@_STATION
@click.option("--batch", required=True, help="The batch's number.")
@click.option("--virtual", "virtual", type=click.IntRange(1, 100_000), default=None,
              metavar="N", help="Make N virtual blanks (the embedded default's chips).")
@click.option("--blank", "blanks", multiple=True, metavar="SERIAL:HISTORICAL",
              help="A blank's chip serial and ATR historical bytes (hex). Repeatable.")
@_JSON
@run_errors
def receive(station: Path, batch: str, virtual: int | None, blanks: tuple[str, ...],
            as_json: bool) -> None:  # fmt: skip
    """Take a batch of blanks into the stock (all or none)."""
    from station.folders.station import open_point
    from station.point import stock as service

    if (virtual is None) == (not blanks):
        raise UsageError("give --virtual N or --blank SERIAL:HISTORICAL (one of them)")
    specs = []
    for text in blanks:
        serial, _, hist = text.partition(":")
        try:
            specs.append(service.BlankSpec(serial, bytes.fromhex(hist)))
        except ValueError:
            raise UsageError(f"--blank {text!r}: SERIAL:HISTORICAL with the bytes in hex") from None
    with open_point(station) as (_, db):
        if virtual is not None:
            specs = service.make_virtual_blanks(station, batch=batch, count=virtual)
        got = service.receive(db, batch=batch, blanks=specs, now=_now())
    if as_json:
        echo_json({"received": [b.to_json() for b in got]})
        return
    click.echo(f"Received      {len(got)} blank(s) of batch {batch}")


@stock.command(name="list")
@_STATION
@click.option("--status", type=click.Choice(["in-stock", "in-use", "issued", "spoiled"]),
              default=None, help="Only the blanks of this status.")
@_JSON
@run_errors
def list_blanks(station: Path, status: str | None, as_json: bool) -> None:
    """List the blanks: serial, batch, status, card, the reason of a spoiled one."""
    from station.folders.station import open_point
    from station.point import stock as service

    with open_point(station) as (_, db):
        found = service.list_blanks(db, status=service.BlankStatus(status) if status else None)
    if as_json:
        echo_json({"blanks": [b.to_json() for b in found]})
        return
    for b in found:
        click.echo(f"{b.serial:<20} {b.batch:<10} {b.status.value:<9} {b.card or '-':<10}"
                   + (f" {b.reason}" if b.reason else ""))  # fmt: skip
    click.echo(f"{len(found)} blank(s)")


@stock.command()
@_STATION
@click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day (default: today in Tashkent).")
@_JSON
@run_errors
def report(station: Path, day: datetime | None, as_json: bool) -> None:
    """The day's stock report: opening, received, issued, spoiled, closing. Exit 1 when it does
    not balance."""
    from station.domain.calendar import local_day
    from station.folders.station import open_point
    from station.point.stock import daily_report

    when: date = day.date() if day is not None else local_day(_now())
    with open_point(station) as (_, db):
        result = daily_report(db, when)
    if as_json:
        echo_json(result.to_json())
    else:
        click.echo(f"Day           {result.day.isoformat()}")
        for label in ("opening", "received", "issued", "spoiled", "closing"):
            click.echo(f"{label.capitalize():<14}{getattr(result, label)}")
        for reason, n in sorted(result.spoiled_reasons.items()):
            click.echo(f"  spoiled     {n} × {reason}")
        click.echo(f"Balanced      {'yes' if result.balanced else 'NO'}")
    if not result.balanced:
        raise SystemExit(EXIT_FAILED)


COMMANDS = (personalize, jobs, stock)
"""The commands added to ``idkarta point``."""
