"""DG5 displayed portrait and DG7 displayed signature or usual mark (ICAO Doc 9303-10 §4.7.5,
§4.7.7).

Both are ``<tag> { 02 count, <image tag> image … }``: DG5 (``65``) holds ``5F40`` portraits, DG7
(``67``) ``5F43`` signature images, each the image file bytes (JPEG, JPEG 2000, …) as stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from idcard import tlv
from idcard.errors import DecodeError, EncodeError
from idcard.lds.dg11 import image_format, image_summary

__all__ = ["DG5", "DG7", "image_format"]


def _decode_images(data: bytes, tag: int, image_tag: int, where: str) -> tuple[bytes, ...]:
    outer = tlv.decode_one(data, expected_tag=tag)
    items = outer.children()
    if not items or items[0].tag != 0x02 or len(items[0].value) != 1:
        raise DecodeError(f"{where}: count (02) expected first", offset=outer.value_offset)
    images = []
    for item in items[1:]:
        if item.tag != image_tag:
            raise DecodeError(f"{where}: unexpected tag {item.tag:X}", offset=item.offset)
        images.append(item.value)
    if items[0].value[0] != len(images):
        raise DecodeError(
            f"{where}: count says {items[0].value[0]}, {len(images)} present",
            offset=items[0].value_offset,
        )
    return tuple(images)


def _encode_images(tag: int, image_tag: int, images: tuple[bytes, ...], where: str) -> bytes:
    if len(images) > 255:
        raise EncodeError(f"{where}: at most 255 images")
    body = tlv.encode(0x02, bytes([len(images)])) + b"".join(
        tlv.encode(image_tag, image) for image in images
    )
    return tlv.encode(tag, body)


@dataclass(frozen=True, slots=True)
class DG5:
    """DG5, displayed portrait(s) (Doc 9303-10 §4.7.5): image bytes of each ``5F40``."""

    TAG: ClassVar[int] = 0x65
    NAME: ClassVar[str] = "DG5"
    IMAGE_TAG: ClassVar[int] = 0x5F40

    images: tuple[bytes, ...] = ()
    raw: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def decode(cls, data: bytes) -> DG5:
        return cls(_decode_images(data, cls.TAG, cls.IMAGE_TAG, cls.NAME), raw=bytes(data))

    @classmethod
    def from_image(cls, image: bytes) -> DG5:
        """DG5 holding one portrait image."""
        return cls((bytes(image),))

    def encode(self) -> bytes:
        return _encode_images(self.TAG, self.IMAGE_TAG, self.images, self.NAME)

    def to_json(self) -> dict[str, Any]:
        return {"images": [image_summary(i) for i in self.images]}


@dataclass(frozen=True, slots=True)
class DG7:
    """DG7, displayed signature or usual mark (Doc 9303-10 §4.7.7): each ``5F43`` image."""

    TAG: ClassVar[int] = 0x67
    NAME: ClassVar[str] = "DG7"
    IMAGE_TAG: ClassVar[int] = 0x5F43

    images: tuple[bytes, ...] = ()
    raw: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def decode(cls, data: bytes) -> DG7:
        return cls(_decode_images(data, cls.TAG, cls.IMAGE_TAG, cls.NAME), raw=bytes(data))

    @classmethod
    def from_image(cls, image: bytes) -> DG7:
        """DG7 holding one signature image."""
        return cls((bytes(image),))

    def encode(self) -> bytes:
        return _encode_images(self.TAG, self.IMAGE_TAG, self.images, self.NAME)

    def to_json(self) -> dict[str, Any]:
        return {"images": [image_summary(i) for i in self.images]}
