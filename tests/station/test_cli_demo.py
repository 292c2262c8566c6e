"""`idkarta demo` runs the main job on embedded defaults: a card's data issued, signed, and
verified; the dump round-trips and the auditor's command agrees (and catches a tampered DG)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_tool

from idcard.lds.dump import Dump


def _idkarta(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "station.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_demo_issues_signs_and_verifies(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _idkarta("demo", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "IUUZBAD1234567731503902620452<" in proc.stdout
    assert "every file re-encodes byte for byte" in proc.stdout
    assert "identical to the files issued" in proc.stdout
    for protocol in ("PACE", "CA", "TA", "AA"):
        assert re.search(rf"OK\s+{protocol}\s", proc.stdout), protocol
    assert (out / "chip.json").stat().st_mode & 0o077 == 0  # the image holds the chip's keys
    assert "RESULT: PASS" in proc.stdout
    assert " FAIL " not in proc.stdout
    dump = Dump.read(out / "card")
    read = Dump.read(out / "read")
    assert read.files == dump.files  # DG3 too: Terminal Authentication opened it
    assert {"EF.COM", "EF.SOD", "DG1", "DG2", "DG3", "DG14", "DG15", "EF.CardAccess"} <= set(
        dump.files
    )
    for name, obj in dump.decode_all().items():
        assert obj.encode() == dump.files[name]

    # The auditor's command the demo prints gives the same verdict in its own process ...
    command = re.search(r"idkarta (verify .*)", proc.stdout)
    assert command is not None
    args = command.group(1).split()
    assert _idkarta(*args).returncode == 0
    # The holder's e-signature: certificate in the chip, OneID told, a PDF signed with card + PIN
    # that the validate command and poppler's pdfsig accept.
    assert "Serial Number: PNOUZ-31503902620452" in proc.stdout
    assert "1 registration event(s) delivered" in proc.stdout
    events = (out / "esign" / "oneid.jsonl").read_text().splitlines()
    assert len(events) == 1
    assert '"31503902620452"' in events[0]
    validate = re.search(r"idkarta (validate .*)", proc.stdout)
    assert validate is not None
    assert _idkarta(*validate.group(1).split()).returncode == 0
    pdfsig = subprocess.run(
        [require_tool("pdfsig"), str(out / "signed.pdf")], capture_output=True, text=True,
        check=False, timeout=60,
    )
    assert "Signature is Valid" in pdfsig.stdout

    # ... and fails on a DG changed after signing, naming that DG.
    dg2 = out / "read" / "DG2"
    data = bytearray(dg2.read_bytes())
    data[-1] ^= 0x01
    dg2.write_bytes(bytes(data))
    tampered = _idkarta(*args)
    assert tampered.returncode == 1
    assert re.search(r"FAIL\s+DG2 ", tampered.stdout)


def test_demo_refuses_to_clear_a_foreign_pki_folder(tmp_path: Path) -> None:
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "keep.txt").write_text("not a demo")
    proc = _idkarta("demo", "--out", str(tmp_path))
    assert proc.returncode == 2
    assert "not made by the demo" in proc.stderr
    assert (tmp_path / "pki" / "keep.txt").exists()
    assert not (tmp_path / "card").exists()
    assert not (tmp_path / "read").exists()
