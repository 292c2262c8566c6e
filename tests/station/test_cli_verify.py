"""`idkarta verify`: readable and JSON reports, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.idcard.verify.pa_pki import (
    PKI,
    der,
    master_list,
    pem,
    sample_files,
    sign_files,
    write_dump,
)

from station.cli import main


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PKI]:
    root = tmp_path_factory.mktemp("verify")
    pki = PKI(slot=50)
    write_dump(root / "good", sign_files(sample_files(), pki))
    bad = sign_files(sample_files(), pki)
    bad["DG2"] = bad["DG2"][:-1] + b"\x00"
    write_dump(root / "bad", bad)
    (root / "csca.pem").write_bytes(pem(pki.csca))
    write_dump(root / "no-sod", sample_files())
    (root / "cscas").mkdir()
    (root / "cscas" / "uz.der").write_bytes(der(pki.csca))
    (root / "cscas" / "other.pem").write_bytes(pem(PKI(slot=51).csca) * 2)
    (root / "crl.der").write_bytes(pki.crl())
    (root / "ml.der").write_bytes(master_list(pki, [pki.csca]))
    (root / "ml-bad.der").write_bytes(master_list(pki, [pki.csca], tamper=True))
    return root, pki


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["verify", *args])
    return result.exit_code, result.stdout, result.stderr


def test_good_dump_exits_0_with_a_readable_report(setup: tuple[Path, PKI]) -> None:
    root, _ = setup
    code, out, _err = _run(
        str(root / "good"), "--csca", str(root / "csca.pem"), "--crl", str(root / "crl.der"),
        "--master-list", str(root / "ml.der"), "--at", "2025-06-01",
    )  # fmt: skip
    assert code == 0, out
    assert "PASS         DG1" in out
    assert "PASS         chain" in out
    assert "PASS         master_list" in out
    assert out.rstrip().endswith("RESULT: PASS (every check performed passed)")


def test_tampered_dump_exits_1_and_names_the_check(setup: tuple[Path, PKI]) -> None:
    root, _ = setup
    code, out, _ = _run(str(root / "bad"), "--csca", str(root / "csca.pem"), "--at", "2025-06-01")
    assert code == 1
    assert "FAIL         DG2" in out
    assert "NOT CHECKED  revocation" in out
    assert out.rstrip().endswith("RESULT: FAIL (DG2)")


def test_bad_master_list_exits_1(setup: tuple[Path, PKI]) -> None:
    root, _ = setup
    code, out, _ = _run(
        str(root / "good"), "--csca", str(root / "csca.pem"),
        "--master-list", str(root / "ml-bad.der"), "--at", "2025-06-01", "--json",
    )  # fmt: skip
    assert code == 1
    doc = json.loads(out)
    statuses = {c["name"]: c["status"] for c in doc["checks"]}
    assert statuses["master_list"] == "fail"
    assert [n for n, s in statuses.items() if s == "fail"] == ["master_list"]


def test_json_output(setup: tuple[Path, PKI]) -> None:
    root, _ = setup
    code, out, _ = _run(
        str(root / "good"), "--csca", str(root / "cscas"), "--crl", str(root / "crl.der"),
        "--at", "2025-06-01", "--json",
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out)
    assert doc["ok"] is True and doc["hash_algorithm"] == "sha256"
    dg1 = next(c for c in doc["checks"] if c["name"] == "DG1")
    assert dg1["status"] == "pass" and dg1["expected"] == dg1["actual"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{root}/missing", "--csca", "{root}/csca.pem"], "not a directory"),
        (["{root}/good", "--csca", "{root}/nothing.pem"], "no such file"),
        (["{root}/good", "--csca", "{root}/crl.der"], "not an X.509 certificate"),
        (["{root}/good", "--csca", "{root}/csca.pem", "--crl", "{root}/csca.pem"], "not a CRL"),
        (["{root}/good", "--csca", "{root}/csca.pem", "--master-list", "{root}/crl.der"],
         "master list"),
        (["{root}/good", "--csca", "{root}/csca.pem", "--at", "June"], "YYYY-MM-DD"),
        (["{root}/cscas", "--csca", "{root}/csca.pem"],
         "neither a dump folder nor a folder of dump folders"),
        (["{root}/no-sod", "--csca", "{root}/csca.pem"], "no EF.SOD"),
    ],
)  # fmt: skip
def test_unusable_input_exits_2_with_one_line(
    setup: tuple[Path, PKI], args: list[str], message: str
) -> None:
    root, _ = setup
    code, out, err = _run(*(a.format(root=root) for a in args))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err
    assert "Traceback" not in err


def test_in_a_process(setup: tuple[Path, PKI]) -> None:
    root, pki = setup
    (root / "ds.der").write_bytes(der(pki.ds))
    proc = subprocess.run(
        [sys.executable, "-c", "from station.cli import main; main()", "verify",
         str(root / "bad"), "--csca", str(root / "ds.der")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    # a DS certificate is not a self-signed CSCA: no trust anchor, chain not checked → exit 1
    assert proc.returncode == 1, proc.stderr
    assert "NOT CHECKED  chain" in proc.stdout
