"""The EAC PKI: CVCA, Document Verifier and Inspection System CV certificates (BSI TR-03110-3).

Extended Access Control protects the fingerprints (DG3) and iris images (DG4) of a document: a
terminal proves with Terminal Authentication a chain of card verifiable certificates from the
country's CVCA (TR-03110-3 §2.2): the CVCA certificate (self-signed, carrying the EC domain
parameters), CVCA link certificates at key rollover, Document Verifier certificates (domestic or
foreign, §2.2.2) and Inspection System certificates. Every certificate holds a CHAT; the chip
grants the AND of the chain's CHATs (§2.7).

Keys live in any key store and sign through the :class:`~pki.keys.Signer` boundary;
:func:`cv_signer` turns one into the ``sign(tbs) -> signature`` callable of :mod:`idcard.cvc`,
converting ECDSA signatures to the plain ``r ‖ s`` form of BSI TR-03111 §5.2.1 in one place
(:func:`pki.keys.ecdsa_der_to_raw`). Below an EC CVCA all keys use the CVCA's curve: DV and IS
certificates carry only the public point and inherit the domain parameters (TR-03110-3 §D.3.3).

Holder references follow TR-03110-3 §A.6.1: country code (2) ‖ holder mnemonic (≤ 9) ‖
sequence number (5), e.g. ``UZCVCA00001``, ``UZDV00001``, ``UZIS00001``; :class:`EACState`
keeps the sequence numbers and the current certificates in a small JSON file.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from idcard.cvc import (
    CHAT,
    CVCertificate,
    CVCertificateBody,
    CVPublicKey,
    CVRequest,
    Role,
)
from idcard.cvc import Signer as CVSigner
from idcard.cvc.curves import DOMAINS
from idcard.errors import DecodeError, EncodeError
from pki.errors import IssuanceError, PKIError
from pki.filestore import write_atomic
from pki.keys import (
    KeySpec,
    KeyStore,
    PublicKey,
    SignatureAlgorithm,
    SignatureScheme,
    Signer,
    default_algorithm,
    ecdsa_der_to_raw,
    key_spec_of,
)

__all__ = [
    "CVCA_DAYS",
    "DV_DAYS",
    "IS_DAYS",
    "CVAuthority",
    "EACFolder",
    "EACState",
    "HolderReference",
    "check_cv_key_spec",
    "check_request",
    "create_cvca",
    "create_request",
    "cv_public_key",
    "cv_signer",
    "issue_dv",
    "issue_from_request",
    "issue_is",
    "issue_link",
    "load_certificate",
    "load_request",
    "ta_algorithm",
    "ta_algorithm_name",
]

CVCA_DAYS = 3 * 365
"""Default CVCA certificate validity (TR-03110-3 leaves it to the CVCA policy; 3 years is usual)."""
DV_DAYS = 90
"""Default DV certificate validity: short, since chips cannot check revocation (TR-03110-3 §2.5)."""
IS_DAYS = 30
"""Default Inspection System certificate validity."""

_ID_TA = "0.4.0.127.0.7.2.2.2"
_TA_OIDS: dict[tuple[SignatureScheme, str], str] = {
    (SignatureScheme.RSA_PKCS1V15, "sha1"): f"{_ID_TA}.1.1",
    (SignatureScheme.RSA_PKCS1V15, "sha256"): f"{_ID_TA}.1.2",
    (SignatureScheme.RSA_PSS, "sha1"): f"{_ID_TA}.1.3",
    (SignatureScheme.RSA_PSS, "sha256"): f"{_ID_TA}.1.4",
    (SignatureScheme.RSA_PKCS1V15, "sha512"): f"{_ID_TA}.1.5",
    (SignatureScheme.RSA_PSS, "sha512"): f"{_ID_TA}.1.6",
    (SignatureScheme.ECDSA, "sha1"): f"{_ID_TA}.2.1",
    (SignatureScheme.ECDSA, "sha224"): f"{_ID_TA}.2.2",
    (SignatureScheme.ECDSA, "sha256"): f"{_ID_TA}.2.3",
    (SignatureScheme.ECDSA, "sha384"): f"{_ID_TA}.2.4",
    (SignatureScheme.ECDSA, "sha512"): f"{_ID_TA}.2.5",
}
"""id-TA-RSA-* / id-TA-ECDSA-* of TR-03110-3 §A.6.2 by signature scheme and hash."""
_SCHEME_NAMES = {
    SignatureScheme.RSA_PKCS1V15: "RSA-v1-5",
    SignatureScheme.RSA_PSS: "RSA-PSS",
    SignatureScheme.ECDSA: "ECDSA",
}


def ta_algorithm(algorithm: SignatureAlgorithm) -> str:
    """The id-TA OID (TR-03110-3 §A.6.2) of a signature algorithm; IssuanceError if none."""
    if algorithm.scheme is SignatureScheme.RSA_PSS and algorithm.salt_length not in (
        None, algorithm.digest_size,
    ):  # fmt: skip
        raise IssuanceError("id-TA-RSA-PSS uses a salt as long as the hash")
    oid = _TA_OIDS.get((algorithm.scheme, algorithm.hash_name))
    if oid is None:
        raise IssuanceError(f"no Terminal Authentication algorithm for {algorithm.scheme.value} "
                            f"with {algorithm.hash_name}")  # fmt: skip
    return oid


def ta_algorithm_name(oid: str) -> str:
    """``id-TA-ECDSA-SHA-256`` and the like, for display; the dotted OID when unknown."""
    for (scheme, hash_name), known in _TA_OIDS.items():
        if known == oid:
            return f"id-TA-{_SCHEME_NAMES[scheme]}-{hash_name.upper().replace('SHA', 'SHA-')}"
    return oid


def check_cv_key_spec(spec: KeySpec) -> None:
    """Raise IssuanceError unless CV certificates can carry a key of ``spec``.

    A CVCA certificate writes the curve's domain parameters (TR-03110-3 §D.3.3); the curves
    whose parameters :mod:`idcard.cvc.curves` holds are NIST P-256 and brainpoolP256r1. Any
    RSA size works.
    """
    if spec.kind == "ec" and spec.curve not in DOMAINS:
        raise IssuanceError(f"CV certificates support the curves {', '.join(sorted(DOMAINS))} "
                            f"and RSA, not {spec}")  # fmt: skip


def cv_signer(signer: Signer, algorithm: SignatureAlgorithm | None = None) -> CVSigner:
    """The :data:`idcard.cvc.Signer` of ``signer``: ECDSA as plain ``r ‖ s`` (TR-03111 §5.2.1).

    ``algorithm`` defaults to the signer's own; it must be the one named by the key's id-TA OID
    in its certificate.
    """
    alg = algorithm or signer.algorithm
    field_bytes = (signer.key_spec.bits + 7) // 8

    def sign(tbs: bytes) -> bytes:
        signature = signer.sign(tbs, alg)
        if alg.scheme is SignatureScheme.ECDSA:
            return ecdsa_der_to_raw(signature, field_bytes)
        return signature

    return sign


def cv_public_key(
    key: PublicKey, algorithm: SignatureAlgorithm | None = None, *, domain_parameters: bool = False
) -> CVPublicKey:
    """DO'7F49' of ``key`` with the id-TA OID of ``algorithm`` (default: the key's usual one)."""
    spec = key_spec_of(key)
    check_cv_key_spec(spec)
    alg = algorithm or default_algorithm(spec)
    alg.check_key(spec)
    try:
        return CVPublicKey.from_key(key, ta_algorithm(alg), domain_parameters=domain_parameters)
    except EncodeError as exc:
        raise IssuanceError(str(exc)) from None


def _without_domain(key: CVPublicKey) -> CVPublicKey:
    """The key as a DV or IS certificate carries it: the point only (EC), or n and e (RSA)."""
    if not key.is_ec:
        return key
    return CVPublicKey(key.oid, tuple((t, v) for t, v in key.fields if t == 0x86))


def _same_key(cv: CVPublicKey, key: PublicKey) -> bool:
    try:
        mine = CVPublicKey.from_key(key, cv.oid)
    except (EncodeError, DecodeError):
        return False
    tags = (0x86,) if cv.is_ec else (0x81, 0x82)
    return all(mine.get(t) == cv.get(t) for t in tags)


def _curve_name(key: CVPublicKey, domain: CVPublicKey | None) -> str | None:
    if not key.is_ec:
        return None
    source = key if key.has_domain_parameters else domain
    if source is None:
        return None
    return source.curve().name


_ALNUM = re.compile(r"[A-Z0-9]+")


@dataclass(frozen=True, slots=True)
class HolderReference:
    """CAR/CHR of TR-03110-3 §A.6.1: country code, holder mnemonic, sequence number."""

    country: str
    mnemonic: str
    sequence: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Z]{2}", self.country):
            raise IssuanceError(f"country code {self.country!r} must be two letters A-Z")
        if not 1 <= len(self.mnemonic) <= 9 or not _ALNUM.fullmatch(self.mnemonic):
            raise IssuanceError(f"holder mnemonic {self.mnemonic!r} must be 1-9 of A-Z, 0-9")
        if len(self.sequence) != 5 or not _ALNUM.fullmatch(self.sequence):
            raise IssuanceError(f"sequence number {self.sequence!r} must be 5 of A-Z, 0-9")

    @classmethod
    def of(cls, country: str, mnemonic: str, number: int) -> HolderReference:
        """With a numeric sequence number 1-99999, zero-padded to five digits."""
        if not 0 < number <= 99999:
            raise IssuanceError(f"sequence number {number} outside 1-99999")
        return cls(country.upper(), mnemonic.upper(), f"{number:05d}")

    @classmethod
    def parse(cls, text: str) -> HolderReference:
        if not 8 <= len(text) <= 16:
            raise IssuanceError(f"holder reference {text!r} must be 8-16 characters")
        return cls(text[:2], text[2:-5], text[-5:])

    def __str__(self) -> str:
        return f"{self.country}{self.mnemonic}{self.sequence}"


