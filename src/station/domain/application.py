"""An application for a card as the collection point takes it (scheme, stages 1-2 and 5).

Stage 1 (lines 58-80, 251-275): who applies, on which ground, with which documents; stage 2
(line 97): the points are "ichki ishlar organlarining migratsiya va fuqarolikni rasmiylashtirish
bo‘linmalari, davlat xizmatlari markazlari", for residents only the former (line 292). Stage 5
(lines 178-184): restoring or replacing a card. :func:`application_problems` lists everything
that stops the point accepting a form; :func:`check_application` raises it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from station.domain.cards import parse_card_number
from station.domain.documents import ApplicationFacts, DocumentKind, missing_documents
from station.domain.errors import DomainError, MissingDocuments
from station.domain.grounds import Ground, Scheme, rule
from station.domain.person import CITIZEN, STATELESS, Person
from station.errors import StationError
from station.rules import age_on

__all__ = [
    "Applicant",
    "ApplicantRole",
    "ApplicationForm",
    "PointKind",
    "application_facts",
    "application_problems",
    "check_application",
]


class ApplicantRole(enum.StrEnum):
    HOLDER = "holder"
    PARENT = "parent"
    GUARDIAN = "guardian"  # "vasiy" or "homiy" (guardian, trustee), lines 10-11


class PointKind(enum.StrEnum):
    INTERNAL_AFFAIRS = "internal-affairs"  # migration and citizenship unit of internal affairs
    PUBLIC_SERVICE_CENTRE = "public-service-centre"  # "davlat xizmatlari markazlari"


E = TypeVar("E", bound=enum.StrEnum)
T = TypeVar("T")
_PINFL_SHAPE = re.compile(r"[0-9]{14}")


@dataclass(frozen=True, slots=True)
class Applicant:
    """Who stands at the counter: the holder, or a parent or guardian of a holder under 16;
    ``document`` is the identity document they show (``"AA1234567"``)."""

    role: ApplicantRole
    name: str
    document: str
    pinfl: str | None = None

    def __post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        role = _enum(ApplicantRole, self.role, "applicant.role", problems)
        if role is not None:
            object.__setattr__(self, "role", role)  # a code given as a string
        for key in ("name", "document"):
            value = getattr(self, key)
            if not (isinstance(value, str) and value.strip()):
                problems.append((f"applicant.{key}", "must not be empty"))
        if self.pinfl is not None and not (
            isinstance(self.pinfl, str) and _PINFL_SHAPE.fullmatch(self.pinfl)
        ):
            problems.append(("applicant.pinfl", "a PINFL is exactly 14 digits"))
        if problems:
            raise DomainError.from_problems(problems)

    def to_json(self) -> dict[str, Any]:
        return {"role": self.role.value, "name": self.name, "document": self.document,
                "pinfl": self.pinfl}  # fmt: skip

    @classmethod
    def from_json(cls, data: object) -> Applicant:
        if not isinstance(data, dict):
            raise DomainError("applicant", "must be a JSON object")
        problems = [(f"applicant.{k}", "unknown field") for k in data
                    if k not in ("role", "name", "document", "pinfl")]  # fmt: skip
        role = _enum(ApplicantRole, data.get("role"), "applicant.role", problems)
        name, document, pinfl = data.get("name"), data.get("document"), data.get("pinfl")
        for key, value in (("name", name), ("document", document)):
            if not isinstance(value, str):
                problems.append((f"applicant.{key}", "must be a string"))
        if pinfl is not None and not isinstance(pinfl, str):
            problems.append(("applicant.pinfl", "must be a string or null"))
        if problems or role is None or not isinstance(name, str) or not isinstance(document, str):
            raise DomainError.from_problems(problems)
        return cls(role, name, document, pinfl)


@dataclass(frozen=True, slots=True)
class ApplicationForm:
    """The form the point fills in (scheme, line 28: "belgilangan shakldagi ariza-anketa") with
    the documents presented; ``previous_card`` is the card replaced ("AD1234567")."""

    scheme: Scheme
    ground: Ground
    person: Person
    applicant: Applicant
    documents: frozenset[DocumentKind]
    first_issue: bool
    fee_paid_electronically: bool = False
    payment_reference: str | None = None
    fee_waived: bool = False
    previous_card: str | None = None

    def __post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        scheme = _enum(Scheme, self.scheme, "scheme", problems)
        ground = _enum(Ground, self.ground, "ground", problems)
        kinds = [_enum(DocumentKind, d, "documents", problems) for d in self.documents]
        if problems:
            raise DomainError.from_problems(problems)
        object.__setattr__(self, "scheme", scheme)  # codes given as strings become the enums
        object.__setattr__(self, "ground", ground)
        object.__setattr__(self, "documents", frozenset(k for k in kinds if k is not None))

    def to_json(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme.value,
            "ground": self.ground.value,
            "person": self.person.to_json(),
            "applicant": self.applicant.to_json(),
            "documents": [k.value for k in DocumentKind if k in self.documents],
            "first_issue": self.first_issue,
            "fee_paid_electronically": self.fee_paid_electronically,
            "payment_reference": self.payment_reference,
            "fee_waived": self.fee_waived,
            "previous_card": self.previous_card,
        }

    @classmethod
    def from_json(cls, data: object) -> ApplicationForm:
        """The form of :meth:`to_json`'s JSON. ``scheme`` may be left out: citizenship UZB is
        the citizens' scheme, any other the residents'. Bad input: :class:`DomainError` naming
        the first bad field and listing every one."""
        if not isinstance(data, dict):
            raise DomainError("form", "must be a JSON object")
        known = ("scheme", "ground", "person", "applicant", "documents", "first_issue",
                 "fee_paid_electronically", "payment_reference", "fee_waived", "previous_card")
        problems = [(k, "unknown field") for k in data if k not in known]
        person = _part(Person.from_json, data.get("person"), problems)
        applicant = _part(Applicant.from_json, data.get("applicant"), problems)
        ground = _enum(Ground, data.get("ground"), "ground", problems)
        scheme: Scheme | None
        if data.get("scheme") is None and person is not None:
            scheme = Scheme.CITIZEN if person.citizenship == CITIZEN else Scheme.RESIDENT
        else:
            scheme = _enum(Scheme, data.get("scheme"), "scheme", problems)
        documents: set[DocumentKind] = set()
        raw_documents = data.get("documents")
        if not isinstance(raw_documents, list):
            problems.append(("documents", "must be a list of document codes"))
        else:
            for i, code in enumerate(raw_documents):
                kind = _enum(DocumentKind, code, f"documents[{i}]", problems)
                if kind is not None:
                    documents.add(kind)
        flags: dict[str, bool] = {}
        for key, default in (("first_issue", None), ("fee_paid_electronically", False),
                             ("fee_waived", False)):
            value = data.get(key, default)
            if isinstance(value, bool):
                flags[key] = value
            else:
                problems.append((key, "must be true or false"))
        texts: dict[str, str | None] = {}
        for key in ("payment_reference", "previous_card"):
            value = data.get(key)
            if value is None or isinstance(value, str):
                texts[key] = value
            else:
                problems.append((key, "must be a string or null"))
        if problems or scheme is None or ground is None or person is None or applicant is None:
            raise DomainError.from_problems(problems)
        return cls(
            scheme=scheme, ground=ground, person=person, applicant=applicant,
            documents=frozenset(documents), first_issue=flags["first_issue"],
            fee_paid_electronically=flags["fee_paid_electronically"],
            fee_waived=flags["fee_waived"], payment_reference=texts["payment_reference"],
            previous_card=texts["previous_card"],
        )


def application_facts(form: ApplicationForm, *, today: date) -> ApplicationFacts:
    """What decides the documents of ``form`` (the holder's age taken on ``today``)."""
    return ApplicationFacts(
        scheme=form.scheme,
        ground=form.ground,
        first_issue=form.first_issue,
        holder_age=_age(form.person, today),
        applicant_is_holder=form.applicant.role is ApplicantRole.HOLDER,
        fee_paid_electronically=form.fee_paid_electronically,
        fee_waived=form.fee_waived,
        foreign_citizen=form.person.citizenship not in (CITIZEN, STATELESS),
    )


def application_problems(
    form: ApplicationForm, *, point_kind: PointKind, today: date
) -> list[tuple[str, str]]:
    """Every (field, reason) that stops ``point_kind`` accepting ``form`` on ``today``. The
    PINFL's agreement with the person is :meth:`Person.pinfl_problems` (the Center's stage 3)."""
    problems: list[tuple[str, str]] = []
    ground_rule = rule(form.ground)
    scheme, person = form.scheme, form.person
    # scheme, line 292 (residents' stage 2): "Ma’lumotlarni yig‘ish punkti (ichki ishlar
    # organlarining migratsiya va fuqarolikni rasmiylashtirish bo‘linmalari)", no public service
    # centres (citizens' stage 2, line 97, has both).
    if scheme is Scheme.RESIDENT and point_kind is not PointKind.INTERNAL_AFFAIRS:
        problems.append(("point_kind", "residents apply only at a migration and citizenship unit "
                         "of internal affairs, not at a public service centre (scheme, line 292)"))
    # The ground is one of the scheme's: lines 14-23 (citizens), 251-259 (residents), stage 5 of
    # both (lines 178-184, 369-375).
    if scheme not in ground_rule.schemes:
        problems.append(("ground", f"{form.ground.value} is not a ground of the {scheme.value} "
                         "scheme"))
    # Line 5: the citizen's card; line 229: "doimiy yashovchi chet davlat fuqarosi va fuqaroligi
    # bo‘lmagan shaxs" (a foreign citizen or stateless person with permanent residence).
    if scheme is Scheme.CITIZEN and person.citizenship != CITIZEN:
        problems.append(("person.citizenship", f"{person.citizenship} in the citizens' scheme: "
                         "a citizen's citizenship is UZB"))
    if scheme is Scheme.RESIDENT and person.citizenship == CITIZEN:
        problems.append(("person.citizenship", "UZB in the residents' scheme: it is for foreign "
                         "citizens and stateless persons (XXA)"))
    if person.birth_date > today:
        problems.append(("person.birth_date", f"{person.birth_date.isoformat()} is after today, "
                         f"{today.isoformat()}"))
        return problems
    age = _age(person, today)
    age_problem = ground_rule.age_problem(age)
    if age_problem:  # lines 15-16: "16 yoshga to‘lguniga qadar", "16 yoshga to‘lganda"
        problems.append(("ground", age_problem))
    # Lines 10-11: under 16 "ota-onalar, vasiylarning (homiylarning) ixtiyoriga ko‘ra"; line 12:
    # from 16 the holder's own card (stage 5, line 178: the holder "ariza bilan murojaat qiladi").
    role = form.applicant.role
    if age < 16 and role is ApplicantRole.HOLDER:
        problems.append(("applicant.role", f"the holder is {age}: a parent or guardian applies "
                         "for a holder under 16"))
    if age >= 16 and role is not ApplicantRole.HOLDER:
        problems.append(("applicant.role", f"the holder is {age}: from 16 the holder applies, "
                         f"not a {role.value}"))
    if (role is ApplicantRole.HOLDER and form.applicant.pinfl and person.pinfl
            and form.applicant.pinfl != person.pinfl):
        problems.append(("applicant.pinfl", "the holder applies, but this is not the holder's "
                         "PINFL"))
    if role is not ApplicantRole.HOLDER and form.applicant.pinfl and (
        form.applicant.pinfl == person.pinfl
    ):
        problems.append(("applicant.pinfl", f"the {role.value} has the holder's PINFL"))
    missing = missing_documents(application_facts(form, today=today), form.documents)
    if missing:
        problems.append(("documents", "missing: " + ", ".join(k.value for k in missing)))
    # Line 32: "elektron to‘lov tizimlari orqali to‘langanda kvitantsiya majburiy emas": the
    # electronic payment stands for the receipt, so its reference is recorded.
    if form.fee_paid_electronically and not (form.payment_reference or "").strip():
        problems.append(("payment_reference", "a fee paid electronically needs its payment "
                         "reference"))
    # Line 217: "texnik nuqsonlar aniqlansa, basharti ular ma’lumotlarni yig‘ish punkti
    # tomonidan yo‘l qo‘yilgan bo‘lsa, ID-karta bepul almashtiriladi".
    if form.fee_waived and form.ground is not Ground.DATA_ERROR:
        problems.append(("fee_waived", "the fee is waived only for a technical defect the point "
                         f"caused (ground data-error), not on {form.ground.value}"))
    problems += _previous_card_problems(form)
    return problems


def _previous_card_problems(form: ApplicationForm) -> list[tuple[str, str]]:
    if form.previous_card is not None:
        try:
            parse_card_number(form.previous_card, field="previous_card")
        except DomainError as exc:
            return list(exc.problems)
        if form.first_issue:
            return [("previous_card", "a first ID card replaces no card")]
        return []
    # Stage 5 (line 178, "tiklash yoki almashtirish"), expiry (line 18), seizure (line 22): the
    # card ended is named, so the registry can end it.
    if rule(form.ground).replaces_card and not form.first_issue:
        return [("previous_card", f"the card replaced on ground {form.ground.value} is needed "
                 "(series and number, AD1234567)")]
    return []


def check_application(form: ApplicationForm, *, point_kind: PointKind, today: date) -> None:
    """Refuse ``form`` with every problem: :class:`MissingDocuments` (field ``documents``
    first) when documents are missing, else :class:`DomainError`."""
    problems = application_problems(form, point_kind=point_kind, today=today)
    if not problems:
        return
    missing = missing_documents(application_facts(form, today=today), form.documents)
    if missing:  # the documents' problem first, then the others in their order
        problems.sort(key=lambda p: p[0] != "documents")
        raise MissingDocuments.from_problems(problems, missing=[k.value for k in missing])
    raise DomainError.from_problems(problems)


def _age(person: Person, today: date) -> int:
    try:
        return age_on(person.birth_date, today)
    except StationError:
        raise DomainError("person.birth_date", f"{person.birth_date.isoformat()} is after "
                          f"{today.isoformat()}") from None


def _enum(kind: type[E], value: object, field: str,
          problems: list[tuple[str, str]]) -> E | None:
    known = ", ".join(k.value for k in kind)
    if not isinstance(value, str):
        problems.append((field, f"must be one of: {known}"))
        return None
    try:
        return kind(value)
    except ValueError:
        problems.append((field, f"{value[:40]!r} is not one of: {known}"))
        return None


def _part(parse: Callable[[object], T], value: object,
          problems: list[tuple[str, str]]) -> T | None:
    try:
        return parse(value)
    except DomainError as exc:
        problems.extend(exc.problems)
        return None
