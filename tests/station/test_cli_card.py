"""`idkarta card …` through click's runner, in process (no pcscd): new, show, personalize
--image, read --image (PACE, TA with `idkarta pki init`'s EAC PKI, the trace), and the errors;
`card serve` in a process against a stand-in vpcd socket (retry counters on disk before the
answer, checked by SIGKILL at random points; what it says when vpcd is not there).
The PC/SC paths (`card serve` + `card read --reader`) are in tests/idcard/reader/test_pcsc_e2e.py.
"""

from __future__ import annotations

import json
import os
import queue
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ec
from tests.conftest import ROOT
from tests.idcard.chip.cards import CAN, TODAY, build_dump, sample_cvca
from tests.idcard.chip.test_vpcd import FakeVPCD
from tests.idcard.esign.esign_kit import PIN, PUK, enrolled_chip, personalized_chip
from tests.pcsc_harness import PCSCD, READERS, PluggedChip, wait_absent

import station
from idcard.apdu import CommandAPDU
from idcard.chip.emrtd import VirtualChip
from idcard.cvc.certificate import CVCertificate
from idcard.esign.protocol import ESIGN_AID, pin_block
from idcard.lds.dg1 import DG1
from idcard.lds.dg15 import DG15
from idcard.lds.dump import Dump
from station.card_data import CardKeys
from station.cli import main
from station.errors import UsageError
from station.folders.card import load_secrets

PASS = "card-test-passphrase"
ENV = {"IDKARTA_PASSPHRASE": PASS}


