"""What a reader needs from an ATR: its historical bytes and the card capabilities in them.

ISO/IEC 7816-3 §8.2 lays out the ATR (TS, T0, interface bytes TA/TB/TC/TD chained by the high
nibble of T0 and each TDi, the historical bytes counted by the low nibble of T0, then TCK).
ISO/IEC 7816-4 §8.1.1 gives the historical bytes: a category indicator, then (for 00 and 80)
COMPACT-TLV objects, one byte ``tag << 4 | length`` each. Card capabilities (tag 7, §8.1.1.2.7)
hold up to three software function tables; in the third, b8 = command chaining and b7 =
extended Lc and Le fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from idcard.errors import DecodeError

__all__ = [
    "ATRInfo",
    "CardCapabilities",
    "compact_tlv",
    "extended_length_of",
    "parse_atr",
]

_TAG_CARD_CAPABILITIES = 0x7


@dataclass(frozen=True, slots=True)
class CardCapabilities:
    """The card capabilities data object (ISO/IEC 7816-4 §8.1.1.2.7, tables 116-118)."""

    selection_methods: int | None = None
    data_coding: int | None = None
    third_table: int | None = None

    @property
    def command_chaining(self) -> bool:
        return self.third_table is not None and bool(self.third_table & 0x80)

    @property
    def extended_length(self) -> bool:
        """b7 of the third software function table: extended Lc and Le fields."""
        return self.third_table is not None and bool(self.third_table & 0x40)

    @classmethod
    def decode(cls, value: bytes) -> CardCapabilities:
        if not 1 <= len(value) <= 3:
            raise DecodeError(f"card capabilities have 1 to 3 bytes, not {len(value)}")
        tables: list[int | None] = [*value, None, None][:3]
        return cls(tables[0], tables[1], tables[2])


@dataclass(frozen=True, slots=True)
class ATRInfo:
    """The parts of an ATR this library uses."""

    protocols: frozenset[int]
    historical_bytes: bytes
    capabilities: CardCapabilities | None

    @property
    def extended_length(self) -> bool:
        return self.capabilities is not None and self.capabilities.extended_length


def compact_tlv(data: bytes, *, base_offset: int = 0) -> list[tuple[int, bytes]]:
    """Split COMPACT-TLV objects (ISO/IEC 7816-4 §8.1.1.1): one nibble tag, one nibble length."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        tag, length = data[pos] >> 4, data[pos] & 0x0F
        end = pos + 1 + length
        if end > len(data):
            raise DecodeError("COMPACT-TLV object runs past the end", offset=base_offset + pos)
        out.append((tag, bytes(data[pos + 1 : end])))
        pos = end
    return out


def parse_atr(atr: bytes) -> ATRInfo:
    """Walk the interface bytes to the historical bytes and read the card capabilities.

    Protocols are those named by the TDi bytes (T=0 when there is no TD1, ISO/IEC 7816-3 §8.2.3).
    """
    if len(atr) < 2:
        raise DecodeError("an ATR has at least TS and T0", offset=len(atr))
    t0 = atr[1]
    k = t0 & 0x0F
    y = t0 >> 4
    pos = 2
    protocols: set[int] = set()
    while True:
        pos += bin(y & 0x7).count("1")  # TA, TB, TC present
        if not y & 0x8:
            break
        if pos >= len(atr):
            raise DecodeError("ATR ends inside its interface bytes", offset=pos)
        td = atr[pos]
        pos += 1
        if td & 0x0F != 15:  # T=15 announces global interface bytes, not a protocol
            protocols.add(td & 0x0F)
        y = td >> 4
    if not protocols:
        protocols.add(0)
    if pos + k > len(atr):
        raise DecodeError(f"ATR announces {k} historical bytes it does not have", offset=pos)
    hist = bytes(atr[pos : pos + k])
    return ATRInfo(frozenset(protocols), hist, _capabilities(hist, pos))


def extended_length_of(transport: object) -> bool:
    """True when the transport's ``atr`` (PC/SC, the in-process chip) announces extended Lc and
    Le; False when it has no ATR or one that does not parse."""
    atr = getattr(transport, "atr", None)
    if not isinstance(atr, bytes | bytearray):
        return False
    try:
        return parse_atr(bytes(atr)).extended_length
    except DecodeError:
        return False


def _capabilities(hist: bytes, offset: int) -> CardCapabilities | None:
    if not hist or hist[0] not in (0x00, 0x80):
        return None  # 10: DIR data reference; other values proprietary
    body = hist[1:-3] if hist[0] == 0x00 else hist[1:]
    if hist[0] == 0x00 and len(hist) < 4:
        raise DecodeError("category 00 needs a 3-byte status indicator", offset=offset)
    for tag, value in compact_tlv(body, base_offset=offset + 1):
        if tag == _TAG_CARD_CAPABILITIES:
            return CardCapabilities.decode(value)
    return None
