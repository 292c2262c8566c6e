"""`idkarta center`: the State Personalization Center's database, its ``/v1`` API server, status.

A Center lives in a folder (``center.db``, SQLite, the embedded default; ``center.json``, its
settings) or in a database given by URL (``--database postgresql+psycopg://…``). ``idkarta point
…`` commands given ``--station DIR`` without ``--center URL`` run the Center of ``DIR/center.db``
in their own process (:func:`station.folders.station.embedded_center`), through the same client
code a served Center is reached with. The work is in :mod:`station.folders.station`; these
commands parse, call it and print.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from station.cli.common import EXIT_FAILED, EXIT_USAGE, echo_json, fail, handle_errors
from station.errors import UsageError

if TYPE_CHECKING:
    from station.folders.station import PointSpec

__all__ = ["center", "run_errors"]

DEFAULT_PORT = 8700

_POINT_SPEC = re.compile(r"(?P<code>[^,]+),(?P<kind>[^,]+),(?P<place>[^,]+),(?P<name>.+)")


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
@click.option("--esign", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None,
              help="The e-signature CA folder (idkarta esign init) whose certificates the "
                   "Center revokes when a card leaves its holder (recorded in center.json; "
                   "needs --dir).")  # fmt: skip
@click.option("--pki", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None,
              help="The document PKI folder (idkarta pki init) whose Document Signers sign the "
                   "cards' EF.SOD (recorded in center.json; needs --dir).")  # fmt: skip
@_JSON
@run_errors
def init(folder: Path | None, database: str | None, series: str, points: tuple[str, ...],
         esign: Path | None, pki: Path | None, as_json: bool) -> None:  # fmt: skip
    """Create the Center's database: the schema, an open card series and the points given.

    The folder is created; an existing center.db is never overwritten (exit 2).
    """
    from datetime import UTC, datetime

    from station.folders.station import init_center

    parsed = [_parse_point(p) for p in points]
    where = init_center(folder, database, series=series, points=parsed, esign=esign,
                        pki=pki, now=datetime.now(UTC))  # fmt: skip
    if as_json:
        echo_json({"database": where, "series": series, "points": [p.code for p in parsed],
                   "esign": None if esign is None else str(esign),
                   "pki": None if pki is None else str(pki)})  # fmt: skip
        return
    click.echo(f"Center        {where}")
    click.echo(f"Card series   {series}")
    for p in parsed:
        click.echo(f"Point         {p.code} ({p.kind.value}, place {p.place_code}): {p.name}")
    if esign is not None:
        click.echo(f"E-signature   {esign} (revokes the certificates of cards that leave "
                   "their holders)")  # fmt: skip
    if pki is not None:
        click.echo(f"Document PKI  {pki} (its Document Signers sign the cards' EF.SOD)")


def _parse_point(spec: str) -> PointSpec:
    from station.domain.application import PointKind
    from station.folders.station import PointSpec

    match = _POINT_SPEC.fullmatch(spec)
    if match is None:
        raise UsageError(f"--point: {spec!r} is not CODE,KIND,PLACE,NAME")
    kinds = [k.value for k in PointKind]
    if match["kind"] not in kinds:
        raise UsageError(f"--point: kind {match['kind']!r} is not one of: {', '.join(kinds)}")
    return PointSpec(match["code"], PointKind(match["kind"]), match["place"], match["name"])


_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)


@center.command()
@_DIR
@_DATABASE
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on.")  # fmt: skip
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True,
              help="TCP port.")  # fmt: skip
@click.option("--tls-cert", type=_FILE, default=None,
              help="The Center's TLS server certificate (PEM; idkarta pki point-ca issue "
                   "--host). With --tls-key, --client-ca and --crl: https with mutual TLS.")
@click.option("--tls-key", type=_FILE, default=None, help="Its private key (PEM).")
@click.option("--client-ca", type=_FILE, default=None,
              help="The point CA (PEM) whose client certificates /v1 accepts.")
@click.option("--crl", type=_FILE, default=None,
              help="The point CA's CRL (PEM), read again whenever the file changes.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the API's URL as JSON when starting.")
@run_errors
def serve(folder: Path | None, database: str | None, host: str, port: int,
          tls_cert: Path | None, tls_key: Path | None, client_ca: Path | None,
          crl: Path | None, as_json: bool) -> None:  # fmt: skip
    """Serve the Center's /v1 API and the web application (at /) on HOST:PORT until interrupted.

    Points reach it with 'idkarta point … --center http://127.0.0.1:PORT'. With the four TLS
    options it serves https: /v1 requires a point's client certificate from the point CA, not
    revoked (else the handshake fails, or 401 without one), and a point changes only its own
    data (else 403). Revocations reach the e-signature CA of center.json with
    IDKARTA_PASSPHRASE (or IDKARTA_PIN) set; without it they stay pending for 'idkarta center
    revocations --apply'. The web application's pages (docs/guide/web.md) serve the
    operators of DIR's collection point and the Center's auditors and administrators.
    """
    import uvicorn

    from station.folders.station import serve_app

    tls = (tls_cert, tls_key, client_ca, crl)
    if any(tls) and not all(tls):
        raise UsageError("--tls-cert, --tls-key, --client-ca and --crl go together")
    options: dict[str, Any] = {}
    if tls_cert and tls_key and client_ca and crl:
        from station.api.tls import TLSPeerH11Protocol, server_ssl_context

        options = {"http": TLSPeerH11Protocol,
                   "ssl_context_factory": server_ssl_context(tls_cert, tls_key, client_ca, crl)}
    from station.web import mount_web

    app = serve_app(folder, database, client_certificates=bool(options),
                    extend=lambda app, db, revoke: mount_web(app, folder=folder, center_db=db,
                                                             revoke=revoke))  # fmt: skip
    url = f"{'https' if options else 'http'}://{host}:{port}"
    if as_json:
        echo_json({"url": url, "api": f"{url}/v1"})
    else:
        click.echo(f"Center API    {url}/v1")
    uvicorn.run(app, host=host, port=port, log_level="warning", **options)


@center.command()
@_DIR
@_DATABASE
@click.option("--center", "center_at", metavar="URL", default=None,
              help="Ask a served Center instead (http://127.0.0.1:PORT).")  # fmt: skip
@click.option("--tls", "tls", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None,
              help="A point's cert.pem, key.pem and ca.pem for an https:// Center.")
@_JSON
@run_errors
def status(folder: Path | None, database: str | None, center_at: str | None,
           tls: Path | None, as_json: bool) -> None:  # fmt: skip
    """Counts of the Center's registry: points, persons, requests, cards, revocations."""
    from station.folders.station import center_status

    result = center_status(folder, database, center_at, tls=tls)
    if as_json:
        echo_json(result.to_json())
        return
    click.echo(f"Points        {result.points}")
    click.echo(f"Persons       {result.persons}")
    click.echo(f"Requests      {result.requests}")
    cards = ", ".join(f"{k} {v}" for k, v in sorted(result.cards.items()) if v) or "none"
    click.echo(f"Cards         {cards}")
    click.echo(f"Revocations   {result.pending_revocations} pending")


