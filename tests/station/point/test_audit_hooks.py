"""Every use case of the point and of the Center appends its entry to its database's audit
chain, in the use case's transaction: who, role, point, action, object and the hash of the
object's new state (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.station.point.conftest import NOW, POINT, adult_form

from station.auditlog import Actor, Entry, entries, state_hash, verify
from station.client import CenterClient
from station.db import Database
from station.db.point_tables import Application as ApplicationRow
from station.domain.application import ApplicantRole
from station.domain.refusals import RefusalReason
from station.point import service
from station.point.errors import UnknownOperator
from station.point.models import ApplicationStatus


def _log(db: Database) -> list[Entry]:
    with db.session(write=False) as s:
        return entries(s)


def _app_state(db: Database, app_id: str) -> str | None:
    with db.session(write=False) as s:
        row = s.get(ApplicationRow, app_id)
        assert row is not None
        return state_hash(service._state(row))


def test_the_point_s_use_cases_each_append_one_entry(point_db: Database,
                                                     center: CenterClient,
                                                     center_db: Database) -> None:  # fmt: skip
    center_before = len(_log(center_db))
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    accepted = _app_state(point_db, app.id)
    service.submit(point_db, app.id, center=center, now=NOW,
                   by=Actor("dilnoza", "supervisor", POINT.code))  # fmt: skip
    for status in (ApplicationStatus.PERSONALIZED, ApplicationStatus.VERIFIED):
        service.mark(point_db, app.id, status, center=center, operator="bobur", point=POINT,
                     now=NOW)  # fmt: skip
    later = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    service.handover(point_db, app.id, receiver_role=ApplicantRole.HOLDER,
                     receiver_name="Gʻulomov Oʻtkir", receiver_document="FA1234567",
                     operator="aziza", point=POINT, center=center, now=later)  # fmt: skip
    refused = service.refuse(point_db, reason=RefusalReason.FINGERPRINTS,
                             operator="bobur", now=NOW, point=POINT,
                             form=adult_form())  # fmt: skip
    log = _log(point_db)
    assert [(e.who, e.role, e.point, e.action, e.object) for e in log] == [
        ("aziza", "operator", "TAS-01", "application.accept", f"application/{app.id}"),
        ("dilnoza", "supervisor", "TAS-01", "application.submit", f"application/{app.id}"),
        ("bobur", "operator", "TAS-01", "application.personalized", f"application/{app.id}"),
        ("bobur", "operator", "TAS-01", "application.verified", f"application/{app.id}"),
        ("aziza", "operator", "TAS-01", "application.handover", f"application/{app.id}"),
        ("bobur", "operator", "TAS-01", "application.refuse", f"refusal/TAS-01-R{refused.id}"),
    ]  # fmt: skip
    assert log[0].state_hash == accepted  # the state the use case wrote
    assert log[4].state_hash == _app_state(point_db, app.id) != accepted
    assert log[4].at == later
    assert verify(point_db, chain="point:TAS-01").intact
    # the Center appended the request and the three card statuses (a point's login, role "point")
    center_log = _log(center_db)[center_before:]
    assert [(e.who, e.role, e.point, e.action) for e in center_log] == [
        ("aziza", "point", "TAS-01", "request.receive"),
        ("bobur", "point", "TAS-01", "card.status"),
        ("bobur", "point", "TAS-01", "card.status"),
        ("aziza", "point", "TAS-01", "card.status"),
    ]  # fmt: skip
    assert verify(center_db, chain="center").intact


def test_a_refused_use_case_appends_nothing(point_db: Database) -> None:
    with pytest.raises(UnknownOperator):
        service.apply(point_db, adult_form(), point=POINT, operator="mallory", now=NOW)
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    with pytest.raises(Exception, match="open application"):
        service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    assert [e.object for e in _log(point_db)] == [f"application/{app.id}"]


def test_the_center_s_own_changes_are_logged(center_db: Database,
                                             center: CenterClient) -> None:  # fmt: skip
    from station.center import service as center_service

    center_service.add_operator(center_db, point="TAS-01", login="op9", name="O", role="operator")
    log = _log(center_db)
    assert [(e.who, e.role, e.action, e.object) for e in log] == [
        ("system", "system", "point.register", "point/TAS-01"),
        ("system", "system", "point.register", "point/TAS-PSC-02"),
        ("system", "system", "series.open", "series/AD"),
        ("system", "system", "operator.add", "operator/TAS-01/op9"),
    ]  # fmt: skip
    assert all(e.state_hash is not None for e in log)
