"""A :class:`~idcard.transport.Transport` over PC/SC (pcsc-lite, WinSCard) through pyscard.

pyscard is an optional dependency (``pip install 'idkarta[pcsc]'``), imported only when a
PC/SC function is first used; without it every entry point raises :class:`TransportError`.
Every PC/SC failure (no service, unknown reader, card removed, reader gone) becomes a
:class:`TransportError` carrying the PC/SC error text; no smartcard exception escapes.

Status words handled here, so that protocols see one response per command (ISO/IEC 7816-4
§5.3.4 and ISO/IEC 7816-3 §10.3.5): ``61xx`` is followed by GET RESPONSE until the card has
given everything, ``6Cxx`` re-sends the command with Ne = xx. T=0 cards need this; T=1 cards
may answer ``61xx`` as well, so it is on for both unless ``auto_get_response=False``.

Extended length (ISO/IEC 7816-4 §5.1): assumed only when the ATR's card capabilities say so
(:func:`idcard.reader.atr.parse_atr`) and the protocol is T=1; a caller whose extended READ
BINARY is refused calls :meth:`PCSCTransport.mark_extended_refused` and then reads in short
chunks of :attr:`PCSCTransport.read_length`, stepping it down with
:meth:`PCSCTransport.reduce_read_length` (256, 224, 192, 128) when a reader or card cannot take
a full 256.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from types import ModuleType, TracebackType
from typing import Any, Literal

from idcard.apdu import CommandAPDU, ResponseAPDU
from idcard.errors import DecodeError, TransportError
from idcard.reader.atr import ATRInfo, parse_atr

__all__ = [
    "PCSC_EXTRA_MESSAGE",
    "SHORT_READ_LENGTHS",
    "PCSCTransport",
    "list_readers",
]

PCSC_EXTRA_MESSAGE = "PC/SC support needs the optional extra: pip install 'idkarta[pcsc]'"
SHORT_READ_LENGTHS = (256, 224, 192, 128)
EXTENDED_READ_LENGTH = 65536
_MAX_GET_RESPONSE = 300  # 300 x 256 bytes is well past any extended response

Protocol = Literal["T0", "T1", "any"]


def _scard() -> ModuleType:
    try:
        from smartcard import scard
    except ImportError as exc:  # pyscard or libpcsclite missing
        raise TransportError(PCSC_EXTRA_MESSAGE) from exc
    module: ModuleType = scard
    return module


def _check(scard: ModuleType, hresult: int, what: str) -> None:
    if hresult != scard.SCARD_S_SUCCESS:
        text = scard.SCardGetErrorMessage(hresult)
        raise TransportError(f"{what}: {text} ({hresult & 0xFFFFFFFF:08X})")


def _call(what: str, func: Any, *args: Any) -> Any:
    """Call a pyscard function; any exception of its own becomes a TransportError."""
    try:
        return func(*args)
    except TransportError:
        raise
    except Exception as exc:
        raise TransportError(f"{what}: {type(exc).__name__}: {exc}") from exc


def _establish(scard: ModuleType) -> Any:
    hresult, context = _call("PC/SC", scard.SCardEstablishContext, scard.SCARD_SCOPE_USER)
    _check(scard, hresult, "cannot reach the PC/SC service")
    return context


def _list(scard: ModuleType, context: Any) -> list[str]:
    hresult, readers = _call("list readers", scard.SCardListReaders, context, [])
    if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
        return []
    _check(scard, hresult, "cannot list readers")
    return [str(r) for r in readers]


def list_readers() -> list[str]:
    """Names of the PC/SC readers attached now (empty when there are none)."""
    scard = _scard()
    context = _establish(scard)
    try:
        return _list(scard, context)
    finally:
        _call("PC/SC", scard.SCardReleaseContext, context)


def _choose(readers: list[str], reader: str | int | None) -> str:
    if not readers:
        raise TransportError("no PC/SC reader found")
    if reader is None:
        return readers[0]
    if isinstance(reader, int):
        if not 0 <= reader < len(readers):
            raise TransportError(f"reader index {reader} out of range ({len(readers)} readers)")
        return readers[reader]
    matches = [r for r in readers if reader.lower() in r.lower()]
    if not matches:
        raise TransportError(f"no reader matches {reader!r}; readers: {', '.join(readers)}")
    return matches[0]


def _get_response_cla(cla: int) -> int:
    """CLA of GET RESPONSE: the command's class without chaining/SM bits, its channel kept."""
    if cla & 0x80:  # proprietary class: answer in the interindustry class, same channel
        return cla & 0x03
    if cla & 0x40:  # further interindustry (ISO/IEC 7816-4 §5.4.1 table 3)
        return cla & 0x4F
    return cla & 0x03


