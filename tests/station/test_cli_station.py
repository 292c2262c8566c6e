"""`idkarta center …` and `idkarta point …`: the guide's walk-through runs as printed, bad input
names the field and writes nothing, `--json` everywhere, exit codes 0/1/2.

The CLI runs on SQLite (the embedded station folder); the services underneath are tested on
SQLite and PostgreSQL in tests/station/point/.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.conftest import ROOT

from station.cli import main

GUIDE = ROOT / "docs" / "guide" / "station.md"
SAMPLE = ROOT / "src" / "station" / "samples" / "application.json"


# -- the guide, run as printed ----------------------------------------------------------------


def guide_commands(page: Path) -> list[tuple[str, list[str]]]:
    """The ``$ `` commands of the page's console blocks, in order, each with the output lines
    printed under it (a heredoc's lines and ``\\`` continuations belong to the command)."""
    text = page.read_text(encoding="utf-8")
    found: list[tuple[str, list[str]]] = []
    for block in re.findall(r"^```console\n(.*?)^```", text, re.M | re.S):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            if not line.startswith("$ "):
                found[-1][1].append(line)
                i += 1
                continue
            command = [line[2:]]
            while command[-1].endswith("\\"):
                i += 1
                command.append(lines[i])
            heredoc = re.search(r"<<'?(\w+)'?", command[0])
            if heredoc:
                while lines[i] != heredoc.group(1):
                    i += 1
                    command.append(lines[i])
            found.append(("\n".join(command), []))
            i += 1
    return found


def _matches(expected: list[str], actual: list[str]) -> bool:
    """``expected`` against ``actual``: "…" within a line is any text, a line "…" any lines."""
    pattern = "".join(
        r"(?:.*\n)*" if line.strip() == "…"
        else ".*".join(re.escape(part) for part in line.split("…")) + r"\n"
        for line in expected
    )  # fmt: skip
    return re.fullmatch(pattern, "".join(a + "\n" for a in actual)) is not None


def test_guide_runs_as_printed(tmp_path: Path) -> None:
    """Every command of docs/guide/station.md, in order, in one shell, in an empty folder:
    each exits 0 and prints what the guide shows under it."""
    commands = guide_commands(GUIDE)
    assert len(commands) >= 18
    assert sum(c.startswith("idkarta point ") for c, _ in commands) >= 10
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "idkarta"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m station.cli "$@"\n')
    shim.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    script = ["exec 2>&1"]
    for n, (command, _) in enumerate(commands):
        script += [f"echo '@@@ {n}'", command, "echo \"@@@ rc $?\""]
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join(sys.path), "COLUMNS": "100"}  # fmt: skip
    proc = subprocess.Popen(["bash", "-c", "\n".join(script) + "\nwait\n"], cwd=work, env=env,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    try:
        out, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)  # our own shell's group (the served Center, if left)
            proc.wait()
    chunks = re.split(r"^@@@ (\d+)\n", out, flags=re.M)[1:]
    assert len(chunks) == 2 * len(commands), out[-3000:]
    for n, (command, expected) in enumerate(commands):
        body = chunks[2 * n + 1]
        printed, _, rc = body.rpartition("@@@ rc ")
        assert rc.strip() == "0", f"{command}\n{printed}"
        if expected:
            assert _matches(expected, printed.splitlines()), f"{command}\n{printed}"
    assert (work / "notice.pdf").read_bytes().startswith(b"%PDF-")


def test_the_guide_s_application_is_the_sample() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    shown = re.search(r"<<'EOF'\n(.*?)\nEOF", text, re.S)
    assert shown is not None
    sample = json.loads(SAMPLE.read_text(encoding="utf-8"))
    shown_json = json.loads(shown.group(1))
    assert shown_json == sample


# -- a station folder for the tests below --------------------------------------------------------


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def station(tmp_path: Path, kind: str = "internal-affairs") -> Path:
    folder = tmp_path / "station"
    assert run("center", "init", "--dir", str(folder)).exit_code == 0
    result = run("point", "init", "--station", str(folder), "--code", "TAS-01", "--name",
                 "Toshkent", "--kind", kind, "--place-code", "262", "--operator", "aziza",
                 "--supervisor", "dilnoza")  # fmt: skip
    assert result.exit_code == 0, result.output
    return folder


