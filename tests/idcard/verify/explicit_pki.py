"""A test document PKI whose keys carry explicit EC domain parameters, as Germany's do (issue 17).

The CSCA key is on brainpoolP224r1, a curve ``cryptography`` lacks: it signs with python-ecdsa,
and verifying it exercises the ``ecdsa`` path of :mod:`idcard.crypto_ec`. The DS key is on
brainpoolP256r1 (``cryptography`` signs the SOD). Certificates are first built with
``cryptography`` (names, validity, extensions as :mod:`tests.idcard.verify.pa_pki` makes them),
then their SubjectPublicKeyInfo is rewritten in explicit form and the TBS signed again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
from collections.abc import Callable

from asn1crypto import crl as acrl
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from ecdsa import BRAINPOOLP224r1, SigningKey  # type: ignore[import-untyped]
from ecdsa.util import sigencode_der  # type: ignore[import-untyped]
from tests.idcard.verify.pa_pki import SIGNED_AT, T0, UTC, _name, der, make_cert

from idcard.crypto_ec import explicit_public_key_info
from pki.keys import SoftwareSigner
from pki.sod import SODBuilder

Sign = Callable[[bytes], bytes]


def reissue(cert: x509.Certificate, spki_der: bytes, sign: Sign) -> bytes:
    """``cert`` with ``spki_der`` as its key, its TBS signed again by ``sign`` (DER)."""
    old = ax509.Certificate.load(der(cert))
    tbs = ax509.TbsCertificate.load(old["tbs_certificate"].dump())
    tbs["subject_public_key_info"] = ax509.PublicKeyInfo.load(spki_der)
    tbs = ax509.TbsCertificate.load(tbs.dump())
    return bytes(
        ax509.Certificate(
            {
                "tbs_certificate": tbs,
                "signature_algorithm": old["signature_algorithm"],
                "signature_value": sign(tbs.dump()),
            }
        ).dump()
    )


def _point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


@functools.cache
def _ds_key(slot: int) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(0x1D4A27A + slot, ec.BrainpoolP256R1())


@functools.cache
def _placeholder() -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(0xC0FFEE, ec.SECP256R1())


@dataclasses.dataclass
class ExplicitPKI:
    """A CSCA (brainpoolP224r1, python-ecdsa) and a DS (brainpoolP256r1) under it, both keys
    written with explicit domain parameters. ``ds_country`` differs from ``country`` only for
    tests of a DS that claims another country than its CSCA."""

    country: str = "UZ"
    slot: int = 0
    ds_country: str | None = None
    csca_sk: SigningKey = dataclasses.field(init=False)
    csca_der: bytes = dataclasses.field(init=False)
    ds_der: bytes = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.csca_sk = SigningKey.from_secret_exponent(0xCA5CA + self.slot, BRAINPOOLP224r1)
        point = b"\x04" + self.csca_sk.get_verifying_key().to_string()
        cname = _name(self.country, f"CSCA {self.country} explicit {self.slot}")
        placeholder = _placeholder()
        csca = make_cert(
            placeholder, cname, placeholder, cname,
            not_before=T0, not_after=T0 + dt.timedelta(days=15 * 366), ca=True,
        )  # fmt: skip
        self.csca_der = reissue(
            csca, explicit_public_key_info("brainpoolP224r1", point), self.csca_sign
        )
        ds_key = _ds_key(self.slot)
        country = self.ds_country or self.country
        ds = make_cert(
            ds_key, _name(country, f"DS {country} explicit {self.slot}"), placeholder, cname,
            not_before=dt.datetime(2024, 1, 1, tzinfo=UTC),
            not_after=dt.datetime(2034, 1, 1, tzinfo=UTC), ca=False, doc_types=("I", "ID"),
        )  # fmt: skip
        self.ds_der = reissue(
            ds, explicit_public_key_info("brainpoolP256r1", _point(ds_key)), self.csca_sign
        )

    def csca_sign(self, tbs: bytes) -> bytes:
        return bytes(
            self.csca_sk.sign_deterministic(tbs, hashfunc=hashlib.sha256, sigencode=sigencode_der)
        )

    def crl(self, revoked: tuple[int, ...] = ()) -> bytes:
        """A CRL of the CSCA (revoking ``revoked`` serials), signed with its explicit key."""
        b = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.csca.subject)
            .last_update(dt.datetime(2025, 1, 1, tzinfo=UTC))
            .next_update(dt.datetime(2025, 12, 1, tzinfo=UTC))
        )
        for serial in revoked:
            b = b.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial)
                .revocation_date(dt.datetime(2024, 6, 1, tzinfo=UTC)).build()
            )  # fmt: skip
        placeholder = _placeholder()
        old = acrl.CertificateList.load(
            b.sign(placeholder, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
        )
        tbs = old["tbs_cert_list"]
        return bytes(
            acrl.CertificateList(
                {
                    "tbs_cert_list": tbs,
                    "signature_algorithm": old["signature_algorithm"],
                    "signature": self.csca_sign(tbs.dump()),
                }
            ).dump()
        )

    @property
    def ds_serial(self) -> int:
        return int(ax509.Certificate.load(self.ds_der).serial_number)

    @property
    def csca(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.csca_der)

    def sign_files(self, files: dict[str, bytes]) -> dict[str, bytes]:
        """``files`` plus the EF.SOD the DS signs (with the project's SODBuilder)."""
        b = SODBuilder().hash_algorithm("sha256").signing_time(SIGNED_AT)
        for name, raw in files.items():
            if name.startswith("DG"):
                b = b.data_group(int(name[2:]), raw)
        signer = SoftwareSigner(_ds_key(self.slot), "ds")
        return {**files, "EF.SOD": b.sign(signer, self.ds_der)}
