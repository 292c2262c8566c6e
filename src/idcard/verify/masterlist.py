"""CSCA master lists (ICAO 9303-12 §8): parsing and signature verification, the one implementation.

A master list is a CMS SignedData whose eContent (type id-icao-cscaMasterList, 2.23.136.1.1.2)
is ``CscaMasterList ::= SEQUENCE { version, certList SET OF Certificate }``, signed by a master
list signer (extended key usage 2.23.136.1.1.3, 9303-12 §7.1.1) whose certificate is issued by a
CSCA. Its certificates are only used as trust anchors when its signature verifies and its signer
chains to a CSCA the verifier already trusts (:func:`verify_master_list`).
:func:`check_master_list` reports every check separately; ``pki.masterlist.parse_master_list``
is that check against the list's own CSCAs. Lives in ``idcard`` (which may not import ``pki``)
so that verification needs no PKI code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from asn1crypto import keys, x509

from idcard.asn1.document_pki import (
    ID_ICAO_CSCA_MASTER_LIST,
    ID_ICAO_MASTER_LIST_SIGNING,
    CscaMasterList,
)
from idcard.asn1.parse import load_strict
from idcard.crypto_ec import load_ec_public_key
from idcard.errors import DecodeError
from idcard.lds.sod import SignedParts, read_signed_parts
from idcard.text import count
from idcard.verify import _signature
from idcard.verify.report import CheckResult, Status

__all__ = [
    "CertificateEntry",
    "MasterList",
    "MasterListVerification",
    "check_master_list",
    "verify_master_list",
]

_NAME = "master_list"


@dataclass(frozen=True, slots=True)
class MasterList:
    """A decoded CSCA master list: its CSCA certificates and the signed envelope."""

    certificates: tuple[x509.Certificate, ...]
    signed: SignedParts
    raw: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def decode(cls, data: bytes) -> MasterList:
        """Decode the DER ContentInfo of a master list; malformed input raises DecodeError."""
        signed = read_signed_parts(bytes(data), "master list")
        if signed.e_content_type != ID_ICAO_CSCA_MASTER_LIST:
            raise DecodeError(f"not a CSCA master list (eContentType {signed.e_content_type})")
        ml = load_strict(CscaMasterList, signed.e_content, what="master list content")
        return cls(tuple(ml["cert_list"]), signed, bytes(data))

    @property
    def signer_certificate(self) -> x509.Certificate | None:
        return self.signed.signer_certificate

    def entries(self) -> tuple[CertificateEntry, ...]:
        """What each certificate of the list is: country, subject, validity, key algorithm."""
        return tuple(CertificateEntry.of(c) for c in self.certificates)


def key_algorithm(info: keys.PublicKeyInfo) -> str:
    """``rsa 2048``, ``rsa-pss 3072``, ``ecdsa brainpoolP256r1 (explicit)``…: a key's algorithm,
    size or curve, and whether its EC parameters are written out explicitly."""
    name = info["algorithm"]["algorithm"].native
    if name in ("rsa", "rsassa_pss"):
        return f"{'rsa' if name == 'rsa' else 'rsa-pss'} {info.bit_size}"
    if name != "ec":
        return str(name)
    explicit = info["algorithm"]["parameters"].name == "specified"
    try:
        curve = load_ec_public_key(bytes(info.dump())).curve_name
    except DecodeError as exc:
        curve = f"unusable: {exc.reason}"
    return f"ecdsa {curve}{' (explicit)' if explicit else ''}"


@dataclass(frozen=True, slots=True)
class CertificateEntry:
    """One certificate of a master list as the list command shows it."""

    country: str
    subject: str
    not_before: datetime
    not_after: datetime
    key_algorithm: str
    self_signed: bool
    certificate: x509.Certificate = field(repr=False, compare=False)

    @classmethod
    def of(cls, cert: x509.Certificate) -> CertificateEntry:
        validity = cert["tbs_certificate"]["validity"]
        country = cert.subject.native.get("country_name")
        return cls(
            country=country.upper() if isinstance(country, str) else "??",
            subject=cert.subject.human_friendly,
            not_before=validity["not_before"].native,
            not_after=validity["not_after"].native,
            key_algorithm=key_algorithm(cert.public_key),
            self_signed=cert.self_signed != "no",
            certificate=cert,
        )


@dataclass(frozen=True, slots=True)
class MasterListVerification:
    """What a master list contains and which checks passed (STYLE.md §6).

    ``intact``: the messageDigest attribute matches the content and the contentType attribute
    is id-icao-cscaMasterList. ``signature_valid``: the signer certificate's key verifies the
    signed attributes. ``signer_is_master_list_signer``: it carries EKU 2.23.136.1.1.3.
    ``signer_issued_by_listed_csca``: its signature verifies under one of the candidate issuers
    given to :func:`check_master_list`. ``valid`` combines them. ``unsupported`` names an
    algorithm that could not be checked (then the flags it governs are False).
    """

    csca_certificates: tuple[x509.Certificate, ...]
    signer_certificate: x509.Certificate | None
    signing_time: datetime | None
    intact: bool
    signature_valid: bool
    signer_is_master_list_signer: bool
    signer_issued_by_listed_csca: bool
    problems: tuple[str, ...] = field(default=())
    unsupported: str | None = None

    @property
    def valid(self) -> bool:
        return (
            self.intact
            and self.signature_valid
            and self.signer_is_master_list_signer
            and self.signer_issued_by_listed_csca
        )


def _is_master_list_signer(cert: x509.Certificate) -> bool:
    eku = cert.extended_key_usage_value
    return eku is not None and ID_ICAO_MASTER_LIST_SIGNING in [k.dotted for k in eku]


def _issuer_among(
    cert: x509.Certificate, candidates: Iterable[x509.Certificate]
) -> x509.Certificate | None:
    """The first of ``candidates`` (other than ``cert``) named as its issuer whose key verifies
    its signature."""
    der = cert.dump()
    issuer = cert.issuer
    for c in candidates:
        if c.dump() == der or (c.subject.dump() != issuer.dump() and c.subject != issuer):
            continue
        if _signature.signed_by(cert, c):
            return c
    return None


def check_master_list(
    ml: MasterList, issuers: Iterable[x509.Certificate]
) -> MasterListVerification:
    """Every check of a master list (9303-12 §8.2), the signer's issuer sought in ``issuers``."""
    parts = ml.signed
    problems: list[str] = []
    unsupported = None
    try:
        digest = hashlib.new(parts.digest_algorithm, parts.e_content).digest()
        intact = parts.message_digest == digest
    except ValueError:
        unsupported = f"digest algorithm {parts.digest_algorithm} unsupported"
        intact = False
    if not intact and unsupported is None:
        problems.append("messageDigest does not match the content")
    if parts.content_type_attr != ID_ICAO_CSCA_MASTER_LIST:
        intact = False
        problems.append("contentType attribute missing or not id-icao-cscaMasterList")
    signer = ml.signer_certificate
    signature_valid = is_mls = issued = False
    if signer is None:
        problems.append("the signer certificate is not in the master list")
    else:
        problem = _signature.signature_problem(parts)
        signature_valid = problem is None
        if problem is not None and problem.status is Status.NOT_CHECKED:
            unsupported = problem.reason
        elif problem is not None:
            problems.append("the signature does not verify")
        is_mls = _is_master_list_signer(signer)
        if not is_mls:
            problems.append("the signer lacks the master list signing EKU 2.23.136.1.1.3")
        issued = _issuer_among(signer, issuers) is not None
        if not issued:
            problems.append("the signer certificate is not issued by a listed CSCA")
    return MasterListVerification(
        csca_certificates=ml.certificates,
        signer_certificate=signer,
        signing_time=parts.signing_time,
        intact=intact,
        signature_valid=signature_valid,
        signer_is_master_list_signer=is_mls,
        signer_issued_by_listed_csca=issued,
        problems=tuple(problems),
        unsupported=unsupported,
    )


