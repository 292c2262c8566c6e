"""The operators' web application: server-rendered pages beside the Center's ``/v1`` API.

``idkarta center serve`` mounts it at ``/`` of the same ASGI application (:func:`mount_web`):
the Center's supervisors, auditors and administrators, and the operators of the station
folder's collection point, whose use cases run in process. Pages are Jinja2 templates in Uzbek
(Latin), Russian or English (gettext catalogues), with no script at all; static CSS is shipped in
the package. See docs/guide/web.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Mount, Route
from starlette.staticfiles import StaticFiles

from station.db import Database
from station.web import i18n, point_pages, session_pages, supervisor
from station.web.app import LANG_COOKIE, Ctx, WebStation, refuse
from station.web.security import SecurityHeaders

__all__ = ["WebStation", "create_web_app", "mount_web"]

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
API_PREFIX = "/v1"


def routes() -> list[Route | Mount]:
    """Every route of the web application (each page names its roles: see ``page``)."""
    get, post = ["GET"], ["POST"]
    return [
        Route("/", session_pages.home, methods=get),
        Route("/login", session_pages.login_form, methods=get),
        Route("/login", session_pages.login, methods=post),
        Route("/logout", session_pages.logout, methods=post),
        Route("/lang/{code}", session_pages.language, methods=get),
        Route("/queue", point_pages.queue, methods=get),
        Route("/applications/new", point_pages.new_application, methods=get),
        Route("/applications", point_pages.create_application, methods=post),
        Route("/applications/{app_id}", point_pages.application, methods=get),
        Route("/applications/{app_id}/submit", point_pages.submit, methods=post),
        Route("/applications/{app_id}/mark", point_pages.mark, methods=post),
        Route("/applications/{app_id}/handover", point_pages.handover, methods=post),
        Route("/applications/{app_id}/refuse", point_pages.refusal, methods=post),
        Route("/applications/{app_id}/refusal.pdf", point_pages.refusal_notice, methods=get),
        Route("/applications/{app_id}/{kind:str}.pdf", point_pages.printout, methods=get),
        Route("/applications/{app_id}/capture", point_pages.capture_form, methods=get),
        Route("/applications/{app_id}/capture", point_pages.capture, methods=post),
        Route("/replacements/new", point_pages.replacement_form, methods=get),
        Route("/replacements", point_pages.create_replacement, methods=post),
        Route("/overdue", supervisor.overdue, methods=get),
        Route("/approvals", supervisor.approvals, methods=get),
        Route("/stock", supervisor.blank_stock, methods=get),
        Route("/jobs", supervisor.personalization, methods=get),
        Route("/all", supervisor.all_applications, methods=get),
        Route("/audit", supervisor.audit, methods=get),
        Route("/users", supervisor.users, methods=get),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


def _ctx(request: Request) -> Ctx:
    lang = i18n.language(request.cookies.get(LANG_COOKIE))
    return Ctx(request, request.app.state.station, None, lang)


async def _http_error(request: Request, exc: Exception) -> Response:
    """An unknown page (404) or method (405), as a page of the application."""
    ctx = _ctx(request)
    status = exc.status_code if isinstance(exc, HTTPException) else 400
    message = ctx._("No such page.") if status == 404 else ctx._("This request is not allowed.")
    return refuse(ctx, status, message)


async def _server_error(request: Request, exc: Exception) -> Response:
    """A failure the pages did not expect: logged by its type only (no personal data), the
    transaction rolled back by the use case, a page saying so."""
    log.error("web: %s on %s %s", type(exc).__name__, request.method, request.url.path)
    ctx = _ctx(request)
    return refuse(ctx, 500, ctx._("Something went wrong: nothing was changed. Try again."))


def mount_web(app: Any, *, folder: Path | None, center_db: Database,
              revoke: Callable[[int, str], None] | None = None) -> None:
    """Mount the web application at ``/`` of the Center's ASGI application ``app`` (after its
    ``/v1`` routes, which keep matching first). With ``folder/point.json`` the point's pages
    work on ``folder/point.db``, reaching the Center in process (the embedded default: an API
    application of its own over ``center_db``, no client certificate needed inside the
    process); without it only the Center's pages (audit log, users) are there."""
    from station.api import create_app
    from station.client import CenterClient
    from station.db import Role, open_database, sqlite_url
    from station.folders.station import POINT_DB
    from station.point.config import CONFIG_NAME, PointConfig

    station = WebStation(center_db=center_db)
    if folder is not None and (folder / CONFIG_NAME).is_file():
        point = PointConfig.load(folder)
        point_db = open_database(sqlite_url(folder / POINT_DB), Role.POINT)
        center = CenterClient.in_process(create_app(center_db, revoke=revoke))
        station = WebStation(center_db=center_db, point=point, point_db=point_db, center=center)
    app.router.routes.append(_Beside("/", app=create_web_app(station)))


class _Beside(Mount):
    """A mount at ``/`` that leaves ``/v1`` to the API: an unknown ``/v1/…`` path keeps the
    API's JSON 404 instead of becoming a page."""

    def matches(self, scope: Any) -> tuple[Match, Any]:
        path = scope.get("path", "")
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            return Match.NONE, {}
        return super().matches(scope)


def create_web_app(station: WebStation) -> Any:
    """The web application over ``station`` (an ASGI application with its security headers)."""
    app = Starlette(routes=routes(), exception_handlers={
        HTTPException: _http_error, Exception: _server_error})  # fmt: skip
    app.state.station = station
    return SecurityHeaders(app)
