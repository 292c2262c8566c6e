"""The state-machine interfaces shared by every protocol, and the one loop that drives them."""

from __future__ import annotations

from typing import Protocol, TypeVar

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.transport import Transport

__all__ = ["ChipProtocol", "TerminalProtocol", "drive"]

R_co = TypeVar("R_co", covariant=True)
R = TypeVar("R")


class TerminalProtocol(Protocol[R_co]):
    """Terminal side: emits commands, consumes responses, ends with a result object."""

    def start(self) -> CommandAPDU: ...

    def receive(self, response: ResponseAPDU) -> CommandAPDU | R_co: ...


class ChipProtocol(Protocol):
    """Chip side: answers one command at a time; ``done`` once the protocol has completed."""

    @property
    def done(self) -> bool: ...

    def handle(self, command: CommandAPDU) -> ResponseAPDU: ...


def drive(protocol: TerminalProtocol[R], transport: Transport) -> R:
    """Run a terminal-side protocol over a transport until it returns its result."""
    command = protocol.start()
    while True:
        outcome = protocol.receive(transport.transmit(command))
        if isinstance(outcome, CommandAPDU):
            command = outcome
            continue
        return outcome
