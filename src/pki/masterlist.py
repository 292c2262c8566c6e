"""CSCA master lists (ICAO Doc 9303-12 §8): build and sign ours, parse and check foreign ones.

A master list is a CMS ``SignedData`` (RFC 5652) whose encapsulated content, of type
``id-icao-cscaMasterList`` (2.23.136.1.1.2), is ``CscaMasterList { version 0, certList SET OF
Certificate }``. It is signed by a Master List Signer (EKU 2.23.136.1.1.3) whose certificate, and
the CSCA that issued it, travel in ``certificates``. Signed attributes: contentType,
messageDigest, signingTime.

Parsing never raises for a bad signature: it returns a :class:`MasterListVerification` that says
which checks passed (STYLE.md §6). Bytes that are not a master list raise DecodeError. Parsing
and checking are :mod:`idcard.verify.masterlist`'s (one implementation); building is here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from asn1crypto import x509

from idcard.errors import DecodeError
from idcard.verify.masterlist import MasterList, MasterListVerification, check_master_list
from pki.asn1 import ID_ICAO_CSCA_MASTER_LIST, CscaMasterList
from pki.ca import certificate_public_key
from pki.cms import build_signed_data
from pki.errors import IssuanceError
from pki.keys import SignatureAlgorithm, Signer

__all__ = ["MasterListVerification", "build_master_list", "parse_master_list"]


def build_master_list(
    csca_certificates: Sequence[x509.Certificate],
    signer: Signer,
    signer_certificate: x509.Certificate,
    *,
    issuer_certificate: x509.Certificate | None = None,
    algorithm: SignatureAlgorithm | None = None,
    signing_time: dt.datetime | None = None,
) -> bytes:
    """The DER ``ContentInfo`` of a master list of ``csca_certificates`` (9303-12 §8.2).

    ``signer_certificate`` must be a Master List Signer certificate for ``signer``'s key;
    ``issuer_certificate`` (its CSCA) is included when given, as 9303-12 §8.2.1 recommends.
    """
    if not csca_certificates:
        raise IssuanceError("a master list needs at least one CSCA certificate")
    if certificate_public_key(signer_certificate) != signer.public_key():
        raise IssuanceError("the signer's key is not the master list signer certificate's key")
    eku = signer_certificate.extended_key_usage_value
    if eku is None or "icao_master_list_signing" not in eku.native:
        raise IssuanceError("the signer certificate lacks the master list signing EKU")
    alg = algorithm or signer.algorithm
    unique = list({c.dump(): c for c in csca_certificates}.values())  # a SET: no duplicates
    content = CscaMasterList({"version": 0, "cert_list": unique}).dump()
    when = (signing_time or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    extra = [issuer_certificate] if issuer_certificate else []
    return build_signed_data(
        ID_ICAO_CSCA_MASTER_LIST,
        content,
        signer,
        signer_certificate,
        alg,
        when,
        extra_certificates=extra,
    )


def parse_master_list(
    data: bytes, *, trust_anchors: Sequence[x509.Certificate] = ()
) -> MasterListVerification:
    """Decode a master list (DER ContentInfo) and check it (9303-12 §8.2).

    The checks are :func:`idcard.verify.masterlist.check_master_list`'s, with the signer's issuer
    sought among the list's own CSCAs, ``trust_anchors`` and the certificates it carries (so
    ``valid`` does not yet mean trusted: the signer's CSCA must still be an anchor of the caller).
    Bytes that are not a master list, or algorithms that cannot be checked, raise DecodeError.
    """
    ml = MasterList.decode(data)
    result = check_master_list(ml, [*ml.certificates, *trust_anchors, *ml.signed.certificates])
    if result.unsupported is not None:
        raise DecodeError(f"master list: {result.unsupported}")
    return result
