"""`idkarta demo` runs the main job on embedded defaults: a card's data issued, signed, and
verified; the dump round-trips and the auditor's command agrees (and catches a tampered DG)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import ROOT, require_tool
from tests.pcsc_harness import PCSCD, READERS, pcscd, wait_absent  # noqa: F401 - the fixture

import station
from idcard.lds.dg2 import DG2
from idcard.lds.dump import Dump
from idcard.reader.pcsc import PCSCTransport
from station.capture import check_face
from station.cli import main


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
    # The card number is the one the Center allocated (decree §6б registry; scheme stage 3).
    assert "IUUZBAD0000001031503902620452<" in proc.stdout
    assert "PINFL       31503902620452: present and correct" in proc.stdout
    assert re.search(r"Registry    AD0000001 verified", proc.stdout)
    assert re.search(r"9\. Handover   AD0000001 to the holder .*: on time \(due ", proc.stdout)
    # Stages 5-6: the lost card restored; the old one lost and its certificate revoked.
    assert "Center      AD0000001 lost; new card AD0000002" in proc.stdout
    assert re.search(r"revoked: listed in \S+esign-after-loss.crl, OCSP answers revoked",
                     proc.stdout)
    assert "0 revocation(s) pending" in proc.stdout
    assert "every file re-encodes byte for byte" in proc.stdout
    assert "identical to the files issued" in proc.stdout
    for protocol in ("PACE", "CA", "TA", "AA"):
        assert re.search(rf"OK\s+{protocol}\s", proc.stdout), protocol
    assert (out / "chip.json").stat().st_mode & 0o077 == 0  # the image holds the chip's keys
    # Issue 11: captured at the point through the gates, stored encrypted; the chip's DG2 is the
    # accepted token portrait of the shipped photograph, byte for byte; EF.SOD from the Center.
    assert re.search(r"Capture     face \(photo\.jpg\) accepted \(attempt 1\); finger 2 "
                     r"accepted \(attempt 1, score \d+\); finger 7 accepted", proc.stdout)
    assert "Stored      encrypted at rest (AES-256-GCM, key file:" in proc.stdout
    assert "EF.SOD signed at the Center from the data-group hashes" in proc.stdout
    # The restored card through the point's persisted pipeline, every step done, the gate passed.
    assert re.search(r"Pipeline    job \w+ on reader-1, blank DEMO-TAS-01-0002-00001: take-blank, "
                     r"build-lds, sign-sod, personalize, esign-enrol, read-back-gate, ready$",
                     proc.stdout, re.M)  # fmt: skip
    assert "Restored    AD0000002 ready: personalized on " in proc.stdout
    token = check_face((Path(station.__file__).parent / "samples" / "photo.jpg").read_bytes())
    assert DG2.decode(Dump.read(out / "card").files["DG2"]).images == (token.image,)
    with sqlite3.connect(out / "station" / "point.db") as db:
        sealed = [r[0] for r in db.execute("SELECT sealed FROM biometric_captures "
                                           "WHERE sealed IS NOT NULL")]  # fmt: skip
    assert len(sealed) == 6 and all(token.image[500:532] not in b for b in sealed)
    with sqlite3.connect(out / "station" / "center.db") as db:
        signed = db.execute("SELECT c.series, c.number, s.point_code FROM card_sods s JOIN "
                            "cards c ON c.id = s.card_id ORDER BY c.number").fetchall()  # fmt: skip
    assert signed == [("AD", 1, "TAS-01"), ("AD", 2, "TAS-01")]
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
    assert "OneID       1 registration event delivered to the local queue" in proc.stdout
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


def _applicant_file(folder: Path, **changes: object) -> Path:
    """The sample applicant, with ``changes`` (``document.x`` for the document's keys)."""
    samples = Path(str(resources.files("station") / "samples"))
    shutil.copytree(samples, folder, dirs_exist_ok=True)
    data = json.loads((samples / "applicant.json").read_text(encoding="utf-8"))
    for key, value in changes.items():
        target, name = (data["document"], key[9:]) if key.startswith("document.") else (data, key)
        if value is None:
            del target[name]
        else:
            target[name] = value
    path = folder / "applicant.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"birth_date": "1991-03-15"}, "error: pinfl: its digits 2-7 say born 1990-03-15"),
        ({"sex": "F"}, "error: pinfl: its first digit says sex M, sex is F"),
        ({"can": "12"}, "error: can: the card access number is exactly 6 digits"),
        ({"document.issue_date": "2030-01-01"}, "error: document.issue_date: 2030-01-01 is after"),
        ({"document.number": "12345"}, "error: document.number: '12345' is not 7 digits"),
        ({"pinfl": "31503902620453"}, "error: pinfl: check digit does not match"),
        ({"birth_date": "15.03.1990"}, "error: birth_date: not a date YYYY-MM-DD"),
        ({"document.series": None}, "error: document.series: missing"),
        ({"sex": 1}, "error: sex: must be a JSON string"),
    ],
)
def test_demo_refuses_a_bad_application_before_writing(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    path = _applicant_file(tmp_path / "applicant", **changes)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["demo", "--out", str(out), "--applicant", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(message), result.stderr
    assert result.stderr.count("\n") == 1
    assert not out.exists()


# Issue 9 item 15: after the demo, every command it (or the README) prints works as printed.


def _printed_commands(stdout: str) -> list[str]:
    return [line[len("   $ "):] for line in stdout.splitlines() if line.startswith("   $ ")]


def test_every_printed_command_works(pcscd: PCSCD, tmp_path: Path) -> None:  # noqa: F811
    """The demo runs in a folder as `make demo` does (`--out demo-out`); each command it prints
    runs there through a shell, `idkarta` being this interpreter's `python -m station.cli`;
    `card serve` runs in pcscd's network namespace until `card read --reader 0` has read it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "idkarta"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m station.cli "$@"\n')
    wrapper.chmod(0o755)
    env = {k: v for k, v in pcscd.env.items() if not k.startswith("IDKARTA_")}
    # idkarta as this interpreter's module; pyhanko (test extras) beside this interpreter
    env["PATH"] = f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(Path(station.__file__).resolve().parents[1])  # the sources tested
    work = tmp_path / "work"
    work.mkdir()

    def shell(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", "-c", command], cwd=work, env=env, capture_output=True, text=True,
            timeout=120, check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    demo = shell("idkarta demo --out demo-out")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    secrets_file = work / "demo-out" / "demo-secrets.sh"
    assert "0. Secrets    demo-out/demo-secrets.sh (mode 0600)" in demo.stdout
    assert secrets_file.stat().st_mode & 0o777 == 0o600
    values = dict(re.findall(r"^export (IDKARTA_\w+)=(\S+)$", secrets_file.read_text(), re.M))
    assert set(values) == {"IDKARTA_PASSPHRASE", "IDKARTA_PIN", "IDKARTA_PUK", "IDKARTA_CAN"}
    assert values["IDKARTA_CAN"] == "458120" and re.fullmatch(r"\d{6}", values["IDKARTA_PIN"])
    assert re.fullmatch(r"\d{8}", values["IDKARTA_PUK"])
    for name in ("IDKARTA_PASSPHRASE", "IDKARTA_PIN", "IDKARTA_PUK"):
        assert values[name] not in demo.stdout + demo.stderr, name  # only in the file

    commands = _printed_commands(demo.stdout)
    # Every numbered step of the summary prints at least one command.
    steps = re.split(r"^\d+\. ", demo.stdout, flags=re.M)[2:]  # after "0. Secrets"
    assert len(steps) == 10
    assert all("\n   $ " in step for step in steps), [s.splitlines()[0] for s in steps]
    # The README's commands are the demo's.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for line in re.findall(r"^((?:idkarta|\(\. demo-out).*?)(?:\s+#.*)?$", readme, re.M):
        assert line in commands, line

    ran = []
    server: subprocess.Popen[str] | None = None
    try:
        for command in commands:
            if command.startswith("idkarta card serve"):
                server = subprocess.Popen(
                    ["nsenter", f"--net={pcscd.netns}", "sh", "-c", command], cwd=work, env=env,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                    start_new_session=True,
                )  # fmt: skip
                with PCSCTransport.connect(READERS[0], wait=20):
                    pass  # the card is in
                continue
            done = shell(command)
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
            if "esign-after-loss.crl" in command:  # the lost card's certificate: revoked
                assert "revocation=revoked" in done.stdout and "exit 1 (revoked)" in done.stdout
            elif "idkarta validate" in command:  # the card's and the restored card's (PIV)
                assert "revocation=good" in done.stdout, done.stdout
            ran.append(command)
            if "--reader 0" in command or "pyhanko sign" in command:
                assert server is not None
                if "--reader 0" in command:
                    assert "TA: ok (UZIS00001)" in done.stdout
                os.killpg(server.pid, signal.SIGTERM)
                _, err = server.communicate(timeout=30)
                assert "stopped; image" in err, err  # `card serve` ended cleanly (sh: SIGTERM)
                server = None
                wait_absent(READERS[0])
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.communicate(timeout=30)
    assert len(ran) == len(commands) - 2  # all but the two `card serve`
    assert any("idkarta pki crl --dir demo-out/pki" in c for c in ran)
    assert any("idkarta esign crl --dir demo-out/esign" in c for c in ran)
    assert any("pyhanko sign addsig" in c for c in ran)  # the restored card through OpenSC
    assert Dump.read(work / "demo-out" / "read-pcsc").files == Dump.read(
        work / "demo-out" / "read"
    ).files


def test_path_hint_makes_the_printed_commands_work(tmp_path: Path) -> None:
    """`make demo` runs .venv/bin/idkarta: when `idkarta` is not on PATH the demo says how."""
    from station.cli.demo import path_hint

    assert path_hint("/usr/local/bin/idkarta", tmp_path) is None
    assert "pip install -e ." in str(path_hint(None, tmp_path))
    bin_dir = tmp_path / "venv bin"
    bin_dir.mkdir()
    python = shlex.quote(sys.executable)
    (bin_dir / "idkarta").write_text(f'#!/bin/sh\nexec {python} -m station.cli "$@"\n')
    (bin_dir / "idkarta").chmod(0o755)
    hint = path_hint(None, bin_dir)
    assert hint is not None
    command = hint.split("first run ", 1)[1].split(" (or ", 1)[0]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(station.__file__).resolve().parents[1])}
    done = subprocess.run(["sh", "-c", f"{command} && idkarta --version"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("idkarta, version")
