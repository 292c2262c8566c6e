"""PACE — Password Authenticated Connection Establishment (ICAO 9303-11 §4.4) — hazmat.

Terminal side :class:`PACEProtocol` and chip side :class:`PACEChip`, with every mapping
(Generic, Integrated, Chip Authentication), every cipher suite (3DES, AES-128/192/256) and the
standardized domain parameters of :mod:`idcard.protocols.params`. Users normally reach PACE
through the reader; these classes are the state machines under it.

Example (terminal; ``transport`` is any :class:`~idcard.transport.Transport`)::

    from idcard.protocols import drive
    from idcard.protocols.pace import PACEPassword, PACEProtocol

    password = PACEPassword.can("123456")
    result = drive(PACEProtocol(password, "0.4.0.127.0.7.2.2.4.2.2", 13), transport)
    channel = result.secure_channel()
"""

from idcard.protocols.pace.algorithms import (
    CAN,
    ID_PACE,
    MRZ,
    PACE_ALGORITHMS,
    PIN,
    PUK,
    Mapping,
    PACEAlgorithm,
    PACEPassword,
)
from idcard.protocols.pace.chip import PACEChip
from idcard.protocols.pace.terminal import PACEProtocol, PACEResult, verify_chip_authentication

__all__ = [
    "CAN",
    "ID_PACE",
    "MRZ",
    "PACE_ALGORITHMS",
    "PIN",
    "PUK",
    "Mapping",
    "PACEAlgorithm",
    "PACEChip",
    "PACEPassword",
    "PACEProtocol",
    "PACEResult",
    "verify_chip_authentication",
]
