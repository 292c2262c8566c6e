"""DG11, additional personal details (ICAO Doc 9303-10 §4.7.11), and the shared LDS field codecs.

Every element is optional. Text is UTF-8 (Doc 9303-10 §4.7.11: "variable length, UTF-8"). The
full date of birth ``5F2B`` is "YYYYMMDD" in ASCII by the current edition, while older documents
carry it as 4 BCD bytes; :class:`DateValue` keeps which form was read, so ``encode`` gives the
same bytes back. Elements are written in the order they were read (keeping the exact file bytes
of real documents), otherwise in the order of the specification's table.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from idcard import tlv
from idcard.errors import DecodeError, EncodeError
from idcard.lds.com import decode_tag_list, encode_tag_list

__all__ = [
    "DG11",
    "DateValue",
    "decode_count_template",
    "decode_counted",
    "decode_utf8",
    "encode_count_template",
    "encode_counted",
    "encode_utf8",
    "choose_tag_list",
    "image_format",
    "image_summary",
    "order_elements",
]


def decode_utf8(item: tlv.TLV, where: str) -> str:
    """The value of ``item`` as UTF-8 text, or a DecodeError at the bad byte."""
    try:
        return item.value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"{where}: not UTF-8", offset=item.value_offset + exc.start) from None


def encode_utf8(text: str, where: str) -> bytes:
    """``text`` as UTF-8, or an EncodeError naming ``where`` (lone surrogates)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EncodeError(f"{where}: not encodable as UTF-8") from exc


@dataclass(frozen=True, slots=True)
class DateValue:
    """A date (or date-time) element as stored: ASCII digits, or packed BCD when ``bcd``.

    ``text`` is the digit string either way ("19701201"; "20240131120000" for a date-time).
    ASCII values are kept as read, even partial dates ("19700000") seen on real documents.
    """

    text: str
    bcd: bool = False

    @classmethod
    def decode(cls, item: tlv.TLV, where: str, *, bcd_length: int) -> DateValue:
        """Read ASCII text, or BCD when the value has ``bcd_length`` bytes and is not ASCII."""
        value = item.value
        bcd_like = len(value) == bcd_length and value.hex().isdigit()
        if bcd_like and not all(0x30 <= b <= 0x39 for b in value):
            return cls(value.hex(), bcd=True)
        text = decode_utf8(item, where)
        if not (text.isascii() and text.isprintable()):
            raise DecodeError(f"{where}: neither ASCII text nor BCD", offset=item.value_offset)
        return cls(text)

    def encode(self) -> bytes:
        """ASCII bytes, or packed BCD; ASCII text must be printable."""
        if self.bcd:
            if not (self.text.isascii() and self.text.isdigit() and len(self.text) % 2 == 0):
                raise EncodeError("a BCD date needs an even number of digits")
            return bytes.fromhex(self.text)
        if not (self.text.isascii() and self.text.isprintable()):
            raise EncodeError("a date must be printable ASCII")
        return self.text.encode("ascii")

    @classmethod
    def from_date(cls, value: datetime.date, *, bcd: bool = False) -> DateValue:
        return cls(value.strftime("%Y%m%d"), bcd=bcd)

    @property
    def date(self) -> datetime.date | None:
        """The calendar date when the first 8 characters are a complete YYYYMMDD, else None."""
        try:
            return datetime.datetime.strptime(self.text[:8], "%Y%m%d").date()
        except ValueError:
            return None

    def __str__(self) -> str:
        return self.text


def decode_counted(item: tlv.TLV, element_tag: int, where: str) -> list[tlv.TLV]:
    """The elements of a ``{ 02 count, <element_tag> … }`` template; the count must match.

    The counted form of DG5, DG7, the DG11/DG12 ``A0`` templates and the CBEFF group
    (Doc 9303-10 §4.7).
    """
    children = item.children()
    if not children or children[0].tag != 0x02 or len(children[0].value) != 1:
        raise DecodeError(f"{where}: count (02) expected first", offset=item.value_offset)
    count = children[0].value[0]
    elements = children[1:]
    for child in elements:
        if child.tag != element_tag:
            raise DecodeError(f"{where}: unexpected tag {child.tag:X}", offset=child.offset)
    if count != len(elements):
        raise DecodeError(
            f"{where}: count says {count}, {len(elements)} present",
            offset=children[0].value_offset,
        )
    return elements


