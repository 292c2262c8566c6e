"""Transcripts: a transport that replays recorded exchanges, and one that records them.

A transcript is a list of ``(command bytes, response bytes)`` pairs. :class:`ReplayTransport`
answers the i-th command with the i-th response, and fails loudly, with
:class:`ReplayMismatch` (a :class:`TransportError`) naming the index and both commands, on any
command other than the recorded one, and on any command past the end (STYLE.md §4). Secret
data in the message are masked by the same rule as the APDU trace
(:func:`idcard.reader.logging.default_mask`); the raw bytes are on the exception's attributes.

The JSON form is ``[{"command": "<hex>", "response": "<hex>"}, ...]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.errors import DecodeError, TransportError
from idcard.reader.logging import MaskFunc, default_mask, format_command
from idcard.transport import Transport

__all__ = [
    "Exchange",
    "Recorder",
    "ReplayMismatch",
    "ReplayTransport",
    "transcript_from_json",
    "transcript_to_json",
]

Exchange = tuple[bytes, bytes]


class ReplayMismatch(TransportError):
    """A replayed session deviated from its transcript at exchange ``index``."""

    def __init__(self, message: str, *, index: int, expected: bytes | None, actual: bytes):
        self.index = index
        self.expected = expected
        self.actual = actual
        super().__init__(message)


def transcript_to_json(transcript: Iterable[Exchange]) -> str:
    return json.dumps(
        [{"command": c.hex().upper(), "response": r.hex().upper()} for c, r in transcript],
        indent=1,
    )


def transcript_from_json(text: str) -> list[Exchange]:
    """Parse the JSON form; anything malformed is a :class:`DecodeError`."""
    try:
        items = json.loads(text)
        return [(bytes.fromhex(i["command"]), bytes.fromhex(i["response"])) for i in items]
    except (ValueError, TypeError, KeyError) as exc:
        raise DecodeError(f"not a transcript: {exc}") from exc


def _describe(raw: bytes, mask: MaskFunc) -> str:
    try:
        command = CommandAPDU.decode(raw)
    except DecodeError:
        return f"{raw[:4].hex().upper()}… ({len(raw)} bytes, not a valid APDU)"
    return format_command(command, mask(command))


class ReplayTransport:
    """Answers from a transcript; see the module doc."""

    def __init__(self, transcript: Iterable[Exchange], *, mask: MaskFunc = default_mask) -> None:
        self.transcript: Sequence[Exchange] = [(bytes(c), bytes(r)) for c, r in transcript]
        self.position = 0
        self.mask = mask

    @classmethod
    def from_json(cls, text: str) -> ReplayTransport:
        return cls(transcript_from_json(text))

    @property
    def remaining(self) -> int:
        return len(self.transcript) - self.position

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        actual = command.encode()
        index = self.position
        if index >= len(self.transcript):
            raise ReplayMismatch(
                f"replay: command #{index} {_describe(actual, self.mask)} is past the end of"
                f" the transcript ({len(self.transcript)} exchanges)",
                index=index, expected=None, actual=actual,
            )
        expected, response = self.transcript[index]
        if actual != expected:
            at = next(
                (i for i, (a, b) in enumerate(zip(actual, expected, strict=False)) if a != b),
                min(len(actual), len(expected)),
            )
            raise ReplayMismatch(
                f"replay: command #{index} differs from the transcript at byte {at}:"
                f" expected {_describe(expected, self.mask)},"
                f" got {_describe(actual, self.mask)}",
                index=index, expected=expected, actual=actual,
            )
        self.position += 1
        return ResponseAPDU.decode(response)

    def assert_complete(self) -> None:
        """Raise :class:`TransportError` unless every recorded exchange was replayed."""
        if self.remaining:
            raise TransportError(
                f"replay: {self.remaining} of {len(self.transcript)} exchanges not replayed"
                f" (next is #{self.position})"
            )


class Recorder:
    """Passes commands to ``inner`` and keeps every exchange in :attr:`transcript`."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.transcript: list[Exchange] = []

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        response = self.inner.transmit(command)
        self.transcript.append((command.encode(), response.encode()))
        return response

    def to_json(self) -> str:
        return transcript_to_json(self.transcript)
