"""`idkarta card …` (not built yet)."""

from __future__ import annotations

import click


@click.group(name="card")
def card() -> None:
    """(not built yet)"""
