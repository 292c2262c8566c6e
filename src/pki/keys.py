"""The `Signer` boundary: keys that sign, wherever they live (STYLE.md §5).

Builders produce the bytes to be signed (a TBS certificate, a TBS CRL, CMS signed attributes); a
:class:`Signer` returns the signature. Implementations: :class:`SoftwareSigner` (a key in memory,
from the file key store :mod:`pki.filestore`), :class:`pki.hsm.HSMKey` (a PKCS#11 token),
:class:`pki.card_signer.CardSigner` (the ID card); they share :class:`SignerBase` (and, for devices
that sign a host-computed hash, :class:`TokenSigner`).

Signatures are returned in the form X.509 and CMS carry them: ECDSA as the DER ``Ecdsa-Sig-Value``
(RFC 5480 §2.2), RSA as the octet string. PKCS#11 tokens and BSI TR-03111 CV certificates use the
plain ``r ‖ s`` form; :func:`ecdsa_raw_to_der` / :func:`ecdsa_der_to_raw` are the one place the
two are converted.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from enum import Enum
from typing import Literal, Protocol, TypeAlias, runtime_checkable

from asn1crypto import algos, core
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

from idcard.crypto_ec import explicit_public_key_info
from pki.errors import KeyStoreError

__all__ = [
    "CURVES",
    "HashName",
    "KeySpec",
    "KeyStore",
    "PrivateKey",
    "PublicKey",
    "SignatureAlgorithm",
    "SignatureScheme",
    "Signer",
    "SignerBase",
    "ExplicitParametersKey",
    "ExplicitParametersSigner",
    "SoftwareSigner",
    "TokenSigner",
    "default_algorithm",
    "ecdsa_der_to_raw",
    "ecdsa_raw_to_der",
    "generate_private_key",
    "key_spec_of",
    "verify_signature",
]

HashName = Literal["sha1", "sha224", "sha256", "sha384", "sha512"]
PublicKey: TypeAlias = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


@dataclass(frozen=True, slots=True)
class _Curve:
    name: str
    oid: str
    curve: type[ec.EllipticCurve]
    bits: int


CURVES: dict[str, _Curve] = {
    c.name: c
    for c in (
        _Curve("secp256r1", "1.2.840.10045.3.1.7", ec.SECP256R1, 256),
        _Curve("secp384r1", "1.3.132.0.34", ec.SECP384R1, 384),
        _Curve("secp521r1", "1.3.132.0.35", ec.SECP521R1, 521),
        _Curve("brainpoolP256r1", "1.3.36.3.3.2.8.1.1.7", ec.BrainpoolP256R1, 256),
        _Curve("brainpoolP384r1", "1.3.36.3.3.2.8.1.1.11", ec.BrainpoolP384R1, 384),
        _Curve("brainpoolP512r1", "1.3.36.3.3.2.8.1.1.13", ec.BrainpoolP512R1, 512),
    )
}
"""Curves allowed for document PKI keys (ICAO 9303-12 §5 / BSI TR-03111 §4.1), by name."""

_CURVE_ALIASES = {
    "p256": "secp256r1",
    "p384": "secp384r1",
    "p521": "secp521r1",
    "brainpoolp256r1": "brainpoolP256r1",
    "brainpoolp384r1": "brainpoolP384r1",
    "brainpoolp512r1": "brainpoolP512r1",
    "bp256": "brainpoolP256r1",
    "bp384": "brainpoolP384r1",
    "bp512": "brainpoolP512r1",
}
_RSA_SIZES = (2048, 3072, 4096)


@dataclass(frozen=True, slots=True)
class KeySpec:
    """The type of a key pair: ``ec`` on a named curve, or ``rsa`` with a modulus size in bits.

    Text form (CLI ``--key-type``): ``ec-p256``, ``ec-p384``, ``ec-p521``, ``ec-brainpoolP256r1``,
    ``ec-brainpoolP384r1``, ``ec-brainpoolP512r1``, ``rsa-2048``, ``rsa-3072``, ``rsa-4096``.
    """

    kind: Literal["ec", "rsa"]
    curve: str | None = None
    bits: int = 0

    def __post_init__(self) -> None:
        if self.kind == "ec":
            if self.curve not in CURVES:
                raise KeyStoreError(f"unsupported curve {self.curve!r}")
            object.__setattr__(self, "bits", CURVES[self.curve].bits)
        elif self.kind == "rsa":
            if self.bits not in _RSA_SIZES:
                raise KeyStoreError(f"unsupported RSA size {self.bits}; use 2048, 3072 or 4096")
        else:
            raise KeyStoreError(f"unsupported key kind {self.kind!r}")

    @classmethod
    def parse(cls, text: str) -> KeySpec:
        """Parse the text form; an unknown one raises :class:`KeyStoreError`."""
        m = re.fullmatch(r"(ec|rsa)-([A-Za-z0-9]+)", text.strip())
        if m is None:
            raise KeyStoreError(f"unsupported key type {text!r} (e.g. ec-p256, rsa-3072)")
        kind, rest = m.group(1), m.group(2)
        if kind == "rsa":
            if not rest.isdigit():
                raise KeyStoreError(f"unsupported key type {text!r}")
            return cls("rsa", bits=int(rest))
        name = _CURVE_ALIASES.get(rest.lower(), rest)
        return cls("ec", curve=name)

    def __str__(self) -> str:
        if self.kind == "rsa":
            return f"rsa-{self.bits}"
        short = {"secp256r1": "p256", "secp384r1": "p384", "secp521r1": "p521"}
        return f"ec-{short.get(self.curve or '', self.curve)}"

    @property
    def curve_oid(self) -> str:
        """Dotted OID of the named curve (``CKA_EC_PARAMS`` is its DER)."""
        if self.curve is None:
            raise KeyStoreError("an RSA key has no curve")
        return CURVES[self.curve].oid


def generate_private_key(spec: KeySpec) -> PrivateKey:
    """A new software key pair of ``spec`` (RSA public exponent 65537)."""
    if spec.kind == "ec":
        assert spec.curve is not None
        return ec.generate_private_key(CURVES[spec.curve].curve())
    return rsa.generate_private_key(public_exponent=65537, key_size=spec.bits)


def key_spec_of(key: PublicKey | PrivateKey) -> KeySpec:
    """The :class:`KeySpec` of a cryptography key; unsupported curves raise KeyStoreError."""
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        for c in CURVES.values():
            if isinstance(key.curve, c.curve):
                return KeySpec("ec", curve=c.name)
        raise KeyStoreError(f"unsupported curve {key.curve.name!r}")
    return KeySpec("rsa", bits=key.key_size)


class SignatureScheme(Enum):
    """The three signature schemes of ICAO 9303-12 §5 (ECDSA, RSASSA-PSS, RSASSA-PKCS1-v1_5)."""

    ECDSA = "ecdsa"
    RSA_PSS = "rsa-pss"
    RSA_PKCS1V15 = "rsa-pkcs1v15"


@dataclass(frozen=True, slots=True)
class SignatureAlgorithm:
    """A signature scheme with its hash; for PSS the salt length (default: the hash length).

    PSS uses MGF1 with the same hash and trailer field 1 (RFC 4055 §3.1), as 9303-12 §5 requires.
    """

    scheme: SignatureScheme
    hash_name: HashName = "sha256"
    salt_length: int | None = None

    def __post_init__(self) -> None:
        if self.hash_name not in _HASHES:
            raise KeyStoreError(f"unsupported hash {self.hash_name!r}")
        if self.salt_length is not None and self.scheme is not SignatureScheme.RSA_PSS:
            raise KeyStoreError("a salt length only applies to RSA-PSS")

    @classmethod
    def ecdsa(cls, hash_name: HashName = "sha256") -> SignatureAlgorithm:
        return cls(SignatureScheme.ECDSA, hash_name)

    @classmethod
    def rsa_pss(cls, hash_name: HashName = "sha256") -> SignatureAlgorithm:
        return cls(SignatureScheme.RSA_PSS, hash_name)

    @classmethod
    def rsa_pkcs1v15(cls, hash_name: HashName = "sha256") -> SignatureAlgorithm:
        return cls(SignatureScheme.RSA_PKCS1V15, hash_name)

    @property
    def hash_algorithm(self) -> hashes.HashAlgorithm:
        return _HASHES[self.hash_name]()

    @property
    def digest_size(self) -> int:
        return self.hash_algorithm.digest_size

    @property
    def effective_salt_length(self) -> int:
        return self.digest_size if self.salt_length is None else self.salt_length

    def digest(self, data: bytes) -> bytes:
        """The hash of ``data`` with this algorithm's hash function."""
        return hashlib.new(self.hash_name, data).digest()

    def digest_info(self, digest: bytes) -> bytes:
        """DER ``DigestInfo`` (RFC 8017 §9.2) for PKCS#1 v1.5 signing of a precomputed hash."""
        return bytes(
            algos.DigestInfo(
                {"digest_algorithm": {"algorithm": self.hash_name}, "digest": digest}
            ).dump()
        )

    def signed_digest_algorithm(self) -> algos.SignedDigestAlgorithm:
        """The AlgorithmIdentifier for X.509 / CRL / CMS ``signature`` fields.

        ECDSA: ``ecdsa-with-SHA*`` without parameters (RFC 5758 §3.2); PKCS#1 v1.5:
        ``sha*WithRSAEncryption`` with NULL parameters (RFC 4055 §5); PSS: ``id-RSASSA-PSS`` with
        explicit RSASSA-PSS-params (RFC 4055 §3.1).
        """
        if self.scheme is SignatureScheme.ECDSA:
            return algos.SignedDigestAlgorithm({"algorithm": f"{self.hash_name}_ecdsa"})
        if self.scheme is SignatureScheme.RSA_PKCS1V15:
            return algos.SignedDigestAlgorithm(
                {"algorithm": f"{self.hash_name}_rsa", "parameters": core.Null()}
            )
        return algos.SignedDigestAlgorithm(
            {
                "algorithm": "rsassa_pss",
                "parameters": algos.RSASSAPSSParams(
                    {
                        "hash_algorithm": {"algorithm": self.hash_name},
                        "mask_gen_algorithm": {
                            "algorithm": "mgf1",
                            "parameters": {"algorithm": self.hash_name},
                        },
                        "salt_length": self.effective_salt_length,
                    }
                ),
            }
        )

    @classmethod
    def from_signed_digest_algorithm(cls, alg: algos.SignedDigestAlgorithm) -> SignatureAlgorithm:
        """The inverse of :meth:`signed_digest_algorithm` (also for foreign CMS / X.509)."""
        try:
            name = alg["algorithm"].native
            if name == "rsassa_pss":
                params = alg["parameters"]
                h = params["hash_algorithm"]["algorithm"].native
                return cls(SignatureScheme.RSA_PSS, h, int(params["salt_length"].native))
            sig = alg.signature_algo
            h = alg.hash_algo
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyStoreError(f"unsupported signature algorithm: {exc}") from None
        if h not in _HASHES:
            raise KeyStoreError(f"unsupported hash {h!r}")
        if sig == "ecdsa":
            return cls(SignatureScheme.ECDSA, h)
        if sig == "rsassa_pkcs1v15":
            return cls(SignatureScheme.RSA_PKCS1V15, h)
        raise KeyStoreError(f"unsupported signature algorithm {name!r}")

    def rsa_padding(self) -> padding.AsymmetricPadding:
        if self.scheme is SignatureScheme.RSA_PSS:
            return padding.PSS(
                mgf=padding.MGF1(self.hash_algorithm), salt_length=self.effective_salt_length
            )
        if self.scheme is SignatureScheme.RSA_PKCS1V15:
            return padding.PKCS1v15()
        raise KeyStoreError("ECDSA has no RSA padding")

    def check_key(self, spec: KeySpec) -> None:
        """Raise KeyStoreError when this algorithm cannot be used with a key of ``spec``."""
        is_ec = self.scheme is SignatureScheme.ECDSA
        if is_ec != (spec.kind == "ec"):
            raise KeyStoreError(f"{self.scheme.value} cannot sign with a {spec} key")


