"""PAdES signing and validation of PDF documents through pyHanko, with OUR signers.

:class:`PdfSigner` is a pyHanko ``Signer`` whose raw signature comes from any
:class:`~pki.keys.Signer` (file key, PKCS#11 token, later the ID card), so the holder's key never
has to be a private-key object. Levels (ETSI EN 319 142-1):

* ``B-B`` — CAdES-style signed attributes, ``ETSI.CAdES.detached``;
* ``B-T`` — plus a signature time-stamp from an RFC 3161 TSA (ours: :mod:`pki.tsa`);
* ``B-LT`` — plus the validation data (certificates, CRL, OCSP responses, fetched from our
  services at the URLs in the certificates) in the document security store.

:func:`validate_pdf` reports, per signature, whether it is intact (the hash matches), valid (the
cryptographic signature verifies), trusted (the chain ends at one of the given roots) and revoked,
with pyHanko's validator (STYLE.md §6: a result, not an exception).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from io import BytesIO
from typing import Any

from asn1crypto import crl, ocsp, tsp, x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import PathError, RevokedError, ValidationError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from idcard.asn1.registration import sync_reverse_maps
from idcard.errors import IdkartaError
from pki.errors import PKIError
from pki.keys import HashName, SignatureAlgorithm, SignatureScheme, Signer
from pki.ocsp import request_for as ocsp_request_for
from pki.tsa import TimeStampAuthority

sync_reverse_maps()  # names pyHanko registered with asn1crypto on import (CAdES attributes)

__all__ = [
    "HTTPTimeStamper",
    "LocalTimeStamper",
    "PAdESLevel",
    "PdfSigner",
    "Revocation",
    "SignatureReport",
    "fetch_revocation_info",
    "sign_pdf",
    "validate_pdf",
]

_TIMEOUT = 10.0


class PAdESLevel(Enum):
    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"


class PdfSigner(signers.Signer):
    """A pyHanko signer backed by one of our :class:`~pki.keys.Signer` objects.

    ``async_sign_raw`` hashes and signs through ``signer.sign`` with the digest pyHanko asks for;
    the signature mechanism follows the key (ECDSA, RSA-PSS or PKCS#1 v1.5).
    """

    def __init__(
        self,
        signer: Signer,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
    ) -> None:
        self.key = signer
        super().__init__(
            signing_cert=certificate,
            cert_registry=SimpleCertificateStore.from_certs(list(chain)),  # type: ignore[no-untyped-call]
            signature_mechanism=signer.algorithm.signed_digest_algorithm(),
            prefer_pss=signer.algorithm.scheme is SignatureScheme.RSA_PSS,
        )

    def _algorithm(self, digest_algorithm: str) -> SignatureAlgorithm:
        base = self.key.algorithm
        name: Any = digest_algorithm.lower().replace("-", "")
        hash_name: HashName = name
        if base.scheme is SignatureScheme.RSA_PSS:
            return SignatureAlgorithm(base.scheme, hash_name, base.salt_length)
        return SignatureAlgorithm(base.scheme, hash_name)

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        spec = self.key.key_spec
        if dry_run:  # pyHanko only needs the size: the largest DER an ECDSA signature can take
            return bytes(spec.bits // 8 if spec.kind == "rsa" else 2 * ((spec.bits + 7) // 8) + 9)
        return self.key.sign(data, self._algorithm(digest_algorithm))


class LocalTimeStamper(TimeStamper):
    """A pyHanko time stamper that asks an in-process :class:`TimeStampAuthority`."""

    def __init__(self, authority: TimeStampAuthority) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.authority = authority

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return tsp.TimeStampResp.load(self.authority.respond(bytes(req.dump())))


class HTTPTimeStamper(TimeStamper):
    """A pyHanko time stamper posting ``application/timestamp-query`` to ``url`` (RFC 3161 §3.4)."""

    def __init__(self, url: str, timeout: float = _TIMEOUT) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.url = url
        self.timeout = timeout

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        body = _http(
            self.url, bytes(req.dump()), "application/timestamp-query", self.timeout
        )
        return tsp.TimeStampResp.load(body)


def _http(url: str, data: bytes | None, content_type: str | None, timeout: float) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise PKIError(f"only http(s) URLs are fetched, not {url!r}")
    method = "POST" if data is not None else "GET"
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http(s) only
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) checked above
            return bytes(response.read())
    except OSError as exc:
        raise PKIError(f"fetching {url} failed: {exc}") from None


def _urls(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    crls = [
        str(url)
        for dp in (cert.crl_distribution_points or [])
        for url in [dp.url]
        if url
    ]
    ocsps = [str(u) for u in cert.ocsp_urls]
    return crls, ocsps


def _issuer_among(
    roots: Sequence[x509.Certificate], cert: x509.Certificate
) -> x509.Certificate | None:
    """The root whose subject is ``cert``'s issuer name, if any."""
    return next((r for r in roots if r.subject.dump() == cert.issuer.dump()), None)


def fetch_revocation_info(
    certificate: x509.Certificate, issuer: x509.Certificate, *, timeout: float = _TIMEOUT
) -> tuple[list[crl.CertificateList], list[ocsp.OCSPResponse]]:
    """Fetch the CRL (CRL distribution points) and OCSP response (AIA) of ``certificate``."""
    crl_urls, ocsp_urls = _urls(certificate)
    crls = [crl.CertificateList.load(_http(u, None, None, timeout)) for u in crl_urls]
    responses = []
    for url in ocsp_urls:
        req = ocsp_request_for(certificate, issuer, b"idkarta-" + bytes(8))
        body = _http(url, req, "application/ocsp-request", timeout)
        responses.append(ocsp.OCSPResponse.load(body))
    return crls, responses


def sign_pdf(
    data: bytes,
    signer: PdfSigner,
    *,
    level: PAdESLevel = PAdESLevel.B_B,
    timestamper: TimeStamper | None = None,
    trust_roots: Sequence[x509.Certificate] = (),
    crls: Sequence[crl.CertificateList] = (),
    ocsps: Sequence[ocsp.OCSPResponse] = (),
    field_name: str | None = None,
    reason: str | None = None,
) -> bytes:
    """Sign the PDF ``data`` at ``level``; returns the signed document.

    The signature goes into ``field_name`` (default: the first of ``Signature1``,
    ``Signature2``, … the document does not have), as an incremental update: signatures already
    in the document stay valid. A field already signed is refused.
    B-T and B-LT need ``timestamper``. B-LT embeds ``crls``/``ocsps`` with the chain up to
    ``trust_roots``; when none are given they are fetched for the signing certificate
    (:func:`fetch_revocation_info`).
    """
    if level is not PAdESLevel.B_B and timestamper is None:
        raise PKIError(f"{level.value} needs a time-stamp authority")
    field_name = _signature_field(data, field_name)
    vc = None
    if level is PAdESLevel.B_LT:
        if not trust_roots:
            raise PKIError("B-LT needs the trust roots to build the chain")
        cert = signer.signing_cert
        assert cert is not None
        if not crls and not ocsps:
            issuer = _issuer_among(trust_roots, cert)
            if issuer is None:
                raise PKIError("no trust root issued the signing certificate")
            fetched_crls, fetched_ocsps = fetch_revocation_info(cert, issuer)
            crls, ocsps = fetched_crls, fetched_ocsps
        vc = ValidationContext(
            trust_roots=list(trust_roots),
            crls=list(crls),
            ocsps=list(ocsps),
            allow_fetching=False,
            revocation_mode="hard-fail",
        )
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm=signer.key.algorithm.hash_name,
        reason=reason,
        embed_validation_info=level is PAdESLevel.B_LT,
        validation_context=vc,
    )
    try:
        writer = IncrementalPdfFileWriter(BytesIO(data))
        out = signers.sign_pdf(
            writer,
            meta,
            signer=signer,
            timestamper=timestamper if level is not PAdESLevel.B_B else None,
        )
    except IdkartaError:  # ours (a PIN refused, no PIN given, a card error) as they are
        raise
    except Exception as exc:  # pyHanko raises many types (PdfReadError, SigningError, …)
        raise PKIError(f"signing the PDF failed: {_one_line(exc) or type(exc).__name__}") from None
    return bytes(out.getvalue())


