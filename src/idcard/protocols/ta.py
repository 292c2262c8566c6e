"""Terminal Authentication version 1 (BSI TR-03110-1 §3.5 v1.11; ICAO 9303-11 §7.1) — hazmat.

The terminal presents its CV certificate chain (link CVCAs, DV, IS), each with MSE:Set DST
(00 22 81 B6, DO'83' = the CAR) then PSO:Verify Certificate (00 2A 00 BE, body ‖ signature);
selects its key with MSE:Set AT (00 22 81 A4, DO'83' = the IS's CHR); fetches r_PICC with GET
CHALLENGE; and signs ID_PICC ‖ r_PICC ‖ Comp(PK_PCD) in EXTERNAL AUTHENTICATE (00 82 00 00),
PK_PCD being its ephemeral Chip Authentication key. ID_PICC is the document number and its check
digit after BAC (:func:`id_picc_from_document_number`), or Comp(chip's PACE ephemeral key).

The chip verifies the chain from its trusted CVCA and current date; the effective CHAT (AND of
the chain) decides which data groups open (DG3 fingerprints, DG4 iris).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Sequence

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU, StatusWord
from idcard.cvc.certificate import CVCertificate, CVPublicKey, Signer, verify_signature
from idcard.cvc.chain import check_link
from idcard.cvc.chat import CHAT, Role
from idcard.errors import AuthenticationError, DecodeError
from idcard.mrz import check_digit

__all__ = ["TAChip", "TAProtocol", "id_picc_from_document_number"]

_PROTOCOL = "TA"
Rng = Callable[[int], bytes]


def id_picc_from_document_number(document_number: str) -> bytes:
    """ID_PICC after BAC (TR-03110-1 v1.11 §3.5): document number ‖ its check digit, ASCII.

    The number is the MRZ field (filled with '<' to 9 characters when shorter).
    """
    number = document_number.upper().ljust(9, "<")
    return (number + check_digit(number)).encode("ascii")


class TAProtocol:
    """Terminal side of TA v1.

    ``chain``: the certificates to present, ending with the IS certificate; ``sign``: the IS
    key's :data:`~idcard.cvc.Signer`; ``id_picc`` and ``ephemeral_public_key_comp`` as above.
    The result is ``True`` once EXTERNAL AUTHENTICATE succeeded.
    """

    def __init__(
        self,
        chain: Sequence[CVCertificate],
        sign: Signer,
        *,
        id_picc: bytes,
        ephemeral_public_key_comp: bytes,
    ) -> None:
        if not chain:
            raise AuthenticationError("empty certificate chain", protocol=_PROTOCOL)
        self._chain = list(chain)
        self._sign = sign
        self._id_picc = id_picc
        self._comp = ephemeral_public_key_comp
        self._steps: list[tuple[str, CommandAPDU]] = []
        for cert in self._chain:
            self._steps.append(("MSE:Set DST", CommandAPDU(
                0x00, 0x22, 0x81, 0xB6, tlv.encode(0x83, cert.car.encode("latin-1")))))
            self._steps.append(("PSO:Verify Certificate", CommandAPDU(
                0x00, 0x2A, 0x00, 0xBE, cert.signature_body)))
        self._steps.append(("MSE:Set AT", CommandAPDU(
            0x00, 0x22, 0x81, 0xA4, tlv.encode(0x83, self._chain[-1].chr.encode("latin-1")))))
        self._steps.append(("GET CHALLENGE", CommandAPDU(0, 0x84, 0, 0, ne=8)))  # fmt: skip
        self._index = -1
        self.r_picc: bytes | None = None

    def start(self) -> CommandAPDU:
        if self._index != -1:
            raise AuthenticationError("protocol already started", protocol=_PROTOCOL)
        self._index = 0
        return self._steps[0][1]

    def receive(self, response: ResponseAPDU) -> CommandAPDU | bool:
        if self._index < 0 or self._index > len(self._steps):
            raise AuthenticationError("no response expected", protocol=_PROTOCOL)
        step = self._steps[self._index][0] if self._index < len(self._steps) else (
            "EXTERNAL AUTHENTICATE"
        )  # fmt: skip
        if not response.ok:
            self._index = len(self._steps) + 1
            raise AuthenticationError(f"chip answered {response.sw:04X}", protocol=_PROTOCOL,
                                      step=step)  # fmt: skip
        self._index += 1
        if self._index < len(self._steps):
            return self._steps[self._index][1]
        if self._index == len(self._steps):
            if len(response.data) != 8:
                raise AuthenticationError("challenge must be 8 bytes", protocol=_PROTOCOL,
                                          step=step)  # fmt: skip
            self.r_picc = response.data
            signature = self._sign(self._id_picc + response.data + self._comp)
            return CommandAPDU(0x00, 0x82, 0x00, 0x00, signature)
        return True


class TAChip:
    """Chip side of TA v1.

    ``trust_anchor``: the chip's CVCA certificate (with domain parameters); ``current_date``:
    the chip's notion of today (TR-03110-3 §2.5); ``id_picc`` and ``ephemeral_public_key_comp``
    from the preceding BAC/PACE and Chip Authentication. After success :attr:`granted` is the
    effective CHAT (:attr:`read_dg3` / :attr:`read_dg4`).
    """

    def __init__(
        self,
        trust_anchor: CVCertificate,
        current_date: datetime.date,
        *,
        id_picc: bytes,
        ephemeral_public_key_comp: bytes,
        rng: Rng = os.urandom,
    ) -> None:
        if trust_anchor.chat.role is not Role.CVCA:
            raise AuthenticationError("trust anchor is not a CVCA certificate", protocol=_PROTOCOL)
        self._anchor = trust_anchor
        self._date = current_date
        self._id_picc = id_picc
        self._comp = ephemeral_public_key_comp
        self._rng = rng
        self._known: dict[str, CVCertificate] = {trust_anchor.chr: trust_anchor}
        self._domain: CVPublicKey = trust_anchor.public_key
        self._chat: dict[str, CHAT] = {trust_anchor.chr: trust_anchor.chat}
        self._dst: str | None = None
        self._at: str | None = None
        self._challenge: bytes | None = None
        self.granted: CHAT | None = None
        self.failure: str | None = None

    @property
    def done(self) -> bool:
        return self.granted is not None

    @property
    def read_dg3(self) -> bool:
        return self.granted is not None and self.granted.read_dg3

    @property
    def read_dg4(self) -> bool:
        return self.granted is not None and self.granted.read_dg4

    def _refuse(self, reason: str, sw: int) -> ResponseAPDU:
        self.failure = reason
        return ResponseAPDU(b"", sw)

    def handle(self, command: CommandAPDU) -> ResponseAPDU:
        try:
            return self._handle(command)
        except DecodeError as exc:
            return self._refuse(f"malformed data: {exc}", StatusWord.WRONG_DATA)

    def _handle(self, command: CommandAPDU) -> ResponseAPDU:
        ins, p1p2 = command.ins, (command.p1, command.p2)
        if ins == 0x22 and p1p2 in ((0x81, 0xB6), (0x81, 0xA4)):
            ref = tlv.find(tlv.decode_all(command.data), 0x83)
            if ref is None:
                return self._refuse("MSE without DO'83'", StatusWord.WRONG_DATA)
            name = ref.value.decode("latin-1")
            if name not in self._known:
                return self._refuse(f"unknown key {name}", StatusWord.REFERENCED_DATA_NOT_FOUND)
            if p1p2 == (0x81, 0xB6):
                self._dst = name
            else:
                if self._known[name].chat.role is not Role.TERMINAL:
                    return self._refuse("MSE:Set AT names a non-terminal key",
                                        StatusWord.CONDITIONS_NOT_SATISFIED)  # fmt: skip
                self._at = name
            return ResponseAPDU(b"")
        if ins == 0x2A and p1p2 == (0x00, 0xBE):
            issuer_name, self._dst = self._dst, None
            if issuer_name is None:
                return self._refuse("no MSE:Set DST", StatusWord.CONDITIONS_NOT_SATISFIED)
            cert = CVCertificate.decode_body_and_signature(command.data)
            issuer = self._known[issuer_name]
            if cert.chr in self._known:
                return self._refuse(f"{cert.chr} is already known", StatusWord.WRONG_DATA)
            reason = check_link(issuer, self._domain, cert, self._date)
            if reason is not None:
                return self._refuse(f"{cert.chr}: {reason}", StatusWord.VERIFICATION_FAILED)
            self._known[cert.chr] = cert
            self._chat[cert.chr] = self._chat[issuer_name].restrict(cert.chat)
            if cert.chat.role is Role.CVCA and cert.public_key.has_domain_parameters:
                self._domain = cert.public_key
            return ResponseAPDU(b"")
        if ins == 0x84:
            if command.ne != 8:
                return self._refuse("GET CHALLENGE needs Le = 8", StatusWord.WRONG_LENGTH)
            self._challenge = self._rng(8)
            return ResponseAPDU(self._challenge)
        if ins == 0x82:
            challenge, self._challenge = self._challenge, None
            if challenge is None or self._at is None:
                return self._refuse("no challenge or no MSE:Set AT",
                                    StatusWord.CONDITIONS_NOT_SATISFIED)  # fmt: skip
            cert = self._known[self._at]
            data = self._id_picc + challenge + self._comp
            if not verify_signature(cert.public_key, data, command.data, self._domain):
                return self._refuse("terminal signature does not verify",
                                    StatusWord.VERIFICATION_FAILED)  # fmt: skip
            self.granted = self._chat[self._at]
            return ResponseAPDU(b"")
        return ResponseAPDU(b"", StatusWord.INS_NOT_SUPPORTED)
