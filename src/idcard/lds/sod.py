"""EF.SOD, the Document Security Object (ICAO Doc 9303-10 §4.6.2), and its CMS plumbing.

EF.SOD (tag ``77``) wraps a CMS ContentInfo (RFC 5652) of type SignedData whose
encapsulated content is an ``LDSSecurityObject``: the hash of every data group. This module
decodes it and exposes what passive authentication needs (the hashes, the signer, the signed
attributes re-tagged for verification); it does not verify. :class:`SignedDataMixin` is shared
with EF.CardSecurity. :func:`build_lds_security_object` and :meth:`SOD.wrap` are the building
blocks for producing a SOD (the signing itself lives in ``pki``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

from asn1crypto import algos, cms, core, x509

from idcard import tlv
from idcard.asn1 import oids
from idcard.asn1.lds_security_object import LDSSecurityObject
from idcard.asn1.parse import load_strict
from idcard.errors import DecodeError, EncodeError

__all__ = ["SOD", "SignedDataMixin", "build_lds_security_object", "load_signed_data"]

_MAX_DATA_GROUP = 16


def load_signed_data(der: bytes, content_type: str, offset: int) -> cms.ContentInfo:
    """Parse a DER ContentInfo holding SignedData with eContentType ``content_type`` (dotted).

    Parses every level at once so no asn1crypto error surfaces later; every failure is a
    :class:`DecodeError`. Requires at least one SignerInfo and present eContent.
    """
    info = load_strict(cms.ContentInfo, der, offset=offset, what="CMS ContentInfo")
    if info["content_type"].dotted != "1.2.840.113549.1.7.2":
        raise DecodeError("ContentInfo is not SignedData", offset=offset)
    signed = info["content"]
    encap = signed["encap_content_info"]
    if encap["content_type"].dotted != content_type:
        raise DecodeError(
            f"eContentType {encap['content_type'].dotted} where {oids.name(content_type)} "
            "was expected",
            offset=offset,
        )
    if isinstance(encap["content"], core.Void):
        raise DecodeError("SignedData has no encapsulated content", offset=offset)
    if len(signed["signer_infos"]) == 0:
        raise DecodeError("SignedData has no SignerInfo", offset=offset)
    return info


class SignedDataMixin:
    """Read access to a parsed SignedData kept in ``_content`` (RFC 5652 §5)."""

    __slots__ = ()
    _content: cms.ContentInfo

    @property
    def signed_data(self) -> cms.SignedData:
        """The asn1crypto SignedData."""
        return self._content["content"]

    @property
    def encapsulated_content(self) -> bytes:
        """The exact eContent bytes (the DER that the messageDigest attribute hashes)."""
        return bytes(self.signed_data["encap_content_info"]["content"].contents)

    @property
    def signer_infos(self) -> list[cms.SignerInfo]:
        return list(self.signed_data["signer_infos"])

    @property
    def signer_info(self) -> cms.SignerInfo:
        """The first SignerInfo (ICAO 9303-10 §4.6.2 has exactly one)."""
        return self.signed_data["signer_infos"][0]

    @property
    def certificates(self) -> list[x509.Certificate]:
        """The X.509 certificates carried in SignedData.certificates (others skipped)."""
        certs = self.signed_data["certificates"]
        if isinstance(certs, core.Void):
            return []
        return [c.chosen for c in certs if c.name == "certificate"]

    @property
    def signer_certificate(self) -> x509.Certificate | None:
        """The certificate matching the first SignerInfo's sid, or None when not carried."""
        sid = self.signer_info["sid"]
        for cert in self.certificates:
            if sid.name == "issuer_and_serial_number":
                if (
                    cert.issuer == sid.chosen["issuer"]
                    and cert.serial_number == sid.chosen["serial_number"].native
                ):
                    return cert
            elif cert.key_identifier == sid.chosen.native:
                return cert
        return None

    @property
    def signed_attributes(self) -> cms.CMSAttributes | None:
        """The signed attributes of the first SignerInfo (None when absent)."""
        attrs = self.signer_info["signed_attrs"]
        return None if isinstance(attrs, core.Void) else attrs

    @property
    def signed_attrs_der(self) -> bytes | None:
        """The signed attributes as signed: DER with the [0] tag replaced by SET (RFC 5652 §5.4)."""
        attrs = self.signed_attributes
        if attrs is None:
            return None
        return tlv.encode(0x31, bytes(attrs.contents))

    @property
    def message_digest(self) -> bytes | None:
        """The messageDigest signed attribute (hash of :attr:`encapsulated_content`)."""
        attrs = self.signed_attributes
        if attrs is None:
            return None
        for attr in attrs:
            if attr["type"].native == "message_digest" and len(attr["values"]) == 1:
                return bytes(attr["values"][0].native)
        return None

    @property
    def signature(self) -> bytes:
        return bytes(self.signer_info["signature"].native)

    @property
    def signature_algorithm(self) -> str:
        """The SignerInfo's signature algorithm name (``rsassa_pss``, ``sha256_ecdsa``, …)."""
        return str(self.signer_info["signature_algorithm"]["algorithm"].native)

    @property
    def digest_algorithm(self) -> str:
        """The SignerInfo's digest algorithm name (``sha256``)."""
        return str(self.signer_info["digest_algorithm"]["algorithm"].native)

    def signer_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "digest_algorithm": self.digest_algorithm,
            "signature_algorithm": self.signature_algorithm,
        }
        cert = self.signer_certificate
        if cert is not None:
            out["signer_certificate"] = {
                "subject": cert.subject.human_friendly,
                "issuer": cert.issuer.human_friendly,
                "serial_number": str(cert.serial_number),
                "serial_number_hex": format(cert.serial_number, "X"),
            }
        else:
            out["signer_certificate"] = None
        return out