def default_algorithm(spec: KeySpec) -> SignatureAlgorithm:
    """The usual algorithm for a key: ECDSA with the hash matching the curve size, RSA-PSS/SHA-256.

    9303-12 §5 recommends RSASSA-PSS over PKCS#1 v1.5 for new RSA keys.
    """
    if spec.kind == "rsa":
        return SignatureAlgorithm.rsa_pss("sha256")
    if spec.bits <= 256:
        return SignatureAlgorithm.ecdsa("sha256")
    if spec.bits <= 384:
        return SignatureAlgorithm.ecdsa("sha384")
    return SignatureAlgorithm.ecdsa("sha512")


def ecdsa_raw_to_der(raw: bytes) -> bytes:
    """Plain ``r ‖ s`` (PKCS#11 CKM_ECDSA, BSI TR-03111 §5.2.1) to DER ``Ecdsa-Sig-Value``."""
    if not raw or len(raw) % 2:
        raise KeyStoreError(f"a plain ECDSA signature has an even length, got {len(raw)}")
    half = len(raw) // 2
    return encode_dss_signature(
        int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
    )


def ecdsa_der_to_raw(der: bytes, field_bytes: int) -> bytes:
    """DER ``Ecdsa-Sig-Value`` to plain ``r ‖ s``, each ``field_bytes`` long (curve size)."""
    try:
        r, s = decode_dss_signature(der)
    except ValueError:
        raise KeyStoreError("not a DER ECDSA signature") from None
    if max(r.bit_length(), s.bit_length()) > 8 * field_bytes:
        raise KeyStoreError("ECDSA signature component larger than the curve")
    return r.to_bytes(field_bytes, "big") + s.to_bytes(field_bytes, "big")


