"""Checks of the card's e-signature certificate (docs/guide/esign.md, "Certificate profile"):
its chain to a trusted e-signature CA, the holder's PINFL in it against the document's, its
validity and key usage, and its OCSP status (RFC 6960) when online.

The certificate is the e-signature application's EF.C.ESIGN (``C000``), the issuing CA's
certificate its EF.C.CA (``C001``); ``card read`` keeps both in the dump folder under those
names (:data:`ESIGN_FILES`, the exact bytes read). The CA certificate from the card is never
trusted by itself: it can only link the holder's certificate to a CA given with ``--esign-ca``.

Check names: ``esign_chain``, ``esign_holder``, ``esign_validity``, ``esign_key_usage``,
``esign_revocation``; each PASS, FAIL or NOT CHECKED with its reason. A dump without the
certificate (a card without the application, a dump from before) gets NOT CHECKED for all.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from asn1crypto import core, ocsp, x509

from idcard.errors import DecodeError
from idcard.lds.dg11 import DG11
from idcard.pinfl import pinfl_of
from idcard.reader.document import ESIGN_FILES
from idcard.verify import _signature
from idcard.verify.holder import mrz_of
from idcard.verify.online import Fetcher, FetchError
from idcard.verify.report import CheckResult, Status
from idcard.verify.trust import load_certificates

__all__ = [
    "CA_FILE",
    "CERTIFICATE_FILE",
    "ESIGN_CHECKS",
    "ESIGN_FILES",
    "EsignTrust",
    "check_esign",
    "read_esign_files",
]

CERTIFICATE_FILE = "EF.C.ESIGN"
"""The holder's signing certificate (DER) in a dump folder: the card's EF ``C000``."""
CA_FILE = "EF.C.CA"
"""The issuing CA's certificate (DER) in a dump folder: the card's EF ``C001``."""
ESIGN_CHECKS = ("esign_chain", "esign_holder", "esign_validity", "esign_key_usage",
                "esign_revocation")  # fmt: skip

ID_UZ_PINFL = "1.2.860.3.16.1.2"
"""The PINFL subject attribute of the Uzbek e-signature infrastructure (pki.esign)."""
_PNO = "PNOUZ-"
_OCSP_SKEW = timedelta(minutes=5)
"""Clock difference tolerated between the OCSP responder and this machine."""


def read_esign_files(folder: str | Path) -> dict[str, bytes]:
    """The e-signature files present in a dump folder (:data:`ESIGN_FILES`), by name."""
    root = Path(folder)
    return {name: (root / name).read_bytes() for name in ESIGN_FILES if (root / name).is_file()}


@dataclass(frozen=True)
class EsignTrust:
    """The e-signature CA certificates trusted (``--esign-ca``) and, online, the fetcher that
    asks the certificate's OCSP responder."""

    anchors: tuple[x509.Certificate, ...] = ()
    fetcher: Fetcher | None = None
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    """The time OCSP answers are judged at (they tell the status now, whatever ``--at``)."""

    @classmethod
    def from_path(cls, path: str | Path | None, fetcher: Fetcher | None = None) -> EsignTrust:
        """Anchors from a PEM/DER file or a folder of them (:class:`VerificationError` when
        unusable); None: no anchors."""
        anchors = tuple(load_certificates(path)) if path is not None else ()
        return cls(anchors, fetcher)


def _load(data: bytes | None) -> x509.Certificate | str | None:
    if data is None:
        return None
    try:
        cert = x509.Certificate.load(data)
        _ = cert.native, cert.subject.human_friendly, cert.issuer.human_friendly  # parse it all
        return cert
    except (ValueError, TypeError, KeyError) as exc:
        return " ".join(str(exc).split()) or type(exc).__name__


def _same_name(a: x509.Name, b: x509.Name) -> bool:
    return bool(a.dump() == b.dump() or a == b)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    aki, ski = cert.authority_key_identifier, issuer.key_identifier
    return (_same_name(cert.issuer, issuer.subject) and (aki is None or ski is None or aki == ski)
            and _signature.signed_by(cert, issuer))  # fmt: skip


def _is_ca(cert: x509.Certificate) -> bool:
    bc = cert.basic_constraints_value
    return bool(bc is not None and bc["ca"].native)


