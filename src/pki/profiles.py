"""Certificate and CRL profiles of the document PKI (ICAO Doc 9303-12 §7.1).

Each profile is a function that returns the X.509 v3 extensions (asn1crypto) of one certificate
type, so the rules live in one readable place:

============================  ==============================================================
CSCA (self-signed)             keyUsage keyCertSign+cRLSign (critical); basicConstraints CA,
                               pathLen 0 (critical); privateKeyUsagePeriod; SKI; CRL DP
CSCA link (old key signs new)  as CSCA, plus AKI of the old key; nameChange (2.23.136.1.1.6.1)
                               when the subject name changes (9303-12 §7.1.1.2)
Document Signer                keyUsage digitalSignature (critical); privateKeyUsagePeriod;
                               AKI; SKI; CRL DP; documentTypeList (2.23.136.1.1.6.2) §7.1.1.3
Master List Signer             keyUsage digitalSignature (critical); extKeyUsage
                               2.23.136.1.1.3 (critical); AKI; SKI; CRL DP
Deviation List Signer          as Master List Signer with extKeyUsage 2.23.136.1.1.10
Point CA (self-signed)         keyUsage keyCertSign+cRLSign (critical); basicConstraints CA,
                               pathLen 0 (critical); SKI — the TLS PKI between the collection
                               points and the Center, apart from the CSCA (RFC 5280)
Point client                   keyUsage digitalSignature (critical); extKeyUsage clientAuth;
                               AKI; SKI; subject CN = the point's code
Center server                  keyUsage digitalSignature (critical); extKeyUsage serverAuth;
                               AKI; SKI; subjectAltName dNSName/iPAddress (RFC 6125)
============================  ==============================================================

The CRL profile (9303-12 §7.1.4): v2, nextUpdate present, extensions AKI and cRLNumber only.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from asn1crypto import core, x509
from cryptography import x509 as cx509

from pki.asn1 import (
    ID_ICAO_DEVIATION_LIST_SIGNING,
    ID_ICAO_MASTER_LIST_SIGNING,
    DocumentTypeListSyntax,
)
from pki.errors import IssuanceError
from pki.keys import PublicKey

__all__ = [
    "Profile",
    "Validity",
    "authority_key_identifier",
    "center_server_extensions",
    "crl_distribution_points",
    "csca_extensions",
    "deviation_list_signer_extensions",
    "document_signer_extensions",
    "document_type_list",
    "extension",
    "key_identifier",
    "make_name",
    "master_list_signer_extensions",
    "point_ca_extensions",
    "point_client_extensions",
    "uri",
]


class Profile(Enum):
    """The certificate types of 9303-12 §7.1."""

    CSCA = "csca"
    LINK = "link"
    DOCUMENT_SIGNER = "ds"
    MASTER_LIST_SIGNER = "mls"
    DEVIATION_LIST_SIGNER = "dls"
    POINT_CA = "point-ca"
    POINT_CLIENT = "point-client"
    CENTER_SERVER = "center-server"


@dataclass(frozen=True, slots=True)
class Validity:
    """Certificate validity and the private key usage period (9303-12 §7.1.1, Table 5 notes).

    The key usage period is shorter: a DS key signs for a few months, its certificate stays valid
    as long as the documents it signed (e.g. 10 years) plus that period.
    """

    not_before: dt.datetime
    not_after: dt.datetime
    key_usage_not_after: dt.datetime

    def __post_init__(self) -> None:
        for value in (self.not_before, self.not_after, self.key_usage_not_after):
            if value.tzinfo is None:
                raise IssuanceError("validity times must be timezone-aware (UTC)")
        if not self.not_before < self.key_usage_not_after <= self.not_after:
            raise IssuanceError("need not_before < key usage end <= not_after")

    @classmethod
    def starting(
        cls, now: dt.datetime, *, key_usage: dt.timedelta, validity: dt.timedelta
    ) -> Validity:
        start = now.astimezone(dt.UTC).replace(microsecond=0)
        return cls(start, start + validity, start + key_usage)


_COUNTRY = re.compile(r"[A-Z]{2}")


def make_name(
    country: str, common_name: str, organization: str | None = None, unit: str | None = None
) -> x509.Name:
    """A subject/issuer name with ``C`` first (PrintableString), 9303-12 §7.1.1 (Table 6 notes).

    ``country`` is the ISO 3166-1 alpha-2 code in upper case (``UZ``).
    """
    if not _COUNTRY.fullmatch(country):
        raise IssuanceError(f"country must be two upper-case letters, got {country!r}")
    if not common_name:
        raise IssuanceError("a common name is required")
    attrs: dict[str, str] = {"country_name": country}
    if organization:
        attrs["organization_name"] = organization
    if unit:
        attrs["organizational_unit_name"] = unit
    attrs["common_name"] = common_name
    return x509.Name.build(attrs, use_printable=True)


def key_identifier(public_key: PublicKey) -> bytes:
    """Key identifier: SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2, method 1)."""
    return cx509.SubjectKeyIdentifier.from_public_key(public_key).digest


def document_type_list(doc_types: Sequence[str]) -> DocumentTypeListSyntax:
    """The documentTypeList value (version 0, SET OF PrintableString of 1–2 characters)."""
    if not doc_types:
        raise IssuanceError("a document type list needs at least one type (e.g. 'ID', 'P')")
    for t in doc_types:
        if not re.fullmatch(r"[A-Z0-9<]{1,2}", t):
            raise IssuanceError(f"document type must be 1-2 characters of the MRZ, got {t!r}")
    return DocumentTypeListSyntax({"version": 0, "doc_type_list": sorted(set(doc_types))})


def extension(name: str, value: Any, critical: bool = False) -> dict[str, Any]:
    """One asn1crypto ``Extension`` value (RFC 5280 §4.1.2.9)."""
    return {"extn_id": name, "critical": critical, "extn_value": value}


def _pkup(validity: Validity) -> dict[str, Any]:
    return extension(
        "private_key_usage_period",
        {"not_before": validity.not_before, "not_after": validity.key_usage_not_after},
    )


def uri(url: str) -> x509.GeneralName:
    """A uniformResourceIdentifier GeneralName (RFC 5280 §4.2.1.6)."""
    return x509.GeneralName(name="uniform_resource_identifier", value=url)


def crl_distribution_points(urls: Sequence[str]) -> list[dict[str, Any]]:
    """The cRLDistributionPoints extension, one full-name URI per point; none without URLs."""
    if not urls:
        return []
    return [
        extension(
            "crl_distribution_points",
            [
                {"distribution_point": {"full_name": [uri(u)]}}
                for u in urls
            ],
        )
    ]


def authority_key_identifier(authority_key_id: bytes) -> dict[str, Any]:
    """The authorityKeyIdentifier extension with its keyIdentifier (RFC 5280 §4.2.1.1)."""
    return extension("authority_key_identifier", {"key_identifier": authority_key_id})


def csca_extensions(
    *,
    subject_key_id: bytes,
    validity: Validity,
    authority_key_id: bytes | None = None,
    crl_urls: Sequence[str] = (),
    name_change: bool = False,
) -> list[dict[str, Any]]:
    """Extensions of a CSCA certificate; a link certificate passes the old key's AKI.

    ``name_change`` adds the nameChange extension (NULL value) of 9303-12 §7.1.1.2.
    """
    exts = [
        extension("key_usage", {"key_cert_sign", "crl_sign"}, critical=True),
        extension("basic_constraints", {"ca": True, "path_len_constraint": 0}, critical=True),
        _pkup(validity),
        extension("key_identifier", subject_key_id),
    ]
    if authority_key_id is not None:
        exts.append(authority_key_identifier(authority_key_id))
    exts += crl_distribution_points(crl_urls)
    if name_change:
        exts.append(extension("icao_name_change", core.Null()))
    return exts


def document_signer_extensions(
    *,
    subject_key_id: bytes,
    authority_key_id: bytes,
    validity: Validity,
    doc_types: Sequence[str] = ("ID",),
    crl_urls: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Extensions of a Document Signer certificate (9303-12 §7.1.1, Table 6)."""
    return [
        extension("key_usage", {"digital_signature"}, critical=True),
        _pkup(validity),
        authority_key_identifier(authority_key_id),
        extension("key_identifier", subject_key_id),
        *crl_distribution_points(crl_urls),
        extension("icao_document_type_list", document_type_list(doc_types)),
    ]


