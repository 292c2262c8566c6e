"""`idkarta center`: the State Personalization Center's database, its ``/v1`` API server, status.

A Center lives in a folder (``center.db``, SQLite, the embedded default) or in a database given
by URL (``--database postgresql+psycopg://…``). ``idkarta point …`` commands given ``--station
DIR`` without ``--center URL`` run the Center of ``DIR/center.db`` in their own process
(:func:`embedded_center`), through the same client code a served Center is reached with.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from station.cli.common import EXIT_FAILED, EXIT_USAGE, echo_json, fail, handle_errors
from station.errors import UsageError

if TYPE_CHECKING:
    from station.center.models import CenterStatus
    from station.client import CenterClient

__all__ = ["CENTER_DB", "center", "embedded_center", "run_errors"]

CENTER_DB = "center.db"
DEFAULT_PORT = 8700

_POINT_SPEC = re.compile(r"(?P<code>[^,]+),(?P<kind>[^,]+),(?P<place>[^,]+),(?P<name>.+)")


def center_url(folder: Path | None, database: str | None) -> str:
    """The Center's database URL: ``--database`` or ``DIR/center.db``."""
    from station.db import sqlite_url

    if database:
        return database
    if folder is None:
        raise UsageError("give --dir DIR (center.db in it) or --database URL")
    return sqlite_url(folder / CENTER_DB)


@contextlib.contextmanager
def embedded_center(folder: Path) -> Iterator[CenterClient]:
    """A :class:`~station.client.CenterClient` of the Center of ``folder/center.db``, served by
    its ASGI application in this process (no network)."""
    from station.api import create_app
    from station.client import CenterClient
    from station.db import Role, open_database

    if not (folder / CENTER_DB).is_file():
        raise UsageError(f"{folder}: no {CENTER_DB} (run 'idkarta center init --dir {folder}' "
                         "or give --center URL)")  # fmt: skip
    db = open_database(center_url(folder, None), Role.CENTER)
    try:
        with CenterClient.in_process(create_app(db)) as client:
            yield client
    finally:
        db.close()


