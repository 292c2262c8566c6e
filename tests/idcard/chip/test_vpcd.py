"""The vpcd bridge: its protocol alone, against a stand-in vpcd socket, and through real pcscd;
the durable chip (image saved before the answer) and the connection reports."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from tests.idcard.chip.sim_card import ATR_T1, LDS1_AID, SimCard
from tests.idcard.esign.esign_kit import PIN, enrolled_chip
from tests.pcsc_harness import PCSCD

from idcard.apdu import CommandAPDU
from idcard.chip.emrtd import VirtualChip
from idcard.chip.state import DurableChip, ImageWriteError
from idcard.chip.vpcd import CardHalted, CardSimulator, VPCDClient
from idcard.errors import EncodeError, TransportError
from idcard.esign.protocol import ESIGN_AID, pin_block
from idcard.reader.pcsc import PCSCTransport

SELECT = bytes.fromhex("00A4040C07A0000002471001")


class Broken(SimCard):
    def process(self, apdu: bytes) -> bytes:
        raise RuntimeError("card bug")


class TooLong(SimCard):
    def process(self, apdu: bytes) -> bytes:
        return bytes(0x10000) + b"\x90\x00"


class BadATR(SimCard):
    @property
    def atr(self) -> bytes:
        return b"\x3b"


def test_sim_card_is_a_card_simulator() -> None:
    assert isinstance(SimCard(), CardSimulator)


def test_controls_and_apdus() -> None:
    card = SimCard()
    client = VPCDClient(card)
    assert client.handle_message(b"\x04") == ATR_T1
    assert client.handle_message(b"\x01") is None
    assert client.handle_message(b"\x02") is None
    assert client.handle_message(b"\x00") is None
    assert client.handle_message(b"\x09") is None  # unknown control: ignored
    assert card.events == ["on", "reset", "off"]
    assert client.handle_message(SELECT) == b"\x90\x00"
    assert client.handle_message(bytes.fromhex("80EE000002ABCD00")) == b"\xab\xcd\x90\x00"


def test_card_failures_answer_6f00() -> None:
    assert VPCDClient(Broken()).handle_message(SELECT) == b"\x6f\x00"
    assert VPCDClient(TooLong()).handle_message(SELECT) == b"\x6f\x00"
    with pytest.raises(EncodeError, match="ATR"):
        VPCDClient(BadATR()).handle_message(b"\x04")


class FakeVPCD:
    """A listening socket that talks like old vpcd: length and body in two writes."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.server.getsockname()[1]
        self.server.settimeout(5)

    def accept(self) -> socket.socket:
        conn, _ = self.server.accept()
        conn.settimeout(5)
        return conn

    @staticmethod
    def send(conn: socket.socket, message: bytes) -> None:
        conn.sendall(len(message).to_bytes(2, "big"))
        conn.sendall(message)

    @staticmethod
    def recv(conn: socket.socket) -> bytes:
        def exact(n: int) -> bytes:
            buf = b""
            while len(buf) < n:
                chunk = conn.recv(n - len(buf))
                assert chunk, "the card closed the connection"
                buf += chunk
            return buf

        return exact(int.from_bytes(exact(2), "big"))


def run(client: VPCDClient, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=client.serve, args=(stop,), daemon=True)
    thread.start()
    return thread


def test_framing_reconnect_and_stop() -> None:
    # The port is chosen, then closed: the client starts while nothing listens and backs off.
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    card = SimCard()
    client = VPCDClient(card, "127.0.0.1", port, backoff=0.02, max_backoff=0.1)
    stop = threading.Event()
    thread = run(client, stop)
    time.sleep(0.3)
    assert client.sessions == 0
    server = socket.create_server(("127.0.0.1", port))
    server.settimeout(5)
    conn, _ = server.accept()
    conn.settimeout(5)
    FakeVPCD.send(conn, b"\x01")
    FakeVPCD.send(conn, b"\x04")
    assert FakeVPCD.recv(conn) == ATR_T1
    FakeVPCD.send(conn, SELECT)
    assert FakeVPCD.recv(conn) == b"\x90\x00"
    FakeVPCD.send(conn, bytes.fromhex("80CA0300") + b"\x00\x00\x00")  # extended Le
    long = FakeVPCD.recv(conn)
    assert long[:-2] == bytes(i & 0xFF for i in range(0x300)) and long[-2:] == b"\x90\x00"
    conn.close()  # vpcd went away: the client connects again
    conn, _ = server.accept()
    conn.settimeout(5)
    FakeVPCD.send(conn, b"\x04")
    assert FakeVPCD.recv(conn) == ATR_T1
    assert client.sessions == 2 and card.events == ["on"]
    stop.set()
    thread.join(2)
    assert not thread.is_alive()
    assert conn.recv(1) == b""  # the client closed its side on stop
    conn.close()
    server.close()


def test_stop_while_waiting_for_vpcd() -> None:
    client = VPCDClient(SimCard(), "127.0.0.1", 1, backoff=0.05)
    stop = threading.Event()
    thread = run(client, stop)
    time.sleep(0.2)
    started = time.monotonic()
    client.stop()
    thread.join(2)
    assert not thread.is_alive() and time.monotonic() - started < 1.0
    assert client.sessions == 0


def _closed_port() -> int:
    probe = socket.create_server(("127.0.0.1", 0))
    port: int = probe.getsockname()[1]
    probe.close()
    return port


