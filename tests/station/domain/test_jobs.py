"""The personalization job's state machine (station.domain.jobs): pure rules, every case."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from station.domain.errors import TransitionError
from station.domain.jobs import (
    CARD_STEPS,
    MAX_BLANKS,
    ORDER,
    TRANSITIONS,
    JobStatus,
    Phase,
    Resume,
    Step,
    check_transition,
    next_step,
    on_card_failure,
    on_resume,
)


def test_the_steps_in_their_order() -> None:
    assert [s.value for s in ORDER] == ["take-blank", "build-lds", "sign-sod", "personalize",
                                        "esign-enrol", "read-back-gate", "ready"]


def test_the_first_blank_goes_through_every_step() -> None:
    walked, step = [], Step.TAKE_BLANK
    while step is not None:
        walked.append(step)
        following = next_step(step, lds_made=False)
        if following is not None:
            check_transition(step, following)
        step = following  # type: ignore[assignment]
    assert tuple(walked) == ORDER


def test_a_new_blank_reuses_the_lds_and_sod() -> None:
    assert next_step(Step.TAKE_BLANK, lds_made=True) is Step.PERSONALIZE
    assert next_step(Step.TAKE_BLANK, lds_made=False) is Step.BUILD_LDS
    assert next_step(Step.READY, lds_made=True) is None


@given(st.sampled_from(list(Step)), st.sampled_from(list(Step)))
def test_check_transition_follows_the_table(old: Step, new: Step) -> None:
    if new in TRANSITIONS[old]:
        check_transition(old, new)
    else:
        with pytest.raises(TransitionError) as info:
            check_transition(old, new)
        allowed = ", ".join(s.value for s in ORDER if s in TRANSITIONS[old]) or "nothing"
        assert (info.value.field, info.value.reason) == (
            "step", f"{old.value} cannot be followed by {new.value} (only: {allowed})")


def test_the_refusal_names_what_may_follow() -> None:
    with pytest.raises(TransitionError) as info:
        check_transition(Step.GATE, Step.ENROL)
    assert info.value.reason == ("read-back-gate cannot be followed by esign-enrol (only: "
                                 "take-blank, ready)")
    with pytest.raises(TransitionError) as info:
        check_transition(Step.READY, Step.TAKE_BLANK)
    assert info.value.reason == "ready cannot be followed by take-blank (only: nothing)"


def test_an_unknown_step_is_refused() -> None:
    with pytest.raises(TransitionError) as info:
        check_transition("take-blank", "print")
    assert (info.value.field, info.value.reason) == (
        "step", "unknown step (one of take-blank, build-lds, sign-sod, personalize, "
        "esign-enrol, read-back-gate, ready)")


def test_ready_is_reached_only_from_the_gate() -> None:
    assert [s for s in Step if Step.READY in TRANSITIONS[s]] == [Step.GATE]
    assert TRANSITIONS[Step.READY] == frozenset()


@given(st.sampled_from(list(Step)), st.sampled_from(list(Phase)))
def test_only_an_interrupted_personalization_spoils_the_blank(step: Step, phase: Phase) -> None:
    expected = (Resume.SPOIL if (step, phase) == (Step.PERSONALIZE, Phase.STARTED)
                else Resume.RUN)
    assert on_resume(step, phase) is expected


@pytest.mark.parametrize("step", sorted(CARD_STEPS))
def test_a_card_failure_takes_a_new_blank_until_max_blanks(step: Step) -> None:
    for used in range(1, MAX_BLANKS):
        decision = on_card_failure(step, blanks_used=used)
        assert (decision.step, decision.status) == (Step.TAKE_BLANK, JobStatus.RUNNING)
        check_transition(step, Step.TAKE_BLANK)
    decision = on_card_failure(step, blanks_used=MAX_BLANKS)
    assert (decision.step, decision.status) == (None, JobStatus.FAILED)


@pytest.mark.parametrize("step", [s for s in Step if s not in CARD_STEPS])
def test_a_failure_of_another_step_is_not_the_blanks(step: Step) -> None:
    with pytest.raises(TransitionError) as info:
        on_card_failure(step, blanks_used=1)
    assert (info.value.field, info.value.reason) == (
        "step", f"a failure of {step.value} is not the blank's")
