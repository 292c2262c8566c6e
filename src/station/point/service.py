"""The collection point's use cases (scheme, stages 2, 4, 5 and 6), one transaction each.

Every function takes its dependencies as keyword arguments: ``db`` (the point's database),
``center`` (the point's client of the Center's ``/v1`` API, in process or over HTTP), ``now``
(an aware UTC time), ``point`` (:class:`~station.point.config.PointConfig`). A refused input
raises before anything is written; a failure half-way rolls the whole transaction back. Nothing
here formats output or knows about HTTP or the command line.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import uuid
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import select

from station.auditlog import Actor
from station.auditlog import append as audit
from station.center.models import CardInfo, CenterAnswer, CenterRequest
from station.db import ConstraintError, Database
from station.db.point_tables import Application as ApplicationRow
from station.db.point_tables import Handover as HandoverRow
from station.db.point_tables import PointEvent
from station.db.point_tables import Refusal as RefusalRow
from station.domain.application import (
    Applicant,
    ApplicantRole,
    ApplicationForm,
    application_facts,
    application_problems,
)
from station.domain.calendar import WorkCalendar, local_day
from station.domain.cards import CardStatus
from station.domain.documents import DocumentKind, missing_documents
from station.domain.errors import DomainError, MissingDocuments, TransitionError
from station.domain.grounds import Ground, Scheme
from station.domain.person import CITIZEN, Person
from station.domain.refusals import RefusalReason
from station.point.config import OperatorRole, PointConfig
from station.point.errors import (
    ApprovalRefused,
    DuplicateApplication,
    HandoverRefused,
    NotFound,
    WrongState,
)
from station.point.models import Application, ApplicationStatus, Handover, Refusal
from station.point.notice import RefusalNotice, render_refusal_notice
from station.rules import age_on

__all__ = [
    "CenterAPI",
    "apply",
    "form_problems",
    "handover",
    "mark",
    "overdue",
    "refuse",
    "replace",
    "status",
    "submit",
]


class CenterAPI(Protocol):
    """What the point asks of the Center (:class:`station.client.CenterClient` has it)."""

    def send_request(self, request: CenterRequest) -> CenterAnswer: ...

    def card_info(self, card: str) -> CardInfo: ...

    def record_card_status(
        self, card: str, status: CardStatus, *, operator: str, reason: str | None = None
    ) -> CardInfo: ...

    def person_by_pinfl(self, pinfl: str) -> Person: ...


_APP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,35}")


@functools.cache
def _calendar() -> WorkCalendar:
    """Uzbekistan's working-day calendar (built once: the holidays of its years)."""
    return WorkCalendar()


# -- stage 2: the application --------------------------------------------------------------


def form_problems(
    form: ApplicationForm, *, point: PointConfig, today: date
) -> list[tuple[str, str]]:
    """Every problem of ``form`` at ``point`` (the domain's rules and the PINFL's agreement with
    the person): an empty list is an application the point may accept."""
    problems = list(application_problems(form, point_kind=point.kind, today=today))
    if form.person.pinfl is not None:
        # scheme, stage 3, line 127: the PINFL's "mavjudligi va to‘g‘riligini tekshiradi"; the
        # point checks what it can (digits, check digit, century/sex and birth date) at once.
        problems += form.person.pinfl_problems(form.person.pinfl)
    return problems


def apply(
    db: Database,
    form: ApplicationForm,
    *,
    point: PointConfig,
    operator: str,
    now: datetime,
    calendar: WorkCalendar | None = None,
    app_id: str | None = None,
) -> Application:
    """Accept an application with all its documents (scheme, stage 2).

    Refused, with nothing written: an operator the point does not know, any problem of
    :func:`form_problems` (:class:`MissingDocuments` names each missing document), a second open
    application of the same person on the same ground (:class:`DuplicateApplication`: the
    database's partial unique index decides, so two operators at once cannot both succeed).
    The due date counts from acceptance (stage 4, line 162: "bir ish kuni mobaynida") or, on
    a restoration ground, from the application (stage 6, lines 207-208: "besh ish kuni ichida").
    """
    return _accept(db, form, point=point, operator=operator, now=now, calendar=calendar,
                   app_id=app_id)


