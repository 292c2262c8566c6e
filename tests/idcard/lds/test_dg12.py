"""DG12: published samples byte for byte, date/time forms, other persons, round trips."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import VECTORS

from idcard.errors import DecodeError
from idcard.lds.dg11 import DateValue
from idcard.lds.dg12 import DG12

TLV_DIR = VECTORS / "lds/tlv"
SOURCES = json.loads((TLV_DIR / "SOURCES.json").read_text())
SAMPLES = json.loads((TLV_DIR / "public-samples.json").read_text())["samples"]
FILES = sorted(n for n in SOURCES if n.startswith("DG12."))


@pytest.mark.parametrize("name", FILES)
def test_gmrtd_samples(name: str) -> None:
    data = (TLV_DIR / name).read_bytes()
    dg12 = DG12.decode(data)
    assert dg12.encode() == data
    out = dg12.to_json()
    for key, value in SOURCES[name]["expected"].items():
        assert out[key] == value


def test_nfcpassportreader_sample_keeps_its_order() -> None:
    (sample,) = [s for s in SAMPLES if s["file"] == "DG12"]
    data = bytes.fromhex(sample["hex"])
    dg12 = DG12.decode(data)
    assert dg12.issuing_authority == sample["parsed"]["issuingAuthority"]
    assert dg12.date_of_issue == DateValue(sample["parsed"]["dateOfIssue"])
    # The file lists 5F26 before 5F19 (the reverse of the table): the bytes survive.
    assert dg12.encode() == data
    canonical = DG12(dg12.issuing_authority, dg12.date_of_issue).encode()
    assert canonical != data and DG12.decode(canonical) == dg12


def test_bcd_dates_and_other_persons() -> None:
    dg12 = DG12(
        date_of_issue=DateValue("20210915", bcd=True),
        personalization_time=DateValue("20171115013612", bcd=True),
        other_persons=("SMITH<<BRENDA<P", "SMITH<<JOHN"),
        image_of_front=b"\xff\xd8\xff\xe0front",
    )
    encoded = dg12.encode()
    assert bytes.fromhex("5F260420210915") in encoded
    assert bytes.fromhex("5F55072017111501361 2".replace(" ", "")) in encoded
    assert bytes.fromhex("A023020102" + "5F1A0F" + "534D4954483C3C4252454E44413C50") in encoded
    assert encoded[2:12] == bytes.fromhex("5C08" + "5F265F1A5F1D5F55")  # table order
    again = DG12.decode(encoded)
    assert again == dg12 and again.encode() == encoded


@pytest.mark.parametrize(
    "hex_",
    [
        "6C035C015F",  # gmrtd: incomplete tag in tag list
        "6C045C025F00",  # gmrtd: tag list names an absent tag
        "6C0A5C025F195F1904414243",  # inner element truncated
        "6C0D5C025F1A5F1A06414141413C3C",  # 5F1A outside its A0 template
        "6C0D5C025F195F1903414243" + "01",  # stray byte (length says 0D)
    ],
)
def test_bad_files(hex_: str) -> None:
    with pytest.raises(DecodeError):
        DG12.decode(bytes.fromhex(hex_))


texts = st.none() | st.text(max_size=40)
dates = st.none() | st.builds(DateValue, st.text(alphabet="0123456789", min_size=8, max_size=8))
times = st.none() | st.builds(
    DateValue, st.text(alphabet="0123456789", min_size=14, max_size=14), st.booleans()
)


@st.composite
def dg12s(draw: st.DrawFn) -> DG12:
    return DG12(
        issuing_authority=draw(texts),
        date_of_issue=draw(dates),
        other_persons=tuple(draw(st.lists(st.text(max_size=20), max_size=3))),
        endorsements=draw(texts),
        tax_exit_requirements=draw(texts),
        image_of_front=draw(st.none() | st.binary(max_size=200)),
        image_of_rear=draw(st.none() | st.binary(max_size=200)),
        personalization_time=draw(times),
        personalization_device_serial=draw(texts),
    )


@given(dg12s())
def test_round_trip(dg12: DG12) -> None:
    encoded = dg12.encode()
    again = DG12.decode(encoded)
    assert again == dg12
    assert again.encode() == encoded


@given(st.data())
def test_mutated_samples_only_decode_error(data: st.DataObject) -> None:
    raw = bytearray((TLV_DIR / data.draw(st.sampled_from(FILES))).read_bytes())
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] = data.draw(st.integers(0, 255))
    try:
        DG12.decode(bytes(raw))
    except DecodeError:
        pass


@given(st.binary(max_size=80))
def test_random_bytes_only_decode_error(data: bytes) -> None:
    try:
        DG12.decode(data)
    except DecodeError:
        pass
