"""`idkarta audit init|checkpoint|verify|show`: the audit log of a station folder's Center (and
its point): the audit key, signed checkpoints, the verdict on each chain.

The work is in :mod:`station.folders.audit` and :mod:`station.auditlog`; these commands parse,
call and print. ``verify`` exits 0 when every chain is intact, 1 when one is not (naming the first
entry changed, removed, inserted or reordered), 2 for an unusable input.
"""

from __future__ import annotations

import getpass
import json
import signal
from pathlib import Path
from typing import Any

import click

from station.cli.common import EXIT_FAILED, echo_json, fail, handle_errors

__all__ = ["audit"]

_DIR = click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
                    default=None, help="The station folder (center.db, audit/, point.db).")
_DATABASE = click.option("--database", metavar="URL", default=None,
                         help="The Center's database URL instead of DIR/center.db.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def _errors(func: Any) -> Any:
    """A database or audit-log failure: exit 1; anything else unusable: exit 2."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from station.auditlog import AuditLogError
        from station.db import DatabaseError

        try:
            return func(*args, **kwargs)
        except (DatabaseError, AuditLogError) as exc:
            fail(str(exc), EXIT_FAILED)

    return handle_errors(wrapper)


def _need_dir(folder: Path | None) -> Path:
    if folder is None:
        from station.errors import UsageError

        raise UsageError("give --dir DIR (the station folder: its audit key is in DIR/audit)")
    return folder


@click.group()
def audit() -> None:
    """The audit log: the audit key, signed checkpoints, verification of the hash chains."""


@audit.command()
@_DIR
@click.option("--key-type", default="ec-p256", show_default=True,
              help="ec-p256, ec-p384, ec-brainpoolP256r1, rsa-3072, …")
@click.option("--pkcs11-module", type=click.Path(dir_okay=False), default=None,
              help="A PKCS#11 module: the key is made on its token (PIN: IDKARTA_PIN).")
@click.option("--token", "token_label", default=None, help="Token label (with --pkcs11-module).")
@_JSON
@_errors
def init(folder: Path | None, key_type: str, pkcs11_module: str | None, token_label: str | None,
         as_json: bool) -> None:  # fmt: skip
    """Make the Center's audit key in DIR/audit (file key store: IDKARTA_PASSPHRASE or asked)
    and write its public key to DIR/audit/audit-key.pem."""
    from pki.errors import PKIError
    from pki.keys import KeySpec
    from station.cli.common import prompt_secret
    from station.errors import UsageError
    from station.folders.audit import init_audit_key

    if (pkcs11_module is None) != (token_label is None):
        raise UsageError("--pkcs11-module and --token go together")
    backend = ({"type": "pkcs11", "module": str(Path(pkcs11_module).resolve()),
                "token": str(token_label)} if pkcs11_module else {"type": "file"})  # fmt: skip
    try:
        spec = KeySpec.parse(key_type)
        info = init_audit_key(_need_dir(folder), backend, key_spec=spec, ask=prompt_secret)
    except PKIError as exc:
        raise UsageError(f"audit key: {exc}") from exc
    if as_json:
        echo_json({"backend": info.backend, "label": info.label,
                   "public_key": str(info.public_key), "key_sha256": info.key_sha256})
        return
    click.echo(f"Audit key     {info.label} ({info.backend}), SHA-256 {info.key_sha256}")
    click.echo(f"Public key    {info.public_key}")


@audit.command()
@_DIR
@_DATABASE
@click.option("--every", type=click.FloatRange(min=1.0), default=None, metavar="SECONDS",
              help="Keep running: every SECONDS, sign each chain that grew since its last "
                   "checkpoint, until interrupted (Ctrl-C or SIGTERM).")  # fmt: skip
@_JSON
@_errors
def checkpoint(folder: Path | None, database: str | None, every: float | None,
               as_json: bool) -> None:  # fmt: skip
    """Sign the head of each chain (the Center's, and the point's of DIR) with the audit key.

    Run it on demand, and at intervals with --every (or from a systemd timer or cron)."""
    from datetime import UTC, datetime

    from station.cli.common import prompt_secret
    from station.folders.audit import checkpoint_chains, run_checkpoints

    try:
        by = f"host:{getpass.getuser()}"[:64]
    except (KeyError, OSError):
        by = "host:unknown"
    if every is not None:
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            run_checkpoints(_need_dir(folder), database, by=by, every=every,
                            report=lambda c: _show(c, as_json), ask=prompt_secret)
        except KeyboardInterrupt:
            return
    made = checkpoint_chains(_need_dir(folder), database, by=by, now=datetime.now(UTC),
                             ask=prompt_secret)  # fmt: skip
    if as_json:
        echo_json([_checkpoint_json(c) for c in made])
        return
    for c in made:
        _show(c, False)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _checkpoint_json(c: Any) -> dict[str, Any]:
    return {"chain": c.chain, "seq": c.seq, "head_hash": c.head_hash, "at": c.at.isoformat(),
            "algorithm": c.algorithm}  # fmt: skip


def _show(c: Any, as_json: bool) -> None:
    """One checkpoint: a line of text, or (``--every --json``) one JSON object per line."""
    if as_json:
        click.echo(json.dumps(_checkpoint_json(c)), nl=True)
    else:
        click.echo(f"Checkpoint    {c.chain} at entry {c.seq} ({c.head_hash[:16]}…), "
                   f"{c.algorithm}")


@audit.command()
@_DIR
@_DATABASE
@click.option("--key", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=None,
              help="The audit public key (PEM) the checkpoints must be signed with; default "
                   "DIR/audit/audit-key.pem.")  # fmt: skip
@_JSON
@_errors
def verify(folder: Path | None, database: str | None, key: Path | None, as_json: bool) -> None:
    """Verify each chain: intact, or the first entry changed, removed, inserted or reordered;
    each checkpoint's head and signature (or why it was not checked). Exit 1 if not intact."""
    from station.folders.audit import verify_chains

    reports = verify_chains(folder, database, key=key)
    if as_json:
        echo_json([_report_json(r) for r in reports])
    else:
        for r in reports:
            verdict = "intact" if r.intact else f"NOT INTACT: {r.problem}" if r.problem else \
                "NOT INTACT: a checkpoint's signature is invalid"
            click.echo(f"{r.chain:<14}{r.entries} entries, {verdict}")
            if not r.checkpoints:
                click.echo("  checkpoints   none (not checked: no checkpoint taken)")
            for c in r.checkpoints:
                click.echo(f"  checkpoint {c.seq:<6} {c.at.isoformat()}  head {c.head}, "
                           f"signature {c.signature}")
    if not all(r.intact for r in reports):
        raise SystemExit(EXIT_FAILED)


def _report_json(r: Any) -> dict[str, Any]:
    problem = None if r.problem is None else {"kind": r.problem.kind, "seq": r.problem.seq,
                                               "detail": r.problem.detail}  # fmt: skip
    return {"chain": r.chain, "entries": r.entries, "intact": r.intact, "problem": problem,
            "checkpoints": [{"seq": c.seq, "at": c.at.isoformat(), "head": c.head,
                             "signature": c.signature} for c in r.checkpoints]}  # fmt: skip


@audit.command()
@_DIR
@_DATABASE
@click.option("--point", "of_point", is_flag=True, help="The point's chain (DIR/point.db).")
@click.option("--after", type=click.IntRange(0), default=0, show_default=True,
              help="Show entries after this one.")
@click.option("--limit", type=click.IntRange(1), default=50, show_default=True,
              help="At most this many entries.")
@_JSON
@_errors
def show(folder: Path | None, database: str | None, of_point: bool, after: int, limit: int,
         as_json: bool) -> None:  # fmt: skip
    """List entries of the Center's chain (or, with --point, the point's)."""
    from station.auditlog import entries
    from station.db import Role, open_database, sqlite_url
    from station.folders.station import POINT_DB, open_center

    if of_point:
        if not (_need_dir(folder) / POINT_DB).is_file():
            from station.errors import UsageError

            raise UsageError(f"{folder}: no {POINT_DB} (no point in this folder)")
        db = open_database(sqlite_url(_need_dir(folder) / POINT_DB), Role.POINT, migrate=False)
        try:
            with db.session(write=False) as s:
                found = entries(s, after_seq=after, limit=limit)
        finally:
            db.close()
    else:
        with open_center(folder, database) as center, center.session(write=False) as s:
            found = entries(s, after_seq=after, limit=limit)
    if as_json:
        echo_json([{"seq": e.seq, "at": e.at.isoformat(), "who": e.who, "role": e.role,
                    "point": e.point, "action": e.action, "object": e.object,
                    "state_hash": e.state_hash, "entry_hash": e.entry_hash} for e in found])
        return
    for e in found:
        where = f"@{e.point}" if e.point else ""
        click.echo(f"{e.seq:>6}  {e.at.strftime('%d.%m.%Y %H:%M:%S')}  {e.who}{where} "
                   f"({e.role})  {e.action}  {e.object}")
