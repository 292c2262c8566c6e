"""OneID registration events with an outbox: written with the enrollment, delivered at least once.

Since 1 February 2026 the holder of a new ID card is registered in OneID automatically
(decree of 19 January 2026; docs: /work/shared/domain.md). Each issued e-signature certificate
produces one event — holder, PINFL, certificate serial, SHA-256 fingerprint — written to the
``outbox_events`` table of the CA register's SQLite file inside the issuing transaction
(:meth:`Outbox.hook` → :meth:`pki.esign.EsignCA.issue` ``on_record``), so a certificate never
exists without its event. :meth:`Outbox.deliver` sends due events to an :class:`Endpoint` (a
JSONL file by default, an HTTP POST endpoint optionally), marks one delivered only after the
endpoint accepted it, and reschedules failures with exponential backoff. Every event carries an
idempotency key (its id) so a receiver can drop the duplicates at-least-once delivery implies.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import socket
import sqlite3
import threading
import urllib.parse
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from idcard.errors import IdkartaError
from pki.esign import IssuedCertificate, OnRecord

__all__ = [
    "DeliveryReport",
    "Endpoint",
    "HTTPEndpoint",
    "JSONLEndpoint",
    "OneIDEvent",
    "Outbox",
    "OutboxError",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox_events (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    delivered_at TEXT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox_events (delivered_at, next_attempt_at);
"""


class OutboxError(IdkartaError):
    """An endpoint refused or could not take an event (the event stays pending)."""


@dataclass(frozen=True, slots=True)
class OneIDEvent:
    """One event; ``id`` is the idempotency key."""

    id: str
    kind: str
    payload: dict[str, Any]
    created_at: dt.datetime
    attempts: int = 0

    def as_json(self) -> str:
        return json.dumps(
            {
                "idempotency_key": self.id,
                "kind": self.kind,
                "created_at": self.created_at.isoformat(),
                **self.payload,
            },
            ensure_ascii=False,
            sort_keys=True,
        )


class Endpoint(Protocol):
    """Where events go; ``send`` returns on success and raises :class:`OutboxError` otherwise."""

    def send(self, event: OneIDEvent) -> None: ...


class JSONLEndpoint:
    """Appends one JSON line per event to a file (a local queue), fsynced before returning."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def send(self, event: OneIDEvent) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(event.as_json() + "\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise OutboxError(f"cannot append to {self.path}: {exc.strerror}") from None


class HTTPEndpoint:
    """POSTs the event as JSON with an ``Idempotency-Key`` header; any 2xx is success.

    Whatever the server does — refuses the connection, closes it without an answer, answers
    garbage or a non-2xx status, redirects, or takes longer than ``timeout`` seconds for the
    whole exchange — ends in :class:`OutboxError`, so the event stays pending.
    Redirects are not followed (a POST is never turned into a GET elsewhere)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OutboxError(f"not an http(s) URL: {url!r}")
        try:
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError:
            raise OutboxError(f"not an http(s) URL: {url!r}") from None
        self.url = url
        self.timeout = timeout
        self._parts = parts

    def _connection(self) -> http.client.HTTPConnection:
        p = self._parts
        if p.scheme == "https":
            return http.client.HTTPSConnection(p.hostname or "", p.port, timeout=self.timeout)
        return http.client.HTTPConnection(p.hostname or "", p.port, timeout=self.timeout)

    def send(self, event: OneIDEvent) -> None:
        path = urllib.parse.urlunsplit(("", "", self._parts.path or "/", self._parts.query, ""))
        body = event.as_json().encode("utf-8")
        headers = {"Content-Type": "application/json", "Idempotency-Key": event.id}
        conn = self._connection()
        # The socket timeout bounds each read; the timer bounds the whole exchange (a server
        # trickling one byte per second would otherwise hold the batch for ever).
        aborted = threading.Event()
        timer = threading.Timer(self.timeout, _abort, (conn, aborted))
        timer.daemon = True
        timer.start()
        try:
            conn.request("POST", path, body=body, headers=headers)
            status = conn.getresponse().status  # the body is not used: the connection closes
        except (OSError, http.client.HTTPException, ValueError) as exc:
            timer.cancel()
            # Either bound may strike first (the socket's read timeout or the timer, both
            # ``timeout``): both are the same failure, an answer that did not come in time.
            if aborted.is_set() or isinstance(exc, TimeoutError):
                raise OutboxError(f"endpoint gave no answer within {self.timeout:g} s") from None
            raise OutboxError(f"endpoint failed: {_describe(exc)}") from None
        finally:
            timer.cancel()
            conn.close()
        if not 200 <= status < 300:
            raise OutboxError(f"endpoint answered {status}")


