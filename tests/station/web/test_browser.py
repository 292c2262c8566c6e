"""The web application in Debian's chromium against ``idkarta center serve`` on 127.0.0.1.

The operator's main flow (login → queue → new application → Center → personalization marks →
handover), a refusal and its printed notice, the language switch, a free replacement approved
by a second person, and refusals of a post without the CSRF token and of the wrong role. Each
test checks what the page says and what the point's database then holds.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import require_tool

from station.db import Role, open_database, sqlite_url
from station.folders.station import POINT_DB
from station.point import service
from station.point.models import ApplicationStatus

from .conftest import PASSWORD, Served, log_in, shot

pytestmark = pytest.mark.tool


def _status(served: Served, app_id: str) -> ApplicationStatus:
    db = open_database(sqlite_url(served.folder / POINT_DB), Role.POINT)
    try:
        return service.status(db, app_id).status
    finally:
        db.close()


def _app_id(page: Any) -> str:
    match = re.search(r"/applications/([0-9a-f-]{36})$", page.url)
    assert match, page.url
    return match[1]


def _new_application(page: Any, *, surname: str, given: str, birth: str, pinfl: str | None,
                     shots: Path | None = None, leave_out: str | None = None) -> str:  # fmt: skip
    """Step 1 (ground expired, first ID card), then step 2: the checklist, the holder."""
    page.get_by_role("link", name="Yangi ariza").click()
    page.get_by_label("Asos", exact=True).select_option("expired")
    page.get_by_label("Egasining tugʻilgan sanasi").fill(birth)
    page.get_by_label("Egasining birinchi ID-kartasi").check()
    if shots:
        shot(page, shots / "02-new-application-ground.png")
    page.get_by_label("Egasining tugʻilgan sanasi").press("Enter")
    checklist = page.locator("input[name=documents]")
    codes = [checklist.nth(i).get_attribute("value") for i in range(checklist.count())]
    assert codes == ["application-form", "previous-document", "birth-certificate",
                     "fee-receipt"]  # the scheme's list for this ground (lines 26-32)
    for code in codes:
        if code != leave_out:
            page.locator(f"#d-{code}").check()
    page.get_by_label("Familiya (lotin)").fill(surname)
    page.get_by_label("Familiya (kirill)").fill("Назарова")
    page.get_by_label("Ism (lotin)").fill(given)
    page.get_by_label("Ism (kirill)").fill("Малика")
    page.get_by_label("Jinsi").select_option("F")
    page.get_by_label("Tugʻilgan joyi").fill("Toshkent shahri")
    page.get_by_label("Millati").fill("oʻzbek")
    page.get_by_label("Roʻyxatdagi manzil").fill("Toshkent shahri, Chilonzor tumani, 5-uy")
    if pinfl:
        page.get_by_label("JShShIR (bor boʻlsa)").fill(pinfl)
    page.get_by_label("Koʻrsatilgan shaxsni tasdiqlovchi hujjat (seriya va raqam)").fill(
        "AB7654321")
    if shots:
        shot(page, shots / "03-new-application-details.png")
    page.get_by_role("button", name="Arizani qabul qilish").click()
    page.wait_for_load_state()
    return page.url


def test_operator_main_flow(page: Any, served: Served, screenshots: Path) -> None:
    """Log in (keyboard only), the queue with its overdue mark, an application refused for a
    missing document and then accepted, sent to the Center, personalized, verified, handed
    over; every screen in Uzbek (the default)."""
    log_in(page, "aziza")
    assert page.url.endswith("/queue")
    assert page.locator("html").get_attribute("lang") == "uz"
    late = page.locator("tr.late")
    assert late.count() == 1 and "muddati oʻtgan" in late.inner_text()
    assert late.locator("a").get_attribute("href") == f"/applications/{served.overdue_id}"
    shot(page, screenshots / "01-queue.png")

    # the fee receipt left out: refused, the missing document named, nothing saved
    _new_application(page, surname="Nazarova", given="Malika", birth="12.02.1994", pinfl=None,
                     leave_out="fee-receipt", shots=screenshots)
    assert page.url.endswith("/applications")
    assert "Davlat boji toʻlanganligi haqida kvitansiya" in page.locator(".invalid").inner_text()
    assert "missing: fee-receipt" in page.locator(".error-summary").inner_text()
    page.locator("#d-fee-receipt").check()
    page.get_by_role("button", name="Arizani qabul qilish").click()
    page.wait_for_load_state()
    app_id = _app_id(page)
    assert _status(served, app_id) is ApplicationStatus.ACCEPTED
    facts = page.locator("dl.facts").inner_text()
    assert "Nazarova Malika" in facts and "Назарова Малика" in facts and "12.02.1994" in facts
    shot(page, screenshots / "04-accepted.png")

    page.get_by_role("button", name="Markazga yuborish").click()
    assert re.search(r"AD[0-9]{7}", page.locator("dl.facts").inner_text())
    assert _status(served, app_id) is ApplicationStatus.RETURNED
    page.get_by_role("button", name="Karta personallashtirildi").click()
    assert _status(served, app_id) is ApplicationStatus.PERSONALIZED
    shot(page, screenshots / "05-personalization.png")
    page.get_by_role("button", name="Karta oʻqib tekshirildi").click()
    assert _status(served, app_id) is ApplicationStatus.VERIFIED

    page.get_by_label("Qabul qiluvchining shaxsni tasdiqlovchi hujjati").fill("AB7654321")
    shot(page, screenshots / "06-handover.png")
    page.get_by_role("button", name="Kartani topshirish").click()  # not confirmed: refused
    assert page.locator(".error-summary").is_visible()
    assert _status(served, app_id) is ApplicationStatus.VERIFIED
    page.get_by_label("Qabul qiluvchining shaxsni tasdiqlovchi hujjati").fill("AB7654321")
    page.get_by_label("Qabul qiluvchi karta uchun imzo qoʻydi").check()
    page.get_by_role("button", name="Kartani topshirish").click()
    assert "Topshirildi." in page.locator(".done").inner_text()
    assert _status(served, app_id) is ApplicationStatus.HANDED_OVER
    shot(page, screenshots / "07-handed-over.png")


def test_refusal_and_its_notice(page: Any, served: Served, screenshots: Path) -> None:
    """Refused for fingerprints (scheme, line 216): the notice printed from the page is the
    one recorded (its SHA-256) and says the reason."""
    log_in(page, "bobur")
    _new_application(page, surname="Qodirova", given="Zilola", birth="03.07.1988", pinfl=None)
    app_id = _app_id(page)
    page.get_by_label("Sabab").select_option("fingerprints-refused")
    page.get_by_role("button", name="Rad etish").click()
    assert _status(served, app_id) is ApplicationStatus.REFUSED
    shot(page, screenshots / "08-refused.png")
    link = page.get_by_role("link", name="Rad etish toʻgʻrisidagi bildirishnomani chop etish")
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    db = open_database(sqlite_url(served.folder / POINT_DB), Role.POINT)
    try:
        from sqlalchemy import select

        from station.db.point_tables import Refusal

        with db.session(write=False) as s:
            recorded = s.scalar(select(Refusal.notice_sha256).where(
                Refusal.application_id == app_id))  # fmt: skip
    finally:
        db.close()
    assert hashlib.sha256(pdf).hexdigest() == recorded
    pdftotext = require_tool("pdftotext")
    text = subprocess.run([pdftotext, "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()  # fmt: skip
    assert "fingerprints-refused" in text and "Qodirova Zilola / Назарова Малика" in text


def test_language_switch(page: Any, served: Served) -> None:
    """Uzbek by default; Russian and English from the switch, kept in a cookie."""
    log_in(page, "aziza")
    assert page.locator("h1").inner_text().startswith("Bugungi navbat")
    page.get_by_role("link", name="Русский").click()
    assert page.url.endswith("/queue")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.locator("h1").inner_text().startswith("Очередь на сегодня")
    page.get_by_role("link", name="Новое заявление").click()
    assert page.locator("h1").inner_text().startswith("Новое заявление")
    page.get_by_role("link", name="English").click()
    assert page.locator("h1").inner_text().startswith("New application")
    page.get_by_role("link", name="Oʻzbekcha").click()
    assert page.locator("h1").inner_text().startswith("Yangi ariza")


def test_a_post_without_the_csrf_token_is_refused(page: Any, served: Served) -> None:
    """A logged-in operator's browser posting without (or with a wrong) CSRF token: 403, and
    the application is still where it was."""
    log_in(page, "aziza")
    target = f"/applications/{served.overdue_id}/submit"
    for form in ({}, {"csrf": "x" * 43}):
        response = page.request.post(target, form=form)
        assert response.status == 403
        assert "xavfsizlik" in response.text()
    assert _status(served, served.overdue_id) is ApplicationStatus.ACCEPTED


def test_wrong_role_and_wrong_point_are_refused(page: Any, served: Served) -> None:
    """An auditor may read but not act; an operator of another point sees nothing here; no
    session: to the login page."""
    page.goto("/queue")
    assert "/login?next=%2Fqueue" in page.url
    log_in(page, "umid")  # auditor
    assert page.goto("/applications/new").status == 403
    csrf = page.goto(f"/applications/{served.overdue_id}").status
    assert csrf == 200
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    response = page.request.post(f"/applications/{served.overdue_id}/submit",
                                 form={"csrf": token})  # fmt: skip
    assert response.status == 403 and "rolingiz" in response.text().lower()
    assert _status(served, served.overdue_id) is ApplicationStatus.ACCEPTED
    page.context.clear_cookies()
    log_in(page, "sardor")  # operator of SAM-02
    assert page.goto("/queue").status == 403
    assert page.goto(f"/applications/{served.overdue_id}").status == 403


def test_free_replacement_needs_a_second_person(page: Any, served: Served,
                                                screenshots: Path) -> None:  # fmt: skip
    """A card replaced free of charge (scheme, line 217): the operator alone, or another
    operator as approver, is refused; the point's supervisor's password approves it."""
    log_in(page, "aziza")
    page.get_by_role("link", name="Almashtirish yoki tiklash").click()
    page.get_by_label("Almashtiriladigan karta (seriya va raqam)").fill(served.handed_card)
    page.get_by_label("Asos", exact=True).select_option("data-error")
    for code in ("application-form", "previous-document", "change-proof"):
        page.locator(f"#d-{code}").check()
    page.get_by_label("Punkt sababli texnik nuqson").check()
    page.get_by_label("Bepul almashtirish sababi").fill("chip yozuvida xato")
    page.get_by_label("Nazoratchining logini").fill("bobur")
    page.get_by_label("Nazoratchining paroli").fill(PASSWORD)
    page.get_by_role("button", name="Arizani qabul qilish").click()
    assert "Faqat shu punkt nazoratchisi" in page.locator("#err-approved_by").inner_text()
    page.get_by_label("Nazoratchining logini").fill("dilnoza")
    page.get_by_label("Nazoratchining paroli").fill(PASSWORD)
    shot(page, screenshots / "09-free-replacement.png")
    page.get_by_role("button", name="Arizani qabul qilish").click()
    app_id = _app_id(page)
    assert "dilnoza: chip yozuvida xato" in page.locator("dl.facts").inner_text()
    page.context.clear_cookies()
    log_in(page, "dilnoza")
    page.get_by_role("link", name="Bepul almashtirishlar").click()
    row = page.locator("tbody tr")
    assert row.count() == 1 and "dilnoza" in row.inner_text() and "aziza" in row.inner_text()
    page.get_by_role("link", name="Muddati oʻtganlar").click()
    assert page.locator(f"a[href='/applications/{served.overdue_id}']").count() == 1
    assert page.locator(f"a[href='/applications/{app_id}']").count() == 0


def _portraits() -> tuple[bytes, bytes]:
    """(a portrait the face gate accepts, the same turned a quarter: no upright face)."""
    import cv2
    import numpy as np
    from skimage import data

    bgr = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)[0:320, 100:340]
    face = np.asarray(cv2.resize(bgr, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC))
    good = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    turned = cv2.imencode(".jpg", cv2.rotate(face, cv2.ROTATE_90_CLOCKWISE))[1].tobytes()
    return good, turned


def test_capture_shows_the_gate_and_audits_the_view(page: Any, served: Served,
                                                    screenshots: Path) -> None:  # fmt: skip
    """A portrait the gate refuses shows its reason beside the image; one it accepts shows the
    chip's frame; each showing appends ``biometrics.view`` to the point's audit log."""
    from station import auditlog

    good, turned = _portraits()
    log_in(page, "aziza")
    page.goto(f"/applications/{served.overdue_id}")
    page.get_by_role("link", name="Portret").click()
    upload = page.get_by_label("Portret tasviri (JPEG yoki PNG)")
    upload.set_input_files(files=[{"name": "p.jpg", "mimeType": "image/jpeg", "buffer": turned}])
    page.get_by_role("button", name="Suratni tekshirish").click()
    assert "Yuz topilmadi" in page.locator(".error-summary").inner_text()
    assert page.locator("img.portrait").is_visible()
    shot(page, screenshots / "10-capture-refused.png")
    upload.set_input_files(files=[{"name": "p.jpg", "mimeType": "image/jpeg", "buffer": good}])
    page.get_by_role("button", name="Suratni tekshirish").click()
    assert "Surat yuz nazoratidan oʻtdi." in page.locator(".done").inner_text()
    size = page.locator("img.portrait").evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert size == [360, 480]  # the ISO/IEC 19794-5 token frame, shown under the CSP
    db = open_database(sqlite_url(served.folder / POINT_DB), Role.POINT)
    try:
        with db.session(write=False) as s:
            views = [e for e in auditlog.entries(s) if e.action == "biometrics.view"]
    finally:
        db.close()
    assert [(e.who, e.object) for e in views][-2:] == [
        ("aziza", f"application/{served.overdue_id}/face")] * 2


def _tab_to(page: Any, selector: str) -> None:
    """Press Tab until the element ``selector`` has the focus (at most 60 times)."""
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement === document.querySelector(s)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with the Tab key")


def test_keyboard_only_application(page: Any, served: Served) -> None:
    """The main flow with the keyboard alone (Tab, typing, Space, Enter): log in, open a new
    application, fill both steps, accept it, send it to the Center."""
    log_in(page, "bobur")
    _tab_to(page, "a[href='/applications/new']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _tab_to(page, "#f-ground")
    page.keyboard.type("Amal qilish")  # a select takes the option its typed text begins
    _tab_to(page, "#f-birth")
    page.keyboard.type("09.09.1999")
    _tab_to(page, "#f-first")
    page.keyboard.press("Space")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "ground=expired" in page.url
    for code in ("application-form", "previous-document", "birth-certificate", "fee-receipt"):
        _tab_to(page, f"#d-{code}")
        page.keyboard.press("Space")
    for field, text in (("surname_latin", "Rashidov"), ("given_name_latin", "Jasur"),
                        ("place_of_birth", "Buxoro"), ("nationality", "oʻzbek"),
                        ("address", "Buxoro shahri, 12-uy"), ("applicant_document", "AC1112223")):
        _tab_to(page, f"#f-{field}")
        page.keyboard.type(text)
    _tab_to(page, "#f-sex")
    page.keyboard.type("erkak")
    _tab_to(page, "form[action='/applications'] button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    app_id = _app_id(page)
    assert _status(served, app_id) is ApplicationStatus.ACCEPTED
    _tab_to(page, f"form[action='/applications/{app_id}/submit'] button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert _status(served, app_id) is ApplicationStatus.RETURNED
