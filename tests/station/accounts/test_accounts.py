"""Accounts on the Center's database (SQLite and PostgreSQL): users, argon2id, lockout,
sessions (lifetime, idle, logout, disabled user), CSRF, roles; each change in the audit log."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from tests.station.center.kit import setup_center

from station.accounts import (
    AccountError,
    AccountLocked,
    Actor,
    AuthenticationFailed,
    CSRFError,
    Forbidden,
    Policy,
    Role,
    SessionInvalid,
    UnknownUser,
    UserExists,
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
from station.auditlog import Entry, entries, state_hash
from station.db import Database
from station.db.center_tables import LoginSession as SessionRow
from station.db.center_tables import User as UserRow

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
ADMIN = Actor.system("root")
PASSWORD = "correct horse battery"


@pytest.fixture
def center(center_db: Database) -> Database:
    setup_center(center_db)  # points TAS01, SAM01
    return center_db


def _add(db: Database, login: str = "aziza", role: Role = Role.OPERATOR,
         point: str | None = "TAS01") -> None:  # fmt: skip
    add_user(db, login=login, name="Aziza Karimova", role=role, password=PASSWORD, point=point,
             now=NOW, by=ADMIN)  # fmt: skip


def test_add_list_and_the_password_is_an_argon2id_hash(center: Database) -> None:
    _add(center)
    _add(center, "olim", Role.AUDITOR, None)
    users = list_users(center)
    assert [(u.login, u.role, u.point, u.disabled) for u in users] == [
        ("aziza", Role.OPERATOR, "TAS01", False), ("olim", Role.AUDITOR, None, False)]
    with center.session(write=False) as s:
        stored = s.scalars(select(UserRow.password_hash).order_by(UserRow.login)).all()
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)
    assert get_user(center, "olim").role is Role.AUDITOR
    log = entries_of(center)
    assert [(e.who, e.role, e.action, e.object) for e in log] == [
        ("root", "system", "user.add", "user/aziza"), ("root", "system", "user.add", "user/olim")]
    assert log[0].state_hash is not None and len(log[0].state_hash) == 64


def entries_of(db: Database) -> list[Entry]:
    """The entries about accounts (setup_center's points and series have theirs too)."""
    with db.session(write=False) as s:
        return [e for e in entries(s) if e.object.startswith("user/")]


LOGIN_RULE = "login: 1-32 of a-z, 0-9, '.', '_', '-', starting with a-z or 0-9"


@pytest.mark.parametrize(("changes", "message", "kind"), [
    ({"login": "Aziza"}, LOGIN_RULE, AccountError),
    ({"login": ""}, LOGIN_RULE, AccountError),
    ({"login": "a" * 33}, LOGIN_RULE, AccountError),
    ({"name": "  "}, "name: 1-200 characters, not only spaces", AccountError),
    ({"name": "n" * 201}, "name: 1-200 characters, not only spaces", AccountError),
    ({"password": "p" * 11}, "password: at least 12 characters", AccountError),
    ({"role": "root"}, "role: one of operator, supervisor, auditor, administrator", AccountError),
    ({"point": None}, "point: an operator belongs to a collection point: name it", AccountError),
    ({"role": Role.SUPERVISOR, "point": ""},
     "point: a supervisor belongs to a collection point: name it", AccountError),
    ({"role": Role.AUDITOR}, "point: an auditor belongs to no collection point", AccountError),
    ({"role": Role.ADMINISTRATOR},
     "point: an administrator belongs to no collection point", AccountError),
    ({"point": "NOPE"}, "point: no point 'NOPE' is registered at the Center", AccountError),
    ({"login": "taken"}, "login: 'taken' is already taken", UserExists),
])  # fmt: skip
def test_add_user_refusals_name_the_field_and_write_nothing(
    center: Database, changes: dict[str, object], message: str, kind: type[AccountError]
) -> None:
    _add(center, "taken")
    args: dict[str, object] = {"login": "new", "name": "N", "role": Role.OPERATOR,
                               "password": PASSWORD, "point": "TAS01"} | changes  # fmt: skip
    with pytest.raises(kind) as info:
        add_user(center, now=NOW, by=ADMIN, **args)  # type: ignore[arg-type]
    assert type(info.value) is kind and str(info.value) == message
    assert info.value.field == message.split(":")[0]
    assert [u.login for u in list_users(center)] == ["taken"]
    assert len(entries_of(center)) == 1


def test_an_unknown_login_costs_an_argon2_verification_too() -> None:
    """The dummy hash an unknown login is checked against is a well-formed hash made with the
    hasher's parameters (a malformed one would answer at once: a timing oracle)."""
    from argon2 import extract_parameters

    from station.accounts import service

    assert not service._HASHER.check_needs_rehash(service._DUMMY_HASH)
    assert extract_parameters(service._DUMMY_HASH) == service._HASHER._parameters
    assert service._verify(service._DUMMY_HASH, PASSWORD) is False


def test_authenticate_one_message_for_unknown_wrong_and_disabled(center: Database) -> None:
    _add(center)
    assert authenticate(center, "aziza", PASSWORD, now=NOW).login == "aziza"
    messages = set()
    for who, password in (("nobody", PASSWORD), ("aziza", "wrong password!")):
        with pytest.raises(AuthenticationFailed) as info:
            authenticate(center, who, password, now=NOW)
        assert type(info.value) is AuthenticationFailed
        assert (info.value.field, info.value.reason) == ("login", "wrong login or password")
        messages.add(str(info.value))
    disable_user(center, "aziza", now=NOW, by=ADMIN)
    with pytest.raises(AuthenticationFailed) as disabled:
        authenticate(center, "aziza", PASSWORD, now=NOW)
    messages.add(str(disabled.value))
    assert messages == {"login: wrong login or password"}


def test_lockout_after_max_failures_for_the_cooling_time(center: Database) -> None:
    _add(center)
    policy = Policy(max_failures=3, lockout=timedelta(minutes=10))
    for _ in range(2):
        with pytest.raises(AuthenticationFailed) as info:
            authenticate(center, "aziza", "wrong password!", now=NOW, policy=policy)
        assert type(info.value) is AuthenticationFailed
    with pytest.raises(AccountLocked) as third:
        authenticate(center, "aziza", "wrong password!", now=NOW, policy=policy)
    assert third.value.until == NOW + timedelta(minutes=10)
    assert str(third.value) == ("login: too many failed logins: the account is locked for a "
                                "while")
    # locked: the right password is refused too, until the cooling time has passed
    with pytest.raises(AccountLocked):
        authenticate(center, "aziza", PASSWORD, now=NOW + timedelta(minutes=9, seconds=59),
                     policy=policy)  # fmt: skip
    assert authenticate(center, "aziza", PASSWORD, now=NOW + timedelta(minutes=10),
                        policy=policy).login == "aziza"  # fmt: skip
    assert [e.action for e in entries_of(center)] == ["user.add", "user.lock"]
    assert entries_of(center)[1].state_hash == state_hash(
        {"locked_until": (NOW + timedelta(minutes=10)).isoformat()})
    # a success resets the count: two more failures do not lock
    for _ in range(2):
        with pytest.raises(AuthenticationFailed) as again:
            authenticate(center, "aziza", "wrong", now=NOW + timedelta(minutes=11), policy=policy)
        assert type(again.value) is AuthenticationFailed


def test_session_token_is_stored_hashed_and_ends_by_logout(center: Database) -> None:
    _add(center)
    session = login(center, "aziza", PASSWORD, now=NOW)
    assert len(session.token) >= 43 and session.token not in repr(session)
    with center.session(write=False) as s:
        stored = s.scalars(select(SessionRow.token_sha256)).all()
    assert len(stored) == 1 and session.token not in stored[0]
    assert stored[0] == hashlib.sha256(session.token.encode()).hexdigest()
    # the CSRF token: derived from the session's token under its own tag, not the stored hash
    assert session.csrf_token == hashlib.sha256(b"idkarta csrf\n" + session.token.encode()
                                                ).hexdigest() != stored[0]  # fmt: skip
    later = session_user(center, session.token, now=NOW + timedelta(minutes=5))
    assert later.user.login == "aziza" and later.csrf_token == session.csrf_token
    assert later.last_seen == NOW + timedelta(minutes=5)
    close_session(center, session.token, now=NOW + timedelta(minutes=6))
    with pytest.raises(SessionInvalid) as closed:
        session_user(center, session.token, now=NOW + timedelta(minutes=7))
    assert str(closed.value) == "session: the session was closed"
    close_session(center, session.token, now=NOW + timedelta(minutes=8))  # no-op
    close_session(center, "not a token", now=NOW)
    assert [e.action for e in entries_of(center)] == ["user.add", "session.open", "session.close"]
    for nothing in ("", "not a token", None):
        with pytest.raises(SessionInvalid) as unknown:
            session_user(center, nothing, now=NOW)  # type: ignore[arg-type]
        assert str(unknown.value) == "session: not logged in"


def test_session_idle_and_lifetime_limits(center: Database) -> None:
    _add(center)
    policy = Policy(lifetime=timedelta(hours=1), idle=timedelta(minutes=20))
    session = login(center, "aziza", PASSWORD, now=NOW, policy=policy)
    t = NOW
    for _ in range(3):  # used every 19 minutes: stays open until the lifetime ends
        t += timedelta(minutes=19)
        session_user(center, session.token, now=t, policy=policy)
    with pytest.raises(SessionInvalid) as expired:
        session_user(center, session.token, now=NOW + timedelta(hours=1), policy=policy)
    assert str(expired.value) == "session: the session has expired: log in again"
    idle = login(center, "aziza", PASSWORD, now=NOW, policy=policy)
    session_user(center, idle.token, now=NOW + timedelta(minutes=19, seconds=59), policy=policy)
    with pytest.raises(SessionInvalid) as info:
        session_user(center, idle.token, now=NOW + timedelta(minutes=39, seconds=59),
                     policy=policy)  # fmt: skip
    assert str(info.value) == "session: the session was idle too long: log in again"


def test_disabling_closes_the_sessions(center: Database) -> None:
    _add(center)
    session = login(center, "aziza", PASSWORD, now=NOW)
    assert disable_user(center, "aziza", now=NOW, by=ADMIN).disabled
    with pytest.raises(SessionInvalid) as ended:
        session_user(center, session.token, now=NOW)
    assert str(ended.value) == "session: the session was closed"
    with pytest.raises(SessionInvalid) as refused:
        open_session(center, get_user(center, "aziza"), now=NOW)
    assert str(refused.value) == "session: the account is unknown or disabled"
    disable_user(center, "aziza", now=NOW, by=ADMIN)  # again: nothing more written
    assert [e.action for e in entries_of(center)] == ["user.add", "session.open", "user.disable"]
    with pytest.raises(UnknownUser) as unknown:
        disable_user(center, "nobody", now=NOW, by=ADMIN)
    assert str(unknown.value) == "login: no user 'nobody'"
    with pytest.raises(UnknownUser) as unknown:
        get_user(center, "nobody")
    assert str(unknown.value) == "login: no user 'nobody'"


def test_csrf_roles_and_points(center: Database) -> None:
    _add(center)
    _add(center, "dilnoza", Role.SUPERVISOR, "SAM01")
    _add(center, "olim", Role.AUDITOR, None)
    session = login(center, "aziza", PASSWORD, now=NOW)
    other = login(center, "dilnoza", PASSWORD, now=NOW)
    check_csrf(session, session.csrf_token)
    for bad in (None, "", other.csrf_token, session.csrf_token[:-1]):
        with pytest.raises(CSRFError) as refused:
            check_csrf(session, bad)
        assert (refused.value.field, refused.value.reason) == (
            "csrf_token", "the form is stale or was not sent by this application")
    require_role(session.user, Role.OPERATOR, Role.SUPERVISOR)
    with pytest.raises(Forbidden) as info:
        require_role(session.user, Role.SUPERVISOR)
    assert str(info.value) == "role: an operator may not do this"
    auditor = get_user(center, "olim")
    assert can_see_point(session.user, "TAS01") and not can_see_point(session.user, "SAM01")
    assert can_see_point(other.user, "SAM01") and not can_see_point(other.user, "TAS01")
    assert can_see_point(auditor, "TAS01") and can_see_point(auditor, "SAM01")


def test_naive_clock_is_refused(center: Database) -> None:
    with pytest.raises(Exception, match="aware"):
        authenticate(center, "x", "y", now=datetime(2026, 12, 5))


def test_a_weaker_hash_is_replaced_at_the_next_login(center: Database) -> None:
    from argon2 import PasswordHasher

    _add(center)
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    with center.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.login == "aziza")).one()
        row.password_hash = weak
    with pytest.raises(AuthenticationFailed):  # a wrong password changes no hash
        authenticate(center, "aziza", "wrong password!", now=NOW)
    assert _stored_hash(center) == weak
    authenticate(center, "aziza", PASSWORD, now=NOW)
    stronger = _stored_hash(center)
    assert stronger != weak and stronger.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert authenticate(center, "aziza", PASSWORD, now=NOW).login == "aziza"


