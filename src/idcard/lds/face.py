"""Face image records: ISO/IEC 19794-5:2005 ('FAC\\0') and ISO/IEC 39794-5 (tagged binary).

19794-5:2005 (Doc 9303-10 §4.7.2.2), big-endian throughout::

    general header  'FAC\\0', version '010\\0', record length (4), number of images (2)
    per image       block length (4), number of feature points (2), gender, eye colour,
                    hair colour (1 each), property mask (3), expression (2), pose yaw/pitch/roll
                    (1 each), their uncertainties (1 each); feature points (8 each: type, code,
                    x (2), y (2), reserved (2)); image information: face image type, image data
                    type (0 JPEG, 1 JPEG 2000), width (2), height (2), colour space, source type
                    (1 each), device type (2), quality (2); then the image bytes.

39794-5 (Doc 9303-10 8th ed., 7F2E) is DER: ``A1 { 65 FaceImageDataBlock }`` with
``FaceImageDataBlock ::= [APPLICATION 5] SEQUENCE { versionBlock [0], representationBlocks [1] }``.
We read what is needed to get each image, its format code and its size.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, ClassVar

from idcard import tlv
from idcard.errors import DecodeError, EncodeError
from idcard.lds.dg11 import image_format, image_summary

__all__ = [
    "FaceImage",
    "FaceImageDataBlock",
    "FaceImageRecord",
    "FaceRepresentation",
    "FeaturePoint",
    "image_size",
]

IMAGE_DATA_JPEG = 0
IMAGE_DATA_JPEG2000 = 1

_HEADER = struct.Struct(">4s4sIH")
_FACE_INFO = struct.Struct(">IHBBB3sHBBBBBB")
_POINT = struct.Struct(">BBHHH")
_IMAGE_INFO = struct.Struct(">BBHHBBHH")


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG SOF marker, a JPEG 2000 SIZ marker or ihdr box, or PNG IHDR."""
    try:
        if data.startswith(b"\xff\xd8"):
            pos = 2
            while pos + 4 <= len(data):
                if data[pos] != 0xFF:
                    return None
                marker = data[pos + 1]
                if marker == 0xFF:
                    pos += 1
                    continue
                if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                    pos += 2
                    continue
                length = int.from_bytes(data[pos + 2 : pos + 4], "big")
                if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                    height, width = struct.unpack_from(">HH", data, pos + 5)
                    return width, height
                pos += 2 + length
            return None
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            w, h = struct.unpack_from(">II", data, 16)
            return w, h
        at = data.find(b"\xff\x4f\xff\x51")
        if at >= 0:
            x, y, xo, yo = struct.unpack_from(">IIII", data, at + 8)
            return x - xo, y - yo
        at = data.find(b"ihdr")
        if at >= 0 and image_format(data) == "jpeg2000":
            h, w = struct.unpack_from(">II", data, at + 4)
            return w, h
    except struct.error:
        return None
    return None


def _size(image: bytes, width: int | None, height: int | None) -> tuple[int, int]:
    """``(width, height)`` as given, else as read from the image (EncodeError if unreadable)."""
    if width is not None and height is not None:
        return width, height
    size = image_size(image)
    if size is None:
        raise EncodeError("cannot read the image size; give width and height")
    return size


@dataclass(frozen=True, slots=True)
class FeaturePoint:
    """A facial feature point (19794-5 §5.6): type, code (major << 4 | minor), x, y."""

    type: int
    code: int
    x: int
    y: int
    reserved: int = 0


@dataclass(frozen=True, slots=True)
class FaceImage:
    """One facial record data block of a 19794-5:2005 record (facial information + image)."""

    image: bytes
    width: int
    height: int
    image_data_type: int = IMAGE_DATA_JPEG
    face_image_type: int = 1
    """0 basic, 1 full frontal, 2 token frontal."""
    colour_space: int = 1
    """0 unspecified, 1 24-bit RGB, 2 YUV422, 3 8-bit greyscale, 4 other."""
    source_type: int = 2
    """2 static photograph from a digital still camera (19794-5 Table 7)."""
    device_type: int = 0
    quality: int = 0
    gender: int = 0
    eye_colour: int = 0
    hair_colour: int = 0
    property_mask: int = 0
    expression: int = 0
    pose_angle: tuple[int, int, int] = (0, 0, 0)
    pose_angle_uncertainty: tuple[int, int, int] = (0, 0, 0)
    feature_points: tuple[FeaturePoint, ...] = ()

    def encode(self) -> bytes:
        length = _FACE_INFO.size + _POINT.size * len(self.feature_points) + _IMAGE_INFO.size
        length += len(self.image)
        try:
            out = _FACE_INFO.pack(
                length,
                len(self.feature_points),
                self.gender,
                self.eye_colour,
                self.hair_colour,
                self.property_mask.to_bytes(3, "big"),
                self.expression,
                *self.pose_angle,
                *self.pose_angle_uncertainty,
            )
            out += b"".join(
                _POINT.pack(p.type, p.code, p.x, p.y, p.reserved) for p in self.feature_points
            )
            out += _IMAGE_INFO.pack(
                self.face_image_type,
                self.image_data_type,
                self.width,
                self.height,
                self.colour_space,
                self.source_type,
                self.device_type,
                self.quality,
            )
        except (struct.error, OverflowError) as exc:
            raise EncodeError(f"face image field out of range: {exc}") from None
        return out + self.image

    def to_json(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "image_data_type": self.image_data_type,
            "face_image_type": self.face_image_type,
            "colour_space": self.colour_space,
            "source_type": self.source_type,
            "gender": self.gender,
            "feature_points": len(self.feature_points),
            "image": image_summary(self.image),
        }


