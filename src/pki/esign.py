"""The e-signature CA: natural-person signing certificates written to the ID card at first issue.

Since 1 February 2026 every natural person gets a free e-signature certificate on the chip of the
ID card at its first issue (decree of 19 January 2026; ``/work/shared/domain.md``). This module is
the certificate authority that issues it, from a PKCS#10 request signed by the holder's key
(:mod:`pki.enroll` builds the request), through any :class:`~pki.keys.Signer` (PKCS#11 token in
production and tests, file key in development).

Certificate profile of the holder (ETSI EN 319 412-2 §4 "natural person", RFC 5280):

* subject ``C=UZ``, ``surname``, ``givenName``, ``commonName`` (given name + surname),
  ``serialNumber`` = ``PNOUZ-<PINFL>`` (the natural-person semantics of ETSI EN 319 412-1 §5.1.3:
  "PNO" national personal number, country ``UZ``), and the PINFL again under
  ``1.2.860.3.16.1.2`` as a UTF8String — the attribute the Uzbek e-imzo infrastructure puts in
  its subject DNs (``CN=…,UID=…,1.2.860.3.16.1.2=<PINFL>``);
* qcStatements with ``id-qcs-pkixQCSyntax-v2`` carrying the semantics identifier
  ``id-etsi-qcs-semanticsId-Natural`` 0.4.0.194121.1.1 (ETSI EN 319 412-1 §5.1.3) — no
  QcCompliance statement: this is not an EU qualified certificate;
* keyUsage digitalSignature + nonRepudiation (critical), certificatePolicies
  (:data:`ID_IDKARTA_ESIGN_POLICY`, a placeholder, see below), CRL distribution point, AIA with
  OCSP and caIssuers, AKI, SKI;
* validity configurable, default 2 years, never past the card's expiry nor the CA's.

Revocation causes: a lost card revokes with ``keyCompromise``, a replaced card with
``superseded`` (RFC 5280 §5.3.1).

The register (one SQLite file, :mod:`pki.esign_register`, its classes re-exported here) holds
the CA certificate and every certificate issued, with its revocation state and the CRL counter.
Issuance is one transaction: the serial is drawn, the TBS
certificate signed, and the certificate recorded only when the signature succeeded and verified;
a signer that fails (an HSM session lost mid-issuance) leaves nothing behind. Callers may write
their own rows (an outbox event) in the same transaction through ``on_record``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from asn1crypto import core, crl, csr, x509
from cryptography.hazmat.primitives import serialization

from idcard.errors import PINFLError
from idcard.pinfl import PINFL
from pki.ca import (
    build_crl,
    build_tbs_certificate,
    certificate_public_key,
    sign_certificate,
)
from pki.errors import IssuanceError, PKIError
from pki.esign_register import (
    CertificateStatus,
    EsignRegister,
    IssuedCertificate,
    OnRecord,
    new_serial,
    spki_sha256,
    utc_second,
)
from pki.keys import PublicKey, SignatureAlgorithm, Signer, verify_signature
from pki.profiles import (
    Validity,
    authority_key_identifier,
    crl_distribution_points,
    extension,
    key_identifier,
    uri,
)

__all__ = [
    "ID_ETSI_QCS_SEMANTICS_ID_NATURAL",
    "ID_IDKARTA_ESIGN_POLICY",
    "ID_QCS_PKIX_QC_SYNTAX_V2",
    "ID_UZ_PINFL",
    "CertificateStatus",
    "EnrollmentRefused",
    "EsignCA",
    "EsignRegister",
    "HolderRecord",
    "IssuedCertificate",
    "QCStatements",
    "RevocationCause",
    "ServiceURLs",
    "OnRecord",
    "DEFAULT_VALIDITY",
    "natural_person_extensions",
    "natural_person_name",
    "verify_request",
]

ID_UZ_PINFL = "1.2.860.3.16.1.2"
"""PINFL subject attribute of the Uzbek e-signature infrastructure (e-imzo DNs)."""
ID_ETSI_QCS_SEMANTICS_ID_NATURAL = "0.4.0.194121.1.1"
"""ETSI EN 319 412-1 §5.1.3 id-etsi-qcs-semanticsId-Natural."""
ID_QCS_PKIX_QC_SYNTAX_V2 = "1.3.6.1.5.5.7.11.2"
"""RFC 3739 §3.2.6 id-qcs-pkixQCSyntax-v2 (its statementInfo is SemanticsInformation)."""
ID_PE_QC_STATEMENTS = "1.3.6.1.5.5.7.1.3"
ID_IDKARTA_ESIGN_POLICY = "1.3.6.1.5.5.7.13.1"
"""PLACEHOLDER certificate policy: ``id-TEST-certPolicyOne`` of RFC 7229 §2, the arc the IETF
reserved for test certificate policies. Not a national OID: a deployment replaces it with the
policy OID its trust service publishes (docs/guide/esign.md)."""

DEFAULT_VALIDITY = dt.timedelta(days=730)
_CA_VALIDITY = dt.timedelta(days=3652)


# -- ASN.1 (RFC 3739 §3.2.6, ETSI EN 319 412-1 §5.1) -----------------------------------------------


class SemanticsInformation(core.Sequence):  # type: ignore[misc]
    """``SemanticsInformation ::= SEQUENCE { semanticsIdentifier OBJECT IDENTIFIER OPTIONAL,
    nameRegistrationAuthorities NameRegistrationAuthorities OPTIONAL }`` (RFC 3739 §3.2.6.1)."""

    _fields = [  # noqa: RUF012 - asn1crypto spec
        ("semantics_identifier", core.ObjectIdentifier, {"optional": True}),
        ("name_registration_authorities", x509.GeneralNames, {"optional": True}),
    ]


class QCStatement(core.Sequence):  # type: ignore[misc]
    """``QCStatement ::= SEQUENCE { statementId, statementInfo ANY DEFINED BY statementId
    OPTIONAL }`` (RFC 3739 §3.2.6)."""

    _fields = [  # noqa: RUF012 - asn1crypto spec
        ("statement_id", core.ObjectIdentifier),
        ("statement_info", core.Any, {"optional": True}),
    ]
    _oid_pair = ("statement_id", "statement_info")
    _oid_specs = {ID_QCS_PKIX_QC_SYNTAX_V2: SemanticsInformation}  # noqa: RUF012 - asn1crypto


class QCStatements(core.SequenceOf):  # type: ignore[misc]
    _child_spec = QCStatement


# -- errors, records ----------------------------------------------------------------------------


class EnrollmentRefused(IssuanceError):
    """The CA refuses a request: no proof of possession, or it does not match the issuance record
    (another person's PINFL or names, an expired card, a key already certified)."""


@dataclass(frozen=True, slots=True)
class HolderRecord:
    """What the issuance record (the personalization system) says about the card and its holder.

    ``surname`` / ``given_name`` are the Latin forms printed on the card; the CA compares the
    request against them exactly.
    """

    pinfl: str
    surname: str
    given_name: str
    card_number: str
    card_expiry: dt.date

    def __post_init__(self) -> None:
        try:
            PINFL.parse(self.pinfl)
        except PINFLError as exc:
            raise IssuanceError(f"issuance record: {exc}") from None
        if not self.surname or not self.given_name or not self.card_number:
            raise IssuanceError("issuance record: surname, given name and card number needed")

    @property
    def serial_number(self) -> str:
        """The subject serialNumber: ``PNOUZ-<PINFL>`` (ETSI EN 319 412-1 §5.1.3)."""
        return f"PNOUZ-{self.pinfl}"

    @property
    def common_name(self) -> str:
        return f"{self.given_name} {self.surname}"


@dataclass(frozen=True, slots=True)
class ServiceURLs:
    """Where relying parties find the CA's CRL, its OCSP responder and its certificate."""

    crl: str
    ocsp: str
    ca_issuers: str

    @classmethod
    def at(cls, base: str, name: str = "esign") -> ServiceURLs:
        """The URLs of :mod:`station.services` served at ``base`` (``http://host:port``)."""
        base = base.rstrip("/")
        return cls(f"{base}/crl/{name}.crl", f"{base}/ocsp", f"{base}/ca/{name}.crt")


class RevocationCause(Enum):
    """Why a holder certificate is revoked, and the RFC 5280 §5.3.1 reason each cause gives."""

    LOST_CARD = "key_compromise"
    REPLACED_CARD = "superseded"


_REASONS = ("key_compromise", "superseded", "cessation_of_operation", "unspecified")


# -- names and extensions -----------------------------------------------------------------------


def _atv(kind: str, value: Any) -> x509.RelativeDistinguishedName:
    return x509.RelativeDistinguishedName([x509.NameTypeAndValue({"type": kind, "value": value})])


def _utf8(text: str) -> x509.DirectoryString:
    return x509.DirectoryString(name="utf8_string", value=text)


def _printable(text: str) -> x509.DirectoryString:
    return x509.DirectoryString(name="printable_string", value=text)


def natural_person_name(record: HolderRecord) -> x509.Name:
    """The subject DN of the holder's certificate (ETSI EN 319 412-2 §4.2.4)."""
    rdns = [
        _atv("country_name", _printable("UZ")),
        _atv("surname", _utf8(record.surname)),
        _atv("given_name", _utf8(record.given_name)),
        _atv("serial_number", _printable(record.serial_number)),
        _atv("common_name", _utf8(record.common_name)),
        _atv(ID_UZ_PINFL, _utf8(record.pinfl)),
    ]
    return x509.Name(name="", value=x509.RDNSequence(rdns))


def _semantics_natural() -> bytes:
    statements = QCStatements(
        [
            {
                "statement_id": ID_QCS_PKIX_QC_SYNTAX_V2,
                "statement_info": SemanticsInformation(
                    {"semantics_identifier": ID_ETSI_QCS_SEMANTICS_ID_NATURAL}
                ),
            }
        ]
    )
    return bytes(statements.dump())


def natural_person_extensions(
    *, subject_key_id: bytes, authority_key_id: bytes, urls: ServiceURLs
) -> list[dict[str, Any]]:
    """Extensions of the holder's signing certificate (see the module docstring)."""
    return [
        authority_key_identifier(authority_key_id),
        extension("key_identifier", subject_key_id),
        extension("key_usage", {"digital_signature", "non_repudiation"}, critical=True),
        extension("certificate_policies", [{"policy_identifier": ID_IDKARTA_ESIGN_POLICY}]),
        *crl_distribution_points([urls.crl]),
        extension(
            "authority_information_access",
            [
                {"access_method": "ocsp", "access_location": uri(urls.ocsp)},
                {"access_method": "ca_issuers", "access_location": uri(urls.ca_issuers)},
            ],
        ),
        # raw DER: asn1crypto has no spec for qcStatements, pyHanko registers its own on import
        extension(ID_PE_QC_STATEMENTS, core.ParsableOctetString(_semantics_natural())),
    ]


def _ca_extensions(subject_key_id: bytes) -> list[dict[str, Any]]:
    return [
        extension("key_identifier", subject_key_id),
        extension("key_usage", {"key_cert_sign", "crl_sign", "digital_signature"}, critical=True),
        extension("basic_constraints", {"ca": True, "path_len_constraint": 0}, critical=True),
    ]


def _tsa_extensions(
    *, subject_key_id: bytes, authority_key_id: bytes, urls: ServiceURLs
) -> list[dict[str, Any]]:
    """RFC 3161 §2.3: extKeyUsage id-kp-timeStamping only, critical."""
    return [
        authority_key_identifier(authority_key_id),
        extension("key_identifier", subject_key_id),
        extension("key_usage", {"digital_signature"}, critical=True),
        extension("extended_key_usage", ["time_stamping"], critical=True),
        *crl_distribution_points([urls.crl]),
        extension(
            "authority_information_access",
            [{"access_method": "ca_issuers", "access_location": uri(urls.ca_issuers)}],
        ),
    ]


# -- requests -----------------------------------------------------------------------------------


def _request_public_key(request: csr.CertificationRequest) -> PublicKey:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    info = request["certification_request_info"]
    try:
        key = serialization.load_der_public_key(info["subject_pk_info"].dump())
    except ValueError:
        raise EnrollmentRefused("the request's public key is malformed or unsupported") from None
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise EnrollmentRefused("the request's public key is neither EC nor RSA")
    return key


def verify_request(der: bytes) -> tuple[csr.CertificationRequest, PublicKey]:
    """Parse a DER PKCS#10 request and check its proof of possession (RFC 2986 §4.2).

    Malformed bytes and a signature that does not verify raise :class:`EnrollmentRefused`.
    """
    try:
        request = csr.CertificationRequest.load(der)
        info = request["certification_request_info"]
        info.native  # noqa: B018 - force a full parse so malformed inner fields raise here
        data = info.dump()
        algorithm = SignatureAlgorithm.from_signed_digest_algorithm(
            request["signature_algorithm"]
        )
        signature = request["signature"].native
    except (ValueError, TypeError, KeyError, PKIError) as exc:
        raise EnrollmentRefused(f"not a usable PKCS#10 request: {exc}") from None
    public_key = _request_public_key(request)
    if not verify_signature(public_key, signature, data, algorithm):
        raise EnrollmentRefused("the request's signature does not verify (no proof of possession)")
    return request, public_key


def _name_values(name: x509.Name) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for rdn in name.chosen:
        for atv in rdn:
            value = atv["value"].native
            out.setdefault(atv["type"].dotted, []).append(str(value))
    return out


def check_request_subject(request: csr.CertificationRequest, record: HolderRecord) -> None:
    """Refuse a request whose subject names another person than the issuance record.

    The request must carry the record's PINFL (``serialNumber`` ``PNOUZ-<PINFL>``, and the PINFL
    attribute when present), surname and given name; anything else is refused.
    """
    values = _name_values(request["certification_request_info"]["subject"])
    expected = {
        "2.5.4.5": record.serial_number,
        "2.5.4.4": record.surname,
        "2.5.4.42": record.given_name,
    }
    for oid, want in expected.items():
        if values.get(oid) != [want]:
            raise EnrollmentRefused(
                "the request's subject does not match the issuance record "
                f"(attribute {oid})"
            )
    if values.get(ID_UZ_PINFL, [record.pinfl]) != [record.pinfl]:
        raise EnrollmentRefused("the request's PINFL does not match the issuance record")
    if values.get("2.5.4.6", ["UZ"]) != ["UZ"]:
        raise EnrollmentRefused("the request's country is not UZ")


# -- the authority ------------------------------------------------------------------------------


class EsignCA:
    """The e-signature CA: its certificate, its :class:`Signer`, its register and service URLs.

    ``now`` may be injected in every operation (tests, reproducible issuance).
    """

    def __init__(
        self,
        register: EsignRegister,
        signer: Signer,
        urls: ServiceURLs,
        *,
        algorithm: SignatureAlgorithm | None = None,
    ) -> None:
        der = register.meta("ca_certificate")
        if der is None:
            raise PKIError(f"{register.path} holds no e-signature CA (run `idkarta esign init`)")
        self.register = register
        self.certificate = x509.Certificate.load(der)
        self.signer = signer
        self.urls = urls
        self.algorithm = algorithm or signer.algorithm
        if certificate_public_key(self.certificate) != signer.public_key():
            raise IssuanceError("the signer's key is not the e-signature CA certificate's key")
        self.key_id = key_identifier(signer.public_key())

    @classmethod
    def create(
        cls,
        register: EsignRegister,
        signer: Signer,
        urls: ServiceURLs,
        *,
        common_name: str = "idkarta e-Signature CA",
        organization: str = "idkarta",
        validity: dt.timedelta = _CA_VALIDITY,
        algorithm: SignatureAlgorithm | None = None,
        now: dt.datetime | None = None,
    ) -> EsignCA:
        """A new self-signed e-signature CA certificate, stored in ``register``."""
        if register.meta("ca_certificate") is not None:
            raise IssuanceError(f"{register.path} already holds an e-signature CA")
        alg = algorithm or signer.algorithm
        name = x509.Name.build(
            {"country_name": "UZ", "organization_name": organization, "common_name": common_name},
            use_printable=True,
        )
        start = utc_second(now or dt.datetime.now(dt.UTC))
        period = Validity(start, start + validity, start + validity)
        with register.transaction() as conn:
            tbs = build_tbs_certificate(
                serial=new_serial(conn),
                issuer=name,
                subject=name,
                public_key=signer.public_key(),
                validity=period,
                extensions=_ca_extensions(key_identifier(signer.public_key())),
                algorithm=alg,
            )
            cert = sign_certificate(tbs, signer, alg)
            EsignRegister.insert(conn, cert, kind="ca")
            EsignRegister.set_meta(conn, "ca_certificate", bytes(cert.dump()))
            EsignRegister.set_meta(conn, "next_crl_number", b"1")
        return cls(register, signer, urls, algorithm=alg)

    @property
    def subject(self) -> x509.Name:
        return self.certificate.subject

    @property
    def not_after(self) -> dt.datetime:
        return utc_second(self.certificate["tbs_certificate"]["validity"]["not_after"].native)

    def _issue(
        self,
        *,
        subject: x509.Name,
        public_key: PublicKey,
        not_after: dt.datetime,
        extensions: Callable[[bytes], list[dict[str, Any]]],
        kind: str,
        now: dt.datetime | None,
        pinfl: str | None = None,
        card_number: str | None = None,
        on_record: OnRecord | None = None,
    ) -> IssuedCertificate:
        start = utc_second(now or dt.datetime.now(dt.UTC))
        not_after = min(utc_second(not_after), self.not_after)
        if not_after <= start:
            raise EnrollmentRefused("the certificate would already be expired (card or CA)")
        period = Validity(start, not_after, not_after)
        spki = spki_sha256(public_key)
        with self.register.transaction() as conn:
            if conn.execute(
                "SELECT 1 FROM esign_certificates WHERE spki_sha256 = ? AND revoked_at IS NULL",
                (spki,),
            ).fetchone():
                raise EnrollmentRefused("this public key is already certified")
            tbs = build_tbs_certificate(
                serial=new_serial(conn),
                issuer=self.subject,
                subject=subject,
                public_key=public_key,
                validity=period,
                extensions=extensions(key_identifier(public_key)),
                algorithm=self.algorithm,
            )
            cert = sign_certificate(tbs, self.signer, self.algorithm)
            record = EsignRegister.insert(
                conn, cert, kind=kind, pinfl=pinfl, card_number=card_number
            )
            if on_record is not None:
                on_record(conn, record)
        return record

    def issue(
        self,
        request_der: bytes,
        record: HolderRecord,
        *,
        validity: dt.timedelta = DEFAULT_VALIDITY,
        now: dt.datetime | None = None,
        on_record: OnRecord | None = None,
    ) -> IssuedCertificate:
        """Issue the holder's certificate from a PKCS#10 request checked against ``record``.

        Refused (:class:`EnrollmentRefused`): no proof of possession, a subject naming another
        person, a card already expired, a key already certified. Validity is ``validity`` from
        ``now`` but never past the end of the card's expiry day (UTC) nor the CA's own end.
        ``on_record(conn, issued)`` runs inside the issuing transaction (outbox events).
        """
        request, public_key = verify_request(request_der)
        check_request_subject(request, record)
        start = utc_second(now or dt.datetime.now(dt.UTC))
        card_end = dt.datetime.combine(record.card_expiry, dt.time(23, 59, 59), dt.UTC)
        urls = self.urls
        return self._issue(
            subject=natural_person_name(record),
            public_key=public_key,
            not_after=min(start + validity, card_end),
            extensions=lambda ski: natural_person_extensions(
                subject_key_id=ski, authority_key_id=self.key_id, urls=urls
            ),
            kind="natural_person",
            now=start,
            pinfl=record.pinfl,
            card_number=record.card_number,
            on_record=on_record,
        )

    def issue_tsa(
        self,
        public_key: PublicKey,
        *,
        common_name: str = "idkarta Time-Stamping Authority",
        validity: dt.timedelta = dt.timedelta(days=1826),
        now: dt.datetime | None = None,
    ) -> IssuedCertificate:
        """A TSA certificate: extKeyUsage timeStamping only, critical (RFC 3161 §2.3)."""
        start = utc_second(now or dt.datetime.now(dt.UTC))
        name = x509.Name.build(
            {"country_name": "UZ", "organization_name": "idkarta", "common_name": common_name},
            use_printable=True,
        )
        urls = self.urls
        return self._issue(
            subject=name,
            public_key=public_key,
            not_after=start + validity,
            extensions=lambda ski: _tsa_extensions(
                subject_key_id=ski, authority_key_id=self.key_id, urls=urls
            ),
            kind="tsa",
            now=start,
        )

    # -- revocation ---------------------------------------------------------------------------

    def revoke(
        self,
        serial: int,
        reason: str | RevocationCause = RevocationCause.LOST_CARD,
        *,
        when: dt.datetime | None = None,
    ) -> IssuedCertificate:
        """Revoke a certificate of this CA; the reason is an RFC 5280 name or a cause."""
        name = reason.value if isinstance(reason, RevocationCause) else reason
        if name not in _REASONS:
            raise IssuanceError(f"unknown revocation reason {name!r}; one of {_REASONS}")
        moment = utc_second(when or dt.datetime.now(dt.UTC))
        with self.register.transaction() as conn:
            row = conn.execute(
                "SELECT kind, revoked_at FROM esign_certificates WHERE serial = ?",
                (format(serial, "x"),),
            ).fetchone()
            if row is None or row[0] == "ca":
                raise IssuanceError(f"serial {serial:x} was not issued by this CA")
            if row[1] is not None:
                raise IssuanceError(f"serial {serial:x} is already revoked")
            conn.execute(
                "UPDATE esign_certificates SET revoked_at = ?, reason = ? WHERE serial = ?",
                (moment.isoformat(), name, format(serial, "x")),
            )
        found = self.register.get(serial)
        assert found is not None
        return found

    def revoke_card(
        self, card_number: str, cause: RevocationCause, *, when: dt.datetime | None = None
    ) -> list[IssuedCertificate]:
        """Revoke every unrevoked certificate written to card ``card_number``."""
        serials = [
            r.serial
            for r in self.register.all()
            if r.card_number == card_number and r.revoked_at is None
        ]
        return [self.revoke(s, cause, when=when) for s in serials]

    def issue_crl(
        self, *, next_update: dt.timedelta = dt.timedelta(days=7), now: dt.datetime | None = None
    ) -> crl.CertificateList:
        """A v2 CRL (RFC 5280 §5): AKI and cRLNumber; reasonCode per entry."""
        moment = utc_second(now or dt.datetime.now(dt.UTC))
        with self.register.transaction() as conn:
            row = conn.execute(
                "SELECT value FROM esign_meta WHERE key = 'next_crl_number'"
            ).fetchone()
            number = int(bytes(row[0]).decode()) if row else 1
            revoked = []
            for r in self.register.revoked():
                assert r.revoked_at is not None
                revoked.append((r.serial, r.revoked_at, r.reason))
            cert_list = build_crl(
                issuer=self.subject,
                authority_key_id=self.key_id,
                number=number,
                this_update=moment,
                next_update=moment + next_update,
                revoked=revoked,
                signer=self.signer,
                algorithm=self.algorithm,
            )
            EsignRegister.set_meta(conn, "next_crl_number", str(number + 1).encode())
        return cert_list
