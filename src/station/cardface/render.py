"""The card body's print job: a two-page PDF of ID-1 size and 300 dpi PNG previews.

Layout of a TD1 card (ICAO Doc 9303-5 §3, ID-1 85.60 × 53.98 mm): front, the visual inspection
zone — zone I (issuing State, document name), zones II and III (names in Latin and Cyrillic,
personal and document data, captions in Uzbek and English), zone IV (the holder's signature,
DG7), zone V (the portrait, DG2, with a ghost image); back, zone VI (place of birth, authority)
and zone VII, the three-line MRZ in OCR-B size 1 at a fixed 2.54 mm pitch (Doc 9303-3 §4.4),
placed as Doc 9303-5 §4.2.1.3 and Figure 6 place it: the first character's left-hand edge
5.0 mm from the left edge, the middle line's reference centre line 11.5 mm above the bottom edge
and the other two 4.23 mm above and below it, each line centred on its reference centre line;
zone VII, the bottom 23.3 mm (Figure 6's machine reading zone), is kept free of any background.

The PDF has vector text and embedded (subset) fonts: OCR-B shipped with the package
(``fonts/README.md``), DejaVu Sans from the system. The PNGs are rendered from the PDF itself
(pdfium, through pypdfium2), so the preview is exactly the print job. Text too wide for its
field at the smallest allowed size, and a portrait of the wrong shape or too few pixels, raise
:class:`~station.cardface.record.CardFaceError` naming the field: nothing partial is produced.
"""

from __future__ import annotations

import functools
import io
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path

from fpdf import FPDF
from PIL import Image, ImageOps, UnidentifiedImageError

from pki.filestore import write_atomic
from station.cardface.record import CardFace, CardFaceError

__all__ = [
    "CARD_HEIGHT_MM",
    "CARD_WIDTH_MM",
    "MRZ_FIRST_CHARACTER_MM",
    "MRZ_LINE_PITCH_MM",
    "MRZ_MIDDLE_CENTRE_MM",
    "MRZ_PITCH_MM",
    "MRZ_ZONE_MM",
    "PREVIEW_DPI",
    "PrintJob",
    "render_card_face",
    "text_font_dir",
]

CARD_WIDTH_MM = 85.60
CARD_HEIGHT_MM = 53.98
"""ID-1 (ISO/IEC 7810), the TD1 size of Doc 9303-5 §2.1."""

MRZ_PITCH_MM = 2.54
"""Doc 9303-3 §4.4: OCR-B size 1 at a fixed 2.54 mm, ten characters per 25.4 mm."""
MRZ_LINE_PITCH_MM = 4.23
"""Doc 9303-5 Figure 6: distance of the MRZ lines' reference centre lines (6 lines per 25.4 mm)."""
MRZ_MIDDLE_CENTRE_MM = 11.5
"""Doc 9303-5 Figure 6: bottom edge to the middle line's reference centre line (± 1.0 mm)."""
MRZ_FIRST_CHARACTER_MM = 5.0
"""Doc 9303-5 §4.2.1.3: left edge to the left-hand edge of the first character (± 1.0 mm)."""
MRZ_ZONE_MM = 23.3
"""Doc 9303-5 Figure 6: height of the machine reading zone (zone VII) from the bottom edge."""

PREVIEW_DPI = 300

TEXT_FONT_DIRS: tuple[Path, ...] = (Path("/usr/share/fonts/truetype/dejavu"),)
_TEXT_FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

# Zones of the front (mm from the top-left corner).
_PORTRAIT = (3.0, 10.5, 21.0, 28.0)  # zone V
_SIGNATURE = (3.0, 44.0, 21.0, 8.0)  # zone IV
_GHOST = (73.6, 39.5, 9.0, 12.0)  # ghost image of the portrait
_FIELDS_X, _FIELDS_RIGHT = 27.0, 83.0
_CAN_X = 57.0  # 57.0-72.2 mm, between the expiry date's column and the ghost image
_VALUE_PT, _MIN_VALUE_PT, _CAPTION_PT, _MIN_CAPTION_PT = 6.5, 4.5, 4.2, 3.2
_PORTRAIT_MIN_DPI = 200  # fewer pixels than this over the zone print visibly blurred
_PORTRAIT_RATIO_TOLERANCE = 0.08

_PT_MM = 25.4 / 72


