"""`idkarta mrz …` (not built yet)."""

from __future__ import annotations

import click


@click.group(name="mrz")
def mrz() -> None:
    """(not built yet)"""
