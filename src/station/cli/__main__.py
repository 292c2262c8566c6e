"""``python -m station.cli`` runs the ``idkarta`` command."""

from station.cli import main

main()
