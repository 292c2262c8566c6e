"""The card registry's statuses and card numbers (decree of 19 January 2026, §6б: series,
number, place and dates of issue, kept by the Center).

A card is allocated by the Center (stage 3), personalized and verified at the point, handed over
(stage 4, line 158: "personallashtiradi va beradi"), and ends lost, stolen, seized (line 22:
"ashyoviy dalil sifatida olib qo‘yilganida"), replaced by a new card (stage 5, line 178: "tiklash
yoki almashtirish"), expired (line 18) or cancelled. An end is final.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from types import MappingProxyType

from station.domain.errors import DomainError, TransitionError
from station.domain.grounds import Ground, rule

__all__ = [
    "TRANSITIONS",
    "VALID",
    "MAX_NUMBER",
    "CardStatus",
    "check_transition",
    "format_card_number",
    "parse_card_number",
    "previous_card_status",
]


class CardStatus(enum.StrEnum):
    ALLOCATED = "allocated"
    PERSONALIZED = "personalized"
    VERIFIED = "verified"
    HANDED_OVER = "handed-over"
    LOST = "lost"
    STOLEN = "stolen"
    SEIZED = "seized"
    REPLACED = "replaced"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


_S = CardStatus
TRANSITIONS: Mapping[CardStatus, frozenset[CardStatus]] = MappingProxyType({
    _S.ALLOCATED: frozenset({_S.PERSONALIZED, _S.CANCELLED}),
    _S.PERSONALIZED: frozenset({_S.VERIFIED, _S.CANCELLED}),
    _S.VERIFIED: frozenset({_S.HANDED_OVER, _S.CANCELLED}),
    _S.HANDED_OVER: frozenset({_S.LOST, _S.STOLEN, _S.SEIZED, _S.REPLACED, _S.EXPIRED,
                               _S.CANCELLED}),
    **{s: frozenset() for s in (_S.LOST, _S.STOLEN, _S.SEIZED, _S.REPLACED, _S.EXPIRED,
                                _S.CANCELLED)},
})
"""The statuses each status may change to; a status with none is terminal."""

VALID = frozenset({CardStatus.HANDED_OVER})
"""The statuses of a card in use (its holder has it, it proves their identity)."""


def check_transition(old: CardStatus | str, new: CardStatus | str) -> None:
    """Refuse (:class:`TransitionError`, field ``status``) a change the registry does not allow."""
    try:
        before, after = CardStatus(old), CardStatus(new)
    except ValueError:
        known = ", ".join(s.value for s in CardStatus)
        bad = new if old in set(CardStatus) else old
        raise TransitionError("status", f"unknown card status {bad!r} (one of {known})") from None
    if after not in TRANSITIONS[before]:
        allowed = ", ".join(s.value for s in CardStatus if s in TRANSITIONS[before]) or "nothing"
        raise TransitionError(
            "status", f"a {before.value} card cannot become {after.value} (only: {allowed})"
        )


def previous_card_status(ground: Ground | str) -> CardStatus:
    """What the card being replaced becomes when its successor is allocated: lost (line 23:
    "yo‘qotib qo‘yilganda"), seized (line 22), otherwise replaced (stage 5, line 178)."""
    g = rule(ground).ground
    if g is Ground.LOST:
        return CardStatus.LOST
    if g is Ground.SEIZED:
        return CardStatus.SEIZED
    return CardStatus.REPLACED


_CARD = re.compile(r"([A-Z]{2})([0-9]{7})")
MAX_NUMBER = 9_999_999


def format_card_number(series: str, number: int) -> str:
    """"AD" and 7 digits: the card's document number (series 2 letters, number 1-9999999)."""
    if not (isinstance(series, str) and re.fullmatch(r"[A-Z]{2}", series)):
        raise DomainError("card", f"series {series!r} is not 2 letters A-Z")
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_NUMBER:
        raise DomainError("card", f"number {number!r} is not 1-{MAX_NUMBER}")
    return f"{series}{number:07d}"


def parse_card_number(text: str, *, field: str = "card") -> tuple[str, int]:
    """(series, number) of "AD1234567"; :class:`DomainError` naming ``field`` otherwise."""
    match = _CARD.fullmatch(text) if isinstance(text, str) else None
    if match is None or int(match[2]) == 0:
        raise DomainError(field, f"{text!r} is not a card number: 2 letters A-Z and 7 digits "
                          "(not all zero)")
    return match[1], int(match[2])
