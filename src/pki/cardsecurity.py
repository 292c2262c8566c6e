"""EF.CardSecurity signing: SecurityInfos in a CMS SignedData (BSI TR-03110-3 §A.1.2.5,
ICAO 9303-11 §9.2.3 for PACE-CAM).

EF.CardSecurity carries the chip's SecurityInfos — at least the PACEInfos and the Chip
Authentication public key that PACE-CAM (9303-11 §4.4.3.5) needs — signed by the Document
Signer, so that a reader can check the chip key without DG14. The structure follows
:mod:`pki.sod`: a CMS ContentInfo (RFC 5652) with SignedData version 3, eContentType
``id-SecurityObject`` (bsi-de 3.2.1), eContent the DER SecurityInfos, signed attributes
contentType, messageDigest and signingTime signed by any :class:`~pki.keys.Signer` holding the DS
key, and the DS certificate inside. Unlike EF.SOD there is no outer application tag: the file is
the ContentInfo itself, as :class:`idcard.lds.security_infos.CardSecurity` decodes it.
"""

from __future__ import annotations

import datetime as dt

from asn1crypto import algos, cms, core, x509

from idcard.asn1 import oids
from idcard.errors import DecodeError, EncodeError
from idcard.lds.security_infos import (
    CardSecurity,
    ChipAuthenticationPublicKeyInfo,
    SecurityInfos,
)
from pki.ca import certificate_public_key
from pki.errors import IssuanceError, PKIError
from pki.keys import SignatureAlgorithm, Signer

__all__ = ["sign_card_security"]


def _certificate(cert: x509.Certificate | bytes) -> x509.Certificate:
    if isinstance(cert, x509.Certificate):
        return cert
    try:
        parsed = x509.Certificate.load(bytes(cert), strict=True)
        parsed.native  # noqa: B018 - parse fully now
    except (ValueError, TypeError) as exc:
        raise IssuanceError(f"the DS certificate does not decode: {exc}") from None
    return parsed


def sign_card_security(
    security_infos: SecurityInfos,
    signer: Signer,
    certificate: x509.Certificate | bytes,
    *,
    algorithm: SignatureAlgorithm | None = None,
    signing_time: dt.datetime | None = None,
) -> bytes:
    """The EF.CardSecurity file: ``security_infos`` signed by ``signer`` (the DS key, whose
    certificate is ``certificate``).

    ``algorithm`` defaults to the signer's own; ``signing_time`` (timezone-aware) to now. The
    SecurityInfos must hold a ChipAuthenticationPublicKeyInfo (the point of the file). The result
    is decoded back before it is returned.
    """
    cert = _certificate(certificate)
    if not security_infos.of_type(ChipAuthenticationPublicKeyInfo):
        raise IssuanceError("EF.CardSecurity needs the chip's ChipAuthenticationPublicKeyInfo")
    try:
        if certificate_public_key(cert) != signer.public_key():
            raise IssuanceError("the signer's key is not the DS certificate's key")
    except PKIError as exc:
        raise IssuanceError(str(exc)) from None
    usage = cert.key_usage_value
    if usage is None or "digital_signature" not in usage.native:
        raise IssuanceError("the DS certificate does not allow digitalSignature")
    if signing_time is not None and signing_time.tzinfo is None:
        raise IssuanceError("the signing time must be timezone-aware")
    alg = algorithm or signer.algorithm
    try:
        alg.check_key(signer.key_spec)
    except PKIError as exc:
        raise IssuanceError(str(exc)) from None
    try:
        content = security_infos.encode()
    except EncodeError as exc:
        raise IssuanceError(f"SecurityInfos: {exc}") from None
    when = (signing_time or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    content_type = oids.ID_SECURITY_OBJECT
    attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": [content_type]},
            {"type": "message_digest", "values": [alg.digest(content)]},
            {"type": "signing_time", "values": [cms.Time({"utc_time": when})]},
        ]
    )
    signature = signer.sign(attrs.dump(), alg)
    sid = cms.SignerIdentifier(
        {"issuer_and_serial_number": {"issuer": cert.issuer, "serial_number": cert.serial_number}}
    )
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": alg.hash_name})],
            "encap_content_info": {
                "content_type": content_type,
                "content": core.ParsableOctetString(content),
            },
            "certificates": [cert],
            "signer_infos": [
                {
                    "version": "v1",
                    "sid": sid,
                    "digest_algorithm": {"algorithm": alg.hash_name},
                    "signed_attrs": attrs,
                    "signature_algorithm": alg.signed_digest_algorithm(),
                    "signature": signature,
                }
            ],
        }
    )
    data = bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())
    try:
        CardSecurity.decode(data)
    except DecodeError as exc:  # our own output must read back
        raise IssuanceError(f"the signed EF.CardSecurity does not decode: {exc}") from None
    return data
