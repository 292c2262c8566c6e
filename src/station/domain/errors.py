"""Errors of the issuance domain: a refused rule names the field it is about.

Every error is a :class:`DomainError` (an :class:`station.applicant.ApplicantError`, so the CLI's
existing handling prints ``field: reason``) built from a first ``(field, reason)`` and, optionally,
all the other problems found at the same time. The constructor is the same for every sub-type, so
a client can rebuild one from the JSON of :meth:`DomainError.to_json` (:func:`error_from_json`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from station.applicant import ApplicantError

__all__ = [
    "DeadlineError",
    "DomainError",
    "MissingDocuments",
    "TransitionError",
    "error_from_json",
]


class DomainError(ApplicantError):
    """A rule of the issuance scheme refuses something: ``field`` (``person.birth_date``,
    ``documents``) and ``reason`` of the first problem, ``problems`` every (field, reason)."""

    def __init__(
        self, field: str, reason: str, *, problems: Iterable[tuple[str, str]] = ()
    ) -> None:
        first = (field, reason)
        super().__init__([first, *(p for p in problems if p != first)])

    @classmethod
    def from_problems(cls, problems: Iterable[tuple[str, str]], **extra: Any) -> DomainError:
        """The error of a non-empty list of problems (the first one is ``field``/``reason``)."""
        listed = list(problems)
        if not listed:
            raise ValueError("no problems to raise")
        field, reason = listed[0]
        return cls(field, reason, problems=listed, **extra)

    def to_json(self) -> dict[str, Any]:
        """``{"type", "field", "message", "problems"}`` (the API's error body)."""
        return {
            "type": type(self).__name__,
            "field": self.field,
            "message": self.reason,
            "problems": [[f, r] for f, r in self.problems],
        }


class MissingDocuments(DomainError):
    """Documents the scheme requires for the ground were not presented; ``missing`` names them
    (``DocumentKind`` values, in the enum's order)."""

    def __init__(
        self,
        field: str,
        reason: str,
        *,
        problems: Iterable[tuple[str, str]] = (),
        missing: Iterable[str] = (),
    ) -> None:
        super().__init__(field, reason, problems=problems)
        self.missing: tuple[str, ...] = tuple(missing)

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "missing": list(self.missing)}


class TransitionError(DomainError):
    """A card status change the registry's state machine does not allow."""


class DeadlineError(DomainError):
    """A deadline that cannot be computed (a day outside the working-day calendar's years, a
    count of working days below one)."""


_TYPES: dict[str, type[DomainError]] = {
    cls.__name__: cls for cls in (DomainError, MissingDocuments, TransitionError, DeadlineError)
}


def error_from_json(data: Mapping[str, Any]) -> DomainError:
    """Rebuild the error :meth:`DomainError.to_json` wrote (an unknown type → DomainError)."""
    cls = _TYPES.get(str(data.get("type")), DomainError)
    field, reason = str(data.get("field", "")), str(data.get("message", ""))
    raw = data.get("problems")
    problems = [
        (str(p[0]), str(p[1])) for p in (raw if isinstance(raw, list) else [])
        if isinstance(p, list | tuple) and len(p) == 2
    ]
    if cls is MissingDocuments:
        missing = data.get("missing")
        return MissingDocuments(
            field, reason, problems=problems,
            missing=[str(m) for m in missing] if isinstance(missing, list) else (),
        )
    return cls(field, reason, problems=problems)
