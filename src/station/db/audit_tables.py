"""The columns of an audit log (:mod:`station.auditlog`), the same in the Center's database and
in a point's: each schema declares its own ``audit_entries``, ``audit_head`` and
``audit_checkpoints`` tables from these mixins, so one set of statements serves both.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

HASH = 64  # SHA-256, lower-case hex


class AuditEntryColumns:
    """One entry of the hash chain: who (login, role, point) did what (action) to which object,
    when, the SHA-256 of the object's new state (None when the entry records a view or an
    object without a state), the previous entry's hash and this entry's hash
    (:func:`station.auditlog.chain.entry_hash`). ``seq`` counts from 1 without gaps."""

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime]
    who: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    point: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    object: Mapped[str] = mapped_column(String(200))
    state_hash: Mapped[str | None] = mapped_column(String(HASH))
    prev_hash: Mapped[str] = mapped_column(String(HASH))
    entry_hash: Mapped[str] = mapped_column(String(HASH))


class AuditHeadColumns:
    """The chain's head (one row, ``id`` 1): the last ``seq`` and its hash. Appenders lock this
    row (``SELECT … FOR UPDATE``; SQLite's write lock), so entries are appended one at a time."""

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int]
    entry_hash: Mapped[str] = mapped_column(String(HASH))


class AuditCheckpointColumns:
    """A checkpoint: the chain head at ``seq`` signed by the Center's audit key
    (:mod:`station.auditlog.checkpoint`); ``key_sha256`` is the SHA-256 of the public key's
    SubjectPublicKeyInfo, ``algorithm`` the signature algorithm's name."""

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int]
    head_hash: Mapped[str] = mapped_column(String(HASH))
    at: Mapped[dt.datetime]
    by: Mapped[str] = mapped_column(String(64))
    key_sha256: Mapped[str] = mapped_column(String(HASH))
    algorithm: Mapped[str] = mapped_column(String(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary)


__all__ = ["HASH", "AuditCheckpointColumns", "AuditEntryColumns", "AuditHeadColumns"]
