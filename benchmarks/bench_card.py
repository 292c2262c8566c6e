"""Reading a full card through pcscd: time, APDU count against the minimum, APDU rate against a
bare SELECT loop.

Run (root, needs pcscd, the vpcd driver, unshare/nsenter):
``.venv/bin/python -m benchmarks.bench_card [N]``.

The card: the sample applicant with a ~20 kB portrait in DG2 (the sample JPEG padded with a
comment segment to 20,000 bytes) and its two fingerprints (~13 kB each) in DG3, EF.SOD by the
test DS, PACE-GM-AES-128 on brainpoolP256r1, CA, TA (the CVCA/DV/IS of ``idkarta pki init``) and
AA. A private pcscd is started in its own network namespace (tests/pcsc_harness.py) and stopped
at the end; the virtual chip is plugged in through vpcd in a thread.

Figures (best of N full reads):

* time and APDU count of :func:`idcard.reader.read_document` with CAN and terminal credentials;
* the minimum APDU count for the same data at the negotiated length: the protocol commands
  (PACE, CA, TA, AA: counted from the trace), the SELECT of the application, the READ BINARY
  of EF.ATR/INFO (the length limits) and ceil(size / chunk) READ BINARY per file with its
  short file identifier (which selects it), chunk being the largest plaintext the reader got
  in one answer; the minimum with one SELECT per file instead is printed too;
* APDUs per second of the full read against a bare SELECT loop through the same pcscd.
"""

from __future__ import annotations

import math
import re
import sys
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner
from tests.idcard.chip.cards import CAN, build_dump, make_card
from tests.pcsc_harness import PCSCD, READERS, PluggedChip

from idcard.apdu import CommandAPDU
from idcard.chip.emrtd import EMRTD_AID, VirtualChip
from idcard.cvc.certificate import CVCertificate
from idcard.lds.dg2 import DG2
from idcard.lds.dump import Dump
from idcard.reader import PCSCTransport, TerminalCredentials, read_document
from station.applicant import sample_applicant
from station.cli import main as cli
from station.folders.card import load_terminal, run_read

PASS = "bench-passphrase"
PORTRAIT_SIZE = 20_000


def padded_jpeg(jpeg: bytes, size: int) -> bytes:
    """``jpeg`` grown to ``size`` bytes by a COM segment right after SOI (still a valid JPEG)."""
    room = size - len(jpeg) - 4
    if room < 0 or room > 65533:
        raise ValueError("cannot pad to that size with one comment segment")
    return jpeg[:2] + b"\xff\xfe" + (room + 2).to_bytes(2, "big") + b"\x00" * room + jpeg[2:]


def build_card(tmp: Path) -> tuple[VirtualChip, Dump, TerminalCredentials]:
    args = ["pki", "init", "--dir", str(tmp / "pki"), "--key-type", "ec-p256",
            "--cvc-key-type", "ec-brainpoolP256r1"]  # fmt: skip
    result = CliRunner().invoke(cli, args, env={"IDKARTA_PASSPHRASE": PASS})
    if result.exit_code != 0:
        raise SystemExit(f"pki init failed: {result.stderr}")
    cvc = tmp / "pki" / "cvc"
    terminal = load_terminal(cvc, cvc / "keys" / "UZIS00001.key.pem", lambda: PASS.encode())
    portrait = padded_jpeg(sample_applicant().portrait, PORTRAIT_SIZE)
    dump, keys = build_dump(replace={"DG2": DG2.from_image(portrait).encode()})
    cvca = CVCertificate.decode((cvc / "UZCVCA00001.cvcert").read_bytes())
    card = make_card(dump, keys, cvca=cvca)
    return card.chip, dump, terminal


_PLAIN_CMD = re.compile(r"^  > [0-9A-F]{2} ([0-9A-F]{2}) ")
_PLAIN_RSP = re.compile(r"^  < [0-9A-F]{4} \([^)]*\) (\d+) bytes")
_WIRE_CMD = re.compile(r"^> [0-9A-F]{2} ([0-9A-F]{2}) ")


def minimum_apdus(trace: Path, dump: Dump) -> tuple[int, int, int, int]:
    """(protocol APDUs, chunk, minimum APDU count with SFIs, and with a SELECT per file) from a
    trace of one full read."""
    lines = trace.read_text().splitlines()
    wire = [m.group(1) for line in lines if (m := _WIRE_CMD.match(line))]
    protocol = sum(1 for ins in wire if ins not in ("A4", "B0", "B1"))
    chunk = 0
    for i, line in enumerate(lines):
        cmd = _PLAIN_CMD.match(line)
        if cmd and cmd.group(1) in ("B0", "B1") and i + 1 < len(lines):
            rsp = _PLAIN_RSP.match(lines[i + 1])
            if rsp:
                chunk = max(chunk, int(rsp.group(1)))
    files = [len(data) for name, data in dump.files.items()]
    reads = sum(math.ceil(size / chunk) for size in files)
    return protocol, chunk, protocol + 2 + reads, protocol + len(files) + reads


def select_rate(count: int) -> float:
    command = CommandAPDU(0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)
    with PCSCTransport.connect(READERS[0]) as t:
        t.transmit(command).check()
        start = time.perf_counter()
        for _ in range(count):
            t.transmit(command)
        return count / (time.perf_counter() - start)


def main(n: int = 5) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-card-") as folder:
        tmp = Path(folder)
        chip, dump, terminal = build_card(tmp)
        harness = PCSCD()
        harness.start()
        try:
            counting = PluggedChip(chip)
            with harness.card(counting, 0):
                with PCSCTransport.connect(READERS[0]) as t:  # one traced read: the counts
                    result = run_read(t, mrz=None, can=CAN, terminal=terminal,
                                      out=tmp / "traced", trace=tmp / "trace.log")  # fmt: skip
                ok = all(run.ok for run in result.protocols)
                if not ok or dict(result.dump.files) != dict(dump.files):
                    raise SystemExit("the traced read did not read the whole card")
                protocol, chunk, minimum, by_select = minimum_apdus(tmp / "trace.log",
                                                                    result.dump)  # fmt: skip
                best, apdus = math.inf, 0
                for _ in range(n):
                    before = counting.apdus
                    start = time.perf_counter()
                    with PCSCTransport.connect(READERS[0]) as t:
                        result = read_document(t, can=CAN, terminal=terminal)
                    elapsed = time.perf_counter() - start
                    assert dict(result.dump.files) == dict(dump.files)
                    if elapsed < best:
                        best, apdus = elapsed, counting.apdus - before
                select = max(select_rate(300) for _ in range(3))
        finally:
            harness.stop()
    total = sum(len(d) for d in dump.files.values())
    rate = apdus / best
    figures = {"seconds": best, "apdus": apdus, "minimum": minimum, "protocol": protocol,
               "minimum_select": by_select,
               "chunk": chunk, "bytes": total, "apdu_rate": rate,
               "select_rate": select}  # fmt: skip
    print(f"full read ({len(dump.files)} files, {total} bytes; DG2 {len(dump.files['DG2'])}, "
          f"DG3 {len(dump.files['DG3'])}): {best * 1000:.0f} ms, {apdus} APDUs; minimum "
          f"{minimum} ({protocol} protocol + SELECT application + READ EF.ATR/INFO + "
          f"ceil(size/{chunk}) READ BINARY by SFI per file; {by_select} with a SELECT per "
          f"file); APDU ratio {apdus / minimum:.2f} (target <= 1.1)")
    print(f"APDU rate: full read {rate:.0f}/s, bare SELECT loop {select:.0f}/s; "
          f"ratio {rate / select:.2f}")
    return figures


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
