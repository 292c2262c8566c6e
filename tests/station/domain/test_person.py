"""The person (scheme, stage 2, line 103: "biografik ma’lumotlarini"; stage 3, line 127: the PINFL
"mavjudligi va to‘g‘riligini tekshiradi")."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from tests.station.domain.strategies import persons

from station.domain.errors import DomainError
from station.domain.person import Person, PersonName, normalise
from station.domain.pinfl import compose_pinfl


def person(**kw: Any) -> Person:
    values: dict[str, Any] = {
        "surname": PersonName("G‘aniyeva", "Ғаниева"), "given_name": PersonName("Nodira", "Нодира"),
        "patronymic": PersonName("Olimovna", "Олимовна"), "birth_date": date(1985, 3, 7),
        "sex": "F", "place_of_birth": "Toshkent shahri", "nationality": "o‘zbek",
        "citizenship": "UZB", "address": "Toshkent, Yunusobod 4-12",
    }
    values.update(kw)
    return Person(**values)


@given(persons())
def test_json_round_trip(p: Person) -> None:
    data = p.to_json()
    assert Person.from_json(json.loads(json.dumps(data))) == p


def test_json_shape() -> None:
    data = person(pinfl="40703851230058").to_json()
    assert data == {
        "surname": {"latin": "G‘aniyeva", "cyrillic": "Ғаниева"},
        "given_name": {"latin": "Nodira", "cyrillic": "Нодира"},
        "patronymic": {"latin": "Olimovna", "cyrillic": "Олимовна"},
        "birth_date": "1985-03-07", "sex": "F", "place_of_birth": "Toshkent shahri",
        "nationality": "o‘zbek", "citizenship": "UZB", "address": "Toshkent, Yunusobod 4-12",
        "foreign_document": None, "father_pinfl": None, "mother_pinfl": None,
        "pinfl": "40703851230058",
    }


def test_cyrillic_may_be_left_out() -> None:
    data = person().to_json()
    data["patronymic"] = {"latin": "Olimovna"}
    assert Person.from_json(data).patronymic == PersonName("Olimovna", "")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"birth_date": "07.03.1985"}, "person.birth_date"),
        ({"birth_date": "1985-02-30"}, "person.birth_date"),
        ({"birth_date": "19850307"}, "person.birth_date"),
        ({"birth_date": None}, "person.birth_date"),
        ({"sex": "W"}, "person.sex"),
        ({"sex": 1}, "person.sex"),
        ({"surname": "Ganiyeva"}, "person.surname"),
        ({"surname": {"latin": " "}}, "person.surname.latin"),
        ({"given_name": {"latin": "Nodira", "arabic": "x"}}, "person.given_name.arabic"),
        ({"given_name": {"latin": 5}}, "person.given_name.latin"),
        ({"citizenship": "Uzbekistan"}, "person.citizenship"),
        ({"citizenship": "uzb"}, "person.citizenship"),
        ({"place_of_birth": ""}, "person.place_of_birth"),
        ({"address": "  "}, "person.address"),
        ({"nationality": None}, "person.nationality"),
        ({"pinfl": "4070385123005"}, "person.pinfl"),
        ({"pinfl": 40703851230058}, "person.pinfl"),
        ({"father_pinfl": "x" * 14}, "person.father_pinfl"),
        ({"mother_pinfl": ""}, "person.mother_pinfl"),
        ({"foreign_document": ""}, "person.foreign_document"),
        ({"height": 170}, "person.height"),
    ],
)
def test_bad_json_names_the_field(change: dict[str, Any], field: str) -> None:
    data = {**person().to_json(), **change}
    with pytest.raises(DomainError) as info:
        Person.from_json(data)
    assert info.value.field == field
    assert info.value.problems[0][0] == field


def test_every_bad_field_is_listed() -> None:
    data = {**person().to_json(), "sex": "W", "birth_date": "x", "citizenship": "?"}
    with pytest.raises(DomainError) as info:
        Person.from_json(data)
    assert {f for f, _ in info.value.problems} == {
        "person.sex", "person.birth_date", "person.citizenship"}


def test_not_an_object() -> None:
    with pytest.raises(DomainError) as info:
        Person.from_json([1, 2])
    assert info.value.field == "person"


def test_patronymic_may_be_empty() -> None:
    # A foreign resident (second scheme, line 251) often has no patronymic.
    p = person(patronymic=PersonName(""), citizenship="KAZ", foreign_document="N1234567")
    assert Person.from_json(p.to_json()) == p


def test_demographic_key_normalises_typing() -> None:
    a = person()
    b = person(
        surname=PersonName("  g'ANIYEVA ", ""), given_name=PersonName("NODIRA", ""),
        patronymic=PersonName("olimovna", ""), place_of_birth="toshkent   SHAHRI",
        address="elsewhere", nationality="uzbek", citizenship="UZB",
    )
    assert a.demographic_key() == b.demographic_key()
    assert a.demographic_key() == "g'aniyeva|nodira|olimovna|1985-03-07|toshkent shahri|f=|m="
    for variant in ("Gʻaniyeva", "G’aniyeva", "G`aniyeva", "Gʼaniyeva"):
        assert person(surname=PersonName(variant)).demographic_key() == a.demographic_key()


@pytest.mark.parametrize(
    "change",
    [
        {"birth_date": date(1985, 3, 8)},
        {"surname": PersonName("Ganiyeva")},  # the apostrophe is a letter of o‘, g‘
        {"given_name": PersonName("Nodirа")},  # Cyrillic а is another letter
        {"patronymic": PersonName("")},
        {"place_of_birth": "Samarqand"},
        {"father_pinfl": "30101601230014"},
        {"mother_pinfl": "40101601230011"},
    ],
)
def test_demographic_key_tells_persons_apart(change: dict[str, Any]) -> None:
    assert person(**change).demographic_key() != person().demographic_key()


def test_demographic_key_parents() -> None:
    p = person(father_pinfl="30101601230014", mother_pinfl="40101601230011")
    assert p.demographic_key().endswith("|f=30101601230014|m=40101601230011")
    swapped = person(father_pinfl="40101601230011", mother_pinfl="30101601230014")
    assert swapped.demographic_key() != p.demographic_key()


def test_normalise() -> None:
    assert normalise(" Oʻzbekiston  \t RESPUBLIKASI ") == "o'zbekiston respublikasi"
    assert normalise("ﬁ") == "fi"  # NFKC


def test_pinfl_problems() -> None:
    # scheme, line 127: "... shaxsiy identifikatsiya raqami mavjudligi va to‘g‘riligini tekshiradi"
    p = person()
    good = compose_pinfl(sex="F", birth_date=date(1985, 3, 7), place_code="123", serial=5)
    assert p.pinfl_problems(good) == []
    assert p.pinfl_problems("4070385123005") == [("person.pinfl", "a PINFL is exactly 14 digits")]
    assert p.pinfl_problems(good[:13] + "9") == [
        ("person.pinfl", "check digit does not match digits 1-13")]
    male = compose_pinfl(sex="M", birth_date=date(1985, 3, 7), place_code="123", serial=5)
    assert p.pinfl_problems(male) == [
        ("person.pinfl", "its first digit 3 says sex M, the person is F")]
    other_day = compose_pinfl(sex="F", birth_date=date(1985, 3, 8), place_code="123", serial=5)
    assert p.pinfl_problems(other_day) == [
        ("person.pinfl", "its digits 1-7 say born 1985-03-08, the person was born 1985-03-07")]
    other_century = compose_pinfl(sex="F", birth_date=date(2085, 3, 7), place_code="123",
                                  serial=5)
    assert other_century[0] == "6"
    assert p.pinfl_problems(other_century) == [
        ("person.pinfl", "its digits 1-7 say born 2085-03-07, the person was born 1985-03-07")]


def test_construction_refuses_bad_shape() -> None:
    with pytest.raises(DomainError) as info:
        replace(person(), sex="male")
    assert info.value.field == "person.sex"
    with pytest.raises(DomainError) as info:
        person(surname=PersonName("Ali\x00"))
    assert info.value.field == "person.surname.latin"


def test_bad_json_problems_exactly() -> None:
    data = {
        **person().to_json(),
        "surname": "Ganiyeva", "given_name": {"latin": 5, "cyrillic": "x", "x": 1},
        "patronymic": {"latin": "Olimovna", "cyrillic": 7},
        "address": "",
        "birth_date": "1985-02-30", "sex": 1, "citizenship": 5, "pinfl": 7, "height": 170,
    }
    with pytest.raises(DomainError) as info:
        Person.from_json(data)
    assert info.value.problems == (
        ("person.height", "unknown field"),
        ("person.surname", 'must be an object {"latin": ..., "cyrillic": ...}'),
        ("person.given_name.x", "unknown field"),
        ("person.given_name.latin", "must be a string"),
        ("person.patronymic.cyrillic", "must be a string"),
        ("person.birth_date", "'1985-02-30' is not a date"),
        ("person.sex", "must be a string"),
        ("person.citizenship", "must be a string"),
        ("person.pinfl", "must be a string or null"),
        ("person.address", "must not be empty"),
    )
    with pytest.raises(DomainError) as info:
        Person.from_json({**person().to_json(), "surname": None,
                          "given_name": {"latin": ""}, "patronymic": {"latin": "\x00"}})
    assert info.value.problems == (
        ("person.surname", 'must be an object {"latin": ..., "cyrillic": ...}'),
        ("person.given_name.latin", "must not be empty"),
        ("person.patronymic.latin", "must be text without control characters"),
    )
    with pytest.raises(DomainError) as info:
        Person.from_json({**person().to_json(), "birth_date": 19850307, "sex": "W",
                          "father_pinfl": "1"})
    assert info.value.problems == (
        ("person.birth_date", "must be a date YYYY-MM-DD"),
        ("person.sex", "must be 'M' or 'F', not 'W'"),
        ("person.father_pinfl", "a PINFL is exactly 14 digits"),
    )
    with pytest.raises(DomainError) as info:
        Person.from_json(None)
    assert (info.value.field, info.value.reason) == ("person", "must be a JSON object")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"surname": "Ganiyeva"}, ("person.surname", "must be a PersonName")),
        ({"given_name": PersonName("")}, ("person.given_name.latin", "must not be empty")),
        ({"given_name": PersonName("Nodira", "Но\nдира")},
         ("person.given_name.cyrillic", "must be text without control characters")),
        ({"patronymic": PersonName("Olim\tovna")},
         ("person.patronymic.latin", "must be text without control characters")),
        ({"patronymic": None}, ("person.patronymic", "must be a PersonName")),
        ({"birth_date": "1985-03-07"}, ("person.birth_date", "must be a date")),
        ({"nationality": " "}, ("person.nationality", "must not be empty")),
        ({"place_of_birth": None}, ("person.place_of_birth", "must not be empty")),
        ({"citizenship": "UZ"}, ("person.citizenship",
                                 "'UZ' is not UZB, a state's 3-letter code or XXA")),
        ({"foreign_document": " "}, ("person.foreign_document",
                                     "must be a document number or null")),
        ({"mother_pinfl": "4070385123005x"}, ("person.mother_pinfl",
                                              "a PINFL is exactly 14 digits")),
    ],
)
def test_construction_names_each_field(change: dict[str, Any], problem: tuple[str, str]) -> None:
    with pytest.raises(DomainError) as info:
        person(**change)
    assert info.value.problems == (problem,)


def test_construction_checks_every_name() -> None:
    with pytest.raises(DomainError) as info:
        person(surname="x", given_name=PersonName(" "), patronymic=PersonName("\x07"))
    assert [f for f, _ in info.value.problems] == [
        "person.surname", "person.given_name.latin", "person.patronymic.latin"]


def test_normalise_bar() -> None:
    # "|" separates the key's parts: inside a name it counts as a space
    assert normalise("a|b") == "a b"
