"""The Center's answer to a point's request (scheme, stage 3): PINFL checked or generated, card
number allocated, idempotent; on SQLite and PostgreSQL (``center_db``)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from tests.station.center.kit import (
    ALISHER_PINFL,
    NOW,
    TASHKENT_PLACE,
    TODAY,
    numbered,
    person,
    request,
    setup_center,
    with_check_digit,
)

from idcard.pinfl import PINFL
from station.center import (
    CardNumbersExhausted,
    NotFound,
    PersonMismatch,
    PINFLExhausted,
    RequestConflict,
    center_status,
    open_series,
    person_by_pinfl,
    receive_request,
)
from station.db import Database
from station.db.center_tables import Card, CardSeries, PINFLBlock
from station.db.center_tables import Person as PersonRow
from station.domain.errors import DomainError
from station.domain.grounds import Ground, Scheme
from station.domain.person import PersonName
from station.rules import expiry_date

T = TypeVar("T")


@pytest.fixture
def center(center_db: Database) -> Database:
    setup_center(center_db)
    return center_db


def _in_threads(n: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(i)`` for i in 0..n-1 in n threads released together; results in order."""
    barrier = threading.Barrier(n)
    results: list[T | BaseException | None] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results  # type: ignore[return-value]


# -- a PINFL present: checked ---------------------------------------------------------------------


def test_correct_pinfl_is_returned_with_a_card(center: Database) -> None:
    # scheme, lines 133-135: "b) arizachida … identifikatsiya raqami mavjud bo‘lsa: …
    # elektron talabnomani ma’lumotlarni yig‘ish punktiga yuboradi" (PINFL present: sent back)
    answer = receive_request(center, request(person(pinfl=ALISHER_PINFL)), now=NOW)
    assert answer.pinfl == ALISHER_PINFL
    assert answer.pinfl_generated is False
    assert answer.card == "AD0000001"
    assert answer.issue_date == TODAY
    # scheme, line 12: "16 yoshdan — 10 yil muddatga"; the day before the 10th anniversary
    assert answer.expiry_date == expiry_date(person().birth_date, TODAY)
    assert str(answer.expiry_date) == "2036-12-03"
    assert person_by_pinfl(center, ALISHER_PINFL) == person(pinfl=ALISHER_PINFL)


@pytest.mark.parametrize(
    ("pinfl", "why"),
    [
        (ALISHER_PINFL[:13] + "5", "check digit"),
        (with_check_digit("4150788023001"), "sex F"),  # century/sex digit 4: a woman of the 1900s
        (with_check_digit("5150788023001"), "born 2088-07-15"),  # digit 5: the 2000s
        (with_check_digit("3160788023001"), "born 1988-07-16"),
        ("3150788023001", "14 digits"),
    ],
)
def test_incorrect_pinfl_is_refused_naming_person_pinfl(
    center: Database, pinfl: str, why: str
) -> None:
    # scheme, line 127: "… raqami mavjudligi va to‘g‘riligini tekshiradi" (that it is correct)
    with pytest.raises(DomainError) as info:
        receive_request(center, request(person(pinfl=pinfl)), now=NOW)
    assert info.value.field == "person.pinfl"
    assert why in " ".join(reason for _, reason in info.value.problems)
    status = center_status(center)
    assert (status.persons, status.requests, sum(status.cards.values())) == (0, 0, 0)


def test_known_pinfl_with_another_persons_data_is_a_conflict(center: Database) -> None:
    receive_request(center, request(person(pinfl=ALISHER_PINFL)), now=NOW)
    # the same person typed differently (case, spaces, another apostrophe) is not another one
    retyped = person(pinfl=ALISHER_PINFL, patronymic=PersonName("BAXTIYOR  O'G'LI", ""))
    assert receive_request(center, request(retyped), now=NOW).pinfl == ALISHER_PINFL
    impostor = person(pinfl=ALISHER_PINFL, given_name=PersonName("Bobur", "Бобур"))
    with pytest.raises(PersonMismatch) as info:
        receive_request(center, request(impostor), now=NOW)
    assert info.value.field == "person.pinfl"
    assert info.value.reason == "this PINFL is registered for another person (given_name differ)"
    elsewhere = person(pinfl=ALISHER_PINFL, surname=PersonName("Rahimov", ""),
                       patronymic=PersonName("Olim o‘g‘li", ""), place_of_birth="Xiva")
    with pytest.raises(PersonMismatch) as info:
        receive_request(center, request(elsewhere), now=NOW)
    assert info.value.reason == (
        "this PINFL is registered for another person (place_of_birth, surname, patronymic differ)"
    )
    # on a data-changed ground the names may differ, the place of birth may not
    with pytest.raises(PersonMismatch) as info:
        receive_request(center, request(elsewhere, ground=Ground.DATA_CHANGED), now=NOW)
    assert info.value.reason.endswith("(place_of_birth differ)")
    assert center_status(center).requests == 2