def _accept(
    db: Database,
    form: ApplicationForm,
    *,
    point: PointConfig,
    operator: str,
    now: datetime,
    calendar: WorkCalendar | None = None,
    waiver: tuple[str, str] | None = None,
    app_id: str | None = None,
) -> Application:
    """:func:`apply`; ``waiver`` = (approving supervisor, reason) of a free replacement."""
    _aware(now)
    point.role(operator)
    today = local_day(now)  # the day in Tashkent: 20:00 UTC is the next day there
    problems = form_problems(form, point=point, today=today)
    if problems:
        documents = [p for p in problems if p[0] == "documents"]
        if documents:  # as check_application: the missing documents first, each named
            missing = missing_documents(application_facts(form, today=today), form.documents)
            raise MissingDocuments.from_problems(
                documents + [p for p in problems if p[0] != "documents"],
                missing=[k.value for k in missing],
            )
        raise DomainError.from_problems(problems)
    due = (calendar or _calendar()).due_date(form.ground, accepted_on=today)
    if app_id is None:
        app_id = str(uuid.uuid4())
    elif not _APP_ID.fullmatch(app_id):
        raise DomainError("id", f"{app_id[:40]!r} is not 1-36 letters, digits, '.', '_', ':' "
                          "or '-' (starting with a letter or digit)")  # fmt: skip
    key = form.person.pinfl or form.person.demographic_key()
    approved_by, waiver_reason = waiver if waiver else (None, None)
    try:
        with db.session() as session:
            row = ApplicationRow(
                id=app_id, point_code=point.code, operator=operator, scheme=form.scheme.value,
                ground=form.ground.value, form=_dumps(form.to_json()), person_key=key,
                status=ApplicationStatus.ACCEPTED.value, accepted_at=now, due_date=due,
                fee_waived=form.fee_waived, waiver_reason=waiver_reason,
                approved_by=approved_by, open=True,
            )  # fmt: skip
            session.add(row)
            session.flush()
            session.add(PointEvent(application_id=app_id, at=now, operator=operator,
                                   what="accepted", detail=f"due {due.isoformat()}"))  # fmt: skip
            if waiver:
                session.add(PointEvent(application_id=app_id, at=now, operator=operator,
                                       what="fee-waived",
                                       detail=f"approved by {approved_by}: {waiver_reason}"))
            _audit(session, point, operator, "application.accept", row, now)
            return _snapshot(row)
    except ConstraintError as exc:
        if exc.constraint != OPEN_APPLICATION_INDEX:
            raise
        other = _open_application(db, key, form.ground)
        raise DuplicateApplication(
            "ground",
            f"the person already has an open application on ground {form.ground.value}"
            + (f" ({other})" if other else ""),
        ) from None


def _open_application(db: Database, key: str, ground: Ground) -> str | None:
    with db.session() as session:
        return session.scalar(select(ApplicationRow.id).where(
            ApplicationRow.person_key == key, ApplicationRow.ground == ground.value,
            ApplicationRow.open.is_(True),
        ))  # fmt: skip


# -- refusals (scheme, line 216) -----------------------------------------------------------

OPEN_APPLICATION_INDEX = "uq_applications_open_person_key_ground"
"""The partial unique index on (person_key, ground) WHERE open (station.db.point_tables)."""

