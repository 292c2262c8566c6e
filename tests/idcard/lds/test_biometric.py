"""CBEFF groups, 19794-5 / 39794-5 face records, 19794-4 finger records; DG2, DG3, DG4."""

from __future__ import annotations

import hashlib
import json
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import VECTORS

from idcard import tlv
from idcard.errors import DecodeError, EncodeError
from idcard.lds.biometric import (
    FORMAT_TYPE_FACE_19794,
    FORMAT_TYPE_FACE_39794,
    BiometricHeader,
    BiometricTemplate,
)
from idcard.lds.dg2 import DG2
from idcard.lds.dg3 import DG3
from idcard.lds.dg4 import DG4
from idcard.lds.face import FaceImage, FaceImageDataBlock, FaceImageRecord, FeaturePoint, image_size
from idcard.lds.finger import FingerImage, FingerImageRecord

TLV_DIR = VECTORS / "lds/tlv"
SOURCES = json.loads((TLV_DIR / "SOURCES.json").read_text())
DG2_FILES = sorted(n for n in SOURCES if n.startswith("DG2."))


def jpeg(width: int, height: int, *, exif: bool = True) -> bytes:
    """A minimal JPEG byte stream: SOI, APP0, APP1 (EXIF), SOF0 with the size, EOI."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    app1 = b"\xff\xe1" + struct.pack(">H", 16) + b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + (app1 if exif else b"") + sof + b"\xff\xd9"


def png(width: int, height: int) -> bytes:
    return (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", width, height)
    )


@pytest.mark.parametrize("name", DG2_FILES)
def test_gmrtd_dg2_samples(name: str) -> None:
    data = (TLV_DIR / name).read_bytes()
    dg2 = DG2.decode(data)
    assert dg2.encode() == data
    (image,) = dg2.images
    assert hashlib.sha256(image).hexdigest().upper() == SOURCES[name]["image_sha256"]
    json.dumps(dg2.to_json())


def test_39794_fields() -> None:
    dg2 = DG2.decode((TLV_DIR / "DG2.39794-all-fields").read_bytes())
    (face,) = dg2.faces
    assert face.header.format_type == FORMAT_TYPE_FACE_39794
    assert face.header.creator == bytes.fromhex("01030001")
    assert isinstance(face.record, FaceImageDataBlock)
    assert face.record.version == (3, 2019)
    (rep,) = face.record.representations
    assert (rep.width, rep.height, rep.image_data_format) == (572, 731, 3)
    # The sample's ImageSizeBlock is illustrative: the JPEG 2000 itself is 413 x 531.
    assert image_size(rep.image) == (413, 531)


def test_19794_fields() -> None:
    dg2 = DG2.decode((TLV_DIR / "DG2.19794").read_bytes())
    (face,) = dg2.faces
    assert face.header.format_type == FORMAT_TYPE_FACE_19794 and face.header.version == 0x0101
    assert isinstance(face.record, FaceImageRecord)
    (image,) = face.record.images
    assert (image.width, image.height, image.face_image_type) == (148, 70, 2)


def test_from_jpeg_portrait() -> None:
    portrait = jpeg(413, 531)
    assert image_size(portrait) == (413, 531)
    dg2 = DG2.from_image(portrait)
    encoded = dg2.encode()
    again = DG2.decode(encoded)
    assert again == dg2 and again.images == (portrait,)
    record = again.faces[0].record
    assert isinstance(record, FaceImageRecord)
    assert (record.images[0].width, record.images[0].height) == (413, 531)
    # The 19794-5 record: 'FAC\0' '010\0', total length, one image, block length.
    block = tlv.decode_one(encoded).children()[0].children()[1].children()[1].value
    assert block[:14] == b"FAC\x00010\x00" + struct.pack(">IH", 14 + 32 + len(portrait), 1)
    assert block[14:18] == struct.pack(">I", 32 + len(portrait))
    header = again.faces[0].header
    assert (header.format_owner, header.format_type, header.biometric_type) == (0x0101, 8, 2)


def test_from_image_needs_a_known_size() -> None:
    with pytest.raises(EncodeError):
        DG2.from_image(b"\xff\xd8\xff\xd9")
    sized = DG2.from_image(b"\xff\xd8\xff\xd9", width=10, height=20).faces[0].record
    assert isinstance(sized, FaceImageRecord) and sized.images[0].width == 10
    with pytest.raises(EncodeError):
        DG2.from_image(png(10, 10))


def test_39794_builder_round_trip() -> None:
    portrait = jpeg(300, 400)
    dg2 = DG2.from_image_39794(portrait, image_data_format=0)
    again = DG2.decode(dg2.encode())
    assert again == dg2
    record = again.faces[0].record
    assert isinstance(record, FaceImageDataBlock)
    assert record.representations[0].width == 300 and record.images == (portrait,)


def test_dg3_from_images() -> None:
    images = {1: png(400, 500), 6: png(410, 520)}
    dg3 = DG3.from_images(images)
    again = DG3.decode(dg3.encode())
    assert again == dg3
    assert again.images == tuple(images.values())
    record = again.fingers[1].record
    assert record.compression == 5 and record.fingers[0].position == 6
    assert (record.fingers[0].width, record.fingers[0].height) == (410, 520)
    raw = record.encode()
    assert raw[:14] == b"FIR\x00010\x00" + (32 + 14 + len(images[6])).to_bytes(6, "big")
    wsq = DG3.from_images([(2, b"\xff\xa0\xff\xa8wsq", 500, 600)])
    assert wsq.fingers[0].record.compression == 2
    with pytest.raises(EncodeError):
        DG3.from_images({1: b"not an image"})


def test_dg4_keeps_blocks() -> None:
    header = BiometricHeader(0x0101, 0x0009, biometric_type=0x10)
    dg4 = DG4((BiometricTemplate(header, b"IIR\x00010\x00rest"),))
    again = DG4.decode(dg4.encode())
    assert again == dg4 and again.encode() == dg4.encode()


@pytest.mark.parametrize(
    "hex_",
    [
        "7500",  # no 7F61 (gmrtd case)
        "75037f6100",  # no count (gmrtd case)
        "75067f6103020101",  # count 1, no 7F60 (gmrtd case)
        "750F7F610C0201017F6006A1048702010100",  # header without 88
        "75137F61100201017F600AA1088702010188020008",  # no data block
    ],
)
def test_bad_groups(hex_: str) -> None:
    with pytest.raises(DecodeError):
        DG2.decode(bytes.fromhex(hex_))


def test_face_record_errors_name_the_offset() -> None:
    data = bytearray((TLV_DIR / "DG2.19794").read_bytes())
    block_at = data.find(b"FAC\x00")
    data[block_at + 11] ^= 0x01  # record length no longer matches
    with pytest.raises(DecodeError) as err:
        DG2.decode(bytes(data))
    assert err.value.offset == block_at + 8
    data = bytearray((TLV_DIR / "DG2.19794").read_bytes())
    data[block_at] = ord("X")
    with pytest.raises(DecodeError) as err:
        DG2.decode(bytes(data))
    assert err.value.offset == block_at


small = st.integers(0, 255)
u16 = st.integers(0, 0xFFFF)
points = st.builds(FeaturePoint, small, small, u16, u16, u16)
faces = st.builds(
    FaceImage,
    image=st.binary(max_size=200),
    width=u16,
    height=u16,
    image_data_type=small,
    face_image_type=small,
    colour_space=small,
    source_type=small,
    device_type=u16,
    quality=u16,
    gender=small,
    eye_colour=small,
    hair_colour=small,
    property_mask=st.integers(0, 0xFFFFFF),
    expression=u16,
    pose_angle=st.tuples(small, small, small),
    pose_angle_uncertainty=st.tuples(small, small, small),
    feature_points=st.lists(points, max_size=4).map(tuple),
)
fingers = st.builds(
    FingerImage,
    position=small,
    image=st.binary(max_size=200),
    width=u16,
    height=u16,
    impression_type=small,
    quality=small,
    view_count=small,
    view_number=small,
    reserved=small,
)


@given(st.lists(faces, min_size=1, max_size=3))
def test_face_record_round_trip(images: list[FaceImage]) -> None:
    record = FaceImageRecord(tuple(images))
    assert FaceImageRecord.decode(record.encode()) == record
    header = BiometricHeader(0x0101, 0x0008, version=0x0101, biometric_type=2,
                             biometric_subtype=0)  # fmt: skip
    from idcard.lds.dg2 import FaceBiometric

    dg2 = DG2((FaceBiometric(header, record),))
    assert DG2.decode(dg2.encode()) == dg2


@given(st.lists(fingers, min_size=1, max_size=3), small, u16, u16)
def test_finger_record_round_trip(items: list[FingerImage], comp: int, sx: int, sy: int) -> None:
    record = FingerImageRecord(tuple(items), comp, (sx, sy), (sy, sx))
    assert FingerImageRecord.decode(record.encode()) == record


@given(st.data())
def test_mutated_dg2_only_decode_error(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(DG2_FILES))
    raw = bytearray((TLV_DIR / name).read_bytes())
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, 200))
        raw[pos] = data.draw(st.integers(0, 255))
    try:
        DG2.decode(bytes(raw))
    except DecodeError:
        pass


@given(st.binary(max_size=120))
def test_random_records_only_decode_error(data: bytes) -> None:
    for decode in (FaceImageRecord.decode, FingerImageRecord.decode, FaceImageDataBlock.decode):
        try:
            decode(data)
        except DecodeError:
            pass
    for prefix in (b"FAC\x00010\x00", b"FIR\x00010\x00"):
        for decode in (FaceImageRecord.decode, FingerImageRecord.decode):
            try:
                decode(prefix + data)
            except DecodeError:
                pass
