"""The collection point's personalization jobs (issue 11): one application's card on one reader,
a persisted state machine (:mod:`station.domain.jobs`) that survives a crash at any step.

Each step is recorded ``started`` in the point's database before its effect begins and ``done``
(with what it made) after; :func:`run_job` picks a job up wherever it is:

1. **take-blank**: the oldest blank of the stock goes into the job's reader (``in-use``), with a
   new K_perso for its e-signature application;
2. **build-lds**: the chip's keys (Chip and Active Authentication) and every file but EF.SOD
   (:data:`LDSBuilder`, e.g. :func:`lds_builder` over :func:`station.point.lds.build_lds`);
3. **sign-sod**: the data-group hashes to the Center, EF.SOD back (same hashes, same SOD);
4. **personalize**: files and secrets written over APDUs, verified, the chip locked; found
   ``started`` after a crash, the blank is spoiled ("personalization interrupted");
5. **esign-enrol**: the holder's key made in the chip, the PIN from a callable (never stored or
   logged), the request certified by the Center's e-signature CA with its OneID event in the
   same transaction; picked up again, it finds the certificate already issued for the chip's
   key instead of asking for another;
6. **read-back-gate**: :func:`station.point.gate.run_gate`;
7. **ready**: the certificate on the card's registry entry, the application and the card
   ``personalized`` then ``verified`` (point and Center), the blank ``issued``, the chip's keys
   wiped.

A blank that fails step 4-6 is spoiled with the reason, its certificate (if any) revoked, and the
job takes a new blank with the same card number, files and EF.SOD (:data:`MAX_BLANKS` at most).
Progress is reported to ``on_event`` (:class:`JobEvent`: a step started, performed, done).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from idcard.chip import ChipSecrets, ChipTransport, VirtualChip
from idcard.chip.state import DurableChip
from idcard.cvc import CVCertificate
from idcard.errors import IdkartaError
from idcard.esign import FID_CA_CERTIFICATE, FID_CERTIFICATE, ESignCard
from idcard.lds.dg1 import DG1
from idcard.lds.dump import Dump
from idcard.reader.personalize import personalize
from idcard.transport import Transport
from pki.esign import EsignCA, HolderRecord, IssuedCertificate
from pki.esign_register import spki_sha256
from station.card_data import CardKeys
from station.center.models import CardInfo
from station.db import Database
from station.db.point_job_tables import Blank as BlankRow
from station.db.point_job_tables import Job as JobRow
from station.db.point_tables import PointEvent
from station.domain.jobs import (
    MAX_BLANKS,
    JobStatus,
    Phase,
    Resume,
    Step,
    check_transition,
    next_step,
    on_card_failure,
    on_resume,
)
from station.enrollment import enroll_card
from station.outbox import Outbox
from station.point import service as point_service
from station.point.config import PointConfig
from station.point.errors import NotFound, PointError, WrongState
from station.point.gate import GateAnchors, run_gate
from station.point.models import Application, ApplicationStatus
from station.point.stock import (
    BlankStatus,
    end_blank,
    historical_bytes,
    take_blank,
    virtual_blank_path,
)

__all__ = [
    "JobCenter",
    "JobEvent",
    "JobInfo",
    "JobServices",
    "LDSBuilder",
    "PCSCReader",
    "Reader",
    "VirtualReader",
    "create_job",
    "job_info",
    "list_jobs",
    "lds_builder",
    "personalize_applications",
    "run_job",
]

log = logging.getLogger(__name__)


class JobCenter(point_service.CenterAPI, Protocol):
    """What a job asks of the Center (:class:`station.client.CenterClient` has it)."""

    def sign_sod(self, card: str, *, point: str, algorithm: str = "sha256",
                 hashes: dict[int, bytes]) -> bytes: ...  # fmt: skip

    def record_esign(self, card: str, *, serial: int, fingerprint: str,
                     oneid_event_id: str | None = None) -> CardInfo: ...  # fmt: skip


class Sealing(Protocol):
    """AES-GCM under the point's data key (``station.point.biometrics.BiometricKey`` has it)."""

    def seal(self, plaintext: bytes, aad: bytes) -> bytes: ...

    def open(self, sealed: bytes, aad: bytes) -> bytes: ...


