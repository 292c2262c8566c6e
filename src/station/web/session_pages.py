"""Logging in and out, and the language switch."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from station import accounts
from station.web import i18n
from station.web.app import (
    LANG_COOKIE,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Ctx,
    Role,
    home_of,
    local_target,
    page,
    refuse,
    render,
    set_cookie,
)
from station.web.security import new_token, same_token

__all__ = ["home", "language", "login", "login_form", "logout"]


@page()
async def login_form(ctx: Ctx) -> Response:
    """The login page (a fresh double-submit token in a cookie and in the form)."""
    token = new_token()
    response = render(ctx, "login.html", login_token=token, error=None, login="",
                      next=local_target(ctx.request.query_params.get("next"), ""))  # fmt: skip
    set_cookie(ctx, response, LOGIN_COOKIE, token)
    return response


@page()
async def login(ctx: Ctx) -> Response:
    """Check the password (accounts: argon2id, lockout), open a session, go to the user's home."""
    if not same_token(ctx.field("csrf"), ctx.request.cookies.get(LOGIN_COOKIE)):
        return refuse(ctx, 403, ctx._("The form is not valid any more (security token). Open "
                                      "the page again."))
    login_name, password = ctx.field("login"), ctx.field("password")
    target = local_target(ctx.field("next"), "")
    station = ctx.station
    try:
        user = await ctx.call(accounts.authenticate, station.center_db, login_name, password,
                              now=ctx.now, policy=station.policy)  # fmt: skip
        session = await ctx.call(accounts.open_session, station.center_db, user, now=ctx.now,
                                 policy=station.policy)  # fmt: skip
    except accounts.AccountLocked as exc:
        error = ctx._("Too many failed attempts: this login is locked until %(time)s.") % {
            "time": i18n.format_datetime(exc.until)}
        return _login_again(ctx, error, login_name, target)
    except accounts.AuthenticationFailed:
        return _login_again(ctx, ctx._("Wrong login or password."), login_name, target)
    old = ctx.request.cookies.get(SESSION_COOKIE)
    if old:  # the browser's previous session ends with the new login
        await ctx.call(accounts.close_session, station.center_db, old, now=ctx.now)
    response = RedirectResponse(target or home_of(user), status_code=303)
    lifetime = int(station.policy.lifetime.total_seconds())
    set_cookie(ctx, response, SESSION_COOKIE, session.token, max_age=lifetime)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


def _login_again(ctx: Ctx, error: str, login_name: str, target: str) -> Response:
    token = new_token()
    response = render(ctx, "login.html", status=401, login_token=token, error=error,
                      login=login_name, next=target)  # fmt: skip
    set_cookie(ctx, response, LOGIN_COOKIE, token)
    return response


@page(*Role)
async def logout(ctx: Ctx) -> Response:
    """Close the session (CSRF-checked like every state change)."""
    token = ctx.request.cookies.get(SESSION_COOKIE, "")
    await ctx.call(accounts.close_session, ctx.station.center_db, token, now=ctx.now)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@page()
async def language(ctx: Ctx) -> Response:
    """Switch the language (a preference cookie; nothing else changes) and go back."""
    code = i18n.language(ctx.request.path_params.get("code"))
    target = local_target(ctx.request.query_params.get("next"))
    response = RedirectResponse(target, status_code=303)
    set_cookie(ctx, response, LANG_COOKIE, code, max_age=365 * 24 * 3600)
    return response


@page()
async def home(ctx: Ctx) -> Response:
    if ctx.session is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(home_of(ctx.user), status_code=303)

