"""An httpx transport that calls an ASGI application in this process (no network)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import anyio.from_thread
import httpx

__all__ = ["InProcessTransport"]


class InProcessTransport(httpx.BaseTransport):
    """Sync requests to the ASGI application ``app``, run on one event loop in a helper thread
    (an anyio blocking portal) for the transport's life; safe to share between threads.

    The embedded default of a collection point: the same HTTP requests, headers, JSON and
    status codes as over the network, without a socket. An exception escaping the application
    is answered with HTTP 500, as a server would.
    """

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._portal_cm: AbstractContextManager[anyio.from_thread.BlockingPortal] = (
            anyio.from_thread.start_blocking_portal()
        )
        self._portal = self._portal_cm.__enter__()
        self._closed = False

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        response = await self._asgi.handle_async_request(request)
        content = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise httpx.TransportError("the in-process transport is closed")
        request.read()
        return self._portal.call(self._handle, request)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._portal_cm.__exit__(None, None, None)
