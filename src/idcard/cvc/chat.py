"""Certificate Holder Authorization Template (BSI TR-03110-3 §C.1.5, §C.4).

A CHAT is DO'7F4C' holding the terminal type OID (DO'06') and the relative authorization as
discretionary data (DO'53'). Its first two bits give the role (11 CVCA, 10 DV official domestic,
01 DV non-official/foreign, 00 terminal); the remaining bits are access rights. For an
Inspection System (id-IS, one byte) b1 allows reading DG4 (iris) and b0 DG3 (fingerprints).
The effective authorization of a chain is the AND of every certificate's CHAT (TR-03110-3 §2.7).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from asn1crypto import core

from idcard import tlv
from idcard.errors import DecodeError

__all__ = ["CHAT", "ID_AT", "ID_IS", "ID_ST", "Role"]

ID_ROLES = "0.4.0.127.0.7.3.1.2"
ID_IS = f"{ID_ROLES}.1"
"""id-IS: Inspection System (TR-03110-3 §C.4.1), one byte of rights."""
ID_AT = f"{ID_ROLES}.2"
"""id-AT: Authentication Terminal (TR-03110-3 §C.4.2), five bytes of rights."""
ID_ST = f"{ID_ROLES}.3"
"""id-ST: Signature Terminal (TR-03110-3 §C.4.3), one byte of rights."""
_SIZES = {ID_IS: 1, ID_AT: 5, ID_ST: 1}


class Role(enum.IntEnum):
    """The two role bits of the CHAT (TR-03110-3 Table C.4)."""

    TERMINAL = 0b00
    DV_FOREIGN = 0b01
    DV_DOMESTIC = 0b10
    CVCA = 0b11


@dataclass(frozen=True, slots=True)
class CHAT:
    """Terminal type OID and the relative authorization bytes (role bits included)."""

    oid: str
    authorization: bytes

    def __post_init__(self) -> None:
        if not self.authorization:
            raise DecodeError("empty CHAT authorization")
        expected = _SIZES.get(self.oid)
        if expected is not None and len(self.authorization) != expected:
            raise DecodeError(f"CHAT of {self.oid} needs {expected} authorization bytes")

    @classmethod
    def inspection_system(cls, role: Role, *, dg3: bool = False, dg4: bool = False) -> CHAT:
        """An id-IS CHAT: role and the DG3 (fingerprint) / DG4 (iris) read bits."""
        return cls(ID_IS, bytes([(role << 6) | (dg4 << 1) | int(dg3)]))

    @property
    def role(self) -> Role:
        return Role(self.authorization[0] >> 6)

    @property
    def rights(self) -> int:
        """The authorization without the role bits, as an integer (bit 0 = last byte b0)."""
        value = int.from_bytes(self.authorization, "big")
        return value & ((1 << (8 * len(self.authorization) - 2)) - 1)

    def allows(self, bit: int) -> bool:
        return bool(self.rights >> bit & 1)

    @property
    def read_dg3(self) -> bool:
        """id-IS: read access to DG3 (fingerprints)."""
        return self.oid == ID_IS and self.allows(0)

    @property
    def read_dg4(self) -> bool:
        """id-IS: read access to DG4 (iris)."""
        return self.oid == ID_IS and self.allows(1)

    def restrict(self, other: CHAT) -> CHAT:
        """The AND of two CHATs' rights, keeping ``other``'s role (the subordinate's)."""
        if other.oid != self.oid or len(other.authorization) != len(self.authorization):
            raise DecodeError("CHATs of different terminal types cannot be combined")
        size = len(self.authorization)
        rights = self.rights & other.rights
        value = (other.authorization[0] >> 6) << (8 * size - 2) | rights
        return CHAT(self.oid, value.to_bytes(size, "big"))

    def encode(self) -> bytes:
        oid = core.ObjectIdentifier(self.oid).contents
        return tlv.encode(0x7F4C, tlv.encode(0x06, oid) + tlv.encode(0x53, self.authorization))

    @classmethod
    def decode_value(cls, value: bytes, *, base_offset: int = 0) -> CHAT:
        items = tlv.decode_all(value, base_offset=base_offset)
        oid = tlv.require(items, 0x06, "CHAT", offset=base_offset)
        auth = tlv.require(items, 0x53, "CHAT", offset=base_offset)
        try:
            dotted = core.ObjectIdentifier.load(b"\x06" + tlv.encode_length(len(oid.value))
                                                + oid.value).dotted  # fmt: skip
        except Exception:  # asn1crypto raises ValueError/TypeError on bad contents
            raise DecodeError("CHAT OID does not decode", offset=oid.offset) from None
        return cls(dotted, auth.value)

    @classmethod
    def decode(cls, data: bytes) -> CHAT:
        return cls.decode_value(tlv.decode_one(data, expected_tag=0x7F4C, allow_padding=False)
                                .value)  # fmt: skip