def applications(folder: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(folder / "point.db") as db:
        return list(db.execute("SELECT id, status FROM applications ORDER BY accepted_at"))


def form_file(tmp_path: Path, **changes: object) -> Path:
    data = json.loads(SAMPLE.read_text(encoding="utf-8"))
    for key, value in changes.items():
        target = data
        *parents, last = key.split("__")
        for parent in parents:
            target = target[parent]
        target[last] = value
    path = tmp_path / "form.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


# -- apply: every problem named, nothing written --------------------------------------------------


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"ground": "birthday"}, "ground", 2),  # unknown ground
    # scheme, line 32: "davlat boji to‘langanligi haqida kvitantsiya"
    ({"documents": ["application-form", "previous-document", "birth-certificate"]},
     "documents", 2),
    # scheme, stage 3, line 127: the PINFL's "to‘g‘riligini tekshiradi" (15 March 1990 in it)
    ({"person__birth_date": "1990-03-16"}, "person.pinfl", 2),
    ({"person__pinfl": "31503902620453"}, "person.pinfl", 2),
])  # fmt: skip
def test_apply_names_the_field_and_writes_nothing(
    tmp_path: Path, changes: dict[str, object], field: str, code: int
) -> None:
    folder = station(tmp_path)
    result = run("point", "apply", str(form_file(tmp_path, **changes)), "--station", str(folder),
                 "--operator", "aziza", "--json")  # fmt: skip
    assert result.exit_code == code, result.output
    shown = json.loads(result.stdout)
    assert shown["exit"] == code and shown["error"].startswith(f"{field}: ")
    assert result.stderr == f"error: {shown['error']}\n"
    assert applications(folder) == []


def test_a_second_open_application_exits_1(tmp_path: Path) -> None:
    folder = station(tmp_path)
    form = str(form_file(tmp_path))
    first = run("point", "apply", form, "--station", str(folder), "--operator", "aziza", "--json")
    assert first.exit_code == 0, first.output
    app_id = json.loads(first.stdout)["id"]
    second = run("point", "apply", form, "--station", str(folder), "--operator", "aziza")
    assert second.exit_code == 1
    assert second.stderr == ("error: ground: the person already has an open application on "
                             f"ground expired ({app_id})\n")  # fmt: skip
    assert applications(folder) == [(app_id, "accepted")]


def test_a_resident_at_a_public_service_centre_exits_2(tmp_path: Path) -> None:
    # second scheme, stage 2, line 292: residents only at the migration and citizenship units
    folder = station(tmp_path, kind="public-service-centre")
    form = form_file(tmp_path, ground="permit-expired", person__citizenship="RUS",
                     person__pinfl=None, person__foreign_document="751234567",
                     documents=["application-form", "national-passport", "previous-document",
                                "birth-certificate", "fee-receipt"])  # fmt: skip
    result = run("point", "apply", str(form), "--station", str(folder), "--operator", "aziza")
    assert result.exit_code == 2 and result.stderr.startswith("error: point_kind: ")
    assert applications(folder) == []