_REASON_TEXT: dict[RefusalReason, tuple[str, str]] = {
    RefusalReason.FINGERPRINTS: (
        "Fuqaro qo‘l barmoq izlari olinishidan bosh tortdi.",
        "The applicant refuses to give fingerprints.",
    ),
    RefusalReason.HEADWEAR: (
        "Fuqaro ko‘zoynakda yoki bosh kiyimda suratga tushish istagidan qaytmadi.",
        "The applicant insists on a photograph in glasses or headwear.",
    ),
}
def refuse(
    db: Database,
    *,
    reason: RefusalReason,
    operator: str,
    now: datetime,
    point: PointConfig,
    form: ApplicationForm | None = None,
    app_id: str | None = None,
) -> Refusal:
    """Refuse to issue the card (scheme, line 216: fingerprints refused, or a photograph in
    glasses or headwear insisted on): a refusal record with the reason and the operator, the
    application (if saved, still ``accepted``: no card was requested) closed as ``refused``, and
    a printable notice naming the reason and the clause (:attr:`Refusal.notice`)."""
    _aware(now)
    point.role(operator)
    if (form is None) == (app_id is None):
        raise DomainError("application", "give either the application form or the id")
    with db.session() as session:
        row = None
        if app_id is not None:
            row = _row(session, app_id, for_update=True)
            if row.status != ApplicationStatus.ACCEPTED.value:
                raise WrongState("application", f"{app_id} is {row.status}: only an accepted "
                                 "application (no card requested yet) is refused")  # fmt: skip
            form = ApplicationForm.from_json(json.loads(row.form))
            row.status, row.open = ApplicationStatus.REFUSED.value, False
        assert form is not None
        person = form.person.to_json()
        record = RefusalRow(application_id=app_id, reason=reason.value, operator=operator,
                            at=now, person=_dumps(person), notice_sha256="")  # fmt: skip
        session.add(record)
        session.flush()
        uz, en = _REASON_TEXT[reason]
        p = form.person
        notice = render_refusal_notice(RefusalNotice(
            refusal_id=f"{point.code}-R{record.id}", at=now, application_id=app_id,
            point=f"{point.code} ({point.name})", operator=operator,
            person=_full_name(p), birth_date=p.birth_date.isoformat(),
            ground=form.ground.value, reason_code=reason.value, reason_uz=uz, reason_en=en,
            clause=reason.clause,
        ))  # fmt: skip
        record.notice_sha256 = hashlib.sha256(notice).hexdigest()
        if app_id is not None:
            session.add(PointEvent(application_id=app_id, at=now, operator=operator,
                                   what="refused", detail=reason.value))  # fmt: skip
        audit(session, _actor(point, operator), "application.refuse",
              f"refusal/{point.code}-R{record.id}",
              state={"application": app_id, "reason": reason.value, "person": person,
                     "notice_sha256": record.notice_sha256}, now=now)  # fmt: skip
        return Refusal(id=record.id, application_id=app_id, reason=reason.value,
                       operator=operator, at=now, person=person,
                       notice_sha256=record.notice_sha256, notice=notice)  # fmt: skip


def _full_name(p: Person) -> str:
    latin = " ".join(n for n in (p.surname.latin, p.given_name.latin, p.patronymic.latin) if n)
    cyrillic = " ".join(
        n for n in (p.surname.cyrillic, p.given_name.cyrillic, p.patronymic.cyrillic) if n
    )
    return f"{latin} / {cyrillic}" if cyrillic else latin


# -- stage 2 → 3: the request to the Center --------------------------------------------------


def submit(db: Database, app_id: str, *, center: CenterAPI, now: datetime,
           by: Actor | None = None) -> Application:  # fmt: skip
    """Send the electronic request (stage 2, line 109) and store the Center's answer (stage 3,
    lines 127-135: the PINFL checked, or generated when absent, and the card number): the
    application becomes ``returned``. The request id is the application id, so a repeated
    submit after a lost answer gets the same PINFL and card from the Center. ``by``: who
    submits, for the audit log (default: the operator who accepted the application)."""
    _aware(now)
    with db.session() as session:
        row = _row(session, app_id, for_update=True)
        if row.status != ApplicationStatus.ACCEPTED.value:
            raise WrongState("application", f"{app_id} is {row.status}, not accepted")
        form = ApplicationForm.from_json(json.loads(row.form))
        answer = center.send_request(CenterRequest(
            id=row.id, point=row.point_code, operator=row.operator, scheme=form.scheme,
            ground=form.ground, person=form.person, previous_card=form.previous_card,
        ))  # fmt: skip
        row.pinfl, row.card = answer.pinfl, answer.card
        row.status = ApplicationStatus.RETURNED.value
        row.submitted_at = row.returned_at = now
        detail = f"pinfl {answer.pinfl}{' (generated)' if answer.pinfl_generated else ''}, " \
                 f"card {answer.card}"  # fmt: skip
        if answer.previous_card:
            detail += f"; {answer.previous_card} {answer.previous_card_status}"
        session.add(PointEvent(application_id=app_id, at=now, operator=row.operator,
                               what="returned", detail=detail))  # fmt: skip
        audit(session, by or Actor(row.operator, "operator", row.point_code),
              "application.submit", f"application/{app_id}", state=_state(row),
              now=now)  # fmt: skip
        return _snapshot(row)


