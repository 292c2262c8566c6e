"""Certificate authority operations of a CSCA: certificates, revocation, CRLs (ICAO 9303-12 §7).

Builders produce the TBS bytes (asn1crypto ``TbsCertificate`` / ``TbsCertList``); any
:class:`~pki.keys.Signer` (file key store, PKCS#11 token) returns the signature (STYLE.md §5).
The authority's state — next serial number, next CRL number, issued and revoked certificates — is
a small JSON file written atomically next to the CSCA certificate.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from asn1crypto import crl, keys, x509
from cryptography.hazmat.primitives import serialization

from pki.errors import IssuanceError, PKIError
from pki.filestore import write_atomic
from pki.keys import PublicKey, SignatureAlgorithm, Signer, verify_signature
from pki.profiles import (
    Profile,
    Validity,
    csca_extensions,
    deviation_list_signer_extensions,
    document_signer_extensions,
    key_identifier,
    make_name,
    master_list_signer_extensions,
)

__all__ = [
    "REVOCATION_REASONS",
    "CAState",
    "CertificateAuthority",
    "IssuedRecord",
    "RevokedRecord",
    "build_crl",
    "build_tbs_certificate",
    "certificate_public_key",
    "checked_signature",
    "pem_certificate",
    "pem_crl",
    "public_key_info",
    "sign_certificate",
    "sign_crl",
    "to_time",
]

_YEAR = dt.timedelta(days=365)
REVOCATION_REASONS = (
    "unspecified",
    "key_compromise",
    "ca_compromise",
    "affiliation_changed",
    "superseded",
    "cessation_of_operation",
)
"""The CRL reason names a CSCA revokes with (RFC 5280 §5.3.1)."""


def to_time(value: dt.datetime) -> x509.Time:
    """UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)."""
    value = value.astimezone(dt.UTC).replace(microsecond=0)
    if 1950 <= value.year < 2050:
        return x509.Time({"utc_time": value})
    return x509.Time({"general_time": value})


def public_key_info(public_key: PublicKey) -> keys.PublicKeyInfo:
    """The SubjectPublicKeyInfo of a cryptography key (RFC 5280 §4.1.2.7)."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return keys.PublicKeyInfo.load(der)


def certificate_public_key(cert: x509.Certificate) -> PublicKey:
    """The subject public key of an asn1crypto certificate as a cryptography key."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    try:
        key = serialization.load_der_public_key(cert.public_key.dump())
    except (ValueError, UnsupportedAlgorithm):
        key = _explicit_ec_key(bytes(cert.public_key.dump()))
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise PKIError("subject public key is neither EC nor RSA")
    return key


def _explicit_ec_key(spki_der: bytes) -> PublicKey:
    """An EC key in explicit domain parameters of a curve ``cryptography`` implements (issue 17:
    brainpool keys as Germany writes them)."""
    from idcard.crypto_ec import load_ec_public_key
    from idcard.errors import DecodeError

    try:
        key = load_ec_public_key(spki_der).cryptography_key
    except DecodeError:
        key = None
    if key is None:
        raise PKIError("unsupported or malformed subject public key")
    return key


def build_tbs_certificate(
    *,
    serial: int,
    issuer: x509.Name,
    subject: x509.Name,
    public_key: PublicKey,
    validity: Validity,
    extensions: Sequence[dict[str, Any]],
    algorithm: SignatureAlgorithm,
) -> x509.TbsCertificate:
    """A v3 TBSCertificate (RFC 5280 §4.1); serial must be positive and at most 20 octets."""
    if not 0 < serial < 1 << 159:
        raise IssuanceError("serial number must be positive and fit 20 octets")
    return x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial,
            "signature": algorithm.signed_digest_algorithm(),
            "issuer": issuer,
            "validity": {
                "not_before": to_time(validity.not_before),
                "not_after": to_time(validity.not_after),
            },
            "subject": subject,
            "subject_public_key_info": public_key_info(public_key),
            "extensions": list(extensions),
        }
    )


def checked_signature(data: bytes, signer: Signer, algorithm: SignatureAlgorithm) -> bytes:
    """``signer``'s signature over ``data``, verified against its public key before use (a
    faulty token or a wrong key is caught here, not by relying parties)."""
    signature = signer.sign(data, algorithm)
    if not verify_signature(signer.public_key(), signature, data, algorithm):
        raise IssuanceError(f"signer {signer.label!r} produced a signature that does not verify")
    return signature


def sign_certificate(
    tbs: x509.TbsCertificate, signer: Signer, algorithm: SignatureAlgorithm
) -> x509.Certificate:
    """Sign ``tbs`` through ``signer``; the signature is checked against the signer's key."""
    return x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": algorithm.signed_digest_algorithm(),
            "signature_value": checked_signature(tbs.dump(), signer, algorithm),
        }
    )


