"""DG14: the SecurityInfos for Chip Authentication and PACE (ICAO Doc 9303-10 §4.7.14).

DG14 (tag ``6E``) holds exactly one DER ``SecurityInfos`` (9303-11 §9.2): typically the
ChipAuthenticationPublicKeyInfo, ChipAuthenticationInfo and TerminalAuthenticationInfo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from idcard import tlv
from idcard.lds.security_infos import SecurityInfos

__all__ = ["DG14"]


@dataclass(frozen=True, slots=True)
class DG14:
    """Data group 14: SecurityInfos protected by passive authentication (9303-10 §4.7.14)."""

    TAG: ClassVar[int] = 0x6E
    NAME: ClassVar[str] = "DG14"
    security_infos: SecurityInfos
    raw: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def decode(cls, data: bytes) -> DG14:
        """Decode DG14 (tag 6E around one SET OF SecurityInfo); trailing 00/FF allowed."""
        data = bytes(data)
        outer = tlv.decode_one(data, expected_tag=cls.TAG)
        infos = SecurityInfos.decode(outer.value, base_offset=outer.value_offset)
        return cls(infos, raw=data)

    def encode(self) -> bytes:
        """Canonical DER: tag 6E around the SecurityInfos in DER (sorted) order."""
        return tlv.encode(self.TAG, self.security_infos.encode())

    def to_json(self) -> dict[str, Any]:
        return {"name": self.NAME, "security_infos": self.security_infos.to_json()}
