"""OneID outbox: event written in the issuing transaction, at-least-once delivery with backoff."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.pki.test_esign_kit import ALISHER, NODIRA, NOW, ec_signer, make_ca

from pki.enroll import enroll
from station.outbox import HTTPEndpoint, JSONLEndpoint, OneIDEvent, Outbox, OutboxError


class _Flaky:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[OneIDEvent] = []

    def send(self, event: OneIDEvent) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise OutboxError("OneID is down")
        self.sent.append(event)


def test_event_written_with_the_certificate(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    outbox = Outbox(ca.register.path)
    issued = enroll(ec_signer(), ALISHER, ca, now=NOW, on_record=outbox.hook())
    [event] = outbox.pending()
    assert event.kind == "oneid.register"
    assert event.payload == {
        "holder": issued.subject,
        "pinfl": ALISHER.pinfl,
        "card_number": ALISHER.card_number,
        "certificate_serial": format(issued.serial, "x"),
        "certificate_sha256": issued.fingerprint,
    }


def test_no_event_without_certificate(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    outbox = Outbox(ca.register.path)
    with pytest.raises(Exception, match="expired"):
        enroll(ec_signer(), NODIRA, ca, now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
               on_record=outbox.hook())
    assert outbox.pending() == []


def test_retry_with_backoff_then_delivered_once(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    outbox = Outbox(ca.register.path, backoff=dt.timedelta(seconds=10))
    enroll(ec_signer(), ALISHER, ca, now=NOW, on_record=outbox.hook())
    endpoint = _Flaky(failures=2)
    t = NOW
    assert outbox.deliver(endpoint, now=t).failed == 1
    assert outbox.deliver(endpoint, now=t + dt.timedelta(seconds=9)).failed == 0  # not due
    assert outbox.deliver(endpoint, now=t + dt.timedelta(seconds=10)).failed == 1
    # second failure doubles the delay: due 20 s after the second attempt
    assert outbox.deliver(endpoint, now=t + dt.timedelta(seconds=29)).delivered == 0
    report = outbox.deliver(endpoint, now=t + dt.timedelta(seconds=30))
    assert (report.delivered, report.pending) == (1, 0)
    assert len(endpoint.sent) == 1 and outbox.delivered() == [endpoint.sent[0].id]
    assert outbox.deliver(endpoint, now=t + dt.timedelta(days=1)).delivered == 0


def test_jsonl_endpoint(tmp_path: Path) -> None:
    ca = make_ca(tmp_path)
    outbox = Outbox(ca.register.path)
    enroll(ec_signer(), ALISHER, ca, now=NOW, on_record=outbox.hook())
    enroll(ec_signer(), NODIRA, ca, now=NOW, on_record=outbox.hook())
    queue = tmp_path / "oneid.jsonl"
    assert outbox.deliver(JSONLEndpoint(queue)).delivered == 2
    lines = [json.loads(line) for line in queue.read_text("utf-8").splitlines()]
    assert sorted(e["pinfl"] for e in lines) == sorted([ALISHER.pinfl, NODIRA.pinfl])
    assert {e["idempotency_key"] for e in lines} == set(outbox.delivered())


def test_http_endpoint_sends_idempotency_key(tmp_path: Path) -> None:
    received: list[tuple[str, dict[str, Any]]] = []
    answers = [503, 201]

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            code = answers.pop(0)
            if code < 300:
                received.append((self.headers["Idempotency-Key"], json.loads(body)))
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        ca = make_ca(tmp_path)
        outbox = Outbox(ca.register.path, backoff=dt.timedelta(0))
        enroll(ec_signer(), ALISHER, ca, now=NOW, on_record=outbox.hook())
        endpoint = HTTPEndpoint(f"http://127.0.0.1:{server.server_address[1]}/oneid")
        assert outbox.deliver(endpoint).failed == 1
        assert outbox.deliver(endpoint).delivered == 1
    finally:
        server.shutdown()
        server.server_close()
    [(key, body)] = received
    assert key == body["idempotency_key"] == outbox.delivered()[0]
    assert body["pinfl"] == ALISHER.pinfl
