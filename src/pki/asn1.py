"""ASN.1 specs of the document PKI (ICAO Doc 9303-12), and their one registration with asn1crypto.

* ``CscaMasterList`` — 9303-12 §8.2 (content type ``id-icao-cscaMasterList`` 2.23.136.1.1.2).
* ``DocumentTypeListSyntax`` — 9303-12 §7.1.1.3 (extension 2.23.136.1.1.6.2).
* name change extension — 9303-12 §7.1.1.2 (2.23.136.1.1.6.1, ``SYNTAX NULL``).
* extended key usages: master list signing 2.23.136.1.1.3, deviation list signing 2.23.136.1.1.10.

asn1crypto is extended through its private maps here and nowhere else in ``pki`` (STYLE.md §2);
:func:`register` is idempotent and runs on import.
"""

from __future__ import annotations

from asn1crypto import cms, core, x509

__all__ = [
    "ID_ICAO_CSCA_MASTER_LIST",
    "ID_ICAO_DEVIATION_LIST_SIGNING",
    "ID_ICAO_DOCUMENT_TYPE_LIST",
    "ID_ICAO_MASTER_LIST_SIGNING",
    "ID_ICAO_NAME_CHANGE",
    "CscaMasterList",
    "DocumentTypeListSyntax",
    "register",
    "registered",
]

ID_ICAO_CSCA_MASTER_LIST = "2.23.136.1.1.2"
ID_ICAO_MASTER_LIST_SIGNING = "2.23.136.1.1.3"
ID_ICAO_DEVIATION_LIST_SIGNING = "2.23.136.1.1.10"
ID_ICAO_NAME_CHANGE = "2.23.136.1.1.6.1"
ID_ICAO_DOCUMENT_TYPE_LIST = "2.23.136.1.1.6.2"


class CertificateSet(core.SetOf):
    _child_spec = x509.Certificate


class CscaMasterList(core.Sequence):
    """``CscaMasterList ::= SEQUENCE { version CscaMasterListVersion,
    certList SET OF Certificate }`` (9303-12 §8.2.2; version v0 = 0)."""

    _fields = [  # noqa: RUF012 - asn1crypto spec
        ("version", core.Integer),
        ("cert_list", CertificateSet),
    ]


class DocumentTypes(core.SetOf):
    _child_spec = core.PrintableString


class DocumentTypeListSyntax(core.Sequence):
    """``DocumentTypeListSyntax ::= SEQUENCE { version DocumentTypeListVersion,
    docTypeList SET OF DocumentType }``, ``DocumentType ::= PrintableString(SIZE(1..2))``
    (9303-12 §7.1.1.3; version v0 = 0)."""

    _fields = [  # noqa: RUF012 - asn1crypto spec
        ("version", core.Integer),
        ("doc_type_list", DocumentTypes),
    ]


_CONTENT_TYPES = {ID_ICAO_CSCA_MASTER_LIST: "icao_csca_master_list"}
_EXTENSIONS = {
    ID_ICAO_NAME_CHANGE: "icao_name_change",
    ID_ICAO_DOCUMENT_TYPE_LIST: "icao_document_type_list",
}
_KEY_PURPOSES = {
    ID_ICAO_MASTER_LIST_SIGNING: "icao_master_list_signing",
    ID_ICAO_DEVIATION_LIST_SIGNING: "icao_deviation_list_signing",
}


def _extend(cls: type[core.ObjectIdentifier], entries: dict[str, str]) -> None:
    cls._map.update(entries)
    if cls._reverse_map is not None:  # built on first use; keep it in step
        cls._reverse_map.update({name: oid for oid, name in entries.items()})


def register() -> None:
    """Teach asn1crypto the document-PKI OIDs and their value specs (idempotent)."""
    _extend(cms.ContentType, _CONTENT_TYPES)
    cms.EncapsulatedContentInfo._oid_specs["icao_csca_master_list"] = CscaMasterList
    _extend(x509.ExtensionId, _EXTENSIONS)
    x509.Extension._oid_specs["icao_name_change"] = core.Null
    x509.Extension._oid_specs["icao_document_type_list"] = DocumentTypeListSyntax
    _extend(x509.KeyPurposeId, _KEY_PURPOSES)


def registered() -> bool:
    """True when :func:`register` has taken effect (tested)."""
    return (
        cms.ContentType._map.get(ID_ICAO_CSCA_MASTER_LIST) == "icao_csca_master_list"
        and cms.EncapsulatedContentInfo._oid_specs.get("icao_csca_master_list") is CscaMasterList
        and x509.ExtensionId._map.get(ID_ICAO_DOCUMENT_TYPE_LIST) == "icao_document_type_list"
        and x509.KeyPurposeId._map.get(ID_ICAO_MASTER_LIST_SIGNING) == "icao_master_list_signing"
    )


register()
