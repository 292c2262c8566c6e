"""DG4, encoded irises (ICAO Doc 9303-10 §4.7.4): CBEFF group; the ISO/IEC 19794-6 records are
kept as bytes (not interpreted)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

from idcard.lds.biometric import BiometricTemplate, decode_group, encode_group

__all__ = ["DG4"]


@dataclass(frozen=True, slots=True)
class DG4:
    """DG4, encoded iris(es) (Doc 9303-10 §4.7.4): headers and raw data blocks."""

    TAG: ClassVar[int] = 0x76
    NAME: ClassVar[str] = "DG4"

    templates: tuple[BiometricTemplate, ...]
    raw: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def decode(cls, data: bytes) -> DG4:
        templates = tuple(t for t, _ in decode_group(data, cls.TAG, cls.NAME))
        return cls(templates, raw=bytes(data))

    def encode(self) -> bytes:
        return encode_group(self.TAG, self.templates)

    def to_json(self) -> dict[str, Any]:
        return {
            "irises": [
                {
                    "header": t.header.to_json(),
                    "length": len(t.data),
                    "sha256": hashlib.sha256(t.data).hexdigest(),
                }
                for t in self.templates
            ]
        }
