"""Secure messaging (ICAO Doc 9303-11 §9.8; ISO/IEC 7816-4 §10) — hazmat.

After BAC, PACE or Chip Authentication every APDU is protected: command data in DO'87' (with the
padding-content indicator 01) or DO'85' (odd INS, BER-TLV data, no indicator), the expected
length in DO'97', the response status in DO'99' and a cryptographic checksum in DO'8E'. The send
sequence counter (SSC) is incremented before each command MAC and before each response MAC.

Two cipher families (9303-11 §9.8.6):

* ``3DES``: two-key 3DES-CBC with zero IV; ISO/IEC 9797-1 MAC algorithm 3 ("retail MAC",
  DES with K1 then 3DES on the last block) with padding method 2; SSC of 8 bytes.
* ``AES-128/192/256``: AES-CBC with IV = E(KSenc, SSC); AES-CMAC truncated to 8 bytes over the
  padded input; SSC of 16 bytes.

:class:`SecureChannel` is the explicit state (frozen :class:`SessionKeys`, visible SSC) with the
terminal methods :meth:`~SecureChannel.wrap` / :meth:`~SecureChannel.unwrap` and the chip methods
:meth:`~SecureChannel.unwrap_command` / :meth:`~SecureChannel.wrap_response`. Any MAC, padding or
structure failure raises :class:`~idcard.errors.SecureMessagingError` and closes the channel for
good; no data of a failed response is returned. :class:`SecureTransport` wraps a transport;
:class:`SecureChipSession` puts a channel in front of a chip-side command handler.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher as _Cipher
from cryptography.hazmat.primitives.ciphers import algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from idcard import tlv
from idcard.apdu import SHORT_MAX_NC, SHORT_MAX_NE, CommandAPDU, ResponseAPDU
from idcard.crypto import CIPHERS, KDF_ENC, KDF_MAC, Cipher, kdf
from idcard.errors import DecodeError, EncodeError, SecureMessagingError
from idcard.transport import Transport

__all__ = [
    "SM_CLA",
    "SecureChannel",
    "SecureChipSession",
    "SecureTransport",
    "SessionKeys",
    "UnprotectedResponseError",
    "block_size",
    "cmac8",
    "decrypt_cbc",
    "encrypt_cbc",
    "pad",
    "retail_mac",
    "token_mac",
    "unpad",
]

SM_CLA = 0x0C
"""CLA bits b4 b3 set: secure messaging, command header authenticated (ISO/IEC 7816-4 §5.4.1)."""

_SW_MISSING = 0x6987
_SW_INCORRECT = 0x6988
_MAC_LEN = 8
_DO8E = b"\x8e\x08"  # DO'8E' tag and length: the MAC is always 8 bytes
_DO99 = b"\x99\x02"

_Object = tuple[int, int, int, int]
"""A data object found in protected data: tag, offset of the tag, start and end of the value."""


def _objects(data: bytes) -> list[_Object] | None:
    """The data objects that fill ``data`` exactly, or None when it is not such a sequence
    (the checks of :func:`idcard.tlv.decode_all`, without copying the values)."""
    found: list[_Object] = []
    pos = 0
    size = len(data)
    try:
        while pos < size:
            tag = data[pos]
            length = data[pos + 1] if pos + 1 < size else 0x80
            if tag & 0x1F == 0x1F or length & 0x80:  # multi-byte tag or long length form
                tag, start, end = tlv.read_header(data, pos)
            else:
                start = pos + 2
                end = start + length
            if end > size:
                return None
            found.append((tag, pos, start, end))
            pos = end
    except DecodeError:
        return None
    return found


def block_size(cipher: str) -> int:
    """Cipher block size in bytes: 8 for 3DES, 16 for AES."""
    if cipher == "3DES":
        return 8
    if cipher in CIPHERS:
        return 16
    raise EncodeError(f"unknown cipher {cipher!r}; expected one of {', '.join(CIPHERS)}")


def pad(data: bytes, block: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2: 0x80 then zeros up to a multiple of ``block``."""
    data = bytes(data) + b"\x80"
    return data + b"\x00" * (-len(data) % block)


