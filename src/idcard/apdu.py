"""Command and response APDUs (ISO/IEC 7816-4 §5.1), short and extended length.

Immutable objects with ``encode()``/``decode()``. ``ne`` is the maximum number of response bytes
expected: ``None`` means no Le field; 256 (short) or 65536 (extended) is encoded as ``00``/``0000``
("as many as available").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from idcard.errors import CardStatusError, DecodeError, EncodeError
from idcard.text import count

__all__ = [
    "SW_MEANINGS",
    "CommandAPDU",
    "ResponseAPDU",
    "StatusWord",
    "chain",
    "sw_meaning",
]

SHORT_MAX_NC = 255
SHORT_MAX_NE = 256
EXT_MAX_NC = 65535
EXT_MAX_NE = 65536


class StatusWord:
    """Named status words used across the project (ISO/IEC 7816-4 §5.6)."""

    OK = 0x9000
    WRONG_LENGTH = 0x6700
    SECURITY_STATUS_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    REFERENCE_DATA_NOT_USABLE = 0x6984
    CONDITIONS_NOT_SATISFIED = 0x6985
    COMMAND_NOT_ALLOWED = 0x6986
    SM_DATA_OBJECTS_MISSING = 0x6987
    SM_DATA_OBJECTS_INCORRECT = 0x6988
    WRONG_DATA = 0x6A80
    FUNCTION_NOT_SUPPORTED = 0x6A81
    FILE_NOT_FOUND = 0x6A82
    RECORD_NOT_FOUND = 0x6A83
    NOT_ENOUGH_MEMORY = 0x6A84
    INCORRECT_P1P2 = 0x6A86
    REFERENCED_DATA_NOT_FOUND = 0x6A88
    FILE_EXISTS = 0x6A89
    WRONG_P1P2 = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_PRECISE_DIAGNOSIS = 0x6F00
    END_OF_FILE = 0x6282
    VERIFICATION_FAILED = 0x6300


SW_MEANINGS: dict[int, str] = {
    0x9000: "success",
    0x6282: "end of file reached before reading Ne bytes",
    0x6283: "selected file deactivated",
    0x6700: "wrong length",
    0x6881: "logical channel not supported",
    0x6882: "secure messaging not supported",
    0x6982: "security status not satisfied",
    0x6983: "authentication method blocked",
    0x6984: "reference data not usable",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current EF)",
    0x6987: "expected secure messaging data objects missing",
    0x6988: "incorrect secure messaging data objects",
    0x6A80: "incorrect parameters in the command data field",
    0x6A81: "function not supported",
    0x6A82: "file or application not found",
    0x6A83: "record not found",
    0x6A84: "not enough memory space in the file",
    0x6A86: "incorrect parameters P1-P2",
    0x6A88: "referenced data or reference data not found",
    0x6A89: "file already exists",
    0x6B00: "wrong parameters P1-P2 (offset outside the EF)",
    0x6D00: "instruction code not supported or invalid",
    0x6E00: "class not supported",
    0x6F00: "no precise diagnosis",
}


def sw_meaning(sw: int) -> str:
    """A human-readable meaning of a status word (ISO/IEC 7816-4 Table 6)."""
    if sw in SW_MEANINGS:
        return SW_MEANINGS[sw]
    sw1, sw2 = sw >> 8, sw & 0xFF
    if sw1 == 0x61:
        return f"{sw2 or 256} response bytes still available"
    if sw1 == 0x6C:
        return f"wrong Le field; {sw2 or 256} bytes available"
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        return f"verification failed, {count(sw2 & 0x0F, 'try', 'tries')} left"
    return "unknown status"


@dataclass(frozen=True, slots=True)
class CommandAPDU:
    """A command APDU. Extended length is chosen automatically when Nc > 255 or Ne > 256,
    or forced with ``extended=True``."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int | None = None
    extended: bool = False

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise EncodeError(f"{name} must be one byte, got {value}")
        if len(self.data) > EXT_MAX_NC:
            raise EncodeError(f"command data of {len(self.data)} bytes is too long")
        if self.ne is not None and not 0 < self.ne <= EXT_MAX_NE:
            raise EncodeError(f"Ne must be 1..65536, got {self.ne}")

    @property
    def is_extended(self) -> bool:
        return (
            self.extended
            or len(self.data) > SHORT_MAX_NC
            or (self.ne is not None and self.ne > SHORT_MAX_NE)
        )

    def with_cla(self, cla: int) -> CommandAPDU:
        return replace(self, cla=cla)

    def encode(self) -> bytes:
        header = bytes([self.cla, self.ins, self.p1, self.p2])
        nc = len(self.data)
        if not self.is_extended:
            body = b""
            if nc:
                body += bytes([nc]) + self.data
            if self.ne is not None:
                body += bytes([self.ne % 256])
            return header + body
        body = b""
        if nc:
            body += b"\x00" + nc.to_bytes(2, "big") + self.data
        if self.ne is not None:
            le = (self.ne % 65536).to_bytes(2, "big")
            body += le if nc else b"\x00" + le
        return header + body

    @classmethod
    def decode(cls, raw: bytes) -> CommandAPDU:
        """Parse the four ISO/IEC 7816-3 cases, short and extended."""
        if len(raw) < 4:
            raise DecodeError("command APDU shorter than its 4-byte header", offset=len(raw))
        cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
        body = raw[4:]
        n = len(body)
        if n == 0:  # case 1
            return cls(cla, ins, p1, p2)
        if n == 1:  # case 2 short
            return cls(cla, ins, p1, p2, ne=body[0] or 256)
        if body[0] != 0 or n < 3:
            # short cases 3 and 4
            nc = body[0]
            if nc == 0:
                raise DecodeError("short Lc of 0 is not allowed", offset=4)
            if n == 1 + nc:
                return cls(cla, ins, p1, p2, bytes(body[1:]))
            if n == 2 + nc:
                return cls(cla, ins, p1, p2, bytes(body[1:-1]), ne=body[-1] or 256)
            raise DecodeError(f"Lc={nc} does not match {n - 1} bytes of body", offset=4)
        # extended: body starts with 00
        if n == 3:  # case 2 extended
            le = int.from_bytes(body[1:3], "big")
            return cls(cla, ins, p1, p2, ne=le or 65536, extended=True)
        nc = int.from_bytes(body[1:3], "big")
        if nc == 0:
            raise DecodeError("extended Lc of 0 is not allowed", offset=5)
        if n == 3 + nc:
            return cls(cla, ins, p1, p2, bytes(body[3:]), extended=True)
        if n == 5 + nc:
            le = int.from_bytes(body[-2:], "big")
            return cls(cla, ins, p1, p2, bytes(body[3:-2]), ne=le or 65536, extended=True)
        raise DecodeError(f"extended Lc={nc} does not match {n - 3} bytes of body", offset=5)

    def __str__(self) -> str:
        return (
            f"{self.cla:02X} {self.ins:02X} {self.p1:02X} {self.p2:02X}"
            f" (Nc={len(self.data)}, Ne={self.ne})"
        )