class LDSBuilder(Protocol):
    """Every chip file but EF.SOD of ``application``'s card (see :func:`lds_builder`)."""

    def __call__(self, application: Application, card: CardInfo, *, keys: CardKeys,
                 personalized_at: datetime) -> Dump: ...  # fmt: skip


class Reader(Protocol):
    """A card reader with the job's blank in it: ``transport(serial, historical)`` talks to the
    blank of that chip serial and ATR historical bytes (a :class:`PointError` when the reader
    cannot: no card, another card)."""

    name: str

    def transport(self, serial: str, historical: bytes) -> Transport: ...


class VirtualReader:
    """The embedded default: the virtual blank ``serial`` of ``folder/blanks`` (see
    :func:`station.point.stock.make_virtual_blanks`), saved after every command that changes
    it (:class:`~idcard.chip.state.DurableChip`: a killed process leaves the chip as a real
    card would be). ``durable=False`` keeps the chips in memory (benchmarks)."""

    def __init__(self, name: str, folder: Path, *, durable: bool = True) -> None:
        self.name, self.folder, self.durable = name, folder, durable
        self._chips: dict[str, VirtualChip] = {}

    def transport(self, serial: str, historical: bytes) -> Transport:
        path = virtual_blank_path(self.folder, serial)
        if not self.durable:
            chip = self._chips.get(serial) or VirtualChip.load(path)
            self._chips[serial] = chip
            return ChipTransport(chip)
        return ChipTransport(DurableChip(VirtualChip.load(path), path))


class PCSCReader:
    """A PC/SC reader (any reader pyscard sees; pcscd + vpcd in the tests): the card in it must
    show the blank's ATR historical bytes (a virtual chip cannot tell its serial over PC/SC)."""

    def __init__(self, name: str, reader: str | int, *, wait: float = 0.0) -> None:
        self.name, self.reader, self.wait = name, reader, wait

    def transport(self, serial: str, historical: bytes) -> Transport:
        from idcard.reader.pcsc import PCSCTransport

        try:
            transport = PCSCTransport.connect(self.reader, wait=self.wait)
        except IdkartaError as exc:
            raise PointError("reader", f"{self.name}: no card to use ({exc})") from None
        if historical_bytes(transport.atr) != historical:
            transport.close()
            raise PointError("reader", f"{self.name}: the card in the reader is not blank "
                             f"{serial} (other ATR historical bytes)")  # fmt: skip
        return transport


@dataclass(frozen=True, slots=True)
class JobEvent:
    """Progress: ``phase`` is ``started``, ``performed`` (the effect happened, not yet
    recorded), ``done``, ``spoiled`` (``detail``: the reason), ``ready`` or ``failed``."""

    job: str
    application: str
    reader: str
    step: Step | None
    phase: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class JobServices:
    """A job's dependencies. ``pin`` gives the holder's new PIN (PIN pad or prompt), ``puk``
    the station's PUK; neither is stored or logged."""

    db: Database
    center: JobCenter
    point: PointConfig
    operator: str
    esign: EsignCA
    anchors: GateAnchors
    cvca: CVCertificate
    build_lds: LDSBuilder
    pin: Callable[[], str] = field(repr=False)
    puk: Callable[[], str] = field(repr=False)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    on_event: Callable[[JobEvent], None] | None = None
    outbox: Outbox | None = None
    sealing: Sealing | None = field(default=None, repr=False)
    """The point's data key (:class:`station.point.biometrics.BiometricKey`): with it the chip's
    private keys and K_perso are kept AES-GCM sealed in the job's row; without, in the clear."""


@dataclass(frozen=True, slots=True)
class JobInfo:
    id: str
    application: str
    reader: str
    card: str
    status: JobStatus
    step: Step | None
    phase: Phase
    blank: str | None
    blanks_used: int
    esign_serial: int | None
    error: str | None
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "application": self.application, "reader": self.reader,
                "card": self.card, "status": self.status.value,
                "step": self.step.value if self.step else None, "phase": self.phase.value,
                "blank": self.blank, "blanks_used": self.blanks_used,
                "esign_serial": None if self.esign_serial is None else f"{self.esign_serial:x}",
                "error": self.error, "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat()}  # fmt: skip


