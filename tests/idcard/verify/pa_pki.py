"""A test document PKI declared in code (STYLE.md §7): CSCA, DS, link, CRL, master list, dumps.

Keys come from a small cached pool so that property tests stay fast. Everything is generated with
cryptography; EF.SOD with the project's :class:`pki.sod.SODBuilder`.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from idcard import tlv
from idcard.asn1.document_pki import ID_ICAO_DOCUMENT_TYPE_LIST, DocumentTypeListSyntax
from idcard.mrz.check import check_digit
from pki.keys import PrivateKey, SignatureAlgorithm, SoftwareSigner
from pki.masterlist import build_master_list
from pki.sod import SODBuilder

UTC = dt.UTC
T0 = dt.datetime(2020, 1, 1, tzinfo=UTC)
SIGNED_AT = dt.datetime(2025, 1, 1, 12, tzinfo=UTC)
VERIFY_AT = dt.datetime(2025, 6, 1, tzinfo=UTC)

KEY_TYPES = ("p256", "p384", "rsa2048")


@functools.cache
def key(kind: str = "p256", slot: int = 0) -> PrivateKey:
    """A cached private key of ``kind`` (one per slot, so different roles get different keys)."""
    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "rsa2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(kind)


def _name(country: str, cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "idkarta test"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _hash_for(k: PrivateKey) -> hashes.HashAlgorithm:
    if isinstance(k, ec.EllipticCurvePrivateKey) and k.curve.key_size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


_serial = iter(range(1000, 10**9))


def make_cert(
    subject_key: PrivateKey,
    subject: x509.Name,
    issuer_key: PrivateKey,
    issuer: x509.Name,
    *,
    not_before: dt.datetime,
    not_after: dt.datetime,
    ca: bool,
    key_usage: bool = True,
    doc_types: tuple[str, ...] | None = None,
    issuer_cert: x509.Certificate | None = None,
) -> x509.Certificate:
    pub = subject_key.public_key()
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(pub)
        .serial_number(next(_serial))
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    if key_usage:
        b = b.add_extension(
            x509.KeyUsage(
                digital_signature=not ca, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
    if doc_types is not None:
        der = DocumentTypeListSyntax({"version": 0, "doc_type_list": list(doc_types)}).dump()
        b = b.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier(ID_ICAO_DOCUMENT_TYPE_LIST), der),
            critical=False,
        )
    return b.sign(issuer_key, _hash_for(issuer_key))


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def asn1(cert: x509.Certificate) -> ax509.Certificate:
    return ax509.Certificate.load(der(cert))


@dataclass
class PKI:
    """One CSCA and one DS under it."""

    country: str = "UZ"
    kind: str = "p256"
    csca_key: PrivateKey = field(init=False)
    ds_key: PrivateKey = field(init=False)
    csca: x509.Certificate = field(init=False)
    ds: x509.Certificate = field(init=False)
    ds_not_before: dt.datetime = dt.datetime(2024, 1, 1, tzinfo=UTC)
    ds_not_after: dt.datetime = dt.datetime(2034, 1, 1, tzinfo=UTC)
    doc_types: tuple[str, ...] | None = ("I", "ID")
    slot: int = 0

    def __post_init__(self) -> None:
        self.csca_key = key(self.kind, 10 + self.slot)
        self.ds_key = key(self.kind, 20 + self.slot)
        cname = _name(self.country, f"CSCA {self.country} {self.slot}")
        self.csca = make_cert(
            self.csca_key, cname, self.csca_key, cname,
            not_before=T0, not_after=T0 + dt.timedelta(days=15 * 366), ca=True,
        )  # fmt: skip
        self.ds = make_cert(
            self.ds_key, _name(self.country, f"DS {self.country} {self.slot}"),
            self.csca_key, cname,
            not_before=self.ds_not_before, not_after=self.ds_not_after, ca=False,
            doc_types=self.doc_types,
        )  # fmt: skip

    def signer(self, algorithm: SignatureAlgorithm | None = None) -> SoftwareSigner:
        return SoftwareSigner(self.ds_key, "ds", algorithm)

    def crl(self, revoked: tuple[int, ...] = (), *, signer_key: PrivateKey | None = None) -> bytes:
        b = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.csca.subject)
            .last_update(dt.datetime(2025, 1, 1, tzinfo=UTC))
            .next_update(dt.datetime(2025, 12, 1, tzinfo=UTC))
        )
        for serial in revoked:
            b = b.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(dt.datetime(2024, 6, 1, tzinfo=UTC))
                .build()
            )
        k = signer_key or self.csca_key
        return b.sign(k, _hash_for(k)).public_bytes(serialization.Encoding.DER)


def td1_mrz(state: str = "UZB", code: str = "I<") -> str:
    """A TD1 MRZ (9303-5 §4.2) with correct check digits."""
    number = "AD1234567"
    l1 = f"{code}{state}{number}{check_digit(number)}".ljust(30, "<")
    dob, doe = "900101", "340101"
    l2 = f"{dob}{check_digit(dob)}M{doe}{check_digit(doe)}UZB".ljust(29, "<")
    l2 += check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    l3 = "TOSHMATOV<<ALISHER".ljust(30, "<")
    return l1 + l2 + l3


def sample_files(state: str = "UZB", code: str = "I<") -> dict[str, bytes]:
    """DG1 (MRZ), DG2 (an opaque biometric template), DG14-like blob and EF.COM listing them."""
    dg1 = tlv.encode(0x61, tlv.encode(0x5F1F, td1_mrz(state, code).encode()))
    dg2 = tlv.encode(0x75, tlv.encode(0x7F61, bytes(range(256)) * 3))
    dg14 = tlv.encode(0x6E, bytes.fromhex("3100"))
    com = tlv.encode(
        0x60,
        [
            tlv.encode(0x5F01, b"0108"),
            tlv.encode(0x5F36, b"040000"),
            tlv.encode(0x5C, bytes([0x61, 0x75, 0x6E])),
        ],
    )
    return {"EF.COM": com, "DG1": dg1, "DG2": dg2, "DG14": dg14}


def sign_files(
    files: dict[str, bytes],
    pki: PKI,
    *,
    hash_algorithm: str = "sha256",
    signing_time: dt.datetime = SIGNED_AT,
    algorithm: SignatureAlgorithm | None = None,
) -> dict[str, bytes]:
    """``files`` plus the EF.SOD the PKI's DS signs over their data groups."""
    b = SODBuilder().hash_algorithm(hash_algorithm).signing_time(signing_time)
    for name, raw in files.items():
        if name.startswith("DG"):
            b = b.data_group(int(name[2:]), raw)
    if algorithm is not None:
        b = b.signature_algorithm(algorithm)
    return {**files, "EF.SOD": b.sign(pki.signer(), der(pki.ds))}


