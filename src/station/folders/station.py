"""A station folder: the Center's database and configuration, and one collection point.

``center.db`` (SQLite; or a database by URL), ``center.json`` (the Center's settings: the
e-signature CA folder whose certificates it revokes, ``esign``; the document PKI folder whose
Document Signers sign EF.SOD, ``pki``), ``point.json`` (who the point is, its
operators), ``point.db`` (its applications). In the embedded default the point reaches the
Center of the same folder through :class:`station.client.CenterClient` over the Center's ASGI
application in process; a deployment gives the point the URL of a served Center instead.

The command line (``idkarta center …``, ``idkarta point …``) and the demo call these functions;
they hold the wiring, the use cases stay in :mod:`station.center.service` and
:mod:`station.point.service`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pki.errors import PKIError
from pki.filestore import write_atomic
from station.center import service as center_service
from station.center.models import CenterStatus, RevocationInfo
from station.client import CenterClient
from station.db import Database, Role, open_database, sqlite_url
from station.domain.application import PointKind
from station.errors import UsageError
from station.folders.esign import EsignFolder
from station.folders.keys import Ask
from station.folders.pki import PKIDocumentSigner, PKIFolder
from station.point.config import CONFIG_NAME, PointConfig

__all__ = [
    "CENTER_CONFIG",
    "CENTER_DB",
    "POINT_DB",
    "PointSpec",
    "apply_revocations",
    "center_status",
    "center_url",
    "embedded_center",
    "esign_ca_revoker",
    "init_center",
    "init_point",
    "open_center",
    "open_point",
    "revocations",
]

CENTER_DB = "center.db"
CENTER_CONFIG = "center.json"
POINT_DB = "point.db"


@dataclass(frozen=True, slots=True)
class PointSpec:
    """A point registered when the Center is set up (``center init --point``)."""

    code: str
    kind: PointKind
    place_code: str
    name: str


def center_url(folder: Path | None, database: str | None) -> str:
    """The Center's database URL: ``database``, or ``folder/center.db``."""
    if database:
        return database
    if folder is None:
        raise UsageError("give --dir DIR (center.db in it) or --database URL")
    return sqlite_url(folder / CENTER_DB)


def _config_dir(folder: Path | None, key: str) -> Path | None:
    """The folder ``folder/center.json`` names under ``key``, if any."""
    if folder is None or not (folder / CENTER_CONFIG).is_file():
        return None
    try:
        config = json.loads((folder / CENTER_CONFIG).read_text(encoding="utf-8"))
        value = config.get(key)
    except (OSError, ValueError, AttributeError):
        raise UsageError(f"{folder / CENTER_CONFIG}: not a usable Center configuration") from None
    if value is None:
        return None
    path = Path(value)
    return path if path.is_absolute() else (folder / path)


def _esign_dir(folder: Path | None) -> Path | None:
    """The e-signature CA folder ``folder/center.json`` names, if any."""
    return _config_dir(folder, "esign")


def _pki_dir(folder: Path | None) -> Path | None:
    """The document PKI folder (its Document Signers sign EF.SOD) ``center.json`` names."""
    return _config_dir(folder, "pki")


def init_center(folder: Path | None, database: str | None, *, series: str,
                points: Sequence[PointSpec], esign: Path | None, now: datetime,
                pki: Path | None = None) -> str:  # fmt: skip
    """Create the Center's database (schema, the open card series, the points given) and, with
    ``esign``, record the e-signature CA folder whose certificates the Center revokes when a
    card leaves its holder; with ``pki``, the document PKI folder whose Document Signers sign
    the cards' EF.SOD. An existing ``center.db`` is never overwritten. Returns where the
    database is (its URL without the password, or the file)."""
    if esign is not None:
        if folder is None:
            raise UsageError("--esign needs --dir (center.json is written there)")
        EsignFolder(esign).config  # noqa: B018 - refuses a folder that is not an e-signature CA
    if pki is not None:
        if folder is None:
            raise UsageError("--pki needs --dir (center.json is written there)")
        try:
            PKIFolder.open(pki)
        except PKIError as exc:
            raise UsageError(str(exc)) from None
    if database is None:
        if folder is None:
            raise UsageError("give --dir DIR (center.db in it) or --database URL")
        if (folder / CENTER_DB).exists():
            raise UsageError(f"{folder / CENTER_DB} exists: a Center is already there")
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    db = open_database(center_url(folder, database), Role.CENTER)
    try:
        center_service.open_series(db, series)
        for p in points:
            center_service.register_point(db, code=p.code, name=p.name, kind=p.kind,
                                          place_code=p.place_code, now=now)  # fmt: skip
    finally:
        db.close()
    if (esign is not None or pki is not None) and folder is not None:
        config = {key: str(path.resolve()) for key, path in (("esign", esign), ("pki", pki))
                  if path is not None}  # fmt: skip
        write_atomic(folder / CENTER_CONFIG,
                     (json.dumps(config, indent=2) + "\n").encode())  # fmt: skip
    return _hide_password(database) if database else str(folder / CENTER_DB)  # type: ignore[operator]


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(database URL)"


