"""Appending to the audit log: one hash chain per database (the Center's, each point's).

Each entry records who (login, role, point) did what (``action``) to which ``object``, when, and
the SHA-256 of the object's new state; its hash covers all of that, its ``seq`` and the previous
entry's hash (:func:`entry_hash`), so changing, removing, inserting or reordering entries breaks
the chain (:mod:`station.auditlog.verify` names where). :func:`append` runs inside the caller's
transaction, the same one that changes the state: the entry and the change are written together
or not at all. Appenders queue on the head row (``SELECT … FOR UPDATE``; SQLite's write lock).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from station.db import Database
from station.db.center_tables import AuditEntry as _EntryRow
from station.db.center_tables import AuditHead as _HeadRow
from station.errors import StationError

__all__ = [
    "GENESIS",
    "Actor",
    "AuditLogError",
    "Entry",
    "append",
    "entries",
    "entry_hash",
    "head",
    "record_view",
    "state_hash",
]

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""

_DOMAIN = b"idkarta audit entry v1\n"
_ACTION = re.compile(r"[a-z][a-z0-9_.-]{0,63}")

# The Center's and a point's audit tables have the same names and columns
# (station.db.audit_tables): the Center's Table objects serve both databases.
ENTRIES: Table = _EntryRow.__table__  # type: ignore[assignment]
HEAD: Table = _HeadRow.__table__  # type: ignore[assignment]


class AuditLogError(StationError):
    """An entry could not be written or the log could not be read as a chain."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a login, its role (operator, supervisor, auditor, administrator, or "system"
    for the Center itself), and the point it belongs to (None at the Center)."""

    login: str
    role: str
    point: str | None = None

    @classmethod
    def system(cls, login: str = "system") -> Actor:
        """The Center acting on its own (a command run by its administrator on the host)."""
        return cls(login=login, role="system", point=None)


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry as stored."""

    seq: int
    at: datetime
    who: str
    role: str
    point: str | None
    action: str
    object: str
    state_hash: str | None
    prev_hash: str
    entry_hash: str

    def fields(self) -> dict[str, Any]:
        """The hashed fields, as :func:`entry_hash` takes them."""
        return {"seq": self.seq, "at": self.at, "who": self.who, "role": self.role,
                "point": self.point, "action": self.action, "object": self.object,
                "state_hash": self.state_hash, "prev_hash": self.prev_hash}  # fmt: skip


def _instant(at: datetime) -> str:
    """``at`` in UTC to the microsecond (what both databases keep)."""
    if at.tzinfo is None:
        raise AuditLogError("an audit entry's time must be aware (UTC)")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(*, seq: int, at: datetime, who: str, role: str, point: str | None, action: str,
               object: str, state_hash: str | None, prev_hash: str) -> str:
    """SHA-256 (hex) of an entry: a domain tag and the canonical JSON (sorted keys, UTF-8) of
    every field but the hash itself."""
    body = {"seq": seq, "at": _instant(at), "who": who, "role": role, "point": point,
            "action": action, "object": object, "state_hash": state_hash,
            "prev_hash": prev_hash}  # fmt: skip
    data = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(_DOMAIN + data.encode("utf-8")).hexdigest()


def state_hash(state: bytes | str | Mapping[str, Any] | Sequence[Any] | None) -> str | None:
    """SHA-256 (hex) of an object's new state: bytes as they are, text as UTF-8, anything else
    as canonical JSON (sorted keys; dates and other values by ``str``). None stays None."""
    if state is None:
        return None
    if isinstance(state, str):
        data = state.encode("utf-8")
    elif isinstance(state, bytes):
        data = state
    else:
        data = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          default=str).encode("utf-8")  # fmt: skip
    return hashlib.sha256(data).hexdigest()


def append(
    session: Session,
    actor: Actor,
    action: str,
    object: str,
    *,
    state: bytes | str | Mapping[str, Any] | Sequence[Any] | None = None,
    now: datetime,
) -> Entry:
    """Append an entry in ``session``'s transaction (the Center's or a point's database).

    ``action`` is a dotted lower-case name ("application.accept", "user.add",
    "biometrics.view"); ``object`` names what it acted on ("application/<id>", "user/<login>");
    ``state`` is the object's new state (hashed here; None for a view)."""
    if not _ACTION.fullmatch(action):
        raise AuditLogError(f"not an audit action name: {action!r}")
    if not object or len(object) > 200:
        raise AuditLogError("an audit entry names its object in 1-200 characters")
    row = session.execute(select(HEAD.c.seq, HEAD.c.entry_hash).where(HEAD.c.id == 1)
                          .with_for_update()).one_or_none()  # fmt: skip
    if row is None:
        raise AuditLogError("the audit log has lost its head row (see idkarta audit verify)")
    seq, prev = int(row[0]) + 1, str(row[1])
    entry = Entry(seq=seq, at=now, who=actor.login, role=actor.role, point=actor.point,
                  action=action, object=object, state_hash=state_hash(state), prev_hash=prev,
                  entry_hash="")  # fmt: skip
    digest = entry_hash(**entry.fields())
    values = entry.fields() | {"entry_hash": digest}
    session.execute(insert(ENTRIES).values(**values))
    session.execute(update(HEAD).where(HEAD.c.id == 1).values(seq=seq, entry_hash=digest))
    return Entry(**values)


def head(session: Session) -> tuple[int, str]:
    """The head row's (seq, hash); (0, :data:`GENESIS`) for an empty log."""
    row = session.execute(select(HEAD.c.seq, HEAD.c.entry_hash).where(HEAD.c.id == 1)).one_or_none()
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def entries(session: Session, *, after_seq: int = 0, limit: int | None = None) -> list[Entry]:
    """Entries with ``seq > after_seq`` in ``seq`` order (at most ``limit``)."""
    stmt = select(ENTRIES).where(ENTRIES.c.seq > after_seq).order_by(ENTRIES.c.seq)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [Entry(**dict(r._mapping)) for r in session.execute(stmt)]


def record_view(db: Database, actor: Actor, object: str, *, now: datetime) -> Entry:
    """Record that ``actor`` viewed a person's biometric data (``object``: whose, e.g.
    "application/<id>/face"), as action ``biometrics.view`` in its own transaction of ``db``
    (the database holding the data). Call it before showing the data: no entry, no view."""
    with db.session() as session:
        return append(session, actor, "biometrics.view", object, now=now)
