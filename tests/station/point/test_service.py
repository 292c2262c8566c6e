"""The collection point's use cases against the Center in process, on SQLite and PostgreSQL.

Each rule cites the clause of the issuance scheme (shared/seeds/id-card-issuance-scheme.uz.txt)
it implements; every refused input is checked to leave the point's tables as they were.
"""

from __future__ import annotations

import json
import subprocess
import threading
from dataclasses import replace as changed
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from tests.conftest import require_tool

from station.center.models import CenterRequest
from station.client import CenterClient
from station.db import Database
from station.db.point_tables import PointEvent
from station.db.point_tables import Refusal as RefusalRow
from station.domain.application import Applicant, ApplicantRole
from station.domain.cards import CardStatus
from station.domain.documents import DocumentKind as D
from station.domain.errors import DomainError, MissingDocuments, TransitionError
from station.domain.grounds import Ground, Scheme
from station.domain.person import PersonName
from station.domain.refusals import RefusalReason
from station.point import service
from station.point.errors import (
    ApprovalRefused,
    DuplicateApplication,
    HandoverRefused,
    NotFound,
    UnknownOperator,
    WrongState,
)
from station.point.models import ApplicationStatus, Handover

from .conftest import (
    ADULT,
    CENTRE,
    EMPTY,
    NOW,
    POINT,
    RESIDENT,
    adult_form,
    child_form,
    child_pinfl,
    counts,
)


def _events(db: Database, app_id: str) -> list[tuple[str, str, str | None]]:
    """The application's audit trail: (what, operator, detail), in order."""
    with db.session(write=False) as session:
        rows = session.scalars(select(PointEvent).where(PointEvent.application_id == app_id)
                               .order_by(PointEvent.id))  # fmt: skip
        return [(r.what, r.operator, r.detail) for r in rows]


# -- stage 2: apply -------------------------------------------------------------------------


def test_apply_accepts_and_sets_the_due_date(point_db: Database) -> None:
    # scheme, stage 4, line 162: "Hujjatlar to‘liq qabul qilib olingandan so‘ng bir ish kuni
    # mobaynida": accepted on Friday 4 December 2026 → due Monday 7 December.
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    assert app.status is ApplicationStatus.ACCEPTED and app.open
    assert app.due_date == date(2026, 12, 7)
    assert app.accepted_at == NOW and app.person_key == ADULT.pinfl
    assert (app.point_code, app.operator) == ("TAS-01", "aziza")
    assert service.status(point_db, app.id) == app
    assert _events(point_db, app.id) == [("accepted", "aziza", "due 2026-12-07")]
    assert counts(point_db) == {**EMPTY, "applications": 1, "point_events": 1}


def _refused(point_db: Database, exc_type: type[Exception], field: str, **kwargs: object) -> str:
    form = kwargs.pop("form", adult_form())
    config = kwargs.pop("point", POINT)
    with pytest.raises(exc_type) as caught:
        service.apply(point_db, form, point=config, operator="aziza", now=NOW)  # type: ignore[arg-type]
    assert getattr(caught.value, "field", None) == field, caught.value
    assert counts(point_db) == EMPTY  # nothing written
    return str(caught.value)


def test_apply_names_a_missing_document_and_writes_nothing(point_db: Database) -> None:
    # scheme, line 32: "davlat boji to‘langanligi haqida kvitantsiya (elektron to‘lov tizimlari
    # orqali to‘langanda kvitantsiya majburiy emas)"
    form = adult_form(documents=frozenset({D.APPLICATION_FORM, D.PREVIOUS_DOCUMENT,
                                           D.BIRTH_CERTIFICATE}))  # fmt: skip
    message = _refused(point_db, MissingDocuments, "documents", form=form)
    assert message == "documents: missing: fee-receipt"
    # every problem at once, the missing documents first (with a PINFL that does not match)
    wrong = adult_form(documents=form.documents,
                       person=changed(ADULT, birth_date=date(1990, 3, 16)))
    with pytest.raises(MissingDocuments) as caught:
        service.apply(point_db, wrong, point=POINT, operator="aziza", now=NOW)
    assert caught.value.missing == ("fee-receipt",)
    assert [f for f, _ in caught.value.problems] == ["documents", "person.pinfl"]
    assert counts(point_db) == EMPTY
    # line 30: the birth certificate "ID-karta birinchi marotaba rasmiylashtirilayotganda"
    form = adult_form(documents=frozenset({D.APPLICATION_FORM, D.PREVIOUS_DOCUMENT,
                                           D.FEE_RECEIPT}))  # fmt: skip
    assert "birth-certificate" in _refused(point_db, MissingDocuments, "documents", form=form)


def test_apply_refuses_a_pinfl_that_does_not_match_the_person(point_db: Database) -> None:
    # scheme, stage 3, line 127: the PINFL's "mavjudligi va to‘g‘riligini tekshiradi"; the
    # sample's PINFL says 15 March 1990: the person typed with 16 March does not match it.
    person = changed(ADULT, birth_date=date(1990, 3, 16))
    _refused(point_db, DomainError, "person.pinfl", form=adult_form(person=person))
    person = changed(ADULT, pinfl="31503902620453")  # check digit
    _refused(point_db, DomainError, "person.pinfl", form=adult_form(person=person))


def test_a_resident_is_refused_at_a_public_service_centre(point_db: Database) -> None:
    # second scheme, stage 2, line 292: only "ichki ishlar organlarining migratsiya va
    # fuqarolikni rasmiylashtirish bo‘linmalari" collect residents' applications
    form = adult_form(
        scheme=Scheme.RESIDENT, ground=Ground.PERMIT_EXPIRED, person=RESIDENT,
        applicant=Applicant(role=ApplicantRole.HOLDER, name="Ivanov Sergey",
                            document="751234567", pinfl=None),
        documents=frozenset({D.APPLICATION_FORM, D.NATIONAL_PASSPORT, D.PREVIOUS_DOCUMENT,
                             D.BIRTH_CERTIFICATE, D.FEE_RECEIPT}),
    )  # fmt: skip
    with pytest.raises(DomainError) as caught:
        service.apply(point_db, form, point=CENTRE, operator="aziza", now=NOW)
    assert "internal-affairs" in str(caught.value) or "public" in str(caught.value)
    assert counts(point_db) == EMPTY
    app = service.apply(point_db, form, point=POINT, operator="aziza", now=NOW)
    assert app.form.scheme is Scheme.RESIDENT