def _run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args, env=env or ENV)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def eac_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`idkarta pki init` with its CVCA/DV/IS under <pki>/cvc (file key store)."""
    d = tmp_path_factory.mktemp("pki") / "pki"
    code, _, err = _run(["pki", "init", "--dir", str(d), "--key-type", "ec-p256",
                         "--cvc-key-type", "ec-brainpoolP256r1"])  # fmt: skip
    assert code == 0, err
    return d


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Dump, CardKeys]:
    """A dump folder of the sample applicant (EF.SOD by the test DS) and its secrets file."""
    d = tmp_path_factory.mktemp("material")
    dump, keys = build_dump()
    dump.write(d / "dump")
    keys.to_secrets_file(d / "secrets.json", PASS.encode(), can=CAN, cvca=sample_cvca(),
                         current_date=TODAY)  # fmt: skip
    return d / "dump", d / "secrets.json", dump, keys


def _personalized(tmp: Path, material: tuple[Path, Path, Dump, CardKeys], *extra: str) -> Path:
    dump_dir, secrets, _, _ = material
    image = tmp / "chip.json"
    assert _run(["card", "new", str(image)])[0] == 0
    code, out, err = _run(["card", "personalize", "--image", str(image), "--dump", str(dump_dir),
                           "--secrets", str(secrets), *extra])  # fmt: skip
    assert code == 0, err
    assert out.startswith("personalized and locked")
    return image


def test_secrets_file_round_trip(tmp_path: Path) -> None:
    keys = CardKeys.generate()
    path = keys.to_secrets_file(tmp_path / "s.json", b"pw", can="654321", current_date=TODAY,
                                pace_required=True)  # fmt: skip
    assert path.stat().st_mode & 0o777 == 0o600
    content = json.loads(path.read_text())
    for name in ("ca_private_key", "aa_private_key"):
        assert content[name].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----\n")
    secrets = load_secrets(path, lambda: b"pw")
    assert secrets.can == "654321" and secrets.pace_required and secrets.current_date == TODAY
    assert isinstance(secrets.ca_private_key, ec.EllipticCurvePrivateKey)
    assert (secrets.ca_private_key.private_numbers()
            == keys.chip_authentication.private_numbers())  # fmt: skip
    assert isinstance(secrets.aa_private_key, ec.EllipticCurvePrivateKey)
    assert (secrets.aa_private_key.private_numbers()
            == keys.active_authentication.private_numbers())  # fmt: skip
    with pytest.raises(UsageError, match="passphrase is wrong") as info:
        load_secrets(path, lambda: b"wrong")
    assert "pw" not in str(info.value).replace(str(path), "")


def test_new_and_show(tmp_path: Path) -> None:
    image = tmp_path / "blank.json"
    code, out, _ = _run(["card", "new", str(image), "--pace-required", "--short-length"])
    assert code == 0 and "blank chip written" in out
    code, out, _ = _run(["card", "show", str(image), "--json"])
    assert code == 0
    shown = json.loads(out)
    assert shown["state"] == "blank" and shown["pace_required"] and not shown["extended_length"]
    assert [(f["name"], f["df"]) for f in shown["files"]] == [("EF.ATR/INFO", "mf")]
    assert shown["ca_key"] is None and shown["can"] is False and shown["cvca"] is None
    code, out, _ = _run(["card", "show", str(image)])
    assert code == 0 and "state: blank" in out and "PACE required: yes" in out
    code, _, err = _run(["card", "new", str(image)])
    assert code == 2 and "exists" in err and len(err.strip().splitlines()) == 1


def test_personalize_show_read_with_trace(
    tmp_path: Path, material: tuple[Path, Path, Dump, CardKeys]
) -> None:
    image = _personalized(tmp_path, material)
    _, _, dump, keys = material
    code, out, _ = _run(["card", "show", str(image), "--json"])
    shown = json.loads(out)
    assert shown["state"] == "locked" and shown["can"] and shown["mrz_key"]
    assert shown["ca_key"] == f"EC {keys.chip_authentication.curve.name}"
    assert shown["aa_key"] == "EC secp256r1"
    sizes = {f["name"]: f["size"] for f in shown["files"]}
    assert all(sizes[name] == len(data) for name, data in dump.files.items())
    assert "PRIVATE" not in out and "123456" not in out

    out_dir, trace = tmp_path / "read", tmp_path / "trace.log"
    code, out, err = _run(["card", "read", "--image", str(image), "--can", CAN, "--out",
                           str(out_dir), "--trace", str(trace), "--json"])  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert summary["access"] == "PACE" and summary["ok"]
    assert [r["protocol"] for r in summary["protocols"]] == ["PACE", "CA", "AA"]
    assert summary["skipped"] == {"DG3": "needs Terminal Authentication: no terminal "
                                  "credentials given"}  # fmt: skip
    back = Dump.read(out_dir)
    assert {n: d for n, d in back.files.items()} == {
        n: d for n, d in dump.files.items() if n != "DG3"}  # fmt: skip
    lines = trace.read_text().splitlines()
    wire = [line for line in lines if line.startswith("> 0C B0")]
    plain = [line for line in lines if line.startswith("  > 00 B0")]
    assert wire and len(plain) == len(wire)  # every protected READ BINARY decrypted
    # the plaintext answers to READ BINARY show their length, not the personal data
    answers = [lines[i + 1] for i, line in enumerate(lines) if line.startswith("  > 00 B0")]
    # (a file read by its short identifier that is not on the card gets 6A82 and no data)
    found = [a for a in answers if not a.startswith("  < 6A82 (file or application not found) 0")]
    assert found and all(a.startswith("  < 9000") and "masked" in a for a in found)
    # secrets and personal data stay out: CAN, MRZ, DG1 content
    mrz_doc = "AD1234567"
    text = trace.read_text()
    dg1_hex = dump.files["DG1"].hex().upper()
    assert dg1_hex not in text and dg1_hex[20:60] not in text
    assert not re.search(r"(?<![0-9A-F])313233343536(?![0-9A-F])", text)  # the CAN in ASCII
    assert mrz_doc not in text
    # PACE's general authenticates are masked both ways
    assert all("masked" in line for line in lines if line.startswith("> 10 86") or
               line.startswith("> 00 86"))  # fmt: skip


def test_read_with_terminal_from_pki_init(
    tmp_path: Path, material: tuple[Path, Path, Dump, CardKeys], eac_pki: Path
) -> None:
    cvca = eac_pki / "cvc" / "UZCVCA00001.cvcert"
    image = _personalized(tmp_path, material, "--cvca", str(cvca))
    code, out, _ = _run(["card", "show", str(image), "--json"])
    assert json.loads(out)["cvca"] == "UZCVCA00001"
    out_dir = tmp_path / "read"
    code, out, err = _run(["card", "read", "--image", str(image), "--can", CAN,
                           "--terminal", str(eac_pki / "cvc"), "--terminal-key",
                           str(eac_pki / "cvc" / "keys" / "UZIS00001.key.pem"),
                           "--out", str(out_dir)])  # fmt: skip
    assert code == 0, err
    assert "TA: ok (UZIS00001)" in out
    _, _, dump, _ = material
    assert Dump.read(out_dir).files == dump.files  # DG3 too
    # the chip's date moved to the IS certificate's effective date, and the image was saved
    is_cert = CVCertificate.decode((eac_pki / "cvc" / "UZIS00001.cvcert").read_bytes())
    dv_cert = CVCertificate.decode((eac_pki / "cvc" / "UZDV00001.cvcert").read_bytes())
    assert VirtualChip.load(image).state.current_date == max(
        TODAY, dv_cert.body.effective_date, is_cert.body.effective_date)  # fmt: skip
    # a wrong passphrase for the terminal key: exit 2, one line, no secret in it
    code, _, err = _run(["card", "read", "--image", str(image), "--can", CAN, "--terminal",
                         str(eac_pki / "cvc"), "--terminal-key",
                         str(eac_pki / "cvc" / "keys" / "UZIS00001.key.pem"),
                         "--out", str(tmp_path / "r2")],
                        env={"IDKARTA_PASSPHRASE": "wrong"})  # fmt: skip
    assert code == 2 and "passphrase is wrong" in err and "wrong" not in err.split(":")[0]
    assert not (tmp_path / "r2").exists()


def test_errors(tmp_path: Path, material: tuple[Path, Path, Dump, CardKeys]) -> None:
    image = _personalized(tmp_path, material)
    dump_dir, secrets, _, _ = material
    # wrong CAN: exit 2, one line, nothing written
    code, _, err = _run(["card", "read", "--image", str(image), "--can", "000000",
                         "--out", str(tmp_path / "r")])  # fmt: skip
    assert code == 2 and len(err.strip().splitlines()) == 1 and "PACE" in err
    assert "000000" not in err and not (tmp_path / "r").exists()
    # personalization after the lock: the card refuses, exit 1
    code, _, err = _run(["card", "personalize", "--image", str(image), "--dump", str(dump_dir),
                         "--secrets", str(secrets)])  # fmt: skip
    assert code == 1 and "locked" in err
    # usage errors
    assert _run(["card", "read", "--image", str(image), "--out", str(tmp_path / "r")])[0] == 2
    assert _run(["card", "read", "--image", str(image), "--can", CAN, "--mrz", "X",
                 "--out", str(tmp_path / "r")])[0] == 2  # fmt: skip
    assert _run(["card", "personalize", "--dump", str(dump_dir), "--secrets", str(secrets)])[0] == 2
    assert _run(["card", "serve", str(image), "--vpcd", "nowhere"])[0] == 2
    assert _run(["card", "show", str(tmp_path / "missing.json")])[0] == 2
    # an existing output folder is not replaced without --force
    (tmp_path / "exists").mkdir()
    code, _, err = _run(["card", "read", "--image", str(image), "--can", CAN,
                         "--out", str(tmp_path / "exists")])  # fmt: skip
    assert code == 2 and "exists" in err
    # a bad secrets file names itself, not its content
    (tmp_path / "bad.json").write_text('{"format": "other"}')
    code, _, err = _run(["card", "personalize", "--image", str(image), "--dump", str(dump_dir),
                         "--secrets", str(tmp_path / "bad.json")])  # fmt: skip
    assert code == 2 and "not an idkarta-card-secrets file" in err


def test_read_by_mrz_and_force(tmp_path: Path, material: tuple[Path, Path, Dump, CardKeys]) -> None:
    image = _personalized(tmp_path, material)
    _, _, dump, _ = material
    mrz = DG1.decode(dump.files["DG1"]).mrz
    text = " ".join(mrz.lines())
    out_dir = tmp_path / "read"
    for _ in range(2):
        code, out, err = _run(["card", "read", "--image", str(image), "--mrz", text, "--out",
                               str(out_dir), "--force"])  # fmt: skip
        assert code == 0, err
        assert "PACE: ok" in out and "MRZ" in out
    assert sorted(os.listdir(tmp_path)) == ["chip.json", "read"]


# -- `card serve` in a process -------------------------------------------------------------------

CLI = [sys.executable, "-m", "station.cli"]
SRC = Path(station.__file__).resolve().parents[1]  # the sources under test, for the processes
CLI_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(ROOT)])}


class StandInVPCD:
    """A listening socket that speaks vpcd's framing (2-byte length, then the message)."""

    def __init__(self, port: int = 0) -> None:
        self.server = socket.create_server(("127.0.0.1", port))
        self.port: int = self.server.getsockname()[1]
        self.server.settimeout(60)
        self.conn: socket.socket | None = None

    def accept(self) -> None:
        self.conn, _ = self.server.accept()
        self.conn.settimeout(60)

    def send(self, message: bytes) -> None:
        assert self.conn is not None
        self.conn.sendall(len(message).to_bytes(2, "big") + message)

    def recv(self) -> bytes:
        assert self.conn is not None
        return FakeVPCD.recv(self.conn)

    def transmit(self, apdu: bytes) -> bytes:
        self.send(apdu)
        return self.recv()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.server.close()


