"""A transport wrapper that writes an APDU trace through :mod:`logging`, secrets masked.

Every exchange becomes two records (``>`` command, ``<`` response with the time taken) on the
logger ``idcard.apdu`` (or one you pass), at DEBUG unless told otherwise. A ``mask`` hook decides,
per command, whether its data field and/or the response data are replaced by
``<N bytes masked>``; :func:`default_mask` hides

* the data of VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER (PINs; ISO/IEC 7816-4 §11.5.6-10),
* the data of PUT DATA (INS DA/DB: key material written at personalisation),
* both directions of EXTERNAL/MUTUAL AUTHENTICATE (82) and GENERAL AUTHENTICATE (86/87): BAC's
  cryptograms and PACE's encrypted nonce let an observer test guesses of the MRZ or CAN offline
  (ICAO 9303-11 §4.3, §4.4),

and the data of GET RESPONSE that continues a masked response. Lengths, headers and status words
stay visible: that is what a trace is for.

Secure messaging: protected APDUs are logged as they travel (encrypted). The ``unwrap`` hook,
called after each exchange with the wire command and response, may return the unprotected pair,
which is then logged too (indented, masked by the same rule); it must not raise for APDUs it does
not understand (return ``None``). :class:`SMTraceDecoder` is that hook for secure messaging
(ICAO 9303-11 §9.8): told each session's keys as the reader learns them (:meth:`learn`, before
the first command under them), it follows the send sequence counter on a copy of the channel and
returns the plaintext pair. Plaintext goes through the same mask, so PINs, keys and the
authentication cryptograms of CA/TA stay hidden; the session keys themselves are never logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from idcard.apdu import CommandAPDU, ResponseAPDU, sw_meaning
from idcard.errors import IdkartaError
from idcard.sm import SM_CLA, SecureChannel
from idcard.transport import Transport

__all__ = [
    "NO_MASK",
    "Mask",
    "MaskFunc",
    "SMTraceDecoder",
    "TraceUnwrapper",
    "LoggingTransport",
    "default_mask",
    "format_command",
    "format_response",
]


@dataclass(frozen=True, slots=True)
class Mask:
    """Which parts of one exchange a trace must not show."""

    command_data: bool = False
    response_data: bool = False


NO_MASK = Mask()
MaskFunc = Callable[[CommandAPDU], Mask]
TraceUnwrapper = Callable[[CommandAPDU, ResponseAPDU], "tuple[CommandAPDU, ResponseAPDU] | None"]

_PIN_INS = frozenset({0x20, 0x21, 0x24, 0x25, 0x2C, 0x2D})
_KEY_INS = frozenset({0xDA, 0xDB})
_AUTH_INS = frozenset({0x82, 0x86, 0x87})


def default_mask(command: CommandAPDU) -> Mask:
    """The masking rule described in the module docstring."""
    if command.ins in _PIN_INS or command.ins in _KEY_INS:
        return Mask(command_data=True)
    if command.ins in _AUTH_INS:
        return Mask(command_data=True, response_data=True)
    return NO_MASK


def _data(data: bytes, masked: bool) -> str:
    if not data:
        return "-"
    return f"<{len(data)} bytes masked>" if masked else data.hex().upper()


def format_command(command: CommandAPDU, mask: Mask = NO_MASK) -> str:
    """``00 A4 04 0C Lc=7 A0000002471001 Le=-`` with the data masked when asked."""
    header = f"{command.cla:02X} {command.ins:02X} {command.p1:02X} {command.p2:02X}"
    le = "-" if command.ne is None else str(command.ne)
    ext = " ext" if command.is_extended else ""
    return f"{header}{ext} Lc={len(command.data)} {_data(command.data, mask.command_data)} Le={le}"


def format_response(response: ResponseAPDU, mask: Mask = NO_MASK) -> str:
    """``9000 (success) 8 bytes 0102…`` with the data masked when asked."""
    return (
        f"{response.sw:04X} ({sw_meaning(response.sw)}) {len(response.data)} bytes"
        f" {_data(response.data, mask.response_data)}"
    )


class LoggingTransport:
    """Wraps a transport; logs each exchange (see module doc) and passes it through unchanged."""

    def __init__(
        self,
        inner: Transport,
        logger: logging.Logger | None = None,
        *,
        level: int = logging.DEBUG,
        mask: MaskFunc = default_mask,
        unwrap: TraceUnwrapper | None = None,
    ) -> None:
        self.inner = inner
        self.logger = logger if logger is not None else logging.getLogger("idcard.apdu")
        self.level = level
        self.mask = mask
        self.unwrap = unwrap
        self._continue_masking = False

    def _mask_for(self, command: CommandAPDU) -> Mask:
        mask = self.mask(command)
        if self._continue_masking and command.ins == 0xC0:
            mask = Mask(mask.command_data, True)
        return mask

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        mask = self._mask_for(command)
        enabled = self.logger.isEnabledFor(self.level)
        if enabled:
            self.logger.log(self.level, "> %s", format_command(command, mask))
        start = time.perf_counter()
        try:
            response = self.inner.transmit(command)
        except Exception as exc:
            if enabled:
                self.logger.log(self.level, "! %s", type(exc).__name__)
            raise
        elapsed = (time.perf_counter() - start) * 1000
        self._continue_masking = mask.response_data and response.sw1 == 0x61
        if enabled:
            self.logger.log(
                self.level, "< %s (%.1f ms)", format_response(response, mask), elapsed
            )
            if self.unwrap is not None:
                plain = self.unwrap(command, response)
                if plain is not None:
                    plain_mask = self.mask(plain[0])
                    self.logger.log(self.level, "  > %s", format_command(plain[0], plain_mask))
                    self.logger.log(self.level, "  < %s", format_response(plain[1], plain_mask))
        return response


class SMTraceDecoder:
    """A :data:`TraceUnwrapper` that decrypts secure messaging for the trace (9303-11 §9.8).

    Call :meth:`learn` with each :class:`~idcard.sm.SecureChannel` the reader opens (after BAC,
    PACE, Chip Authentication), before it protects its first command. The decoder keeps its own
    copy of the keys and the send sequence counter and verifies each protected command and
    response with it (MACs included), so the plaintext it returns is what the card really
    received and answered. Unprotected APDUs, and anything it cannot verify, give ``None``; after
    a failure it waits for the next :meth:`learn`. The reader's channel is never touched.
    """

    __slots__ = ("_channel",)

    def __init__(self) -> None:
        self._channel: SecureChannel | None = None

    def __repr__(self) -> str:
        state = "no session" if self._channel is None else self._channel.cipher
        return f"SMTraceDecoder({state})"

    def learn(self, channel: SecureChannel) -> None:
        """The reader now protects commands with ``channel`` (keys and SSC as they are now)."""
        self._channel = SecureChannel(channel.keys, channel.ssc)

    def forget(self) -> None:
        """No session any more (e.g. a new card)."""
        self._channel = None

    def __call__(
        self, command: CommandAPDU, response: ResponseAPDU
    ) -> tuple[CommandAPDU, ResponseAPDU] | None:
        channel = self._channel
        if channel is None or command.cla & SM_CLA != SM_CLA:
            return None
        try:
            plain_command = channel.unwrap_command(command)
            plain_response = channel.unwrap(response)
        except IdkartaError:
            self._channel = None  # the reader's channel failed the same way and is closed
            return None
        return plain_command, plain_response
