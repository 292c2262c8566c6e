"""SecurityInfos of EF.CardAccess, EF.CardSecurity and DG14 as typed values.

ICAO Doc 9303-11 §9.2 and BSI TR-03110-3 A.1: a ``SET OF SecurityInfo`` whose members are
chosen by protocol OID. Every known kind has a frozen dataclass here; any other SecurityInfo is
kept whole as :class:`UnknownSecurityInfo`. :class:`SecurityInfos` is a set: its members are kept
in DER order (X.690 §11.6), so ``encode()`` is canonical DER and equality ignores file order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from asn1crypto import core

from idcard import tlv
from idcard.asn1 import oids
from idcard.asn1 import security_infos as asn1
from idcard.asn1.parse import algorithm_identifier_der, load_strict, split_algorithm_identifier
from idcard.errors import DecodeError, EncodeError
from idcard.lds.dg15 import PublicKey, load_public_key
from idcard.lds.sod import SignedDataMixin, load_signed_data

__all__ = [
    "ActiveAuthenticationInfo",
    "CardAccess",
    "CardInfoLocator",
    "CardSecurity",
    "ChipAuthenticationDomainParameterInfo",
    "ChipAuthenticationInfo",
    "ChipAuthenticationPublicKeyInfo",
    "DomainParameter",
    "FileID",
    "PACEDomainParameterInfo",
    "PACEInfo",
    "PrivilegedTerminalInfo",
    "RestrictedIdentificationDomainParameterInfo",
    "RestrictedIdentificationInfo",
    "SecurityInfo",
    "SecurityInfos",
    "TerminalAuthenticationInfo",
    "UnknownSecurityInfo",
]

_SET = 0x31
_SEQUENCE = 0x30


def _dump(value: core.Asn1Value, what: str) -> bytes:
    try:
        return bytes(value.dump())
    except Exception as exc:
        raise EncodeError(f"{what}: {exc}") from exc


def _optional_int(value: core.Asn1Value) -> int | None:
    return None if isinstance(value, core.Void) else int(value.native)


class _Info:
    """Shared behaviour of the typed SecurityInfo classes (each a frozen dataclass)."""

    __slots__ = ()
    protocol: str
    KIND: ClassVar[str]

    @property
    def protocol_name(self) -> str:
        """Specification name of the protocol OID (``id-PACE-ECDH-GM-AES-CBC-CMAC-128``)."""
        return oids.name(self.protocol)

    def to_asn1(self) -> core.Asn1Value:
        raise NotImplementedError

    def encode(self) -> bytes:
        """DER of this SecurityInfo."""
        return _dump(self.to_asn1(), self.KIND)

    def _json(self, **fields: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.KIND,
            "protocol": self.protocol,
            "protocol_name": self.protocol_name,
        }
        out.update({k: v for k, v in fields.items() if v is not None})
        return out


@dataclass(frozen=True, slots=True)
class FileID:
    """FileID (TR-03110-3 A.1.1.3): file identifier and optional short file identifier."""

    fid: bytes
    sfid: bytes | None = None

    def to_asn1(self) -> asn1.FileID:
        return asn1.FileID({"fid": self.fid, "sfid": self.sfid})

    @classmethod
    def from_asn1(cls, value: asn1.FileID) -> FileID:
        sfid = value["sfid"]
        return cls(bytes(value["fid"].native), None if isinstance(sfid, core.Void) else sfid.native)

    def to_json(self) -> dict[str, Any]:
        out = {"fid": self.fid.hex().upper()}
        if self.sfid is not None:
            out["sfid"] = self.sfid.hex().upper()
        return out


@dataclass(frozen=True, slots=True)
class DomainParameter:
    """AlgorithmIdentifier of domain parameters (9303-11 §9.2.2, TR-03110-3 A.2.1).

    ``parameters`` is the DER of the parameters (None when absent). The standardized form has
    algorithm ``standardizedDomainParameters`` and an INTEGER id (see :meth:`standardized`).
    """

    algorithm: str
    parameters: bytes | None = None

    @classmethod
    def standardized(cls, parameter_id: int) -> DomainParameter:
        """The standardized domain parameters ``parameter_id`` (9303-11 §9.5.1)."""
        return cls(oids.STANDARDIZED_DOMAIN_PARAMETERS_OID, core.Integer(parameter_id).dump())

    @property
    def parameter_id(self) -> int | None:
        """The standardized id, when the algorithm is standardizedDomainParameters."""
        if self.algorithm != oids.STANDARDIZED_DOMAIN_PARAMETERS_OID or self.parameters is None:
            return None
        try:
            return int(core.Integer.load(self.parameters, strict=True).native)
        except Exception:
            return None

    def to_asn1(self) -> asn1.AlgorithmIdentifier:
        try:
            der = algorithm_identifier_der(self.algorithm, self.parameters)
            if split_algorithm_identifier(der) != (self.algorithm, self.parameters):
                raise EncodeError("domain parameters do not round-trip")
        except (DecodeError, ValueError, TypeError) as exc:
            raise EncodeError(f"AlgorithmIdentifier: {exc}") from exc
        loaded: asn1.AlgorithmIdentifier = asn1.AlgorithmIdentifier.load(der)
        return loaded

    @classmethod
    def from_asn1(cls, value: asn1.AlgorithmIdentifier) -> DomainParameter:
        return cls(*split_algorithm_identifier(bytes(value.dump())))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "algorithm": self.algorithm,
            "algorithm_name": oids.name(self.algorithm),
        }
        pid = self.parameter_id
        if pid is not None:
            out["parameter_id"] = pid
            out["parameter_name"] = oids.domain_parameter_name(pid)
        elif self.parameters is not None:
            out["parameters"] = self.parameters.hex().upper()
        return out


@dataclass(frozen=True, slots=True)
class PACEInfo(_Info):
    """PACEInfo (9303-11 §9.2.1): a supported PACE protocol and its standardized parameters."""

    KIND: ClassVar[str] = "PACEInfo"
    protocol: str
    version: int = 2
    parameter_id: int | None = None

    def to_asn1(self) -> asn1.PACEInfo:
        return asn1.PACEInfo(
            {"protocol": self.protocol, "version": self.version, "parameter_id": self.parameter_id}
        )

    @classmethod
    def from_asn1(cls, value: asn1.PACEInfo) -> PACEInfo:
        return cls(
            value["protocol"].dotted, value["version"].native, _optional_int(value["parameter_id"])
        )

    def to_json(self) -> dict[str, Any]:
        name = None if self.parameter_id is None else oids.domain_parameter_name(self.parameter_id)
        return self._json(version=self.version, parameter_id=self.parameter_id, parameter_name=name)


@dataclass(frozen=True, slots=True)
class PACEDomainParameterInfo(_Info):
    """PACEDomainParameterInfo (9303-11 §9.2.2): explicit or proprietary PACE parameters."""

    KIND: ClassVar[str] = "PACEDomainParameterInfo"
    protocol: str
    domain_parameter: DomainParameter
    parameter_id: int | None = None

    def to_asn1(self) -> asn1.PACEDomainParameterInfo:
        return asn1.PACEDomainParameterInfo(
            {
                "protocol": self.protocol,
                "domain_parameter": self.domain_parameter.to_asn1(),
                "parameter_id": self.parameter_id,
            }
        )

    @classmethod
    def from_asn1(cls, value: asn1.PACEDomainParameterInfo) -> PACEDomainParameterInfo:
        return cls(
            value["protocol"].dotted,
            DomainParameter.from_asn1(value["domain_parameter"]),
            _optional_int(value["parameter_id"]),
        )

    def to_json(self) -> dict[str, Any]:
        return self._json(
            domain_parameter=self.domain_parameter.to_json(), parameter_id=self.parameter_id
        )


@dataclass(frozen=True, slots=True)
class ChipAuthenticationInfo(_Info):
    """ChipAuthenticationInfo (9303-11 §9.2.3, TR-03110-3 A.1.1.2): CA version and key id."""

    KIND: ClassVar[str] = "ChipAuthenticationInfo"
    protocol: str
    version: int = 1
    key_id: int | None = None

    def to_asn1(self) -> asn1.ChipAuthenticationInfo:
        return asn1.ChipAuthenticationInfo(
            {"protocol": self.protocol, "version": self.version, "key_id": self.key_id}
        )

    @classmethod
    def from_asn1(cls, value: asn1.ChipAuthenticationInfo) -> ChipAuthenticationInfo:
        return cls(
            value["protocol"].dotted, value["version"].native, _optional_int(value["key_id"])
        )

    def to_json(self) -> dict[str, Any]:
        return self._json(version=self.version, key_id=self.key_id)


@dataclass(frozen=True, slots=True)
class ChipAuthenticationDomainParameterInfo(_Info):
    """ChipAuthenticationDomainParameterInfo (TR-03110-3 A.1.1.2)."""

    KIND: ClassVar[str] = "ChipAuthenticationDomainParameterInfo"
    protocol: str
    domain_parameter: DomainParameter
    key_id: int | None = None

    def to_asn1(self) -> asn1.ChipAuthenticationDomainParameterInfo:
        return asn1.ChipAuthenticationDomainParameterInfo(
            {
                "protocol": self.protocol,
                "domain_parameter": self.domain_parameter.to_asn1(),
                "key_id": self.key_id,
            }
        )

    @classmethod
    def from_asn1(
        cls, value: asn1.ChipAuthenticationDomainParameterInfo
    ) -> ChipAuthenticationDomainParameterInfo:
        return cls(
            value["protocol"].dotted,
            DomainParameter.from_asn1(value["domain_parameter"]),
            _optional_int(value["key_id"]),
        )

    def to_json(self) -> dict[str, Any]:
        return self._json(domain_parameter=self.domain_parameter.to_json(), key_id=self.key_id)


@dataclass(frozen=True, slots=True)
class ChipAuthenticationPublicKeyInfo(_Info):
    """ChipAuthenticationPublicKeyInfo (9303-11 §9.2.4): the chip's static CA key.

    ``public_key_info`` is the DER SubjectPublicKeyInfo as stored (explicit curve parameters,
    ``standardizedDomainParameters`` or a named curve).
    """

    KIND: ClassVar[str] = "ChipAuthenticationPublicKeyInfo"
    protocol: str
    public_key_info: bytes
    key_id: int | None = None

    def to_asn1(self) -> asn1.ChipAuthenticationPublicKeyInfo:
        try:
            spki = asn1.SubjectPublicKeyInfo.load(self.public_key_info, strict=True)
        except Exception as exc:
            raise EncodeError(f"public_key_info is not DER: {exc}") from exc
        return asn1.ChipAuthenticationPublicKeyInfo(
            {
                "protocol": self.protocol,
                "chip_authentication_public_key": spki,
                "key_id": self.key_id,
            }
        )

    @classmethod
    def from_asn1(
        cls, value: asn1.ChipAuthenticationPublicKeyInfo
    ) -> ChipAuthenticationPublicKeyInfo:
        # Read the AlgorithmIdentifier now, so a bad one fails the decode and not later use.
        DomainParameter.from_asn1(value["chip_authentication_public_key"]["algorithm"])
        return cls(
            value["protocol"].dotted,
            bytes(value["chip_authentication_public_key"].dump()),
            _optional_int(value["key_id"]),
        )

    @property
    def domain_parameter(self) -> DomainParameter:
        """The key's AlgorithmIdentifier."""
        spki = asn1.SubjectPublicKeyInfo.load(self.public_key_info)
        return DomainParameter.from_asn1(spki["algorithm"])

    @property
    def public_point(self) -> bytes:
        """The subjectPublicKey bits (an encoded EC point, or a DER DH public value)."""
        spki = asn1.SubjectPublicKeyInfo.load(self.public_key_info)
        return bytes(spki["subject_public_key"].native)

    @property
    def public_key(self) -> PublicKey:
        """The key as a ``cryptography`` object; DecodeError when not representable."""
        return load_public_key(self.public_key_info)

    def to_json(self) -> dict[str, Any]:
        return self._json(
            key_id=self.key_id,
            domain_parameter=self.domain_parameter.to_json(),
            public_key=self.public_point.hex().upper(),
        )


