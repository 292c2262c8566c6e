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

from asn1crypto import x509

from idcard.asn1 import oids
from idcard.errors import DecodeError, EncodeError
from idcard.lds.security_infos import (
    CardSecurity,
    ChipAuthenticationPublicKeyInfo,
    SecurityInfos,
)
from pki.cms import (
    build_signed_data,
    check_document_signer,
    load_ds_certificate,
    signing_algorithm,
)
from pki.errors import IssuanceError
from pki.keys import SignatureAlgorithm, Signer

__all__ = ["sign_card_security"]


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
    cert = load_ds_certificate(certificate)
    if not security_infos.of_type(ChipAuthenticationPublicKeyInfo):
        raise IssuanceError("EF.CardSecurity needs the chip's ChipAuthenticationPublicKeyInfo")
    check_document_signer(cert, signer)
    if signing_time is not None and signing_time.tzinfo is None:
        raise IssuanceError("the signing time must be timezone-aware")
    alg = signing_algorithm(signer, algorithm)
    try:
        content = security_infos.encode()
    except EncodeError as exc:
        raise IssuanceError(f"SecurityInfos: {exc}") from None
    when = (signing_time or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    data = build_signed_data(oids.ID_SECURITY_OBJECT, content, signer, cert, alg, when)
    try:
        CardSecurity.decode(data)
    except DecodeError as exc:  # our own output must read back
        raise IssuanceError(f"the signed EF.CardSecurity does not decode: {exc}") from None
    return data