def _today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


@dataclass(frozen=True, slots=True)
class CVAuthority:
    """A CVCA or DV that signs: its current certificate and the key behind it.

    ``domain`` is the CVCA public key holding the EC domain parameters (the certificate's own key
    for a CVCA); a DV needs it to check its own certificate and requests.
    """

    certificate: CVCertificate
    signer: Signer
    domain: CVPublicKey | None = None

    def __post_init__(self) -> None:
        if self.certificate.chat.role is Role.TERMINAL:
            raise IssuanceError(f"{self.certificate.chr} is a terminal; it issues nothing")
        if not _same_key(self.certificate.public_key, self.signer.public_key()):
            raise IssuanceError(f"key {self.signer.label!r} is not the key of "
                                f"{self.certificate.chr}")  # fmt: skip
        if self.domain is None and self.certificate.public_key.has_domain_parameters:
            object.__setattr__(self, "domain", self.certificate.public_key)

    @property
    def chr(self) -> str:
        return self.certificate.chr

    def _sign(self) -> CVSigner:
        return cv_signer(self.signer, _algorithm_of(self.certificate.public_key))

    def issue(
        self,
        public_key: CVPublicKey,
        chr: str | HolderReference,
        chat: CHAT,
        *,
        effective_date: datetime.date | None = None,
        validity_days: int,
        extensions: bytes | None = None,
    ) -> CVCertificate:
        """Sign a certificate for ``public_key`` (hazmat: no role or curve check; see
        :func:`issue_dv`, :func:`issue_is`, :func:`issue_from_request`)."""
        if validity_days < 1:
            raise IssuanceError("the validity must be at least one day")
        start = effective_date or _today()
        issuer = self.certificate.body
        if start > issuer.expiration_date:
            raise IssuanceError(f"{self.chr} expired on {issuer.expiration_date.isoformat()}")
        end = min(start + datetime.timedelta(days=validity_days), issuer.expiration_date)
        try:
            body = CVCertificateBody(
                car=self.chr, public_key=public_key, chr=str(chr), chat=chat,
                effective_date=start, expiration_date=end, extensions=extensions,
            )  # fmt: skip
            cert = body.sign(self._sign())
        except EncodeError as exc:
            raise IssuanceError(str(exc)) from None
        _check_signed(cert, self.certificate.public_key, self.domain)
        return cert


