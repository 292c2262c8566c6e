"""Checks of the holder's data against itself: DG1 (the MRZ) against DG11 (names, date of birth,
personal number; 9303-10 §4.7.11), and the PINFL of an Uzbek document against the MRZ (date of
birth, sex, check digit; :mod:`idcard.pinfl`).

These are consistency checks: data groups signed by the same DS that disagree point at an
issuance error or at a forged chip whose SOD was re-signed; they prove nothing on their own.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from idcard.errors import DecodeError, EncodeError
from idcard.lds.dg1 import DG1
from idcard.lds.dg11 import DG11
from idcard.mrz import MRZ, transliterate
from idcard.pinfl import check_against_mrz, pinfl_of
from idcard.verify.report import CheckResult, Status

__all__ = ["check_dg11", "check_pinfl", "mrz_of"]


def mrz_of(files: Mapping[str, bytes]) -> MRZ | str | None:
    """The MRZ of DG1, the reason it is unusable, or None without DG1."""
    raw = files.get("DG1")
    return None if raw is None else _decode_mrz(raw)


@functools.lru_cache(maxsize=256)
def _decode_mrz(raw: bytes) -> MRZ | str:
    """A pure function of DG1's bytes: cached across the checks of a dump."""
    try:
        return DG1.decode(raw).mrz
    except (DecodeError, EncodeError, ValueError) as exc:
        return f"DG1 does not decode: {exc}"


def _words(text: str) -> str:
    """A name in the MRZ alphabet, components separated by one space."""
    plain = re.sub(r"[<\s]+", " ", text).strip()
    try:
        return transliterate(plain)
    except EncodeError:
        return plain.upper()


def _name_matches(mrz_part: str, dg11_part: str) -> bool:
    """The MRZ's name equals DG11's, or is its beginning (the MRZ truncates long names, and an
    Uzbek card's MRZ leaves out the patronymic that DG11 keeps)."""
    a, b = _words(mrz_part), _words(dg11_part)
    return a == b or (bool(a) and b.startswith(a))


def check_dg11(files: Mapping[str, bytes]) -> CheckResult:
    """DG1 against DG11: names, date of birth and personal number (PINFL) where both hold them."""
    name = "dg11_consistency"
    mrz = mrz_of(files)
    if mrz is None:
        return CheckResult(name, Status.NOT_CHECKED, "no DG1 in the dump")
    if isinstance(mrz, str):
        return CheckResult(name, Status.NOT_CHECKED, mrz)
    raw = files.get("DG11")
    if raw is None:
        return CheckResult(name, Status.NOT_CHECKED, "no DG11 in the dump")
    try:
        dg11 = DG11.decode(raw)
    except DecodeError as exc:
        return CheckResult(name, Status.FAIL, f"DG11 does not decode: {exc}")
    compared, problems = [], []
    if dg11.full_name:
        surname, _, given = dg11.full_name.partition("<<")
        compared.append("names")
        if not _name_matches(mrz.surname, surname):
            problems.append(f"surname {_words(surname)!r} in DG11, {mrz.surname!r} in the MRZ")
        if not _name_matches(mrz.given_names, given):
            problems.append(f"given names {_words(given)!r} in DG11, {mrz.given_names!r} in "
                            "the MRZ")  # fmt: skip
    born = dg11.full_date_of_birth.date if dg11.full_date_of_birth else None
    if born is not None:
        compared.append("date of birth")
        if born.strftime("%y%m%d") != mrz.birth_date:
            problems.append(f"date of birth {born.isoformat()} in DG11, {mrz.birth_date} in the "
                            "MRZ")  # fmt: skip
    pinfl = pinfl_of(mrz) if mrz.issuing_state == "UZB" else None
    if dg11.personal_number and pinfl:
        compared.append("personal number (PINFL)")
        if dg11.personal_number != pinfl:
            problems.append("the personal number in DG11 is not the MRZ's PINFL")
    if problems:
        return CheckResult(name, Status.FAIL, "; ".join(problems))
    if not compared:
        return CheckResult(name, Status.NOT_CHECKED, "DG11 holds no name, full date of birth or "
                           "personal number to compare")  # fmt: skip
    return CheckResult(name, Status.PASS, f"DG1 and DG11 agree: {', '.join(compared)}")


def check_pinfl(files: Mapping[str, bytes]) -> CheckResult:
    """The PINFL of an Uzbek document against its MRZ: the date of birth and sex it encodes and
    its check digit (:func:`idcard.pinfl.check_against_mrz`)."""
    name = "pinfl"
    mrz = mrz_of(files)
    if mrz is None:
        return CheckResult(name, Status.NOT_CHECKED, "no DG1 in the dump")
    if isinstance(mrz, str):
        return CheckResult(name, Status.NOT_CHECKED, mrz)
    if mrz.issuing_state != "UZB":
        return CheckResult(name, Status.NOT_CHECKED, f"issuing state {mrz.issuing_state}: the "
                           "PINFL is Uzbekistan's")  # fmt: skip
    if pinfl_of(mrz) is None:
        where = "personal number" if mrz.format == "TD3" else "optional data"
        return CheckResult(name, Status.NOT_CHECKED, f"no PINFL in the MRZ's {where}")
    problems = check_against_mrz(mrz)
    if problems:
        return CheckResult(name, Status.FAIL, "; ".join(problems))
    return CheckResult(name, Status.PASS, "the PINFL's check digit holds and it encodes the "
                       "MRZ's date of birth and sex")  # fmt: skip
