"""Printable documents of an application (A4 PDF, DejaVu Sans embedded, as the refusal notice):
the filled application form for the applicant's signature, and the acknowledgement with the
application number and the due date. Uzbek first, English beside it; a function of the record,
so printing twice gives the same bytes."""

from __future__ import annotations

from starlette.responses import Response

from station.point.config import PointConfig
from station.point.models import Application
from station.point.notice import a4_page
from station.web.i18n import format_date, format_datetime

__all__ = ["acknowledgement", "application_form", "response"]


def response(pdf: bytes, name: str) -> Response:
    """``pdf`` shown in the browser (inline), named ``name`` when saved."""
    return Response(pdf, media_type="application/pdf",
                    headers={"content-disposition": f'inline; filename="{name}"'})  # fmt: skip


def _names(app: Application) -> tuple[str, str]:
    p = app.form.person
    latin = " ".join(n for n in (p.surname.latin, p.given_name.latin, p.patronymic.latin) if n)
    cyr = " ".join(n for n in (p.surname.cyrillic, p.given_name.cyrillic, p.patronymic.cyrillic)
                   if n)  # fmt: skip
    return latin, cyr


def _document(title_uz: str, title_en: str, app: Application,
              rows: list[tuple[str, str]], signatures: list[str]) -> bytes:  # fmt: skip
    pdf, width = a4_page(title=f"{title_en} {app.id}", created=app.accepted_at)
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(width, 7, title_uz, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    pdf.multi_cell(width, 6, title_en, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    label_width = 62.0
    for label, value in rows:
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(label_width, 6, label)
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(width - label_width, 6, value or "—", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(12)
    for line in signatures:
        pdf.multi_cell(width, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _common(app: Application, point: PointConfig) -> list[tuple[str, str]]:
    latin, cyr = _names(app)
    return [
        ("Ariza raqami / Application", app.id),
        ("Punkt / Collection point", f"{point.code} ({point.name})"),
        ("Qabul qilindi / Accepted", format_datetime(app.accepted_at)),
        ("F.I.Sh. / Name", latin),
        ("Ф.И.О. (kirill)", cyr),
        ("Tug‘ilgan sana / Birth date", format_date(app.form.person.birth_date)),
        ("Asos / Ground", app.form.ground.value),
    ]


def application_form(app: Application, point: PointConfig) -> bytes:
    """The filled application form (scheme, line 28: "belgilangan shakldagi ariza-anketa")."""
    p = app.form.person
    rows = [
        *_common(app, point),
        ("Jinsi / Sex", p.sex),
        ("Tug‘ilgan joyi / Place of birth", p.place_of_birth),
        ("Millati / Nationality", p.nationality),
        ("Fuqaroligi / Citizenship", p.citizenship),
        ("Manzil / Address", p.address),
        ("JShShIR / PINFL", app.pinfl or p.pinfl or ""),
        ("Arizachi / Applicant", f"{app.form.applicant.role.value}: {app.form.applicant.name}, "
                                 f"{app.form.applicant.document}"),
        ("Hujjatlar / Documents", ", ".join(sorted(d.value for d in app.form.documents))),
    ]
    return _document("ID-karta olish uchun ariza-anketa", "Application form for an ID card", app,
                     rows, ["Arizachi imzosi / Applicant's signature: ______________________",
                            "Operator imzosi / Operator's signature: ______________________"])


def acknowledgement(app: Application, point: PointConfig) -> bytes:
    """The acknowledgement: the application's number and the day the card is due."""
    rows = [*_common(app, point), ("Topshirish muddati / Due date", format_date(app.due_date))]
    return _document("Ariza qabul qilinganligi to‘g‘risida ma’lumotnoma",
                     "Acknowledgement of the application", app, rows,
                     ["Operator imzosi / Operator's signature: ______________________"])
