"""Shared helpers of the Center's and its API's tests (no tests here): persons, requests, a
Center with its points and series, an e-signature CA."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from tests.pki.test_esign_kit import PUBLIC_URLS, ec_signer

from idcard.pinfl import PINFL
from pki.enroll import enroll
from pki.esign import EsignCA, EsignRegister, HolderRecord
from pki.esign_register import IssuedCertificate
from station.center import CenterRequest, open_series, register_point
from station.db import Database
from station.domain.application import PointKind
from station.domain.grounds import Ground, Scheme
from station.domain.person import Person, PersonName

NOW = dt.datetime(2026, 12, 4, 6, 0, tzinfo=dt.UTC)  # Friday 4 December 2026, 11:00 in Tashkent
TODAY = dt.date(2026, 12, 4)
TASHKENT_PLACE = "023"  # place code of point TAS01 (PINFL digits 8-10)
SAMARQAND_PLACE = "114"
ALISHER_PINFL = "31507880230014"  # 15 Jul 1988, male, place 023, serial 001


def person(**changes: Any) -> Person:
    """Alisher Toshmatov (synthetic), without a PINFL unless given."""
    base = Person(
        surname=PersonName("Toshmatov", "Тошматов"),
        given_name=PersonName("Alisher", "Алишер"),
        patronymic=PersonName("Baxtiyor o‘g‘li", "Бахтиёр ўғли"),
        birth_date=dt.date(1988, 7, 15),
        sex="M",
        place_of_birth="Toshkent shahri",
        nationality="o‘zbek",
        citizenship="UZB",
        address="Toshkent shahri, Yunusobod tumani, Amir Temur ko‘chasi, 108-uy",
    )
    return replace(base, **changes)


def numbered(i: int, **changes: Any) -> Person:
    """A different person for each ``i`` (same birth date and place: the same PINFL block)."""
    return person(surname=PersonName(f"Karimov{i}", ""), **changes)


def request(
    who: Person,
    *,
    point: str = "TAS01",
    ground: Ground = Ground.EXPIRED,
    previous_card: str | None = None,
    request_id: str | None = None,
    operator: str = "op1",
) -> CenterRequest:
    return CenterRequest(
        id=request_id or str(uuid.uuid4()),
        point=point,
        operator=operator,
        scheme=Scheme.CITIZEN,
        ground=ground,
        person=who,
        previous_card=previous_card,
    )


def setup_center(db: Database) -> None:
    """Two points (Tashkent, place 023; Samarqand, 114) and the active series AD."""
    register_point(db, code="TAS01", name="Toshkent IIB MFB", kind=PointKind.INTERNAL_AFFAIRS,
                   place_code=TASHKENT_PLACE, now=NOW)  # fmt: skip
    register_point(db, code="SAM01", name="Samarqand DXM", kind=PointKind.PUBLIC_SERVICE_CENTRE,
                   place_code=SAMARQAND_PLACE, now=NOW)  # fmt: skip
    open_series(db, "AD")


def with_check_digit(first13: str) -> str:
    """A PINFL of 13 digits plus their correct check digit (parses unless the date is bad)."""
    from idcard.pinfl import pinfl_check_digit

    return first13 + pinfl_check_digit(first13)


def make_esign_ca(tmp: Path) -> EsignCA:
    return EsignCA.create(
        EsignRegister(tmp / "esign.sqlite"), ec_signer("esign-ca"), PUBLIC_URLS,
        now=NOW - dt.timedelta(days=30),
    )  # fmt: skip


def issue_esign(ca: EsignCA, *, pinfl: str, card: str, expiry: dt.date) -> IssuedCertificate:
    """A holder certificate of ``ca`` for the card (decree §5д: at the first issue)."""
    PINFL.parse(pinfl)
    record = HolderRecord(pinfl, "TOSHMATOV", "ALISHER", card, expiry)
    return enroll(ec_signer(), record, ca, now=NOW)


def sha256_hex(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()
