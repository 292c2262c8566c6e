"""The Uzbek document profiles of the MRZ: the ID card (TD1) and the older passport (TD3).

ID card (TD1, Doc 9303 Part 5 layout): document code ``IU`` (``I<`` accepted), issuing State and
nationality ``UZB``, document number two letters and seven digits (``AD1234567``), the holder's
PINFL in line 1 positions 16-29 (optional data), ``UZB`` as line 2 optional data. Passport (TD3):
code ``P``, ``UZB``, the same number pattern, the PINFL in the personal number field.
"""

from __future__ import annotations

import re
from datetime import date

from idcard.mrz.model import MRZ
from idcard.pinfl import check_against_mrz

__all__ = ["build_uzbek_id_card", "uzbek_profile_problems"]

_NUMBER = re.compile(r"[A-Z]{2}[0-9]{7}")


def uzbek_profile_problems(mrz: MRZ) -> list[str]:
    """Every reason ``mrz`` does not follow the Uzbek ID card (TD1) or passport (TD3) profile."""
    if mrz.format == "TD2":
        return ["Uzbekistan issues no TD2 documents (ID card is TD1, passport TD3)"]
    problems: list[str] = []
    if mrz.format == "TD1":
        if mrz.document_code not in ("IU", "I"):
            problems.append(f"document code {mrz.document_code!r} is not IU (or I<)")
        if mrz.optional_data_2 != "UZB":
            problems.append(f"line 2 optional data {mrz.optional_data_2!r} is not 'UZB'")
    elif not mrz.document_code.startswith("P"):  # pragma: no cover - the model enforces it
        problems.append(f"document code {mrz.document_code!r} is not a passport code")
    for name in ("issuing_state", "nationality"):
        if getattr(mrz, name) != "UZB":
            problems.append(f"{name.replace('_', ' ')} {getattr(mrz, name)!r} is not UZB")
    if not _NUMBER.fullmatch(mrz.document_number):
        problems.append(f"document number {mrz.document_number!r} is not 2 letters and 7 digits")
    problems.extend(check_against_mrz(mrz))
    return problems


def build_uzbek_id_card(
    *,
    document_number: str,
    pinfl: str,
    birth_date: str | date,
    sex: str,
    expiry_date: str | date,
    surname: str,
    given_names: str,
    document_code: str = "IU",
    nationality: str = "UZB",
) -> MRZ:
    """The TD1 MRZ of an Uzbek ID card; names in Uzbek Latin or Cyrillic are transliterated
    with ``language="uz"`` (:mod:`idcard.mrz.translit`). ``nationality``: a permanent
    resident's own (a foreign State's code, ``XXA`` stateless); the citizen profile wants UZB."""
    return MRZ.build(
        format="TD1",
        document_code=document_code,
        issuing_state="UZB",
        document_number=document_number,
        birth_date=birth_date,
        sex=sex,
        expiry_date=expiry_date,
        nationality=nationality,
        surname=surname,
        given_names=given_names,
        optional_data=pinfl,
        optional_data_2="UZB",
        transliteration="uz",
    )
