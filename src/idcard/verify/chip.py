"""Checks of the chip's authenticity from the evidence of a read (ICAO 9303-11 §6; BSI
TR-03110-1 §3): the evidence against the dump's files, Active Authentication re-verified,
Chip Authentication and PACE-CAM as recorded (or run live).

What each can prove offline:

* **AA** (``active_authentication``) signs the reader's challenge with the key of DG15: the
  recorded challenge and signature are re-verified here with DG15's key (and DG14's
  ActiveAuthenticationInfo algorithm). It proves a chip holding that key signed that challenge.
* **CA** (``chip_authentication``) and **PACE-CAM** (``pace_cam``) prove the chip's key by
  agreeing session keys, which leaves no signature: a recorded success cannot be re-proved
  offline. The check confirms the recorded chip key is DG14's and reports the run as NOT CHECKED
  with what the record says; a failed run is FAIL. Run live (``live=True``) a success is PASS.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping

from idcard.errors import DecodeError, EncodeError
from idcard.lds.dg14 import DG14
from idcard.lds.dg15 import DG15
from idcard.lds.security_infos import (
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
)
from idcard.protocols.aa import verify_challenge
from idcard.reader.evidence import Evidence
from idcard.verify.report import CheckResult, Status

__all__ = [
    "EvidenceSource",
    "check_active_authentication",
    "check_chip_authentication",
    "check_evidence",
    "check_pace_cam",
    "describe_read",
]

EvidenceSource = Evidence | str | None
"""The evidence of a dump: parsed, the reason it is unusable (text), or None (none recorded)."""

_NONE = "no evidence.json: the dump does not record how the chip was read"


def _unusable(evidence: EvidenceSource, name: str) -> CheckResult | None:
    if evidence is None:
        return CheckResult(name, Status.NOT_CHECKED, _NONE)
    if isinstance(evidence, str):
        return CheckResult(name, Status.NOT_CHECKED, f"the evidence is unusable ({evidence})")
    return None


def _when(evidence: Evidence) -> str:
    return evidence.time.isoformat().replace("+00:00", "Z")


def describe_read(evidence: Evidence) -> str:
    """One line: how, where, when and by which tool the chip was read."""
    a = evidence.access
    if a.protocol == "PACE":
        how = f"PACE {a.mapping or '?'}, parameter id {a.parameter_id}, {a.password or '?'}"
    else:
        how = "BAC"
    return (f"{how}; reader {evidence.reader or '?'}; {_when(evidence)}; "
            f"idkarta {evidence.tool_version}")  # fmt: skip


def check_evidence(files: Mapping[str, bytes], evidence: EvidenceSource) -> CheckResult:
    """The files recorded in the evidence are the dump's files, byte for byte (SHA-256)."""
    name = "evidence"
    if evidence is None:
        return CheckResult(name, Status.NOT_CHECKED, _NONE)
    if isinstance(evidence, str):
        return CheckResult(name, Status.FAIL, f"evidence.json is unusable: {evidence}")
    problems = []
    for file, digest in evidence.files.items():
        data = files.get(file)
        if data is None:
            problems.append(f"{file} recorded as read but not in the dump")
        elif hashlib.sha256(data).digest() != digest:
            problems.append(f"{file} differs from the bytes recorded when read")
    problems += [f"{f} in the dump but not recorded as read" for f in files
                 if f not in evidence.files]  # fmt: skip
    if problems:
        return CheckResult(name, Status.FAIL, "; ".join(problems))
    return CheckResult(name, Status.PASS, f"the dump's {len(files)} files are the bytes "
                       "recorded when read")  # fmt: skip


@functools.lru_cache(maxsize=256)
def _decode_dg14(raw: bytes) -> DG14 | str:
    """DG14 decoded, or why not (a pure function of the bytes: cached across checks and dumps)."""
    try:
        return DG14.decode(raw)
    except DecodeError as exc:
        return f"DG14 does not decode: {exc}"


@functools.lru_cache(maxsize=256)
def _decode_dg15(raw: bytes) -> DG15 | str:
    try:
        dg15 = DG15.decode(raw)
        dg15.public_key  # noqa: B018 - an unsupported key is a decoding failure here
    except DecodeError as exc:
        return f"DG15 does not decode: {exc}"
    return dg15


def _dg14(files: Mapping[str, bytes]) -> DG14 | str | None:
    raw = files.get("DG14")
    return None if raw is None else _decode_dg14(raw)


