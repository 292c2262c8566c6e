"""The Center's use cases: one function, one transaction each, dependencies as keywords.

The State Personalization Center (scheme, stage 3) checks or generates the PINFL of each
request of a data-collection point and keeps the central registry of ID cards (decree of
19 January 2026, §6б: series, number, place of issue, date of issue and of expiry). No HTTP
here: :mod:`station.api` is the front that calls these.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pki.esign import EsignCA
from station.auditlog import Actor
from station.auditlog import append as audit
from station.center.errors import CardNumbersExhausted, Conflict, NotFound, RequestConflict
from station.center.models import (
    CardEvent,
    CardInfo,
    CenterAnswer,
    CenterRequest,
    CenterStatus,
    PointInfo,
    RevocationInfo,
)
from station.center.persons import person_of_row, resolve_person
from station.db import ConstraintError, Database
from station.db.center_tables import Card, CardSeries, Operator, Point, Request, Revocation
from station.db.center_tables import CardEvent as CardEventRow
from station.db.center_tables import Person as PersonRow
from station.domain.application import PointKind
from station.domain.calendar import local_day
from station.domain.cards import (
    MAX_NUMBER,
    CardStatus,
    check_transition,
    format_card_number,
    parse_card_number,
    previous_card_status,
)
from station.domain.errors import DomainError, TransitionError
from station.domain.grounds import Scheme, rule
from station.domain.person import CITIZEN, Person
from station.errors import StationError
from station.rules import expiry_date

__all__ = [
    "add_operator",
    "apply_revocations",
    "card_info",
    "center_status",
    "esign_revoker",
    "list_revocations",
    "open_series",
    "person_by_pinfl",
    "receive_request",
    "record_card_status",
    "record_esign",
    "register_point",
]

_SERIES = re.compile(r"[A-Z]{2}")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,15}")
_PLACE = re.compile(r"[0-9]{3}")
_ATTEMPTS = 3
# The e-signature certificate of a card that leaves its holder's hands is revoked
# (RFC 5280 §5.3.1 reasons; pki.esign.RevocationCause: lost → keyCompromise, replaced →
# superseded).
REVOCATION_REASONS: dict[CardStatus, str] = {
    CardStatus.LOST: "key_compromise",
    CardStatus.STOLEN: "key_compromise",
    CardStatus.SEIZED: "key_compromise",
    CardStatus.REPLACED: "superseded",
    CardStatus.CANCELLED: "cessation_of_operation",
}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise StationError("the Center's clock must give an aware datetime (UTC)")
    return now


# -- points, operators, series --------------------------------------------------------------------


def register_point(
    db: Database, *, code: str, name: str, kind: PointKind, place_code: str, now: datetime
) -> PointInfo:
    """Register a data-collection point (scheme, stage 2, line 97: internal affairs' migration
    and citizenship units, public service centres); ``place_code`` goes into PINFL digits 8-10.

    Registering the same point again with the same data is a no-op (a point's set-up may be
    re-run); the same code with other data is a :class:`Conflict`."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise DomainError("code", "a point's code is 1-16 letters, digits, '-' or '_'")
    if not isinstance(place_code, str) or not _PLACE.fullmatch(place_code):
        raise DomainError("place_code", "the place code is 3 digits (PINFL digits 8-10)")
    if not name or not name.strip():
        raise DomainError("name", "must not be empty")
    info = PointInfo(code=code, name=name, kind=PointKind(kind), place_code=place_code)
    for attempt in range(_ATTEMPTS):
        try:
            with db.session() as s:
                row = s.get(Point, code)
                if row is None:
                    s.add(Point(code=code, name=name, kind=info.kind.value, place_code=place_code,
                                created_at=_aware(now)))  # fmt: skip
                    audit(s, Actor.system(), "point.register", f"point/{code}",
                          state=info.to_json(), now=now)  # fmt: skip
                    return info
                known = PointInfo(row.code, row.name, PointKind(row.kind), row.place_code)
                if known != info:
                    raise Conflict("code", f"point {code} is registered with other data")
                return info
        except ConstraintError:  # registered at the same moment by another call: look again
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def add_operator(db: Database, *, point: str, login: str, name: str, role: str) -> None:
    """An operator or supervisor of ``point`` (the login is unique within the point)."""
    if role not in ("operator", "supervisor"):
        raise DomainError("role", "must be 'operator' or 'supervisor'")
    if not login or not login.strip() or len(login) > 64:
        raise DomainError("login", "must be 1-64 characters")
    with db.session() as s:
        if s.get(Point, point) is None:
            raise NotFound("point", f"no point {point!r} is registered")
        found = s.scalar(
            select(Operator.id).where(Operator.point_code == point, Operator.login == login)
        )
        if found is not None:
            raise Conflict("login", f"{login!r} is already an operator of {point}")
        s.add(Operator(point_code=point, login=login, name=name, role=role))
        audit(s, Actor.system(), "operator.add", f"operator/{point}/{login}",
              state={"point": point, "login": login, "name": name, "role": role},
              now=_utcnow())  # fmt: skip


