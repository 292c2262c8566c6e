"""Documents presented per ground (scheme, lines 26-32, 184, 263-275): every ground, first
issue or not, fee paid electronically or not, and the missing document named."""

from __future__ import annotations

import itertools

import pytest

from station.domain.documents import (
    ApplicationFacts,
    DocumentKind,
    document_kind,
    missing_documents,
    required_documents,
)
from station.domain.errors import DomainError
from station.domain.grounds import Ground, Scheme

D = DocumentKind
FORM, PREV, BIRTH, DECISION = D.APPLICATION_FORM, D.PREVIOUS_DOCUMENT, D.BIRTH_CERTIFICATE, (
    D.AUTHORITY_DECISION)
PASSPORT, CIT_END, FEE, CHANGE, GUARDIAN = (
    D.NATIONAL_PASSPORT, D.CITIZENSHIP_END_DOCUMENT, D.FEE_RECEIPT, D.CHANGE_PROOF,
    D.GUARDIAN_PROOF)

# ground -> (scheme, holder age, documents when not first issue, documents on the first ID card),
# besides the fee receipt. Written out from the scheme, not computed:
# line 28 "ariza-anketa" always; line 29 "ilgari berilgan pasport yoki ID-karta"; line 30
# "tug‘ilganlik haqidagi guvohnoma (ID-karta birinchi marotaba ...)"; line 31 "vakolatli organning
# qarori (... ashyoviy dalil ...)"; line 184 "ushbu holatlarni tasdiqlovchi hujjatlar bilan";
# residents: line 267 "chet davlat fuqarosining milliy pasporti (... birinchi marotaba ...)",
# line 269 "ilgari berilgan yashash guvohnomasi yoki ID-karta", line 273 "fuqaroligi
# tugaganligini tasdiqlaydigan hujjat"; under 16 the parent applies (lines 10-11) and proves it.
TABLE: dict[Ground, tuple[Scheme, int, set[DocumentKind], set[DocumentKind]]] = {
    Ground.PARENTS_WISH: (Scheme.CITIZEN, 6, {FORM, PREV, GUARDIAN}, {FORM, BIRTH, GUARDIAN}),
    Ground.TURNED_16: (Scheme.CITIZEN, 16, {FORM, PREV}, {FORM, BIRTH}),
    Ground.CITIZENSHIP_ACQUIRED: (Scheme.CITIZEN, 30, {FORM, PREV}, {FORM, BIRTH}),
    Ground.EXPIRED: (Scheme.CITIZEN, 30, {FORM, PREV}, {FORM, PREV, BIRTH}),
    Ground.DATA_CHANGED: (Scheme.CITIZEN, 30, {FORM, PREV, CHANGE}, {FORM, PREV, BIRTH, CHANGE}),
    Ground.DATA_ERROR: (Scheme.CITIZEN, 30, {FORM, PREV, CHANGE}, {FORM, PREV, BIRTH, CHANGE}),
    Ground.UNUSABLE: (Scheme.CITIZEN, 30, {FORM, PREV}, {FORM, PREV, BIRTH}),
    Ground.SEIZED: (Scheme.CITIZEN, 30, {FORM, DECISION}, {FORM, BIRTH, DECISION}),
    Ground.LOST: (Scheme.CITIZEN, 30, {FORM}, {FORM, BIRTH}),
    Ground.RESIDENT_PARENTS_WISH: (
        Scheme.RESIDENT, 3, {FORM, PREV, GUARDIAN}, {FORM, PASSPORT, BIRTH, GUARDIAN}),
    Ground.RESIDENT_TURNED_16: (Scheme.RESIDENT, 16, {FORM, PREV}, {FORM, PASSPORT, BIRTH}),
    Ground.CITIZENSHIP_ENDED: (
        Scheme.RESIDENT, 40, {FORM, PREV, CIT_END}, {FORM, PASSPORT, BIRTH, CIT_END}),
    Ground.PERMIT_EXPIRED: (Scheme.RESIDENT, 40, {FORM, PREV}, {FORM, PASSPORT, PREV, BIRTH}),
}

