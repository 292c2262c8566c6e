"""The transport interface under every protocol (STYLE.md §4).

A transport sends one command APDU and returns the response; it knows nothing of protocols.
Implementations (PC/SC, in-process virtual chip, replay, logging) live in :mod:`idcard.reader`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from idcard.apdu import CommandAPDU, ResponseAPDU

__all__ = ["Transport"]


@runtime_checkable
class Transport(Protocol):
    """Sends a command APDU, returns the card's response. Raises TransportError on I/O failure."""

    def transmit(self, command: CommandAPDU) -> ResponseAPDU: ...
