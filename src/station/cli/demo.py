"""`idkarta demo`: the main job on embedded defaults (grows issue by issue)."""

from __future__ import annotations

import click


@click.command(name="demo")
def demo() -> None:
    """Run the main job on the embedded defaults."""
    click.echo("idkarta demo: nothing built yet")