def sign_crl(
    tbs: crl.TbsCertList, signer: Signer, algorithm: SignatureAlgorithm
) -> crl.CertificateList:
    """Sign ``tbs`` through ``signer``; the signature is checked against the signer's key."""
    return crl.CertificateList(
        {
            "tbs_cert_list": tbs,
            "signature_algorithm": algorithm.signed_digest_algorithm(),
            "signature": checked_signature(tbs.dump(), signer, algorithm),
        }
    )


def build_crl(
    *,
    issuer: x509.Name,
    authority_key_id: bytes,
    number: int,
    this_update: dt.datetime,
    next_update: dt.datetime,
    revoked: Iterable[tuple[int, dt.datetime, str | None]],
    signer: Signer,
    algorithm: SignatureAlgorithm,
) -> crl.CertificateList:
    """A signed v2 CRL (RFC 5280 §5, ICAO 9303-12 §7.1.4): nextUpdate, AKI and cRLNumber.

    ``revoked`` lists (serial, revocation date, reason) in CRL order; each entry carries its
    reasonCode, omitted for ``unspecified`` (RFC 5280 §5.3.1 prefers that to the value).
    """
    tbs: dict[str, Any] = {
        "version": "v2",
        "signature": algorithm.signed_digest_algorithm(),
        "issuer": issuer,
        "this_update": to_time(this_update),
        "next_update": to_time(next_update),
        "crl_extensions": [
            {
                "extn_id": "authority_key_identifier",
                "critical": False,
                "extn_value": {"key_identifier": authority_key_id},
            },
            {"extn_id": "crl_number", "critical": False, "extn_value": number},
        ],
    }
    entries = []
    for serial, revocation_date, reason in revoked:
        entry: dict[str, Any] = {
            "user_certificate": serial,
            "revocation_date": to_time(revocation_date),
        }
        if reason and reason != "unspecified":
            entry["crl_entry_extensions"] = [
                {"extn_id": "crl_reason", "critical": False, "extn_value": reason}
            ]
        entries.append(entry)
    if entries:
        tbs["revoked_certificates"] = entries
    return sign_crl(crl.TbsCertList(tbs), signer, algorithm)


def _pem(kind: str, der: bytes) -> bytes:
    from asn1crypto import pem

    return bytes(pem.armor(kind, der))


def pem_certificate(cert: x509.Certificate) -> bytes:
    return _pem("CERTIFICATE", cert.dump())


def pem_crl(cert_list: crl.CertificateList) -> bytes:
    return _pem("X509 CRL", cert_list.dump())


@dataclass(slots=True)
class IssuedRecord:
    serial: int
    profile: str
    subject: str
    not_after: str
    issuer_key_id: str


@dataclass(slots=True)
class RevokedRecord:
    serial: int
    revocation_date: str
    reason: str


@dataclass(slots=True)
class CAState:
    """Serial and CRL counters and the issued/revoked lists (JSON, written atomically)."""

    next_serial: int = 1
    next_crl_number: int = 1
    issued: list[IssuedRecord] = field(default_factory=list)
    revoked: list[RevokedRecord] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> CAState:
        try:
            obj = json.loads(path.read_text("utf-8"))
            return cls(
                next_serial=int(obj["next_serial"]),
                next_crl_number=int(obj["next_crl_number"]),
                issued=[IssuedRecord(**r) for r in obj["issued"]],
                revoked=[RevokedRecord(**r) for r in obj["revoked"]],
            )
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PKIError(f"CA state {path} is unreadable: {exc}") from None

    def save(self, path: Path) -> None:
        text = json.dumps(asdict(self), indent=2) + "\n"
        write_atomic(path, text.encode("utf-8"))

    def take_serial(self) -> int:
        """The next serial number, counted here (persisted by :meth:`save`)."""
        serial = self.next_serial
        self.next_serial += 1
        return serial


