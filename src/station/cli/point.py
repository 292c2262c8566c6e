"""`idkarta point`: a data-collection point's applications, from acceptance to handover.

A point lives in a station folder (``--station DIR``): ``point.json`` (who the point is, its
operators), ``point.db`` (its applications). The Center is ``DIR/center.db`` run in this process
(the embedded default) or a served Center (``--center URL``). Each command parses, calls one use
case of :mod:`station.point.service` and prints; ``--json`` prints the result as JSON.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from station.cli.center import run_errors
from station.cli.common import echo_json
from station.errors import UsageError

if TYPE_CHECKING:
    from station.client import CenterClient
    from station.db import Database
    from station.domain.application import ApplicationForm
    from station.point.config import PointConfig
    from station.point.models import Application

__all__ = ["point"]

_STATION = click.option("--station", type=click.Path(file_okay=False, path_type=Path),
                        default=Path("."), show_default=True,
                        help="The station folder: point.json, point.db (and center.db when "
                             "the Center is embedded).")  # fmt: skip
_CENTER = click.option("--center", "center_at", metavar="URL", default=None,
                       help="A served Center (idkarta center serve) instead of the embedded "
                            "DIR/center.db.")  # fmt: skip
_OPERATOR = click.option("--operator", required=True, metavar="LOGIN",
                         help="The operator doing this (one of the point's operators).")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def _now() -> datetime:
    return datetime.now(UTC)


def _point(station: Path) -> contextlib.AbstractContextManager[tuple[PointConfig, Database]]:
    """The point's configuration and database."""
    from station.folders.station import open_point

    return open_point(station)


def _center(station: Path,
            center_at: str | None) -> contextlib.AbstractContextManager[CenterClient]:  # fmt: skip
    from station.folders.station import center_client

    return center_client(station, center_at)


def _print_application(app: Application, as_json: bool, headline: str) -> None:
    if as_json:
        echo_json(app.to_json())
        return
    data = app.to_json()
    click.echo(f"{headline:<14}{data['id']}")
    click.echo(f"Holder        {data['holder']} ({data['birth_date']})")
    click.echo(f"Ground        {data['ground']} ({data['scheme']})")
    click.echo(f"Status        {data['status']}")
    click.echo(f"Due           {data['due_date']}")
    for key, label in (("pinfl", "PINFL"), ("card", "Card"), ("previous_card", "Previous"),
                       ("approved_by", "Approved by"), ("waiver_reason", "Fee waived")):
        if data[key]:
            click.echo(f"{label:<14}{data[key]}")


@click.group()
def point() -> None:
    """A data-collection point: applications, the Center's answer, handover, refusals."""


@point.command(name="init")
@_STATION
@_CENTER
@click.option("--code", required=True, help="The point's code (capitals, digits, '-').")
@click.option("--name", required=True, help="The point's name.")
@click.option("--kind", type=click.Choice(["internal-affairs", "public-service-centre"]),
              required=True,
              help="A migration and citizenship unit of internal affairs, or a public service "
                   "centre (citizens only).")  # fmt: skip
@click.option("--place-code", required=True, metavar="NNN",
              help="The 3-digit region/district code new PINFLs get (digits 8-10).")
@click.option("--operator", "operators", multiple=True, metavar="LOGIN",
              help="An operator of the point. Repeatable.")
@click.option("--supervisor", "supervisors", multiple=True, metavar="LOGIN",
              help="A supervisor (approves free replacements). Repeatable.")
@click.option("--tls", "tls", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None,
              help="The folder of the point's cert.pem, key.pem and ca.pem (idkarta pki "
                   "point-ca issue --point CODE) for an https:// Center; kept in point.json.")
@_JSON
@run_errors
def init_point(station: Path, center_at: str | None, code: str, name: str, kind: str,
               place_code: str, operators: tuple[str, ...], supervisors: tuple[str, ...],
               tls: Path | None, as_json: bool) -> None:  # fmt: skip
    """Set up a collection point in the station folder and register it at the Center.

    Writes point.json and creates point.db; an existing point.json is never overwritten. A
    point the Center already has (center init --point) must be given with the same data.
    """
    from station.domain.application import PointKind
    from station.folders.station import center_client, init_point
    from station.point.config import OperatorRole, PointConfig

    staff = {login: OperatorRole.OPERATOR for login in operators}
    staff.update({login: OperatorRole.SUPERVISOR for login in supervisors})
    if not staff:
        raise UsageError("--operator: give at least one operator or supervisor")
    tls_dir = None if tls is None else tls.resolve()
    if tls_dir is not None and tls_dir.is_relative_to(station.resolve()):
        tls_dir = tls_dir.relative_to(station.resolve())  # the station folder may move
    config = PointConfig(code=code, name=name, kind=PointKind(kind), place_code=place_code,
                         operators=staff,
                         center_tls=None if tls_dir is None else str(tls_dir))  # fmt: skip
    with center_client(station, center_at, tls=tls) as client:
        init_point(station, config, center=client)
    if as_json:
        echo_json(config.to_json())
        return
    click.echo(f"Point         {config.code} ({config.kind.value}, place {config.place_code})")
    click.echo(f"Operators     {', '.join(f'{k} ({v.value})' for k, v in sorted(staff.items()))}")