def _abort(conn: http.client.HTTPConnection, aborted: threading.Event) -> None:
    """Break a running exchange from the deadline timer: the blocked read returns at once."""
    aborted.set()
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _describe(exc: BaseException) -> str:
    """A short, single-line, printable reason: the exception's class and its text (which may
    quote what the server sent), cut to 200 characters."""
    text = " ".join("".join(c if c.isprintable() else "?" for c in str(exc)).split())
    reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return reason[:200]


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    delivered: int
    failed: int
    pending: int


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


class Outbox:
    """The outbox table in the SQLite file at ``path`` (the CA register's file, for one
    transaction with the certificate record)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        backoff: dt.timedelta = dt.timedelta(seconds=30),
        max_backoff: dt.timedelta = dt.timedelta(hours=6),
    ) -> None:
        self.path = Path(path)
        self.backoff = backoff
        self.max_backoff = max_backoff
        conn = self._connect()
        try:
            conn.executescript(_SCHEMA)
        finally:
            conn.close()  # sqlite3's context manager commits but never closes

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    @staticmethod
    def enqueue(
        conn: sqlite3.Connection,
        kind: str,
        payload: dict[str, Any],
        *,
        now: dt.datetime | None = None,
    ) -> str:
        """Write one event inside the caller's open transaction; returns its id."""
        event_id = str(uuid.uuid4())
        moment = _iso(now or dt.datetime.now(dt.UTC))
        conn.execute(
            "INSERT INTO outbox_events (id, kind, payload, created_at, next_attempt_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (event_id, kind, json.dumps(payload, ensure_ascii=False, sort_keys=True), moment,
             moment),
        )
        return event_id

    def hook(self) -> OnRecord:
        """An ``on_record`` for :meth:`pki.esign.EsignCA.issue`: one OneID registration event."""

        def on_record(conn: sqlite3.Connection, issued: IssuedCertificate) -> None:
            Outbox.enqueue(
                conn,
                "oneid.register",
                {
                    "holder": issued.subject,
                    "pinfl": issued.pinfl,
                    "card_number": issued.card_number,
                    "certificate_serial": format(issued.serial, "x"),
                    "certificate_sha256": issued.fingerprint,
                },
                now=issued.not_before,
            )

        return on_record

    def _execute(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        """Run one statement on its own connection (autocommit); its rows."""
        conn = self._connect()
        try:
            return list(conn.execute(sql, tuple(args)).fetchall())
        finally:
            conn.close()

    def pending(self, now: dt.datetime | None = None, *, limit: int = -1) -> list[OneIDEvent]:
        """Undelivered events due at ``now`` (all undelivered when ``now`` is None), the
        ``limit`` first (all when negative)."""
        sql = (
            "SELECT id, kind, payload, created_at, attempts FROM outbox_events "
            "WHERE delivered_at IS NULL"
        )
        args: list[Any] = []
        if now is not None:
            sql += " AND next_attempt_at <= ?"
            args.append(_iso(now))
        rows = self._execute(sql + " ORDER BY created_at, id LIMIT ?", [*args, limit])
        return [
            OneIDEvent(r[0], r[1], json.loads(r[2]), dt.datetime.fromisoformat(r[3]), r[4])
            for r in rows
        ]

    def delivered(self) -> list[str]:
        return [r[0] for r in self._execute(
            "SELECT id FROM outbox_events WHERE delivered_at IS NOT NULL ORDER BY created_at"
        )]

    def _delay(self, attempts: int) -> dt.timedelta:
        delay: dt.timedelta = self.backoff * (2 ** max(attempts - 1, 0))
        return min(delay, self.max_backoff)

    def deliver(
        self, endpoint: Endpoint, *, now: dt.datetime | None = None, limit: int = 100
    ) -> DeliveryReport:
        """Send the due events in order; mark each delivered only after ``endpoint`` took it."""
        moment = now or dt.datetime.now(dt.UTC)
        delivered = failed = 0
        for event in self.pending(moment, limit=limit):
            try:
                endpoint.send(event)
            except OutboxError as exc:
                failed += 1
                attempts = event.attempts + 1
                self._execute(
                    "UPDATE outbox_events SET attempts = ?, next_attempt_at = ?, "
                    "last_error = ? WHERE id = ?",
                    (attempts, _iso(moment + self._delay(attempts)), str(exc), event.id),
                )
                continue
            self._execute(
                "UPDATE outbox_events SET delivered_at = ?, attempts = attempts + 1, "
                "last_error = NULL WHERE id = ?",
                (_iso(moment), event.id),
            )
            delivered += 1
        sql = "SELECT COUNT(*) FROM outbox_events WHERE delivered_at IS NULL"
        [(pending,)] = self._execute(sql)
        return DeliveryReport(delivered, failed, int(pending))
