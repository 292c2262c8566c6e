"""Start-up of `idkarta` (issue 15 item 1): a command imports only what it uses. Neither
`import station.cli`, `idkarta --help`, `idkarta verify --help` nor `idkarta verify DUMP` loads
pyHanko, aiohttp or the chip emulator; each command is imported on first use, and the group's
help lists the commands' own summaries."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from tests.idcard.verify.pa_pki import PKI, pem, sample_files, sign_files, write_dump

import station
from station.cli import COMMANDS, main
from station.cli.common import IdkartaGroup, LazyCommands

HEAVY = ("pyhanko", "aiohttp", "pyhanko_certvalidator", "idcard.chip.emrtd")
SRC = Path(station.__file__).parents[1]  # the sources under test
ROOT = Path(__file__).parents[2]  # for tests.idcard.verify.pa_pki

# Runs `idkarta ARGS` in this process, then reports on stderr which modules of HEAVY were
# loaded and which station.cli modules, as one JSON line after a marker.
_PROBE = """
import json, sys
heavy, argv = json.loads(sys.argv[1]), sys.argv[2:]
try:
    if argv != ["-"]:
        from station.cli import main
        sys.argv = ["idkarta", *argv]
        main()
    else:
        import station.cli
except SystemExit as exc:
    code = exc.code
else:
    code = 0