def _serve(image: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "card", "serve", str(image), "--vpcd", f"127.0.0.1:{port}", *extra],
        env=CLI_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


WRONG = {
    "PIN": CommandAPDU(0x00, 0x20, 0x00, 0x81, pin_block("000000")).encode(),  # VERIFY
    "PUK": CommandAPDU(0x00, 0x2C, 0x01, 0x81, pin_block("00000000", puk=True)).encode(),
}


def test_serve_killed_never_gives_back_tries(tmp_path: Path) -> None:
    """Wrong PINs and PUKs through `card serve`, then SIGKILL at a random point (after an answer,
    or with a command in flight): the image never holds more tries than the answers allow."""
    base = tmp_path / "enrolled.json"
    enrolled_chip().save(base)
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    for round_ in range(4):
        image = tmp_path / f"chip{round_}.json"
        shutil.copy(base, image)
        vpcd = StandInVPCD()
        server = _serve(image, vpcd.port)
        answered = {"PIN": 0, "PUK": 0}
        sent = dict(answered)
        try:
            vpcd.accept()
            vpcd.send(b"\x01")
            assert vpcd.transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, ESIGN_AID).encode()) \
                == b"\x90\x00"
            for _ in range(rng.randint(1, 3)):
                which = rng.choice(["PIN", "PUK"])
                sent[which] += 1
                answer = vpcd.transmit(WRONG[which])
                assert answer[0] == 0x63 or answer == b"\x69\x83", answer.hex()
                answered[which] += 1
            if rng.random() < 0.5:  # one more in flight when the kill comes
                which = rng.choice(["PIN", "PUK"])
                sent[which] += 1
                vpcd.send(WRONG[which])
            time.sleep(rng.uniform(0, 0.02))
        finally:
            server.kill()  # SIGKILL: no handler runs
            server.communicate(timeout=30)
            vpcd.close()
        assert server.returncode == -signal.SIGKILL
        state = VirtualChip.load(image).state  # whole: the writes are atomic
        where = f"seed {seed}, round {round_}, sent {sent}, answered {answered}"
        assert max(0, 3 - sent["PIN"]) <= state.esign_pin_tries \
            <= max(0, 3 - answered["PIN"]), where
        assert 10 - sent["PUK"] <= state.esign_puk_tries <= 10 - answered["PUK"], where


