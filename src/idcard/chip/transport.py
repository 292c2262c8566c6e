"""An in-process :class:`~idcard.transport.Transport` to a simulated card (tests, tools)."""

from __future__ import annotations

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.chip.vpcd import CardSimulator

__all__ = ["ChipTransport"]


class ChipTransport:
    """Sends each command APDU, encoded, to ``chip.process`` and decodes the answer, exactly as
    a reader would; ``atr`` is the card's ATR. The card is powered on at construction."""

    def __init__(self, chip: CardSimulator) -> None:
        self.chip = chip
        chip.power_on()

    @property
    def atr(self) -> bytes:
        return self.chip.atr

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        return ResponseAPDU.decode(self.chip.process(command.encode()))
