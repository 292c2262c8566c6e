"""DG5/DG7 displayed images and the byte-kept groups (DG13, DG6, DG8–DG10)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import VECTORS

from idcard.errors import DecodeError, EncodeError
from idcard.lds.dg13 import DG6, DG8, DG9, DG10, DG13
from idcard.lds.displayed import DG5, DG7

DG7_SAMPLE = (VECTORS / "lds/tlv/DG7.sample").read_bytes()


def test_gmrtd_dg7_sample() -> None:
    dg7 = DG7.decode(DG7_SAMPLE)
    assert dg7.encode() == DG7_SAMPLE
    (image,) = dg7.images
    assert image.startswith(b"\xff\xd8\xff\xe0") and b"Exif" in image[:64]
    assert len(image) == 5099
    summary = dg7.to_json()["images"][0]
    assert summary == {
        "format": "jpeg",
        "length": 5099,
        "sha256": hashlib.sha256(image).hexdigest(),
    }


@pytest.mark.parametrize(
    "data",
    [
        DG7_SAMPLE[:5] + b"\x00" + DG7_SAMPLE[6:],  # count 0 with one image (gmrtd case)
        DG7_SAMPLE[:4] + b"\x02\x00\x01" + DG7_SAMPLE[6:],  # 2-byte count
        bytes.fromhex("6706020101") + bytes.fromhex("5F4000"),  # DG5 image tag inside DG7
        DG7_SAMPLE[:-1],  # truncated
    ],
)
def test_bad_dg7(data: bytes) -> None:
    with pytest.raises(DecodeError):
        DG7.decode(data)


def test_builders() -> None:
    portrait = b"\xff\xd8\xff\xe0portrait"
    dg5 = DG5.from_image(portrait)
    assert dg5.encode() == bytes.fromhex("6512020101") + b"\x5f\x40\x0c" + portrait
    assert DG5.decode(dg5.encode()) == dg5
    assert (
        DG7.from_image(b"sig").encode()
        == bytes.fromhex("670902010 15F4303".replace(" ", "")) + b"sig"
    )


@given(st.lists(st.binary(max_size=300), max_size=4))
def test_round_trips(images: list[bytes]) -> None:
    for cls in (DG5, DG7):
        obj = cls(tuple(images))
        again = cls.decode(obj.encode())
        assert type(again) is cls and again == obj and again.raw == obj.encode()
    assert (DG5(tuple(images)) == DG7(tuple(images))) is False


def test_count_limit() -> None:
    # The count (02) is one byte: 255 images encode, 256 do not (Doc 9303-10 §4.7.5, §4.7.7).
    for cls in (DG5, DG7):
        assert len(cls.decode(cls((b"x",) * 255).encode()).images) == 255
        with pytest.raises(EncodeError):
            cls((b"x",) * 256).encode()


@given(st.binary(max_size=400))
def test_byte_kept_groups(content: bytes) -> None:
    for cls, tag in ((DG13, 0x6D), (DG6, 0x66), (DG8, 0x68), (DG9, 0x69), (DG10, 0x6A)):
        obj = cls(content)
        encoded = obj.encode()
        assert encoded[0] == tag
        again = cls.decode(encoded)
        assert type(again) is cls and again == obj


def test_dg13_gmrtd_cases() -> None:
    assert DG13.decode(bytes.fromhex("6D0A01234567890123456789")).content == bytes.fromhex(
        "01234567890123456789"
    )
    for bad in ("01021234", "6D025F", "6D"):
        with pytest.raises(DecodeError):
            DG13.decode(bytes.fromhex(bad))


@given(st.data())
def test_mutated_dg7_only_decode_error(data: st.DataObject) -> None:
    raw = bytearray(DG7_SAMPLE[:64])
    pos = data.draw(st.integers(0, 12))
    raw[pos] = data.draw(st.integers(0, 255))
    try:
        DG7.decode(bytes(raw) + DG7_SAMPLE[64:])
    except DecodeError:
        pass
