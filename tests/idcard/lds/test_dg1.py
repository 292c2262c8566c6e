"""DG1: published samples byte for byte, MRZ fields, round trips, only DecodeError on bad bytes."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import VECTORS

from idcard.errors import DecodeError
from idcard.lds.dg1 import DG1
from idcard.mrz import MRZ

SAMPLES = json.loads((VECTORS / "lds/tlv/public-samples.json").read_text())["samples"]
DG1_SAMPLES = [s for s in SAMPLES if s["file"] == "DG1"]
VALID = [s for s in DG1_SAMPLES if all(s["mrz_check_digits_valid"].values())]
INVALID = [s for s in DG1_SAMPLES if not all(s["mrz_check_digits_valid"].values())]


@pytest.mark.parametrize("sample", VALID, ids=lambda s: s["name"])
def test_published_samples_round_trip(sample: dict[str, str]) -> None:
    data = bytes.fromhex(sample["hex"])
    dg1 = DG1.decode(data)
    assert dg1.raw == data
    assert dg1.encode() == data
    assert dg1.mrz.encode().replace("\n", "") == sample["ascii_mrz"]


def test_bsi_reference_fields() -> None:
    (sample,) = [s for s in VALID if "TR-03105" in s["name"]]
    dg1 = DG1.decode(bytes.fromhex(sample["hex"]))
    out = dg1.to_json()
    assert out["format"] == "TD3"
    assert (out["surname"], out["given_names"]) == ("MUSTERMANN", "ERIKA")
    assert (out["document_number"], out["birth_date"], out["expiry_date"]) == (
        "C11T002JM",
        "960812",
        "231031",
    )
    assert (out["issuing_state"], out["nationality"], out["sex"]) == ("D", "D", "F")


@pytest.mark.parametrize("sample", INVALID, ids=lambda s: s["name"])
def test_wrong_check_digit_is_a_decode_error_inside_the_mrz(sample: dict[str, str]) -> None:
    data = bytes.fromhex(sample["hex"])
    with pytest.raises(DecodeError) as err:
        DG1.decode(data)
    assert "composite" in str(err.value)
    assert err.value.offset is not None and 5 <= err.value.offset < len(data)


def test_bad_character_offset() -> None:
    data = bytearray(bytes.fromhex(VALID[0]["hex"]))
    data[10] = ord("a")
    with pytest.raises(DecodeError) as err:
        DG1.decode(bytes(data))
    assert err.value.offset == 10


def test_structure_errors() -> None:
    with pytest.raises(DecodeError):
        DG1.decode(bytes.fromhex("6103010141"))  # no 5F1F
    with pytest.raises(DecodeError):
        DG1.decode(bytes.fromhex("61055F1F024142"))  # 2 characters is no MRZ format


names = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=12)


@given(
    st.sampled_from(["TD1", "TD2", "TD3"]),
    names,
    names,
    st.text(alphabet="0123456789ABCDEFGHJ", min_size=9, max_size=9),
    st.dates(),
    st.dates(),
    st.sampled_from(["M", "F", "<"]),
)
def test_round_trip(
    fmt: Any,
    surname: str,
    given_names: str,
    number: str,
    birth: datetime.date,
    expiry: datetime.date,
    sex: str,
) -> None:
    mrz = MRZ.build(
        format=fmt,
        document_code="I" if fmt != "TD3" else "P",
        issuing_state="UZB",
        document_number=number,
        birth_date=birth,
        sex=sex,
        expiry_date=expiry,
        nationality="UZB",
        surname=surname,
        given_names=given_names,
    )
    dg1 = DG1(mrz)
    again = DG1.decode(dg1.encode())
    assert again == dg1
    assert again.raw == dg1.encode()


@given(st.binary(max_size=120))
def test_random_bytes_only_decode_error(data: bytes) -> None:
    try:
        DG1.decode(data)
    except DecodeError:
        pass


@given(st.data())
def test_mutated_sample_only_decode_error(data: st.DataObject) -> None:
    raw = bytearray(bytes.fromhex(VALID[0]["hex"]))
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] = data.draw(st.integers(0, 255))
    try:
        DG1.decode(bytes(raw))
    except DecodeError:
        pass
