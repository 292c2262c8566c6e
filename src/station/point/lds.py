"""The chip's files of one card at the collection point (issue 11, pipeline step 1).

:func:`build_lds` turns the point's application (the person as entered, the PINFL and card
number the Center returned), the Center's registry record of the card (dates of issue and
expiry), the accepted captures, the chip's keys and the point as issuing authority into every
file of the chip but EF.SOD (ICAO Doc 9303-10): DG1 (TD1 MRZ with the PINFL), DG2 (the token
portrait, its quality in the ISO/IEC 19794-5 header), DG3 (the fingers chosen for it, each with
its quality in the ISO/IEC 19794-4 header), DG7 (signature, optional), DG11, DG12 (the point, the
date of issue, the real personalization time), DG14, DG15, EF.CardAccess and EF.COM (shared with
:func:`station.card_data.assemble_lds`).

EF.SOD is signed at the Center from the hashes alone (:func:`sod_hashes`, then
``CenterClient.sign_sod``); :func:`with_sod` adds it after checking it covers these very files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

from idcard.errors import DecodeError, EncodeError, IdkartaError
from idcard.lds import LDSFile
from idcard.lds.dg1 import DG1
from idcard.lds.dg2 import DG2
from idcard.lds.dg3 import DG3
from idcard.lds.dg11 import DG11, DateValue
from idcard.lds.dg12 import DG12
from idcard.lds.displayed import DG7
from idcard.lds.dump import Dump
from idcard.lds.sod import SODParts
from idcard.mrz import MRZ, build_uzbek_id_card
from station.capture import FACE_RULES, FaceCapture, FingerCapture, FingerException
from station.capture.finger import choose_for_dg3
from station.card_data import CARD_PROFILE, CardKeys, CardProfile, assemble_lds
from station.center.models import CardInfo
from station.domain.person import Person
from station.errors import StationError
from station.point.config import PointConfig
from station.point.models import Application

__all__ = ["LDSError", "build_lds", "face_quality", "sod_hashes", "with_sod"]

TOKEN_FRONTAL = 2
"""ISO/IEC 19794-5:2005 face image type 2, token frontal: the capture gate crops to it."""


class LDSError(StationError):
    """The inputs of a card's LDS do not agree (``field`` names the one at fault)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def face_quality(face: FaceCapture) -> int:
    """The portrait's quality 1–100 for the 19794-5 header: a local score, the sharpness the
    gate measured over four times its acceptance threshold (sharpness is one of the components
    ISO/IEC 29794-5 names; no OFIQ binding is available offline). 0 would mean "unspecified"."""
    ratio = face.sharpness / (4 * FACE_RULES.min_sharpness)
    return max(1, min(100, round(100 * ratio)))


def _mrz(person: Person, card: CardInfo) -> MRZ:
    # a resident (second scheme) holds an Uzbek card with their own nationality
    return build_uzbek_id_card(
        document_number=card.card, pinfl=card.pinfl, birth_date=person.birth_date,
        sex=person.sex, expiry_date=card.expiry_date, surname=person.surname.latin,
        given_names=person.given_name.latin, nationality=person.citizenship,
    )  # fmt: skip


def _dg3(fingers: Iterable[FingerCapture | FingerException]) -> DG3 | None:
    chosen = choose_for_dg3(fingers)
    if not chosen:
        return None
    instances = []
    for finger in chosen:  # one CBEFF instance per finger, its score in the finger's header
        (bio,) = DG3.from_images({finger.position: finger.image}).fingers
        # impression type left at its default 0, live-scan plain (19794-4 Table 5)
        views = tuple(replace(v, quality=finger.score) for v in bio.record.fingers)
        instances.append(replace(bio, record=replace(bio.record, fingers=views)))
    return DG3(tuple(instances))


def _check(application: Application, card: CardInfo, point: PointConfig) -> None:
    if application.card is None or application.pinfl is None:
        raise LDSError("application", f"{application.id} has no card number and PINFL from the "
                       "Center yet (submit it first)")  # fmt: skip
    if card.card != application.card:
        raise LDSError("card", f"the registry's card {card.card} is not the application's "
                       f"{application.card}")  # fmt: skip
    if card.pinfl != application.pinfl:
        raise LDSError("card", f"card {card.card} is registered under another PINFL")
    if application.point_code != point.code or card.point != point.code:
        raise LDSError("point", f"card {card.card} is not a card of point {point.code}")
    problems = application.form.person.pinfl_problems(card.pinfl)
    if problems:
        raise LDSError("pinfl", problems[0][1])


