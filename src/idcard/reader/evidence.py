"""The evidence of a read: ``evidence.json`` beside a dump's files (schema:
``docs/evidence.schema.json``; guide: ``docs/guide/verify.md``).

A dump holds what the chip stored; whether the chip was genuine shows only while it is read
(ICAO 9303-11 §6: Chip and Active Authentication; BSI TR-03110-1 §3). :class:`Evidence` records
those runs so that ``idkarta verify`` can later re-check what can be re-checked (Active
Authentication's signature over the recorded challenge, with DG15's key) and say what cannot (a
Chip Authentication run yields session keys, no signature: its record rests on the reading
tool). It records the access protocol (BAC, or PACE with its mapping and parameter id and the
kind of password — never the password), Chip Authentication (protocol, the chip key's id and
SHA-256, the terminal's ephemeral public key, the result), PACE-CAM, Active Authentication
(challenge, signature, algorithm, result), Terminal Authentication (the certificates' CAR/CHR),
the reader, the time, the tool version and the SHA-256 of every file read.

Dumps written before this existed have no ``evidence.json``; :func:`read_evidence` returns None
for them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from idcard import __version__
from idcard.errors import DecodeError

__all__ = [
    "ActiveAuthEvidence",
    "ChipAuthEvidence",
    "EVIDENCE_FILE",
    "EVIDENCE_FORMAT",
    "EVIDENCE_VERSION",
    "AccessEvidence",
    "Evidence",
    "RunEvidence",
    "TerminalAuthEvidence",
    "read_evidence",
]

EVIDENCE_FILE = "evidence.json"
EVIDENCE_FORMAT = "idkarta-evidence"
EVIDENCE_VERSION = 1

_RESULTS = ("pass", "fail", "error")
"""``pass``: the protocol succeeded (for AA: the signature verified); ``fail``: it ran and did
not hold; ``error``: the chip refused or the run broke off (``detail`` says how)."""


def _hex(data: bytes | None) -> str | None:
    return None if data is None else data.hex().upper()


def _unhex(value: object, where: str) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise DecodeError(f"{EVIDENCE_FILE}: {where} must be hex text")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise DecodeError(f"{EVIDENCE_FILE}: {where} is not hex") from None


def _obj(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DecodeError(f"{EVIDENCE_FILE}: {where} must be an object")
    return value


def _str(d: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> str | None:
    value = d.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise DecodeError(f"{EVIDENCE_FILE}: {where}.{key} must be text")
    return value


def _int(d: Mapping[str, Any], key: str, where: str) -> int | None:
    value = d.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise DecodeError(f"{EVIDENCE_FILE}: {where}.{key} must be an integer")
    return value


def _result(d: Mapping[str, Any], where: str) -> str:
    value = d.get("result")
    if value not in _RESULTS:
        raise DecodeError(f"{EVIDENCE_FILE}: {where}.result must be one of {', '.join(_RESULTS)}")
    return str(value)


@dataclass(frozen=True, slots=True)
class AccessEvidence:
    """The access protocol: ``protocol`` BAC or PACE; for PACE its ``oid``, ``mapping`` (GM, IM,
    CAM), ``parameter_id`` and ``password`` kind (CAN or MRZ); the secure messaging ``cipher``."""

    protocol: str
    cipher: str
    oid: str | None = None
    mapping: str | None = None
    parameter_id: int | None = None
    password: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "oid": self.oid, "mapping": self.mapping,
                "parameter_id": self.parameter_id, "password": self.password,
                "cipher": self.cipher}  # fmt: skip

    @classmethod
    def from_json(cls, d: object) -> AccessEvidence:
        o = _obj(d, "access")
        protocol = _str(o, "protocol", "access")
        if protocol not in ("BAC", "PACE"):
            raise DecodeError(f"{EVIDENCE_FILE}: access.protocol must be BAC or PACE")
        return cls(
            protocol=str(protocol), cipher=str(_str(o, "cipher", "access")),
            oid=_str(o, "oid", "access", optional=True),
            mapping=_str(o, "mapping", "access", optional=True),
            parameter_id=_int(o, "parameter_id", "access"),
            password=_str(o, "password", "access", optional=True),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class RunEvidence:
    """A protocol run known only by its outcome (PACE-CAM): ``result`` and ``detail``."""

    result: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"result": self.result, "detail": self.detail}

    @classmethod
    def from_json(cls, d: object, where: str) -> RunEvidence:
        o = _obj(d, where)
        return cls(_result(o, where), _str(o, "detail", where, optional=True) or "")


@dataclass(frozen=True, slots=True)
class ChipAuthEvidence:
    """Chip Authentication (9303-11 §6.2): the protocol OID, the chip key's ``key_id`` (DG14's
    keyId, None when DG14 names none) and the SHA-256 of its SubjectPublicKeyInfo as DG14 holds
    it, the terminal's ephemeral public key, the result."""

    protocol: str
    result: str
    key_id: int | None = None
    chip_key_sha256: bytes | None = None
    ephemeral_public_key: bytes | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "key_id": self.key_id,
                "chip_key_sha256": _hex(self.chip_key_sha256),
                "ephemeral_public_key": _hex(self.ephemeral_public_key),
                "result": self.result, "detail": self.detail}  # fmt: skip

    @classmethod
    def from_json(cls, d: object) -> ChipAuthEvidence:
        w = "chip_authentication"
        o = _obj(d, w)
        return cls(
            protocol=str(_str(o, "protocol", w)), result=_result(o, w),
            key_id=_int(o, "key_id", w),
            chip_key_sha256=_unhex(o.get("chip_key_sha256"), f"{w}.chip_key_sha256"),
            ephemeral_public_key=_unhex(o.get("ephemeral_public_key"),
                                        f"{w}.ephemeral_public_key"),
            detail=_str(o, "detail", w, optional=True) or "",
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class ActiveAuthEvidence:
    """Active Authentication (9303-11 §6.1): the reader's ``challenge`` (8 bytes), the chip's
    ``signature``, the ``algorithm`` (DG14's ActiveAuthenticationInfo signatureAlgorithm OID,
    None for RSA / when DG14 names none), the result. Challenge and signature are None when the
    chip refused INTERNAL AUTHENTICATE."""

    result: str
    challenge: bytes | None = None
    signature: bytes | None = None
    algorithm: str | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"challenge": _hex(self.challenge), "signature": _hex(self.signature),
                "algorithm": self.algorithm, "result": self.result,
                "detail": self.detail}  # fmt: skip

    @classmethod
    def from_json(cls, d: object) -> ActiveAuthEvidence:
        w = "active_authentication"
        o = _obj(d, w)
        return cls(
            result=_result(o, w),
            challenge=_unhex(o.get("challenge"), f"{w}.challenge"),
            signature=_unhex(o.get("signature"), f"{w}.signature"),
            algorithm=_str(o, "algorithm", w, optional=True),
            detail=_str(o, "detail", w, optional=True) or "",
        )