def _lines(stream: object) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:  # type: ignore[attr-defined]
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue[str], text: str, seen: list[str]) -> None:
    deadline = time.monotonic() + 60
    while (left := deadline - time.monotonic()) > 0:
        try:
            seen.append(lines.get(timeout=left))
        except queue.Empty:
            break
        if text in seen[-1]:
            return
    pytest.fail(f"never said {text!r}; said {seen}")


def test_serve_without_vpcd_says_so_and_retries(tmp_path: Path) -> None:
    image = tmp_path / "chip.json"
    enrolled_chip().save(image)
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = _serve(image, port)
    seen: list[str] = []
    vpcd: StandInVPCD | None = None
    try:
        lines = _lines(server.stderr)
        _wait_for(lines, f"cannot connect to vpcd at 127.0.0.1:{port} (Connection refused); "
                  "retrying", seen)  # fmt: skip
        vpcd = StandInVPCD(port)  # now vpcd appears: the server connects by itself
        vpcd.accept()
        _wait_for(lines, f"connected to vpcd at 127.0.0.1:{port}", seen)
        vpcd.send(b"\x04")
        assert vpcd.recv() == VirtualChip.new().atr
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        if vpcd is not None:
            vpcd.close()
    assert server.returncode == 0, seen


def test_serve_once_without_vpcd_exits_2(tmp_path: Path) -> None:
    image = tmp_path / "chip.json"
    enrolled_chip().save(image)
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    code, _, err = _run(["card", "serve", str(image), "--vpcd", f"127.0.0.1:{port}", "--once"])
    assert (code, err) == (2, f"error: cannot connect to vpcd at 127.0.0.1:{port}: "
                              "Connection refused\n")  # fmt: skip


