"""Persons and PINFLs at the Center (scheme, stage 3): check a PINFL sent, or generate one.

Session-level steps of :func:`station.center.service.receive_request` (no transaction of their
own). Scheme, lines 127-135: "jismoniy shaxsning shaxsiy identifikatsiya raqami mavjudligi va
to‘g‘riligini tekshiradi; a) … mavjud bo‘lmagan holda: … raqamini shakllantiradi …; b) … mavjud
bo‘lsa: … yuboradi" — the Center checks that the applicant has a PINFL and that it is correct;
without one, it forms one; with one, it sends the request back.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from station.center.errors import PersonMismatch, PINFLExhausted
from station.db.center_tables import Person as PersonRow
from station.db.center_tables import PINFLBlock
from station.domain.errors import DomainError
from station.domain.grounds import Ground
from station.domain.person import Person, PersonName, normalise
from station.domain.pinfl import MAX_SERIAL, compose_pinfl, pinfl_prefix

__all__ = ["person_of_row", "resolve_person"]

# Grounds on which the holder's names or nationality legitimately differ from the registry's
# (scheme, line 19: "familiyasi, ismi, otasining ismi, millati, tug‘ilgan sanasi, jinsi
# o‘zgarganda"; line 20: "ma’lumotlarda noaniqliklar, xatolar … aniqlanganda").
_DATA_GROUNDS = frozenset({Ground.DATA_CHANGED, Ground.DATA_ERROR})


def person_of_row(row: PersonRow) -> Person:
    """The domain person of a ``persons`` row."""
    return Person(
        surname=PersonName(row.surname_lat, row.surname_cyr),
        given_name=PersonName(row.given_name_lat, row.given_name_cyr),
        patronymic=PersonName(row.patronymic_lat, row.patronymic_cyr),
        birth_date=row.birth_date,
        sex=row.sex,
        place_of_birth=row.place_of_birth,
        nationality=row.nationality,
        citizenship=row.citizenship,
        address=row.address,
        foreign_document=row.foreign_document,
        father_pinfl=row.father_pinfl,
        mother_pinfl=row.mother_pinfl,
        pinfl=row.pinfl,
    )


def _identity_differences(row: PersonRow, person: Person, ground: Ground) -> list[str]:
    """Fields that say ``person`` is not the one registered under the same PINFL."""
    pairs: list[tuple[str, str, str]] = [
        ("place_of_birth", row.place_of_birth, person.place_of_birth),
    ]
    if ground not in _DATA_GROUNDS:
        pairs += [
            ("surname", row.surname_lat, person.surname.latin),
            ("given_name", row.given_name_lat, person.given_name.latin),
            ("patronymic", row.patronymic_lat, person.patronymic.latin),
        ]
    # The birth date and sex need no comparison: the PINFL encodes them and was checked
    # against the person first (Person.pinfl_problems).
    return [name for name, old, new in pairs if normalise(old) != normalise(new)]


def _write(row: PersonRow, person: Person, *, identity: bool) -> None:
    """Copy ``person``'s data into ``row``: always the address, citizenship and documents
    (they change) and the Cyrillic names when given; the Latin names, nationality and
    parents' PINFLs (what the demographic key is made of) only on a data-changed /
    data-error ground, the key then made again from the stored data."""
    row.address = person.address
    row.citizenship = person.citizenship
    row.foreign_document = person.foreign_document
    row.surname_cyr = person.surname.cyrillic or row.surname_cyr
    row.given_name_cyr = person.given_name.cyrillic or row.given_name_cyr
    row.patronymic_cyr = person.patronymic.cyrillic or row.patronymic_cyr
    if identity:
        row.surname_lat = person.surname.latin
        row.given_name_lat = person.given_name.latin
        row.patronymic_lat = person.patronymic.latin
        row.nationality = person.nationality
        row.father_pinfl = person.father_pinfl or row.father_pinfl
        row.mother_pinfl = person.mother_pinfl or row.mother_pinfl
        row.demographic_key = person_of_row(row).demographic_key()


def _new_row(
    person: Person, pinfl: str, *, generated: bool, point: str, now: datetime
) -> PersonRow:
    return PersonRow(
        pinfl=pinfl,
        demographic_key=person.demographic_key(),
        surname_lat=person.surname.latin,
        given_name_lat=person.given_name.latin,
        patronymic_lat=person.patronymic.latin,
        surname_cyr=person.surname.cyrillic,
        given_name_cyr=person.given_name.cyrillic,
        patronymic_cyr=person.patronymic.cyrillic,
        birth_date=person.birth_date,
        sex=person.sex,
        place_of_birth=person.place_of_birth,
        nationality=person.nationality,
        citizenship=person.citizenship,
        address=person.address,
        foreign_document=person.foreign_document,
        father_pinfl=person.father_pinfl,
        mother_pinfl=person.mother_pinfl,
        pinfl_generated=generated,
        created_at=now,
        created_by_point=point,
    )


def _ensure_block(s: Session, prefix: str) -> None:
    if s.get_bind().dialect.name == "postgresql":
        stmt = postgresql.insert(PINFLBlock).values(prefix=prefix, next_serial=1)
        s.execute(stmt.on_conflict_do_nothing(index_elements=["prefix"]))
    else:
        lite = sqlite.insert(PINFLBlock).values(prefix=prefix, next_serial=1)
        s.execute(lite.on_conflict_do_nothing(index_elements=["prefix"]))


def next_pinfl(s: Session, *, sex: str, birth_date: date, place_code: str) -> str:
    """A new PINFL: century/sex digit, DDMMYY, the point's place code, the next serial of that
    block (``UPDATE … RETURNING``: concurrent requests queue on the block's row), check digit.

    A serial whose PINFL is already registered (a PINFL given from outside) is skipped;
    :class:`PINFLExhausted` when the block's 999 serials are used (the transaction rolls back,
    nothing is taken).
    """
    prefix = pinfl_prefix(sex=sex, birth_date=birth_date, place_code=place_code)
    _ensure_block(s, prefix)
    while True:
        serial = s.execute(
            update(PINFLBlock)
            .where(PINFLBlock.prefix == prefix)
            .values(next_serial=PINFLBlock.next_serial + 1)
            .returning(PINFLBlock.next_serial)
        ).scalar_one() - 1
        if serial > MAX_SERIAL:
            raise PINFLExhausted(
                "person.pinfl",
                f"every serial of the PINFL block {prefix} (born {birth_date.isoformat()}, "
                f"place {place_code}) is used; the Center cannot generate another",
            )
        pinfl = compose_pinfl(sex=sex, birth_date=birth_date, place_code=place_code, serial=serial)
        if s.scalar(select(PersonRow.id).where(PersonRow.pinfl == pinfl)) is None:
            return pinfl


def resolve_person(
    s: Session, person: Person, *, ground: Ground, point: str, place_code: str, now: datetime
) -> tuple[PersonRow, bool]:
    """The registry's row for ``person`` (found, or inserted) and whether its PINFL was
    generated by this request.

    - PINFL given: it must be correct for the person (14 digits, check digit, century/sex digit
      and birth date: :class:`DomainError` on ``person.pinfl``); a PINFL already registered must
      be the same person (else :class:`PersonMismatch`); a person known under another PINFL too.
    - No PINFL: the demographic key (names, birth date and place, parents' PINFLs) finds a
      known person; otherwise a PINFL is generated from the point's place code.

    Two requests for the same new person at once: the unique demographic key (or PINFL) refuses
    the second insert; the service retries the transaction, which then finds the first.
    """
    if person.pinfl is not None:
        problems = person.pinfl_problems(person.pinfl)
        if problems:
            raise DomainError.from_problems(problems)  # fields person.pinfl
        row = s.scalars(
            select(PersonRow).where(PersonRow.pinfl == person.pinfl).with_for_update()
        ).one_or_none()
        if row is not None:
            differences = _identity_differences(row, person, ground)
            if differences:
                raise PersonMismatch(
                    "person.pinfl",
                    "this PINFL is registered for another person "
                    f"({', '.join(differences)} differ)",
                )
            _write(row, person, identity=ground in _DATA_GROUNDS)
            return row, False
        other = s.scalar(
            select(PersonRow.pinfl).where(PersonRow.demographic_key == person.demographic_key())
        )
        if other is not None:
            raise PersonMismatch(
                "person.pinfl", "the Center knows this person under another PINFL"
            )
        row = _new_row(person, person.pinfl, generated=False, point=point, now=now)
        s.add(row)
        s.flush()
        return row, False
    row = s.scalars(
        select(PersonRow)
        .where(PersonRow.demographic_key == person.demographic_key())
        .with_for_update()
    ).one_or_none()
    if row is not None:
        _write(row, person, identity=False)
        return row, False
    pinfl = next_pinfl(s, sex=person.sex, birth_date=person.birth_date, place_code=place_code)
    row = _new_row(person, pinfl, generated=True, point=point, now=now)
    s.add(row)
    s.flush()
    return row, True