def build_lds(
    application: Application,
    card: CardInfo,
    *,
    point: PointConfig,
    face: FaceCapture,
    fingers: Iterable[FingerCapture | FingerException] = (),
    keys: CardKeys,
    personalized_at: datetime,
    signature: bytes | None = None,
    profile: CardProfile = CARD_PROFILE,
) -> Dump:
    """Every file of the card's chip but EF.SOD (see the module's text); ``card`` is the
    Center's record of ``application.card`` (``CenterClient.card_info``), ``fingers`` the
    accepted captures and exceptions (DG3 holds :func:`station.capture.choose_for_dg3` of them;
    none accepted: no DG3), ``personalized_at`` the aware time of personalization.

    Refused with :class:`LDSError`: an application without the Center's answer, a card record
    of another card, PINFL or point, a PINFL that contradicts the person, or a value the MRZ
    or a data group cannot hold."""
    if personalized_at.tzinfo is None:
        raise LDSError("personalized_at", "must be an aware datetime")
    _check(application, card, point)
    person = application.form.person
    when = personalized_at.astimezone(UTC)
    names = f"{person.given_name.latin} {person.patronymic.latin}".strip()
    cyrillic = " ".join(p for p in (person.given_name.cyrillic, person.patronymic.cyrillic) if p)
    other = f"{person.surname.cyrillic}<<{cyrillic}".strip("<") if person.surname.cyrillic else ""
    try:
        groups: list[LDSFile] = [
            DG1(_mrz(person, card)),
            DG2.from_image(face.image, face_image_type=TOKEN_FRONTAL,
                           quality=face_quality(face)),  # size read from the JPEG
        ]  # fmt: skip
        dg3 = _dg3(fingers)
        if dg3 is not None:
            groups.append(dg3)
        if signature is not None:
            groups.append(DG7.from_image(signature))
        groups.append(DG11(
            full_name=f"{person.surname.latin}<<{names}".upper(),
            other_names=(other.upper(),) if other else (),
            personal_number=card.pinfl,
            full_date_of_birth=DateValue.from_date(person.birth_date),
            place_of_birth=person.place_of_birth.upper(),
            address=person.address.upper(),
        ))  # fmt: skip
        groups.append(DG12(
            issuing_authority=point.name,
            date_of_issue=DateValue.from_date(card.issue_date),
            personalization_time=DateValue(when.strftime("%Y%m%d%H%M%S")),
            personalization_device_serial=point.code,
        ))  # fmt: skip
        return assemble_lds(groups, keys, profile)
    except (EncodeError, DecodeError) as exc:
        raise LDSError("lds", str(exc)) from None


def sod_hashes(lds: Dump, algorithm: str = "sha256") -> dict[int, bytes]:
    """Data group number → hash of its exact file bytes: what the Center signs."""
    try:
        return {int(name[2:]): hashlib.new(algorithm, raw).digest()
                for name, raw in sorted(lds.files.items()) if name.startswith("DG")}  # fmt: skip
    except ValueError:
        raise LDSError("algorithm", f"unknown hash algorithm {algorithm!r}") from None


def with_sod(lds: Dump, sod: bytes) -> Dump:
    """The card's complete files: ``lds`` and EF.SOD, if the SOD's data group hashes are
    exactly those of ``lds`` (same groups, same bytes), else :class:`LDSError`."""
    try:
        parts = SODParts.decode(sod)
    except IdkartaError as exc:
        raise LDSError("sod", f"not an EF.SOD: {exc}") from None
    expected = sod_hashes(lds, parts.hash_algorithm)
    if parts.data_group_hashes != expected:
        differ = sorted(
            n for n in set(expected) | set(parts.data_group_hashes)
            if expected.get(n) != parts.data_group_hashes.get(n)
        )  # fmt: skip
        listed = ", ".join(f"DG{n}" for n in differ)
        raise LDSError("sod", f"the EF.SOD does not cover these files ({listed} differ)")
    return Dump({**lds.files, "EF.SOD": bytes(sod)})
