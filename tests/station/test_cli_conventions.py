"""Conventions every `idkarta` command keeps: a failure is one `error:` line on stderr and, with
`--json`, `{"error": …, "exit": N}` on stdout; one spelling per option value (revocation
reasons); a closed pipe ends quietly."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from station.cli import main

ENV = {"IDKARTA_PASSPHRASE": "conventions-passphrase"}
CLI_SOURCES = Path(__file__).parents[2] / "src" / "station" / "cli"


def commands(group: click.Group = main, path: tuple[str, ...] = ()) -> Iterator[
    tuple[tuple[str, ...], click.Command]
]:  # fmt: skip
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield (*path, name), command


def _has_json(command: click.Command) -> bool:
    return any("--json" in getattr(p, "opts", ()) for p in command.params)


def _failing_args(path: tuple[str, ...], tmp: Path) -> list[str]:
    """Arguments that make the command fail in its body (not in click's parsing)."""
    empty = tmp / "empty"
    empty.mkdir()
    garbage = tmp / "garbage"
    garbage.write_bytes(b"garbage")
    (tmp / "pki.json").write_text("{}")
    g, e = str(garbage), str(empty)
    record = ["--pinfl", "1", "--surname", "A", "--given-name", "B", "--card-number", "C",
              "--card-expiry", "2030-01-01"]  # fmt: skip
    special: dict[tuple[str, ...], list[str]] = {
        ("card", "personalize"): ["--image", g, "--dump", e, "--secrets", g],
        ("card", "prepare"): [g, "--dump", str(tmp / "d"), "--secrets", str(tmp / "s.json")],
        ("card", "read"): ["--image", g, "--can", "123456", "--out", str(tmp / "r")],
        ("card", "show"): [g],
        ("card-face",): [g],
        ("center", "init"): ["--dir", e, "--point", "no-commas"],
        ("center", "revocations"): ["--dir", e],  # no center.db
        ("center", "serve"): ["--dir", e],  # no center.db
        ("center", "status"): ["--dir", e],
        ("center", "user", "add"): ["aziza", "--name", "A", "--role", "auditor", "--dir", e],
        ("center", "user", "disable"): ["aziza", "--dir", e],  # no center.db
        ("center", "user", "list"): ["--dir", e],
        ("audit", "checkpoint"): ["--dir", e],  # no audit key
        ("audit", "init"): ["--dir", e, "--key-type", "no-such-key-type"],
        ("audit", "show"): ["--dir", e, "--point"],  # no point.db
        ("audit", "verify"): ["--dir", e],  # no center.db
        ("dump", "show"): [e],
        ("esign", "init"): ["--dir", e, "--key-type", "no-such-key-type"],
        ("esign", "issue"): [g, "--dir", e, *record],
        ("master-list", "export"): [g, "--csca", g, "--out", str(tmp / "o")],
        ("master-list", "show"): [g],
        ("mrz", "parse"): ["XX"],
        ("pki", "cvc-show"): [g],
        ("point", "apply"): [g, "--station", e, "--operator", "aziza"],  # not JSON
        ("point", "capture"): ["X-1", "--station", e, "--operator", "aziza", "--face", g],
        ("point", "handover"): ["X-1", "--station", e, "--operator", "aziza", "--name", "N",
                                "--document", "AA1234567"],  # no point.json
        ("point", "init"): ["--station", e, "--code", "TAS-01", "--name", "N", "--kind",
                            "internal-affairs", "--place-code", "262", "--operator", "a"],
        ("point", "mark"): ["X-1", "verified", "--station", e, "--operator", "aziza"],
        ("point", "jobs"): ["--station", e],  # no point.json
        ("point", "overdue"): ["--station", e],
        ("point", "personalize"): ["X-1", "--station", e, "--operator", "aziza"],  # no center.json
        ("point", "purge"): ["--station", e],  # no point.json
        ("point", "refuse"): [g, "--station", e, "--operator", "aziza", "--reason",
                              "fingerprints-refused", "--out", str(tmp / "n.pdf")],
        ("point", "replace"): ["--station", e, "--operator", "aziza", "--card", "AD0000001",
                               "--ground", "lost"],
        ("point", "status"): ["X-1", "--station", e],
        ("point", "stock", "list"): ["--station", e],
        ("point", "stock", "receive"): ["--station", e, "--batch", "B1", "--virtual", "1"],
        ("point", "stock", "report"): ["--station", e],
        ("point", "submit"): ["X-1", "--station", e],
        ("pki", "init"): ["--dir", str(garbage.parent)],  # already a PKI (pki.json below)
        ("pki", "revoke"): ["--dir", e, "5"],
        ("pki", "sign-sod"): ["--dir", e, e],
        ("validate",): [g, "--trust", g],
        ("verify",): [e, "--csca", g],
    }
    if path in special:
        return special[path]
    assert path[0] == "pki", f"no failing input for {' '.join(path)}: add one"
    return ["--dir", e]  # not a PKI folder


def _json_failure(args: list[str]) -> tuple[int, dict[str, object], str]:
    result = CliRunner().invoke(main, args, env=ENV)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_every_json_command_fails_in_json(tmp_path: Path) -> None:
    walked = [(path, command) for path, command in commands() if _has_json(command)]
    assert len(walked) >= 31  # card 3, center 3, dump 1, esign 2, mrz 1, pki 11, point 9, …
    for i, (path, _) in enumerate(walked):
        tmp = tmp_path / str(i)
        tmp.mkdir()
        code, shown, err = _json_failure([*path, *_failing_args(path, tmp), "--json"])
        name = " ".join(path)
        assert code in (1, 2), name
        assert shown["exit"] == code and isinstance(shown["error"], str) and shown["error"], name
        assert err == f"error: {shown['error']}\n", name


def test_usage_errors_are_json_too(tmp_path: Path) -> None:
    for path, command in commands():
        if not _has_json(command):
            continue
        code, shown, err = _json_failure([*path, "--json", "--no-such-option"])
        assert code == 2 and shown["exit"] == 2, path
        assert str(shown["error"]).startswith("No such option") and err.startswith("error: ")


def test_every_command_reports_usage_errors_on_one_line() -> None:
    walked = list(commands())
    assert len(walked) >= 40
    for path, _ in walked:
        result = CliRunner().invoke(main, [*path, "--no-such-option"])
        assert result.exit_code == 2 and result.stdout == "", path
        assert result.stderr == (
            f"error: No such option '--no-such-option' (see 'main {' '.join(path)} --help')\n"
        ), path


@pytest.mark.parametrize("args", [["nope"], ["verify"], ["pki", "revoke", "x"],
                                  ["esign", "revoke", "1", "--reason", "lost"]])  # fmt: skip
def test_usage_errors_are_one_error_line(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1


def test_no_other_error_prefix_in_the_sources() -> None:
    for source in CLI_SOURCES.glob("*.py"):
        text = source.read_text()
        assert not re.search(r"""["'](Error|ERROR|error)\s*[^:\s'"]""", text), source.name
        assert not re.search(r"""["']Error:""", text), source.name


# -- one spelling per thing --------------------------------------------------------------------


def _reason_choices() -> dict[tuple[str, ...], list[str]]:
    found = {}
    for path, command in commands():
        for param in command.params:
            if "--reason" in getattr(param, "opts", ()):
                assert isinstance(param.type, click.Choice)
                found[path] = [str(c) for c in param.type.choices]
    return found


def test_revocation_reasons_are_spelled_alike() -> None:
    found = _reason_choices()
    # `point refuse --reason` is a refusal's reason (scheme, line 216), not a revocation's
    assert found.pop(("point", "refuse")) == ["fingerprints-refused", "glasses-or-headwear"]
    assert set(found) == {("esign", "revoke"), ("pki", "revoke"), ("pki", "point-ca", "revoke")}
    for path, choices in found.items():
        assert "key-compromise" in choices and "superseded" in choices, path
        assert not [c for c in choices if "_" in c], path


@pytest.mark.parametrize("spelling", ["key-compromise", "key_compromise"])
def test_pki_revoke_takes_both_spellings(tmp_path: Path, spelling: str) -> None:
    pki = tmp_path / "pki"
    init = CliRunner().invoke(main, ["pki", "init", "--dir", str(pki), "--key-type", "ec-p256"],
                              env=ENV)  # fmt: skip
    assert init.exit_code == 0, init.output
    issued = CliRunner().invoke(main, ["pki", "issue-ds", "--dir", str(pki), "--json"], env=ENV)
    serial = json.loads(issued.stdout)["serial"]
    result = CliRunner().invoke(
        main, ["pki", "revoke", "--dir", str(pki), str(serial), "--reason", spelling, "--json"],
        env=ENV,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reason"] == "key-compromise"
    state = (pki / "ca-state.json").read_text()
    assert "key_compromise" in state  # RFC 5280's name in the CA's own records


def test_esign_revoke_takes_both_spellings() -> None:
    (param,) = [p for p in dict(commands())[("esign", "revoke")].params if p.name == "reason"]
    assert param.type.convert("key_compromise", param, None) == "key-compromise"
    assert param.type.convert("key-compromise", param, None) == "key-compromise"
    with pytest.raises(click.BadParameter):
        param.type.convert("lost", param, None)


@pytest.mark.parametrize("args", [["--help"], ["pki", "--help"], ["mrz", "parse", "--json", "X"]])
def test_closed_pipe_ends_quietly(args: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    try:
        proc = subprocess.run([sys.executable, "-m", "station.cli", *args],
                              stdout=write_end, stderr=subprocess.PIPE, env=env, check=False,
                              timeout=60)  # fmt: skip
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (141, b"")


# -- the root group's mechanics ----------------------------------------------------------------


def test_a_command_invoked_alone_still_fails_in_json(tmp_path: Path) -> None:
    from station.cli.dump import dump

    result = CliRunner().invoke(dump, ["show", str(tmp_path), "--json"])  # not through `main`
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {
        "error": f"{tmp_path}: not a dump folder (no EF.COM, EF.SOD, DG1 … DG16 files)",
        "exit": 2,
    }
    result = CliRunner().invoke(dump, ["show", str(tmp_path)])
    assert result.exit_code == 2 and result.stdout == ""


def test_json_after_double_dash_is_an_argument(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["dump", "show", "--", "--json"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: Invalid value for 'FOLDER'")


def test_json_failure_keeps_non_ascii_text(tmp_path: Path) -> None:
    folder = tmp_path / "папка"
    folder.mkdir()
    result = CliRunner().invoke(main, ["dump", "show", str(folder), "--json"])
    assert result.exit_code == 2 and "папка" in result.stdout
    assert json.loads(result.stdout)["error"].startswith(str(folder))


def test_exit_codes_of_the_group() -> None:
    from station.cli.common import IdkartaGroup

    @click.group(cls=IdkartaGroup)
    def group() -> None:
        """A test group."""

    @group.command()
    def message() -> None:
        sys.exit("boom")

    @group.command()
    def done() -> None:
        """Returns normally."""

    @group.command()
    def refused() -> None:
        from idcard.errors import DecodeError

        raise DecodeError("bad input")

    result = CliRunner().invoke(group, ["message"])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", "boom\n")
    assert CliRunner().invoke(group, ["done"]).exit_code == 0
    result = CliRunner().invoke(group, ["refused"])
    assert (result.exit_code, result.stderr) == (2, "error: bad input\n")


def test_not_standalone_mode_is_click_s() -> None:
    with pytest.raises(SystemExit) as exc:
        main.main(args=["mrz", "parse", "--json", "XX"], prog_name="idkarta",
                  standalone_mode=False)  # fmt: skip
    assert exc.value.code == 2
    with pytest.raises(click.UsageError):
        main.main(args=["nope"], prog_name="idkarta", standalone_mode=False)


def test_no_option_value_is_spelled_with_underscores() -> None:
    for path, command in commands():
        for param in command.params:
            if isinstance(param.type, click.Choice):
                shown = [str(c) for c in param.type.choices]
                assert not [c for c in shown if "_" in c], (path, param.name, shown)