def _load_form(path: Path) -> ApplicationForm:
    from station.domain.application import ApplicationForm

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not JSON ({exc})") from None
    return ApplicationForm.from_json(data)


@point.command()
@click.argument("form", type=click.Path(dir_okay=False, path_type=Path))
@_STATION
@_OPERATOR
@click.option("--id", "app_id", default=None, metavar="ID",
              help="The application's id (the form's number; unique across points: start it "
                   "with the point's code). Default: a random UUID.")  # fmt: skip
@_JSON
@run_errors
def apply(form: Path, station: Path, operator: str, app_id: str | None, as_json: bool) -> None:
    """Accept an application (FORM: the application JSON) with all its documents.

    Every problem is named (unknown ground, a missing document, a PINFL that does not match
    the person, a second open application on the same ground, a resident at a public service
    centre) and nothing is written. Prints the application and its due date.
    """
    from station.point import service

    parsed = _load_form(form)
    with _point(station) as (config, db):
        app = service.apply(db, parsed, point=config, operator=operator, now=_now(),
                            app_id=app_id)  # fmt: skip
    _print_application(app, as_json, "Accepted")


@point.command()
@click.argument("application")
@_STATION
@_CENTER
@_JSON
@run_errors
def submit(application: str, station: Path, center_at: str | None, as_json: bool) -> None:
    """Send APPLICATION's request to the Center: the PINFL checked or generated, a card number.
    """
    from station.point import service

    with _point(station) as (_, db), _center(station, center_at) as client:
        app = service.submit(db, application, center=client, now=_now())
    _print_application(app, as_json, "Returned")


@point.command()
@click.argument("application")
@_STATION
@_JSON
@run_errors
def status(application: str, station: Path, as_json: bool) -> None:
    """Show APPLICATION: status, due date, PINFL and card."""
    from station.point import service

    with _point(station) as (_, db):
        app = service.status(db, application)
    _print_application(app, as_json, "Application")


@point.command()
@click.argument("application")
@click.argument("new_status", metavar="STATUS", type=click.Choice(["personalized", "verified"]))
@_STATION
@_CENTER
@_OPERATOR
@_JSON
@run_errors
def mark(application: str, new_status: str, station: Path, center_at: str | None,
         operator: str, as_json: bool) -> None:  # fmt: skip
    """Record that APPLICATION's card is personalized, or read back and verified.

    The status is recorded at the point and in the Center's registry, in order: personalized,
    then verified.
    """
    from station.point import service
    from station.point.models import ApplicationStatus

    with _point(station) as (config, db), _center(station, center_at) as client:
        app = service.mark(db, application, ApplicationStatus(new_status), center=client,
                           operator=operator, point=config, now=_now())  # fmt: skip
    _print_application(app, as_json, "Marked")


@point.command()
@click.argument("application")
@_STATION
@_CENTER
@_OPERATOR
@click.option("--receiver", "role", type=click.Choice(["holder", "parent", "guardian"]),
              default="holder", show_default=True, help="Who takes the card.")
@click.option("--name", required=True, help="The receiver's name.")
@click.option("--document", required=True, help="The identity document the receiver shows.")
@_JSON
@run_errors
def handover(application: str, station: Path, center_at: str | None, operator: str, role: str,
             name: str, document: str, as_json: bool) -> None:  # fmt: skip
    """Hand APPLICATION's verified card over: to the holder, or under 16 to the parent or
    guardian who applied (same document). Exit 1 when refused.
    """
    from station.domain.application import ApplicantRole
    from station.point import service

    with _point(station) as (config, db), _center(station, center_at) as client:
        done = service.handover(db, application, receiver_role=ApplicantRole(role),
                                receiver_name=name, receiver_document=document,
                                operator=operator, point=config, center=client,
                                now=_now())  # fmt: skip
    if as_json:
        echo_json(done.to_json())
        return
    click.echo(f"Handed over   {done.card} to {done.receiver_role} {done.receiver_name} "
               f"({done.receiver_document})")  # fmt: skip
    late = "on time" if done.on_time else "LATE"
    click.echo(f"Due           {done.due_date.isoformat()} ({late})")


@point.command()
@_STATION
@_CENTER
@_OPERATOR
@click.option("--card", "previous_card", required=True, metavar="CARD",
              help="The holder's current card (AD1234567).")
@click.option("--ground", required=True,
              type=click.Choice(["lost", "unusable", "data-changed", "data-error", "seized"]),
              help="Why the card is restored or replaced.")
@click.option("--document", "documents", multiple=True, metavar="KIND",
              help="A document presented (application-form, fee-receipt, change-proof, …). "
                   "Repeatable.")  # fmt: skip
