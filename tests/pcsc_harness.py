"""One private pcscd with the vpcd driver for the whole test session, and cards plugged into it.

pcscd runs as ``pcscd -f -c <private reader.conf>`` inside its own network and mount namespaces
(``unshare --net --mount``):

* network: vpcd listens on every address of its namespace (ports 35963 and 35964, one per
  slot), and cannot be told otherwise; a private namespace with only loopback up keeps it off
  the host's ports and away from any other pcscd/vpcd;
* mount: pcscd 1.9.9 writes its socket and pid file under the compiled-in ``/run/pcscd`` and
  ignores ``PCSCLITE_CSOCK_NAME``; a temporary directory is bind-mounted on ``/run`` in its
  namespace, so the socket is ``<tmp>/run/pcscd/pcscd.comm`` for us and the host's ``/run`` is
  never touched (no stale files to clean).

Clients (pyscard in this process, opensc-tool) find it through ``PCSCLITE_CSOCK_NAME``, which
libpcsclite does honour; it is set for the session (libpcsclite reads it once per process).
Cards reach vpcd from inside the namespace: :meth:`PCSCD.card` runs a :class:`VPCDClient` in a
thread that has ``setns``-ed into it, :meth:`PCSCD.card_process` starts
``tests.idcard.chip.sim_card`` under ``nsenter --net``.

Everything started is stopped by PID at the end. A missing pcscd, vpcd driver, unshare, nsenter
or ip skips locally and fails under CI=true.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from idcard.chip.emrtd import VirtualChip
from idcard.chip.vpcd import VPCDClient
from tests.conftest import ROOT, require_component, require_tool
from tests.idcard.chip.sim_card import SimCard

VPCD_DRIVERS = (
    "/usr/lib/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/lib64/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so",
)
FRIENDLY_NAME = "idkarta vpcd"
BASE_PORT = 35963  # 0x8C7B; vpcd serves slot n on BASE_PORT + n
READERS = (f"{FRIENDLY_NAME} 00 00", f"{FRIENDLY_NAME} 00 01")
CLONE_NEWNET = 0x40000000
START_TIMEOUT = 10.0
CARD_TIMEOUT = 10.0


class PluggedChip:
    """A :class:`VirtualChip` as :meth:`PCSCD.card` wants a card (it waits for
    ``power_on_event``), counting the APDUs it answers in ``apdus``; ``on_apdu(n)``, when set,
    runs after the n-th answer is computed (e.g. to pull the card out)."""

    def __init__(self, chip: VirtualChip) -> None:
        self.chip = chip
        self.power_on_event = threading.Event()
        self.apdus = 0
        self.on_apdu: Callable[[int], None] | None = None

    @property
    def atr(self) -> bytes:
        return self.chip.atr

    def power_on(self) -> None:
        self.chip.power_on()
        self.power_on_event.set()

    def power_off(self) -> None:
        self.chip.power_off()

    def reset(self) -> None:
        self.chip.reset()

    def process(self, apdu: bytes) -> bytes:
        answer = self.chip.process(apdu)
        self.apdus += 1
        if self.on_apdu is not None:
            self.on_apdu(self.apdus)
        return answer


PluggableCard = SimCard | PluggedChip


def _enter_netns(path: str) -> None:
    """Move the calling thread (only it) into the network namespace at ``path``."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
    finally:
        os.close(fd)


