"""The typed refusal of a capture: a reason code the operator's screen can map, and a message."""

from __future__ import annotations

from station.errors import StationError


class CaptureRefused(StationError):
    """A capture did not pass its quality gate. ``reason`` is a stable code (e.g.
    ``"two_faces"``); the message says why in words. Neither ever holds biometric bytes."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


__all__ = ["CaptureRefused"]
