"""DG16: the Doc 9303-10 Appendix A.6 sample byte for byte, round trips, bad input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import VECTORS

from idcard.errors import DecodeError
from idcard.lds.dg11 import DateValue
from idcard.lds.dg16 import DG16, PersonToNotify

A6 = (VECTORS / "lds/tlv/DG16.9303-10-A6").read_bytes()


def test_appendix_a6() -> None:
    dg16 = DG16.decode(A6)
    assert dg16.encode() == A6
    first, second = dg16.persons
    assert first == PersonToNotify(
        name="SMITH<<CHARLES<R",
        date_recorded=DateValue("20020101"),
        telephone="19525551212",
        address="123 MAPLE RD<ANYTOWN<MN<55100",
    )
    assert (second.name, second.date_recorded) == ("BROWN<<MARY<J", DateValue("20020315"))
    assert dg16.to_json()["persons"][1]["address"] == "49 REDWOOD LN<OCEAN BREEZE<CA<94000"


@pytest.mark.parametrize(
    ("data", "offset"),
    [
        (A6[:5] + b"\x03" + A6[6:], 5),  # count 3, two templates (gmrtd error case)
        (bytes.fromhex("7003020100") + b"\x00" * 0, None),  # count 0 is fine … checked below
        (A6[:7] + b"\xa2" + A6[8:], 7),  # first template tagged A2
        (bytes.fromhex("7008020101A1035F5400"), 7),  # unknown element 5F54… (truncated)
    ],
)
def test_bad_files(data: bytes, offset: int | None) -> None:
    if data == bytes.fromhex("7003020100"):
        assert DG16.decode(data) == DG16(())
        return
    with pytest.raises(DecodeError) as err:
        DG16.decode(data)
    if offset is not None:
        assert err.value.offset == offset


persons = st.builds(
    PersonToNotify,
    name=st.none() | st.text(max_size=30),
    date_recorded=st.none() | st.builds(DateValue, st.text("0123456789", min_size=8, max_size=8)),
    telephone=st.none() | st.text(max_size=15),
    address=st.none() | st.text(max_size=40),
)


@given(st.lists(persons, max_size=5))
def test_round_trip(people: list[PersonToNotify]) -> None:
    dg16 = DG16(tuple(people))
    again = DG16.decode(dg16.encode())
    assert again == dg16 and again.encode() == dg16.encode()


@given(st.data())
def test_mutated_sample_only_decode_error(data: st.DataObject) -> None:
    raw = bytearray(A6)
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] = data.draw(st.integers(0, 255))
    try:
        DG16.decode(bytes(raw))
    except DecodeError:
        pass
