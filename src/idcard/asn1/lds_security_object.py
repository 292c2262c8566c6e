"""ASN.1 of the LDS Document Security Object (ICAO Doc 9303-10 §4.6.2.2–4.6.2.3).

``LDSSecurityObject`` is the eContent of EF.SOD's SignedData: version v0 (LDS 1.7) or v1 (with
``LDSVersionInfo``, LDS 1.8 and later), the hash algorithm, and one hash per data group.
"""

# asn1crypto specs are declared with class-level lists (_fields), as asn1crypto itself does.
# ruff: noqa: RUF012

from __future__ import annotations

from asn1crypto import algos, core

__all__ = [
    "DataGroupHash",
    "DataGroupHashValues",
    "DataGroupNumber",
    "LDSSecurityObject",
    "LDSSecurityObjectVersion",
    "LDSVersionInfo",
]


class LDSSecurityObjectVersion(core.Integer):
    """LDSSecurityObjectVersion ::= INTEGER {v0(0), v1(1)}."""

    _map = {0: "v0", 1: "v1"}


class DataGroupNumber(core.Integer):
    """DataGroupNumber ::= INTEGER {dataGroup1(1) .. dataGroup16(16)}."""


class DataGroupHash(core.Sequence):
    """DataGroupHash ::= SEQUENCE { dataGroupNumber, dataGroupHashValue OCTET STRING }."""

    _fields = [
        ("data_group_number", DataGroupNumber),
        ("data_group_hash_value", core.OctetString),
    ]


class DataGroupHashValues(core.SequenceOf):
    """SEQUENCE SIZE (2..ub-DataGroups) OF DataGroupHash."""

    _child_spec = DataGroupHash


class LDSVersionInfo(core.Sequence):
    """LDSVersionInfo ::= SEQUENCE { ldsVersion, unicodeVersion } (both PrintableString)."""

    _fields = [
        ("lds_version", core.PrintableString),
        ("unicode_version", core.PrintableString),
    ]


class LDSSecurityObject(core.Sequence):
    """LDSSecurityObject (9303-10 §4.6.2.3); ldsVersionInfo present only in v1."""

    _fields = [
        ("version", LDSSecurityObjectVersion),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashValues),
        ("lds_version_info", LDSVersionInfo, {"optional": True}),
    ]
