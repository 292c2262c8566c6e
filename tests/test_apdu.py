"""APDU codec: ISO/IEC 7816-4 cases 1-4 short and extended, status words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idcard.apdu import CommandAPDU, ResponseAPDU, chain, sw_meaning
from idcard.errors import CardStatusError, DecodeError


def test_known_encodings() -> None:
    # SELECT eMRTD application (Doc 9303-10 §3.6.2 style) and READ BINARY, short.
    select = CommandAPDU(0x00, 0xA4, 0x04, 0x0C, bytes.fromhex("A0000002471001"))
    assert select.encode() == bytes.fromhex("00A4040C07A0000002471001")
    assert CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=256).encode() == bytes.fromhex("00B0000000")
    ext = CommandAPDU(0x00, 0xB1, 0x00, 0x00, bytes.fromhex("54020100"), ne=65536)
    assert ext.encode() == bytes.fromhex("00B10000" "000004" "54020100" "0000")
    assert CommandAPDU(0, 0xB0, 0, 0, ne=1000).encode() == bytes.fromhex("00B00000" "0003E8")


@given(
    st.integers(0, 255),
    st.integers(0, 255),
    st.binary(max_size=300),
    st.one_of(st.none(), st.integers(1, 65536)),
    st.booleans(),
)
def test_round_trip(ins: int, p1: int, data: bytes, ne: int | None, extended: bool) -> None:
    cmd = CommandAPDU(0x0C, ins, p1, 0x00, data, ne, extended)
    back = CommandAPDU.decode(cmd.encode())
    assert back.encode() == cmd.encode()
    assert (back.data, back.ne) == (data, ne)


@given(st.binary(max_size=20))
def test_random_bytes_only_decode_error(raw: bytes) -> None:
    try:
        CommandAPDU.decode(raw)
    except DecodeError:
        pass


def test_response_and_status() -> None:
    r = ResponseAPDU.decode(bytes.fromhex("01029000"))
    assert r.data == b"\x01\x02" and r.ok
    bad = ResponseAPDU(b"", 0x6982)
    cmd = CommandAPDU(0, 0xB0, 0, 0, ne=4)
    with pytest.raises(CardStatusError) as err:
        bad.check(cmd)
    assert err.value.sw == 0x6982 and err.value.command is cmd
    assert "security status" in str(err.value)
    assert sw_meaning(0x63C2) == "verification failed, 2 tries left"


def test_chain_sets_cla_bit_on_all_but_last() -> None:
    parts = chain(CommandAPDU(0x00, 0x2A, 0x00, 0xBE, bytes(600), ne=256), 255)
    assert [p.cla for p in parts] == [0x10, 0x10, 0x00]
    assert b"".join(p.data for p in parts) == bytes(600)
    assert parts[-1].ne == 256 and parts[0].ne is None