@dataclass(frozen=True, slots=True)
class PrintJob:
    """The print job of one card: the PDF (front, back) and the PNG preview of each side."""

    pdf: bytes
    front_png: bytes
    back_png: bytes

    def write(self, folder: Path, stem: str = "card-face") -> tuple[Path, Path, Path]:
        """Write ``STEM.pdf``, ``STEM-front.png`` and ``STEM-back.png`` into ``folder``
        (each atomically); returns the three paths."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = (folder / f"{stem}.pdf", folder / f"{stem}-front.png",
                 folder / f"{stem}-back.png")  # fmt: skip
        for path, data in zip(paths, (self.pdf, self.front_png, self.back_png), strict=True):
            write_atomic(path, data, 0o644)
        return paths


def text_font_dir(candidates: Sequence[Path] | None = None) -> Path:
    """The first folder (of ``TEXT_FONT_DIRS`` by default) holding DejaVu Sans regular and
    bold, or :class:`CardFaceError`."""
    candidates = TEXT_FONT_DIRS if candidates is None else candidates
    for folder in candidates:
        if all((folder / name).is_file() for name in _TEXT_FONTS.values()):
            return folder
    where = ", ".join(str(c) for c in candidates)
    raise CardFaceError(
        "fonts", f"DejaVu Sans not found in {where} (Debian: apt-get install fonts-dejavu-core)"
    )


def render_card_face(face: CardFace, *, font_dir: Path | None = None) -> PrintJob:
    """Lay out ``face`` and render it: PDF pages of exactly ID-1 size, PNGs at 300 dpi."""
    pdf = _Card(font_dir or text_font_dir())
    if face.issue_date:
        pdf.set_creation_date(datetime.combine(face.issue_date, datetime.min.time()))
    pdf.set_title(f"ID card {face.document_number}: print job")
    pdf.set_creator("idkarta")
    pdf.front(face)
    pdf.back(face)
    data = bytes(pdf.output())
    front, back = render_png(data)
    return PrintJob(data, front, back)


def render_png(pdf: bytes, dpi: int = PREVIEW_DPI) -> tuple[bytes, bytes]:
    """Each page of ``pdf`` as a PNG at ``dpi`` (rendered by pdfium), with its dpi recorded."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        pages = []
        for page in document:
            image = page.render(scale=dpi / 72).to_pil().convert("RGB")
            out = io.BytesIO()
            image.save(out, "PNG", dpi=(dpi, dpi))
            pages.append(out.getvalue())
    finally:
        document.close()
    front, back = pages
    return front, back


