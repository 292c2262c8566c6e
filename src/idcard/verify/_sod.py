"""A read view of EF.SOD for passive authentication.

Thin adapter: the project's EF.SOD model lives in :mod:`idcard.lds.sod`; this module reads the
few values verification needs straight from the CMS structure (RFC 5652 §5) with asn1crypto, so
that the exact bytes that were signed are used, never a re-encoding (9303-10 §4.6.2.3).
"""

from __future__ import annotations

from dataclasses import dataclass

from idcard import tlv
from idcard.errors import DecodeError
from idcard.verify._asn1 import OID_LDS_SECURITY_OBJECT, LDSSecurityObject, LDSVersionInfo
from idcard.verify._cms import SignedParts, read_signed_data

__all__ = [
    "OID_LDS_SECURITY_OBJECT",
    "SOD_TAG",
    "SODView",
    "parse_sod",
]

SOD_TAG = 0x77


@dataclass(frozen=True, slots=True)
class SODView:
    """The values of one EF.SOD that passive authentication needs."""

    hash_algorithm: str
    data_group_hashes: dict[int, bytes]
    lds_version: str | None
    signed: SignedParts


def _unwrap(data: bytes) -> bytes:
    if data[:1] == bytes([SOD_TAG]):
        return tlv.decode_one(data).value
    return data


def parse_sod(data: bytes) -> SODView:
    """Read an EF.SOD (tag 0x77 around a CMS ContentInfo, or the bare ContentInfo DER).

    Anything that does not decode raises :class:`DecodeError`.
    """
    signed = read_signed_data(_unwrap(bytes(data)), "EF.SOD")
    try:
        lso = LDSSecurityObject.load(signed.e_content)
        hashes: dict[int, bytes] = {}
        for item in lso["data_group_hash_values"]:
            number = int(item["data_group_number"].native)
            if not 1 <= number <= 16 or number in hashes:
                raise DecodeError(f"EF.SOD lists data group number {number} wrongly")
            hashes[number] = bytes(item["data_group_hash_value"].native)
        hash_name = str(lso["hash_algorithm"]["algorithm"].native)
        lds_version = None
        if isinstance(lso["lds_version_info"], LDSVersionInfo):
            lds_version = str(lso["lds_version_info"]["lds_version"].native)
    except DecodeError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        raise DecodeError(f"EF.SOD LDSSecurityObject does not decode: {exc}") from None
    return SODView(hash_name, hashes, lds_version, signed)
