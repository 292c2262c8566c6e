"""DG11: published samples byte for byte, both date forms, other-name forms, round trips."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import VECTORS

from idcard import tlv
from idcard.errors import DecodeError
from idcard.lds.dg11 import DG11, DateValue

TLV_DIR = VECTORS / "lds/tlv"
SOURCES = json.loads((TLV_DIR / "SOURCES.json").read_text())
SAMPLES = json.loads((TLV_DIR / "public-samples.json").read_text())["samples"]
FILES = sorted(n for n in SOURCES if n.startswith("DG11."))


@pytest.mark.parametrize("name", FILES)
def test_gmrtd_samples(name: str) -> None:
    data = (TLV_DIR / name).read_bytes()
    dg11 = DG11.decode(data)
    assert dg11.encode() == data
    assert dg11.raw == data
    out = dg11.to_json()
    for key, value in SOURCES[name]["expected"].items():
        assert out[key] == value


def test_nfcpassportreader_sample() -> None:
    (sample,) = [s for s in SAMPLES if s["file"] == "DG11"]
    data = bytes.fromhex(sample["hex"])
    dg11 = DG11.decode(data)
    assert dg11.encode() == data
    assert dg11.full_name == sample["parsed"]["fullName"]
    assert dg11.full_date_of_birth == DateValue(sample["parsed"]["dateOfBirth"])
    assert dg11.place_of_birth == sample["parsed"]["placeOfBirth"]


def test_other_name_forms_are_kept() -> None:
    bare = DG11.decode((TLV_DIR / "DG11.other-names-bare").read_bytes())
    wrapped = DG11.decode((TLV_DIR / "DG11.other-names-a0").read_bytes())
    assert bare.other_names_bare and not wrapped.other_names_bare
    listed = DG11.decode((TLV_DIR / "DG11.other-names-a0-listed").read_bytes())
    assert listed == wrapped  # the tag list's A0-vs-5F0F is layout, not content


def test_bcd_date_of_birth_round_trip() -> None:
    # 5F2B as 4 BCD bytes (older documents) next to the ASCII form of the same date.
    bcd = bytes.fromhex("6B0B5C025F2B5F2B0419701201")
    dg11 = DG11.decode(bcd)
    assert dg11.full_date_of_birth == DateValue("19701201", bcd=True)
    assert dg11.full_date_of_birth is not None
    assert dg11.full_date_of_birth.date is not None
    assert dg11.full_date_of_birth.date.isoformat() == "1970-12-01"
    assert dg11.encode() == bcd
    ascii_form = DG11(full_date_of_birth=DateValue("19701201")).encode()
    assert ascii_form == bytes.fromhex("6B0F5C025F2B5F2B083139373031323031")


def test_canonical_order_and_partial_date() -> None:
    dg11 = DG11(full_name="ALIYEV<<VALI", full_date_of_birth=DateValue("19900000"),
                personal_number="12345678901234", place_of_birth="TOSHKENT")  # fmt: skip
    items = tlv.decode_one(dg11.encode()).children()
    assert [i.tag for i in items] == [0x5C, 0x5F0E, 0x5F10, 0x5F2B, 0x5F11]
    assert items[0].value == bytes.fromhex("5F0E5F105F2B5F11")
    assert DG11.decode(dg11.encode()).full_date_of_birth == DateValue("19900000")
    assert DateValue("19900000").date is None


@pytest.mark.parametrize(
    ("hex_", "offset"),
    [
        ("6B055C035F0E5F", None),  # truncated tag in the tag list (gmrtd error case)
        ("6B045C025F00", None),  # tag list names a tag that is absent
        ("6B0A5C025F0E5F0E03C3A841", 10),  # 5F0E C3 A8 41 is valid; next case breaks it
        ("6B0A5C025F0E5F0E03FFA841", 9),  # not UTF-8 at offset 9
        ("6B0A5C025F0E5F0F0341414141", None),  # truncated
        ("6B0C5C025F0E5F0E0141" + "5F0E0141", None),  # repeated tag
        ("6B085C025F2B5F2B02AB", None),  # date neither ASCII nor BCD... short
        ("6B0B5C025F2B5F2B041A701201", 9),  # BCD nibble A, and not printable text
        ("6B115C025F0FA00B0201025F0F0641414141413C", None),  # count 2, one name
    ],
)
def test_bad_files(hex_: str, offset: int | None) -> None:
    if hex_ == "6B0A5C025F0E5F0E03C3A841":
        assert DG11.decode(bytes.fromhex(hex_)).full_name == "èA"
        return
    with pytest.raises(DecodeError) as err:
        DG11.decode(bytes.fromhex(hex_))
    if offset is not None:
        assert err.value.offset == offset


texts = st.none() | st.text(max_size=40)
dates = (
    st.none()
    | st.builds(DateValue, st.text(alphabet="0123456789", min_size=8, max_size=8), st.just(True))
    | st.builds(DateValue, st.text(alphabet="0123456789<-.", min_size=0, max_size=10))
)


@st.composite
def dg11s(draw: st.DrawFn) -> DG11:
    others = tuple(draw(st.lists(st.text(max_size=20), max_size=3)))
    return DG11(
        full_name=draw(texts),
        other_names=others,
        personal_number=draw(texts),
        full_date_of_birth=draw(dates),
        place_of_birth=draw(texts),
        address=draw(texts),
        telephone=draw(texts),
        profession=draw(texts),
        title=draw(texts),
        personal_summary=draw(texts),
        proof_of_citizenship=draw(st.none() | st.binary(max_size=300)),
        other_td_numbers=draw(texts),
        custody_information=draw(texts),
        other_names_bare=bool(others) and draw(st.booleans()),
    )


@given(dg11s())
def test_round_trip(dg11: DG11) -> None:
    encoded = dg11.encode()
    again = DG11.decode(encoded)
    assert again == dg11
    assert again.encode() == encoded


@given(st.binary(max_size=80))
def test_random_bytes_only_decode_error(data: bytes) -> None:
    try:
        DG11.decode(b"\x6b" + bytes([len(data)]) + data if len(data) < 128 else data)
    except DecodeError:
        pass


@given(st.data())
def test_mutated_samples_only_decode_error(data: st.DataObject) -> None:
    raw = bytearray((TLV_DIR / data.draw(st.sampled_from(FILES))).read_bytes())
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    try:
        DG11.decode(bytes(raw))
    except DecodeError:
        pass


def test_what_real_files_carry() -> None:
    # Non-minimal long-form lengths, an empty string and trailing 00/FF padding all decode;
    # ``raw`` keeps the bytes read, ``encode`` gives the minimal form.
    data = bytes.fromhex("6B82000D" + "5C045F0E5F10" + "5F0E00" + "5F108100") + b"\xff\xff"
    dg11 = DG11.decode(data)
    assert (dg11.full_name, dg11.personal_number) == ("", "")
    assert dg11.raw == data
    assert dg11.encode() == bytes.fromhex("6B0C5C045F0E5F105F0E005F1000")
