"""The ``idkarta`` command line: a click group; each command group in its own module.

The commands are imported when used (:class:`~station.cli.common.LazyCommands`): ``idkarta
verify`` loads only :mod:`station.cli.verify`, ``idkarta --help`` none of them.
"""

from __future__ import annotations

import click

from idcard import __version__
from station.cli.common import IdkartaGroup, LazyCommands

COMMANDS: dict[str, tuple[str, str]] = {
    "audit": ("station.cli.audit_log:audit",
              "The audit log: the audit key, signed checkpoints, verification of the hash "
              "chains."),
    "card": ("station.cli.card:card",
             "Virtual chip images, personalization, serving a chip to pcscd, reading cards."),
    "card-face": ("station.cli.cardface:card_face",
                  "Render the printed face of APPLICANT's ID card: a PDF of ID-1 size and PNG "
                  "previews."),
    "center": ("station.cli.center:center",
               "The State Personalization Center: PINFLs, the card registry and its /v1 API."),
    "demo": ("station.cli.demo:demo",
             "Issue a sample ID card on a virtual chip, read it back and verify it."),
    "dump": ("station.cli.dump:dump",
             "Dump folders: one file per elementary file (EF.COM, EF.SOD, DG1 … DG16)."),
    "esign": ("station.cli.esign:esign",
              "The e-signature CA of natural persons (certificate written to the ID card)."),
    "master-list": ("station.cli.masterlist:master_list",
                    "Inspect and export CSCA master lists (ICAO 9303-12 §9)."),
    "mrz": ("station.cli.mrz:mrz",
            "Machine readable zones (ICAO Doc 9303): parse and check, or build."),
    "pki": ("station.cli.pki:pki",
            "Document PKI: CSCA, Document Signers, master lists and CRLs (ICAO 9303-12)."),
    "point": ("station.cli.point:point",
              "A data-collection point: applications, the Center's answer, handover, refusals."),
    "sign": ("station.cli.sign:sign",
             "Sign IN_PDF into OUT_PDF with a key on a PKCS#11 token or on the ID card (--card) "
             "(PIN: IDKARTA_PIN or prompt)."),
    "validate": ("station.cli.sign:validate",
                 "Report integrity, signature, trust and revocation for every signature of "
                 "IN_PDF."),
    "verify": ("station.cli.verify:verify",
               "Verify a dump folder, a folder of dump folders or a card (--reader): every "
               "check, each PASS, FAIL or NOT CHECKED with its reason."),
}  # fmt: skip
"""Each command: where it is defined, and its summary (the first paragraph of its help)."""


@click.group(cls=IdkartaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="idkarta")
def main() -> None:
    """idkarta: national electronic ID cards (ICAO Doc 9303, BSI TR-03110)."""


# one spelling of option values (key-compromise, key_compromise too): on each command as loaded
main.commands = LazyCommands(COMMANDS)

__all__ = ["COMMANDS", "main"]