def _check_signed(cert: CVCertificate, issuer_key: CVPublicKey, domain: CVPublicKey | None) -> None:
    """Verify a certificate just signed: catches a wrong key or a bad r ‖ s conversion."""
    try:
        ok = cert.verify(issuer_key, domain)
    except DecodeError as exc:
        raise IssuanceError(f"cannot check the new certificate: {exc}") from None
    if not ok:
        raise IssuanceError(f"the signature on {cert.chr} does not verify with {cert.car}'s key")


def create_cvca(
    signer: Signer,
    chr: str | HolderReference,
    *,
    read_dg3: bool = True,
    read_dg4: bool = True,
    effective_date: datetime.date | None = None,
    validity_days: int = CVCA_DAYS,
) -> CVAuthority:
    """A self-signed CVCA certificate (CAR = CHR) with the domain parameters (TR-03110-3 §2.2.1)."""
    start = effective_date or _today()
    key = cv_public_key(signer.public_key(), signer.algorithm, domain_parameters=True)
    chat = CHAT.inspection_system(Role.CVCA, dg3=read_dg3, dg4=read_dg4)
    try:
        cert = CVCertificateBody(
            car=str(chr), public_key=key, chr=str(chr), chat=chat, effective_date=start,
            expiration_date=start + datetime.timedelta(days=validity_days),
        ).sign(cv_signer(signer))  # fmt: skip
    except EncodeError as exc:
        raise IssuanceError(str(exc)) from None
    _check_signed(cert, key, None)
    return CVAuthority(cert, signer)