@dataclass(frozen=True, slots=True)
class FaceImageRecord:
    """An ISO/IEC 19794-5:2005 face image record ('FAC\\0', version '010\\0')."""

    FORMAT: ClassVar[bytes] = b"FAC\x00"

    images: tuple[FaceImage, ...]
    version: bytes = b"010\x00"

    @classmethod
    def decode(cls, data: bytes, *, base_offset: int = 0) -> FaceImageRecord:
        def fail(message: str, at: int) -> DecodeError:
            return DecodeError(f"19794-5 face record: {message}", offset=base_offset + at)

        if len(data) < _HEADER.size:
            raise fail("shorter than its general header", 0)
        magic, version, length, count = _HEADER.unpack_from(data)
        if magic != cls.FORMAT:
            raise fail("format identifier is not 'FAC\\0'", 0)
        if length != len(data):
            raise fail(f"record length {length} but {len(data)} bytes present", 8)
        pos = _HEADER.size
        images = []
        for _ in range(count):
            if pos + _FACE_INFO.size > len(data):
                raise fail("truncated facial record header", pos)
            (
                block_len,
                n_points,
                gender,
                eye,
                hair,
                mask,
                expression,
                yaw,
                pitch,
                roll,
                u_yaw,
                u_pitch,
                u_roll,
            ) = _FACE_INFO.unpack_from(data, pos)
            end = pos + block_len
            fixed = _FACE_INFO.size + n_points * _POINT.size + _IMAGE_INFO.size
            if block_len < fixed or end > len(data):
                raise fail(f"facial record block length {block_len} does not fit", pos)
            at = pos + _FACE_INFO.size
            points = []
            for _ in range(n_points):
                points.append(FeaturePoint(*_POINT.unpack_from(data, at)))
                at += _POINT.size
            (face_type, data_type, width, height, colour, source, device, quality) = (
                _IMAGE_INFO.unpack_from(data, at)
            )
            at += _IMAGE_INFO.size
            images.append(
                FaceImage(
                    image=bytes(data[at:end]),
                    width=width,
                    height=height,
                    image_data_type=data_type,
                    face_image_type=face_type,
                    colour_space=colour,
                    source_type=source,
                    device_type=device,
                    quality=quality,
                    gender=gender,
                    eye_colour=eye,
                    hair_colour=hair,
                    property_mask=int.from_bytes(mask, "big"),
                    expression=expression,
                    pose_angle=(yaw, pitch, roll),
                    pose_angle_uncertainty=(u_yaw, u_pitch, u_roll),
                    feature_points=tuple(points),
                )
            )
            pos = end
        if pos != len(data):
            raise fail(f"{len(data) - pos} bytes after the last facial record", pos)
        return cls(tuple(images), bytes(version))

    def encode(self) -> bytes:
        blocks = b"".join(image.encode() for image in self.images)
        if len(self.version) != 4:
            raise EncodeError("19794-5 version must be 4 bytes")
        try:
            header = _HEADER.pack(
                self.FORMAT, self.version, _HEADER.size + len(blocks), len(self.images)
            )
        except struct.error as exc:
            raise EncodeError(f"face record too large: {exc}") from None
        return header + blocks

    @classmethod
    def from_image(
        cls, image: bytes, *, width: int | None = None, height: int | None = None, **fields: Any
    ) -> FaceImageRecord:
        """A one-image record for a JPEG or JPEG 2000 portrait (size read from the image)."""
        kind = image_format(image)
        if kind not in ("jpeg", "jpeg2000"):
            raise EncodeError("a 19794-5 portrait must be JPEG or JPEG 2000")
        width, height = _size(image, width, height)
        data_type = IMAGE_DATA_JPEG if kind == "jpeg" else IMAGE_DATA_JPEG2000
        return cls((FaceImage(bytes(image), width, height, image_data_type=data_type, **fields),))

    def to_json(self) -> dict[str, Any]:
        return {"encoding": "ISO/IEC 19794-5", "images": [i.to_json() for i in self.images]}


