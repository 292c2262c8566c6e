"""The virtual chip: card simulators and the bridge that plugs them into a PC/SC reader.

:class:`VirtualChip` is the eMRTD chip (docs/chip.md), :class:`ChipTransport` talks to it in
process, :mod:`idcard.chip.perso` is its personalization command set, :mod:`idcard.chip.vpcd`
the bridge to pcscd's vpcd driver, :mod:`idcard.chip.piv_app` the PIV face of the e-signature key.

The names below are imported on first use (PEP 562): ``from idcard.chip.perso import …``, as
the personalization station does, does not load the chip itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from idcard.chip.emrtd import ATR, EMRTD_AID, VirtualChip
    from idcard.chip.perso import CardLockedError, ChipSecrets, MRZKey
    from idcard.chip.state import ChipState
    from idcard.chip.transport import ChipTransport

_WHERE = {
    "ATR": "emrtd",
    "EMRTD_AID": "emrtd",
    "VirtualChip": "emrtd",
    "CardLockedError": "perso",
    "ChipSecrets": "perso",
    "MRZKey": "perso",
    "ChipState": "state",
    "ChipTransport": "transport",
}
_SUBMODULES = ("emrtd", "esign_app", "perso", "piv_app", "state", "transport", "vpcd")
"""Reachable as attributes of the package without an import of their own, as before."""

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


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
