"""Card verifiable certificates and requests (BSI TR-03110-3 Appendix C, D.2/D.3).

Certificate: ``7F21 { 7F4E body, 5F37 signature }`` with the body ``5F29`` profile identifier,
``42`` CAR, ``7F49`` public key, ``5F20`` CHR, ``7F4C`` CHAT, ``5F25``/``5F24`` effective and
expiration dates (six unpacked BCD digits YYMMDD), optional ``65`` extensions. The signature is
over the encoded body: plain ECDSA r ‖ s (BSI TR-03111 §5.2.1) or RSA (PKCS#1 v1.5 or PSS).

A request is ``7F21`` with a body of profile id, optional CAR, public key, CHR and extensions,
self-signed with the new key; an authenticated request wraps it in ``67`` with an outer CAR and
a signature by the current key over ``7F21 ‖ 42`` (TR-03110-3 §C.2).

Signing goes through a callable ``sign(tbs) -> signature bytes`` so an HSM can do it
(STYLE.md §5); :func:`ecdsa_signer` and :func:`rsa_signer` make one from a private key.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from asn1crypto import core
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from idcard import tlv
from idcard.crypto import HASH_ALGORITHMS, ecdsa_sign_plain, ecdsa_verify_plain
from idcard.cvc.chat import CHAT
from idcard.cvc.curves import curve_from_generator, domain_fields
from idcard.errors import DecodeError, EncodeError

__all__ = [
    "TA_ALGORITHMS",
    "CVCertificate",
    "CVCertificateBody",
    "CVPublicKey",
    "CVRequest",
    "Signer",
    "ecdsa_signer",
    "rsa_signer",
    "verify_signature",
]

Signer = Callable[[bytes], bytes]
"""``sign(tbs) -> signature``: plain r ‖ s for ECDSA, the RSA signature bytes for RSA."""

_ID_TA = "0.4.0.127.0.7.2.2.2"
TA_ALGORITHMS: dict[str, tuple[str, str]] = {
    f"{_ID_TA}.1.1": ("RSA-v1_5", "sha1"),
    f"{_ID_TA}.1.2": ("RSA-v1_5", "sha256"),
    f"{_ID_TA}.1.3": ("RSA-PSS", "sha1"),
    f"{_ID_TA}.1.4": ("RSA-PSS", "sha256"),
    f"{_ID_TA}.1.5": ("RSA-v1_5", "sha512"),
    f"{_ID_TA}.1.6": ("RSA-PSS", "sha512"),
    f"{_ID_TA}.2.1": ("ECDSA", "sha1"),
    f"{_ID_TA}.2.2": ("ECDSA", "sha224"),
    f"{_ID_TA}.2.3": ("ECDSA", "sha256"),
    f"{_ID_TA}.2.4": ("ECDSA", "sha384"),
    f"{_ID_TA}.2.5": ("ECDSA", "sha512"),
}
"""id-TA-RSA-* and id-TA-ECDSA-* (TR-03110-3 A.2.1.2 / A.6.2): (scheme, hash)."""

VerifyKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


def _oid_bytes(dotted: str) -> bytes:
    return bytes(core.ObjectIdentifier(dotted).contents)


def _oid_dotted(contents: bytes, offset: int) -> str:
    try:
        return str(core.ObjectIdentifier.load(tlv.encode(0x06, contents)).dotted)
    except Exception:  # asn1crypto raises ValueError/TypeError on bad contents
        raise DecodeError("object identifier does not decode", offset=offset) from None


def _date(value: bytes, offset: int) -> datetime.date:
    if len(value) != 6 or any(b > 9 for b in value):
        raise DecodeError("date must be six unpacked BCD digits", offset=offset)
    try:
        return datetime.date(2000 + value[0] * 10 + value[1], value[2] * 10 + value[3],
                             value[4] * 10 + value[5])  # fmt: skip
    except ValueError:
        raise DecodeError("impossible date", offset=offset) from None


def _encode_date(d: datetime.date) -> bytes:
    if not 2000 <= d.year <= 2099:
        raise EncodeError("CV certificate dates must be in 2000-2099")
    return bytes(int(c) for c in d.strftime("%y%m%d"))


def _text(value: bytes) -> str:
    return value.decode("latin-1")


@dataclass(frozen=True, slots=True)
class CVPublicKey:
    """DO'7F49': algorithm OID and the numbered DOs (81-87 EC, 81-82 RSA; TR-03110-3 D.3)."""

    oid: str
    fields: tuple[tuple[int, bytes], ...]

    def __post_init__(self) -> None:
        if self.oid not in TA_ALGORITHMS:
            raise DecodeError(f"unknown public key algorithm {self.oid}")

    def get(self, tag: int) -> bytes | None:
        for t, v in self.fields:
            if t == tag:
                return v
        return None

    @property
    def scheme(self) -> str:
        return TA_ALGORITHMS[self.oid][0]

    @property
    def hash_name(self) -> str:
        return TA_ALGORITHMS[self.oid][1]

    @property
    def is_ec(self) -> bool:
        return self.scheme == "ECDSA"

    @property
    def has_domain_parameters(self) -> bool:
        return self.is_ec and self.get(0x84) is not None

    def curve(self) -> ec.EllipticCurve:
        g = self.get(0x84)
        if g is None:
            raise DecodeError("public key without domain parameters")
        return curve_from_generator(g)

    def to_cryptography(self, domain: CVPublicKey | None = None) -> VerifyKey:
        """A ``cryptography`` key; EC keys without parameters take them from ``domain``."""
        if not self.is_ec:
            n, e = self.get(0x81), self.get(0x82)
            if n is None or e is None:
                raise DecodeError("RSA public key needs DOs 81 and 82")
            return rsa.RSAPublicNumbers(int.from_bytes(e, "big"),
                                        int.from_bytes(n, "big")).public_key()  # fmt: skip
        point = self.get(0x86)
        if point is None:
            raise DecodeError("EC public key without its point (DO'86')")
        source = self if self.has_domain_parameters else domain
        if source is None:
            raise DecodeError("EC public key without domain parameters and no issuer's")
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(source.curve(), point)
        except ValueError:
            raise DecodeError("EC public point is not on the curve") from None

    @classmethod
    def from_key(cls, key: VerifyKey, oid: str, *, domain_parameters: bool = False) -> CVPublicKey:
        """From a ``cryptography`` public key; CVCA keys carry their domain parameters."""
        if isinstance(key, ec.EllipticCurvePublicKey):
            point = key.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
            dos = domain_fields(key.curve) if domain_parameters else []
            dos = [d for d in dos if d[0] < 0x86] + [(0x86, point)] + [
                d for d in dos if d[0] > 0x86
            ]
            out = cls(oid, tuple(dos))
        else:
            nums = key.public_numbers()
            n = nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")
            e = nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big")
            out = cls(oid, ((0x81, n), (0x82, e)))
        if out.is_ec != isinstance(key, ec.EllipticCurvePublicKey):
            raise EncodeError(f"algorithm {oid} does not match the key type")
        return out

    def encode(self) -> bytes:
        body = tlv.encode(0x06, _oid_bytes(self.oid))
        body += b"".join(tlv.encode(t, v) for t, v in self.fields)
        return tlv.encode(0x7F49, body)

    @classmethod
    def decode_value(cls, value: bytes, *, base_offset: int = 0) -> CVPublicKey:
        items = tlv.decode_all(value, base_offset=base_offset)
        if not items or items[0].tag != 0x06:
            raise DecodeError("public key must start with its OID", offset=base_offset)
        oid = _oid_dotted(items[0].value, items[0].offset)
        fields = tuple((i.tag, i.value) for i in items[1:])
        if any(not 0x81 <= t <= 0x87 for t, _ in fields):
            raise DecodeError("unexpected data object in public key", offset=base_offset)
        return cls(oid, fields)


def verify_signature(key: CVPublicKey, tbs: bytes, signature: bytes,
                     domain: CVPublicKey | None = None) -> bool:  # fmt: skip
    """Check ``signature`` over ``tbs`` with ``key`` (id-TA-* scheme of the key's OID)."""
    pub = key.to_cryptography(domain)
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return ecdsa_verify_plain(pub, signature, tbs, key.hash_name)
    algorithm = HASH_ALGORITHMS[key.hash_name]()
    try:
        if key.scheme == "RSA-PSS":
            pss = padding.PSS(padding.MGF1(algorithm), padding.PSS.AUTO)
            pub.verify(signature, tbs, pss, algorithm)
        else:
            pub.verify(signature, tbs, padding.PKCS1v15(), algorithm)
    except (InvalidSignature, ValueError):
        return False
    return True


def ecdsa_signer(key: ec.EllipticCurvePrivateKey, hash_name: str = "sha256") -> Signer:
    """A :data:`Signer` giving plain r ‖ s (BSI TR-03111) from a ``cryptography`` key."""
    if hash_name not in HASH_ALGORITHMS:  # fail here, not at the first signature
        raise KeyError(hash_name)

    def sign(tbs: bytes) -> bytes:
        return ecdsa_sign_plain(key, tbs, hash_name)

    return sign


def rsa_signer(key: rsa.RSAPrivateKey, hash_name: str = "sha256", *, pss: bool = False) -> Signer:
    """A :data:`Signer` for id-TA-RSA-v1-5-* or (``pss``) id-TA-RSA-PSS-*."""
    algorithm = HASH_ALGORITHMS[hash_name]

    def sign(tbs: bytes) -> bytes:
        pad: padding.AsymmetricPadding = (
            padding.PSS(padding.MGF1(algorithm()), padding.PSS.DIGEST_LENGTH)
            if pss else padding.PKCS1v15()
        )  # fmt: skip
        return key.sign(tbs, pad, algorithm())

    return sign


@dataclass(frozen=True, slots=True)
class CVCertificateBody:
    """The certificate body (DO'7F4E'): every field of TR-03110-3 Table C.1."""

    car: str
    public_key: CVPublicKey
    chr: str
    chat: CHAT
    effective_date: datetime.date
    expiration_date: datetime.date
    extensions: bytes | None = None
    """The value of DO'65' as is (certificate extensions, TR-03110-3 §C.3), or None."""
    profile_identifier: int = 0

    def __post_init__(self) -> None:
        if self.expiration_date < self.effective_date:
            raise EncodeError("expiration date before effective date")
        for name in ("car", "chr"):
            value = getattr(self, name)
            if not 0 < len(value) <= 16:
                raise EncodeError(f"{name.upper()} must be 1-16 characters")

    def encode(self) -> bytes:
        parts = [
            tlv.encode(0x5F29, bytes([self.profile_identifier])),
            tlv.encode(0x42, self.car.encode("latin-1")),
            self.public_key.encode(),
            tlv.encode(0x5F20, self.chr.encode("latin-1")),
            self.chat.encode(),
            tlv.encode(0x5F25, _encode_date(self.effective_date)),
            tlv.encode(0x5F24, _encode_date(self.expiration_date)),
        ]
        if self.extensions is not None:
            parts.append(tlv.encode(0x65, self.extensions))
        return tlv.encode(0x7F4E, parts)

    def sign(self, signer: Signer) -> CVCertificate:
        """The certificate: ``signer`` gets the encoded body (the TBS bytes)."""
        tbs = self.encode()
        signature = signer(tbs)
        raw = tlv.encode(0x7F21, tbs + tlv.encode(0x5F37, signature))
        return CVCertificate(self, signature, raw)

    @classmethod
    def decode_tlv(cls, body: tlv.TLV) -> CVCertificateBody:
        items = body.children()
        where = "certificate body"

        def need(tag: int) -> tlv.TLV:
            return tlv.require(items, tag, where, offset=body.offset)

        order = [i.tag for i in items]
        expected = [0x5F29, 0x42, 0x7F49, 0x5F20, 0x7F4C, 0x5F25, 0x5F24]
        if order[:7] != expected or order[7:] not in ([], [0x65]):
            raise DecodeError("certificate body fields missing or out of order", offset=body.offset)
        profile = need(0x5F29)
        if len(profile.value) != 1:
            raise DecodeError("profile identifier must be one byte", offset=profile.offset)
        pk = need(0x7F49)
        chat = need(0x7F4C)
        ext = tlv.find(items, 0x65)
        eff, exp = need(0x5F25), need(0x5F24)
        try:
            return cls(
                car=_text(need(0x42).value),
                public_key=CVPublicKey.decode_value(pk.value, base_offset=pk.value_offset),
                chr=_text(need(0x5F20).value),
                chat=CHAT.decode_value(chat.value, base_offset=chat.value_offset),
                effective_date=_date(eff.value, eff.offset),
                expiration_date=_date(exp.value, exp.offset),
                extensions=ext.value if ext is not None else None,
                profile_identifier=profile.value[0],
            )
        except EncodeError as exc:
            raise DecodeError(str(exc), offset=body.offset) from None


@dataclass(frozen=True, slots=True)
class CVCertificate:
    """A CV certificate (DO'7F21'); ``raw`` holds the exact bytes it was decoded from."""

    body: CVCertificateBody
    signature: bytes
    raw: bytes = field(default=b"", repr=False, compare=False)

    @property
    def tbs(self) -> bytes:
        """The encoded body as signed (from ``raw`` when decoded)."""
        if self.raw:
            outer = tlv.decode_one(self.raw, expected_tag=0x7F21, allow_padding=False)
            _body, end = tlv.read_tlv(outer.value, 0)
            return outer.value[:end]
        return self.body.encode()

    @property
    def car(self) -> str:
        return self.body.car

    @property
    def chr(self) -> str:
        return self.body.chr

    @property
    def chat(self) -> CHAT:
        return self.body.chat

    @property
    def public_key(self) -> CVPublicKey:
        return self.body.public_key

    @property
    def signature_body(self) -> bytes:
        """Body ‖ signature DO, the data of PSO:Verify Certificate (TR-03110-3 §B.11.5)."""
        return self.tbs + tlv.encode(0x5F37, self.signature)

    def encode(self) -> bytes:
        return self.raw or tlv.encode(0x7F21, self.signature_body)

    @classmethod
    def decode(cls, data: bytes) -> CVCertificate:
        outer = tlv.decode_one(data, expected_tag=0x7F21, allow_padding=True)
        return cls.decode_tlv(outer, data[: outer.value_offset + len(outer.value)])

    @classmethod
    def decode_body_and_signature(cls, data: bytes) -> CVCertificate:
        """From the PSO:Verify Certificate data (7F4E body ‖ 5F37 signature)."""
        return cls.decode(tlv.encode(0x7F21, data))

    @classmethod
    def decode_tlv(cls, outer: tlv.TLV, raw: bytes) -> CVCertificate:
        items = outer.children()
        if [i.tag for i in items] != [0x7F4E, 0x5F37]:
            raise DecodeError("certificate needs 7F4E then 5F37", offset=outer.offset)
        body = CVCertificateBody.decode_tlv(items[0])
        return cls(body, items[1].value, bytes(raw))

    def verify(self, issuer_key: CVPublicKey, domain: CVPublicKey | None = None) -> bool:
        """Whether the signature verifies with the issuer's key (and domain parameters)."""
        return verify_signature(issuer_key, self.tbs, self.signature, domain)


@dataclass(frozen=True, slots=True)
class CVRequest:
    """A certificate request (TR-03110-3 §C.2): inner self-signed 7F21, optional 67 wrapper."""

    public_key: CVPublicKey
    chr: str
    inner_signature: bytes
    car: str | None = None
    extensions: bytes | None = None
    outer_car: str | None = None
    outer_signature: bytes | None = None
    profile_identifier: int = 0
    raw: bytes = field(default=b"", repr=False, compare=False)

    def _body(self) -> bytes:
        parts = [tlv.encode(0x5F29, bytes([self.profile_identifier]))]
        if self.car is not None:
            parts.append(tlv.encode(0x42, self.car.encode("latin-1")))
        parts += [self.public_key.encode(), tlv.encode(0x5F20, self.chr.encode("latin-1"))]
        if self.extensions is not None:
            parts.append(tlv.encode(0x65, self.extensions))
        return tlv.encode(0x7F4E, parts)

    @property
    def inner(self) -> bytes:
        return tlv.encode(0x7F21, self._body() + tlv.encode(0x5F37, self.inner_signature))

    @classmethod
    def create(
        cls, public_key: CVPublicKey, chr: str, sign: Signer, *, car: str | None = None,
        extensions: bytes | None = None, outer_car: str | None = None,
        outer_sign: Signer | None = None,
    ) -> CVRequest:  # fmt: skip
        """Self-sign with the new key (``sign``); authenticate with the current key
        (``outer_sign``, under ``outer_car``) when given."""
        draft = cls(public_key, chr, b"", car, extensions)
        req = cls(public_key, chr, sign(draft._body()), car, extensions)
        if outer_sign is None:
            return req
        if outer_car is None:
            raise EncodeError("an authenticated request needs the outer CAR")
        signed = req.inner + tlv.encode(0x42, outer_car.encode("latin-1"))
        return cls(public_key, chr, req.inner_signature, car, extensions, outer_car,
                   outer_sign(signed))  # fmt: skip

    def encode(self) -> bytes:
        if self.raw:
            return self.raw
        if self.outer_signature is None or self.outer_car is None:
            return self.inner
        return tlv.encode(0x67, self.inner + tlv.encode(0x42, self.outer_car.encode("latin-1"))
                          + tlv.encode(0x5F37, self.outer_signature))  # fmt: skip

    def verify_inner(self) -> bool:
        """The self-signature, with the requested key itself."""
        return verify_signature(self.public_key, self._body(), self.inner_signature)

    def verify_outer(self, key: CVPublicKey, domain: CVPublicKey | None = None) -> bool:
        if self.outer_signature is None or self.outer_car is None:
            return False
        signed = self.inner + tlv.encode(0x42, self.outer_car.encode("latin-1"))
        return verify_signature(key, signed, self.outer_signature, domain)

    @classmethod
    def decode(cls, data: bytes) -> CVRequest:
        top = tlv.decode_one(data, allow_padding=False)
        outer_car = outer_sig = None
        inner = top
        if top.tag == 0x67:
            items = top.children()
            if [i.tag for i in items] != [0x7F21, 0x42, 0x5F37]:
                raise DecodeError("authenticated request needs 7F21, 42, 5F37", offset=0)
            inner, outer_car, outer_sig = items[0], _text(items[1].value), items[2].value
        elif top.tag != 0x7F21:
            raise DecodeError(f"not a certificate request (tag {top.tag:X})", offset=0)
        parts = inner.children()
        if [i.tag for i in parts] != [0x7F4E, 0x5F37]:
            raise DecodeError("request needs 7F4E then 5F37", offset=inner.offset)
        body = parts[0].children()
        tags = [i.tag for i in body]
        allowed = ([0x5F29], [0x42], [0x7F49], [0x5F20], [0x65])
        pos = 0
        for options in allowed:
            if pos < len(tags) and tags[pos] in options:
                pos += 1
            elif options[0] in (0x5F29, 0x7F49, 0x5F20):
                raise DecodeError("request body field missing or out of order",
                                  offset=parts[0].offset)  # fmt: skip
        if pos != len(tags):
            raise DecodeError("unexpected field in request body", offset=parts[0].offset)
        pk = tlv.require(body, 0x7F49, "request")
        car = tlv.find(body, 0x42)
        ext = tlv.find(body, 0x65)
        profile = tlv.require(body, 0x5F29, "request").value
        if len(profile) != 1:
            raise DecodeError("profile identifier must be one byte", offset=parts[0].offset)
        return cls(
            CVPublicKey.decode_value(pk.value, base_offset=pk.value_offset),
            _text(tlv.require(body, 0x5F20, "request").value),
            parts[1].value,
            _text(car.value) if car is not None else None,
            ext.value if ext is not None else None,
            outer_car,
            outer_sig,
            profile[0],
            bytes(data[: top.value_offset + len(top.value)]),
        )