def _signature_field(data: bytes, wanted: str | None) -> str:
    """``wanted`` if it is not signed yet, or the first free ``SignatureN``."""
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        existing = {name: value is not None
                    for name, value, _ in fields.enumerate_sig_fields(reader)}  # fmt: skip
    except Exception as exc:  # pyHanko's reader raises PdfReadError, ValueError, …
        raise PKIError(f"not a readable PDF: {_one_line(exc) or type(exc).__name__}") from None
    if wanted is not None:
        if not wanted or "." in wanted:
            raise PKIError(f"not a usable signature field name: {wanted!r}")
        if existing.get(wanted):
            raise PKIError(f"the field {wanted!r} is already signed: choose another --field")
        return wanted
    return next(f"Signature{n}" for n in range(1, len(existing) + 2)
                if f"Signature{n}" not in existing)  # fmt: skip


class Revocation(Enum):
    """What is known about the revocation of the signer's certificate."""

    GOOD = "good"
    REVOKED = "revoked"
    NOT_CHECKED = "not-checked"
    WAIVED = "waived"
    """Not checked because the caller said so (``check_revocation=False``)."""


@dataclass(frozen=True, slots=True)
class SignatureReport:
    """The verdict of one signature, four checks kept apart (as pyHanko's ``SignatureStatus``
    separates intact / valid / trusted): integrity (the signed bytes hash to the signed digest and
    later revisions are permitted ones), validity (the signature value verifies with the signer's
    key), trust (a path to one of the trust roots, revocation aside) and revocation (good,
    revoked, not checked with the reason, or waived). Each carries its reason."""

    field_name: str
    signer: str
    intact: bool
    valid: bool
    trusted: bool
    revoked: bool
    timestamped: bool
    signing_time: dt.datetime | None
    summary: str
    revocation: Revocation = Revocation.NOT_CHECKED
    integrity_reason: str = ""
    validity_reason: str = ""
    trust_reason: str = ""
    revocation_reason: str = ""

    @property
    def ok(self) -> bool:
        """Every check was made and passed; a waived revocation check counts (it was asked)."""
        return (self.intact and self.valid and self.trusted
                and self.revocation in (Revocation.GOOD, Revocation.WAIVED))  # fmt: skip

    def checks(self) -> list[tuple[str, str, str]]:
        """``(check, status, reason)`` for integrity, signature, trust and revocation; status is
        ``pass``, ``fail``, ``not-checked`` or, for revocation, ``waived``."""
        revocation = {Revocation.GOOD: "pass", Revocation.REVOKED: "fail"}.get(
            self.revocation, self.revocation.value
        )
        return [
            ("integrity", "pass" if self.intact else "fail", self.integrity_reason),
            ("signature", "pass" if self.valid else "fail", self.validity_reason),
            ("trust", "pass" if self.trusted else "fail", self.trust_reason),
            ("revocation", revocation, self.revocation_reason),
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field_name,
            "signer": self.signer,
            "intact": self.intact,
            "valid": self.valid,
            "trusted": self.trusted,
            "revoked": self.revoked,
            "revocation": self.revocation.value,
            "timestamped": self.timestamped,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "checks": [{"name": n, "status": st, "reason": why} for n, st, why in self.checks()],
            "ok": self.ok,
        }