def test_data_changed_ground_updates_the_names_under_the_same_pinfl(center: Database) -> None:
    # scheme, line 19: "familiyasi, ismi, otasining ismi, millati … o‘zgarganda"
    father = with_check_digit("3010160023001")
    receive_request(center, request(person(pinfl=ALISHER_PINFL, father_pinfl=father)), now=NOW)
    renamed = person(pinfl=ALISHER_PINFL, surname=PersonName("Karimov", "Каримов"),
                     patronymic=PersonName("Baxtiyor o‘g‘li", ""), father_pinfl=None)  # fmt: skip
    answer = receive_request(center, request(renamed, ground=Ground.DATA_CHANGED), now=NOW)
    assert (answer.pinfl, answer.pinfl_generated) == (ALISHER_PINFL, False)
    stored = person_by_pinfl(center, ALISHER_PINFL)
    assert stored.surname == PersonName("Karimov", "Каримов")
    assert stored.patronymic == PersonName("Baxtiyor o‘g‘li", "Бахтиёр ўғли")  # Cyrillic kept
    assert (stored.father_pinfl, stored.mother_pinfl) == (father, None)  # not given: kept
    renamed = replace(renamed, father_pinfl=father)
    # the demographic key follows: the renamed person without a PINFL is found again
    again = receive_request(center, request(replace(renamed, pinfl=None)), now=NOW)
    assert (again.pinfl, again.pinfl_generated) == (ALISHER_PINFL, False)


def test_a_person_known_under_another_pinfl_is_a_conflict(center: Database) -> None:
    receive_request(center, request(person()), now=NOW)  # generated
    other = with_check_digit("3150788023777")
    with pytest.raises(PersonMismatch) as info:
        receive_request(center, request(person(pinfl=other)), now=NOW)
    assert info.value.field == "person.pinfl"
    assert info.value.reason == "the Center knows this person under another PINFL"


def _stored(db: Database, pinfl: str) -> PersonRow:
    with db.session(write=False) as s:
        row = s.scalars(select(PersonRow).where(PersonRow.pinfl == pinfl)).one()
        s.expunge(row)
        return row


def test_what_a_known_person_keeps_and_what_a_request_updates(center: Database) -> None:
    father, mother = with_check_digit("3010160023001"), with_check_digit("4020262023001")
    resident = person(citizenship="KAZ", foreign_document="N1234567", father_pinfl=father,
                      mother_pinfl=mother)  # fmt: skip
    sent = replace(request(resident, ground=Ground.PERMIT_EXPIRED), scheme=Scheme.RESIDENT)
    first = receive_request(center, sent, now=NOW)
    stored = person_by_pinfl(center, first.pinfl)
    assert stored == replace(resident, pinfl=first.pinfl)  # every field kept, both scripts
    assert _stored(center, first.pinfl).pinfl_generated is True
    moved = replace(
        resident, pinfl=first.pinfl, address="Samarqand shahri, Registon ko‘chasi, 1-uy",
        foreign_document="N7654321", given_name=PersonName("Alisher", ""),
        surname=PersonName("TOSHMATOV", ""), father_pinfl=None,
    )  # fmt: skip
    again = receive_request(center, replace(sent, id="r2", person=moved), now=NOW)
    assert (again.pinfl, again.pinfl_generated) == (first.pinfl, False)
    now_stored = person_by_pinfl(center, first.pinfl)
    # the address and document change; names as first registered, Cyrillic kept when not given
    assert (now_stored.address, now_stored.foreign_document) == (moved.address, "N7654321")
    assert now_stored.surname == PersonName("Toshmatov", "Тошматов")
    assert now_stored.given_name == PersonName("Alisher", "Алишер")
    assert (now_stored.father_pinfl, now_stored.mother_pinfl) == (father, mother)
    own = with_check_digit("3150788023555")
    given = receive_request(center, request(numbered(1, pinfl=own)), now=NOW)
    assert given.pinfl_generated is False
    assert _stored(center, own).pinfl_generated is False


# -- no PINFL: generated ----------------------------------------------------------------------


def test_pinfl_generated_from_sex_birth_date_place_serial(center: Database) -> None:
    # scheme, lines 129-131: "a) … raqami mavjud bo‘lmagan holda: … raqamini shakllantiradi"
    first = receive_request(center, request(person()), now=NOW)
    assert first.pinfl_generated is True
    # 3 = male born 1900-1999, 150788 = 15 Jul 1988, 023 = the point's place, 001 = serial
    assert first.pinfl == with_check_digit("3150788" + TASHKENT_PLACE + "001")
    parsed = PINFL.parse(first.pinfl)
    assert (parsed.sex, parsed.birth_date, parsed.place_code) == ("M", person().birth_date, "023")
    woman = receive_request(center, request(numbered(1, sex="F")), now=NOW)
    assert woman.pinfl == with_check_digit("4150788023001")  # another block: 4 = female
    second = receive_request(center, request(numbered(2)), now=NOW)
    assert second.pinfl == with_check_digit("3150788023002")
    samarqand = receive_request(center, request(numbered(3), point="SAM01"), now=NOW)
    assert samarqand.pinfl == with_check_digit("3150788114001")