def run_errors(func: Any) -> Any:
    """Exit codes of the station's commands: an input that is not usable (a field that does not
    parse, an unknown application or card) → 2; an input checked against the rules and refused
    (a second open application, the wrong receiver, a status change out of order, the Center's
    conflicts) or a Center that cannot be reached → 1. One line ``error: field: reason``."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from station.center.errors import CenterError, CenterUnavailable
        from station.center.errors import NotFound as CenterNotFound
        from station.db import DatabaseError
        from station.domain.errors import DomainError, TransitionError
        from station.point.errors import PointError

        try:
            return func(*args, **kwargs)
        except PointError as exc:
            fail(str(exc), exc.exit_code)
        except CenterNotFound as exc:
            fail(str(exc), EXIT_USAGE)
        except (CenterError, CenterUnavailable, TransitionError, DatabaseError) as exc:
            fail(str(exc), EXIT_FAILED)
        except DomainError as exc:
            fail(str(exc), EXIT_USAGE)

    return handle_errors(wrapper)


_DIR = click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
                    default=None, help="The Center's folder (center.db in it).")  # fmt: skip
_DATABASE = click.option("--database", metavar="URL", default=None,
                         help="The Center's database URL instead of DIR/center.db "
                              "(postgresql+psycopg://…).")  # fmt: skip
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


@click.group()
def center() -> None:
    """The State Personalization Center: PINFLs, the card registry and its /v1 API."""


@center.command()
@_DIR
@_DATABASE
@click.option("--series", default="AD", show_default=True,
              help="The card series to open (2 capital letters).")  # fmt: skip
@click.option("--point", "points", multiple=True, metavar="CODE,KIND,PLACE,NAME",
              help="Register a collection point: code, kind (internal-affairs or "
                   "public-service-centre), 3-digit place code, name. Repeatable.")  # fmt: skip
@_JSON
@run_errors
def init(folder: Path | None, database: str | None, series: str, points: tuple[str, ...],
         as_json: bool) -> None:  # fmt: skip
    """Create the Center's database: the schema, an open card series and the points given.

    The folder is created; an existing center.db is never overwritten (exit 2).
    """
    from datetime import UTC, datetime

    from station.center import service
    from station.db import Role, open_database
    from station.domain.application import PointKind

    parsed = [_parse_point(p) for p in points]
    if database is None:
        if folder is None:
            raise UsageError("give --dir DIR (center.db in it) or --database URL")
        if (folder / CENTER_DB).exists():
            raise UsageError(f"{folder / CENTER_DB} exists: a Center is already there")
        folder.mkdir(parents=True, exist_ok=True)
    db = open_database(center_url(folder, database), Role.CENTER)
    try:
        service.open_series(db, series)
        for code, kind, place, name in parsed:
            service.register_point(db, code=code, name=name, kind=PointKind(kind),
                                   place_code=place, now=datetime.now(UTC))  # fmt: skip
    finally:
        db.close()
    where = _hide_password(database) if database else str(Path(folder or ".") / CENTER_DB)
    if as_json:
        echo_json({"database": where, "series": series, "points": [p[0] for p in parsed]})
        return
    click.echo(f"Center        {where}")
    click.echo(f"Card series   {series}")
    for code, kind, place, name in parsed:
        click.echo(f"Point         {code} ({kind}, place {place}): {name}")


def _parse_point(spec: str) -> tuple[str, str, str, str]:
    from station.domain.application import PointKind

    match = _POINT_SPEC.fullmatch(spec)
    if match is None:
        raise UsageError(f"--point: {spec!r} is not CODE,KIND,PLACE,NAME")
    kinds = [k.value for k in PointKind]
    if match["kind"] not in kinds:
        raise UsageError(f"--point: kind {match['kind']!r} is not one of: {', '.join(kinds)}")
    return match["code"], match["kind"], match["place"], match["name"]


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(database URL)"


@center.command()
@_DIR
@_DATABASE
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True,
              help="TCP port on 127.0.0.1.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True,
              help="Print the API's URL as JSON when starting.")
@run_errors
def serve(folder: Path | None, database: str | None, port: int, as_json: bool) -> None:
    """Serve the Center's /v1 API on 127.0.0.1:PORT (uvicorn) until interrupted.

    Points reach it with 'idkarta point … --center http://127.0.0.1:PORT'.
    """
    import uvicorn

    from station.api import create_app
    from station.db import Role, open_database

    if database is None and folder is not None and not (folder / CENTER_DB).is_file():
        raise UsageError(f"{folder}: no {CENTER_DB} (run 'idkarta center init --dir {folder}')")
    db = open_database(center_url(folder, database), Role.CENTER)
    try:
        url = f"http://127.0.0.1:{port}"
        if as_json:
            echo_json({"url": url, "api": f"{url}/v1"})
        else:
            click.echo(f"Center API    {url}/v1")
        uvicorn.run(create_app(db), host="127.0.0.1", port=port, log_level="warning")
    finally:
        db.close()


@center.command()
@_DIR
@_DATABASE
@click.option("--center", "center_at", metavar="URL", default=None,
              help="Ask a served Center instead (http://127.0.0.1:PORT).")  # fmt: skip
@_JSON
@run_errors
def status(folder: Path | None, database: str | None, center_at: str | None,
           as_json: bool) -> None:  # fmt: skip
    """Counts of the Center's registry: points, persons, requests, cards, revocations."""
    result = _status(folder, database, center_at)
    if as_json:
        echo_json(result.to_json())
        return
    click.echo(f"Points        {result.points}")
    click.echo(f"Persons       {result.persons}")
    click.echo(f"Requests      {result.requests}")
    cards = ", ".join(f"{k} {v}" for k, v in sorted(result.cards.items()) if v) or "none"
    click.echo(f"Cards         {cards}")
    click.echo(f"Revocations   {result.pending_revocations} pending")


def _status(folder: Path | None, database: str | None, center_at: str | None) -> CenterStatus:
    if center_at is not None:
        from station.client import CenterClient

        with CenterClient.over_http(center_at) as client:
            return client.center_status()
    from station.center import service
    from station.db import Role, open_database

    if database is None and folder is not None and not (folder / CENTER_DB).is_file():
        raise UsageError(f"{folder}: no {CENTER_DB} (run 'idkarta center init --dir {folder}')")
    db = open_database(center_url(folder, database), Role.CENTER)
    try:
        return service.center_status(db)
    finally:
        db.close()