def _info(session: Any, row: JobRow) -> JobInfo:
    blank = session.get(BlankRow, row.blank_id) if row.blank_id is not None else None
    return JobInfo(
        id=row.id, application=row.application_id, reader=row.reader, card=row.card,
        status=JobStatus(row.status), step=Step(row.step) if row.step else None,
        phase=Phase(row.phase), blank=blank.serial if blank else None,
        blanks_used=row.blanks_used,
        esign_serial=int(row.esign_serial, 16) if row.esign_serial else None,
        error=row.error, created_at=row.created_at, updated_at=row.updated_at,
    )  # fmt: skip


# -- queries and creation --------------------------------------------------------------------


def create_job(db: Database, app_id: str, *, reader: str, now: datetime) -> JobInfo:
    """The job of application ``app_id`` (returned by the Center: it has its card number); the
    job already made for it is returned as it is (one job per application)."""
    with db.session() as session:
        found = session.scalar(select(JobRow).where(JobRow.application_id == app_id))
        if found is not None:
            return _info(session, found)
        app = point_service._row(session, app_id, for_update=True)
        if app.status != ApplicationStatus.RETURNED.value or app.card is None:
            raise WrongState("application", f"{app_id} is {app.status}: a card is personalized "
                             "for an application the Center returned")  # fmt: skip
        row = JobRow(id=str(uuid.uuid4()), application_id=app_id, reader=reader, card=app.card,
                     status=JobStatus.RUNNING.value, step=Step.TAKE_BLANK.value,
                     phase=Phase.PENDING.value, blanks_used=0,
                     can=f"{secrets.randbelow(10**6):06d}", created_at=now,
                     updated_at=now)  # fmt: skip
        session.add(row)
        session.add(PointEvent(application_id=app_id, at=now, operator=app.operator,
                               what="job-created", detail=f"reader {reader}"))  # fmt: skip
        session.flush()
        return _info(session, row)


def job_info(db: Database, job_id: str) -> JobInfo:
    with db.session(write=False) as session:
        row = session.get(JobRow, job_id)
        if row is None:
            raise NotFound("job", f"no job {job_id!r} at this point")
        return _info(session, row)


def list_jobs(db: Database, *, status: JobStatus | None = None) -> list[JobInfo]:
    with db.session(write=False) as session:
        query = select(JobRow).order_by(JobRow.created_at, JobRow.id)
        if status is not None:
            query = query.where(JobRow.status == status.value)
        return [_info(session, r) for r in session.scalars(query)]


# -- the runner --------------------------------------------------------------------------------