def issue_link(
    cvca: CVAuthority,
    new_signer: Signer,
    chr: str | HolderReference,
    *,
    read_dg3: bool | None = None,
    read_dg4: bool | None = None,
    effective_date: datetime.date | None = None,
    validity_days: int = CVCA_DAYS,
) -> tuple[CVCertificate, CVAuthority]:
    """CVCA key rollover (TR-03110-3 §2.5.1): the link certificate (new key, signed by the old
    one, with the new domain parameters) and the new self-signed CVCA certificate.

    Chips holding the old CVCA accept the link certificate and take the new key as trust anchor.
    The rights default to the old CVCA's.
    """
    if cvca.certificate.chat.role is not Role.CVCA:
        raise IssuanceError(f"{cvca.chr} is not a CVCA")
    old = cvca.certificate.chat
    dg3 = old.read_dg3 if read_dg3 is None else read_dg3
    dg4 = old.read_dg4 if read_dg4 is None else read_dg4
    start = effective_date or _today()
    new = create_cvca(new_signer, chr, read_dg3=dg3, read_dg4=dg4, effective_date=start,
                      validity_days=validity_days)  # fmt: skip
    body = new.certificate.body
    try:
        link = CVCertificateBody(
            car=cvca.chr, public_key=body.public_key, chr=body.chr, chat=body.chat,
            effective_date=body.effective_date, expiration_date=body.expiration_date,
        ).sign(cvca._sign())  # fmt: skip
    except EncodeError as exc:
        raise IssuanceError(str(exc)) from None
    _check_signed(link, cvca.certificate.public_key, cvca.domain)
    return link, new


def _subject_key(issuer: CVAuthority, public_key: PublicKey,
                 algorithm: SignatureAlgorithm | None) -> CVPublicKey:  # fmt: skip
    key = cv_public_key(public_key, algorithm)
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        curve = _curve_name(issuer.certificate.public_key, issuer.domain)
        if curve != public_key.curve.name:
            raise IssuanceError(f"the key is on {public_key.curve.name}; below {issuer.chr} "
                                f"keys must be on {curve or 'an EC curve'}")  # fmt: skip
    elif issuer.certificate.public_key.is_ec:
        raise IssuanceError(f"an RSA key cannot be certified below the EC CVCA of {issuer.chr}")
    return key