def verify_signature(
    public_key: PublicKey, signature: bytes, data: bytes, algorithm: SignatureAlgorithm
) -> bool:
    """True when ``signature`` (X.509/CMS form) over ``data`` verifies; False when it does not."""
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            if algorithm.scheme is not SignatureScheme.ECDSA:
                return False
            public_key.verify(signature, data, ec.ECDSA(algorithm.hash_algorithm))
        else:
            if algorithm.scheme is SignatureScheme.ECDSA:
                return False
            public_key.verify(signature, data, algorithm.rsa_padding(), algorithm.hash_algorithm)
    except (InvalidSignature, ValueError):
        return False
    return True


@runtime_checkable
class Signer(Protocol):
    """Anything that signs with one private key (STYLE.md §5).

    ``sign`` hashes ``data`` with the algorithm's hash and returns the signature in X.509/CMS form
    (DER for ECDSA). ``algorithm`` is the key's default algorithm; ``label`` names the key
    (no secret). The private key never leaves the implementation.
    """

    @property
    def label(self) -> str: ...

    @property
    def algorithm(self) -> SignatureAlgorithm: ...

    @property
    def key_spec(self) -> KeySpec: ...

    def public_key(self) -> PublicKey: ...

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes: ...


class KeyStore(Protocol):
    """Where keys are made and found: :class:`pki.filestore.FileKeyStore`, an open
    :class:`pki.hsm.HSMSession`. Unknown labels raise KeyStoreError."""

    def generate(self, label: str, spec: KeySpec) -> Signer: ...

    def load(self, label: str) -> Signer: ...

    def labels(self) -> list[str]: ...


