"""Regenerate docs/cli.md from the `idkarta` click group (run from the repo root).

`tests/test_docs.py` fails when the page is out of date with the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

HEADER = """# The `idkarta` command

Generated from the commands' own help by `tools/gen_cli_doc.py`. Exit codes everywhere: 0 ok or
verified, 1 checked and failed, 2 usage or input error (one line `error: …` on stderr, never a
traceback; with `--json` also `{"error": …, "exit": N}` on stdout). A closed output pipe
(`idkarta dump show X | head`) ends quietly with 141 (128 + SIGPIPE). Option values are spelled
with hyphens (`--reason key-compromise`; the underscore spelling is accepted too). PINs and
passphrases come from a hidden prompt or `IDKARTA_PIN` / `IDKARTA_PASSPHRASE`, never from an
argument. Walk-throughs: `docs/cli-card.md` (virtual chip, personalization, reading
through PC/SC), `docs/guide/pki.md`, `docs/guide/verify.md`, `docs/guide/esign.md`.
"""


def _walk(cmd: click.Command, path: list[str], out: list[str]) -> None:
    ctx = click.Context(
        cmd,
        info_name=" ".join(path),
        terminal_width=100,
        max_content_width=100,
        help_option_names=["-h", "--help"],  # as the idkarta group's context_settings say
    )
    level = "#" * min(len(path) + 1, 4)
    out.append(f"\n{level} `{' '.join(path)}`\n")
    out.append("```text\n" + cmd.get_help(ctx).rstrip() + "\n```\n")
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.list_commands(ctx)):
            sub = cmd.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                _walk(sub, [*path, name], out)


def render() -> str:
    from station.cli import main

    out = [HEADER]
    _walk(main, ["idkarta"], out)
    return "".join(out)


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    (root / "docs" / "cli.md").write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
