"""A personalization job's life, as pure rules (issue 11; scheme, stage 4, line 158:
"personallashtiradi va beradi").

A job makes one application's card on one reader. Its steps run in :data:`ORDER`; each step is
recorded ``started`` before its effect begins and ``done`` (with what it produced) after, so a
job found ``started`` after a crash is decided by :func:`on_resume`, and a card that failed a
step by :func:`on_card_failure`. The runner (:mod:`station.point.jobs`) does the I/O; this
module only says what may follow what.

Rules that keep a crash harmless:

- the card number is the application's (the Center allocated it at stage 3): no step asks for
  another, and a new blank carries the same number, the same data groups and the same EF.SOD;
- a personalization interrupted half-way cannot be trusted: the blank is spoiled (never ready);
- every other step is safe to run again (the Center signs the same hashes to the same SOD;
  the e-signature enrolment finds the certificate already issued for the chip's key);
- only :attr:`Step.READY`, after the read-back gate passed, makes a card ready for handover.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from station.domain.errors import TransitionError

__all__ = [
    "CARD_STEPS",
    "MAX_BLANKS",
    "ORDER",
    "TRANSITIONS",
    "Decision",
    "JobStatus",
    "Phase",
    "Resume",
    "Step",
    "check_transition",
    "next_step",
    "on_card_failure",
    "on_resume",
]


class Step(enum.StrEnum):
    """The steps of a job, in their order (:data:`ORDER`)."""

    TAKE_BLANK = "take-blank"  # a blank from stock into the reader
    BUILD_LDS = "build-lds"  # every chip file but EF.SOD, and the chip's keys
    SIGN_SOD = "sign-sod"  # EF.SOD signed at the Center from the data-group hashes
    PERSONALIZE = "personalize"  # the files and secrets written to the chip, locked
    ENROL = "esign-enrol"  # key in the chip, holder's PIN, certificate by the Center's CA
    GATE = "read-back-gate"  # read as an inspection system would, verified
    READY = "ready"  # recorded verified at the point and the Center; the blank issued


ORDER: tuple[Step, ...] = tuple(Step)


class Phase(enum.StrEnum):
    PENDING = "pending"  # not begun: nothing of its effect exists
    STARTED = "started"  # its effect may have begun (recorded before it begins)


class JobStatus(enum.StrEnum):
    RUNNING = "running"  # a step is pending or started
    READY = "ready"  # the card passed the gate: ready for handover
    FAILED = "failed"  # no blank left to try (MAX_BLANKS spoiled)


CARD_STEPS = frozenset({Step.PERSONALIZE, Step.ENROL, Step.GATE})
"""Steps whose failure is the blank's (spoiled, a new blank taken), not the job's."""

MAX_BLANKS = 3
"""Blanks one job may spoil before it fails (a reader or batch that spoils every card)."""

_S = Step
TRANSITIONS: Mapping[Step, frozenset[Step]] = MappingProxyType({
    # after a spoiled blank the LDS and SOD already made are written to the next blank
    _S.TAKE_BLANK: frozenset({_S.BUILD_LDS, _S.PERSONALIZE}),
    _S.BUILD_LDS: frozenset({_S.SIGN_SOD}),
    _S.SIGN_SOD: frozenset({_S.PERSONALIZE}),
    _S.PERSONALIZE: frozenset({_S.ENROL, _S.TAKE_BLANK}),
    _S.ENROL: frozenset({_S.GATE, _S.TAKE_BLANK}),
    _S.GATE: frozenset({_S.READY, _S.TAKE_BLANK}),
    _S.READY: frozenset(),
})
"""The steps each step may be followed by (back to TAKE_BLANK: the blank was spoiled)."""


def check_transition(old: Step | str, new: Step | str) -> None:
    """Refuse (:class:`TransitionError`, field ``step``) a change the job may not make."""
    try:
        before, after = Step(old), Step(new)
    except ValueError:
        known = ", ".join(s.value for s in Step)
        raise TransitionError("step", f"unknown step (one of {known})") from None
    if after not in TRANSITIONS[before]:
        allowed = ", ".join(s.value for s in ORDER if s in TRANSITIONS[before]) or "nothing"
        raise TransitionError("step", f"{before.value} cannot be followed by {after.value} "
                              f"(only: {allowed})")  # fmt: skip


def next_step(done: Step, *, lds_made: bool) -> Step | None:
    """The step after ``done`` succeeded (None after READY); a blank taken when the LDS and
    SOD were made for an earlier blank goes straight to personalization."""
    if done is Step.READY:
        return None
    if done is Step.TAKE_BLANK and lds_made:
        return Step.PERSONALIZE
    return ORDER[ORDER.index(done) + 1]


class Resume(enum.StrEnum):
    """What to do with a step found ``started`` when a job is picked up again."""

    RUN = "run"  # run it again: it is idempotent, or finds its own earlier effect
    SPOIL = "spoil"  # the blank cannot be trusted: spoil it, take a new one


@dataclass(frozen=True, slots=True)
class Decision:
    """What follows a card failure: the step to go on with, or the job's end."""

    step: Step | None
    status: JobStatus


def on_resume(step: Step, phase: Phase) -> Resume:
    """A step found ``phase`` after a crash: a personalization that may have written part of
    the card spoils the blank; anything else runs again."""
    if phase is Phase.STARTED and step is Step.PERSONALIZE:
        return Resume.SPOIL
    return Resume.RUN


def on_card_failure(step: Step, *, blanks_used: int) -> Decision:
    """The blank failed ``step`` (one of :data:`CARD_STEPS`): it is spoiled; a new blank is taken
    unless the job has used :data:`MAX_BLANKS` already."""
    if step not in CARD_STEPS:
        raise TransitionError("step", f"a failure of {step.value} is not the blank's")
    if blanks_used >= MAX_BLANKS:
        return Decision(None, JobStatus.FAILED)
    return Decision(Step.TAKE_BLANK, JobStatus.RUNNING)
