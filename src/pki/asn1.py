"""ASN.1 of the document PKI (ICAO Doc 9303-12), as pki uses it.

The specs and OIDs are defined once, in :mod:`idcard.asn1.document_pki`, and registered with
asn1crypto once, in :mod:`idcard.asn1.registration` (STYLE.md §2); this module re-exports them
for pki code. :func:`register` and :func:`registered` are that registration's.
"""

from __future__ import annotations

from idcard.asn1 import document_pki
from idcard.asn1.document_pki import *  # noqa: F403 - the re-export is this module's purpose
from idcard.asn1.registration import register, registered

__all__ = ["register", "registered"]
__all__ += document_pki.__all__
