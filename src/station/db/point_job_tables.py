"""A collection point's personalization tables (issue 11): the blank stock and the jobs.

On :data:`station.db.point_tables.PointBase.metadata` (imported at the end of ``point_tables``);
versioned by ``migrations/point/versions/point_0002_jobs.py``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from station.db.point_tables import CARD, STATUS, PointBase

SERIAL = 64
READER = 64


class Blank(PointBase):
    """A card blank of the point's stock: its chip serial and ATR historical bytes, its batch.

    ``status``: ``in-stock`` → ``in-use`` (in a job's reader) → ``issued`` (its card passed the
    gate) or ``spoiled`` (``reason`` says why). ``job_id`` and ``card`` name the job and card
    number it was used for.
    """

    __tablename__ = "blanks"

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(SERIAL), unique=True)
    historical: Mapped[str] = mapped_column(String(64))  # ATR historical bytes, hex
    batch: Mapped[str] = mapped_column(String(SERIAL), index=True)
    status: Mapped[str] = mapped_column(String(STATUS), index=True)
    received_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(36), index=True)
    card: Mapped[str | None] = mapped_column(String(CARD))


class Job(PointBase):
    """One application's card on one reader: the step it is at and what its steps made.

    ``chip_keys`` (the chip's CA and AA private keys, PKCS#8) and ``k_perso`` are needed until
    the card is ready (a spoiled blank's successor gets the same data groups); they are wiped
    when the job ends. One job per application (a unique index).
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("uq_jobs_application_id", "application_id", unique=True),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    reader: Mapped[str] = mapped_column(String(READER))
    card: Mapped[str] = mapped_column(String(CARD))
    status: Mapped[str] = mapped_column(String(STATUS), index=True)
    step: Mapped[str | None] = mapped_column(String(STATUS))
    phase: Mapped[str] = mapped_column(String(STATUS))
    blank_id: Mapped[int | None] = mapped_column(ForeignKey("blanks.id"))
    blanks_used: Mapped[int]
    can: Mapped[str] = mapped_column(String(16))
    personalized_at: Mapped[dt.datetime | None]
    chip_keys: Mapped[bytes | None] = mapped_column(LargeBinary)
    k_perso: Mapped[bytes | None] = mapped_column(LargeBinary)
    lds: Mapped[str | None] = mapped_column(Text)  # JSON {file name: hex}, EF.SOD included
    esign_serial: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


__all__ = ["Blank", "Job"]
