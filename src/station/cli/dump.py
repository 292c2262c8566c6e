"""`idkarta dump …`: look at a dump folder (one file per elementary file, see idcard.lds.dump).

``idkarta dump show FOLDER [--json]`` decodes every file present and prints it. A file that does
not decode ends the command with exit 2 and one line naming the file and the offset.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from idcard.lds.dump import Dump
from station.cli.common import EXIT_OK, echo_json, fail, handle_errors

__all__ = ["dump", "render_text", "run_show"]


def _scalar(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex().upper()
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def render_text(value: Any, indent: int = 0) -> list[str]:
    """Nested JSON-like values as indented ``key: value`` lines."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:")
                lines.extend(render_text(item, indent + 1))
            elif isinstance(item, dict | list):
                lines.append(f"{pad}{key}: (none)")
            elif "\n" in _scalar(item):
                lines.append(f"{pad}{key}:")
                lines.extend(f"{pad}  {part}" for part in _scalar(item).splitlines())
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}".rstrip())
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list):
                lines.append(f"{pad}-")
                lines.extend(render_text(item, indent + 1))
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    else:
        for part in _scalar(value).splitlines() or [""]:
            lines.append(f"{pad}{part}")
    return lines


def run_show(folder: Path, as_json: bool, echo: Callable[[str], None]) -> int:
    """Decode every file of the dump in ``folder`` and print it; the exit code."""
    found = Dump.read(folder)
    decoded = found.decode_all()
    if as_json:
        echo_json({name: obj.to_json() for name, obj in decoded.items()})
        return EXIT_OK
    for name, obj in decoded.items():
        echo(f"{name} ({len(found.files[name])} bytes)")
        for line in render_text(obj.to_json(), 1):
            echo(line)
    return EXIT_OK


@click.group(name="dump")
def dump() -> None:
    """Dump folders: one file per elementary file (EF.COM, EF.SOD, DG1 … DG16)."""


@dump.command(name="show")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def show(folder: Path, as_json: bool) -> None:
    """Decode every file in FOLDER and print its fields."""
    try:
        code = run_show(folder, as_json, click.echo)
    except OSError as exc:
        fail(f"{folder}: {exc.strerror or exc}")
    raise SystemExit(code)
