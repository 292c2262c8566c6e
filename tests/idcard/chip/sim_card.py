"""A tiny simulated card for the PC/SC tests (not an eMRTD; the virtual chip comes later).

It answers:

* SELECT by DF name ``00 A4 04 0C 07 A0 00 00 02 47 10 01`` (the eMRTD LDS1 application) with
  9000, any other name with 6A82;
* GET CHALLENGE ``00 84 00 00 08`` with 8 bytes (a counter, so answers differ);
* ECHO ``80 EE 00 00 Lc data [Le]``: the data back;
* LONG ``80 CA HH LL [Le]``: ``HHLL`` bytes of the pattern ``i mod 256``, at most Ne of them;
  the rest is left for GET RESPONSE ``00 C0 00 00 Le`` with SW 61xx (ISO/IEC 7816-4 §5.3.4);
* anything else: 6D00.

The ``t0`` variant behaves like a T=0 card (ISO/IEC 7816-3 §10.3.5): a case-4 command gets 61xx
and its data only through GET RESPONSE, a case-2 command with the wrong Le gets 6Cxx.

Run as ``python -m tests.idcard.chip.sim_card --port 35964 [--variant t0]`` (from the repository
root, inside the network namespace of the test pcscd): it connects to vpcd and prints one line
per power event (``connected``, ``on``, ``off``, ``reset``) to stdout.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable

from idcard.apdu import CommandAPDU
from idcard.chip.vpcd import VPCDClient
from idcard.errors import DecodeError

LDS1_AID = bytes.fromhex("A0000002471001")


def _with_tck(atr_without_tck: bytes) -> bytes:
    tck = 0
    for b in atr_without_tck[1:]:
        tck ^= b
    return atr_without_tck + bytes([tck])


# 3B: direct convention; T0=85: TD1 follows, 5 historical bytes; TD1=80: TD2 follows, T=0;
# TD2=01: T=1. Historical bytes: category 80, then compact-TLV 73 (card capabilities, 3 bytes)
# whose third software function table byte C0 = command chaining + extended Lc/Le
# (ISO/IEC 7816-4 §8.1.1.2.7). T=1 is offered, so TCK closes the ATR (ISO/IEC 7816-3 §8.2.5).
ATR_T1 = _with_tck(bytes.fromhex("3B85800180738001C0"))
# T=0 only, no interface bytes, two historical bytes, no TCK.
ATR_T0 = bytes.fromhex("3B021450")


class SimCard:
    """Implements :class:`idcard.chip.vpcd.CardSimulator`; records power events in ``events``."""

    def __init__(
        self, variant: str = "t1", on_event: Callable[[str], None] | None = None
    ) -> None:
        self.variant = variant
        self.events: list[str] = []
        self.apdus = 0
        self.powered = False
        self.power_on_event = threading.Event()
        self._on_event = on_event
        self._pending = b""
        self._challenge = 0

    @property
    def atr(self) -> bytes:
        return ATR_T0 if self.variant == "t0" else ATR_T1

    def _event(self, name: str) -> None:
        self.events.append(name)
        if self._on_event is not None:
            self._on_event(name)

    def power_on(self) -> None:
        self.powered = True
        self._pending = b""
        self._event("on")
        self.power_on_event.set()

    def power_off(self) -> None:
        self.powered = False
        self._pending = b""
        self._event("off")

    def reset(self) -> None:
        self.powered = True
        self._pending = b""
        self._event("reset")

    def process(self, apdu: bytes) -> bytes:
        self.apdus += 1
        try:
            cmd = CommandAPDU.decode(apdu)
        except DecodeError:
            return b"\x67\x00"
        if cmd.ins == 0xC0 and cmd.cla & 0x80 == 0:
            return self._get_response(cmd)
        self._pending = b""
        if cmd.cla == 0x00 and cmd.ins == 0xA4:
            if cmd.p1 == 0x04 and cmd.data == LDS1_AID:
                return b"\x90\x00"
            return b"\x6a\x82"
        if cmd.cla == 0x00 and cmd.ins == 0x84:
            self._challenge += 1
            return self._answer(cmd, self._challenge.to_bytes(8, "big"))
        if cmd.cla == 0x80 and cmd.ins == 0xEE:
            return self._answer(cmd, cmd.data)
        if cmd.cla == 0x80 and cmd.ins == 0xCA:
            size = cmd.p1 << 8 | cmd.p2
            return self._answer(cmd, bytes(i & 0xFF for i in range(size)))
        return b"\x6d\x00"

    def _answer(self, cmd: CommandAPDU, data: bytes) -> bytes:
        if self.variant == "t0" and data:
            if cmd.data:  # case 4 under T=0: data only through GET RESPONSE
                return self._chunk(data, 0)
            if cmd.ne is not None and cmd.ne != len(data) and len(data) <= 256:
                return b"\x6c" + bytes([len(data) & 0xFF])
        return self._chunk(data, cmd.ne or 0)

    def _chunk(self, data: bytes, ne: int) -> bytes:
        out, self._pending = data[:ne], data[ne:]
        if self._pending:
            return out + b"\x61" + bytes([min(len(self._pending), 256) & 0xFF])
        return out + b"\x90\x00"

    def _get_response(self, cmd: CommandAPDU) -> bytes:
        if not self._pending:
            return b"\x69\x85"
        return self._chunk(self._pending, cmd.ne or 256)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=35963)
    parser.add_argument("--variant", choices=("t1", "t0"), default="t1")
    parser.add_argument("--no-quickack", action="store_true")
    args = parser.parse_args(argv)

    def say(name: str) -> None:
        print(name, flush=True)

    card = SimCard(args.variant, on_event=say)
    client = VPCDClient(card, "127.0.0.1", args.port, quickack=not args.no_quickack)
    threading.Thread(
        target=lambda: client.connected.wait() and say("connected"), daemon=True
    ).start()
    client.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
