"""The accounts' use cases on the Center's database: one function, one transaction each.

Passwords are hashed with argon2id (argon2-cffi's RFC 9106 low-memory profile); a hash made
with weaker parameters is rehashed at the next successful login. ``policy.max_failures`` failed
logins in a row lock an account for ``policy.lockout``. A session's token is 32 random bytes
(URL-safe base64); the database keeps its SHA-256 only, so a copy of the database opens no
session. The CSRF token is derived from the session token (HMAC-free: SHA-256 with a domain tag),
so it needs no column and changes with the session. Every change of an account and every login
and logout is appended to the Center's audit log in the same transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

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
from station.auditlog.chain import Actor, append
from station.db import Database
from station.db.center_tables import LoginSession as SessionRow
from station.db.center_tables import Point
from station.db.center_tables import User as UserRow
from station.errors import StationError

__all__ = [
    "MIN_PASSWORD",
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

MIN_PASSWORD = 12
_LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")  # as station.point.config's operators
_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
_FAILED = "wrong login or password"


_DUMMY_HASH = ("$argon2id$v=19$m=65536,t=3,p=4$"
               "6lzO06D0SB8ZGKYY99/lcQ$NgIV88hgAXqHQd21ECvM6gaVBElheyrsxDIVmU/6dlk")
"""What an unknown login's password is checked against, so that it takes as long as a known
one's (the hash of a random password, made with :data:`_HASHER`'s parameters)."""


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise StationError("the accounts' clock must give an aware datetime (UTC)")
    return now


def _user(row: UserRow) -> User:
    return User(login=row.login, name=row.name, role=Role(row.role), point=row.point_code,
                disabled=row.disabled, created_at=row.created_at)  # fmt: skip


def _state(row: UserRow) -> dict[str, object]:
    """What the audit log hashes of an account (never the password hash)."""
    return {"login": row.login, "name": row.name, "role": row.role, "point": row.point_code,
            "disabled": row.disabled}  # fmt: skip


def _a(role: Role) -> str:
    return ("an " if role.value[0] in "aeiou" else "a ") + role.value


def _token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _csrf_of(token: str) -> str:
    return hashlib.sha256(b"idkarta csrf\n" + token.encode("utf-8")).hexdigest()


# -- administration --------------------------------------------------------------------------------


def add_user(
    db: Database,
    *,
    login: str,
    name: str,
    role: Role,
    password: str,
    point: str | None = None,
    now: datetime,
    by: Actor,
) -> User:
    """A new account. ``login``: 1-32 of a-z, 0-9, ``.``, ``_``, ``-`` (starting with a letter
    or digit), unique; ``password``: at least :data:`MIN_PASSWORD` characters; an operator or
    supervisor names a registered ``point``, an auditor or administrator none."""
    _aware(now)
    if not isinstance(login, str) or not _LOGIN.fullmatch(login):
        raise AccountError("login", "1-32 of a-z, 0-9, '.', '_', '-', starting with a-z or 0-9")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise AccountError("name", "1-200 characters, not only spaces")
    try:
        role = Role(role)
    except ValueError:
        raise AccountError("role", f"one of {', '.join(r.value for r in Role)}") from None
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AccountError("password", f"at least {MIN_PASSWORD} characters")
    if role.at_point and not point:
        raise AccountError("point", f"{_a(role)} belongs to a collection point: name it")
    if not role.at_point and point:
        raise AccountError("point", f"{_a(role)} belongs to no collection point")
    password_hash = _HASHER.hash(password)  # outside the transaction: it takes a while
    with db.session() as s:
        if point is not None and s.get(Point, point) is None:
            raise AccountError("point", f"no point {point!r} is registered at the Center")
        if s.scalar(select(UserRow.id).where(UserRow.login == login)) is not None:
            raise UserExists("login", f"{login!r} is already taken")
        row = UserRow(login=login, name=name, role=role.value, point_code=point,
                      password_hash=password_hash, disabled=False, failures=0,
                      locked_until=None, created_at=now)  # fmt: skip
        s.add(row)
        s.flush()
        append(s, by, "user.add", f"user/{login}", state=_state(row), now=now)
        return _user(row)


def disable_user(db: Database, login: str, *, now: datetime, by: Actor) -> User:
    """Disable an account (it can no longer log in) and close its open sessions. Disabling a
    disabled account changes nothing and writes no entry."""
    _aware(now)
    with db.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.login == login).with_for_update()).first()
        if row is None:
            raise UnknownUser("login", f"no user {login!r}")
        if not row.disabled:
            row.disabled = True
            s.execute(update(SessionRow)
                      .where(SessionRow.user_id == row.id, SessionRow.closed_at.is_(None))
                      .values(closed_at=now))  # fmt: skip
            append(s, by, "user.disable", f"user/{login}", state=_state(row), now=now)
        return _user(row)


def list_users(db: Database) -> list[User]:
    """Every account, by login."""
    with db.session(write=False) as s:
        return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.login))]


def get_user(db: Database, login: str) -> User:
    """The account ``login``, or :class:`UnknownUser`."""
    with db.session(write=False) as s:
        row = s.scalars(select(UserRow).where(UserRow.login == login)).first()
        if row is None:
            raise UnknownUser("login", f"no user {login!r}")
        return _user(row)


# -- login, sessions -------------------------------------------------------------------------------


def authenticate(
    db: Database, login: str, password: str, *, now: datetime, policy: Policy = DEFAULT_POLICY
) -> User:
    """The user whose login and password these are.

    :class:`AuthenticationFailed` ("wrong login or password") for an unknown login, a wrong
    password or a disabled account alike; :class:`AccountLocked` while locked (even with the
    right password). The ``policy.max_failures``-th failure in a row locks the account for
    ``policy.lockout`` (recorded in the audit log); a success resets the count."""
    _aware(now)
    # argon2 runs outside any write transaction (on SQLite one would hold the database's write
    # lock meanwhile); the outcome is written after, to the row as it is then
    with db.session(write=False) as s:
        seen = s.execute(select(UserRow.id, UserRow.password_hash, UserRow.locked_until)
                         .where(UserRow.login == login)).first()  # fmt: skip
    if seen is None:
        _verify(_DUMMY_HASH, password)
        raise AuthenticationFailed("login", _FAILED)
    user_id, seen_hash, locked_until = seen
    if locked_until is not None and now < locked_until:
        raise AccountLocked(locked_until)
    good = _verify(seen_hash, password)
    rehashed = _HASHER.hash(password) if good and _HASHER.check_needs_rehash(seen_hash) else None
    locked = None
    with db.session() as s:
        row = s.get(UserRow, user_id, with_for_update=True)
        if row is None:  # removed meanwhile
            raise AuthenticationFailed("login", _FAILED)
        if row.locked_until is not None and now < row.locked_until:  # locked meanwhile
            raise AccountLocked(row.locked_until)
        if good and not row.disabled and row.password_hash == seen_hash:
            row.failures = 0
            row.locked_until = None
            if rehashed is not None:
                row.password_hash = rehashed
            return _user(row)
        if not good and not row.disabled:
            row.failures += 1
            if row.failures >= policy.max_failures:
                row.failures = 0
                row.locked_until = locked = now + policy.lockout
                append(s, Actor.system(), "user.lock", f"user/{login}",
                       state={"locked_until": locked.isoformat()}, now=now)  # fmt: skip
    # committed: the count (and lockout) stay written although the login is refused
    if locked is not None:
        raise AccountLocked(locked)
    raise AuthenticationFailed("login", _FAILED)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def open_session(
    db: Database, user: User, *, now: datetime, policy: Policy = DEFAULT_POLICY
) -> LoginSession:
    """A new session for ``user`` (from :func:`authenticate`), recorded as a login."""
    _aware(now)
    token = secrets.token_urlsafe(32)
    expires = now + policy.lifetime
    with db.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.login == user.login)).first()
        if row is None or row.disabled:
            raise SessionInvalid("session", "the account is unknown or disabled")
        s.add(SessionRow(token_sha256=_token_sha256(token), user_id=row.id, created_at=now,
                         expires_at=expires, last_seen=now, closed_at=None))  # fmt: skip
        append(s, _user(row).actor, "session.open", f"user/{row.login}", now=now)
        return LoginSession(token=token, csrf_token=_csrf_of(token), user=_user(row),
                            expires_at=expires, last_seen=now)  # fmt: skip


def login(
    db: Database, login: str, password: str, *, now: datetime, policy: Policy = DEFAULT_POLICY
) -> LoginSession:
    """:func:`authenticate` then :func:`open_session`."""
    user = authenticate(db, login, password, now=now, policy=policy)
    return open_session(db, user, now=now, policy=policy)


def _session_row(s: Session, token: str) -> tuple[SessionRow, UserRow] | None:
    if not isinstance(token, str) or not token:
        return None
    found = s.execute(select(SessionRow, UserRow).join(UserRow, SessionRow.user_id == UserRow.id)
                      .where(SessionRow.token_sha256 == _token_sha256(token))).first()  # fmt: skip
    return None if found is None else (found[0], found[1])


def session_user(
    db: Database, token: str, *, now: datetime, policy: Policy = DEFAULT_POLICY
) -> LoginSession:
    """The open session of ``token`` (a cookie's value), its last use set to ``now``.

    :class:`SessionInvalid` when the token is unknown, or its session was closed, has expired
    (``expires_at``), was idle ``policy.idle`` or longer, or its account was disabled."""
    _aware(now)
    with db.session() as s:
        found = _session_row(s, token)
        if found is None:
            raise SessionInvalid("session", "not logged in")
        row, user = found
        if row.closed_at is not None or user.disabled:
            raise SessionInvalid("session", "the session was closed")
        if now >= row.expires_at:
            raise SessionInvalid("session", "the session has expired: log in again")
        if now - row.last_seen >= policy.idle:
            raise SessionInvalid("session", "the session was idle too long: log in again")
        row.last_seen = max(row.last_seen, now)
        return LoginSession(token=token, csrf_token=_csrf_of(token), user=_user(user),
                            expires_at=row.expires_at, last_seen=row.last_seen)  # fmt: skip


def close_session(db: Database, token: str, *, now: datetime) -> None:
    """Log out: close the session of ``token`` (an unknown or closed one: nothing happens)."""
    _aware(now)
    with db.session() as s:
        found = _session_row(s, token)
        if found is None or found[0].closed_at is not None:
            return
        row, user = found
        row.closed_at = now
        append(s, _user(user).actor, "session.close", f"user/{user.login}", now=now)


# -- checks of a request ---------------------------------------------------------------------------


def check_csrf(session: LoginSession, submitted: str | None) -> None:
    """:class:`CSRFError` unless ``submitted`` is the session's CSRF token."""
    if not isinstance(submitted, str) or not hmac.compare_digest(
        submitted.encode("utf-8"), session.csrf_token.encode("utf-8")
    ):
        raise CSRFError("csrf_token", "the form is stale or was not sent by this application")


def require_role(user: User, *roles: Role) -> None:
    """:class:`Forbidden` unless ``user`` has one of ``roles``."""
    if user.role not in roles:
        raise Forbidden("role", f"{_a(user.role)} may not do this")


def can_see_point(user: User, point: str) -> bool:
    """Whether ``user`` may see ``point``'s applications: an operator or supervisor only their
    own point's, an auditor or administrator every point's."""
    return not user.role.at_point or user.point == point