@dataclass(frozen=True, slots=True)
class TerminalAuthEvidence:
    """Terminal Authentication (TR-03110-1 §3.3): the certificates presented as (CAR, CHR)
    pairs, from the first sent to the inspection system's, and the result."""

    certificates: tuple[tuple[str, str], ...]
    result: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"certificates": [{"car": car, "chr": chr_} for car, chr_ in self.certificates],
                "result": self.result, "detail": self.detail}  # fmt: skip

    @classmethod
    def from_json(cls, d: object) -> TerminalAuthEvidence:
        w = "terminal_authentication"
        o = _obj(d, w)
        certs = o.get("certificates")
        if not isinstance(certs, list):
            raise DecodeError(f"{EVIDENCE_FILE}: {w}.certificates must be a list")
        pairs = []
        for c in certs:
            c = _obj(c, f"{w}.certificates[]")
            pairs.append((str(_str(c, "car", w)), str(_str(c, "chr", w))))
        return cls(tuple(pairs), _result(o, w), _str(o, "detail", w, optional=True) or "")


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a read proved while the chip was there (see the module doc)."""

    access: AccessEvidence
    files: Mapping[str, bytes] = field(repr=False)
    """File name → SHA-256 of the bytes read: ties the evidence to the dump's files."""
    chip_authentication: ChipAuthEvidence | None = None
    pace_cam: RunEvidence | None = None
    active_authentication: ActiveAuthEvidence | None = None
    terminal_authentication: TerminalAuthEvidence | None = None
    reader: str = ""
    time: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    tool_version: str = __version__

    @staticmethod
    def hashes(files: Mapping[str, bytes]) -> dict[str, bytes]:
        """The SHA-256 of each file, as :attr:`files` holds them."""
        return {name: hashlib.sha256(data).digest() for name, data in files.items()}

    def to_json(self) -> dict[str, Any]:
        def opt(value: Any) -> Any:
            return None if value is None else value.to_json()

        return {
            "format": EVIDENCE_FORMAT,
            "version": EVIDENCE_VERSION,
            "tool": {"name": "idkarta", "version": self.tool_version},
            "time": self.time.isoformat().replace("+00:00", "Z"),
            "reader": self.reader,
            "access": self.access.to_json(),
            "chip_authentication": opt(self.chip_authentication),
            "pace_cam": opt(self.pace_cam),
            "active_authentication": opt(self.active_authentication),
            "terminal_authentication": opt(self.terminal_authentication),
            "files": {name: digest.hex() for name, digest in self.files.items()},
        }

    def to_bytes(self) -> bytes:
        return (json.dumps(self.to_json(), indent=2) + "\n").encode()

    @classmethod
    def from_json(cls, d: object) -> Evidence:
        """Parse ``evidence.json``'s content; DecodeError naming the field otherwise."""
        o = _obj(d, "the document")
        if o.get("format") != EVIDENCE_FORMAT:
            raise DecodeError(f"{EVIDENCE_FILE}: not an {EVIDENCE_FORMAT} document")
        if o.get("version") != EVIDENCE_VERSION:
            raise DecodeError(f"{EVIDENCE_FILE}: unsupported version {o.get('version')!r}")
        tool = _obj(o.get("tool"), "tool")
        try:
            time = datetime.fromisoformat(str(_str(o, "time", "evidence")).replace("Z", "+00:00"))
        except ValueError:
            raise DecodeError(f"{EVIDENCE_FILE}: time is not an ISO 8601 time") from None
        if time.tzinfo is None:
            raise DecodeError(f"{EVIDENCE_FILE}: time has no time zone")
        files = _obj(o.get("files"), "files")
        hashes = {}
        for name, value in files.items():
            digest = _unhex(value, f"files.{name}")
            if digest is None or len(digest) != 32:
                raise DecodeError(f"{EVIDENCE_FILE}: files.{name} is not a SHA-256")
            hashes[str(name)] = digest

        def opt(key: str, parse: Any) -> Any:
            return None if o.get(key) is None else parse(o[key])

        return cls(
            access=AccessEvidence.from_json(o.get("access")),
            files=hashes,
            chip_authentication=opt("chip_authentication", ChipAuthEvidence.from_json),
            pace_cam=opt("pace_cam", lambda v: RunEvidence.from_json(v, "pace_cam")),
            active_authentication=opt("active_authentication", ActiveAuthEvidence.from_json),
            terminal_authentication=opt("terminal_authentication",
                                        TerminalAuthEvidence.from_json),
            reader=_str(o, "reader", "evidence", optional=True) or "",
            time=time,
            tool_version=str(_str(tool, "version", "tool")),
        )  # fmt: skip

    @classmethod
    def decode(cls, data: bytes) -> Evidence:
        try:
            return cls.from_json(json.loads(data.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DecodeError(f"{EVIDENCE_FILE}: not valid JSON ({exc})") from None


def read_evidence(folder: str | Path) -> Evidence | None:
    """The evidence of the dump folder ``folder``; None when it has none (an older dump);
    DecodeError when it is there but unusable."""
    path = Path(folder) / EVIDENCE_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DecodeError(f"{path}: cannot read ({exc.strerror})") from None
    return Evidence.decode(data)