@dataclass(frozen=True, slots=True)
class TerminalAuthenticationInfo(_Info):
    """TerminalAuthenticationInfo (9303-11 §9.2.5, TR-03110-3 A.1.1.3)."""

    KIND: ClassVar[str] = "TerminalAuthenticationInfo"
    protocol: str = oids.ID_TA
    version: int = 1
    ef_cvca: FileID | None = None

    def to_asn1(self) -> asn1.TerminalAuthenticationInfo:
        cvca = None if self.ef_cvca is None else self.ef_cvca.to_asn1()
        return asn1.TerminalAuthenticationInfo(
            {"protocol": self.protocol, "version": self.version, "ef_cvca": cvca}
        )

    @classmethod
    def from_asn1(cls, value: asn1.TerminalAuthenticationInfo) -> TerminalAuthenticationInfo:
        cvca = value["ef_cvca"]
        return cls(
            value["protocol"].dotted,
            value["version"].native,
            None if isinstance(cvca, core.Void) else FileID.from_asn1(cvca),
        )

    def to_json(self) -> dict[str, Any]:
        cvca = None if self.ef_cvca is None else self.ef_cvca.to_json()
        return self._json(version=self.version, ef_cvca=cvca)


@dataclass(frozen=True, slots=True)
class ActiveAuthenticationInfo(_Info):
    """ActiveAuthenticationInfo (9303-11 §9.2.6): the ECDSA signature algorithm of AA."""

    KIND: ClassVar[str] = "ActiveAuthenticationInfo"
    signature_algorithm: str
    protocol: str = oids.ID_AA
    version: int = 1

    def to_asn1(self) -> asn1.ActiveAuthenticationInfo:
        return asn1.ActiveAuthenticationInfo(
            {
                "protocol": self.protocol,
                "version": self.version,
                "signature_algorithm": self.signature_algorithm,
            }
        )

    @classmethod
    def from_asn1(cls, value: asn1.ActiveAuthenticationInfo) -> ActiveAuthenticationInfo:
        return cls(
            signature_algorithm=value["signature_algorithm"].dotted,
            protocol=value["protocol"].dotted,
            version=value["version"].native,
        )

    def to_json(self) -> dict[str, Any]:
        return self._json(
            version=self.version,
            signature_algorithm=self.signature_algorithm,
            signature_algorithm_name=oids.name(self.signature_algorithm),
        )


