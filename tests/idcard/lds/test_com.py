"""EF.COM: published samples byte for byte, builder, round trips, only DecodeError on bad bytes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import VECTORS

from idcard.errors import DecodeError
from idcard.lds.com import DG_TAGS, EFCOM, decode_tag_list, encode_tag_list

SAMPLES = json.loads((VECTORS / "lds/tlv/public-samples.json").read_text())["samples"]
COM_SAMPLES = [s for s in SAMPLES if s["file"] == "EF.COM"]


@pytest.mark.parametrize("sample", COM_SAMPLES, ids=lambda s: s["name"])
def test_published_samples_round_trip(sample: dict[str, str]) -> None:
    data = bytes.fromhex(sample["hex"])
    com = EFCOM.decode(data)
    assert com.raw == data
    assert com.encode() == data
    assert com.lds_version in ("0106", "0107")
    assert com.unicode_version == "040000"


def test_nfcpassportreader_sample_fields() -> None:
    (sample,) = [s for s in COM_SAMPLES if s["name"] == "EF.COM"]
    com = EFCOM.decode(bytes.fromhex(sample["hex"]))
    assert list(com.data_groups) == sample["parsed"]["dataGroupsPresent"]
    assert com.to_json()["data_groups"] == sample["parsed"]["dataGroupsPresent"]


def test_icao_part10_sample_fields() -> None:
    com = EFCOM.decode(bytes.fromhex(COM_SAMPLES[0]["hex"]))
    assert (com.lds_version, com.unicode_version, com.tags) == ("0106", "040000", (0x61, 0x75))


def test_from_data_groups_builds_the_bsi_sample() -> None:
    (sample,) = [s for s in COM_SAMPLES if "TR-03105" in s["name"]]
    built = EFCOM.from_data_groups(
        ["DG1", "DG2", "DG3", "DG4", "DG14"], lds_version="0107", unicode_version="040000"
    )
    assert built.encode() == bytes.fromhex(sample["hex"])


def test_padding_accepted_and_garbage_rejected() -> None:
    data = bytes.fromhex(COM_SAMPLES[0]["hex"])
    assert EFCOM.decode(data + b"\x00\x00").encode() == data
    with pytest.raises(DecodeError) as err:
        EFCOM.decode(data + b"\x01")
    assert err.value.offset == len(data)


@pytest.mark.parametrize(
    ("hex_", "offset"),
    [
        ("61035C0161", 0),  # wrong outer tag
        ("60065F0102303136", None),  # Unicode version and tag list missing
        ("60125F010430313036" + "5F3606303430303030" + "01", None),  # stray byte
        ("60125F0104303130FF5F36063034303030305C00", 8),  # non-ASCII version byte
    ],
)
def test_bad_files(hex_: str, offset: int | None) -> None:
    with pytest.raises(DecodeError) as err:
        EFCOM.decode(bytes.fromhex(hex_))
    if offset is not None:
        assert err.value.offset == offset


def test_multibyte_tag_list() -> None:
    assert decode_tag_list(bytes.fromhex("5F0E5F2B5F11")) == (0x5F0E, 0x5F2B, 0x5F11)
    with pytest.raises(DecodeError):
        decode_tag_list(bytes.fromhex("5F"))


versions = st.text(alphabet="0123456789", min_size=4, max_size=4)
uni = st.text(alphabet="0123456789", min_size=6, max_size=6)


@given(versions, uni, st.lists(st.sampled_from(sorted(DG_TAGS.values())), max_size=16))
def test_round_trip(lds: str, unicode_version: str, tags: list[int]) -> None:
    com = EFCOM(lds, unicode_version, tuple(tags))
    again = EFCOM.decode(com.encode())
    assert again == com
    assert again.encode() == com.encode()


@given(st.lists(st.integers(0x41, 0x7F) | st.integers(0x5F01, 0x5F7F), max_size=10))
def test_tag_list_round_trip(tags: list[int]) -> None:
    tags = [t for t in tags if t & 0x1F != 0x1F]
    encoded = encode_tag_list(tags)
    assert decode_tag_list(encoded[2:]) == tuple(tags)


@given(st.binary(max_size=64))
def test_random_bytes_only_decode_error(data: bytes) -> None:
    try:
        EFCOM.decode(data)
    except DecodeError:
        pass


@given(st.data())
def test_mutated_sample_only_decode_error(data: st.DataObject) -> None:
    raw = bytearray(bytes.fromhex(COM_SAMPLES[1]["hex"]))
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] = data.draw(st.integers(0, 255))
    try:
        EFCOM.decode(bytes(raw))
    except DecodeError:
        pass
