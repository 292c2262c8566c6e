"""`idkarta card-face`: the card body's print job (PDF and PNG previews) for one application.

The MRZ is DG1's: from the issued dump folder given with ``--dump``, or else from the chip data
built in memory from the application exactly as ``idkarta demo`` builds it
(:func:`station.card_data.build_card_data`). The renderer (:mod:`station.cardface`, fpdf2 and
pdfium) is imported only when the command runs.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from station.applicant import Applicant
from station.cli.common import echo_json, handle_errors

__all__ = ["card_face", "run_card_face"]


@click.command(name="card-face")
@click.argument("applicant", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--dump",
    "dump_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="The card's issued dump folder (DG1, DG2, DG7, DG12 are printed from it); default: the "
    "chip data built from APPLICANT in memory.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("card-face"),
    show_default=True,
    help="Folder for card-face.pdf, card-face-front.png and card-face-back.png.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the written paths as JSON.")
@handle_errors
def card_face(applicant: Path, dump_dir: Path | None, out: Path, as_json: bool) -> None:
    """Render the printed face of APPLICANT's ID card: a PDF of ID-1 size and PNG previews.

    Front: the visual inspection zone (captions in Uzbek and English, names in Latin and
    Cyrillic, portrait with ghost image, signature); back: the MRZ of the chip's DG1 in OCR-B.
    Text that overflows a field, a portrait that does not suit its zone, or a printed value that
    differs from DG1 is refused naming the field (exit 2).
    """
    paths = run_card_face(Applicant.load(applicant), out, dump_dir=dump_dir)
    if as_json:
        echo_json({"pdf": str(paths[0]), "front": str(paths[1]), "back": str(paths[2])})
        return
    click.echo(f"Print job     {paths[0]} (2 pages, 85.60 × 53.98 mm)")
    click.echo(f"Previews      {paths[1]}, {paths[2]} (300 dpi)")


def run_card_face(applicant: Applicant, out: Path, *, dump_dir: Path | None = None,
                  today: date | None = None) -> tuple[Path, Path, Path]:
    """The command's body: render and write the print job; returns the three paths."""
    from idcard.lds.dump import Dump
    from station.card_data import CardKeys, build_card_data
    from station.cardface import CardFace, render_card_face

    if dump_dir is not None:
        card_data = Dump.read(dump_dir)
    else:  # the chip data as it would be issued: DG1 from the same builder
        card_data = build_card_data(applicant, CardKeys.generate(), today=today)
    face = CardFace.from_card_data(applicant, card_data)
    return render_card_face(face).write(out)
