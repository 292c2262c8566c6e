"""Reading one-signer CMS SignedData (RFC 5652 §5) as EF.SOD and CSCA master lists use it.

The signed attributes are kept as the exact bytes received, re-tagged as a SET (RFC 5652 §5.4),
because the signature covers those bytes and not a re-encoding.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import algos, cms, core, x509

from idcard.errors import DecodeError
from idcard.verify import _signature
from idcard.verify.report import CheckResult, Status

__all__ = ["SignedParts", "check_signed_parts", "read_signed_data"]


@dataclass(frozen=True, slots=True)
class SignedParts:
    """The pieces of a SignedData with one SignerInfo that a verifier needs."""

    e_content_type: str
    e_content: bytes = field(repr=False)
    digest_algorithm: str
    signed_attrs_der: bytes | None = field(repr=False)
    message_digest: bytes | None
    content_type_attr: str | None
    signing_time: datetime | None
    signature: bytes = field(repr=False)
    signature_algorithm: algos.SignedDigestAlgorithm
    signer_certificate: x509.Certificate | None
    certificates: tuple[x509.Certificate, ...]


def read_signed_data(der: bytes, what: str) -> SignedParts:
    """Parse a ContentInfo holding SignedData; anything malformed raises :class:`DecodeError`."""
    try:
        ci = cms.ContentInfo.load(der)
        if ci["content_type"].native != "signed_data":
            raise DecodeError(f"{what} does not hold a CMS SignedData")
        sd = ci["content"]
        eci = sd["encap_content_info"]
        content = eci["content"]
        if isinstance(content, core.Void):
            raise DecodeError(f"{what} has no encapsulated content")
        e_content = bytes(content)
        infos = sd["signer_infos"]
        if len(infos) != 1:
            raise DecodeError(f"{what} must have exactly one SignerInfo, has {len(infos)}")
        si = infos[0]
        attrs = si["signed_attrs"]
        attrs_der = message_digest = content_type = signing_time = None
        if isinstance(attrs, cms.CMSAttributes) and len(attrs):
            attrs_der = b"\x31" + bytes(attrs.dump())[1:]
            for attr in attrs:
                kind = attr["type"].native
                value = attr["values"][0]
                if kind == "message_digest":
                    message_digest = bytes(value.native)
                elif kind == "content_type":
                    content_type = value.dotted
                elif kind == "signing_time":
                    signing_time = value.native
        certs: list[x509.Certificate] = []
        if isinstance(sd["certificates"], cms.CertificateSet):
            certs = [
                _certificate(bytes(c.chosen.dump()))
                for c in sd["certificates"]
                if c.name == "certificate"
            ]
        sid = si["sid"]
        signer = next((c for c in certs if _matches_sid(c, sid)), None)
        return SignedParts(
            e_content_type=str(eci["content_type"].dotted),
            e_content=e_content,
            digest_algorithm=str(si["digest_algorithm"]["algorithm"].native),
            signed_attrs_der=attrs_der,
            message_digest=message_digest,
            content_type_attr=content_type,
            signing_time=signing_time,
            signature=bytes(si["signature"].native),
            signature_algorithm=si["signature_algorithm"],
            signer_certificate=signer,
            certificates=tuple(certs),
        )
    except DecodeError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        raise DecodeError(f"{what} does not decode: {exc}") from None


@functools.lru_cache(maxsize=256)
def _certificate(der: bytes) -> x509.Certificate:
    """One parsed object per certificate: documents of one DS share it (and its parsed fields)."""
    cert = x509.Certificate.load(der)
    _ = cert.serial_number, cert.issuer, cert.subject, cert.public_key
    return cert


def _matches_sid(cert: x509.Certificate, sid: cms.SignerIdentifier) -> bool:
    """True when ``cert`` is the one the SignerIdentifier names (RFC 5652 §5.3)."""
    if sid.name == "issuer_and_serial_number":
        ias = sid.chosen
        if cert.serial_number != ias["serial_number"].native:
            return False
        # same bytes is the common case; Name equality (RFC 5280 §7.1 matching) is slow
        return bool(cert.issuer.dump() == ias["issuer"].dump() or cert.issuer == ias["issuer"])
    ski = cert.key_identifier
    return ski is not None and ski == sid.chosen.native


def check_signed_parts(parts: SignedParts, name: str, expected_type: str) -> CheckResult:
    """The CMS signature check of RFC 5652 §5.6 for ``parts`` with its own signer certificate.

    eContentType must be ``expected_type`` and equal the contentType attribute; messageDigest must
    be the hash of eContent; the signature over the signed attributes must verify with the signer
    certificate's key.
    """

    if parts.e_content_type != expected_type:
        return CheckResult(
            name, Status.FAIL, f"eContentType is {parts.e_content_type}, not {expected_type}"
        )
    if parts.signed_attrs_der is None:
        return CheckResult(name, Status.FAIL, "no signed attributes")
    if parts.content_type_attr != expected_type:
        return CheckResult(
            name, Status.FAIL, "the contentType signed attribute does not match eContentType"
        )
    if parts.message_digest is None:
        return CheckResult(name, Status.FAIL, "no messageDigest signed attribute")
    try:
        digest = hashlib.new(parts.digest_algorithm, parts.e_content).digest()
    except ValueError:
        return CheckResult(
            name, Status.NOT_CHECKED, f"digest algorithm {parts.digest_algorithm} unsupported"
        )
    if digest != parts.message_digest:
        return CheckResult(name, Status.FAIL, "messageDigest is not the hash of the eContent")
    cert = parts.signer_certificate
    if cert is None:
        return CheckResult(name, Status.NOT_CHECKED, "the signer certificate is not included")
    try:
        ok = _signature.verify(
            cert.public_key,
            parts.signature_algorithm,
            parts.signature,
            parts.signed_attrs_der,
            digest_algorithm=parts.digest_algorithm,
        )
    except _signature.UnsupportedKey as exc:
        return CheckResult(name, Status.NOT_CHECKED, str(exc))
    if not ok:
        return CheckResult(name, Status.FAIL, "the signature does not verify with the signer key")
    alg = parts.signature_algorithm["algorithm"].native
    return CheckResult(
        name, Status.PASS, f"{alg} signature by {cert.subject.human_friendly} verifies"
    )
