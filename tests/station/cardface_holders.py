"""Holders for the card face tests: the sample and generated applicants that stress the layout."""

from __future__ import annotations

import dataclasses
from datetime import date

from idcard.pinfl import PINFL
from station.applicant import Applicant, DocumentRequest, sample_applicant
from station.card_data import CardKeys, build_card_data
from station.cardface import CardFace

TODAY = date(2026, 12, 1)


def _holder(**changes: object) -> Applicant:
    sample = sample_applicant()
    document = changes.pop("document", {})
    assert isinstance(document, dict)
    return dataclasses.replace(
        sample, document=dataclasses.replace(sample.document, **document), **changes
    )


def holders() -> dict[str, Applicant]:
    """Name → applicant: the sample, long names (truncated in the MRZ), Cyrillic-only names, a
    woman with the widest document number glyphs, and a child (5-year validity)."""
    woman_born = date(1987, 11, 2)
    child_born = date(2019, 6, 30)
    return {
        "sample": sample_applicant(),
        "long-names": _holder(
            surname="Abdurahmonov-Xoʻjamurodov", given_names="Muhammadamin Nurmuhammad",
            patronymic="Abdulazizxoʻja oʻgʻli", surname_cyrillic="Абдураҳмонов-Хўжамуродов",
            given_names_cyrillic="Муҳаммадамин Нурмуҳаммад",
        ),
        "cyrillic-only": _holder(
            surname="Эргашева", given_names="Шаҳноза", patronymic="Баҳодир қизи",
            surname_cyrillic="", given_names_cyrillic="", sex="F", birth_date=woman_born,
            pinfl=PINFL.build("F", woman_born, "262", "117"),
            document={"series": "WM", "number": "9999998"},
        ),
        "child": _holder(
            surname="Qodirova", given_names="Mohinur", patronymic="", sex="F",
            surname_cyrillic="Қодирова", given_names_cyrillic="Моҳинур",
            birth_date=child_born, pinfl=PINFL.build("F", child_born, "262", "045"),
            document={"series": "MW", "number": "8888888"},
        ),
    }  # fmt: skip


def face_of(applicant: Applicant) -> CardFace:
    """The card face of ``applicant`` from the card data the chip would receive."""
    dump = build_card_data(applicant, CardKeys.generate(), today=TODAY)
    return CardFace.from_card_data(applicant, dump)


__all__ = ["TODAY", "DocumentRequest", "face_of", "holders"]
