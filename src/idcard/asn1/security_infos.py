"""ASN.1 of SecurityInfos (ICAO Doc 9303-11 §9.2, BSI TR-03110-3 Appendix A.1).

EF.CardAccess, EF.CardSecurity and DG14 hold ``SecurityInfos ::= SET OF SecurityInfo``; a
SecurityInfo is ``SEQUENCE { protocol OBJECT IDENTIFIER, requiredData ANY DEFINED BY protocol,
optionalData ANY DEFINED BY protocol OPTIONAL }``. :class:`SecurityInfo` is that generic form;
the typed specs below are chosen by protocol OID in :mod:`idcard.lds.security_infos`.
"""

# asn1crypto specs are declared with class-level lists (_fields), as asn1crypto itself does.
# ruff: noqa: RUF012

from __future__ import annotations

from asn1crypto import core

__all__ = [
    "ActiveAuthenticationInfo",
    "AlgorithmIdentifier",
    "CardInfoLocator",
    "ChipAuthenticationDomainParameterInfo",
    "ChipAuthenticationInfo",
    "ChipAuthenticationPublicKeyInfo",
    "FileID",
    "PACEDomainParameterInfo",
    "PACEInfo",
    "PrivilegedTerminalInfo",
    "ProtocolParams",
    "RestrictedIdentificationDomainParameterInfo",
    "RestrictedIdentificationInfo",
    "SecurityInfo",
    "SecurityInfos",
    "SubjectPublicKeyInfo",
    "TerminalAuthenticationInfo",
]


class SecurityInfo(core.Sequence):
    """Generic SecurityInfo (9303-11 §9.2): protocol, requiredData, optionalData."""

    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("required_data", core.Any),
        ("optional_data", core.Any, {"optional": True}),
    ]


class SecurityInfos(core.SetOf):
    """SecurityInfos ::= SET OF SecurityInfo (9303-11 §9.2)."""

    _child_spec = SecurityInfo


class AlgorithmIdentifier(core.Sequence):
    """AlgorithmIdentifier with undecoded parameters (RFC 5280 §4.1.1.2)."""

    _fields = [
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class SubjectPublicKeyInfo(core.Sequence):
    """SubjectPublicKeyInfo kept generic: TR-03110 keys may name standardizedDomainParameters."""

    _fields = [
        ("algorithm", AlgorithmIdentifier),
        ("subject_public_key", core.OctetBitString),
    ]


class FileID(core.Sequence):
    """FileID ::= SEQUENCE { fid OCTET STRING (SIZE(2)), sfid OCTET STRING (SIZE(1)) OPTIONAL }."""

    _fields = [
        ("fid", core.OctetString),
        ("sfid", core.OctetString, {"optional": True}),
    ]


class PACEInfo(core.Sequence):
    """PACEInfo (9303-11 §9.2.1): protocol, version (2), parameterId OPTIONAL."""

    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("version", core.Integer),
        ("parameter_id", core.Integer, {"optional": True}),
    ]


class PACEDomainParameterInfo(core.Sequence):
    """PACEDomainParameterInfo (9303-11 §9.2.2): explicit domain parameters for PACE."""

    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("domain_parameter", AlgorithmIdentifier),
        ("parameter_id", core.Integer, {"optional": True}),
    ]


class ChipAuthenticationInfo(core.Sequence):
    """ChipAuthenticationInfo (9303-11 §9.2.3, TR-03110-3 A.1.1.2): protocol, version, keyId."""

    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("version", core.Integer),
        ("key_id", core.Integer, {"optional": True}),
    ]


class ChipAuthenticationDomainParameterInfo(core.Sequence):
    """ChipAuthenticationDomainParameterInfo (TR-03110-3 A.1.1.2)."""

    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("domain_parameter", AlgorithmIdentifier),
        ("key_id", core.Integer, {"optional": True}),
    ]


class ChipAuthenticationPublicKeyInfo(core.Sequence):
    """ChipAuthenticationPublicKeyInfo (9303-11 §9.2.4): protocol id-PK-DH/ECDH, key, keyId."""

    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("chip_authentication_public_key", SubjectPublicKeyInfo),
        ("key_id", core.Integer, {"optional": True}),
    ]


class TerminalAuthenticationInfo(core.Sequence):
    """TerminalAuthenticationInfo (9303-11 §9.2.5, TR-03110-3 A.1.1.3): version, efCVCA."""

    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("version", core.Integer),
        ("ef_cvca", FileID, {"optional": True}),
    ]


class ActiveAuthenticationInfo(core.Sequence):
    """ActiveAuthenticationInfo (9303-11 §9.2.6): version, signatureAlgorithm OID."""

    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("version", core.Integer),
        ("signature_algorithm", core.ObjectIdentifier),
    ]


class CardInfoLocator(core.Sequence):
    """CardInfoLocator (TR-03110-3 A.1.1.6): url IA5String, efCardInfo FileID OPTIONAL."""

    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("url", core.IA5String),
        ("ef_card_info", FileID, {"optional": True}),
    ]


class PrivilegedTerminalInfo(core.Sequence):
    """PrivilegedTerminalInfo (TR-03110-3 A.1.1.7): SecurityInfos for privileged terminals."""

    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("privileged_terminal_infos", SecurityInfos),
    ]


class ProtocolParams(core.Sequence):
    """ProtocolParams (TR-03110-3 A.1.1.5): version, keyId, authorizedOnly."""

    _fields = [
        ("version", core.Integer),
        ("key_id", core.Integer),
        ("authorized_only", core.Boolean),
    ]


class RestrictedIdentificationInfo(core.Sequence):
    """RestrictedIdentificationInfo (TR-03110-3 A.1.1.5): params and maxKeyLen OPTIONAL."""

    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("params", ProtocolParams),
        ("max_key_len", core.Integer, {"optional": True}),
    ]


class RestrictedIdentificationDomainParameterInfo(core.Sequence):
    """RestrictedIdentificationDomainParameterInfo (TR-03110-3 A.1.1.5)."""

    _fields = [
        ("protocol", core.ObjectIdentifier),
        ("domain_parameter", AlgorithmIdentifier),
    ]