class PCSCD:
    """A running private pcscd (see module doc)."""

    def __init__(self) -> None:
        self.pcscd = require_tool("pcscd")
        for tool in ("unshare", "nsenter", "ip", "opensc-tool"):
            require_tool(tool)
        driver = next((d for d in VPCD_DRIVERS if Path(d).exists()), None)
        require_component(driver is not None, "the vpcd reader driver (vsmartcard-vpcd)")
        require_component(os.geteuid() == 0, "root (unshare --net needs it)")
        try:
            import smartcard.scard  # noqa: F401
        except ImportError:
            require_component(False, "pyscard (pip install 'idkarta[pcsc]')")
        assert driver is not None
        self.driver = driver
        self.tmp = Path(tempfile.mkdtemp(prefix="idk-pcscd-"))
        self.socket = self.tmp / "run" / "pcscd" / "pcscd.comm"
        self.log = self.tmp / "pcscd.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._old_env = os.environ.get("PCSCLITE_CSOCK_NAME")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def netns(self) -> str:
        return f"/proc/{self.pid}/ns/net"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "PCSCLITE_CSOCK_NAME": str(self.socket)}

    def start(self) -> None:
        (self.tmp / "run").mkdir()
        conf = self.tmp / "reader.conf"
        conf.write_text(
            f'FRIENDLYNAME "{FRIENDLY_NAME}"\n'
            f"DEVICENAME   /dev/null:0x{BASE_PORT:X}\n"
            f"LIBPATH      {self.driver}\n"
        )
        script = 'ip link set lo up && mount --bind "$1" /run && exec "$2" -f -c "$3"'
        argv = [
            "unshare", "--net", "--mount", "--propagation", "private", "--",
            "sh", "-c", script, "sh", str(self.tmp / "run"), self.pcscd, str(conf),
        ]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while not self.socket.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"pcscd did not start:\n{self.log.read_text(errors='replace')}")
            time.sleep(0.05)
        os.environ["PCSCLITE_CSOCK_NAME"] = str(self.socket)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        if self._old_env is None:
            os.environ.pop("PCSCLITE_CSOCK_NAME", None)
        else:
            os.environ["PCSCLITE_CSOCK_NAME"] = self._old_env
        shutil.rmtree(self.tmp, ignore_errors=True)

    @contextlib.contextmanager
    def card(
        self, card: PluggableCard | None = None, slot: int = 0, *, quickack: bool = True
    ) -> Iterator[tuple[PluggableCard, VPCDClient]]:
        """Plug ``card`` into reader ``slot``; yields once pcscd has powered it on."""
        card = card if card is not None else SimCard()
        client = VPCDClient(card, "127.0.0.1", BASE_PORT + slot, quickack=quickack)
        errors: queue.Queue[BaseException] = queue.Queue()

        def run() -> None:
            try:
                _enter_netns(self.netns)
                client.serve()
            except BaseException as exc:  # reported to the test below
                errors.put(exc)

        thread = threading.Thread(target=run, name=f"vpcd-card-{slot}", daemon=True)
        thread.start()
        try:
            if not card.power_on_event.wait(CARD_TIMEOUT):
                detail = "" if errors.empty() else f": {errors.get()!r}"
                pytest.fail(f"pcscd did not power the card in slot {slot} on{detail}")
            _wait_present(READERS[slot])
            yield card, client
        finally:
            client.stop()
            thread.join(CARD_TIMEOUT)
            assert not thread.is_alive(), "the card thread did not stop"
            wait_absent(READERS[slot])

    @contextlib.contextmanager
    def card_process(
        self, slot: int = 1, variant: str = "t1", *, quickack: bool = True
    ) -> Iterator[subprocess.Popen[str]]:
        """Run ``tests.idcard.chip.sim_card`` in the namespace; yields once it is powered on."""
        argv = [
            "nsenter", f"--net={self.netns}", sys.executable, "-m", "tests.idcard.chip.sim_card",
            "--port", str(BASE_PORT + slot), "--variant", variant,
        ]
        if not quickack:
            argv.append("--no-quickack")
        proc = subprocess.Popen(
            argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**self.env, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])},
        )
        try:
            _wait_line(proc, "on")
            _wait_present(READERS[slot])
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(5)
            if proc.stdout is not None:
                proc.stdout.close()
            wait_absent(READERS[slot])


def _wait_line(proc: subprocess.Popen[str], wanted: str) -> None:
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.strip())
            if line.strip() == wanted:
                return
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    seen = []
    deadline = time.monotonic() + CARD_TIMEOUT
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        seen.append(line)
        if line == wanted:
            return
        if line == "" and proc.poll() is not None:
            break
    pytest.fail(f"the card process never reported {wanted!r}; output: {seen}")


def _wait_state(reader: str, present: bool, timeout: float = CARD_TIMEOUT) -> bool:
    """Block until pcscd reports the reader with a usable card (or empty); False on timeout."""
    from smartcard import scard

    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return False
    try:
        deadline = time.monotonic() + timeout
        state = scard.SCARD_STATE_UNAWARE
        while time.monotonic() < deadline:
            hresult, states = scard.SCardGetStatusChange(context, 200, [(reader, state)])
            if hresult == scard.SCARD_E_TIMEOUT:
                continue
            if hresult != scard.SCARD_S_SUCCESS:
                return False
            state = states[0][1] & ~scard.SCARD_STATE_CHANGED
            usable = bool(state & scard.SCARD_STATE_PRESENT) and not (
                state & scard.SCARD_STATE_MUTE
            )
            if usable == present and (present or state & scard.SCARD_STATE_EMPTY):
                return True
        return False
    finally:
        scard.SCardReleaseContext(context)


def wait_absent(reader: str) -> None:
    """Block until pcscd reports ``reader`` empty; fails the test on timeout."""
    if not _wait_state(reader, present=False):
        pytest.fail(f"pcscd still sees a card in {reader!r}")


def _wait_present(reader: str) -> None:
    if not _wait_state(reader, present=True):
        pytest.fail(f"pcscd never reported the card in {reader!r}")


_HARNESS: PCSCD | None = None


@pytest.fixture(scope="session")
def pcscd() -> Iterator[PCSCD]:
    """The session's private pcscd (started once even when registered by several conftests)."""
    global _HARNESS
    if _HARNESS is None:
        harness = PCSCD()
        harness.start()
        _HARNESS = harness
    yield _HARNESS
    if _HARNESS is not None:
        _HARNESS.stop()
        _HARNESS = None
