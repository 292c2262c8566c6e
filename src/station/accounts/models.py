"""The accounts' values and refusals: roles, users, login sessions, the lockout and session policy.

Pure data, no I/O: :mod:`station.accounts.service` reads and writes them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from station.auditlog.chain import Actor
from station.errors import StationError

__all__ = [
    "DEFAULT_POLICY",
    "AccountError",
    "AccountLocked",
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
]


class Role(enum.StrEnum):
    """What a user may do. Operators and supervisors belong to one collection point (the
    supervisor approves what needs a second person); auditors read everything and the audit
    log; administrators manage the accounts."""

    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"

    @property
    def at_point(self) -> bool:
        """Whether a user of this role belongs to a collection point."""
        return self in (Role.OPERATOR, Role.SUPERVISOR)


@dataclass(frozen=True, slots=True)
class User:
    """An account as the web application sees it (never its password hash)."""

    login: str
    name: str
    role: Role
    point: str | None  # the point's code (operators and supervisors), else None
    disabled: bool
    created_at: datetime

    @property
    def actor(self) -> Actor:
        """The user as the audit log records them."""
        return Actor(login=self.login, role=self.role.value, point=self.point)


@dataclass(frozen=True, slots=True)
class Policy:
    """Lockout and session limits: ``max_failures`` failed logins in a row lock the account for
    ``lockout``; a session ends ``lifetime`` after login or ``idle`` after its last use."""

    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    lifetime: timedelta = timedelta(hours=8)
    idle: timedelta = timedelta(minutes=30)


DEFAULT_POLICY = Policy()


@dataclass(frozen=True, slots=True)
class LoginSession:
    """An open session. ``token`` is the cookie's value (the database keeps only its SHA-256);
    ``csrf_token`` goes into a hidden field of every state-changing form
    (:func:`station.accounts.check_csrf`)."""

    token: str
    csrf_token: str
    user: User
    expires_at: datetime
    last_seen: datetime

    def __repr__(self) -> str:  # the tokens are secrets
        return f"LoginSession(user={self.user.login!r}, expires_at={self.expires_at.isoformat()})"


class AccountError(StationError):
    """A refusal of the accounts service: ``field`` names what is wrong, ``reason`` why."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class UserExists(AccountError):
    """The login is already taken."""


class UnknownUser(AccountError):
    """No user has this login."""


class AuthenticationFailed(AccountError):
    """Wrong login or password, or a disabled account (one message for all: no oracle)."""


class AccountLocked(AuthenticationFailed):
    """Too many failed logins in a row: refused until ``until`` (UTC), whatever the password."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__("login", "too many failed logins: the account is locked for a while")


class SessionInvalid(AccountError):
    """No such session, or it was closed, expired, idle too long, or its user was disabled."""


class CSRFError(AccountError):
    """A state-changing request without the session's CSRF token."""


class Forbidden(AccountError):
    """The user's role (or point) does not allow this."""