def test_the_same_person_again_gets_the_same_pinfl(center: Database) -> None:
    # demographic match: the same names (any case/spacing), birth date and place of birth
    first = receive_request(center, request(person()), now=NOW)
    typed_again = person(surname=PersonName("  TOSHMATOV ", ""))
    again = receive_request(center, request(typed_again, point="SAM01"), now=NOW)
    assert (again.pinfl, again.pinfl_generated) == (first.pinfl, False)
    assert center_status(center).persons == 1
    assert person_by_pinfl(center, first.pinfl).surname == PersonName("Toshmatov", "Тошматов")


def test_a_generated_pinfl_skips_a_serial_already_given(center: Database) -> None:
    taken = with_check_digit("3150788023001")
    receive_request(center, request(numbered(1, pinfl=taken)), now=NOW)
    answer = receive_request(center, request(person()), now=NOW)
    assert answer.pinfl == with_check_digit("3150788023002")


def test_same_new_person_from_two_points_at_once_gets_one_pinfl(center: Database) -> None:
    # Two points applying for the same new person at the same moment (issue 10): one PINFL.
    points = ["TAS01", "SAM01"] * 3
    answers = _in_threads(
        len(points), lambda i: receive_request(center, request(person(), point=points[i]), now=NOW)
    )
    assert len({a.pinfl for a in answers}) == 1
    assert sum(a.pinfl_generated for a in answers) == 1
    assert center_status(center).persons == 1
    assert sorted(a.card for a in answers) == [f"AD{n:07d}" for n in range(1, 7)]


def test_different_new_persons_at_once_get_distinct_pinfls(center: Database) -> None:
    n = 16
    answers = _in_threads(n, lambda i: receive_request(center, request(numbered(i)), now=NOW))
    pinfls = [a.pinfl for a in answers]
    assert len(set(pinfls)) == n
    # one block (same birth date, sex, place): serials 001..016, no gap, no duplicate
    assert sorted(p[10:13] for p in pinfls) == [f"{k:03d}" for k in range(1, n + 1)]
    for p in pinfls:
        PINFL.parse(p)


def test_a_full_pinfl_block_is_a_typed_error(center: Database) -> None:
    prefix = "3150788" + TASHKENT_PLACE
    with center.session() as s:
        s.add(PINFLBlock(prefix=prefix, next_serial=999))
    last = receive_request(center, request(numbered(1)), now=NOW)
    assert last.pinfl == with_check_digit(prefix + "999")
    with pytest.raises(PINFLExhausted) as info:
        receive_request(center, request(numbered(2)), now=NOW)
    assert info.value.field == "person.pinfl"
    assert prefix in info.value.reason
    with center.session() as s:  # nothing taken, nothing written by the refused request
        assert s.get(PINFLBlock, prefix).next_serial == 1000  # type: ignore[union-attr]
        assert s.scalar(select(PersonRow.id).where(PersonRow.surname_lat == "Karimov2")) is None
    # another place's block is not full
    assert receive_request(center, request(numbered(2), point="SAM01"), now=NOW).pinfl_generated


# -- card numbers -----------------------------------------------------------------------------


def test_card_numbers_without_gaps_or_duplicates_under_concurrency(center: Database) -> None:
    # decree §6б: the central registry of series and numbers
    threads, each = 8, 4

    def work(i: int) -> list[str]:
        out = []
        for k in range(each):
            who = numbered(i * 100 + k, pinfl=None)
            out.append(receive_request(center, request(who), now=NOW).card)
        return out

    cards = [c for batch in _in_threads(threads, work) for c in batch]
    assert sorted(cards) == [f"AD{n:07d}" for n in range(1, threads * each + 1)]
    with center.session(write=False) as s:
        assert s.get(CardSeries, "AD").next_number == threads * each + 1  # type: ignore[union-attr]


def test_a_refused_request_takes_no_number(center: Database) -> None:
    receive_request(center, request(person()), now=NOW)
    with pytest.raises(NotFound):
        receive_request(center, request(numbered(1), previous_card="AD0000099"), now=NOW)
    assert receive_request(center, request(numbered(2)), now=NOW).card == "AD0000002"


