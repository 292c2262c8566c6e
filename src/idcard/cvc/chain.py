"""Validation of a CV certificate chain CVCA → DV → terminal (BSI TR-03110-3 §2.5-2.7).

Starting from the trusted CVCA certificate, each certificate must name the previous one's CHR as
its CAR, verify under that key (EC domain parameters inherited from the CVCA), not be expired at
``current_date``, and hold the role below its issuer (a CVCA may issue link CVCA certificates or
DV certificates, a DV issues terminal certificates). The effective authorization is the AND of
all CHATs. Checked-and-bad is a result (STYLE.md §6), not an exception.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from idcard.cvc.certificate import CVCertificate, CVPublicKey
from idcard.cvc.chat import CHAT, Role
from idcard.errors import DecodeError

__all__ = ["ChainValidation", "check_link", "validate_chain"]

_ALLOWED: dict[Role, tuple[Role, ...]] = {
    Role.CVCA: (Role.CVCA, Role.DV_DOMESTIC, Role.DV_FOREIGN),
    Role.DV_DOMESTIC: (Role.TERMINAL,),
    Role.DV_FOREIGN: (Role.TERMINAL,),
    Role.TERMINAL: (),
}


@dataclass(frozen=True, slots=True)
class ChainValidation:
    """Outcome: ``valid``, the failing certificate's CHR and reason, the effective CHAT."""

    valid: bool
    effective_chat: CHAT | None = None
    failed_chr: str | None = None
    reason: str | None = None


def check_link(
    issuer: CVCertificate, domain: CVPublicKey, cert: CVCertificate, current_date: datetime.date
) -> str | None:
    """Why ``cert`` is not a valid child of ``issuer`` (None when it is)."""
    if cert.car != issuer.chr:
        return f"CAR {cert.car} does not name the issuer {issuer.chr}"
    if cert.chat.role not in _ALLOWED[issuer.chat.role]:
        return f"a {issuer.chat.role.name} cannot issue a {cert.chat.role.name} certificate"
    if cert.chat.oid != issuer.chat.oid:
        return "terminal type differs from the issuer's"
    try:
        if not cert.verify(issuer.public_key, domain):
            return "signature does not verify"
    except DecodeError as exc:
        return f"unusable key: {exc}"
    if cert.body.expiration_date < current_date:
        return f"expired on {cert.body.expiration_date.isoformat()}"
    return None


def validate_chain(
    trust_anchor: CVCertificate, chain: Sequence[CVCertificate], current_date: datetime.date
) -> ChainValidation:
    """Validate ``chain`` (link CVCAs, DV, terminal) from the trusted CVCA certificate."""
    key = trust_anchor.public_key
    if trust_anchor.chat.role is not Role.CVCA or (key.is_ec and not key.has_domain_parameters):
        return ChainValidation(False, None, trust_anchor.chr, "trust anchor is not a CVCA")
    issuer, domain = trust_anchor, trust_anchor.public_key
    chat = trust_anchor.chat
    for cert in chain:
        reason = check_link(issuer, domain, cert, current_date)
        if reason is not None:
            return ChainValidation(False, None, cert.chr, reason)
        chat = chat.restrict(cert.chat)
        if cert.chat.role is Role.CVCA and cert.public_key.has_domain_parameters:
            domain = cert.public_key
        issuer = cert
    return ChainValidation(True, chat)
