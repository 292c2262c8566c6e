"""The CBEFF biometric information template group shared by DG2, DG3 and DG4.

ISO/IEC 7816-11 nested in ICAO Doc 9303-10 §4.7.2.1::

    7F61 biometric information group template
      02   number of instances
      7F60 biometric information template (one per instance)
        A1   biometric header template: 80 version, 81 type, 82 subtype, 83 creation date,
             85 validity period, 86 creator, 87 format owner, 88 format type
        5F2E biometric data block (ISO/IEC 19794 record)
        7F2E biometric data block, constructed (ISO/IEC 39794: A1 { 65 … })

The data blocks stay bytes here; DG2/DG3 read them as face or finger records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from idcard import tlv
from idcard.errors import DecodeError, EncodeError
from idcard.lds.dg11 import decode_counted, encode_counted

__all__ = [
    "BIOMETRIC_TYPE_FACE",
    "BIOMETRIC_TYPE_FINGER",
    "BIOMETRIC_TYPE_IRIS",
    "FORMAT_OWNER_ISO",
    "FORMAT_TYPE_FACE_19794",
    "FORMAT_TYPE_FACE_39794",
    "FORMAT_TYPE_FINGER_19794",
    "FORMAT_TYPE_IRIS_19794",
    "BiometricHeader",
    "BiometricTemplate",
    "decode_group",
    "encode_group",
]

FORMAT_OWNER_ISO = 0x0101
"""CBEFF format owner ISO/IEC JTC 1/SC 37 (IBIA registry)."""
FORMAT_TYPE_FINGER_19794 = 0x0007
FORMAT_TYPE_FACE_19794 = 0x0008
FORMAT_TYPE_IRIS_19794 = 0x0009
FORMAT_TYPE_FACE_39794 = 0x002A
"""``g3-binary-face-image``: ISO/IEC 39794-5 tagged binary (IBIA BDB format identifiers)."""

BIOMETRIC_TYPE_FACE = 0x02
BIOMETRIC_TYPE_FINGER = 0x08
BIOMETRIC_TYPE_IRIS = 0x10
"""CBEFF biometric types (ISO/IEC 19785-1; Doc 9303-10 §4.7.2.1 tag 81)."""

_HEADER_TAGS = (0x80, 0x81, 0x82, 0x83, 0x85, 0x86, 0x87, 0x88)
_FIXED = {0x80: 2, 0x82: 1, 0x83: 7, 0x85: 8, 0x87: 2, 0x88: 2}


@dataclass(frozen=True, slots=True)
class BiometricHeader:
    """The ``A1`` biometric header template (ISO/IEC 7816-11; Doc 9303-10 §4.7.2.1).

    Only format owner and type are mandatory. ``biometric_type`` keeps its 1–3 bytes as an
    integer with ``type_length``; dates stay bytes as stored (BCD-like "YYYYMMDDhhmmss").
    """

    format_owner: int
    format_type: int
    version: int | None = None
    biometric_type: int | None = None
    type_length: int = 1
    biometric_subtype: int | None = None
    creation_date: bytes | None = None
    validity_period: bytes | None = None
    creator: bytes | None = None
    layout: tuple[int, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def decode(cls, item: tlv.TLV) -> BiometricHeader:
        values: dict[int, tlv.TLV] = {}
        for child in item.children():
            if child.tag not in _HEADER_TAGS:
                raise DecodeError(
                    f"biometric header: unexpected tag {child.tag:X}", offset=child.offset
                )
            if child.tag in values:
                raise DecodeError(
                    f"biometric header: repeated tag {child.tag:X}", offset=child.offset
                )
            want = _FIXED.get(child.tag)
            if (want is not None and len(child.value) != want) or (
                child.tag == 0x81 and not 1 <= len(child.value) <= 3
            ):
                raise DecodeError(
                    f"biometric header: tag {child.tag:X} has {len(child.value)} bytes",
                    offset=child.offset,
                )
            values[child.tag] = child
        for tag in (0x87, 0x88):
            if tag not in values:
                raise DecodeError(
                    f"biometric header: mandatory tag {tag:X} missing", offset=item.offset
                )

        def num(tag: int) -> int | None:
            return int.from_bytes(values[tag].value, "big") if tag in values else None

        def raw(tag: int) -> bytes | None:
            return values[tag].value if tag in values else None

        return cls(
            format_owner=int.from_bytes(values[0x87].value, "big"),
            format_type=int.from_bytes(values[0x88].value, "big"),
            version=num(0x80),
            biometric_type=num(0x81),
            type_length=len(values[0x81].value) if 0x81 in values else 1,
            biometric_subtype=num(0x82),
            creation_date=raw(0x83),
            validity_period=raw(0x85),
            creator=raw(0x86),
            layout=tuple(values),
        )

    def encode(self) -> bytes:
        """The ``A1`` template; elements in the order read, else in tag order."""
        elements: dict[int, bytes] = {}

        def put(tag: int, value: int | bytes | None, size: int) -> None:
            if value is None:
                return
            if isinstance(value, int):
                if not 0 <= value < 1 << (8 * size):
                    raise EncodeError(f"biometric header: tag {tag:X} value out of range")
                value = value.to_bytes(size, "big")
            elif len(value) != size:
                raise EncodeError(f"biometric header: tag {tag:X} must have {size} bytes")
            elements[tag] = tlv.encode(tag, value)

        if not 1 <= self.type_length <= 3:
            raise EncodeError("biometric header: type_length must be 1..3")
        put(0x80, self.version, 2)
        put(0x81, self.biometric_type, self.type_length)
        put(0x82, self.biometric_subtype, 1)
        put(0x83, self.creation_date, 7)
        put(0x85, self.validity_period, 8)
        if self.creator is not None:
            elements[0x86] = tlv.encode(0x86, self.creator)
        put(0x87, self.format_owner, 2)
        put(0x88, self.format_type, 2)
        order = (
            self.layout
            if sorted(self.layout) == sorted(elements)
            else tuple(t for t in _HEADER_TAGS if t in elements)
        )
        return tlv.encode(0xA1, b"".join(elements[t] for t in order))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format_owner": f"{self.format_owner:04X}",
            "format_type": f"{self.format_type:04X}",
        }
        if self.version is not None:
            out["version"] = f"{self.version:04X}"
        if self.biometric_type is not None:
            out["biometric_type"] = self.biometric_type
        if self.biometric_subtype is not None:
            out["biometric_subtype"] = self.biometric_subtype
        for name in ("creation_date", "validity_period", "creator"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.hex().upper()
        return out


@dataclass(frozen=True, slots=True)
class BiometricTemplate:
    """One ``7F60`` instance: its header and its data block (``5F2E``, or ``7F2E`` constructed)."""

    header: BiometricHeader
    data: bytes
    data_tag: int = 0x5F2E

    @classmethod
    def decode(cls, item: tlv.TLV) -> BiometricTemplate:
        return _read_template(item)[0]

    def encode(self) -> bytes:
        if self.data_tag not in (0x5F2E, 0x7F2E):
            raise EncodeError("biometric data block tag must be 5F2E or 7F2E")
        return tlv.encode(0x7F60, self.header.encode() + tlv.encode(self.data_tag, self.data))


def _read_template(item: tlv.TLV) -> tuple[BiometricTemplate, int]:
    """One ``7F60`` template and the absolute offset of its data block's value."""
    children = item.children()
    if len(children) != 2:
        raise DecodeError(
            "biometric template: header and data block expected", offset=item.value_offset
        )
    head, block = children
    if head.tag != 0xA1:
        raise DecodeError(
            f"biometric template: expected header A1, found {head.tag:X}", offset=head.offset
        )
    if block.tag not in (0x5F2E, 0x7F2E):
        raise DecodeError(
            f"biometric template: expected 5F2E or 7F2E, found {block.tag:X}",
            offset=block.offset,
        )
    template = BiometricTemplate(BiometricHeader.decode(head), block.value, block.tag)
    return template, block.value_offset


def decode_group(data: bytes, tag: int, where: str) -> list[tuple[BiometricTemplate, int]]:
    """Decode ``<tag> { 7F61 { 02 n, 7F60 … } }``: each template with the absolute offset of its
    data block's value (where errors inside the face or finger record are reported)."""
    outer = tlv.decode_one(data, expected_tag=tag)
    items = outer.children()
    if len(items) != 1 or items[0].tag != 0x7F61:
        raise DecodeError(f"{where}: one 7F61 group template expected", offset=outer.value_offset)
    return [_read_template(child) for child in decode_counted(items[0], 0x7F60, where)]


def encode_group(
    tag: int, templates: list[BiometricTemplate] | tuple[BiometricTemplate, ...]
) -> bytes:
    """``<tag> { 7F61 { 02 n, 7F60 … } }``."""
    group = encode_counted(0x7F61, [t.encode() for t in templates], "biometric group")
    return tlv.encode(tag, group)
