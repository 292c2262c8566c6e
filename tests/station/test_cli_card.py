"""`idkarta card …` through click's runner, in process (no pcscd): new, show, personalize
--image, read --image (PACE, TA with `idkarta pki init`'s EAC PKI, the trace), and the errors.
The PC/SC paths (`card serve` + `card read --reader`) are in tests/idcard/reader/test_pcsc_e2e.py.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ec
from tests.idcard.chip.cards import CAN, TODAY, build_dump, sample_cvca

from idcard.chip.emrtd import VirtualChip
from idcard.cvc.certificate import CVCertificate
from idcard.lds.dg1 import DG1
from idcard.lds.dump import Dump
from station.card_data import CardKeys
from station.cli import main
from station.cli.card import load_secrets
from station.errors import UsageError

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
    assert answers and all(a.startswith("  < 9000") and "masked" in a for a in answers)
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
