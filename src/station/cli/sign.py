"""`idkarta sign` and `idkarta validate` (not built yet)."""

from __future__ import annotations

import click


@click.command(name="sign")
def sign() -> None:
    """(not built yet)"""


@click.command(name="validate")
def validate() -> None:
    """(not built yet)"""
