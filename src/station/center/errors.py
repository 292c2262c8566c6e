"""The Center's refusals: typed, naming the field, rebuilt by the point's client from JSON.

The Center's API maps them to HTTP statuses (:mod:`station.api.errors`); a service never does.
Rule violations of the pure domain stay :class:`station.domain.errors.DomainError`.
"""

from __future__ import annotations

from station.errors import StationError

__all__ = [
    "CardNumbersExhausted",
    "CenterError",
    "CenterUnavailable",
    "Conflict",
    "NotFound",
    "NotYourPoint",
    "PINFLExhausted",
    "PersonMismatch",
    "PointUnauthenticated",
    "RequestConflict",
    "SignerUnavailable",
]


class CenterError(StationError):
    """A request the Center refuses: ``field`` names what is wrong (``person.pinfl``,
    ``previous_card``), ``reason`` says why; ``problems`` lists every (field, reason)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        self.problems: tuple[tuple[str, str], ...] = ((field, reason),)
        super().__init__(f"{field}: {reason}")


class NotFound(CenterError):
    """The card, person or collection point named is not in the Center's registry."""


class Conflict(CenterError):
    """The request is well formed but contradicts the registry."""


class PersonMismatch(Conflict):
    """A known PINFL sent with another person's data (scheme, stage 3: the PINFL "is correct")."""


class RequestConflict(Conflict):
    """A request id already used for a different request (another point, scheme or ground)."""


class PINFLExhausted(Conflict):
    """Every serial (001-999) of a day-and-place PINFL block is used."""


class CardNumbersExhausted(Conflict):
    """The active card series has no number left, or no series is open."""


class PointUnauthenticated(CenterError):
    """A served Center requires a point's TLS client certificate and got none it accepts
    (HTTP 401); a certificate not issued by the point CA, or revoked, fails the handshake."""


class NotYourPoint(CenterError):
    """A point asked to act on another point's data: its request, card or registration
    (HTTP 403); nothing was changed."""


class CenterUnavailable(StationError):
    """The point could not reach the Center, or its answer was not the Center's JSON."""


class SignerUnavailable(StationError):
    """The Center could not sign now: no Document Signer may sign (expired, revoked, not for
    this document type, none configured) or its key store failed. Served as HTTP 503."""
