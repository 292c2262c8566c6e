"""Fixtures of the web application's tests: a station folder with a Center, one collection point,
accounts of every role and a few applications already on file; the real server
(``idkarta center serve``, uvicorn on 127.0.0.1) started on it; Debian's chromium driven by
Playwright.

Screenshots go to a temporary folder, or to ``$IDKARTA_WEB_SCREENSHOTS``: docs/guide/web.md's
pictures are made with ``IDKARTA_WEB_SCREENSHOTS=docs/images/web pytest tests/station/web``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import ROOT, require_tool
from tests.station.point.conftest import ADULT, RESIDENT, adult_form

from station import accounts
from station.auditlog import Actor
from station.db import Role as DbRole
from station.db import open_database, sqlite_url
from station.domain.application import PointKind
from station.folders.station import CENTER_DB, POINT_DB, PointSpec, embedded_center, init_center
from station.folders.station import init_point as setup_point
from station.point import service
from station.point.config import OperatorRole, PointConfig
from station.point.models import ApplicationStatus

POINT = PointConfig(
    code="TAS-01", name="Toshkent shahar IIBB migratsiya bo‘limi",
    kind=PointKind.INTERNAL_AFFAIRS, place_code="262",
    operators={"aziza": OperatorRole.OPERATOR},
)  # fmt: skip
OTHER = PointSpec("SAM-02", PointKind.INTERNAL_AFFAIRS, "182", "Samarqand IIBB")
PASSWORD = "correct horse battery"
USERS = {  # login: (name, role, point)
    "aziza": ("Aziza Karimova", accounts.Role.OPERATOR, "TAS-01"),
    "bobur": ("Bobur Rahimov", accounts.Role.OPERATOR, "TAS-01"),
    "dilnoza": ("Dilnoza Yusupova", accounts.Role.SUPERVISOR, "TAS-01"),
    "sardor": ("Sardor Aliyev", accounts.Role.OPERATOR, "SAM-02"),
    "umid": ("Umid Nazarov", accounts.Role.AUDITOR, None),
    "admin": ("Administrator", accounts.Role.ADMINISTRATOR, None),
}


@dataclass(frozen=True)
class Served:
    """The running server and what is on file in its station folder."""

    url: str
    folder: Path
    overdue_id: str  # accepted five days ago: past its due date
    handed_card: str  # a card handed over to its holder (to replace)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_station(folder: Path) -> tuple[str, str]:
    """The folder's Center, point and accounts; an overdue application and a handed-over card.
    Returns (overdue application id, handed-over card)."""
    now = datetime.now(UTC)
    init_center(folder, None, series="AD", esign=None, now=now, points=[
        PointSpec(POINT.code, POINT.kind, POINT.place_code, POINT.name), OTHER])  # fmt: skip
    with embedded_center(folder) as center:
        setup_point(folder, POINT, center=center)
        center_db = open_database(sqlite_url(folder / CENTER_DB), DbRole.CENTER)
        point_db = open_database(sqlite_url(folder / POINT_DB), DbRole.POINT)
        try:
            for login, (name, role, point) in USERS.items():
                accounts.add_user(center_db, login=login, name=name, role=role, password=PASSWORD,
                                  point=point, now=now, by=Actor.system())  # fmt: skip
            late = service.apply(point_db, adult_form(person=RESIDENT_AS_CITIZEN),
                                 point=POINT, operator="aziza",
                                 now=now - timedelta(days=6))  # fmt: skip
            done = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=now)
            service.submit(point_db, done.id, center=center, now=now)
            for status in (ApplicationStatus.PERSONALIZED, ApplicationStatus.VERIFIED):
                service.mark(point_db, done.id, status, center=center, operator="aziza",
                             point=POINT, now=now)  # fmt: skip
            handed = service.handover(
                point_db, done.id, receiver_role=adult_form().applicant.role,
                receiver_name="Gʻulomov Oʻtkir", receiver_document="FA1234567",
                operator="aziza", point=POINT, center=center, now=now)  # fmt: skip
        finally:
            center_db.close()
            point_db.close()
    return late.id, handed.card


RESIDENT_AS_CITIZEN = RESIDENT.__class__(**{
    **{f: getattr(RESIDENT, f) for f in RESIDENT.__dataclass_fields__},
    "citizenship": "UZB", "foreign_document": None, "nationality": "o‘zbek",
    "pinfl": None,
})  # fmt: skip
"""Another adult citizen (the overdue application's holder)."""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``idkarta center serve --dir FOLDER`` on a free port of 127.0.0.1, stopped afterwards."""
    folder = tmp_path_factory.mktemp("station")
    overdue_id, card = make_station(folder)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "station.cli", "center", "serve", "--dir", str(folder),
         "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/login", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                _, err = proc.communicate(timeout=5) if proc.poll() is not None else (b"", b"")
                pytest.fail(f"the server did not start: {err.decode(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield Served(url, folder, overdue_id, card)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium (never a downloaded browser) under Playwright, headless."""
    chromium = require_tool("chromium")
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=args)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, served: Served) -> Iterator[Any]:
    """A fresh browser context (no cookies) on the server, 1280×900."""
    context = browser.new_context(base_url=served.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("IDKARTA_WEB_SCREENSHOTS")
    if where:
        path = Path(where)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


def log_in(page: Any, login: str, password: str = PASSWORD) -> None:
    """Log in with the keyboard only: the login field has the focus, Tab, Enter."""
    page.goto("/login")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'f-login'")
    page.keyboard.type(login)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/login" not in page.url, page.inner_text("main")


def shot(page: Any, path: Path) -> None:
    """A full-page screenshot of ``page`` as a 256-colour PNG (a third of the size: the
    pictures in docs/ stay small)."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


__all__ = ["ADULT", "PASSWORD", "POINT", "Served", "log_in", "shot"]
