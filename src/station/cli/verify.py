"""`idkarta verify …` (not built yet)."""

from __future__ import annotations

import click


@click.group(name="verify")
def verify() -> None:
    """(not built yet)"""