class _CardFailure(Exception):
    """The blank failed a card step; ``reason`` goes into the stock."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def run_job(services: JobServices, job_id: str, reader: Reader) -> JobInfo:
    """Run job ``job_id`` on ``reader`` from wherever it is to ``ready`` or ``failed``.

    A job found mid-step after a crash is decided by :func:`station.domain.jobs.on_resume`.
    Errors that are not the blank's (the Center unreachable, a refusal) leave the job at its
    step, ``pending``, with the error recorded, and are raised: running it again goes on.
    """
    runner = _Runner(services, job_id, reader)
    return runner.run()


class _Runner:
    def __init__(self, services: JobServices, job_id: str, reader: Reader) -> None:
        self.s, self.job_id, self.reader = services, job_id, reader

    # -- bookkeeping ---------------------------------------------------------------------------

    def _emit(self, row: JobRow, step: Step | None, phase: str, detail: str = "") -> None:
        if self.s.on_event is not None:
            self.s.on_event(JobEvent(self.job_id, row.application_id, self.reader.name, step,
                                     phase, detail))  # fmt: skip

    def _load(self) -> JobRow:
        with self.s.db.session(write=False) as session:
            row = session.get(JobRow, self.job_id)
            if row is None:
                raise NotFound("job", f"no job {self.job_id!r} at this point")
            return row

    def _event(self, session: Any, row: JobRow, what: str, detail: str, now: datetime) -> None:
        session.add(PointEvent(application_id=row.application_id, at=now,
                               operator=self.s.operator, what=what, detail=detail))  # fmt: skip

    def _start(self, step: Step) -> JobRow:
        now = self.s.clock()
        with self.s.db.session() as session:
            row = session.get(JobRow, self.job_id, with_for_update=True)
            assert row is not None
            row.phase, row.updated_at, row.error = Phase.STARTED.value, now, None
            self._event(session, row, "job-step", f"{step.value} started", now)
        self._emit(row, step, "started")
        return row

    def _done(self, step: Step, apply: Callable[[Any, JobRow], None] | None = None) -> JobRow:
        now = self.s.clock()
        with self.s.db.session() as session:
            row = session.get(JobRow, self.job_id, with_for_update=True)
            assert row is not None
            if apply is not None:
                apply(session, row)
            following = next_step(step, lds_made=row.lds is not None)
            if following is not None:
                check_transition(step, following)
            row.step = following.value if following else None
            row.phase, row.updated_at = Phase.PENDING.value, now
            if following is None:
                row.status = JobStatus.READY.value
            self._event(session, row, "job-step", f"{step.value} done", now)
        self._emit(row, step, "done")
        return row

    def _spoil(self, step: Step, reason: str) -> JobRow:
        """The blank in the reader is spoiled with ``reason``; its certificate revoked first."""
        row = self._load()
        if row.esign_serial:
            self._revoke(int(row.esign_serial, 16))
        now = self.s.clock()
        with self.s.db.session() as session:
            locked = session.get(JobRow, self.job_id, with_for_update=True)
            assert locked is not None
            row = locked
            if row.blank_id is not None:
                blank = session.get(BlankRow, row.blank_id)
                if blank is not None and blank.status == BlankStatus.IN_USE.value:
                    end_blank(session, row.blank_id, BlankStatus.SPOILED, now=now,
                              reason=f"{step.value}: {reason}"[:1000])  # fmt: skip
            decision = on_card_failure(step, blanks_used=row.blanks_used)
            if decision.step is not None:
                check_transition(step, decision.step)
            row.blank_id, row.k_perso, row.esign_serial = None, None, None
            row.step = decision.step.value if decision.step else None
            row.status, row.phase, row.updated_at = decision.status.value, Phase.PENDING.value, now
            row.error = f"{step.value}: {reason}"[:2000]
            if decision.status is JobStatus.FAILED:
                row.chip_keys = None
            self._event(session, row, "blank-spoiled", f"{step.value}: {reason}"[:1000], now)
        self._emit(row, step, "spoiled", reason)
        if decision.status is JobStatus.FAILED:
            self._emit(row, None, "failed", f"{MAX_BLANKS} blanks spoiled")
        return row

    def _revoke(self, serial: int) -> None:
        found = self.s.esign.register.get(serial)
        if found is not None and found.revoked_at is None:
            self.s.esign.revoke(serial, "cessation_of_operation")

    def _fail_soft(self, exc: BaseException) -> None:
        with self.s.db.session() as session:
            row = session.get(JobRow, self.job_id, with_for_update=True)
            assert row is not None
            row.phase, row.error = Phase.PENDING.value, f"{type(exc).__name__}: {exc}"[:2000]

    # -- the loop -------------------------------------------------------------------------------

    def run(self) -> JobInfo:
        while True:
            row = self._load()
            if row.status != JobStatus.RUNNING.value or row.step is None:
                return job_info(self.s.db, self.job_id)
            step, phase = Step(row.step), Phase(row.phase)
            if on_resume(step, phase) is Resume.SPOIL:
                self._spoil(step, "personalization interrupted (the card cannot be trusted)")
                continue
            try:
                self._step(step, row)
            except _CardFailure as failure:
                self._spoil(step, failure.reason)
            except IdkartaError as exc:  # the Center, the stock, the database: not the blank's
                self._fail_soft(exc)
                raise

    def _step(self, step: Step, row: JobRow) -> None:
        {
            Step.TAKE_BLANK: self._take_blank,
            Step.BUILD_LDS: self._build_lds,
            Step.SIGN_SOD: self._sign_sod,
            Step.PERSONALIZE: self._personalize,
            Step.ENROL: self._enrol,
            Step.GATE: self._gate,
            Step.READY: self._ready,
        }[step](row)

    # -- the steps ------------------------------------------------------------------------------

    def _take_blank(self, row: JobRow) -> None:
        row = self._start(Step.TAKE_BLANK)

        def take(session: Any, job: JobRow) -> None:
            blank = take_blank(session, job=job.id, card=job.card)
            job.blank_id, job.blanks_used = blank.id, job.blanks_used + 1
            job.k_perso = _seal(self.s, job.id, "k-perso", os.urandom(16))

        self._emit(row, Step.TAKE_BLANK, "performed")
        self._done(Step.TAKE_BLANK, take)

    def _application(self, row: JobRow) -> tuple[Application, CardInfo]:
        app = point_service.status(self.s.db, row.application_id)
        assert app.card is not None
        return app, self.s.center.card_info(app.card)

    def _build_lds(self, row: JobRow) -> None:
        row = self._start(Step.BUILD_LDS)
        app, card = self._application(row)
        keys, when = CardKeys.generate(), self.s.clock()
        lds = self.s.build_lds(app, card, keys=keys, personalized_at=when)
        self._emit(row, Step.BUILD_LDS, "performed")

        def record(session: Any, job: JobRow) -> None:
            job.chip_keys = _seal(self.s, job.id, "chip-keys", _keys_bytes(keys))
            job.personalized_at = when
            job.lds = json.dumps({n: d.hex() for n, d in lds.files.items()})

        self._done(Step.BUILD_LDS, record)

    def _sign_sod(self, row: JobRow) -> None:
        row = self._start(Step.SIGN_SOD)
        lds = _dump(row)
        from station.point.lds import sod_hashes, with_sod

        sod = self.s.center.sign_sod(row.card, point=self.s.point.code, algorithm="sha256",
                                     hashes=sod_hashes(lds, "sha256"))  # fmt: skip
        files = with_sod(lds, sod).files
        self._emit(row, Step.SIGN_SOD, "performed")

        def record(session: Any, job: JobRow) -> None:
            job.lds = json.dumps({n: d.hex() for n, d in files.items()})

        self._done(Step.SIGN_SOD, record)

    @contextlib.contextmanager
    def _card(self, row: JobRow) -> Iterator[Transport]:
        """The job's blank in the reader (a reader that cannot give it, e.g. another card
        inserted, is not the blank's failure: the job stops at its step); closed after."""
        with self.s.db.session(write=False) as session:
            blank = session.get(BlankRow, row.blank_id) if row.blank_id is not None else None
            if blank is None:
                raise WrongState("job", f"job {row.id} has no blank in its reader")
            serial, historical = blank.serial, bytes.fromhex(blank.historical)
        transport = self.reader.transport(serial, historical)
        try:
            yield transport
        finally:
            close = getattr(transport, "close", None)
            if callable(close):
                with contextlib.suppress(IdkartaError):
                    close()

    def _personalize(self, row: JobRow) -> None:
        row = self._start(Step.PERSONALIZE)
        ca_key, aa_key = _keys(self.s, row)
        with self._card(row) as transport:
            try:
                personalize(transport, _dump(row), ChipSecrets(
                    ca_private_key=ca_key, aa_private_key=aa_key, can=row.can,
                    cvca=self.s.cvca, esign_perso_key=_k_perso(self.s, row),
                ))  # fmt: skip
            except IdkartaError as exc:
                raise _CardFailure(f"personalization failed: {exc}") from exc
        self._emit(row, Step.PERSONALIZE, "performed")
        self._done(Step.PERSONALIZE)

    def _holder(self, row: JobRow) -> HolderRecord:
        app, card = self._application(row)
        mrz = DG1.decode(_dump(row).files["DG1"]).mrz
        assert app.pinfl is not None
        return HolderRecord(pinfl=app.pinfl, surname=mrz.surname, given_name=mrz.given_names,
                            card_number=row.card, card_expiry=card.expiry_date)  # fmt: skip

    def _enrol(self, row: JobRow) -> None:
        row = self._start(Step.ENROL)
        record = self._holder(row)
        k_perso = _k_perso(self.s, row)
        with self._card(row) as transport:
            try:
                issued = self._existing(transport, row, record) or enroll_card(
                    transport, k_perso=k_perso, record=record, ca=self.s.esign,
                    pin=self.s.pin, puk=self.s.puk(), outbox=self.s.outbox,
                ).issued  # fmt: skip
            except IdkartaError as exc:
                raise _CardFailure(f"e-signature enrolment failed: {exc}") from exc
        self._emit(row, Step.ENROL, "performed")

        def record_serial(session: Any, job: JobRow) -> None:
            job.esign_serial = f"{issued.serial:x}"

        self._done(Step.ENROL, record_serial)

    def _existing(self, transport: Transport, row: JobRow,
                  record: HolderRecord) -> IssuedCertificate | None:  # fmt: skip
        """The certificate an interrupted enrolment already got for the key in this chip (then
        written to the chip if it is not there yet); certificates of this card for a key that
        is not in the chip are revoked. None: enrol anew."""
        issued = [c for c in self.s.esign.register.by_pinfl(record.pinfl)
                  if c.card_number == row.card and c.revoked_at is None
                  and c.kind == "natural_person"]  # fmt: skip
        if not issued:
            return None
        card = ESignCard(transport)
        card.select()
        try:
            spki = spki_sha256(card.public_key())
        except IdkartaError:
            spki = None
        mine = None
        for cert in issued:
            if spki is not None and _cert_spki(cert) == spki:
                mine = cert
            else:
                self._revoke(cert.serial)
        if mine is None:
            return None
        if card.read_file(FID_CERTIFICATE) != mine.der:
            secure = card.open_personalization(_k_perso(self.s, row))
            secure.write_file(mine.der, FID_CERTIFICATE)
            secure.write_file(bytes(self.s.esign.certificate.dump()), FID_CA_CERTIFICATE)
            card = ESignCard(transport)
            card.select()
            if card.read_file(FID_CERTIFICATE) != mine.der:
                raise _CardFailure("the certificate read back from the card differs")
        log.info("job %s: certificate %x found issued for the chip's key", row.id, mine.serial)
        return mine

    def _gate(self, row: JobRow) -> None:
        row = self._start(Step.GATE)
        expected = None
        if row.esign_serial:
            found = self.s.esign.register.get(int(row.esign_serial, 16))
            expected = found.der if found is not None else None
        with self._card(row) as transport:
            report = run_gate(transport, written=_dump(row).files, can=row.can,
                              anchors=self.s.anchors, esign_certificate=expected)  # fmt: skip
        if not report.ok:
            raise _CardFailure(f"read-back gate: {report.reason}")
        self._emit(row, Step.GATE, "performed")
        self._done(Step.GATE)

    def _ready(self, row: JobRow) -> None:
        row = self._start(Step.READY)
        s = self.s
        if row.esign_serial:
            found = s.esign.register.get(int(row.esign_serial, 16))
            assert found is not None
            s.center.record_esign(row.card, serial=found.serial, fingerprint=found.fingerprint)
        for status in (ApplicationStatus.PERSONALIZED, ApplicationStatus.VERIFIED):
            app = point_service.status(s.db, row.application_id)
            order = [ApplicationStatus.RETURNED, ApplicationStatus.PERSONALIZED,
                     ApplicationStatus.VERIFIED]  # fmt: skip
            if app.status in order and order.index(app.status) < order.index(status):
                point_service.mark(s.db, row.application_id, status, center=s.center,
                                   operator=s.operator, point=s.point, now=s.clock())  # fmt: skip
        self._emit(row, Step.READY, "performed")

        def finish(session: Any, job: JobRow) -> None:
            if job.blank_id is not None:
                end_blank(session, job.blank_id, BlankStatus.ISSUED, now=s.clock())
            job.chip_keys, job.k_perso = None, None

        row = self._done(Step.READY, finish)
        self._emit(row, None, "ready", row.card)