def test_a_new_series_and_an_exhausted_one(center: Database) -> None:
    with center.session() as s:
        s.execute(update(CardSeries).values(next_number=9_999_999))
    assert receive_request(center, request(numbered(1)), now=NOW).card == "AD9999999"
    with pytest.raises(CardNumbersExhausted):
        receive_request(center, request(numbered(2)), now=NOW)
    open_series(center, "AE")
    assert receive_request(center, request(numbered(2)), now=NOW).card == "AE0000001"


def test_unknown_point_is_not_found(center: Database) -> None:
    with pytest.raises(NotFound) as info:
        receive_request(center, request(person(), point="NOPE"), now=NOW)
    assert info.value.field == "point"


# -- idempotency ------------------------------------------------------------------------------


def test_the_same_request_again_gets_the_same_answer_and_no_second_card(center: Database) -> None:
    sent = request(person())
    first = receive_request(center, sent, now=NOW)
    later = NOW.replace(day=7)
    assert receive_request(center, sent, now=later) == first
    assert receive_request(center, replace(sent, operator="op2"), now=later) == first
    with center.session(write=False) as s:
        assert len(s.scalars(select(Card.id)).all()) == 1
    for other in (
        replace(sent, ground=Ground.LOST),
        replace(sent, point="SAM01"),
        replace(sent, person=numbered(1)),
        replace(sent, previous_card="AD0000001"),
    ):
        with pytest.raises(RequestConflict) as info:
            receive_request(center, other, now=NOW)
        assert info.value.field == "id"
    assert center_status(center).requests == 1


def test_the_same_request_sent_twice_at_once_gets_one_card(center: Database) -> None:
    sent = request(person())
    answers = _in_threads(4, lambda i: receive_request(center, sent, now=NOW))
    assert len({a.card for a in answers}) == 1
    assert sum(center_status(center).cards.values()) == 1


def test_scheme_rules_the_center_checks_itself(center: Database) -> None:
    resident = person(citizenship="KAZ", foreign_document="N1234567")
    refused = [
        # scheme, line 292: residents apply only at internal affairs' migration units
        (replace(request(resident, ground=Ground.PERMIT_EXPIRED, point="SAM01"),
                 scheme=Scheme.RESIDENT), "point"),
        # lines 14-23 vs 251-259: a residents' ground in the citizens' scheme
        (request(person(), ground=Ground.PERMIT_EXPIRED), "ground"),
        # line 229: the residents' scheme is for foreign citizens and stateless persons
        (replace(request(person(), ground=Ground.PERMIT_EXPIRED), scheme=Scheme.RESIDENT),
         "person.citizenship"),
        (request(resident), "person.citizenship"),
        (request(person(birth_date=TODAY.replace(day=5))), "person.birth_date"),
    ]  # fmt: skip
    for sent, field in refused:
        with pytest.raises(DomainError) as info:
            receive_request(center, sent, now=NOW)
        assert info.value.field == field, sent
    assert center_status(center).requests == 0
    ok = replace(request(resident, ground=Ground.PERMIT_EXPIRED), scheme=Scheme.RESIDENT)
    answer = receive_request(center, ok, now=NOW)  # at TAS01, internal affairs
    assert answer.pinfl == with_check_digit("3150788023001")
    lost = replace(request(resident, ground=Ground.LOST), scheme=Scheme.RESIDENT)  # both schemes
    assert receive_request(center, lost, now=NOW).pinfl == answer.pinfl


_counter = iter(range(10**9))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY),
    sex=st.sampled_from(["M", "F"]),
    point=st.sampled_from(["TAS01", "SAM01"]),
)
def test_every_generated_pinfl_is_correct_for_its_person(
    center: Database, birth: dt.date, sex: str, point: str
) -> None:
    # scheme, lines 127-131: the PINFL the Center forms must pass its own check ("to‘g‘riligini")
    who = numbered(next(_counter), birth_date=birth, sex=sex)
    answer = receive_request(center, request(who, point=point), now=NOW)
    assert who.pinfl_problems(answer.pinfl) == []
    parsed = PINFL.parse(answer.pinfl)
    assert parsed.place_code == {"TAS01": TASHKENT_PLACE, "SAM01": "114"}[point]
    # scheme, lines 10-12: 2, 5 or 10 years by age on the day of issue
    assert answer.expiry_date == expiry_date(birth, TODAY)
    assert person_by_pinfl(center, answer.pinfl).pinfl == answer.pinfl


def test_the_day_of_issue_is_the_day_in_tashkent(center: Database) -> None:
    # 20:00 UTC on 4 December is 01:00 on 5 December in Tashkent (UTC+5)
    late = dt.datetime(2026, 12, 4, 20, 0, tzinfo=dt.UTC)
    answer = receive_request(center, request(person()), now=late)
    assert answer.issue_date == dt.date(2026, 12, 5)
    assert answer.expiry_date == dt.date(2036, 12, 4)
