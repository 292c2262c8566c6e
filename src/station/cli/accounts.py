"""`idkarta center user add|disable|list`: the web application's accounts, for administrators.

Run on the Center's host with access to its database (``--dir`` or ``--database``): that
access is the administrator's authority, so the first administrator is made this way (see
``docs/guide/accounts.md``). A password is never an argument: ``IDKARTA_USER_PASSWORD``, else a
hidden prompt typed twice. Each change is written to the Center's audit log as done by
``host:<the OS user>`` with the role "system".
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

import click

from station.cli.common import EXIT_FAILED, EXIT_USAGE, echo_json, fail, handle_errors

__all__ = ["user"]

_DIR = click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
                    default=None, help="The Center's folder (center.db in it).")  # fmt: skip
_DATABASE = click.option("--database", metavar="URL", default=None,
                         help="The Center's database URL instead of DIR/center.db.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
_ROLES = ["operator", "supervisor", "auditor", "administrator"]


def _errors(func: Any) -> Any:
    """Exit 2 for an input that is not usable (bad login, unknown user or point, short
    password); exit 1 for a refusal (the login is taken) or a database failure."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from station.accounts import AccountError, UserExists
        from station.db import DatabaseError

        try:
            return func(*args, **kwargs)
        except UserExists as exc:
            fail(str(exc), EXIT_FAILED)
        except AccountError as exc:
            fail(str(exc), EXIT_USAGE)
        except DatabaseError as exc:
            fail(str(exc), EXIT_FAILED)

    return handle_errors(wrapper)


def _host_actor() -> Any:
    from station.accounts import Actor

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor.system(f"host:{who}"[:64])


def _user_json(u: Any) -> dict[str, Any]:
    return {"login": u.login, "name": u.name, "role": u.role.value, "point": u.point,
            "disabled": u.disabled, "created_at": u.created_at.isoformat()}  # fmt: skip


@click.group()
def user() -> None:
    """Accounts of the web application: add, disable, list (administrators, on the Center)."""


@user.command()
@click.argument("login")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--role", type=click.Choice(_ROLES), required=True,
              help="operator or supervisor (with --point), auditor, administrator.")
@click.option("--point", default=None, metavar="CODE",
              help="The collection point of an operator or supervisor.")
@_DIR
@_DATABASE
@_JSON
@_errors
def add(login: str, name: str, role: str, point: str | None, folder: Path | None,
        database: str | None, as_json: bool) -> None:  # fmt: skip
    """Add the account LOGIN. Its password: IDKARTA_USER_PASSWORD, else asked twice (at least
    12 characters). The first administrator of a new Center is made this way."""
    from datetime import UTC, datetime

    from station.accounts import MIN_PASSWORD, AccountError, Role, add_user
    from station.cli.common import prompt_secret
    from station.folders.keys import secret
    from station.folders.station import open_center

    with open_center(folder, database) as db:
        password = secret("IDKARTA_USER_PASSWORD", f"Password for {login}", confirm=True,
                          ask=prompt_secret)  # fmt: skip
        if len(password) < MIN_PASSWORD:
            raise AccountError("password", f"at least {MIN_PASSWORD} characters")
        made = add_user(db, login=login, name=name, role=Role(role), password=password,
                        point=point, now=datetime.now(UTC), by=_host_actor())  # fmt: skip
    if as_json:
        echo_json(_user_json(made))
        return
    where = f" at {made.point}" if made.point else ""
    click.echo(f"Added         {made.login} ({made.role.value}{where}): {made.name}")


@user.command()
@click.argument("login")
@_DIR
@_DATABASE
@_JSON
@_errors
def disable(login: str, folder: Path | None, database: str | None, as_json: bool) -> None:
    """Disable the account LOGIN: it can no longer log in, its open sessions end."""
    from datetime import UTC, datetime

    from station.accounts import disable_user
    from station.folders.station import open_center

    with open_center(folder, database) as db:
        done = disable_user(db, login, now=datetime.now(UTC), by=_host_actor())
    if as_json:
        echo_json(_user_json(done))
        return
    click.echo(f"Disabled      {done.login}")


@user.command(name="list")
@_DIR
@_DATABASE
@_JSON
@_errors
def list_(folder: Path | None, database: str | None, as_json: bool) -> None:
    """Every account: login, role, point, whether disabled, name."""
    from station.accounts import list_users
    from station.folders.station import open_center

    with open_center(folder, database) as db:
        users = list_users(db)
    if as_json:
        echo_json([_user_json(u) for u in users])
        return
    for u in users:
        state = "disabled" if u.disabled else "active"
        click.echo(f"{u.login:<16} {u.role.value:<14} {u.point or '-':<8} {state:<9} {u.name}")