def open_series(db: Database, series: str) -> None:
    """Make ``series`` (2 letters) the active card series; numbers continue where it stopped."""
    if not isinstance(series, str) or not _SERIES.fullmatch(series):
        raise DomainError("series", "a card series is 2 letters A-Z")
    with db.session() as s:
        s.execute(update(CardSeries).where(CardSeries.active.is_(True)).values(active=False))
        s.flush()
        row = s.get(CardSeries, series)
        if row is None:
            s.add(CardSeries(series=series, next_number=1, active=True))
        else:
            row.active = True
        audit(s, Actor.system(), "series.open", f"series/{series}", state={"active": series},
              now=_utcnow())  # fmt: skip


# -- the request of a point (stage 2 → 3) -------------------------------------------------------


def _card_row(s: Session, card: str, *, field: str = "card", lock: bool = False) -> Card:
    series, number = parse_card_number(card, field=field)
    stmt = select(Card).where(Card.series == series, Card.number == number)
    row = s.scalars(stmt.with_for_update() if lock else stmt).one_or_none()
    if row is None:
        raise NotFound(field, f"card {card} is not in the registry")
    return row


def _allocate_number(s: Session) -> tuple[str, int]:
    """Series and number of the next card: ``UPDATE … RETURNING`` on the active series row, in
    the request's transaction (a rolled-back request returns its number: no gaps)."""
    row = s.execute(
        update(CardSeries)
        .where(CardSeries.active.is_(True))
        .values(next_number=CardSeries.next_number + 1)
        .returning(CardSeries.series, CardSeries.next_number)
    ).one_or_none()
    if row is None:
        raise CardNumbersExhausted("card", "no card series is open at the Center")
    series, after = row
    if after - 1 > MAX_NUMBER:
        raise CardNumbersExhausted("card", f"series {series} has no number left; open another")
    return series, after - 1


def _set_status(
    s: Session, card: Card, new: CardStatus, *, by: str, reason: str | None, now: datetime
) -> None:
    """Record a transition allowed by ``station.domain.cards.TRANSITIONS``; a card leaving its
    holder queues the revocation of its e-signature certificate (same transaction)."""
    check_transition(CardStatus(card.status), new)
    card.status = new.value
    s.add(CardEventRow(card_id=card.id, status=new.value, at=now, by=by, reason=reason))
    cause = REVOCATION_REASONS.get(new)
    if cause is not None and card.esign_serial is not None:
        queued = s.scalar(select(Revocation.id).where(Revocation.card_id == card.id))
        if queued is None:
            s.add(Revocation(card_id=card.id, esign_serial=card.esign_serial, reason=cause,
                             created_at=now))  # fmt: skip


def _same_request(s: Session, row: Request, request: CenterRequest, answer: CenterAnswer) -> bool:
    """Whether a request with a known id is that request again (a retry), not another one."""
    person = s.get(PersonRow, row.person_id)
    assert person is not None
    same_person = (
        request.person.pinfl == person.pinfl
        if request.person.pinfl is not None
        else request.person.demographic_key() == person.demographic_key
    )
    return same_person and (row.point_code, row.scheme, row.ground, answer.previous_card) == (
        request.point, request.scheme.value, request.ground.value, request.previous_card
    )


