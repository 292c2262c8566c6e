"""The Center's audit key and the audit chains of a station folder.

The audit key lives in ``DIR/audit/``: ``audit.json`` (key backend and label), ``audit-key.pem``
(the public key, for verifiers) and, with the file key store, ``keys/`` (encrypted; passphrase
from ``IDKARTA_PASSPHRASE``), or on a PKCS#11 token (PIN from ``IDKARTA_PIN``). The chains are
the Center's (``center.db`` or ``--database``: chain "center") and, when the folder holds a
point, the point's (``point.db``: chain "point:<code>"); the Center signs both, since it holds
every key that signs.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from pki.errors import PKIError
from pki.filestore import write_atomic
from pki.keys import KeySpec, PublicKey, Signer
from station.auditlog import ChainReport, Checkpoint, checkpoint, head, verify
from station.auditlog.checkpoint import key_sha256
from station.auditlog.verify import checkpoints
from station.db import Database, Role, open_database, sqlite_url
from station.errors import UsageError
from station.folders.keys import Ask, open_store
from station.folders.station import POINT_DB, open_center
from station.point.config import CONFIG_NAME, PointConfig

__all__ = [
    "AUDIT_DIR",
    "AuditKeyInfo",
    "audit_key_info",
    "audit_public_key",
    "checkpoint_chains",
    "init_audit_key",
    "run_checkpoints",
    "verify_chains",
]

AUDIT_DIR = "audit"
_CONFIG = "audit.json"
_PUBLIC = "audit-key.pem"
LABEL = "idkarta-audit"


@dataclass(frozen=True, slots=True)
class AuditKeyInfo:
    """Where the audit key is: its backend ("file" or "pkcs11"), label, public key file and the
    SHA-256 of its SubjectPublicKeyInfo."""

    backend: str
    label: str
    public_key: Path
    key_sha256: str


def _dir(folder: Path) -> Path:
    return folder / AUDIT_DIR


def init_audit_key(folder: Path, backend: dict[str, str], *, key_spec: KeySpec,
                   ask: Ask | None = None) -> AuditKeyInfo:  # fmt: skip
    """Make the Center's audit key in ``folder/audit`` (an existing one is never replaced)."""
    root = _dir(folder)
    if (root / _CONFIG).exists():
        raise UsageError(f"{root / _CONFIG} exists: the audit key is already made")
    root.mkdir(parents=True, exist_ok=True)
    with open_store(root, backend, new=True, ask=ask) as store:
        signer = store.generate(LABEL, key_spec)
        public = signer.public_key()
    pem = public.public_bytes(serialization.Encoding.PEM,
                              serialization.PublicFormat.SubjectPublicKeyInfo)  # fmt: skip
    write_atomic(root / _PUBLIC, pem)
    config = {"backend": backend, "label": LABEL, "key_sha256": key_sha256(public)}
    write_atomic(root / _CONFIG, (json.dumps(config, indent=2) + "\n").encode())
    return audit_key_info(folder)


def _config(folder: Path) -> dict[str, Any]:
    path = _dir(folder) / _CONFIG
    try:
        config: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no audit key (run 'idkarta audit init --dir {folder}')"
                         ) from None  # fmt: skip
    except (OSError, ValueError):
        raise UsageError(f"{path}: not a usable audit key configuration") from None
    return config


def audit_key_info(folder: Path) -> AuditKeyInfo:
    """The audit key ``folder/audit/audit.json`` names."""
    config = _config(folder)
    return AuditKeyInfo(backend=str(config["backend"]["type"]), label=str(config["label"]),
                        public_key=_dir(folder) / _PUBLIC,
                        key_sha256=str(config["key_sha256"]))  # fmt: skip


def audit_public_key(path: Path) -> PublicKey:
    """The audit public key in the PEM file ``path``."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError):
        raise UsageError(f"{path}: not a readable PEM public key") from None
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise UsageError(f"{path}: the audit key is neither EC nor RSA")
    return key


@contextlib.contextmanager
def _signer(folder: Path, ask: Ask | None) -> Iterator[Signer]:
    config = _config(folder)
    try:
        with open_store(_dir(folder), config["backend"], ask=ask) as store:
            signer = store.load(str(config["label"]))
            if key_sha256(signer.public_key()) != config["key_sha256"]:
                raise UsageError("the audit key in the key store is not the one audit.json "
                                 "records")  # fmt: skip
            yield signer
    except PKIError as exc:
        raise UsageError(f"audit key: {exc}") from exc


@contextlib.contextmanager
def _chains(folder: Path | None, database: str | None) -> Iterator[list[tuple[str, Database]]]:
    """The Center's chain and, when ``folder`` holds a point, the point's."""
    with open_center(folder, database) as center:
        chains: list[tuple[str, Database]] = [("center", center)]
        point_db = None
        if folder is not None and (folder / CONFIG_NAME).is_file():
            code = PointConfig.load(folder).code
            point_db = open_database(sqlite_url(folder / POINT_DB), Role.POINT)
            chains.append((f"point:{code}", point_db))
        try:
            yield chains
        finally:
            if point_db is not None:
                point_db.close()


def checkpoint_chains(folder: Path, database: str | None, *, by: str, now: datetime,
                      ask: Ask | None = None) -> list[Checkpoint]:  # fmt: skip
    """Sign the head of every chain of the folder with the audit key."""
    with _signer(folder, ask) as signer, _chains(folder, database) as chains:
        return [checkpoint(db, signer, chain=name, by=by, now=now) for name, db in chains]


def run_checkpoints(folder: Path, database: str | None, *, by: str, every: float,
                    report: Callable[[Checkpoint], None], ask: Ask | None = None,
                    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                    sleep: Callable[[float], None] = time.sleep) -> None:  # fmt: skip
    """Every ``every`` seconds, sign the head of each chain that grew since its last checkpoint
    (the first round signs every chain), until interrupted (KeyboardInterrupt ends it). The
    key store is opened once; ``report`` is told of each checkpoint."""
    with _signer(folder, ask) as signer, _chains(folder, database) as chains:
        while True:
            for name, db in chains:
                with db.session(write=False) as s:
                    seq, _ = head(s)
                    done = [c.seq for c in checkpoints(s, name)]
                if not done or max(done) != seq:
                    report(checkpoint(db, signer, chain=name, by=by, now=clock()))
            sleep(every)


def verify_chains(folder: Path | None, database: str | None, *,
                  key: Path | None = None) -> list[ChainReport]:  # fmt: skip
    """Verify every chain; checkpoint signatures with the public key ``key`` (a PEM file), else
    ``folder/audit/audit-key.pem`` when there is one, else not checked."""
    public = None
    if key is None and folder is not None and (_dir(folder) / _PUBLIC).is_file():
        key = _dir(folder) / _PUBLIC
    if key is not None:
        public = audit_public_key(key)
    with _chains(folder, database) as chains:
        return [verify(db, chain=name, key=public) for name, db in chains]
