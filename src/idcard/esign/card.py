"""Terminal side of the e-signature application: :class:`ESignCard` (docs/chip.md, "E-signature
on the card").

Each method is one or two commands of ISO/IEC 7816-4/-8 on a :class:`~idcard.transport.Transport`
(the in-process chip, PC/SC, or a :class:`~idcard.sm.SecureTransport` after
:meth:`ESignCard.open_personalization`). PINs travel as 8-byte blocks and never appear in
messages. A :class:`pki.keys.Signer` over a card lives in :mod:`pki.card_signer` (``idcard``
does not import ``pki``).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from idcard import tlv
from idcard.apdu import CommandAPDU, ResponseAPDU, StatusWord
from idcard.errors import CardStatusError, EncodeError
from idcard.esign.protocol import (
    ALG_ECDSA_PLAIN,
    ESIGN_AID,
    FID_CERTIFICATE,
    KEY_REF,
    KEY_TYPE_NAMES,
    PIN_REF,
    PUK_REF,
    PersoAuthProtocol,
    PublicKey,
    decode_public_key,
    pin_block,
    put_perso_key,
)
from idcard.protocols.base import drive
from idcard.sm import SecureTransport
from idcard.transport import Transport

__all__ = ["ESignCard", "PINBlockedError", "PINError"]

_CHUNK = 200
"""Data bytes per UPDATE/READ BINARY: a protected short APDU still fits with AES SM."""


class PINError(CardStatusError):
    """A wrong PIN or PUK (63Cx): ``tries_left`` more attempts before it blocks."""

    def __init__(self, sw: int, tries_left: int, what: str = "PIN") -> None:
        self.tries_left = tries_left
        super().__init__(sw, None, f"wrong {what}: {tries_left} tries left")


class PINBlockedError(PINError):
    """The PIN or PUK is blocked (6983); with the PUK blocked, signing is over for this card."""

    def __init__(self, what: str = "PIN") -> None:
        super().__init__(StatusWord.AUTH_METHOD_BLOCKED, 0, what)
        self.args = (f"the {what} is blocked",)


def _check(response: ResponseAPDU, command: CommandAPDU, what: str = "PIN") -> ResponseAPDU:
    sw = response.sw
    if sw & 0xFFF0 == 0x63C0:
        raise PINError(sw, sw & 0x0F, what)
    if sw == StatusWord.AUTH_METHOD_BLOCKED:
        raise PINBlockedError(what)
    return response.check(command)


class ESignCard:
    """The e-signature application on a card reached through ``transport``.

    ``extended`` allows extended-length APDUs (needed for RSA signatures and keys over 256
    bytes); :meth:`select` is called by the caller once per session.
    """

    def __init__(self, transport: Transport, *, extended: bool = True) -> None:
        self.transport = transport
        self.extended = extended
        self._rsa: bool | None = None

    def _send(self, command: CommandAPDU, what: str = "PIN") -> bytes:
        return _check(self.transport.transmit(command), command, what).data

    def _ne(self) -> int:
        return 65536 if self.extended else 256

    # -- selection and personalization ---------------------------------------------------------

    def select(self) -> None:
        """SELECT the application by its AID (drops any verified PIN of an earlier session)."""
        self._send(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, ESIGN_AID))

    def put_perso_key(self, k_perso: bytes) -> None:
        """PUT DATA 71: the card's personalization key (before the lock only)."""
        self._send(put_perso_key(k_perso))

    def open_personalization(
        self, k_perso: bytes, *, rng: Callable[[int], bytes] = os.urandom
    ) -> ESignCard:
        """Mutual authentication with K_perso; the returned card talks through the secure
        channel (key generation, initial PIN/PUK and certificate writing after the lock)."""
        channel = drive(PersoAuthProtocol(k_perso, rng=rng), self.transport)
        return ESignCard(SecureTransport(self.transport, channel), extended=self.extended)

    # -- keys ----------------------------------------------------------------------------------

    def generate_key(self, key_type: str = "ec-p256") -> PublicKey:
        """GENERATE ASYMMETRIC KEY PAIR (ISO/IEC 7816-8 §11.5) ``00 47 00 00`` with the CRT
        ``B6 { 84 key ref, 80 key type }``; the new public key (DO'7F49')."""
        kind = KEY_TYPE_NAMES.get(key_type)
        if kind is None:
            raise EncodeError(f"the card makes {', '.join(KEY_TYPE_NAMES)} keys, not {key_type}")
        crt = tlv.encode(0xB6, [tlv.encode(0x84, bytes([KEY_REF])),
                                tlv.encode(0x80, bytes([kind.ref]))])  # fmt: skip
        ne = self._ne() if kind.kind == "rsa" else 256
        key = decode_public_key(self._send(CommandAPDU(0x00, 0x47, 0x00, 0x00, crt, ne=ne)))
        self._rsa = kind.kind == "rsa"
        return key

    def public_key(self) -> PublicKey:
        """The public key of the signature key (``00 47 81 00``: read, anyone may)."""
        key = decode_public_key(self._send(CommandAPDU(0x00, 0x47, 0x81, 0x00, ne=self._ne())))
        self._rsa = not hasattr(key, "curve")
        return key

    # -- PIN and PUK ---------------------------------------------------------------------------

    def verify_pin(self, pin: str) -> None:
        """VERIFY ``00 20 00 81``; :class:`PINError` (tries left) or :class:`PINBlockedError`."""
        self._send(CommandAPDU(0x00, 0x20, 0x00, PIN_REF, pin_block(pin)))

    def pin_tries(self) -> int | None:
        """Tries left (VERIFY without data); None when the PIN is verified in this session."""
        try:
            self._send(CommandAPDU(0x00, 0x20, 0x00, PIN_REF))
        except PINBlockedError:
            return 0
        except PINError as exc:
            return exc.tries_left
        return None

    def change_pin(self, old: str, new: str) -> None:
        """CHANGE REFERENCE DATA ``00 24 00 81``: old ‖ new PIN blocks."""
        self._send(CommandAPDU(0x00, 0x24, 0x00, PIN_REF, pin_block(old) + pin_block(new)))

    def change_puk(self, old: str, new: str) -> None:
        data = pin_block(old, puk=True) + pin_block(new, puk=True)
        self._send(CommandAPDU(0x00, 0x24, 0x00, PUK_REF, data), "PUK")

    def set_initial_pin(self, pin: str) -> None:
        """``00 24 01 81``: the first PIN, while none is set (personalization only)."""
        self._send(CommandAPDU(0x00, 0x24, 0x01, PIN_REF, pin_block(pin)))

    def set_initial_puk(self, puk: str) -> None:
        self._send(CommandAPDU(0x00, 0x24, 0x01, PUK_REF, pin_block(puk, puk=True)), "PUK")

    def unblock_pin(self, puk: str, new_pin: str | None = None) -> None:
        """RESET RETRY COUNTER ``00 2C 00 81`` PUK ‖ new PIN (or ``01``: PUK only)."""
        data = pin_block(puk, puk=True)
        p1 = 0x01
        if new_pin is not None:
            data, p1 = data + pin_block(new_pin), 0x00
        self._send(CommandAPDU(0x00, 0x2C, p1, PIN_REF, data), "PUK")

    # -- signing -------------------------------------------------------------------------------

    def sign(self, data: bytes, algorithm: int = ALG_ECDSA_PLAIN) -> bytes:
        """MSE:SET DST (key 01, ``algorithm``) then PSO: COMPUTE DIGITAL SIGNATURE ``00 2A 9E 9A``
        over ``data`` (a hash, a DigestInfo or a padded block, as the algorithm says)."""
        mse = tlv.encode(0x84, bytes([KEY_REF])) + tlv.encode(0x80, bytes([algorithm]))
        self._send(CommandAPDU(0x00, 0x22, 0x41, 0xB6, mse))
        ne = self._ne() if algorithm >= 0x10 else 256
        return self._send(CommandAPDU(0x00, 0x2A, 0x9E, 0x9A, data, ne=ne))

    # -- certificate files ---------------------------------------------------------------------

    def read_file(self, fid: int = FID_CERTIFICATE) -> bytes | None:
        """SELECT the EF and READ BINARY to its end; None when the file does not exist."""
        response = self.transport.transmit(
            CommandAPDU(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big"))
        )
        if response.sw == StatusWord.FILE_NOT_FOUND:
            return None
        response.check()
        out = b""
        while True:
            command = CommandAPDU(0x00, 0xB0, len(out) >> 8, len(out) & 0xFF, ne=_CHUNK)
            response = self.transport.transmit(command)
            if response.sw in (StatusWord.END_OF_FILE, StatusWord.WRONG_P1P2) and not response.data:
                return out
            response.check(command)
            out += response.data
            if len(response.data) < _CHUNK:
                return out

    def write_file(self, data: bytes, fid: int = FID_CERTIFICATE) -> None:
        """CREATE FILE then UPDATE BINARY ``00 D7 fid`` (DO'54' offset, DO'53' data) in chunks."""
        spec = len(data).to_bytes(2, "big") + fid.to_bytes(2, "big")
        self._send(CommandAPDU(0x00, 0xE0, 0x00, 0x00, tlv.encode(0x63, spec)))
        for offset in range(0, len(data), _CHUNK):
            body = tlv.encode(0x54, offset.to_bytes(2, "big")) + tlv.encode(
                0x53, data[offset : offset + _CHUNK]
            )
            self._send(CommandAPDU(0x00, 0xD7, fid >> 8, fid & 0xFF, body))