@dataclass(frozen=True, slots=True)
class ResponseAPDU:
    """A response APDU: data and the status word."""

    data: bytes
    sw: int = 0x9000

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000

    def encode(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @classmethod
    def decode(cls, raw: bytes) -> ResponseAPDU:
        if len(raw) < 2:
            raise DecodeError("response APDU shorter than its status word", offset=len(raw))
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))

    def check(self, command: CommandAPDU | None = None) -> ResponseAPDU:
        """Return self on 9000, else raise :class:`CardStatusError` with the SW and command."""
        if self.sw != 0x9000:
            raise CardStatusError(
                self.sw, command, f"card returned {self.sw:04X} ({sw_meaning(self.sw)})"
                + (f" to {command}" if command is not None else "")
            )
        return self

    def __str__(self) -> str:
        return f"{len(self.data)} bytes, SW {self.sw:04X}"


def chain(command: CommandAPDU, size: int = SHORT_MAX_NC) -> list[CommandAPDU]:
    """Split a command into a command chain (ISO/IEC 7816-4 §5.3.3): CLA bit b5 on all but the
    last part. The last part keeps Ne."""
    if size <= 0:
        raise EncodeError("chain size must be positive")
    if len(command.data) <= size:
        return [command]
    parts = [command.data[i : i + size] for i in range(0, len(command.data), size)]
    out = [
        CommandAPDU(command.cla | 0x10, command.ins, command.p1, command.p2, part)
        for part in parts[:-1]
    ]
    out.append(replace(command, data=parts[-1], extended=False))
    return out
