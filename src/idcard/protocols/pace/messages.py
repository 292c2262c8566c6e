"""PACE APDUs: MSE:Set AT and the chain of four GENERAL AUTHENTICATE commands (9303-11 §4.4.4).

MSE:Set AT (00 22 C1 A4) carries 80 (protocol OID content octets), 83 (password reference),
optionally 84 (domain parameter id) and 7F4C (CHAT). Each GENERAL AUTHENTICATE (INS 86, P1-P2
00 00) wraps its data objects in a Dynamic Authentication Data object 7C; the first three are
sent with command chaining (CLA 10), the last with CLA 00 (§4.4.4.3). Le is always "as many as
available" (00, or 00 00 when the command needs extended length).
"""

from __future__ import annotations

from dataclasses import dataclass

from idcard import tlv
from idcard.apdu import SHORT_MAX_NC, CommandAPDU
from idcard.errors import DecodeError

__all__ = [
    "GA_INS",
    "MSE_INS",
    "MSESetAT",
    "general_authenticate",
    "parse_dynamic_data",
]

MSE_INS = 0x22
GA_INS = 0x86
MSE_SET_AT_P1P2 = (0xC1, 0xA4)
CHAINING_CLA = 0x10


@dataclass(frozen=True, slots=True)
class MSESetAT:
    """The data of MSE:Set AT for PACE (9303-11 §4.4.4.1)."""

    oid_bytes: bytes
    password_ref: int
    parameter_id: int | None = None
    chat: bytes | None = None
    """The complete 7F4C data object, when present."""

    def command(self) -> CommandAPDU:
        parts = [tlv.encode(0x80, self.oid_bytes), tlv.encode(0x83, bytes([self.password_ref]))]
        if self.parameter_id is not None:
            parts.append(tlv.encode(0x84, _minimal_int(self.parameter_id)))
        if self.chat is not None:
            parts.append(self.chat)
        return CommandAPDU(0x00, MSE_INS, *MSE_SET_AT_P1P2, b"".join(parts))

    @classmethod
    def decode(cls, data: bytes) -> MSESetAT:
        """Parse the command data; unknown tags are ignored (§4.4.4.1 Note 2)."""
        items = tlv.decode_all(data)
        _no_duplicates(items)
        oid = tlv.require(items, 0x80, "MSE:Set AT").value
        ref = tlv.require(items, 0x83, "MSE:Set AT")
        if len(ref.value) != 1:
            raise DecodeError("password reference must be one byte", offset=ref.value_offset)
        pid = tlv.find(items, 0x84)
        parameter_id = None
        if pid is not None:
            if not 1 <= len(pid.value) <= 2:
                raise DecodeError("domain parameter reference too long", offset=pid.value_offset)
            parameter_id = int.from_bytes(pid.value, "big")
        chat = tlv.find(items, 0x7F4C)
        return cls(oid, ref.value[0], parameter_id, chat.encode() if chat is not None else None)


def _minimal_int(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def _no_duplicates(items: list[tlv.TLV]) -> None:
    seen: set[int] = set()
    for item in items:
        if item.tag in seen:
            raise DecodeError(f"tag {item.tag:X} appears twice", offset=item.offset)
        seen.add(item.tag)


def general_authenticate(objects: list[tuple[int, bytes]], *, last: bool) -> CommandAPDU:
    """GENERAL AUTHENTICATE with 7C{objects}; CLA 10 unless ``last`` (command chaining)."""
    body = tlv.encode(0x7C, [tlv.encode(tag, value) for tag, value in objects])
    ne = 65536 if len(body) > SHORT_MAX_NC else 256
    return CommandAPDU(0x00 if last else CHAINING_CLA, GA_INS, 0x00, 0x00, body, ne=ne)


def parse_dynamic_data(
    data: bytes, required: tuple[int, ...], optional: tuple[int, ...] = ()
) -> dict[int, bytes]:
    """The data objects inside one 7C object: every required tag present, nothing unknown,
    nothing twice, nothing after the 7C object."""
    outer = tlv.decode_one(data, expected_tag=0x7C, allow_padding=False)
    items = outer.children()
    _no_duplicates(items)
    found = {item.tag: item.value for item in items}
    for tag in found:
        if tag not in required and tag not in optional:
            raise DecodeError(f"unexpected data object {tag:X} in 7C")
    for tag in required:
        if tag not in found:
            raise DecodeError(f"data object {tag:X} missing from 7C")
    return found
