"""`idkarta verify FOLDER_OF_DUMPS`: generated dumps (read from virtual chips, some tampered,
one broken) verified in worker processes; the summary per check; JSON Lines and CSV; a broken
dump is a result; a rerun skips what was verified (same files, trust and date) unless --force;
the progress bar only on a terminal."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import ROOT
from tests.idcard.chip.cards import CAN, build_dump, ds_pki, make_card
from tests.idcard.verify.pa_pki import pem

from idcard.reader.document import read_document
from idcard.reader.evidence import EVIDENCE_FILE
from station.audit.batch import check_jobs
from station.cli import main


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """<root>/dumps: two genuine reads, a changed DG2, a forged AA signature, a broken
    evidence.json, a dump without EF.SOD; <root>/csca.pem."""
    root = tmp_path_factory.mktemp("batch")
    dumps = root / "dumps"
    for i in range(2):
        dump, keys = build_dump()
        read_document(make_card(dump, keys).transport(), can=CAN).write(dumps / f"good-{i}")
    shutil.copytree(dumps / "good-0", dumps / "dg2")
    dg2 = (dumps / "dg2" / "DG2").read_bytes()
    (dumps / "dg2" / "DG2").write_bytes(dg2[:-1] + bytes([dg2[-1] ^ 1]))
    shutil.copytree(dumps / "good-0", dumps / "aa")
    doc = json.loads((dumps / "aa" / EVIDENCE_FILE).read_text())
    doc["active_authentication"]["challenge"] = "00" * 8
    (dumps / "aa" / EVIDENCE_FILE).write_text(json.dumps(doc))
    shutil.copytree(dumps / "good-1", dumps / "evidence")
    (dumps / "evidence" / EVIDENCE_FILE).write_text("[]")
    shutil.copytree(dumps / "good-1", dumps / "no-sod")
    (dumps / "no-sod" / "EF.SOD").unlink()
    (dumps / "not-a-dump").mkdir()  # ignored: holds no dump file
    (root / "csca.pem").write_bytes(pem(ds_pki().csca))
    return root


def _verify(root: Path, *extra: str) -> tuple[int, str, str]:
    return _run("verify", str(root / "dumps"), "--csca", str(root / "csca.pem"),
                "--at", "2026-12-01", *extra)  # fmt: skip


def test_batch_in_workers_with_jsonl_and_csv(batch: Path, tmp_path: Path) -> None:
    jsonl, csv_path = tmp_path / "r.jsonl", tmp_path / "r.csv"
    code, out, err = _verify(batch, "--jobs", "2", "--jsonl", str(jsonl), "--csv", str(csv_path))
    assert code == 1, out + err
    lines = out.splitlines()
    assert lines[0] == ("6 dumps: 2 passed, 3 failed, 1 could not be verified (0 verified "
                        "before, skipped)")  # fmt: skip
    table = {line.split()[0]: line.split()[1:] for line in lines[2:] if line.startswith("  ")}
    assert table["DG2"] == ["4", "1", "0"]
    assert table["active_authentication"] == ["3", "1", "1"]
    assert table["evidence"] == ["3", "2", "0"]
    assert table["chip_authentication"] == ["0", "0", "5"]
    assert "FAIL   aa: active_authentication" in lines
    assert "FAIL   dg2: DG2, evidence" in lines
    assert "BROKEN no-sod: VerificationError: the dump has no EF.SOD" in lines
    assert "FAIL   evidence: evidence" in lines
    rows = [json.loads(x) for x in jsonl.read_text().splitlines()]
    assert [r["dump"] for r in rows] == ["aa", "dg2", "evidence", "good-0", "good-1", "no-sod"]
    by = {r["dump"]: r for r in rows}
    assert by["good-0"]["ok"] and by["good-1"]["ok"] and by["good-0"]["error"] is None
    assert by["aa"]["checks"]["active_authentication"] == "fail"
    assert by["aa"]["reasons"]["active_authentication"].startswith(
        "the signature over the recorded challenge 0000000000000000 does not verify")
    assert by["evidence"]["checks"]["evidence"] == "fail"
    assert by["evidence"]["reasons"]["evidence"] == (
        "evidence.json is unusable: evidence.json: the document must be an object")
    assert by["no-sod"]["error"] == "VerificationError: the dump has no EF.SOD"
    assert not by["no-sod"]["ok"] and by["no-sod"]["checks"] == {}
    table_csv = list(csv.reader(io.StringIO(csv_path.read_text())))
    assert table_csv[0][:4] == ["dump", "ok", "error", "DG1"]
    assert "validity_period" in table_csv[0]
    csv_rows = {r[0]: dict(zip(table_csv[0], r, strict=True)) for r in table_csv[1:]}
    assert csv_rows["good-0"]["ok"] == "true" and csv_rows["dg2"]["DG2"] == "fail"
    assert csv_rows["no-sod"]["error"] == "VerificationError: the dump has no EF.SOD"
    assert csv_rows["aa"]["chip_authentication"] == "not-checked"


def test_rerun_skips_what_was_verified_unless_forced(batch: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(batch, root)
    jsonl = tmp_path / "r.jsonl"
    assert _verify(root, "--jobs", "1", "--jsonl", str(jsonl))[0] == 1
    first = jsonl.read_text()
    code, out, _ = _verify(root, "--jsonl", str(jsonl))
    assert code == 1
    assert out.splitlines()[0].endswith("(5 verified before, skipped)")  # not the broken one
    assert jsonl.read_text() == first
    # a dump changed since: verified again, and now it fails
    dg1 = root / "dumps" / "good-1" / "DG1"
    dg1.write_bytes(dg1.read_bytes()[:-1] + bytes([dg1.read_bytes()[-1] ^ 1]))
    code, out, _ = _verify(root, "--jsonl", str(jsonl))
    assert code == 1 and out.splitlines()[0] == (
        "6 dumps: 1 passed, 4 failed, 1 could not be verified (4 verified before, skipped)")
    rows = {json.loads(x)["dump"]: json.loads(x) for x in jsonl.read_text().splitlines()}
    assert rows["good-1"]["checks"]["DG1"] == "fail"
    # --force, or another date: everything again
    assert _verify(root, "--jsonl", str(jsonl), "--force")[1].splitlines()[0].endswith(
        "(0 verified before, skipped)")
    code, out, _ = _run("verify", str(root / "dumps"), "--csca", str(root / "csca.pem"),
                        "--at", "2026-12-02", "--jsonl", str(jsonl))  # fmt: skip
    assert out.splitlines()[0].endswith("(0 verified before, skipped)")


def test_batch_json_and_all_good_exits_0(batch: Path, tmp_path: Path) -> None:
    root = tmp_path / "good"
    (root / "dumps").mkdir(parents=True)
    for name in ("good-0", "good-1"):
        shutil.copytree(batch / "dumps" / name, root / "dumps" / name)
    shutil.copy(batch / "csca.pem", root / "csca.pem")
    code, out, _ = _verify(root, "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["ok"] and doc["dumps"] == 2 and doc["skipped"] == 0
    assert doc["verdicts"] == {"ok": 2}
    assert doc["checks"]["active_authentication"] == {"pass": 2}
    assert [r["dump"] for r in doc["results"]] == ["good-0", "good-1"]


def test_batch_usage_errors(batch: Path, tmp_path: Path) -> None:
    code, out, err = _verify(batch, "--jobs", "0")
    assert code == 2 and err == "error: --jobs must be at least 1\n" and out == ""
    (tmp_path / "empty").mkdir()
    code, _, err = _run("verify", str(tmp_path / "empty"), "--csca", str(batch / "csca.pem"))
    assert code == 2
    assert err == f"error: {tmp_path / 'empty'}: neither a dump folder nor a folder of dump " \
        "folders\n"
    code, _, err = _run("verify", str(batch / "dumps" / "good-0"), "--csca",
                        str(batch / "csca.pem"), "--jsonl", str(tmp_path / "x"))  # fmt: skip
    assert code == 2 and "go with a folder of dump folders" in err
    code, _, err = _run("verify", "--reader", "0", "--can", CAN, "--csca",
                        str(batch / "csca.pem"), "--csv", str(tmp_path / "x"))  # fmt: skip
    assert code == 2 and "go with a folder of dump folders" in err
    assert not (tmp_path / "x").exists()
    assert check_jobs(None) == (os.cpu_count() or 1)


def test_progress_bar_only_on_a_terminal(batch: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
           "COLUMNS": "100"}  # fmt: skip
    args = [sys.executable, "-m", "station.cli", "verify", str(batch / "dumps"), "--csca",
            str(batch / "csca.pem"), "--at", "2026-12-01", "--jobs", "1"]  # fmt: skip
    piped = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120,
                           check=False)  # fmt: skip
    assert piped.returncode == 1 and piped.stderr == ""
    main_fd, tty_fd = pty.openpty()
    try:
        proc = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=tty_fd, timeout=120,
                              check=False)  # fmt: skip
        os.close(tty_fd)
        seen = b""
        while True:
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(main_fd)
    assert proc.returncode == 1
    assert b"verifying" in seen
    assert proc.stdout.decode() == piped.stdout  # the summary is the same either way
