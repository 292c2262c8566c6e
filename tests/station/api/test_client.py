"""The point's client rebuilds the Center's typed errors from the JSON body, and says
CenterUnavailable for anything that is not the Center's answer."""

from __future__ import annotations

from typing import cast

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from station.center import (
    CardNumbersExhausted,
    CenterUnavailable,
    Conflict,
    NotFound,
    PersonMismatch,
    PINFLExhausted,
    RequestConflict,
)
from station.client import IN_PROCESS_URL, CenterClient, InProcessTransport, error_from_body
from station.domain.errors import DomainError, TransitionError
from station.errors import StationError


@pytest.mark.parametrize(
    ("kind", "status", "cls"),
    [
        ("DomainError", 422, DomainError),
        ("TransitionError", 409, TransitionError),
        ("NotFound", 404, NotFound),
        ("Conflict", 409, Conflict),
        ("PersonMismatch", 409, PersonMismatch),
        ("RequestConflict", 409, RequestConflict),
        ("PINFLExhausted", 409, PINFLExhausted),
        ("CardNumbersExhausted", 409, CardNumbersExhausted),
        ("SomethingNew", 404, NotFound),
        ("SomethingNew", 409, Conflict),
        ("SomethingNew", 422, DomainError),
    ],
)
def test_typed_errors_are_rebuilt(kind: str, status: int, cls: type[StationError]) -> None:
    body = {"error": {"type": kind, "field": "person.pinfl", "message": "why",
                      "problems": [{"field": "person.pinfl", "reason": "why"}]}}  # fmt: skip
    error = error_from_body(status, body)
    assert type(error) is cls
    assert getattr(error, "field", None) == "person.pinfl"
    assert getattr(error, "reason", None) == "why"


@pytest.mark.parametrize("body", [None, [], {"detail": "x"}, {"error": "x"}])
def test_a_body_without_the_error_object_is_unavailable(body: object) -> None:
    assert isinstance(error_from_body(502, body), CenterUnavailable)
    assert isinstance(error_from_body(500, {"error": {"type": "InternalError", "field": "",
                                                      "message": "internal error"}}),
                      CenterUnavailable)  # fmt: skip


def test_not_the_center_is_unavailable() -> None:
    async def proxy_error(request: object) -> PlainTextResponse:
        return PlainTextResponse("Bad Gateway", status_code=502)

    app = Starlette(routes=[Route("/v1/status", proxy_error)])
    with CenterClient.in_process(app) as client, pytest.raises(CenterUnavailable) as info:
        client.center_status()
    assert "502" in str(info.value)
    with (
        CenterClient.over_http("http://127.0.0.1:9", timeout=2) as nobody,
        pytest.raises(CenterUnavailable),
    ):
        nobody.center_status()


class _Broken:
    """A Database stand-in whose every transaction fails with ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def session(self, *, write: bool = True) -> object:
        raise self.error


def test_a_failing_database_is_503_and_a_bug_is_a_bare_500() -> None:
    from station.api import create_app
    from station.db import Database, DatabaseError

    app = create_app(cast(Database, _Broken(DatabaseError("database error (OperationalError)"))))
    with CenterClient.in_process(app) as client, pytest.raises(CenterUnavailable) as info:
        client.center_status()
    assert "503" in str(info.value) and "OperationalError" not in str(info.value)
    bug = create_app(cast(Database, _Broken(ZeroDivisionError("secret detail"))))
    transport = InProcessTransport(bug)
    with httpx.Client(transport=transport, base_url=IN_PROCESS_URL) as http:
        response = http.get("/v1/status")
    assert response.status_code == 500
    assert response.json() == {"error": {"type": "InternalError", "field": "",
                                         "message": "internal error",
                                         "problems": [{"field": "", "reason": "internal error"}]}}
    assert "secret" not in response.text and "Traceback" not in response.text