class CertificateAuthority:
    """A CSCA: its certificate, its :class:`Signer` and its state file.

    ``now`` may be injected in every operation (tests, reproducible issuance).
    """

    def __init__(
        self,
        certificate: x509.Certificate,
        signer: Signer,
        state_path: str | os.PathLike[str],
        *,
        algorithm: SignatureAlgorithm | None = None,
        crl_urls: Sequence[str] = (),
    ) -> None:
        self.certificate = certificate
        self.signer = signer
        self.state_path = Path(state_path)
        self.algorithm = algorithm or signer.algorithm
        self.crl_urls = tuple(crl_urls)
        if certificate_public_key(certificate) != signer.public_key():
            raise IssuanceError("the signer's key is not the CA certificate's key")
        ski = certificate.key_identifier
        self.key_id: bytes = ski if ski is not None else key_identifier(signer.public_key())

    @property
    def subject(self) -> x509.Name:
        return self.certificate.subject

    def _record(
        self, state: CAState, cert: x509.Certificate, profile: Profile
    ) -> x509.Certificate:
        state.issued.append(
            IssuedRecord(
                serial=int(cert.serial_number),
                profile=profile.value,
                subject=cert.subject.human_friendly,
                not_after=cert["tbs_certificate"]["validity"]["not_after"].native.isoformat(),
                issuer_key_id=self.key_id.hex(),
            )
        )
        state.save(self.state_path)
        return cert

    # -- CSCA ------------------------------------------------------------------------------------

    @classmethod
    def create_csca(
        cls,
        signer: Signer,
        state_path: str | os.PathLike[str],
        *,
        country: str,
        common_name: str,
        organization: str | None = None,
        key_usage: dt.timedelta = 5 * _YEAR,
        validity: dt.timedelta = 15 * _YEAR,
        crl_urls: Sequence[str] = (),
        algorithm: SignatureAlgorithm | None = None,
        now: dt.datetime | None = None,
    ) -> CertificateAuthority:
        """A new self-signed CSCA certificate (9303-12 §7.1.1) and its authority."""
        alg = algorithm or signer.algorithm
        state = CAState.load(Path(state_path))
        name = make_name(country, common_name, organization)
        period = Validity.starting(
            now or dt.datetime.now(dt.UTC), key_usage=key_usage, validity=validity
        )
        ski = key_identifier(signer.public_key())
        tbs = build_tbs_certificate(
            serial=state.take_serial(),
            issuer=name,
            subject=name,
            public_key=signer.public_key(),
            validity=period,
            extensions=csca_extensions(subject_key_id=ski, validity=period, crl_urls=crl_urls),
            algorithm=alg,
        )
        cert = sign_certificate(tbs, signer, alg)
        ca = cls(cert, signer, state_path, algorithm=alg, crl_urls=crl_urls)
        ca._record(state, cert, Profile.CSCA)
        return ca

    def issue_link(
        self,
        new_signer: Signer,
        *,
        common_name: str | None = None,
        organization: str | None = None,
        key_usage: dt.timedelta = 5 * _YEAR,
        validity: dt.timedelta = 15 * _YEAR,
        now: dt.datetime | None = None,
    ) -> tuple[x509.Certificate, CertificateAuthority]:
        """Key rollover: a link certificate (old key signs the new key) and the new CSCA.

        The new self-signed CSCA shares this authority's state file (same issuer name, one serial
        counter). A changed subject name adds the nameChange extension to the link certificate.
        """
        country = self._country()
        cn = common_name or self._attr("common_name")
        org = organization if organization is not None else self._attr("organization_name")
        new_name = make_name(country, cn, org or None)
        name_change = new_name.dump() != self.subject.dump()
        period = Validity.starting(
            now or dt.datetime.now(dt.UTC), key_usage=key_usage, validity=validity
        )
        state = CAState.load(self.state_path)
        new_ski = key_identifier(new_signer.public_key())
        tbs = build_tbs_certificate(
            serial=state.take_serial(),
            issuer=self.subject,
            subject=new_name,
            public_key=new_signer.public_key(),
            validity=period,
            extensions=csca_extensions(
                subject_key_id=new_ski,
                authority_key_id=self.key_id,
                validity=period,
                crl_urls=self.crl_urls,
                name_change=name_change,
            ),
            algorithm=self.algorithm,
        )
        link = self._record(state, sign_certificate(tbs, self.signer, self.algorithm), Profile.LINK)
        new_ca = CertificateAuthority.create_csca(
            new_signer,
            self.state_path,
            country=country,
            common_name=cn,
            organization=org or None,
            key_usage=key_usage,
            validity=validity,
            crl_urls=self.crl_urls,
            now=period.not_before,
        )
        return link, new_ca

    def _attr(self, name: str) -> str:
        value = self.subject.native.get(name, "")
        return value if isinstance(value, str) else ""

    def _country(self) -> str:
        country = self._attr("country_name")
        if not country:
            raise IssuanceError("the CSCA subject has no country")
        return country

    # -- signers ---------------------------------------------------------------------------------

    def _issue_signer(
        self,
        profile: Profile,
        public_key: PublicKey,
        common_name: str,
        organization: str | None,
        key_usage: dt.timedelta,
        validity: dt.timedelta,
        now: dt.datetime | None,
        doc_types: Sequence[str] = (),
    ) -> x509.Certificate:
        period = Validity.starting(
            now or dt.datetime.now(dt.UTC), key_usage=key_usage, validity=validity
        )
        csca_end = self.certificate["tbs_certificate"]["validity"]["not_after"].native
        if period.not_after > csca_end:
            raise IssuanceError("the certificate would outlive its CSCA certificate")
        ski = key_identifier(public_key)
        org = organization if organization is not None else self._attr("organization_name")
        if profile is Profile.DOCUMENT_SIGNER:
            exts = document_signer_extensions(
                subject_key_id=ski,
                authority_key_id=self.key_id,
                validity=period,
                doc_types=doc_types,
                crl_urls=self.crl_urls,
            )
        elif profile is Profile.MASTER_LIST_SIGNER:
            exts = master_list_signer_extensions(
                subject_key_id=ski, authority_key_id=self.key_id, validity=period,
                crl_urls=self.crl_urls,
            )
        else:
            exts = deviation_list_signer_extensions(
                subject_key_id=ski, authority_key_id=self.key_id, validity=period,
                crl_urls=self.crl_urls,
            )
        state = CAState.load(self.state_path)
        tbs = build_tbs_certificate(
            serial=state.take_serial(),
            issuer=self.subject,
            subject=make_name(self._country(), common_name, org or None),
            public_key=public_key,
            validity=period,
            extensions=exts,
            algorithm=self.algorithm,
        )
        return self._record(state, sign_certificate(tbs, self.signer, self.algorithm), profile)

    def issue_document_signer(
        self,
        public_key: PublicKey,
        *,
        common_name: str,
        organization: str | None = None,
        doc_types: Sequence[str] = ("ID",),
        key_usage: dt.timedelta = dt.timedelta(days=90),
        validity: dt.timedelta = 10 * _YEAR + dt.timedelta(days=90),
        now: dt.datetime | None = None,
    ) -> x509.Certificate:
        """A Document Signer certificate: key used ~3 months, valid as long as its documents."""
        return self._issue_signer(
            Profile.DOCUMENT_SIGNER, public_key, common_name, organization, key_usage, validity,
            now, doc_types,
        )

    def issue_master_list_signer(
        self,
        public_key: PublicKey,
        *,
        common_name: str,
        organization: str | None = None,
        key_usage: dt.timedelta = _YEAR,
        validity: dt.timedelta = 2 * _YEAR,
        now: dt.datetime | None = None,
    ) -> x509.Certificate:
        return self._issue_signer(
            Profile.MASTER_LIST_SIGNER, public_key, common_name, organization, key_usage,
            validity, now,
        )

    def issue_deviation_list_signer(
        self,
        public_key: PublicKey,
        *,
        common_name: str,
        organization: str | None = None,
        key_usage: dt.timedelta = _YEAR,
        validity: dt.timedelta = 2 * _YEAR,
        now: dt.datetime | None = None,
    ) -> x509.Certificate:
        return self._issue_signer(
            Profile.DEVIATION_LIST_SIGNER, public_key, common_name, organization, key_usage,
            validity, now,
        )

    # -- revocation ------------------------------------------------------------------------------

    def revoke(
        self, serial: int, *, reason: str = "unspecified", when: dt.datetime | None = None
    ) -> RevokedRecord:
        """Mark a certificate this authority issued as revoked (appears on the next CRL)."""
        if reason not in REVOCATION_REASONS:
            raise IssuanceError(
                f"unknown revocation reason {reason!r}; one of {REVOCATION_REASONS}"
            )
        state = CAState.load(self.state_path)
        if not any(r.serial == serial for r in state.issued):
            raise IssuanceError(f"serial {serial} was not issued by this CA")
        if any(r.serial == serial for r in state.revoked):
            raise IssuanceError(f"serial {serial} is already revoked")
        moment = (when or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
        record = RevokedRecord(serial, moment.isoformat(), reason)
        state.revoked.append(record)
        state.save(self.state_path)
        return record

    def issue_crl(
        self, *, next_update: dt.timedelta = dt.timedelta(days=90), now: dt.datetime | None = None
    ) -> crl.CertificateList:
        """A v2 CRL per 9303-12 §7.1.4: nextUpdate, AKI and cRLNumber; reasonCode per entry."""
        moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
        state = CAState.load(self.state_path)
        cert_list = build_crl(
            issuer=self.subject,
            authority_key_id=self.key_id,
            number=state.next_crl_number,
            this_update=moment,
            next_update=moment + next_update,
            revoked=[
                (r.serial, dt.datetime.fromisoformat(r.revocation_date), r.reason)
                for r in sorted(state.revoked, key=lambda r: r.serial)
            ],
            signer=self.signer,
            algorithm=self.algorithm,
        )
        state.next_crl_number += 1
        state.save(self.state_path)
        return cert_list
