"""DG5 displayed portrait and DG7 displayed signature or usual mark (ICAO Doc 9303-10 §4.7.5,
§4.7.7).

Both are ``<tag> { 02 count, <image tag> image … }``: DG5 (``65``) holds ``5F40`` portraits, DG7
(``67``) ``5F43`` signature images, each the image file bytes (JPEG, JPEG 2000, …) as stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from idcard import tlv
from idcard.lds.dg11 import decode_counted, encode_counted, image_format, image_summary

__all__ = ["DG5", "DG7", "image_format"]


@dataclass(frozen=True, slots=True)
class _DisplayedImages:
    """The counted image list shared by DG5 and DG7; subclasses set the three tags."""

    TAG: ClassVar[int]
    NAME: ClassVar[str]
    IMAGE_TAG: ClassVar[int]

    images: tuple[bytes, ...] = ()
    raw: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def decode(cls, data: bytes) -> Self:
        outer = tlv.decode_one(data, expected_tag=cls.TAG)
        images = tuple(item.value for item in decode_counted(outer, cls.IMAGE_TAG, cls.NAME))
        return cls(images, raw=bytes(data))

    @classmethod
    def from_image(cls, image: bytes) -> Self:
        """The data group holding one image."""
        return cls((bytes(image),))

    def encode(self) -> bytes:
        images = [tlv.encode(self.IMAGE_TAG, image) for image in self.images]
        return encode_counted(self.TAG, images, self.NAME)

    def to_json(self) -> dict[str, Any]:
        return {"images": [image_summary(i) for i in self.images]}


@dataclass(frozen=True, slots=True)
class DG5(_DisplayedImages):
    """DG5, displayed portrait(s) (Doc 9303-10 §4.7.5): image bytes of each ``5F40``."""

    TAG: ClassVar[int] = 0x65
    NAME: ClassVar[str] = "DG5"
    IMAGE_TAG: ClassVar[int] = 0x5F40


@dataclass(frozen=True, slots=True)
class DG7(_DisplayedImages):
    """DG7, displayed signature or usual mark (Doc 9303-10 §4.7.7): each ``5F43`` image."""

    TAG: ClassVar[int] = 0x67
    NAME: ClassVar[str] = "DG7"
    IMAGE_TAG: ClassVar[int] = 0x5F43
