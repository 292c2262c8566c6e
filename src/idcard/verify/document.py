"""Every check of one document: passive authentication (:mod:`idcard.verify.passive`), then
the chip's authenticity from the evidence of its read (:mod:`idcard.verify.chip`), the
holder's data against itself (:mod:`idcard.verify.holder`) and the card's e-signature
certificate (:mod:`idcard.verify.esign`), plus checks a caller adds (the station adds its
issuance rules and the card's status in the Center's registry)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from idcard.errors import DecodeError
from idcard.reader.evidence import Evidence, read_evidence
from idcard.verify.chip import (
    EvidenceSource,
    check_active_authentication,
    check_chip_authentication,
    check_evidence,
    check_pace_cam,
)
from idcard.verify.esign import EsignTrust, check_esign, read_esign_files
from idcard.verify.holder import check_dg11, check_pinfl
from idcard.verify.passive import read_dump_folder, verify_passive
from idcard.verify.report import CheckResult, PassiveAuthReport, _Checks
from idcard.verify.trust import TrustStore

__all__ = ["DocumentReport", "ExtraCheck", "load_evidence", "verify_document", "verify_folder"]

ExtraCheck = Callable[[Mapping[str, bytes]], CheckResult]
"""A caller's own check of the document's files."""


@dataclass(frozen=True, slots=True)
class DocumentReport(_Checks):
    """Passive authentication and every further check of one document.

    ``ok`` as :attr:`PassiveAuthReport.ok`, and no further check failed (a NOT CHECKED one does
    not fail the document: its reason says what was not proved)."""

    passive: PassiveAuthReport
    further: tuple[CheckResult, ...]
    evidence: Evidence | None = None
    live: bool = False

    @property
    def checks(self) -> tuple[CheckResult, ...]:
        return (*self.passive.checks, *self.further)

    @property
    def ok(self) -> bool:
        return self.passive.ok and not any(c.failed for c in self.further)

    @property
    def ds_subject(self) -> str:
        return self.passive.ds_subject

    def to_dict(self) -> dict[str, Any]:
        d = self.passive.to_dict()
        d["ok"] = self.ok
        d["live"] = self.live
        d["checks"] = [c.to_dict() for c in self.checks]
        d["evidence"] = None if self.evidence is None else self.evidence.to_json()
        return d


def load_evidence(folder: str | Path) -> EvidenceSource:
    """The evidence of a dump folder, the reason it is unusable, or None when it has none."""
    try:
        return read_evidence(folder)
    except DecodeError as exc:
        return exc.reason


def verify_document(
    files: Mapping[str, bytes],
    trust: TrustStore,
    *,
    evidence: EvidenceSource = None,
    at: datetime | None = None,
    live: bool = False,
    extra: Sequence[ExtraCheck] = (),
    esign_files: Mapping[str, bytes] | None = None,
    esign: EsignTrust | None = None,
) -> DocumentReport:
    """Every check of the document of ``files`` (see the module doc). ``evidence``: how it was
    read; ``live``: read just now by this process (CA and PACE-CAM successes then PASS);
    ``esign_files``: the card's e-signature certificate files
    (:data:`~idcard.verify.esign.ESIGN_FILES`), checked against ``esign``."""
    passive = verify_passive(files, trust, at=at)
    further = (
        check_evidence(files, evidence),
        check_active_authentication(files, evidence, live=live),
        check_chip_authentication(files, evidence, live=live),
        check_pace_cam(evidence, live=live),
        check_dg11(files),
        check_pinfl(files),
        *check_esign(files, esign_files or {}, esign, at or datetime.now(UTC)),
        *(check(files) for check in extra),
    )
    return DocumentReport(passive, further, evidence if isinstance(evidence, Evidence) else None,
                          live)  # fmt: skip


def verify_folder(
    folder: str | Path,
    trust: TrustStore,
    *,
    at: datetime | None = None,
    extra: Sequence[ExtraCheck] = (),
    esign: EsignTrust | None = None,
) -> DocumentReport:
    """:func:`verify_document` over a dump folder, its ``evidence.json`` and e-signature
    certificate files (if any)."""
    files = read_dump_folder(folder)
    return verify_document(files, trust, evidence=load_evidence(folder), at=at, extra=extra,
                           esign_files=read_esign_files(folder), esign=esign)  # fmt: skip