def _chain(cert: x509.Certificate, card_ca: x509.Certificate | str | None,
           trust: EsignTrust) -> tuple[CheckResult, x509.Certificate | None]:  # fmt: skip
    """``esign_chain`` and the issuer found (None unless it passed)."""
    name = "esign_chain"
    if not trust.anchors:
        return CheckResult(name, Status.NOT_CHECKED, "no e-signature CA given (--esign-ca)"), None
    issuer_name = cert.issuer.human_friendly
    for anchor in trust.anchors:
        if _issued_by(cert, anchor):
            return CheckResult(name, Status.PASS, "issued by the trusted e-signature CA "
                               f"{anchor.subject.human_friendly}"), anchor  # fmt: skip
    if isinstance(card_ca, x509.Certificate) and _is_ca(card_ca) and _issued_by(cert, card_ca):
        for anchor in trust.anchors:
            if _issued_by(card_ca, anchor):
                return CheckResult(name, Status.PASS, f"issued by {issuer_name} (EF.C.CA), "
                                   "which the trusted e-signature CA "
                                   f"{anchor.subject.human_friendly} issued"), card_ca  # fmt: skip
    named = [a for a in trust.anchors if _same_name(a.subject, cert.issuer)]
    if named:
        return CheckResult(name, Status.FAIL, "the certificate's signature does not verify with "
                           f"the trusted e-signature CA {issuer_name}"), None  # fmt: skip
    return CheckResult(name, Status.FAIL, f"no trusted e-signature CA is named {issuer_name} "
                       "(issuer of the certificate)"), None  # fmt: skip


def _certificate_pinfl(cert: x509.Certificate) -> tuple[str | None, str | None]:
    """The PINFL of the subject's ``1.2.860.3.16.1.2`` attribute and of its serialNumber
    ``PNOUZ-<PINFL>`` (either None when absent)."""
    attribute = serial = None
    for rdn in cert.subject.chosen:
        for atv in rdn:
            kind, value = atv["type"].dotted, str(atv["value"].native)
            if kind == ID_UZ_PINFL:
                attribute = value
            elif kind == "2.5.4.5" and value.startswith(_PNO):
                serial = value[len(_PNO):]
    return attribute, serial


def _document_pinfls(files: Mapping[str, bytes]) -> dict[str, str]:
    """The PINFL of the MRZ (DG1) and DG11's personal number, where present."""
    out: dict[str, str] = {}
    mrz = mrz_of(files)
    if mrz is not None and not isinstance(mrz, str) and mrz.issuing_state == "UZB":
        pinfl = pinfl_of(mrz)
        if pinfl:
            out["DG1"] = pinfl
    raw = files.get("DG11")
    if raw is not None:
        try:
            number = DG11.decode(raw).personal_number
        except DecodeError:
            pass
        else:
            if number:
                out["DG11"] = number
    return out


def _holder(cert: x509.Certificate, files: Mapping[str, bytes]) -> CheckResult:
    name = "esign_holder"
    attribute, serial = _certificate_pinfl(cert)
    if attribute is None and serial is None:
        return CheckResult(name, Status.FAIL, "the certificate names no PINFL (neither "
                           f"{ID_UZ_PINFL} nor serialNumber {_PNO}…)")  # fmt: skip
    if attribute is not None and serial is not None and attribute != serial:
        return CheckResult(name, Status.FAIL, f"the certificate names two PINFLs ({ID_UZ_PINFL} "
                           "and serialNumber differ)")  # fmt: skip
    pinfl = attribute or serial
    document = _document_pinfls(files)
    if not document:
        return CheckResult(name, Status.NOT_CHECKED, "the document holds no PINFL (DG1, DG11)")
    other = [where for where, value in document.items() if value != pinfl]
    if other:
        return CheckResult(name, Status.FAIL, "the certificate's PINFL is not the one in "
                           f"{' and '.join(other)}: another person's certificate")  # fmt: skip
    return CheckResult(name, Status.PASS, "the certificate's PINFL is the one in "
                       f"{' and '.join(document)}")  # fmt: skip


def _card_expiry(files: Mapping[str, bytes]) -> date | None:
    mrz = mrz_of(files)
    if mrz is None or isinstance(mrz, str):
        return None
    try:
        return datetime.strptime("20" + mrz.expiry_date, "%Y%m%d").date()
    except ValueError:
        return None


def _validity(cert: x509.Certificate, files: Mapping[str, bytes], at: datetime) -> CheckResult:
    name = "esign_validity"
    validity = cert["tbs_certificate"]["validity"]
    start, end = validity["not_before"].native, validity["not_after"].native
    span = f"{start:%Y-%m-%d %H:%M:%S} to {end:%Y-%m-%d %H:%M:%S} UTC"
    if at < start:
        return CheckResult(name, Status.FAIL, f"not yet valid on {at:%Y-%m-%d} (valid {span})")
    if at > end:
        return CheckResult(name, Status.FAIL, f"expired on {end:%Y-%m-%d} (valid {span})")
    expiry = _card_expiry(files)
    if expiry is not None and end.date() > expiry:
        return CheckResult(name, Status.FAIL, f"valid until {end:%Y-%m-%d}, past the card's "
                           f"expiry {expiry.isoformat()} (the profile ends it with the card)")
    return CheckResult(name, Status.PASS, f"valid on {at:%Y-%m-%d} ({span})")