def _center_database(folder: Path | None, database: str | None, *, hint: str = "") -> Database:
    """The Center's database opened (``folder/center.db`` must exist when no URL is given;
    ``hint`` ends the message that says it does not)."""
    if database is None and folder is not None and not (folder / CENTER_DB).is_file():
        raise UsageError(f"{folder}: no {CENTER_DB} (run 'idkarta center init --dir {folder}'"
                         f"{hint})")  # fmt: skip
    return open_database(center_url(folder, database), Role.CENTER)


@contextlib.contextmanager
def open_center(folder: Path | None, database: str | None, *,
                hint: str = "") -> Iterator[Database]:  # fmt: skip
    """The Center's database (``folder/center.db`` must exist when no URL is given)."""
    db = _center_database(folder, database, hint=hint)
    try:
        yield db
    finally:
        db.close()


def esign_ca_revoker(esign_dir: Path, *, ask: Ask | None) -> Callable[[int, str], None]:
    """``revoke(serial, reason)`` through the e-signature CA of ``esign_dir``; its key store is
    opened at each revocation (passphrase or PIN from IDKARTA_PASSPHRASE / IDKARTA_PIN, else
    ``ask``; without either the revocation fails and stays pending at the Center)."""

    def revoke(serial: int, reason: str) -> None:
        folder = EsignFolder(esign_dir)
        with folder.store(ask=ask) as store:
            center_service.esign_revoker(folder.ca(store))(serial, reason)

    return revoke


def _revoker(folder: Path | None, ask: Ask | None) -> Callable[[int, str], None] | None:
    esign = _esign_dir(folder)
    return None if esign is None else esign_ca_revoker(esign, ask=ask)


def _sod_signer(folder: Path | None, ask: Ask | None) -> PKIDocumentSigner | None:
    pki = _pki_dir(folder)
    return None if pki is None else PKIDocumentSigner(pki, ask=ask)


@contextlib.contextmanager
def embedded_center(folder: Path, *, ask: Ask | None = None) -> Iterator[CenterClient]:
    """A client of the Center of ``folder`` served by its ASGI application in this process
    (no network); revocations go to the e-signature CA ``center.json`` names, EF.SOD is signed
    by the Document Signers of the PKI folder it names (its key store opened when first
    needed, closed at the end)."""
    from station.api import create_app

    with open_center(folder, None, hint=" or give --center URL") as db:
        signer = _sod_signer(folder, ask)
        try:
            app = create_app(db, revoke=_revoker(folder, ask), sod_signer=signer)
            with CenterClient.in_process(app) as client:
                yield client
        finally:
            if signer is not None:
                signer.close()


@contextlib.contextmanager
def center_client(folder: Path, center_at: str | None, *, ask: Ask | None = None,
                  tls: Path | None = None) -> Iterator[CenterClient]:  # fmt: skip
    """The point's client of the Center: ``center_at`` (a served Center's URL), else the
    embedded Center of ``folder``. An ``https://`` Center is reached with the point's TLS files
    in ``tls``, else in the folder ``point.json``'s ``center_tls`` names."""
    if center_at is None:
        with embedded_center(folder, ask=ask) as client:
            yield client
        return
    if not center_at.lower().startswith("https:"):
        with CenterClient.over_http(center_at) as client:
            yield client
        return
    where = tls or _point_tls(folder)
    with CenterClient.over_http(center_at, cert=where / "cert.pem", key=where / "key.pem",
                                ca=where / "ca.pem") as client:  # fmt: skip
        yield client