CASES = [
    (g, first, electronic)
    for g, first, electronic in itertools.product(Ground, (False, True), (False, True))
]


def facts(ground: Ground, first: bool, electronic: bool, **kw: object) -> ApplicationFacts:
    scheme, age, _, _ = TABLE[ground]
    values: dict[str, object] = {
        "scheme": scheme, "ground": ground, "first_issue": first, "holder_age": age,
        "applicant_is_holder": age >= 16, "fee_paid_electronically": electronic,
        "fee_waived": False, "foreign_citizen": True,
    }
    values.update(kw)
    return ApplicationFacts(**values)  # type: ignore[arg-type]


def expected(ground: Ground, first: bool, electronic: bool) -> set[DocumentKind]:
    _, _, later, first_card = TABLE[ground]
    docs = set(first_card if first else later)
    # line 32: "davlat boji to‘langanligi haqida kvitantsiya (elektron to‘lov tizimlari orqali
    # to‘langanda kvitantsiya majburiy emas)"
    return docs if electronic else docs | {FEE}


def test_table_covers_all_thirteen_grounds() -> None:
    assert set(TABLE) == set(Ground) and len(CASES) == 52


@pytest.mark.parametrize(("ground", "first", "electronic"), CASES)
def test_required_documents(ground: Ground, first: bool, electronic: bool) -> None:
    assert required_documents(facts(ground, first, electronic)) == expected(
        ground, first, electronic)


@pytest.mark.parametrize(("ground", "first", "electronic"), CASES)
def test_each_missing_document_is_named(ground: Ground, first: bool, electronic: bool) -> None:
    f = facts(ground, first, electronic)
    needed = expected(ground, first, electronic)
    assert missing_documents(f, needed) == []
    assert missing_documents(f, set(DocumentKind)) == []  # more than needed is fine
    for kind in needed:
        assert missing_documents(f, needed - {kind}) == [kind]
    assert missing_documents(f, []) == [k for k in DocumentKind if k in needed]


def test_missing_in_enum_order_and_codes_accepted() -> None:
    f = facts(Ground.SEIZED, True, False)
    assert missing_documents(f, ["application-form"]) == [BIRTH, DECISION, FEE]


def test_unknown_document_code_names_the_field() -> None:
    with pytest.raises(DomainError) as info:
        missing_documents(facts(Ground.LOST, False, False), ["passport-photo"])
    assert info.value.field == "documents"
    assert info.value.reason == "unknown document 'passport-photo' (one of " + ", ".join(
        k.value for k in DocumentKind) + ")"
    assert document_kind("fee-receipt") is FEE


def test_fee_waived_needs_no_receipt() -> None:
    # scheme, line 217: "... ma’lumotlarni yig‘ish punkti tomonidan yo‘l qo‘yilgan bo‘lsa, ID-karta
    # bepul almashtiriladi"
    f = facts(Ground.DATA_ERROR, False, False, fee_waived=True)
    assert FEE not in required_documents(f)
    assert FEE in required_documents(facts(Ground.DATA_ERROR, False, False))


def test_stateless_resident_has_no_national_passport() -> None:
    # scheme, line 267: the national passport "chet davlat fuqarosi uchun" (a foreign citizen)
    f = facts(Ground.RESIDENT_TURNED_16, True, False, foreign_citizen=False)
    assert required_documents(f) == {FORM, BIRTH, FEE}


@pytest.mark.parametrize("ground", list(Ground))
def test_guardian_proof_when_someone_else_applies(ground: Ground) -> None:
    # scheme, lines 10-11: "ota-onalar, vasiylarning (homiylarning) ixtiyoriga ko‘ra"; line 219:
    # the card goes to "murojaat qilgan ota-onalari yoki vasiylariga (homiylariga)"
    by_parent = required_documents(facts(ground, False, True, holder_age=10,
                                         applicant_is_holder=False))
    by_holder = required_documents(facts(ground, False, True, holder_age=10,
                                         applicant_is_holder=True))
    assert by_parent - by_holder == {GUARDIAN}
