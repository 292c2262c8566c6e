"""The demo's issuance flow: a collection point and the Personalization Center in one process.

The demo's station folder holds the Center's database (``center.db``) and one point
(``point.json``, ``point.db``), as ``idkarta center init`` / ``idkarta point init`` make them;
the point reaches the Center through :class:`station.client.CenterClient` over the Center's
ASGI application in process (the embedded default). The Center's e-signature CA revokes the
certificate of a card that leaves its holder (``revoke`` of :func:`station.api.create_app`).

This module only wires the services (``station.point.service``, ``station.center.service``)
for the demo and keeps what they returned; the rules are theirs.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from idcard.cvc import CVCertificate
from idcard.lds.dump import Dump
from pki.esign import EsignCA, IssuedCertificate
from pki.filestore import write_atomic
from pki.ocsp import parse_response, request_for
from station.api import create_app
from station.applicant import Applicant
from station.capture import FingerCapture, FingerException
from station.card_data import CardKeys
from station.center import service as center_service
from station.center.models import CardInfo, CenterStatus
from station.client import CenterClient
from station.db import Database
from station.domain.application import Applicant as Counter
from station.domain.application import ApplicantRole, ApplicationForm, PointKind
from station.domain.calendar import TASHKENT
from station.domain.documents import DocumentKind
from station.domain.grounds import Ground, Scheme, rule
from station.domain.jobs import JobStatus
from station.domain.person import Person, PersonName
from station.errors import StationError
from station.folders import station
from station.folders.pki import PKIDocumentSigner
from station.point import capture as point_capture
from station.point import service as point_service
from station.point.biometrics import KEY_FILE, BiometricKey, create_file_key
from station.point.capture import CaptureReport
from station.point.config import OperatorRole, PointConfig
from station.point.gate import GateAnchors
from station.point.jobs import (
    JobEvent,
    JobInfo,
    JobServices,
    VirtualReader,
    lds_builder,
    personalize_applications,
)
from station.point.lds import build_lds, sod_hashes, with_sod
from station.point.models import Application, ApplicationStatus, Handover
from station.point.stock import make_virtual_blanks, receive, virtual_blank_path

SERIES = "AD"
POINT = PointConfig(
    code="TAS-01",
    name="Toshkent shahar IIBB migratsiya va fuqarolikni rasmiylashtirish bo‘limi",
    kind=PointKind.INTERNAL_AFFAIRS,
    place_code="262",
    operators={"aziza": OperatorRole.OPERATOR, "dilnoza": OperatorRole.SUPERVISOR},
)
OPERATOR = "aziza"
PREVIOUS_PASSPORT = "FA1234567"
"""The sample holder's expired biometric passport: the identity document he shows."""
CAMERA = Path(str(resources.files("station") / "samples" / "photo.jpg"))
"""What the demo's camera at the counter gives: the shipped public-domain photograph (the
sample applicant's drawn portrait is no photograph: the face gate refuses it, ``no_face``)."""


class CounterDevice:
    """The demo's capture device: the camera gives :data:`CAMERA`, the scanner the applicant's
    finger images (a real point's camera and scanner implement the same two methods)."""

    def __init__(self, applicant: Applicant) -> None:
        self.fingers = {f.position: f.image for f in applicant.fingers}

    def capture_face(self) -> bytes:
        return CAMERA.read_bytes()

    def capture_finger(self, position: int) -> bytes:
        return self.fingers[position]