def unpad(data: bytes, block: int) -> bytes:
    """Remove padding method 2 from ``block``-aligned data: the 0x80 and its zeros must lie in
    the last block (fewer than ``block`` zeros); :class:`SecureMessagingError` otherwise."""
    stripped = data.rstrip(b"\x00")
    if (
        len(data) % block
        or not stripped
        or stripped[-1] != 0x80
        or len(data) - len(stripped) >= block
    ):
        raise SecureMessagingError("invalid padding in decrypted data")
    return stripped[:-1]


def _check_des_key(key: bytes) -> None:
    if len(key) not in (16, 24):
        raise EncodeError(f"3DES key must be 16 or 24 bytes, got {len(key)}")


def _des3(key: bytes) -> TripleDES:
    """TripleDES from an 8-, 16- or 24-byte key, expanded to the 24-byte keying option
    (K1 K1 K1 is single DES, K1 K2 K1 two-key 3DES) that ``cryptography`` keeps supporting."""
    if len(key) == 8:
        key = key * 3
    elif len(key) == 16:
        key = key + key[:8]
    return TripleDES(key)


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 with DES (9303-11 §9.8.6.1) over already padded ``data``.

    Single DES with K1 in CBC over every block, then E_K1(D_K2(·)) on the last: that last step
    is exactly two-key 3DES, so ``cryptography``'s TripleDES does both.
    """
    _check_des_key(key)
    if not data or len(data) % 8:
        raise EncodeError("retail MAC input must be a non-empty multiple of 8 bytes")
    k1, k2 = key[:8], key[8:16]
    h = b"\x00" * 8
    if len(data) > 8:
        enc = _Cipher(_des3(k1), modes.CBC(h)).encryptor()
        h = (enc.update(data[:-8]) + enc.finalize())[-8:]
    last = bytes(a ^ b for a, b in zip(h, data[-8:], strict=True))
    final = _Cipher(_des3(k1 + k2), modes.ECB()).encryptor()  # noqa: S305 - one block
    return final.update(last) + final.finalize()


def cmac8(key: bytes, data: bytes) -> bytes:
    """AES-CMAC (NIST SP 800-38B) truncated to 8 bytes (9303-11 §9.8.6.2)."""
    c = CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()[:_MAC_LEN]


def token_mac(cipher: str, key: bytes, data: bytes) -> bytes:
    """MAC of an unpadded message as PACE/CA authentication tokens use it (9303-11 §4.4.3.4):
    3DES pads (method 2) and uses the retail MAC, AES uses CMAC directly; 8 bytes either way."""
    if cipher == "3DES":
        return retail_mac(key, pad(data, 8))
    block_size(cipher)
    return cmac8(key, data)


def _algorithm(cipher: str, key: bytes) -> algorithms.AES | TripleDES:
    if cipher == "3DES":
        _check_des_key(key)
        return _des3(key)
    size = {"AES-128": 16, "AES-192": 24, "AES-256": 32}.get(cipher)
    if size is None:
        raise EncodeError(f"unknown cipher {cipher!r}; expected one of {', '.join(CIPHERS)}")
    if len(key) != size:
        raise EncodeError(f"{cipher} key must be {size} bytes, got {len(key)}")
    return algorithms.AES(key)


def encrypt_cbc(cipher: str, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
    """CBC encryption of block-aligned ``data`` (zero IV unless given)."""
    algo = _algorithm(cipher, key)
    enc = _Cipher(algo, modes.CBC(iv or b"\x00" * (algo.block_size // 8))).encryptor()
    return enc.update(data) + enc.finalize()


def decrypt_cbc(cipher: str, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
    """CBC decryption of block-aligned ``data`` (zero IV unless given)."""
    algo = _algorithm(cipher, key)
    dec = _Cipher(algo, modes.CBC(iv or b"\x00" * (algo.block_size // 8))).decryptor()
    return dec.update(data) + dec.finalize()


@dataclass(frozen=True, slots=True)
class SessionKeys:
    """The secure-messaging keys of one session (never printed)."""

    cipher: Cipher
    ks_enc: bytes = field(repr=False)
    ks_mac: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _algorithm(self.cipher, self.ks_enc)
        _algorithm(self.cipher, self.ks_mac)

    @classmethod
    def derive(cls, cipher: Cipher, secret: bytes) -> SessionKeys:
        """KS_enc = KDF(K, 1) and KS_mac = KDF(K, 2) from a shared secret (9303-11 §9.7.1)."""
        return cls(cipher, kdf(secret, KDF_ENC, cipher), kdf(secret, KDF_MAC, cipher))


class UnprotectedResponseError(SecureMessagingError):
    """The card answered without secure messaging (e.g. 6987/6988: it ended the session)."""

    def __init__(self, sw: int) -> None:
        self.sw = sw
        super().__init__(f"unprotected response {sw:04X}: the card ended secure messaging")


class SecureChannel:
    """Secure-messaging state of one session: frozen keys and the visible send sequence counter.

    The same object serves the terminal (:meth:`wrap`, :meth:`unwrap`) and the chip
    (:meth:`unwrap_command`, :meth:`wrap_response`). After any failure :attr:`closed` is true and
    every further call raises :class:`SecureMessagingError`.
    """

    __slots__ = (
        "_block", "_cbc", "_cbc_dec", "_chain", "_closed", "_cmac", "_ecb", "_enc_algo",
        "_failure_sw", "_last_ins", "_ssc", "keys",
    )  # fmt: skip

    def __init__(self, keys: SessionKeys, ssc: int | bytes = 0) -> None:
        self.keys = keys
        self._block = block_size(keys.cipher)
        if isinstance(ssc, bytes | bytearray):
            if len(ssc) != self._block:
                raise EncodeError(f"SSC must be {self._block} bytes for {keys.cipher}")
            ssc = int.from_bytes(ssc, "big")
        if not 0 <= ssc < 1 << (8 * self._block):
            raise EncodeError("SSC out of range")
        self._ssc = ssc
        self._closed = False
        self._failure_sw: int | None = None
        self._last_ins: int | None = None
        self._enc_algo = _algorithm(keys.cipher, keys.ks_enc)
        # Reused contexts: ECB is stateless (IV = E(KSenc, SSC)), a CMAC context is copied.
        self._ecb = _Cipher(self._enc_algo, modes.ECB()).encryptor()  # noqa: S305
        # one CBC decryptor for the session, see _decrypt
        self._cbc_dec = _Cipher(self._enc_algo, modes.CBC(bytes(self._block))).decryptor()
        self._cmac = None if keys.cipher == "3DES" else CMAC(algorithms.AES(keys.ks_mac))
        # AES: one CBC encryptor for the session; _chain is its chaining value (the last
        # block it gave out), see _encrypt
        self._cbc = None
        if self._cmac is not None:
            self._cbc = _Cipher(self._enc_algo, modes.CBC(bytes(16))).encryptor()
        self._chain = 0

    @classmethod
    def from_keys(
        cls, cipher: Cipher, ks_enc: bytes, ks_mac: bytes, ssc: int | bytes = 0
    ) -> SecureChannel:
        return cls(SessionKeys(cipher, ks_enc, ks_mac), ssc)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"SecureChannel({self.keys.cipher}, ssc={self.ssc_bytes.hex().upper()}, {state})"

    # -- state -------------------------------------------------------------------------------

    @property
    def cipher(self) -> Cipher:
        return self.keys.cipher

    @property
    def ssc(self) -> int:
        """The send sequence counter now (before the next increment)."""
        return self._ssc

    @property
    def ssc_bytes(self) -> bytes:
        return self._ssc.to_bytes(self._block, "big")

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def failure_sw(self) -> int | None:
        """Chip side: 6987 (SM objects missing) or 6988 (incorrect) after a refused command."""
        return self._failure_sw

    def close(self) -> None:
        """End the session: every further use raises."""
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise SecureMessagingError("secure messaging channel is closed")

    def _fail(self, message: str, sw: int = _SW_INCORRECT) -> SecureMessagingError:
        self._closed = True
        self._failure_sw = sw
        return SecureMessagingError(message)

    def _next_ssc(self) -> bytes:
        self._ssc = (self._ssc + 1) % (1 << (8 * self._block))
        return self._ssc.to_bytes(self._block, "big")

    # -- primitives ----------------------------------------------------------------------------

    def _mac(self, ssc: bytes, data: bytes) -> bytes:
        n = ssc + data + b"\x80"
        n += bytes(-len(n) % self._block)  # padding method 2
        if self._cmac is None:
            return retail_mac(self.keys.ks_mac, n)
        c = self._cmac.copy()
        c.update(n)
        return c.finalize()[:_MAC_LEN]

    def _iv(self, ssc: bytes) -> bytes:
        if self._cmac is None:
            return b"\x00" * 8
        return self._ecb.update(ssc)

    def _encrypt(self, ssc: bytes, data: bytes) -> bytes:
        if self._cbc is None:  # 3DES: zero IV
            enc = _Cipher(self._enc_algo, modes.CBC(bytes(8))).encryptor()
            return enc.update(pad(data, 8)) + enc.finalize()
        # AES with IV = E(KSenc, SSC) through the session's one CBC encryptor: a first block
        # SSC XOR its chaining value comes out as E(SSC) = IV, and the data then chains on from
        # the IV exactly as CBC started with that IV would.
        first = (int.from_bytes(ssc, "big") ^ self._chain).to_bytes(16, "big")
        out = self._cbc.update(first + data + b"\x80" + bytes(-(len(data) + 1) % 16))
        self._chain = int.from_bytes(out[-16:], "big")
        return out[16:]

    def _decrypt(self, ssc: bytes, data: bytes) -> bytes:
        if not data or len(data) % self._block:
            raise self._fail("encrypted data is not a whole number of blocks")
        # The session's one CBC decryptor: each plain block is D(block) XOR the cipher block
        # before it, so the IV fed as a block of its own makes the data decrypt exactly as CBC
        # started with that IV would (the first block out is discarded).
        plain = self._cbc_dec.update(self._iv(ssc) + data)[self._block :]
        try:
            return unpad(plain, self._block)
        except SecureMessagingError as exc:
            raise self._fail(str(exc)) from None

    def _encrypt_do(self, ssc: bytes, data: bytes, *, odd: bool) -> bytes:
        """DO'85' (odd INS: BER-TLV data, no indicator) or DO'87' (01 ‖ cryptogram); nothing
        for empty data (9303-11 §9.8.5)."""
        if not data:
            return b""
        crypt = self._encrypt(ssc, data)
        if odd:
            return b"\x85" + tlv.encode_length(len(crypt)) + crypt
        return b"\x87" + tlv.encode_length(len(crypt) + 1) + b"\x01" + crypt

    def _decrypt_do(self, ssc: bytes, data: bytes, crypt_do: _Object) -> bytes:
        """The plain data of DO'85' or DO'87' (whose value starts with the indicator 01)."""
        tag, _, start, end = crypt_do
        if tag == 0x87:
            if start == end or data[start] != 0x01:
                raise self._fail("DO'87' without padding-content indicator 01")
            start += 1
        return self._decrypt(ssc, data[start:end])

    def _header(self, cla: int, ins: int, p1: int, p2: int) -> bytes:
        return bytes((cla, ins, p1, p2, 0x80)) + bytes(self._block - 5)  # padding method 2

    # -- terminal side -----------------------------------------------------------------------

    def wrap(self, command: CommandAPDU) -> CommandAPDU:
        """Protect a command (9303-11 §9.8.5): the next SSC, DO'87'/'85', DO'97', DO'8E'."""
        if self._closed:
            self._check_open()  # raises
        if command.cla & SM_CLA:
            raise EncodeError("command already carries secure-messaging CLA bits")
        cla = command.cla | SM_CLA
        ssc = self._next_ssc()
        body = self._encrypt_do(ssc, command.data, odd=bool(command.ins & 1))
        if command.ne is not None:
            le_len = 1 if command.ne <= SHORT_MAX_NE else 2
            le = (command.ne % (1 << (8 * le_len))).to_bytes(le_len, "big")
            body += bytes((0x97, le_len)) + le
        mac = self._mac(ssc, self._header(cla, command.ins, command.p1, command.p2) + body)
        body += _DO8E + mac
        extended = (
            command.is_extended
            or len(body) > SHORT_MAX_NC
            or (command.ne is not None and command.ne > SHORT_MAX_NE)
        )
        # Ne 65536 (Le 0000) makes the APDU extended, 256 (Le 00) keeps it short
        return CommandAPDU(cla, command.ins, command.p1, command.p2, body,
                           ne=65536 if extended else 256)  # fmt: skip

    def unwrap(self, response: ResponseAPDU | bytes) -> ResponseAPDU:
        """Verify and decrypt a protected response (9303-11 §9.8.5): the next SSC, DO'99' MAC.

        An answer without SM objects (the card refused the command and ended SM) raises
        :class:`UnprotectedResponseError`; the channel is closed either way.
        """
        if self._closed:
            self._check_open()  # raises
        if isinstance(response, (bytes, bytearray)):
            if len(response) < 2:
                raise self._fail("response shorter than a status word")
            response = ResponseAPDU.decode(bytes(response))
        ssc = self._next_ssc()
        data = response.data
        if not data:
            self._closed = True
            raise UnprotectedResponseError(response.sw)
        items = _objects(data)
        if items is None:
            raise self._fail("protected response is not a sequence of data objects")
        crypt_do = None
        if items[0][0] in (0x85, 0x87):
            crypt_do = items[0]
            items = items[1:]
        if len(items) != 2 or items[0][0] != 0x99 or items[1][0] != 0x8E:
            raise self._fail("protected response needs DO'99' then DO'8E'")
        (_, _, start99, end99), (_, at8e, start8e, end8e) = items
        if end99 - start99 != 2 or end8e - start8e != _MAC_LEN:
            raise self._fail("malformed DO'99' or DO'8E'")
        if not hmac.compare_digest(self._mac(ssc, data[:at8e]), data[start8e:end8e]):
            raise self._fail("response MAC does not verify")
        sw = int.from_bytes(data[start99:end99], "big")
        if sw != response.sw:
            raise self._fail("status word differs from the authenticated DO'99'")
        plain = b"" if crypt_do is None else self._decrypt_do(ssc, data, crypt_do)
        return ResponseAPDU(plain, sw)

    # -- chip side ------------------------------------------------------------------------------

    def unwrap_command(self, command: CommandAPDU | bytes) -> CommandAPDU:
        """Chip side: verify and decrypt a protected command; the plain command comes back.

        On failure the channel closes and :attr:`failure_sw` says what to answer unprotected
        (6987 objects missing, 6988 incorrect), as 9303-11 §9.8.2 prescribes.
        """
        if self._closed:
            self._check_open()  # raises
        if isinstance(command, (bytes, bytearray)):
            try:
                command = CommandAPDU.decode(bytes(command))
            except DecodeError:
                raise self._fail("protected command does not decode") from None
        if command.cla & SM_CLA != SM_CLA:
            raise self._fail("command without secure messaging", _SW_MISSING)
        ssc = self._next_ssc()
        if command.ne != (65536 if command.is_extended else 256):
            # the response always carries DO'99' and DO'8E' (ISO/IEC 7816-4 Annex: Le = 00)
            raise self._fail("protected command must have Le = 00 (or 0000 extended)")
        protected = command.data
        items = _objects(protected)
        if items is None:
            raise self._fail("protected command is not a sequence of data objects")
        if not items or items[-1][0] != 0x8E:
            raise self._fail("protected command without DO'8E'", _SW_MISSING)
        crypt_do = le_do = None
        rest = items[:-1]
        if rest and rest[0][0] in (0x85, 0x87):
            crypt_do, rest = rest[0], rest[1:]
        if rest and rest[0][0] == 0x97:
            le_do, rest = rest[0], rest[1:]
        if rest:
            raise self._fail("unexpected data objects in protected command")
        _, at8e, start8e, end8e = items[-1]
        if end8e - start8e != _MAC_LEN:
            raise self._fail("malformed DO'8E'")
        header = self._header(command.cla, command.ins, command.p1, command.p2)
        mac = self._mac(ssc, header + protected[:at8e])
        if not hmac.compare_digest(mac, protected[start8e:end8e]):
            raise self._fail("command MAC does not verify")
        data = b""
        if crypt_do is not None:
            if (crypt_do[0] == 0x85) != bool(command.ins & 1):
                raise self._fail("DO'85' is for odd INS, DO'87' for even INS")
            data = self._decrypt_do(ssc, protected, crypt_do)
        ne: int | None = None
        if le_do is not None:
            v = protected[le_do[2] : le_do[3]]
            if len(v) > 2:
                raise self._fail("DO'97' longer than 2 bytes")
            limit = 65536 if len(v) == 2 else SHORT_MAX_NE
            ne = int.from_bytes(v, "big") or limit
        self._last_ins = command.ins
        # always a valid command: the header comes from a decoded APDU, the data is shorter
        # than the protected data, and 1 <= ne <= 65536
        return _valid_command(command.cla & ~SM_CLA & 0xFF, command.ins, command.p1, command.p2,
                              data, ne)  # fmt: skip

    def wrap_response(self, response: ResponseAPDU) -> ResponseAPDU:
        """Chip side: protect a response (DO'87' or DO'85' for odd INS, DO'99', DO'8E')."""
        if self._closed:
            self._check_open()  # raises
        ssc = self._next_ssc()
        odd = self._last_ins is not None and bool(self._last_ins & 1)
        body = self._encrypt_do(ssc, response.data, odd=odd)
        body += _DO99 + response.sw.to_bytes(2, "big")
        body += _DO8E + self._mac(ssc, body)
        return ResponseAPDU(body, response.sw)


def _valid_command(
    cla: int, ins: int, p1: int, p2: int, data: bytes, ne: int | None
) -> CommandAPDU:
    """``CommandAPDU(cla, ins, p1, p2, data, ne)`` for values already known valid, without its
    checks again: the plain command of every protected one is a hot path."""
    command: CommandAPDU = object.__new__(CommandAPDU)
    _set = object.__setattr__  # the frozen dataclass's own way to set its fields
    _set(command, "cla", cla)
    _set(command, "ins", ins)
    _set(command, "p1", p1)
    _set(command, "p2", p2)
    _set(command, "data", data)
    _set(command, "ne", ne)
    _set(command, "extended", False)
    return command


class SecureTransport:
    """A :class:`~idcard.transport.Transport` that protects every command through ``channel``."""

    def __init__(self, inner: Transport, channel: SecureChannel) -> None:
        self.inner = inner
        self.channel = channel

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        return self.channel.unwrap(self.inner.transmit(self.channel.wrap(command)))


class SecureChipSession:
    """Chip side: a channel in front of a plain command handler.

    A command that fails verification gets the unprotected 6987/6988 answer and ends the
    session (:attr:`channel` is closed; later commands get 6987 in the clear too).
    """

    def __init__(
        self, channel: SecureChannel, handler: Callable[[CommandAPDU], ResponseAPDU]
    ) -> None:
        self.channel = channel
        self.handler = handler
        self.next_channel: SecureChannel | None = None
        """Set by the handler (Chip Authentication): used from the response after this one."""

    @property
    def active(self) -> bool:
        return not self.channel.closed

    def handle(self, command: CommandAPDU | bytes) -> ResponseAPDU:
        if self.channel.closed:
            return ResponseAPDU(b"", _SW_MISSING)
        try:
            plain = self.channel.unwrap_command(command)
        except SecureMessagingError:
            return ResponseAPDU(b"", self.channel.failure_sw or _SW_INCORRECT)
        protected = self.channel.wrap_response(self.handler(plain))
        if self.next_channel is not None:
            self.channel, self.next_channel = self.next_channel, None
        return protected
