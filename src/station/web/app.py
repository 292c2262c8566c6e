"""The web application's frame: its dependencies, sessions, role checks, CSRF, rendering.

Every page is a function decorated with :func:`page`, which names the roles that may see it;
:func:`page` finds the login session (cookie ``idk_session``, HttpOnly, Secure, SameSite=Strict),
refuses a role not named (403, a message on the page), checks the session's CSRF token on every
POST (403), and gives the function a :class:`Ctx`. The work is done by the point's and the
Center's use cases (``station.point.service``, ``station.accounts``), called in a worker thread.
"""

from __future__ import annotations

import functools
import logging
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from dataclasses import replace as changed
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from station import accounts
from station.db import Database
from station.point.config import OperatorRole, PointConfig
from station.point.service import CenterAPI
from station.web import i18n

__all__ = ["Ctx", "WebStation", "page", "render"]

log = logging.getLogger(__name__)
T = TypeVar("T")

SESSION_COOKIE = "idk_session"
LANG_COOKIE = "idk_lang"
LOGIN_COOKIE = "idk_login"  # the login form's CSRF token (double submit: no session yet)
TEMPLATES = Path(__file__).with_name("templates")
MAX_UPLOAD = 16 * 1024 * 1024  # a portrait from a camera; the gate makes the DG2 image small
Role = accounts.Role


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WebStation:
    """What the web application works on: the Center's database (accounts, sessions, audit
    log) and, when the station folder has one, its collection point (configuration, database,
    the point's client of the Center)."""

    center_db: Database
    point: PointConfig | None = None
    point_db: Database | None = None
    center: CenterAPI | None = None
    clock: Callable[[], datetime] = _utcnow
    secure_cookies: bool = True
    policy: accounts.Policy = field(default_factory=lambda: accounts.DEFAULT_POLICY)


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date"] = i18n.format_date
    env.filters["datetime"] = i18n.format_datetime
    return env


@dataclass
class Ctx:
    """One request as a page sees it."""

    request: Request
    station: WebStation
    session: accounts.LoginSession | None
    lang: str
    form: FormData | None = None

    @property
    def user(self) -> accounts.User:
        assert self.session is not None
        return self.session.user

    @property
    def now(self) -> datetime:
        return self.station.clock()

    def _(self, message: str) -> str:
        return i18n.gettext_for(self.lang)(message)

    def field(self, name: str) -> str:
        """The posted form's field ``name`` (stripped; empty when absent)."""
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else ""

    def point(self) -> PointConfig:
        """The station's point, with the acting user (and any approving supervisor the page
        adds) known as its operators: accounts, not point.json, say who works here."""
        point = self.station.point
        assert point is not None
        role = OperatorRole.SUPERVISOR if self.user.role is Role.SUPERVISOR \
            else OperatorRole.OPERATOR  # fmt: skip
        return changed(point, operators={**point.operators, self.user.login: role})

    async def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``func(*args, **kwargs)`` in a worker thread (database and Center calls block)."""
        return await run_in_threadpool(func, *args, **kwargs)


def render(ctx: Ctx, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    """``template`` rendered in the request's language."""
    session = ctx.session
    body = _environment().get_template(template).render(
        _=ctx._, lang=ctx.lang, languages=i18n.LANGUAGES, user=session.user if session else None,
        csrf=session.csrf_token if session else "", station=ctx.station, path=ctx.request.url.path,
        query=ctx.request.url.query, user_roles=Role, **values,
    )  # fmt: skip
    response = HTMLResponse(body, status_code=status)
    response.headers["content-language"] = ctx.lang
    return response


def refuse(ctx: Ctx, status: int, message: str) -> HTMLResponse:
    """A page that says why the request was refused (the message is already translated)."""
    return render(ctx, "refused.html", status=status, message=message)


Page = Callable[[Ctx], Awaitable[Response]]


Endpoint = Callable[[Request], Awaitable[Response]]


def page(*roles: Role, point: bool = False) -> Callable[[Page], Endpoint]:
    """A page open to ``roles`` (none: open to anyone, as the login page); ``point``: a page of
    the station's collection point (an operator or supervisor of another point is refused)."""

    def decorate(func: Page) -> Endpoint:
        @functools.wraps(func)
        async def endpoint(request: Request) -> Response:
            station: WebStation = request.app.state.station
            lang = i18n.language(request.cookies.get(LANG_COOKIE))
            ctx = Ctx(request, station, None, lang)
            token = request.cookies.get(SESSION_COOKIE)
            if token:
                try:
                    ctx.session = await ctx.call(accounts.session_user, station.center_db,
                                                 token, now=ctx.now, policy=station.policy)
                except accounts.SessionInvalid:
                    ctx.session = None
            if roles:
                if ctx.session is None:
                    if request.method == "GET":
                        target = request.url.path + (f"?{request.url.query}" if request.url.query
                                                     else "")  # fmt: skip
                        return RedirectResponse("/login?" + urllib.parse.urlencode(
                            {"next": target}), status_code=303)  # fmt: skip
                    return refuse(ctx, 401, ctx._("Your session has ended: log in again."))
                if ctx.user.role not in roles:
                    return refuse(ctx, 403, ctx._("Your role may not open this page."))
                if point and not _serves(ctx):
                    return refuse(ctx, 403, ctx._("This page belongs to another collection "
                                                  "point."))
            if request.method == "POST":
                ctx.form = await request.form(max_part_size=MAX_UPLOAD)
                if roles and ctx.session is not None:  # a public form (login) has its own
                    try:
                        accounts.check_csrf(ctx.session, _text(ctx.form.get("csrf")))
                    except accounts.CSRFError:
                        return refuse(ctx, 403, ctx._("The form is not valid any more (security "
                                                      "token). Open the page again."))
            return await func(ctx)

        endpoint.roles = frozenset(roles)  # type: ignore[attr-defined]
        return endpoint

    return decorate


def _serves(ctx: Ctx) -> bool:
    """The station has a point, and the user may see it (operators and supervisors: theirs)."""
    point = ctx.station.point
    return point is not None and ctx.station.point_db is not None and accounts.can_see_point(
        ctx.user, point.code)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def local_target(value: str | None, default: str = "/") -> str:
    """``value`` when it is a path of this application (no scheme, no host), else ``default``:
    a redirect never leaves the application."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme or parsed.netloc:
        return default
    return value


def set_cookie(ctx: Ctx, response: Response, name: str, value: str, *,
               max_age: int | None = None, http_only: bool = True) -> None:  # fmt: skip
    response.set_cookie(name, value, max_age=max_age, path="/", secure=ctx.station.secure_cookies,
                        httponly=http_only, samesite="strict")  # fmt: skip


def home_of(user: accounts.User) -> str:
    """Where a user lands after logging in."""
    return {Role.OPERATOR: "/queue", Role.SUPERVISOR: "/queue", Role.AUDITOR: "/audit",
            Role.ADMINISTRATOR: "/users"}[user.role]  # fmt: skip


def problems_of(exc: Exception) -> list[tuple[str, str]]:
    """The (field, reason) pairs of a typed refusal."""
    found = getattr(exc, "problems", None)
    if isinstance(found, (list, tuple)) and found:
        return [(str(f), str(r)) for f, r in found]
    return [(str(getattr(exc, "field", "")), str(getattr(exc, "reason", exc)))]


def by_field(problems: list[tuple[str, str]]) -> Mapping[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f, reason in problems:
        out.setdefault(f, []).append(reason)
    return out
