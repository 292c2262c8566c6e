"""Shared helpers of the online checks' tests (no tests here): a tiny HTTP server on 127.0.0.1
that answers each path with given bytes (or a callable), counting requests; a free port."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = bytes | int | Callable[[bytes], bytes]
"""The body to answer, an HTTP error status, or a function of the request body."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def closed_url(path: str = "/") -> str:
    """A URL on a port nobody listens on (connection refused)."""
    return f"http://127.0.0.1:{free_port()}{path}"


@dataclass
class Site:
    """What the server answers (path → :data:`Answer`) and the requests it saw."""

    routes: dict[str, Answer] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    """(method, path, Content-Type) of each request."""
    delay: float = 0.0
    url: str = ""


@contextmanager
def serving(site: Site, port: int = 0) -> Iterator[Site]:
    """``site`` served on 127.0.0.1 in a thread; ``site.url`` is its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self, body: bytes) -> None:
            site.hits[self.path] += 1
            site.requests.append((self.command, self.path, self.headers.get("Content-Type")))
            if site.delay:
                time.sleep(site.delay)
            answer = site.routes.get(self.path, 404)
            if callable(answer):
                answer = answer(body)
            if isinstance(answer, int):
                self.send_error(answer)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            try:
                self.wfile.write(answer)
            except BrokenPipeError:
                pass  # the client stopped reading (an answer too large for it)

        def do_GET(self) -> None:
            self._answer(b"")

        def do_POST(self) -> None:
            self._answer(self.rfile.read(int(self.headers.get("Content-Length", 0))))

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
