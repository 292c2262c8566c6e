"""The capture use case at the collection point (issue 11): the applicant's face and up to ten
fingers from a :class:`~station.capture.CaptureDevice`, each through its quality gate with a
configurable threshold and retries; a missing or injured finger recorded as an exception with
its reason (not a refusal); the applicant's refusal (fingerprints refused, glasses or headwear
insisted on) as the workflow's refusal record. Accepted images are stored encrypted
(:mod:`station.point.biometrics`) in ``biometric_captures``, one current capture per slot
(0 the face, 1…10 the fingers); the audit trail says what was captured, never with images.

Like :mod:`station.point.service`, every function takes its dependencies (``db``, ``key``,
``point``, ``now``) and formats nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from station.capture import (
    FACE_RULES,
    FINGER_RULES,
    CaptureDevice,
    CaptureRefused,
    FaceCapture,
    FaceRules,
    FingerCapture,
    FingerException,
    FingerRules,
    check_face,
    check_finger,
    choose_for_dg3,
)
from station.capture.device import check_position
from station.db import Database
from station.db.point_captures import BiometricCapture
from station.db.point_tables import Application as ApplicationRow
from station.db.point_tables import PointEvent
from station.domain.errors import DomainError
from station.domain.refusals import RefusalReason
from station.point import service
from station.point.biometrics import BiometricKey, capture_aad
from station.point.config import PointConfig
from station.point.errors import NotFound, WrongState
from station.point.models import ApplicationStatus, Refusal

__all__ = [
    "CAPTURE_STATUSES",
    "ENDED_STATUSES",
    "FACE",
    "CaptureReport",
    "Captures",
    "PurgeReport",
    "SlotOutcome",
    "accepted_captures",
    "capture",
    "purge",
    "refuse",
]

FACE = 0
"""The slot of the face; fingers are ISO/IEC 19794-4 positions 1…10."""
CAPTURE_STATUSES = frozenset({ApplicationStatus.ACCEPTED, ApplicationStatus.RETURNED})
"""An application is captured while the applicant is at the point, before the card is made."""
ENDED_STATUSES = frozenset({ApplicationStatus.HANDED_OVER, ApplicationStatus.REFUSED,
                            ApplicationStatus.CANCELLED})  # fmt: skip
"""After these (plus the retention) the captures are purged."""
_ENDING_EVENTS = ("handed-over", "refused", "cancelled")


@dataclass(frozen=True, slots=True)
class SlotOutcome:
    """What happened to one slot in this capture: ``accepted`` (with its score: the finger's
    local score; for the face, none), ``refused`` after ``attempts`` (``problems``: every reason
    of the last attempt) or ``exception`` (``reason``)."""

    position: int
    status: str
    attempts: int = 0
    score: int | None = None
    problems: tuple[tuple[str, str], ...] = ()
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"position": self.position, "status": self.status, "attempts": self.attempts,
                "score": self.score, "reason": self.reason,
                "problems": [{"reason": r, "message": m} for r, m in self.problems]}  # fmt: skip


@dataclass(frozen=True, slots=True)
class CaptureReport:
    """The outcome of :func:`capture`: each slot tried, the fingers DG3 will take from every
    current capture of the application, and whether the application now has all it needs (a
    face, and every finger either accepted or an exception)."""

    application_id: str
    slots: tuple[SlotOutcome, ...]
    dg3: tuple[int, ...]
    has_face: bool
    key_id: str

    @property
    def refused(self) -> tuple[SlotOutcome, ...]:
        return tuple(s for s in self.slots if s.status == "refused")

    @property
    def complete(self) -> bool:
        return self.has_face and not self.refused

    def to_json(self) -> dict[str, Any]:
        return {"application": self.application_id, "complete": self.complete,
                "has_face": self.has_face, "dg3": list(self.dg3), "key_id": self.key_id,
                "slots": [s.to_json() for s in self.slots]}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Captures:
    """An application's current captures, decrypted, for the LDS (DG2, DG3)."""

    face: FaceCapture | None
    fingers: tuple[FingerCapture, ...] = ()
    exceptions: tuple[FingerException, ...] = ()
    dg3: tuple[FingerCapture, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What :func:`purge` deleted: per application, the number of captures."""

    purged: dict[str, int]
    retention: timedelta

    @property
    def captures(self) -> int:
        return sum(self.purged.values())

    def to_json(self) -> dict[str, Any]:
        return {"retention_days": self.retention.days, "captures": self.captures,
                "applications": dict(sorted(self.purged.items()))}  # fmt: skip


def _aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise DomainError("now", "the point's clock must give an aware time (UTC)")


def _application(session: Any, app_id: str, *, for_update: bool = False) -> ApplicationRow:
    query = select(ApplicationRow).where(ApplicationRow.id == app_id)
    row = session.scalar(query.with_for_update() if for_update else query)
    if row is None:
        raise NotFound("application", f"no application {app_id!r} at this point")
    assert isinstance(row, ApplicationRow)
    return row


def _capturable(row: ApplicationRow) -> None:
    if ApplicationStatus(row.status) not in CAPTURE_STATUSES:
        raise WrongState("application", f"{row.id} is {row.status}: biometrics are captured "
                         "for an accepted or returned application")  # fmt: skip


def _try(attempts: int, shot: Any) -> tuple[Any, int, CaptureRefused | None]:
    last: CaptureRefused | None = None
    for attempt in range(1, max(attempts, 1) + 1):
        try:
            return shot(), attempt, None
        except CaptureRefused as refused:
            last = refused
    return None, max(attempts, 1), last


def capture(
    db: Database,
    app_id: str,
    device: CaptureDevice,
    *,
    key: BiometricKey,
    operator: str,
    point: PointConfig,
    now: datetime,
    face: bool = True,
    fingers: Iterable[int] = (),
    exceptions: Mapping[int, str] | None = None,
    face_rules: FaceRules = FACE_RULES,
    finger_rules: FingerRules = FINGER_RULES,
    face_attempts: int = 3,
) -> CaptureReport:
    """Capture the face (``face``) and the fingers ``fingers`` of application ``app_id`` from
    ``device``: each up to its attempts (``face_attempts``, ``finger_rules.attempts``) until its
    gate accepts it (threshold ``finger_rules.min_score``). ``exceptions`` maps a finger
    position to why it cannot be captured (missing, injured). Accepted captures and exceptions
    replace the slot's earlier one; a refused slot keeps its earlier capture, if any. Refused:
    an unknown operator, bad positions, a position both captured and excepted, an application
    not accepted or returned."""
    _aware(now)
    point.role(operator)
    wanted = [check_position(p) for p in fingers]
    excepted = {check_position(p): r for p, r in (exceptions or {}).items()}
    both = sorted(set(wanted) & set(excepted))
    if both:
        raise DomainError("fingers", f"finger {both[0]} is both captured and an exception")
    if not (face or wanted or excepted):
        raise DomainError("capture", "nothing to capture: the face, a finger or an exception")
    if len(set(wanted)) != len(wanted):
        raise DomainError("fingers", "a finger position is given twice")
    records = [FingerException(p, r) for p, r in sorted(excepted.items())]  # reasons checked
    with db.session() as session:
        _capturable(_application(session, app_id))
    # the device is read outside any transaction (a person stands at a camera or scanner)
    slots: list[SlotOutcome] = []
    accepted: list[tuple[int, bytes, dict[str, Any]]] = []
    if face:
        got, tries, refused = _try(face_attempts,
                                   lambda: check_face(device.capture_face(), face_rules))
        if refused is None:
            assert isinstance(got, FaceCapture)
            measures = {k: v for k, v in asdict(got).items() if k != "image"}
            accepted.append((FACE, got.image, measures))
            slots.append(SlotOutcome(FACE, "accepted", tries))
        else:
            slots.append(SlotOutcome(FACE, "refused", tries, problems=refused.problems))
    for position in wanted:
        got, tries, refused = _try(finger_rules.attempts, lambda p=position: check_finger(
            device.capture_finger(p), p, finger_rules))  # fmt: skip
        if refused is None:
            assert isinstance(got, FingerCapture)
            accepted.append((position, got.image, {"score": got.score}))
            slots.append(SlotOutcome(position, "accepted", tries, score=got.score))
        else:
            slots.append(SlotOutcome(position, "refused", tries, problems=refused.problems))
    slots += [SlotOutcome(e.position, "exception", reason=e.reason) for e in records]
    sealed = [(p, key.seal(image, capture_aad(app_id, p)), m) for p, image, m in accepted]
    with db.session() as session:
        _capturable(_application(session, app_id, for_update=True))
        replaced = [p for p, _, _ in sealed] + [e.position for e in records]
        if replaced:
            session.execute(delete(BiometricCapture).where(
                BiometricCapture.application_id == app_id,
                BiometricCapture.position.in_(replaced)))  # fmt: skip
            session.flush()
        for position, data, measures in sealed:
            session.add(BiometricCapture(
                application_id=app_id, position=position, status="accepted",
                quality=json.dumps(measures, sort_keys=True), operator=operator, at=now,
                key_id=key.key_id, sealed=data))  # fmt: skip
        for e in records:
            session.add(BiometricCapture(application_id=app_id, position=e.position,
                                         status="exception", reason=e.reason,
                                         operator=operator, at=now))  # fmt: skip
        session.add(PointEvent(application_id=app_id, at=now, operator=operator,
                               what="captured", detail=_detail(slots)))  # fmt: skip
        session.flush()
        rows = session.scalars(select(BiometricCapture).where(
            BiometricCapture.application_id == app_id)).all()  # fmt: skip
        has_face = any(r.position == FACE and r.status == "accepted" for r in rows)
        chosen = choose_for_dg3(
            FingerCapture(r.position, b"", json.loads(r.quality or "{}").get("score", 0))
            for r in rows if r.position != FACE and r.status == "accepted"
        )  # fmt: skip
        return CaptureReport(app_id, tuple(slots), tuple(c.position for c in chosen),
                             has_face, key.key_id)  # fmt: skip


def _detail(slots: Iterable[SlotOutcome]) -> str:
    """The audit line: slots and outcomes, scores and reason codes; never an image."""
    parts = []
    for s in slots:
        name = "face" if s.position == FACE else f"finger {s.position}"
        if s.status == "accepted":
            parts.append(f"{name} accepted" + (f" ({s.score})" if s.score is not None else ""))
        elif s.status == "refused":
            parts.append(f"{name} refused ({', '.join(r for r, _ in s.problems)})")
        else:
            parts.append(f"{name} exception ({s.reason})")
    return "; ".join(parts)


def accepted_captures(db: Database, app_id: str, key: BiometricKey) -> Captures:
    """The current captures of ``app_id`` decrypted with ``key`` (the pipeline's DG2/DG3);
    :class:`~station.point.biometrics.BiometricsError` when one does not decrypt."""
    with db.session() as session:
        _application(session, app_id)
        rows = session.scalars(select(BiometricCapture).where(
            BiometricCapture.application_id == app_id).order_by(BiometricCapture.position)).all()
    face: FaceCapture | None = None
    fingers: list[FingerCapture] = []
    excepted: list[FingerException] = []
    for r in rows:
        if r.status == "exception":
            excepted.append(FingerException(r.position, r.reason or ""))
            continue
        assert r.sealed is not None
        image = key.open(r.sealed, capture_aad(app_id, r.position))
        measures = json.loads(r.quality or "{}")
        if r.position == FACE:
            face = FaceCapture(image=image, **measures)
        else:
            fingers.append(FingerCapture(r.position, image, int(measures["score"])))
    return Captures(face, tuple(fingers), tuple(excepted), choose_for_dg3(fingers))


def refuse(
    db: Database, app_id: str, reason: RefusalReason, *, operator: str, point: PointConfig,
    now: datetime,
) -> Refusal:  # fmt: skip
    """The applicant refuses to give fingerprints, or insists on glasses or headwear (scheme,
    line 216): the workflow's refusal record (:func:`station.point.service.refuse`) and the
    application's captures deleted at once (they serve no purpose any more)."""
    refusal = service.refuse(db, reason=reason, operator=operator, now=now, point=point,
                             app_id=app_id)  # fmt: skip
    with db.session() as session:
        gone = _delete_captures(session, app_id)
        if gone:
            session.add(PointEvent(application_id=app_id, at=now, operator=operator,
                                   what="biometrics-purged", detail=f"{gone} on refusal"))
    return refusal


def _delete_captures(session: Any, app_id: str) -> int:
    """Delete every capture of ``app_id``: how many there were."""
    where = BiometricCapture.application_id == app_id
    count = int(session.scalar(select(func.count()).select_from(BiometricCapture).where(where)))
    session.execute(delete(BiometricCapture).where(where))
    return count


def purge(db: Database, *, now: datetime, retention: timedelta,
          operator: str = "system") -> PurgeReport:  # fmt: skip
    """Delete the captures of every application that ended (handed over, refused, cancelled)
    at least ``retention`` before ``now``; each purge is in the application's audit trail."""
    _aware(now)
    if retention < timedelta(0):
        raise DomainError("retention", "the retention cannot be negative")
    ended = [s.value for s in ENDED_STATUSES]
    purged: dict[str, int] = {}
    with db.session() as session:
        ending = (select(PointEvent.application_id, func.max(PointEvent.at).label("at"))
                  .where(PointEvent.what.in_(_ENDING_EVENTS))
                  .group_by(PointEvent.application_id).subquery())  # fmt: skip
        candidates = session.execute(
            select(ApplicationRow.id, ending.c.at)
            .join(ending, ending.c.application_id == ApplicationRow.id, isouter=True)
            .where(ApplicationRow.status.in_(ended),
                   ApplicationRow.id.in_(select(BiometricCapture.application_id)))
        ).all()  # fmt: skip
        for app_id, ended_at in candidates:
            if ended_at is not None and ended_at + retention > now:
                continue
            count = _delete_captures(session, app_id)
            purged[app_id] = count
            session.add(PointEvent(application_id=app_id, at=now, operator=operator,
                                   what="biometrics-purged",
                                   detail=f"{count} after {retention.days} days"))  # fmt: skip
    return PurgeReport(purged, retention)
