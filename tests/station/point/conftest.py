"""Fixtures of the point's tests: a point, its forms, and the Center in process (on each backend).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from station.api import create_app
from station.center import service as center_service
from station.client import CenterClient
from station.db import Database
from station.db.point_tables import Application, Handover, PointEvent, Refusal
from station.domain.application import (
    Applicant,
    ApplicantRole,
    ApplicationForm,
    PointKind,
)
from station.domain.documents import DocumentKind as D
from station.domain.grounds import Ground, Scheme
from station.domain.person import Person, PersonName
from station.domain.pinfl import compose_pinfl
from station.point.config import OperatorRole, PointConfig

NOW = datetime(2026, 12, 4, 9, 30, tzinfo=UTC)  # a Friday
POINT = PointConfig(
    code="TAS-01", name="Toshkent shahar IIBB migratsiya bo‘limi", kind=PointKind.INTERNAL_AFFAIRS,
    place_code="262",
    operators={"aziza": OperatorRole.OPERATOR, "bobur": OperatorRole.OPERATOR,
               "dilnoza": OperatorRole.SUPERVISOR},
)  # fmt: skip
CENTRE = PointConfig(code="TAS-PSC-02", name="Yunusobod davlat xizmatlari markazi",
                     kind=PointKind.PUBLIC_SERVICE_CENTRE, place_code="262",
                     operators={"aziza": OperatorRole.OPERATOR})  # fmt: skip

ADULT = Person(
    surname=PersonName("Gʻulomov", "Ғуломов"), given_name=PersonName("Oʻtkir", "Ўткир"),
    patronymic=PersonName("Shuhrat oʻgʻli", "Шуҳрат ўғли"), birth_date=date(1990, 3, 15),
    sex="M", place_of_birth="Toshkent shahri", nationality="oʻzbek", citizenship="UZB",
    address="Toshkent shahri, Yunusobod tumani, Amir Temur koʻchasi, 108-uy",
    pinfl="31503902620452",
)  # fmt: skip
CHILD = Person(
    surname=PersonName("Gʻulomova", "Ғуломова"), given_name=PersonName("Madina", "Мадина"),
    patronymic=PersonName("Oʻtkir qizi", "Ўткир қизи"), birth_date=date(2016, 5, 20),
    sex="F", place_of_birth="Toshkent shahri", nationality="oʻzbek", citizenship="UZB",
    address="Toshkent shahri, Yunusobod tumani, Amir Temur koʻchasi, 108-uy",
    father_pinfl="31503902620452",
)  # fmt: skip
RESIDENT = Person(
    surname=PersonName("Ivanov", "Иванов"), given_name=PersonName("Sergey", "Сергей"),
    patronymic=PersonName("Petrovich", "Петрович"), birth_date=date(1985, 7, 1), sex="M",
    place_of_birth="Moskva", nationality="rus", citizenship="RUS",
    address="Toshkent shahri, Mirobod tumani, Nukus koʻchasi, 5-uy", foreign_document="751234567",
)  # fmt: skip


def adult_form(**changes: object) -> ApplicationForm:
    """The adult's first ID card on the expiry of his biometric passport (scheme, line 18)."""
    values: dict[str, object] = dict(
        scheme=Scheme.CITIZEN, ground=Ground.EXPIRED, person=ADULT,
        applicant=Applicant(role=ApplicantRole.HOLDER, name="Gʻulomov Oʻtkir",
                            document="FA1234567"),
        documents=frozenset({D.APPLICATION_FORM, D.PREVIOUS_DOCUMENT, D.BIRTH_CERTIFICATE,
                             D.FEE_RECEIPT}),
        first_issue=True,
    )  # fmt: skip
    values.update(changes)
    return ApplicationForm(**values)  # type: ignore[arg-type]


def child_form(**changes: object) -> ApplicationForm:
    """A 10-year-old's first card at her father's wish (scheme, line 15)."""
    values: dict[str, object] = dict(
        scheme=Scheme.CITIZEN, ground=Ground.PARENTS_WISH, person=CHILD,
        applicant=Applicant(role=ApplicantRole.PARENT, name="Gʻulomov Oʻtkir",
                            document="FA1234567", pinfl=ADULT.pinfl),
        documents=frozenset({D.APPLICATION_FORM, D.BIRTH_CERTIFICATE, D.FEE_RECEIPT,
                             D.GUARDIAN_PROOF}),
        first_issue=True,
    )  # fmt: skip
    values.update(changes)
    return ApplicationForm(**values)  # type: ignore[arg-type]


def child_pinfl() -> str:
    return compose_pinfl(sex="F", birth_date=CHILD.birth_date, place_code="262", serial=7)


def counts(db: Database) -> dict[str, int]:
    """Rows in each of the point's tables."""
    with db.session(write=False) as session:
        return {
            table.__tablename__: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (Application, Refusal, Handover, PointEvent)
        }


EMPTY = {"applications": 0, "refusals": 0, "handovers": 0, "point_events": 0}


@pytest.fixture
def center(center_db: Database) -> Iterator[CenterClient]:
    """The Center in process over its own database, with the points registered, series AD."""
    for config in (POINT, CENTRE):
        center_service.register_point(center_db, code=config.code, name=config.name,
                                      kind=config.kind, place_code=config.place_code,
                                      now=NOW)  # fmt: skip
    center_service.open_series(center_db, "AD")
    with CenterClient.in_process(create_app(center_db, clock=lambda: NOW)) as client:
        yield client