# -- stage 4: personalization marks and the handover ----------------------------------------

_MARKS = {
    ApplicationStatus.PERSONALIZED: (ApplicationStatus.RETURNED, CardStatus.PERSONALIZED),
    ApplicationStatus.VERIFIED: (ApplicationStatus.PERSONALIZED, CardStatus.VERIFIED),
}


def mark(
    db: Database, app_id: str, new: ApplicationStatus, *, center: CenterAPI, operator: str,
    point: PointConfig, now: datetime,
) -> Application:  # fmt: skip
    """Record that the card was personalized, or read back and verified (stage 4, line 158:
    "personallashtiradi"), at the point and in the Center's registry. The pipeline that does
    the work is issue 11's; this records its outcome."""
    _aware(now)
    point.role(operator)
    if new not in _MARKS:
        raise DomainError("status", f"{new.value!r} is not one of: personalized, verified")
    before, card_status = _MARKS[new]
    with db.session() as session:
        row = _row(session, app_id, for_update=True)
        if row.status != before.value or row.card is None:
            raise WrongState("application", f"{app_id} is {row.status}: {new.value} follows "
                             f"{before.value}")  # fmt: skip
        _record_status(center, row.card, card_status, operator=operator)
        row.status = new.value
        session.add(PointEvent(application_id=app_id, at=now, operator=operator,
                               what=new.value, detail=row.card))  # fmt: skip
        _audit(session, point, operator, f"application.{new.value}", row, now)
        return _snapshot(row)


def handover(
    db: Database,
    app_id: str,
    *,
    receiver_role: ApplicantRole,
    receiver_name: str,
    receiver_document: str,
    operator: str,
    point: PointConfig,
    center: CenterAPI,
    now: datetime,
) -> Handover:
    """Hand the verified card over and record it here and at the Center (``handed-over``).

    Scheme, line 219: "16 yoshga to‘lmagan shaxslarning ID-kartalari ularga ID-karta berish
    bo‘yicha murojaat qilgan ota-onalari yoki vasiylariga (homiylariga) beriladi": under 16 only
    the parent or guardian who applied, showing the same document; from 16 the holder. On time
    when handed over by the due date (stage 4, line 162; stage 6, lines 207-208).
    """
    _aware(now)
    point.role(operator)
    if not receiver_name.strip() or not receiver_document.strip():
        raise DomainError("receiver", "the receiver's name and identity document are required")
    with db.session() as session:
        row = _row(session, app_id, for_update=True)
        if row.status != ApplicationStatus.VERIFIED.value or row.card is None:
            raise WrongState("application", f"{app_id} is {row.status}: only a verified card "
                             "is handed over")  # fmt: skip
        form = ApplicationForm.from_json(json.loads(row.form))
        today = local_day(now)
        _check_receiver(form, receiver_role, receiver_document, today)
        _record_status(center, row.card, CardStatus.HANDED_OVER, operator=operator)
        on_time = today <= row.due_date
        session.add(HandoverRow(
            application_id=app_id, card=row.card, receiver_role=receiver_role.value,
            receiver_name=receiver_name, receiver_document=receiver_document,
            operator=operator, at=now, on_time=on_time,
        ))  # fmt: skip
        row.status, row.open = ApplicationStatus.HANDED_OVER.value, False
        session.add(PointEvent(application_id=app_id, at=now, operator=operator,
                               what="handed-over",
                               detail=f"{row.card} to {receiver_role.value}"
                                      f"{'' if on_time else ' (late)'}"))  # fmt: skip
        _audit(session, point, operator, "application.handover", row, now)
        return Handover(application_id=app_id, card=row.card,
                        receiver_role=receiver_role.value, receiver_name=receiver_name,
                        receiver_document=receiver_document, operator=operator, at=now,
                        due_date=row.due_date, on_time=on_time)  # fmt: skip