def _one_line(text: object, limit: int = 300) -> str:
    return " ".join(str(text).split())[:limit]


def _fetch_for(
    cert: x509.Certificate, roots: Sequence[x509.Certificate], timeout: float
) -> tuple[list[crl.CertificateList], list[ocsp.OCSPResponse], list[str]]:
    """CRLs and OCSP answers from the certificate's URLs, each URL on its own: what came, and
    one line per URL that failed."""
    issuer = _issuer_among(roots, cert)
    if issuer is None:
        return [], [], ["the issuer is not among the trust roots, nothing fetched"]
    crl_urls, ocsp_urls = _urls(cert)
    crls: list[crl.CertificateList] = []
    responses: list[ocsp.OCSPResponse] = []
    errors: list[str] = []
    for url in crl_urls:
        try:
            found = crl.CertificateList.load(_http(url, None, None, timeout))
            found.native  # noqa: B018 - parse fully here, not inside the validator
            crls.append(found)
        except (PKIError, ValueError, TypeError) as exc:
            errors.append(_one_line(exc if isinstance(exc, PKIError) else f"{url}: {exc}"))
    for url in ocsp_urls:
        try:
            req = ocsp_request_for(cert, issuer, b"idkarta-" + bytes(8))
            answer = ocsp.OCSPResponse.load(_http(url, req, "application/ocsp-request", timeout))
            answer.native  # noqa: B018
            responses.append(answer)
        except (PKIError, ValueError, TypeError) as exc:
            errors.append(_one_line(exc if isinstance(exc, PKIError) else f"{url}: {exc}"))
    if not crl_urls and not ocsp_urls:
        errors.append("the certificate names no CRL distribution point and no OCSP responder")
    return crls, responses, errors


