"""Checks of a document against given trust anchors: passive authentication (ICAO 9303-11 §5.1).

Entry points: :func:`verify_dump_folder` / :func:`verify_passive` with a :class:`TrustStore`;
the result is a :class:`PassiveAuthReport` of per-check results (STYLE.md §6).
"""

from idcard.verify.passive import verify_dump_folder, verify_passive
from idcard.verify.report import (
    ChainResult,
    CheckResult,
    DGHashResult,
    PassiveAuthReport,
    Status,
    ValidityResult,
)
from idcard.verify.trust import TrustStore, load_certificates, load_crls

__all__ = [
    "ChainResult",
    "CheckResult",
    "DGHashResult",
    "PassiveAuthReport",
    "Status",
    "TrustStore",
    "ValidityResult",
    "load_certificates",
    "load_crls",
    "verify_dump_folder",
    "verify_passive",
]