@dataclass(frozen=True, slots=True)
class CardInfoLocator(_Info):
    """CardInfoLocator (TR-03110-3 A.1.1.6): where the card's CardInfo can be found."""

    KIND: ClassVar[str] = "CardInfoLocator"
    url: str
    protocol: str = oids.ID_CI
    ef_card_info: FileID | None = None

    def to_asn1(self) -> asn1.CardInfoLocator:
        info = None if self.ef_card_info is None else self.ef_card_info.to_asn1()
        return asn1.CardInfoLocator(
            {"protocol": self.protocol, "url": self.url, "ef_card_info": info}
        )

    @classmethod
    def from_asn1(cls, value: asn1.CardInfoLocator) -> CardInfoLocator:
        info = value["ef_card_info"]
        return cls(
            url=value["url"].native,
            protocol=value["protocol"].dotted,
            ef_card_info=None if isinstance(info, core.Void) else FileID.from_asn1(info),
        )

    def to_json(self) -> dict[str, Any]:
        info = None if self.ef_card_info is None else self.ef_card_info.to_json()
        return self._json(url=self.url, ef_card_info=info)


@dataclass(frozen=True, slots=True)
class PrivilegedTerminalInfo(_Info):
    """PrivilegedTerminalInfo (TR-03110-3 A.1.1.7): SecurityInfos for privileged terminals."""

    KIND: ClassVar[str] = "PrivilegedTerminalInfo"
    security_infos: SecurityInfos
    protocol: str = oids.ID_PT

    def to_asn1(self) -> asn1.PrivilegedTerminalInfo:
        inner = asn1.SecurityInfos.load(self.security_infos.encode())
        return asn1.PrivilegedTerminalInfo(
            {"protocol": self.protocol, "privileged_terminal_infos": inner}
        )

    @classmethod
    def from_asn1(
        cls, value: asn1.PrivilegedTerminalInfo, offset: int = 0
    ) -> PrivilegedTerminalInfo:
        inner = bytes(value["privileged_terminal_infos"].dump())
        return cls(SecurityInfos.decode(inner, base_offset=offset), value["protocol"].dotted)

    def to_json(self) -> dict[str, Any]:
        return self._json(security_infos=self.security_infos.to_json())


