"""`idkarta dump …` (not built yet)."""

from __future__ import annotations

import click


@click.group(name="dump")
def dump() -> None:
    """(not built yet)"""
