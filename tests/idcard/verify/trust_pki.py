"""Certificates and CRLs that break one rule each, for the trust-store decision tests.

:mod:`tests.idcard.verify.pa_pki` makes well-formed PKIs; here the name, key identifier or
signing key of a certificate or CRL can be chosen apart, as a forger would.
"""

from __future__ import annotations

import datetime as dt

from asn1crypto import crl as acrl
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from tests.idcard.verify.pa_pki import PKI, T0, UTC, _hash_for, _serial, key

from pki.keys import PrivateKey

NEXT_UPDATE = dt.datetime(2025, 12, 1, tzinfo=UTC)
REVOKED_ON = dt.datetime(2024, 6, 1, tzinfo=UTC)
_UNSET = b"unset"


def name(cn: str, country: str = "UZ") -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "idkarta test"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def cert(
    subject_key: PrivateKey,
    subject: x509.Name,
    signing_key: PrivateKey,
    issuer: x509.Name,
    *,
    ca: bool,
    aki: bytes | None = _UNSET,
    ski: bool = True,
    not_before: dt.datetime = T0,
    not_after: dt.datetime = T0 + dt.timedelta(days=15 * 366),
) -> ax509.Certificate:
    """A certificate of ``subject_key`` named ``subject``, naming ``issuer``, signed with
    ``signing_key``; ``aki`` is the authority key identifier written (default: the signing key's;
    None: no extension), ``ski`` whether a subject key identifier is written."""
    pub = subject_key.public_key()
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(pub)
        .serial_number(next(_serial))
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if ski:
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
    if aki is _UNSET:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
            critical=False,
        )
    elif aki is not None:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier(aki, None, None), critical=False
        )
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    else:
        b = b.add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
    signed = b.sign(signing_key, _hash_for(signing_key))
    return ax509.Certificate.load(signed.public_bytes(serialization.Encoding.DER))


def crl_der(
    issuer: x509.Name,
    signing_key: PrivateKey,
    revoked: tuple[int, ...] = (),
    *,
    next_update: dt.datetime = NEXT_UPDATE,
) -> bytes:
    b = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer)
        .last_update(dt.datetime(2025, 1, 1, tzinfo=UTC))
        .next_update(next_update)
    )
    for serial in revoked:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(REVOKED_ON)
            .build()
        )
    return b.sign(signing_key, _hash_for(signing_key)).public_bytes(serialization.Encoding.DER)


def crl_of(
    pki: PKI, revoked: tuple[int, ...] = (), *, signing_key: PrivateKey | None = None
) -> acrl.CertificateList:
    """The CRL of ``pki``'s CSCA (by name), signed by its key or by ``signing_key``."""
    return acrl.CertificateList.load(
        crl_der(pki.csca.subject, signing_key or pki.csca_key, revoked)
    )


def unsupported_algorithm(c: acrl.CertificateList) -> acrl.CertificateList:
    """``c`` with its signatureAlgorithm replaced by bare ecPublicKey, which names no hash."""
    out = c.copy()
    out["signature_algorithm"] = {"algorithm": "1.2.840.10045.2.1"}
    return acrl.CertificateList.load(out.dump(force=True))


def link_cert(old: PKI, new: PKI) -> ax509.Certificate:
    """A link certificate: ``new``'s CSCA key and name, signed by ``old``'s CSCA key."""
    return cert(new.csca_key, new.csca.subject, old.csca_key, old.csca.subject, ca=True)


def rogue_key(slot: int) -> PrivateKey:
    return key("p256", 90 + slot)