def issue_dv(
    cvca: CVAuthority,
    public_key: PublicKey,
    chr: str | HolderReference,
    *,
    foreign: bool = False,
    read_dg3: bool = True,
    read_dg4: bool = True,
    algorithm: SignatureAlgorithm | None = None,
    effective_date: datetime.date | None = None,
    validity_days: int = DV_DAYS,
) -> CVCertificate:
    """A Document Verifier certificate: domestic (role 10) or foreign (role 01), TR-03110-3 §2.2.2.

    ``algorithm`` is the one the DV will sign with (default: its key's usual one).
    """
    if cvca.certificate.chat.role is not Role.CVCA:
        raise IssuanceError(f"{cvca.chr} is not a CVCA; only a CVCA issues DV certificates")
    role = Role.DV_FOREIGN if foreign else Role.DV_DOMESTIC
    chat = CHAT.inspection_system(role, dg3=read_dg3, dg4=read_dg4)
    return cvca.issue(_subject_key(cvca, public_key, algorithm), chr, chat,
                      effective_date=effective_date, validity_days=validity_days)  # fmt: skip


def issue_is(
    dv: CVAuthority,
    public_key: PublicKey,
    chr: str | HolderReference,
    *,
    read_dg3: bool = True,
    read_dg4: bool = True,
    algorithm: SignatureAlgorithm | None = None,
    effective_date: datetime.date | None = None,
    validity_days: int = IS_DAYS,
) -> CVCertificate:
    """An Inspection System certificate (id-IS, role 00) with DG3/DG4 read rights as chosen."""
    if dv.certificate.chat.role not in (Role.DV_DOMESTIC, Role.DV_FOREIGN):
        raise IssuanceError(f"{dv.chr} is not a DV; only a DV issues terminal certificates")
    chat = CHAT.inspection_system(Role.TERMINAL, dg3=read_dg3, dg4=read_dg4)
    return dv.issue(_subject_key(dv, public_key, algorithm), chr, chat,
                    effective_date=effective_date, validity_days=validity_days)  # fmt: skip


# -- certificate requests (TR-03110-3 §C.2) ----------------------------------------------------


def create_request(
    signer: Signer,
    chr: str | HolderReference,
    *,
    car: str | None = None,
    current: CVAuthority | tuple[CVCertificate, Signer] | None = None,
    algorithm: SignatureAlgorithm | None = None,
) -> CVRequest:
    """A request for a certificate of ``signer``'s key, self-signed with it.

    ``car`` names the CA expected to issue it (optional). When renewing, ``current`` is the
    requester's valid certificate and key: the request is then authenticated, i.e. wrapped in
    DO'67' with an outer signature by the current key (TR-03110-3 §C.2.2). EC keys carry their
    domain parameters so the inner signature can be checked without context.
    """
    key = cv_public_key(signer.public_key(), algorithm, domain_parameters=True)
    outer_car = outer_sign = None
    if current is not None:
        cert, key_signer = (
            (current.certificate, current.signer) if isinstance(current, CVAuthority) else current
        )
        if not _same_key(cert.public_key, key_signer.public_key()):
            raise IssuanceError(f"key {key_signer.label!r} is not the key of {cert.chr}")
        outer_car = cert.chr
        outer_sign = cv_signer(key_signer, _algorithm_of(cert.public_key))
    try:
        return CVRequest.create(key, str(chr), cv_signer(signer, algorithm), car=car,
                                outer_car=outer_car, outer_sign=outer_sign)  # fmt: skip
    except EncodeError as exc:
        raise IssuanceError(str(exc)) from None


def _algorithm_of(key: CVPublicKey) -> SignatureAlgorithm:
    for (scheme, hash_name), oid in _TA_OIDS.items():
        if oid == key.oid:
            return SignatureAlgorithm(scheme, hash_name)  # type: ignore[arg-type]
    raise IssuanceError(f"unsupported key algorithm {key.oid}")


def check_request(
    request: CVRequest,
    *,
    known: Mapping[str, CVCertificate] = {},
    domain: CVPublicKey | None = None,
    require_outer: bool = False,
) -> None:
    """Raise IssuanceError unless the request's signatures verify.

    The inner signature with the requested key itself; the outer one (when present, or when
    ``require_outer``) with the certificate named by its outer CAR, looked up in ``known``,
    EC parameters from ``domain``.
    """
    try:
        if not request.verify_inner():
            raise IssuanceError(f"the self-signature of the request for {request.chr} is wrong")
        if request.outer_car is None:
            if require_outer:
                raise IssuanceError(f"the request for {request.chr} is not authenticated")
            return
        signer_cert = known.get(request.outer_car)
        if signer_cert is None:
            raise IssuanceError(f"the request is authenticated by {request.outer_car}, "
                                f"an unknown certificate")  # fmt: skip
        if not request.verify_outer(signer_cert.public_key, domain):
            raise IssuanceError(f"the outer signature of the request for {request.chr} by "
                                f"{request.outer_car} is wrong")  # fmt: skip
    except DecodeError as exc:
        raise IssuanceError(f"the request for {request.chr} cannot be checked: {exc}") from None


