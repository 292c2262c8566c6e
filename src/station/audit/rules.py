"""The station's issuance rules, checked on a document read back: the validity period against
the holder's age on the day of issue (:func:`station.rules.expiry_date`, the Uzbek ID-card
scheme: 2 years under one, 5 under 16, else 10)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from idcard.errors import DecodeError, PINFLError
from idcard.lds.dg11 import DG11
from idcard.lds.dg12 import DG12
from idcard.pinfl import PINFL, pinfl_of
from idcard.verify.document import ExtraCheck
from idcard.verify.holder import mrz_of
from idcard.verify.report import CheckResult, Status
from station.errors import StationError
from station.rules import age_on, expiry_date, validity_years

__all__ = ["STATION_CHECKS", "check_validity_period"]


def _birth_date(files: Mapping[str, bytes], pinfl_text: str | None) -> date | None:
    """The full date of birth: DG11's, else the PINFL's (the MRZ has no century)."""
    raw = files.get("DG11")
    if raw is not None:
        try:
            value = DG11.decode(raw).full_date_of_birth
        except DecodeError:
            value = None
        if value is not None and value.date is not None:
            return value.date
    if pinfl_text:
        try:
            return PINFL.parse(pinfl_text).birth_date
        except PINFLError:
            return None
    return None


def check_validity_period(files: Mapping[str, bytes]) -> CheckResult:
    """The MRZ's date of expiry is the one the age rule gives for the DG12 date of issue."""
    name = "validity_period"
    mrz = mrz_of(files)
    if mrz is None or isinstance(mrz, str):
        return CheckResult(name, Status.NOT_CHECKED, mrz or "no DG1 in the dump")
    if mrz.issuing_state != "UZB":
        return CheckResult(name, Status.NOT_CHECKED, f"issuing state {mrz.issuing_state}: the "
                           "age rule is the Uzbek ID card's")  # fmt: skip
    raw12 = files.get("DG12")
    if raw12 is None:
        return CheckResult(name, Status.NOT_CHECKED, "no DG12 in the dump (no date of issue)")
    try:
        issue_value = DG12.decode(raw12).date_of_issue
    except DecodeError as exc:
        return CheckResult(name, Status.FAIL, f"DG12 does not decode: {exc}")
    issued = issue_value.date if issue_value is not None else None
    if issued is None:
        return CheckResult(name, Status.NOT_CHECKED, "DG12 holds no full date of issue")
    born = _birth_date(files, pinfl_of(mrz))
    if born is None:
        return CheckResult(name, Status.NOT_CHECKED, "no full date of birth (DG11 or PINFL)")
    try:
        age = age_on(born, issued)
    except StationError:
        return CheckResult(name, Status.FAIL, f"date of issue {issued.isoformat()} is before "
                           f"the date of birth {born.isoformat()}")  # fmt: skip
    expected = expiry_date(born, issued)
    years = validity_years(born, issued)
    rule = f"age {age} on the day of issue {issued.isoformat()}: {years} years"
    if mrz.expiry_date != expected.strftime("%y%m%d"):
        return CheckResult(name, Status.FAIL, f"MRZ date of expiry {mrz.expiry_date}, but the "
                           f"age rule gives {expected.isoformat()} ({rule})")  # fmt: skip
    return CheckResult(name, Status.PASS, f"expiry {expected.isoformat()} as the age rule "
                       f"gives ({rule})")  # fmt: skip


STATION_CHECKS: Sequence[ExtraCheck] = (check_validity_period,)
"""The station's checks that ``idkarta verify`` adds to :func:`idcard.verify.verify_document`."""
