"""Terminal side of the card's e-signature application (docs/chip.md, "E-signature on the card").

:class:`ESignCard` selects the application, verifies and changes the PIN, unblocks it with the
PUK, generates the key pair, reads and writes the certificate files and computes signatures;
:mod:`idcard.esign.protocol` holds the identifiers, formats and the personalization mutual
authentication both sides share (expert level: use :class:`ESignCard`).
"""

from idcard.esign.card import ESignCard, PINBlockedError, PINError
from idcard.esign.protocol import ESIGN_AID, FID_CA_CERTIFICATE, FID_CERTIFICATE

__all__ = [
    "ESIGN_AID",
    "FID_CA_CERTIFICATE",
    "FID_CERTIFICATE",
    "ESignCard",
    "PINBlockedError",
    "PINError",
]
