"""Card statuses in the registry and card numbers (decree of 19 January 2026, §6б; scheme, stage
4 line 158 "personallashtiradi va beradi", stage 5 line 178 "tiklash yoki almashtirish", line 22
"ashyoviy dalil sifatida olib qo‘yilganida", line 23 "yo‘qotib qo‘yilganda")."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from station.domain.cards import (
    TRANSITIONS,
    VALID,
    CardStatus,
    check_transition,
    format_card_number,
    parse_card_number,
    previous_card_status,
)
from station.domain.errors import DomainError, TransitionError
from station.domain.grounds import Ground

S = CardStatus
TERMINAL = {S.LOST, S.STOLEN, S.SEIZED, S.REPLACED, S.EXPIRED, S.CANCELLED}
# Written out from the contract, not read back from TRANSITIONS.
ALLOWED = {
    (S.ALLOCATED, S.PERSONALIZED), (S.ALLOCATED, S.CANCELLED),
    (S.PERSONALIZED, S.VERIFIED), (S.PERSONALIZED, S.CANCELLED),
    (S.VERIFIED, S.HANDED_OVER), (S.VERIFIED, S.CANCELLED),
    *((S.HANDED_OVER, end) for end in TERMINAL),
}


def test_transition_table() -> None:
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED
    assert set(TRANSITIONS) == set(CardStatus)
    assert {s for s, targets in TRANSITIONS.items() if not targets} == TERMINAL
    assert {S.HANDED_OVER} == VALID


@pytest.mark.parametrize(("old", "new"), [(a, b) for a in CardStatus for b in CardStatus])
def test_check_transition_every_pair(old: CardStatus, new: CardStatus) -> None:
    if (old, new) in ALLOWED:
        check_transition(old, new)
        check_transition(old.value, new.value)
    else:
        with pytest.raises(TransitionError) as info:
            check_transition(old, new)
        assert info.value.field == "status"
        assert f"a {old.value} card cannot become {new.value}" in info.value.reason


def test_transition_error_lists_what_is_allowed() -> None:
    with pytest.raises(TransitionError) as info:
        check_transition("allocated", "handed-over")
    assert info.value.reason == (
        "a allocated card cannot become handed-over (only: personalized, cancelled)")
    with pytest.raises(TransitionError) as info:
        check_transition("lost", "handed-over")
    assert info.value.reason.endswith("(only: nothing)")


@pytest.mark.parametrize(("old", "new", "bad"), [("found", "lost", "'found'"),
                                                 ("handed-over", "burnt", "'burnt'")])
def test_unknown_status(old: str, new: str, bad: str) -> None:
    with pytest.raises(TransitionError) as info:
        check_transition(old, new)
    assert info.value.field == "status"
    assert info.value.reason == (
        f"unknown card status {bad} (one of allocated, personalized, verified, handed-over, "
        "lost, stolen, seized, replaced, expired, cancelled)")


class CardLife(RuleBasedStateMachine):
    """A card's life: only listed transitions pass; a terminal status stays terminal."""

    def __init__(self) -> None:
        super().__init__()
        self.status = CardStatus.ALLOCATED
        self.history = [self.status]

    @rule(new=st.sampled_from(CardStatus))
    def change(self, new: CardStatus) -> None:
        if (self.status, new) in ALLOWED:
            check_transition(self.status, new)
            self.status = new
            self.history.append(new)
        else:
            with pytest.raises(TransitionError):
                check_transition(self.status, new)

    @precondition(lambda self: self.status in TERMINAL)
    @rule(new=st.sampled_from(CardStatus))
    def terminal_stays(self, new: CardStatus) -> None:
        with pytest.raises(TransitionError):
            check_transition(self.status, new)

    @invariant()
    def history_is_a_path(self) -> None:
        order = [S.ALLOCATED, S.PERSONALIZED, S.VERIFIED, S.HANDED_OVER]
        alive = [s for s in self.history if s in order]
        assert alive == order[: len(alive)]
        assert all(s not in TERMINAL for s in self.history[:-1])


TestCardLife = CardLife.TestCase


@pytest.mark.parametrize(
    ("ground", "status"),
    [(Ground.LOST, S.LOST), (Ground.SEIZED, S.SEIZED), (Ground.UNUSABLE, S.REPLACED),
     (Ground.DATA_CHANGED, S.REPLACED), (Ground.DATA_ERROR, S.REPLACED),
     (Ground.EXPIRED, S.REPLACED), (Ground.PERMIT_EXPIRED, S.REPLACED), ("lost", S.LOST)],
)
def test_previous_card_status(ground: Ground, status: CardStatus) -> None:
    assert previous_card_status(ground) is status
    assert status in TRANSITIONS[S.HANDED_OVER]


def test_previous_card_status_unknown_ground() -> None:
    with pytest.raises(DomainError) as info:
        previous_card_status("burnt")
    assert info.value.field == "ground"


def test_card_numbers() -> None:
    assert format_card_number("AD", 1) == "AD0000001"
    assert format_card_number("AD", 9_999_999) == "AD9999999"
    assert parse_card_number("AD1234567") == ("AD", 1234567)
    assert parse_card_number(format_card_number("ZZ", 42)) == ("ZZ", 42)


@pytest.mark.parametrize(("series", "number"), [("ad", 1), ("A", 1), ("ADX", 1), ("A1", 1),
                                                ("AD", 0), ("AD", 10_000_000), ("AD", -1),
                                                ("AD", True)])
def test_bad_card_number_parts(series: str, number: int) -> None:
    with pytest.raises(DomainError) as info:
        format_card_number(series, number)
    assert info.value.field == "card"
    if series != "AD":
        assert info.value.reason == f"series {series!r} is not 2 letters A-Z"
    else:
        assert info.value.reason == f"number {number!r} is not 1-9999999"


@pytest.mark.parametrize("text", ["AD123456", "AD12345678", "ad1234567", "AD 1234567",
                                  "AD0000000", "AD１２３４５６７", "", "AD1234567\n"])
def test_bad_card_number_text(text: str) -> None:
    with pytest.raises(DomainError) as info:
        parse_card_number(text, field="previous_card")
    assert info.value.field == "previous_card"
    assert info.value.reason == (
        f"{text!r} is not a card number: 2 letters A-Z and 7 digits (not all zero)")


def test_card_number_not_text() -> None:
    with pytest.raises(DomainError) as info:
        parse_card_number(None)  # type: ignore[arg-type]
    assert info.value.field == "card"