def check_active_authentication(
    files: Mapping[str, bytes], evidence: EvidenceSource, *, live: bool = False
) -> CheckResult:
    """AA's recorded (or, ``live``, just made) signature over its challenge, verified again with
    DG15's key and DG14's signature algorithm (9303-11 §6.1)."""
    name = "active_authentication"
    raw15 = files.get("DG15")
    if raw15 is None:
        return CheckResult(name, Status.NOT_CHECKED, "no DG15: the document has no Active "
                           "Authentication key")  # fmt: skip
    dg15 = _decode_dg15(raw15)
    if isinstance(dg15, str):
        return CheckResult(name, Status.FAIL, dg15)
    key = dg15.public_key
    if (bad := _unusable(evidence, name)) is not None:
        return bad
    assert isinstance(evidence, Evidence)
    aa = evidence.active_authentication
    if aa is None:
        return CheckResult(name, Status.NOT_CHECKED, "Active Authentication was not run while "
                           "reading")  # fmt: skip
    if aa.challenge is None or aa.signature is None:
        return CheckResult(name, Status.FAIL, f"the chip gave no signature while reading "
                           f"({aa.detail or aa.result})")  # fmt: skip
    if len(aa.challenge) != 8:
        return CheckResult(name, Status.FAIL, f"the recorded challenge is {len(aa.challenge)} "
                           "bytes, not 8")  # fmt: skip
    dg14 = _dg14(files)
    algorithm = None
    if isinstance(dg14, DG14):
        infos = dg14.security_infos.of_type(ActiveAuthenticationInfo)
        algorithm = infos[0].signature_algorithm if infos else None
    what = "a fresh" if live else "the recorded"
    challenge = aa.challenge.hex().upper()
    try:
        valid = verify_challenge(key, aa.challenge, aa.signature, hash_alg=algorithm)
    except EncodeError as exc:
        return CheckResult(name, Status.NOT_CHECKED, f"cannot verify: {exc}")
    if not valid:
        claim = " (the evidence says it did)" if aa.result == "pass" else ""
        return CheckResult(name, Status.FAIL, f"the signature over {what} challenge {challenge} "
                           f"does not verify with DG15's key{claim}")  # fmt: skip
    scheme = "ISO/IEC 9796-2" if dg15.algorithm == "rsa" else "ECDSA"
    return CheckResult(name, Status.PASS, f"the chip's signature over {what} challenge "
                       f"{challenge} verifies with DG15's key ({scheme})")  # fmt: skip


def _dg14_chip_key(dg14: DG14) -> tuple[int | None, bytes] | None:
    """(keyId, SHA-256 of the SubjectPublicKeyInfo) of the key CA uses, as the reader picks it."""
    infos = dg14.security_infos.of_type(ChipAuthenticationInfo)
    keys = dg14.security_infos.of_type(ChipAuthenticationPublicKeyInfo)
    if not infos or not keys:
        return None
    key = next((k for k in keys if k.key_id == infos[0].key_id), keys[0])
    return key.key_id, hashlib.sha256(key.public_key_info).digest()


def check_chip_authentication(
    files: Mapping[str, bytes], evidence: EvidenceSource, *, live: bool = False
) -> CheckResult:
    """Chip Authentication as the evidence records it (see the module doc: a recorded success
    is NOT CHECKED, never PASS; ``live``: the run was made just now, in this process)."""
    name = "chip_authentication"
    dg14 = _dg14(files)
    if isinstance(dg14, str):
        return CheckResult(name, Status.FAIL, dg14)
    offered = _dg14_chip_key(dg14) if dg14 is not None else None
    if offered is None:
        return CheckResult(name, Status.NOT_CHECKED, "the document offers no Chip Authentication "
                           "(no ChipAuthenticationInfo and key in DG14)")  # fmt: skip
    if (bad := _unusable(evidence, name)) is not None:
        return bad
    assert isinstance(evidence, Evidence)
    ca = evidence.chip_authentication
    if ca is None:
        if evidence.pace_cam is not None:
            return CheckResult(name, Status.NOT_CHECKED, "not run while reading: PACE-CAM "
                               "authenticated the chip instead (see pace_cam)")  # fmt: skip
        return CheckResult(name, Status.NOT_CHECKED, "Chip Authentication was not run while "
                           "reading")  # fmt: skip
    if ca.result != "pass":
        return CheckResult(name, Status.FAIL, f"Chip Authentication failed while reading "
                           f"({ca.detail or ca.result})")  # fmt: skip
    key_id, digest = offered
    if ca.chip_key_sha256 != digest or ca.key_id != key_id:
        return CheckResult(name, Status.FAIL, "the chip key recorded is not DG14's "
                           f"(key id {ca.key_id} recorded, {key_id} in DG14)")  # fmt: skip
    ident = f"DG14's key (key id {key_id})" if key_id is not None else "DG14's key"
    if live:
        return CheckResult(name, Status.PASS, f"performed live: the chip proved {ident} "
                           "(its answers verified under the agreed session keys)")  # fmt: skip
    return CheckResult(name, Status.NOT_CHECKED, f"recorded as passed with {ident} when read "
                       f"at {_when(evidence)}; a recorded Chip Authentication cannot "
                       "be re-proved offline (it agrees session keys and leaves no "
                       "signature): verify the card live to prove it")  # fmt: skip


def check_pace_cam(evidence: EvidenceSource, *, live: bool = False) -> CheckResult:
    """PACE with Chip Authentication Mapping as recorded (9303-11 §4.4.3.5); as CA, a recorded
    success is NOT CHECKED."""
    name = "pace_cam"
    if (bad := _unusable(evidence, name)) is not None:
        return bad
    assert isinstance(evidence, Evidence)
    access = evidence.access
    if access.protocol != "PACE" or access.mapping != "CAM":
        used = "BAC" if access.protocol == "BAC" else f"PACE {access.mapping or '?'}"
        return CheckResult(name, Status.NOT_CHECKED, f"the access protocol was {used}, not "
                           "PACE-CAM")  # fmt: skip
    cam = evidence.pace_cam
    if cam is None:
        return CheckResult(name, Status.NOT_CHECKED, "PACE-CAM's chip authentication was not "
                           "recorded")  # fmt: skip
    if cam.result != "pass":
        return CheckResult(name, Status.FAIL, f"PACE-CAM's chip authentication failed while "
                           f"reading ({cam.detail or cam.result})")  # fmt: skip
    if live:
        return CheckResult(name, Status.PASS, "performed live: PK_Map = CA_IC · PK_IC with "
                           "EF.CardSecurity's chip key")  # fmt: skip
    return CheckResult(name, Status.NOT_CHECKED, f"recorded as passed when read at "
                       f"{_when(evidence)}; a recorded PACE-CAM cannot be re-proved offline "
                       "(it leaves no signature): verify the card live to prove it")  # fmt: skip
