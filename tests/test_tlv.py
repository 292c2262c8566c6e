"""BER-TLV codec: known encodings, round trips, and only DecodeError on bad bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idcard import tlv
from idcard.errors import DecodeError

tags = st.sampled_from([0x01, 0x30, 0x5F1F, 0x5F2B, 0x7F61, 0x7F2E, 0x5F0E, 0xA1, 0x9F8101])


def test_known_encodings() -> None:
    assert tlv.encode(0x5F1F, b"AB") == bytes.fromhex("5F1F024142")
    assert tlv.encode_length(127) == b"\x7f"
    assert tlv.encode_length(128) == b"\x81\x80"
    assert tlv.encode_length(256) == b"\x82\x01\x00"
    assert tlv.encode_tag(0x7F61) == b"\x7f\x61"


def test_non_minimal_length_accepted_with_offsets() -> None:
    data = bytes.fromhex("61 82 0005 5F01 02 0102".replace(" ", ""))
    outer = tlv.decode_one(data, expected_tag=0x61)
    (inner,) = outer.children()
    assert inner.tag == 0x5F01 and inner.value == b"\x01\x02"
    assert inner.offset == 4 and inner.value_offset == 7


def test_padding_and_garbage() -> None:
    assert tlv.decode_one(bytes.fromhex("0101AA0000")).value == b"\xaa"
    with pytest.raises(DecodeError) as err:
        tlv.decode_one(bytes.fromhex("0101AA01"))
    assert err.value.offset == 3


def test_truncation_names_offset() -> None:
    with pytest.raises(DecodeError) as err:
        tlv.decode_one(bytes.fromhex("6105 5F0102".replace(" ", "")))
    assert err.value.offset == 0


@given(tags, st.binary(max_size=600))
def test_round_trip(tag: int, value: bytes) -> None:
    item = tlv.decode_one(tlv.encode(tag, value), allow_padding=False)
    assert (item.tag, item.value) == (tag, value)
    assert item.encode() == tlv.encode(tag, value)


@given(st.binary(max_size=64))
def test_random_bytes_only_decode_error(data: bytes) -> None:
    try:
        tlv.decode_all(data)
    except DecodeError:
        pass


@given(tags, st.binary(max_size=300), st.binary(max_size=4))
def test_read_header_matches_read_tlv(tag: int, value: bytes, tail: bytes) -> None:
    data = b"\x00" + tlv.encode(tag, value) + tail
    item, end = tlv.read_tlv(data, 1)
    assert tlv.read_header(data, 1) == (item.tag, item.value_offset, end)


@given(st.binary(max_size=8), st.integers(0, 3))
def test_read_header_on_junk_raises_only_decode_error(data: bytes, pos: int) -> None:
    try:
        tag, start, end = tlv.read_header(data, pos)
    except DecodeError:
        return
    # the fast path agrees with the general decoder wherever the whole object is present
    if end <= len(data):
        item, stop = tlv.read_tlv(data, pos)
        assert (item.tag, item.value_offset, stop) == (tag, start, end)
