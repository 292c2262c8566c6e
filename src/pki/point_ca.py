"""The point CA: the TLS PKI by which the collection points and the Center know each other.

Apart from the CSCA (which signs only what ICAO 9303-12 lets it sign): one self-signed CA
certifies each point's TLS client certificate (subject ``CN`` = the point's code, EKU
clientAuth) and the Center's TLS server certificate (its host names in subjectAltName, EKU
serverAuth), and lists revoked ones on its CRL (RFC 5280 §5: v2, AKI, cRLNumber, nextUpdate).
Profiles in :mod:`pki.profiles`; serials and revocations in its own :class:`~pki.ca.CAState`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from pathlib import Path

from asn1crypto import crl, x509

from pki.ca import (
    REVOCATION_REASONS,
    CAState,
    IssuedRecord,
    RevokedRecord,
    build_crl,
    build_tbs_certificate,
    certificate_public_key,
    sign_certificate,
)
from pki.errors import IssuanceError
from pki.keys import PublicKey, Signer
from pki.profiles import (
    Profile,
    Validity,
    center_server_extensions,
    key_identifier,
    make_name,
    point_ca_extensions,
    point_client_extensions,
)

__all__ = ["POINT_CODE", "PointCA", "point_code_of"]

POINT_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,15}")
"""A point's code (as ``point.json`` and the Center's registry spell it)."""

_DAY = dt.timedelta(days=1)


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)


def point_code_of(cert: x509.Certificate) -> str | None:
    """The point code a point client certificate names (its subject CN), or None when the
    certificate is not one: no clientAuth EKU, a CA, or a CN that is not a point code."""
    eku = cert.extended_key_usage_value
    if eku is None or "client_auth" not in eku.native:
        return None
    if cert.ca:
        return None
    cn = cert.subject.native.get("common_name")
    return cn if isinstance(cn, str) and POINT_CODE.fullmatch(cn) else None


class PointCA:
    """The point CA: its certificate, its :class:`Signer` and its state file."""

    def __init__(
        self, certificate: x509.Certificate, signer: Signer, state_path: str | os.PathLike[str]
    ) -> None:
        if certificate_public_key(certificate) != signer.public_key():
            raise IssuanceError("the signer's key is not the point CA certificate's key")
        self.certificate = certificate
        self.signer = signer
        self.state_path = Path(state_path)
        self.key_id = key_identifier(signer.public_key())

    @classmethod
    def create(
        cls, signer: Signer, state_path: str | os.PathLike[str], *, country: str,
        organization: str | None = None, days: int = 3650, now: dt.datetime | None = None,
    ) -> PointCA:  # fmt: skip
        """A new self-signed point CA certificate valid ``days`` days."""
        state = CAState.load(Path(state_path))
        name = make_name(country, f"Point CA {country}", organization)
        start = _now(now)
        tbs = build_tbs_certificate(
            serial=state.take_serial(), issuer=name, subject=name,
            public_key=signer.public_key(),
            validity=Validity(start, start + days * _DAY, start + days * _DAY),
            extensions=point_ca_extensions(subject_key_id=key_identifier(signer.public_key())),
            algorithm=signer.algorithm,
        )  # fmt: skip
        ca = cls(sign_certificate(tbs, signer, signer.algorithm), signer, state_path)
        ca._record(state, ca.certificate, Profile.POINT_CA)
        return ca

    def _record(self, state: CAState, cert: x509.Certificate, profile: Profile) -> None:
        state.issued.append(IssuedRecord(
            serial=int(cert.serial_number), profile=profile.value,
            subject=cert.subject.human_friendly,
            not_after=cert["tbs_certificate"]["validity"]["not_after"].native.isoformat(),
            issuer_key_id=self.key_id.hex(),
        ))  # fmt: skip
        state.save(self.state_path)

    def _issue(
        self, profile: Profile, public_key: PublicKey, common_name: str, days: int,
        now: dt.datetime | None,
        hosts: Sequence[str] = (),
    ) -> x509.Certificate:  # fmt: skip
        start = _now(now)
        end = start + days * _DAY
        if end > self.certificate["tbs_certificate"]["validity"]["not_after"].native:
            raise IssuanceError("the certificate would outlive the point CA certificate")
        ski = key_identifier(public_key)
        if profile is Profile.POINT_CLIENT:
            exts = point_client_extensions(subject_key_id=ski, authority_key_id=self.key_id)
        else:
            exts = center_server_extensions(subject_key_id=ski, authority_key_id=self.key_id,
                                            hosts=hosts)  # fmt: skip
        subject = self.certificate.subject.native
        state = CAState.load(self.state_path)
        tbs = build_tbs_certificate(
            serial=state.take_serial(), issuer=self.certificate.subject,
            subject=make_name(subject["country_name"], common_name,
                              subject.get("organization_name")),
            public_key=public_key, validity=Validity(start, end, end), extensions=exts,
            algorithm=self.signer.algorithm,
        )  # fmt: skip
        cert = sign_certificate(tbs, self.signer, self.signer.algorithm)
        self._record(state, cert, profile)
        return cert

    def issue_client(
        self, public_key: PublicKey, *, point: str, days: int = 825,
        now: dt.datetime | None = None,
    ) -> x509.Certificate:  # fmt: skip
        """The TLS client certificate of the point ``point`` (its code, the subject CN)."""
        if not POINT_CODE.fullmatch(point):
            raise IssuanceError(f"{point!r} is not a point code (2-16 capitals, digits or '-')")
        return self._issue(Profile.POINT_CLIENT, public_key, point, days, now)

    def issue_server(
        self, public_key: PublicKey, *, hosts: Sequence[str], days: int = 825,
        now: dt.datetime | None = None,
    ) -> x509.Certificate:  # fmt: skip
        """The Center's TLS server certificate for ``hosts`` (DNS names, IP addresses)."""
        return self._issue(Profile.CENTER_SERVER, public_key, "idkarta Center", days, now,
                           hosts)  # fmt: skip

    def revoke(
        self, serial: int, *, reason: str = "unspecified", when: dt.datetime | None = None
    ) -> RevokedRecord:
        """List a certificate this CA issued (not itself) on its next CRL."""
        if reason not in REVOCATION_REASONS:
            raise IssuanceError(f"unknown revocation reason {reason!r}")
        state = CAState.load(self.state_path)
        if serial == int(self.certificate.serial_number):
            raise IssuanceError("the point CA does not revoke its own certificate")
        if not any(r.serial == serial for r in state.issued):
            raise IssuanceError(f"serial {serial} was not issued by the point CA")
        if any(r.serial == serial for r in state.revoked):
            raise IssuanceError(f"serial {serial} is already revoked")
        record = RevokedRecord(serial, _now(when).isoformat(), reason)
        state.revoked.append(record)
        state.save(self.state_path)
        return record

    def issue_crl(
        self, *, next_update: dt.timedelta = dt.timedelta(days=7), now: dt.datetime | None = None
    ) -> crl.CertificateList:
        """The point CA's CRL (RFC 5280 §5): every certificate revoked so far."""
        moment = _now(now)
        state = CAState.load(self.state_path)
        cert_list = build_crl(
            issuer=self.certificate.subject, authority_key_id=self.key_id,
            number=state.next_crl_number, this_update=moment,
            next_update=moment + next_update,
            revoked=[(r.serial, dt.datetime.fromisoformat(r.revocation_date), r.reason)
                     for r in sorted(state.revoked, key=lambda r: r.serial)],
            signer=self.signer, algorithm=self.signer.algorithm,
        )  # fmt: skip
        state.next_crl_number += 1
        state.save(self.state_path)
        return cert_list