def _key_usage(cert: x509.Certificate) -> CheckResult:
    name = "esign_key_usage"
    if _is_ca(cert):
        return CheckResult(name, Status.FAIL, "a CA certificate, not a holder's (basicConstraints "
                           "cA true)")  # fmt: skip
    usage = cert.key_usage_value
    if usage is None:
        return CheckResult(name, Status.FAIL, "no keyUsage extension (digitalSignature and "
                           "nonRepudiation expected)")  # fmt: skip
    bits = set(usage.native)
    missing = [b for b in ("digital_signature", "non_repudiation") if b not in bits]
    if missing:
        return CheckResult(name, Status.FAIL, f"keyUsage lacks {' and '.join(missing)} (has "
                           f"{', '.join(sorted(bits)) or 'nothing'})")  # fmt: skip
    return CheckResult(name, Status.PASS, f"keyUsage {', '.join(sorted(bits))}")


# -- OCSP (RFC 6960) ------------------------------------------------------------------------------


def _cert_id(cert: x509.Certificate, issuer: x509.Certificate) -> ocsp.CertId:
    """A SHA-1 CertID (RFC 6960 §4.1.1; RFC 5019 §2.1.1: what every responder answers)."""
    key = bytes(issuer.public_key["public_key"].contents[1:])
    return ocsp.CertId({
        "hash_algorithm": {"algorithm": "sha1"},
        "issuer_name_hash": hashlib.sha1(issuer.subject.dump()).digest(),  # noqa: S324 - an id
        "issuer_key_hash": hashlib.sha1(key).digest(),  # noqa: S324 - an identifier
        "serial_number": cert.serial_number,
    })  # fmt: skip


def _request(cert_id: ocsp.CertId, nonce: bytes) -> bytes:
    return bytes(ocsp.OCSPRequest({"tbs_request": {
        "request_list": [{"req_cert": cert_id}],
        "request_extensions": [{"extn_id": "nonce", "critical": False,
                                "extn_value": core.OctetString(nonce)}],
    }}).dump())  # fmt: skip


def _responder_key(
    basic: ocsp.BasicOCSPResponse, issuer: x509.Certificate, now: datetime
) -> x509.Certificate | str:
    """The certificate whose key signed the answer: the CA itself, or a responder certificate
    it issued for OCSP signing, valid ``now`` (RFC 6960 §4.2.2.2); else why not."""
    rid = basic["tbs_response_data"]["responder_id"]
    candidates = [issuer, *(basic["certs"] or [])]

    def named(c: x509.Certificate) -> bool:
        if rid.name == "by_key":
            key = bytes(c.public_key["public_key"].contents[1:])
            digest = hashlib.sha1(key).digest()  # noqa: S324 - an identifier
            return bool(digest == rid.chosen.native)
        return _same_name(c.subject, rid.chosen)

    for c in candidates:
        if not named(c):
            continue
        if c.dump() == issuer.dump():
            return c
        if not _issued_by(c, issuer):
            return "the responder's certificate was not issued by the certificate's CA"
        eku = c.extended_key_usage_value
        if eku is None or "ocsp_signing" not in eku.native:
            return "the responder's certificate is not for OCSP signing"
        validity = c["tbs_certificate"]["validity"].native
        if not validity["not_before"] <= now <= validity["not_after"]:
            return (f"the responder's certificate is not valid now (valid "
                    f"{validity['not_before']:%Y-%m-%d} to {validity['not_after']:%Y-%m-%d})")
        return c
    return "the answer is signed by a responder that is neither the CA nor one it authorised"