def _record_status(center: CenterAPI, card: str, new: CardStatus, *, operator: str) -> None:
    """Record ``new`` at the Center; a card already there (an earlier attempt reached the Center
    but the point's transaction did not commit) is that attempt's result, not a conflict, so a
    repeated command completes the step instead of failing forever."""
    try:
        center.record_card_status(card, new, operator=operator)
    except TransitionError:
        if center.card_info(card).status is not new:
            raise


def _check_receiver(form: ApplicationForm, role: ApplicantRole, document: str,
                    today: date) -> None:  # fmt: skip
    age = age_on(form.person.birth_date, today)
    if age < 16:
        applied = form.applicant
        if role is ApplicantRole.HOLDER:
            raise HandoverRefused("receiver_role", f"the holder is {age}: a card of a person "
                                  "under 16 goes to the parent or guardian who applied")
        if role is not applied.role or _norm(document) != _norm(applied.document):
            raise HandoverRefused("receiver_document", f"{role.value} with document {document} "
                                  f"did not apply; {applied.role.value} {applied.name} "
                                  "applied")  # fmt: skip
    elif role is not ApplicantRole.HOLDER:
        raise HandoverRefused("receiver_role", f"the holder is {age}: the card goes to the "
                              "holder")  # fmt: skip


def _norm(document: str) -> str:
    return "".join(document.split()).upper()


# -- stages 5-6: restoration and replacement -------------------------------------------------


def replace(
    db: Database,
    *,
    previous_card: str,
    ground: Ground,
    documents: frozenset[DocumentKind],
    applicant_document: str | None = None,
    point: PointConfig,
    operator: str,
    center: CenterAPI,
    now: datetime,
    fee_paid_electronically: bool = False,
    payment_reference: str | None = None,
    point_fault: bool = False,
    approved_by: str | None = None,
    waiver_reason: str | None = None,
    app_id: str | None = None,
) -> Application:
    """A new application to restore or replace the holder's card ``previous_card`` (stage 5,
    lines 178-184), with the person as the Center's registry knows them. After
    :func:`submit` the Center marks the previous card (lost, seized or replaced) and queues the
    revocation of its e-signature certificate, in the same transaction as the new card.

    ``point_fault``: a technical defect the point caused is replaced free of charge (scheme, line
    217: "basharti ular ma’lumotlarni yig‘ish punkti tomonidan yo‘l qo‘yilgan bo‘lsa, ID-karta
    bepul almashtiriladi"): only on ground ``data-error``, approved by a supervisor of the point
    who is not the operator, with the reason recorded; the fee (and its receipt) is waived.
    """
    point.role(operator)
    if point_fault:
        if ground is not Ground.DATA_ERROR:
            raise ApprovalRefused("ground", "a free replacement is for a technical defect the "
                                  "point caused: ground data-error")  # fmt: skip
        if approved_by is None:
            raise ApprovalRefused("approved_by", "a free replacement needs a supervisor's "
                                  "approval")  # fmt: skip
        if point.role(approved_by, field="approved_by") is not OperatorRole.SUPERVISOR:
            raise ApprovalRefused("approved_by", f"{approved_by} is not a supervisor")
        if approved_by == operator:
            raise ApprovalRefused("approved_by", "the supervisor approving must not be the "
                                  "operator")  # fmt: skip
        if not (waiver_reason or "").strip():
            raise ApprovalRefused("waiver_reason", "the reason for the free replacement is "
                                  "required")  # fmt: skip
    elif approved_by is not None or waiver_reason is not None:
        raise DomainError("approved_by", "an approval and a waiver reason are only for a free "
                          "replacement (point fault)")  # fmt: skip
    info = center.card_info(previous_card)
    if info.status is not CardStatus.HANDED_OVER:
        raise WrongState("previous_card", f"{previous_card} is {info.status.value}: only a "
                         "card in use is restored or replaced")  # fmt: skip
    person = center.person_by_pinfl(info.pinfl)
    # stage 5, line 178: the holder ("ID-karta egasi") applies, showing an identity document
    applicant = Applicant(role=ApplicantRole.HOLDER, name=_full_name(person).split(" / ")[0],
                          document=applicant_document or previous_card,
                          pinfl=person.pinfl)  # fmt: skip
    # the residents' scheme has the same stages 5-6 (lines 369-396)
    scheme = Scheme.CITIZEN if person.citizenship == CITIZEN else Scheme.RESIDENT
    form = ApplicationForm(
        scheme=scheme, ground=ground, person=person, applicant=applicant, documents=documents,
        first_issue=False, fee_paid_electronically=fee_paid_electronically,
        payment_reference=payment_reference, fee_waived=point_fault,
        previous_card=previous_card,
    )  # fmt: skip
    waiver = (approved_by, waiver_reason or "") if point_fault and approved_by else None
    return _accept(db, form, point=point, operator=operator, now=now, waiver=waiver,
                   app_id=app_id)