def _point_tls(folder: Path) -> Path:
    """The folder of the point's TLS files: the one ``folder/point.json`` names
    (``center_tls``), else ``folder/tls``."""
    if (folder / CONFIG_NAME).is_file():
        named = PointConfig.load(folder).center_tls
        if named is not None:
            return folder / named  # an absolute path stays itself
    if (folder / "tls").is_dir():
        return folder / "tls"
    raise UsageError(f"{folder}: no tls/ folder and no center_tls in {CONFIG_NAME} (the "
                     "point's cert.pem, key.pem and ca.pem) for an https:// Center")  # fmt: skip


def serve_app(folder: Path | None, database: str | None, *, ask: Ask | None = None,
              client_certificates: bool = False,
              extend: Callable[[Any, Database, Callable[[int, str], None] | None], None]
              | None = None) -> Any:  # fmt: skip
    """The Center's ASGI application for ``idkarta center serve`` (its database stays open for
    the life of the process); ``client_certificates``: /v1 requires a point's TLS client
    certificate and limits each point to its own data (:mod:`station.api.auth`);
    ``extend(app, db, revoke)``: what the front adds beside /v1 (the web pages)."""
    from station.api import create_app

    db, revoke = _center_database(folder, database), _revoker(folder, ask)
    app = create_app(db, revoke=revoke, sod_signer=_sod_signer(folder, ask),
                     client_certificates=client_certificates)  # fmt: skip
    if extend is not None:
        extend(app, db, revoke)
    return app


def center_status(folder: Path | None, database: str | None, center_at: str | None, *,
                  tls: Path | None = None) -> CenterStatus:  # fmt: skip
    """Counts of the Center's registry, from its database or a served Center (over https with
    a point's TLS files in ``tls``)."""
    if center_at is not None:
        def file(name: str) -> Path | None:
            return None if tls is None else tls / name

        with CenterClient.over_http(center_at, cert=file("cert.pem"), key=file("key.pem"),
                                    ca=file("ca.pem")) as client:  # fmt: skip
            return client.center_status()
    with open_center(folder, database) as db:
        return center_service.center_status(db)


def revocations(folder: Path | None, database: str | None) -> list[RevocationInfo]:
    """The e-signature revocations the Center queued, pending and applied."""
    with open_center(folder, database) as db:
        return center_service.list_revocations(db)


def apply_revocations(folder: Path | None, database: str | None, *,
                      ask: Ask | None) -> tuple[int, list[RevocationInfo]]:  # fmt: skip
    """Apply the pending revocations through the e-signature CA ``center.json`` names: how many
    were applied, and every revocation afterwards."""
    revoke = _revoker(folder, ask)
    if revoke is None:
        raise UsageError("no e-signature CA is configured for this Center "
                         "('idkarta center init --esign DIR')")  # fmt: skip
    with open_center(folder, database) as db:
        applied = center_service.apply_revocations(db, revoke)
        return applied, center_service.list_revocations(db)


# -- the point ------------------------------------------------------------------------------


@contextlib.contextmanager
def open_point(folder: Path) -> Iterator[tuple[PointConfig, Database]]:
    """The point's configuration (``point.json``) and database (``point.db``)."""
    config = PointConfig.load(folder)
    db = open_database(sqlite_url(folder / POINT_DB), Role.POINT)
    try:
        yield config, db
    finally:
        db.close()


def init_point(folder: Path, config: PointConfig, *, center: CenterClient) -> PointConfig:
    """Set up ``config``'s point in ``folder``: register it at the Center (the same point again
    is no conflict), create ``point.db``, write ``point.json`` last (atomically); an existing
    ``point.json`` is never overwritten."""
    path = folder / CONFIG_NAME
    if path.exists():
        raise UsageError(f"{path} exists: the point is already set up")
    folder.mkdir(parents=True, exist_ok=True)
    center.register_point(code=config.code, name=config.name, kind=config.kind,
                          place_code=config.place_code)  # fmt: skip
    open_database(sqlite_url(folder / POINT_DB), Role.POINT).close()
    write_atomic(path, (json.dumps(config.to_json(), ensure_ascii=False, indent=2) + "\n")
                 .encode())  # fmt: skip
    return config
