"""The card body's print job: the visual inspection zone and MRZ of a TD1 ID card.

``CardFace.from_card_data(applicant, card_data)`` takes the MRZ, portrait and signature from the
chip's own files; ``render_card_face(face)`` gives the PDF and PNG previews (:class:`PrintJob`).
"""

from station.cardface.record import CardFace, CardFaceError
from station.cardface.render import (
    CARD_HEIGHT_MM,
    CARD_WIDTH_MM,
    PREVIEW_DPI,
    PrintJob,
    render_card_face,
    text_font_dir,
)

__all__ = [
    "CARD_HEIGHT_MM",
    "CARD_WIDTH_MM",
    "PREVIEW_DPI",
    "CardFace",
    "CardFaceError",
    "PrintJob",
    "render_card_face",
    "text_font_dir",
]
