"""The collection point's client of the Center's ``/v1`` API (sync, httpx).

Two ways to reach the Center, the same code either way:

- :meth:`CenterClient.in_process` — the embedded default: the Center's ASGI application runs in
  this process behind :class:`InProcessTransport` (httpx's ASGI transport on one event loop in
  a helper thread), no network;
- :meth:`CenterClient.over_http` — a deployment: ``idkarta center serve`` at a URL; over
  ``https://`` with mutual TLS (the point's certificate from the point CA, the Center's server
  certificate checked against that CA and the URL's host).

Each method returns the dataclasses of :mod:`station.center.models` (or a domain
:class:`~station.domain.person.Person`) and raises the typed error the Center answered with,
rebuilt from the JSON error body (:func:`error_from_body`): the point and its CLI print the field.
"""

from __future__ import annotations

import base64
import binascii
import json
import ssl
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from station.center.errors import (
    CardNumbersExhausted,
    CenterError,
    CenterUnavailable,
    Conflict,
    NotFound,
    NotYourPoint,
    PersonMismatch,
    PINFLExhausted,
    PointUnauthenticated,
    RequestConflict,
)
from station.center.models import CardInfo, CenterAnswer, CenterRequest, CenterStatus, PointInfo
from station.client.transport import InProcessTransport
from station.domain.application import PointKind
from station.domain.cards import CardStatus
from station.domain.errors import DomainError, TransitionError
from station.domain.person import Person
from station.errors import StationError, UsageError

__all__ = [
    "IN_PROCESS_URL",
    "CenterClient",
    "InProcessTransport",
    "client_ssl_context",
    "error_from_body",
]

IN_PROCESS_URL = "http://center.in-process"

_CENTER_ERRORS: dict[str, type[CenterError]] = {
    cls.__name__: cls
    for cls in (
        CenterError, NotFound, Conflict, PersonMismatch, RequestConflict, PINFLExhausted,
        CardNumbersExhausted, PointUnauthenticated, NotYourPoint,
    )
}  # fmt: skip
_DOMAIN_ERRORS: dict[str, type[DomainError]] = {
    cls.__name__: cls for cls in (DomainError, TransitionError)
}


