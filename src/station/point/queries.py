"""Read-only questions a front asks of the point's records: the queue, an application's history,
a refusal's notice printed again. No state changes here (the use cases are in
:mod:`station.point.service`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from station.db import Database
from station.db.point_tables import Application as ApplicationRow
from station.db.point_tables import PointEvent
from station.db.point_tables import Refusal as RefusalRow
from station.domain.application import ApplicationForm
from station.domain.person import Person
from station.domain.refusals import RefusalReason
from station.point.config import PointConfig
from station.point.errors import NotFound
from station.point.models import Application
from station.point.notice import RefusalNotice, render_refusal_notice
from station.point.service import _REASON_TEXT, _full_name, _snapshot

__all__ = ["Event", "applications", "events", "refusal_notice"]


@dataclass(frozen=True, slots=True)
class Event:
    """One step of an application's history (``point_events``)."""

    at: datetime
    operator: str
    what: str
    detail: str | None


def applications(db: Database, *, point_code: str, open_only: bool = True,
                 limit: int = 500) -> list[Application]:  # fmt: skip
    """The point's applications (only the open ones: the day's queue), the earliest due first."""
    with db.session(write=False) as session:
        query = select(ApplicationRow).where(ApplicationRow.point_code == point_code)
        if open_only:
            query = query.where(ApplicationRow.open.is_(True))
        rows = session.scalars(query.order_by(ApplicationRow.due_date, ApplicationRow.accepted_at,
                                              ApplicationRow.id).limit(limit))  # fmt: skip
        return [_snapshot(r) for r in rows]


def events(db: Database, app_id: str) -> list[Event]:
    """The history of ``app_id``, in order."""
    with db.session(write=False) as session:
        rows = session.scalars(select(PointEvent).where(PointEvent.application_id == app_id)
                               .order_by(PointEvent.id))  # fmt: skip
        return [Event(r.at, r.operator, r.what, r.detail) for r in rows]


def refusal_notice(db: Database, app_id: str, *, point: PointConfig) -> tuple[str, bytes]:
    """The refusal notice of application ``app_id`` printed again: (file name, PDF bytes).

    The notice is a function of the refusal record, so the reprint is byte-identical to the
    notice printed when the application was refused; that is checked against the SHA-256 kept
    with the record (:class:`NotFound` when there is no refusal, or when the reprint differs)."""
    with db.session(write=False) as session:
        row = session.scalar(select(RefusalRow).where(RefusalRow.application_id == app_id)
                             .order_by(RefusalRow.id.desc()))  # fmt: skip
        app = session.get(ApplicationRow, app_id)
        if row is None or app is None:
            raise NotFound("application", f"no refusal of application {app_id!r} at this point")
        form = ApplicationForm.from_json(json.loads(app.form))
        person = Person.from_json(json.loads(row.person))
        reason = RefusalReason(row.reason)
        uz, en = _REASON_TEXT[reason]
        refusal_id = f"{point.code}-R{row.id}"
        notice = render_refusal_notice(RefusalNotice(
            refusal_id=refusal_id, at=row.at, application_id=app_id,
            point=f"{point.code} ({point.name})", operator=row.operator,
            person=_full_name(person), birth_date=person.birth_date.isoformat(),
            ground=form.ground.value, reason_code=reason.value, reason_uz=uz, reason_en=en,
            clause=reason.clause,
        ))  # fmt: skip
        if hashlib.sha256(notice).hexdigest() != row.notice_sha256:
            raise NotFound("notice", f"the notice of {refusal_id} cannot be printed again "
                           "identically (its record changed)")  # fmt: skip
        return f"{refusal_id}.pdf", notice