class _Card(FPDF):
    """fpdf2 document of ID-1 pages, with the helpers of the card's zones."""

    def __init__(self, font_dir: Path) -> None:
        super().__init__(unit="mm", format=(CARD_WIDTH_MM, CARD_HEIGHT_MM))
        self.set_auto_page_break(False)
        self.set_margin(0)
        for style, name in _TEXT_FONTS.items():
            self.add_font("DejaVu", style, str(font_dir / name))
        ocrb = resources.files("station.cardface") / "fonts" / "OCRB.ttf"
        with resources.as_file(ocrb) as path:
            self.add_font("OCRB", "", str(path))

    # -- front ----------------------------------------------------------------------------

    def front(self, face: CardFace) -> None:
        self.add_page()
        self._background(CARD_HEIGHT_MM)
        # Zone I: issuing State and document name.
        self.set_fill_color(206, 226, 240)
        self.rect(0, 0, CARD_WIDTH_MM, 9.0, style="F")
        self.set_text_color(10, 40, 90)
        self._fit("header", "OʻZBEKISTON RESPUBLIKASI · REPUBLIC OF UZBEKISTAN", 3.0, 3.9,
                  70.0, 6.0, "B")  # fmt: skip
        self._fit("header", "SHAXS GUVOHNOMASI · IDENTITY CARD", 3.0, 7.4, 70.0, 5.0, "")
        self._fit("issuing_state", face.mrz.issuing_state, 74.0, 6.4, 9.0, 9.0, "B")
        # Zone V: portrait, and its ghost image; zone IV: signature.
        portrait = _portrait(face.portrait)
        self._image(portrait, _PORTRAIT)
        self._image(_ghost(portrait), _GHOST)
        self._caption("Imzo / Signature", _SIGNATURE[0], _SIGNATURE[1] - 0.6)
        if face.signature is not None:
            self._image(_open("signature", face.signature), _SIGNATURE)
        # Zones II and III.
        x, width = _FIELDS_X, _FIELDS_RIGHT - _FIELDS_X
        y = self._field("surname", "Familiyasi / Surname",
                        [face.surname.upper(), face.surname_cyrillic.upper()], x, 10.5, width)
        y = self._field("given_names", "Ismi / Given names",
                        [face.given_names.upper(), face.given_names_cyrillic.upper()], x, y, width)
        if face.patronymic:
            y = self._field("patronymic", "Otasining ismi / Patronymic",
                            [face.patronymic.upper()], x, y, width)
        row = y
        self._field("birth_date", "Tugʻilgan sanasi / Date of birth", [_day(face.birth_date)],
                    x, row, 22.0)
        self._field("sex", "Jinsi / Sex", [face.sex], x + 23.0, row, 9.0)
        y = self._field("nationality", "Fuqaroligi / Nationality", [face.nationality],
                        x + 33.0, row, 23.0)
        self._field("document_number", "Hujjat raqami / Document No.", [face.document_number],
                    x, y, 22.0)
        y = self._field("pinfl", "JShShIR / PINFL", [face.pinfl], x + 23.0, y, 23.0)
        self._field("issue_date", "Berilgan sanasi / Date of issue", [_day(face.issue_date)],
                    x, y, 22.0)
        self._field("expiry_date", "Amal qilish muddati / Date of expiry",
                    [_day(face.expiry_date)], x + 23.0, y, 23.0)  # fmt: skip
        if face.can:
            self._can(face.can)

    # -- back -----------------------------------------------------------------------------

    def back(self, face: CardFace) -> None:
        self.add_page()
        self._background(CARD_HEIGHT_MM - MRZ_ZONE_MM)
        x, width = 4.0, CARD_WIDTH_MM - 8.0
        y = self._field("place_of_birth", "Tugʻilgan joyi / Place of birth",
                        [face.place_of_birth.upper()], x, 4.0, width)
        self._field("issuing_authority", "Berilgan joyi / Authority",
                    [face.issuing_authority.upper()], x, y, width)  # fmt: skip
        # Zone VII: the MRZ exactly as DG1 holds it, free of background.
        self.set_fill_color(255, 255, 255)
        self.rect(0, CARD_HEIGHT_MM - MRZ_ZONE_MM, CARD_WIDTH_MM, MRZ_ZONE_MM, style="F")
        self.set_text_color(0, 0, 0)
        ink = _ocrb_ink()
        em = self._mrz_font()  # the font's advance → 2.54 mm
        # The widest characters (0, B, M, W, …) start 5.0 mm from the edge, the narrowest (I,
        # F) a third of a millimetre further right; all inside 5.0 ± 1.0 mm.
        left = MRZ_FIRST_CHARACTER_MM - ink.left * em
        # Each line's characters centred on its reference centre line: from the lowest
        # character bottom to the highest digit top, 2.77 mm of the printing zone's 2.95 mm.
        half = (ink.bottom + ink.top) / 2 * em
        for offset, line in zip((1, 0, -1), face.mrz_lines, strict=True):
            centre = MRZ_MIDDLE_CENTRE_MM + offset * MRZ_LINE_PITCH_MM
            self.text(left, CARD_HEIGHT_MM - centre + half, line)

    def _can(self, can: str) -> None:
        """The CAN (Doc 9303-5 §3.2.3): OCR-B size 1 on white, like the MRZ, on the lower MRZ
        line's reference centre line; right of zone V, left of the ghost image."""
        if len(can) != 6 or not can.isdigit():
            raise CardFaceError("can", f"{len(can)} characters, not the CAN's 6 digits")
        em = self._mrz_font()
        ink = _ocrb_ink()
        centre = CARD_HEIGHT_MM - (MRZ_MIDDLE_CENTRE_MM - MRZ_LINE_PITCH_MM)
        x, width = _CAN_X, MRZ_PITCH_MM * len(can)
        self.set_fill_color(255, 255, 255)
        self.rect(x - 0.5, centre - 1.9, width + 1.0, 3.8, style="F")
        self.set_text_color(0, 0, 0)
        self.text(x, centre + (ink.bottom + ink.top) / 2 * em, can)
        self._caption("CAN", x - 6.5, centre + 0.6, 6.0)

    def _mrz_font(self) -> float:
        """Select OCR-B at the size whose advance is the MRZ pitch; returns that em in mm."""
        em = MRZ_PITCH_MM / _ocrb_ink().advance
        self.set_font("OCRB", "", em / _PT_MM)
        return em

    # -- helpers --------------------------------------------------------------------------

    def _background(self, height: float) -> None:
        self.set_fill_color(240, 246, 242)
        self.rect(0, 0, CARD_WIDTH_MM, height, style="F")

    def _caption(self, text: str, x: float, baseline: float, width: float = 40.0) -> None:
        self.set_text_color(90, 100, 110)
        self._fit("caption", text, x, baseline, width, _CAPTION_PT, "", _MIN_CAPTION_PT)

    def _fit(self, name: str, text: str, x: float, baseline: float, width: float, size: float,
             style: str, minimum: float | None = None) -> None:
        """Draw ``text`` at the largest size from ``size`` down to ``minimum`` (0.25 pt steps)
        that fits ``width``; refuse it naming ``name`` when even the smallest does not."""
        minimum = size if minimum is None else minimum
        current = size
        while True:
            self.set_font("DejaVu", style, current)
            if self.get_string_width(text) <= width:
                self.text(x, baseline, text)
                return
            if current - 0.25 < minimum - 1e-9:
                raise CardFaceError(
                    name, f"{len(text)} characters do not fit the field's {width:.1f} mm "
                    f"at {minimum:g} pt")
            current -= 0.25

    def _field(self, name: str, caption: str, values: list[str], x: float, y: float,
               width: float) -> float:
        """Caption and value line(s) from ``y``; returns the y below the field."""
        self._caption(caption, x, y + 1.3, width)
        baseline = y + 1.3
        self.set_text_color(0, 0, 0)
        for value in (v for v in values if v):
            baseline += _VALUE_PT * _PT_MM * 1.08
            self._fit(name, value, x, baseline, width, _VALUE_PT, "B", _MIN_VALUE_PT)
        return baseline + 1.1

    def _image(self, image: Image.Image, box: tuple[float, float, float, float]) -> None:
        """``image`` fitted (aspect kept) and centred in ``box``."""
        x, y, w, h = box
        scale = min(w / image.width, h / image.height)
        iw, ih = image.width * scale, image.height * scale
        self.image(image, x + (w - iw) / 2, y + (h - ih) / 2, iw, ih)


