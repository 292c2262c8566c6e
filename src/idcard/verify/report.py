"""Result types of passive authentication (ICAO Doc 9303-11 §5.1; STYLE.md §6).

"Checked, and it is bad" is a result, never an exception: every check is a frozen dataclass with a
:class:`Status` (pass / fail / not-checked) and a human reason. "Could not check" (unreadable
input) raises :class:`~idcard.errors.VerificationError` instead. As pyHanko's ``SignatureStatus``
keeps *intact*, *valid* and *trusted* apart, the report keeps the data-group hashes (intact), the
SOD signature (valid) and the certificate chain (trusted) as separate checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

__all__ = [
    "ChainResult",
    "CheckResult",
    "DGHashResult",
    "ESSENTIAL_CHECKS",
    "PassiveAuthReport",
    "Status",
    "ValidityResult",
]


class Status(Enum):
    """Outcome of one check."""

    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    NOT_CHECKED = "not-checked"

    @property
    def label(self) -> str:
        """Upper-case label for the readable report (``PASS``, ``FAIL``, ``NOT CHECKED``)."""
        return self.value.replace("-", " ").upper()


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check: its stable ``name`` (used in JSON), its status and why."""

    name: str
    status: Status
    reason: str

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status.value, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class DGHashResult(CheckResult):
    """Hash of one data group's raw bytes against the SOD's DataGroupHash (9303-11 §5.1 step 3)."""

    dg: int = 0
    expected: bytes | None = field(default=None, repr=False)
    """The hash the SOD lists (None when the SOD does not list the data group)."""
    actual: bytes | None = field(default=None, repr=False)
    """The hash of the bytes read (None when the data group is absent)."""

    def to_dict(self) -> dict[str, Any]:
        d = CheckResult.to_dict(self)
        d.update(
            dg=self.dg,
            expected=self.expected.hex().upper() if self.expected is not None else None,
            actual=self.actual.hex().upper() if self.actual is not None else None,
        )
        return d


@dataclass(frozen=True, slots=True)
class ChainResult(CheckResult):
    """DS certificate to a trusted CSCA (9303-11 §5.1 step 2; 9303-12 §7.1.1 link certificates).

    ``path`` lists subjects from the DS up to the trust anchor.
    """

    path: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = CheckResult.to_dict(self)
        d["path"] = list(self.path)
        return d


@dataclass(frozen=True, slots=True)
class ValidityResult(CheckResult):
    """Certificate validity at the time of signing, with the informational state at verification.

    ICAO practice (9303-11 §5.1; 9303-12 §7.1.1, the DS private-key usage period is shorter than
    the document's validity): a DS certificate that has expired at verification time does not
    invalidate a document signed while it was valid, so ``ds_valid_at_verification`` is reported
    but does not decide the status.
    """

    signing_time: datetime | None = None
    """The signingTime signed attribute, when the SOD carries one."""
    verification_time: datetime | None = None
    ds_valid_at_verification: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        d = CheckResult.to_dict(self)
        d.update(
            signing_time=self.signing_time.isoformat() if self.signing_time else None,
            verification_time=(
                self.verification_time.isoformat() if self.verification_time else None
            ),
            ds_valid_at_verification=self.ds_valid_at_verification,
        )
        return d


ESSENTIAL_CHECKS = ("sod_signature", "chain", "validity")
"""Checks that must have been performed (besides at least one data-group hash) for ``ok``."""


class _Checks:
    """What a report derives from its ``checks``: the status of each, and those that failed."""

    __slots__ = ()

    @property
    def checks(self) -> tuple[CheckResult, ...]:
        raise NotImplementedError

    @property
    def statuses(self) -> dict[str, Status]:
        """Status by check name: the full status vector tests assert on."""
        return {c.name: c.status for c in self.checks}

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.status is Status.FAIL)


@dataclass(frozen=True, slots=True)
class PassiveAuthReport(_Checks):
    """Everything passive authentication found about one document (9303-11 §5.1).

    ``checks`` lists every result in a fixed order; ``ok`` is True when every performed check
    passed, at least one data-group hash was checked, and the essential checks
    (:data:`ESSENTIAL_CHECKS`) were performed.
    """

    dg_hashes: tuple[DGHashResult, ...]
    com_consistency: CheckResult
    sod_signature: CheckResult
    chain: ChainResult
    validity: ValidityResult
    key_usage: CheckResult
    document_type: CheckResult
    revocation: CheckResult
    country: CheckResult
    master_list: CheckResult
    hash_algorithm: str = ""
    ds_subject: str = ""

    @property
    def checks(self) -> tuple[CheckResult, ...]:
        return (
            *self.dg_hashes,
            self.com_consistency,
            self.sod_signature,
            self.chain,
            self.validity,
            self.key_usage,
            self.document_type,
            self.revocation,
            self.country,
            self.master_list,
        )

    @property
    def ok(self) -> bool:
        if self.failed:
            return False
        if not any(h.passed for h in self.dg_hashes):
            return False
        by_name = {c.name: c for c in self.checks}
        return all(by_name[n].passed for n in ESSENTIAL_CHECKS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "hash_algorithm": self.hash_algorithm,
            "ds_subject": self.ds_subject,
            "checks": [c.to_dict() for c in self.checks],
        }
