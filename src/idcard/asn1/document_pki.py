"""ASN.1 of the document PKI (ICAO Doc 9303-12), the one definition for idcard and pki.

* ``CscaMasterList`` — 9303-12 §8.2.2 (content type ``id-icao-cscaMasterList`` 2.23.136.1.1.2).
* ``DocumentTypeListSyntax`` — 9303-12 §7.1.1.3 (extension 2.23.136.1.1.6.2).
* name change extension — 9303-12 §7.1.1.2 (2.23.136.1.1.6.1, ``SYNTAX NULL``).
* extended key usages: master list signing 2.23.136.1.1.3, deviation list signing 2.23.136.1.1.10.

Their registration with asn1crypto is in :mod:`idcard.asn1.registration`.
"""

# asn1crypto specs are declared with class-level lists (_fields), as asn1crypto itself does.
# ruff: noqa: RUF012

from __future__ import annotations

from typing import Final

from asn1crypto import core, x509

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
]

ID_ICAO_CSCA_MASTER_LIST: Final = "2.23.136.1.1.2"
"""id-icao-cscaMasterList: eContentType of a CSCA master list (9303-12 §8.2)."""
ID_ICAO_MASTER_LIST_SIGNING: Final = "2.23.136.1.1.3"
"""id-icao-cscaMasterListSigningKey: extended key usage of a master list signer."""
ID_ICAO_DEVIATION_LIST_SIGNING: Final = "2.23.136.1.1.10"
"""id-icao-mrtd-security-deviationListSigningKey: EKU of a deviation list signer."""
ID_ICAO_NAME_CHANGE: Final = "2.23.136.1.1.6.1"
"""id-icao-mrtd-security-extensions-nameChange (9303-12 §7.1.1.2)."""
ID_ICAO_DOCUMENT_TYPE_LIST: Final = "2.23.136.1.1.6.2"
"""id-icao-mrtd-security-extensions-documentTypeList (9303-12 §7.1.1.3)."""


class CertificateSet(core.SetOf):
    _child_spec = x509.Certificate


class CscaMasterList(core.Sequence):
    """``CscaMasterList ::= SEQUENCE { version CscaMasterListVersion,
    certList SET OF Certificate }`` (9303-12 §8.2.2; version v0 = 0)."""

    _fields = [
        ("version", core.Integer),
        ("cert_list", CertificateSet),
    ]


class DocumentTypes(core.SetOf):
    _child_spec = core.PrintableString


class DocumentTypeListSyntax(core.Sequence):
    """``DocumentTypeListSyntax ::= SEQUENCE { version DocumentTypeListVersion,
    docTypeList SET OF DocumentType }``, ``DocumentType ::= PrintableString(SIZE(1..2))``
    (9303-12 §7.1.1.3; version v0 = 0)."""

    _fields = [
        ("version", core.Integer),
        ("doc_type_list", DocumentTypes),
    ]
