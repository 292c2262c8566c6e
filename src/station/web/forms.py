"""The new-application form in two steps: first the ground and what decides the documents,
then the documents checklist that ground requires, the person and who applies.

Dates are typed as ``dd.mm.yyyy``; names in Latin and Cyrillic as the record holds them. Parsing
never guesses: a field that does not parse is a (field, reason) problem shown beside it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from station.domain.application import Applicant, ApplicantRole, ApplicationForm
from station.domain.documents import ApplicationFacts, DocumentKind, required_documents
from station.domain.errors import DomainError
from station.domain.grounds import Ground, Scheme
from station.domain.person import CITIZEN, STATELESS, Person, PersonName
from station.rules import age_on

__all__ = ["Step1", "parse_date", "parse_step1", "parse_step2"]

_DATE = re.compile(r"([0-9]{2})\.([0-9]{2})\.([0-9]{4})")
Field = Callable[[str], str]
E = TypeVar("E", bound=enum.StrEnum)


def parse_date(text: str, name: str, problems: list[tuple[str, str]]) -> date | None:
    """``dd.mm.yyyy`` as a date, else a problem named ``name``."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        problems.append((name, "must be a date dd.mm.yyyy"))
        return None
    try:
        return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        problems.append((name, f"{text.strip()} is not a date"))
        return None


@dataclass(frozen=True, slots=True)
class Step1:
    """What decides the documents: the ground, the holder's citizenship and birth date, whether
    it is the first ID card, who applies, and how the fee was paid."""

    ground: Ground
    citizenship: str
    birth_date: date
    first_issue: bool
    applicant_role: ApplicantRole
    fee_paid_electronically: bool

    @property
    def scheme(self) -> Scheme:
        return Scheme.CITIZEN if self.citizenship == CITIZEN else Scheme.RESIDENT

    def facts(self, today: date) -> ApplicationFacts:
        return ApplicationFacts(
            scheme=self.scheme, ground=self.ground, first_issue=self.first_issue,
            holder_age=age_on(self.birth_date, today) if self.birth_date <= today else 0,
            applicant_is_holder=self.applicant_role is ApplicantRole.HOLDER,
            fee_paid_electronically=self.fee_paid_electronically, fee_waived=False,
            foreign_citizen=self.citizenship not in (CITIZEN, STATELESS),
        )  # fmt: skip

    def documents(self, today: date) -> list[DocumentKind]:
        """The checklist: the documents this application needs, in the scheme's order."""
        needed = required_documents(self.facts(today))
        return [k for k in DocumentKind if k in needed]


def parse_step1(get: Field) -> tuple[Step1 | None, list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    ground = _choice(Ground, get("ground"), "ground", problems)
    role = _choice(ApplicantRole, get("applicant_role") or "holder", "applicant.role", problems)
    citizenship = (get("citizenship") or CITIZEN).upper()
    if not re.fullmatch(r"[A-Z]{3}", citizenship):
        problems.append(("person.citizenship", "must be 3 capital letters (UZB, XXA, RUS, …)"))
    born = parse_date(get("birth_date"), "person.birth_date", problems)
    if problems or ground is None or role is None or born is None:
        return None, problems
    return Step1(ground, citizenship, born, get("first_issue") == "yes", role,
                 get("fee_paid_electronically") == "yes"), []  # fmt: skip


def parse_step2(step: Step1, get: Field, documents: list[str]) -> ApplicationForm:
    """The whole form; :class:`DomainError` listing every problem of shape (the scheme's rules
    are checked by the point's use case)."""
    problems: list[tuple[str, str]] = []

    def name(key: str) -> PersonName:
        return PersonName(get(f"{key}_latin"), get(f"{key}_cyrillic"))

    kinds: set[DocumentKind] = set()
    for code in documents:
        kind = _choice(DocumentKind, code, "documents", problems)
        if kind is not None:
            kinds.add(kind)
    try:
        person = Person(
            surname=name("surname"), given_name=name("given_name"),
            patronymic=name("patronymic"), birth_date=step.birth_date, sex=get("sex"),
            place_of_birth=get("place_of_birth"), nationality=get("nationality"),
            citizenship=step.citizenship, address=get("address"),
            foreign_document=get("foreign_document") or None,
            father_pinfl=get("father_pinfl") or None, mother_pinfl=get("mother_pinfl") or None,
            pinfl=get("pinfl") or None,
        )  # fmt: skip
    except DomainError as exc:
        problems += exc.problems
        person = None
    holder = step.applicant_role is ApplicantRole.HOLDER
    applicant = None
    try:
        applicant = Applicant(
            role=step.applicant_role,
            name=(f"{get('surname_latin')} {get('given_name_latin')}".strip() if holder
                  else get("applicant_name")),
            document=get("applicant_document"),
            pinfl=(get("applicant_pinfl") or None) if not holder else (get("pinfl") or None),
        )  # fmt: skip
    except DomainError as exc:
        problems += exc.problems
    if problems or person is None or applicant is None:
        raise DomainError.from_problems(problems)
    return ApplicationForm(
        scheme=step.scheme, ground=step.ground, person=person, applicant=applicant,
        documents=frozenset(kinds), first_issue=step.first_issue,
        fee_paid_electronically=step.fee_paid_electronically,
        payment_reference=get("payment_reference") or None,
        previous_card=(get("previous_card").upper() or None),
    )  # fmt: skip


def _choice(kind: type[E], value: str, field: str,
               problems: list[tuple[str, str]]) -> E | None:  # fmt: skip
    try:
        return kind(value)
    except ValueError:
        problems.append((field, f"{value[:40]!r} is not a choice here"))
        return None
