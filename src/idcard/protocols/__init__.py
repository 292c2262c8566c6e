"""Access and authentication protocols as pure state machines (hazmat: use idcard.reader).

Each terminal-side protocol has ``start() -> CommandAPDU`` and
``receive(ResponseAPDU) -> CommandAPDU | Result``; :func:`drive` runs any of them over a
:class:`~idcard.transport.Transport`. Chip-side counterparts answer commands with
``handle(CommandAPDU) -> ResponseAPDU``, so both sides talk in one process without a card.
"""

from idcard.protocols.base import ChipProtocol, TerminalProtocol, drive

__all__ = ["ChipProtocol", "TerminalProtocol", "drive"]
