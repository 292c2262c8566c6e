"""idcard: the chip side of national eID cards (ICAO Doc 9303, BSI TR-03110).

Chip data (MRZ, TLV, data groups, EF.SOD), card I/O (APDU, transports, secure messaging, access
protocols), the virtual chip, and checks of a document against given trust anchors. Imports
nothing from :mod:`pki` or :mod:`station`.
"""

from idcard.errors import DecodeError, IdkartaError

__version__ = "0.1.0"

__all__ = ["DecodeError", "IdkartaError", "__version__"]
