"""The capture use case (station.point.capture) on SQLite and PostgreSQL: real images (the shipped
photograph, the shipped synthetic fingers), captures encrypted at rest, retries, thresholds,
exceptions, the refusal record, the purge after handover + retention."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select, update
from tests.station.point.conftest import NOW, POINT, adult_form

from station.capture import CaptureRefused, FileCaptureDevice, FingerRules, check_face
from station.client import CenterClient
from station.db import Database
from station.db.point_captures import BiometricCapture
from station.db.point_tables import PointEvent
from station.db.point_tables import Refusal as RefusalRow
from station.domain.application import ApplicantRole
from station.domain.errors import DomainError
from station.domain.refusals import RefusalReason
from station.point import service
from station.point.biometrics import BiometricsError, SoftwareBiometricKey
from station.point.capture import accepted_captures, capture, purge, refuse
from station.point.errors import NotFound, UnknownOperator, WrongState
from station.point.models import ApplicationStatus

SAMPLES = Path(__file__).parents[3] / "src" / "station" / "samples"
PHOTO = (SAMPLES / "photo.jpg").read_bytes()
RIGHT = (SAMPLES / "finger-right-index.jpg").read_bytes()
LEFT = (SAMPLES / "finger-left-index.jpg").read_bytes()
KEY = SoftwareBiometricKey(bytes(range(32)), "file:test")


def _blurred(jpeg: bytes, sigma: float = 4.0) -> bytes:
    pixels = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    return bytes(cv2.imencode(".jpg", cv2.GaussianBlur(pixels, (0, 0), sigma))[1])


class Shots:
    """A camera and scanner that give these images in turn (the hardware's side)."""

    def __init__(self, faces: list[bytes] | None = None,
                 fingers: dict[int, list[bytes]] | None = None) -> None:  # fmt: skip
        self.faces = list(faces or [])
        self.fingers = {p: list(v) for p, v in (fingers or {}).items()}
        self.asked: list[int] = []

    def capture_face(self) -> bytes:
        self.asked.append(0)
        return self.faces.pop(0)

    def capture_finger(self, position: int) -> bytes:
        self.asked.append(position)
        return self.fingers[position].pop(0)


@pytest.fixture
def app_id(point_db: Database) -> str:
    return service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW).id


def _rows(db: Database, app: str) -> list[BiometricCapture]:
    with db.session(write=False) as session:
        return list(session.scalars(select(BiometricCapture).where(
            BiometricCapture.application_id == app).order_by(BiometricCapture.position)))


def _events(db: Database, app: str) -> list[tuple[str, str | None]]:
    with db.session(write=False) as session:
        return [(e.what, e.detail) for e in session.scalars(
            select(PointEvent).where(PointEvent.application_id == app).order_by(PointEvent.id))]


