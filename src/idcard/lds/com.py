"""EF.COM, the LDS common data element (ICAO Doc 9303-10 §4.6.1), and the tag-list helpers.

EF.COM (tag ``60``) carries the LDS version (``5F01``, "aabb"), the Unicode version (``5F36``,
"aabbcc") and the list of data-group tags present (``5C``). The ``5C`` tag-list codec is shared
with DG11 and DG12, whose ``5C`` lists multi-byte tags.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from idcard import tlv
from idcard.errors import DecodeError, EncodeError

__all__ = [
    "DG_TAGS",
    "EFCOM",
    "decode_ascii",
    "decode_tag_list",
    "encode_tag_list",
]

DG_TAGS: dict[str, int] = {
    "DG1": 0x61,
    "DG2": 0x75,
    "DG3": 0x63,
    "DG4": 0x76,
    "DG5": 0x65,
    "DG6": 0x66,
    "DG7": 0x67,
    "DG8": 0x68,
    "DG9": 0x69,
    "DG10": 0x6A,
    "DG11": 0x6B,
    "DG12": 0x6C,
    "DG13": 0x6D,
    "DG14": 0x6E,
    "DG15": 0x6F,
    "DG16": 0x70,
}
"""Data-group name → the tag of its outer template (Doc 9303-10 §4.6.1, Table 34)."""

_DG_NAMES = {tag: name for name, tag in DG_TAGS.items()}


def decode_tag_list(value: bytes, *, base_offset: int = 0) -> tuple[int, ...]:
    """The tags of a ``5C`` tag list (one- or multi-byte BER tags, concatenated)."""
    tags: list[int] = []
    pos = 0
    while pos < len(value):
        start = pos
        tag = value[pos]
        pos += 1
        if tag & 0x1F == 0x1F:
            while True:
                if pos >= len(value) or pos - start > 3:
                    raise DecodeError("truncated tag in tag list", offset=base_offset + start)
                tag = (tag << 8) | value[pos]
                pos += 1
                if not value[pos - 1] & 0x80:
                    break
        tags.append(tag)
    return tuple(tags)


def encode_tag_list(tags: Iterable[int]) -> bytes:
    """The ``5C`` data object listing ``tags`` in order."""
    return tlv.encode(0x5C, b"".join(tlv.encode_tag(t) for t in tags))


def decode_ascii(item: tlv.TLV, where: str) -> str:
    """The value of ``item`` as ASCII text, or a DecodeError at its offset."""
    try:
        return item.value.decode("ascii")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"{where}: not ASCII", offset=item.value_offset + exc.start) from None


@dataclass(frozen=True, slots=True)
class EFCOM:
    """EF.COM: LDS and Unicode versions and the data groups present (Doc 9303-10 §4.6.1).

    ``lds_version`` and ``unicode_version`` are the ASCII digits as stored ("0107", "040000");
    ``tags`` the data-group tags of the ``5C`` list, in file order.
    """

    TAG: ClassVar[int] = 0x60
    NAME: ClassVar[str] = "EF.COM"

    lds_version: str
    unicode_version: str
    tags: tuple[int, ...]
    raw: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def decode(cls, data: bytes) -> EFCOM:
        outer = tlv.decode_one(data, expected_tag=cls.TAG)
        items = outer.children()
        lds = tlv.require(items, 0x5F01, "EF.COM LDS version", offset=outer.offset)
        uni = tlv.require(items, 0x5F36, "EF.COM Unicode version", offset=outer.offset)
        tag_list = tlv.require(items, 0x5C, "EF.COM tag list", offset=outer.offset)
        for item in items:
            if item.tag not in (0x5F01, 0x5F36, 0x5C):
                raise DecodeError(f"EF.COM: unexpected tag {item.tag:X}", offset=item.offset)
        if [i.tag for i in items] != [0x5F01, 0x5F36, 0x5C]:
            raise DecodeError("EF.COM: elements out of order or repeated", offset=outer.offset)
        lds_version = decode_ascii(lds, "EF.COM LDS version")
        unicode_version = decode_ascii(uni, "EF.COM Unicode version")
        tags = decode_tag_list(tag_list.value, base_offset=tag_list.value_offset)
        return cls(lds_version, unicode_version, tags, raw=bytes(data))

    def encode(self) -> bytes:
        try:
            body = (
                tlv.encode(0x5F01, self.lds_version.encode("ascii"))
                + tlv.encode(0x5F36, self.unicode_version.encode("ascii"))
                + encode_tag_list(self.tags)
            )
        except UnicodeEncodeError as exc:
            raise EncodeError("EF.COM versions must be ASCII") from exc
        return tlv.encode(self.TAG, body)

    @classmethod
    def from_data_groups(
        cls,
        names: Iterable[str],
        *,
        lds_version: str = "0108",
        unicode_version: str = "040000",
    ) -> EFCOM:
        """EF.COM listing the named data groups ("DG1", "DG2", …) in the given order."""
        tags = []
        for name in names:
            if name not in DG_TAGS:
                raise EncodeError(f"not a data group name: {name!r}")
            tags.append(DG_TAGS[name])
        return cls(lds_version, unicode_version, tuple(tags))

    @property
    def data_groups(self) -> tuple[str, ...]:
        """Names of the listed data groups ("DG1", …); unknown tags as their hex value."""
        return tuple(_DG_NAMES.get(t, f"{t:X}") for t in self.tags)

    def to_json(self) -> dict[str, Any]:
        return {
            "lds_version": self.lds_version,
            "unicode_version": self.unicode_version,
            "data_groups": list(self.data_groups),
        }
