"""DG12, additional document details (ICAO Doc 9303-10 §4.7.12).

Every element is optional. Dates of issue are "YYYYMMDD" ASCII (older documents: 4 BCD bytes);
the personalization date-time ``5F55`` is "YYYYMMDDhhmmss" ASCII (or 7 BCD bytes). The forms read
are kept (:class:`~idcard.lds.dg11.DateValue`), as is the element order, so real files re-encode
to their own bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from idcard import tlv
from idcard.errors import DecodeError
from idcard.lds.com import decode_tag_list, encode_tag_list
from idcard.lds.dg11 import (
    DateValue,
    choose_tag_list,
    decode_count_template,
    decode_utf8,
    encode_count_template,
    encode_utf8,
    image_summary,
    order_elements,
)

__all__ = ["DG12"]

_CANONICAL = (0x5F19, 0x5F26, 0xA0, 0x5F1B, 0x5F1C, 0x5F1D, 0x5F1E, 0x5F55, 0x5F56)
_TEXT_FIELDS = {
    0x5F19: "issuing_authority",
    0x5F1B: "endorsements",
    0x5F1C: "tax_exit_requirements",
    0x5F56: "personalization_device_serial",
}
_IMAGE_FIELDS = {0x5F1D: "image_of_front", 0x5F1E: "image_of_rear"}
_DATE_FIELDS = {0x5F26: ("date_of_issue", 4), 0x5F55: ("personalization_time", 7)}


@dataclass(frozen=True, slots=True)
class DG12:
    """DG12, additional document details (Doc 9303-10 §4.7.12); every field optional.

    ``other_persons`` are the names of the ``A0 { 02 count, 5F1A … }`` template; the two images
    are kept as stored. ``layout`` and ``tag_list`` remember the order read (not compared).
    """

    TAG: ClassVar[int] = 0x6C
    NAME: ClassVar[str] = "DG12"

    issuing_authority: str | None = None
    date_of_issue: DateValue | None = None
    other_persons: tuple[str, ...] = ()
    endorsements: str | None = None
    tax_exit_requirements: str | None = None
    image_of_front: bytes | None = None
    image_of_rear: bytes | None = None
    personalization_time: DateValue | None = None
    personalization_device_serial: str | None = None
    layout: tuple[int, ...] = field(default=(), repr=False, compare=False)
    tag_list: tuple[int, ...] = field(default=(), repr=False, compare=False)
    raw: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def decode(cls, data: bytes) -> DG12:
        outer = tlv.decode_one(data, expected_tag=cls.TAG)
        items = outer.children()
        if not items or items[0].tag != 0x5C:
            raise DecodeError("DG12: tag list (5C) expected first", offset=outer.value_offset)
        declared = decode_tag_list(items[0].value, base_offset=items[0].value_offset)
        values: dict[str, Any] = {}
        layout: list[int] = []
        for item in items[1:]:
            if item.tag in layout:
                raise DecodeError(f"DG12: repeated tag {item.tag:X}", offset=item.offset)
            if item.tag in _TEXT_FIELDS:
                values[_TEXT_FIELDS[item.tag]] = decode_utf8(item, f"DG12 {item.tag:X}")
            elif item.tag in _IMAGE_FIELDS:
                values[_IMAGE_FIELDS[item.tag]] = item.value
            elif item.tag in _DATE_FIELDS:
                name, bcd_length = _DATE_FIELDS[item.tag]
                values[name] = DateValue.decode(item, f"DG12 {item.tag:X}", bcd_length=bcd_length)
            elif item.tag == 0xA0:
                values["other_persons"] = decode_count_template(item, 0x5F1A, "DG12 other persons")
            else:
                raise DecodeError(f"DG12: unexpected tag {item.tag:X}", offset=item.offset)
            layout.append(item.tag)
        normalised = {0x5F1A if t == 0xA0 else t for t in declared}
        present = {0x5F1A if t == 0xA0 else t for t in layout}
        if normalised != present:
            raise DecodeError("DG12: tag list does not match the content", offset=items[0].offset)
        return cls(**values, layout=tuple(layout), tag_list=declared, raw=bytes(data))

    def _elements(self) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        for tag, name in _TEXT_FIELDS.items():
            value = getattr(self, name)
            if value is not None:
                out[tag] = tlv.encode(tag, encode_utf8(value, f"DG12 {name}"))
        for tag, name in _IMAGE_FIELDS.items():
            value = getattr(self, name)
            if value is not None:
                out[tag] = tlv.encode(tag, value)
        for tag, (name, _) in _DATE_FIELDS.items():
            value = getattr(self, name)
            if value is not None:
                out[tag] = tlv.encode(tag, value.encode())
        if self.other_persons:
            out[0xA0] = encode_count_template(0x5F1A, self.other_persons, "DG12 other persons")
        return out

    def encode(self) -> bytes:
        elements = self._elements()
        order = order_elements(elements, self.layout, _CANONICAL)
        listed = choose_tag_list([0x5F1A if t == 0xA0 else t for t in order], self.tag_list, 0x5F1A)
        body = encode_tag_list(listed) + b"".join(elements[t] for t in order)
        return tlv.encode(self.TAG, body)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in _TEXT_FIELDS.values():
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        for name, _ in _DATE_FIELDS.values():
            value = getattr(self, name)
            if value is not None:
                out[name] = value.text
        if self.other_persons:
            out["other_persons"] = list(self.other_persons)
        for name in _IMAGE_FIELDS.values():
            value = getattr(self, name)
            if value is not None:
                out[name] = image_summary(value)
        return out