def _context(dss: DocumentSecurityStore | None, **kwargs: Any) -> ValidationContext:
    return dss.as_validation_context(kwargs) if dss else ValidationContext(**kwargs)


def _path_check(
    cert: x509.Certificate, others: Sequence[x509.Certificate], vc: ValidationContext
) -> None:
    """Raises pyhanko_certvalidator's errors when no valid path reaches a trust root."""
    validator = CertificateValidator(cert, intermediate_certs=list(others), validation_context=vc)
    asyncio.run(validator.async_validate_usage(set()))  # type: ignore[no-untyped-call]


def _integrity(sig: EmbeddedPdfSignature, status: Any) -> str:
    if not status.intact:
        try:
            actual = sig.compute_digest().hex()
        except Exception:
            actual = "?"
        claimed = "?"
        for attr in sig.signer_info["signed_attrs"]:
            if attr["type"].native == "message_digest":
                claimed = bytes(attr["values"][0].native).hex()
        return (f"digest mismatch: the signed byte ranges hash ({sig.md_algorithm}) to "
                f"{actual}, the signature covers {claimed}; the document was changed")  # fmt: skip
    level = status.modification_level
    if status.docmdp_ok is False:
        name = level.name.lower().replace("_", " ") if level else "unknown"
        return f"changed after signing in a way the signature does not permit ({name})"
    if status.coverage is not None and status.coverage.name == "ENTIRE_FILE":
        return "digest matches; the signature covers the whole file"
    name = level.name.lower().replace("_", " ") if level else "none"
    return f"digest matches; later revisions permitted (modification level: {name})"


def _report(
    sig: EmbeddedPdfSignature,
    dss: DocumentSecurityStore | None,
    roots: Sequence[x509.Certificate],
    crls: list[crl.CertificateList],
    ocsps: list[ocsp.OCSPResponse],
    fetch_errors: list[str] | None,
    check_revocation: bool,
) -> SignatureReport:
    cert = sig.signer_cert
    others = list(sig.other_embedded_certs)
    base = {"trust_roots": list(roots), "allow_fetching": False}
    status = validate_pdf_signature(
        sig, _context(dss, **base, crls=crls, ocsps=ocsps, revocation_mode="soft-fail")
    )
    verb = "verifies" if status.valid else "does not verify"
    validity = f"the signature value {verb} with the signer's public key"
    try:  # trust: the path alone, revocation aside
        _path_check(cert, others, _context(dss, **base, crls=[], ocsps=[],
                                           revocation_mode="soft-fail"))  # fmt: skip
        trusted, trust = True, f"path to {cert.issuer.human_friendly}"
    except (PathError, ValidationError, ValueError) as exc:
        trusted, trust = False, _one_line(exc) or type(exc).__name__
    revocation, why = Revocation.NOT_CHECKED, ""
    if not check_revocation:
        revocation, why = Revocation.WAIVED, "waived by the caller"
    elif not trusted:
        why = "the certificate has no trusted path"
    else:
        try:
            vc = _context(dss, **base, crls=crls, ocsps=ocsps, revocation_mode="require")
            _path_check(cert, others, vc)
            revocation, why = Revocation.GOOD, "a CRL or OCSP answer says good"
        except RevokedError as exc:
            revocation, why = Revocation.REVOKED, _one_line(exc)
        except (PathError, ValidationError, ValueError) as exc:
            why = ("no CRL or OCSP answer obtained" if isinstance(exc, ValueError)
                   else _one_line(exc))  # fmt: skip
        if revocation is Revocation.NOT_CHECKED:
            if fetch_errors is None:
                why += " (none in the document or given, and not fetched: no --online)"
            elif fetch_errors:
                why += "; " + "; ".join(fetch_errors)
    return SignatureReport(
        field_name=sig.field_name,
        signer=cert.subject.human_friendly,
        intact=bool(status.intact) and status.docmdp_ok is not False,
        valid=bool(status.valid),
        trusted=trusted,
        revoked=revocation is Revocation.REVOKED,
        timestamped=status.timestamp_validity is not None,
        signing_time=status.signer_reported_dt,
        summary=status.summary(),
        revocation=revocation,
        integrity_reason=_integrity(sig, status),
        validity_reason=validity,
        trust_reason=trust,
        revocation_reason=why,
    )