def _list_signer(
    eku: str, ski: bytes, aki: bytes, validity: Validity, urls: Sequence[str]
) -> list[dict[str, Any]]:
    return [
        extension("key_usage", {"digital_signature"}, critical=True),
        extension("extended_key_usage", [eku], critical=True),
        _pkup(validity),
        authority_key_identifier(aki),
        extension("key_identifier", ski),
        *crl_distribution_points(urls),
    ]


def master_list_signer_extensions(
    *,
    subject_key_id: bytes,
    authority_key_id: bytes,
    validity: Validity,
    crl_urls: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Extensions of a Master List Signer certificate (9303-12 §7.1.1, EKU 2.23.136.1.1.3)."""
    return _list_signer(
        ID_ICAO_MASTER_LIST_SIGNING, subject_key_id, authority_key_id, validity, crl_urls
    )


def deviation_list_signer_extensions(
    *,
    subject_key_id: bytes,
    authority_key_id: bytes,
    validity: Validity,
    crl_urls: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Extensions of a Deviation List Signer certificate (9303-12 §7.1.1, EKU 2.23.136.1.1.10)."""
    return _list_signer(
        ID_ICAO_DEVIATION_LIST_SIGNING, subject_key_id, authority_key_id, validity, crl_urls
    )


# -- the TLS PKI of the points and the Center (RFC 5280 §4.2) ----------------------------------


def point_ca_extensions(*, subject_key_id: bytes) -> list[dict[str, Any]]:
    """Extensions of the self-signed point CA: it certifies points and the Center, nothing else."""
    return [
        extension("key_usage", {"key_cert_sign", "crl_sign"}, critical=True),
        extension("basic_constraints", {"ca": True, "path_len_constraint": 0}, critical=True),
        extension("key_identifier", subject_key_id),
    ]


def point_client_extensions(
    *, subject_key_id: bytes, authority_key_id: bytes
) -> list[dict[str, Any]]:
    """Extensions of a point's TLS client certificate (EKU id-kp-clientAuth only)."""
    return [
        extension("key_usage", {"digital_signature"}, critical=True),
        extension("extended_key_usage", ["client_auth"]),
        authority_key_identifier(authority_key_id),
        extension("key_identifier", subject_key_id),
    ]


def _host_name(host: str) -> x509.GeneralName:
    try:
        return x509.GeneralName(name="ip_address", value=str(ipaddress.ip_address(host)))
    except ValueError:
        pass
    if not re.fullmatch(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*"
                        r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", host):  # fmt: skip
        raise IssuanceError(f"{host!r} is neither an IP address nor a lower-case DNS name")
    return x509.GeneralName(name="dns_name", value=host)


def center_server_extensions(
    *, subject_key_id: bytes, authority_key_id: bytes, hosts: Sequence[str]
) -> list[dict[str, Any]]:
    """Extensions of the Center's TLS server certificate: the names clients connect to
    (``hosts``: DNS names or IP addresses) in subjectAltName (EKU id-kp-serverAuth only)."""
    if not hosts:
        raise IssuanceError("a server certificate needs at least one host name or address")
    return [
        extension("key_usage", {"digital_signature"}, critical=True),
        extension("extended_key_usage", ["server_auth"]),
        authority_key_identifier(authority_key_id),
        extension("key_identifier", subject_key_id),
        extension("subject_alt_name", [_host_name(h) for h in dict.fromkeys(hosts)]),
    ]