@dataclass(frozen=True, slots=True)
class RestrictedIdentificationInfo(_Info):
    """RestrictedIdentificationInfo (TR-03110-3 A.1.1.5): one RI key of the chip."""

    KIND: ClassVar[str] = "RestrictedIdentificationInfo"
    protocol: str
    version: int = 1
    key_id: int = 1
    authorized_only: bool = False
    max_key_len: int | None = None

    def to_asn1(self) -> asn1.RestrictedIdentificationInfo:
        return asn1.RestrictedIdentificationInfo(
            {
                "protocol": self.protocol,
                "params": {
                    "version": self.version,
                    "key_id": self.key_id,
                    "authorized_only": self.authorized_only,
                },
                "max_key_len": self.max_key_len,
            }
        )

    @classmethod
    def from_asn1(cls, value: asn1.RestrictedIdentificationInfo) -> RestrictedIdentificationInfo:
        params = value["params"]
        return cls(
            value["protocol"].dotted,
            params["version"].native,
            params["key_id"].native,
            bool(params["authorized_only"].native),
            _optional_int(value["max_key_len"]),
        )

    def to_json(self) -> dict[str, Any]:
        return self._json(
            version=self.version,
            key_id=self.key_id,
            authorized_only=self.authorized_only,
            max_key_len=self.max_key_len,
        )