@dataclass(frozen=True, slots=True)
class FaceRepresentation:
    """One 2D representation of a 39794-5 face image data block."""

    representation_id: int
    image: bytes
    image_data_format: int | None = None
    width: int | None = None
    height: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "representation_id": self.representation_id,
            "image_data_format": self.image_data_format,
            "width": self.width,
            "height": self.height,
            "image": image_summary(self.image),
        }


def _der_int(item: tlv.TLV, where: str) -> int:
    if not item.value or len(item.value) > 8:
        raise DecodeError(f"39794-5 {where}: bad integer", offset=item.offset)
    return int.from_bytes(item.value, "big", signed=True)


def _one(items: list[tlv.TLV], tag: int, where: str, offset: int) -> tlv.TLV:
    return tlv.require(items, tag, f"39794-5 {where}", offset=offset)


@dataclass(frozen=True, slots=True)
class FaceImageDataBlock:
    """An ISO/IEC 39794-5 face image data block, as the ``7F2E`` value ``A1 { 65 … }``.

    ``data`` is the stored value (the encoding); the version and representations are read
    from it (optional blocks we do not model are kept inside ``data``).
    """

    data: bytes
    version: tuple[int, int] = field(default=(0, 0), compare=False)
    representations: tuple[FaceRepresentation, ...] = field(default=(), compare=False)

    @classmethod
    def decode(cls, data: bytes, *, base_offset: int = 0) -> FaceImageDataBlock:
        wrapper, end = tlv.read_tlv(data, 0, base_offset=base_offset)
        if wrapper.tag != 0xA1 or end != len(data):
            raise DecodeError("39794-5: A1 wrapper expected", offset=base_offset)
        inner = wrapper.children()
        if len(inner) != 1 or inner[0].tag != 0x65:
            raise DecodeError(
                "39794-5: [APPLICATION 5] block expected", offset=wrapper.value_offset
            )
        block = inner[0].children()
        vb = _one(block, 0xA0, "version block", inner[0].offset).children()
        version = (
            _der_int(_one(vb, 0x80, "generation", inner[0].offset), "generation"),
            _der_int(_one(vb, 0x81, "year", inner[0].offset), "year"),
        )
        reps = []
        for rep in _one(block, 0xA1, "representation blocks", inner[0].offset).children():
            if rep.tag != 0x30:
                raise DecodeError("39794-5: representation block expected", offset=rep.offset)
            fields = rep.children()
            rep_id = _der_int(_one(fields, 0x80, "representation id", rep.offset), "id")
            image_rep = _one(fields, 0xA1, "image representation", rep.offset).children()
            base = _one(image_rep, 0xA0, "base", rep.offset).children()
            two_d = _one(base, 0xA0, "2D block", rep.offset).children()
            image = _one(two_d, 0x80, "image data", rep.offset).value
            info = _one(two_d, 0xA1, "image information", rep.offset).children()
            fmt_code: int | None = None
            fmt = tlv.find(info, 0xA0)
            if fmt is not None:
                code = tlv.find(fmt.children(), 0x80)
                fmt_code = _der_int(code, "image data format") if code is not None else None
            width = height = None
            size = tlv.find(info, 0xA7)
            if size is not None:
                dims = size.children()
                width = _der_int(_one(dims, 0x80, "width", size.offset), "width")
                height = _der_int(_one(dims, 0x81, "height", size.offset), "height")
            reps.append(FaceRepresentation(rep_id, image, fmt_code, width, height))
        return cls(bytes(data), version, tuple(reps))

    @classmethod
    def build(
        cls,
        image: bytes,
        *,
        image_data_format: int,
        width: int | None = None,
        height: int | None = None,
        version: tuple[int, int] = (3, 2024),
    ) -> FaceImageDataBlock:
        """A minimal block with one 2D representation (the image, its format code and size)."""
        width, height = _size(image, width, height)

        def integer(tag: int, value: int) -> bytes:
            return tlv.encode(tag, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big"))

        info = tlv.encode(0xA0, integer(0x80, image_data_format)) + tlv.encode(
            0xA7, integer(0x80, width) + integer(0x81, height)
        )
        two_d = tlv.encode(0x80, image) + tlv.encode(0xA1, info)
        rep = tlv.encode(
            0x30, integer(0x80, 1) + tlv.encode(0xA1, tlv.encode(0xA0, tlv.encode(0xA0, two_d)))
        )
        body = tlv.encode(0xA0, integer(0x80, version[0]) + integer(0x81, version[1]))
        body += tlv.encode(0xA1, rep)
        return cls.decode(tlv.encode(0xA1, tlv.encode(0x65, body)))

    def encode(self) -> bytes:
        return self.data

    @property
    def images(self) -> tuple[bytes, ...]:
        return tuple(r.image for r in self.representations)

    def to_json(self) -> dict[str, Any]:
        return {
            "encoding": "ISO/IEC 39794-5",
            "version": list(self.version),
            "representations": [r.to_json() for r in self.representations],
        }
