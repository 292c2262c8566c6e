"""`idkarta esign …` (not built yet)."""

from __future__ import annotations

import click


@click.group(name="esign")
def esign() -> None:
    """(not built yet)"""