def _request_problems(request: CenterRequest, point: Point) -> list[tuple[str, str]]:
    """What the Center refuses in a request whatever the registry holds (the point checked the
    application fully; the Center does not trust a caller with the scheme's basic rules)."""
    problems: list[tuple[str, str]] = []
    # scheme, line 292 (residents' stage 2): "Ma’lumotlarni yig‘ish punkti (ichki ishlar
    # organlarining migratsiya va fuqarolikni rasmiylashtirish bo‘linmalari)" — only those
    if request.scheme is Scheme.RESIDENT and point.kind != PointKind.INTERNAL_AFFAIRS.value:
        problems.append(("point", f"{point.code} is a {point.kind}: residents apply only at a "
                         "migration and citizenship unit of internal affairs (scheme, line 292)"))
    # scheme, lines 14-23 (citizens' grounds), 251-259 (residents'), 178-184 (both: stage 5)
    if request.scheme not in rule(request.ground).schemes:
        problems.append(("ground", f"{request.ground.value} is not a ground of the "
                         f"{request.scheme.value} scheme"))
    # line 5: a citizen's card; line 229: foreign citizens and stateless persons (residents)
    if (request.person.citizenship == CITIZEN) != (request.scheme is Scheme.CITIZEN):
        problems.append(("person.citizenship", f"{request.person.citizenship} does not belong "
                         f"in the {request.scheme.value} scheme"))
    return problems


def _receive(s: Session, request: CenterRequest, now: datetime) -> CenterAnswer:
    known = s.get(Request, request.id)
    if known is not None:
        answer = CenterAnswer.from_json(json.loads(known.answer))
        if not _same_request(s, known, request, answer):
            raise RequestConflict("id", f"request {request.id} was used for another request")
        return answer
    point = s.get(Point, request.point)
    if point is None:
        raise NotFound("point", f"no point {request.point!r} is registered at the Center")
    issue_date = local_day(now)  # the day of issue is the day in Tashkent
    person = request.person
    problems = _request_problems(request, point)
    if person.birth_date > issue_date:
        problems.append((
            "person.birth_date",
            f"{person.birth_date.isoformat()} is after the day of issue {issue_date.isoformat()}",
        ))
    if problems:
        raise DomainError.from_problems(problems)
    row, generated = resolve_person(
        s, person, ground=request.ground, point=point.code, place_code=point.place_code, now=now
    )
    s.add(Request(id=request.id, point_code=point.code, person_id=row.id,
                  scheme=request.scheme.value, ground=request.ground.value,
                  operator=request.operator, received_at=now, answer="{}"))  # fmt: skip
    s.flush()  # a concurrent request with the same id fails here, before a number is taken
    previous: Card | None = None
    previous_status: CardStatus | None = None
    if request.previous_card is not None:
        # scheme, lines 178-184 (stage 5): restoration or replacement of the card the holder had
        previous = _card_row(s, request.previous_card, field="previous_card", lock=True)
        if previous.person_id != row.id:
            raise Conflict("previous_card", f"card {request.previous_card} is another person's")
        previous_status = previous_card_status(request.ground)
        why = f"{request.ground.value}: request {request.id}"
        try:
            _set_status(s, previous, previous_status, by=request.operator, reason=why, now=now)
        except TransitionError as exc:
            raise TransitionError(
                "previous_card", f"card {request.previous_card}: {exc.reason}"
            ) from None
    series, number = _allocate_number(s)
    card = Card(
        series=series,
        number=number,
        person_id=row.id,
        request_id=request.id,
        point_code=point.code,
        issue_date=issue_date,
        expiry_date=expiry_date(person.birth_date, issue_date),
        status=CardStatus.ALLOCATED.value,
        previous_card_id=None if previous is None else previous.id,
    )
    s.add(card)
    s.flush()
    s.add(CardEventRow(card_id=card.id, status=CardStatus.ALLOCATED.value, at=now,
                       by=request.operator, reason=f"request {request.id}"))  # fmt: skip
    answer = CenterAnswer(
        request_id=request.id,
        pinfl=row.pinfl,
        pinfl_generated=generated,
        card=format_card_number(series, number),
        issue_date=card.issue_date,
        expiry_date=card.expiry_date,
        previous_card=request.previous_card,
        previous_card_status=previous_status,
    )
    s.execute(
        update(Request).where(Request.id == request.id).values(answer=json.dumps(answer.to_json()))
    )
    audit(s, _point_actor(request.operator, point.code), "request.receive",
          f"request/{request.id}", state=answer.to_json(), now=now)  # fmt: skip
    return answer


def _point_actor(operator: str, point: str) -> Actor:
    """A point's operator as the Center's audit log records them: the Center knows the login
    and the point that sent it, not the role at the point (role "point")."""
    return Actor(login=operator[:64], role="point", point=point)