def test_face_fingers_and_an_exception_are_stored_encrypted(
    point_db: Database, app_id: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    (tmp_path / "face.jpg").write_bytes(PHOTO)
    device = FileCaptureDevice(face=tmp_path / "face.jpg",
                               fingers={2: SAMPLES / "finger-right-index.jpg",
                                        7: SAMPLES / "finger-left-index.jpg"})  # fmt: skip
    report = capture(point_db, app_id, device, key=KEY, operator="aziza", point=POINT, now=NOW,
                     fingers=[2, 7], exceptions={3: "amputated"})  # fmt: skip
    assert report.complete and report.has_face and report.dg3 == (2, 7)
    assert [(s.position, s.status, s.attempts) for s in report.slots] == [
        (0, "accepted", 1), (2, "accepted", 1), (7, "accepted", 1), (3, "exception", 0)]
    rows = _rows(point_db, app_id)
    assert [(r.position, r.status, r.key_id) for r in rows] == [
        (0, "accepted", "file:test"), (2, "accepted", "file:test"), (3, "exception", None),
        (7, "accepted", "file:test")]
    face = check_face(PHOTO)
    for row, plain in zip((rows[0], rows[1], rows[3]), (face.image, RIGHT, LEFT), strict=True):
        assert row.sealed is not None and len(row.sealed) == 12 + len(plain) + 16
        assert plain[100:132] not in row.sealed  # ciphertext, not the JPEG
    got = accepted_captures(point_db, app_id, KEY)
    assert got.face is not None and got.face.image == face.image  # byte-exact round trip
    assert got.face.eye_distance == pytest.approx(face.eye_distance)
    assert [(f.position, f.image) for f in got.fingers] == [(2, RIGHT), (7, LEFT)]
    assert [(e.position, e.reason) for e in got.exceptions] == [(3, "amputated")]
    assert [f.position for f in got.dg3] == [2, 7]
    (_, detail), = [e for e in _events(point_db, app_id) if e[0] == "captured"]
    assert detail is not None and detail.startswith("face accepted; finger 2 accepted (")
    assert detail.endswith("finger 3 exception (amputated)")
    logged = "".join(r.getMessage() for r in caplog.records)
    for image in (face.image, RIGHT, LEFT):
        assert image[100:116].hex() not in logged and repr(image[100:116])[2:-1] not in logged


def test_the_database_holds_no_image_in_the_clear(tmp_path: Path) -> None:
    """The point's SQLite file itself, read as bytes: no run of the JPEGs in it."""
    from station.db import Role, open_database, sqlite_url

    db = open_database(sqlite_url(tmp_path / "point.db"), Role.POINT)
    try:
        app = service.apply(db, adult_form(), point=POINT, operator="aziza", now=NOW).id
        capture(db, app, Shots([PHOTO], {2: [RIGHT]}), key=KEY, operator="aziza", point=POINT,
                now=NOW, fingers=[2])  # fmt: skip
    finally:
        db.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("point.db"))
    face = check_face(PHOTO).image
    assert len(raw) > 20_000  # the captures are in there, sealed
    for image in (face, RIGHT):
        for start in range(200, len(image) - 32, 997):
            assert image[start : start + 32] not in raw


def test_a_finger_is_retried_until_its_gate_accepts_it(point_db: Database, app_id: str) -> None:
    device = Shots([PHOTO], {2: [_blurred(RIGHT), RIGHT]})
    report = capture(point_db, app_id, device, key=KEY, operator="aziza", point=POINT, now=NOW,
                     fingers=[2])  # fmt: skip
    assert [(s.position, s.status, s.attempts) for s in report.slots] == [
        (0, "accepted", 1), (2, "accepted", 2)]
    assert device.asked == [0, 2, 2]
    # One attempt only: the blurred image's refusal stands, with its reason.
    again = capture(point_db, app_id, Shots(fingers={7: [_blurred(LEFT), LEFT]}), key=KEY,
                    operator="aziza", point=POINT, now=NOW, face=False, fingers=[7],
                    finger_rules=FingerRules(attempts=1))  # fmt: skip
    (slot,) = again.slots
    assert (slot.status, slot.attempts, slot.problems[0][0]) == ("refused", 1, "finger_quality")
    assert not again.complete and again.has_face and again.dg3 == (2,)
    assert [r.position for r in _rows(point_db, app_id)] == [0, 2]  # nothing stored for 7


def test_the_threshold_is_configurable(point_db: Database, app_id: str) -> None:
    score = capture(point_db, app_id, Shots(fingers={2: [RIGHT]}), key=KEY, operator="aziza",
                    point=POINT, now=NOW, face=False, fingers=[2]).slots[0].score  # fmt: skip
    assert score is not None and score >= 60
    strict = FingerRules(min_score=score + 1, attempts=2)
    report = capture(point_db, app_id, Shots(fingers={2: [RIGHT, RIGHT]}), key=KEY,
                     operator="aziza", point=POINT, now=NOW, face=False, fingers=[2],
                     finger_rules=strict)  # fmt: skip
    assert report.slots[0].status == "refused" and report.slots[0].attempts == 2
    assert report.slots[0].problems == (
        ("finger_quality", f"finger 2: local score {score} < {score + 1}"),)
    at = FingerRules(min_score=score, attempts=1)
    assert capture(point_db, app_id, Shots(fingers={2: [RIGHT]}), key=KEY, operator="aziza",
                   point=POINT, now=NOW, face=False, fingers=[2],
                   finger_rules=at).slots[0].status == "accepted"  # fmt: skip


