"""Security headers of every page, and the CSRF check of every state-changing form.

CSP (W3C CSP Level 3): no script at all (the application works without JavaScript), styles and
images only from the application itself, ``frame-ancestors 'none'`` (no framing: clickjacking),
forms posted only to the application. Pages are ``no-store`` (personal data stays out of caches).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

__all__ = ["CSP", "SECURITY_HEADERS", "SecurityHeaders", "new_token", "same_token"]

CSP = ("default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")  # fmt: skip
SECURITY_HEADERS: dict[str, str] = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeaders:
    """ASGI middleware: :data:`SECURITY_HEADERS` on every HTTP response (set, not added: an
    inner value never survives), ``cache-control: no-store`` unless the response set one."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                names = {k.decode("latin-1").lower() for k, _ in message.get("headers", [])}
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.decode("latin-1").lower() not in SECURITY_HEADERS]  # fmt: skip
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                if "cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def new_token() -> str:
    """A random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def same_token(given: object, expected: str | None) -> bool:
    """``given`` is the non-empty ``expected`` token (constant-time comparison)."""
    if not isinstance(given, str) or not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