def test_unusable_input_exits_2(tmp_path: Path) -> None:
    folder = station(tmp_path)
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{", encoding="utf-8")
    cases = [
        (["point", "apply", str(garbage), "--operator", "aziza"], "not JSON"),
        (["point", "apply", str(form_file(tmp_path)), "--operator", "mallory"], "operator: "),
        (["point", "status", "nope"], "application: "),
        (["point", "submit", "nope"], "application: "),
    ]
    for args, message in cases:
        result = run(*args, "--station", str(folder))
        assert result.exit_code == 2 and message in result.stderr, (args, result.output)
    assert run("center", "init", "--dir", str(folder)).exit_code == 2  # never overwritten
    lone = tmp_path / "lone"
    result = run("point", "init", "--station", str(lone), "--code", "X-1", "--name", "X",
                 "--kind", "internal-affairs", "--place-code", "262", "--operator", "a")
    assert result.exit_code == 2 and "center.db" in result.stderr
    assert not (lone / "point.json").exists()


# -- the whole first issue and a replacement, --json -----------------------------------------------


def test_first_issue_and_replacement_in_json(tmp_path: Path) -> None:
    folder = station(tmp_path)
    s = ["--station", str(folder)]
    applied = run("point", "apply", str(form_file(tmp_path)), *s, "--operator", "aziza",
                  "--json")  # fmt: skip
    app = json.loads(applied.stdout)
    assert (app["status"], app["ground"], app["pinfl"]) == ("accepted", "expired", None)
    early = run("point", "handover", app["id"], *s, "--operator", "aziza", "--name", "G",
                "--document", "FA1234567", "--json")  # fmt: skip
    assert early.exit_code == 1 and "verified" in json.loads(early.stdout)["error"]
    submitted = json.loads(run("point", "submit", app["id"], *s, "--json").stdout)
    assert (submitted["status"], submitted["card"]) == ("returned", "AD0000001")
    assert submitted["pinfl"] == "31503902620452"  # checked by the Center (stage 3)
    for new in ("personalized", "verified"):
        marked = run("point", "mark", app["id"], new, *s, "--operator", "aziza", "--json")
        assert json.loads(marked.stdout)["status"] == new
    done = run("point", "handover", app["id"], *s, "--operator", "aziza", "--name",
               "Gʻulomov Oʻtkir", "--document", "FA1234567", "--json")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["card"] == "AD0000001"
    status = json.loads(run("point", "status", app["id"], *s, "--json").stdout)
    assert (status["status"], status["open"]) == ("handed-over", False)
    # a free replacement without a supervisor's approval is refused (scheme, line 217)
    free = ["point", "replace", *s, "--operator", "aziza", "--card", "AD0000001", "--ground",
            "data-error", "--document", "application-form", "--document", "previous-document",
            "--document", "change-proof", "--point-fault", "--waiver-reason", "wrong DG1"]
    refused = run(*free, "--approved-by", "aziza", "--json")
    assert refused.exit_code == 1 and json.loads(refused.stdout)["error"].startswith(
        "approved_by: ")
    replaced = run(*free, "--approved-by", "dilnoza", "--json")
    assert replaced.exit_code == 0, replaced.output
    new = json.loads(replaced.stdout)
    assert (new["fee_waived"], new["approved_by"], new["previous_card"]) == (True, "dilnoza",
                                                                            "AD0000001")
    second = json.loads(run("point", "submit", new["id"], *s, "--json").stdout)
    assert second["card"] == "AD0000002"
    center = json.loads(run("center", "status", "--dir", str(folder), "--json").stdout)
    assert center["cards"]["replaced"] == 1 and center["cards"]["allocated"] == 1
    late = json.loads(run("point", "overdue", *s, "--today", "2030-01-01", "--json").stdout)
    assert [a["id"] for a in late["overdue"]] == [new["id"]]
    assert json.loads(run("point", "overdue", *s, "--today", new["due_date"], "--json")
                      .stdout)["overdue"] == []  # fmt: skip


def test_refuse_writes_the_notice(tmp_path: Path) -> None:
    folder = station(tmp_path)
    out = tmp_path / "notice.pdf"
    result = run("point", "refuse", str(form_file(tmp_path)), "--station", str(folder),
                 "--operator", "aziza", "--reason", "fingerprints-refused", "--out", str(out),
                 "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    import hashlib

    assert hashlib.sha256(out.read_bytes()).hexdigest() == shown["notice_sha256"]
    assert shown["reason"] == "fingerprints-refused" and shown["application"] is None
    neither = run("point", "refuse", "--station", str(folder), "--operator", "aziza",
                  "--reason", "fingerprints-refused")  # fmt: skip
    assert neither.exit_code == 2


def test_center_on_a_database_url(new_database_url: object, tmp_path: Path) -> None:
    """`--database URL` in place of a folder, on SQLite and PostgreSQL; a point registers."""
    url = new_database_url("center")  # type: ignore[operator]
    sam = "SAM-01,public-service-centre,101,Samarqand davlat xizmatlari markazi"
    result = run("center", "init", "--database", url, "--point", sam, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["points"] == ["SAM-01"]
    status = run("center", "status", "--database", url, "--json")
    assert status.exit_code == 0, status.output
    shown = json.loads(status.stdout)
    assert (shown["points"], shown["persons"], shown["pending_revocations"]) == (1, 0, 0)
    again = run("center", "init", "--database", url, "--point",
                "SAM-01,public-service-centre,101,Samarqand", "--json")  # fmt: skip
    assert again.exit_code == 1 and json.loads(again.stdout)["error"].startswith("code: ")


def test_point_init_of_a_point_the_center_registered(tmp_path: Path) -> None:
    folder = tmp_path / "station"
    spec = "TAS-01,internal-affairs,262,Toshkent"
    assert run("center", "init", "--dir", str(folder), "--point", spec).exit_code == 0
    init = ["point", "init", "--station", str(folder), "--code", "TAS-01", "--kind",
            "internal-affairs", "--place-code", "262", "--operator", "aziza", "--json"]
    other = run(*init, "--name", "Toshkent shahri")  # not what the Center has
    assert other.exit_code == 1 and json.loads(other.stdout)["error"].startswith("code: ")
    assert not (folder / "point.json").exists() and not (folder / "point.db").exists()
    result = run(*init, "--name", "Toshkent")  # the same point: no conflict
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["code"] == "TAS-01"
    again = run(*init, "--name", "Toshkent")
    assert again.exit_code == 2 and "point.json exists" in again.stderr


def test_an_unreachable_center_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    folder = station(tmp_path)
    s = ["--station", str(folder)]
    applied = run("point", "apply", str(form_file(tmp_path)), *s, "--operator", "aziza",
                  "--json")  # fmt: skip
    app_id = json.loads(applied.stdout)["id"]
    result = run("point", "submit", app_id, *s, "--center", "http://127.0.0.1:9", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"].startswith("the Center is not reachable")
    assert applications(folder) == [(app_id, "accepted")]
