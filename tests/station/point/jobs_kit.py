"""A whole station for the personalization jobs' tests (no tests here): the Center's document
PKI and e-signature CA in file key stores, the Center in process over its database (with the
PKI's Document Signer), a point with returned applications, virtual blanks in stock.

Everything is reopened from ``kit.json`` in the folder, so a worker process (jobs_worker.py)
works on the same station as the test that made it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.station.point.conftest import ADULT, POINT, adult_form

from idcard.cvc import CVCertificate
from idcard.reader.document import TerminalCredentials
from idcard.verify import TrustStore
from pki.cvca import cv_signer, load_certificate
from pki.esign import EsignCA
from pki.filestore import FileKeyStore
from pki.keys import KeySpec
from pki.ocsp import OCSPResponder
from station.api import create_app
from station.capture import check_face, check_finger
from station.center import service as center_service
from station.client import CenterClient
from station.db import Database, Role, open_database
from station.domain.person import PersonName
from station.folders.esign import open_ca
from station.folders.esign import run_init as esign_init
from station.folders.pki import PKIDocumentSigner, run_crl, run_init, run_masterlist
from station.point import service as point_service
from station.point.biometrics import SoftwareBiometricKey
from station.point.gate import GateAnchors
from station.point.jobs import JobEvent, JobServices, VirtualReader, lds_builder
from station.point.stock import make_virtual_blanks, receive

SAMPLES = Path(__file__).resolve().parents[3] / "src" / "station" / "samples"
PASSPHRASE = b"jobs-kit-passphrase"
PIN, PUK = "123456", "12345678"
DATA_KEY = bytes(range(32))  # the point's data key of the kit (seals the jobs' chip keys)
NOW = datetime.now(UTC).replace(microsecond=0)  # the PKI is made now: valid from now


@dataclass(frozen=True)
class Kit:
    folder: Path
    center_url: str
    point_url: str

    def save(self) -> None:
        (self.folder / "kit.json").write_text(json.dumps(
            {"center_url": self.center_url, "point_url": self.point_url}))

    @classmethod
    def load(cls, folder: Path) -> Kit:
        data = json.loads((folder / "kit.json").read_text())
        return cls(folder, data["center_url"], data["point_url"])


def make_pki(folder: Path) -> None:
    """The Center's document PKI (CSCA, DS, MLS, CVCA → DV → IS), its CRL and master list, and
    its e-signature CA, under ``folder`` (file key stores, :data:`PASSPHRASE`)."""
    pki = folder / "pki"
    made = run_init(pki, FileKeyStore(pki / "keys", lambda: PASSPHRASE), country="UZ",
             organization="Republic of Uzbekistan", key_spec=KeySpec.parse("ec-brainpoolP256r1"),
             backend={"type": "file"},
             eac_store=FileKeyStore(pki / "cvc" / "keys", lambda: PASSPHRASE))
    store = FileKeyStore(pki / "keys", lambda: PASSPHRASE)
    (folder / "trust.json").write_text(json.dumps({
        "cvc": {k: made["cvc"][k]["path"] for k in ("cvca", "dv", "is")},
        "csca": str(pki / "certs" / f"{made['csca']['label']}.pem"),
        "crl": run_crl(pki, store, next_update_days=30)["path"],
        "masterlist": run_masterlist(pki, store)["path"],
    }))
    esign = folder / "esign"
    esign_init(esign, {"type": "file"}, base_url="http://127.0.0.1:8080",
               key_spec=KeySpec.parse("ec-p256"), common_name="idkarta e-Signature CA",
               store=FileKeyStore(esign / "keys", lambda: PASSPHRASE))


def esign_ca(folder: Path) -> EsignCA:
    return open_ca(folder / "esign", FileKeyStore(folder / "esign" / "keys", lambda: PASSPHRASE))


def anchors(folder: Path, ca: EsignCA) -> tuple[GateAnchors, CVCertificate]:
    trust_files = json.loads((folder / "trust.json").read_text())
    cvc = trust_files["cvc"]
    cvca, dv, inspection = (load_certificate(Path(cvc[k])) for k in ("cvca", "dv", "is"))
    eac = FileKeyStore(folder / "pki" / "cvc" / "keys", lambda: PASSPHRASE)
    terminal = TerminalCredentials((cvca, dv, inspection), cv_signer(eac.load(inspection.chr)))
    trust = TrustStore.from_paths(trust_files["csca"],
                                  master_lists=[trust_files["masterlist"]],
                                  crls=[trust_files["crl"]])
    return GateAnchors(trust, terminal, ca.certificate, OCSPResponder(ca).respond), cvca


@contextlib.contextmanager
def station(kit: Kit, *, on_event: Callable[[JobEvent], None] | None = None,
            clock: Callable[[], datetime] = lambda: datetime.now(UTC),
            **changes: Any) -> Iterator[tuple[JobServices, Database]]:
    """The kit's services (center in process) and the point's database."""
    center_db = open_database(kit.center_url, Role.CENTER, migrate=False)
    point_db = open_database(kit.point_url, Role.POINT, migrate=False)
    signer = PKIDocumentSigner(kit.folder / "pki",
                               ask=lambda prompt, confirm: PASSPHRASE.decode())
    try:
        app = create_app(center_db, clock=clock, sod_signer=signer)
        with CenterClient.in_process(app) as client:
            ca = esign_ca(kit.folder)
            gate, cvca = anchors(kit.folder, ca)
            face = check_face((SAMPLES / "photo.jpg").read_bytes())
            fingers = (check_finger((SAMPLES / "finger-right-index.jpg").read_bytes(), 2),
                       check_finger((SAMPLES / "finger-left-index.jpg").read_bytes(), 7))
            services = JobServices(
                db=point_db, center=client, point=POINT, operator="aziza", esign=ca,
                anchors=gate, cvca=cvca,
                build_lds=lds_builder(point=POINT, face=lambda app: face,
                                      fingers=lambda app: fingers),
                pin=lambda: PIN, puk=lambda: PUK, clock=clock, on_event=on_event,
                sealing=SoftwareBiometricKey(DATA_KEY, "file:jobs-kit"),
            )  # fmt: skip
            yield replace(services, **changes), point_db
    finally:
        signer.close()
        center_db.close()
        point_db.close()


def reader(kit: Kit, name: str = "R1", **options: Any) -> VirtualReader:
    return VirtualReader(name, kit.folder, **options)


def setup_station(folder: Path, center_db: Database, point_db: Database, *,
                  blanks: int = 4) -> Kit:  # fmt: skip
    """A new station in ``folder`` over the two (migrated) databases: PKI, point TAS-01 and
    series AD at the Center, ``blanks`` virtual blanks in stock (batch B1)."""
    make_pki(folder)
    center_service.register_point(center_db, code=POINT.code, name=POINT.name, kind=POINT.kind,
                                  place_code=POINT.place_code, now=NOW)  # fmt: skip
    center_service.open_series(center_db, "AD")
    add_blanks(folder, point_db, batch="B1", count=blanks)
    kit = Kit(folder, center_db.engine.url.render_as_string(hide_password=False),
              point_db.engine.url.render_as_string(hide_password=False))
    kit.save()
    return kit


def add_blanks(folder: Path, point_db: Database, *, batch: str, count: int) -> None:
    receive(point_db, batch=batch, blanks=make_virtual_blanks(folder, batch=batch, count=count),
            now=NOW)  # fmt: skip


def letters(i: int) -> str:
    """``i`` as letters (a surname holds no digits): 0 → "a", 27 → "bb"."""
    out = ""
    while True:
        out = chr(97 + i % 26) + out
        i //= 26
        if i == 0:
            return out


def returned_application(services: JobServices, i: int) -> str:
    """Application ``i`` (a person of its own, PINFL generated by the Center), submitted and
    returned with its card number."""
    person = replace(ADULT, surname=PersonName(f"Karimov{letters(i)}", ""), pinfl=None)
    app = point_service.apply(services.db, adult_form(person=person), point=POINT,
                              operator="aziza", now=NOW, app_id=f"APP-{i:04d}")  # fmt: skip
    point_service.submit(services.db, app.id, center=services.center, now=NOW)
    return app.id