def first_issue_form(applicant: Applicant) -> ApplicationForm:
    """The application for the applicant's first ID card on the expiry of his biometric
    passport (scheme, stage 1, lines 41-47): form, previous passport, birth certificate (first
    ID card), fee receipt."""
    person = Person(
        surname=PersonName(applicant.surname, applicant.surname_cyrillic),
        given_name=PersonName(applicant.given_names, applicant.given_names_cyrillic),
        patronymic=PersonName(applicant.patronymic, ""),
        birth_date=applicant.birth_date,
        sex=applicant.sex,
        place_of_birth=applicant.place_of_birth,
        nationality="oʻzbek",
        citizenship=applicant.nationality,
        address=", ".join(applicant.address),
        pinfl=applicant.pinfl.value,
    )
    return ApplicationForm(
        scheme=Scheme.CITIZEN,
        ground=Ground.EXPIRED,
        person=person,
        applicant=Counter(
            role=ApplicantRole.HOLDER,
            name=f"{applicant.surname} {applicant.given_names}",
            document=PREVIOUS_PASSPORT,
        ),
        documents=frozenset({DocumentKind.APPLICATION_FORM, DocumentKind.PREVIOUS_DOCUMENT,
                             DocumentKind.BIRTH_CERTIFICATE, DocumentKind.FEE_RECEIPT}),
        first_issue=True,
    )


@dataclass(frozen=True)
class Revoked:
    """The e-signature certificate of a card that left its holder, as the CA now answers."""

    serial: int
    in_crl: bool
    crl_path: Path
    ocsp_status: str


@dataclass(frozen=True)
class Pipeline:
    """A card made by the point's personalization pipeline (:mod:`station.point.jobs`): the
    job as it ended, the steps it reported done, the chip image the holder takes."""

    job: JobInfo
    steps: tuple[str, ...]
    image: Path


@dataclass(frozen=True)
class Restored:
    """The restored card: its handover and the pipeline that made it."""

    handover: Handover
    pipeline: Pipeline


@dataclass
class StationRun:
    """What the point and the Center did, stage by stage (filled in as the demo goes)."""

    folder: Path
    application: Application | None = None
    returned: Application | None = None
    card: CardInfo | None = None
    handover: Handover | None = None
    replacement: Application | None = None
    replacement_returned: Application | None = None
    previous_card: CardInfo | None = None
    revoked: Revoked | None = None
    restored: Restored | None = None
    status: CenterStatus | None = None
    captures: dict[str, CaptureReport] = field(default_factory=dict)


