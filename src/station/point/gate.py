"""The read-back gate (issue 11, pipeline step 5): a personalized card is read as an inspection
system would and verified against the Center's trust anchors before it may be handed over.

:func:`run_gate` reads the card (PACE with the CAN, Chip Authentication, Terminal Authentication
with the point's inspection-system certificate, Active Authentication), requires every file
written to be read back byte for byte and no other, runs passive authentication with the CRL
and the master list and the chip checks (:func:`idcard.verify.verify_document`, live), reads the
e-signature certificate from the card, checks that it is the one issued and signed by the
Center's e-signature CA, and asks the CA's OCSP responder for its status. Each check is a
:class:`GateCheck`; a check that could not be made fails the gate (a card is ready only when
everything passed). Nothing here writes to the card.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import ocsp, x509

from idcard.errors import IdkartaError
from idcard.esign.card import ESignCard
from idcard.reader.document import ReadResult, TerminalCredentials, read_document
from idcard.transport import Transport
from idcard.verify import TrustStore
from idcard.verify._signature import signed_by, verify
from idcard.verify.document import verify_document
from pki.ocsp import parse_response, request_for

__all__ = ["PROTOCOLS", "GateAnchors", "GateCheck", "GateReport", "run_gate"]

PROTOCOLS = ("PACE", "CA", "TA", "AA")
"""The protocols the gate requires to have run and succeeded, in this order."""


@dataclass(frozen=True, slots=True)
class GateAnchors:
    """What the gate trusts: the Center's document trust store (CSCA, CRLs, master lists), the
    point's inspection-system credentials (TA), the e-signature CA certificate and its OCSP
    responder (``ocsp``: request DER → response DER; None: not available, the gate fails)."""

    trust: TrustStore
    terminal: TerminalCredentials
    esign_ca: x509.Certificate
    ocsp: Callable[[bytes], bytes] | None = None


@dataclass(frozen=True, slots=True)
class GateCheck:
    name: str
    ok: bool
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class GateReport:
    """Every check of the gate; :attr:`ok` only when each passed."""

    checks: tuple[GateCheck, ...]
    read: ReadResult | None = None

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def reason(self) -> str | None:
        """The failed checks as one line (the spoiled blank's reason), None when it passed."""
        failed = [f"{c.name}: {c.detail}" for c in self.checks if not c.ok]
        return "; ".join(failed) if failed else None

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [c.to_json() for c in self.checks]}


def run_gate(
    transport: Transport,
    *,
    written: Mapping[str, bytes],
    can: str,
    anchors: GateAnchors,
    esign_certificate: bytes | None,
    at: datetime | None = None,
) -> GateReport:
    """Read and verify the card on ``transport`` (see the module doc); ``written`` are the files
    personalized, ``esign_certificate`` the DER the CA issued for it (None: no e-signature is
    expected, and none may be on the card)."""
    try:
        result = read_document(transport, can=can, terminal=anchors.terminal)
    except IdkartaError as exc:
        return GateReport((GateCheck("read", False, f"the card could not be read: {exc}"),))
    checks = [GateCheck("read", True, f"read with {result.access} and the CAN")]
    for name in PROTOCOLS:
        run = result.protocol(name)
        if name == "TA" and run is None and not {"DG3", "DG4"} & set(written):
            checks.append(GateCheck(name, True, "not needed: no DG3/DG4 was written"))
            continue
        checks.append(GateCheck(name, run is not None and run.ok,
                                "did not run" if run is None else run.detail or
                                ("succeeded" if run.ok else "failed")))  # fmt: skip
    checks.append(_files(written, result))
    report = verify_document(result.dump.files, anchors.trust, evidence=result.evidence,
                             at=at, live=True)  # fmt: skip
    failed = [f"{c.name} ({c.reason})" for c in report.checks if c.failed]
    checks.append(GateCheck("passive-authentication", report.ok,
                            "passed with the CRL and master list" if report.ok
                            else "; ".join(failed) or "failed"))  # fmt: skip
    checks += _esign(transport, anchors, esign_certificate)
    return GateReport(tuple(checks), result)


def _files(written: Mapping[str, bytes], result: ReadResult) -> GateCheck:
    read = result.dump.files
    missing = sorted(set(written) - set(read))
    extra = sorted(set(read) - set(written))
    differ = sorted(n for n in set(written) & set(read) if written[n] != read[n])
    problems = []
    if missing:
        why = [f"{n} ({result.skipped[n]})" if n in result.skipped else n for n in missing]
        problems.append("not read back: " + ", ".join(why))
    if extra:
        problems.append("not written but on the card: " + ", ".join(extra))
    if differ:
        problems.append("differ from what was written: " + ", ".join(differ))
    if problems:
        return GateCheck("files", False, "; ".join(problems))
    return GateCheck("files", True, f"all {len(written)} files read back identical")


def _esign(transport: Transport, anchors: GateAnchors,
           expected: bytes | None) -> list[GateCheck]:  # fmt: skip
    try:
        card = ESignCard(transport)
        card.select()  # a plain SELECT: the certificate is public, read in the clear
        on_card = card.read_file()
    except IdkartaError as exc:
        return [GateCheck("esign-certificate", False, f"could not be read: {exc}")]
    if expected is None:
        return [GateCheck("esign-certificate", on_card is None,
                          "none expected, none on the card" if on_card is None
                          else "a certificate is on the card that was not issued for it")]
    if on_card != expected:
        return [GateCheck("esign-certificate", False, "missing from the card" if on_card is None
                          else "the card holds another certificate than the one issued")]
    cert = x509.Certificate.load(expected)
    if not signed_by(cert, anchors.esign_ca):
        return [GateCheck("esign-certificate", False,
                          "not signed by the Center's e-signature CA")]
    checks = [GateCheck("esign-certificate", True,
                        f"serial {cert.serial_number:x}, signed by the e-signature CA")]
    if anchors.ocsp is None:
        checks.append(GateCheck("esign-ocsp", False, "not checked (no OCSP responder)"))
        return checks
    try:
        answer = anchors.ocsp(request_for(cert, anchors.esign_ca, os.urandom(16)))
        statuses = parse_response(answer)
        signed = _ocsp_signed_by(answer, anchors.esign_ca)
    except (IdkartaError, ValueError, TypeError, KeyError) as exc:
        checks.append(GateCheck("esign-ocsp", False, f"not checked ({exc})"))
        return checks
    if not signed:
        checks.append(GateCheck("esign-ocsp", False,
                                "the OCSP answer is not signed by the e-signature CA"))
        return checks
    mine = [s for s in statuses if s.serial == cert.serial_number]
    status = mine[0].status if mine else "nothing about this certificate"
    checks.append(GateCheck("esign-ocsp", status == "good", f"OCSP answers {status}"))
    return checks


def _ocsp_signed_by(answer: bytes, ca: x509.Certificate) -> bool:
    """Whether the OCSP answer's signature verifies with the CA's key (the CA answers itself)."""
    basic = ocsp.OCSPResponse.load(answer).basic_ocsp_response
    return verify(ca.public_key, basic["signature_algorithm"], bytes(basic["signature"].native),
                  bytes(basic["tbs_response_data"].dump()))  # fmt: skip
