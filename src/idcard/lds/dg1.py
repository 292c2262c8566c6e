"""DG1, the machine readable zone (ICAO Doc 9303-10 §4.7.1): ``61 { 5F1F <MRZ characters> }``.

The ``5F1F`` value is the MRZ lines concatenated without separators (TD1 90, TD2 72, TD3 88
characters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from idcard import tlv
from idcard.errors import DecodeError, EncodeError, MRZError
from idcard.lds.com import decode_ascii
from idcard.mrz import MRZ

__all__ = ["DG1"]

_JSON_FIELDS = (
    "format",
    "document_code",
    "issuing_state",
    "document_number",
    "birth_date",
    "sex",
    "expiry_date",
    "nationality",
    "surname",
    "given_names",
    "optional_data",
)


@dataclass(frozen=True, slots=True)
class DG1:
    """DG1: the MRZ of the document (Doc 9303-10 §4.7.1)."""

    TAG: ClassVar[int] = 0x61
    NAME: ClassVar[str] = "DG1"

    mrz: MRZ
    raw: bytes = field(default=b"", repr=False, compare=False)

    @classmethod
    def decode(cls, data: bytes) -> DG1:
        outer = tlv.decode_one(data, expected_tag=cls.TAG)
        items = outer.children()
        if len(items) != 1 or items[0].tag != 0x5F1F:
            raise DecodeError("DG1: exactly one 5F1F element expected", offset=outer.value_offset)
        item = items[0]
        text = decode_ascii(item, "DG1 MRZ")
        try:
            mrz = MRZ.parse(text)
        except MRZError as exc:
            where = item.value_offset + (exc.offset or 0)
            raise DecodeError(f"DG1: {exc.reason}", offset=where) from None
        return cls(mrz, raw=bytes(data))

    def encode(self) -> bytes:
        text = self.mrz.encode().replace("\n", "")
        try:
            value = text.encode("ascii")
        except UnicodeEncodeError as exc:
            raise EncodeError("DG1: MRZ is not ASCII") from exc
        return tlv.encode(self.TAG, tlv.encode(0x5F1F, value))

    def to_json(self) -> dict[str, Any]:
        m = self.mrz
        out: dict[str, Any] = {name: getattr(m, name) for name in _JSON_FIELDS}
        out["mrz"] = m.encode()
        return out