class SignerBase:
    """The part every :class:`Signer` implementation shares (STYLE.md §5).

    Holds the label, the public key, its :class:`KeySpec` and the default algorithm (checked
    against the key). :meth:`sign` checks the algorithm against the key, hashes ``data`` on the
    host and hands the digest to :meth:`_sign_digest`, which each key store implements.
    """

    __slots__ = ("_algorithm", "_label", "_public", "_spec")

    def __init__(
        self, public: PublicKey, label: str = "", algorithm: SignatureAlgorithm | None = None
    ) -> None:
        self._label = label
        self._public = public
        self._spec = key_spec_of(public)
        self._algorithm = algorithm or default_algorithm(self._spec)
        self._algorithm.check_key(self._spec)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(label={self._label!r}, key={self._spec})"

    @property
    def label(self) -> str:
        return self._label

    @property
    def algorithm(self) -> SignatureAlgorithm:
        return self._algorithm

    @property
    def key_spec(self) -> KeySpec:
        return self._spec

    def public_key(self) -> PublicKey:
        return self._public

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        """The signature over ``data`` in X.509/CMS form (DER for ECDSA)."""
        algorithm.check_key(self._spec)
        return self._sign_digest(algorithm.digest(data), algorithm)

    def _sign_digest(self, digest: bytes, algorithm: SignatureAlgorithm) -> bytes:
        raise NotImplementedError


