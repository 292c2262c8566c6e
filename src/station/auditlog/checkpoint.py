"""Checkpoints: the head of an audit chain signed with the Center's audit key.

The signed bytes are a domain tag and the canonical JSON of the chain's name ("center",
"point:<code>"), the head's ``seq`` and hash, the time and who took it. The key is the
Center's (a PKCS#11 token or its encrypted file key store, :mod:`station.folders.audit`): a
point's chain is signed by the Center too, since the Center holds every key that signs. A
checkpoint is taken in a transaction that locks the head row, so no entry slips in between
reading and recording it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast, get_args

from cryptography.hazmat.primitives import serialization
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from pki.errors import KeyStoreError
from pki.keys import HashName, PublicKey, SignatureAlgorithm, SignatureScheme, Signer
from pki.keys import verify_signature as _verify
from station.auditlog.chain import HEAD, AuditLogError, _instant
from station.db import Database
from station.db.center_tables import AuditCheckpoint as _CheckpointRow

__all__ = [
    "CHECKPOINTS",
    "Checkpoint",
    "algorithm_name",
    "checkpoint",
    "key_sha256",
    "parse_algorithm",
    "signed_bytes",
    "take_checkpoint",
    "verify_checkpoint",
]

CHECKPOINTS: Table = _CheckpointRow.__table__  # type: ignore[assignment]
_DOMAIN = b"idkarta audit checkpoint v1\n"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed chain head, as stored."""

    chain: str
    seq: int
    head_hash: str
    at: datetime
    by: str
    key_sha256: str
    algorithm: str
    signature: bytes = b""

    def __repr__(self) -> str:
        return f"Checkpoint({self.chain!r}, seq={self.seq}, at={self.at.isoformat()})"


def signed_bytes(chain: str, seq: int, head_hash: str, at: datetime, by: str) -> bytes:
    """What a checkpoint's signature covers."""
    body = {"chain": chain, "seq": seq, "head_hash": head_hash, "at": _instant(at), "by": by}
    return _DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def key_sha256(key: PublicKey) -> str:
    """SHA-256 (hex) of the public key's DER SubjectPublicKeyInfo."""
    der = key.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)  # fmt: skip
    return hashlib.sha256(der).hexdigest()


def algorithm_name(algorithm: SignatureAlgorithm) -> str:
    """"ecdsa-sha256", "rsa-pss-sha256", "rsa-pkcs1v15-sha384", …"""
    if algorithm.salt_length is not None:
        raise AuditLogError("checkpoints use RSA-PSS with the default salt length only")
    return f"{algorithm.scheme.value}-{algorithm.hash_name}"


def parse_algorithm(name: str) -> SignatureAlgorithm:
    """The inverse of :func:`algorithm_name`."""
    scheme, _, hash_name = name.rpartition("-")
    try:
        if hash_name not in get_args(HashName):
            raise ValueError(hash_name)
        return SignatureAlgorithm(SignatureScheme(scheme), cast(HashName, hash_name))
    except (ValueError, KeyStoreError):
        raise AuditLogError(f"unknown checkpoint algorithm {name!r}") from None


def take_checkpoint(session: Session, signer: Signer, *, chain: str, by: str,
                    now: datetime) -> Checkpoint:  # fmt: skip
    """Sign the current head of ``session``'s chain and record the checkpoint (in ``session``'s
    transaction, the head row locked)."""
    row = session.execute(select(HEAD.c.seq, HEAD.c.entry_hash).where(HEAD.c.id == 1)
                          .with_for_update()).one_or_none()  # fmt: skip
    if row is None:
        raise AuditLogError("the audit log has lost its head row (see idkarta audit verify)")
    seq, head_hash = int(row[0]), str(row[1])
    algorithm = signer.algorithm
    signature = signer.sign(signed_bytes(chain, seq, head_hash, now, by), algorithm)
    point = Checkpoint(chain=chain, seq=seq, head_hash=head_hash, at=now, by=by,
                       key_sha256=key_sha256(signer.public_key()),
                       algorithm=algorithm_name(algorithm), signature=signature)  # fmt: skip
    values: dict[str, Any] = {f: getattr(point, f) for f in Checkpoint.__dataclass_fields__}
    session.execute(insert(CHECKPOINTS).values(**values))
    return point


def verify_checkpoint(point: Checkpoint, key: PublicKey) -> bool:
    """Whether ``point``'s signature verifies with ``key`` (an unknown algorithm: False)."""
    try:
        algorithm = parse_algorithm(point.algorithm)
    except AuditLogError:
        return False
    signed = signed_bytes(point.chain, point.seq, point.head_hash, point.at, point.by)
    return _verify(key, point.signature, signed, algorithm)


def checkpoint(db: Database, signer: Signer, *, chain: str, by: str,
               now: datetime) -> Checkpoint:  # fmt: skip
    """:func:`take_checkpoint` in one write transaction of ``db``."""
    with db.session() as session:
        return take_checkpoint(session, signer, chain=chain, by=by, now=now)
