"""Documents an applicant presents to the collection point, per scheme, ground and case.

Citizens: scheme, lines 26-32 (and stage 1, lines 70-80); residents: lines 263-275; stage 5
(lines 178-184, 369-375) adds the documents proving a change or an inaccuracy.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from station.domain.errors import DomainError
from station.domain.grounds import Ground, Scheme, rule

__all__ = [
    "ApplicationFacts",
    "DocumentKind",
    "document_kind",
    "missing_documents",
    "required_documents",
]


class DocumentKind(enum.StrEnum):
    APPLICATION_FORM = "application-form"
    PREVIOUS_DOCUMENT = "previous-document"  # passport / ID card; residents: permit or ID card
    BIRTH_CERTIFICATE = "birth-certificate"
    AUTHORITY_DECISION = "authority-decision"  # the card was seized as material evidence
    NATIONAL_PASSPORT = "national-passport"  # a foreign citizen's passport of their state
    CITIZENSHIP_END_DOCUMENT = "citizenship-end-document"
    FEE_RECEIPT = "fee-receipt"
    CHANGE_PROOF = "change-proof"  # proves the change or the inaccuracy (stage 5)
    GUARDIAN_PROOF = "guardian-proof"  # the applicant is the holder's parent or guardian


@dataclass(frozen=True, slots=True)
class ApplicationFacts:
    """What decides the documents: ``first_issue`` is the person's first ID card (not their
    first identity document: an adult whose passport expired gets a first ID card);
    ``foreign_citizen``: a resident with a foreign citizenship (False: stateless)."""

    scheme: Scheme
    ground: Ground
    first_issue: bool
    holder_age: int
    applicant_is_holder: bool
    fee_paid_electronically: bool
    fee_waived: bool
    foreign_citizen: bool


# Grounds that are about a document the holder has and shows: it expired, its data changed or
# are wrong, it became unusable. Lost and seized cards are not there to show.
_SHOWS_PREVIOUS = frozenset({
    Ground.EXPIRED, Ground.DATA_CHANGED, Ground.DATA_ERROR, Ground.UNUSABLE, Ground.PERMIT_EXPIRED,
})
_NOT_THERE = frozenset({Ground.LOST, Ground.SEIZED})


def required_documents(facts: ApplicationFacts) -> frozenset[DocumentKind]:
    """Every document the scheme asks of this application."""
    rule(facts.ground)  # an unknown ground: DomainError naming the field "ground"
    # scheme, lines 28, 265: "belgilangan shakldagi ariza-anketa"
    needed = {DocumentKind.APPLICATION_FORM}
    # scheme, line 29: "ilgari berilgan pasport yoki ID-karta"; line 269: "ilgari berilgan yashash
    # guvohnomasi yoki ID-karta". Shown whenever the ground is about it (expired, changed, wrong,
    # unusable), else unless this is the first ID card; never when it is lost or seized.
    if facts.ground not in _NOT_THERE and (
        facts.ground in _SHOWS_PREVIOUS or not facts.first_issue
    ):
        needed.add(DocumentKind.PREVIOUS_DOCUMENT)
    # scheme, lines 30, 271: "tug‘ilganlik haqidagi guvohnoma (ID-karta birinchi marotaba
    # rasmiylashtirilayotganda)"
    if facts.first_issue:
        needed.add(DocumentKind.BIRTH_CERTIFICATE)
    # scheme, line 31: "vakolatli organning qarori (ID-karta ashyoviy dalil sifatida olib
    # qo‘yilganida)"
    if facts.ground is Ground.SEIZED:
        needed.add(DocumentKind.AUTHORITY_DECISION)
    # scheme, line 267: "chet davlat fuqarosining milliy pasporti (... chet davlat fuqarosi uchun
    # ID-karta birinchi marotaba rasmiylashtirilayotganda)"
    if facts.scheme is Scheme.RESIDENT and facts.foreign_citizen and facts.first_issue:
        needed.add(DocumentKind.NATIONAL_PASSPORT)
    # scheme, line 273: "vakolatli organlar tomonidan berilgan arizachining fuqaroligi
    # tugaganligini tasdiqlaydigan hujjat": on the ground of a citizenship that ended (line 257).
    if facts.ground is Ground.CITIZENSHIP_ENDED:
        needed.add(DocumentKind.CITIZENSHIP_END_DOCUMENT)
    # scheme, lines 32, 275: "davlat boji to‘langanligi haqida kvitantsiya (elektron to‘lov
    # tizimlari orqali to‘langanda kvitantsiya majburiy emas)"; line 217: "ID-karta bepul
    # almashtiriladi" (a defect the point caused: free replacement, no fee).
    if not (facts.fee_paid_electronically or facts.fee_waived):
        needed.add(DocumentKind.FEE_RECEIPT)
    # scheme, lines 184, 375: "... o‘zgarganda yoki ... noaniqliklar mavjudligi aniqlanganda,
    # ushbu holatlarni tasdiqlovchi hujjatlar bilan"
    if facts.ground in (Ground.DATA_CHANGED, Ground.DATA_ERROR):
        needed.add(DocumentKind.CHANGE_PROOF)
    # scheme, lines 10-11: under 16 "ota-onalar, vasiylarning (homiylarning) ixtiyoriga ko‘ra";
    # line 219: the card goes to "murojaat qilgan ota-onalari yoki vasiylariga (homiylariga)":
    # whoever applies for another person proves being the parent or guardian.
    if not facts.applicant_is_holder:
        needed.add(DocumentKind.GUARDIAN_PROOF)
    return frozenset(needed)


def missing_documents(
    facts: ApplicationFacts, presented: Iterable[DocumentKind | str]
) -> list[DocumentKind]:
    """The required documents not presented, in :class:`DocumentKind` order."""
    have = {document_kind(d) for d in presented}
    needed = required_documents(facts)
    return [kind for kind in DocumentKind if kind in needed and kind not in have]


def document_kind(value: DocumentKind | str) -> DocumentKind:
    """``value`` as a :class:`DocumentKind`; :class:`DomainError` naming ``documents`` if
    unknown."""
    try:
        return DocumentKind(value)
    except ValueError:
        known = ", ".join(k.value for k in DocumentKind)
        raise DomainError("documents", f"unknown document {value!r} (one of {known})") from None
