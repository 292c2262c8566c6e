"""What the card body shows, taken from the chip's own files (ICAO Doc 9303-5, TD1).

:meth:`CardFace.from_card_data` reads the MRZ from the DG1 that goes into the chip, the
portrait from DG2, the signature from DG7 and the date of issue and authority from DG12 (the
:class:`~idcard.lds.dump.Dump` of :func:`station.card_data.build_card_data`), and the names in
Latin and Cyrillic from the application. Every printed value that the MRZ also holds is compared
with the MRZ before anything is drawn, so that the printed zones, the printed MRZ and the chip
cannot disagree; a difference is a :class:`CardFaceError` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from idcard.errors import DecodeError
from idcard.lds.dg1 import DG1
from idcard.lds.dg2 import DG2
from idcard.lds.dg12 import DG12
from idcard.lds.displayed import DG7
from idcard.lds.dump import Dump
from idcard.mrz import MRZ
from station.applicant import Applicant
from station.errors import StationError
from station.rules import expiry_date

__all__ = ["CardFace", "CardFaceError"]


class CardFaceError(StationError):
    """The card face cannot be printed as asked; ``field`` names the zone or field at fault."""

    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"card face: {field}: {reason}")


@dataclass(frozen=True, slots=True)
class CardFace:
    """The visual inspection zone and the MRZ of one card, ready to lay out.

    Names are as the application gives them (Uzbek Latin; Cyrillic where the record has it);
    dates are full dates; ``mrz`` is the object decoded from the chip's DG1.
    """

    mrz: MRZ
    surname: str
    given_names: str
    patronymic: str
    surname_cyrillic: str
    given_names_cyrillic: str
    sex: str
    nationality: str
    birth_date: date
    issue_date: date
    expiry_date: date
    document_number: str
    pinfl: str
    place_of_birth: str
    issuing_authority: str
    can: str = field(repr=False)
    portrait: bytes = field(repr=False)
    signature: bytes | None = field(repr=False)

    @classmethod
    def from_card_data(cls, applicant: Applicant, card_data: Dump) -> CardFace:
        """The card face of ``applicant`` whose chip holds ``card_data`` (EF.SOD not needed)."""
        try:
            dg1 = card_data.decode("DG1")
            dg2 = card_data.decode("DG2")
            dg12 = card_data.decode("DG12") if "DG12" in card_data.files else None
            dg7 = card_data.decode("DG7") if "DG7" in card_data.files else None
        except DecodeError as exc:
            raise CardFaceError("card data", str(exc)) from None
        assert isinstance(dg1, DG1) and isinstance(dg2, DG2)  # the Dump's typed map
        if not dg2.images:
            raise CardFaceError("portrait", "DG2 holds no portrait image")
        issue = applicant.document.issue_date
        authority = applicant.document.issuing_authority
        if isinstance(dg12, DG12):
            if dg12.date_of_issue is not None:
                issue = date.fromisoformat(_iso(dg12.date_of_issue.text))
            authority = dg12.issuing_authority or authority
        signature = dg7.images[0] if isinstance(dg7, DG7) and dg7.images else None
        face = cls(
            mrz=dg1.mrz,
            surname=applicant.surname,
            given_names=applicant.given_names,
            patronymic=applicant.patronymic,
            surname_cyrillic=applicant.surname_cyrillic,
            given_names_cyrillic=applicant.given_names_cyrillic,
            sex=applicant.sex,
            nationality=applicant.nationality,
            birth_date=applicant.birth_date,
            issue_date=issue,
            expiry_date=expiry_date(applicant.birth_date, issue),
            document_number=applicant.document.document_number,
            pinfl=applicant.pinfl.value,
            place_of_birth=applicant.place_of_birth,
            issuing_authority=authority,
            can=applicant.can,
            portrait=dg2.images[0],
            signature=signature,
        )
        face.check_against_mrz()
        return face

    def check_against_mrz(self) -> None:
        """Refuse a printed value that differs from the same value in the MRZ (the chip's DG1)."""
        mrz = self.mrz
        pairs = (
            ("document_number", self.document_number, mrz.document_number),
            ("birth_date", self.birth_date.strftime("%y%m%d"), mrz.birth_date),
            ("expiry_date", self.expiry_date.strftime("%y%m%d"), mrz.expiry_date),
            ("sex", self.sex, mrz.sex),
            ("nationality", self.nationality, mrz.nationality),
            ("pinfl", self.pinfl, mrz.optional_data),
        )
        for name, printed, in_mrz in pairs:
            if printed != in_mrz:
                raise CardFaceError(name, f"printed {printed!r} but the MRZ (DG1) holds {in_mrz!r}")

    @property
    def mrz_lines(self) -> tuple[str, ...]:
        """The MRZ as printed on the back: exactly DG1's lines."""
        return self.mrz.lines()


def _iso(value: str) -> str:
    """``YYYYMMDD`` (DG11/DG12 date) as ``YYYY-MM-DD``."""
    if len(value) != 8 or not value.isdigit():  # a partial or malformed date
        raise CardFaceError("issue_date", f"DG12 date of issue {value!r} is not YYYYMMDD")
    return f"{value[:4]}-{value[4:6]}-{value[6:]}"