# -- `card pin` ----------------------------------------------------------------------------------


@pytest.mark.pcsc
def test_pin_change_and_unblock_through_pcscd(pcscd: PCSCD) -> None:
    chip = enrolled_chip()

    def pin(command: str, **env: str) -> tuple[int, str, str]:
        result = _run(["card", "pin", command, "--reader", READERS[0]], env=env)
        assert all(value not in result[1] + result[2] for value in env.values())
        return result

    blocked = "error: the PIN is blocked; unblock it with the PUK (idkarta card pin unblock)\n"
    with pcscd.card(PluggedChip(chip), 0):
        assert pin("status") == (0, "PIN: 3 tries left\n", "")
        assert pin("change", IDKARTA_PIN=PIN, IDKARTA_NEW_PIN="24681357") == (0, "PIN changed\n",
                                                                              "")  # fmt: skip
        # the old PIN is wrong now: each try counts down, with the right plural, then blocks
        for said in ("error: wrong PIN: 2 tries left\n", "error: wrong PIN: 1 try left\n", blocked):
            assert pin("change", IDKARTA_PIN=PIN, IDKARTA_NEW_PIN="111111") == (1, "", said)
        assert pin("change", IDKARTA_PIN="24681357", IDKARTA_NEW_PIN="111111") == (1, "", blocked)
        assert pin("status") == (1, "PIN: blocked\n", "")
        assert pin("unblock", IDKARTA_PUK="00000000", IDKARTA_NEW_PIN="135790") == (
            1, "", "error: wrong PUK: 9 tries left\n")  # fmt: skip
        assert pin("unblock", IDKARTA_PUK=PUK, IDKARTA_NEW_PIN="135790") == (
            0, "PIN unblocked and changed: 3 tries left\n", "")  # fmt: skip
        assert pin("change", IDKARTA_PIN="135790", IDKARTA_NEW_PIN=PIN)[0] == 0
        assert pin("status") == (0, "PIN: 3 tries left\n", "")
    assert (chip.state.esign_pin_tries, chip.state.esign_puk_tries) == (3, 10)


def test_pin_on_an_image(tmp_path: Path) -> None:
    image = tmp_path / "chip.json"
    enrolled_chip().save(image)
    target = ["--image", str(image)]
    code, _, err = _run(["card", "pin", "change", *target],
                        env={"IDKARTA_PIN": "999999", "IDKARTA_NEW_PIN": "111111"})  # fmt: skip
    assert (code, err) == (1, "error: wrong PIN: 2 tries left\n")
    assert VirtualChip.load(image).state.esign_pin_tries == 2  # saved
    # unblock keeping the PIN
    code, out, _ = _run(["card", "pin", "unblock", "--keep-pin", *target],
                        env={"IDKARTA_PUK": PUK})  # fmt: skip
    assert (code, out) == (0, "PIN unblocked: 3 tries left\n")
    assert VirtualChip.load(image).state.esign_pin_tries == 3
    # a malformed new PIN costs nothing; a PIN never comes from an argument
    code, _, err = _run(["card", "pin", "change", *target],
                        env={"IDKARTA_PIN": PIN, "IDKARTA_NEW_PIN": "12"})  # fmt: skip
    assert (code, err) == (2, "error: the PIN must be 6–8 digits\n")
    assert _run(["card", "pin", "change", *target, "--pin", PIN])[0] == 2
    assert _run(["card", "pin", "status", *target, "--reader", "0"])[0] == 2
    # ten wrong PUKs: blocked for good
    for left in range(9, 0, -1):
        said = f"error: wrong PUK: {left} {'try' if left == 1 else 'tries'} left\n"
        assert _run(["card", "pin", "unblock", *target],
                    env={"IDKARTA_PUK": "00000000", "IDKARTA_NEW_PIN": "111111"}) == (
            1, "", said)  # fmt: skip
    for puk in ("00000000", PUK, PUK):  # the tenth wrong one blocks it; then even the right one
        assert _run(["card", "pin", "unblock", *target],
                    env={"IDKARTA_PUK": puk, "IDKARTA_NEW_PIN": "111111"}) == (
            1, "", "error: the PUK is blocked: this card can no longer sign\n")  # fmt: skip
    state = VirtualChip.load(image).state
    assert (state.esign_pin_tries, state.esign_puk_tries) == (3, 0)
    # a card without an e-signature PIN
    personalized_chip().save(image)
    assert _run(["card", "pin", "status", *target]) == (
        1, "", "error: this card has no PIN (the e-signature is not enrolled)\n")  # fmt: skip