@dataclass(frozen=True, slots=True)
class RestrictedIdentificationDomainParameterInfo(_Info):
    """RestrictedIdentificationDomainParameterInfo (TR-03110-3 A.1.1.5)."""

    KIND: ClassVar[str] = "RestrictedIdentificationDomainParameterInfo"
    protocol: str
    domain_parameter: DomainParameter

    def to_asn1(self) -> asn1.RestrictedIdentificationDomainParameterInfo:
        return asn1.RestrictedIdentificationDomainParameterInfo(
            {"protocol": self.protocol, "domain_parameter": self.domain_parameter.to_asn1()}
        )

    @classmethod
    def from_asn1(
        cls, value: asn1.RestrictedIdentificationDomainParameterInfo
    ) -> RestrictedIdentificationDomainParameterInfo:
        return cls(value["protocol"].dotted, DomainParameter.from_asn1(value["domain_parameter"]))

    def to_json(self) -> dict[str, Any]:
        return self._json(domain_parameter=self.domain_parameter.to_json())


@dataclass(frozen=True, slots=True)
class UnknownSecurityInfo(_Info):
    """A SecurityInfo of a protocol this library does not model, kept as its DER bytes."""

    KIND: ClassVar[str] = "SecurityInfo"
    protocol: str
    der: bytes = field(repr=False)

    def encode(self) -> bytes:
        return self.der

    def to_json(self) -> dict[str, Any]:
        return self._json(der=self.der.hex().upper())


SecurityInfo = (
    PACEInfo
    | PACEDomainParameterInfo
    | ChipAuthenticationInfo
    | ChipAuthenticationDomainParameterInfo
    | ChipAuthenticationPublicKeyInfo
    | TerminalAuthenticationInfo
    | ActiveAuthenticationInfo
    | CardInfoLocator
    | PrivilegedTerminalInfo
    | RestrictedIdentificationInfo
    | RestrictedIdentificationDomainParameterInfo
    | UnknownSecurityInfo
)
"""Any one member of a SecurityInfos set."""

