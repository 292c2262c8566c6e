"""DG16, persons to notify (ICAO Doc 9303-10 §4.7.16).

``70 { 02 count, A1 { 5F50 date recorded, 5F51 name, 5F52 telephone, 5F53 address }, A2 …}``:
one template per person, tagged A1, A2, … in turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from idcard import tlv
from idcard.errors import DecodeError, EncodeError
from idcard.lds.dg11 import DateValue, decode_utf8, encode_utf8

__all__ = ["DG16", "PersonToNotify"]

_CANONICAL = (0x5F50, 0x5F51, 0x5F52, 0x5F53)


@dataclass(frozen=True, slots=True)
class PersonToNotify:
    """One person to notify (Doc 9303-10 §4.7.16); ``date_recorded`` is "YYYYMMDD"."""

    name: str | None = None
    date_recorded: DateValue | None = None
    telephone: str | None = None
    address: str | None = None

    @classmethod
    def decode(cls, item: tlv.TLV) -> PersonToNotify:
        values: dict[str, Any] = {}
        for child in item.children():
            if child.tag == 0x5F50 and "date_recorded" not in values:
                values["date_recorded"] = DateValue.decode(child, "DG16 5F50", bcd_length=4)
            elif child.tag == 0x5F51 and "name" not in values:
                values["name"] = decode_utf8(child, "DG16 5F51")
            elif child.tag == 0x5F52 and "telephone" not in values:
                values["telephone"] = decode_utf8(child, "DG16 5F52")
            elif child.tag == 0x5F53 and "address" not in values:
                values["address"] = decode_utf8(child, "DG16 5F53")
            else:
                raise DecodeError(f"DG16: unexpected tag {child.tag:X}", offset=child.offset)
        return cls(**values)

    def encode(self, index: int) -> bytes:
        parts = []
        if self.date_recorded is not None:
            parts.append(tlv.encode(0x5F50, self.date_recorded.encode()))
        for tag, value in ((0x5F51, self.name), (0x5F52, self.telephone), (0x5F53, self.address)):
            if value is not None:
                parts.append(tlv.encode(tag, encode_utf8(value, f"DG16 {tag:X}")))
        return tlv.encode(0xA1 + index, parts)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("name", "telephone", "address"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.date_recorded is not None:
            out["date_recorded"] = self.date_recorded.text
        return out


@dataclass(frozen=True, slots=True)
class DG16:
    """DG16, persons to notify (Doc 9303-10 §4.7.16)."""

    TAG: ClassVar[int] = 0x70
    NAME: ClassVar[str] = "DG16"

    persons: tuple[PersonToNotify, ...] = ()
    raw: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def decode(cls, data: bytes) -> DG16:
        outer = tlv.decode_one(data, expected_tag=cls.TAG)
        items = outer.children()
        if not items or items[0].tag != 0x02 or len(items[0].value) != 1:
            raise DecodeError("DG16: count (02) expected first", offset=outer.value_offset)
        count = items[0].value[0]
        persons = []
        for index, item in enumerate(items[1:]):
            if item.tag != 0xA1 + index:
                raise DecodeError(
                    f"DG16: expected template {0xA1 + index:X}, found {item.tag:X}",
                    offset=item.offset,
                )
            persons.append(PersonToNotify.decode(item))
        if count != len(persons):
            raise DecodeError(
                f"DG16: count says {count}, {len(persons)} present", offset=items[0].value_offset
            )
        return cls(tuple(persons), raw=bytes(data))

    def encode(self) -> bytes:
        if len(self.persons) > 31:
            raise EncodeError("DG16: at most 31 persons (templates A1..BF)")
        body = tlv.encode(0x02, bytes([len(self.persons)])) + b"".join(
            p.encode(i) for i, p in enumerate(self.persons)
        )
        return tlv.encode(self.TAG, body)

    def to_json(self) -> dict[str, Any]:
        return {"persons": [p.to_json() for p in self.persons]}