def encode_counted(tag: int, elements: Sequence[bytes], where: str) -> bytes:
    """``<tag> { 02 count, element … }`` of already encoded elements (at most 255)."""
    if len(elements) > 255:
        raise EncodeError(f"{where}: at most 255 entries")
    return tlv.encode(tag, [tlv.encode(0x02, bytes([len(elements)])), *elements])


def decode_count_template(item: tlv.TLV, element_tag: int, where: str) -> tuple[str, ...]:
    """The UTF-8 elements of an ``A0 { 02 count, <tag> … }`` template; the count must match."""
    return tuple(decode_utf8(child, where) for child in decode_counted(item, element_tag, where))


def encode_count_template(element_tag: int, values: Sequence[str], where: str) -> bytes:
    """``A0 { 02 count, <tag> value … }``."""
    elements = [tlv.encode(element_tag, encode_utf8(v, where)) for v in values]
    return encode_counted(0xA0, elements, where)


def order_elements(
    present: dict[int, bytes], layout: tuple[int, ...], canonical: Iterable[int]
) -> list[int]:
    """Tags of ``present`` in the order read (``layout``) if that covers exactly them, else in
    the canonical order."""
    if layout and sorted(layout) == sorted(present):
        return list(layout)
    return [t for t in canonical if t in present]


def choose_tag_list(
    listed: list[int], as_read: tuple[int, ...], template_element: int
) -> list[int]:
    """The tag list as read if it names exactly ``listed`` (A0 may stand for the template's
    element tag), else ``listed``: real files keep their own tag-list order."""
    norm = sorted(template_element if t == 0xA0 else t for t in as_read)
    if as_read and norm == sorted(listed):
        return list(as_read)
    return listed


# Doc 9303-10 §4.7.11 table order; 0xA0 stands for the other-names template.
_CANONICAL = (
    0x5F0E,
    0xA0,
    0x5F10,
    0x5F2B,
    0x5F11,
    0x5F42,
    0x5F12,
    0x5F13,
    0x5F14,
    0x5F15,
    0x5F16,
    0x5F17,
    0x5F18,
)
_TEXT_FIELDS = {
    0x5F0E: "full_name",
    0x5F10: "personal_number",
    0x5F11: "place_of_birth",
    0x5F42: "address",
    0x5F12: "telephone",
    0x5F13: "profession",
    0x5F14: "title",
    0x5F15: "personal_summary",
    0x5F17: "other_td_numbers",
    0x5F18: "custody_information",
}


