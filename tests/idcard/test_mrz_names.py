"""Transliteration tables (vectors/mrz/transliteration.json) and name-field truncation."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import VECTORS

from idcard.errors import EncodeError
from idcard.mrz import MRZ, transliterate
from idcard.mrz.names import decode_name, encode_name, truncate_name

TABLES = json.loads((VECTORS / "mrz" / "transliteration.json").read_text(encoding="utf-8"))
ROWS = [
    (table, row)
    for table in ("latin_icao", "uzbek_latin", "uzbek_cyrillic", "russian_cyrillic_icao")
    for row in TABLES[table]
]


@pytest.mark.parametrize(("table", "row"), ROWS, ids=lambda v: v[0] if isinstance(v, list) else v)
def test_transliteration_table(table: str, row: list[str]) -> None:
    text, expected, _why = row
    language = "uz" if table.startswith("uzbek") else "icao"
    assert transliterate(text, language) == expected  # type: ignore[arg-type]


def test_uzbek_latin_and_cyrillic_give_the_same_mrz() -> None:
    pairs = [("Oʻrinboyev", "Ўринбоев"), ("Gʻayratjon", "Ғайратжон"), ("Shahnoza", "Шаҳноза")]
    for latin, cyrillic in pairs:
        assert transliterate(latin, "uz") == transliterate(cyrillic, "uz")


def test_unmappable_character_raises() -> None:
    with pytest.raises(EncodeError, match="U\\+4E2D"):
        transliterate("中")
    with pytest.raises(EncodeError):
        transliterate("x", "xx")  # type: ignore[arg-type]


@given(st.text())
def test_transliteration_output_is_mrz_alphabet_or_encode_error(text: str) -> None:
    try:
        out = transliterate(text)
    except EncodeError:
        return
    assert all(c == " " or "A" <= c <= "Z" or "0" <= c <= "9" for c in out)
    assert not out.startswith(" ") and not out.endswith(" ") and "  " not in out


@pytest.mark.parametrize(
    ("surname", "given", "length", "field"),
    [
        # 1. fits: unchanged
        ("ERIKSSON", "ANNA MARIA", 30, "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"),
        # 2. given names cut at the end of the field; a letter in the last position
        ("ERIKSSON", "ANNA MARIA", 16, "ERIKSSON<<ANNA<M"),
        ("ORINBOYEV", "GAYRATJON MARUFOVICH", 30, "ORINBOYEV<<GAYRATJON<MARUFOVIC"),
        # 2. cut on a name boundary: the dangling filler is removed
        ("ERIKSSON", "ANNA MARIA", 15, "ERIKSSON<<ANNA<"),
        # 3. surname alone too long: surname cut, given names omitted
        ("NILAVADHANANANDA", "CHAYAPA", 17, "NILAVADHANANANDA<"),
        ("NILAVADHANANANDA", "CHAYAPA", 10, "NILAVADHAN"),
        ("VAN DER STEEN", "MARIANNE", 8, "VAN<DER<"),
    ],
)
def test_truncation_rule(surname: str, given: str, length: int, field: str) -> None:
    last, first = truncate_name(surname, given, length)
    assert encode_name(last, first, length) == field


def test_build_truncates_long_names_deterministically() -> None:
    m = MRZ.build(
        format="TD1", document_code="I", issuing_state="UTO", document_number="D23145890",
        birth_date="740812", sex="F", expiry_date="120415", nationality="UTO",
        surname="Nilavadhanananda", given_names="Chayapa Dejthamrong Krasuang",
    )  # fmt: skip
    assert m.lines()[2] == "NILAVADHANANANDA<<CHAYAPA<DEJT"
    assert (m.surname, m.given_names) == ("NILAVADHANANANDA", "CHAYAPA DEJT")
    assert MRZ.parse(m.encode()) == m


@given(st.text("ABC<", min_size=30, max_size=30))
def test_name_field_decoding_is_lossless(field: str) -> None:
    surname, given = decode_name(field)
    assert encode_name(surname, given, 30) == field
