"""Certificates and CRLs that break one rule each, for the trust-store decision tests.

:mod:`tests.idcard.verify.pa_pki` makes well-formed PKIs; here the name, key identifier or
signing key of a certificate or CRL can be chosen apart, as a forger would.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from asn1crypto import cms, core
from asn1crypto import crl as acrl
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.idcard.verify.pa_pki import PKI, SIGNED_AT, T0, UTC, _hash_for, _serial, key

from idcard.asn1.document_pki import ID_ICAO_DOCUMENT_TYPE_LIST
from idcard.asn1.oids import ID_ICAO_LDS_SECURITY_OBJECT
from idcard.lds.sod import SOD, build_lds_security_object
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
    digital_signature: bool | None = True,
    doc_types: bytes | None = None,
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
    elif digital_signature is not None:  # None: no keyUsage extension
        b = b.add_extension(
            x509.KeyUsage(
                digital_signature=digital_signature,
                content_commitment=not digital_signature, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
    if doc_types is not None:  # the DER of a documentTypeList extension value
        oid = x509.ObjectIdentifier(ID_ICAO_DOCUMENT_TYPE_LIST)
        b = b.add_extension(x509.UnrecognizedExtension(oid, doc_types), critical=False)
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
    return key("p256", 5000 + slot)


def make_sod(
    files: dict[str, bytes],
    ds: ax509.Certificate,
    ds_key: PrivateKey,
    *,
    signing_time: dt.datetime | None = SIGNED_AT,
    with_certificate: bool = True,
    declared_hash: str = "sha256",
) -> bytes:
    """EF.SOD over the data groups of ``files`` signed with ``ds_key`` (ECDSA, SHA-256), with or
    without the signingTime attribute and the DS certificate (both optional in RFC 5652);
    ``declared_hash`` "shake128" names that algorithm in the LDSSecurityObject instead."""
    assert isinstance(ds_key, ec.EllipticCurvePrivateKey)
    groups = {int(n[2:]): hashlib.sha256(raw).digest() for n, raw in files.items() if n[:2] == "DG"}
    lso = build_lds_security_object(groups, "sha256")
    if declared_hash == "shake128":  # 2.16.840.1.101.3.4.2.1 → .11, the same length
        sha256 = bytes.fromhex("0609608648016503040201")
        assert lso.count(sha256) == 1
        lso = lso.replace(sha256, sha256[:-1] + b"\x0b")
    attrs = [
        {"type": "content_type", "values": [ID_ICAO_LDS_SECURITY_OBJECT]},
        {"type": "message_digest", "values": [hashlib.sha256(lso).digest()]},
    ]
    if signing_time is not None:
        attrs.append({"type": "signing_time", "values": [cms.Time({"utc_time": signing_time})]})
    signed_attrs = cms.CMSAttributes(attrs)
    signature = ds_key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
    signed = {
        "version": "v3",
        "digest_algorithms": [{"algorithm": "sha256"}],
        "encap_content_info": {
            "content_type": ID_ICAO_LDS_SECURITY_OBJECT,
            "content": core.ParsableOctetString(lso),
        },
        "signer_infos": [
            {
                "version": "v1",
                "sid": {
                    "issuer_and_serial_number": {
                        "issuer": ds.issuer, "serial_number": ds.serial_number,
                    }
                },
                "digest_algorithm": {"algorithm": "sha256"},
                "signed_attrs": signed_attrs,
                "signature_algorithm": {"algorithm": "sha256_ecdsa"},
                "signature": signature,
            }
        ],
    }  # fmt: skip
    if with_certificate:
        signed["certificates"] = [ds]
    info = cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed)})
    return SOD.wrap(info.dump()).encode()