@dataclass(frozen=True, slots=True)
class DG11:
    """DG11, additional personal details (Doc 9303-10 §4.7.11); every field optional.

    ``other_names`` come from the ``A0 { 02 count, 5F0F … }`` template (or, in older files,
    bare repeated ``5F0F`` elements, which ``other_names_bare`` records). ``proof_of_citizenship``
    is an image (bytes as stored). ``layout`` is the element order as read (not compared).
    """

    TAG: ClassVar[int] = 0x6B
    NAME: ClassVar[str] = "DG11"

    full_name: str | None = None
    other_names: tuple[str, ...] = ()
    personal_number: str | None = None
    full_date_of_birth: DateValue | None = None
    place_of_birth: str | None = None
    address: str | None = None
    telephone: str | None = None
    profession: str | None = None
    title: str | None = None
    personal_summary: str | None = None
    proof_of_citizenship: bytes | None = None
    other_td_numbers: str | None = None
    custody_information: str | None = None
    other_names_bare: bool = False
    layout: tuple[int, ...] = field(default=(), repr=False, compare=False)
    tag_list: tuple[int, ...] = field(default=(), repr=False, compare=False)
    raw: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def decode(cls, data: bytes) -> DG11:
        outer = tlv.decode_one(data, expected_tag=cls.TAG)
        items = outer.children()
        if not items or items[0].tag != 0x5C:
            raise DecodeError("DG11: tag list (5C) expected first", offset=outer.value_offset)
        declared = decode_tag_list(items[0].value, base_offset=items[0].value_offset)
        values: dict[str, Any] = {}
        other_names: list[str] = []
        bare = False
        layout: list[int] = []
        for item in items[1:]:
            key = item.tag
            if item.tag in _TEXT_FIELDS:
                name = _TEXT_FIELDS[item.tag]
                if name in values:
                    raise DecodeError(f"DG11: repeated tag {item.tag:X}", offset=item.offset)
                values[name] = decode_utf8(item, f"DG11 {item.tag:X}")
            elif item.tag == 0x5F2B:
                if "full_date_of_birth" in values:
                    raise DecodeError("DG11: repeated tag 5F2B", offset=item.offset)
                values["full_date_of_birth"] = DateValue.decode(item, "DG11 5F2B", bcd_length=4)
            elif item.tag == 0x5F16:
                if "proof_of_citizenship" in values:
                    raise DecodeError("DG11: repeated tag 5F16", offset=item.offset)
                values["proof_of_citizenship"] = item.value
            elif item.tag == 0xA0:
                if other_names:
                    raise DecodeError("DG11: repeated other-names template", offset=item.offset)
                other_names.extend(decode_count_template(item, 0x5F0F, "DG11 other names"))
            elif item.tag == 0x5F0F:
                if other_names and not bare:
                    raise DecodeError("DG11: mixed other-names forms", offset=item.offset)
                bare = True
                other_names.append(decode_utf8(item, "DG11 5F0F"))
            else:
                raise DecodeError(f"DG11: unexpected tag {item.tag:X}", offset=item.offset)
            if key == 0x5F0F:
                key = 0xA0
                if key in layout:
                    continue
            layout.append(key)
        present = {t for t in layout if t != 0xA0}
        if 0xA0 in layout:
            present.add(0x5F0F)
        # The tag list must name what is there (5F0F or A0 may stand for the other names).
        normalised = {0x5F0F if t == 0xA0 else t for t in declared}
        if normalised != present:
            raise DecodeError("DG11: tag list does not match the content", offset=items[0].offset)
        return cls(
            **values,
            other_names=tuple(other_names),
            other_names_bare=bare,
            layout=tuple(layout),
            tag_list=declared,
            raw=bytes(data),
        )

    def _elements(self) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        for tag, name in _TEXT_FIELDS.items():
            value = getattr(self, name)
            if value is not None:
                out[tag] = tlv.encode(tag, encode_utf8(value, f"DG11 {name}"))
        if self.other_names:
            if self.other_names_bare:
                out[0xA0] = b"".join(
                    tlv.encode(0x5F0F, encode_utf8(n, "DG11 other names")) for n in self.other_names
                )
            else:
                out[0xA0] = encode_count_template(0x5F0F, self.other_names, "DG11 other names")
        if self.full_date_of_birth is not None:
            out[0x5F2B] = tlv.encode(0x5F2B, self.full_date_of_birth.encode())
        if self.proof_of_citizenship is not None:
            out[0x5F16] = tlv.encode(0x5F16, self.proof_of_citizenship)
        return out

    def encode(self) -> bytes:
        elements = self._elements()
        order = order_elements(elements, self.layout, _CANONICAL)
        listed = choose_tag_list([0x5F0F if t == 0xA0 else t for t in order], self.tag_list, 0x5F0F)
        body = encode_tag_list(listed) + b"".join(elements[t] for t in order)
        return tlv.encode(self.TAG, body)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in _TEXT_FIELDS.values():
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.other_names:
            out["other_names"] = list(self.other_names)
        if self.full_date_of_birth is not None:
            out["full_date_of_birth"] = self.full_date_of_birth.text
        if self.proof_of_citizenship is not None:
            out["proof_of_citizenship"] = image_summary(self.proof_of_citizenship)
        return out


def image_summary(data: bytes) -> dict[str, Any]:
    """A short JSON description of embedded image bytes: format, length and SHA-256."""
    return {
        "format": image_format(data),
        "length": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def image_format(data: bytes) -> str:
    """The image format named by the magic bytes: jpeg, jpeg2000, png, wsq, or unknown."""
    if data.startswith(b"\xff\xd8"):
        return "jpeg"
    if data.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or data.startswith(b"\xff\x4f\xff\x51"):
        return "jpeg2000"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xa0"):
        return "wsq"
    return "unknown"