def validate_pdf(
    data: bytes,
    trust_roots: Sequence[x509.Certificate],
    *,
    online: bool = False,
    crls: Sequence[crl.CertificateList] = (),
    ocsps: Sequence[ocsp.OCSPResponse] = (),
    check_revocation: bool = True,
    timeout: float = _TIMEOUT,
) -> list[SignatureReport]:
    """Validate every signature of ``data`` against ``trust_roots``.

    Revocation data comes from the document security store (B-LT), from ``crls``/``ocsps``, and
    with ``online`` from the URLs in the signer's certificate; when none answers for the
    certificate, its revocation is :attr:`Revocation.NOT_CHECKED` with the reason (never good).
    ``check_revocation=False`` waives the check (:attr:`Revocation.WAIVED`). A document that
    cannot be read raises :class:`PKIError`.
    """
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # pyHanko's reader raises PdfReadError, ValueError, …
        raise PKIError(f"not a readable PDF: {exc}") from None
    dss: DocumentSecurityStore | None
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except Exception:  # no DSS: pyHanko raises NoDSSFoundError
        dss = None
    reports = []
    for sig in embedded:
        extra_crls, extra_ocsps = list(crls), list(ocsps)
        fetch_errors: list[str] | None = None
        try:
            cert = sig.signer_cert
            if online and check_revocation:
                fetched_crls, fetched_ocsps, fetch_errors = _fetch_for(cert, trust_roots, timeout)
                extra_crls += fetched_crls
                extra_ocsps += fetched_ocsps
            reports.append(_report(sig, dss, trust_roots, extra_crls, extra_ocsps, fetch_errors,
                                   check_revocation))  # fmt: skip
        except Exception as exc:  # a broken signature container
            try:
                signer = sig.signer_cert.subject.human_friendly
            except Exception:
                signer = "?"
            reason = _one_line(f"unreadable signature: {exc}")
            reports.append(
                SignatureReport(
                    sig.field_name, signer, False, False, False, False, False, None, reason,
                    Revocation.NOT_CHECKED, reason, "not checked", "not checked", "not checked",
                )
            )
    return reports


def simple_pdf(text: str = "idkarta") -> bytes:
    """A one-page PDF with one line of ``text`` (Helvetica), written by pyHanko's own writer:
    the document of demos and tests (``text`` must not contain parentheses or backslashes)."""
    if any(c in text for c in "()\\") or not text.isprintable():
        raise PKIError("simple_pdf text must be printable, without parentheses or backslashes")
    writer = PdfFileWriter()  # type: ignore[no-untyped-call]
    stream = generic.StreamObject(stream_data=f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())
    font = generic.DictionaryObject(  # type: ignore[no-untyped-call]
        {
            generic.NameObject("/Type"): generic.NameObject("/Font"),
            generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
            generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
        }
    )
    page = generic.DictionaryObject(  # type: ignore[no-untyped-call]
        {
            generic.NameObject("/Type"): generic.NameObject("/Page"),
            generic.NameObject("/MediaBox"): generic.ArrayObject(
                [generic.NumberObject(n) for n in (0, 0, 300, 200)]  # type: ignore[no-untyped-call]
            ),
            generic.NameObject("/Contents"): writer.add_object(stream),
            generic.NameObject("/Resources"): generic.DictionaryObject(  # type: ignore[no-untyped-call]
                {
                    generic.NameObject("/Font"): generic.DictionaryObject(  # type: ignore[no-untyped-call]
                        {generic.NameObject("/F1"): writer.add_object(font)}
                    )
                }
            ),
        }
    )
    writer.insert_page(page)  # type: ignore[no-untyped-call]
    out = BytesIO()
    writer.write(out)  # type: ignore[no-untyped-call]
    return out.getvalue()
