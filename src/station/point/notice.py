"""The printable refusal notice (A4 PDF) a collection point hands to the applicant it refuses.

Scheme, line 216: "Agar fuqaro qo‘l barmoq izlari olinishidan bosh tortsa yoxud ko‘zoynakda yoki
bosh kiyimda suratga tushish istagidan qaytmasa, ma’lumotlarni yig‘ish punkti fuqaroga ID-karta
rasmiylashtirishni rad etadi." The notice names the reason, the clause it rests on, the person,
the point, the operator and the time, in Uzbek and English. Text is vector text in DejaVu Sans
(embedded subset, as :mod:`station.cardface` prints the card), so ``pdftotext`` reads it back.
The PDF is a function of its inputs (creation date = the refusal's time): its SHA-256, kept with
the refusal record, identifies the notice that was printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

__all__ = ["RefusalNotice", "a4_page", "render_refusal_notice"]

_MARGIN_MM = 20.0


@dataclass(frozen=True, slots=True)
class RefusalNotice:
    """What the notice says; every field is printed."""

    refusal_id: str
    at: datetime
    point: str  # "TAS-01 (Toshkent shahar IIBB migratsiya bo‘limi)"
    operator: str
    person: str  # the holder's name, Latin (and Cyrillic when known)
    birth_date: str
    ground: str
    reason_code: str  # "fingerprints-refused"
    reason_uz: str
    reason_en: str
    clause: str  # "scheme, line 216: «… qo‘l barmoq izlari olinishidan bosh tortsa …»"
    application_id: str | None = None


def a4_page(*, title: str, created: datetime, font_dir: Path | None = None) -> tuple[Any, float]:
    """A new one-page A4 PDF (fpdf2) for the point's printouts, and its text width in mm: DejaVu
    Sans regular and bold embedded, 20 mm margins, ``created`` as its creation date (so the
    same record prints the same bytes)."""
    from fpdf import FPDF

    from station.cardface.render import text_font_dir

    fonts = font_dir or text_font_dir()
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(created)
    pdf.set_title(title)
    pdf.set_creator("idkarta")
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(_MARGIN_MM, _MARGIN_MM, _MARGIN_MM)
    pdf.set_auto_page_break(auto=True, margin=_MARGIN_MM)
    pdf.add_page()
    return pdf, pdf.w - 2 * _MARGIN_MM


def render_refusal_notice(notice: RefusalNotice, *, font_dir: Path | None = None) -> bytes:
    """The notice as one A4 page of PDF (bytes): the same inputs give the same bytes."""
    pdf, width = a4_page(title=f"Refusal notice {notice.refusal_id}", created=notice.at,
                         font_dir=font_dir)  # fmt: skip

    pdf.set_font("DejaVu", "B", 14)
    title = "ID-karta rasmiylashtirishni rad etish to‘g‘risida bildirishnoma"
    pdf.multi_cell(width, 7, title, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    pdf.multi_cell(width, 6, "Notice of refusal to issue an identification ID card",
                   new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.ln(6)

    rows = [
        ("Rad etish raqami / Refusal", notice.refusal_id),
        ("Ariza / Application", notice.application_id or "— (not saved / saqlanmagan)"),
        ("Sana va vaqt / Date and time", notice.at.isoformat(timespec="minutes")),
        ("Punkt / Collection point", notice.point),
        ("Operator", notice.operator),
        ("Arizachi / Applicant", notice.person),
        ("Tug‘ilgan sana / Birth date", notice.birth_date),
        ("Asos / Ground", notice.ground),
        ("Sabab / Reason", notice.reason_code),
    ]
    label_width = 62.0
    for label, value in rows:
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(label_width, 6, label)
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(width - label_width, 6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(width, 6, "Rad etish sababi / Reason for the refusal",
                   new_x="LMARGIN", new_y="NEXT")  # fmt: skip
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(width, 5.5, notice.reason_uz, new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(width, 5.5, notice.reason_en, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(width, 6, "Asos bo‘lgan band / Clause", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(width, 5.5, notice.clause, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(12)

    pdf.set_font("DejaVu", "", 10)
    for line in ("Operator imzosi / Operator's signature: ______________________",
                 "Arizachi imzosi / Applicant's signature: ______________________"):  # fmt: skip
        pdf.multi_cell(width, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
