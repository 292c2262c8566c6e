"""ATR parsing: protocols, historical bytes, card capabilities.

ISO/IEC 7816-3 §8 and ISO/IEC 7816-4 §8.1.1.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.idcard.chip.sim_card import ATR_T0, ATR_T1

from idcard.errors import DecodeError
from idcard.reader.atr import CardCapabilities, compact_tlv, parse_atr


def test_t1_atr_with_extended_length() -> None:
    info = parse_atr(ATR_T1)
    assert info.protocols == {0, 1}
    assert info.historical_bytes == bytes.fromhex("80738001C0")
    assert info.capabilities == CardCapabilities(0x80, 0x01, 0xC0)
    assert info.extended_length and info.capabilities.command_chaining


def test_t0_atr_without_capabilities() -> None:
    info = parse_atr(ATR_T0)
    assert info.protocols == {0}
    assert info.historical_bytes == b"\x14\x50"
    assert info.capabilities is None and not info.extended_length


def test_category_00_with_status_indicator() -> None:
    # TA1 present, 8 historical bytes: category 00, capabilities 73 80 01 80 (chaining, no
    # extended length), status indicator 00 90 00 (life cycle, SW1-SW2).
    atr = bytes.fromhex("3B1896") + bytes.fromhex("0073800180") + bytes.fromhex("009000")
    info = parse_atr(atr)
    assert info.capabilities == CardCapabilities(0x80, 0x01, 0x80)
    assert not info.extended_length and info.capabilities.command_chaining


def test_global_td_is_not_a_protocol() -> None:
    # TD1 = 8F: T=15 (global), TD2 follows = 01: T=1
    atr = bytes.fromhex("3B808F0100")
    assert parse_atr(atr).protocols == {1}


@pytest.mark.parametrize(
    "atr", ["3B", "3B85800180", "3B8F", "3B028033", "3B0280", "3B03000102"]
)
def test_truncated_atrs(atr: str) -> None:
    with pytest.raises(DecodeError):
        parse_atr(bytes.fromhex(atr))


def test_compact_tlv_overrun() -> None:
    assert compact_tlv(bytes.fromhex("3101")) == [(3, b"\x01")]
    with pytest.raises(DecodeError, match="past the end"):
        compact_tlv(bytes.fromhex("3301"))


@given(st.binary(max_size=40))
def test_random_bytes_only_decode_error(data: bytes) -> None:
    try:
        parse_atr(data)
    except DecodeError:
        pass
