"""The Center served by uvicorn on 127.0.0.1 (a free port) and reached by
``CenterClient.over_http`` over real loopback HTTP, as a deployed point reaches it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
from tests.station.center.kit import NOW, person, request, setup_center, with_check_digit

from station.api import create_app
from station.center import CenterUnavailable
from station.client import CenterClient
from station.db import Database
from station.domain.cards import CardStatus
from station.domain.errors import DomainError, TransitionError


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` under uvicorn in a thread on 127.0.0.1:<free port>; yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        assert not thread.is_alive()


def test_a_point_talks_to_the_center_over_loopback_http(center_db: Database) -> None:
    setup_center(center_db)
    with (
        serving(create_app(center_db, clock=lambda: NOW)) as url,
        CenterClient.over_http(url) as client,
    ):
        answer = client.send_request(request(person()))
        # scheme, lines 129-131: the PINFL formed by the Center, sent back to the point
        assert answer.pinfl == with_check_digit("3150788023001")
        assert answer.card == "AD0000001"
        assert client.send_request(request(person(), request_id=answer.request_id)) == answer
        info = client.record_card_status(answer.card, CardStatus.PERSONALIZED, operator="op1")
        assert info.status is CardStatus.PERSONALIZED
        with pytest.raises(TransitionError) as bad:
            client.record_card_status(answer.card, CardStatus.LOST, operator="op1")
        assert bad.value.field == "status"
        with pytest.raises(DomainError) as wrong:
            client.send_request(request(person(pinfl=with_check_digit("4150788023001"))))
        assert wrong.value.field == "person.pinfl"

        # two points at once over HTTP, the same new person: one PINFL
        barrier = threading.Barrier(2)
        answers: list[str] = []

        def send(point: str) -> None:
            with CenterClient.over_http(url) as own:
                barrier.wait()
                answers.append(own.send_request(request(person(), point=point)).pinfl)

        threads = [threading.Thread(target=send, args=(p,)) for p in ("TAS01", "SAM01")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert answers == [answer.pinfl] * 2
        assert client.center_status().persons == 1
    with CenterClient.over_http(url, timeout=2) as gone, pytest.raises(CenterUnavailable):
        gone.center_status()  # the server stopped
