"""DG13, optional details (ICAO Doc 9303-10 §4.7.13), and the other data groups kept as bytes.

Doc 9303 leaves DG13 to the issuer; DG6 is reserved and DG8–DG10 (security features) have no
structure we interpret, so all of them keep their value as bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from idcard import tlv

__all__ = ["DG6", "DG8", "DG9", "DG10", "DG13"]


@dataclass(frozen=True, slots=True)
class DG13:
    """DG13: the issuer-defined value of the ``6D`` template, as bytes (Doc 9303-10 §4.7.13)."""

    TAG: ClassVar[int] = 0x6D
    NAME: ClassVar[str] = "DG13"

    content: bytes = b""
    raw: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def decode(cls, data: bytes) -> Self:
        outer = tlv.decode_one(data, expected_tag=cls.TAG)
        return cls(outer.value, raw=bytes(data))

    def encode(self) -> bytes:
        return tlv.encode(self.TAG, self.content)

    def to_json(self) -> dict[str, Any]:
        return {
            "length": len(self.content),
            "sha256": hashlib.sha256(self.content).hexdigest(),
            "content": self.content.hex().upper() if len(self.content) <= 256 else None,
        }


@dataclass(frozen=True, slots=True)
class DG6(DG13):
    """DG6, reserved for future use (Doc 9303-10 §4.7.6): kept as bytes."""

    TAG: ClassVar[int] = 0x66
    NAME: ClassVar[str] = "DG6"


@dataclass(frozen=True, slots=True)
class DG8(DG13):
    """DG8, encoded data features (Doc 9303-10 §4.7.8): kept as bytes."""

    TAG: ClassVar[int] = 0x68
    NAME: ClassVar[str] = "DG8"


@dataclass(frozen=True, slots=True)
class DG9(DG13):
    """DG9, encoded structure features (Doc 9303-10 §4.7.9): kept as bytes."""

    TAG: ClassVar[int] = 0x69
    NAME: ClassVar[str] = "DG9"


@dataclass(frozen=True, slots=True)
class DG10(DG13):
    """DG10, encoded substance features (Doc 9303-10 §4.7.10): kept as bytes."""

    TAG: ClassVar[int] = 0x6A
    NAME: ClassVar[str] = "DG10"