# -- helpers -----------------------------------------------------------------------------------


def _keys_bytes(keys: CardKeys) -> bytes:
    def der(key: ec.EllipticCurvePrivateKey) -> str:
        return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).hex()  # fmt: skip

    return json.dumps({"ca": der(keys.chip_authentication),
                       "aa": der(keys.active_authentication)}).encode()  # fmt: skip


_CLEAR, _SEALED = b"\x00", b"\x01"


def _seal(services: JobServices, job: str, what: str, secret: bytes) -> bytes:
    """``secret`` as the job's row keeps it: sealed under the point's data key (bound to the job
    and to what it is), or in the clear when the services have no key."""
    if services.sealing is None:
        return _CLEAR + secret
    return _SEALED + services.sealing.seal(secret, f"idkarta job {job} {what}".encode())


def _unseal(services: JobServices, job: str, what: str, kept: bytes | None) -> bytes:
    if kept is None:
        raise WrongState("job", f"job {job} has no {what} (its step was not reached)")
    if kept[:1] == _CLEAR:
        return kept[1:]
    if services.sealing is None:
        raise WrongState("job", f"job {job}'s {what} is sealed: the point's data key is needed")
    return services.sealing.open(kept[1:], f"idkarta job {job} {what}".encode())


def _k_perso(services: JobServices, row: JobRow) -> bytes:
    return _unseal(services, row.id, "k-perso", row.k_perso)


