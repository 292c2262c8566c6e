"""The Center's ``/v1`` API through the point's client in process, and its JSON error answers;
on SQLite and PostgreSQL (``center_db``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.station.center.kit import (
    ALISHER_PINFL,
    NOW,
    TODAY,
    numbered,
    person,
    request,
    setup_center,
    with_check_digit,
)

from station.api import create_app
from station.center import (
    CardInfo,
    CenterAnswer,
    CenterStatus,
    NotFound,
    PersonMismatch,
    PINFLExhausted,
    PointInfo,
)
from station.client import IN_PROCESS_URL, CenterClient, InProcessTransport
from station.db import Database
from station.db.center_tables import PINFLBlock
from station.domain.application import PointKind
from station.domain.cards import TRANSITIONS, CardStatus
from station.domain.errors import DomainError, TransitionError
from station.domain.person import PersonName


@pytest.fixture
def center(center_db: Database) -> Database:
    setup_center(center_db)
    return center_db


@pytest.fixture
def client(center: Database) -> Iterator[CenterClient]:
    with CenterClient.in_process(create_app(center, clock=lambda: NOW)) as c:
        yield c


@pytest.fixture
def http(center: Database) -> Iterator[httpx.Client]:
    """Raw HTTP to the app (to read status codes and bodies as a foreign client would)."""
    app = create_app(center, clock=lambda: NOW)
    with httpx.Client(transport=InProcessTransport(app), base_url=IN_PROCESS_URL) as c:
        yield c


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"type", "field", "message", "problems"}
    return error


def test_a_first_issue_through_the_client(client: CenterClient) -> None:
    point = client.register_point(
        code="BUX01", name="Buxoro DXM", kind=PointKind.PUBLIC_SERVICE_CENTRE, place_code="206"
    )
    assert point == PointInfo("BUX01", "Buxoro DXM", PointKind.PUBLIC_SERVICE_CENTRE, "206")
    answer = client.send_request(request(person(), point="BUX01"))
    assert isinstance(answer, CenterAnswer)
    # scheme, lines 129-131: no PINFL → the Center forms one from the point's place code (206)
    assert answer.pinfl == with_check_digit("3150788206001")
    assert (answer.card, answer.issue_date, answer.pinfl_generated) == ("AD0000001", TODAY, True)
    info = client.card_info(answer.card)
    assert isinstance(info, CardInfo)
    assert (info.status, info.point, info.pinfl) == (CardStatus.ALLOCATED, "BUX01", answer.pinfl)
    info = client.record_esign(answer.card, serial=2**150 + 7, fingerprint="ab" * 32,
                               oneid_event_id="evt-1")  # fmt: skip
    assert (info.esign_serial, info.oneid_event_id) == (2**150 + 7, "evt-1")
    for status in (CardStatus.PERSONALIZED, CardStatus.VERIFIED, CardStatus.HANDED_OVER):
        info = client.record_card_status(answer.card, status, operator="op1")
    assert [e.status for e in info.history] == [
        CardStatus.ALLOCATED, CardStatus.PERSONALIZED, CardStatus.VERIFIED, CardStatus.HANDED_OVER
    ]
    assert info.history[-1].by == "op1" and info.history[-1].at == NOW
    assert info.esign_serial == 2**150 + 7
    assert client.person_by_pinfl(answer.pinfl) == person(pinfl=answer.pinfl)
    status = client.center_status()
    assert isinstance(status, CenterStatus)
    assert (status.points, status.persons, status.requests) == (3, 1, 1)
    assert status.cards["handed-over"] == 1 and sum(status.cards.values()) == 1


def test_incorrect_pinfl_is_422_naming_person_pinfl(
    http: httpx.Client, client: CenterClient
) -> None:
    # scheme, line 127: "… mavjudligi va to‘g‘riligini tekshiradi"
    bad = request(person(pinfl=with_check_digit("4150788023001")))  # says female
    error = _error(http.post("/v1/requests", json=bad.to_json()), 422)
    assert (error["type"], error["field"]) == ("DomainError", "person.pinfl")
    assert "sex F" in error["message"]
    with pytest.raises(DomainError) as info:
        client.send_request(bad)
    assert info.value.field == "person.pinfl"


def test_known_pinfl_of_another_person_is_409(http: httpx.Client, client: CenterClient) -> None:
    client.send_request(request(person(pinfl=ALISHER_PINFL)))
    other = request(person(pinfl=ALISHER_PINFL, surname=PersonName("Rahimov", "")))
    error = _error(http.post("/v1/requests", json=other.to_json()), 409)
    assert (error["type"], error["field"]) == ("PersonMismatch", "person.pinfl")
    with pytest.raises(PersonMismatch):
        client.send_request(other)


def test_full_pinfl_block_is_409(center: Database, http: httpx.Client) -> None:
    with center.session() as s:
        s.add(PINFLBlock(prefix="3150788023", next_serial=1000))
    error = _error(http.post("/v1/requests", json=request(person()).to_json()), 409)
    assert (error["type"], error["field"]) == ("PINFLExhausted", "person.pinfl")


def test_the_same_request_id_gets_the_same_answer(http: httpx.Client) -> None:
    body = request(person()).to_json()
    first = http.post("/v1/requests", json=body)
    again = http.post("/v1/requests", json=body)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert http.get("/v1/status").json()["cards"]["allocated"] == 1


@pytest.mark.parametrize("old", list(CardStatus))
def test_status_transitions_follow_the_domain_table(
    center: Database, http: httpx.Client, client: CenterClient, old: CardStatus
) -> None:
    """Every (old, new) pair through ``POST /v1/cards/{card}/status``: allowed exactly when
    ``station.domain.cards.TRANSITIONS`` says so, else 409 with the JSON error body."""
    path = {  # a way to reach ``old`` from allocated
        CardStatus.ALLOCATED: [],
        CardStatus.PERSONALIZED: [CardStatus.PERSONALIZED],
        CardStatus.VERIFIED: [CardStatus.PERSONALIZED, CardStatus.VERIFIED],
    }.get(old, [CardStatus.PERSONALIZED, CardStatus.VERIFIED, CardStatus.HANDED_OVER])
    if old not in (CardStatus.ALLOCATED, CardStatus.PERSONALIZED, CardStatus.VERIFIED,
                   CardStatus.HANDED_OVER):  # fmt: skip
        path = [*path, old]
    for new in CardStatus:
        card = client.send_request(request(numbered(len(path) * 100 + list(CardStatus).index(new))))
        for step in path:
            client.record_card_status(card.card, step, operator="op1")
        response = http.post(f"/v1/cards/{card.card}/status",
                             json={"status": new.value, "operator": "op2"})  # fmt: skip
        if new in TRANSITIONS[old]:
            assert response.status_code == 200, (old, new, response.text)
            assert response.json()["status"] == new.value
        else:
            error = _error(response, 409)
            assert (error["type"], error["field"]) == ("TransitionError", "status")
            with pytest.raises(TransitionError):
                client.record_card_status(card.card, new, operator="op2")
            assert client.card_info(card.card).status == old


def test_unknown_card_person_route_and_method(http: httpx.Client, client: CenterClient) -> None:
    error = _error(http.get("/v1/cards/AD0000042"), 404)
    assert (error["type"], error["field"]) == ("NotFound", "card")
    with pytest.raises(NotFound):
        client.card_info("AD0000042")
    assert _error(http.get(f"/v1/persons/{ALISHER_PINFL}"), 404)["field"] == "pinfl"
    assert _error(http.get("/v1/nothing"), 404)["type"] == "NotFound"
    assert _error(http.delete("/v1/status"), 405)["type"] == "MethodNotAllowed"
    error = _error(http.get("/v1/cards/ad123"), 422)
    assert error["field"] == "card"


def test_invalid_bodies_name_the_field(http: httpx.Client) -> None:
    body = request(person()).to_json()
    del body["person"]["birth_date"]
    error = _error(http.post("/v1/requests", json=body), 422)
    assert error["field"] == "person.birth_date"
    body = request(person()).to_json() | {"ground": "bored"}
    assert _error(http.post("/v1/requests", json=body), 422)["field"] == "ground"
    not_json = http.post("/v1/requests", content=b"{not json",
                         headers={"content-type": "application/json"})  # fmt: skip
    assert _error(not_json, 422)["type"] == "DomainError"
    assert _error(http.post("/v1/requests", json=[1, 2]), 422)["field"] == "body"
    nul = request(person()).to_json()
    nul["person"]["address"] = "Toshkent\x00"
    assert _error(http.post("/v1/requests", json=nul), 422)["field"] == "person.address"
    point = {"code": "X1", "name": "x", "kind": "internal-affairs", "place_code": "12"}
    assert _error(http.post("/v1/points", json=point), 422)["field"] == "place_code"


def test_a_point_registered_again(client: CenterClient, http: httpx.Client) -> None:
    same = {"code": "TAS01", "name": "Toshkent IIB MFB", "kind": "internal-affairs",
            "place_code": "023"}  # fmt: skip
    assert http.post("/v1/points", json=same).status_code == 201  # the same data: a no-op
    for change in ({"name": "again"}, {"place_code": "024"}, {"kind": "public-service-centre"}):
        error = _error(http.post("/v1/points", json=same | change), 409)
        assert (error["type"], error["field"]) == ("Conflict", "code")
    assert client.center_status().points == 2


def test_pinfl_exhausted_rebuilt_by_the_client(center: Database, client: CenterClient) -> None:
    with center.session() as s:
        s.add(PINFLBlock(prefix="3150788023", next_serial=1000))
    with pytest.raises(PINFLExhausted) as info:
        client.send_request(request(person()))
    assert info.value.field == "person.pinfl"


def test_one_in_process_client_shared_by_threads(client: CenterClient) -> None:
    """The embedded default used by several threads of a point at once: every answer arrives,
    card numbers without gaps or duplicates (decree §6б)."""
    import threading

    cards: list[str] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        for k in range(3):
            card = client.send_request(request(numbered(i * 10 + k))).card
            with lock:
                cards.append(card)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(cards) == [f"AD{n:07d}" for n in range(1, 19)]
