"""CMS SignedData with one signer, as EF.SOD, EF.CardSecurity and master lists are made.

ICAO 9303-10 §4.6.2 (EF.SOD), 9303-12 §8.2 (master lists) and BSI TR-03110-3 §A.1.2.5
(EF.CardSecurity) all use the same shape of RFC 5652 SignedData: version 3, one digest
algorithm, the encapsulated content, the signer's certificate (and optionally more), and one
SignerInfo version 1 identified by issuer and serial number, whose signed attributes are
contentType, messageDigest and signingTime (RFC 5652 §5.3, §11). :func:`build_signed_data` makes
that ContentInfo; the callers check their own profile (certificate, content) first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from asn1crypto import algos, cms, core, x509

from pki.ca import certificate_public_key
from pki.errors import IssuanceError, PKIError
from pki.keys import SignatureAlgorithm, Signer

__all__ = [
    "build_signed_data",
    "check_document_signer",
    "load_ds_certificate",
    "signed_attributes",
    "signing_algorithm",
]


def load_ds_certificate(cert: x509.Certificate | bytes) -> x509.Certificate:
    """The DS certificate as an asn1crypto object, parsed in full now; bad bytes raise
    IssuanceError."""
    if isinstance(cert, x509.Certificate):
        return cert
    try:
        parsed = x509.Certificate.load(bytes(cert), strict=True)
        parsed.native  # noqa: B018 - parse fully now
    except (ValueError, TypeError) as exc:
        raise IssuanceError(f"the DS certificate does not decode: {exc}") from None
    return parsed


def check_document_signer(cert: x509.Certificate, signer: Signer) -> None:
    """Raise IssuanceError unless ``cert`` is ``signer``'s key and allows digitalSignature
    (the Document Signer profile of ICAO 9303-12 §7.1.1)."""
    try:
        if certificate_public_key(cert) != signer.public_key():
            raise IssuanceError("the signer's key is not the DS certificate's key")
    except PKIError as exc:
        raise IssuanceError(str(exc)) from None
    usage = cert.key_usage_value
    if usage is None or "digital_signature" not in usage.native:
        raise IssuanceError("the DS certificate does not allow digitalSignature")


def signing_algorithm(signer: Signer, algorithm: SignatureAlgorithm | None) -> SignatureAlgorithm:
    """``algorithm``, or the signer's own; IssuanceError when the signer's key cannot use it."""
    alg = algorithm or signer.algorithm
    try:
        alg.check_key(signer.key_spec)
    except PKIError as exc:
        raise IssuanceError(str(exc)) from None
    return alg


def _time(when: dt.datetime) -> cms.Time:
    """UTCTime for 1950-2049, GeneralizedTime otherwise (RFC 5652 §11.3)."""
    kind = "utc_time" if 1950 <= when.year < 2050 else "generalized_time"
    return cms.Time({kind: when})


def signed_attributes(content_type: str, digest: bytes, when: dt.datetime) -> cms.CMSAttributes:
    """The signed attributes contentType, messageDigest, signingTime (RFC 5652 §11.1-11.3)."""
    return cms.CMSAttributes(
        [
            {"type": "content_type", "values": [content_type]},
            {"type": "message_digest", "values": [digest]},
            {"type": "signing_time", "values": [_time(when)]},
        ]
    )


def build_signed_data(
    content_type: str,
    content: bytes,
    signer: Signer,
    signer_certificate: x509.Certificate,
    algorithm: SignatureAlgorithm,
    when: dt.datetime,
    *,
    extra_certificates: Sequence[x509.Certificate] = (),
) -> bytes:
    """The DER ContentInfo of a SignedData over ``content`` signed by ``signer`` at ``when``.

    ``content`` is the DER eContent of type ``content_type`` (a dotted OID);
    ``signer_certificate`` identifies the signer (issuerAndSerialNumber) and is the first of
    ``certificates``, followed by ``extra_certificates``.
    """
    attrs = signed_attributes(content_type, algorithm.digest(content), when)
    signature = signer.sign(attrs.dump(), algorithm)
    sid = cms.SignerIdentifier(
        {
            "issuer_and_serial_number": {
                "issuer": signer_certificate.issuer,
                "serial_number": signer_certificate.serial_number,
            }
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": algorithm.hash_name})],
            "encap_content_info": {
                "content_type": content_type,
                "content": core.ParsableOctetString(content),
            },
            "certificates": [signer_certificate, *extra_certificates],
            "signer_infos": [
                {
                    "version": "v1",
                    "sid": sid,
                    "digest_algorithm": {"algorithm": algorithm.hash_name},
                    "signed_attrs": attrs,
                    "signature_algorithm": algorithm.signed_digest_algorithm(),
                    "signature": signature,
                }
            ],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())
