"""The point's card blanks as inventory (issue 11): received in batches, each with its chip serial
and ATR historical bytes; every blank ends ``issued`` (its card passed the read-back gate),
``spoiled`` (with the reason), or is still at the point (``in-stock``, or ``in-use`` in a
reader). :func:`daily_report` balances a day: opening + received − issued − spoiled = closing,
the closing figure counted from the blanks themselves.

The in-process virtual chip (the embedded default) has blanks too: :func:`make_virtual_blanks`
writes a blank chip image per serial into a folder; a virtual reader loads one of them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from idcard.chip import VirtualChip
from station.db import ConstraintError, Database
from station.db.point_job_tables import Blank as BlankRow
from station.domain.calendar import TASHKENT
from station.point.errors import NotFound, PointError

__all__ = [
    "BlankInfo",
    "BlankSpec",
    "BlankStatus",
    "OutOfStock",
    "StockReport",
    "daily_report",
    "end_blank",
    "historical_bytes",
    "list_blanks",
    "make_virtual_blanks",
    "receive",
    "take_blank",
    "virtual_blank_path",
]

_SERIAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class BlankStatus(enum.StrEnum):
    IN_STOCK = "in-stock"
    IN_USE = "in-use"
    ISSUED = "issued"
    SPOILED = "spoiled"


class OutOfStock(PointError):
    """No blank is left in stock."""


@dataclass(frozen=True, slots=True)
class BlankSpec:
    """A blank as it arrives: its chip serial and ATR historical bytes."""

    serial: str
    historical: bytes


@dataclass(frozen=True, slots=True)
class BlankInfo:
    id: int
    serial: str
    historical: bytes
    batch: str
    status: BlankStatus
    received_at: datetime
    ended_at: datetime | None = None
    reason: str | None = None
    job: str | None = None
    card: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "serial": self.serial, "historical": self.historical.hex(),
                "batch": self.batch, "status": self.status.value,
                "received_at": self.received_at.isoformat(),
                "ended_at": self.ended_at.isoformat() if self.ended_at else None,
                "reason": self.reason, "job": self.job, "card": self.card}  # fmt: skip


def _info(row: BlankRow) -> BlankInfo:
    return BlankInfo(id=row.id, serial=row.serial, historical=bytes.fromhex(row.historical),
                     batch=row.batch, status=BlankStatus(row.status), received_at=row.received_at,
                     ended_at=row.ended_at, reason=row.reason, job=row.job_id,
                     card=row.card)  # fmt: skip


def historical_bytes(atr: bytes) -> bytes:
    """The historical bytes of an ATR (ISO/IEC 7816-3 §8.2: T0's low nibble counts them;
    the interface bytes before them as T0/TDi's high nibbles announce; TCK after them when a
    protocol other than T=0 is offered)."""
    if len(atr) < 2:
        raise PointError("atr", "an ATR has at least TS and T0")
    count, y, i, tck = atr[1] & 0x0F, atr[1] >> 4, 2, False
    while True:
        i += bin(y).count("1")
        if not y & 0x8:
            break
        td = atr[i - 1]
        tck = tck or (td & 0x0F) != 0
        y = td >> 4
    end = i + count
    if end + (1 if tck else 0) > len(atr):
        raise PointError("atr", "the ATR is shorter than its interface and historical bytes")
    return atr[i:end]


def receive(
    db: Database, *, batch: str, blanks: Sequence[BlankSpec], now: datetime
) -> list[BlankInfo]:
    """Take a batch of blanks into stock (all or none: a serial already known refuses it)."""
    if not _SERIAL.fullmatch(batch or ""):
        raise PointError("batch", "1-64 letters, digits, '.', '_' or '-'")
    if not blanks:
        raise PointError("blanks", "a batch has at least one blank")
    for spec in blanks:
        if not _SERIAL.fullmatch(spec.serial or ""):
            raise PointError("serial", f"{spec.serial[:70]!r} is not 1-64 letters, digits, "
                             "'.', '_' or '-'")  # fmt: skip
    try:
        with db.session() as session:
            rows = [BlankRow(serial=s.serial, historical=s.historical.hex(), batch=batch,
                             status=BlankStatus.IN_STOCK.value, received_at=now)
                    for s in blanks]  # fmt: skip
            session.add_all(rows)
            session.flush()
            return [_info(r) for r in rows]
    except ConstraintError as exc:
        if exc.constraint != "uq_blanks_serial":
            raise
        raise PointError("serial", "a blank of this batch is already in the stock") from None


def take_blank(session: Session, *, job: str, card: str) -> BlankRow:
    """The oldest blank in stock, now ``in-use`` by ``job`` (in the caller's transaction; on
    PostgreSQL other readers skip the row locked, SQLite's write lock serializes them)."""
    query = (select(BlankRow).where(BlankRow.status == BlankStatus.IN_STOCK.value)
             .order_by(BlankRow.id).limit(1).with_for_update(skip_locked=True))  # fmt: skip
    row = session.scalar(query)
    if row is None:
        raise OutOfStock("stock", "no blank is left in stock: receive a batch "
                         "('idkarta point stock receive')")  # fmt: skip
    row.status, row.job_id, row.card = BlankStatus.IN_USE.value, job, card
    return row


def end_blank(session: Session, blank_id: int, status: BlankStatus, *, now: datetime,
              reason: str | None = None) -> BlankRow:  # fmt: skip
    """Record an in-use blank as ``issued`` or ``spoiled`` (a spoiled one needs its reason)."""
    if status not in (BlankStatus.ISSUED, BlankStatus.SPOILED):
        raise PointError("status", "a blank ends issued or spoiled")
    if status is BlankStatus.SPOILED and not (reason or "").strip():
        raise PointError("reason", "a spoiled blank needs its reason")
    row = session.get(BlankRow, blank_id, with_for_update=True)
    if row is None:
        raise NotFound("blank", f"no blank {blank_id}")
    if row.status != BlankStatus.IN_USE.value:
        raise PointError("blank", f"blank {row.serial} is {row.status}, not in use")
    row.status, row.ended_at, row.reason = status.value, now, reason
    return row


def list_blanks(db: Database, *, status: BlankStatus | None = None) -> list[BlankInfo]:
    with db.session(write=False) as session:
        query = select(BlankRow).order_by(BlankRow.id)
        if status is not None:
            query = query.where(BlankRow.status == status.value)
        return [_info(r) for r in session.scalars(query)]


@dataclass(frozen=True, slots=True)
class StockReport:
    """One day's stock movement (the day in Tashkent)."""

    day: date
    opening: int
    received: int
    issued: int
    spoiled: int
    closing: int  # counted: blanks received by the day's end and not ended by then
    spoiled_reasons: dict[str, int]

    @property
    def balanced(self) -> bool:
        return self.opening + self.received - self.issued - self.spoiled == self.closing

    def to_json(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "opening": self.opening, "received": self.received,
                "issued": self.issued, "spoiled": self.spoiled, "closing": self.closing,
                "balanced": self.balanced,
                "spoiled_reasons": dict(sorted(self.spoiled_reasons.items()))}  # fmt: skip


def daily_report(db: Database, day: date) -> StockReport:
    """Opening stock, blanks received, issued and spoiled on ``day`` (Tashkent time), and the
    closing stock counted from the blanks themselves: :attr:`StockReport.balanced` says the
    movements explain it."""
    start = datetime.combine(day, time(0), TASHKENT)
    end = start + timedelta(days=1)

    def at_the_point(moment: datetime) -> Any:
        return (BlankRow.received_at < moment) & (
            BlankRow.ended_at.is_(None) | (BlankRow.ended_at >= moment))

    def count(session: Session, *where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(BlankRow).where(*where)) or 0)

    with db.session(write=False) as session:
        within = (BlankRow.ended_at >= start) & (BlankRow.ended_at < end)
        reasons = session.execute(
            select(BlankRow.reason, func.count()).where(
                within, BlankRow.status == BlankStatus.SPOILED.value).group_by(BlankRow.reason)
        ).all()  # fmt: skip
        return StockReport(
            day=day,
            opening=count(session, at_the_point(start)),
            received=count(session, BlankRow.received_at >= start, BlankRow.received_at < end),
            issued=count(session, within, BlankRow.status == BlankStatus.ISSUED.value),
            spoiled=count(session, within, BlankRow.status == BlankStatus.SPOILED.value),
            closing=count(session, at_the_point(end)),
            spoiled_reasons={str(r): int(n) for r, n in reasons},
        )


# -- virtual blanks (the embedded default) --------------------------------------------------


def virtual_blank_path(folder: Path, serial: str) -> Path:
    """Where the virtual blank ``serial``'s chip image is (``folder/blanks/SERIAL.json``)."""
    if not _SERIAL.fullmatch(serial):
        raise PointError("serial", "not a blank serial")
    return folder / "blanks" / f"{serial}.json"


def make_virtual_blanks(folder: Path, *, batch: str, count: int) -> list[BlankSpec]:
    """``count`` blank virtual chips (serials ``BATCH-00001`` …) written under ``folder/blanks``;
    an existing image is never overwritten."""
    if not 1 <= count <= 100_000:
        raise PointError("count", "1 to 100000 blanks")
    specs = []
    for i in range(1, count + 1):
        serial = f"{batch}-{i:05d}"
        path = virtual_blank_path(folder, serial)
        if path.exists():
            raise PointError("serial", f"{path} exists: batch {batch} was made already")
        chip = VirtualChip.new()
        chip.save(path)
        specs.append(BlankSpec(serial, historical_bytes(chip.atr)))
    return specs
