"""ASN.1 specifications of ICAO Doc 9303 and BSI TR-03110 as asn1crypto classes (STYLE.md §2).

One module per spec area: :mod:`~idcard.asn1.oids` (protocol OIDs and names),
:mod:`~idcard.asn1.security_infos` (SecurityInfos of EF.CardAccess, EF.CardSecurity, DG14),
:mod:`~idcard.asn1.lds_security_object` (EF.SOD's LDSSecurityObject),
:mod:`~idcard.asn1.document_pki` (CscaMasterList, DocumentTypeListSyntax, ICAO PKI OIDs) and
:mod:`~idcard.asn1.registration` (the extension of asn1crypto's CMS maps, run on import).
"""

from __future__ import annotations

from idcard.asn1 import registration as _registration  # noqa: F401 - registers content types
