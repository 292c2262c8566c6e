"""ASN.1 of the document PKI (ICAO Doc 9303-12), as pki uses it.

The specs and OIDs are defined once, in :mod:`idcard.asn1.document_pki`, and registered with
asn1crypto once, in :mod:`idcard.asn1.registration` (STYLE.md §2); this module re-exports them
for pki code. :func:`register` and :func:`registered` are that registration's.
"""

from __future__ import annotations

from idcard.asn1.document_pki import (
    ID_ICAO_CSCA_MASTER_LIST,
    ID_ICAO_DEVIATION_LIST_SIGNING,
    ID_ICAO_DOCUMENT_TYPE_LIST,
    ID_ICAO_MASTER_LIST_SIGNING,
    ID_ICAO_NAME_CHANGE,
    CertificateSet,
    CscaMasterList,
    DocumentTypeListSyntax,
    DocumentTypes,
)
from idcard.asn1.registration import register, registered

__all__ = [
    "ID_ICAO_CSCA_MASTER_LIST",
    "ID_ICAO_DEVIATION_LIST_SIGNING",
    "ID_ICAO_DOCUMENT_TYPE_LIST",
    "ID_ICAO_MASTER_LIST_SIGNING",
    "ID_ICAO_NAME_CHANGE",
    "CertificateSet",
    "CscaMasterList",
    "DocumentTypeListSyntax",
    "DocumentTypes",
    "register",
    "registered",
]
