"""HTTP services of the e-signature CA on one server: CRL, OCSP, time stamps, CA certificate.

Routes (stdlib :class:`http.server.ThreadingHTTPServer`; loopback by default):

==========================  =========================================================
``GET /crl/<name>.crl``      the current CRL, DER, ``application/pkix-crl`` (RFC 5280 §4.2.1.13)
``GET /ca/<name>.crt``       the CA certificate, DER, ``application/pkix-cert`` (RFC 5280 §4.2.2.1)
``POST /ocsp``               OCSP, ``application/ocsp-request`` → ``application/ocsp-response``
``GET /ocsp/<base64>``       OCSP by GET: the URL-encoded base64 of the DER request (RFC 6960 A.1)
``POST /tsa``                RFC 3161 §3.4: ``application/timestamp-query`` → ``-reply``
==========================  =========================================================

:class:`ServiceServer` starts and stops programmatically (port 0 → a free port, see ``url``);
``idkarta esign serve`` runs it from the command line.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pki.errors import PKIError
from pki.esign import EsignCA
from pki.ocsp import OCSPResponder
from pki.tsa import TimeStampAuthority

__all__ = ["CRLCache", "ServiceServer"]

_LOG = logging.getLogger("station.services")
_MAX_BODY = 64 * 1024


class CRLCache:
    """The CA's CRL, reissued when it is older than ``max_age`` or the revocations changed."""

    def __init__(self, ca: EsignCA, *, max_age: dt.timedelta = dt.timedelta(hours=1)) -> None:
        self.ca = ca
        self.max_age = max_age
        self._lock = threading.Lock()
        self._der: bytes | None = None
        self._made: dt.datetime | None = None
        self._revoked: int = -1

    def der(self) -> bytes:
        with self._lock:
            now = dt.datetime.now(dt.UTC)
            revoked = self.ca.register.revoked_count()
            if (
                self._der is None
                or self._made is None
                or now - self._made > self.max_age
                or revoked != self._revoked
            ):
                self._der = bytes(self.ca.issue_crl(now=now).dump())
                self._made, self._revoked = now, revoked
            return self._der


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        _LOG.info("%s %s", self.address_string(), format % args)

    def _send(self, code: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 < length <= _MAX_BODY:
            self._send(411 if length == 0 else 413, b"bad request body length\n")
            return None
        return self.rfile.read(length)

    def do_GET(self) -> None:
        app = self.server
        path = urllib.parse.urlsplit(self.path).path
        try:
            if path == f"/crl/{app.name}.crl":
                self._send(200, app.crl.der(), "application/pkix-crl")
            elif path == f"/ca/{app.name}.crt":
                self._send(200, bytes(app.ca.certificate.dump()), "application/pkix-cert")
            elif path.startswith("/ocsp/"):
                encoded = urllib.parse.unquote(path[len("/ocsp/"):])
                try:
                    request = base64.b64decode(encoded, validate=True)
                except (binascii.Error, ValueError):
                    self._send(400, b"not base64\n")
                    return
                self._send(200, app.ocsp.respond(request), "application/ocsp-response")
            else:
                self._send(404, b"not found\n")
        except PKIError as exc:
            _LOG.error("request %s failed: %s", path, exc)
            self._send(500, b"internal error\n")

    def do_POST(self) -> None:
        app = self.server
        path = urllib.parse.urlsplit(self.path).path
        content_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if path == "/ocsp":
            if content_type != "application/ocsp-request":
                self._send(415, b"expected application/ocsp-request\n")
                return
            body = self._body()
            if body is not None:
                self._send(200, app.ocsp.respond(body), "application/ocsp-response")
        elif path == "/tsa":
            if app.tsa is None:
                self._send(404, b"no time-stamp authority configured\n")
                return
            if content_type != "application/timestamp-query":
                self._send(415, b"expected application/timestamp-query\n")
                return
            body = self._body()
            if body is not None:
                self._send(200, app.tsa.respond(body), "application/timestamp-reply")
        else:
            self._send(404, b"not found\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        ca: EsignCA,
        ocsp: OCSPResponder,
        tsa: TimeStampAuthority | None,
        name: str,
    ) -> None:
        self.ca, self.ocsp, self.tsa, self.name = ca, ocsp, tsa, name
        self.crl = CRLCache(ca)
        super().__init__(address, _Handler)


class ServiceServer:
    """CRL, OCSP and TSA over HTTP for one e-signature CA; ``start()`` / ``stop()`` or ``with``."""

    def __init__(
        self,
        ca: EsignCA,
        *,
        tsa: TimeStampAuthority | None = None,
        ocsp: OCSPResponder | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "esign",
    ) -> None:
        self._server = _Server((host, port), ca, ocsp or OCSPResponder(ca), tsa, name)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = str(self._server.server_address[0])
        return f"http://{host}:{self.port}"

    def start(self) -> ServiceServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="idkarta-services", daemon=True
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> ServiceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
