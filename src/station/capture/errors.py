"""The typed refusal of a capture: reason codes the operator's screen can map, and messages."""

from __future__ import annotations

from collections.abc import Sequence

from station.errors import StationError


class CaptureRefused(StationError):
    """A capture did not pass its quality gate. ``reason`` is a stable code (e.g.
    ``"two_faces"``) of the first failed check, ``message`` says why in words; ``problems``
    holds every failed check as (reason, message), first one first, so the operator sees all
    that is wrong with one photograph. None of them ever holds biometric bytes."""

    def __init__(self, reason: str, message: str,
                 more: Sequence[tuple[str, str]] = ()) -> None:  # fmt: skip
        self.problems: tuple[tuple[str, str], ...] = ((reason, message), *more)
        super().__init__("; ".join(f"{r}: {m}" for r, m in self.problems))
        self.reason = reason
        self.message = message

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reason codes of every failed check, in the order they were checked."""
        return tuple(r for r, _ in self.problems)

    @classmethod
    def from_problems(cls, problems: Sequence[tuple[str, str]]) -> CaptureRefused:
        """The refusal of a non-empty list of (reason, message)."""
        (reason, message), *more = problems
        return cls(reason, message, more)


__all__ = ["CaptureRefused"]
