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
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from pki.errors import PKIError
from pki.keys import HashName, SignatureAlgorithm, SignatureScheme, Signer
from pki.ocsp import request_for as ocsp_request_for
from pki.tsa import TimeStampAuthority

__all__ = [
    "HTTPTimeStamper",
    "LocalTimeStamper",
    "PAdESLevel",
    "PdfSigner",
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
    field_name: str = "Signature1",
    reason: str | None = None,
) -> bytes:
    """Sign the PDF ``data`` at ``level``; returns the signed document.

    B-T and B-LT need ``timestamper``. B-LT embeds ``crls``/``ocsps`` with the chain up to
    ``trust_roots``; when none are given they are fetched for the signing certificate
    (:func:`fetch_revocation_info`).
    """
    if level is not PAdESLevel.B_B and timestamper is None:
        raise PKIError(f"{level.value} needs a time-stamp authority")
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
    except PKIError:
        raise
    except Exception as exc:  # pyHanko raises many types (PdfReadError, SigningError, …)
        raise PKIError(f"signing the PDF failed: {exc}") from None
    return bytes(out.getvalue())


@dataclass(frozen=True, slots=True)
class SignatureReport:
    """The verdict of one signature (pyHanko's intact / valid / trusted, plus revocation)."""

    field_name: str
    signer: str
    intact: bool
    valid: bool
    trusted: bool
    revoked: bool
    timestamped: bool
    signing_time: dt.datetime | None
    summary: str

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and not self.revoked

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field_name,
            "signer": self.signer,
            "intact": self.intact,
            "valid": self.valid,
            "trusted": self.trusted,
            "revoked": self.revoked,
            "timestamped": self.timestamped,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "ok": self.ok,
        }


def validate_pdf(
    data: bytes,
    trust_roots: Sequence[x509.Certificate],
    *,
    online: bool = False,
    crls: Sequence[crl.CertificateList] = (),
    ocsps: Sequence[ocsp.OCSPResponse] = (),
) -> list[SignatureReport]:
    """Validate every signature of ``data`` against ``trust_roots``.

    Revocation data comes from the document security store (B-LT), from ``crls``/``ocsps``, and
    with ``online`` from the URLs in the signer's certificate. A document that cannot be read
    raises :class:`PKIError`.
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
        cert = sig.signer_cert
        if online:
            issuer = _issuer_among(trust_roots, cert)
            if issuer is not None:
                try:
                    fetched = fetch_revocation_info(cert, issuer)
                except PKIError:
                    fetched = ([], [])
                extra_crls += fetched[0]
                extra_ocsps += fetched[1]
        kwargs: dict[str, Any] = {
            "trust_roots": list(trust_roots),
            "crls": extra_crls,
            "ocsps": extra_ocsps,
            "allow_fetching": False,
            "revocation_mode": "soft-fail",
        }
        vc = dss.as_validation_context(kwargs) if dss else ValidationContext(**kwargs)
        try:
            status = validate_pdf_signature(sig, vc)
        except Exception as exc:  # a broken signature container
            reports.append(
                SignatureReport(
                    sig.field_name, cert.subject.human_friendly if cert else "?",
                    False, False, False, False, False, None, f"unreadable signature: {exc}",
                )
            )
            continue
        reports.append(
            SignatureReport(
                field_name=sig.field_name,
                signer=cert.subject.human_friendly,
                intact=bool(status.intact),
                valid=bool(status.valid),
                trusted=bool(status.trusted),
                revoked=bool(status.revoked),
                timestamped=status.timestamp_validity is not None,
                signing_time=status.signer_reported_dt,
                summary=status.summary(),
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