def issue_from_request(
    issuer: CVAuthority,
    request: CVRequest,
    *,
    role: Role,
    read_dg3: bool = True,
    read_dg4: bool = True,
    known: Mapping[str, CVCertificate] = {},
    require_outer: bool = False,
    effective_date: datetime.date | None = None,
    validity_days: int | None = None,
) -> CVCertificate:
    """Check a request (:func:`check_request`) and certify its key under its CHR.

    A CVCA issues DV certificates (``role`` DV_DOMESTIC / DV_FOREIGN), a DV terminal ones
    (``role`` TERMINAL). The certificate carries the key without domain parameters, which must be
    the issuer's. A renewal names the requester's current certificate in its outer CAR
    (``known``); foreign DVs authenticate with their own CVCA's key.
    """
    check_request(request, known=known, domain=issuer.domain, require_outer=require_outer)
    issuer_role = issuer.certificate.chat.role
    if role is Role.TERMINAL:
        if issuer_role not in (Role.DV_DOMESTIC, Role.DV_FOREIGN):
            raise IssuanceError(f"{issuer.chr} is not a DV; it cannot issue terminal certificates")
        days = IS_DAYS if validity_days is None else validity_days
    elif role in (Role.DV_DOMESTIC, Role.DV_FOREIGN):
        if issuer_role is not Role.CVCA:
            raise IssuanceError(f"{issuer.chr} is not a CVCA; it cannot issue DV certificates")
        days = DV_DAYS if validity_days is None else validity_days
    else:
        raise IssuanceError("a request cannot make a CVCA certificate; use issue_link")
    if request.car is not None and request.car != issuer.chr:
        raise IssuanceError(f"the request is addressed to {request.car}, not {issuer.chr}")
    key = request.public_key
    try:
        requested_curve = _curve_name(key, None)
    except DecodeError as exc:
        raise IssuanceError(f"unusable key in the request: {exc}") from None
    issuer_curve = _curve_name(issuer.certificate.public_key, issuer.domain)
    if requested_curve != issuer_curve:
        raise IssuanceError(f"the requested key is on {requested_curve or 'no curve'}; "
                            f"{issuer.chr} needs {issuer_curve or 'RSA'}")  # fmt: skip
    chat = CHAT.inspection_system(role, dg3=read_dg3, dg4=read_dg4)
    return issuer.issue(_without_domain(key), request.chr, chat,
                        effective_date=effective_date, validity_days=days)  # fmt: skip


# -- the state file ---------------------------------------------------------------------------