ChipKeyPair = tuple[ec.EllipticCurvePrivateKey, ec.EllipticCurvePrivateKey]


def _keys(services: JobServices, row: JobRow) -> ChipKeyPair:
    data = json.loads(_unseal(services, row.id, "chip-keys", row.chip_keys))
    keys = []
    for name in ("ca", "aa"):
        key = serialization.load_der_private_key(bytes.fromhex(data[name]), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        keys.append(key)
    return keys[0], keys[1]


def _dump(row: JobRow) -> Dump:
    if row.lds is None:
        raise WrongState("job", f"job {row.id} has no LDS yet")
    return Dump({n: bytes.fromhex(d) for n, d in json.loads(row.lds).items()})


def _cert_spki(cert: IssuedCertificate) -> str:
    from pki.ca import certificate_public_key

    return spki_sha256(certificate_public_key(cert.certificate))


# -- the LDS from the captures, and several readers at once -------------------------------------


def lds_builder(*, point: PointConfig, face: Callable[[Application], Any],
                fingers: Callable[[Application], Iterable[Any]] = lambda app: (),
                signature: Callable[[Application], bytes | None] = lambda app: None,
                ) -> LDSBuilder:  # fmt: skip
    """An :data:`LDSBuilder` over :func:`station.point.lds.build_lds` with the application's
    accepted captures (``face``/``fingers``/``signature`` look them up)."""
    from station.point.lds import build_lds

    def build(application: Application, card: CardInfo, *, keys: CardKeys,
              personalized_at: datetime) -> Dump:  # fmt: skip
        return build_lds(application, card, point=point, face=face(application),
                         fingers=fingers(application), keys=keys,
                         personalized_at=personalized_at,
                         signature=signature(application))  # fmt: skip

    return build


def personalize_applications(
    services: JobServices, app_ids: Sequence[str], readers: Sequence[Reader]
) -> list[JobInfo | BaseException]:
    """Each application's job, several readers at once (one thread per reader, each taking the
    next application); the results in the order of ``app_ids`` (a JobInfo, or the error that
    stopped that job: it can be run again)."""
    if not readers:
        raise PointError("reader", "no reader to personalize with")
    work: queue.Queue[int] = queue.Queue()
    for i in range(len(app_ids)):
        work.put(i)
    results: list[JobInfo | BaseException | None] = [None] * len(app_ids)

    def worker(reader: Reader) -> None:
        while True:
            try:
                i = work.get_nowait()
            except queue.Empty:
                return
            try:
                job = create_job(services.db, app_ids[i], reader=reader.name,
                                 now=services.clock())  # fmt: skip
                results[i] = run_job(services, job.id, reader)
            except Exception as exc:  # reported per application; the others go on
                results[i] = exc

    threads = [threading.Thread(target=worker, args=(r,), name=f"reader-{r.name}")
               for r in readers]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r if r is not None else PointError("application", "not run") for r in results]
