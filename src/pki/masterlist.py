"""CSCA master lists (ICAO Doc 9303-12 §8): build and sign ours, parse and check foreign ones.

A master list is a CMS ``SignedData`` (RFC 5652) whose encapsulated content, of type
``id-icao-cscaMasterList`` (2.23.136.1.1.2), is ``CscaMasterList { version 0, certList SET OF
Certificate }``. It is signed by a Master List Signer (EKU 2.23.136.1.1.3) whose certificate, and
the CSCA that issued it, travel in ``certificates``. Signed attributes: contentType,
messageDigest, signingTime.

Parsing never raises for a bad signature: it returns a :class:`MasterListVerification` that says
which checks passed (STYLE.md §6). Bytes that are not a master list raise DecodeError.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import algos, cms, x509

from idcard.errors import DecodeError
from pki.asn1 import ID_ICAO_CSCA_MASTER_LIST, ID_ICAO_MASTER_LIST_SIGNING, CscaMasterList
from pki.ca import certificate_public_key
from pki.errors import IssuanceError, KeyStoreError, PKIError
from pki.keys import SignatureAlgorithm, Signer, verify_signature

__all__ = ["MasterListVerification", "build_master_list", "parse_master_list"]


def _signed_attrs(content_type: str, digest: bytes, when: dt.datetime) -> cms.CMSAttributes:
    return cms.CMSAttributes(
        [
            {"type": "content_type", "values": [content_type]},
            {"type": "message_digest", "values": [digest]},
            {"type": "signing_time", "values": [cms.Time({"utc_time": when})]},
        ]
    )


def build_master_list(
    csca_certificates: Sequence[x509.Certificate],
    signer: Signer,
    signer_certificate: x509.Certificate,
    *,
    issuer_certificate: x509.Certificate | None = None,
    algorithm: SignatureAlgorithm | None = None,
    signing_time: dt.datetime | None = None,
) -> bytes:
    """The DER ``ContentInfo`` of a master list of ``csca_certificates`` (9303-12 §8.2).

    ``signer_certificate`` must be a Master List Signer certificate for ``signer``'s key;
    ``issuer_certificate`` (its CSCA) is included when given, as 9303-12 §8.2.1 recommends.
    """
    if not csca_certificates:
        raise IssuanceError("a master list needs at least one CSCA certificate")
    if certificate_public_key(signer_certificate) != signer.public_key():
        raise IssuanceError("the signer's key is not the master list signer certificate's key")
    eku = signer_certificate.extended_key_usage_value
    if eku is None or "icao_master_list_signing" not in eku.native:
        raise IssuanceError("the signer certificate lacks the master list signing EKU")
    alg = algorithm or signer.algorithm
    unique = list({c.dump(): c for c in csca_certificates}.values())  # a SET: no duplicates
    content = CscaMasterList({"version": 0, "cert_list": unique}).dump()
    when = (signing_time or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    attrs = _signed_attrs(ID_ICAO_CSCA_MASTER_LIST, alg.digest(content), when)
    signature = signer.sign(attrs.dump(), alg)
    sid = cms.SignerIdentifier(
        {
            "issuer_and_serial_number": {
                "issuer": signer_certificate.issuer,
                "serial_number": signer_certificate.serial_number,
            }
        }
    )
    certs = [signer_certificate] + ([issuer_certificate] if issuer_certificate else [])
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": alg.hash_name})],
            "encap_content_info": {
                "content_type": ID_ICAO_CSCA_MASTER_LIST,
                "content": CscaMasterList.load(content),
            },
            "certificates": certs,
            "signer_infos": [
                {
                    "version": "v1",
                    "sid": sid,
                    "digest_algorithm": {"algorithm": alg.hash_name},
                    "signed_attrs": attrs,
                    "signature_algorithm": alg.signed_digest_algorithm(),
                    "signature": signature,
                }
            ],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())


@dataclass(frozen=True, slots=True)
class MasterListVerification:
    """What a master list contains and which checks passed.

    ``intact``: the messageDigest attribute matches the content. ``signature_valid``: the signer
    certificate's key verifies the signed attributes. ``signer_is_master_list_signer``: it carries
    EKU 2.23.136.1.1.3. ``signer_issued_by_listed_csca``: its signature verifies under a CSCA of
    the list itself or of ``trust_anchors``. ``valid`` combines them. Trust in the list still
    needs the signer's CSCA to be a trusted anchor of the caller.
    """

    csca_certificates: tuple[x509.Certificate, ...]
    signer_certificate: x509.Certificate | None
    signing_time: dt.datetime | None
    intact: bool
    signature_valid: bool
    signer_is_master_list_signer: bool
    signer_issued_by_listed_csca: bool
    problems: tuple[str, ...] = field(default=())

    @property
    def valid(self) -> bool:
        return (
            self.intact
            and self.signature_valid
            and self.signer_is_master_list_signer
            and self.signer_issued_by_listed_csca
        )


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer.dump() != issuer.subject.dump():
        return False
    try:
        alg = SignatureAlgorithm.from_signed_digest_algorithm(cert["signature_algorithm"])
        key = certificate_public_key(issuer)
    except (KeyStoreError, PKIError):
        return False
    return verify_signature(
        key, cert["signature_value"].native, cert["tbs_certificate"].dump(), alg
    )


def parse_master_list(
    data: bytes, *, trust_anchors: Sequence[x509.Certificate] = ()
) -> MasterListVerification:
    """Decode a master list (DER ContentInfo) and check its signature (9303-12 §8.2)."""
    try:
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].native != "signed_data":
            raise DecodeError("not a CMS SignedData")
        sd = info["content"]
        encap = sd["encap_content_info"]
        if encap["content_type"].dotted != ID_ICAO_CSCA_MASTER_LIST:
            raise DecodeError(f"content type {encap['content_type'].dotted} is not a master list")
        raw_content = bytes(encap["content"].contents)
        ml = CscaMasterList.load(raw_content)
        cscas = tuple(ml["cert_list"])
        for c in cscas:
            c.native  # noqa: B018 - force a full parse so errors surface here
        certs = [c.chosen for c in sd["certificates"]] if sd["certificates"] else []
        signer_infos = list(sd["signer_infos"])
    except DecodeError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise DecodeError(f"not a CSCA master list: {exc}") from None
    if len(signer_infos) != 1:
        raise DecodeError(f"a master list has one signer, found {len(signer_infos)}")
    si = signer_infos[0]
    problems: list[str] = []
    try:
        signer_cert = _find_signer(si, certs)
        alg = SignatureAlgorithm.from_signed_digest_algorithm(si["signature_algorithm"])
        digest_name = si["digest_algorithm"]["algorithm"].native
        attrs = si["signed_attrs"]
        digest_attr = _attr(attrs, "message_digest")
        time_attr = _attr(attrs, "signing_time")
        ctype_attr = _attr(attrs, "content_type")
    except (ValueError, TypeError, KeyError) as exc:
        raise DecodeError(f"malformed master list signer info: {exc}") from None
    except KeyStoreError as exc:
        raise DecodeError(f"master list signature algorithm: {exc}") from None

    try:
        actual = hashlib.new(digest_name, raw_content).digest()
    except ValueError:
        raise DecodeError(f"unsupported digest algorithm {digest_name!r}") from None
    intact = digest_attr is not None and digest_attr.native == actual
    if not intact:
        problems.append("messageDigest does not match the content")
    if ctype_attr is None or ctype_attr.dotted != ID_ICAO_CSCA_MASTER_LIST:
        intact = False
        problems.append("contentType attribute missing or not id-icao-cscaMasterList")

    signature_valid = False
    is_mls = False
    issued_by_csca = False
    if signer_cert is None:
        problems.append("the signer certificate is not in the master list")
    else:
        # [0] IMPLICIT as received → the SET OF that was signed (RFC 5652 §5.4)
        signed_bytes = b"\x31" + attrs.dump()[1:]
        try:
            signature_valid = verify_signature(
                certificate_public_key(signer_cert), si["signature"].native, signed_bytes, alg
            )
        except PKIError:
            signature_valid = False
        if not signature_valid:
            problems.append("the signature does not verify")
        eku = signer_cert.extended_key_usage_value
        is_mls = eku is not None and ID_ICAO_MASTER_LIST_SIGNING in [k.dotted for k in eku]
        if not is_mls:
            problems.append("the signer lacks the master list signing EKU 2.23.136.1.1.3")
        candidates = [*cscas, *trust_anchors, *certs]
        issued_by_csca = any(
            _issued_by(signer_cert, c) for c in candidates if c.dump() != signer_cert.dump()
        )
        if not issued_by_csca:
            problems.append("the signer certificate is not issued by a listed CSCA")

    signing_time = time_attr.native if time_attr is not None else None
    return MasterListVerification(
        csca_certificates=cscas,
        signer_certificate=signer_cert,
        signing_time=signing_time,
        intact=intact,
        signature_valid=signature_valid,
        signer_is_master_list_signer=is_mls,
        signer_issued_by_listed_csca=issued_by_csca,
        problems=tuple(problems),
    )


def _attr(attrs: cms.CMSAttributes, name: str) -> Any:
    if not attrs:
        return None
    for a in attrs:
        if a["type"].native == name:
            values = a["values"]
            return values[0] if len(values) == 1 else None
    return None


def _find_signer(si: cms.SignerInfo, certs: list[x509.Certificate]) -> x509.Certificate | None:
    sid = si["sid"]
    for cert in certs:
        if sid.name == "issuer_and_serial_number":
            ias = sid.chosen
            if (
                cert.issuer.dump() == ias["issuer"].dump()
                and cert.serial_number == ias["serial_number"].native
            ):
                return cert
        elif cert.key_identifier == sid.chosen.native:
            return cert
    return None
