"""Basic Access Control (ICAO Doc 9303-11 §4.3) — terminal and chip state machines. Hazmat.

The key seed is the first 16 bytes of SHA-1 over the MRZ information (document number, date of
birth, date of expiry, each with its check digit; §4.3.2). GET CHALLENGE fetches RND.IC, then
EXTERNAL AUTHENTICATE (the "mutual authenticate" step) exchanges E_IFD ‖ M_IFD and E_IC ‖ M_IC
(3DES-CBC with zero IV and the retail MAC, §4.3.3). The session keys come from K.IFD ⊕ K.IC and
the SSC from the low halves of both nonces (§4.3.3.3, Appendix D.3).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from idcard.apdu import CommandAPDU, ResponseAPDU, StatusWord
from idcard.crypto import KDF_ENC, KDF_MAC, Cipher, kdf
from idcard.errors import AuthenticationError, EncodeError
from idcard.mrz import check_digit
from idcard.sm import SecureChannel, SessionKeys, decrypt_cbc, encrypt_cbc, token_mac

__all__ = [
    "BACChip",
    "BACKeys",
    "BACProtocol",
    "BACResult",
    "cryptogram",
    "derive_keys",
    "key_seed",
    "mrz_information",
    "open_cryptogram",
    "session_channel",
]

Rng = Callable[[int], bytes]
_PROTOCOL = "BAC"
_GET_CHALLENGE = CommandAPDU(0x00, 0x84, 0x00, 0x00, ne=8)


def mrz_information(document_number: str, birth_date: str, expiry_date: str) -> str:
    """MRZ_information of 9303-11 §4.3.2 (Appendix D.2): each field followed by its check digit.

    A document number shorter than 9 characters is filled with '<'; a longer one is used in
    full, followed by the check digit computed over all of it (Appendix D.2).
    """
    number = document_number.upper().replace(" ", "")
    if not number:
        raise EncodeError("document number is empty")
    if len(number) < 9:
        number = number.ljust(9, "<")
    for name, value in (("birth date", birth_date), ("expiry date", expiry_date)):
        if len(value) != 6 or not value.isdigit():
            raise EncodeError(f"{name} must be YYMMDD")
    return (
        number + check_digit(number)
        + birth_date + check_digit(birth_date)
        + expiry_date + check_digit(expiry_date)
    )  # fmt: skip


def key_seed(document_number: str, birth_date: str, expiry_date: str) -> bytes:
    """K_seed: the first 16 bytes of SHA-1(MRZ_information) (9303-11 §4.3.2, Appendix D.2)."""
    info = mrz_information(document_number, birth_date, expiry_date).encode("ascii")
    return hashlib.sha1(info).digest()[:16]  # noqa: S324 - Doc 9303 prescribes SHA-1


@dataclass(frozen=True, slots=True)
class BACKeys:
    """K_enc and K_mac derived from the key seed (9303-11 §9.7.1, Appendix D.2)."""

    k_enc: bytes = field(repr=False)
    k_mac: bytes = field(repr=False)


def derive_keys(seed: bytes) -> BACKeys:
    """Document basic access keys from K_seed (KDF with counters 1 and 2, 3DES)."""
    if len(seed) != 16:
        raise EncodeError("BAC key seed must be 16 bytes")
    return BACKeys(kdf(seed, KDF_ENC, "3DES"), kdf(seed, KDF_MAC, "3DES"))


@dataclass(frozen=True, slots=True)
class BACResult:
    """The outcome of BAC: the secure channel (session keys and SSC, Appendix D.3)."""

    channel: SecureChannel

    @property
    def keys(self) -> SessionKeys:
        return self.channel.keys


# The mutual-authentication building blocks below are not bound to 3DES or 8-byte nonces, so
# that constructions of the same shape with AES (the e-signature personalization) call them.


def session_channel(
    cipher: Cipher, k_ifd: bytes, k_ic: bytes, rnd_ic: bytes, rnd_ifd: bytes
) -> SecureChannel:
    """The channel after mutual authentication: session keys from K.IFD ⊕ K.IC (9303-11
    §9.7.1), SSC = the low halves of RND.IC and RND.IFD (§9.8.2; Appendix D.3 for BAC)."""
    seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
    half = len(rnd_ic) // 2
    return SecureChannel(SessionKeys.derive(cipher, seed), rnd_ic[half:] + rnd_ifd[half:])


def cryptogram(keys: SessionKeys, plain: bytes) -> bytes:
    """E ‖ M of 9303-11 §4.3.3: CBC with zero IV under K_enc, then the 8-byte MAC of E under
    K_mac (retail MAC for 3DES, CMAC for AES: :func:`~idcard.sm.token_mac`)."""
    e = encrypt_cbc(keys.cipher, keys.ks_enc, plain)
    return e + token_mac(keys.cipher, keys.ks_mac, e)


def open_cryptogram(keys: SessionKeys, data: bytes, length: int) -> bytes | None:
    """The ``length`` plain bytes of E ‖ M after checking M; None when the length is not
    ``length`` + 8 or the MAC does not verify."""
    if len(data) != length + 8:
        return None
    e, m = data[:-8], data[-8:]
    if not hmac.compare_digest(token_mac(keys.cipher, keys.ks_mac, e), m):
        return None
    return decrypt_cbc(keys.cipher, keys.ks_enc, e)


def _access_keys(seed: bytes) -> SessionKeys:
    keys = derive_keys(seed)
    return SessionKeys("3DES", keys.k_enc, keys.k_mac)


def _rand(rng: Rng, n: int, step: str) -> bytes:
    value = rng(n)
    if len(value) != n:
        raise AuthenticationError(f"rng returned {len(value)} bytes, not {n}", protocol=_PROTOCOL,
                                  step=step)  # fmt: skip
    return value


class BACProtocol:
    """Terminal side of BAC: ``start()`` → GET CHALLENGE, then EXTERNAL AUTHENTICATE, then a
    :class:`BACResult`. ``rng`` supplies RND.IFD (8 bytes) then K.IFD (16 bytes)."""

    def __init__(self, seed: bytes, *, rng: Rng = os.urandom) -> None:
        self._keys = _access_keys(seed)
        self._rng = rng
        self._state = "new"
        self._rnd_ifd = b""
        self._rnd_ic = b""
        self._k_ifd = b""

    def start(self) -> CommandAPDU:
        if self._state != "new":
            raise AuthenticationError("protocol already started", protocol=_PROTOCOL)
        self._state = "challenge"
        return _GET_CHALLENGE

    def receive(self, response: ResponseAPDU) -> CommandAPDU | BACResult:
        if self._state == "challenge":
            if not response.ok or len(response.data) != 8:
                raise AuthenticationError(
                    f"GET CHALLENGE answered {response.sw:04X} with {len(response.data)} bytes",
                    protocol=_PROTOCOL, step="GET CHALLENGE",
                )  # fmt: skip
            self._rnd_ic = response.data
            self._rnd_ifd = _rand(self._rng, 8, "EXTERNAL AUTHENTICATE")
            self._k_ifd = _rand(self._rng, 16, "EXTERNAL AUTHENTICATE")
            s = self._rnd_ifd + self._rnd_ic + self._k_ifd
            self._state = "mutual"
            return CommandAPDU(0x00, 0x82, 0x00, 0x00, cryptogram(self._keys, s), ne=40)
        if self._state == "mutual":
            self._state = "failed"
            step = "EXTERNAL AUTHENTICATE"
            if not response.ok:
                raise AuthenticationError(
                    f"chip refused the authentication ({response.sw:04X}): wrong MRZ data?",
                    protocol=_PROTOCOL, step=step,
                )  # fmt: skip
            r = open_cryptogram(self._keys, response.data, 32)
            if r is None:
                raise AuthenticationError("chip cryptogram MAC does not verify",
                                          protocol=_PROTOCOL, step=step)  # fmt: skip
            if r[:8] != self._rnd_ic or r[8:16] != self._rnd_ifd:
                raise AuthenticationError("chip cryptogram does not echo the nonces",
                                          protocol=_PROTOCOL, step=step)  # fmt: skip
            self._state = "done"
            channel = session_channel("3DES", self._k_ifd, r[16:32], self._rnd_ic, self._rnd_ifd)
            return BACResult(channel)
        raise AuthenticationError(f"no response expected in state {self._state}",
                                  protocol=_PROTOCOL)  # fmt: skip


class BACChip:
    """Chip side of BAC. ``rng`` supplies RND.IC (8 bytes) then K.IC (16 bytes).

    After a successful EXTERNAL AUTHENTICATE, :attr:`result` holds the chip's secure channel. A
    cryptogram that does not verify gets 6300 and the chip forgets its challenge.
    """

    def __init__(self, seed: bytes, *, rng: Rng = os.urandom) -> None:
        self._keys = _access_keys(seed)
        self._rng = rng
        self._rnd_ic: bytes | None = None
        self.result: BACResult | None = None

    @property
    def done(self) -> bool:
        return self.result is not None

    def handle(self, command: CommandAPDU) -> ResponseAPDU:
        if command.cla != 0x00:
            return ResponseAPDU(b"", StatusWord.CLA_NOT_SUPPORTED)
        if command.ins == 0x84:
            if command.p1 or command.p2 or command.data or command.ne != 8:
                return ResponseAPDU(b"", StatusWord.WRONG_LENGTH)
            self._rnd_ic = _rand(self._rng, 8, "GET CHALLENGE")
            return ResponseAPDU(self._rnd_ic)
        if command.ins == 0x82:
            rnd_ic, self._rnd_ic = self._rnd_ic, None
            if rnd_ic is None:
                return ResponseAPDU(b"", StatusWord.CONDITIONS_NOT_SATISFIED)
            s = open_cryptogram(self._keys, command.data, 32)
            if s is None or s[8:16] != rnd_ic:
                return ResponseAPDU(b"", StatusWord.VERIFICATION_FAILED)
            rnd_ifd, k_ifd = s[:8], s[16:32]
            k_ic = _rand(self._rng, 16, "EXTERNAL AUTHENTICATE")
            channel = session_channel("3DES", k_ifd, k_ic, rnd_ic, rnd_ifd)
            self.result = BACResult(channel)
            return ResponseAPDU(cryptogram(self._keys, rnd_ic + rnd_ifd + k_ic))
        return ResponseAPDU(b"", StatusWord.INS_NOT_SUPPORTED)
