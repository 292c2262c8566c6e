"""Object identifiers of ICAO Doc 9303-11 §9.2 and BSI TR-03110-3 Appendix A, with names.

Names are the ASN.1 value names of the specifications (``id-PACE-ECDH-GM-AES-CBC-CMAC-128``).
:func:`name` turns a dotted OID into its name (or gives the dotted form back when unknown).
The standardized domain parameter identifiers of ICAO 9303-11 §9.5.1 (Table 6) /
TR-03110-3 A.2.1.1 are named in :data:`STANDARDIZED_DOMAIN_PARAMETERS`; the parameters
themselves belong to the PACE implementation.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "BSI_DE",
    "ID_AA",
    "ID_CA",
    "ID_CA_DH",
    "ID_CA_ECDH",
    "ID_CI",
    "ID_ICAO_LDS_SECURITY_OBJECT",
    "ID_PACE",
    "ID_PACE_DH_GM",
    "ID_PACE_DH_IM",
    "ID_PACE_ECDH_CAM",
    "ID_PACE_ECDH_GM",
    "ID_PACE_ECDH_IM",
    "ID_PK",
    "ID_PK_DH",
    "ID_PK_ECDH",
    "ID_PT",
    "ID_RI",
    "ID_SECURITY_OBJECT",
    "ID_TA",
    "ID_UZ_PINFL",
    "NAMES",
    "STANDARDIZED_DOMAIN_PARAMETERS",
    "STANDARDIZED_DOMAIN_PARAMETERS_OID",
    "CA_PROTOCOLS",
    "PACE_PROTOCOLS",
    "RI_PROTOCOLS",
    "ID_RI_DH",
    "ID_RI_ECDH",
    "domain_parameter_name",
    "name",
]

BSI_DE: Final = "0.4.0.127.0.7"
"""bsi-de: itu-t(0) identified-organization(4) etsi(0) reserved(127)
etsi-identified-organization(0) 7."""

STANDARDIZED_DOMAIN_PARAMETERS_OID: Final = f"{BSI_DE}.1.2"
"""standardizedDomainParameters (TR-03110-3 A.2.1.1): its AlgorithmIdentifier parameter is an id."""

ID_PK: Final = f"{BSI_DE}.2.2.1"
ID_PK_DH: Final = f"{ID_PK}.1"
ID_PK_ECDH: Final = f"{ID_PK}.2"
ID_TA: Final = f"{BSI_DE}.2.2.2"
ID_CA: Final = f"{BSI_DE}.2.2.3"
ID_CA_DH: Final = f"{ID_CA}.1"
ID_CA_ECDH: Final = f"{ID_CA}.2"
ID_PACE: Final = f"{BSI_DE}.2.2.4"
ID_PACE_DH_GM: Final = f"{ID_PACE}.1"
ID_PACE_ECDH_GM: Final = f"{ID_PACE}.2"
ID_PACE_DH_IM: Final = f"{ID_PACE}.3"
ID_PACE_ECDH_IM: Final = f"{ID_PACE}.4"
ID_PACE_ECDH_CAM: Final = f"{ID_PACE}.6"
ID_RI: Final = f"{BSI_DE}.2.2.5"
ID_RI_DH: Final = f"{ID_RI}.1"
ID_RI_ECDH: Final = f"{ID_RI}.2"
ID_CI: Final = f"{BSI_DE}.2.2.6"
"""CardInfoLocator (TR-03110-3 A.1.1.6)."""
ID_EID_SECURITY: Final = f"{BSI_DE}.2.2.7"
ID_PT: Final = f"{BSI_DE}.2.2.8"
"""PrivilegedTerminalInfo (TR-03110-3 A.1.1.7)."""
ID_SECURITY_OBJECT: Final = f"{BSI_DE}.3.2.1"
"""id-SecurityObject: eContentType of EF.CardSecurity (TR-03110-3 A.1.2.5)."""
ID_ICAO_MRTD_SECURITY: Final = "2.23.136.1.1"
ID_ICAO_LDS_SECURITY_OBJECT: Final = f"{ID_ICAO_MRTD_SECURITY}.1"
"""id-icao-mrtd-security-ldsSecurityObject: eContentType of EF.SOD (ICAO 9303-10 §4.6.2)."""
ID_AA: Final = f"{ID_ICAO_MRTD_SECURITY}.5"
"""id-icao-mrtd-security-aaProtocolObject: ActiveAuthenticationInfo (ICAO 9303-11 §9.2.6)."""
ID_UZ_PINFL: Final = "1.2.860.3.16.1.2"
"""The PINFL attribute of Uzbek subject names (the holder's personal identification number, a
UTF8String; as the e-imzo infrastructure puts it in its certificates)."""

_CIPHERS = ("3DES-CBC-CBC", "AES-CBC-CMAC-128", "AES-CBC-CMAC-192", "AES-CBC-CMAC-256")


def _build_names() -> dict[str, str]:
    names: dict[str, str] = {
        BSI_DE: "bsi-de",
        STANDARDIZED_DOMAIN_PARAMETERS_OID: "standardizedDomainParameters",
        ID_PK: "id-PK",
        ID_PK_DH: "id-PK-DH",
        ID_PK_ECDH: "id-PK-ECDH",
        ID_TA: "id-TA",
        f"{ID_TA}.1": "id-TA-RSA",
        f"{ID_TA}.2": "id-TA-ECDSA",
        ID_CA: "id-CA",
        ID_CA_DH: "id-CA-DH",
        ID_CA_ECDH: "id-CA-ECDH",
        ID_PACE: "id-PACE",
        ID_PACE_DH_GM: "id-PACE-DH-GM",
        ID_PACE_ECDH_GM: "id-PACE-ECDH-GM",
        ID_PACE_DH_IM: "id-PACE-DH-IM",
        ID_PACE_ECDH_IM: "id-PACE-ECDH-IM",
        ID_PACE_ECDH_CAM: "id-PACE-ECDH-CAM",
        ID_RI: "id-RI",
        ID_RI_DH: "id-RI-DH",
        ID_RI_ECDH: "id-RI-ECDH",
        ID_CI: "id-CI",
        ID_EID_SECURITY: "id-eIDSecurity",
        ID_PT: "id-PT",
        f"{BSI_DE}.3.2": "id-eID",
        ID_SECURITY_OBJECT: "id-SecurityObject",
        f"{BSI_DE}.1.1.4.1": "ecdsa-plain-signatures",
        ID_ICAO_MRTD_SECURITY: "id-icao-mrtd-security",
        ID_ICAO_LDS_SECURITY_OBJECT: "id-icao-mrtd-security-ldsSecurityObject",
        f"{ID_ICAO_MRTD_SECURITY}.2": "id-icao-mrtd-security-cscaMasterList",
        f"{ID_ICAO_MRTD_SECURITY}.3": "id-icao-mrtd-security-cscaMasterListSigningKey",
        ID_AA: "id-icao-mrtd-security-aaProtocolObject",
        ID_UZ_PINFL: "PINFL",
        "1.2.840.10045.2.1": "id-ecPublicKey",
        "1.2.840.10046.2.1": "dhpublicnumber",
        "1.2.840.113549.1.1.1": "rsaEncryption",
    }
    # Terminal Authentication signature algorithms (TR-03110-3 A.6.4).
    for i, suffix in enumerate(
        ("v1-5-SHA-1", "v1-5-SHA-256", "PSS-SHA-1", "PSS-SHA-256", "v1-5-SHA-512", "PSS-SHA-512"),
        start=1,
    ):
        names[f"{ID_TA}.1.{i}"] = f"id-TA-RSA-{suffix}"
    for i, suffix in enumerate(("SHA-1", "SHA-224", "SHA-256", "SHA-384", "SHA-512"), start=1):
        names[f"{ID_TA}.2.{i}"] = f"id-TA-ECDSA-{suffix}"
    # Chip Authentication and PACE: family OID + cipher arc 1..4 (9303-11 §9.2.3, §9.2.5).
    for family_oid, family in ((ID_CA_DH, "id-CA-DH"), (ID_CA_ECDH, "id-CA-ECDH")):
        for i, cipher in enumerate(_CIPHERS, start=1):
            names[f"{family_oid}.{i}"] = f"{family}-{cipher}"
    for family_oid, family in (
        (ID_PACE_DH_GM, "id-PACE-DH-GM"),
        (ID_PACE_ECDH_GM, "id-PACE-ECDH-GM"),
        (ID_PACE_DH_IM, "id-PACE-DH-IM"),
        (ID_PACE_ECDH_IM, "id-PACE-ECDH-IM"),
        (ID_PACE_ECDH_CAM, "id-PACE-ECDH-CAM"),
    ):
        for i, cipher in enumerate(_CIPHERS, start=1):
            if family_oid == ID_PACE_ECDH_CAM and i == 1:
                continue  # PACE-CAM has no 3DES variant (9303-11 §9.2.3)
            names[f"{family_oid}.{i}"] = f"{family}-{cipher}"
    # Restricted Identification (TR-03110-3 A.1.1.5).
    for family_oid, family in ((ID_RI_DH, "id-RI-DH"), (ID_RI_ECDH, "id-RI-ECDH")):
        for i, hash_name in enumerate(("SHA-1", "SHA-224", "SHA-256", "SHA-384", "SHA-512"), 1):
            names[f"{family_oid}.{i}"] = f"{family}-{hash_name}"
    # Plain ECDSA signatures (BSI TR-03111 §5.2.1).
    for i, hash_name in enumerate(
        ("SHA1", "SHA224", "SHA256", "SHA384", "SHA512", "RIPEMD160"), start=1
    ):
        names[f"{BSI_DE}.1.1.4.1.{i}"] = f"ecdsa-plain-{hash_name}"
    return names


NAMES: Final[dict[str, str]] = _build_names()
"""Dotted OID → specification name."""

def _variants(family: str) -> frozenset[str]:
    """The named OIDs two arcs below ``family``: a protocol family and its variant arc."""
    prefix, depth = family + ".", family.count(".") + 2
    return frozenset(oid for oid in NAMES if oid.startswith(prefix) and oid.count(".") == depth)


PACE_PROTOCOLS: Final = _variants(ID_PACE)
"""The PACEInfo protocol OIDs (family and cipher arc), e.g. id-PACE-ECDH-GM-AES-CBC-CMAC-128."""

CA_PROTOCOLS: Final = _variants(ID_CA)
"""The ChipAuthenticationInfo protocol OIDs, e.g. id-CA-ECDH-AES-CBC-CMAC-128."""

RI_PROTOCOLS: Final = _variants(ID_RI)
"""The RestrictedIdentificationInfo protocol OIDs, e.g. id-RI-ECDH-SHA-256."""

STANDARDIZED_DOMAIN_PARAMETERS: Final[dict[int, str]] = {
    0: "1024-bit MODP Group with 160-bit Prime Order Subgroup",
    1: "2048-bit MODP Group with 224-bit Prime Order Subgroup",
    2: "2048-bit MODP Group with 256-bit Prime Order Subgroup",
    8: "secp192r1",
    9: "brainpoolP192r1",
    10: "secp224r1",
    11: "brainpoolP224r1",
    12: "secp256r1",
    13: "brainpoolP256r1",
    14: "brainpoolP320r1",
    15: "secp384r1",
    16: "brainpoolP384r1",
    17: "brainpoolP512r1",
    18: "secp521r1",
}
"""Standardized domain parameter ids of ICAO 9303-11 §9.5.1 (RFC 5114 groups, NIST and
Brainpool curves); 3–7 and 19–31 are reserved."""


def name(oid: str) -> str:
    """The specification name of a dotted OID, or the dotted OID itself when unknown."""
    return NAMES.get(oid, oid)


def domain_parameter_name(parameter_id: int) -> str:
    """Name of a standardized domain parameter id (``13`` → ``brainpoolP256r1``)."""
    return STANDARDIZED_DOMAIN_PARAMETERS.get(parameter_id, f"reserved ({parameter_id})")