def write_dump(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, raw in files.items():
        (folder / name).write_bytes(raw)
    return folder


def master_list(pki: PKI, certificates: list[x509.Certificate], *, tamper: bool = False) -> bytes:
    """A CSCA master list of ``certificates`` signed by an ML signer under ``pki``'s CSCA
    (built with :func:`pki.masterlist.build_master_list`); ``tamper`` breaks its signature."""
    ml_key = key(pki.kind, 30 + pki.slot)
    ml_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(pki.country, "ML signer"))
        .issuer_name(pki.csca.subject)
        .public_key(ml_key.public_key())
        .serial_number(next(_serial))
        .not_valid_before(T0)
        .not_valid_after(T0 + dt.timedelta(days=3650))
        .add_extension(
            x509.ExtendedKeyUsage([x509.ObjectIdentifier("2.23.136.1.1.3")]), critical=False
        )
        .sign(pki.csca_key, _hash_for(pki.csca_key))
    )
    data = build_master_list(
        [asn1(c) for c in certificates],
        SoftwareSigner(ml_key, "ml"),
        asn1(ml_cert),
        signing_time=SIGNED_AT,
    )
    if tamper:  # the SignerInfo's signature is the last field of the DER
        data = data[:-1] + bytes([data[-1] ^ 0x01])
    return data


def link(old: PKI, new: PKI) -> x509.Certificate:
    """A link certificate: ``new``'s CSCA key and name, signed by ``old``'s CSCA key."""
    return make_cert(
        new.csca_key, new.csca.subject, old.csca_key, old.csca.subject,
        not_before=T0, not_after=T0 + dt.timedelta(days=15 * 366), ca=True,
    )  # fmt: skip