def verify_master_list(ml: MasterList, anchors: Iterable[x509.Certificate]) -> CheckResult:
    """Check a master list's CMS signature, that its signer is a master list signer (EKU
    2.23.136.1.1.3, 9303-12 §7.1.1) and that it is issued by one of ``anchors``.

    The result is named ``master_list``; PASS means its certificates may be trusted.
    """
    sig = _signature.check_signed_parts(ml.signed, _NAME, ID_ICAO_CSCA_MASTER_LIST)
    if sig.status is not Status.PASS:
        return CheckResult(_NAME, sig.status, f"master list signature: {sig.reason}")
    signer = ml.signer_certificate
    assert signer is not None  # check_signed_parts passed
    who = signer.subject.human_friendly
    if not _is_master_list_signer(signer):
        return CheckResult(
            _NAME, Status.FAIL, f"the master list signer {who} lacks the EKU 2.23.136.1.1.3"
        )
    anchor = _issuer_among(signer, anchors)
    if anchor is None:
        return CheckResult(
            _NAME, Status.FAIL, f"the master list signer {who} is not issued by a trusted CSCA"
        )
    return CheckResult(
        _NAME,
        Status.PASS,
        f"signed by {who}, issued by trusted CSCA {anchor.subject.human_friendly}; "
        f"{count(len(ml.certificates), 'certificate')}",
    )
