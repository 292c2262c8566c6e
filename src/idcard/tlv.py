"""BER-TLV as used by ICAO Doc 9303 and ISO/IEC 7816-4 (the one TLV module of the project).

Tags are kept as integers of their encoded bytes (``0x5F1F``, ``0x7F61``), as Doc 9303 prints
them. Lengths are definite (short form, or long form with 1–4 length bytes); the decoder accepts
non-minimal long forms that real documents carry, the encoder always writes the minimal form.
Every failure is a :class:`~idcard.errors.DecodeError` naming the absolute offset.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from idcard.errors import DecodeError, EncodeError

__all__ = [
    "TLV",
    "decode_all",
    "decode_one",
    "encode",
    "encode_length",
    "encode_tag",
    "find",
    "iter_tlv",
    "is_constructed",
    "read_header",
    "read_tlv",
    "require",
    "strip_padding",
]

_MAX_LENGTH_BYTES = 4


def is_constructed(tag: int) -> bool:
    """True when the tag's first byte has the constructed bit (b6) set."""
    first = tag
    while first > 0xFF:
        first >>= 8
    return bool(first & 0x20)


def encode_tag(tag: int) -> bytes:
    """Tag number as its BER bytes (the integer is the bytes, big-endian)."""
    if tag < 0:
        raise EncodeError(f"negative tag {tag}")
    if tag == 0:
        return b"\x00"
    return tag.to_bytes((tag.bit_length() + 7) // 8, "big")


def encode_length(length: int) -> bytes:
    """Definite length in the minimal form (short below 128, else 81/82/83/84 + bytes)."""
    if length < 0:
        raise EncodeError(f"negative length {length}")
    if length < 0x80:
        return bytes([length])
    n = (length.bit_length() + 7) // 8
    if n > _MAX_LENGTH_BYTES:
        raise EncodeError(f"length {length} too large for BER-TLV")
    return bytes([0x80 | n]) + length.to_bytes(n, "big")


def encode(tag: int, value: bytes | Iterable[bytes]) -> bytes:
    """One TLV: tag, minimal length, value (a byte string or parts joined in order)."""
    body = value if isinstance(value, bytes | bytearray) else b"".join(value)
    return encode_tag(tag) + encode_length(len(body)) + bytes(body)


@dataclass(frozen=True, slots=True)
class TLV:
    """One decoded data object: its tag, its value bytes, and where it sat in the input."""

    tag: int
    value: bytes
    offset: int = 0
    """Absolute offset of the tag's first byte in the decoded input (0 for built objects)."""
    value_offset: int = 0
    """Absolute offset of the value's first byte in the decoded input (0 for built objects)."""

    @property
    def constructed(self) -> bool:
        return is_constructed(self.tag)

    def children(self) -> list[TLV]:
        """The value decoded as a sequence of TLVs (offsets stay absolute)."""
        return decode_all(self.value, base_offset=self.value_offset)

    def encode(self) -> bytes:
        return encode(self.tag, self.value)


def _read_tag(data: bytes, pos: int, base: int) -> tuple[int, int]:
    if pos >= len(data):
        raise DecodeError("truncated: tag expected", offset=base + pos)
    first = data[pos]
    tag = first
    pos += 1
    if first & 0x1F == 0x1F:
        count = 0
        while True:
            if pos >= len(data):
                raise DecodeError("truncated multi-byte tag", offset=base + pos)
            b = data[pos]
            tag = (tag << 8) | b
            pos += 1
            count += 1
            if not b & 0x80:
                break
            if count >= 3:
                raise DecodeError("tag longer than 4 bytes", offset=base + pos - 1)
    return tag, pos


def _read_length(data: bytes, pos: int, base: int) -> tuple[int, int]:
    if pos >= len(data):
        raise DecodeError("truncated: length expected", offset=base + pos)
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    n = first & 0x7F
    if n == 0:
        raise DecodeError("indefinite length is not allowed", offset=base + pos - 1)
    if n > _MAX_LENGTH_BYTES:
        raise DecodeError(f"length field of {n} bytes is not supported", offset=base + pos - 1)
    if pos + n > len(data):
        raise DecodeError("truncated length field", offset=base + pos)
    return int.from_bytes(data[pos : pos + n], "big"), pos + n


def read_header(data: bytes, pos: int = 0) -> tuple[int, int, int]:
    """The tag at ``pos`` and where its value starts and ends, without copying the value.

    For hot paths that walk large inputs (EF.SOD during verification); the end is not checked
    against ``len(data)`` — callers compare it with their container's end.
    """
    try:  # fast path: one-byte tag, short or 81/82 length (nearly every object of an EF.SOD)
        tag = data[pos]
        if tag & 0x1F != 0x1F:
            first = data[pos + 1]
            if first < 0x80:
                return tag, pos + 2, pos + 2 + first
            if first == 0x81:
                return tag, pos + 3, pos + 3 + data[pos + 2]
            if first == 0x82:
                return tag, pos + 4, pos + 4 + (data[pos + 2] << 8 | data[pos + 3])
    except IndexError:
        pass  # truncated: the general path below names the offset
    tag, start = _read_tag(data, pos, 0)
    length, start = _read_length(data, start, 0)
    return tag, start, start + length


def read_tlv(data: bytes, offset: int = 0, *, base_offset: int = 0) -> tuple[TLV, int]:
    """Read one TLV at ``offset``; return it and the offset just past it.

    ``base_offset`` is added to every reported offset (for values nested in a larger input).
    """
    tag, pos = _read_tag(data, offset, base_offset)
    length, pos = _read_length(data, pos, base_offset)
    end = pos + length
    if end > len(data):
        raise DecodeError(
            f"tag {tag:X} claims {length} bytes but only {len(data) - pos} remain",
            offset=base_offset + offset,
        )
    return TLV(tag, bytes(data[pos:end]), base_offset + offset, base_offset + pos), end


def iter_tlv(data: bytes, *, base_offset: int = 0) -> Iterator[TLV]:
    """Yield the TLVs of a concatenation, all the way to the end."""
    pos = 0
    while pos < len(data):
        item, pos = read_tlv(data, pos, base_offset=base_offset)
        yield item


def decode_all(data: bytes, *, base_offset: int = 0) -> list[TLV]:
    """Decode a concatenation of TLVs that fills ``data`` exactly."""
    return list(iter_tlv(data, base_offset=base_offset))


def strip_padding(data: bytes, end: int) -> None:
    """Raise unless everything from ``end`` is padding (0x00 or 0xFF bytes, as files carry)."""
    rest = data[end:]
    if rest.strip(b"\x00") and rest.strip(b"\xff"):
        raise DecodeError(f"{len(rest)} unexpected bytes after the data object", offset=end)


def decode_one(data: bytes, *, expected_tag: int | None = None, allow_padding: bool = True) -> TLV:
    """Decode a file holding exactly one TLV (plus, if allowed, trailing 00/FF padding)."""
    item, end = read_tlv(data, 0)
    if expected_tag is not None and item.tag != expected_tag:
        raise DecodeError(f"expected tag {expected_tag:X}, found {item.tag:X}", offset=0)
    if end != len(data):
        if not allow_padding:
            raise DecodeError(f"{len(data) - end} bytes after the data object", offset=end)
        strip_padding(data, end)
    return item


def find(items: Iterable[TLV], tag: int) -> TLV | None:
    """The first item with ``tag``, or None."""
    for item in items:
        if item.tag == tag:
            return item
    return None


def require(items: Iterable[TLV], tag: int, where: str, *, offset: int = 0) -> TLV:
    """The first item with ``tag``; a DecodeError naming ``where`` when it is missing."""
    found = find(items, tag)
    if found is None:
        raise DecodeError(f"{where}: mandatory tag {tag:X} missing", offset=offset)
    return found