class TokenSigner(SignerBase):
    """A key on a device that signs a hash computed on the host: a PKCS#11 token, the ID card.

    The device is given the digest, or for RSA PKCS#1 v1.5 its ``DigestInfo`` (RFC 8017 §9.2),
    and returns ECDSA signatures as plain ``r ‖ s`` (PKCS#11 CKM_ECDSA, BSI TR-03111 §5.2.1),
    converted here to DER. Implementations provide :meth:`_sign_on_device`.
    """

    __slots__ = ()

    def _sign_digest(self, digest: bytes, algorithm: SignatureAlgorithm) -> bytes:
        payload = (
            algorithm.digest_info(digest)
            if algorithm.scheme is SignatureScheme.RSA_PKCS1V15
            else digest
        )
        signature = self._sign_on_device(payload, algorithm)
        if algorithm.scheme is SignatureScheme.ECDSA:
            return ecdsa_raw_to_der(signature)
        return signature

    def _sign_on_device(self, payload: bytes, algorithm: SignatureAlgorithm) -> bytes:
        raise NotImplementedError


class SoftwareSigner(SignerBase):
    """A :class:`Signer` over a cryptography private key held in memory (file key store)."""

    __slots__ = ("_key",)

    def __init__(
        self, key: PrivateKey, label: str = "", algorithm: SignatureAlgorithm | None = None
    ) -> None:
        self._key = key
        super().__init__(key.public_key(), label, algorithm)

    def _sign_digest(self, digest: bytes, algorithm: SignatureAlgorithm) -> bytes:
        pre = Prehashed(algorithm.hash_algorithm)
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(digest, ec.ECDSA(pre))
        return self._key.sign(digest, algorithm.rsa_padding(), pre)


class ExplicitParametersKey(ec.EllipticCurvePublicKey):
    """An EC public key written with explicit domain parameters (RFC 3279 §2.3.5), as Germany's
    CSCA and DS keys are (issue 17): its SubjectPublicKeyInfo spells out p, a, b, G, n, h of its
    named curve (:func:`idcard.crypto_ec.explicit_public_key_info`); everything else is the
    wrapped key's. Pass it where a CA takes a public key to issue such a certificate."""

    def __init__(self, key: ec.EllipticCurvePublicKey) -> None:
        self._key = key

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._key.curve

    @property
    def key_size(self) -> int:
        return self._key.key_size

    def public_numbers(self) -> ec.EllipticCurvePublicNumbers:
        return self._key.public_numbers()

    def public_bytes(
        self, encoding: serialization.Encoding, format: serialization.PublicFormat
    ) -> bytes:
        if format is not serialization.PublicFormat.SubjectPublicKeyInfo:
            return self._key.public_bytes(encoding, format)
        point = self._key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        der = explicit_public_key_info(self._key.curve.name, point)
        if encoding is serialization.Encoding.DER:
            return der
        if encoding is serialization.Encoding.PEM:
            lines = base64.encodebytes(der).decode()
            return f"-----BEGIN PUBLIC KEY-----\n{lines}-----END PUBLIC KEY-----\n".encode()
        raise ValueError(f"encoding {encoding} is not available for SubjectPublicKeyInfo")

    def verify(
        self,
        signature: bytes | bytearray | memoryview,
        data: bytes | bytearray | memoryview,
        signature_algorithm: ec.EllipticCurveSignatureAlgorithm,
    ) -> None:
        self._key.verify(signature, data, signature_algorithm)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ExplicitParametersKey):
            other = other._key
        return isinstance(other, ec.EllipticCurvePublicKey) and other == self._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __copy__(self) -> ExplicitParametersKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> ExplicitParametersKey:
        return self


class ExplicitParametersSigner:
    """A :class:`Signer` whose :meth:`public_key` is written with explicit domain parameters
    (:class:`ExplicitParametersKey`): a CSCA created with it carries them, as Germany's does.
    Signing is the wrapped signer's."""

    def __init__(self, signer: Signer) -> None:
        public = signer.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise KeyStoreError("explicit domain parameters need an EC key")
        self._signer = signer
        self._public = ExplicitParametersKey(public)

    @property
    def label(self) -> str:
        return self._signer.label

    @property
    def algorithm(self) -> SignatureAlgorithm:
        return self._signer.algorithm

    @property
    def key_spec(self) -> KeySpec:
        return self._signer.key_spec

    def public_key(self) -> PublicKey:
        return self._public

    def sign(self, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
        return self._signer.sign(data, algorithm)
