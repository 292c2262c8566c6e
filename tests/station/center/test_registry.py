"""The registry's other use cases: points, operators, series, the e-signature record, counts;
and the layering (no HTTP in the services)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.station.center.kit import NOW, numbered, person, request, setup_center

from station.center import (
    Conflict,
    NotFound,
    add_operator,
    card_info,
    center_status,
    open_series,
    receive_request,
    record_card_status,
    record_esign,
    register_point,
)
from station.db import Database
from station.domain.application import PointKind
from station.domain.cards import CardStatus
from station.domain.errors import DomainError
from station.errors import StationError

SRC = Path(__file__).resolve().parents[3] / "src"


@pytest.fixture
def center(center_db: Database) -> Database:
    setup_center(center_db)
    return center_db


def test_points_operators_and_series_are_checked(center: Database) -> None:
    for bad, field in (({"code": "a b"}, "code"), ({"place_code": "12a"}, "place_code"),
                       ({"name": " "}, "name")):  # fmt: skip
        args = {"code": "NEW1", "name": "x", "place_code": "001"} | bad
        with pytest.raises(DomainError) as info:
            register_point(center, kind=PointKind.INTERNAL_AFFAIRS, now=NOW, **args)
        assert info.value.field == field
    add_operator(center, point="TAS01", login="op1", name="Operator One", role="operator")
    add_operator(center, point="SAM01", login="op1", name="Another", role="supervisor")
    with pytest.raises(Conflict):
        add_operator(center, point="TAS01", login="op1", name="Again", role="operator")
    with pytest.raises(NotFound):
        add_operator(center, point="NOPE", login="op1", name="x", role="operator")
    with pytest.raises(DomainError) as role:
        add_operator(center, point="TAS01", login="op2", name="x", role="admin")
    assert role.value.field == "role"
    with pytest.raises(DomainError):
        open_series(center, "A1")
    assert receive_request(center, request(numbered(1)), now=NOW).card == "AD0000001"
    open_series(center, "AE")  # one active series at a time
    assert receive_request(center, request(numbered(2)), now=NOW).card == "AE0000001"
    open_series(center, "AD")  # back to AD: numbers continue
    assert receive_request(center, request(numbered(3)), now=NOW).card == "AD0000002"
    status = center_status(center)
    assert (status.points, status.persons, status.requests) == (2, 3, 3)
    assert status.cards == {s.value: (3 if s is CardStatus.ALLOCATED else 0) for s in CardStatus}


def test_the_esign_record(center: Database) -> None:
    card = receive_request(center, request(person()), now=NOW).card
    info = record_esign(center, card, serial=77, fingerprint="0f" * 32, oneid_event_id="e1")
    assert (info.esign_serial, info.esign_fingerprint, info.oneid_event_id) == (77, "0f" * 32, "e1")
    assert record_esign(center, card, serial=77, fingerprint="0f" * 32) == info  # again: no-op
    with pytest.raises(Conflict) as other:
        record_esign(center, card, serial=78, fingerprint="0f" * 32)
    assert other.value.field == "serial"
    for kwargs, field in (({"serial": 0, "fingerprint": "0f" * 32}, "serial"),
                          ({"serial": 1, "fingerprint": "XYZ"}, "fingerprint")):  # fmt: skip
        with pytest.raises(DomainError) as bad:
            record_esign(center, card, **kwargs)  # type: ignore[arg-type]
        assert bad.value.field == field
    second = receive_request(center, request(numbered(1)), now=NOW).card
    record_card_status(center, second, CardStatus.CANCELLED, operator="op1", now=NOW)
    with pytest.raises(Conflict) as ended:  # no certificate for a card that ended
        record_esign(center, second, serial=5, fingerprint="0e" * 32)
    assert ended.value.field == "card"
    with pytest.raises(NotFound):
        card_info(center, "AD0000099")
    with pytest.raises(DomainError) as malformed:
        card_info(center, "AD12")
    assert malformed.value.field == "card"


def test_the_center_services_do_not_import_http_fronts() -> None:
    # STATION.md layers: a service never imports fastapi (the front) nor click
    code = (
        "import sys, station.center, station.center.service\n"
        "print(sorted(m for m in ('fastapi', 'starlette', 'click', 'station.api', 'station.cli')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(SRC)})  # fmt: skip
    assert out.stdout.strip() == "[]"


def test_naive_clock_and_empty_operator_are_refused(center: Database) -> None:
    card = receive_request(center, request(person()), now=NOW).card
    with pytest.raises(StationError, match="aware datetime"):
        receive_request(center, request(numbered(1)), now=NOW.replace(tzinfo=None))
    with pytest.raises(DomainError) as info:
        record_card_status(center, card, CardStatus.PERSONALIZED, operator=" ", now=NOW)
    assert info.value.field == "operator"
    assert card_info(center, card).status is CardStatus.ALLOCATED