@dataclass(frozen=True, slots=True)
class SOD(SignedDataMixin):
    """EF.SOD (9303-10 §4.6.2): SignedData over an LDSSecurityObject, under tag 77."""

    TAG: ClassVar[int] = 0x77
    NAME: ClassVar[str] = "EF.SOD"
    CONTENT_TYPE: ClassVar[str] = oids.ID_ICAO_LDS_SECURITY_OBJECT
    content_info: bytes
    """DER of the CMS ContentInfo (the value of tag 77), exactly as stored."""
    raw: bytes = field(default=b"", repr=False, compare=False)
    _content: cms.ContentInfo = field(init=False, repr=False, compare=False)
    _lso: LDSSecurityObject = field(init=False, repr=False, compare=False)
    _hashes: tuple[tuple[int, bytes], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parsed = load_signed_data(self.content_info, self.CONTENT_TYPE, 0)
        object.__setattr__(self, "_content", parsed)
        lso = load_strict(LDSSecurityObject, self.encapsulated_content, what="LDSSecurityObject")
        object.__setattr__(self, "_lso", lso)
        hashes: list[tuple[int, bytes]] = []
        for item in lso["data_group_hash_values"]:
            number = item["data_group_number"].native
            if not 1 <= number <= _MAX_DATA_GROUP or number in dict(hashes):
                raise DecodeError(f"invalid or repeated data group number {number}")
            hashes.append((number, bytes(item["data_group_hash_value"].native)))
        version = lso["version"].native
        if version not in ("v0", "v1"):
            raise DecodeError(f"unknown LDSSecurityObject version {version}")
        object.__setattr__(self, "_hashes", tuple(hashes))

    @classmethod
    def decode(cls, data: bytes) -> SOD:
        """Decode EF.SOD (tag 77 around a ContentInfo); trailing 00/FF padding is accepted."""
        data = bytes(data)
        outer = tlv.decode_one(data, expected_tag=cls.TAG)
        try:
            return cls(outer.value, raw=data)
        except DecodeError as exc:
            # Offsets inside the ContentInfo become offsets in the file.
            raise DecodeError(exc.reason, offset=outer.value_offset + (exc.offset or 0)) from exc

    @classmethod
    def wrap(cls, content_info_der: bytes) -> SOD:
        """A SOD around an already signed CMS ContentInfo (what SOD signing produces)."""
        der = bytes(content_info_der)
        return cls(der, raw=tlv.encode(cls.TAG, der))

    def encode(self) -> bytes:
        return tlv.encode(self.TAG, self.content_info)

    @property
    def lds_security_object(self) -> LDSSecurityObject:
        """The parsed eContent (asn1crypto :class:`~idcard.asn1.LDSSecurityObject`)."""
        return self._lso

    @property
    def version(self) -> int:
        """LDSSecurityObject version: 0 (v0) or 1 (v1, with LDSVersionInfo)."""
        return 0 if self.lds_security_object["version"].native == "v0" else 1

    @property
    def lds_version(self) -> str | None:
        """LDS version from LDSVersionInfo (e.g. ``0108``), None in a v0 object."""
        info = self.lds_security_object["lds_version_info"]
        return None if isinstance(info, core.Void) else str(info["lds_version"].native)

    @property
    def unicode_version(self) -> str | None:
        info = self.lds_security_object["lds_version_info"]
        return None if isinstance(info, core.Void) else str(info["unicode_version"].native)

    @property
    def hash_algorithm(self) -> str:
        """Name of the data-group hash algorithm (``sha256``), as hashlib knows it."""
        return str(self.lds_security_object["hash_algorithm"]["algorithm"].native)

    @property
    def data_group_hashes(self) -> dict[int, bytes]:
        """Data group number → hash value, in the order stored."""
        return dict(self._hashes)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.NAME,
            "version": self.version,
            "lds_version": self.lds_version,
            "unicode_version": self.unicode_version,
            "hash_algorithm": self.hash_algorithm,
            "data_group_hashes": {
                str(number): value.hex().upper() for number, value in self._hashes
            },
        }
        out.update(self.signer_json())
        return out


