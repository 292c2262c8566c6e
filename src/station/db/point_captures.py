"""A collection point's biometric captures (issue 11), encrypted at rest.

On :data:`station.db.point_tables.PointBase.metadata` (imported at the end of ``point_tables``);
versioned by ``migrations/point/versions/point_0003_captures.py``. ``sealed`` is AES-256-GCM
ciphertext (:mod:`station.point.biometrics`); nothing here holds an image in the clear.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from station.db.point_tables import LOGIN, STATUS, PointBase


class BiometricCapture(PointBase):
    """The current capture of one slot of an application: the face (``position`` 0) or a finger
    (ISO/IEC 19794-4 position 1…10). ``status`` ``accepted``: ``sealed`` holds the image
    encrypted under the data key ``key_id``, ``quality`` the measures (JSON); ``exception``: a
    missing or injured finger, ``reason`` says why and nothing is sealed. A new capture of a
    slot replaces the old one; purged rows are deleted (:func:`station.point.capture.purge`)."""

    __tablename__ = "biometric_captures"
    __table_args__ = (UniqueConstraint("application_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    position: Mapped[int]
    status: Mapped[str] = mapped_column(String(STATUS))
    quality: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    operator: Mapped[str] = mapped_column(String(LOGIN))
    at: Mapped[dt.datetime]
    key_id: Mapped[str | None] = mapped_column(String(64))
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)


__all__ = ["BiometricCapture"]