def test_a_refused_face_shows_every_reason_and_keeps_the_earlier_one(
    point_db: Database, app_id: str
) -> None:
    capture(point_db, app_id, Shots([PHOTO]), key=KEY, operator="aziza", point=POINT, now=NOW)
    before = _rows(point_db, app_id)[0].sealed
    dark_blurred = _blurred(bytes(cv2.imencode(".jpg", np.asarray(
        cv2.imdecode(np.frombuffer(PHOTO, np.uint8), cv2.IMREAD_COLOR) * 0.25, np.uint8))[1]),
        2.5)  # fmt: skip
    report = capture(point_db, app_id, Shots([dark_blurred] * 3), key=KEY, operator="aziza",
                     point=POINT, now=NOW)  # fmt: skip
    (slot,) = report.slots
    assert slot.status == "refused" and slot.attempts == 3
    assert [r for r, _ in slot.problems] == ["too_dark", "blurred"]
    assert report.has_face and not report.complete  # the earlier face stays
    assert _rows(point_db, app_id)[0].sealed == before
    assert ("captured", "face refused (too_dark, blurred)") in _events(point_db, app_id)


def test_bad_requests_are_refused_before_anything_is_read(
    point_db: Database, app_id: str
) -> None:
    device = Shots()

    def run(**kwargs: object) -> None:
        capture(point_db, app_id, device, key=KEY, operator="aziza", point=POINT, now=NOW,
                **kwargs)  # type: ignore[arg-type]

    with pytest.raises(DomainError, match="finger 2 is both captured and an exception"):
        run(fingers=[2], exceptions={2: "bandaged"})
    with pytest.raises(DomainError, match="nothing to capture"):
        run(face=False)
    with pytest.raises(DomainError, match="given twice"):
        run(fingers=[2, 2])
    with pytest.raises(CaptureRefused) as caught:
        run(fingers=[11])
    assert caught.value.reason == "bad_position"
    with pytest.raises(CaptureRefused) as caught:
        run(face=False, exceptions={3: "  "})
    assert caught.value.reason == "no_reason"
    with pytest.raises(UnknownOperator):
        capture(point_db, app_id, device, key=KEY, operator="nobody", point=POINT, now=NOW)
    with pytest.raises(NotFound):
        capture(point_db, "no-such", device, key=KEY, operator="aziza", point=POINT, now=NOW)
    assert device.asked == [] and _rows(point_db, app_id) == []


def test_a_capture_opens_only_with_its_key_and_in_its_slot(
    point_db: Database, app_id: str
) -> None:
    capture(point_db, app_id, Shots([PHOTO], {2: [RIGHT]}), key=KEY, operator="aziza",
            point=POINT, now=NOW, fingers=[2])  # fmt: skip
    other = SoftwareBiometricKey(bytes(32), "file:other")
    with pytest.raises(BiometricsError, match="does not decrypt"):
        accepted_captures(point_db, app_id, other)
    # The finger's ciphertext moved into the face's slot: the associated data refuses it.
    rows = _rows(point_db, app_id)
    with point_db.session() as session:
        session.execute(update(BiometricCapture).where(BiometricCapture.id == rows[0].id)
                        .values(sealed=rows[1].sealed))  # fmt: skip
    with pytest.raises(BiometricsError) as caught:
        accepted_captures(point_db, app_id, KEY)
    assert "altered or moved" in str(caught.value) and "\\x" not in str(caught.value)


