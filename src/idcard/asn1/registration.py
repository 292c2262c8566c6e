"""The one place where asn1crypto's private maps are extended (STYLE.md §2).

Registers the eContent types of EF.SOD (``id-icao-mrtd-security-ldsSecurityObject``,
ICAO 9303-10 §4.6.2), EF.CardSecurity (``id-SecurityObject``, BSI TR-03110-3 A.1.2.5) and CSCA
master lists (``id-icao-cscaMasterList``, 9303-12 §8.2), so that
``EncapsulatedContentInfo['content'].parsed`` yields an :class:`LDSSecurityObject`,
:class:`SecurityInfos` or :class:`CscaMasterList`; and the document-PKI certificate extensions
and extended key usages of 9303-12 §7.1.1; the PINFL attribute of Uzbek names. Importing
:mod:`idcard.asn1` runs it; it is idempotent.
"""

from __future__ import annotations

from asn1crypto import cms, core, x509
from asn1crypto import pdf as _asn1_pdf  # noqa: F401 - adds its names to cms and x509 maps
from asn1crypto import tsp as _asn1_tsp  # noqa: F401 - adds tst_info, signing_certificate_v2

from idcard.asn1 import oids
from idcard.asn1.document_pki import (
    ID_ICAO_CSCA_MASTER_LIST,
    ID_ICAO_DEVIATION_LIST_SIGNING,
    ID_ICAO_DOCUMENT_TYPE_LIST,
    ID_ICAO_MASTER_LIST_SIGNING,
    ID_ICAO_NAME_CHANGE,
    CscaMasterList,
    DocumentTypeListSyntax,
)
from idcard.asn1.lds_security_object import LDSSecurityObject
from idcard.asn1.security_infos import SecurityInfos

__all__ = [
    "CSCA_MASTER_LIST",
    "LDS_SECURITY_OBJECT",
    "SECURITY_OBJECT",
    "register",
    "registered",
    "sync_reverse_maps",
]

LDS_SECURITY_OBJECT = "lds_security_object"
"""asn1crypto name of id-icao-mrtd-security-ldsSecurityObject (2.23.136.1.1.1)."""
SECURITY_OBJECT = "security_object"
"""asn1crypto name of id-SecurityObject (0.4.0.127.0.7.3.2.1)."""
CSCA_MASTER_LIST = "icao_csca_master_list"
"""asn1crypto name of id-icao-cscaMasterList (2.23.136.1.1.2)."""

_CONTENT_TYPES = {
    oids.ID_ICAO_LDS_SECURITY_OBJECT: LDS_SECURITY_OBJECT,
    oids.ID_SECURITY_OBJECT: SECURITY_OBJECT,
    ID_ICAO_CSCA_MASTER_LIST: CSCA_MASTER_LIST,
}
_CONTENT_SPECS: dict[str, type[core.Asn1Value]] = {
    LDS_SECURITY_OBJECT: LDSSecurityObject,
    SECURITY_OBJECT: SecurityInfos,
    CSCA_MASTER_LIST: CscaMasterList,
}
_EXTENSIONS = {
    ID_ICAO_NAME_CHANGE: "icao_name_change",
    ID_ICAO_DOCUMENT_TYPE_LIST: "icao_document_type_list",
}
_EXTENSION_SPECS: dict[str, type[core.Asn1Value]] = {
    "icao_name_change": core.Null,
    "icao_document_type_list": DocumentTypeListSyntax,
}
_NAME_TYPES = {oids.ID_UZ_PINFL: oids.NAMES[oids.ID_UZ_PINFL]}
"""Attribute types of names: asn1crypto shows the name (``PINFL: …``) instead of the OID; the
value keeps asn1crypto's Any (issuers differ in the string type)."""
_KEY_PURPOSES = {
    ID_ICAO_MASTER_LIST_SIGNING: "icao_master_list_signing",
    ID_ICAO_DEVIATION_LIST_SIGNING: "icao_deviation_list_signing",
}


def _extend(cls: type[core.ObjectIdentifier], entries: dict[str, str]) -> None:
    cls._map.update(entries)
    # asn1crypto builds the reverse map (name -> OID) on first use; keep it in step.
    if cls._reverse_map is not None:
        cls._reverse_map.update({name: oid for oid, name in entries.items()})


_NAMED: tuple[type[core.ObjectIdentifier], ...] = (
    cms.ContentType, cms.CMSAttributeType, x509.ExtensionId, x509.KeyPurposeId, x509.NameType,
)  # fmt: skip


def sync_reverse_maps() -> None:
    """Make every name in the ``_map`` of these OID classes usable by name.

    asn1crypto builds a class's name → OID map on first use; names added to ``_map`` after that
    (by asn1crypto.tsp and asn1crypto.pdf when imported, by pyHanko's CAdES attributes) would
    fail to construct by name in that process (``invalid literal for int()``). Which module is
    imported first then no longer matters (the command line imports pyHanko only when a command
    uses it). Idempotent.
    """
    for cls in _NAMED:
        if cls._reverse_map is not None:
            for oid, name in cls._map.items():
                cls._reverse_map.setdefault(name, oid)


def register() -> None:
    """Add the content types, extensions and key purposes and their specs to asn1crypto."""
    _extend(cms.ContentType, _CONTENT_TYPES)
    cms.EncapsulatedContentInfo._oid_specs.update(_CONTENT_SPECS)
    _extend(x509.ExtensionId, _EXTENSIONS)
    x509.Extension._oid_specs.update(_EXTENSION_SPECS)
    _extend(x509.KeyPurposeId, _KEY_PURPOSES)
    _extend(x509.NameType, _NAME_TYPES)
    sync_reverse_maps()


def registered() -> bool:
    """True when :func:`register` has taken effect (tested)."""
    return (
        all(cms.ContentType._map.get(oid) == name for oid, name in _CONTENT_TYPES.items())
        and all(
            cms.EncapsulatedContentInfo._oid_specs.get(n) is s for n, s in _CONTENT_SPECS.items()
        )
        and all(x509.ExtensionId._map.get(oid) == n for oid, n in _EXTENSIONS.items())
        and all(x509.Extension._oid_specs.get(n) is s for n, s in _EXTENSION_SPECS.items())
        and all(x509.KeyPurposeId._map.get(oid) == n for oid, n in _KEY_PURPOSES.items())
        and all(x509.NameType._map.get(oid) == n for oid, n in _NAME_TYPES.items())
    )


register()