def test_a_second_open_application_is_refused_by_the_index(point_db: Database) -> None:
    # One open application per person and ground: the partial unique index decides, so two
    # operators accepting the same person at once cannot both succeed.
    # another person's open application on the same ground is no conflict
    sixteen = changed(ADULT, birth_date=date(2010, 12, 4), pinfl=None)
    service.apply(point_db, adult_form(person=sixteen, ground=Ground.EXPIRED), point=POINT,
                  operator="bobur", now=NOW)  # fmt: skip
    # another ground of the same person is another application
    changed_name = adult_form(ground=Ground.DATA_CHANGED, first_issue=False,
                              documents=frozenset({D.APPLICATION_FORM, D.PREVIOUS_DOCUMENT,
                                                   D.FEE_RECEIPT, D.CHANGE_PROOF}),
                              previous_card="AD0000009")  # fmt: skip
    service.apply(point_db, changed_name, point=POINT, operator="bobur", now=NOW)
    first = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    before = counts(point_db)
    with pytest.raises(DuplicateApplication) as caught:
        service.apply(point_db, adult_form(), point=POINT, operator="bobur", now=NOW)
    assert str(caught.value) == ("ground: the person already has an open application on "
                                 f"ground expired ({first.id})")  # fmt: skip
    assert caught.value.exit_code == 1
    assert counts(point_db) == before
    # once the first is closed (refused), the person may apply on that ground again
    service.refuse(point_db, reason=RefusalReason.FINGERPRINTS, operator="aziza", now=NOW,
                   point=POINT, app_id=first.id)  # fmt: skip
    again = service.apply(point_db, adult_form(), point=POINT, operator="bobur", now=NOW)
    assert again.id != first.id


def test_apply_refuses_an_unknown_operator_and_a_bad_id(point_db: Database) -> None:
    with pytest.raises(UnknownOperator) as caught:
        service.apply(point_db, adult_form(), point=POINT, operator="mallory", now=NOW)
    assert caught.value.field == "operator" and caught.value.exit_code == 2
    with pytest.raises(DomainError) as bad:
        service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW,
                      app_id="x" * 37)  # fmt: skip
    assert bad.value.field == "id"
    assert counts(point_db) == EMPTY
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW,
                        app_id="TAS-01-0001")  # fmt: skip
    assert service.status(point_db, "TAS-01-0001") == app
    with pytest.raises(NotFound) as missing:
        service.status(point_db, "TAS-01-0002")
    assert str(missing.value) == "application: no application 'TAS-01-0002' at this point"
    assert str(bad.value) == ("id: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' is not 1-36 letters, "
                              "digits, '.', '_', ':' or '-' (starting with a letter or digit)")