def receive_request(db: Database, request: CenterRequest, *, now: datetime) -> CenterAnswer:
    """Answer a point's request (scheme, stage 3, lines 127-135): the PINFL checked or
    generated, a card number allocated (issue date: ``now`` in Tashkent; expiry by age,
    ``station.rules.expiry_date``) and, with a previous card, that card's new status and the
    revocation of its e-signature certificate queued — all in one transaction.

    Idempotent on ``request.id``: the same request again gets the stored answer, no second
    card. Two requests racing on the same person or id: the database's unique constraints
    refuse the later write; the transaction is run again and finds the first one's rows.
    """
    now = _aware(now)
    for attempt in range(_ATTEMPTS):
        try:
            with db.session() as s:
                return _receive(s, request, now)
        except ConstraintError as exc:
            if exc.kind != "unique" or attempt == _ATTEMPTS - 1:
                raise Conflict(
                    "person", f"the request conflicts with the registry ({exc.constraint})"
                ) from exc
    raise AssertionError("unreachable")  # pragma: no cover


# -- the registry -------------------------------------------------------------------------------


def _info(s: Session, card: Card) -> CardInfo:
    pinfl = s.scalars(select(PersonRow.pinfl).where(PersonRow.id == card.person_id)).one()
    previous = None
    if card.previous_card_id is not None:
        prev = s.get(Card, card.previous_card_id)
        assert prev is not None
        previous = format_card_number(prev.series, prev.number)
    events = s.scalars(
        select(CardEventRow).where(CardEventRow.card_id == card.id).order_by(CardEventRow.id)
    )
    return CardInfo(
        card=format_card_number(card.series, card.number),
        pinfl=pinfl,
        status=CardStatus(card.status),
        point=card.point_code,
        request_id=card.request_id,
        issue_date=card.issue_date,
        expiry_date=card.expiry_date,
        previous_card=previous,
        esign_serial=None if card.esign_serial is None else int(card.esign_serial),
        esign_fingerprint=card.esign_fingerprint,
        oneid_event_id=card.oneid_event_id,
        history=tuple(CardEvent(CardStatus(e.status), e.at, e.by, e.reason) for e in events),
    )


def card_info(db: Database, card: str) -> CardInfo:
    """A card of the registry with its holder's PINFL and its status history."""
    with db.session(write=False) as s:
        return _info(s, _card_row(s, card))


def record_card_status(
    db: Database,
    card: str,
    status: CardStatus,
    *,
    operator: str,
    reason: str | None = None,
    now: datetime,
) -> CardInfo:
    """Record a card's new status if ``station.domain.cards.TRANSITIONS`` allows it
    (:class:`TransitionError` otherwise); lost, stolen, seized, replaced or cancelled queue the
    revocation of its e-signature certificate in the same transaction."""
    new = CardStatus(status)
    if not operator or not operator.strip():
        raise DomainError("operator", "must not be empty")
    now = _aware(now)
    with db.session() as s:
        row = _card_row(s, card, lock=True)
        _set_status(s, row, new, by=operator, reason=reason, now=now)
        s.flush()
        info = _info(s, row)
        audit(s, _point_actor(operator, row.point_code), "card.status", f"card/{card}",
              state=info.to_json(), now=now)  # fmt: skip
        return info


def record_esign(
    db: Database, card: str, *, serial: int, fingerprint: str, oneid_event_id: str | None = None
) -> CardInfo:
    """Record the card's e-signature certificate (decree §5д: issued at the first issue and
    written into the chip) and its OneID registration event. Recording the same again is a
    no-op; another certificate for a card that has one is a :class:`Conflict`."""
    if not isinstance(serial, int) or serial <= 0:
        raise DomainError("serial", "a certificate serial is a positive integer")
    if not re.fullmatch(r"[0-9a-f]{64}", fingerprint or ""):
        raise DomainError("fingerprint", "the SHA-256 of the certificate, 64 hex digits")
    with db.session() as s:
        row = _card_row(s, card, lock=True)
        if row.esign_serial is not None:
            if (row.esign_serial, row.esign_fingerprint) != (str(serial), fingerprint):
                raise Conflict("serial", f"card {card} already has another e-signature certificate")
        elif CardStatus(row.status) not in (
            CardStatus.ALLOCATED, CardStatus.PERSONALIZED, CardStatus.VERIFIED
        ):
            raise Conflict("card", f"card {card} is {row.status}: no certificate is recorded now")
        row.esign_serial = str(serial)
        row.esign_fingerprint = fingerprint
        if oneid_event_id is not None:
            row.oneid_event_id = oneid_event_id
        s.flush()
        info = _info(s, row)
        audit(s, Actor.system(), "card.esign", f"card/{card}", state=info.to_json(),
              now=_utcnow())  # fmt: skip
        return info