# -- `card prepare` ------------------------------------------------------------------------------


def test_prepare_without_pki_and_refusals(tmp_path: Path) -> None:
    shutil.copytree(SRC / "station" / "samples", tmp_path / "in")
    applicant = str(tmp_path / "in" / "applicant.json")
    dump_dir, secrets = tmp_path / "dump", tmp_path / "secrets.json"
    code, out, err = _run(["card", "prepare", applicant, "--dump", str(dump_dir), "--secrets",
                           str(secrets), "--pace-required"])  # fmt: skip
    assert code == 0, err
    assert f"EF.SOD not signed yet: idkarta pki sign-sod --dir PKI {dump_dir}" in out
    assert "CAN 458120" in out and "chip date 2026-11-20" in out and "PRIVATE" not in out
    dump = Dump.read(dump_dir)
    assert sorted(dump.files) == sorted(["EF.CardAccess", "EF.COM", "DG1", "DG2", "DG3", "DG7",
                                         "DG11", "DG12", "DG14", "DG15"])  # fmt: skip
    assert DG1.decode(dump.files["DG1"]).mrz.document_number == "AD1234567"
    loaded = load_secrets(secrets, lambda: PASS.encode())
    assert (loaded.can, loaded.cvca, loaded.pace_required) == ("458120", None, True)
    assert loaded.current_date is not None and loaded.current_date.isoformat() == "2026-11-20"
    assert loaded.aa_private_key is not None
    assert DG15.decode(dump.files["DG15"]) == DG15.from_public_key(
        loaded.aa_private_key.public_key())  # fmt: skip
    # no replacing without --force; a missing PKI writes nothing
    before = secrets.read_bytes()
    code, _, err = _run(["card", "prepare", applicant, "--dump", str(dump_dir), "--secrets",
                         str(tmp_path / "other.json")])  # fmt: skip
    assert (code, err) == (2, f"error: {dump_dir} exists (use --force to replace it)\n")
    code, _, err = _run(["card", "prepare", applicant, "--dump", str(tmp_path / "d2"),
                         "--secrets", str(tmp_path / "s2.json"), "--pki",
                         str(tmp_path / "nopki")])  # fmt: skip
    assert code == 2 and "not a PKI folder" in err and len(err.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dump", "in", "secrets.json"]
    assert secrets.read_bytes() == before


# -- from an applicant to a verified card, in the shell -------------------------------------------


def _documented_sequence() -> str:
    """The first shell block of docs/cli-card.md's "From an applicant to a verified card"."""
    text = (ROOT / "docs" / "cli-card.md").read_text(encoding="utf-8")
    section = text.split("## From an applicant to a verified card", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


@pytest.mark.pcsc
def test_applicant_to_verified_card_from_the_shell(pcscd: PCSCD, tmp_path: Path) -> None:
    """applicant → card prepare → card personalize → card serve + card read (through the private
    pcscd) → verify, exactly as documented, run by bash inside pcscd's network namespace (so
    `card serve`'s default vpcd address and reader 0 are the private ones)."""
    script = _documented_sequence()
    assert "card prepare applicant.json" in script and "idkarta verify read" in script
    shutil.copytree(SRC / "station" / "samples", tmp_path, dirs_exist_ok=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "idkarta").write_text(f'#!/bin/sh\nexec {sys.executable} -m station.cli "$@"\n')
    (bin_dir / "idkarta").chmod(0o755)
    env = {**pcscd.env, **CLI_ENV, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("IDKARTA_PASSPHRASE", None)  # the script sets its own
    shell = subprocess.Popen(
        ["nsenter", f"--net={pcscd.netns}", "bash", "-euo", "pipefail", "-c", script],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        out, err = shell.communicate(timeout=300)
    finally:
        if shell.poll() is None:
            os.killpg(shell.pid, signal.SIGKILL)
            shell.communicate()
    assert shell.returncode == 0, out + err
    assert "EF.SOD signed by ds-1" in out and "CAN 458120" in out
    assert "TA: ok (UZIS00001)" in out and "AA: ok" in out and "CA: ok" in out
    assert "RESULT: PASS" in out and "FAIL" not in out
    assert Dump.read(tmp_path / "read").files == Dump.read(tmp_path / "dump").files  # DG3 too
    assert VirtualChip.load(tmp_path / "chip.json").locked
    wait_absent(READERS[0])