# -- refusals (scheme, line 216) --------------------------------------------------------------


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    pdftotext = require_tool("pdftotext")
    path = tmp_path / "notice.pdf"
    path.write_bytes(pdf)
    return subprocess.run([pdftotext, "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout  # fmt: skip


@pytest.mark.parametrize("reason", list(RefusalReason))
def test_refusal_records_reason_and_operator_and_prints_a_notice(
    point_db: Database, center: CenterClient, tmp_path: Path, reason: RefusalReason
) -> None:
    # scheme, line 216: "Agar fuqaro qo‘l barmoq izlari olinishidan bosh tortsa yoxud
    # ko‘zoynakda yoki bosh kiyimda suratga tushish istagidan qaytmasa, ma’lumotlarni yig‘ish
    # punkti fuqaroga ID-karta rasmiylashtirishni rad etadi."
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    refusal = service.refuse(point_db, reason=reason, operator="bobur", now=NOW, point=POINT,
                             app_id=app.id)  # fmt: skip
    assert (refusal.reason, refusal.operator, refusal.application_id) == (reason.value, "bobur",
                                                                          app.id)  # fmt: skip
    closed = service.status(point_db, app.id)
    assert closed.status is ApplicationStatus.REFUSED and not closed.open and closed.card is None
    assert center.center_status().requests == 0  # no card requested
    with point_db.session(write=False) as session:
        row = session.scalars(select(RefusalRow)).one()
        assert (row.id, row.application_id, row.reason, row.operator, row.at,
                row.notice_sha256) == (refusal.id, app.id, reason.value, "bobur", NOW,
                                       refusal.notice_sha256)  # fmt: skip
        assert json.loads(row.person) == ADULT.to_json() == refusal.person
    assert refusal.at == NOW
    assert _events(point_db, app.id)[-1] == ("refused", "bobur", reason.value)
    import hashlib

    assert hashlib.sha256(refusal.notice).hexdigest() == refusal.notice_sha256
    text = " ".join(_pdf_text(refusal.notice, tmp_path).split())
    assert reason.value in text and "216" in text
    assert "qo‘l barmoq izlari olinishidan bosh tortsa" in text  # the clause quoted
    assert "Gʻulomov Oʻtkir Shuhrat oʻgʻli / Ғуломов Ўткир Шуҳрат ўғли" in text
    assert "bobur" in text and app.id in text
    expected = "fingerprints" if reason is RefusalReason.FINGERPRINTS else "glasses or headwear"
    assert expected in text
    with pytest.raises(WrongState) as caught:  # refused once is enough
        service.refuse(point_db, reason=reason, operator="bobur", now=NOW, point=POINT,
                       app_id=app.id)  # fmt: skip
    assert str(caught.value) == (f"application: {app.id} is refused: only an accepted "
                                 "application (no card requested yet) is refused")  # fmt: skip
    with pytest.raises(WrongState) as caught:  # and nothing goes to the Center
        service.submit(point_db, app.id, center=center, now=NOW)
    assert str(caught.value) == f"application: {app.id} is refused, not accepted"
    with pytest.raises(DomainError) as caught:
        service.refuse(point_db, reason=reason, operator="bobur", now=NOW, point=POINT)
    assert str(caught.value) == "application: give either the application form or the id"


def test_refusal_before_an_application_is_saved(point_db: Database, tmp_path: Path) -> None:
    refusal = service.refuse(point_db, reason=RefusalReason.HEADWEAR, operator="aziza", now=NOW,
                             point=POINT, form=adult_form())  # fmt: skip
    assert refusal.application_id is None and refusal.person["pinfl"] == ADULT.pinfl
    assert counts(point_db) == {**EMPTY, "refusals": 1}
    assert "glasses-or-headwear" in _pdf_text(refusal.notice, tmp_path)
    # a name with no Cyrillic spelling is printed alone
    latin_only = changed(ADULT, surname=PersonName("Smith"), given_name=PersonName("John"),
                         patronymic=PersonName(""), pinfl=None, citizenship="GBR",
                         foreign_document="123456789")  # fmt: skip
    other = service.refuse(point_db, reason=RefusalReason.HEADWEAR, operator="aziza", now=NOW,
                           point=POINT, form=adult_form(person=latin_only,
                                                        scheme=Scheme.RESIDENT))  # fmt: skip
    text = _pdf_text(other.notice, tmp_path)
    assert "Smith John" in text and "Smith John /" not in text


def test_only_an_accepted_application_is_refused(point_db: Database, center: CenterClient) -> None:
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    service.submit(point_db, app.id, center=center, now=NOW)
    before = counts(point_db)
    with pytest.raises(WrongState):
        service.refuse(point_db, reason=RefusalReason.FINGERPRINTS, operator="aziza", now=NOW,
                       point=POINT, app_id=app.id)  # fmt: skip
    assert counts(point_db) == before


# -- stage 2 → 3: submit ------------------------------------------------------------------------


def test_submit_stores_the_centers_pinfl_and_card(point_db: Database, center: CenterClient) -> None:
    # scheme, stage 3, lines 133-135: "b) arizachida … shaxsiy identifikatsiya raqami mavjud
    # bo‘lsa: shakllantirilgan elektron talabnomani ma’lumotlarni yig‘ish punktiga yuboradi"
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    done = service.submit(point_db, app.id, center=center, now=NOW)
    assert done.status is ApplicationStatus.RETURNED
    assert done.pinfl == ADULT.pinfl and done.card == "AD0000001"
    assert done.submitted_at == NOW and done.returned_at == NOW
    info = center.card_info("AD0000001")
    assert (info.status, info.pinfl, info.point, info.request_id) == (
        CardStatus.ALLOCATED, ADULT.pinfl, "TAS-01", app.id)
    with pytest.raises(WrongState):
        service.submit(point_db, app.id, center=center, now=NOW)


def test_submit_without_pinfl_gets_one_generated(point_db: Database, center: CenterClient) -> None:
    # scheme, stage 3, lines 129-131: "a) … mavjud bo‘lmagan holda: jismoniy shaxsning shaxsiy
    # identifikatsiya raqamini shakllantiradi"
    app = service.apply(point_db, child_form(), point=POINT, operator="aziza", now=NOW)
    assert app.pinfl is None
    done = service.submit(point_db, app.id, center=center, now=NOW)
    assert done.pinfl is not None and done.pinfl[:1] == "6" and done.pinfl[7:10] == "262"
    assert done.pinfl[1:7] == "200516"


def test_a_center_refusal_writes_nothing_at_the_point(
    point_db: Database, center_db: Database
) -> None:
    from station.api import create_app
    from station.center import service as center_service
    from station.center.errors import CardNumbersExhausted

    center_service.register_point(center_db, code=POINT.code, name=POINT.name, kind=POINT.kind,
                                  place_code=POINT.place_code, now=NOW)  # fmt: skip
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    before = counts(point_db)
    no_series = CenterClient.in_process(create_app(center_db))  # no card series open
    with no_series, pytest.raises(CardNumbersExhausted):
        service.submit(point_db, app.id, center=no_series, now=NOW)
    assert service.status(point_db, app.id).status is ApplicationStatus.ACCEPTED
    assert counts(point_db) == before


# -- stage 4: marks and the handover -------------------------------------------------------------


def _verified(point_db: Database, center: CenterClient, form: object = None,
              now: datetime = NOW) -> str:  # fmt: skip
    app = service.apply(point_db, form or adult_form(), point=POINT, operator="aziza", now=now)  # type: ignore[arg-type]
    service.submit(point_db, app.id, center=center, now=now)
    for new in (ApplicationStatus.PERSONALIZED, ApplicationStatus.VERIFIED):
        service.mark(point_db, app.id, new, center=center, operator="aziza", point=POINT, now=now)
    return app.id


def test_marks_follow_the_order_and_reach_the_center(
    point_db: Database, center: CenterClient
) -> None:
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    with pytest.raises(WrongState):  # no card yet
        service.mark(point_db, app.id, ApplicationStatus.PERSONALIZED, center=center,
                     operator="aziza", point=POINT, now=NOW)  # fmt: skip
    card = service.submit(point_db, app.id, center=center, now=NOW).card
    assert card is not None
    with pytest.raises(WrongState):  # verified follows personalized
        service.mark(point_db, app.id, ApplicationStatus.VERIFIED, center=center,
                     operator="aziza", point=POINT, now=NOW)  # fmt: skip
    service.mark(point_db, app.id, ApplicationStatus.PERSONALIZED, center=center,
                 operator="aziza", point=POINT, now=NOW)  # fmt: skip
    assert center.card_info(card).status is CardStatus.PERSONALIZED
    with pytest.raises(DomainError) as bad:
        service.mark(point_db, app.id, ApplicationStatus.HANDED_OVER, center=center,
                     operator="aziza", point=POINT, now=NOW)  # fmt: skip
    assert str(bad.value) == "status: 'handed-over' is not one of: personalized, verified"
    with pytest.raises(WrongState) as caught:
        service.mark(point_db, app.id, ApplicationStatus.PERSONALIZED, center=center,
                     operator="aziza", point=POINT, now=NOW)  # fmt: skip
    assert str(caught.value) == (f"application: {app.id} is personalized: personalized follows "
                                 "returned")  # fmt: skip


def test_handover_needs_a_verified_card(point_db: Database, center: CenterClient) -> None:
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    service.submit(point_db, app.id, center=center, now=NOW)
    before = counts(point_db)
    with pytest.raises(WrongState) as caught:
        service.handover(point_db, app.id, receiver_role=ApplicantRole.HOLDER,
                         receiver_name="Gʻulomov Oʻtkir", receiver_document="FA1234567",
                         operator="aziza", point=POINT, center=center, now=NOW)  # fmt: skip
    assert "verified" in str(caught.value) and counts(point_db) == before


def test_handover_to_the_holder_on_time_and_late(point_db: Database, center: CenterClient) -> None:
    # scheme, stage 4, line 162: "Hujjatlar to‘liq qabul qilib olingandan so‘ng bir ish kuni
    # mobaynida" — accepted Friday 4 December, due Monday 7 December 2026.
    app_id = _verified(point_db, center)
    monday = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
    done = service.handover(point_db, app_id, receiver_role=ApplicantRole.HOLDER,
                            receiver_name="Gʻulomov Oʻtkir", receiver_document="FA1234567",
                            operator="bobur", point=POINT, center=center, now=monday)  # fmt: skip
    assert done.on_time and done.due_date == date(2026, 12, 7) and done.card == "AD0000001"
    info = center.card_info("AD0000001")
    assert info.status is CardStatus.HANDED_OVER and info.history[-1].by == "bobur"
    closed = service.status(point_db, app_id)
    assert closed.status is ApplicationStatus.HANDED_OVER and not closed.open
    # a second person's application handed over on Wednesday 9 December: late (8 December,
    # Constitution Day, is a holiday, so the Monday deadline stands)
    second = _verified(point_db, center, child_form(person=changed(
        child_form().person, pinfl=child_pinfl())))
    wednesday = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
    late = service.handover(point_db, second, receiver_role=ApplicantRole.PARENT,
                            receiver_name="Gʻulomov Oʻtkir", receiver_document="FA1234567",
                            operator="bobur", point=POINT, center=center, now=wednesday)
    assert not late.on_time and late.due_date == date(2026, 12, 7)


def test_a_child_s_card_goes_only_to_the_parent_who_applied(
    point_db: Database, center: CenterClient
) -> None:
    # scheme, line 219: "16 yoshga to‘lmagan shaxslarning ID-kartalari ularga ID-karta berish
    # bo‘yicha murojaat qilgan ota-onalari yoki vasiylariga (homiylariga) beriladi"
    app_id = _verified(point_db, center, child_form())
    before = counts(point_db)
    attempts = [
        (ApplicantRole.HOLDER, "Gʻulomova Madina", "none", "receiver_role"),
        (ApplicantRole.PARENT, "Gʻulomova Nodira", "FA7654321", "receiver_document"),  # mother
        (ApplicantRole.GUARDIAN, "Gʻulomov Oʻtkir", "FA1234567", "receiver_document"),
    ]
    for role, name, document, field in attempts:
        with pytest.raises(HandoverRefused) as caught:
            service.handover(point_db, app_id, receiver_role=role, receiver_name=name,
                             receiver_document=document, operator="aziza", point=POINT,
                             center=center, now=NOW)  # fmt: skip
        assert caught.value.field == field and caught.value.exit_code == 1
    assert counts(point_db) == before
    card = service.status(point_db, app_id).card
    assert card is not None and center.card_info(card).status is CardStatus.VERIFIED
    done = service.handover(point_db, app_id, receiver_role=ApplicantRole.PARENT,
                            receiver_name="Gʻulomov Oʻtkir", receiver_document="fa 1234567",
                            operator="aziza", point=POINT, center=center, now=NOW)  # fmt: skip
    assert done.receiver_role == "parent"


def test_an_adult_s_card_goes_to_the_holder(point_db: Database, center: CenterClient) -> None:
    app_id = _verified(point_db, center)
    with pytest.raises(HandoverRefused) as caught:
        service.handover(point_db, app_id, receiver_role=ApplicantRole.PARENT,
                         receiver_name="Gʻulomov Shuhrat", receiver_document="AA0000001",
                         operator="aziza", point=POINT, center=center, now=NOW)  # fmt: skip
    assert caught.value.field == "receiver_role"


# -- stages 5-6: restoration and replacement ------------------------------------------------------


def _handed_over(point_db: Database, center: CenterClient) -> str:
    """A card in use, with its e-signature certificate recorded at issuance (decree §5д)."""
    app_id = _verified(point_db, center)
    card = service.status(point_db, app_id).card
    assert card is not None
    center.record_esign(card, serial=0x1234, fingerprint="ab" * 32)
    service.handover(point_db, app_id, receiver_role=ApplicantRole.HOLDER,
                     receiver_name="Gʻulomov Oʻtkir", receiver_document="FA1234567",
                     operator="aziza", point=POINT, center=center, now=NOW)  # fmt: skip
    return card


def test_a_lost_card_is_restored_and_the_old_one_revoked(
    point_db: Database, center: CenterClient
) -> None:
    # scheme, stage 5, line 180: "ID-karta yo‘qotib qo‘yilganda"; stage 6, lines 207-208: "ariza
    # berilgan kundan boshlab besh ish kuni ichida" — applied Thursday 10 December 2026, due
    # Wednesday 16 December (five working days: 11, the moved working Saturday 12, 14, 15, 16).
    old = _handed_over(point_db, center)
    applied = datetime(2026, 12, 10, 11, 0, tzinfo=UTC)
    app = service.replace(point_db, previous_card=old, ground=Ground.LOST,
                          documents=frozenset({D.APPLICATION_FORM, D.FEE_RECEIPT}),
                          applicant_document="FA1234567", point=POINT, operator="bobur",
                          center=center, now=applied)  # fmt: skip
    assert app.form.previous_card == old and app.form.person.pinfl == ADULT.pinfl
    assert app.form.ground is Ground.LOST and not app.fee_waived
    assert app.due_date == date(2026, 12, 16)
    assert center.card_info(old).status is CardStatus.HANDED_OVER  # not yet: nothing sent
    new = service.submit(point_db, app.id, center=center, now=applied)
    assert new.card == "AD0000002"
    assert _events(point_db, app.id)[-1] == (
        "returned", "bobur", f"pinfl {ADULT.pinfl}, card AD0000002; {old} lost")
    assert center.card_info(old).status is CardStatus.LOST
    assert center.center_status().pending_revocations == 1


def test_replace_refuses_a_card_not_in_use(point_db: Database, center: CenterClient) -> None:
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    card = service.submit(point_db, app.id, center=center, now=NOW).card
    assert card is not None
    before = counts(point_db)
    with pytest.raises(WrongState) as caught:
        service.replace(point_db, previous_card=card, ground=Ground.LOST,
                        documents=frozenset({D.APPLICATION_FORM, D.FEE_RECEIPT}),
                        point=POINT, operator="aziza", center=center, now=NOW)  # fmt: skip
    assert str(caught.value) == ("previous_card: AD0000001 is allocated: only a card in use is "
                                 "restored or replaced")  # fmt: skip
    assert counts(point_db) == before


def test_free_replacement_needs_a_second_person(point_db: Database, center: CenterClient) -> None:
    # scheme, line 217: "ID-karta rasmiylashtirish va berish jarayonida unda texnik nuqsonlar
    # aniqlansa, basharti ular ma’lumotlarni yig‘ish punkti tomonidan yo‘l qo‘yilgan bo‘lsa,
    # ID-karta bepul almashtiriladi"
    old = _handed_over(point_db, center)
    documents = frozenset({D.APPLICATION_FORM, D.PREVIOUS_DOCUMENT, D.CHANGE_PROOF})  # no fee
    base: dict[str, object] = dict(previous_card=old, ground=Ground.DATA_ERROR,
                                   documents=documents, point=POINT, operator="aziza",
                                   center=center, now=NOW, point_fault=True,
                                   waiver_reason="chip written with a wrong DG1")  # fmt: skip
    before = counts(point_db)
    for approver, field, exc_type in [(None, "approved_by", ApprovalRefused),
                                      ("aziza", "approved_by", ApprovalRefused),  # the operator
                                      ("bobur", "approved_by", ApprovalRefused),  # not supervisor
                                      ("mallory", "approved_by", UnknownOperator)]:  # fmt: skip
        with pytest.raises(exc_type) as caught:
            service.replace(point_db, **{**base, "approved_by": approver})  # type: ignore[arg-type]
        assert caught.value.field == field
    with pytest.raises(ApprovalRefused) as caught:
        service.replace(point_db, **{**base, "approved_by": "dilnoza", "waiver_reason": " "})  # type: ignore[arg-type]
    assert caught.value.field == "waiver_reason"
    with pytest.raises(ApprovalRefused) as caught:  # a lost card is not the point's fault
        service.replace(point_db, **{**base, "approved_by": "dilnoza", "ground": Ground.LOST})  # type: ignore[arg-type]
    assert caught.value.field == "ground"
    with pytest.raises(MissingDocuments):  # without the point's fault the fee is due
        service.replace(point_db, **{**base, "point_fault": False, "waiver_reason": None})  # type: ignore[arg-type]
    assert counts(point_db) == before
    app = service.replace(point_db, **{**base, "approved_by": "dilnoza"})  # type: ignore[arg-type]
    assert app.fee_waived and app.form.fee_waived
    assert (app.approved_by, app.waiver_reason) == ("dilnoza", "chip written with a wrong DG1")
    assert service.status(point_db, app.id) == app
    service.submit(point_db, app.id, center=center, now=NOW)
    assert center.card_info(old).status is CardStatus.REPLACED


# -- overdue ---------------------------------------------------------------------------------------


def test_overdue_lists_open_applications_past_their_due_date(
    point_db: Database, center: CenterClient
) -> None:
    # stage 4, line 162 (one working day) and stage 6, lines 207-208 (five working days)
    first = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    child = service.apply(point_db, child_form(), point=POINT, operator="aziza",
                          now=NOW + timedelta(days=3))  # Monday 7 → due Wednesday 9 (8: holiday)
    assert (first.due_date, child.due_date) == (date(2026, 12, 7), date(2026, 12, 9))
    assert service.overdue(point_db, today=date(2026, 12, 7)) == []  # due today: not overdue
    assert [a.id for a in service.overdue(point_db, today=date(2026, 12, 8))] == [first.id]
    assert [a.id for a in service.overdue(point_db, today=date(2026, 12, 10))] == [first.id,
                                                                                  child.id]
    service.refuse(point_db, reason=RefusalReason.FINGERPRINTS, operator="aziza", now=NOW,
                   point=POINT, app_id=first.id)  # fmt: skip
    assert [a.id for a in service.overdue(point_db, today=date(2026, 12, 10))] == [child.id]


# -- retries: the Center reached, the point's commit lost ----------------------------------------


def test_a_repeated_submit_gets_the_same_answer(point_db: Database, center: CenterClient) -> None:
    # The request id is the application id: a request that reached the Center before the
    # point's transaction failed is answered again, not allocated a second card.
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    earlier = center.send_request(CenterRequest(
        id=app.id, point=POINT.code, operator="aziza", scheme=Scheme.CITIZEN,
        ground=Ground.EXPIRED, person=ADULT,
    ))  # fmt: skip
    done = service.submit(point_db, app.id, center=center, now=NOW)
    assert (done.card, done.pinfl) == (earlier.card, earlier.pinfl)
    assert center.center_status().requests == 1
    assert sum(center.center_status().cards.values()) == 1


def test_a_repeated_mark_or_handover_completes(point_db: Database, center: CenterClient) -> None:
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    card = service.submit(point_db, app.id, center=center, now=NOW).card
    assert card is not None
    center.record_card_status(card, CardStatus.PERSONALIZED, operator="aziza")  # reached it
    marked = service.mark(point_db, app.id, ApplicationStatus.PERSONALIZED, center=center,
                          operator="aziza", point=POINT, now=NOW)  # fmt: skip
    assert marked.status is ApplicationStatus.PERSONALIZED
    service.mark(point_db, app.id, ApplicationStatus.VERIFIED, center=center, operator="aziza",
                 point=POINT, now=NOW)  # fmt: skip
    center.record_card_status(card, CardStatus.HANDED_OVER, operator="aziza")
    done = service.handover(point_db, app.id, receiver_role=ApplicantRole.HOLDER,
                            receiver_name="Gʻulomov Oʻtkir", receiver_document="FA1234567",
                            operator="aziza", point=POINT, center=center, now=NOW)  # fmt: skip
    assert done.on_time
    # a card the Center holds in another status is still a conflict
    other = service.apply(point_db, child_form(), point=POINT, operator="aziza", now=NOW)
    other_card = service.submit(point_db, other.id, center=center, now=NOW).card
    assert other_card is not None
    center.record_card_status(other_card, CardStatus.CANCELLED, operator="dilnoza")
    with pytest.raises(TransitionError):
        service.mark(point_db, other.id, ApplicationStatus.PERSONALIZED, center=center,
                     operator="aziza", point=POINT, now=NOW)  # fmt: skip
    assert service.status(point_db, other.id).status is ApplicationStatus.RETURNED


def test_a_naive_clock_is_refused(point_db: Database) -> None:
    with pytest.raises(DomainError) as caught:
        service.apply(point_db, adult_form(), point=POINT, operator="aziza",
                      now=NOW.replace(tzinfo=None))  # fmt: skip
    assert str(caught.value) == "now: the point's clock must give an aware time (UTC)"
    assert counts(point_db) == EMPTY


# -- the handover rule as a property -------------------------------------------------------------

_DOCS = st.sampled_from(["FA1234567", "fa 1234567", "AB7654321", "FA1234568"])


@given(age=st.integers(0, 90), role=st.sampled_from(list(ApplicantRole)), document=_DOCS,
       applied_role=st.sampled_from([ApplicantRole.PARENT, ApplicantRole.GUARDIAN]))  # fmt: skip
def test_who_may_take_the_card(age: int, role: ApplicantRole, document: str,
                               applied_role: ApplicantRole) -> None:  # fmt: skip
    # scheme, line 219: under 16, only "murojaat qilgan ota-onalari yoki vasiylariga"; from 16
    # (line 12) the holder's own card, to the holder.
    today = date(2026, 12, 4)
    birth = date(today.year - age - 1, 12, 31) if age else date(2026, 1, 1)
    form = child_form(person=changed(ADULT, birth_date=birth, pinfl=None),
                      applicant=Applicant(role=applied_role if age < 16 else ApplicantRole.HOLDER,
                                          name="X", document="FA1234567"))  # fmt: skip
    allowed = (role is ApplicantRole.HOLDER) if age >= 16 else (
        role is applied_role and document.replace(" ", "").upper() == "FA1234567")
    try:
        service._check_receiver(form, role, document, today)
    except HandoverRefused:
        assert not allowed
    else:
        assert allowed


def test_two_operators_at_once_one_application(point_db: Database) -> None:
    """The same person and ground accepted by two operators at the same moment: the partial
    unique index lets one through, the other gets DuplicateApplication (both backends)."""
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def accept(operator: str) -> None:
        barrier.wait()
        try:
            outcomes.append(service.apply(point_db, adult_form(), point=POINT,
                                          operator=operator, now=NOW))  # fmt: skip
        except Exception as exc:  # the outcome is the result
            outcomes.append(exc)

    threads = [threading.Thread(target=accept, args=(op,)) for op in ("aziza", "bobur")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    kinds = sorted(type(o).__name__ for o in outcomes)
    assert kinds == ["Application", "DuplicateApplication"], outcomes
    assert counts(point_db) == {**EMPTY, "applications": 1, "point_events": 1}


def test_the_day_is_tashkent_s(point_db: Database) -> None:
    # Thursday 3 December 2026 at 20:00 UTC is Friday 01:00 in Tashkent (UTC+5): accepted on
    # Friday, due Monday 7 December (stage 4, line 162), not Friday 4.
    late_evening = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=late_evening)
    assert app.due_date == date(2026, 12, 7)


def test_the_calendar_is_injected(point_db: Database) -> None:
    import holidays

    from station.domain.calendar import WorkCalendar

    # without Uzbekistan's holidays, Monday 7 December → Tuesday 8 (Constitution Day ignored)
    bare = WorkCalendar(holidays.HolidayBase())
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=monday,
                        calendar=bare)  # fmt: skip
    assert app.due_date == date(2026, 12, 8)
    other = service.apply(point_db, child_form(), point=POINT, operator="aziza", now=monday)
    assert other.due_date == date(2026, 12, 9)


def test_the_audit_trail_of_a_first_issue(point_db: Database, center: CenterClient) -> None:
    app_id = _verified(point_db, center)
    service.handover(point_db, app_id, receiver_role=ApplicantRole.HOLDER,
                     receiver_name="Gʻulomov Oʻtkir", receiver_document="FA1234567",
                     operator="bobur", point=POINT, center=center,
                     now=datetime(2026, 12, 8, 9, 0, tzinfo=UTC))  # fmt: skip
    assert _events(point_db, app_id) == [
        ("accepted", "aziza", "due 2026-12-07"),
        ("returned", "aziza", "pinfl 31503902620452, card AD0000001"),
        ("personalized", "aziza", "AD0000001"),
        ("verified", "aziza", "AD0000001"),
        ("handed-over", "bobur", "AD0000001 to holder (late)"),
    ]
    child = service.apply(point_db, child_form(), point=POINT, operator="aziza", now=NOW)
    service.submit(point_db, child.id, center=center, now=NOW)
    pinfl = service.status(point_db, child.id).pinfl
    generated = f"pinfl {pinfl} (generated), card AD0000002"
    assert _events(point_db, child.id)[-1] == ("returned", "aziza", generated)


def test_a_handover_closes_the_application(point_db: Database, center: CenterClient) -> None:
    app_id = _verified(point_db, center)
    done = service.handover(point_db, app_id, receiver_role=ApplicantRole.HOLDER,
                            receiver_name="Gʻulomov Oʻtkir", receiver_document="FA1234567",
                            operator="bobur", point=POINT, center=center, now=NOW)  # fmt: skip
    assert done == Handover(application_id=app_id, card="AD0000001", receiver_role="holder",
                            receiver_name="Gʻulomov Oʻtkir", receiver_document="FA1234567",
                            operator="bobur", at=NOW, due_date=date(2026, 12, 7),
                            on_time=True)  # fmt: skip
    assert _events(point_db, app_id)[-1] == ("handed-over", "bobur", "AD0000001 to holder")
    assert service.overdue(point_db, today=date(2027, 1, 1)) == []
    again = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    assert again.id != app_id  # the index sees the handed-over one closed
    with pytest.raises(WrongState) as caught:
        service.handover(point_db, app_id, receiver_role=ApplicantRole.HOLDER,
                         receiver_name="G", receiver_document="FA1234567", operator="bobur",
                         point=POINT, center=center, now=NOW)  # fmt: skip
    assert str(caught.value) == (f"application: {app_id} is handed-over: only a verified card "
                                 "is handed over")  # fmt: skip


@pytest.mark.parametrize(("name", "document"), [(" ", "FA1234567"), ("Gʻulomov Oʻtkir", "")])
def test_a_receiver_names_himself_and_shows_a_document(
    point_db: Database, center: CenterClient, name: str, document: str
) -> None:
    app_id = _verified(point_db, center)
    with pytest.raises(DomainError) as caught:
        service.handover(point_db, app_id, receiver_role=ApplicantRole.HOLDER,
                         receiver_name=name, receiver_document=document, operator="bobur",
                         point=POINT, center=center, now=NOW)  # fmt: skip
    assert str(caught.value) == ("receiver: the receiver's name and identity document are "
                                 "required")  # fmt: skip


@pytest.mark.parametrize(("birth", "who"), [
    (date(2010, 12, 4), ApplicantRole.HOLDER),  # 16 today (line 12: "16 yoshdan")
    (date(2010, 12, 5), ApplicantRole.PARENT),  # 16 tomorrow: still the parent's (line 219)
])  # fmt: skip
def test_sixteen_is_the_holder_s_own(birth: date, who: ApplicantRole) -> None:
    form = child_form(person=changed(ADULT, birth_date=birth, pinfl=None))
    today = date(2026, 12, 4)
    service._check_receiver(form, who, "FA1234567", today)
    other = ApplicantRole.PARENT if who is ApplicantRole.HOLDER else ApplicantRole.HOLDER
    with pytest.raises(HandoverRefused) as caught:
        service._check_receiver(form, other, "FA1234567", today)
    expected = {
        ApplicantRole.PARENT: "receiver_role: the holder is 16: the card goes to the holder",
        ApplicantRole.HOLDER: "receiver_role: the holder is 15: a card of a person under 16 goes "
                              "to the parent or guardian who applied",
    }[other]  # fmt: skip
    assert str(caught.value) == expected
    with pytest.raises(HandoverRefused) as caught:
        service._check_receiver(child_form(), ApplicantRole.PARENT, "AB7654321", today)
    assert str(caught.value) == ("receiver_document: parent with document AB7654321 did not "
                                 "apply; parent Gʻulomov Oʻtkir applied")  # fmt: skip


def test_overdue_oldest_due_first(point_db: Database) -> None:
    # inserted out of order: due first, then accepted first among the same due date
    sixteen = changed(ADULT, birth_date=date(2010, 12, 4), pinfl=None)
    same_day = service.apply(point_db, adult_form(ground=Ground.TURNED_16, person=sixteen),
                             point=POINT, operator="aziza", now=NOW + timedelta(hours=1))
    later = service.apply(point_db, child_form(), point=POINT, operator="aziza",
                          now=NOW + timedelta(days=3))  # due Wednesday 9 December
    earlier = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    # a restoration accepted first but due last (five working days: Saturday 12 December)
    restoring = service.apply(point_db, adult_form(
        ground=Ground.DATA_CHANGED, first_issue=False, previous_card="AD0000009",
        documents=frozenset({D.APPLICATION_FORM, D.PREVIOUS_DOCUMENT, D.FEE_RECEIPT,
                             D.CHANGE_PROOF})), point=POINT, operator="aziza",
        now=NOW - timedelta(hours=1))  # fmt: skip
    assert (earlier.due_date, same_day.due_date) == (date(2026, 12, 7), date(2026, 12, 7))
    assert restoring.due_date == date(2026, 12, 12)
    assert [a.id for a in service.overdue(point_db, today=date(2026, 12, 14))] == [
        earlier.id, same_day.id, later.id, restoring.id]


def test_replace_details(point_db: Database, center: CenterClient) -> None:
    # stage 5, line 178: the holder applies; line 32: paid electronically, no receipt
    old = _handed_over(point_db, center)
    documents = frozenset({D.APPLICATION_FORM})
    with pytest.raises(DomainError) as caught:  # an approval belongs to a free replacement only
        service.replace(point_db, previous_card=old, ground=Ground.LOST, documents=documents,
                        point=POINT, operator="aziza", center=center, now=NOW,
                        approved_by="dilnoza")  # fmt: skip
    assert str(caught.value) == ("approved_by: an approval and a waiver reason are only for a "
                                 "free replacement (point fault)")  # fmt: skip
    app = service.replace(point_db, previous_card=old, ground=Ground.LOST, documents=documents,
                          point=POINT, operator="aziza", center=center, now=NOW,
                          fee_paid_electronically=True, payment_reference="CLICK-778812",
                          app_id="TAS-01-0007")  # fmt: skip
    assert app.id == "TAS-01-0007" and app.form.payment_reference == "CLICK-778812"
    assert (app.fee_waived, app.waiver_reason, app.approved_by) == (False, None, None)
    assert _events(point_db, app.id) == [("accepted", "aziza", "due 2026-12-12")]
    assert app.form.fee_paid_electronically and app.form.scheme is Scheme.CITIZEN
    assert app.form.applicant == Applicant(role=ApplicantRole.HOLDER,
                                           name="Gʻulomov Oʻtkir Shuhrat oʻgʻli",
                                           document=old, pinfl=ADULT.pinfl)  # fmt: skip
    # stage 6, lines 207-208: five working days from Friday 4 December: 7, 9 (8 is Constitution
    # Day), 10, 11 and the moved working Saturday 12 December
    assert app.due_date == date(2026, 12, 12)


def test_free_replacement_messages(point_db: Database, center: CenterClient) -> None:
    old = _handed_over(point_db, center)
    base: dict[str, object] = dict(previous_card=old, ground=Ground.DATA_ERROR,
                                   documents=frozenset({D.APPLICATION_FORM, D.PREVIOUS_DOCUMENT,
                                                        D.CHANGE_PROOF}),
                                   point=POINT, operator="aziza", center=center, now=NOW,
                                   point_fault=True, waiver_reason="wrong DG1")  # fmt: skip
    expected = {
        None: "approved_by: a free replacement needs a supervisor's approval",
        "aziza": "approved_by: aziza is not a supervisor",
        "bobur": "approved_by: bobur is not a supervisor",
    }
    for approver, message in expected.items():
        with pytest.raises(ApprovalRefused) as caught:
            service.replace(point_db, **{**base, "approved_by": approver})  # type: ignore[arg-type]
        assert str(caught.value) == message
    supervisor = changed(POINT, operators={**POINT.operators, "aziza": POINT.operators["dilnoza"]})
    with pytest.raises(ApprovalRefused) as caught:  # a supervisor approving her own work
        service.replace(point_db, **{**base, "point": supervisor, "approved_by": "aziza"})  # type: ignore[arg-type]
    assert str(caught.value) == "approved_by: the supervisor approving must not be the operator"
    with pytest.raises(ApprovalRefused) as caught:
        service.replace(point_db, **{**base, "approved_by": "dilnoza", "waiver_reason": None})  # type: ignore[arg-type]
    assert str(caught.value) == "waiver_reason: the reason for the free replacement is required"
    with pytest.raises(ApprovalRefused) as caught:
        service.replace(point_db, **{**base, "approved_by": "dilnoza", "ground": Ground.UNUSABLE})  # type: ignore[arg-type]
    assert str(caught.value) == ("ground: a free replacement is for a technical defect the "
                                 "point caused: ground data-error")  # fmt: skip
    assert counts(point_db)["applications"] == 1
    app = service.replace(point_db, **{**base, "approved_by": "dilnoza"})  # type: ignore[arg-type]
    assert _events(point_db, app.id) == [("accepted", "aziza", "due 2026-12-12"),
                                         ("fee-waived", "aziza",
                                          "approved by dilnoza: wrong DG1")]  # fmt: skip


def test_a_resident_s_lost_card(point_db: Database, center: CenterClient) -> None:
    # the residents' stages 5-6 (second scheme, lines 369-396)
    form = adult_form(
        scheme=Scheme.RESIDENT, ground=Ground.PERMIT_EXPIRED, person=RESIDENT,
        applicant=Applicant(role=ApplicantRole.HOLDER, name="Ivanov Sergey", document="751234567"),
        documents=frozenset({D.APPLICATION_FORM, D.NATIONAL_PASSPORT, D.PREVIOUS_DOCUMENT,
                             D.BIRTH_CERTIFICATE, D.FEE_RECEIPT}),
    )  # fmt: skip
    app_id = _verified(point_db, center, form)
    card = service.status(point_db, app_id).card
    assert card is not None
    service.handover(point_db, app_id, receiver_role=ApplicantRole.HOLDER,
                     receiver_name="Ivanov Sergey", receiver_document="751234567",
                     operator="aziza", point=POINT, center=center, now=NOW)  # fmt: skip
    app = service.replace(point_db, previous_card=card, ground=Ground.LOST,
                          documents=frozenset({D.APPLICATION_FORM, D.FEE_RECEIPT}), point=POINT,
                          operator="aziza", center=center, now=NOW)  # fmt: skip
    assert app.form.scheme is Scheme.RESIDENT and app.form.person.citizenship == "RUS"


def test_two_submits_at_once_one_answer(point_db: Database, center: CenterClient) -> None:
    """The application row is locked for the step (FOR UPDATE on PostgreSQL, the write lock on
    SQLite): of two submits at once, one stores the answer, the other finds it returned."""
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def submit() -> None:
        barrier.wait()
        try:
            outcomes.append(service.submit(point_db, app.id, center=center, now=NOW))
        except Exception as exc:  # the outcome is the result
            outcomes.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(type(o).__name__ for o in outcomes) == ["Application", "WrongState"], outcomes
    assert [e[0] for e in _events(point_db, app.id)] == ["accepted", "returned"]
