"""The virtual chip: card simulators and the bridge that plugs them into a PC/SC reader.

:class:`VirtualChip` is the eMRTD chip (docs/chip.md), :class:`ChipTransport` talks to it in
process, :mod:`idcard.chip.perso` is its personalization command set, :mod:`idcard.chip.vpcd`
the bridge to pcscd's vpcd driver.
"""

from idcard.chip.emrtd import ATR, EMRTD_AID, VirtualChip
from idcard.chip.perso import CardLockedError, ChipSecrets, MRZKey
from idcard.chip.state import ChipState
from idcard.chip.transport import ChipTransport

__all__ = [
    "ATR",
    "EMRTD_AID",
    "CardLockedError",
    "ChipSecrets",
    "ChipState",
    "ChipTransport",
    "MRZKey",
    "VirtualChip",
]