@click.option("--applicant-document", default=None, metavar="DOC",
              help="The identity document the holder shows (default: the card).")
@click.option("--payment-reference", default=None, metavar="REF",
              help="The fee was paid electronically: its payment reference (no receipt).")
@click.option("--point-fault", is_flag=True,
              help="A technical defect the point caused: free replacement (ground data-error, "
                   "--approved-by a supervisor, --waiver-reason).")  # fmt: skip
@click.option("--approved-by", default=None, metavar="LOGIN",
              help="The supervisor approving a free replacement (not the operator).")
@click.option("--waiver-reason", default=None, help="Why the fee is waived.")
@click.option("--id", "app_id", default=None, metavar="ID",
              help="The new application's id (default: a random UUID).")
@_JSON
@run_errors
def replace(station: Path, center_at: str | None, operator: str, previous_card: str,
            ground: str, documents: tuple[str, ...], applicant_document: str | None,
            payment_reference: str | None, point_fault: bool, approved_by: str | None,
            waiver_reason: str | None, app_id: str | None, as_json: bool) -> None:  # fmt: skip
    """Apply to restore or replace the holder's card (lost, unusable, changed or wrong data).

    The person comes from the Center's registry; the due date is five working days. After
    'submit' the Center marks the old card and queues its e-signature certificate's revocation.
    """
    from station.domain.documents import document_kind
    from station.domain.grounds import Ground
    from station.point import service

    kinds = frozenset(document_kind(d) for d in documents)
    with _point(station) as (config, db), _center(station, center_at) as client:
        app = service.replace(
            db, previous_card=previous_card, ground=Ground(ground), documents=kinds,
            applicant_document=applicant_document, point=config, operator=operator,
            center=client, now=_now(), fee_paid_electronically=payment_reference is not None,
            payment_reference=payment_reference, point_fault=point_fault,
            approved_by=approved_by, waiver_reason=waiver_reason, app_id=app_id,
        )  # fmt: skip
    _print_application(app, as_json, "Accepted")


@point.command()
@click.argument("form", required=False, type=click.Path(dir_okay=False, path_type=Path))
@_STATION
@_OPERATOR
@click.option("--application", "app_id", default=None, metavar="ID",
              help="Refuse this accepted application (instead of FORM).")
@click.option("--reason", required=True,
              type=click.Choice(["fingerprints-refused", "glasses-or-headwear"]),
              help="Why the card is refused.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("refusal-notice.pdf"), show_default=True,
              help="Where to write the printable refusal notice (PDF).")
@_JSON
@run_errors
def refuse(form: Path | None, station: Path, operator: str, app_id: str | None, reason: str,
           out: Path, as_json: bool) -> None:  # fmt: skip
    """Refuse to issue the card: fingerprints refused, or a photograph in glasses or headwear.

    Give the application FORM (not yet saved) or --application ID (accepted, not submitted).
    Records the refusal with the reason and the operator and writes the notice to --out.
    """
    from pki.filestore import write_atomic
    from station.domain.refusals import RefusalReason
    from station.point import service

    if (form is None) == (app_id is None):
        raise UsageError("give the application FORM or --application ID (one of them)")
    parsed = None if form is None else _load_form(form)
    with _point(station) as (config, db):
        refusal = service.refuse(db, reason=RefusalReason(reason), operator=operator,
                                 now=_now(), point=config, form=parsed, app_id=app_id)  # fmt: skip
    write_atomic(out, refusal.notice)
    if as_json:
        echo_json({**refusal.to_json(), "notice": str(out)})
        return
    click.echo(f"Refused       {refusal.reason} (refusal {refusal.id})")
    click.echo(f"Notice        {out} (sha256 {refusal.notice_sha256[:16]}…)")


@point.command()
@_STATION
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day to count from (default: today in Tashkent).")
@_JSON
@run_errors
def overdue(station: Path, today: datetime | None, as_json: bool) -> None:
    """List the open applications past their due date (not handed over), oldest first."""
    from station.domain.calendar import local_day
    from station.point import service

    day: date = today.date() if today is not None else local_day(_now())
    with _point(station) as (_, db):
        late = service.overdue(db, today=day)
    if as_json:
        echo_json({"today": day.isoformat(), "overdue": [a.to_json() for a in late]})
    else:
        for app in late:
            data = app.to_json()
            click.echo(f"{data['due_date']}  {data['id']}  {data['status']:<12} "
                       f"{data['ground']:<14} {data['holder']}")  # fmt: skip
        click.echo(f"{len(late)} overdue on {day.isoformat()}")


from station.cli import point_capture as _capture  # noqa: E402  (issue 11: capture, purge)

point.add_command(_capture.capture)
point.add_command(_capture.purge)


# `idkarta point personalize | jobs | stock` (issue 11): defined in station.cli.point_jobs
from station.cli import point_jobs as _point_jobs  # noqa: E402

for _command in _point_jobs.COMMANDS:
    point.add_command(_command)