def test_reports_cannot_connect_once_then_connected() -> None:
    port = _closed_port()
    lines: list[str] = []
    client = VPCDClient(SimCard(), "127.0.0.1", port, backoff=0.02, max_backoff=0.05,
                        report=lines.append)  # fmt: skip
    stop = threading.Event()
    thread = run(client, stop)
    time.sleep(0.4)  # several attempts, one report
    assert lines == [f"cannot connect to vpcd at 127.0.0.1:{port} (Connection refused); retrying"]
    server = socket.create_server(("127.0.0.1", port))
    server.settimeout(5)
    conn, _ = server.accept()
    assert client.connected.wait(2)
    conn.close()
    deadline = time.monotonic() + 2
    while len(lines) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join(2)
    server.close()
    assert lines[1:3] == [f"connected to vpcd at 127.0.0.1:{port}",
                          f"vpcd at 127.0.0.1:{port} closed the connection; reconnecting"]


def test_no_retry_raises() -> None:
    port = _closed_port()
    client = VPCDClient(SimCard(), "127.0.0.1", port, retry=False, reconnect=False)
    with pytest.raises(TransportError, match=f"^cannot connect to vpcd at 127.0.0.1:{port}: "
                                             "Connection refused$"):  # fmt: skip
        client.serve(threading.Event())
    assert client.sessions == 0


# -- the durable chip ---------------------------------------------------------------------------

SELECT_ESIGN = CommandAPDU(0x00, 0xA4, 0x04, 0x0C, ESIGN_AID).encode()


def _verify(pin: str) -> bytes:
    return CommandAPDU(0x00, 0x20, 0x00, 0x81, pin_block(pin)).encode()


def test_durable_chip_saves_each_change_before_answering(tmp_path: Path) -> None:
    image = tmp_path / "chip.json"
    chip = enrolled_chip()
    chip.save(image)
    card = DurableChip(chip, image)
    assert isinstance(card, CardSimulator)
    written = image.stat().st_mtime_ns
    assert card.process(SELECT_ESIGN) == b"\x90\x00"
    assert card.process(bytes.fromhex("00200081")) == b"\x63\xc3"  # tries left: a read
    assert card.saves == 0 and image.stat().st_mtime_ns == written  # reads write nothing
    for tries in (2, 1):
        assert card.process(_verify("000000")) == bytes([0x63, 0xC0 | tries])
        assert VirtualChip.load(image).state.esign_pin_tries == tries  # on disk already
    assert image.stat().st_mode & 0o777 == 0o600
    assert card.process(_verify(PIN)) == b"\x90\x00"  # the counter back to 3: saved
    assert VirtualChip.load(image).state.esign_pin_tries == 3
    saves = card.saves
    card.power_off()
    card.power_on()
    assert card.process(SELECT_ESIGN) == b"\x90\x00" and card.saves == saves
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chip.json"]  # no temporary left


def test_durable_chip_that_cannot_save_halts_without_answering(tmp_path: Path) -> None:
    folder = tmp_path / "cards"
    folder.mkdir()
    chip = enrolled_chip()
    card = DurableChip(chip, folder / "chip.json")
    client = VPCDClient(card)
    assert client.handle_message(SELECT_ESIGN) == b"\x90\x00"
    folder.rmdir()
    folder.write_text("")  # the image's folder is now a file: every write fails
    assert client.handle_message(SELECT_ESIGN) == b"\x90\x00"  # changes nothing: answered
    # right and wrong PINs alike get no answer, and the chip never saw them (no oracle)
    for pin in ("000000", PIN):
        with pytest.raises(ImageWriteError, match="cannot save the chip image") as info:
            client.handle_message(_verify(pin))
        assert isinstance(info.value, CardHalted) and pin not in str(info.value)
    assert chip.state.esign_pin_tries == 3


# -- through the real pcscd ------------------------------------------------------------------


@pytest.mark.pcsc
@pytest.mark.tool
def test_opensc_tool_selects_on_our_card(pcscd: PCSCD) -> None:
    with pcscd.card() as (card, _client):
        out = subprocess.run(
            ["opensc-tool", "--reader", "0", "--send-apdu", SELECT.hex().upper()],
            env=pcscd.env, capture_output=True, text=True, timeout=30, check=True,
        )
        assert "Received (SW1=0x90, SW2=0x00)" in out.stdout, out.stdout + out.stderr
        atr = subprocess.run(
            ["opensc-tool", "--reader", "0", "--atr"],
            env=pcscd.env, capture_output=True, text=True, timeout=30, check=True,
        )
        assert ATR_T1.hex(":") in atr.stdout.lower()
        assert card.apdus >= 1


def select_rate(count: int) -> float:
    command = CommandAPDU(0x00, 0xA4, 0x04, 0x0C, LDS1_AID)
    with PCSCTransport.connect(0) as t:
        t.transmit(command).check()
        start = time.perf_counter()
        for _ in range(count):
            t.transmit(command)
        return count / (time.perf_counter() - start)


@pytest.mark.pcsc
def test_select_throughput_through_pcscd(pcscd: PCSCD, capsys: pytest.CaptureFixture[str]) -> None:
    """Bare SELECT loop through pcscd + vpcd; TCP_QUICKACK keeps it far above 25 APDU/s."""
    with pcscd.card(quickack=True):
        fast = select_rate(500)
    with pcscd.card(quickack=False):
        slow = select_rate(10)
    with capsys.disabled():
        print(f"\nSELECT through pcscd/vpcd: {fast:.0f} APDU/s with TCP_QUICKACK,"
              f" {slow:.0f} APDU/s without")
    assert fast > 300