def _ocsp(
    cert: x509.Certificate, issuer: x509.Certificate | None, trust: EsignTrust
) -> CheckResult:
    name = "esign_revocation"
    if trust.fetcher is None:
        return CheckResult(name, Status.NOT_CHECKED, "OCSP not asked (without --online)")
    if issuer is None:
        return CheckResult(name, Status.NOT_CHECKED, "no trusted chain: the OCSP answer could "
                           "not be checked")  # fmt: skip
    urls = [u for u in cert.ocsp_urls if u.lower().startswith(("http://", "https://"))]
    if not urls:
        return CheckResult(name, Status.NOT_CHECKED, "the certificate names no http(s) OCSP "
                           "responder (authorityInfoAccess)")  # fmt: skip
    url = urls[0]
    cert_id = _cert_id(cert, issuer)
    nonce = os.urandom(16)
    try:
        body = trust.fetcher.post(url, _request(cert_id, nonce), "application/ocsp-request")
    except FetchError as exc:
        return CheckResult(name, Status.NOT_CHECKED, f"the OCSP responder {exc.url} could not be "
                           f"asked: {exc.reason}")  # fmt: skip
    try:
        response = ocsp.OCSPResponse.load(body)
        status = response["response_status"].native
        if status != "successful":
            return CheckResult(name, Status.NOT_CHECKED, f"the OCSP responder {url} answered "
                               f"{status}")  # fmt: skip
        basic = response.basic_ocsp_response
        data = basic["tbs_response_data"]
        basic.native  # noqa: B018 - parse it all now (the answer's certificates too)
    except (ValueError, TypeError, KeyError) as exc:
        return CheckResult(name, Status.NOT_CHECKED, f"the OCSP answer of {url} does not parse "
                           f"({' '.join(str(exc).split())})")  # fmt: skip
    now = trust.clock()
    signer = _responder_key(basic, issuer, now)
    if isinstance(signer, str):
        return CheckResult(name, Status.FAIL, f"the OCSP answer of {url}: {signer}")
    try:
        valid = _signature.verify(signer.public_key, basic["signature_algorithm"],
                                  bytes(basic["signature"].native), bytes(data.dump()))  # fmt: skip
    except _signature.UnsupportedKey as exc:
        return CheckResult(name, Status.NOT_CHECKED, f"the OCSP answer of {url} is signed with a "
                           f"key this tool does not verify ({exc})")  # fmt: skip
    if not valid:
        return CheckResult(name, Status.FAIL, f"the OCSP answer of {url} is not signed by the "
                           "certificate's CA or its responder")  # fmt: skip
    echoed = next((e["extn_value"].parsed.native for e in data["response_extensions"] or []
                   if e["extn_id"].native == "nonce"), None)  # fmt: skip
    if echoed is not None and echoed != nonce:
        return CheckResult(name, Status.FAIL, f"the OCSP answer of {url} carries another "
                           "request's nonce (a replayed answer)")  # fmt: skip
    single = next((r for r in data["responses"] if r["cert_id"].native == cert_id.native), None)
    if single is None:
        return CheckResult(name, Status.NOT_CHECKED, f"the OCSP answer of {url} says nothing "
                           "about this certificate")  # fmt: skip
    this_update = single["this_update"].native
    next_update = single["next_update"].native
    if this_update > now + _OCSP_SKEW:
        return CheckResult(name, Status.NOT_CHECKED, f"the OCSP answer of {url} is dated in the "
                           f"future ({this_update:%Y-%m-%d %H:%M} UTC)")  # fmt: skip
    if next_update is not None and next_update < now - _OCSP_SKEW:
        return CheckResult(name, Status.NOT_CHECKED, f"the OCSP answer of {url} is out of date "
                           f"(nextUpdate {next_update:%Y-%m-%d %H:%M} UTC)")  # fmt: skip
    cert_status = single["cert_status"]
    when = f"{this_update:%Y-%m-%d %H:%M} UTC"
    if cert_status.name == "good":
        return CheckResult(name, Status.PASS, f"good at {when} (OCSP {url})")
    if cert_status.name == "revoked":
        info = cert_status.chosen
        revoked_at = info["revocation_time"].native
        reason = info["revocation_reason"].native or "no reason given"
        return CheckResult(name, Status.FAIL, f"revoked on {revoked_at:%Y-%m-%d %H:%M} UTC "
                           f"({reason}; OCSP {url})")  # fmt: skip
    return CheckResult(name, Status.FAIL, f"unknown to the CA's OCSP responder at {when}: the CA "
                       f"did not issue it (OCSP {url})")  # fmt: skip


def check_esign(
    files: Mapping[str, bytes],
    esign_files: Mapping[str, bytes],
    trust: EsignTrust | None,
    at: datetime,
) -> tuple[CheckResult, ...]:
    """The checks of :data:`ESIGN_CHECKS` of the certificate in ``esign_files`` against the
    document's ``files`` (see the module doc)."""
    trust = trust or EsignTrust()
    cert = _load(esign_files.get(CERTIFICATE_FILE))
    if cert is None or isinstance(cert, str):
        if cert is None:
            why = f"no e-signature certificate in the dump ({CERTIFICATE_FILE})"
            return tuple(CheckResult(n, Status.NOT_CHECKED, why) for n in ESIGN_CHECKS)
        bad = CheckResult("esign_chain", Status.FAIL,
                          f"{CERTIFICATE_FILE} is not an X.509 certificate ({cert})")  # fmt: skip
        why = f"{CERTIFICATE_FILE} is not a certificate"
        return (bad, *(CheckResult(n, Status.NOT_CHECKED, why) for n in ESIGN_CHECKS[1:]))
    card_ca = _load(esign_files.get(CA_FILE))
    chain, issuer = _chain(cert, card_ca, trust)
    return (chain, _holder(cert, files), _validity(cert, files, at), _key_usage(cert),
            _ocsp(cert, issuer, trust))  # fmt: skip

