"""`idkarta center user add|disable|list` and `idkarta audit init|checkpoint|verify|show` on a
station folder: exit codes, output, the audit log they write, and `audit verify` failing (exit 1,
naming the entry) after the database rows were tampered with."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.conftest import ROOT
from tests.station.test_cli_station import _matches, guide_commands

from pki.filestore import ScryptCost
from pki.filestore import test_only_scrypt_cost as cheap_keys
from station.cli import main

GUIDE = ROOT / "docs" / "guide" / "accounts.md"
ENV = {"IDKARTA_PASSPHRASE": "audit-key-passphrase", "IDKARTA_USER_PASSWORD": "first-admin-pass"}


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    with cheap_keys(ScryptCost(n=2**10)):
        return CliRunner().invoke(main, list(args), env=ENV if env is None else env)


@pytest.fixture
def station(tmp_path: Path) -> Path:
    folder = tmp_path / "station"
    made = run("center", "init", "--dir", str(folder), "--point",
               "TAS-01,internal-affairs,262,Toshkent shahar IIBB")  # fmt: skip
    assert made.exit_code == 0, made.output
    return folder


def test_the_first_administrator_and_more_users(station: Path) -> None:
    d = str(station)
    added = run("center", "user", "add", "admin", "--name", "Bosh administrator", "--role",
                "administrator", "--dir", d)  # fmt: skip
    assert added.exit_code == 0, added.output
    assert added.stdout == "Added         admin (administrator): Bosh administrator\n"
    assert "first-admin-pass" not in added.output
    op = run("center", "user", "add", "aziza", "--name", "Aziza Karimova", "--role", "operator",
             "--point", "TAS-01", "--dir", d, "--json")  # fmt: skip
    assert op.exit_code == 0, op.output
    assert json.loads(op.stdout)["point"] == "TAS-01"
    listed = run("center", "user", "list", "--dir", d, "--json")
    assert [(u["login"], u["role"], u["point"], u["disabled"]) for u in json.loads(listed.stdout)
            ] == [("admin", "administrator", None, False), ("aziza", "operator", "TAS-01", False)]
    off = run("center", "user", "disable", "aziza", "--dir", d)
    assert off.exit_code == 0 and off.stdout == "Disabled      aziza\n"
    table = run("center", "user", "list", "--dir", d).stdout.splitlines()
    assert table[1].split()[:4] == ["aziza", "operator", "TAS-01", "disabled"]
    shown = run("audit", "show", "--dir", d, "--json")
    assert [(e["action"], e["object"], e["role"]) for e in json.loads(shown.stdout)][-3:] == [
        ("user.add", "user/admin", "system"), ("user.add", "user/aziza", "system"),
        ("user.disable", "user/aziza", "system")]  # fmt: skip
    assert json.loads(shown.stdout)[-1]["who"].startswith("host:")


@pytest.mark.parametrize(("args", "env", "code", "message"), [
    (["aziza", "--role", "operator"], None, 2,
     "error: point: an operator belongs to a collection point: name it\n"),
    (["aziza", "--role", "auditor", "--point", "TAS-01"], None, 2,
     "error: point: an auditor belongs to no collection point\n"),
    (["aziza", "--role", "operator", "--point", "NOPE"], None, 2,
     "error: point: no point 'NOPE' is registered at the Center\n"),
    (["Aziza!", "--role", "auditor"], None, 2,
     "error: login: 1-32 of a-z, 0-9, '.', '_', '-', starting with a-z or 0-9\n"),
    (["aziza", "--role", "auditor"], {"IDKARTA_USER_PASSWORD": "short"}, 2,
     "error: password: at least 12 characters\n"),
    (["taken", "--role", "auditor"], None, 1, "error: login: 'taken' is already taken\n"),
])  # fmt: skip
def test_user_add_refusals(station: Path, args: list[str], env: dict[str, str] | None,
                           code: int, message: str) -> None:  # fmt: skip
    assert run("center", "user", "add", "taken", "--name", "T", "--role", "auditor", "--dir",
               str(station)).exit_code == 0  # fmt: skip
    result = run("center", "user", "add", *args, "--name", "A", "--dir", str(station), env=env)
    assert (result.exit_code, result.stderr, result.stdout) == (code, message, "")
    listed = run("center", "user", "list", "--dir", str(station), "--json")
    assert [u["login"] for u in json.loads(listed.stdout)] == ["taken"]


def test_user_disable_unknown_is_a_usage_error(station: Path) -> None:
    result = run("center", "user", "disable", "nobody", "--dir", str(station))
    assert (result.exit_code, result.stderr) == (2, "error: login: no user 'nobody'\n")


def test_audit_verify_checkpoint_and_tampering(station: Path, tmp_path: Path) -> None:
    d = str(station)
    for login in ("admin", "olim", "sevara"):
        run("center", "user", "add", login, "--name", "N", "--role", "auditor", "--dir", d)
    unchecked = run("audit", "verify", "--dir", d)
    assert unchecked.exit_code == 0, unchecked.output
    assert unchecked.stdout.splitlines() == [
        "center        5 entries, intact",  # point, series, three users
        "  checkpoints   none (not checked: no checkpoint taken)"]
    assert run("audit", "checkpoint", "--dir", d).exit_code == 2  # no audit key yet
    made = run("audit", "init", "--dir", d)
    assert made.exit_code == 0, made.output
    assert (station / "audit" / "audit-key.pem").read_text().startswith("-----BEGIN PUBLIC KEY")
    assert run("audit", "init", "--dir", d).exit_code == 2  # never replaced
    signed = run("audit", "checkpoint", "--dir", d, "--json")
    assert signed.exit_code == 0, signed.output
    assert [(c["chain"], c["seq"], c["algorithm"]) for c in json.loads(signed.stdout)] == [
        ("center", 5, "ecdsa-sha256")]
    checked = run("audit", "verify", "--dir", d, "--json")
    assert checked.exit_code == 0
    (report,) = json.loads(checked.stdout)
    assert report["intact"] and report["checkpoints"][0]["signature"] == "valid"
    # another key given: the signature is not checked against it, and says so
    other = tmp_path / "other"
    run("audit", "init", "--dir", str(other))
    with_other = run("audit", "verify", "--dir", d, "--key", str(other / "audit" /
                                                                "audit-key.pem"))  # fmt: skip
    assert with_other.exit_code == 0
    assert "signature not checked (signed with another key than the one given)" in \
        with_other.stdout
    # someone with write access to center.db changes entry 4 (the user olim) ...
    with sqlite3.connect(station / "center.db") as db:
        db.execute("UPDATE audit_entries SET object = 'user/mallory' WHERE seq = 4")
    broken = run("audit", "verify", "--dir", d)
    assert broken.exit_code == 1
    assert broken.stdout.splitlines()[0] == ("center        5 entries, NOT INTACT: entry 4 "
                                             "changed: its fields no longer give its recorded "
                                             "hash")  # fmt: skip
    failed = run("audit", "verify", "--dir", d, "--json")
    assert failed.exit_code == 1
    assert json.loads(failed.stdout)[0]["problem"] == {
        "kind": "changed", "seq": 4, "detail": "its fields no longer give its recorded hash"}


def test_the_point_s_chain_is_verified_and_signed_too(station: Path) -> None:
    d = str(station)
    made = run("point", "init", "--station", d, "--code", "SAM-01", "--name", "Samarqand",
               "--kind", "internal-affairs", "--place-code", "182", "--operator", "aziza")
    assert made.exit_code == 0, made.output
    assert run("audit", "init", "--dir", d).exit_code == 0
    signed = run("audit", "checkpoint", "--dir", d, "--json")
    assert [(c["chain"], c["seq"]) for c in json.loads(signed.stdout)] == [
        ("center", 3), ("point:SAM-01", 0)]  # fmt: skip
    report = run("audit", "verify", "--dir", d, "--json")
    assert report.exit_code == 0, report.output
    assert [(r["chain"], r["intact"], [c["signature"] for c in r["checkpoints"]])
            for r in json.loads(report.stdout)] == [
        ("center", True, ["valid"]), ("point:SAM-01", True, ["valid"])]  # fmt: skip
    assert run("audit", "show", "--dir", d, "--point").stdout == ""


def test_the_guide_runs_as_printed(tmp_path: Path) -> None:
    """docs/guide/accounts.md's commands, in order, in one shell: each exits 0 and prints what
    the guide shows (the passwords and the key store's passphrase from the environment)."""
    commands = guide_commands(GUIDE)
    assert len(commands) >= 11
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "idkarta"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m station.cli "$@"\n')
    shim.chmod(0o755)
    script = ["exec 2>&1"]
    for n, (command, _) in enumerate(commands):
        script += [f"echo '@@@ {n}'", command, "echo \"@@@ rc $?\""]
    env = {**os.environ, **ENV, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join(sys.path)}  # fmt: skip
    out = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, env=env, text=True,
                         stdout=subprocess.PIPE, timeout=600, check=False).stdout  # fmt: skip
    chunks = re.split(r"^@@@ (\d+)\n", out, flags=re.M)[1:]
    assert len(chunks) == 2 * len(commands), out[-3000:]
    for n, (command, expected) in enumerate(commands):
        printed, _, rc = chunks[2 * n + 1].rpartition("@@@ rc ")
        assert rc.strip() == "0", f"{command}\n{printed}"
        if expected:
            assert _matches(expected, printed.splitlines()), f"{command}\n{printed}"