class PCSCTransport:
    """One connection to a card in one PC/SC reader.

    Make it with :meth:`connect`; use as a context manager or call :meth:`close`.
    """

    def __init__(self, *, auto_get_response: bool = True) -> None:
        self.auto_get_response = auto_get_response
        self.reader = ""
        self.atr = b""
        self.protocol: Literal["T0", "T1"] = "T1"
        self.atr_info: ATRInfo | None = None
        self._scard: ModuleType | None = None
        self._context: Any = None
        self._card: Any = None
        self._extended = False
        self._read_index = 0

    # -- connection -------------------------------------------------------------------------

    @classmethod
    def connect(
        cls,
        reader: str | int | None = None,
        *,
        protocol: Protocol = "any",
        wait: float = 0.0,
        auto_get_response: bool = True,
    ) -> PCSCTransport:
        """Connect to the card in ``reader`` (a name substring, an index, or the first one).

        ``wait`` seconds are given for a card to be inserted before failing.
        """
        self = cls(auto_get_response=auto_get_response)
        scard = self._scard = _scard()
        self._context = _establish(scard)
        try:
            self.reader = _choose(_list(scard, self._context), reader)
            if wait > 0:
                self._wait_for_card(wait)
            wanted = {
                "T0": scard.SCARD_PROTOCOL_T0,
                "T1": scard.SCARD_PROTOCOL_T1,
                "any": scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
            }[protocol]
            hresult, card, active = _call(
                "connect", scard.SCardConnect, self._context, self.reader,
                scard.SCARD_SHARE_SHARED, wanted,
            )
            _check(scard, hresult, f"cannot connect to the card in {self.reader!r}")
            self._card = card
            self.protocol = "T0" if active == scard.SCARD_PROTOCOL_T0 else "T1"
            self._read_status()
        except BaseException:
            with contextlib.suppress(TransportError):
                self.close()
            raise
        return self

    def _wait_for_card(self, seconds: float) -> None:
        scard = self._require()
        deadline = time.monotonic() + seconds
        state = scard.SCARD_STATE_UNAWARE
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TransportError(f"no card in {self.reader!r} after {seconds:g} s")
            hresult, states = _call(
                "wait for card", scard.SCardGetStatusChange, self._context,
                int(min(left, 1.0) * 1000), [(self.reader, state)],
            )
            if hresult == scard.SCARD_E_TIMEOUT:
                continue
            _check(scard, hresult, f"cannot watch {self.reader!r}")
            state = states[0][1] & ~scard.SCARD_STATE_CHANGED
            if state & scard.SCARD_STATE_PRESENT and not state & scard.SCARD_STATE_MUTE:
                return

    def _read_status(self) -> None:
        scard = self._require()
        hresult, _name, _state, _proto, atr = _call("status", scard.SCardStatus, self._card)
        _check(scard, hresult, "cannot read the card status")
        self.atr = bytes(atr)
        try:
            self.atr_info = parse_atr(self.atr)
        except DecodeError:
            self.atr_info = None
        self._extended = (
            self.protocol == "T1" and self.atr_info is not None and self.atr_info.extended_length
        )
        self._read_index = 0

    def _require(self) -> ModuleType:
        if self._scard is None:
            raise TransportError("the PC/SC transport is not connected")
        return self._scard

    def reset(self, *, cold: bool = False) -> bytes:
        """Warm reset (or cold: power off and on) the card; returns the new ATR."""
        scard = self._require()
        if self._card is None:
            raise TransportError("the PC/SC transport is not connected")
        disposition = scard.SCARD_UNPOWER_CARD if cold else scard.SCARD_RESET_CARD
        wanted = scard.SCARD_PROTOCOL_T0 if self.protocol == "T0" else scard.SCARD_PROTOCOL_T1
        hresult, active = _call(
            "reset", scard.SCardReconnect, self._card, scard.SCARD_SHARE_SHARED, wanted,
            disposition,
        )
        _check(scard, hresult, "cannot reset the card")
        self.protocol = "T0" if active == scard.SCARD_PROTOCOL_T0 else "T1"
        self._read_status()
        return self.atr

    def close(self, *, unpower: bool = False) -> None:
        """Disconnect (leaving the card powered unless ``unpower``) and release the context."""
        scard = self._scard
        if scard is None:
            return
        card, context = self._card, self._context
        self._card = self._context = self._scard = None
        try:
            if card is not None:
                disposition = scard.SCARD_UNPOWER_CARD if unpower else scard.SCARD_LEAVE_CARD
                _call("disconnect", scard.SCardDisconnect, card, disposition)
        finally:
            if context is not None:
                _call("PC/SC", scard.SCardReleaseContext, context)

    def __enter__(self) -> PCSCTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- length capability ------------------------------------------------------------------

    @property
    def extended_length(self) -> bool:
        """True while extended Lc/Le is believed to work (ATR says so, T=1, not refused)."""
        return self._extended

    def mark_extended_refused(self) -> None:
        """The card or reader refused an extended-length command: use short APDUs from now."""
        self._extended = False

    @property
    def read_length(self) -> int:
        """Largest Ne worth asking in a READ BINARY now: 65536, or a short size."""
        return EXTENDED_READ_LENGTH if self._extended else SHORT_READ_LENGTHS[self._read_index]

    def reduce_read_length(self) -> int:
        """Step the short read size down (256, 224, 192, 128); TransportError past 128."""
        if self._extended:
            self._extended = False
            return self.read_length
        if self._read_index + 1 >= len(SHORT_READ_LENGTHS):
            raise TransportError("the card refuses even 128-byte reads")
        self._read_index += 1
        return self.read_length

    # -- transmission -----------------------------------------------------------------------

    def transmit_raw(self, command: bytes) -> bytes:
        """Send bytes, return the card's bytes (data and SW); no status-word handling."""
        scard = self._require()
        if self._card is None:
            raise TransportError("the PC/SC transport is not connected")
        pci = scard.SCARD_PCI_T0 if self.protocol == "T0" else scard.SCARD_PCI_T1
        hresult, response = _call("transmit", scard.SCardTransmit, self._card, pci, list(command))
        _check(scard, hresult, f"transmit to {self.reader!r} failed")
        out = bytes(response)
        if len(out) < 2:
            raise TransportError(
                f"the reader returned {len(out)} bytes without a status word (card gone?)"
            )
        return out

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        response = ResponseAPDU.decode(self.transmit_raw(command.encode()))
        if not self.auto_get_response:
            return response
        if response.sw1 == 0x6C and command.ne is not None and not command.is_extended:
            command = replace(command, ne=response.sw2 or 256)
            response = ResponseAPDU.decode(self.transmit_raw(command.encode()))
        data = response.data
        rounds = 0
        while response.sw1 == 0x61:
            rounds += 1
            if rounds > _MAX_GET_RESPONSE:
                raise TransportError("the card keeps answering 61xx to GET RESPONSE")
            get_response = CommandAPDU(
                _get_response_cla(command.cla), 0xC0, 0x00, 0x00, ne=response.sw2 or 256
            )
            response = ResponseAPDU.decode(self.transmit_raw(get_response.encode()))
            data += response.data
        return ResponseAPDU(data, response.sw) if rounds else response
