"""CSCA master lists (ICAO 9303-12 §9): parsing and signature verification.

A master list is a CMS SignedData whose eContent (type id-icao-cscaMasterList, 2.23.136.1.1.2)
is ``CscaMasterList ::= SEQUENCE { version, certList SET OF Certificate }``, signed by a master
list signer whose certificate is issued by a CSCA. Its certificates are only used as trust
anchors when its signature verifies and its signer chains to a CSCA the verifier already trusts.
Lives in ``idcard`` (which may not import ``pki``) so that verification needs no PKI code; the
PKI side may reuse :class:`MasterList`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from asn1crypto import x509

from idcard.errors import DecodeError
from idcard.verify import _signature
from idcard.verify._asn1 import OID_CSCA_MASTER_LIST, CscaMasterList
from idcard.verify._cms import SignedParts, check_signed_parts, read_signed_data
from idcard.verify.report import CheckResult, Status

__all__ = ["OID_CSCA_MASTER_LIST", "MasterList", "verify_master_list"]


@dataclass(frozen=True, slots=True)
class MasterList:
    """A decoded CSCA master list: its CSCA certificates and the signed envelope."""

    certificates: tuple[x509.Certificate, ...]
    signed: SignedParts
    raw: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def decode(cls, data: bytes) -> MasterList:
        """Decode the DER ContentInfo of a master list; malformed input raises DecodeError."""
        signed = read_signed_data(bytes(data), "master list")
        if signed.e_content_type != OID_CSCA_MASTER_LIST:
            raise DecodeError(f"not a CSCA master list (eContentType {signed.e_content_type})")
        try:
            ml = CscaMasterList.load(signed.e_content)
            certs = tuple(ml["cert_list"])
            for c in certs:
                _ = c.subject  # parse now, so a bad certificate fails here
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise DecodeError(f"master list content does not decode: {exc}") from None
        return cls(certs, signed, bytes(data))

    @property
    def signer_certificate(self) -> x509.Certificate | None:
        return self.signed.signer_certificate


def verify_master_list(ml: MasterList, anchors: Iterable[x509.Certificate]) -> CheckResult:
    """Check a master list's CMS signature and that its signer is issued by one of ``anchors``.

    The result is named ``master_list``; PASS means its certificates may be trusted.
    """
    sig = check_signed_parts(ml.signed, "master_list", OID_CSCA_MASTER_LIST)
    if sig.status is not Status.PASS:
        return CheckResult("master_list", sig.status, f"master list signature: {sig.reason}")
    signer = ml.signer_certificate
    assert signer is not None  # check_signed_parts passed
    for anchor in anchors:
        if anchor.subject != signer.issuer:
            continue
        try:
            ok = _signature.verify(
                anchor.public_key,
                signer["signature_algorithm"],
                bytes(signer["signature_value"].native),
                bytes(signer["tbs_certificate"].dump()),
            )
        except _signature.UnsupportedKey:
            continue
        if ok:
            return CheckResult(
                "master_list",
                Status.PASS,
                f"signed by {signer.subject.human_friendly}, issued by trusted CSCA "
                f"{anchor.subject.human_friendly}; {len(ml.certificates)} certificates",
            )
    return CheckResult(
        "master_list",
        Status.FAIL,
        f"the master list signer {signer.subject.human_friendly} is not issued by a trusted CSCA",
    )