class EACState:
    """``state.json`` of the EAC PKI: sequence numbers per holder mnemonic and the certificates.

    ``{"country": "UZ", "key_type": "ec-brainpoolP256r1", "sequences": {"CVCA": 1, "DV": 1,
    "IS": 1}, "cvca": "UZCVCA00001", "cvca_history": [...], "dv": [...], "is": [...],
    "links": [...]}``. No secret; written atomically by :meth:`save`.
    """

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    @classmethod
    def create(cls, path: Path, *, country: str, key_spec: KeySpec) -> EACState:
        check_cv_key_spec(key_spec)
        HolderReference.of(country, "X", 1)  # validates the country code
        return cls(path, {"country": country.upper(), "key_type": str(key_spec),
                          "sequences": {}, "cvca": None, "cvca_history": [], "dv": [],
                          "is": [], "links": []})  # fmt: skip

    @classmethod
    def load(cls, path: Path) -> EACState:
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise PKIError(f"no EAC PKI here ({path} is missing)") from None
        except (OSError, ValueError) as exc:
            raise PKIError(f"{path} is unreadable: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("sequences"), dict):
            raise PKIError(f"{path} is not an EAC state file")
        return cls(path, data)

    def save(self) -> None:
        text = json.dumps(self.data, indent=2, ensure_ascii=False) + "\n"
        write_atomic(self.path, text.encode("utf-8"))

    @property
    def country(self) -> str:
        return str(self.data["country"])

    @property
    def key_spec(self) -> KeySpec:
        return KeySpec.parse(str(self.data["key_type"]))

    def next_chr(self, mnemonic: str) -> HolderReference:
        """The next holder reference for ``mnemonic`` (counted here; persisted by save())."""
        sequences: dict[str, int] = self.data["sequences"]
        number = int(sequences.get(mnemonic, 0)) + 1
        ref = HolderReference.of(self.country, mnemonic, number)
        sequences[mnemonic] = number
        return ref

    def record(self, kind: str, chr: str) -> None:
        """Note a new certificate: ``kind`` is cvca, dv, is or links."""
        if kind == "cvca":
            self.data["cvca"] = chr
            self.data["cvca_history"].append(chr)
        else:
            self.data[kind].append(chr)

    @property
    def cvca(self) -> str:
        chr = self.data.get("cvca")
        if not chr:
            raise PKIError("this EAC PKI has no CVCA yet")
        return str(chr)

    def latest(self, kind: str) -> str:
        items = list(self.data.get(kind, []))
        if not items:
            raise PKIError(f"this EAC PKI has no {kind.upper()} certificate yet")
        return str(items[-1])


def load_request(path: Path) -> CVRequest:
    """A CV certificate request file; PKIError when it is missing or not one."""
    try:
        return CVRequest.decode(path.read_bytes())
    except OSError as exc:
        raise PKIError(f"cannot read {path}: {exc.strerror}") from None
    except DecodeError as exc:
        raise PKIError(f"{path} is not a CV certificate request: {exc}") from None


def load_certificate(path: Path) -> CVCertificate:
    """A CV certificate file (``.cvcert``, DER-TLV); PKIError when it is missing or not one."""
    try:
        return CVCertificate.decode(path.read_bytes())
    except OSError as exc:
        raise PKIError(f"cannot read {path}: {exc.strerror}") from None
    except DecodeError as exc:
        raise PKIError(f"{path} is not a CV certificate: {exc}") from None



class EACFolder:
    """The EAC PKI on disk: ``state.json`` and the certificates ``<CHR>.cvcert`` (link
    certificates ``link-<CAR>-<CHR>.cvcert``) in one folder. Keys are labelled with their CHR in
    whatever key store the caller passes."""

    def __init__(self, directory: Path, state: EACState) -> None:
        self.directory = directory
        self.state = state

    @classmethod
    def create(cls, directory: Path, *, country: str, key_spec: KeySpec) -> EACFolder:
        path = directory / "state.json"
        if path.exists():
            raise PKIError(f"{directory} already holds an EAC PKI ({path} exists)")
        return cls(directory, EACState.create(path, country=country, key_spec=key_spec))

    @classmethod
    def open(cls, directory: Path) -> EACFolder:
        return cls(directory, EACState.load(directory / "state.json"))

    def path(self, name: str) -> Path:
        return self.directory / f"{name}.cvcert"

    def certificate(self, chr: str) -> CVCertificate:
        return load_certificate(self.path(chr))

    def _write(self, name: str, cert: CVCertificate) -> None:
        write_atomic(self.path(name), cert.encode())

    def summary(self, cert: CVCertificate) -> dict[str, Any]:
        """What a command reports about a certificate written here."""
        name = cert.chr if cert.car == cert.chr or cert.chat.role is not Role.CVCA else (
            f"link-{cert.car}-{cert.chr}")  # fmt: skip
        return {"chr": cert.chr, "car": cert.car, "path": str(self.path(name)),
                "effective_date": cert.body.effective_date.isoformat(),
                "expiration_date": cert.body.expiration_date.isoformat(),
                "read_dg3": cert.chat.read_dg3, "read_dg4": cert.chat.read_dg4}  # fmt: skip

    def authority(self, store: KeyStore, chr: str) -> CVAuthority:
        """The CVCA or DV ``chr`` with its key from ``store`` (domain from the current CVCA)."""
        cert = self.certificate(chr)
        domain = None if cert.chat.role is Role.CVCA else self.certificate(
            self.state.cvca).public_key  # fmt: skip
        return CVAuthority(cert, store.load(chr), domain)

    def known(self) -> dict[str, CVCertificate]:
        """Every certificate here by CHR (to check the outer CAR of a renewal request)."""
        certs = (load_certificate(p) for p in sorted(self.directory.glob("*.cvcert"))
                 if not p.name.startswith("link-"))  # fmt: skip
        return {c.chr: c for c in certs}

    def _save(self, kind: str, cert: CVCertificate, name: str | None = None) -> CVCertificate:
        self._write(name or cert.chr, cert)
        self.state.record(kind, name or cert.chr)
        self.state.save()
        return cert

    def create_cvca(self, store: KeyStore, *, effective_date: datetime.date | None = None,
                    validity_days: int = CVCA_DAYS) -> CVCertificate:  # fmt: skip
        if self.state.data.get("cvca"):
            raise PKIError("this EAC PKI has a CVCA; roll it over with a link certificate")
        chr = str(self.state.next_chr("CVCA"))
        cvca = create_cvca(store.generate(chr, self.state.key_spec), chr,
                           effective_date=effective_date, validity_days=validity_days)  # fmt: skip
        return self._save("cvca", cvca.certificate)

    def link(self, store: KeyStore, *, effective_date: datetime.date | None = None,
             validity_days: int = CVCA_DAYS) -> tuple[CVCertificate, CVCertificate]:  # fmt: skip
        """CVCA rollover: (link certificate, new CVCA certificate)."""
        old = self.authority(store, self.state.cvca)
        chr = str(self.state.next_chr("CVCA"))
        link, new = issue_link(old, store.generate(chr, self.state.key_spec), chr,
                               effective_date=effective_date,
                               validity_days=validity_days)  # fmt: skip
        self._save("links", link, f"link-{old.chr}-{chr}")
        return link, self._save("cvca", new.certificate)

    def issue_dv(
        self, store: KeyStore, *, foreign: bool = False, read_dg3: bool = True,
        read_dg4: bool = True, validity_days: int = DV_DAYS,
        effective_date: datetime.date | None = None, request: CVRequest | None = None,
    ) -> CVCertificate:  # fmt: skip
        """A DV certificate from the current CVCA, for a new key in ``store`` or a request's
        key (recorded under ``dv_requests``: its key is not here)."""
        cvca = self.authority(store, self.state.cvca)
        if request is not None:
            role = Role.DV_FOREIGN if foreign else Role.DV_DOMESTIC
            cert = issue_from_request(cvca, request, role=role, read_dg3=read_dg3,
                                      read_dg4=read_dg4, known=self.known(),
                                      effective_date=effective_date,
                                      validity_days=validity_days)  # fmt: skip
            self.state.data.setdefault("dv_requests", [])
            return self._save("dv_requests", cert)
        chr = str(self.state.next_chr("DV"))
        cert = issue_dv(cvca, store.generate(chr, self.state.key_spec).public_key(), chr,
                        foreign=foreign, read_dg3=read_dg3, read_dg4=read_dg4,
                        effective_date=effective_date, validity_days=validity_days)  # fmt: skip
        return self._save("dv", cert)

    def issue_is(
        self, store: KeyStore, *, dv: str | None = None, read_dg3: bool = True,
        read_dg4: bool = True, validity_days: int = IS_DAYS,
        effective_date: datetime.date | None = None, request: CVRequest | None = None,
    ) -> CVCertificate:  # fmt: skip
        """An IS certificate from DV ``dv`` (default: the newest with its key in ``store``)."""
        issuer = self.authority(store, dv or self.state.latest("dv"))
        if request is not None:
            cert = issue_from_request(issuer, request, role=Role.TERMINAL, read_dg3=read_dg3,
                                      read_dg4=read_dg4, known=self.known(),
                                      effective_date=effective_date,
                                      validity_days=validity_days)  # fmt: skip
        else:
            chr = str(self.state.next_chr("IS"))
            cert = issue_is(issuer, store.generate(chr, self.state.key_spec).public_key(), chr,
                            read_dg3=read_dg3, read_dg4=read_dg4,
                            effective_date=effective_date,
                            validity_days=validity_days)  # fmt: skip
        return self._save("is", cert)
