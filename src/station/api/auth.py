"""Which point a request of the Center's ``/v1`` API comes from, and what it may change.

A served Center with mutual TLS (:mod:`station.api.tls`) puts the verified client certificate
into each request's scope as the ASGI TLS extension; :func:`point_of_scope` reads the point's
code from it (HTTP 401 without a point client certificate) and :func:`check_own` refuses a
point acting on another point's data (HTTP 403). The embedded Center in process has no TLS:
there the caller is None and nothing is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asn1crypto import pem, x509

from pki.point_ca import point_code_of
from station.center.errors import NotYourPoint, PointUnauthenticated

__all__ = ["check_own", "point_of_scope"]


def point_of_scope(scope: Mapping[str, Any]) -> str:
    """The code of the point whose client certificate the connection carries, or
    :class:`PointUnauthenticated` (no TLS, no certificate, not a point client certificate)."""
    tls = (scope.get("extensions") or {}).get("tls")
    chain = tls.get("client_cert_chain") if isinstance(tls, dict) else None
    if not chain:
        raise PointUnauthenticated("certificate", "a point's TLS client certificate is required")
    try:
        _, _, der = pem.unarmor(str(chain[0]).encode("ascii"))
        code = point_code_of(x509.Certificate.load(der))
    except (ValueError, TypeError):
        code = None
    if code is None:
        raise PointUnauthenticated("certificate", "the client certificate is not a point's")
    return code


def check_own(caller: str | None, point: str, field: str) -> None:
    """Refuse (HTTP 403) when the authenticated point ``caller`` acts on ``point``'s data; None
    is the embedded Center in process, which serves its one point without TLS."""
    if caller is not None and caller != point:
        raise NotYourPoint(field, f"point {caller} may not act for point {point}")