def person_by_pinfl(db: Database, pinfl: str) -> Person:
    """The person registered under ``pinfl``."""
    if not isinstance(pinfl, str) or not re.fullmatch(r"[0-9]{14}", pinfl):
        raise DomainError("pinfl", "a PINFL is exactly 14 digits")
    with db.session(write=False) as s:
        row = s.scalars(select(PersonRow).where(PersonRow.pinfl == pinfl)).one_or_none()
        if row is None:
            raise NotFound("pinfl", "no person is registered under this PINFL")
        return person_of_row(row)


def center_status(db: Database) -> CenterStatus:
    """Counts of the registry: points, persons, requests, cards by status, pending revocations."""
    with db.session(write=False) as s:
        by_status: dict[str, int] = {
            status: count
            for status, count in s.execute(
                select(Card.status, func.count()).group_by(Card.status)
            ).all()
        }
        return CenterStatus(
            points=s.scalar(select(func.count()).select_from(Point)) or 0,
            persons=s.scalar(select(func.count()).select_from(PersonRow)) or 0,
            requests=s.scalar(select(func.count()).select_from(Request)) or 0,
            cards={st.value: int(by_status.get(st.value, 0)) for st in CardStatus},
            pending_revocations=s.scalar(
                select(func.count()).select_from(Revocation).where(Revocation.applied_at.is_(None))
            ) or 0,
        )


# -- e-signature revocations (outbox) -----------------------------------------------------------


def apply_revocations(
    db: Database,
    revoke: Callable[[int, str], None],
    *,
    clock: Callable[[], datetime] = _utcnow,
) -> int:
    """Apply the pending revocations through the e-signature CA's ``revoke(serial, reason)``;
    the number applied. One transaction per revocation, the row locked meanwhile (concurrent
    callers do not apply one twice); a failure stays pending with ``last_error``. ``revoke``
    must accept a serial it already revoked (:func:`esign_revoker` does): a crash after the CA
    revoked and before the commit is applied again."""
    with db.session(write=False) as s:
        pending = list(
            s.scalars(
                select(Revocation.id).where(Revocation.applied_at.is_(None)).order_by(Revocation.id)
            )
        )
    applied = 0
    for rid in pending:
        with db.session() as s:
            row = s.get(Revocation, rid, with_for_update=True)
            if row is None or row.applied_at is not None:
                continue
            try:
                revoke(int(row.esign_serial), row.reason)
            except Exception as exc:
                row.last_error = f"{type(exc).__name__}: {exc}"[:500]
                continue
            row.applied_at = _aware(clock())
            row.last_error = None
            audit(s, Actor.system(), "revocation.apply", f"revocation/{rid}",
                  state={"serial": row.esign_serial, "reason": row.reason},
                  now=row.applied_at)  # fmt: skip
            applied += 1
    return applied


def list_revocations(db: Database) -> list[RevocationInfo]:
    """Every e-signature revocation the Center queued, oldest first."""
    with db.session(write=False) as s:
        rows = s.execute(
            select(Revocation, Card.series, Card.number)
            .join(Card, Card.id == Revocation.card_id)
            .order_by(Revocation.id)
        ).all()
        return [
            RevocationInfo(
                card=format_card_number(series, number), serial=int(r.esign_serial),
                reason=r.reason, created_at=r.created_at, applied_at=r.applied_at,
                last_error=r.last_error,
            )
            for r, series, number in rows
        ]


def esign_revoker(ca: EsignCA) -> Callable[[int, str], None]:
    """``revoke(serial, reason)`` of the e-signature CA, accepting a serial already revoked."""

    def revoke(serial: int, reason: str) -> None:
        found = ca.register.get(serial)
        if found is not None and found.revoked_at is not None:
            return
        ca.revoke(serial, reason)

    return revoke
