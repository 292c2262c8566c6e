"""Hypothesis strategies of the domain's values (shared by the domain tests)."""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

from station.domain.person import Person, PersonName

_LATIN = st.text(st.sampled_from("abcdefghijklmnopqrstuvxyzABCDEFGHIOUSZ‘ʼ' -"), min_size=0,
                 max_size=20)
_CYRILLIC = st.text(st.sampled_from("абвгдеёжзийклмнопрстуфхцчшъьэюяўқғҳ "), max_size=20)
_TEXT = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=30).filter(
    lambda s: bool(s.strip()))
_PINFL = st.text(st.sampled_from("0123456789"), min_size=14, max_size=14)


def names(required: bool = True) -> st.SearchStrategy[PersonName]:
    latin = _LATIN.filter(lambda s: bool(s.strip())) if required else _LATIN
    return st.builds(PersonName, latin, _CYRILLIC)


def persons() -> st.SearchStrategy[Person]:
    return st.builds(
        Person,
        surname=names(), given_name=names(), patronymic=names(required=False),
        birth_date=st.dates(date(1900, 1, 1), date(2026, 12, 31)),
        sex=st.sampled_from(["M", "F"]), place_of_birth=_TEXT, nationality=_TEXT,
        citizenship=st.sampled_from(["UZB", "KAZ", "RUS", "XXA"]), address=_TEXT,
        foreign_document=st.none() | st.just("N12345678"),
        father_pinfl=st.none() | _PINFL, mother_pinfl=st.none() | _PINFL, pinfl=st.none() | _PINFL,
    )
