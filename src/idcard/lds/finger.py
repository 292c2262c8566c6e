"""Finger image records of ISO/IEC 19794-4:2005 ('FIR\\0'), as DG3 carries them.

Big-endian layout (Doc 9303-10 §4.7.3)::

    general header (32)  'FIR\\0', version '010\\0', record length (6), capture device id (2),
                         image acquisition level (2), number of fingers (1), scale units (1),
                         horizontal/vertical scan resolution (2 each), horizontal/vertical image
                         resolution (2 each), pixel depth (1), compression (1), reserved (2)
    per finger (14 + n)  block length (4), position (1), count of views (1), view number (1),
                         quality (1), impression type (1), width (2), height (2), reserved (1),
                         image data

Compression: 0 uncompressed, 1 bit-packed, 2 WSQ, 3 JPEG, 4 JPEG 2000, 5 PNG
(19794-4:2005 §8.3.14).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, ClassVar

from idcard.errors import DecodeError, EncodeError
from idcard.lds.dg11 import image_format, image_summary
from idcard.lds.face import image_size

__all__ = ["FingerImage", "FingerImageRecord", "COMPRESSION"]

COMPRESSION = {"raw": 0, "bitpacked": 1, "wsq": 2, "jpeg": 3, "jpeg2000": 4, "png": 5}

_HEADER = struct.Struct(">4s4s6sHHBBHHHHBBH")
_FINGER = struct.Struct(">IBBBBBHHB")


@dataclass(frozen=True, slots=True)
class FingerImage:
    """One finger image record: position (1 right thumb … 10 left little), view, image."""

    position: int
    image: bytes
    width: int
    height: int
    impression_type: int = 0
    """0 live-scan plain, 1 live-scan rolled, … (19794-4 Table 5)."""
    quality: int = 0
    view_count: int = 1
    view_number: int = 1
    reserved: int = 0

    def encode(self) -> bytes:
        try:
            return (
                _FINGER.pack(
                    _FINGER.size + len(self.image),
                    self.position,
                    self.view_count,
                    self.view_number,
                    self.quality,
                    self.impression_type,
                    self.width,
                    self.height,
                    self.reserved,
                )
                + self.image
            )
        except struct.error as exc:
            raise EncodeError(f"finger image field out of range: {exc}") from None

    def to_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "impression_type": self.impression_type,
            "quality": self.quality,
            "view_number": self.view_number,
            "width": self.width,
            "height": self.height,
            "image": image_summary(self.image),
        }


@dataclass(frozen=True, slots=True)
class FingerImageRecord:
    """An ISO/IEC 19794-4:2005 finger image record (general header + finger images)."""

    FORMAT: ClassVar[bytes] = b"FIR\x00"

    fingers: tuple[FingerImage, ...]
    compression: int = COMPRESSION["wsq"]
    scan_resolution: tuple[int, int] = (500, 500)
    image_resolution: tuple[int, int] = (500, 500)
    scale_units: int = 1
    """1 pixels per inch, 2 pixels per centimetre."""
    pixel_depth: int = 8
    acquisition_level: int = 31
    capture_device_id: int = 0
    version: bytes = b"010\x00"
    reserved: int = 0

    @classmethod
    def decode(cls, data: bytes, *, base_offset: int = 0) -> FingerImageRecord:
        def fail(message: str, at: int) -> DecodeError:
            return DecodeError(f"19794-4 finger record: {message}", offset=base_offset + at)

        if len(data) < _HEADER.size:
            raise fail("shorter than its general header", 0)
        (
            magic,
            version,
            length,
            device,
            level,
            count,
            units,
            sx,
            sy,
            ix,
            iy,
            depth,
            compression,
            reserved,
        ) = _HEADER.unpack_from(data)
        if magic != cls.FORMAT:
            raise fail("format identifier is not 'FIR\\0'", 0)
        if int.from_bytes(length, "big") != len(data):
            raise fail(f"record length {int.from_bytes(length, 'big')} but {len(data)} present", 8)
        pos = _HEADER.size
        fingers = []
        for _ in range(count):
            if pos + _FINGER.size > len(data):
                raise fail("truncated finger image header", pos)
            block, position, views, view, quality, impression, w, h, res = _FINGER.unpack_from(
                data, pos
            )
            end = pos + block
            if block < _FINGER.size or end > len(data):
                raise fail(f"finger block length {block} does not fit", pos)
            fingers.append(
                FingerImage(
                    position,
                    bytes(data[pos + _FINGER.size : end]),
                    w,
                    h,
                    impression,
                    quality,
                    views,
                    view,
                    res,
                )
            )
            pos = end
        if pos != len(data):
            raise fail(f"{len(data) - pos} bytes after the last finger image", pos)
        return cls(
            tuple(fingers),
            compression,
            (sx, sy),
            (ix, iy),
            units,
            depth,
            level,
            device,
            bytes(version),
            reserved,
        )

    def encode(self) -> bytes:
        body = b"".join(f.encode() for f in self.fingers)
        if len(self.version) != 4:
            raise EncodeError("19794-4 version must be 4 bytes")
        try:
            header = _HEADER.pack(
                self.FORMAT,
                self.version,
                (_HEADER.size + len(body)).to_bytes(6, "big"),
                self.capture_device_id,
                self.acquisition_level,
                len(self.fingers),
                self.scale_units,
                *self.scan_resolution,
                *self.image_resolution,
                self.pixel_depth,
                self.compression,
                self.reserved,
            )
        except (struct.error, OverflowError) as exc:
            raise EncodeError(f"finger record field out of range: {exc}") from None
        return header + body

    @classmethod
    def from_images(
        cls,
        images: dict[int, bytes] | list[tuple[int, bytes, int, int]],
        *,
        resolution: int = 500,
        **fields: Any,
    ) -> FingerImageRecord:
        """A record from ``{position: image}`` (size read from PNG/JPEG/JPEG 2000) or from
        ``[(position, image, width, height), …]`` (for WSQ, whose size we do not parse).

        All images share one compression, taken from the first image's magic bytes.
        """
        entries: list[tuple[int, bytes, int, int]] = []
        if isinstance(images, dict):
            for position, image in images.items():
                size = image_size(image)
                if size is None:
                    raise EncodeError(f"cannot read the size of finger {position}; give it")
                entries.append((position, image, *size))
        else:
            entries = list(images)
        if not entries:
            raise EncodeError("at least one finger image is needed")
        kinds = {image_format(e[1]) for e in entries}
        if len(kinds) != 1 or (kind := kinds.pop()) not in COMPRESSION:
            raise EncodeError("finger images must share one of WSQ, JPEG, JPEG 2000, PNG")
        fingers = tuple(FingerImage(p, bytes(i), w, h) for p, i, w, h in entries)
        return cls(
            fingers, COMPRESSION[kind], (resolution, resolution), (resolution, resolution), **fields
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "encoding": "ISO/IEC 19794-4",
            "compression": self.compression,
            "image_resolution": list(self.image_resolution),
            "fingers": [f.to_json() for f in self.fingers],
        }
