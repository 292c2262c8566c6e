"""The one place where asn1crypto's private maps are extended (STYLE.md §2).

Registers the eContent types of EF.SOD (``id-icao-mrtd-security-ldsSecurityObject``,
ICAO 9303-10 §4.6.2) and EF.CardSecurity (``id-SecurityObject``, BSI TR-03110-3 A.1.2.5), so
that ``EncapsulatedContentInfo['content'].parsed`` yields an :class:`LDSSecurityObject` or
:class:`SecurityInfos`. Importing :mod:`idcard.asn1` runs it; it is idempotent.
"""

from __future__ import annotations

from asn1crypto import cms

from idcard.asn1 import oids
from idcard.asn1.lds_security_object import LDSSecurityObject
from idcard.asn1.security_infos import SecurityInfos

__all__ = ["LDS_SECURITY_OBJECT", "SECURITY_OBJECT", "register"]

LDS_SECURITY_OBJECT = "lds_security_object"
"""asn1crypto name of id-icao-mrtd-security-ldsSecurityObject (2.23.136.1.1.1)."""
SECURITY_OBJECT = "security_object"
"""asn1crypto name of id-SecurityObject (0.4.0.127.0.7.3.2.1)."""


def register() -> None:
    """Add the two content types and their eContent specs to asn1crypto's CMS maps."""
    cms.ContentType._map[oids.ID_ICAO_LDS_SECURITY_OBJECT] = LDS_SECURITY_OBJECT
    cms.ContentType._map[oids.ID_SECURITY_OBJECT] = SECURITY_OBJECT
    # asn1crypto builds the reverse map (name -> OID) on first use; keep it in step.
    if cms.ContentType._reverse_map is not None:
        cms.ContentType._reverse_map[LDS_SECURITY_OBJECT] = oids.ID_ICAO_LDS_SECURITY_OBJECT
        cms.ContentType._reverse_map[SECURITY_OBJECT] = oids.ID_SECURITY_OBJECT
    cms.EncapsulatedContentInfo._oid_specs[LDS_SECURITY_OBJECT] = LDSSecurityObject
    cms.EncapsulatedContentInfo._oid_specs[SECURITY_OBJECT] = SecurityInfos


register()
