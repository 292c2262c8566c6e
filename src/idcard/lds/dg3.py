"""DG3, encoded fingers (ICAO Doc 9303-10 §4.7.3): CBEFF group of ISO/IEC 19794-4 records.

DG3 is protected by Terminal Authentication (EAC, BSI TR-03110); reading it is not our concern
here, only its structure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from idcard.errors import DecodeError
from idcard.lds.biometric import (
    BIOMETRIC_TYPE_FINGER,
    FORMAT_OWNER_ISO,
    FORMAT_TYPE_FINGER_19794,
    BiometricHeader,
    BiometricTemplate,
    decode_group,
    encode_group,
)
from idcard.lds.finger import FingerImageRecord

__all__ = ["DG3", "FingerBiometric"]


@dataclass(frozen=True, slots=True)
class FingerBiometric:
    """One DG3 instance: its CBEFF header and its 19794-4 finger image record."""

    header: BiometricHeader
    record: FingerImageRecord

    def template(self) -> BiometricTemplate:
        return BiometricTemplate(self.header, self.record.encode())

    def to_json(self) -> dict[str, Any]:
        return {"header": self.header.to_json(), "record": self.record.to_json()}


@dataclass(frozen=True, slots=True)
class DG3:
    """DG3, encoded finger(s) (Doc 9303-10 §4.7.3)."""

    TAG: ClassVar[int] = 0x63
    NAME: ClassVar[str] = "DG3"

    fingers: tuple[FingerBiometric, ...]
    raw: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def decode(cls, data: bytes) -> DG3:
        out = []
        for template, offset in decode_group(data, cls.TAG, cls.NAME):
            if template.data_tag != 0x5F2E or not template.data.startswith(
                FingerImageRecord.FORMAT
            ):
                raise DecodeError("DG3: data block is not a 19794-4 record", offset=offset)
            record = FingerImageRecord.decode(template.data, base_offset=offset)
            out.append(FingerBiometric(template.header, record))
        return cls(tuple(out), raw=bytes(data))

    def encode(self) -> bytes:
        return encode_group(self.TAG, [f.template() for f in self.fingers])

    @classmethod
    def from_images(
        cls, images: dict[int, bytes] | list[tuple[int, bytes, int, int]], **fields: Any
    ) -> DG3:
        """DG3 with one instance per finger: ``{position: image}`` (PNG/JPEG/JPEG 2000) or
        ``[(position, image, width, height), …]`` (e.g. WSQ). Positions: 1 right thumb …
        10 left little finger (19794-4 Table 2)."""
        records = (
            [FingerImageRecord.from_images({p: i}, **fields) for p, i in images.items()]
            if isinstance(images, dict)
            else [FingerImageRecord.from_images([e], **fields) for e in images]
        )
        header = BiometricHeader(
            FORMAT_OWNER_ISO, FORMAT_TYPE_FINGER_19794, biometric_type=BIOMETRIC_TYPE_FINGER
        )
        instances = [FingerBiometric(header, r) for r in records]
        return cls(tuple(instances))

    @property
    def images(self) -> tuple[bytes, ...]:
        return tuple(f.image for b in self.fingers for f in b.record.fingers)

    def to_json(self) -> dict[str, Any]:
        return {"fingers": [f.to_json() for f in self.fingers]}
