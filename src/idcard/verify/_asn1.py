"""asn1crypto specs verification uses: LDSSecurityObject re-exported from :mod:`idcard.asn1`;
private copies, until :mod:`idcard.asn1` provides them (``idcard`` may not import ``pki.asn1``), of
CscaMasterList (ICAO 9303-12 §9) and
DocumentTypeListSyntax (ICAO 9303-12 §7.1.1.3, extension 2.23.136.1.1.6.2). Declarative, field
names from the specs in snake_case (STYLE.md §2); to be merged into ``idcard.asn1``.
"""

from __future__ import annotations

from asn1crypto import core, x509

from idcard.asn1.lds_security_object import (
    DataGroupHash,
    DataGroupHashValues,
    LDSSecurityObject,
    LDSVersionInfo,
)

__all__ = [
    "CscaMasterList",
    "DataGroupHash",
    "DataGroupHashValues",
    "DocumentTypeListSyntax",
    "LDSSecurityObject",
    "LDSVersionInfo",
    "OID_CSCA_MASTER_LIST",
    "OID_DOCUMENT_TYPE_LIST",
    "OID_LDS_SECURITY_OBJECT",
]

OID_LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
"""id-icao-mrtd-security-ldsSecurityObject (ICAO 9303-10 §4.6.2.3)."""
OID_CSCA_MASTER_LIST = "2.23.136.1.1.2"
"""id-icao-cscaMasterList (ICAO 9303-12 §9)."""
OID_DOCUMENT_TYPE_LIST = "2.23.136.1.1.6.2"
"""id-icao-mrtd-security-extensions-documentTypeList (ICAO 9303-12 §7.1.1.3)."""


class CertificateSet(core.SetOf):  # type: ignore[misc]
    _child_spec = x509.Certificate


class CscaMasterList(core.Sequence):  # type: ignore[misc]
    """CscaMasterList ::= SEQUENCE { version (v0), certList SET OF Certificate }."""

    _fields = [("version", core.Integer), ("cert_list", CertificateSet)]  # noqa: RUF012


class DocumentTypes(core.SetOf):  # type: ignore[misc]
    _child_spec = core.PrintableString


class DocumentTypeListSyntax(core.Sequence):  # type: ignore[misc]
    """DocumentTypeListSyntax ::= SEQUENCE { version (v0), docTypeList SET OF DocumentType }."""

    _fields = [("version", core.Integer), ("doc_type_list", DocumentTypes)]  # noqa: RUF012