_PACE_FAMILIES = frozenset(
    {
        oids.ID_PACE_DH_GM,
        oids.ID_PACE_ECDH_GM,
        oids.ID_PACE_DH_IM,
        oids.ID_PACE_ECDH_IM,
        oids.ID_PACE_ECDH_CAM,
    }
)


def _decode_typed(protocol: str, der: bytes, offset: int) -> SecurityInfo:
    """The typed SecurityInfo for ``protocol`` (9303-11 §9.2 / TR-03110-3 A.1.1)."""
    if protocol in oids.PACE_PROTOCOLS:
        return PACEInfo.from_asn1(load_strict(asn1.PACEInfo, der, offset=offset))
    if protocol in _PACE_FAMILIES:
        return PACEDomainParameterInfo.from_asn1(
            load_strict(asn1.PACEDomainParameterInfo, der, offset=offset)
        )
    if protocol in oids.CA_PROTOCOLS:
        return ChipAuthenticationInfo.from_asn1(
            load_strict(asn1.ChipAuthenticationInfo, der, offset=offset)
        )
    if protocol in (oids.ID_CA_DH, oids.ID_CA_ECDH):
        return ChipAuthenticationDomainParameterInfo.from_asn1(
            load_strict(asn1.ChipAuthenticationDomainParameterInfo, der, offset=offset)
        )
    if protocol in (oids.ID_PK_DH, oids.ID_PK_ECDH):
        return ChipAuthenticationPublicKeyInfo.from_asn1(
            load_strict(asn1.ChipAuthenticationPublicKeyInfo, der, offset=offset)
        )
    if protocol == oids.ID_TA:
        return TerminalAuthenticationInfo.from_asn1(
            load_strict(asn1.TerminalAuthenticationInfo, der, offset=offset)
        )
    if protocol == oids.ID_AA:
        return ActiveAuthenticationInfo.from_asn1(
            load_strict(asn1.ActiveAuthenticationInfo, der, offset=offset)
        )
    if protocol == oids.ID_CI:
        return CardInfoLocator.from_asn1(load_strict(asn1.CardInfoLocator, der, offset=offset))
    if protocol == oids.ID_PT:
        return PrivilegedTerminalInfo.from_asn1(
            load_strict(asn1.PrivilegedTerminalInfo, der, offset=offset), offset
        )
    if protocol in oids.RI_PROTOCOLS:
        return RestrictedIdentificationInfo.from_asn1(
            load_strict(asn1.RestrictedIdentificationInfo, der, offset=offset)
        )
    if protocol in (oids.ID_RI_DH, oids.ID_RI_ECDH):
        return RestrictedIdentificationDomainParameterInfo.from_asn1(
            load_strict(asn1.RestrictedIdentificationDomainParameterInfo, der, offset=offset)
        )
    return UnknownSecurityInfo(protocol, der)


