"""DG2, the encoded face (ICAO Doc 9303-10 §4.7.2): CBEFF group of face image records.

Each instance's data block is an ISO/IEC 19794-5 record ('FAC\\0', in ``5F2E``) or, in newer
documents, an ISO/IEC 39794-5 block (``7F2E { A1 { 65 … } }``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from idcard.errors import DecodeError
from idcard.lds.biometric import (
    BIOMETRIC_TYPE_FACE,
    FORMAT_OWNER_ISO,
    FORMAT_TYPE_FACE_19794,
    FORMAT_TYPE_FACE_39794,
    BiometricHeader,
    BiometricTemplate,
    decode_group,
    encode_group,
)
from idcard.lds.face import FaceImageDataBlock, FaceImageRecord

__all__ = ["DG2", "FaceBiometric"]


@dataclass(frozen=True, slots=True)
class FaceBiometric:
    """One DG2 instance: its CBEFF header and its face record (19794-5 or 39794-5)."""

    header: BiometricHeader
    record: FaceImageRecord | FaceImageDataBlock

    def template(self) -> BiometricTemplate:
        tag = 0x7F2E if isinstance(self.record, FaceImageDataBlock) else 0x5F2E
        return BiometricTemplate(self.header, self.record.encode(), tag)

    @property
    def images(self) -> tuple[bytes, ...]:
        if isinstance(self.record, FaceImageRecord):
            return tuple(i.image for i in self.record.images)
        return self.record.images

    def to_json(self) -> dict[str, Any]:
        return {"header": self.header.to_json(), "record": self.record.to_json()}


def _face_header(format_type: int) -> BiometricHeader:
    return BiometricHeader(
        FORMAT_OWNER_ISO, format_type, biometric_type=BIOMETRIC_TYPE_FACE, biometric_subtype=0
    )


@dataclass(frozen=True, slots=True)
class DG2:
    """DG2, encoded face(s) (Doc 9303-10 §4.7.2)."""

    TAG: ClassVar[int] = 0x75
    NAME: ClassVar[str] = "DG2"

    faces: tuple[FaceBiometric, ...]
    raw: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def decode(cls, data: bytes) -> DG2:
        faces = []
        for template, offset in decode_group(data, cls.TAG, cls.NAME):
            record: FaceImageRecord | FaceImageDataBlock
            if template.data_tag == 0x7F2E or template.data.startswith(b"\xa1"):
                record = FaceImageDataBlock.decode(template.data, base_offset=offset)
            elif template.data.startswith(FaceImageRecord.FORMAT):
                record = FaceImageRecord.decode(template.data, base_offset=offset)
            else:
                raise DecodeError("DG2: data block is neither 19794-5 nor 39794-5", offset=offset)
            faces.append(FaceBiometric(template.header, record))
        return cls(tuple(faces), raw=bytes(data))

    def encode(self) -> bytes:
        return encode_group(self.TAG, [f.template() for f in self.faces])

    @classmethod
    def from_image(
        cls, image: bytes, *, width: int | None = None, height: int | None = None, **fields: Any
    ) -> DG2:
        """DG2 with one 19794-5 portrait (JPEG or JPEG 2000; size read from the image unless
        given); ``fields`` set other :class:`~idcard.lds.face.FaceImage` values."""
        record = FaceImageRecord.from_image(image, width=width, height=height, **fields)
        return cls((FaceBiometric(_face_header(FORMAT_TYPE_FACE_19794), record),))

    @classmethod
    def from_image_39794(
        cls,
        image: bytes,
        *,
        image_data_format: int,
        width: int | None = None,
        height: int | None = None,
    ) -> DG2:
        """DG2 with one ISO/IEC 39794-5 block (minimal: image, format code, size)."""
        block = FaceImageDataBlock.build(
            image, image_data_format=image_data_format, width=width, height=height
        )
        return cls((FaceBiometric(_face_header(FORMAT_TYPE_FACE_39794), block),))

    @property
    def images(self) -> tuple[bytes, ...]:
        """Every portrait image (JPEG / JPEG 2000 bytes), in order."""
        return tuple(i for f in self.faces for i in f.images)

    def to_json(self) -> dict[str, Any]:
        return {"faces": [f.to_json() for f in self.faces]}
