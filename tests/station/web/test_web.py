"""The web application in process (Starlette's test client over httpx), on SQLite and
PostgreSQL: every page's role check, CSRF on every POST, the security headers, redirects that
stay inside the application, the printed documents, dates as dd.mm.yyyy."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.routing import Route
from starlette.testclient import TestClient
from tests.conftest import require_tool
from tests.station.point.conftest import NOW, POINT, adult_form

from station import accounts, auditlog
from station.api import create_app
from station.auditlog import Actor
from station.center import service as center_service
from station.client import CenterClient
from station.db import Database
from station.db.point_job_tables import Job as JobRow
from station.point import service, stock
from station.point.models import ApplicationStatus
from station.web import WebStation, create_web_app, routes
from station.web.app import local_target
from station.web.i18n import format_date, format_datetime
from station.web.security import CSP

PASSWORD = "correct horse battery"
PUBLIC = {("/", "GET"), ("/login", "GET"), ("/login", "POST"), ("/lang/{code}", "GET")}
CLOCK = NOW + timedelta(days=3)  # Monday 7 December 2026, 09:30 UTC


@pytest.fixture
def web(center_db: Database, point_db: Database) -> Iterator[tuple[TestClient, Database, str]]:
    """(client, the point's database, an accepted application's id) over a Center with point
    TAS-01 and the users aziza (operator), dilnoza (supervisor), umid (auditor), admin."""
    center_service.register_point(center_db, code=POINT.code, name=POINT.name, kind=POINT.kind,
                                  place_code=POINT.place_code, now=NOW)  # fmt: skip
    center_service.open_series(center_db, "AD")
    for login, role, point in (("aziza", accounts.Role.OPERATOR, "TAS-01"),
                               ("dilnoza", accounts.Role.SUPERVISOR, "TAS-01"),
                               ("umid", accounts.Role.AUDITOR, None),
                               ("admin", accounts.Role.ADMINISTRATOR, None)):  # fmt: skip
        accounts.add_user(center_db, login=login, name=login.title(), role=role,
                          password=PASSWORD, point=point, now=NOW, by=Actor.system())  # fmt: skip
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW)
    with CenterClient.in_process(create_app(center_db, clock=lambda: CLOCK)) as center:
        station = WebStation(center_db=center_db, point=POINT, point_db=point_db,
                             center=center, clock=lambda: CLOCK)  # fmt: skip
        with TestClient(create_web_app(station), base_url="https://testserver",
                        follow_redirects=False) as client:  # fmt: skip
            yield client, point_db, app.id


def log_in(client: TestClient, login: str, password: str = PASSWORD) -> str:
    """Log in as ``login``; the session's CSRF token (from the queue or audit page's form)."""
    page = client.get("/login")
    token = re.search(r'action="/login"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]+)"',
                      page.text)  # the login form's own token (a logout form may come first)
    assert token
    response = client.post("/login", data={"login": login, "password": password,
                                           "csrf": token[1]})  # fmt: skip
    assert response.status_code == 303, response.text
    home = client.get(response.headers["location"])
    found = re.search(r'name="csrf" value="([^"]+)"', home.text)
    assert found
    return found[1]


def test_every_route_names_its_roles() -> None:
    """A page without a role check is one of the four public ones."""
    unchecked = set()
    for route in routes():
        if not isinstance(route, Route):
            continue
        for method in (route.methods or set()) - {"HEAD"}:
            if not getattr(route.endpoint, "roles", None):
                unchecked.add((route.path, method))
    assert unchecked == PUBLIC


def test_security_headers_on_every_kind_of_response(web: Any) -> None:
    client, _, app_id = web
    responses = [client.get("/login"), client.get("/queue"), client.get("/static/style.css")]
    log_in(client, "umid")
    responses += [client.get("/applications/new"), client.get(f"/applications/{app_id}"),
                  client.get("/applications/nothing-here")]  # fmt: skip
    assert [r.status_code for r in responses] == [200, 303, 200, 403, 200, 404]
    for r in responses:
        assert r.headers["content-security-policy"] == CSP
        assert "frame-ancestors 'none'" in CSP and "script-src 'none'" in CSP
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
    assert "<script" not in responses[0].text + responses[4].text
    assert responses[4].headers["cache-control"] == "no-store"


def test_session_cookie_is_secure_httponly_strict(web: Any) -> None:
    client, _, _ = web
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    response = client.post("/login", data={"login": "aziza", "password": PASSWORD,
                                           "csrf": token[1]})  # fmt: skip
    cookie = next(c for c in response.headers.get_list("set-cookie")
                  if c.startswith("idk_session="))  # fmt: skip
    parts = {p.strip().lower() for p in cookie.split(";")}
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= parts
    assert response.headers["location"] == "/queue"


def test_login_without_its_form_token_is_refused(web: Any) -> None:
    client, _, _ = web
    client.get("/login")
    response = client.post("/login", data={"login": "aziza", "password": PASSWORD})
    assert response.status_code == 403 and "idk_session" not in response.headers.get(
        "set-cookie", "")


def test_wrong_password_and_lockout_say_so_without_an_oracle(web: Any) -> None:
    client, _, _ = web
    texts = []
    for login in ("aziza", "nobody"):
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token
        r = client.post("/login", data={"login": login, "password": "wrong password!",
                                        "csrf": token[1]})  # fmt: skip
        assert r.status_code == 401
        texts.append(re.sub(r'value="[^"]*"', "", r.text))
    assert texts[0].replace("aziza", "nobody") == texts[1]  # the same page for both
    assert "Login yoki parol notoʻgʻri." in texts[0]
    for _ in range(5):
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token
        r = client.post("/login", data={"login": "aziza", "password": PASSWORD + "x",
                                        "csrf": token[1]})  # fmt: skip
    assert "bloklangan" in r.text  # locked: even the right password is refused now
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    r = client.post("/login", data={"login": "aziza", "password": PASSWORD, "csrf": token[1]})
    assert r.status_code == 401 and "bloklangan" in r.text


POSTS = ["/applications/{id}/submit", "/applications/{id}/mark", "/applications/{id}/refuse",
         "/applications/{id}/handover", "/applications", "/replacements", "/logout"]


def test_every_post_without_the_csrf_token_is_refused(web: Any) -> None:
    """403 without a token or with a wrong one, on every state-changing route; the application
    is as it was, and the session still open (the logout was refused too)."""
    client, point_db, app_id = web
    log_in(client, "aziza")
    for path in POSTS:
        for data in ({}, {"csrf": "forged"}):
            response = client.post(path.format(id=app_id), data=data)
            assert (path, response.status_code) == (path, 403)
            assert "xavfsizlik" in response.text
    assert service.status(point_db, app_id).status is ApplicationStatus.ACCEPTED
    assert client.get("/queue").status_code == 200


ROLES = [
    ("umid", "GET", "/queue", 200),  # the auditor reads
    ("umid", "POST", "/applications/{id}/submit", 403),  # but does not act
    ("umid", "GET", "/users", 403),
    ("admin", "GET", "/queue", 403),
    ("admin", "GET", "/users", 200),
    ("admin", "GET", "/audit", 200),
    ("aziza", "GET", "/audit", 403),
    ("aziza", "GET", "/overdue", 403),
    ("aziza", "GET", "/users", 403),
    ("dilnoza", "GET", "/overdue", 200),
    ("dilnoza", "GET", "/approvals", 200),
    ("dilnoza", "GET", "/stock", 200),
    ("umid", "GET", "/stock", 200),
    ("aziza", "GET", "/stock", 403),
    ("aziza", "GET", "/jobs", 200),
    ("admin", "GET", "/jobs", 403),
    ("admin", "GET", "/stock", 403),
    ("dilnoza", "POST", "/applications/{id}/submit", 200),  # last: it changes the application
]  # fmt: skip


def test_roles(web: Any) -> None:
    """Each role on pages it may and may not open; a refused POST changes nothing."""
    client, point_db, app_id = web
    for login, method, path, status in ROLES:
        client.cookies.clear()
        csrf = log_in(client, login)
        response = client.request(method, path.format(id=app_id),
                                  data={"csrf": csrf} if method == "POST" else None)  # fmt: skip
        assert (login, path, response.status_code) == (login, path, status)
        after = service.status(point_db, app_id).status
        assert after is (ApplicationStatus.RETURNED if status == 200 and method == "POST"
                         else ApplicationStatus.ACCEPTED)  # fmt: skip
    with point_db.session(write=False) as session:
        submitted = [e for e in auditlog.entries(session) if e.action == "application.submit"]
    assert [(e.who, e.role, e.point) for e in submitted] == [("dilnoza", "supervisor", "TAS-01")]


def test_no_session_goes_to_the_login_page_and_back(web: Any) -> None:
    client, _, app_id = web
    response = client.get(f"/applications/{app_id}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=%2Fapplications%2F{app_id}"
    assert client.post(f"/applications/{app_id}/submit").status_code == 401


def test_overdue_mark_in_the_queue(web: Any) -> None:
    """Accepted Friday 4 December, due Monday 7th: on Monday due today, Tuesday overdue."""
    client, _, _ = web
    log_in(client, "aziza")
    page = client.get("/queue").text
    assert "07.12.2026 · muddati bugun" in page and 'class="late"' not in page


def test_the_blank_stock_page_shows_the_day_and_each_spoiled_blank(web: Any) -> None:
    """Issue 11's blank stock for the supervisor: the day's movement as
    station.point.stock.daily_report counts it (Tashkent's day), whether it balances, and each
    spoiled blank with its reason."""
    client, point_db, _ = web
    received = stock.receive(point_db, batch="B-2026-12", now=CLOCK - timedelta(hours=1),
                             blanks=[stock.BlankSpec(f"CHIP{n}", b"\x80\x31") for n in range(3)])
    with point_db.session() as session:
        taken = stock.take_blank(session, job="job-1", card="AD0000001")
        stock.end_blank(session, taken.id, stock.BlankStatus.SPOILED, now=CLOCK,
                        reason="read-back gate: passive authentication failed")  # fmt: skip
    assert [b.serial for b in received] == ["CHIP0", "CHIP1", "CHIP2"]
    log_in(client, "dilnoza")
    page = client.get("/stock").text
    movement = re.search(r'<table class="list" id="movement">.*?<tbody><tr>(.*?)</tr>', page, re.S)
    assert movement and re.findall(r"<td>(\d+)</td>", movement[1]) == ["0", "3", "0", "1", "2"]
    assert "Kun hisobi mos keladi." in page  # balanced, in Uzbek (the default)
    assert re.search(r"<td>CHIP0</td><td>B-2026-12</td><td>AD0000001</td><td>[0-9.: ]+</td>"
                     r"<td>read-back gate: passive authentication failed</td>", page)  # fmt: skip
    assert "Hozir zaxiradagi blankalar: 2" in page


def test_the_personalization_page_follows_each_job(web: Any) -> None:
    """Issue 11's jobs as the operator sees them: the step of the seven, and a page that reloads
    itself (meta refresh, no script) only while a job runs."""
    client, point_db, app_id = web
    log_in(client, "aziza")
    page = client.get("/jobs").text
    assert "Hali shaxsiylashtirish ishi yoʻq." in page and 'http-equiv="refresh"' not in page
    with point_db.session() as session:  # a job at its fourth step, as the runner records it
        session.add(JobRow(id="job-1", application_id=app_id, reader="virtual-1",
                           card="AD0000001", status="running", step="personalize",
                           phase="started", blanks_used=1, can="123456", created_at=CLOCK,
                           updated_at=CLOCK))  # fmt: skip
    page = client.get("/jobs").text
    assert '<meta http-equiv="refresh" content="3">' in page
    assert re.search(r"<td>AD0000001</td>\s*<td>virtual-1</td>\s*<td><label>Chip yozilmoqda "
                     r'<progress max="7" value="4">4/7</progress></label></td>\s*<td>1</td>\s*'
                     r"<td>bajarilmoqda</td>", page)  # fmt: skip
    with point_db.session() as session:
        row = session.get(JobRow, "job-1")
        row.status, row.step, row.phase = "ready", "ready", "pending"
    page = client.get("/jobs").text
    assert 'http-equiv="refresh"' not in page and "<td>tayyor</td>" in page


@given(st.text(max_size=40))
def test_redirects_never_leave_the_application(value: str) -> None:
    target = local_target(value)
    assert target == "/" or (target == value and value.startswith("/")
                             and not value.startswith("//") and "\\" not in value)  # fmt: skip
    for evil in ("//evil.example", "https://evil.example/", "/\\evil.example", "javascript:x"):
        assert local_target(evil) == "/"


def test_dates_are_dd_mm_yyyy_in_tashkent() -> None:
    assert format_date(date(2026, 2, 1)) == "01.02.2026"
    late = datetime(2026, 12, 4, 20, 30, tzinfo=UTC)  # 01:30 on the 5th in Tashkent
    assert format_date(late) == "05.12.2026" and format_datetime(late) == "05.12.2026 01:30"
    assert format_date(None) == ""


def test_acknowledgement_pdf_names_the_number_and_due_date(web: Any) -> None:
    client, _, app_id = web
    log_in(client, "aziza")
    response = client.get(f"/applications/{app_id}/acknowledgement.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content == client.get(f"/applications/{app_id}/acknowledgement.pdf").content
    text = subprocess.run([require_tool("pdftotext"), "-", "-"], input=response.content,
                          capture_output=True, check=True).stdout.decode()  # fmt: skip
    assert app_id in text and "07.12.2026" in text and "Gʻulomov Oʻtkir" in text
    form = client.get(f"/applications/{app_id}/form.pdf")
    assert form.status_code == 200 and form.content.startswith(b"%PDF")
    assert client.get(f"/applications/{app_id}/other.pdf").status_code == 404
    assert client.get(f"/applications/{app_id}/refusal.pdf").status_code == 404


def test_the_auditor_sees_the_logs_and_a_changed_entry(web: Any) -> None:
    """The audit page lists the point's entries and says the chain is intact; after an entry is
    changed in the database, it says the chain is broken and names the entry."""
    from sqlalchemy import update

    from station.db.point_tables import AuditEntry

    client, point_db, _ = web
    log_in(client, "umid")
    page = client.get("/audit?chain=point")
    assert page.status_code == 200
    assert "Xesh zanjiri butun." in page.text and "application.accept" in page.text
    assert "Markaz jurnali" in page.text  # and the Center's log is one link away
    center = client.get("/audit").text
    assert "user.add" in center
    with point_db.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(who="mallory"))
    broken = client.get("/audit?chain=point").text
    assert "Xesh zanjiri buzilgan:" in broken and "entry 1 changed" in broken


def test_every_field_has_a_label(web: Any) -> None:
    """On every form page, each visible input, select and textarea has a <label for> naming
    its id (labels on every field: the keyboard and a screen reader reach each one)."""
    import html.parser

    class Fields(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.ids: list[str | None] = []
            self.labels: set[str] = set()

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "label" and a.get("for"):
                self.labels.add(str(a["for"]))
            if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
                self.ids.append(a.get("id"))

    client, point_db, app_id = web
    csrf = log_in(client, "aziza")
    step1 = "ground=expired&citizenship=UZB&birth_date=15.03.1990&applicant_role=holder"
    child = "ground=parents-wish&citizenship=UZB&birth_date=20.05.2016&applicant_role=parent"
    pages = ["/login", "/applications/new", f"/applications/new?{step1}",
             f"/applications/new?{child}", "/replacements/new", f"/applications/{app_id}",
             f"/applications/{app_id}/capture"]  # fmt: skip
    client.post(f"/applications/{app_id}/submit", data={"csrf": csrf})
    for status in ("personalized", "verified"):
        client.post(f"/applications/{app_id}/mark", data={"csrf": csrf, "status": status})
    pages.append(f"/applications/{app_id}")  # now with the handover form
    seen = 0
    for path in pages:
        parser = Fields()
        parser.feed(client.get(path).text)
        assert parser.ids and None not in parser.ids, path
        assert set(parser.ids) <= parser.labels, (path, set(parser.ids) - parser.labels)
        seen += len(parser.ids)
    assert seen > 40
    assert service.status(point_db, app_id).status is ApplicationStatus.VERIFIED


def test_unknown_pages_and_failures_are_pages_of_the_application(
    web: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """404 and 405 as the application's page (with its headers); an unexpected failure a 500
    page that names nothing of the data, and nothing changed."""
    from station.point import queries

    client, point_db, app_id = web
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "Bunday sahifa yoʻq." in missing.text
    assert missing.headers["content-security-policy"] == CSP
    assert client.get("/logout").status_code == 405
    log_in(client, "aziza")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Gʻulomov Oʻtkir 31503902620452")

    monkeypatch.setattr(queries, "applications", broken)
    failing = TestClient(client.app, base_url="https://testserver", cookies=dict(client.cookies),
                         raise_server_exceptions=False)  # fmt: skip
    response = failing.get("/queue")
    assert response.status_code == 500
    assert "hech narsa oʻzgarmadi" in response.text
    assert "31503902620452" not in response.text and "Gʻulomov" not in response.text
    assert response.headers["content-security-policy"] == CSP
    assert service.status(point_db, app_id).status is ApplicationStatus.ACCEPTED


def test_mounted_beside_the_api_without_a_point(center_db: Database) -> None:
    """On a Center without a collection point: /v1 still answers (the pages come after it), the
    login page is there, an administrator's users page works, an operator's pages refuse."""
    from station.web import mount_web

    center_service.register_point(center_db, code=POINT.code, name=POINT.name, kind=POINT.kind,
                                  place_code=POINT.place_code, now=NOW)  # fmt: skip
    for login, role, point in (("admin", accounts.Role.ADMINISTRATOR, None),
                               ("aziza", accounts.Role.OPERATOR, "TAS-01")):  # fmt: skip
        accounts.add_user(center_db, login=login, name=login, role=role, password=PASSWORD,
                          point=point, now=NOW, by=Actor.system())  # fmt: skip
    api = create_app(center_db)
    mount_web(api, folder=None, center_db=center_db)
    with TestClient(api, base_url="https://testserver", follow_redirects=False) as client:
        assert client.get("/v1/status").json()["points"] == 1
        assert client.get("/v1/nothing").headers["content-type"] == "application/json"
        log_in(client, "admin")
        assert "aziza" in client.get("/users").text
        client.cookies.clear()
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token
        client.post("/login", data={"login": "aziza", "password": PASSWORD, "csrf": token[1]})
        refused = client.get("/queue")
        assert refused.status_code == 403 and "boshqa" in refused.text


def test_logging_in_again_as_someone_else(web: Any) -> None:
    """A browser with an open session logs in as another user (the login form's own token is
    checked, not the open session's): the new session replaces the cookie."""
    client, _, _ = web
    log_in(client, "aziza")
    first = client.cookies["idk_session"]
    log_in(client, "umid")
    assert client.get("/audit").status_code == 200
    assert client.get("/applications/new").status_code == 403
    client.cookies.clear()
    client.cookies.set("idk_session", first)
    assert client.get("/queue").status_code == 303  # aziza's session was closed
