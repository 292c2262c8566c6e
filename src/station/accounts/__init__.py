"""Accounts of the web application: roles, argon2id passwords, lockout, login sessions, CSRF.

Everything lives in the Center's database; every change of an account, every login and logout
is appended to the Center's audit log (:mod:`station.auditlog`) in the same transaction::

    user = authenticate(db, "aziza", password, now=now)      # AuthenticationFailed, AccountLocked
    session = open_session(db, user, now=now)                # session.token → the cookie
    session = session_user(db, cookie, now=now)              # SessionInvalid
    check_csrf(session, form["csrf_token"])                  # CSRFError
    require_role(session.user, Role.SUPERVISOR)              # Forbidden
"""

from station.accounts.models import (
    DEFAULT_POLICY,
    AccountError,
    AccountLocked,
    AuthenticationFailed,
    CSRFError,
    Forbidden,
    LoginSession,
    Policy,
    Role,
    SessionInvalid,
    UnknownUser,
    User,
    UserExists,
)
from station.accounts.service import (
    MIN_PASSWORD,
    add_user,
    authenticate,
    can_see_point,
    check_csrf,
    close_session,
    disable_user,
    get_user,
    list_users,
    login,
    open_session,
    require_role,
    session_user,
)
from station.auditlog.chain import Actor

__all__ = [
    "DEFAULT_POLICY",
    "MIN_PASSWORD",
    "AccountError",
    "AccountLocked",
    "Actor",
    "AuthenticationFailed",
    "CSRFError",
    "Forbidden",
    "LoginSession",
    "Policy",
    "Role",
    "SessionInvalid",
    "UnknownUser",
    "User",
    "UserExists",
    "add_user",
    "authenticate",
    "can_see_point",
    "check_csrf",
    "close_session",
    "disable_user",
    "get_user",
    "list_users",
    "login",
    "open_session",
    "require_role",
    "session_user",
]
