"""The application form and what stops a point accepting it (scheme, stages 1-2 and 5)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.station.domain.strategies import persons

from station.domain.application import (
    Applicant,
    ApplicantRole,
    ApplicationForm,
    PointKind,
    application_facts,
    application_problems,
    check_application,
)
from station.domain.documents import ApplicationFacts, DocumentKind, required_documents
from station.domain.errors import DomainError, MissingDocuments
from station.domain.grounds import GROUND_RULES, Ground, Scheme
from station.domain.person import Person, PersonName

TODAY = date(2026, 12, 4)
D = DocumentKind
IA, PSC = PointKind.INTERNAL_AFFAIRS, PointKind.PUBLIC_SERVICE_CENTRE
HOLDER = Applicant(ApplicantRole.HOLDER, "Nodira G‘aniyeva", "AD1111111")
MOTHER = Applicant(ApplicantRole.PARENT, "Malika G‘aniyeva", "AD2222222", "40101601230011")


def person(**kw: Any) -> Person:
    values: dict[str, Any] = {
        "surname": PersonName("G‘aniyeva"), "given_name": PersonName("Nodira"),
        "patronymic": PersonName("Olimovna"), "birth_date": date(1985, 3, 7), "sex": "F",
        "place_of_birth": "Toshkent", "nationality": "o‘zbek", "citizenship": "UZB",
        "address": "Toshkent, Yunusobod 4-12",
    }
    values.update(kw)
    return Person(**values)


CHILD = person(given_name=PersonName("Zarina"), birth_date=date(2019, 6, 1))
FOREIGNER = person(citizenship="KAZ", nationality="qozoq", patronymic=PersonName(""),
                   foreign_document="N1234567")


def form(ground: Ground = Ground.LOST, **kw: Any) -> ApplicationForm:
    """A form on ``ground`` with exactly the documents it needs (unless ``documents`` given)."""
    values: dict[str, Any] = {
        "scheme": GROUND_RULES[ground].scheme, "ground": ground, "person": person(),
        "applicant": HOLDER, "documents": frozenset(), "first_issue": False,
        "previous_card": "AD0000042" if GROUND_RULES[ground].replaces_card else None,
    }
    values.update(kw)
    f = ApplicationForm(**values)
    if "documents" not in kw:
        f = replace(f, documents=required_documents(application_facts(f, today=TODAY)))
    return f


def problems(f: ApplicationForm, point: PointKind = IA) -> list[tuple[str, str]]:
    return application_problems(f, point_kind=point, today=TODAY)


def fields(f: ApplicationForm, point: PointKind = IA) -> list[str]:
    return [field for field, _ in problems(f, point)]


def test_a_complete_application_passes() -> None:
    f = form(Ground.LOST)
    assert problems(f) == [] and problems(f, PSC) == []
    check_application(f, point_kind=PSC, today=TODAY)


def test_resident_refused_at_public_service_centre() -> None:
    # scheme, line 292 (residents' stage 2): "Ma’lumotlarni yig‘ish punkti (ichki ishlar
    # organlarining migratsiya va fuqarolikni rasmiylashtirish bo‘linmalari)"; line 97 (citizens)
    # adds "davlat xizmatlari markazlari".
    f = form(Ground.PERMIT_EXPIRED, person=FOREIGNER)
    assert problems(f, IA) == []
    assert fields(f, PSC) == ["point_kind"]
    assert "public service centre" in problems(f, PSC)[0][1]
    with pytest.raises(DomainError) as info:
        check_application(f, point_kind=PSC, today=TODAY)
    assert info.value.field == "point_kind" and type(info.value) is DomainError
    assert problems(form(Ground.EXPIRED), PSC) == []  # a citizen may go to either


@pytest.mark.parametrize("ground", [Ground.LOST, Ground.UNUSABLE, Ground.DATA_CHANGED,
                                    Ground.DATA_ERROR])
def test_residents_restore_their_cards_too(ground: Ground) -> None:
    # scheme, lines 369-375: the residents' stage 5 "ID-karta yo‘qotib qo‘yilganda; ... yaroqsiz
    # holga kelganda; ... o‘zgarganda yoki ... noaniqliklar mavjudligi aniqlanganda"
    assert problems(form(ground, scheme=Scheme.RESIDENT, person=FOREIGNER)) == []


@pytest.mark.parametrize(
    ("scheme", "ground"),
    [(Scheme.CITIZEN, Ground.PERMIT_EXPIRED), (Scheme.CITIZEN, Ground.CITIZENSHIP_ENDED),
     (Scheme.RESIDENT, Ground.EXPIRED), (Scheme.RESIDENT, Ground.SEIZED),
     (Scheme.RESIDENT, Ground.CITIZENSHIP_ACQUIRED)],
)
def test_ground_of_another_scheme(scheme: Scheme, ground: Ground) -> None:
    # scheme, lines 14-23 (citizens' grounds), 251-259 (residents' grounds)
    who = person() if scheme is Scheme.CITIZEN else FOREIGNER
    assert fields(form(ground, scheme=scheme, person=who)) == ["ground"]


def test_citizenship_agrees_with_the_scheme() -> None:
    # line 5: "O‘zbekiston Respublikasi fuqarosining identifikatsiya ID-kartasi"; line 229:
    # "doimiy yashovchi chet davlat fuqarosi va fuqaroligi bo‘lmagan shaxs"
    assert fields(form(Ground.EXPIRED, person=FOREIGNER)) == ["person.citizenship"]
    assert fields(form(Ground.PERMIT_EXPIRED, person=person())) == ["person.citizenship"]
    stateless = replace(FOREIGNER, citizenship="XXA")
    assert problems(form(Ground.PERMIT_EXPIRED, person=stateless)) == []


def test_stateless_first_issue_needs_no_national_passport() -> None:
    stateless = replace(FOREIGNER, citizenship="XXA")
    f = form(Ground.RESIDENT_TURNED_16, person=stateless, first_issue=True)
    assert D.NATIONAL_PASSPORT not in f.documents and problems(f) == []
    foreign = form(Ground.RESIDENT_TURNED_16, person=FOREIGNER, first_issue=True,
                   documents=f.documents)
    assert problems(foreign) == [("documents", "missing: national-passport")]


@pytest.mark.parametrize(
    ("ground", "born", "ok"),
    [
        # line 15: "bola tug‘ilgandan boshlab 16 yoshga to‘lguniga qadar"
        (Ground.PARENTS_WISH, date(2010, 12, 5), True),  # 16 tomorrow
        (Ground.PARENTS_WISH, date(2010, 12, 4), False),  # 16 today
        # line 16: "fuqaro 16 yoshga to‘lganda"
        (Ground.TURNED_16, date(2010, 12, 4), True),
        (Ground.TURNED_16, date(2010, 12, 5), False),
    ],
)
def test_age_rules(ground: Ground, born: date, ok: bool) -> None:
    child = person(birth_date=born)
    applicant = MOTHER if born > date(2010, 12, 4) else HOLDER
    f = form(ground, person=child, applicant=applicant, first_issue=True)
    assert ("ground" not in fields(f)) is ok


def test_under_16_the_parent_or_guardian_applies() -> None:
    # lines 10-11: "ota-onalar, vasiylarning (homiylarning) ixtiyoriga ko‘ra"; line 219: the card
    # goes to "murojaat qilgan ota-onalari yoki vasiylariga (homiylariga)"
    by_mother = form(Ground.PARENTS_WISH, person=CHILD, applicant=MOTHER, first_issue=True)
    assert D.GUARDIAN_PROOF in by_mother.documents and problems(by_mother) == []
    guardian = Applicant(ApplicantRole.GUARDIAN, "Olim Karimov", "AD3333333")
    assert problems(replace(by_mother, applicant=guardian)) == []
    by_child = replace(by_mother, applicant=HOLDER)
    assert fields(by_child) == ["applicant.role"]
    assert "the holder is 7" in problems(by_child)[0][1]
    without_proof = replace(by_mother, documents=by_mother.documents - {D.GUARDIAN_PROOF})
    with pytest.raises(MissingDocuments) as info:
        check_application(without_proof, point_kind=IA, today=TODAY)
    assert info.value.missing == ("guardian-proof",)
    assert (info.value.field, info.value.reason) == ("documents", "missing: guardian-proof")


def test_from_16_the_holder_applies() -> None:
    # line 12: "16 yoshdan — 10 yil muddatga" (no longer at the parents' wish)
    f = form(Ground.LOST, applicant=MOTHER)
    assert fields(f) == ["applicant.role"]
    assert problems(f)[0][1] == "the holder is 41: from 16 the holder applies, not a parent"


def test_applicant_pinfl() -> None:
    pinfl = "40703851230058"
    who = person(pinfl=pinfl)
    assert problems(form(person=who, applicant=replace(HOLDER, pinfl=pinfl))) == []
    assert fields(form(person=who, applicant=replace(HOLDER, pinfl="40101601230011"))) == [
        "applicant.pinfl"]
    child = replace(CHILD, pinfl="40106191230015")
    same = replace(MOTHER, pinfl="40106191230015")
    assert fields(form(Ground.LOST, person=child, applicant=same)) == ["applicant.pinfl"]


def test_missing_documents_named_with_the_other_problems() -> None:
    # line 26: "Fuqaro ID-karta olish uchun ma’lumotlarni yig‘ish punktiga quyidagilarni taqdim
    # etadi"
    f = form(Ground.SEIZED, documents=frozenset({D.APPLICATION_FORM}), applicant=MOTHER)
    assert problems(f) == [
        ("applicant.role", "the holder is 41: from 16 the holder applies, not a parent"),
        ("documents", "missing: authority-decision, fee-receipt, guardian-proof"),
    ]
    with pytest.raises(MissingDocuments) as info:
        check_application(f, point_kind=IA, today=TODAY)
    err = info.value
    assert err.field == "documents"
    assert err.missing == ("authority-decision", "fee-receipt", "guardian-proof")
    assert [p[0] for p in err.problems] == ["documents", "applicant.role"]


def test_electronic_payment_needs_a_reference() -> None:
    # line 32: "elektron to‘lov tizimlari orqali to‘langanda kvitantsiya majburiy emas"
    f = form(Ground.LOST, fee_paid_electronically=True)
    assert D.FEE_RECEIPT not in f.documents
    assert fields(f) == ["payment_reference"]
    assert fields(replace(f, payment_reference="  ")) == ["payment_reference"]
    assert problems(replace(f, payment_reference="PAY-2026-000123")) == []


def test_fee_waived_only_for_the_points_defect() -> None:
    # line 217: "texnik nuqsonlar aniqlansa, basharti ular ma’lumotlarni yig‘ish punkti tomonidan
    # yo‘l qo‘yilgan bo‘lsa, ID-karta bepul almashtiriladi"
    free = form(Ground.DATA_ERROR, fee_waived=True)
    assert D.FEE_RECEIPT not in free.documents and problems(free) == []
    assert fields(form(Ground.LOST, fee_waived=True)) == ["fee_waived"]


@pytest.mark.parametrize("ground", [g for g, r in GROUND_RULES.items() if r.replaces_card])
def test_replaced_card_is_named(ground: Ground) -> None:
    # line 178: "ID-kartani tiklash yoki almashtirish uchun"; line 18 expiry; line 22 seizure
    who = FOREIGNER if GROUND_RULES[ground].scheme is Scheme.RESIDENT else person()
    f = form(ground, person=who, previous_card=None)
    assert fields(f) == ["previous_card"]
    assert problems(replace(f, previous_card="AD0000042")) == []
    # the holder's first ID card (a passport expired): no card to name
    first = form(ground, person=who, previous_card=None, first_issue=True)
    assert problems(first) == []
    assert problems(replace(first, previous_card="AD0000042")) == [
        ("previous_card", "a first ID card replaces no card")]


def test_previous_card_format() -> None:
    assert fields(form(Ground.LOST, previous_card="AD12")) == ["previous_card"]
    assert fields(form(Ground.TURNED_16, previous_card="AD0000007")) == []  # optional there


def test_birth_date_after_today() -> None:
    f = form(Ground.PARENTS_WISH, person=person(birth_date=date(2026, 12, 5)), applicant=MOTHER,
             documents=frozenset())
    assert problems(f) == [("person.birth_date", "2026-12-05 is after today, 2026-12-04")]


def test_form_accepts_codes_as_strings() -> None:
    f = ApplicationForm(scheme="citizen", ground="lost", person=person(),  # type: ignore[arg-type]
                        applicant=Applicant("holder", "N", "AD1"),  # type: ignore[arg-type]
                        documents=frozenset({"fee-receipt"}),  # type: ignore[arg-type]
                        first_issue=False)
    assert (f.scheme, f.ground, f.documents, f.applicant.role) == (
        Scheme.CITIZEN, Ground.LOST, frozenset({D.FEE_RECEIPT}), ApplicantRole.HOLDER)
    with pytest.raises(DomainError) as info:
        replace(f, ground="stolen")  # type: ignore[arg-type]
    assert info.value.field == "ground"


@given(persons(), st.sampled_from(Ground), st.sampled_from(ApplicantRole),
       st.frozensets(st.sampled_from(DocumentKind)), st.booleans(), st.booleans(),
       st.none() | st.just("PAY-1"), st.booleans(), st.none() | st.just("AD0000001"))
def test_json_round_trip(p: Person, ground: Ground, role: ApplicantRole,
                         docs: frozenset[DocumentKind], first: bool, electronic: bool,
                         reference: str | None, waived: bool, previous: str | None) -> None:
    f = ApplicationForm(
        scheme=GROUND_RULES[ground].scheme, ground=ground, person=p,
        applicant=Applicant(role, "Ali Valiyev", "AD7654321", p.mother_pinfl), documents=docs,
        first_issue=first, fee_paid_electronically=electronic, payment_reference=reference,
        fee_waived=waived, previous_card=previous,
    )
    assert ApplicationForm.from_json(json.loads(json.dumps(f.to_json()))) == f


def test_scheme_inferred_from_citizenship() -> None:
    data = form(Ground.LOST, scheme=Scheme.RESIDENT, person=FOREIGNER).to_json()
    del data["scheme"]
    assert ApplicationForm.from_json(data).scheme is Scheme.RESIDENT
    data = form(Ground.LOST).to_json()
    data["scheme"] = None
    assert ApplicationForm.from_json(data).scheme is Scheme.CITIZEN


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ground": "stolen"}, "ground"),
        ({"ground": None}, "ground"),
        ({"scheme": "tourist"}, "scheme"),
        ({"documents": "fee-receipt"}, "documents"),
        ({"documents": ["fee-receipt", "selfie"]}, "documents[1]"),
        ({"first_issue": "yes"}, "first_issue"),
        ({"fee_waived": 1}, "fee_waived"),
        ({"payment_reference": 5}, "payment_reference"),
        ({"previous_card": ["AD"]}, "previous_card"),
        ({"applicant": {"role": "uncle", "name": "x", "document": "y"}}, "applicant.role"),
        ({"applicant": {"role": "holder", "name": "", "document": "y"}}, "applicant.name"),
        ({"applicant": {"role": "holder", "name": "x"}}, "applicant.document"),
        ({"applicant": {"role": "holder", "name": "x", "document": "y", "age": 3}},
         "applicant.age"),
        ({"applicant": None}, "applicant"),
        ({"person": {}}, "person.surname"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_json_names_the_field(change: dict[str, Any], field: str) -> None:
    data = {**form(Ground.LOST).to_json(), **change}
    with pytest.raises(DomainError) as info:
        ApplicationForm.from_json(data)
    assert field in [f for f, _ in info.value.problems]
    if len(change) == 1 and field != "person.surname":
        assert info.value.field == field


def test_first_issue_is_required_in_json() -> None:
    data = form(Ground.LOST).to_json()
    del data["first_issue"]
    with pytest.raises(DomainError) as info:
        ApplicationForm.from_json(data)
    assert info.value.field == "first_issue"


def test_form_json_not_an_object() -> None:
    with pytest.raises(DomainError) as info:
        ApplicationForm.from_json("lost")
    assert info.value.field == "form"


def test_problem_messages() -> None:
    # The reasons are shown to the operator as they are: each one exactly.
    resident = form(Ground.PERMIT_EXPIRED, person=FOREIGNER)
    assert problems(resident, PSC) == [(
        "point_kind", "residents apply only at a migration and citizenship unit of internal "
        "affairs, not at a public service centre (scheme, line 292)")]
    assert problems(form(Ground.PERMIT_EXPIRED, scheme=Scheme.CITIZEN)) == [
        ("ground", "permit-expired is not a ground of the citizen scheme")]
    assert problems(form(Ground.EXPIRED, person=FOREIGNER)) == [
        ("person.citizenship", "KAZ in the citizens' scheme: a citizen's citizenship is UZB")]
    assert problems(form(Ground.PERMIT_EXPIRED, person=person())) == [
        ("person.citizenship", "UZB in the residents' scheme: it is for foreign citizens and "
         "stateless persons (XXA)")]
    child = form(Ground.PARENTS_WISH, person=CHILD, applicant=HOLDER, first_issue=True)
    assert problems(child) == [
        ("applicant.role", "the holder is 7: a parent or guardian applies for a holder under 16")]
    who = person(pinfl="40703851230058")
    assert problems(form(person=who, applicant=replace(HOLDER, pinfl="40101601230011"))) == [
        ("applicant.pinfl", "the holder applies, but this is not the holder's PINFL")]
    kid = replace(CHILD, pinfl="40106191230015")
    assert problems(form(person=kid, applicant=replace(MOTHER, pinfl=kid.pinfl))) == [
        ("applicant.pinfl", "the parent has the holder's PINFL")]
    assert problems(form(Ground.LOST, fee_paid_electronically=True)) == [
        ("payment_reference", "a fee paid electronically needs its payment reference")]
    assert problems(form(Ground.LOST, fee_waived=True)) == [
        ("fee_waived", "the fee is waived only for a technical defect the point caused (ground "
         "data-error), not on lost")]
    assert problems(form(Ground.LOST, previous_card=None)) == [
        ("previous_card", "the card replaced on ground lost is needed (series and number, "
         "AD1234567)")]


def test_sixteenth_birthday() -> None:
    # line 15 "16 yoshga to‘lguniga qadar" / line 16 "16 yoshga to‘lganda": 16 on the day itself
    sixteen = person(birth_date=date(2010, 12, 4))
    assert problems(form(Ground.TURNED_16, person=sixteen, first_issue=True)) == []
    by_mother = form(Ground.TURNED_16, person=sixteen, first_issue=True, applicant=MOTHER)
    assert problems(by_mother) == [
        ("applicant.role", "the holder is 16: from 16 the holder applies, not a parent")]
    fifteen = person(birth_date=date(2010, 12, 5))
    assert problems(form(Ground.PARENTS_WISH, person=fifteen, first_issue=True,
                         applicant=MOTHER)) == []
    assert problems(form(Ground.PARENTS_WISH, person=sixteen, first_issue=True,
                         applicant=MOTHER)) == [
        ("ground", "parents-wish is for a holder under 16; the holder is 16"),
        ("applicant.role", "the holder is 16: from 16 the holder applies, not a parent"),
    ]
    assert problems(form(Ground.TURNED_16, person=fifteen, first_issue=True,
                         applicant=MOTHER)) == [
        ("ground", "turned-16 is for a holder of 16 or more; the holder is 15")]


def test_born_today() -> None:
    # line 10: "yangi tug‘ilgan bolaga" (a newborn)
    newborn = person(birth_date=TODAY)
    f = form(Ground.PARENTS_WISH, person=newborn, applicant=MOTHER, first_issue=True)
    assert problems(f) == []


def test_application_facts() -> None:
    f = form(Ground.RESIDENT_PARENTS_WISH, person=replace(FOREIGNER, birth_date=date(2019, 6, 1)),
             applicant=MOTHER, first_issue=True, fee_paid_electronically=True)
    assert application_facts(f, today=TODAY) == ApplicationFacts(
        scheme=Scheme.RESIDENT, ground=Ground.RESIDENT_PARENTS_WISH, first_issue=True,
        holder_age=7, applicant_is_holder=False, fee_paid_electronically=True, fee_waived=False,
        foreign_citizen=True)
    holder = application_facts(form(Ground.LOST, fee_waived=True), today=TODAY)
    assert (holder.applicant_is_holder, holder.fee_waived, holder.foreign_citizen,
            holder.holder_age) == (True, True, False, 41)
    with pytest.raises(DomainError) as info:
        application_facts(form(Ground.LOST), today=date(1985, 3, 6))
    assert info.value.problems == (("person.birth_date", "1985-03-07 is after 1985-03-06"),)


def test_check_application_passes_a_resident_at_internal_affairs() -> None:
    check_application(form(Ground.PERMIT_EXPIRED, person=FOREIGNER), point_kind=IA, today=TODAY)


def test_applicant_shape() -> None:
    assert Applicant("parent", "x", "y").role is ApplicantRole.PARENT  # type: ignore[arg-type]
    with pytest.raises(DomainError) as info:
        Applicant("uncle", " ", "", "123")  # type: ignore[arg-type]
    assert info.value.problems == (
        ("applicant.role", "'uncle' is not one of: holder, parent, guardian"),
        ("applicant.name", "must not be empty"),
        ("applicant.document", "must not be empty"),
        ("applicant.pinfl", "a PINFL is exactly 14 digits"),
    )
    with pytest.raises(DomainError) as info:
        Applicant(ApplicantRole.HOLDER, "x", "y", 40703851230058)  # type: ignore[arg-type]
    assert info.value.problems == (("applicant.pinfl", "a PINFL is exactly 14 digits"),)


def test_applicant_json_problems() -> None:
    with pytest.raises(DomainError) as info:
        Applicant.from_json({"role": 1, "name": 2, "document": None, "pinfl": 3, "age": 4})
    assert info.value.problems == (
        ("applicant.age", "unknown field"),
        ("applicant.role", "must be one of: holder, parent, guardian"),
        ("applicant.name", "must be a string"),
        ("applicant.document", "must be a string"),
        ("applicant.pinfl", "must be a string or null"),
    )
    with pytest.raises(DomainError) as info:
        Applicant.from_json("holder")
    assert info.value.problems == (("applicant", "must be a JSON object"),)
    assert Applicant.from_json({"role": "holder", "name": "a", "document": "b"}).pinfl is None


def test_form_shape() -> None:
    with pytest.raises(DomainError) as info:
        replace(form(), scheme="tourist", documents=frozenset({"selfie"}))  # type: ignore[arg-type]
    assert info.value.problems == (
        ("scheme", "'tourist' is not one of: citizen, resident"),
        ("documents", "'selfie' is not one of: " + ", ".join(k.value for k in DocumentKind)),
    )


def test_form_json_defaults_and_messages() -> None:
    data = form(Ground.LOST).to_json()
    for key in ("fee_paid_electronically", "fee_waived", "payment_reference", "previous_card"):
        del data[key]
    f = ApplicationForm.from_json(data)
    assert (f.fee_paid_electronically, f.fee_waived, f.payment_reference, f.previous_card) == (
        False, False, None, None)
    bad = {**data, "colour": 1, "documents": "x", "first_issue": None, "fee_waived": "no",
           "payment_reference": 5, "ground": "z" * 50}
    with pytest.raises(DomainError) as info:
        ApplicationForm.from_json(bad)
    assert info.value.problems == (
        ("colour", "unknown field"),
        ("ground", f"{'z' * 40!r} is not one of: " + ", ".join(g.value for g in Ground)),
        ("documents", "must be a list of document codes"),
        ("first_issue", "must be true or false"),
        ("fee_waived", "must be true or false"),
        ("payment_reference", "must be a string or null"),
    )
    with pytest.raises(DomainError) as info:
        ApplicationForm.from_json(None)
    assert info.value.problems == (("form", "must be a JSON object"),)