_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class SecurityInfos:
    """SecurityInfos ::= SET OF SecurityInfo (9303-11 §9.2), kept in DER order."""

    infos: tuple[SecurityInfo, ...] = ()

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.infos, key=lambda info: info.encode()))
        object.__setattr__(self, "infos", ordered)

    @classmethod
    def decode(cls, data: bytes, *, base_offset: int = 0) -> SecurityInfos:
        """Decode exactly one DER ``SET OF SecurityInfo`` (tag 31) filling ``data``."""
        data = bytes(data)
        outer, end = tlv.read_tlv(data, 0, base_offset=base_offset)
        if outer.tag != _SET:
            raise DecodeError(
                f"SecurityInfos must be a SET, found tag {outer.tag:X}", offset=base_offset
            )
        if end != len(data):
            raise DecodeError("bytes after SecurityInfos", offset=base_offset + end)
        return cls._decode_members(outer.value, outer.value_offset)

    @classmethod
    def _decode_members(cls, body: bytes, base: int) -> SecurityInfos:
        infos: list[SecurityInfo] = []
        pos = 0
        while pos < len(body):
            item, end = tlv.read_tlv(body, pos, base_offset=base)
            if item.tag != _SEQUENCE:
                raise DecodeError("SecurityInfo must be a SEQUENCE", offset=item.offset)
            der = body[pos:end]
            generic = load_strict(asn1.SecurityInfo, der, offset=item.offset)
            infos.append(_decode_typed(generic["protocol"].dotted, der, item.offset))
            pos = end
        return cls(tuple(infos))

    def encode(self) -> bytes:
        """Canonical DER: the members' encodings in ascending order (X.690 §11.6)."""
        return tlv.encode(_SET, [info.encode() for info in self.infos])

    def __iter__(self) -> Iterator[SecurityInfo]:
        return iter(self.infos)

    def __len__(self) -> int:
        return len(self.infos)

    def of_type(self, kind: type[_T]) -> tuple[_T, ...]:
        """The members of one class, e.g. ``infos.of_type(PACEInfo)``."""
        return tuple(info for info in self.infos if isinstance(info, kind))

    @property
    def pace_infos(self) -> tuple[PACEInfo, ...]:
        return self.of_type(PACEInfo)

    @property
    def chip_authentication_infos(self) -> tuple[ChipAuthenticationInfo, ...]:
        return self.of_type(ChipAuthenticationInfo)

    @property
    def chip_authentication_public_keys(self) -> tuple[ChipAuthenticationPublicKeyInfo, ...]:
        return self.of_type(ChipAuthenticationPublicKeyInfo)

    def to_json(self) -> list[dict[str, Any]]:
        return [info.to_json() for info in self.infos]


@dataclass(frozen=True, slots=True)
class CardAccess:
    """EF.CardAccess (9303-10 §3.11.3, 9303-11 §9.2): the unprotected SecurityInfos.

    The file is the SET itself (no outer application tag); trailing 00/FF padding is accepted.
    """

    NAME: ClassVar[str] = "EF.CardAccess"
    security_infos: SecurityInfos
    raw: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def decode(cls, data: bytes) -> CardAccess:
        data = bytes(data)
        outer = tlv.decode_one(data, expected_tag=_SET)
        infos = SecurityInfos._decode_members(outer.value, outer.value_offset)
        return cls(infos, raw=data)

    def encode(self) -> bytes:
        return self.security_infos.encode()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.NAME, "security_infos": self.security_infos.to_json()}


@dataclass(frozen=True, slots=True)
class CardSecurity(SignedDataMixin):
    """EF.CardSecurity (TR-03110-3 A.1.2.5): SecurityInfos signed by the document signer.

    A CMS ContentInfo (SignedData) with eContentType ``id-SecurityObject`` whose eContent is
    the DER SecurityInfos; no outer application tag.
    """

    NAME: ClassVar[str] = "EF.CardSecurity"
    CONTENT_TYPE: ClassVar[str] = oids.ID_SECURITY_OBJECT
    content_info: bytes
    """DER of the CMS ContentInfo, exactly as stored."""
    raw: bytes = field(default=b"", repr=False, compare=False)
    security_infos: SecurityInfos = field(init=False, compare=False)
    _content: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parsed = load_signed_data(self.content_info, self.CONTENT_TYPE, 0)
        object.__setattr__(self, "_content", parsed)
        econtent = self.encapsulated_content
        infos = SecurityInfos.decode(econtent, base_offset=0)
        object.__setattr__(self, "security_infos", infos)

    @classmethod
    def decode(cls, data: bytes) -> CardSecurity:
        data = bytes(data)
        outer = tlv.decode_one(data, expected_tag=_SEQUENCE)
        return cls(data[: outer.value_offset + len(outer.value)], raw=data)

    def encode(self) -> bytes:
        return self.content_info

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.NAME}
        out.update(self.signer_json())
        out["security_infos"] = self.security_infos.to_json()
        return out
