"""Errors of the station package, rooted in :class:`idcard.errors.IdkartaError`."""

from __future__ import annotations

from idcard.errors import IdkartaError


class StationError(IdkartaError):
    """Root of the station package's errors."""


class UsageError(StationError):
    """The command line or configuration given to a station tool is not usable."""


__all__ = ["StationError", "UsageError"]