@center.command()
@_DIR
@_DATABASE
@click.option("--apply", "apply_now", is_flag=True,
              help="Apply the pending ones through the e-signature CA of center.json (its "
                   "passphrase or PIN from IDKARTA_PASSPHRASE / IDKARTA_PIN, else asked).")
@_JSON
@run_errors
def revocations(folder: Path | None, database: str | None, apply_now: bool,
                as_json: bool) -> None:  # fmt: skip
    """The e-signature revocations of cards that left their holders: pending and applied.

    Exit 1 when any is still pending after --apply.
    """
    from station.cli.common import prompt_secret
    from station.folders import station

    applied = None
    if apply_now:
        applied, found = station.apply_revocations(folder, database, ask=prompt_secret)
    else:
        found = station.revocations(folder, database)
    pending = [r for r in found if r.applied_at is None]
    if as_json:
        echo_json({"applied": applied, "pending": len(pending),
                   "revocations": [r.to_json() for r in found]})  # fmt: skip
    else:
        for r in found:
            state = ("pending" + (f" ({r.last_error})" if r.last_error else "")
                     if r.applied_at is None else f"applied {r.applied_at.isoformat()}")
            click.echo(f"{r.card}  certificate {r.serial:x}  {r.reason:<22} {state}")
        if applied is not None:
            click.echo(f"Applied       {applied}")
        click.echo(f"Pending       {len(pending)}")
    if apply_now and pending:
        raise SystemExit(EXIT_FAILED)


from station.cli.accounts import user  # noqa: E402 - `idkarta center user …` (station.cli.accounts)

center.add_command(user)