def build_lds_security_object(
    hashes: dict[int, bytes],
    hash_algorithm: str,
    lds_version: str | None = None,
    unicode_version: str | None = None,
) -> bytes:
    """DER LDSSecurityObject (9303-10 §4.6.2.3) for data group hashes, sorted by number.

    v0 without versions; v1 with LDSVersionInfo when ``lds_version`` and ``unicode_version``
    (e.g. ``"0108"``, ``"040000"``) are both given. The hash algorithm's parameters are
    absent (RFC 5754 §2). Raises :class:`EncodeError` on inconsistent input.
    """
    if (lds_version is None) != (unicode_version is None):
        raise EncodeError("lds_version and unicode_version go together (LDSVersionInfo)")
    if len(hashes) < 2:
        raise EncodeError("an LDSSecurityObject holds at least 2 data group hashes")
    try:
        size = hashlib.new(hash_algorithm).digest_size
        algorithm = algos.DigestAlgorithm({"algorithm": hash_algorithm})
        algorithm.dump()
    except (ValueError, TypeError) as exc:
        raise EncodeError(f"unsupported hash algorithm {hash_algorithm!r}") from exc
    values = []
    for number in sorted(hashes):
        if not 1 <= number <= _MAX_DATA_GROUP:
            raise EncodeError(f"data group number {number} outside 1..16")
        if len(hashes[number]) != size:
            raise EncodeError(f"DG{number} hash is not {size} bytes of {hash_algorithm}")
        values.append({"data_group_number": number, "data_group_hash_value": hashes[number]})
    value: dict[str, Any] = {
        "version": "v0" if lds_version is None else "v1",
        "hash_algorithm": algorithm,
        "data_group_hash_values": values,
    }
    if lds_version is not None:
        value["lds_version_info"] = {
            "lds_version": lds_version,
            "unicode_version": unicode_version,
        }
    try:
        return bytes(LDSSecurityObject(value).dump())
    except (ValueError, TypeError) as exc:
        raise EncodeError(f"LDSSecurityObject: {exc}") from exc