loaded = sorted(m for m in sys.modules if m in heavy or m.startswith(tuple(h + "." for h in heavy)))
cli = sorted(m for m in sys.modules if m.startswith("station.cli."))
sys.stderr.write("\\nPROBE " + json.dumps({"code": code, "heavy": loaded, "cli": cli}) + "\\n")
"""


def _probe(*args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(ROOT)])}
    command = [sys.executable, "-c", _PROBE, json.dumps(HEAVY), *(args or ["-"])]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120,
                          check=False)  # fmt: skip
    line = proc.stderr.rpartition("\nPROBE ")[2]
    assert line, proc.stderr
    result: dict[str, Any] = json.loads(line)
    return result


def test_import_station_cli_loads_no_heavy_module() -> None:
    assert _probe() == {"code": 0, "heavy": [], "cli": ["station.cli.common"]}


def test_root_help_imports_no_command() -> None:
    assert _probe("--help") == {"code": 0, "heavy": [], "cli": ["station.cli.common"]}


def test_verify_help_imports_only_verify() -> None:
    assert _probe("verify", "--help") == {
        "code": 0, "heavy": [], "cli": ["station.cli.common", "station.cli.verify"],
    }  # fmt: skip


def test_verify_of_a_dump_loads_no_heavy_module(tmp_path: Path) -> None:
    pki = PKI(slot=52)
    write_dump(tmp_path / "dump", sign_files(sample_files(), pki))
    (tmp_path / "csca.pem").write_bytes(pem(pki.csca))
    result = _probe("verify", str(tmp_path / "dump"), "--csca", str(tmp_path / "csca.pem"),
                    "--at", "2025-06-01")  # fmt: skip
    assert result == {"code": 0, "heavy": [], "cli": ["station.cli.common", "station.cli.verify"]}


def test_card_loads_the_chip_emulator_only_for_an_image(tmp_path: Path) -> None:
    """`card --help` does without the emulator; `card show IMAGE` loads it (the probe sees it)."""
    result = _probe("card", "--help")
    assert result["code"] == 0 and result["heavy"] == []
    assert "station.cli.card" in result["cli"]
    result = _probe("card", "show", str(tmp_path / "missing.json"))
    assert result["code"] == 2 and result["heavy"] == ["idcard.chip.emrtd"]


def test_pdf_commands_load_pyhanko_only_when_they_run(tmp_path: Path) -> None:
    assert _probe("sign", "--help")["heavy"] == []
    assert _probe("validate", "--help")["heavy"] == []
    (tmp_path / "not.pdf").write_bytes(b"not a PDF")
    (tmp_path / "root.pem").write_bytes(pem(PKI(slot=53).csca))
    result = _probe("validate", str(tmp_path / "not.pdf"), "--trust", str(tmp_path / "root.pem"))
    assert result["code"] == 2 and {"pyhanko", "aiohttp"} <= set(result["heavy"])


def test_sign_levels_are_pades_levels() -> None:
    from pki.pdf import PAdESLevel
    from station.cli.sign import LEVELS

    assert list(LEVELS) == [level.value for level in PAdESLevel]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_summaries_are_the_commands_own(name: str) -> None:
    """The root help lists COMMANDS' summaries: each is what the command itself would show, at
    every width."""
    command = main.commands[name]
    target, summary = COMMANDS[name]
    assert command.name == name and target.endswith(f":{command.callback.__name__}"
                                                    if command.callback else "")  # fmt: skip
    assert not command.hidden and not command.deprecated and command.short_help is None
    stand_in = click.Command(name, help=summary)
    for limit in range(10, 140):
        assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit), limit


def test_commands_are_listed_in_full() -> None:
    assert list(main.commands) == sorted(COMMANDS)
    assert len(main.commands) == len(COMMANDS)
    names = main.list_commands(click.Context(main))
    assert names == sorted(COMMANDS)


def test_root_help_is_the_same_before_and_after_loading() -> None:
    """Loading the commands (the conventions' walk over main.commands) leaves the help as the
    summaries made it."""
    fresh = IdkartaGroup(name="idkarta", commands=LazyCommands(COMMANDS))
    lazy_help = CliRunner().invoke(fresh, ["--help"], terminal_width=100).stdout
    for name in COMMANDS:
        fresh.commands[name]
    assert CliRunner().invoke(fresh, ["--help"], terminal_width=100).stdout == lazy_help
    # the long summary shortened by click to the width, as the loaded command's would be
    assert re.search(r"^  sign +Sign IN_PDF into OUT_PDF with a key on a PKCS#11 token .*\.\.\.$",
                     lazy_help, re.M)  # fmt: skip


def test_lazy_commands_mapping() -> None:
    prepared: list[str] = []
    commands = LazyCommands({"verify": ("station.cli.verify:verify", "x")},
                            prepare=lambda c: prepared.append(str(c.name)))  # fmt: skip
    assert "verify" in commands and "other" not in commands and prepared == []
    assert commands.summary("verify").help == "x"
    first = commands["verify"]
    assert commands["verify"] is first and prepared == ["verify"]  # loaded and prepared once
    assert commands.summary("verify") is first
    with pytest.raises(KeyError):
        commands["other"]
    extra = click.Command("extra")
    commands["extra"] = extra
    assert list(commands) == ["extra", "verify"] and commands["extra"] is extra
    del commands["verify"]
    assert list(commands) == ["extra"]
    with pytest.raises(KeyError):
        del commands["verify"]
    not_a_command = LazyCommands({"bad": ("station.cli.verify:run_verify", "x")})
    with pytest.raises(TypeError, match="not a click command"):
        not_a_command["bad"]


def test_choices_get_both_spellings_when_loaded() -> None:
    """spell_choices runs on a command as it is loaded: pki revoke takes key_compromise too."""
    result = CliRunner().invoke(main, ["pki", "revoke", "--help"], terminal_width=100)
    assert "key-compromise" in result.stdout and "key_compromise" not in result.stdout
    result = CliRunner().invoke(main, ["pki", "revoke", "--dir", "/nonexistent-idkarta", "5",
                                       "--reason", "key_compromise"])  # fmt: skip
    assert "Invalid value for '--reason'" not in result.stderr


def test_chip_package_loads_the_emulator_on_first_use() -> None:
    """idcard.chip's names come on first use: the personalization command set (what
    `idcard.reader.personalize` and `idkarta card prepare` need) does without the emulator."""
    code = ("import sys, idcard.chip.perso, idcard.reader.personalize; "
            "print(sorted(m for m in sys.modules if m.startswith('idcard.chip.')))")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120, check=True).stdout  # fmt: skip
    assert "idcard.chip.emrtd" not in out and "idcard.chip.perso" in out

    import idcard.chip
    from idcard.chip import emrtd, perso, state, transport

    assert idcard.chip.VirtualChip is emrtd.VirtualChip and idcard.chip.ATR is emrtd.ATR
    assert idcard.chip.ChipSecrets is perso.ChipSecrets and idcard.chip.MRZKey is perso.MRZKey
    assert idcard.chip.ChipState is state.ChipState
    assert idcard.chip.ChipTransport is transport.ChipTransport
    assert set(idcard.chip.__all__) <= set(dir(idcard.chip))
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        idcard.chip.Nothing  # noqa: B018


@pytest.mark.parametrize("module", ["pki", "esign", "sign"])
def test_command_modules_imported_alone_spell_their_choices(module: str) -> None:
    """As when `import station.cli` ran spell_choices over every command: a command module
    imported on its own (not through `idkarta`) has its choices in both spellings."""
    code = (f"import click\nfrom station.cli import {module} as m\n"
            "from station.cli.common import HyphenChoice\n"
            "def walk(c):\n"
            "    if isinstance(c, click.Group):\n"
            "        for s in c.commands.values():\n"
            "            yield from walk(s)\n"
            "    else:\n"
            "        yield from (p.type for p in c.params if isinstance(p.type, click.Choice))\n"
            "kinds = [k for c in vars(m).values() if isinstance(c, click.Command)\n"
            "         for k in walk(c)\n"
            "         if any('_' in str(v) or '-' in str(v) for v in k.choices)]\n"
            "print(len(kinds), all(isinstance(k, HyphenChoice) for k in kinds))\n")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120, check=True).stdout  # fmt: skip
    found, spelled = out.split()
    assert int(found) > 0 and spelled == "True", out


def test_names_registered_after_first_use_construct_by_name() -> None:
    """With pyHanko imported only when a command uses it, a process may build asn1crypto's
    name → OID maps (signing an EF.SOD) before asn1crypto.tsp, asn1crypto.pdf or pyHanko add
    names: those names still construct (idcard.asn1.registration.sync_reverse_maps)."""
    code = "\n".join([
        "from asn1crypto import cms, x509",
        "cms.CMSAttributeType('content_type'); cms.ContentType('signed_data')",
        "x509.ExtensionId('key_usage'); x509.KeyPurposeId('server_auth')",
        "import idcard.asn1, pki.sod, pki.tsa, pki.pdf",  # the order of a station process
        "print(cms.ContentType('tst_info').dotted,"
        " cms.CMSAttributeType('signing_certificate_v2').dotted,"
        " cms.CMSAttributeType('signature_policy_identifier').dotted,"
        " x509.KeyPurposeId('pdf_signing').dotted)",
    ])  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120, check=False)  # fmt: skip
    assert proc.stdout.split() == ["1.2.840.113549.1.9.16.1.4", "1.2.840.113549.1.9.16.2.47",
                                   "1.2.840.113549.1.9.16.2.15", "1.2.840.113583.1.1.5"], \
        proc.stderr  # fmt: skip