@dataclass(frozen=True, slots=True)
class _Ink:
    """OCR-B's metrics over the MRZ characters, in em: the (common) advance width, the least
    left side bearing, and the lowest and highest outline points about the baseline."""

    advance: float
    left: float
    bottom: float
    top: float


@functools.cache
def _ocrb_ink() -> _Ink:
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # (fpdf2's dependency)

    with resources.as_file(resources.files("station.cardface") / "fonts" / "OCRB.ttf") as path:
        font = TTFont(path)
    em = font["head"].unitsPerEm
    cmap, glyf, hmtx = font.getBestCmap(), font["glyf"], font["hmtx"]
    names = [cmap[ord(c)] for c in string.ascii_uppercase + string.digits + "<"]
    (advance,) = {hmtx[name][0] for name in names}  # fixed pitch: one advance for all
    boxes = [glyf[name] for name in names]
    return _Ink(advance / em, min(b.xMin for b in boxes) / em, min(b.yMin for b in boxes) / em,
                max(b.yMax for b in boxes) / em)  # fmt: skip


def _open(name: str, data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise CardFaceError(name, f"not an image Pillow can read ({type(exc).__name__})") from None
    return image.convert("RGB")


def _portrait(data: bytes) -> Image.Image:
    """The portrait, refused when its shape or pixel count does not suit zone V."""
    image = _open("portrait", data)
    _, _, w, h = _PORTRAIT
    ratio, zone = image.width / image.height, w / h
    if abs(ratio / zone - 1) > _PORTRAIT_RATIO_TOLERANCE:
        raise CardFaceError(
            "portrait", f"{image.width}×{image.height} px is not the zone's {w:g}:{h:g} mm shape")
    need = round(h / 25.4 * _PORTRAIT_MIN_DPI)
    if image.height < need:
        raise CardFaceError(
            "portrait", f"{image.height} px high, under {need} px ({_PORTRAIT_MIN_DPI} dpi over "
            f"the zone's {h:g} mm)")
    return image


def _ghost(portrait: Image.Image) -> Image.Image:
    """The ghost image: the portrait in grey, faded towards white (Doc 9303-2 §5.1)."""
    grey = ImageOps.grayscale(portrait).convert("RGB")
    return Image.blend(grey, Image.new("RGB", grey.size, (255, 255, 255)), 0.6)


def _day(day: date) -> str:
    """Dates as printed on Uzbek documents: DD.MM.YYYY."""
    return day.strftime("%d.%m.%Y")
