"""Errors of the collection point's use cases; each names the field (or thing) at fault.

``exit_code`` is what a front reports: 2 for input that is not usable (an unknown application, an
operator the point does not know), 1 for input that was checked against the rules and refused
(a second open application, a card not yet verified, the wrong person at the handover).
"""

from __future__ import annotations

from station.errors import StationError

__all__ = [
    "ApprovalRefused",
    "DuplicateApplication",
    "HandoverRefused",
    "NotFound",
    "PointError",
    "UnknownOperator",
    "WrongState",
]


class PointError(StationError):
    """A use case of the point refused its input; ``field`` names what is wrong."""

    exit_code = 1

    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        self.problems = ((field, reason),)
        super().__init__(f"{field}: {reason}")


class NotFound(PointError):
    """No such application (or card) at this point."""

    exit_code = 2


class UnknownOperator(PointError):
    """The operator (or the approving supervisor) is not one of the point's operators."""

    exit_code = 2


class DuplicateApplication(PointError):
    """The person already has an open application on this ground (the partial unique index)."""


class WrongState(PointError):
    """The application is not in a status that allows the step (submit twice, hand over an
    unverified card)."""


class HandoverRefused(PointError):
    """The receiver may not take the card (scheme: under 16, only the parent or guardian who
    applied)."""


class ApprovalRefused(PointError):
    """A free replacement without a second person's approval (a supervisor who is not the
    operator)."""