def test_checkpoints_at_intervals_sign_only_chains_that_grew(station: Path) -> None:
    from datetime import UTC, datetime

    from pki.keys import KeySpec
    from station.accounts import Actor, Role, add_user
    from station.folders.audit import init_audit_key, run_checkpoints
    from station.folders.station import open_center

    with cheap_keys(ScryptCost(n=2**10)):
        init_audit_key(station, {"type": "file"}, key_spec=KeySpec.parse("ec-p256"),
                       ask=lambda *_: "audit-key-passphrase")  # fmt: skip
    made: list[tuple[str, int]] = []
    rounds = iter(range(4))

    def sleep(seconds: float) -> None:
        assert seconds == 60.0
        n = next(rounds)
        if n == 1:  # between rounds 2 and 3 the Center's log grows
            with open_center(station, None) as db:
                add_user(db, login="olim", name="O", role=Role.AUDITOR, password="p" * 12,
                         now=datetime.now(UTC), by=Actor.system())  # fmt: skip
        if n == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_checkpoints(station, None, by="timer", every=60.0, sleep=sleep,
                        report=lambda c: made.append((c.chain, c.seq)),
                        ask=lambda *_: "audit-key-passphrase")  # fmt: skip
    assert made == [("center", 2), ("center", 3)]  # round 1; rounds 2 and 4 had nothing new


def test_checkpoint_every_runs_until_sigterm(station: Path) -> None:
    assert run("audit", "init", "--dir", str(station)).exit_code == 0
    env = {**os.environ, **ENV, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "station.cli", "audit", "checkpoint", "--dir",
                             str(station), "--every", "1", "--json"], env=env,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert (first["chain"], first["seq"]) == ("center", 2)
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and rest == ""