def _stored_hash(db: Database) -> str:
    with db.session(write=False) as s:
        return s.scalars(select(UserRow.password_hash).where(UserRow.login == "aziza")).one()


def test_concurrent_failures_are_all_counted(center: Database) -> None:
    _add(center)
    policy = Policy(max_failures=4)
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            authenticate(center, "aziza", "wrong password!", now=NOW, policy=policy)
        except AccountLocked:
            outcomes.append("locked")
        except AuthenticationFailed:
            outcomes.append("failed")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["failed", "failed", "failed", "locked"]
    with pytest.raises(AccountLocked):
        authenticate(center, "aziza", PASSWORD, now=NOW, policy=policy)


def test_disabling_closes_that_user_s_sessions_only(center: Database) -> None:
    _add(center)
    _add(center, "bobur")
    hers = login(center, "aziza", PASSWORD, now=NOW)
    his = login(center, "bobur", PASSWORD, now=NOW)
    assert len(hers.token) == 43 and hers.last_seen == NOW  # 32 random bytes, URL-safe base64
    later = NOW + timedelta(minutes=3)
    disable_user(center, "aziza", now=later, by=ADMIN)
    with center.session(write=False) as s:
        closed = dict(s.execute(select(UserRow.login, SessionRow.closed_at)
                                .join(UserRow, SessionRow.user_id == UserRow.id)).all())
    assert closed == {"aziza": later, "bobur": None}
    assert session_user(center, his.token, now=later).user.login == "bobur"
    (entry,) = [e for e in entries_of(center) if e.action == "user.disable"]
    assert entry.state_hash == state_hash({"login": "aziza", "name": "Aziza Karimova",
                                           "role": "operator", "point": "TAS01",
                                           "disabled": True})  # fmt: skip


