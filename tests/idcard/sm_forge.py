"""Protected APDUs built from the published primitives alone (9303-11 §9.8.5), independent of
:class:`idcard.sm.SecureChannel`: with a correct MAC around any data objects, so that the tests
reach the checks after the MAC (cryptogram length, padding, indicator, DO order, Le)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.sm import block_size, cmac8, encrypt_cbc, pad, retail_mac

__all__ = ["Forge", "exact"]


def exact(message: str) -> str:
    """A ``pytest.raises(match=...)`` pattern for exactly ``message``."""
    return f"^{re.escape(message)}$"


@dataclass(frozen=True)
class Forge:
    """Keys of one session; ``ssc`` arguments are the counter value the MAC is computed with."""

    cipher: str
    ks_enc: bytes
    ks_mac: bytes

    @property
    def block(self) -> int:
        return block_size(self.cipher)

    def ssc(self, value: int) -> bytes:
        return (value % (1 << (8 * self.block))).to_bytes(self.block, "big")  # wraps around

    def mac(self, ssc: int, data: bytes) -> bytes:
        n = pad(self.ssc(ssc) + data, self.block)
        if self.cipher == "3DES":
            return retail_mac(self.ks_mac, n)
        return cmac8(self.ks_mac, n)

    def cryptogram(self, ssc: int, padded: bytes) -> bytes:
        """CBC of already padded plaintext: zero IV for 3DES, IV = E(KSenc, SSC) for AES."""
        iv = None
        if self.cipher != "3DES":
            iv = encrypt_cbc(self.cipher, self.ks_enc, self.ssc(ssc))  # type: ignore[arg-type]
        return encrypt_cbc(self.cipher, self.ks_enc, padded, iv)  # type: ignore[arg-type]

    def command(
        self, ssc: int, header: bytes, objects: bytes, *, le: bool = True, mac_len: int = 8
    ) -> CommandAPDU:
        """A protected command: CLA INS P1 P2 ``header`` (CLA with SM bits), ``objects`` then
        DO'8E' over the padded header and the objects; Le 00 unless ``le`` is false."""
        mac = self.mac(ssc, pad(header, self.block) + objects)[:mac_len]
        cla, ins, p1, p2 = header
        data = objects + tlv.encode(0x8E, mac)
        return CommandAPDU(cla, ins, p1, p2, data, ne=256 if le else None)

    def response(self, ssc: int, objects: bytes, sw: int = 0x9000) -> ResponseAPDU:
        """A protected response: ``objects`` (DO'87'/'85' and DO'99' as given) then DO'8E'."""
        return ResponseAPDU(objects + tlv.encode(0x8E, self.mac(ssc, objects)), sw)