def test_the_applicants_refusal_is_the_workflows_record(point_db: Database, app_id: str) -> None:
    capture(point_db, app_id, Shots([PHOTO]), key=KEY, operator="aziza", point=POINT, now=NOW)
    refusal = refuse(point_db, app_id, RefusalReason.FINGERPRINTS, operator="aziza",
                     point=POINT, now=NOW)  # fmt: skip
    assert refusal.reason == "fingerprints-refused" and refusal.notice[:5] == b"%PDF-"
    assert service.status(point_db, app_id).status is ApplicationStatus.REFUSED
    with point_db.session(write=False) as session:
        assert session.scalar(select(RefusalRow.reason).where(
            RefusalRow.application_id == app_id)) == "fingerprints-refused"  # fmt: skip
    assert _rows(point_db, app_id) == []
    assert ("biometrics-purged", "1 on refusal") in _events(point_db, app_id)
    with pytest.raises(WrongState):  # no more captures for a refused application
        capture(point_db, app_id, Shots([PHOTO]), key=KEY, operator="aziza", point=POINT,
                now=NOW)  # fmt: skip


@pytest.fixture
def handed_over(point_db: Database, center: CenterClient) -> str:
    app = service.apply(point_db, adult_form(), point=POINT, operator="aziza", now=NOW).id
    capture(point_db, app, Shots([PHOTO], {2: [RIGHT]}), key=KEY, operator="aziza",
            point=POINT, now=NOW, fingers=[2])  # fmt: skip
    service.submit(point_db, app, center=center, now=NOW)
    for new in (ApplicationStatus.PERSONALIZED, ApplicationStatus.VERIFIED):
        service.mark(point_db, app, new, center=center, operator="aziza", point=POINT, now=NOW)
    service.handover(point_db, app, receiver_role=ApplicantRole.HOLDER,
                     receiver_name="Gʻulomov Oʻtkir", receiver_document="FA1234567",
                     operator="aziza", point=POINT, center=center,
                     now=NOW + timedelta(hours=2))  # fmt: skip
    return app


def test_captures_are_purged_after_the_handover_and_the_retention(
    point_db: Database, handed_over: str
) -> None:
    handover_at = NOW + timedelta(hours=2)
    week = timedelta(days=7)
    report = purge(point_db, now=handover_at + week - timedelta(seconds=1), retention=week)
    assert report.purged == {} and len(_rows(point_db, handed_over)) == 2
    report = purge(point_db, now=handover_at + week, retention=week)
    assert report.purged == {handed_over: 2} and report.captures == 2
    assert report.to_json() == {"retention_days": 7, "captures": 2,
                                "applications": {handed_over: 2}}  # fmt: skip
    assert _rows(point_db, handed_over) == []
    assert ("biometrics-purged", "2 after 7 days") in _events(point_db, handed_over)
    assert purge(point_db, now=handover_at + week, retention=week).purged == {}  # once


def test_an_open_application_keeps_its_captures(point_db: Database, app_id: str) -> None:
    capture(point_db, app_id, Shots([PHOTO]), key=KEY, operator="aziza", point=POINT, now=NOW)
    assert purge(point_db, now=NOW + timedelta(days=3650), retention=timedelta(0)).purged == {}
    assert len(_rows(point_db, app_id)) == 1
    with pytest.raises(DomainError):
        purge(point_db, now=NOW, retention=timedelta(days=-1))


def test_a_new_capture_or_exception_replaces_the_slot(point_db: Database, app_id: str) -> None:
    capture(point_db, app_id, Shots([PHOTO], {2: [RIGHT]}), key=KEY, operator="aziza",
            point=POINT, now=NOW, fingers=[2])  # fmt: skip
    later = NOW + timedelta(minutes=5)
    report = capture(point_db, app_id, Shots(fingers={7: [LEFT]}), key=KEY, operator="bobur",
                     point=POINT, now=later, face=False, fingers=[7],
                     exceptions={2: "injured since the first capture"})  # fmt: skip
    assert report.dg3 == (7,)
    rows = _rows(point_db, app_id)
    assert [(r.position, r.status, r.operator) for r in rows] == [
        (0, "accepted", "aziza"), (2, "exception", "bobur"), (7, "accepted", "bobur")]
    assert rows[1].sealed is None and rows[1].reason == "injured since the first capture"
    got = accepted_captures(point_db, app_id, KEY)
    assert [f.position for f in got.fingers] == [7]
    assert [(e.position, e.reason) for e in got.exceptions] == [
        (2, "injured since the first capture")]
