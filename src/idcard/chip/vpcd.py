"""A bridge from a simulated card to vsmartcard's ``vpcd`` reader driver for pcscd.

``vpcd`` (vsmartcard, ``virtualsmartcard/src/vpcd/vpcd.c``) is a PC/SC reader driver that listens
on a TCP port (35963 for its first slot, 35964 for the second; the reader.conf ``DEVICENAME
/dev/null:0x8C7B`` names the first port) and waits for a virtual card to connect. Once one has,
every reader operation becomes a message on that connection, framed by a 2-byte big-endian
length:

* a 1-byte message is a control: ``00`` power off, ``01`` power on, ``02`` reset (no answer);
  ``04`` asks for the ATR, answered with the ATR, framed;
* any longer message is a command APDU, answered with the response APDU (data and SW), framed.

vpcd asks for the ATR on every presence poll of pcscd (about every 400 ms); a closed connection
is a removed card. Here the card is the TCP *client* (vpcd's default mode): :class:`VPCDClient`
connects, retries with a growing back-off while vpcd is not there yet (pcscd still starting), and
reconnects when vpcd goes away, until its stop event is set. What happens to the connection
(cannot connect and why, connected, closed) is told to an optional ``report`` callback in one
line, so a command line can show it; ``retry=False`` raises :class:`TransportError` instead of
retrying when nothing listens.

Latency: older vpcd releases (vsmartcard 0.9 and before, as in Debian 12) write the length and
the body of a command with two ``send()`` calls, without ``TCP_NODELAY``. Nagle's algorithm then
holds the body until the card's side acknowledges the length, and a delayed ACK costs ~40 ms per
APDU. The client therefore re-arms ``TCP_QUICKACK`` before every receive (Linux clears it after
use), and sets ``TCP_NODELAY`` on its own writes, each of which is one ``sendall`` of length and
body together.

Secrets: APDUs carry PINs and keys; this module logs only message kinds and lengths.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from idcard.errors import EncodeError, IdkartaError, TransportError

__all__ = [
    "VPCD_CTRL_ATR",
    "VPCD_CTRL_OFF",
    "VPCD_CTRL_ON",
    "VPCD_CTRL_RESET",
    "VPCD_DEFAULT_HOST",
    "VPCD_DEFAULT_PORT",
    "CardHalted",
    "CardSimulator",
    "VPCDClient",
    "serve",
]

log = logging.getLogger(__name__)

VPCD_DEFAULT_HOST = "localhost"
VPCD_DEFAULT_PORT = 35963  # 0x8C7B, vpcd.h VPCDPORT
VPCD_CTRL_OFF = 0x00
VPCD_CTRL_ON = 0x01
VPCD_CTRL_RESET = 0x02
VPCD_CTRL_ATR = 0x04

_MAX_FRAME = 0xFFFF
_SW_NO_PRECISE_DIAGNOSIS = b"\x6f\x00"
_POLL_SECONDS = 0.2
_REPORT_AGAIN_SECONDS = 60.0
"""While vpcd stays unreachable, the ``report`` callback hears it again this often."""


class CardHalted(IdkartaError):
    """The simulated card cannot go on (e.g. its image cannot be written): raised by
    ``process``, it is not answered with ``6F00`` but ends :meth:`VPCDClient.serve`."""


@runtime_checkable
class CardSimulator(Protocol):
    """What the bridge needs of a simulated card.

    ``process`` takes a command APDU as bytes and returns the response APDU as bytes (data and
    the status word). The power methods follow the reader's contact operations (ISO/IEC 7816-3
    §6: cold reset = power off then on, warm reset = ``reset``); ``atr`` may change after them.
    """

    @property
    def atr(self) -> bytes: ...

    def power_on(self) -> None: ...

    def power_off(self) -> None: ...

    def reset(self) -> None: ...

    def process(self, apdu: bytes) -> bytes: ...


def _check_atr(atr: bytes) -> bytes:
    """An ATR is TS, T0 and at most 31 more bytes (ISO/IEC 7816-3 §8.2.1)."""
    if not 2 <= len(atr) <= 33:
        raise EncodeError(f"an ATR has 2 to 33 bytes, the card gave {len(atr)}")
    return atr


class VPCDClient:
    """Connects one :class:`CardSimulator` to vpcd and answers its requests.

    Behaviour:

    * :meth:`serve` runs until ``stop_event`` (or :meth:`stop`) is set: connect (retrying every
      ``backoff`` seconds, doubling up to ``max_backoff``, while nothing listens), answer
      messages until vpcd closes the connection, then connect again. With ``reconnect=False`` it
      returns after the first connection ends instead.
    * :meth:`handle_message` is the protocol alone, without I/O: one request in, the answer
      frame body (or ``None`` for controls that expect no answer) out.
    * An exception from ``card.process`` is logged (type only) and answered ``6F00``, so a card
      bug does not look like a removed card; but :class:`CardHalted` propagates out of
      :meth:`serve` unanswered. A response too long for the 2-byte frame is answered ``6F00``.
    * ``report`` (optional) gets one line for each change of the connection: cannot connect
      (with the reason; repeated every minute while it lasts), connected, closed. With
      ``retry=False`` a failed connection raises :class:`TransportError` instead.
    * An ATR outside 2..33 bytes is a broken card, not a transport problem: :class:`EncodeError`
      propagates out of :meth:`serve`.
    * ``connected`` is set while a connection is up; ``sessions`` counts connections made.
    """

    def __init__(
        self,
        card: CardSimulator,
        host: str = VPCD_DEFAULT_HOST,
        port: int = VPCD_DEFAULT_PORT,
        *,
        backoff: float = 0.05,
        max_backoff: float = 1.0,
        quickack: bool = True,
        reconnect: bool = True,
        retry: bool = True,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.card = card
        self.host = host
        self.port = port
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.quickack = quickack and hasattr(socket, "TCP_QUICKACK")
        self.reconnect = reconnect
        self.retry = retry
        self.report = report
        self.connected = threading.Event()
        self.sessions = 0
        self._stop = threading.Event()
        self._sock: socket.socket | None = None

    # -- protocol -------------------------------------------------------------------------------

    def handle_message(self, message: bytes) -> bytes | None:
        """Answer one vpcd message (framing removed); ``None`` when no answer is due."""
        if len(message) == 1:
            control = message[0]
            if control == VPCD_CTRL_ATR:
                return _check_atr(bytes(self.card.atr))
            if control == VPCD_CTRL_ON:
                log.debug("vpcd: power on")
                self.card.power_on()
            elif control == VPCD_CTRL_OFF:
                log.debug("vpcd: power off")
                self.card.power_off()
            elif control == VPCD_CTRL_RESET:
                log.debug("vpcd: reset")
                self.card.reset()
            else:
                log.warning("vpcd: unknown control message %02X ignored", control)
            return None
        if not message:
            log.warning("vpcd: empty message ignored")
            return None
        try:
            response = bytes(self.card.process(message))
        except CardHalted:
            raise
        except Exception as exc:
            name = type(exc).__name__
            log.error("vpcd: the card failed on a %d-byte APDU: %s", len(message), name)
            return _SW_NO_PRECISE_DIAGNOSIS
        if not 2 <= len(response) <= _MAX_FRAME:
            log.error("vpcd: the card's %d-byte response cannot be framed", len(response))
            return _SW_NO_PRECISE_DIAGNOSIS
        return response

    # -- I/O ------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask :meth:`serve` to return; it does within ~0.2 s."""
        self._stop.set()

    def serve(self, stop_event: threading.Event | None = None) -> None:
        """Serve the card to vpcd until ``stop_event`` or :meth:`stop` is set (see class doc)."""
        stop = stop_event if stop_event is not None else self._stop
        delay = self.backoff
        reported: tuple[str, float] | None = None  # the last failure told, and when
        while not self._stopped(stop):
            try:
                sock = self._connect()
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                if not self.retry:
                    raise TransportError(f"cannot connect to vpcd at {self.where}: {reason}") \
                        from None
                now = time.monotonic()
                if reported is None or reported[0] != reason or (
                        now - reported[1] >= _REPORT_AGAIN_SECONDS):  # fmt: skip
                    self._tell(f"cannot connect to vpcd at {self.where} ({reason}); retrying")
                    reported = (reason, now)
                self._wait(stop, delay)
                delay = min(delay * 2, self.max_backoff)
                continue
            delay, reported = self.backoff, None
            self.sessions += 1
            self.connected.set()
            self._tell(f"connected to vpcd at {self.where}")
            try:
                self._session(sock, stop)
            except (OSError, TransportError) as exc:
                log.info("vpcd: connection ended: %s", exc)
            finally:
                self.connected.clear()
                sock.close()
            if self._stopped(stop):
                return
            self._tell(f"vpcd at {self.where} closed the connection"
                       + ("; reconnecting" if self.reconnect else ""))  # fmt: skip
            if not self.reconnect:
                return

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def _tell(self, line: str) -> None:
        log.info("vpcd: %s", line)
        if self.report is not None:
            self.report(line)

    def _stopped(self, stop: threading.Event) -> bool:
        return stop.is_set() or self._stop.is_set()

    def _wait(self, stop: threading.Event, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopped(stop) and (left := deadline - time.monotonic()) > 0:
            stop.wait(min(left, _POLL_SECONDS))

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=2.0)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(_POLL_SECONDS)
        return sock

    def _session(self, sock: socket.socket, stop: threading.Event) -> None:
        while not self._stopped(stop):
            header = self._recv_exact(sock, 2, stop, idle_ok=True)
            if header is None:
                return
            length = int.from_bytes(header, "big")
            message = self._recv_exact(sock, length, stop, idle_ok=False) if length else b""
            if message is None:
                return
            answer = self.handle_message(message)
            if answer is not None:
                sock.sendall(len(answer).to_bytes(2, "big") + answer)

    def _recv_exact(
        self, sock: socket.socket, n: int, stop: threading.Event, *, idle_ok: bool
    ) -> bytes | None:
        """Read exactly ``n`` bytes; ``None`` when stopping or when vpcd closed between frames."""
        buf = bytearray()
        while len(buf) < n:
            if self.quickack:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            try:
                chunk = sock.recv(n - len(buf))
            except TimeoutError:
                if self._stopped(stop):
                    return None
                continue
            if not chunk:
                if idle_ok and not buf:
                    return None
                raise TransportError("vpcd closed the connection inside a message")
            buf += chunk
        return bytes(buf)


def serve(
    card: CardSimulator,
    host: str = VPCD_DEFAULT_HOST,
    port: int = VPCD_DEFAULT_PORT,
    stop_event: threading.Event | None = None,
) -> None:
    """Serve ``card`` to vpcd at ``host:port`` until ``stop_event`` is set (forever if ``None``).

    The blocking entry point of ``idkarta card serve``; see :class:`VPCDClient`.
    """
    VPCDClient(card, host, port).serve(stop_event)