# -- queries ---------------------------------------------------------------------------------


def status(db: Database, app_id: str) -> Application:
    """The application ``app_id`` as stored."""
    with db.session() as session:
        return _snapshot(_row(session, app_id))


def overdue(db: Database, *, today: date) -> list[Application]:
    """Open applications whose due date has passed without a handover, oldest due first
    (stage 4, line 162; stage 6, lines 207-208)."""
    with db.session() as session:
        rows = session.scalars(select(ApplicationRow).where(
            ApplicationRow.open.is_(True), ApplicationRow.due_date < today,
        ).order_by(ApplicationRow.due_date, ApplicationRow.accepted_at))  # fmt: skip
        return [_snapshot(r) for r in rows]


# -- helpers ---------------------------------------------------------------------------------


def _row(session: Any, app_id: str, *, for_update: bool = False) -> ApplicationRow:
    query = select(ApplicationRow).where(ApplicationRow.id == app_id)
    if for_update:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFound("application", f"no application {app_id!r} at this point")
    assert isinstance(row, ApplicationRow)
    return row


def _state(row: ApplicationRow) -> dict[str, Any]:
    """An application's stored state (every column), as its audit entry hashes it."""
    return {column.name: getattr(row, column.key) for column in ApplicationRow.__table__.columns}


def _actor(point: PointConfig, operator: str) -> Actor:
    return Actor(login=operator, role=point.role(operator).value, point=point.code)


def _audit(session: Any, point: PointConfig, operator: str, action: str, row: ApplicationRow,
           now: datetime) -> None:  # fmt: skip
    """The use case's entry in the point's audit log, in its transaction."""
    audit(session, _actor(point, operator), action, f"application/{row.id}", state=_state(row),
          now=now)  # fmt: skip


def _snapshot(row: ApplicationRow) -> Application:
    return Application(
        id=row.id, point_code=row.point_code, operator=row.operator,
        form=ApplicationForm.from_json(json.loads(row.form)),
        status=ApplicationStatus(row.status), accepted_at=row.accepted_at,
        due_date=row.due_date, person_key=row.person_key, pinfl=row.pinfl, card=row.card,
        submitted_at=row.submitted_at, returned_at=row.returned_at, fee_waived=row.fee_waived,
        waiver_reason=row.waiver_reason, approved_by=row.approved_by,
    )  # fmt: skip


def _aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise DomainError("now", "the point's clock must give an aware time (UTC)")


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)