def test_list_users_is_sorted_by_login(center: Database) -> None:
    for name in ("zafar", "aziza", "malika"):
        _add(center, name)
    assert [(u.login, u.name, u.created_at) for u in list_users(center)] == [
        (login, "Aziza Karimova", NOW) for login in ("aziza", "malika", "zafar")]


def test_after_a_lockout_the_count_starts_again(center: Database) -> None:
    _add(center)
    policy = Policy(max_failures=3, lockout=timedelta(minutes=10))
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            authenticate(center, "aziza", "wrong password!", now=NOW, policy=policy)
    with pytest.raises(AccountLocked):
        authenticate(center, "aziza", "wrong password!", now=NOW, policy=policy)
    after = NOW + timedelta(minutes=10)
    for _ in range(2):  # two failures after the lockout ended: not yet a new lockout
        with pytest.raises(AuthenticationFailed) as failed:
            authenticate(center, "aziza", "wrong password!", now=after, policy=policy)
        assert type(failed.value) is AuthenticationFailed
    stored = _stored_hash(center)
    assert authenticate(center, "aziza", PASSWORD, now=after, policy=policy).login == "aziza"
    assert _stored_hash(center) == stored  # a current hash is not made anew at each login


def test_a_locked_account_is_refused_before_any_password_check(
    center: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from station.accounts import service

    _add(center)
    with pytest.raises(AccountLocked):
        login(center, "aziza", "wrong password!", now=NOW, policy=Policy(max_failures=1))
    checked: list[str] = []
    monkeypatch.setattr(service, "_verify", lambda h, p: checked.append(p) or False)
    with pytest.raises(AccountLocked):
        authenticate(center, "aziza", PASSWORD, now=NOW)
    assert checked == []  # no argon2 work for a locked account
