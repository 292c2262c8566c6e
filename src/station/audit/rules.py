"""The station's checks of a document read back: the validity period against the holder's age
on the day of issue (:func:`station.rules.expiry_date`, the Uzbek ID-card scheme: 2 years under
one, 5 under 16, else 10), and the card's status in the Center's registry
(``GET /v1/cards/{card}`` through :class:`station.client.CenterClient`; ``verify --center``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

from idcard.errors import DecodeError, PINFLError
from idcard.lds.dg11 import DG11
from idcard.lds.dg12 import DG12
from idcard.pinfl import PINFL, pinfl_of
from idcard.verify.document import ExtraCheck
from idcard.verify.holder import mrz_of
from idcard.verify.report import CheckResult, Status
from station.center.errors import CenterUnavailable, NotFound
from station.domain.cards import VALID, parse_card_number
from station.domain.errors import DomainError
from station.errors import StationError
from station.rules import age_on, expiry_date, validity_years

if TYPE_CHECKING:
    from station.client import CenterClient

__all__ = ["STATION_CHECKS", "center_check", "check_validity_period", "station_checks"]


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


def center_check(client: CenterClient | None, where: str = "") -> ExtraCheck:
    """``center_status``: the card (DG1's document number) in the Center's registry through
    ``client`` (``where``: its URL, for the reasons). Handed over (in use): PASS; any other
    status (lost, stolen, cancelled, replaced, …) or a card the registry does not have, or has
    for another PINFL: FAIL; a Center that cannot be reached: NOT CHECKED. Without a client:
    NOT CHECKED."""
    at = f" at {where}" if where else ""

    def check_center_status(files: Mapping[str, bytes]) -> CheckResult:
        name = "center_status"
        if client is None:
            return CheckResult(name, Status.NOT_CHECKED, "no Center given (--center URL)")
        mrz = mrz_of(files)
        if mrz is None or isinstance(mrz, str):
            return CheckResult(name, Status.NOT_CHECKED, mrz or "no DG1 in the dump")
        card = mrz.document_number
        try:
            parse_card_number(card)
        except DomainError:
            return CheckResult(name, Status.FAIL, f"document number {card} is no card number of "
                               "the Center's registry (2 letters and 7 digits)")  # fmt: skip
        try:
            info = client.card_info(card)
        except CenterUnavailable as exc:
            return CheckResult(name, Status.NOT_CHECKED, f"the Center{at} could not be asked: "
                               f"{' '.join(str(exc).split())}")  # fmt: skip
        except NotFound:
            return CheckResult(name, Status.FAIL, f"card {card} is not in the Center's "
                               f"registry{at} (unknown card)")  # fmt: skip
        except StationError as exc:  # an answer that is not the Center's
            return CheckResult(name, Status.NOT_CHECKED, f"the Center{at} did not answer about "
                               f"card {card}: {' '.join(str(exc).split())}")  # fmt: skip
        pinfl = pinfl_of(mrz) if mrz.issuing_state == "UZB" else None
        if pinfl and info.pinfl != pinfl:
            return CheckResult(name, Status.FAIL, f"the Center's registry{at} holds card {card} "
                               "for another PINFL than the document's")  # fmt: skip
        status = info.status.value
        if info.status not in VALID:
            return CheckResult(name, Status.FAIL, f"card {card} is {status} in the Center's "
                               f"registry{at}")  # fmt: skip
        return CheckResult(name, Status.PASS, f"card {card} is {status} (in use) in the "
                           f"Center's registry{at}")  # fmt: skip

    return check_center_status


STATION_CHECKS: Sequence[ExtraCheck] = (check_validity_period, center_check(None))
"""The station's checks that ``idkarta verify`` adds to :func:`idcard.verify.verify_document`
(the Center's registry not asked)."""


def station_checks(client: CenterClient | None, where: str = "") -> tuple[ExtraCheck, ...]:
    """:data:`STATION_CHECKS`, the registry asked through ``client`` when there is one."""
    return (check_validity_period, center_check(client, where))
