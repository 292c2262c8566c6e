"""EF.SOD signing: build and sign the Document Security Object (ICAO 9303-10 §4.6.2, 9303-12 §4).

:class:`SODBuilder` is an immutable builder (STYLE.md §3): each setter returns a new builder and
setting a value twice raises. :meth:`SODBuilder.sign` hashes the data groups (SHA-256 by default;
SHA-1/224/384/512 accepted), builds the ``LDSSecurityObject`` with
:func:`idcard.lds.sod.build_lds_security_object`, wraps it in a CMS SignedData (RFC 5652;
version 3, eContentType ``id-icao-mrtd-security-ldsSecurityObject``) with signed attributes
contentType, messageDigest and signingTime, has them signed by any :class:`~pki.keys.Signer`
holding the Document Signer key, and puts the DS certificate inside. The result is the EF.SOD
file (tag 77) that :class:`idcard.lds.sod.SOD` decodes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from asn1crypto import x509

from idcard import tlv
from idcard.asn1 import oids
from idcard.errors import DecodeError, EncodeError, VerificationError
from idcard.lds.dump import update_folder
from idcard.lds.sod import SOD, SODParts, build_lds_security_object
from pki.cms import (
    build_signed_data,
    check_document_signer,
    load_ds_certificate,
    signing_algorithm,
)
from pki.errors import IssuanceError
from pki.keys import SignatureAlgorithm, Signer

__all__ = [
    "DATA_GROUP_HASHES",
    "DocumentSignerRefused",
    "SODBuilder",
    "document_code",
    "document_signer_refusal",
    "sign_data_group_hashes",
    "sign_dump_folder",
]

DATA_GROUP_HASHES = ("sha1", "sha224", "sha256", "sha384", "sha512")
"""Hash algorithms accepted for data group hashes (9303-12 §5)."""


class DocumentSignerRefused(IssuanceError):
    """No Document Signer may sign this document now (checked; the message says why)."""


def document_code(dg1: bytes) -> str:
    """The document code of DG1's MRZ (its first two characters without fillers, e.g. ``IU``;
    9303-10 §4.7.1); IssuanceError when DG1 does not hold a readable MRZ."""
    from idcard import tlv

    try:
        top = tlv.decode_one(dg1, expected_tag=0x61)
        mrz = tlv.require(top.children(), 0x5F1F, "DG1").value.decode("ascii")
    except (DecodeError, UnicodeDecodeError) as exc:
        raise IssuanceError(f"DG1 does not hold a readable MRZ: {exc}") from None
    code = mrz[:2].replace("<", "")
    if not code.isalpha():
        raise IssuanceError(f"DG1's MRZ has no document code ({mrz[:2]!r})")
    return code


def document_signer_refusal(
    cert: x509.Certificate, *, code: str, now: dt.datetime, revoked: Mapping[int, str]
) -> str | None:
    """Why the DS ``cert`` may not sign a document with MRZ document code ``code`` at ``now``,
    or None when it may: revoked (``revoked`` maps serial → reason), certificate or key usage
    period (privateKeyUsagePeriod) not begun or over, no digitalSignature, or ``code`` not in
    its documentTypeList (9303-12 §7.1.1.3; matched as passive authentication does: the code
    starts with a listed type)."""
    serial = int(cert.serial_number)
    if serial in revoked:
        return f"is revoked ({revoked[serial]})"
    validity = cert["tbs_certificate"]["validity"]
    not_before, not_after = validity["not_before"].native, validity["not_after"].native
    if now < not_before:
        return f"is not valid before {not_before:%Y-%m-%d %H:%M:%S}Z"
    if now > not_after:
        return f"expired on {not_after:%Y-%m-%d %H:%M:%S}Z"
    pkup = cert.private_key_usage_period_value
    key_from, key_until = (None, None) if pkup is None else (
        pkup["not_before"].native, pkup["not_after"].native)  # fmt: skip
    if key_from is not None and now < key_from:
        return f"may not sign before {key_from:%Y-%m-%d %H:%M:%S}Z (privateKeyUsagePeriod)"
    if key_until is not None and now > key_until:
        return f"may not sign after {key_until:%Y-%m-%d %H:%M:%S}Z (privateKeyUsagePeriod)"
    usage = cert.key_usage_value
    if usage is None or "digital_signature" not in usage.native:
        return "does not allow digitalSignature"
    types = next((list(ext["extn_value"].parsed["doc_type_list"].native)
                  for ext in cert["tbs_certificate"]["extensions"]
                  if ext["extn_id"].native == "icao_document_type_list"), None)  # fmt: skip
    if types is None:
        return "has no documentTypeList"
    if not any(t and code.startswith(t) for t in types):
        listed = ", ".join(sorted(types))
        return f"is not allowed for document code {code!r} (documentTypeList: {listed})"
    return None


@dataclass(frozen=True, slots=True)
class SODBuilder:
    """Collects the data groups and options of one EF.SOD; :meth:`sign` produces it.

    ``lds_version`` / ``unicode_version`` (e.g. ``"0108"``, ``"040000"``) make an
    LDSSecurityObject v1 with LDSVersionInfo; without them it is v0.
    """

    _data_groups: tuple[tuple[int, bytes], ...] = ()
    _hash_algorithm: str | None = None
    _signing_time: dt.datetime | None = None
    _versions: tuple[str, str] | None = None
    _signature_algorithm: SignatureAlgorithm | None = None

    def data_group(self, number: int, raw: bytes) -> SODBuilder:
        """Add data group ``number`` (1–16) as its exact file bytes (tag included)."""
        if not 1 <= number <= 16:
            raise IssuanceError(f"data group number {number} outside 1..16")
        if any(n == number for n, _ in self._data_groups):
            raise IssuanceError(f"DG{number} is already set")
        return replace(self, _data_groups=(*self._data_groups, (number, bytes(raw))))

    def data_groups(self, files: Mapping[int, bytes]) -> SODBuilder:
        """Add several data groups (number → file bytes)."""
        builder = self
        for number, raw in sorted(files.items()):
            builder = builder.data_group(number, raw)
        return builder

    def hash_algorithm(self, name: str) -> SODBuilder:
        """The data group hash (default SHA-256)."""
        if name not in DATA_GROUP_HASHES:
            raise IssuanceError(f"unsupported hash {name!r}; one of {DATA_GROUP_HASHES}")
        if self._hash_algorithm is not None:
            raise IssuanceError("the hash algorithm is already set")
        return replace(self, _hash_algorithm=name)

    def signing_time(self, when: dt.datetime) -> SODBuilder:
        """The signingTime attribute (default: the time of :meth:`sign`); timezone-aware."""
        if when.tzinfo is None:
            raise IssuanceError("the signing time must be timezone-aware")
        if self._signing_time is not None:
            raise IssuanceError("the signing time is already set")
        return replace(self, _signing_time=when)

    def lds_version(self, lds_version: str, unicode_version: str) -> SODBuilder:
        """Make an LDSSecurityObject v1 with LDSVersionInfo (9303-10 §4.6.2.3)."""
        if self._versions is not None:
            raise IssuanceError("the LDS version is already set")
        return replace(self, _versions=(lds_version, unicode_version))

    def signature_algorithm(self, algorithm: SignatureAlgorithm) -> SODBuilder:
        """The signature algorithm (default: the signer's own, e.g. ECDSA-SHA256 on P-256)."""
        if self._signature_algorithm is not None:
            raise IssuanceError("the signature algorithm is already set")
        return replace(self, _signature_algorithm=algorithm)

    def sign(
        self,
        signer: Signer,
        certificate: x509.Certificate | bytes,
        algorithm: SignatureAlgorithm | None = None,
    ) -> bytes:
        """The EF.SOD file (tag 77) signed by ``signer``, whose certificate is ``certificate``."""
        hash_name = self._hash_algorithm or "sha256"
        hashes = {n: hashlib.new(hash_name, raw).digest() for n, raw in self._data_groups}
        return sign_data_group_hashes(
            hashes, hash_name, signer, certificate,
            algorithm=algorithm or self._signature_algorithm,
            signing_time=self._signing_time, lds_version=self._versions,
        )  # fmt: skip


def sign_data_group_hashes(
    hashes: Mapping[int, bytes],
    hash_algorithm: str,
    signer: Signer,
    certificate: x509.Certificate | bytes,
    *,
    algorithm: SignatureAlgorithm | None = None,
    signing_time: dt.datetime | None = None,
    lds_version: tuple[str, str] | None = None,
) -> bytes:
    """The EF.SOD file (tag 77) over data group ``hashes`` (number → digest by
    ``hash_algorithm``), signed by ``signer`` whose certificate is ``certificate``.

    For a signer that never sees the data groups (the Center signs the hashes a collection
    point sends): each number must be 1–16 and each digest the algorithm's length."""
    if hash_algorithm not in DATA_GROUP_HASHES:
        raise IssuanceError(f"unsupported hash {hash_algorithm!r}; one of {DATA_GROUP_HASHES}")
    size = hashlib.new(hash_algorithm).digest_size
    for number, digest in hashes.items():
        if not 1 <= number <= 16:
            raise IssuanceError(f"data group number {number} outside 1..16")
        if len(digest) != size:
            raise IssuanceError(f"the hash of DG{number} is not {size} bytes ({hash_algorithm})")
    if len(hashes) < 2:
        raise IssuanceError("an EF.SOD needs at least two data groups")
    cert = load_ds_certificate(certificate)
    check_document_signer(cert, signer)
    lds, uni = lds_version if lds_version is not None else (None, None)
    try:
        lso = build_lds_security_object(dict(hashes), hash_algorithm, lds, uni)
    except EncodeError as exc:
        raise IssuanceError(f"LDSSecurityObject: {exc}") from None
    alg = signing_algorithm(signer, algorithm)
    when = (signing_time or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    info = build_signed_data(oids.ID_ICAO_LDS_SECURITY_OBJECT, lso, signer, cert, alg, when)
    sod = tlv.encode(SOD.TAG, info)
    try:  # our own output must read back (the fast reader passive authentication uses)
        SODParts.decode(sod)
        return sod
    except DecodeError as exc:
        raise IssuanceError(f"the signed EF.SOD does not decode: {exc}") from None


def sign_dump_folder(
    folder: str | Path,
    signer: Signer,
    certificate: x509.Certificate | bytes,
    hash_algorithm: str = "sha256",
    *,
    signing_time: dt.datetime | None = None,
    lds_version: tuple[str, str] | None = None,
    algorithm: SignatureAlgorithm | None = None,
) -> Path:
    """Sign EF.SOD over the data groups (``DG1`` … ``DG16``) of a dump folder; write
    ``EF.SOD`` next to them, listed in the folder's manifest, and return its path."""
    from idcard.verify.passive import read_dump_folder

    root = Path(folder)
    try:
        files = read_dump_folder(root)
    except VerificationError as exc:
        raise IssuanceError(str(exc)) from None
    groups = {int(name[2:]): raw for name, raw in files.items() if name.startswith("DG")}
    builder = SODBuilder().data_groups(groups).hash_algorithm(hash_algorithm)
    if signing_time is not None:
        builder = builder.signing_time(signing_time)
    if lds_version is not None:
        builder = builder.lds_version(*lds_version)
    update_folder(root, {"EF.SOD": builder.sign(signer, certificate, algorithm)})
    return next(p for p in (root / "EF.SOD", root / "EF.SOD.bin") if p.is_file())
