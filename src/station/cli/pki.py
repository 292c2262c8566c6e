"""`idkarta pki …` (not built yet)."""

from __future__ import annotations

import click


@click.group(name="pki")
def pki() -> None:
    """(not built yet)"""
