"""The OneID outbox against misbehaving endpoints: real servers on 127.0.0.1 in threads.

Whatever a server does — garbage status line, closing without an answer, answering too late,
trickling, 5xx, redirecting, a refused port, arbitrary bytes — ``Outbox.deliver`` returns a
:class:`DeliveryReport`; each failed event is recorded (attempts + 1, last_error, back-off) and
the rest of the batch is still tried."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from station.outbox import DeliveryReport, HTTPEndpoint, OneIDEvent, Outbox, OutboxError

NOW = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
BACKOFF = dt.timedelta(seconds=30)

Behaviour = Callable[[socket.socket], None]


def _read_request(conn: socket.socket) -> bytes:
    """The whole request (headers and Content-Length body), or what came before EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


class RawServer:
    """A TCP server on 127.0.0.1 that reads each request and then does ``behaviour``."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/oneid"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            worker.start()
            self._workers.append(worker)

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                self.requests.append(_read_request(conn))
                self.behaviour(conn)
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for worker in self._workers:
            worker.join(10)
        self.sock.close()


@contextlib.contextmanager
def serving(behaviour: Behaviour) -> Iterator[RawServer]:
    server = RawServer(behaviour)
    try:
        yield server
    finally:
        server.close()


def answer(data: bytes) -> Behaviour:
    return lambda conn: conn.sendall(data)


def _silent(conn: socket.socket) -> None:
    pass


def _late(conn: socket.socket) -> None:
    time.sleep(1.5)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")


def _trickle(conn: socket.socket) -> None:
    """A valid 200, one byte every 0.2 s: each read is quick, the whole answer is not."""
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n":
        conn.sendall(bytes([byte]))
        time.sleep(0.2)


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port: int = s.getsockname()[1]
    return port


def _outbox(path: Path, events: int) -> tuple[Outbox, list[str]]:
    outbox = Outbox(path / "register.sqlite", backoff=BACKOFF)
    conn = sqlite3.connect(outbox.path)
    try:
        with conn:
            ids = [Outbox.enqueue(conn, "oneid.register", {"pinfl": f"3{n:013d}"},
                                  now=NOW - dt.timedelta(minutes=10 - n))
                   for n in range(events)]  # fmt: skip
    finally:
        conn.close()
    return outbox, ids


def _rows(outbox: Outbox) -> dict[str, tuple[int, str, str | None, str | None]]:
    conn = sqlite3.connect(outbox.path)
    try:
        rows = conn.execute(
            "SELECT id, attempts, next_attempt_at, delivered_at, last_error FROM outbox_events"
        ).fetchall()
    finally:
        conn.close()
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


FAILURES: dict[str, tuple[Behaviour | None, str]] = {
    "garbage status line": (answer(b"HELLO\r\n\r\n"), "endpoint failed: BadStatusLine"),
    "closed without answer": (_silent, "endpoint failed: RemoteDisconnected"),
    "answer after the timeout": (_late, "endpoint gave no answer within 0.5 s"),
    "trickling answer": (_trickle, "endpoint gave no answer within 0.5 s"),
    "500": (answer(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"), "endpoint answered 500"),
    "redirect": (
        answer(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n"),
        "endpoint answered 302",
    ),
    "unknown protocol": (answer(b"HTTP/3.0 200 OK\r\n\r\n"), "endpoint failed: UnknownProtocol"),
    "header line too long": (
        answer(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000 + b"\r\n\r\n"),
        "endpoint failed: LineTooLong",
    ),
    "refused port": (None, "endpoint failed: ConnectionRefusedError"),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_every_failure_is_recorded_and_the_batch_goes_on(tmp_path: Path, case: str) -> None:
    behaviour, reason = FAILURES[case]
    outbox, ids = _outbox(tmp_path, 3)
    if behaviour is None:
        report = outbox.deliver(HTTPEndpoint(f"http://127.0.0.1:{_free_port()}/", timeout=0.5),
                                now=NOW)  # fmt: skip
    else:
        with serving(behaviour) as server:
            report = outbox.deliver(HTTPEndpoint(server.url, timeout=0.5), now=NOW)
        assert len(server.requests) == 3  # every event of the batch was tried
    assert report == DeliveryReport(delivered=0, failed=3, pending=3)
    rows = _rows(outbox)
    for event_id in ids:
        attempts, next_attempt, delivered_at, last_error = rows[event_id]
        assert (attempts, delivered_at) == (1, None)
        assert next_attempt == (NOW + BACKOFF).isoformat()
        assert last_error is not None and last_error.startswith(reason), last_error
        assert last_error.isprintable() and len(last_error) <= 200


def test_late_answer_costs_the_timeout_not_more(tmp_path: Path) -> None:
    outbox, _ = _outbox(tmp_path, 1)
    with serving(_trickle) as server:
        started = time.monotonic()
        report = outbox.deliver(HTTPEndpoint(server.url, timeout=0.5), now=NOW)
        elapsed = time.monotonic() - started
    assert report.failed == 1
    assert elapsed < 1.5


def test_failed_events_are_retried_and_then_delivered(tmp_path: Path) -> None:
    outbox, ids = _outbox(tmp_path, 2)
    with serving(answer(b"HELLO\r\n\r\n")) as bad:
        assert outbox.deliver(HTTPEndpoint(bad.url, timeout=2), now=NOW).failed == 2
    ok = b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}"
    with serving(answer(ok)) as good:
        endpoint = HTTPEndpoint(good.url, timeout=2)
        assert outbox.deliver(endpoint, now=NOW + BACKOFF - dt.timedelta(seconds=1)).failed == 0
        report = outbox.deliver(endpoint, now=NOW + BACKOFF)
    assert report == DeliveryReport(delivered=2, failed=0, pending=0)
    assert outbox.delivered() == ids
    rows = _rows(outbox)
    assert all(rows[i][0] == 2 and rows[i][3] is None for i in ids)
    # the request carried the idempotency key and the event
    for request, event_id in zip(good.requests, ids, strict=True):
        assert request.startswith(b"POST /oneid HTTP/1.1\r\n")
        assert f"Idempotency-Key: {event_id}\r\n".encode() in request
        assert f'"idempotency_key": "{event_id}"'.encode() in request


def test_send_raises_only_outbox_error() -> None:
    event = OneIDEvent("e-1", "oneid.register", {}, NOW)
    with serving(answer(b"HELLO\r\n\r\n")) as server, pytest.raises(OutboxError):
        HTTPEndpoint(server.url, timeout=2).send(event)


@pytest.mark.parametrize(
    "url", ["ftp://x/", "http://", "http://127.0.0.1:99999/", "file:///etc/passwd", "oneid"]
)
def test_unusable_url_is_an_outbox_error(url: str) -> None:
    with pytest.raises(OutboxError, match="not an http"):
        HTTPEndpoint(url)


_STATUS_LINE = st.builds(
    lambda version, code, reason: f"{version} {code} {reason}\r\n".encode(),
    st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2", "http/1.1", "HTTP/1.1x", ""]),
    st.one_of(st.integers(-5, 1200).map(str), st.text("0123456789+_ -x", max_size=5)),
    st.text(max_size=10).map(lambda t: t.replace("\r", "").replace("\n", "")),
)
_HEADERS = st.lists(
    st.sampled_from([b"Content-Length: 0\r\n", b"Content-Length: 5\r\n", b"Content-Length: -1\r\n",
                     b"Content-Length: x\r\n", b"Transfer-Encoding: chunked\r\n",
                     b"Connection: close\r\n", b": \r\n", b"\x00\xff\r\n", b" folded\r\n"]),
    max_size=4,
).map(b"".join)
_RESPONSES = st.one_of(
    st.binary(max_size=300),
    st.tuples(_STATUS_LINE, _HEADERS, st.sampled_from([b"\r\n", b"", b"\n"]),
              st.binary(max_size=40)).map(b"".join),
)


@pytest.fixture(scope="module")
def replay_server() -> Iterator[RawServer]:
    """One server whose answer each hypothesis example sets (``server.behaviour``)."""
    with serving(_silent) as server:
        yield server


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_RESPONSES)
def test_any_server_bytes_give_a_report_and_a_recorded_attempt(
    replay_server: RawServer, data: bytes
) -> None:
    replay_server.behaviour = answer(data)
    with tempfile.TemporaryDirectory() as tmp:
        outbox, [first, second] = _outbox(Path(tmp), 2)
        report = outbox.deliver(HTTPEndpoint(replay_server.url, timeout=2), now=NOW)
        rows = _rows(outbox)
    assert isinstance(report, DeliveryReport)
    assert report.delivered + report.failed == 2
    assert report.pending == report.failed
    for event_id in (first, second):
        attempts, next_attempt, delivered_at, last_error = rows[event_id]
        assert attempts == 1
        assert (delivered_at is None) == (last_error is not None)
        if last_error is not None:
            assert next_attempt == (NOW + BACKOFF).isoformat()
            assert last_error.isprintable() and len(last_error) <= 200


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=st.integers(101, 999))
def test_delivered_exactly_for_2xx(replay_server: RawServer, code: int) -> None:
    replay_server.behaviour = answer(f"HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n".encode())
    with tempfile.TemporaryDirectory() as tmp:
        outbox, _ = _outbox(Path(tmp), 1)
        report = outbox.deliver(HTTPEndpoint(replay_server.url, timeout=2), now=NOW)
    assert report.delivered == (1 if 200 <= code < 300 else 0)
    assert report.failed == 1 - report.delivered


def test_accepted_once_the_status_line_says_so(tmp_path: Path) -> None:
    """A 200 whose body never ends (no length, connection left open) is delivered at once:
    the body is not waited for."""

    def open_ended(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n\r\npartial")
        time.sleep(2)

    outbox, [event_id] = _outbox(tmp_path, 1)
    with serving(open_ended) as server:
        started = time.monotonic()
        report = outbox.deliver(HTTPEndpoint(server.url, timeout=1.5), now=NOW)
        elapsed = time.monotonic() - started
    assert report == DeliveryReport(delivered=1, failed=0, pending=0)
    assert outbox.delivered() == [event_id] and elapsed < 1.0
