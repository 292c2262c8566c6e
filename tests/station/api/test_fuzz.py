"""Bad input of any shape gets a 4xx JSON error from the Center's API, never a 500: random JSON
(and random bytes) posted to each route, and valid bodies with one part replaced at random."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.station.center.kit import NOW, person, request, setup_center

from station.api import create_app
from station.client import IN_PROCESS_URL, InProcessTransport
from station.db import Database

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["", "AD0000001", "31507880230014", "1988-07-15", "M", "\x00", "lost"]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)

_NASTY_VALUES: list[Any] = [
    "\x00", "Toshkent\x00", "a\x1fb", "\ud800", "x" * 5000, "🙂" * 70, "' OR 1=1 --", " ", "",
    "9" * 80, -1, 0, 2**64, 1e308, True, [], {},
]  # fmt: skip
NASTY = st.sampled_from(_NASTY_VALUES) | st.text(max_size=20)
"""Strings and numbers that break databases and parsers (NUL, a lone surrogate, too long)."""

VALID: dict[str, dict[str, Any]] = {
    "/v1/requests": request(person()).to_json(),
    "/v1/cards/AD0000001/status": {"status": "personalized", "operator": "op1", "reason": None},
    "/v1/cards/AD0000001/esign": {
        "serial": "12345", "fingerprint": "ab" * 32, "oneid_event_id": None,
    },
    "/v1/points": {
        "code": "BUX01", "name": "Buxoro", "kind": "public-service-centre", "place_code": "206",
    },
}


def _paths(body: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path of a JSON object (``("person", "surname", "latin")``)."""
    out = []
    for key, value in body.items():
        out.append((*prefix, key))
        if isinstance(value, dict):
            out += _paths(value, (*prefix, key))
    return out


def _copy(body: Any) -> Any:
    return {k: _copy(v) for k, v in body.items()} if isinstance(body, dict) else body


@st.composite
def mutated(draw: st.DrawFn, valid: dict[str, Any]) -> Any:
    """``valid`` with one value at any depth replaced (by random JSON or random text, control
    characters included) or removed, or an unknown key added."""
    body = _copy(valid)
    if "id" in body:  # a new request each time (a known id would answer from the registry)
        body["id"] = str(draw(st.uuids()))
    path = draw(st.sampled_from([*_paths(body), ("extra",), ("person", "extra")]))
    target = body
    for key in path[:-1]:
        target = target.setdefault(key, {})
    if draw(st.booleans()) and path[-1] in target:
        target.pop(path[-1])
    else:
        target[path[-1]] = draw(st.one_of(NASTY, JSON))
    return body


@pytest.fixture
def http(center_db: Database) -> Iterator[httpx.Client]:
    setup_center(center_db)
    app = create_app(center_db, clock=lambda: NOW)
    with httpx.Client(transport=InProcessTransport(app), base_url=IN_PROCESS_URL) as client:
        first = client.post("/v1/requests", json=request(person()).to_json())
        assert first.json()["card"] == "AD0000001", first.text
        yield client


def _post(http: httpx.Client, route: str, body: Any) -> httpx.Response:
    # json.dumps escapes a lone surrogate as \\ud800 (httpx's own encoder would refuse it)
    content = json.dumps(body).encode()
    return http.post(route, content=content, headers={"content-type": "application/json"})


def _check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    if response.status_code >= 400:
        error = body["error"]
        assert isinstance(error["type"], str) and isinstance(error["field"], str)
        assert isinstance(error["message"], str) and error["problems"]
        assert "Traceback" not in response.text


_SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("route", sorted(VALID))
@_SETTINGS
@given(body=JSON)
def test_random_bodies_get_a_4xx_json_answer(http: httpx.Client, route: str, body: Any) -> None:
    _check(_post(http, route, body))


@pytest.mark.parametrize("route", sorted(VALID))
@settings(_SETTINGS, max_examples=120)
@given(data=st.data())
def test_near_valid_bodies_get_a_json_answer(
    http: httpx.Client, route: str, data: st.DataObject
) -> None:
    """One part of a valid body changed: these pass the schema's first checks and reach the
    services and the database (a NUL in a name would reach PostgreSQL)."""
    _check(_post(http, route, data.draw(mutated(VALID[route]), label="body")))


@pytest.mark.parametrize("route", sorted(VALID))
@_SETTINGS
@given(raw=st.binary(max_size=64))
def test_random_bytes_get_a_4xx_json_answer(http: httpx.Client, route: str, raw: bytes) -> None:
    _check(http.post(route, content=raw, headers={"content-type": "application/json"}))


@_SETTINGS
@given(
    segment=st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=20),
    kind=st.sampled_from(["cards", "persons"]),
)
def test_random_path_segments_get_a_json_answer(
    http: httpx.Client, segment: str, kind: str
) -> None:
    _check(http.get(f"/v1/{kind}/{quote(segment, safe='')}"))
