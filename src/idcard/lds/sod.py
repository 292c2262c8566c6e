"""EF.SOD, the Document Security Object (ICAO Doc 9303-10 §4.6.2), and its CMS plumbing.

EF.SOD (tag ``77``) wraps a CMS ContentInfo (RFC 5652) of type SignedData whose
encapsulated content is an ``LDSSecurityObject``: the hash of every data group. This module
decodes it and exposes what passive authentication needs (the hashes, the signer, the signed
attributes re-tagged for verification); it does not verify. :class:`SignedDataMixin` is shared
with EF.CardSecurity. :func:`build_lds_security_object` and :meth:`SOD.wrap` are the building
blocks for producing a SOD (the signing itself lives in ``pki``).

:class:`SODParts` and :func:`read_signed_parts` are the fast read path for verification: the
same values, read with the TLV codec instead of asn1crypto (measured: ``SOD.decode`` of a P-256
EF.SOD ~800 µs, :meth:`SODParts.decode` ~60 µs; see docs/performance.md). Passive
authentication and CSCA master lists use them; :class:`SOD` remains the model for everything
else (inspection, JSON, building).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from asn1crypto import algos, cms, core, x509

from idcard import tlv
from idcard.asn1 import oids
from idcard.asn1.lds_security_object import LDSSecurityObject
from idcard.asn1.parse import load_strict
from idcard.errors import DecodeError, EncodeError

__all__ = [
    "SOD",
    "SODParts",
    "SignedDataMixin",
    "SignedParts",
    "build_lds_security_object",
    "load_certificate",
    "load_signature_algorithm",
    "load_signed_data",
    "read_signed_parts",
]

_MAX_DATA_GROUP = 16
_OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
_T = TypeVar("_T")


def load_signed_data(der: bytes, content_type: str, offset: int) -> cms.ContentInfo:
    """Parse a DER ContentInfo holding SignedData with eContentType ``content_type`` (dotted).

    Parses every level at once so no asn1crypto error surfaces later; every failure is a
    :class:`DecodeError`. Requires at least one SignerInfo and present eContent.
    """
    info = load_strict(cms.ContentInfo, der, offset=offset, what="CMS ContentInfo")
    if info["content_type"].dotted != _OID_SIGNED_DATA:
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
        hashes: dict[int, bytes] = {}
        for item in lso["data_group_hash_values"]:
            number = item["data_group_number"].native
            if not 1 <= number <= _MAX_DATA_GROUP or number in hashes:
                raise DecodeError(f"invalid or repeated data group number {number}")
            hashes[number] = bytes(item["data_group_hash_value"].native)
        version = lso["version"].native
        if version not in ("v0", "v1"):
            raise DecodeError(f"unknown LDSSecurityObject version {version}")
        object.__setattr__(self, "_hashes", tuple(hashes.items()))

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


# -- fast read path for verification ------------------------------------------------------------
#
# Verifying many documents spent most of its time in asn1crypto building objects for the whole
# SignedData. Passive authentication needs only a few byte strings of it, so
# :func:`read_signed_parts` and :class:`SODParts` read them with the TLV codec's tag and length
# readers, as (tag, offset, value start, value end) tuples over the input without copying, and
# following the ASN.1 (RFC 5652 §5, 9303-10 §4.6.2.3) that the asn1crypto specs declare; tests
# hold both paths equal. Only values that depend on nothing but their exact bytes are cached
# (certificates, OIDs, algorithm identifiers), never anything about one document.

_OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_OID_SIGNING_TIME = "1.2.840.113549.1.9.5"
_SEQUENCE, _SET, _OID, _INTEGER, _OCTETS = 0x30, 0x31, 0x06, 0x02, 0x04
_CTX0, _CTX1 = 0xA0, 0xA1

_Node = tuple[int, int, int, int]
"""One data object of the input: tag, offset of the tag, start and end of the value."""


def _node(data: bytes, pos: int, end: int) -> _Node:
    """The data object at ``pos``, which must end by ``end`` (the TLV codec's readers)."""
    tag, start, stop = tlv.read_header(data, pos)
    if stop > end:
        raise DecodeError(
            f"tag {tag:X} claims {stop - start} bytes past its container", offset=pos
        )
    return tag, pos, start, stop


def _check(node: _Node, tag: int, where: str) -> None:
    if node[0] != tag:
        raise DecodeError(f"{where}: expected tag {tag:X}, found {node[0]:X}", offset=node[1])


def _children(data: bytes, node: _Node, tag: int, where: str) -> list[_Node]:
    """The data objects inside ``node`` (which must have tag ``tag``), filling it exactly."""
    _check(node, tag, where)
    out = []
    pos, end = node[2], node[3]
    while pos < end:  # _node, inlined: this loop is the hot path of verification
        child_tag, start, stop = tlv.read_header(data, pos)
        if stop > end:
            raise DecodeError(f"tag {child_tag:X} overruns its container", offset=pos)
        out.append((child_tag, pos, start, stop))
        pos = stop
    return out


def _one(data: bytes, node: _Node, tag: int, where: str) -> _Node:
    """The single data object inside ``node``: an EXPLICIT tag's, or a SET of one value's."""
    inner = _children(data, node, tag, where)
    if len(inner) != 1:
        raise DecodeError(f"{where}: {len(inner)} elements where 1 is expected", offset=node[1])
    return inner[0]


def _value(data: bytes, node: _Node, tag: int, where: str) -> bytes:
    _check(node, tag, where)
    return data[node[2] : node[3]]


def _der(data: bytes, node: _Node) -> bytes:
    return data[node[1] : node[3]]


def _integer(data: bytes, node: _Node, where: str) -> int:
    value = _value(data, node, _INTEGER, where)
    if not value:
        raise DecodeError(f"{where}: empty INTEGER", offset=node[1])
    return int.from_bytes(value, "big", signed=True)


@functools.lru_cache(maxsize=1024)
def _oid_of(der: bytes) -> str:
    return str(load_strict(core.ObjectIdentifier, der, what="OBJECT IDENTIFIER").dotted)


def _oid(data: bytes, node: _Node, where: str) -> str:
    """Dotted OID of an OBJECT IDENTIFIER node."""
    _check(node, _OID, where)
    return _oid_of(_der(data, node))


@functools.lru_cache(maxsize=256)
def _digest_name_of(der: bytes) -> str:
    value = load_strict(algos.DigestAlgorithm, der, what="digest AlgorithmIdentifier")
    return str(value["algorithm"].native)


def _digest_name(data: bytes, node: _Node, where: str) -> str:
    """hashlib name (``sha256``) of a DigestAlgorithmIdentifier, the dotted OID when unknown."""
    _check(node, _SEQUENCE, where)
    return _digest_name_of(_der(data, node))


@functools.lru_cache(maxsize=256)
def load_certificate(der: bytes) -> x509.Certificate:
    """A fully parsed certificate, one object per distinct DER (documents of one DS share it).

    Malformed DER raises :class:`DecodeError`.
    """
    cert = load_strict(x509.Certificate, der, what="certificate")
    _ = cert.issuer.dump(), cert.serial_number, cert.key_identifier
    return cert


@functools.lru_cache(maxsize=256)
def _signer_ids(der: bytes) -> tuple[bytes, int, bytes | None, bytes]:
    """Issuer DER, serial number, subject key identifier and IssuerAndSerialNumber DER of a
    certificate (the ways a SignerIdentifier names it, RFC 5652 §5.3)."""
    cert = load_certificate(der)
    issuer = bytes(cert.issuer.dump())
    serial = bytes(cert["tbs_certificate"]["serial_number"].dump())
    return issuer, cert.serial_number, cert.key_identifier, tlv.encode(_SEQUENCE, issuer + serial)


@functools.lru_cache(maxsize=256)
def load_signature_algorithm(der: bytes) -> algos.SignedDigestAlgorithm:
    """A parsed SignerInfo signatureAlgorithm (AlgorithmIdentifier DER), cached by its bytes."""
    return load_strict(algos.SignedDigestAlgorithm, der, what="signatureAlgorithm")


@functools.lru_cache(maxsize=256)
def _names_match(cert_der: bytes, issuer_der: bytes) -> bool:
    """RFC 5280 §7.1 matching of a certificate's issuer with a sid's (when the bytes differ)."""
    issuer = load_strict(x509.Name, issuer_der, what="sid issuer")
    return bool(load_certificate(cert_der).issuer == issuer)


def _time(data: bytes, node: _Node) -> datetime:
    """UTCTime or GeneralizedTime (RFC 5652 §11.3) as an aware datetime."""
    text = data[node[2] : node[3]]
    if node[0] == 0x17 and len(text) == 13 and text.endswith(b"Z") and text[:12].isdigit():
        year = int(text[:2])  # DER UTCTime YYMMDDHHMMSSZ; years 50-99 are 19xx (RFC 5280)
        try:
            return datetime(
                year + (2000 if year < 50 else 1900), int(text[2:4]), int(text[4:6]),
                int(text[6:8]), int(text[8:10]), int(text[10:12]), tzinfo=UTC,
            )  # fmt: skip
        except ValueError:
            raise DecodeError("signingTime is not a valid time", offset=node[1]) from None
    spec = {0x17: core.UTCTime, 0x18: core.GeneralizedTime}.get(node[0])
    if spec is None:
        raise DecodeError("signingTime is not a Time", offset=node[1])
    value = load_strict(spec, _der(data, node), offset=node[1], what="signingTime").native
    if not isinstance(value, datetime):
        raise DecodeError("signingTime is not a point in time", offset=node[1])
    return value


def _octets(data: bytes, node: _Node, where: str) -> bytes:
    """An OCTET STRING's contents, primitive or (BER) constructed of primitive segments."""
    if node[0] == _OCTETS:
        return data[node[2] : node[3]]
    parts = _children(data, node, 0x24, where)
    return b"".join(_value(data, part, _OCTETS, where) for part in parts)


@dataclass(frozen=True, slots=True)
class SignedParts:
    """What verifying a one-signer CMS SignedData needs (RFC 5652 §5.3, §5.4, §5.6), as read.

    ``signed_attrs_der`` is the signed attributes exactly as received with the [0] tag replaced
    by SET (RFC 5652 §5.4), since the signature covers those bytes and not a re-encoding.
    """

    e_content_type: str
    e_content: bytes = field(repr=False)
    digest_algorithm: str
    signed_attrs_der: bytes | None = field(repr=False)
    message_digest: bytes | None
    content_type_attr: str | None
    signing_time: datetime | None
    signature: bytes = field(repr=False)
    signature_algorithm_der: bytes = field(repr=False)
    certificates_der: tuple[bytes, ...] = field(repr=False)
    signer_index: int | None
    """Index in :attr:`certificates_der` of the certificate the sid names (None: not carried)."""

    @property
    def signature_algorithm(self) -> algos.SignedDigestAlgorithm:
        return load_signature_algorithm(self.signature_algorithm_der)

    @property
    def certificates(self) -> tuple[x509.Certificate, ...]:
        return tuple(load_certificate(der) for der in self.certificates_der)

    @property
    def signer_certificate_der(self) -> bytes | None:
        return None if self.signer_index is None else self.certificates_der[self.signer_index]

    @property
    def signer_certificate(self) -> x509.Certificate | None:
        der = self.signer_certificate_der
        return None if der is None else load_certificate(der)


def _signer_index(data: bytes, sid: _Node, certs: tuple[bytes, ...]) -> int | None:
    """The certificate the SignerIdentifier names (RFC 5652 §5.3), by issuer+serial or SKI."""
    if sid[0] == 0x80:  # [0] subjectKeyIdentifier
        ski = data[sid[2] : sid[3]]
        return next((i for i, c in enumerate(certs) if _signer_ids(c)[2] == ski), None)
    sid_der = _der(data, sid)
    for i, der in enumerate(certs):
        if _signer_ids(der)[3] == sid_der:  # the usual case: the same bytes
            return i
    fields = _children(data, sid, _SEQUENCE, "SignerInfo sid")
    if len(fields) != 2:
        raise DecodeError("sid is not issuerAndSerialNumber", offset=sid[1])
    _check(fields[0], _SEQUENCE, "sid issuer")
    issuer = _der(data, fields[0])
    serial = _integer(data, fields[1], "sid serialNumber")
    for i, der in enumerate(certs):
        cert_issuer, cert_serial, _, _ = _signer_ids(der)
        if cert_serial == serial and (cert_issuer == issuer or _names_match(der, issuer)):
            return i
    return None


def _signed_attributes(
    data: bytes, attrs: _Node
) -> tuple[bytes, bytes | None, str | None, datetime | None]:
    """Signed attributes as signed (SET-tagged), messageDigest, contentType and signingTime."""
    found: dict[str, _Node] = {}
    for attr in _children(data, attrs, _CTX0, "signedAttrs"):
        fields = _children(data, attr, _SEQUENCE, "Attribute")
        if len(fields) != 2:
            raise DecodeError("Attribute is not { attrType, attrValues }", offset=attr[1])
        kind = _oid(data, fields[0], "attrType")
        if kind in (_OID_CONTENT_TYPE, _OID_MESSAGE_DIGEST, _OID_SIGNING_TIME):
            if kind in found:  # each at most once, with one value (RFC 5652 §11)
                raise DecodeError(f"signed attribute {kind} repeated", offset=attr[1])
            found[kind] = _one(data, fields[1], _SET, f"attribute {kind}")
        else:
            _check(fields[1], _SET, "attrValues")
    digest = found.get(_OID_MESSAGE_DIGEST)
    ctype = found.get(_OID_CONTENT_TYPE)
    when = found.get(_OID_SIGNING_TIME)
    return (
        b"\x31" + data[attrs[1] + 1 : attrs[3]],
        None if digest is None else _value(data, digest, _OCTETS, "messageDigest"),
        None if ctype is None else _oid(data, ctype, "contentType"),
        None if when is None else _time(data, when),
    )


def _signed_parts(data: bytes, info: _Node, what: str) -> SignedParts:
    parts = _children(data, info, _SEQUENCE, "ContentInfo")
    if len(parts) != 2 or _oid(data, parts[0], "contentType") != _OID_SIGNED_DATA:
        raise DecodeError(f"{what} does not hold a CMS SignedData", offset=info[1])
    sd = _children(data, _one(data, parts[1], _CTX0, "content"), _SEQUENCE, "SignedData")
    if len(sd) < 4:
        raise DecodeError("SignedData is too short", offset=parts[1][1])
    _check(sd[0], _INTEGER, "SignedData version")
    _check(sd[1], _SET, "digestAlgorithms")
    encap = _children(data, sd[2], _SEQUENCE, "encapContentInfo")
    if len(encap) != 2:
        raise DecodeError(f"{what} has no encapsulated content", offset=sd[2][1])
    e_type = _oid(data, encap[0], "eContentType")
    e_content = _octets(data, _one(data, encap[1], _CTX0, "eContent"), "eContent")
    certs: tuple[bytes, ...] = ()
    rest = sd[3:-1]
    if rest and rest[0][0] == _CTX0:  # certificates: keep the X.509 ones (CertificateChoices)
        items = _children(data, rest[0], _CTX0, "certificates")
        certs = tuple(_der(data, c) for c in items if c[0] == _SEQUENCE)
        rest = rest[1:]
    if rest and rest[0][0] == _CTX1:  # crls
        rest = rest[1:]
    if rest:
        raise DecodeError("unexpected field in SignedData", offset=rest[0][1])
    infos = _children(data, sd[-1], _SET, "signerInfos")
    if len(infos) != 1:
        raise DecodeError(f"{what} must have exactly one SignerInfo, has {len(infos)}")
    si = _children(data, infos[0], _SEQUENCE, "SignerInfo")
    if len(si) < 5:
        raise DecodeError("SignerInfo is too short", offset=infos[0][1])
    _check(si[0], _INTEGER, "SignerInfo version")
    attrs: tuple[bytes | None, bytes | None, str | None, datetime | None] = (None,) * 4
    rest = si[3:]
    if rest[0][0] == _CTX0:
        attrs = _signed_attributes(data, rest[0])
        rest = rest[1:]
    if len(rest) not in (2, 3) or (len(rest) == 3 and rest[2][0] != _CTX1):
        raise DecodeError("SignerInfo fields after digestAlgorithm are wrong", offset=si[3][1])
    _check(rest[0], _SEQUENCE, "signatureAlgorithm")
    algorithm = _der(data, rest[0])
    load_signature_algorithm(algorithm)
    return SignedParts(
        e_content_type=e_type,
        e_content=e_content,
        digest_algorithm=_digest_name(data, si[2], "digestAlgorithm"),
        signed_attrs_der=attrs[0],
        message_digest=attrs[1],
        content_type_attr=attrs[2],
        signing_time=attrs[3],
        signature=_value(data, rest[1], _OCTETS, "signature"),
        signature_algorithm_der=algorithm,
        certificates_der=certs,
        signer_index=_signer_index(data, si[1], certs),
    )


def _reading(what: str, call: Callable[[], _T]) -> _T:
    """``call()``, with every failure a DecodeError whose message starts with ``what``."""
    try:
        return call()
    except DecodeError as exc:
        if exc.reason.startswith(what):
            raise
        raise DecodeError(f"{what}: {exc.reason}", offset=exc.offset) from None
    except (IndexError, ValueError, OverflowError) as exc:
        raise DecodeError(f"{what} does not decode: {exc}") from None


def read_signed_parts(content_info: bytes, what: str = "SignedData") -> SignedParts:
    """Read a DER ContentInfo holding SignedData with exactly one SignerInfo (RFC 5652 §5).

    Every malformation raises :class:`DecodeError` whose message starts with ``what``.
    """
    data = bytes(content_info)

    def read() -> SignedParts:
        info = _node(data, 0, len(data))
        if info[3] != len(data):
            raise DecodeError(f"{len(data) - info[3]} bytes after the ContentInfo", offset=info[3])
        return _signed_parts(data, info, what)

    return _reading(what, read)


@dataclass(frozen=True, slots=True)
class SODParts:
    """The values of one EF.SOD that passive authentication uses (9303-11 §5.1), read fast.

    The same content as :class:`SOD` (tests hold them equal), read as :func:`read_signed_parts`
    does; tag ``77`` around the ContentInfo (trailing 00/FF padding accepted), or the bare
    ContentInfo, is accepted. Offsets in errors are offsets in the file (in the eContent for
    errors of the LDSSecurityObject).
    """

    hash_algorithm: str
    data_group_hashes: dict[int, bytes] = field(repr=False)
    lds_version: str | None
    signed: SignedParts
    raw: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def decode(cls, data: bytes) -> SODParts:
        data = bytes(data)
        return _reading(SOD.NAME, lambda: cls._decode(data))

    @classmethod
    def _decode(cls, data: bytes) -> SODParts:
        top = _node(data, 0, len(data))
        if top[0] == SOD.TAG:
            tlv.strip_padding(data, top[3])
            info = _node(data, top[2], top[3])
            if info[3] != top[3]:
                raise DecodeError("bytes after the ContentInfo", offset=info[3])
        elif top[3] == len(data):
            info = top
        else:
            raise DecodeError(f"{len(data) - top[3]} bytes after the ContentInfo", offset=top[3])
        signed = _signed_parts(data, info, SOD.NAME)
        if signed.e_content_type != SOD.CONTENT_TYPE:
            raise DecodeError(
                f"eContentType {signed.e_content_type} where "
                f"{oids.name(SOD.CONTENT_TYPE)} was expected"
            )
        content = signed.e_content
        top = _node(content, 0, len(content))
        algorithm, hashes, lds_version = _lds_security_object(content, top)
        return cls(algorithm, hashes, lds_version, signed, data)


def _lds_security_object(data: bytes, top: _Node) -> tuple[str, dict[int, bytes], str | None]:
    """Hash algorithm, data group hashes and LDS version of an LDSSecurityObject (9303-10
    §4.6.2.3), with the checks :class:`SOD` makes. Error offsets are within the eContent."""
    if top[3] != len(data):
        raise DecodeError("bytes after the LDSSecurityObject", offset=top[3])
    fields = _children(data, top, _SEQUENCE, "LDSSecurityObject")
    if len(fields) not in (3, 4):
        raise DecodeError(f"LDSSecurityObject has {len(fields)} elements", offset=0)
    version = _integer(data, fields[0], "LDSSecurityObject version")
    if version not in (0, 1):
        raise DecodeError(f"unknown LDSSecurityObject version {version}", offset=fields[0][1])
    algorithm = _digest_name(data, fields[1], "hashAlgorithm")
    hashes: dict[int, bytes] = {}
    for item in _children(data, fields[2], _SEQUENCE, "dataGroupHashValues"):
        pair = _children(data, item, _SEQUENCE, "DataGroupHash")
        if len(pair) != 2:
            raise DecodeError("DataGroupHash is not { number, hash }", offset=item[1])
        number = _integer(data, pair[0], "dataGroupNumber")
        if not 1 <= number <= _MAX_DATA_GROUP or number in hashes:
            raise DecodeError(f"invalid or repeated data group number {number}", offset=item[1])
        hashes[number] = _value(data, pair[1], _OCTETS, "dataGroupHashValue")
    lds_version = None
    if len(fields) == 4:
        info = _children(data, fields[3], _SEQUENCE, "ldsVersionInfo")
        if len(info) != 2:
            raise DecodeError("LDSVersionInfo is not { ldsVersion, unicodeVersion }", offset=0)
        lds_version = _value(data, info[0], 0x13, "ldsVersion").decode("ascii")
        _value(data, info[1], 0x13, "unicodeVersion").decode("ascii")
    return algorithm, hashes, lds_version