def error_from_body(status: int, body: object) -> StationError:
    """The typed error of a Center answer ``{"error": {"type", "field", "message", …}}``."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return CenterUnavailable(f"the Center answered HTTP {status} without an error body")
    kind = str(err.get("type", ""))
    field = str(err.get("field") or "")
    message = str(err.get("message") or f"HTTP {status}")
    problems = [
        (str(p.get("field", "")), str(p.get("reason", "")))
        for p in err.get("problems") or ()
        if isinstance(p, dict)
    ] or [(field, message)]
    if kind in _CENTER_ERRORS:
        return _CENTER_ERRORS[kind](field, message)
    if kind in _DOMAIN_ERRORS:
        return _DOMAIN_ERRORS[kind](field, message)
    if status == 404:
        return NotFound(field or "path", message)
    if status == 409:
        return Conflict(field, message)
    if 400 <= status < 500:
        return DomainError(field or problems[0][0], message)
    return CenterUnavailable(f"the Center answered HTTP {status}: {message}")


def client_ssl_context(
    *, cert: Path | None, key: Path | None, ca: Path | None
) -> ssl.SSLContext:
    """The point's TLS context: trusts ``ca`` alone (the point CA, not the system's CAs),
    checks the server's name, and shows the point's certificate ``cert`` with ``key``."""
    if ca is None or cert is None or key is None:
        raise UsageError("an https:// Center needs the point's certificate, its key and the "
                         "point CA (point.json center_tls)")  # fmt: skip
    try:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"the point's TLS files are not usable: {exc}") from None
    return ctx


class CenterClient:
    """One method per route of the Center's ``/v1`` API."""

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    @classmethod
    def over_http(
        cls, url: str, *, cert: Path | None = None, key: Path | None = None,
        ca: Path | None = None, timeout: float = 30.0,
    ) -> CenterClient:  # fmt: skip
        """A client of the Center served at ``url`` (``http://127.0.0.1:8700``, or ``https://…``
        with mutual TLS: the point's client certificate ``cert`` and its ``key``, and ``ca``, the
        point CA that must have issued the Center's server certificate for the URL's host)."""
        if url.lower().startswith("https:"):
            return cls(httpx.Client(base_url=url.rstrip("/"), timeout=timeout,
                                    verify=client_ssl_context(cert=cert, key=key, ca=ca)))
        if cert or key or ca:
            raise UsageError("a client certificate needs an https:// Center URL")
        return cls(httpx.Client(base_url=url.rstrip("/"), timeout=timeout))

    @classmethod
    def in_process(cls, app: Any) -> CenterClient:
        """A client of the ASGI application ``app`` in this process (no network)."""
        return cls(httpx.Client(transport=InProcessTransport(app), base_url=IN_PROCESS_URL))

    def close(self) -> None:
        """Close the connections (or the in-process transport's event loop)."""
        self._http.close()

    def __enter__(self) -> CenterClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- transport --------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = self._http.request(method, "/v1" + path, json=body)
        except httpx.HTTPError as exc:
            raise CenterUnavailable(f"the Center is not reachable: {exc}") from None
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise CenterUnavailable(
                f"the Center answered HTTP {response.status_code} that is not JSON"
            ) from None
        if response.is_success:
            return data
        raise error_from_body(response.status_code, data)

    @staticmethod
    def _seg(value: str) -> str:
        return quote(value, safe="")

    # -- routes -----------------------------------------------------------------------------

    def send_request(self, request: CenterRequest) -> CenterAnswer:
        """``POST /v1/requests``: the PINFL checked or generated and a card number (stage 3).
        Idempotent on ``request.id``: sending it again returns the same answer."""
        return CenterAnswer.from_json(self._call("POST", "/requests", request.to_json()))

    def card_info(self, card: str) -> CardInfo:
        """``GET /v1/cards/{card}``."""
        return CardInfo.from_json(self._call("GET", f"/cards/{self._seg(card)}"))

    def record_card_status(
        self, card: str, status: CardStatus, *, operator: str, reason: str | None = None
    ) -> CardInfo:
        """``POST /v1/cards/{card}/status`` (allowed transitions only, else TransitionError)."""
        body = {"status": CardStatus(status).value, "operator": operator, "reason": reason}
        return CardInfo.from_json(self._call("POST", f"/cards/{self._seg(card)}/status", body))

    def record_esign(
        self, card: str, *, serial: int, fingerprint: str, oneid_event_id: str | None = None
    ) -> CardInfo:
        """``POST /v1/cards/{card}/esign``: the card's e-signature certificate and OneID event."""
        body = {"serial": str(serial), "fingerprint": fingerprint,
                "oneid_event_id": oneid_event_id}  # fmt: skip
        return CardInfo.from_json(self._call("POST", f"/cards/{self._seg(card)}/esign", body))

    def sign_sod(
        self, card: str, *, point: str, algorithm: str = "sha256", hashes: Mapping[int, bytes]
    ) -> bytes:
        """``POST /v1/cards/{card}/sod``: the card's EF.SOD (tag 77) signed by the Center's
        Document Signer over the data group ``hashes`` (number → digest by ``algorithm``); only
        the hashes travel. The same hashes again give the same EF.SOD."""
        body = {"point": point, "algorithm": algorithm,
                "hashes": {str(n): bytes(d).hex() for n, d in sorted(hashes.items())}}  # fmt: skip
        data = self._call("POST", f"/cards/{self._seg(card)}/sod", body)
        try:
            return base64.b64decode(str(data["sod"]), validate=True)
        except (KeyError, TypeError, binascii.Error):
            raise CenterUnavailable("the Center's answer holds no EF.SOD") from None

    def person_by_pinfl(self, pinfl: str) -> Person:
        """``GET /v1/persons/{pinfl}``."""
        return Person.from_json(self._call("GET", f"/persons/{self._seg(pinfl)}"))

    def register_point(
        self, *, code: str, name: str, kind: PointKind, place_code: str
    ) -> PointInfo:
        """``POST /v1/points``."""
        body = {"code": code, "name": name, "kind": PointKind(kind).value,
                "place_code": place_code}  # fmt: skip
        return PointInfo.from_json(self._call("POST", "/points", body))

    def center_status(self) -> CenterStatus:
        """``GET /v1/status``."""
        return CenterStatus.from_json(self._call("GET", "/status"))
