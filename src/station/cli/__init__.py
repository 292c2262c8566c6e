"""The ``idkarta`` command line: a click group; each command group in its own module."""

from __future__ import annotations

import click

from idcard import __version__
from station.cli.card import card
from station.cli.cardface import card_face
from station.cli.common import IdkartaGroup, spell_choices
from station.cli.demo import demo
from station.cli.dump import dump
from station.cli.esign import esign
from station.cli.mrz import mrz
from station.cli.pki import pki
from station.cli.sign import sign, validate
from station.cli.verify import verify


@click.group(cls=IdkartaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="idkarta")
def main() -> None:
    """idkarta: national electronic ID cards (ICAO Doc 9303, BSI TR-03110)."""


for _command in (card, card_face, demo, dump, esign, mrz, pki, sign, validate, verify):
    main.add_command(_command)
spell_choices(main)  # one spelling of option values: key-compromise (key_compromise too)

__all__ = ["main"]