class DemoStation:
    """The demo's point and Center: ``point_db``, ``center`` (the client), ``point``."""

    def __init__(self, folder: Path, center_db: Database, point_db: Database,
                 center: CenterClient, biometric_key: BiometricKey) -> None:  # fmt: skip
        self.folder, self.center_db, self.point_db, self.center = (
            folder, center_db, point_db, center
        )
        self.biometric_key = biometric_key
        self.point = POINT
        self.run = StationRun(folder)

    @classmethod
    @contextlib.contextmanager
    def create(cls, folder: Path, esign_ca: EsignCA, esign_dir: Path, *, pki_dir: Path,
               passphrase: bytes, now: datetime) -> Iterator[DemoStation]:  # fmt: skip
        """A new station folder as `idkarta center init --esign --pki` and `idkarta point
        init` make it: the Center (series AD open, revoking through the e-signature CA of
        ``esign_dir``, signing EF.SOD with the Document Signer of ``pki_dir``) and point TAS-01
        registered at it through the API, with its biometric data key (file key store)."""
        station.init_center(folder, None, series=SERIES, points=(), esign=esign_dir,
                            pki=pki_dir, now=now)  # fmt: skip
        signer = PKIDocumentSigner(pki_dir, ask=lambda _prompt, _confirm: passphrase.decode())
        with contextlib.closing(signer), station.open_center(folder, None) as center_db:
            # The CA is at hand here (its key already open), so the Center revokes through it.
            app = create_app(center_db, revoke=center_service.esign_revoker(esign_ca),
                             sod_signer=signer)  # fmt: skip
            with CenterClient.in_process(app) as client:
                station.init_point(folder, POINT, center=client)
                key = create_file_key(folder / KEY_FILE, passphrase)
                with station.open_point(folder) as (_, point_db):
                    yield cls(folder, center_db, point_db, client, key)

    def capture(self, app_id: str, applicant: Applicant, *, now: datetime) -> CaptureReport:
        """Stage 2: the face and the fingers through their quality gates, stored encrypted."""
        report = point_capture.capture(
            self.point_db, app_id, CounterDevice(applicant), key=self.biometric_key,
            operator=OPERATOR, point=self.point, now=now,
            fingers=sorted(f.position for f in applicant.fingers))  # fmt: skip
        if not report.complete:
            refused = "; ".join(f"{r}: {m}" for s in report.refused for r, m in s.problems)
            raise StationError(f"capture refused: {refused}")
        self.run.captures[app_id] = report
        return report

    def card_files(self, app_id: str, card: CardInfo, keys: CardKeys, *, now: datetime,
                   signature: bytes | None = None) -> Dump:  # fmt: skip
        """Stage 4, the pipeline's first steps: every chip file from the application, the
        Center's card record and the accepted captures (station.point.lds), and EF.SOD signed at
        the Center from the data-group hashes (only the hashes travel); ``signature``: DG7."""
        captures = point_capture.accepted_captures(self.point_db, app_id, self.biometric_key)
        assert captures.face is not None
        fingers: list[FingerCapture | FingerException] = [*captures.fingers,
                                                          *captures.exceptions]  # fmt: skip
        lds = build_lds(point_service.status(self.point_db, app_id), card, point=self.point,
                        face=captures.face, fingers=fingers, keys=keys,
                        personalized_at=now, signature=signature)  # fmt: skip
        sod = self.center.sign_sod(card.card, point=self.point.code, hashes=sod_hashes(lds))
        return with_sod(lds, sod)

    def apply(self, form: ApplicationForm, *, now: datetime, app_id: str) -> Application:
        """Stages 1-2: the point accepts the application with its documents."""
        app = point_service.apply(self.point_db, form, point=self.point, operator=OPERATOR,
                                  now=now, app_id=app_id)  # fmt: skip
        self.run.application = app
        return app

    def submit(self, app_id: str, *, now: datetime) -> CardInfo:
        """Stage 3: the request to the Center; its answer (PINFL, card number) comes back."""
        returned = point_service.submit(self.point_db, app_id, center=self.center, now=now)
        assert returned.card is not None
        card = self.center.card_info(returned.card)
        if self.run.returned is None:
            self.run.returned, self.run.card = returned, card
        else:
            self.run.replacement_returned = returned
        return card

    def mark(self, app_id: str, status: ApplicationStatus, *, now: datetime) -> None:
        """Stage 4: personalized, then verified, recorded at the point and the Center."""
        point_service.mark(self.point_db, app_id, status, center=self.center, operator=OPERATOR,
                           point=self.point, now=now)  # fmt: skip

    def record_esign(self, card: str, issued: IssuedCertificate) -> CardInfo:
        """The first-issue e-signature certificate on the card's registry entry (decree §5д)."""
        der = bytes(issued.certificate.dump())
        return self.center.record_esign(card, serial=issued.serial,
                                        fingerprint=hashlib.sha256(der).hexdigest())  # fmt: skip

    def hand_over(self, app_id: str, form: ApplicationForm, *, now: datetime,
                  pipeline: Pipeline | None = None) -> Handover:  # fmt: skip
        """Stage 4 (or 6): the verified card to the holder, who shows his identity document;
        ``pipeline``: what made the restored card."""
        handover = point_service.handover(
            self.point_db, app_id, receiver_role=ApplicantRole.HOLDER,
            receiver_name=form.applicant.name, receiver_document=form.applicant.document,
            operator=OPERATOR, point=self.point, center=self.center, now=now,
        )  # fmt: skip
        if pipeline is None:
            self.run.handover = handover
            self.run.card = self.center.card_info(handover.card)
        else:
            self.run.restored = Restored(handover, pipeline)
        return handover

    def personalize(self, app_id: str, applicant: Applicant, *, esign_ca: EsignCA,
                    anchors: GateAnchors, cvca: CVCertificate, pin: str, puk: str,
                    now: datetime, image: Path) -> Pipeline:  # fmt: skip
        """Stage 4 (or 6) through the point's personalization pipeline: a virtual blank taken
        into stock and into the reader, the chip files from the accepted captures, EF.SOD signed
        at the Center, the chip personalized and locked, the e-signature enrolled (the Center's
        CA, OneID event), the read-back gate, ready (point and Center: verified). ``image``
        gets a copy of the finished chip (the card the holder takes)."""
        serials = make_virtual_blanks(self.folder, batch=f"DEMO-{app_id}", count=1)
        receive(self.point_db, batch=f"DEMO-{app_id}", blanks=serials, now=now)
        done: list[str] = []

        def progress(event: JobEvent) -> None:
            if event.phase == "done" and event.step is not None:
                done.append(event.step.value)

        def captures(app: Application) -> Any:
            return point_capture.accepted_captures(self.point_db, app.id, self.biometric_key)

        services = JobServices(
            db=self.point_db, center=self.center, point=self.point, operator=OPERATOR,
            esign=esign_ca, anchors=anchors, cvca=cvca,
            build_lds=lds_builder(point=self.point, face=lambda app: captures(app).face,
                                  fingers=lambda app: (*captures(app).fingers,
                                                       *captures(app).exceptions),
                                  signature=lambda app: applicant.signature),
            pin=lambda: pin, puk=lambda: puk, clock=lambda: now, on_event=progress,
            sealing=self.biometric_key,
        )  # fmt: skip
        (result,) = personalize_applications(services, [app_id],
                                             [VirtualReader("reader-1", self.folder)])
        if isinstance(result, BaseException):
            raise result
        if result.status is not JobStatus.READY or result.blank is None:
            raise StationError(f"the pipeline did not finish the card: {result.error}")
        write_atomic(image, virtual_blank_path(self.folder, result.blank).read_bytes(), 0o600)
        return Pipeline(result, tuple(done), image)

    def report_lost(self, card: str, *, now: datetime, app_id: str) -> Application:
        """Stage 5: the holder lost the card and applies to restore it (form, fee receipt)."""
        app = point_service.replace(
            self.point_db, previous_card=card, ground=Ground.LOST,
            documents=frozenset({DocumentKind.APPLICATION_FORM, DocumentKind.FEE_RECEIPT}),
            applicant_document=PREVIOUS_PASSPORT, point=self.point, operator=OPERATOR,
            center=self.center, now=now, app_id=app_id,
        )  # fmt: skip
        self.run.replacement = app
        return app

    def check_revoked(self, ca: EsignCA, issued: IssuedCertificate, crl_path: Path) -> Revoked:
        """What the e-signature CA says now of the lost card's certificate: its CRL (written to
        ``crl_path``) and its OCSP answer."""
        from pki.ocsp import OCSPResponder

        crl = ca.issue_crl()
        write_atomic(crl_path, bytes(crl.dump()))
        serials = {int(e["user_certificate"].native)
                   for e in (crl["tbs_cert_list"]["revoked_certificates"] or [])}  # fmt: skip
        answer = OCSPResponder(ca).respond(
            request_for(issued.certificate, ca.certificate, b"idkarta-demo-0001"))
        statuses = parse_response(answer)
        revoked = Revoked(serial=issued.serial, in_crl=issued.serial in serials,
                          crl_path=crl_path,
                          ocsp_status=statuses[0].status if statuses else "no answer")
        self.run.revoked = revoked
        return revoked

    def finish(self, previous: str) -> StationRun:
        self.run.previous_card = self.center.card_info(previous)
        self.run.status = self.center.center_status()
        return self.run


def due_note(app: Application) -> str:
    """``2026-12-07 (1 working day)``: the due date and the rule it follows."""
    days = rule(app.form.ground).working_days
    return f"{app.due_date.isoformat()} ({days} working day{'s' if days > 1 else ''})"


def local_time(at: datetime) -> str:
    """``2026-12-05 09:14`` in Tashkent's time, where the point and the Center are."""
    return at.astimezone(TASHKENT).strftime("%Y-%m-%d %H:%M")
