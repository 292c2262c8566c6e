"""The e-signature CA's register: every certificate it issued, in one SQLite file.

The register holds the CA certificate and every certificate issued, with its revocation state
and the CRL counter (``esign_meta``). Every change is one transaction (``BEGIN IMMEDIATE``), so
:class:`pki.esign.EsignCA` records a certificate only when its signature succeeded and verified,
and callers may add their own rows (an outbox event) in the same transaction (:data:`OnRecord`).
Re-exported by :mod:`pki.esign`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import x509
from cryptography.hazmat.primitives import serialization

from pki.ca import certificate_public_key
from pki.keys import PublicKey

__all__ = [
    "CertificateStatus",
    "EsignRegister",
    "IssuedCertificate",
    "OnRecord",
    "new_serial",
    "spki_sha256",
    "utc_second",
]


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """One row of the register."""

    serial: int
    kind: str
    subject: str
    pinfl: str | None
    card_number: str | None
    not_before: dt.datetime
    not_after: dt.datetime
    fingerprint: str
    der: bytes
    revoked_at: dt.datetime | None = None
    reason: str | None = None

    @property
    def certificate(self) -> x509.Certificate:
        return x509.Certificate.load(self.der)


@dataclass(frozen=True, slots=True)
class CertificateStatus:
    """Revocation state of a serial: ``good``, ``revoked`` (with time and reason) or ``unknown``."""

    status: str
    revoked_at: dt.datetime | None = None
    reason: str | None = None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS esign_meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS esign_certificates (
    serial TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    pinfl TEXT,
    card_number TEXT,
    not_before TEXT NOT NULL,
    not_after TEXT NOT NULL,
    spki_sha256 TEXT NOT NULL,
    fingerprint TEXT NOT NULL UNIQUE,
    der BLOB NOT NULL,
    revoked_at TEXT,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS esign_by_pinfl ON esign_certificates (pinfl);
CREATE INDEX IF NOT EXISTS esign_by_spki ON esign_certificates (spki_sha256);
"""

OnRecord = Callable[[sqlite3.Connection, IssuedCertificate], None]


def utc_second(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC, to the second (what X.509 times and the register keep)."""
    return value.astimezone(dt.UTC).replace(microsecond=0)


def spki_sha256(public_key: PublicKey) -> str:
    """Hex SHA-256 of the DER SubjectPublicKeyInfo: the register's key index."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


class EsignRegister:
    """The CA's register of issued certificates: one SQLite file, every change one transaction.

    Serials are stored as lower-case hex text (they are up to 127 bits long).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        try:
            conn.executescript(_SCHEMA)
        finally:
            conn.close()  # sqlite3's context manager commits but never closes

    def __repr__(self) -> str:
        return f"EsignRegister({str(self.path)!r})"

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``; any exception rolls everything back."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        conn = self._connect()
        try:
            return list(conn.execute(sql, tuple(args)).fetchall())
        finally:
            conn.close()

    def meta(self, key: str) -> bytes | None:
        rows = self._read("SELECT value FROM esign_meta WHERE key = ?", (key,))
        return bytes(rows[0][0]) if rows else None

    @staticmethod
    def set_meta(conn: sqlite3.Connection, key: str, value: bytes) -> None:
        conn.execute(
            "INSERT INTO esign_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @staticmethod
    def _row(row: Sequence[Any]) -> IssuedCertificate:
        return IssuedCertificate(
            serial=int(row[0], 16),
            kind=row[1],
            subject=row[2],
            pinfl=row[3],
            card_number=row[4],
            not_before=dt.datetime.fromisoformat(row[5]),
            not_after=dt.datetime.fromisoformat(row[6]),
            fingerprint=row[7],
            der=bytes(row[8]),
            revoked_at=dt.datetime.fromisoformat(row[9]) if row[9] else None,
            reason=row[10],
        )

    _COLUMNS = (
        "serial, kind, subject, pinfl, card_number, not_before, not_after, fingerprint, der, "
        "revoked_at, reason"
    )

    def get(self, serial: int) -> IssuedCertificate | None:
        rows = self._read(
            f"SELECT {self._COLUMNS} FROM esign_certificates WHERE serial = ?",  # noqa: S608
            (format(serial, "x"),),
        )
        return self._row(rows[0]) if rows else None

    def all(self) -> list[IssuedCertificate]:
        rows = self._read(f"SELECT {self._COLUMNS} FROM esign_certificates ORDER BY not_before")  # noqa: S608
        return [self._row(r) for r in rows]

    def by_pinfl(self, pinfl: str) -> list[IssuedCertificate]:
        rows = self._read(
            f"SELECT {self._COLUMNS} FROM esign_certificates WHERE pinfl = ? "  # noqa: S608
            "ORDER BY not_before",
            (pinfl,),
        )
        return [self._row(r) for r in rows]

    def revoked(self) -> list[IssuedCertificate]:
        rows = self._read(
            f"SELECT {self._COLUMNS} FROM esign_certificates WHERE revoked_at IS NOT NULL"  # noqa: S608
        )
        return sorted((self._row(r) for r in rows), key=lambda r: r.serial)

    def count(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM esign_certificates")[0][0])

    def revoked_count(self) -> int:
        """How many certificates are revoked (revocations are never undone)."""
        sql = "SELECT COUNT(*) FROM esign_certificates WHERE revoked_at IS NOT NULL"
        return int(self._read(sql)[0][0])

    def status(self, serial: int) -> CertificateStatus:
        """OCSP status of ``serial``: ``unknown`` when this CA never issued it."""
        found = self.get(serial)
        if found is None:
            return CertificateStatus("unknown")
        if found.revoked_at is not None:
            return CertificateStatus("revoked", found.revoked_at, found.reason)
        return CertificateStatus("good")

    @staticmethod
    def insert(
        conn: sqlite3.Connection,
        cert: x509.Certificate,
        *,
        kind: str,
        pinfl: str | None = None,
        card_number: str | None = None,
    ) -> IssuedCertificate:
        """Record ``cert`` inside an open transaction."""
        validity = cert["tbs_certificate"]["validity"]
        public = certificate_public_key(cert)
        der = bytes(cert.dump())
        record = IssuedCertificate(
            serial=int(cert.serial_number),
            kind=kind,
            subject=cert.subject.human_friendly,
            pinfl=pinfl,
            card_number=card_number,
            not_before=utc_second(validity["not_before"].native),
            not_after=utc_second(validity["not_after"].native),
            fingerprint=hashlib.sha256(der).hexdigest(),
            der=der,
        )
        conn.execute(
            "INSERT INTO esign_certificates (serial, kind, subject, pinfl, card_number, "
            "not_before, not_after, spki_sha256, fingerprint, der) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                format(record.serial, "x"), kind, record.subject, pinfl, card_number,
                record.not_before.isoformat(), record.not_after.isoformat(),
                spki_sha256(public), record.fingerprint, der,
            ),
        )
        return record


def new_serial(conn: sqlite3.Connection) -> int:
    """A fresh random positive serial of up to 127 bits (RFC 5280 §4.1.2.2), unused here."""
    while True:
        serial = int.from_bytes(os.urandom(16), "big") >> 1
        if serial and not conn.execute(
            "SELECT 1 FROM esign_certificates WHERE serial = ?", (format(serial, "x"),)
        ).fetchone():
            return serial
